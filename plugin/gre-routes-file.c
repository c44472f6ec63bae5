/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-routes-file.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "gre-error.h"
#include "gre-file.h"
#include "gre-i18n.h"
#include "gre-settings-table.h"
#include "gre-shvar.h"

#define SUBSET "PREFIX [via GATEWAY] [dev DEVICE] [metric N] [src ADDRESS]"

static gboolean G_GNUC_PRINTF(4, 5)
    fail(GError **error, int code, const char *where, const char *fmt, ...)
{
    va_list          ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, GRE_ERROR, code, "%s: %s", where, msg);
    return FALSE;
}

void
gre_routes_file_free(GreRoutesFile *file)
{
    if (!file)
        return;
    g_free(file->source);
    g_array_unref(file->routes);
    g_free(file);
}

static const char *
family_name(int family)
{
    return family == AF_INET6 ? "IPv6" : "IPv4";
}

/* The file that holds routes of the other family, for "this belongs there" messages. */
static const char *
other_file(int family)
{
    return family == AF_INET6 ? "route-NAME" : "route6-NAME";
}

/* Decimal or 0x-hex, as ip(8) reads a metric. */
static gboolean
parse_u32(const char *text, guint32 *out)
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
    if (errno || *end || v > G_MAXUINT32)
        return FALSE;
    *out = (guint32)v;
    return TRUE;
}

static gboolean
parse_dst(const char *where, int family, const char *text, GrePrefix *out, GError **error)
{
    GrePrefix net;

    if (strcmp(text, "default") == 0) {
        *out             = (GrePrefix){ 0 };
        out->addr.family = family;
        return TRUE;
    }
    if (!gre_prefix_parse(text, AF_UNSPEC, out, NULL))
        return fail(error, GRE_ERROR_PARSE, where,
                    _("\"%s\" is not a prefix (like %s) or \"default\""), text,
                    family == AF_INET6 ? "2001:db8::/48" : "203.0.113.0/24");
    if (out->addr.family != family)
        return fail(error, GRE_ERROR_PARSE, where, _("%s is an %s prefix; it belongs in %s"), text,
                    family_name(out->addr.family), other_file(family));
    net = gre_prefix_network(out);
    if (!gre_addr_equal(&net.addr, &out->addr)) {
        g_autofree char *p = gre_prefix_to_string(&net);
        return fail(error, GRE_ERROR_PARSE, where, _("%s has host bits set; did you mean %s?"),
                    text, p);
    }
    return TRUE;
}

static gboolean
parse_addr(const char *where, int family, const char *keyword, const char *text, GreAddr *out,
           GError **error)
{
    if (!gre_addr_parse(text, family, out))
        return fail(error, GRE_ERROR_PARSE, where, _("%s \"%s\": not an %s address"), keyword, text,
                    family_name(family));
    return TRUE;
}

static const char *const keywords[] = { "via", "dev", "metric", "src" };

/* One `ip route add` argument list. ifup-routes word-splits it unquoted, so the words are all
 * there is; anything outside the subset is refused rather than half-understood. */
