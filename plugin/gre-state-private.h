/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/* Shared by gre-state.c (the record and its file) and gre-state-netns.c (whose it is). */
#include "gre-state.h"

typedef struct {
    guint64 cookie; /* SO_NETNS_COOKIE; 0 when the kernel has none (before Linux 5.14) */
    guint64 ino;    /* the inode number of /proc/self/ns/net; 0 when it cannot be read */
} StateNetns;

gboolean state_netns_self(StateNetns *ns, GError **error);
/* "netns-COOKIE", or "netns-ino-INO" without a cookie. */
char    *state_netns_dirname(const StateNetns *ns);
gboolean state_ensure_top_dir(GError **error);
gboolean state_ensure_netns_dir(GError **error);
/* DIR/NAME+SUFFIX in this namespace's directory; an error for a name that is not valid. */
char *state_path(const char *name, const char *suffix, GError **error);
/* The names of DIR's records (NAME.state), sorted; empty when DIR does not exist. */
GPtrArray *state_list_dir(const char *dir, GError **error);
