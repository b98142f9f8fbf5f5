/* testos: polled 16550 console and a small printf. */
#include "kernel.h"

#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20
#define SPIN_MAX 200000          /* a dead UART must not hang the kernel */

static u16 con_port = 0x2f8;

void console_init(u16 port)
{
    con_port = port;
    outb(port + UART_IER, 0);        /* no interrupts: polled */
    outb(port + UART_LCR, 0x80);     /* DLAB */
    outb(port + 0, 1);               /* divisor 1: 115200 baud */
    outb(port + 1, 0);
    outb(port + UART_LCR, 0x03);     /* 8N1 */
    outb(port + UART_FCR, 0xc7);     /* FIFO on, cleared */
    outb(port + UART_MCR, 0x03);     /* DTR, RTS */
}

u16 console_port(void) { return con_port; }

static bool uart_putc(u16 port, char c)
{
    for (int i = 0; i < SPIN_MAX; i++) {
        u8 lsr = inb(port + UART_LSR);
        if (lsr == 0xff)
            return false;            /* nothing decodes this port */
        if (lsr & LSR_THRE) {
            outb(port + UART_THR, (u8)c);
            return true;
        }
    }
    return false;
}

/* Writes bytes as they are to a UART that this kernel did not set up.
 * Returns false if the port looked dead or never became ready. */
bool uart_write_raw(u16 port, const char *s, size_t n)
{
    bool ok = true;
    for (size_t i = 0; i < n; i++)
        ok = uart_putc(port, s[i]) && ok;
    return ok;
}

void kwrite(const char *s, size_t n)
{
    u64 f = irq_save();
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            uart_putc(con_port, '\r');
        uart_putc(con_port, s[i]);
    }
    irq_restore(f);
}

/* Waits until the transmitter is empty (LSR.TEMT): the last line must be out
 * before a power-off ends the machine. */
void console_flush(void)
{
    for (int i = 0; i < SPIN_MAX; i++) {
        u8 lsr = inb(con_port + UART_LSR);
        if (lsr == 0xff)
            return;
        if (lsr & 0x40)
            break;
    }
    /* TEMT is set as the last byte starts out: give it a character time
     * (87 us at 115200 baud) before anything ends the machine. */
    u64 t = rdtsc();
    while (rdtsc() - t < 1000000)
        __asm__ volatile("pause");
}

void kputs(const char *s) { kwrite(s, strlen(s)); }

struct out { char *buf; size_t n, len; };

static void emit(struct out *o, char c)
{
    if (o->len + 1 < o->n)
        o->buf[o->len] = c;
    o->len++;
}

static void emit_num(struct out *o, u64 v, unsigned base, bool neg, int width, char pad)
{
    char tmp[24];
    int i = 0;
    do {
        tmp[i++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (neg)
        tmp[i++] = '-';
    for (int w = i; w < width; w++)
        emit(o, pad);
    while (i)
        emit(o, tmp[--i]);
}

/* %d %i %u %x %p %s %c %%, with flags '-' (strings only) and '0', width, 'l'/'ll'/'z'. */
int kvsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
    struct out o = { buf, n, 0 };
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            emit(&o, *fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0, lng = 0;
        bool left = false;
        if (*fmt == '-') {
            left = true;
            fmt++;
        }
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l' || *fmt == 'z') {
            lng = 1;
            fmt++;
        }
        switch (*fmt) {
        case 'd': case 'i': {
            i64 v = lng ? va_arg(ap, i64) : va_arg(ap, int);
            emit_num(&o, v < 0 ? -(u64)v : (u64)v, 10, v < 0, width, pad);
            break;
        }
        case 'u':
            emit_num(&o, lng ? va_arg(ap, u64) : va_arg(ap, unsigned), 10, false, width, pad);
            break;
        case 'x':
            emit_num(&o, lng ? va_arg(ap, u64) : va_arg(ap, unsigned), 16, false, width, pad);
            break;
        case 'p':
            emit(&o, '0');
            emit(&o, 'x');
            emit_num(&o, (u64)va_arg(ap, void *), 16, false, width, pad);
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            int len = (int)strlen(s);
            for (int w = len; !left && w < width; w++)
                emit(&o, ' ');
            while (*s)
                emit(&o, *s++);
            for (int w = len; left && w < width; w++)
                emit(&o, ' ');
            break;
        }
        case 'c':
            emit(&o, (char)va_arg(ap, int));
            break;
        case '%':
            emit(&o, '%');
            break;
        case 0:
            fmt--;
            break;
        default:
            emit(&o, '%');
            emit(&o, *fmt);
        }
    }
    if (n)
        buf[o.len < n ? o.len : n - 1] = 0;
    return (int)o.len;
}

int ksnprintf(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = kvsnprintf(buf, n, fmt, ap);
    va_end(ap);
    return r;
}

void kprintf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int r = kvsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    kwrite(buf, r < (int)sizeof buf ? (size_t)r : sizeof buf - 1);
}
