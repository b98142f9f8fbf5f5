#include "arch/x86_64/uart.h"
#include "arch/x86_64/cpu.h"

enum { THR = 0, RBR = 0, IER = 1, FCR = 2, LCR = 3, MCR = 4, LSR = 5 };

void uart_init(u16 base)
{
    outb(base + IER, 0x00);      /* polled: no interrupts */
    outb(base + LCR, 0x80);      /* DLAB to set the divisor */
    outb(base + 0, 1);           /* 115200 baud */
    outb(base + 1, 0);
    outb(base + LCR, 0x03);      /* 8N1 */
    outb(base + FCR, 0xc7);      /* FIFO on, cleared, 14-byte threshold */
    outb(base + MCR, 0x03);      /* DTR, RTS */
}

void uart_putc(u16 base, char c)
{
    /* Bounded wait for THR empty: a missing UART must not hang vigil. */
    for (u32 i = 0; i < 1000000 && !(inb(base + LSR) & 0x20); i++)
        cpu_relax();
    outb(base + THR, (u8)c);
}

int uart_getc(u16 base)
{
    if (!(inb(base + LSR) & 0x01))
        return -1;
    return inb(base + RBR);
}
