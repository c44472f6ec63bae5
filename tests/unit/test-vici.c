/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The VICI client against messages recorded from a real charon 5.9.8 (tests/data/vici/, see its
 * README), malformed and oversized input of every kind we could think of, and a fake daemon on
 * a socketpair for timeouts, closed sockets and events interleaved with replies.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "gre-vici.h"
#include "test-util.h"

/*****************************************************************************/
/* recorded segments */

/* A whole recorded segment (packet type first, no length prefix). */
static GBytes *
recorded(const char *name)
{
    g_autofree char *file   = g_strdup_printf("vici/%s.hex", name);
    g_autofree char *path   = test_data_path(file);
    g_autofree char *text   = NULL;
    g_autoptr(GError) error = NULL;
    GByteArray *out         = g_byte_array_new();
    g_auto(GStrv) lines     = NULL;

    g_assert_true(g_file_get_contents(path, &text, NULL, &error));
    g_assert_no_error(error);
    lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        g_auto(GStrv) words = NULL;

        if ((*l)[0] == '#')
            continue;
        words = g_strsplit_set(*l, " \t", -1);
        for (char **w = words; *w; w++) {
            char  *end;
            guint8 b;

            if (!**w)
                continue;
            b = (guint8)strtoul(*w, &end, 16);
            g_assert_cmpint(*end, ==, '\0');
            g_byte_array_append(out, &b, 1);
        }
    }
    return g_byte_array_free_to_bytes(out);
}

/* The message inside a recorded segment: after the type, and the name for named types. */
static GreViciSection *
recorded_msg(const char *name, guint8 want_type)
{
    g_autoptr(GBytes) seg = recorded(name);
    gsize         len;
    const guint8 *d = g_bytes_get_data(seg, &len);
    gsize         off;
    g_autoptr(GError) error = NULL;
    GreViciSection *msg;

    g_assert_cmpuint(len, >=, 1);
    g_assert_cmpuint(d[0], ==, want_type);
    off = (want_type == GRE_VICI_EVENT || want_type == GRE_VICI_CMD_REQUEST) ? 2u + d[1] : 1u;
    msg = gre_vici_parse(d + off, len - off, &error);
    g_assert_no_error(error);
    g_assert_nonnull(msg);
    return msg;
}

static const char *const recorded_messages[] = {
    /* name, packet type as a digit */
    "version-request:0",
    "version-response:1",
    "load-conn-request:0",
    "load-conn-response:1",
    "load-shared-request:0",
    "list-conn-event:7",
    "list-conns-response:1",
    "get-conns-response:1",
    "unload-missing-response:1",
    "initiate-request:0",
    "list-sa-event:7",
    "child-updown-event:7",
    "list-conn-event-admin:7",
    "get-shared-response:1",
    "unload-conn-request:0",
    "initiate-response:1",
    "initiate-failed-response:1",
    "load-shared-response:1",
};

static void
test_recorded_replies(void)
{
    g_autoptr(GreViciSection) version = recorded_msg("version-response", GRE_VICI_CMD_RESPONSE);
    g_autoptr(GreViciSection) loaded  = recorded_msg("load-conn-response", GRE_VICI_CMD_RESPONSE);
    g_autoptr(GreViciSection) missing =
        recorded_msg("unload-missing-response", GRE_VICI_CMD_RESPONSE);
    g_autoptr(GreViciSection) conns = recorded_msg("get-conns-response", GRE_VICI_CMD_RESPONSE);
    g_autoptr(GError) error         = NULL;
    const char *const *names;

    g_assert_cmpstr(gre_vici_get(version, "daemon"), ==, "charon-systemd");
    g_assert_cmpstr(gre_vici_get(version, "version"), ==, "5.9.8");
    g_assert_cmpstr(gre_vici_get(version, "sysname"), ==, "Linux");

    g_assert_true(gre_vici_check_success(loaded, "load-conn", &error));
    g_assert_no_error(error);

    g_assert_false(gre_vici_check_success(missing, "unload-conn", &error));
    g_assert_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_FAILED);
    g_assert_nonnull(strstr(error->message, "unload-conn"));
    g_assert_nonnull(strstr(error->message, "no-such-conn"));

    names = gre_vici_get_list(conns, "conns");
    g_assert_nonnull(names);
    g_assert_cmpstr(names[0], ==, "admin");
    g_assert_cmpstr(names[1], ==, "gre-peer");
    g_assert_null(names[2]);
}

