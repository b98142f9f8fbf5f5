; vigil boot: multiboot2 header, 32-bit entry, switch to long mode, call C.
;
; A multiboot2 loader enters _start32 in 32-bit protected mode with paging off,
; EAX = 0x36d76289 and EBX = physical address of the information structure
; (multiboot2 spec, 3.3 "I386 machine state"). Nothing else about the machine
; state can be trusted: no stack, no IDT, GDT contents unknown.
;
; A multiboot1 header is present too, only so that a multiboot1 loader (GRUB's
; `multiboot`, QEMU's -kernel) starts vigil far enough to say that it was loaded
; the wrong way, instead of failing silently.

MB2_MAGIC       equ 0xe85250d6
MB2_ARCH_I386   equ 0
MB2_BOOT_MAGIC  equ 0x36d76289
MB1_MAGIC       equ 0x1badb002
MB1_FLAGS       equ 0

COM1            equ 0x3f8
EFER_MSR        equ 0xc0000080

extern vigil_main
global _start32
global boot_pml4, boot_pdpt, boot_pd, __stack_top

section .multiboot
align 8
mb2_header:
    dd MB2_MAGIC
    dd MB2_ARCH_I386
    dd mb2_header_end - mb2_header
    dd -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    ; end tag
    dw 0, 0
    dd 8
mb2_header_end:

align 4
mb1_header:
    dd MB1_MAGIC
    dd MB1_FLAGS
    dd -(MB1_MAGIC + MB1_FLAGS)

section .text.boot
bits 32
_start32:
    cli
    cld
    mov esp, boot_stack_top
    mov edi, eax                ; keep magic and info pointer for C
    mov esi, ebx

    call uart_init32

    cmp edi, MB2_BOOT_MAGIC
    jne .bad_magic

    ; Long mode needs CPUID leaf 0x80000001 EDX.LM (bit 29).
    mov eax, 0x80000000
    cpuid
    cmp eax, 0x80000001
    jb .no_long_mode
    mov eax, 0x80000001
    cpuid
    test edx, 1 << 29
    jz .no_long_mode
    mov ebp, edx                ; EDX.NX (bit 20) decides EFER.NXE below

    ; Identity-map the first 4 GiB with 2 MiB pages: PML4[0] -> PDPT,
    ; PDPT[0..3] -> four page directories. C extends the map if needed.
    mov eax, boot_pdpt
    or eax, 3                   ; present, writable
    mov [boot_pml4], eax
    xor ecx, ecx
.fill_pdpt:
    mov eax, ecx
    shl eax, 12
    add eax, boot_pd
    or eax, 3
    mov [boot_pdpt + ecx * 8], eax
    inc ecx
    cmp ecx, 4
    jb .fill_pdpt
    xor ecx, ecx                ; ecx = 2 MiB page index 0..2047
.fill_pd:
    mov eax, ecx
    shl eax, 21
    or eax, 0x83                ; present, writable, page size
    mov [boot_pd + ecx * 8], eax
    mov eax, ecx
    shr eax, 11                 ; bits 32+ of the physical address
    mov [boot_pd + ecx * 8 + 4], eax
    inc ecx
    cmp ecx, 2048
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
    or eax, 1 << 11             ; NXE
.no_nx:
    wrmsr
    mov eax, cr0
    or eax, (1 << 31) | (1 << 16) | 1   ; PG, WP, PE
    mov cr0, eax

    lgdt [boot_gdt_ptr]
    jmp 0x08:long_entry

.bad_magic:
    mov ebx, msg_bad_magic
    call puts32
    mov eax, edi
    call puthex32
    mov ebx, msg_bad_magic2
    call puts32
    jmp halt32

.no_long_mode:
    mov ebx, msg_no_lm
    call puts32
    jmp halt32

halt32:
    mov ebx, msg_halted
    call puts32
.hang:
    cli
    hlt
    jmp .hang

; 16550 at COM1: 115200 baud, 8N1, FIFO on. Same settings as the C driver.
uart_init32:
    mov dx, COM1 + 1
    xor al, al
    out dx, al                  ; no interrupts
    mov dx, COM1 + 3
    mov al, 0x80
    out dx, al                  ; DLAB
    mov dx, COM1
    mov al, 1
    out dx, al                  ; divisor 1 = 115200
    mov dx, COM1 + 1
    xor al, al
    out dx, al
    mov dx, COM1 + 3
    mov al, 3
    out dx, al                  ; 8N1
    mov dx, COM1 + 2
    mov al, 0xc7
    out dx, al
    ret

; putc32: AL = character
putc32:
    push edx
    push eax
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    pop eax
    mov dx, COM1
    out dx, al
    pop edx
    ret

; puts32: EBX = NUL-terminated string
puts32:
    mov al, [ebx]
    test al, al
    jz .done
    call putc32
    inc ebx
    jmp puts32
.done:
    ret

; puthex32: EAX = value, printed as 0x%08x
puthex32:
    mov edx, eax
    mov al, '0'
    call putc32
    mov al, 'x'
    call putc32
    mov ecx, 8
.digit:
    rol edx, 4
    mov eax, edx
    and eax, 0xf
    mov al, [hex_digits + eax]
    call putc32
    loop .digit
    ret

bits 64
long_entry:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    mov rsp, __stack_top
    xor ebp, ebp                ; terminates frame-pointer backtraces
    ; edi = magic, esi = info address (zero-extended by the 32-bit moves)
    call vigil_main
.hang:
    cli
    hlt
    jmp .hang

section .rodata
hex_digits:     db "0123456789abcdef"
msg_bad_magic:  db 13, 10, "vigil: not loaded by a multiboot2 loader (EAX=", 0
msg_bad_magic2: db ", expected 0x36d76289); boot vigil with GRUB's multiboot2 command", 13, 10, 0
msg_no_lm:      db 13, 10, "vigil: this CPU has no long mode (CPUID.80000001H:EDX.LM=0); vigil needs x86-64", 13, 10, 0
msg_halted:     db "vigil: halted", 13, 10, 0

align 8
boot_gdt:
    dq 0
    dq 0x00af9b000000ffff       ; 0x08: 64-bit code, DPL 0 (accessed bit preset)
    dq 0x00cf93000000ffff       ; 0x10: data, DPL 0
boot_gdt_end:
boot_gdt_ptr:
    dw boot_gdt_end - boot_gdt - 1
    dd boot_gdt

section .bss
align 4096
boot_pml4:  resb 4096
boot_pdpt:  resb 4096
boot_pd:    resb 4096 * 4
boot_stack: resb 4096
boot_stack_top:
align 16
hv_stack:   resb 32768         ; vigil's stack in long mode
__stack_top:
