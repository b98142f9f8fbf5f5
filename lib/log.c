#include "lib/log.h"
#include "lib/fmt.h"

_Static_assert((LOG_RING_SIZE & (LOG_RING_SIZE - 1)) == 0 && LOG_RING_SIZE >= 4096,
               "the ring is a power of two and holds the longest print (3 x 512 bytes cooked)");

static log_tx_fn tx;
static enum log_level level = LOG_INFO;
static bool at_line_start = true;
static bool async;

/* head - tail bytes are queued; both run free and wrap at 2^32. */
static char ring[LOG_RING_SIZE];
static volatile u32 head, tail;
static struct log_stats stats;

static void (*lock_fn)(void), (*unlock_fn)(void);
static bool (*trylock_fn)(void);

void log_set_console(log_tx_fn t) { tx = t; }
void log_set_lock(void (*lock)(void), bool (*trylock)(void), void (*unlock)(void))
{
    lock_fn = lock;
    trylock_fn = trylock;
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

static void lock(void)
{
    if (lock_fn)
        lock_fn();
}

static void unlock(void)
{
    if (unlock_fn)
        unlock_fn();
}

/* --- the ring (callers hold the lock) ------------------------------------- */

/* One call of the console on the oldest queued bytes (as many as lie
 * before the ring's end); false if it took none. */
static bool drain_once(bool wait)
{
    u32 n = head - tail, off = tail & (LOG_RING_SIZE - 1);
    if (!n)
        return false;
    if (n > LOG_RING_SIZE - off)
        n = LOG_RING_SIZE - off;
    u32 k = tx(ring + off, n, wait);
    tail += k;
    return k != 0;
}

static void flush(void)
{
    while (head != tail && drain_once(true))
        ;
}

/* Room for need more bytes: a plain line may wait (draining, waiting on
 * the console), a record may not. */
static bool reserve(u32 need, bool may_wait)
{
    bool waited = false;
    while (LOG_RING_SIZE - (head - tail) < need) {
        if (!may_wait || !drain_once(true))
            return false;                     /* (a console that takes nothing even when waited on) */
        waited = true;
    }
    stats.waits += waited;
    return true;
}

static void put(u32 at, char c) { ring[(head + at) & (LOG_RING_SIZE - 1)] = c; }

/* What a print becomes on the line, counted (write false) or written after
 * `at` queued-but-uncommitted bytes: LF as CR LF, and a space before a '{'
 * that would start a line. *start tracks the start of a line. */
static u32 cook(const char *s, bool *start, u32 at, bool write)
{
    u32 k = at;
    for (; *s; s++) {
        char c = *s;
        if (c == '\n') {
            if (write) {
                put(k, '\r');
                put(k + 1, '\n');
            }
            k += 2;
            *start = true;
            continue;
        }
        if (*start && c == '{') {
            if (write)
                put(k, ' ');                  /* never let a log line pass for an alert record */
            k++;
        }
        if (c != '\r')                        /* a lone CR starts the line over for any reader */
            *start = false;
        if (write)
            put(k, c);
        k++;
    }
    return k - at;
}

/* The bytes are in: make them visible, and send them (all, or what the
 * console takes now). */
static void commit(u32 n)
{
    head += n;
    stats.bytes += n;
    if (head - tail > stats.high_water)
        stats.high_water = head - tail;
    if (async)
        while (drain_once(false))
            ;
    else
        flush();
}

/* --- the interface ---------------------------------------------------------- */

void log_set_async(bool on)
{
    lock();
    if (!on)
        flush();
    async = on;
    unlock();
}

void log_flush(void)
{
    if (!tx)
        return;
    lock();
    flush();
    tx(ring, 0, true);
    unlock();
}

void log_drain(void)
{
    if (head == tail || !async || !tx)
        return;
    if (!trylock_fn)
        lock();
    else if (!trylock_fn())
        return;                               /* whoever holds the log drains it */
    while (drain_once(false))
        ;
    unlock();
}

void log_get_stats(struct log_stats *s)
{
    lock();
    *s = stats;
    unlock();
}

static const char cut_marker[] = "...[cut]\n";

void kvprintf(const char *fmt, va_list ap)
{
    char buf[512];
    int n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
    bool cut = n >= (int)sizeof(buf);
    if (!tx)
        return;
    lock();
    bool st = at_line_start;
    u32 need = cook(buf, &st, 0, false);
    if (cut)
        need += cook(cut_marker, &st, 0, false);
    if (reserve(need, true)) {
        st = at_line_start;
        u32 k = cook(buf, &st, 0, true);
        if (cut)
            k += cook(cut_marker, &st, k, true);
        at_line_start = st;
        commit(k);
    }
    unlock();
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

bool log_record(const char *line)
{
    if (!tx)
        return false;
    u32 len = 0;
    while (line[len] && line[len] != '\n')
        len++;
    lock();
    u32 lead = at_line_start ? 0 : 2;          /* a record starts a line of its own */
    bool ok = len + lead + 2 <= LOG_RING_SIZE && reserve(len + lead + 2, !async);
    if (ok) {
        u32 k = 0;
        if (lead) {
            put(k++, '\r');
            put(k++, '\n');
        }
        for (u32 i = 0; i < len; i++)
            put(k++, line[i]);
        put(k++, '\r');
        put(k++, '\n');
        at_line_start = true;
        commit(k);
    } else {
        stats.records_dropped++;
    }
    unlock();
    return ok;
}
