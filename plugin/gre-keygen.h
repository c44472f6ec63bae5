/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "gre-settings.h"

/*
 * Fresh key material for a tunnel, from the kernel's random generator (getrandom(2)).
 */

/* Fills @buf with @len random bytes; fails only when the kernel cannot provide them. */
gboolean gre_random_bytes(guint8 *buf, gsize len, GError **error);

/* Gives @s fresh secrets for the keying it uses and returns TRUE; @s keeps everything else.
 * IPSEC=manual: both ESP keys of the size its suite needs (AEAD keys with their 4-byte salt;
 * CBC suites also get both HMAC keys, other suites none) and both SPIs (256 or more, in and out
 * distinct, neither one of the SPIs @s had, so the new SAs never share an SPI with the old).
 * A keying mode without secrets of its own (IPSEC=none) is GRE_ERROR_INVALID; the message is the
 * reason only, for the caller to prefix with where IPSEC is set. Another keying mode adds its
 * case here (IKE: a pre-shared key); callers write out whatever changed in @s. */
gboolean gre_keygen(GreSettings *s, GError **error);
