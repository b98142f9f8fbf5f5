/* A profile from the guest kernel's ELF image (ids/elfsyms.h). The image is
 * untrusted: every header, table and string is checked to lie within
 * [img, img + len) before it is read, multiplications and additions are
 * checked for overflow, and the work is bounded by the file's size and
 * ELFSYMS_MAX_SYMTAB. Fields are read byte by byte (no alignment assumed). */
#include "ids/elfsyms.h"
#include "lib/fmt.h"
#include "lib/string.h"

#define FAIL(f, ...) do {                                          \
        memset(p, 0, sizeof(*p));                                  \
        fmt_snprintf(err, errlen, "guest ELF: " f, ##__VA_ARGS__); \
        return -1;                                                 \
    } while (0)
#define U(v) ((unsigned long long)(v))

enum {
    EHDR_SIZE = 64, PHDR_SIZE = 56, SHDR_SIZE = 64, SYM_SIZE = 24,
    ET_EXEC = 2, EM_X86_64 = 62, PT_LOAD = 1,
    SHT_SYMTAB = 2, SHT_STRTAB = 3, SHT_NOBITS = 8, SHF_ALLOC = 2,
    SHN_UNDEF = 0, SHN_XINDEX = 0xffff,
    STT_SECTION = 3, STT_FILE = 4, STB_LOCAL = 0, STB_GLOBAL = 1, STB_WEAK = 2, STB_GNU_UNIQUE = 10,
};

/* The kernel objects the policies look up (docs/testos.md, "Profile"). */
static const char *const wanted[] = {
    "proc_list", "task_list", "current", "proc_pool", "syscall_table",
    "syscall_entry", "idt", "gdt", "tss", "kernel_pml4",
};
#define NWANTED (sizeof(wanted) / sizeof(wanted[0]))
_Static_assert(NWANTED + 3 <= PROFILE_MAX_SYMS, "every symbol elfsyms can name fits a profile");

static u16 r16(const u8 *b) { return (u16)(b[0] | b[1] << 8); }
static u32 r32(const u8 *b) { return (u32)b[0] | (u32)b[1] << 8 | (u32)b[2] << 16 | (u32)b[3] << 24; }
static u64 r64(const u8 *b) { return (u64)r32(b) | (u64)r32(b + 4) << 32; }

/* n entries of ent (> 0) bytes at off lie within a len-byte file. */
static bool in_file(u64 off, u64 n, u64 ent, u64 len)
{
    return off <= len && n <= (len - off) / ent;
}

struct elf {
    const u8 *img;
    u64 len;
    u64 phoff, phnum;
    u64 shoff, shnum;
    const u8 *shstr;
    u64 shstrsize;
};

static const u8 *shdr(const struct elf *e, u64 i) { return e->img + e->shoff + i * SHDR_SIZE; }
static const u8 *phdr(const struct elf *e, u64 i) { return e->img + e->phoff + i * PHDR_SIZE; }

static bool sec_name_is(const struct elf *e, u32 off, const char *want)
{
    size_t n = strlen(want) + 1;
    return off < e->shstrsize && e->shstrsize - off >= n && !memcmp(e->shstr + off, want, n);
}

/* The first loaded (SHF_ALLOC) section called name, NOBITS or not as asked;
 * 0 (the null section) if there is none. */
static u64 find_section(const struct elf *e, const char *name, bool nobits)
{
    for (u64 i = 1; i < e->shnum; i++) {
        const u8 *sh = shdr(e, i);
        if ((r64(sh + 8) & SHF_ALLOC) && (r32(sh + 4) == SHT_NOBITS) == nobits && sec_name_is(e, r32(sh), name))
            return i;
    }
    return 0;
}

/* Some PT_LOAD segment holds the virtual range [lo, hi). */
static bool one_segment_holds(const struct elf *e, u64 lo, u64 hi)
{
    for (u64 i = 0; i < e->phnum; i++) {
        const u8 *ph = phdr(e, i);
        u64 va = r64(ph + 16), msz = r64(ph + 40);
        if (r32(ph) == PT_LOAD && msz && lo >= va && hi - va <= msz)   /* va + msz checked not to wrap */
            return true;
    }
    return false;
}

static bool add_sym(struct profile *p, const char *name, u64 addr, u64 size)
{
    if (p->nsyms >= PROFILE_MAX_SYMS)
        return false;
    str_copy(p->syms[p->nsyms].name, name, PROFILE_NAME);
    p->syms[p->nsyms].addr = addr;
    p->syms[p->nsyms].size = size;
    p->nsyms++;
    return true;
}

int elfsyms_profile(const u8 *img, u64 len, struct profile *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof(*p));
    struct elf e = { .img = img, .len = len };

    /* --- the ELF header --- */
    if (len < 4 || memcmp(img, "\x7f" "ELF", 4))
        FAIL("not an ELF file (%llu bytes, no \\x7fELF magic)", U(len));
    if (len < EHDR_SIZE)
        FAIL("truncated: %llu bytes, smaller than an ELF64 header", U(len));
    if (img[4] != 2)
        FAIL("ELF class %u is not 64-bit (2)", img[4]);
    if (img[5] != 1)
        FAIL("not little-endian");
    if (r16(img + 16) != ET_EXEC)
        FAIL("ELF type %u is not an executable (2)", r16(img + 16));
    if (r16(img + 18) != EM_X86_64)
        FAIL("ELF machine %u is not x86-64 (62)", r16(img + 18));

    /* --- the image layout, from the PT_LOAD program headers --- */
    e.phoff = r64(img + 32);
    e.phnum = r16(img + 56);
    if (!e.phnum)
        FAIL("no program headers");
    if (r16(img + 54) != PHDR_SIZE)
        FAIL("program header size %u, expected 56", r16(img + 54));
    if (!in_file(e.phoff, e.phnum, PHDR_SIZE, len))
        FAIL("program headers (%llu at offset 0x%llx) run past the end of the %llu-byte file",
             U(e.phnum), U(e.phoff), U(len));
    u64 base = 0, pstart = ~(u64)0, pend = 0, base_ph = 0;
    bool have_base = false, any = false;
    for (u64 i = 0; i < e.phnum; i++) {
        const u8 *ph = phdr(&e, i);
        u64 va = r64(ph + 16), pa = r64(ph + 24), msz = r64(ph + 40);
        if (r32(ph) != PT_LOAD || !msz)
            continue;
        if (msz > ~(u64)0 - pa || msz > ~(u64)0 - va)
            FAIL("program header %llu: segment of 0x%llx bytes at virtual 0x%llx, physical 0x%llx wraps "
                 "around the address space", U(i), U(msz), U(va), U(pa));
        if (va != pa) {
            if (va < pa)
                FAIL("program header %llu: virtual address 0x%llx is below its physical address 0x%llx "
                     "(not a higher-half kernel)", U(i), U(va), U(pa));
            if (have_base && va - pa != base)
                FAIL("PT_LOAD segments disagree on the virtual-to-physical offset: 0x%llx (program header %llu) "
                     "and 0x%llx (program header %llu)", U(base), U(base_ph), U(va - pa), U(i));
            if (!have_base) {
                base = va - pa;
                base_ph = i;
                have_base = true;
            }
        }
        any = true;
        if (pa < pstart)
            pstart = pa;
        if (pa + msz > pend)
            pend = pa + msz;
    }
    if (!any)
        FAIL("no loadable segment (no PT_LOAD program header with a memory size)");

    /* --- the section table and the section names --- */
    e.shoff = r64(img + 40);
    if (!e.shoff)
        FAIL("no section headers (e_shoff is 0), so no .symtab");
    if (r16(img + 58) != SHDR_SIZE)
        FAIL("section header size %u, expected 64", r16(img + 58));
    e.shnum = r16(img + 60);
    if (!e.shnum) {                 /* extended numbering: the count is section 0's sh_size */
        if (!in_file(e.shoff, 1, SHDR_SIZE, len))
            FAIL("truncated section table: section 0 at offset 0x%llx is past the end of the %llu-byte file",
                 U(e.shoff), U(len));
        e.shnum = r64(shdr(&e, 0) + 32);
        if (!e.shnum)
            FAIL("no section headers (e_shnum is 0)");
    }
    if (!in_file(e.shoff, e.shnum, SHDR_SIZE, len))
        FAIL("truncated section table: %llu headers of 64 bytes at offset 0x%llx run past the end of the "
             "%llu-byte file", U(e.shnum), U(e.shoff), U(len));
    u64 shstrndx = r16(img + 62);
    if (shstrndx == SHN_XINDEX)     /* extended numbering: section 0's sh_link */
        shstrndx = r32(shdr(&e, 0) + 40);
    if (!shstrndx || shstrndx >= e.shnum)
        FAIL("no section name table (e_shstrndx %llu, %llu sections)", U(shstrndx), U(e.shnum));
    const u8 *ss = shdr(&e, shstrndx);
    if (r32(ss + 4) != SHT_STRTAB)
        FAIL("section name table (section %llu) is not a string table", U(shstrndx));
    u64 ssoff = r64(ss + 24);
    e.shstrsize = r64(ss + 32);
    if (!in_file(ssoff, e.shstrsize, 1, len))
        FAIL(".shstrtab (offset 0x%llx, 0x%llx bytes) out of range of the %llu-byte file", U(ssoff),
             U(e.shstrsize), U(len));
    e.shstr = img + ssoff;

    /* --- kernel_text, kernel_rodata, kernel_data --- */
    static const char *const secs[3][2] = {
        { ".text", "kernel_text" }, { ".rodata", "kernel_rodata" }, { ".data", "kernel_data" },
    };
    for (u32 k = 0; k < 3; k++) {
        u64 i = find_section(&e, secs[k][0], false);
        if (!i) {
            if (k == 0)
                FAIL("no .text section (SHF_ALLOC, with contents)");
            continue;
        }
        u64 addr = r64(shdr(&e, i) + 16), size = r64(shdr(&e, i) + 32);
        if (size > ~(u64)0 - addr)
            FAIL("section %s: 0x%llx bytes at 0x%llx wrap around the address space", secs[k][0], U(size), U(addr));
        /* kernel_data covers .data and .bss (as mkprofile writes it) when
         * .bss follows .data in the same loaded segment. */
        u64 b = k == 2 ? find_section(&e, ".bss", true) : 0;
        if (b) {
            u64 baddr = r64(shdr(&e, b) + 16), bsize = r64(shdr(&e, b) + 32);
            if (bsize <= ~(u64)0 - baddr && baddr >= addr + size && one_segment_holds(&e, addr, baddr + bsize))
                size = baddr + bsize - addr;
        }
        if (!add_sym(p, secs[k][1], addr, size))
            FAIL("too many symbols for a profile (at most %d)", PROFILE_MAX_SYMS);
    }

    /* --- .symtab and its .strtab --- */
    u64 st = 0;
    for (u64 i = 1; i < e.shnum && !st; i++)
        if (r32(shdr(&e, i) + 4) == SHT_SYMTAB)
            st = i;
    if (!st)
        FAIL("no .symtab (a stripped ELF?)");
    const u8 *sh = shdr(&e, st);
    u64 symoff = r64(sh + 24), entsize = r64(sh + 56);
    u64 nsym = r64(sh + 32) / SYM_SIZE;
    u32 link = r32(sh + 40);
    if (entsize != SYM_SIZE)
        FAIL(".symtab entry size %llu, expected 24", U(entsize));
    if (nsym > ELFSYMS_MAX_SYMTAB)
        FAIL("too many symbols: .symtab has %llu entries, at most %u are read", U(nsym), ELFSYMS_MAX_SYMTAB);
    if (!in_file(symoff, nsym, SYM_SIZE, len))
        FAIL(".symtab (%llu entries at offset 0x%llx) out of range of the %llu-byte file", U(nsym), U(symoff),
             U(len));
    if (!link || link >= e.shnum)
        FAIL(".strtab out of range: .symtab's sh_link %u is not a section (%llu sections)", link, U(e.shnum));
    const u8 *sh2 = shdr(&e, link);
    if (r32(sh2 + 4) != SHT_STRTAB)
        FAIL(".symtab's string table (section %u) is not a string table", link);
    u64 stroff = r64(sh2 + 24), strsize = r64(sh2 + 32);
    if (!in_file(stroff, strsize, 1, len))
        FAIL(".strtab (offset 0x%llx, 0x%llx bytes) out of range of the %llu-byte file", U(stroff), U(strsize),
             U(len));
    const char *str = (const char *)img + stroff;
    u64 term = strsize;             /* a name at an offset below term has its NUL within .strtab */
    while (term && str[term - 1])
        term--;

    /* The best definition of each wanted name: global (or unique) before
     * weak before local, the first one of that rank. */
    u64 best[NWANTED] = { 0 };
    int rank[NWANTED] = { 0 };
    for (u64 i = 1; i < nsym; i++) {
        const u8 *s = img + symoff + i * SYM_SIZE;
        u32 nm = r32(s);
        if (!nm)
            continue;
        if (nm >= strsize)
            FAIL("symbol %llu: name offset 0x%x past .strtab (0x%llx bytes)", U(i), nm, U(strsize));
        if (nm >= term)
            FAIL("symbol %llu: name at .strtab offset 0x%x is not NUL-terminated within .strtab", U(i), nm);
        u8 type = s[4] & 0xf, bind = s[4] >> 4;
        if (r16(s + 6) == SHN_UNDEF || type == STT_SECTION || type == STT_FILE)
            continue;
        int r = bind == STB_GLOBAL || bind == STB_GNU_UNIQUE ? 3 : bind == STB_WEAK ? 2 : 1;
        for (u32 k = 0; k < NWANTED; k++)
            if (!strcmp(str + nm, wanted[k])) {
                if (r > rank[k]) {
                    rank[k] = r;
                    best[k] = i;
                }
                break;
            }
    }
    for (u32 k = 0; k < NWANTED; k++) {
        if (!rank[k])
            continue;
        const u8 *s = img + symoff + best[k] * SYM_SIZE;
        if (!add_sym(p, wanted[k], r64(s + 8), r64(s + 16)))
            FAIL("too many symbols for a profile (at most %d)", PROFILE_MAX_SYMS);
    }

    str_copy(p->os, "elf", sizeof(p->os));
    p->kernel_virt_base = base;
    p->kernel_phys_start = pstart;
    p->kernel_phys_end = pend;
    p->phys_start = pstart;
    p->placed = true;                           /* the ELF's own addresses: never moved */
    return 0;
}
