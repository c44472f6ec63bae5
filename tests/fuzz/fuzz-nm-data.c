/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpn.data and vpn.secrets as nm-gre-service receives them: the connection arrives over D-Bus as
 * a{sa{sv}} and is rebuilt by nm_simple_connection_new_from_dbus(). The bytes are lines:
 * "KEY=VALUE" goes to vpn.data, "!KEY=VALUE" to vpn.secrets, "@NAME" names the connection; lines
 * that D-Bus could not carry (not UTF-8) are dropped. Then what Connect does: parse and validate
 * (gre_nm_settings_from_vpn), plan, the IP configuration for NetworkManager, the steps the
 * service keeps, and the ip(8) lines; and what NeedSecrets does (gre_nm_missing_secrets).
 * A connection with every secret is exported as the editor plugin does (gre_nm_export) and
 * imported again (gre_nm_import): the same name and the same plan.
 */
#include <string.h>
#include <unistd.h>

#include "fuzz-util.h"
#include "gre-nm-config.h"
#include "gre-nm-data.h"
#include "gre-nm-file.h"
#include "gre-nm-plan.h"
#include "gre-settings-table.h"
#include "gre-shvar.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    return 0;
}

static NMConnection *
connection_from(const uint8_t *data, size_t size)
{
    g_autofree char *text    = g_strndup((const char *)data, size);
    g_auto(GStrv) lines      = g_strsplit(text, "\n", -1);
    g_autoptr(GVariant) dict = NULL;
    GVariantBuilder con, vpn, vdata, vsecrets, all;
    const char     *id = "fz";

    g_variant_builder_init(&vdata, G_VARIANT_TYPE("a{ss}"));
    g_variant_builder_init(&vsecrets, G_VARIANT_TYPE("a{ss}"));
    for (guint i = 0; lines[i]; i++) {
        const char      *line = lines[i];
        const char      *eq;
        gboolean         secret = line[0] == '!';
        g_autofree char *key    = NULL;

        if (!g_utf8_validate(line, -1, NULL))
            continue;
        if (line[0] == '@') {
            id = line + 1;
            continue;
        }
        if (secret)
            line++;
        if (!(eq = strchr(line, '=')))
            continue;
        key = g_strndup(line, eq - line);
        g_variant_builder_add(secret ? &vsecrets : &vdata, "{ss}", key, eq + 1);
    }
    g_variant_builder_init(&con, G_VARIANT_TYPE("a{sv}"));
    g_variant_builder_add(&con, "{sv}", "id", g_variant_new_string(id));
    g_variant_builder_add(&con, "{sv}", "uuid",
                          g_variant_new_string("3c0d7a5e-6d0b-4a3e-9f43-2f5f3b1a9e01"));
    g_variant_builder_add(&con, "{sv}", "type", g_variant_new_string("vpn"));
    g_variant_builder_init(&vpn, G_VARIANT_TYPE("a{sv}"));
    g_variant_builder_add(&vpn, "{sv}", "service-type", g_variant_new_string(GRE_NM_SERVICE_TYPE));
    g_variant_builder_add(&vpn, "{sv}", "data", g_variant_builder_end(&vdata));
    g_variant_builder_add(&vpn, "{sv}", "secrets", g_variant_builder_end(&vsecrets));
    g_variant_builder_init(&all, G_VARIANT_TYPE("a{sa{sv}}"));
    g_variant_builder_add(&all, "{s@a{sv}}", "connection", g_variant_builder_end(&con));
    g_variant_builder_add(&all, "{s@a{sv}}", "vpn", g_variant_builder_end(&vpn));
    dict = g_variant_ref_sink(g_variant_builder_end(&all));
    return nm_simple_connection_new_from_dbus(dict, NULL);
}

/* An export never carries the IKE PSK (by design: the file may travel); whoever imports it puts
 * the key into keys-NAME, as the import's error says. Do that here, so that the round trip
 * compares everything else. */
static void
supply_psk(NMSettingVpn *s_vpn)
{
    const char      *psk  = nm_setting_vpn_get_secret(s_vpn, gre_key_info(GRE_KEY_IKE_PSK)->nm);
    const char      *mode = nm_setting_vpn_get_data_item(s_vpn, gre_key_info(GRE_KEY_IPSEC)->nm);
    const char      *auth = nm_setting_vpn_get_data_item(s_vpn, gre_key_info(GRE_KEY_IKE_AUTH)->nm);
    g_autofree char *old  = NULL;
    g_autofree char *val  = NULL;
    g_autofree char *text = NULL;
    g_autofree char *keys = g_build_filename(fuzz_dir(), "keys-nm", NULL);

    /* The reader takes the words in any case ("iKe"). */
    if (!psk || !mode || g_ascii_strcasecmp(mode, "ike") != 0 ||
        (auth && g_ascii_strcasecmp(auth, "cert") == 0))
        return;
    g_file_get_contents(keys, &old, NULL, NULL);
    val  = gre_shvar_escape(psk);
    text = g_strdup_printf("%s%s=%s\n", old ? old : "", gre_key_info(GRE_KEY_IKE_PSK)->ifcfg, val);
    g_free(fuzz_write("keys-nm", text, strlen(text), 0600));
}

static void
export_import(NMConnection *conn, const char *lines)
{
    g_autoptr(GError) error       = NULL;
    g_autoptr(NMConnection) again = NULL;
    g_autoptr(GreSettings) s      = NULL;
    g_autofree char *path         = g_build_filename(fuzz_dir(), "ifcfg-nm", NULL);
    g_autofree char *again_lines  = NULL;

    if (!gre_nm_export(conn, path, &error))
        g_error("fuzz: a valid connection is not exported: %s", error->message);
    supply_psk(nm_connection_get_setting_vpn(conn));
    again = gre_nm_import(path, NULL, &error);
    if (!again)
        g_error("fuzz: the exported file is not imported: %s", error->message);
    if (g_strcmp0(nm_connection_get_id(conn), nm_connection_get_id(again)) != 0)
        g_error("fuzz: exported as \"%s\", imported as \"%s\"", nm_connection_get_id(conn),
                nm_connection_get_id(again));
    s = gre_nm_settings_from_vpn(nm_connection_get_setting_vpn(again), &error);
    if (!s)
        g_error("fuzz: the imported connection is refused: %s", error->message);
    again_lines = fuzz_plan_render(s, NULL);
    if (g_strcmp0(lines, again_lines) != 0)
        g_error("fuzz: exported and imported, it plans differently:\n%s\n---\n%s",
                lines ? lines : "", again_lines ? again_lines : "");
    unlink(path);
    fuzz_remove("keys-nm");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(NMConnection) conn    = connection_from(data, size);
    g_autoptr(GError) error         = NULL;
    g_autoptr(GreSettings) s        = NULL;
    g_autoptr(GrePlan) plan         = NULL;
    g_autofree const char **missing = NULL;
    g_autofree char        *lines   = NULL;
    NMSettingVpn           *s_vpn;

    if (!conn || !(s_vpn = nm_connection_get_setting_vpn(conn)))
        return 0;
    missing = gre_nm_missing_secrets(s_vpn);
    s       = gre_nm_settings_from_vpn(s_vpn, &error);
    if (!s) {
        if (!error || !*error->message)
            g_error("fuzz: refused without a message");
        return 0;
    }
    lines = fuzz_plan_render(s, &plan);
    if (plan) {
        g_autoptr(GVariant) generic = g_variant_ref_sink(gre_nm_config_generic(plan));
        g_autoptr(GVariant) ip4     = gre_nm_config_ip(plan, AF_INET);
        g_autoptr(GVariant) ip6     = gre_nm_config_ip(plan, AF_INET6);
        g_autoptr(GPtrArray) up     = NULL;

        if (!g_variant_is_of_type(generic, G_VARIANT_TYPE_VARDICT))
            g_error("fuzz: the configuration for NetworkManager is %s",
                    g_variant_get_type_string(generic));
        if (ip4)
            g_variant_ref_sink(ip4);
        if (ip6)
            g_variant_ref_sink(ip6);
        gre_nm_plan_tunnel_only(plan);
        up = gre_plan_render_up(plan, FALSE);
        if (up->len == 0)
            g_error("fuzz: the service would create nothing");
    }
    if (lines && (!missing || !missing[0]))
        export_import(conn, lines);
    return 0;
}
