/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nm-gre-auth-dialog as an agent runs it: the connection on stdin, the answer on stdout. nmcli's
 * external UI mode is parsed as the key file nmcli reads; the classic mode as NetworkManager
 * reads it. No display is needed: nothing here asks the user.
 *
 * Usage: test-auth-dialog --tap PATH-TO-nm-gre-auth-dialog
 */
#include <gio/gio.h>
#include <signal.h>
#include <string.h>

#define SERVICE "org.freedesktop.NetworkManager.gre"
/* Test patterns, not secrets. */
#define KEY_IN "0x000102030405060708090a0b0c0d0e0f10111213"
#define KEY_OUT "0x101112131415161718191a1b1c1d1e1f20212223"

static const char *dialog_path;

/* The stdin an agent writes: "DATA_KEY=" / "DATA_VAL=" pairs, secrets alike, then DONE. */
static char *
details(const char *const *data, const char *const *secrets, const char *tail)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; data && data[i]; i += 2)
        g_string_append_printf(s, "DATA_KEY=%s\nDATA_VAL=%s\n\n", data[i], data[i + 1]);
    for (guint i = 0; secrets && secrets[i]; i += 2)
        g_string_append_printf(s, "SECRET_KEY=%s\nSECRET_VAL=%s\n\n", secrets[i], secrets[i + 1]);
    g_string_append(s, "DONE\n\n");
    g_string_append(s, tail ? tail : "");
    return g_string_free(s, FALSE);
}

static char *
run(const char *input, int *status, const char *first_arg, ...)
{
    g_autoptr(GPtrArray) argv   = g_ptr_array_new();
    g_autoptr(GSubprocess) proc = NULL;
    g_autoptr(GError) error     = NULL;
    char   *out                 = NULL;
    va_list ap;

    g_ptr_array_add(argv, (char *)dialog_path);
    g_ptr_array_add(argv, "-u");
    g_ptr_array_add(argv, "2a9c4e5e-0000-4000-8000-000000000001");
    g_ptr_array_add(argv, "-n");
    g_ptr_array_add(argv, "office tunnel");
    va_start(ap, first_arg);
    for (const char *a = first_arg; a; a = va_arg(ap, const char *))
        g_ptr_array_add(argv, (char *)a);
    va_end(ap);
    g_ptr_array_add(argv, NULL);

    proc =
        g_subprocess_newv((const char *const *)argv->pdata,
                          G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
    g_assert_no_error(error);
    /* The input fits the pipe's buffer, so it is written whole before the output is read. A
     * dialog that refuses its arguments exits without reading it, maybe before it is written:
     * that broken pipe is not a failure (and SIGPIPE is ignored, see main()). */
    if (!g_output_stream_write_all(g_subprocess_get_stdin_pipe(proc), input, strlen(input), NULL,
                                   NULL, &error))
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE);
    g_clear_error(&error);
    /* Without input, communicate() closes stdin, then reads stdout to its end. */
    g_subprocess_communicate_utf8(proc, NULL, NULL, &out, NULL, &error);
    g_assert_no_error(error);
    *status = g_subprocess_get_exit_status(proc);
    return out;
}

static GKeyFile *
external_ui(const char *input, const char *extra)
{
    int              status;
    g_autofree char *out =
        run(input, &status, "-s", SERVICE, "--external-ui-mode", "-i", extra, NULL);
    GKeyFile *kf                 = g_key_file_new();
    g_autoptr(GError) error      = NULL;
    g_autofree char *description = NULL;

    g_assert_cmpint(status, ==, 0);
    g_assert_true(g_key_file_load_from_data(kf, out, -1, G_KEY_FILE_NONE, &error));
    g_assert_no_error(error);
    g_assert_cmpint(g_key_file_get_integer(kf, "VPN Plugin UI", "Version", NULL), ==, 2);
    g_assert_true(g_key_file_has_key(kf, "VPN Plugin UI", "Title", NULL));
    description = g_key_file_get_string(kf, "VPN Plugin UI", "Description", NULL);
    g_assert_nonnull(strstr(description, "office tunnel"));
    return kf;
}

static gboolean
should_ask(GKeyFile *kf, const char *name)
{
    g_autoptr(GError) error = NULL;
    gboolean ask            = g_key_file_get_boolean(kf, name, "ShouldAsk", &error);

    g_assert_no_error(error);
    g_assert_true(g_key_file_get_boolean(kf, name, "IsSecret", NULL));
    g_assert_true(g_key_file_has_key(kf, name, "Label", NULL));
    return ask;
}

static void
test_flags(void)
{
    /* Agent-owned and known: returned, not asked. Not saved: always asked, even when known. */
    const char      *data[]    = { "ipsec",
                                   "manual",
                                   "esp-key-in-flags",
                                   "1",
                                   "esp-key-out-flags",
                                   "2",
                                   "auth-key-in-flags",
                                   "4",
                                   "auth-key-out-flags",
                                   "4",
                                   NULL };
    const char      *secrets[] = { "esp-key-in", KEY_IN, "esp-key-out", KEY_OUT, NULL };
    g_autofree char *in        = details(data, secrets, NULL);
    g_autoptr(GKeyFile) kf     = external_ui(in, NULL);
    g_auto(GStrv) groups       = g_key_file_get_groups(kf, NULL);
    g_autofree char *value     = g_key_file_get_string(kf, "esp-key-in", "Value", NULL);

    g_assert_false(should_ask(kf, "esp-key-in"));
    g_assert_cmpstr(value, ==, KEY_IN);
    g_assert_true(should_ask(kf, "esp-key-out"));
    /* HMAC keys that are not required are not asked for. */
    g_assert_cmpuint(g_strv_length(groups), ==, 3);
}

/* IKE: the PSK and nothing else, under its own label; asked when not saved. */
static void
test_ike(void)
{
    const char      *data[]    = { "ipsec", "ike", "ike-psk-flags", "2", NULL };
    const char      *secrets[] = { "ike-psk", "a-test-pattern-of-24-ch", NULL };
    g_autofree char *in        = details(data, secrets, NULL);
    g_autoptr(GKeyFile) kf     = external_ui(in, NULL);
    g_auto(GStrv) groups       = g_key_file_get_groups(kf, NULL);
    g_autofree char *label     = g_key_file_get_string(kf, "ike-psk", "Label", NULL);

    g_assert_true(should_ask(kf, "ike-psk"));
    g_assert_cmpstr(label, ==, "IKE pre-shared key");
    g_assert_cmpuint(g_strv_length(groups), ==, 2);
}

static void
test_refused_suite(void)
{
    /* Manual keys for a counter-mode suite are refused when connecting: nothing to ask. */
    const char      *data[] = { "ipsec", "manual", "ipsec-suite", "aes256gcm16", NULL };
    g_autofree char *in     = details(data, NULL, NULL);
    g_autoptr(GKeyFile) kf  = external_ui(in, NULL);
    g_auto(GStrv) groups    = g_key_file_get_groups(kf, NULL);

    g_assert_cmpuint(g_strv_length(groups), ==, 1);
}

static void
test_missing_and_not_required(void)
{
    /* A CBC suite needs HMAC keys; one is not required (never asked), one is unknown (asked). */
    const char      *data[]    = { "ipsec",
                                   "manual",
                                   "ipsec-suite",
                                   "aes128-sha256",
                                   "esp-key-in-flags",
                                   "1",
                                   "esp-key-out-flags",
                                   "1",
                                   "auth-key-in-flags",
                                   "4",
                                   "auth-key-out-flags",
                                   "1",
                                   NULL };
    const char      *secrets[] = { "esp-key-in", KEY_IN, "esp-key-out", KEY_OUT, NULL };
    g_autofree char *in        = details(data, secrets, NULL);
    g_autoptr(GKeyFile) kf     = external_ui(in, NULL);

    g_assert_false(should_ask(kf, "esp-key-in"));
    g_assert_false(should_ask(kf, "esp-key-out"));
    g_assert_false(g_key_file_has_group(kf, "auth-key-in"));
    g_assert_true(should_ask(kf, "auth-key-out"));
}

static void
test_reprompt(void)
{
    const char      *data[]    = { "ipsec", "manual", "esp-key-in-flags", "1", "esp-key-out-flags",
                                   "1",     NULL };
    const char      *secrets[] = { "esp-key-in", KEY_IN, "esp-key-out", KEY_OUT, NULL };
    g_autofree char *in        = details(data, secrets, NULL);
    g_autoptr(GKeyFile) kf     = external_ui(in, "-r");

    g_assert_true(should_ask(kf, "esp-key-in"));
    g_assert_true(should_ask(kf, "esp-key-out"));
}

static void
test_no_ipsec(void)
{
    const char      *data[] = { "remote", "192.0.2.2", NULL };
    g_autofree char *in     = details(data, NULL, NULL);
    g_autoptr(GKeyFile) kf  = external_ui(in, NULL);
    g_auto(GStrv) groups    = g_key_file_get_groups(kf, NULL);

    g_assert_cmpuint(g_strv_length(groups), ==, 1);
}

static void
test_classic(void)
{
    /* Without -i nothing is asked: the known keys go back, then an empty line; QUIT ends it. */
    const char      *data[]    = { "ipsec", "manual", "esp-key-in-flags", "1", "esp-key-out-flags",
                                   "1",     NULL };
    const char      *secrets[] = { "esp-key-in", KEY_IN, "esp-key-out", KEY_OUT, NULL };
    g_autofree char *in        = details(data, secrets, "QUIT\n\n");
    int              status;
    g_autofree char *out = run(in, &status, "-s", SERVICE, NULL);

    g_assert_cmpint(status, ==, 0);
    g_assert_cmpstr(out, ==, "esp-key-in\n" KEY_IN "\nesp-key-out\n" KEY_OUT "\n\n\n");
}

static void
test_wrong_service(void)
{
    g_autofree char *in = details(NULL, NULL, NULL);
    int              status;
    g_autofree char *out = run(in, &status, "-s", "org.freedesktop.NetworkManager.openvpn", NULL);

    g_assert_cmpint(status, !=, 0);
    g_assert_cmpstr(out, ==, "");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_assert_cmpint(argc, ==, 2);
    signal(SIGPIPE, SIG_IGN);
    dialog_path = argv[1];

    g_test_add_func("/auth-dialog/external-ui/flags", test_flags);
    g_test_add_func("/auth-dialog/external-ui/missing-and-not-required",
                    test_missing_and_not_required);
    g_test_add_func("/auth-dialog/external-ui/reprompt", test_reprompt);
    g_test_add_func("/auth-dialog/external-ui/no-ipsec", test_no_ipsec);
    g_test_add_func("/auth-dialog/external-ui/refused-suite", test_refused_suite);
    g_test_add_func("/auth-dialog/external-ui/ike", test_ike);
    g_test_add_func("/auth-dialog/classic", test_classic);
    g_test_add_func("/auth-dialog/wrong-service", test_wrong_service);
    return g_test_run();
}
