#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz_madt target:
    tests/fuzz/corpus/fuzz_madt/madt-*  ACPI MADTs (ACPI 6.5, 5.2.12)
    tests/fuzz/corpus/fuzz_madt/mp-*    MP configuration tables and floating
                                         pointers (MP specification 1.4, ch. 4)
Every seed goes to all parsers; the target also fixes the checksums up.
Run from anywhere; the seeds are committed, rerun only to change them."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def fix(raw, at):
    """raw with raw[at] set so that all bytes sum to 0."""
    raw = bytearray(raw)
    raw[at] = 0
    raw[at] = -sum(raw) & 0xFF
    return bytes(raw)


def flip(raw, at):
    """raw with one byte changed, so that its checksum is wrong."""
    return raw[:at] + bytes([raw[at] ^ 0x42]) + raw[at + 1:]


def madt(*entries, lapic=0xFEE00000, length=None, checksum=True):
    body = b"".join(entries)
    length = 44 + len(body) if length is None else length
    hdr = b"APIC" + struct.pack("<IBB", length, 3, 0) + b"BOCHS " + b"BXPC    " + \
        struct.pack("<I", 1) + b"BXPC" + struct.pack("<I", 1) + struct.pack("<II", lapic, 1)
    raw = hdr + body
    return fix(raw, 9) if checksum else raw


def lapic(uid, id_, flags=1):
    return struct.pack("<BBBBI", 0, 8, uid, id_, flags)


def x2apic(id_, flags, uid):
    return struct.pack("<BBHIII", 9, 16, 0, id_, flags, uid)


def override(addr):
    return struct.pack("<BBHQ", 5, 12, 0, addr)


def ioapic(id_, addr, gsi):
    return struct.pack("<BBBBII", 1, 12, id_, 0, addr, gsi)


def iso(src, gsi, flags):
    return struct.pack("<BBBBIH", 2, 10, 0, src, gsi, flags)


def nmi(uid, flags, lint):
    return struct.pack("<BBBHB", 4, 6, uid, flags, lint)


BOCHS_REST = ioapic(0, 0xFEC00000, 0) + iso(0, 2, 0) + iso(5, 5, 0xD) + iso(9, 9, 0xD) + \
    iso(10, 10, 0xD) + iso(11, 11, 0xD) + nmi(0xFF, 0, 1)


def mp_config(*entries, count=None, lapic=0xFEE00000, length=None, checksum=True, sig=b"PCMP"):
    body = b"".join(e for e in entries)
    count = len(entries) if count is None else count
    length = 44 + len(body) if length is None else length
    hdr = sig + struct.pack("<HBB", length, 4, 0) + b"BOCHSCPU" + b"0.1         " + \
        struct.pack("<IHHIHBB", 0, 0, count, lapic, 0, 0, 0)
    raw = hdr + body
    return fix(raw, 7) if checksum else raw


def mp_cpu(id_, flags):
    return struct.pack("<BBBBII", 0, id_, 0x14, flags, 0x663, 0x0781ABFD) + b"\0" * 8


def mp_bus(id_, name):
    return struct.pack("<BB", 1, id_) + name


def mp_ioapic(id_, addr):
    return struct.pack("<BBBBI", 2, id_, 0x11, 1, addr)


def mp_intr(type_, irq, pin):
    return struct.pack("<BBHBBBB", type_, 0, 0, 0, irq, 0, pin)


MP_TWO = [mp_cpu(0, 3), mp_cpu(1, 1), mp_bus(0, b"ISA   "), mp_ioapic(2, 0xFEC00000),
          mp_intr(3, 0, 2), mp_intr(3, 1, 1), mp_intr(4, 0, 0), mp_intr(4, 0, 1)]


def mp_pointer(config, feature1=0, length=1):
    raw = b"_MP_" + struct.pack("<IBBBB", config, length, 4, 0, feature1) + b"\x80\0\0\0"
    return fix(raw, 10)


SEEDS = {
    "madt-bochs-2-cpus": madt(lapic(0, 0), lapic(1, 1), BOCHS_REST),
    "madt-4-cpus": madt(lapic(0, 0), lapic(1, 2), lapic(2, 4), lapic(3, 6), BOCHS_REST),
    "madt-x2apic": madt(lapic(0, 0), x2apic(0x100, 1, 0x1000), x2apic(0x101, 2, 0x1001),
                        x2apic(0xFFFFFFFF, 0, 9), lapic(1, 0xFF, 0)),
    "madt-override": madt(lapic(0, 0), override(0x123456789000), lapic(1, 1, 2), lapic(2, 2, 0)),
    "madt-70-cpus": madt(*[lapic(i, i) for i in range(70)]),
    "madt-bad-length-0-entry": madt(lapic(0, 0), b"\x04\x00" + b"\0" * 4),
    "madt-bad-checksum": flip(madt(lapic(0, 0), lapic(1, 1)), 9),
    "madt-bad-entry-crosses-end": madt(lapic(0, 0), b"\x01\x0c\x00\x00"),
    "madt-bad-short-x2apic": madt(lapic(0, 0), b"\x09\x0c" + b"\0" * 10),
    "madt-bad-duplicate": madt(lapic(0, 0), x2apic(0, 1, 1)),
    "madt-bad-length-field": madt(lapic(0, 0), length=0x1000),
    "mp-2-cpus": mp_config(*MP_TWO),
    "mp-pointer-and-table": b"\0" * 16 + mp_pointer(0xF0030) + b"\0" * 16 + mp_config(*MP_TWO),
    "mp-pointer-default-config": mp_pointer(0, feature1=5) + mp_pointer(0xF1000),
    "mp-bad-unknown-type": mp_config(mp_cpu(0, 3), b"\x05" + b"\0" * 7),
    "mp-bad-truncated-cpu": mp_config(mp_cpu(0, 3), mp_cpu(1, 1)[:16]),
    "mp-bad-count": mp_config(mp_cpu(0, 3), count=5),
    "mp-bad-checksum": flip(mp_config(*MP_TWO), 7),
    "mp-bad-pointer-checksum": flip(mp_pointer(0xF1000), 15),
}


if __name__ == "__main__":
    d = os.path.join(HERE, "corpus", "fuzz_madt")
    os.makedirs(d, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
