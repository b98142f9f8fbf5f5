#!/usr/bin/env python3
"""Write vigil's profile of a Linux kernel from what the kernel itself ships.

    linuxprofile.py VMLINUZ OUT.profile     (make linux-profile VMLINUZ=PATH)

No debug package: vmlinux is decompressed from the bzImage's payload, the
structure layouts come from vmlinux's own BTF (.BTF section), and the
link-time symbol addresses from the kernel's own kallsyms tables, decoded
offline. docs/profile.md gives the format; every parser here has host tests
(tests/unit/test_linuxprofile.py), malformed inputs included.
"""
import gzip
import lzma
import struct
import sys


class ProfileError(Exception):
    """What was wrong with the input, in words (printed, exit status 1)."""


# --- vmlinux from the bzImage -------------------------------------------------------

XZ_MAGIC = b"\xfd7zXZ\x00"
GZIP_MAGIC = b"\x1f\x8b\x08"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
LZ4_MAGIC = b"\x02\x21\x4c\x18"


def bzimage_release(img):
    """The kernel's release string from the setup header (kernel_version), or ''."""
    if len(img) < 0x210 or img[0x202:0x206] != b"HdrS":
        return ""
    off = struct.unpack_from("<H", img, 0x20E)[0]
    if not off or off + 0x200 >= len(img):
        return ""
    s = img[off + 0x200:off + 0x200 + 128].split(b"\0")[0].split(b" ")[0]
    t = s.decode("ascii", "replace")
    return t if s.isascii() and t.isprintable() else ""


def extract_vmlinux(img):
    """vmlinux (an ELF) from a bzImage; an ELF given as is comes back as is."""
    if img[:4] == b"\x7fELF":
        return img
    if len(img) < 0x250 or img[0x202:0x206] != b"HdrS":
        raise ProfileError("not a bzImage (no \"HdrS\" at offset 0x202) and not an ELF vmlinux")
    setup_sects = img[0x1F1] or 4
    pm = (setup_sects + 1) * 512
    poff, plen = struct.unpack_from("<II", img, 0x248)
    payload = img[pm + poff:pm + poff + plen]
    if not plen or len(payload) != plen:
        raise ProfileError(f"bzImage truncated: payload_offset 0x{poff:x} and payload_length 0x{plen:x} "
                           f"reach past the file's {len(img)} bytes")
    if payload.startswith(XZ_MAGIC):
        try:
            d = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
            out = d.decompress(payload)
        except lzma.LZMAError as e:
            raise ProfileError(f"the bzImage's XZ payload does not decompress: {e}") from None
        if not d.eof:
            raise ProfileError("the bzImage's XZ payload is truncated")
    elif payload.startswith(GZIP_MAGIC):
        try:
            out = gzip.decompress(payload)
        except (OSError, EOFError) as e:
            raise ProfileError(f"the bzImage's gzip payload does not decompress: {e}") from None
    elif payload.startswith(ZSTD_MAGIC) or payload.startswith(LZ4_MAGIC):
        raise ProfileError("the bzImage's payload is zstd or lz4 compressed: only XZ and gzip are supported")
    else:
        raise ProfileError(f"the bzImage's payload starts {payload[:6].hex()}: not XZ or gzip")
    if out[:4] != b"\x7fELF":
        raise ProfileError("the bzImage's payload decompressed to something that is not an ELF")
    return out


# --- ELF sections -------------------------------------------------------------------

def elf_sections(elf):
    """{name: (addr, offset, size, type)} of a 64-bit little-endian ELF."""
    if len(elf) < 64 or elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
        raise ProfileError("vmlinux is not a 64-bit little-endian ELF")
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
    if shentsize != 64 or not shnum or shstrndx >= shnum or shoff + shnum * 64 > len(elf):
        raise ProfileError("vmlinux's section header table is missing or truncated")
    raw = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * 64) for i in range(shnum)]
    stro, strs = raw[shstrndx][4], raw[shstrndx][5]
    if stro + strs > len(elf):
        raise ProfileError("vmlinux's section name table lies past the end of the file")
    out = {}
    for name, typ, _flags, addr, off, size, *_ in raw:
        if name >= strs:
            raise ProfileError("a vmlinux section name lies outside the section name table")
        end = elf.find(b"\0", stro + name, stro + strs)
        n = elf[stro + name:end if end >= 0 else stro + strs].decode("ascii", "replace")
        if typ != 8 and off + size > len(elf):       # SHT_NOBITS has no bytes in the file
            raise ProfileError(f"vmlinux section {n} lies past the end of the file")
        out[n] = (addr, off, size, typ)
    return out


