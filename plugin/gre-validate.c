/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-validate.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "gre-error.h"
#include "gre-i18n.h"
#include "gre-mtu.h"
#include "gre-suite.h"

typedef struct {
    const GreSettings *s;
    GreKeyStyle        style;
    GreKeyLocateFunc   locate;
    gpointer           user_data;
    GString           *errors;
    GPtrArray         *warnings;
    gboolean           told_default; /* the change of default suite was explained */
} Ctx;

static const char *
kname(const Ctx *c, GreKeyId id)
{
    const GreKeyInfo *key  = gre_key_info(id);
    const char       *name = gre_key_name(key, c->style);

    /* A front end that has no name for a key still gets a readable message. */
    return name ? name : key->nm;
}

static char *G_GNUC_PRINTF(3, 0) format(const Ctx *c, GreKeyId id, const char *fmt, va_list ap)
{
    g_autofree char *msg   = g_strdup_vprintf(fmt, ap);
    g_autofree char *where = c->locate ? c->locate(gre_key_info(id), c->user_data) : NULL;

    if (where && *where)
        return g_strdup_printf("%s: %s: %s", where, kname(c, id), msg);
    return g_strdup_printf("%s: %s", kname(c, id), msg);
}

static void G_GNUC_PRINTF(3, 4) problem(Ctx *c, GreKeyId id, const char *fmt, ...)
{
    va_list          ap;
    g_autofree char *line = NULL;

    va_start(ap, fmt);
    line = format(c, id, fmt, ap);
    va_end(ap);
    if (c->errors->len)
        g_string_append_c(c->errors, '\n');
    g_string_append(c->errors, line);
}

static void G_GNUC_PRINTF(3, 4) warning(Ctx *c, GreKeyId id, const char *fmt, ...)
{
    va_list ap;

    if (!c->warnings)
        return;
    va_start(ap, fmt);
    g_ptr_array_add(c->warnings, format(c, id, fmt, ap));
    va_end(ap);
}

gboolean
gre_ifname_is_reserved(const char *name)
{
    static const char *const reserved[] = { "gre0",  "gretap0", "erspan0", "ip6gre0", "ip6tnl0",
                                            "tunl0", "sit0",    "ip_vti0", "ip6_vti0" };

    for (guint i = 0; i < G_N_ELEMENTS(reserved); i++) {
        if (strcmp(name, reserved[i]) == 0)
            return TRUE;
    }
    return FALSE;
}

static gboolean
addr_is_unicast(const GreAddr *a)
{
    if (a->family == AF_INET) {
        guint32 h = g_ntohl(a->u.v4.s_addr);
        return h != 0 && h != 0xffffffff && (h >> 28) != 0xe && (h >> 24) != 127;
    }
    return !IN6_IS_ADDR_UNSPECIFIED(&a->u.v6) && !IN6_IS_ADDR_MULTICAST(&a->u.v6) &&
           !IN6_IS_ADDR_LOOPBACK(&a->u.v6);
}

static void
check_outer(Ctx *c)
{
    const GreSettings *s      = c->s;
    g_autofree char   *remote = gre_addr_to_string(&s->remote);

    if (!s->name[0])
        problem(c, GRE_KEY_DEVICE, _("missing: the tunnel needs a device name, such as gre1"));
    else if (gre_ifname_is_reserved(s->name))
        problem(c, GRE_KEY_DEVICE,
                _("%s is the kernel's own fallback tunnel device and cannot be configured; choose "
                  "another name, such as gre1"),
                s->name);

    if (s->remote.family == AF_UNSPEC) {
        problem(c, GRE_KEY_REMOTE, _("missing: the peer's outer address is required"));
        return;
    }
    if (!addr_is_unicast(&s->remote))
        problem(c, GRE_KEY_REMOTE, _("%s is not a unicast address of a peer"), remote);
    if (s->local.family != AF_UNSPEC) {
        g_autofree char *local = gre_addr_to_string(&s->local);

        if (s->local.family != s->remote.family)
            problem(c, GRE_KEY_LOCAL,
                    /* TRANSLATORS: local address, IPv4 or IPv6, remote key name, remote address,
                       IPv4 or IPv6 */
                    _("%s is %s but %s %s is %s; both outer addresses must be of one family"),
                    local, s->local.family == AF_INET ? "IPv4" : "IPv6", kname(c, GRE_KEY_REMOTE),
                    remote, s->remote.family == AF_INET ? "IPv4" : "IPv6");
        else if (gre_addr_equal(&s->local, &s->remote))
            problem(c, GRE_KEY_LOCAL, _("%s is also %s; the two ends need different addresses"),
                    local, kname(c, GRE_KEY_REMOTE));
        else if (!addr_is_unicast(&s->local))
            problem(c, GRE_KEY_LOCAL, _("%s is not a unicast address of this host"), local);
    }
    if (!s->pmtudisc && s->remote.family == AF_INET6)
        problem(c, GRE_KEY_PMTUDISC,
                _("ip6gre (IPv6 outer addresses) always does path MTU discovery; remove this key"));
    if (s->encaplimit != GRE_ENCAPLIMIT_KERNEL && s->remote.family == AF_INET)
        problem(c, GRE_KEY_ENCAPLIMIT,
                _("applies only to IPv6 outer addresses (ip6gre); remove it for an IPv4 tunnel"));
}

