/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "gre-ifcfg.h"
#include "gre-nm-config.h"
#include "gre-nm-data.h"
#include "gre-nm-plan.h"
#include "test-util.h"

/* The host facts of the plan goldens: the remote is reached via eth0. */
static void
fixed_env(int family, GrePlanEnv *env)
{
    memset(env, 0, sizeof *env);
    g_strlcpy(env->route_dev, "eth0", sizeof env->route_dev);
    g_assert_true(gre_addr_parse(family == AF_INET6 ? "2001:db8:a::fe" : "192.0.2.254", family,
                                 &env->route_gateway));
    g_assert_true(
        gre_addr_parse(family == AF_INET6 ? "2001:db8:a::5" : "192.0.2.5", family, &env->local));
    env->route_mtu = 1500;
}

static GrePlan *
example_plan(const char *name)
{
    g_autofree char *dir    = test_copy_data_dir("examples");
    g_autofree char *path   = g_strdup_printf("%s/ifcfg-%s", dir, name);
    g_autoptr(GError) error = NULL;
    g_autoptr(GreIfcfg) cfg = gre_ifcfg_load(path, NULL, &error);
    GrePlanEnv env;
    GrePlan   *plan;

    g_assert_no_error(error);
    fixed_env(cfg->settings->remote.family, &env);
    plan = gre_plan_build(cfg->settings, &env, &error);
    g_assert_no_error(error);
    test_remove_dir(dir);
    return plan;
}

static GrePlan *
text_plan(const char *text)
{
    g_autoptr(GreSettings) s = test_settings(text);
    g_autoptr(GError) error  = NULL;
    GrePlanEnv env;
    GrePlan   *plan;

    fixed_env(s->remote.family, &env);
    plan = gre_plan_build(s, &env, &error);
    g_assert_no_error(error);
    return plan;
}

static char *
kinds(const GrePlan *plan)
{
    static const char *names[] = { "state", "policy", "route", "link", "addr", "up" };
    GString           *out     = g_string_new(NULL);

    for (guint i = 0; i < plan->steps->len; i++) {
        const GrePlanStep *step = &g_array_index(plan->steps, GrePlanStep, i);

        g_string_append_printf(out, "%s%s%s", i ? " " : "", names[step->kind],
                               step->kind == GRE_STEP_ROUTE && step->route.pin ? "(pin)" : "");
    }
    return g_string_free(out, FALSE);
}

/* The service creates IPsec, the pin and the link; NetworkManager gets addresses and routes. */
static void
test_tunnel_only(void)
{
    static const struct {
        const char *name, *full, *tunnel;
    } cases[] = {
        { "office", "link up addr route", "link up" },
        { "legacy", "link up addr", "link up" },
        { "branch", "state state policy policy link up addr", "state state policy policy link up" },
        { "pppoe", "state state policy policy route(pin) link up addr route",
          "state state policy policy route(pin) link up" },
        { "v6", "state state policy policy link up addr addr route route",
          "state state policy policy link up" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GrePlan) plan     = example_plan(cases[i].name);
        g_autoptr(GPtrArray) before = gre_plan_render_up(plan, FALSE);
        g_autoptr(GPtrArray) after  = NULL;
        g_autofree char *full       = kinds(plan);
        g_autofree char *tunnel     = NULL;
        guint            j          = 0;

        g_assert_cmpstr(full, ==, cases[i].full);
        gre_nm_plan_tunnel_only(plan);
        tunnel = kinds(plan);
        g_assert_cmpstr(tunnel, ==, cases[i].tunnel);
        /* The kept steps are unchanged and in their order. */
        after = gre_plan_render_up(plan, FALSE);
        for (guint k = 0; k < before->len && j < after->len; k++) {
            if (strcmp(before->pdata[k], after->pdata[j]) == 0)
                j++;
        }
        g_assert_cmpuint(j, ==, after->len);
    }
}

static void
test_tunnel_only_pppoe_exact(void)
{
    g_autoptr(GrePlan) plan = example_plan("pppoe");
    g_autoptr(GPtrArray) up = NULL;

    gre_nm_plan_tunnel_only(plan);
    up = gre_plan_render_up(plan, FALSE);
    g_assert_cmpuint(up->len, ==, 7);
    g_assert_cmpstr(up->pdata[4], ==,
                    "ip route add 198.51.100.7/32 via 192.0.2.254 dev eth0 proto static");
    g_assert_cmpstr(up->pdata[5], ==,
                    "ip link add pppoe mtu 1418 type gre local 192.0.2.1 remote 198.51.100.7 ttl "
                    "64 tos inherit");
    g_assert_cmpstr(up->pdata[6], ==, "ip link set pppoe up");
}

static guint32
v4(const char *text)
{
    struct in_addr a;

    g_assert_cmpint(inet_pton(AF_INET, text, &a), ==, 1);
    return a.s_addr;
}

static void
assert_v6(GVariant *dict, const char *key, const char *text)
{
    g_autoptr(GVariant) v = g_variant_lookup_value(dict, key, G_VARIANT_TYPE("ay"));
    struct in6_addr want;
    gsize           n = 0;
    const guint8   *d;

    g_assert_nonnull(v);
    d = g_variant_get_fixed_array(v, &n, 1);
    g_assert_cmpuint(n, ==, 16);
    g_assert_cmpint(inet_pton(AF_INET6, text, &want), ==, 1);
    g_assert_cmpmem(d, n, &want, 16);
}

static guint32
get_u(GVariant *dict, const char *key)
{
    guint32 v = 0;

    if (!g_variant_lookup(dict, key, "u", &v))
        g_error("%s is missing or not of type u", key);
    return v;
}

static gboolean
get_b(GVariant *dict, const char *key)
{
    gboolean v = FALSE;

    if (!g_variant_lookup(dict, key, "b", &v))
        g_error("%s is missing or not of type b", key);
    return v;
}

static void
test_config_branch(void)
{
    g_autoptr(GrePlan) plan    = example_plan("branch");
    g_autoptr(GVariant) gen    = g_variant_ref_sink(gre_nm_config_generic(plan));
    g_autoptr(GVariant) ip4    = g_variant_ref_sink(gre_nm_config_ip(plan, AF_INET));
    g_autoptr(GVariant) routes = NULL;
    const char *tundev         = NULL;

    g_assert_cmpstr(g_variant_get_type_string(gen), ==, "a{sv}");
    g_assert_true(g_variant_lookup(gen, "tundev", "&s", &tundev));
    g_assert_cmpstr(tundev, ==, "branch");
    g_assert_cmphex(get_u(gen, "gateway"), ==, v4("192.0.2.20"));
    g_assert_cmpuint(get_u(gen, "mtu"), ==, plan->mtu);
    g_assert_cmpuint(plan->mtu, >, 1300);
    g_assert_true(get_b(gen, "has-ip4"));
    g_assert_false(get_b(gen, "has-ip6"));
    g_assert_cmpuint(g_variant_n_children(gen), ==, 5);

    g_assert_null(gre_nm_config_ip(plan, AF_INET6));
    g_assert_cmphex(get_u(ip4, "address"), ==, v4("198.51.100.9"));
    g_assert_cmpuint(get_u(ip4, "prefix"), ==, 31);
    g_assert_cmphex(get_u(ip4, "ptp"), ==, v4("198.51.100.8"));
    g_assert_true(get_b(ip4, "never-default"));
    routes = g_variant_lookup_value(ip4, "routes", G_VARIANT_TYPE("aau"));
    g_assert_nonnull(routes);
    g_assert_cmpuint(g_variant_n_children(routes), ==, 0);
}

