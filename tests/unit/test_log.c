/* Unit tests for lib/log.c, through a fake console that captures every
 * byte: always ready (synchronous tests), or a 16550 that takes one FIFO
 * of 16 bytes each time it is made ready (the ring's tests). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "lib/log.h"
#include "lib/string.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

static char captured[1 << 18];
static size_t ncaptured;

/* The fake UART: `busy` makes it take nothing unless waited on; after it
 * took a FIFO's worth without waiting, it is busy until made ready again. */
static struct { bool fifo_model, busy; u32 calls, flushes, waited; } uart;

static u32 capture(const char *buf, u32 n, bool wait)
{
    uart.calls++;
    if (!n) {
        uart.flushes += wait;
        return 0;
    }
    if (uart.fifo_model) {
        if (uart.busy && !wait)
            return 0;
        uart.waited += uart.busy && wait;
        if (n > 16)
            n = 16;
        uart.busy = true;
    }
    for (u32 i = 0; i < n; i++)
        if (ncaptured + 1 < sizeof(captured))
            captured[ncaptured++] = buf[i];
    captured[ncaptured] = 0;
    return n;
}

static void clear_capture(void)
{
    ncaptured = 0;
    captured[0] = 0;
}

/* Every test starts synchronous, with an empty ring, at the beginning of a
 * line, level info, an always-ready console and an empty capture. */
static int setup(void **state)
{
    (void)state;
    memset(&uart, 0, sizeof(uart));
    log_set_console(capture);
    log_set_lock(NULL, NULL, NULL);
    log_set_async(false);
    log_set_level(LOG_INFO);
    kprintf("\n");
    clear_capture();
    return 0;
}

/* ---- line handling ---- */

static void test_newline_becomes_crlf(void **state)
{
    (void)state;
    kprintf("one\ntwo\n");
    assert_string_equal(captured, "one\r\ntwo\r\n");
}

static void test_formats_arguments(void **state)
{
    (void)state;
    kprintf("vcpu %d exit %s\n", 0, "hlt");
    assert_string_equal(captured, "vcpu 0 exit hlt\r\n");
}

static void test_line_starting_with_brace_gets_leading_space(void **state)
{
    (void)state;
    kprintf("{\"type\":\"alert\"}\n");
    assert_string_equal(captured, " {\"type\":\"alert\"}\r\n");
}

static void test_brace_from_an_argument_at_line_start_gets_leading_space(void **state)
{
    (void)state;
    kprintf("%s\n", "{\"type\":\"alert\",\"seq\":1}");
    assert_string_equal(captured, " {\"type\":\"alert\",\"seq\":1}\r\n");
}

static void test_brace_after_newline_in_same_call_gets_leading_space(void **state)
{
    (void)state;
    kprintf("a\n{b}\n");
    assert_string_equal(captured, "a\r\n {b}\r\n");
}

static void test_brace_at_line_start_in_a_later_call_gets_leading_space(void **state)
{
    (void)state;
    kprintf("a\n");
    kprintf("{b}\n");
    assert_string_equal(captured, "a\r\n {b}\r\n");
}

static void test_brace_inside_a_line_is_unchanged(void **state)
{
    (void)state;
    kprintf("a{b}\n");
    kprintf("x");
    kprintf("{y}\n");
    assert_string_equal(captured, "a{b}\r\nx{y}\r\n");
}

static void test_overlong_line_is_cut_with_marker(void **state)
{
    (void)state;
    char big[700];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    kprintf("%s", big);
    /* 511 characters fit the formatting buffer, then the marker */
    assert_int_equal(ncaptured, 511 + strlen("...[cut]\r\n"));
    assert_memory_equal(captured + 511, "...[cut]\r\n", 10);
    assert_int_equal(captured[510], 'a');
}

static void test_no_sink_prints_nothing(void **state)
{
    (void)state;
    log_set_console(NULL);
    kprintf("lost\n");
    assert_false(log_record("{\"lost\":1}"));
    log_set_console(capture);
    assert_string_equal(captured, "");
}

