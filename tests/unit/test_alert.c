/* Unit tests for ids/alert.c: alert_format (the contract's one-line JSON
 * alert record) and the alert log: seqs, the repeat limit and the byte
 * budget (alert_log_admit/print/tick). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "ids/alert.h"
#include "lib/string.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

/* The example record of ARCHITECTURE.md, "Alert record". */
static const char CONTRACT_EXAMPLE[] =
    "{\"type\":\"alert\",\"seq\":7,\"time_ns\":912345,\"policy\":\"kernel-text\",\"severity\":\"critical\","
    "\"action\":\"block\",\"vcpu\":0,\"rip\":\"0xffffffff80101234\",\"cr3\":\"0x3f2000\",\"pid\":4,"
    "\"process\":\"evil\",\"gva\":\"0xffffffff80100000\",\"gpa\":\"0x100000\","
    "\"detail\":\"write to protected kernel text\"}";

static struct alert full_alert(void)
{
    struct alert a;
    memset(&a, 0, sizeof(a));
    a.seq = 7;
    a.time_ns = 912345;
    a.policy = POL_KERNEL_TEXT;
    a.severity = SEV_CRITICAL;
    a.action = ACT_BLOCK;
    a.vcpu = 0;
    a.rip = 0xffffffff80101234ull;
    a.cr3 = 0x3f2000;
    a.pid = 4;
    str_copy(a.process, "evil", sizeof(a.process));
    a.has_gva = a.has_gpa = true;
    a.gva = 0xffffffff80100000ull;
    a.gpa = 0x100000;
    str_copy(a.detail, "write to protected kernel text", sizeof(a.detail));
    return a;
}

/* Nothing known beyond what is always present. */
static struct alert bare_alert(void)
{
    struct alert a;
    memset(&a, 0, sizeof(a));
    a.seq = 1;
    a.policy = POL_IO_GUARD;
    a.severity = SEV_HIGH;
    a.action = ACT_ALERT;
    a.vcpu = 1;
    a.rip = 0x401000;
    a.cr3 = 0;
    a.pid = -1;
    str_copy(a.detail, "outb 0x1f0", sizeof(a.detail));
    return a;
}

static char out[1024];

static size_t format(const struct alert *a)
{
    memset(out, 'X', sizeof(out));
    return alert_format(a, out, sizeof(out));
}

/* ---- a small JSON checker: one object of string keys, values strings or
 * integers, nothing after it. Collects the keys in order. ---- */

struct keys {
    u32 n;
    char k[20][16];
};

static const char *json_string(const char *p, char *copy, size_t size)
{
    size_t n = 0;
    if (*p++ != '"')
        return NULL;
    for (;;) {
        unsigned char c = (unsigned char)*p++;
        if (c == '"')
            break;
        if (c < 0x20 || c >= 0x7f)               /* vigil writes ASCII only */
            return NULL;
        if (c == '\\') {
            c = (unsigned char)*p++;
            if (c == 'u') {
                for (int i = 0; i < 4; i++, p++)
                    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')))
                        return NULL;
            } else if (!strchr("\"\\/bfnrt", c) || !c) {
                return NULL;
            }
        }
        if (copy && n + 1 < size)
            copy[n++] = (char)c;
    }
    if (copy)
        copy[n] = 0;
    return p;
}

static const char *json_integer(const char *p)
{
    if (*p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return NULL;
    if (*p == '0' && p[1] >= '0' && p[1] <= '9')
        return NULL;                              /* no leading zeros */
    while (*p >= '0' && *p <= '9')
        p++;
    return p;
}

static bool json_object(const char *s, struct keys *k)
{
    memset(k, 0, sizeof(*k));
    const char *p = s;
    if (*p++ != '{')
        return false;
    for (;;) {
        if (k->n == ARRAY_SIZE(k->k))
            return false;
        p = json_string(p, k->k[k->n], sizeof(k->k[0]));
        if (!p || *p++ != ':')
            return false;
        for (u32 i = 0; i < k->n; i++)
            if (!strcmp(k->k[i], k->k[k->n]))
                return false;                     /* duplicate key */
        k->n++;
        p = *p == '"' ? json_string(p, NULL, 0) : json_integer(p);
        if (!p)
            return false;
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p++ != '}')
            return false;
        return *p == 0;
    }
}

static void assert_keys_(const char *s, const char *const *want, u32 n, const char *file, int line)
{
    struct keys k;
    if (!json_object(s, &k)) {
        print_error("not one JSON object: %s\n", s);
        _fail(file, line);
    }
    bool same = k.n == n;
    for (u32 i = 0; same && i < n; i++)
        same = !strcmp(k.k[i], want[i]);
    if (!same) {
        print_error("keys of %s are not as expected\n", s);
        _fail(file, line);
    }
}
#define assert_keys(s, ...) do { \
        static const char *const w_[] = { __VA_ARGS__ }; \
        assert_keys_((s), w_, ARRAY_SIZE(w_), __FILE__, __LINE__); \
    } while (0)

/* ---- alert_format ---- */

static void test_format_contract_example(void **state)
{
    (void)state;
    struct alert a = full_alert();
    size_t n = format(&a);
    assert_string_equal(out, CONTRACT_EXAMPLE);
    assert_int_equal(n, strlen(CONTRACT_EXAMPLE));
    assert_keys(out, "type", "seq", "time_ns", "policy", "severity", "action", "vcpu", "rip", "cr3", "pid",
                "process", "gva", "gpa", "detail");
}

