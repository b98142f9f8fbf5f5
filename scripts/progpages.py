#!/usr/bin/env python3
"""Known-good hashes of programs' code pages, for vigil's program-integrity
policy (docs/ids.md, docs/profile.md "program").

    progpages.py NAME=PATH ... >> build/linux.profile

For each static non-PIE ELF (ET_EXEC, x86-64, no PT_INTERP) it writes one
line per 4 KiB page of each executable PT_LOAD segment:

    program NAME PAGE_VA HASH

PAGE_VA is the page's link address (the process's address: nothing moves a
non-PIE program), HASH the 64-bit FNV-1a of the page's 512 little-endian
quadwords as vigil computes it (lib/hash.h: h = basis; h = (h ^ q) * prime).

What a page holds is what Linux's ELF loader maps there: the segment is
mapped from the file whole pages at a time (elf_map: from the page-aligned
file offset below p_offset, to the page end above p_offset + p_filesz), so
the bytes before the segment's start and after its end within its first
and last pages are the file's own bytes at those offsets, and a page's
bytes past the end of the file read as zero (the page cache's tail of the
file's last page). The kernel zeroes nothing in a text segment whose
p_memsz equals p_filesz. A segment with p_memsz > p_filesz (bss in an
executable segment) is not hashed past its file part: the page holding
p_filesz's end and the anonymous pages after it depend on the loader's bss
handling (padzero, set_brk), so they are left out, with a warning; so is a
page that another PT_LOAD segment also maps (the later mapping replaces
it). PIE (ET_DYN) is refused: its load base is chosen at exec."""
import struct
import sys

FNV_BASIS = 0xcbf29ce484222325
FNV_PRIME = 0x100000001b3
MASK = (1 << 64) - 1
PAGE = 4096
PT_LOAD, PT_INTERP, PF_X = 1, 3, 1


class ProgError(Exception):
    pass


def fnv64_page(data):
    """lib/hash.h's fnv64_qwords over one 4 KiB page, from FNV64_BASIS."""
    assert len(data) == PAGE
    h = FNV_BASIS
    for (q,) in struct.iter_unpack("<Q", data):
        h = ((h ^ q) * FNV_PRIME) & MASK
    return h


def segments(elf):
    if len(elf) < 64 or elf[:4] != b"\x7fELF":
        raise ProgError("not an ELF file")
    if elf[4] != 2 or elf[5] != 1:
        raise ProgError("not a 64-bit little-endian ELF")
    e_type, e_machine = struct.unpack_from("<HH", elf, 16)
    e_phoff, = struct.unpack_from("<Q", elf, 32)
    e_phentsize, e_phnum = struct.unpack_from("<HH", elf, 54)
    if e_machine != 62:
        raise ProgError(f"machine {e_machine}, not x86-64")
    if e_type == 3:
        raise ProgError("a PIE (ET_DYN): its load base is chosen at exec; only static non-PIE programs are hashed")
    if e_type != 2:
        raise ProgError(f"ELF type {e_type}, not an executable (ET_EXEC)")
    if e_phentsize != 56 or e_phoff + e_phnum * 56 > len(elf):
        raise ProgError("program headers out of the file")
    out = []
    for i in range(e_phnum):
        p_type, p_flags, p_offset, p_vaddr, _pa, p_filesz, p_memsz, _al = struct.unpack_from(
            "<IIQQQQQQ", elf, e_phoff + i * 56)
        if p_type == PT_INTERP:
            raise ProgError("dynamically linked (PT_INTERP): its libraries' code is not in the file")
        if p_type == PT_LOAD:
            if p_filesz > p_memsz or p_offset + p_filesz > len(elf):
                raise ProgError(f"PT_LOAD {i}: file part out of the file or larger than the segment")
            if (p_offset - p_vaddr) % PAGE:
                raise ProgError(f"PT_LOAD {i}: offset and address not congruent modulo 4 KiB")
            out.append((p_flags, p_offset, p_vaddr, p_filesz, p_memsz))
    return out


def pages(elf, warn=None):
    """[(page_va, hash)] of the executable segments' pages, ascending."""
    segs = segments(elf)
    res = {}
    for i, (flags, off, va, filesz, memsz) in enumerate(segs):
        if not flags & PF_X or not filesz:
            continue
        first = va & ~(PAGE - 1)
        end = (va + filesz + PAGE - 1) & ~(PAGE - 1)
        if memsz > filesz:
            end = (va + filesz) & ~(PAGE - 1)      # the page with the file part's end is the loader's
            if warn:
                warn(f"PT_LOAD {i}: {memsz - filesz} bytes of bss in an executable segment: "
                     f"pages from 0x{end:x} not hashed")
        for pg in range(first, end, PAGE):
            if any(j != i and s[2] & ~(PAGE - 1) <= pg < s[2] + s[4] for j, s in enumerate(segs)):
                if warn:
                    warn(f"page 0x{pg:x} is mapped by two PT_LOAD segments: not hashed")
                continue
            fo = off - (va - pg)                   # the page-aligned file offset mapped there
            data = elf[fo:fo + PAGE]
            res[pg] = fnv64_page(data + bytes(PAGE - len(data)))
    return sorted(res.items())


def lines(name, elf, warn=None):
    if not name or len(name) > 15 or any(c.isspace() or c == "#" for c in name):
        raise ProgError(f"program name '{name}': 1-15 characters, no spaces")
    return [f"program {name} 0x{va:x} 0x{h:016x}" for va, h in pages(elf, warn)]


def main(argv):
    if len(argv) < 2:
        print("usage: progpages.py NAME=PATH ...", file=sys.stderr)
        return 2
    out = ["# program-integrity: known-good hashes of programs' code pages "
           "(scripts/progpages.py; docs/profile.md)"]
    for arg in argv[1:]:
        name, sep, path = arg.partition("=")
        if not sep:
            print(f"progpages: '{arg}': NAME=PATH expected", file=sys.stderr)
            return 2
        try:
            with open(path, "rb") as f:
                elf = f.read()
            out += lines(name, elf, lambda m: print(f"progpages: {path}: {m}", file=sys.stderr))
        except OSError as e:
            print(f"progpages: {path}: {e.strerror}", file=sys.stderr)
            return 1
        except ProgError as e:
            print(f"progpages: {path}: {e}", file=sys.stderr)
            return 1
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
