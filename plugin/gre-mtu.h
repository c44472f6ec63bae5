/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "gre-settings.h"

/*
 * The exact tunnel MTU: the largest inner packet that still fits the underlay once it is wrapped
 * in GRE, the outer IP header and (with IPsec) ESP in transport mode. The arithmetic follows the
 * kernel's (ip_gre / ip6_gre header lengths, xfrm_state_mtu() for ESP), so that the value set on
 * the device is the value that works.
 */

/* Bytes GRE puts in front of the inner packet: 4, +4 each for checksum, key and sequence. */
guint gre_mtu_gre_header_len(const GreSettings *s);
/* Outer IP header: 20 for IPv4; 40 for IPv6, +8 for ip6gre's encapsulation limit option. */
guint gre_mtu_outer_header_len(const GreSettings *s);
/* What ESP in transport mode leaves of @mtu for the IP packet it protects (xfrm_state_mtu()). */
guint gre_mtu_esp_payload(const GreSettings *s, guint mtu);

/* The tunnel MTU for an underlay (path) MTU; 0 when nothing fits. With @explain, one line of
 * text per step is appended (owned by the array, which must free with g_free). */
guint gre_mtu_compute(const GreSettings *s, guint underlay_mtu, GPtrArray *explain);
