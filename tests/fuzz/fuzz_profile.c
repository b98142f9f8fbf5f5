/* libFuzzer target: profile_parse on arbitrary bytes, then every lookup of
 * every parsed name and profile_kva_to_pa around the image. On failure the
 * message must start with "profile"; on success every name is a proper
 * string within its array and is found again by its lookup. A `kaslr 1`
 * profile places nothing until profile_place; then it is placed with a
 * slide taken from the input, and every translation must land inside the
 * placed physical extent. The same bytes go through progdb_parse too (the
 * profile's `program` records, ids/progdb.c): on success every program's
 * pages are in ascending order inside the table, and each is found again
 * with its hash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ids/profile.h"
#include "ids/progdb.h"

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

static void check_progdb(const uint8_t *data, size_t size)
{
    static struct progdb db;
    char err[80];
    memset(err, 'Z', sizeof(err));
    int r = progdb_parse((const char *)data, size, &db, err, sizeof(err));
    check(r == 0 || r == -1);
    if (r == -1) {
        check(memchr(err, 0, sizeof(err)) != NULL && !strncmp(err, "profile", 7));
        return;
    }
    check(db.nprog <= PROGDB_MAX_PROGRAMS && db.npages <= PROGDB_MAX_PAGES);
    u32 total = 0;
    for (u32 k = 0; k < db.nprog; k++) {
        check(name_ok(db.prog[k].name, PROGDB_NAME) && progdb_find(&db, db.prog[k].name) == (int)k);
        check(db.prog[k].count > 0 && db.prog[k].first == total);
        total += db.prog[k].count;
        check(total <= db.npages);
        for (u32 i = db.prog[k].first; i < total; i++) {
            u64 h = ~db.page[i].hash;
            check(!(db.page[i].va & 0xfff) && db.page[i].va < PROGDB_USER_TOP);
            check(i == db.prog[k].first || db.page[i].va > db.page[i - 1].va);
            check(progdb_page(&db, k, db.page[i].va, &h) && h == db.page[i].hash);
            check(!progdb_page(&db, k, db.page[i].va + 1, &h));
        }
    }
    check(total == db.npages);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_progdb(data, size);
    static struct profile p;
    size_t errlen = 80;
    char *err = malloc(errlen);
    memset(err, 'Z', errlen);
    int r = profile_parse((const char *)data, size, &p, err, errlen);
    check(r == 0 || r == -1);
    if (r == -1) {
        check(memchr(err, 0, errlen) != NULL);
        check(!strncmp(err, "profile", 7));
        free(err);
        return 0;
    }
    check(err[0] == 'Z');
    free(err);
    check(name_ok(p.os, sizeof(p.os)));
    check(strnlen(p.release, sizeof(p.release)) < sizeof(p.release));
    check(p.placed == !p.kaslr);
    if (p.kaslr) {
        u64 a;
        for (u32 i = 0; i < p.nsyms; i++)
            check(!profile_symbol(&p, p.syms[i].name, &a, NULL) && profile_link_symbol(&p, p.syms[i].name, &a));
        check(!profile_kva_to_pa(&p, p.kernel_virt_base + p.kernel_phys_start));
        /* a slide and a physical start from the input's first bytes */
        u64 slide = 0, phys = 0;
        memcpy(&slide, data, size < 8 ? size : 8);
        if (size > 8)
            memcpy(&phys, data + 8, size - 8 < 8 ? size - 8 : 8);
        if (profile_place(&p, slide, phys)) {
            check(p.placed && p.slide == slide && p.phys_start == phys);
            u64 lo = p.kernel_virt_base + p.kernel_phys_start + slide, len = p.kernel_phys_end - p.kernel_phys_start;
            const u64 probes[] = { lo - 1, lo, lo + 1, lo + len - 1, lo + len, 0, UINT64_MAX };
            for (u32 i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
                u64 pa = profile_kva_to_pa(&p, probes[i]);
                if (pa)
                    check(pa >= phys && pa - phys < len && pa - phys == probes[i] - lo);
            }
            for (u32 i = 0; i < p.nsyms; i++) {
                u64 link = 0;
                check(profile_symbol(&p, p.syms[i].name, &a, NULL) && profile_link_symbol(&p, p.syms[i].name, &link));
                check(a == link + slide);
            }
        } else {
            check(!p.placed);
        }
        return 0;
    }
    check(p.nsyms <= PROFILE_MAX_SYMS && p.nfields <= PROFILE_MAX_FIELDS && p.nconsts <= PROFILE_MAX_CONSTS);
    for (u32 i = 0; i < p.nsyms; i++) {
        check(name_ok(p.syms[i].name, PROFILE_NAME));
        u64 a = 0, s = 0;
        check(profile_symbol(&p, p.syms[i].name, &a, &s));
        /* the first entry of that name */
        u32 j = 0;
        while (strcmp(p.syms[j].name, p.syms[i].name))
            j++;
        check(a == p.syms[j].addr && s == p.syms[j].size);
    }
    for (u32 i = 0; i < p.nfields; i++) {
        check(name_ok(p.fields[i].name, PROFILE_NAME));
        u64 o = 0;
        check(profile_field(&p, p.fields[i].name, &o, NULL));
    }
    for (u32 i = 0; i < p.nconsts; i++) {
        check(name_ok(p.consts[i].name, PROFILE_NAME));
        u64 v = 0;
        check(profile_const(&p, p.consts[i].name, &v));
    }
    /* translations at and around the image's edges */
    u64 lo = p.kernel_virt_base + p.kernel_phys_start, hi = p.kernel_virt_base + p.kernel_phys_end;
    const u64 probes[] = { 0, lo - 1, lo, lo + 1, hi - 1, hi, hi + 1, UINT64_MAX, p.kernel_virt_base };
    for (u32 i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        u64 pa = profile_kva_to_pa(&p, probes[i]);
        if (pa)
            check(pa == probes[i] - p.kernel_virt_base);
    }
    return 0;
}
