; VM entry and exit. On a VM exit the CPU loads HOST_RSP (the top of vigil's
; exit stack) and HOST_RIP (vmx_exit_stub); the guest's general registers are
; still live and are saved here as struct guest_regs (vcpu.h; offsets checked
; by _Static_assert in exit.c). The handler may change them; they are
; restored and the guest resumed with VMRESUME.

extern vmexit_dispatch
extern vmresume_failed
global vmx_exit_stub
global vmx_launch

section .text
bits 64

%macro PUSH_GUEST 0
    push r15
    push r14
    push r13
    push r12
    push r11
    push r10
    push r9
    push r8
    push rdi
    push rsi
    push rbp
    push rbx
    push rdx
    push rcx
    push rax
%endmacro

%macro POP_GUEST 0
    pop rax
    pop rcx
    pop rdx
    pop rbx
    pop rbp
    pop rsi
    pop rdi
    pop r8
    pop r9
    pop r10
    pop r11
    pop r12
    pop r13
    pop r14
    pop r15
%endmacro

vmx_exit_stub:
    PUSH_GUEST
    mov rdi, rsp                ; struct guest_regs *
    sub rsp, 8                  ; 15 pushes left RSP 8 off 16-byte alignment
    call vmexit_dispatch
    add rsp, 8
    POP_GUEST
    vmresume
    ; Only reached if VMRESUME failed: report from C (does not return).
    PUSH_GUEST
    mov rdi, rsp
    sub rsp, 8
    call vmresume_failed
.hang:
    cli
    hlt
    jmp .hang

; bool vmx_launch(const struct guest_regs *regs): loads the guest's general
; registers and executes VMLAUNCH. Returns (false) only if VMLAUNCH failed.
vmx_launch:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    mov rax, [rdi + 0]
    mov rcx, [rdi + 8]
    mov rdx, [rdi + 16]
    mov rbx, [rdi + 24]
    mov rbp, [rdi + 32]
    mov rsi, [rdi + 40]
    mov r8,  [rdi + 56]
    mov r9,  [rdi + 64]
    mov r10, [rdi + 72]
    mov r11, [rdi + 80]
    mov r12, [rdi + 88]
    mov r13, [rdi + 96]
    mov r14, [rdi + 104]
    mov r15, [rdi + 112]
    mov rdi, [rdi + 48]
    vmlaunch
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    xor eax, eax
    ret
