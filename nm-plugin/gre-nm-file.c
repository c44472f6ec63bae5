/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-nm-file.h"

#include <string.h>

#include "gre-error.h"
#include "gre-i18n.h"
#include "gre-ifcfg.h"
#include "gre-nm-data.h"
#include "gre-settings-table.h"
#include "gre-shvar.h"
#include "gre-suite.h"
#include "gre-validate.h"

/* The secrets @s needs and does not hold: the IKE PSK, which an export never writes, or the keys
 * of manual keying that an agent kept when the connection was exported. */
static guint
later_secrets(const GreSettings *s, GreKeyId out[4])
{
    static const GreKeyId manual[] = { GRE_KEY_ENC_KEY_IN, GRE_KEY_ENC_KEY_OUT, GRE_KEY_AUTH_KEY_IN,
                                       GRE_KEY_AUTH_KEY_OUT };
    const GreSuiteInfo   *suite    = gre_suite_info(s->suite);
    guint                 n        = 0;

    if (s->ipsec == GRE_IPSEC_IKE && s->ike_auth != GRE_IKE_AUTH_CERT && !s->ike_psk)
        out[n++] = GRE_KEY_IKE_PSK;
    /* Keys for a suite manual keying refuses would be asked for in vain: validation names it. */
    if (s->ipsec != GRE_IPSEC_MANUAL || !gre_suite_allowed(suite, s->ipsec))
        return n;
    for (guint i = 0; i < G_N_ELEMENTS(manual); i++) {
        GBytes  *have = manual[i] == GRE_KEY_ENC_KEY_IN    ? s->enc_key_in
                        : manual[i] == GRE_KEY_ENC_KEY_OUT ? s->enc_key_out
                        : manual[i] == GRE_KEY_AUTH_KEY_IN ? s->auth_key_in
                                                           : s->auth_key_out;
        gboolean auth = manual[i] == GRE_KEY_AUTH_KEY_IN || manual[i] == GRE_KEY_AUTH_KEY_OUT;

        if (!have && !(auth && suite->aead))
            out[n++] = manual[i];
    }
    return n;
}

/*
 * An exported connection comes back without the secrets the export left out (the IKE PSK always,
 * manual keys an agent kept), so import takes them as secrets to be supplied later: NetworkManager
 * asks an agent for them when the connection comes up (NeedSecrets), and without one the
 * activation fails for want of secrets. Everything else is validated as gre-tunnel validates it,
 * on a copy with stand-ins of the right size for the missing secrets; the stand-ins never reach
 * the connection. `gre-tunnel up` and ifup-gre still require the keys file to hold them.
 */
static GreIfcfg *
load_for_import(const char *path, GPtrArray *warnings, GError **error)
{
    g_autoptr(GreIfcfg) cfg         = gre_ifcfg_load_unvalidated(path, warnings, error);
    g_autoptr(GreSettings) stand_in = NULL;
    GreSettings *real;
    GreKeyId     later[4];
    guint        n;
    gboolean     ok;

    if (!cfg)
        return NULL;
    n        = later_secrets(cfg->settings, later);
    stand_in = gre_settings_copy(cfg->settings);
    for (guint i = 0; i < n; i++) {
        const GreSuiteInfo *suite = gre_suite_info(stand_in->suite);
        gboolean            psk   = later[i] == GRE_KEY_IKE_PSK;
        gboolean auth = later[i] == GRE_KEY_AUTH_KEY_IN || later[i] == GRE_KEY_AUTH_KEY_OUT;
        guint len = psk ? GRE_IKE_PSK_MIN : 2 * (auth ? suite->auth_key_len : suite->enc_key_len);
        g_autofree char *fill = g_strnfill(len, '0');

        gre_key_set(gre_key_info(later[i]), stand_in, fill, NULL);
    }
    real          = cfg->settings;
    cfg->settings = stand_in;
    ok            = gre_ifcfg_validate(cfg, warnings, error);
    cfg->settings = real;
    if (!ok)
        return NULL;
    for (guint i = 0; warnings && i < n; i++) {
        const GreKeyInfo *key = gre_key_info(later[i]);

        g_ptr_array_add(
            warnings,
            g_strdup_printf(_("%s: %s: not there, so it is a secret to be supplied later: "
                              "NetworkManager asks an agent for it when the connection comes up "
                              "(e.g. `nmcli --ask connection up`), or save it with the connection "
                              "(vpn.secrets %s); without it the activation fails"),
                            cfg->keys_path, key->ifcfg, key->nm));
    }
    return g_steal_pointer(&cfg);
}

NMConnection *
gre_nm_import(const char *path, GPtrArray *warnings, GError **error)
{
    g_autoptr(GreIfcfg) cfg      = load_for_import(path, warnings, error);
    g_autoptr(NMConnection) conn = NULL;
    g_autofree char     *uuid    = NULL;
    g_autofree char     *id      = NULL;
    const char          *given;
    NMSettingConnection *s_con = NULL;
    NMSettingVpn        *s_vpn = NULL;
    NMSetting           *s_ip4 = NULL;
    NMSetting           *s_ip6 = NULL;

    if (!cfg) {
        /* nmcli prints this as it is, and it may quote what a hostile file held. */
        if (error && *error) {
            char *shown = gre_error_display((*error)->message);

            g_free((*error)->message);
            (*error)->message = shown;
        }
        return NULL;
    }
    for (guint i = 0; warnings && i < warnings->len; i++) {
        char *shown = gre_error_display(warnings->pdata[i]);

        g_free(warnings->pdata[i]);
        warnings->pdata[i] = shown;
    }

    /* Named as NetworkManager's own ifcfg reader names a network-scripts file: NAME=, else
     * "System DEVICE". Not the bare device name: while the tunnel is up NetworkManager also
     * lists the tunnel link under a connection of that name, and `nmcli connection down gre1`
     * would then have two to choose from. */
    given = gre_shvar_file_get(cfg->ifcfg, "NAME");
    id    = given && *given ? g_strdup(given) : g_strdup_printf("System %s", cfg->settings->name);
    conn  = nm_simple_connection_new();
    uuid  = nm_utils_uuid_generate();
    s_con = NM_SETTING_CONNECTION(nm_setting_connection_new());
    g_object_set(s_con, NM_SETTING_CONNECTION_ID, id, NM_SETTING_CONNECTION_UUID, uuid,
                 NM_SETTING_CONNECTION_TYPE, NM_SETTING_VPN_SETTING_NAME, NULL);
    nm_connection_add_setting(conn, NM_SETTING(s_con));

    s_vpn = NM_SETTING_VPN(nm_setting_vpn_new());
    g_object_set(s_vpn, NM_SETTING_VPN_SERVICE_TYPE, GRE_NM_SERVICE_TYPE, NULL);
    gre_nm_settings_to_vpn(cfg->settings, s_vpn);
    nm_connection_add_setting(conn, NM_SETTING(s_vpn));

    /* The service reports the inner addresses and routes; NetworkManager only takes them from a
     * VPN plugin when the method is auto. */
    s_ip4 = nm_setting_ip4_config_new();
    g_object_set(s_ip4, NM_SETTING_IP_CONFIG_METHOD, NM_SETTING_IP4_CONFIG_METHOD_AUTO, NULL);
    nm_connection_add_setting(conn, s_ip4);
    s_ip6 = nm_setting_ip6_config_new();
    g_object_set(s_ip6, NM_SETTING_IP_CONFIG_METHOD, NM_SETTING_IP6_CONFIG_METHOD_AUTO, NULL);
    nm_connection_add_setting(conn, s_ip6);

    return g_steal_pointer(&conn);
}

/* IPsec keys kept by an agent, or never saved, are not in the connection NetworkManager hands
 * over for export. The tunnel is still exported, without keys-NAME: validation is run on a copy
 * whose missing keys are stand-ins of the right size, and those are never written anywhere. */
static GreSettings *
settings_for_export(NMSettingVpn *s_vpn, gboolean *without_keys, GError **error)
{
    g_autofree const char **missing = gre_nm_missing_secrets(s_vpn);
    g_autoptr(NMSetting) copy       = NULL;
    const GreSuiteInfo *suite;
    const char         *name;

    *without_keys = FALSE;
    if (!missing[0])
        return gre_nm_settings_from_vpn(s_vpn, error);
    name  = nm_setting_vpn_get_data_item(s_vpn, "ipsec-suite");
    suite = gre_suite_lookup(name ? name : gre_key_info(GRE_KEY_SUITE)->def);
    if (!suite)
        return gre_nm_settings_from_vpn(s_vpn, error); /* it names the bad suite */
    copy = nm_setting_duplicate(NM_SETTING(s_vpn));
    for (guint i = 0; missing[i]; i++) {
        gboolean auth = g_str_has_prefix(missing[i], "auth-");
        gboolean psk  = g_str_equal(missing[i], gre_key_info(GRE_KEY_IKE_PSK)->nm);
        guint    len  = psk ? GRE_IKE_PSK_MIN : auth ? suite->auth_key_len : suite->enc_key_len;
        g_autofree char *hex = g_strnfill(psk ? len : 2 * len, '0');

        nm_setting_vpn_add_secret(NM_SETTING_VPN(copy), missing[i], hex);
    }
    *without_keys = TRUE;
    return gre_nm_settings_from_vpn(NM_SETTING_VPN(copy), error);
}

gboolean
gre_nm_export(NMConnection *connection, const char *path, GError **error)
{
    NMSettingVpn *s_vpn           = nm_connection_get_setting_vpn(connection);
    g_autoptr(GreSettings) s      = NULL;
    g_autofree char *text         = NULL;
    g_autofree char *name         = NULL;
    g_autofree char *body         = NULL;
    g_autofree char *keys         = NULL;
    g_autofree char *kpath        = NULL;
    gboolean         without_keys = FALSE;
    gboolean         ok;

    if (!s_vpn || g_strcmp0(nm_setting_vpn_get_service_type(s_vpn), GRE_NM_SERVICE_TYPE) != 0) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_INVALID,
                    _("connection \"%s\" is not a GRE tunnel (vpn.service-type is not %s)"),
                    nm_connection_get_id(connection), GRE_NM_SERVICE_TYPE);
        return FALSE;
    }
    if (!(s = settings_for_export(s_vpn, &without_keys, error))) {
        g_prefix_error(error, _("cannot export \"%s\":\n"), nm_connection_get_id(connection));
        return FALSE;
    }
    /* NAME= keeps the connection's name for the next import (network-scripts ignores it). */
    name = gre_shvar_escape(nm_connection_get_id(connection) ? nm_connection_get_id(connection)
                                                             : s->name);
    body = gre_ifcfg_format(s);
    text = g_strdup_printf("NAME=%s\n%s", name, body);
    /* The IKE PSK is never exported (issue 10): it stays with NetworkManager or the agent, and
     * the file's user puts a keys-NAME with IKE_PSK beside it (`gre-tunnel keygen` makes one;
     * the peer's must hold the same). Manual ESP keys go to keys-NAME, 0600, as before. */
    keys  = without_keys || s->ipsec == GRE_IPSEC_IKE ? NULL : gre_ifcfg_format_keys(s);
    kpath = gre_ifcfg_keys_path(path, s->name);
    /* The secrets first: an ifcfg that needs keys-NAME never appears without it. */
    if (keys) {
        ok = gre_write_file_atomic(kpath, keys, 0600, TRUE, error);
        explicit_bzero(keys, strlen(keys));
        if (!ok)
            return FALSE;
    }
    return gre_write_file_atomic(path, text, 0644, TRUE, error);
}

char *
gre_nm_suggested_filename(NMConnection *connection)
{
    NMSettingVpn *s_vpn  = nm_connection_get_setting_vpn(connection);
    const char   *device = s_vpn ? nm_setting_vpn_get_data_item(s_vpn, "device") : NULL;

    if (!device || !*device)
        device = nm_connection_get_id(connection);
    if (!device || !*device)
        return NULL;
    /* A connection id is free text; a file name is not. */
    return g_strdelimit(g_strconcat("ifcfg-", device, NULL), "/", '_');
}
