/* Byte-pattern search (Horspool): the first occurrence of a needle of at
 * most 255 bytes in a haystack. The byte of the haystack under the
 * needle's last one says how far the needle may move on (its last place
 * among the needle's other bytes, from a table made once per needle); a
 * byte the needle lacks moves it its whole length. On a page of zeros or
 * of code a 16-byte needle is compared about 256 times, not 4096. Pure:
 * unit-tested against a plain search (tests/unit/test_search.c). */
#ifndef VIGIL_LIB_SEARCH_H
#define VIGIL_LIB_SEARCH_H

#include "lib/types.h"

#define SEARCH_MAX_NEEDLE 255

/* The needle's skip table (m from 1 to SEARCH_MAX_NEEDLE). */
void search_skip(u8 skip[256], const u8 *needle, u32 m);
/* The first occurrence of needle (m bytes, skip from search_skip) in hay
 * (n bytes), or NULL. An all-zero table (not made) moves one byte a step. */
const u8 *search_find(const u8 *hay, u32 n, const u8 *needle, u32 m, const u8 skip[256]);

#endif
