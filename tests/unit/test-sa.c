/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ESP SA messages without a kernel: what NEWSA carries (the flag oseq-may-wrap on outbound SAs
 * only), that the buffer holding the keys is wiped, and how a GETSA answer is read and judged. */
#include <string.h>
#include <arpa/inet.h>

#include "gre-apply-private.h"
#include "gre-settings.h"
#include "gre-suite.h"
#include "test-util.h"

static const guint8 ENC_KEY[16]  = { 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8,
                                     0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef, 0xe0 };
static const guint8 AUTH_KEY[32] = { 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8,
                                     0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0xa0,
                                     0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8,
                                     0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf, 0xb0 };

static GrePlanState
state(gboolean outbound)
{
    GrePlanState st = { 0 };

    g_assert_true(gre_addr_parse(outbound ? "192.0.2.1" : "192.0.2.2", AF_UNSPEC, &st.src));
    g_assert_true(gre_addr_parse(outbound ? "192.0.2.2" : "192.0.2.1", AF_UNSPEC, &st.dst));
    st.spi           = outbound ? 0x1002 : 0x1001;
    st.reqid         = st.spi;
    st.suite         = gre_suite_lookup("aes128-sha256");
    st.enc_key       = gre_secret_new(ENC_KEY, sizeof ENC_KEY);
    st.auth_key      = gre_secret_new(AUTH_KEY, sizeof AUTH_KEY);
    st.oseq_may_wrap = outbound;
    g_assert_nonnull(st.suite);
    return st;
}

static void
state_clear(GrePlanState *st)
{
    g_bytes_unref(st->enc_key);
    g_bytes_unref(st->auth_key);
}

static void
parse_attrs(struct nl_msg *msg, struct nlattr **attrs)
{
    g_assert_cmpint(
        nlmsg_parse(nlmsg_hdr(msg), sizeof(struct xfrm_usersa_info), attrs, XFRMA_MAX, NULL), ==,
        0);
}

static void
test_add_outbound(void)
{
    GrePlanState             st  = state(TRUE);
    struct nl_msg           *msg = apply_sa_add_msg(&st, 0);
    struct nlattr           *attrs[XFRMA_MAX + 1];
    struct xfrm_usersa_info *info;
    struct xfrm_algo_auth   *auth;
    struct xfrm_algo        *enc;

    g_assert_nonnull(msg);
    g_assert_cmpuint(nlmsg_hdr(msg)->nlmsg_type, ==, XFRM_MSG_NEWSA);
    g_assert_cmpuint(nlmsg_hdr(msg)->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL), ==,
                     NLM_F_CREATE | NLM_F_EXCL);
    info = nlmsg_data(nlmsg_hdr(msg));
    g_assert_cmphex(info->id.spi, ==, htonl(0x1002));
    g_assert_cmpuint(info->id.proto, ==, IPPROTO_ESP);
    g_assert_cmpuint(info->family, ==, AF_INET);
    g_assert_cmpuint(info->mode, ==, XFRM_MODE_TRANSPORT);
    g_assert_cmpuint(info->reqid, ==, 0x1002);
    g_assert_cmpuint(info->replay_window, ==, 0);
    g_assert_true(info->lft.hard_packet_limit == XFRM_INF && info->lft.soft_byte_limit == XFRM_INF);

    parse_attrs(msg, attrs);
    g_assert_nonnull(attrs[XFRMA_SA_EXTRA_FLAGS]);
    g_assert_cmphex(nla_get_u32(attrs[XFRMA_SA_EXTRA_FLAGS]), ==, XFRM_SA_XFLAG_OSEQ_MAY_WRAP);
    g_assert_null(attrs[XFRMA_REPLAY_VAL]);
    g_assert_null(attrs[XFRMA_ALG_AEAD]);
    enc = nla_data(attrs[XFRMA_ALG_CRYPT]);
    g_assert_cmpstr(enc->alg_name, ==, "cbc(aes)");
    g_assert_cmpuint(enc->alg_key_len, ==, 128);
    g_assert_cmpmem(enc->alg_key, 16, ENC_KEY, 16);
    auth = nla_data(attrs[XFRMA_ALG_AUTH_TRUNC]);
    g_assert_cmpstr(auth->alg_name, ==, "hmac(sha256)");
    g_assert_cmpuint(auth->alg_key_len, ==, 256);
    g_assert_cmpuint(auth->alg_trunc_len, ==, 128);
    g_assert_cmpmem(auth->alg_key, 32, AUTH_KEY, 32);

    gre_nl_msg_free_wiped(msg);
    state_clear(&st);
}

