/* Command-line words: "key=value" or a bare "key", separated by blanks. */
#ifndef VIGIL_LIB_CMDLINE_H
#define VIGIL_LIB_CMDLINE_H

#include "lib/types.h"

/* Walk the words of *p: fills key and value (value "" for a bare word),
 * advances *p, returns false at the end. Over-long keys or values are cut and
 * reported through *truncated. */
bool cmdline_next(const char **p, char *key, size_t keysize, char *val, size_t valsize, bool *truncated);

/* Value of the first word named key; false when absent. */
bool cmdline_get(const char *line, const char *key, char *val, size_t valsize);

#endif
