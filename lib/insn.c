/* Instruction length decoder (Intel SDM Vol. 2, chapter 2 and Appendix A). */
#include "lib/insn.h"

enum imm { I0 = 0, IB, IW, IZ, IV, IWB, IM, IZW };   /* IM: moffs; IZW: ptr16:16/32 */

struct one { bool modrm; u8 imm; };

static struct one one_byte(u8 op, bool x64)
{
    struct one r = { false, I0 };
    if (op < 0x40) {
        u8 lo = op & 7;
        if (lo < 4)
            r.modrm = true;
        else if (lo == 4)
            r.imm = IB;
        else if (lo == 5)
            r.imm = IZ;
        return r;                                   /* 06/07/0e/16/17/1e/1f/27/2f/37/3f: none */
    }
    if (op < 0x60)
        return r;                                   /* inc/dec/push/pop (REX handled before) */
    switch (op) {
    case 0x62: case 0x63: r.modrm = true; return r;
    case 0x68: r.imm = IZ; return r;
    case 0x69: r.modrm = true; r.imm = IZ; return r;
    case 0x6a: r.imm = IB; return r;
    case 0x6b: r.modrm = true; r.imm = IB; return r;
    case 0x80: case 0x82: case 0x83: case 0xc0: case 0xc1: case 0xc6:
        r.modrm = true; r.imm = IB; return r;
    case 0x81: case 0xc7: r.modrm = true; r.imm = IZ; return r;
    case 0x9a: case 0xea: r.imm = x64 ? I0 : IZW; return r;   /* invalid in 64-bit mode */
    case 0xa8: r.imm = IB; return r;
    case 0xa9: r.imm = IZ; return r;
    case 0xc2: case 0xca: r.imm = IW; return r;
    case 0xc4: case 0xc5: r.modrm = true; return r;           /* LES/LDS (32-bit) */
    case 0xc8: r.imm = IWB; return r;
    case 0xcd: case 0xd4: case 0xd5: case 0xeb: r.imm = IB; return r;
    case 0xe8: case 0xe9: r.imm = IZ; return r;
    case 0xf6: case 0xf7: case 0xfe: case 0xff: r.modrm = true; return r;
    }
    if (op >= 0x70 && op <= 0x7f)
        r.imm = IB;
    else if (op >= 0x84 && op <= 0x8f)
        r.modrm = true;
    else if (op >= 0xa0 && op <= 0xa3)
        r.imm = IM;
    else if (op >= 0xb0 && op <= 0xb7)
        r.imm = IB;
    else if (op >= 0xb8 && op <= 0xbf)
        r.imm = IV;
    else if (op >= 0xd0 && op <= 0xd3)
        r.modrm = true;
    else if (op >= 0xd8 && op <= 0xdf)
        r.modrm = true;                             /* x87 */
    else if (op >= 0xe0 && op <= 0xe7)
        r.imm = IB;
    return r;
}

static struct one two_byte(u8 op)
{
    struct one r = { true, I0 };
    if ((op >= 0x04 && op <= 0x0c && op != 0x0d) || op == 0x0e || (op >= 0x30 && op <= 0x37) ||
        op == 0x77 || (op >= 0xa0 && op <= 0xa2) || (op >= 0xa8 && op <= 0xaa) || (op >= 0xc8 && op <= 0xcf))
        r.modrm = false;
    if (op >= 0x80 && op <= 0x8f) {
        r.modrm = false;
        r.imm = IZ;                                 /* Jcc rel32 */
    }
    if (op == 0x0f || (op >= 0x70 && op <= 0x73) || op == 0xa4 || op == 0xac || op == 0xba || op == 0xc2 ||
        (op >= 0xc4 && op <= 0xc6))
        r.imm = IB;
    return r;
}

/* ModRM (+SIB, +displacement) length from p[0] = ModRM; 0 if truncated. */
static u32 modrm_len(const u8 *p, u32 avail, bool addr16)
{
    if (avail < 1)
        return 0;
    u8 m = p[0], mod = m >> 6, rm = m & 7;
    u32 n = 1;
    if (mod == 3)
        return 1;
    if (addr16) {
        if (mod == 0 && rm == 6)
            n += 2;
        else
            n += mod == 1 ? 1 : mod == 2 ? 2 : 0;
        return n <= avail ? n : 0;
    }
    if (rm == 4) {
        if (avail < 2)
            return 0;
        n++;
        if (mod == 0 && (p[1] & 7) == 5)
            n += 4;
    } else if (mod == 0 && rm == 5) {
        n += 4;                                     /* disp32 / RIP-relative */
    }
    n += mod == 1 ? 1 : mod == 2 ? 4 : 0;
    return n <= avail ? n : 0;
}

