#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run one dmtvm command and check its exit status and output exactly.

usage: vmm_run.py [--status N[,N...] | --signal N] [--stdout TEXT] [--stdout-has TEXT]
                  [--stderr-has TEXT]... [--stderr-lines N] [--kvm] -- CMD...
With --kvm the command boots a guest: it runs on KVM, else on the ptrace
platform (tests/dmtvm_platform.py); --kvm-only REASON skips (77) without KVM.
"""
import argparse
import os
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), ".."))
import dmtvm_platform  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    # one status, or the few a platform may give (comma-separated)
    ap.add_argument("--status", type=lambda v: [int(x) for x in v.split(",")])
    ap.add_argument("--stdout")
    ap.add_argument("--stdout-has", action="append", default=[])
    ap.add_argument("--stderr-has", action="append", default=[])
    ap.add_argument("--stderr-lines", type=int)
    ap.add_argument("--kvm", action="store_true")  # needs a platform (KVM or ptrace)
    ap.add_argument("--kvm-only", metavar="REASON")  # needs KVM itself
    ap.add_argument("--kvm-ptrace", action="store_true")  # checks the ptrace platform's own
    ap.add_argument("--absent", action="append", default=[],
                    help="a host path the command must not create (removed first)")
    ap.add_argument("--env", action="append", default=[], help="NAME=VALUE for the command")
    ap.add_argument("cmd", nargs="+")
    a = ap.parse_args()
    why = dmtvm_platform.setup(a.kvm_only) if a.kvm or a.kvm_only or a.kvm_ptrace else None
    if not why and a.kvm_ptrace and os.environ["DMTVM_PLATFORM"] != "ptrace":
        why = "this test checks the ptrace platform's own counters; the tests run on KVM here"
    if why:
        return dmtvm_platform.skip(why)
    for p in a.absent:
        if os.path.isdir(p):
            os.rmdir(p)
        elif os.path.lexists(p):
            os.unlink(p)
    env = dict(os.environ, **dict(e.split("=", 1) for e in a.env))
    r = subprocess.run(a.cmd, capture_output=True, text=True, errors="replace", timeout=60,
                       env=env)
    print(f"$ {' '.join(a.cmd)}\nexit {r.returncode}\n--- stdout\n{r.stdout}--- stderr\n{r.stderr}")
    bad = []
    if a.status is not None and r.returncode not in a.status:
        bad.append(f"exit status {r.returncode}, expected {' or '.join(map(str, a.status))}")
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
    for p in a.absent:
        if os.path.lexists(p):
            bad.append(f"{p} exists on the host: the guest reached a host system call")
    for b in bad:
        print("FAIL: " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