static gboolean
parse_ip_line(GreRoutesFile *file, guint lineno, const char *line, GError **error)
{
    g_autofree char *where = g_strdup_printf("%s:%u", file->source, lineno);
    g_auto(GStrv) split    = g_strsplit_set(line, " \t", -1);
    g_autoptr(GPtrArray) w = g_ptr_array_new();
    GreRouteEntry e        = { .line = lineno };
    gboolean      seen[4]  = { FALSE };

    for (guint i = 0; split[i]; i++) {
        if (*split[i])
            g_ptr_array_add(w, split[i]);
    }
    if (!parse_dst(where, file->family, w->pdata[0], &e.dst, error))
        return FALSE;

    for (guint i = 1; i < w->len; i += 2) {
        const char *kw = w->pdata[i];
        const char *value;
        guint       k;

        if (kw[0] == '#')
            return fail(
                error, GRE_ERROR_PARSE, where,
                _("a comment must be on a line of its own (ifup-routes would hand \"%s\" to "
                  "ip route as an argument)"),
                kw);
        for (k = 0; k < G_N_ELEMENTS(keywords); k++) {
            if (strcmp(kw, keywords[k]) == 0)
                break;
        }
        if (k == G_N_ELEMENTS(keywords))
            return fail(error, GRE_ERROR_PARSE, where,
                        _("\"%s\" is not supported; a route file of a GRE tunnel takes %s"), kw,
                        SUBSET);
        if (seen[k])
            return fail(error, GRE_ERROR_PARSE, where, _("\"%s\" is given twice"), kw);
        seen[k] = TRUE;
        if (i + 1 >= w->len)
            return fail(error, GRE_ERROR_PARSE, where, _("\"%s\" needs a value"), kw);
        value = w->pdata[i + 1];

        switch (k) {
        case 0:
            if (!parse_addr(where, file->family, kw, value, &e.gateway, error))
                return FALSE;
            break;
        case 1:
            if (strlen(value) >= GRE_IFNAMSIZ)
                return fail(error, GRE_ERROR_PARSE, where,
                            _("dev \"%s\": interface names have at most %d characters"), value,
                            GRE_IFNAMSIZ - 1);
            g_strlcpy(e.dev, value, sizeof e.dev);
            break;
        case 2:
            if (!parse_u32(value, &e.metric))
                return fail(error, GRE_ERROR_PARSE, where,
                            _("metric \"%s\": not a number from 0 to 4294967295"), value);
            break;
        case 3:
            if (!parse_addr(where, file->family, kw, value, &e.src, error))
                return FALSE;
            break;
        }
    }
    g_array_append_val(file->routes, e);
    return TRUE;
}

static gboolean
parse_ip_form(GreRoutesFile *file, const char *text, gsize len, GError **error)
{
    g_autofree char *copy = g_strndup(text, len);
    g_auto(GStrv) lines   = g_strsplit(copy, "\n", -1);

    if (strlen(copy) != len)
        return fail(error, GRE_ERROR_PARSE, file->source,
                    _("contains a NUL byte; not a text file"));
    for (guint i = 0; lines[i]; i++) {
        char *line = g_strstrip(lines[i]);

        if (!*line || *line == '#')
            continue;
        if (!parse_ip_line(file, i + 1, line, error))
            return FALSE;
    }
    return TRUE;
}

typedef enum {
    K_ADDRESS,
    K_NETMASK,
    K_GATEWAY,
    K_METRIC,
    K_COUNT,
} RouteKey;

static const char *const route_keys[K_COUNT] = { "ADDRESS", "NETMASK", "GATEWAY", "METRIC" };

/* "NETMASK12" -> K_NETMASK, 12. Only the canonical spelling: ifup-routes builds the names as
 * ADDRESS$n, so ADDRESS01 would never be read. */
static gboolean
split_key(const char *key, RouteKey *kind, guint *index)
{
    for (guint k = 0; k < K_COUNT; k++) {
        gsize       n = strlen(route_keys[k]);
        const char *d = key + n;
        guint64     v;
        char       *end;

        if (strncmp(key, route_keys[k], n) != 0 || !g_ascii_isdigit(*d) ||
            (d[0] == '0' && d[1] != '\0'))
            continue;
        errno = 0;
        v     = g_ascii_strtoull(d, &end, 10);
        if (errno || *end || v > G_MAXUINT16)
            continue;
        *kind  = k;
        *index = (guint)v;
        return TRUE;
    }
    return FALSE;
}

static gboolean
netmask_to_plen(const char *text, guint8 *plen)
{
    GreAddr a;
    guint32 mask;

    if (!gre_addr_parse(text, AF_INET, &a))
        return FALSE;
    mask = g_ntohl(a.u.v4.s_addr);
    /* Contiguous: the inverted mask plus one is a power of two (or zero for /0). */
    if (((~mask + 1) & ~mask) != 0)
        return FALSE;
    *plen = (guint8)(32 - __builtin_popcount(~mask));
    return TRUE;
}

