/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gre-error.h"
#include "gre-ifcfg.h"
#include "gre-nm-data.h"
#include "test-util.h"

/*
 * The editor plugin as its users load it: libnm's loader on the built .so, then the interface.
 * The .so is copied into a directory of its own, so no editor library sits beside it.
 */

static NMVpnEditorPlugin *plugin;
static char              *plugin_dir;

static void
load_plugin(void)
{
    const char      *build = g_getenv("GRE_BUILDDIR");
    g_autofree char *built = NULL;
    g_autofree char *copy  = NULL;
    g_autofree char *data  = NULL;
    gsize            len;
    g_autoptr(GError) error = NULL;

    g_assert_nonnull(build);
    built      = g_build_filename(build, "nm-plugin", "libnm-vpn-plugin-gre.so", NULL);
    plugin_dir = g_dir_make_tmp("gre-plugin-XXXXXX", NULL);
    copy       = g_build_filename(plugin_dir, "libnm-vpn-plugin-gre.so", NULL);
    g_assert_true(g_file_get_contents(built, &data, &len, NULL));
    g_assert_true(g_file_set_contents(copy, data, len, NULL));
    g_assert_cmpint(g_chmod(copy, 0755), ==, 0);
    plugin = nm_vpn_editor_plugin_load_from_file(copy, GRE_NM_SERVICE_TYPE, getuid(), NULL, NULL,
                                                 &error);
    g_assert_no_error(error);
    g_assert_nonnull(plugin);
}

static void
test_identity(void)
{
    g_autofree char *name    = NULL;
    g_autofree char *service = NULL;
    g_autofree char *desc    = NULL;

    g_object_get(plugin, NM_VPN_EDITOR_PLUGIN_NAME, &name, NM_VPN_EDITOR_PLUGIN_SERVICE, &service,
                 NM_VPN_EDITOR_PLUGIN_DESCRIPTION, &desc, NULL);
    g_assert_cmpstr(service, ==, "org.freedesktop.NetworkManager.gre");
    g_assert_cmpstr(name, ==, "GRE tunnel");
    g_assert_nonnull(strstr(desc, "IPsec"));
    g_assert_cmpint(nm_vpn_editor_plugin_get_capabilities(plugin), ==,
                    NM_VPN_EDITOR_PLUGIN_CAPABILITY_IMPORT |
                        NM_VPN_EDITOR_PLUGIN_CAPABILITY_EXPORT |
                        NM_VPN_EDITOR_PLUGIN_CAPABILITY_IPV6);
}

/* "key=value\n" for every vpn.data item, then "!key=value\n" for every secret. */
static char *
vpn_dump(NMConnection *conn)
{
    NMSettingVpn           *s_vpn = nm_connection_get_setting_vpn(conn);
    GString                *out   = g_string_new(NULL);
    g_autofree const char **data  = nm_setting_vpn_get_data_keys(s_vpn, NULL);
    g_autofree const char **sec   = nm_setting_vpn_get_secret_keys(s_vpn, NULL);

    for (guint i = 0; data && data[i]; i++)
        g_string_append_printf(out, "%s=%s\n", data[i],
                               nm_setting_vpn_get_data_item(s_vpn, data[i]));
    for (guint i = 0; sec && sec[i]; i++)
        g_string_append_printf(out, "!%s=%s\n", sec[i], nm_setting_vpn_get_secret(s_vpn, sec[i]));
    return g_string_free(out, FALSE);
}

static guint
file_mode(const char *path)
{
    struct stat st;

    g_assert_cmpint(g_stat(path, &st), ==, 0);
    return st.st_mode & 07777;
}