u32 insn_length(const u8 *c, u32 avail, enum insn_mode mode)
{
    bool x64 = mode == INSN_MODE_64, opsize16 = false, addr_alt = false, rex_w = false;
    u32 i = 0;
    if (avail > 15)
        avail = 15;
    /* Legacy prefixes, then (64-bit mode) one REX right before the opcode. */
    for (; i < avail; i++) {
        u8 b = c[i];
        if (b == 0x66)
            opsize16 = true;
        else if (b == 0x67)
            addr_alt = true;
        else if (b == 0xf0 || b == 0xf2 || b == 0xf3 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x26 ||
                 b == 0x64 || b == 0x65)
            ;
        else
            break;
    }
    if (i < avail && x64 && (c[i] & 0xf0) == 0x40) {
        rex_w = c[i] & 8;
        i++;
    }
    if (i >= avail)
        return 0;
    bool addr16 = !x64 && addr_alt;
    u8 op = c[i++];
    struct one d;

    if ((op == 0xc4 || op == 0xc5) && (x64 || (i < avail && (c[i] >> 6) == 3))) {
        /* VEX: 2-byte (C5) implies map 0F; 3-byte (C4) names the map. */
        u32 map = 1;
        if (op == 0xc4) {
            if (i + 2 > avail)
                return 0;
            map = c[i] & 0x1f;
            i += 2;
        } else {
            i += 1;
        }
        if (i >= avail || map < 1 || map > 3)
            return 0;
        u8 vop = c[i++];
        d = map == 1 ? two_byte(vop) : (struct one){ true, map == 3 ? IB : I0 };
        d.modrm = !(map == 1 && vop == 0x77);       /* VZEROUPPER/VZEROALL take no ModRM */
        if (map == 1 && vop >= 0x80 && vop <= 0x8f)
            return 0;
    } else if (op == 0x62 && (x64 || (i < avail && (c[i] >> 6) == 3))) {
        return 0;                                   /* EVEX (BOUND needs a memory operand): not decoded */
    } else if (op == 0x0f) {
        if (i >= avail)
            return 0;
        u8 op2 = c[i++];
        if (op2 == 0x38) {
            if (i >= avail)
                return 0;
            i++;
            d = (struct one){ true, I0 };
        } else if (op2 == 0x3a) {
            if (i >= avail)
                return 0;
            i++;
            d = (struct one){ true, IB };
        } else {
            d = two_byte(op2);
        }
    } else {
        d = one_byte(op, x64);
        if (op == 0xf6 || op == 0xf7) {             /* TEST r/m, imm: group 3 /0 and /1 */
            if (i >= avail)
                return 0;
            if (((c[i] >> 3) & 7) < 2)
                d.imm = op == 0xf6 ? IB : IZ;
        }
    }
    if (d.modrm) {
        u32 n = modrm_len(c + i, avail - i, addr16);
        if (!n)
            return 0;
        i += n;
    }
    /* imm16 with 0x66, unless REX.W makes the operand 64-bit (imm32); near
     * branches in 64-bit mode always take rel32 (0x66 is ignored). */
    bool near_branch = op == 0xe8 || op == 0xe9 || (op == 0x0f && d.imm == IZ && !d.modrm);
    u32 z = opsize16 && !rex_w && !(x64 && near_branch) ? 2 : 4;
    switch (d.imm) {
    case IB: i += 1; break;
    case IW: i += 2; break;
    case IZ: i += z; break;
    case IV: i += rex_w ? 8 : z; break;
    case IWB: i += 3; break;
    case IM: i += x64 ? (addr_alt ? 4 : 8) : (addr_alt ? 2 : 4); break;
    case IZW: i += z + 2; break;
    default: break;
    }
    return i <= avail ? i : 0;
}

bool insn_store32(const u8 *code, u32 avail, enum insn_mode mode, struct insn_store *out)
{
    u32 len = insn_length(code, avail, mode), i = 0;
    if (!len)
        return false;
    while (i < len && (code[i] == 0x2e || code[i] == 0x36 || code[i] == 0x3e || code[i] == 0x26 ||
                       code[i] == 0x64 || code[i] == 0x65 || code[i] == 0x67 || code[i] == 0xf0))
        i++;
    u8 rex = mode == INSN_MODE_64 && i < len && (code[i] & 0xf0) == 0x40 ? code[i++] : 0;
    if (i + 2 > len || (rex & 8))
        return false;
    u8 op = code[i], modrm = code[i + 1];
    if ((modrm >> 6) == 3)
        return false;                      /* a register operand: no store */
    *out = (struct insn_store){ .len = len, .src_reg = -1 };
    if (op == 0x89 || op == 0x87) {
        out->src_reg = (int)((modrm >> 3 & 7) | (rex & 4 ? 8u : 0u));
        out->xchg = op == 0x87;
        return true;
    }
    if (op == 0xc7 && (modrm >> 3 & 7) == 0) {
        out->imm = (u32)code[len - 4] | (u32)code[len - 3] << 8 | (u32)code[len - 2] << 16 | (u32)code[len - 1] << 24;
        return true;
    }
    return false;
}
