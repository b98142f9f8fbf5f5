/* VMX instructions and VMCS field encodings (Intel SDM Vol. 3, Appendix B). */
#ifndef VIGIL_VMM_VMX_H
#define VIGIL_VMM_VMX_H

#include "lib/types.h"

enum vmcs_field {
    /* 16-bit */
    VPID = 0x0000,
    GUEST_ES_SEL = 0x0800, GUEST_CS_SEL = 0x0802, GUEST_SS_SEL = 0x0804, GUEST_DS_SEL = 0x0806,
    GUEST_FS_SEL = 0x0808, GUEST_GS_SEL = 0x080a, GUEST_LDTR_SEL = 0x080c, GUEST_TR_SEL = 0x080e,
    HOST_ES_SEL = 0x0c00, HOST_CS_SEL = 0x0c02, HOST_SS_SEL = 0x0c04, HOST_DS_SEL = 0x0c06,
    HOST_FS_SEL = 0x0c08, HOST_GS_SEL = 0x0c0a, HOST_TR_SEL = 0x0c0c,
    /* 64-bit */
    IO_BITMAP_A = 0x2000, IO_BITMAP_B = 0x2002, MSR_BITMAP = 0x2004,
    VM_EXIT_MSR_STORE_ADDR = 0x2006, VM_EXIT_MSR_LOAD_ADDR = 0x2008, VM_ENTRY_MSR_LOAD_ADDR = 0x200a,
    TSC_OFFSET = 0x2010, EPT_POINTER = 0x201a,
    GUEST_PHYSICAL_ADDRESS = 0x2400,
    VMCS_LINK_POINTER = 0x2800, GUEST_IA32_DEBUGCTL = 0x2802, GUEST_IA32_PAT = 0x2804,
    GUEST_IA32_EFER = 0x2806, GUEST_PDPTE0 = 0x280a, GUEST_PDPTE1 = 0x280c, GUEST_PDPTE2 = 0x280e,
    GUEST_PDPTE3 = 0x2810,
    HOST_IA32_PAT = 0x2c00, HOST_IA32_EFER = 0x2c02,
    /* 32-bit */
    PIN_BASED_CTLS = 0x4000, PROC_BASED_CTLS = 0x4002, EXCEPTION_BITMAP = 0x4004,
    PF_ERROR_CODE_MASK = 0x4006, PF_ERROR_CODE_MATCH = 0x4008, CR3_TARGET_COUNT = 0x400a,
    VM_EXIT_CTLS = 0x400c, VM_EXIT_MSR_STORE_COUNT = 0x400e, VM_EXIT_MSR_LOAD_COUNT = 0x4010,
    VM_ENTRY_CTLS = 0x4012, VM_ENTRY_MSR_LOAD_COUNT = 0x4014, VM_ENTRY_INTR_INFO = 0x4016,
    VM_ENTRY_EXCEPTION_ERROR_CODE = 0x4018, VM_ENTRY_INSTRUCTION_LEN = 0x401a,
    TPR_THRESHOLD = 0x401c, PROC_BASED_CTLS2 = 0x401e,
    VM_INSTRUCTION_ERROR = 0x4400, EXIT_REASON = 0x4402, VM_EXIT_INTR_INFO = 0x4404,
    VM_EXIT_INTR_ERROR_CODE = 0x4406, IDT_VECTORING_INFO = 0x4408, IDT_VECTORING_ERROR_CODE = 0x440a,
    VM_EXIT_INSTRUCTION_LEN = 0x440c, VMX_INSTRUCTION_INFO = 0x440e,
    GUEST_ES_LIMIT = 0x4800, GUEST_CS_LIMIT = 0x4802, GUEST_SS_LIMIT = 0x4804, GUEST_DS_LIMIT = 0x4806,
    GUEST_FS_LIMIT = 0x4808, GUEST_GS_LIMIT = 0x480a, GUEST_LDTR_LIMIT = 0x480c, GUEST_TR_LIMIT = 0x480e,
    GUEST_GDTR_LIMIT = 0x4810, GUEST_IDTR_LIMIT = 0x4812,
    GUEST_ES_AR = 0x4814, GUEST_CS_AR = 0x4816, GUEST_SS_AR = 0x4818, GUEST_DS_AR = 0x481a,
    GUEST_FS_AR = 0x481c, GUEST_GS_AR = 0x481e, GUEST_LDTR_AR = 0x4820, GUEST_TR_AR = 0x4822,
    GUEST_INTERRUPTIBILITY = 0x4824, GUEST_ACTIVITY_STATE = 0x4826, GUEST_SYSENTER_CS = 0x482a,
    VMX_PREEMPTION_TIMER = 0x482e,
    HOST_SYSENTER_CS = 0x4c00,
    /* natural width */
    CR0_GUEST_HOST_MASK = 0x6000, CR4_GUEST_HOST_MASK = 0x6002, CR0_READ_SHADOW = 0x6004,
    CR4_READ_SHADOW = 0x6006,
    EXIT_QUALIFICATION = 0x6400, GUEST_LINEAR_ADDRESS = 0x640a,
    GUEST_CR0 = 0x6800, GUEST_CR3 = 0x6802, GUEST_CR4 = 0x6804,
    GUEST_ES_BASE = 0x6806, GUEST_CS_BASE = 0x6808, GUEST_SS_BASE = 0x680a, GUEST_DS_BASE = 0x680c,
    CR3_TARGET_VALUE0 = 0x6008,
    GUEST_FS_BASE = 0x680e, GUEST_GS_BASE = 0x6810, GUEST_LDTR_BASE = 0x6812, GUEST_TR_BASE = 0x6814,
    GUEST_GDTR_BASE = 0x6816, GUEST_IDTR_BASE = 0x6818, GUEST_DR7 = 0x681a, GUEST_RSP = 0x681c,
    GUEST_RIP = 0x681e, GUEST_RFLAGS = 0x6820, GUEST_PENDING_DBG = 0x6822,
    GUEST_SYSENTER_ESP = 0x6824, GUEST_SYSENTER_EIP = 0x6826,
    HOST_CR0 = 0x6c00, HOST_CR3 = 0x6c02, HOST_CR4 = 0x6c04, HOST_FS_BASE = 0x6c06,
    HOST_GS_BASE = 0x6c08, HOST_TR_BASE = 0x6c0a, HOST_GDTR_BASE = 0x6c0c, HOST_IDTR_BASE = 0x6c0e,
    HOST_SYSENTER_ESP = 0x6c10, HOST_SYSENTER_EIP = 0x6c12, HOST_RSP = 0x6c14, HOST_RIP = 0x6c16,
};

