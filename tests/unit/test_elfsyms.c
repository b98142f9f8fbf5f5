/* Unit tests for ids/elfsyms.c: a profile from the guest kernel's own ELF
 * (layout from PT_LOAD, ranges from .text/.rodata/.data+.bss, objects from
 * .symtab). Most cases build a small synthetic ELF64 in memory and break it
 * one field at a time; the last two compare against build/testos.elf and
 * build/testos.profile when those exist (skipped otherwise). Every image is
 * passed in an exact-size heap buffer so ASan sees any read past its end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ids/elfsyms.h"
#include "ids/profile.h"
#include "lib/string.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

/* ---- a synthetic ELF64 builder ------------------------------------------ */

enum { STB_LOCAL = 0, STB_GLOBAL = 1, STB_WEAK = 2 };
enum { STT_NOTYPE = 0, STT_OBJECT = 1, STT_FUNC = 2, STT_SECTION = 3, STT_FILE = 4 };

struct seg { u32 type; u64 vaddr, paddr, memsz; };
struct sec { const char *name; u32 type; u64 flags, addr, size; };
struct sym { const char *name; u64 value, size; u16 shndx; u8 bind, type; };
struct spec {
    const struct seg *segs; u32 nseg;
    const struct sec *secs; u32 nsec;
    const struct sym *syms; u32 nsym;
};

/* The built image and where its parts are, for tests that break them. */
static struct built {
    u8 buf[16384];
    size_t len;
    size_t shoff, symoff, stroff, strsize;
    u32 symtab, strtab, shstrtab;  /* section indices */
} b;

static void put16(size_t off, u16 v) { for (int i = 0; i < 2; i++) b.buf[off + i] = (u8)(v >> 8 * i); }
static void put32(size_t off, u32 v) { for (int i = 0; i < 4; i++) b.buf[off + i] = (u8)(v >> 8 * i); }
static void put64(size_t off, u64 v) { for (int i = 0; i < 8; i++) b.buf[off + i] = (u8)(v >> 8 * i); }
static u64 get64(size_t off) { u64 v = 0; for (int i = 7; i >= 0; i--) v = v << 8 | b.buf[off + i]; return v; }

/* Offset of section i's header field at byte f. */
static size_t sh(u32 i, size_t f) { return b.shoff + (size_t)i * 64 + f; }
/* Offset of symbol i's field at byte f (symbol 0 is the null symbol). */
static size_t st(u32 i, size_t f) { return b.symoff + (size_t)i * 24 + f; }

static size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }

static void add_bytes(const void *src, size_t n)
{
    assert_true(b.len + n <= sizeof(b.buf));
    memcpy(b.buf + b.len, src, n);
    b.len += n;
}

