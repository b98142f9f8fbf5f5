; testos: the user programs, linked into the kernel's rodata. The Makefile
; passes -i for the directory with the user ELFs. sigproc is stored
; XOR-encoded (key in images.c) so the signature pattern is never in the
; kernel image: it appears only in the memory of a spawned sigproc.
%macro IMAGE 2
global img_%1_start, img_%1_end
align 16
img_%1_start:
    incbin %2
img_%1_end:
%endmacro

section .rodata
IMAGE init,     "init.elf"
IMAGE worker,   "worker.elf"
IMAGE sleeper,  "sleeper.elf"
IMAGE pager,    "pager.elf"
IMAGE nop,      "nop.elf"
IMAGE probe,    "probe.elf"
IMAGE peek,     "peek.elf"
IMAGE backdoor, "backdoor.elf"
IMAGE bench,    "bench.elf"
IMAGE rawio,    "rawio.elf"
IMAGE sigproc,  "sigproc.elf.xor"
IMAGE ghost,    "ghost.elf"
