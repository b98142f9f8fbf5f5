#include "ids/profile.h"
#include "lib/fmt.h"
#include "lib/string.h"

#define FAIL(...) do { fmt_snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

static bool num(const char *s, u64 *v) { return str_to_u64(s, strlen(s), v); }

static bool name_ok(const char *s) { size_t n = strlen(s); return n && n < PROFILE_NAME; }

u32 profile_words(char *line, char **w, u32 max)
{
    u32 nw = 0;
    for (char *s = line; *s && nw < max;) {
        while (*s == ' ')
            *s++ = 0;
        if (!*s || *s == '#')
            break;
        w[nw++] = s;
        while (*s && *s != ' ')
            s++;
    }
    return nw;
}

int profile_parse(const char *text, size_t len, struct profile *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof(*p));
    if (len > 262144)
        FAIL("profile is %zu bytes; at most 262144", len);
    u32 ln = 0;
    bool header = false;
    for (size_t pos = 0; pos < len;) {
        char line[256];
        size_t n = 0;
        ln++;
        while (pos < len && text[pos] != '\n') {
            char ch = text[pos++];
            if (ch == 0 || (ch != '\t' && ch != '\r' && ((unsigned char)ch < 0x20 || (unsigned char)ch >= 0x7f)))
                FAIL("profile line %u: byte 0x%02x is not printable text", ln, (unsigned char)ch);
            if (ch == '\r')
                continue;
            if (n + 1 >= sizeof(line))
                FAIL("profile line %u: longer than %u characters", ln, (u32)sizeof(line) - 1);
            line[n++] = ch == '\t' ? ' ' : ch;
        }
        pos++;
        line[n] = 0;
        char *w[5] = { 0 };
        u32 nw = profile_words(line, w, 5);
        if (!nw)
            continue;
        const char *k = w[0];
        if (!strcmp(k, "profile")) {
            if (nw < 2 || strlen(w[1]) >= sizeof(p->os))
                FAIL("profile line %u: 'profile NAME VERSION' expected", ln);
            str_copy(p->os, w[1], sizeof(p->os));
            header = true;
        } else if (!strcmp(k, "kernel_virt_base") || !strcmp(k, "kernel_phys_start") ||
                   !strcmp(k, "kernel_phys_end") || !strcmp(k, "direct_map_base") ||
                   !strcmp(k, "direct_map_limit") || !strcmp(k, "user_top")) {
            u64 v;
            if (nw != 2 || !num(w[1], &v))
                FAIL("profile line %u: '%s' needs one number", ln, k);
            u64 *dst = !strcmp(k, "kernel_virt_base") ? &p->kernel_virt_base
                     : !strcmp(k, "kernel_phys_start") ? &p->kernel_phys_start
                     : !strcmp(k, "kernel_phys_end") ? &p->kernel_phys_end
                     : !strcmp(k, "direct_map_base") ? &p->direct_map_base
                     : !strcmp(k, "direct_map_limit") ? &p->direct_map_limit : &p->user_top;
            *dst = v;
        } else if (!strcmp(k, "symbol")) {
            u64 a, s = 0;
            if (nw < 3 || !name_ok(w[1]) || !num(w[2], &a) || (nw > 3 && !num(w[3], &s)))
                FAIL("profile line %u: 'symbol NAME ADDR [SIZE]' expected", ln);
            if (p->nsyms == PROFILE_MAX_SYMS)
                FAIL("profile line %u: more than %d symbols", ln, PROFILE_MAX_SYMS);
            str_copy(p->syms[p->nsyms].name, w[1], PROFILE_NAME);
            p->syms[p->nsyms].addr = a;
            p->syms[p->nsyms].size = s;
            p->nsyms++;
        } else if (!strcmp(k, "struct")) {
            u64 o, s = 0;
            if (nw < 3 || !name_ok(w[1]) || !num(w[2], &o) || (nw > 3 && !num(w[3], &s)))
                FAIL("profile line %u: 'struct NAME SIZE' or 'struct NAME.FIELD OFFSET SIZE' expected", ln);
            if (p->nfields == PROFILE_MAX_FIELDS)
                FAIL("profile line %u: more than %d structure fields", ln, PROFILE_MAX_FIELDS);
            str_copy(p->fields[p->nfields].name, w[1], PROFILE_NAME);
            p->fields[p->nfields].off = o;
            p->fields[p->nfields].size = s;
            p->nfields++;
        } else if (!strcmp(k, "release")) {
            if (nw != 2 || strlen(w[1]) >= sizeof(p->release))
                FAIL("profile line %u: 'release STRING' expected (at most %u characters)", ln,
                     (u32)sizeof(p->release) - 1);
            str_copy(p->release, w[1], sizeof(p->release));
        } else if (!strcmp(k, "kaslr")) {
            u64 v;
            if (nw != 2 || !num(w[1], &v) || v > 1)
                FAIL("profile line %u: 'kaslr 0' or 'kaslr 1' expected", ln);
            p->kaslr = v;
        } else if (!strcmp(k, "const")) {
            u64 v;
            if (nw != 3 || !name_ok(w[1]) || !num(w[2], &v))
                FAIL("profile line %u: 'const NAME VALUE' expected", ln);
            if (p->nconsts == PROFILE_MAX_CONSTS)
                FAIL("profile line %u: more than %d constants", ln, PROFILE_MAX_CONSTS);
            str_copy(p->consts[p->nconsts].name, w[1], PROFILE_NAME);
            p->consts[p->nconsts].value = v;
            p->nconsts++;
        }
        /* Other records (arch, syscall, ...) are for other readers. */
    }
    if (!header)
        FAIL("profile: no 'profile NAME VERSION' line: not a profile");
    if (p->kaslr && !(p->kernel_virt_base && p->kernel_phys_end > p->kernel_phys_start))
        FAIL("profile: 'kaslr 1' needs kernel_virt_base, kernel_phys_start and kernel_phys_end");
    p->placed = !p->kaslr;
    p->phys_start = p->kernel_phys_start;
    return 0;
}

