/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-i18n.h"

#include <libintl.h>
#include <locale.h>

void
gre_i18n_init(void)
{
    const char *dir = g_getenv("GRE_LOCALEDIR");

    /* Only what translated messages need: their language and the terminal's character set.
     * Numbers, addresses and times stay as the kernel and ip(8) print them, and a process
     * start does not read the locale's other categories (a dozen files; at boot and under
     * emulation every one of them is a measurable part of an `up`). */
    setlocale(LC_CTYPE, "");
    setlocale(LC_MESSAGES, "");
    bindtextdomain(GETTEXT_PACKAGE, dir && *dir ? dir : LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);
}
