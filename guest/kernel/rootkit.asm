; testos: the "rootkit" entry stubs the attack scenarios install. They live in
; the kernel image as a loaded rootkit module's code would; each counts its
; hits, so the guest can see from inside whether a hook took effect.
default rel
extern syscall_entry
global hook_int80_stub, hook_int80_orig, hook_int80_hits
global lstar_hook_entry, lstar_hook_hits

section .text
; IDT vector 0x80 redirected here: count, then chain to the original gate.
align 16
hook_int80_stub:
    lock inc qword [hook_int80_hits]
    jmp [hook_int80_orig]

; IA32_LSTAR pointed here: count, then continue into the real entry. Still on
; the user stack at CPL 0; RCX and R11 hold the SYSCALL state untouched.
align 16
lstar_hook_entry:
    lock inc qword [lstar_hook_hits]
    jmp syscall_entry

section .data
align 8
hook_int80_orig: dq 0
hook_int80_hits: dq 0
lstar_hook_hits: dq 0
