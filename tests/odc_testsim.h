/*  odc_testsim: start opendca-sim for a test and wait until it is ready.

        pid_t pid = odc_testsim_start (sim, (char *[]) {"--devices", "10", ..., NULL});
        ...
        odc_testsim_stop (pid);

    The simulator's path comes from the test's command line (CTest passes
    $<TARGET_FILE:opendca-sim>). Returns -1 when it did not start. */
#ifndef ODC_TESTSIM_H
#define ODC_TESTSIM_H

#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static inline pid_t
odc_testsim_start (const char *sim, char *const *options)
{
    char *args[64];
    int n = 0;
    args[n++] = (char *)sim;
    for (int i = 0; options[i] && n < 63; i++)
        args[n++] = options[i];
    args[n] = NULL;
    int out[2];
    if (pipe (out) != 0)
        return -1;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init (&actions);
    posix_spawn_file_actions_adddup2 (&actions, out[1], 1);
    pid_t pid;
    int rc = posix_spawn (&pid, sim, &actions, NULL, args, environ);
    posix_spawn_file_actions_destroy (&actions);
    close (out[1]);
    if (rc != 0) {
        close (out[0]);
        return -1;
    }
    char line[512] = "";
    FILE *in = fdopen (out[0], "r");
    bool ready = fgets (line, sizeof line, in) && strstr (line, "ready");
    fclose (in);
    if (!ready) {
        fprintf (stderr, "opendca-sim did not start: %s\n", line);
        kill (pid, SIGTERM);
        waitpid (pid, NULL, 0);
        return -1;
    }
    return pid;
}

static inline void
odc_testsim_stop (pid_t pid)
{
    if (pid > 0) {
        kill (pid, SIGTERM);
        waitpid (pid, NULL, 0);
    }
}

#endif
