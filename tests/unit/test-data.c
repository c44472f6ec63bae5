/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <glib/gstdio.h>
#include <string.h>

#include "test-util.h"

/* Copies tests/data/SUB into a fresh directory; git does not keep the 0600 that keys files
 * need, so they get it here (unless the case is about permissions). */
char *
test_copy_data_dir(const char *sub)
{
    g_autofree char *src = test_data_path(sub);
    g_autofree char *dst = g_dir_make_tmp("gre-test-XXXXXX", NULL);
    g_autoptr(GDir) dir  = g_dir_open(src, 0, NULL);
    const char *name;

    g_assert_nonnull(dir);
    while ((name = g_dir_read_name(dir))) {
        g_autofree char *from = g_build_filename(src, name, NULL);
        g_autofree char *to   = g_build_filename(dst, name, NULL);
        g_autofree char *text = NULL;
        gsize            len;

        g_assert_true(g_file_get_contents(from, &text, &len, NULL));
        g_assert_true(g_file_set_contents(to, text, len, NULL));
        g_assert_cmpint(
            g_chmod(to, g_str_has_prefix(name, "keys-") && !strstr(name, "perm") ? 0600 : 0644), ==,
            0);
    }
    return g_steal_pointer(&dst);
}

void
test_remove_dir(const char *path)
{
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        g_autofree char *p = g_build_filename(path, name, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
            test_remove_dir(p);
        else
            g_unlink(p);
    }
    g_rmdir(path);
}

char *
test_bad_expectation(const char *dir, const char *name)
{
    g_autofree char *path   = g_build_filename(dir, name, NULL);
    g_autofree char *keys   = g_strdup_printf("%s/keys-%s", dir, name + strlen("ifcfg-"));
    g_autofree char *text   = NULL;
    g_autofree char *expect = NULL;
    g_auto(GStrv) parts     = NULL;
    char *nl;

    g_assert_true(g_str_has_prefix(name, "ifcfg-"));
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_assert_true(g_str_has_prefix(text, "# expect: "));
    nl     = strchr(text, '\n');
    expect = g_strndup(text + 10, nl - text - 10);
    parts  = g_strsplit(expect, "{f}", -1);
    g_free(expect);
    expect = g_strjoinv(path, parts);
    g_strfreev(parts);
    parts = g_strsplit(expect, "{k}", -1);
    return g_strjoinv(keys, parts);
}
