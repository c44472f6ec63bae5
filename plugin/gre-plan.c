/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-plan.h"

#include <string.h>
#include <sys/socket.h>

#include "gre-error.h"
#include "gre-i18n.h"
#include "gre-mtu.h"
#include "gre-settings-table.h"

static void
step_clear(gpointer data)
{
    GrePlanStep *step = data;

    if (step->kind == GRE_STEP_XFRM_STATE) {
        g_clear_pointer(&step->state.enc_key, g_bytes_unref);
        g_clear_pointer(&step->state.auth_key, g_bytes_unref);
    }
    if (step->kind == GRE_STEP_IKE_SHARED)
        g_clear_pointer(&step->ike_shared.psk, g_bytes_unref);
}

void
gre_plan_free(GrePlan *plan)
{
    if (!plan)
        return;
    g_array_unref(plan->steps);
    g_free(plan);
}

static gboolean
remote_is_covered(const GreSettings *s)
{
    /* A tunnel route (or the subnet of an inner address) that contains the outer remote would
     * send the tunnel's own packets into the tunnel. */
    for (guint i = 0; i < s->routes->len; i++) {
        if (gre_prefix_contains(&g_array_index(s->routes, GreRoute, i).dst, &s->remote))
            return TRUE;
    }
    return gre_prefix_contains(&s->inner4, &s->remote) ||
           gre_prefix_contains(&s->inner6, &s->remote);
}

static void
add_step(GrePlan *plan, const GrePlanStep *step)
{
    g_array_append_vals(plan->steps, step, 1);
}

static void
add_ipsec(GrePlan *plan, const GreSettings *s, const GreAddr *local)
{
    const GreSuiteInfo *suite = gre_suite_info(s->suite);
    GrePlanStep         out   = { .kind = GRE_STEP_XFRM_STATE };
    GrePlanStep         in    = { .kind = GRE_STEP_XFRM_STATE };
    GrePlanStep         pout  = { .kind = GRE_STEP_XFRM_POLICY };
    GrePlanStep         pin   = { .kind = GRE_STEP_XFRM_POLICY };

    /* The reqid ties a policy to its SA; the SPI is already unique per direction. */
    out.state = (GrePlanState){ *local,
                                s->remote,
                                s->spi_out,
                                s->spi_out,
                                suite,
                                g_bytes_ref(s->enc_key_out),
                                s->auth_key_out ? g_bytes_ref(s->auth_key_out) : NULL,
                                TRUE };
    in.state  = (GrePlanState){ s->remote,
                                *local,
                                s->spi_in,
                                s->spi_in,
                                suite,
                                g_bytes_ref(s->enc_key_in),
                               s->auth_key_in ? g_bytes_ref(s->auth_key_in) : NULL,
                                FALSE };
    add_step(plan, &out);
    add_step(plan, &in);

    pout.policy =
        (GrePlanPolicy){ *local, s->remote, GRE_DIR_OUT, s->has_okey, s->okey, s->spi_out, 0 };
    pin.policy =
        (GrePlanPolicy){ s->remote, *local, GRE_DIR_IN, s->has_ikey, s->ikey, s->spi_in, 0 };
    add_step(plan, &pout);
    add_step(plan, &pin);
}

/* An identity as set, or the outer address it defaults to. */
static void
ike_id(char out[GRE_IKE_ID_MAX], const char *set, const GreAddr *addr)
{
    g_autofree char *a = gre_addr_to_string(addr);

    g_strlcpy(out, set ? set : a, GRE_IKE_ID_MAX);
}

