/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * IPSEC=ike: the plan's IKE steps, loaded into strongSwan's charon through its VICI socket. The
 * daemon owns the ESP SAs and their policies; this file loads the pre-shared key and the
 * connection, starts the CHILD_SA and checks what came up, and unloads exactly what it loaded.
 *
 * Order with the kernel objects: the connection is loaded with start_action=trap, so charon's
 * `proto gre` policies (dir in and dir out) are in the kernel when load-conn returns, and the
 * plan puts both IKE steps before the GRE link. The link therefore never exists without them:
 * plaintext GRE from the peer is dropped by the inbound policy from the first packet, and GRE to
 * the peer waits for an SA instead of leaving in the clear. That is checked here (the policies
 * must be in the kernel before `up` goes on), rather than creating the link down and setting it
 * up later, which would still leave a window whenever the daemon's policies were missing.
 */
#include "gre-apply-private.h"

#include <string.h>
#include <sys/socket.h>

#include "gre-error.h"
#include "gre-i18n.h"
#include "gre-vici.h"

/* The CHILD_SA's name in every connection we load (gre-plan.c renders it so too). */
#define CHILD_NAME "gre"
/* How long the peer may take to confirm a DELETE before charon forgets the IKE_SA anyway. */
#define TERMINATE_TIMEOUT_MS 3000

static gboolean
is_cred(const GrePlanStep *step)
{
    return step->kind == GRE_STEP_IKE_CA || step->kind == GRE_STEP_IKE_KEY;
}

static const char *
step_socket(const GrePlanStep *step)
{
    if (is_cred(step))
        return step->ike_cred.socket;
    return step->kind == GRE_STEP_IKE_CONN ? step->ike_conn.socket : step->ike_shared.socket;
}

static const char *
step_name(const GrePlanStep *step)
{
    if (is_cred(step))
        return step->ike_cred.name;
    return step->kind == GRE_STEP_IKE_CONN ? step->ike_conn.name : step->ike_shared.name;
}

/* A fresh connection per operation: one that timed out is unusable, and undoing must still work
 * after an initiate that did. */
static GreVici *
ike_connect(const char *socket, GError **error)
{
    return gre_vici_connect(socket, error);
}

static GBytes *
finish(GreViciBuilder *b, GError **error)
{
    return gre_vici_builder_finish(b, error);
}

static GBytes *
kv_msg(const char *key, const char *value)
{
    g_autoptr(GreViciBuilder) b = gre_vici_builder_new();

    gre_vici_builder_add(b, key, value);
    return finish(b, NULL);
}

/* Whether list @list of the reply to @cmd (get-conns: conns, get-shared: keys) holds @name. */
static int
loaded(GreVici *v, const char *cmd, const char *list, const char *name, GError **error)
{
    g_autoptr(GreViciSection) reply = gre_vici_command(v, cmd, NULL, error);
    const char *const *items;

    if (!reply)
        return -1;
    items = gre_vici_get_list(reply, list);
    for (; items && *items; items++) {
        if (g_str_equal(*items, name))
            return 1;
    }
    return 0;
}

static void
add_list(GreViciBuilder *b, const char *name, const char *const *items)
{
    gre_vici_builder_begin_list(b, name);
    for (; *items; items++)
        gre_vici_builder_list_item(b, *items);
    gre_vici_builder_end_list(b);
}

static void
add_one(GreViciBuilder *b, const char *name, const char *item)
{
    const char *items[] = { item, NULL };

    add_list(b, name, items);
}

static void
add_uint(GreViciBuilder *b, const char *key, guint v, const char *unit)
{
    g_autofree char *s = g_strdup_printf("%u%s", v, unit);

    gre_vici_builder_add(b, key, s);
}

