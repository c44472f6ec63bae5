/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gre-vici-tool: drives a charon through our VICI client, for test-vici.sh (not installed).
 *
 *   gre-vici-tool [--record DIR] URI COMMAND [ARGS...]
 *
 *   version                        the daemon's version reply
 *   load-conn NAME LOCAL REMOTE    a GRE-only transport connection, PSK, start_action=trap
 *   unload-conn NAME
 *   load-shared ID OWNER...        an IKE PSK read from stdin (one line), for the owners
 *   unload-shared ID
 *   get-conns | get-shared         names loaded over VICI, one a line
 *   list-conns | list-sas          the streamed events, dumped
 *   initiate CHILD IKE TIMEOUT_MS  start a CHILD_SA and wait for it
 *   terminate IKE TIMEOUT_MS       close an IKE_SA (and its CHILD_SAs) and wait for it
 *   command NAME                   any command with an empty message; the reply, dumped
 *   register EVENT                 register and unregister EVENT
 *   wait-event EVENT TIMEOUT_MS    register EVENT and dump the first one that arrives
 *
 * --record DIR writes every segment sent and received, in hex, to DIR/NN-sent.hex and
 * DIR/NN-recv.hex (how tests/data/vici/ was recorded).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gre-i18n.h"
#include "gre-vici.h"

static const char *record_dir;
static guint       record_n;

static void
tap(gboolean sent, const guint8 *segment, gsize len, gpointer user_data)
{
    g_autofree char *path = NULL;
    GString         *hex  = g_string_new(NULL);

    (void)user_data;
    for (gsize i = 0; i < len; i++)
        g_string_append_printf(hex, "%02x%s", segment[i], (i + 1) % 32 == 0 ? "\n" : " ");
    g_string_append_c(hex, '\n');
    path = g_strdup_printf("%s/%02u-%s.hex", record_dir, ++record_n, sent ? "sent" : "recv");
    if (!g_file_set_contents(path, hex->str, (gssize)hex->len, NULL))
        g_printerr("gre-vici-tool: cannot write %s\n", path);
    g_string_free(hex, TRUE);
}

static void
dump_event(const char *event, const GreViciSection *msg, gpointer user_data)
{
    g_autofree char *text = gre_vici_section_dump(msg);

    (void)user_data;
    printf("event %s:\n%s", event, text);
}

static GBytes *
finish(GreViciBuilder *b)
{
    g_autoptr(GError) error = NULL;
    GBytes *msg             = gre_vici_builder_finish(b, &error);

    if (!msg) {
        g_printerr("gre-vici-tool: %s\n", error->message);
        exit(2);
    }
    return msg;
}

static GBytes *
load_conn_msg(const char *name, const char *local, const char *remote)
{
    g_autoptr(GreViciBuilder) b = gre_vici_builder_new();

    gre_vici_builder_begin_section(b, name);
    gre_vici_builder_add(b, "version", "2");
    gre_vici_builder_begin_list(b, "local_addrs");
    gre_vici_builder_list_item(b, local);
    gre_vici_builder_end_list(b);
    gre_vici_builder_begin_list(b, "remote_addrs");
    gre_vici_builder_list_item(b, remote);
    gre_vici_builder_end_list(b);
    gre_vici_builder_begin_list(b, "proposals");
    gre_vici_builder_list_item(b, "aes256-sha256-ecp256");
    gre_vici_builder_end_list(b);
    gre_vici_builder_begin_section(b, "local");
    gre_vici_builder_add(b, "auth", "psk");
    gre_vici_builder_add(b, "id", local);
    gre_vici_builder_end_section(b);
    gre_vici_builder_begin_section(b, "remote");
    gre_vici_builder_add(b, "auth", "psk");
    gre_vici_builder_add(b, "id", remote);
    gre_vici_builder_end_section(b);
    gre_vici_builder_begin_section(b, "children");
    gre_vici_builder_begin_section(b, name);
    gre_vici_builder_add(b, "mode", "transport");
    gre_vici_builder_begin_list(b, "local_ts");
    gre_vici_builder_list_item(b, "dynamic[gre]");
    gre_vici_builder_end_list(b);
    gre_vici_builder_begin_list(b, "remote_ts");
    gre_vici_builder_list_item(b, "dynamic[gre]");
    gre_vici_builder_end_list(b);
    gre_vici_builder_begin_list(b, "esp_proposals");
    gre_vici_builder_list_item(b, "aes256gcm16-ecp256");
    gre_vici_builder_end_list(b);
    gre_vici_builder_add(b, "start_action", "trap");
    gre_vici_builder_end_section(b);
    gre_vici_builder_end_section(b);
    gre_vici_builder_end_section(b);
    return finish(b);
}

static GBytes *
kv_msg(const char *key, const char *value)
{
    g_autoptr(GreViciBuilder) b = gre_vici_builder_new();

    gre_vici_builder_add(b, key, value);
    return finish(b);
}

/* The PSK from stdin: never argv or the environment. */
static GBytes *
load_shared_msg(const char *id, char **owners)
{
    g_autoptr(GreViciBuilder) b = gre_vici_builder_new();
    char    psk[256];
    gsize   len;
    GBytes *msg;

    if (!fgets(psk, sizeof(psk), stdin)) {
        g_printerr("gre-vici-tool: no PSK on stdin\n");
        exit(2);
    }
    len = strcspn(psk, "\n");
    gre_vici_builder_add(b, "id", id);
    gre_vici_builder_add(b, "type", "IKE");
    gre_vici_builder_add_bytes(b, "data", psk, len);
    gre_vici_builder_begin_list(b, "owners");
    for (; *owners; owners++)
        gre_vici_builder_list_item(b, *owners);
    gre_vici_builder_end_list(b);
    msg = finish(b);
    explicit_bzero(psk, sizeof(psk));
    return msg;
}