static void
test_add_inbound_and_counter(void)
{
    GrePlanState              st  = state(FALSE);
    struct nl_msg            *msg = apply_sa_add_msg(&st, 0xfffffff0);
    struct nlattr            *attrs[XFRMA_MAX + 1];
    struct xfrm_replay_state *rs;

    g_assert_nonnull(msg);
    parse_attrs(msg, attrs);
    /* Inbound SAs never send: no flag. */
    g_assert_null(attrs[XFRMA_SA_EXTRA_FLAGS]);
    rs = nla_data(attrs[XFRMA_REPLAY_VAL]);
    g_assert_cmphex(rs->oseq, ==, 0xfffffff0);
    gre_nl_msg_free_wiped(msg);
    state_clear(&st);
}

static void
test_wipe(void)
{
    GrePlanState   st   = state(TRUE);
    struct nl_msg *msg  = apply_sa_add_msg(&st, 0);
    guint8        *buf  = (guint8 *)nlmsg_hdr(msg);
    gsize          size = nlmsg_get_max_size(msg);

    /* The keys are in the buffer that goes to the kernel... */
    g_assert_nonnull(memmem(buf, size, ENC_KEY, sizeof ENC_KEY));
    g_assert_nonnull(memmem(buf, size, AUTH_KEY, sizeof AUTH_KEY));
    /* ...and the whole buffer, not only what was written, is zero after the wipe. */
    gre_nl_msg_wipe(msg);
    for (gsize i = 0; i < size; i++) {
        if (buf[i])
            g_error("byte %zu of %zu not wiped", i, size);
    }
    nlmsg_free(msg);
    state_clear(&st);
}

/*
 * An XFRM_MSG_NEWSA message as the kernel answers GETSA (xfrm_user.c copy_to_user_state_extra:
 * the algorithms with their keys, XFRMA_SA_EXTRA_FLAGS when not 0, XFRMA_REPLAY_VAL), here with
 * dummy keys, laid out byte by byte as the kernel sends it.
 */
/* An algorithm attribute: its fixed part, then a key whose first byte is @mark (the rest zero). */
static void
append_algo(GByteArray *b, guint16 type, const void *head, gsize head_len, guint8 mark,
            gsize key_len)
{
    struct nlattr a       = { (guint16)(NLA_HDRLEN + head_len + key_len), type };
    guint8        key[64] = { mark };

    g_assert_cmpuint(key_len, <=, sizeof key);
    g_assert_cmpuint(a.nla_len % 4, ==, 0);
    g_byte_array_append(b, (guint8 *)&a, sizeof a);
    g_byte_array_append(b, head, head_len);
    g_byte_array_append(b, key, key_len);
}

static struct nlmsghdr *
kernel_answer(guint32 extra_flags, gboolean with_replay, guint32 oseq, GByteArray **keep)
{
    GByteArray             *b    = g_byte_array_new();
    struct nlmsghdr         h    = { 0 };
    struct xfrm_usersa_info info = { 0 };
    struct xfrm_algo_auth   auth = { "hmac(sha256)", 256, 128 };
    struct xfrm_algo        enc  = { "cbc(aes)", 128 };
    struct {
        struct nlattr a;
        guint32       v;
    } xf = { { sizeof xf, XFRMA_SA_EXTRA_FLAGS }, extra_flags };
    struct {
        struct nlattr            a;
        struct xfrm_replay_state r;
    } rp = { { sizeof rp, XFRMA_REPLAY_VAL }, { oseq, 0, 0 } };

    h.nlmsg_type        = XFRM_MSG_NEWSA;
    info.saddr.a4       = htonl(0xc0000201); /* 192.0.2.1 */
    info.id.daddr.a4    = htonl(0xc0000202);
    info.id.spi         = htonl(0x1002);
    info.id.proto       = IPPROTO_ESP;
    info.family         = AF_INET;
    info.mode           = XFRM_MODE_TRANSPORT;
    info.reqid          = 4098;
    info.curlft.bytes   = 1234;
    info.curlft.packets = 7;
    g_byte_array_append(b, (guint8 *)&h, sizeof h);
    g_byte_array_append(b, (guint8 *)&info, NLMSG_ALIGN(sizeof info));
    append_algo(b, XFRMA_ALG_AUTH_TRUNC, &auth, sizeof auth, 0x55, 32);
    append_algo(b, XFRMA_ALG_CRYPT, &enc, sizeof enc, 0x66, 16);
    if (extra_flags)
        g_byte_array_append(b, (guint8 *)&xf, sizeof xf);
    if (with_replay)
        g_byte_array_append(b, (guint8 *)&rp, sizeof rp);
    ((struct nlmsghdr *)b->data)->nlmsg_len = b->len;
    *keep                                   = b;
    return (struct nlmsghdr *)b->data;
}

