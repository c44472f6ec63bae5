/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-apply-private.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "gre-error.h"
#include "gre-i18n.h"

/* Probes: whether an object of the record is in the kernel, and whether it is still the one we
 * created (a look-alike with the same identity is somebody else's and is never touched). */

void
apply_probe_clear(Probe *p)
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

ObjState
apply_failed(Probe *p, GreNl *nl, int err)
{
    p->why          = gre_nl_error_text(nl, err);
    return p->state = OBJ_ERROR;
}

/* Read with our own GETSA (the answer carries the keys; its buffer is wiped). */
static ObjState
probe_state(Kernel *k, const GrePlanState *st, Probe *p)
{
    SaInfo sa;
    int    err = apply_sa_get(k->xfrm, &st->dst, st->spi, &sa);

    if (err < 0 && apply_gone(k->xfrm))
        return p->state = OBJ_ABSENT;
    if (err < 0)
        return apply_failed(p, k->xfrm, err);
    return apply_judge_state(st, &sa, p);
}

/* The flag oseq-may-wrap is not part of the SA's identity: an SA without it (made before
 * gre-tunnel set it) is still ours and is removed by `down`, but counts as drift, so that `up`
 * recreates it. */
ObjState
apply_judge_state(const GrePlanState *st, const SaInfo *sa, Probe *p)
{
    const char *want = st->suite ? (st->suite->aead ? st->suite->aead : st->suite->enc) : "";
    gboolean    wraps;

    if (!gre_addr_equal(&sa->saddr, &st->src))
        return foreign(p, _("its source address differs"));
    if (sa->mode != XFRM_MODE_TRANSPORT)
        return foreign(p, _("it is not in transport mode"));
    if (sa->reqid != st->reqid)
        return foreign(p, _("its reqid is %u, not %u"), sa->reqid, st->reqid);
    if (!g_str_equal(sa->alg, want))
        return foreign(p, _("it uses %s, not %s"), sa->alg, want);
    wraps = !!(sa->extra_flags & XFRM_SA_XFLAG_OSEQ_MAY_WRAP);
    if (wraps != st->oseq_may_wrap)
        p->drift = g_strdup(wraps ? _("has the flag oseq-may-wrap, planned without it")
                                  : _("lacks the flag oseq-may-wrap"));
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
           apply_nl_addr_is(xfrmnl_sel_get_saddr(sel), &want->src) &&
           apply_nl_addr_is(xfrmnl_sel_get_daddr(sel), &want->dst) &&
           xfrmnl_sel_get_proto(sel) == IPPROTO_GRE && (guint)xfrmnl_sel_get_sport(sel) == sport &&
           (guint)xfrmnl_sel_get_sportmask(sel) == mask &&
           (guint)xfrmnl_sel_get_dport(sel) == dport &&
           (guint)xfrmnl_sel_get_dportmask(sel) == mask && xfrmnl_sel_get_ifindex(sel) == 0 &&
           xfrmnl_sel_get_userid(sel) == 0;
}

/* The policy with @pol's selector, direction and mark (if any), asked of the kernel by selector:
 * XFRM_MSG_GETPOLICY with index 0 is answered from the kernel's policy hash tables, so a probe
 * costs the same however many policies there are (a dump of all of them per probe made `down`
 * of n tunnels quadratic). GETPOLICY takes the same xfrm_userpolicy_id and attributes as
 * DELPOLICY (the kernel serves both in xfrm_get_policy()), so the request is libnl's removal
 * request retyped: it names the policy exactly as remove_step() does. */
/* libnl's xfrmnl_sp_parse() (3.7, and its sources since) keeps the reference of every address it
 * builds for the selector and the templates, and the setters it hands them to take one more:
 * freeing the policy then leaves them behind (valgrind: 4 addresses per probe, "definitely
 * lost"; in nm-gre-service, every disconnect). A freshly parsed policy is these addresses' only
 * holder, so a count above one is that extra reference: dropped here, and only when present, so
 * a libnl that gets it right loses nothing. */
