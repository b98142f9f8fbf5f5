#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_linuxboot: small bzImage-shaped files,
valid and broken, for linux_parse (vmm/linuxboot.c), into
tests/fuzz/corpus/fuzz_linuxboot/. The header values are those of Debian's
6.1 kernel. The last two bytes of a seed longer than 0x300 pick the command
line's length (times 9) and, in bit 0, an initrd (see fuzz_linuxboot.c).
Run from anywhere; the seeds are committed, rerun only to change them."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "fuzz_linuxboot")


def bzimage(version=0x020F, setup_sects=4, pm=0x800, init_size=0x3F98000, pref=0x1000000, align=0x200000,
            reloc=1, loadflags=1, hdrlen=106, magic=b"HdrS", initrd_max=0x7FFFFFFF, cmdline_size=0x7FF,
            syssize=None, tail=(20, 1), truncate=None):
    setup = (setup_sects + 1) * 512
    img = bytearray(setup + pm)
    img[0x1F1] = setup_sects
    struct.pack_into("<I", img, 0x1F4, (pm if syssize is None else syssize) // 16)
    struct.pack_into("<H", img, 0x1FE, 0xAA55)
    img[0x200], img[0x201] = 0xEB, hdrlen
    img[0x202:0x206] = magic
    struct.pack_into("<H", img, 0x206, version)
    img[0x211] = loadflags
    struct.pack_into("<I", img, 0x214, 0x100000)
    struct.pack_into("<III", img, 0x22C, initrd_max, align, 0)
    img[0x234], img[0x235] = reloc, 21
    struct.pack_into("<HI", img, 0x236, 0x7F, cmdline_size)
    struct.pack_into("<QI", img, 0x258, pref, init_size)
    img[-2:] = bytes(tail)
    return bytes(img[:truncate] if truncate else img)


SEEDS = {
    "debian-6.1": bzimage(),
    "debian-6.1-initrd-long-cmdline": bzimage(tail=(200, 1)),
    "fits-at-pref": bzimage(init_size=0x800000, tail=(0, 0)),
    "not-relocatable": bzimage(reloc=0),
    "proto-2.11": bzimage(version=0x020B),
    "proto-2.12": bzimage(version=0x020C),
    "wrong-magic": bzimage(magic=b"HdrT"),
    "truncated-header": bzimage(truncate=0x250),
    "truncated-kernel": bzimage(syssize=0x1000),
    "zimage": bzimage(loadflags=0),
    "header-too-long": bzimage(hdrlen=0xFF),
    "setup-sects-0": bzimage(setup_sects=0),
    "initrd-max-low": bzimage(initrd_max=0x2900000),
    "huge-init-size": bzimage(init_size=0x1D000000),
    "cmdline-size-0": bzimage(cmdline_size=0, tail=(1, 0)),
    "bad-alignment": bzimage(align=0x300000),
}

os.makedirs(OUT, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print(f"{len(SEEDS)} seeds in {OUT}")
