/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <NetworkManager.h>

#include "gre-settings.h"

/*
 * A GRE tunnel as NetworkManager stores it: the keys of the settings table (their `nm` names) in
 * vpn.data, the IPsec keys in vpn.secrets. Both the editor plugin and the service read a
 * connection through here, so they accept and refuse exactly the same things.
 */

#define GRE_NM_SERVICE_TYPE "org.freedesktop.NetworkManager.gre"

/* Parses and validates. Every problem is reported at once, one per line, as
 * "vpn.data: KEY: reason" (or "vpn.secrets: ..."); the error is GRE_ERROR_INVALID. */
GreSettings *gre_nm_settings_from_vpn(NMSettingVpn *s_vpn, GError **error);

/* Makes vpn.data and vpn.secrets describe @s: keys at their default are removed, every other
 * key is written; secrets go to vpn.secrets only. Secret flags ("KEY-flags" in vpn.data) that
 * are already set are kept, since they say who stores the secret, not what it is. */
void gre_nm_settings_to_vpn(const GreSettings *s, NMSettingVpn *s_vpn);

/* Whether @name is a key this plugin reads from vpn.data, or from vpn.secrets. */
gboolean gre_nm_is_data_key(const char *name);
gboolean gre_nm_is_secret_key(const char *name);

/* The secrets (vpn.secrets names) that @s_vpn needs to connect but does not have: the ESP keys
 * when IPsec is manual, and the HMAC keys too for CBC suites; the IKE PSK when it is ike. Secrets
 * flagged not-required are not asked for. Returns a NULL-terminated array of static strings, empty
 * when nothing is missing; free it with g_free(). */
const char **gre_nm_missing_secrets(NMSettingVpn *s_vpn);
