/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which network namespace a record belongs to, and what to do with records whose namespace is
 * gone or that an earlier version left in the host-wide directory. See gre-state.h for the
 * layout; the rules are here.
 */
#include "gre-state-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gre-error.h"
#include "gre-i18n.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71 /* Linux 5.14 */
#endif

#define IDENTITY_FILE "netns"

/* ---- this namespace ---- */

/* The last namespace asked about, by its /proc identity: up --all asks a few times per tunnel,
 * and a process may move to another namespace (setns), so the answer is reused only while
 * /proc/self/ns/net still names the same one. */
G_LOCK_DEFINE_STATIC(self_cache);
static struct {
    dev_t      dev;
    StateNetns ns;
} self_cache;

gboolean
state_netns_self(StateNetns *ns, GError **error)
{
    struct stat st;
    gboolean    have_st = stat("/proc/self/ns/net", &st) == 0;
    int         errsv   = errno;
    socklen_t   len     = sizeof ns->cookie;
    int         fd;

    *ns = (StateNetns){ 0 };
    if (have_st) {
        G_LOCK(self_cache);
        if (self_cache.ns.cookie && self_cache.ns.ino == st.st_ino && self_cache.dev == st.st_dev)
            *ns = self_cache.ns;
        G_UNLOCK(self_cache);
        if (ns->cookie)
            return TRUE;
        ns->ino = st.st_ino;
    }
    /* Any socket carries the cookie of the namespace it was made in, which is ours. */
    if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0) {
        if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &ns->cookie, &len) < 0 ||
            len != sizeof ns->cookie)
            ns->cookie = 0;
        close(fd);
    }
    if (!ns->cookie && !ns->ino) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_IO,
                    _("cannot tell which network namespace this is (the kernel has no "
                      "SO_NETNS_COOKIE, and /proc/self/ns/net: %s); is /proc mounted?"),
                    g_strerror(errsv));
        return FALSE;
    }
    if (have_st && ns->cookie) {
        G_LOCK(self_cache);
        self_cache.dev = st.st_dev;
        self_cache.ns  = *ns;
        G_UNLOCK(self_cache);
    }
    return TRUE;
}

char *
state_netns_dirname(const StateNetns *ns)
{
    if (ns->cookie)
        return g_strdup_printf("netns-%" G_GUINT64_FORMAT, ns->cookie);
    return g_strdup_printf("netns-ino-%" G_GUINT64_FORMAT, ns->ino);
}

char *
gre_state_netns_dir(GError **error)
{
    g_autofree char *top  = gre_state_dir();
    g_autofree char *name = NULL;
    StateNetns       ns;

    if (!state_netns_self(&ns, error))
        return NULL;
    name = state_netns_dirname(&ns);
    return g_build_filename(top, name, NULL);
}

/* The namespace's directory, made when missing, with a note of the namespace's inode number
 * (which /proc shows for every live namespace, so that a dead one can be recognised). */
gboolean
state_ensure_netns_dir(GError **error)
{
    g_autofree char *dir      = gre_state_netns_dir(error);
    g_autofree char *idpath   = NULL;
    g_autofree char *identity = NULL;
    g_autoptr(GError) err     = NULL;
    StateNetns ns;

    if (!dir || !state_netns_self(&ns, error))
        return FALSE;
    if (g_mkdir_with_parents(dir, 0700) < 0) {
        int errsv = errno;

        g_set_error(error, GRE_ERROR, GRE_ERROR_IO, _("cannot create the state directory %s: %s"),
                    dir, g_strerror(errsv));
        return FALSE;
    }
    idpath = g_build_filename(dir, IDENTITY_FILE, NULL);
    if (g_file_test(idpath, G_FILE_TEST_EXISTS))
        return TRUE;
    identity = g_strdup_printf("cookie=%" G_GUINT64_FORMAT "\nino=%" G_GUINT64_FORMAT "\n",
                               ns.cookie, ns.ino);
    if (!g_file_set_contents_full(idpath, identity, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                  &err)) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_IO, _("cannot write %s: %s"), idpath, err->message);
        return FALSE;
    }
    return TRUE;
}

gboolean
gre_state_in_initial_netns(void)
{
    struct stat self, init;

    /* PID 1's namespace is the host's own (or, in a container, the container's). */
    return stat("/proc/self/ns/net", &self) == 0 && stat("/proc/1/ns/net", &init) == 0 &&
           self.st_dev == init.st_dev && self.st_ino == init.st_ino;
}

/* ---- which namespaces are alive ---- */

/*
 * A namespace lives while anything holds it: a process or thread in it, an open file descriptor
 * of it, a bind mount of it (`ip netns add`), or a kernel object such as a socket. The kernel
 * cannot be asked for a namespace by cookie or inode, so the first three are looked for in
 * /proc, cheapest first; only a namespace found nowhere counts as gone. (One held only by a
 * socket whose owner left it is not found; its records would be taken for stale.)
 */
typedef struct {
    GHashTable *inos; /* of guint64 *: inode numbers of live namespaces found so far */
    guint       stage;
    gboolean blind; /* something could not be read (not root, an LSM): nothing is provably gone */
} LiveScan;

