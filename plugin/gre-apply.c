/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-apply.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
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

#include "gre-error.h"
#include "gre-i18n.h"
#include "gre-kernel-env.h"
#include "gre-state.h"

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
    GreNl          *rt;   /* NETLINK_ROUTE */
    GreNl          *xfrm; /* NETLINK_XFRM; NULL until an xfrm object is touched */
    GreApplyReport *report;
} Kernel;

static void
kernel_clear(Kernel *k)
{
    g_clear_pointer(&k->rt, gre_nl_close);
    g_clear_pointer(&k->xfrm, gre_nl_close);
}

static void note(Kernel *k, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
note(Kernel *k, const char *fmt, ...)
{
    va_list ap;

    if (!k->report)
        return;
    if (!k->report->notes)
        k->report->notes = g_ptr_array_new_with_free_func(g_free);
    va_start(ap, fmt);
    g_ptr_array_add(k->report->notes, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

void
gre_apply_report_clear(GreApplyReport *report)
{
    g_clear_pointer(&report->notes, g_ptr_array_unref);
    *report = (GreApplyReport){ 0 };
}

static gboolean
kernel_open(Kernel *k, gboolean xfrm, GError **error)
{
    if (!k->rt && !(k->rt = gre_nl_open(NETLINK_ROUTE, error)))
        return FALSE;
    if (xfrm && !k->xfrm && !(k->xfrm = gre_nl_open(NETLINK_XFRM, error)))
        return FALSE;
    return TRUE;
}

static gboolean
has_xfrm(GArray *steps)
{
    for (guint i = 0; i < steps->len; i++) {
        GreStepKind kind = g_array_index(steps, GrePlanStep, i).kind;

        if (kind == GRE_STEP_XFRM_STATE || kind == GRE_STEP_XFRM_POLICY)
            return TRUE;
    }
    return FALSE;
}

/* ---- conversions ---- */

static NlAddr *
to_nl(const GreAddr *a, int plen)
{
    NlAddr *n = nl_addr_build(a->family, &a->u, a->family == AF_INET ? 4 : 16);

    if (n)
        nl_addr_set_prefixlen(n, plen >= 0 ? plen : (int)gre_addr_max_plen(a->family));
    return n;
}

static GreAddr
from_nl(NlAddr *n)
{
    GreAddr a = { 0 };

    if (!n)
        return a;
    if (nl_addr_get_family(n) == AF_INET && nl_addr_get_len(n) == 4)
        memcpy(&a.u.v4, nl_addr_get_binary_addr(n), 4);
    else if (nl_addr_get_family(n) == AF_INET6 && nl_addr_get_len(n) == 16)
        memcpy(&a.u.v6, nl_addr_get_binary_addr(n), 16);
    else if (nl_addr_get_family(n) == AF_INET || nl_addr_get_family(n) == AF_INET6) {
        /* A default route comes without RTA_DST: libnl gives an empty address. */
        a.family = nl_addr_get_family(n);
        return a;
    } else
        return a;
    a.family = nl_addr_get_family(n);
    return a;
}

static gboolean
nl_addr_is(NlAddr *n, const GreAddr *a)
{
    GreAddr b = from_nl(n);

    return gre_addr_equal(&b, a);
}

/* IPv6 routes added with metric 0 get the kernel's default; IPv4 routes keep 0. */
static guint32
route_metric(const GrePlanRoute *r)
{
    return r->metric == 0 && r->dst.addr.family == AF_INET6 ? 1024 : r->metric;
}

static char *
describe(const GrePlanStep *step)
{
    switch (step->kind) {
    case GRE_STEP_XFRM_STATE: {
        g_autofree char *src = gre_addr_to_string(&step->state.src);
        g_autofree char *dst = gre_addr_to_string(&step->state.dst);

        return g_strdup_printf("xfrm state %s > %s esp spi 0x%08x", src, dst, step->state.spi);
    }
    case GRE_STEP_XFRM_POLICY: {
        g_autofree char *src = gre_addr_to_string(&step->policy.src);
        g_autofree char *dst = gre_addr_to_string(&step->policy.dst);

        g_autofree char *key = step->policy.has_grekey
                                   ? g_strdup_printf(" key %u", step->policy.grekey)
                                   : g_strdup("");

        return g_strdup_printf("xfrm policy %s %s > %s proto gre%s",
                               step->policy.dir == GRE_DIR_OUT ? "out" : "in", src, dst, key);
    }
    case GRE_STEP_ROUTE: {
        g_autofree char *dst = gre_prefix_to_string(&step->route.dst);

        return g_strdup_printf("route %s dev %s%s", dst, step->route.dev,
                               step->route.pin ? " (pin)" : "");
    }
    case GRE_STEP_LINK:
        return g_strdup_printf("link %s", step->link.name);
    case GRE_STEP_ADDR: {
        g_autofree char *local = gre_addr_to_string(&step->addr.local);

        return g_strdup_printf("address %s/%u on %s", local, step->addr.plen, step->addr.dev);
    }
    case GRE_STEP_LINK_UP:
        return g_strdup_printf("%s up", step->up_dev);
    }
    return g_strdup("?");
}

/* ---- building kernel objects ---- */

/* Byte and packet limits of 0 mean "expire at once" to the kernel, and libnl sends 0 unless a
 * lifetime is given: the first packet would kill the SA. No limits, as `ip xfrm` does. */
static XfrmLifetime *
lifetime_unlimited(void)
{
    XfrmLifetime *lft = xfrmnl_ltime_cfg_alloc();

    xfrmnl_ltime_cfg_set_soft_bytelimit(lft, XFRM_INF);
    xfrmnl_ltime_cfg_set_hard_bytelimit(lft, XFRM_INF);
    xfrmnl_ltime_cfg_set_soft_packetlimit(lft, XFRM_INF);
    xfrmnl_ltime_cfg_set_hard_packetlimit(lft, XFRM_INF);
    return lft;
}

static XfrmSel *
policy_selector(const GrePlanPolicy *p)
{
    XfrmSel *sel          = xfrmnl_sel_alloc();
    g_autoptr(NlAddr) src = to_nl(&p->src, -1);
    g_autoptr(NlAddr) dst = to_nl(&p->dst, -1);
    guint plen            = gre_addr_max_plen(p->src.family);

    xfrmnl_sel_set_saddr(sel, src);
    xfrmnl_sel_set_daddr(sel, dst);
    xfrmnl_sel_set_prefixlen_s(sel, plen);
    xfrmnl_sel_set_prefixlen_d(sel, plen);
    xfrmnl_sel_set_family(sel, p->src.family);
    xfrmnl_sel_set_proto(sel, IPPROTO_GRE);
    if (p->has_grekey) {
        /* The kernel puts a GRE key into the flow's ports: high half as sport, low as dport
         * (xfrm_flowi_sport/dport). libnl converts these to network order. */
        xfrmnl_sel_set_sport(sel, p->grekey >> 16);
        xfrmnl_sel_set_sportmask(sel, 0xffff);
        xfrmnl_sel_set_dport(sel, p->grekey & 0xffff);
        xfrmnl_sel_set_dportmask(sel, 0xffff);
    }
    return sel;
}

static XfrmSp *
policy_object(const GrePlanPolicy *p, gboolean with_template)
{
    XfrmSp *sp             = xfrmnl_sp_alloc();
    g_autoptr(XfrmSel) sel = policy_selector(p);

    xfrmnl_sp_set_sel(sp, sel);
    xfrmnl_sp_set_dir(sp, p->dir == GRE_DIR_OUT ? XFRM_POLICY_OUT : XFRM_POLICY_IN);
    if (with_template) {
        struct xfrmnl_user_tmpl *t  = xfrmnl_user_tmpl_alloc();
        g_autoptr(NlAddr) src       = to_nl(&p->src, -1);
        g_autoptr(NlAddr) dst       = to_nl(&p->dst, -1);
        g_autoptr(XfrmLifetime) lft = lifetime_unlimited();

        xfrmnl_sp_set_action(sp, XFRM_POLICY_ALLOW);
        xfrmnl_sp_set_priority(sp, p->priority);
        xfrmnl_sp_set_lifetime_cfg(sp, lft);
        xfrmnl_user_tmpl_set_saddr(t, src);
        xfrmnl_user_tmpl_set_daddr(t, dst);
        xfrmnl_user_tmpl_set_family(t, p->src.family);
        xfrmnl_user_tmpl_set_proto(t, IPPROTO_ESP);
        xfrmnl_user_tmpl_set_mode(t, XFRM_MODE_TRANSPORT);
        xfrmnl_user_tmpl_set_reqid(t, p->reqid);
        /* Not optional ("level required"): without the SA, GRE is dropped, never sent or taken
         * in the clear. */
        xfrmnl_user_tmpl_set_optional(t, 0);
        xfrmnl_user_tmpl_set_aalgos(t, ~0u);
        xfrmnl_user_tmpl_set_ealgos(t, ~0u);
        xfrmnl_user_tmpl_set_calgos(t, ~0u);
        xfrmnl_sp_add_usertemplate(sp, t);
    }
    return sp;
}

static XfrmSa *
state_id_object(const GrePlanState *st)
{
    XfrmSa *sa            = xfrmnl_sa_alloc();
    g_autoptr(NlAddr) dst = to_nl(&st->dst, -1);

    xfrmnl_sa_set_daddr(sa, dst);
    xfrmnl_sa_set_spi(sa, st->spi); /* host order: libnl converts */
    xfrmnl_sa_set_proto(sa, IPPROTO_ESP);
    return sa;
}

static RtnlRoute *
route_object(const GrePlanRoute *r, int ifindex)
{
    RtnlRoute           *route = rtnl_route_alloc();
    struct rtnl_nexthop *nh    = rtnl_route_nh_alloc();
    g_autoptr(NlAddr) dst      = to_nl(&r->dst.addr, r->dst.plen);

    rtnl_route_set_family(route, r->dst.addr.family);
    rtnl_route_set_dst(route, dst);
    rtnl_route_set_table(route, RT_TABLE_MAIN);
    /* "static" rather than ip(8)'s "boot": a look-alike added by hand is not mistaken for ours. */
    rtnl_route_set_protocol(route, RTPROT_STATIC);
    rtnl_route_set_type(route, RTN_UNICAST);
    rtnl_route_set_priority(route, route_metric(r));
    if (r->src.family != AF_UNSPEC) {
        g_autoptr(NlAddr) src = to_nl(&r->src, -1);

        rtnl_route_set_pref_src(route, src);
    }
    rtnl_route_nh_set_ifindex(nh, ifindex);
    if (r->gateway.family != AF_UNSPEC) {
        g_autoptr(NlAddr) gw = to_nl(&r->gateway, -1);

        rtnl_route_nh_set_gateway(nh, gw);
    }
    rtnl_route_add_nexthop(route, nh);
    return route;
}

static guint16
gre_flags(gboolean key, gboolean seq, gboolean csum)
{
    /* Already big-endian, as the kernel wants them. */
    return (key ? GRE_KEY : 0) | (seq ? GRE_SEQ : 0) | (csum ? GRE_CSUM : 0);
}

static RtnlLink *
link_object(const GrePlanLink *l, int underlay)
{
    RtnlLink *link = l->ip6 ? rtnl_link_ip6gre_alloc() : rtnl_link_ipgre_alloc();
    guint16   ifl  = gre_flags(l->has_ikey, l->seq, l->csum);
    guint16   ofl  = gre_flags(l->has_okey, l->seq, l->csum);

    rtnl_link_set_name(link, l->name);
    rtnl_link_set_mtu(link, l->mtu);
    if (!l->ip6) {
        rtnl_link_ipgre_set_local(link, l->local.u.v4.s_addr);
        rtnl_link_ipgre_set_remote(link, l->remote.u.v4.s_addr);
        if (underlay)
            rtnl_link_ipgre_set_link(link, underlay);
        /* libnl <= 3.11 only sends OFLAGS when IFLAGS (or LINK) is set too: always set both. */
        rtnl_link_ipgre_set_iflags(link, ifl);
        rtnl_link_ipgre_set_oflags(link, ofl);
        if (l->has_ikey)
            rtnl_link_ipgre_set_ikey(link, htonl(l->ikey));
        if (l->has_okey)
            rtnl_link_ipgre_set_okey(link, htonl(l->okey));
        rtnl_link_ipgre_set_ttl(link, l->ttl);
        /* Bit 0 of the TOS means "inherit", as `ip link ... tos inherit` sends it. */
        rtnl_link_ipgre_set_tos(link, l->tos == GRE_TOS_INHERIT ? 1 : (guint8)l->tos);
        rtnl_link_ipgre_set_pmtudisc(link, l->pmtudisc ? 1 : 0);
    } else {
        struct in6_addr local  = l->local.u.v6;
        struct in6_addr remote = l->remote.u.v6;
        guint32         flags  = 0;

        rtnl_link_ip6gre_set_local(link, &local);
        rtnl_link_ip6gre_set_remote(link, &remote);
        if (underlay)
            rtnl_link_ip6gre_set_link(link, underlay);
        rtnl_link_ip6gre_set_iflags(link, ifl);
        rtnl_link_ip6gre_set_oflags(link, ofl);
        if (l->has_ikey)
            rtnl_link_ip6gre_set_ikey(link, htonl(l->ikey));
        if (l->has_okey)
            rtnl_link_ip6gre_set_okey(link, htonl(l->okey));
        rtnl_link_ip6gre_set_ttl(link, l->ttl); /* hop limit; 0 = inherit */
        if (l->encaplimit == GRE_ENCAPLIMIT_NONE)
            flags |= IP6_TNL_F_IGN_ENCAP_LIMIT;
        else
            rtnl_link_ip6gre_set_encaplimit(link, (guint8)l->encaplimit);
        if (l->tos == GRE_TOS_INHERIT)
            flags |= IP6_TNL_F_USE_ORIG_TCLASS;
        else
            rtnl_link_ip6gre_set_flowinfo(link, htonl((guint32)l->tos << 20));
        rtnl_link_ip6gre_set_flags(link, flags);
    }
    return link;
}

static struct nl_msg *
addr_msg(int cmd, int flags, const GrePlanAddr *a, int ifindex)
{
    /* Raw, because libnl 3.7 refuses an IPv6 peer address (rtnl_addr_set_peer is IPv4-only). */
    struct ifaddrmsg ifa  = { 0 };
    struct nl_msg   *msg  = nlmsg_alloc_simple(cmd, flags);
    int              len  = a->local.family == AF_INET ? 4 : 16;
    const GreAddr   *peer = a->peer.family != AF_UNSPEC ? &a->peer : &a->local;

    ifa.ifa_family    = a->local.family;
    ifa.ifa_prefixlen = a->plen;
    ifa.ifa_scope     = RT_SCOPE_UNIVERSE;
    ifa.ifa_index     = ifindex;
    /* A point-to-point tunnel has nobody to detect a duplicate with, and a tentative address
     * cannot be the source of the routes added right after it ("Invalid source address"). */
    if (a->local.family == AF_INET6 && cmd == RTM_NEWADDR)
        ifa.ifa_flags = IFA_F_NODAD;
    if (!msg || nlmsg_append(msg, &ifa, sizeof ifa, NLMSG_ALIGNTO) < 0 ||
        nla_put(msg, IFA_LOCAL, len, &a->local.u) < 0 ||
        nla_put(msg, IFA_ADDRESS, len, &peer->u) < 0) {
        nlmsg_free(msg);
        return NULL;
    }
    return msg;
}

static struct nl_msg *
link_updown_msg(int ifindex, gboolean up)
{
    struct ifinfomsg ifi = { 0 };
    struct nl_msg   *msg = nlmsg_alloc_simple(RTM_NEWLINK, 0);

    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index  = ifindex;
    ifi.ifi_flags  = up ? IFF_UP : 0;
    ifi.ifi_change = IFF_UP;
    if (!msg || nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0) {
        nlmsg_free(msg);
        return NULL;
    }
    return msg;
}

/* ---- create / remove one step ---- */

static int
device_index(Kernel *k, const char *dev, char **why)
{
    int ifindex = gre_nl_ifindex(k->rt, dev);

    if (!ifindex)
        *why = g_strdup_printf(_("device %s does not exist"), dev);
    return ifindex;
}

/* Returns 0, or a negative libnl error with *why possibly set to a better text. */
static int
create_step(Kernel *k, const GrePlanStep *step, GreNl **used, char **why)
{
    int ifindex = 0;
    int err;

    *used = k->rt;
    switch (step->kind) {
    case GRE_STEP_XFRM_STATE: {
        const GrePlanState *st      = &step->state;
        g_autoptr(XfrmSa) sa        = state_id_object(st);
        g_autoptr(NlAddr) src       = to_nl(&st->src, -1);
        g_autoptr(XfrmLifetime) lft = lifetime_unlimited();
        gsize       elen, alen;
        const char *ekey = g_bytes_get_data(st->enc_key, &elen);

        *used = k->xfrm;
        xfrmnl_sa_set_saddr(sa, src);
        xfrmnl_sa_set_family(sa, st->src.family);
        xfrmnl_sa_set_mode(sa, XFRM_MODE_TRANSPORT);
        xfrmnl_sa_set_reqid(sa, st->reqid);
        xfrmnl_sa_set_lifetime_cfg(sa, lft);
        /* Replay window 0, as `ip xfrm state add` makes it: with manual keys a peer that
         * restarts begins again at sequence number 1, which a replay window would drop. */
        if (st->suite->aead) {
            err = xfrmnl_sa_set_aead_params(sa, st->suite->aead, elen * 8, st->suite->icv_len * 8,
                                            ekey);
        } else {
            const char *akey = g_bytes_get_data(st->auth_key, &alen);

            err = xfrmnl_sa_set_crypto_params(sa, st->suite->enc, elen * 8, ekey);
            /* A truncation length is always sent: without it the kernel would use 96 bits
             * for hmac(sha256) instead of RFC 4868's 128. */
            if (err >= 0)
                err = xfrmnl_sa_set_auth_params(sa, st->suite->auth, alen * 8,
                                                st->suite->icv_len * 8, akey);
        }
        if (err < 0)
            return -NLE_NOMEM;
        return xfrmnl_sa_add(gre_nl_begin(k->xfrm), sa, NLM_F_CREATE | NLM_F_EXCL);
    }
    case GRE_STEP_XFRM_POLICY: {
        g_autoptr(XfrmSp) sp = policy_object(&step->policy, TRUE);

        *used = k->xfrm;
        /* XFRM_MSG_NEWPOLICY fails with EEXIST when a policy with this selector exists. */
        return xfrmnl_sp_add(gre_nl_begin(k->xfrm), sp, NLM_F_CREATE | NLM_F_EXCL);
    }
    case GRE_STEP_ROUTE: {
        g_autoptr(RtnlRoute) route = NULL;

        if (!(ifindex = device_index(k, step->route.dev, why)))
            return -NLE_NODEV;
        route = route_object(&step->route, ifindex);
        return rtnl_route_add(gre_nl_begin(k->rt), route, NLM_F_EXCL);
    }
    case GRE_STEP_LINK: {
        g_autoptr(RtnlLink) link = NULL;

        if (step->link.underlay[0] && !(ifindex = device_index(k, step->link.underlay, why)))
            return -NLE_NODEV;
        link = link_object(&step->link, ifindex);
        return rtnl_link_add(gre_nl_begin(k->rt), link, NLM_F_CREATE | NLM_F_EXCL);
    }
    case GRE_STEP_ADDR: {
        struct nl_msg *msg;

        if (!(ifindex = device_index(k, step->addr.dev, why)))
            return -NLE_NODEV;
        if (!(msg = addr_msg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &step->addr, ifindex)))
            return -NLE_NOMEM;
        return gre_nl_request(k->rt, msg);
    }
    case GRE_STEP_LINK_UP: {
        struct nl_msg *msg;

        if (!(ifindex = device_index(k, step->up_dev, why)))
            return -NLE_NODEV;
        if (!(msg = link_updown_msg(ifindex, TRUE)))
            return -NLE_NOMEM;
        return gre_nl_request(k->rt, msg);
    }
    }
    return -NLE_INVAL;
}

/* Whether the kernel's last error says the object was not there (any more). */
static gboolean
gone(GreNl *nl)
{
    switch (gre_nl_errno(nl)) {
    case ESRCH:         /* xfrm state, route */
    case ENOENT:        /* xfrm policy */
    case ENODEV:        /* link */
    case EADDRNOTAVAIL: /* address */
        return TRUE;
    default:
        return FALSE;
    }
}

/* Removes an object known to be ours (created by this call, or matched against the record).
 * Returns 0, or a negative libnl error; an object that is already gone counts as removed. */
static int
remove_step(Kernel *k, const GrePlanStep *step, GreNl **used)
{
    int ifindex;
    int err;

    *used = k->rt;
    switch (step->kind) {
    case GRE_STEP_XFRM_STATE: {
        g_autoptr(XfrmSa) sa = state_id_object(&step->state);

        *used = k->xfrm;
        err   = xfrmnl_sa_delete(gre_nl_begin(k->xfrm), sa, 0);
        break;
    }
    case GRE_STEP_XFRM_POLICY: {
        g_autoptr(XfrmSp) sp = policy_object(&step->policy, FALSE);

        *used = k->xfrm;
        err   = xfrmnl_sp_delete(gre_nl_begin(k->xfrm), sp, 0);
        break;
    }
    case GRE_STEP_ROUTE: {
        g_autoptr(RtnlRoute) route = NULL;

        if (!(ifindex = gre_nl_ifindex(k->rt, step->route.dev)))
            return 0; /* its device is gone, and the route with it */
        route = route_object(&step->route, ifindex);
        err   = rtnl_route_delete(gre_nl_begin(k->rt), route, 0);
        break;
    }
    case GRE_STEP_LINK: {
        g_autoptr(RtnlLink) link = rtnl_link_alloc();

        if (!(ifindex = gre_nl_ifindex(k->rt, step->link.name)))
            return 0;
        rtnl_link_set_ifindex(link, ifindex);
        err = rtnl_link_delete(gre_nl_begin(k->rt), link);
        break;
    }
    case GRE_STEP_ADDR: {
        struct nl_msg *msg;

        if (!(ifindex = gre_nl_ifindex(k->rt, step->addr.dev)))
            return 0;
        if (!(msg = addr_msg(RTM_DELADDR, 0, &step->addr, ifindex)))
            return -NLE_NOMEM;
        err = gre_nl_request(k->rt, msg);
        break;
    }
    case GRE_STEP_LINK_UP: {
        struct nl_msg *msg;

        if (!(ifindex = gre_nl_ifindex(k->rt, step->up_dev)))
            return 0;
        if (!(msg = link_updown_msg(ifindex, FALSE)))
            return -NLE_NOMEM;
        err = gre_nl_request(k->rt, msg);
        break;
    }
    default:
        return -NLE_INVAL;
    }
    return err < 0 && gone(*used) ? 0 : err;
}

/* ---- comparing the kernel with the record ---- */

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

static void
probe_clear(Probe *p)
{
    g_clear_pointer(&p->why, g_free);
    g_clear_pointer(&p->drift, g_free);
}

static ObjState foreign(Probe *p, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static ObjState
foreign(Probe *p, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    p->why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return p->state = OBJ_FOREIGN;
}

static ObjState
failed(Probe *p, GreNl *nl, int err)
{
    p->why          = gre_nl_error_text(nl, err);
    return p->state = OBJ_ERROR;
}

static const char *
sa_alg(XfrmSa *sa, char *buf)
{
    /* The ESP algorithm a state uses: the AEAD, else the cipher. */
    buf[0] = '\0';
    if (xfrmnl_sa_get_aead_params(sa, buf, NULL, NULL, NULL) < 0 || !buf[0])
        xfrmnl_sa_get_crypto_params(sa, buf, NULL, NULL);
    return buf;
}

static ObjState
probe_state(Kernel *k, const GrePlanState *st, Probe *p)
{
    g_autoptr(NlAddr) dst = to_nl(&st->dst, -1);
    g_autoptr(XfrmSa) sa  = NULL;
    char        alg[128];
    const char *want = st->suite ? (st->suite->aead ? st->suite->aead : st->suite->enc) : "";
    int         err;

    err = xfrmnl_sa_get_kernel(gre_nl_begin(k->xfrm), dst, st->spi, IPPROTO_ESP, 0, 0, &sa);
    if (err < 0 && gone(k->xfrm))
        return p->state = OBJ_ABSENT;
    if (err < 0)
        return failed(p, k->xfrm, err);
    if (!nl_addr_is(xfrmnl_sa_get_saddr(sa), &st->src))
        return foreign(p, _("its source address differs"));
    if (xfrmnl_sa_get_mode(sa) != XFRM_MODE_TRANSPORT)
        return foreign(p, _("it is not in transport mode"));
    if ((guint32)xfrmnl_sa_get_reqid(sa) != st->reqid)
        return foreign(p, _("its reqid is %u, not %u"), (guint)xfrmnl_sa_get_reqid(sa), st->reqid);
    if (!g_str_equal(sa_alg(sa, alg), want))
        return foreign(p, _("it uses %s, not %s"), alg, want);
    return p->state = OBJ_PRESENT;
}

static gboolean
selector_is(XfrmSel *sel, const GrePlanPolicy *want)
{
    /* Exact, unlike xfrmnl_sel_cmp(), which compares addresses only up to the shorter prefix
     * and takes protocol 0 as a wildcard. */
    int   plen  = gre_addr_max_plen(want->src.family);
    guint sport = want->has_grekey ? want->grekey >> 16 : 0;
    guint dport = want->has_grekey ? want->grekey & 0xffff : 0;
    guint mask  = want->has_grekey ? 0xffff : 0;

    return sel && xfrmnl_sel_get_family(sel) == want->src.family &&
           xfrmnl_sel_get_prefixlen_s(sel) == plen && xfrmnl_sel_get_prefixlen_d(sel) == plen &&
           nl_addr_is(xfrmnl_sel_get_saddr(sel), &want->src) &&
           nl_addr_is(xfrmnl_sel_get_daddr(sel), &want->dst) &&
           xfrmnl_sel_get_proto(sel) == IPPROTO_GRE && (guint)xfrmnl_sel_get_sport(sel) == sport &&
           (guint)xfrmnl_sel_get_sportmask(sel) == mask &&
           (guint)xfrmnl_sel_get_dport(sel) == dport &&
           (guint)xfrmnl_sel_get_dportmask(sel) == mask && xfrmnl_sel_get_ifindex(sel) == 0 &&
           xfrmnl_sel_get_userid(sel) == 0;
}

/* The policy with @pol's selector and direction (and no mark), asked of the kernel by selector:
 * XFRM_MSG_GETPOLICY with index 0 is answered from the kernel's policy hash tables, so a probe
 * costs the same however many policies there are (a dump of all of them per probe made `down`
 * of n tunnels quadratic). GETPOLICY takes the same xfrm_userpolicy_id and attributes as
 * DELPOLICY (the kernel serves both in xfrm_get_policy()), so the request is libnl's removal
 * request retyped: it names the policy exactly as remove_step() does. */
static int
on_policy(struct nl_msg *msg, void *arg)
{
    XfrmSp **sp = arg;

    if (!*sp && nlmsg_hdr(msg)->nlmsg_type == XFRM_MSG_NEWPOLICY &&
        xfrmnl_sp_parse(nlmsg_hdr(msg), sp) < 0)
        *sp = NULL;
    return NL_OK;
}

static int
policy_get(Kernel *k, const GrePlanPolicy *pol, XfrmSp **out)
{
    g_autoptr(XfrmSp) want = policy_object(pol, FALSE);
    struct nl_msg *msg     = NULL;
    XfrmSp        *sp      = NULL;
    int            err;

    if ((err = xfrmnl_sp_build_delete_request(want, 0, &msg)) < 0)
        return err;
    nlmsg_hdr(msg)->nlmsg_type = XFRM_MSG_GETPOLICY;
    err                        = gre_nl_transact(k->xfrm, msg, on_policy, &sp);
    if (err >= 0 && !sp)
        err = -NLE_PARSE_ERR;
    if (err < 0) {
        if (sp)
            xfrmnl_sp_put(sp);
        return err;
    }
    *out = sp;
    return 0;
}

static ObjState
probe_policy(Kernel *k, const GrePlanPolicy *pol, Probe *p)
{
    g_autoptr(XfrmSp) sp = NULL;
    struct xfrmnl_user_tmpl *t;
    guint                    dir = pol->dir == GRE_DIR_OUT ? XFRM_POLICY_OUT : XFRM_POLICY_IN;
    int                      err = policy_get(k, pol, &sp);

    if (err < 0 && gone(k->xfrm))
        return p->state = OBJ_ABSENT;
    if (err < 0)
        return failed(p, k->xfrm, err);
    if ((guint)xfrmnl_sp_get_dir(sp) != dir || !selector_is(xfrmnl_sp_get_sel(sp), pol))
        return foreign(p, _("the kernel answered with another selector"));
    if ((guint32)xfrmnl_sp_get_priority(sp) != pol->priority)
        return foreign(p, _("its priority is %d"), xfrmnl_sp_get_priority(sp));
    if (xfrmnl_sp_get_action(sp) != XFRM_POLICY_ALLOW || xfrmnl_sp_get_nusertemplates(sp) != 1)
        return foreign(p, _("its action or templates differ"));
    t = xfrmnl_sp_usertemplate_n(sp, 0);
    if (xfrmnl_user_tmpl_get_proto(t) != IPPROTO_ESP ||
        xfrmnl_user_tmpl_get_mode(t) != XFRM_MODE_TRANSPORT ||
        (guint32)xfrmnl_user_tmpl_get_reqid(t) != pol->reqid ||
        !nl_addr_is(xfrmnl_user_tmpl_get_saddr(t), &pol->src) ||
        !nl_addr_is(xfrmnl_user_tmpl_get_daddr(t), &pol->dst))
        return foreign(p, _("its template is not ESP transport reqid %u"), pol->reqid);
    return p->state = OBJ_PRESENT;
}

static ObjState
probe_route(Kernel *k, const GrePlanRoute *r, Probe *p)
{
    g_autoptr(NlCache) cache = NULL;
    int ifindex              = gre_nl_ifindex(k->rt, r->dev);
    int err;

    if (!ifindex)
        return p->state = OBJ_ABSENT;
    err = rtnl_route_alloc_cache(gre_nl_begin(k->rt), r->dst.addr.family, 0, &cache);
    if (err < 0)
        return failed(p, k->rt, err);
    for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
        RtnlRoute           *route = (RtnlRoute *)o;
        NlAddr              *dst   = rtnl_route_get_dst(route);
        GreAddr              d     = from_nl(dst);
        struct rtnl_nexthop *nh;

        /* The kernel's identity of a route: table, destination, (tos,) metric. */
        if (rtnl_route_get_table(route) != RT_TABLE_MAIN ||
            nl_addr_get_prefixlen(dst) != r->dst.plen ||
            rtnl_route_get_priority(route) != route_metric(r) || rtnl_route_get_tos(route) != 0)
            continue;
        if (d.family == AF_UNSPEC || (r->dst.plen && !gre_addr_equal(&d, &r->dst.addr)))
            continue;
        nh = rtnl_route_get_nnexthops(route) == 1 ? rtnl_route_nexthop_n(route, 0) : NULL;
        if (!nh || rtnl_route_nh_get_ifindex(nh) != ifindex)
            continue; /* IPv6 keeps routes that differ in the device apart */
        if (rtnl_route_get_protocol(route) != RTPROT_STATIC)
            return foreign(p, _("it was not added by gre-tunnel (protocol %u)"),
                           rtnl_route_get_protocol(route));
        if (r->gateway.family != AF_UNSPEC ? !nl_addr_is(rtnl_route_nh_get_gateway(nh), &r->gateway)
                                           : rtnl_route_nh_get_gateway(nh) != NULL)
            return foreign(p, _("its gateway differs"));
        return p->state = OBJ_PRESENT;
    }
    return p->state = OBJ_ABSENT;
}

static ObjState
probe_link(Kernel *k, const GrePlanLink *l, Probe *p, RtnlLink **out)
{
    g_autoptr(RtnlLink) link = NULL;
    const char *kind;
    GreAddr     local = { 0 }, remote = { 0 };
    guint16     ifl = 0, ofl = 0;
    guint32     ikey = 0, okey = 0;
    guint8      ttl = 0;
    int         err;

    err = rtnl_link_get_kernel(gre_nl_begin(k->rt), 0, l->name, &link);
    /* rtnl_link_get_kernel() installs its own error handler: only libnl's code is left. */
    if (err == -NLE_NODEV || (err < 0 && gone(k->rt)))
        return p->state = OBJ_ABSENT;
    if (err < 0)
        return failed(p, k->rt, err);
    kind = rtnl_link_get_type(link);
    if (g_strcmp0(kind, l->ip6 ? "ip6gre" : "gre") != 0)
        return foreign(p, _("%s is of kind %s, not %s"), l->name, kind ? kind : "none",
                       l->ip6 ? "ip6gre" : "gre");
    if (!l->ip6) {
        local.family = remote.family = AF_INET;
        local.u.v4.s_addr            = rtnl_link_ipgre_get_local(link);
        remote.u.v4.s_addr           = rtnl_link_ipgre_get_remote(link);
        ifl                          = rtnl_link_ipgre_get_iflags(link);
        ofl                          = rtnl_link_ipgre_get_oflags(link);
        ikey                         = ntohl(rtnl_link_ipgre_get_ikey(link));
        okey                         = ntohl(rtnl_link_ipgre_get_okey(link));
        ttl                          = rtnl_link_ipgre_get_ttl(link);
    } else {
        local.family = remote.family = AF_INET6;
        rtnl_link_ip6gre_get_local(link, &local.u.v6);
        rtnl_link_ip6gre_get_remote(link, &remote.u.v6);
        rtnl_link_ip6gre_get_iflags(link, &ifl);
        rtnl_link_ip6gre_get_oflags(link, &ofl);
        rtnl_link_ip6gre_get_ikey(link, &ikey);
        rtnl_link_ip6gre_get_okey(link, &okey);
        ikey = ntohl(ikey);
        okey = ntohl(okey);
        rtnl_link_ip6gre_get_ttl(link, &ttl);
    }
    if (!gre_addr_equal(&local, &l->local) || !gre_addr_equal(&remote, &l->remote))
        return foreign(p, _("%s connects other endpoints"), l->name);
    if (!!(ifl & GRE_KEY) != l->has_ikey || !!(ofl & GRE_KEY) != l->has_okey ||
        (l->has_ikey && ikey != l->ikey) || (l->has_okey && okey != l->okey))
        return foreign(p, _("%s has other GRE keys"), l->name);

    if (rtnl_link_get_mtu(link) != l->mtu || ttl != l->ttl)
        p->drift = g_strdup_printf(_("%s has mtu %u ttl %u, planned mtu %u ttl %u"), l->name,
                                   rtnl_link_get_mtu(link), ttl, l->mtu, l->ttl);
    if (out)
        *out = g_steal_pointer(&link);
    return p->state = OBJ_PRESENT;
}

static ObjState
probe_addr(Kernel *k, const GrePlanAddr *a, Probe *p)
{
    g_autoptr(NlCache) cache = NULL;
    int ifindex              = gre_nl_ifindex(k->rt, a->dev);
    int err;

    if (!ifindex)
        return p->state = OBJ_ABSENT;
    err = rtnl_addr_alloc_cache(gre_nl_begin(k->rt), &cache);
    if (err < 0)
        return failed(p, k->rt, err);
    for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
        struct rtnl_addr *addr = (struct rtnl_addr *)o;

        if (rtnl_addr_get_ifindex(addr) == ifindex &&
            rtnl_addr_get_family(addr) == a->local.family &&
            rtnl_addr_get_prefixlen(addr) == a->plen &&
            nl_addr_is(rtnl_addr_get_local(addr), &a->local))
            return p->state = OBJ_PRESENT;
    }
    return p->state = OBJ_ABSENT;
}

static ObjState
probe_step(Kernel *k, const GrePlanStep *step, Probe *p)
{
    *p = (Probe){ 0 };
    switch (step->kind) {
    case GRE_STEP_XFRM_STATE:
        return probe_state(k, &step->state, p);
    case GRE_STEP_XFRM_POLICY:
        return probe_policy(k, &step->policy, p);
    case GRE_STEP_ROUTE:
        return probe_route(k, &step->route, p);
    case GRE_STEP_LINK:
        return probe_link(k, &step->link, p, NULL);
    case GRE_STEP_ADDR:
        return probe_addr(k, &step->addr, p);
    case GRE_STEP_LINK_UP: {
        g_autoptr(RtnlLink) link = NULL;
        int err = rtnl_link_get_kernel(gre_nl_begin(k->rt), 0, step->up_dev, &link);

        if (err < 0)
            return p->state = OBJ_ABSENT;
        return p->state = (rtnl_link_get_flags(link) & IFF_UP) ? OBJ_PRESENT : OBJ_ABSENT;
    }
    }
    return p->state = OBJ_ABSENT;
}

/* Objects on a link of the record go with the link: the kernel removes a device's addresses
 * and routes with it. */
static gboolean
goes_with_link(const GArray *steps, const GrePlanStep *step)
{
    const char *dev = step->kind == GRE_STEP_ADDR      ? step->addr.dev
                      : step->kind == GRE_STEP_LINK_UP ? step->up_dev
                      : step->kind == GRE_STEP_ROUTE   ? step->route.dev
                                                       : NULL;

    for (guint i = 0; dev && i < steps->len; i++) {
        const GrePlanStep *s = &g_array_index(steps, GrePlanStep, i);

        if (s->kind == GRE_STEP_LINK && g_str_equal(s->link.name, dev))
            return TRUE;
    }
    return FALSE;
}

/* Removes what @rec lists and the kernel still has as recorded. */
static gboolean
remove_recorded(Kernel *k, const GreStateRecord *rec, GError **error)
{
    g_autoptr(GString) failures = g_string_new(NULL);

    if (!kernel_open(k, has_xfrm(rec->steps), error))
        return FALSE;
    for (guint i = rec->steps->len; i-- > 0;) {
        const GrePlanStep *step = &g_array_index(rec->steps, GrePlanStep, i);
        g_autofree char   *what = NULL;
        Probe              p    = { 0 };
        GreNl             *nl;
        int                err;

        if (goes_with_link(rec->steps, step))
            continue;
        what = describe(step);
        switch (probe_step(k, step, &p)) {
        case OBJ_ABSENT:
            break;
        case OBJ_FOREIGN:
            note(k, _("left alone: %s: %s, so it is not the one gre-tunnel created"), what, p.why);
            break;
        case OBJ_ERROR:
            g_string_append_printf(failures, "%s%s: %s", failures->len ? "; " : "", what, p.why);
            break;
        case OBJ_PRESENT:
            err = remove_step(k, step, &nl);
            if (err < 0) {
                g_autofree char *why = gre_nl_error_text(nl, err);

                /* TRANSLATORS: the first %s is "; " or nothing, then the object and the reason */
                g_string_append_printf(failures, _("%sremoving %s: %s"), failures->len ? "; " : "",
                                       what, why);
            } else if (k->report)
                k->report->removed++;
            break;
        }
        probe_clear(&p);
    }
    if (failures->len) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_KERNEL,
                    _("%s: %s (the record is kept, so that `down` can try again)"), rec->name,
                    failures->str);
        return FALSE;
    }
    return TRUE;
}