# --- BTF ----------------------------------------------------------------------------

BTF_MAGIC = 0xEB9F
K_INT, K_PTR, K_ARRAY, K_STRUCT, K_UNION, K_ENUM, K_FWD, K_TYPEDEF, K_VOLATILE, K_CONST, K_RESTRICT, \
    K_FUNC, K_FUNC_PROTO, K_VAR, K_DATASEC, K_FLOAT, K_DECL_TAG, K_TYPE_TAG, K_ENUM64 = range(1, 20)
# bytes that follow struct btf_type: fixed, and per vlen entry
_EXTRA = {K_INT: (4, 0), K_PTR: (0, 0), K_ARRAY: (12, 0), K_STRUCT: (0, 12), K_UNION: (0, 12), K_ENUM: (0, 8),
          K_FWD: (0, 0), K_TYPEDEF: (0, 0), K_VOLATILE: (0, 0), K_CONST: (0, 0), K_RESTRICT: (0, 0),
          K_FUNC: (0, 0), K_FUNC_PROTO: (0, 8), K_VAR: (4, 0), K_DATASEC: (0, 12), K_FLOAT: (0, 0),
          K_DECL_TAG: (4, 0), K_TYPE_TAG: (0, 0), K_ENUM64: (0, 12)}


class BTF:
    """Types of a BTF blob: id -> (kind, name, size_or_type, kind_flag, members/array)."""

    def __init__(self, blob):
        if len(blob) < 24:
            raise ProfileError(f"BTF: {len(blob)} bytes, shorter than its 24-byte header")
        magic, ver, _flags, hlen, toff, tlen, soff, slen = struct.unpack_from("<HBBIIIII", blob, 0)
        if magic != BTF_MAGIC:
            raise ProfileError(f"BTF: magic 0x{magic:04x}, not 0xeb9f (a big-endian or not a BTF section)")
        if ver != 1:
            raise ProfileError(f"BTF: version {ver}, only version 1 is known")
        if hlen < 24 or hlen + toff + tlen > len(blob) or hlen + soff + slen > len(blob):
            raise ProfileError("BTF: the header's type or string section reaches past the section's end")
        self.strs = blob[hlen + soff:hlen + soff + slen]
        types = blob[hlen + toff:hlen + toff + tlen]
        self.types = [None]                           # type id 0 is void
        self.by_name = {}
        p = 0
        while p < len(types):
            if p + 12 > len(types):
                raise ProfileError(f"BTF: type {len(self.types)} truncated")
            name_off, info, st = struct.unpack_from("<III", types, p)
            p += 12
            kind, vlen, kflag = (info >> 24) & 0x1F, info & 0xFFFF, info >> 31
            if kind not in _EXTRA:
                raise ProfileError(f"BTF: type {len(self.types)} has unknown kind {kind}")
            fixed, per = _EXTRA[kind]
            n = fixed + per * vlen
            if p + n > len(types):
                raise ProfileError(f"BTF: type {len(self.types)} truncated")
            extra = None
            if kind in (K_STRUCT, K_UNION):
                extra = [struct.unpack_from("<III", types, p + 12 * i) for i in range(vlen)]
            elif kind == K_ARRAY:
                extra = struct.unpack_from("<III", types, p)
            p += n
            name = self.name(name_off)
            self.types.append((kind, name, st, kflag, extra))
            if name and kind in (K_STRUCT, K_UNION):
                self.by_name.setdefault(name, len(self.types) - 1)

    def name(self, off):
        if off >= len(self.strs):
            raise ProfileError(f"BTF: a name offset {off} lies outside the string section")
        end = self.strs.find(b"\0", off)
        return self.strs[off:end if end >= 0 else len(self.strs)].decode("ascii", "replace")

    def get(self, tid):
        if not 0 < tid < len(self.types):
            raise ProfileError(f"BTF: a reference to type {tid}, which does not exist")
        return self.types[tid]

    def resolve(self, tid):
        """Through typedefs and qualifiers to the type that has a layout."""
        for _ in range(64):
            t = self.get(tid)
            if t[0] not in (K_TYPEDEF, K_VOLATILE, K_CONST, K_RESTRICT, K_TYPE_TAG):
                return tid
            tid = t[2]
        raise ProfileError("BTF: a typedef chain is cyclic or longer than 64")

    def size(self, tid, depth=0):
        if depth > 32:
            raise ProfileError("BTF: arrays nested deeper than 32")
        t = self.get(self.resolve(tid))
        kind = t[0]
        if kind in (K_INT, K_STRUCT, K_UNION, K_ENUM, K_ENUM64, K_FLOAT, K_DATASEC):
            return t[2]
        if kind == K_PTR:
            return 8
        if kind == K_ARRAY:
            elem, _idx, nelems = t[4]
            return self.size(elem, depth + 1) * nelems
        raise ProfileError(f"BTF: type {t[1] or tid} has no size")

    def struct(self, name):
        tid = self.by_name.get(name)
        if tid is None:
            raise ProfileError(f"BTF: no struct or union named {name}")
        return tid

    def _member(self, tid, field, depth=0):
        """(byte offset, type id) of field in the struct/union tid, looking into anonymous members."""
        if depth > 8:
            return None
        t = self.get(self.resolve(tid))
        if t[0] not in (K_STRUCT, K_UNION):
            return None
        for name_off, mtype, moff in t[4]:
            bits = moff & 0xFFFFFF if t[3] else moff
            bitsize = moff >> 24 if t[3] else 0
            mname = self.name(name_off)
            if mname == field:
                if bits % 8 or bitsize:
                    raise ProfileError(f"BTF: {t[1]}.{field} is a bit field")
                return bits // 8, mtype
            if not mname:
                sub = self._member(mtype, field, depth + 1)
                if sub:
                    return bits // 8 + sub[0], sub[1]
        return None

    def field(self, path):
        """'task_struct.pid' or 'module.core_layout.base' -> (offset, size)."""
        parts = path.split(".")
        tid = self.struct(parts[0])
        off = 0
        for f in parts[1:]:
            m = self._member(tid, f)
            if m is None:
                raise ProfileError(f"BTF: {path}: no field {f}")
            off += m[0]
            tid = m[1]
        return off, self.size(tid)


