#!/usr/bin/env python3
"""Host tests of scripts/linuxprofile.py: the bzImage payload, ELF sections,
the BTF reader and the kallsyms decoder, on synthetic inputs built here
(well-formed and malformed), and on build/linux/vmlinuz when it is there.
Run by scripts/testrun.py (--only unit) with the cmocka tests."""
import lzma
import os
import struct
import sys
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import linuxprofile as lp  # noqa: E402
from linuxprofile import ProfileError  # noqa: E402


# --- builders -------------------------------------------------------------------------

def elf(sections):
    """A 64-bit little-endian ELF with the given [(name, addr, bytes)] sections."""
    names = b"\0" + b"".join(n.encode() + b"\0" for n, _a, _b in sections) + b".shstrtab\0"
    body = bytearray(64)
    offs = []
    for _n, _a, data in sections:
        offs.append(len(body))
        body += data
    stro = len(body)
    body += names
    while len(body) % 8:
        body += b"\0"
    shoff = len(body)
    sh = [struct.pack("<IIQQQQIIQQ", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)]
    npos = 1
    for (n, a, data), o in zip(sections, offs):
        sh.append(struct.pack("<IIQQQQIIQQ", npos, 1, 2, a, o, len(data), 0, 0, 1, 0))
        npos += len(n) + 1
    sh.append(struct.pack("<IIQQQQIIQQ", npos, 3, 0, 0, stro, len(names), 0, 0, 1, 0))
    body += b"".join(sh)
    hdr = bytearray(b"\x7fELF\x02\x01\x01" + bytes(9))
    hdr += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0, 0, shoff, 0, 64, 0, 0, 64, len(sh), len(sh) - 1)
    body[:64] = hdr
    return bytes(body)


