/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-apply-private.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "gre-error.h"
#include "gre-i18n.h"

void
apply_kernel_clear(Kernel *k)
{
    g_clear_pointer(&k->rt, gre_nl_close);
    g_clear_pointer(&k->xfrm, gre_nl_close);
}

void
apply_note(Kernel *k, const char *fmt, ...)
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
apply_warn(Kernel *k, const char *fmt, ...)
{
    va_list ap;

    if (!k->report)
        return;
    if (!k->report->warnings)
        k->report->warnings = g_ptr_array_new_with_free_func(g_free);
    va_start(ap, fmt);
    g_ptr_array_add(k->report->warnings, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

void
gre_apply_report_clear(GreApplyReport *report)
{
    g_clear_pointer(&report->notes, g_ptr_array_unref);
    g_clear_pointer(&report->warnings, g_ptr_array_unref);
    *report = (GreApplyReport){ 0 };
}

gboolean
apply_kernel_open(Kernel *k, gboolean xfrm, GError **error)
{
    if (!k->rt && !(k->rt = gre_nl_open(NETLINK_ROUTE, error)))
        return FALSE;
    if (xfrm && !k->xfrm && !(k->xfrm = gre_nl_open(NETLINK_XFRM, error)))
        return FALSE;
    return TRUE;
}

gboolean
apply_has_xfrm(GArray *steps)
{
    for (guint i = 0; i < steps->len; i++) {
        GreStepKind kind = g_array_index(steps, GrePlanStep, i).kind;

        if (kind == GRE_STEP_XFRM_STATE || kind == GRE_STEP_XFRM_POLICY)
            return TRUE;
    }
    return FALSE;
}

/* ---- the record ---- */

/*
 * NAME's record in this network namespace; failing that, one an earlier version left in the
 * host-wide directory, if it is this namespace's: its link is here as recorded, or, with no link
 * of that name here at all, this is the initial namespace, where earlier versions were run but
 * for tests. Such a record is moved into this namespace's directory, and a note says so.
 */
GreStateRecord *
apply_record_read(Kernel *k, const char *name, GError **error)
{
    g_autoptr(GreStateRecord) rec    = NULL;
    g_autoptr(GreStateRecord) legacy = NULL;
    g_autoptr(GError) err            = NULL;
    g_autofree char   *from = NULL, *to = NULL;
    const GrePlanStep *link = NULL;
    Probe              p    = { 0 };
    ObjState           st;

    rec = gre_state_read(name, &err);
    if (rec || err) {
        if (err)
            g_propagate_error(error, g_steal_pointer(&err));
        return g_steal_pointer(&rec);
    }
    legacy = gre_state_read_legacy(name, &err);
    if (!legacy) {
        if (err)
            g_propagate_error(error, g_steal_pointer(&err));
        return NULL;
    }
    for (guint i = 0; i < legacy->steps->len && !link; i++) {
        if (g_array_index(legacy->steps, GrePlanStep, i).kind == GRE_STEP_LINK)
            link = &g_array_index(legacy->steps, GrePlanStep, i);
    }
    if (!link || !apply_kernel_open(k, FALSE, error))
        return NULL;
    from = gre_state_legacy_path(name);
    st   = apply_probe_step(k, link, &p);
    apply_probe_clear(&p);
    if (st != OBJ_PRESENT && !(st == OBJ_ABSENT && gre_state_in_initial_netns())) {
        apply_note(k,
                   _("%s, written by an earlier version for the whole host, is left alone: its "
                     "link %s is not in this network namespace as recorded"),
                   from, name);
        return NULL;
    }
    if (!gre_state_adopt_legacy(name, &to, &err)) {
        if (err)
            g_propagate_error(error, g_steal_pointer(&err));
        return NULL;
    }
    if (st == OBJ_PRESENT)
        apply_note(k,
                   _("%s, written by an earlier version for the whole host, matches the link %s "
                     "of this network namespace: moved to %s"),
                   from, name, to);
    else
        apply_note(k,
                   _("%s, written by an earlier version for the whole host, is taken as the "
                     "initial network namespace's (its link %s is gone): moved to %s"),
                   from, name, to);
    return gre_state_read(name, error);
}

/* ---- remove one step ---- */

/* Whether the kernel's last error says the object was not there (any more). */
gboolean
apply_gone(GreNl *nl)
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
        g_autoptr(XfrmSa) sa = apply_state_id_object(&step->state);

        *used = k->xfrm;
        err   = xfrmnl_sa_delete(gre_nl_begin(k->xfrm), sa, 0);
        break;
    }
    case GRE_STEP_XFRM_POLICY: {
        g_autoptr(XfrmSp) sp = apply_policy_object(&step->policy, FALSE);

        *used = k->xfrm;
        err   = xfrmnl_sp_delete(gre_nl_begin(k->xfrm), sp, 0);
        break;
    }
    case GRE_STEP_ROUTE: {
        g_autoptr(RtnlRoute) route = NULL;

        if (!(ifindex = gre_nl_ifindex(k->rt, step->route.dev)))
            return 0; /* its device is gone, and the route with it */
        route = apply_route_object(&step->route, ifindex);
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
        if (!(msg = apply_addr_msg(RTM_DELADDR, 0, &step->addr, ifindex)))
            return -NLE_NOMEM;
        err = gre_nl_request(k->rt, msg);
        break;
    }
    case GRE_STEP_LINK_UP: {
        struct nl_msg *msg;

        if (!(ifindex = gre_nl_ifindex(k->rt, step->up_dev)))
            return 0;
        if (!(msg = apply_link_updown_msg(ifindex, FALSE)))
            return -NLE_NOMEM;
        err = gre_nl_request(k->rt, msg);
        break;
    }
    default:
        return -NLE_INVAL;
    }
    return err < 0 && apply_gone(*used) ? 0 : err;
}

