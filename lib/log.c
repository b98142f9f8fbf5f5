#include "lib/log.h"
#include "lib/fmt.h"

static log_sink_fn sink;
static enum log_level level = LOG_INFO;
static bool at_line_start = true;

static void (*lock_fn)(void), (*unlock_fn)(void);

void log_set_sink(log_sink_fn s) { sink = s; }
void log_set_lock(void (*lock)(void), void (*unlock)(void))
{
    lock_fn = lock;
    unlock_fn = unlock;
}
void log_set_level(enum log_level l) { level = l; }
enum log_level log_get_level(void) { return level; }

bool log_parse_level(const char *s, enum log_level *out)
{
    static const char *const names[] = { "error", "warn", "info", "debug" };
    for (u32 i = 0; i < ARRAY_SIZE(names); i++) {
        const char *a = names[i], *b = s;
        while (*a && *a == *b)
            a++, b++;
        if (!*a && !*b) {
            *out = (enum log_level)i;
            return true;
        }
    }
    return false;
}

static void emit(char c)
{
    if (!sink)
        return;
    if (c == '\n') {
        sink('\r');
        sink('\n');
        at_line_start = true;
        return;
    }
    if (at_line_start && c == '{')
        sink(' ');          /* never let a log line pass for an alert record */
    if (c != '\r')          /* a lone CR starts the line over for any reader */
        at_line_start = false;
    sink(c);
}

void kvprintf(const char *fmt, va_list ap)
{
    char buf[512];
    int n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
    if (lock_fn)
        lock_fn();
    for (int i = 0; buf[i]; i++)
        emit(buf[i]);
    if (n >= (int)sizeof(buf))
        for (const char *t = "...[cut]\n"; *t; t++)
            emit(*t);
    if (unlock_fn)
        unlock_fn();
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
}

void klog(enum log_level l, const char *fmt, ...)
{
    if (l > level)
        return;
    va_list ap;
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
}

void log_record(const char *line)
{
    if (!sink)
        return;
    if (lock_fn)
        lock_fn();
    if (!at_line_start)
        emit('\n');
    for (; *line && *line != '\n'; line++)
        sink(*line);
    emit('\n');
    if (unlock_fn)
        unlock_fn();
}
