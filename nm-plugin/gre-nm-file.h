/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <NetworkManager.h>

/*
 * Import and export of NetworkManager connections as network-scripts files: ifcfg-NAME for the
 * settings, keys-NAME (mode 0600) beside it for the IPsec keys. What `nmcli connection import
 * type gre file ...` and `nmcli connection export` do through the editor plugin.
 */

/* A new connection: id = the device name, vpn.data and vpn.secrets from the files. Errors name
 * the file, the line and the key. Problems that do not stop the import (e.g. keys of no meaning
 * to a GRE tunnel) are appended to @warnings when it is not NULL. */
NMConnection *gre_nm_import(const char *path, GPtrArray *warnings, GError **error);

/* Writes @path (mode 0644) and, when the tunnel has secrets, keys-NAME beside it (mode 0600),
 * replacing files that exist. Fails when the connection does not validate, e.g. when IPsec keys
 * that are needed are not in it. */
gboolean gre_nm_export(NMConnection *connection, const char *path, GError **error);

/* "ifcfg-NAME" for the tunnel device of @connection. */
char *gre_nm_suggested_filename(NMConnection *connection);
