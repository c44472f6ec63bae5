/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dbus-face: calls nm-gre-service's D-Bus methods (org.freedesktop.NetworkManager.VPN.Plugin)
 * with what NetworkManager never sends: wrong argument types, missing and unknown keys and
 * settings, 1 MB strings, byte arrays holding NUL bytes, a thousand routes, a thousand unknown
 * keys, and a message with invalid UTF-8 that the bus itself must refuse. Each answer must be a
 * D-Bus error that names the problem, be of a size a user can read, and leave the service as it
 * was: no StateChanged to "starting" (the kernel work is never reached), no Config, no Failure.
 * The service must still own its name at the end and answer a valid NeedSecrets.
 * TAP on stdout. Run by test-nm-dbus-face.sh, which starts the bus and the service.
 * Usage: dbus-face [--probe] BUS-NAME   (the bus from DBUS_SYSTEM_BUS_ADDRESS)
 */
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PATH "/org/freedesktop/NetworkManager/VPN/Plugin"
#define IFACE "org.freedesktop.NetworkManager.VPN.Plugin"
#define MB (1024 * 1024)
/* An error for one bad value needs no more: longer means the value is echoed back. */
#define MAX_ERROR_LEN 4096
/* NMVpnServiceState */
#define STATE_STARTING 3

static GDBusConnection *bus;
static const char      *dest;
static int              n_tests, n_failed;
static guint            n_starting, n_config, n_failure;

static void G_GNUC_PRINTF(2, 3) result(gboolean good, const char *fmt, ...)
{
    g_autofree char *desc = NULL;
    va_list          ap;

    va_start(ap, fmt);
    desc = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    n_tests++;
    if (!good)
        n_failed++;
    printf("%s %d - %s\n", good ? "ok" : "not ok", n_tests, desc);
    fflush(stdout);
}

static void
diag(const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", 8);

    for (guint i = 0; lines[i]; i++)
        printf("#   %.300s\n", lines[i]);
}

static void
on_signal(GDBusConnection *c, const char *sender, const char *path, const char *iface,
          const char *name, GVariant *params, gpointer user_data)
{
    (void)c, (void)sender, (void)path, (void)iface, (void)user_data;
    if (strcmp(name, "StateChanged") == 0) {
        guint32 state;

        g_variant_get(params, "(u)", &state);
        if (state == STATE_STARTING)
            n_starting++;
    } else if (strcmp(name, "Config") == 0 || strcmp(name, "Ip4Config") == 0 ||
               strcmp(name, "Ip6Config") == 0) {
        n_config++;
    } else if (strcmp(name, "Failure") == 0) {
        n_failure++;
    }
}

/* Signals emitted before a reply are queued for this thread by the time the reply is back. */
static void
drain(void)
{
    while (g_main_context_iteration(NULL, FALSE))
        ;
}

static GVariant *
call(const char *method, GVariant *params, GError **error)
{
    GVariant *ret = g_dbus_connection_call_sync(bus, dest, PATH, IFACE, method, params, NULL,
                                                G_DBUS_CALL_FLAGS_NONE, 60000, NULL, error);
    drain();
    return ret;
}

/* ---- building connections ---- */

/* strv: key, value, key, value, ..., NULL */
static GVariant *
dict_ss(const char *const *kv)
{
    GVariantBuilder b;

    g_variant_builder_init(&b, G_VARIANT_TYPE("a{ss}"));
    for (guint i = 0; kv && kv[i] && kv[i + 1]; i += 2)
        g_variant_builder_add(&b, "{ss}", kv[i], kv[i + 1]);
    return g_variant_builder_end(&b);
}

/* A connection as NetworkManager sends it; DATA and SECRETS may be any variant (wrong types
 * included), or NULL to leave them out. */
