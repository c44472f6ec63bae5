/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "gre-settings.h"
#include "gre-shvar.h"

/*
 * Fedora network-scripts files: ifcfg-NAME (settings) and keys-NAME (secrets, mode 0600, owned by
 * the user that reads it). Files written for network-scripts' own ifup-tunnel (TYPE=GRE,
 * MY_OUTER_IPADDR, ...) read unchanged.
 */
typedef struct {
    GreSettings  *settings;
    GreShvarFile *ifcfg;
    GreShvarFile *keys; /* NULL when there is no keys file */
    char         *ifcfg_path;
    char         *keys_path;
} GreIfcfg;

/* Reads, parses and validates. Warnings (e.g. unknown keys, TTL inherit) are appended to
 * @warnings when it is not NULL. */
GreIfcfg *gre_ifcfg_load(const char *path, GPtrArray *warnings, GError **error);
/* For gre-tunnel keygen, which makes the keys: reads and parses @path but not keys-NAME, and
 * does not validate; gre_ifcfg_validate() does, once the keys are in. */
GreIfcfg *gre_ifcfg_load_without_keys(const char *path, GPtrArray *warnings, GError **error);
/* For NetworkManager's import, which may leave secrets to be supplied later: reads and parses
 * @path and keys-NAME (when there is one) but does not validate; gre_ifcfg_validate() does. */
GreIfcfg *gre_ifcfg_load_unvalidated(const char *path, GPtrArray *warnings, GError **error);
gboolean  gre_ifcfg_validate(GreIfcfg *cfg, GPtrArray *warnings, GError **error);
void      gre_ifcfg_free(GreIfcfg *cfg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GreIfcfg, gre_ifcfg_free)

/* Where the secrets for @ifcfg_path live: keys-NAME beside it. */
char *gre_ifcfg_keys_path(const char *ifcfg_path, const char *device);

/* The text of ifcfg-NAME (no secrets) or of keys-NAME (only secrets; NULL if there are none). */
char *gre_ifcfg_format(const GreSettings *s);
char *gre_ifcfg_format_keys(const GreSettings *s);

/* Writes @dir/ifcfg-NAME (mode 0644) and, when there are secrets, @dir/keys-NAME (mode 0600),
 * each atomically. Refuses to overwrite existing files unless @overwrite. */
gboolean gre_ifcfg_write(const GreSettings *s, const char *dir, gboolean overwrite, GError **error);

/* Writes @contents to @path atomically with @mode, never exposing it with wider permissions. */
gboolean gre_write_file_atomic(const char *path, const char *contents, int mode, gboolean overwrite,
                               GError **error);
