/* libFuzzer target: policy_defaults + policy_parse on arbitrary bytes (the
 * whole input is the policy file). On failure the message must start with
 * "policy" and fit the buffer; on success the configuration must hold only
 * what the parser promises to accept. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ids/policy.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

static void check(int ok)
{
    if (!ok)
        abort();
}

static void check_config(const struct policy_config *c)
{
    for (u32 i = 0; i < POL_COUNT; i++) {
        check(c->pol[i].action <= ACT_SUSPEND);
        check(c->pol[i].severity <= SEV_CRITICAL);
        bool periodic = i == POL_HIDDEN_PROCESS || i == POL_PAGETABLE_AUDIT || i == POL_SIGNATURE ||
                        i == POL_DMA_GUARD || i == POL_HIDDEN_MODULE || i == POL_RAW_SOCKET ||
                        i == POL_PROGRAM_INTEGRITY;
        if (periodic)
            check(c->pol[i].interval >= 1 && c->pol[i].interval <= 100000);
        else
            check(c->pol[i].interval == 0);
    }
    /* hypervisor-guard cannot be switched off or made to only watch */
    check(c->pol[POL_HYPERVISOR_GUARD].enabled);
    check(c->pol[POL_HYPERVISOR_GUARD].action != ACT_ALERT);
    check(c->pol[POL_DMA_GUARD].enabled);
    check(c->pol[POL_DMA_GUARD].action != ACT_ALERT);
    check(c->ndma_allow <= DMA_MAX_ALLOW);
    for (u32 i = 0; i < c->ndma_allow; i++)
        check(c->dma_allow[i].vendor != 0xffff);

    check(c->nraw_allow <= RAW_MAX_ALLOW);
    for (u32 i = 0; i < c->nraw_allow; i++) {
        size_t n = strnlen(c->raw_allow[i], PROC_NAME_MAX);
        check(n > 0 && n < PROC_NAME_MAX);
    }
    check(c->npi_prog <= PI_MAX_PROGRAMS);
    for (u32 i = 0; i < c->npi_prog; i++) {
        size_t n = strnlen(c->pi_prog[i], PROC_NAME_MAX);
        check(n > 0 && n < PROC_NAME_MAX);
    }
    check(c->nio <= IO_MAX_RULES);
    for (u32 i = 0; i < c->nio; i++) {
        const struct io_rule *r = &c->io[i];
        check(r->nranges >= 1 && r->nranges <= IO_MAX_RANGES);   /* a rule guards some port */
        for (u32 j = 0; j < r->nranges; j++)
            check(r->ranges[j].lo <= r->ranges[j].hi);
        check(r->nallow <= IO_MAX_ALLOW);
        for (u32 j = 0; j < r->nallow; j++) {
            size_t n = strnlen(r->allow[j], PROC_NAME_MAX);
            check(n > 0 && n < PROC_NAME_MAX);
        }
        check(r->action <= ACT_SUSPEND);
    }
    check(c->nsig >= 1 && c->nsig <= SIG_MAX);
    for (u32 i = 0; i < c->nsig; i++) {
        const struct signature *s = &c->sig[i];
        size_t n = strnlen(s->name, sizeof(s->name));
        check(n > 0 && n < sizeof(s->name));
        check(s->len >= 1 && s->len <= SIG_MAX_LEN);
        check(s->action <= ACT_SUSPEND);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct policy_config c;
    policy_defaults(&c);
    /* an exact-size error buffer: ASan sees a byte written past it */
    size_t errlen = 96;
    char *err = malloc(errlen);
    memset(err, 'Z', errlen);
    int r = policy_parse((const char *)data, size, &c, err, errlen);
    check(r == 0 || r == -1);
    if (r == -1) {
        check(memchr(err, 0, errlen) != NULL);
        check(!strncmp(err, "policy", 6));
    } else {
        check(err[0] == 'Z');          /* untouched on success */
        check_config(&c);
    }
    free(err);
    return 0;
}
