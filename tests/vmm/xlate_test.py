#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The host side of translation in `dmtvm run`, with the ring-0 test guest.

usage: xlate_test.py CASE DMTVM IMAGE_DIR
CASE: counters | layout | pv | eptcheck | traceout | ctl | options
Every check compares exact values; a missing /dev/kvm is a loud skip (77).
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), ".."))
import dmtvm_platform  # noqa: E402

FAILS = []
SCHEMES = "--schemes=x86-native,x86-2d,dmt-native,dmt-virt,pvdmt"


def check(what, got, want):
    ok = got == want
    g = repr(got)
    print(f"{'ok  ' if ok else 'FAIL'} {what}: {g if len(g) < 400 or not ok else g[:400] + '...'}"
          + ("" if ok else f", expected {want!r}"))
    if not ok:
        FAILS.append(what)


def run(dmtvm, img, *opts, status=0):
    """Runs a guest with --report=json to a file; returns (report, stdout)."""
    with tempfile.TemporaryDirectory() as d:
        rep = os.path.join(d, "report.json")
        cmd = [dmtvm, "run", "--report=json", "--report-file=" + rep, *opts, img]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        print(f"$ {' '.join(cmd)}\nexit {r.returncode}\n{r.stdout}{r.stderr}", end="")
        check(f"{os.path.basename(img)} {' '.join(opts)}: exit", r.returncode, status)
        with open(rep) as f:
            return json.load(f), r.stdout


def refs(rep):
    s = rep["counters"]["schemes"]
    return {k: (v["walks"], v["refs"]) for k, v in s.items()}


def case_counters(dmtvm, imgs):
    pwc0 = [SCHEMES, "--model-set=pwc=0"]
    # 8 cold TLB misses; page-walk caches off: exact references per walk.
    rep, out = run(dmtvm, imgs + "/tg-xlate.img", "--mode=pvdmt", *pwc0)
    check("no DMT register: refs", refs(rep), {"x86-native": (8, 32), "x86-2d": (8, 192),
          "dmt-native": (8, 32), "dmt-virt": (8, 72), "pvdmt": (8, 72)})
    check("no DMT register: guest output", out, "trace_flush 8\npt_update 0\n")
    rep, _ = run(dmtvm, imgs + "/tg-xlate-dmt.img", "--mode=pvdmt", *pwc0)
    check("DMT register over a TEA: refs", refs(rep), {"x86-native": (8, 32),
          "x86-2d": (8, 192), "dmt-native": (8, 8), "dmt-virt": (8, 24), "pvdmt": (8, 24)})
    check("DMT register: dmt-virt hits", rep["counters"]["schemes"]["dmt-virt"]["dmt_hits"] > 0,
          True)
    rep, out = run(dmtvm, imgs + "/tg-xlate-pv.img", "--mode=pvdmt", *pwc0)
    check("pvDMT TEA: refs", refs(rep), {"x86-native": (8, 32), "x86-2d": (8, 192),
          "dmt-native": (8, 8), "dmt-virt": (8, 24), "pvdmt": (8, 16)})
    check("pvDMT TEA: guest output", out,
          "alloc_tea 0 hpa!=0\ndmt_regs 0\ntrace_flush 8\npt_update 0\n")
    rep, _ = run(dmtvm, imgs + "/tg-xlate-pv.img", "--mode=pvdmt", "--host-pages=2m", *pwc0)
    check("2 MiB host pages: refs", refs(rep), {"x86-native": (8, 32), "x86-2d": (8, 152),
          "dmt-native": (8, 8), "dmt-virt": (8, 24), "pvdmt": (8, 16)})
    # Default config: the PDE walk cache serves walks 2..8 natively (4 + 7).
    rep, _ = run(dmtvm, imgs + "/tg-xlate.img", "--mode=native")
    check("native mode, default config: refs", refs(rep),
          {"x86-native": (8, 11), "dmt-native": (8, 11)})
    # ROI: 4 warm-up loads, ROI begin (counters zeroed), 4 new pages + 1
    # repeated, ROI end, 4 loads not simulated.
    rep, _ = run(dmtvm, imgs + "/tg-xlate-roi.img", "--mode=ept", "--schemes=x86-native,x86-2d",
                 "--model-set=pwc=0")
    s = rep["counters"]["schemes"]
    check("ROI: accesses", [s[k]["accesses"] for k in ("x86-native", "x86-2d")], [5, 5])
    check("ROI: refs", refs(rep), {"x86-native": (4, 16), "x86-2d": (4, 96)})
    check("ROI: records / simulated", (rep["tables"]["records"], rep["tables"]["simulated"]),
          (15, 9))
    check("PT_UPDATE counted", rep["tables"]["pt_updates"], 1)
    # spt: PT_UPDATE is a shadow invalidation exit.
    rep, _ = run(dmtvm, imgs + "/tg-xlate.img", "--mode=spt")
    check("spt: shadow invalidations",
          rep["counters"]["schemes"]["x86-shadow"]["shadow_invalidations"], 1)