/* The message of load-conn: the same settings `gre-tunnel plan` shows as swanctl.conf. */
static GBytes *
conn_msg(const GrePlanIkeConn *c, GBytes *cert, const char *ca_subject, GError **error)
{
    g_autoptr(GreViciBuilder) b = gre_vici_builder_new();
    g_autofree char *local      = gre_addr_to_string(&c->local);
    g_autofree char *remote     = gre_addr_to_string(&c->remote);
    guint            plen       = gre_addr_max_plen(c->local.family);
    g_autofree char *lts        = g_strdup_printf("%s/%u[gre]", local, plen);
    g_autofree char *rts        = g_strdup_printf("%s/%u[gre]", remote, plen);
    g_auto(GStrv) proposals     = g_strsplit(c->proposals, ",", -1);
    g_auto(GStrv) esp           = g_strsplit(c->esp_proposals, ",", -1);

    gre_vici_builder_begin_section(b, c->name);
    gre_vici_builder_add(b, "version", "2");
    add_one(b, "local_addrs", local);
    add_one(b, "remote_addrs", remote);
    add_list(b, "proposals", (const char *const *)proposals);
    gre_vici_builder_add(b, "mobike", "no");
    add_uint(b, "dpd_delay", c->dpd_delay, "s");
    gre_vici_builder_begin_section(b, "local");
    gre_vici_builder_add(b, "auth", cert ? "pubkey" : "psk");
    gre_vici_builder_add(b, "id", c->local_id);
    if (cert) {
        gsize       n;
        const void *d = g_bytes_get_data(cert, &n);

        gre_vici_builder_begin_list(b, "certs");
        gre_vici_builder_list_item_bytes(b, d, n);
        gre_vici_builder_end_list(b);
    }
    gre_vici_builder_end_section(b);
    gre_vici_builder_begin_section(b, "remote");
    gre_vici_builder_add(b, "auth", cert ? "pubkey" : "psk");
    gre_vici_builder_add(b, "id", c->remote_id);
    /* Only a certificate the CA of IKE_CACERT signed proves the peer's identity, not one from
     * any CA the daemon trusts otherwise. ca_id rather than cacerts: a CA certificate given in a
     * connection stays loaded after unload-conn, an authority is unloaded with its name. */
    if (ca_subject)
        gre_vici_builder_add(b, "ca_id", ca_subject);
    gre_vici_builder_end_section(b);
    gre_vici_builder_begin_section(b, "children");
    gre_vici_builder_begin_section(b, CHILD_NAME);
    gre_vici_builder_add(b, "mode", "transport");
    add_one(b, "local_ts", lts);
    add_one(b, "remote_ts", rts);
    add_list(b, "esp_proposals", (const char *const *)esp);
    add_uint(b, "rekey_time", c->rekey_time, "s");
    /* charon sets the hard limit 10% above: both stay far below the 32-bit sequence number. */
    add_uint(b, "rekey_packets", c->rekey_packets, "");
    /* trap: the policies are in the kernel before any SA, and again after the SA is gone. */
    gre_vici_builder_add(b, "start_action", "trap");
    gre_vici_builder_add(b, "dpd_action", "trap");
    gre_vici_builder_add(b, "close_action", "trap");
    gre_vici_builder_end_section(b);
    gre_vici_builder_end_section(b);
    gre_vici_builder_end_section(b);
    return finish(b, error);
}

/* The message of load-shared; wiped when freed (gre-vici-msg.h), like the PSK it holds. */
static GBytes *
shared_msg(const GrePlanIkeShared *sh, GError **error)
{
    g_autoptr(GreViciBuilder) b = gre_vici_builder_new();
    gsize       n               = 0;
    const void *psk             = sh->psk ? g_bytes_get_data(sh->psk, &n) : NULL;
    const char *owners[]        = { sh->local_id, sh->remote_id, NULL };

    if (!psk) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_INVALID, _("no IKE_PSK to load"));
        return NULL;
    }
    /* A unique id of our own: unload-shared removes exactly this key. */
    gre_vici_builder_add(b, "id", sh->name);
    gre_vici_builder_add(b, "type", "IKE");
    gre_vici_builder_add_bytes(b, "data", psk, n);
    add_list(b, "owners", owners);
    return finish(b, error);
}

/* ---- removing ---- */

static gboolean
unload_conn(GreVici *v, const char *name, gboolean *was_loaded, GError **error)
{
    g_autoptr(GBytes) msg           = kv_msg("name", name);
    g_autoptr(GBytes) term          = NULL;
    g_autoptr(GreViciBuilder) b     = gre_vici_builder_new();
    g_autoptr(GreViciSection) reply = NULL;
    int present                     = loaded(v, "get-conns", "conns", name, error);

    if (present < 0)
        return FALSE;
    *was_loaded = present;
    /* Unloading first removes the trap, so that nothing starts a new IKE_SA meanwhile ... */
    if (present && !gre_vici_call(v, "unload-conn", msg, error))
        return FALSE;
    /* ... then the IKE_SA of that name, established or still trying, goes with its CHILD_SAs
     * (and their kernel SAs). The peer is told (DELETE), but not waited for beyond a moment.
     * "Nothing to terminate" is charon's answer when there is no IKE_SA: fine. */
    gre_vici_builder_add(b, "ike", name);
    gre_vici_builder_add(b, "force", "yes");
    add_uint(b, "timeout", TERMINATE_TIMEOUT_MS, "");
    if (!(term = finish(b, error)))
        return FALSE;
    gre_vici_set_timeout(v, TERMINATE_TIMEOUT_MS + GRE_VICI_DEFAULT_TIMEOUT_MS);
    reply = gre_vici_command(v, "terminate", term, error);
    return reply != NULL;
}

static gboolean
unload_shared(GreVici *v, const char *name, gboolean *was_loaded, GError **error)
{
    g_autoptr(GBytes) msg = kv_msg("id", name);
    int present           = loaded(v, "get-shared", "keys", name, error);

    if (present < 0)
        return FALSE;
    *was_loaded = present;
    return !present || gre_vici_call(v, "unload-shared", msg, error);
}

