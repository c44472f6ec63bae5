/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <sys/socket.h>

#include "gre-error.h"
#include "gre-settings-table.h"
#include "gre-suite.h"
#include "test-util.h"

/* Names are unique per front end, and every default in the table is what a new model holds. */
static void
test_table(void)
{
    g_autoptr(GreSettings) s = gre_settings_new();

    for (guint i = 0; i < GRE_KEY_COUNT; i++) {
        const GreKeyInfo *key = gre_key_info(i);
        g_autofree char  *v   = gre_key_get(key, s);

        g_assert_cmpint(key->id, ==, i);
        g_assert_nonnull(key->ifcfg);
        g_assert_nonnull(key->nm);
        g_assert_nonnull(key->help);
        g_assert_nonnull(gre_key_range(key));
        g_assert_true(gre_key_lookup(GRE_STYLE_IFCFG, key->ifcfg) == key);
        g_assert_true(gre_key_lookup(GRE_STYLE_NM, key->nm) == key);
        if (key->ifupdown)
            g_assert_true(gre_key_lookup(GRE_STYLE_IFUPDOWN, key->ifupdown) == key);
        g_assert_cmpstr(v, ==, key->def);
        if (key->mirror == GRE_MIRROR_SWAP)
            g_assert_cmpint(gre_key_info(key->partner)->partner, ==, key->id);
        if (key->def) {
            g_autoptr(GError) error = NULL;
            g_assert_true(gre_key_set(key, s, key->def, &error));
            g_assert_no_error(error);
        }
    }
    g_assert_null(gre_key_lookup(GRE_STYLE_IFCFG, "NO_SUCH_KEY"));
}

typedef struct {
    const char *key;
    const char *text;
    const char *canonical; /* NULL: rejected; then error_part must be in the message */
    const char *error_part;
} ParseCase;

