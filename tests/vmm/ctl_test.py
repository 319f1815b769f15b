#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Control-socket test: boots a guest that never exits with --api-sock and
checks status, counters, reset, quit, malformed JSON, unknown commands, oversized
and pipelined requests, two clients at once, `dmtvm ctl`, socket mode 0600.

usage: ctl_test.py DMTVM SPIN.img
"""
import json
import os
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ctlclient import Client  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), ".."))
import dmtvm_platform  # noqa: E402

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def main():
    why = dmtvm_platform.setup()
    if why:
        return dmtvm_platform.skip(why)
    dmtvm, image = sys.argv[1:3]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "api.sock")
        vm = subprocess.Popen([dmtvm, "run", "--api-sock=" + path, "--timeout=30", image],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(200):
            if os.path.exists(path):
                break
            time.sleep(0.01)
        check(os.path.exists(path), "socket created")
        check(stat.S_IMODE(os.stat(path).st_mode) == 0o600, "socket mode is 0600")
        a, b = Client(path), Client(path)

        st = a.call({"execute": "status"})["return"]
        check(st["mode"] == "ept" and st["mem"] == 256 << 20 and st["vcpus"] == 1,
              f"status mode/mem/vcpus: {st}")
        check(st["state"] in ("booting", "running") and st["uptime_us"] > 0,
              "status state and uptime")
        # the test guest sends INIT_STARTED (one io exit) before it spins
        for _ in range(200):
            st2 = a.call({"execute": "status"})["return"]
            if st2["boot_us"] is not None:
                break
            time.sleep(0.01)
        check(set(st2["exits"]) >= {"io", "mmio", "shutdown"} and st2["exits"]["io"] == 1
              and st2["hypercalls"]["init_started"] == 1, "status exits by reason")
        check(isinstance(st2["boot_us"], int) and 0 < st2["boot_us"] < st2["uptime_us"],
              "boot_us set after INIT_STARTED")
        check(st2["uptime_us"] > st["uptime_us"], "uptime advances")

        # The model's counters (no schemes in a build without the model): the
        # spinning guest traces nothing, so every scheme counts zero.
        cn = b.call({"execute": "counters"})["return"]
        check(cn["schema"] == "dmtvm.counters/1" and
              all(s["accesses"] == 0 for s in cn["schemes"].values()), "counters (client B)")
        check(b.call({"command": "status"})["return"]["mode"] == "ept", "\"command\" accepted")

        e = a.call("{bad json")
        check(e.get("error", {}).get("class") == "GenericError", f"malformed JSON: {e}")
        check("return" in a.call({"execute": "status"}), "connection usable after bad JSON")
        for bad in ['[1,2]', '{"execute": 5}', '{"execute":"status",}', '{"execute":"status"} x',
                    '{"execute":"status","execute":"quit"}', '{"arguments":{}}',
                    '{"execute":"status","arguments":[]}', '"\\u00zz"', '{"a":01}',
                    '{"execute":"st\x01"}']:
            e = a.call(bad)
            check(e.get("error", {}).get("class") == "GenericError", f"refused {bad!r}")
        e = b.call({"execute": "reboot"})
        check(e.get("error", {}).get("class") == "CommandNotFound", f"unknown command: {e}")
        check(b.call({"execute": "status", "arguments": {"x": [1, {"y": None}]},
                      "id": 7})["return"]["vcpus"] == 1, "arguments object and extra members")

        a.send(b'{"execute":"counters"}\n{"execute":"status"}\n')
        r1, r2 = a.line(), a.line()
        check("schema" in r1["return"] and "mode" in r2["return"], "pipelined requests in order")
        a.send(b'{"execute":')
        time.sleep(0.05)
        a.send(b'"counters"}\n')
        check("schema" in a.line()["return"], "request split across writes")
        a.send(b'{"execute":"status","pad":"' + b"x" * 5000 + b'"}\n')
        e = a.line()
        check("4096" in e.get("error", {}).get("desc", ""), f"oversized request refused: {e}")
        check("return" in a.call({"execute": "status"}), "connection usable after oversized")

        check(a.call({"execute": "reset"}) == {"return": {}}, "reset replies")
        st3 = a.call({"execute": "status"})["return"]
        check(all(v == 0 for v in st3["exits"].values()) and
              all(v == 0 for v in st3["hypercalls"].values()) and
              st3["boot_us"] == st2["boot_us"], f"reset zeroes the counters, keeps boot_us: {st3}")
        r = subprocess.run([dmtvm, "ctl", path, "status"], capture_output=True, text=True)
        check(r.returncode == 0 and json.loads(r.stdout)["return"]["mode"] == "ept",
              "dmtvm ctl status exits 0")
        r = subprocess.run([dmtvm, "ctl", path, "nope"], capture_output=True, text=True)
        check(r.returncode == 1 and "CommandNotFound" in r.stdout, "dmtvm ctl nope exits 1")
        check(vm.poll() is None, "guest still running")

        check(b.call({"execute": "quit"}) == {"return": {}}, "quit replies")
        try:
            out, err = vm.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            vm.kill()
            out, err = vm.communicate()
        check(vm.returncode == 0, f"dmtvm exits 0 after quit (rc {vm.returncode}): {err!r}")
        check("quit requested" in err, "quit is reported on stderr")
        check(not os.path.exists(path), "socket file removed at exit")
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
