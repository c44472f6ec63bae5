/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-ifcfg.h"
#include "gre-mirror.h"
#include "test-util.h"

static const char *examples[] = { "office", "branch", "pppoe", "v6", "legacy", "ike", "ike-v6" };

static GreSettings *
load_example(const char *dir, const char *name)
{
    g_autofree char *path   = g_strdup_printf("%s/ifcfg-%s", dir, name);
    g_autoptr(GError) error = NULL;
    g_autoptr(GreIfcfg) cfg = gre_ifcfg_load(path, NULL, &error);

    g_assert_no_error(error);
    return gre_settings_copy(cfg->settings);
}

/* mirror(mirror(A)) == A, and A checks against its mirror, for every example. */
static void
test_examples(void)
{
    g_autofree char *dir = test_copy_data_dir("examples");

    for (guint i = 0; i < G_N_ELEMENTS(examples); i++) {
        g_autoptr(GreSettings) a  = load_example(dir, examples[i]);
        g_autoptr(GError) error   = NULL;
        g_autoptr(GreSettings) b  = gre_mirror(a, &error);
        g_autoptr(GreSettings) aa = NULL;
        g_autoptr(GPtrArray) mm   = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) ww   = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *da = NULL, *daa = NULL;

        g_assert_no_error(error);
        aa = gre_mirror(b, &error);
        g_assert_no_error(error);
        da  = test_settings_dump(a);
        daa = test_settings_dump(aa);
        g_assert_cmpstr(da, ==, daa);
        if (!gre_check(a, "A", b, "B", mm, ww))
            g_error("%s: %s", examples[i], (char *)mm->pdata[0]);
        g_assert_cmpuint(ww->len, ==, 0);
        /* The mirror is a valid configuration in its own right. */
        g_assert_true(gre_check(b, "B", a, "A", NULL, NULL));
    }
    test_remove_dir(dir);
}

/* A concrete mirror, key by key. */
static void
test_branch(void)
{
    g_autoptr(GreSettings) a = test_settings(
        "DEVICE=b\nMY_OUTER_IPADDR=192.0.2.10\nPEER_OUTER_IPADDR=192.0.2.20\n"
        "MY_INNER_IPADDR=198.51.100.9/31\nPEER_INNER_IPADDR=198.51.100.8\nIKEY=5\nOKEY=6\n"
        "ROUTES=203.0.113.0/24\nPHYSDEV=eth9\nIPSEC=manual\nSPI_ESP_IN=0x300\nSPI_ESP_OUT=0x301\n"
        "KEY_ESP_IN=0x01\nKEY_ESP_OUT=0x02\n");
    g_autoptr(GError) error  = NULL;
    g_autoptr(GreSettings) b = gre_mirror(a, &error);
    g_autofree char *dump    = NULL;

    g_assert_no_error(error);
    dump = test_settings_dump(b);
    g_assert_cmpstr(dump, ==,
                    "DEVICE=b\nMY_OUTER_IPADDR=192.0.2.20\nPEER_OUTER_IPADDR=192.0.2.10\n"
                    "MY_INNER_IPADDR=198.51.100.8/31\nPEER_INNER_IPADDR=198.51.100.9\n"
                    "LOCAL_NETWORKS=203.0.113.0/24\nIKEY=6\nOKEY=5\nIPSEC=manual\n"
                    "SPI_ESP_IN=0x301\nSPI_ESP_OUT=0x300\nKEY_ESP_IN=0x02\nKEY_ESP_OUT=0x01\n");
}

static void
test_mirror_needs(void)
{
    g_autoptr(GreSettings) a = test_settings("DEVICE=b\nPEER_OUTER_IPADDR=192.0.2.20\n"
                                             "MY_INNER_IPADDR=198.51.100.9/31\n");
    g_autoptr(GreSettings) c = test_settings("DEVICE=b\nPEER_OUTER_IPADDR=192.0.2.20\n"
                                             "MY_OUTER_IPADDR=192.0.2.1\n"
                                             "MY_INNER_IPADDR=198.51.100.9/31\n");
    g_autoptr(GError) e1     = NULL;
    g_autoptr(GError) e2     = NULL;
    g_autoptr(GreSettings) b = gre_mirror(a, &e1);
    g_autoptr(GreSettings) d = gre_mirror(c, &e2);

    g_assert_null(b);
    g_assert_nonnull(strstr(e1->message, "MY_OUTER_IPADDR: is auto"));
    g_assert_null(d);
    g_assert_nonnull(strstr(e2->message, "PEER_INNER_IPADDR: missing"));
}