static void test_format_leaves_out_unknowns(void **state)
{
    (void)state;
    struct alert a = bare_alert();
    size_t n = format(&a);
    static const char want[] =
        "{\"type\":\"alert\",\"seq\":1,\"time_ns\":0,\"policy\":\"io-guard\",\"severity\":\"high\","
        "\"action\":\"alert\",\"vcpu\":1,\"rip\":\"0x401000\",\"cr3\":\"0x0\",\"detail\":\"outb 0x1f0\"}";
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
    assert_keys(out, "type", "seq", "time_ns", "policy", "severity", "action", "vcpu", "rip", "cr3", "detail");
    assert_null(strstr(out, "pid"));
    assert_null(strstr(out, "process"));
    assert_null(strstr(out, "gva"));
    assert_null(strstr(out, "gpa"));
}

static void test_format_each_optional_key_alone(void **state)
{
    (void)state;
    struct alert a = bare_alert();
    a.pid = 0;                                    /* pid 0 is known */
    format(&a);
    assert_non_null(strstr(out, "\"cr3\":\"0x0\",\"pid\":0,\"detail\":"));
    a = bare_alert();
    str_copy(a.process, "diskd", sizeof(a.process));
    format(&a);
    assert_non_null(strstr(out, "\"cr3\":\"0x0\",\"process\":\"diskd\",\"detail\":"));
    a = bare_alert();
    a.has_gva = true;
    a.gva = 0x7fff0000;
    format(&a);
    assert_non_null(strstr(out, "\"cr3\":\"0x0\",\"gva\":\"0x7fff0000\",\"detail\":"));
    a = bare_alert();
    a.has_gpa = true;
    a.gpa = 0;
    format(&a);
    assert_non_null(strstr(out, "\"cr3\":\"0x0\",\"gpa\":\"0x0\",\"detail\":"));
}

static void test_format_extreme_numbers(void **state)
{
    (void)state;
    struct alert a = full_alert();
    a.seq = UINT64_MAX;
    a.time_ns = UINT64_MAX;
    a.vcpu = UINT32_MAX;
    a.rip = UINT64_MAX;
    a.cr3 = 0;
    a.pid = INT64_MAX;
    format(&a);
    assert_non_null(strstr(out, "\"seq\":18446744073709551615,\"time_ns\":18446744073709551615,"));
    assert_non_null(strstr(out, "\"vcpu\":4294967295,\"rip\":\"0xffffffffffffffff\",\"cr3\":\"0x0\""));
    assert_non_null(strstr(out, "\"pid\":9223372036854775807,"));
    assert_keys(out, "type", "seq", "time_ns", "policy", "severity", "action", "vcpu", "rip", "cr3", "pid",
                "process", "gva", "gpa", "detail");
}

static void test_format_every_policy_action_severity(void **state)
{
    (void)state;
    for (u32 p = 0; p < POL_COUNT; p++)
        for (u32 act = ACT_ALERT; act <= ACT_SUSPEND; act++)
            for (u32 s = SEV_LOW; s <= SEV_CRITICAL; s++) {
                struct alert a = full_alert();
                a.policy = (enum policy_id)p;
                a.action = (enum action)act;
                a.severity = (enum severity)s;
                assert_true(format(&a) > 0);
                char want[160];
                snprintf(want, sizeof(want), "\"policy\":\"%s\",\"severity\":\"%s\",\"action\":\"%s\",",
                         policy_name(a.policy), severity_name(a.severity), action_name(a.action));
                assert_non_null(strstr(out, want));
                assert_keys(out, "type", "seq", "time_ns", "policy", "severity", "action", "vcpu", "rip", "cr3",
                            "pid", "process", "gva", "gpa", "detail");
            }
}

static void test_format_escapes_detail(void **state)
{
    (void)state;
    struct alert a = bare_alert();
    str_copy(a.detail, "say \"hi\" C:\\dir\\ tab\tnl\nbell\x07 del\x7f hi\x80", sizeof(a.detail));
    format(&a);
    assert_non_null(strstr(out, "\"detail\":\"say \\\"hi\\\" C:\\\\dir\\\\ tab\\u0009nl\\u000abell\\u0007 "
                                "del\\u007f hi\\u0080\"}"));
    assert_keys(out, "type", "seq", "time_ns", "policy", "severity", "action", "vcpu", "rip", "cr3", "detail");
    assert_null(strchr(out, '\n'));               /* one line */
}

static void test_format_escapes_process(void **state)
{
    (void)state;
    struct alert a = full_alert();
    str_copy(a.process, "ev\"il\\\n\x1f", sizeof(a.process));
    format(&a);
    assert_non_null(strstr(out, "\"process\":\"ev\\\"il\\\\\\u000a\\u001f\",\"gva\":"));
    assert_keys(out, "type", "seq", "time_ns", "policy", "severity", "action", "vcpu", "rip", "cr3", "pid",
                "process", "gva", "gpa", "detail");
}