def untimed(tables):
    """The tables without wall-clock fields."""
    t = json.loads(json.dumps(tables))
    t.pop("model_us")
    t["ept"].pop("build_us")
    return t


def case_layout(dmtvm, imgs):
    img = imgs + "/tg-xlate-pv.img"
    a, _ = run(dmtvm, img, "--mode=pvdmt", "--host-layout=fragmented:5")
    b, _ = run(dmtvm, img, "--mode=pvdmt", "--host-layout=fragmented:5")
    c, _ = run(dmtvm, img, "--mode=pvdmt", "--host-layout=fragmented:6")
    d, _ = run(dmtvm, img, "--mode=pvdmt")
    check("fragmented:5 twice: same tables", untimed(a["tables"]), untimed(b["tables"]))
    check("fragmented:5 twice: same counters", a["counters"], b["counters"])
    check("fragmented:5 vs :6 differ", a["tables"]["ept"]["first_hpa"] !=
          c["tables"]["ept"]["first_hpa"], True)
    check("contiguous: RAM at 64 GiB", (d["tables"]["ept"]["first_hpa"],
          d["tables"]["ept"]["last_hpa"]), (1 << 36, (1 << 36) + (256 << 20) - 4096))
    # 256 MiB of 4 KiB leaves: 128 leaf tables (in the host TEA) + PD + PDPT + PML4.
    check("EPT pages by level (4k)", d["tables"]["ept"]["pages_by_level"], [128, 1, 1, 1])
    check("host TEA (4k)", [(t["gpa_base"], t["gpa_limit"], t["pages"])
                            for t in d["tables"]["host_teas"]], [(0, 256 << 20, 128)])
    e, _ = run(dmtvm, img, "--mode=dmt", "--host-pages=2m")
    check("EPT pages by level (2m)", e["tables"]["ept"]["pages_by_level"], [0, 1, 1, 1])
    f, _ = run(dmtvm, img, "--mode=ept")
    check("ept mode: no host TEA", f["tables"]["host_teas"], [])


def case_pv(dmtvm, imgs):
    img = imgs + "/tg-xlate-pv.img"
    for layout, moved in (("contiguous", False), ("fragmented:3", True)):
        for pages in ("4k", "2m"):
            rep, _ = run(dmtvm, img, "--mode=pvdmt", "--host-layout=" + layout,
                         "--host-pages=" + pages, "--debug-translate-check=8")
            t = rep["tables"]["pv_teas"]
            check(f"pv TEA {layout} {pages}: one, host-contiguous",
                  [(x["gpa"], x["pages"], x["host_contiguous"]) for x in t],
                  [(0x403000, 4, True)])
            # 2 MiB host pages: a 16 KiB TEA inside one host page is contiguous as is.
            check(f"pv TEA {layout} {pages}: moved", t[0]["moved"], moved and pages == "4k")
            if layout == "contiguous":
                check("pv TEA contiguous: hpa", t[0]["hpa"], (1 << 36) + 0x403000)
            regs = rep["tables"]["address_spaces"][0]["dmt_regs"]
            check(f"pv TEA {layout} {pages}: register tea_hpa", regs[0]["tea_hpa"], t[0]["hpa"])
            tc = rep["translate_check"]
            check(f"pv {layout} {pages}: translate check",
                  (tc["kvm_checked"], tc["kvm_mismatches"], tc["ept_checked"],
                   tc["ept_mismatches"]), (8, 0, 8, 0))


