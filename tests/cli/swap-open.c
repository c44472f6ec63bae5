/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * LD_PRELOAD shim for test-hostile.sh: right after a successful open() of the path in
 * $GRE_TEST_SWAP_OPEN, renames PATH.swap over PATH, so that the name points to another file
 * than the descriptor just opened: the moment between a reader's open and its read. Every
 * entry point glibc and _FORTIFY_SOURCE may route open() through is covered.
 */
/* Both names are defined here: the headers must not turn open into open64. */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
swap_after(const char *path, int fd)
{
    const char *target = getenv("GRE_TEST_SWAP_OPEN");
    char        swap[4096];

    if (fd < 0 || !target || strcmp(path, target) != 0)
        return;
    if (snprintf(swap, sizeof swap, "%s.swap", path) < (int)sizeof swap)
        rename(swap, path); /* once: afterwards there is no .swap left */
}

static int
call_open(const char *name, const char *path, int flags, mode_t mode)
{
    int (*real)(const char *, int, ...) = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, name);
    int fd                              = real(path, flags, mode);

    swap_after(path, fd);
    return fd;
}

#ifndef O_TMPFILE
#define O_TMPFILE 0
#endif

static mode_t
mode_of(int flags, va_list ap)
{
    return (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
}

int
open(const char *path, int flags, ...)
{
    va_list ap;
    mode_t  mode;

    va_start(ap, flags);
    mode = mode_of(flags, ap);
    va_end(ap);
    return call_open("open", path, flags, mode);
}

int
open64(const char *path, int flags, ...)
{
    va_list ap;
    mode_t  mode;

    va_start(ap, flags);
    mode = mode_of(flags, ap);
    va_end(ap);
    return call_open("open64", path, flags, mode);
}

int
__open_2(const char *path, int flags)
{
    return call_open("open", path, flags, 0);
}

int
__open64_2(const char *path, int flags)
{
    return call_open("open64", path, flags, 0);
}