/* Whether every object of @rec is in the kernel as recorded; if not, *why says what is not. */
static gboolean
all_present(Kernel *k, const GreStateRecord *rec, char **why)
{
    if (!kernel_open(k, has_xfrm(rec->steps), NULL)) {
        *why = g_strdup(_("the kernel cannot be asked"));
        return FALSE;
    }
    for (guint i = 0; i < rec->steps->len; i++) {
        const GrePlanStep *step = &g_array_index(rec->steps, GrePlanStep, i);
        g_autofree char   *what = describe(step);
        Probe              p    = { 0 };
        ObjState           st   = probe_step(k, step, &p);

        if (st != OBJ_PRESENT || p.drift) {
            *why = g_strdup_printf("%s %s", what,
                                   st == OBJ_ABSENT    ? _("is missing")
                                   : st == OBJ_PRESENT ? p.drift
                                                       : p.why);
            probe_clear(&p);
            return FALSE;
        }
        probe_clear(&p);
    }
    return TRUE;
}

/* ---- up ---- */

static int
fault_step(void)
{
    const char *v = g_getenv("GRE_TUNNEL_FAULT_STEP");
    guint64     n;

    if (v && g_ascii_string_to_unsigned(v, 10, 0, G_MAXINT, &n, NULL))
        return (int)n;
    return -1;
}

