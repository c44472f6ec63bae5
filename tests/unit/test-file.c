/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "gre-error.h"
#include "gre-file.h"

/*
 * The bounded reader: what the file-based tests (tests/cli/test-hostile.sh) cannot pin down
 * exactly, such as a stream that never ends, whose size no fstat can tell in advance.
 */

/* Writes @data->len bytes of comment lines to a pipe, then closes it. */
typedef struct {
    int   fd;
    gsize len;
} Writer;

static gpointer
write_stream(gpointer data)
{
    Writer *w = data;
    char    buf[4096];
    gsize   left = w->len;

    memset(buf, '#', sizeof buf);
    buf[sizeof buf - 1] = '\n';
    while (left > 0) {
        ssize_t n = write(w->fd, buf, MIN(left, sizeof buf));

        if (n <= 0)
            break; /* the reader gave up and closed its end */
        left -= n;
    }
    close(w->fd);
    return NULL;
}

static char *
read_stream(gsize len, gsize *out_len, GError **error)
{
    int      fds[2];
    Writer   w;
    GThread *thread;
    char    *text;

    g_assert_cmpint(pipe(fds), ==, 0);
    w.fd   = fds[1];
    w.len  = len;
    thread = g_thread_new("writer", write_stream, &w);
    text   = gre_file_read_fd(fds[0], "stream", out_len, error);
    close(fds[0]);
    g_thread_join(thread);
    return text;
}

/* A stream is read up to the limit and no further: 1 MiB passes, one byte more does not, and an
 * endless one (64 MiB here) is given up after 1 MiB. */
static void
test_stream_limit(void)
{
    g_autoptr(GError) error = NULL;
    gsize len               = 0;
    char *text;

    text = read_stream(GRE_FILE_MAX_SIZE, &len, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(len, ==, GRE_FILE_MAX_SIZE);
    gre_file_free_wiped(text, len);

    text = read_stream(GRE_FILE_MAX_SIZE + 1, &len, &error);
    g_assert_null(text);
    g_assert_error(error, GRE_ERROR, GRE_ERROR_IO);
    g_assert_nonnull(strstr(error->message, "stream is larger than 1 MiB"));
    g_clear_error(&error);

    text = read_stream((gsize)64 * 1024 * 1024, &len, &error);
    g_assert_null(text);
    g_assert_error(error, GRE_ERROR, GRE_ERROR_IO);
}

/* open_regular refuses by the type of what it opened, and never blocks on a FIFO. */
static void
test_open_types(void)
{
    g_autofree char *dir    = g_dir_make_tmp("gre-file-XXXXXX", NULL);
    g_autofree char *fifo   = g_build_filename(dir, "fifo", NULL);
    g_autofree char *link   = g_build_filename(dir, "link", NULL);
    g_autofree char *reg    = g_build_filename(dir, "reg", NULL);
    g_autoptr(GError) error = NULL;
    struct stat st;
    int         fd;

    g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
    g_assert_cmpint(gre_file_open_regular(fifo, GRE_FILE_FOLLOW, &st, &error), ==, -1);
    g_assert_error(error, GRE_ERROR, GRE_ERROR_IO);
    g_clear_error(&error);
    g_assert_cmpint(gre_file_open_regular(fifo, GRE_FILE_SECRET, &st, &error), ==, -1);
    g_assert_error(error, GRE_ERROR, GRE_ERROR_PERMISSION);
    g_clear_error(&error);

    g_assert_true(g_file_set_contents(reg, "A=1\n", -1, NULL));
    g_assert_cmpint(symlink(reg, link), ==, 0);
    fd = gre_file_open_regular(link, GRE_FILE_FOLLOW, &st, &error);
    g_assert_no_error(error);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(st.st_size, ==, 4);
    close(fd);
    g_assert_cmpint(gre_file_open_regular(link, GRE_FILE_SECRET, &st, &error), ==, -1);
    g_assert_error(error, GRE_ERROR, GRE_ERROR_PERMISSION);
    g_assert_nonnull(strstr(error->message, "symbolic link"));

    g_unlink(link);
    g_unlink(reg);
    g_unlink(fifo);
    g_rmdir(dir);
}

/* What a message may quote of a hostile file is made safe to print. */
static void
test_display(void)
{
    g_autofree char *esc        = gre_error_display("a\033[2Jb\tc\nd\x7f\xff\xc3\xa9");
    g_autofree char *line       = g_strnfill(100000, 'x');
    g_autofree char *long_shown = NULL;

    g_assert_cmpstr(esc, ==, "a\\x1B[2Jb\tc\nd\\x7F\\xFF\xc3\xa9");
    long_shown = gre_error_display(line);
    g_assert_cmpuint(strlen(long_shown), <, GRE_ERROR_DISPLAY_LINE + 64);
    g_assert_nonnull(strstr(long_shown, "[... 99232 bytes ...]"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    /* The writer learns that the reader gave up from EPIPE, not from a signal. */
    signal(SIGPIPE, SIG_IGN);
    g_test_add_func("/file/stream-limit", test_stream_limit);
    g_test_add_func("/file/open-types", test_open_types);
    g_test_add_func("/file/display", test_display);
    return g_test_run();
}
