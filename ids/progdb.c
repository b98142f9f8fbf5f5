#include "ids/progdb.h"
#include "ids/profile.h"
#include "lib/fmt.h"
#include "lib/string.h"

#define FAIL(...) do { fmt_snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

int progdb_parse(const char *text, size_t len, struct progdb *db, char *err, size_t errlen)
{
    memset(db, 0, sizeof(*db));
    if (len > 262144)
        FAIL("profile is %zu bytes; at most 262144", len);
    u32 ln = 0;
    for (size_t pos = 0; pos < len;) {
        char line[256];
        size_t n = 0;
        ln++;
        while (pos < len && text[pos] != '\n') {
            char ch = text[pos++];
            if (n + 1 >= sizeof(line))
                FAIL("profile line %u: longer than %u characters", ln, (u32)sizeof(line) - 1);
            line[n++] = ch == '\t' || ch == '\r' ? ' ' : ch;
        }
        pos++;
        line[n] = 0;
        char *w[5] = { 0 };
        u32 nw = profile_words(line, w, 5);
        if (!nw || strcmp(w[0], "program"))
            continue;                       /* the profile's own records */
        u64 va, hash;
        size_t nl = nw > 1 ? strlen(w[1]) : 0;
        if (nw != 4 || !nl || nl >= PROGDB_NAME || !str_to_u64(w[2], strlen(w[2]), &va) ||
            !str_to_u64(w[3], strlen(w[3]), &hash))
            FAIL("profile line %u: 'program NAME PAGE_VA HASH' expected (NAME 1-%u characters)", ln,
                 PROGDB_NAME - 1);
        if ((va & 0xfff) || va >= PROGDB_USER_TOP)
            FAIL("profile line %u: page 0x%llx of %s is not a 4 KiB-aligned user address", ln,
                 (unsigned long long)va, w[1]);
        u32 cur = db->nprog ? db->nprog - 1 : 0;
        if (!db->nprog || strcmp(db->prog[cur].name, w[1])) {
            if (progdb_find(db, w[1]) >= 0)
                FAIL("profile line %u: the pages of %s are not together (a second run of its records)", ln, w[1]);
            if (db->nprog == PROGDB_MAX_PROGRAMS)
                FAIL("profile line %u: more than %d programs", ln, PROGDB_MAX_PROGRAMS);
            cur = db->nprog++;
            str_copy(db->prog[cur].name, w[1], PROGDB_NAME);
            db->prog[cur].first = db->npages;
        } else if (va <= db->page[db->npages - 1].va) {
            FAIL("profile line %u: page 0x%llx of %s does not come after 0x%llx (ascending order)", ln,
                 (unsigned long long)va, w[1], (unsigned long long)db->page[db->npages - 1].va);
        }
        if (db->npages == PROGDB_MAX_PAGES)
            FAIL("profile line %u: more than %d program pages", ln, PROGDB_MAX_PAGES);
        db->page[db->npages].va = va;
        db->page[db->npages].hash = hash;
        db->npages++;
        db->prog[cur].count++;
    }
    return 0;
}

int progdb_find(const struct progdb *db, const char *name)
{
    for (u32 i = 0; i < db->nprog && i < PROGDB_MAX_PROGRAMS; i++)
        if (!strcmp(db->prog[i].name, name))
            return (int)i;
    return -1;
}

bool progdb_page(const struct progdb *db, u32 prog, u64 va, u64 *hash)
{
    if (prog >= db->nprog || prog >= PROGDB_MAX_PROGRAMS)
        return false;
    u32 lo = db->prog[prog].first, hi = lo + db->prog[prog].count;
    if (hi > db->npages || hi > PROGDB_MAX_PAGES)
        return false;
    while (lo < hi) {
        u32 mid = lo + (hi - lo) / 2;
        if (db->page[mid].va == va) {
            *hash = db->page[mid].hash;
            return true;
        }
        if (db->page[mid].va < va)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}
