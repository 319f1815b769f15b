#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Negative guest.img tests: corrupt a good image in every way the reader
must catch, then check that `dmtvm run` refuses each with exactly one line
on stderr naming the problem and exit status 2 (no crash), and that the
ASan+UBSan build of the reader (image_check) refuses it too.

usage: badimg_test.py DMTVM IMAGE_CHECK GOOD.img
"""
import os
import struct
import subprocess
import sys
import tempfile
import zlib

HDR = struct.Struct("<8sII7QIIQ")  # vmm/image_format.h, 88 bytes
assert HDR.size == 88


def fields(img):
    f = list(HDR.unpack_from(img))
    keys = ["magic", "version", "header_size", "file_size", "kernel_off", "kernel_size",
            "initrd_off", "initrd_size", "cmdline_off", "cmdline_size", "crc32", "reserved",
            "flags"]
    return dict(zip(keys, f)), keys


def pack(d, keys, body):
    d = dict(d)
    d["crc32"] = 0
    raw = bytearray(HDR.pack(*[d[k] for k in keys]) + bytes(body[HDR.size:]))
    crc = zlib.crc32(bytes(raw)) & 0xffffffff
    struct.pack_into("<I", raw, 72, crc)
    return bytes(raw)


def with_header(img, **changes):
    d, keys = fields(img)
    d.update(changes)
    return pack(d, keys, img)


def with_kernel_edit(img, edit):
    """Apply edit(bytearray kernel) and re-checksum."""
    d, keys = fields(img)
    body = bytearray(img)
    k = bytearray(body[d["kernel_off"]:d["kernel_off"] + d["kernel_size"]])
    edit(k)
    body[d["kernel_off"]:d["kernel_off"] + d["kernel_size"]] = k
    return pack(d, keys, body)


def first_load_phdr(k):
    phoff, = struct.unpack_from("<Q", k, 32)
    phentsize, phnum = struct.unpack_from("<HH", k, 54)
    for i in range(phnum):
        off = phoff + i * phentsize
        if struct.unpack_from("<I", k, off)[0] == 1:
            return off
    raise SystemExit("no PT_LOAD in the good image's kernel")


def set_paddr(value):
    def edit(k):
        struct.pack_into("<Q", k, first_load_phdr(k) + 24, value)
    return edit


def set_sizes(filesz, memsz):
    def edit(k):
        off = first_load_phdr(k)
        struct.pack_into("<QQ", k, off + 32, filesz, memsz)
    return edit


def set_entry(value):
    def edit(k):
        struct.pack_into("<Q", k, 24, value)
    return edit


def main():
    dmtvm, image_check, good_path = sys.argv[1:4]
    good = open(good_path, "rb").read()
    d, _ = fields(good)
    flip = bytearray(good)
    flip[d["kernel_off"] + 100] ^= 0x40
    cmd_nul = bytearray(good)
    cases = [
        # name, bytes (or callable writing the file), expected stderr substring, extra args
        ("empty", b"", "truncated"),
        ("short-header", good[:40], "truncated"),
        ("truncated", good[:len(good) // 2], "truncated"),
        ("padded", good + b"\0" * 100, "padded"),
        ("bad-magic", b"DMTVMIMX" + good[8:], "bad magic"),
        ("elf-not-image", good[d["kernel_off"]:d["kernel_off"] + d["kernel_size"]], "bad magic"),
        ("bad-checksum", bytes(flip), "checksum mismatch"),
        ("version-2", with_header(good, version=2), "version 2"),
        ("header-size", with_header(good, header_size=4096), "header size"),
        ("flags", with_header(good, flags=1), "reserved/flags"),
        ("kernel-absurd-size", with_header(good, kernel_size=1 << 63), "kernel section"),
        ("kernel-empty", with_header(good, kernel_size=0), "kernel section is empty"),
        ("kernel-in-header", with_header(good, kernel_off=8), "kernel section"),
        ("initrd-offset-overflow", with_header(good, initrd_off=(1 << 64) - 8, initrd_size=16),
         "initramfs section"),
        ("initrd-absurd-size", with_header(good, initrd_size=(1 << 64) - 1), "initramfs section"),
        ("cmdline-too-long", with_header(good, cmdline_off=d["kernel_off"], cmdline_size=5000),
         "command line of 5000 bytes"),
        ("cmdline-nul", with_header(good, cmdline_off=d["kernel_off"] + 4, cmdline_size=8),
         "NUL byte"),
        ("kernel-not-elf", with_kernel_edit(good, lambda k: k.__setitem__(0, 0)), "not a little-endian ELF64"),
        ("segment-outside-ram", with_kernel_edit(good, set_paddr(0x3ff00000)), "outside RAM"),
        ("segment-paddr-overflow", with_kernel_edit(good, set_paddr((1 << 64) - 4096)),
         "outside RAM"),
        ("segment-over-boot-tables", with_kernel_edit(good, set_paddr(0x10000)), "outside RAM"),
        ("segment-filesz-gt-memsz", with_kernel_edit(good, set_sizes(0x100000, 0x10)),
         "p_filesz"),
        ("segment-file-range", with_kernel_edit(good, set_sizes(1 << 40, 1 << 41)),
         "outside the"),
        ("segment-huge-memsz", with_kernel_edit(good, set_sizes(0x10, 1 << 62)), "outside RAM"),
        ("entry-outside", with_kernel_edit(good, set_entry(0xffffffff90000000)),
         "not in an executable segment"),
        ("absurd-file-size", None, "images are limited to"),
    ]
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, data, expect in cases:
            path = os.path.join(tmp, name + ".img")
            if data is None:
                with open(path, "wb") as f:  # sparse: costs no disk
                    f.truncate((1 << 30) + 4096)
            else:
                open(path, "wb").write(data)
            r = subprocess.run([dmtvm, "run", "--mem=16M", path], capture_output=True,
                               text=True, timeout=20)
            lines = r.stderr.splitlines()
            ok = r.returncode == 2 and len(lines) == 1 and expect in lines[0] and r.stdout == ""
            c = subprocess.run([image_check, "--mem=16777216", path], capture_output=True,
                               text=True, timeout=60)
            cok = c.returncode == 2 and c.stdout.startswith("refused") and expect in c.stdout \
                and "Sanitizer" not in c.stderr and "runtime error" not in c.stderr
            status = "ok" if ok and cok else "FAIL"
            print(f"{status:4} {name:26} dmtvm rc={r.returncode} {lines!r}")
            if not cok:
                print(f"     image_check rc={c.returncode} {c.stdout.strip()!r} {c.stderr[-400:]!r}")
            failures += not (ok and cok)
        # The good image passes the ASan reader (the test can tell good from bad).
        c = subprocess.run([image_check, good_path], capture_output=True, text=True, timeout=60)
        print(("ok  " if c.returncode == 0 else "FAIL") + " good image: " + c.stdout.strip())
        failures += c.returncode != 0
    print(f"{len(cases) + 1 - failures}/{len(cases) + 1} passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
