/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "gre-settings-table.h"

/*
 * Checks a whole set of settings. Every problem is reported (one per line of the error
 * message) as "LOCATION: KEY: what is wrong and what to do", where LOCATION is what @locate
 * returns for the key (NULL @locate: just "KEY: ..."). Problems that do not stop the tunnel from
 * working, but that a user should know of, are appended to @warnings (may be NULL) in the same
 * form. Returns FALSE with GRE_ERROR_INVALID if anything is wrong.
 */
gboolean gre_settings_validate(const GreSettings *s, GreKeyStyle style, GreKeyLocateFunc locate,
                               gpointer user_data, GPtrArray *warnings, GError **error);

/* The shortest IKE_PSK accepted, in bytes. */
#define GRE_IKE_PSK_MIN 16

/* The interface names the kernel keeps for its own fallback tunnel devices. */
gboolean gre_ifname_is_reserved(const char *name);
