/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <NetworkManager.h>

/*
 * The connection editor's page for a GRE tunnel: one widget per key of the settings table,
 * grouped by what it is about. The same source builds against GTK3 and GTK4; the GTK-free
 * plugin (libnm-vpn-plugin-gre.so) dlopens the build that matches the host and calls the factory.
 */

/* The one exported symbol. */
NMVpnEditor *nm_vpn_editor_factory_gre(NMVpnEditorPlugin *editor_plugin, NMConnection *connection,
                                       GError **error);