static gboolean
parse_shvar_form(GreRoutesFile *file, const char *text, gsize len, GError **error)
{
    g_autoptr(GreShvarFile) sh = gre_shvar_file_parse(file->source, text, len, error);
    const char *const *keys;
    guint              count = 0;
    char               name[32];

    if (!sh)
        return FALSE;
    if (file->family != AF_INET)
        return fail(error, GRE_ERROR_PARSE, file->source,
                    _("ADDRESSn/NETMASKn/GATEWAYn lines are read from route-NAME only; write the "
                      "IPv6 routes of route6-NAME as \"PREFIX [metric N]\" lines"));

    /* ifup-routes reads ADDRESS0, ADDRESS1, ... and stops at the first that is missing. */
    for (;; count++) {
        const char *v;

        g_snprintf(name, sizeof name, "ADDRESS%u", count);
        v = gre_shvar_file_get(sh, name);
        if (!v || !*v)
            break;
    }

    keys = gre_shvar_file_get_keys(sh);
    for (guint i = 0; keys[i]; i++) {
        g_autofree char *where =
            g_strdup_printf("%s:%u", file->source, gre_shvar_file_get_line(sh, keys[i]));
        RouteKey kind;
        guint    index;

        if (!split_key(keys[i], &kind, &index))
            return fail(error, GRE_ERROR_PARSE, where,
                        _("%s: not a route key; this form takes ADDRESSn, NETMASKn, GATEWAYn and "
                          "METRICn, n counting from 0"),
                        keys[i]);
        if (index < count)
            continue;
        if (kind == K_ADDRESS) {
            const char *v = gre_shvar_file_get(sh, keys[i]);
            if (!v || !*v)
                continue; /* empty: as if absent, the way ifup-routes reads it */
            return fail(error, GRE_ERROR_PARSE, where,
                        _("%s: never read: the numbering stops at ADDRESS%u, which is missing "
                          "(network-scripts would drop this route too); number the routes from 0 "
                          "without gaps"),
                        keys[i], count);
        }
        return fail(error, GRE_ERROR_PARSE, where, _("%s: there is no ADDRESS%u for it"), keys[i],
                    index);
    }

    for (guint n = 0; n < count; n++) {
        const char      *v[K_COUNT];
        guint            lines[K_COUNT];
        g_autofree char *where = NULL;
        GreRouteEntry    e     = { 0 };
        GrePrefix        net;

        for (guint k = 0; k < K_COUNT; k++) {
            g_snprintf(name, sizeof name, "%s%u", route_keys[k], n);
            v[k]     = gre_shvar_file_get(sh, name);
            lines[k] = gre_shvar_file_get_line(sh, name);
            if (v[k] && !*v[k])
                v[k] = NULL;
        }
        e.line = lines[K_ADDRESS];
        where  = g_strdup_printf("%s:%u", file->source, e.line);
        if (!gre_addr_parse(v[K_ADDRESS], AF_INET, &e.dst.addr))
            return fail(error, GRE_ERROR_PARSE, where,
                        _("ADDRESS%u: \"%s\" is not an IPv4 address (the prefix length goes in "
                          "NETMASK%u)"),
                        n, v[K_ADDRESS], n);
        e.dst.plen = 32;
        if (v[K_NETMASK] && !netmask_to_plen(v[K_NETMASK], &e.dst.plen)) {
            g_autofree char *w = g_strdup_printf("%s:%u", file->source, lines[K_NETMASK]);
            return fail(error, GRE_ERROR_PARSE, w,
                        _("NETMASK%u: \"%s\" is not a netmask (like 255.255.255.0)"), n,
                        v[K_NETMASK]);
        }
        net = gre_prefix_network(&e.dst);
        if (!gre_addr_equal(&net.addr, &e.dst.addr)) {
            g_autofree char *p = gre_addr_to_string(&net.addr);
            return fail(error, GRE_ERROR_PARSE, where,
                        _("ADDRESS%u: %s has host bits set for NETMASK%u; did you mean %s?"), n,
                        v[K_ADDRESS], n, p);
        }
        /* 0.0.0.0 reads as "no gateway", as NetworkManager reads it. */
        if (v[K_GATEWAY] && strcmp(v[K_GATEWAY], "0.0.0.0") != 0 &&
            !gre_addr_parse(v[K_GATEWAY], AF_INET, &e.gateway)) {
            g_autofree char *w = g_strdup_printf("%s:%u", file->source, lines[K_GATEWAY]);
            return fail(error, GRE_ERROR_PARSE, w, _("GATEWAY%u: \"%s\" is not an IPv4 address"), n,
                        v[K_GATEWAY]);
        }
        if (v[K_METRIC] && !parse_u32(v[K_METRIC], &e.metric)) {
            g_autofree char *w = g_strdup_printf("%s:%u", file->source, lines[K_METRIC]);
            return fail(error, GRE_ERROR_PARSE, w,
                        _("METRIC%u: \"%s\" is not a number from 0 to 4294967295"), n, v[K_METRIC]);
        }
        g_array_append_val(file->routes, e);
    }
    return TRUE;
}

