#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_loader: small guest kernel images, valid and
broken, for loader_check (vmm/loader.c), into tests/fuzz/corpus/fuzz_loader/.
The machine they are meant for is the one in tests/fuzz/fuzz_loader.c: RAM at
0-0x9f000, 1 MiB-512 MiB and 4-5 GiB; vigil at 0x2000000-0x2030000 and
0x1ee00000-0x1fe00000; modules at 0x3000000, 0x3100000 and 0x4000000.
Run from anywhere; the seeds are committed, rerun only to change them."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "fuzz_loader")

MB2_MAGIC = 0xE85250D6
MB1_MAGIC = 0x1BADB002
PT_LOAD, PT_NOTE = 1, 4
PHOFF = 64          # program headers right after the ELF64 header
MBOFF = 0x200       # multiboot header
DATA = 0x300        # segment bytes
LEN = 0x400         # file length


def u32(v):
    return v & 0xFFFFFFFF


def elf(cls, entry, phdrs, mb=b"", mboff=MBOFF, length=LEN, machine=None, etype=2, data=1,
        phentsize=None):
    """An ELF image: header, program headers (type, offset, vaddr, paddr,
    filesz, memsz), the multiboot header bytes at mboff, filler elsewhere."""
    img = bytearray(max(length, mboff + len(mb)))
    is64 = cls == 64
    machine = (62 if is64 else 3) if machine is None else machine
    phentsize = (56 if is64 else 32) if phentsize is None else phentsize
    ident = b"\x7fELF" + bytes([2 if is64 else 1, data, 1]) + b"\0" * 9
    if is64:
        hdr = ident + struct.pack("<HHIQQQIHHHHHH", etype, machine, 1, entry, PHOFF, 0, 0,
                                  64, phentsize, len(phdrs), 0, 0, 0)
    else:
        hdr = ident + struct.pack("<HHIIIIIHHHHHH", etype, machine, 1, u32(entry), PHOFF, 0, 0,
                                  52, phentsize, len(phdrs), 0, 0, 0)
    img[0:len(hdr)] = hdr
    for i in range(DATA, len(img)):
        img[i] = 0x90                              # segment bytes: a nop sled
    at = PHOFF
    for (t, off, vaddr, paddr, filesz, memsz) in phdrs:
        if is64:
            ph = struct.pack("<IIQQQQQQ", t, 7, off, vaddr, paddr, filesz, memsz, 0x1000)
        else:
            ph = struct.pack("<IIIIIIII", t, u32(off), u32(vaddr), u32(paddr), u32(filesz),
                             u32(memsz), 7, 0x1000)
        img[at:at + len(ph)] = ph
        at += len(ph)
    img[mboff:mboff + len(mb)] = mb
    return bytes(img[:length])


def mb2_tag(type_, body=b"", flags=0, size=None):
    size = 8 + len(body) if size is None else size
    raw = struct.pack("<HHI", type_, flags, size) + body
    return raw + b"\0" * (-len(raw) % 8)


def mb2(*tags, arch=0, end=True, hlen=None, checksum=None):
    body = b"".join(tags) + (mb2_tag(0) if end else b"")
    hlen = 16 + len(body) if hlen is None else hlen
    checksum = u32(-(MB2_MAGIC + arch + hlen)) if checksum is None else checksum
    return struct.pack("<IIII", MB2_MAGIC, arch, hlen, checksum) + body


def mb1(flags=3, checksum=None):
    checksum = u32(-(MB1_MAGIC + flags)) if checksum is None else checksum
    return struct.pack("<III", MB1_MAGIC, flags, checksum)


def load(paddr, off=DATA, filesz=0x100, memsz=0x1000, vaddr=None):
    return (PT_LOAD, off, paddr if vaddr is None else vaddr, paddr, filesz, memsz)


HH = 0xFFFFFFFF80000000        # higher-half base

SEEDS = {
    "valid-elf64-mb2": elf(64, 0x100000, [load(0x100000)], mb2()),
    "valid-elf32-mb1": elf(32, 0x100000, [load(0x100000)], mb1()),
    "valid-elf32-mb2": elf(32, 0x100010, [load(0x100000)], mb2()),
    "valid-higher-half": elf(64, HH + 0x200040,
                             [load(0x100000, vaddr=HH + 0x100000),
                              load(0x200000, filesz=0x80, memsz=0x8000, vaddr=HH + 0x200000)],
                             mb2(mb2_tag(1, struct.pack("<IIII", 1, 4, 6, 15)))),
    "valid-entry-tag": elf(64, 0, [load(0x100000), (PT_NOTE, DATA, 0, 0, 0x10, 0x10)],
                           mb2(mb2_tag(3, struct.pack("<I", 0x100080)),
                               mb2_tag(5, struct.pack("<III", 800, 600, 32), flags=1),
                               mb2_tag(10, struct.pack("<III", 0x100000, 0x1000000, 0x1000)))),
    "accepted-segment-above-4g": elf(64, 0x100000, [load(0x100000), load(0x100000000)], mb2()),
    "bad-entry-above-4g": elf(64, 0x100000010, [load(0x100000000)], mb2()),
    "bad-mb2-checksum": elf(64, 0x100000, [load(0x100000)], mb2(checksum=0)),
    "bad-mb2-no-end": elf(64, 0x100000, [load(0x100000)], mb2(mb2_tag(4, b"\0" * 4), end=False)),
    "bad-mb2-required-fb": elf(64, 0x100000, [load(0x100000)],
                               mb2(mb2_tag(5, struct.pack("<III", 800, 600, 32)))),
    "bad-mb2-info-request": elf(64, 0x100000, [load(0x100000)], mb2(mb2_tag(1, struct.pack("<I", 5)))),
    "bad-mb1-video": elf(32, 0x100000, [load(0x100000)], mb1(flags=7)),
    "bad-segment-over-vigil": elf(64, 0x100000, [load(0x100000), load(0x2000000)], mb2()),
    "bad-segment-over-module": elf(32, 0x100000, [load(0x100000), load(0x4000000)], mb1()),
    "bad-segments-overlap": elf(64, 0x100000, [load(0x100000), load(0x100800)], mb2()),
    "bad-segment-truncated": elf(64, 0x100000, [load(0x100000, filesz=0x200)], mb2()),
    "bad-17-segments": elf(64, 0x100000, [load(0x100000 + i * 0x1000) for i in range(17)], mb2(),
                           mboff=0x400, length=0x800),
    "bad-segment-wraps": elf(64, 0x100000, [load(0x100000), load(0xFFFFFFFFFFFFF000, memsz=0x2000)],
                             mb2()),
    "bad-entry-outside": elf(64, 0x300000, [load(0x100000)], mb2()),
    "bad-phdrs-past-eof": elf(64, 0x100000, [load(0x100000)] * 40, mb2()),
    "bad-big-endian": elf(64, 0x100000, [load(0x100000)], mb2(), data=2),
    "bad-machine": elf(32, 0x100000, [load(0x100000)], mb1(), machine=62),
    "bad-no-multiboot": elf(64, 0x100000, [load(0x100000)]),
    "bad-truncated-header": elf(64, 0x100000, [load(0x100000)], mb2())[:60],
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in SEEDS.items():
        assert len(data) < 8192, name
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
