/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gre-tunnel check A B: the bytes are ifcfg file A, a line "%%", and ifcfg file B (without a
 * separator, B is A). Both are read by gre_ifcfg_load() and compared by gre_check(); each
 * mismatch must be one line. And mirror: when A is accepted and gre_mirror() can make its other
 * end, that end written out (gre_ifcfg_format) is read back, planned, and checked against A with
 * no mismatch, as gre-tunnel mirror promises.
 */
#include <string.h>

#include "fuzz-util.h"
#include "gre-ifcfg.h"
#include "gre-mirror.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    return 0;
}

static void
check_one_line_each(GPtrArray *lines, const char *what)
{
    for (guint i = 0; i < lines->len; i++) {
        if (strchr(lines->pdata[i], '\n') || !*(const char *)lines->pdata[i])
            g_error("fuzz: %s %u is not one line: \"%s\"", what, i, (const char *)lines->pdata[i]);
    }
}

static void
mirror_round_trip(const GreIfcfg *a)
{
    g_autoptr(GError) error         = NULL;
    g_autoptr(GreSettings) m        = gre_mirror(a->settings, &error);
    g_autoptr(GPtrArray) mismatches = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) warnings   = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GreIfcfg) back        = NULL;
    g_autofree char *text           = NULL;
    g_autofree char *path           = NULL;
    g_autofree char *lines          = NULL;

    if (!m)
        return;
    text = gre_ifcfg_format(m);
    path = fuzz_write("ifcfg-m", text, strlen(text), 0644);
    back = gre_ifcfg_load(path, NULL, &error);
    if (!back)
        g_error("fuzz: the mirrored end is refused: %s\n%s", error->message, text);
    lines = fuzz_plan_render(back->settings, NULL);
    if (!gre_check(a->settings, "a", back->settings, "m", mismatches, warnings))
        g_error("fuzz: the mirrored end does not check against its origin: %s\n%s",
                mismatches->len ? (const char *)mismatches->pdata[0] : "(no mismatch named)", text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GPtrArray) mismatches = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) warnings   = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error         = NULL;
    g_autoptr(GreIfcfg) a           = NULL;
    g_autoptr(GreIfcfg) b           = NULL;
    g_autofree char *path_a         = NULL;
    g_autofree char *path_b         = NULL;
    g_autofree char *lines          = NULL;
    const uint8_t   *second;
    size_t           first_len, second_len;
    gboolean         same;

    fuzz_split(data, size, &second, &first_len, &second_len);
    path_a = fuzz_write("ifcfg-a", data, first_len, 0644);
    path_b = second ? fuzz_write("ifcfg-b", second, second_len, 0644) : g_strdup(path_a);
    if (!(a = gre_ifcfg_load(path_a, warnings, &error)))
        return 0;
    lines = fuzz_plan_render(a->settings, NULL);
    mirror_round_trip(a);
    if (!(b = gre_ifcfg_load(path_b, warnings, &error)))
        return 0;
    same = gre_check(a->settings, path_a, b->settings, path_b, mismatches, warnings);
    if (same != (mismatches->len == 0))
        g_error("fuzz: check says %s with %u mismatches", same ? "same" : "different",
                mismatches->len);
    check_one_line_each(mismatches, "mismatch");
    return 0;
}
