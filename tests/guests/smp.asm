; smp: a hostile multiprocessor guest. The boot CPU wakes every other CPU
; with INIT-SIPI-SIPI through its local APIC ("all excluding self"), with a
; real-mode trampoline at 0x8000, as an OS (or a rootkit) would. Each CPU
; that starts switches to protected mode and reports whether it runs under a
; hypervisor, then reaches for vigil: it reads and writes 0x2000000 (vigil's
; load address) and scans 0x2000000-0x2040000 a page at a time for the
; string "vigil:". Bare, the woken CPUs run natively (hv=0) and read that
; memory; under vigil they must run as vCPUs (hv=1, vigil's signature) and
; every access to vigil's memory must fault (#GP, from EPT).
; Then the boot CPU sends INIT-SIPI-SIPI a second time (an OS restarting its
; CPUs): each CPU must start again from the trampoline.
;
; Built three times: smp.elf as above; smp-ownidt.elf (-DSIPI_FIRST
; -DPRIVATE_IDT), whose woken CPUs load an IDT of their own instead of the
; kernel's and keep running on it (a CPU a rootkit keeps for itself); smp-sipi.elf (-DSIPI_FIRST) sends a SIPI
; alone first, which starts a CPU that waits for SIPI (vigil's vCPUs do; the
; BIOS's halted CPUs do not), and INIT-SIPI-SIPI only if none answered.
; (Bochs 2.7 never clears an INIT that reached a CPU in VMX operation: the
; INIT exit repeats at every entry, so a CPU the guest INITs cannot run
; guest code there again. docs/testing.md says more.)
;
;   SMP bsp apic=<id> hv=<0|1>
;   SMP ap apic=<id> hv=<0|1> sig="<cpuid 0x40000000 signature>"
;   SMP ap apic=<id> read-0x2000000 <#GP|value 0x...>
;   SMP ap apic=<id> write-0x2000000 <#GP|done>
;   SMP ap apic=<id> scan faulted=<n> readable=<n> found=<0x... address of "vigil:" | none>
;   SMP arrived=<n> done=<n>
;   SMP restart arrived=<n>
;   SMP done

%include "common32.inc"

MB2_MAGIC       equ 0xe85250d6
MB2_HDR_LEN     equ 16 + 8
LAPIC           equ 0xfee00000
ICR_LO          equ 0x300
ICR_HI          equ 0x310
TRAMP           equ 0x8000
SCAN_START      equ 0x2000000
SCAN_END        equ 0x2040000
MAX_AP          equ 8

section .multiboot2
align 8
    dd MB2_MAGIC
    dd 0
    dd MB2_HDR_LEN
    dd 0x100000000 - (MB2_MAGIC + MB2_HDR_LEN)
    dw 0, 0
    dd 8

section .text
global _start
_start:
    cli
    cld
    mov esp, stack_top
    call serial_init
    lgdt [gdt_desc]
    jmp 0x08:.reload
.reload:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    call idt_init
    lidt [idt_desc]
%ifdef PRIVATE_IDT
    mov esi, idt                ; the woken CPUs' own copy
    mov edi, idt_own
    mov ecx, 32 * 8
    rep movsb
%endif

    PRINT "SMP bsp apic="
    call apic_id
    call put_dec
    PRINT " hv="
    call hv_bit
    call put_dec
    NEWLINE

    ; the trampoline to 0x8000
    mov esi, tramp_start
    mov edi, TRAMP
    mov ecx, tramp_end - tramp_start
    rep movsb

%ifdef SIPI_FIRST
    call sipi_all
    call wait_done
    call lock_print
    PRINT "SMP sipi-only arrived="
    mov eax, [arrived]
    call put_dec
    NEWLINE
    call unlock_print
    cmp dword [arrived], 0
    jne .wait1_more
%endif
    call start_all
.wait1_more:
    call wait_done
    call lock_print
    PRINT "SMP arrived="
    mov eax, [arrived]
    call put_dec
    PRINT " done="
    mov eax, [done]
    call put_dec
    NEWLINE
    call unlock_print

    ; round 2: every AP (now halted) is reset and started again
    mov dword [round], 2
    call start_all
    mov ecx, 40000000
.wait2:
    pause
    dec ecx
    jnz .wait2
    call lock_print
    PRINT "SMP restart arrived="
    mov eax, [arrived2]
    call put_dec
    NEWLINE
    PRINT "SMP done"
    NEWLINE
    call unlock_print
    jmp poweroff

; a SIPI to each other APIC ID in turn (Bochs 2.7 stops a broadcast SIPI
; at the first CPU whose SIPI is a VM exit)
sipi_all:
    push eax
    push ecx
    call apic_id
    mov ecx, 1
.next:
    cmp ecx, MAX_AP
    jae .done
    cmp ecx, eax
    je .skip
    push ecx
    shl ecx, 24
    mov dword [LAPIC + ICR_HI], ecx
    mov dword [LAPIC + ICR_LO], 0x00004600 | (TRAMP >> 12)
    mov ecx, 200000
.gap: pause
    dec ecx
    jnz .gap
    pop ecx
.skip:
    inc ecx
    jmp .next
.done:
    pop ecx
    pop eax
    ret

; INIT, then SIPI twice, to all excluding self (SDM Vol. 3, 9.4.4.1)
start_all:
    mov dword [LAPIC + ICR_HI], 0
    mov dword [LAPIC + ICR_LO], 0x000c4500      ; INIT, assert, all excluding self
    mov ecx, 2000000
.d1: pause
    dec ecx
    jnz .d1
    mov dword [LAPIC + ICR_LO], 0x000c4600 | (TRAMP >> 12)
    mov ecx, 200000
.d2: pause
    dec ecx
    jnz .d2
    mov dword [LAPIC + ICR_LO], 0x000c4600 | (TRAMP >> 12)
    ret

apic_id:                        ; EAX = this CPU's initial APIC ID
    push ebx
    push ecx
    push edx
    mov eax, 1
    cpuid
    mov eax, ebx
    shr eax, 24
    pop edx
    pop ecx
    pop ebx
    ret

hv_bit:                         ; EAX = CPUID.1:ECX[31]
    push ebx
    push ecx
    push edx
    mov eax, 1
    cpuid
    mov eax, ecx
    shr eax, 31
    pop edx
    pop ecx
    pop ebx
    ret

lock_print:                     ; test and test-and-set: spinning only reads
    cmp dword [print_lock], 0
    je .try
    pause
    jmp lock_print
.try:
    lock bts dword [print_lock], 0
    jc lock_print
    ret

; wait until every CPU that arrived is done (bounded: some may never come)
wait_done:
    push ecx
    mov ecx, 20000000
.settle:
    pause
    dec ecx
    jnz .settle
    mov ecx, 400000000
.poll:
    mov eax, [done]
    cmp eax, [arrived]
    je .out
    pause
    dec ecx
    jnz .poll
.out:
    pop ecx
    ret

unlock_print:
    mov dword [print_lock], 0
    ret

; --- faults: every vector records itself and resumes at [recover] ----------
%macro STUB 2
stub_%1:
%if %2 == 0
    push 0
%endif
    mov dword [fault_vec], %1
    add esp, 4                  ; the error code
    push eax
    mov eax, [recover]
    mov [esp + 4], eax          ; the return EIP
    pop eax
    iretd
%endmacro
%assign v 0
%rep 32
%if v == 8 || (v >= 10 && v <= 14) || v == 17
    STUB v, 1
%else
    STUB v, 0
%endif
%assign v v + 1
%endrep

idt_init:
    pushad
%assign v 0
%rep 32
    mov eax, stub_ %+ v
    mov word [idt + v * 8], ax
    mov word [idt + v * 8 + 2], 0x08
    mov word [idt + v * 8 + 4], 0x8e00
    shr eax, 16
    mov word [idt + v * 8 + 6], ax
%assign v v + 1
%endrep
    popad
    ret

; --- the APs, in protected mode ---------------------------------------------
ap_pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, 1
    lock xadd [next_slot], eax
    and eax, MAX_AP - 1
    inc eax
    shl eax, 12
    lea esp, [ap_stacks + eax]
%ifdef PRIVATE_IDT
    lidt [idt_own_desc]         ; never the kernel's
%else
    lidt [idt_desc]
%endif
    cmp dword [round], 2
    je .round2
    lock inc dword [arrived]
    call lock_print
    PRINT "SMP ap apic="
    call apic_id
    mov ebx, eax
    call put_dec
    PRINT " hv="
    call hv_bit
    call put_dec
    PRINT ' sig="'
    push ebx
    mov eax, 0x40000000
    cpuid
    mov [sig], ebx
    mov [sig + 4], ecx
    mov [sig + 8], edx
    pop ebx
    mov esi, sig
    mov ecx, 12
    call putsn
    PUTC '"'
    NEWLINE

    ; read vigil's first page
    PRINT "SMP ap apic="
    mov eax, ebx
    call put_dec
    PRINT " read-0x2000000 "
    mov dword [fault_vec], -1
    mov dword [recover], .read_done
    mov eax, [SCAN_START]
.read_done:
    cmp dword [fault_vec], 13
    je .read_gp
    PRINT "value "
    call put_x32
    jmp .read_nl
.read_gp:
    PRINT "#GP"
.read_nl:
    NEWLINE

    ; write it
    PRINT "SMP ap apic="
    mov eax, ebx
    call put_dec
    PRINT " write-0x2000000 "
    mov dword [fault_vec], -1
    mov dword [recover], .write_done
    mov dword [SCAN_START + 64], 0xdeadbeef
.write_done:
    cmp dword [fault_vec], 13
    je .write_gp
    PRINT "done"
    jmp .write_nl
.write_gp:
    PRINT "#GP"
.write_nl:
    NEWLINE

    ; scan for "vigil:"
    xor ebp, ebp                ; faulted pages
    xor edi, edi                ; readable pages
    mov dword [found], 0
    mov esi, SCAN_START
.page:
    mov dword [fault_vec], -1
    mov dword [recover], .probed
    mov eax, [esi]
.probed:
    cmp dword [fault_vec], -1
    jne .faulted
    inc edi
    cmp dword [found], 0
    jne .next_page
    mov ecx, 4096 - 6
    mov edx, esi
.cmp:
    cmp dword [edx], 'vigi'
    jne .cmp_next
    cmp word [edx + 4], 'l:'
    jne .cmp_next
    mov [found], edx
    jmp .next_page
.cmp_next:
    inc edx
    dec ecx
    jnz .cmp
    jmp .next_page
.faulted:
    inc ebp
.next_page:
    add esi, 4096
    cmp esi, SCAN_END
    jb .page
    PRINT "SMP ap apic="
    mov eax, ebx
    call put_dec
    PRINT " scan faulted="
    mov eax, ebp
    call put_dec
    PRINT " readable="
    mov eax, edi
    call put_dec
    PRINT " found="
    mov eax, [found]
    test eax, eax
    jz .none
    call put_x32
    jmp .found_nl
.none:
    PRINT "none"
.found_nl:
    NEWLINE
%ifdef PRIVATE_IDT
    ; a CPU of the rootkit's own, on its own IDT from the start
    PRINT "SMP ap apic="
    mov eax, ebx
    call put_dec
    PRINT " own-idt "
    sidt [sidt_buf]
    mov eax, [sidt_buf + 2]
    call put_x32
    NEWLINE
    call unlock_print
    mov ecx, 150000000          ; keep running on it
.own:
    pause
    dec ecx
    jnz .own
%else
    call unlock_print
%endif
    lock inc dword [done]
    jmp .park
.round2:
    lock inc dword [arrived2]
.park:
    cli
    hlt
    jmp .park

; --- the real-mode trampoline, copied to 0x8000 ----------------------------
bits 16
tramp_start:
    cli
    xor ax, ax
    mov ds, ax
    o32 lgdt [TRAMP + (tramp_gdtr - tramp_start)]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp dword 0x08:ap_pm32
align 4
tramp_gdtr:
    dw gdt_end - gdt - 1
    dd gdt
tramp_end:
bits 32

section .data
align 8
gdt:
    dq 0
    dq 0x00cf9a000000ffff       ; 0x08 code
    dq 0x00cf92000000ffff       ; 0x10 data
gdt_end:
gdt_desc:
    dw gdt_end - gdt - 1
    dd gdt
idt_desc:
    dw 32 * 8 - 1
    dd idt
idt_own_desc:
    dw 32 * 8 - 1
    dd idt_own
sidt_buf:   times 8 db 0
print_lock: dd 0
arrived:    dd 0
arrived2:   dd 0
done:       dd 0
round:      dd 1
next_slot:  dd 0
fault_vec:  dd -1
recover:    dd 0
found:      dd 0
sig:        times 16 db 0

section .bss                    ; page-aligned by guest.ld
stack:      resb 4096
stack_top:
ap_stacks:  resb 4096 * (MAX_AP + 1)
idt:        resb 32 * 8
idt_own:    resb 32 * 8
