/* vioport: user-space port I/O, as a raw-disk tool does it: ioperm grants
 * the primary ATA channel's ports (0x1f0-0x1f7) to this process, which then
 * selects the master drive and reads the cylinder registers (an ATAPI
 * device leaves its signature 0x14 0xeb there). Bare, the device answers;
 * where the port I/O is refused, reads return all ones. */
#include <stdio.h>
#include <sys/io.h>

int main(void)
{
    if (ioperm(0x1f0, 8, 1)) {
        perror("VIGIL-PROG vioport ioperm");
        return 1;
    }
    outb(0xa0, 0x1f6);                      /* drive/head: the master */
    unsigned lo = inb(0x1f4), hi = inb(0x1f5);
    printf("VIGIL-PROG vioport ioperm ok; 0x1f4 0x1f5 read 0x%02x 0x%02x\n", lo, hi);
    return 0;
}