static void
test_recorded_events(void)
{
    g_autoptr(GreViciSection) conn = recorded_msg("list-conn-event", GRE_VICI_EVENT);
    g_autoptr(GreViciSection) sa   = recorded_msg("list-sa-event", GRE_VICI_EVENT);
    g_autoptr(GreViciSection) up   = recorded_msg("child-updown-event", GRE_VICI_EVENT);
    const GreViciSection *peer, *child, *ike;
    const char *const    *ts;
    const char           *name;
    const GreViciSection *sub = NULL;

    /* list-conn: one section per connection, children below it. */
    peer = gre_vici_get_section(conn, "gre-peer");
    g_assert_nonnull(peer);
    g_assert_cmpstr(gre_vici_get_list(peer, "remote_addrs")[0], ==, "192.0.2.2");
    child = gre_vici_get_section(gre_vici_get_section(peer, "children"), "gre-peer");
    g_assert_nonnull(child);
    g_assert_cmpstr(gre_vici_get(child, "mode"), ==, "TRANSPORT");
    ts = gre_vici_get_list(child, "local-ts");
    g_assert_cmpstr(ts[0], ==, "dynamic[gre]");
    g_assert_null(ts[1]);

    /* list-sa: the IKE_SA's section, its child-sas keyed by unique name. */
    ike = gre_vici_get_section(sa, "gre-peer");
    g_assert_nonnull(ike);
    g_assert_cmpstr(gre_vici_get(ike, "state"), ==, "ESTABLISHED");
    g_assert_cmpuint(gre_vici_section_n_entries(gre_vici_get_section(ike, "child-sas")), ==, 1);
    gre_vici_section_entry(gre_vici_get_section(ike, "child-sas"), 0, &name, &sub);
    g_assert_nonnull(sub);
    g_assert_cmpstr(gre_vici_get(sub, "mode"), ==, "TRANSPORT");
    g_assert_cmpstr(gre_vici_get(sub, "protocol"), ==, "ESP");
    g_assert_cmpstr(gre_vici_get(sub, "state"), ==, "INSTALLED");
    g_assert_cmpstr(gre_vici_get_list(sub, "local-ts")[0], ==, "192.0.2.1/32[gre]");

    /* child-updown: "up" beside the IKE_SA's section. */
    g_assert_cmpstr(gre_vici_get(up, "up"), ==, "yes");
    g_assert_nonnull(gre_vici_get_section(up, "gre-peer"));
}

/* Every recorded message parses, and encodes back to exactly the recorded bytes. */
static void
test_round_trip(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(recorded_messages); i++) {
        g_auto(GStrv) f               = g_strsplit(recorded_messages[i], ":", 2);
        guint8 type                   = (guint8)atoi(f[1]);
        g_autoptr(GBytes) seg         = recorded(f[0]);
        g_autoptr(GreViciSection) msg = recorded_msg(f[0], type);
        g_autoptr(GError) error       = NULL;
        g_autoptr(GBytes) again       = gre_vici_section_encode(msg, &error);
        gsize         len;
        const guint8 *d = g_bytes_get_data(seg, &len);
        gsize off       = (type == GRE_VICI_EVENT || type == GRE_VICI_CMD_REQUEST) ? 2u + d[1] : 1u;
        g_autoptr(GBytes) part = g_bytes_new(d + off, len - off);

        g_assert_no_error(error);
        if (!g_bytes_equal(part, again))
            g_error("%s does not encode back to its recorded bytes", f[0]);
    }
}

/*****************************************************************************/
/* building */

static void
test_build_readme_example(void)
{
    /* The encoding example of charon's VICI README, built element by element. */
    static const guint8 want[] = {
        3,   4,   'k', 'e', 'y', '1', 0,   6,   'v', 'a', 'l', 'u', 'e', '1', 1,   8,
        's', 'e', 'c', 't', 'i', 'o', 'n', '1', 1,   11,  's', 'u', 'b', '-', 's', 'e',
        'c', 't', 'i', 'o', 'n', 3,   4,   'k', 'e', 'y', '2', 0,   6,   'v', 'a', 'l',
        'u', 'e', '2', 2,   4,   5,   'l', 'i', 's', 't', '1', 5,   0,   5,   'i', 't',
        'e', 'm', '1', 5,   0,   5,   'i', 't', 'e', 'm', '2', 6,   2,
    };
    g_autoptr(GreViciBuilder) b      = gre_vici_builder_new();
    g_autoptr(GError) error          = NULL;
    g_autoptr(GBytes) msg            = NULL;
    g_autoptr(GBytes) expected       = g_bytes_new_static(want, sizeof(want));
    g_autoptr(GreViciSection) parsed = NULL;
    g_autofree char *dump            = NULL;

    gre_vici_builder_add(b, "key1", "value1");
    gre_vici_builder_begin_section(b, "section1");
    gre_vici_builder_begin_section(b, "sub-section");
    gre_vici_builder_add(b, "key2", "value2");
    gre_vici_builder_end_section(b);
    gre_vici_builder_begin_list(b, "list1");
    gre_vici_builder_list_item(b, "item1");
    gre_vici_builder_list_item(b, "item2");
    gre_vici_builder_end_list(b);
    gre_vici_builder_end_section(b);
    msg = gre_vici_builder_finish(b, &error);
    g_assert_no_error(error);
    g_assert_true(g_bytes_equal(msg, expected));

    parsed = gre_vici_parse(want, sizeof(want), &error);
    g_assert_no_error(error);
    dump = gre_vici_section_dump(parsed);
    g_assert_cmpstr(dump, ==,
                    "key1 = value1\nsection1 {\n  sub-section {\n    key2 = value2\n  }\n"
                    "  list1 = [ item1, item2 ]\n}\n");
}

typedef void (*BuildFunc)(GreViciBuilder *b);