/* ifup-routes' test: grep -Eq '^[[:space:]]*ADDRESS[0-9]+=' */
static gboolean
is_shvar_form(const char *text, gsize len)
{
    const char *p = text, *end = text + len;

    while (p < end) {
        const char *q = p;

        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        if (end - q > 7 && strncmp(q, "ADDRESS", 7) == 0 && g_ascii_isdigit(q[7])) {
            q += 7;
            while (q < end && g_ascii_isdigit(*q))
                q++;
            if (q < end && *q == '=')
                return TRUE;
        }
        p = memchr(p, '\n', end - p);
        if (!p)
            break;
        p++;
    }
    return FALSE;
}

GreRoutesFile *
gre_routes_file_parse(const char *source, int family, const char *text, gssize len, GError **error)
{
    g_autoptr(GreRoutesFile) file = g_new0(GreRoutesFile, 1);
    gsize n                       = len < 0 ? strlen(text) : (gsize)len;

    g_return_val_if_fail(family == AF_INET || family == AF_INET6, NULL);
    file->source     = g_strdup(source);
    file->family     = family;
    file->routes     = g_array_new(FALSE, TRUE, sizeof(GreRouteEntry));
    file->shvar_form = is_shvar_form(text, n);
    if (!(file->shvar_form ? parse_shvar_form(file, text, n, error)
                           : parse_ip_form(file, text, n, error)))
        return NULL;
    return g_steal_pointer(&file);
}

GreRoutesFile *
gre_routes_file_load(const char *path, int family, GError **error)
{
    g_autofree char *text = NULL;
    gsize            len  = 0;

    /* Bounded, and refusing a FIFO or a device: network-scripts would read either forever. */
    if (!(text = gre_file_read(path, GRE_FILE_FOLLOW, &len, error)))
        return NULL;
    return gre_routes_file_parse(path, family, text, len, error);
}

char *
gre_routes_file_path(const char *ifcfg_path, const char *device, int family)
{
    g_autofree char *dir  = g_path_get_dirname(ifcfg_path);
    g_autofree char *base = g_path_get_basename(ifcfg_path);
    const char      *name = g_str_has_prefix(base, "ifcfg-") ? base + 6 : device;
    g_autofree char *file =
        g_strconcat(family == AF_INET6 ? "route6-" : "route-", name ? name : base, NULL);

    return g_build_filename(dir, file, NULL);
}

