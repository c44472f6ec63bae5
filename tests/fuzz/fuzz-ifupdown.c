/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An /etc/network/interfaces stanza as ifup-gre --ifupdown reads it: ifupdown hands the hook
 * IFACE, METHOD and one IF_* variable per option. The bytes are the stanza's lines: the first is
 * the interface name, every other "OPTION VALUE" (as in the file) becomes the variable ifupdown
 * would export; after a line "%%" comes the file gre-keys-file names (mode 0600). The reader is
 * the one in ifup-scripts/gre-boot.c, compiled in here (its entry point is static): the stanza's
 * settings, the keys file and validation (stanza_settings), then the plan and its ip(8) lines on
 * a fixed host instead of the kernel's.
 */
#include <glib.h>
#include <stdio.h>
#include <syslog.h>

/* The reader's messages are not what is fuzzed: keep them off the terminal and the journal. */
static inline int G_GNUC_PRINTF(2, 3) quiet(FILE *stream, const char *fmt, ...)
{
    (void)stream;
    (void)fmt;
    return 0;
}
#define fprintf quiet
#define syslog(...) ((void)0)
#define openlog(...) ((void)0)
#define main gre_boot_main

#include "../../ifup-scripts/gre-boot.c"

#undef fprintf
#undef main

#include "fuzz-util.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    return 0;
}

/* The stanza's environment, as ifupdown exports it, is the process's `environ` while the reader
 * runs. setenv() is no way to build it: glibc keeps every string it ever set (so that old
 * getenv() results stay valid), and over millions of inputs the harness grew to almost a
 * gigabyte and slowed to a third. A fresh one per input also keeps one input's options from
 * the next. */
extern char **environ;

static void
env_set(GPtrArray *env, const char *name, const char *value)
{
    gsize n = strlen(name);

    for (guint i = 0; i < env->len; i++) {
        const char *e = env->pdata[i];

        if (strncmp(e, name, n) == 0 && e[n] == '=') {
            g_ptr_array_remove_index(env, i);
            break;
        }
    }
    g_ptr_array_add(env, g_strconcat(name, "=", value, NULL));
}

static const char *
env_get(GPtrArray *env, const char *name)
{
    gsize n = strlen(name);

    for (guint i = 0; i < env->len; i++) {
        const char *e = env->pdata[i];

        if (strncmp(e, name, n) == 0 && e[n] == '=')
            return e + n + 1;
    }
    return NULL;
}

/* Reads the stanza with ENV as the whole environment; *gre says whether it has a gre option at
 * all (without one the hook leaves the stanza alone). */
static GreSettings *
read_stanza(GPtrArray *env, Stanza *st, gboolean *gre, GError **error)
{
    char       **saved = environ;
    GreSettings *s     = NULL;

    g_ptr_array_add(env, NULL);
    environ = (char **)env->pdata;
    *gre    = stanza_has_gre_options();
    if (*gre)
        s = stanza_settings(st, error);
    environ = saved;
    return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error  = NULL;
    g_autoptr(GreSettings) s = NULL;
    g_autoptr(GPtrArray) env = NULL;
    g_autofree char *stanza  = NULL;
    g_autofree char *where   = NULL;
    g_autofree char *keys    = NULL;
    g_autofree char *lines   = NULL;
    g_auto(GStrv) split      = NULL;
    const uint8_t *second;
    const char    *keys_opt;
    size_t         first_len, second_len;
    gboolean       gre;
    Stanza         st = { 0 };

    fuzz_split(data, size, &second, &first_len, &second_len);
    stanza = g_strndup((const char *)data, first_len);
    split  = g_strsplit(stanza, "\n", -1);
    /* Environment strings end at a NUL and cannot hold '=' in a name: what ifupdown cannot
     * export is not fuzzed. An empty name is refused before the reader runs. */
    if (!split[0] || !*split[0] || strchr(split[0], '='))
        return 0;
    env = g_ptr_array_new_with_free_func(g_free);
    env_set(env, "IFACE", split[0]);
    env_set(env, "METHOD", "manual");
    for (guint i = 1; split[i]; i++) {
        const char      *sp  = strchr(split[i], ' ');
        g_autofree char *opt = sp ? g_strndup(split[i], sp - split[i]) : g_strdup(split[i]);
        g_autofree char *var = NULL;

        if (!*opt)
            continue;
        var = env_name(opt);
        if (strcmp(var, "IF_") == 0)
            continue;
        if (g_str_has_prefix(opt, "method="))
            env_set(env, "METHOD", opt + 7);
        else
            env_set(env, var, sp ? sp + 1 : "");
    }
    keys_opt = env_get(env, "IF_GRE_KEYS_FILE");
    if (second) {
        keys = fuzz_write("stanza.keys", second, second_len, 0600);
        env_set(env, "IF_GRE_KEYS_FILE", keys);
    } else if (keys_opt && g_path_is_absolute(keys_opt)) {
        /* A gre-keys-file the input names would read this host's files (a FIFO would hang the
         * run): it names a file that is not there instead. Relative paths stay, for their
         * error. */
        g_autofree char *absent = g_build_filename(fuzz_dir(), "absent.keys", NULL);
        env_set(env, "IF_GRE_KEYS_FILE", absent);
    }
    where    = g_strdup_printf("iface %s", split[0]);
    st.iface = split[0];
    st.where = where;
    s        = read_stanza(env, &st, &gre, &error);
    gre_shvar_file_free(st.keys);
    if (!gre)
        return 0;
    if (!s) {
        if (!error || !*error->message)
            g_error("fuzz: refused without a message");
        return 0;
    }
    lines = fuzz_plan_render(s, NULL);
    return 0;
}
