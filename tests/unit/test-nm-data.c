/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "gre-error.h"
#include "gre-ifcfg.h"
#include "gre-nm-data.h"
#include "gre-settings-table.h"
#include "test-util.h"

/* A vpn setting from "key=value" pairs; keys starting with '!' go to vpn.secrets. */
static NMSettingVpn *
vpn_from(const char *const *pairs)
{
    NMSettingVpn *s_vpn = NM_SETTING_VPN(nm_setting_vpn_new());

    g_object_set(s_vpn, NM_SETTING_VPN_SERVICE_TYPE, GRE_NM_SERVICE_TYPE, NULL);
    for (guint i = 0; pairs[i]; i++) {
        g_auto(GStrv) kv = g_strsplit(pairs[i], "=", 2);

        if (kv[0][0] == '!')
            nm_setting_vpn_add_secret(s_vpn, kv[0] + 1, kv[1]);
        else
            nm_setting_vpn_add_data_item(s_vpn, kv[0], kv[1]);
    }
    return s_vpn;
}

/* ifcfg -> settings -> vpn.data -> settings gives the same settings for every example, and the
 * secrets travel in vpn.secrets only. */
static void
test_examples_round_trip(void)
{
    g_autofree char *dir = test_copy_data_dir("examples");
    g_autoptr(GDir) d    = g_dir_open(dir, 0, NULL);
    const char *name;
    guint       n = 0, with_secrets = 0;

    while ((name = g_dir_read_name(d))) {
        g_autofree char *path             = g_build_filename(dir, name, NULL);
        g_autoptr(GError) error           = NULL;
        g_autoptr(GreIfcfg) cfg           = NULL;
        g_autoptr(NMSettingVpn) s_vpn     = NULL;
        g_autoptr(GreSettings) back       = NULL;
        g_autofree char        *want      = NULL;
        g_autofree char        *got       = NULL;
        g_autofree char        *ifcfg_a   = NULL;
        g_autofree char        *ifcfg_b   = NULL;
        g_autofree char        *keys_a    = NULL;
        g_autofree char        *keys_b    = NULL;
        g_autofree const char **data      = NULL;
        g_autofree const char **secret    = NULL;
        guint                   n_secrets = 0;

        if (!g_str_has_prefix(name, "ifcfg-"))
            continue;
        cfg = gre_ifcfg_load(path, NULL, &error);
        g_assert_no_error(error);

        s_vpn = NM_SETTING_VPN(nm_setting_vpn_new());
        gre_nm_settings_to_vpn(cfg->settings, s_vpn);

        data = nm_setting_vpn_get_data_keys(s_vpn, NULL);
        g_assert_nonnull(data);
        for (guint i = 0; data[i]; i++) {
            const char *value = nm_setting_vpn_get_data_item(s_vpn, data[i]);

            if (!gre_nm_is_data_key(data[i]))
                g_error("%s: vpn.data has %s, which is not a data key", name, data[i]);
            g_assert_cmpstr(value, !=, "");
        }
        g_assert_cmpstr(nm_setting_vpn_get_data_item(s_vpn, "device"), ==, cfg->settings->name);

        secret = nm_setting_vpn_get_secret_keys(s_vpn, &n_secrets);
        for (guint i = 0; i < n_secrets; i++) {
            const char *value = nm_setting_vpn_get_secret(s_vpn, secret[i]);

            g_assert_true(gre_nm_is_secret_key(secret[i]));
            /* Key material shows up nowhere in vpn.data. */
            for (guint j = 0; data[j]; j++)
                g_assert_null(strstr(nm_setting_vpn_get_data_item(s_vpn, data[j]), value + 2));
        }
        keys_a = gre_ifcfg_format_keys(cfg->settings);
        /* Exactly the secrets keys-NAME had, no more, no fewer. */
        if (keys_a) {
            g_auto(GStrv) lines = g_strsplit(keys_a, "\n", -1);
            /* A comment line first, an empty string after the last newline. */
            g_assert_cmpuint(n_secrets, ==, g_strv_length(lines) - 2);
        } else
            g_assert_cmpuint(n_secrets, ==, 0);
        with_secrets += n_secrets > 0;

        back = gre_nm_settings_from_vpn(s_vpn, &error);
        if (!back)
            g_error("%s: vpn.data of an example does not read back: %s", name, error->message);
        want = test_settings_dump(cfg->settings);
        got  = test_settings_dump(back);
        g_assert_cmpstr(got, ==, want);
        ifcfg_a = gre_ifcfg_format(cfg->settings);
        ifcfg_b = gre_ifcfg_format(back);
        g_assert_cmpstr(ifcfg_b, ==, ifcfg_a);
        keys_b = gre_ifcfg_format_keys(back);
        g_assert_cmpstr(keys_b, ==, keys_a);
        n++;
    }
    g_assert_cmpuint(n, >=, 5);
    g_assert_cmpuint(with_secrets, >=, 3);
    test_remove_dir(dir);
}

