/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <glib-unix.h>
#include <linux/if_link.h>
#include <linux/if_tunnel.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <NetworkManager.h>

/*
 * nm-grefloor-service: the floor of a NetworkManager VPN plugin, for bench/nm.sh only. It pays
 * what every VPN service pays (process start, libnm's plugin object, a D-Bus name, NeedSecrets,
 * Connect, the configuration) and does the same kernel work nm-gre-service does for a plain GRE
 * tunnel: one GRE link, up, with the given name, endpoints, key and MTU. No validation, no plan,
 * no ownership record, no probing: vpn.data is trusted (device, local, remote, key, mtu,
 * inner-address, inner-peer) and the configuration reported is the one nm-gre-service reports
 * for the same tunnel. Never installed.
 */

#define FLOOR_BUS_NAME "org.freedesktop.NetworkManager.grefloor"

#define FLOOR_TYPE_SERVICE (floor_service_get_type())
G_DECLARE_FINAL_TYPE(FloorService, floor_service, FLOOR, SERVICE, NMVpnServicePlugin)

struct _FloorService {
    NMVpnServicePlugin parent;
    char               device[IFNAMSIZ]; /* "" while no link is ours */
    char               pending[IFNAMSIZ];
    guint32            local, remote, key, mtu, inner, peer, plen;
    guint              idle_id;
};

G_DEFINE_TYPE(FloorService, floor_service, NM_TYPE_VPN_SERVICE_PLUGIN)

/* ---- rtnetlink, by hand: one request, one acknowledgement ---- */

typedef struct {
    struct nlmsghdr h;
    char            buf[512];
} Req;

static struct rtattr *
attr_put(Req *r, int type, const void *data, size_t len)
{
    struct rtattr *a = (struct rtattr *)((char *)&r->h + NLMSG_ALIGN(r->h.nlmsg_len));

    a->rta_type = type;
    a->rta_len  = RTA_LENGTH(len);
    if (len)
        memcpy(RTA_DATA(a), data, len);
    r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
    return a;
}

static void
attr_end(Req *r, struct rtattr *nest)
{
    nest->rta_len = (char *)&r->h + r->h.nlmsg_len - (char *)nest;
}

static void
req_init(Req *r, int type, int flags, const char *ifname)
{
    struct ifinfomsg *ifi;

    memset(r, 0, sizeof *r);
    r->h.nlmsg_len   = NLMSG_LENGTH(sizeof *ifi);
    r->h.nlmsg_type  = type;
    r->h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    ifi              = NLMSG_DATA(&r->h);
    ifi->ifi_family  = AF_UNSPEC;
    if (type == RTM_NEWLINK)
        ifi->ifi_flags = ifi->ifi_change = IFF_UP;
    attr_put(r, IFLA_IFNAME, ifname, strlen(ifname) + 1);
}

static gboolean
req_send(Req *r, GError **error)
{
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    char               answer[1024];
    ssize_t            n;
    int                fd, err = 0;

    fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0 || sendto(fd, r, r->h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0 ||
        (n = recv(fd, answer, sizeof answer, 0)) < 0)
        err = errno;
    else if (n >= (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) &&
             ((struct nlmsghdr *)answer)->nlmsg_type == NLMSG_ERROR)
        err = -((struct nlmsgerr *)NLMSG_DATA((struct nlmsghdr *)answer))->error;
    if (fd >= 0)
        close(fd);
    if (err) {
        g_set_error(error, NM_VPN_PLUGIN_ERROR, NM_VPN_PLUGIN_ERROR_LAUNCH_FAILED, "rtnetlink: %s",
                    g_strerror(err));
        return FALSE;
    }
    return TRUE;
}

