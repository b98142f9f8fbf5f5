#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets:
    tests/fuzz/corpus/fuzz_multiboot2/*  multiboot2 information structures
    tests/fuzz/corpus/fuzz_cmdline/*     one size byte, then a command line
Run from anywhere; the seeds are committed, rerun only to change them."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def tag(type_, body=b"", size=None):
    """A tag: header (type, size) and body, padded to 8 bytes."""
    size = 8 + len(body) if size is None else size
    raw = struct.pack("<II", type_, size) + body
    return raw + b"\0" * (-len(raw) % 8)


def string(type_, s):
    return tag(type_, s.encode() + b"\0")


def module(start, end, line):
    return tag(3, struct.pack("<II", start, end) + line.encode() + b"\0")


def mmap(entries, esize=24):
    body = struct.pack("<II", esize, 0)
    for base, length, type_ in entries:
        e = struct.pack("<QQII", base, length, type_, 0)
        body += e + b"\0" * (esize - len(e))
    return tag(6, body)


def rsdp(rev):
    r = bytearray(36)
    r[0:8] = b"RSD PTR "
    r[9:15] = b"VIGIL "
    r[15] = 2 if rev == 2 else 0
    r[16:20] = struct.pack("<I", 0x7FFE1000)
    r[20:24] = struct.pack("<I", 36)
    r[24:32] = struct.pack("<Q", 0x7FFE2000)
    r[8] = -sum(r[:20]) & 0xFF
    r[32] = -sum(r) & 0xFF
    return tag(14, bytes(r[:20])) if rev == 1 else tag(15, bytes(r))


END = tag(0)


def info(*tags, total=None):
    body = b"".join(tags)
    total = 8 + len(body) if total is None else total
    return struct.pack("<II", total, 0) + body


MAP = [(0, 0x9FC00, 1), (0x9FC00, 0x400, 2), (0x100000, 0x7FEE0000, 1), (0xFFFC0000, 0x40000, 2)]

MB2 = {
    "valid-full": info(string(1, "console=com1 loglevel=debug"), string(2, "GRUB 2.06"),
                       tag(4, struct.pack("<II", 639, 523264)), mmap(MAP),
                       module(0x200000, 0x345678, "guest scenario=benign console=com2"),
                       module(0x400000, 0x401000, "policy"),
                       module(0x402000, 0x403000, " \tprofile  extra args"),
                       rsdp(1), rsdp(2), tag(21, b"\0\0\x10\0"), END),
    "valid-minimal": info(mmap([(0x100000, 0x1000000, 1)]), END),
    "valid-mmap-stride-32": info(mmap(MAP, esize=32), END),
    # at the limits, so that mutations step over them
    "valid-16-modules": info(mmap(MAP), *[module(0x1000000 + i * 0x1000, 0x1001000 + i * 0x1000,
                                                 "m%d" % i) for i in range(16)], END),
    "valid-128-mmap-entries": info(mmap([(i << 20, 1 << 20, 1 + i % 5) for i in range(128)]), END),
    "valid-longest-strings": info(string(1, "c" * 255), string(2, "l" * 63), mmap(MAP),
                                  module(0x200000, 0x300000, "n" * 15 + " " + "a" * 255), END),
    "bad-no-end": info(mmap(MAP), string(1, "x")),
    "bad-no-mmap": info(string(1, "console=com2"), END),
    "bad-tag-past-total": info(mmap(MAP), tag(1, b"abc\0", size=64)),
    "bad-unterminated-cmdline": info(tag(1, b"abcd"), mmap(MAP), END),
    "bad-module-end-below-start": info(mmap(MAP), module(0x2000, 0x1000, "guest"), END),
    "bad-mmap-entry-size": info(mmap(MAP, esize=20), END),
    "bad-mmap-wraps": info(mmap([(0xFFFFFFFFFFFFF000, 0x2000, 2)]), END),
    "bad-rsdp-checksum": info(mmap(MAP), tag(14, b"RSD PTR " + b"\1" * 12), END),
    "bad-duplicate-cmdline": info(string(1, "a"), string(1, "b"), mmap(MAP), END),
    "bad-end-size": info(mmap(MAP), tag(0, b"\0" * 8)),
    "bad-total-too-small": struct.pack("<II", 12, 0) + END,
}

CMDLINE = {
    # first byte: key buffer 1 + (b & 15), value buffer 1 + (b >> 4)
    "vigil": b"\x77console=com1 ids=on loglevel=debug",
    "guest": b"\xffguest scenario=benign console=com2",
    "blanks": b"\x33  \t a=1 \t\tbare   b=  c=d=e\t",
    "cut": b"\x00averylongkey=averylongvalue x=y",
    "empty": b"\x55",
    "nul-inside": b"\x77a=1\0b=2",
}


def write(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    write("fuzz_multiboot2", MB2)
    write("fuzz_cmdline", CMDLINE)
