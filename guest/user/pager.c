/* pager: grows its heap by `pages` pages and touches each once (demand
 * paging), checks the pages are zeroed, writes and reads them back. */
#include "ulib.h"

int main(long pages)
{
    volatile uint8_t *m = sbrk(pages * 4096);
    if ((long)m < 0)
        return 203;
    for (long i = 0; i < pages; i++) {
        if (m[i * 4096 + 100])
            return 204;
        m[i * 4096 + 100] = (uint8_t)i;
    }
    for (long i = 0; i < pages; i++)
        if (m[i * 4096 + 100] != (uint8_t)i)
            return 205;
    return 7;
}
