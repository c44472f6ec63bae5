/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <sys/socket.h>

#include "gre-mtu.h"
#include "gre-suite.h"
#include "test-util.h"

typedef struct {
    const char *settings;
    guint       underlay;
    guint       expect;
} Case;

/* The first block was measured on a real kernel (largest DF packet that passes); the rest follow
 * the kernel's formulas by hand and are re-measured by the kernel suite. */
static const Case cases[] = {
    { "", 1492, 1468 },
    { "IPSEC=manual\nIPSEC_SUITE=aes128gcm16", 1492, 1434 },
    { "IPSEC=manual\nIPSEC_SUITE=aes256gcm16", 1492, 1434 },
    { "IPSEC=manual\nIPSEC_SUITE=aes128gcm12", 1492, 1438 },
    { "IPSEC=manual\nIPSEC_SUITE=aes128-sha256", 1492, 1418 },
    { "IPSEC=manual\nIPSEC_SUITE=aes256-sha256", 1492, 1418 },
    { "IPSEC=manual\nIPSEC_SUITE=aes128-sha1", 1492, 1418 },
    { "IPSEC=manual\nIPSEC_SUITE=chacha20poly1305", 1492, 1434 },
    { "IPSEC=manual\nIPSEC_SUITE=aes128-sha256", 1500, 1434 },
    { "IPSEC=manual\nIPSEC_SUITE=aes256gcm16", 1500, 1442 },
    { "KEY=1\nIPSEC=manual\nIPSEC_SUITE=aes256gcm16", 1500, 1438 },
    { "KEY=1", 1492, 1464 },

    { "", 1500, 1476 },
    { "KEY=7\nSEQ=yes\nCSUM=yes", 1500, 1464 },
    { "OKEY=7", 1500, 1472 },
    /* A key one way only: the peer sends it, and both ends keep the same MTU. */
    { "IKEY=7", 1500, 1472 },
    { "IPSEC=manual\nIPSEC_SUITE=aes128-sha1", 1500, 1434 },
    { "IPSEC=manual\nIPSEC_SUITE=aes256gcm12", 1500, 1446 },
    { "KEY=7\nSEQ=yes\nIPSEC=manual\nIPSEC_SUITE=aes128-sha256", 1500, 1426 },
    { "KEY=7\nSEQ=yes\nIPSEC=manual\nIPSEC_SUITE=aes128-sha256", 1492, 1410 },
    { "KEY=7\nIPSEC=manual\nIPSEC_SUITE=aes128gcm16", 1492, 1430 },
    { "", 1280, 1256 },
    { "IPSEC=manual\nIPSEC_SUITE=aes128gcm16", 1280, 1222 },
    { "IPSEC=manual\nIPSEC_SUITE=aes128-sha256", 1280, 1210 },
    { "KEY=7\nSEQ=yes\nCSUM=yes\nIPSEC=manual\nIPSEC_SUITE=aes128-sha256", 1280, 1198 },
    { "", 9000, 8976 },
    { "", 92, 68 },
    { "", 91, 67 },
    { "", 24, 0 },
    { "IPSEC=manual", 50, 0 },
    /* IPv6 outer: 40-byte header, plus 8 for the encapsulation limit option unless it is off. */
    { "V6", 1500, 1448 },
    { "V6\nENCAPLIMIT=none", 1500, 1456 },
    { "V6\nKEY=1", 1500, 1444 },
    { "V6\nIPSEC=manual\nIPSEC_SUITE=aes128gcm16", 1500, 1414 },
    { "V6\nENCAPLIMIT=none\nIPSEC=manual\nIPSEC_SUITE=aes128-sha256", 1500, 1402 },
    { "V6", 1280, 1228 },
    /* The encapsulation limit option sits before ESP, so it is padded around, not through:
     * measured on a real kernel (aes256-sha1 with a key: 1398 passes, 1406 does not). */
    { "V6\nKEY=1\nIPSEC=manual\nIPSEC_SUITE=aes256-sha1", 1500, 1398 },
    /* ... but the kernel's own figure counts only the IPv6 header and ip6gre refuses more than
     * it allows: measured (aes256-sha256 with a key, encapsulation limit 4: the kernel reports
     * mtu 1390 for 1398), so with a 16-byte ICV the kernel's figure is the MTU. */
    { "V6\nKEY=1\nIPSEC=manual\nIPSEC_SUITE=aes256-sha256", 1500, 1390 },
    { "V6\nIPSEC=manual\nIPSEC_SUITE=aes128-sha256", 1500, 1394 },
    { "V6\nENCAPLIMIT=none\nKEY=1\nIPSEC=manual\nIPSEC_SUITE=aes256-sha256", 1500, 1398 },
};