static void test_format_empty_and_longest_detail(void **state)
{
    (void)state;
    struct alert a = bare_alert();
    a.detail[0] = 0;
    format(&a);
    assert_non_null(strstr(out, ",\"detail\":\"\"}"));
    /* the longest detail, every character escaped to six */
    memset(a.detail, 0x01, sizeof(a.detail) - 1);
    a.detail[sizeof(a.detail) - 1] = 0;
    size_t n = format(&a);
    assert_int_equal(n, strlen(out));
    assert_keys(out, "type", "seq", "time_ns", "policy", "severity", "action", "vcpu", "rip", "cr3", "detail");
    /* and a 15-character process name of quotes */
    a = full_alert();
    memset(a.process, '"', sizeof(a.process) - 1);
    a.process[sizeof(a.process) - 1] = 0;
    memset(a.detail, '\\', sizeof(a.detail) - 1);
    a.detail[sizeof(a.detail) - 1] = 0;
    n = format(&a);
    assert_true(n > 0);
    assert_keys(out, "type", "seq", "time_ns", "policy", "severity", "action", "vcpu", "rip", "cr3", "pid",
                "process", "gva", "gpa", "detail");
}

/* Every buffer size from 0 to one past the record: 0 until the record and
 * its NUL fit, then exactly the record. Each buffer is an exact-size heap
 * block, so ASan catches a single byte written past it. */
static void check_all_sizes_(const struct alert *a, const char *file, int line)
{
    char full[1024];
    size_t len = alert_format(a, full, sizeof(full));
    assert_true(len > 0 && len == strlen(full));
    for (size_t size = 0; size <= len + 1; size++) {
        char *buf = malloc(size ? size : 1);
        assert_non_null(buf);
        memset(buf, 'X', size);
        size_t n = alert_format(a, size ? buf : NULL, size);
        if (size <= len && n != 0) {
            print_error("size %zu (record %zu): returned %zu, \"%.*s\", expected 0\n", size, len, n, (int)size, buf);
            free(buf);
            _fail(file, line);
        }
        if (size == len + 1 && (n != len || strcmp(buf, full))) {
            print_error("size %zu: returned %zu, expected %zu\n", size, n, len);
            free(buf);
            _fail(file, line);
        }
        free(buf);
    }
}
#define check_all_sizes(a) check_all_sizes_((a), __FILE__, __LINE__)

/* With the clock read and a host name: "time" (RFC 3339, UTC, ms) next to
 * time_ns, then "host", escaped like every string; each fits exactly or
 * not at all. */
static void test_format_time_and_host(void **state)
{
    (void)state;
    struct alert a = bare_alert();
    a.wall_ms = 1796144343123ull;
    str_copy(a.host, "lab-7.example", sizeof(a.host));
    size_t n = format(&a);
    static const char want[] =
        "{\"type\":\"alert\",\"seq\":1,\"time_ns\":0,\"time\":\"2026-12-01T16:59:03.123Z\",\"host\":\"lab-7.example\","
        "\"policy\":\"io-guard\",\"severity\":\"high\",\"action\":\"alert\",\"vcpu\":1,\"rip\":\"0x401000\","
        "\"cr3\":\"0x0\",\"detail\":\"outb 0x1f0\"}";
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
    assert_keys(out, "type", "seq", "time_ns", "time", "host", "policy", "severity", "action", "vcpu", "rip", "cr3",
                "detail");
    check_all_sizes(&a);
    str_copy(a.host, "a\"b", sizeof(a.host));
    format(&a);
    assert_non_null(strstr(out, ",\"host\":\"a\\\"b\","));
    a.host[0] = 0;
    a.wall_ms = 0;
    format(&a);
    assert_null(strstr(out, "\"time\""));
    assert_null(strstr(out, "\"host\""));
}

static void test_format_too_small_plain(void **state)
{
    (void)state;
    struct alert a = full_alert();
    check_all_sizes(&a);
    a = bare_alert();
    check_all_sizes(&a);
    a = bare_alert();
    a.detail[0] = 0;
    check_all_sizes(&a);
}

static void test_format_too_small_with_two_byte_escapes(void **state)
{
    (void)state;
    struct alert a = full_alert();
    str_copy(a.detail, "quote\" and backslash\\", sizeof(a.detail));
    str_copy(a.process, "a\"b", sizeof(a.process));
    check_all_sizes(&a);
}

/* Regression: when a character escaped to six bytes (\u00XX) no longer
 * fitted, the escape stopped early without saying so and alert_format
 * closed the record anyway, returning a truncated record instead of 0. */
static void test_format_too_small_with_control_characters(void **state)
{
    (void)state;
    struct alert a = full_alert();
    str_copy(a.detail, "line one\nline two\n", sizeof(a.detail));
    check_all_sizes(&a);
    a = bare_alert();
    str_copy(a.process, "tab\there", sizeof(a.process));
    str_copy(a.detail, "\x01\x02\x03", sizeof(a.detail));
    check_all_sizes(&a);
}

/* ---- alert_log ---- */

static struct alert_log alog;

/* The console: takes every record (out_ok), or none (out_full: the ring
 * is full). Records taken are kept, to check their seqs. */
static u32 nout, ntaken;
static u64 taken_seq[4096];

static u64 seq_of(const char *line)
{
    const char *p = strstr(line, "\"seq\":");
    return p ? strtoull(p + 6, NULL, 10) : 0;
}

static bool out_ok(const char *line)
{
    nout++;
    if (ntaken < ARRAY_SIZE(taken_seq))
        taken_seq[ntaken++] = seq_of(line);
    return true;
}

static bool out_full(const char *line)
{
    (void)line;
    nout++;
    return false;
}

enum fate { SUPPRESSED, DROPPED, PRINTED };

