/* vioport: user-space port I/O, as a raw-disk tool does it: ioperm grants
 * the primary ATA channel's ports (0x1f0-0x1f7) to this process, which then
 * selects the master drive and reads the cylinder registers. Bare, the
 * device answers (Bochs's CD-ROM on the primary channel: 0x00 0x40);
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
