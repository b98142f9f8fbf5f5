; hello: the smallest multiboot2 guest. Runs in 32-bit protected mode the
; whole time (it is an ELF64 file with 32-bit code, like vigil itself), prints
; to COM2 what its loader gave it, then powers off.
;
;   HELLO from a multiboot2 guest
;   HELLO magic ok                     (EAX was 0x36d76289)
;   HELLO entry ok (...) cr0=0x... eflags=0x...
;   HELLO bss zeroed
;   HELLO info 0x<addr> size <n>
;   HELLO cmdline "<...>"
;   HELLO bootloader "<...>"
;   HELLO meminfo lower=<KiB> upper=<KiB>
;   HELLO mmap 0x<base> 0x<len> type <n>          (each entry)
;   HELLO module <cmdline>                       (each module)
;   HELLO module-data 0x<start> 0x<end> size <n> head "<first 16 bytes>"
;   HELLO info ok tags=<n>
;   HELLO done
;
; The information structure is bounds-checked: a bad size or tag prints a
; line with "BAD" and the walk stops.

%include "common32.inc"

MB2_MAGIC       equ 0xe85250d6
MB2_HDR_LEN     equ 16 + 8
MB2_BOOT_MAGIC  equ 0x36d76289
INFO_MAX        equ 0x100000        ; a sane upper bound for total_size

section .multiboot2
align 8
    dd MB2_MAGIC
    dd 0                            ; i386
    dd MB2_HDR_LEN
    dd 0x100000000 - (MB2_MAGIC + MB2_HDR_LEN)
    dw 0, 0                         ; end tag
    dd 8

section .text
global _start
_start:
    mov [entry_magic], eax
    mov [entry_info], ebx
    mov eax, cr0
    mov [entry_cr0], eax
    mov ebp, .bss_checked
    jmp check_bss
.bss_checked:
    mov esp, stack_top
    pushfd
    pop dword [entry_eflags]
    cli
    cld
    call serial_init

    PRINT "HELLO from a multiboot2 guest"
    NEWLINE

    mov eax, [entry_magic]
    cmp eax, MB2_BOOT_MAGIC
    jne .bad_magic
    PRINT "HELLO magic ok"
    NEWLINE
    jmp .magic_done
.bad_magic:
    PRINT "HELLO magic BAD "
    call put_x32
    PRINT " (expected 0x36d76289)"
    NEWLINE
.magic_done:

    mov esi, .prefix
    call check_entry_state

    cmp byte [bss_dirty], 0
    jne .bss_bad
    PRINT "HELLO bss zeroed"
    NEWLINE
    jmp .bss_done
.bss_bad:
    PRINT "HELLO bss NOT zeroed by the loader"
    NEWLINE
.bss_done:

    cmp dword [entry_magic], MB2_BOOT_MAGIC
    jne .done                       ; EBX means nothing without the magic
    call walk_info
.done:
    PRINT "HELLO done"
    NEWLINE
    jmp poweroff
.prefix: db "HELLO", 0

; walk_info: the multiboot2 information structure at [entry_info].
;   ESI = current tag, EDI = end of the structure, EBP = tag count.
walk_info:
    mov esi, [entry_info]
    PRINT "HELLO info "
    mov eax, esi
    call put_x32
    test esi, esi
    jz .bad_ptr
    test esi, 7
    jnz .bad_ptr
    mov ecx, [esi]                  ; total_size
    PRINT " size "
    mov eax, ecx
    call put_dec
    NEWLINE
    cmp ecx, 16                     ; header + end tag
    jb .bad_size
    cmp ecx, INFO_MAX
    ja .bad_size
    lea edi, [esi + ecx]
    cmp edi, esi
    jb .bad_size                    ; wraps past 4 GiB
    add esi, 8
    xor ebp, ebp