/* import -> export -> import keeps vpn.data and vpn.secrets for every example. */
static void
test_round_trip(void)
{
    g_autofree char *src = test_copy_data_dir("examples");
    g_autofree char *dst = g_dir_make_tmp("gre-export-XXXXXX", NULL);
    g_autoptr(GDir) d    = g_dir_open(src, 0, NULL);
    const char *name;
    guint       n = 0, with_keys = 0, with_ike = 0;

    while ((name = g_dir_read_name(d))) {
        g_autofree char *in        = g_build_filename(src, name, NULL);
        g_autofree char *out       = NULL;
        g_autofree char *keys      = NULL;
        g_autofree char *suggested = NULL;
        g_autofree char *id        = NULL;
        g_autofree char *dump_a    = NULL;
        g_autofree char *dump_b    = NULL;
        g_autoptr(GError) error    = NULL;
        g_autoptr(NMConnection) a  = NULL;
        g_autoptr(NMConnection) b  = NULL;
        NMSettingVpn *s_vpn;
        const char   *device;

        if (!g_str_has_prefix(name, "ifcfg-"))
            continue;
        a = nm_vpn_editor_plugin_import(plugin, in, &error);
        g_assert_no_error(error);
        g_assert_true(nm_connection_verify(a, &error));
        g_assert_no_error(error);
        s_vpn = nm_connection_get_setting_vpn(a);
        g_assert_cmpstr(nm_setting_vpn_get_service_type(s_vpn), ==, GRE_NM_SERVICE_TYPE);
        device = nm_setting_vpn_get_data_item(s_vpn, "device");
        /* No NAME= in the examples: named as NetworkManager's ifcfg reader would. */
        id = g_strdup_printf("System %s", device);
        g_assert_cmpstr(nm_connection_get_id(a), ==, id);
        g_assert_cmpstr(nm_connection_get_connection_type(a), ==, NM_SETTING_VPN_SETTING_NAME);

        suggested = nm_vpn_editor_plugin_get_suggested_filename(plugin, a);
        g_assert_cmpstr(suggested + strlen("ifcfg-"), ==, device);
        out = g_build_filename(dst, suggested, NULL);
        g_assert_true(nm_vpn_editor_plugin_export(plugin, out, a, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(file_mode(out), ==, 0644);
        keys = g_strdup_printf("%s/keys-%s", dst, device);
        if (g_strcmp0(nm_setting_vpn_get_data_item(s_vpn, "ipsec"), "ike") == 0) {
            g_autofree char *text = NULL;
            g_autofree char *orig = g_strdup_printf("%s/keys-%s", src, name + strlen("ifcfg-"));
            g_autofree char *kdat = NULL;
            gsize            klen;

            /* The PSK is never exported: no keys-NAME, and not in the ifcfg. The IKE settings
             * are; read back with the original keys-NAME beside the export. */
            g_assert_nonnull(nm_setting_vpn_get_secret(s_vpn, "ike-psk"));
            g_assert_false(g_file_test(keys, G_FILE_TEST_EXISTS));
            g_assert_true(g_file_get_contents(out, &text, NULL, NULL));
            g_assert_nonnull(strstr(text, "IPSEC=ike"));
            g_assert_null(strstr(text, "IKE_PSK"));
            g_assert_null(strstr(text, nm_setting_vpn_get_secret(s_vpn, "ike-psk")));
            with_ike++;
            g_assert_true(g_file_get_contents(orig, &kdat, &klen, NULL));
            g_assert_true(g_file_set_contents(keys, kdat, klen, NULL));
            g_assert_cmpint(g_chmod(keys, 0600), ==, 0);
        } else if (nm_setting_vpn_get_num_secrets(s_vpn)) {
            g_autofree char *text  = NULL;
            g_autofree char *ktext = NULL;

            g_assert_cmpuint(file_mode(keys), ==, 0600);
            with_keys++;
            /* The secrets went to keys-NAME only. */
            g_assert_true(g_file_get_contents(out, &text, NULL, NULL));
            g_assert_null(strstr(text, "KEY_ESP"));
            g_assert_null(strstr(text, "IKE_PSK"));
            g_assert_true(g_file_get_contents(keys, &ktext, NULL, NULL));
            g_assert_true(strstr(ktext, "KEY_ESP_IN=") || strstr(ktext, "IKE_PSK="));
        } else
            g_assert_false(g_file_test(keys, G_FILE_TEST_EXISTS));

        b = nm_vpn_editor_plugin_import(plugin, out, &error);
        g_assert_no_error(error);
        dump_a = vpn_dump(a);
        dump_b = vpn_dump(b);
        g_assert_cmpstr(dump_b, ==, dump_a);
        g_assert_cmpstr(nm_connection_get_id(b), ==, nm_connection_get_id(a));
        /* A new connection each time. */
        g_assert_cmpstr(nm_connection_get_uuid(b), !=, nm_connection_get_uuid(a));
        n++;
    }
    g_assert_cmpuint(n, >=, 5);
    g_assert_cmpuint(with_keys, >=, 2);
    g_assert_cmpuint(with_ike, >=, 2);
    test_remove_dir(src);
    test_remove_dir(dst);
}

/* Each file of tests/data/bad is refused by import with the message the core gives: file, line
 * and key. */
/* Files of tests/data/bad whose only fault is a secret keys-NAME does not hold. */
static const char *const later_ok[] = { "ifcfg-ike-no-psk", "ifcfg-ipsec-no-keys", NULL };

static void
test_import_errors(void)
{
    g_autofree char *dir = test_copy_data_dir("bad");
    g_autoptr(GDir) d    = g_dir_open(dir, 0, NULL);
    const char *name;
    guint       n = 0;

    while ((name = g_dir_read_name(d))) {
        g_autofree char *path        = g_build_filename(dir, name, NULL);
        g_autofree char *expect      = NULL;
        g_autoptr(GError) error      = NULL;
        g_autoptr(NMConnection) conn = NULL;

        if (!g_str_has_prefix(name, "ifcfg-"))
            continue;
        expect = test_bad_expectation(dir, name);
        /* Missing secrets are refused by gre-tunnel (test-ifcfg), but imported as secrets to be
         * supplied later (test_import_later). */
        if (g_strv_contains(later_ok, name)) {
            conn = nm_vpn_editor_plugin_import(plugin, path, &error);
            g_assert_no_error(error);
            g_assert_nonnull(conn);
            n++;
            continue;
        }
        conn = nm_vpn_editor_plugin_import(plugin, path, &error);
        if (conn)
            g_error("%s: imported, expected: %s", name, expect);
        if (!strstr(error->message, expect))
            g_error("%s:\n  got:      %s\n  expected: %s", name, error->message, expect);
        n++;
    }
    g_assert_cmpuint(n, >=, 50);
    test_remove_dir(dir);
}

/* A few messages spelled out, so that the form "FILE:LINE: KEY: reason" is pinned here too. */
static void
test_import_error_form(void)
{
    g_autofree char *dir         = g_dir_make_tmp("gre-import-XXXXXX", NULL);
    g_autofree char *path        = g_build_filename(dir, "ifcfg-t1", NULL);
    g_autofree char *want        = NULL;
    g_autoptr(GError) error      = NULL;
    g_autoptr(NMConnection) conn = NULL;

    g_assert_true(g_file_set_contents(path,
                                      "DEVICE=t1\nPEER_OUTER_IPADDR=192.0.2.2\n"
                                      "MY_INNER_IPADDR=198.51.100.1/31\nTTL=300\n",
                                      -1, NULL));
    conn = nm_vpn_editor_plugin_import(plugin, path, &error);
    g_assert_null(conn);
    want = g_strdup_printf("%s:4: TTL: \"300\" is not inherit or a TTL from 1 to 255", path);
    g_assert_cmpstr(error->message, ==, want);
    g_clear_error(&error);
    g_unlink(path);

    conn = nm_vpn_editor_plugin_import(plugin, path, &error);
    g_assert_null(conn);
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, path));
    test_remove_dir(dir);
}

