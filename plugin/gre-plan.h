/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "gre-settings.h"
#include "gre-suite.h"

/*
 * The plan: a pure function from settings (plus a few facts about the host, GrePlanEnv) to the
 * ordered list of kernel objects that make up the tunnel. Apply creates them in order and removes
 * them in reverse; `gre-tunnel plan` prints them as the equivalent `ip` commands.
 */

typedef enum {
    GRE_STEP_XFRM_STATE,
    GRE_STEP_XFRM_POLICY,
    GRE_STEP_ROUTE,
    GRE_STEP_LINK,
    GRE_STEP_ADDR,
    GRE_STEP_LINK_UP,
    GRE_STEP_IKE_SHARED, /* IPSEC=ike: the PSK, loaded into the IKE daemon (load-shared) */
    GRE_STEP_IKE_CONN,   /* IPSEC=ike: the connection, loaded with a trap (load-conn) */
    GRE_STEP_IKE_CA,     /* IKE_AUTH=cert: the CA for the peer (load-authority) */
    GRE_STEP_IKE_KEY,    /* IKE_AUTH=cert: this end's private key (load-key) */
} GreStepKind;

typedef struct {
    char     name[GRE_IFNAMSIZ];
    gboolean ip6; /* ip6gre rather than gre */
    GreAddr  local, remote;
    char     underlay[GRE_IFNAMSIZ]; /* "" = not bound to a device */
    gboolean has_ikey, has_okey;
    guint32  ikey, okey; /* host order */
    gboolean seq, csum;  /* in both directions */
    guint8   ttl;        /* 0 = inherit */
    int      tos;        /* GRE_TOS_INHERIT or a value */
    gboolean pmtudisc;
    int      encaplimit; /* ip6gre only */
    guint    mtu;        /* always explicit: the computed or configured MTU */
} GrePlanLink;

typedef struct {
    char    dev[GRE_IFNAMSIZ];
    GreAddr local;
    GreAddr peer; /* AF_UNSPEC: none */
    guint8  plen; /* of local, or of peer when a peer is set */
} GrePlanAddr;

typedef struct {
    GrePrefix dst;
    char      dev[GRE_IFNAMSIZ];
    GreAddr   gateway; /* AF_UNSPEC: on-link */
    GreAddr   src;     /* AF_UNSPEC: none */
    guint32   metric;
    gboolean  pin; /* the route that keeps the outer remote off the tunnel */
} GrePlanRoute;

typedef struct {
    GreAddr             src, dst; /* outer addresses */
    guint32             spi;      /* host order */
    guint32             reqid;
    const GreSuiteInfo *suite;
    GBytes             *enc_key;  /* secret */
    GBytes             *auth_key; /* secret; NULL for AEAD suites */
    /* XFRM_SA_XFLAG_OSEQ_MAY_WRAP: outbound SAs go on past 2^32 packets (the sequence number
     * wraps) instead of stopping; with static keys nothing else would ever replace them. */
    gboolean oseq_may_wrap;
} GrePlanState;

typedef enum {
    GRE_DIR_IN  = 0, /* the values of XFRM_POLICY_IN / XFRM_POLICY_OUT */
    GRE_DIR_OUT = 1,
} GreDir;

typedef struct {
    GreAddr  src, dst; /* selector: only IP protocol 47 between these two hosts */
    GreDir   dir;
    gboolean has_grekey; /* select the GRE key too, so tunnels between one pair of hosts differ */
    guint32  grekey;     /* host order */
    guint32  reqid;      /* of the template: ESP, transport mode, src -> dst */
    guint32  priority;
    /* IPSEC=ike: no template, action block: GRE dropped whenever the daemon's own policies are
     * missing (daemon stopped). The kernel tells policies apart by selector, mark and
     * direction, not by priority: the mark (value/mask; mask 0 = none) keeps these apart from
     * the daemon's policy of the same selector, which would otherwise replace them. */
    gboolean block;
    guint32  mark, mark_mask;
} GrePlanPolicy;

/* The daemon owns the ESP SAs and policies with IPSEC=ike: the plan names what to load into it,
 * through the VICI socket, and apply loads it; nothing above apply talks to the daemon. */
#define GRE_IKE_ID_MAX 256
#define GRE_IKE_NAME_MAX (GRE_IFNAMSIZ + 8)
#define GRE_IKE_SOCKET_MAX 108
/* CHILD_SAs are rekeyed after this many packets, so that with the 10% margin charon adds for
 * the hard limit an SA never reaches the 32-bit ESP sequence number, where the kernel stops
 * sending on it. */
