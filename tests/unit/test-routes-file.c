/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>

#include "gre-error.h"
#include "gre-routes-file.h"
#include "test-util.h"

/*****************************************************************************/

/* Routes as "PREFIX metric N via GW dev D src S line L", one per line, only what was given. */
static char *
dump(const GreRoutesFile *file)
{
    GString *out = g_string_new(NULL);

    for (guint i = 0; i < file->routes->len; i++) {
        const GreRouteEntry *e = &g_array_index(file->routes, GreRouteEntry, i);
        g_autofree char     *p = gre_prefix_to_string(&e->dst);

        g_string_append(out, p);
        if (e->metric)
            g_string_append_printf(out, " metric %u", e->metric);
        if (e->gateway.family) {
            g_autofree char *a = gre_addr_to_string(&e->gateway);
            g_string_append_printf(out, " via %s", a);
        }
        if (e->dev[0])
            g_string_append_printf(out, " dev %s", e->dev);
        if (e->src.family) {
            g_autofree char *a = gre_addr_to_string(&e->src);
            g_string_append_printf(out, " src %s", a);
        }
        g_string_append_printf(out, " line %u\n", e->line);
    }
    return g_string_free(out, FALSE);
}

typedef struct {
    int         family;
    const char *text;
    const char *want; /* dump() of the result */
    gboolean    shvar_form;
} GoodCase;

static const GoodCase good_cases[] = {
    { AF_INET, "203.0.113.0/24\n", "203.0.113.0/24 line 1\n" },
    { AF_INET, "", "" },
    { AF_INET, "# only a comment\n\n   \n\t# indented comment\n", "" },
    { AF_INET, "# routes\n\n203.0.113.0/25 via 198.51.100.2 dev gre1 metric 10 src 198.51.100.1\n",
      "203.0.113.0/25 metric 10 via 198.51.100.2 dev gre1 src 198.51.100.1 line 3\n" },
    { AF_INET, "  203.0.113.0/24\tmetric\t7  \n", "203.0.113.0/24 metric 7 line 1\n" },
    { AF_INET, "203.0.113.0/24 src 198.51.100.1 metric 0x10\n",
      "203.0.113.0/24 metric 16 src 198.51.100.1 line 1\n" },
    { AF_INET, "default metric 500", "0.0.0.0/0 metric 500 line 1\n" },
    { AF_INET, "203.0.113.7\n203.0.113.8/32\r\n",
      "203.0.113.7/32 line 1\n203.0.113.8/32 line 2\n" },
    { AF_INET6, "2001:db8:2::/48 metric 5\ndefault via 2001:db8:1::2\n",
      "2001:db8:2::/48 metric 5 line 1\n::/0 via 2001:db8:1::2 line 2\n" },
    /* The second form: ifup-routes picks it by any line assigning ADDRESSn. */
    { AF_INET,
      "ADDRESS0=203.0.113.0\nNETMASK0=255.255.255.128\nGATEWAY0=198.51.100.2\nMETRIC0=20\n"
      "# a host route\nADDRESS1='203.0.113.200'\n",
      "203.0.113.0/25 metric 20 via 198.51.100.2 line 1\n203.0.113.200/32 line 6\n", TRUE },
    { AF_INET, "  NETMASK0=\"255.255.255.0\"\nADDRESS0=198.51.100.0\nGATEWAY0=0.0.0.0\n",
      "198.51.100.0/24 line 2\n", TRUE },
    { AF_INET, "ADDRESS0=0.0.0.0\nNETMASK0=0.0.0.0\n", "0.0.0.0/0 line 1\n", TRUE },
    /* An empty ADDRESSn is absent, as in ifup-routes; with nothing after it that is fine. */
    { AF_INET, "ADDRESS0=203.0.113.0\nNETMASK0=255.255.255.0\nADDRESS1=\n",
      "203.0.113.0/24 line 1\n", TRUE },
};

static void
test_good(gconstpointer data)
{
    const GoodCase *c             = data;
    g_autoptr(GError) error       = NULL;
    g_autoptr(GreRoutesFile) file = NULL;
    g_autofree char *got          = NULL;

    file = gre_routes_file_parse("route-gre1", c->family, c->text, -1, &error);
    g_assert_no_error(error);
    got = dump(file);
    g_assert_cmpstr(got, ==, c->want);
    g_assert_cmpint(file->shvar_form, ==, c->shvar_form);
    g_assert_cmpint(file->family, ==, c->family);
}

typedef struct {
    int         family;
    const char *text;
    const char *message; /* the whole message */
} BadCase;

static const BadCase bad_cases[] = {
    { AF_INET, "203.0.113.0/24 table 5",
      "route-gre1:1: \"table\" is not supported; a route file of a GRE tunnel takes PREFIX [via "
      "GATEWAY] [dev DEVICE] [metric N] [src ADDRESS]" },
    { AF_INET, "\n\n# x\n203.0.113.0/24 proto static",
      "route-gre1:4: \"proto\" is not supported; a route file of a GRE tunnel takes PREFIX [via "
      "GATEWAY] [dev DEVICE] [metric N] [src ADDRESS]" },
    { AF_INET, "via 198.51.100.2 203.0.113.0/24",
      "route-gre1:1: \"via\" is not a prefix (like 203.0.113.0/24) or \"default\"" },
    { AF_INET, "203.0.113.1/24",
      "route-gre1:1: 203.0.113.1/24 has host bits set; did you mean "
      "203.0.113.0/24?" },
    { AF_INET, "2001:db8::/32",
      "route-gre1:1: 2001:db8::/32 is an IPv6 prefix; it belongs in "
      "route6-NAME" },
    { AF_INET6, "203.0.113.0/24",
      "route-gre1:1: 203.0.113.0/24 is an IPv4 prefix; it belongs in route-NAME" },
    { AF_INET6, "2001:db8::/32 via 198.51.100.2",
      "route-gre1:1: via \"198.51.100.2\": not an IPv6 address" },
    { AF_INET, "203.0.113.0/33",
      "route-gre1:1: \"203.0.113.0/33\" is not a prefix (like "
      "203.0.113.0/24) or \"default\"" },
    { AF_INET, "203.0.113.0/24 metric", "route-gre1:1: \"metric\" needs a value" },
    { AF_INET, "203.0.113.0/24 metric ten",
      "route-gre1:1: metric \"ten\": not a number from 0 to 4294967295" },
    { AF_INET, "203.0.113.0/24 metric 4294967296",
      "route-gre1:1: metric \"4294967296\": not a number from 0 to 4294967295" },
    { AF_INET, "203.0.113.0/24 metric 1 metric 2", "route-gre1:1: \"metric\" is given twice" },
    { AF_INET, "203.0.113.0/24 via 2001:db8::1",
      "route-gre1:1: via \"2001:db8::1\": not an IPv4 address" },
    { AF_INET, "203.0.113.0/24 src me", "route-gre1:1: src \"me\": not an IPv4 address" },
    { AF_INET, "203.0.113.0/24 dev averyveryverylongname",
      "route-gre1:1: dev \"averyveryverylongname\": interface names have at most 15 characters" },
    { AF_INET, "203.0.113.0/24 # to the lab",
      "route-gre1:1: a comment must be on a line of its own (ifup-routes would hand \"#\" to ip "
      "route as an argument)" },
    { AF_INET, "203.0.113.0/24 $(reboot)",
      "route-gre1:1: \"$(reboot)\" is not supported; a route file of a GRE tunnel takes PREFIX "
      "[via GATEWAY] [dev DEVICE] [metric N] [src ADDRESS]" },
    /* The second form. */
    { AF_INET, "ADDRESS0=203.0.113.0\nADDRESS2=198.51.100.128\n",
      "route-gre1:2: ADDRESS2: never read: the numbering stops at ADDRESS1, which is missing "
      "(network-scripts would drop this route too); number the routes from 0 without gaps" },
    { AF_INET, "ADDRESS1=203.0.113.0\n",
      "route-gre1:1: ADDRESS1: never read: the numbering stops at ADDRESS0, which is missing "
      "(network-scripts would drop this route too); number the routes from 0 without gaps" },
    { AF_INET, "ADDRESS0=203.0.113.0\nNETMASK1=255.0.0.0\n",
      "route-gre1:2: NETMASK1: there is no ADDRESS1 for it" },
    { AF_INET, "ADDRESS0=203.0.113.0\nOPTIONS0=\"table 5\"\n",
      "route-gre1:2: OPTIONS0: not a route key; this form takes ADDRESSn, NETMASKn, GATEWAYn and "
      "METRICn, n counting from 0" },
    { AF_INET, "ADDRESS0=203.0.113.0\nADDRESS01=198.51.100.128\n",
      "route-gre1:2: ADDRESS01: not a route key; this form takes ADDRESSn, NETMASKn, GATEWAYn "
      "and METRICn, n counting from 0" },
    { AF_INET, "ADDRESS0=203.0.113.0\nNETMASK0=255.0.255.0\n",
      "route-gre1:2: NETMASK0: \"255.0.255.0\" is not a netmask (like 255.255.255.0)" },
    { AF_INET, "ADDRESS0=203.0.113.1\nNETMASK0=255.255.255.0\n",
      "route-gre1:1: ADDRESS0: 203.0.113.1 has host bits set for NETMASK0; did you mean "
      "203.0.113.0?" },
    { AF_INET, "ADDRESS0=203.0.113.0/24\n",
      "route-gre1:1: ADDRESS0: \"203.0.113.0/24\" is not an IPv4 address (the prefix length goes "
      "in NETMASK0)" },
    { AF_INET, "ADDRESS0=203.0.113.0\nGATEWAY0=gw\n",
      "route-gre1:2: GATEWAY0: \"gw\" is not an IPv4 address" },
    { AF_INET, "ADDRESS0=203.0.113.0\nMETRIC0=-1\n",
      "route-gre1:2: METRIC0: \"-1\" is not a number from 0 to 4294967295" },
    { AF_INET6, "ADDRESS0=2001:db8::\n",
      "route-gre1: ADDRESSn/NETMASKn/GATEWAYn lines are read from route-NAME only; write the "
      "IPv6 routes of route6-NAME as \"PREFIX [metric N]\" lines" },
};

static void
test_bad(gconstpointer data)
{
    const BadCase *c              = data;
    g_autoptr(GError) error       = NULL;
    g_autoptr(GreRoutesFile) file = NULL;

    file = gre_routes_file_parse("route-gre1", c->family, c->text, -1, &error);
    g_assert_null(file);
    g_assert_error(error, GRE_ERROR, GRE_ERROR_PARSE);
    g_assert_cmpstr(error->message, ==, c->message);
}

/* A shell construct in the second form is the shell-variable reader's error, never run. */
static void
test_bad_shell(void)
{
    g_autoptr(GError) error       = NULL;
    g_autoptr(GreRoutesFile) file = NULL;

    file = gre_routes_file_parse("route-gre1", AF_INET, "ADDRESS0=$(reboot)\n", -1, &error);
    g_assert_null(file);
    g_assert_error(error, GRE_ERROR, GRE_ERROR_PARSE);
    g_assert_true(g_str_has_prefix(error->message, "route-gre1:1: ADDRESS0: "));
}

static void
test_nul(void)
{
    static const char text[] = "203.0.113.0/24\0 metric 1\n";
    g_autoptr(GError) error  = NULL;

    g_assert_null(gre_routes_file_parse("route-gre1", AF_INET, text, sizeof text - 1, &error));
    g_assert_error(error, GRE_ERROR, GRE_ERROR_PARSE);
    g_assert_cmpstr(error->message, ==, "route-gre1: contains a NUL byte; not a text file");
}

