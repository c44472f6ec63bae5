/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-i18n.h"

#include <libintl.h>
#include <locale.h>

void
gre_i18n_init(void)
{
    const char *dir = g_getenv("GRE_LOCALEDIR");

    setlocale(LC_ALL, "");
    bindtextdomain(GETTEXT_PACKAGE, dir && *dir ? dir : LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);
}
