#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_valgrind.py: a real valgrind lackey trace of /bin/true, generated
into the build dir at test time, replays cleanly; the model sees exactly the
accesses the trace holds (counted here independently: I/L/S lines once, M
lines twice). Skipped (77) when valgrind is missing."""
import json
import os
import shutil
import subprocess
import sys

BIN, WORK = sys.argv[1], sys.argv[2]
if not shutil.which("valgrind"):
    print("valgrind not installed: skipped")
    sys.exit(77)
os.makedirs(WORK, exist_ok=True)
trace = os.path.join(WORK, "true.lackey")
subprocess.run(["valgrind", "--tool=lackey", "--trace-mem=yes", "--log-file=" + trace, "/bin/true"],
               check=True, timeout=120)
want = [0, 0, 0]  # load, store, fetch
with open(trace) as f:
    for line in f:
        s = line.strip()
        if not s or s.startswith("=="):
            continue
        kind = s[0]
        if kind == "I":
            want[2] += 1
        elif kind == "L":
            want[0] += 1
        elif kind == "S":
            want[1] += 1
        elif kind == "M":
            want[0] += 1
            want[1] += 1
p = subprocess.run([BIN, "--quiet", "--report=json", "--mode=all", trace], capture_output=True,
                   timeout=120)
if p.returncode != 0:
    print("FAIL: exit", p.returncode, p.stderr.decode())
    sys.exit(1)
doc = json.loads(p.stdout)
bad = 0
for name, c in doc["schemes"].items():
    got = [c["loads"], c["stores"], c["fetches"]]
    if got != want or c["accesses"] != sum(want):
        print(f"FAIL: {name} loads/stores/fetches {got}, expected {want}")
        bad += 1
    if c.get("faults", 0) != 0:
        print(f"FAIL: {name} faults {c['faults']}")
        bad += 1
simos = doc["replay"]["simos"]
print(f"valgrind /bin/true: {sum(want)} accesses, {simos['vmas']} VMAs, "
      f"{simos['data_pages']} pages, x86-native walks {doc['schemes']['x86-native']['walks']}")
sys.exit(1 if bad else 0)