static GVariant *
connection_v(const char *id, GVariant *data, GVariant *secrets)
{
    GVariantBuilder b, s_con, s_vpn;

    g_variant_builder_init(&b, G_VARIANT_TYPE("a{sa{sv}}"));
    g_variant_builder_init(&s_con, G_VARIANT_TYPE("a{sv}"));
    g_variant_builder_add(&s_con, "{sv}", "id", g_variant_new_string(id));
    g_variant_builder_add(&s_con, "{sv}", "type", g_variant_new_string("vpn"));
    g_variant_builder_add(&b, "{sa{sv}}", "connection", &s_con);
    g_variant_builder_init(&s_vpn, G_VARIANT_TYPE("a{sv}"));
    g_variant_builder_add(&s_vpn, "{sv}", "service-type",
                          g_variant_new_string("org.freedesktop.NetworkManager.gre"));
    if (data)
        g_variant_builder_add(&s_vpn, "{sv}", "data", data);
    if (secrets)
        g_variant_builder_add(&s_vpn, "{sv}", "secrets", secrets);
    g_variant_builder_add(&b, "{sa{sv}}", "vpn", &s_vpn);
    return g_variant_builder_end(&b);
}

static GVariant *
connection(const char *const *data, const char *const *secrets)
{
    return connection_v("face", dict_ss(data), dict_ss(secrets));
}

#define BASE                                                                                       \
    "device", "face1", "remote", "192.0.2.2", "local", "192.0.2.1", "inner-address",               \
        "198.51.100.1/31"
#define IPSEC "ipsec", "manual", "spi-in", "0x1001", "spi-out", "0x1002"

/* ---- checks ---- */

static gboolean
service_alive(void)
{
    g_autoptr(GVariant) owner = g_dbus_connection_call_sync(
        bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
        "GetNameOwner", g_variant_new("(s)", dest), NULL, G_DBUS_CALL_FLAGS_NONE, 10000, NULL,
        NULL);

    return owner != NULL;
}

/* Calls METHOD with PARAMS (floating; consumed), and wants an error whose D-Bus name ends in
 * NAME_END and whose message holds each of the NULL-terminated WANT substrings, at most
 * MAX_ERROR_LEN long; and the service never starting. */
static void
expect_error(const char *desc, const char *method, GVariant *params, const char *name_end, ...)
{
    g_autoptr(GError) error   = NULL;
    g_autoptr(GVariant) ret   = NULL;
    g_autofree char *name     = NULL;
    guint            starting = n_starting, config = n_config, failure = n_failure;
    gboolean         good;
    va_list          ap;
    const char      *want;

    if (params)
        g_variant_ref_sink(params);
    ret = call(method, params, &error);
    if (params)
        g_variant_unref(params);
    if (ret) {
        g_autofree char *text = g_variant_print(ret, TRUE);

        result(FALSE, "%s: answered %.200s, not an error", desc, text);
        return;
    }
    name = g_dbus_error_get_remote_error(error);
    g_dbus_error_strip_remote_error(error);
    good = name && g_str_has_suffix(name, name_end);
    va_start(ap, name_end);
    while ((want = va_arg(ap, const char *)))
        good = good && strstr(error->message, want) != NULL;
    va_end(ap);
    good = good && strlen(error->message) <= MAX_ERROR_LEN;
    result(good, "%s: %s", desc, name ? name : "(no D-Bus error name)");
    if (!good) {
        printf("#   wanted an error ending in %s; message (%zu bytes):\n", name_end,
               strlen(error->message));
        diag(error->message);
    }
    result(n_starting == starting && n_config == config && n_failure == failure,
           "%s: the service did not start connecting (no StateChanged starting, Config, Failure)",
           desc);
}

/* Whether a NeedSecrets reply asks for the vpn setting's secrets. */
static gboolean
answered_vpn(GVariant *ret)
{
    const char *setting = NULL;

    if (!ret || !g_variant_is_of_type(ret, G_VARIANT_TYPE("(s)")))
        return FALSE;
    g_variant_get(ret, "(&s)", &setting);
    return strcmp(setting, "vpn") == 0;
}

/* ---- the message D-Bus must refuse ---- */

