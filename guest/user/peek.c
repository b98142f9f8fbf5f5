/* peek: reads the dword at address `addr` (the kernel maps something there
 * for it) and exits with its low 31 bits. */
#include "ulib.h"

int main(long addr)
{
    return (int)(*(volatile uint32_t *)addr & 0x7fffffff);
}
