/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Import, as the editor plugin (nmcli connection import type gre) does it: the bytes are an ifcfg
 * file, and after a line "%%" its keys file (mode 0600). gre_nm_import() makes the connection;
 * its vpn.data and vpn.secrets are read back as the service would (gre_nm_settings_from_vpn) and
 * must plan the same ip(8) lines as the file read directly by gre_ifcfg_load().
 */
#include <string.h>

#include "fuzz-util.h"
#include "gre-ifcfg.h"
#include "gre-nm-data.h"
#include "gre-nm-file.h"
#include "gre-settings-table.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GPtrArray) warnings    = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error          = NULL;
    g_autoptr(NMConnection) conn     = NULL;
    g_autoptr(GreSettings) s         = NULL;
    g_autoptr(GreIfcfg) cfg          = NULL;
    g_autofree char        *path     = NULL;
    g_autofree char        *filename = NULL;
    g_autofree char        *lines    = NULL;
    g_autofree char        *direct   = NULL;
    g_autofree const char **missing  = NULL;
    const uint8_t          *second;
    size_t                  first_len, second_len;

    fuzz_split(data, size, &second, &first_len, &second_len);
    path = fuzz_write("ifcfg-imp", data, first_len, 0644);
    if (second)
        g_free(fuzz_write("keys-imp", second, second_len, 0600));
    else
        fuzz_remove("keys-imp");

    conn = gre_nm_import(path, warnings, &error);
    if (!conn) {
        if (!error || !*error->message)
            g_error("fuzz: refused without a message");
        return 0;
    }
    if (!nm_connection_get_id(conn) || !*nm_connection_get_id(conn))
        g_error("fuzz: imported without a name");
    filename = gre_nm_suggested_filename(conn);
    if (!filename || strchr(filename, '/'))
        g_error("fuzz: suggested file name \"%s\"", filename ? filename : "(null)");
    missing = gre_nm_missing_secrets(nm_connection_get_setting_vpn(conn));
    if (missing[0]) {
        /* A secret to be supplied later: the import's only difference from gre-tunnel, which
         * refuses the file naming that secret. */
        const GreKeyInfo *key = gre_key_lookup(GRE_STYLE_NM, missing[0]);

        cfg = gre_ifcfg_load(path, NULL, &error);
        if (cfg || !key || !strstr(error->message, key->ifcfg))
            g_error("fuzz: imported without %s, but gre_ifcfg_load says: %s", missing[0],
                    cfg ? "fine" : error->message);
        return 0;
    }
    s = gre_nm_settings_from_vpn(nm_connection_get_setting_vpn(conn), &error);
    if (!s)
        g_error("fuzz: an imported connection is refused: %s", error->message);
    lines = fuzz_plan_render(s, NULL);

    cfg = gre_ifcfg_load(path, NULL, &error);
    if (!cfg)
        g_error("fuzz: imported, but gre_ifcfg_load refuses it: %s", error->message);
    direct = fuzz_plan_render(cfg->settings, NULL);
    if (g_strcmp0(lines, direct) != 0)
        g_error("fuzz: imported, it plans differently:\n%s\n---\n%s", lines ? lines : "",
                direct ? direct : "");
    return 0;
}