static enum fate raise_to(struct alert *a, u64 object, bool (*out)(const char *))
{
    u64 s = alog.suppressed, d = alog.dropped, p = alog.emitted;
    enum fate f;
    if (alert_log_admit(&alog, a, object) && alert_log_print(&alog, a, object, out))
        f = PRINTED;
    else
        f = alog.suppressed != s ? SUPPRESSED : DROPPED;
    /* exactly one counter moved, by one */
    assert_int_equal(alog.suppressed - s + alog.dropped - d + alog.emitted - p, 1);
    assert_int_equal(f == PRINTED, alog.emitted - p);
    assert_int_equal(f == DROPPED, alog.dropped - d);
    return f;
}

static enum fate raise1(struct alert *a, u64 object) { return raise_to(a, object, out_ok); }

/* raised = printed + suppressed + dropped, in all and per policy */
static void check_counts(void)
{
    assert_int_equal(alog.next_seq - 1, alog.emitted + alog.suppressed + alog.dropped);
    u64 raised = 0, supp = 0, drop = 0;
    for (u32 i = 0; i < POL_COUNT; i++) {
        raised += alog.by_policy[i];
        supp += alog.suppressed_by_policy[i];
        drop += alog.dropped_by_policy[i];
        assert_true(alog.suppressed_by_policy[i] + alog.dropped_by_policy[i] <= alog.by_policy[i]);
    }
    assert_int_equal(supp, alog.suppressed);
    assert_int_equal(drop, alog.dropped);
    assert_true(raised <= alog.next_seq - 1);
}

static void reset_log(void)
{
    alert_log_init(&alog);
    nout = ntaken = 0;
}

static struct alert raised(enum policy_id p, u64 rip)
{
    struct alert a = bare_alert();
    a.seq = 0;
    a.policy = p;
    a.rip = rip;
    return a;
}

/* A record's bytes on the line (CR LF included). */
static u32 line_bytes(const struct alert *a)
{
    char buf[512];
    struct alert b = *a;
    b.seq = alog.next_seq;
    return (u32)alert_format(&b, buf, sizeof(buf)) + 2;
}

static void test_log_init(void **state)
{
    (void)state;
    memset(&alog, 0xa5, sizeof(alog));
    alert_log_init(&alog);
    assert_int_equal(alog.next_seq, 1);
    assert_int_equal(alog.emitted, 0);
    assert_int_equal(alog.suppressed, 0);
    assert_int_equal(alog.dropped, 0);
    assert_int_equal(alog.budget_left[0], ALERT_BURST);     /* a full burst to start with */
    assert_int_equal(alog.nvcpus, 1);
    assert_int_equal(alog.nrecent, 0);
    for (u32 i = 0; i < POL_COUNT; i++) {
        assert_int_equal(alog.by_policy[i], 0);
        assert_int_equal(alog.suppressed_by_policy[i], 0);
        assert_int_equal(alog.dropped_by_policy[i], 0);
    }
}

static void test_budget_is_the_line_capacity(void **state)
{
    (void)state;
    /* 115200 baud 8N1 carries 11520 bytes a second; the window is 100 ms */
    assert_int_equal(LOG_BYTES_PER_S, 11520);
    assert_int_equal(ALERT_WINDOW_TICKS, 10);
    assert_int_equal(ALERT_BUDGET, 1152);
    /* saved up to a burst the log ring holds with room to spare */
    assert_int_equal(ALERT_BURST, 8192);
    assert_true(ALERT_BURST <= LOG_RING_SIZE / 2);
}

/* ALERT_MIN_BYTES is the shortest record there can be, CR LF included: no
 * combination is shorter, and one is exactly that long. */
static void test_min_bytes_is_the_shortest_record(void **state)
{
    (void)state;
    size_t shortest = ~(size_t)0;
    for (u32 p = 0; p < POL_COUNT; p++)
        for (u32 act = ACT_ALERT; act <= ACT_SUSPEND; act++)
            for (u32 sv = SEV_LOW; sv <= SEV_CRITICAL; sv++) {
                struct alert a;
                memset(&a, 0, sizeof(a));
                a.seq = 1;
                a.policy = (enum policy_id)p;
                a.action = (enum action)act;
                a.severity = (enum severity)sv;
                a.pid = -1;
                size_t n = format(&a);
                assert_true(n > 0);
                if (n < shortest)
                    shortest = n;
            }
    assert_int_equal(shortest + 2, ALERT_MIN_BYTES);
}

static void test_every_alert_takes_a_seq(void **state)
{
    (void)state;
    reset_log();
    /* repeats, distinct keys over the budget, printed ones: all numbered */
    for (u32 i = 0; i < 10; i++) {
        struct alert a = raised(POL_KERNEL_TEXT, 0x1000);
        raise1(&a, 0);
        assert_int_equal(a.seq, i + 1);
    }
    for (u32 i = 0; i < 100; i++) {
        struct alert a = raised(POL_IO_GUARD, 0x2000 + i);
        raise1(&a, 0x1f0);
        assert_int_equal(a.seq, 11 + i);
    }
    assert_int_equal(alog.next_seq, 111);
    check_counts();
    assert_int_equal(alog.suppressed, 10 - ALERT_REPEAT_LIMIT);
    assert_true(alog.dropped > 0);
    /* the printed ones are a subset of 1..raised, in order, as many as printed */
    assert_int_equal(ntaken, alog.emitted);
    for (u32 i = 0; i < ntaken; i++) {
        assert_true(taken_seq[i] >= 1 && taken_seq[i] <= 110);
        if (i)
            assert_true(taken_seq[i] > taken_seq[i - 1]);
    }
    assert_int_equal(taken_seq[0], 1);
    assert_int_equal(taken_seq[ALERT_REPEAT_LIMIT], 11);      /* 4-10 were repeats: a gap */
}

