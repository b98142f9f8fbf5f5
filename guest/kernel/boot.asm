; testos boot: multiboot2 header, 32-bit entry, switch to long mode, jump to
; the higher half and call C.
;
; The loader (GRUB, or vigil) enters _start32 in 32-bit protected mode with
; paging off, EAX = 0x36d76289 and EBX = physical address of the multiboot2
; information structure (multiboot2 spec, 3.3 "I386 machine state"). Nothing
; else is trusted: no stack, GDT and IDT unknown.
;
; Before paging is on, .bss is zeroed and the information structure is copied into the kernel's
; own .bss (mbi_copy), so C never has to map wherever the loader put it.
; The boot page tables map physical 0..24 MiB twice with 2 MiB pages: at 0
; (identity, for the few instructions until the jump) and at
; KERNEL_VMA_OFFSET. C replaces them with the final 4 KiB tables at once.

MB2_MAGIC       equ 0xe85250d6
MB2_ARCH_I386   equ 0
MB2_BOOT_MAGIC  equ 0x36d76289
MBI_MAX         equ 16384           ; size of mbi_copy (see mb2.c)
BOOT_MAP_2M     equ 12              ; 12 x 2 MiB = the 24 MiB testos may use
EFER_MSR        equ 0xc0000080
COM2            equ 0x2f8

extern kmain_early
extern mbi_copy_phys, bss_start_phys, bss_end_phys
extern boot_stack_top
global _start32
global boot_mbi_total, boot_mbi_copied
global boot_pml4                  ; the boot tables' root: scn_hide.c borrows it

section .multiboot progbits alloc noexec nowrite align=8
mb2_header:
    dd MB2_MAGIC
    dd MB2_ARCH_I386
    dd mb2_header_end - mb2_header
    dd -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    dw 0, 0                     ; end tag
    dd 8
mb2_header_end:

section .boot.text progbits alloc exec nowrite align=16
bits 32
_start32:
    cli
    cld
    mov esp, boot32_stack_top
    cmp eax, MB2_BOOT_MAGIC
    jne .bad_magic

    ; Zero .bss and the boot tables ourselves: a loader should, but this
    ; kernel does not depend on it. The loader never puts its information
    ; structure inside the image's memory size, so this cannot clobber it.
    xor eax, eax
    mov edi, bss_start_phys
    mov ecx, bss_end_phys
    sub ecx, edi
    shr ecx, 2
    rep stosd
    mov edi, boot_pml4
    mov ecx, (boot32_stack_top - boot_pml4) / 4
    rep stosd

    ; Copy the information structure: total_size is its first dword.
    mov esi, ebx
    mov ecx, [esi]
    mov [boot_mbi_total], ecx
    cmp ecx, MBI_MAX
    jbe .size_ok
    mov ecx, MBI_MAX
.size_ok:
    mov [boot_mbi_copied], ecx
    mov edi, mbi_copy_phys
    rep movsb

    ; Long mode needs CPUID.80000001H:EDX.LM (bit 29); NX is bit 20.
    mov eax, 0x80000000
    cpuid
    cmp eax, 0x80000001
    jb .no_long_mode
    mov eax, 0x80000001
    cpuid
    test edx, 1 << 29
    jz .no_long_mode
    mov ebp, edx

    ; Boot page tables (zeroed by the loader as .bss).
    mov eax, boot_pdpt_lo
    or eax, 3
    mov [boot_pml4], eax
    mov eax, boot_pdpt_hi
    or eax, 3
    mov [boot_pml4 + 511 * 8], eax
    mov eax, boot_pd
    or eax, 3
    mov [boot_pdpt_lo], eax
    mov [boot_pdpt_hi + 510 * 8], eax   ; 0xffffffff80000000 -> phys 0
    xor ecx, ecx
.fill_pd:
    mov eax, ecx
    shl eax, 21
    or eax, 0x83                ; present, writable, 2 MiB
    mov [boot_pd + ecx * 8], eax
    inc ecx
    cmp ecx, BOOT_MAP_2M
    jb .fill_pd

    mov eax, cr4
    or eax, 1 << 5              ; PAE
    mov cr4, eax
    mov eax, boot_pml4
    mov cr3, eax
    mov ecx, EFER_MSR
    rdmsr
    or eax, 1 << 8              ; LME
    test ebp, 1 << 20
    jz .no_nx
    or eax, 1 << 11             ; NXE (C refuses to go on without it)
.no_nx:
    wrmsr
    mov eax, cr0
    or eax, (1 << 31) | (1 << 16) | 1   ; PG, WP, PE
    mov cr0, eax
    lgdt [boot_gdt_ptr]
    jmp 0x08:long64

.bad_magic:
    mov esi, msg_bad_magic
    jmp fail32
.no_long_mode:
    mov esi, msg_no_lm
    jmp fail32

; Print ESI on COM2 (the default console; the UART is not set up, emulators
; do not care), try every power-off, halt.
fail32:
    lodsb
    test al, al
    jz .off
    mov dx, COM2
    out dx, al
    jmp fail32
.off:
    mov esi, msg_shutdown
    mov dx, 0x8900
.sd:
    lodsb
    test al, al
    jz .qemu
    out dx, al
    jmp .sd
.qemu:
    mov dx, 0xf4
    mov ax, 0x31
    out dx, ax
.hang:
    hlt
    jmp .hang

bits 64
long64:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    mov rax, high64
    jmp rax

section .text
high64:
    mov rsp, boot_stack_top
    mov edi, ebp                ; CPUID.80000001H:EDX (bit 20: NX)
    mov esi, [boot_mbi_copied]  ; bytes of the info structure copied
    mov edx, [boot_mbi_total]   ; its total_size as the loader gave it
    xor ebp, ebp                ; ends frame-pointer backtraces
    call kmain_early
.hang64:
    cli
    hlt
    jmp .hang64

section .boot.data progbits alloc noexec write align=8
msg_bad_magic:  db "testos: not loaded by a multiboot2 loader (EAX is not 0x36d76289); halted", 13, 10, 0
msg_no_lm:      db "testos: this CPU has no long mode; halted", 13, 10, 0
msg_shutdown:   db "Shutdown", 0
align 8
boot_gdt:
    dq 0
    dq 0x00af9b000000ffff       ; 0x08: 64-bit code
    dq 0x00cf93000000ffff       ; 0x10: data
boot_gdt_end:
boot_gdt_ptr:
    dw boot_gdt_end - boot_gdt - 1
    dd boot_gdt
boot_mbi_total:  dd 0
boot_mbi_copied: dd 0

section .boot.bss nobits alloc noexec write align=4096
boot_pml4:      resb 4096
boot_pdpt_lo:   resb 4096
boot_pdpt_hi:   resb 4096
boot_pd:        resb 4096
boot32_stack:   resb 1024
boot32_stack_top:
