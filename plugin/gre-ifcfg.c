/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-ifcfg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gre-error.h"
#include "gre-i18n.h"
#include "gre-settings-table.h"
#include "gre-validate.h"

/* Keys that network-scripts itself reads from any ifcfg file; they are not ours, but they are
 * not typos either. */
static const char *const foreign_keys[] = {
    "NAME",
    "UUID",
    "ONBOOT",
    "BOOTPROTO",
    "USERCTL",
    "NM_CONTROLLED",
    "TYPE",
    "DEVICETYPE",
    "IPV6INIT",
    "IPV6_AUTOCONF",
    "DEFROUTE",
    "ZONE",
    "HOTPLUG",
    "LINKSTATUS",
    "NOROUTESET",
    "IPV4_FAILURE_FATAL",
    "IPV6_FAILURE_FATAL",
    "PEERDNS",
    "PEERROUTES",
    "IPV6_DEFROUTE",
    "IPV6_PEERDNS",
    "IPV6_PEERROUTES",
};

void
gre_ifcfg_free(GreIfcfg *cfg)
{
    if (!cfg)
        return;
    gre_settings_free(cfg->settings);
    gre_shvar_file_free(cfg->ifcfg);
    gre_shvar_file_free(cfg->keys);
    g_free(cfg->ifcfg_path);
    g_free(cfg->keys_path);
    g_free(cfg);
}

char *
gre_ifcfg_keys_path(const char *ifcfg_path, const char *device)
{
    g_autofree char *dir  = g_path_get_dirname(ifcfg_path);
    g_autofree char *base = g_path_get_basename(ifcfg_path);
    const char      *name = g_str_has_prefix(base, "ifcfg-") ? base + 6 : device;
    g_autofree char *keys = g_strconcat("keys-", name ? name : base, NULL);

    return g_build_filename(dir, keys, NULL);
}

static gboolean
is_foreign(const char *key)
{
    for (guint i = 0; i < G_N_ELEMENTS(foreign_keys); i++) {
        if (strcmp(key, foreign_keys[i]) == 0)
            return TRUE;
    }
    return FALSE;
}

static const GreShvarFile *
source_of(const GreIfcfg *cfg, const char *name)
{
    /* network-scripts source keys-NAME after ifcfg-NAME, so its assignments win. */
    if (cfg->keys && gre_shvar_file_get(cfg->keys, name))
        return cfg->keys;
    return cfg->ifcfg;
}

static const char *
lookup(const char *name, gpointer user_data)
{
    return gre_shvar_file_get(source_of(user_data, name), name);
}

static char *
locate(const GreKeyInfo *key, gpointer user_data)
{
    const GreShvarFile *f    = source_of(user_data, key->ifcfg);
    guint               line = gre_shvar_file_get_line(f, key->ifcfg);

    if (line)
        return g_strdup_printf("%s:%u", gre_shvar_file_get_source(f), line);
    return g_strdup(gre_shvar_file_get_source(f));
}

static gboolean
check_type(const GreIfcfg *cfg, GError **error)
{
    const char *type  = gre_shvar_file_get(cfg->ifcfg, "TYPE");
    const char *dtype = gre_shvar_file_get(cfg->ifcfg, "DEVICETYPE");
    const char *path  = cfg->ifcfg_path;

    if (type && *type && strcmp(type, "GRE") != 0 && strcmp(type, "GRE6") != 0 &&
        strcmp(type, "gre") != 0) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_INVALID,
                    _("%s:%u: TYPE: \"%s\" is not a GRE tunnel (expected gre, GRE or GRE6)"), path,
                    gre_shvar_file_get_line(cfg->ifcfg, "TYPE"), type);
        return FALSE;
    }
    if (dtype && *dtype && strcmp(dtype, "gre") != 0) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_INVALID, _("%s:%u: DEVICETYPE: \"%s\" is not gre"),
                    path, gre_shvar_file_get_line(cfg->ifcfg, "DEVICETYPE"), dtype);
        return FALSE;
    }
    /* ifup-tunnel's TYPE names the outer family; our own TYPE=gre leaves it to the address. */
    if (type && (strcmp(type, "GRE") == 0 || strcmp(type, "GRE6") == 0) &&
        cfg->settings->remote.family != AF_UNSPEC &&
        ((strcmp(type, "GRE6") == 0) != (cfg->settings->remote.family == AF_INET6))) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_INVALID,
                    _("%s:%u: TYPE: %s does not match PEER_OUTER_IPADDR, which is an %s address"),
                    path, gre_shvar_file_get_line(cfg->ifcfg, "TYPE"), type,
                    cfg->settings->remote.family == AF_INET6 ? "IPv6" : "IPv4");
        return FALSE;
    }
    return TRUE;
}

/* Unknown keys named one by one; beyond that a count, so that a file of nothing but unknown
 * keys (90 000 of them fit in 1 MiB) does not make megabytes of warnings. */
#define MAX_UNKNOWN_WARNINGS 20

static gboolean
check_keys(const GreIfcfg *cfg, GPtrArray *warnings, GError **error)
{
    const char *const *keys    = gre_shvar_file_get_keys(cfg->ifcfg);
    guint              unknown = 0;

    for (guint i = 0; keys[i]; i++) {
        const GreKeyInfo *key  = gre_key_lookup(GRE_STYLE_IFCFG, keys[i]);
        guint             line = gre_shvar_file_get_line(cfg->ifcfg, keys[i]);

        if (key && key->secret) {
            g_set_error(error, GRE_ERROR, GRE_ERROR_PERMISSION,
                        _("%s:%u: %s: secrets do not belong in %s, which others can usually read; "
                          "move it to %s (mode 0600)"),
                        cfg->ifcfg_path, line, keys[i], cfg->ifcfg_path, cfg->keys_path);
            return FALSE;
        }
        if (!key && !is_foreign(keys[i]) && warnings && ++unknown <= MAX_UNKNOWN_WARNINGS)
            g_ptr_array_add(warnings,
                            g_strdup_printf(_("%s:%u: %s: not a setting of GRE tunnels; ignored"),
                                            cfg->ifcfg_path, line, keys[i]));
    }
    if (unknown > MAX_UNKNOWN_WARNINGS)
        g_ptr_array_add(warnings,
                        g_strdup_printf(g_dngettext(GETTEXT_PACKAGE,
                                                    "%s: %u more key that is not a setting of GRE "
                                                    "tunnels; ignored",
                                                    "%s: %u more keys that are not settings of GRE "
                                                    "tunnels; ignored",
                                                    unknown - MAX_UNKNOWN_WARNINGS),
                                        cfg->ifcfg_path, unknown - MAX_UNKNOWN_WARNINGS));
    return TRUE;
}

static GreIfcfg *
load(const char *path, gboolean with_keys, GPtrArray *warnings, GError **error)
{
    g_autoptr(GreIfcfg) cfg = g_new0(GreIfcfg, 1);
    struct stat st;

    cfg->ifcfg_path = g_strdup(path);
    cfg->ifcfg      = gre_shvar_file_load(path, error);
    if (!cfg->ifcfg)
        return NULL;
    cfg->keys_path = gre_ifcfg_keys_path(path, gre_shvar_file_get(cfg->ifcfg, "DEVICE"));
    if (!with_keys) {
        /* keygen replaces keys-NAME: what it holds now does not matter, it is not read. */
    } else if (lstat(cfg->keys_path, &st) == 0) {
        cfg->keys = gre_shvar_file_load_private(cfg->keys_path, geteuid(), error);
        if (!cfg->keys)
            return NULL;
    } else if (errno != ENOENT) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_IO, "%s: %s", cfg->keys_path, g_strerror(errno));
        return NULL;
    }
    if (!check_keys(cfg, warnings, error))
        return NULL;
    cfg->settings = gre_settings_from_lookup(GRE_STYLE_IFCFG, lookup, locate, cfg, error);
    if (!cfg->settings)
        return NULL;
    if (!check_type(cfg, error))
        return NULL;
    return g_steal_pointer(&cfg);
}

gboolean
gre_ifcfg_validate(GreIfcfg *cfg, GPtrArray *warnings, GError **error)
{
    return gre_settings_validate(cfg->settings, GRE_STYLE_IFCFG, locate, cfg, warnings, error);
}

GreIfcfg *
gre_ifcfg_load(const char *path, GPtrArray *warnings, GError **error)
{
    g_autoptr(GreIfcfg) cfg = load(path, TRUE, warnings, error);

    if (!cfg || !gre_ifcfg_validate(cfg, warnings, error))
        return NULL;
    return g_steal_pointer(&cfg);
}

GreIfcfg *
gre_ifcfg_load_without_keys(const char *path, GPtrArray *warnings, GError **error)
{
    return load(path, FALSE, warnings, error);
}

GreIfcfg *
gre_ifcfg_load_unvalidated(const char *path, GPtrArray *warnings, GError **error)
{
    return load(path, TRUE, warnings, error);
}

static char *
format(const GreSettings *s, gboolean secrets)
{
    /* Keys files: large enough that the string never moves (leaving a copy of the keys in freed
     * memory), and written without printf's scratch buffers. The caller wipes the result. */
    GString *out = g_string_sized_new(secrets ? 4096 : 1024);
    gboolean any = FALSE;

    if (!secrets) {
        g_string_append(out, "# GRE tunnel. TYPE=gre with DEVICETYPE=gre selects ifup-gre; "
                             "network-scripts'\n# own ifup-tunnel would claim TYPE=GRE. Secrets "
                             "are in keys-NAME.\n");
        /* Quoted like every value: a name may hold what a shell reads as syntax ($, `, ;, \). */
        g_autofree char *name = gre_shvar_escape(s->name);

        g_string_append_printf(out, "DEVICE=%s\nTYPE=gre\nDEVICETYPE=gre\nONBOOT=yes\n", name);
    } else
        g_string_append(out, "# Secrets of a GRE tunnel: keep this file mode 0600.\n");

    for (guint i = 0; i < GRE_KEY_COUNT; i++) {
        const GreKeyInfo *key    = gre_key_info(i);
        g_autofree char  *value  = NULL;
        g_autofree char  *quoted = NULL;

        if (key->secret != secrets || key->id == GRE_KEY_DEVICE)
            continue;
        if (gre_key_is_default(key, s) && !key->required)
            continue;
        value = gre_key_get(key, s);
        if (!value)
            continue;
        quoted = gre_shvar_escape(value);
        g_string_append(out, key->ifcfg);
        g_string_append_c(out, '=');
        g_string_append(out, quoted);
        g_string_append_c(out, '\n');
        any = TRUE;
        if (secrets) {
            explicit_bzero(value, strlen(value));
            explicit_bzero(quoted, strlen(quoted));
        }
    }
    if (secrets && !any) {
        g_string_free(out, TRUE);
        return NULL;
    }
    return g_string_free(out, FALSE);
}

char *
gre_ifcfg_format(const GreSettings *s)
{
    return format(s, FALSE);
}

char *
gre_ifcfg_format_keys(const GreSettings *s)
{
    return format(s, TRUE);
}

gboolean
gre_write_file_atomic(const char *path, const char *contents, int mode, gboolean overwrite,
                      GError **error)
{
    g_autofree char *tmp = g_strdup_printf("%s.XXXXXX", path);
    gsize            len = strlen(contents);
    int              fd;

    if (!overwrite && access(path, F_OK) == 0) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_IO, _("%s already exists; not overwriting it"),
                    path);
        return FALSE;
    }
    /* mkstemp creates the file 0600, so a secret is never readable by others, even briefly. */
    fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0 || fchmod(fd, mode) < 0 || write(fd, contents, len) != (ssize_t)len ||
        fsync(fd) < 0) {
        int err = errno;
        g_set_error(error, GRE_ERROR, GRE_ERROR_IO, _("cannot write %s: %s"), path,
                    g_strerror(err));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        return FALSE;
    }
    close(fd);
    if (rename(tmp, path) < 0) {
        int err = errno;
        unlink(tmp);
        g_set_error(error, GRE_ERROR, GRE_ERROR_IO, _("cannot write %s: %s"), path,
                    g_strerror(err));
        return FALSE;
    }
    return TRUE;
}

gboolean
gre_ifcfg_write(const GreSettings *s, const char *dir, gboolean overwrite, GError **error)
{
    g_autofree char *ifcfg_name = g_strconcat("ifcfg-", s->name, NULL);
    g_autofree char *keys_name  = g_strconcat("keys-", s->name, NULL);
    g_autofree char *ifcfg_path = g_build_filename(dir, ifcfg_name, NULL);
    g_autofree char *keys_path  = g_build_filename(dir, keys_name, NULL);
    g_autofree char *text       = gre_ifcfg_format(s);
    g_autofree char *keys       = gre_ifcfg_format_keys(s);
    gboolean         ok;

    if (keys) {
        ok = gre_write_file_atomic(keys_path, keys, 0600, overwrite, error);
        explicit_bzero(keys, strlen(keys));
        if (!ok)
            return FALSE;
    }
    return gre_write_file_atomic(ifcfg_path, text, 0644, overwrite, error);
}
