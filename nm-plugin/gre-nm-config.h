/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <sys/socket.h>

#include "gre-plan.h"

/*
 * What the service reports to NetworkManager, built from the full plan (before
 * gre_nm_plan_tunnel_only()): the same addresses and routes `gre-tunnel up` would add itself,
 * in the a{sv} dictionaries of the VPN plugin D-Bus interface.
 */

/* For nm_vpn_service_plugin_set_config(): tundev, gateway (the outer remote: "u" in network
 * byte order for IPv4, "ay" for IPv6), mtu, has-ip4, has-ip6. Floating reference. */
GVariant *gre_nm_config_generic(const GrePlan *plan);

/* For set_ip4_config() (@family AF_INET) or set_ip6_config() (AF_INET6): address, prefix, ptp
 * when the tunnel has a peer address, routes, never-default (TRUE unless a default route goes
 * through the tunnel; that route is then left to NetworkManager's own default route). NULL when
 * the tunnel has no inner address of @family. Floating reference. */
GVariant *gre_nm_config_ip(const GrePlan *plan, int family);