static void
b_empty_name(GreViciBuilder *b)
{
    gre_vici_builder_add(b, "", "x");
}
static void
b_long_name(GreViciBuilder *b)
{
    g_autofree char *n = g_strnfill(256, 'n');

    gre_vici_builder_begin_section(b, n);
}
static void
b_long_value(GreViciBuilder *b)
{
    g_autofree char *v = g_strnfill(65536, 'v');

    gre_vici_builder_add(b, "k", v);
}
static void
b_kv_in_list(GreViciBuilder *b)
{
    gre_vici_builder_begin_list(b, "l");
    gre_vici_builder_add(b, "k", "v");
}
static void
b_list_in_list(GreViciBuilder *b)
{
    gre_vici_builder_begin_list(b, "l");
    gre_vici_builder_begin_list(b, "m");
    /* The first misuse is the one reported; what follows changes nothing. */
    gre_vici_builder_end_list(b);
    gre_vici_builder_end_section(b);
}
static void
b_section_in_list(GreViciBuilder *b)
{
    gre_vici_builder_begin_list(b, "l");
    gre_vici_builder_begin_section(b, "s");
}
static void
b_item_outside(GreViciBuilder *b)
{
    gre_vici_builder_list_item(b, "i");
}
static void
b_list_end_outside(GreViciBuilder *b)
{
    gre_vici_builder_end_list(b);
}
static void
b_section_end_outside(GreViciBuilder *b)
{
    gre_vici_builder_end_section(b);
}
static void
b_section_open(GreViciBuilder *b)
{
    gre_vici_builder_begin_section(b, "s");
}
static void
b_list_open(GreViciBuilder *b)
{
    gre_vici_builder_begin_list(b, "l");
}
static void
b_too_deep(GreViciBuilder *b)
{
    for (int i = 0; i <= GRE_VICI_MAX_DEPTH; i++)
        gre_vici_builder_begin_section(b, "s");
}
static void
b_too_large(GreViciBuilder *b)
{
    g_autofree char *v = g_strnfill(60000, 'v');

    for (int i = 0; i < 10; i++)
        gre_vici_builder_add(b, "k", v);
}

static void
test_build_misuse(void)
{
    static const struct {
        BuildFunc        func;
        GreViciErrorCode code;
        const char      *message;
    } cases[] = {
        { b_empty_name, GRE_VICI_ERROR_MALFORMED, "empty name" },
        { b_long_name, GRE_VICI_ERROR_TOO_LARGE, "longer than 255 bytes" },
        { b_long_value, GRE_VICI_ERROR_TOO_LARGE, "value of \"k\" longer than 65535 bytes" },
        { b_kv_in_list, GRE_VICI_ERROR_MALFORMED, "a key/value inside a list" },
        { b_list_in_list, GRE_VICI_ERROR_MALFORMED, "a list inside a list" },
        { b_section_in_list, GRE_VICI_ERROR_MALFORMED, "a section inside a list" },
        { b_item_outside, GRE_VICI_ERROR_MALFORMED, "a list item outside a list" },
        { b_list_end_outside, GRE_VICI_ERROR_MALFORMED, "a list end outside a list" },
        { b_section_end_outside, GRE_VICI_ERROR_MALFORMED, "section end without a section" },
        { b_section_open, GRE_VICI_ERROR_MALFORMED, "1 section(s) not closed" },
        { b_list_open, GRE_VICI_ERROR_MALFORMED, "a list is not closed" },
        { b_too_deep, GRE_VICI_ERROR_MALFORMED, "nested deeper than 16" },
        { b_too_large, GRE_VICI_ERROR_TOO_LARGE, "larger than 524288 bytes" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GreViciBuilder) b = gre_vici_builder_new();
        g_autoptr(GError) error     = NULL;
        g_autoptr(GBytes) msg       = NULL;

        cases[i].func(b);
        msg = gre_vici_builder_finish(b, &error);
        g_assert_null(msg);
        g_assert_error(error, GRE_VICI_ERROR, (gint)cases[i].code);
        if (!strstr(error->message, cases[i].message))
            g_error("case %u: \"%s\" does not contain \"%s\"", i, error->message, cases[i].message);
    }
}

/* Values are raw bytes: a NUL inside survives, text accessors refuse it. */
static void
test_binary_values(void)
{
    g_autoptr(GreViciBuilder) b = gre_vici_builder_new();
    g_autoptr(GError) error     = NULL;
    g_autoptr(GBytes) msg       = NULL;
    g_autoptr(GreViciSection) s = NULL;
    gsize         len;
    const guint8 *v;

    gre_vici_builder_add_bytes(b, "data", "a\0b", 3);
    gre_vici_builder_add(b, "empty", "");
    msg = gre_vici_builder_finish(b, &error);
    g_assert_no_error(error);
    s = gre_vici_parse(g_bytes_get_data(msg, NULL), g_bytes_get_size(msg), &error);
    g_assert_no_error(error);
    v = gre_vici_get_bytes(s, "data", &len);
    g_assert_cmpuint(len, ==, 3);
    g_assert_cmpmem(v, 3, "a\0b", 3);
    g_assert_null(gre_vici_get(s, "data"));
    g_assert_cmpstr(gre_vici_get(s, "empty"), ==, "");
    g_assert_null(gre_vici_get(s, "absent"));
    g_assert_null(gre_vici_get_section(s, "data"));
    g_assert_null(gre_vici_get_list(s, "data"));
}

