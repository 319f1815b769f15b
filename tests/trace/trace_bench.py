#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Figures of the in-guest trace pipeline (benchmarks, not tests).

usage: trace_bench.py slowdown DMTVM IMAGE [-m SIZE -n N]
       trace_bench.py table DMTVM GUEST_IMG [WORKLOAD...]

slowdown: GUPS in the guest (--mode=pvdmt, default schemes), plain vs
  traced, median of 3 ROI times as the guest measures them, and where the
  traced time goes: the VMM's model (the report's model_us: the vCPU is
  stopped meanwhile), the rest (instrumentation, trace exits, copying the
  records out), and the model's throughput inside the run, for the default
  schemes (x86-2d, dmt-virt, pvdmt) on two and on one model thread
  (DMTVM_MODEL_THREADS=1), and for x86-native alone.
table: every workload's traced build at its default size under
  --mode=pvdmt (default schemes x86-2d, dmt-virt, pvdmt; THP default): records, ROI and model time,
  and per scheme TLB miss %, refs/walk, cycles/walk. Minutes: run by hand.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), ".."))
import dmtvm_platform  # noqa: E402

WORKLOADS = ["gups", "btree", "xsbench", "bfs", "canneal", "stream", "kvstore"]


def run(dmtvm, img, opts, args, timeout=1800, env=None):
    with tempfile.TemporaryDirectory() as d:
        rep = os.path.join(d, "r.json")
        cmd = [dmtvm, "run", "--report=json", "--report-file=" + rep, *opts, img, "--", *args]
        r = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=timeout,
                           env=dict(os.environ, **(env or {})))
        if r.returncode != 0:
            sys.exit(f"FAIL: {' '.join(cmd)} exited {r.returncode}\n{r.stdout}{r.stderr[-2000:]}")
        with open(rep) as f:
            rj = json.load(f)
    m = re.search(r"roi ([0-9.]+) s", r.stdout)
    return (float(m.group(1)) if m else None), rj


def slowdown(dmtvm, img, extra):
    args = extra or ["-m", "256M", "-n", "4M"]
    base = ["--mode=pvdmt", "--mem=1G"]
    plain = statistics.median(run(dmtvm, img, base, ["gups"] + args)[0] for _ in range(3))
    print(f"gups {' '.join(args)} in the guest, --mode=pvdmt, median of 3")
    print(f"{'run':34s} {'ROI s':>8s} {'x plain':>8s} {'model s':>8s} {'rest s':>7s} "
          f"{'rest x':>7s} {'flushes':>7s} {'Mrec/s':>7s}")
    print(f"{'plain':34s} {plain:8.3f} {1.0:8.2f}")
    for name, opts, env in [("traced, 3 schemes, 2 model threads", [], {}),
                            ("traced, 3 schemes, 1 model thread", [],
                             {"DMTVM_MODEL_THREADS": "1"}),
                            ("traced, x86-native only", ["--schemes=x86-native"], {})]:
        runs = [run(dmtvm, img, base + opts, ["gups-trace"] + args, env=env) for _ in range(3)]
        roi, rj = sorted(runs, key=lambda t: t[0])[1]
        t = rj["tables"]
        model = t["model_us"] / 1e6
        rest = roi - model
        print(f"{name:34s} {roi:8.3f} {roi / plain:8.2f} {model:8.3f} {rest:7.3f} "
              f"{rest / plain:7.2f} {t['flushes']:7d} {t['simulated'] / model / 1e6:7.1f}")


def table(dmtvm, img, names):
    print("| workload | records | ROI s | model s | Mrec/s | scheme: TLB miss % / refs per walk "
          "/ cycles per walk |")
    print("|---|---|---|---|---|---|")
    for w in names or WORKLOADS:
        roi, rj = run(dmtvm, img, ["--mode=pvdmt", "--mem=2G"], [w + "-trace"])
        t = rj["tables"]
        model = t["model_us"] / 1e6
        cells = []
        for k, c in rj["counters"]["schemes"].items():
            if c["accesses"] == 0:
                continue  # nested schemes: no EPT12 in a plain pvdmt run
            miss = 100.0 * c["tlb_misses"] / c["accesses"]
            cells.append(f"{k} {miss:.2f} / {c['refs_per_walk']:.2f} / "
                         f"{c['walk_cycles_per_walk']:.1f}")
        print(f"| {w} | {t['records']} | {roi} | {model:.1f} | "
              f"{t['simulated'] / model / 1e6 if model else 0:.1f} | {'; '.join(cells)} |",
              flush=True)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    what, dmtvm, img = sys.argv[1:4]
    why = dmtvm_platform.setup()
    if why:
        return dmtvm_platform.skip(why)
    if what == "slowdown":
        slowdown(dmtvm, img, sys.argv[4:])
    elif what == "table":
        table(dmtvm, img, sys.argv[4:])
    else:
        sys.exit(__doc__)
    return 0


if __name__ == "__main__":
    sys.exit(main())