static void
test_path(void)
{
    g_autofree char *a = gre_routes_file_path("/etc/x/ifcfg-gre1", "other", AF_INET);
    g_autofree char *b = gre_routes_file_path("/etc/x/ifcfg-gre1", "other", AF_INET6);
    g_autofree char *c = gre_routes_file_path("/etc/x/tunnel.conf", "gre2", AF_INET);
    g_autofree char *d = gre_routes_file_path("ifcfg-gre3", NULL, AF_INET);

    g_assert_cmpstr(a, ==, "/etc/x/route-gre1");
    g_assert_cmpstr(b, ==, "/etc/x/route6-gre1");
    g_assert_cmpstr(c, ==, "/etc/x/route-gre2");
    g_assert_cmpstr(d, ==, "./route-gre3");
}

static void
test_load(void)
{
    g_autoptr(GError) error       = NULL;
    g_autofree char *dir          = g_dir_make_tmp("gre-routes-XXXXXX", NULL);
    g_autofree char *path         = g_build_filename(dir, "route-gre1", NULL);
    g_autofree char *missing      = g_build_filename(dir, "route-none", NULL);
    g_autoptr(GreRoutesFile) file = NULL;
    g_autofree char *got          = NULL;

    g_assert_true(g_file_set_contents(path, "203.0.113.0/24 metric 3\n", -1, NULL));
    file = gre_routes_file_load(path, AF_INET, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(file->source, ==, path);
    got = dump(file);
    g_assert_cmpstr(got, ==, "203.0.113.0/24 metric 3 line 1\n");

    g_assert_null(gre_routes_file_load(missing, AF_INET, &error));
    g_assert_error(error, GRE_ERROR, GRE_ERROR_IO);
    g_assert_nonnull(strstr(error->message, missing));

    g_unlink(path);
    g_rmdir(dir);
}

/*****************************************************************************/

#define TUNNEL                                                                                     \
    "DEVICE=gre1\nPEER_OUTER_IPADDR=192.0.2.2\nMY_INNER_IPADDR=198.51.100.1/30\n"                  \
    "PEER_INNER_IPADDR=198.51.100.2\nROUTES=203.0.113.0/24\n"

typedef struct {
    const char *settings; /* ifcfg lines */
    int         family;
    const char *text;
    const char *routes;  /* ROUTES after the merge */
    const char *message; /* NULL: the merge succeeds */
} MergeCase;

static const MergeCase merge_cases[] = {
    { TUNNEL, AF_INET,
      "198.51.100.128/25 via 198.51.100.2 dev gre1 src 198.51.100.1\n"
      "203.0.113.0/24 metric 5\n",
      "203.0.113.0/24 198.51.100.128/25 203.0.113.0/24 metric 5" },
    { TUNNEL, AF_INET, "ADDRESS0=198.51.100.128\nNETMASK0=255.255.255.128\nGATEWAY0=198.51.100.2\n",
      "203.0.113.0/24 198.51.100.128/25" },
    { TUNNEL, AF_INET, "198.51.100.128/25 via 192.0.2.254", NULL,
      "route-gre1:1: via 192.0.2.254: the tunnel's only next hop is its inner peer 198.51.100.2 "
      "(PEER_INNER_IPADDR); remove \"via 192.0.2.254\", or route via 198.51.100.2" },
    { TUNNEL, AF_INET, "ADDRESS0=198.51.100.128\nNETMASK0=255.255.255.128\nGATEWAY0=192.0.2.254\n",
      NULL,
      "route-gre1:1: via 192.0.2.254: the tunnel's only next hop is its inner peer 198.51.100.2 "
      "(PEER_INNER_IPADDR); remove \"via 192.0.2.254\", or route via 198.51.100.2" },
    { TUNNEL, AF_INET, "\n198.51.100.128/25 dev eth0", NULL,
      "route-gre1:2: dev eth0: the routes in this file go through the tunnel gre1; remove \"dev "
      "eth0\" (a route through another device belongs in that device's file)" },
    { TUNNEL, AF_INET, "198.51.100.128/25 src 192.0.2.1", NULL,
      "route-gre1:1: src 192.0.2.1: routes through the tunnel always use its inner address "
      "198.51.100.1 (MY_INNER_IPADDR) as the source; remove \"src 192.0.2.1\"" },
    { TUNNEL, AF_INET, "198.51.100.128/25\n203.0.113.0/24", NULL,
      "route-gre1:2: 203.0.113.0/24 is already routed through the tunnel (in ROUTES or on an "
      "earlier line); list each route once" },
    { TUNNEL, AF_INET, "198.51.100.128/25 metric 9\n198.51.100.128/25 metric 9", NULL,
      "route-gre1:2: 198.51.100.128/25 metric 9 is already routed through the tunnel (in ROUTES or "
      "on an earlier line); list each route once" },
    { TUNNEL, AF_INET6, "2001:db8:2::/48", NULL,
      "route-gre1:1: 2001:db8:2::/48 needs an IPv6 inner address to send from; set "
      "MY_INNER_IP6ADDR in the ifcfg file" },
    { "DEVICE=gre1\nPEER_OUTER_IPADDR=192.0.2.2\nMY_INNER_IPADDR=198.51.100.1/32\n", AF_INET,
      "198.51.100.128/25 via 198.51.100.2", NULL,
      "route-gre1:1: via 198.51.100.2: a point-to-point tunnel needs no gateway, and "
      "PEER_INNER_IPADDR is not set; remove \"via 198.51.100.2\"" },
    { "DEVICE=gre1\nPEER_OUTER_IPADDR=192.0.2.2\nMY_INNER_IP6ADDR=2001:db8:1::1/64\n"
      "PEER_INNER_IP6ADDR=2001:db8:1::2\n",
      AF_INET6, "2001:db8:2::/48 via 2001:db8:1::2 metric 5\ndefault metric 900",
      "2001:db8:2::/48 metric 5 ::/0 metric 900" },
};

static void
test_merge(gconstpointer data)
{
    const MergeCase *c            = data;
    g_autoptr(GError) error       = NULL;
    g_autoptr(GreSettings) s      = test_settings(c->settings);
    g_autoptr(GreRoutesFile) file = NULL;
    g_autofree char *routes       = NULL;

    file = gre_routes_file_parse("route-gre1", c->family, c->text, -1, &error);
    g_assert_no_error(error);
    if (!c->message) {
        g_assert_true(gre_routes_file_merge(file, s, &error));
        g_assert_no_error(error);
        routes = gre_key_get(gre_key_info(GRE_KEY_ROUTES), s);
        g_assert_cmpstr(routes, ==, c->routes);
        return;
    }
    g_assert_false(gre_routes_file_merge(file, s, &error));
    g_assert_error(error, GRE_ERROR, GRE_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==, c->message);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    for (gsize i = 0; i < G_N_ELEMENTS(good_cases); i++) {
        g_autofree char *name = g_strdup_printf("/routes-file/good/%02zu", i);
        g_test_add_data_func(name, &good_cases[i], test_good);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
        g_autofree char *name = g_strdup_printf("/routes-file/bad/%02zu", i);
        g_test_add_data_func(name, &bad_cases[i], test_bad);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(merge_cases); i++) {
        g_autofree char *name = g_strdup_printf("/routes-file/merge/%02zu", i);
        g_test_add_data_func(name, &merge_cases[i], test_merge);
    }
    g_test_add_func("/routes-file/bad/shell", test_bad_shell);
    g_test_add_func("/routes-file/bad/nul", test_nul);
    g_test_add_func("/routes-file/path", test_path);
    g_test_add_func("/routes-file/load", test_load);

    return g_test_run();
}