# --- kallsyms -----------------------------------------------------------------------

def _token_tables(img):
    """(token strings, offset of kallsyms_token_table) found in the image.

    The token table is 256 NUL-terminated strings; the code of a character
    that symbol names use is that character itself, so "0".."9" sit at codes
    0x30-0x39, and kallsyms_token_index (256 u16) follows it, giving each
    token's offset: that is what confirms a candidate."""
    digits = b"".join(bytes([c]) + b"\0" for c in b"0123456789")
    pos = 0
    while True:
        i = img.find(digits, pos)
        if i < 0:
            return None
        pos = i + 1
        j, ok = i, True
        for _ in range(0x30):                    # back to token 0
            if j < 2 or img[j - 1] != 0:
                ok = False
                break
            j = img.rfind(b"\0", 0, j - 1) + 1
        if not ok:
            continue
        toks, offs, q = [], [], j
        for _ in range(256):
            e = img.find(b"\0", q)
            if e <= q:
                ok = False
                break
            offs.append(q - j)
            toks.append(img[q:e])
            q = e + 1
        if not ok:
            continue
        for align in (2, 4, 8):
            t = (q + align - 1) // align * align
            if t + 512 <= len(img) and list(struct.unpack_from("<256H", img, t)) == offs:
                return toks, j


