/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "gre-kernel-env.h"
#include "gre-plan.h"
#include "gre-state.h"

/*
 * Apply: the only code that changes the kernel. `up` creates a plan's objects in order and is
 * transactional: when a step fails, everything this call created is removed again in reverse
 * order and the kernel is left as it was found. Every object is created exclusively
 * (NLM_F_EXCL), so nothing that existed before is ever taken over. What `up` creates is written
 * to an ownership record first (gre-state.h), which is what `down` and `status` work from.
 */

typedef struct {
    gboolean unchanged;   /* up: the tunnel was already up exactly as planned; nothing touched */
    gboolean recreated;   /* up: an earlier instance (changed, incomplete, or left by a crash)
                             was removed first */
    guint      created;   /* objects created by this call */
    guint      removed;   /* objects removed by this call */
    GPtrArray *notes;     /* of char *: what changed, what was left alone and why; NULL if none */
    GPtrArray *warnings;  /* of char *: what the caller must tell the user (stderr, log); NULL if
                             none. up: IPSEC=ike came up without a CHILD_SA (silent peer);
                             down: the IKE daemon could not be asked */
    gboolean ike_pending; /* up: IPSEC=ike is up with the trap, the CHILD_SA not yet there */
    gboolean ike_auth_failed; /* up failed: IKE authentication failed (PSK or identities differ):
                                 NetworkManager tells the user "invalid secrets" */
} GreApplyReport;

void gre_apply_report_clear(GreApplyReport *report);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(GreApplyReport, gre_apply_report_clear)

/* Errors are GRE_ERROR_KERNEL, quoting the failed step as its `ip` command and the kernel's own
 * text, e.g. creating "ip link add gre1 ...": File exists; or GRE_ERROR_IO for the record.
 * Test hook: with GRE_TUNNEL_FAULT_STEP=N in the environment, step N (0-based) fails before it
 * is attempted. */
gboolean gre_apply_up(const GrePlan *plan, GreApplyReport *report_or_null, GError **error);

/* How long `up` waits for the IKE daemon to establish the CHILD_SA (IPSEC=ike). */
#define GRE_APPLY_IKE_TIMEOUT_MS 30000

typedef struct {
    /* IPSEC=ike: a peer that does not answer (or has no matching IKE configuration yet) fails
     * `up`, which then removes everything, instead of leaving the tunnel up with the trap. */
    gboolean wait_peer;
    guint    ike_timeout_ms; /* 0: GRE_APPLY_IKE_TIMEOUT_MS */
} GreApplyOptions;

/* gre_apply_up() with @options_or_null, recording @source_or_null as gre_apply_up_with() does. */
gboolean gre_apply_up_full(const GrePlan *plan, const char *source_or_null,
                           const GreApplyOptions *options_or_null, GreApplyReport *report_or_null,
                           GError **error);

/*
 * `up` that never blocks on the IKE daemon, for a service whose main loop must keep answering
 * (nm-gre-service while it waits for the CHILD_SA): with IPSEC=ike, gre_apply_up_start() returns
 * GRE_APPLY_WAITING once the daemon has been asked to start the CHILD_SA, with *waiting set;
 * gre_apply_up_poll() (from a timer) reads what the daemon said and goes on, and
 * gre_apply_up_cancel() gives up. The tunnel's lock is held meanwhile; @plan must outlive
 * *waiting. DONE and FAILED are final: the report is handed over, @up freed, and the transaction
 * is exactly that of gre_apply_up_full() (no source is recorded).
 */
typedef enum {
    GRE_APPLY_WAITING, /* not finished yet: poll again */
    GRE_APPLY_DONE,    /* up */
    GRE_APPLY_FAILED,  /* failed with @error; nothing of it is left */
} GreApplyProgress;
typedef struct _GreApplyUp GreApplyUp;
GreApplyProgress gre_apply_up_start(const GrePlan *plan, const GreApplyOptions *options_or_null,
                                    GreApplyReport *report_or_null, GreApplyUp **waiting,
                                    GError **error);
GreApplyProgress gre_apply_up_poll(GreApplyUp *up, GreApplyReport *report_or_null, GError **error);
/* Removes what this `up` created so far (the connection in the IKE daemon and its IKE_SA
 * included) and frees @up; FALSE only when removing failed. */
gboolean gre_apply_up_cancel(GreApplyUp *up, GreApplyReport *report_or_null, GError **error);

/* Removes what the record of @name lists, each object only while it still matches the record;
 * look-alikes that are not ours are left alone (and listed in the report's notes). Objects that
 * are already gone are fine. Without a record there is nothing to do, which is not an error. */
gboolean gre_apply_down(const char *name, GError **error);
gboolean gre_apply_down_full(const char *name, GreApplyReport *report_or_null, GError **error);

/*
 * A context for one process that brings many tunnels up or down (gre-tunnel up --all): one
 * netlink socket per family, opened on first use and shared by every tunnel done through it.
 * Each tunnel stays its own transaction, with its own lock and record. Not thread-safe.
 */
typedef struct _GreApplyContext GreApplyContext;
GreApplyContext                *gre_apply_context_new(void);
void                            gre_apply_context_free(GreApplyContext *ctx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GreApplyContext, gre_apply_context_free)
/* The context's route socket (opened now if need be), e.g. for gre_kernel_env_resolve_nl(). */
GreNl *gre_apply_context_route(GreApplyContext *ctx, GError **error);

/* gre_apply_up() through @ctx's sockets (NULL: sockets of its own). @source_or_null, the file
 * the settings were read from, is kept in the record: `down --all DIR` works from it. */
gboolean gre_apply_up_with(GreApplyContext *ctx, const GrePlan *plan, const char *source_or_null,
                           GreApplyReport *report_or_null, GError **error);
/* gre_apply_up_with() with @options_or_null (up --all passes its IKE options through it). */
gboolean gre_apply_up_with_options(GreApplyContext *ctx, const GrePlan *plan,
                                   const char            *source_or_null,
                                   const GreApplyOptions *options_or_null,
                                   GreApplyReport *report_or_null, GError **error);
gboolean gre_apply_down_with(GreApplyContext *ctx, const char *name, GreApplyReport *report_or_null,
                             GError **error);

/* Removes, as `down` does, the tunnels of this network namespace whose record is owned by
 * @owner_or_null, or, when it is NULL, by a process that is gone (see gre-state.h). Each removal
 * is a note in the report. Records without an owner (the admin's) are never touched. */
gboolean gre_apply_reclaim(const GreStateOwner *owner_or_null, GreApplyReport *report_or_null,
                           GError **error);

/* Appends to @out, for @name or for every tunnel with a record, what the kernel reports about
 * each recorded object: link state and parameters, addresses, routes, ESP counters. */
gboolean gre_apply_status(const char *name_or_null, GString *out, GError **error);