static void
drop_parse_ref(struct nl_addr *addr)
{
    if (addr && nl_addr_shared(addr))
        nl_addr_put(addr);
}

static void
fix_parsed_policy(XfrmSp *sp)
{
    struct xfrmnl_sel *sel = xfrmnl_sp_get_sel(sp);

    if (sel) {
        drop_parse_ref(xfrmnl_sel_get_daddr(sel));
        drop_parse_ref(xfrmnl_sel_get_saddr(sel));
    }
    for (int i = 0; i < xfrmnl_sp_get_nusertemplates(sp); i++) {
        struct xfrmnl_user_tmpl *t = xfrmnl_sp_usertemplate_n(sp, i);

        if (t) {
            drop_parse_ref(xfrmnl_user_tmpl_get_daddr(t));
            drop_parse_ref(xfrmnl_user_tmpl_get_saddr(t));
        }
    }
}

XfrmSp *
apply_policy_parse(const struct nlmsghdr *hdr)
{
    XfrmSp *sp = NULL;

    if (hdr->nlmsg_type != XFRM_MSG_NEWPOLICY || xfrmnl_sp_parse((struct nlmsghdr *)hdr, &sp) < 0)
        return NULL;
    fix_parsed_policy(sp);
    return sp;
}

static int
on_policy(struct nl_msg *msg, void *arg)
{
    XfrmSp **sp = arg;

    if (!*sp)
        *sp = apply_policy_parse(nlmsg_hdr(msg));
    return NL_OK;
}

struct nl_msg *
apply_policy_get_msg(const GrePlanPolicy *pol)
{
    g_autoptr(XfrmSp) want = apply_policy_object(pol, FALSE);
    struct nl_msg *msg     = NULL;

    if (xfrmnl_sp_build_delete_request(want, 0, &msg) < 0)
        return NULL;
    nlmsg_hdr(msg)->nlmsg_type = XFRM_MSG_GETPOLICY;
    return msg;
}

static int
policy_get(Kernel *k, const GrePlanPolicy *pol, XfrmSp **out)
{
    struct nl_msg *msg = apply_policy_get_msg(pol);
    XfrmSp        *sp  = NULL;
    int            err;

    if (!msg)
        return -NLE_NOMEM;
    err = gre_nl_transact(k->xfrm, msg, on_policy, &sp);
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
    int err              = policy_get(k, pol, &sp);

    if (err < 0 && apply_gone(k->xfrm))
        return p->state = OBJ_ABSENT;
    if (err < 0)
        return apply_failed(p, k->xfrm, err);
    return apply_judge_policy(pol, sp, p);
}

ObjState
apply_judge_policy(const GrePlanPolicy *pol, XfrmSp *sp, Probe *p)
{
    struct xfrmnl_user_tmpl *t;
    guint                    dir = pol->dir == GRE_DIR_OUT ? XFRM_POLICY_OUT : XFRM_POLICY_IN;

    if ((guint)xfrmnl_sp_get_dir(sp) != dir || !selector_is(xfrmnl_sp_get_sel(sp), pol))
        return foreign(p, _("the kernel answered with another selector"));
    if ((guint32)xfrmnl_sp_get_priority(sp) != pol->priority)
        return foreign(p, _("its priority is %d"), xfrmnl_sp_get_priority(sp));
    if (pol->block) {
        guint mask = 0, value = 0;

        /* The kernel found it by its mark, but a reply without one is not ours. */
        if (xfrmnl_sp_get_mark(sp, &mask, &value) < 0 || mask != pol->mark_mask ||
            value != pol->mark)
            return foreign(p, _("its mark is not %u/%u"), pol->mark, pol->mark_mask);
        if (xfrmnl_sp_get_action(sp) != XFRM_POLICY_BLOCK || xfrmnl_sp_get_nusertemplates(sp))
            return foreign(p, _("it does not block"));
        return p->state = OBJ_PRESENT;
    }
    if (xfrmnl_sp_get_action(sp) != XFRM_POLICY_ALLOW || xfrmnl_sp_get_nusertemplates(sp) != 1)
        return foreign(p, _("its action or templates differ"));
    t = xfrmnl_sp_usertemplate_n(sp, 0);
    if (xfrmnl_user_tmpl_get_proto(t) != IPPROTO_ESP ||
        xfrmnl_user_tmpl_get_mode(t) != XFRM_MODE_TRANSPORT ||
        (guint32)xfrmnl_user_tmpl_get_reqid(t) != pol->reqid ||
        !apply_nl_addr_is(xfrmnl_user_tmpl_get_saddr(t), &pol->src) ||
        !apply_nl_addr_is(xfrmnl_user_tmpl_get_daddr(t), &pol->dst))
        return foreign(p, _("its template is not ESP transport reqid %u"), pol->reqid);
    return p->state = OBJ_PRESENT;
}

