/*  replay: run a fuzz harness on saved inputs, without libFuzzer.

        fuzz_replay_NAME DIR|FILE...

    Linked with one tests/fuzz/fuzz_NAME.c, in the normal build (gcc or
    clang, any build type): each file given, and each regular file in each
    folder given, goes once through the harness's LLVMFuzzerTestOneInput,
    in name order. The ctest tests fuzz.replay.NAME replay
    tests/fuzz/regressions/NAME (every crash the fuzzers found, kept) and
    tests/fuzz/seeds/NAME: a crash fails the test, and under the Asan build
    any memory error does too. A folder that does not exist counts as
    empty. Exit 0 when every input went through, 2 on a usage error. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int
s_one (const char *path)
{
    FILE *in = fopen (path, "rb");
    if (!in) {
        fprintf (stderr, "replay: %s: cannot open\n", path);
        return -1;
    }
    size_t size = 0, cap = 4096;
    uint8_t *data = malloc (cap);
    size_t n;
    while ((n = fread (data + size, 1, cap - size, in)) > 0) {
        size += n;
        if (size == cap)
            data = realloc (data, cap *= 2);
    }
    fclose (in);
    /*  An exact-size copy, so that the sanitizers see a read past the
        end as libFuzzer would. */
    uint8_t *exact = malloc (size ? size : 1);
    memcpy (exact, data, size);
    free (data);
    fprintf (stderr, "replay: %s (%zu bytes)\n", path, size);
    LLVMFuzzerTestOneInput (exact, size);
    free (exact);
    return 0;
}

static int
s_compare (const void *a, const void *b)
{
    return strcmp (*(char *const *)a, *(char *const *)b);
}

static int
s_folder (const char *path, size_t *count)
{
    DIR *dir = opendir (path);
    if (!dir)
        return 0;
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir (dir))) {
        if (e->d_name[0] == '.')
            continue;
        names = realloc (names, (n + 1) * sizeof *names);
        if (asprintf (&names[n], "%s/%s", path, e->d_name) < 0)
            abort ();
        n++;
    }
    closedir (dir);
    if (n)
        qsort (names, n, sizeof *names, s_compare);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat (names[i], &st) == 0 && S_ISREG (st.st_mode)) {
            if (s_one (names[i]) != 0)
                rc = -1;
            (*count)++;
        }
        free (names[i]);
    }
    free (names);
    return rc;
}

int
main (int argc, char **argv)
{
    if (argc < 2) {
        fprintf (stderr, "usage: %s DIR|FILE...\n", argv[0]);
        return 2;
    }
    LLVMFuzzerInitialize (&argc, &argv);
    size_t count = 0;
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat (argv[i], &st) != 0)
            continue;
        if (S_ISDIR (st.st_mode))
            rc |= s_folder (argv[i], &count);
        else {
            rc |= s_one (argv[i]);
            count++;
        }
    }
    printf ("replay: %zu inputs, no crash\n", count);
    return rc ? 1 : 0;
}
