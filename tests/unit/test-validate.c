/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-error.h"
#include "gre-validate.h"
#include "test-util.h"

#define BASE                                                                                       \
    "DEVICE=gre1\nMY_OUTER_IPADDR=192.0.2.1\nPEER_OUTER_IPADDR=192.0.2.2\n"                        \
    "MY_INNER_IPADDR=198.51.100.1/30\nPEER_INNER_IPADDR=198.51.100.2\n"
#define IPSEC                                                                                      \
    "IPSEC=manual\nSPI_ESP_IN=0x200\nSPI_ESP_OUT=0x201\n"                                          \
    "KEY_ESP_IN=0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223\n"      \
    "KEY_ESP_OUT=0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212224\n"
#define K16 "0x000102030405060708090a0b0c0d0e0f"
#define K32 K16 "101112131415161718191a1b1c1d1e1f"

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
    { "mtu-ipsec-too-big", IPSEC "UNDERLAY_MTU=1500\nMTU=1443",
      "largest packet that fits is 1442" },
    { "underlay-too-small", "UNDERLAY_MTU=90", "UNDERLAY_MTU: 90 leaves no room" },
    { "mtu-below-ipv6-minimum", "MY_INNER_IP6ADDR=2001:db8:1::1/64\nMTU=1200", "below 1280" },
    { "ipsec-no-spi", IPSEC "SPI_ESP_IN=", "SPI_ESP_IN: missing" },
    { "ipsec-no-spi-out", IPSEC "SPI_ESP_OUT=", "SPI_ESP_OUT: missing" },
    { "ipsec-no-keys", "IPSEC=manual\nSPI_ESP_IN=0x200\nSPI_ESP_OUT=0x201",
      "KEY_ESP_IN: missing: the AEAD (key + 4-byte salt) key is required with IPSEC=manual" },
    { "ipsec-key-length", IPSEC "KEY_ESP_OUT=" K16,
      "KEY_ESP_OUT: aes256gcm16 needs a 36-byte AEAD (key + 4-byte salt) key (72 hex digits), "
      "this one has 16 bytes" },
    { "ipsec-aead-with-auth", IPSEC "KEY_AESP_IN=" K32, "KEY_AESP_IN: aes256gcm16 authenticates" },
    { "ipsec-cbc-needs-auth",
      IPSEC "IPSEC_SUITE=aes128-sha256\nKEY_ESP_IN=" K16 "\nKEY_ESP_OUT=" K16,
      "KEY_AESP_IN: missing: the HMAC key" },
    { "ipsec-cbc-auth-length",
      IPSEC "IPSEC_SUITE=aes128-sha1\nKEY_ESP_IN=" K16 "\nKEY_ESP_OUT=" K16 "\nKEY_AESP_IN=" K16
            "\nKEY_AESP_OUT=" K16,
      "KEY_AESP_IN: aes128-sha1 needs a 20-byte HMAC key" },
    { "ipsec-cbc-ok",
      IPSEC "IPSEC_SUITE=aes256-sha256\nKEY_ESP_IN=" K32 "\nKEY_ESP_OUT=" K32 "\nKEY_AESP_IN=" K32
            "\nKEY_AESP_OUT=" K32,
      NULL },
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

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/validate/rules", test_rules);
    g_test_add_func("/validate/all-at-once", test_all_at_once);
    g_test_add_func("/validate/styles", test_styles);
    g_test_add_func("/validate/warnings", test_warnings);
    return g_test_run();
}
