/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-error.h"
#include "gre-suite.h"
#include "gre-validate.h"
#include "test-util.h"

#define BASE                                                                                       \
    "DEVICE=gre1\nMY_OUTER_IPADDR=192.0.2.1\nPEER_OUTER_IPADDR=192.0.2.2\n"                        \
    "MY_INNER_IPADDR=198.51.100.1/30\nPEER_INNER_IPADDR=198.51.100.2\n"
#define K16 "0x000102030405060708090a0b0c0d0e0f"
#define K32 K16 "101112131415161718191a1b1c1d1e1f"
#define K36 K32 "20212223"
/* Keys of the default suite, aes256-sha256. */
#define IPSEC                                                                                      \
    "IPSEC=manual\nSPI_ESP_IN=0x200\nSPI_ESP_OUT=0x201\nKEY_ESP_IN=" K32 "\nKEY_ESP_OUT=" K32      \
    "\nKEY_AESP_IN=" K32 "\nKEY_AESP_OUT=" K32 "\n"
/* What IPSEC=manual with the former default suite, aes256gcm16, needed. */
#define IPSEC_AEAD                                                                                 \
    "IPSEC=manual\nSPI_ESP_IN=0x200\nSPI_ESP_OUT=0x201\nKEY_ESP_IN=" K36 "\nKEY_ESP_OUT=" K36 "\n"
#define REFUSED(suite, rfc)                                                                        \
    "IPSEC_SUITE: " suite " is not safe with static keys: its nonce is the ESP packet counter, "   \
    "which starts again whenever the SA is added again while the key stays, so nonces can "        \
    "repeat under one key (" rfc "); with IPSEC=manual use a CBC suite (aes128-sha256, "           \
    "aes256-sha256, aes128-sha1, aes256-sha1) such as aes256-sha256; the AEAD suites are for "     \
    "IKE keying (IPSEC=ike)"

typedef struct {
    const char *name;
    const char *settings; /* appended to BASE; later keys override */
    const char *error;    /* substring of the message; NULL: valid */
} Rule;

