/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * Shared by the parts of apply: gre-apply.c (transactions: up, down, the record),
 * gre-apply-objects.c (plan steps as libnl objects and netlink messages), gre-apply-probe.c
 * (is a recorded object still in the kernel, and still ours?) and gre-apply-status.c.
 * Nothing outside apply includes this.
 */
#include <linux/if_tunnel.h>
#include <linux/ip6_tunnel.h>
#include <linux/rtnetlink.h>
#include <linux/xfrm.h>
#include <netlink/netlink.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/ipgre.h>
#include <netlink/route/link/ip6gre.h>
#include <netlink/route/route.h>
#include <netlink/xfrm/lifetime.h>
#include <netlink/xfrm/sa.h>
#include <netlink/xfrm/sp.h>
#include <netlink/xfrm/selector.h>
#include <netlink/xfrm/template.h>

#include "gre-apply.h"
#include "gre-kernel-env.h"
#include "gre-state.h"

#ifndef XFRM_SA_XFLAG_OSEQ_MAY_WRAP
#define XFRM_SA_XFLAG_OSEQ_MAY_WRAP 2 /* linux/xfrm.h from 5.9 on */
#endif
#ifndef IFF_UP
#define IFF_UP 0x1 /* <net/if.h> clashes with the <linux/if.h> libnl pulls in */
#endif

