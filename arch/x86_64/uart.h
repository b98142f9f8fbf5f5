/* 16550 UART. */
#ifndef VIGIL_ARCH_UART_H
#define VIGIL_ARCH_UART_H

#include "lib/types.h"

#define COM1_PORT 0x3f8
#define COM2_PORT 0x2f8

void uart_init(u16 base);
#define UART_FIFO 16

/* Up to n bytes into the transmitter: a FIFO's worth when it is empty,
 * else none (or, with wait, after a bounded wait for it). Returns how many.
 * n = 0 with wait: waits (bounded) until the transmitter has sent all. */
u32 uart_write(u16 base, const char *buf, u32 n, bool wait);
/* A received byte, or -1 when none is waiting. */
int uart_getc(u16 base);

#endif
