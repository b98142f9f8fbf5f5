/* worker: CPU work, heap memory, system calls, yields. Exit code = a
 * checksum of the work (0..127), deterministic for a given argument. */
#include "ulib.h"

int main(long id)
{
    uint64_t *heap = sbrk(16 * 4096);
    if ((long)heap < 0)
        return 200;
    uint64_t x = 0x9e3779b97f4a7c15ull * (uint64_t)(id + 1);
    for (int round = 0; round < 16; round++) {
        for (int i = 0; i < 2048; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            heap[(round * 512 + i) % (16 * 512)] += x;
        }
        if (getpid() <= 0)
            return 201;
        yield();
    }
    uint64_t sum = 0;
    for (int i = 0; i < 16 * 512; i++)
        sum += heap[i];
    return (int)(sum % 127);
}
