#include "lib/search.h"
#include "lib/string.h"

void search_skip(u8 skip[256], const u8 *needle, u32 m)
{
    if (m > SEARCH_MAX_NEEDLE)
        m = SEARCH_MAX_NEEDLE;
    for (u32 c = 0; c < 256; c++)
        skip[c] = (u8)m;
    for (u32 j = 0; j + 1 < m; j++)
        skip[needle[j]] = (u8)(m - 1 - j);
}

const u8 *search_find(const u8 *hay, u32 n, const u8 *needle, u32 m, const u8 skip[256])
{
    if (m == 0 || m > n)
        return 0;
    const u8 last = needle[m - 1];
    for (u32 i = 0; i <= n - m;) {
        u8 c = hay[i + m - 1];
        if (c == last && !memcmp(hay + i, needle, m - 1))
            return hay + i;
        i += skip[c] ? skip[c] : 1;
    }
    return 0;
}
