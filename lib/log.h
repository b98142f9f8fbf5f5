/* vigil's console log. Lines are plain text; the log layer guarantees that no
 * line it prints starts with '{' (that is reserved for alert records, which
 * are written with log_record). */
#ifndef VIGIL_LIB_LOG_H
#define VIGIL_LIB_LOG_H

#include "lib/types.h"

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

typedef void (*log_sink_fn)(char c);

void log_set_sink(log_sink_fn sink);
/* Lines from several CPUs: lock around each print (NULL: none). */
void log_set_lock(void (*lock)(void), void (*unlock)(void));
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error|warn|info|debug"; false if unknown. */
bool log_parse_level(const char *s, enum log_level *out);

void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);
void klog(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One whole record line as is (the alert log uses this; nothing else may). */
void log_record(const char *line);

#define log_err(...)   klog(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  klog(LOG_WARN, __VA_ARGS__)
#define log_info(...)  klog(LOG_INFO, __VA_ARGS__)
#define log_debug(...) klog(LOG_DEBUG, __VA_ARGS__)

#endif
