/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gre-tunnel keygen: fresh keys into keys-NAME and fresh SPIs into CONFIG, both or neither. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gre-error.h"
#include "gre-file.h"
#include "gre-i18n.h"
#include "gre-keygen.h"
#include "gre-settings-table.h"
#include "gre-shvar-edit.h"
#include "gre-suite.h"
#include "gre-tunnel-cli.h"

/* One file to be replaced: its new contents, already on disk under a temporary name. */
typedef struct {
    const char *path;
    char       *tmp;
} Pending;

static void
pending_drop(Pending *p)
{
    if (p->tmp) {
        unlink(p->tmp);
        g_clear_pointer(&p->tmp, g_free);
    }
}

/* Writes @contents beside @path under a temporary name, created 0600 (so secrets are never
 * readable by others, even for a moment), then given @mode and, when @st says so, @st's owner. */
static gboolean
write_pending(Pending *p, const char *contents, mode_t mode, const struct stat *owner,
              GError **error)
{
    gsize len = strlen(contents);
    int   fd;

    p->tmp = g_strdup_printf("%s.XXXXXX", p->path);
    fd     = g_mkstemp_full(p->tmp, O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0 ||
        (owner && (owner->st_uid != geteuid() || owner->st_gid != getegid()) &&
         fchown(fd, owner->st_uid, owner->st_gid) < 0) ||
        fchmod(fd, mode) < 0 || write(fd, contents, len) != (ssize_t)len || fsync(fd) < 0) {
        int errsv = errno;

        g_set_error(error, GRE_ERROR, GRE_ERROR_IO, _("cannot write %s: %s"), p->path,
                    g_strerror(errsv));
        if (fd >= 0)
            close(fd);
        else
            g_clear_pointer(&p->tmp, g_free);
        pending_drop(p);
        return FALSE;
    }
    close(fd);
    return TRUE;
}

/* A name beside @path that nothing uses, for a moment. */
static char *
spare_name(const char *path)
{
    char *name = g_strdup_printf("%s.XXXXXX", path);
    int   fd   = g_mkstemp_full(name, O_WRONLY | O_CLOEXEC, 0600);

    if (fd < 0) {
        g_free(name);
        return NULL;
    }
    close(fd);
    unlink(name);
    return name;
}

/* Puts both files in place, the keys first. The old keys file is kept under a temporary name
 * (swapped with the new one where the file system can, else a second link to it) until CONFIG
 * is replaced too, so that it can be put back: on failure both files are as they were. */
static gboolean
commit(Pending *keys, Pending *config, GError **error)
{
    g_autofree char *backup = NULL;
    gboolean         swapped;
    int              errsv;

    swapped = renameat2(AT_FDCWD, keys->tmp, AT_FDCWD, keys->path, RENAME_EXCHANGE) == 0;
    if (!swapped) {
        errsv = errno;
        if (errsv != ENOENT &&
            (!(backup = spare_name(keys->path)) || link(keys->path, backup) < 0)) {
            errsv = errno;
            g_set_error(error, GRE_ERROR, GRE_ERROR_IO, _("cannot write %s: %s"), keys->path,
                        g_strerror(errsv));
            return FALSE;
        }
        if (rename(keys->tmp, keys->path) < 0) {
            errsv = errno;
            if (backup)
                unlink(backup);
            g_set_error(error, GRE_ERROR, GRE_ERROR_IO, _("cannot write %s: %s"), keys->path,
                        g_strerror(errsv));
            return FALSE;
        }
        g_clear_pointer(&keys->tmp, g_free);
    }
    if (rename(config->tmp, config->path) == 0) {
        g_clear_pointer(&config->tmp, g_free);
        /* The old keys file goes: it is under keys->tmp after a swap, or under backup. */
        pending_drop(keys);
        if (backup)
            unlink(backup);
        return TRUE;
    }
    errsv = errno;
    if (swapped)
        renameat2(AT_FDCWD, keys->tmp, AT_FDCWD, keys->path, RENAME_EXCHANGE);
    else if (backup)
        rename(backup, keys->path);
    else
        unlink(keys->path);
    g_set_error(error, GRE_ERROR, GRE_ERROR_IO, _("cannot write %s: %s"), config->path,
                g_strerror(errsv));
    return FALSE;
}

/* "FILE:LINE: KEY: " for the assignment in effect of @key in CONFIG, as validation says it. */
static char *
where(const GreIfcfg *cfg, const char *key)
{
    guint line = gre_shvar_file_get_line(cfg->ifcfg, key);

    if (line)
        return g_strdup_printf("%s:%u: %s: ", cfg->ifcfg_path, line, key);
    return g_strdup_printf("%s: %s: ", cfg->ifcfg_path, key);
}

static int
fail(GError *error)
{
    g_autoptr(GError) owned = error;
    g_autofree char *shown  = gre_error_display(owned->message);

    g_printerr("gre-tunnel: %s\n", shown);
    return owned->domain == G_OPTION_ERROR ? 2 : 1;
}

int
gre_cli_keygen(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("CONFIG");
    g_autoptr(GError) error       = NULL;
    g_autoptr(GreIfcfg) cfg       = NULL;
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GreShvarFile) again = NULL;
    g_autofree char *path         = NULL;
    g_autofree char *real         = NULL;
    g_autofree char *text         = NULL;
    g_autofree char *edited       = NULL;
    g_autoptr(GreSettings) before = NULL;
    g_autoptr(GPtrArray) names    = g_ptr_array_new();
    g_autoptr(GPtrArray) values   = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GString) changed    = g_string_new(NULL);
    g_autofree char *keys_dir     = NULL;
    g_auto(GreWipedString) keys   = NULL;
    Pending     keys_file = { 0 }, config_file = { 0 };
    struct stat st;
    gsize       len = 0;
    int         fd;
    gboolean    ok;

    g_option_context_set_translation_domain(ctx, GETTEXT_PACKAGE);
    g_option_context_set_summary(
        ctx, N_("Make fresh IPsec keys for the tunnel CONFIG (an ifcfg file, or NAME) describes, "
                "from the kernel's random generator: keys-NAME beside CONFIG is written anew "
                "(mode 0600) with keys of the sizes IPSEC_SUITE needs, and SPI_ESP_IN and "
                "SPI_ESP_OUT in CONFIG get fresh SPIs; the rest of CONFIG is kept as it is. "
                "With IPSEC=ike, keys-NAME gets a fresh IKE_PSK instead. "
                "Keys are never printed. Then write the peer's files with gre-tunnel mirror."));
    if (!g_option_context_parse(ctx, &argc, &argv, &error))
        return fail(g_steal_pointer(&error));
    if (argc != 2)
        return fail(g_error_new(G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                _("wrong number of arguments; see --help")));

    path = gre_cli_config_path(argv[1]);
    if (!(cfg = gre_ifcfg_load_without_keys(path, warnings, &error)))
        return fail(g_steal_pointer(&error));
    before = gre_settings_copy(cfg->settings);
    if (!gre_keygen(cfg->settings, &error)) {
        g_autofree char *at = where(cfg, gre_key_info(GRE_KEY_IPSEC)->ifcfg);

        g_prefix_error(&error, "%s", at);
        return fail(g_steal_pointer(&error));
    }
    /* The new keys are checked like any others: settings that would not come up are refused
     * before anything is written. */
    if (!gre_ifcfg_validate(cfg, warnings, &error))
        return fail(g_steal_pointer(&error));
    for (guint i = 0; i < warnings->len; i++) {
        g_autofree char *shown = gre_error_display(warnings->pdata[i]);

        g_printerr(_("gre-tunnel: warning: %s\n"), shown);
    }

    /* A CONFIG that is a symbolic link stays one: its target is what changes. */
    real = realpath(path, NULL);
    if (!real) {
        g_set_error(&error, GRE_ERROR, GRE_ERROR_IO, _("cannot read %s: %s"), path,
                    g_strerror(errno));
        return fail(g_steal_pointer(&error));
    }
    /* Its mode is that of the file read, and the read is bounded like every other. */
    if ((fd = gre_file_open_regular(real, GRE_FILE_FOLLOW, &st, &error)) < 0)
        return fail(g_steal_pointer(&error));
    text = gre_file_read_fd(fd, path, &len, &error);
    close(fd);
    if (!text)
        return fail(g_steal_pointer(&error));
    if (!(again = gre_shvar_file_parse(path, text, len, &error)))
        return fail(g_steal_pointer(&error));
    /* What keygen changed outside the secrets (the SPIs for manual keying) is set in CONFIG. */
    for (guint i = 0; i < GRE_KEY_COUNT; i++) {
        const GreKeyInfo *key = gre_key_info(i);
        g_autofree char  *old = NULL;
        char             *now;

        if (key->secret)
            continue;
        old = gre_key_get(key, before);
        now = gre_key_get(key, cfg->settings);
        if (g_strcmp0(old, now) == 0 || !now) {
            g_free(now);
            continue;
        }
        g_ptr_array_add(names, (gpointer)key->ifcfg);
        g_ptr_array_add(values, now);
        g_string_append_printf(changed, "%s%s=%s", changed->len ? ", " : "", key->ifcfg, now);
    }
    g_ptr_array_add(names, NULL);
    g_ptr_array_add(values, NULL);
    edited = gre_shvar_edit(text, len, again, (const char *const *)names->pdata,
                            (const char *const *)values->pdata);
    keys   = gre_ifcfg_format_keys(cfg->settings);

    if (!gre_shvar_check_private_type(cfg->keys_path, &error))
        return fail(g_steal_pointer(&error));
    keys_file.path   = cfg->keys_path;
    config_file.path = real;
    ok               = write_pending(&keys_file, keys, 0600, NULL, &error) &&
         write_pending(&config_file, edited, st.st_mode & 07777, &st, &error) &&
         commit(&keys_file, &config_file, &error);
    pending_drop(&keys_file);
    pending_drop(&config_file);
    if (!ok)
        return fail(g_steal_pointer(&error));

    keys_dir = g_path_get_dirname(cfg->keys_path);
    if (cfg->settings->ipsec == GRE_IPSEC_IKE)
        g_print(_("%s: a fresh IKE pre-shared key (mode 0600)\n"), cfg->keys_path);
    else
        g_print(_("%s: fresh %s keys (mode 0600)\n"), cfg->keys_path,
                gre_suite_info(cfg->settings->suite)->name);
    if (changed->len)
        g_print("%s: %s\n", path, changed->str);
    g_print(_("Next: write the peer's files with\n"
              "  gre-tunnel mirror -f -o DIR %s\n"
              "copy DIR/ifcfg-NAME and DIR/keys-NAME to the peer over a secure channel (keys-NAME "
              "mode 0600), then run gre-tunnel up on both ends.\n"),
            path);
    return 0;
}