static void
add_ike(GrePlan *plan, const GreSettings *s, const GreAddr *local)
{
    GrePlanStep         shared = { .kind = GRE_STEP_IKE_SHARED };
    GrePlanStep         conn   = { .kind = GRE_STEP_IKE_CONN };
    const GreSuiteInfo *suite  = gre_suite_info(s->suite);
    const char         *sock   = gre_key_text(GRE_KEY_IKE_VICI_SOCKET, s);

    /* Fail-closed without the daemon: charon removes its policies when it stops, and GRE from
     * the peer would then reach the link in the clear. Two block policies per direction, mark
     * 0/1 and 1/1, cover every packet mark between them; they come first, so they exist
     * before the daemon's and outlive them, and `down` removes them last. */
    for (guint dir = 0; dir < 2; dir++) {
        for (guint32 mark = 0; mark < 2; mark++) {
            GrePlanStep    block = { .kind = GRE_STEP_XFRM_POLICY };
            gboolean       out   = dir == GRE_DIR_OUT;
            GrePlanPolicy *p     = &block.policy;

            p->src        = out ? *local : s->remote;
            p->dst        = out ? s->remote : *local;
            p->dir        = dir;
            p->has_grekey = out ? s->has_okey : s->has_ikey;
            p->grekey     = out ? s->okey : s->ikey;
            p->priority   = GRE_IKE_BLOCK_PRIORITY;
            p->block      = TRUE;
            p->mark       = mark;
            p->mark_mask  = 1;
            add_step(plan, &block);
        }
    }

    /* One name per tunnel device: device names are unique in a namespace, and one daemon
     * serves one namespace. */
    if (s->ike_auth == GRE_IKE_AUTH_CERT) {
        /* The CA first, so the connection can name it; the key before the connection that
         * uses it. All three are read by gre-tunnel (charon's AppArmor profile may not let it
         * read the paths) when `up` loads them. */
        GrePlanStep ca  = { .kind = GRE_STEP_IKE_CA };
        GrePlanStep key = { .kind = GRE_STEP_IKE_KEY };

        g_snprintf(ca.ike_cred.name, GRE_IKE_NAME_MAX, "gre-%s", s->name);
        g_strlcpy(ca.ike_cred.socket, sock, GRE_IKE_SOCKET_MAX);
        g_strlcpy(ca.ike_cred.file, s->ike_cacert, GRE_IKE_ID_MAX);
        add_step(plan, &ca);
        g_snprintf(key.ike_cred.name, GRE_IKE_NAME_MAX, "gre-%s", s->name);
        g_strlcpy(key.ike_cred.socket, sock, GRE_IKE_SOCKET_MAX);
        g_strlcpy(key.ike_cred.file, s->ike_privkey, GRE_IKE_ID_MAX);
        add_step(plan, &key);
        conn.ike_conn.cert = TRUE;
        g_strlcpy(conn.ike_conn.cert_file, s->ike_cert, GRE_IKE_ID_MAX);
    } else {
        g_snprintf(shared.ike_shared.name, GRE_IKE_NAME_MAX, "gre-%s", s->name);
        g_strlcpy(shared.ike_shared.socket, sock, GRE_IKE_SOCKET_MAX);
        ike_id(shared.ike_shared.local_id, s->ike_local_id, local);
        ike_id(shared.ike_shared.remote_id, s->ike_remote_id, &s->remote);
        shared.ike_shared.psk = g_bytes_ref(s->ike_psk);
        add_step(plan, &shared);
    }

    g_snprintf(conn.ike_conn.name, GRE_IKE_NAME_MAX, "gre-%s", s->name);
    g_strlcpy(conn.ike_conn.socket, sock, GRE_IKE_SOCKET_MAX);
    conn.ike_conn.local  = *local;
    conn.ike_conn.remote = s->remote;
    ike_id(conn.ike_conn.local_id, s->ike_local_id, local);
    ike_id(conn.ike_conn.remote_id, s->ike_remote_id, &s->remote);
    g_strlcpy(conn.ike_conn.proposals, gre_key_text(GRE_KEY_IKE_PROPOSALS, s), GRE_IKE_ID_MAX);
    /* Exactly the suite, so the MTU computed for it holds; a fixed group for PFS, so rekeys
     * from either end agree. */
    g_snprintf(conn.ike_conn.esp_proposals, GRE_IKE_ID_MAX, "%s-%s", suite->name,
               gre_key_text(GRE_KEY_IKE_ESP_DH, s));
    conn.ike_conn.suite = suite;
    conn.ike_conn.rekey_time =
        s->ike_rekey_time
            ? s->ike_rekey_time
            : (guint)g_ascii_strtoull(gre_key_info(GRE_KEY_IKE_REKEY_TIME)->def, NULL, 10);
    conn.ike_conn.dpd_delay =
        s->ike_dpd_delay
            ? s->ike_dpd_delay
            : (guint)g_ascii_strtoull(gre_key_info(GRE_KEY_IKE_DPD_DELAY)->def, NULL, 10);
    conn.ike_conn.rekey_packets = GRE_IKE_REKEY_PACKETS;
    add_step(plan, &conn);
}