typedef struct {
    const char *change; /* applied to the mirror */
    const char *mismatch;
    gboolean    warning_only;
} Mismatch;

static const Mismatch mismatches[] = {
    { "MY_OUTER_IPADDR=192.0.2.99",
      "PEER_OUTER_IPADDR: A has 192.0.2.20, but B's MY_OUTER_IPADDR is 192.0.2.99" },
    { "PEER_OUTER_IPADDR=192.0.2.98",
      "MY_OUTER_IPADDR: A has 192.0.2.10, but B's PEER_OUTER_IPADDR is 192.0.2.98" },
    { "PEER_INNER_IPADDR=198.51.100.10",
      "MY_INNER_IPADDR: A has 198.51.100.9/31, but B expects its peer at 198.51.100.10" },
    { "MY_INNER_IPADDR=198.51.100.8/30", "MY_INNER_IPADDR: A has prefix /31, B has /30" },
    { "MY_INNER_IPADDR=198.51.100.18/31\nPEER_INNER_IPADDR=198.51.100.9",
      "MY_INNER_IPADDR: A (198.51.100.9/31) and B (198.51.100.18/31) are not on one subnet" },
    { "IKEY=5\nOKEY=5", "OKEY: A has 6, but B's IKEY is 5" },
    { "OKEY=6", "IKEY: A has 5, but B's OKEY is 6" },
    { "IKEY=", "OKEY: A has 6, but B's IKEY is (unset)" },
    { "SEQ=yes", "SEQ: A has no, B has yes" },
    { "CSUM=yes", "CSUM: A has no, B has yes" },
    { "SPI_ESP_IN=0x999", "SPI_ESP_OUT: A has 0x301, but B's SPI_ESP_IN is 0x999" },
    { "KEY_ESP_IN=0x09", "KEY_ESP_OUT: A's differs from B's KEY_ESP_IN (values not shown)" },
    { "IPSEC_SUITE=aes128-sha1", "IPSEC_SUITE: A has aes256-sha256, B has aes128-sha1" },
    { "IPSEC=none", "IPSEC: A has manual, B has none" },
    { "MTU=1400", "MTU: A uses 1430, B uses 1400; both ends need the same MTU" },
    { "ENCAPLIMIT=none", "ENCAPLIMIT: A has 4, B has none" },
    { "ROUTES=192.0.2.0/24",
      "LOCAL_NETWORKS: A has 203.0.113.0/25, but B's ROUTES is 192.0.2.0/24" },
    { "TTL=inherit", "TTL: A has 64, B has inherit", TRUE },
    { "TOS=16", "TOS: A has inherit, B has 16", TRUE },
};

static void
test_mismatches(void)
{
    static const char *a_text =
        "DEVICE=b\nMY_OUTER_IPADDR=192.0.2.10\nPEER_OUTER_IPADDR=192.0.2.20\n"
        "MY_INNER_IPADDR=198.51.100.9/31\nPEER_INNER_IPADDR=198.51.100.8\nIKEY=5\nOKEY=6\n"
        "LOCAL_NETWORKS=203.0.113.0/25\nIPSEC=manual\nSPI_ESP_IN=0x300\nSPI_ESP_OUT=0x301\n"
        "KEY_ESP_IN=0x01\nKEY_ESP_OUT=0x02\n";
    g_autoptr(GreSettings) a = test_settings(a_text);

    for (guint i = 0; i < G_N_ELEMENTS(mismatches); i++) {
        g_autoptr(GError) error  = NULL;
        g_autoptr(GreSettings) m = gre_mirror(a, &error);
        g_autofree char *b_text  = NULL;
        g_autofree char *dump    = NULL;
        g_autoptr(GreSettings) b = NULL;
        g_autoptr(GPtrArray) mm  = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) ww  = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *all     = NULL;
        gboolean         ok;

        g_assert_no_error(error);
        dump   = test_settings_dump(m);
        b_text = g_strconcat(dump, mismatches[i].change, "\n", NULL);
        b      = test_settings(b_text);
        ok     = gre_check(a, "A", b, "B", mm, ww);
        if (ok != mismatches[i].warning_only)
            g_error("change %s: check said %d", mismatches[i].change, ok);
        g_ptr_array_extend_and_steal(mm, g_steal_pointer(&ww));
        mm = g_ptr_array_ref(mm);
        g_ptr_array_add(mm, NULL);
        all = g_strjoinv("\n", (char **)mm->pdata);
        if (!strstr(all, mismatches[i].mismatch))
            g_error("change %s: expected \"%s\" in:\n%s", mismatches[i].change,
                    mismatches[i].mismatch, all);
        g_ptr_array_unref(mm);
    }
}

