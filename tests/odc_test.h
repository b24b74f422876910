/*  odc_test: the few macros the unit tests share.

    CHECK (cond) records a failure with file and line and goes on;
    TEST_END prints "N passed, N failed" (CTest and CI read it) and gives the
    exit code. */
#ifndef ODC_TEST_H
#define ODC_TEST_H

#include <stdio.h>
#include <stdlib.h>

static int s_test_passed __attribute__ ((unused)), s_test_failed __attribute__ ((unused));

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond)                                                                                  \
            s_test_passed++;                                                                       \
        else {                                                                                     \
            s_test_failed++;                                                                       \
            fprintf (stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                       \
        }                                                                                          \
    } while (0)

#define CHECKF(cond, ...)                                                                          \
    do {                                                                                           \
        if (cond)                                                                                  \
            s_test_passed++;                                                                       \
        else {                                                                                     \
            s_test_failed++;                                                                       \
            fprintf (stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                       \
            fprintf (stderr, __VA_ARGS__);                                                         \
            fputc ('\n', stderr);                                                                  \
        }                                                                                          \
    } while (0)

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        int before = s_test_failed;                                                                \
        fn ();                                                                                     \
        printf ("%s %s\n", s_test_failed == before ? "ok  " : "FAIL", #fn);                        \
        fflush (stdout);                                                                           \
    } while (0)

#define TEST_END()                                                                                 \
    do {                                                                                           \
        printf ("%d passed, %d failed\n", s_test_passed, s_test_failed);                           \
        return s_test_failed ? 1 : 0;                                                              \
    } while (0)

/*  A fresh temporary folder; the caller removes it with s_rmtree. */
#include <ftw.h>
#include <string.h>
#include <unistd.h>

static inline char *
s_tempdir (const char *tag)
{
    char *path = NULL;
    const char *base = getenv ("TMPDIR") ? getenv ("TMPDIR") : "/tmp";
    if (asprintf (&path, "%s/odc-%s-XXXXXX", base, tag) == -1 || !mkdtemp (path)) {
        perror ("mkdtemp");
        exit (2);
    }
    return path;
}

static inline int
s_rm_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove (path);
}

static inline void
s_rmtree (const char *path)
{
    nftw (path, s_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
