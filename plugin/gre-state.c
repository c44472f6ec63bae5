/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-state-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gre-error.h"
#include "gre-i18n.h"

#define RECORD_VERSION "1"

void
gre_state_record_free(GreStateRecord *rec)
{
    if (!rec)
        return;
    g_free(rec->secrets);
    g_free(rec->source);
    gre_state_owner_free(rec->owner);
    g_ptr_array_unref(rec->lines);
    g_array_unref(rec->steps);
    g_free(rec);
}

static GreStateRecord *
record_new(const char *name)
{
    GreStateRecord *rec = g_new0(GreStateRecord, 1);

    g_strlcpy(rec->name, name, sizeof rec->name);
    rec->lines = g_ptr_array_new_with_free_func(g_free);
    rec->steps = g_array_new(FALSE, TRUE, sizeof(GrePlanStep));
    return rec;
}

/* ---- canonical lines ---- */

static const char *
yesno(gboolean b)
{
    return b ? "yes" : "no";
}

static char *
addr_or_dash(const GreAddr *a)
{
    return a->family == AF_UNSPEC ? g_strdup("-") : gre_addr_to_string(a);
}

char *
gre_state_step_line(const GrePlanStep *step)
{
    GString *s = g_string_new(NULL);

    switch (step->kind) {
    case GRE_STEP_XFRM_STATE: {
        const GrePlanState *st  = &step->state;
        g_autofree char    *src = gre_addr_to_string(&st->src);
        g_autofree char    *dst = gre_addr_to_string(&st->dst);

        g_string_append_printf(s,
                               "xfrm-state src=%s dst=%s proto=esp spi=0x%08x mode=transport "
                               "reqid=%u suite=%s oseq-may-wrap=%s",
                               src, dst, st->spi, st->reqid, st->suite ? st->suite->name : "-",
                               yesno(st->oseq_may_wrap));
        break;
    }
    case GRE_STEP_XFRM_POLICY: {
        const GrePlanPolicy *p    = &step->policy;
        g_autofree char     *src  = gre_addr_to_string(&p->src);
        g_autofree char     *dst  = gre_addr_to_string(&p->dst);
        guint                plen = gre_addr_max_plen(p->src.family);

        g_string_append_printf(s, "xfrm-policy dir=%s src=%s/%u dst=%s/%u proto=gre key=",
                               p->dir == GRE_DIR_OUT ? "out" : "in", src, plen, dst, plen);
        if (p->has_grekey)
            g_string_append_printf(s, "%u", p->grekey);
        else
            g_string_append(s, "-");
        if (p->block)
            g_string_append_printf(s, " priority=%u action=block mark=%u mask=%u", p->priority,
                                   p->mark, p->mark_mask);
        else
            g_string_append_printf(s, " priority=%u tmpl=esp-transport reqid=%u", p->priority,
                                   p->reqid);
        break;
    }
    case GRE_STEP_ROUTE: {
        const GrePlanRoute *r   = &step->route;
        g_autofree char    *dst = gre_prefix_to_string(&r->dst);
        g_autofree char    *via = addr_or_dash(&r->gateway);
        g_autofree char    *src = addr_or_dash(&r->src);

        g_string_append_printf(s,
                               "route dst=%s dev=%s via=%s src=%s metric=%u table=main "
                               "proto=static pin=%s",
                               dst, r->dev, via, src, r->metric, yesno(r->pin));
        break;
    }
    case GRE_STEP_LINK: {
        const GrePlanLink *l      = &step->link;
        g_autofree char   *local  = gre_addr_to_string(&l->local);
        g_autofree char   *remote = gre_addr_to_string(&l->remote);

        g_string_append_printf(s, "link name=%s kind=%s local=%s remote=%s dev=%s", l->name,
                               l->ip6 ? "ip6gre" : "gre", local, remote,
                               l->underlay[0] ? l->underlay : "-");
        if (l->has_ikey)
            g_string_append_printf(s, " ikey=%u", l->ikey);
        else
            g_string_append(s, " ikey=-");
        if (l->has_okey)
            g_string_append_printf(s, " okey=%u", l->okey);
        else
            g_string_append(s, " okey=-");
        g_string_append_printf(s, " seq=%s csum=%s", yesno(l->seq), yesno(l->csum));
        if (l->ttl)
            g_string_append_printf(s, " ttl=%u", l->ttl);
        else
            g_string_append(s, " ttl=inherit");
        if (l->tos == GRE_TOS_INHERIT)
            g_string_append(s, " tos=inherit");
        else
            g_string_append_printf(s, " tos=%d", l->tos);
        g_string_append_printf(s, " pmtudisc=%s", yesno(l->pmtudisc));
        if (l->encaplimit == GRE_ENCAPLIMIT_NONE)
            g_string_append(s, " encaplimit=none");
        else
            g_string_append_printf(s, " encaplimit=%d", l->encaplimit);
        g_string_append_printf(s, " mtu=%u", l->mtu);
        break;
    }
    case GRE_STEP_ADDR: {
        g_autofree char *local = gre_addr_to_string(&step->addr.local);
        g_autofree char *peer  = addr_or_dash(&step->addr.peer);

        g_string_append_printf(s, "addr dev=%s local=%s peer=%s plen=%u", step->addr.dev, local,
                               peer, step->addr.plen);
        break;
    }
    case GRE_STEP_LINK_UP:
        g_string_append_printf(s, "link-up dev=%s", step->up_dev);
        break;
    case GRE_STEP_IKE_SHARED:
        /* The socket names the daemon (one per namespace) that `down` unloads it from. */
        g_string_append_printf(s, "ike-shared name=%s socket=%s", step->ike_shared.name,
                               step->ike_shared.socket);
        break;
    case GRE_STEP_IKE_CONN:
        g_string_append_printf(s, "ike-conn name=%s socket=%s", step->ike_conn.name,
                               step->ike_conn.socket);
        if (step->ike_conn.cert)
            g_string_append_printf(s, " cert=%s", step->ike_conn.cert_file);
        break;
    case GRE_STEP_IKE_CA:
    case GRE_STEP_IKE_KEY:
        /* The key's id (charon's, for unload-key) is added once it is loaded. */
        g_string_append_printf(s, "%s name=%s socket=%s file=%s",
                               step->kind == GRE_STEP_IKE_CA ? "ike-ca" : "ike-key",
                               step->ike_cred.name, step->ike_cred.socket, step->ike_cred.file);
        if (step->ike_cred.keyid[0])
            g_string_append_printf(s, " keyid=%s", step->ike_cred.keyid);
        break;
    }
    return g_string_free(s, FALSE);
}

