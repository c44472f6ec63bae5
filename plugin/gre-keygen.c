/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-keygen.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "gre-error.h"
#include "gre-i18n.h"
#include "gre-suite.h"

gboolean
gre_random_bytes(guint8 *buf, gsize len, GError **error)
{
    gsize done = 0;

    /* Blocks only until the kernel's pool is initialised once after boot; never falls back to
     * anything weaker. */
    while (done < len) {
        ssize_t n = getrandom(buf + done, len - done, 0);

        if (n < 0) {
            int errsv = errno;

            if (errsv == EINTR)
                continue;
            g_set_error(error, GRE_ERROR, GRE_ERROR_IO, _("cannot get random bytes: %s"),
                        g_strerror(errsv));
            return FALSE;
        }
        done += n;
    }
    return TRUE;
}

static GBytes *
random_secret(gsize len, GError **error)
{
    guint8  buf[256];
    GBytes *secret;

    g_return_val_if_fail(len <= sizeof buf, NULL);
    if (!gre_random_bytes(buf, len, error))
        return NULL;
    secret = gre_secret_new(buf, len);
    explicit_bzero(buf, sizeof buf);
    return secret;
}

/* An SPI of 256 or more (1-255 are reserved by IANA, 0 means none) that is not in @avoid. */
static gboolean
random_spi(const guint32 *avoid, guint n_avoid, guint32 *out, GError **error)
{
    for (;;) {
        guint32  spi;
        gboolean taken = FALSE;

        if (!gre_random_bytes((guint8 *)&spi, sizeof spi, error))
            return FALSE;
        for (guint i = 0; i < n_avoid; i++)
            taken = taken || avoid[i] == spi;
        if (spi >= 256 && !taken) {
            *out = spi;
            return TRUE;
        }
    }
}

static gboolean
keygen_manual(GreSettings *s, GError **error)
{
    const GreSuiteInfo *suite = gre_suite_info(s->suite);
    g_autoptr(GBytes) enc_in = NULL, enc_out = NULL, auth_in = NULL, auth_out = NULL;
    guint32 spi_in, spi_out;

    if (!(enc_in = random_secret(suite->enc_key_len, error)) ||
        !(enc_out = random_secret(suite->enc_key_len, error)))
        return FALSE;
    if (!suite->aead && (!(auth_in = random_secret(suite->auth_key_len, error)) ||
                         !(auth_out = random_secret(suite->auth_key_len, error))))
        return FALSE;
    {
        const guint32 avoid_in[] = { s->spi_in, s->spi_out };

        if (!random_spi(avoid_in, G_N_ELEMENTS(avoid_in), &spi_in, error))
            return FALSE;
    }
    {
        const guint32 avoid_out[] = { s->spi_in, s->spi_out, spi_in };

        if (!random_spi(avoid_out, G_N_ELEMENTS(avoid_out), &spi_out, error))
            return FALSE;
    }
    /* Nothing in @s changes until everything is made. */
    g_clear_pointer(&s->enc_key_in, g_bytes_unref);
    g_clear_pointer(&s->enc_key_out, g_bytes_unref);
    g_clear_pointer(&s->auth_key_in, g_bytes_unref);
    g_clear_pointer(&s->auth_key_out, g_bytes_unref);
    s->enc_key_in   = g_steal_pointer(&enc_in);
    s->enc_key_out  = g_steal_pointer(&enc_out);
    s->auth_key_in  = g_steal_pointer(&auth_in);
    s->auth_key_out = g_steal_pointer(&auth_out);
    s->spi_in       = spi_in;
    s->spi_out      = spi_out;
    return TRUE;
}

/* 32 random bytes (256 bits, as strong as the strongest IKE proposal) as base64 text: a PSK is
 * typed and copied between hosts, and charon takes printable text as it is. */
static gboolean
keygen_ike(GreSettings *s, GError **error)
{
    guint8 raw[32];
    g_auto(GreWipedString) text = NULL;

    if (!gre_random_bytes(raw, sizeof raw, error))
        return FALSE;
    text = g_base64_encode(raw, sizeof raw);
    explicit_bzero(raw, sizeof raw);
    g_clear_pointer(&s->ike_psk, g_bytes_unref);
    s->ike_psk = gre_secret_new((const guint8 *)text, strlen(text));
    return TRUE;
}

gboolean
gre_keygen(GreSettings *s, GError **error)
{
    switch (s->ipsec) {
    case GRE_IPSEC_MANUAL:
        return keygen_manual(s, error);
    case GRE_IPSEC_IKE:
        return keygen_ike(s, error);
    case GRE_IPSEC_NONE:
        break;
    }
    g_set_error(error, GRE_ERROR, GRE_ERROR_INVALID,
                _("is none, so the tunnel has no keys to make; keygen makes the keys for "
                  "IPSEC=manual and IPSEC=ike"));
    return FALSE;
}