static void
note_changes(Kernel *k, const GreStateRecord *old, const GreStateRecord *new)
{
    for (guint i = 0; i < old->lines->len; i++) {
        if (!g_ptr_array_find_with_equal_func(new->lines, old->lines->pdata[i], g_str_equal, NULL))
            note(k, _("was: %s"), (const char *)old->lines->pdata[i]);
    }
    for (guint i = 0; i < new->lines->len; i++) {
        if (!g_ptr_array_find_with_equal_func(old->lines, new->lines->pdata[i], g_str_equal, NULL))
            note(k, _("now: %s"), (const char *)new->lines->pdata[i]);
    }
    if (!g_str_equal(old->secrets, new->secrets))
        note(k, _("the IPsec keys changed"));
}

static gboolean
same_record(const GreStateRecord *a, const GreStateRecord *b)
{
    if (a->lines->len != b->lines->len || !g_str_equal(a->secrets, b->secrets))
        return FALSE;
    for (guint i = 0; i < a->lines->len; i++) {
        if (!g_str_equal(a->lines->pdata[i], b->lines->pdata[i]))
            return FALSE;
    }
    return TRUE;
}

static gboolean
up_locked(Kernel *k, const GrePlan *plan, GError **error)
{
    g_autoptr(GreStateRecord) want   = gre_state_record_from_plan(plan);
    g_autoptr(GreStateRecord) old    = NULL;
    g_autoptr(GString) undo_failures = NULL;
    g_autoptr(GError) err            = NULL;
    g_autofree char *failure         = NULL;
    int              fault           = fault_step();
    guint            done;

    old = gre_state_read(plan->name, &err);
    if (err) {
        g_propagate_error(error, g_steal_pointer(&err));
        return FALSE;
    }
    if (old) {
        g_autofree char *why = NULL;

        if (same_record(old, want)) {
            if (all_present(k, old, &why)) {
                k->report->unchanged = TRUE;
                note(k, _("%s is already up as planned; nothing was changed"), plan->name);
                return TRUE;
            }
            note(k,
                 _("%s was incomplete (%s): an interrupted `up`, or changed by hand; "
                   "recreating it"),
                 plan->name, why);
        } else {
            note(k, _("the settings of %s changed; recreating it"), plan->name);
            note_changes(k, old, want);
        }
        if (!remove_recorded(k, old, error)) {
            g_prefix_error(error, _("cannot remove the previous instance of "));
            return FALSE;
        }
        if (!gre_state_delete(plan->name, error))
            return FALSE;
        k->report->recreated = TRUE;
    }

    if (!kernel_open(k, has_xfrm(plan->steps), error))
        return FALSE;
    /* Written before the first change: if this process dies half-way, the record still says
     * what may be left over, and the next `up` or `down` removes it. */
    if (!gre_state_write(want, error))
        return FALSE;

    for (done = 0; done < plan->steps->len; done++) {
        const GrePlanStep *step = &g_array_index(plan->steps, GrePlanStep, done);
        g_autofree char   *why  = NULL;
        GreNl             *nl;
        int                rc;

        if ((int)done == fault) {
            failure = g_strdup_printf(_("fault injected at step %u"), done);
            break;
        }
        rc = create_step(k, step, &nl, &why);
        if (rc < 0) {
            g_autofree char *cmd = gre_plan_step_render(step, FALSE);

            if (!why)
                why = gre_nl_error_text(nl, rc);
            failure = g_strdup_printf(_("creating \"%s\": %s"), cmd, why);
            break;
        }
        k->report->created++;
    }
    if (!failure)
        return TRUE;

    /* Roll back exactly what this call created, newest first. */
    undo_failures = g_string_new(NULL);
    while (done-- > 0) {
        const GrePlanStep *step = &g_array_index(plan->steps, GrePlanStep, done);
        GreNl             *nl;
        int                rc = remove_step(k, step, &nl);

        if (rc < 0) {
            g_autofree char *what = describe(step);
            g_autofree char *why  = gre_nl_error_text(nl, rc);

            g_string_append_printf(undo_failures, "%s%s: %s", undo_failures->len ? "; " : "", what,
                                   why);
        } else
            k->report->created--;
    }
    if (undo_failures->len) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_KERNEL,
                    _("%s; undoing it also failed (%s): run `down %s` to remove what is left"),
                    failure, undo_failures->str, plan->name);
        return FALSE;
    }
    gre_state_delete(plan->name, NULL);
    g_set_error(error, GRE_ERROR, GRE_ERROR_KERNEL, "%s%s", failure,
                k->report->recreated ? _(" (the previous instance had been removed already)") : "");
    return FALSE;
}