/* ---- levels ---- */

static void test_level_info_hides_debug(void **state)
{
    (void)state;
    log_debug("d\n");
    log_info("i\n");
    log_warn("w\n");
    log_err("e\n");
    assert_string_equal(captured, "i\r\nw\r\ne\r\n");
}

static void test_level_warn_hides_info_and_debug(void **state)
{
    (void)state;
    log_set_level(LOG_WARN);
    log_debug("d\n");
    log_info("i\n");
    log_warn("w\n");
    log_err("e\n");
    assert_string_equal(captured, "w\r\ne\r\n");
}

static void test_level_error_shows_only_errors(void **state)
{
    (void)state;
    log_set_level(LOG_ERROR);
    log_debug("d\n");
    log_info("i\n");
    log_warn("w\n");
    log_err("e\n");
    assert_string_equal(captured, "e\r\n");
}

static void test_level_debug_shows_everything(void **state)
{
    (void)state;
    log_set_level(LOG_DEBUG);
    log_debug("d\n");
    log_info("i\n");
    log_warn("w\n");
    log_err("e\n");
    assert_string_equal(captured, "d\r\ni\r\nw\r\ne\r\n");
}

static void test_get_level_returns_the_level_set(void **state)
{
    (void)state;
    log_set_level(LOG_DEBUG);
    assert_int_equal(log_get_level(), LOG_DEBUG);
    log_set_level(LOG_ERROR);
    assert_int_equal(log_get_level(), LOG_ERROR);
}

static void test_kprintf_ignores_level(void **state)
{
    (void)state;
    log_set_level(LOG_ERROR);
    kprintf("always\n");
    assert_string_equal(captured, "always\r\n");
}

static void test_klog_brace_line_gets_leading_space(void **state)
{
    (void)state;
    log_err("{x}\n");
    assert_string_equal(captured, " {x}\r\n");
}

/* ---- log_record ---- */

static void test_record_is_written_verbatim(void **state)
{
    (void)state;
    assert_true(log_record("{\"type\":\"alert\",\"seq\":7}"));
    assert_string_equal(captured, "{\"type\":\"alert\",\"seq\":7}\r\n");
}

static void test_record_starts_on_a_new_line(void **state)
{
    (void)state;
    kprintf("partial");
    log_record("{\"seq\":1}");
    assert_string_equal(captured, "partial\r\n{\"seq\":1}\r\n");
}

static void test_record_stops_at_embedded_newline(void **state)
{
    (void)state;
    log_record("{\"seq\":1}\n{\"seq\":2}");
    assert_string_equal(captured, "{\"seq\":1}\r\n");
}

static void test_record_is_not_filtered_by_level(void **state)
{
    (void)state;
    log_set_level(LOG_ERROR);
    log_record("{\"seq\":3}");
    assert_string_equal(captured, "{\"seq\":3}\r\n");
}

static void test_line_after_record_still_gets_leading_space(void **state)
{
    (void)state;
    log_record("{\"seq\":1}");
    kprintf("{fake}\n");
    assert_string_equal(captured, "{\"seq\":1}\r\n {fake}\r\n");
}


/* ---- the ring: asynchronous output ---- */

static struct log_stats stats_now(void)
{
    struct log_stats st;
    log_get_stats(&st);
    return st;
}

/* Asynchronous with a 16550: one drain per "the FIFO is empty". */
static void go_async(void)
{
    uart.fifo_model = true;
    uart.busy = true;
    log_set_async(true);
}

static void drain_all(void)
{
    for (int i = 0; i < 100000; i++) {
        uart.busy = false;
        log_drain();
    }
}

