#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""mkimage test: build images from known files and check the header, the
checksum, the cpio newc listing (names, modes, sizes, contents), /init
selection, reproducibility and refusals.

usage: mkimage_test.py MKIMAGE KERNEL.elf
"""
import os
import struct
import subprocess
import sys
import tempfile
import zlib

HDR = struct.Struct("<8sII7QIIQ")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def cpio_list(data):
    out, off = [], 0
    while True:
        assert data[off:off + 6] == b"070701", f"bad cpio magic at {off}"
        f = [int(data[off + 6 + 8 * i: off + 14 + 8 * i], 16) for i in range(13)]
        mode, filesize, namesize = f[1], f[6], f[11]
        name = data[off + 110: off + 110 + namesize - 1].decode()
        off = (off + 110 + namesize + 3) & ~3
        body = data[off: off + filesize]
        off = (off + filesize + 3) & ~3
        if name == "TRAILER!!!":
            return out
        out.append((name, oct(mode), body))


def main():
    mkimage, kernel = sys.argv[1:3]
    with tempfile.TemporaryDirectory() as t:
        a = os.path.join(t, "a.txt")
        open(a, "w").write("alpha\n")
        os.chmod(a, 0o644)
        prog = os.path.join(t, "init")
        open(prog, "w").write("#!init\n")
        os.chmod(prog, 0o700)
        other = os.path.join(t, "other")
        open(other, "w").write("x" * 5)
        os.chmod(other, 0o644)
        img = os.path.join(t, "g.img")
        cmd = [mkimage, "-k", kernel, "-o", img, "-c", "quiet dmtvm.verbose",
               a, prog, other + "=/usr/share/x/y.dat"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        check(r.returncode == 0, f"mkimage runs ({r.stderr.strip()})")
        data = open(img, "rb").read()
        h = HDR.unpack_from(data)
        check(h[0] == b"DMTVMIMG" and h[1] == 1 and h[2] == 88 and h[3] == len(data),
              "header magic/version/size/file_size")
        check(h[4] == 4096 and data[h[4]:h[4] + h[5]] == open(kernel, "rb").read(),
              "kernel at 4096, byte-exact")
        check(data[h[8]:h[8] + h[9]] == b"quiet dmtvm.verbose", "command line")
        z = bytearray(data)
        z[72:76] = b"\0\0\0\0"
        check(zlib.crc32(bytes(z)) == h[10], "crc32 of the file with the field zeroed")
        lst = cpio_list(data[h[6]:h[6] + h[7]])
        check(lst == [("a.txt", oct(0o100644), b"alpha\n"), ("init", oct(0o100755), b"#!init\n"),
                      ("usr", oct(0o40755), b""), ("usr/share", oct(0o40755), b""),
                      ("usr/share/x", oct(0o40755), b""),
                      ("usr/share/x/y.dat", oct(0o100644), b"xxxxx")],
              f"cpio listing {lst}")
        img2 = os.path.join(t, "g2.img")
        subprocess.run(cmd[:4] + [img2] + cmd[5:], check=True)
        check(open(img2, "rb").read() == data, "reproducible")
        # -i names /init explicitly; a later file named init is then refused
        r = subprocess.run([mkimage, "-k", kernel, "-o", img, "-i", a, prog],
                           capture_output=True, text=True)
        check(r.returncode == 2 and "more than one /init" in r.stderr, "two /init refused")
        r = subprocess.run([mkimage, "-k", kernel, "-o", img, "-i", a], capture_output=True)
        check(cpio_list(open(img, "rb").read()[HDR.unpack_from(open(img, "rb").read())[6]:])
              [0][:2] == ("init", oct(0o100755)), "-i becomes /init, mode 0755")
        for bad in [a + "=/x/../etc", a + "=/", a + "=/dir/"]:
            r = subprocess.run([mkimage, "-k", kernel, "-o", img, bad], capture_output=True,
                               text=True)
            check(r.returncode == 2 and "bad destination" in r.stderr, f"refused {bad}")
        r = subprocess.run([mkimage, "-k", os.path.join(t, "nope"), "-o", img],
                           capture_output=True, text=True)
        check(r.returncode == 2 and "cannot read" in r.stderr, "missing kernel refused")
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