/* The keys and values vpn.data has for a known example: the NetworkManager names, nothing at
 * its default. */
static void
test_office_data(void)
{
    g_autoptr(GreSettings) s      = test_settings("DEVICE=office\nMY_OUTER_IPADDR=192.0.2.1\n"
                                                       "PEER_OUTER_IPADDR=198.51.100.1\n"
                                                       "MY_INNER_IPADDR=203.0.113.1/30\n"
                                                       "PEER_INNER_IPADDR=203.0.113.2\n"
                                                       "ROUTES=203.0.113.128/25 metric 20\nTTL=64\n"
                                                       "IKEY=5\nOKEY=6\nMTU=1400\n");
    g_autoptr(NMSettingVpn) s_vpn = NM_SETTING_VPN(nm_setting_vpn_new());
    g_autofree const char **keys  = NULL;
    g_autoptr(GString) all        = g_string_new(NULL);

    gre_nm_settings_to_vpn(s, s_vpn);
    keys = nm_setting_vpn_get_data_keys(s_vpn, NULL);
    for (guint i = 0; keys[i]; i++)
        g_string_append_printf(all, "%s=%s\n", keys[i],
                               nm_setting_vpn_get_data_item(s_vpn, keys[i]));
    /* nm_setting_vpn_get_data_keys() sorts. */
    g_assert_cmpstr(all->str, ==,
                    "device=office\ninner-address=203.0.113.1/30\ninner-peer=203.0.113.2\n"
                    "input-key=5\nlocal=192.0.2.1\nmtu=1400\noutput-key=6\nremote=198.51.100.1\n"
                    "routes=203.0.113.128/25 metric 20\n");
    g_assert_cmpuint(nm_setting_vpn_get_num_secrets(s_vpn), ==, 0);
}

typedef struct {
    const char *pairs[12]; /* NULL-terminated */
    const char *message;
} BadCase;

#define BASE "device=t1", "remote=192.0.2.2", "inner-address=198.51.100.1/31"
#define K36 "0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223"

