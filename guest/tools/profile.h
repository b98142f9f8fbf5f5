/* testos profile writer (host side): turns `nm -S --defined-only` output
 * and structure layouts into the plain-text profile of docs/testos.md. */
#ifndef TESTOS_PROFILE_H
#define TESTOS_PROFILE_H
#include <stdint.h>
#include <stdio.h>

struct nm_sym {
    char name[64];
    uint64_t addr, size;
    int has_size;
    char type;
};

/* One symbol line in the profile. With end_sym, size = end - start. */
struct prof_symbol {
    const char *name;            /* name written to the profile */
    const char *sym;             /* ELF symbol for the address */
    const char *end_sym;         /* optional: ELF symbol for the end */
};

struct prof_field {
    const char *strct, *field;   /* field NULL: the size of the whole struct */
    unsigned long offset, size;
};

struct prof_const {
    const char *name;
    long value;
};

struct prof_syscall {
    int nr;
    const char *name, *handler;  /* handler: the ELF symbol of the function */
};

struct prof_value {              /* header line: KEY 0xVALUE, from a symbol or fixed */
    const char *key, *sym;       /* sym NULL: value */
    uint64_t value;
};

struct prof_spec {
    const char *os;
    int version;
    const struct prof_value *values; int nvalues;
    const struct prof_symbol *symbols; int nsymbols;
    const struct prof_syscall *syscalls; int nsyscalls;
    const struct prof_field *fields; int nfields;
    const struct prof_const *consts; int nconsts;
};

/* Parses nm output ("ADDR [SIZE] TYPE NAME" lines). Returns the number of
 * symbols stored (at most max), or -1 with err filled on a malformed line. */
int nm_parse(const char *text, struct nm_sym *out, int max, char *err, size_t errlen);
const struct nm_sym *nm_find(const struct nm_sym *s, int n, const char *name);
/* Writes the profile; returns 0, or -1 with err naming the missing symbol. */
int profile_write(FILE *f, const struct prof_spec *spec, const struct nm_sym *syms, int n,
                  char *err, size_t errlen);

#endif