/* Removes one object known to be ours, in the kernel or the IKE daemon; *why on failure. */
static gboolean
remove_one(Kernel *k, const GrePlanStep *step, char **why)
{
    GreNl *nl;
    int    rc;

    if (apply_is_ike(step))
        return apply_ike_remove(k, step, why);
    rc = remove_step(k, step, &nl);
    if (rc < 0)
        *why = gre_nl_error_text(nl, rc);
    return rc >= 0;
}

/* Removes what @rec lists and the kernel still has as recorded, in reverse order: the objects
 * between two of the IKE daemon's steps probed and removed in batches (gre-apply-remove.c), the
 * daemon's steps one by one where they stand. */
static gboolean
remove_recorded(Kernel *k, const GreStateRecord *rec, GError **error)
{
    g_autoptr(GString) failures = g_string_new(NULL);
    g_autoptr(GPtrArray) run    = g_ptr_array_new();

    if (!apply_kernel_open(k, apply_has_xfrm(rec->steps), error))
        return FALSE;
    for (guint i = rec->steps->len; i-- > 0;) {
        const GrePlanStep *step = &g_array_index(rec->steps, GrePlanStep, i);
        g_autofree char   *what = NULL;
        g_autofree char   *why  = NULL;

        if (apply_goes_with_link(rec->steps, step))
            continue;
        if (!apply_is_ike(step)) {
            g_ptr_array_add(run, (gpointer)step);
            continue;
        }
        /* What comes after the daemon's step in the record goes before it. */
        apply_remove_run(k, (const GrePlanStep *const *)run->pdata, run->len, failures);
        g_ptr_array_set_size(run, 0);
        /* Unloaded by our own unique name; counted and noted by apply_ike_remove(). */
        if (!apply_ike_remove(k, step, &why)) {
            what = apply_describe(step);
            g_string_append_printf(failures, _("%sremoving %s: %s"), failures->len ? "; " : "",
                                   what, why);
        }
    }
    apply_remove_run(k, (const GrePlanStep *const *)run->pdata, run->len, failures);
    if (failures->len) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_KERNEL,
                    _("%s: %s (the record is kept, so that `down` can try again)"), rec->name,
                    failures->str);
        return FALSE;
    }
    return TRUE;
}

