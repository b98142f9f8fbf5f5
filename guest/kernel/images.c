/* testos: the table of built-in program images, by name. */
#include "proc.h"

#define SIGPROC_XOR_KEY 0xa5     /* guest.mk encodes sigproc.elf with it */

#define DECLARE(n) extern const u8 img_##n##_start[], img_##n##_end[];
DECLARE(init) DECLARE(worker) DECLARE(sleeper) DECLARE(pager) DECLARE(nop) DECLARE(probe)
DECLARE(peek) DECLARE(backdoor) DECLARE(bench) DECLARE(rawio) DECLARE(sigproc) DECLARE(ghost)
#define IMG(name, sym, key) { name, img_##sym##_start, img_##sym##_end, key }

static const struct image images[] = {
    IMG("init", init, 0),
    IMG("worker", worker, 0),
    IMG("sleeper", sleeper, 0),
    IMG("pager", pager, 0),
    IMG("nop", nop, 0),
    IMG("probe", probe, 0),
    IMG("peek", peek, 0),
    IMG("backdoor", backdoor, 0),
    IMG("bench", bench, 0),
    IMG("rawio", rawio, 0),
    IMG("diskd", rawio, 0),      /* the same program under the name a policy may allow */
    IMG("sigproc", sigproc, SIGPROC_XOR_KEY),
    IMG("ghost", ghost, 0),
};

const struct image *image_find(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(images); i++)
        if (!strcmp(images[i].name, name))
            return &images[i];
    return NULL;
}