static void test_log_repeats_printed_up_to_the_limit(void **state)
{
    (void)state;
    reset_log();
    for (u32 i = 0; i < ALERT_REPEAT_LIMIT; i++) {
        struct alert a = raised(POL_KERNEL_TEXT, 0xffffffff80101234ull);
        assert_int_equal(raise1(&a, 0xffffffff80100000ull), PRINTED);
        assert_int_equal(a.seq, i + 1);
    }
    u32 printed_calls = nout;
    for (u32 i = 0; i < 5; i++) {
        struct alert a = raised(POL_KERNEL_TEXT, 0xffffffff80101234ull);
        assert_int_equal(raise1(&a, 0xffffffff80100000ull), SUPPRESSED);
        assert_int_equal(a.seq, ALERT_REPEAT_LIMIT + 1 + i);
    }
    assert_int_equal(nout, printed_calls);        /* a repeat is never formatted */
    assert_int_equal(alog.emitted, ALERT_REPEAT_LIMIT);
    assert_int_equal(alog.suppressed, 5);
    assert_int_equal(alog.dropped, 0);
    assert_int_equal(alog.suppressed_by_policy[POL_KERNEL_TEXT], 5);
    assert_int_equal(alog.by_policy[POL_KERNEL_TEXT], ALERT_REPEAT_LIMIT + 5);
    assert_int_equal(alog.next_seq, ALERT_REPEAT_LIMIT + 6);
    for (u32 i = 0; i < POL_COUNT; i++)
        if (i != POL_KERNEL_TEXT) {
            assert_int_equal(alog.by_policy[i], 0);
            assert_int_equal(alog.suppressed_by_policy[i], 0);
        }
    check_counts();
}

static void test_log_repeats_stay_suppressed_across_ticks(void **state)
{
    (void)state;
    reset_log();
    for (u32 i = 0; i < ALERT_REPEAT_LIMIT; i++) {
        struct alert a = raised(POL_MSR_GUARD, 0x1000);
        assert_int_equal(raise1(&a, 0xc0000082), PRINTED);
    }
    alert_log_tick(&alog);
    struct alert a = raised(POL_MSR_GUARD, 0x1000);
    assert_int_equal(raise1(&a, 0xc0000082), SUPPRESSED);
    check_counts();
}

static void test_log_different_object_rip_or_policy_is_printed(void **state)
{
    (void)state;
    reset_log();
    for (u32 i = 0; i < ALERT_REPEAT_LIMIT + 1; i++) {
        struct alert a = raised(POL_IO_GUARD, 0x401000);
        raise1(&a, 0x1f0);
    }
    alert_log_tick(&alog);                        /* budget for three more */
    struct alert a = raised(POL_IO_GUARD, 0x401000);
    assert_int_equal(raise1(&a, 0x1f1), PRINTED);             /* another port */
    a = raised(POL_IO_GUARD, 0x401002);
    assert_int_equal(raise1(&a, 0x1f0), PRINTED);             /* another rip */
    a = raised(POL_SIGNATURE, 0x401000);
    assert_int_equal(raise1(&a, 0x1f0), PRINTED);             /* another policy */
    assert_int_equal(a.seq, ALERT_REPEAT_LIMIT + 4);
    assert_int_equal(alog.suppressed, 1);
    assert_int_equal(alog.by_policy[POL_IO_GUARD], ALERT_REPEAT_LIMIT + 3);
    assert_int_equal(alog.by_policy[POL_SIGNATURE], 1);
    check_counts();
}

static void test_log_interleaved_repeats(void **state)
{
    (void)state;
    reset_log();
    u32 printed_a = 0, printed_b = 0;
    for (u32 i = 0; i < 10; i++) {
        alert_log_tick(&alog);                    /* the budget is not what holds them back */
        struct alert a = raised(POL_CR_GUARD, 0x2000);
        printed_a += raise1(&a, 0) == PRINTED;
        struct alert b = raised(POL_CR_GUARD, 0x2000);
        printed_b += raise1(&b, 4) == PRINTED;
    }
    assert_int_equal(printed_a, ALERT_REPEAT_LIMIT);
    assert_int_equal(printed_b, ALERT_REPEAT_LIMIT);
    assert_int_equal(alog.suppressed, 20 - 2 * ALERT_REPEAT_LIMIT);
    assert_int_equal(alog.dropped, 0);
    check_counts();
}

/* The budget is in bytes: records are printed while their bytes fit what
 * is saved (a burst of 8192 to start with), then dropped; each window adds
 * the 1152 bytes the line carries in it, and no more is saved than a burst. */