char *
gre_state_secrets_hash(const GrePlan *plan)
{
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    gboolean any             = FALSE;

    for (guint i = 0; i < plan->steps->len; i++) {
        const GrePlanStep *step = &g_array_index(plan->steps, GrePlanStep, i);
        GBytes            *keys[2];
        guint32            be;

        if (step->kind == GRE_STEP_IKE_SHARED) {
            /* IPSEC=ike: the PSK (SPI 0, no second key), so that a new one recreates. */
            any     = TRUE;
            keys[0] = step->ike_shared.psk;
            keys[1] = NULL;
            be      = 0;
        } else if (step->kind != GRE_STEP_XFRM_STATE)
            continue;
        else {
            any     = TRUE;
            keys[0] = step->state.enc_key;
            keys[1] = step->state.auth_key;
            be      = GUINT32_TO_BE(step->state.spi);
        }
        g_checksum_update(sum, (const guchar *)&be, sizeof be);
        for (guint k = 0; k < G_N_ELEMENTS(keys); k++) {
            gsize         len  = 0;
            const guint8 *data = keys[k] ? g_bytes_get_data(keys[k], &len) : NULL;

            /* Length-prefixed, so that moving bytes from one key to the next changes the hash. */
            be = GUINT32_TO_BE(keys[k] ? (guint32)len : G_MAXUINT32);
            g_checksum_update(sum, (const guchar *)&be, sizeof be);
            if (len)
                g_checksum_update(sum, data, len);
        }
    }
    if (!any)
        return g_strdup("none");
    return g_strconcat("sha256:", g_checksum_get_string(sum), NULL);
}