static const Rule rules[] = {
    { "base", "", NULL },
    { "base-ipsec", IPSEC, NULL },
    { "device-missing", "DEVICE=", "DEVICE: missing" },
    { "device-reserved-gre0", "DEVICE=gre0", "DEVICE: gre0 is the kernel's own fallback" },
    { "device-reserved-gretap0", "DEVICE=gretap0", "fallback tunnel device" },
    { "device-reserved-erspan0", "DEVICE=erspan0", "fallback tunnel device" },
    { "remote-missing", "PEER_OUTER_IPADDR=", "PEER_OUTER_IPADDR: missing" },
    { "remote-multicast", "PEER_OUTER_IPADDR=239.1.1.1", "not a unicast address" },
    { "remote-unspecified", "PEER_OUTER_IPADDR=0.0.0.0", "not a unicast address" },
    { "local-loopback", "MY_OUTER_IPADDR=127.0.0.1", "not a unicast address of this host" },
    { "family-mismatch", "MY_OUTER_IPADDR=2001:db8::1",
      "MY_OUTER_IPADDR: 2001:db8::1 is IPv6 but PEER_OUTER_IPADDR 192.0.2.2 is IPv4" },
    { "local-equals-remote", "MY_OUTER_IPADDR=192.0.2.2", "the two ends need different" },
    { "no-inner-address",
      "MY_INNER_IPADDR=\nPEER_INNER_IPADDR=", "needs a local address before routes can use it" },
    { "peer-without-local", "MY_INNER_IPADDR=\nMY_INNER_IP6ADDR=2001:db8:1::1/64",
      "PEER_INNER_IPADDR: is set but MY_INNER_IPADDR is not" },
    { "peer-equals-local", "PEER_INNER_IPADDR=198.51.100.1",
      "PEER_INNER_IPADDR: 198.51.100.1 is also" },
    { "peer-off-subnet", "PEER_INNER_IPADDR=198.51.100.9", "not on the subnet of MY_INNER_IPADDR" },
    { "peer-ptp-any", "MY_INNER_IPADDR=198.51.100.1\nPEER_INNER_IPADDR=203.0.113.9", NULL },
    { "inner-peer-is-outer-remote", "MY_INNER_IPADDR=192.0.2.1/32\nPEER_INNER_IPADDR=192.0.2.2",
      "also the outer remote address" },
    { "route-family-without-address", "ROUTES=2001:db8:7::/48",
      "ROUTES: 2001:db8:7::/48 needs an IPv6 inner address" },
    { "ttl-without-pmtudisc", "PMTUDISC=no", "TTL: a fixed TTL (64) needs path MTU discovery" },
    { "ttl-inherit-without-pmtudisc", "PMTUDISC=no\nTTL=inherit", NULL },
    { "encaplimit-ipv4", "ENCAPLIMIT=none", "ENCAPLIMIT: applies only to IPv6" },
    { "pmtudisc-ipv6",
      "MY_OUTER_IPADDR=2001:db8::1\nPEER_OUTER_IPADDR=2001:db8::2\nPMTUDISC=no\nTTL=inherit",
      "PMTUDISC: ip6gre (IPv6 outer addresses) always" },
    { "mtu-too-big-for-underlay", "UNDERLAY_MTU=1492\nMTU=1476",
      "MTU: 1476 does not fit: with UNDERLAY_MTU 1492 the largest packet that fits is 1468" },
    { "mtu-fits-underlay", "UNDERLAY_MTU=1492\nMTU=1468", NULL },
    { "mtu-ipsec-too-big", IPSEC "UNDERLAY_MTU=1500\nMTU=1435",
      "largest packet that fits is 1434" },
    { "underlay-too-small", "UNDERLAY_MTU=90", "UNDERLAY_MTU: 90 leaves no room" },
    { "mtu-below-ipv6-minimum", "MY_INNER_IP6ADDR=2001:db8:1::1/64\nMTU=1200", "below 1280" },
    { "ipsec-no-spi", IPSEC "SPI_ESP_IN=", "SPI_ESP_IN: missing" },
    { "ipsec-no-spi-out", IPSEC "SPI_ESP_OUT=", "SPI_ESP_OUT: missing" },
    { "ipsec-no-keys", "IPSEC=manual\nSPI_ESP_IN=0x200\nSPI_ESP_OUT=0x201",
      "KEY_ESP_IN: missing: the cipher key is required with IPSEC=manual" },
    { "ipsec-key-length", IPSEC "KEY_ESP_OUT=" K16,
      "KEY_ESP_OUT: aes256-sha256 needs a 32-byte cipher key (64 hex digits), this one has 16 "
      "bytes" },
    { "ipsec-cbc-needs-auth",
      IPSEC "IPSEC_SUITE=aes128-sha256\nKEY_ESP_IN=" K16 "\nKEY_ESP_OUT=" K16 "\nKEY_AESP_IN=",
      "KEY_AESP_IN: missing: the HMAC key" },
    { "ipsec-cbc-auth-length",
      IPSEC "IPSEC_SUITE=aes128-sha1\nKEY_ESP_IN=" K16 "\nKEY_ESP_OUT=" K16 "\nKEY_AESP_IN=" K16
            "\nKEY_AESP_OUT=" K16,
      "KEY_AESP_IN: aes128-sha1 needs a 20-byte HMAC key" },
    { "ipsec-cbc-ok",
      IPSEC "IPSEC_SUITE=aes256-sha256\nKEY_ESP_IN=" K32 "\nKEY_ESP_OUT=" K32 "\nKEY_AESP_IN=" K32
            "\nKEY_AESP_OUT=" K32,
      NULL },
    /* Counter-mode suites are refused with static keys, each with the same reason and way out. */
    { "ipsec-manual-aes128gcm16", IPSEC_AEAD "IPSEC_SUITE=aes128gcm16",
      REFUSED("aes128gcm16", "RFC 4106") },
    { "ipsec-manual-aes256gcm16", IPSEC_AEAD "IPSEC_SUITE=aes256gcm16",
      REFUSED("aes256gcm16", "RFC 4106") },
    { "ipsec-manual-aes128gcm12", IPSEC_AEAD "IPSEC_SUITE=aes128gcm12",
      REFUSED("aes128gcm12", "RFC 4106") },
    { "ipsec-manual-aes256gcm12", IPSEC_AEAD "IPSEC_SUITE=aes256gcm12",
      REFUSED("aes256gcm12", "RFC 4106") },
    { "ipsec-manual-chacha20poly1305", IPSEC_AEAD "IPSEC_SUITE=chacha20poly1305",
      REFUSED("chacha20poly1305", "RFC 7634") },
    /* A file written for the old default (no IPSEC_SUITE, 36-byte keys) is told what changed and
     * what to write, once; the other key gets the plain message. */
    { "ipsec-former-default", IPSEC_AEAD,
      "KEY_ESP_IN: aes256-sha256 needs a 32-byte cipher key (64 hex digits), this one has 36 "
      "bytes, "
      "the size for aes256gcm16, which was the default IPSEC_SUITE before aes256-sha256 and is not "
      "safe with static keys; write IPSEC_SUITE=aes256-sha256 on both ends with new keys: "
      "KEY_ESP_IN and KEY_ESP_OUT of 32 bytes, KEY_AESP_IN and KEY_AESP_OUT of 32 bytes\n"
      "KEY_ESP_OUT: aes256-sha256 needs a 32-byte cipher key (64 hex digits), this one has 36 "
      "bytes\nKEY_AESP_IN: missing: the HMAC key is required with IPSEC=manual" },
    /* Written out, the default suite is still the default: the same advice. */
    { "ipsec-former-default-named", IPSEC_AEAD "IPSEC_SUITE=aes256-sha256",
      "the size for aes256gcm16, which was the default IPSEC_SUITE" },
    /* Without IPsec the suite is only warned about (see test_warnings). */
    { "no-ipsec-aead-suite", "IPSEC_SUITE=aes256gcm16", NULL },
};