gboolean
apply_ike_remove(Kernel *k, const GrePlanStep *step, char **why)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GreVici) v    = ike_connect(step_socket(step), &error);
    gboolean was_loaded     = FALSE;
    gboolean ok;

    if (!v) {
        if (g_error_matches(error, GRE_VICI_ERROR, GRE_VICI_ERROR_CONNECT)) {
            /* Whatever it held (keys, connections, SAs) went with the daemon. */
            apply_warn(k, _("%s was not unloaded: %s; whatever the daemon held went with it"),
                       step_name(step), error->message);
            return TRUE;
        }
        *why = g_strdup(error->message);
        return FALSE;
    }
    if (is_cred(step)) {
        /* The key's id: recorded (down), or from this call's load (its own rollback). */
        const char *keyid = step->ike_cred.keyid[0] ? step->ike_cred.keyid : k->ike_keyid;

        ok = apply_ike_cred_remove(v, step, keyid, &was_loaded, &error);
        if (ok && step->kind == GRE_STEP_IKE_KEY && !keyid) {
            apply_note(k,
                       _("the id of the private key %s was not recorded (an interrupted `up`?): "
                         "if it is still loaded, `swanctl --list-certs` shows it"),
                       step->ike_cred.file);
            return TRUE;
        }
    } else if (step->kind == GRE_STEP_IKE_CONN)
        ok = unload_conn(v, step_name(step), &was_loaded, &error);
    else
        ok = unload_shared(v, step_name(step), &was_loaded, &error);
    if (!ok) {
        *why = g_strdup(error->message);
        return FALSE;
    }
    if (!was_loaded)
        apply_note(k, _("%s was no longer loaded in the IKE daemon"), step_name(step));
    else if (k->report)
        k->report->removed++;
    return TRUE;
}

ObjState
apply_ike_probe(Kernel *k, const GrePlanStep *step, Probe *p)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GreVici) v    = ike_connect(step_socket(step), &error);
    int present;

    (void)k;
    *p = (Probe){ 0 };
    if (!v) {
        p->why          = g_strdup(error->message);
        return p->state = OBJ_ERROR;
    }
    if (is_cred(step))
        present = apply_ike_cred_loaded(v, step, &error);
    else
        present = step->kind == GRE_STEP_IKE_CONN
                      ? loaded(v, "get-conns", "conns", step_name(step), &error)
                      : loaded(v, "get-shared", "keys", step_name(step), &error);
    if (present < 0) {
        p->why          = g_strdup(error->message);
        return p->state = OBJ_ERROR;
    }
    return p->state = present ? OBJ_PRESENT : OBJ_ABSENT;
}

/* ---- starting the CHILD_SA ---- */

typedef enum {
    OUTCOME_UP,        /* established and installed in transport mode */
    OUTCOME_SILENT,    /* no answer in time; the daemon goes on trying */
    OUTCOME_NOT_READY, /* the peer has no IKE configuration for us (yet) */
    OUTCOME_AUTH,      /* a definite no: authentication (PSK or identities) */
    OUTCOME_REFUSED,   /* a definite no: proposals, selectors, mode */
    OUTCOME_ERROR,     /* the daemon failed */
} Outcome;

typedef struct {
    GPtrArray *log; /* of char *: the daemon's messages about this initiate */
} InitiateLog;

static void
on_control_log(const char *event, const GreViciSection *msg, gpointer user_data)
{
    InitiateLog *il = user_data;
    const char  *m  = gre_vici_get(msg, "msg");

    (void)event;
    if (m && il->log->len < 200)
        g_ptr_array_add(il->log, g_strdup(m));
}

static const char *
log_find(GPtrArray *log, const char *needle)
{
    for (guint i = 0; i < log->len; i++) {
        if (strstr(log->pdata[i], needle))
            return log->pdata[i];
    }
    return NULL;
}

/* IKE_AUTH=cert: which certificate failed, in the settings' words. */
static gboolean
classify_cert(const GrePlanIkeConn *c, GPtrArray *log, const char *remote, char **why)
{
    const char *line;

    if ((line = log_find(log, "no private key found"))) {
        /* charon found no key for a certificate of ours that carries IKE_LOCAL_ID. */
        *why = g_strdup_printf(_("this end cannot prove the identity %s: IKE_CERT %s does not "
                                 "carry it (as subject or subjectAltName; IKE_LOCAL_ID is the "
                                 "outer address unless set), or IKE_PRIVKEY is not the key of "
                                 "IKE_CERT (charon: %s)"),
                               c->local_id, c->cert_file, line);
        return TRUE;
    }
    if ((line = log_find(log, "constraint check failed")) || (line = log_find(log, "no trusted")) ||
        (line = log_find(log, "no issuer certificate")) ||
        (line = log_find(log, "not within validity")) ||
        (line = log_find(log, "certificate was revoked"))) {
        *why = g_strdup_printf(_("the certificate %s presented is not trusted for %s: it is not "
                                 "signed by the CA of IKE_CACERT, or does not carry that identity "
                                 "(IKE_REMOTE_ID is the peer's outer address unless set), or has "
                                 "expired (charon: %s)"),
                               remote, c->remote_id, line);
        return TRUE;
    }
    if ((line = log_find(log, "AUTHENTICATION_FAILED"))) {
        *why = g_strdup_printf(_("%s refused this end's certificate: its IKE_CACERT is not the "
                                 "CA that signed IKE_CERT here, or its IKE_REMOTE_ID is not %s, "
                                 "or it does not use certificates (IKE_AUTH) (charon: %s)"),
                               remote, c->local_id, line);
        return TRUE;
    }
    return FALSE;
}