static void build(const struct spec *s)
{
    memset(&b, 0, sizeof(b));
    /* ELF header */
    memcpy(b.buf, "\x7f" "ELF", 4);
    b.buf[4] = 2;                  /* ELFCLASS64 */
    b.buf[5] = 1;                  /* little-endian */
    b.buf[6] = 1;                  /* EV_CURRENT */
    put16(16, 2);                  /* ET_EXEC */
    put16(18, 62);                 /* EM_X86_64 */
    put32(20, 1);
    put64(24, s->nseg ? s->segs[0].vaddr : 0);
    put64(32, 64);                 /* e_phoff */
    put16(52, 64);
    put16(54, 56);
    put16(56, (u16)s->nseg);
    put16(58, 64);
    b.len = 64;
    /* program headers */
    for (u32 i = 0; i < s->nseg; i++) {
        size_t o = b.len;
        b.len += 56;
        put32(o, s->segs[i].type);
        put32(o + 4, 5);
        put64(o + 8, 0);
        put64(o + 16, s->segs[i].vaddr);
        put64(o + 24, s->segs[i].paddr);
        put64(o + 32, 0);
        put64(o + 40, s->segs[i].memsz);
        put64(o + 48, 0x1000);
    }
    /* section contents: a few filler bytes each (never read) */
    size_t secoff[16];
    assert_true(s->nsec < 16);
    for (u32 i = 0; i < s->nsec; i++) {
        secoff[i] = b.len;
        if (s->secs[i].type != 8) {
            u8 fill[16];
            memset(fill, 0xcc, sizeof(fill));
            add_bytes(fill, s->secs[i].size < sizeof(fill) ? s->secs[i].size : sizeof(fill));
        }
    }
    /* .strtab */
    char strtab[1024];
    size_t strlen_ = 1, name_off[32];
    strtab[0] = 0;
    assert_true(s->nsym < 32);
    for (u32 i = 0; i < s->nsym; i++) {
        size_t n = strlen(s->syms[i].name) + 1;
        assert_true(strlen_ + n <= sizeof(strtab));
        name_off[i] = strlen_;
        memcpy(strtab + strlen_, s->syms[i].name, n);
        strlen_ += n;
    }
    /* .shstrtab */
    char shstr[512];
    size_t shlen = 1, sh_name[20];
    shstr[0] = 0;
    const char *extra[3] = { ".symtab", ".strtab", ".shstrtab" };
    for (u32 i = 0; i < s->nsec + 3; i++) {
        const char *nm = i < s->nsec ? s->secs[i].name : extra[i - s->nsec];
        size_t n = strlen(nm) + 1;
        assert_true(shlen + n <= sizeof(shstr));
        sh_name[i] = shlen;
        memcpy(shstr + shlen, nm, n);
        shlen += n;
    }
    /* .symtab */
    b.len = align8(b.len);
    b.symoff = b.len;
    u8 zero[24] = { 0 };
    add_bytes(zero, 24);
    for (u32 i = 0; i < s->nsym; i++) {
        size_t o = b.len;
        add_bytes(zero, 24);
        put32(o, (u32)name_off[i]);
        b.buf[o + 4] = (u8)(s->syms[i].bind << 4 | s->syms[i].type);
        put16(o + 6, s->syms[i].shndx);
        put64(o + 8, s->syms[i].value);
        put64(o + 16, s->syms[i].size);
    }
    size_t symsize = b.len - b.symoff;
    b.stroff = b.len;
    b.strsize = strlen_;
    add_bytes(strtab, strlen_);
    size_t shstroff = b.len;
    add_bytes(shstr, shlen);
    /* section headers */
    b.len = align8(b.len);
    b.shoff = b.len;
    u32 n = s->nsec + 4;
    b.symtab = s->nsec + 1;
    b.strtab = s->nsec + 2;
    b.shstrtab = s->nsec + 3;
    assert_true(b.len + n * 64 <= sizeof(b.buf));
    b.len += n * 64;
    for (u32 i = 0; i < s->nsec; i++) {
        put32(sh(i + 1, 0), (u32)sh_name[i]);
        put32(sh(i + 1, 4), s->secs[i].type);
        put64(sh(i + 1, 8), s->secs[i].flags);
        put64(sh(i + 1, 16), s->secs[i].addr);
        put64(sh(i + 1, 24), secoff[i]);
        put64(sh(i + 1, 32), s->secs[i].size);
        put64(sh(i + 1, 48), 16);
    }
    put32(sh(b.symtab, 0), (u32)sh_name[s->nsec]);
    put32(sh(b.symtab, 4), 2);
    put64(sh(b.symtab, 24), b.symoff);
    put64(sh(b.symtab, 32), symsize);
    put32(sh(b.symtab, 40), b.strtab);
    put32(sh(b.symtab, 44), 1);
    put64(sh(b.symtab, 48), 8);
    put64(sh(b.symtab, 56), 24);
    put32(sh(b.strtab, 0), (u32)sh_name[s->nsec + 1]);
    put32(sh(b.strtab, 4), 3);
    put64(sh(b.strtab, 24), b.stroff);
    put64(sh(b.strtab, 32), strlen_);
    put64(sh(b.strtab, 48), 1);
    put32(sh(b.shstrtab, 0), (u32)sh_name[s->nsec + 2]);
    put32(sh(b.shstrtab, 4), 3);
    put64(sh(b.shstrtab, 24), shstroff);
    put64(sh(b.shstrtab, 32), shlen);
    put64(sh(b.shstrtab, 48), 1);
    put64(40, b.shoff);
    put16(60, (u16)n);
    put16(62, (u16)b.shstrtab);
}

/* ---- the standard synthetic kernels --------------------------------------- */

#define HH 0xffffffff80000000ull
enum { S_BOOT = 1, S_TEXT, S_RODATA, S_DATA, S_BSS, S_COMMENT };

