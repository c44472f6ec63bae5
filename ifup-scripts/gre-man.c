/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gre-man TEMPLATE OUTPUT: writes a man page, replacing the template's comment lines
 * ".\" generated: ifcfg keys" and ".\" generated: ifupdown options" with the settings table as
 * troff, so that the page lists exactly the keys the parsers read. Runs at build time.
 */
#include <stdio.h>
#include <string.h>

#include "gre-settings-table.h"

/* Text for troff: backslashes and minus signs escaped, no request or control at line start. */
static void
put_text(GString *out, const char *text)
{
    if (*text == '.' || *text == '\'')
        g_string_append(out, "\\&");
    for (const char *p = text; *p; p++) {
        if (*p == '\\')
            g_string_append(out, "\\e");
        else if (*p == '-')
            g_string_append(out, "\\-");
        else
            g_string_append_c(out, *p);
    }
}

static void
put_key(GString *out, const GreKeyInfo *key, const char *name, gboolean ifupdown)
{
    const char *range = gre_key_range(key);

    g_string_append(out, ".TP\n.B ");
    put_text(out, name);
    if (ifupdown)
        g_string_append(out, " \\fIvalue\\fR");
    g_string_append(out, "\n");
    put_text(out, key->help);
    g_string_append(out, "\n");
    /* One sentence per line, as troff wants it. */
    if (range) {
        g_string_append(out, "Values: ");
        put_text(out, range);
        if (!g_str_has_suffix(range, "."))
            g_string_append(out, ".");
        g_string_append(out, "\n");
    }
    if (key->def) {
        g_string_append(out, "Default: ");
        put_text(out, key->def);
        g_string_append(out, ".\n");
    }
    if (key->required)
        g_string_append(out, "Required.\n");
    if (key->secret && !ifupdown)
        g_string_append(out, "Secret: only in keys\\-NAME.\n");
}

static void
put_table(GString *out, gboolean ifupdown)
{
    for (guint i = 0; i < GRE_KEY_COUNT; i++) {
        const GreKeyInfo *key = gre_key_info(i);

        /* In a stanza the device is IFACE, and secrets live in gre-keys-file. */
        if (ifupdown && (!key->ifupdown || key->secret))
            continue;
        put_key(out, key, ifupdown ? key->ifupdown : key->ifcfg, ifupdown);
    }
}

int
main(int argc, char **argv)
{
    g_autofree char *text   = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GString) out  = g_string_new(NULL);
    g_auto(GStrv) lines     = NULL;

    if (argc != 3) {
        fprintf(stderr, "usage: gre-man TEMPLATE OUTPUT\n");
        return 2;
    }
    if (!g_file_get_contents(argv[1], &text, NULL, &error)) {
        fprintf(stderr, "gre-man: %s\n", error->message);
        return 1;
    }
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        if (strcmp(lines[i], ".\\\" generated: ifcfg keys") == 0)
            put_table(out, FALSE);
        else if (strcmp(lines[i], ".\\\" generated: ifupdown options") == 0)
            put_table(out, TRUE);
        else {
            g_string_append(out, lines[i]);
            if (lines[i + 1])
                g_string_append_c(out, '\n');
        }
    }
    if (!g_file_set_contents(argv[2], out->str, out->len, &error)) {
        fprintf(stderr, "gre-man: %s\n", error->message);
        return 1;
    }
    return 0;
}
