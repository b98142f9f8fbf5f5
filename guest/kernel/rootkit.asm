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

; alert-flood-distinct's code: one page of 1365 VMCALLs (0f 01 c1) and a
; RET, shipped in the kernel's text (as a module's code would be) so that
; it runs where vigil's execute watch lets supervisor code run.
global flood_page
section .text
align 4096
flood_page:
    times 1365 db 0x0f, 0x01, 0xc1
    ret
    align 4096, db 0xcc