static void
check_inner_pair(Ctx *c, GreKeyId local_id, GreKeyId peer_id, const GrePrefix *local,
                 const GreAddr *peer)
{
    const GreSettings *s = c->s;
    g_autofree char   *p = gre_addr_to_string(peer);

    if (peer->family == AF_UNSPEC)
        return;
    if (local->addr.family == AF_UNSPEC) {
        problem(c, peer_id, _("is set but %s is not; the tunnel needs a local address too"),
                kname(c, local_id));
        return;
    }
    if (gre_addr_equal(peer, &local->addr))
        problem(c, peer_id, _("%s is also %s; the two ends need different addresses"), p,
                kname(c, local_id));
    else if (local->plen < gre_addr_max_plen(peer->family) && !gre_prefix_contains(local, peer)) {
        g_autofree char *l = gre_prefix_to_string(local);
        /* TRANSLATORS: peer address, local key name, local address/prefix */
        problem(c, peer_id, _("%s is not on the subnet of %s %s; put both ends on one subnet"), p,
                kname(c, local_id), l);
    }
    if (gre_addr_equal(peer, &s->remote))
        problem(c, peer_id,
                _("%s is also the outer remote address: packets to the peer would be routed into "
                  "the tunnel itself; give the tunnel inner addresses of its own"),
                p);
    /* The same seen from the peer, whose mirror would otherwise be refused by the rule above. */
    if (gre_addr_equal(&local->addr, &s->local)) {
        g_autofree char *l = gre_addr_to_string(&local->addr);
        problem(c, local_id,
                _("%s is also the outer local address: the peer would route its packets to it "
                  "into the tunnel itself; give the tunnel inner addresses of its own"),
                l);
    }
}

static void
check_routes(Ctx *c)
{
    const GreSettings *s = c->s;

    if (s->inner4.addr.family == AF_UNSPEC && s->inner6.addr.family == AF_UNSPEC) {
        problem(c, GRE_KEY_INNER4,
                _("missing: a GRE tunnel needs a local address before routes can use it; set %s "
                  "(or %s)"),
                kname(c, GRE_KEY_INNER4), kname(c, GRE_KEY_INNER6));
        return;
    }
    for (guint i = 0; i < s->routes->len; i++) {
        const GreRoute *r  = &g_array_index(s->routes, GreRoute, i);
        gboolean        v4 = r->dst.addr.family == AF_INET;

        if ((v4 ? s->inner4 : s->inner6).addr.family == AF_UNSPEC) {
            g_autofree char *p = gre_prefix_to_string(&r->dst);
            problem(c, GRE_KEY_ROUTES, _("%s needs an %s inner address to send from; set %s"), p,
                    v4 ? "IPv4" : "IPv6", kname(c, v4 ? GRE_KEY_INNER4 : GRE_KEY_INNER6));
        }
    }
    /* The peer routes these to us over the tunnel: from an inner address of the same family,
     * which the tunnel then needs at both ends (the mirror would be refused otherwise). */
    for (guint i = 0; i < s->local_networks->len; i++) {
        const GreRoute *r  = &g_array_index(s->local_networks, GreRoute, i);
        gboolean        v4 = r->dst.addr.family == AF_INET;

        if ((v4 ? s->inner4 : s->inner6).addr.family == AF_UNSPEC) {
            g_autofree char *p = gre_prefix_to_string(&r->dst);
            problem(c, GRE_KEY_LOCAL_NETWORKS,
                    _("%s: the peer routes it over the tunnel, which needs %s inner addresses "
                      "for that; set %s"),
                    p, v4 ? "IPv4" : "IPv6", kname(c, v4 ? GRE_KEY_INNER4 : GRE_KEY_INNER6));
        }
    }
}