/* Whether every object of @rec is in the kernel as recorded; if not, *why says what is not.
 * With @ike_gone, the IKE steps the daemon no longer holds (it restarted and forgot what `up`
 * loaded) are not counted as missing: their indices are added to @ike_gone. */
static gboolean
all_present(Kernel *k, const GreStateRecord *rec, GArray *ike_gone, char **why)
{
    if (!apply_kernel_open(k, apply_has_xfrm(rec->steps), NULL)) {
        *why = g_strdup(_("the kernel cannot be asked"));
        return FALSE;
    }
    for (guint i = 0; i < rec->steps->len; i++) {
        const GrePlanStep *step = &g_array_index(rec->steps, GrePlanStep, i);
        g_autofree char   *what = apply_describe(step);
        Probe              p    = { 0 };
        ObjState           st   = apply_probe_step(k, step, &p);

        if (ike_gone && st == OBJ_ABSENT && apply_is_ike(step)) {
            g_array_append_val(ike_gone, i);
            apply_probe_clear(&p);
            continue;
        }
        if (st != OBJ_PRESENT || p.drift) {
            *why = g_strdup_printf("%s %s", what,
                                   st == OBJ_ABSENT    ? _("is missing")
                                   : st == OBJ_PRESENT ? p.drift
                                                       : p.why);
            apply_probe_clear(&p);
            return FALSE;
        }
        apply_probe_clear(&p);
    }
    return TRUE;
}

/* The tunnel's lock; the records of namespaces that are gone, removed on the way, are noted. */
static GreStateLock *
lock_and_prune(Kernel *k, const char *name, GError **error)
{
    g_autoptr(GPtrArray) pruned = g_ptr_array_new_with_free_func(g_free);
    GreStateLock *lock          = gre_state_lock(name, pruned, error);

    for (guint i = 0; i < pruned->len; i++)
        apply_note(k, "%s", (const char *)pruned->pdata[i]);
    return lock;
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
            apply_note(k, _("was: %s"), (const char *)old->lines->pdata[i]);
    }
    for (guint i = 0; i < new->lines->len; i++) {
        if (!g_ptr_array_find_with_equal_func(old->lines, new->lines->pdata[i], g_str_equal, NULL))
            apply_note(k, _("now: %s"), (const char *)new->lines->pdata[i]);
    }
    if (!g_str_equal(old->secrets, new->secrets))
        apply_note(k, _("the IPsec keys changed"));
}

/* Line @a of a record as applied is line @b as planned: the same, or for the private key of
 * IKE_AUTH=cert the same with the id charon gave it. */
static gboolean
same_line(const char *a, const char *b)
{
    const char *id = strstr(a, " keyid=");

    if (g_str_equal(a, b))
        return TRUE;
    return g_str_has_prefix(a, "ike-key ") && id && !strchr(id + 1, ' ') &&
           strlen(b) == (gsize)(id - a) && strncmp(a, b, id - a) == 0;
}

static gboolean
same_record(const GreStateRecord *a, const GreStateRecord *b)
{
    if (a->lines->len != b->lines->len || !g_str_equal(a->secrets, b->secrets))
        return FALSE;
    for (guint i = 0; i < a->lines->len; i++) {
        if (!same_line(a->lines->pdata[i], b->lines->pdata[i]))
            return FALSE;
    }
    return TRUE;
}

static gboolean
check_oseq_wrap(Kernel *k, const GrePlan *plan, GError **error)
{
    for (guint i = 0; i < plan->steps->len; i++) {
        const GrePlanStep *step        = &g_array_index(plan->steps, GrePlanStep, i);
        g_autofree char   *not_checked = NULL;

        if (step->kind != GRE_STEP_XFRM_STATE || !step->state.oseq_may_wrap)
            continue;
        if (!apply_check_oseq_wrap(&step->state, &not_checked, error)) {
            g_prefix_error(error, "%s: ", plan->name);
            return FALSE;
        }
        if (not_checked)
            apply_note(k,
                       _("whether this kernel lets the outbound SA go on past 2^32 packets "
                         "(oseq-may-wrap, Linux 5.9 or later) was not tested: %s"),
                       not_checked);
        return TRUE; /* one test answers for the kernel */
    }
    return TRUE;
}

