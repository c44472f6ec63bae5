/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "gre-settings-table.h"

/*
 * Point-to-point GRE only works when each end is the mirror image of the other: the kernel drops
 * GRE from an address, or with a key, it does not expect. Both functions follow the settings
 * table's mirror column.
 */

/* The settings of the other end. Fails when @s lacks what the peer needs to know (the outer
 * local address, the inner peer address). */
GreSettings *gre_mirror(const GreSettings *s, GError **error);

/* Compares two ends; each mismatch (one line, naming the key and both values, never a secret)
 * goes to @mismatches, each difference that works but probably should not to @warnings.
 * @a_name and @b_name label the two ends in messages. Returns TRUE when nothing mismatches. */
gboolean gre_check(const GreSettings *a, const char *a_name, const GreSettings *b,
                   const char *b_name, GPtrArray *mismatches, GPtrArray *warnings);

/* The MTU the tunnel would use; with MTU=auto, computed for the underlay (1500 if unknown). */
guint gre_effective_mtu(const GreSettings *s);