static const ParseCase parse_cases[] = {
    { "DEVICE", "gre1", "gre1" },
    { "DEVICE", "a-very-long-name", NULL, "at most 15" },
    { "DEVICE", "gre/1", NULL, "cannot contain" },
    { "DEVICE", "gre 1", NULL, "cannot contain" },
    { "DEVICE", "..", NULL, "not a valid interface name" },
    { "MY_OUTER_IPADDR", "auto", "auto" },
    { "MY_OUTER_IPADDR", "192.0.2.1", "192.0.2.1" },
    { "MY_OUTER_IPADDR", "2001:DB8::1", "2001:db8::1" },
    { "MY_OUTER_IPADDR", "192.0.2.300", NULL, "not an IPv4 or IPv6 address (or auto)" },
    { "PEER_OUTER_IPADDR", "auto", NULL, "not an IPv4 or IPv6 address" },
    { "MY_INNER_IPADDR", "198.51.100.1/30", "198.51.100.1/30" },
    { "MY_INNER_IPADDR", "198.51.100.1", "198.51.100.1/32" },
    { "MY_INNER_IPADDR", "198.51.100.1/33", NULL, "not an IPv4 address" },
    { "MY_INNER_IPADDR", "2001:db8::1/64", NULL, "not an IPv4 address" },
    { "MY_INNER_IP6ADDR", "2001:db8:1::1/64", "2001:db8:1::1/64" },
    { "PEER_INNER_IPADDR", "198.51.100.2", "198.51.100.2" },
    { "PEER_INNER_IPADDR", "198.51.100.2/30", NULL, "not an IPv4 address" },
    { "PEER_INNER_IP6ADDR", "198.51.100.2", NULL, "not an IPv6 address" },
    { "ROUTES", "203.0.113.0/24 metric 10 2001:db8:5::/48",
      "203.0.113.0/24 metric 10 2001:db8:5::/48" },
    { "ROUTES", "  203.0.113.0/24\t0.0.0.0/0  ", "203.0.113.0/24 0.0.0.0/0" },
    { "ROUTES", "203.0.113.1/24", NULL, "host bits set; did you mean 203.0.113.0/24" },
    { "ROUTES", "metric 5", NULL, "must follow a prefix" },
    { "ROUTES", "203.0.113.0/24 metric", NULL, "needs a number" },
    { "ROUTES", "203.0.113.0/24 metric x", NULL, "needs a number" },
    { "ROUTES", "nonsense", NULL, "not a prefix" },
    { "PIN_REMOTE", "YES", "yes" },
    { "PIN_REMOTE", "maybe", NULL, "not one of auto, yes, no" },
    { "KEY", "0.0.1.0", "256" },
    { "KEY", "4294967295", "4294967295" },
    { "KEY", "0x10", "16" },
    { "KEY", "4294967296", NULL, "not a key" },
    { "KEY", "-1", NULL, "not a key" },
    { "KEY", "1.2.3", NULL, "not a valid dotted-quad key" },
    { "IKEY", "5", "5" },
    { "SEQ", "on", "yes" },
    { "SEQ", "False", "no" },
    { "SEQ", "maybe", NULL, "not yes or no" },
    { "TTL", "inherit", "inherit" },
    { "TTL", "0", "inherit" },
    { "TTL", "255", "255" },
    { "TTL", "256", NULL, "from 1 to 255" },
    { "TTL", "64 ", NULL, "from 1 to 255" },
    { "TOS", "0x10", "16" },
    { "TOS", "3", NULL, "odd" },
    { "TOS", "300", NULL, "from 0 to 254" },
    { "ENCAPLIMIT", "none", "none" },
    { "ENCAPLIMIT", "0", "0" },
    { "ENCAPLIMIT", "256", NULL, "from 0 to 255" },
    { "MTU", "1400", "1400" },
    { "MTU", "AUTO", "auto" },
    { "MTU", "67", NULL, "below 68" },
    { "MTU", "65536", NULL, "from 68 to 65535" },
    { "MTU", "14OO", NULL, "not auto or an MTU" },
    { "UNDERLAY_MTU", "1492", "1492" },
    { "IPSEC", "manual", "manual" },
    { "IPSEC", "ike", "ike" },
    { "IPSEC", "IKE", "ike" },
    { "IPSEC", "ikev1", NULL, "not none, manual or ike" },
    { "IKE_PSK", "a shared secret of some length", "a shared secret of some length" },
    { "IKE_PSK", " leading-blank-secret", NULL, "begins or ends with a blank" },
    { "IKE_PSK", "tab\tinside-the-secret", NULL, "control character (at byte 4)" },
    { "IKE_LOCAL_ID", "192.0.2.1", "192.0.2.1" },
    { "IKE_LOCAL_ID", "gw.example.org", "gw.example.org" },
    { "IKE_LOCAL_ID", "ops@example.org", "ops@example.org" },
    { "IKE_LOCAL_ID", "C=CH, O=Example, CN=gw", "C=CH, O=Example, CN=gw" },
    { "IKE_REMOTE_ID", "gw one", NULL, "not an address, FQDN, user@FQDN or distinguished name" },
    { "IKE_REMOTE_ID", "", NULL, "empty" },
    { "IKE_PROPOSALS", "AES256-SHA256-ECP256,aes128gcm16-prfsha256-curve25519",
      "aes256-sha256-ecp256,aes128gcm16-prfsha256-curve25519" },
    { "IKE_PROPOSALS", "aes256", NULL, "at least a cipher and a DH group" },
    { "IKE_PROPOSALS", "aes256-sha256,", NULL, "empty proposal" },
    { "IKE_PROPOSALS", "aes256--ecp256", NULL, "empty algorithm name" },
    { "IKE_PROPOSALS", "aes256 sha256", NULL, "letters, digits and '_'" },
    { "IKE_ESP_DH", "ECP384", "ecp384" },
    { "IKE_ESP_DH", "modp1024", NULL, "unknown DH group \"modp1024\"" },
    { "IKE_REKEY_TIME", "90m", "5400" },
    { "IKE_REKEY_TIME", "2h", "7200" },
    { "IKE_REKEY_TIME", "45", "45" },
    { "IKE_REKEY_TIME", "0", NULL, "not a time from 1 second to a year" },
    { "IKE_DPD_DELAY", "10x", NULL, "not a time" },
    { "IKE_VICI_SOCKET", "unix:///run/ns-a/charon.vici", "/run/ns-a/charon.vici" },
    { "IKE_VICI_SOCKET", "run/charon.vici", NULL, "not an absolute path" },
    { "IPSEC_SUITE", "AES128-SHA256", "aes128-sha256" },
    { "IPSEC_SUITE", "des", NULL, "unknown suite \"des\"; known: aes128gcm16" },
    { "SPI_ESP_IN", "0x1000", "0x1000" },
    { "SPI_ESP_IN", "4096", "0x1000" },
    { "SPI_ESP_IN", "255", NULL, "reserved" },
    { "SPI_ESP_IN", "0x100000000", NULL, "not a number" },
    { "KEY_ESP_IN", "0xA0b1", "0xa0b1" },
    { "KEY_ESP_IN", "a0b1c2", "0xa0b1c2" },
    { "KEY_ESP_IN", "0xa0b", NULL, "even number of hex digits" },
    { "KEY_ESP_IN", "0xsecretsecr", NULL, "character 1 is not" },
};