bool profile_is_linux(const struct profile *p) { return !strcmp(p->os, "linux"); }

bool profile_link_symbol(const struct profile *p, const char *name, u64 *addr)
{
    for (u32 i = 0; i < p->nsyms; i++)
        if (!strcmp(p->syms[i].name, name)) {
            *addr = p->syms[i].addr;
            return true;
        }
    return false;
}

bool profile_symbol(const struct profile *p, const char *name, u64 *addr, u64 *size)
{
    if (!p->placed)
        return false;
    for (u32 i = 0; i < p->nsyms; i++)
        if (!strcmp(p->syms[i].name, name)) {
            *addr = p->syms[i].addr + p->slide;
            if (size)
                *size = p->syms[i].size;
            return true;
        }
    return false;
}

u64 profile_sym(const struct profile *p, const char *name)
{
    u64 a;
    return profile_symbol(p, name, &a, 0) ? a : 0;
}

bool profile_place(struct profile *p, u64 slide, u64 phys_start)
{
    if (!p->kaslr)
        return slide == 0 && phys_start == p->kernel_phys_start;
    /* The slid image lies whole in the top 2 GiB (the kernel's mapping),
     * with no wrap past the end of the address space. */
    u64 size = p->kernel_phys_end - p->kernel_phys_start;
    u64 lo = p->kernel_virt_base + p->kernel_phys_start + slide;
    if ((slide & 0xfff) || (phys_start & 0xfff) || lo < 0xffffffff80000000ull || size > 0 - lo ||
        phys_start + size < phys_start)
        return false;
    p->slide = slide;
    p->phys_start = phys_start;
    p->placed = true;
    return true;
}

bool profile_field(const struct profile *p, const char *name, u64 *off, u64 *size)
{
    for (u32 i = 0; i < p->nfields; i++) {
        if (!strcmp(p->fields[i].name, name)) {
            *off = p->fields[i].off;
            if (size)
                *size = p->fields[i].size;
            return true;
        }
    }
    return false;
}

bool profile_const(const struct profile *p, const char *name, u64 *value)
{
    for (u32 i = 0; i < p->nconsts; i++)
        if (!strcmp(p->consts[i].name, name)) {
            *value = p->consts[i].value;
            return true;
        }
    return false;
}

u64 profile_kva_to_pa(const struct profile *p, u64 va)
{
    if (!p->placed || p->kernel_phys_end <= p->kernel_phys_start)
        return 0;                                   /* not placed, or no (or a nonsensical) image extent */
    u64 size = p->kernel_phys_end - p->kernel_phys_start;
    /* kernel_virt_base 0 is an identity-mapped kernel: the image's extent is
     * what bounds the translation. At run time the image starts at
     * lo (virtual) and phys_start (physical). */
    u64 lo = p->kernel_virt_base + p->kernel_phys_start + p->slide;
    if (va < lo || va - lo >= size)
        return 0;
    return va - lo + p->phys_start;
}
