#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot benchmark: median of N runs of `dmtvm run IMG` (wall time from exec
to exit, and the boot time dmtvm reports: process start -> INIT_STARTED),
plus the binary's size and the max RSS over the runs.

usage: bench_boot.py DMTVM IMG [N=10]
Targets on the development machines: boot < 50 ms, whole run < 100 ms.
"""
import json
import os
import resource
import statistics
import subprocess
import sys
import time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), ".."))
import dmtvm_platform  # noqa: E402


def main():
    dmtvm, img = sys.argv[1:3]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    why = dmtvm_platform.setup()
    if why:
        return dmtvm_platform.skip(why)
    walls, boots, setups = [], [], []
    for _ in range(n):
        t0 = time.perf_counter()
        r = subprocess.run([dmtvm, "run", "--report=json", img], capture_output=True, text=True)
        walls.append((time.perf_counter() - t0) * 1e3)
        rep = json.loads(r.stderr.strip().splitlines()[-1])
        boots.append(rep["boot_us"] / 1e3 if rep["boot_us"] else float("nan"))
        setups.append(rep["vmm_setup_us"] / 1e3)
    rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    wall, boot = statistics.median(walls), statistics.median(boots)
    print(f"dmtvm boot benchmark ({n} runs of {os.path.basename(img)}):")
    print(f"  wall exec->exit median {wall:.1f} ms (min {min(walls):.1f}, max {max(walls):.1f})"
          f"  target < 100 ms: {'ok' if wall < 100 else 'MISSED'}")
    print(f"  reported boot   median {boot:.1f} ms (min {min(boots):.1f}, max {max(boots):.1f})"
          f"  target < 50 ms: {'ok' if boot < 50 else 'MISSED'}")
    print(f"  VMM setup (exec -> first KVM_RUN) median {statistics.median(setups):.1f} ms")
    stripped = os.path.join(os.path.dirname(os.path.abspath(img)), "dmtvm.stripped")
    size = os.path.getsize(dmtvm)
    if subprocess.run(["strip", "-o", stripped, dmtvm]).returncode == 0:
        print(f"  binary size {size} bytes ({os.path.getsize(stripped)} stripped)")
        os.unlink(stripped)
    else:
        print(f"  binary size {size} bytes")
    print(f"  max RSS {rss_kib} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
