/* testos profile writer: see profile.h and docs/testos.md ("Profile"). */
#include "profile.h"
#include <stdlib.h>
#include <string.h>

static int parse_hex(const char *s, size_t n, uint64_t *v)
{
    if (n == 0 || n > 16)
        return 0;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
                c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return 0;
        x = x << 4 | (uint64_t)d;
    }
    *v = x;
    return 1;
}

int nm_parse(const char *text, struct nm_sym *out, int max, char *err, size_t errlen)
{
    int n = 0, lineno = 0;
    const char *p = text;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        lineno++;
        const char *tok[4];
        size_t tlen[4];
        int nt = 0;
        for (size_t i = 0; i < len && nt < 4;) {
            while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'))
                i++;
            if (i >= len)
                break;
            tok[nt] = p + i;
            while (i < len && p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
                i++;
            tlen[nt] = (size_t)(p + i - tok[nt]);
            nt++;
        }
        if (nt > 0) {
            struct nm_sym s;
            memset(&s, 0, sizeof s);
            int ok;
            if (nt == 4) {
                ok = parse_hex(tok[0], tlen[0], &s.addr) && parse_hex(tok[1], tlen[1], &s.size) && tlen[2] == 1;
                s.has_size = 1;
                s.type = tok[2][0];
            } else if (nt == 3) {
                ok = parse_hex(tok[0], tlen[0], &s.addr) && tlen[1] == 1;
                s.type = tok[1][0];
            } else {
                ok = 0;
            }
            size_t nl = tlen[nt - 1];
            if (!ok || nl >= sizeof s.name) {
                snprintf(err, errlen, "nm output line %d is not ADDR [SIZE] TYPE NAME", lineno);
                return -1;
            }
            memcpy(s.name, tok[nt - 1], nl);
            s.name[nl] = 0;
            if (n < max)
                out[n++] = s;
        }
        p += len;
        if (*p == '\n')
            p++;
    }
    return n;
}

const struct nm_sym *nm_find(const struct nm_sym *s, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(s[i].name, name))
            return &s[i];
    return NULL;
}

static const struct nm_sym *need(const struct nm_sym *syms, int n, const char *name, char *err, size_t errlen)
{
    const struct nm_sym *s = nm_find(syms, n, name);
    if (!s)
        snprintf(err, errlen, "symbol %s not in the kernel's symbol table", name);
    return s;
}

int profile_write(FILE *f, const struct prof_spec *spec, const struct nm_sym *syms, int n,
                  char *err, size_t errlen)
{
    fprintf(f, "# %s kernel profile: symbols and structure layouts for introspection.\n", spec->os);
    fprintf(f, "# Format: docs/testos.md, \"Profile\". One record a line, fields separated by\n"
               "# spaces; addresses are 0x-prefixed hex, offsets and sizes decimal.\n");
    fprintf(f, "profile %s %d\n", spec->os, spec->version);
    fprintf(f, "arch x86_64\n");
    for (int i = 0; i < spec->nvalues; i++) {
        uint64_t v = spec->values[i].value;
        if (spec->values[i].sym) {
            const struct nm_sym *s = need(syms, n, spec->values[i].sym, err, errlen);
            if (!s)
                return -1;
            v = s->addr;
        }
        fprintf(f, "%s 0x%llx\n", spec->values[i].key, (unsigned long long)v);
    }
    for (int i = 0; i < spec->nsymbols; i++) {
        const struct prof_symbol *ps = &spec->symbols[i];
        const struct nm_sym *s = need(syms, n, ps->sym, err, errlen);
        if (!s)
            return -1;
        uint64_t size = s->has_size ? s->size : 0;
        if (ps->end_sym) {
            const struct nm_sym *e = need(syms, n, ps->end_sym, err, errlen);
            if (!e)
                return -1;
            if (e->addr < s->addr) {
                snprintf(err, errlen, "symbol %s ends before it starts", ps->name);
                return -1;
            }
            size = e->addr - s->addr;
        }
        fprintf(f, "symbol %s 0x%llx %llu\n", ps->name, (unsigned long long)s->addr, (unsigned long long)size);
    }
    for (int i = 0; i < spec->nsyscalls; i++) {
        const struct nm_sym *s = need(syms, n, spec->syscalls[i].handler, err, errlen);
        if (!s)
            return -1;
        fprintf(f, "syscall %d %s 0x%llx\n", spec->syscalls[i].nr, spec->syscalls[i].name,
                (unsigned long long)s->addr);
    }
    for (int i = 0; i < spec->nfields; i++) {
        const struct prof_field *fl = &spec->fields[i];
        if (fl->field)
            fprintf(f, "struct %s.%s %lu %lu\n", fl->strct, fl->field, fl->offset, fl->size);
        else
            fprintf(f, "struct %s %lu\n", fl->strct, fl->size);
    }
    for (int i = 0; i < spec->nconsts; i++)
        fprintf(f, "const %s %ld\n", spec->consts[i].name, spec->consts[i].value);
    return ferror(f) ? (snprintf(err, errlen, "write error"), -1) : 0;
}
