/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-apply-private.h"

#include <errno.h>
#include <string.h>

#include "gre-error.h"
#include "gre-i18n.h"
#include "gre-nl-batch.h"

/*
 * `up` creates a plan's steps in batches (gre-nl-batch.h): the requests of a batch go to the
 * kernel in one sendmsg() and their acknowledgements are collected after, instead of one round
 * trip per object. The kernel handles them in order, as if each had been sent alone. A batch
 * ends where the next request needs something the batch itself creates and that has to be read
 * back first: the ifindex of the link (its addresses, its being set up and its routes name the
 * device by index), and where the other netlink socket takes over (xfrm, then route). For a
 * tunnel with IPsec that is three batches: ESP states and policies; the pinned route and the
 * link; link up, addresses and routes.
 *
 * A failed request does not stop the kernel from handling those after it in the same batch, so
 * every request's own acknowledgement says whether it took effect, and the rollback removes
 * exactly those, the failed request's successors included.
 */

typedef struct {
    gboolean wanted; /* the state's read-back was asked for */
    SaInfo   sa;
} ReadBack;

static void
on_readback(const struct nlmsghdr *hdr, void *arg)
{
    ReadBack *rb = arg;

    if (!rb->sa.found && apply_sa_parse(hdr, &rb->sa))
        rb->sa.found = TRUE;
}

static GreNl *
socket_of(Kernel *k, const GrePlanStep *step)
{
    return step->kind == GRE_STEP_XFRM_STATE || step->kind == GRE_STEP_XFRM_POLICY ? k->xfrm
                                                                                   : k->rt;
}

/* The device whose ifindex the step's request carries, if any. */
static const char *
device_of(const GrePlanStep *step)
{
    switch (step->kind) {
    case GRE_STEP_ROUTE:
        return step->route.dev;
    case GRE_STEP_ADDR:
        return step->addr.dev;
    case GRE_STEP_LINK_UP:
        return step->up_dev;
    case GRE_STEP_LINK:
        return step->link.underlay[0] ? step->link.underlay : NULL;
    default:
        return NULL;
    }
}

/* Whether one of steps [from, to) creates the link @dev. */
static gboolean
made_in(const GArray *steps, guint from, guint to, const char *dev)
{
    for (guint i = from; i < to; i++) {
        const GrePlanStep *s = &g_array_index(steps, GrePlanStep, i);

        if (s->kind == GRE_STEP_LINK && g_str_equal(s->link.name, dev))
            return TRUE;
    }
    return FALSE;
}

/* A device's ifindex, asked of the kernel once per `up`: the underlay's, and the link's once
 * it is made (a batch that needs it starts after the one that made it). 0: no such device. */
static int
ifindex_of(Kernel *k, GHashTable *known, const char *dev)
{
    gpointer v;
    int      ifindex;

    if (g_hash_table_lookup_extended(known, dev, NULL, &v))
        return GPOINTER_TO_INT(v);
    if ((ifindex = gre_nl_ifindex(k->rt, dev)))
        g_hash_table_insert(known, g_strdup(dev), GINT_TO_POINTER(ifindex));
    return ifindex;
}

/* The request that creates @step (NLM_F_CREATE | NLM_F_EXCL: nothing that exists is taken
 * over). Returns 0, or a negative libnl error with *why possibly set to a better text. */
static int
create_msg(Kernel *k, GHashTable *known, const GrePlanStep *step, struct nl_msg **out, char **why)
{
    const char *dev     = device_of(step);
    int         ifindex = 0;
    int         err     = 0;

    *out = NULL;
    if (dev && !(ifindex = ifindex_of(k, known, dev))) {
        *why = g_strdup_printf(_("device %s does not exist"), dev);
        return -NLE_NODEV;
    }
    switch (step->kind) {
    case GRE_STEP_XFRM_STATE:
        /* Our own message (libnl's cannot carry the flag), wiped with the batch. */
        *out = apply_sa_add_msg(&step->state, 0);
        break;
    case GRE_STEP_XFRM_POLICY: {
        g_autoptr(XfrmSp) sp = apply_policy_object(&step->policy, TRUE);

        /* XFRM_MSG_NEWPOLICY fails with EEXIST when a policy with this selector exists. */
        err = xfrmnl_sp_build_add_request(sp, NLM_F_CREATE | NLM_F_EXCL, out);
        break;
    }
    case GRE_STEP_ROUTE: {
        g_autoptr(RtnlRoute) route = apply_route_object(&step->route, ifindex);

        err = rtnl_route_build_add_request(route, NLM_F_CREATE | NLM_F_EXCL, out);
        break;
    }
    case GRE_STEP_LINK: {
        g_autoptr(RtnlLink) link = apply_link_object(&step->link, ifindex);

        err = rtnl_link_build_add_request(link, NLM_F_CREATE | NLM_F_EXCL, out);
        break;
    }
    case GRE_STEP_ADDR:
        *out = apply_addr_msg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &step->addr, ifindex);
        break;
    case GRE_STEP_LINK_UP:
        *out = apply_link_updown_msg(ifindex, TRUE);
        break;
    case GRE_STEP_IKE_SHARED:
    case GRE_STEP_IKE_CONN:
    case GRE_STEP_IKE_CA:
    case GRE_STEP_IKE_KEY:
        return -NLE_INVAL; /* the daemon's: create_ike() */
    }
    if (err < 0)
        return err;
    return *out ? 0 : -NLE_NOMEM;
}