static void
test_parse(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(parse_cases); i++) {
        const ParseCase  *c      = &parse_cases[i];
        const GreKeyInfo *key    = gre_key_lookup(GRE_STYLE_IFCFG, c->key);
        g_autoptr(GreSettings) s = gre_settings_new();
        g_autoptr(GError) error  = NULL;
        gboolean ok;

        g_assert_nonnull(key);
        ok = gre_key_set(key, s, c->text, &error);
        if (c->canonical) {
            g_autofree char *back = NULL;
            if (!ok)
                g_error("%s=%s rejected: %s", c->key, c->text, error->message);
            back = gre_key_get(key, s);
            g_assert_cmpstr(back, ==, c->canonical);
        } else {
            if (ok)
                g_error("%s=%s accepted, expected an error", c->key, c->text);
            g_assert_error(error, GRE_ERROR, GRE_ERROR_INVALID);
            if (!strstr(error->message, c->error_part))
                g_error("%s=%s: message \"%s\" lacks \"%s\"", c->key, c->text, error->message,
                        c->error_part);
        }
    }
}

/* A secret that fails to parse is never echoed back in the message. */
static void
test_secret_not_echoed(void)
{
    g_autoptr(GreSettings) s = gre_settings_new();
    g_autoptr(GError) error  = NULL;

    g_assert_false(gre_key_set(gre_key_info(GRE_KEY_ENC_KEY_IN), s, "0x00112233zz", &error));
    g_assert_null(strstr(error->message, "00112233"));
}

/* KEY covers both directions; IKEY/OKEY are written only when they differ. */
static void
test_grekeys(void)
{
    g_autoptr(GreSettings) both  = test_settings("KEY=9");
    g_autoptr(GreSettings) split = test_settings("KEY=9\nOKEY=10");
    g_autofree char *k           = gre_key_get(gre_key_info(GRE_KEY_KEY), both);
    g_autofree char *ik          = gre_key_get(gre_key_info(GRE_KEY_IKEY), both);
    g_autofree char *k2          = gre_key_get(gre_key_info(GRE_KEY_KEY), split);
    g_autofree char *ik2         = gre_key_get(gre_key_info(GRE_KEY_IKEY), split);
    g_autofree char *ok2         = gre_key_get(gre_key_info(GRE_KEY_OKEY), split);

    g_assert_cmpstr(k, ==, "9");
    g_assert_null(ik);
    g_assert_null(k2);
    g_assert_cmpstr(ik2, ==, "9");
    g_assert_cmpstr(ok2, ==, "10");
}