/* ---- filtered dumps ----
 * With NETLINK_GET_STRICT_CHK (set on the route socket when it is opened) the kernel applies the
 * filters in the dump request: the answer holds one device's addresses, or the main table's
 * routes through one device, however many other tunnels there are. A kernel without it sends
 * everything: the answers are always filtered here too. */

static int
on_route_msg(struct nl_msg *msg, void *arg)
{
    GPtrArray *routes = arg;
    RtnlRoute *route  = NULL;

    if (nlmsg_hdr(msg)->nlmsg_type == RTM_NEWROUTE && rtnl_route_parse(nlmsg_hdr(msg), &route) >= 0)
        g_ptr_array_add(routes, route);
    return NL_OK;
}

/* The routes of @family in the main table whose nexthop is device @ifindex. */
static int
dump_routes(Kernel *k, int family, int ifindex, GPtrArray *out)
{
    struct rtmsg   rtm = { .rtm_family = family, .rtm_table = RT_TABLE_MAIN };
    struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_DUMP);

    if (!msg || nlmsg_append(msg, &rtm, sizeof rtm, NLMSG_ALIGNTO) < 0 ||
        nla_put_u32(msg, RTA_TABLE, RT_TABLE_MAIN) < 0 || nla_put_u32(msg, RTA_OIF, ifindex) < 0) {
        nlmsg_free(msg);
        return -NLE_NOMEM;
    }
    return gre_nl_dump(k->rt, msg, on_route_msg, out);
}

static GreAddr
attr_addr(struct nlattr *a, int family)
{
    GreAddr out = { 0 };
    int     len = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;

    if (a && len && nla_len(a) == len) {
        out.family = family;
        memcpy(&out.u, nla_data(a), len);
    }
    return out;
}

static int
on_addr_msg(struct nl_msg *msg, void *arg)
{
    GArray                 *addrs = arg;
    struct nlmsghdr        *hdr   = nlmsg_hdr(msg);
    struct nlattr          *tb[IFA_MAX + 1];
    const struct ifaddrmsg *ifa;
    AddrEntry               e = { 0 };
    GreAddr                 address;

    if (hdr->nlmsg_type != RTM_NEWADDR || !nlmsg_valid_hdr(hdr, sizeof *ifa) ||
        nlmsg_parse(hdr, sizeof *ifa, tb, IFA_MAX, NULL) < 0)
        return NL_OK;
    ifa       = nlmsg_data(hdr);
    e.ifindex = (int)ifa->ifa_index;
    e.plen    = ifa->ifa_prefixlen;
    address   = attr_addr(tb[IFA_ADDRESS], ifa->ifa_family);
    /* IPv6 gives the local address as IFA_ADDRESS alone; with IFA_LOCAL as well (IPv4 always),
     * IFA_ADDRESS is the peer when the two differ. */
    e.local = tb[IFA_LOCAL] ? attr_addr(tb[IFA_LOCAL], ifa->ifa_family) : address;
    if (tb[IFA_LOCAL] && !gre_addr_equal(&address, &e.local))
        e.peer = address;
    if (e.local.family != AF_UNSPEC)
        g_array_append_val(addrs, e);
    return NL_OK;
}

