/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-nm-watchdog.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gre-error.h"

static int watch_fd = -1; /* the write end, held by the service for as long as it lives */

/* This program. /proc/self/exe is what the kernel ran; its target is used while it is still
 * on disk, since some tools that run the service (valgrind) tell the two apart. */
static char *
own_program(void)
{
    g_autofree char *target = g_file_read_link("/proc/self/exe", NULL);

    if (target && g_path_is_absolute(target) && g_file_test(target, G_FILE_TEST_IS_EXECUTABLE))
        return g_steal_pointer(&target);
    return g_strdup("/proc/self/exe");
}

gboolean
gre_nm_watchdog_start(const GreStateOwner *owner, GChildWatchFunc exited, GError **error)
{
    g_autofree char *exe = NULL;
    g_autofree char *arg = NULL;
    const char      *argv[3];
    int              fds[2];
    int              target = GRE_NM_WATCHDOG_FD;
    GPid             pid;
    gboolean         ok;

    if (watch_fd >= 0)
        return TRUE;
    /* Close-on-exec: no other program this process may start keeps the service "alive". */
    if (pipe2(fds, O_CLOEXEC) < 0) {
        int errsv = errno;

        g_set_error(error, GRE_ERROR, GRE_ERROR_IO, "pipe: %s", g_strerror(errsv));
        return FALSE;
    }
    exe     = own_program();
    arg     = g_strdup_printf("--watchdog=%llu:%llu", (unsigned long long)owner->pid,
                              (unsigned long long)owner->start);
    argv[0] = exe;
    argv[1] = arg;
    argv[2] = NULL;
    /* Only the read end goes to the watchdog, as its descriptor 3; GLib closes every other. */
    ok = g_spawn_async_with_pipes_and_fds(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                          -1, -1, -1, &fds[0], &target, 1, &pid, NULL, NULL, NULL,
                                          error);
    close(fds[0]);
    if (!ok) {
        close(fds[1]);
        return FALSE;
    }
    watch_fd = fds[1];
    g_child_watch_add(pid, exited, NULL);
    return TRUE;
}

GreStateOwner *
gre_nm_watchdog_wait(const char *arg, GError **error)
{
    guint64 pid = 0, start = 0;
    g_auto(GStrv) f = g_strsplit(arg, ":", -1);
    struct stat st;

    if (g_strv_length(f) != 2 || !g_ascii_string_to_unsigned(f[0], 10, 1, G_MAXINT, &pid, NULL) ||
        !g_ascii_string_to_unsigned(f[1], 10, 1, G_MAXUINT64, &start, NULL)) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_INVALID, "--watchdog=%s: not PID:START", arg);
        return NULL;
    }
    if (fstat(GRE_NM_WATCHDOG_FD, &st) < 0 || !S_ISFIFO(st.st_mode)) {
        g_set_error_literal(error, GRE_ERROR, GRE_ERROR_INVALID,
                            "--watchdog is for nm-gre-service itself: descriptor 3 is not the "
                            "pipe it passes");
        return NULL;
    }
    /* Distinguishable in ps and by tests; and out of the service's process group and session,
     * so that a signal meant for them (Ctrl-C in --debug, a kill of the group) leaves it to do
     * its work. It ends by itself once the service is gone. */
    setsid();
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    prctl(PR_SET_NAME, "nm-gre-watchdog", 0, 0, 0);
    for (;;) {
        char    c;
        ssize_t n = read(GRE_NM_WATCHDOG_FD, &c, 1);

        if (n == 0)
            break; /* end-of-file: the service has exited */
        if (n < 0 && errno != EINTR) {
            int errsv = errno;

            /* Not a sign that the service is gone: nothing is removed. */
            g_set_error(error, GRE_ERROR, GRE_ERROR_IO, "reading the pipe: %s", g_strerror(errsv));
            return NULL;
        }
    }
    close(GRE_NM_WATCHDOG_FD);
    return gre_state_owner_of(GRE_NM_SERVICE_PROGRAM, pid, start, error);
}