static void
test_cases(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        gboolean         v6   = g_str_has_prefix(cases[i].settings, "V6");
        g_autofree char *text = g_strdup_printf(
            "PEER_OUTER_IPADDR=%s\n%s", v6 ? "2001:db8::2" : "192.0.2.2", cases[i].settings);
        g_autoptr(GreSettings) s = test_settings(text);
        guint got                = gre_mtu_compute(s, cases[i].underlay, NULL);

        if (got != cases[i].expect)
            g_error("case %u (%s, underlay %u): got %u, expected %u", i, cases[i].settings,
                    cases[i].underlay, got, cases[i].expect);
    }
}

static void
test_explain(void)
{
    g_autoptr(GreSettings) s = test_settings(
        "PEER_OUTER_IPADDR=192.0.2.2\nKEY=1\nIPSEC=manual\nIPSEC_SUITE=aes128-sha256");
    g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *all       = NULL;

    g_assert_cmpuint(gre_mtu_compute(s, 1492, lines), ==, 1414);
    g_ptr_array_add(lines, NULL);
    all = g_strjoinv("\n", (char **)lines->pdata);
    g_assert_nonnull(strstr(all, "1492           underlay MTU"));
    g_assert_nonnull(strstr(all, "- 24   ESP header (SPI, sequence) and IV (8 + 16)"));
    g_assert_nonnull(strstr(all, "rounded down to the 16-byte cipher block"));
    g_assert_nonnull(strstr(all, "- 4    GRE key"));
    g_assert_nonnull(strstr(all, "1414           tunnel MTU"));
}

/* The ESP step alone, against the worked example: 1500, AES-CBC + SHA1-96 leaves 1458. */
static void
test_esp_payload(void)
{
    g_autoptr(GreSettings) s =
        test_settings("PEER_OUTER_IPADDR=192.0.2.2\nIPSEC=manual\nIPSEC_SUITE=aes128-sha1");

    g_assert_cmpuint(gre_mtu_esp_payload(s, 1500), ==, 1458);
    g_assert_cmpuint(gre_mtu_gre_header_len(s), ==, 4);
    g_assert_cmpuint(gre_mtu_outer_header_len(s), ==, 20);
}

/* IPSEC=ike gives exactly the MTU of manual keying with the same suite, for every suite and
 * both outer families. */
static void
test_ike_same(void)
{
    for (guint i = 0; i < GRE_SUITE_COUNT; i++) {
        for (guint v6 = 0; v6 < 2; v6++) {
            const char      *remote = v6 ? "2001:db8::2" : "192.0.2.2";
            const char      *suite  = gre_suite_info(i)->name;
            g_autofree char *m      = g_strdup_printf(
                     "PEER_OUTER_IPADDR=%s\nIPSEC=manual\nIPSEC_SUITE=%s\nKEY=1", remote, suite);
            g_autofree char *k = g_strdup_printf(
                "PEER_OUTER_IPADDR=%s\nIPSEC=ike\nIPSEC_SUITE=%s\nKEY=1", remote, suite);
            g_autoptr(GreSettings) manual = test_settings(m);
            g_autoptr(GreSettings) ike    = test_settings(k);

            g_assert_cmpuint(gre_mtu_compute(ike, 1492, NULL), ==,
                             gre_mtu_compute(manual, 1492, NULL));
            g_assert_cmpuint(gre_mtu_compute(ike, 1492, NULL), <, 1492 - 24);
        }
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/mtu/cases", test_cases);
    g_test_add_func("/mtu/explain", test_explain);
    g_test_add_func("/mtu/esp-payload", test_esp_payload);
    g_test_add_func("/mtu/ike-same", test_ike_same);
    return g_test_run();
}
