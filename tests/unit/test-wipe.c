/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Key material is wiped before its memory is freed, on the paths we own: the settings readers
 * (file buffer, unquoted values, hex decoding), secret GBytes, the keys-file writer, mirror,
 * keygen and the NetworkManager vpn.data/vpn.secrets parser. wipe-watch.c sees every free() of
 * the process and counts blocks that still hold a key, raw or as hex text.
 * Outside our control, and so not watched: the copies GLib makes of the strings in GError
 * messages (never a key), libnm's own copies of vpn.secrets, NetworkManager's secret storage.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gre-auth-secrets.h"
#include "gre-ifcfg.h"
#include "gre-keygen.h"
#include "gre-mirror.h"
#include "gre-nm-data.h"
#include "gre-plan.h"
#include "gre-settings-table.h"
#include "test-util.h"
#include "wipe-watch.h"

/* Four distinctive 32-byte keys (aes256-sha256 needs 32-byte cipher and HMAC keys). */
static guint8 keys[4][32];
static char   hex[4][65];

static void
make_keys(void)
{
    for (guint k = 0; k < 4; k++) {
        for (guint i = 0; i < 32; i++) {
            keys[k][i] = (guint8)(0x5a ^ (k * 37 + i * 11 + 3));
            g_snprintf(&hex[k][2 * i], 3, "%02x", keys[k][i]);
        }
    }
}

/* Watch for every key, raw (16 bytes) and as hex text (32 digits). */
static void
watch_keys(void)
{
    for (guint k = 0; k < 4; k++) {
        wipe_watch_add(keys[k], 16);
        wipe_watch_add(hex[k], 32);
    }
}

static char *
write_end(const char *keys_extra)
{
    g_autofree char *dir  = g_dir_make_tmp("test-wipe-XXXXXX", NULL);
    g_autofree char *cfg  = g_build_filename(dir, "ifcfg-w", NULL);
    g_autofree char *kp   = g_build_filename(dir, "keys-w", NULL);
    g_autofree char *text = g_strdup_printf("KEY_ESP_IN=0x%s\nKEY_ESP_OUT=%s\nKEY_AESP_IN=0x%s\n"
                                            "KEY_AESP_OUT=\"0x%s\"\n%s",
                                            hex[0], hex[1], hex[2], hex[3], keys_extra);

    g_assert_true(g_file_set_contents(cfg,
                                      "DEVICE=w\nMY_OUTER_IPADDR=192.0.2.1\n"
                                      "PEER_OUTER_IPADDR=192.0.2.2\n"
                                      "MY_INNER_IPADDR=198.51.100.1/30\n"
                                      "PEER_INNER_IPADDR=198.51.100.2\nIPSEC=manual\n"
                                      "IPSEC_SUITE=aes256-sha256\nSPI_ESP_IN=0x1001\n"
                                      "SPI_ESP_OUT=0x1002\n",
                                      -1, NULL));
    g_assert_true(g_file_set_contents_full(kp, text, -1, G_FILE_SET_CONTENTS_NONE, 0600, NULL));
    return g_steal_pointer(&cfg);
}

/* The watch itself: an unwiped copy is seen, whether we free it or GLib does. */
static void
test_watch(void)
{
    GString *s;

    watch_keys();
    wipe_watch_start();
    g_free(g_strdup(hex[0]));
    g_assert_cmpuint(wipe_watch_stop(), ==, 1);

    watch_keys();
    wipe_watch_start();
    s = g_string_new(hex[1]);
    g_string_free(s, TRUE);
    g_assert_cmpuint(wipe_watch_stop(), ==, 1);

    /* A GBytes with GLib's own free function keeps the key in freed memory. */
    watch_keys();
    wipe_watch_start();
    g_bytes_unref(g_bytes_new(keys[2], 32));
    g_assert_cmpuint(wipe_watch_stop(), ==, 1);
}

static void
test_wipe_free(void)
{
    watch_keys();
    wipe_watch_start();
    gre_wipe_free(g_strdup(hex[0]));
    {
        g_auto(GreWipedString) s = g_strdup(hex[1]);
        (void)s;
    }
    g_assert_cmpuint(wipe_watch_frees(), >=, 2);
    g_assert_cmpuint(wipe_watch_stop(), ==, 0);
}

/* gre_secret_new's GBytes wipes its copy when the last reference goes. */
static void
test_secret_bytes(void)
{
    GBytes *b;

    watch_keys();
    wipe_watch_start();
    b = gre_secret_new(keys[0], 32);
    g_bytes_ref(b);
    g_bytes_unref(b);
    g_bytes_unref(b);
    g_assert_cmpuint(wipe_watch_frees(), >=, 1);
    g_assert_cmpuint(wipe_watch_stop(), ==, 0);
}

