/* libFuzzer target: elfsyms_profile on arbitrary bytes as a guest ELF. The
 * image is copied to an exact-size heap buffer so ASan catches any read
 * past its end. On failure the message must start with "guest ELF: " and
 * the profile be all zeros; on success the profile must be well-formed
 * (names proper strings, found again by their lookup, no fields or
 * constants, kernel_text first, a sane image extent that translates). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ids/elfsyms.h"
#include "ids/profile.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

static void check(int ok)
{
    if (!ok)
        abort();
}

static bool name_ok(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    return n > 0 && n < cap;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct profile p;
    u8 *img = malloc(size ? size : 1);
    if (!img)
        return 0;
    memcpy(img, data, size);
    size_t errlen = 120;
    char *err = malloc(errlen);
    if (!err) {
        free(img);
        return 0;
    }
    memset(err, 'Z', errlen);
    memset(&p, 0xa5, sizeof(p));
    int r = elfsyms_profile(img, size, &p, err, errlen);
    free(img);
    check(r == 0 || r == -1);
    if (r == -1) {
        check(memchr(err, 0, errlen) != NULL);
        check(!strncmp(err, "guest ELF: ", 11));
        const u8 *x = (const u8 *)&p;
        for (size_t i = 0; i < sizeof(p); i++)
            check(x[i] == 0);
        free(err);
        return 0;
    }
    check(err[0] == 'Z');
    free(err);
    check(!strcmp(p.os, "elf"));
    check(p.nfields == 0 && p.nconsts == 0);
    check(p.nsyms >= 1 && p.nsyms <= 13 && p.nsyms <= PROFILE_MAX_SYMS);
    check(!strcmp(p.syms[0].name, "kernel_text"));
    check(p.syms[0].size <= UINT64_MAX - p.syms[0].addr);
    for (u32 i = 0; i < p.nsyms; i++) {
        check(name_ok(p.syms[i].name, PROFILE_NAME));
        for (u32 j = 0; j < i; j++)
            check(strcmp(p.syms[i].name, p.syms[j].name) != 0);
        u64 a = 0, s = 0;
        check(profile_symbol(&p, p.syms[i].name, &a, &s));
        check(a == p.syms[i].addr && s == p.syms[i].size);
    }
    check(p.kernel_phys_start < p.kernel_phys_end);
    /* the image's virtual start does not wrap, and translations around
     * its edges land inside it */
    check(p.kernel_virt_base <= UINT64_MAX - p.kernel_phys_start);
    u64 lo = p.kernel_virt_base + p.kernel_phys_start, hi = p.kernel_virt_base + p.kernel_phys_end;
    const u64 probes[] = { 0, lo - 1, lo, lo + 1, hi - 1, hi, hi + 1, UINT64_MAX, p.syms[0].addr };
    for (u32 i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        u64 pa = profile_kva_to_pa(&p, probes[i]);
        if (pa) {
            check(pa == probes[i] - p.kernel_virt_base);
            check(pa >= p.kernel_phys_start && pa < p.kernel_phys_end);
        }
    }
    return 0;
}
