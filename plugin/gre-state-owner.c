/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The process that owns a record (see gre-state.h): who it was, and whether it is still there.
 * A pid alone is not an identity, since the kernel hands pids out again; the pid together with
 * the process's start time (in clock ticks after boot), the boot and the PID namespace is.
 */
#include "gre-state-private.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gre-error.h"
#include "gre-i18n.h"

static GreStateOwner *process_owner; /* what records written by this process name */

void
gre_state_owner_free(GreStateOwner *owner)
{
    g_free(owner);
}

GreStateOwner *
gre_state_owner_dup(const GreStateOwner *owner)
{
    return owner ? g_memdup2(owner, sizeof *owner) : NULL;
}

/* Field 22 of /proc/PID/stat, and the state (field 3); FALSE when there is no such process. */
static gboolean
proc_start(guint64 pid, guint64 *start, char *state)
{
    g_autofree char *path = g_strdup_printf("/proc/%" G_GUINT64_FORMAT "/stat", pid);
    g_autofree char *text = NULL;
    g_auto(GStrv) f       = NULL;
    const char *p;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return FALSE;
    /* The command name (field 2) may hold blanks and parentheses: count from its last ')'. */
    if (!(p = strrchr(text, ')')) || p[1] != ' ')
        return FALSE;
    f = g_strsplit(p + 2, " ", 22);
    /* f[0] is field 3 (the state), so field 22 is f[19]. */
    if (g_strv_length(f) < 20 || !f[0][0])
        return FALSE;
    *state = f[0][0];
    *start = g_ascii_strtoull(f[19], NULL, 10);
    return TRUE;
}

static gboolean
self_context(GreStateOwner *o, GError **error)
{
    g_autofree char *boot = NULL;
    struct stat      st;

    if (!g_file_get_contents("/proc/sys/kernel/random/boot_id", &boot, NULL, NULL) ||
        stat("/proc/self/ns/pid", &st) < 0) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_IO,
                    _("cannot tell which boot and PID namespace this is (is /proc mounted?)"));
        return FALSE;
    }
    g_strlcpy(o->boot, g_strstrip(boot), sizeof o->boot);
    o->pidns = st.st_ino;
    return TRUE;
}

GreStateOwner *
gre_state_owner_of(const char *program, guint64 pid, guint64 start, GError **error)
{
    g_autoptr(GreStateOwner) o = g_new0(GreStateOwner, 1);

    if (!self_context(o, error))
        return NULL;
    g_strlcpy(o->program, program, sizeof o->program);
    o->pid   = pid;
    o->start = start;
    return g_steal_pointer(&o);
}

GreStateOwner *
gre_state_owner_self(const char *program, GError **error)
{
    guint64 start;
    char    state;

    if (!proc_start((guint64)getpid(), &start, &state)) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_IO,
                    _("cannot read this process's start time from /proc/self/stat"));
        return NULL;
    }
    return gre_state_owner_of(program, (guint64)getpid(), start, error);
}

void
gre_state_set_process_owner(const GreStateOwner *owner)
{
    g_clear_pointer(&process_owner, gre_state_owner_free);
    process_owner = gre_state_owner_dup(owner);
}

const GreStateOwner *
gre_state_get_process_owner(void)
{
    return process_owner;
}

gboolean
gre_state_owner_equal(const GreStateOwner *a, const GreStateOwner *b)
{
    if (!a || !b)
        return a == b;
    return a->pid == b->pid && a->start == b->start && a->pidns == b->pidns &&
           g_str_equal(a->boot, b->boot) && g_str_equal(a->program, b->program);
}

GreOwnerState
gre_state_owner_state(const GreStateOwner *owner)
{
    GreStateOwner here = { 0 };
    guint64       start;
    char          state;

    if (!owner)
        return GRE_OWNER_NONE;
    if (!self_context(&here, NULL))
        return GRE_OWNER_UNKNOWN;
    /* Another boot: that process is gone for sure (a state directory that survived a reboot). */
    if (!g_str_equal(here.boot, owner->boot))
        return GRE_OWNER_GONE;
    /* Its pid means another process here, or none: nothing can be said. */
    if (here.pidns != owner->pidns)
        return GRE_OWNER_UNKNOWN;
    if (!proc_start(owner->pid, &start, &state) || start != owner->start)
        return GRE_OWNER_GONE;
    /* A zombie has exited; only its parent has not collected it yet. */
    return state == 'Z' || state == 'X' ? GRE_OWNER_GONE : GRE_OWNER_ALIVE;
}

char *
gre_state_owner_to_line(const GreStateOwner *o)
{
    return g_strdup_printf("%s pid=%" G_GUINT64_FORMAT " start=%" G_GUINT64_FORMAT
                           " boot=%s pidns=%" G_GUINT64_FORMAT,
                           o->program, o->pid, o->start, o->boot, o->pidns);
}

static gboolean
program_ok(const char *s)
{
    if (!s[0] || strlen(s) >= G_SIZEOF_MEMBER(GreStateOwner, program))
        return FALSE;
    for (const char *p = s; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
            return FALSE;
    }
    return TRUE;
}

static gboolean
number(const char *v, guint64 *out)
{
    return v && g_ascii_string_to_unsigned(v, 10, 1, G_MAXUINT64, out, NULL);
}

GreStateOwner *
gre_state_owner_from_line(const char *line, GError **error)
{
    g_autoptr(GreStateOwner) o = g_new0(GreStateOwner, 1);
    g_auto(GStrv) words        = g_strsplit(line, " ", -1);
    gboolean has_pid = FALSE, has_start = FALSE, has_pidns = FALSE;

    if (!words[0] || !program_ok(words[0]))
        goto bad;
    g_strlcpy(o->program, words[0], sizeof o->program);
    for (guint i = 1; words[i]; i++) {
        const char *w = words[i];

        if (g_str_has_prefix(w, "pid="))
            has_pid = number(w + 4, &o->pid);
        else if (g_str_has_prefix(w, "start="))
            has_start = number(w + 6, &o->start);
        else if (g_str_has_prefix(w, "pidns="))
            has_pidns = number(w + 6, &o->pidns);
        else if (g_str_has_prefix(w, "boot=") && w[5] && strlen(w + 5) < sizeof o->boot)
            g_strlcpy(o->boot, w + 5, sizeof o->boot);
        /* Other words: added by a later version; they do not change who the owner is. */
    }
    if (has_pid && has_start && has_pidns && o->boot[0])
        return g_steal_pointer(&o);
bad:
    g_set_error(error, GRE_ERROR, GRE_ERROR_PARSE, _("\"%s\" does not name an owning process"),
                line);
    return NULL;
}