static void test_async_print_only_queues(void **state)
{
    (void)state;
    go_async();
    kprintf("hello\n");
    assert_true(log_record("{\"seq\":1}"));
    assert_int_equal(ncaptured, 0);
    assert_int_equal(uart.waited, 0);
    drain_all();
    assert_string_equal(captured, "hello\r\n{\"seq\":1}\r\n");
    assert_int_equal(uart.waited, 0);           /* never waited on the console */
}

static void test_async_drain_takes_one_fifo_at_a_time(void **state)
{
    (void)state;
    go_async();
    kprintf("0123456789abcdef0123456789ABCDEF\n");  /* 34 bytes with CR LF */
    uart.busy = false;
    log_drain();
    assert_int_equal(ncaptured, 16);
    log_drain();                                  /* the FIFO is still full */
    assert_int_equal(ncaptured, 16);
    uart.busy = false;
    log_drain();
    assert_int_equal(ncaptured, 32);
    uart.busy = false;
    log_drain();
    assert_string_equal(captured, "0123456789abcdef0123456789ABCDEF\r\n");
}

static void test_async_print_sends_what_the_fifo_takes_at_once(void **state)
{
    (void)state;
    go_async();
    uart.busy = false;                            /* the FIFO is empty */
    kprintf("0123456789abcdefXYZ\n");
    assert_string_equal(captured, "0123456789abcdef");
    assert_int_equal(uart.waited, 0);
}

static void test_drain_does_nothing_when_synchronous_or_empty(void **state)
{
    (void)state;
    u32 calls = uart.calls;
    log_drain();                                  /* synchronous: nothing queued */
    go_async();
    log_drain();                                  /* empty */
    assert_int_equal(uart.calls, calls);
}

static bool locked;
static void t_lock(void) { locked = true; }
static bool t_trylock(void) { return false; }   /* another CPU holds the log */
static void t_unlock(void) { locked = false; }

static void test_drain_skips_when_another_cpu_holds_the_log(void **state)
{
    (void)state;
    go_async();
    kprintf("queued\n");
    log_set_lock(t_lock, t_trylock, t_unlock);
    uart.busy = false;
    log_drain();
    assert_int_equal(ncaptured, 0);
    assert_false(locked);
    log_set_lock(NULL, NULL, NULL);
    drain_all();
    assert_string_equal(captured, "queued\r\n");
}

static void test_going_synchronous_sends_the_queue_first(void **state)
{
    (void)state;
    go_async();
    kprintf("first\n");
    assert_true(log_record("{\"seq\":2}"));
    log_set_async(false);
    assert_string_equal(captured, "first\r\n{\"seq\":2}\r\n");
    kprintf("then\n");
    assert_string_equal(captured, "first\r\n{\"seq\":2}\r\nthen\r\n");
}

static void test_flush_sends_everything_and_waits_for_the_wire(void **state)
{
    (void)state;
    go_async();
    kprintf("last words\n");
    log_flush();
    assert_string_equal(captured, "last words\r\n");
    assert_int_equal(uart.flushes, 1);
}

/* Records of exactly 64 bytes on the line (62 + CR LF): the ring holds
 * LOG_RING_SIZE / 64 of them. */
static void record64(char *r, u32 seq)
{
    snprintf(r, 63, "{\"seq\":%08u,\"pad\":\"", seq);
    size_t n = strlen(r);
    memset(r + n, 'p', 62 - 2 - n);
    memcpy(r + 60, "\"}", 3);
}

