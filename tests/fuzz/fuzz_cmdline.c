/* libFuzzer target: cmdline_next and cmdline_get on arbitrary text with
 * small buffers. The first input byte picks the buffer sizes (1..16); the
 * rest, NUL-terminated, is the command line. Each word returned is checked
 * against the text it came from. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cmdline.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

static void check(int ok)
{
    if (!ok)
        abort();
}

static int blank(char c) { return c == ' ' || c == '\t'; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t keysize = 1 + (data[0] & 15), valsize = 1 + (data[0] >> 4);
    size_t n = size - 1;
    char *line = malloc(n + 1);
    memcpy(line, data + 1, n);
    line[n] = 0;
    size_t len = strlen(line);   /* the text stops at the first NUL */

    /* exact-size heap buffers: ASan sees any write past them */
    char *key = malloc(keysize), *val = malloc(valsize);
    key[0] = val[0] = 0;
    const char *p = line;
    size_t words = 0;
    bool cut;
    for (;;) {
        const char *before = p;
        cut = false;
        if (!cmdline_next(&p, key, keysize, val, valsize, &cut)) {
            /* the end: only blanks were left */
            for (const char *s = before; *s; s++)
                check(blank(*s));
            break;
        }
        check(++words <= len);
        check(p > before && p <= line + len);
        check(strlen(key) < keysize && strlen(val) < valsize);

        /* the word is before..p without its leading blanks */
        const char *w = before;
        while (blank(*w))
            w++;
        size_t wlen = (size_t)(p - w);
        check(wlen > 0 && (*p == 0 || blank(*p)));
        const char *eq = memchr(w, '=', wlen);
        size_t klen = eq ? (size_t)(eq - w) : wlen;
        size_t vlen = eq ? wlen - klen - 1 : 0;
        size_t kwant = klen < keysize ? klen : keysize - 1;
        size_t vwant = vlen < valsize ? vlen : valsize - 1;
        check(strlen(key) == kwant && !memcmp(key, w, kwant));
        check(strlen(val) == vwant && (!eq || !memcmp(val, eq + 1, vwant)));
        check(cut == (klen >= keysize || vlen >= valsize));
    }

    /* cmdline_get: must not overrun val, whatever the line (with no word
     * at all it leaves val alone) */
    val[0] = 0;
    bool found = cmdline_get(line, "console", val, valsize);
    check(strlen(val) < valsize);
    if (!strstr(line, "console"))
        check(!found);

    free(key);
    free(val);
    free(line);
    return 0;
}
