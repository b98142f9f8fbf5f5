/* program-integrity's known-good code pages: the `program NAME PAGE_VA
 * HASH` records that scripts/progpages.py appends to a profile
 * (docs/profile.md). Pure: parsed from the `profile` module's text (the
 * profile's own parser passes these records over), unit-tested and fuzzed.
 * Each program's records are together and in ascending page order, so a
 * page is found by binary search. */
#ifndef VIGIL_IDS_PROGDB_H
#define VIGIL_IDS_PROGDB_H

#include "lib/types.h"

#define PROGDB_MAX_PROGRAMS 16
#define PROGDB_MAX_PAGES 2048          /* busybox (388 pages) and seven test programs (about 120 each) */
#define PROGDB_NAME 16                 /* as a task's comm: at most 15 characters */
#define PROGDB_USER_TOP 0x800000000000ull

struct progdb {
    u32 nprog, npages;
    struct { char name[PROGDB_NAME]; u32 first, count; } prog[PROGDB_MAX_PROGRAMS];
    struct { u64 va, hash; } page[PROGDB_MAX_PAGES];
};

/* Returns 0 (a text with no `program` record gives an empty database), or
 * -1 with "profile line N: ..." in err. */
int progdb_parse(const char *text, size_t len, struct progdb *db, char *err, size_t errlen);
/* The program called name: its index, or -1. */
int progdb_find(const struct progdb *db, const char *name);
/* The known-good hash of program prog's page at va (4 KiB-aligned); false
 * when the program has no such page. */
bool progdb_page(const struct progdb *db, u32 prog, u64 va, u64 *hash);

#endif