/*****************************************************************************/
/* parsing hostile input */

static GBytes *
hex(const char *text)
{
    GByteArray *out = g_byte_array_new();

    for (const char *p = text; *p;) {
        if (*p == ' ') {
            p++;
            continue;
        }
        if (*p == '\'') { /* 'abc' : literal text */
            const char *end = strchr(p + 1, '\'');

            g_byte_array_append(out, (const guint8 *)p + 1, (guint)(end - p - 1));
            p = end + 1;
            continue;
        }
        {
            char   two[3] = { p[0], p[1], 0 };
            guint8 b      = (guint8)strtoul(two, NULL, 16);

            g_byte_array_append(out, &b, 1);
            p += 2;
        }
    }
    return g_byte_array_free_to_bytes(out);
}

static void
test_parse_malformed(void)
{
    static const struct {
        const char *hex;
        const char *message;
    } cases[] = {
        { "00", "unknown element type 0" },
        { "07 01 'a'", "unknown element type 7" },
        { "ff", "unknown element type 255" },
        { "01", "SECTION_START without its name length" },
        { "01 00", "SECTION_START with an empty name" },
        { "01 05 'abc'", "SECTION_START name of 5 bytes runs past the end" },
        /* found by tests/fuzz: such a name read as "", and could not be encoded again */
        { "04 05 00 'd' ff 00 'n' 06", "LIST_START name holding a NUL byte" },
        { "03 02 'k' 00 00 00", "KEY_VALUE name holding a NUL byte" },
        { "03 01 'k'", "KEY_VALUE without its value length" },
        { "03 01 'k' 00", "KEY_VALUE without its value length" },
        { "03 01 'k' 00 04 'abc'", "KEY_VALUE value of 4 bytes runs past the end" },
        { "03 01 'k' ff ff 'abc'", "KEY_VALUE value of 65535 bytes runs past the end" },
        { "02", "at byte 0: section end without a section" },
        { "01 01 's' 02 02", "at byte 4: section end without a section" },
        { "01 01 's'", "section \"s\" is not closed" },
        { "01 01 's' 01 01 't' 02", "byte 7: section \"s\" is not closed" },
        { "04 01 'l'", "list \"l\" is not closed" },
        { "05 00 01 'x'", "list item outside a list" },
        { "06", "list end without a list" },
        { "04 01 'l' 03 01 'k' 00 00 06", "KEY_VALUE inside list \"l\" (only items may be there)" },
        { "04 01 'l' 01 01 's' 02 06", "SECTION_START inside list \"l\"" },
        { "04 01 'l' 04 01 'm' 06 06", "LIST_START inside list \"l\"" },
        { "04 01 'l' 02", "SECTION_END inside list \"l\"" },
        { "04 01 'l' 09", "unknown element type 9" },
        { "04 01 'l' 05 00", "LIST_ITEM without its value length" },
        { "04 01 'l' 05 00 03 'ab'", "LIST_ITEM value of 3 bytes runs past the end" },
        { "03 01 'k' 00 00 ", NULL }, /* fine: an empty value */
        { "04 01 'l' 06", NULL },     /* fine: an empty list */
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GBytes) msg   = hex(cases[i].hex);
        g_autoptr(GError) error = NULL;
        g_autoptr(GreViciSection) s =
            gre_vici_parse(g_bytes_get_data(msg, NULL), g_bytes_get_size(msg), &error);

        if (!cases[i].message) {
            g_assert_no_error(error);
            g_assert_nonnull(s);
            continue;
        }
        g_assert_null(s);
        g_assert_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_MALFORMED);
        if (!strstr(error->message, cases[i].message))
            g_error("case %u (%s): \"%s\" does not contain \"%s\"", i, cases[i].hex, error->message,
                    cases[i].message);
    }
}

static void
test_parse_limits(void)
{
    GByteArray *deep        = g_byte_array_new();
    g_autoptr(GError) error = NULL;
    GreViciSection *s;
    guint8         *big;

    /* 16 levels are fine, 17 are not. */
    for (int n = 16; n <= 17; n++) {
        g_byte_array_set_size(deep, 0);
        for (int i = 0; i < n; i++)
            g_byte_array_append(deep, (const guint8 *)"\x01\x01s", 3);
        for (int i = 0; i < n; i++)
            g_byte_array_append(deep, (const guint8 *)"\x02", 1);
        s = gre_vici_parse(deep->data, deep->len, &error);
        if (n == 16) {
            g_assert_no_error(error);
            gre_vici_section_free(s);
        } else {
            g_assert_null(s);
            g_assert_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_MALFORMED);
            g_assert_nonnull(strstr(error->message, "nested deeper than 16"));
            g_clear_error(&error);
        }
    }
    g_byte_array_unref(deep);

    /* A message over the segment limit is refused before it is read. */
    big = g_malloc0(GRE_VICI_MAX_SEGMENT + 1);
    s   = gre_vici_parse(big, GRE_VICI_MAX_SEGMENT + 1, &error);
    g_assert_null(s);
    g_assert_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_TOO_LARGE);
    g_free(big);
}

