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

/* A 32-bit store to memory of the kinds compilers emit for MMIO writes:
 * MOV r/m32,r32 (89), MOV r/m32,imm32 (C7 /0) and XCHG r/m32,r32 (87), with
 * segment, address-size and LOCK prefixes and a REX without W. The source
 * is a register (src_reg 0-15) or the immediate (src_reg -1). */
struct insn_store {
    u32 len;
    int src_reg;
    u32 imm;
    bool xchg;                 /* the register also receives the old value */
};
/* True, with *out filled, when code[0..avail) starts with such a store to
 * memory (ModRM.mod != 3); false for anything else, including 0x66 or
 * REX.W (not 32 bits) and what insn_length cannot decode. */
bool insn_store32(const u8 *code, u32 avail, enum insn_mode mode, struct insn_store *out);

#endif