static void
add_addr(GrePlan *plan, const GreSettings *s, const GrePrefix *local, const GreAddr *peer)
{
    GrePlanStep step = { .kind = GRE_STEP_ADDR };

    if (local->addr.family == AF_UNSPEC)
        return;
    g_strlcpy(step.addr.dev, s->name, sizeof step.addr.dev);
    step.addr.local = local->addr;
    step.addr.peer  = *peer;
    step.addr.plen  = local->plen;
    add_step(plan, &step);
}

GrePlan *
gre_plan_build(const GreSettings *s, const GrePlanEnv *env, GError **error)
{
    g_autoptr(GrePlan) plan = g_new0(GrePlan, 1);
    GreAddr          local;
    guint            max;
    GrePlanStep      step;
    g_autofree char *remote = gre_addr_to_string(&s->remote);

    g_strlcpy(plan->name, s->name, sizeof plan->name);
    plan->steps = g_array_new(FALSE, TRUE, sizeof(GrePlanStep));
    g_array_set_clear_func(plan->steps, step_clear);

    local = s->local.family != AF_UNSPEC ? s->local : env->local;
    if (local.family != s->remote.family) {
        g_set_error(
            error, GRE_ERROR, GRE_ERROR_INVALID,
            _("the outer local address is auto, but this host has no %s route to %s to take "
              "a source address from; set it explicitly"),
            s->remote.family == AF_INET6 ? "IPv6" : "IPv4", remote);
        return NULL;
    }

    plan->underlay_mtu = s->underlay_mtu ? s->underlay_mtu : env->route_mtu;
    if (!plan->underlay_mtu) {
        plan->underlay_mtu         = 1500;
        plan->underlay_mtu_assumed = TRUE;
    }
    max = gre_mtu_compute(s, plan->underlay_mtu, NULL);
    if (max < 68) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_INVALID,
                    _("an underlay MTU of %u leaves no room for the tunnel's headers"),
                    plan->underlay_mtu);
        return NULL;
    }
    if (s->mtu && s->mtu > max && !plan->underlay_mtu_assumed) {
        g_set_error(
            error, GRE_ERROR, GRE_ERROR_INVALID,
            /* TRANSLATORS: the second and third %s are " on " and a device name, or nothing */
            _("MTU %u does not fit: the underlay MTU is %u%s%s, so the largest packet that "
              "fits is %u; set MTU=auto or at most %u"),
            s->mtu, plan->underlay_mtu, env->route_dev[0] ? _(" on ") : "", env->route_dev, max,
            max);
        return NULL;
    }
    plan->mtu = s->mtu ? s->mtu : max;

    /* IPsec first, so that no GRE packet ever leaves, or is accepted, in the clear. */
    if (s->ipsec == GRE_IPSEC_MANUAL)
        add_ipsec(plan, s, &local);
    else if (s->ipsec == GRE_IPSEC_IKE)
        add_ike(plan, s, &local);

    plan->pinned = s->pin == GRE_PIN_YES || (s->pin == GRE_PIN_AUTO && remote_is_covered(s));
    if (plan->pinned) {
        if (!env->route_dev[0]) {
            g_set_error(error, GRE_ERROR, GRE_ERROR_INVALID,
                        _("the route to %s must be pinned to the underlay (a tunnel route covers "
                          "it), but this host has no route to it"),
                        remote);
            return NULL;
        }
        step                = (GrePlanStep){ .kind = GRE_STEP_ROUTE };
        step.route.dst.addr = s->remote;
        step.route.dst.plen = gre_addr_max_plen(s->remote.family);
        step.route.gateway  = env->route_gateway;
        step.route.pin      = TRUE;
        g_strlcpy(step.route.dev, env->route_dev, sizeof step.route.dev);
        add_step(plan, &step);
    }

    step = (GrePlanStep){ .kind = GRE_STEP_LINK };
    g_strlcpy(step.link.name, s->name, sizeof step.link.name);
    g_strlcpy(step.link.underlay, s->underlay, sizeof step.link.underlay);
    step.link.ip6        = s->remote.family == AF_INET6;
    step.link.local      = local;
    step.link.remote     = s->remote;
    step.link.has_ikey   = s->has_ikey;
    step.link.has_okey   = s->has_okey;
    step.link.ikey       = s->ikey;
    step.link.okey       = s->okey;
    step.link.seq        = s->seq;
    step.link.csum       = s->csum;
    step.link.ttl        = s->ttl;
    step.link.tos        = s->tos;
    step.link.pmtudisc   = s->pmtudisc;
    step.link.encaplimit = step.link.ip6 ? s->encaplimit : GRE_ENCAPLIMIT_NONE;
    step.link.mtu        = plan->mtu;
    add_step(plan, &step);

    /* Up before addresses: an IPv6 address with a peer added to a down link never gets its
     * peer route. Addresses before routes: routes need a local address to send from. */
    step = (GrePlanStep){ .kind = GRE_STEP_LINK_UP };
    g_strlcpy(step.up_dev, s->name, sizeof step.up_dev);
    add_step(plan, &step);

    add_addr(plan, s, &s->inner4, &s->inner4_peer);
    add_addr(plan, s, &s->inner6, &s->inner6_peer);

    for (guint i = 0; i < s->routes->len; i++) {
        const GreRoute *r = &g_array_index(s->routes, GreRoute, i);

        step              = (GrePlanStep){ .kind = GRE_STEP_ROUTE };
        step.route.dst    = r->dst;
        step.route.src    = r->dst.addr.family == AF_INET ? s->inner4.addr : s->inner6.addr;
        step.route.metric = r->metric;
        g_strlcpy(step.route.dev, s->name, sizeof step.route.dev);
        add_step(plan, &step);
    }
    return g_steal_pointer(&plan);
}

