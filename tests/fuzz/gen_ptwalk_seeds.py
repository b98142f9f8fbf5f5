#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz_ptwalk target:
    tests/fuzz/corpus/fuzz_ptwalk/4l-*   4-level paging
    tests/fuzz/corpus/fuzz_ptwalk/pae-*  PAE paging (PDPTEs in the header)
    tests/fuzz/corpus/fuzz_ptwalk/32-*   32-bit paging
    tests/fuzz/corpus/fuzz_ptwalk/5l-*   5-level paging (refused)
The input layout is described at the top of fuzz_ptwalk.c. Every seed is
both walked (at the address) and visited (from it, for the length).
Run from anywhere; the seeds are committed, rerun only to change them."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

MODES = {"32": 0, "pae": 1, "4l": 2, "5l": 3}
P, RW, US, PS, NX = 1, 2, 4, 0x80, 1 << 63
TBL = P | RW | US


def seed(mode, tables, cr3=0x1000, gva=0, length=0xFFFFFFFFFFFFFFFF, pse=False, nxe=True, maxphys=39,
         budget=64, stop=0, verdicts=0, pdpte=(0, 0, 0, 0)):
    """tables: {gpa of a page: {index: entry}}; entries are 8 bytes, 4 in 32-bit paging."""
    width = 4 if mode == "32" else 8
    size = max(tables) + 4096 if tables else 0
    ram = bytearray(size)
    for page, entries in tables.items():
        for i, e in entries.items():
            ram[page + i * width:page + (i + 1) * width] = e.to_bytes(width, "little")
    flags = MODES[mode] | (4 if pse else 0) | (8 if nxe else 0) | (verdicts << 4)
    hdr = struct.pack("<BBBBQQQ", flags, maxphys - 32, budget, stop, cr3, gva, length)
    hdr += struct.pack("<4Q", *pdpte)
    assert len(hdr) == 60
    return hdr + bytes(ram)


def idx(gva, level, bits=9):
    return (gva >> (12 + bits * (level - 1))) & ((1 << bits) - 1)


GVA = (0x0A5 << 39) | (0x1C3 << 30) | (0x0F0 << 21) | (0x12D << 12) | 0x9AB
KVA = 0xFFFFFFFF80123456


def four_level(gva, leaf_level=1, leaf=0x5000 | P | RW | US, perms=(TBL, TBL, TBL)):
    t = {0x1000: {idx(gva, 4): 0x2000 | perms[0]}}
    if leaf_level == 3:
        t[0x2000] = {idx(gva, 3): leaf}
        return t
    t[0x2000] = {idx(gva, 3): 0x3000 | perms[1]}
    if leaf_level == 2:
        t[0x3000] = {idx(gva, 2): leaf}
        return t
    t[0x3000] = {idx(gva, 2): 0x4000 | perms[2]}
    t[0x4000] = {idx(gva, 1): leaf}
    return t


def space():
    """A small address space: user pages, a 2 MiB page, a 1 GiB page, the kernel half."""
    return {
        0x1000: {0: 0x2000 | TBL, 1: 0x6000 | P | RW, 511: 0x7000 | P | RW},
        0x2000: {0: 0x3000 | TBL},
        0x3000: {2: 0x4000 | TBL, 3: (8 << 20) | P | US | PS | NX},
        0x4000: {1: 0x5000 | P | RW | US, 2: 0x5000 | P | US, 511: 0x5000 | P},
        0x6000: {1: (3 << 30) | P | RW | US | PS},
        0x7000: {510: 0x8000 | P | RW},
        0x8000: {0: 0x9000 | P | RW},
        0x9000: {i: (i << 12) | P | RW for i in range(0, 512, 37)},
    }


# 32-bit paging: 0xc0a5b9ab is PDE 0x302, PTE 0x25b.
G32 = 0xC0A5B9AB
PDE32, PTE32 = G32 >> 22, (G32 >> 12) & 1023
# PAE: 0xc0a5b9ab is PDPTE 3, PDE 0x005, PTE 0x05b.
PDE_PAE, PTE_PAE = (G32 >> 21) & 511, (G32 >> 12) & 511