static void
test_rules(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(rules); i++) {
        g_autofree char *text    = g_strconcat(BASE, rules[i].settings, NULL);
        g_autoptr(GreSettings) s = test_settings(text);
        g_autoptr(GError) error  = NULL;
        gboolean ok = gre_settings_validate(s, GRE_STYLE_IFCFG, NULL, NULL, NULL, &error);

        if (!rules[i].error) {
            if (!ok)
                g_error("%s: rejected: %s", rules[i].name, error->message);
            continue;
        }
        if (ok)
            g_error("%s: accepted, expected \"%s\"", rules[i].name, rules[i].error);
        g_assert_error(error, GRE_ERROR, GRE_ERROR_INVALID);
        if (!strstr(error->message, rules[i].error))
            g_error("%s: message \"%s\" lacks \"%s\"", rules[i].name, error->message,
                    rules[i].error);
    }
}

/* All problems are reported at once, one per line, with the location the caller gives. */
static char *
locate(const GreKeyInfo *key, gpointer user_data)
{
    return g_strdup_printf("%s:%d", (const char *)user_data, (int)key->id + 1);
}

static void
test_all_at_once(void)
{
    g_autoptr(GreSettings) s =
        test_settings(BASE "DEVICE=gre0\nPMTUDISC=no\nPEER_INNER_IPADDR=198.51.100.1");
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) lines     = NULL;

    g_assert_false(gre_settings_validate(s, GRE_STYLE_IFCFG, locate, "ifcfg-x", NULL, &error));
    lines = g_strsplit(error->message, "\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 3);
    g_assert_true(g_str_has_prefix(lines[0], "ifcfg-x:1: DEVICE: "));
}