GreStateRecord *
gre_state_record_from_plan(const GrePlan *plan)
{
    GreStateRecord *rec = record_new(plan->name);

    rec->secrets = gre_state_secrets_hash(plan);
    rec->owner   = gre_state_owner_dup(gre_state_get_process_owner());
    for (guint i = 0; i < plan->steps->len; i++) {
        GrePlanStep step = g_array_index(plan->steps, GrePlanStep, i);

        if (step.kind == GRE_STEP_XFRM_STATE) {
            step.state.enc_key  = NULL;
            step.state.auth_key = NULL;
        }
        if (step.kind == GRE_STEP_IKE_SHARED)
            step.ike_shared.psk = NULL;
        g_ptr_array_add(rec->lines, gre_state_step_line(&step));
        g_array_append_val(rec->steps, step);
    }
    return rec;
}

/* ---- parsing a line back into a step ---- */

typedef struct {
    GHashTable *kv;
    const char *line;
    GError    **error;
    gboolean    failed;
} Fields;

static const char *
field(Fields *f, const char *key)
{
    const char *v = g_hash_table_lookup(f->kv, key);

    if (!v && !f->failed) {
        g_set_error(f->error, GRE_ERROR, GRE_ERROR_PARSE, _("\"%s\" has no %s="), f->line, key);
        f->failed = TRUE;
    }
    return v;
}

static void
bad(Fields *f, const char *key)
{
    if (!f->failed)
        g_set_error(f->error, GRE_ERROR, GRE_ERROR_PARSE, _("\"%s\": %s= is not valid"), f->line,
                    key);
    f->failed = TRUE;
}

static void
get_addr(Fields *f, const char *key, gboolean optional, GreAddr *out)
{
    const char *v = field(f, key);

    *out = (GreAddr){ 0 };
    if (!v || (optional && g_str_equal(v, "-")))
        return;
    if (!gre_addr_parse(v, AF_UNSPEC, out))
        bad(f, key);
}

static void
get_prefix(Fields *f, const char *key, GrePrefix *out)
{
    const char *v = field(f, key);
    gboolean    had_plen;

    if (v && !gre_prefix_parse(v, AF_UNSPEC, out, &had_plen))
        bad(f, key);
}

/* An unsigned number up to @max (decimal, or hex with 0x), or @none standing for @none_value. */
static gint64
get_num(Fields *f, const char *key, guint64 max, const char *none, gint64 none_value)
{
    const char *v   = field(f, key);
    gboolean    hex = v && g_str_has_prefix(v, "0x");
    guint64     n   = 0;

    if (!v)
        return 0;
    if (none && g_str_equal(v, none))
        return none_value;
    if (!g_ascii_string_to_unsigned(hex ? v + 2 : v, hex ? 16 : 10, 0, max, &n, NULL))
        bad(f, key);
    return (gint64)n;
}

static gboolean
has_value(Fields *f, const char *key)
{
    const char *v = field(f, key);

    return v && !g_str_equal(v, "-");
}

static gboolean
get_bool(Fields *f, const char *key)
{
    const char *v = field(f, key);

    if (v && !g_str_equal(v, "yes") && !g_str_equal(v, "no"))
        bad(f, key);
    return v && g_str_equal(v, "yes");
}

static void
get_ifname(Fields *f, const char *key, gboolean optional, char out[GRE_IFNAMSIZ])
{
    const char *v = field(f, key);

    out[0] = '\0';
    if (!v || (optional && g_str_equal(v, "-")))
        return;
    if (!v[0] || strlen(v) >= GRE_IFNAMSIZ || strchr(v, '/'))
        bad(f, key);
    else
        g_strlcpy(out, v, GRE_IFNAMSIZ);
}

