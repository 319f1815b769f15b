#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run one dmtvm command and check its exit status and output exactly.

usage: vmm_run.py [--status N | --signal N] [--stdout TEXT] [--stdout-has TEXT]
                  [--stderr-has TEXT]... [--stderr-lines N] [--kvm] -- CMD...
With --kvm, a missing /dev/kvm prints a loud SKIP and exits 77 (meson skip).
"""
import argparse
import os
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--status", type=int)
    ap.add_argument("--stdout")
    ap.add_argument("--stdout-has", action="append", default=[])
    ap.add_argument("--stderr-has", action="append", default=[])
    ap.add_argument("--stderr-lines", type=int)
    ap.add_argument("--kvm", action="store_true")
    ap.add_argument("cmd", nargs="+")
    a = ap.parse_args()
    if a.kvm and not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("SKIP SKIP SKIP: /dev/kvm is not usable here; this KVM test did not run",
              file=sys.stderr)
        return 77
    r = subprocess.run(a.cmd, capture_output=True, text=True, errors="replace", timeout=60)
    print(f"$ {' '.join(a.cmd)}\nexit {r.returncode}\n--- stdout\n{r.stdout}--- stderr\n{r.stderr}")
    bad = []
    if a.status is not None and r.returncode != a.status:
        bad.append(f"exit status {r.returncode}, expected {a.status}")
    if a.stdout is not None and r.stdout != a.stdout.replace("\\n", "\n"):
        bad.append(f"stdout {r.stdout!r}, expected {a.stdout!r}")
    for s in a.stdout_has:
        if s not in r.stdout:
            bad.append(f"stdout lacks {s!r}")
    for s in a.stderr_has:
        if s not in r.stderr:
            bad.append(f"stderr lacks {s!r}")
    if a.stderr_lines is not None and len(r.stderr.splitlines()) != a.stderr_lines:
        bad.append(f"stderr has {len(r.stderr.splitlines())} lines, expected {a.stderr_lines}")
    for b in bad:
        print("FAIL: " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
