/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-shvar-edit.h"

#include <string.h>

typedef struct {
    guint       line, start, end;
    const char *key;
    char       *value; /* quoted */
} Edit;

static void
edit_clear(gpointer data)
{
    g_free(((Edit *)data)->value);
}

static const Edit *
edit_for_line(GArray *edits, guint line)
{
    for (guint i = 0; i < edits->len; i++) {
        const Edit *e = &g_array_index(edits, Edit, i);

        if (e->line == line)
            return e;
    }
    return NULL;
}

char *
gre_shvar_edit(const char *text, gsize len, const GreShvarFile *parsed, const char *const *keys,
               const char *const *values)
{
    g_autoptr(GArray) edits = g_array_new(FALSE, TRUE, sizeof(Edit));
    GString    *out         = g_string_sized_new(len + 256);
    const char *end         = text + len;
    const char *p           = text;
    guint       lineno      = 0;

    g_array_set_clear_func(edits, edit_clear);
    for (guint i = 0; keys[i]; i++) {
        Edit e = { 0, 0, 0, keys[i], gre_shvar_escape(values[i]) };

        gre_shvar_file_get_span(parsed, keys[i], &e.line, &e.start, &e.end);
        g_array_append_val(edits, e);
    }

    while (p < end) {
        const char *nl   = memchr(p, '\n', end - p);
        const char *stop = nl ? nl + 1 : end;
        const Edit *e    = edit_for_line(edits, ++lineno);

        if (e && p + e->end <= stop) {
            g_string_append_len(out, p, e->start);
            g_string_append(out, e->value);
            g_string_append_len(out, p + e->end, stop - (p + e->end));
        } else
            g_string_append_len(out, p, stop - p);
        p = stop;
    }

    for (guint i = 0; i < edits->len; i++) {
        const Edit *e = &g_array_index(edits, Edit, i);

        if (e->line)
            continue;
        if (out->len && out->str[out->len - 1] != '\n')
            g_string_append_c(out, '\n');
        g_string_append_printf(out, "%s=%s\n", e->key, e->value);
    }
    return g_string_free(out, FALSE);
}