int
apply_dump_addrs(Kernel *k, int family, int ifindex, GArray *out)
{
    struct ifaddrmsg ifa = { .ifa_family = family, .ifa_index = ifindex };
    struct nl_msg   *msg = nlmsg_alloc_simple(RTM_GETADDR, NLM_F_DUMP);
    int              err;

    if (!msg || nlmsg_append(msg, &ifa, sizeof ifa, NLMSG_ALIGNTO) < 0) {
        nlmsg_free(msg);
        return -NLE_NOMEM;
    }
    err = gre_nl_dump(k->rt, msg, on_addr_msg, out);
    /* The kernel's filter, where it has none. */
    for (guint i = out->len; i-- > 0;) {
        if (g_array_index(out, AddrEntry, i).ifindex != ifindex)
            g_array_remove_index(out, i);
    }
    return err;
}

static ObjState
probe_route(Kernel *k, const GrePlanRoute *r, Probe *p)
{
    int ifindex = gre_nl_ifindex(k->rt, r->dev);

    if (!ifindex)
        return p->state = OBJ_ABSENT;
    return apply_probe_route_at(k, r, ifindex, p);
}

ObjState
apply_probe_route_at(Kernel *k, const GrePlanRoute *r, int ifindex, Probe *p)
{
    g_autoptr(GPtrArray) routes = g_ptr_array_new_with_free_func((GDestroyNotify)rtnl_route_put);
    int err;

    err = dump_routes(k, r->dst.addr.family, ifindex, routes);
    if (err < 0)
        return apply_failed(p, k->rt, err);
    for (guint i = 0; i < routes->len; i++) {
        RtnlRoute           *route = routes->pdata[i];
        NlAddr              *dst   = rtnl_route_get_dst(route);
        GreAddr              d     = apply_from_nl(dst);
        struct rtnl_nexthop *nh;

        /* The kernel's identity of a route: table, destination, (tos,) metric. */
        if (rtnl_route_get_family(route) != r->dst.addr.family ||
            rtnl_route_get_table(route) != RT_TABLE_MAIN ||
            nl_addr_get_prefixlen(dst) != r->dst.plen ||
            rtnl_route_get_priority(route) != apply_route_metric(r) ||
            rtnl_route_get_tos(route) != 0)
            continue;
        if (d.family == AF_UNSPEC || (r->dst.plen && !gre_addr_equal(&d, &r->dst.addr)))
            continue;
        nh = rtnl_route_get_nnexthops(route) == 1 ? rtnl_route_nexthop_n(route, 0) : NULL;
        if (!nh || rtnl_route_nh_get_ifindex(nh) != ifindex)
            continue; /* IPv6 keeps routes that differ in the device apart */
        if (rtnl_route_get_protocol(route) != RTPROT_STATIC)
            return foreign(p, _("it was not added by gre-tunnel (protocol %u)"),
                           rtnl_route_get_protocol(route));
        if (r->gateway.family != AF_UNSPEC
                ? !apply_nl_addr_is(rtnl_route_nh_get_gateway(nh), &r->gateway)
                : rtnl_route_nh_get_gateway(nh) != NULL)
            return foreign(p, _("its gateway differs"));
        return p->state = OBJ_PRESENT;
    }
    return p->state = OBJ_ABSENT;
}

ObjState
apply_probe_link(Kernel *k, const GrePlanLink *l, Probe *p, RtnlLink **out)
{
    g_autoptr(RtnlLink) link = NULL;
    int err;

    err = rtnl_link_get_kernel(gre_nl_begin(k->rt), 0, l->name, &link);
    /* rtnl_link_get_kernel() installs its own error handler: only libnl's code is left. */
    if (err == -NLE_NODEV || (err < 0 && apply_gone(k->rt)))
        return p->state = OBJ_ABSENT;
    if (err < 0)
        return apply_failed(p, k->rt, err);
    if (apply_judge_link(l, link, p) == OBJ_PRESENT && out)
        *out = g_steal_pointer(&link);
    return p->state;
}

