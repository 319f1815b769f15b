#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_cli.py: `dmtvm-replay` end to end, with exact model counters.

Usage: test_cli.py DMTVM_REPLAY WORKDIR. Hand-written lackey and binary
traces go through the whole pipeline (reader, simos, model, report); with
page-walk caches off every TLB miss costs exactly the paper's reference
count: native 4, 2D 24, shadow 4, 3D 124, DMT 1, DMT-virt 3, pvDMT 2,
pvDMT-nested 3 (DMT.md); 2 MiB pages: 3 and 15. Malformed inputs must exit
2 with one line naming the line or record.
"""
import json
import os
import struct
import subprocess
import sys

BIN, WORK = sys.argv[1], sys.argv[2]
os.makedirs(WORK, exist_ok=True)
failures = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL:", msg)


def write(name, data):
    path = os.path.join(WORK, name)
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    return path


def run(args, stdin=None):
    p = subprocess.run([BIN, "--quiet"] + args, input=stdin, capture_output=True, timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def replay_json(args, stdin=None):
    rc, out, err = run(["--report=json", "--set", "pwc=0"] + args, stdin)
    if rc != 0:
        fail(f"{args}: exit {rc}: {err.strip()}")
        return None
    return json.loads(out)


def expect(doc, scheme, key, want, what):
    if doc is None:
        return
    got = doc["schemes"].get(scheme, {}).get(key)
    if got != want:
        fail(f"{what}: {scheme}.{key} = {got}, expected {want}")


def rec(va, size, kind, vcpu=0):
    return struct.pack("<Q", (va & 0xFFFFFFFFFFFF) | (size << 48) | (kind << 56) | (vcpu << 58))


HDR = b"DMTVMTRC" + struct.pack("<IIQQ", 1, 8, 0, 0)
REFS = {  # references per TLB miss with PWCs off, 4 KiB pages, warm shadows
    "x86-native": 4, "x86-2d": 24, "x86-shadow": 4, "x86-nested-ept02": 24, "x86-3d": 124,
}
# Cold shadow tables: a walk that faults in the model-kept shadow (or EPT02)
# pays its partial walk, the exit fills it, the retry pays the full walk.
COLD = {
    "x86-native": 4, "x86-2d": 24, "x86-3d": 124,
    "x86-shadow": 1 + 4,  # shadow PML4E not present, retry
    "x86-nested-ept02": 24 + 1 + 4 * 4,  # EPT02: PML4E faults for cr3, then a PTE
                                           # fault for each of 4 more gPAs in one 2 MiB
}

# 1. One load: every radix scheme walks once.
one = write("one.lackey", "==1== lackey\n L 7f0000001008,8\n")
doc = replay_json([one])
for s, n in COLD.items():
    expect(doc, s, "walks", 1, "one load")
    expect(doc, s, "refs", n, "one load")
expect(doc, "x86-shadow", "shadow_fills", 1, "one load")
expect(doc, "x86-shadow", "shadow_invalidations", 1, "one load")  # the guest PTE write

# 1b. A warm walk costs the paper's count: 20 pages thrash a 16-entry TLB, then
# the first page again; the difference between the two runs is one walk.
tiny = ["--set", "l1d_tlb_entries=4", "--set", "l1d_tlb_ways=4", "--set", "stlb_entries=12",
        "--set", "stlb_ways=12"]
pages = "".join(f" L {X0 + 4096 * i:x},8\n" for X0 in [0x7F0000000000] for i in range(20))
t1 = write("warm1.lackey", pages)
t2 = write("warm2.lackey", pages + " L 7f0000000000,8\n")
d1, d2 = replay_json(tiny + [t1]), replay_json(tiny + [t2])
if d1 and d2:
    for s, n in REFS.items():
        got = (d2["schemes"][s]["walks"] - d1["schemes"][s]["walks"],
               d2["schemes"][s]["refs"] - d1["schemes"][s]["refs"])
        if got != (1, n):
            fail(f"warm walk: {s} (walks, refs) delta {got}, expected (1, {n})")
if doc:
    r = doc["replay"]["simos"]
    if (r["data_pages"], r["vmas"], r["teas"]) != (1, 1, 0):
        fail(f"one load: simos {r}")

# 2. A 64 MiB VMA gets a TEA: DMT 1, DMT-virt 3, pvDMT 2, pvDMT-nested 3 refs.
X = 0x7F0000000000
dmt = write("dmt.lackey", f" L {X:x},8\n S {X + 62 * 2**20:x},8\n")
doc = replay_json(["--set", "simos.vma_gap=64M", dmt])
for s, n in {"dmt-native": 1, "dmt-virt": 3, "pvdmt": 2, "pvdmt-nested": 3}.items():
    expect(doc, s, "walks", 2, "TEA")
    expect(doc, s, "refs", 2 * n, "TEA")
for s in ["x86-native", "x86-2d", "x86-3d"]:
    expect(doc, s, "refs", 2 * REFS[s], "TEA")
# second walk's shadow: PML4E, PDPTE present, PDE faults (3), retry (4)
expect(doc, "x86-shadow", "refs", 5 + 3 + 4, "TEA")
expect(doc, "dmt-native", "dmt_hits", 2, "TEA")
if doc and doc["replay"]["simos"]["teas"] != 1:
    fail(f"TEA: simos teas {doc['replay']['simos']['teas']}")

# 3. THP: 2 MiB guest and host pages: native 3, 2D 15.
doc = replay_json(["--thp", "--mode=ept", one])
expect(doc, "x86-2d", "refs", 15, "THP")
doc = replay_json(["--thp", "--mode=native", one])
expect(doc, "x86-native", "refs", 3, "THP")

# 4. Binary trace: warm-up, ROI, ASID switch; only ROI accesses count.
b = HDR + rec(X, 8, 0) + rec(0, 1, 3) + rec(X, 8, 1) + rec(X + 4096, 8, 0)
b += rec(5, 3, 3) + rec(X, 4, 2) + rec(0, 2, 3) + rec(X + 8192, 8, 0)
binp = write("roi.bin", b)
doc = replay_json(["--mode=native", binp])
expect(doc, "x86-native", "walks", 2, "ROI")  # X+4096 (asid 0), X (asid 5)
expect(doc, "x86-native", "refs", 8, "ROI")
if doc:
    r = doc["replay"]
    if r["simos"]["address_spaces"] != 2 or r["trace"]["accesses"] != 5:
        fail(f"ROI: replay info {r}")
    if r["trace"]["simulated"] != 3:
        fail(f"ROI: simulated {r['trace']['simulated']}, expected 3")

# 5. stdin gives the same counters as the file.
with open(binp, "rb") as f:
    doc2 = replay_json(["--mode=native", "-"], stdin=f.read())
if doc and doc2 and doc["schemes"] != doc2["schemes"]:
    fail("stdin and file reports differ")

# 6. Synthetic: replaying the written trace equals replaying the generator.
g = os.path.join(WORK, "gups.trc")
rc, out, err = run(["--synthetic=gups:64M:2000", "--write-trace=" + g])
if rc != 0 or os.path.getsize(g) != 32 + 8 * (16384 + 2 + 4000):
    fail(f"write-trace: exit {rc} {err.strip()} size {os.path.getsize(g) if rc == 0 else 0}")
d1 = replay_json(["--mode=pvdmt", "--synthetic=gups:64M:2000"])
d2 = replay_json(["--mode=pvdmt", g])
if d1 and d2:
    if d1["schemes"] != d2["schemes"]:
        fail("synthetic and written trace differ")
    acc = d1["schemes"]["x86-2d"]
    if (acc["accesses"], acc["loads"], acc["stores"]) != (4000, 2000, 2000):
        fail(f"gups ROI accesses {acc['accesses']}, expected 4000 = 2000 + 2000")
    if d1["replay"]["simos"]["teas"] != 1 or d1["replay"]["simos"]["tea_fallbacks"] != 0:
        fail(f"gups TEA: {d1['replay']['simos']}")

# 6b. Batch size and scheme selection do not change any counter.
d3 = replay_json(["--mode=pvdmt", "--batch=3", "--synthetic=gups:64M:2000"])
d4 = replay_json(["--mode=native", "--synthetic=gups:64M:2000"])
d5 = replay_json(["--mode=all", "--synthetic=gups:64M:2000"])
if d1 and d3 and d1["schemes"] != d3["schemes"]:
    fail("--batch=3 changes the counters")
if d4 and d5 and d4["schemes"]["x86-native"] != d5["schemes"]["x86-native"]:
    fail("--mode=all and --mode=native disagree on x86-native")

# 7. Table report to a file.
rep = os.path.join(WORK, "report.txt")
rc, out, err = run(["--report-file=" + rep, one])
if rc != 0 or out or "x86-2d" not in open(rep).read():
    fail(f"--report-file: exit {rc} stdout {out!r}")

# 8. Malformed inputs: exit 2, one line naming the line or record.
bad = [
    ("bad line", "I  10,1\n L 20,2\nX 30,3\n", ":3: malformed lackey line \"X 30,3\""),
    ("huge size", " L 10,99999999999999999999\n", ":1: malformed lackey line"),
    ("huge address", " L 123456789abcdef012,8\n", "address wider than 64 bits"),
    ("truncated record", HDR + rec(X, 8, 0) + rec(X, 8, 0)[:3], "truncated record 2 at byte offset 40"),
    ("bad magic", b"DMTVMTRX" + HDR[8:], "bad magic \"DMTVMTRX\""),
    ("bad version", b"DMTVMTRC" + struct.pack("<IIQQ", 7, 8, 0, 0), "unsupported dmtvm trace version 7"),
    ("bad control", HDR + rec(0, 9, 3), "record 1 (byte offset 32"),
    ("too many ASIDs", HDR + b"".join(rec(a, 3, 3) + rec(X, 8, 0) for a in range(4097)),
     "record 8194: more than 4096 address spaces"),
]
for what, data, msg in bad:
    path = write("bad.trace", data)
    rc, out, err = run([path])
    if rc != 2 or msg not in err or err.count("\n") != 1:
        fail(f"{what}: exit {rc}, stderr {err!r}, expected 2 and {msg!r}")
    rc, out, err = run(["-"], stdin=data.encode() if isinstance(data, str) else data)
    if rc != 2 or msg not in err:
        fail(f"{what} on stdin: exit {rc}, stderr {err!r}")

# 9. Model threads: every counter is the same on 1, 2 and 3 threads (both
# worlds' simulators in one lanes call), with batches of 5000 records, pages
# mapped (shadow exits) between them and warmup_refs ending mid-batch (that
# batch runs on the calling thread: mmu_sim_run splits it).
docs = []
for t in (1, 2, 3):
    rc, out, err = run(["--report=json", "--mode=all", "--batch=5000", "--set", "warmup_refs=30000",
                        f"--threads={t}", "--synthetic=gups:64M:20000"])
    if rc != 0:
        fail(f"--threads={t}: exit {rc}: {err.strip()}")
    docs.append(out)
if docs[0] != docs[1] or docs[0] != docs[2]:
    fail("--threads=1/2/3: the reports differ")
d = json.loads(docs[0]) if docs[0] else None
# the set-up phase (before the ROI) touches each of the 16384 pages once, so
# the warm-up ends 13616 accesses into the ROI, inside its third batch
expect(d, "ecpt", "accesses", 40000 - (30000 - 16384), "--threads after a warm-up of 30000")

# 10. Usage and environment errors.
for args, code, msg in [
    (["--threads=0", one], 2, "bad --threads '0'"),
    (["--threads=9", one], 2, "bad --threads '9'"),
    (["--mode=bogus", one], 2, "bad --mode 'bogus'"),
    (["--set", "no_such_key=1", one], 2, "no_such_key"),
    (["--set", "simos.tea_max=65", one], 2, "simos.tea_max=65"),
    (["--report=xml", one], 2, "bad --report 'xml'"),
    ([], 2, "no TRACE given"),
    ([os.path.join(WORK, "missing")], 1, "missing: No such file"),
]:
    rc, out, err = run(args)
    if rc != code or msg not in err:
        fail(f"{args}: exit {rc}, stderr {err!r}, expected {code} and {msg!r}")

print("test_cli: %s" % ("ok" if failures == 0 else f"{failures} failure(s)"))
sys.exit(1 if failures else 0)