static void test_log_budget_in_bytes(void **state)
{
    (void)state;
    reset_log();
    struct alert a = raised(POL_PAGETABLE_AUDIT, 0x5000);
    u32 len = line_bytes(&a), burst = 0, expect = ALERT_BURST;
    assert_true(ALERT_BUDGET / len >= 4 && ALERT_BUDGET / len < 32);   /* the old 32 a window was 8x the line */
    /* every record whose bytes fit what is left is printed, and charged */
    for (;;) {
        a = raised(POL_PAGETABLE_AUDIT, 0x5000);
        len = line_bytes(&a);
        if (len > expect)
            break;
        assert_int_equal(raise1(&a, 0x100000 + burst * 0x1000), PRINTED);
        expect -= len;
        burst++;
        assert_int_equal(alog.budget_left[0], expect);
    }
    assert_true(burst >= ALERT_BURST / len && burst <= ALERT_BURST / (len - 2));   /* (seqs grow a digit) */
    u32 left = alog.budget_left[0];
    assert_true(left < len);
    /* new objects, but their bytes do not fit what is left */
    for (u32 i = 0; i < 3; i++) {
        a = raised(POL_HIDDEN_PROCESS, 0x6000);
        assert_int_equal(raise1(&a, 1000 + i), DROPPED);
    }
    assert_int_equal(alog.budget_left[0], left);  /* nothing charged for a dropped record */
    assert_int_equal(alog.dropped, 3);
    assert_int_equal(alog.dropped_by_policy[POL_HIDDEN_PROCESS], 3);
    assert_int_equal(alog.suppressed, 0);
    assert_int_equal(alog.emitted, burst);
    /* a window: 1152 more bytes, what the line carries in 100 ms */
    alert_log_tick(&alog);
    assert_int_equal(alog.budget_left[0], left + ALERT_BUDGET);
    u32 more = 0;
    for (u32 i = 0; i < 20; i++) {
        a = raised(POL_HIDDEN_PROCESS, 0x6000);
        more += raise1(&a, 2000 + i) == PRINTED;
    }
    assert_true(more >= (left + ALERT_BUDGET) / (len + 1) && more <= (left + ALERT_BUDGET) / len);
    assert_true(alog.budget_left[0] < len + 1);
    assert_int_equal(alog.emitted, burst + more);
    /* seqs burst+1..burst+3 were dropped: a gap before the next printed one */
    assert_int_equal(taken_seq[burst], burst + 4);
    /* windows without alerts save up to a burst, no more */
    for (u32 w = 0; w < 100; w++)
        alert_log_tick(&alog);
    assert_int_equal(alog.budget_left[0], ALERT_BURST);
    check_counts();
}

/* Bytes, not records, and once one does not fit the window is over for
 * its vCPU: a long record that does not fit is dropped, and so is a short
 * one after it that would have (unformatted: a flood stays cheap); the
 * bytes left are saved, and the short one fits in the next window. */
static void test_log_record_that_does_not_fit_ends_the_window(void **state)
{
    (void)state;
    reset_log();
    struct alert a = raised(POL_SIGNATURE, 0x7000);
    u32 shortlen = line_bytes(&a);
    while (alog.budget_left[0] >= 2 * shortlen) {
        a = raised(POL_SIGNATURE, 0x7000 + alog.next_seq);
        assert_int_equal(raise1(&a, 0), PRINTED);
    }
    struct alert big = raised(POL_SIGNATURE, 0x8000);
    memset(big.detail, 'x', sizeof(big.detail) - 1);
    big.detail[sizeof(big.detail) - 1] = 0;
    str_copy(big.process, "a-long-name-abc", sizeof(big.process));
    assert_true(line_bytes(&big) > alog.budget_left[0]);
    u32 left = alog.budget_left[0];
    assert_int_equal(raise1(&big, 0), DROPPED);
    a = raised(POL_SIGNATURE, 0x9000);
    assert_true(line_bytes(&a) <= alog.budget_left[0]);
    nout = 0;
    assert_int_equal(raise1(&a, 0), DROPPED);
    assert_int_equal(nout, 0);                    /* not formatted */
    assert_int_equal(alog.budget_left[0], left);  /* saved */
    alert_log_tick(&alog);
    a = raised(POL_SIGNATURE, 0x9000);
    assert_int_equal(raise1(&a, 0), PRINTED);
    check_counts();
}

/* With less left than the shortest record, an alert is dropped at once:
 * it is never formatted (dropped alerts stay cheap). */
static void test_log_exhausted_budget_skips_formatting(void **state)
{
    (void)state;
    reset_log();
    alog.budget_left[0] = ALERT_MIN_BYTES - 1;
    nout = 0;
    for (u32 i = 0; i < 100; i++) {
        struct alert a = raised(POL_HYPERVISOR_GUARD, 0x10000 + 3 * i);
        assert_false(alert_log_admit(&alog, &a, 0));
        assert_int_equal(a.seq, i + 1);
    }
    assert_int_equal(nout, 0);
    assert_int_equal(alog.dropped, 100);
    assert_int_equal(alog.dropped_by_policy[POL_HYPERVISOR_GUARD], 100);
    alog.budget_left[0] = ALERT_MIN_BYTES;           /* room for the shortest: it is tried */
    struct alert a = raised(POL_HYPERVISOR_GUARD, 0x20000);
    assert_true(alert_log_admit(&alog, &a, 0));
    assert_false(alert_log_print(&alog, &a, 0, out_ok));   /* (this one is longer) */
    assert_int_equal(alog.dropped, 101);
    check_counts();
}

/* The console refuses (its ring is full): dropped, nothing charged, the
 * key does not count toward the repeat limit, and until the next window
 * the vCPU's alerts are dropped unformatted. */
static void test_log_console_refusal_is_a_drop(void **state)
{
    (void)state;
    reset_log();
    for (u32 i = 0; i < 5; i++) {
        struct alert a = raised(POL_IO_GUARD, 0x3000);
        assert_int_equal(raise_to(&a, 0x60, out_full), DROPPED);
    }
    assert_int_equal(alog.budget_left[0], ALERT_BURST);    /* nothing charged */
    assert_int_equal(alog.dropped, 5);
    assert_int_equal(alog.nrecent, 0);
    alert_log_tick(&alog);                        /* (the window is over for this vCPU) */
    for (u32 i = 0; i < ALERT_REPEAT_LIMIT; i++) {
        struct alert a = raised(POL_IO_GUARD, 0x3000);
        assert_int_equal(raise1(&a, 0x60), PRINTED);
    }
    struct alert a = raised(POL_IO_GUARD, 0x3000);
    assert_int_equal(raise1(&a, 0x60), SUPPRESSED);
    check_counts();
}