/* A key one way only (found by fuzz-check): A receives with a key and sends without, so B sends
 * the longer header. Both ends must still come out with one MTU, the one the longer header
 * leaves, and the mirror must check clean against its origin. */
static void
test_one_way_key(void)
{
    static const char *texts[] = { "IKEY=7\n", "OKEY=7\n", "IKEY=7\nSEQ=yes\nCSUM=yes\n",
                                   ("IKEY=7\nIPSEC=manual\nSPI_ESP_IN=0x300\nSPI_ESP_OUT=0x301\n"
                                    "KEY_ESP_IN=0x01\nKEY_ESP_OUT=0x02\n") };

    for (guint i = 0; i < G_N_ELEMENTS(texts); i++) {
        g_autofree char *a_text = g_strconcat(
            "DEVICE=k\nMY_OUTER_IPADDR=192.0.2.10\nPEER_OUTER_IPADDR=192.0.2.20\n", texts[i], NULL);
        g_autoptr(GreSettings) a   = test_settings(a_text);
        g_autoptr(GError) error    = NULL;
        g_autoptr(GreSettings) b   = gre_mirror(a, &error);
        g_autoptr(GPtrArray) mm    = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) ww    = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GreSettings) key = test_settings(
            "DEVICE=k\nMY_OUTER_IPADDR=192.0.2.10\nPEER_OUTER_IPADDR=192.0.2.20\nKEY=7\n");

        g_assert_no_error(error);
        g_assert_true(a->has_ikey != b->has_ikey || a->has_okey != b->has_okey);
        if (!gre_check(a, "A", b, "B", mm, ww))
            g_error("%s: check of the mirror: %s", texts[i], (const char *)mm->pdata[0]);
        g_assert_cmpuint(gre_effective_mtu(a), ==, gre_effective_mtu(b));
        if (i < 2)
            g_assert_cmpuint(gre_effective_mtu(a), ==, gre_effective_mtu(key));
    }
}

static char *
joined(GPtrArray *lines)
{
    g_ptr_array_add(lines, NULL);
    return g_strjoinv("\n", (char **)lines->pdata);
}

/* IKE: identities are swapped (an unset one is the outer address), the PSK goes to the peer,
 * and check compares proposals, identities and the PSK, never printing the PSK. */
