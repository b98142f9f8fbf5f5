; hello-mb1: a multiboot1 guest, ELF32, 32-bit protected mode throughout (the
; format kvm-unit-tests use). Its header asks for memory information
; (flags bit 1) and page-aligned modules (bit 0). It prints to COM2 what the
; loader gave it, then powers off.
;
;   MB1 hello from a multiboot1 guest
;   MB1 magic ok                       (EAX was 0x2badb002)
;   MB1 entry ok (...) cr0=0x... eflags=0x...
;   MB1 bss zeroed
;   MB1 info 0x<addr> flags 0x<flags>
;   MB1 mem_lower <n> KiB mem_upper <n> KiB      (flags bit 0; required here)
;   MB1 cmdline "<...>"                          (bit 2)
;   MB1 bootloader "<...>"                       (bit 9)
;   MB1 mmap 0x<base> 0x<len> type <n>           (bit 6; each entry)
;   MB1 mmap entries=<n>
;   MB1 module <cmdline>                         (bit 3; each module)
;   MB1 module-data 0x<start> 0x<end> size <n> head "<first 16 bytes>"
;   MB1 modules count=<n>
;   MB1 done

%include "common32.inc"

MB1_MAGIC       equ 0x1badb002
MB1_FLAGS       equ 0x00000003      ; bit 0: page-align modules, bit 1: memory info
MB1_BOOT_MAGIC  equ 0x2badb002
MMAP_MAX        equ 256             ; entries walked at most
MODS_MAX        equ 64

section .multiboot
align 4
    dd MB1_MAGIC
    dd MB1_FLAGS
    dd -(MB1_MAGIC + MB1_FLAGS)

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

    PRINT "MB1 hello from a multiboot1 guest"
    NEWLINE

    mov eax, [entry_magic]
    cmp eax, MB1_BOOT_MAGIC
    jne .bad_magic
    PRINT "MB1 magic ok"
    NEWLINE
    jmp .magic_done
.bad_magic:
    PRINT "MB1 magic BAD "
    call put_x32
    PRINT " (expected 0x2badb002)"
    NEWLINE
.magic_done:

    mov esi, .prefix
    call check_entry_state

    cmp byte [bss_dirty], 0
    jne .bss_bad
    PRINT "MB1 bss zeroed"
    NEWLINE
    jmp .bss_done
.bss_bad:
    PRINT "MB1 bss NOT zeroed by the loader"
    NEWLINE
.bss_done:

    cmp dword [entry_magic], MB1_BOOT_MAGIC
    jne .done
    call walk_info
    call paging_test
.done:
    PRINT "MB1 done"
    NEWLINE
    jmp poweroff
.prefix: db "MB1", 0

; walk_info: EBX = the multiboot1 information structure.
walk_info:
    mov ebx, [entry_info]
    PRINT "MB1 info "
    mov eax, ebx
    call put_x32
    test ebx, ebx
    jz .bad_ptr
    PRINT " flags "
    mov eax, [ebx]
    call put_x32
    NEWLINE

    ; mem_lower / mem_upper: the header asked for them, so bit 0 must be set.
    test dword [ebx], 1 << 0
    jz .no_mem
    PRINT "MB1 mem_lower "
    mov eax, [ebx + 4]
    call put_dec
    PRINT " KiB mem_upper "
    mov eax, [ebx + 8]
    call put_dec
    PRINT " KiB"
    NEWLINE
    jmp .mem_done
.no_mem:
    PRINT "MB1 mem BAD: flags bit 0 clear, but the header asked for memory information"
    NEWLINE
.mem_done:

    test dword [ebx], 1 << 2
    jz .cmdline_done
    PRINT 'MB1 cmdline "'
    mov esi, [ebx + 16]
    test esi, esi
    jz .cmdline_null
    mov ecx, STR_MAX
    call putsn
.cmdline_null:
    PRINT '"'
    NEWLINE
.cmdline_done:

    test dword [ebx], 1 << 9
    jz .loader_done
    PRINT 'MB1 bootloader "'
    mov esi, [ebx + 64]
    test esi, esi
    jz .loader_null
    mov ecx, STR_MAX
    call putsn
.loader_null:
    PRINT '"'
    NEWLINE
.loader_done:

    ; Memory map: entries of (size, base u64, length u64, type u32), each
    ; followed by the next at entry + size + 4.
    test dword [ebx], 1 << 6
    jz .mmap_absent
    xor ebp, ebp
    mov esi, [ebx + 48]             ; mmap_addr
    mov edi, [ebx + 44]             ; mmap_length
    add edi, esi                    ; end
    jc .mmap_bad