static const struct sec kernel_secs[] = {
    { ".boot", 1, 6, 0x100000, 0x20 },
    { ".text", 1, 6, HH + 0x101000, 0x40 },
    { ".rodata", 1, 2, HH + 0x102000, 0x30 },
    { ".data", 1, 3, HH + 0x103000, 0x20 },
    { ".bss", 8, 3, HH + 0x104000, 0x1000 },
    { ".comment", 1, 0, 0, 0x10 },
};
static const struct sec ident_secs[] = {
    { ".boot", 1, 6, 0x100000, 0x20 },
    { ".text", 1, 6, 0x101000, 0x40 },
    { ".rodata", 1, 2, 0x102000, 0x30 },
    { ".data", 1, 3, 0x103000, 0x20 },
    { ".bss", 8, 3, 0x104000, 0x1000 },
    { ".comment", 1, 0, 0, 0x10 },
};
static const struct seg hh_segs[] = {
    { 6, 0x40, 0x40, 0x118 },                           /* PT_PHDR: not PT_LOAD, ignored */
    { 1, 0x100000, 0x100000, 0x1000 },                  /* boot code, identity-mapped */
    { 1, HH + 0x101000, 0x101000, 0x40 },
    { 1, HH + 0x102000, 0x102000, 0x30 },
    { 1, HH + 0x103000, 0x103000, 0x2000 },             /* .data + .bss */
    { 1, HH + 0x200000, 0x200000, 0 },                  /* empty: ignored */
};
static const struct seg id_segs[] = {
    { 1, 0x100000, 0x100000, 0x1000 },
    { 1, 0x101000, 0x101000, 0x40 },
    { 1, 0x102000, 0x102000, 0x30 },
    { 1, 0x103000, 0x103000, 0x2000 },
};
#define NSYM_TESTOS 14
static const struct sym hh_syms[] = {
    { "kernel.c", 0, 0, 0xfff1, STB_LOCAL, STT_FILE },
    { "", HH + 0x101000, 0, S_TEXT, STB_LOCAL, STT_SECTION },
    { "current", HH + 0x104100, 8, S_BSS, STB_LOCAL, STT_OBJECT },    /* a static one: loses */
    { "syscall_entry", HH + 0x101010, 0, S_TEXT, STB_GLOBAL, STT_NOTYPE },
    { "syscall_table", HH + 0x102000, 40, S_RODATA, STB_GLOBAL, STT_OBJECT },
    { "idt", HH + 0x103000, 16, S_DATA, STB_GLOBAL, STT_OBJECT },
    { "gdt", HH + 0x103010, 16, S_DATA, STB_WEAK, STT_OBJECT },
    { "current", HH + 0x104000, 8, S_BSS, STB_GLOBAL, STT_OBJECT },
    { "proc_list", HH + 0x104008, 8, S_BSS, STB_GLOBAL, STT_OBJECT },
    { "kernel_pml4", 0, 0, 0, STB_GLOBAL, STT_NOTYPE },               /* undefined: skipped */
    { "tss", 0, 0, 0xfff1, STB_LOCAL, STT_FILE },                     /* a file name: skipped */
    { "proc_pool", HH + 0x104040, 0x400, S_BSS, STB_GLOBAL, STT_OBJECT },
    { "main", HH + 0x101020, 0x10, S_TEXT, STB_GLOBAL, STT_FUNC },
    { "task_list", HH + 0x104010, 8, S_BSS, STB_GLOBAL, STT_OBJECT },
};
_Static_assert(sizeof(hh_syms) / sizeof(hh_syms[0]) == NSYM_TESTOS, "count");

static const struct spec hh_spec = { hh_segs, 6, kernel_secs, 6, hh_syms, NSYM_TESTOS };

/* ---- running the parser --------------------------------------------------- */

static struct profile prof;
static char err[200];

static bool all_zero(const struct profile *p)
{
    const u8 *x = (const u8 *)p;
    for (size_t i = 0; i < sizeof(*p); i++)
        if (x[i])
            return false;
    return true;
}

/* elfsyms_profile on the first len bytes of b.buf, copied to an exact-size
 * heap buffer. */
static int run_len(size_t len)
{
    u8 *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, b.buf, len);
    memset(err, 0, sizeof(err));
    memset(&prof, 0x5a, sizeof(prof));
    int r = elfsyms_profile(copy, len, &prof, err, sizeof(err));
    free(copy);
    assert_true(r == 0 || r == -1);
    if (r) {
        assert_true(!strncmp(err, "guest ELF: ", 11));
        assert_true(all_zero(&prof));
    } else {
        assert_true(err[0] == 0);
    }
    return r;
}

static int run(void) { return run_len(b.len); }

#define assert_ok() do { int _r = run(); if (_r) fail_msg("unexpected error: %s", err); } while (0)

static void assert_err_len(size_t len, const char *want)
{
    assert_int_equal(run_len(len), -1);
    if (!strstr(err, want))
        fail_msg("error \"%s\" does not contain \"%s\"", err, want);
}

static void assert_err(const char *want) { assert_err_len(b.len, want); }

static void assert_sym(const char *name, u64 addr, u64 size)
{
    u64 a = 0, s = 0;
    if (!profile_symbol(&prof, name, &a, &s))
        fail_msg("symbol %s missing", name);
    if (a != addr || s != size)
        fail_msg("symbol %s: 0x%llx %llu, expected 0x%llx %llu", name, (unsigned long long)a,
                 (unsigned long long)s, (unsigned long long)addr, (unsigned long long)size);
}

static void assert_no_sym(const char *name)
{
    u64 a;
    if (profile_symbol(&prof, name, &a, 0))
        fail_msg("symbol %s should not be there", name);
}

/* ---- valid images ------------------------------------------------------- */

static void test_higher_half_kernel(void **state)
{
    (void)state;
    build(&hh_spec);
    assert_ok();
    assert_string_equal(prof.os, "elf");
    assert_true(prof.kernel_virt_base == HH);
    assert_true(prof.kernel_phys_start == 0x100000);
    assert_true(prof.kernel_phys_end == 0x105000);
    assert_true(prof.direct_map_base == 0 && prof.direct_map_limit == 0 && prof.user_top == 0);
    assert_int_equal(prof.nfields, 0);
    assert_int_equal(prof.nconsts, 0);
    /* ranges first, in profile order, then the objects in mkprofile's order */
    const char *order[] = { "kernel_text", "kernel_rodata", "kernel_data", "proc_list", "task_list", "current",
                            "proc_pool", "syscall_table", "syscall_entry", "idt", "gdt" };
    assert_int_equal(prof.nsyms, sizeof(order) / sizeof(order[0]));
    for (u32 i = 0; i < prof.nsyms; i++)
        assert_string_equal(prof.syms[i].name, order[i]);
    assert_sym("kernel_text", HH + 0x101000, 0x40);
    assert_sym("kernel_rodata", HH + 0x102000, 0x30);
    assert_sym("kernel_data", HH + 0x103000, 0x2000);        /* .data through the end of .bss */
    assert_sym("proc_list", HH + 0x104008, 8);
    assert_sym("task_list", HH + 0x104010, 8);
    assert_sym("current", HH + 0x104000, 8);                 /* the global, not the static */
    assert_sym("proc_pool", HH + 0x104040, 0x400);
    assert_sym("syscall_table", HH + 0x102000, 40);
    assert_sym("syscall_entry", HH + 0x101010, 0);
    assert_sym("idt", HH + 0x103000, 16);
    assert_sym("gdt", HH + 0x103010, 16);                    /* weak is fine */
    assert_no_sym("kernel_pml4");                            /* undefined */
    assert_no_sym("tss");                                    /* only a file symbol */
    assert_no_sym("main");                                   /* not one of ours */
    /* the IDS can translate kernel addresses with it */
    assert_true(profile_kva_to_pa(&prof, HH + 0x101000) == 0x101000);
    assert_true(profile_kva_to_pa(&prof, HH + 0x104008) == 0x104008);
    assert_true(profile_kva_to_pa(&prof, HH + 0x105000) == 0);
}

/* Every segment identity-mapped: kernel_virt_base is 0, and addresses in
 * the image translate to themselves. */
static void test_identity_mapped_kernel(void **state)
{
    (void)state;
    struct sym syms[] = {
        { "idt", 0x103000, 16, S_DATA, STB_GLOBAL, STT_OBJECT },
        { "syscall_table", 0x102000, 40, S_RODATA, STB_GLOBAL, STT_OBJECT },
    };
    struct spec s = { id_segs, 4, ident_secs, 6, syms, 2 };
    build(&s);
    assert_ok();
    assert_true(prof.kernel_virt_base == 0);
    assert_true(prof.kernel_phys_start == 0x100000);
    assert_true(prof.kernel_phys_end == 0x105000);
    assert_sym("kernel_text", 0x101000, 0x40);
    assert_sym("kernel_data", 0x103000, 0x2000);
    assert_sym("idt", 0x103000, 16);
    assert_sym("syscall_table", 0x102000, 40);
    assert_int_equal(prof.nsyms, 5);
    assert_true(profile_kva_to_pa(&prof, 0x101000) == 0x101000);
    assert_true(profile_kva_to_pa(&prof, 0x105000) == 0);
}

static void test_only_text_and_no_wanted_symbols(void **state)
{
    (void)state;
    struct sec secs[] = { { ".text", 1, 6, HH + 0x101000, 0x40 } };
    struct seg segs[] = { { 1, HH + 0x101000, 0x101000, 0x40 } };
    struct sym syms[] = { { "main", HH + 0x101000, 4, 1, STB_GLOBAL, STT_FUNC } };
    struct spec s = { segs, 1, secs, 1, syms, 1 };
    build(&s);
    assert_ok();
    assert_int_equal(prof.nsyms, 1);
    assert_sym("kernel_text", HH + 0x101000, 0x40);
    assert_true(prof.kernel_phys_start == 0x101000 && prof.kernel_phys_end == 0x101040);
}

/* .bss outside .data's segment, or before .data: kernel_data is .data. */
static void test_kernel_data_without_bss(void **state)
{
    (void)state;
    struct seg segs[] = {
        { 1, HH + 0x101000, 0x101000, 0x40 },
        { 1, HH + 0x103000, 0x103000, 0x20 },           /* .data alone */
        { 1, HH + 0x104000, 0x104000, 0x1000 },         /* .bss in its own segment */
    };
    struct spec s = { segs, 3, kernel_secs, 6, hh_syms, NSYM_TESTOS };
    build(&s);
    assert_ok();
    assert_sym("kernel_data", HH + 0x103000, 0x20);
    build(&hh_spec);
    put64(sh(S_BSS, 16), HH + 0x102f00);                 /* .bss below .data */
    assert_ok();
    assert_sym("kernel_data", HH + 0x103000, 0x20);
    build(&hh_spec);
    put64(sh(S_BSS, 32), ~0ull);                         /* .bss wraps: ignored */
    assert_ok();
    assert_sym("kernel_data", HH + 0x103000, 0x20);
    build(&hh_spec);
    put32(sh(S_DATA, 4), 8);                             /* no .data with contents: no kernel_data */
    assert_ok();
    assert_no_sym("kernel_data");
}

/* A section is found by its name only when that name lies in .shstrtab;
 * a section not loaded (no SHF_ALLOC) does not count. */
static void test_section_lookup(void **state)
{
    (void)state;
    build(&hh_spec);
    put32(sh(S_RODATA, 0), 0xfffffff0);                  /* name past .shstrtab */
    assert_ok();
    assert_no_sym("kernel_rodata");
    build(&hh_spec);
    put64(sh(S_RODATA, 8), 0);                           /* not SHF_ALLOC */
    assert_ok();
    assert_no_sym("kernel_rodata");
    build(&hh_spec);
    /* a .shstrtab cut inside ".rodata": the name is not terminated within it */
    u32 at = 0;
    for (u32 i = 0; i < 200; i++)
        if (!memcmp(b.buf + get64(sh(b.shstrtab, 24)) + i, ".rodata", 8)) {
            at = i;
            break;
        }
    assert_true(at > 0);
    put64(sh(b.shstrtab, 32), at + 4);
    assert_ok();
    assert_sym("kernel_text", HH + 0x101000, 0x40);      /* ".text" lies before the cut */
    assert_no_sym("kernel_rodata");
    assert_no_sym("kernel_data");
}

/* The best definition wins: global (or GNU unique) before weak before
 * local, the first of a rank; SHN_ABS counts as defined; a name matches
 * only whole ("idt_extra" and "id" are not "idt"). */
static void test_symbol_binding_ranks(void **state)
{
    (void)state;
    struct sym syms[] = {
        { "idt", HH + 0x103000, 1, S_DATA, STB_LOCAL, STT_OBJECT },
        { "idt", HH + 0x103001, 2, S_DATA, STB_LOCAL, STT_OBJECT },
        { "idt", HH + 0x103002, 3, S_DATA, STB_WEAK, STT_OBJECT },
        { "idt", HH + 0x103003, 4, S_DATA, STB_WEAK, STT_OBJECT },
        { "gdt", HH + 0x103004, 5, S_DATA, STB_LOCAL, STT_OBJECT },
        { "gdt", HH + 0x103005, 6, S_DATA, 10, STT_OBJECT },   /* STB_GNU_UNIQUE counts as global */
        { "gdt", HH + 0x103006, 7, S_DATA, STB_GLOBAL, STT_OBJECT },
        { "tss", HH + 0x103007, 8, 0xfff1, STB_LOCAL, STT_OBJECT },  /* SHN_ABS is defined */
        { "idt_extra", HH, 9, S_DATA, STB_GLOBAL, STT_OBJECT },
        { "id", HH, 9, S_DATA, STB_GLOBAL, STT_OBJECT },
    };
    struct spec s = { hh_segs, 6, kernel_secs, 6, syms, 10 };
    build(&s);
    assert_ok();
    assert_sym("idt", HH + 0x103002, 3);
    assert_sym("gdt", HH + 0x103005, 6);
    assert_sym("tss", HH + 0x103007, 8);
    assert_int_equal(prof.nsyms, 6);
}

/* More than 0xff00 sections: e_shnum and e_shstrndx in section 0. */
static void test_extended_section_numbering(void **state)
{
    (void)state;
    build(&hh_spec);
    u16 n = (u16)(b.shstrtab + 1);
    put16(60, 0);                                        /* e_shnum 0: count in section 0's sh_size */
    put64(sh(0, 32), n);
    put16(62, 0xffff);                                   /* SHN_XINDEX: index in section 0's sh_link */
    put32(sh(0, 40), b.shstrtab);
    assert_ok();
    assert_sym("idt", HH + 0x103000, 16);
    put64(sh(0, 32), 0);
    assert_err("no section headers");
    put64(sh(0, 32), ~0ull / 64);
    assert_err("truncated section table");
    put64(sh(0, 32), n);
    put32(sh(0, 40), 0xffffff);
    assert_err("no section name table");
}

/* ---- errors: the ELF header and program headers --------------------------- */

static void test_bad_elf_header(void **state)
{
    (void)state;
    build(&hh_spec);
    assert_err_len(0, "not an ELF file");
    assert_err_len(3, "not an ELF file");
    assert_err_len(63, "smaller than an ELF64 header");
    b.buf[0] = 'x';
    assert_err("not an ELF file");
    build(&hh_spec);
    b.buf[4] = 1;
    assert_err("ELF class 1 is not 64-bit");
    build(&hh_spec);
    b.buf[5] = 2;
    assert_err("not little-endian");
    build(&hh_spec);
    put16(16, 3);
    assert_err("ELF type 3 is not an executable");
    build(&hh_spec);
    put16(18, 3);
    assert_err("ELF machine 3 is not x86-64");
}

