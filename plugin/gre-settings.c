/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-settings.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

GreSettings *
gre_settings_new(void)
{
    GreSettings *s = g_new0(GreSettings, 1);

    s->routes         = g_array_new(FALSE, TRUE, sizeof(GreRoute));
    s->local_networks = g_array_new(FALSE, TRUE, sizeof(GreRoute));
    s->ttl            = 64;
    s->tos            = GRE_TOS_INHERIT;
    s->pmtudisc       = TRUE;
    s->encaplimit     = GRE_ENCAPLIMIT_KERNEL;
    s->suite          = GRE_SUITE_AES256_SHA256;
    return s;
}

static GBytes *
bytes_copy(GBytes *b)
{
    return b ? g_bytes_ref(b) : NULL;
}

GreSettings *
gre_settings_copy(const GreSettings *s)
{
    GreSettings *c = g_new(GreSettings, 1);

    *c                 = *s;
    c->routes          = g_array_copy(s->routes);
    c->local_networks  = g_array_copy(s->local_networks);
    c->enc_key_in      = bytes_copy(s->enc_key_in);
    c->enc_key_out     = bytes_copy(s->enc_key_out);
    c->auth_key_in     = bytes_copy(s->auth_key_in);
    c->auth_key_out    = bytes_copy(s->auth_key_out);
    c->ike_psk         = bytes_copy(s->ike_psk);
    c->ike_local_id    = g_strdup(s->ike_local_id);
    c->ike_remote_id   = g_strdup(s->ike_remote_id);
    c->ike_proposals   = g_strdup(s->ike_proposals);
    c->ike_esp_dh      = g_strdup(s->ike_esp_dh);
    c->ike_vici_socket = g_strdup(s->ike_vici_socket);
    c->ike_cert        = g_strdup(s->ike_cert);
    c->ike_privkey     = g_strdup(s->ike_privkey);
    c->ike_cacert      = g_strdup(s->ike_cacert);
    return c;
}

typedef struct {
    gsize  len;
    guint8 data[];
} Secret;

static void
secret_wipe(gpointer p)
{
    Secret *sec = p;

    explicit_bzero(sec->data, sec->len);
    g_free(sec);
}

void
gre_wipe_free(char *text)
{
    if (text) {
        explicit_bzero(text, strlen(text));
        g_free(text);
    }
}

GBytes *
gre_secret_new(const guint8 *data, gsize len)
{
    /* Key material is wiped when the last reference goes, not left in freed heap memory. */
    Secret *sec = g_malloc(sizeof(Secret) + len);

    sec->len = len;
    memcpy(sec->data, data, len);
    return g_bytes_new_with_free_func(sec->data, len, secret_wipe, sec);
}

void
gre_settings_free(GreSettings *s)
{
    if (!s)
        return;
    g_array_unref(s->routes);
    g_array_unref(s->local_networks);
    g_clear_pointer(&s->enc_key_in, g_bytes_unref);
    g_clear_pointer(&s->enc_key_out, g_bytes_unref);
    g_clear_pointer(&s->auth_key_in, g_bytes_unref);
    g_clear_pointer(&s->auth_key_out, g_bytes_unref);
    g_clear_pointer(&s->ike_psk, g_bytes_unref);
    g_free(s->ike_local_id);
    g_free(s->ike_remote_id);
    g_free(s->ike_proposals);
    g_free(s->ike_esp_dh);
    g_free(s->ike_vici_socket);
    g_free(s->ike_cert);
    g_free(s->ike_privkey);
    g_free(s->ike_cacert);
    g_free(s);
}

int
gre_settings_outer_family(const GreSettings *s)
{
    return s->remote.family;
}

guint
gre_addr_max_plen(int family)
{
    return family == AF_INET6 ? 128 : 32;
}

gboolean
gre_addr_parse(const char *text, int family, GreAddr *out)
{
    GreAddr a = { 0 };

    if (!text)
        return FALSE;
    if ((family == AF_UNSPEC || family == AF_INET) && inet_pton(AF_INET, text, &a.u.v4) == 1)
        a.family = AF_INET;
    else if ((family == AF_UNSPEC || family == AF_INET6) && inet_pton(AF_INET6, text, &a.u.v6) == 1)
        a.family = AF_INET6;
    else
        return FALSE;
    *out = a;
    return TRUE;
}

char *
gre_addr_to_string(const GreAddr *a)
{
    char buf[INET6_ADDRSTRLEN];

    if (a->family == AF_UNSPEC)
        return g_strdup("");
    inet_ntop(a->family, &a->u, buf, sizeof buf);
    return g_strdup(buf);
}

gboolean
gre_addr_equal(const GreAddr *a, const GreAddr *b)
{
    if (a->family != b->family)
        return FALSE;
    if (a->family == AF_INET)
        return a->u.v4.s_addr == b->u.v4.s_addr;
    if (a->family == AF_INET6)
        return memcmp(&a->u.v6, &b->u.v6, sizeof a->u.v6) == 0;
    return TRUE;
}

gboolean
gre_prefix_parse(const char *text, int family, GrePrefix *out, gboolean *had_plen)
{
    g_autofree char *addr = NULL;
    const char      *slash;
    GrePrefix        p = { 0 };
    guint64          plen;
    char            *end;

    if (!text)
        return FALSE;
    slash = strchr(text, '/');
    addr  = slash ? g_strndup(text, slash - text) : g_strdup(text);
    if (!gre_addr_parse(addr, family, &p.addr))
        return FALSE;
    if (slash) {
        if (!g_ascii_isdigit(slash[1]))
            return FALSE;
        plen = g_ascii_strtoull(slash + 1, &end, 10);
        if (*end || plen > gre_addr_max_plen(p.addr.family))
            return FALSE;
        p.plen = plen;
    } else
        p.plen = gre_addr_max_plen(p.addr.family);
    if (had_plen)
        *had_plen = slash != NULL;
    *out = p;
    return TRUE;
}

char *
gre_prefix_to_string(const GrePrefix *p)
{
    g_autofree char *a = gre_addr_to_string(&p->addr);

    return g_strdup_printf("%s/%u", a, p->plen);
}

static gboolean
bits_equal(const guint8 *a, const guint8 *b, guint bits)
{
    guint bytes = bits / 8, rest = bits % 8;

    if (memcmp(a, b, bytes) != 0)
        return FALSE;
    if (rest) {
        guint8 mask = (guint8)(0xff << (8 - rest));
        return (a[bytes] & mask) == (b[bytes] & mask);
    }
    return TRUE;
}

gboolean
gre_prefix_contains(const GrePrefix *p, const GreAddr *a)
{
    if (p->addr.family != a->family || a->family == AF_UNSPEC)
        return FALSE;
    return bits_equal((const guint8 *)&p->addr.u, (const guint8 *)&a->u, p->plen);
}

GrePrefix
gre_prefix_network(const GrePrefix *p)
{
    GrePrefix n     = *p;
    guint8   *bytes = (guint8 *)&n.addr.u;
    guint     total = gre_addr_max_plen(p->addr.family);

    for (guint bit = p->plen; bit < total; bit++)
        bytes[bit / 8] &= (guint8) ~(0x80 >> (bit % 8));
    return n;
}