static void
check_ttl(Ctx *c)
{
    const GreSettings *s = c->s;

    if (s->ttl != GRE_TTL_INHERIT && !s->pmtudisc)
        problem(c, GRE_KEY_TTL,
                _("a fixed TTL (%u) needs path MTU discovery, which %s turns off (the kernel "
                  "refuses the pair); set %s=yes or %s=inherit"),
                s->ttl, kname(c, GRE_KEY_PMTUDISC), kname(c, GRE_KEY_PMTUDISC),
                kname(c, GRE_KEY_TTL));
    if (s->ttl == GRE_TTL_INHERIT)
        warning(c, GRE_KEY_TTL,
                _("inherit makes the tunnel translucent: the inner TTL leaks into the outer "
                  "packet, so traceroute across it shows the underlay and TTL-expired messages "
                  "go astray; a fixed TTL such as 64 makes the tunnel one hop"));
}

static void
check_mtu(Ctx *c)
{
    const GreSettings *s = c->s;

    if (s->inner6.addr.family != AF_UNSPEC && s->mtu != GRE_MTU_AUTO && s->mtu < 1280)
        problem(c, GRE_KEY_MTU, _("%u is below 1280, the smallest MTU IPv6 works with (%s is set)"),
                s->mtu, kname(c, GRE_KEY_INNER6));
    if (s->underlay_mtu != GRE_MTU_AUTO && s->remote.family != AF_UNSPEC) {
        guint max = gre_mtu_compute(s, s->underlay_mtu, NULL);

        if (max < 68)
            problem(c, GRE_KEY_UNDERLAY_MTU,
                    _("%u leaves no room for a tunnel: GRE%s headers need more"), s->underlay_mtu,
                    s->ipsec != GRE_IPSEC_NONE ? _(" and ESP") : "");
        else if (s->mtu != GRE_MTU_AUTO && s->mtu > max)
            problem(c, GRE_KEY_MTU,
                    _("%u does not fit: with %s %u the largest packet that fits is %u (see "
                      "gre-tunnel mtu --explain); set %s=auto or at most %u"),
                    s->mtu, kname(c, GRE_KEY_UNDERLAY_MTU), s->underlay_mtu, max,
                    kname(c, GRE_KEY_MTU), max);
    }
}

/* Where a secret should have been written, for the "missing" message. */
static const char *
secret_hint(const Ctx *c)
{
    return c->style == GRE_STYLE_IFCFG ? _(" (put it in keys-NAME, mode 0600)") : "";
}

static void
check_key_len(Ctx *c, GreKeyId id, GBytes *key, guint want, const char *what)
{
    const GreSuiteInfo *suite = gre_suite_info(c->s->suite);
    const GreSuiteInfo *old   = gre_suite_info(GRE_SUITE_FORMER_DEFAULT);
    gsize               len;

    if (!key) {
        problem(c, id, _("missing: the %s key is required with %s=manual%s"), what,
                kname(c, GRE_KEY_IPSEC), secret_hint(c));
        return;
    }
    len = g_bytes_get_size(key);
    if (len == want)
        return;
    /* A file written for the old default names no suite, so it now means the new default and
     * its keys are of the old one's size: say so, and what to write, not just the size. */
    if (!c->told_default && gre_key_is_default(gre_key_info(GRE_KEY_SUITE), c->s) &&
        (id == GRE_KEY_ENC_KEY_IN || id == GRE_KEY_ENC_KEY_OUT) && len == old->enc_key_len) {
        c->told_default = TRUE;
        problem(c, id,
                /* TRANSLATORS: new default suite, bytes wanted, hex digits wanted, bytes given,
                   former default suite, IPSEC_SUITE, new default suite, IPSEC_SUITE=value,
                   the two cipher key names and their size, the two HMAC key names and theirs */
                _("%s needs a %u-byte cipher key (%u hex digits), this one has %zu bytes, the "
                  "size for %s, which was the default %s before %s and is not safe with static "
                  "keys; write %s=%s on both ends with new keys: %s and %s of %u bytes, %s and %s "
                  "of %u bytes"),
                suite->name, want, want * 2, len, old->name, kname(c, GRE_KEY_SUITE), suite->name,
                kname(c, GRE_KEY_SUITE), suite->name, kname(c, GRE_KEY_ENC_KEY_IN),
                kname(c, GRE_KEY_ENC_KEY_OUT), suite->enc_key_len, kname(c, GRE_KEY_AUTH_KEY_IN),
                kname(c, GRE_KEY_AUTH_KEY_OUT), suite->auth_key_len);
    } else {
        problem(c, id, _("%s needs a %u-byte %s key (%u hex digits), this one has %zu bytes"),
                suite->name, want, what, want * 2, len);
    }
}

