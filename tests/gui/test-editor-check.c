/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The editor's toolkit-free check: which keys it marks, what the message says, and that keys
 * the user supplies at connect time do not block saving.
 */
#include "gre-editor-check.h"

#include <string.h>
#include <sys/socket.h>

#define KEY_IN "0x000102030405060708090a0b0c0d0e0f10111213"

static NMSettingVpn *
base(void)
{
    NMSettingVpn *s_vpn = NM_SETTING_VPN(nm_setting_vpn_new());

    nm_setting_vpn_add_data_item(s_vpn, "device", "gre-test1");
    nm_setting_vpn_add_data_item(s_vpn, "remote", "192.0.2.2");
    nm_setting_vpn_add_data_item(s_vpn, "inner-address", "198.51.100.1/30");
    return s_vpn;
}

static GHashTable *
new_set(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

static void
test_valid(void)
{
    g_autoptr(NMSettingVpn) s_vpn = base();
    g_autoptr(GHashTable) bad     = new_set();
    g_autoptr(GError) error       = NULL;
    GreSettings *s                = NULL;

    g_assert_true(gre_editor_check(s_vpn, bad, &s, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(g_hash_table_size(bad), ==, 0);
    g_assert_cmpint(gre_settings_outer_family(s), ==, AF_INET);
    gre_settings_free(s);
}

static void
test_every_bad_key_named(void)
{
    g_autoptr(NMSettingVpn) s_vpn = base();
    g_autoptr(GHashTable) bad     = new_set();
    g_autoptr(GError) error       = NULL;
    GreSettings *s                = NULL;

    /* Two values that do not parse, one that parses but does not validate. */
    nm_setting_vpn_add_data_item(s_vpn, "remote", "192.0.2.300");
    nm_setting_vpn_add_data_item(s_vpn, "ttl", "300");
    nm_setting_vpn_add_data_item(s_vpn, "spi-in", "12");
    nm_setting_vpn_add_data_item(s_vpn, "ipsec", "manual");
    g_assert_false(gre_editor_check(s_vpn, bad, &s, &error));
    g_assert_true(g_hash_table_contains(bad, "remote"));
    g_assert_true(g_hash_table_contains(bad, "ttl"));
    g_assert_true(g_hash_table_contains(bad, "spi-in"));
    g_assert_true(g_hash_table_contains(bad, "esp-key-in"));
    g_assert_false(g_hash_table_contains(bad, "device"));
    g_assert_nonnull(strstr(error->message, "vpn.data: remote: "));
    g_assert_nonnull(strstr(error->message, "vpn.data: ttl: "));
    g_assert_nonnull(strstr(error->message, "vpn.secrets: esp-key-in: "));
    /* A key that did not parse is not reported twice ("missing" after "not an address"). */
    g_assert_null(strstr(strstr(error->message, "vpn.data: remote: ") + 1, "vpn.data: remote: "));
    /* What parsed is still there for the MTU hint. */
    g_assert_nonnull(s);
    gre_settings_free(s);
}

static void
test_unheld_secrets(void)
{
    g_autoptr(NMSettingVpn) s_vpn = base();
    g_autoptr(GHashTable) bad     = new_set();
    g_autoptr(GError) error       = NULL;

    nm_setting_vpn_add_data_item(s_vpn, "ipsec", "manual");
    nm_setting_vpn_add_data_item(s_vpn, "ipsec-suite", "aes128-sha256");
    nm_setting_vpn_add_data_item(s_vpn, "spi-in", "0x1000");
    nm_setting_vpn_add_data_item(s_vpn, "spi-out", "0x1001");
    /* Agent-owned, not saved, not required: none is held, none blocks saving. */
    nm_setting_set_secret_flags(NM_SETTING(s_vpn), "esp-key-in", NM_SETTING_SECRET_FLAG_AGENT_OWNED,
                                NULL);
    nm_setting_set_secret_flags(NM_SETTING(s_vpn), "esp-key-out", NM_SETTING_SECRET_FLAG_NOT_SAVED,
                                NULL);
    nm_setting_set_secret_flags(NM_SETTING(s_vpn), "auth-key-in",
                                NM_SETTING_SECRET_FLAG_NOT_REQUIRED, NULL);
    nm_setting_set_secret_flags(NM_SETTING(s_vpn), "auth-key-out",
                                NM_SETTING_SECRET_FLAG_AGENT_OWNED, NULL);
    g_assert_true(gre_editor_check(s_vpn, bad, NULL, &error));
    g_assert_no_error(error);

    /* A key the system stores must be there, and of the suite's length. */
    nm_setting_set_secret_flags(NM_SETTING(s_vpn), "esp-key-in", NM_SETTING_SECRET_FLAG_NONE, NULL);
    g_assert_false(gre_editor_check(s_vpn, bad, NULL, &error));
    g_assert_true(g_hash_table_contains(bad, "esp-key-in"));
    g_clear_error(&error);
    g_hash_table_remove_all(bad);
    nm_setting_vpn_add_secret(s_vpn, "esp-key-in", KEY_IN); /* 20 bytes; the suite wants 16 */
    g_assert_false(gre_editor_check(s_vpn, bad, NULL, &error));
    g_assert_true(g_hash_table_contains(bad, "esp-key-in"));
    g_assert_null(strstr(error->message, "0a0b0c"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/editor-check/valid", test_valid);
    g_test_add_func("/editor-check/every-bad-key-named", test_every_bad_key_named);
    g_test_add_func("/editor-check/unheld-secrets", test_unheld_secrets);
    return g_test_run();
}