/* Why the daemon's initiate failed, from what it logged while trying (control-log). */
static Outcome
classify(const GrePlanIkeConn *c, GPtrArray *log, const char *errmsg, guint timeout_ms, char **why)
{
    g_autofree char *remote = gre_addr_to_string(&c->remote);
    const char      *line;

    if (c->cert && classify_cert(c, log, remote, why))
        return OUTCOME_REFUSED;
    if ((line = log_find(log, "AUTHENTICATION_FAILED")) ||
        (line = log_find(log, "MAC mismatched")) || (line = log_find(log, "no shared key found")) ||
        (line = log_find(log, "no matching peer config found"))) {
        *why =
            g_strdup_printf(_("IKE authentication failed with %s: the two ends' IKE_PSK (or "
                              "IKE_LOCAL_ID/IKE_REMOTE_ID) differ; compare them with `gre-tunnel "
                              "check` (charon: %s)"),
                            remote, line);
        return OUTCOME_AUTH;
    }
    if ((line = log_find(log, "NO_PROPOSAL_CHOSEN notify, no CHILD_SA"))) {
        *why = g_strdup_printf(_("%s accepts none of the ESP proposals %s: IPSEC_SUITE or "
                                 "IKE_ESP_DH differ between the two ends (charon: %s)"),
                               remote, c->esp_proposals, line);
        return OUTCOME_REFUSED;
    }
    if ((line = log_find(log, "TS_UNACCEPTABLE")) || (line = log_find(log, "INVALID_SELECTORS"))) {
        g_autofree char *local = gre_addr_to_string(&c->local);

        /* The IKE_SA came up, so the peer has a connection for these two addresses: it is its
         * CHILD_SA's selectors that differ, whatever they are (the peer does not say). */
        *why = g_strdup_printf(_("%s refused the traffic selectors of this end, GRE (IP protocol "
                                 "47) between %s and %s only: its IPsec configuration for this "
                                 "connection selects other traffic (other protocols or ports, or "
                                 "subnets, as for tunnel mode); it needs transport mode with "
                                 "exactly these selectors (charon: %s)"),
                               remote, local, remote, line);
        return OUTCOME_REFUSED;
    }
    if ((line = log_find(log, "NO_PROPOSAL_CHOSEN"))) {
        /* In IKE_SA_INIT, charon answers so when it has no IKE config for our addresses at all,
         * which is what a peer whose end is not up yet looks like; proposals that differ look
         * the same on the wire. */
        *why = g_strdup_printf(_("%s has no IKE configuration that matches this end: its end is "
                                 "not up yet, or IKE_PROPOSALS differ (charon: %s)"),
                               remote, line);
        return OUTCOME_NOT_READY;
    }
    if (strstr(errmsg, "not established after") || log_find(log, "giving up after") ||
        log_find(log, "retransmit")) {
        *why = g_strdup_printf(_("%s did not answer IKE within %u s"), remote,
                               (timeout_ms + 999) / 1000);
        return OUTCOME_SILENT;
    }
    line = log->len ? log->pdata[log->len - 1] : NULL;
    *why = line ? g_strdup_printf(_("the IKE daemon: %s (its last message: %s)"), errmsg, line)
                : g_strdup_printf(_("the IKE daemon: %s"), errmsg);
    return OUTCOME_ERROR;
}

/* Whether list-sas shows our CHILD_SA installed in transport mode. */
typedef struct {
    const char *ike;
    gboolean    transport; /* an INSTALLED CHILD_SA in TRANSPORT mode */
    char       *other;     /* else: the mode of one INSTALLED in another mode */
} SaCheck;

static void
on_list_sa(const char *event, const GreViciSection *msg, gpointer user_data)
{
    SaCheck              *sc  = user_data;
    const GreViciSection *ike = gre_vici_get_section(msg, sc->ike);
    const GreViciSection *children;

    (void)event;
    if (!ike || !(children = gre_vici_get_section(ike, "child-sas")))
        return;
    for (guint i = 0; i < gre_vici_section_n_entries(children); i++) {
        const GreViciSection *child = NULL;
        const char           *name, *state, *mode;

        if (gre_vici_section_entry(children, i, &name, &child) != GRE_VICI_ENTRY_SECTION ||
            g_strcmp0(gre_vici_get(child, "name"), CHILD_NAME) != 0)
            continue;
        state = gre_vici_get(child, "state");
        mode  = gre_vici_get(child, "mode");
        /* Other states (INSTALLING, REKEYING, DELETING...) pass: await_transport looks again. */
        if (g_strcmp0(state, "INSTALLED") != 0)
            continue;
        if (g_strcmp0(mode, "TRANSPORT") == 0)
            sc->transport = TRUE;
        else if (!sc->other)
            sc->other = g_strdup_printf("%s, %s", state, mode ? mode : "?");
    }
}

/* One look at list-sas: OUTCOME_UP, OUTCOME_REFUSED (installed in another mode), OUTCOME_ERROR,
 * or OUTCOME_SILENT when no CHILD_SA of ours is installed (yet). */
