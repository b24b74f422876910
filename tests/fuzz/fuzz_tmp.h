/*  fuzz_tmp: where the harnesses keep their scratch files (a configuration,
    a CSV, a RocksDB store). In memory (/dev/shm) unless TMPDIR says, so
    that a million executions cost no disk time. */
#ifndef FUZZ_TMP_H
#define FUZZ_TMP_H

#include <stdlib.h>
#include <unistd.h>

static inline const char *
fuzz_tmpdir (void)
{
    const char *tmp = getenv ("TMPDIR");
    if (!tmp || !*tmp)
        tmp = access ("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    return tmp;
}

#endif
