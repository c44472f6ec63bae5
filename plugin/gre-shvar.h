/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <sys/types.h>

/*
 * A reader for shell-variable files (ifcfg-NAME, keys-NAME, /etc/network style KEY=VALUE files).
 * It accepts the subset of shell syntax that NetworkManager's ifcfg-rh reader accepts and never
 * runs anything: any construct that would need a shell to evaluate is a GRE_ERROR_PARSE error
 * with the message "SOURCE:LINE: KEY: reason".
 */
typedef struct _GreShvarFile GreShvarFile;

GreShvarFile *gre_shvar_file_parse(const char *source, const char *text, gssize len,
                                   GError **error);
GreShvarFile *gre_shvar_file_load(const char *path, GError **error);
/* Like _load, but refuses a file that is not a regular file owned by @owner with no group or
 * other permission bits (GRE_ERROR_PERMISSION). */
GreShvarFile *gre_shvar_file_load_private(const char *path, uid_t owner, GError **error);
/* Whether @path may be replaced by a secrets file: absent, or a regular file (not a symbolic
 * link, FIFO, directory, ...). The refusals are those of _load_private. */
gboolean      gre_shvar_check_private_type(const char *path, GError **error);
/* Frees @file, wiping every value first (values of a keys file are secrets). */
void          gre_shvar_file_free(GreShvarFile *file);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GreShvarFile, gre_shvar_file_free)

const char *gre_shvar_file_get_source(const GreShvarFile *file);
/* The value in effect for @key (the last assignment wins), or NULL if the key is absent. */
const char *gre_shvar_file_get(const GreShvarFile *file, const char *key);
/* Line number (1-based) of the assignment in effect for @key, 0 if absent. */
guint gre_shvar_file_get_line(const GreShvarFile *file, const char *key);
/* Where the assignment in effect for @key is: its line (1-based) and the byte columns (0-based,
 * end exclusive) of the value as written, quotes included. FALSE if the key is absent. */
gboolean gre_shvar_file_get_span(const GreShvarFile *file, const char *key, guint *line,
                                 guint *start, guint *end);
/* Distinct keys in order of first appearance; owned by @file, NULL-terminated. */
const char *const *gre_shvar_file_get_keys(const GreShvarFile *file);

/* Quote @value so that this reader (and bash) read it back unchanged. */
char *gre_shvar_escape(const char *value);
