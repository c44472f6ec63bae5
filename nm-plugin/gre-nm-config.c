/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-nm-config.h"

#include <NetworkManager.h>

static const GrePlanStep *
find_step(const GrePlan *plan, GreStepKind kind, int family)
{
    for (guint i = 0; i < plan->steps->len; i++) {
        const GrePlanStep *step = &g_array_index(plan->steps, GrePlanStep, i);

        if (step->kind != kind)
            continue;
        if (kind == GRE_STEP_ADDR && step->addr.local.family != family)
            continue;
        return step;
    }
    return NULL;
}

/* IPv4 as "u" (network byte order, as NetworkManager reads it), IPv6 as "ay". */
static GVariant *
addr_variant(const GreAddr *a)
{
    if (a->family == AF_INET)
        return g_variant_new_uint32(a->u.v4.s_addr);
    return g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, &a->u.v6, sizeof a->u.v6, 1);
}

GVariant *
gre_nm_config_generic(const GrePlan *plan)
{
    const GrePlanStep *link = find_step(plan, GRE_STEP_LINK, AF_UNSPEC);
    GVariantBuilder    b;

    g_return_val_if_fail(link != NULL, NULL);

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_CONFIG_TUNDEV,
                          g_variant_new_string(link->link.name));
    /* NetworkManager refuses a configuration without it, and routes the remote via the
     * underlay with it. */
    g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_CONFIG_EXT_GATEWAY,
                          addr_variant(&link->link.remote));
    g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_CONFIG_MTU,
                          g_variant_new_uint32(link->link.mtu));
    g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_CONFIG_HAS_IP4,
                          g_variant_new_boolean(find_step(plan, GRE_STEP_ADDR, AF_INET) != NULL));
    g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_CONFIG_HAS_IP6,
                          g_variant_new_boolean(find_step(plan, GRE_STEP_ADDR, AF_INET6) != NULL));
    return g_variant_builder_end(&b);
}

static void
add_route(GVariantBuilder *routes, const GrePlanRoute *r)
{
    if (r->dst.addr.family == AF_INET) {
        /* [destination, prefix, next hop (0: on the tunnel), metric] */
        const guint32 v[] = { r->dst.addr.u.v4.s_addr, r->dst.plen, 0, r->metric };

        g_variant_builder_add_value(
            routes, g_variant_new_fixed_array(G_VARIANT_TYPE_UINT32, v, G_N_ELEMENTS(v), 4));
    } else {
        static const struct in6_addr any = IN6ADDR_ANY_INIT;

        g_variant_builder_add(
            routes, "(@ayu@ayu)",
            g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, &r->dst.addr.u.v6, 16, 1),
            (guint32)r->dst.plen, g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, &any, 16, 1),
            r->metric);
    }
}

GVariant *
gre_nm_config_ip(const GrePlan *plan, int family)
{
    const GrePlanStep *addr          = find_step(plan, GRE_STEP_ADDR, family);
    gboolean           never_default = TRUE;
    GVariantBuilder    b, routes;

    g_return_val_if_fail(family == AF_INET || family == AF_INET6, NULL);
    if (!addr)
        return NULL;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_init(&routes,
                           family == AF_INET ? G_VARIANT_TYPE("aau") : G_VARIANT_TYPE("a(ayuayu)"));
    /* The IPv4 and IPv6 key names are the same strings. */
    g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_IP4_CONFIG_ADDRESS,
                          addr_variant(&addr->addr.local));
    g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_IP4_CONFIG_PREFIX,
                          g_variant_new_uint32(addr->addr.plen));
    if (addr->addr.peer.family != AF_UNSPEC)
        g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_IP4_CONFIG_PTP,
                              addr_variant(&addr->addr.peer));

    for (guint i = 0; i < plan->steps->len; i++) {
        const GrePlanStep *step = &g_array_index(plan->steps, GrePlanStep, i);

        if (step->kind != GRE_STEP_ROUTE || step->route.pin ||
            step->route.dst.addr.family != family)
            continue;
        if (step->route.dst.plen == 0) {
            never_default = FALSE;
            continue;
        }
        add_route(&routes, &step->route);
    }
    g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_IP4_CONFIG_ROUTES,
                          g_variant_builder_end(&routes));
    g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_IP4_CONFIG_NEVER_DEFAULT,
                          g_variant_new_boolean(never_default));
    return g_variant_builder_end(&b);
}