static void
fail(char **failure, const GrePlanStep *step, const char *why)
{
    g_autofree char *cmd = NULL;

    if (*failure)
        return; /* the first failure in plan order is the one reported */
    cmd      = gre_plan_step_render(step, FALSE);
    *failure = g_strdup_printf(_("creating \"%s\": %s"), cmd, why);
}

/* What the acknowledgement of step @i's request, and the read-back of an outbound SA, say. */
static void
judge(Kernel *k, const GrePlanStep *step, const GreNlResult *r, const ReadBack *rb,
      const GreNlResult *rb_result, ApplyTook *took, char **failure)
{
    g_autofree char *why = NULL;

    if (!r->answered) {
        *took = APPLY_TOOK_MAYBE; /* the socket failed before its answer came */
        why   = gre_nl_result_text(r);
        fail(failure, step, why);
        return;
    }
    if (r->kerrno) {
        why = gre_nl_result_text(r);
        fail(failure, step, why);
        return;
    }
    *took = APPLY_TOOK_YES;
    k->report->created++;
    if (!rb->wanted)
        return;
    /* A kernel that does not know XFRMA_SA_EXTRA_FLAGS (before Linux 3.15) drops it silently:
     * the SA, useless after 2^32 packets, is removed again with the rest. */
    if (rb_result->answered && !rb_result->kerrno && apply_wrap_verdict(&rb->sa) == WRAP_NOT_STORED)
        fail(failure, step,
             _("the kernel dropped the flag oseq-may-wrap (it needs Linux 5.9 or later): without "
               "it the outbound SA stops sending after 2^32 packets"));
    else if (!rb_result->answered || rb_result->kerrno) {
        why = gre_nl_result_text(rb_result);
        fail(failure, step, why);
    }
}

/* The IKE daemon's step @i, loaded through VICI on its own (it is no netlink request). */
static void
create_ike(Kernel *k, const GrePlanStep *step, ApplyTook *took, char **failure, int *code)
{
    g_autofree char *why = NULL;

    if (apply_ike_create(k, step, &why, code)) {
        *took = APPLY_TOOK_YES;
        k->report->created++;
    } else {
        g_autofree char *what = apply_describe(step);

        *failure = g_strdup_printf("%s: %s", what, why);
    }
}

void
apply_create(Kernel *k, const GArray *steps, guint from, int fault, guint *attempted,
             ApplyTook *took, char **failure, int *code)
{
    g_autoptr(GHashTable) known = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autofree guint    *req    = g_new0(guint, steps->len);
    g_autofree guint    *rb_req = g_new0(guint, steps->len);
    g_autofree ReadBack *rb     = g_new0(ReadBack, steps->len);
    guint                i      = from;

    *failure = NULL;
    *code    = GRE_ERROR_KERNEL;
    while (i < steps->len && !*failure && (int)i != fault) {
        if (apply_is_ike(&g_array_index(steps, GrePlanStep, i))) {
            create_ike(k, &g_array_index(steps, GrePlanStep, i), &took[i], failure, code);
            i++;
            if (k->ike_wait)
                break; /* the caller goes on from i once the daemon has answered */
            continue;
        }
        GreNl *nl                   = socket_of(k, &g_array_index(steps, GrePlanStep, i));
        g_autoptr(GreNlBatch) batch = gre_nl_batch(nl);
        g_autofree char *build_why  = NULL;
        guint            start      = i;
        int              build_err  = 0;
        int              err;

        for (; i < steps->len && (int)i != fault; i++) {
            const GrePlanStep *step = &g_array_index(steps, GrePlanStep, i);
            const char        *dev  = device_of(step);
            struct nl_msg     *msg;
            struct nl_msg     *get = NULL;

            if (apply_is_ike(step) || socket_of(k, step) != nl ||
                (dev && made_in(steps, start, i, dev)))
                break;
            if ((build_err = create_msg(k, known, step, &msg, &build_why)) < 0)
                break;
            /* An outbound SA is read back in the same batch: did the kernel keep the flag? */
            if (step->kind == GRE_STEP_XFRM_STATE && step->state.oseq_may_wrap &&
                !(get = apply_sa_get_msg(&step->state.dst, step->state.spi))) {
                gre_nl_msg_free_wiped(msg);
                build_err = -NLE_NOMEM;
                break;
            }
            req[i] = gre_nl_batch_add(batch, msg, NULL, NULL);
            if (get) {
                rb[i].wanted = TRUE;
                rb_req[i]    = gre_nl_batch_add(batch, get, on_readback, &rb[i]);
            }
        }
        err = gre_nl_batch_run(batch);
        for (guint j = start; j < i; j++)
            judge(k, &g_array_index(steps, GrePlanStep, j), gre_nl_batch_result(batch, req[j]),
                  &rb[j], rb[j].wanted ? gre_nl_batch_result(batch, rb_req[j]) : NULL, &took[j],
                  failure);
        if (err < 0 && !*failure) {
            g_autofree char *why = g_strdup(nl_geterror(err));

            fail(failure, &g_array_index(steps, GrePlanStep, start), why);
        }
        if (build_err < 0 && i < steps->len) {
            g_autofree char *why =
                build_why ? g_steal_pointer(&build_why) : g_strdup(nl_geterror(build_err));

            fail(failure, &g_array_index(steps, GrePlanStep, i), why);
        }
    }
    *attempted = i;
    if (!*failure && (int)i == fault && i < steps->len)
        *failure = g_strdup_printf(_("fault injected at step %u"), i);
}
