/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-i18n.h"

#include <libintl.h>
#include <locale.h>

void
gre_i18n_bind(void)
{
    static gsize once;

    if (g_once_init_enter(&once)) {
        const char *dir = g_getenv("GRE_LOCALEDIR");

        bindtextdomain(GETTEXT_PACKAGE, dir && *dir ? dir : LOCALEDIR);
        bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
        g_once_init_leave(&once, 1);
    }
}

void
gre_i18n_init(void)
{
    /* Only what translated messages need: their language and the terminal's character set.
     * Numbers, addresses and times stay as the kernel and ip(8) print them, and a process
     * start does not read the locale's other categories (a dozen files; at boot and under
     * emulation every one of them is a measurable part of an `up`). */
    setlocale(LC_CTYPE, "");
    setlocale(LC_MESSAGES, "");
    gre_i18n_bind();
    textdomain(GETTEXT_PACKAGE);
}