static void
test_parse(void)
{
    g_autoptr(GByteArray) b = NULL;
    struct nlmsghdr *h      = kernel_answer(XFRM_SA_XFLAG_OSEQ_MAY_WRAP, TRUE, 41, &b);
    GreAddr          src;
    SaInfo           sa;

    g_assert_true(apply_sa_parse(h, &sa));
    g_assert_true(gre_addr_parse("192.0.2.1", AF_UNSPEC, &src));
    g_assert_true(gre_addr_equal(&sa.saddr, &src));
    g_assert_cmpuint(sa.mode, ==, XFRM_MODE_TRANSPORT);
    g_assert_cmpuint(sa.reqid, ==, 4098);
    g_assert_cmpstr(sa.alg, ==, "cbc(aes)");
    g_assert_cmphex(sa.extra_flags, ==, XFRM_SA_XFLAG_OSEQ_MAY_WRAP);
    g_assert_true(sa.has_replay);
    g_assert_cmpuint(sa.oseq, ==, 41);
    g_assert_cmpuint(sa.bytes, ==, 1234);
    g_assert_cmpuint(sa.packets, ==, 7);

    /* Anything but a NEWSA, or one cut short, is not read as an SA. */
    h->nlmsg_type = XFRM_MSG_NEWPOLICY;
    g_assert_false(apply_sa_parse(h, &sa));
    h->nlmsg_type = XFRM_MSG_NEWSA;
    h->nlmsg_len  = NLMSG_HDRLEN + 8;
    g_assert_false(apply_sa_parse(h, &sa));
}

static WrapVerdict
verdict_of(guint32 extra_flags, gboolean with_replay, guint32 oseq)
{
    g_autoptr(GByteArray) b = NULL;
    struct nlmsghdr *h      = kernel_answer(extra_flags, with_replay, oseq, &b);
    SaInfo           sa;

    g_assert_true(apply_sa_parse(h, &sa));
    sa.found = TRUE;
    return apply_wrap_verdict(&sa);
}

static void
test_verdict(void)
{
    SaInfo none = { 0 };

    /* Probe SA at 2^32-2, two packets: 0 means it wrapped. */
    g_assert_cmpint(verdict_of(XFRM_SA_XFLAG_OSEQ_MAY_WRAP, TRUE, 0), ==, WRAP_HONOURED);
    /* Stopped at 2^32-1: the bit is stored and reported, but not acted on (3.15 to 5.8). */
    g_assert_cmpint(verdict_of(XFRM_SA_XFLAG_OSEQ_MAY_WRAP, TRUE, 0xffffffff), ==, WRAP_IGNORED);
    /* No packet reached the SA: no answer either way. */
    g_assert_cmpint(verdict_of(XFRM_SA_XFLAG_OSEQ_MAY_WRAP, TRUE, 0xfffffffe), ==,
                    WRAP_INCONCLUSIVE);
    g_assert_cmpint(verdict_of(XFRM_SA_XFLAG_OSEQ_MAY_WRAP, FALSE, 0), ==, WRAP_INCONCLUSIVE);
    /* The attribute or the bit dropped (before 3.15; or another bit only). */
    g_assert_cmpint(verdict_of(0, TRUE, 0), ==, WRAP_NOT_STORED);
    g_assert_cmpint(verdict_of(XFRM_SA_XFLAG_DONT_ENCAP_DSCP, TRUE, 0), ==, WRAP_NOT_STORED);
    g_assert_cmpint(apply_wrap_verdict(&none), ==, WRAP_INCONCLUSIVE);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sa/add-outbound", test_add_outbound);
    g_test_add_func("/sa/add-inbound-and-counter", test_add_inbound_and_counter);
    g_test_add_func("/sa/wipe", test_wipe);
    g_test_add_func("/sa/parse", test_parse);
    g_test_add_func("/sa/verdict", test_verdict);
    return g_test_run();
}