static void
test_ike(void)
{
    g_autoptr(GreSettings) a = test_settings(
        "DEVICE=b\nMY_OUTER_IPADDR=192.0.2.10\nPEER_OUTER_IPADDR=192.0.2.20\nIPSEC=ike\n"
        "IKE_PSK=0123456789abcdefXYZ\nIKE_LOCAL_ID=a.example.org\nIKE_PROPOSALS=aes128-sha256-"
        "ecp256\n");
    g_autoptr(GError) error  = NULL;
    g_autoptr(GreSettings) b = gre_mirror(a, &error);
    g_autoptr(GreSettings) c = NULL;
    g_autoptr(GreSettings) d = NULL;
    g_autoptr(GreSettings) e = NULL;
    g_autoptr(GPtrArray) mm  = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *dump    = NULL;
    g_autofree char *all     = NULL;

    g_assert_no_error(error);
    dump = test_settings_dump(b);
    g_assert_cmpstr(dump, ==,
                    "DEVICE=b\nMY_OUTER_IPADDR=192.0.2.20\nPEER_OUTER_IPADDR=192.0.2.10\n"
                    "IPSEC=ike\nIKE_PSK=0123456789abcdefXYZ\nIKE_REMOTE_ID=a.example.org\n"
                    "IKE_PROPOSALS=aes128-sha256-ecp256\n");
    g_assert_true(gre_check(a, "A", b, "B", NULL, NULL));
    /* The default identity is the outer address: written out or not, it is the same. */
    c               = gre_settings_copy(b);
    c->ike_local_id = g_strdup("192.0.2.20");
    g_assert_true(gre_check(a, "A", c, "C", NULL, NULL));
    /* Another PSK, proposal, suite and peer identity: each named, the PSK not shown. */
    d = test_settings(
        "DEVICE=b\nMY_OUTER_IPADDR=192.0.2.20\nPEER_OUTER_IPADDR=192.0.2.10\nIPSEC=ike\n"
        "IPSEC_SUITE=aes128gcm16\nIKE_PSK=another-secret-entirely\nIKE_REMOTE_ID=x.example.org\n");
    g_assert_false(gre_check(a, "A", d, "D", mm, NULL));
    all = joined(mm);
    g_assert_cmpstr(all, ==,
                    "IPSEC_SUITE: A has aes256gcm16, D has aes128gcm16\n"
                    "IKE_PSK: A's differs from D's IKE_PSK (values not shown)\n"
                    "IKE_LOCAL_ID: A has a.example.org, but D's IKE_REMOTE_ID is x.example.org\n"
                    "IKE_PROPOSALS: A has aes128-sha256-ecp256, D has aes256-sha256-ecp256");
    g_assert_null(strstr(all, "0123456789"));
    /* Manual keying at the other end is a mismatch of IPSEC itself. */
    e = test_settings("DEVICE=b\nMY_OUTER_IPADDR=192.0.2.20\nPEER_OUTER_IPADDR=192.0.2.10\n"
                      "IPSEC=none\n");
    g_assert_false(gre_check(a, "A", e, "E", NULL, NULL));
}

/* IKE_AUTH=cert: mirror writes the method and the CA, not this end's certificate and key (the
 * peer's are its own files), identities swapped; check compares the method, and no unused
 * PSK. */
static void
test_ike_cert(void)
{
    g_autoptr(GreSettings) a = test_settings(
        "DEVICE=b\nMY_OUTER_IPADDR=192.0.2.10\nPEER_OUTER_IPADDR=192.0.2.20\nIPSEC=ike\n"
        "IKE_AUTH=cert\nIKE_CERT=/etc/gre/a.crt\nIKE_PRIVKEY=/etc/gre/a.key\n"
        "IKE_CACERT=/etc/gre/ca.crt\nIKE_LOCAL_ID=a.example.org\n");
    g_autoptr(GError) error  = NULL;
    g_autoptr(GreSettings) b = gre_mirror(a, &error);
    g_autoptr(GreSettings) c = NULL;
    g_autoptr(GPtrArray) mm  = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *dump    = NULL;
    g_autofree char *all     = NULL;

    g_assert_no_error(error);
    dump = test_settings_dump(b);
    g_assert_cmpstr(dump, ==,
                    "DEVICE=b\nMY_OUTER_IPADDR=192.0.2.20\nPEER_OUTER_IPADDR=192.0.2.10\n"
                    "IPSEC=ike\nIKE_REMOTE_ID=a.example.org\nIKE_AUTH=cert\n"
                    "IKE_CACERT=/etc/gre/ca.crt\n");
    g_assert_true(gre_check(a, "A", b, "B", NULL, NULL));
    c = test_settings("DEVICE=b\nMY_OUTER_IPADDR=192.0.2.20\nPEER_OUTER_IPADDR=192.0.2.10\n"
                      "IPSEC=ike\nIKE_PSK=0123456789abcdefXYZ\nIKE_REMOTE_ID=a.example.org\n");
    g_assert_false(gre_check(a, "A", c, "C", mm, NULL));
    all = joined(mm);
    g_assert_cmpstr(all, ==, "IKE_AUTH: A has cert, C has psk");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/mirror/examples", test_examples);
    g_test_add_func("/mirror/branch", test_branch);
    g_test_add_func("/mirror/needs", test_mirror_needs);
    g_test_add_func("/mirror/mismatches", test_mismatches);
    g_test_add_func("/mirror/one-way-key", test_one_way_key);
    g_test_add_func("/mirror/ike", test_ike);
    g_test_add_func("/mirror/ike-cert", test_ike_cert);
    return g_test_run();
}
