/* Alert records: one JSON object a line (the contract's alert record), and
 * the alert log, which keeps a guest from drowning the console or stalling
 * on it. Every raised alert takes the next seq. Of the same (policy, rip,
 * object), ALERT_REPEAT_LIMIT records are printed and later ones suppressed
 * as repeats. A record is printed only while its bytes fit what the console
 * line carries: ALERT_BUDGET bytes every ALERT_WINDOW_TICKS, saved up to a
 * burst of ALERT_BURST bytes (which the log ring holds), and shared equally
 * by the vCPUs (so a flood on one cannot silence the others); else it is
 * dropped. Nothing is lost silently: raised = printed + suppressed +
 * dropped, and a seq missing from the console is a record not printed. */
#ifndef VIGIL_IDS_ALERT_H
#define VIGIL_IDS_ALERT_H

#include "lib/types.h"
#include "ids/policy.h"
#include "lib/log.h"

#define ALERT_REPEAT_LIMIT 3
/* The budget's window: 10 ticks of 10 ms. In it the line carries 1152
 * bytes at 115200 baud 8N1, four or five records. */
#define ALERT_WINDOW_TICKS 10
#define ALERT_BUDGET (LOG_BYTES_PER_S * ALERT_WINDOW_TICKS / 100)
/* No record is shorter (135 bytes, then CR LF): below this, the budget
 * left holds none and nothing is formatted. */
#define ALERT_MIN_BYTES 137
/* What is not spent is saved, up to a burst of half the log ring: about 35
 * records at once, out on the line within 0.7 s. A vCPU's part of it is at
 * least the longest record (the formatter's 512 bytes, CR LF included). */
#define ALERT_BURST (LOG_RING_SIZE / 2)
#define ALERT_MAX_BYTES 513
#define ALERT_VCPUS 64
#define ALERT_KEYS 128
#define ALERT_RECENT 16
#define ALERT_DETAIL 120

struct alert {
    u64 seq;
    u64 time_ns;
    u64 wall_ms;                   /* Unix time in ms; 0: vigil has no clock */
    char host[64];                 /* "": no name */
    enum policy_id policy;
    enum severity severity;
    enum action action;
    u32 vcpu;
    u64 rip, cr3;
    s64 pid;                       /* -1: unknown */
    char process[16];              /* "" : unknown */
    bool has_gva, has_gpa;
    u64 gva, gpa;
    char detail[ALERT_DETAIL];
};

/* Format one record (no newline). Returns its length, 0 if it did not fit. */
size_t alert_format(const struct alert *a, char *buf, size_t size);

struct alert_log {
    u64 next_seq;                      /* raised so far: next_seq - 1 */
    u64 emitted, suppressed, dropped;  /* printed, repeats, over the console's capacity */
    u64 by_policy[POL_COUNT];          /* alerts raised */
    u64 suppressed_by_policy[POL_COUNT], dropped_by_policy[POL_COUNT];
    u32 nvcpus;                        /* sharing the budget */
    u32 budget_left[ALERT_VCPUS];      /* bytes each vCPU may still print */
    bool full[ALERT_VCPUS];            /* a record did not fit: the rest of the window is dropped */
    struct { u64 key; u32 count; } keys[ALERT_KEYS];
    struct alert recent[ALERT_RECENT];
    u32 nrecent;
};

void alert_log_init(struct alert_log *l);
/* The budget shared by n vCPUs (1 at init): each gets ALERT_BUDGET / n
 * bytes a window and saves up to max(ALERT_BURST / n, ALERT_MAX_BYTES),
 * which it starts with. */
void alert_log_set_vcpus(struct alert_log *l, u32 n);
/* A new window: each vCPU's share is added to what it had left. */
void alert_log_tick(struct alert_log *l);
/* Raising an alert, step one: it is counted and takes the next seq. False
 * when that is all: it repeats a key printed ALERT_REPEAT_LIMIT times
 * (suppressed), or its vCPU's budget holds no record (dropped: less than
 * the shortest record is left, or one did not fit in this window). True: the
 * caller completes the alert (process, detail) and calls alert_log_print.
 * `object` identifies what was hit (address, port, MSR...). */
bool alert_log_admit(struct alert_log *l, struct alert *a, u64 object);
/* Step two: formatted and handed to `out` (the console) if its bytes fit
 * the budget left. Else, or if out refuses it (no room), it is dropped.
 * True if printed. */
bool alert_log_print(struct alert_log *l, const struct alert *a, u64 object, bool (*out)(const char *line));

#endif