static gboolean
step_from_line(const char *line, GrePlanStep *step, GError **error)
{
    g_auto(GStrv) words      = g_strsplit(line, " ", -1);
    g_autoptr(GHashTable) kv = g_hash_table_new(g_str_hash, g_str_equal);
    Fields      f            = { kv, line, error, FALSE };
    const char *kind         = words[0];

    for (guint i = 1; words[i]; i++) {
        char *eq = strchr(words[i], '=');

        if (!eq) {
            g_set_error(error, GRE_ERROR, GRE_ERROR_PARSE, _("\"%s\": \"%s\" is not key=value"),
                        line, words[i]);
            return FALSE;
        }
        *eq = '\0';
        g_hash_table_insert(kv, words[i], eq + 1);
    }

    *step = (GrePlanStep){ 0 };
    if (g_strcmp0(kind, "xfrm-state") == 0) {
        const char *suite;

        step->kind = GRE_STEP_XFRM_STATE;
        get_addr(&f, "src", FALSE, &step->state.src);
        get_addr(&f, "dst", FALSE, &step->state.dst);
        step->state.spi   = get_num(&f, "spi", G_MAXUINT32, NULL, 0);
        step->state.reqid = get_num(&f, "reqid", G_MAXUINT32, NULL, 0);
        suite             = field(&f, "suite");
        if (suite && !(step->state.suite = gre_suite_lookup(suite)))
            bad(&f, "suite");
        /* Records written before the flag existed lack the key: their SAs have no flag. */
        if (g_hash_table_contains(kv, "oseq-may-wrap"))
            step->state.oseq_may_wrap = get_bool(&f, "oseq-may-wrap");
    } else if (g_strcmp0(kind, "xfrm-policy") == 0) {
        GrePrefix   src = { 0 }, dst = { 0 };
        const char *dir = field(&f, "dir");

        step->kind = GRE_STEP_XFRM_POLICY;
        get_prefix(&f, "src", &src);
        get_prefix(&f, "dst", &dst);
        step->policy.src = src.addr;
        step->policy.dst = dst.addr;
        if (dir && !g_str_equal(dir, "in") && !g_str_equal(dir, "out"))
            bad(&f, "dir");
        step->policy.dir        = dir && g_str_equal(dir, "out") ? GRE_DIR_OUT : GRE_DIR_IN;
        step->policy.has_grekey = has_value(&f, "key");
        step->policy.grekey     = get_num(&f, "key", G_MAXUINT32, "-", 0);
        step->policy.priority   = get_num(&f, "priority", G_MAXUINT32, NULL, 0);
        /* IPSEC=ike's block policies (gre-plan.h); records of manual keying's carry a template. */
        if (g_hash_table_contains(kv, "action")) {
            if (!g_str_equal(field(&f, "action"), "block"))
                bad(&f, "action");
            step->policy.block     = TRUE;
            step->policy.mark      = get_num(&f, "mark", G_MAXUINT32, NULL, 0);
            step->policy.mark_mask = get_num(&f, "mask", G_MAXUINT32, NULL, 0);
        } else {
            step->policy.reqid = get_num(&f, "reqid", G_MAXUINT32, NULL, 0);
        }
    } else if (g_strcmp0(kind, "route") == 0) {
        step->kind = GRE_STEP_ROUTE;
        get_prefix(&f, "dst", &step->route.dst);
        get_ifname(&f, "dev", FALSE, step->route.dev);
        get_addr(&f, "via", TRUE, &step->route.gateway);
        get_addr(&f, "src", TRUE, &step->route.src);
        step->route.metric = get_num(&f, "metric", G_MAXUINT32, NULL, 0);
        step->route.pin    = get_bool(&f, "pin");
    } else if (g_strcmp0(kind, "link") == 0) {
        GrePlanLink *l = &step->link;
        const char  *k = field(&f, "kind");

        step->kind = GRE_STEP_LINK;
        get_ifname(&f, "name", FALSE, l->name);
        if (k && !g_str_equal(k, "gre") && !g_str_equal(k, "ip6gre"))
            bad(&f, "kind");
        l->ip6 = k && g_str_equal(k, "ip6gre");
        get_addr(&f, "local", FALSE, &l->local);
        get_addr(&f, "remote", FALSE, &l->remote);
        get_ifname(&f, "dev", TRUE, l->underlay);
        l->has_ikey   = has_value(&f, "ikey");
        l->ikey       = get_num(&f, "ikey", G_MAXUINT32, "-", 0);
        l->has_okey   = has_value(&f, "okey");
        l->okey       = get_num(&f, "okey", G_MAXUINT32, "-", 0);
        l->seq        = get_bool(&f, "seq");
        l->csum       = get_bool(&f, "csum");
        l->ttl        = get_num(&f, "ttl", 255, "inherit", GRE_TTL_INHERIT);
        l->tos        = get_num(&f, "tos", 255, "inherit", GRE_TOS_INHERIT);
        l->pmtudisc   = get_bool(&f, "pmtudisc");
        l->encaplimit = get_num(&f, "encaplimit", 255, "none", GRE_ENCAPLIMIT_NONE);
        l->mtu        = get_num(&f, "mtu", G_MAXUINT32, NULL, 0);
    } else if (g_strcmp0(kind, "addr") == 0) {
        step->kind = GRE_STEP_ADDR;
        get_ifname(&f, "dev", FALSE, step->addr.dev);
        get_addr(&f, "local", FALSE, &step->addr.local);
        get_addr(&f, "peer", TRUE, &step->addr.peer);
        step->addr.plen = get_num(&f, "plen", 128, NULL, 0);
    } else if (g_strcmp0(kind, "link-up") == 0) {
        step->kind = GRE_STEP_LINK_UP;
        get_ifname(&f, "dev", FALSE, step->up_dev);
    } else if (g_strcmp0(kind, "ike-shared") == 0 || g_strcmp0(kind, "ike-conn") == 0) {
        gboolean    conn = kind[4] == 'c';
        const char *name = field(&f, "name");
        const char *sock = field(&f, "socket");
        char       *n    = conn ? step->ike_conn.name : step->ike_shared.name;
        char       *so   = conn ? step->ike_conn.socket : step->ike_shared.socket;
        const char *cert;

        step->kind = conn ? GRE_STEP_IKE_CONN : GRE_STEP_IKE_SHARED;
        if (name && (!name[0] || strlen(name) >= GRE_IKE_NAME_MAX))
            bad(&f, "name");
        else if (name)
            g_strlcpy(n, name, GRE_IKE_NAME_MAX);
        if (sock && (sock[0] != '/' || strlen(sock) >= GRE_IKE_SOCKET_MAX))
            bad(&f, "socket");
        else if (sock)
            g_strlcpy(so, sock, GRE_IKE_SOCKET_MAX);
        if (conn && (cert = g_hash_table_lookup(f.kv, "cert"))) {
            step->ike_conn.cert = TRUE;
            if (cert[0] != '/' || strlen(cert) >= sizeof step->ike_conn.cert_file)
                bad(&f, "cert");
            else
                g_strlcpy(step->ike_conn.cert_file, cert, sizeof step->ike_conn.cert_file);
        }
    } else if (g_strcmp0(kind, "ike-ca") == 0 || g_strcmp0(kind, "ike-key") == 0) {
        GrePlanIkeCred *cr    = &step->ike_cred;
        const char     *name  = field(&f, "name");
        const char     *sock  = field(&f, "socket");
        const char     *file  = field(&f, "file");
        const char     *keyid = g_hash_table_lookup(f.kv, "keyid"); /* once loaded */

        step->kind = kind[4] == 'c' ? GRE_STEP_IKE_CA : GRE_STEP_IKE_KEY;
        if (name && (!name[0] || strlen(name) >= sizeof cr->name))
            bad(&f, "name");
        else if (name)
            g_strlcpy(cr->name, name, sizeof cr->name);
        if (sock && (sock[0] != '/' || strlen(sock) >= sizeof cr->socket))
            bad(&f, "socket");
        else if (sock)
            g_strlcpy(cr->socket, sock, sizeof cr->socket);
        if (file && (file[0] != '/' || strlen(file) >= sizeof cr->file))
            bad(&f, "file");
        else if (file)
            g_strlcpy(cr->file, file, sizeof cr->file);
        if (keyid && (strlen(keyid) >= sizeof cr->keyid ||
                      strspn(keyid, "0123456789abcdef:") != strlen(keyid)))
            bad(&f, "keyid");
        else if (keyid)
            g_strlcpy(cr->keyid, keyid, sizeof cr->keyid);
    } else {
        g_set_error(error, GRE_ERROR, GRE_ERROR_PARSE, _("\"%s\": unknown object \"%s\""), line,
                    kind ? kind : "");
        return FALSE;
    }
    return !f.failed;
}