static void
check_ike(Ctx *c)
{
    const GreSettings    *s        = c->s;
    static const GreKeyId manual[] = { GRE_KEY_SPI_IN,      GRE_KEY_SPI_OUT,
                                       GRE_KEY_ENC_KEY_IN,  GRE_KEY_ENC_KEY_OUT,
                                       GRE_KEY_AUTH_KEY_IN, GRE_KEY_AUTH_KEY_OUT };
    gsize                 len;

    for (guint i = 0; i < G_N_ELEMENTS(manual); i++) {
        if (!gre_key_is_default(gre_key_info(manual[i]), s))
            warning(c, manual[i], _("ignored with %s=ike: the IKE daemon chooses SPIs and keys"),
                    kname(c, GRE_KEY_IPSEC));
    }
    if (s->ike_auth == GRE_IKE_AUTH_CERT) {
        static const GreKeyId files[] = { GRE_KEY_IKE_CERT, GRE_KEY_IKE_PRIVKEY,
                                          GRE_KEY_IKE_CACERT };

        for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
            if (!gre_key_text(files[i], s))
                problem(c, files[i], _("missing: required with %s=cert"),
                        kname(c, GRE_KEY_IKE_AUTH));
        }
        if (s->ike_psk)
            warning(c, GRE_KEY_IKE_PSK, _("ignored with %s=cert"), kname(c, GRE_KEY_IKE_AUTH));
    } else {
        for (guint i = GRE_KEY_IKE_CERT; i <= GRE_KEY_IKE_CACERT; i++) {
            if (gre_key_text(i, s))
                warning(c, i, _("ignored with %s=psk"), kname(c, GRE_KEY_IKE_AUTH));
        }
    }
    if (s->ike_auth == GRE_IKE_AUTH_CERT) {
        /* nothing more: the files are read, and checked, by `up` */
    } else if (!s->ike_psk) {
        problem(c, GRE_KEY_IKE_PSK, _("missing: required with %s=ike%s"), kname(c, GRE_KEY_IPSEC),
                secret_hint(c));
    } else if ((len = g_bytes_get_size(s->ike_psk)) < GRE_IKE_PSK_MIN) {
        /* TRANSLATORS: length given, minimum length */
        problem(c, GRE_KEY_IKE_PSK,
                _("%zu characters are too few, use at least %u (e.g. from gre-tunnel keygen or "
                  "openssl rand -base64 24): whoever records one IKE exchange, or starts one "
                  "against this end, can test guesses of the key offline"),
                len, GRE_IKE_PSK_MIN);
    }
    if (s->local.family == AF_UNSPEC)
        warning(c, GRE_KEY_LOCAL,
                _("auto with IPsec: the SAs are bound to whatever source address the route to "
                  "the remote has at start; a fixed address is safer"));
}

