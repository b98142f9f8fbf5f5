/* libFuzzer target: arbitrary bytes as the BIOS area searched for an SMBIOS
 * entry point, and as a structure table searched for the system UUID. The
 * input is copied to a heap block of exactly its size, so ASan sees any
 * read past the end; a UUID found is 36 characters of hex and dashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/smbios.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u8 *b = malloc(size ? size : 1);
    if (!b)
        return 0;
    memcpy(b, data, size);
    u64 t;
    u32 n;
    smbios_find(b, size, &t, &n);
    char out[37];
    if (smbios_uuid(b, size, out)) {
        if (strlen(out) != 36)
            abort();
        for (int i = 0; i < 36; i++)
            if ((i == 8 || i == 13 || i == 18 || i == 23) ? out[i] != '-' : !strchr("0123456789abcdef", out[i]))
                abort();
    }
    free(b);
    return 0;
}