static gboolean
write_blob(GOutputStream *out, GDBusMessage *msg, guint32 serial, const char *marker,
           GError **error)
{
    g_autofree guchar *blob = NULL;
    gsize              len;

    g_dbus_message_set_serial(msg, serial);
    if (!(blob = g_dbus_message_to_blob(msg, &len, G_DBUS_CAPABILITY_FLAGS_NONE, error)))
        return FALSE;
    if (marker) {
        /* The marker is a valid string while GDBus serializes it; here it stops being UTF-8. */
        guchar *at = memmem(blob, len, marker, strlen(marker));

        g_assert(at);
        at[0] = 0xc3;
        at[1] = 0x28;
    }
    return g_output_stream_write_all(out, blob, len, NULL, NULL, error);
}

/* A NeedSecrets whose connection id is not UTF-8, sent over a raw connection (GDBus itself would
 * never send it): the bus must drop the connection, and the service must not see it. */
static void
invalid_utf8(void)
{
    const char *address               = g_getenv("DBUS_SYSTEM_BUS_ADDRESS");
    g_autoptr(GSocketClient) client   = g_socket_client_new();
    g_autoptr(GSocketConnection) conn = NULL;
    g_autoptr(GSocketAddress) sa      = NULL;
    g_autoptr(GError) error           = NULL;
    g_autoptr(GDBusMessage) hello     = NULL;
    g_autoptr(GDBusMessage) bad       = NULL;
    g_autofree char *auth             = NULL;
    g_autofree char *uid              = g_strdup_printf("%u", (unsigned)getuid());
    g_autoptr(GString) uid_hex        = g_string_new(NULL);
    GInputStream  *in;
    GOutputStream *out;
    char           buf[4096];
    gssize         got;
    gboolean       closed   = FALSE;
    guint          starting = n_starting;

    if (!address || !g_str_has_prefix(address, "unix:path=")) {
        result(FALSE, "invalid UTF-8: DBUS_SYSTEM_BUS_ADDRESS is not unix:path=...");
        return;
    }
    sa = g_unix_socket_address_new(address + strlen("unix:path="));
    if (!(conn = g_socket_client_connect(client, G_SOCKET_CONNECTABLE(sa), NULL, &error))) {
        result(FALSE, "invalid UTF-8: cannot connect to the bus: %s", error->message);
        return;
    }
    g_socket_set_timeout(g_socket_connection_get_socket(conn), 20);
    in  = g_io_stream_get_input_stream(G_IO_STREAM(conn));
    out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
    for (const char *p = uid; *p; p++)
        g_string_append_printf(uid_hex, "%02x", (guchar)*p);
    auth = g_strdup_printf("AUTH EXTERNAL %s\r\n", uid_hex->str);
    if (!g_output_stream_write_all(out, "", 1, NULL, NULL, &error) ||
        !g_output_stream_write_all(out, auth, strlen(auth), NULL, NULL, &error) ||
        (got = g_input_stream_read(in, buf, sizeof buf - 1, NULL, &error)) <= 0 ||
        strncmp(buf, "OK ", 3) != 0 ||
        !g_output_stream_write_all(out, "BEGIN\r\n", 7, NULL, NULL, &error)) {
        result(FALSE, "invalid UTF-8: authentication failed: %s", error ? error->message : "no OK");
        return;
    }
    hello = g_dbus_message_new_method_call("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                           "org.freedesktop.DBus", "Hello");
    bad   = g_dbus_message_new_method_call(dest, PATH, IFACE, "NeedSecrets");
    g_dbus_message_set_body(
        bad, g_variant_new_tuple((GVariant *[]){ connection_v(
                                     "XXnot-utf8", dict_ss((const char *[]){ BASE, NULL }), NULL) },
                                 1));
    if (!write_blob(out, hello, 1, NULL, &error) || !write_blob(out, bad, 2, "XXnot", &error)) {
        result(FALSE, "invalid UTF-8: cannot send: %s", error->message);
        return;
    }
    /* The Hello reply and NameAcquired come back; then the bus hangs up. */
    for (int i = 0; i < 100; i++) {
        got = g_input_stream_read(in, buf, sizeof buf, NULL, &error);
        if (got == 0 || (got < 0 && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))) {
            closed = TRUE;
            break;
        }
        if (got < 0)
            break;
    }
    result(closed, "invalid UTF-8 in a string: the bus drops the sender's connection");
    drain();
    result(n_starting == starting && service_alive(),
           "invalid UTF-8: the service never saw it (alive, did not start connecting)");
}