gboolean
gre_apply_up(const GrePlan *plan, GreApplyReport *report_or_null, GError **error)
{
    GreApplyReport local_report = { 0 };
    Kernel         k            = { NULL, NULL, report_or_null ? report_or_null : &local_report };
    int            lock;
    gboolean       ok;

    g_return_val_if_fail(plan && plan->steps, FALSE);
    lock = gre_state_lock(plan->name, error);
    if (lock < 0)
        return FALSE;
    ok = up_locked(&k, plan, error);
    kernel_clear(&k);
    close(lock);
    gre_apply_report_clear(&local_report);
    return ok;
}

/* ---- down ---- */

gboolean
gre_apply_down_full(const char *name, GreApplyReport *report_or_null, GError **error)
{
    g_autoptr(GreStateRecord) rec = NULL;
    g_autoptr(GError) err         = NULL;
    Kernel   k                    = { NULL, NULL, report_or_null };
    int      lock;
    gboolean ok = FALSE;

    lock = gre_state_lock(name, error);
    if (lock < 0)
        return FALSE;
    rec = gre_state_read(name, &err);
    if (err)
        g_propagate_error(error, g_steal_pointer(&err));
    else if (!rec) {
        note(&k, _("%s has no ownership record: nothing to remove"), name);
        ok = TRUE;
    } else
        ok = remove_recorded(&k, rec, error) && gre_state_delete(name, error);
    kernel_clear(&k);
    close(lock);
    return ok;
}

