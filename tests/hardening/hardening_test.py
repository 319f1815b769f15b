#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Hostile guests and control-socket clients against dmtvm: each case has a
bounded, exact outcome (README.md).

usage: hardening_test.py CASE DMTVM BUILDDIR SPIN.img
  storm             100000 bad hypercalls: all get their error code, exit 0, < 30 s
  storm-timeout     a hypercall storm that never ends: --timeout=1 stops it (124) in < 5 s
  flood-devnull     console flood to /dev/null: --timeout=1 -> 124, < 5 s
  flood-stuck-pipe  console flood into a pipe nobody reads (vCPU blocked in write):
                    --timeout=1 still ends the run (124) in < 5 s
  ctl-clients       40 concurrent clients: 16 served, 24 get "too many clients" and EOF;
                    a freed slot is reused; the VM is unaffected
  ctl-idle          16 clients that connect and never send: a 17th is refused, and
                    after one idle client leaves, a new client is served at once; once
                    the idle ones are 2 s old, a newcomer takes the idlest one's slot
                    (that client gets "closed: idle while the server was full" + EOF)
  ctl-abuse         1 MiB without newline, 10000 pipelined requests never read,
                    binary junk, half-closed sockets: the server stays up and serves
"""
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vmm"))
from ctlclient import Client  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), ".."))
import dmtvm_platform  # noqa: E402

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def run_timed(cmd, stdout=subprocess.PIPE, limit=60):
    t = time.monotonic()
    r = subprocess.run(cmd, stdout=stdout, stderr=subprocess.PIPE, timeout=limit)
    return r, time.monotonic() - t


def case_storm(dmtvm, bdir, _spin):
    r, dt = run_timed([dmtvm, "run", "--mem=32M", os.path.join(bdir, "hard-hcstorm.img")])
    print(r.stderr.decode(errors="replace"))
    check(r.returncode == 0, f"storm exit status {r.returncode} == 0")
    check(r.stdout == b"storm 100000 bad 0\n", f"storm stdout {r.stdout!r}")
    check("exits 1000" in r.stderr.decode(), "report counts >= 100000 exits")
    check(dt < 30, f"100000 bad hypercalls in {dt:.1f} s < 30 s")


def case_storm_timeout(dmtvm, bdir, _spin):
    r, dt = run_timed([dmtvm, "run", "--timeout=1", "--mem=32M",
                       os.path.join(bdir, "hard-hcstorm-forever.img")])
    check(r.returncode == 124, f"endless storm: exit {r.returncode} == 124")
    check(b"--timeout=1 s" in r.stderr, "timeout message")
    check(dt < 5, f"ended in {dt:.1f} s < 5 s")


def case_flood_devnull(dmtvm, bdir, _spin):
    with open(os.devnull, "wb") as null:
        r, dt = run_timed([dmtvm, "run", "--timeout=1", "--mem=32M",
                           os.path.join(bdir, "hard-flood.img")], stdout=null)
    check(r.returncode == 124, f"flood: exit {r.returncode} == 124")
    check(dt < 5, f"ended in {dt:.1f} s < 5 s")


def case_flood_limit(dmtvm, bdir, _spin):
    """--console-limit keeps exactly that many bytes, says so once, guest runs on."""
    r, dt = run_timed([dmtvm, "run", "--timeout=1", "--mem=32M", "--console-limit=100K",
                       os.path.join(bdir, "hard-flood.img")])
    check(r.returncode == 124, f"flood-limit: exit {r.returncode} == 124")
    check(len(r.stdout) == 100 * 1024, f"kept {len(r.stdout)} == 102400 bytes")
    check(r.stderr.count(b"reached --console-limit") == 1, "one limit message")
    check(dt < 5, f"ended in {dt:.1f} s < 5 s")


def case_flood_stuck_pipe(dmtvm, bdir, _spin):
    rd, wr = os.pipe()  # never read: the pipe fills (64 KiB) and write(2) blocks
    t = time.monotonic()
    p = subprocess.Popen([dmtvm, "run", "--timeout=1", "--mem=32M",
                          os.path.join(bdir, "hard-flood.img")], stdout=wr,
                         stderr=subprocess.PIPE)
    os.close(wr)
    try:
        _, err = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
    dt = time.monotonic() - t
    check(p.returncode == 124, f"stuck pipe: exit {p.returncode} == 124 ({err[-200:]!r})")
    check(dt < 5, f"ended in {dt:.1f} s < 5 s")
    os.close(rd)


BUSY = {"error": {"class": "GenericError", "desc": "too many clients"}}


def with_vm(spin, dmtvm, fn):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "api.sock")
        vm = subprocess.Popen([dmtvm, "run", "--api-sock=" + path, "--timeout=60", spin],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(500):  # the file appears at bind(), connects work after listen()
            try:
                Client(path).s.close()
                break
            except (FileNotFoundError, ConnectionRefusedError):
                time.sleep(0.01)
        time.sleep(0.05)  # the probe connection's slot is freed on the server's next poll
        try:
            fn(path)
            c = Client(path)
            check("return" in c.call({"execute": "status"}), "status still served at the end")
            check("return" in c.call({"execute": "quit"}), "quit accepted")
        finally:
            try:
                out, err = vm.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                vm.kill()
                out, err = vm.communicate()
        check(vm.returncode == 0, f"VM ended by quit with status {vm.returncode} == 0")
        print(err.decode(errors="replace"))


def case_ctl_clients(dmtvm, _bdir, spin):
    def body(path):
        clients = [Client(path) for _ in range(40)]
        served = refused = 0
        for c in clients:
            try:  # a refused client's socket is closed by the server: EPIPE here
                c.s.sendall(b'{"execute":"status"}\n')
            except (BrokenPipeError, ConnectionResetError):
                pass
            r = c.line()
            if "return" in r:
                served += 1
            elif r == BUSY and c.eof():
                refused += 1
        check(served == 16, f"{served} of 40 concurrent clients served == 16")
        check(refused == 24, f"{refused} refused with 'too many clients' + EOF == 24")
        live = [c for c in clients[:16]]
        live[3].s.close()
        time.sleep(0.2)  # the server notices the EOF on its next poll()
        n = Client(path)
        check("return" in n.call({"execute": "status"}), "a freed slot serves a new client")
        check("return" in live[0].call({"execute": "counters"}), "old clients still served")
        for c in live:
            c.s.close()
        n.s.close()
    with_vm(spin, dmtvm, body)


def case_ctl_idle(dmtvm, _bdir, spin):
    def body(path):
        idle = [Client(path) for _ in range(16)]
        time.sleep(0.2)
        extra = Client(path)
        check(extra.line() == BUSY and extra.eof(), "17th client refused while 16 sit idle")
        # A slow client: half a request, never finished, does not block others.
        idle[0].s.sendall(b'{"execute":')
        idle[1].s.close()
        time.sleep(0.2)
        t = time.monotonic()
        c = Client(path)
        check("return" in c.call({"execute": "status"}), "new client served next to idle ones")
        check(time.monotonic() - t < 2, "served at once")
        # Full again (c took the freed slot). After 2 s without a complete
        # request, the idlest (idle[0], accepted first, half a request since)
        # is evicted for a newcomer; the busy client c keeps its slot.
        time.sleep(1.0)
        check("return" in c.call({"execute": "status"}), "busy client served")
        time.sleep(1.3)
        n = Client(path)
        check("return" in n.call({"execute": "status"}), "newcomer served once idle ones are 2 s old")
        gone = idle[0].line()
        check("idle" in gone.get("error", {}).get("desc", "") and idle[0].eof(),
              f"idlest client evicted with one line + EOF: {gone}")
        check("return" in c.call({"execute": "status"}), "busy client kept its slot")
        for x in idle[2:] + [idle[0], c, n]:
            x.s.close()
    with_vm(spin, dmtvm, body)


def case_ctl_abuse(dmtvm, _bdir, spin):
    def body(path):
        a = Client(path)
        a.s.sendall(b"x" * (1 << 20))  # 1 MiB, no newline: one error, then skipped
        a.s.sendall(b"\n")
        e = a.line()
        check("4096" in e.get("error", {}).get("desc", ""), f"1 MiB line refused once: {e}")
        check("return" in a.call({"execute": "status"}), "same client usable afterwards")
        # Junk: NUL bytes, invalid UTF-8, deep nesting, a huge number.
        for junk in [b"\x00\xff\xfe\n", b"[" * 4000 + b"\n", b'{"execute":1e999999}\n',
                     b'{"execute":"status","x":"\xc0\xaf"}\n']:
            a.s.sendall(junk)
            r = a.line()
            check("error" in r, f"junk {junk[:12]!r}... -> error reply")
        # A client that pipelines 10000 requests and never reads: dropped, not waited for.
        b = Client(path)
        b.s.setblocking(False)
        sent, dropped = 0, False
        req = b'{"execute":"counters"}\n' * 100
        t = time.monotonic()
        while sent < 10000 and time.monotonic() - t < 10:
            try:
                sent += b.s.send(req) // len(b'{"execute":"counters"}\n')
            except BlockingIOError:
                time.sleep(0.01)
            except (BrokenPipeError, ConnectionResetError):
                dropped = True
                break
        check(dropped, f"a client that never reads is dropped (after {sent} requests)")
        c = Client(path)
        check("return" in c.call({"execute": "status"}), "others served while one never reads")
        # Half-closed: send a request then shut down writing; the reply still comes.
        d = Client(path)
        d.s.sendall(b'{"execute":"status"}\n')
        d.s.shutdown(socket.SHUT_WR)
        check("return" in d.line(), "half-closed client gets its reply")
        for x in (a, b, c, d):
            x.s.close()
    with_vm(spin, dmtvm, body)


def main():
    why = dmtvm_platform.setup()
    if why:
        return dmtvm_platform.skip(why)
    case, dmtvm, bdir, spin = sys.argv[1:5]
    globals()["case_" + case.replace("-", "_")](dmtvm, bdir, spin)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
