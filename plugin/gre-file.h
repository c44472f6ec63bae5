/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <sys/stat.h>

/*
 * Opening and reading the files a user names (ifcfg, keys-NAME, route-NAME, route6-NAME) so that
 * no path can hang or exhaust us: a FIFO, a device, a directory or a socket is refused by the
 * type of the opened file (fstat on the descriptor, never stat and then open by name), and no
 * more than GRE_FILE_MAX_SIZE bytes are ever read. Errors are GRE_ERROR_IO ("cannot open",
 * "cannot read", too large, not a regular file) or, for a secrets file, GRE_ERROR_PERMISSION (not
 * a regular file, a symbolic link); each names @path.
 */

/* An ifcfg file is a few hundred bytes and even a route file with a thousand routes is about
 * 40 KiB; 1 MiB is far beyond any real one and still small enough to read and parse at once. */
#define GRE_FILE_MAX_SIZE (1024 * 1024)

typedef enum {
    GRE_FILE_FOLLOW = 0, /* a symbolic link is followed, as network-scripts do */
    GRE_FILE_SECRET = 1, /* a symbolic link is refused (O_NOFOLLOW), messages speak of secrets */
} GreFileKind;

/* Opens @path read-only, without blocking (a FIFO cannot hang the open) and without making a
 * terminal ours, and fills @st from the opened file. Returns the descriptor, or -1 with @error
 * set if @path cannot be opened or is not a regular file. */
int gre_file_open_regular(const char *path, GreFileKind kind, struct stat *st, GError **error);

/* Reads all of @fd, at most GRE_FILE_MAX_SIZE bytes, NUL-terminated; @path is for messages. A file
 * that grows while it is read is read up to the limit and then refused. The result may hold
 * secrets: free it with gre_file_free_wiped(). */
char *gre_file_read_fd(int fd, const char *path, gsize *out_len, GError **error);

/* gre_file_open_regular() and gre_file_read_fd() in one. */
char *gre_file_read(const char *path, GreFileKind kind, gsize *out_len, GError **error);

/* The refusals of gre_file_open_regular(), for callers that look at a path without opening it. */
void gre_file_set_symlink_error(const char *path, GError **error);
void gre_file_set_type_error(const char *path, mode_t mode, GreFileKind kind, GError **error);

/* Wipes @len bytes of @text, then frees it. NULL is ignored. */
void gre_file_free_wiped(char *text, gsize len);
