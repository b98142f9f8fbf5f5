/* x86 instruction length decoding: just enough of the encoding (prefixes,
 * REX, VEX, opcode maps, ModRM/SIB, displacement, immediate) to know where
 * an instruction ends, so that a blocked write can be skipped soundly: VMX
 * reports no instruction length for EPT violations. Pure: unit-tested and
 * fuzzed. Returns 0 for what it cannot decode (then vigil does not guess). */
#ifndef VIGIL_LIB_INSN_H
#define VIGIL_LIB_INSN_H

#include "lib/types.h"

enum insn_mode { INSN_MODE_32 = 32, INSN_MODE_64 = 64 };

/* Length of the instruction at code[0..avail), at most 15. */
u32 insn_length(const u8 *code, u32 avail, enum insn_mode mode);

#endif
