/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Translations. Every file with user-facing messages includes this: _() looks a message up in
 * GETTEXT_PACKAGE's catalog whatever the program's default text domain is (the core also runs
 * inside NetworkManager's processes), N_() marks a message in a static table for xgettext.
 */
#include <glib.h>
#include <glib/gi18n-lib.h>

/* Call first thing in main(): the locale from the environment, and where the catalogs are.
 * GRE_LOCALEDIR overrides LOCALEDIR, so that the tests can use the catalogs of the build tree. */
void gre_i18n_init(void);

/* For code loaded into another program (the NetworkManager plugin libraries): only tells gettext
 * where GETTEXT_PACKAGE's catalogs are (GRE_LOCALEDIR or LOCALEDIR) and that they are to be read
 * as UTF-8. The host's locale and default text domain are left as they are. Call it before the
 * first message is looked up; later calls do nothing. */
void gre_i18n_bind(void);
