/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ifcfg-NAME as gre-tunnel plan and ifup-gre read it: the bytes are the file (no keys file), read
 * through gre_ifcfg_load() into validation, the plan and its ip(8) lines. What is accepted must
 * survive a round trip: written back by gre_ifcfg_format() and read again, it plans the same
 * lines. Every value the reader returns is quoted by gre_shvar_escape() and read back unchanged.
 */
#include <string.h>
#include <sys/stat.h>

#include "fuzz-util.h"
#include "gre-ifcfg.h"
#include "gre-shvar.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    return 0;
}

static void
escape_round_trip(const GreShvarFile *f)
{
    const char *const *keys = gre_shvar_file_get_keys(f);

    for (guint i = 0; keys[i]; i++) {
        const char      *value       = gre_shvar_file_get(f, keys[i]);
        g_autofree char *escaped     = NULL;
        g_autofree char *text        = NULL;
        g_autoptr(GreShvarFile) back = NULL;
        g_autoptr(GError) error      = NULL;

        if (!value)
            continue;
        escaped = gre_shvar_escape(value);
        text    = g_strdup_printf("%s=%s\n", keys[i], escaped);
        back    = gre_shvar_file_parse("escaped", text, -1, &error);
        if (!back)
            g_error("fuzz: %s=%s does not read back: %s", keys[i], escaped, error->message);
        if (g_strcmp0(gre_shvar_file_get(back, keys[i]), value) != 0)
            g_error("fuzz: %s: \"%s\" reads back as \"%s\"", keys[i], value,
                    gre_shvar_file_get(back, keys[i]));
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error       = NULL;
    g_autofree char *path         = fuzz_write("ifcfg-fz", data, size, 0644);
    g_autoptr(GreIfcfg) cfg       = gre_ifcfg_load(path, warnings, &error);
    g_autofree char *lines        = NULL;
    g_autofree char *text         = NULL;
    g_autofree char *again_path   = NULL;
    g_autofree char *again_lines  = NULL;
    g_autoptr(GreIfcfg) again     = NULL;

    if (!cfg) {
        if (!error || !*error->message)
            g_error("fuzz: refused without a message");
        return 0;
    }
    escape_round_trip(cfg->ifcfg);
    lines = fuzz_plan_render(cfg->settings, NULL);

    /* Written back and read again: the same tunnel. */
    text       = gre_ifcfg_format(cfg->settings);
    again_path = fuzz_write("ifcfg-fz-again", text, strlen(text), 0644);
    again      = gre_ifcfg_load(again_path, NULL, &error);
    if (!again)
        g_error("fuzz: the written-back file is refused: %s\n%s", error->message, text);
    again_lines = fuzz_plan_render(again->settings, NULL);
    if (g_strcmp0(lines, again_lines) != 0)
        g_error("fuzz: written back, the file plans differently:\n%s\n---\n%s", lines ? lines : "",
                again_lines ? again_lines : "");
    return 0;
}