/* Every key's text form reads back to the same model. */
static void
test_round_trip(void)
{
    static const char *full =
        "DEVICE=gre7\nMY_OUTER_IPADDR=192.0.2.1\nPEER_OUTER_IPADDR=192.0.2.2\nPHYSDEV=eth0\n"
        "MY_INNER_IPADDR=198.51.100.1/30\nPEER_INNER_IPADDR=198.51.100.2\n"
        "MY_INNER_IP6ADDR=2001:db8:9::1/64\nPEER_INNER_IP6ADDR=2001:db8:9::2\n"
        "ROUTES=203.0.113.0/24 metric 5\nLOCAL_NETWORKS=192.0.2.128/25\nPIN_REMOTE=no\n"
        "IKEY=1\nOKEY=2\nSEQ=yes\nCSUM=yes\nTTL=32\nTOS=16\nPMTUDISC=yes\nMTU=1400\n"
        "UNDERLAY_MTU=1492\nIPSEC=manual\nIPSEC_SUITE=aes128-sha256\nSPI_ESP_IN=0x101\n"
        "SPI_ESP_OUT=0x102\nKEY_ESP_IN=0x00112233445566778899aabbccddeeff\n"
        "KEY_ESP_OUT=0xffeeddccbbaa99887766554433221100\n"
        "KEY_AESP_IN=0x0000000000000000000000000000000000000000000000000000000000000001\n"
        "KEY_AESP_OUT=0x0000000000000000000000000000000000000000000000000000000000000002\n";
    g_autoptr(GreSettings) s  = test_settings(full);
    g_autofree char *dump     = test_settings_dump(s);
    g_autoptr(GreSettings) s2 = test_settings(dump);
    g_autofree char *dump2    = test_settings_dump(s2);
    g_autoptr(GreSettings) c  = gre_settings_copy(s);
    g_autofree char *dump3    = test_settings_dump(c);

    static const char *ike =
        "DEVICE=gre8\nPEER_OUTER_IPADDR=192.0.2.2\nIPSEC=ike\nIPSEC_SUITE=chacha20poly1305\n"
        "IKE_PSK=correct horse battery staple\nIKE_LOCAL_ID=a.example.org\n"
        "IKE_REMOTE_ID=C=CH, O=Example, CN=b\nIKE_PROPOSALS=aes128-sha256-curve25519\n"
        "IKE_ESP_DH=ecp384\nIKE_REKEY_TIME=1800\nIKE_DPD_DELAY=10\n"
        "IKE_VICI_SOCKET=/run/ns-a/charon.vici\nIKE_AUTH=cert\nIKE_CERT=/etc/gre/a.crt\n"
        "IKE_PRIVKEY=/etc/gre/a.key\nIKE_CACERT=/etc/gre/ca.crt\n";
    g_autoptr(GreSettings) i  = test_settings(ike);
    g_autofree char *idump    = test_settings_dump(i);
    g_autoptr(GreSettings) i2 = test_settings(idump);
    g_autofree char *idump2   = test_settings_dump(i2);
    g_autoptr(GreSettings) ic = gre_settings_copy(i);
    g_autofree char *idump3   = test_settings_dump(ic);

    g_assert_cmpstr(dump, ==, dump2);
    g_assert_cmpstr(dump, ==, dump3);
    g_assert_cmpstr(idump, ==, idump2);
    g_assert_cmpstr(idump, ==, idump3);
    /* Every key of the table appears in a dump, so the test covers the whole table. */
    for (guint k = 0; k < GRE_KEY_COUNT; k++) {
        const GreKeyInfo *key    = gre_key_info(k);
        g_autofree char  *needle = g_strdup_printf("%s=", key->ifcfg);
        if (key->id == GRE_KEY_KEY || key->id == GRE_KEY_ENCAPLIMIT || key->id == GRE_KEY_PMTUDISC)
            continue; /* covered by IKEY/OKEY; IPv6 only; at its default here */
        if (!strstr(dump, needle) && !strstr(idump, needle))
            g_error("round trip does not cover %s", key->ifcfg);
    }
}

/* IPSEC_SUITE's default depends on the keying mode, resolved once by the reader: a CBC suite
 * for manual keys, AES-GCM for IKE; an explicit suite is kept in either mode. */
static void
test_mode_default(void)
{
    const GreKeyInfo *suite       = gre_key_info(GRE_KEY_SUITE);
    g_autoptr(GreSettings) manual = test_settings("IPSEC=manual");
    g_autoptr(GreSettings) ike    = test_settings("IPSEC=ike");
    g_autoptr(GreSettings) cbc    = test_settings("IPSEC=ike\nIPSEC_SUITE=aes256-sha256");

    g_assert_cmpint(manual->suite, ==, GRE_SUITE_AES256_SHA256);
    g_assert_cmpint(ike->suite, ==, GRE_SUITE_AES256_GCM16);
    g_assert_cmpint(cbc->suite, ==, GRE_SUITE_AES256_SHA256);
    g_assert_true(gre_key_is_default(suite, manual));
    g_assert_true(gre_key_is_default(suite, ike));
    g_assert_false(gre_key_is_default(suite, cbc));
    g_assert_cmpstr(gre_key_default(suite, ike), ==, "aes256gcm16");
    g_assert_cmpstr(gre_key_default(suite, NULL), ==, "aes256-sha256");
    /* Unset text keys read as their defaults. */
    g_assert_cmpstr(gre_key_text(GRE_KEY_IKE_PROPOSALS, ike), ==, "aes256-sha256-ecp256");
    g_assert_cmpstr(gre_key_text(GRE_KEY_IKE_ESP_DH, ike), ==, "ecp256");
    g_assert_cmpstr(gre_key_text(GRE_KEY_IKE_VICI_SOCKET, ike), ==, "/run/charon.vici");
    g_assert_null(gre_key_text(GRE_KEY_IKE_LOCAL_ID, ike));
}

static void
test_prefix_helpers(void)
{
    GrePrefix p;
    GreAddr   a;

    g_assert_true(gre_prefix_parse("198.51.100.77/26", AF_UNSPEC, &p, NULL));
    g_assert_true(gre_addr_parse("198.51.100.64", AF_INET, &a));
    g_assert_true(gre_prefix_contains(&p, &a));
    g_assert_true(gre_addr_parse("198.51.100.128", AF_INET, &a));
    g_assert_false(gre_prefix_contains(&p, &a));
    g_assert_true(gre_prefix_parse("2001:db8:ff::1/47", AF_UNSPEC, &p, NULL));
    g_assert_true(gre_addr_parse("2001:db8:fe::", AF_INET6, &a));
    g_assert_true(gre_prefix_contains(&p, &a));
    p = gre_prefix_network(&p);
    {
        g_autofree char *t = gre_prefix_to_string(&p);
        g_assert_cmpstr(t, ==, "2001:db8:fe::/47");
    }
    g_assert_false(gre_prefix_parse("192.0.2.1/", AF_UNSPEC, &p, NULL));
    g_assert_false(gre_prefix_parse("192.0.2.1/+1", AF_UNSPEC, &p, NULL));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/settings/table", test_table);
    g_test_add_func("/settings/parse", test_parse);
    g_test_add_func("/settings/secret-not-echoed", test_secret_not_echoed);
    g_test_add_func("/settings/grekeys", test_grekeys);
    g_test_add_func("/settings/round-trip", test_round_trip);
    g_test_add_func("/settings/mode-default", test_mode_default);
    g_test_add_func("/settings/prefix-helpers", test_prefix_helpers);
    return g_test_run();
}