def case_eptcheck(dmtvm, imgs):
    img = imgs + "/tg-eptcheck.img"
    for opts in (["--mode=ept"], ["--mode=dmt", "--host-layout=fragmented:42"],
                 ["--mode=pvdmt", "--host-layout=fragmented:9", "--host-pages=2m"],
                 ["--mode=ept", "--mem=1G", "--host-layout=fragmented:1"]):
        rep, out = run(dmtvm, img, "--debug-translate-check=64", *opts)
        check(" ".join(opts) + ": guest", out, "trace_flush 64\n")
        tc = rep["translate_check"]
        check(" ".join(opts) + ": KVM_TRANSLATE and EPT vs placement",
              (tc["kvm_checked"], tc["kvm_mismatches"], tc["kvm_skipped"], tc["ept_checked"],
               tc["ept_mismatches"]), (64, 0, 0, 64, 0))


def case_traceout(dmtvm, imgs):
    with tempfile.TemporaryDirectory() as d:
        trc = os.path.join(d, "t.trc")
        run(dmtvm, imgs + "/tg-xlate-roi.img", "--trace-out=" + trc)
        data = open(trc, "rb").read()
        # + the guest's PT_UPDATE as an invalidation pair (control 4 + 5)
        check("trace file size (header + ASID record + 15 records + invalidation pair)",
              len(data), 32 + 8 * 18)
        check("trace header", data[:16], b"DMTVMTRC\x01\x00\x00\x00\x08\x00\x00\x00")
        first = int.from_bytes(data[32:40], "little")
        check("first record: ASID control, payload 1", (first >> 56 & 3, first >> 48 & 0xff,
                                                        first & 0xffffffffffff), (3, 3, 1))
        r = subprocess.run([dmtvm, "replay", "--mode=native", "--report=json", trc],
                           capture_output=True, text=True, timeout=60)
        print(r.stdout[:300], r.stderr[:300])
        check("dmtvm replay of the trace: exit", r.returncode, 0)
        rep = json.loads(r.stdout)
        check("replay: ROI accesses", rep["schemes"]["x86-native"]["accesses"], 5)
        # Two address spaces: ASID 1, 8 records, ASID 2, 8, ASID 1, 8.
        rep, out = run(dmtvm, imgs + "/tg-xlate-two.img", "--trace-out=" + trc, "--mode=dmt",
                       "--model-set=pwc=0", "--schemes=x86-native,dmt-native,dmt-virt")
        check("two spaces: guest", out, "dmt_regs 0\ntrace_flush 8\ntrace_flush asid 2: 8\n"
              "trace_flush asid 1: 8\npt_update 0\n")
        data = open(trc, "rb").read()
        recs = [int.from_bytes(data[i:i + 8], "little") for i in range(32, len(data), 8)]
        check("two spaces: trace records", len(recs), 29)
        check("two spaces: ASID records", [(i, r & 0xffff) for i, r in enumerate(recs)
                                           if r >> 56 & 3 == 3 and r >> 48 & 0xff == 3],
              [(0, 1), (9, 2), (18, 1)])
        # The guest's PT_UPDATE of one page (address space 1, the current one).
        check("two spaces: PT_UPDATE as control records 4 + 5 (page offset, len)",
              [(i, r >> 48 & 0xff, r & 0xfff if r >> 48 & 0xff == 4 else r & 0xffffffffffff)
               for i, r in enumerate(recs) if r >> 56 & 3 == 3 and r >> 48 & 0xff in (4, 5)],
              [(27, 4, 0), (28, 5, 4096)])
        # Every switch flushes the TLBs (no PCID): 24 walks; the DMT register
        # belongs to address space 1 only (asid 2 walks fall back to radix).
        check("two spaces: walks/refs", refs(rep), {"x86-native": (24, 96),
              "dmt-native": (24, 8 + 32 + 8), "dmt-virt": (24, 24 + 72 + 24)})