static void
live_add(LiveScan *s, const char *target)
{
    guint64 ino;
    char   *end;

    if (!g_str_has_prefix(target, "net:["))
        return;
    ino = g_ascii_strtoull(target + 5, &end, 10);
    if (*end == ']' && ino)
        g_hash_table_add(s->inos, g_memdup2(&ino, sizeof ino));
}

static void
live_add_link(LiveScan *s, const char *path)
{
    char    buf[64];
    ssize_t n = readlink(path, buf, sizeof buf - 1);

    if (n > 0) {
        buf[n] = '\0';
        live_add(s, buf);
    } else if (n < 0 && (errno == EACCES || errno == EPERM))
        s->blind = TRUE;
}

/* nsfs bind mounts in one mount namespace: field 4 of mountinfo is "net:[INO]". */
static void
live_add_mounts(LiveScan *s, const char *mountinfo)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines   = NULL;

    if (!g_file_get_contents(mountinfo, &text, NULL, NULL))
        return;
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) f = g_strsplit(lines[i], " ", 5);

        if (g_strv_length(f) >= 4)
            live_add(s, f[3]);
    }
}

static gboolean
is_pid(const char *name)
{
    for (const char *p = name; *p; p++) {
        if (!g_ascii_isdigit(*p))
            return FALSE;
    }
    return name[0] != '\0';
}

/* Stage 1: our mounts (`ip netns add` namespaces) and every process's namespace. Stage 2: every
 * thread's, every open descriptor, and the mounts of every other mount namespace. */
static void
live_scan_next(LiveScan *s)
{
    g_autoptr(GDir) proc      = g_dir_open("/proc", 0, NULL);
    g_autoptr(GHashTable) mnt = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    const char *pid;

    s->stage++;
    if (s->stage == 1)
        live_add_mounts(s, "/proc/self/mountinfo");
    while (proc && (pid = g_dir_read_name(proc))) {
        if (!is_pid(pid))
            continue;
        if (s->stage == 1) {
            g_autofree char *p = g_strdup_printf("/proc/%s/ns/net", pid);

            live_add_link(s, p);
        } else {
            const char      *sub[]   = { "task", "fd" };
            g_autofree char *mntlink = g_strdup_printf("/proc/%s/ns/mnt", pid);
            char             mntns[64];
            ssize_t          n = readlink(mntlink, mntns, sizeof mntns - 1);

            for (guint i = 0; i < G_N_ELEMENTS(sub); i++) {
                g_autofree char *dirpath = g_strdup_printf("/proc/%s/%s", pid, sub[i]);
                g_autoptr(GDir) d        = g_dir_open(dirpath, 0, NULL);
                const char *e;

                while (d && (e = g_dir_read_name(d))) {
                    g_autofree char *p = g_strdup_printf("%s/%s%s", dirpath, e, i ? "" : "/ns/net");

                    live_add_link(s, p);
                }
            }
            if (n > 0) {
                mntns[n] = '\0';
                if (g_hash_table_add(mnt, g_strdup(mntns))) {
                    g_autofree char *mi = g_strdup_printf("/proc/%s/mountinfo", pid);

                    live_add_mounts(s, mi);
                }
            }
        }
    }
}

static gboolean
live(LiveScan *s, guint64 ino)
{
    if (!ino)
        return TRUE; /* nothing to look for: never call it gone */
    if (!s->inos)
        s->inos = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    while (!g_hash_table_contains(s->inos, &ino)) {
        if (s->stage >= 2)
            return s->blind;
        live_scan_next(s);
    }
    return TRUE;
}

static void
live_scan_clear(LiveScan *s)
{
    g_clear_pointer(&s->inos, g_hash_table_unref);
}

/* ---- other namespaces' directories ---- */

/* The inode number a namespace directory was made for; 0 when it cannot be read. */
static guint64
dir_ino(const char *dir)
{
    g_autofree char *idpath = g_build_filename(dir, IDENTITY_FILE, NULL);
    g_autofree char *text   = NULL;
    const char      *p;

    if (!g_file_get_contents(idpath, &text, NULL, NULL) || !(p = strstr(text, "ino=")))
        return 0;
    return g_ascii_strtoull(p + 4, NULL, 10);
}

/* Calls @fn for the directory of every other namespace that is gone. */
static void
foreach_dead_netns_dir(void (*fn)(const char *dir, const char *base, gpointer data), gpointer data)
{
    g_autofree char *top  = gre_state_dir();
    g_autofree char *mine = NULL;
    g_autoptr(GDir) d     = g_dir_open(top, 0, NULL);
    LiveScan    scan      = { 0 };
    StateNetns  self;
    const char *e;

    if (!d || !state_netns_self(&self, NULL))
        return;
    mine = state_netns_dirname(&self);
    while ((e = g_dir_read_name(d))) {
        g_autofree char *dir = NULL;

        if (!g_str_has_prefix(e, "netns-") || g_str_equal(e, mine))
            continue;
        dir = g_build_filename(top, e, NULL);
        if (g_file_test(dir, G_FILE_TEST_IS_DIR) && !live(&scan, dir_ino(dir)))
            fn(dir, e, data);
    }
    live_scan_clear(&scan);
}