/* Refused, with every problem named by where it is (vpn.data or vpn.secrets) and its key. */
static void
test_bad(void)
{
    static const BadCase cases[] = {
        { { BASE, "ttl=300" }, "vpn.data: ttl: \"300\" is not inherit or a TTL from 1 to 255" },
        { { BASE, "ttl=300", "mtu=big", "key=-1" },
          "vpn.data: key: \"-1\" is not a key: use a number from 0 to 4294967295 or a dotted "
          "quad like 0.0.0.1\n"
          "vpn.data: ttl: \"300\" is not inherit or a TTL from 1 to 255\n"
          "vpn.data: mtu: \"big\" is not auto or an MTU from 68 to 65535" },
        { { "device=t1", "inner-address=198.51.100.1/31" }, "vpn.data: remote: " },
        { { BASE, "ttl=inherit", "path-mtu-discovery=no", "tos=3" },
          "vpn.data: tos: TOS 3 is odd" },
        { { BASE, "ipsec=manual", "spi-in=256", "spi-out=257" },
          "vpn.secrets: esp-key-in: missing: the cipher key is required with ipsec=manual\n"
          "vpn.secrets: esp-key-out: missing: " },
        /* Counter-mode suites with static keys: the message validation gives every front end. */
        { { BASE, "ipsec=manual", "ipsec-suite=aes256gcm16", "spi-in=256", "spi-out=257",
            "!esp-key-in=" K36, "!esp-key-out=" K36 },
          "vpn.data: ipsec-suite: aes256gcm16 is not safe with static keys: its nonce is the ESP "
          "packet counter, which starts again whenever the SA is added again while the key stays, "
          "so nonces can repeat under one key (RFC 4106); with ipsec=manual use a CBC suite "
          "(aes128-sha256, aes256-sha256, aes128-sha1, aes256-sha1) such as aes256-sha256; the "
          "AEAD suites are for IKE keying (ipsec=ike)" },
        { { BASE, "ipsec=manual", "ipsec-suite=chacha20poly1305", "spi-in=256", "spi-out=257",
            "!esp-key-in=" K36, "!esp-key-out=" K36 },
          "vpn.data: ipsec-suite: chacha20poly1305 is not safe with static keys: " },
        /* A connection made for the old default suite (none named, 36-byte keys). */
        { { BASE, "ipsec=manual", "spi-in=256", "spi-out=257", "!esp-key-in=" K36,
            "!esp-key-out=" K36 },
          "vpn.secrets: esp-key-in: aes256-sha256 needs a 32-byte cipher key (64 hex digits), this "
          "one has 36 bytes, the size for aes256gcm16, which was the default ipsec-suite before "
          "aes256-sha256 and is not safe with static keys; write ipsec-suite=aes256-sha256 on both "
          "ends with new keys: esp-key-in and esp-key-out of 32 bytes, auth-key-in and "
          "auth-key-out of 32 bytes\n" },
        { { BASE, "ipsec=manual", "spi-in=256", "spi-out=257", "!esp-key-in=0x00zz",
            "!esp-key-out=00" },
          "vpn.secrets: esp-key-in: a key must be hex digits only (character 3 is not)" },
        { { BASE, "esp-key-in=0x0011" },
          "vpn.data: esp-key-in: this is a secret; it belongs in vpn.secrets" },
        { { BASE, "tll=64" }, "vpn.data: tll: not a setting of GRE tunnels" },
        { { BASE, "!password=x" }, "vpn.secrets: password: not a secret of GRE tunnels" },
        { { BASE, "local=2001:db8::1" }, "vpn.data: local: " },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(NMSettingVpn) s_vpn = vpn_from(cases[i].pairs);
        g_autoptr(GError) error       = NULL;
        g_autoptr(GreSettings) s      = gre_nm_settings_from_vpn(s_vpn, &error);

        if (s)
            g_error("case %u accepted, expected: %s", i, cases[i].message);
        g_assert_error(error, GRE_ERROR, GRE_ERROR_INVALID);
        if (!g_str_has_prefix(error->message, cases[i].message))
            g_error("case %u:\n  got:      %s\n  expected: %s", i, error->message,
                    cases[i].message);
    }
}

/* Key material is never echoed into an error, even when it is in the wrong place. */
static void
test_secret_not_echoed(void)
{
    static const char *const pairs[] = { BASE, "ipsec=manual", "!esp-key-in=0x0123456789abcdeg",
                                         "esp-key-out=0x0123456789abcdef", NULL };
    g_autoptr(NMSettingVpn) s_vpn    = vpn_from(pairs);
    g_autoptr(GError) error          = NULL;
    g_autoptr(GreSettings) s         = gre_nm_settings_from_vpn(s_vpn, &error);

    g_assert_null(s);
    g_assert_nonnull(error);
    g_assert_null(strstr(error->message, "0123456789abcde"));
    g_assert_nonnull(strstr(error->message, "vpn.secrets: esp-key-in:"));
    g_assert_nonnull(strstr(error->message, "vpn.data: esp-key-out:"));
}

/* Writing over an existing setting leaves exactly the new values, and keeps who owns the
 * secrets. */
/* What arrives over D-Bus may be huge; the error NetworkManager shows stays readable: a 1 MB
 * value is quoted by its ends, with the key before it and the reason after it, and a thousand
 * problems are cut to the first 20 and a count. */