static Outcome
check_transport(GreVici *v, const GrePlanIkeConn *c, char **why)
{
    g_autoptr(GError) error         = NULL;
    g_autoptr(GBytes) msg           = kv_msg("ike", c->name);
    g_autoptr(GreViciSection) reply = NULL;
    SaCheck sc                      = { c->name, FALSE, NULL };

    reply = gre_vici_command_streamed(v, "list-sas", msg, "list-sa", on_list_sa, &sc, &error);
    if (!reply) {
        g_free(sc.other);
        *why = g_strdup(error->message);
        return OUTCOME_ERROR;
    }
    if (sc.transport) {
        g_free(sc.other);
        return OUTCOME_UP;
    }
    if (!sc.other)
        return OUTCOME_SILENT;
    /* charon falls back to tunnel mode, silently, when the peer does not agree to transport. */
    *why = g_strdup_printf(_("the CHILD_SA came up as %s, not in TRANSPORT mode: the peer "
                             "refused transport mode (its end is configured for tunnel "
                             "mode), and a tunnel-mode SA would not carry this GRE tunnel"),
                           sc.other);
    g_free(sc.other);
    return OUTCOME_REFUSED;
}

/* initiate's success does not mean its CHILD_SA is still there: when both ends initiate at once,
 * each daemon deletes one of the two duplicates, and the one that stays may still be installing
 * when initiate answers. So no installed CHILD_SA is looked for again until the timeout. */
static Outcome
await_transport(GreVici *v, const GrePlanIkeConn *c, gint64 end, guint timeout_ms, char **why)
{
    for (;;) {
        Outcome o = check_transport(v, c, why);

        if (o != OUTCOME_SILENT)
            return o;
        if (g_get_monotonic_time() >= end)
            break;
        g_usleep(200 * 1000);
    }
    *why = g_strdup_printf(_("the IKE daemon reported the CHILD_SA established, but list-sas "
                             "showed no installed CHILD_SA within %u s"),
                           (timeout_ms + 999) / 1000);
    return OUTCOME_REFUSED;
}

/* An initiate sent to the daemon, its answer not yet read: the daemon's reason comes as
 * control-log events meanwhile. */
struct _ApplyIkeWait {
    GreVici           *v;
    GPtrArray         *log;
    InitiateLog        il;
    const GrePlanStep *step;
    guint              timeout_ms;
    gint64             end; /* of the wait for an installed CHILD_SA */
};

void
apply_ike_wait_free(ApplyIkeWait *w)
{
    if (!w)
        return;
    g_clear_pointer(&w->v, gre_vici_free);
    g_clear_pointer(&w->log, g_ptr_array_unref);
    g_free(w);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ApplyIkeWait, apply_ike_wait_free)

static ApplyIkeWait *
initiate_send(const GrePlanStep *step, guint timeout_ms, char **why)
{
    const GrePlanIkeConn *c     = &step->ike_conn;
    g_autoptr(GError) error     = NULL;
    g_autoptr(ApplyIkeWait) w   = g_new0(ApplyIkeWait, 1);
    g_autoptr(GreViciBuilder) b = gre_vici_builder_new();
    g_autoptr(GBytes) msg       = NULL;

    w->step       = step;
    w->timeout_ms = timeout_ms;
    w->end        = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    w->log        = g_ptr_array_new_with_free_func(g_free);
    w->il.log     = w->log;
    if (!(w->v = ike_connect(c->socket, &error))) {
        *why = g_strdup(error->message);
        return NULL;
    }
    gre_vici_builder_add(b, "child", CHILD_NAME);
    gre_vici_builder_add(b, "ike", c->name);
    add_uint(b, "timeout", timeout_ms, "");
    msg = finish(b, NULL);
    /* The daemon's reason comes as control-log events while initiate runs. */
    if (!gre_vici_register(w->v, "control-log", on_control_log, &w->il, &error)) {
        *why = g_strdup(error->message);
        return NULL;
    }
    /* charon answers when the exchange is over or after timeout_ms: give it that and some. */
    gre_vici_set_timeout(w->v, timeout_ms + GRE_VICI_DEFAULT_TIMEOUT_MS);
    if (!gre_vici_command_send(w->v, "initiate", msg, &error)) {
        *why = g_strdup(error->message);
        return NULL;
    }
    return g_steal_pointer(&w);
}

/* What the daemon's answer to initiate (NULL: none, *why says why) means. */
static Outcome
initiate_outcome(ApplyIkeWait *w, GreViciSection *reply, char **why)
{
    const GrePlanIkeConn *c = &w->step->ike_conn;
    g_autoptr(GError) error = NULL;

    if (!reply)
        return OUTCOME_ERROR;
    gre_vici_set_timeout(w->v, GRE_VICI_DEFAULT_TIMEOUT_MS);
    if (!gre_vici_unregister(w->v, "control-log", &error)) {
        *why = g_strdup(error->message);
        return OUTCOME_ERROR;
    }
    if (g_strcmp0(gre_vici_get(reply, "success"), "yes") != 0) {
        const char      *errmsg = gre_vici_get(reply, "errmsg");
        g_autofree char *ignore = NULL;

        /* The connection was unloaded (swanctl --load-all of another file) and loaded again
         * while its IKE_SA and CHILD_SA lived on: charon will not start a duplicate of the
         * installed CHILD_SA, which is then the one this tunnel needs. */
        if (log_find(w->log, "due to existing duplicate") &&
            check_transport(w->v, c, &ignore) == OUTCOME_UP)
            return OUTCOME_UP;
        return classify(c, w->log, errmsg ? errmsg : "", w->timeout_ms, why);
    }
    return await_transport(w->v, c, w->end, w->timeout_ms, why);
}

