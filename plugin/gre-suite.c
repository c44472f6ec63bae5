/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-suite.h"

#include <string.h>

/* IV, block and ICV sizes are those the kernel's ESP code uses for each algorithm. The AEAD
 * suites build their nonce from the ESP sequence number (Linux's seqiv masks it with a value
 * drawn when the SA is made), which a re-added SA starts again at 1: with a static key nonces can
 * repeat, and a repeat exposes plaintext and lets forged packets through. RFC 4106 therefore
 * requires automated keying for AES-GCM; ChaCha20-Poly1305 (RFC 7634) has the same counter nonce.
 * CBC takes a fresh random IV for every packet. */
static const GreSuiteInfo suites[GRE_SUITE_COUNT] = {
    [GRE_SUITE_AES128_GCM16]      = { GRE_SUITE_AES128_GCM16, "aes128gcm16",
                                      "AES-GCM, 128-bit key, 16-byte ICV", "rfc4106(gcm(aes))", NULL,
                                      NULL, 16 + 4, 0, 16, 8, 1, FALSE, "RFC 4106" },
    [GRE_SUITE_AES256_GCM16]      = { GRE_SUITE_AES256_GCM16, "aes256gcm16",
                                      "AES-GCM, 256-bit key, 16-byte ICV", "rfc4106(gcm(aes))", NULL,
                                      NULL, 32 + 4, 0, 16, 8, 1, FALSE, "RFC 4106" },
    [GRE_SUITE_AES128_GCM12]      = { GRE_SUITE_AES128_GCM12, "aes128gcm12",
                                      "AES-GCM, 128-bit key, 12-byte ICV", "rfc4106(gcm(aes))", NULL,
                                      NULL, 16 + 4, 0, 12, 8, 1, FALSE, "RFC 4106" },
    [GRE_SUITE_AES256_GCM12]      = { GRE_SUITE_AES256_GCM12, "aes256gcm12",
                                      "AES-GCM, 256-bit key, 12-byte ICV", "rfc4106(gcm(aes))", NULL,
                                      NULL, 32 + 4, 0, 12, 8, 1, FALSE, "RFC 4106" },
    [GRE_SUITE_AES128_SHA256]     = { GRE_SUITE_AES128_SHA256, "aes128-sha256",
                                      "AES-CBC 128-bit + HMAC-SHA-256 (128-bit ICV)", NULL, "cbc(aes)",
                                      "hmac(sha256)", 16, 32, 16, 16, 16, TRUE, "RFC 3602, RFC 4868" },
    [GRE_SUITE_AES256_SHA256]     = { GRE_SUITE_AES256_SHA256, "aes256-sha256",
                                      "AES-CBC 256-bit + HMAC-SHA-256 (128-bit ICV)", NULL, "cbc(aes)",
                                      "hmac(sha256)", 32, 32, 16, 16, 16, TRUE, "RFC 3602, RFC 4868" },
    [GRE_SUITE_AES128_SHA1]       = { GRE_SUITE_AES128_SHA1, "aes128-sha1",
                                      "AES-CBC 128-bit + HMAC-SHA-1 (96-bit ICV)", NULL, "cbc(aes)",
                                      "hmac(sha1)", 16, 20, 12, 16, 16, TRUE, "RFC 3602, RFC 2404" },
    [GRE_SUITE_AES256_SHA1]       = { GRE_SUITE_AES256_SHA1, "aes256-sha1",
                                      "AES-CBC 256-bit + HMAC-SHA-1 (96-bit ICV)", NULL, "cbc(aes)",
                                      "hmac(sha1)", 32, 20, 12, 16, 16, TRUE, "RFC 3602, RFC 2404" },
    [GRE_SUITE_CHACHA20_POLY1305] = { GRE_SUITE_CHACHA20_POLY1305, "chacha20poly1305",
                                      "ChaCha20-Poly1305, 16-byte ICV",
                                      "rfc7539esp(chacha20,poly1305)", NULL, NULL, 32 + 4, 0, 16, 8,
                                      1, FALSE, "RFC 7634" },
};

const GreSuiteInfo *
gre_suite_info(GreSuite id)
{
    g_return_val_if_fail(id < GRE_SUITE_COUNT, NULL);
    return &suites[id];
}

const GreSuiteInfo *
gre_suite_lookup(const char *name)
{
    for (guint i = 0; i < GRE_SUITE_COUNT; i++) {
        if (g_ascii_strcasecmp(suites[i].name, name) == 0)
            return &suites[i];
    }
    return NULL;
}

const char *
gre_suite_names(void)
{
    static gsize once;
    static char *names;

    if (g_once_init_enter(&once)) {
        GString *s = g_string_new(NULL);

        for (guint i = 0; i < GRE_SUITE_COUNT; i++)
            g_string_append_printf(s, "%s%s", i ? ", " : "", suites[i].name);
        names = g_string_free(s, FALSE);
        g_once_init_leave(&once, 1);
    }
    return names;
}

gboolean
gre_suite_allowed(const GreSuiteInfo *suite, GreIpsecMode mode)
{
    g_return_val_if_fail(suite != NULL, FALSE);
    /* With IKE every SA gets fresh keys, so the counter nonce of the AEAD suites never repeats
     * under one key: all suites are allowed, and an AEAD suite is the default. */
    return mode != GRE_IPSEC_MANUAL || suite->static_keys;
}

const char *
gre_suite_names_for(GreIpsecMode mode)
{
    static gsize once[GRE_IPSEC_IKE + 1];
    static char *names[GRE_IPSEC_IKE + 1];

    g_return_val_if_fail(mode <= GRE_IPSEC_IKE, NULL);
    if (g_once_init_enter(&once[mode])) {
        GString *s = g_string_new(NULL);

        for (guint i = 0; i < GRE_SUITE_COUNT; i++) {
            if (gre_suite_allowed(&suites[i], mode))
                g_string_append_printf(s, "%s%s", s->len ? ", " : "", suites[i].name);
        }
        names[mode] = g_string_free(s, FALSE);
        g_once_init_leave(&once[mode], 1);
    }
    return names[mode];
}

static const char *const dh_groups[] = {
    "ecp256", "ecp384", "ecp521", "curve25519", "modp2048", "modp3072", "modp4096",
};

gboolean
gre_dh_group_known(const char *name)
{
    for (guint i = 0; i < G_N_ELEMENTS(dh_groups); i++) {
        if (g_ascii_strcasecmp(dh_groups[i], name) == 0)
            return TRUE;
    }
    return FALSE;
}

const char *
gre_dh_group_names(void)
{
    return "ecp256, ecp384, ecp521, curve25519, modp2048, modp3072, modp4096";
}