static void
check_ipsec(Ctx *c)
{
    const GreSettings    *s            = c->s;
    const GreSuiteInfo   *suite        = gre_suite_info(s->suite);
    static const GreKeyId ipsec_only[] = { GRE_KEY_SUITE,       GRE_KEY_SPI_IN,
                                           GRE_KEY_SPI_OUT,     GRE_KEY_ENC_KEY_IN,
                                           GRE_KEY_ENC_KEY_OUT, GRE_KEY_AUTH_KEY_IN,
                                           GRE_KEY_AUTH_KEY_OUT };

    /* Settings of the other keying mode are warned about, not refused: a file switched from one
     * mode to the other keeps working while its old lines are cleaned up. */
    for (guint i = GRE_KEY_IKE_PSK; s->ipsec != GRE_IPSEC_IKE && i <= GRE_KEY_IKE_CACERT; i++) {
        if (!gre_key_is_default(gre_key_info(i), s))
            warning(c, i, _("ignored: %s is not ike"), kname(c, GRE_KEY_IPSEC));
    }
    if (s->ipsec == GRE_IPSEC_NONE) {
        for (guint i = 0; i < G_N_ELEMENTS(ipsec_only); i++) {
            if (!gre_key_is_default(gre_key_info(ipsec_only[i]), s))
                warning(c, ipsec_only[i], _("ignored: %s is none"), kname(c, GRE_KEY_IPSEC));
        }
        return;
    }
    if (s->ipsec == GRE_IPSEC_IKE) {
        check_ike(c);
        return;
    }
    if (!s->spi_in)
        problem(c, GRE_KEY_SPI_IN, _("missing: required with %s=manual"), kname(c, GRE_KEY_IPSEC));
    if (!s->spi_out)
        problem(c, GRE_KEY_SPI_OUT, _("missing: required with %s=manual"), kname(c, GRE_KEY_IPSEC));
    if (!gre_suite_allowed(suite, s->ipsec)) {
        /* The keys are not checked against a suite that cannot be used: they change with it. */
        problem(c, GRE_KEY_SUITE,
                /* TRANSLATORS: suite, its RFC, the IPSEC key, the suites manual keying accepts,
                   the default suite, the IPSEC key again */
                _("%s is not safe with static keys: its nonce is the ESP packet counter, which "
                  "starts again whenever the SA is added again while the key stays, so nonces "
                  "can repeat under one key (%s); with %s=manual use a CBC suite (%s) such as %s; "
                  "the AEAD suites are for IKE keying (%s=ike)"),
                suite->name, suite->spec, kname(c, GRE_KEY_IPSEC), gre_suite_names_for(s->ipsec),
                gre_key_info(GRE_KEY_SUITE)->def, kname(c, GRE_KEY_IPSEC));
    } else {
        check_key_len(c, GRE_KEY_ENC_KEY_IN, s->enc_key_in, suite->enc_key_len, _("cipher"));
        check_key_len(c, GRE_KEY_ENC_KEY_OUT, s->enc_key_out, suite->enc_key_len, _("cipher"));
        check_key_len(c, GRE_KEY_AUTH_KEY_IN, s->auth_key_in, suite->auth_key_len, "HMAC");
        check_key_len(c, GRE_KEY_AUTH_KEY_OUT, s->auth_key_out, suite->auth_key_len, "HMAC");
    }
    if (s->local.family == AF_UNSPEC)
        warning(c, GRE_KEY_LOCAL,
                _("auto with IPsec: the SAs are bound to whatever source address the route to "
                  "the remote has at start; a fixed address is safer"));
}

gboolean
gre_settings_validate(const GreSettings *s, GreKeyStyle style, GreKeyLocateFunc locate,
                      gpointer user_data, GPtrArray *warnings, GError **error)
{
    Ctx c = { s, style, locate, user_data, g_string_new(NULL), warnings, FALSE };

    check_outer(&c);
    check_inner_pair(&c, GRE_KEY_INNER4, GRE_KEY_INNER4_PEER, &s->inner4, &s->inner4_peer);
    check_inner_pair(&c, GRE_KEY_INNER6, GRE_KEY_INNER6_PEER, &s->inner6, &s->inner6_peer);
    check_routes(&c);
    check_ttl(&c);
    check_mtu(&c);
    check_ipsec(&c);

    if (c.errors->len) {
        g_set_error_literal(error, GRE_ERROR, GRE_ERROR_INVALID, c.errors->str);
        g_string_free(c.errors, TRUE);
        return FALSE;
    }
    g_string_free(c.errors, TRUE);
    return TRUE;
}
