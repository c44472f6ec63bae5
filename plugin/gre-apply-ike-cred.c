/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * IKE_AUTH=cert: the CA and the private key, read by gre-tunnel itself and handed to charon over
 * VICI. Debian's AppArmor profile lets charon read only its own directories, so paths named in
 * a connection would fail there; reading them here also lets the checks of keys-NAME apply (a
 * root-owned file, the key readable by root only) and name the setting in every error.
 *
 * What charon 5.9.8 can unload decides how each is loaded:
 * - the CA as an authority (load-authority gre-NAME): unload-authority removes it, and the
 *   certificate with it unless something else holds a reference;
 * - the private key with load-key, which answers with the key's id; unload-key takes that id,
 *   so it is added to the ownership record as soon as charon gives it;
 * - this end's certificate goes into load-conn (`certs`); VICI has no command that removes one
 *   certificate, so it stays in charon's store until charon restarts (or clear-creds, which
 *   would drop the administrator's credentials too). It is public and useless without the key.
 */
#include "gre-apply-private.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gre-error.h"
#include "gre-file.h"
#include "gre-i18n.h"
#include "gre-vici.h"

/* A credential file as its setting names it: a regular file owned by root (the user that runs
 * us) that nobody else may change, and for a private key that nobody else may read. */
GBytes *
apply_ike_read_cred(const char *setting, const char *path, gboolean secret, GError **error)
{
    g_autoptr(GError) local = NULL;
    struct stat st;
    char       *text;
    gsize       len = 0;
    int fd = gre_file_open_regular(path, secret ? GRE_FILE_SECRET : GRE_FILE_FOLLOW, &st, &local);

    if (fd < 0) {
        g_set_error(error, GRE_ERROR, local->code, "%s: %s", setting, local->message);
        return NULL;
    }
    if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)) ||
        (secret && (st.st_mode & 077))) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_PERMISSION,
                    secret ? _("%s: %s: a private key must be owned by uid %u and readable by it "
                               "alone (mode %04o); run: chown %u %s && chmod 600 %s")
                           : _("%s: %s: must be owned by uid %u and writable by it alone (mode "
                               "%04o); run: chown %u %s && chmod go-w %s"),
                    setting, path, (guint)geteuid(), (guint)(st.st_mode & 07777), (guint)geteuid(),
                    path, path);
        close(fd);
        return NULL;
    }
    text = gre_file_read_fd(fd, path, &len, &local);
    close(fd);
    if (!text) {
        g_set_error(error, GRE_ERROR, local->code, "%s: %s", setting, local->message);
        return NULL;
    }
    if (len == 0) {
        gre_file_free_wiped(text, len);
        g_set_error(error, GRE_ERROR, GRE_ERROR_INVALID, _("%s: %s is empty"), setting, path);
        return NULL;
    }
    {
        GBytes *b = gre_secret_new((const guint8 *)text, len);

        gre_file_free_wiped(text, len);
        return b;
    }
}

static GBytes *
one_kv(const char *key, const char *value)
{
    g_autoptr(GreViciBuilder) b = gre_vici_builder_new();

    gre_vici_builder_add(b, key, value);
    return gre_vici_builder_finish(b, NULL);
}

/* Whether @list of @cmd's reply holds @item (-1: error). */
static int
listed(GreVici *v, const char *cmd, const char *list, const char *item, GError **error)
{
    g_autoptr(GreViciSection) reply = gre_vici_command(v, cmd, NULL, error);
    const char *const *items;

    if (!reply)
        return -1;
    for (items = gre_vici_get_list(reply, list); items && *items; items++) {
        if (g_ascii_strcasecmp(*items, item) == 0)
            return 1;
    }
    return 0;
}

/* charon's words for a file it could not use, with the setting and the file. */
static char *
refused(const char *setting, const char *file, const GError *error)
{
    return g_strdup_printf(_("%s: %s: the IKE daemon refused it: %s (a PEM or DER %s is "
                             "expected)"),
                           setting, file, error->message,
                           g_str_equal(setting, "IKE_CACERT") ? _("CA certificate")
                                                              : _("private key"));
}

static gboolean
load_ca(GreVici *v, const GrePlanIkeCred *cr, char **why)
{
    g_autoptr(GError) error     = NULL;
    g_autoptr(GBytes) data      = apply_ike_read_cred("IKE_CACERT", cr->file, FALSE, &error);
    g_autoptr(GreViciBuilder) b = gre_vici_builder_new();
    g_autoptr(GBytes) msg       = NULL;
    gsize       n;
    const void *d;
    int         taken;

    if (!data) {
        *why = g_strdup(error->message);
        return FALSE;
    }
    /* Like NLM_F_EXCL: an authority of our name that we did not load is left alone. */
    if ((taken = listed(v, "get-authorities", "authorities", cr->name, &error)) != 0) {
        *why = taken < 0 ? g_strdup(error->message)
                         : g_strdup_printf(_("the IKE daemon already holds a CA named %s that "
                                             "gre-tunnel did not load: left alone (unload it, or "
                                             "name the device differently)"),
                                           cr->name);
        return FALSE;
    }
    d = g_bytes_get_data(data, &n);
    gre_vici_builder_begin_section(b, cr->name);
    gre_vici_builder_add_bytes(b, "cacert", d, n);
    gre_vici_builder_end_section(b);
    if (!(msg = gre_vici_builder_finish(b, &error))) {
        *why = g_strdup_printf("IKE_CACERT: %s: %s", cr->file, error->message);
        return FALSE;
    }
    if (!gre_vici_call(v, "load-authority", msg, &error)) {
        *why = refused("IKE_CACERT", cr->file, error);
        return FALSE;
    }
    return TRUE;
}

static gboolean
load_key(GreVici *v, const GrePlanIkeCred *cr, char **keyid, char **why)
{
    g_autoptr(GError) error         = NULL;
    g_autoptr(GBytes) data          = apply_ike_read_cred("IKE_PRIVKEY", cr->file, TRUE, &error);
    g_autoptr(GreViciBuilder) b     = gre_vici_builder_new();
    g_autoptr(GBytes) msg           = NULL;
    g_autoptr(GreViciSection) reply = NULL;
    const char *id;
    gsize       n;
    const void *d;

    if (!data) {
        *why = g_strdup(error->message);
        return FALSE;
    }
    d = g_bytes_get_data(data, &n);
    gre_vici_builder_add(b, "type", "any");
    gre_vici_builder_add_bytes(b, "data", d, n);
    /* The message holds the key: gre-vici-msg wipes its buffers when they are freed. */
    if (!(msg = gre_vici_builder_finish(b, &error))) {
        *why = g_strdup_printf("IKE_PRIVKEY: %s: %s", cr->file, error->message);
        return FALSE;
    }
    reply = gre_vici_command(v, "load-key", msg, &error);
    if (reply && !gre_vici_check_success(reply, "load-key", &error))
        g_clear_pointer(&reply, gre_vici_section_free);
    if (!reply) {
        *why = refused("IKE_PRIVKEY", cr->file, error);
        return FALSE;
    }
    id = gre_vici_get(reply, "id");
    if (!id || !*id || strlen(id) >= sizeof cr->keyid) {
        *why = g_strdup(_("the IKE daemon loaded the private key but gave no id for it"));
        return FALSE;
    }
    *keyid = g_ascii_strdown(id, -1);
    return TRUE;
}

gboolean
apply_ike_cred_create(const GrePlanStep *step, char **keyid, char **why)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GreVici) v    = gre_vici_connect(step->ike_cred.socket, &error);

    if (!v) {
        *why = g_strdup(error->message);
        return FALSE;
    }
    if (step->kind == GRE_STEP_IKE_CA)
        return load_ca(v, &step->ike_cred, why);
    return load_key(v, &step->ike_cred, keyid, why);
}

/* Unloads the CA by its name, or the key by @keyid (NULL: not known, nothing to unload).
 * *was_loaded: whether it was still there. */
gboolean
apply_ike_cred_remove(GreVici *v, const GrePlanStep *step, const char *keyid, gboolean *was_loaded,
                      GError **error)
{
    gboolean ca = step->kind == GRE_STEP_IKE_CA;
    int      present;

    *was_loaded = FALSE;
    if (!ca && !keyid)
        return TRUE;
    present = ca ? listed(v, "get-authorities", "authorities", step->ike_cred.name, error)
                 : listed(v, "get-keys", "keys", keyid, error);
    if (present < 0)
        return FALSE;
    *was_loaded = present;
    if (!present)
        return TRUE;
    {
        g_autoptr(GBytes) msg = ca ? one_kv("name", step->ike_cred.name) : one_kv("id", keyid);

        return gre_vici_call(v, ca ? "unload-authority" : "unload-key", msg, error);
    }
}

/* Whether the daemon holds the credential (the key: by its recorded id). */
int
apply_ike_cred_loaded(GreVici *v, const GrePlanStep *step, GError **error)
{
    if (step->kind == GRE_STEP_IKE_CA)
        return listed(v, "get-authorities", "authorities", step->ike_cred.name, error);
    if (!step->ike_cred.keyid[0])
        return 0;
    return listed(v, "get-keys", "keys", step->ike_cred.keyid, error);
}

/* The subject of the CA loaded as @name (list-authorities), for the connection's ca_id. */
typedef struct {
    const char *name;
    char       *subject;
} AuthorityCtx;

static void
on_authority(const char *event, const GreViciSection *msg, gpointer user_data)
{
    AuthorityCtx         *ac = user_data;
    const GreViciSection *a  = gre_vici_get_section(msg, ac->name);
    const char           *s  = a ? gre_vici_get(a, "cacert") : NULL;

    (void)event;
    if (s && !ac->subject)
        ac->subject = g_strdup(s);
}

