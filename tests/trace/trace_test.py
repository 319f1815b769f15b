#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The in-guest trace pipeline end to end (runtime -> trace syscall -> VMM model).

usage: trace_test.py CASE DMTVM IMAGE
CASE:
  pages-explicit|pages-munmap|pages-exit|pages-mprotect|pages-mremap
      tests/trace/tp_pages.c touches N distinct 4 KiB pages once, in order,
      and hands one 8-byte load per page to the model (by the flush call, or
      by the kernel's flush of the registered buffer before munmap, at exit,
      before mprotect, before mremap moves the pages).
      Hand arithmetic (4 KiB guest pages: dmtvm.thp=off; 4 KiB host pages,
      the default; page-walk caches off: pwc=0, so every walk reference
      counts in `refs`; the TLBs are cold: the model never saw this address
      space before): every access misses both TLB levels, so accesses =
      tlb_misses = walks = N, tlb_l1_hits = tlb_l2_hits = faults = 0, and
      refs = N * refs-per-walk with
        x86-native 4   (PML4E, PDPTE, PDE, PTE)
        x86-2d     24  (each of the 4 guest entries' gPAs and the data gPA
                        take a 4-reference EPT walk: 5 * 4 + 4)
        dmt-native 1   (the PTE, straight from the TEA: dmtvm.tea_min=1M
                        gives the 1.2 MiB mapping a TEA)
        dmt-virt   3   (guest PTE from the TEA: its gPA via the host DMT
                        register (1, the EPT leaf) + the PTE (1); the data
                        gPA's EPT leaf (1))
        pvdmt      2   (the guest TEA is host-contiguous (ALLOC_TEA): the
                        PTE is read at its hPA directly (1) + the data gPA's
                        EPT leaf (1))
      With N = 300 pages. munmap/mremap: were the records walked after the
      change, every walk would fault; were they lost, accesses would be 0;
      munmap/mprotect/mremap also check the kernel rewound the fill pointer.
  pages-badreg
      bad registrations get EINVAL/EFAULT; a fill pointer outside the buffer
      makes the kernel drop the registration (console line), nothing is walked.
  repeat    two runs of gups-trace give identical counters (whole JSON), and
            so does a run with one model thread (DMTVM_MODEL_THREADS=1).
  checksum  gups and btree print the same checksum traced and untraced.
  platforms the same single-vCPU traced run on KVM and on ptrace gives
            bit-identical model counters (the guest makes the same accesses
            whatever executes it); skipped (77) where /dev/kvm is missing.
  replay    `dmtvm replay` of a run's --trace-out (THP off) reproduces its
            TLB counters (accesses, tlb_l1_hits, tlb_l2_hits, tlb_misses)
            for every scheme.
A missing /dev/kvm is a loud skip (77).
"""
import json
import os
import re
import subprocess
import sys
import tempfile
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), ".."))
import dmtvm_platform  # noqa: E402

FAILS = []
SCHEMES = ["x86-native", "x86-2d", "dmt-native", "dmt-virt", "pvdmt"]
REFS_PER_WALK = {"x86-native": 4, "x86-2d": 24, "dmt-native": 1, "dmt-virt": 3, "pvdmt": 2}
TLB_KEYS = ["accesses", "tlb_l1_hits", "tlb_l2_hits", "tlb_misses"]
N_PAGES = 300


def check(what, got, want):
    ok = got == want
    print(f"{'ok  ' if ok else 'FAIL'} {what}: {got!r}" + ("" if ok else f", expected {want!r}"))
    if not ok:
        FAILS.append(what)


def run(dmtvm, img, opts, args, status=0, tmp=None, env=None):
    """dmtvm run with a JSON report; returns (report, stdout)."""
    rep = os.path.join(tmp, "report.json")
    cmd = [dmtvm, "run", "--report=json", "--report-file=" + rep, *opts, img, "--", *args]
    r = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=120,
                       env=dict(os.environ, **(env or {})))
    print(f"$ {' '.join(cmd)}\nexit {r.returncode}\n{r.stdout}{r.stderr[-2000:]}", end="")
    check(f"{' '.join(args)}: exit", r.returncode, status)
    try:
        with open(rep) as f:
            return json.load(f), r.stdout
    except (OSError, ValueError) as e:
        check("report readable", str(e), "")
        return {}, r.stdout


def schemes(rep):
    return rep.get("counters", {}).get("schemes", {})


def case_pages(dmtvm, img, mode, tmp):
    opts = ["--mode=pvdmt", "--schemes=" + ",".join(SCHEMES), "--model-set=pwc=0"]
    rep, out = run(dmtvm, img, opts, ["dmtvm.thp=off", "dmtvm.tea_min=1M", "tp-pages", mode,
                                      str(N_PAGES)], tmp=tmp)
    check("guest says ok", f"tp-pages: {mode} {N_PAGES} ok" in out, True)
    if mode in ("munmap", "mprotect", "mremap"):
        check("fill pointer rewound by the kernel", "tp-pages: rewound\n" in out, True)
    s = schemes(rep)
    if mode == "badreg":
        check("kernel refused the fill pointer", "trace fill pointer" in out and
              "registration dropped" in out, True)
        check("nothing reached the model", {k: s.get(k, {}).get("accesses") for k in SCHEMES},
              {k: 0 for k in SCHEMES})
        return
    for k in SCHEMES:
        c = s.get(k, {})
        got = {f: c.get(f) for f in TLB_KEYS + ["walks", "faults", "refs"]}
        n = N_PAGES
        check(k, got, {"accesses": n, "tlb_l1_hits": 0, "tlb_l2_hits": 0, "tlb_misses": n,
                       "walks": n, "faults": 0, "refs": n * REFS_PER_WALK[k]})


GUPS = ["gups-trace", "-m", "16M", "-n", "64K"]


def case_repeat(dmtvm, img, tmp):
    opts = ["--mode=pvdmt", "--schemes=all"]
    a, _ = run(dmtvm, img, opts, GUPS, tmp=tmp)
    b, _ = run(dmtvm, img, opts, GUPS, tmp=tmp)
    ca, cb = a.get("counters"), b.get("counters")
    check("counters present", bool(ca and schemes(a)), True)
    # Nested schemes skip (no EPT12 here): every scheme saw the same records.
    seen = {v["accesses"] + v.get("skipped", 0) for v in schemes(a).values()}
    check("every scheme saw the same records, > 0", len(seen) == 1 and min(seen) > 0, True)
    check("pvdmt simulated them", schemes(a).get("pvdmt", {}).get("accesses", 0) > 0, True)
    check("identical counters", json.dumps(ca, sort_keys=True) == json.dumps(cb, sort_keys=True),
          True)
    # The model split over two threads (the default on >= 2 CPUs) or kept whole.
    c, _ = run(dmtvm, img, opts, GUPS, tmp=tmp, env={"DMTVM_MODEL_THREADS": "1"})
    check("identical counters with one model thread",
          json.dumps(ca, sort_keys=True) == json.dumps(c.get("counters"), sort_keys=True), True)
    if ca != cb:
        for k in schemes(a):
            if schemes(a)[k] != schemes(b).get(k):
                print(f"  {k}: {schemes(a)[k]}\n  vs {schemes(b).get(k)}")


def case_platforms(dmtvm, img, tmp):
    opts = ["--mode=pvdmt", "--schemes=all"]
    k, _ = run(dmtvm, img, opts + ["--platform=kvm"], GUPS, tmp=tmp)
    p, _ = run(dmtvm, img, opts + ["--platform=ptrace"], GUPS, tmp=tmp)
    check("platforms named", (k.get("platform"), p.get("platform")), ("kvm", "ptrace"))
    check("counters present", bool(schemes(k)), True)
    check("identical counters on KVM and ptrace",
          json.dumps(k.get("counters"), sort_keys=True) ==
          json.dumps(p.get("counters"), sort_keys=True), True)


def checksum(out):
    m = re.findall(r"^checksum ([0-9a-f]+)$", out, re.M)
    return m[-1] if m else None


def case_checksum(dmtvm, img, tmp):
    for w, args in [("gups", ["-m", "16M", "-n", "64K"]), ("btree", ["-m", "4M", "-n", "20K"])]:
        _, plain = run(dmtvm, img, ["--mode=pvdmt"], [w] + args, tmp=tmp)
        rep, traced = run(dmtvm, img, ["--mode=pvdmt"], [w + "-trace"] + args, tmp=tmp)
        check(f"{w}: plain checksum printed", checksum(plain) is not None, True)
        check(f"{w}: traced checksum == plain", checksum(traced), checksum(plain))
        check(f"{w}: the traced run reached the model",
              schemes(rep).get("pvdmt", {}).get("accesses", 0) > 0, True)


def case_replay(dmtvm, img, tmp):
    trc = os.path.join(tmp, "run.trc")
    opts = ["--mode=pvdmt", "--schemes=" + ",".join(SCHEMES), "--trace-out=" + trc]
    rep, _ = run(dmtvm, img, opts, ["dmtvm.thp=off"] + GUPS, tmp=tmp)
    rrep = os.path.join(tmp, "replay.json")
    cmd = [dmtvm, "replay", "--mode=pvdmt", "--schemes=" + ",".join(SCHEMES), "--quiet",
           "--report=json", "--report-file=" + rrep, trc]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    print(f"$ {' '.join(cmd)}\nexit {r.returncode}\n{r.stdout}{r.stderr}", end="")
    check("replay exit", r.returncode, 0)
    with open(rrep) as f:
        rr = json.load(f)
    rs = rr.get("counters", rr).get("schemes", {})
    s = schemes(rep)
    check("run traced something", s.get("x86-2d", {}).get("accesses", 0) > 0, True)
    for k in SCHEMES:
        check(f"{k}: replay TLB counters == run's", {f: rs.get(k, {}).get(f) for f in TLB_KEYS},
              {f: s.get(k, {}).get(f) for f in TLB_KEYS})


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    case, dmtvm, img = sys.argv[1:]
    why = dmtvm_platform.setup("it compares KVM with ptrace" if case == "platforms" else None)
    if why:
        return dmtvm_platform.skip(why)
    with tempfile.TemporaryDirectory() as tmp:
        if case.startswith("pages-"):
            case_pages(dmtvm, img, case[len("pages-"):], tmp)
        elif case == "repeat":
            case_repeat(dmtvm, img, tmp)
        elif case == "checksum":
            case_checksum(dmtvm, img, tmp)
        elif case == "replay":
            case_replay(dmtvm, img, tmp)
        elif case == "platforms":
            case_platforms(dmtvm, img, tmp)
        else:
            print(f"unknown case {case}", file=sys.stderr)
            return 2
    print(f"{len(FAILS)} failure(s)" + (": " + ", ".join(FAILS) if FAILS else ""))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
