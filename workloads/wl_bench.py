#!/usr/bin/env python3
"""wl_bench.py: time dmtvm workloads at their default sizes.

  wl_bench.py BIN...                      each BIN 3 times: median wall time,
                                          ROI time and peak RSS
  wl_bench.py --slowdown PLAIN TRACED ARGS...
                                          ROI time of PLAIN vs TRACED (trace to
                                          /dev/null), median of 3: slowdown and
                                          records per second
"""
import os
import re
import statistics
import subprocess
import sys
import time


def run(argv, env=None):
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    out = p.stdout.read().decode()
    err = p.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(argv)} failed: {err.strip()}")
    roi = float(re.search(r"roi ([0-9.]+) s", out).group(1))
    recs = re.findall(r"trace_rt: ([0-9]+) records", err)
    return wall, roi, ru.ru_maxrss / 1024.0, int(recs[-1]) if recs else 0


def main():
    args = sys.argv[1:]
    if args and args[0] == "--slowdown":
        plain, traced, extra = args[1], args[2], args[3:]
        env = dict(os.environ, DMTVM_TRACE_OUT="/dev/null")
        p = [run([plain] + extra) for _ in range(3)]
        t = [run([traced] + extra, env) for _ in range(3)]
        rp = statistics.median(x[1] for x in p)
        rt = statistics.median(x[1] for x in t)
        recs = t[0][3]
        print(f"{os.path.basename(plain)} {' '.join(extra)}: ROI plain {rp:.3f} s, "
              f"traced {rt:.3f} s, slowdown {rt / rp:.2f}x, {recs} records, "
              f"{recs / rt / 1e6:.1f} M records/s = {recs * 8 / rt / 2**20:.0f} MiB/s of trace")
        return
    print(f"{'workload':10} {'wall s':>8} {'roi s':>8} {'maxrss MiB':>11}  (median of 3)")
    for b in args:
        r = [run([b]) for _ in range(3)]
        print(f"{os.path.basename(b):10} {statistics.median(x[0] for x in r):8.2f} "
              f"{statistics.median(x[1] for x in r):8.2f} "
              f"{statistics.median(x[2] for x in r):11.1f}", flush=True)


if __name__ == "__main__":
    main()