/* Messages use the naming of the front end that read the settings. */
static void
test_styles(void)
{
    g_autoptr(GreSettings) s = test_settings(BASE "PMTUDISC=no");
    g_autoptr(GError) e1     = NULL;
    g_autoptr(GError) e2     = NULL;

    g_assert_false(gre_settings_validate(s, GRE_STYLE_NM, NULL, NULL, NULL, &e1));
    g_assert_true(g_str_has_prefix(e1->message, "ttl: "));
    g_assert_nonnull(strstr(e1->message, "set path-mtu-discovery=yes"));
    g_assert_false(gre_settings_validate(s, GRE_STYLE_IFUPDOWN, NULL, NULL, NULL, &e2));
    g_assert_true(g_str_has_prefix(e2->message, "gre-ttl: "));
}

static void
test_warnings(void)
{
    g_autoptr(GreSettings) s   = test_settings(BASE "TTL=inherit\nSPI_ESP_IN=0x300\n"
                                                      "IPSEC_SUITE=chacha20poly1305");
    g_autoptr(GPtrArray) warns = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error    = NULL;

    g_assert_true(gre_settings_validate(s, GRE_STYLE_IFCFG, NULL, NULL, warns, &error));
    g_assert_cmpuint(warns->len, ==, 3);
    g_assert_nonnull(strstr(warns->pdata[0], "translucent"));
    /* A suite without IPSEC=manual is as likely a forgotten IPSEC line as the SPIs are. */
    g_assert_nonnull(strstr(warns->pdata[1], "IPSEC_SUITE: ignored: IPSEC is none"));
    g_assert_nonnull(strstr(warns->pdata[2], "SPI_ESP_IN: ignored: IPSEC is none"));
}

/* The suites manual keying takes are exactly the CBC + HMAC ones, the default among them. */
static void
test_suites(void)
{
    static const struct {
        const char *name;
        gboolean    manual;
    } want[] = {
        { "aes128gcm16", FALSE }, { "aes256gcm16", FALSE },  { "aes128gcm12", FALSE },
        { "aes256gcm12", FALSE }, { "aes128-sha256", TRUE }, { "aes256-sha256", TRUE },
        { "aes128-sha1", TRUE },  { "aes256-sha1", TRUE },   { "chacha20poly1305", FALSE },
    };
    g_autoptr(GreSettings) s = gre_settings_new();

    g_assert_cmpuint(G_N_ELEMENTS(want), ==, GRE_SUITE_COUNT);
    for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
        const GreSuiteInfo *info = gre_suite_lookup(want[i].name);

        g_assert_nonnull(info);
        g_assert_cmpint(gre_suite_allowed(info, GRE_IPSEC_MANUAL), ==, want[i].manual);
        g_assert_cmpint(info->static_keys, ==, want[i].manual);
        /* Without IPsec nothing is keyed: any suite is only ignored. */
        g_assert_true(gre_suite_allowed(info, GRE_IPSEC_NONE));
        /* Only CBC suites are safe: AEAD ones all use a counter nonce. */
        g_assert_cmpint(info->aead == NULL, ==, want[i].manual);
    }
    g_assert_cmpstr(gre_suite_names_for(GRE_IPSEC_MANUAL), ==,
                    "aes128-sha256, aes256-sha256, aes128-sha1, aes256-sha1");
    g_assert_cmpstr(gre_suite_names_for(GRE_IPSEC_NONE), ==, gre_suite_names());
    /* The default is safe with manual keys, in the table and in a new model alike. */
    g_assert_cmpstr(gre_key_info(GRE_KEY_SUITE)->def, ==, "aes256-sha256");
    g_assert_cmpstr(gre_suite_info(s->suite)->name, ==, "aes256-sha256");
    g_assert_true(gre_suite_allowed(gre_suite_info(s->suite), GRE_IPSEC_MANUAL));
}

/* Only the old default's key size gets the advice; another size gets the plain message. */
static void
test_short_key_plain(void)
{
    g_autoptr(GreSettings) s = test_settings(BASE IPSEC "KEY_ESP_IN=" K16);
    g_autoptr(GError) error  = NULL;

    g_assert_false(gre_settings_validate(s, GRE_STYLE_IFCFG, NULL, NULL, NULL, &error));
    g_assert_cmpstr(error->message, ==,
                    "KEY_ESP_IN: aes256-sha256 needs a 32-byte cipher key (64 hex digits), this "
                    "one has 16 bytes");
}