/* The tunnel is up as recorded, but the IKE daemon no longer holds the steps @gone (their
 * indices, IKE steps only): it was restarted, or killed and started again, and forgot what `up`
 * loaded through VICI. Meanwhile our block policies kept GRE fail-closed. Only @gone is loaded
 * again, which starts a new CHILD_SA; the link, its addresses and routes and the block policies
 * are left as they are. On failure what this call loaded is unloaded again. */
static gboolean
reload_ike(Kernel *k, const GrePlan *plan, GreStateRecord *old, const GreStateRecord *want,
           const GArray *gone, GError **error)
{
    /* The plan's steps, not the record's: a record holds no keys (the PSK). A shallow copy. */
    g_autoptr(GArray) steps       = g_array_sized_new(FALSE, FALSE, sizeof(GrePlanStep), gone->len);
    g_autofree ApplyTook *took    = g_new0(ApplyTook, gone->len);
    g_autofree char      *failure = NULL;
    int                   code    = GRE_ERROR_KERNEL;
    guint                 done    = 0;
    gboolean              async;

    for (guint i = 0; i < gone->len; i++) {
        const GrePlanStep *step =
            &g_array_index(plan->steps, GrePlanStep, g_array_index(gone, guint, i));
        g_autofree char *what = apply_describe(step);

        g_array_append_val(steps, *step);
        apply_note(k,
                   _("the IKE daemon no longer held %s (it was restarted?): loading it again; "
                     "the kernel's objects are left as they are"),
                   what);
    }
    /* A reloaded private key gets its id recorded in the record as it is. Waited for here, also
     * by the service (async): the tunnel carries nothing until then anyway, and a reload is
     * rare (the daemon restarted under a running tunnel). */
    k->rec   = old;
    async    = k->async;
    k->async = FALSE;
    apply_create(k, steps, 0, -1, &done, took, &failure, &code);
    k->async = async;
    k->rec   = NULL;
    g_clear_pointer(&k->ike_keyid, g_free);
    if (failure) {
        while (done-- > 0) {
            g_autofree char *why = NULL;

            if (took[done] != APPLY_TOOK_NO &&
                !remove_one(k, &g_array_index(steps, GrePlanStep, done), &why))
                apply_warn(k, "%s", why);
        }
        g_set_error(error, GRE_ERROR, code,
                    _("%s (the tunnel stays as it was: GRE to and from the peer is dropped until "
                      "the IKE daemon holds its connection again)"),
                    failure);
        return FALSE;
    }
    /* As for an unchanged tunnel: the record names the file and the owner of this call. */
    if ((want->source && g_strcmp0(old->source, want->source) != 0) ||
        !gre_state_owner_equal(old->owner, want->owner)) {
        g_free(old->source);
        old->source = g_strdup(want->source);
        gre_state_owner_free(old->owner);
        old->owner = gre_state_owner_dup(want->owner);
        return gre_state_write(old, error);
    }
    return TRUE;
}

/* The first half of `up`, under the tunnel's lock: the record read and compared, a previous
 * instance removed, the new record written. 1: go on and create @plan's steps (*want is the
 * record); 0: nothing to do, the tunnel is up as planned; -1: failed. */