static void test_full_ring_drops_records_and_counts_them(void **state)
{
    (void)state;
    struct log_stats before = stats_now();
    go_async();
    char r[64];
    u32 kept = 0, dropped = 0;
    for (u32 i = 0; i < LOG_RING_SIZE / 64 + 10; i++) {
        record64(r, i);
        if (log_record(r))
            kept++;
        else
            dropped++;
    }
    assert_int_equal(kept, LOG_RING_SIZE / 64);
    assert_int_equal(dropped, 10);
    struct log_stats after = stats_now();
    assert_int_equal(after.records_dropped - before.records_dropped, 10);
    assert_int_equal(after.high_water, LOG_RING_SIZE);
    assert_int_equal(uart.waited, 0);             /* a record never waits */
    /* a record that no longer fits does not either, even once some room is made */
    uart.busy = false;
    log_drain();                                  /* 16 bytes out: room for none */
    record64(r, 9999);
    assert_false(log_record(r));
    drain_all();
    /* what came out is exactly the records kept, whole and in order */
    assert_int_equal(ncaptured, (size_t)kept * 64);
    for (u32 i = 0; i < kept; i++) {
        record64(r, i);
        assert_memory_equal(captured + i * 64, r, 62);
        assert_memory_equal(captured + i * 64 + 62, "\r\n", 2);
    }
}

static void test_plain_line_waits_for_room(void **state)
{
    (void)state;
    struct log_stats before = stats_now();
    go_async();
    char r[64];
    u32 kept = 0;
    for (u32 i = 0; i < LOG_RING_SIZE / 64; i++) {
        record64(r, i);
        kept += log_record(r);
    }
    assert_int_equal(kept, LOG_RING_SIZE / 64);
    kprintf("the operator's answer\n");           /* no room: it waits, draining */
    assert_true(uart.waited > 0);
    struct log_stats after = stats_now();
    assert_int_equal(after.waits - before.waits, 1);
    assert_int_equal(after.records_dropped, before.records_dropped);
    drain_all();
    assert_int_equal(ncaptured, (size_t)kept * 64 + strlen("the operator's answer\r\n"));
    assert_string_equal(captured + kept * 64, "the operator's answer\r\n");
}

/* Many more bytes than the ring holds, drained a FIFO at a time while
 * lines and records keep coming: every line comes out whole, in order,
 * across the ring's wrap, with CR LF and the '{' rule applied. */
static void test_wrap_keeps_every_line_whole_and_in_order(void **state)
{
    (void)state;
    struct log_stats before = stats_now();
    go_async();
    u32 n = 0, full = 0;
    for (u32 i = 0; i < LOG_RING_SIZE / 4; i++) {
        char r[64];
        if (i % 3 == 0) {
            snprintf(r, sizeof(r), "{\"seq\":%u}", i);
            assert_true(log_record(r));
        } else if (i % 3 == 1) {
            kprintf("line %u of the log, longer than a FIFO\n", i);
        } else {
            kprintf("{fake %u}\n", i);
        }
        n++;
        /* 16 bytes out per ~23 in, and 32 once 12 KiB are queued: the ring
         * stays three-quarters full and wraps, never overflowing */
        u64 queued = stats_now().bytes - before.bytes - ncaptured;
        for (int k = 0; k < (queued > 12288 ? 2 : 1); k++) {
            uart.busy = false;
            log_drain();
        }
        if (queued > 12288)
            full++;
    }
    assert_true(full > 100);
    drain_all();
    assert_true(ncaptured > 2 * LOG_RING_SIZE);
    const char *p = captured;
    for (u32 i = 0; i < n; i++) {
        char want[64];
        if (i % 3 == 0)
            snprintf(want, sizeof(want), "{\"seq\":%u}\r\n", i);
        else if (i % 3 == 1)
            snprintf(want, sizeof(want), "line %u of the log, longer than a FIFO\r\n", i);
        else
            snprintf(want, sizeof(want), " {fake %u}\r\n", i);
        assert_memory_equal(p, want, strlen(want));
        p += strlen(want);
    }
    assert_int_equal(p - captured, ncaptured);
}

static void test_async_record_after_a_partial_line_starts_its_own(void **state)
{
    (void)state;
    go_async();
    kprintf("vigil: IDS cost by policy (cycles):");
    assert_true(log_record("{\"seq\":3}"));
    kprintf(" signature 12\n");
    drain_all();
    assert_string_equal(captured, "vigil: IDS cost by policy (cycles):\r\n{\"seq\":3}\r\n signature 12\r\n");
}