/* The refusal speaks the front end's names, and is the one message whatever reads the file. */
static void
test_refusal_styles(void)
{
    g_autoptr(GreSettings) s = test_settings(BASE IPSEC_AEAD "IPSEC_SUITE=aes128gcm16");
    g_autoptr(GError) nm     = NULL;
    g_autoptr(GError) ifup   = NULL;

    g_assert_false(gre_settings_validate(s, GRE_STYLE_NM, NULL, NULL, NULL, &nm));
    g_assert_true(g_str_has_prefix(nm->message, "ipsec-suite: aes128gcm16 is not safe with static "
                                                "keys: "));
    g_assert_nonnull(strstr(nm->message, "; with ipsec=manual use a CBC suite (aes128-sha256, "));
    g_assert_null(strchr(nm->message, '\n'));
    g_assert_false(gre_settings_validate(s, GRE_STYLE_IFUPDOWN, NULL, NULL, NULL, &ifup));
    g_assert_true(g_str_has_prefix(ifup->message, "gre-ipsec-suite: aes128gcm16 is not safe"));
    g_assert_nonnull(strstr(ifup->message, "; with gre-ipsec=manual use a CBC suite"));
}

static char *
joined(GPtrArray *lines)
{
    g_ptr_array_add(lines, NULL);
    return g_strjoinv("\n", (char **)lines->pdata);
}

/* IPSEC=ike: the PSK is required and long enough; manual keys and SPIs are ignored with a
 * warning; IKE keys under another mode are warned about; every suite is allowed. */
static void
test_ike(void)
{
    g_autoptr(GreSettings) ok   = test_settings(BASE "IPSEC=ike\nIKE_PSK=0123456789abcdef\n");
    g_autoptr(GreSettings) none = test_settings(BASE "IPSEC=ike\n");
    g_autoptr(GreSettings) shrt = test_settings(BASE "IPSEC=ike\nIKE_PSK=0123456789abcde\n");
    g_autoptr(GreSettings) keys = test_settings(BASE "IPSEC=ike\nIKE_PSK=0123456789abcdef\n"
                                                     "SPI_ESP_IN=0x200\nKEY_ESP_IN=" K32 "\n");
    g_autoptr(GreSettings) man  = test_settings(BASE IPSEC "IKE_PSK=0123456789abcdef\n"
                                                            "IKE_DPD_DELAY=5\n");
    g_autoptr(GPtrArray) w1     = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) w2     = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) e1        = NULL;
    g_autoptr(GError) e2        = NULL;
    g_autofree char *w1s        = NULL;
    g_autofree char *w2s        = NULL;

    g_assert_true(gre_settings_validate(ok, GRE_STYLE_IFCFG, NULL, NULL, NULL, NULL));
    g_assert_false(gre_settings_validate(none, GRE_STYLE_IFCFG, NULL, NULL, NULL, &e1));
    g_assert_cmpstr(e1->message, ==,
                    "IKE_PSK: missing: required with IPSEC=ike (put it in keys-NAME, mode 0600)");
    g_assert_false(gre_settings_validate(shrt, GRE_STYLE_IFCFG, NULL, NULL, NULL, &e2));
    g_assert_true(
        g_str_has_prefix(e2->message, "IKE_PSK: 15 characters are too few, use at least 16"));
    g_assert_null(strstr(e2->message, "0123456789abcde"));
    g_assert_true(gre_settings_validate(keys, GRE_STYLE_IFCFG, NULL, NULL, w1, NULL));
    w1s = joined(w1);
    g_assert_cmpstr(w1s, ==,
                    "SPI_ESP_IN: ignored with IPSEC=ike: the IKE daemon chooses SPIs and keys\n"
                    "KEY_ESP_IN: ignored with IPSEC=ike: the IKE daemon chooses SPIs and keys");
    g_assert_true(gre_settings_validate(man, GRE_STYLE_IFCFG, NULL, NULL, w2, NULL));
    w2s = joined(w2);
    g_assert_cmpstr(w2s, ==,
                    "IKE_PSK: ignored: IPSEC is not ike\nIKE_DPD_DELAY: ignored: IPSEC is not ike");
    for (guint i = 0; i < GRE_SUITE_COUNT; i++)
        g_assert_true(gre_suite_allowed(gre_suite_info(i), GRE_IPSEC_IKE));
    g_assert_cmpstr(gre_suite_names_for(GRE_IPSEC_IKE), ==, gre_suite_names());
}

