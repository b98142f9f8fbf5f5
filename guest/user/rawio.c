/* rawio: drives the primary ATA controller (ports 0x1F0-0x1F7) from ring 3
 * after iopl(3): selects the master, issues IDENTIFY DEVICE (0xEC), and
 * IDENTIFY PACKET DEVICE (0xA1) if the device answers with the ATAPI
 * signature, then reads the 256 identify words with REP INSW.
 * With an argument, it first sleeps that many milliseconds after iopl(3)
 * (the rename-diskd and inject-diskd scenarios act on it then).
 * Exit 0: the device answered with data; 1: no answer; 2: iopl refused. */
#include "ulib.h"

#define ATA_DATA   0x1f0
#define ATA_SECCNT 0x1f2
#define ATA_LBA0   0x1f3
#define ATA_LBA1   0x1f4
#define ATA_LBA2   0x1f5
#define ATA_DRIVE  0x1f6
#define ATA_CMD    0x1f7
#define ST_BSY 0x80
#define ST_DRQ 0x08
#define ST_ERR 0x01

static uint8_t wait_not_busy(void)
{
    uint8_t s = 0xff;
    for (int i = 0; i < 100000; i++) {
        s = inb(ATA_CMD);
        if (!(s & ST_BSY))
            break;
    }
    return s;
}

int main(long arg)
{
    if (iopl(3) != 0) {
        printf("rawio: iopl(3) refused\n");
        return 2;
    }
    if (arg > 0)
        sleep_ms(arg);
    outb(ATA_DRIVE, 0xa0);
    for (int i = 0; i < 4; i++)
        inb(ATA_CMD);                    /* 400 ns settle */
    uint8_t s = inb(ATA_CMD);
    if (s == 0xff || s == 0x00) {
        printf("rawio: no device answers (status 0x%x)\n", s);
        return 1;
    }
    outb(ATA_SECCNT, 0);
    outb(ATA_LBA0, 0);
    outb(ATA_LBA1, 0);
    outb(ATA_LBA2, 0);
    outb(ATA_CMD, 0xec);
    s = wait_not_busy();
    const char *cmd = "IDENTIFY";
    if ((s & ST_ERR) && inb(ATA_LBA1) == 0x14 && inb(ATA_LBA2) == 0xeb) {
        outb(ATA_CMD, 0xa1);
        s = wait_not_busy();
        cmd = "IDENTIFY PACKET";
    }
    if (!(s & ST_DRQ) || (s & ST_ERR)) {
        printf("rawio: %s got status 0x%x, no data\n", cmd, s);
        return 1;
    }
    /* The 256 words in one string instruction, as a driver reads them.
     * The buffer starts zeroed: a refused transfer leaves it so. */
    uint16_t id[256];
    for (int i = 0; i < 256; i++)
        id[i] = 0;
    void *dst = id;
    long count = 256;
    __asm__ volatile("cld; rep insw" : "+D"(dst), "+c"(count) : "d"(ATA_DATA) : "memory");
    char model[41];
    for (int i = 0; i < 20; i++) {
        model[2 * i] = (char)(id[27 + i] >> 8);
        model[2 * i + 1] = (char)id[27 + i];
    }
    model[40] = 0;
    for (int i = 39; i >= 0 && model[i] == ' '; i--)
        model[i] = 0;
    int nonzero = 0;
    for (int i = 0; i < 256; i++)
        nonzero |= id[i] != 0 && id[i] != 0xffff;
    printf("rawio: %s status 0x%x, model \"%s\"\n", cmd, s, model);
    return nonzero ? 0 : 1;
}