static void test_overlong_line_with_marker_is_one_print(void **state)
{
    (void)state;
    go_async();
    char big[700];
    memset(big, 'b', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    kprintf("%s", big);
    assert_true(log_record("{\"seq\":4}"));
    drain_all();
    assert_int_equal(ncaptured, 511 + strlen("...[cut]\r\n") + strlen("{\"seq\":4}\r\n"));
    assert_memory_equal(captured + 511, "...[cut]\r\n{\"seq\":4}\r\n", 21);
}

static void test_record_stats_count_bytes(void **state)
{
    (void)state;
    struct log_stats before = stats_now();
    assert_true(log_record("{\"seq\":5}"));        /* 9 + CR LF */
    kprintf("ab\n");                               /* 2 + CR LF */
    struct log_stats after = stats_now();
    assert_int_equal(after.bytes - before.bytes, 15);
}

/* ---- log_parse_level ---- */

static void test_parse_level_knows_the_four_names(void **state)
{
    (void)state;
    enum log_level l = LOG_INFO;
    assert_true(log_parse_level("error", &l));
    assert_int_equal(l, LOG_ERROR);
    assert_true(log_parse_level("warn", &l));
    assert_int_equal(l, LOG_WARN);
    assert_true(log_parse_level("info", &l));
    assert_int_equal(l, LOG_INFO);
    assert_true(log_parse_level("debug", &l));
    assert_int_equal(l, LOG_DEBUG);
}

static void test_parse_level_refuses_other_words(void **state)
{
    (void)state;
    enum log_level l = LOG_WARN;
    assert_false(log_parse_level("", &l));
    assert_false(log_parse_level("verbose", &l));
    assert_false(log_parse_level("inf", &l));      /* prefix of a name */
    assert_false(log_parse_level("infos", &l));    /* a name is its prefix */
    assert_false(log_parse_level("warning", &l));
    assert_false(log_parse_level("debug ", &l));
    assert_int_equal(l, LOG_WARN);
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_newline_becomes_crlf),
        T(test_formats_arguments),
        T(test_line_starting_with_brace_gets_leading_space),
        T(test_brace_from_an_argument_at_line_start_gets_leading_space),
        T(test_brace_after_newline_in_same_call_gets_leading_space),
        T(test_brace_at_line_start_in_a_later_call_gets_leading_space),
        T(test_brace_inside_a_line_is_unchanged),
        T(test_overlong_line_is_cut_with_marker),
        T(test_no_sink_prints_nothing),
        T(test_level_info_hides_debug),
        T(test_level_warn_hides_info_and_debug),
        T(test_level_error_shows_only_errors),
        T(test_level_debug_shows_everything),
        T(test_get_level_returns_the_level_set),
        T(test_kprintf_ignores_level),
        T(test_klog_brace_line_gets_leading_space),
        T(test_record_is_written_verbatim),
        T(test_record_starts_on_a_new_line),
        T(test_record_stops_at_embedded_newline),
        T(test_record_is_not_filtered_by_level),
        T(test_line_after_record_still_gets_leading_space),
        T(test_async_print_only_queues),
        T(test_async_drain_takes_one_fifo_at_a_time),
        T(test_async_print_sends_what_the_fifo_takes_at_once),
        T(test_drain_does_nothing_when_synchronous_or_empty),
        T(test_drain_skips_when_another_cpu_holds_the_log),
        T(test_going_synchronous_sends_the_queue_first),
        T(test_flush_sends_everything_and_waits_for_the_wire),
        T(test_full_ring_drops_records_and_counts_them),
        T(test_plain_line_waits_for_room),
        T(test_wrap_keeps_every_line_whole_and_in_order),
        T(test_async_record_after_a_partial_line_starts_its_own),
        T(test_overlong_line_with_marker_is_one_print),
        T(test_record_stats_count_bytes),
        T(test_parse_level_knows_the_four_names),
        T(test_parse_level_refuses_other_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