typedef struct nl_addr          NlAddr;
typedef struct nl_cache         NlCache;
typedef struct rtnl_link        RtnlLink;
typedef struct rtnl_route       RtnlRoute;
typedef struct xfrmnl_sa        XfrmSa;
typedef struct xfrmnl_sp        XfrmSp;
typedef struct xfrmnl_sel       XfrmSel;
typedef struct xfrmnl_ltime_cfg XfrmLifetime;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NlAddr, nl_addr_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NlCache, nl_cache_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RtnlLink, rtnl_link_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RtnlRoute, rtnl_route_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(XfrmSa, xfrmnl_sa_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(XfrmSp, xfrmnl_sp_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(XfrmSel, xfrmnl_sel_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(XfrmLifetime, xfrmnl_ltime_cfg_put)

typedef struct {
    GreNl                 *rt;   /* NETLINK_ROUTE, with strict checking of GET requests */
    GreNl                 *xfrm; /* NETLINK_XFRM; NULL until an xfrm object is touched */
    GreApplyReport        *report;
    const GreApplyOptions *opts; /* up only; NULL elsewhere */
    /* up only: the record being applied, so that the private key's id (IKE_AUTH=cert) is
     * recorded once charon gives it, and that id for undoing this call's own steps. */
    GreStateRecord *rec;
    char           *ike_keyid;
    /* up without blocking (gre_apply_up_start): the connection's step sends initiate and leaves
     * the answer to be read later, through ike_wait */
    gboolean              async;
    struct _ApplyIkeWait *ike_wait;
} Kernel;
typedef enum {
    OBJ_ABSENT,
    OBJ_PRESENT, /* ours: matches the record */
    OBJ_FOREIGN, /* something with the same identity that is not what we created */
    OBJ_ERROR,
} ObjState;

typedef struct {
    ObjState state;
    char    *why;   /* FOREIGN: what differs; ERROR: the error */
    char    *drift; /* PRESENT: attributes that differ from the plan but not in identity */
} Probe;

/* gre-apply.c */
void apply_note(Kernel *k, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void apply_warn(Kernel *k, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* This namespace's record of @name, or one an earlier version left that is this namespace's. */
GreStateRecord *apply_record_read(Kernel *k, const char *name, GError **error);
void            apply_kernel_clear(Kernel *k);
gboolean        apply_kernel_open(Kernel *k, gboolean xfrm, GError **error);
gboolean        apply_has_xfrm(GArray *steps);
/* Whether the kernel's last error says the object was not there (any more). */
gboolean apply_gone(GreNl *nl);

/* gre-apply-objects.c */
NlAddr        *apply_to_nl(const GreAddr *a, int plen);
GreAddr        apply_from_nl(NlAddr *n);
gboolean       apply_nl_addr_is(NlAddr *n, const GreAddr *a);
guint32        apply_route_metric(const GrePlanRoute *r);
char          *apply_describe(const GrePlanStep *step);
XfrmLifetime  *apply_lifetime_unlimited(void);
XfrmSp        *apply_policy_object(const GrePlanPolicy *p, gboolean with_template);
XfrmSa        *apply_state_id_object(const GrePlanState *st);
RtnlRoute     *apply_route_object(const GrePlanRoute *r, int ifindex);
RtnlLink      *apply_link_object(const GrePlanLink *l, int underlay);
struct nl_msg *apply_addr_msg(int cmd, int flags, const GrePlanAddr *a, int ifindex);
struct nl_msg *apply_link_updown_msg(int ifindex, gboolean up);

/* A gre or ip6gre link's tunnel parameters as the kernel reports them (keys in host order). */
typedef struct {
    GreAddr local, remote;
    guint16 iflags, oflags;
    guint32 ikey, okey;
    guint8  ttl;
} LinkTunnel;
void apply_link_tunnel(RtnlLink *link, gboolean ip6, LinkTunnel *t);

/* gre-apply-sa.c: ESP SAs in netlink messages of our own, whose buffers are wiped */
typedef struct {
    gboolean found;
    GreAddr  saddr;
    guint8   mode;
    guint32  reqid;
    char     alg[64]; /* the AEAD, else the cipher */
    guint32  extra_flags;
    gboolean has_replay; /* XFRMA_REPLAY_VAL was there; then: */
    guint32  oseq;       /* the last outbound sequence number used */
    guint64  bytes, packets;
    guint32  integrity_failed;
} SaInfo;
/* XFRM_MSG_NEWSA for @st, with XFRMA_REPLAY_VAL when @oseq is not 0. Free with
 * gre_nl_msg_free_wiped(): it holds the keys. */
struct nl_msg *apply_sa_add_msg(const GrePlanState *st, guint32 oseq);
struct nl_msg *apply_sa_get_msg(const GreAddr *dst, guint32 spi);
gboolean       apply_sa_parse(const struct nlmsghdr *hdr, SaInfo *out);
int            apply_sa_add(GreNl *nl, const GrePlanState *st, guint32 oseq);
/* XFRM_MSG_GETSA: 0, or a negative libnl error (the kernel's errno in gre_nl_errno()). */
int apply_sa_get(GreNl *nl, const GreAddr *dst, guint32 spi, SaInfo *out);

/* gre-apply-wrap.c: does this kernel let an outbound SA's sequence number wrap? */
typedef enum {
    WRAP_HONOURED,    /* the counter went from 2^32-1 to 0 and the packet was sent */
    WRAP_IGNORED,     /* the kernel stopped at 2^32-1: the flag is stored but not acted on */
    WRAP_NOT_STORED,  /* the kernel dropped XFRMA_SA_EXTRA_FLAGS or the bit */
    WRAP_INCONCLUSIVE /* the probe packets never reached the SA */
} WrapVerdict;
/* From the probe SA as read back after two packets sent with its counter at 2^32-2. */
WrapVerdict apply_wrap_verdict(const SaInfo *after);
/* TRUE when the kernel honours the flag; FALSE with @error when it does not, or when the test
 * went wrong. TRUE with *not_checked saying why when it could not be run: no CAP_SYS_ADMIN for
 * a network namespace, or a kernel that refuses the suite (then adding the real SA fails too). */
gboolean apply_check_oseq_wrap(const GrePlanState *st, char **not_checked, GError **error);

/* gre-apply-create.c: a plan's steps created in batches, in order. */
typedef enum {
    APPLY_TOOK_NO,    /* not sent, or the kernel refused it */
    APPLY_TOOK_YES,   /* created (and counted in the report) */
    APPLY_TOOK_MAYBE, /* sent, but no answer came: the rollback tries to remove it */
} ApplyTook;
/* Creates @steps from the first on, up to the first failure or step @fault (-1: none), which
 * fails before it is attempted. *attempted: how many steps were sent (@took[0..attempted) says
 * what became of each; it must hold @steps->len entries, APPLY_TOOK_NO); *failure: the first
 * failure in plan order, as "creating \"ip ...\": reason", or NULL, and *code its GreErrorCode.
 * The IKE daemon's steps are done one by one, through apply_ike_create(). Steps before @from
 * are not touched (they were created by an earlier call). With k->async, it stops after the
 * step that left k->ike_wait set: the caller goes on from *attempted once the daemon answered. */
void apply_create(Kernel *k, const GArray *steps, guint from, int fault, guint *attempted,
                  ApplyTook *took, char **failure, int *code);

/* gre-apply-probe.c */
/* An address as the kernel reports it; @peer is unset unless it differs from @local. */
typedef struct {
    int     ifindex;
    guint8  plen;
    GreAddr local, peer;
} AddrEntry;
/* The addresses of device @ifindex, of @family (AF_UNSPEC: every family), in the kernel's
 * order: a dump the kernel filters by device (NETLINK_GET_STRICT_CHK), filtered here too. */
int      apply_dump_addrs(Kernel *k, int family, int ifindex, GArray *out);
void     apply_probe_clear(Probe *p);
ObjState apply_failed(Probe *p, GreNl *nl, int err);
ObjState apply_probe_link(Kernel *k, const GrePlanLink *l, Probe *p, RtnlLink **out);
ObjState apply_probe_step(Kernel *k, const GrePlanStep *step, Probe *p);
/* The verdicts on what the kernel answered (the object was there): for probes sent in a batch. */
ObjState       apply_judge_state(const GrePlanState *st, const SaInfo *sa, Probe *p);
ObjState       apply_judge_policy(const GrePlanPolicy *pol, XfrmSp *sp, Probe *p);
ObjState       apply_judge_link(const GrePlanLink *l, RtnlLink *link, Probe *p);
struct nl_msg *apply_policy_get_msg(const GrePlanPolicy *pol);
/* The policy in an XFRM_MSG_NEWPOLICY message (the answer to GETPOLICY), or NULL. */
XfrmSp *apply_policy_parse(const struct nlmsghdr *hdr);
/* The route or address probes with the ifindex of the device they name already known: a dump
 * filtered by that device each. */
ObjState apply_probe_route_at(Kernel *k, const GrePlanRoute *r, int ifindex, Probe *p);
ObjState apply_probe_addr_at(Kernel *k, const GrePlanAddr *a, int ifindex, Probe *p);
gboolean apply_goes_with_link(const GArray *steps, const GrePlanStep *step);

/* gre-apply-remove.c: `down`'s probes and removals in batches. Removes what of @steps (in the
 * order of removal, none of them the IKE daemon's) the kernel still has as recorded; the objects
 * left alone are noted, and what could not be probed or removed is appended to @failures
 * ("; "-separated). */
void apply_remove_run(Kernel *k, const GrePlanStep *const *steps, guint n, GString *failures);

/* gre-apply-ike.c: IPSEC=ike, the only code that talks to the IKE daemon (VICI). */
static inline gboolean
apply_is_ike(const GrePlanStep *step)
{
    return step->kind == GRE_STEP_IKE_SHARED || step->kind == GRE_STEP_IKE_CONN ||
           step->kind == GRE_STEP_IKE_CA || step->kind == GRE_STEP_IKE_KEY;
}
/* Loads @step into the daemon; for the connection also starts the CHILD_SA and accepts it only
 * in transport mode. On failure nothing of @step is left in the daemon, *why says what went
 * wrong in words a user can act on, and *code is the GreErrorCode for it. */
gboolean apply_ike_create(Kernel *k, const GrePlanStep *step, char **why, int *code);
/* async: an initiate sent, its answer not yet read (Kernel.ike_wait). */
typedef struct _ApplyIkeWait ApplyIkeWait;
/* Reads what the daemon has said, without waiting: 0 while the answer to initiate is not there,
 * 1 when the CHILD_SA stands (as apply_ike_create() would have returned TRUE), -1 when it does
 * not: the connection is unloaded again, *why and *code say why. k->ike_wait is freed unless 0. */
int apply_ike_wait_poll(Kernel *k, char **why, int *code);
/* Drops the wait (the connection stays loaded: the rollback unloads it). */
void apply_ike_wait_free(ApplyIkeWait *w);
/* Unloads @step by its name (the connection: its IKE_SA terminated too). Already gone is fine;
 * a daemon that is not running is a warning (its state went with it), not a failure. */
gboolean apply_ike_remove(Kernel *k, const GrePlanStep *step, char **why);
/* Whether the daemon has @step loaded under our name. */
ObjState apply_ike_probe(Kernel *k, const GrePlanStep *step, Probe *p);
/* The IKE_SA and CHILD_SA of @conn as the daemon reports them (list-sas). */
void apply_ike_status(const GrePlanIkeConn *conn, GString *out);

/* gre-apply-ike-cred.c: IKE_AUTH=cert, the CA and the private key */
typedef struct _GreVici GreVici;
/* @path as @setting names it, checked like keys-NAME (@secret: readable by its owner only). */
GBytes *apply_ike_read_cred(const char *setting, const char *path, gboolean secret, GError **error);
gboolean apply_ike_cred_create(const GrePlanStep *step, char **keyid, char **why);
gboolean apply_ike_cred_remove(GreVici *v, const GrePlanStep *step, const char *keyid,
                               gboolean *was_loaded, GError **error);
int      apply_ike_cred_loaded(GreVici *v, const GrePlanStep *step, GError **error);
char    *apply_ike_ca_subject(GreVici *v, const char *name, GError **error);
/* After load-conn: whether charon sees @cert carrying @local_id and holds its private key. */
gboolean apply_ike_check_own_cert(GreVici *v, GBytes *cert, const char *cert_file,
                                  const char *local_id, char **why);
