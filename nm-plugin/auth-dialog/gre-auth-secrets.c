/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-auth-secrets.h"

#include <NetworkManager.h>
#include <stdio.h>
#include <string.h>

#include "gre-i18n.h"
#include "gre-settings-table.h"
#include "gre-suite.h"

static void
secret_free(gpointer data)
{
    GreAuthSecret *secret = data;

    gre_wipe_free(secret->value);
    g_free(secret);
}

/* The value of @id in @data as the service would read it, or its default. */
static void
read_key(GreSettings *s, GHashTable *data, GreKeyId id)
{
    const GreKeyInfo *key  = gre_key_info(id);
    const char       *text = data ? g_hash_table_lookup(data, key->nm) : NULL;

    /* A bad value is the editor's and the service's to report; here it means the default. */
    if (text && *text)
        gre_key_set(key, s, text, NULL);
}

static NMSettingSecretFlags
flags_of(GHashTable *data, const char *name)
{
    g_autofree char *flags_key = g_strdup_printf("%s-flags", name);
    const char      *text      = data ? g_hash_table_lookup(data, flags_key) : NULL;
    guint64          v         = 0;

    if (text)
        g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT32, &v, NULL);
    return (NMSettingSecretFlags)v;
}

static void
add(GPtrArray *list, GHashTable *data, GHashTable *secrets, gboolean reprompt, GreKeyId id,
    const char *label)
{
    const GreKeyInfo    *key   = gre_key_info(id);
    NMSettingSecretFlags flags = flags_of(data, key->nm);
    const char          *value = secrets ? g_hash_table_lookup(secrets, key->nm) : NULL;
    GreAuthSecret       *secret;

    if (flags & NM_SETTING_SECRET_FLAG_NOT_REQUIRED)
        return;
    secret        = g_new0(GreAuthSecret, 1);
    secret->name  = key->nm;
    secret->label = label;
    secret->value = value && *value ? g_strdup(value) : NULL;
    secret->ask   = reprompt || !secret->value || (flags & NM_SETTING_SECRET_FLAG_NOT_SAVED);
    g_ptr_array_add(list, secret);
}

GPtrArray *
gre_auth_secrets_needed(GHashTable *data, GHashTable *secrets, gboolean reprompt)
{
    g_autoptr(GreSettings) s = gre_settings_new();
    GPtrArray *list          = g_ptr_array_new_with_free_func(secret_free);

    read_key(s, data, GRE_KEY_IPSEC);
    read_key(s, data, GRE_KEY_SUITE);
    /* Keys for a suite the mode refuses would be asked for in vain: connecting names the suite. */
    if (s->ipsec == GRE_IPSEC_NONE || !gre_suite_allowed(gre_suite_info(s->suite), s->ipsec))
        return list;
    if (s->ipsec == GRE_IPSEC_IKE) {
        /* As gre_nm_missing_secrets(): no PSK when the ends use certificates. */
        if (g_strcmp0(data ? g_hash_table_lookup(data, "ike-auth") : NULL, "cert") != 0)
            add(list, data, secrets, reprompt, GRE_KEY_IKE_PSK, _("IKE pre-shared key"));
        return list;
    }
    add(list, data, secrets, reprompt, GRE_KEY_ENC_KEY_IN, _("Inbound ESP key (hex)"));
    add(list, data, secrets, reprompt, GRE_KEY_ENC_KEY_OUT, _("Outbound ESP key (hex)"));
    if (!gre_suite_info(s->suite)->aead) {
        add(list, data, secrets, reprompt, GRE_KEY_AUTH_KEY_IN, _("Inbound HMAC key (hex)"));
        add(list, data, secrets, reprompt, GRE_KEY_AUTH_KEY_OUT, _("Outbound HMAC key (hex)"));
    }
    return list;
}

gboolean
gre_auth_secrets_any_ask(GPtrArray *list)
{
    for (guint i = 0; i < list->len; i++) {
        if (((GreAuthSecret *)list->pdata[i])->ask)
            return TRUE;
    }
    return FALSE;
}

void
gre_auth_secrets_table_free(GHashTable *secrets)
{
    GHashTableIter iter;
    gpointer       value;

    if (!secrets)
        return;
    g_hash_table_iter_init(&iter, secrets);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        if (value)
            explicit_bzero(value, strlen(value));
    }
    g_hash_table_unref(secrets);
}

/* GKeyFile keeps and frees its own copies of the values unwiped (GLib's code, not ours); the
 * text it returns is the caller's to wipe. */
char *
gre_auth_secrets_to_external_ui(GPtrArray *list, const char *connection_name)
{
    g_autoptr(GKeyFile) kf       = g_key_file_new();
    g_autofree char *description = g_strdup_printf(_("The GRE tunnel \"%s\" needs its IPsec keys."),
                                                   connection_name ? connection_name : "");

    g_key_file_set_integer(kf, "VPN Plugin UI", "Version", 2);
    g_key_file_set_string(kf, "VPN Plugin UI", "Description", description);
    g_key_file_set_string(kf, "VPN Plugin UI", "Title", _("Authenticate GRE tunnel"));
    for (guint i = 0; i < list->len; i++) {
        const GreAuthSecret *secret = list->pdata[i];

        g_key_file_set_string(kf, secret->name, "Value", secret->value ? secret->value : "");
        g_key_file_set_string(kf, secret->name, "Label", secret->label);
        g_key_file_set_boolean(kf, secret->name, "IsSecret", TRUE);
        g_key_file_set_boolean(kf, secret->name, "ShouldAsk", secret->ask);
    }
    return g_key_file_to_data(kf, NULL, NULL);
}

/* The values pass through @out's stdio buffer, which libc owns and does not wipe. */
void
gre_auth_secrets_print(GPtrArray *list, FILE *out)
{
    for (guint i = 0; i < list->len; i++) {
        const GreAuthSecret *secret = list->pdata[i];

        if (secret->value)
            fprintf(out, "%s\n%s\n", secret->name, secret->value);
    }
    fputs("\n\n", out);
    fflush(out);
}
