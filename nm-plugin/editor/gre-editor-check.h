/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <NetworkManager.h>

#include "gre-settings.h"

/*
 * The editor's check of a vpn setting: every key parsed as the service parses it and the whole
 * validated, so that a mistake shows in the dialog instead of at connect time. Toolkit-free, so
 * that the GTK3 and GTK4 editors share it.
 */

/* Checks vpn.data and vpn.secrets of @s_vpn. Each key with a problem is added to @bad (a set of
 * vpn.data key names; may be NULL) and named in one line of the error message,
 * "vpn.data: KEY: reason".
 * *@out (may be NULL) gets what parsed, even when something did not (bad keys keep their
 * defaults), for the MTU hint. Secrets the editor may not hold (any flag other than none) are
 * taken to be right when absent: the agent or the user supplies them at connect time. */
gboolean gre_editor_check(NMSettingVpn *s_vpn, GHashTable *bad, GreSettings **out, GError **error);
