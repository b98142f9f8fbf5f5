/* libFuzzer target: insn_length on arbitrary bytes in both modes. The
 * result is at most 15 and at most avail; a decoded instruction decodes to
 * the same length from exactly its own bytes, and to 0 from any shorter
 * prefix of them (the decoder never guesses past what it was given).
 * insn_store32 (the guest's APIC stores) agrees with insn_length and names
 * a register 0-15 or the immediate. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/insn.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

static void check(int ok)
{
    if (!ok)
        abort();
}

/* insn_length over an exact-size heap copy of the first n bytes. */
static u32 len_of(const uint8_t *data, u32 n, enum insn_mode m)
{
    uint8_t *p = malloc(n ? n : 1);
    memcpy(p, data, n);
    u32 r = insn_length(p, n, m);
    free(p);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum insn_mode modes[] = { INSN_MODE_64, INSN_MODE_32 };
    u32 avail = size > 64 ? 64 : (u32)size;
    for (u32 k = 0; k < 2; k++) {
        enum insn_mode m = modes[k];
        u32 r = len_of(data, avail, m);
        check(r <= 15 && r <= avail);
        struct insn_store st;
        if (insn_store32(data, avail, m, &st))
            check(st.len == r && st.src_reg >= -1 && st.src_reg < 16 && (st.src_reg >= 0 || !st.xchg));
        if (!r)
            continue;
        check(len_of(data, r, m) == r);
        for (u32 cut = 0; cut < r; cut++)
            check(len_of(data, cut, m) == 0);
    }
    return 0;
}
