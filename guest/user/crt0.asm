; testos user start-up: RDI = the argument spawn() passed; exit(main(arg)).
global _start
extern main
section .text.start
_start:
    and rsp, -16
    xor ebp, ebp
    call main
    mov edi, eax
    mov eax, 4                  ; SYS_exit
    syscall
    ud2
