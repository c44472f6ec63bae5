/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-nm-data.h"

#include <string.h>

#include "gre-error.h"
#include "gre-i18n.h"
#include "gre-settings-table.h"
#include "gre-suite.h"
#include "gre-validate.h"

#define FLAGS_SUFFIX "-flags"

gboolean
gre_nm_is_data_key(const char *name)
{
    const GreKeyInfo *key = gre_key_lookup(GRE_STYLE_NM, name);

    return key && !key->secret;
}

gboolean
gre_nm_is_secret_key(const char *name)
{
    const GreKeyInfo *key = gre_key_lookup(GRE_STYLE_NM, name);

    return key && key->secret;
}

/* NetworkManager keeps the flags of secret NAME in vpn.data as "NAME-flags". */
static gboolean
is_flags_key(const char *name)
{
    g_autofree char *secret = NULL;

    if (!g_str_has_suffix(name, FLAGS_SUFFIX))
        return FALSE;
    secret = g_strndup(name, strlen(name) - strlen(FLAGS_SUFFIX));
    return gre_nm_is_secret_key(secret);
}

static char *
locate(const GreKeyInfo *key, gpointer user_data)
{
    (void)user_data;
    return g_strdup(key->secret ? "vpn.secrets" : "vpn.data");
}

/* What reaches NetworkManager (which shows it to the user) and the log stays readable whatever
 * arrived over D-Bus: a problem quotes at most PROBLEM_MAX bytes of its line (the middle of a
 * 1 MB value is left out, the key before it and the reason after it stay), and at most
 * PROBLEMS_SHOWN problems are listed. */
#define PROBLEM_MAX 400
#define PROBLEMS_SHOWN 20

static char *
shorten(char *line)
{
    gsize            len = strlen(line);
    const char      *head_end, *tail;
    g_autofree char *marker = NULL;
    char            *out;

    if (len <= PROBLEM_MAX)
        return line;
    /* Cut at character boundaries: the text may be any UTF-8 (D-Bus strings are valid UTF-8). */
    head_end = g_utf8_find_prev_char(line, line + PROBLEM_MAX / 2 + 1);
    tail     = g_utf8_find_next_char(line + len - PROBLEM_MAX / 2 - 1, NULL);
    if (!head_end || !tail)
        return line;
    marker = g_strdup_printf(_("…(%zu bytes left out)…"), (gsize)(tail - head_end));
    out    = g_strdup_printf("%.*s%s%s", (int)(head_end - line), line, marker, tail);
    g_free(line);
    return out;
}

static void G_GNUC_PRINTF(2, 3) add_problem(GPtrArray *problems, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_ptr_array_add(problems, shorten(g_strdup_vprintf(fmt, ap)));
    va_end(ap);
}

static char *
join_problems(GPtrArray *problems)
{
    GString *text = g_string_new(NULL);

    for (guint i = 0; i < problems->len; i++) {
        if (i == PROBLEMS_SHOWN && problems->len > PROBLEMS_SHOWN + 1) {
            g_string_append_printf(text, "\n");
            g_string_append_printf(text, _("(%u more problems not shown)"),
                                   problems->len - PROBLEMS_SHOWN);
            break;
        }
        if (i)
            g_string_append_c(text, '\n');
        g_string_append(text, problems->pdata[i]);
    }
    return g_string_free(text, FALSE);
}

/* Keys NetworkManager would keep but this plugin would silently ignore are refused: a typo must
 * not turn into a tunnel that differs from what the user wrote. */
static void
check_names(NMSettingVpn *s_vpn, GPtrArray *problems)
{
    const char **data    = nm_setting_vpn_get_data_keys(s_vpn, NULL);
    const char **secrets = nm_setting_vpn_get_secret_keys(s_vpn, NULL);

    for (guint i = 0; data && data[i]; i++) {
        if (gre_nm_is_data_key(data[i]) || is_flags_key(data[i]))
            continue;
        if (gre_nm_is_secret_key(data[i]))
            add_problem(problems, "vpn.data: %s: %s", data[i],
                        _("this is a secret; it belongs in vpn.secrets, where NetworkManager "
                          "keeps it private"));
        else
            add_problem(problems, "vpn.data: %s: %s", data[i], _("not a setting of GRE tunnels"));
    }
    for (guint i = 0; secrets && secrets[i]; i++) {
        if (!gre_nm_is_secret_key(secrets[i]))
            add_problem(problems, "vpn.secrets: %s: %s", secrets[i],
                        _("not a secret of GRE tunnels"));
    }
    g_free(data);
    g_free(secrets);
}