static gboolean
link_add(FloorService *self, GError **error)
{
    Req            r;
    struct rtattr *info, *data;
    const guint16  flags = GRE_KEY; /* already big-endian */
    const guint32  key   = htonl(self->key);
    const guint8   ttl = 64, tos_inherit = 1, pmtudisc = 1;

    req_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, self->pending);
    attr_put(&r, IFLA_MTU, &self->mtu, sizeof self->mtu);
    info = attr_put(&r, IFLA_LINKINFO, NULL, 0);
    attr_put(&r, IFLA_INFO_KIND, "gre", 4);
    data = attr_put(&r, IFLA_INFO_DATA, NULL, 0);
    attr_put(&r, IFLA_GRE_LOCAL, &self->local, 4);
    attr_put(&r, IFLA_GRE_REMOTE, &self->remote, 4);
    attr_put(&r, IFLA_GRE_IFLAGS, &flags, 2);
    attr_put(&r, IFLA_GRE_OFLAGS, &flags, 2);
    attr_put(&r, IFLA_GRE_IKEY, &key, 4);
    attr_put(&r, IFLA_GRE_OKEY, &key, 4);
    attr_put(&r, IFLA_GRE_TTL, &ttl, 1);
    attr_put(&r, IFLA_GRE_TOS, &tos_inherit, 1);
    attr_put(&r, IFLA_GRE_PMTUDISC, &pmtudisc, 1);
    attr_end(&r, data);
    attr_end(&r, info);
    return req_send(&r, error);
}

static gboolean
link_del(const char *name, GError **error)
{
    Req r;

    req_init(&r, RTM_DELLINK, 0, name);
    return req_send(&r, error);
}

/* ---- the plugin ---- */

static guint32
data_ip4(NMSettingVpn *s_vpn, const char *key, guint32 *plen)
{
    g_autofree char *text  = g_strdup(nm_setting_vpn_get_data_item(s_vpn, key));
    char            *slash = text ? strchr(text, '/') : NULL;
    guint32          a     = 0;

    if (slash) {
        *slash = '\0';
        if (plen)
            *plen = (guint32)atoi(slash + 1);
    }
    if (text)
        inet_pton(AF_INET, text, &a);
    return a;
}

static guint32
data_u32(NMSettingVpn *s_vpn, const char *key)
{
    const char *text = nm_setting_vpn_get_data_item(s_vpn, key);

    return text ? (guint32)strtoul(text, NULL, 0) : 0;
}

static void
send_config(FloorService *self)
{
    NMVpnServicePlugin *plugin = NM_VPN_SERVICE_PLUGIN(self);
    GVariantBuilder     b;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_CONFIG_TUNDEV,
                          g_variant_new_string(self->device));
    g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_CONFIG_EXT_GATEWAY,
                          g_variant_new_uint32(self->remote));
    g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_CONFIG_MTU, g_variant_new_uint32(self->mtu));
    g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_CONFIG_HAS_IP4, g_variant_new_boolean(TRUE));
    g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_CONFIG_HAS_IP6, g_variant_new_boolean(FALSE));
    nm_vpn_service_plugin_set_config(plugin, g_variant_builder_end(&b));

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_IP4_CONFIG_ADDRESS,
                          g_variant_new_uint32(self->inner));
    g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_IP4_CONFIG_PREFIX,
                          g_variant_new_uint32(self->plen));
    g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_IP4_CONFIG_PTP,
                          g_variant_new_uint32(self->peer));
    g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_IP4_CONFIG_ROUTES,
                          g_variant_new_array(G_VARIANT_TYPE("au"), NULL, 0));
    g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_IP4_CONFIG_NEVER_DEFAULT,
                          g_variant_new_boolean(TRUE));
    nm_vpn_service_plugin_set_ip4_config(plugin, g_variant_builder_end(&b));
}

/* NetworkManager ignores a configuration that arrives before Connect has returned. */
static gboolean
bring_up(gpointer user_data)
{
    FloorService *self      = user_data;
    g_autoptr(GError) error = NULL;

    self->idle_id = 0;
    if (!link_add(self, &error)) {
        g_printerr("nm-grefloor-service: %s: %s\n", self->pending, error->message);
        nm_vpn_service_plugin_failure(NM_VPN_SERVICE_PLUGIN(self),
                                      NM_VPN_PLUGIN_FAILURE_CONNECT_FAILED);
        nm_vpn_service_plugin_disconnect(NM_VPN_SERVICE_PLUGIN(self), NULL);
        return G_SOURCE_REMOVE;
    }
    g_strlcpy(self->device, self->pending, sizeof self->device);
    send_config(self);
    return G_SOURCE_REMOVE;
}

