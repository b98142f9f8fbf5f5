/* 16550 UART. */
#ifndef VIGIL_ARCH_UART_H
#define VIGIL_ARCH_UART_H

#include "lib/types.h"

#define COM1_PORT 0x3f8
#define COM2_PORT 0x2f8

void uart_init(u16 base);
void uart_putc(u16 base, char c);
/* A received byte, or -1 when none is waiting. */
int uart_getc(u16 base);

#endif