static int
up_begin(Kernel *k, const GrePlan *plan, const char *source, GreStateRecord **want_out,
         GError **error)
{
    g_autoptr(GreStateRecord) want = gre_state_record_from_plan(plan);
    g_autoptr(GreStateRecord) old  = NULL;
    g_autoptr(GError) err          = NULL;

    old = apply_record_read(k, plan->name, &err);
    if (err) {
        g_propagate_error(error, g_steal_pointer(&err));
        return -1;
    }
    want->source = source ? gre_state_source_path(source) : NULL;
    if (old) {
        g_autofree char *why = NULL;

        if (same_record(old, want)) {
            g_autoptr(GArray) ike_gone = g_array_new(FALSE, FALSE, sizeof(guint));
            gboolean present           = all_present(k, old, ike_gone, &why);

            if (present && ike_gone->len)
                return reload_ike(k, plan, old, want, ike_gone, error) ? 0 : -1;
            if (present) {
                k->report->unchanged = TRUE;
                apply_note(k, _("%s is already up as planned; nothing was changed"), plan->name);
                /* Brought up from another file now (the record says so, for `down --all`), or
                 * taken over from a service that died or from the admin (the record names who owns
                 * it now, so that it goes when they go and not when the last one does). */
                if ((want->source && g_strcmp0(old->source, want->source) != 0) ||
                    !gre_state_owner_equal(old->owner, want->owner))
                    return gre_state_write(want, error) ? 0 : -1;
                return 0;
            }
            apply_note(k,
                       _("%s was incomplete (%s): an interrupted `up`, or changed by hand; "
                         "recreating it"),
                       plan->name, why);
        } else {
            apply_note(k, _("the settings of %s changed; recreating it"), plan->name);
            note_changes(k, old, want);
        }
    }
    /* Before anything is changed, the previous instance included: a kernel that would stop the
     * tunnel after 2^32 packets is refused with nothing touched. */
    if (!check_oseq_wrap(k, plan, error))
        return -1;
    if (old) {
        if (!remove_recorded(k, old, error)) {
            g_prefix_error(error, _("cannot remove the previous instance of "));
            return -1;
        }
        if (!gre_state_delete(plan->name, error))
            return -1;
        k->report->recreated = TRUE;
    }

    if (!apply_kernel_open(k, apply_has_xfrm(plan->steps), error))
        return -1;
    /* Written before the first change: if this process dies half-way, the record still says
     * what may be left over, and the next `up` or `down` removes it. */
    if (!gre_state_write(want, error))
        return -1;
    *want_out = g_steal_pointer(&want);
    return 1;
}

/* The second half: steps [0, done) were attempted (@took says what became of each); without a
 * @failure `up` succeeded, otherwise exactly what was created is removed again, newest first:
 * whatever the kernel took, requests after the failed one in its batch included. */
static gboolean
up_end(Kernel *k, const GrePlan *plan, const ApplyTook *took, guint done, const char *failure,
       int code, gboolean *undo_failed, GError **error)
{
    g_autoptr(GString) undo_failures = NULL;

    if (!failure) {
        g_clear_pointer(&k->ike_keyid, g_free);
        return TRUE;
    }
    undo_failures = g_string_new(NULL);
    while (done-- > 0) {
        const GrePlanStep *step = &g_array_index(plan->steps, GrePlanStep, done);
        g_autofree char   *why  = NULL;

        if (took[done] == APPLY_TOOK_NO)
            continue;
        if (!remove_one(k, step, &why)) {
            g_autofree char *what = apply_describe(step);

            g_string_append_printf(undo_failures, "%s%s: %s", undo_failures->len ? "; " : "", what,
                                   why);
        } else if (took[done] == APPLY_TOOK_YES)
            k->report->created--;
    }
    if (undo_failures->len) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_KERNEL,
                    _("%s; undoing it also failed (%s): run `down %s` to remove what is left"),
                    failure, undo_failures->str, plan->name);
        g_clear_pointer(&k->ike_keyid, g_free);
        if (undo_failed)
            *undo_failed = TRUE;
        return FALSE;
    }
    g_clear_pointer(&k->ike_keyid, g_free);
    gre_state_delete(plan->name, NULL);
    g_set_error(error, GRE_ERROR, code, "%s%s", failure,
                k->report->recreated ? _(" (the previous instance had been removed already)") : "");
    return FALSE;
}