/* ---- rendering as ip(8) commands ---- */

static void
append_key(GString *out, GBytes *key, gboolean show_secrets)
{
    gsize         n = 0;
    const guint8 *d = key ? g_bytes_get_data(key, &n) : NULL;

    if (!d) {
        /* Steps read back from an ownership record carry no key material. */
        g_string_append(out, "<secret>");
        return;
    }
    if (!show_secrets) {
        g_string_append_printf(out, "<secret:%zu-bytes>", n);
        return;
    }
    /* By hand: printf's scratch buffers would leave key bytes in freed memory. */
    g_string_append(out, "0x");
    for (gsize i = 0; i < n; i++) {
        g_string_append_c(out, "0123456789abcdef"[d[i] >> 4]);
        g_string_append_c(out, "0123456789abcdef"[d[i] & 0xf]);
    }
}

static void
render_state(GString *out, const GrePlanState *st, gboolean show_secrets, gboolean add)
{
    g_autofree char *src = gre_addr_to_string(&st->src);
    g_autofree char *dst = gre_addr_to_string(&st->dst);

    if (!add) {
        g_string_append_printf(out, "ip xfrm state delete src %s dst %s proto esp spi 0x%08x", src,
                               dst, st->spi);
        return;
    }
    g_string_append_printf(out,
                           "ip xfrm state add src %s dst %s proto esp spi 0x%08x reqid %u "
                           "mode transport ",
                           src, dst, st->spi, st->reqid);
    if (st->suite->aead) {
        g_string_append_printf(out, "aead '%s' ", st->suite->aead);
        append_key(out, st->enc_key, show_secrets);
        g_string_append_printf(out, " %u", st->suite->icv_len * 8);
    } else {
        g_string_append_printf(out, "enc '%s' ", st->suite->enc);
        append_key(out, st->enc_key, show_secrets);
        g_string_append_printf(out, " auth-trunc '%s' ", st->suite->auth);
        append_key(out, st->auth_key, show_secrets);
        g_string_append_printf(out, " %u", st->suite->icv_len * 8);
    }
    if (st->oseq_may_wrap)
        g_string_append(out, " extra-flag oseq-may-wrap");
}

