/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-error.h"

G_DEFINE_QUARK(gre - error - quark, gre_error)

#include <string.h>

/* Appends one line (without its newline), escaped; @len bytes at @line. */
static void
append_escaped(GString *out, const char *line, gsize len)
{
    const char *p   = line;
    const char *end = line + len;

    while (p < end) {
        gunichar ch = g_utf8_get_char_validated(p, end - p);

        if (ch == (gunichar)-1 || ch == (gunichar)-2) {
            g_string_append_printf(out, "\\x%02X", (guchar)*p);
            p++;
            continue;
        }
        if ((ch < 0x20 && ch != '\t') || (ch >= 0x7f && ch < 0xa0))
            g_string_append_printf(out, "\\x%02X", (guint)ch);
        else
            g_string_append_len(out, p, g_utf8_next_char(p) - p);
        p = g_utf8_next_char(p);
    }
}

/* The start of @line, cut back to a character boundary, at most @max bytes. */
static gsize
head_len(const char *line, gsize max)
{
    gsize n = max;

    while (n > 0 && ((guchar)line[n] & 0xc0) == 0x80)
        n--;
    return n;
}

char *
gre_error_display(const char *text)
{
    GString    *out = g_string_new(NULL);
    const char *p   = text;

    g_return_val_if_fail(text, NULL);

    for (;;) {
        const char *nl  = strchr(p, '\n');
        gsize       len = nl ? (gsize)(nl - p) : strlen(p);

        if (len > GRE_ERROR_DISPLAY_LINE) {
            gsize head = head_len(p, GRE_ERROR_DISPLAY_LINE / 2);
            gsize tail = GRE_ERROR_DISPLAY_LINE / 4;

            while (tail > 0 && ((guchar)p[len - tail] & 0xc0) == 0x80)
                tail--;
            append_escaped(out, p, head);
            g_string_append_printf(out, " [... %" G_GSIZE_FORMAT " bytes ...] ", len - head - tail);
            append_escaped(out, p + len - tail, tail);
        } else
            append_escaped(out, p, len);
        if (!nl)
            break;
        g_string_append_c(out, '\n');
        p = nl + 1;
    }
    return g_string_free(out, FALSE);
}