GreSettings *
gre_nm_settings_from_vpn(NMSettingVpn *s_vpn, GError **error)
{
    g_autoptr(GreSettings) s              = gre_settings_new();
    g_autoptr(GPtrArray) problems         = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *joined               = NULL;
    gboolean         given[GRE_KEY_COUNT] = { FALSE };

    g_return_val_if_fail(NM_IS_SETTING_VPN(s_vpn), NULL);

    /* The secret texts are libnm's copies: libnm and NetworkManager (its keyfiles, the agents,
     * D-Bus buffers) keep and free theirs, which is outside our control. Ours are only the
     * decoded keys, in secret GBytes that wipe themselves. */
    check_names(s_vpn, problems);
    /* In table order, like the other parsers: "key" first, so that input-key and output-key
     * can refine it. */
    for (guint i = 0; i < GRE_KEY_COUNT; i++) {
        const GreKeyInfo *key   = gre_key_info(i);
        const char       *text  = key->secret ? nm_setting_vpn_get_secret(s_vpn, key->nm)
                                              : nm_setting_vpn_get_data_item(s_vpn, key->nm);
        g_autoptr(GError) local = NULL;

        if (!text || !*text)
            continue;
        given[i] = TRUE;
        if (!gre_key_set(key, s, text, &local))
            add_problem(problems, "%s: %s: %s", key->secret ? "vpn.secrets" : "vpn.data", key->nm,
                        local->message);
    }
    /* Validating values that failed to parse would only add confusing follow-up errors. */
    if (!problems->len) {
        g_autoptr(GError) local = NULL;
        g_auto(GStrv) lines     = NULL;

        gre_settings_resolve_defaults(s, given);
        if (gre_settings_validate(s, GRE_STYLE_NM, locate, NULL, NULL, &local))
            return g_steal_pointer(&s);
        /* One problem per line here too; a thousand routes may give a thousand. */
        lines = g_strsplit(local->message, "\n", -1);
        for (guint i = 0; lines[i]; i++)
            g_ptr_array_add(problems, shorten(g_strdup(lines[i])));
    }
    joined = join_problems(problems);
    g_set_error_literal(error, GRE_ERROR, GRE_ERROR_INVALID, joined);
    return NULL;
}

void
gre_nm_settings_to_vpn(const GreSettings *s, NMSettingVpn *s_vpn)
{
    g_return_if_fail(s != NULL);
    g_return_if_fail(NM_IS_SETTING_VPN(s_vpn));

    for (guint i = 0; i < GRE_KEY_COUNT; i++) {
        const GreKeyInfo *key    = gre_key_info(i);
        g_auto(GreWipedString) v = NULL;

        if (key->secret)
            nm_setting_vpn_remove_secret(s_vpn, key->nm);
        else
            nm_setting_vpn_remove_data_item(s_vpn, key->nm);
        if (gre_key_is_default(key, s) && !key->required)
            continue;
        v = gre_key_get(key, s);
        if (!v)
            continue;
        if (key->secret)
            nm_setting_vpn_add_secret(s_vpn, key->nm, v); /* libnm copies it; v is wiped */
        else
            nm_setting_vpn_add_data_item(s_vpn, key->nm, v);
    }
}

const char **
gre_nm_missing_secrets(NMSettingVpn *s_vpn)
{
    static const GreKeyId ids[] = { GRE_KEY_ENC_KEY_IN, GRE_KEY_ENC_KEY_OUT, GRE_KEY_AUTH_KEY_IN,
                                    GRE_KEY_AUTH_KEY_OUT };
    g_autoptr(GreSettings) s    = gre_settings_new();
    GPtrArray          *missing = g_ptr_array_new();
    const char         *ipsec   = nm_setting_vpn_get_data_item(s_vpn, "ipsec");
    const char         *suite   = nm_setting_vpn_get_data_item(s_vpn, "ipsec-suite");
    const GreSuiteInfo *info;

    /* Values that do not parse are left to validation, which names them. */
    if (ipsec)
        gre_key_set(gre_key_info(GRE_KEY_IPSEC), s, ipsec, NULL);
    if (suite)
        gre_key_set(gre_key_info(GRE_KEY_SUITE), s, suite, NULL);
    info = gre_suite_info(s->suite);
    /* No PSK with certificates: "ike-auth" comes with certificate support in the settings table
     * (a branch of its own); until then vpn.data refuses the key, and this never matches. */
    if (s->ipsec == GRE_IPSEC_IKE && gre_suite_allowed(info, s->ipsec) &&
        g_strcmp0(nm_setting_vpn_get_data_item(s_vpn, "ike-auth"), "cert") != 0) {
        const GreKeyInfo    *key   = gre_key_info(GRE_KEY_IKE_PSK);
        NMSettingSecretFlags flags = NM_SETTING_SECRET_FLAG_NONE;
        const char          *value = nm_setting_vpn_get_secret(s_vpn, key->nm);

        nm_setting_get_secret_flags(NM_SETTING(s_vpn), key->nm, &flags, NULL);
        if ((!value || !*value) && !(flags & NM_SETTING_SECRET_FLAG_NOT_REQUIRED))
            g_ptr_array_add(missing, (gpointer)key->nm);
    }
    /* Keys for a suite the mode refuses would be asked for in vain: connecting names the suite. */
    for (guint i = 0;
         s->ipsec == GRE_IPSEC_MANUAL && gre_suite_allowed(info, s->ipsec) && i < G_N_ELEMENTS(ids);
         i++) {
        const GreKeyInfo    *key   = gre_key_info(ids[i]);
        NMSettingSecretFlags flags = NM_SETTING_SECRET_FLAG_NONE;
        const char          *value = nm_setting_vpn_get_secret(s_vpn, key->nm);

        if (info->aead && (ids[i] == GRE_KEY_AUTH_KEY_IN || ids[i] == GRE_KEY_AUTH_KEY_OUT))
            continue;
        nm_setting_get_secret_flags(NM_SETTING(s_vpn), key->nm, &flags, NULL);
        if ((!value || !*value) && !(flags & NM_SETTING_SECRET_FLAG_NOT_REQUIRED))
            g_ptr_array_add(missing, (gpointer)key->nm);
    }
    g_ptr_array_add(missing, NULL);
    return (const char **)g_ptr_array_free(missing, FALSE);
}
