/* probe: calls getpid `count` times; exits 0 if every answer was its pid
 * (the first), 1 otherwise. Used to see whether a hook runs. */
#include "ulib.h"

int main(long count)
{
    long pid = getpid(), bad = 0;
    for (long i = 1; i < count; i++)
        bad += getpid() != pid;
    return bad ? 1 : 0;
}