def kallsyms(img, bases):
    """{name: [(type, address), ...]} decoded from the kernel's kallsyms tables.

    6.1's layout (scripts/kallsyms.c): kallsyms_offsets (s32 each),
    kallsyms_relative_base (u64), kallsyms_num_syms (u64), kallsyms_names
    (a length byte, two when its bit 7 is set, then token codes; the first
    decoded character is the type), ... kallsyms_token_table. bases are
    the candidate relative bases (the lowest symbol address: _text)."""
    found = _token_tables(img)
    if not found:
        raise ProfileError("no kallsyms tables (no kallsyms_token_table followed by its kallsyms_token_index): "
                           "a kernel built without CONFIG_KALLSYMS?")
    toks, tt = found
    for base in bases:
        pat = struct.pack("<Q", base)
        p = tt
        while True:
            p = img.rfind(pat, 0, p)
            if p < 0 or tt - p > 64 << 20:
                break
            if p % 8 or p + 16 > len(img):
                continue
            n, = struct.unpack_from("<Q", img, p + 8)
            start = p - (n * 4 + 7) // 8 * 8
            if not 1 <= n <= 4_000_000 or start < 0:
                continue
            syms = _decode_names(img, p + 16, n, toks, tt)
            if syms is None:
                continue
            offs = struct.unpack_from(f"<{n}i", img, start)
            out = {}
            for (typ, name), o in zip(syms, offs):
                # CONFIG_KALLSYMS_ABSOLUTE_PERCPU: a non-negative offset is an
                # absolute value (per-CPU symbols), a negative one is
                # relative_base - 1 - offset.
                addr = o if o >= 0 else base - 1 - o
                out.setdefault(name, []).append((typ, addr))
            return out
    raise ProfileError("the kallsyms token table is there, but no kallsyms_relative_base/kallsyms_num_syms "
                       "before it that decodes (a layout other than 6.1's?)")


def _decode_names(img, p, n, toks, limit):
    out = []
    for _ in range(n):
        if p >= limit:
            return None
        ln = img[p]
        p += 1
        if ln & 0x80:
            ln = (ln & 0x7F) | (img[p] << 7)
            p += 1
        if not ln or p + ln > limit:
            return None
        s = b"".join(toks[b] for b in img[p:p + ln])
        p += ln
        if len(s) < 2 or not s.isascii():
            return None
        out.append((chr(s[0]), s[1:].decode("ascii")))
    return out


# --- the profile --------------------------------------------------------------------

KERNEL_MAP = 0xFFFFFFFF80000000          # __START_KERNEL_map: link virtual = physical + this
DIRECT_MAP = 0xFFFF888000000000          # page_offset_base's link-time value (4-level paging)
DIRECT_MAP_SIZE = 0x400000000000          # 64 TiB: the direct map's region (4-level paging, mm.rst)
USER_TOP = 0x00007FFFFFFFF000            # TASK_SIZE_MAX with 4-level paging
CPU_ENTRY_AREA = 0xFFFFFE0000000000      # CPU_ENTRY_AREA_RO_IDT: the IDTR's read-only IDT alias
# The module area (arch/x86/include/asm/pgtable_64_types.h): MODULES_VADDR is
# __START_KERNEL_map + KERNEL_IMAGE_SIZE, 1 GiB with KASLR (CONFIG_RANDOMIZE_BASE,
# Debian's); MODULES_END is fixed. Not slid: module_alloc randomizes within it.
MODULES_VADDR = KERNEL_MAP + 0x40000000
MODULES_END = 0xFFFFFFFFFF000000

# link-time symbols: (name, size: an int, a BTF struct, "range:END", "gap" to the next symbol)
SYMBOLS = [
    ("_text", "range:_end"), ("_stext", "range:_etext"), ("_etext", 0),
    ("__start_rodata", "range:__end_rodata"), ("__end_rodata", 0),
    ("_sdata", "range:_edata"), ("__bss_start", "range:__bss_stop"), ("_end", 0),
    ("init_task", "task_struct"), ("init_mm", "mm_struct"), ("init_top_pgt", 4096),
    ("sys_call_table", "gap"), ("x64_sys_call", "gap"), ("idt_table", 4096),
    ("entry_SYSCALL_64", 0), ("modules", "list_head"),
    ("page_offset_base", 8), ("vmalloc_base", 8), ("vmemmap_base", 8), ("phys_base", 8),
    ("__per_cpu_offset", "gap"), ("socket_file_ops", "file_operations"),
    ("text_poke", 0), ("linux_banner", 0), ("poking_mm", 8),
    # hidden-module: the kernel's own executable pages in the module area
    # that belong to no module (kprobes' instruction slots)
    ("kprobe_insn_slots", "kprobe_insn_cache"), ("kprobe_optinsn_slots", "kprobe_insn_cache"),
    ("pack_list", "list_head"),                  # BPF's JIT: its 2 MiB program packs (kernel/bpf/core.c)
    # the kernel's own patch sites (kernel-text judges writes to its text by them)
    ("__start___jump_table", "range:__stop___jump_table"),
    ("__start_static_call_sites", "range:__stop_static_call_sites"),
    ("__static_call_text_start", "range:__static_call_text_end"),
]
# vigil's generic names for what the policies protect (the same records as
# testos's profile has): each the copy of a kernel symbol's record above
ALIASES = [("kernel_text", "_stext"), ("kernel_rodata", "__start_rodata"),
           ("syscall_table", "sys_call_table"), ("idt", "idt_table")]