char *
apply_ike_ca_subject(GreVici *v, const char *name, GError **error)
{
    g_autoptr(GBytes) msg           = one_kv("name", name);
    g_autoptr(GreViciSection) reply = NULL;
    AuthorityCtx ac                 = { name, NULL };

    reply = gre_vici_command_streamed(v, "list-authorities", msg, "list-authority", on_authority,
                                      &ac, error);
    if (!reply) {
        g_free(ac.subject);
        return NULL;
    }
    if (!ac.subject)
        g_set_error(error, GRE_ERROR, GRE_ERROR_KERNEL,
                    _("the IKE daemon does not list the CA %s that was just loaded"), name);
    return ac.subject;
}

/* @cert (PEM or DER) as DER; NULL when it is neither (charon has accepted it already, so that
 * is a form this check does not know, and the check is left to the exchange). */
static GBytes *
cert_der(GBytes *cert)
{
    gsize            n;
    const char      *d     = g_bytes_get_data(cert, &n);
    g_autofree char *text  = NULL;
    const char      *begin = "-----BEGIN CERTIFICATE-----", *b, *e;
    guchar          *der;
    gsize            len = 0;

    if (n > 0 && (guchar)d[0] == 0x30)
        return g_bytes_ref(cert);
    text = g_strndup(d, n);
    if (!(b = strstr(text, begin)) || !(e = strstr(b, "-----END CERTIFICATE-----")))
        return NULL;
    b += strlen(begin);
    text[e - text] = '\0';
    der            = g_base64_decode(b, &len); /* skips the line breaks */
    return len ? g_bytes_new_take(der, len) : (g_free(der), NULL);
}

typedef struct {
    GBytes  *der;
    gboolean found, has_privkey;
} CertCtx;

static void
on_cert(const char *event, const GreViciSection *msg, gpointer user_data)
{
    CertCtx      *cc = user_data;
    gsize         n  = 0;
    const guint8 *d  = gre_vici_get_bytes(msg, "data", &n);
    gsize         want;
    const void   *w = g_bytes_get_data(cc->der, &want);

    (void)event;
    if (d && n == want && memcmp(d, w, n) == 0) {
        cc->found = TRUE;
        if (g_strcmp0(gre_vici_get(msg, "has_privkey"), "yes") == 0)
            cc->has_privkey = TRUE;
    }
}

/* Whether charon lists @der (with @subject: only among the certificates carrying that
 * identity, as subject or subjectAltName), and whether it holds its private key. */
static gboolean
list_cert(GreVici *v, GBytes *der, const char *subject, CertCtx *cc, GError **error)
{
    g_autoptr(GreViciBuilder) b     = gre_vici_builder_new();
    g_autoptr(GBytes) msg           = NULL;
    g_autoptr(GreViciSection) reply = NULL;

    *cc = (CertCtx){ der, FALSE, FALSE };
    gre_vici_builder_add(b, "type", "X509");
    if (subject)
        gre_vici_builder_add(b, "subject", subject);
    if (!(msg = gre_vici_builder_finish(b, error)))
        return FALSE;
    reply = gre_vici_command_streamed(v, "list-certs", msg, "list-cert", on_cert, cc, error);
    return reply != NULL;
}

/* charon does not check before the exchange that this end's certificate carries the identity
 * it is to prove, nor that the key loaded for it is its key: the peer would refuse later, for
 * reasons it does not tell. charon's own view of the certificate answers both, with its X.509
 * parser: the list of certificates carrying @local_id, and whether it holds their keys. */
gboolean
apply_ike_check_own_cert(GreVici *v, GBytes *cert, const char *cert_file, const char *local_id,
                         char **why)
{
    g_autoptr(GBytes) der   = cert_der(cert);
    g_autoptr(GError) error = NULL;
    CertCtx cc;

    if (!der)
        return TRUE;
    if (!list_cert(v, der, local_id, &cc, &error)) {
        *why = g_strdup(error->message);
        return FALSE;
    }
    if (!cc.found) {
        if (!list_cert(v, der, NULL, &cc, &error)) {
            *why = g_strdup(error->message);
            return FALSE;
        }
        if (!cc.found)
            return TRUE; /* not listed at all: nothing to judge by */
        *why = g_strdup_printf(_("IKE_CERT: %s does not carry the identity %s that this end "
                                 "proves (IKE_LOCAL_ID, the outer address unless set): issue it "
                                 "with that subjectAltName (pki --san), or set IKE_LOCAL_ID to "
                                 "what it carries"),
                               cert_file, local_id);
        return FALSE;
    }
    if (!cc.has_privkey) {
        *why = g_strdup_printf(_("IKE_PRIVKEY is not the private key of IKE_CERT %s"), cert_file);
        return FALSE;
    }
    return TRUE;
}
