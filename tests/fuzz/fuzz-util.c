/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fuzz-util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gre-settings.h"

static char *dir;

static void
remove_dir(void)
{
    g_autoptr(GDir) d = dir ? g_dir_open(dir, 0, NULL) : NULL;
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        unlink(path);
    }
    if (dir)
        rmdir(dir);
}

/* GLib ends a fatal message with a breakpoint (SIGTRAP), which libFuzzer does not treat as a
 * crash: abort instead, so that the input is saved. Debug and info messages are dropped. */
static void
log_handler(const char *domain, GLogLevelFlags level, const char *message, gpointer user_data)
{
    (void)user_data;
    if (!(level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)))
        return;
    fprintf(stderr, "%s: %s\n", domain ? domain : "", message);
    abort();
}

void
fuzz_init(void)
{
    g_autoptr(GError) error = NULL;

    if (dir)
        return;
    g_log_set_default_handler(log_handler, NULL);
    dir = g_dir_make_tmp("gre-fuzz-XXXXXX", &error);
    if (!dir)
        g_error("fuzz: %s", error->message);
    atexit(remove_dir);
}

const char *
fuzz_dir(void)
{
    return dir;
}

char *
fuzz_write(const char *name, const void *data, size_t len, int mode)
{
    char *path = g_build_filename(dir, name, NULL);
    int   fd;

    unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0 || fchmod(fd, mode) < 0 || (len && write(fd, data, len) != (ssize_t)len))
        g_error("fuzz: %s: %s", path, g_strerror(errno));
    close(fd);
    return path;
}

void
fuzz_remove(const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);

    unlink(path);
}

void
fuzz_split(const uint8_t *data, size_t size, const uint8_t **second, size_t *first_len,
           size_t *second_len)
{
    const size_t seplen = strlen(FUZZ_SEPARATOR);
    const void  *sep    = size >= seplen ? memmem(data, size, FUZZ_SEPARATOR, seplen) : NULL;

    if (!sep) {
        *second     = NULL;
        *first_len  = size;
        *second_len = 0;
        return;
    }
    *first_len  = (const uint8_t *)sep - data;
    *second     = (const uint8_t *)sep + seplen;
    *second_len = size - *first_len - seplen;
}

static void
check_lines(GPtrArray *lines, const char *what)
{
    for (guint i = 0; i < lines->len; i++) {
        const char *line = lines->pdata[i];

        /* One ip(8) command a line: a newline or a control character inside one would let a
         * value from a file start a command of its own in a shell that runs the plan. */
        /* An IKE step is what is loaded into the daemon over VICI, shown as a swanctl.conf
         * fragment of several lines; none of them may pass for an ip command of its own. */
        gboolean ike = g_str_has_prefix(line, "vici ");

        if (line[0] == '#')
            continue;
        if (!(ike || g_str_has_prefix(line, "ip ")) || !g_utf8_validate(line, -1, NULL))
            g_error("fuzz: %s line %u is not an ip command: %s", what, i, line);
        if (ike && strstr(line, "\nip "))
            g_error("fuzz: %s line %u: an IKE fragment holds an ip command: %s", what, i, line);
        for (const char *p = line; *p; p++) {
            if ((unsigned char)*p < 0x20 && !(ike && *p == '\n'))
                g_error("fuzz: %s line %u has control character 0x%02x", what, i, *p);
        }
    }
}

char *
fuzz_plan_render(const GreSettings *s, GrePlan **plan_out)
{
    g_autoptr(GError) error     = NULL;
    g_autoptr(GrePlan) plan     = NULL;
    g_autoptr(GPtrArray) up     = NULL;
    g_autoptr(GPtrArray) secret = NULL;
    g_autoptr(GPtrArray) down   = NULL;
    GrePlanEnv env              = { 0 };
    GString   *joined;

    env.local.family = gre_settings_outer_family(s);
    if (env.local.family == AF_INET6)
        inet_pton(AF_INET6, "2001:db8::1", &env.local.u.v6);
    else if (env.local.family == AF_INET)
        inet_pton(AF_INET, "192.0.2.1", &env.local.u.v4);
    g_strlcpy(env.route_dev, "eth0", sizeof env.route_dev);
    env.route_mtu = 1500;

    plan = gre_plan_build(s, &env, &error);
    if (!plan) {
        if (!error || !error->message || !*error->message)
            g_error("fuzz: the plan was refused without a message");
        return NULL;
    }
    if (plan->mtu < 68 || plan->mtu > 65535)
        g_error("fuzz: planned MTU %u is out of range", plan->mtu);

    up     = gre_plan_render_up(plan, FALSE);
    secret = gre_plan_render_up(plan, TRUE);
    down   = gre_plan_render_down(plan);
    check_lines(up, "up");
    check_lines(secret, "up with secrets");
    check_lines(down, "down");
    if (up->len != secret->len)
        g_error("fuzz: %u lines masked, %u with secrets", up->len, secret->len);

    joined = g_string_new(NULL);
    for (guint i = 0; i < up->len; i++)
        g_string_append_printf(joined, "%s\n", (const char *)up->pdata[i]);
    if (plan_out)
        *plan_out = g_steal_pointer(&plan);
    return g_string_free(joined, FALSE);
}