/* Every prefix and thousands of mutations of every recorded message: an error or a tree, never a
 * crash or a read out of bounds (run under ASan by tests/run-all.sh). Each prefix is copied into
 * a buffer of exactly its size, so that ASan sees any read past it. */
static void
test_parse_truncated_and_mutated(void)
{
    GRand *rand   = g_rand_new_with_seed(47);
    guint  parsed = 0, refused = 0;

    for (guint i = 0; i < G_N_ELEMENTS(recorded_messages); i++) {
        g_auto(GStrv) f       = g_strsplit(recorded_messages[i], ":", 2);
        g_autoptr(GBytes) seg = recorded(f[0]);
        gsize         len;
        const guint8 *d = g_bytes_get_data(seg, &len);

        for (gsize cut = 0; cut <= len; cut++) {
            guint8 *copy            = g_memdup2(d, cut ? cut : 1);
            g_autoptr(GError) error = NULL;
            GreViciSection *s       = gre_vici_parse(copy, cut, &error);

            g_assert_true((s == NULL) == (error != NULL));
            s ? parsed++ : refused++;
            gre_vici_section_free(s);
            g_free(copy);
        }
        for (int m = 0; m < 2000; m++) {
            guint8 *copy            = g_memdup2(d, len);
            g_autoptr(GError) error = NULL;
            GreViciSection *s;

            for (int k = g_rand_int_range(rand, 1, 4); k > 0; k--)
                copy[g_rand_int_range(rand, 0, (gint32)len)] = (guint8)g_rand_int(rand);
            s = gre_vici_parse(copy, len, &error);
            g_assert_true((s == NULL) == (error != NULL));
            s ? parsed++ : refused++;
            gre_vici_section_free(s);
            g_free(copy);
        }
    }
    g_rand_free(rand);
    g_test_message("%u inputs parsed, %u refused", parsed, refused);
    g_assert_cmpuint(refused, >, 0);
    g_assert_cmpuint(parsed, >, 0);
}

/*****************************************************************************/
/* the connection, against a fake daemon on a socketpair */

typedef struct {
    GreVici *vici;
    int      daemon; /* the fake daemon's end */
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    int sv[2];

    (void)data;
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    f->vici   = gre_vici_new_from_fd(sv[0], "fake");
    f->daemon = sv[1];
    gre_vici_set_timeout(f->vici, 300);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    (void)data;
    gre_vici_free(f->vici);
    if (f->daemon >= 0)
        close(f->daemon);
}

/* The fake daemon sends a segment: the raw bytes @seg, framed with their length. */
static void
daemon_send(Fixture *f, GBytes *seg)
{
    gsize         len;
    const guint8 *d = g_bytes_get_data(seg, &len);
    guint8 hdr[4]   = { (guint8)(len >> 24), (guint8)(len >> 16), (guint8)(len >> 8), (guint8)len };

    g_assert_cmpint(write(f->daemon, hdr, 4), ==, 4);
    if (len)
        g_assert_cmpint(write(f->daemon, d, len), ==, (gssize)len);
}

static void
daemon_send_hex(Fixture *f, const char *text)
{
    g_autoptr(GBytes) seg = hex(text);

    daemon_send(f, seg);
}

static void
daemon_send_recorded(Fixture *f, const char *name)
{
    g_autoptr(GBytes) seg = recorded(name);

    daemon_send(f, seg);
}

/* What the client sent, one segment (without its length). */
static GBytes *
daemon_read(Fixture *f)
{
    guint8  hdr[4];
    gsize   len;
    guint8 *buf;

    g_assert_cmpint(recv(f->daemon, hdr, 4, MSG_DONTWAIT), ==, 4);
    len = ((gsize)hdr[0] << 24) | ((gsize)hdr[1] << 16) | ((gsize)hdr[2] << 8) | hdr[3];
    buf = g_malloc(len);
    g_assert_cmpint(recv(f->daemon, buf, len, MSG_DONTWAIT), ==, (gssize)len);
    return g_bytes_new_take(buf, len);
}

static void
assert_sent(Fixture *f, const char *recorded_name)
{
    g_autoptr(GBytes) got  = daemon_read(f);
    g_autoptr(GBytes) want = recorded(recorded_name);

    if (!g_bytes_equal(got, want))
        g_error("the client did not send what was recorded as %s", recorded_name);
}