/* Held back by the budget alone, a key may still be printed later. */
static void test_log_budget_drops_do_not_count_as_repeats(void **state)
{
    (void)state;
    reset_log();
    alog.budget_left[0] = 0;
    for (u32 i = 0; i < 10; i++) {
        struct alert a = raised(POL_CR_GUARD, 0x4000);
        assert_int_equal(raise1(&a, 0), DROPPED);
    }
    alert_log_tick(&alog);
    for (u32 i = 0; i < ALERT_REPEAT_LIMIT; i++) {
        struct alert a = raised(POL_CR_GUARD, 0x4000);
        assert_int_equal(raise1(&a, 0), PRINTED);
    }
    struct alert a = raised(POL_CR_GUARD, 0x4000);
    assert_int_equal(raise1(&a, 0), SUPPRESSED);
    assert_int_equal(alog.dropped, 10);
    assert_int_equal(alog.suppressed, 1);
    check_counts();
}


/* Several vCPUs share the line equally: a flood on one cannot take the
 * others' share, what a share leaves unused is saved up to its part of a
 * burst, and in all the vCPUs never get more than the line carries. */
static void test_log_vcpus_share_the_budget(void **state)
{
    (void)state;
    reset_log();
    alert_log_set_vcpus(&alog, 4);
    assert_int_equal(alog.nvcpus, 4);
    for (u32 v = 0; v < 4; v++)
        assert_int_equal(alog.budget_left[v], ALERT_BURST / 4);
    assert_int_equal(alog.budget_left[4], 0);
    /* vCPU 1 floods: its part of the burst, the rest dropped */
    struct alert a = raised(POL_HYPERVISOR_GUARD, 0x1000);
    u32 len = line_bytes(&a), printed1 = 0;
    for (u32 i = 0; i < 50; i++) {
        a = raised(POL_HYPERVISOR_GUARD, 0x1000 + 3 * i);
        a.vcpu = 1;
        printed1 += raise1(&a, 0) == PRINTED;
    }
    assert_int_equal(printed1, (ALERT_BURST / 4) / len);
    assert_int_equal(alog.dropped, 50 - printed1);
    /* vCPUs 2 and 3 still print theirs */
    for (u32 v = 2; v < 4; v++) {
        a = raised(POL_KERNEL_TEXT, 0x2000 + v);
        a.vcpu = v;
        assert_int_equal(raise1(&a, 0), PRINTED);
    }
    /* a window gives vCPU 1 its quarter of the line again */
    u32 left1 = alog.budget_left[1];
    alert_log_tick(&alog);
    assert_int_equal(alog.budget_left[1], left1 + ALERT_BUDGET / 4);
    /* an unused share is saved up to a quarter of a burst */
    for (u32 w = 0; w < 100; w++)
        alert_log_tick(&alog);
    assert_int_equal(alog.budget_left[0], ALERT_BURST / 4);
    /* over many windows, a vCPU flooding gets its share and no more */
    reset_log();
    alert_log_set_vcpus(&alog, 4);
    u32 bytes = 0;
    for (u32 w = 0; w < 100; w++) {
        for (u32 i = 0; i < 20; i++) {
            a = raised(POL_HYPERVISOR_GUARD, 0x10000 + 1000 * w + 3 * i);
            a.vcpu = 3;
            if (raise1(&a, 0) == PRINTED)
                bytes += line_bytes(&a);
        }
        alert_log_tick(&alog);
    }
    assert_true(bytes <= 100 * (ALERT_BUDGET / 4) + ALERT_BURST / 4);
    assert_true(bytes >= 100 * (ALERT_BUDGET / 4) - 2 * ALERT_MAX_BYTES);   /* (what is left over is saved) */
    check_counts();
}

static void test_log_vcpu_count_is_bounded(void **state)
{
    (void)state;
    reset_log();
    alert_log_set_vcpus(&alog, 0);
    assert_int_equal(alog.nvcpus, 1);
    assert_int_equal(alog.budget_left[0], ALERT_BURST);
    alert_log_set_vcpus(&alog, 1000);
    assert_int_equal(alog.nvcpus, ALERT_VCPUS);
    /* 64 vCPUs: 18 bytes a window each, saved up to one longest record */
    assert_int_equal(alog.budget_left[ALERT_VCPUS - 1], ALERT_MAX_BYTES);
    struct alert a = raised(POL_CR_GUARD, 0x1);
    a.vcpu = 63;
    assert_int_equal(raise1(&a, 0), PRINTED);
    u32 len = line_bytes(&a);
    while (alog.budget_left[63] >= len) {
        a = raised(POL_CR_GUARD, alog.next_seq);
        a.vcpu = 63;
        assert_int_equal(raise1(&a, 0), PRINTED);
    }
    a = raised(POL_CR_GUARD, 0x7777);
    a.vcpu = 63;
    assert_int_equal(raise1(&a, 0), DROPPED);
    u32 w = 0;
    for (; alog.budget_left[63] < len; w++)
        alert_log_tick(&alog);
    assert_true(w >= 2 && w <= len / (ALERT_BUDGET / ALERT_VCPUS) + 1);
    a = raised(POL_CR_GUARD, 0x8888);
    a.vcpu = 63;
    assert_int_equal(raise1(&a, 0), PRINTED);
    a = raised(POL_CR_GUARD, 0x2);
    a.vcpu = 200;                                 /* out of range: the first vCPU's share */
    u32 before0 = alog.budget_left[0];
    assert_int_equal(raise1(&a, 0), PRINTED);
    assert_true(alog.budget_left[0] < before0);
    check_counts();
}