/* Hostile paths given to import (`nmcli connection import type gre file X`): each is refused
 * with a message naming the file and what is wrong, at once (alarm: a FIFO that blocked the
 * open or a device read forever would end the test), and the message has no control character.
 * Without the bounded reader, the FIFO hung here and /dev/null imported as an empty file. */
static void
expect_refused(const char *path, const char *want)
{
    g_autoptr(GError) error      = NULL;
    g_autoptr(NMConnection) conn = NULL;

    alarm(20);
    conn = nm_vpn_editor_plugin_import(plugin, path, &error);
    alarm(0);
    if (conn)
        g_error("%s: imported, expected: %s", path, want);
    g_assert_nonnull(error);
    if (!strstr(error->message, want))
        g_error("%s:\n  got:      %s\n  expected: %s", path, error->message, want);
    for (const char *p = error->message; *p; p++)
        g_assert_false(g_ascii_iscntrl(*p) && *p != '\n');
    g_assert_cmpuint(strlen(error->message), <, 4096);
}

static char *
expect_text(const char *path, const char *reason)
{
    return g_strdup_printf("%s%s", path, reason);
}

static void
test_import_hostile(void)
{
    g_autofree char *dir      = g_dir_make_tmp("gre-hostile-XXXXXX", NULL);
    g_autofree char *fifo     = g_build_filename(dir, "ifcfg-fifo", NULL);
    g_autofree char *sub      = g_build_filename(dir, "ifcfg-dir", NULL);
    g_autofree char *big      = g_build_filename(dir, "ifcfg-big", NULL);
    g_autofree char *garbage  = g_build_filename(dir, "ifcfg-garbage", NULL);
    g_autofree char *longline = g_build_filename(dir, "ifcfg-long", NULL);
    g_autofree char *esc      = g_build_filename(dir, "ifcfg-esc", NULL);
    g_autofree char *good     = g_build_filename(dir, "ifcfg-k", NULL);
    g_autofree char *keys     = g_build_filename(dir, "keys-k", NULL);
    g_autofree char *target   = g_build_filename(dir, "target", NULL);
    g_autofree char *text     = NULL;
    g_autofree char *want     = NULL;

    g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
    want = expect_text(fifo, ": is a FIFO, not a regular file");
    expect_refused(fifo, want);
    g_clear_pointer(&want, g_free);

    g_assert_cmpint(g_mkdir(sub, 0700), ==, 0);
    want = expect_text(sub, ": is a directory, not a regular file");
    expect_refused(sub, want);
    g_clear_pointer(&want, g_free);

    expect_refused("/dev/zero", "/dev/zero: is a device, not a regular file");
    expect_refused("/dev/null", "/dev/null: is a device, not a regular file");

    text = g_malloc(10 * 1000 * 1000);
    memset(text, '#', 10 * 1000 * 1000);
    g_assert_true(g_file_set_contents(big, text, 10 * 1000 * 1000, NULL));
    want = expect_text(big, " is larger than 1 MiB");
    expect_refused(big, want);
    g_clear_pointer(&want, g_free);

    /* One line of a million characters: the message quoting it is shortened. */
    memcpy(text, "DEVICE=", 7);
    memset(text + 7, 'a', 1000 * 1000);
    g_assert_true(g_file_set_contents(longline, text, 7 + 1000 * 1000, NULL));
    expect_refused(longline, "bytes ...]");

    g_assert_true(g_file_set_contents(garbage, "DEVICE=x\nMTU=1\0\377\n", 17, NULL));
    want = expect_text(garbage, ":2: MTU: contains a NUL byte");
    expect_refused(garbage, want);
    g_clear_pointer(&want, g_free);

    g_assert_true(g_file_set_contents(esc, "DEVICE=x\033[2J\n", -1, NULL));
    expect_refused(esc, "DEVICE: \"x\\x1B[2J\"");

    /* keys-NAME beside a good file: a FIFO, a directory, a symbolic link. */
    g_assert_true(g_file_set_contents(good,
                                      "DEVICE=k\nMY_OUTER_IPADDR=192.0.2.1\n"
                                      "PEER_OUTER_IPADDR=192.0.2.2\n"
                                      "MY_INNER_IPADDR=198.51.100.1/30\nIPSEC=manual\n"
                                      "SPI_ESP_IN=0x1001\nSPI_ESP_OUT=0x1002\n",
                                      -1, NULL));
    g_assert_cmpint(mkfifo(keys, 0600), ==, 0);
    want = expect_text(keys, ": is a FIFO; secrets must be stored in a regular file");
    expect_refused(good, want);
    g_clear_pointer(&want, g_free);
    g_unlink(keys);
    g_assert_cmpint(g_mkdir(keys, 0700), ==, 0);
    want = expect_text(keys, ": is a directory; secrets must be stored in a regular file");
    expect_refused(good, want);
    g_clear_pointer(&want, g_free);
    g_rmdir(keys);
    g_assert_true(g_file_set_contents(target, "KEY_ESP_IN=0x00\n", -1, NULL));
    g_assert_cmpint(g_chmod(target, 0600), ==, 0);
    g_assert_cmpint(symlink(target, keys), ==, 0);
    want = expect_text(keys, ": is a symbolic link, which is not followed for a secrets file");
    expect_refused(good, want);
    g_clear_pointer(&want, g_free);
    test_remove_dir(dir);
}

