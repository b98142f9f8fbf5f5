; hostile: entry, long-mode switch, exception stubs and fault probes.
;
; The loader enters _start in 32-bit protected mode (multiboot2). The guest
; identity-maps the first 4 GiB with 2 MiB pages (so that its probes of
; hidden physical ranges reach the hypervisor's EPT), loads its own GDT,
; switches to long mode and calls hostile_main(magic, info) in C.
;
; Fault probes: each probe_* function stores a recovery address in
; recover_rip and the address of its one probed instruction in probe_rip,
; then executes that instruction. If it faults, the exception stub records
; the vector, error code and the RIP the CPU pushed, and returns (IRETQ) to the
; recovery address. A probe returns the vector, or -1 if nothing faulted.
; An exception while no probe is armed is fatal: hostile_fatal() reports it.

MB2_MAGIC       equ 0xe85250d6
MB2_HDR_LEN     equ 16 + 8
EFER_MSR        equ 0xc0000080
COM2            equ 0x2f8

extern hostile_main, hostile_fatal
extern __bss_start, __bss_end

section .multiboot2
align 8
    dd MB2_MAGIC
    dd 0                            ; i386
    dd MB2_HDR_LEN
    dd 0x100000000 - (MB2_MAGIC + MB2_HDR_LEN)
    dw 0, 0                         ; end tag
    dd 8

section .text
bits 32
global _start
_start:
    cli
    cld
    mov [mb_magic], eax             ; .data: survives the bss clearing
    mov [mb_info], ebx
    mov edi, __bss_start
    mov ecx, __bss_end
    sub ecx, edi
    xor eax, eax
    rep stosb
    mov esp, stack_top

    ; Long mode available? CPUID 0x80000001 EDX.LM (bit 29)
    mov eax, 0x80000000
    cpuid
    cmp eax, 0x80000001
    jb .no_lm
    mov eax, 0x80000001
    cpuid
    test edx, 1 << 29
    jz .no_lm

    ; PML4[0] -> PDPT; PDPT[0..3] -> pd[0..3]; pd[i][j] = 2 MiB page at
    ; (i * 512 + j) * 2 MiB, present + writable + PS.
    mov eax, pdpt
    or eax, 3
    mov [pml4], eax
    xor ecx, ecx
.pdpt:
    mov eax, ecx
    shl eax, 12
    add eax, pd
    or eax, 3
    mov [pdpt + ecx * 8], eax
    inc ecx
    cmp ecx, 4
    jb .pdpt
    xor ecx, ecx                    ; 2048 entries over the four PDs
.pde:
    mov eax, ecx
    shl eax, 21
    or eax, 0x83
    mov [pd + ecx * 8], eax
    mov eax, ecx
    shr eax, 11                     ; bits 32+ of the address
    mov [pd + ecx * 8 + 4], eax
    inc ecx
    cmp ecx, 2048
    jb .pde

    lgdt [gdt_ptr]
    mov eax, cr4
    or eax, 1 << 5                  ; PAE
    mov cr4, eax
    mov eax, pml4
    mov cr3, eax
    mov ecx, EFER_MSR
    rdmsr
    or eax, 1 << 8                  ; LME
    wrmsr
    mov eax, cr0
    or eax, (1 << 31) | 1           ; PG, PE
    mov cr0, eax
    jmp 0x08:long_mode

.no_lm:
    mov esi, no_lm_msg
    mov dx, COM2
.no_lm_out:
    lodsb
    test al, al
    jz .no_lm_halt
    out dx, al
    jmp .no_lm_out
.no_lm_halt:
    hlt
    jmp .no_lm_halt

bits 64
long_mode:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax
    mov rsp, stack_top
    mov edi, [rel mb_magic]
    mov esi, [rel mb_info]
    call hostile_main
.halt:
    cli
    hlt
    jmp .halt

; ---------------------------------------------------------------- exceptions

%macro ISR_NOERR 1
isr%1:
    push 0
    push %1
    jmp isr_common
%endmacro
%macro ISR_ERR 1
isr%1:
    push %1
    jmp isr_common
%endmacro

ISR_NOERR 0
ISR_NOERR 1
ISR_NOERR 2
ISR_NOERR 3
ISR_NOERR 4
ISR_NOERR 5
ISR_NOERR 6
ISR_NOERR 7
ISR_ERR   8
ISR_NOERR 9
ISR_ERR   10
ISR_ERR   11
ISR_ERR   12
ISR_ERR   13
ISR_ERR   14
ISR_NOERR 15
ISR_NOERR 16
ISR_ERR   17
ISR_NOERR 18
ISR_NOERR 19
ISR_NOERR 20
ISR_ERR   21
ISR_NOERR 22
ISR_NOERR 23
ISR_NOERR 24
ISR_NOERR 25
ISR_NOERR 26
ISR_NOERR 27
ISR_NOERR 28
ISR_ERR   29
ISR_ERR   30
ISR_NOERR 31

; Stack: vector, error code, RIP, CS, RFLAGS, RSP, SS.
isr_common:
    push rax
    mov rax, [rsp + 8]
    mov [rel fault_vector], rax
    mov rax, [rsp + 16]
    mov [rel fault_err], rax
    mov rax, [rsp + 24]
    mov [rel fault_rip], rax
    mov rax, [rel recover_rip]
    test rax, rax
    jz .fatal
    mov [rsp + 24], rax             ; resume at the probe's recovery label
    mov qword [rel recover_rip], 0
    pop rax
    add rsp, 16
    iretq
.fatal:
    pop rax
    mov rdi, rsp                    ; -> vector, error code, RIP, ...
    and rsp, -16
    call hostile_fatal
.hang:
    cli
    hlt
    jmp .hang

section .rodata
align 8
global isr_table
isr_table:
%assign i 0
%rep 32
    dq isr%[i]
%assign i i + 1
%endrep

section .text

; triple_fault: a non-canonical stack, then int3. Delivering #BP pushes
; onto that stack and faults (#SS), delivering that faults again (#DF), and
; delivering #DF fails too: shutdown. (It leaves the IDTR alone: an IDS that
; locks the IDT would rightly refuse a switch to an empty one.)
global triple_fault
triple_fault:
    mov rsp, 0x8000000000000000
    int3
    ret

; ---------------------------------------------------------------- probes

; ARM: arm the recovery for this probe; INSN marks the probed instruction;
; DISARM is the recovery label and returns the vector (or -1) in RAX.
%macro ARM 0
    %push probe
    lea rax, [rel %$rec]
    mov [rel recover_rip], rax
    mov qword [rel fault_vector], -1
    mov qword [rel fault_err], 0
    mov qword [rel fault_rip], 0
    lea rax, [rel %$insn]
    mov [rel probe_rip], rax
%endmacro
%macro INSN 0
%$insn:
%endmacro
%macro DISARM 0
%$rec:
    mov qword [rel recover_rip], 0
    mov rax, [rel fault_vector]
    %pop
%endmacro

; A probe of one instruction with no operands to set up or results to keep.
%macro SIMPLE_PROBE 2+
global probe_%1
probe_%1:
    ARM
    INSN
    %2
    DISARM
    ret
%endmacro

SIMPLE_PROBE vmxon,    vmxon [rel vmx_region_ptr]
SIMPLE_PROBE vmxoff,   vmxoff
SIMPLE_PROBE vmclear,  vmclear [rel vmx_region_ptr]
SIMPLE_PROBE vmptrld,  vmptrld [rel vmx_region_ptr]
SIMPLE_PROBE vmptrst,  vmptrst [rel vmx_scratch]
SIMPLE_PROBE vmlaunch, vmlaunch
SIMPLE_PROBE vmresume, vmresume
SIMPLE_PROBE ud2,      ud2

global probe_vmread
probe_vmread:
    ARM
    xor ecx, ecx                    ; field 0 (VPID)
    INSN
    vmread rax, rcx
    DISARM
    ret

global probe_vmwrite
probe_vmwrite:
    ARM
    xor ecx, ecx
    xor edx, edx
    INSN
    vmwrite rcx, rdx
    DISARM
    ret

global probe_invept
probe_invept:
    ARM
    mov ecx, 2                      ; all-context
    INSN
    invept rcx, [rel inv_desc]
    DISARM
    ret

global probe_invvpid
probe_invvpid:
    ARM
    mov ecx, 2                      ; all-context
    INSN
    invvpid rcx, [rel inv_desc]
    DISARM
    ret

global probe_vmcall
probe_vmcall:
    push rbx
    ARM
    xor eax, eax
    xor ebx, ebx
    xor ecx, ecx
    xor edx, edx
    INSN
    vmcall
    DISARM
    pop rbx
    ret

; VMFUNC with EAX = 63: a VM function no hypervisor enables.
global probe_vmfunc
probe_vmfunc:
    ARM
    mov eax, 63
    xor ecx, ecx
    INSN
    vmfunc
    DISARM
    ret

; int64_t probe_rdmsr(uint32_t msr, uint64_t *value)
global probe_rdmsr
probe_rdmsr:
    ARM
    mov ecx, edi
    INSN
    rdmsr
    shl rdx, 32
    mov eax, eax
    or rax, rdx
    mov [rsi], rax
    DISARM
    ret

; int64_t probe_wrmsr(uint32_t msr, uint64_t value)
global probe_wrmsr
probe_wrmsr:
    ARM
    mov ecx, edi
    mov eax, esi
    mov rdx, rsi
    shr rdx, 32
    INSN
    wrmsr
    DISARM
    ret

; int64_t probe_xsetbv(uint32_t xcr, uint64_t value)
global probe_xsetbv
probe_xsetbv:
    ARM
    mov ecx, edi
    mov eax, esi
    mov rdx, rsi
    shr rdx, 32
    INSN
    xsetbv
    DISARM
    ret

; int64_t probe_xgetbv(uint32_t xcr, uint64_t *value)
global probe_xgetbv
probe_xgetbv:
    ARM
    mov ecx, edi
    INSN
    xgetbv
    shl rdx, 32
    mov eax, eax
    or rax, rdx
    mov [rsi], rax
    DISARM
    ret

; int64_t probe_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4])
global probe_cpuid
probe_cpuid:
    push rbx
    mov r8, rdx
    ARM
    mov eax, edi
    mov ecx, esi
    INSN
    cpuid
    mov [r8], eax
    mov [r8 + 4], ebx
    mov [r8 + 8], ecx
    mov [r8 + 12], edx
    DISARM
    pop rbx
    ret

