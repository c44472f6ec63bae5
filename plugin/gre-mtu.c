/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-mtu.h"

#include <sys/socket.h>

#include "gre-i18n.h"
#include "gre-suite.h"

#define ALIGN_UP(x, a) (((x) + (a)-1) / (a) * (a))

guint
gre_mtu_gre_header_len(const GreSettings *s)
{
    /* The kernel sizes the header from what this end sends, but a key may be one way only
     * (IKEY without OKEY): the peer then sends the longer header. Both ends count the longer
     * one, so they agree on one MTU and neither sends what the other could not. */
    return 4 + (s->csum ? 4 : 0) + (s->has_okey || s->has_ikey ? 4 : 0) + (s->seq ? 4 : 0);
}

guint
gre_mtu_outer_header_len(const GreSettings *s)
{
    if (gre_settings_outer_family(s) == AF_INET6)
        return 40 + (s->encaplimit != GRE_ENCAPLIMIT_NONE ? 8 : 0);
    return 20;
}

/* What ESP in transport mode leaves of @mtu for the IP packet it protects, with @net_adj bytes of
 * that packet's headers left out of the padding: xfrm_state_mtu()'s formula. */
static guint
esp_room(const GreSuiteInfo *suite, guint mtu, guint net_adj)
{
    guint hdr   = 8 + suite->iv_len;
    guint block = ALIGN_UP(suite->block_len, 4);

    if (mtu < hdr + suite->icv_len + net_adj + block)
        return 0;
    return ((mtu - hdr - suite->icv_len - net_adj) & ~(block - 1)) + net_adj - 2;
}

/* ip6gre's encapsulation limit option (a destination options header) sits before the ESP
 * header, outside the padding: on the wire the whole outer header is net_adj. The kernel's own
 * figure, which ip6gre checks packets against, counts only the 40-byte IPv6 header; with a
 * 16-byte cipher block the two differ by up to 8 bytes either way (aes256-sha1 with a key: the
 * wire takes 1398, the kernel lets 1406 through and it is dropped; aes256-sha256 with a key: the
 * wire would take 1398, the kernel refuses more than 1390). The smaller one is what works. */
static guint
esp_kernel_net_adj(const GreSettings *s)
{
    return gre_settings_outer_family(s) == AF_INET6 ? 40 : 20;
}

guint
gre_mtu_esp_payload(const GreSettings *s, guint mtu)
{
    const GreSuiteInfo *suite  = gre_suite_info(s->suite);
    guint               wire   = esp_room(suite, mtu, gre_mtu_outer_header_len(s));
    guint               kernel = esp_room(suite, mtu, esp_kernel_net_adj(s));

    return MIN(wire, kernel);
}

static void G_GNUC_PRINTF(2, 3) say(GPtrArray *explain, const char *fmt, ...)
{
    va_list ap;

    if (!explain)
        return;
    va_start(ap, fmt);
    g_ptr_array_add(explain, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

static guint
take(GPtrArray *explain, guint mtu, guint bytes, const char *what)
{
    if (bytes == 0)
        return mtu;
    if (mtu < bytes) {
        say(explain, _("%6s  - %-4u %s: does not fit"), "", bytes, what);
        return 0;
    }
    say(explain, "%6u  - %-4u %s", mtu - bytes, bytes, what);
    return mtu - bytes;
}

guint
gre_mtu_compute(const GreSettings *s, guint underlay_mtu, GPtrArray *explain)
{
    gboolean ip6 = gre_settings_outer_family(s) == AF_INET6;
    guint    mtu = underlay_mtu;

    say(explain, _("%6u           underlay MTU"), mtu);
    if (s->ipsec != GRE_IPSEC_NONE) {
        const GreSuiteInfo *suite   = gre_suite_info(s->suite);
        guint               hdr     = 8 + suite->iv_len;
        guint               net_adj = gre_mtu_outer_header_len(s);
        guint               block   = ALIGN_UP(suite->block_len, 4);
        guint               wire    = esp_room(suite, mtu, net_adj);
        guint               esp     = gre_mtu_esp_payload(s, mtu);

        if (esp == 0) {
            say(explain, _("%6s           ESP (%s): does not fit"), "", suite->name);
            return 0;
        }
        say(explain, _("%6s           ESP transport mode, %s (%s):"), "", suite->name,
            suite->description);
        say(explain, _("%6u  - %-4u ESP header (SPI, sequence) and IV (8 + %u)"), mtu - hdr, hdr,
            suite->iv_len);
        say(explain, _("%6u  - %-4u integrity check value"), mtu - hdr - suite->icv_len,
            suite->icv_len);
        say(explain, _("%6u  - %-4u outer %s (ESP pads what follows it)"),
            mtu - hdr - suite->icv_len - net_adj, net_adj,
            !ip6           ? _("IPv4 header")
            : net_adj > 40 ? _("IPv6 header and encapsulation limit option")
                           : _("IPv6 header"));
        say(explain, _("%6u           rounded down to the %u-byte cipher block"),
            (mtu - hdr - suite->icv_len - net_adj) & ~(block - 1), block);
        say(explain, _("%6u  + %-4u outer header back"), wire + 2, net_adj);
        say(explain, _("%6u  - %-4u ESP trailer (pad length, next header)"), wire, 2);
        if (esp < wire)
            say(explain,
                _("%6u  - %-4u the kernel's own figure, which pads the encapsulation limit "
                  "option with the payload"),
                esp, wire - esp);
        mtu = esp;
    }
    mtu = take(explain, mtu, ip6 ? 40 : 20, ip6 ? _("outer IPv6 header") : _("outer IPv4 header"));
    if (ip6 && s->encaplimit != GRE_ENCAPLIMIT_NONE)
        mtu = take(explain, mtu, 8, _("IPv6 tunnel encapsulation limit option"));
    mtu = take(explain, mtu, 4, _("GRE header"));
    if (s->csum)
        mtu = take(explain, mtu, 4, _("GRE checksum"));
    if (s->has_okey)
        mtu = take(explain, mtu, 4, _("GRE key"));
    else if (s->has_ikey)
        mtu = take(explain, mtu, 4, _("GRE key the peer sends (same MTU at both ends)"));
    if (s->seq)
        mtu = take(explain, mtu, 4, _("GRE sequence number"));
    if (mtu)
        say(explain, _("%6u           tunnel MTU"), mtu);
    return mtu;
}