static void
test_command_version(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error         = NULL;
    g_autoptr(GreViciSection) reply = NULL;

    (void)data;
    daemon_send_recorded(f, "version-response");
    reply = gre_vici_command(f->vici, "version", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(gre_vici_get(reply, "version"), ==, "5.9.8");
    /* Byte for byte what charon got when this was recorded. */
    assert_sent(f, "version-request");
}

typedef struct {
    guint      n;
    GPtrArray *names;
} Seen;

static void
on_event(const char *event, const GreViciSection *msg, gpointer user_data)
{
    Seen *seen = user_data;

    seen->n++;
    if (gre_vici_section_n_entries(msg) > 0) {
        const char *name;

        gre_vici_section_entry(msg, 0, &name, NULL);
        g_ptr_array_add(seen->names, g_strdup_printf("%s:%s", event, name));
    }
}

/* list-conns as charon streams it: confirm, events, an event nobody registered for, the
 * response, confirm of the unregistration. */
static void
test_streamed(Fixture *f, gconstpointer data)
{
    Seen seen                       = { 0, g_ptr_array_new_with_free_func(g_free) };
    g_autoptr(GError) error         = NULL;
    g_autoptr(GreViciSection) reply = NULL;

    (void)data;
    daemon_send_recorded(f, "event-confirm");
    daemon_send_recorded(f, "list-conn-event-admin");
    daemon_send_hex(f, "07 03 'log' 03 03 'msg' 00 02 'hi'"); /* not registered: dropped */
    daemon_send_recorded(f, "list-conn-event");
    daemon_send_recorded(f, "list-conns-response");
    daemon_send_recorded(f, "event-confirm");
    reply = gre_vici_command_streamed(f->vici, "list-conns", NULL, "list-conn", on_event, &seen,
                                      &error);
    g_assert_no_error(error);
    g_assert_nonnull(reply);
    g_assert_cmpuint(seen.n, ==, 2);
    g_assert_cmpstr(seen.names->pdata[0], ==, "list-conn:admin");
    g_assert_cmpstr(seen.names->pdata[1], ==, "list-conn:gre-peer");
    assert_sent(f, "list-conn-register");
    assert_sent(f, "list-conns-request");
    assert_sent(f, "list-conn-unregister");
    g_ptr_array_unref(seen.names);
}

/* An event raised before the registration is confirmed already reaches the callback; events
 * between a command and its response too. */
static void
test_events_interleaved(Fixture *f, gconstpointer data)
{
    Seen seen               = { 0, g_ptr_array_new_with_free_func(g_free) };
    g_autoptr(GError) error = NULL;

    (void)data;
    daemon_send_recorded(f, "child-updown-event");
    daemon_send_hex(f, "05");
    g_assert_true(gre_vici_register(f->vici, "child-updown", on_event, &seen, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(seen.n, ==, 1);

    daemon_send_recorded(f, "child-updown-event");
    daemon_send_recorded(f, "load-conn-response");
    g_assert_true(gre_vici_call(f->vici, "load-conn", NULL, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(seen.n, ==, 2);

    /* wait_event: a timeout with nothing outstanding leaves the connection usable. */
    g_assert_false(gre_vici_wait_event(f->vici, 100, &error));
    g_assert_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_TIMEOUT);
    g_clear_error(&error);
    daemon_send_recorded(f, "child-updown-event");
    g_assert_true(gre_vici_wait_event(f->vici, 1000, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(seen.n, ==, 3);
    g_assert_cmpstr(seen.names->pdata[2], ==, "child-updown:up");
    g_ptr_array_unref(seen.names);
}

static void
test_unknown(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    Seen seen               = { 0, g_ptr_array_new_with_free_func(g_free) };

    (void)data;
    daemon_send_recorded(f, "unknown-command-response");
    g_assert_null(gre_vici_command(f->vici, "no-such-command", NULL, &error));
    g_assert_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_UNKNOWN_COMMAND);
    g_assert_nonnull(strstr(error->message, "does not know the command \"no-such-command\""));
    g_clear_error(&error);

    daemon_send_recorded(f, "unknown-event-response");
    g_assert_false(gre_vici_register(f->vici, "no-such-event", on_event, &seen, &error));
    g_assert_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_UNKNOWN_EVENT);
    g_assert_nonnull(strstr(error->message, "does not know the event \"no-such-event\""));
    g_clear_error(&error);

    /* Neither broke the connection, and the refused registration is not kept. */
    daemon_send_hex(f, "07 0d 'no-such-event' 03 01 'k' 00 01 'v'");
    daemon_send_recorded(f, "version-response");
    g_assert_true(gre_vici_call(f->vici, "version", NULL, &error) == FALSE);
    g_assert_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_MALFORMED); /* no success key */
    g_assert_cmpuint(seen.n, ==, 0);
    g_ptr_array_unref(seen.names);
}

/* A daemon that never answers: a timeout within bounds, then the connection is unusable. */
static void
test_timeout(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    gint64 t0               = g_get_monotonic_time();
    gint64 took;

    (void)data;
    g_assert_null(gre_vici_command(f->vici, "version", NULL, &error));
    took = g_get_monotonic_time() - t0;
    g_assert_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_TIMEOUT);
    g_assert_nonnull(strstr(error->message, "did not answer within 300 ms (command version)"));
    g_assert_cmpint(took, >=, 290000);
    g_assert_cmpint(took, <, 3000000);
    g_clear_error(&error);

    /* The late reply must not be taken for the next command's. */
    daemon_send_recorded(f, "version-response");
    g_assert_null(gre_vici_command(f->vici, "version", NULL, &error));
    g_assert_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_TIMEOUT);
    g_assert_nonnull(strstr(error->message, "unusable after an earlier error"));
}

/* A command in two halves, polled without blocking (nm-gre-service's wait for the CHILD_SA):
 * nothing yet, then events are dispatched as they come, then the response; a daemon silent past
 * the timeout fails the poll. Each poll returns at once. */
static void
test_poll(Fixture *f, gconstpointer data)
{
    Seen seen                       = { 0, g_ptr_array_new_with_free_func(g_free) };
    g_autoptr(GError) error         = NULL;
    g_autoptr(GreViciSection) reply = NULL;
    gint64 t0;

    (void)data;
    daemon_send_hex(f, "05");
    g_assert_true(gre_vici_register(f->vici, "child-updown", on_event, &seen, &error));
    g_assert_no_error(error);
    g_assert_true(gre_vici_command_send(f->vici, "version", NULL, &error));
    g_assert_no_error(error);
    g_bytes_unref(daemon_read(f)); /* the registration */
    assert_sent(f, "version-request");
    t0 = g_get_monotonic_time();
    g_assert_true(gre_vici_command_poll(f->vici, &reply, &error));
    g_assert_null(reply);
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 50000);
    daemon_send_recorded(f, "child-updown-event");
    g_assert_true(gre_vici_command_poll(f->vici, &reply, &error));
    g_assert_null(reply);
    g_assert_cmpuint(seen.n, ==, 1);
    daemon_send_recorded(f, "version-response");
    g_assert_true(gre_vici_command_poll(f->vici, &reply, &error));
    g_assert_no_error(error);
    g_assert_nonnull(reply);
    g_assert_cmpstr(gre_vici_get(reply, "version"), ==, "5.9.8");
    g_clear_pointer(&reply, gre_vici_section_free);

    /* Silent past the timeout (300 ms): the poll fails, and the connection is unusable. */
    g_assert_true(gre_vici_command_send(f->vici, "version", NULL, &error));
    g_assert_true(gre_vici_command_poll(f->vici, &reply, &error));
    g_assert_null(reply);
    g_usleep(350000);
    g_assert_false(gre_vici_command_poll(f->vici, &reply, &error));
    g_assert_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_TIMEOUT);
    g_assert_null(reply);
    g_ptr_array_unref(seen.names);
}