; int64_t probe_read64(uint64_t addr, uint64_t *value)
global probe_read64
probe_read64:
    ARM
    INSN
    mov rax, [rdi]
    mov [rsi], rax
    DISARM
    ret

; int64_t probe_write64(uint64_t addr, uint64_t value)
global probe_write64
probe_write64:
    ARM
    INSN
    mov [rdi], rsi
    DISARM
    ret

; int64_t probe_inb(uint16_t port, uint8_t *value)
global probe_inb
probe_inb:
    ARM
    mov edx, edi
    INSN
    in al, dx
    mov [rsi], al
    DISARM
    ret

; int64_t probe_outb(uint16_t port, uint8_t value)
global probe_outb
probe_outb:
    ARM
    mov edx, edi
    mov eax, esi
    INSN
    out dx, al
    DISARM
    ret

; int64_t probe_write_cr4(uint64_t value)
global probe_write_cr4
probe_write_cr4:
    ARM
    INSN
    mov cr4, rdi
    DISARM
    ret

; ---------------------------------------------------------------- data

section .data
align 8
global fault_vector, fault_err, fault_rip, probe_rip, recover_rip
fault_vector:   dq -1
fault_err:      dq 0
fault_rip:      dq 0
probe_rip:      dq 0
recover_rip:    dq 0
mb_magic:       dd 0
mb_info:        dd 0

; VMXON/VMCLEAR/VMPTRLD take a pointer to the physical address of a region.
vmx_region_ptr: dq vmx_region
vmx_scratch:    dq 0
inv_desc:       dq 0, 0

align 16
gdt:
    dq 0
    dq 0x00af9a000000ffff           ; 0x08: 64-bit code
    dq 0x00cf92000000ffff           ; 0x10: data
    dq 0x00cf9a000000ffff           ; 0x18: 32-bit code
gdt_end:
gdt_ptr:
    dw gdt_end - gdt - 1
    dq gdt
global gdt, gdt_ptr

section .rodata
no_lm_msg: db "HOSTILE FATAL: no long mode (CPUID.80000001h:EDX.LM=0)", 13, 10, 0

section .bss
align 4096
pml4:       resb 4096
pdpt:       resb 4096
pd:         resb 4 * 4096
vmx_region: resb 4096
stack:      resb 16384
stack_top:
