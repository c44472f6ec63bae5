/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "gre-nm-data.h"
#include "test-util.h"

/* The .name file as NetworkManager and nmcli read it, through libnm. */
static void
test_name_file(void)
{
    g_autofree char *path =
        g_build_filename(g_getenv("GRE_BUILDDIR"), "nm-plugin", "nm-gre-service.name", NULL);
    g_autoptr(GError) error         = NULL;
    g_autoptr(NMVpnPluginInfo) info = nm_vpn_plugin_info_new_from_file(path, &error);
    const char *program;

    g_assert_no_error(error);
    g_assert_cmpstr(nm_vpn_plugin_info_get_name(info), ==, "gre");
    g_assert_cmpstr(nm_vpn_plugin_info_get_service(info), ==, GRE_NM_SERVICE_TYPE);
    g_assert_cmpstr(nm_vpn_plugin_info_get_plugin(info), ==, "libnm-vpn-plugin-gre.so");
    program = nm_vpn_plugin_info_get_program(info);
    g_assert_true(g_path_is_absolute(program));
    g_assert_true(g_str_has_suffix(program, "/nm-gre-service"));
    g_assert_true(
        g_str_has_suffix(nm_vpn_plugin_info_get_auth_dialog(info), "/nm-gre-auth-dialog"));
    g_assert_true(nm_vpn_plugin_info_supports_multiple(info));
    g_assert_true(nm_vpn_plugin_info_supports_hints(info));
    g_assert_cmpstr(nm_vpn_plugin_info_lookup_property(info, "VPN Connection",
                                                       "supports-safe-private-file-access"),
                    ==, "true");
    g_assert_cmpstr(nm_vpn_plugin_info_lookup_property(info, "GNOME", "supports-external-ui-mode"),
                    ==, "true");
}

typedef struct {
    GString *root, *deflt, *current;
} Policy;

static void
start_element(GMarkupParseContext *ctx, const char *element, const char **names,
              const char **values, gpointer user_data, GError **error)
{
    Policy *p = user_data;

    (void)ctx;
    (void)error;
    if (strcmp(element, "policy") == 0) {
        for (guint i = 0; names[i]; i++) {
            if (strcmp(names[i], "user") == 0 && strcmp(values[i], "root") == 0)
                p->current = p->root;
            if (strcmp(names[i], "context") == 0 && strcmp(values[i], "default") == 0)
                p->current = p->deflt;
        }
        return;
    }
    if (p->current && (strcmp(element, "allow") == 0 || strcmp(element, "deny") == 0)) {
        for (guint i = 0; names[i]; i++)
            g_string_append_printf(p->current, "%s %s=%s\n", element, names[i], values[i]);
    }
}

static void
end_element(GMarkupParseContext *ctx, const char *element, gpointer user_data, GError **error)
{
    (void)ctx;
    (void)error;
    if (strcmp(element, "policy") == 0)
        ((Policy *)user_data)->current = NULL;
}

/* Only root may own the service names (all of them: Connection_N too) or talk to them. */
static void
test_dbus_policy(void)
{
    g_autofree char *path       = NULL;
    g_autofree char *text       = NULL;
    g_autoptr(GString) root     = g_string_new(NULL);
    g_autoptr(GString) deflt    = g_string_new(NULL);
    Policy               p      = { root, deflt, NULL };
    GMarkupParser        parser = { start_element, end_element, NULL, NULL, NULL };
    GMarkupParseContext *ctx    = NULL;
    g_autoptr(GError) error     = NULL;
    const char *doc;

    path = g_build_filename(g_getenv("GRE_SRCDIR"), "nm-plugin", "nm-gre-service.conf", NULL);
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    /* GMarkup does not read DOCTYPEs; the policy starts at <busconfig>. */
    doc = strstr(text, "<busconfig>");
    g_assert_nonnull(doc);
    ctx = g_markup_parse_context_new(&parser, 0, &p, NULL);
    g_assert_true(g_markup_parse_context_parse(ctx, doc, -1, &error));
    g_assert_true(g_markup_parse_context_end_parse(ctx, &error));
    g_assert_no_error(error);
    g_markup_parse_context_free(ctx);
    g_assert_cmpstr(root->str, ==,
                    "allow own_prefix=org.freedesktop.NetworkManager.gre\n"
                    "allow send_destination_prefix=org.freedesktop.NetworkManager.gre\n");
    g_assert_cmpstr(deflt->str, ==,
                    "deny own_prefix=org.freedesktop.NetworkManager.gre\n"
                    "deny send_destination_prefix=org.freedesktop.NetworkManager.gre\n");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/nm-service-files/name", test_name_file);
    g_test_add_func("/nm-service-files/dbus-policy", test_dbus_policy);
    return g_test_run();
}