SEEDS = {
    "4l-4k": seed("4l", four_level(GVA), gva=GVA),
    "4l-4k-flags-and-available-bits": seed("4l", four_level(GVA, leaf=0x5000 | P | RW | (0x7F << 52) | (7 << 9)),
                                           gva=GVA),
    "4l-2m": seed("4l", four_level(GVA, 2, (6 << 20) | P | RW | PS | (1 << 12)), gva=GVA),
    "4l-1g": seed("4l", four_level(GVA, 3, (5 << 30) | P | US | PS | NX), gva=GVA),
    "4l-kernel-half": seed("4l", four_level(KVA), gva=KVA),
    "4l-space": seed("4l", space()),
    "4l-space-user-half": seed("4l", space(), length=0x7FFFFFFFFFFF, verdicts=5),
    "4l-space-skips": seed("4l", space(), verdicts=0xF, stop=3),
    "4l-noncanonical": seed("4l", four_level(GVA), gva=0x0000800000000000, length=1 << 60),
    "4l-reserved-address": seed("4l", four_level(GVA, perms=(TBL, TBL | (1 << 39), TBL)), gva=GVA),
    "4l-reserved-ps-in-pml4e": seed("4l", four_level(GVA, perms=(TBL | PS, TBL, TBL)), gva=GVA),
    "4l-reserved-large-low-bits": seed("4l", four_level(GVA, 2, (6 << 20) | (1 << 13) | P | PS), gva=GVA),
    "4l-reserved-xd-without-nxe": seed("4l", four_level(GVA, perms=(TBL, TBL | NX, TBL)), gva=GVA, nxe=False),
    "4l-maxphys-52": seed("4l", four_level(GVA, leaf=0x000FFFFFFFFFF000 | P), gva=GVA, maxphys=52),
    "4l-bad-table": seed("4l", {0x1000: {idx(GVA, 4): 0x40000000 | TBL}}, gva=GVA),
    "4l-self-loop": seed("4l", {0x1000: {i: 0x1000 | TBL for i in range(512)}}, gva=GVA, budget=20),
    "4l-not-present": seed("4l", four_level(GVA, perms=(TBL, TBL, TBL & ~P)), gva=GVA),
    "5l-refused": seed("5l", four_level(GVA), gva=GVA),
    "32-4k": seed("32", {0x1000: {PDE32: 0x2000 | TBL}, 0x2000: {PTE32: 0x3000 | P | RW}}, gva=G32),
    "32-4m-pse36": seed("32", {0x1000: {PDE32: 0x00400000 | (0xAB << 13) | P | RW | PS}}, gva=G32, pse=True,
                        maxphys=40),
    "32-ps-without-pse": seed("32", {0x1000: {PDE32: 0x2000 | TBL | PS}, 0x2000: {PTE32: 0x3000 | P}}, gva=G32),
    "32-reserved-bit-21": seed("32", {0x1000: {PDE32: 0x00400000 | (1 << 21) | P | PS}}, gva=G32, pse=True),
    "32-above-4g": seed("32", {0x1000: {0: 0x2000 | TBL}, 0x2000: {0: 0x3000 | P}}, gva=1 << 32),
    "32-space": seed("32", {0x1000: {0: 0x2000 | TBL, 0x300: 0x40000000 | P | PS, 1023: 0x2000 | P},
                            0x2000: {i: (i << 12) | P | US for i in range(0, 1024, 91)}}, pse=True),
    "pae-4k": seed("pae", {0x2000: {PDE_PAE: 0x3000 | TBL}, 0x3000: {PTE_PAE: 0x4000 | P | RW | NX}},
                   cr3=0x1020, gva=G32, pdpte=(0, 0, 0, 0x2000 | P)),
    "pae-2m": seed("pae", {0x2000: {PDE_PAE: (6 << 20) | P | US | PS | (1 << 12)}}, cr3=0x1020, gva=G32,
                   pdpte=(0x2000 | P, 0, 0x2000 | P, 0x2000 | P)),
    "pae-pdpte-reserved": seed("pae", {0x2000: {PDE_PAE: 0x3000 | TBL}}, cr3=0x1020, gva=G32,
                               pdpte=(0x2000 | P | RW, 0, 0, 0x2000 | P | (1 << 5))),
    "pae-pdpte-absent": seed("pae", {0x2000: {PDE_PAE: 0x3000 | TBL}}, gva=G32, pdpte=(0x2000 | P, 0, 0, 0)),
    "pae-high-bits-reserved": seed("pae", {0x2000: {PDE_PAE: 0x3000 | TBL | (1 << 52)}}, gva=G32,
                                   pdpte=(0, 0, 0, 0x2000 | P)),
    "pae-xd-without-nxe": seed("pae", {0x2000: {PDE_PAE: 0x3000 | TBL | NX}, 0x3000: {PTE_PAE: 0x4000 | P}},
                               gva=G32, nxe=False, pdpte=(0, 0, 0, 0x2000 | P)),
}


if __name__ == "__main__":
    d = os.path.join(HERE, "corpus", "fuzz_ptwalk")
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.remove(os.path.join(d, f))
    for name, data in SEEDS.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
