/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <glib/gstdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "gre-error.h"
#include "gre-ifcfg.h"
#include "gre-settings-table.h"
#include "test-util.h"

static void
test_examples(void)
{
    g_autofree char *dir = test_copy_data_dir("examples");
    g_autoptr(GDir) d    = g_dir_open(dir, 0, NULL);
    const char *name;
    guint       n = 0;

    while ((name = g_dir_read_name(d))) {
        g_autofree char *path         = g_build_filename(dir, name, NULL);
        g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GError) error       = NULL;
        g_autoptr(GreIfcfg) cfg       = NULL;

        if (!g_str_has_prefix(name, "ifcfg-"))
            continue;
        cfg = gre_ifcfg_load(path, warnings, &error);
        if (!cfg)
            g_error("%s: %s", name, error->message);
        for (guint i = 0; i < warnings->len; i++)
            g_error("%s: unexpected warning: %s", name, (char *)warnings->pdata[i]);
        n++;
    }
    g_assert_cmpuint(n, >=, 5);
    test_remove_dir(dir);
}

/* A file written for ifup-tunnel reads unchanged, with its meaning. */
static void
test_legacy(void)
{
    g_autofree char *dir    = test_copy_data_dir("examples");
    g_autofree char *path   = g_build_filename(dir, "ifcfg-legacy", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GreIfcfg) cfg = gre_ifcfg_load(path, NULL, &error);
    g_autofree char *dump   = NULL;

    g_assert_no_error(error);
    dump = test_settings_dump(cfg->settings);
    g_assert_cmpstr(dump, ==,
                    "DEVICE=legacy\nMY_OUTER_IPADDR=192.0.2.100\nPEER_OUTER_IPADDR=192.0.2.200\n"
                    "MY_INNER_IPADDR=198.51.100.200/32\nPEER_INNER_IPADDR=198.51.100.201\n"
                    "KEY=7\nTTL=255\nMTU=1400\n");
    test_remove_dir(dir);
}

/* Each file in tests/data/bad is refused with the message in its first line, which names the
 * file, the line and the key. */
static void
test_bad_corpus(void)
{
    g_autofree char *dir = test_copy_data_dir("bad");
    g_autoptr(GDir) d    = g_dir_open(dir, 0, NULL);
    const char *name;
    guint       n = 0;

    while ((name = g_dir_read_name(d))) {
        g_autofree char *path   = g_build_filename(dir, name, NULL);
        g_autofree char *expect = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GreIfcfg) cfg = NULL;

        if (!g_str_has_prefix(name, "ifcfg-"))
            continue;
        expect = test_bad_expectation(dir, name);
        cfg    = gre_ifcfg_load(path, NULL, &error);
        if (cfg)
            g_error("%s: accepted, expected: %s", name, expect);
        g_assert_true(error->domain == GRE_ERROR);
        if (!strstr(error->message, expect))
            g_error("%s:\n  got:      %s\n  expected: %s", name, error->message, expect);
        if (!g_str_has_prefix(error->message, dir))
            g_error("%s: message does not start with the file: %s", name, error->message);
        n++;
    }
    g_assert_cmpuint(n, >=, 50);
    test_remove_dir(dir);
}

/* What we write reads back to the same settings, secrets only in keys-NAME with mode 0600. */
static void
test_write_read(void)
{
    g_autofree char *src     = test_copy_data_dir("examples");
    g_autofree char *dst     = g_dir_make_tmp("gre-test-XXXXXX", NULL);
    const char      *names[] = { "office", "branch", "pppoe", "v6", "legacy" };

    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *in     = g_strdup_printf("%s/ifcfg-%s", src, names[i]);
        g_autoptr(GError) error = NULL;
        g_autoptr(GreIfcfg) a   = gre_ifcfg_load(in, NULL, &error);
        g_autoptr(GreIfcfg) b   = NULL;
        g_autofree char *out    = NULL;
        g_autofree char *keys   = NULL;
        g_autofree char *da = NULL, *db = NULL, *text = NULL;
        struct stat      st;

        g_assert_no_error(error);
        g_assert_true(gre_ifcfg_write(a->settings, dst, FALSE, &error));
        g_assert_no_error(error);
        /* Never overwritten by accident. */
        g_assert_false(gre_ifcfg_write(a->settings, dst, FALSE, &error));
        g_assert_error(error, GRE_ERROR, GRE_ERROR_IO);
        g_clear_error(&error);
        out = g_strdup_printf("%s/ifcfg-%s", dst, a->settings->name);
        b   = gre_ifcfg_load(out, NULL, &error);
        g_assert_no_error(error);
        da = test_settings_dump(a->settings);
        db = test_settings_dump(b->settings);
        g_assert_cmpstr(da, ==, db);
        g_assert_true(g_file_get_contents(out, &text, NULL, NULL));
        g_assert_null(strstr(text, "KEY_ESP"));
        keys = g_strdup_printf("%s/keys-%s", dst, a->settings->name);
        if (a->settings->ipsec) {
            g_assert_cmpint(stat(keys, &st), ==, 0);
            g_assert_cmpint(st.st_mode & 0777, ==, 0600);
        } else
            g_assert_false(g_file_test(keys, G_FILE_TEST_EXISTS));
    }
    test_remove_dir(src);
    test_remove_dir(dst);
}