def ctl(path, cmd):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(json.dumps({"execute": cmd}).encode() + b"\n")
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    return json.loads(buf)


def case_ctl(dmtvm, imgs):
    with tempfile.TemporaryDirectory() as d:
        sock = os.path.join(d, "s")
        p = subprocess.Popen([dmtvm, "run", "--mode=pvdmt", "--host-layout=fragmented:2",
                              "--api-sock=" + sock, "--model-set=pwc=0", SCHEMES, "--timeout=30",
                              imgs + "/tg-xlate-spin.img"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            for _ in range(200):
                if os.path.exists(sock):
                    try:
                        if ctl(sock, "tables")["return"]["records"] == 8:
                            break
                    except (ConnectionError, KeyError, json.JSONDecodeError):
                        pass
                time.sleep(0.05)
            c = ctl(sock, "counters")["return"]
            check("ctl counters: schema", c["schema"], "dmtvm.counters/1")
            check("ctl counters: pvdmt refs", c["schemes"]["pvdmt"]["refs"], 16)
            t = ctl(sock, "tables")["return"]
            check("ctl tables: pv TEA", [(x["pages"], x["host_contiguous"], x["moved"])
                                         for x in t["pv_teas"]], [(4, True, True)])
            check("ctl tables: DMT registers", [(a["cr3"], len(a["dmt_regs"]))
                                                for a in t["address_spaces"]], [(0x400000, 1)])
            check("ctl tables: EPT pages", t["ept"]["pages"], 131)
            check("ctl reset", ctl(sock, "reset"), {"return": {}})
            c = ctl(sock, "counters")["return"]
            check("ctl counters after reset: pvdmt refs", c["schemes"]["pvdmt"]["refs"], 0)
            ctl(sock, "quit")
            p.wait(timeout=30)
            check("quit: exit status", p.returncode, 0)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()


def case_options(dmtvm, imgs):
    img = imgs + "/tg-hello.img"
    for opt, msg in (("--host-layout=spread", "expected contiguous or fragmented[:SEED]"),
                     ("--host-layout=fragmented:x", "bad SEED"),
                     ("--host-pages=1g", "expected 4k or 2m"),
                     ("--schemes=warp", "--schemes=warp"),
                     ("--model-set=tlb_size", "expected key=value"),
                     ("--model-set=nosuchkey=1", "nosuchkey"),
                     ("--model-config=/nonexistent/cfg", "/nonexistent/cfg"),
                     ("--trace-out=/nonexistent/dir/t.trc", "--trace-out=/nonexistent/dir"),
                     ("--debug-translate-check=0", "expected 1..4096")):
        r = subprocess.run([dmtvm, "run", opt, img], capture_output=True, text=True, timeout=60)
        print(f"$ dmtvm run {opt}\nexit {r.returncode}\n{r.stderr}", end="")
        check(opt + ": exit", r.returncode, 2)
        check(opt + ": message", msg in r.stderr, True)


def main():
    case, dmtvm, imgs = sys.argv[1:4]
    why = dmtvm_platform.setup()
    if why:
        return dmtvm_platform.skip(why)
    globals()["case_" + case](dmtvm, imgs)
    print(f"{len(FAILS)} failed: {FAILS}" if FAILS else "all checks passed")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