def bzimage(payload, setup_sects=1):
    """A bzImage: a setup header with payload_offset/length, then the payload."""
    pm = (setup_sects + 1) * 512
    img = bytearray(pm + 0x100)
    img[0x1F1] = setup_sects
    img[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", img, 0x20E, 0x300 - 0x200)   # kernel_version
    img[0x300:0x310] = b"6.1.0-test (x)\0\0"
    struct.pack_into("<II", img, 0x248, 0x40, len(payload))
    img[pm + 0x40:pm + 0x40] = payload
    return bytes(img)


class BTFBuilder:
    def __init__(self):
        self.strs = bytearray(b"\0")
        self.types = bytearray()
        self.n = 0

    def s(self, name):
        if not name:
            return 0
        off = len(self.strs)
        self.strs += name.encode() + b"\0"
        return off

    def add(self, kind, name, st, vlen=0, kflag=0, extra=b""):
        self.types += struct.pack("<III", self.s(name), (kflag << 31) | (kind << 24) | vlen, st) + extra
        self.n += 1
        return self.n

    def int(self, name, size):
        return self.add(lp.K_INT, name, size, extra=struct.pack("<I", size * 8))

    def struct(self, name, size, members, kind=lp.K_STRUCT, kflag=0):
        ex = b"".join(struct.pack("<III", self.s(m), t, off) for m, t, off in members)
        return self.add(kind, name, size, len(members), kflag, ex)

    def blob(self, magic=lp.BTF_MAGIC, version=1):
        hdr = struct.pack("<HBBIIIII", magic, version, 0, 24, 0, len(self.types), len(self.types), len(self.strs))
        return hdr + bytes(self.types) + bytes(self.strs)


def sample_btf():
    b = BTFBuilder()
    i32 = b.int("int", 4)
    u64 = b.int("long unsigned int", 8)
    ch = b.int("char", 1)
    idx = b.int("__ARRAY_SIZE_TYPE__", 4)
    arr = b.add(lp.K_ARRAY, "", 0, extra=struct.pack("<III", ch, idx, 16))
    lh = b.n + 1
    ptr_lh = b.n + 2
    assert b.struct("list_head", 16, [("next", ptr_lh, 0), ("prev", ptr_lh, 64)]) == lh
    assert b.add(lp.K_PTR, "", lh) == ptr_lh
    pid_t = b.add(lp.K_TYPEDEF, "pid_t", i32)
    cpid = b.add(lp.K_CONST, "", pid_t)
    anon = b.struct("", 8, [("mm", u64, 0), ("other", i32, 0)], kind=lp.K_UNION)
    layout = b.struct("module_layout", 16, [("base", u64, 0), ("size", i32, 64)])
    b.struct("task_struct", 64, [("flags", i32, 0), ("tasks", lh, 64), ("pid", cpid, 192), ("", anon, 256),
                                 ("comm", arr, 320)])
    b.struct("bits", 4, [("a", i32, (3 << 24) | 0), ("b", i32, (5 << 24) | 3)], kflag=1)
    b.struct("module", 32, [("core_layout", layout, 0), ("state", i32, 128)])
    cyc1 = b.n + 1
    b.add(lp.K_TYPEDEF, "loop_a", cyc1 + 1)
    b.add(lp.K_TYPEDEF, "loop_b", cyc1)
    b.struct("cyclic", 8, [("x", cyc1, 0)])
    return b.blob()


def kallsyms_image(symbols, base=0xFFFFFFFF81000000, pad=b"\xaa" * 40):
    """Synthetic 6.1 kallsyms tables for [(type, name, address)]: offsets,
    relative_base, num_syms, names, markers, token_table, token_index.
    Tokens: each character used is its own code; code 0xff is "init_"."""
    used = {ord(c) for t, n, _a in symbols for c in t + n} | set(b"0123456789")   # as in any kernel
    toks = []
    for code in range(256):
        if code in used:
            toks.append(bytes([code]))
        elif code == 0xFF:
            toks.append(b"init_")
        else:
            toks.append(b"?" + bytes([0x41 + code % 26]))   # unused by any name
    names = bytearray()
    for t, n, _a in symbols:
        s = (t + n).encode()
        enc = s.replace(b"init_", b"\xff")
        if len(enc) >= 0x80:
            names += bytes([0x80 | (len(enc) & 0x7F), len(enc) >> 7])
        else:
            names.append(len(enc))
        names += enc
    offs = b"".join(struct.pack("<i", -(a - base) - 1 if a >= base else a) for _t, _n, a in symbols)
    img = bytearray(pad)
    while len(img) % 8:
        img.append(0)
    img += offs
    while len(img) % 8:
        img.append(0)
    img += struct.pack("<QQ", base, len(symbols))
    img += names
    while len(img) % 8:
        img.append(0)
    img += struct.pack("<I", 0)                 # markers
    while len(img) % 8:
        img.append(0)
    tt = bytearray()
    index = []
    for t in toks:
        index.append(len(tt))
        tt += t + b"\0"
    img += tt
    while len(img) % 8:
        img.append(0)
    img += struct.pack("<256H", *index)
    return bytes(img)


SYMS = [("T", "_text", 0xFFFFFFFF81000000), ("T", "_stext", 0xFFFFFFFF81000000),
        ("T", "entry_SYSCALL_64", 0xFFFFFFFF81C00080), ("D", "init_task", 0xFFFFFFFF82A1AA40),
        ("A", "gdt_page", 0xB000), ("t", "init_" + "x" * 150, 0xFFFFFFFF81000010),
        ("T", "_etext", 0xFFFFFFFF81E01D32)]


# --- tests ----------------------------------------------------------------------------

class TestPayload(unittest.TestCase):
    def test_xz_payload_is_decompressed(self):
        inner = elf([(".text", 0xFFFFFFFF81000000, b"\x90" * 64)])
        xz = lzma.compress(inner, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32)
        img = bzimage(xz)
        self.assertEqual(lp.extract_vmlinux(img), inner)
        self.assertEqual(lp.bzimage_release(img), "6.1.0-test")

    def test_gzip_payload_is_decompressed(self):
        import gzip
        inner = elf([(".text", 0xFFFFFFFF81000000, b"\x90" * 64)])
        self.assertEqual(lp.extract_vmlinux(bzimage(gzip.compress(inner))), inner)

    def test_an_elf_is_taken_as_is(self):
        inner = elf([(".text", 0x1000, b"x")])
        self.assertEqual(lp.extract_vmlinux(inner), inner)

    def test_not_a_bzimage(self):
        with self.assertRaisesRegex(ProfileError, "not a bzImage"):
            lp.extract_vmlinux(b"\0" * 4096)
        with self.assertRaisesRegex(ProfileError, "not a bzImage"):
            lp.extract_vmlinux(b"")

    def test_truncated_payload(self):
        img = bzimage(lzma.compress(b"x" * 100, format=lzma.FORMAT_XZ))
        with self.assertRaisesRegex(ProfileError, "bzImage truncated"):
            lp.extract_vmlinux(img[:-200])

    def test_broken_xz(self):
        xz = bytearray(lzma.compress(elf([(".t", 1, b"y" * 500)]), format=lzma.FORMAT_XZ))
        xz[30:40] = b"\xff" * 10
        with self.assertRaisesRegex(ProfileError, "XZ payload"):
            lp.extract_vmlinux(bzimage(bytes(xz)))
        with self.assertRaisesRegex(ProfileError, "XZ payload is truncated"):
            lp.extract_vmlinux(bzimage(bytes(lzma.compress(b"z" * 5000, format=lzma.FORMAT_XZ))[:40]))

    def test_other_compressions_are_named(self):
        with self.assertRaisesRegex(ProfileError, "zstd or lz4"):
            lp.extract_vmlinux(bzimage(lp.ZSTD_MAGIC + b"\0" * 20))
        with self.assertRaisesRegex(ProfileError, "not XZ or gzip"):
            lp.extract_vmlinux(bzimage(b"BZh91AY" + b"\0" * 20))

    def test_payload_that_is_not_an_elf(self):
        with self.assertRaisesRegex(ProfileError, "not an ELF"):
            lp.extract_vmlinux(bzimage(lzma.compress(b"hello", format=lzma.FORMAT_XZ)))


class TestELF(unittest.TestCase):
    def test_sections(self):
        s = lp.elf_sections(elf([(".text", 0xFFFFFFFF81000000, b"abc"), (".BTF", 0xFFFFFFFF82000000, b"d")]))
        self.assertEqual(s[".text"][0], 0xFFFFFFFF81000000)
        self.assertEqual(s[".BTF"][2], 1)

    def test_malformed(self):
        with self.assertRaisesRegex(ProfileError, "64-bit little-endian ELF"):
            lp.elf_sections(b"\x7fELF\x01\x01" + bytes(80))
        good = elf([(".text", 1, b"abc")])
        with self.assertRaisesRegex(ProfileError, "section header table"):
            lp.elf_sections(good[:-10])
        bad = bytearray(good)
        shoff = struct.unpack_from("<Q", bad, 0x28)[0]
        struct.pack_into("<Q", bad, shoff + 64 + 0x18, 1 << 40)      # .text's offset far past the end
        with self.assertRaisesRegex(ProfileError, "section .text lies past the end"):
            lp.elf_sections(bytes(bad))
        bad = bytearray(good)
        struct.pack_into("<I", bad, shoff + 64, 10000)                 # a name past the name table
        with self.assertRaisesRegex(ProfileError, "outside the section name table"):
            lp.elf_sections(bytes(bad))


class TestBTF(unittest.TestCase):
    def setUp(self):
        self.btf = lp.BTF(sample_btf())

    def test_fields(self):
        self.assertEqual(self.btf.field("task_struct.flags"), (0, 4))
        self.assertEqual(self.btf.field("task_struct.tasks"), (8, 16))
        self.assertEqual(self.btf.field("task_struct.pid"), (24, 4))       # through const and typedef
        self.assertEqual(self.btf.field("task_struct.mm"), (32, 8))        # inside an anonymous union
        self.assertEqual(self.btf.field("task_struct.comm"), (40, 16))     # an array
        self.assertEqual(self.btf.field("list_head.prev"), (8, 8))         # a pointer
        self.assertEqual(self.btf.field("module.core_layout.size"), (8, 4))   # nested
        self.assertEqual(self.btf.field("module.state"), (16, 4))
        self.assertEqual(self.btf.size(self.btf.struct("task_struct")), 64)

    def test_missing(self):
        with self.assertRaisesRegex(ProfileError, "no struct or union named nothing"):
            self.btf.field("nothing.x")
        with self.assertRaisesRegex(ProfileError, "task_struct.nope: no field nope"):
            self.btf.field("task_struct.nope")
        with self.assertRaisesRegex(ProfileError, "no field x"):
            self.btf.field("task_struct.flags.x")                         # into an int

    def test_bitfield_is_refused(self):
        with self.assertRaisesRegex(ProfileError, "bits.b is a bit field"):
            self.btf.field("bits.b")

    def test_cyclic_typedef(self):
        with self.assertRaisesRegex(ProfileError, "cyclic"):
            self.btf.field("cyclic.x")

    def test_malformed_header(self):
        blob = sample_btf()
        with self.assertRaisesRegex(ProfileError, "shorter than its 24-byte header"):
            lp.BTF(blob[:20])
        with self.assertRaisesRegex(ProfileError, "magic 0x9feb"):
            lp.BTF(struct.pack("<H", 0x9FEB) + blob[2:])
        with self.assertRaisesRegex(ProfileError, "version 2"):
            lp.BTF(blob[:2] + b"\x02" + blob[3:])
        with self.assertRaisesRegex(ProfileError, "reaches past"):
            lp.BTF(blob[:-5])

    def test_malformed_types(self):
        b = BTFBuilder()
        b.add(25, "weird", 0)
        with self.assertRaisesRegex(ProfileError, "unknown kind 25"):
            lp.BTF(b.blob())
        b = BTFBuilder()
        b.struct("s", 8, [("a", 1, 0), ("b", 1, 32)])
        blob = b.blob()
        # claim three members where two are
        t = bytearray(blob)
        struct.pack_into("<I", t, 24 + 4, (lp.K_STRUCT << 24) | 3)
        with self.assertRaisesRegex(ProfileError, "type 1 truncated"):
            lp.BTF(bytes(t))
        b = BTFBuilder()
        b.types += struct.pack("<III", 999, lp.K_INT << 24, 4) + struct.pack("<I", 32)
        with self.assertRaisesRegex(ProfileError, "name offset 999"):
            lp.BTF(b.blob())
        b = BTFBuilder()
        b.struct("s", 8, [("a", 77, 0)])
        with self.assertRaisesRegex(ProfileError, "type 77, which does not exist"):
            lp.BTF(b.blob()).field("s.a")


class TestKallsyms(unittest.TestCase):
    def test_decode(self):
        img = b"\x55" * 104 + kallsyms_image(SYMS) + b"\x66" * 100
        ks = lp.kallsyms(img, [0xFFFFFFFF81000000])
        self.assertEqual(ks["init_task"], [("D", 0xFFFFFFFF82A1AA40)])
        self.assertEqual(ks["entry_SYSCALL_64"], [("T", 0xFFFFFFFF81C00080)])
        self.assertEqual(ks["gdt_page"], [("A", 0xB000)])                    # absolute (per-CPU)
        self.assertEqual(ks["init_" + "x" * 150], [("t", 0xFFFFFFFF81000010)])   # a two-byte length
        self.assertEqual(len(ks), len(SYMS))

    def test_no_tables(self):
        with self.assertRaisesRegex(ProfileError, "no kallsyms tables.*CONFIG_KALLSYMS"):
            lp.kallsyms(b"\0" * 5000, [0xFFFFFFFF81000000])

    def test_token_table_without_symbols(self):
        img = kallsyms_image(SYMS)
        with self.assertRaisesRegex(ProfileError, "no kallsyms_relative_base"):
            lp.kallsyms(img, [0xFFFFFFFF82000000])                         # a base that is not there
        # a token index that does not match its table is not a token table
        bad = bytearray(img)
        bad[-2] ^= 0xFF
        with self.assertRaisesRegex(ProfileError, "no kallsyms tables"):
            lp.kallsyms(bytes(bad), [0xFFFFFFFF81000000])

    def test_names_running_into_the_token_table(self):
        img = bytearray(kallsyms_image(SYMS))
        p = img.find(struct.pack("<QQ", 0xFFFFFFFF81000000, len(SYMS)))
        struct.pack_into("<Q", img, p + 8, 5000)          # more names than there are
        with self.assertRaisesRegex(ProfileError, "no kallsyms_relative_base"):
            lp.kallsyms(bytes(img), [0xFFFFFFFF81000000])


class TestBuild(unittest.TestCase):
    def test_no_btf(self):
        img = elf([(".text", 0xFFFFFFFF81000000, kallsyms_image(SYMS))])
        with self.assertRaisesRegex(ProfileError, "no .BTF section.*CONFIG_DEBUG_INFO_BTF"):
            lp.build(img)

    def test_no_kallsyms(self):
        img = elf([(".text", 0xFFFFFFFF81000000, b"\x90" * 4096), (".BTF", 0xFFFFFFFF82000000, sample_btf())])
        with self.assertRaisesRegex(ProfileError, "no kallsyms tables"):
            lp.build(img)

    def test_missing_symbols_are_named(self):
        img = elf([(".text", 0xFFFFFFFF81000000, kallsyms_image(SYMS)),
                   (".BTF", 0xFFFFFFFF82000000, sample_btf())])
        with self.assertRaisesRegex(ProfileError, "kallsyms does not name __start_rodata, __end_rodata, _end"):
            lp.build(img)

    @unittest.skipUnless(os.path.exists(os.path.join(ROOT, "build", "linux", "vmlinuz")),
                         "no build/linux/vmlinuz (make linux)")
    def test_debian_kernel(self):
        with open(os.path.join(ROOT, "build", "linux", "vmlinuz"), "rb") as f:
            text, names, nsyms = lp.build(f.read())
        self.assertGreater(nsyms, 50000)
        lines = text.splitlines()
        self.assertIn("profile linux 1", lines)
        self.assertIn("kaslr 1", lines)
        rec = {ln.split()[1]: ln.split()[2:] for ln in lines if ln.startswith(("symbol ", "struct "))}
        for s in lp.REQUIRED_SYMBOLS:
            self.assertTrue(int(rec[s][0], 16) >= lp.KERNEL_MAP, s)
        for f in lp.REQUIRED_FIELDS:
            self.assertIn(f, rec)
        self.assertEqual(rec["idt_table"][1], "4096")
        self.assertEqual(rec["task_struct.comm"][1], "16")
        self.assertEqual(rec["mm_struct.pgd"][1], "8")
        # the profile reader's limits hold it (ids/profile.h)
        self.assertLessEqual(sum(1 for ln in lines if ln.startswith("symbol ")), 64)
        self.assertLessEqual(sum(1 for ln in lines if ln.startswith("struct ")), 64)
        self.assertLessEqual(sum(1 for ln in lines if ln.startswith("const ")), 32)
        self.assertTrue(all(len(ln) < 256 for ln in lines))


if __name__ == "__main__":
    unittest.main()