static void
render_policy(GString *out, const GrePlanPolicy *p, gboolean add)
{
    g_autofree char *src  = gre_addr_to_string(&p->src);
    g_autofree char *dst  = gre_addr_to_string(&p->dst);
    guint            plen = gre_addr_max_plen(p->src.family);

    g_string_append_printf(out, "ip xfrm policy %s src %s/%u dst %s/%u proto gre",
                           add ? "add" : "delete", src, plen, dst, plen);
    if (p->has_grekey)
        g_string_append_printf(out, " key %u", p->grekey);
    g_string_append_printf(out, " dir %s", p->dir == GRE_DIR_OUT ? "out" : "in");
    if (p->mark_mask)
        g_string_append_printf(out, " mark %u mask %u", p->mark, p->mark_mask);
    if (p->priority && add)
        g_string_append_printf(out, " priority %u", p->priority);
    if (add && p->block)
        g_string_append(out, " action block");
    else if (add)
        g_string_append_printf(out, " tmpl src %s dst %s proto esp reqid %u mode transport", src,
                               dst, p->reqid);
}

static void
render_route(GString *out, const GrePlanRoute *r, gboolean add)
{
    g_autofree char *dst = gre_prefix_to_string(&r->dst);

    g_string_append_printf(out, "ip %sroute %s %s", r->dst.addr.family == AF_INET6 ? "-6 " : "",
                           add ? "add" : "delete", dst);
    if (r->gateway.family != AF_UNSPEC) {
        g_autofree char *gw = gre_addr_to_string(&r->gateway);
        g_string_append_printf(out, " via %s", gw);
    }
    g_string_append_printf(out, " dev %s", r->dev);
    if (r->src.family != AF_UNSPEC && add) {
        g_autofree char *src = gre_addr_to_string(&r->src);
        g_string_append_printf(out, " src %s", src);
    }
    if (add)
        g_string_append(out, " proto static");
    if (r->metric)
        g_string_append_printf(out, " metric %u", r->metric);
}

static void
render_link(GString *out, const GrePlanLink *l)
{
    g_autofree char *local  = gre_addr_to_string(&l->local);
    g_autofree char *remote = gre_addr_to_string(&l->remote);

    g_string_append_printf(out, "ip link add %s mtu %u type %s local %s remote %s", l->name, l->mtu,
                           l->ip6 ? "ip6gre" : "gre", local, remote);
    if (l->underlay[0])
        g_string_append_printf(out, " dev %s", l->underlay);
    if (l->has_ikey)
        g_string_append_printf(out, " ikey %u", l->ikey);
    if (l->has_okey)
        g_string_append_printf(out, " okey %u", l->okey);
    if (l->seq)
        g_string_append(out, " iseq oseq");
    if (l->csum)
        g_string_append(out, " icsum ocsum");
    if (l->ip6) {
        if (l->ttl)
            g_string_append_printf(out, " hoplimit %u", l->ttl);
        else
            g_string_append(out, " hoplimit inherit");
        if (l->tos == GRE_TOS_INHERIT)
            g_string_append(out, " tclass inherit");
        else
            g_string_append_printf(out, " tclass 0x%02x", l->tos);
        if (l->encaplimit == GRE_ENCAPLIMIT_NONE)
            g_string_append(out, " encaplimit none");
        else
            g_string_append_printf(out, " encaplimit %d", l->encaplimit);
        return;
    }
    if (l->ttl)
        g_string_append_printf(out, " ttl %u", l->ttl);
    else
        g_string_append(out, " ttl inherit");
    if (l->tos == GRE_TOS_INHERIT)
        g_string_append(out, " tos inherit");
    else
        g_string_append_printf(out, " tos 0x%02x", l->tos);
    if (!l->pmtudisc)
        g_string_append(out, " nopmtudisc");
}