/* Values that need quoting survive the trip through our writer and reader. */
static void
test_quoting(void)
{
    g_autoptr(GreSettings) s =
        test_settings("DEVICE=q\nPEER_OUTER_IPADDR=192.0.2.2\nMY_INNER_IPADDR=198.51.100.1/30\n"
                      "ROUTES=203.0.113.0/24 metric 7 2001:db8::/32");
    g_autofree char *text = gre_ifcfg_format(s);

    g_assert_nonnull(strstr(text, "ROUTES=\"203.0.113.0/24 metric 7 2001:db8::/32\"\n"));
    g_assert_nonnull(strstr(text, "TYPE=gre\nDEVICETYPE=gre\n"));
}

/* Device names the kernel and the reader accept may hold shell syntax; written out (mirror,
 * NetworkManager export), the name is quoted, reads back unchanged and runs nothing in a shell
 * that sources the file. Found by tests/fuzz/fuzz-ifcfg: a name ending in a backslash came back
 * as a continuation line. */
static void
test_device_quoted(void)
{
    static const char *const names[] = { "v6tun\\", "$(id)x", "a;b", "`id`", "q\"t", "it's" };

    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autoptr(GreSettings) s =
            test_settings("DEVICE=q\nPEER_OUTER_IPADDR=192.0.2.2\nMY_INNER_IPADDR=198.51.100.1/30");
        g_autofree char *text        = NULL;
        g_autoptr(GError) error      = NULL;
        g_autoptr(GreShvarFile) back = NULL;

        g_strlcpy(s->name, names[i], sizeof s->name);
        text = gre_ifcfg_format(s);
        back = gre_shvar_file_parse("written", text, -1, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(gre_shvar_file_get(back, "DEVICE"), ==, names[i]);
    }
}

/* Every value that does not parse is named with its line, not only the first. */
static void
test_every_parse_error(void)
{
    g_autofree char *dir    = g_dir_make_tmp("gre-ifcfg-XXXXXX", NULL);
    g_autofree char *path   = g_build_filename(dir, "ifcfg-two", NULL);
    g_autoptr(GError) error = NULL;
    GreIfcfg *cfg;

    g_assert_true(g_file_set_contents(path,
                                      "DEVICE=two\nPEER_OUTER_IPADDR=192.0.2.2\n"
                                      "MY_INNER_IPADDR=198.51.100.1/30\nTTL=sixty\nMTU=big\n",
                                      -1, NULL));
    cfg = gre_ifcfg_load(path, NULL, &error);
    g_assert_null(cfg);
    g_assert_error(error, GRE_ERROR, GRE_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "ifcfg-two:4: TTL: "));
    g_assert_nonnull(strstr(error->message, "\n"));
    g_assert_nonnull(strstr(error->message, "ifcfg-two:5: MTU: "));
    g_assert_cmpint(g_unlink(path), ==, 0);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ifcfg/examples", test_examples);
    g_test_add_func("/ifcfg/legacy", test_legacy);
    g_test_add_func("/ifcfg/bad-corpus", test_bad_corpus);
    g_test_add_func("/ifcfg/write-read", test_write_read);
    g_test_add_func("/ifcfg/quoting", test_quoting);
    g_test_add_func("/ifcfg/device-quoted", test_device_quoted);
    g_test_add_func("/ifcfg/every-parse-error", test_every_parse_error);
    return g_test_run();
}