.mmap_entry:
    lea eax, [esi + 4]
    cmp eax, edi
    ja .mmap_done
    mov ecx, [esi]                  ; size
    cmp ecx, 20
    jb .mmap_bad
    cmp ecx, 4096
    ja .mmap_bad
    lea eax, [esi + ecx + 4]
    cmp eax, edi
    ja .mmap_bad
    cmp ebp, MMAP_MAX
    jae .mmap_bad
    inc ebp
    PRINT "MB1 mmap "
    mov eax, [esi + 4]
    mov edx, [esi + 8]
    call put_hex64
    PUTC ' '
    mov eax, [esi + 12]
    mov edx, [esi + 16]
    call put_hex64
    PRINT " type "
    mov eax, [esi + 20]
    call put_dec
    NEWLINE
    lea esi, [esi + ecx + 4]
    jmp .mmap_entry
.mmap_bad:
    PRINT "MB1 mmap BAD entry at "
    mov eax, esi
    call put_x32
    NEWLINE
.mmap_done:
    PRINT "MB1 mmap entries="
    mov eax, ebp
    call put_dec
    NEWLINE
    jmp .mods
.mmap_absent:
    PRINT "MB1 mmap absent (flags bit 6 clear)"
    NEWLINE

    ; Modules: mods_count entries of (mod_start, mod_end, string, reserved).
.mods:
    test dword [ebx], 1 << 3
    jz .mods_absent
    mov ecx, [ebx + 20]             ; mods_count
    mov edi, [ebx + 24]             ; mods_addr
    cmp ecx, MODS_MAX
    ja .mods_bad
    xor ebp, ebp
.mod:
    cmp ebp, ecx
    jae .mods_done
    PRINT "MB1 module "
    mov esi, [edi + 8]
    test esi, esi
    jz .mod_noname
    push ecx
    mov ecx, STR_MAX
    call putsn
    pop ecx
.mod_noname:
    NEWLINE
    PRINT "MB1 module-data "
    mov eax, [edi]
    call put_x32
    PUTC ' '
    mov eax, [edi + 4]
    call put_x32
    mov eax, [edi + 4]
    sub eax, [edi]
    jb .mod_bad
    PRINT " size "
    call put_dec
    PRINT " head "
    push ecx
    mov ecx, eax
    mov esi, [edi]
    call put_head
    pop ecx
    NEWLINE
    jmp .mod_next
.mod_bad:
    PRINT " BAD (end before start)"
    NEWLINE
.mod_next:
    inc ebp
    add edi, 16
    jmp .mod
.mods_bad:
    PRINT "MB1 modules BAD count "
    mov eax, ecx
    call put_dec
    NEWLINE
    ret
.mods_done:
    PRINT "MB1 modules count="
    mov eax, ebp
    call put_dec
    NEWLINE
    ret
.mods_absent:
    PRINT "MB1 modules absent (flags bit 3 clear)"
    NEWLINE
    ret
.bad_ptr:
    NEWLINE
    PRINT "MB1 info BAD null address"
    NEWLINE
    ret

; paging_test: turn on 32-bit paging (4 MiB pages, identity) and run the
; descriptor-table instructions a 32-bit kernel runs with paging on (SGDT,
; LGDT, SIDT, STR): a hypervisor that traps them must follow this paging.
paging_test:
    mov edi, page_dir
    mov eax, 0x83                   ; present, writable, 4 MiB page
    mov ecx, 1024
.fill:
    mov [edi], eax
    add eax, 0x400000
    add edi, 4
    loop .fill
    mov eax, cr4
    or eax, 0x10                    ; PSE
    mov cr4, eax
    mov eax, page_dir
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000              ; PG
    mov cr0, eax
    sgdt [gdt_save]
    lgdt [gdt_save]                 ; the same table again
    sidt [idt_save]
    str ax
    mov [tr_save], ax
    mov eax, cr0
    and eax, 0x7fffffff             ; paging off again
    mov cr0, eax
    PRINT "MB1 paging sgdt limit="
    movzx eax, word [gdt_save]
    call put_hex32
    PRINT " base="
    mov eax, [gdt_save + 2]
    call put_hex32
    PRINT " sidt limit="
    movzx eax, word [idt_save]
    call put_hex32
    PRINT " str="
    movzx eax, word [tr_save]
    call put_hex32
    NEWLINE
    ret

section .bss align=4096
page_dir: resb 4096                 ; first in .bss: page-aligned by the section
gdt_save: resb 8
idt_save: resb 8
tr_save:  resb 4
          resb 12                   ; the stack stays 16-byte aligned (4128)
stack:  resb 8192
stack_top:
