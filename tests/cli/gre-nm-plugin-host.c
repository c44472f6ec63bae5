/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A stand-in for nmcli, for test-i18n.sh: a program with the locale of its environment that
 * loads the GRE editor plugin by path and prints what nmcli would show of it.
 *
 * Usage: gre-nm-plugin-host PLUGIN.so IFCFG
 * Prints "name: ", "description: ", "import: " (the error importing IFCFG), "export: " (the
 * error exporting a connection of another VPN type) and "domain: " (the program's default text
 * domain afterwards, which a plugin must leave alone).
 */
#include <NetworkManager.h>
#include <libintl.h>
#include <locale.h>
#include <stdio.h>

#define GRE_SERVICE "org.freedesktop.NetworkManager.gre"

/* A connection of another VPN type, as nmcli would hand it to export. */
static NMConnection *
openvpn_connection(void)
{
    NMConnection *conn  = nm_simple_connection_new();
    NMSetting    *s_con = nm_setting_connection_new();
    NMSetting    *s_vpn = nm_setting_vpn_new();

    g_object_set(s_con, NM_SETTING_CONNECTION_ID, "office", NM_SETTING_CONNECTION_TYPE,
                 NM_SETTING_VPN_SETTING_NAME, NULL);
    g_object_set(s_vpn, NM_SETTING_VPN_SERVICE_TYPE, "org.freedesktop.NetworkManager.openvpn",
                 NULL);
    nm_connection_add_setting(conn, s_con);
    nm_connection_add_setting(conn, s_vpn);
    return conn;
}

int
main(int argc, char **argv)
{
    g_autoptr(NMVpnEditorPlugin) plugin = NULL;
    g_autoptr(NMConnection) conn        = NULL;
    g_autoptr(NMConnection) other       = NULL;
    g_autoptr(GError) error             = NULL;
    g_autofree char *name               = NULL;
    g_autofree char *description        = NULL;

    if (argc != 3) {
        fprintf(stderr, "usage: %s PLUGIN.so IFCFG\n", argv[0]);
        return 2;
    }
    /* As nmcli starts: the locale from the environment. */
    setlocale(LC_ALL, "");
    plugin = nm_vpn_editor_plugin_load_from_file(argv[1], GRE_SERVICE, -1, NULL, NULL, &error);
    if (!plugin) {
        fprintf(stderr, "%s: %s\n", argv[1], error->message);
        return 1;
    }
    g_object_get(plugin, NM_VPN_EDITOR_PLUGIN_NAME, &name, NM_VPN_EDITOR_PLUGIN_DESCRIPTION,
                 &description, NULL);
    printf("name: %s\ndescription: %s\n", name, description);

    conn = nm_vpn_editor_plugin_import(plugin, argv[2], &error);
    printf("import: %s\n", conn ? "imported" : error->message);
    g_clear_error(&error);

    /* Refused before anything is written. */
    other = openvpn_connection();
    if (nm_vpn_editor_plugin_export(plugin, "/nonexistent/ifcfg-office", other, &error))
        printf("export: exported\n");
    else
        printf("export: %s\n", error->message);

    printf("domain: %s\n", textdomain(NULL));
    return 0;
}