#define GRE_IKE_REKEY_PACKETS 1000000000u
/* Our block policies beside the daemon's: a larger number loses to charon's (366976 and below
 * for IPv4 host-to-host GRE, 268672 for IPv6; its drop shunts 600000 and below), so they only
 * act when the daemon's policies are gone. */
#define GRE_IKE_BLOCK_PRIORITY 1000000u

typedef struct {
    char    name[GRE_IKE_NAME_MAX]; /* the connection's name in the daemon: gre-DEVICE */
    char    socket[GRE_IKE_SOCKET_MAX];
    GreAddr local, remote; /* outer addresses; also the traffic selectors, protocol gre */
    char    local_id[GRE_IKE_ID_MAX], remote_id[GRE_IKE_ID_MAX];
    char    proposals[GRE_IKE_ID_MAX];     /* IKE SA */
    char    esp_proposals[GRE_IKE_ID_MAX]; /* IPSEC_SUITE-IKE_ESP_DH */
    const GreSuiteInfo *suite;
    guint               rekey_time, dpd_delay; /* seconds */
    guint               rekey_packets;
    gboolean            cert;                      /* IKE_AUTH=cert, else psk */
    char                cert_file[GRE_IKE_ID_MAX]; /* this end's certificate, sent in load-conn */
} GrePlanIkeConn;

/* IKE_AUTH=cert: a credential gre-tunnel reads from @file and loads under @name; the private
 * key's @keyid (charon's id for unload-key) is known once it is loaded, and recorded then. */
typedef struct {
    char name[GRE_IKE_NAME_MAX];
    char socket[GRE_IKE_SOCKET_MAX];
    char file[GRE_IKE_ID_MAX];
    char keyid[GRE_IKE_NAME_MAX * 2]; /* "" until loaded */
} GrePlanIkeCred;

typedef struct {
    char    name[GRE_IKE_NAME_MAX]; /* the secret's unique id in the daemon (unload-shared) */
    char    socket[GRE_IKE_SOCKET_MAX];
    char    local_id[GRE_IKE_ID_MAX], remote_id[GRE_IKE_ID_MAX]; /* its owners */
    GBytes *psk;                                                 /* secret */
} GrePlanIkeShared;

typedef struct {
    GreStepKind kind;
    union {
        GrePlanLink      link;
        GrePlanAddr      addr;
        GrePlanRoute     route;
        GrePlanState     state;
        GrePlanPolicy    policy;
        char             up_dev[GRE_IFNAMSIZ];
        GrePlanIkeConn   ike_conn;
        GrePlanIkeShared ike_shared;
        GrePlanIkeCred   ike_cred;
    };
} GrePlanStep;

/* What the plan needs to know about the host; found by the kernel layer, or given by a test. */
typedef struct {
    GreAddr local;                   /* the source address of the route to remote */
    char    route_dev[GRE_IFNAMSIZ]; /* the device remote is routed through ("" unknown) */
    GreAddr route_gateway;           /* that route's gateway; AF_UNSPEC: on-link */
    guint   route_mtu;               /* that device's MTU; 0 unknown */
} GrePlanEnv;

typedef struct {
    char     name[GRE_IFNAMSIZ];
    GArray  *steps; /* GrePlanStep, in creation order; removal is the reverse */
    guint    mtu;
    guint    underlay_mtu;
    gboolean underlay_mtu_assumed; /* no underlay MTU was known: 1500 was assumed */
    gboolean pinned;
} GrePlan;

/* Fails (GRE_ERROR_INVALID) when the settings need a fact @env lacks (e.g. LOCAL=auto without a
 * local address) or the MTU does not fit the underlay. @s must have passed validation. */
GrePlan *gre_plan_build(const GreSettings *s, const GrePlanEnv *env, GError **error);
void     gre_plan_free(GrePlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GrePlan, gre_plan_free)

/* The same objects as `ip` commands, one per line: creation, or removal (reverse order).
 * Keys are masked unless @show_secrets. */
GPtrArray *gre_plan_render_up(const GrePlan *plan, gboolean show_secrets);
GPtrArray *gre_plan_render_down(const GrePlan *plan);
char      *gre_plan_step_render(const GrePlanStep *step, gboolean show_secrets);