static void test_bad_program_headers(void **state)
{
    (void)state;
    build(&hh_spec);
    put16(56, 0);
    assert_err("no program headers");
    build(&hh_spec);
    put16(54, 32);
    assert_err("program header size 32, expected 56");
    build(&hh_spec);
    put64(32, b.len - 100);
    assert_err("program headers (6 at offset");
    build(&hh_spec);
    put64(32, ~0ull - 10);
    assert_err("run past the end");
    build(&hh_spec);
    put16(56, 0xffff);
    assert_err("program headers (65535 at offset");
    build(&hh_spec);
    for (u32 i = 0; i < 6; i++)
        put32(64 + i * 56, 2);                           /* PT_DYNAMIC everywhere */
    assert_err("no loadable segment");
    build(&hh_spec);
    put64(64 + 1 * 56 + 40, ~0ull - 0xfffff);          /* boot segment's paddr + memsz wraps */
    assert_err("program header 1: segment of 0x");
    assert_true(strstr(err, "wraps around") != NULL);
    build(&hh_spec);
    put64(64 + 2 * 56 + 40, 0x80000000);                /* vaddr + memsz wraps (paddr does not) */
    assert_err("program header 2: segment of 0x80000000 bytes");
}

static void test_inconsistent_virt_phys_offsets(void **state)
{
    (void)state;
    build(&hh_spec);
    put64(64 + 3 * 56 + 24, 0x302000);                  /* .rodata's segment 2 MiB further up */
    assert_err("disagree on the virtual-to-physical offset");
    assert_true(strstr(err, "0xffffffff80000000 (program header 2)") != NULL);
    assert_true(strstr(err, "0xffffffff7fe00000 (program header 3)") != NULL);
    build(&hh_spec);
    put64(64 + 4 * 56 + 16, 0x100);                     /* vaddr below paddr */
    assert_err("program header 4: virtual address 0x100 is below its physical address 0x103000");
}

/* ---- errors: sections ------------------------------------------------------- */

static void test_no_section_headers(void **state)
{
    (void)state;
    build(&hh_spec);
    put64(40, 0);
    assert_err("no section headers");
    build(&hh_spec);
    put16(58, 40);
    assert_err("section header size 40, expected 64");
}

static void test_truncated_section_table(void **state)
{
    (void)state;
    build(&hh_spec);
    assert_err_len(b.len - 1, "truncated section table: 10 headers of 64 bytes at offset");
    assert_err_len(b.shoff, "truncated section table");
    build(&hh_spec);
    put16(60, 0xffff);                                   /* huge e_shnum */
    assert_err("truncated section table: 65535 headers");
    build(&hh_spec);
    put64(40, b.len + 64);                               /* past EOF */
    assert_err("truncated section table");
    build(&hh_spec);
    put64(40, ~0ull - 63);                               /* offset + size would wrap */
    assert_err("truncated section table");
    build(&hh_spec);
    put16(60, 0);
    put64(40, ~0ull - 8);                                /* extended numbering, section 0 past EOF */
    assert_err("truncated section table: section 0");
}

static void test_bad_section_name_table(void **state)
{
    (void)state;
    build(&hh_spec);
    put16(62, 0);
    assert_err("no section name table (e_shstrndx 0");
    build(&hh_spec);
    put16(62, 10);
    assert_err("no section name table (e_shstrndx 10, 10 sections)");
    build(&hh_spec);
    put32(sh(b.shstrtab, 4), 1);
    assert_err("section name table (section 9) is not a string table");
    build(&hh_spec);
    put64(sh(b.shstrtab, 24), b.len);
    put64(sh(b.shstrtab, 32), 1);
    assert_err(".shstrtab (offset");
    build(&hh_spec);
    put64(sh(b.shstrtab, 32), ~0ull);
    assert_err("out of range of the");
}

static void test_no_text(void **state)
{
    (void)state;
    build(&hh_spec);
    put32(sh(S_TEXT, 0), 0);                             /* nameless */
    assert_err("no .text section");
    build(&hh_spec);
    put64(sh(S_TEXT, 16), ~0ull - 0x10);                 /* wraps */
    assert_err("section .text: 0x40 bytes at 0xffffffffffffffef wrap around");
}

static void test_no_symtab(void **state)
{
    (void)state;
    build(&hh_spec);
    put32(sh(b.symtab, 4), 11);                          /* SHT_DYNSYM only */
    assert_err("no .symtab");
}

static void test_symtab_out_of_range(void **state)
{
    (void)state;
    build(&hh_spec);
    put64(sh(b.symtab, 24), b.len);                      /* past EOF */
    assert_err(".symtab (15 entries at offset");
    build(&hh_spec);
    put64(sh(b.symtab, 24), ~0ull - 16);
    assert_err("out of range of the");
    build(&hh_spec);
    put64(sh(b.symtab, 32), 24 * 400);                   /* longer than the file */
    assert_err(".symtab (400 entries");
    build(&hh_spec);
    put64(sh(b.symtab, 56), 16);
    assert_err(".symtab entry size 16, expected 24");
    build(&hh_spec);
    put64(sh(b.symtab, 56), 0);
    assert_err(".symtab entry size 0");
}