.tag:
    lea eax, [esi + 8]
    cmp eax, edi
    ja .no_end
    mov ebx, [esi]                  ; type
    mov ecx, [esi + 4]              ; size
    cmp ecx, 8
    jb .bad_tag
    mov eax, edi
    sub eax, esi
    cmp ecx, eax
    ja .bad_tag                     ; runs past total_size
    inc ebp
    test ebx, ebx
    jz .end
    cmp ebx, 1
    je .cmdline
    cmp ebx, 2
    je .loader
    cmp ebx, 3
    je .module
    cmp ebx, 4
    je .meminfo
    cmp ebx, 6
    je .mmap
.next:
    add ecx, 7
    and ecx, ~7
    add esi, ecx
    jmp .tag

.cmdline:
    PRINT 'HELLO cmdline "'
    push esi
    push ecx
    add esi, 8
    sub ecx, 8
    call putsn
    pop ecx
    pop esi
    PRINT '"'
    NEWLINE
    jmp .next

.loader:
    PRINT 'HELLO bootloader "'
    push esi
    push ecx
    add esi, 8
    sub ecx, 8
    call putsn
    pop ecx
    pop esi
    PRINT '"'
    NEWLINE
    jmp .next

.meminfo:
    cmp ecx, 16
    jb .bad_tag
    PRINT "HELLO meminfo lower="
    mov eax, [esi + 8]
    call put_dec
    PRINT " upper="
    mov eax, [esi + 12]
    call put_dec
    NEWLINE
    jmp .next

.module:
    cmp ecx, 16
    jb .bad_tag
    PRINT "HELLO module "
    push esi
    push ecx
    add esi, 16
    sub ecx, 16
    call putsn
    pop ecx
    pop esi
    NEWLINE
    PRINT "HELLO module-data "
    mov eax, [esi + 8]
    call put_x32
    PUTC ' '
    mov eax, [esi + 12]
    call put_x32
    mov eax, [esi + 12]
    sub eax, [esi + 8]
    jb .bad_module
    PRINT " size "
    call put_dec
    PRINT " head "
    push esi
    push ecx
    mov ecx, eax
    mov esi, [esi + 8]
    call put_head
    pop ecx
    pop esi
    NEWLINE
    jmp .next
.bad_module:
    PRINT " BAD (end before start)"
    NEWLINE
    jmp .next

; mmap tag: entry_size, entry_version, then entries of entry_size bytes:
; base (u64), length (u64), type (u32), reserved (u32).
.mmap:
    cmp ecx, 16
    jb .bad_tag
    mov edx, [esi + 8]              ; entry_size
    cmp edx, 24
    jb .bad_mmap
    test edx, 7
    jnz .bad_mmap
    push esi
    push ecx
    lea ebx, [esi + ecx]            ; end of this tag
    add esi, 16
.entry:
    lea eax, [esi + edx]
    cmp eax, ebx
    ja .entries_done
    PRINT "HELLO mmap "
    push edx
    mov eax, [esi]
    mov edx, [esi + 4]
    call put_hex64
    PUTC ' '
    mov eax, [esi + 8]
    mov edx, [esi + 12]
    call put_hex64
    pop edx
    PRINT " type "
    mov eax, [esi + 16]
    call put_dec
    NEWLINE
    add esi, edx
    jmp .entry
.entries_done:
    pop ecx
    pop esi
    jmp .next
.bad_mmap:
    PRINT "HELLO info BAD mmap entry_size "
    mov eax, edx
    call put_dec
    NEWLINE
    jmp .next

.end:
    PRINT "HELLO info ok tags="
    mov eax, ebp
    call put_dec
    NEWLINE
    ret
.no_end:
    PRINT "HELLO info BAD no end tag"
    NEWLINE
    ret
.bad_tag:
    PRINT "HELLO info BAD tag at "
    mov eax, esi
    call put_x32
    PRINT " type "
    mov eax, ebx
    call put_dec
    PRINT " size "
    mov eax, ecx
    call put_dec
    NEWLINE
    ret
.bad_size:
    PRINT "HELLO info BAD total_size"
    NEWLINE
    ret
.bad_ptr:
    NEWLINE
    PRINT "HELLO info BAD address (null or not 8-byte aligned)"
    NEWLINE
    ret

section .bss
align 16
stack:  resb 8192
stack_top:
