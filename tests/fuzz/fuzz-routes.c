/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * route-NAME and route6-NAME as ifup-gre reads them beside an ifcfg file: the first byte picks
 * the file (even: route-, odd: route6-), the rest is its text. Read by gre_routes_file_load(),
 * merged into a fixed tunnel with both inner families by gre_routes_file_merge(), then planned
 * and rendered.
 */
#include <string.h>
#include <sys/socket.h>

#include "fuzz-util.h"
#include "gre-ifcfg.h"
#include "gre-routes-file.h"

static const char ifcfg[] = "DEVICE=fz\n"
                            "TYPE=gre\n"
                            "MY_OUTER_IPADDR=192.0.2.10\n"
                            "PEER_OUTER_IPADDR=192.0.2.20\n"
                            "MY_INNER_IPADDR=198.51.100.9/31\n"
                            "PEER_INNER_IPADDR=198.51.100.8\n"
                            "MY_INNER_IP6ADDR=2001:db8:ffff::1/64\n"
                            "PEER_INNER_IP6ADDR=2001:db8:ffff::2\n";

static GreIfcfg *base;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path   = NULL;

    (void)argc;
    (void)argv;
    fuzz_init();
    path = fuzz_write("ifcfg-fz", ifcfg, strlen(ifcfg), 0644);
    base = gre_ifcfg_load(path, NULL, &error);
    if (!base)
        g_error("fuzz: the fixed ifcfg file is refused: %s", error->message);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error       = NULL;
    g_autoptr(GreRoutesFile) file = NULL;
    g_autoptr(GreSettings) s      = NULL;
    g_autofree char *path         = NULL;
    g_autofree char *lines        = NULL;
    int              family;

    if (size < 1)
        return 0;
    family = data[0] & 1 ? AF_INET6 : AF_INET;
    {
        g_autofree char *want = gre_routes_file_path(base->ifcfg_path, "fz", family);
        g_autofree char *name = g_path_get_basename(want);

        path = fuzz_write(name, data + 1, size - 1, 0644);
    }
    file = gre_routes_file_load(path, family, &error);
    if (!file) {
        if (!error || !*error->message)
            g_error("fuzz: refused without a message");
        return 0;
    }
    if (file->family != family)
        g_error("fuzz: read as family %d, asked for %d", file->family, family);
    s = gre_settings_copy(base->settings);
    if (!gre_routes_file_merge(file, s, &error)) {
        if (!error || !*error->message)
            g_error("fuzz: merge refused without a message");
        return 0;
    }
    lines = fuzz_plan_render(s, NULL);
    return 0;
}