static gboolean
real_connect(NMVpnServicePlugin *plugin, NMConnection *connection, GError **error)
{
    FloorService *self  = FLOOR_SERVICE(plugin);
    NMSettingVpn *s_vpn = nm_connection_get_setting_vpn(connection);

    if (!s_vpn) {
        g_set_error_literal(error, NM_VPN_PLUGIN_ERROR, NM_VPN_PLUGIN_ERROR_INVALID_CONNECTION,
                            "no VPN setting");
        return FALSE;
    }
    g_strlcpy(self->pending, nm_setting_vpn_get_data_item(s_vpn, "device") ?: "grefloor",
              sizeof self->pending);
    self->local   = data_ip4(s_vpn, "local", NULL);
    self->remote  = data_ip4(s_vpn, "remote", NULL);
    self->key     = data_u32(s_vpn, "key");
    self->mtu     = data_u32(s_vpn, "mtu");
    self->plen    = 32;
    self->inner   = data_ip4(s_vpn, "inner-address", &self->plen);
    self->peer    = data_ip4(s_vpn, "inner-peer", NULL);
    self->idle_id = g_idle_add(bring_up, self);
    return TRUE;
}

static gboolean
real_need_secrets(NMVpnServicePlugin *plugin, NMConnection *connection, const char **setting_name,
                  GError **error)
{
    (void)plugin, (void)connection, (void)setting_name, (void)error;
    return FALSE;
}

static gboolean
real_disconnect(NMVpnServicePlugin *plugin, GError **error)
{
    FloorService *self = FLOOR_SERVICE(plugin);

    g_clear_handle_id(&self->idle_id, g_source_remove);
    if (self->device[0] && !link_del(self->device, error))
        return FALSE;
    self->device[0] = '\0';
    return TRUE;
}

static void
floor_service_init(FloorService *self)
{
    (void)self;
}

static void
floor_service_class_init(FloorServiceClass *klass)
{
    NMVpnServicePluginClass *parent_class = NM_VPN_SERVICE_PLUGIN_CLASS(klass);

    parent_class->connect      = real_connect;
    parent_class->need_secrets = real_need_secrets;
    parent_class->disconnect   = real_disconnect;
}

static gboolean
on_signal(gpointer user_data)
{
    g_main_loop_quit(user_data);
    return G_SOURCE_CONTINUE;
}

static void
on_quit(NMVpnServicePlugin *plugin, gpointer user_data)
{
    (void)plugin;
    g_main_loop_quit(user_data);
}

int
main(int argc, char **argv)
{
    g_autofree char   *bus_name  = NULL;
    const GOptionEntry entries[] = {
        { "bus-name", 0, 0, G_OPTION_ARG_STRING, &bus_name, "D-Bus name to own", "NAME" },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_autoptr(GError) error       = NULL;
    g_autoptr(FloorService) self  = NULL;
    g_autoptr(GMainLoop) loop     = NULL;

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        g_printerr("nm-grefloor-service: %s\n", error->message);
        return 2;
    }
    self = g_initable_new(FLOOR_TYPE_SERVICE, NULL, &error, NM_VPN_SERVICE_PLUGIN_DBUS_SERVICE_NAME,
                          bus_name ? bus_name : FLOOR_BUS_NAME,
                          NM_VPN_SERVICE_PLUGIN_DBUS_WATCH_PEER, TRUE, NULL);
    if (!self) {
        g_printerr("nm-grefloor-service: %s\n", error->message);
        return 1;
    }
    loop = g_main_loop_new(NULL, FALSE);
    g_signal_connect(self, "quit", G_CALLBACK(on_quit), loop);
    g_unix_signal_add(SIGTERM, on_signal, loop);
    g_main_loop_run(loop);
    nm_vpn_service_plugin_shutdown(NM_VPN_SERVICE_PLUGIN(self));
    if (self->device[0] && !link_del(self->device, &error))
        return 1;
    return 0;
}
