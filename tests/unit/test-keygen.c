/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "gre-error.h"
#include "gre-keygen.h"
#include "gre-shvar-edit.h"
#include "gre-suite.h"
#include "test-util.h"

static gboolean
all_zero(GBytes *b)
{
    gsize         n;
    const guint8 *d = g_bytes_get_data(b, &n);

    for (gsize i = 0; i < n; i++) {
        if (d[i])
            return FALSE;
    }
    return TRUE;
}

/* Every suite gets keys of exactly its sizes (AEAD: key + salt, no HMAC keys; CBC: cipher and
 * HMAC keys), and valid, distinct, fresh SPIs. */
static void
test_sizes(void)
{
    for (guint i = 0; i < GRE_SUITE_COUNT; i++) {
        const GreSuiteInfo *suite = gre_suite_info(i);
        g_autoptr(GreSettings) s  = test_settings("IPSEC=manual\nSPI_ESP_IN=0x1001\n"
                                                   "SPI_ESP_OUT=0x1002\nKEY_AESP_IN=0x00\n");
        g_autoptr(GreSettings) t  = NULL;
        g_autoptr(GError) error   = NULL;

        s->suite = suite->id;
        t        = gre_settings_copy(s);
        g_assert_true(gre_keygen(s, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(g_bytes_get_size(s->enc_key_in), ==, suite->enc_key_len);
        g_assert_cmpuint(g_bytes_get_size(s->enc_key_out), ==, suite->enc_key_len);
        if (suite->aead) {
            /* The stale HMAC key of the test input is gone too. */
            g_assert_null(s->auth_key_in);
            g_assert_null(s->auth_key_out);
        } else {
            g_assert_cmpuint(g_bytes_get_size(s->auth_key_in), ==, suite->auth_key_len);
            g_assert_cmpuint(g_bytes_get_size(s->auth_key_out), ==, suite->auth_key_len);
            g_assert_false(g_bytes_equal(s->auth_key_in, s->auth_key_out));
            g_assert_false(all_zero(s->auth_key_in));
        }
        g_assert_false(g_bytes_equal(s->enc_key_in, s->enc_key_out));
        g_assert_false(all_zero(s->enc_key_in));
        g_assert_cmpuint(s->spi_in, >=, 256);
        g_assert_cmpuint(s->spi_out, >=, 256);
        g_assert_cmpuint(s->spi_in, !=, s->spi_out);
        g_assert_cmpuint(s->spi_in, !=, 0x1001);
        g_assert_cmpuint(s->spi_in, !=, 0x1002);
        g_assert_cmpuint(s->spi_out, !=, 0x1001);
        g_assert_cmpuint(s->spi_out, !=, 0x1002);
        /* Fresh each time. */
        g_assert_true(gre_keygen(t, &error));
        g_assert_false(g_bytes_equal(s->enc_key_in, t->enc_key_in));
        g_assert_cmpuint(s->spi_in != t->spi_in || s->spi_out != t->spi_out, ==, TRUE);
        /* Nothing else changed. */
        g_assert_cmpint(s->suite, ==, suite->id);
        g_assert_cmpint(s->ipsec, ==, GRE_IPSEC_MANUAL);
    }
}

/* Over many SPIs: never below 256, never in == out (a cheap statistical look, not a proof). */
static void
test_spis(void)
{
    g_autoptr(GreSettings) s = test_settings("IPSEC=manual\n");
    guint32 seen_high        = 0;

    for (guint i = 0; i < 2000; i++) {
        g_assert_true(gre_keygen(s, NULL));
        g_assert_cmpuint(s->spi_in, >=, 256);
        g_assert_cmpuint(s->spi_out, >=, 256);
        g_assert_cmpuint(s->spi_in, !=, s->spi_out);
        seen_high |= s->spi_in | s->spi_out;
    }
    /* The whole 32-bit range is used, not a small one. */
    g_assert_cmphex(seen_high, ==, 0xffffffff);
}

static void
test_no_ipsec(void)
{
    g_autoptr(GreSettings) s = test_settings("DEVICE=x\n");
    g_autoptr(GError) error  = NULL;

    g_assert_false(gre_keygen(s, &error));
    g_assert_error(error, GRE_ERROR, GRE_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "IPSEC=manual"));
    g_assert_null(s->enc_key_in);
    g_assert_cmpuint(s->spi_in, ==, 0);
}

static char *
edit(const char *text, const char *k1, const char *v1, const char *k2, const char *v2)
{
    g_autoptr(GError) error        = NULL;
    g_autoptr(GreShvarFile) parsed = gre_shvar_file_parse("t", text, -1, &error);
    const char *keys[]             = { k1, k2, NULL };
    const char *values[]           = { v1, v2, NULL };

    g_assert_no_error(error);
    return gre_shvar_edit(text, strlen(text), parsed, keys, values);
}

/* Only the values change: indent, comments, quoting elsewhere, blank lines, order, CRLF and the
 * earlier (overridden) assignments stay byte for byte; missing keys are appended. */
static void
test_edit(void)
{
    struct {
        const char *in, *out;
    } cases[] = {
        { "A=1\nSPI_ESP_IN=0x1001\nB=2\nSPI_ESP_OUT=0x1002\n",
          "A=1\nSPI_ESP_IN=0x10\nB=2\nSPI_ESP_OUT=0x20\n" },
        { "# c\n  SPI_ESP_IN=\"0x1001\"   # in\n\n\tSPI_ESP_OUT='4098';\n",
          "# c\n  SPI_ESP_IN=0x10   # in\n\n\tSPI_ESP_OUT=0x20;\n" },
        { "SPI_ESP_IN=1\nSPI_ESP_IN=2 #last wins\n",
          "SPI_ESP_IN=1\nSPI_ESP_IN=0x10 #last wins\nSPI_ESP_OUT=0x20\n" },
        { "A=1", "A=1\nSPI_ESP_IN=0x10\nSPI_ESP_OUT=0x20\n" },
        { "", "SPI_ESP_IN=0x10\nSPI_ESP_OUT=0x20\n" },
        { "SPI_ESP_OUT=7\r\nX=\"a b\"\r\n", "SPI_ESP_OUT=0x20\r\nX=\"a b\"\r\nSPI_ESP_IN=0x10\n" },
        { "SPI_ESP_IN=\nSPI_ESP_OUT=$'\\x31'\n", "SPI_ESP_IN=0x10\nSPI_ESP_OUT=0x20\n" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *out = edit(cases[i].in, "SPI_ESP_IN", "0x10", "SPI_ESP_OUT", "0x20");

        g_assert_cmpstr(out, ==, cases[i].out);
    }
}

/* A value that needs quotes gets them, and reads back as written. */
static void
test_edit_quotes(void)
{
    g_autofree char *out           = edit("K=1 # x\n", "K", "a b$", "L", "c'd");
    g_autoptr(GreShvarFile) parsed = gre_shvar_file_parse("t", out, -1, NULL);

    g_assert_nonnull(parsed);
    g_assert_cmpstr(gre_shvar_file_get(parsed, "K"), ==, "a b$");
    g_assert_cmpstr(gre_shvar_file_get(parsed, "L"), ==, "c'd");
    g_assert_true(g_str_has_suffix(gre_shvar_file_get_source(parsed), "t"));
    g_assert_nonnull(strstr(out, " # x\n"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/keygen/sizes", test_sizes);
    g_test_add_func("/keygen/spis", test_spis);
    g_test_add_func("/keygen/no-ipsec", test_no_ipsec);
    g_test_add_func("/keygen/edit", test_edit);
    g_test_add_func("/keygen/edit-quotes", test_edit_quotes);
    return g_test_run();
}
