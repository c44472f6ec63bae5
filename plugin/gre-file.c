/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "gre-error.h"
#include "gre-i18n.h"

static const char *
type_name(mode_t mode)
{
    if (S_ISDIR(mode))
        return _("a directory");
    if (S_ISFIFO(mode))
        return _("a FIFO");
    if (S_ISSOCK(mode))
        return _("a socket");
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return _("a device");
    return _("not a regular file");
}

void
gre_file_set_symlink_error(const char *path, GError **error)
{
    g_set_error(error, GRE_ERROR, GRE_ERROR_PERMISSION,
                _("%s: is a symbolic link, which is not followed for a secrets file; "
                  "replace it with the file itself"),
                path);
}

void
gre_file_set_type_error(const char *path, mode_t mode, GreFileKind kind, GError **error)
{
    if (kind == GRE_FILE_SECRET)
        g_set_error(error, GRE_ERROR, GRE_ERROR_PERMISSION,
                    _("%s: is %s; secrets must be stored in a regular file"), path,
                    type_name(mode));
    else
        /* TRANSLATORS: the path, then "a FIFO", "a directory", "a device", ... */
        g_set_error(error, GRE_ERROR, GRE_ERROR_IO,
                    _("%s: is %s, not a regular file; name the settings file itself"), path,
                    type_name(mode));
}

static void
set_too_large(const char *path, GError **error)
{
    g_set_error(error, GRE_ERROR, GRE_ERROR_IO,
                _("%s is larger than 1 MiB; it is not a settings file, check the path"), path);
}

int
gre_file_open_regular(const char *path, GreFileKind kind, struct stat *st, GError **error)
{
    int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    int fd;

    g_return_val_if_fail(path, -1);
    g_return_val_if_fail(!error || !*error, -1);

    if (kind == GRE_FILE_SECRET)
        flags |= O_NOFOLLOW;
    fd = open(path, flags);
    if (fd < 0) {
        int errsv = errno;

        if (errsv == ELOOP && kind == GRE_FILE_SECRET)
            gre_file_set_symlink_error(path, error);
        else
            g_set_error(error, GRE_ERROR, GRE_ERROR_IO, _("cannot open %s: %s"), path,
                        g_strerror(errsv));
        return -1;
    }
    /* The type of the file we hold, not of whatever the name points to by now. */
    if (fstat(fd, st) < 0) {
        int errsv = errno;

        g_set_error(error, GRE_ERROR, GRE_ERROR_IO, _("cannot read %s: %s"), path,
                    g_strerror(errsv));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        gre_file_set_type_error(path, st->st_mode, kind, error);
        close(fd);
        return -1;
    }
    if (st->st_size > GRE_FILE_MAX_SIZE) {
        set_too_large(path, error);
        close(fd);
        return -1;
    }
    return fd;
}

/* Moves @buf (@len bytes used) into a larger allocation, wiping the old one: the buffer may hold
 * a keys file, and freed memory is not to keep a copy of it. */
static char *
grow_wiped(char *buf, gsize len, gsize old_size, gsize new_size)
{
    char *bigger = g_malloc(new_size);

    if (buf) {
        memcpy(bigger, buf, len);
        explicit_bzero(buf, old_size);
        g_free(buf);
    }
    return bigger;
}

char *
gre_file_read_fd(int fd, const char *path, gsize *out_len, GError **error)
{
    struct stat st;
    char       *buf  = NULL;
    gsize       len  = 0;
    gsize       size = 4096;

    /* A regular file's size is known, so one allocation usually does. */
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= GRE_FILE_MAX_SIZE)
        size = (gsize)st.st_size + 2; /* room to see the end of file without growing */
    buf = grow_wiped(NULL, 0, 0, size);
    for (;;) {
        ssize_t n;

        if (len + 1 == size) {
            gsize bigger = MIN(size * 2, (gsize)GRE_FILE_MAX_SIZE + 2);

            buf  = grow_wiped(buf, len, size, bigger);
            size = bigger;
        }
        n = read(fd, buf + len, size - 1 - len);
        if (n < 0) {
            int errsv = errno;

            if (errsv == EINTR)
                continue;
            g_set_error(error, GRE_ERROR, GRE_ERROR_IO, _("cannot read %s: %s"), path,
                        g_strerror(errsv));
            break;
        }
        if (n == 0) {
            buf[len] = '\0';
            *out_len = len;
            return buf;
        }
        len += n;
        if (len > GRE_FILE_MAX_SIZE) {
            set_too_large(path, error);
            break;
        }
    }
    gre_file_free_wiped(buf, size);
    return NULL;
}

char *
gre_file_read(const char *path, GreFileKind kind, gsize *out_len, GError **error)
{
    struct stat st;
    char       *text;
    int         fd = gre_file_open_regular(path, kind, &st, error);

    if (fd < 0)
        return NULL;
    text = gre_file_read_fd(fd, path, out_len, error);
    close(fd);
    return text;
}

void
gre_file_free_wiped(char *text, gsize len)
{
    if (!text)
        return;
    explicit_bzero(text, len);
    g_free(text);
}