static void
test_config_v6(void)
{
    g_autoptr(GrePlan) plan = example_plan("v6");
    g_autoptr(GVariant) gen = g_variant_ref_sink(gre_nm_config_generic(plan));
    g_autoptr(GVariant) ip4 = g_variant_ref_sink(gre_nm_config_ip(plan, AF_INET));
    g_autoptr(GVariant) ip6 = g_variant_ref_sink(gre_nm_config_ip(plan, AF_INET6));
    g_autoptr(GVariant) r4  = NULL;
    g_autoptr(GVariant) r6  = NULL;
    g_autoptr(GVariant) dst = NULL;
    g_autoptr(GVariant) hop = NULL;
    guint32         plen = 0, metric = 7;
    struct in6_addr want;
    gsize           n;

    assert_v6(gen, "gateway", "2001:db8:b::1");
    g_assert_true(get_b(gen, "has-ip4"));
    g_assert_true(get_b(gen, "has-ip6"));

    assert_v6(ip6, "address", "2001:db8:ffff::1");
    assert_v6(ip6, "ptp", "2001:db8:ffff::2");
    g_assert_cmpuint(get_u(ip6, "prefix"), ==, 64);
    g_assert_true(get_b(ip6, "never-default"));
    r6 = g_variant_lookup_value(ip6, "routes", G_VARIANT_TYPE("a(ayuayu)"));
    g_assert_nonnull(r6);
    g_assert_cmpuint(g_variant_n_children(r6), ==, 1);
    g_variant_get_child(r6, 0, "(@ayu@ayu)", &dst, &plen, &hop, &metric);
    g_assert_cmpint(inet_pton(AF_INET6, "2001:db8:c::", &want), ==, 1);
    g_assert_cmpmem(g_variant_get_fixed_array(dst, &n, 1), n, &want, 16);
    g_assert_cmpuint(plen, ==, 48);
    g_assert_cmpuint(metric, ==, 0);

    g_assert_cmphex(get_u(ip4, "address"), ==, v4("192.0.2.129"));
    g_assert_cmpuint(get_u(ip4, "prefix"), ==, 30);
    r4 = g_variant_lookup_value(ip4, "routes", G_VARIANT_TYPE("aau"));
    g_assert_nonnull(r4);
    g_assert_cmpuint(g_variant_n_children(r4), ==, 1);
    {
        g_autoptr(GVariant) one = g_variant_get_child_value(r4, 0);
        const guint32 *a        = g_variant_get_fixed_array(one, &n, 4);

        g_assert_cmpuint(n, ==, 4);
        g_assert_cmphex(a[0], ==, v4("203.0.113.0"));
        g_assert_cmpuint(a[1], ==, 24);
        g_assert_cmpuint(a[2], ==, 0);
    }
}

/* Routes over the tunnel are reported with their metric; the pin to the underlay is not. */
static void
test_config_pppoe(void)
{
    g_autoptr(GrePlan) plan    = example_plan("pppoe");
    g_autoptr(GVariant) ip4    = g_variant_ref_sink(gre_nm_config_ip(plan, AF_INET));
    g_autoptr(GVariant) routes = g_variant_lookup_value(ip4, "routes", G_VARIANT_TYPE("aau"));
    g_autoptr(GVariant) one    = NULL;
    const guint32 *a;
    gsize          n;

    g_assert_cmpuint(g_variant_n_children(routes), ==, 1);
    one = g_variant_get_child_value(routes, 0);
    a   = g_variant_get_fixed_array(one, &n, 4);
    g_assert_cmphex(a[0], ==, v4("198.51.100.0"));
    g_assert_cmpuint(a[1], ==, 24);
    g_assert_cmpuint(a[3], ==, 50);
}

/* A default route through the tunnel is NetworkManager's to add: never-default goes FALSE. */
static void
test_config_default_route(void)
{
    g_autoptr(GrePlan) plan    = text_plan("DEVICE=t1\nMY_OUTER_IPADDR=192.0.2.1\n"
                                              "PEER_OUTER_IPADDR=198.51.100.1\n"
                                              "MY_INNER_IPADDR=203.0.113.1/30\n"
                                              "ROUTES=0.0.0.0/0 203.0.113.128/25\n");
    g_autoptr(GVariant) ip4    = g_variant_ref_sink(gre_nm_config_ip(plan, AF_INET));
    g_autoptr(GVariant) routes = g_variant_lookup_value(ip4, "routes", G_VARIANT_TYPE("aau"));

    g_assert_false(get_b(ip4, "never-default"));
    g_assert_cmpuint(g_variant_n_children(routes), ==, 1);
    g_assert_false(g_variant_lookup(ip4, "ptp", "u", NULL));
    /* The remote is covered by the default route, so it is pinned, and the pin stays ours. */
    g_assert_true(plan->pinned);
}

