/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-settings-table.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "gre-error.h"
#include "gre-i18n.h"
#include "gre-suite.h"

typedef struct {
    GreKeyInfo info;
    gsize      offset; /* of the value in GreSettings */
} Row;

#define F(field) offsetof(GreSettings, field)

/* The one place every key is named. Rows are in GreKeyId order. */
static const Row rows[GRE_KEY_COUNT] = {
    { { GRE_KEY_DEVICE, GRE_KT_IFNAME, "DEVICE", "device", NULL, NULL, "1-15 characters", FALSE,
        TRUE, N_("Name of the tunnel device."), GRE_MIRROR_COPY, GRE_KEY_COUNT },
      F(name) },
    { { GRE_KEY_LOCAL, GRE_KT_OUTER_ADDR, "MY_OUTER_IPADDR", "local", "gre-local", "auto",
        "auto, IPv4 or IPv6 address", FALSE, FALSE,
        N_("Outer source address; auto: the source address of the route to the remote."),
        GRE_MIRROR_SWAP, GRE_KEY_REMOTE },
      F(local) },
    { { GRE_KEY_REMOTE, GRE_KT_OUTER_ADDR, "PEER_OUTER_IPADDR", "remote", "gre-remote", NULL,
        "IPv4 or IPv6 address", FALSE, TRUE,
        N_("Outer address of the peer; IPv4 makes a gre device, IPv6 an ip6gre device."),
        GRE_MIRROR_SWAP, GRE_KEY_LOCAL },
      F(remote) },
    { { GRE_KEY_UNDERLAY, GRE_KT_IFNAME, "PHYSDEV", "underlay-device", "gre-underlay-device", NULL,
        "interface name", FALSE, FALSE, N_("Bind the tunnel to this underlay device (optional)."),
        GRE_MIRROR_LOCAL, GRE_KEY_COUNT },
      F(underlay) },
    { { GRE_KEY_INNER4, GRE_KT_PREFIX4, "MY_INNER_IPADDR", "inner-address", "gre-inner-address",
        NULL, "IPv4 address[/prefix]", FALSE, FALSE,
        N_("Local IPv4 address on the tunnel; the source of everything routed over it."),
        GRE_MIRROR_SWAP, GRE_KEY_INNER4_PEER },
      F(inner4) },
    { { GRE_KEY_INNER4_PEER, GRE_KT_ADDR4, "PEER_INNER_IPADDR", "inner-peer", "gre-inner-peer",
        NULL, "IPv4 address", FALSE, FALSE, N_("The peer's IPv4 address on the tunnel."),
        GRE_MIRROR_SWAP, GRE_KEY_INNER4 },
      F(inner4_peer) },
    { { GRE_KEY_INNER6, GRE_KT_PREFIX6, "MY_INNER_IP6ADDR", "inner-address6", "gre-inner-address6",
        NULL, "IPv6 address[/prefix]", FALSE, FALSE, N_("Local IPv6 address on the tunnel."),
        GRE_MIRROR_SWAP, GRE_KEY_INNER6_PEER },
      F(inner6) },
    { { GRE_KEY_INNER6_PEER, GRE_KT_ADDR6, "PEER_INNER_IP6ADDR", "inner-peer6", "gre-inner-peer6",
        NULL, "IPv6 address", FALSE, FALSE, N_("The peer's IPv6 address on the tunnel."),
        GRE_MIRROR_SWAP, GRE_KEY_INNER6 },
      F(inner6_peer) },
    { { GRE_KEY_ROUTES, GRE_KT_ROUTES, "ROUTES", "routes", "gre-routes", NULL,
        "PREFIX [metric N] ...", FALSE, FALSE,
        N_("Networks to send through the tunnel, from the inner address."), GRE_MIRROR_SWAP,
        GRE_KEY_LOCAL_NETWORKS },
      F(routes) },
    { { GRE_KEY_LOCAL_NETWORKS, GRE_KT_ROUTES, "LOCAL_NETWORKS", "local-networks",
        "gre-local-networks", NULL, "PREFIX [metric N] ...", FALSE, FALSE,
        N_("Networks behind this end, for the peer's ROUTES (used by mirror and check only)."),
        GRE_MIRROR_SWAP, GRE_KEY_ROUTES },
      F(local_networks) },
    { { GRE_KEY_PIN, GRE_KT_PIN, "PIN_REMOTE", "pin-remote", "gre-pin-remote", "auto",
        "auto, yes, no", FALSE, FALSE,
        N_("Add a host route for the outer remote via the underlay; auto: when a tunnel route "
           "covers it."),
        GRE_MIRROR_COPY, GRE_KEY_COUNT },
      F(pin) },
    { { GRE_KEY_KEY, GRE_KT_GREKEY, "KEY", "key", "gre-key", NULL, "0-4294967295 or dotted quad",
        FALSE, FALSE, N_("GRE key for both directions."), GRE_MIRROR_SAME, GRE_KEY_COUNT },
      F(ikey) },
    { { GRE_KEY_IKEY, GRE_KT_GREKEY, "IKEY", "input-key", "gre-input-key", NULL,
        "0-4294967295 or dotted quad", FALSE, FALSE,
        N_("GRE key expected on received packets (the peer's OKEY)."), GRE_MIRROR_SWAP,
        GRE_KEY_OKEY },
      F(ikey) },
    { { GRE_KEY_OKEY, GRE_KT_GREKEY, "OKEY", "output-key", "gre-output-key", NULL,
        "0-4294967295 or dotted quad", FALSE, FALSE,
        N_("GRE key put on sent packets (the peer's IKEY)."), GRE_MIRROR_SWAP, GRE_KEY_IKEY },
      F(okey) },
    { { GRE_KEY_SEQ, GRE_KT_BOOL, "SEQ", "sequence-numbers", "gre-sequence-numbers", "no",
        "yes, no", FALSE, FALSE, N_("Send and require GRE sequence numbers."), GRE_MIRROR_SAME,
        GRE_KEY_COUNT },
      F(seq) },
    { { GRE_KEY_CSUM, GRE_KT_BOOL, "CSUM", "checksums", "gre-checksums", "no", "yes, no", FALSE,
        FALSE, N_("Send and require GRE checksums."), GRE_MIRROR_SAME, GRE_KEY_COUNT },
      F(csum) },
    { { GRE_KEY_TTL, GRE_KT_TTL, "TTL", "ttl", "gre-ttl", "64", "inherit, 1-255", FALSE, FALSE,
        N_("Outer TTL; a fixed value makes the tunnel one hop (inherit leaks the inner TTL)."),
        GRE_MIRROR_SAME_WARN, GRE_KEY_COUNT },
      F(ttl) },
    { { GRE_KEY_TOS, GRE_KT_TOS, "TOS", "tos", "gre-tos", "inherit", "inherit, 0-254 (even)", FALSE,
        FALSE, N_("Outer TOS; inherit copies the inner packet's."), GRE_MIRROR_SAME_WARN,
        GRE_KEY_COUNT },
      F(tos) },
    { { GRE_KEY_PMTUDISC, GRE_KT_BOOL, "PMTUDISC", "path-mtu-discovery", "gre-path-mtu-discovery",
        "yes", "yes, no", FALSE, FALSE, N_("Set DF on outer packets and follow path MTU changes."),
        GRE_MIRROR_SAME_WARN, GRE_KEY_COUNT },
      F(pmtudisc) },
    { { GRE_KEY_ENCAPLIMIT, GRE_KT_ENCAPLIMIT, "ENCAPLIMIT", "encap-limit", "gre-encap-limit", "4",
        "none, 0-255", FALSE, FALSE,
        N_("ip6gre only: tunnel encapsulation limit option; none omits it (8 more bytes of MTU)."),
        GRE_MIRROR_SAME, GRE_KEY_COUNT },
      F(encaplimit) },
    { { GRE_KEY_MTU, GRE_KT_MTU, "MTU", "mtu", "gre-mtu", "auto", "auto, 68-65535", FALSE, FALSE,
        N_("Tunnel MTU; auto: exactly what fits the underlay after GRE and IPsec headers."),
        GRE_MIRROR_SAME, GRE_KEY_COUNT },
      F(mtu) },
    { { GRE_KEY_UNDERLAY_MTU, GRE_KT_MTU, "UNDERLAY_MTU", "underlay-mtu", "gre-underlay-mtu",
        "auto", "auto, 68-65535", FALSE, FALSE,
        N_("MTU of the path between the outer addresses; auto: the MTU of the device the remote is "
           "routed through. Set it when the path is narrower (e.g. PPPoE: 1492)."),
        GRE_MIRROR_COPY, GRE_KEY_COUNT },
      F(underlay_mtu) },
    { { GRE_KEY_IPSEC, GRE_KT_IPSEC, "IPSEC", "ipsec", "gre-ipsec", "none", "none, manual, ike",
        FALSE, FALSE,
        N_("Encrypt GRE (and only GRE) between the outer addresses: manual with static ESP keys, "
           "ike with keys negotiated by the IKEv2 daemon (strongSwan's charon)."),
        GRE_MIRROR_SAME, GRE_KEY_COUNT },
      F(ipsec) },
    { { GRE_KEY_SUITE, GRE_KT_SUITE, "IPSEC_SUITE", "ipsec-suite", "gre-ipsec-suite",
        "aes256-sha256", NULL, FALSE, FALSE,
        N_("ESP algorithms; with manual keys a CBC + HMAC suite (the AEAD suites repeat nonces "
           "under static keys); with ike any, an AEAD suite by default."),
        GRE_MIRROR_SAME, GRE_KEY_COUNT, "aes256gcm16" },
      F(suite) },
    { { GRE_KEY_SPI_IN, GRE_KT_SPI, "SPI_ESP_IN", "spi-in", "gre-spi-in", NULL, "256-4294967295",
        FALSE, FALSE, N_("SPI of the inbound ESP SA (the peer's SPI_ESP_OUT)."), GRE_MIRROR_SWAP,
        GRE_KEY_SPI_OUT },
      F(spi_in) },
    { { GRE_KEY_SPI_OUT, GRE_KT_SPI, "SPI_ESP_OUT", "spi-out", "gre-spi-out", NULL,
        "256-4294967295", FALSE, FALSE, N_("SPI of the outbound ESP SA (the peer's SPI_ESP_IN)."),
        GRE_MIRROR_SWAP, GRE_KEY_SPI_IN },
      F(spi_out) },
    { { GRE_KEY_ENC_KEY_IN, GRE_KT_HEXKEY, "KEY_ESP_IN", "esp-key-in", "esp-key-in", NULL, "hex",
        TRUE, FALSE, N_("Inbound cipher key: 16 bytes for aes128-*, 32 for aes256-*."),
        GRE_MIRROR_SWAP, GRE_KEY_ENC_KEY_OUT },
      F(enc_key_in) },
    { { GRE_KEY_ENC_KEY_OUT, GRE_KT_HEXKEY, "KEY_ESP_OUT", "esp-key-out", "esp-key-out", NULL,
        "hex", TRUE, FALSE, N_("Outbound cipher key."), GRE_MIRROR_SWAP, GRE_KEY_ENC_KEY_IN },
      F(enc_key_out) },
    { { GRE_KEY_AUTH_KEY_IN, GRE_KT_HEXKEY, "KEY_AESP_IN", "auth-key-in", "auth-key-in", NULL,
        "hex", TRUE, FALSE, N_("Inbound HMAC key: 32 bytes for *-sha256, 20 for *-sha1."),
        GRE_MIRROR_SWAP, GRE_KEY_AUTH_KEY_OUT },
      F(auth_key_in) },
    { { GRE_KEY_AUTH_KEY_OUT, GRE_KT_HEXKEY, "KEY_AESP_OUT", "auth-key-out", "auth-key-out", NULL,
        "hex", TRUE, FALSE, N_("Outbound HMAC key."), GRE_MIRROR_SWAP, GRE_KEY_AUTH_KEY_IN },
      F(auth_key_out) },
    /* Hook for `gre-tunnel keygen` (branch keygen): it may write IKE_PSK like the ESP keys,
     * e.g. 32 random bytes as base64 (44 characters, well over GRE_IKE_PSK_MIN). */
    { { GRE_KEY_IKE_PSK, GRE_KT_PSK, "IKE_PSK", "ike-psk", "ike-psk", NULL,
        "at least 16 characters", TRUE, FALSE,
        N_("IKE pre-shared key, the same at both ends (IPSEC=ike)."), GRE_MIRROR_SAME,
        GRE_KEY_COUNT },
      F(ike_psk) },
    { { GRE_KEY_IKE_LOCAL_ID, GRE_KT_IKE_ID, "IKE_LOCAL_ID", "ike-local-id", "gre-ike-local-id",
        NULL, "address, FQDN, user@FQDN or DN", FALSE, FALSE,
        N_("This end's IKE identity; default: the outer source address."), GRE_MIRROR_SWAP,
        GRE_KEY_IKE_REMOTE_ID },
      F(ike_local_id) },
    { { GRE_KEY_IKE_REMOTE_ID, GRE_KT_IKE_ID, "IKE_REMOTE_ID", "ike-remote-id", "gre-ike-remote-id",
        NULL, "address, FQDN, user@FQDN or DN", FALSE, FALSE,
        N_("The identity the peer must prove; default: the peer's outer address."), GRE_MIRROR_SWAP,
        GRE_KEY_IKE_LOCAL_ID },
      F(ike_remote_id) },
    { { GRE_KEY_IKE_PROPOSALS, GRE_KT_PROPOSAL, "IKE_PROPOSALS", "ike-proposals",
        "gre-ike-proposals", "aes256-sha256-ecp256",
        "strongSwan proposals, e.g. aes256-sha256-ecp256", FALSE, FALSE,
        N_("Algorithms of the IKE SA (cipher-integrity-DH group, proposals separated by commas)."),
        GRE_MIRROR_SAME, GRE_KEY_COUNT },
      F(ike_proposals) },
    { { GRE_KEY_IKE_ESP_DH, GRE_KT_DHGROUP, "IKE_ESP_DH", "ike-esp-dh", "gre-ike-esp-dh", "ecp256",
        NULL, FALSE, FALSE,
        N_("DH group for forward secrecy when the ESP SAs are rekeyed; both ends use this one."),
        GRE_MIRROR_SAME, GRE_KEY_COUNT },
      F(ike_esp_dh) },
    { { GRE_KEY_IKE_REKEY_TIME, GRE_KT_SECONDS, "IKE_REKEY_TIME", "ike-rekey-time",
        "gre-ike-rekey-time", "3600", "seconds, or with s, m, h", FALSE, FALSE,
        N_("Rekey the ESP SAs after this time (they are also rekeyed long before their packet "
           "counter runs out)."),
        GRE_MIRROR_SAME_WARN, GRE_KEY_COUNT },
      F(ike_rekey_time) },
    { { GRE_KEY_IKE_DPD_DELAY, GRE_KT_SECONDS, "IKE_DPD_DELAY", "ike-dpd-delay",
        "gre-ike-dpd-delay", "30", "seconds, or with s, m, h", FALSE, FALSE,
        N_("Check that the peer is alive when nothing came from it for this long."),
        GRE_MIRROR_SAME_WARN, GRE_KEY_COUNT },
      F(ike_dpd_delay) },
    { { GRE_KEY_IKE_VICI_SOCKET, GRE_KT_PATH, "IKE_VICI_SOCKET", "ike-vici-socket",
        "gre-ike-vici-socket", "/run/charon.vici", "absolute path", FALSE, FALSE,
        N_("charon's VICI socket; one charon per network namespace serves that namespace's "
           "tunnels."),
        GRE_MIRROR_LOCAL, GRE_KEY_COUNT },
      F(ike_vici_socket) },
    { { GRE_KEY_IKE_AUTH, GRE_KT_IKE_AUTH, "IKE_AUTH", "ike-auth", "gre-ike-auth", "psk",
        "psk, cert", FALSE, FALSE,
        N_("How both ends prove their identity: psk with IKE_PSK, cert with X.509 certificates "
           "(IKE_CERT, IKE_PRIVKEY, IKE_CACERT)."),
        GRE_MIRROR_SAME, GRE_KEY_COUNT },
      F(ike_auth) },
    /* The peer's own certificate and key are files on the peer: mirror cannot know their
     * paths, so it writes none and the peer's validation names them as missing. */
    { { GRE_KEY_IKE_CERT, GRE_KT_FILE, "IKE_CERT", "ike-cert", "gre-ike-cert", NULL,
        "absolute path (PEM or DER)", FALSE, FALSE,
        N_("This end's X.509 certificate (IKE_AUTH=cert); it must carry IKE_LOCAL_ID, by "
           "default the outer address, as a subjectAltName."),
        GRE_MIRROR_LOCAL, GRE_KEY_COUNT },
      F(ike_cert) },
    { { GRE_KEY_IKE_PRIVKEY, GRE_KT_FILE, "IKE_PRIVKEY", "ike-privkey", "gre-ike-privkey", NULL,
        "absolute path (PEM or DER)", FALSE, FALSE,
        N_("The private key of IKE_CERT: a root-owned file that only root can read."),
        GRE_MIRROR_LOCAL, GRE_KEY_COUNT },
      F(ike_privkey) },
    { { GRE_KEY_IKE_CACERT, GRE_KT_FILE, "IKE_CACERT", "ike-cacert", "gre-ike-cacert", NULL,
        "absolute path (PEM or DER)", FALSE, FALSE,
        N_("The certificate of the CA that signed the peer's certificate; only that CA is "
           "trusted for the peer."),
        GRE_MIRROR_COPY, GRE_KEY_COUNT },
      F(ike_cacert) },
};

