/* sigproc: a process whose code pages carry the known-bad byte pattern
 * (docs/testos.md, "Signature"): the 16 ASCII bytes "VIGIL-SIGNATURE!"
 * sit in .text, jumped over by sig_payload. The kernel stores this image
 * XOR-encoded, so the pattern exists only in this process's memory.
 * It checks the pattern is really in its code (FNV-1a hash, so the plain
 * bytes are not repeated in its data), runs a little, exits 0. */
#include "ulib.h"

__asm__(".section .text\n"
        ".globl sig_payload\n"
        "sig_payload:\n"
        "    jmp 1f\n"
        ".globl sig_marker\n"
        "sig_marker:\n"
        "    .ascii \"VIGIL-SIGNATURE!\"\n"
        "1:  ret\n"
        ".previous\n");
extern const unsigned char sig_marker[16];
extern void sig_payload(void);

int main(long arg)
{
    (void)arg;
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < 16; i++) {
        h ^= sig_marker[i];
        h *= 0x100000001b3ull;
    }
    if (h != 0x941b0ca30d732e36ull) {
        printf("sigproc: pattern not found in my code\n");
        return 1;
    }
    for (int i = 0; i < 4; i++) {
        sig_payload();
        sleep_ms(2);
    }
    printf("sigproc: pid %ld ran with the pattern at 0x%lx\n", getpid(), (uint64_t)sig_marker);
    return 0;
}
