; The application processors' way into vigil. A woken AP starts in real mode
; at vector:0000 (SDM Vol. 3, 9.4.4 "MP Initialization Example"); the boot CPU
; copies ap_tramp_start..ap_tramp_end to a free page below 1 MiB, fills the
; hand-off block (struct ap_handoff in smp.c, offsets checked there) and sends
; INIT-SIPI-SIPI. The AP enters protected mode, then long mode on vigil's own
; page tables, and calls ap_main(struct cpu *) on its own stack. The page is
; given back to the guest (its old contents restored) before the guest runs.

global ap_tramp_start, ap_tramp_end, ap_entry64, tr_code32_off
extern ap_main

section .rodata
bits 16
ap_tramp_start:
    jmp short tr_code16
    times 8 - ($ - ap_tramp_start) db 0
; hand-off block at offset 8
tr_gdtr:   dw 0, 0, 0, 0          ; limit, base (32-bit), pad
tr_pm32:   dd 0                   ; far pointer to tr_code32 (offset, selector)
           dw 0, 0
tr_lm64:   dd 0                   ; far pointer to ap_entry64
           dw 0, 0
tr_cr3:    dd 0                   ; vigil's PML4 (below 4 GiB)
tr_efer:   dd 0                   ; LME and NXE as on the boot CPU
tr_stack:  dq 0                   ; top of this AP's stack
tr_cpu:    dq 0                   ; its struct cpu
tr_gdt:    dq 0
           dq 0x00cf9a000000ffff  ; 0x08: 32-bit code
           dq 0x00cf92000000ffff  ; 0x10: data
           dq 0x00af9a000000ffff  ; 0x18: 64-bit code
tr_code16:
    cli
    cld
    mov ax, cs
    mov ds, ax
    movzx ebx, ax
    shl ebx, 4                    ; EBX = linear address of this page, kept to the end
    o32 lgdt [tr_gdtr - ap_tramp_start]
    mov eax, cr0
    or al, 1                      ; PE
    mov cr0, eax
    jmp dword far [tr_pm32 - ap_tramp_start]

bits 32
tr_code32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, cr4
    or eax, 1 << 5                ; PAE
    mov cr4, eax
    mov eax, [ebx + tr_cr3 - ap_tramp_start]
    mov cr3, eax
    mov ecx, 0xc0000080           ; EFER
    mov eax, [ebx + tr_efer - ap_tramp_start]
    xor edx, edx
    wrmsr
    mov eax, cr0
    or eax, (1 << 31) | (1 << 16) | 1   ; PG, WP, PE: long mode is active
    mov cr0, eax
    jmp far [ebx + tr_lm64 - ap_tramp_start]
ap_tramp_end:
tr_code32_off equ tr_code32 - ap_tramp_start

section .text
bits 64
ap_entry64:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    mov ebx, ebx                  ; upper halves are undefined after the mode switch
    mov rsp, [rbx + tr_stack - ap_tramp_start]
    mov rdi, [rbx + tr_cpu - ap_tramp_start]
    xor ebp, ebp                  ; terminates frame-pointer backtraces
    call ap_main
.hang:
    cli
    hlt
    jmp .hang
