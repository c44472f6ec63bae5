/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-apply-private.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "gre-error.h"
#include "gre-i18n.h"

/* Plan steps as the kernel objects (libnl) and netlink messages that create and name them. */

/* ---- conversions ---- */

NlAddr *
apply_to_nl(const GreAddr *a, int plen)
{
    NlAddr *n = nl_addr_build(a->family, &a->u, a->family == AF_INET ? 4 : 16);

    if (n)
        nl_addr_set_prefixlen(n, plen >= 0 ? plen : (int)gre_addr_max_plen(a->family));
    return n;
}

GreAddr
apply_from_nl(NlAddr *n)
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

gboolean
apply_nl_addr_is(NlAddr *n, const GreAddr *a)
{
    GreAddr b = apply_from_nl(n);

    return gre_addr_equal(&b, a);
}

/* IPv6 routes added with metric 0 get the kernel's default; IPv4 routes keep 0. */
guint32
apply_route_metric(const GrePlanRoute *r)
{
    return r->metric == 0 && r->dst.addr.family == AF_INET6 ? 1024 : r->metric;
}

char *
apply_describe(const GrePlanStep *step)
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

        return g_strdup_printf("xfrm policy %s %s > %s proto gre%s%s",
                               step->policy.dir == GRE_DIR_OUT ? "out" : "in", src, dst, key,
                               !step->policy.block     ? ""
                               : step->policy.mark & 1 ? " block (odd marks)"
                                                       : " block (even marks)");
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
    case GRE_STEP_IKE_SHARED:
        return g_strdup_printf("IKE secret %s", step->ike_shared.name);
    case GRE_STEP_IKE_CONN:
        return g_strdup_printf("IKE connection %s", step->ike_conn.name);
    case GRE_STEP_IKE_CA:
        return g_strdup_printf("IKE CA %s (IKE_CACERT %s)", step->ike_cred.name,
                               step->ike_cred.file);
    case GRE_STEP_IKE_KEY:
        return g_strdup_printf("IKE private key (IKE_PRIVKEY %s)", step->ike_cred.file);
    }
    return g_strdup("?");
}

/* ---- building kernel objects ---- */

/* Byte and packet limits of 0 mean "expire at once" to the kernel, and libnl sends 0 unless a
 * lifetime is given: the first packet would kill the SA. No limits, as `ip xfrm` does. */
XfrmLifetime *
apply_lifetime_unlimited(void)
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
    g_autoptr(NlAddr) src = apply_to_nl(&p->src, -1);
    g_autoptr(NlAddr) dst = apply_to_nl(&p->dst, -1);
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

XfrmSp *
apply_policy_object(const GrePlanPolicy *p, gboolean with_template)
{
    XfrmSp *sp             = xfrmnl_sp_alloc();
    g_autoptr(XfrmSel) sel = policy_selector(p);

    xfrmnl_sp_set_sel(sp, sel);
    xfrmnl_sp_set_dir(sp, p->dir == GRE_DIR_OUT ? XFRM_POLICY_OUT : XFRM_POLICY_IN);
    /* Part of the policy's identity: sent with add, probe and delete alike. */
    if (p->mark_mask)
        xfrmnl_sp_set_mark(sp, p->mark, p->mark_mask);
    if (with_template && p->block) {
        g_autoptr(XfrmLifetime) lft = apply_lifetime_unlimited();

        xfrmnl_sp_set_action(sp, XFRM_POLICY_BLOCK);
        xfrmnl_sp_set_priority(sp, p->priority);
        xfrmnl_sp_set_lifetime_cfg(sp, lft);
    } else if (with_template) {
        struct xfrmnl_user_tmpl *t  = xfrmnl_user_tmpl_alloc();
        g_autoptr(NlAddr) src       = apply_to_nl(&p->src, -1);
        g_autoptr(NlAddr) dst       = apply_to_nl(&p->dst, -1);
        g_autoptr(XfrmLifetime) lft = apply_lifetime_unlimited();

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

XfrmSa *
apply_state_id_object(const GrePlanState *st)
{
    XfrmSa *sa            = xfrmnl_sa_alloc();
    g_autoptr(NlAddr) dst = apply_to_nl(&st->dst, -1);

    xfrmnl_sa_set_daddr(sa, dst);
    xfrmnl_sa_set_spi(sa, st->spi); /* host order: libnl converts */
    xfrmnl_sa_set_proto(sa, IPPROTO_ESP);
    return sa;
}

RtnlRoute *
apply_route_object(const GrePlanRoute *r, int ifindex)
{
    RtnlRoute           *route = rtnl_route_alloc();
    struct rtnl_nexthop *nh    = rtnl_route_nh_alloc();
    g_autoptr(NlAddr) dst      = apply_to_nl(&r->dst.addr, r->dst.plen);

    rtnl_route_set_family(route, r->dst.addr.family);
    rtnl_route_set_dst(route, dst);
    rtnl_route_set_table(route, RT_TABLE_MAIN);
    /* "static" rather than ip(8)'s "boot": a look-alike added by hand is not mistaken for ours. */
    rtnl_route_set_protocol(route, RTPROT_STATIC);
    rtnl_route_set_type(route, RTN_UNICAST);
    rtnl_route_set_priority(route, apply_route_metric(r));
    if (r->src.family != AF_UNSPEC) {
        g_autoptr(NlAddr) src = apply_to_nl(&r->src, -1);

        rtnl_route_set_pref_src(route, src);
    }
    rtnl_route_nh_set_ifindex(nh, ifindex);
    if (r->gateway.family != AF_UNSPEC) {
        g_autoptr(NlAddr) gw = apply_to_nl(&r->gateway, -1);

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

RtnlLink *
apply_link_object(const GrePlanLink *l, int underlay)
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

void
apply_link_tunnel(RtnlLink *link, gboolean ip6, LinkTunnel *t)
{
    memset(t, 0, sizeof *t);
    if (!ip6) {
        t->local.family = t->remote.family = AF_INET;
        t->local.u.v4.s_addr               = rtnl_link_ipgre_get_local(link);
        t->remote.u.v4.s_addr              = rtnl_link_ipgre_get_remote(link);
        t->iflags                          = rtnl_link_ipgre_get_iflags(link);
        t->oflags                          = rtnl_link_ipgre_get_oflags(link);
        t->ikey                            = ntohl(rtnl_link_ipgre_get_ikey(link));
        t->okey                            = ntohl(rtnl_link_ipgre_get_okey(link));
        t->ttl                             = rtnl_link_ipgre_get_ttl(link);
        return;
    }
    t->local.family = t->remote.family = AF_INET6;
    rtnl_link_ip6gre_get_local(link, &t->local.u.v6);
    rtnl_link_ip6gre_get_remote(link, &t->remote.u.v6);
    rtnl_link_ip6gre_get_iflags(link, &t->iflags);
    rtnl_link_ip6gre_get_oflags(link, &t->oflags);
    rtnl_link_ip6gre_get_ikey(link, &t->ikey);
    rtnl_link_ip6gre_get_okey(link, &t->okey);
    t->ikey = ntohl(t->ikey);
    t->okey = ntohl(t->okey);
    rtnl_link_ip6gre_get_ttl(link, &t->ttl);
}

struct nl_msg *
apply_addr_msg(int cmd, int flags, const GrePlanAddr *a, int ifindex)
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

struct nl_msg *
apply_link_updown_msg(int ifindex, gboolean up)
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