static gboolean
up_locked(Kernel *k, const GrePlan *plan, const char *source, GError **error)
{
    g_autoptr(GreStateRecord) want = NULL;
    g_autofree char      *failure  = NULL;
    g_autofree ApplyTook *took     = NULL;
    int                   code     = GRE_ERROR_KERNEL;
    guint                 done     = 0;
    int                   begun    = up_begin(k, plan, source, &want, error);

    if (begun <= 0)
        return begun == 0;
    took   = g_new0(ApplyTook, plan->steps->len);
    k->rec = want;
    apply_create(k, plan->steps, 0, fault_step(), &done, took, &failure, &code);
    k->rec = NULL;
    return up_end(k, plan, took, done, failure, code, NULL, error);
}

/* ---- a context shared by many tunnels ---- */

struct _GreApplyContext {
    GreNl *rt;
    GreNl *xfrm;
};

GreApplyContext *
gre_apply_context_new(void)
{
    return g_new0(GreApplyContext, 1);
}

void
gre_apply_context_free(GreApplyContext *ctx)
{
    if (!ctx)
        return;
    g_clear_pointer(&ctx->rt, gre_nl_close);
    g_clear_pointer(&ctx->xfrm, gre_nl_close);
    g_free(ctx);
}

GreNl *
gre_apply_context_route(GreApplyContext *ctx, GError **error)
{
    if (!ctx->rt)
        ctx->rt = gre_nl_open(NETLINK_ROUTE, error);
    return ctx->rt;
}

/* A Kernel on @ctx's sockets, or on sockets of its own without a context. */
static void
kernel_begin(Kernel *k, GreApplyContext *ctx, GreApplyReport *report)
{
    *k = (Kernel){ ctx ? ctx->rt : NULL, ctx ? ctx->xfrm : NULL, report };
}

/* What the call opened stays open in @ctx for the next tunnel. */
static void
kernel_end(Kernel *k, GreApplyContext *ctx)
{
    if (!ctx) {
        apply_kernel_clear(k);
        return;
    }
    ctx->rt   = k->rt;
    ctx->xfrm = k->xfrm;
}

/* ---- up and down ---- */

static gboolean
up_with(GreApplyContext *ctx, const GrePlan *plan, const char *source_or_null,
        const GreApplyOptions *options_or_null, GreApplyReport *report_or_null, GError **error)
{
    GreApplyReport local_report = { 0 };
    Kernel         k;
    GreStateLock  *lock;
    gboolean       ok;

    g_return_val_if_fail(plan && plan->steps, FALSE);
    kernel_begin(&k, ctx, report_or_null ? report_or_null : &local_report);
    k.opts = options_or_null;
    lock   = lock_and_prune(&k, plan->name, error);
    if (!lock) {
        kernel_end(&k, ctx);
        return FALSE;
    }
    ok = up_locked(&k, plan, source_or_null, error);
    kernel_end(&k, ctx);
    gre_state_unlock(lock);
    gre_apply_report_clear(&local_report);
    return ok;
}

gboolean
gre_apply_up_with(GreApplyContext *ctx, const GrePlan *plan, const char *source_or_null,
                  GreApplyReport *report_or_null, GError **error)
{
    return up_with(ctx, plan, source_or_null, NULL, report_or_null, error);
}

gboolean
gre_apply_up_with_options(GreApplyContext *ctx, const GrePlan *plan, const char *source_or_null,
                          const GreApplyOptions *options_or_null, GreApplyReport *report_or_null,
                          GError **error)
{
    return up_with(ctx, plan, source_or_null, options_or_null, report_or_null, error);
}

gboolean
gre_apply_up_full(const GrePlan *plan, const char *source_or_null,
                  const GreApplyOptions *options_or_null, GreApplyReport *report_or_null,
                  GError **error)
{
    return up_with(NULL, plan, source_or_null, options_or_null, report_or_null, error);
}

gboolean
gre_apply_up(const GrePlan *plan, GreApplyReport *report_or_null, GError **error)
{
    return gre_apply_up_full(plan, NULL, NULL, report_or_null, error);
}

/* ---- up without blocking on the IKE daemon ---- */

struct _GreApplyUp {
    Kernel          k;
    GreApplyReport  report;
    GreApplyOptions opts;
    GreStateLock   *lock;
    const GrePlan  *plan;
    GreStateRecord *want;
    ApplyTook      *took;
    guint           done; /* steps [0, done) were attempted */
    int             fault;
};