static Outcome
initiate(const GrePlanStep *step, guint timeout_ms, char **why)
{
    g_autoptr(ApplyIkeWait) w       = initiate_send(step, timeout_ms, why);
    g_autoptr(GreViciSection) reply = NULL;
    g_autoptr(GError) error         = NULL;

    if (!w)
        return OUTCOME_ERROR;
    if (!(reply = gre_vici_command_finish(w->v, &error)))
        *why = g_strdup(error->message);
    return initiate_outcome(w, reply, why);
}

/* ---- loading ---- */

/* Whether charon's trap put a `proto gre` policy in the kernel for direction @dir. */
static gboolean
trap_policy_present(Kernel *k, const GrePlanIkeConn *c, GreDir dir, char **why)
{
    g_autoptr(GError) error = NULL;
    GrePlanStep step        = { .kind = GRE_STEP_XFRM_POLICY };
    Probe       p           = { 0 };
    ObjState    st;

    if (!apply_kernel_open(k, TRUE, &error)) {
        *why = g_strdup(error->message);
        return FALSE;
    }
    step.policy.src = dir == GRE_DIR_OUT ? c->local : c->remote;
    step.policy.dst = dir == GRE_DIR_OUT ? c->remote : c->local;
    step.policy.dir = dir;
    st              = apply_probe_step(k, &step, &p);
    if (st == OBJ_ERROR)
        *why = g_strdup(p.why);
    else if (st == OBJ_ABSENT)
        *why = g_strdup_printf(_("the IKE daemon loaded %s but put no GRE policy (dir %s) into "
                                 "the kernel, so GRE would go unprotected: is its kernel-netlink "
                                 "plugin loaded?"),
                               c->name, dir == GRE_DIR_OUT ? "out" : "in");
    apply_probe_clear(&p);
    /* Present (charon's, so "foreign" to us) is what we want. */
    return st == OBJ_PRESENT || st == OBJ_FOREIGN;
}

/* Like NLM_F_EXCL for the kernel's objects: a connection or key of our name that we did not
 * load (no record of ours listed it) is somebody else's, and load-conn would replace it. */
static gboolean
refuse_taken(GreVici *v, gboolean conn, const char *name, char **why)
{
    g_autoptr(GError) error = NULL;
    int present             = conn ? loaded(v, "get-conns", "conns", name, &error)
                                   : loaded(v, "get-shared", "keys", name, &error);

    if (present < 0)
        *why = g_strdup(error->message);
    else if (present && conn)
        *why = g_strdup_printf(_("the IKE daemon already holds a connection named %s that "
                                 "gre-tunnel did not load: left alone (unload it, or name the "
                                 "device differently)"),
                               name);
    else if (present)
        *why = g_strdup_printf(_("the IKE daemon already holds a key with the id %s that "
                                 "gre-tunnel did not load: left alone (unload it, or name the "
                                 "device differently)"),
                               name);
    return present == 0;
}

static gboolean
load_shared(Kernel *k, const GrePlanIkeShared *sh, char **why)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GreVici) v    = ike_connect(sh->socket, &error);
    g_autoptr(GBytes) msg   = NULL;

    (void)k;
    if (!v) {
        *why = g_strdup(error->message);
        return FALSE;
    }
    if (!refuse_taken(v, FALSE, sh->name, why))
        return FALSE;
    if (!(msg = shared_msg(sh, &error)) || !gre_vici_call(v, "load-shared", msg, &error)) {
        *why = g_strdup(error->message);
        return FALSE;
    }
    return TRUE;
}

/* Unloads the connection after a failure of its own step (the key is the rollback's). */
static void
undo_conn(Kernel *k, const GrePlanStep *step, char **why)
{
    g_autofree char *undo_why = NULL;

    if (!apply_ike_remove(k, step, &undo_why)) {
        char *both = g_strdup_printf(_("%s; unloading %s also failed (%s): run `down` to try "
                                       "again"),
                                     *why, step->ike_conn.name, undo_why);

        g_free(*why);
        *why = both;
    }
}

static gboolean conclude(Kernel *k, const GrePlanStep *step, Outcome o, char **why, int *code);

