#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The ptrace platform when a traced process dies under it: boot a guest
that spins, SIGKILL one of dmtvm's traced children (the guest kernel or
user process), and check dmtvm ends at once with status 1 and one line
naming the process and the signal (never a hang, never a crash), and that
no traced child outlives it (PTRACE_O_EXITKILL / PDEATHSIG).

usage: ptrace_kill_test.py DMTVM SPIN_IMAGE
"""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), ".."))
import dmtvm_platform  # noqa: E402


def children(pid):
    """dmtvm's traced children (TracerPid set): the guest kernel and user processes."""
    out = []
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/children") as f:
                kids = [int(x) for x in f.read().split()]
        except OSError:
            continue
        for k in kids:
            try:
                with open(f"/proc/{k}/status") as f:
                    tracer = [ln for ln in f if ln.startswith("TracerPid:")][0].split()[1]
            except (OSError, IndexError):
                continue
            if tracer != "0":
                out.append(k)
    return out


def main():
    dmtvm, img = sys.argv[1:3]
    why = dmtvm_platform.setup()
    if not why and os.environ["DMTVM_PLATFORM"] != "ptrace":
        why = "the tests run on KVM here; this checks the ptrace platform"
    if why:
        return dmtvm_platform.skip(why)
    p = subprocess.Popen([dmtvm, "run", "--timeout=30", img], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    kids = []
    for _ in range(100):
        time.sleep(0.05)
        kids = children(p.pid)
        if len(kids) >= 2:
            break
    print(f"dmtvm {p.pid}, traced children {kids}")
    if not kids:
        p.kill()
        print("FAIL: no traced children found")
        return 1
    time.sleep(0.3)  # the guest kernel is spinning now; kill the idle user process
    victim = max(kids)
    print(f"SIGKILL to {victim}")
    os.kill(victim, signal.SIGKILL)
    t0 = time.time()
    try:
        out, err = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        print("FAIL: dmtvm still running 10 s after its traced child was killed")
        return 1
    print(f"exit {p.returncode} after {time.time() - t0:.2f} s\n--- stderr\n{err}")
    bad = []
    if p.returncode != 1:
        bad.append(f"exit status {p.returncode}, expected 1")
    if "was killed by signal 9" not in err:
        bad.append("stderr does not name the killed process and signal 9")
    time.sleep(0.2)
    alive = [k for k in kids if os.path.exists(f"/proc/{k}") and
             open(f"/proc/{k}/stat").read().split()[2] != "Z"]
    if alive:
        bad.append(f"traced children outlived dmtvm: {alive}")
    for b in bad:
        print("FAIL: " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