# per-CPU symbols: offsets into each CPU's area (__per_cpu_offset[cpu] + offset)
PERCPU = ["gdt_page", "cpu_tss_rw", "pcpu_hot", "current_task"]
FIELDS = [
    "task_struct", "task_struct.tasks", "task_struct.pid", "task_struct.tgid", "task_struct.comm",
    "task_struct.mm", "task_struct.active_mm", "task_struct.real_parent", "task_struct.flags",
    "task_struct.__state", "task_struct.files", "task_struct.thread_group",
    "mm_struct", "mm_struct.pgd",
    "list_head.next", "list_head.prev",
    "module", "module.list", "module.name", "module.state",
    "module.core_layout.base", "module.core_layout.size", "module.core_layout.text_size",
    "module.core_layout.ro_size", "module.init_layout.base", "module.init_layout.size",
    "module.init_layout.text_size",  # kernel-text's execute watch: a module's init text
    "files_struct.fdt", "fdtable.max_fds", "fdtable.fd", "file.f_op", "file.private_data",
    "socket.type", "socket.sk", "sock.sk_type", "sock.sk_protocol", "sock.__sk_common.skc_family",
    "kprobe_insn_cache.pages",
    # program-integrity: the program a process runs (mm->exe_file's dentry's name)
    "mm_struct.exe_file", "file.f_path.dentry", "dentry.d_name.name",
]
# fields of structures private to one kernel file (no header declares them,
# so the test module cannot check them with offsetof): from BTF all the
# same, written as constants
PRIVATE_FIELDS = ["kprobe_insn_page.list", "kprobe_insn_page.insns", "bpf_prog_pack.list", "bpf_prog_pack.ptr"]
# fields a policy cannot do without: a kernel whose BTF lacks them gets no profile
REQUIRED_FIELDS = ["task_struct.tasks", "task_struct.pid", "task_struct.tgid", "task_struct.comm",
                   "task_struct.mm", "task_struct.active_mm", "task_struct.real_parent",
                   "task_struct.flags", "mm_struct.pgd", "module.list", "module.name"]
REQUIRED_SYMBOLS = ["_text", "_stext", "_etext", "__start_rodata", "__end_rodata", "_end", "init_task",
                    "sys_call_table", "x64_sys_call", "idt_table", "entry_SYSCALL_64", "modules"]
CONSTS = [
    ("task_struct.flags.kthread", 0x00200000),   # PF_KTHREAD (include/linux/sched.h)
    ("task_comm_len", 16),
    ("pti_user_pgd_offset", 4096),               # KPTI: the user PGD is the kernel PGD + 4 KiB
    ("cpu_entry_area", CPU_ENTRY_AREA),
    ("modules_vaddr", MODULES_VADDR),            # the module area (hidden-module walks its mappings)
    ("modules_end", MODULES_END),
    ("bpf_prog_pack_size", 0x200000),            # BPF_PROG_PACK_SIZE: PMD_SIZE x num_possible_nodes() (one node)
]


def _sym(ks, name):
    v = ks.get(name)
    if not v:
        return None
    return v[0][1]