static gboolean
load_conn(Kernel *k, const GrePlanStep *step, char **why, int *code)
{
    const GrePlanIkeConn  *c    = &step->ike_conn;
    const GreApplyOptions *opts = k->opts;
    g_autoptr(GError) error     = NULL;
    g_autoptr(GreVici) v        = ike_connect(c->socket, &error);
    g_autoptr(GBytes) msg       = NULL;
    g_autoptr(GBytes) cert      = NULL;
    g_autofree char *ca_subject = NULL;
    guint timeout = opts && opts->ike_timeout_ms ? opts->ike_timeout_ms : GRE_APPLY_IKE_TIMEOUT_MS;

    if (!v) {
        *why = g_strdup(error->message);
        return FALSE;
    }
    if (!refuse_taken(v, TRUE, c->name, why))
        return FALSE;
    if (c->cert) {
        if (!(cert = apply_ike_read_cred("IKE_CERT", c->cert_file, FALSE, &error))) {
            *code = GRE_ERROR_INVALID; /* the file, as for IKE_CACERT and IKE_PRIVKEY */
            *why  = g_strdup(error->message);
            return FALSE;
        }
        if (!(ca_subject = apply_ike_ca_subject(v, c->name, &error))) {
            *why = g_strdup(error->message);
            return FALSE;
        }
    }
    if (!(msg = conn_msg(c, cert, ca_subject, &error)) ||
        !gre_vici_call(v, "load-conn", msg, &error)) {
        if (c->cert && g_error_matches(error, GRE_VICI_ERROR, GRE_VICI_ERROR_FAILED))
            *code = GRE_ERROR_INVALID;
        *why = c->cert && g_error_matches(error, GRE_VICI_ERROR, GRE_VICI_ERROR_FAILED)
                   ? g_strdup_printf(_("IKE_CERT: %s: the IKE daemon refused the connection with "
                                       "it: %s (a PEM or DER X.509 certificate is expected)"),
                                     c->cert_file, error->message)
                   : g_strdup(error->message);
        return FALSE;
    }
    if (c->cert && !apply_ike_check_own_cert(v, cert, c->cert_file, c->local_id, why)) {
        *code = GRE_ERROR_INVALID;
        g_clear_pointer(&v, gre_vici_free);
        undo_conn(k, step, why);
        return FALSE;
    }
    g_clear_pointer(&v, gre_vici_free);
    if (!trap_policy_present(k, c, GRE_DIR_IN, why) ||
        !trap_policy_present(k, c, GRE_DIR_OUT, why)) {
        undo_conn(k, step, why);
        return FALSE;
    }

    if (k->async) {
        /* The caller polls (apply_ike_wait_poll) from its main loop. */
        if (!(k->ike_wait = initiate_send(step, timeout, why))) {
            undo_conn(k, step, why);
            return FALSE;
        }
        return TRUE;
    }
    return conclude(k, step, initiate(step, timeout, why), why, code);
}

/* What the initiate's outcome @o makes of the connection's step: TRUE when it stands (the
 * CHILD_SA is up, or the peer is silent and the caller does not wait for it); otherwise the
 * connection is unloaded again and *why and *code say why. */
static gboolean
conclude(Kernel *k, const GrePlanStep *step, Outcome o, char **why, int *code)
{
    const GrePlanIkeConn  *c    = &step->ike_conn;
    const GreApplyOptions *opts = k->opts;

    switch (o) {
    case OUTCOME_UP:
        return TRUE;
    case OUTCOME_SILENT:
    case OUTCOME_NOT_READY:
        if (!opts || !opts->wait_peer) {
            /* As gre-tunnel(8) says: the tunnel stays up with the trap; GRE waits for IKE. */
            apply_warn(k,
                       _("%s: the tunnel is up without an IPsec SA yet: %s. GRE to and from the "
                         "peer is dropped until IKE succeeds; the IKE daemon keeps trying (on "
                         "traffic, and when the peer starts it). `gre-tunnel status` shows the "
                         "SAs; `up --wait-peer` fails instead"),
                       c->name, *why);
            g_clear_pointer(why, g_free);
            if (k->report)
                k->report->ike_pending = TRUE;
            return TRUE;
        }
        *code = GRE_ERROR_KERNEL;
        break;
    case OUTCOME_AUTH:
        if (k->report)
            k->report->ike_auth_failed = TRUE;
        *code = GRE_ERROR_MISMATCH;
        break;
    case OUTCOME_REFUSED:
        *code = GRE_ERROR_MISMATCH;
        break;
    case OUTCOME_ERROR:
        *code = GRE_ERROR_KERNEL;
        break;
    }
    undo_conn(k, step, why);
    return FALSE;
}

int
apply_ike_wait_poll(Kernel *k, char **why, int *code)
{
    g_autoptr(ApplyIkeWait) w       = k->ike_wait;
    g_autoptr(GreViciSection) reply = NULL;
    g_autoptr(GError) error         = NULL;
    Outcome o;

    *code = GRE_ERROR_KERNEL;
    if (!gre_vici_command_poll(w->v, &reply, &error))
        *why = g_strdup(error->message);
    else if (!reply) {
        g_steal_pointer(&w); /* still waiting: k keeps it */
        return 0;
    }
    k->ike_wait = NULL;
    o           = initiate_outcome(w, reply, why);
    return conclude(k, w->step, o, why, code) ? 1 : -1;
}

/* The private key's id, for this call's rollback and, in the record, for `down`. A record that
 * cannot be written is warned about: the key stays loaded until charon restarts, and the
 * tunnel works. */
static void
record_keyid(Kernel *k, const char *keyid)
{
    g_autoptr(GError) error = NULL;

    g_free(k->ike_keyid);
    k->ike_keyid = g_strdup(keyid);
    if (!k->rec)
        return;
    for (guint i = 0; i < k->rec->steps->len; i++) {
        GrePlanStep *st = &g_array_index(k->rec->steps, GrePlanStep, i);

        if (st->kind != GRE_STEP_IKE_KEY)
            continue;
        g_strlcpy(st->ike_cred.keyid, keyid, sizeof st->ike_cred.keyid);
        g_free(k->rec->lines->pdata[i]);
        k->rec->lines->pdata[i] = gre_state_step_line(st);
    }
    if (!gre_state_write(k->rec, &error))
        apply_warn(k,
                   _("the private key's id could not be recorded (%s): `down` will not unload it"),
                   error->message);
}

