/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-editor-check.h"

#include <string.h>

#include "gre-settings-table.h"
#include "gre-suite.h"
#include "gre-validate.h"

/* One line per problem, "vpn.data: KEY: reason" (or vpn.secrets), as the plugin writes them. */
static void
add_problem(GString *msg, GHashTable *bad, const char *name, const char *reason)
{
    const GreKeyInfo *key = gre_key_lookup(GRE_STYLE_NM, name);

    if (msg->len)
        g_string_append_c(msg, '\n');
    g_string_append_printf(msg, "%s: %s: %s", key && key->secret ? "vpn.secrets" : "vpn.data", name,
                           reason);
    if (bad)
        g_hash_table_add(bad, g_strdup(name));
}

static GBytes **
secret_slot(GreSettings *s, GreKeyId id)
{
    switch (id) {
    case GRE_KEY_ENC_KEY_IN:
        return &s->enc_key_in;
    case GRE_KEY_ENC_KEY_OUT:
        return &s->enc_key_out;
    case GRE_KEY_AUTH_KEY_IN:
        return &s->auth_key_in;
    case GRE_KEY_AUTH_KEY_OUT:
        return &s->auth_key_out;
    case GRE_KEY_IKE_PSK:
        return &s->ike_psk;
    default:
        return NULL;
    }
}

/* A key the user will give later must not fail validation for being absent: stand in a zero key
 * of the length the suite wants, used for this check only. */
static void
stand_in_unheld_secrets(NMSettingVpn *s_vpn, GreSettings *s)
{
    const GreSuiteInfo *suite = gre_suite_info(s->suite);

    if (s->ipsec == GRE_IPSEC_NONE)
        return;
    for (guint i = 0; i < GRE_KEY_COUNT; i++) {
        const GreKeyInfo    *key   = gre_key_info(i);
        NMSettingSecretFlags flags = NM_SETTING_SECRET_FLAG_NONE;
        GBytes             **slot  = secret_slot(s, i);
        gboolean             is_auth;
        guint                len;
        g_autofree guint8   *zero = NULL;

        if (!key->secret || !slot || *slot)
            continue;
        nm_setting_get_secret_flags(NM_SETTING(s_vpn), key->nm, &flags, NULL);
        if (flags == NM_SETTING_SECRET_FLAG_NONE)
            continue;
        /* Each mode's own secrets only: the other mode's are not written. */
        if ((i == GRE_KEY_IKE_PSK) != (s->ipsec == GRE_IPSEC_IKE))
            continue;
        is_auth = i == GRE_KEY_AUTH_KEY_IN || i == GRE_KEY_AUTH_KEY_OUT;
        if (is_auth && suite->aead)
            continue;
        len   = i == GRE_KEY_IKE_PSK ? GRE_IKE_PSK_MIN
                : is_auth            ? suite->auth_key_len
                                     : suite->enc_key_len;
        zero  = g_malloc0(len);
        *slot = gre_secret_new(zero, len);
    }
}

gboolean
gre_editor_check(NMSettingVpn *s_vpn, GHashTable *bad, GreSettings **out, GError **error)
{
    g_autoptr(GreSettings) s   = gre_settings_new();
    g_autoptr(GString) msg     = g_string_new(NULL);
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GError) invalid  = NULL;

    for (guint i = 0; i < GRE_KEY_COUNT; i++) {
        const GreKeyInfo *key = gre_key_info(i);
        const char       *text;
        g_autoptr(GError) local = NULL;

        text = key->secret ? nm_setting_vpn_get_secret(s_vpn, key->nm)
                           : nm_setting_vpn_get_data_item(s_vpn, key->nm);
        if (!text || !*text)
            continue;
        if (!gre_key_set(key, s, text, &local)) {
            add_problem(msg, bad, key->nm, local->message);
            g_hash_table_add(seen, g_strdup(key->nm));
        }
    }

    if (out) {
        g_clear_pointer(out, gre_settings_free);
        *out = gre_settings_copy(s);
    }

    stand_in_unheld_secrets(s_vpn, s);
    if (!gre_settings_validate(s, GRE_STYLE_NM, NULL, NULL, NULL, &invalid)) {
        g_auto(GStrv) lines = g_strsplit(invalid->message, "\n", -1);

        /* Each line is "KEY: reason". A key that did not parse was left unset, so what the
         * validator says about it ("missing") would only repeat the first problem. */
        for (guint i = 0; lines[i]; i++) {
            const char      *colon = strstr(lines[i], ": ");
            g_autofree char *name  = colon ? g_strndup(lines[i], colon - lines[i]) : NULL;

            if (!name) {
                if (msg->len)
                    g_string_append_c(msg, '\n');
                g_string_append(msg, lines[i]);
                continue;
            }
            if (g_hash_table_contains(seen, name))
                continue;
            add_problem(msg, bad, name, colon + 2);
        }
    }

    if (msg->len) {
        g_set_error_literal(error, NM_CONNECTION_ERROR, NM_CONNECTION_ERROR_INVALID_PROPERTY,
                            msg->str);
        return FALSE;
    }
    return TRUE;
}