/* Half a reply, then silence: still bounded. */
static void
test_timeout_partial(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    (void)data;
    g_assert_cmpint(write(f->daemon, "\x00\x00\x00\x10\x01\x03", 6), ==, 6);
    g_assert_null(gre_vici_command(f->vici, "version", NULL, &error));
    g_assert_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_TIMEOUT);
}

static void
test_closed(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    (void)data;
    daemon_send_hex(f, "05");
    g_assert_true(gre_vici_register(f->vici, "list-sa", on_event, NULL, &error));
    close(f->daemon);
    f->daemon = -1;
    g_assert_null(gre_vici_command(f->vici, "version", NULL, &error));
    g_assert_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_CLOSED);
    g_assert_nonnull(strstr(error->message, "closed the connection"));
}

/* Broken packets from the daemon: each an error naming it, never a crash or a huge allocation. */
static void
test_bad_packets(void)
{
    static const struct {
        const char *raw; /* the bytes the daemon writes, length header included */
        const char *message;
    } cases[] = {
        { "00000000", "an empty segment" },
        { "00080001", "a segment of 524289 bytes, over the limit of 524288" },
        { "ffffffff", "a segment of 4294967295 bytes" },
        { "00000001 09", "unknown packet type 9" },
        { "00000001 07", "a packet whose name is missing or truncated" },
        { "00000002 07 00", "a packet whose name is missing or truncated" },
        { "00000003 07 05 'a'", "a packet whose name is missing or truncated" },
        { "00000002 05 00", "a EVENT_CONFIRM packet of 2 bytes" },
        { "00000003 00 01 'x'", "a CMD_REQUEST packet of 3 bytes" },
        { "00000003 01 02 02", "section end without a section" },
        { "00000004 01 03 01 'k'", "KEY_VALUE without its value length" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        Fixture f;
        g_autoptr(GBytes) raw   = hex(cases[i].raw);
        g_autoptr(GError) error = NULL;

        fixture_setup(&f, NULL);
        g_assert_cmpint(write(f.daemon, g_bytes_get_data(raw, NULL), g_bytes_get_size(raw)), ==,
                        (gssize)g_bytes_get_size(raw));
        g_assert_null(gre_vici_command(f.vici, "version", NULL, &error));
        g_assert_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_MALFORMED);
        if (!strstr(error->message, cases[i].message))
            g_error("case %u: \"%s\" does not contain \"%s\"", i, error->message, cases[i].message);
        g_assert_nonnull(strstr(error->message, "broke the VICI protocol (command version)"));
        fixture_teardown(&f, NULL);
    }
}