gboolean
gre_apply_down(const char *name, GError **error)
{
    g_auto(GreApplyReport) report = { 0 };

    if (!gre_apply_down_full(name, &report, error))
        return FALSE;
    for (guint i = 0; report.notes && i < report.notes->len; i++)
        g_message("%s", (const char *)report.notes->pdata[i]);
    return TRUE;
}

/* ---- status ---- */

static void
status_link(Kernel *k, const GrePlanLink *l, GString *out)
{
    g_autoptr(RtnlLink) link = NULL;
    g_autofree char *local = NULL, *remote = NULL;
    Probe            p   = { 0 };
    guint16          ifl = 0, ofl = 0;
    guint32          ikey = 0, okey = 0;
    guint8           ttl = 0;

    if (probe_link(k, l, &p, &link) != OBJ_PRESENT) {
        g_string_append_printf(out, "  link %s: %s\n", l->name,
                               p.state == OBJ_ABSENT ? "missing" : p.why);
        probe_clear(&p);
        return;
    }
    probe_clear(&p);
    if (!l->ip6) {
        ifl  = rtnl_link_ipgre_get_iflags(link);
        ofl  = rtnl_link_ipgre_get_oflags(link);
        ikey = ntohl(rtnl_link_ipgre_get_ikey(link));
        okey = ntohl(rtnl_link_ipgre_get_okey(link));
        ttl  = rtnl_link_ipgre_get_ttl(link);
    } else {
        rtnl_link_ip6gre_get_iflags(link, &ifl);
        rtnl_link_ip6gre_get_oflags(link, &ofl);
        rtnl_link_ip6gre_get_ikey(link, &ikey);
        rtnl_link_ip6gre_get_okey(link, &okey);
        ikey = ntohl(ikey);
        okey = ntohl(okey);
        rtnl_link_ip6gre_get_ttl(link, &ttl);
    }
    local  = gre_addr_to_string(&l->local);
    remote = gre_addr_to_string(&l->remote);
    g_string_append_printf(out, "  link %s: %s, %s, local %s remote %s, mtu %u, ttl ", l->name,
                           rtnl_link_get_type(link),
                           (rtnl_link_get_flags(link) & IFF_UP) ? "up" : "DOWN", local, remote,
                           rtnl_link_get_mtu(link));
    if (ttl)
        g_string_append_printf(out, "%u", ttl);
    else
        g_string_append(out, "inherit");
    if (ifl & GRE_KEY)
        g_string_append_printf(out, ", ikey %u", ikey);
    if (ofl & GRE_KEY)
        g_string_append_printf(out, ", okey %u", okey);
    if ((ifl | ofl) & GRE_SEQ)
        g_string_append(out, ", seq");
    if ((ifl | ofl) & GRE_CSUM)
        g_string_append(out, ", csum");
    if (!l->ip6)
        g_string_append_printf(out, ", pmtudisc %s",
                               rtnl_link_ipgre_get_pmtudisc(link) ? "on" : "off");
    g_string_append_c(out, '\n');
    if (!ttl)
        g_string_append(out, _("  warning: TTL inherit: the tunnel is translucent; traceroute "
                               "across it and TTL-expired messages will misbehave (set TTL=64)\n"));
}