static void
test_huge_bounded(void)
{
    g_autofree char *huge         = g_malloc(1024 * 1024 + 1);
    g_autofree char *dev          = NULL;
    g_autoptr(NMSettingVpn) s_vpn = NULL;
    g_autoptr(GreSettings) s      = NULL;
    g_autoptr(GError) error       = NULL;
    g_auto(GStrv) lines           = NULL;

    memset(huge, 'a', 1024 * 1024);
    huge[1024 * 1024] = '\0';
    dev               = g_strconcat("device=", huge, NULL);
    s_vpn             = vpn_from((const char *[]){ dev, "remote=192.0.2.2", NULL });
    s                 = gre_nm_settings_from_vpn(s_vpn, &error);
    g_assert_null(s);
    g_assert_cmpuint(strlen(error->message), <=, 500);
    g_assert_true(g_str_has_prefix(error->message, "vpn.data: device: \"aaa"));
    g_assert_nonnull(strstr(error->message, "bytes left out)"));
    g_assert_true(g_str_has_suffix(error->message, "interface names have at most 15"));
    g_clear_error(&error);
    g_clear_object(&s_vpn);

    s_vpn = vpn_from((const char *[]){ "device=t1", "remote=192.0.2.2", NULL });
    for (guint i = 0; i < 1000; i++) {
        g_autofree char *key = g_strdup_printf("unknown-%04u", i);

        nm_setting_vpn_add_data_item(s_vpn, key, "1");
    }
    g_assert_null(gre_nm_settings_from_vpn(s_vpn, &error));
    lines = g_strsplit(error->message, "\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 21);
    g_assert_cmpstr(lines[0], ==, "vpn.data: unknown-0000: not a setting of GRE tunnels");
    g_assert_cmpstr(lines[20], ==, "(980 more problems not shown)");
}

static void
test_rewrite(void)
{
    static const char *const pairs[] = { BASE,
                                         "ttl=9",
                                         "ipsec=manual",
                                         "ipsec-suite=aes128-sha1",
                                         "spi-in=300",
                                         "spi-out=301",
                                         "esp-key-in-flags=2",
                                         "!esp-key-in=0x0102030405060708090a0b0c0d0e0f10",
                                         "!esp-key-out=0x1102030405060708090a0b0c0d0e0f10",
                                         "!auth-key-in=0x0102030405060708090a0b0c0d0e0f1011121314",
                                         "!auth-key-out=0x1102030405060708090a0b0c0d0e0f1011121314",
                                         NULL };
    g_autoptr(NMSettingVpn) s_vpn    = vpn_from(pairs);
    g_autoptr(GError) error          = NULL;
    g_autoptr(GreSettings) s         = gre_nm_settings_from_vpn(s_vpn, &error);
    g_autoptr(GreSettings) back      = NULL;
    NMSettingSecretFlags flags       = NM_SETTING_SECRET_FLAG_NONE;

    g_assert_no_error(error);
    g_assert_cmpuint(s->ttl, ==, 9);
    g_assert_cmpuint(g_bytes_get_size(s->enc_key_in), ==, 16);

    s->ttl    = 64;
    s->ipsec  = GRE_IPSEC_NONE;
    s->spi_in = s->spi_out = 0;
    g_clear_pointer(&s->enc_key_in, g_bytes_unref);
    g_clear_pointer(&s->enc_key_out, g_bytes_unref);
    g_clear_pointer(&s->auth_key_in, g_bytes_unref);
    g_clear_pointer(&s->auth_key_out, g_bytes_unref);
    gre_nm_settings_to_vpn(s, s_vpn);

    g_assert_null(nm_setting_vpn_get_data_item(s_vpn, "ttl"));
    g_assert_null(nm_setting_vpn_get_data_item(s_vpn, "ipsec"));
    g_assert_null(nm_setting_vpn_get_data_item(s_vpn, "spi-in"));
    g_assert_cmpuint(nm_setting_vpn_get_num_secrets(s_vpn), ==, 0);
    g_assert_true(nm_setting_get_secret_flags(NM_SETTING(s_vpn), "esp-key-in", &flags, NULL));
    g_assert_cmpint(flags, ==, NM_SETTING_SECRET_FLAG_NOT_SAVED);

    back = gre_nm_settings_from_vpn(s_vpn, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(back->ttl, ==, 64);
    g_assert_cmpint(back->ipsec, ==, GRE_IPSEC_NONE);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/nm-data/examples-round-trip", test_examples_round_trip);
    g_test_add_func("/nm-data/office-data", test_office_data);
    g_test_add_func("/nm-data/bad", test_bad);
    g_test_add_func("/nm-data/secret-not-echoed", test_secret_not_echoed);
    g_test_add_func("/nm-data/rewrite", test_rewrite);
    g_test_add_func("/nm-data/huge-bounded", test_huge_bounded);
    return g_test_run();
}