/* ---- files ---- */

char *
gre_state_source_path(const char *path)
{
    g_autofree char *abs  = g_canonicalize_filename(path, NULL);
    g_autofree char *dir  = g_path_get_dirname(abs);
    g_autofree char *base = g_path_get_basename(abs);
    g_autofree char *real = realpath(dir, NULL);

    return real ? g_build_filename(real, base, NULL) : g_steal_pointer(&abs);
}

char *
gre_state_dir(void)
{
    const char *dir = g_getenv("GRE_TUNNEL_STATE_DIR");

    return g_strdup(dir && dir[0] ? dir : GRE_STATE_DIR_DEFAULT);
}

static gboolean
name_ok(const char *name)
{
    /* The kernel's own rule for interface names; it also keeps the path inside the directory. */
    if (!name || !name[0] || strlen(name) >= GRE_IFNAMSIZ || g_str_equal(name, ".") ||
        g_str_equal(name, ".."))
        return FALSE;
    for (const char *p = name; *p; p++) {
        if (*p == '/' || *p == ':' || g_ascii_isspace(*p))
            return FALSE;
    }
    return TRUE;
}

char *
state_path(const char *name, const char *suffix, GError **error)
{
    g_autofree char *dir  = NULL;
    g_autofree char *file = NULL;

    if (!name_ok(name)) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_INVALID, _("\"%s\" is not a valid tunnel name"),
                    name ? name : "");
        return NULL;
    }
    if (!(dir = gre_state_netns_dir(error)))
        return NULL;
    file = g_strconcat(name, suffix, NULL);
    return g_build_filename(dir, file, NULL);
}

