#include "arch/x86_64/uart.h"
#include "arch/x86_64/cpu.h"
#include "lib/log.h"

enum { THR = 0, RBR = 0, IER = 1, FCR = 2, LCR = 3, MCR = 4, LSR = 5 };

void uart_init(u16 base)
{
    outb(base + IER, 0x00);      /* polled: no interrupts */
    outb(base + LCR, 0x80);      /* DLAB to set the divisor */
    outb(base + 0, 115200 / LOG_BAUD);   /* divisor of the 1.8432 MHz / 16 clock */
    outb(base + 1, 0);
    outb(base + LCR, 0x03);      /* 8N1 */
    outb(base + FCR, 0xc7);      /* FIFO on, cleared, 14-byte threshold */
    outb(base + MCR, 0x03);      /* DTR, RTS */
}

u32 uart_write(u16 base, const char *buf, u32 n, bool wait)
{
    /* LSR.THRE set: the transmit FIFO is empty, and takes 16 bytes. The
     * wait is bounded: a missing UART must not hang vigil. */
    u8 until = n ? 0x20 : 0x40;                /* n = 0: LSR.TEMT, everything sent */
    if (wait)
        for (u32 i = 0; i < 1000000 && !(inb(base + LSR) & until); i++)
            cpu_relax();
    else if (!(inb(base + LSR) & 0x20))
        return 0;
    if (n > UART_FIFO)
        n = UART_FIFO;
    for (u32 i = 0; i < n; i++)
        outb(base + THR, (u8)buf[i]);
    return n;
}

int uart_getc(u16 base)
{
    if (!(inb(base + LSR) & 0x01))
        return -1;
    return inb(base + RBR);
}