/* ifcfg-NAME and keys-NAME read, parsed (quoted values too), validated and freed. */
static void
test_ifcfg_load(void)
{
    g_autofree char *path   = write_end("");
    g_autoptr(GError) error = NULL;
    GreIfcfg *cfg;

    watch_keys();
    wipe_watch_start();
    cfg = gre_ifcfg_load(path, NULL, &error);
    g_assert_no_error(error);
    g_assert_nonnull(cfg);
    g_assert_cmpuint(g_bytes_get_size(cfg->settings->auth_key_out), ==, 32);
    gre_ifcfg_free(cfg);
    g_assert_cmpuint(wipe_watch_frees(), >=, 10);
    g_assert_cmpuint(wipe_watch_stop(), ==, 0);
}

/* A keys file that fails to parse half-way, and a key that is not hex. */
static void
test_ifcfg_errors(void)
{
    g_autofree char *path    = write_end("KEY_ESP_IN=$(true)\n");
    g_autoptr(GError) error  = NULL;
    g_autoptr(GreSettings) s = gre_settings_new();
    g_autofree char *bad     = g_strconcat("0x", hex[0], "zz", NULL);

    watch_keys();
    wipe_watch_start();
    g_assert_null(gre_ifcfg_load(path, NULL, &error));
    g_assert_nonnull(error);
    g_clear_error(&error);
    g_assert_false(gre_key_set(gre_key_info(GRE_KEY_ENC_KEY_IN), s, bad, &error));
    g_clear_error(&error);
    g_assert_cmpuint(wipe_watch_stop(), ==, 0);
}

static GreSettings *
load(const char *path)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GreIfcfg) cfg = gre_ifcfg_load(path, NULL, &error);

    g_assert_no_error(error);
    return gre_settings_copy(cfg->settings);
}

/* Writing keys: the keys file text, mirror (its copy of the keys, its files), check. */
static void
test_write_paths(void)
{
    g_autofree char *path    = write_end("");
    g_autofree char *out     = g_dir_make_tmp("test-wipe-out-XXXXXX", NULL);
    g_autoptr(GreSettings) s = load(path);
    g_autoptr(GError) error  = NULL;
    GreSettings *m;
    char        *text;

    watch_keys();
    wipe_watch_start();
    text = gre_ifcfg_format_keys(s);
    g_assert_nonnull(strstr(text, hex[3]));
    gre_wipe_free(text);
    m = gre_mirror(s, &error);
    g_assert_no_error(error);
    g_assert_true(gre_check(s, "a", m, "b", NULL, NULL));
    g_assert_true(gre_ifcfg_write(m, out, FALSE, &error));
    g_assert_no_error(error);
    for (guint i = GRE_KEY_ENC_KEY_IN; i <= GRE_KEY_AUTH_KEY_OUT; i++)
        gre_wipe_free(gre_key_get(gre_key_info(i), m));
    gre_settings_free(m);
    g_assert_cmpuint(wipe_watch_stop(), ==, 0);
}

/* gre-tunnel plan --show-secrets: the rendered lines, wiped by the caller. */
static void
test_plan_render(void)
{
    g_autofree char *path    = write_end("");
    g_autoptr(GreSettings) s = load(path);
    g_autoptr(GError) error  = NULL;
    GrePlanEnv env           = { 0 };
    GrePlan   *plan;
    GPtrArray *lines;
    gboolean   shown = FALSE;

    env.route_mtu = 1500;
    watch_keys();
    wipe_watch_start();
    plan = gre_plan_build(s, &env, &error);
    g_assert_no_error(error);
    lines = gre_plan_render_up(plan, TRUE);
    for (guint i = 0; i < lines->len; i++) {
        shown = shown || strstr(lines->pdata[i], hex[3]);
        explicit_bzero(lines->pdata[i], strlen(lines->pdata[i]));
    }
    g_assert_true(shown);
    g_ptr_array_unref(lines);
    gre_plan_free(plan);
    g_assert_cmpuint(wipe_watch_stop(), ==, 0);
}