ObjState
apply_judge_link(const GrePlanLink *l, RtnlLink *link, Probe *p)
{
    const char *kind;
    LinkTunnel  t;

    kind = rtnl_link_get_type(link);
    if (g_strcmp0(kind, l->ip6 ? "ip6gre" : "gre") != 0)
        return foreign(p, _("%s is of kind %s, not %s"), l->name, kind ? kind : "none",
                       l->ip6 ? "ip6gre" : "gre");
    apply_link_tunnel(link, l->ip6, &t);
    if (!gre_addr_equal(&t.local, &l->local) || !gre_addr_equal(&t.remote, &l->remote))
        return foreign(p, _("%s connects other endpoints"), l->name);
    if (!!(t.iflags & GRE_KEY) != l->has_ikey || !!(t.oflags & GRE_KEY) != l->has_okey ||
        (l->has_ikey && t.ikey != l->ikey) || (l->has_okey && t.okey != l->okey))
        return foreign(p, _("%s has other GRE keys"), l->name);

    if (rtnl_link_get_mtu(link) != l->mtu || t.ttl != l->ttl)
        p->drift = g_strdup_printf(_("%s has mtu %u ttl %u, planned mtu %u ttl %u"), l->name,
                                   rtnl_link_get_mtu(link), t.ttl, l->mtu, l->ttl);
    return p->state = OBJ_PRESENT;
}

static ObjState
probe_addr(Kernel *k, const GrePlanAddr *a, Probe *p)
{
    int ifindex = gre_nl_ifindex(k->rt, a->dev);

    if (!ifindex)
        return p->state = OBJ_ABSENT;
    return apply_probe_addr_at(k, a, ifindex, p);
}

ObjState
apply_probe_addr_at(Kernel *k, const GrePlanAddr *a, int ifindex, Probe *p)
{
    g_autoptr(GArray) addrs = g_array_new(FALSE, TRUE, sizeof(AddrEntry));
    int err;

    err = apply_dump_addrs(k, a->local.family, ifindex, addrs);
    if (err < 0)
        return apply_failed(p, k->rt, err);
    for (guint i = 0; i < addrs->len; i++) {
        const AddrEntry *e = &g_array_index(addrs, AddrEntry, i);

        if (e->plen == a->plen && gre_addr_equal(&e->local, &a->local))
            return p->state = OBJ_PRESENT;
    }
    return p->state = OBJ_ABSENT;
}

ObjState
apply_probe_step(Kernel *k, const GrePlanStep *step, Probe *p)
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
        return apply_probe_link(k, &step->link, p, NULL);
    case GRE_STEP_ADDR:
        return probe_addr(k, &step->addr, p);
    case GRE_STEP_LINK_UP: {
        g_autoptr(RtnlLink) link = NULL;
        int err = rtnl_link_get_kernel(gre_nl_begin(k->rt), 0, step->up_dev, &link);

        if (err < 0)
            return p->state = OBJ_ABSENT;
        return p->state = (rtnl_link_get_flags(link) & IFF_UP) ? OBJ_PRESENT : OBJ_ABSENT;
    }
    case GRE_STEP_IKE_SHARED:
    case GRE_STEP_IKE_CONN:
    case GRE_STEP_IKE_CA:
    case GRE_STEP_IKE_KEY:
        return apply_ike_probe(k, step, p); /* in the daemon, not the kernel */
    }
    return p->state = OBJ_ABSENT;
}

/* Objects on a link of the record go with the link: the kernel removes a device's addresses
 * and routes with it. */
gboolean
apply_goes_with_link(const GArray *steps, const GrePlanStep *step)
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
