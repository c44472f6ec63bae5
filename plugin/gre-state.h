/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "gre-plan.h"

/*
 * The ownership record: /run/gre-tunnel/netns-ID/NAME.state, one directory per network
 * namespace, so that same-named tunnels in different namespaces (containers, per-tenant or
 * VRF-style namespaces) each have their own record and their own lock. ID is the namespace's
 * cookie (SO_NETNS_COOKIE, Linux 5.14+), a 64-bit number the kernel gives out once per boot and
 * never again; /run is cleared at boot, so an ID never names two namespaces while records can
 * exist. Older kernels have no cookie: there the directory is netns-ino-INO, after the inode
 * number of /proc/self/ns/net, which the kernel may hand to a new namespace once the old one is
 * gone. ($GRE_TUNNEL_STATE_DIR replaces /run/gre-tunnel, for tests; the layout below it is the
 * same.) `up` writes it before its first change to the kernel and lists every object it
 * is about to create, one canonical line per plan step, with the attributes that identify the
 * object; `down` removes exactly those objects, and only while they still match. A crash in the
 * middle of `up` therefore leaves a record that says what may be left over.
 *
 * The record holds no key material: only a SHA-256 over the keys, so that a re-`up` can tell
 * whether they changed. The file is mode 0600 and replaced atomically.
 */

#define GRE_STATE_DIR_DEFAULT "/run/gre-tunnel"

/*
 * A record may name a process as its owner (a line "owner=PROGRAM pid=N start=TICKS boot=UUID
 * pidns=INO"): nm-gre-service does, since what it creates must not outlive it. Records of
 * `gre-tunnel up` name none: the admin owns them. A record whose owner is gone is orphaned.
 * Older versions ignore the line.
 */
typedef struct {
    char    program[32];
    guint64 pid;
    guint64 start; /* field 22 of /proc/PID/stat: a pid is handed out again, this with it not */
    char    boot[40];
    guint64 pidns; /* the pid means this process only in this PID namespace */
} GreStateOwner;

typedef enum {
    GRE_OWNER_NONE,    /* no owning process: the admin's */
    GRE_OWNER_ALIVE,   /* the owner still runs */
    GRE_OWNER_GONE,    /* the owner has exited: the record is orphaned */
    GRE_OWNER_UNKNOWN, /* cannot be told from here (another PID namespace, no /proc) */
} GreOwnerState;

void           gre_state_owner_free(GreStateOwner *owner);
GreStateOwner *gre_state_owner_dup(const GreStateOwner *owner);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GreStateOwner, gre_state_owner_free)
/* The process @pid that started at @start (ticks after boot), in this boot and PID namespace. */
GreStateOwner *gre_state_owner_of(const char *program, guint64 pid, guint64 start, GError **error);
GreStateOwner *gre_state_owner_self(const char *program, GError **error);
/* Records this process writes from now on name @owner (NULL: none). */
void                 gre_state_set_process_owner(const GreStateOwner *owner);
const GreStateOwner *gre_state_get_process_owner(void);
gboolean             gre_state_owner_equal(const GreStateOwner *a, const GreStateOwner *b);
GreOwnerState        gre_state_owner_state(const GreStateOwner *owner);
char                *gre_state_owner_to_line(const GreStateOwner *owner);
GreStateOwner       *gre_state_owner_from_line(const char *line, GError **error);

typedef struct {
    char           name[GRE_IFNAMSIZ];
    char          *secrets; /* "sha256:HEX", or "none" for a tunnel without IPsec */
    GreStateOwner *owner;   /* NULL: no owning process */
    GPtrArray     *lines;   /* of char *: one canonical line per step, in creation order */
    GArray        *steps;   /* of GrePlanStep parsed from @lines; keys are always NULL */
    char          *source;  /* the file the settings came from (absolute), NULL if not known */
} GreStateRecord;

void gre_state_record_free(GreStateRecord *rec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GreStateRecord, gre_state_record_free)

/* The record a plan will leave once applied, owned by this process's owner (if any). */
GreStateRecord *gre_state_record_from_plan(const GrePlan *plan);

/* One step as a record line: "link name=gre1 kind=gre local=... mtu=1430". No secrets. */
char *gre_state_step_line(const GrePlanStep *step);
/* "sha256:HEX" over every key (with its SPI) of the plan's ESP states; "none" without any. */
char *gre_state_secrets_hash(const GrePlan *plan);

/* @path as a record's source: absolute, its directory with symbolic links resolved (where it
 * exists), so that `down --all DIR` finds it however DIR is written. */
char *gre_state_source_path(const char *path);

/* The top directory: /run/gre-tunnel or $GRE_TUNNEL_STATE_DIR. */
char *gre_state_dir(void);
/* This network namespace's directory below it (not created here). */
char    *gre_state_netns_dir(GError **error);
gboolean gre_state_exists(const char *name);
gboolean gre_state_write(const GreStateRecord *rec, GError **error);
/* NULL and no error when @name has no record. */
GreStateRecord *gre_state_read(const char *name, GError **error);
/* Removing a record that does not exist is not an error. */
gboolean gre_state_delete(const char *name, GError **error);
/* The names that have a record, sorted. */
GPtrArray *gre_state_list(GError **error);

/*
 * Serialises `up`/`down` of one tunnel in one network namespace between processes: an exclusive
 * lock on netns-ID/NAME.lock, blocking while another process holds it. Other namespaces do not
 * wait: each process also holds STATE_DIR/.lock shared. One that finds nobody else at work takes
 * that lock exclusively for a moment to remove the records of namespaces that no longer exist,
 * and adds a line to @notes (may be NULL) for each namespace whose records it removed.
 */
typedef struct _GreStateLock GreStateLock;
GreStateLock                *gre_state_lock(const char *name, GPtrArray *notes, GError **error);
void                         gre_state_unlock(GreStateLock *lock);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GreStateLock, gre_state_unlock)

/* The records (paths) of namespaces that no longer exist: stale, since the kernel removed their
 * objects with the namespace. The next `up` or `down` anywhere removes them. */
GPtrArray *gre_state_list_stale(void);

/*
 * Records an earlier version wrote (STATE_DIR/NAME.state, one directory for the whole host).
 * Which namespace one belongs to is for the caller to decide (it can ask the kernel); adopting
 * moves it into this namespace's directory, atomically, so that only one namespace gets it.
 */
char           *gre_state_legacy_path(const char *name);
GreStateRecord *gre_state_read_legacy(const char *name, GError **error);
GPtrArray      *gre_state_list_legacy(GError **error);
/* FALSE without @error when another process took it first. */
gboolean gre_state_adopt_legacy(const char *name, char **new_path, GError **error);
/* Whether this process is in the network namespace of PID 1. */
gboolean gre_state_in_initial_netns(void);
