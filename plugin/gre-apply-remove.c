/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-apply-private.h"

#include <errno.h>
#include <string.h>

#include "gre-error.h"
#include "gre-i18n.h"
#include "gre-nl-batch.h"

/*
 * `down`: a record's objects probed and removed in batches (gre-nl-batch.h) instead of one round
 * trip per probe and per removal. The objects between two of the IKE daemon's steps form a run
 * (all of them, without IKE): first every probe of the run, one batch per netlink socket (the
 * states and policies on the xfrm socket; on the route socket the link by name, and for a route,
 * an address or "link up" the device it names, whose ifindex the filtered dump and the removal
 * need), then the verdicts exactly as a probe one by one gives them (gre-apply-probe.c), then the
 * removals of what is ours, in the record's reverse order. Routes and addresses are still read
 * with a dump filtered by their device, one each.
 *
 * The removals go in one batch per stretch of the same socket: the kernel handles a batch's
 * requests one after the other, each to the end, so the order is the one-by-one order. No
 * removal needs an earlier one's answer (every ifindex comes from the probes), so a batch is only
 * split where the socket changes: the link and the pinned route go before the policies and
 * states, as one by one. The IKE daemon's steps split the runs: the connection is unloaded before
 * the block policies that stood in for its SAs are probed and removed, never after.
 *
 * The kernel goes on after a failed request in a batch, so each removal's own acknowledgement
 * decides whether it counts as removed or is named in the error, as one by one.
 */

typedef struct {
    const GrePlanStep *step;
    Probe              p;
    /* the probe's answers */
    guint     req; /* its request's index in the probe batch of its socket */
    gboolean  sent;
    SaInfo    sa;
    XfrmSp   *sp;
    RtnlLink *link;    /* LINK: the link; the others on the route socket: their device */
    int       ifindex; /* of the link or the device, once the probe found it */
    guint     del;     /* its removal's index in the removal batch */
    char     *failure; /* removing it failed: why */
} Item;

static void
item_clear(Item *it)
{
    apply_probe_clear(&it->p);
    g_clear_pointer(&it->sp, xfrmnl_sp_put);
    g_clear_pointer(&it->link, rtnl_link_put);
    g_clear_pointer(&it->failure, g_free);
    explicit_bzero(&it->sa, sizeof it->sa);
}

static gboolean
on_xfrm(const GrePlanStep *step)
{
    return step->kind == GRE_STEP_XFRM_STATE || step->kind == GRE_STEP_XFRM_POLICY;
}

/* The device a route-socket step names: the link itself, or the device of a route, an address
 * or "link up". */
static const char *
device_of(const GrePlanStep *step)
{
    switch (step->kind) {
    case GRE_STEP_LINK:
        return step->link.name;
    case GRE_STEP_ROUTE:
        return step->route.dev;
    case GRE_STEP_ADDR:
        return step->addr.dev;
    case GRE_STEP_LINK_UP:
        return step->up_dev;
    default:
        return NULL;
    }
}

/* Whether the kernel's errno says the object (or the device it is on) is not there. */
static gboolean
gone(int kerrno)
{
    return kerrno == ESRCH || kerrno == ENOENT || kerrno == ENODEV || kerrno == EADDRNOTAVAIL;
}

static void
on_sa_reply(const struct nlmsghdr *hdr, void *arg)
{
    Item *it = arg;

    if (!it->sa.found && apply_sa_parse(hdr, &it->sa))
        it->sa.found = TRUE;
}

static void
on_policy_reply(const struct nlmsghdr *hdr, void *arg)
{
    Item *it = arg;

    if (!it->sp)
        it->sp = apply_policy_parse(hdr);
}

static void
take_link(struct nl_object *obj, void *arg)
{
    Item *it = arg;

    if (!it->link) {
        nl_object_get(obj);
        it->link = (RtnlLink *)obj;
    }
}

static void
on_link_reply(const struct nlmsghdr *hdr, void *arg)
{
    Item          *it = arg;
    struct nl_msg *msg;

    if (it->link || hdr->nlmsg_type != RTM_NEWLINK ||
        !(msg = nlmsg_convert((struct nlmsghdr *)hdr)))
        return;
    nlmsg_set_proto(msg, NETLINK_ROUTE);
    nl_msg_parse(msg, take_link, it);
    nlmsg_free(msg);
}

/* RTM_GETLINK by name. Not libnl's request, which asks for the virtual functions of a device
 * as well (RTEXT_FILTER_VF): on an SR-IOV underlay those can outgrow the batch's datagrams. */