def build(vmlinuz_bytes):
    """The profile's text for a bzImage (or an ELF vmlinux)."""
    release = bzimage_release(vmlinuz_bytes)
    elf = extract_vmlinux(vmlinuz_bytes)
    secs = elf_sections(elf)
    if ".BTF" not in secs:
        raise ProfileError("vmlinux has no .BTF section: a kernel built without CONFIG_DEBUG_INFO_BTF; "
                           "no structure layouts")
    _, boff, bsize, _ = secs[".BTF"]
    btf = BTF(elf[boff:boff + bsize])
    bases = sorted({a for a, _o, _s, t in secs.values() if a >= KERNEL_MAP and t == 1}) or [KERNEL_MAP + 0x1000000]
    ks = kallsyms(elf, bases)
    lines = ["# vigil profile of a Linux kernel: written by scripts/linuxprofile.py from vmlinux's",
             "# own BTF and kallsyms (docs/profile.md). Addresses are link-time: vigil slides them",
             "# at run time (KASLR)."]
    lines += ["profile linux 1", "arch x86_64"]
    if release:
        lines.append(f"release {release}")
    lines.append("kaslr 1")
    missing = [s for s in REQUIRED_SYMBOLS if _sym(ks, s) is None]
    if missing:
        raise ProfileError("kallsyms does not name " + ", ".join(missing))
    text, end = _sym(ks, "_text"), _sym(ks, "_end")
    if not KERNEL_MAP <= text < end:
        raise ProfileError(f"kallsyms: _text 0x{text:x} .. _end 0x{end:x} is not a kernel image at 0x{KERNEL_MAP:x}")
    lines += [f"kernel_virt_base 0x{KERNEL_MAP:x}", f"kernel_phys_start 0x{text - KERNEL_MAP:x}",
              f"kernel_phys_end 0x{end - KERNEL_MAP:x}", f"direct_map_base 0x{DIRECT_MAP:x}",
              f"direct_map_limit 0x{DIRECT_MAP_SIZE:x}",
              f"user_top 0x{USER_TOP:x}"]
    sorted_addrs = sorted({a for v in ks.values() for _t, a in v if a >= KERNEL_MAP})
    import bisect
    written = {}
    for name, size in SYMBOLS:
        a = _sym(ks, name)
        if a is None:
            continue
        if isinstance(size, int):
            sz = size
        elif size == "gap":
            i = bisect.bisect_right(sorted_addrs, a)
            sz = sorted_addrs[i] - a if i < len(sorted_addrs) else 0
        elif size.startswith("range:"):
            e = _sym(ks, size[6:])
            sz = e - a if e is not None and e >= a else 0
        else:
            sz = btf.size(btf.struct(size))
        lines.append(f"symbol {name} 0x{a:x} {sz}")
        written[name] = (a, sz)
    for alias, name in ALIASES:
        if name in written:
            lines.append(f"symbol {alias} 0x{written[name][0]:x} {written[name][1]}")
    for name in PERCPU:
        a = _sym(ks, name)
        if a is not None and a < KERNEL_MAP:
            lines.append(f"const percpu.{name} 0x{a:x}")
    for f in FIELDS:
        try:
            if "." in f:
                off, sz = btf.field(f)
                lines.append(f"struct {f} {off} {sz}")
            else:
                lines.append(f"struct {f} {btf.size(btf.struct(f))}")
        except ProfileError:
            if f in REQUIRED_FIELDS:
                raise
    for f in PRIVATE_FIELDS:
        try:
            off, _sz = btf.field(f)
            lines.append(f"const {f} {off}")
        except ProfileError:
            pass
    for name, v in CONSTS:
        lines.append(f"const {name} 0x{v:x}" if v > 4096 else f"const {name} {v}")
    return "\n".join(lines) + "\n", len(ks), sum(len(v) for v in ks.values())


def main(argv):
    if len(argv) != 3:
        print("usage: linuxprofile.py VMLINUZ OUT.profile", file=sys.stderr)
        return 2
    try:
        with open(argv[1], "rb") as f:
            img = f.read()
    except OSError as e:
        print(f"linuxprofile: {argv[1]}: {e.strerror}", file=sys.stderr)
        return 1
    try:
        text, names, syms = build(img)
    except ProfileError as e:
        print(f"linuxprofile: {argv[1]}: {e}", file=sys.stderr)
        return 1
    tmp = argv[2] + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    import os
    os.replace(tmp, argv[2])
    print(f"linuxprofile: {argv[2]}: {syms} kallsyms symbols decoded, "
          f"{sum(1 for ln in text.splitlines() if ln.startswith(('symbol', 'struct', 'const')))} records")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