gboolean
apply_ike_create(Kernel *k, const GrePlanStep *step, char **why, int *code)
{
    *code = GRE_ERROR_KERNEL;
    if (is_cred(step)) {
        g_autofree char *keyid = NULL;

        if (!apply_ike_cred_create(step, &keyid, why)) {
            *code = GRE_ERROR_INVALID;
            return FALSE;
        }
        if (keyid)
            record_keyid(k, keyid);
        return TRUE;
    }
    if (step->kind == GRE_STEP_IKE_SHARED)
        return load_shared(k, &step->ike_shared, why);
    return load_conn(k, step, why, code);
}

/* ---- status ---- */

typedef struct {
    const char *ike;
    GString    *out;
    guint       n;
} StatusCtx;

static const char *
or_q(const char *s)
{
    return s ? s : "?";
}

static void
status_child(const GreViciSection *child, GString *out)
{
    const char *rekey = gre_vici_get(child, "rekey-time");
    const char *encr  = gre_vici_get(child, "encr-alg");
    const char *ksize = gre_vici_get(child, "encr-keysize");
    const char *integ = gre_vici_get(child, "integ-alg");

    g_string_append_printf(out, "  CHILD_SA %s #%s: %s, %s, %s", or_q(gre_vici_get(child, "name")),
                           or_q(gre_vici_get(child, "uniqueid")),
                           or_q(gre_vici_get(child, "state")), or_q(gre_vici_get(child, "mode")),
                           or_q(gre_vici_get(child, "protocol")));
    if (encr)
        g_string_append_printf(out, " %s%s%s%s%s", encr, ksize ? "-" : "", ksize ? ksize : "",
                               integ ? "/" : "", integ ? integ : "");
    g_string_append_printf(out, ", spi in 0x%s out 0x%s", or_q(gre_vici_get(child, "spi-in")),
                           or_q(gre_vici_get(child, "spi-out")));
    if (rekey)
        g_string_append_printf(out, _(", rekey in %s s"), rekey);
    g_string_append_printf(
        out, _(", in %s bytes %s packets, out %s bytes %s packets\n"),
        or_q(gre_vici_get(child, "bytes-in")), or_q(gre_vici_get(child, "packets-in")),
        or_q(gre_vici_get(child, "bytes-out")), or_q(gre_vici_get(child, "packets-out")));
}

static void
on_status_sa(const char *event, const GreViciSection *msg, gpointer user_data)
{
    StatusCtx            *sc  = user_data;
    const GreViciSection *ike = gre_vici_get_section(msg, sc->ike);
    const GreViciSection *children;
    const char           *rekey;

    (void)event;
    if (!ike)
        return;
    sc->n++;
    rekey = gre_vici_get(ike, "rekey-time");
    g_string_append_printf(
        sc->out, "  IKE_SA %s #%s: %s, %s[%s] - %s[%s]", sc->ike,
        or_q(gre_vici_get(ike, "uniqueid")), or_q(gre_vici_get(ike, "state")),
        or_q(gre_vici_get(ike, "local-host")), or_q(gre_vici_get(ike, "local-id")),
        or_q(gre_vici_get(ike, "remote-host")), or_q(gre_vici_get(ike, "remote-id")));
    if (rekey)
        g_string_append_printf(sc->out, _(", rekey in %s s"), rekey);
    g_string_append_c(sc->out, '\n');
    if (!(children = gre_vici_get_section(ike, "child-sas")))
        return;
    for (guint i = 0; i < gre_vici_section_n_entries(children); i++) {
        const GreViciSection *child = NULL;
        const char           *name;

        if (gre_vici_section_entry(children, i, &name, &child) == GRE_VICI_ENTRY_SECTION)
            status_child(child, sc->out);
    }
}

void
apply_ike_status(const GrePlanIkeConn *conn, GString *out)
{
    g_autoptr(GError) error         = NULL;
    g_autoptr(GreVici) v            = ike_connect(conn->socket, &error);
    g_autoptr(GBytes) msg           = kv_msg("ike", conn->name);
    g_autoptr(GreViciSection) reply = NULL;
    StatusCtx sc                    = { conn->name, out, 0 };
    int       present;

    if (!v) {
        g_string_append_printf(out, "  IKE %s: %s\n", conn->name, error->message);
        return;
    }
    present = loaded(v, "get-conns", "conns", conn->name, &error);
    if (present < 0) {
        g_string_append_printf(out, "  IKE %s: %s\n", conn->name, error->message);
        return;
    }
    g_string_append_printf(out, "  IKE connection %s (%s): %s\n", conn->name, conn->socket,
                           present ? "loaded" : "missing");
    reply = gre_vici_command_streamed(v, "list-sas", msg, "list-sa", on_status_sa, &sc, &error);
    if (!reply)
        g_string_append_printf(out, "  IKE %s: %s\n", conn->name, error->message);
    else if (!sc.n)
        g_string_append_printf(out,
                               _("  IKE_SA %s: none (the trap starts one on GRE traffic, or the "
                                 "peer does)\n"),
                               conn->name);
}