static void
up_free(GreApplyUp *up)
{
    apply_ike_wait_free(up->k.ike_wait);
    apply_kernel_clear(&up->k);
    gre_state_unlock(up->lock);
    gre_state_record_free(up->want);
    g_free(up->took);
    gre_apply_report_clear(&up->report);
    g_free(up);
}

/* Hands the report over and ends the transaction: what up_end() returned. */
static gboolean
up_done(GreApplyUp *up, gboolean ok, GreApplyReport *report_or_null)
{
    if (report_or_null) {
        gre_apply_report_clear(report_or_null);
        *report_or_null = up->report;
        up->report      = (GreApplyReport){ 0 };
    }
    up_free(up);
    return ok;
}

/* Creates from step up->done on; stops again at an initiate whose answer is to be waited for. */
static GreApplyProgress
up_continue(GreApplyUp *up, GreApplyReport *report_or_null, GError **error)
{
    g_autofree char *failure = NULL;
    int              code    = GRE_ERROR_KERNEL;

    up->k.rec = up->want;
    apply_create(&up->k, up->plan->steps, up->done, up->fault, &up->done, up->took, &failure,
                 &code);
    up->k.rec = NULL;
    if (!failure && up->k.ike_wait)
        return GRE_APPLY_WAITING;
    return up_done(up, up_end(&up->k, up->plan, up->took, up->done, failure, code, NULL, error),
                   report_or_null)
               ? GRE_APPLY_DONE
               : GRE_APPLY_FAILED;
}

GreApplyProgress
gre_apply_up_start(const GrePlan *plan, const GreApplyOptions *options_or_null,
                   GreApplyReport *report_or_null, GreApplyUp **waiting, GError **error)
{
    GreApplyUp      *up = g_new0(GreApplyUp, 1);
    GreApplyProgress progress;
    int              begun;

    g_return_val_if_fail(plan && plan->steps && waiting, GRE_APPLY_FAILED);
    *waiting = NULL;
    if (options_or_null)
        up->opts = *options_or_null;
    up->plan  = plan;
    up->fault = fault_step();
    up->k     = (Kernel){ .report = &up->report, .opts = &up->opts, .async = TRUE };
    if (!(up->lock = lock_and_prune(&up->k, plan->name, error)))
        return up_done(up, FALSE, report_or_null) ? GRE_APPLY_DONE : GRE_APPLY_FAILED;
    begun = up_begin(&up->k, plan, NULL, &up->want, error);
    if (begun <= 0)
        return up_done(up, begun == 0, report_or_null) ? GRE_APPLY_DONE : GRE_APPLY_FAILED;
    up->took = g_new0(ApplyTook, plan->steps->len);
    progress = up_continue(up, report_or_null, error);
    if (progress == GRE_APPLY_WAITING)
        *waiting = up;
    return progress;
}

GreApplyProgress
gre_apply_up_poll(GreApplyUp *up, GreApplyReport *report_or_null, GError **error)
{
    g_autofree char *why = NULL;
    int              code;
    int              r = apply_ike_wait_poll(&up->k, &why, &code);

    if (r == 0)
        return GRE_APPLY_WAITING;
    if (r < 0) {
        /* The connection's step undid itself: it is not the rollback's any more. */
        const GrePlanStep *step    = &g_array_index(up->plan->steps, GrePlanStep, up->done - 1);
        g_autofree char   *what    = apply_describe(step);
        g_autofree char   *failure = g_strdup_printf("%s: %s", what, why);

        up->took[up->done - 1] = APPLY_TOOK_NO;
        up->report.created--;
        return up_done(up, up_end(&up->k, up->plan, up->took, up->done, failure, code, NULL, error),
                       report_or_null)
                   ? GRE_APPLY_DONE
                   : GRE_APPLY_FAILED;
    }
    return up_continue(up, report_or_null, error);
}