static void test_too_many_symbols(void **state)
{
    (void)state;
    build(&hh_spec);
    put64(sh(b.symtab, 32), 24ull * (ELFSYMS_MAX_SYMTAB + 1));
    assert_err("too many symbols: .symtab has 2097153 entries, at most 2097152");
    put64(sh(b.symtab, 32), ~0ull);
    assert_err("too many symbols");
}

static void test_strtab_out_of_range(void **state)
{
    (void)state;
    build(&hh_spec);
    put64(sh(b.strtab, 24), b.len - 2);
    assert_err(".strtab (offset");
    assert_true(strstr(err, "out of range") != NULL);
    build(&hh_spec);
    put64(sh(b.strtab, 32), ~0ull);
    assert_err(".strtab (offset");
    build(&hh_spec);
    put32(sh(b.symtab, 40), 0);
    assert_err(".strtab out of range: .symtab's sh_link 0 is not a section");
    build(&hh_spec);
    put32(sh(b.symtab, 40), 99);
    assert_err(".strtab out of range: .symtab's sh_link 99 is not a section (10 sections)");
    build(&hh_spec);
    put32(sh(b.symtab, 40), S_TEXT);
    assert_err("string table (section 2) is not a string table");
}

static void test_symbol_name_past_strtab(void **state)
{
    (void)state;
    build(&hh_spec);
    put32(st(5, 0), (u32)b.strsize);                     /* just past */
    assert_err("symbol 5: name offset 0x");
    assert_true(strstr(err, "past .strtab") != NULL);
    build(&hh_spec);
    put32(st(14, 0), 0xffffffff);
    assert_err("symbol 14: name offset 0xffffffff past .strtab");
    build(&hh_spec);
    put64(sh(b.strtab, 32), 0);                          /* an empty .strtab: every named symbol is past it */
    assert_err("symbol 1: name offset 0x1 past .strtab (0x0 bytes)");
}

static void test_symbol_name_not_terminated(void **state)
{
    (void)state;
    build(&hh_spec);
    /* cut the last NUL off .strtab: the last name ("task_list") runs to its end */
    put64(sh(b.strtab, 32), b.strsize - 1);
    assert_err("symbol 14: name at .strtab offset 0x");
    assert_true(strstr(err, "not NUL-terminated within .strtab") != NULL);
    /* a .strtab with no NUL at all */
    build(&hh_spec);
    memset(b.buf + b.stroff, 'a', b.strsize);
    assert_err("symbol 1: name at .strtab offset 0x1 is not NUL-terminated");
}

/* Nameless symbols (st_name 0) are skipped, even with an empty .strtab. */
static void test_nameless_symbols(void **state)
{
    (void)state;
    build(&hh_spec);
    for (u32 i = 1; i <= NSYM_TESTOS; i++)
        put32(st(i, 0), 0);
    put64(sh(b.strtab, 32), 0);
    assert_ok();
    assert_int_equal(prof.nsyms, 3);
}

/* The error message is cut to the buffer and always terminated. */
static void test_small_error_buffer(void **state)
{
    (void)state;
    build(&hh_spec);
    put64(40, 0);
    char small[12];
    memset(small, 'Z', sizeof(small));
    assert_int_equal(elfsyms_profile(b.buf, b.len, &prof, small, sizeof(small)), -1);
    assert_string_equal(small, "guest ELF: ");
    assert_int_equal(elfsyms_profile(b.buf, b.len, &prof, NULL, 0), -1);
}

/* Every prefix of a valid image, and every single-byte change of its
 * headers and tables, is handled without reading outside it (ASan). */
static void test_every_truncation_and_byte(void **state)
{
    (void)state;
    build(&hh_spec);
    size_t full = b.len;
    for (size_t n = 0; n < full; n++)
        assert_int_equal(run_len(n), -1);
    assert_int_equal(run_len(full), 0);
    static const u8 vals[] = { 0x00, 0x01, 0x7f, 0x80, 0xff };
    for (size_t i = 0; i < full; i++) {
        u8 old = b.buf[i];
        for (size_t v = 0; v < sizeof(vals); v++) {
            b.buf[i] = vals[v];
            run();
        }
        b.buf[i] = old;
    }
}

/* ---- the real test guest ----------------------------------------------- */

static const char *argv0;

/* build/NAME from the repository root, or next to the test binary
 * (build/tests/unit/test_elfsyms -> build/NAME). Returns malloc'd bytes. */
static u8 *read_build_file(const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof(path), "build/%s", name);
    FILE *f = fopen(path, "rb");
    if (!f && argv0 && strrchr(argv0, '/')) {
        int dir = (int)(strrchr(argv0, '/') - argv0);
        snprintf(path, sizeof(path), "%.*s/../../%s", dir, argv0, name);
        f = fopen(path, "rb");
    }
    if (!f)
        return NULL;
    u8 *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (!got)
            break;
    }
    fclose(f);
    u8 *exact = malloc(n ? n : 1);                       /* exact size, for ASan */
    assert_non_null(exact);
    memcpy(exact, buf, n);
    free(buf);
    *len = n;
    return exact;
}

