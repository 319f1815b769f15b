#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpus of fuzz_walk.c (corpus/walk/): well-formed native,
EPT and DMT layouts the fuzzer then mutates. Layout: fuzz_walk.c header."""
import os
import random
import struct
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "walk")
os.makedirs(out, exist_ok=True)


def seed(name, sel, cr3, ept, ept12, regs, vas, frames, flags=0):
    h = bytearray(128)
    h[0], h[1] = sel, flags
    struct.pack_into("<QQQ", h, 8, cr3, ept, ept12)
    for i, (a, b) in enumerate(regs):
        struct.pack_into("<QQ", h, 32 + 16 * i, a, b)
    for i, v in enumerate(vas):
        struct.pack_into("<Q", h, 80 + 8 * i, v)
    body = b"".join(bytes(f) for f in frames)
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes(h) + body)


def table(entries):
    f = bytearray(4096)
    for i, e in entries.items():
        struct.pack_into("<Q", f, 8 * i, e)
    return f


# frames: 0 data, 1 PML4, 2 PDPT, 3 PD, 4 PT (leaf: TEA), 5 data, 6 EPT PML4, 7 EPT PDPT (1 GiB)
native = [table({}), table({0: 0x2007}), table({0: 0x3007}), table({0: 0x4007, 1: 0x200087}),
          table({i: (0x5000 + i * 0x1000) | 7 for i in range(16)}), table({}),
          table({0: 0x7007}), table({0: 0x87})]
vas = [0x1000, 0x2008, 0x3ff8, 0x201000, 0x400000, 0xffff800000000000]
seed("native", 0x00, 0x1000, 0, 0, [], vas, native)
seed("ept", 0x01, 0x1000, 0x6000, 0, [], vas, native)
# DMT: guest register over [0, 2 MiB) with TEA at 0x4000 (the PT frame), shift 12
seed("dmt", 0x05, 0x1000, 0x6000, 0, [(0, 0x4000 << 8 | 0)], vas, native)
seed("dmt-host", 0x0d, 0x1000, 0x6000, 0, [(0, 0x4000 << 8), (0, 0x4000 << 8)], vas, native)
seed("nested", 0x03 | 0x10, 0x1000, 0x6000, 0x6000, [], vas, native)
seed("nested-dmt", 0x0f | 0x20, 0x1000, 0x6000, 0x6000,
     [(0, 0x4000 << 8 | 4), (0, 0x4000 << 8), (0, 0x4000 << 8)], vas, native, flags=1)
# Reserved bits, PS in the PML4E, self-referencing tables, a 1 GiB guest leaf.
bad = [table({}), table({0: 0x1007, 1: 0x87, 2: 0xfff0000000002007}), table({0: 0x2007}),
       table({0: 0x3007}), table({}), table({}), table({0: 0x6007, 1: 0x7ff}), table({0: 0xff})]
seed("loops", 0x01, 0x1000, 0x6000, 0, [], [0, 0x8000000000, 0x10000000000, 0x40000000, 8, 0x7ffffffff000], bad)
rnd = random.Random(8)
for i in range(4):
    frames = [bytes(rnd.getrandbits(8) for _ in range(4096)) for _ in range(1 + i)]
    seed(f"random{i}", rnd.getrandbits(8), rnd.getrandbits(41), rnd.getrandbits(41),
         rnd.getrandbits(41), [(rnd.getrandbits(64), rnd.getrandbits(64)) for _ in range(3)],
         [rnd.getrandbits(64) for _ in range(6)], frames)
