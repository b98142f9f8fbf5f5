; testos: interrupt and exception stubs, the SYSCALL entry, the context
; switch, and setjmp/longjmp for recoverable kernel faults.
;
; Every stub builds a struct trap_frame (trap.h): the CPU's frame, an error
; code (0 where the CPU pushes none), the vector, then the 15 general
; registers. SYSCALL builds the same frame with vector 0x100, so system calls,
; interrupts and new processes all leave the kernel through one layout.

default rel

extern trap
extern syscall_dispatch
extern sched_tail
extern kthread_exit
extern cur_kstack_top
global isr_stubs, syscall_entry, trap_return, switch_to
global task_start_user, task_start_kernel, k_setjmp, k_longjmp, catch_resume

%macro PUSH_GPRS 0
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
%endmacro

%macro POP_GPRS 0
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
%endmacro

section .text
%macro ISR 1
align 16
isr_%1:
%if %1 == 8 || (%1 >= 10 && %1 <= 14) || %1 == 17 || %1 == 21 || %1 == 29 || %1 == 30
%else
    push 0
%endif
    push %1
    jmp isr_common
%endmacro

%assign v 0
%rep 256
    ISR v
%assign v v + 1
%endrep

isr_common:
    cld
    PUSH_GPRS
    mov rdi, rsp
    call trap
trap_return:
    POP_GPRS
    add rsp, 16                 ; vector, error code
    iretq

; SYSCALL (SDM 5.8.8): RCX = user RIP, R11 = user RFLAGS, CPL 0, still on the
; user stack, IF cleared by FMASK. One CPU, interrupts off: the scratch slot
; is safe until the user RSP is on the kernel stack.
align 16
syscall_entry:
    mov [syscall_user_rsp], rsp
    mov rsp, [cur_kstack_top]
    push 0x1b                   ; ss
    push qword [syscall_user_rsp]
    push r11                    ; rflags
    push 0x23                   ; cs
    push rcx                    ; rip
    push 0                      ; error code
    push 0x100                  ; "vector": a SYSCALL frame
    PUSH_GPRS
    mov rdi, rsp
    call syscall_dispatch
    POP_GPRS
    add rsp, 16
    pop rcx                     ; rip
    add rsp, 8                  ; cs
    pop r11                     ; rflags
    pop rsp                     ; user rsp
    o64 sysret

; switch_to(u64 *save_rsp, u64 new_rsp): saves the callee-saved registers on
; the current kernel stack, stores RSP, switches to new_rsp and returns there.
align 16
switch_to:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    mov [rdi], rsp
    mov rsp, rsi
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret

; First run of a user process: its kernel stack holds a trap frame for iretq.
task_start_user:
    call sched_tail
    jmp trap_return

; First run of a kernel thread: r12 = function, r13 = argument.
task_start_kernel:
    call sched_tail
    sti
    mov rdi, r13
    call r12
    mov edi, eax
    call kthread_exit
.hang:
    hlt
    jmp .hang

; k_setjmp(u64 jb[8]) returns 0; k_longjmp(jb, v) makes it return v.
align 16
k_setjmp:
    mov [rdi], rbx
    mov [rdi + 8], rbp
    mov [rdi + 16], r12
    mov [rdi + 24], r13
    mov [rdi + 32], r14
    mov [rdi + 40], r15
    lea rax, [rsp + 8]
    mov [rdi + 48], rax
    mov rax, [rsp]
    mov [rdi + 56], rax
    xor eax, eax
    ret

k_longjmp:
    mov rbx, [rdi]
    mov rbp, [rdi + 8]
    mov r12, [rdi + 16]
    mov r13, [rdi + 24]
    mov r14, [rdi + 32]
    mov r15, [rdi + 40]
    mov rsp, [rdi + 48]
    mov eax, esi
    jmp [rdi + 56]

; trap() sends a caught kernel fault here (RDI = the jump buffer).
catch_resume:
    mov esi, 1
    jmp k_longjmp

section .rodata
align 8
isr_stubs:
%assign v 0
%rep 256
    dq isr_ %+ v
%assign v v + 1
%endrep

; The boot thread's stack (pid 0, "idle"): boot.asm switches to it in the
; higher half.
global boot_stack_top
section .bss nobits alloc noexec write align=16
boot_stack:     resb 16384
boot_stack_top:
syscall_user_rsp: resq 1