/* Control bits (Intel SDM Vol. 3, 25.6). */
#define PIN_EXT_INT_EXITING     (1u << 0)
#define PIN_NMI_EXITING         (1u << 3)
#define PIN_PREEMPTION_TIMER    (1u << 6)

#define PROC_HLT_EXITING        (1u << 7)
#define PROC_INVLPG_EXITING     (1u << 9)
#define PROC_MWAIT_EXITING      (1u << 10)
#define PROC_RDPMC_EXITING      (1u << 11)
#define PROC_RDTSC_EXITING      (1u << 12)
#define PROC_CR3_LOAD_EXITING   (1u << 15)
#define PROC_CR3_STORE_EXITING  (1u << 16)
#define PROC_CR8_LOAD_EXITING   (1u << 19)
#define PROC_CR8_STORE_EXITING  (1u << 20)
#define PROC_MOV_DR_EXITING     (1u << 23)
#define PROC_UNCOND_IO_EXITING  (1u << 24)
#define PROC_USE_IO_BITMAPS     (1u << 25)
#define PROC_USE_MSR_BITMAPS    (1u << 28)
#define PROC_MONITOR_EXITING    (1u << 29)
#define PROC_SECONDARY          (1u << 31)

#define PROC2_EPT               (1u << 1)
#define PROC2_DESC_TABLE_EXITING (1u << 2)
#define PROC2_RDTSCP            (1u << 3)
#define PROC2_VPID              (1u << 5)
#define PROC2_WBINVD_EXITING    (1u << 6)
#define PROC2_UNRESTRICTED      (1u << 7)
#define PROC2_INVPCID           (1u << 12)