/* ---- main ---- */

static char *
repeat(char c, gsize len)
{
    char *s = g_malloc(len + 1);

    memset(s, c, len);
    s[len] = '\0';
    return s;
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) error      = NULL;
    g_autoptr(GVariant) ret      = NULL;
    g_autofree char *huge        = repeat('a', MB);
    g_autofree char *hugex       = repeat('f', MB + 1);
    g_autoptr(GString) routes    = g_string_new(NULL);
    g_autoptr(GPtrArray) unknown = g_ptr_array_new_with_free_func(g_free);
    GVariantBuilder b;
    const guint8    nul_bytes[] = { 'f', 0, 'a', 0, 0, 'c', 'e' };

    if (argc != 2 && !(argc == 3 && strcmp(argv[1], "--probe") == 0)) {
        g_printerr("usage: %s [--probe] BUS-NAME\n", argv[0]);
        return 2;
    }
    dest = argv[argc - 1];
    if (!(bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error))) {
        g_printerr("dbus-face: %s\n", error->message);
        return 1;
    }
    /* --probe: only whether the service owns its name yet. */
    if (argc == 3)
        return service_alive() ? 0 : 1;
    g_dbus_connection_signal_subscribe(bus, dest, IFACE, NULL, PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                       on_signal, NULL, NULL);
    result(service_alive(), "the service owns %s", dest);

    /* -- wrong argument types: GDBus checks them against the interface before libnm sees them */
    expect_error("Connect with a string instead of a{sa{sv}}", "Connect",
                 g_variant_new("(s)", "device=face1"), ".InvalidArgs", "a{sa{sv}}", NULL);
    expect_error("Connect with a{ss}", "Connect",
                 g_variant_new("(@a{ss})", dict_ss((const char *[]){ BASE, NULL })), ".InvalidArgs",
                 NULL);
    expect_error(
        "Connect with two arguments", "Connect",
        g_variant_new("(@a{sa{sv}}s)", connection((const char *[]){ BASE, NULL }, NULL), "x"),
        ".InvalidArgs", NULL);
    expect_error("Connect with no argument", "Connect", g_variant_new("()"), ".InvalidArgs", NULL);
    expect_error("ConnectInteractive without its details", "ConnectInteractive",
                 g_variant_new("(@a{sa{sv}})", connection((const char *[]){ BASE, NULL }, NULL)),
                 ".InvalidArgs", NULL);
    expect_error("NeedSecrets with a number", "NeedSecrets", g_variant_new("(u)", 7),
                 ".InvalidArgs", NULL);
    expect_error("NewSecrets with a string", "NewSecrets", g_variant_new("(s)", "x"),
                 ".InvalidArgs", NULL);
    expect_error("Disconnect with an argument", "Disconnect", g_variant_new("(s)", "x"),
                 ".InvalidArgs", NULL);
    expect_error("SetConfig with a string", "SetConfig", g_variant_new("(s)", "x"), ".InvalidArgs",
                 NULL);
    expect_error("SetIp4Config with a number", "SetIp4Config", g_variant_new("(u)", 1),
                 ".InvalidArgs", NULL);
    expect_error("SetFailure with a number", "SetFailure", g_variant_new("(u)", 1), ".InvalidArgs",
                 NULL);

    /* -- right argument type, wrong types inside */
    expect_error(
        "Connect with vpn.data a string, not a{ss}", "Connect",
        g_variant_new_tuple(
            (GVariant *[]){ connection_v("face", g_variant_new_string("device=face1"), NULL) }, 1),
        ".BadArguments", NULL);
    expect_error("Connect with vpn.data a byte array holding NUL bytes", "Connect",
                 g_variant_new_tuple((GVariant *[]){ connection_v(
                                         "face",
                                         g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, nul_bytes,
                                                                   sizeof nul_bytes, 1),
                                         NULL) },
                                     1),
                 ".BadArguments", NULL);
    expect_error("Connect with vpn.secrets a number", "Connect",
                 g_variant_new_tuple((GVariant *[]){ connection_v(
                                         "face", dict_ss((const char *[]){ "x", "y", NULL }),
                                         g_variant_new_uint32(5)) },
                                     1),
                 ".BadArguments", NULL);

    /* -- missing and unknown settings and keys */
    g_variant_builder_init(&b, G_VARIANT_TYPE("a{sa{sv}}"));
    expect_error("Connect with an empty connection", "Connect", g_variant_new("(a{sa{sv}})", &b),
                 ".InvalidConnection", "no VPN setting", NULL);
    expect_error("Connect without vpn.data", "Connect",
                 g_variant_new_tuple((GVariant *[]){ connection_v("face", NULL, NULL) }, 1),
                 ".BadArguments", "remote", NULL);
    expect_error(
        "Connect without remote", "Connect",
        g_variant_new_tuple(
            (GVariant *[]){ connection((const char *[]){ "device", "face1", NULL }, NULL) }, 1),
        ".BadArguments", "remote", NULL);
    expect_error(
        "Connect with an unknown key", "Connect",
        g_variant_new_tuple(
            (GVariant *[]){ connection((const char *[]){ BASE, "colour", "red", NULL }, NULL) }, 1),
        ".BadArguments", "vpn.data: colour: ", NULL);
    expect_error(
        "Connect with an unknown secret", "Connect",
        g_variant_new_tuple((GVariant *[]){ connection((const char *[]){ BASE, NULL },
                                                       (const char *[]){ "password", "x", NULL }) },
                            1),
        ".BadArguments", "vpn.secrets: password: ", NULL);
    expect_error("Connect with a key in vpn.data instead of vpn.secrets", "Connect",
                 g_variant_new_tuple(
                     (GVariant *[]){ connection(
                         (const char *[]){ BASE, IPSEC, "esp-key-in", "0x00112233", NULL }, NULL) },
                     1),
                 ".BadArguments", "vpn.data: esp-key-in: ", NULL);
    for (guint i = 0; i < 1000; i++) {
        g_ptr_array_add(unknown, g_strdup_printf("unknown-%u", i));
        g_ptr_array_add(unknown, g_strdup("1"));
    }
    g_ptr_array_add(unknown, g_strdup("device"));
    g_ptr_array_add(unknown, g_strdup("face1"));
    g_ptr_array_add(unknown, NULL);
    expect_error("Connect with a thousand unknown keys", "Connect",
                 g_variant_new_tuple(
                     (GVariant *[]){ connection((const char *const *)unknown->pdata, NULL) }, 1),
                 ".BadArguments", "unknown-0: ", "(980 more problems not shown)", NULL);

    /* -- 1 MB strings */
    expect_error(
        "Connect with a 1 MB device name", "Connect",
        g_variant_new_tuple(
            (GVariant *[]){ connection((const char *[]){ BASE, "device", huge, NULL }, NULL) }, 1),
        ".BadArguments", "vpn.data: device: ", NULL);
    expect_error("Connect with a 1 MB remote", "Connect",
                 g_variant_new_tuple(
                     (GVariant *[]){ connection(
                         (const char *[]){ "device", "face1", "remote", huge, NULL }, NULL) },
                     1),
                 ".BadArguments", "vpn.data: remote: ", NULL);
    expect_error(
        "Connect with 1 MB of routes", "Connect",
        g_variant_new_tuple(
            (GVariant *[]){ connection((const char *[]){ BASE, "routes", huge, NULL }, NULL) }, 1),
        ".BadArguments", "vpn.data: routes: ", NULL);
    expect_error(
        "Connect with a key named by 1 MB", "Connect",
        g_variant_new_tuple(
            (GVariant *[]){ connection((const char *[]){ BASE, huge, "1", NULL }, NULL) }, 1),
        ".BadArguments", "vpn.data: aaaa", NULL);
    expect_error("Connect with a 1 MB secret", "Connect",
                 g_variant_new_tuple(
                     (GVariant *[]){ connection(
                         (const char *[]){ BASE, IPSEC, NULL },
                         (const char *[]){ "esp-key-in", hugex, "esp-key-out", "0x00", NULL }) },
                     1),
                 ".BadArguments", "vpn.secrets: esp-key-in: ", NULL);
    expect_error(
        "Connect with a 1 MB connection id (and no remote)", "Connect",
        g_variant_new_tuple((GVariant *[]){ connection_v(
                                huge, dict_ss((const char *[]){ "device", "face1", NULL }), NULL) },
                            1),
        ".BadArguments", "remote", NULL);
    {
        g_autoptr(GVariant) r =
            call("NeedSecrets",
                 g_variant_new_tuple(
                     (GVariant *[]){ connection(
                         (const char *[]){ BASE, IPSEC, "ipsec-suite", huge, NULL }, NULL) },
                     1),
                 &error);

        result(r != NULL || error != NULL, "NeedSecrets with a 1 MB suite answers");
        g_clear_error(&error);
    }

    /* -- NUL bytes where D-Bus allows them: byte arrays in ConnectInteractive's details and in
     * SetConfig's gateway (strings cannot hold NUL: see invalid_utf8() for what the bus does) */
    g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
    g_variant_builder_add(
        &b, "{sv}", "x",
        g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, nul_bytes, sizeof nul_bytes, 1));
    expect_error("ConnectInteractive with NUL bytes in its details", "ConnectInteractive",
                 g_variant_new("(@a{sa{sv}}a{sv})",
                               connection((const char *[]){ "device", "face1", NULL }, NULL), &b),
                 ".BadArguments", "vpn.data: remote: ", NULL);
    expect_error("NewSecrets while not connecting", "NewSecrets",
                 g_variant_new_tuple(
                     (GVariant *[]){ connection((const char *[]){ BASE, IPSEC, NULL }, NULL) }, 1),
                 ".WrongState", NULL);
    expect_error("Disconnect while not connected", "Disconnect", NULL, ".AlreadyStopped", NULL);

    /* -- a thousand routes */
    for (guint i = 1; i <= 1000; i++)
        g_string_append_printf(routes, "2001:db8:%x::/48 metric %u ", i, i);
    ret = call("NeedSecrets",
               g_variant_new_tuple(
                   (GVariant *[]){ connection((const char *[]){ BASE, IPSEC, "inner-address6",
                                                                "2001:db8:ffff::1/64", "routes",
                                                                routes->str, NULL },
                                              NULL) },
                   1),
               &error);
    result(answered_vpn(ret), "NeedSecrets with a thousand routes asks for the vpn secrets");
    g_clear_pointer(&ret, g_variant_unref);
    g_clear_error(&error);
    g_string_append(routes, "2001:db8:ffff:1::1/64");
    expect_error(
        "Connect with a thousand routes and one with host bits", "Connect",
        g_variant_new_tuple((GVariant *[]){ connection(
                                (const char *[]){ BASE, "inner-address6", "2001:db8:ffff::1/64",
                                                  "routes", routes->str, NULL },
                                NULL) },
                            1),
        ".BadArguments", "2001:db8:ffff:1::1/64", "2001:db8:ffff:1::/64", NULL);

    invalid_utf8();

    /* -- still there */
    ret = call("NeedSecrets",
               g_variant_new_tuple(
                   (GVariant *[]){ connection((const char *[]){ BASE, IPSEC, NULL }, NULL) }, 1),
               &error);
    result(answered_vpn(ret), "afterwards a valid NeedSecrets answers ('vpn',)");
    result(service_alive(), "the service still owns %s", dest);
    result(n_starting == 0 && n_config == 0 && n_failure == 0,
           "no call started connecting (%u starting, %u config, %u failure signals)", n_starting,
           n_config, n_failure);
    printf("1..%d\n", n_tests);
    return n_failed ? 1 : 0;
}