gboolean
state_ensure_top_dir(GError **error)
{
    g_autofree char *dir = gre_state_dir();

    if (g_mkdir_with_parents(dir, 0700) < 0) {
        int errsv = errno;

        g_set_error(error, GRE_ERROR, GRE_ERROR_IO, _("cannot create the state directory %s: %s"),
                    dir, g_strerror(errsv));
        return FALSE;
    }
    return TRUE;
}

gboolean
gre_state_exists(const char *name)
{
    g_autofree char *path = state_path(name, ".state", NULL);

    return path && g_file_test(path, G_FILE_TEST_EXISTS);
}

gboolean
gre_state_write(const GreStateRecord *rec, GError **error)
{
    g_autofree char *path = state_path(rec->name, ".state", error);
    g_autoptr(GString) s  = g_string_new(NULL);
    g_autoptr(GError) err = NULL;

    if (!path || !state_ensure_netns_dir(error))
        return FALSE;

    g_string_append_printf(s,
                           "# gre-tunnel ownership record for %s: the kernel objects `up` "
                           "creates,\n"
                           "# in creation order. `down` removes exactly these, and only while "
                           "they still\n"
                           "# match. No key material is stored here.\n"
                           "version=" RECORD_VERSION "\nname=%s\nsecrets=%s\n",
                           rec->name, rec->name, rec->secrets);
    /* Versions before it ignore this line. A name with a line break is not kept. */
    if (rec->source && !strchr(rec->source, '\n'))
        g_string_append_printf(s, "source=%s\n", rec->source);
    if (rec->owner) {
        g_autofree char *owner = gre_state_owner_to_line(rec->owner);

        g_string_append_printf(s, "owner=%s\n", owner);
    }
    for (guint i = 0; i < rec->lines->len; i++)
        g_string_append_printf(s, "step=%s\n", (const char *)rec->lines->pdata[i]);

    /* Temporary file, fsync, rename: a reader sees the old record or the new one, never half. */
    if (!g_file_set_contents_full(path, s->str, (gssize)s->len,
                                  G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                  0600, &err)) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_IO, _("cannot write the ownership record: %s"),
                    err->message);
        return FALSE;
    }
    return TRUE;
}