static int
print_reply(GreViciSection *reply)
{
    g_autofree char *text = NULL;

    if (!reply)
        return 1;
    text = gre_vici_section_dump(reply);
    fputs(text, stdout);
    gre_vici_section_free(reply);
    return 0;
}

static void
print_list(GreViciSection *reply, const char *name)
{
    const char *const *items = gre_vici_get_list(reply, name);

    for (; items && *items; items++)
        printf("%s\n", *items);
}

static int
run(GreVici *v, int argc, char **argv, GError **error)
{
    const char *cmd = argv[0];

#define NEED(n)                                                                                    \
    if (argc < (n)) {                                                                              \
        g_printerr("gre-vici-tool: %s needs %d argument(s)\n", cmd, (n)-1);                        \
        return 2;                                                                                  \
    }
    if (strcmp(cmd, "version") == 0)
        return print_reply(gre_vici_command(v, "version", NULL, error));
    if (strcmp(cmd, "load-conn") == 0) {
        NEED(4);
        g_autoptr(GBytes) msg = load_conn_msg(argv[1], argv[2], argv[3]);
        return gre_vici_call(v, "load-conn", msg, error) ? 0 : 1;
    }
    if (strcmp(cmd, "unload-conn") == 0) {
        NEED(2);
        g_autoptr(GBytes) msg = kv_msg("name", argv[1]);
        return gre_vici_call(v, "unload-conn", msg, error) ? 0 : 1;
    }
    if (strcmp(cmd, "load-shared") == 0) {
        NEED(3);
        g_autoptr(GBytes) msg = load_shared_msg(argv[1], argv + 2);
        return gre_vici_call(v, "load-shared", msg, error) ? 0 : 1;
    }
    if (strcmp(cmd, "unload-shared") == 0) {
        NEED(2);
        g_autoptr(GBytes) msg = kv_msg("id", argv[1]);
        return gre_vici_call(v, "unload-shared", msg, error) ? 0 : 1;
    }
    if (strcmp(cmd, "get-conns") == 0 || strcmp(cmd, "get-shared") == 0) {
        g_autoptr(GreViciSection) reply = gre_vici_command(v, cmd, NULL, error);

        if (!reply)
            return 1;
        print_list(reply, cmd[4] == 'c' ? "conns" : "keys");
        return 0;
    }
    if (strcmp(cmd, "list-conns") == 0)
        return print_reply(
            gre_vici_command_streamed(v, cmd, NULL, "list-conn", dump_event, NULL, error));
    if (strcmp(cmd, "list-sas") == 0)
        return print_reply(
            gre_vici_command_streamed(v, cmd, NULL, "list-sa", dump_event, NULL, error));
    if (strcmp(cmd, "initiate") == 0) {
        NEED(4);
        g_autoptr(GreViciBuilder) b = gre_vici_builder_new();
        g_autoptr(GBytes) msg       = NULL;

        gre_vici_builder_add(b, "child", argv[1]);
        gre_vici_builder_add(b, "ike", argv[2]);
        gre_vici_builder_add(b, "timeout", argv[3]);
        msg = finish(b);
        /* charon answers when the exchange is over: give it the requested time and some. */
        gre_vici_set_timeout(v, (guint)atoi(argv[3]) + 5000);
        return gre_vici_call(v, "initiate", msg, error) ? 0 : 1;
    }
    if (strcmp(cmd, "terminate") == 0) {
        NEED(3);
        g_autoptr(GreViciBuilder) b = gre_vici_builder_new();
        g_autoptr(GBytes) msg       = NULL;

        gre_vici_builder_add(b, "ike", argv[1]);
        gre_vici_builder_add(b, "timeout", argv[2]);
        msg = finish(b);
        gre_vici_set_timeout(v, (guint)atoi(argv[2]) + 5000);
        return gre_vici_call(v, "terminate", msg, error) ? 0 : 1;
    }
    if (strcmp(cmd, "command") == 0) {
        NEED(2);
        return print_reply(gre_vici_command(v, argv[1], NULL, error));
    }
    if (strcmp(cmd, "register") == 0) {
        NEED(2);
        return gre_vici_register(v, argv[1], dump_event, NULL, error) &&
                       gre_vici_unregister(v, argv[1], error)
                   ? 0
                   : 1;
    }
    if (strcmp(cmd, "wait-event") == 0) {
        NEED(3);
        return gre_vici_register(v, argv[1], dump_event, NULL, error) &&
                       gre_vici_wait_event(v, (guint)atoi(argv[2]), error)
                   ? 0
                   : 1;
    }
    g_printerr("gre-vici-tool: unknown command %s\n", cmd);
    return 2;
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GreVici) v    = NULL;
    int rc;

    gre_i18n_init();
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 2 && strcmp(argv[1], "--record") == 0) {
        record_dir = argv[2];
        argc -= 2;
        argv += 2;
    }
    if (argc < 3) {
        g_printerr("usage: gre-vici-tool [--record DIR] URI COMMAND [ARGS...]\n");
        return 2;
    }
    v = gre_vici_connect(argv[1], &error);
    if (!v) {
        g_printerr("gre-vici-tool: %s\n", error->message);
        return 1;
    }
    if (record_dir)
        gre_vici_set_tap(v, tap, NULL);
    rc = run(v, argc - 2, argv + 2, &error);
    if (rc == 1 && error)
        g_printerr("gre-vici-tool: %s\n", error->message);
    return rc;
}
