#include "lib/cmdline.h"
#include "lib/string.h"

static void take(const char *s, size_t n, char *dst, size_t size, bool *cut)
{
    if (!size) {
        *cut = true;
        return;
    }
    if (n >= size) {
        n = size - 1;
        *cut = true;
    }
    memcpy(dst, s, n);
    dst[n] = 0;
}

bool cmdline_next(const char **p, char *key, size_t keysize, char *val, size_t valsize, bool *truncated)
{
    const char *s = *p;
    bool cut = false;
    while (*s == ' ' || *s == '\t')
        s++;
    if (!*s)
        return false;
    const char *k = s;
    while (*s && *s != ' ' && *s != '\t' && *s != '=')
        s++;
    take(k, (size_t)(s - k), key, keysize, &cut);
    if (*s == '=') {
        const char *v = ++s;
        while (*s && *s != ' ' && *s != '\t')
            s++;
        take(v, (size_t)(s - v), val, valsize, &cut);
    } else {
        val[0] = 0;
    }
    *p = s;
    if (truncated)
        *truncated = cut;
    return true;
}

bool cmdline_get(const char *line, const char *key, char *val, size_t valsize)
{
    /* Words are read into scratch space: val changes only on a match (a
     * caller's default must survive a line without the key). */
    char k[64], v[256];
    const char *p = line;
    bool cut;
    while (cmdline_next(&p, k, sizeof(k), v, sizeof(v), &cut))
        if (!cut && !strcmp(k, key)) {
            if (strlen(v) >= valsize)
                return false;
            str_copy(val, v, valsize);
            return true;
        }
    return false;
}