/* IKE_AUTH=cert: the three files are required instead of IKE_PSK (which is then ignored, with a
 * warning), and they are warned about with psk; paths must be absolute, one word. */
static void
test_ike_cert(void)
{
    g_autoptr(GreSettings) ok   = test_settings(BASE "IPSEC=ike\nIKE_AUTH=cert\n"
                                                       "IKE_CERT=/etc/gre/a.crt\n"
                                                       "IKE_PRIVKEY=/etc/gre/a.key\n"
                                                       "IKE_CACERT=/etc/gre/ca.crt\n");
    g_autoptr(GreSettings) none = test_settings(BASE "IPSEC=ike\nIKE_AUTH=cert\n"
                                                     "IKE_PSK=0123456789abcdef\n");
    g_autoptr(GreSettings) psk  = test_settings(BASE "IPSEC=ike\nIKE_PSK=0123456789abcdef\n"
                                                      "IKE_CACERT=/etc/gre/ca.crt\n");
    g_autoptr(GPtrArray) w1     = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) w2     = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) e1        = NULL;
    g_autoptr(GError) e2        = NULL;
    g_autofree char *w1s        = NULL;
    g_autofree char *w2s        = NULL;
    g_autoptr(GreSettings) s    = gre_settings_new();

    g_assert_true(gre_settings_validate(ok, GRE_STYLE_IFCFG, NULL, NULL, w1, NULL));
    g_assert_cmpuint(w1->len, ==, 0);
    g_assert_false(gre_settings_validate(none, GRE_STYLE_IFCFG, NULL, NULL, w1, &e1));
    g_assert_cmpstr(e1->message, ==,
                    "IKE_CERT: missing: required with IKE_AUTH=cert\n"
                    "IKE_PRIVKEY: missing: required with IKE_AUTH=cert\n"
                    "IKE_CACERT: missing: required with IKE_AUTH=cert");
    w1s = joined(w1);
    g_assert_cmpstr(w1s, ==, "IKE_PSK: ignored with IKE_AUTH=cert");
    g_assert_true(gre_settings_validate(psk, GRE_STYLE_IFCFG, NULL, NULL, w2, NULL));
    w2s = joined(w2);
    g_assert_cmpstr(w2s, ==, "IKE_CACERT: ignored with IKE_AUTH=psk");
    g_assert_false(gre_key_set(gre_key_info(GRE_KEY_IKE_CERT), s, "etc/a.crt", &e2));
    g_assert_cmpstr(e2->message, ==,
                    "\"etc/a.crt\" is not an absolute path of at most 255 characters without "
                    "blanks");
    g_clear_error(&e2);
    g_assert_false(gre_key_set(gre_key_info(GRE_KEY_IKE_AUTH), s, "rsa", &e2));
    g_assert_cmpstr(e2->message, ==, "\"rsa\" is not psk or cert");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/validate/rules", test_rules);
    g_test_add_func("/validate/all-at-once", test_all_at_once);
    g_test_add_func("/validate/styles", test_styles);
    g_test_add_func("/validate/warnings", test_warnings);
    g_test_add_func("/validate/suites", test_suites);
    g_test_add_func("/validate/refusal-styles", test_refusal_styles);
    g_test_add_func("/validate/short-key-plain", test_short_key_plain);
    g_test_add_func("/validate/ike", test_ike);
    g_test_add_func("/validate/ike-cert", test_ike_cert);
    return g_test_run();
}
