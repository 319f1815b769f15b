#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""programs_test.py CASE DMTVM GUEST_IMG DMTVM_CC TRACE_CHECK SRCDIR

Programs nobody here wrote, built by tools/dmtvm-cc and run traced in the
guest with `dmtvm run --add`, against the same source built natively on the
host (gcc): same output; as many traced accesses in the guest as the same
traced binary records on the host (DMTVM_TRACE_OUT); and the run's
--trace-out replayed by `dmtvm replay` gives the run's TLB and walk
counters. The sources come from Debian packages (tools/setup-deps):

  enough      zlib1g-dev: /usr/share/doc/zlib1g-dev/examples/enough.c (Mark
              Adler's count of Huffman codes; 40 symbols, root 8, max 12)
  stb-lexer   libstb-dev: /usr/include/stb/stb_c_lexer.h built with its own
              self-test main, which lexes stb_c_lexer.h (added to the guest)

and, as a benchmark (minutes: the instrumented LTO build of 250,000 lines),
  sqlite      the npm registry's sqlite3@5.1.7 package ships SQLite 3.44.2's
              amalgamation and shell (deps/sqlite-autoconf-3440200.tar.gz):
              the sqlite3 shell runs sqlite.sql on :memory: (skips, 77,
              when npm or the registry is not reachable)

Other cases: replay-unmap (a program that frees mmap'ed blocks: the run's
PT_UPDATEs travel in its trace as control records 4 + 5 and the replay gives
the run's TLB counters; malformed pairs refused), plain (dmtvm-cc --plain in the guest), cc-errors (compiler
errors pass through), cc-missing (a missing toolchain names its Debian
package), cc-roi (ROI markers; -c objects linked with -lm), add-errors
(bad --add: one line, status 2, before boot), add-syscalls (the start-up
calls real programs make; an unknown call logged once by name; an added
file shadows the image's). A missing package skips (77) with its name.
"""
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import dmtvm_platform  # noqa: E402

ENOUGH = "/usr/share/doc/zlib1g-dev/examples/enough.c"
LEXER = "/usr/include/stb/stb_c_lexer.h"
SCHEMES = ["x86-native", "x86-2d", "dmt-virt", "pvdmt"]
# The counters a replay must reproduce exactly. Not refs and cycles: the
# replay's simos builds its own page tables (tools/replay/README.md), whose
# entries sit at other addresses than the guest kernel's.
SAME_KEYS = ["accesses", "loads", "stores", "fetches", "tlb_l1_hits", "tlb_l2_hits",
             "tlb_misses", "walks"]

failures = 0


def check(what, got, want):
    global failures
    ok = got == want
    print(f"{'ok  ' if ok else 'FAIL'} {what}: {got!r}" + ("" if ok else f" (want {want!r})"))
    if not ok:
        failures += 1


def sh(cmd, env=None, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, **(env or {})), **kw)
    print(f"$ {' '.join(cmd)}\nexit {r.returncode}\n{r.stdout[-800:]}{r.stderr[-1500:]}", end="")
    return r


def need(path, pkg):
    if not os.path.exists(path):
        print(f"{path} is missing: install the Debian package {pkg} (tools/setup-deps)")
        sys.exit(77)


def trace_records(trace_check, trc):
    """(loads, stores, fetches, ROIs) of a trace file, from trace_check's summary."""
    r = sh([trace_check, trc])
    check("trace_check exit", r.returncode, 0)
    words = r.stdout.replace(",", " ").split()
    num = {w: int(words[i - 1]) for i, w in enumerate(words)
           if w in ("loads", "stores", "fetches", "ROIs") and words[i - 1].isdigit()}
    return num.get("loads"), num.get("stores"), num.get("fetches"), num.get("ROIs")


def guest_run(dmtvm, img, adds, args, tmp, traced=True):
    """Run in the guest; (stdout, stderr, report's schemes or None, trace path)."""
    trc = os.path.join(tmp, "run.trc")
    rep = os.path.join(tmp, "run.json")
    cmd = [dmtvm, "run", "--mode=pvdmt", "--thp=off", "--report=json", "--report-file=" + rep]
    if traced:
        cmd += ["--schemes=" + ",".join(SCHEMES), "--trace-out=" + trc]
    for a in adds:
        cmd += ["--add", a]
    r = sh(cmd + [img, "--"] + args)
    check("guest run exit", r.returncode, 0)
    with open(rep) as f:
        report = json.load(f)
    return r.stdout, r.stderr, report.get("counters", {}).get("schemes"), trc


def sqlite_sources(tmp):
    """SQLite's amalgamation and shell from the npm package sqlite3, or skip."""
    r = sh(["npm", "pack", "--silent", "sqlite3@5.1.7"], cwd=tmp) if shutil.which("npm") else None
    if not r or r.returncode:
        print("npm cannot fetch the package sqlite3@5.1.7 here (no npm or no registry)")
        sys.exit(77)
    with tarfile.open(os.path.join(tmp, r.stdout.split()[-1])) as t:
        inner = t.extractfile("package/deps/sqlite-autoconf-3440200.tar.gz").read()
    with tarfile.open(fileobj=io.BytesIO(inner)) as t:
        for m in ("shell.c", "sqlite3.c", "sqlite3.h", "sqlite3ext.h"):
            with open(os.path.join(tmp, m), "wb") as f:
                f.write(t.extractfile("sqlite-autoconf-3440200/" + m).read())
    return [os.path.join(tmp, "shell.c"), os.path.join(tmp, "sqlite3.c")]


def replay(dmtvm, trc, schemes, tmp):
    """dmtvm replay of trc for these schemes: their counters."""
    rrep = os.path.join(tmp, "replay.json")
    r = sh([dmtvm, "replay", "--mode=pvdmt", "--schemes=" + ",".join(schemes), "--quiet",
            "--report=json", "--report-file=" + rrep, trc])
    check("replay exit", r.returncode, 0)
    with open(rrep) as f:
        rs = json.load(f)
    return rs.get("counters", rs).get("schemes", {})


def check_replay(dmtvm, trc, run_schemes, tmp):
    """The replay of a run's --trace-out gives the run's TLB and walk counters."""
    rs = replay(dmtvm, trc, SCHEMES, tmp)
    for k in SCHEMES:
        check(f"{k}: replay's TLB and walk counters == the run's",
              {f: rs.get(k, {}).get(f) for f in SAME_KEYS},
              {f: (run_schemes or {}).get(k, {}).get(f) for f in SAME_KEYS})


def case_program(name, dmtvm, img, cc, trace_check, srcdir, tmp):
    if name == "sqlite":
        src = sqlite_sources(tmp)
        # No threads, no extensions: one process, no dlopen in the guest.
        cflags = ["-O1", "-DSQLITE_THREADSAFE=0", "-DSQLITE_OMIT_LOAD_EXTENSION"]
        libs = ["-lm"]
        sql = os.path.join(srcdir, "sqlite.sql")
        args, adds, host_cwd = [":memory:", ".read sqlite.sql"], [sql + "=/sqlite.sql"], srcdir
    elif name == "enough":
        need(ENOUGH, "zlib1g-dev")
        src, cflags, args, adds, host_cwd = [ENOUGH], [], ["40", "8", "12"], [], tmp
        libs = []
    else:
        need(LEXER, "libstb-dev")
        src = ["-x", "c", LEXER]
        cflags = ["-DSTB_C_LEXER_IMPLEMENTATION", "-DSTB_C_LEXER_SELF_TEST"]
        args, adds = [], [LEXER + "=/stb_c_lexer.h"]  # it lexes ./stb_c_lexer.h
        libs = []
        host_cwd = os.path.dirname(LEXER)
    native = os.path.join(tmp, name + "-native")
    traced = os.path.join(tmp, name)
    opt = [] if name == "sqlite" else ["-O2"]
    # Both builds at once (two cores): SQLite's takes minutes.
    builds = [subprocess.Popen(c + opt + cflags + src + libs + ["-o", o]) for c, o in
              ((["gcc"], native), ([cc], traced))]
    check("native gcc build, dmtvm-cc build", [b.wait() for b in builds], [0, 0])
    want = sh([native] + args, cwd=host_cwd).stdout
    check("native output is not empty", len(want) > 100, True)
    # The traced binary on the host, into a trace file: the accesses to expect.
    htrc = os.path.join(tmp, "host.trc")
    r = sh([traced] + args, env={"DMTVM_TRACE_OUT": htrc}, cwd=host_cwd)
    check("traced build on the host: same output", r.stdout, want)
    loads, stores, fetches, rois = trace_records(trace_check, htrc)
    check("host trace: the whole run is one ROI (no markers)", rois, 1)
    out, err, schemes, trc = guest_run(dmtvm, img, adds + [traced + "=/bin/" + name],
                                       [name] + args, tmp)
    check("guest output == native output", out, want)
    check("no unsupported system call", "unsupported syscall" in out + err, False)
    for k in SCHEMES:
        s = (schemes or {}).get(k, {})
        got = (s.get("loads"), s.get("stores"), s.get("fetches"))
        if name == "sqlite":
            # SQLite seeds its PRNG from getrandom and the time: a few hundred
            # accesses of 7 million differ from run to run.
            got = tuple(g is not None and abs(g - w) <= w // 1000 for g, w in
                        zip(got, (loads, stores, fetches)))
            check(f"{k}: guest loads/stores/fetches within 0.1 % of the host trace's", got,
                  (True, True, True))
            continue
        check(f"{k}: guest loads/stores/fetches == host trace's", got, (loads, stores, fetches))
    check_replay(dmtvm, trc, schemes, tmp)


def case_plain(dmtvm, img, cc, tmp):
    need(ENOUGH, "zlib1g-dev")
    native, plain = os.path.join(tmp, "native"), os.path.join(tmp, "enough")
    check("native build", sh(["gcc", "-O2", ENOUGH, "-o", native]).returncode, 0)
    check("dmtvm-cc --plain", sh([cc, "--plain", "-O2", ENOUGH, "-o", plain]).returncode, 0)
    r = sh(["nm", plain])
    check("plain build has no trace runtime", "trace_rt_flush" in r.stdout, False)
    want = sh([native, "30", "8", "11"]).stdout
    out, err, schemes, _ = guest_run(dmtvm, img, [plain], ["enough", "30", "8", "11"], tmp,
                                     traced=False)
    check("plain build in the guest: native output", out, want)
    check("the model saw nothing (untraced)",
          {k: v.get("accesses") for k, v in (schemes or {}).items() if v.get("accesses")}, {})


def case_cc_errors(cc, tmp):
    bad = os.path.join(tmp, "bad.c")
    with open(bad, "w") as f:
        f.write("int main(void)\n{\n\treturn undeclared_thing;\n}\n")
    for mode in ([], ["--plain"]):
        r = sh([cc] + mode + ["-O2", bad, "-o", os.path.join(tmp, "bad")])
        check(f"{mode}: compiler's status", r.returncode, 1)
        check(f"{mode}: compiler's message, file:line: error", f"{bad}:3:" in r.stderr and
              "error:" in r.stderr and "undeclared_thing" in r.stderr, True)
        check(f"{mode}: no output binary", os.path.exists(os.path.join(tmp, "bad")), False)
    r = sh([cc, os.path.join(tmp, "nosuch.c"), "-o", os.path.join(tmp, "x")])
    check("missing source: compiler's status", r.returncode, 1)
    check("missing source: compiler's message", "nosuch.c" in r.stderr, True)
    r = sh([cc])
    check("no arguments: usage, status 2", (r.returncode, "usage: dmtvm-cc" in r.stderr), (2, True))


def case_cc_missing(cc, srcdir, tmp):
    src = os.path.join(srcdir, "roi_probe_sum.c")
    for var, tool, pkg, plain in (("DMTVM_CC_CLANG", "clang", "clang", []),
                                  ("DMTVM_CC_LLD", "ld.lld", "lld", []),
                                  ("DMTVM_CC_MUSL_GCC", "musl-gcc", "musl-tools", ["--plain"])):
        r = sh([cc] + plain + ["-c", src, "-o", os.path.join(tmp, "x.o")],
               env={var: "/nonexistent/" + tool})
        check(f"{tool} missing: status 127", r.returncode, 127)
        check(f"{tool} missing: one line naming the package",
              r.stderr, f"dmtvm-cc: /nonexistent/{tool} not found: install the Debian package "
              f"{pkg} (apt-get install {pkg})\n")


def case_cc_roi(cc, trace_check, srcdir, tmp):
    objs = []
    for s in ("roi_probe.c", "roi_probe_sum.c"):
        o = os.path.join(tmp, s[:-2] + ".o")
        check(f"dmtvm-cc -c {s}", sh([cc, "-O2", "-c", os.path.join(srcdir, s), "-o", o])
              .returncode, 0)
        objs.append(o)
    exe = os.path.join(tmp, "roi")
    check("link two objects with -lm", sh([cc, "-O2"] + objs + ["-lm", "-o", exe]).returncode, 0)
    trc = os.path.join(tmp, "roi.trc")
    r = sh([exe], env={"DMTVM_TRACE_OUT": trc})
    check("output", r.stdout, "sum 4950.0 sqrt 70.4\n")
    loads, stores, _, rois = trace_records(trace_check, trc)
    check("marked ROI: exactly the loop's 100 stores, no load, one ROI", (loads, stores, rois),
          (0, 100, 1))
    whole = os.path.join(tmp, "whole")
    check("without <dmtvm/roi.h>", sh([cc, "-O2", "-DNO_ROI"] + [os.path.join(srcdir, s) for s in
          ("roi_probe.c", "roi_probe_sum.c")] + ["-lm", "-o", whole]).returncode, 0)
    r = sh([whole], env={"DMTVM_TRACE_OUT": trc})
    check("output", r.stdout, "sum 4950.0 sqrt 70.4\n")
    loads, stores, _, rois = trace_records(trace_check, trc)
    check("whole run traced: the sums' 200 loads too, one ROI", (loads >= 200, stores >= 100,
          rois), (True, True, 1))


def records(path):
    with open(path, "rb") as f:
        data = f.read()
    return [int.from_bytes(data[i:i + 8], "little") for i in range(32, len(data), 8)]


def write_trace(path, recs):
    with open(path, "wb") as f:
        f.write(b"DMTVMTRC" + (1).to_bytes(4, "little") + (8).to_bytes(4, "little") + bytes(16))
        for r in recs:
            f.write(r.to_bytes(8, "little"))


def case_replay_unmap(dmtvm, img, cc, srcdir, tmp):
    """A run that unmaps: its PT_UPDATEs reach the trace (control records 4 +
    5) and the replay drops the same TLB entries; malformed pairs refused."""
    exe = os.path.join(tmp, "unmapper")
    check("build", sh([cc, "-O2", os.path.join(srcdir, "unmapper.c"), "-o", exe]).returncode, 0)
    out, _, schemes, trc = guest_run(dmtvm, img, [exe], ["unmapper"], tmp)
    check("output (as gcc on the host)", out, "sum 3220500480\n")
    ctl = [(r >> 48 & 0xff, r & 0xffffffffffff) for r in records(trc) if r >> 56 & 3 == 3]
    inv = [i for i, c in enumerate(ctl) if c[0] == 4]
    check("invalidations in the trace (one per free of a block, at least)", len(inv) >= 6, True)
    check("each followed by its length, a page multiple",
          all(ctl[i + 1][0] == 5 and ctl[i + 1][1] % 4096 == 0 for i in inv), True)
    check_replay(dmtvm, trc, schemes, tmp)
    # Without the invalidations the replay keeps stale TLB entries: fewer misses.
    keep = [r for r in records(trc) if not (r >> 56 & 3 == 3 and r >> 48 & 0xff in (4, 5))]
    stale = os.path.join(tmp, "stale.trc")
    write_trace(stale, keep)
    rs = replay(dmtvm, stale, ["x86-2d"], tmp)
    check("without them: fewer TLB misses than the run", rs["x86-2d"]["tlb_misses"] <
          schemes["x86-2d"]["tlb_misses"], True)
    ctl4 = (3 << 56) | (4 << 48) | 0x1000
    ctl5 = (3 << 56) | (5 << 48) | 0x2000
    load = (1 << 48) | 0x1000
    for recs, msg in (([ctl4, load], "not followed by its length"),
                      ([ctl5, load], "without its address"),
                      ([load, ctl4], "ends inside an invalidation")):
        write_trace(stale, recs)
        r = sh([dmtvm, "replay", stale])
        check(f"malformed pair: status 2, {msg}", (r.returncode, msg in r.stderr), (2, True))


def case_add_errors(dmtvm, img, tmp):
    big = os.path.join(tmp, "big")
    with open(big, "wb") as f:
        f.truncate(80 << 20)  # sparse: refused from its size, never read
    os.mkdir(os.path.join(tmp, "d"))
    for adds, mem, msg in (
            (["/nonexistent/prog"], "64M", "--add: /nonexistent/prog: No such file or directory"),
            (["/dev/null"], "64M", "--add: /dev/null: not a regular file or directory"),
            ([big + "=bin/x"], "64M", f"--add: {big}: guest path 'bin/x' is outside the guest's"),
            ([big + "=/bin/../x"], "64M", "guest path '/bin/../x' is outside the guest's tree"),
            ([big + "=/"], "64M", "guest path '/' is outside the guest's tree"),
            ([big + "=/a/" + "x" * 300], "64M", "is outside the guest's tree"),
            ([big], "64M", f"--add: {big}: the added files do not fit in the guest's RAM (64 MiB"),
            ([big + "=/a", big + "=/b"], "128M", "do not fit in the guest's RAM (128 MiB"),
            (["=/x"], "64M", "--add: =/x: expected HOST[=GUEST]")):
        cmd = [dmtvm, "run", "--mem=" + mem]
        for a in adds:
            cmd += ["--add", a]
        r = sh(cmd + [img, "--", "hello"])
        check(f"{adds}: status 2", r.returncode, 2)
        check(f"{adds}: one line", r.stderr.count("\n"), 1)
        check(f"{adds}: names the fault", msg in r.stderr, True)
        check(f"{adds}: nothing booted", r.stdout, "")


def case_add_syscalls(dmtvm, img, cc, srcdir, tmp):
    probe = os.path.join(tmp, "sysprobe")
    check("build", sh([cc, "--plain", "-O2", os.path.join(srcdir, "sysprobe.c"), "-o", probe])
          .returncode, 0)
    d = os.path.join(tmp, "data")
    os.mkdir(d)
    os.mkdir(os.path.join(d, "empty"))
    with open(os.path.join(d, "in.txt"), "w") as f:
        f.write("hello from an added directory\n")
    out, err, _, _ = guest_run(dmtvm, img, [probe, d], ["sysprobe"], tmp, traced=False)
    # The kernel's lines share the console (stdout) with the program's.
    kernel = "dmtvm: unsupported syscall 300 (fanotify_init): -ENOSYS\n"
    check("unknown call: one line naming it", out.count(kernel), 1)
    check("guest's answers", out.replace(kernel, ""),
          "exe /bin/sysprobe\ncwd /\ngetrandom 300\nclock_getres 0 1\n"
          "data 30 bytes: hello from an added directory\n"
          "fanotify_init -1 Function not implemented\nfanotify_init -1 Function not implemented\n")
    # An added file shadows the image's file of the same path.
    out, _, _, _ = guest_run(dmtvm, img, [probe + "=/bin/hello"], ["hello", "/bin/hello"], tmp,
                             traced=False)
    check("added /bin/hello replaces the image's", out.startswith("exe /bin/hello\n"), True)
    check("... and reads itself", f"data {os.path.getsize(probe)} bytes" in out, True)


def main():
    if len(sys.argv) != 7:
        print(__doc__, file=sys.stderr)
        return 2
    case, dmtvm, img, cc, trace_check, srcdir = sys.argv[1:]
    why = dmtvm_platform.setup()
    if why:
        return dmtvm_platform.skip(why)
    with tempfile.TemporaryDirectory() as tmp:
        if case in ("enough", "stb-lexer", "sqlite"):
            case_program(case, dmtvm, img, cc, trace_check, srcdir, tmp)
        elif case == "plain":
            case_plain(dmtvm, img, cc, tmp)
        elif case == "cc-errors":
            case_cc_errors(cc, tmp)
        elif case == "cc-missing":
            case_cc_missing(cc, srcdir, tmp)
        elif case == "cc-roi":
            case_cc_roi(cc, trace_check, srcdir, tmp)
        elif case == "replay-unmap":
            case_replay_unmap(dmtvm, img, cc, srcdir, tmp)
        elif case == "add-errors":
            case_add_errors(dmtvm, img, tmp)
        elif case == "add-syscalls":
            case_add_syscalls(dmtvm, img, cc, srcdir, tmp)
        else:
            print(f"unknown case {case}", file=sys.stderr)
            return 2
    print(f"{case}: {'FAILED' if failures else 'passed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