gboolean
gre_routes_file_merge(const GreRoutesFile *file, GreSettings *s, GError **error)
{
    gboolean         v6        = file->family == AF_INET6;
    const GrePrefix *inner     = v6 ? &s->inner6 : &s->inner4;
    const GreAddr   *peer      = v6 ? &s->inner6_peer : &s->inner4_peer;
    const char      *inner_key = gre_key_info(v6 ? GRE_KEY_INNER6 : GRE_KEY_INNER4)->ifcfg;
    const char      *peer_key = gre_key_info(v6 ? GRE_KEY_INNER6_PEER : GRE_KEY_INNER4_PEER)->ifcfg;
    /* "PREFIX METRIC" of every route so far: with a list, a 1 MiB file of 65 536 routes took
     * 37 s to check for duplicates. */
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    for (guint j = 0; j < s->routes->len; j++) {
        const GreRoute  *o   = &g_array_index(s->routes, GreRoute, j);
        g_autofree char *dst = gre_prefix_to_string(&o->dst);

        g_hash_table_add(seen, g_strdup_printf("%s %u", dst, o->metric));
    }
    for (guint i = 0; i < file->routes->len; i++) {
        const GreRouteEntry *e     = &g_array_index(file->routes, GreRouteEntry, i);
        g_autofree char     *where = g_strdup_printf("%s:%u", file->source, e->line);
        g_autofree char     *dst   = gre_prefix_to_string(&e->dst);
        g_autofree char     *what  = NULL;
        GreRoute             r     = { e->dst, e->metric };

        if (inner->addr.family == AF_UNSPEC)
            return fail(error, GRE_ERROR_INVALID, where,
                        _("%s needs an %s inner address to send from; set %s in the ifcfg file"),
                        dst, family_name(file->family), inner_key);
        if (e->dev[0] && strcmp(e->dev, s->name) != 0)
            return fail(error, GRE_ERROR_INVALID, where,
                        _("dev %s: the routes in this file go through the tunnel %s; remove \"dev "
                          "%s\" (a route through another device belongs in that device's file)"),
                        e->dev, s->name, e->dev);
        if (e->gateway.family != AF_UNSPEC) {
            g_autofree char *gw = gre_addr_to_string(&e->gateway);

            /* On a point-to-point tunnel every packet goes to the one peer, so "via the peer"
             * is the same route as a device route; any other gateway cannot be reached. */
            if (peer->family == AF_UNSPEC)
                return fail(
                    error, GRE_ERROR_INVALID, where,
                    _("via %s: a point-to-point tunnel needs no gateway, and %s is not set; "
                      "remove \"via %s\""),
                    gw, peer_key, gw);
            if (!gre_addr_equal(&e->gateway, peer)) {
                g_autofree char *p = gre_addr_to_string(peer);
                return fail(error, GRE_ERROR_INVALID, where,
                            _("via %s: the tunnel's only next hop is its inner peer %s (%s); "
                              "remove \"via %s\", or route via %s"),
                            gw, p, peer_key, gw, p);
            }
        }
        if (e->src.family != AF_UNSPEC && !gre_addr_equal(&e->src, &inner->addr)) {
            g_autofree char *src = gre_addr_to_string(&e->src);
            g_autofree char *own = gre_addr_to_string(&inner->addr);
            return fail(error, GRE_ERROR_INVALID, where,
                        _("src %s: routes through the tunnel always use its inner address %s (%s) "
                          "as the source; remove \"src %s\""),
                        src, own, inner_key, src);
        }
        if (!g_hash_table_add(seen, g_strdup_printf("%s %u", dst, r.metric))) {
            what = e->metric ? g_strdup_printf("%s metric %u", dst, e->metric) : g_strdup(dst);
            return fail(error, GRE_ERROR_INVALID, where,
                        _("%s is already routed through the tunnel (in ROUTES or on an earlier "
                          "line); list each route once"),
                        what);
        }
        g_array_append_val(s->routes, r);
    }
    return TRUE;
}

gboolean
gre_routes_file_add_beside(const char *ifcfg_path, GreSettings *s, guint *count, GError **error)
{
    static const int families[] = { AF_INET, AF_INET6 };
    guint            added      = 0;

    for (guint i = 0; i < G_N_ELEMENTS(families); i++) {
        g_autofree char *path = gre_routes_file_path(ifcfg_path, s->name, families[i]);
        g_autoptr(GreRoutesFile) file = NULL;

        if (!g_file_test(path, G_FILE_TEST_EXISTS))
            continue;
        file = gre_routes_file_load(path, families[i], error);
        if (!file || !gre_routes_file_merge(file, s, error))
            return FALSE;
        added += file->routes->len;
    }
    if (count)
        *count = added;
    return TRUE;
}
