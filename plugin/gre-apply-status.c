/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-apply-private.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "gre-error.h"
#include "gre-i18n.h"

/* `status`: what the kernel reports about each recorded object. */

/* ---- status ---- */

static void
status_link(Kernel *k, const GrePlanLink *l, GString *out)
{
    g_autoptr(RtnlLink) link = NULL;
    g_autofree char *local = NULL, *remote = NULL;
    Probe            p = { 0 };
    LinkTunnel       t;

    if (apply_probe_link(k, l, &p, &link) != OBJ_PRESENT) {
        g_string_append_printf(out, "  link %s: %s\n", l->name,
                               p.state == OBJ_ABSENT ? "missing" : p.why);
        apply_probe_clear(&p);
        return;
    }
    apply_probe_clear(&p);
    apply_link_tunnel(link, l->ip6, &t);
    local  = gre_addr_to_string(&l->local);
    remote = gre_addr_to_string(&l->remote);
    g_string_append_printf(out, "  link %s: %s, %s, local %s remote %s, mtu %u, ttl ", l->name,
                           rtnl_link_get_type(link),
                           (rtnl_link_get_flags(link) & IFF_UP) ? "up" : "DOWN", local, remote,
                           rtnl_link_get_mtu(link));
    if (t.ttl)
        g_string_append_printf(out, "%u", t.ttl);
    else
        g_string_append(out, "inherit");
    if (t.iflags & GRE_KEY)
        g_string_append_printf(out, ", ikey %u", t.ikey);
    if (t.oflags & GRE_KEY)
        g_string_append_printf(out, ", okey %u", t.okey);
    if ((t.iflags | t.oflags) & GRE_SEQ)
        g_string_append(out, ", seq");
    if ((t.iflags | t.oflags) & GRE_CSUM)
        g_string_append(out, ", csum");
    if (!l->ip6)
        g_string_append_printf(out, ", pmtudisc %s",
                               rtnl_link_ipgre_get_pmtudisc(link) ? "on" : "off");
    g_string_append_c(out, '\n');
    if (!t.ttl)
        g_string_append(out, _("  warning: TTL inherit: the tunnel is translucent; traceroute "
                               "across it and TTL-expired messages will misbehave (set TTL=64)\n"));
}

static void
status_addresses(Kernel *k, const char *dev, GString *out)
{
    g_autoptr(GArray) addrs = g_array_new(FALSE, TRUE, sizeof(AddrEntry));
    int ifindex             = gre_nl_ifindex(k->rt, dev);

    if (!ifindex || apply_dump_addrs(k, AF_UNSPEC, ifindex, addrs) < 0)
        return;
    for (guint i = 0; i < addrs->len; i++) {
        const AddrEntry *a  = &g_array_index(addrs, AddrEntry, i);
        g_autofree char *ls = gre_addr_to_string(&a->local);
        g_autofree char *ps = NULL;

        if (a->peer.family != AF_UNSPEC) {
            ps = gre_addr_to_string(&a->peer);
            g_string_append_printf(out, "  address %s peer %s/%d\n", ls, ps, a->plen);
        } else
            g_string_append_printf(out, "  address %s/%d\n", ls, a->plen);
    }
}

static void
status_state(Kernel *k, const GrePlanState *st, GString *out)
{
    g_autofree char *what = NULL;
    GrePlanStep      step = { .kind = GRE_STEP_XFRM_STATE, .state = *st };
    SaInfo           sa;
    int              err;

    what = apply_describe(&step);
    err  = apply_sa_get(k->xfrm, &st->dst, st->spi, &sa);
    if (err < 0) {
        g_autofree char *why =
            apply_gone(k->xfrm) ? g_strdup("missing") : gre_nl_error_text(k->xfrm, err);

        g_string_append_printf(out, "  %s: %s\n", what, why);
        return;
    }
    g_string_append_printf(out,
                           "  %s (%s%s): %" G_GUINT64_FORMAT " bytes, %" G_GUINT64_FORMAT
                           " packets, %u integrity failures\n",
                           what, sa.alg,
                           sa.extra_flags & XFRM_SA_XFLAG_OSEQ_MAY_WRAP ? ", oseq-may-wrap" : "",
                           sa.bytes, sa.packets, sa.integrity_failed);
}