/* Export writes what the connection holds and refuses what it cannot write faithfully. */
/* NAME= names the connection, and export writes the connection's name back, quoted so that
 * the reader (and bash) take it literally. */
static void
test_name(void)
{
    g_autofree char *dir      = g_dir_make_tmp("gre-name-XXXXXX", NULL);
    g_autofree char *in       = g_build_filename(dir, "ifcfg-gre7", NULL);
    g_autofree char *out      = g_build_filename(dir, "out", NULL);
    g_autofree char *text     = NULL;
    const char      *odd_name = "Branch \"North\" $HOME `id` 'x'";
    g_autoptr(GError) error   = NULL;
    g_autoptr(NMConnection) a = NULL;
    g_autoptr(NMConnection) b = NULL;

    g_assert_true(
        g_file_set_contents(in,
                            "NAME='Branch office'\nDEVICE=gre7\nTYPE=GRE\n"
                            "PEER_OUTER_IPADDR=192.0.2.2\nMY_INNER_IPADDR=198.51.100.1/31\n",
                            -1, NULL));
    a = nm_vpn_editor_plugin_import(plugin, in, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(nm_connection_get_id(a), ==, "Branch office");

    g_object_set(nm_connection_get_setting_connection(a), NM_SETTING_CONNECTION_ID, odd_name, NULL);
    g_assert_true(nm_vpn_editor_plugin_export(plugin, out, a, &error));
    g_assert_no_error(error);
    g_assert_true(g_file_get_contents(out, &text, NULL, NULL));
    g_assert_true(g_str_has_prefix(text, "NAME="));
    b = nm_vpn_editor_plugin_import(plugin, out, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(nm_connection_get_id(b), ==, odd_name);
    g_assert_cmpint(g_unlink(in), ==, 0);
    g_assert_cmpint(g_unlink(out), ==, 0);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void
test_export_errors(void)
{
    g_autofree char *dir         = g_dir_make_tmp("gre-export-XXXXXX", NULL);
    g_autofree char *path        = g_build_filename(dir, "ifcfg-t1", NULL);
    g_autoptr(NMConnection) conn = nm_simple_connection_new();
    NMSettingConnection *s_con   = NM_SETTING_CONNECTION(nm_setting_connection_new());
    NMSettingVpn        *s_vpn   = NM_SETTING_VPN(nm_setting_vpn_new());
    g_autoptr(GError) error      = NULL;

    g_object_set(s_con, NM_SETTING_CONNECTION_ID, "my tunnel", NULL);
    nm_connection_add_setting(conn, NM_SETTING(s_con));
    g_object_set(s_vpn, NM_SETTING_VPN_SERVICE_TYPE, GRE_NM_SERVICE_TYPE, NULL);
    nm_setting_vpn_add_data_item(s_vpn, "device", "t1");
    nm_setting_vpn_add_data_item(s_vpn, "remote", "192.0.2.2");
    nm_setting_vpn_add_data_item(s_vpn, "inner-address", "198.51.100.1/31");
    nm_setting_vpn_add_data_item(s_vpn, "ipsec", "manual");
    nm_setting_vpn_add_data_item(s_vpn, "spi-in", "300");
    nm_setting_vpn_add_data_item(s_vpn, "spi-out", "301");
    nm_connection_add_setting(conn, NM_SETTING(s_vpn));

    /* IPsec keys that are not in the connection (kept by an agent, or not saved) are left out:
     * the ifcfg is written, keys-NAME is not, and a bad value is still refused. */
    nm_setting_vpn_add_data_item(s_vpn, "esp-key-in-flags", "1");
    nm_setting_vpn_add_data_item(s_vpn, "esp-key-out-flags", "1");
    g_assert_true(nm_vpn_editor_plugin_export(plugin, path, conn, &error));
    g_assert_no_error(error);
    {
        g_autofree char *kpath       = g_build_filename(dir, "keys-t1", NULL);
        g_autofree char *text        = NULL;
        g_autoptr(NMConnection) back = NULL;

        g_autoptr(GreIfcfg) cfg = NULL;

        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        g_assert_nonnull(strstr(text, "IPSEC=manual"));
        g_assert_null(strstr(text, "0000"));
        g_assert_false(g_file_test(kpath, G_FILE_TEST_EXISTS));
        /* Such a file names the missing keys when read back as at boot ... */
        cfg = gre_ifcfg_load(path, NULL, &error);
        g_assert_null(cfg);
        g_assert_nonnull(strstr(error->message, "KEY_ESP_IN: missing"));
        g_assert_nonnull(strstr(error->message, "keys-NAME"));
        g_clear_error(&error);
        /* ... and imports with them to be supplied later (test_import_later). */
        back = nm_vpn_editor_plugin_import(plugin, path, &error);
        g_assert_no_error(error);
        g_assert_nonnull(back);
        g_unlink(path);
    }
    nm_setting_vpn_add_data_item(s_vpn, "ttl", "300");
    g_assert_false(nm_vpn_editor_plugin_export(plugin, path, conn, &error));
    g_assert_nonnull(strstr(error->message, "cannot export \"my tunnel\""));
    g_assert_nonnull(strstr(error->message, "vpn.data: ttl:"));
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_clear_error(&error);
    nm_setting_vpn_remove_data_item(s_vpn, "ttl");

    g_object_set(s_vpn, NM_SETTING_VPN_SERVICE_TYPE, "org.freedesktop.NetworkManager.openvpn",
                 NULL);
    g_assert_false(nm_vpn_editor_plugin_export(plugin, path, conn, &error));
    g_assert_nonnull(strstr(error->message, "is not a GRE tunnel"));
    g_rmdir(dir);
}

/* IPSEC=ike: the PSK is never exported, whether the connection holds it (saved) or not (kept by
 * an agent, or asked each time, as nmcli exports); the IKE settings are. */
static void
test_export_ike(void)
{
    g_autofree char *dir         = g_dir_make_tmp("gre-export-XXXXXX", NULL);
    g_autofree char *path        = g_build_filename(dir, "ifcfg-t2", NULL);
    g_autofree char *kpath       = g_build_filename(dir, "keys-t2", NULL);
    g_autoptr(NMConnection) conn = nm_simple_connection_new();
    NMSettingConnection *s_con   = NM_SETTING_CONNECTION(nm_setting_connection_new());
    NMSettingVpn        *s_vpn   = NM_SETTING_VPN(nm_setting_vpn_new());
    const char          *psk     = "a-secret-of-twenty-four!";

    g_object_set(s_con, NM_SETTING_CONNECTION_ID, "ike tunnel", NULL);
    nm_connection_add_setting(conn, NM_SETTING(s_con));
    g_object_set(s_vpn, NM_SETTING_VPN_SERVICE_TYPE, GRE_NM_SERVICE_TYPE, NULL);
    nm_setting_vpn_add_data_item(s_vpn, "device", "t2");
    nm_setting_vpn_add_data_item(s_vpn, "local", "192.0.2.1");
    nm_setting_vpn_add_data_item(s_vpn, "remote", "192.0.2.2");
    nm_setting_vpn_add_data_item(s_vpn, "inner-address", "198.51.100.1/31");
    nm_setting_vpn_add_data_item(s_vpn, "ipsec", "ike");
    nm_setting_vpn_add_data_item(s_vpn, "ike-remote-id", "gw.example.net");
    nm_setting_vpn_add_data_item(s_vpn, "ike-proposals", "aes128gcm16-prfsha256-ecp384");
    nm_connection_add_setting(conn, NM_SETTING(s_vpn));

    for (guint round = 0; round < 3; round++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *text   = NULL;

        if (round == 0)
            nm_setting_vpn_add_secret(s_vpn, "ike-psk", psk); /* saved */
        else
            nm_setting_vpn_remove_secret(s_vpn, "ike-psk");
        if (round == 2)
            nm_setting_vpn_add_data_item(s_vpn, "ike-psk-flags", "2"); /* asked each time */
        g_assert_true(nm_vpn_editor_plugin_export(plugin, path, conn, &error));
        g_assert_no_error(error);
        g_assert_false(g_file_test(kpath, G_FILE_TEST_EXISTS));
        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        g_assert_nonnull(strstr(text, "IPSEC=ike\n"));
        g_assert_nonnull(strstr(text, "IKE_REMOTE_ID=gw.example.net\n"));
        g_assert_nonnull(strstr(text, "IKE_PROPOSALS=aes128gcm16-prfsha256-ecp384\n"));
        g_assert_null(strstr(text, "IKE_PSK"));
        g_assert_null(strstr(text, psk));
        g_assert_null(strstr(text, "0000000000000000")); /* no stand-in either */
        g_unlink(path);
    }
    g_rmdir(dir);
}

/* "KEY,KEY," for the secrets NetworkManager would ask for (NeedSecrets). */
static char *
missing_list(NMConnection *conn)
{
    g_autofree const char **missing = gre_nm_missing_secrets(nm_connection_get_setting_vpn(conn));
    GString                *out     = g_string_new(NULL);

    for (guint i = 0; missing[i]; i++)
        g_string_append_printf(out, "%s,", missing[i]);
    return g_string_free(out, FALSE);
}

/* nmcli connection export, then import of that file: the PSK (never exported) and manual keys an
 * agent kept (not in the connection exported) are secrets to be supplied later; the import keeps
 * everything else, holds no secret, and NeedSecrets asks for exactly the missing ones. A file
 * that is wrong besides is still refused, naming its line; gre-tunnel still refuses the file
 * without keys (test-ifcfg, tests/data/bad/ifcfg-ike-no-psk). */
static void
test_import_later(void)
{
    g_autofree char *dir  = g_dir_make_tmp("gre-later-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "ifcfg-t3", NULL);
    static const struct {
        const char *ipsec, *missing;
    } cases[] = {
        {
            "ike",
            "ike-psk,",
        },
        { "manual", "esp-key-in,esp-key-out,auth-key-in,auth-key-out," },
    };

    for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
        g_autoptr(NMConnection) conn = nm_simple_connection_new();
        g_autoptr(NMConnection) back = NULL;
        g_autoptr(GError) error      = NULL;
        g_autofree char     *before  = NULL;
        g_autofree char     *after   = NULL;
        g_autofree char     *missing = NULL;
        NMSettingConnection *s_con   = NM_SETTING_CONNECTION(nm_setting_connection_new());
        NMSettingVpn        *s_vpn   = NM_SETTING_VPN(nm_setting_vpn_new());
        NMSettingVpn        *v_back;

        g_object_set(s_con, NM_SETTING_CONNECTION_ID, "later tunnel", NULL);
        nm_connection_add_setting(conn, NM_SETTING(s_con));
        g_object_set(s_vpn, NM_SETTING_VPN_SERVICE_TYPE, GRE_NM_SERVICE_TYPE, NULL);
        nm_setting_vpn_add_data_item(s_vpn, "device", "t3");
        nm_setting_vpn_add_data_item(s_vpn, "local", "192.0.2.1");
        nm_setting_vpn_add_data_item(s_vpn, "remote", "192.0.2.2");
        nm_setting_vpn_add_data_item(s_vpn, "inner-address", "198.51.100.1/31");
        nm_setting_vpn_add_data_item(s_vpn, "ipsec", cases[c].ipsec);
        if (g_str_equal(cases[c].ipsec, "ike"))
            nm_setting_vpn_add_data_item(s_vpn, "ike-remote-id", "gw.example.net");
        else {
            nm_setting_vpn_add_data_item(s_vpn, "spi-in", "0x1001");
            nm_setting_vpn_add_data_item(s_vpn, "spi-out", "0x1002");
        }
        nm_connection_add_setting(conn, NM_SETTING(s_vpn));
        g_assert_true(nm_vpn_editor_plugin_export(plugin, path, conn, &error));
        g_assert_no_error(error);

        back = nm_vpn_editor_plugin_import(plugin, path, &error);
        g_assert_no_error(error);
        g_assert_nonnull(back);
        v_back = nm_connection_get_setting_vpn(back);
        g_assert_cmpstr(nm_setting_vpn_get_data_item(v_back, "ipsec"), ==, cases[c].ipsec);
        g_assert_cmpuint(nm_setting_vpn_get_num_secrets(v_back), ==, 0);
        before = vpn_dump(conn);
        after  = vpn_dump(back);
        g_assert_cmpstr(after, ==, before);
        missing = missing_list(back);
        g_assert_cmpstr(missing, ==, cases[c].missing);
        g_unlink(path);
    }

    /* Wrong besides the missing PSK: refused, naming the line; the PSK is not what it names. */
    {
        g_autoptr(GError) error      = NULL;
        g_autoptr(NMConnection) conn = NULL;
        g_autofree char *want        = g_strdup_printf("%s:5: PEER_INNER_IPADDR: ", path);

        g_assert_true(g_file_set_contents(path,
                                          "DEVICE=t3\nPEER_OUTER_IPADDR=192.0.2.2\n"
                                          "MY_INNER_IPADDR=198.51.100.1/31\nIPSEC=ike\n"
                                          "PEER_INNER_IPADDR=203.0.113.9\n",
                                          -1, NULL));
        conn = nm_vpn_editor_plugin_import(plugin, path, &error);
        g_assert_null(conn);
        g_assert_nonnull(error);
        g_assert_nonnull(strstr(error->message, want));
        g_assert_null(strstr(error->message, "IKE_PSK"));
        g_unlink(path);
    }
    /* A keys file with a PSK too short is refused as gre-tunnel refuses it. */
    {
        g_autoptr(GError) error      = NULL;
        g_autoptr(NMConnection) conn = NULL;
        g_autofree char *kpath       = g_build_filename(dir, "keys-t3", NULL);

        g_assert_true(g_file_set_contents(path,
                                          "DEVICE=t3\nPEER_OUTER_IPADDR=192.0.2.2\n"
                                          "MY_INNER_IPADDR=198.51.100.1/31\nIPSEC=ike\n",
                                          -1, NULL));
        g_assert_true(g_file_set_contents(kpath, "IKE_PSK=short\n", -1, NULL));
        g_assert_cmpint(g_chmod(kpath, 0600), ==, 0);
        conn = nm_vpn_editor_plugin_import(plugin, path, &error);
        g_assert_null(conn);
        g_assert_nonnull(error);
        g_assert_nonnull(strstr(error->message, "IKE_PSK: 5 characters are too few"));
    }
    test_remove_dir(dir);
}

/* Without an editor library beside the plugin, asking for the editor is a clear error. */
static void
test_no_editor(void)
{
    g_autoptr(NMConnection) conn = nm_simple_connection_new();
    g_autoptr(GError) error      = NULL;
    NMVpnEditor *editor          = nm_vpn_editor_plugin_get_editor(plugin, conn, &error);

    g_assert_null(editor);
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "libnm-gtk4-vpn-plugin-gre-editor.so"));
    g_assert_nonnull(strstr(error->message, "GRE tunnel editor for GTK 4 is not installed"));
}

int
main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    load_plugin();
    g_test_add_func("/editor-plugin/identity", test_identity);
    g_test_add_func("/editor-plugin/round-trip", test_round_trip);
    g_test_add_func("/editor-plugin/import-errors", test_import_errors);
    g_test_add_func("/editor-plugin/import-error-form", test_import_error_form);
    g_test_add_func("/editor-plugin/import-hostile", test_import_hostile);
    g_test_add_func("/editor-plugin/name", test_name);
    g_test_add_func("/editor-plugin/export-errors", test_export_errors);
    g_test_add_func("/editor-plugin/export-ike", test_export_ike);
    g_test_add_func("/editor-plugin/import-later", test_import_later);
    g_test_add_func("/editor-plugin/no-editor", test_no_editor);
    ret = g_test_run();
    g_object_unref(plugin);
    test_remove_dir(plugin_dir);
    return ret;
}