static GreStateRecord *
read_path(const char *path, const char *name, GError **error)
{
    g_autofree char *contents     = NULL;
    g_auto(GStrv) lines           = NULL;
    g_autoptr(GError) err         = NULL;
    g_autoptr(GreStateRecord) rec = NULL;
    gboolean version_ok           = FALSE;

    if (!g_file_get_contents(path, &contents, NULL, &err)) {
        if (g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return NULL;
        g_set_error(error, GRE_ERROR, GRE_ERROR_IO, _("cannot read the ownership record: %s"),
                    err->message);
        return NULL;
    }

    rec   = record_new(name);
    lines = g_strsplit(contents, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        const char *l = lines[i];

        if (!l[0] || l[0] == '#')
            continue;
        if (g_str_has_prefix(l, "version="))
            version_ok = g_str_equal(l + 8, RECORD_VERSION);
        else if (g_str_has_prefix(l, "secrets=")) {
            g_free(rec->secrets);
            rec->secrets = g_strdup(l + 8);
        } else if (g_str_has_prefix(l, "source=") && g_path_is_absolute(l + 7)) {
            g_free(rec->source);
            rec->source = g_strdup(l + 7);
        } else if (g_str_has_prefix(l, "owner=")) {
            g_clear_pointer(&rec->owner, gre_state_owner_free);
            if (!(rec->owner = gre_state_owner_from_line(l + 6, &err))) {
                g_set_error(error, GRE_ERROR, GRE_ERROR_PARSE,
                            _("the ownership record %s is damaged: %s; remove the objects by hand "
                              "and delete the file"),
                            path, err->message);
                return NULL;
            }
        } else if (g_str_has_prefix(l, "step=")) {
            GrePlanStep step;

            if (!step_from_line(l + 5, &step, &err)) {
                g_set_error(error, GRE_ERROR, GRE_ERROR_PARSE,
                            _("the ownership record %s is damaged: %s; remove the objects by hand "
                              "and delete the file"),
                            path, err->message);
                return NULL;
            }
            g_ptr_array_add(rec->lines, g_strdup(l + 5));
            g_array_append_val(rec->steps, step);
        }
    }
    if (!version_ok || !rec->secrets) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_PARSE,
                    _("%s is not an ownership record this version of gre-tunnel understands"),
                    path);
        return NULL;
    }
    return g_steal_pointer(&rec);
}

GreStateRecord *
gre_state_read(const char *name, GError **error)
{
    g_autofree char *path = state_path(name, ".state", error);

    return path ? read_path(path, name, error) : NULL;
}

GreStateRecord *
gre_state_read_legacy(const char *name, GError **error)
{
    g_autofree char *path = NULL;

    if (!name_ok(name)) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_INVALID, _("\"%s\" is not a valid tunnel name"),
                    name ? name : "");
        return NULL;
    }
    path = gre_state_legacy_path(name);
    return read_path(path, name, error);
}

gboolean
gre_state_delete(const char *name, GError **error)
{
    g_autofree char *path = state_path(name, ".state", error);

    if (!path)
        return FALSE;
    if (unlink(path) < 0 && errno != ENOENT) {
        int errsv = errno;

        g_set_error(error, GRE_ERROR, GRE_ERROR_IO, _("cannot remove the ownership record %s: %s"),
                    path, g_strerror(errsv));
        return FALSE;
    }
    return TRUE;
}

static int
cmp_str(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

GPtrArray *
state_list_dir(const char *dirname, GError **error)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) err      = NULL;
    g_autoptr(GDir) dir        = g_dir_open(dirname, 0, &err);
    const char *entry;

    if (!dir) {
        if (g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return g_steal_pointer(&names);
        g_set_error(error, GRE_ERROR, GRE_ERROR_IO, _("cannot list %s: %s"), dirname, err->message);
        return NULL;
    }
    while ((entry = g_dir_read_name(dir))) {
        if (g_str_has_suffix(entry, ".state")) {
            char *name = g_strndup(entry, strlen(entry) - strlen(".state"));

            if (name_ok(name))
                g_ptr_array_add(names, name);
            else
                g_free(name);
        }
    }
    g_ptr_array_sort(names, cmp_str);
    return g_steal_pointer(&names);
}

GPtrArray *
gre_state_list(GError **error)
{
    g_autofree char *dir = gre_state_netns_dir(error);

    return dir ? state_list_dir(dir, error) : NULL;
}
