; Exception entry stubs for vigil's own IDT (vectors 0-31). Each stub makes the
; frame uniform (a zero error code where the CPU pushes none), pushes its
; vector and the general registers, and calls trap_handler(struct trap_frame *).
; The layout must match struct trap_frame in trap.h (checked there).

extern trap_handler
global isr_table

section .text
%macro ISR 2                ; vector, has_error_code
isr_%1:
%if %2 == 0
    push 0
%endif
    push %1
    jmp isr_common
%endmacro

%assign v 0
%rep 32
%if v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30
    ISR v, 1
%else
    ISR v, 0
%endif
%assign v v + 1
%endrep

isr_common:
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    cld
    mov rdi, rsp
    call trap_handler       ; returns only for exceptions vigil survives
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    add rsp, 16             ; vector and error code
    iretq

section .rodata
align 8
isr_table:
%assign v 0
%rep 32
    dq isr_ %+ v
%assign v v + 1
%endrep
