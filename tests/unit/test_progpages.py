#!/usr/bin/env python3
"""Host tests of scripts/progpages.py: program-integrity's known-good code
page hashes, on synthetic ELFs built here (partial first and last pages,
a file that ends inside the last page, bss in an executable segment, two
segments on one page, PIE, a dynamic program, malformed headers) and on the
initramfs's busybox and test programs when they are built. Run by
scripts/testrun.py (--only unit) with the cmocka tests."""
import os
import struct
import subprocess
import sys
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import progpages as pp  # noqa: E402
from progpages import ProgError  # noqa: E402

PAGE = 4096


def fnv(data):
    """FNV-1a 64 over quadwords, written out again independently of the tool."""
    h = 0xcbf29ce484222325
    for i in range(0, len(data), 8):
        h ^= int.from_bytes(data[i:i + 8], "little")
        h = (h * 0x100000001b3) % (1 << 64)
    return h


def elf(phdrs, size, e_type=2, machine=62, fill=None):
    """An ELF of `size` bytes whose program headers are [(type, flags, off, va, filesz, memsz)];
    every byte past the headers is its offset's low byte (or `fill`), so each page is distinct."""
    body = bytearray((i * 7 + 3) & 0xff for i in range(size)) if fill is None else bytearray([fill] * size)
    hdr = bytearray(64)
    hdr[:16] = b"\x7fELF\x02\x01\x01" + bytes(9)
    struct.pack_into("<HHIQQQIHHHHHH", hdr, 16, e_type, machine, 1, 0x401000, 64, 0, 0, 64, 56, len(phdrs), 64, 0, 0)
    ph = b"".join(struct.pack("<IIQQQQQQ", t, f, o, v, v, fs, ms, PAGE) for t, f, o, v, fs, ms in phdrs)
    body[:64 + len(ph)] = bytes(hdr) + ph
    return bytes(body)


def page_of(data, off):
    chunk = data[off:off + PAGE]
    return chunk + bytes(PAGE - len(chunk))


class Pages(unittest.TestCase):
    def test_hash_matches_lib_hash(self):
        self.assertEqual(pp.fnv64_page(bytes(PAGE)), 0x7da144b97d054b25)     # tests/unit/test_progdb.c
        q = b"".join(struct.pack("<Q", 0x0101010101010101 * (i & 0xff)) for i in range(512))
        self.assertEqual(pp.fnv64_page(q), 0x5b69a57d92e12125)
        self.assertEqual(pp.fnv64_page(q), fnv(q))

    def test_whole_pages_at_link_addresses(self):
        e = elf([(1, 4, 0, 0x400000, 0x200, 0x200), (1, 5, 0x1000, 0x401000, 0x2000, 0x2000)], 0x3000)
        self.assertEqual(pp.pages(e), [(0x401000, fnv(e[0x1000:0x2000])), (0x402000, fnv(e[0x2000:0x3000]))])

    def test_partial_first_and_last_pages_are_the_files_bytes(self):
        # text from file offset 0x1234 (at 0x401234) for 0x1100 bytes: the loader maps file pages
        # 0x1000..0x3000 at 0x401000..0x403000, the bytes around the segment included.
        e = elf([(1, 5, 0x1234, 0x401234, 0x1100, 0x1100), (1, 6, 0x3000, 0x404000, 0x800, 0x800)], 0x4000)
        self.assertEqual(pp.pages(e), [(0x401000, fnv(e[0x1000:0x2000])), (0x402000, fnv(e[0x2000:0x3000]))])

    def test_file_ending_in_the_last_page_reads_zero_past_it(self):
        e = elf([(1, 5, 0x1000, 0x401000, 0x1800, 0x1800)], 0x2800)
        got = dict(pp.pages(e))
        self.assertEqual(sorted(got), [0x401000, 0x402000])
        self.assertEqual(got[0x402000], fnv(e[0x2000:0x2800] + bytes(0x800)))

    def test_bss_in_an_executable_segment_is_left_out(self):
        warns = []
        e = elf([(1, 5, 0x1000, 0x401000, 0x1800, 0x4000)], 0x3000)
        self.assertEqual(pp.pages(e, warns.append), [(0x401000, fnv(e[0x1000:0x2000]))])
        self.assertTrue(any("bss" in w and "0x402000" in w for w in warns), warns)

    def test_a_page_two_segments_map_is_left_out(self):
        warns = []
        e = elf([(1, 5, 0x1000, 0x401000, 0x1800, 0x1800), (1, 6, 0x2800, 0x402800, 0x100, 0x100)], 0x3000)
        self.assertEqual(pp.pages(e, warns.append), [(0x401000, fnv(e[0x1000:0x2000]))])
        self.assertTrue(any("0x402000" in w and "two PT_LOAD" in w for w in warns), warns)

    def test_non_executable_segments_are_not_hashed(self):
        e = elf([(1, 4, 0, 0x400000, 0x1000, 0x1000), (1, 6, 0x1000, 0x401000, 0x1000, 0x1000)], 0x2000)
        self.assertEqual(pp.pages(e), [])

    def test_lines(self):
        e = elf([(1, 5, 0x1000, 0x401000, 0x1000, 0x1000)], 0x2000)
        self.assertEqual(pp.lines("vpi", e), [f"program vpi 0x401000 0x{fnv(e[0x1000:0x2000]):016x}"])
        for bad in ("", "sixteen-chars-xx", "a b", "a#"):
            with self.assertRaises(ProgError):
                pp.lines(bad, e)


class Refused(unittest.TestCase):
    def refused(self, data, want):
        with self.assertRaises(ProgError) as c:
            pp.pages(data)
        self.assertIn(want, str(c.exception))

    def test_malformed(self):
        self.refused(b"not an elf at all" * 8, "not an ELF file")
        e = bytearray(elf([(1, 5, 0x1000, 0x401000, 0x1000, 0x1000)], 0x2000))
        e[4] = 1
        self.refused(bytes(e), "not a 64-bit little-endian ELF")
        self.refused(elf([(1, 5, 0x1000, 0x401000, 0x1000, 0x1000)], 0x2000, machine=3), "not x86-64")
        self.refused(elf([(1, 5, 0x1000, 0x401000, 0x1000, 0x1000)], 0x2000, e_type=1), "not an executable")
        self.refused(elf([(1, 5, 0x1000, 0x401000, 0x3000, 0x3000)], 0x2000), "out of the file")
        self.refused(elf([(1, 5, 0x1000, 0x401000, 0x800, 0x400)], 0x2000), "larger than the segment")
        self.refused(elf([(1, 5, 0x1010, 0x401000, 0x800, 0x800)], 0x2000), "not congruent")

    def test_pie_and_dynamic_programs(self):
        self.refused(elf([(1, 5, 0x1000, 0x1000, 0x1000, 0x1000)], 0x2000, e_type=3), "a PIE (ET_DYN)")
        self.refused(elf([(3, 4, 0x200, 0x400200, 0x10, 0x10), (1, 5, 0x1000, 0x401000, 0x1000, 0x1000)], 0x2000),
                     "dynamically linked")

    def test_command_line(self):
        tool = os.path.join(ROOT, "scripts", "progpages.py")
        r = subprocess.run([sys.executable, tool, "noequals"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("NAME=PATH expected", r.stderr)
        r = subprocess.run([sys.executable, tool, "x=/nonexistent/file"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("/nonexistent/file", r.stderr)


BUSYBOX = os.path.join(ROOT, "build", "linux", "busybox")
VPI = os.path.join(ROOT, "build", "linux", "prog", "vpi")


class Built(unittest.TestCase):
    """The initramfs's programs as they are (static non-PIE: every code page hashed)."""

    @unittest.skipUnless(os.path.exists(BUSYBOX), "no build/linux/busybox (make linux)")
    def test_busybox(self):
        with open(BUSYBOX, "rb") as f:
            data = f.read()
        segs = pp.segments(data)
        text = [s for s in segs if s[0] & 1]
        self.assertEqual(len(text), 1, "busybox-static: one executable segment")
        _fl, off, va, filesz, memsz = text[0]
        self.assertEqual(filesz, memsz)
        got = pp.pages(data)
        first, end = va & ~0xfff, (va + filesz + 0xfff) & ~0xfff
        self.assertEqual([a for a, _h in got], list(range(first, end, PAGE)))
        for a, h in got[:3] + got[-3:]:
            self.assertEqual(h, fnv(page_of(data, off - (va - a))))

    @unittest.skipUnless(os.path.exists(VPI), "no build/linux/prog/vpi (make linux)")
    def test_vpi(self):
        with open(VPI, "rb") as f:
            data = f.read()
        self.assertEqual(struct.unpack_from("<H", data, 16)[0], 2, "vpi is static non-PIE (ET_EXEC)")
        self.assertIn(0x401000, dict(pp.pages(data)))


if __name__ == "__main__":
    unittest.main()