/* A malformed event is a protocol error too, also while waiting for a reply. */
static void
test_bad_event(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    (void)data;
    daemon_send_hex(f, "05");
    g_assert_true(gre_vici_register(f->vici, "list-sa", on_event, NULL, &error));
    daemon_send_hex(f, "07 07 'list-sa' 01 01 's'");
    g_assert_null(gre_vici_command(f->vici, "list-sas", NULL, &error));
    g_assert_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_MALFORMED);
    g_assert_nonnull(strstr(error->message, "event \"list-sa\": malformed VICI message"));
}

static void
test_check_success(void)
{
    static const struct {
        const char *hex;
        gboolean    ok;
        const char *message;
    } cases[] = {
        { "03 07 'success' 00 03 'yes'", TRUE, NULL },
        { "03 07 'success' 00 02 'no' 03 06 'errmsg' 00 04 'nope'", FALSE,
          "The IKE daemon refused load-conn: nope" },
        { "03 07 'success' 00 02 'no'", FALSE, "refused load-conn (it gave no reason)" },
        { "03 06 'errmsg' 00 01 'x'", FALSE, "reply to load-conn has no \"success\" key" },
        { "", FALSE, "has no \"success\" key" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GBytes) msg   = hex(cases[i].hex);
        g_autoptr(GError) error = NULL;
        g_autoptr(GreViciSection) s =
            gre_vici_parse(g_bytes_get_data(msg, NULL), g_bytes_get_size(msg), &error);

        g_assert_no_error(error);
        g_assert_cmpint(gre_vici_check_success(s, "load-conn", &error), ==, cases[i].ok);
        if (cases[i].message)
            g_assert_nonnull(strstr(error->message, cases[i].message));
    }
}

/* connect: a unix socket in a temporary directory, a missing one, an unsupported URI. */
static void
test_connect(void)
{
    g_autofree char   *dir  = g_dir_make_tmp("test-vici-XXXXXX", NULL);
    g_autofree char   *path = g_build_filename(dir, "charon.vici", NULL);
    g_autofree char   *uri  = g_strconcat("unix://", path, NULL);
    struct sockaddr_un sun  = { .sun_family = AF_UNIX };
    g_autoptr(GError) error = NULL;
    GreVici *v;
    int      l;

    v = gre_vici_connect(uri, &error);
    g_assert_null(v);
    g_assert_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_CONNECT);
    g_assert_nonnull(strstr(error->message, "is charon running?"));
    g_clear_error(&error);

    l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
    g_assert_cmpint(bind(l, (struct sockaddr *)&sun, sizeof(sun)), ==, 0);
    g_assert_cmpint(listen(l, 1), ==, 0);
    v = gre_vici_connect(uri, &error); /* unix:// form */
    g_assert_no_error(error);
    gre_vici_free(v);
    v = gre_vici_connect(path, &error); /* a plain path */
    g_assert_no_error(error);
    gre_vici_free(v);
    close(l);
    g_unlink(path);
    g_rmdir(dir);

    v = gre_vici_connect("tcp://127.0.0.1:4502", &error);
    g_assert_null(v);
    g_assert_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_CONNECT);
    g_assert_nonnull(strstr(error->message, "give unix:///PATH"));
}

/* The client refuses to send what the protocol cannot carry. */
static void
test_send_limits(Fixture *f, gconstpointer data)
{
    g_autofree char *long_name = g_strnfill(256, 'c');
    g_autoptr(GError) error    = NULL;

    (void)data;
    g_assert_null(gre_vici_command(f->vici, long_name, NULL, &error));
    g_assert_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_TOO_LARGE);
    g_clear_error(&error);
    g_assert_null(gre_vici_command(f->vici, "", NULL, &error));
    g_assert_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_TOO_LARGE);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vici/recorded/replies", test_recorded_replies);
    g_test_add_func("/vici/recorded/events", test_recorded_events);
    g_test_add_func("/vici/recorded/round-trip", test_round_trip);
    g_test_add_func("/vici/build/readme-example", test_build_readme_example);
    g_test_add_func("/vici/build/misuse", test_build_misuse);
    g_test_add_func("/vici/build/binary-values", test_binary_values);
    g_test_add_func("/vici/parse/malformed", test_parse_malformed);
    g_test_add_func("/vici/parse/limits", test_parse_limits);
    g_test_add_func("/vici/parse/truncated-and-mutated", test_parse_truncated_and_mutated);
    g_test_add_func("/vici/conn/check-success", test_check_success);
    g_test_add_func("/vici/conn/connect", test_connect);
    g_test_add_func("/vici/conn/bad-packets", test_bad_packets);
#define FIX(path, func) g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)
    FIX("/vici/conn/command", test_command_version);
    FIX("/vici/conn/poll", test_poll);
    FIX("/vici/conn/streamed", test_streamed);
    FIX("/vici/conn/events-interleaved", test_events_interleaved);
    FIX("/vici/conn/unknown", test_unknown);
    FIX("/vici/conn/timeout", test_timeout);
    FIX("/vici/conn/timeout-partial", test_timeout_partial);
    FIX("/vici/conn/closed", test_closed);
    FIX("/vici/conn/bad-event", test_bad_event);
    FIX("/vici/conn/send-limits", test_send_limits);
    return g_test_run();
}
