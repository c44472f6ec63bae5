/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * last-words: plays NetworkManager's part in a connection that fails. It calls Connect on
 * nm-gre-service and stays on the bus, as NetworkManager does, recording what the service
 * signals (StateChanged, Failure) until the service's bus name goes away. NetworkManager takes
 * its reason for the failure from those signals; whatever the service queued before it quit
 * but never sent is lost, and the user reads "The VPN service stopped unexpectedly".
 * Prints one line: the signals in the order they came, e.g.
 *   "connect-ok state:3 failure:1 failure:1 state:5 state:6 gone"
 * Usage: last-words BUS-NAME DEVICE   (the bus from DBUS_SYSTEM_BUS_ADDRESS; exit 1 on timeout)
 */
#include <gio/gio.h>
#include <stdio.h>

#define PATH "/org/freedesktop/NetworkManager/VPN/Plugin"
#define IFACE "org.freedesktop.NetworkManager.VPN.Plugin"
#define TIMEOUT_S 30

static GString   *heard;
static GMainLoop *loop;
static gboolean   name_gone;

static void
on_plugin_signal(GDBusConnection *c, const char *sender, const char *path, const char *iface,
                 const char *name, GVariant *params, gpointer user_data)
{
    guint32 value;

    (void)c, (void)sender, (void)path, (void)iface, (void)user_data;
    if (!g_variant_is_of_type(params, G_VARIANT_TYPE("(u)")))
        return;
    g_variant_get(params, "(u)", &value);
    if (g_str_equal(name, "StateChanged"))
        g_string_append_printf(heard, " state:%u", value);
    else if (g_str_equal(name, "Failure"))
        g_string_append_printf(heard, " failure:%u", value);
}

static void
on_owner_changed(GDBusConnection *c, const char *sender, const char *path, const char *iface,
                 const char *name, GVariant *params, gpointer user_data)
{
    const char *bus_name, *old_owner, *new_owner;

    (void)c, (void)sender, (void)path, (void)iface, (void)name, (void)user_data;
    g_variant_get(params, "(&s&s&s)", &bus_name, &old_owner, &new_owner);
    if (*new_owner)
        return;
    g_string_append(heard, " gone");
    name_gone = TRUE;
    g_main_loop_quit(loop);
}

static void
connect_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply =
        g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);

    (void)user_data;
    if (!reply)
        g_string_append_printf(heard, " connect-error(%s)", error->message);
    else
        g_string_append(heard, " connect-ok");
}

static gboolean
timed_out(gpointer user_data)
{
    (void)user_data;
    g_string_append(heard, " timeout");
    g_main_loop_quit(loop);
    return G_SOURCE_REMOVE;
}

static GVariant *
connection(const char *device)
{
    GVariantBuilder b, s_con, s_vpn, data;

    g_variant_builder_init(&data, G_VARIANT_TYPE("a{ss}"));
    g_variant_builder_add(&data, "{ss}", "device", device);
    g_variant_builder_add(&data, "{ss}", "remote", "192.0.2.2");
    g_variant_builder_add(&data, "{ss}", "local", "192.0.2.1");
    g_variant_builder_add(&data, "{ss}", "inner-address", "198.51.100.1/31");
    g_variant_builder_init(&s_con, G_VARIANT_TYPE("a{sv}"));
    g_variant_builder_add(&s_con, "{sv}", "id", g_variant_new_string("last-words"));
    g_variant_builder_add(&s_con, "{sv}", "type", g_variant_new_string("vpn"));
    g_variant_builder_init(&s_vpn, G_VARIANT_TYPE("a{sv}"));
    g_variant_builder_add(&s_vpn, "{sv}", "service-type",
                          g_variant_new_string("org.freedesktop.NetworkManager.gre"));
    g_variant_builder_add(&s_vpn, "{sv}", "data", g_variant_builder_end(&data));
    g_variant_builder_init(&b, G_VARIANT_TYPE("a{sa{sv}}"));
    g_variant_builder_add(&b, "{sa{sv}}", "connection", &s_con);
    g_variant_builder_add(&b, "{sa{sv}}", "vpn", &s_vpn);
    return g_variant_builder_end(&b);
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) error        = NULL;
    g_autoptr(GDBusConnection) bus = NULL;

    if (argc != 3) {
        g_printerr("usage: last-words BUS-NAME DEVICE\n");
        return 2;
    }
    bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
    if (!bus) {
        g_printerr("last-words: %s\n", error->message);
        return 2;
    }
    heard = g_string_new(NULL);
    loop  = g_main_loop_new(NULL, FALSE);
    /* Any sender: matching a well-known name may drop signals until GDBus has looked up its
     * owner, and the bus is the test's own, with this one service on it. */
    g_dbus_connection_signal_subscribe(bus, NULL, IFACE, NULL, PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                       on_plugin_signal, NULL, NULL);
    g_dbus_connection_signal_subscribe(bus, "org.freedesktop.DBus", "org.freedesktop.DBus",
                                       "NameOwnerChanged", "/org/freedesktop/DBus", argv[1],
                                       G_DBUS_SIGNAL_FLAGS_NONE, on_owner_changed, NULL, NULL);
    g_dbus_connection_call(bus, argv[1], PATH, IFACE, "Connect",
                           g_variant_new("(@a{sa{sv}})", connection(argv[2])), NULL,
                           G_DBUS_CALL_FLAGS_NONE, TIMEOUT_S * 1000, NULL, connect_done, NULL);
    g_timeout_add_seconds(TIMEOUT_S, timed_out, NULL);
    g_main_loop_run(loop);
    printf("%s\n", heard->str + (heard->len ? 1 : 0));
    g_string_free(heard, TRUE);
    g_main_loop_unref(loop);
    return name_gone ? 0 : 1;
}
