/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "test-util.h"

#include "gre-error.h"

static const char *
get(const char *name, gpointer user_data)
{
    return g_hash_table_lookup(user_data, name);
}

static char *
locate(const GreKeyInfo *key, gpointer user_data)
{
    (void)key;
    (void)user_data;
    return g_strdup("test");
}

GreSettings *
test_settings_from_text(const char *text, GError **error)
{
    g_autoptr(GHashTable) map = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_auto(GStrv) lines       = g_strsplit(text, "\n", -1);

    for (guint i = 0; lines[i]; i++) {
        char *eq = strchr(lines[i], '=');
        if (!eq)
            continue;
        g_hash_table_insert(map, g_strndup(lines[i], eq - lines[i]), g_strdup(eq + 1));
    }
    return gre_settings_from_lookup(GRE_STYLE_IFCFG, get, locate, map, error);
}

GreSettings *
test_settings(const char *text)
{
    g_autoptr(GError) error = NULL;
    GreSettings *s          = test_settings_from_text(text, &error);

    g_assert_no_error(error);
    return s;
}

char *
test_settings_dump(const GreSettings *s)
{
    GString *out = g_string_new(NULL);

    for (guint i = 0; i < GRE_KEY_COUNT; i++) {
        const GreKeyInfo *key = gre_key_info(i);
        g_autofree char  *v   = NULL;

        if (gre_key_is_default(key, s))
            continue;
        v = gre_key_get(key, s);
        g_string_append_printf(out, "%s=%s\n", key->ifcfg, v);
    }
    return g_string_free(out, FALSE);
}

char *
test_data_path(const char *rel)
{
    const char *src = g_getenv("GRE_SRCDIR");

    g_assert_nonnull(src);
    return g_build_filename(src, "tests", "data", rel, NULL);
}
