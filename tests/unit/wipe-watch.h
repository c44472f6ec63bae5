/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

/*
 * Watches every free() and realloc() of the process (GLib's and libnm's too) for blocks that
 * still hold given byte patterns: a secret freed without being wiped first. The test program
 * that links this defines free() and realloc() itself, forwarding to glibc after the check;
 * realloc always moves the block, so that an unwiped copy left behind by growth is seen too.
 */

/* Start watching for @len bytes of @pattern (copied), in addition to earlier patterns. */
void wipe_watch_add(const void *pattern, gsize len);
/* Start and stop counting; wipe_watch_stop() returns the number of freed blocks that held a
 * pattern and clears the patterns. */
void  wipe_watch_start(void);
guint wipe_watch_stop(void);
/* Freed blocks seen since the last start (to show the watch was looking). */
guint wipe_watch_frees(void);
