/* The basic VM-exit reasons (Intel SDM Vol. 3, Appendix C), named once:
 * the enum the handlers are indexed by and the names vigil prints both come
 * from this list. */
#ifndef VIGIL_VMM_EXIT_REASONS_H
#define VIGIL_VMM_EXIT_REASONS_H

#define EXIT_REASONS(X)                                                                                          \
    X(0, EXCEPTION, "exception or NMI") X(1, EXT_INT, "external interrupt") X(2, TRIPLE_FAULT, "triple fault")  \
    X(3, INIT, "INIT") X(4, SIPI, "SIPI") X(5, IO_SMI, "I/O SMI") X(6, OTHER_SMI, "other SMI")                  \
    X(7, INTR_WINDOW, "interrupt window") X(8, NMI_WINDOW, "NMI window") X(9, TASK_SWITCH, "task switch")       \
    X(10, CPUID, "CPUID") X(11, GETSEC, "GETSEC") X(12, HLT, "HLT") X(13, INVD, "INVD") X(14, INVLPG, "INVLPG") \
    X(15, RDPMC, "RDPMC") X(16, RDTSC, "RDTSC") X(17, RSM, "RSM") X(18, VMCALL, "VMCALL")                       \
    X(19, VMCLEAR, "VMCLEAR") X(20, VMLAUNCH, "VMLAUNCH") X(21, VMPTRLD, "VMPTRLD") X(22, VMPTRST, "VMPTRST")   \
    X(23, VMREAD, "VMREAD") X(24, VMRESUME, "VMRESUME") X(25, VMWRITE, "VMWRITE") X(26, VMXOFF, "VMXOFF")       \
    X(27, VMXON, "VMXON") X(28, CR, "control-register access") X(29, MOV_DR, "MOV DR")                         \
    X(30, IO, "I/O instruction") X(31, RDMSR, "RDMSR") X(32, WRMSR, "WRMSR")                                   \
    X(33, BAD_GUEST, "entry failure: guest state") X(34, BAD_MSR_LOAD, "entry failure: MSR loading")           \
    X(36, MWAIT, "MWAIT") X(37, MTF, "monitor trap flag") X(39, MONITOR, "MONITOR") X(40, PAUSE, "PAUSE")      \
    X(41, MCE_ENTRY, "entry failure: machine check") X(43, TPR_BELOW, "TPR below threshold")                   \
    X(44, APIC_ACCESS, "APIC access") X(45, VIRT_EOI, "virtualized EOI") X(46, DTR, "GDTR/IDTR access")         \
    X(47, LDTR_TR, "LDTR/TR access") X(48, EPT_VIOLATION, "EPT violation")                                     \
    X(49, EPT_MISCONFIG, "EPT misconfiguration") X(50, INVEPT, "INVEPT") X(51, RDTSCP, "RDTSCP")               \
    X(52, PREEMPT, "preemption timer") X(53, INVVPID, "INVVPID") X(54, WBINVD, "WBINVD")                       \
    X(55, XSETBV, "XSETBV") X(56, APIC_WRITE, "APIC write") X(57, RDRAND, "RDRAND") X(58, INVPCID, "INVPCID")   \
    X(59, VMFUNC, "VMFUNC") X(60, ENCLS, "ENCLS") X(61, RDSEED, "RDSEED") X(62, PML_FULL, "PML full")           \
    X(63, XSAVES, "XSAVES") X(64, XRSTORS, "XRSTORS")

#define EXIT_REASON_ENUM(n, id, name) R_##id = n,
enum exit_reason { EXIT_REASONS(EXIT_REASON_ENUM) };
#undef EXIT_REASON_ENUM

#endif
