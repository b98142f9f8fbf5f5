/* vigil's console log. Lines are plain text; the log layer guarantees that no
 * line it prints starts with '{' (that is reserved for alert records, which
 * are written with log_record).
 *
 * Every print (one kprintf, one record) goes whole into one ring of
 * LOG_RING_SIZE bytes, so prints from several CPUs never interleave.
 * Synchronous (the default: the boot report, power-off, a suspended vCPU's
 * console, a crash), a print returns once the console has taken it.
 * Asynchronous (while the guest runs), a print only queues; log_drain hands
 * the console what it takes at once and never waits. A plain line that does
 * not fit waits for room; a record that does not fit is dropped, and
 * log_record says so. */
#ifndef VIGIL_LIB_LOG_H
#define VIGIL_LIB_LOG_H

#include "lib/types.h"

/* The console line: 115200 baud, 8N1 (10 bits a byte). */
#define LOG_BAUD 115200
#define LOG_BYTES_PER_S (LOG_BAUD / 10)
#define LOG_RING_SIZE 16384                 /* a power of two */

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* The console: takes up to n bytes and returns how many it took. Without
 * wait, what it takes at once (0 when busy); with wait, at least one, after
 * a bounded wait for room. n = 0 with wait: returns once (bounded) it has
 * sent everything it took. */
typedef u32 (*log_tx_fn)(const char *buf, u32 n, bool wait);

void log_set_console(log_tx_fn tx);
/* Prints from several CPUs: a lock around each (NULL: none). */
void log_set_lock(void (*lock)(void), bool (*trylock)(void), void (*unlock)(void));
/* On: prints queue. Off: what is queued goes out first, then prints wait. */
void log_set_async(bool on);
/* Everything queued goes out, and the console has sent it (before the
 * machine powers off). */
void log_flush(void);
/* Asynchronous: as much of the ring as the console takes now, no waiting
 * (nothing when another CPU holds the log). */
void log_drain(void);

struct log_stats {
    u64 bytes;                 /* into the ring, in all */
    u32 high_water;            /* most bytes queued at once */
    u64 waits;                 /* plain lines that waited for room */
    u64 records_dropped;       /* records that found the ring full */
};
void log_get_stats(struct log_stats *s);

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error|warn|info|debug"; false if unknown. */
bool log_parse_level(const char *s, enum log_level *out);

void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);
void klog(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One whole record line as is (the alert log uses this; nothing else may).
 * False if it was not queued: asynchronous, and the ring had no room. */
bool log_record(const char *line);

#define log_err(...)   klog(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  klog(LOG_WARN, __VA_ARGS__)
#define log_info(...)  klog(LOG_INFO, __VA_ARGS__)
#define log_debug(...) klog(LOG_DEBUG, __VA_ARGS__)

#endif
