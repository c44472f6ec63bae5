/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * keys-NAME: the bytes are the keys file (mode 0600) beside a fixed ifcfg file that asks for
 * IPsec, or, after a line "%%", the ifcfg file comes first and the keys file second. Read through
 * gre_ifcfg_load() into validation, the plan and its ip(8) lines with and without the secrets.
 * What is accepted is written back by gre_ifcfg_format()/gre_ifcfg_format_keys() and must plan
 * the same lines.
 */
#include <string.h>

#include "fuzz-util.h"
#include "gre-ifcfg.h"

static const char ifcfg[] = "DEVICE=fz\n"
                            "TYPE=gre\n"
                            "MY_OUTER_IPADDR=192.0.2.10\n"
                            "PEER_OUTER_IPADDR=192.0.2.20\n"
                            "MY_INNER_IPADDR=198.51.100.9/31\n"
                            "PEER_INNER_IPADDR=198.51.100.8\n"
                            "IPSEC=manual\n"
                            "SPI_ESP_IN=0x1001\n"
                            "SPI_ESP_OUT=0x1002\n";

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
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error       = NULL;
    const uint8_t   *second;
    size_t           first_len, second_len;
    g_autofree char *path        = NULL;
    g_autofree char *keys_path   = NULL;
    g_autofree char *lines       = NULL;
    g_autofree char *text        = NULL;
    g_autofree char *keys        = NULL;
    g_autofree char *again_lines = NULL;
    g_autoptr(GreIfcfg) cfg      = NULL;
    g_autoptr(GreIfcfg) again    = NULL;

    fuzz_split(data, size, &second, &first_len, &second_len);
    if (second) {
        path      = fuzz_write("ifcfg-fz", data, first_len, 0644);
        keys_path = fuzz_write("keys-fz", second, second_len, 0600);
    } else {
        path      = fuzz_write("ifcfg-fz", ifcfg, strlen(ifcfg), 0644);
        keys_path = fuzz_write("keys-fz", data, size, 0600);
    }
    cfg = gre_ifcfg_load(path, warnings, &error);
    if (!cfg) {
        if (!error || !*error->message)
            g_error("fuzz: refused without a message");
        return 0;
    }
    lines = fuzz_plan_render(cfg->settings, NULL);

    text = gre_ifcfg_format(cfg->settings);
    keys = gre_ifcfg_format_keys(cfg->settings);
    g_clear_pointer(&path, g_free);
    g_clear_pointer(&keys_path, g_free);
    path = fuzz_write("ifcfg-fz", text, strlen(text), 0644);
    if (keys)
        keys_path = fuzz_write("keys-fz", keys, strlen(keys), 0600);
    else
        fuzz_remove("keys-fz");
    again = gre_ifcfg_load(path, NULL, &error);
    if (!again)
        g_error("fuzz: the written-back files are refused: %s", error->message);
    again_lines = fuzz_plan_render(again->settings, NULL);
    if (g_strcmp0(lines, again_lines) != 0)
        g_error("fuzz: written back, the files plan differently:\n%s\n---\n%s", lines ? lines : "",
                again_lines ? again_lines : "");
    if (keys)
        memset(keys, 0, strlen(keys));
    return 0;
}