static const char *const testos_names[] = {
    "kernel_text", "kernel_rodata", "kernel_data", "proc_list", "task_list", "current", "proc_pool",
    "syscall_table", "syscall_entry", "idt", "gdt", "tss", "kernel_pml4",
};

static void test_testos_elf(void **state)
{
    (void)state;
    size_t len;
    u8 *img = read_build_file("testos.elf", &len);
    if (!img) {
        print_message("build/testos.elf not found (make build/testos.elf): skipped\n");
        skip();
    }
    int r = elfsyms_profile(img, len, &prof, err, sizeof(err));
    free(img);
    if (r)
        fail_msg("build/testos.elf: %s", err);
    assert_string_equal(prof.os, "elf");
    assert_true(prof.kernel_virt_base == 0xffffffff80000000ull);
    assert_true(prof.kernel_phys_start < prof.kernel_phys_end);
    assert_int_equal(prof.nsyms, sizeof(testos_names) / sizeof(testos_names[0]));
    for (u32 i = 0; i < prof.nsyms; i++) {
        assert_string_equal(prof.syms[i].name, testos_names[i]);
        u64 pa = profile_kva_to_pa(&prof, prof.syms[i].addr);
        if (!pa)
            fail_msg("%s at 0x%llx is outside the image", prof.syms[i].name,
                     (unsigned long long)prof.syms[i].addr);
    }
}

/* The ELF-derived profile agrees with mkprofile's for every symbol both
 * have, and on the image layout. */
static void test_testos_elf_matches_profile(void **state)
{
    (void)state;
    size_t len, tlen;
    u8 *img = read_build_file("testos.elf", &len);
    u8 *text = read_build_file("testos.profile", &tlen);
    if (!img || !text) {
        free(img);
        free(text);
        print_message("build/testos.elf or build/testos.profile not found (make build/testos.profile): skipped\n");
        skip();
    }
    static struct profile real;
    if (profile_parse((const char *)text, tlen, &real, err, sizeof(err)))
        fail_msg("build/testos.profile: %s", err);
    free(text);
    int r = elfsyms_profile(img, len, &prof, err, sizeof(err));
    free(img);
    if (r)
        fail_msg("build/testos.elf: %s", err);
    assert_true(prof.kernel_virt_base == real.kernel_virt_base);
    assert_true(prof.kernel_phys_start == real.kernel_phys_start);
    assert_true(prof.kernel_phys_end == real.kernel_phys_end);
    u32 both = 0;
    for (u32 i = 0; i < prof.nsyms; i++) {
        u64 a, s;
        if (!profile_symbol(&real, prof.syms[i].name, &a, &s))
            continue;
        both++;
        if (a != prof.syms[i].addr || s != prof.syms[i].size)
            fail_msg("%s: ELF 0x%llx %llu, profile 0x%llx %llu", prof.syms[i].name,
                     (unsigned long long)prof.syms[i].addr, (unsigned long long)prof.syms[i].size,
                     (unsigned long long)a, (unsigned long long)s);
    }
    assert_int_equal(both, real.nsyms);                  /* nothing of the profile's is missing */
}

int main(int argc, char **argv)
{
    (void)argc;
    argv0 = argv[0];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_higher_half_kernel),
        cmocka_unit_test(test_identity_mapped_kernel),
        cmocka_unit_test(test_only_text_and_no_wanted_symbols),
        cmocka_unit_test(test_kernel_data_without_bss),
        cmocka_unit_test(test_section_lookup),
        cmocka_unit_test(test_symbol_binding_ranks),
        cmocka_unit_test(test_extended_section_numbering),
        cmocka_unit_test(test_bad_elf_header),
        cmocka_unit_test(test_bad_program_headers),
        cmocka_unit_test(test_inconsistent_virt_phys_offsets),
        cmocka_unit_test(test_no_section_headers),
        cmocka_unit_test(test_truncated_section_table),
        cmocka_unit_test(test_bad_section_name_table),
        cmocka_unit_test(test_no_text),
        cmocka_unit_test(test_no_symtab),
        cmocka_unit_test(test_symtab_out_of_range),
        cmocka_unit_test(test_too_many_symbols),
        cmocka_unit_test(test_strtab_out_of_range),
        cmocka_unit_test(test_symbol_name_past_strtab),
        cmocka_unit_test(test_symbol_name_not_terminated),
        cmocka_unit_test(test_nameless_symbols),
        cmocka_unit_test(test_small_error_buffer),
        cmocka_unit_test(test_every_truncation_and_byte),
        cmocka_unit_test(test_testos_elf),
        cmocka_unit_test(test_testos_elf_matches_profile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