static void
add_stale(const char *dir, const char *base, gpointer data)
{
    g_autoptr(GPtrArray) names = state_list_dir(dir, NULL);

    (void)base;
    for (guint i = 0; names && i < names->len; i++) {
        g_autofree char *file = g_strconcat(names->pdata[i], ".state", NULL);

        g_ptr_array_add(data, g_build_filename(dir, file, NULL));
    }
}

GPtrArray *
gre_state_list_stale(void)
{
    GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);

    foreach_dead_netns_dir(add_stale, paths);
    return paths;
}

static void
prune_one(const char *dir, const char *base, gpointer data)
{
    g_autoptr(GPtrArray) names = state_list_dir(dir, NULL);
    g_autoptr(GDir) d          = g_dir_open(dir, 0, NULL);
    GPtrArray  *notes          = data;
    const char *e;

    while (d && (e = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(dir, e, NULL);

        unlink(p);
    }
    if (rmdir(dir) == 0 && names && names->len) {
        g_autofree char *list = NULL;

        g_ptr_array_add(names, NULL);
        list = g_strjoinv(", ", (char **)names->pdata);
        g_ptr_array_add(notes,
                        g_strdup_printf(_("removed the stale ownership records of %s in %s: their "
                                          "network namespace no longer exists, and the kernel "
                                          "removed their objects with it"),
                                        list, base));
    }
}

/* ---- the lock ---- */

struct _GreStateLock {
    int top;  /* shared on STATE_DIR/.lock, exclusive while pruning */
    int name; /* exclusive on STATE_DIR/netns-ID/NAME.lock */
};

void
gre_state_unlock(GreStateLock *lock)
{
    if (!lock)
        return;
    if (lock->name >= 0)
        close(lock->name);
    if (lock->top >= 0)
        close(lock->top);
    g_free(lock);
}

static int
open_locked(const char *path, int how, GError **error)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

    if (fd < 0 || flock(fd, how) < 0) {
        int errsv = errno;

        g_set_error(error, GRE_ERROR, GRE_ERROR_IO, _("cannot lock %s: %s"), path,
                    g_strerror(errsv));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

GreStateLock *
gre_state_lock(const char *name, GPtrArray *notes, GError **error)
{
    g_autoptr(GreStateLock) lock = g_new(GreStateLock, 1);
    g_autofree char *top         = gre_state_dir();
    g_autofree char *toplock     = g_build_filename(top, ".lock", NULL);
    g_autofree char *path        = state_path(name, ".lock", error);

    lock->top = lock->name = -1;
    if (!path || !state_ensure_top_dir(error))
        return NULL;
    /*
     * Every `up` and `down` holds the top lock shared, so namespaces never wait for each other.
     * Whoever finds nobody else at work takes it exclusively for a moment and removes the
     * records of namespaces that are gone: nobody can be writing into one of them then.
     */
    if ((lock->top = open_locked(toplock, LOCK_EX | LOCK_NB, NULL)) >= 0) {
        g_autoptr(GPtrArray) pruned = g_ptr_array_new_with_free_func(g_free);

        foreach_dead_netns_dir(prune_one, pruned);
        for (guint i = 0; notes && i < pruned->len; i++)
            g_ptr_array_add(notes, g_strdup(pruned->pdata[i]));
        if (flock(lock->top, LOCK_SH) < 0) {
            close(lock->top);
            lock->top = -1;
        }
    }
    if (lock->top < 0 && (lock->top = open_locked(toplock, LOCK_SH, error)) < 0)
        return NULL;
    if (!state_ensure_netns_dir(error) || (lock->name = open_locked(path, LOCK_EX, error)) < 0)
        return NULL;
    return g_steal_pointer(&lock);
}

/* ---- records of earlier versions ---- */

char *
gre_state_legacy_path(const char *name)
{
    g_autofree char *top  = gre_state_dir();
    g_autofree char *file = g_strconcat(name, ".state", NULL);

    return g_build_filename(top, file, NULL);
}

GPtrArray *
gre_state_list_legacy(GError **error)
{
    g_autofree char *top = gre_state_dir();

    return state_list_dir(top, error);
}

gboolean
gre_state_adopt_legacy(const char *name, char **new_path, GError **error)
{
    g_autofree char *from = gre_state_legacy_path(name);
    g_autofree char *to   = state_path(name, ".state", error);

    if (!to || !state_ensure_netns_dir(error))
        return FALSE;
    if (rename(from, to) < 0) {
        int errsv = errno;

        /* Taken by another namespace (or process) a moment ago: not ours any more. */
        if (errsv != ENOENT)
            g_set_error(error, GRE_ERROR, GRE_ERROR_IO, _("cannot move %s to %s: %s"), from, to,
                        g_strerror(errsv));
        return FALSE;
    }
    if (new_path)
        *new_path = g_steal_pointer(&to);
    return TRUE;
}
