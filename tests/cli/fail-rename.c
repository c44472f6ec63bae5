/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * LD_PRELOAD shim for test-keygen.sh: makes rename() onto a path ending in
 * $GRE_TEST_FAIL_RENAME fail with EIO, and with $GRE_TEST_NO_EXCHANGE set, renameat2() with
 * RENAME_EXCHANGE fail with EINVAL as on a file system without it. Everything else is passed on.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return m <= n && strcmp(s + n - m, suffix) == 0;
}

int
rename(const char *from, const char *to)
{
    const char *fail = getenv("GRE_TEST_FAIL_RENAME");
    int (*real)(const char *, const char *);

    if (fail && *fail && ends_with(to, fail)) {
        errno = EIO;
        return -1;
    }
    real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    return real(from, to);
}

int
renameat2(int from_dir, const char *from, int to_dir, const char *to, unsigned int flags)
{
    int (*real)(int, const char *, int, const char *, unsigned int);

    if (getenv("GRE_TEST_NO_EXCHANGE") && (flags & RENAME_EXCHANGE)) {
        errno = EINVAL;
        return -1;
    }
    real =
        (int (*)(int, const char *, int, const char *, unsigned int))dlsym(RTLD_NEXT, "renameat2");
    return real(from_dir, from, to_dir, to, flags);
}