static void
assert_missing(const char *const *pairs, const char *want)
{
    g_autoptr(NMSettingVpn) s_vpn   = NM_SETTING_VPN(nm_setting_vpn_new());
    g_autofree const char **missing = NULL;
    g_autofree char        *got     = NULL;

    for (guint i = 0; pairs[i]; i++) {
        g_auto(GStrv) kv = g_strsplit(pairs[i], "=", 2);

        if (kv[0][0] == '!')
            nm_setting_vpn_add_secret(s_vpn, kv[0] + 1, kv[1]);
        else
            nm_setting_vpn_add_data_item(s_vpn, kv[0], kv[1]);
    }
    missing = gre_nm_missing_secrets(s_vpn);
    got     = g_strjoinv(" ", (char **)missing);
    g_assert_cmpstr(got, ==, want);
}

static void
test_missing_secrets(void)
{
    assert_missing((const char *[]){ "device=t1", NULL }, "");
    assert_missing((const char *[]){ "ipsec=none", "!esp-key-in=00", NULL }, "");
    assert_missing((const char *[]){ "ipsec=manual", NULL },
                   "esp-key-in esp-key-out auth-key-in auth-key-out");
    assert_missing((const char *[]){ "ipsec=MANUAL", "!esp-key-in=00", NULL },
                   "esp-key-out auth-key-in auth-key-out");
    assert_missing((const char *[]){ "ipsec=manual", "ipsec-suite=aes128-sha256", "!esp-key-in=00",
                                     "!esp-key-out=00", NULL },
                   "auth-key-in auth-key-out");
    assert_missing((const char *[]){ "ipsec=manual", "esp-key-out-flags=4", "auth-key-in-flags=4",
                                     "auth-key-out-flags=4", NULL },
                   "esp-key-in");
    assert_missing((const char *[]){ "ipsec=manual", "!esp-key-in=00", "!esp-key-out=00",
                                     "!auth-key-in=00", "!auth-key-out=00", NULL },
                   "");
    /* A suite manual keying refuses needs no keys asked for: connecting names the suite. */
    assert_missing((const char *[]){ "ipsec=manual", "ipsec-suite=aes256gcm16", NULL }, "");
    assert_missing((const char *[]){ "ipsec=manual", "ipsec-suite=chacha20poly1305", NULL }, "");
    /* IKE: the PSK only, whatever the suite; not when held, or flagged not required. */
    assert_missing((const char *[]){ "ipsec=ike", NULL }, "ike-psk");
    assert_missing(
        (const char *[]){ "ipsec=ike", "ipsec-suite=chacha20poly1305", "esp-key-in-flags=2", NULL },
        "ike-psk");
    assert_missing((const char *[]){ "ipsec=ike", "ike-psk-flags=2", NULL }, "ike-psk");
    assert_missing((const char *[]){ "ipsec=ike", "!ike-psk=0123456789abcdef", NULL }, "");
    assert_missing((const char *[]){ "ipsec=ike", "ike-psk-flags=4", NULL }, "");
    assert_missing((const char *[]){ "ipsec=manual", "!ike-psk=0123456789abcdef", NULL },
                   "esp-key-in esp-key-out auth-key-in auth-key-out");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/nm-config/tunnel-only", test_tunnel_only);
    g_test_add_func("/nm-config/tunnel-only-pppoe", test_tunnel_only_pppoe_exact);
    g_test_add_func("/nm-config/branch", test_config_branch);
    g_test_add_func("/nm-config/v6", test_config_v6);
    g_test_add_func("/nm-config/pppoe", test_config_pppoe);
    g_test_add_func("/nm-config/default-route", test_config_default_route);
    g_test_add_func("/nm-config/missing-secrets", test_missing_secrets);
    return g_test_run();
}