static struct nl_msg *
getlink_msg(const char *dev)
{
    struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
    struct nl_msg   *msg = nlmsg_alloc_simple(RTM_GETLINK, 0);

    if (!msg || nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0 ||
        nla_put_string(msg, IFLA_IFNAME, dev) < 0) {
        nlmsg_free(msg);
        return NULL;
    }
    return msg;
}

/* Adds @it's probe to @batch; FALSE when it needs none (a step without a device is absent). */
static gboolean
add_probe(GreNlBatch *batch, Item *it)
{
    const GrePlanStep *step = it->step;
    struct nl_msg     *msg  = NULL;
    const char        *dev;

    switch (step->kind) {
    case GRE_STEP_XFRM_STATE:
        msg = apply_sa_get_msg(&step->state.dst, step->state.spi);
        if (msg)
            it->req = gre_nl_batch_add(batch, msg, on_sa_reply, it);
        break;
    case GRE_STEP_XFRM_POLICY:
        msg = apply_policy_get_msg(&step->policy);
        if (msg)
            it->req = gre_nl_batch_add(batch, msg, on_policy_reply, it);
        break;
    default:
        if (!(dev = device_of(step)) || !dev[0]) {
            it->p.state = OBJ_ABSENT;
            return FALSE;
        }
        if ((msg = getlink_msg(dev)))
            it->req = gre_nl_batch_add(batch, msg, on_link_reply, it);
        break;
    }
    if (!msg) {
        it->p.why   = g_strdup(nl_geterror(-NLE_NOMEM));
        it->p.state = OBJ_ERROR;
        return FALSE;
    }
    return it->sent = TRUE;
}

/* The verdict on @it from its probe's answer @r (NULL when the batch failed with @err). */
static void
judge(Kernel *k, Item *it, const GreNlResult *r, int err)
{
    const GrePlanStep *step = it->step;

    if (!r->answered) {
        it->p.why   = err < 0 ? g_strdup(nl_geterror(err)) : gre_nl_result_text(r);
        it->p.state = OBJ_ERROR;
        return;
    }
    if (r->kerrno) {
        if (gone(r->kerrno)) {
            it->p.state = OBJ_ABSENT;
        } else {
            it->p.why   = gre_nl_result_text(r);
            it->p.state = OBJ_ERROR;
        }
        return;
    }
    if (on_xfrm(step) ? (step->kind == GRE_STEP_XFRM_STATE ? !it->sa.found : !it->sp) : !it->link) {
        it->p.why   = g_strdup(nl_geterror(-NLE_PARSE_ERR));
        it->p.state = OBJ_ERROR;
        return;
    }
    if (!on_xfrm(step))
        it->ifindex = rtnl_link_get_ifindex(it->link);
    switch (step->kind) {
    case GRE_STEP_XFRM_STATE:
        apply_judge_state(&step->state, &it->sa, &it->p);
        break;
    case GRE_STEP_XFRM_POLICY:
        apply_judge_policy(&step->policy, it->sp, &it->p);
        break;
    case GRE_STEP_LINK:
        apply_judge_link(&step->link, it->link, &it->p);
        break;
    case GRE_STEP_ROUTE:
        apply_probe_route_at(k, &step->route, it->ifindex, &it->p);
        break;
    case GRE_STEP_ADDR:
        apply_probe_addr_at(k, &step->addr, it->ifindex, &it->p);
        break;
    case GRE_STEP_LINK_UP:
        it->p.state = (rtnl_link_get_flags(it->link) & IFF_UP) ? OBJ_PRESENT : OBJ_ABSENT;
        break;
    default:
        it->p.state = OBJ_ABSENT;
        break;
    }
}

/* Probes @items, one batch per socket. */
static void
probe_all(Kernel *k, Item *items, guint n)
{
    for (int x = 0; x < 2; x++) {
        GreNl *nl                   = x ? k->xfrm : k->rt;
        g_autoptr(GreNlBatch) batch = NULL;
        int err;

        if (!nl)
            continue;
        batch = gre_nl_batch(nl);
        for (guint i = 0; i < n; i++) {
            if (on_xfrm(items[i].step) == (x == 1))
                add_probe(batch, &items[i]);
        }
        if (!gre_nl_batch_len(batch))
            continue;
        err = gre_nl_batch_run(batch);
        for (guint i = 0; i < n; i++) {
            if (items[i].sent && on_xfrm(items[i].step) == (x == 1))
                judge(k, &items[i], gre_nl_batch_result(batch, items[i].req), err);
        }
    }
}