static void
status_addresses(Kernel *k, const char *dev, GString *out)
{
    g_autoptr(NlCache) cache = NULL;
    int ifindex              = gre_nl_ifindex(k->rt, dev);

    if (!ifindex || rtnl_addr_alloc_cache(gre_nl_begin(k->rt), &cache) < 0)
        return;
    for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
        struct rtnl_addr *a = (struct rtnl_addr *)o;
        GreAddr           local, peer;
        g_autofree char  *ls = NULL, *ps = NULL;

        if (rtnl_addr_get_ifindex(a) != ifindex)
            continue;
        local = from_nl(rtnl_addr_get_local(a));
        peer  = from_nl(rtnl_addr_get_peer(a));
        ls    = gre_addr_to_string(&local);
        if (peer.family != AF_UNSPEC && !gre_addr_equal(&peer, &local)) {
            ps = gre_addr_to_string(&peer);
            g_string_append_printf(out, "  address %s peer %s/%d\n", ls, ps,
                                   rtnl_addr_get_prefixlen(a));
        } else
            g_string_append_printf(out, "  address %s/%d\n", ls, rtnl_addr_get_prefixlen(a));
    }
}

static void
status_state(Kernel *k, const GrePlanState *st, GString *out)
{
    g_autoptr(NlAddr) dst    = to_nl(&st->dst, -1);
    g_autoptr(XfrmSa) sa     = NULL;
    g_autofree char   *what  = NULL;
    GrePlanStep        step  = { .kind = GRE_STEP_XFRM_STATE, .state = *st };
    unsigned long long bytes = 0, packets = 0, add_time = 0, use_time = 0;
    unsigned long long window = 0, replay = 0, integrity = 0;
    char               alg[128];
    int                err;

    what = describe(&step);
    err  = xfrmnl_sa_get_kernel(gre_nl_begin(k->xfrm), dst, st->spi, IPPROTO_ESP, 0, 0, &sa);
    if (err < 0) {
        g_autofree char *why =
            gone(k->xfrm) ? g_strdup("missing") : gre_nl_error_text(k->xfrm, err);

        g_string_append_printf(out, "  %s: %s\n", what, why);
        return;
    }
    xfrmnl_sa_get_curlifetime(sa, &bytes, &packets, &add_time, &use_time);
    xfrmnl_sa_get_stats(sa, &window, &replay, &integrity);
    g_string_append_printf(out, "  %s (%s): %llu bytes, %llu packets, %llu integrity failures\n",
                           what, sa_alg(sa, alg), bytes, packets, integrity);
}