#define FIELD(s, row, type) ((type *)((char *)(s) + (row)->offset))
#define CFIELD(s, row, type) ((const type *)((const char *)(s) + (row)->offset))

static const Row *
row_of(const GreKeyInfo *key)
{
    return (const Row *)key;
}

const GreKeyInfo *
gre_key_info(GreKeyId id)
{
    g_return_val_if_fail(id < GRE_KEY_COUNT, NULL);
    g_assert(rows[id].info.id == id);
    return &rows[id].info;
}

const char *
gre_key_name(const GreKeyInfo *key, GreKeyStyle style)
{
    switch (style) {
    case GRE_STYLE_IFCFG:
        return key->ifcfg;
    case GRE_STYLE_NM:
        return key->nm;
    case GRE_STYLE_IFUPDOWN:
        return key->ifupdown;
    }
    return NULL;
}

const char *
gre_key_range(const GreKeyInfo *key)
{
    if (key->type == GRE_KT_SUITE)
        return gre_suite_names();
    if (key->type == GRE_KT_DHGROUP)
        return gre_dh_group_names();
    return key->range;
}

const char *
gre_key_default(const GreKeyInfo *key, const GreSettings *s)
{
    if (s && s->ipsec == GRE_IPSEC_IKE && key->def_ike)
        return key->def_ike;
    return key->def;
}