static void test_log_recent_ring_holds_the_last_printed(void **state)
{
    (void)state;
    reset_log();
    for (u32 i = 0; i < ALERT_REPEAT_LIMIT; i++) {
        struct alert a = raised(POL_KERNEL_TEXT, 0x100);
        assert_int_equal(raise1(&a, 0), PRINTED);
    }
    u32 total = ALERT_RECENT + 5;
    u64 seqs[ALERT_RECENT + 5];
    for (u32 i = 0; i < total; i++) {
        alert_log_tick(&alog);
        struct alert a = raised(POL_KERNEL_TEXT, 0x200 + i);
        a.time_ns = 1000 + i;
        assert_int_equal(raise1(&a, 0), PRINTED);
        seqs[i] = a.seq;
        /* a suppressed repeat and a dropped alert between them */
        struct alert r = raised(POL_KERNEL_TEXT, 0x100);
        assert_int_equal(raise1(&r, 0), SUPPRESSED);
        u32 keep = alog.budget_left[0];
        alog.budget_left[0] = 0;
        struct alert d = raised(POL_KERNEL_TEXT, 0x9000 + i);
        assert_int_equal(raise1(&d, 0), DROPPED);
        alog.budget_left[0] = keep;
    }
    assert_int_equal(alog.nrecent, ALERT_REPEAT_LIMIT + total);
    u32 n = alog.nrecent;
    /* the last ALERT_RECENT printed, at (n - 1 - k) % ALERT_RECENT */
    for (u32 k = 0; k < ALERT_RECENT; k++) {
        const struct alert *r = &alog.recent[(n - 1 - k) % ALERT_RECENT];
        assert_int_equal(r->seq, seqs[total - 1 - k]);
        assert_int_equal(r->rip, 0x200 + total - 1 - k);
    }
    check_counts();
}

static void test_log_recent_copies_the_whole_alert(void **state)
{
    (void)state;
    reset_log();
    struct alert a = full_alert();
    a.seq = 0;
    assert_int_equal(raise1(&a, 0x100000), PRINTED);
    assert_int_equal(alog.nrecent, 1);
    assert_memory_equal(&alog.recent[0], &a, sizeof(a));
    char buf[512];
    assert_true(alert_format(&alog.recent[0], buf, sizeof(buf)) > 0);
    assert_non_null(strstr(buf, "\"seq\":1,"));
}

static void test_log_out_of_range_policy(void **state)
{
    (void)state;
    reset_log();
    struct alert a = raised((enum policy_id)POL_COUNT, 0x1);
    assert_int_equal(raise1(&a, 0), PRINTED);
    for (u32 i = 0; i < POL_COUNT; i++)
        assert_int_equal(alog.by_policy[i], 0);
    alog.budget_left[0] = 0;
    a = raised((enum policy_id)POL_COUNT, 0x2);
    assert_int_equal(raise1(&a, 0), DROPPED);
    for (u32 i = 0; i < POL_COUNT; i++)
        assert_int_equal(alog.dropped_by_policy[i], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_contract_example),
        cmocka_unit_test(test_format_leaves_out_unknowns),
        cmocka_unit_test(test_format_each_optional_key_alone),
        cmocka_unit_test(test_format_extreme_numbers),
        cmocka_unit_test(test_format_every_policy_action_severity),
        cmocka_unit_test(test_format_escapes_detail),
        cmocka_unit_test(test_format_escapes_process),
        cmocka_unit_test(test_format_empty_and_longest_detail),
        cmocka_unit_test(test_format_time_and_host),
        cmocka_unit_test(test_format_too_small_plain),
        cmocka_unit_test(test_format_too_small_with_two_byte_escapes),
        cmocka_unit_test(test_format_too_small_with_control_characters),
        cmocka_unit_test(test_log_init),
        cmocka_unit_test(test_budget_is_the_line_capacity),
        cmocka_unit_test(test_min_bytes_is_the_shortest_record),
        cmocka_unit_test(test_every_alert_takes_a_seq),
        cmocka_unit_test(test_log_repeats_printed_up_to_the_limit),
        cmocka_unit_test(test_log_repeats_stay_suppressed_across_ticks),
        cmocka_unit_test(test_log_different_object_rip_or_policy_is_printed),
        cmocka_unit_test(test_log_interleaved_repeats),
        cmocka_unit_test(test_log_budget_in_bytes),
        cmocka_unit_test(test_log_record_that_does_not_fit_ends_the_window),
        cmocka_unit_test(test_log_exhausted_budget_skips_formatting),
        cmocka_unit_test(test_log_console_refusal_is_a_drop),
        cmocka_unit_test(test_log_budget_drops_do_not_count_as_repeats),
        cmocka_unit_test(test_log_vcpus_share_the_budget),
        cmocka_unit_test(test_log_vcpu_count_is_bounded),
        cmocka_unit_test(test_log_recent_ring_holds_the_last_printed),
        cmocka_unit_test(test_log_recent_copies_the_whole_alert),
        cmocka_unit_test(test_log_out_of_range_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