/* The request that removes @it, known to be ours. */
static struct nl_msg *
remove_msg(const Item *it)
{
    const GrePlanStep *step = it->step;
    struct nl_msg     *msg  = NULL;
    int                err  = 0;

    switch (step->kind) {
    case GRE_STEP_XFRM_STATE: {
        g_autoptr(XfrmSa) sa = apply_state_id_object(&step->state);

        err = xfrmnl_sa_build_delete_request(sa, 0, &msg);
        break;
    }
    case GRE_STEP_XFRM_POLICY: {
        g_autoptr(XfrmSp) sp = apply_policy_object(&step->policy, FALSE);

        err = xfrmnl_sp_build_delete_request(sp, 0, &msg);
        break;
    }
    case GRE_STEP_ROUTE: {
        g_autoptr(RtnlRoute) route = apply_route_object(&step->route, it->ifindex);

        err = rtnl_route_build_del_request(route, 0, &msg);
        break;
    }
    case GRE_STEP_LINK: {
        g_autoptr(RtnlLink) link = rtnl_link_alloc();

        rtnl_link_set_ifindex(link, it->ifindex);
        err = rtnl_link_build_delete_request(link, &msg);
        break;
    }
    case GRE_STEP_ADDR:
        msg = apply_addr_msg(RTM_DELADDR, 0, &step->addr, it->ifindex);
        break;
    case GRE_STEP_LINK_UP:
        msg = apply_link_updown_msg(it->ifindex, FALSE);
        break;
    default:
        break;
    }
    return err < 0 ? NULL : msg;
}

/* Removes what of @items[from, to) (all on one socket, in removal order) is ours, in one batch;
 * each one's own answer says whether it went (already gone counts as removed). */
static void
remove_batch(Kernel *k, Item *items, guint from, guint to)
{
    GreNl *nl                   = on_xfrm(items[from].step) ? k->xfrm : k->rt;
    g_autoptr(GreNlBatch) batch = gre_nl_batch(nl);
    int err;

    for (guint i = from; i < to; i++) {
        struct nl_msg *msg;

        if (items[i].p.state != OBJ_PRESENT)
            continue;
        if (!(msg = remove_msg(&items[i]))) {
            items[i].failure = g_strdup(nl_geterror(-NLE_NOMEM));
            continue;
        }
        items[i].del = gre_nl_batch_add(batch, msg, NULL, NULL);
    }
    if (!gre_nl_batch_len(batch))
        return;
    err = gre_nl_batch_run(batch);
    for (guint i = from; i < to; i++) {
        const GreNlResult *r;

        if (items[i].p.state != OBJ_PRESENT || items[i].failure)
            continue;
        r = gre_nl_batch_result(batch, items[i].del);
        if (!r->answered)
            items[i].failure = err < 0 ? g_strdup(nl_geterror(err)) : gre_nl_result_text(r);
        else if (r->kerrno && !gone(r->kerrno))
            items[i].failure = gre_nl_result_text(r);
        else if (k->report)
            k->report->removed++;
    }
}

void
apply_remove_run(Kernel *k, const GrePlanStep *const *steps, guint n, GString *failures)
{
    g_autofree Item *items = g_new0(Item, n);
    guint            from  = 0;

    for (guint i = 0; i < n; i++) {
        items[i].step = steps[i];
        /* Until its probe is answered: an object nobody asked about is not taken for gone. */
        items[i].p.state = OBJ_ERROR;
    }
    probe_all(k, items, n);
    for (guint i = 1; i <= n; i++) {
        if (i == n || on_xfrm(items[i].step) != on_xfrm(items[from].step)) {
            remove_batch(k, items, from, i);
            from = i;
        }
    }
    /* What became of each, in the order of removal, as one by one would say it. */
    for (guint i = 0; i < n; i++) {
        Item            *it   = &items[i];
        g_autofree char *what = apply_describe(it->step);

        switch (it->p.state) {
        case OBJ_ABSENT:
            break;
        case OBJ_FOREIGN:
            apply_note(k, _("left alone: %s: %s, so it is not the one gre-tunnel created"), what,
                       it->p.why);
            break;
        case OBJ_ERROR:
            g_string_append_printf(failures, "%s%s: %s", failures->len ? "; " : "", what,
                                   it->p.why ? it->p.why : _("the kernel cannot be asked"));
            break;
        case OBJ_PRESENT:
            if (it->failure)
                /* TRANSLATORS: the first %s is "; " or nothing, then the object and the reason */
                g_string_append_printf(failures, _("%sremoving %s: %s"), failures->len ? "; " : "",
                                       what, it->failure);
            break;
        }
        item_clear(it);
    }
}