static void
status_one(Kernel *k, const GreStateRecord *rec, GString *out)
{
    g_string_append_printf(out, "%s:\n", rec->name);
    /* The link first: it is what a reader looks for. */
    for (guint i = 0; i < rec->steps->len; i++) {
        const GrePlanStep *step = &g_array_index(rec->steps, GrePlanStep, i);

        if (step->kind == GRE_STEP_LINK) {
            status_link(k, &step->link, out);
            status_addresses(k, step->link.name, out);
        }
    }
    for (guint i = 0; i < rec->steps->len; i++) {
        const GrePlanStep *step = &g_array_index(rec->steps, GrePlanStep, i);
        g_autofree char   *what = NULL;
        Probe              p    = { 0 };

        switch (step->kind) {
        case GRE_STEP_XFRM_STATE:
            status_state(k, &step->state, out);
            break;
        case GRE_STEP_XFRM_POLICY:
        case GRE_STEP_ROUTE:
            what = describe(step);
            probe_step(k, step, &p);
            g_string_append_printf(out, "  %s: %s\n", what,
                                   p.state == OBJ_PRESENT  ? "present"
                                   : p.state == OBJ_ABSENT ? "missing"
                                                           : p.why);
            probe_clear(&p);
            break;
        case GRE_STEP_LINK:
        case GRE_STEP_ADDR:
        case GRE_STEP_LINK_UP:
            break; /* shown with the link, as the kernel has them */
        }
    }
}

gboolean
gre_apply_status(const char *name_or_null, GString *out, GError **error)
{
    g_autoptr(GPtrArray) names = NULL;
    Kernel   k                 = { 0 };
    gboolean ok                = TRUE;

    if (name_or_null) {
        names = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(names, g_strdup(name_or_null));
    } else if (!(names = gre_state_list(error)))
        return FALSE;

    for (guint i = 0; ok && i < names->len; i++) {
        const char *name              = names->pdata[i];
        g_autoptr(GreStateRecord) rec = gre_state_read(name, error);

        if (!rec) {
            if (error && *error)
                ok = FALSE;
            else
                g_string_append_printf(out, _("%s: not up (no ownership record)\n"), name);
            continue;
        }
        if (!kernel_open(&k, has_xfrm(rec->steps), error)) {
            ok = FALSE;
            break;
        }
        status_one(&k, rec, out);
    }
    kernel_clear(&k);
    return ok;
}