static void
render_addr(GString *out, const GrePlanAddr *a, gboolean add)
{
    g_autofree char *local = gre_addr_to_string(&a->local);
    const char      *nodad = add && a->local.family == AF_INET6 ? " nodad" : "";

    if (a->peer.family != AF_UNSPEC) {
        g_autofree char *peer = gre_addr_to_string(&a->peer);
        g_string_append_printf(out, "ip addr %s %s peer %s/%u dev %s%s", add ? "add" : "delete",
                               local, peer, a->plen, a->dev, nodad);
    } else
        g_string_append_printf(out, "ip addr %s %s/%u dev %s%s", add ? "add" : "delete", local,
                               a->plen, a->dev, nodad);
}

/* IPSEC=ike: what is loaded into the daemon, as the swanctl.conf fragment that would load the
 * same (one setting a line, as swanctl wants). */
static void
render_ike_conn(GString *out, const GrePlanIkeConn *c, gboolean add)
{
    g_autofree char *local  = gre_addr_to_string(&c->local);
    g_autofree char *remote = gre_addr_to_string(&c->remote);
    guint            plen   = gre_addr_max_plen(c->local.family);
    const char      *auth   = c->cert ? "pubkey" : "psk";

    if (!add) {
        g_string_append_printf(out, "vici %s: unload-conn %s", c->socket, c->name);
        return;
    }
    g_string_append_printf(
        out,
        "vici %s: load-conn, then initiate child gre\n"
        "connections {\n"
        "    %s {\n"
        "        version = 2\n"
        "        local_addrs = %s\n"
        "        remote_addrs = %s\n"
        "        proposals = %s\n"
        "        mobike = no\n"
        "        dpd_delay = %us\n"
        "        local {\n"
        "            auth = %s\n"
        "            id = %s\n"
        "%s%s%s"
        "        }\n"
        "        remote {\n"
        "            auth = %s\n"
        "            id = %s\n"
        "%s"
        "        }\n"
        "        children {\n"
        "            gre {\n"
        "                mode = transport\n"
        "                local_ts = %s/%u[gre]\n"
        "                remote_ts = %s/%u[gre]\n"
        "                esp_proposals = %s\n"
        "                rekey_time = %us\n"
        "                rekey_packets = %u\n"
        "                start_action = trap\n"
        "                dpd_action = trap\n"
        "                close_action = trap\n"
        "            }\n"
        "        }\n"
        "    }\n"
        "}",
        c->socket, c->name, local, remote, c->proposals, c->dpd_delay, auth, c->local_id,
        c->cert ? "            certs = " : "", c->cert ? c->cert_file : "", c->cert ? "\n" : "",
        auth, c->remote_id, c->cert ? "            ca_id = <the subject of IKE_CACERT>\n" : "",
        local, plen, remote, plen, c->esp_proposals, c->rekey_time, c->rekey_packets);
}