gboolean
gre_apply_up_cancel(GreApplyUp *up, GreApplyReport *report_or_null, GError **error)
{
    g_autoptr(GError) local = NULL;
    gboolean undo_failed    = FALSE;

    /* The daemon's answer is not waited for; the rollback unloads the connection, and with it
     * ends the IKE_SA that is still trying. */
    g_clear_pointer(&up->k.ike_wait, apply_ike_wait_free);
    up_end(&up->k, up->plan, up->took, up->done, _("given up before the IKE daemon answered"),
           GRE_ERROR_KERNEL, &undo_failed, &local);
    /* Only an undo that failed is an error here: giving up is what was asked for. */
    if (undo_failed)
        g_propagate_error(error, g_steal_pointer(&local));
    return up_done(up, !undo_failed, report_or_null);
}

/* ---- down ---- */

/* What `down` does once the record is read, under the tunnel's lock: its objects removed, in the
 * kernel and in the IKE daemon, then the record. Reclaiming an orphan is the same. */
static gboolean
down_recorded(Kernel *k, const GreStateRecord *rec, GError **error)
{
    return remove_recorded(k, rec, error) && gre_state_delete(rec->name, error);
}

gboolean
gre_apply_down_full(const char *name, GreApplyReport *report_or_null, GError **error)
{
    return gre_apply_down_with(NULL, name, report_or_null, error);
}

gboolean
gre_apply_down_with(GreApplyContext *ctx, const char *name, GreApplyReport *report_or_null,
                    GError **error)
{
    g_autoptr(GreStateRecord) rec = NULL;
    g_autoptr(GError) err         = NULL;
    Kernel        k;
    GreStateLock *lock;
    gboolean      ok = FALSE;

    kernel_begin(&k, ctx, report_or_null);
    lock = lock_and_prune(&k, name, error);
    if (!lock)
        return FALSE;
    rec = apply_record_read(&k, name, &err);
    if (err)
        g_propagate_error(error, g_steal_pointer(&err));
    else if (!rec) {
        apply_note(&k, _("%s has no ownership record: nothing to remove"), name);
        ok = TRUE;
    } else
        ok = down_recorded(&k, rec, error);
    kernel_end(&k, ctx);
    gre_state_unlock(lock);
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
    for (guint i = 0; report.warnings && i < report.warnings->len; i++)
        g_warning("%s", (const char *)report.warnings->pdata[i]);
    return TRUE;
}

/* ---- orphans ---- */

/* Whether @rec is to be reclaimed: owned by @owner, or (without @owner) by a process that is
 * gone. */
static gboolean
reclaimable(const GreStateRecord *rec, const GreStateOwner *owner)
{
    if (owner)
        return gre_state_owner_equal(rec->owner, owner);
    return gre_state_owner_state(rec->owner) == GRE_OWNER_GONE;
}

gboolean
gre_apply_reclaim(const GreStateOwner *owner_or_null, GreApplyReport *report_or_null,
                  GError **error)
{
    g_autoptr(GPtrArray) names = gre_state_list(error);
    Kernel   k;
    gboolean ok = TRUE;

    if (!names)
        return FALSE;
    kernel_begin(&k, NULL, report_or_null);
    for (guint i = 0; i < names->len; i++) {
        const char *name              = names->pdata[i];
        g_autoptr(GreStateRecord) rec = NULL;
        g_autoptr(GError) err         = NULL;
        g_autofree char *who          = NULL;
        GreStateLock    *lock         = lock_and_prune(&k, name, &err);

        /* Decided under the tunnel's lock: a new owner may have taken it over a moment ago. */
        if (lock && (rec = gre_state_read(name, &err)) && reclaimable(rec, owner_or_null)) {
            who = g_strdup_printf("%s (pid %" G_GUINT64_FORMAT ")", rec->owner->program,
                                  rec->owner->pid);
            if (down_recorded(&k, rec, &err))
                apply_note(&k, _("%s: removed what it held: its owner %s is gone"), name, who);
        }
        gre_state_unlock(lock);
        if (err) {
            if (ok)
                g_propagate_error(error, g_steal_pointer(&err));
            ok = FALSE;
        }
    }
    kernel_end(&k, NULL);
    return ok;
}