#define EXIT_HOST_ADDR_SPACE    (1u << 9)
#define EXIT_SAVE_PAT           (1u << 18)
#define EXIT_LOAD_PAT           (1u << 19)
#define EXIT_SAVE_EFER          (1u << 20)
#define EXIT_LOAD_EFER          (1u << 21)

#define ENTRY_LOAD_DEBUG        (1u << 2)
#define ENTRY_IA32E_GUEST       (1u << 9)
#define ENTRY_LOAD_PAT          (1u << 14)
#define ENTRY_LOAD_EFER         (1u << 15)

/* Guest activity states (SDM Vol. 3, 25.4.2). */
#define ACTIVITY_ACTIVE    0
#define ACTIVITY_HLT       1
#define ACTIVITY_WAIT_SIPI 3

/* Interruption information (VM-entry and VM-exit). */
#define INTR_VALID              (1u << 31)
#define INTR_ERRCODE            (1u << 11)
#define INTR_TYPE_EXT           (0u << 8)
#define INTR_TYPE_NMI           (2u << 8)
#define INTR_TYPE_HW_EXC        (3u << 8)
#define INTR_TYPE_SW_INT        (4u << 8)
#define INTR_TYPE_PRIV_SW_EXC   (5u << 8)
#define INTR_TYPE_SW_EXC        (6u << 8)

/* Each wrapper returns true on success (CF=0 and ZF=0). */
static inline bool vmx_on(u64 phys)
{
    u8 ok;
    __asm__ volatile("vmxon %1; seta %0" : "=r"(ok) : "m"(phys) : "cc", "memory");
    return ok;
}
static inline void vmx_off(void) { __asm__ volatile("vmxoff" ::: "cc", "memory"); }
static inline bool vmcs_clear(u64 phys)
{
    u8 ok;
    __asm__ volatile("vmclear %1; seta %0" : "=r"(ok) : "m"(phys) : "cc", "memory");
    return ok;
}
static inline bool vmcs_load(u64 phys)
{
    u8 ok;
    __asm__ volatile("vmptrld %1; seta %0" : "=r"(ok) : "m"(phys) : "cc", "memory");
    return ok;
}
static inline bool vmwrite_ok(u64 field, u64 value)
{
    u8 ok;
    __asm__ volatile("vmwrite %2, %1; seta %0" : "=r"(ok) : "r"(field), "rm"(value) : "cc");
    return ok;
}
static inline u64 vmread(u64 field)
{
    u64 v = 0;
    __asm__ volatile("vmread %1, %0" : "=rm"(v) : "r"(field) : "cc");
    return v;
}

struct invept_desc { u64 eptp, reserved; };
struct invvpid_desc { u64 vpid, gla; };

static inline bool invept(u64 type, u64 eptp)
{
    struct invept_desc d = { eptp, 0 };
    u8 ok;
    __asm__ volatile("invept %1, %2; seta %0" : "=r"(ok) : "m"(d), "r"(type) : "cc", "memory");
    return ok;
}
static inline bool invvpid(u64 type, u16 vpid, u64 gla)
{
    struct invvpid_desc d = { vpid, gla };
    u8 ok;
    __asm__ volatile("invvpid %1, %2; seta %0" : "=r"(ok) : "m"(d), "r"(type) : "cc", "memory");
    return ok;
}
#define INVEPT_SINGLE 1
#define INVEPT_ALL 2
#define INVVPID_ADDR 0
#define INVVPID_SINGLE 1
#define INVVPID_ALL 2
#define INVVPID_SINGLE_KEEP_GLOBAL 3

/* vmwrite that reports the failing field and stops: a failed VMWRITE during
 * set-up is a vigil bug, never a guest's doing. */
void vmwrite(u64 field, u64 value);
const char *vmx_field_name(u64 field);
const char *vmx_instruction_error_name(u32 err);

#endif