const char *
gre_key_text(GreKeyId id, const GreSettings *s)
{
    const GreKeyInfo *key = gre_key_info(id);
    const char       *v   = *(char *const *)((const char *)s + row_of(key)->offset);

    return v ? v : gre_key_default(key, s);
}

const GreKeyInfo *
gre_key_lookup(GreKeyStyle style, const char *name)
{
    for (guint i = 0; i < GRE_KEY_COUNT; i++) {
        const char *n = gre_key_name(&rows[i].info, style);
        if (n && strcmp(n, name) == 0)
            return &rows[i].info;
    }
    return NULL;
}

static gboolean fail(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static gboolean
fail(GError **error, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_propagate_error(error, g_error_new_valist(GRE_ERROR, GRE_ERROR_INVALID, fmt, ap));
    va_end(ap);
    return FALSE;
}

/* Decimal or 0x-hex; the whole text must be the number. */
static gboolean
parse_uint(const char *text, guint64 max, guint64 *out)
{
    guint64 v;
    char   *end;
    int     base = 10;

    if (g_str_has_prefix(text, "0x") || g_str_has_prefix(text, "0X")) {
        text += 2;
        base = 16;
    }
    if (!g_ascii_isxdigit(*text) || (base == 10 && !g_ascii_isdigit(*text)))
        return FALSE;
    errno = 0;
    v     = g_ascii_strtoull(text, &end, base);
    if (errno || *end || v > max)
        return FALSE;
    *out = v;
    return TRUE;
}

gboolean
gre_parse_bool(const char *text, gboolean *out)
{
    static const char *yes[] = { "yes", "y", "true", "t", "on", "1" };
    static const char *no[]  = { "no", "n", "false", "f", "off", "0" };

    for (guint i = 0; i < G_N_ELEMENTS(yes); i++) {
        if (g_ascii_strcasecmp(text, yes[i]) == 0) {
            *out = TRUE;
            return TRUE;
        }
        if (g_ascii_strcasecmp(text, no[i]) == 0) {
            *out = FALSE;
            return TRUE;
        }
    }
    return FALSE;
}

static gboolean
parse_ifname(const char *text, char out[GRE_IFNAMSIZ], GError **error)
{
    if (!*text)
        return fail(error, _("empty interface name"));
    if (strlen(text) >= GRE_IFNAMSIZ)
        return fail(error, _("\"%s\" is %zu characters long; interface names have at most %d"),
                    text, strlen(text), GRE_IFNAMSIZ - 1);
    if (strcmp(text, ".") == 0 || strcmp(text, "..") == 0)
        return fail(error, _("\"%s\" is not a valid interface name"), text);
    for (const char *p = text; *p; p++) {
        if (*p == '/' || *p == ':' || g_ascii_isspace(*p) || !g_ascii_isprint(*p))
            return fail(error,
                        _("\"%s\": interface names cannot contain '/', ':', spaces or "
                          "control characters"),
                        text);
    }
    g_strlcpy(out, text, GRE_IFNAMSIZ);
    return TRUE;
}

static gboolean
parse_grekey(const char *text, guint32 *out, GError **error)
{
    guint64 v;
    GreAddr a;

    if (strchr(text, '.')) {
        if (!gre_addr_parse(text, AF_INET, &a))
            return fail(error, _("\"%s\" is not a valid dotted-quad key"), text);
        *out = g_ntohl(a.u.v4.s_addr);
        return TRUE;
    }
    if (!parse_uint(text, G_MAXUINT32, &v))
        return fail(error,
                    _("\"%s\" is not a key: use a number from 0 to 4294967295 or a dotted "
                      "quad like 0.0.0.1"),
                    text);
    *out = (guint32)v;
    return TRUE;
}

static gboolean
parse_routes(const char *text, GArray *routes, GError **error)
{
    g_auto(GStrv) words = g_strsplit_set(text, " \t", -1);
    GreRoute *last      = NULL;

    g_array_set_size(routes, 0);
    for (guint i = 0; words[i]; i++) {
        const char *w = words[i];
        GreRoute    r = { 0 };
        GrePrefix   net;
        guint64     metric;

        if (!*w)
            continue;
        if (strcmp(w, "metric") == 0) {
            if (!last)
                return fail(error, _("\"metric\" must follow a prefix"));
            if (!words[i + 1] || !parse_uint(words[i + 1], G_MAXUINT32, &metric)) {
                g_autofree char *p = gre_prefix_to_string(&last->dst);
                return fail(error, _("\"metric\" after %s needs a number"), p);
            }
            last->metric = (guint32)metric;
            last         = NULL;
            i++;
            continue;
        }
        if (!gre_prefix_parse(w, AF_UNSPEC, &r.dst, NULL))
            return fail(error, _("\"%s\" is not a prefix (like 198.51.100.0/24 or 2001:db8::/48)"),
                        w);
        net = gre_prefix_network(&r.dst);
        if (!gre_addr_equal(&net.addr, &r.dst.addr)) {
            g_autofree char *p = gre_prefix_to_string(&net);
            return fail(error, _("\"%s\" has host bits set; did you mean %s?"), w, p);
        }
        g_array_append_val(routes, r);
        last = &g_array_index(routes, GreRoute, routes->len - 1);
    }
    return TRUE;
}

static gboolean
parse_hex(const char *text, GBytes **out, GError **error)
{
    g_autofree guint8 *buf = NULL;
    gsize              n;

    if (g_str_has_prefix(text, "0x") || g_str_has_prefix(text, "0X"))
        text += 2;
    n = strlen(text);
    if (n == 0 || n % 2)
        return fail(error, _("a key must be an even number of hex digits (optionally after 0x)"));
    buf = g_malloc(n / 2);
    for (gsize i = 0; i < n; i += 2) {
        int hi = g_ascii_xdigit_value(text[i]), lo = g_ascii_xdigit_value(text[i + 1]);
        if (hi < 0 || lo < 0) {
            explicit_bzero(buf, n / 2);
            /* Never echo key material back: say where, not what. */
            return fail(error, _("a key must be hex digits only (character %zu is not)"),
                        (hi < 0 ? i : i + 1) + 1);
        }
        buf[i / 2] = (guint8)(hi << 4 | lo);
    }
    g_clear_pointer(out, g_bytes_unref);
    *out = gre_secret_new(buf, n / 2);
    explicit_bzero(buf, n / 2);
    return TRUE;
}

/* Text that the daemon gets as it is: no control characters (they would end up in logs and
 * swanctl-style renderings unescaped), no surrounding blanks (invisible in a file). */
static gboolean
check_text(const char *text, gsize max, GError **error)
{
    gsize n = strlen(text);

    if (n == 0)
        return fail(error, _("empty"));
    if (!g_utf8_validate(text, -1, NULL))
        return fail(error, _("not valid UTF-8"));
    if (n > max)
        return fail(error, _("%zu bytes long; at most %zu"), n, max);
    if (g_ascii_isspace(text[0]) || g_ascii_isspace(text[n - 1]))
        return fail(error, _("begins or ends with a blank"));
    for (const char *p = text; *p; p++) {
        if ((guchar)*p < 0x20 || *p == 0x7f)
            return fail(error, _("contains a control character (at byte %zu)"),
                        (gsize)(p - text) + 1);
    }
    return TRUE;
}

static gboolean
parse_psk(const char *text, GBytes **out, GError **error)
{
    /* Never echo the key back: check_text's messages name positions, not content. */
    if (!check_text(text, 1024, error))
        return FALSE;
    g_clear_pointer(out, g_bytes_unref);
    *out = gre_secret_new((const guint8 *)text, strlen(text));
    return TRUE;
}

static gboolean
parse_ike_id(const char *text, char **out, GError **error)
{
    GreAddr a;

    if (!check_text(text, 255, error))
        return FALSE;
    /* The forms charon tells apart: an address, user@FQDN, a DN (has "="), else an FQDN, which
     * cannot hold blanks or commas. */
    if (!gre_addr_parse(text, AF_UNSPEC, &a) && !strchr(text, '=') && strpbrk(text, " ,\\"))
        return fail(error,
                    _("\"%s\" is not an address, FQDN, user@FQDN or distinguished name "
                      "(like C=CH, O=Example, CN=gw)"),
                    text);
    g_free(*out);
    *out = g_strdup(text);
    return TRUE;
}

static gboolean
parse_proposal(const char *text, char **out, GError **error)
{
    g_auto(GStrv) proposals = g_strsplit(text, ",", -1);

    for (guint i = 0; proposals[i]; i++) {
        g_auto(GStrv) algs = g_strsplit(proposals[i], "-", -1);

        if (!*proposals[i])
            return fail(error, _("\"%s\" has an empty proposal (two commas, or one at an end)"),
                        text);
        for (guint j = 0; algs[j]; j++) {
            if (!*algs[j])
                return fail(error,
                            _("\"%s\" has an empty algorithm name (\"--\" or a \"-\" at "
                              "an end)"),
                            text);
            for (const char *p = algs[j]; *p; p++) {
                if (!g_ascii_isalnum(*p) && *p != '_')
                    return fail(error,
                                _("\"%s\": algorithm names are letters, digits and '_', "
                                  "joined by '-', proposals separated by ','"),
                                text);
            }
        }
        if (g_strv_length(algs) < 2)
            return fail(error,
                        _("\"%s\": a proposal names at least a cipher and a DH group, like "
                          "aes256-sha256-ecp256"),
                        proposals[i]);
    }
    g_free(*out);
    *out = g_ascii_strdown(text, -1);
    return TRUE;
}

static gboolean
parse_seconds(const char *text, guint *out, GError **error)
{
    g_autofree char *num  = g_strdup(text);
    gsize            n    = strlen(num);
    guint64          mult = 1, v;

    if (n > 1 && g_ascii_isalpha(num[n - 1])) {
        switch (g_ascii_tolower(num[n - 1])) {
        case 's':
            mult = 1;
            break;
        case 'm':
            mult = 60;
            break;
        case 'h':
            mult = 3600;
            break;
        default:
            return fail(error, _("\"%s\" is not a time: a number of seconds, or with s, m or h"),
                        text);
        }
        num[n - 1] = '\0';
    }
    if (!parse_uint(num, 86400 * 365, &v) || v * mult > 86400 * 365 || v == 0)
        return fail(error,
                    _("\"%s\" is not a time from 1 second to a year: a number of seconds, or "
                      "with s, m or h"),
                    text);
    *out = (guint)(v * mult);
    return TRUE;
}

/* A file gre-tunnel reads itself (charon under AppArmor may not read arbitrary paths). */
static gboolean
parse_file(const char *text, char **out, GError **error)
{
    /* Recorded in the ownership record as one word, and sized to fit a plan step. The text
     * is checked first, so that the message below never echoes a control character. */
    if (!check_text(text, 255, error))
        return FALSE;
    if (text[0] != '/' || strchr(text, ' '))
        return fail(error,
                    _("\"%s\" is not an absolute path of at most 255 characters without "
                      "blanks"),
                    text);
    g_free(*out);
    *out = g_strdup(text);
    return TRUE;
}

static gboolean
parse_path(const char *text, char **out, GError **error)
{
    const char *path = g_str_has_prefix(text, "unix://") ? text + 7 : text;

    /* sun_path holds 108 bytes with the terminating NUL. The plan shows the path in its IKE
     * step, and the daemon's logs name it: no control characters. */
    if (!check_text(path, 107, error))
        return FALSE;
    if (path[0] != '/' || strchr(path, ' '))
        return fail(error,
                    _("\"%s\" is not an absolute path of at most 107 characters without "
                      "blanks"),
                    text);
    g_free(*out);
    *out = g_strdup(path);
    return TRUE;
}

gboolean
gre_key_set(const GreKeyInfo *key, GreSettings *s, const char *text, GError **error)
{
    const Row *row = row_of(key);
    guint64    v;

    switch (key->type) {
    case GRE_KT_IFNAME:
        return parse_ifname(text, FIELD(s, row, char), error);
    case GRE_KT_OUTER_ADDR:
        if (key->def && strcmp(text, key->def) == 0) {
            *FIELD(s, row, GreAddr) = (GreAddr){ 0 };
            return TRUE;
        }
        if (!gre_addr_parse(text, AF_UNSPEC, FIELD(s, row, GreAddr)))
            return fail(error, _("\"%s\" is not an IPv4 or IPv6 address%s"), text,
                        key->def ? _(" (or auto)") : "");
        return TRUE;
    case GRE_KT_ADDR4:
    case GRE_KT_ADDR6: {
        int fam = key->type == GRE_KT_ADDR4 ? AF_INET : AF_INET6;
        if (!gre_addr_parse(text, fam, FIELD(s, row, GreAddr)))
            /* TRANSLATORS: the second %s is IPv4 or IPv6 */
            return fail(error, _("\"%s\" is not an %s address"), text,
                        fam == AF_INET ? "IPv4" : "IPv6");
        return TRUE;
    }
    case GRE_KT_PREFIX4:
    case GRE_KT_PREFIX6: {
        int fam = key->type == GRE_KT_PREFIX4 ? AF_INET : AF_INET6;
        if (!gre_prefix_parse(text, fam, FIELD(s, row, GrePrefix), NULL))
            return fail(error, _("\"%s\" is not an %s address with an optional /prefix"), text,
                        fam == AF_INET ? "IPv4" : "IPv6");
        return TRUE;
    }
    case GRE_KT_ROUTES:
        return parse_routes(text, *FIELD(s, row, GArray *), error);
    case GRE_KT_PIN:
        if (g_ascii_strcasecmp(text, "auto") == 0)
            *FIELD(s, row, GrePinMode) = GRE_PIN_AUTO;
        else {
            gboolean b;
            if (!gre_parse_bool(text, &b))
                return fail(error, _("\"%s\" is not one of auto, yes, no"), text);
            *FIELD(s, row, GrePinMode) = b ? GRE_PIN_YES : GRE_PIN_NO;
        }
        return TRUE;
    case GRE_KT_GREKEY: {
        guint32 k = 0;
        if (!parse_grekey(text, &k, error))
            return FALSE;
        if (key->id != GRE_KEY_OKEY) {
            s->ikey     = k;
            s->has_ikey = TRUE;
        }
        if (key->id != GRE_KEY_IKEY) {
            s->okey     = k;
            s->has_okey = TRUE;
        }
        return TRUE;
    }
    case GRE_KT_BOOL:
        if (!gre_parse_bool(text, FIELD(s, row, gboolean)))
            return fail(error, _("\"%s\" is not yes or no"), text);
        return TRUE;
    case GRE_KT_TTL:
        if (g_ascii_strcasecmp(text, "inherit") == 0)
            v = GRE_TTL_INHERIT;
        else if (!parse_uint(text, 255, &v))
            return fail(error, _("\"%s\" is not inherit or a TTL from 1 to 255"), text);
        *FIELD(s, row, guint8) = (guint8)v;
        return TRUE;
    case GRE_KT_TOS:
        if (g_ascii_strcasecmp(text, "inherit") == 0) {
            *FIELD(s, row, int) = GRE_TOS_INHERIT;
            return TRUE;
        }
        if (!parse_uint(text, 255, &v))
            return fail(error, _("\"%s\" is not inherit or a TOS from 0 to 254"), text);
        if (v & 1)
            return fail(error,
                        _("TOS %s is odd: the kernel reads bit 0 as \"inherit\"; write "
                          "inherit or an even value"),
                        text);
        *FIELD(s, row, int) = (int)v;
        return TRUE;
    case GRE_KT_ENCAPLIMIT:
        if (g_ascii_strcasecmp(text, "none") == 0) {
            *FIELD(s, row, int) = GRE_ENCAPLIMIT_NONE;
            return TRUE;
        }
        if (!parse_uint(text, 255, &v))
            return fail(error, _("\"%s\" is not none or a limit from 0 to 255"), text);
        *FIELD(s, row, int) = (int)v;
        return TRUE;
    case GRE_KT_MTU:
        if (g_ascii_strcasecmp(text, "auto") == 0) {
            *FIELD(s, row, guint) = GRE_MTU_AUTO;
            return TRUE;
        }
        if (!parse_uint(text, 65535, &v))
            return fail(error, _("\"%s\" is not auto or an MTU from 68 to 65535"), text);
        if (v < 68)
            return fail(error, _("MTU %s is below 68, the smallest that IPv4 allows"), text);
        *FIELD(s, row, guint) = (guint)v;
        return TRUE;
    case GRE_KT_IPSEC:
        if (g_ascii_strcasecmp(text, "none") == 0)
            *FIELD(s, row, GreIpsecMode) = GRE_IPSEC_NONE;
        else if (g_ascii_strcasecmp(text, "manual") == 0)
            *FIELD(s, row, GreIpsecMode) = GRE_IPSEC_MANUAL;
        else if (g_ascii_strcasecmp(text, "ike") == 0)
            *FIELD(s, row, GreIpsecMode) = GRE_IPSEC_IKE;
        else
            return fail(error, _("\"%s\" is not none, manual or ike"), text);
        return TRUE;
    case GRE_KT_SUITE: {
        const GreSuiteInfo *suite = gre_suite_lookup(text);
        if (!suite)
            return fail(error, _("unknown suite \"%s\"; known: %s"), text, gre_suite_names());
        *FIELD(s, row, GreSuite) = suite->id;
        return TRUE;
    }
    case GRE_KT_SPI:
        if (!parse_uint(text, G_MAXUINT32, &v))
            return fail(error, _("\"%s\" is not a number (decimal or 0x hex)"), text);
        if (v < 256)
            return fail(error, _("SPI %s is reserved (0-255); use 256 or more"), text);
        *FIELD(s, row, guint32) = (guint32)v;
        return TRUE;
    case GRE_KT_HEXKEY:
        return parse_hex(text, FIELD(s, row, GBytes *), error);
    case GRE_KT_PSK:
        return parse_psk(text, FIELD(s, row, GBytes *), error);
    case GRE_KT_IKE_ID:
        return parse_ike_id(text, FIELD(s, row, char *), error);
    case GRE_KT_PROPOSAL:
        return parse_proposal(text, FIELD(s, row, char *), error);
    case GRE_KT_DHGROUP:
        if (!gre_dh_group_known(text))
            return fail(error, _("unknown DH group \"%s\"; known: %s"), text, gre_dh_group_names());
        g_free(*FIELD(s, row, char *));
        *FIELD(s, row, char *) = g_ascii_strdown(text, -1);
        return TRUE;
    case GRE_KT_SECONDS:
        return parse_seconds(text, FIELD(s, row, guint), error);
    case GRE_KT_PATH:
        return parse_path(text, FIELD(s, row, char *), error);
    case GRE_KT_IKE_AUTH:
        if (g_ascii_strcasecmp(text, "psk") == 0)
            *FIELD(s, row, GreIkeAuth) = GRE_IKE_AUTH_PSK;
        else if (g_ascii_strcasecmp(text, "cert") == 0)
            *FIELD(s, row, GreIkeAuth) = GRE_IKE_AUTH_CERT;
        else
            return fail(error, _("\"%s\" is not psk or cert"), text);
        return TRUE;
    case GRE_KT_FILE:
        return parse_file(text, FIELD(s, row, char *), error);
    }
    g_return_val_if_reached(FALSE);
}

static char *
addr_or_null(const GreAddr *a)
{
    return a->family == AF_UNSPEC ? NULL : gre_addr_to_string(a);
}

char *
gre_key_get(const GreKeyInfo *key, const GreSettings *s)
{
    const Row *row = row_of(key);
    gboolean   both_equal;

    switch (key->type) {
    case GRE_KT_IFNAME:
        return *CFIELD(s, row, char) ? g_strdup(CFIELD(s, row, char)) : NULL;
    case GRE_KT_OUTER_ADDR: {
        const GreAddr *a = CFIELD(s, row, GreAddr);
        return a->family == AF_UNSPEC ? g_strdup(key->def) : gre_addr_to_string(a);
    }
    case GRE_KT_ADDR4:
    case GRE_KT_ADDR6:
        return addr_or_null(CFIELD(s, row, GreAddr));
    case GRE_KT_PREFIX4:
    case GRE_KT_PREFIX6: {
        const GrePrefix *p = CFIELD(s, row, GrePrefix);
        return p->addr.family == AF_UNSPEC ? NULL : gre_prefix_to_string(p);
    }
    case GRE_KT_ROUTES: {
        const GArray *routes = *CFIELD(s, row, GArray *);
        GString      *str;

        if (routes->len == 0)
            return NULL;
        str = g_string_new(NULL);
        for (guint i = 0; i < routes->len; i++) {
            const GreRoute  *r = &g_array_index(routes, GreRoute, i);
            g_autofree char *p = gre_prefix_to_string(&r->dst);
            g_string_append_printf(str, "%s%s", i ? " " : "", p);
            if (r->metric)
                g_string_append_printf(str, " metric %u", r->metric);
        }
        return g_string_free(str, FALSE);
    }
    case GRE_KT_PIN:
        switch (*CFIELD(s, row, GrePinMode)) {
        case GRE_PIN_AUTO:
            return g_strdup("auto");
        case GRE_PIN_YES:
            return g_strdup("yes");
        case GRE_PIN_NO:
            return g_strdup("no");
        }
        return NULL;
    case GRE_KT_GREKEY:
        both_equal = s->has_ikey && s->has_okey && s->ikey == s->okey;
        if (key->id == GRE_KEY_KEY)
            return both_equal ? g_strdup_printf("%u", s->ikey) : NULL;
        if (both_equal)
            return NULL;
        if (key->id == GRE_KEY_IKEY)
            return s->has_ikey ? g_strdup_printf("%u", s->ikey) : NULL;
        return s->has_okey ? g_strdup_printf("%u", s->okey) : NULL;
    case GRE_KT_BOOL:
        return g_strdup(*CFIELD(s, row, gboolean) ? "yes" : "no");
    case GRE_KT_TTL:
        return *CFIELD(s, row, guint8) == GRE_TTL_INHERIT
                   ? g_strdup("inherit")
                   : g_strdup_printf("%u", *CFIELD(s, row, guint8));
    case GRE_KT_TOS:
        return *CFIELD(s, row, int) == GRE_TOS_INHERIT
                   ? g_strdup("inherit")
                   : g_strdup_printf("%d", *CFIELD(s, row, int));
    case GRE_KT_ENCAPLIMIT:
        return *CFIELD(s, row, int) == GRE_ENCAPLIMIT_NONE
                   ? g_strdup("none")
                   : g_strdup_printf("%d", *CFIELD(s, row, int));
    case GRE_KT_MTU:
        return *CFIELD(s, row, guint) == GRE_MTU_AUTO
                   ? g_strdup("auto")
                   : g_strdup_printf("%u", *CFIELD(s, row, guint));
    case GRE_KT_IPSEC:
        switch (*CFIELD(s, row, GreIpsecMode)) {
        case GRE_IPSEC_NONE:
            return g_strdup("none");
        case GRE_IPSEC_MANUAL:
            return g_strdup("manual");
        case GRE_IPSEC_IKE:
            return g_strdup("ike");
        }
        return NULL;
    case GRE_KT_SUITE:
        return g_strdup(gre_suite_info(*CFIELD(s, row, GreSuite))->name);
    case GRE_KT_SPI:
        return *CFIELD(s, row, guint32) ? g_strdup_printf("0x%x", *CFIELD(s, row, guint32)) : NULL;
    case GRE_KT_HEXKEY: {
        GBytes       *b = *(GBytes *const *)((const char *)s + row->offset);
        gsize         n;
        const guint8 *d;
        GString      *str;

        if (!b)
            return NULL;
        d   = g_bytes_get_data(b, &n);
        str = g_string_sized_new(2 + 2 * n + 1);
        g_string_append(str, "0x");
        /* By hand, not with printf: its scratch buffers would keep key bytes in freed memory,
         * and sized so the string never moves. The caller wipes the result. */
        for (gsize i = 0; i < n; i++) {
            g_string_append_c(str, "0123456789abcdef"[d[i] >> 4]);
            g_string_append_c(str, "0123456789abcdef"[d[i] & 0xf]);
        }
        return g_string_free(str, FALSE);
    }
    case GRE_KT_PSK: {
        GBytes       *b = *(GBytes *const *)((const char *)s + row->offset);
        gsize         n;
        const guint8 *d;

        if (!b)
            return NULL;
        d = g_bytes_get_data(b, &n);
        return g_strndup((const char *)d, n);
    }
    case GRE_KT_IKE_ID:
    case GRE_KT_PROPOSAL:
    case GRE_KT_DHGROUP:
    case GRE_KT_PATH:
        /* Unset reads as the default, like the outer address's "auto". */
        return g_strdup(gre_key_text(key->id, s));
    case GRE_KT_SECONDS:
        return *CFIELD(s, row, guint) ? g_strdup_printf("%u", *CFIELD(s, row, guint))
                                      : g_strdup(gre_key_default(key, s));
    case GRE_KT_IKE_AUTH:
        return g_strdup(*CFIELD(s, row, GreIkeAuth) == GRE_IKE_AUTH_CERT ? "cert" : "psk");
    case GRE_KT_FILE:
        return g_strdup(*CFIELD(s, row, char *));
    }
    g_return_val_if_reached(NULL);
}

gboolean
gre_key_is_default(const GreKeyInfo *key, const GreSettings *s)
{
    g_autofree char *v = gre_key_get(key, s);

    if (!v)
        return TRUE;
    if (key->secret)
        explicit_bzero(v, strlen(v));
    return gre_key_default(key, s) && strcmp(v, gre_key_default(key, s)) == 0;
}

void
gre_settings_resolve_defaults(GreSettings *s, const gboolean given[GRE_KEY_COUNT])
{
    for (guint i = 0; i < GRE_KEY_COUNT; i++) {
        const GreKeyInfo *key = &rows[i].info;

        if (!given[i] && key->def_ike && s->ipsec == GRE_IPSEC_IKE &&
            !gre_key_set(key, s, key->def_ike, NULL))
            g_return_if_reached();
    }
}

GreSettings *
gre_settings_from_lookup(GreKeyStyle style, GreKeyGetFunc get, GreKeyLocateFunc locate,
                         gpointer user_data, GError **error)
{
    g_autoptr(GreSettings) s      = gre_settings_new();
    g_autoptr(GString) errors     = g_string_new(NULL);
    gboolean given[GRE_KEY_COUNT] = { FALSE };

    /* Every value that does not parse is named, one a line, as validation names its problems:
     * a user fixes a file in one go. */
    for (guint i = 0; i < GRE_KEY_COUNT; i++) {
        const GreKeyInfo *key  = &rows[i].info;
        const char       *name = gre_key_name(key, style);
        const char       *text;
        g_autoptr(GError) local = NULL;

        if (!name || !(text = get(name, user_data)) || !*text)
            continue;
        given[i] = TRUE;
        if (!gre_key_set(key, s, text, &local)) {
            g_autofree char *where = locate(key, user_data);

            g_string_append_printf(errors, "%s%s: %s: %s", errors->len ? "\n" : "", where, name,
                                   local->message);
        }
    }
    if (errors->len) {
        g_set_error_literal(error, GRE_ERROR, GRE_ERROR_INVALID, errors->str);
        return NULL;
    }
    gre_settings_resolve_defaults(s, given);
    return g_steal_pointer(&s);
}
