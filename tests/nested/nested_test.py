#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""dmtvm inside dmtvm, end to end (build/nested.img; README "Nesting").

usage: nested_test.py CASE DMTVM NESTED_IMG
L0 is the outer dmtvm (DMTVM), L1 its guest (the guest kernel running
/bin/dmtvm = dmtvm-static), L2 the guest L1 dmtvm boots from /l2.img.
CASE:
  hello      `dmtvm run nested.img` (no arguments: the image's default runs
             L2 hello through L1 dmtvm): L2's line on stdout, status 3 (L2
             /init -> L1 dmtvm -> L1 /init -> L0).
  status     L2 statuses pass through: gups (0, its checksum), a missing
             program (127, the L2 launcher's line).
  l1-errors  L1 dmtvm refuses what a nested L1 cannot do (--vcpus=2,
             --lapic, --timeout: status 2, a "dmtvm (L1)" line); more L2 RAM
             than L1 has is refused (status 2), L2 RAM that L1 cannot pin
             fails (status 1), each with a "dmtvm (L1)" line; an L2 kernel
             panic is reported by L1 dmtvm (status 125 at L0).
  l2-faults  tests/vmm's test guest as L2: triple fault, MMIO outside RAM,
             hlt without an interrupt source, a hypercall with a bad gPA:
             L1 dmtvm reports each (named "dmtvm (L1)" where vcpu.c reports
             it) and the nest exits 125; an L2 that spins is ended by the
             outer dmtvm's --timeout (124), nothing hangs.
  kvmbad     tests/nested/kvmbad.c in L1: bad regions, pins, EPT12, vCPU
             state: each refused, KVM_RUN of a vCPU with no code returns;
             nothing hangs, L0 survives (status 0, "kvmbad: ok").
  exact-refs tp-pages (tests/trace/tp_pages.c) in L2 touches N = 300 pages
             once with 4 KiB pages everywhere (L2 dmtvm.thp=off, EPT12 4 KiB
             leaves, EPT01 4 KiB host pages) and page-walk caches off
             (pwc=0): every access is a cold TLB miss and a full walk, so
             walks = accesses = N and refs = N x 3 under pvdmt-nested (the
             L2 PTE from its host-contiguous TEA, the EPT12 leaf of the data
             gPA from the EPT12 TEA, host-contiguous too, the EPT01 leaf of
             the resulting L1 gPA from the host TEA) and N x 124 under x86-3d
             (mmu-model/README.md).
  exact-refs-ept12-2m  the same with L1 dmtvm --ept12-pages=2m: pvdmt-nested
             still 3 (its EPT12 register now covers PD entries); x86-3d 99:
             each of the 5 L2 gPAs (4 L2 entries, the data) costs a 3-level
             EPT12 walk whose every entry needs a 4-reference EPT01 walk
             (3 x 5) plus the EPT01 walk of the result (4): 5 x 19 + the 4
             L2 entries themselves.
  big-ram    L2 RAM above 1 GiB (--mem=1536M, L0 --mem=2G): L1 dmtvm pins it
             in 2 pieces (1 GiB + 512 MiB, the L1 kernel pins at most 1 GiB
             per call), one memslot each, EPT12 per piece. The L2 kernel
             carves 4 KiB frames from the top of RAM, so with dmtvm.thp=off
             tp-pages' 300 pages and their tables sit above 1 GiB of L2 gPA:
             exactly 3 refs per cold walk under pvdmt-nested and 124 under
             x86-3d (which reads EPT12: a wrong piece-1 mapping gives 25,
             tried). gups-trace -m 1G (frames 0.5-1.5 GiB) under real KVM
             (the memslots) prints the checksum a plain run prints; at
             --mem=2050M (pieces 1G, 1G, 2M; L0 --mem=3G) L2's 2 MiB TEA for
             it lands across 2 GiB: L1 refuses it (a TEA must be
             host-contiguous, one line), L2 takes another run and the
             pvdmt-nested counters equal the 1536M run's.
  repeat     two nested runs of gups-trace (small) give identical L2 counters.
Benchmarks (print figures, check only that the run worked):
  bench-boot       outer start -> L2 INIT_STARTED (L0's report), and L1's boot.
  bench-exit-cost  clocks N: one TIME hypercall per call, in L1 (an exit to
                   L0) and in L2 (an exit reflected to L1 dmtvm).
  bench-gups-table the counter table of gups-trace at its default size in L2.
A missing /dev/kvm is a loud skip (77).
"""
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), ".."))
import dmtvm_platform  # noqa: E402

FAILS = []
L1 = ["dmtvm", "run", "--no-seccomp", "--mode=pvdmt"]
N_PAGES = 300


def check(what, got, want):
    ok = got == want
    print(f"{'ok  ' if ok else 'FAIL'} {what}: {got!r}" + ("" if ok else f", expected {want!r}"))
    if not ok:
        FAILS.append(what)


def run(dmtvm, img, opts, args, tmp, timeout=120, env=None):
    """Outer dmtvm run with a JSON report: (status, stdout, stderr, report)."""
    rep = os.path.join(tmp, "report.json")
    if os.path.exists(rep):
        os.unlink(rep)
    cmd = [dmtvm, "run", "--report=json", "--report-file=" + rep, *opts, img]
    if args is not None:
        cmd += ["--", *args]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                           timeout=timeout, env=dict(os.environ, **(env or {})))
    except subprocess.TimeoutExpired as e:
        print(f"$ {' '.join(cmd)}\nTIMEOUT after {timeout} s\n{e.stdout}")
        FAILS.append("timeout: " + " ".join(args or []))
        return None, "", "", {}
    print(f"$ {' '.join(cmd)}\nexit {r.returncode}\n--- stdout\n{r.stdout[-3000:]}"
          f"--- stderr\n{r.stderr[-2000:]}", end="")
    try:
        with open(rep) as f:
            report = json.load(f)
    except (OSError, ValueError):
        report = {}
    return r.returncode, r.stdout, r.stderr, report


def l2_schemes(rep):
    """The model's counters for L2's accesses in L0's report (counters.l2)."""
    return ((rep.get("counters") or {}).get("l2") or {}).get("schemes", {})


def case_hello(dmtvm, img, tmp):
    st, out, err, _ = run(dmtvm, img, [], None, tmp)
    check("exit status (L2 hello's 3)", st, 3)
    check("L2's line on stdout", "hello from dmtvm guest\n" in out, True)
    check("L1 dmtvm's report (its run of L2), level-tagged", "dmtvm (L1): boot " in out, True)


def case_status(dmtvm, img, tmp):
    st, out, _, _ = run(dmtvm, img, [], L1 + ["--mem=64M", "/l2.img", "--", "gups", "-m",
                                              "1M", "-n", "4K"], tmp)
    check("gups in L2: status", st, 0)
    check("gups in L2: checksum line", re.search(r"^checksum [0-9a-f]{16}$", out, re.M) is not None,
          True)
    st, out, _, _ = run(dmtvm, img, [], L1 + ["--mem=64M", "/l2.img", "--", "nosuch"], tmp)
    check("missing program in L2: status", st, 127)
    check("missing program in L2: launcher line",
          "init: cannot run /bin/nosuch: No such file or directory\n" in out, True)


def case_l1_errors(dmtvm, img, tmp):
    for opt, name in (("--vcpus=2", "--vcpus>1"), ("--lapic", "--lapic"),
                      ("--timeout=5", "--timeout")):
        st, out, err, _ = run(dmtvm, img, [], L1 + [opt, "/l2.img"], tmp)
        check(f"L1 dmtvm {opt}: status", st, 2)
        check(f"L1 dmtvm {opt}: message",
              f"dmtvm (L1) run: {name} is not supported in a nested guest" in out + err, True)
    st, out, err, _ = run(dmtvm, img, ["--mem=128M"], L1 + ["--mem=256M", "/l2.img"], tmp)
    check("L2 RAM larger than L1's: status", st, 2)
    check("L2 RAM larger than L1's: message",
          "dmtvm (L1) run: --mem=256M exceeds this host's RAM + swap (128 MiB)" in out + err, True)
    st, out, err, _ = run(dmtvm, img, ["--mem=128M"], L1 + ["--mem=126M", "/l2.img"], tmp)
    check("L2 RAM that L1 cannot pin: status", st, 1)
    check("L2 RAM that L1 cannot pin: message",
          "dmtvm (L1): DMTVM_KVM_PIN of L2 guest RAM (132120576 bytes): Out of memory (L1 has "
          in out + err, True)
    check("L2 RAM that L1 cannot pin: hint", "lower --mem, or give L1 more" in out + err, True)
    # L0 without host memory model (native): no TEA backing, a note, L2 still runs.
    st, out, err, _ = run(dmtvm, img, ["--mode=native"], None, tmp)
    check("L0 --mode=native: L2 hello's status", st, 3)
    check("L0 --mode=native: note on the EPT12 TEA",
          "dmtvm (L1): L0 does not back TEAs (ALLOC_TEA: Function not implemented)" in out + err,
          True)
    st, out, err, _ = run(dmtvm, img, [], L1 + ["--mem=64M", "/l2.img", "--",
                                               "dmtvm.selftest=ring0-fault", "hello"], tmp)
    check("L2 kernel panic: status", st, 125)
    check("L2 kernel panic: reported by L1 dmtvm",
          "dmtvm (L1): guest kernel panic: vector 14 (#PF)" in out + err, True)


def case_l2_faults(dmtvm, img, tmp):
    for what, line in (("fault", "dmtvm (L1): vcpu 0: guest triple fault (KVM_EXIT_SHUTDOWN)"),
                       ("mmio", "dmtvm (L1): vcpu 0: guest read of 4 bytes at gPA 0x3ffff000 "
                                "outside RAM"),
                       ("hlt", "dmtvm (L1): vcpu 0: guest halted with no interrupt source"),
                       ("badgpa", "bad argument gPA 0x12345")):
        st, out, err, _ = run(dmtvm, img, [], L1 + ["--mem=64M", f"/tg/{what}.img"], tmp)
        check(f"L2 {what}: status", st, 125)
        check(f"L2 {what}: L1 dmtvm's line", line in out + err, True)
    st, out, err, _ = run(dmtvm, img, ["--timeout=2"], L1 + ["--mem=64M", "/tg/spin.img"], tmp)
    check("L2 spinning: the outer --timeout ends the nest", st, 124)
    check("L2 spinning: outer timeout line",
          "dmtvm: guest still running after --timeout=2 s; stopped" in err, True)


def case_kvmbad(dmtvm, img, tmp):
    st, out, _, _ = run(dmtvm, img, [], ["kvmbad"], tmp)
    check("kvmbad: status", st, 0)
    check("kvmbad: every case behaved", re.search(r"^kvmbad: ok \d+ cases$", out, re.M) is not None,
          True)


def case_exact_refs(dmtvm, img, tmp, ept12_2m=False, l0_mem=None, l2_mem="64M"):
    schemes = ["pvdmt-nested", "x86-3d"]
    st, out, err, rep = run(dmtvm, img, ["--mode=pvdmt", "--schemes=" + ",".join(schemes),
                                         "--model-set=pwc=0"] +
                            ([f"--mem={l0_mem}"] if l0_mem else []),
                            L1 + [f"--mem={l2_mem}"] + (["--ept12-pages=2m"] if ept12_2m else []) +
                          ["/l2.img", "--", "dmtvm.thp=off", "dmtvm.tea_min=1M",
                           "tp-pages", "explicit", str(N_PAGES)], tmp)
    check("status", st, 0)
    check("L2 says ok", f"tp-pages: explicit {N_PAGES} ok" in out, True)
    check("L2's ALLOC_TEA forwarded by L1 (not refused)",
          "ALLOC_TEA unsupported" in out or STRADDLE.search(out + err) is not None, False)
    s = l2_schemes(rep)
    n = N_PAGES
    for k, per_walk in (("pvdmt-nested", 3), ("x86-3d", 99 if ept12_2m else 124)):
        c = s.get(k, {})
        got = {f: c.get(f) for f in ("accesses", "tlb_l1_hits", "tlb_l2_hits", "walks", "faults",
                                     "refs")}
        check(k, got, {"accesses": n, "tlb_l1_hits": 0, "tlb_l2_hits": 0, "walks": n,
                       "faults": 0, "refs": n * per_walk})


# gups-trace -m 1G -n 4K with dmtvm.thp=off: the checksum of a plain (non-nested) run
# (`dmtvm run --mem=2G build/guest.img -- dmtvm.thp=off gups-trace -m 1G -n 4K`).
BIG_GUPS_CHECKSUM = "9d8b602fd4f3a1f1"
STRADDLE = re.compile(r"^dmtvm \(L1\): L2's ALLOC_TEA of L2 gPA \[(0x[0-9a-f]+), (0x[0-9a-f]+)\) "
                      r"straddles two pinned pieces of L2 RAM \(boundary (0x[0-9a-f]+); a TEA "
                      r"must be host-contiguous\): refused \(EINVAL\), further ones silently$",
                      re.M)


def case_big_ram(dmtvm, img, tmp):
    for e in (False, True):
        print(f"--- tp-pages, L2 --mem=1536M{', EPT12 2 MiB leaves' if e else ''}")
        case_exact_refs(dmtvm, img, tmp, ept12_2m=e, l0_mem="2G", l2_mem="1536M")
    got = {}
    for l0, l2 in (("2G", "1536M"), ("3G", "2050M")):
        print(f"--- gups-trace -m 1G, L2 --mem={l2}")
        st, out, err, rep = run(dmtvm, img, [f"--mem={l0}", "--mode=pvdmt",
                                             "--schemes=pvdmt-nested"],
                                L1 + [f"--mem={l2}", "/l2.img", "--", "dmtvm.thp=off",
                                      "dmtvm.tea_min=1M", "gups-trace", "-m", "1G", "-n", "4K"],
                                tmp)
        m = re.search(r"^checksum ([0-9a-f]{16})$", out, re.M)
        check(f"L2 --mem={l2}: status", st, 0)
        check(f"L2 --mem={l2}: checksum", m and m.group(1), BIG_GUPS_CHECKSUM)
        c = l2_schemes(rep).get("pvdmt-nested", {})
        got[l2] = {f: c.get(f) for f in ("accesses", "walks", "faults", "refs")}
        t = STRADDLE.search(out + err)
        straddle = t is not None and int(t.group(1), 16) < int(t.group(3), 16) == 2 << 30 < \
            int(t.group(2), 16)
        # 2050M = pieces of 1G, 1G, 2M. The L2 kernel carves contiguous runs from the top
        # of RAM: gups' 2 MiB TEA (1 GiB of 4 KiB pages) lands at 2G+2M - (what the kernel
        # took before it, < 2 MiB) - 2M, across 2G: L1 refuses it; L2 takes another run.
        check(f"L2 --mem={l2}: L1 refused a TEA straddling two pieces", straddle, l2 == "2050M")
    check("pvdmt-nested counters, refused TEA and retried = never straddled",
          got["2050M"], got["1536M"])
    check("pvdmt-nested walked and did not fault",
          (got["1536M"]["walks"] or 0) > 1000 and got["1536M"]["faults"] == 0, True)


GUPS = ["gups-trace", "-m", "8M", "-n", "32K"]


def case_repeat(dmtvm, img, tmp):
    opts = ["--mode=pvdmt", "--schemes=all"]
    args = L1 + ["--mem=64M", "/l2.img", "--", *GUPS]
    a = run(dmtvm, img, opts, args, tmp)
    b = run(dmtvm, img, opts, args, tmp)
    check("status", (a[0], b[0]), (0, 0))
    sa, sb = l2_schemes(a[3]), l2_schemes(b[3])
    nested = {k: v for k, v in sa.items() if k in ("pvdmt-nested", "x86-3d", "x86-nested-ept02")}
    check("nested schemes walked L2 accesses",
          bool(nested) and all(v.get("accesses", 0) > 0 for v in nested.values()), True)
    check("identical counters", json.dumps(sa, sort_keys=True) == json.dumps(sb, sort_keys=True),
          True)
    # The L2 model split over two instances (the default on 2+ CPUs) counts
    # exactly what one instance does.
    c = run(dmtvm, img, opts, args, tmp, env={"DMTVM_MODEL_THREADS": "1"})
    check("one model instance: identical counters",
          json.dumps(l2_schemes(c[3]), sort_keys=True) == json.dumps(sa, sort_keys=True), True)


def bench_boot(dmtvm, img, tmp):
    st, out, err, rep = run(dmtvm, img, [], None, tmp)
    check("status", st, 3)
    l1 = rep.get("boot_us")
    l2 = (rep.get("nested") or {}).get("l2_boot_us")
    print(f"FIGURE L1 boot (outer start -> L1 /init): {l1} us")
    print(f"FIGURE L2 boot (outer start -> L2 INIT_STARTED, L0's report): {l2} us")
    m = re.search(r"dmtvm \(L1\): boot ([0-9.]+) ms", out)
    print(f"FIGURE L2 boot seen by L1 dmtvm (its start -> L2 init): {m and m.group(1)} ms")


def bench_exit_cost(dmtvm, img, tmp):
    n = "2000"
    st, out1, _, _ = run(dmtvm, img, [], ["clocks", n], tmp)
    check("clocks in L1: status", st, 0)
    st, out2, _, rep = run(dmtvm, img, [], L1 + ["--mem=64M", "/l2.img", "--", "clocks", n],
                           tmp)
    check("clocks in L2: status", st, 0)
    f1 = re.search(r"clocks: \d+ calls, (\d+) ns per call", out1)
    f2 = re.search(r"clocks: \d+ calls, (\d+) ns per call", out2)
    if f1 and f2:
        a, b = int(f1.group(1)), int(f2.group(1))
        print(f"FIGURE exit to L0 (clock_gettime in L1): {a / 1000:.1f} us per call")
        print(f"FIGURE reflected exit (clock_gettime in L2, via L1 dmtvm): {b / 1000:.1f} us per "
              f"call ({b / max(a, 1):.1f}x)")
    nest = rep.get("nested") or {}
    print(f"FIGURE L0's view: {nest.get('reflected')} reflected exits, "
          f"reflected_us {nest.get('reflected_us')} over {nest.get('reflected_timed')} timed")


def bench_gups_table(dmtvm, img, tmp):
    st, out, _, rep = run(dmtvm, img, ["--mem=1G", "--mode=pvdmt", "--schemes=all"],
                          L1 + ["--mem=512M", "/l2.img", "--", "gups-trace"], tmp, timeout=1800)
    check("status", st, 0)
    s = l2_schemes(rep)
    print(f"FIGURE nested GUPS (L2 gups-trace default size), L0's counters for L2:")
    print(f"{'scheme':18} {'accesses':>12} {'walks':>10} {'refs/walk':>9} {'cycles/walk':>11}")
    for k, c in s.items():
        print(f"{k:18} {c.get('accesses', 0):12} {c.get('walks', 0):10} "
              f"{c.get('refs_per_walk', 0):9.2f} {c.get('walk_cycles_per_walk', 0):11.1f}")


def case_trace_out(dmtvm, img, tmp):
    """L0's --trace-out keeps L2's records (ASIDs tagged as L2's): a replay of
    the file sees exactly the accesses L0's model saw in L2."""
    trc = os.path.join(tmp, "l2.trc")
    st, _, _, rep = run(dmtvm, img, ["--mode=pvdmt", "--schemes=pvdmt-nested",
                                     "--trace-out=" + trc],
                        L1 + ["--mem=64M", "/l2.img", "--", *GUPS], tmp)
    check("status", st, 0)
    want = l2_schemes(rep).get("pvdmt-nested", {}).get("accesses")
    with open(trc, "rb") as f:
        data = f.read()
    recs = struct.unpack("<%dQ" % ((len(data) - 32) // 8), data[32:])
    asids = {r & 0xffffffffffff for r in recs if (r >> 56) & 3 == 3 and (r >> 48) & 0xff == 3}
    check("ASID records tagged L2 (bit 40)", bool(asids) and all(a >> 40 == 1 for a in asids),
          True)
    r = subprocess.run([dmtvm, "replay", "--mode=native", "--report=json", trc],
                       capture_output=True, text=True)
    got = (json.loads(r.stdout or "{}").get("schemes") or {}).get("x86-native", {}).get("accesses")
    check("replay of L0's --trace-out: L2's accesses", (r.returncode, got), (0, want))


CASES = {"hello": case_hello, "trace-out": case_trace_out, "status": case_status, "l1-errors": case_l1_errors,
         "l2-faults": case_l2_faults, "kvmbad": case_kvmbad, "exact-refs": case_exact_refs,
         "exact-refs-ept12-2m": lambda d, i, t: case_exact_refs(d, i, t, ept12_2m=True),
         "big-ram": case_big_ram, "repeat": case_repeat,
         "bench-boot": bench_boot, "bench-exit-cost": bench_exit_cost,
         "bench-gups-table": bench_gups_table}


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in CASES:
        print(__doc__)
        return 2
    why = dmtvm_platform.setup()
    if why:
        return dmtvm_platform.skip(why)
    with tempfile.TemporaryDirectory() as tmp:
        CASES[sys.argv[1]](sys.argv[2], sys.argv[3], tmp)
    print("FAILED: " + ", ".join(FAILS) if FAILS else "all checks passed")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
