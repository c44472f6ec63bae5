/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "wipe-watch.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

/* glibc's own allocator entry points, under the names it exports them. */
extern void *__libc_malloc(size_t size);
extern void  __libc_free(void *ptr);

#define MAX_PATTERNS 16

static struct {
    guint8 bytes[128];
    gsize  len;
} patterns[MAX_PATTERNS];
static guint n_patterns;
static int   active; /* also guards against re-entry */
static guint hits, frees;

void
wipe_watch_add(const void *pattern, gsize len)
{
    g_assert(n_patterns < MAX_PATTERNS && len <= sizeof patterns[0].bytes && len > 0);
    memcpy(patterns[n_patterns].bytes, pattern, len);
    patterns[n_patterns].len = len;
    n_patterns++;
}

void
wipe_watch_start(void)
{
    hits   = 0;
    frees  = 0;
    active = 1;
}

guint
wipe_watch_stop(void)
{
    active     = 0;
    n_patterns = 0;
    return hits;
}

guint
wipe_watch_frees(void)
{
    return frees;
}

static void
inspect(void *ptr)
{
    size_t size = malloc_usable_size(ptr);

    frees++;
    for (guint i = 0; i < n_patterns; i++) {
        if (memmem(ptr, size, patterns[i].bytes, patterns[i].len)) {
            hits++;
            return;
        }
    }
}

void
free(void *ptr)
{
    if (ptr && active == 1) {
        active = 2;
        inspect(ptr);
        active = 1;
    }
    __libc_free(ptr);
}

void *
realloc(void *ptr, size_t size)
{
    size_t old;
    void  *moved;

    if (!ptr)
        return __libc_malloc(size);
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    old   = malloc_usable_size(ptr);
    moved = __libc_malloc(size);
    if (!moved)
        return NULL;
    memcpy(moved, ptr, old < size ? old : size);
    free(ptr);
    return moved;
}