/* keygen's fresh keys, formatted and freed. */
static void
test_keygen(void)
{
    g_autofree char *path = write_end("");
    GreSettings     *s    = load(path);
    char            *text;

    g_assert_true(gre_keygen(s, NULL));
    for (guint i = GRE_KEY_ENC_KEY_IN; i <= GRE_KEY_AUTH_KEY_OUT; i++) {
        g_auto(GreWipedString) text_form = gre_key_get(gre_key_info(i), s);
        GBytes *raw                      = *(i == GRE_KEY_ENC_KEY_IN    ? &s->enc_key_in
                                             : i == GRE_KEY_ENC_KEY_OUT ? &s->enc_key_out
                                             : i == GRE_KEY_AUTH_KEY_IN ? &s->auth_key_in
                                                                        : &s->auth_key_out);

        wipe_watch_add(g_bytes_get_data(raw, NULL), 16);
        wipe_watch_add(text_form + 2, 32);
    }
    wipe_watch_start();
    text = gre_ifcfg_format_keys(s);
    gre_wipe_free(text);
    gre_settings_free(s);
    g_assert_cmpuint(wipe_watch_stop(), ==, 0);
}

/* NetworkManager's vpn.secrets: parsed into settings and written back. The NMSettingVpn objects
 * keep libnm's copies, which are not ours and are freed outside the watch. */
static void
test_nm(void)
{
    NMSettingVpn *in        = NM_SETTING_VPN(nm_setting_vpn_new());
    NMSettingVpn *out       = NM_SETTING_VPN(nm_setting_vpn_new());
    const char   *names[]   = { "esp-key-in", "esp-key-out", "auth-key-in", "auth-key-out" };
    g_autoptr(GError) error = NULL;
    GreSettings *s;

    g_object_set(in, NM_SETTING_VPN_SERVICE_TYPE, GRE_NM_SERVICE_TYPE, NULL);
    nm_setting_vpn_add_data_item(in, "device", "w");
    nm_setting_vpn_add_data_item(in, "remote", "192.0.2.2");
    nm_setting_vpn_add_data_item(in, "local", "192.0.2.1");
    nm_setting_vpn_add_data_item(in, "inner-address", "198.51.100.1/30");
    nm_setting_vpn_add_data_item(in, "ipsec", "manual");
    nm_setting_vpn_add_data_item(in, "ipsec-suite", "aes256-sha256");
    nm_setting_vpn_add_data_item(in, "spi-in", "0x1001");
    nm_setting_vpn_add_data_item(in, "spi-out", "0x1002");
    for (guint k = 0; k < 4; k++) {
        g_autofree char *v = g_strconcat("0x", hex[k], NULL);
        nm_setting_vpn_add_secret(in, names[k], v);
    }
    watch_keys();
    wipe_watch_start();
    s = gre_nm_settings_from_vpn(in, &error);
    g_assert_no_error(error);
    gre_nm_settings_to_vpn(s, out);
    gre_settings_free(s);
    g_assert_cmpuint(wipe_watch_stop(), ==, 0);
    g_assert_nonnull(nm_setting_vpn_get_secret(out, "auth-key-out"));
    g_object_unref(in);
    g_object_unref(out);
}

/* The auth dialog: the secrets NetworkManager hands over, and its list of them. (GKeyFile's
 * copies for nmcli's external UI, and GTK's entry buffers, are not ours and not watched.) */
static void
test_auth_dialog(void)
{
    GHashTable *data    = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    GHashTable *secrets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    const char *names[] = { "esp-key-in", "esp-key-out", "auth-key-in", "auth-key-out" };
    GPtrArray  *list;

    g_hash_table_insert(data, g_strdup("ipsec"), g_strdup("manual"));
    g_hash_table_insert(data, g_strdup("ipsec-suite"), g_strdup("aes256-sha256"));
    for (guint k = 0; k < 4; k++)
        g_hash_table_insert(secrets, g_strdup(names[k]), g_strconcat("0x", hex[k], NULL));
    watch_keys();
    wipe_watch_start();
    list = gre_auth_secrets_needed(data, secrets, FALSE);
    g_assert_cmpuint(list->len, ==, 4);
    g_ptr_array_unref(list);
    gre_auth_secrets_table_free(secrets);
    g_assert_cmpuint(wipe_watch_frees(), >=, 8);
    g_assert_cmpuint(wipe_watch_stop(), ==, 0);
    g_hash_table_unref(data);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    make_keys();
    g_test_add_func("/wipe/watch", test_watch);
    g_test_add_func("/wipe/wipe-free", test_wipe_free);
    g_test_add_func("/wipe/secret-bytes", test_secret_bytes);
    g_test_add_func("/wipe/ifcfg-load", test_ifcfg_load);
    g_test_add_func("/wipe/ifcfg-errors", test_ifcfg_errors);
    g_test_add_func("/wipe/write-paths", test_write_paths);
    g_test_add_func("/wipe/plan-render", test_plan_render);
    g_test_add_func("/wipe/keygen", test_keygen);
    g_test_add_func("/wipe/nm", test_nm);
    g_test_add_func("/wipe/auth-dialog", test_auth_dialog);
    return g_test_run();
}