static void
render_ike_shared(GString *out, const GrePlanIkeShared *sh, gboolean show_secrets, gboolean add)
{
    if (!add) {
        g_string_append_printf(out, "vici %s: unload-shared %s", sh->socket, sh->name);
        return;
    }
    g_string_append_printf(out,
                           "vici %s: load-shared\n"
                           "secrets {\n"
                           "    ike-%s {\n"
                           "        id-local = %s\n"
                           "        id-remote = %s\n"
                           "        secret = ",
                           sh->socket, sh->name, sh->local_id, sh->remote_id);
    if (!sh->psk)
        g_string_append(out, "<secret>");
    else if (!show_secrets)
        g_string_append_printf(out, "<secret:%zu-bytes>", g_bytes_get_size(sh->psk));
    else {
        gsize       n;
        const char *d            = g_bytes_get_data(sh->psk, &n);
        g_auto(GreWipedString) q = g_strndup(d, n);

        /* Quoted as swanctl.conf reads it, so the fragment can be used as it is. */
        g_string_append_c(out, '"');
        for (const char *p = q; *p; p++) {
            if (*p == '"' || *p == '\\')
                g_string_append_c(out, '\\');
            g_string_append_c(out, *p);
        }
        g_string_append_c(out, '"');
    }
    g_string_append(out, "\n    }\n}");
}

static void
render_ike_cred(GString *out, GreStepKind kind, const GrePlanIkeCred *cr, gboolean add)
{
    gboolean ca = kind == GRE_STEP_IKE_CA;

    if (add)
        g_string_append_printf(out, "vici %s: %s %s from %s", cr->socket,
                               ca ? "load-authority" : "load-key", cr->name, cr->file);
    else if (ca)
        g_string_append_printf(out, "vici %s: unload-authority %s", cr->socket, cr->name);
    else
        g_string_append_printf(out, "vici %s: unload-key %s", cr->socket,
                               cr->keyid[0] ? cr->keyid : cr->name);
}

static char *
render(const GrePlanStep *step, gboolean show_secrets, gboolean add)
{
    /* Large enough for a state with its keys shown: the string never moves, so no copy of a
     * key is left in freed memory (the caller wipes the result). */
    GString *out = g_string_sized_new(show_secrets ? 1024 : 128);

    switch (step->kind) {
    case GRE_STEP_XFRM_STATE:
        render_state(out, &step->state, show_secrets, add);
        break;
    case GRE_STEP_XFRM_POLICY:
        render_policy(out, &step->policy, add);
        break;
    case GRE_STEP_ROUTE:
        render_route(out, &step->route, add);
        break;
    case GRE_STEP_LINK:
        if (add)
            render_link(out, &step->link);
        else
            g_string_append_printf(out, "ip link delete %s", step->link.name);
        break;
    case GRE_STEP_ADDR:
        render_addr(out, &step->addr, add);
        break;
    case GRE_STEP_LINK_UP:
        g_string_append_printf(out, "ip link set %s %s", step->up_dev, add ? "up" : "down");
        break;
    case GRE_STEP_IKE_SHARED:
        render_ike_shared(out, &step->ike_shared, show_secrets, add);
        break;
    case GRE_STEP_IKE_CONN:
        render_ike_conn(out, &step->ike_conn, add);
        break;
    case GRE_STEP_IKE_CA:
    case GRE_STEP_IKE_KEY:
        render_ike_cred(out, step->kind, &step->ike_cred, add);
        break;
    }
    return g_string_free(out, FALSE);
}

char *
gre_plan_step_render(const GrePlanStep *step, gboolean show_secrets)
{
    return render(step, show_secrets, TRUE);
}

GPtrArray *
gre_plan_render_up(const GrePlan *plan, gboolean show_secrets)
{
    GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; i < plan->steps->len; i++)
        g_ptr_array_add(lines,
                        render(&g_array_index(plan->steps, GrePlanStep, i), show_secrets, TRUE));
    return lines;
}

GPtrArray *
gre_plan_render_down(const GrePlan *plan)
{
    GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);

    for (guint i = plan->steps->len; i-- > 0;)
        g_ptr_array_add(lines, render(&g_array_index(plan->steps, GrePlanStep, i), FALSE, FALSE));
    return lines;
}