/* The header line: the name, and for a record a process owns, whether that process is there. */
static void
status_owner(const GreStateRecord *rec, GString *out)
{
    const GreStateOwner *o = rec->owner;

    switch (gre_state_owner_state(o)) {
    case GRE_OWNER_NONE:
        g_string_append_printf(out, "%s:\n", rec->name);
        break;
    case GRE_OWNER_ALIVE:
        g_string_append_printf(out, _("%s: owned by %s (pid %llu)\n"), rec->name, o->program,
                               (unsigned long long)o->pid);
        break;
    case GRE_OWNER_GONE:
        g_string_append_printf(out,
                               _("%s: orphaned: its owner %s (pid %llu) is gone; it holds what is "
                                 "listed below, and `gre-tunnel down "
                                 "%s` removes it\n"),
                               rec->name, o->program, (unsigned long long)o->pid, rec->name);
        break;
    case GRE_OWNER_UNKNOWN:
        g_string_append_printf(out,
                               _("%s: owned by %s (pid %llu in another PID namespace: whether it "
                                 "still runs cannot be "
                                 "told from here)\n"),
                               rec->name, o->program, (unsigned long long)o->pid);
        break;
    }
}

static void
status_one(Kernel *k, const GreStateRecord *rec, GString *out)
{
    status_owner(rec, out);
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
            what = apply_describe(step);
            apply_probe_step(k, step, &p);
            g_string_append_printf(out, "  %s: %s\n", what,
                                   p.state == OBJ_PRESENT  ? "present"
                                   : p.state == OBJ_ABSENT ? "missing"
                                                           : p.why);
            apply_probe_clear(&p);
            break;
        case GRE_STEP_LINK:
        case GRE_STEP_ADDR:
        case GRE_STEP_LINK_UP:
            break; /* shown with the link, as the kernel has them */
        case GRE_STEP_IKE_SHARED:
        case GRE_STEP_IKE_CA:
        case GRE_STEP_IKE_KEY:
            break; /* credentials: nothing to show */
        case GRE_STEP_IKE_CONN:
            apply_ike_status(&step->ike_conn, out);
            break;
        }
    }
}

static int
cmp_str(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

/* The names with a record here, and those with one an earlier version left for the whole host
 * (whose namespace apply_record_read decides). */
static GPtrArray *
all_names(GError **error)
{
    g_autoptr(GPtrArray) names  = gre_state_list(error);
    g_autoptr(GPtrArray) legacy = NULL;

    if (!names || !(legacy = gre_state_list_legacy(error)))
        return NULL;
    for (guint i = 0; i < legacy->len; i++) {
        if (!g_ptr_array_find_with_equal_func(names, legacy->pdata[i], g_str_equal, NULL))
            g_ptr_array_add(names, g_strdup(legacy->pdata[i]));
    }
    g_ptr_array_sort(names, cmp_str);
    return g_steal_pointer(&names);
}

static void
status_notes(GreApplyReport *report, GString *out)
{
    for (guint i = 0; report->notes && i < report->notes->len; i++)
        g_string_append_printf(out, "%s\n", (const char *)report->notes->pdata[i]);
    if (report->notes)
        g_ptr_array_set_size(report->notes, 0);
}

/* Records whose namespace is gone: nothing of them is left in the kernel. */
static void
status_stale(const char *name_or_null, GString *out)
{
    g_autoptr(GPtrArray) stale = gre_state_list_stale();

    for (guint i = 0; i < stale->len; i++) {
        const char      *path = stale->pdata[i];
        g_autofree char *base = g_path_get_basename(path);

        base[strlen(base) - strlen(".state")] = '\0';
        if (name_or_null && !g_str_equal(base, name_or_null))
            continue;
        g_string_append_printf(out,
                               _("%s: stale: the network namespace it was brought up in no "
                                 "longer exists, and the kernel removed its objects with it (%s; "
                                 "the next `up` or `down` removes the record)\n"),
                               base, path);
    }
}

gboolean
gre_apply_status(const char *name_or_null, GString *out, GError **error)
{
    g_autoptr(GPtrArray) names    = NULL;
    g_auto(GreApplyReport) report = { 0 };
    Kernel   k                    = { NULL, NULL, &report, NULL };
    gboolean ok                   = TRUE;

    if (name_or_null) {
        names = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(names, g_strdup(name_or_null));
    } else if (!(names = all_names(error)))
        return FALSE;

    for (guint i = 0; ok && i < names->len; i++) {
        const char *name              = names->pdata[i];
        g_autoptr(GreStateRecord) rec = apply_record_read(&k, name, error);

        status_notes(&report, out);
        if (!rec) {
            if (error && *error)
                ok = FALSE;
            else
                g_string_append_printf(out, _("%s: not up (no ownership record)\n"), name);
            continue;
        }
        if (!apply_kernel_open(&k, apply_has_xfrm(rec->steps), error)) {
            ok = FALSE;
            break;
        }
        status_one(&k, rec, out);
    }
    if (ok)
        status_stale(name_or_null, out);
    apply_kernel_clear(&k);
    return ok;
}
