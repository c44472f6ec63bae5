/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-apply-private.h"

#include <string.h>
#include <arpa/inet.h>

/*
 * ESP SAs as netlink messages built and parsed here rather than through libnl's xfrmnl_sa:
 * libnl 3.7 cannot send XFRMA_SA_EXTRA_FLAGS, and an xfrmnl_sa keeps its own copies of the keys,
 * which xfrmnl_sa_put() frees without wiping. Every buffer that holds keys on these paths is ours
 * and is wiped (see gre_nl_transact_wiped()).
 */

static void
xfrm_address(const GreAddr *a, xfrm_address_t *out)
{
    memset(out, 0, sizeof *out);
    if (a->family == AF_INET)
        memcpy(&out->a4, &a->u.v4, 4);
    else
        memcpy(out->a6, &a->u.v6, 16);
}

static GreAddr
from_xfrm_address(const xfrm_address_t *x, int family)
{
    GreAddr a = { 0 };

    a.family = family;
    if (family == AF_INET)
        memcpy(&a.u.v4, &x->a4, 4);
    else if (family == AF_INET6)
        memcpy(&a.u.v6, x->a6, 16);
    else
        a.family = AF_UNSPEC;
    return a;
}

/* Reserves an attribute of @len bytes, zeroed; the key is then copied straight into the
 * message, with no other copy on the way. */
static void *
reserve(struct nl_msg *msg, int type, gsize len)
{
    struct nlattr *nla = nla_reserve(msg, type, (int)len);

    if (!nla)
        return NULL;
    memset(nla_data(nla), 0, len);
    return nla_data(nla);
}

static gboolean
put_algs(struct nl_msg *msg, const GrePlanState *st)
{
    gsize         elen;
    const guint8 *ekey = g_bytes_get_data(st->enc_key, &elen);

    if (st->suite->aead) {
        struct xfrm_algo_aead *a = reserve(msg, XFRMA_ALG_AEAD, sizeof *a + elen);

        if (!a)
            return FALSE;
        g_strlcpy(a->alg_name, st->suite->aead, sizeof a->alg_name);
        a->alg_key_len = elen * 8;
        a->alg_icv_len = st->suite->icv_len * 8;
        memcpy(a->alg_key, ekey, elen);
    } else {
        gsize                  alen;
        const guint8          *akey = g_bytes_get_data(st->auth_key, &alen);
        struct xfrm_algo      *e    = reserve(msg, XFRMA_ALG_CRYPT, sizeof *e + elen);
        struct xfrm_algo_auth *h;

        if (!e)
            return FALSE;
        g_strlcpy(e->alg_name, st->suite->enc, sizeof e->alg_name);
        e->alg_key_len = elen * 8;
        memcpy(e->alg_key, ekey, elen);
        /* A truncation length is always sent: without it the kernel would use 96 bits for
         * hmac(sha256) instead of RFC 4868's 128. */
        if (!(h = reserve(msg, XFRMA_ALG_AUTH_TRUNC, sizeof *h + alen)))
            return FALSE;
        g_strlcpy(h->alg_name, st->suite->auth, sizeof h->alg_name);
        h->alg_key_len   = alen * 8;
        h->alg_trunc_len = st->suite->icv_len * 8;
        memcpy(h->alg_key, akey, alen);
    }
    return TRUE;
}

struct nl_msg *
apply_sa_add_msg(const GrePlanState *st, guint32 oseq)
{
    struct nl_msg          *msg  = nlmsg_alloc_simple(XFRM_MSG_NEWSA, NLM_F_CREATE | NLM_F_EXCL);
    struct xfrm_usersa_info info = { 0 };

    if (!msg)
        return NULL;
    xfrm_address(&st->dst, &info.id.daddr);
    info.id.spi   = htonl(st->spi);
    info.id.proto = IPPROTO_ESP;
    xfrm_address(&st->src, &info.saddr);
    info.family = st->src.family;
    info.mode   = XFRM_MODE_TRANSPORT;
    info.reqid  = st->reqid;
    /* Replay window 0, as `ip xfrm state add` makes it: with manual keys a peer that restarts
     * begins again at sequence number 1, which a replay window would drop. */
    info.replay_window = 0;
    /* Byte and packet limits of 0 would mean "expire at once": no limits, as `ip xfrm` does. */
    info.lft.soft_byte_limit = info.lft.hard_byte_limit = XFRM_INF;
    info.lft.soft_packet_limit = info.lft.hard_packet_limit = XFRM_INF;
    if (nlmsg_append(msg, &info, sizeof info, NLMSG_ALIGNTO) < 0 || !put_algs(msg, st) ||
        (st->oseq_may_wrap &&
         nla_put_u32(msg, XFRMA_SA_EXTRA_FLAGS, XFRM_SA_XFLAG_OSEQ_MAY_WRAP) < 0))
        goto fail;
    if (oseq) {
        struct xfrm_replay_state rs = { .oseq = oseq };

        if (nla_put(msg, XFRMA_REPLAY_VAL, sizeof rs, &rs) < 0)
            goto fail;
    }
    return msg;

fail:
    gre_nl_msg_free_wiped(msg);
    return NULL;
}

struct nl_msg *
apply_sa_get_msg(const GreAddr *dst, guint32 spi)
{
    struct nl_msg        *msg = nlmsg_alloc_simple(XFRM_MSG_GETSA, 0);
    struct xfrm_usersa_id id  = { 0 };

    if (!msg)
        return NULL;
    xfrm_address(dst, &id.daddr);
    id.spi    = htonl(spi);
    id.family = dst->family;
    id.proto  = IPPROTO_ESP;
    if (nlmsg_append(msg, &id, sizeof id, NLMSG_ALIGNTO) < 0) {
        nlmsg_free(msg);
        return NULL;
    }
    return msg;
}

/* Reads what we need of an XFRM_MSG_NEWSA message (the answer to GETSA) and nothing else: the
 * keys it carries are left where they are, in a buffer that the caller wipes. */
gboolean
apply_sa_parse(const struct nlmsghdr *hdr, SaInfo *out)
{
    const struct xfrm_usersa_info *info;
    struct nlattr                 *attrs[XFRMA_MAX + 1];

    memset(out, 0, sizeof *out);
    if (hdr->nlmsg_type != XFRM_MSG_NEWSA || !nlmsg_valid_hdr(hdr, sizeof *info) ||
        nlmsg_parse((struct nlmsghdr *)hdr, sizeof *info, attrs, XFRMA_MAX, NULL) < 0)
        return FALSE;
    info                  = nlmsg_data(hdr);
    out->saddr            = from_xfrm_address(&info->saddr, info->family);
    out->mode             = info->mode;
    out->reqid            = info->reqid;
    out->bytes            = info->curlft.bytes;
    out->packets          = info->curlft.packets;
    out->integrity_failed = info->stats.integrity_failed;
    if (attrs[XFRMA_ALG_AEAD] &&
        nla_len(attrs[XFRMA_ALG_AEAD]) >= (int)sizeof(struct xfrm_algo_aead))
        g_strlcpy(out->alg, ((struct xfrm_algo_aead *)nla_data(attrs[XFRMA_ALG_AEAD]))->alg_name,
                  sizeof out->alg);
    else if (attrs[XFRMA_ALG_CRYPT] &&
             nla_len(attrs[XFRMA_ALG_CRYPT]) >= (int)sizeof(struct xfrm_algo))
        g_strlcpy(out->alg, ((struct xfrm_algo *)nla_data(attrs[XFRMA_ALG_CRYPT]))->alg_name,
                  sizeof out->alg);
    if (attrs[XFRMA_SA_EXTRA_FLAGS] && nla_len(attrs[XFRMA_SA_EXTRA_FLAGS]) >= 4)
        out->extra_flags = nla_get_u32(attrs[XFRMA_SA_EXTRA_FLAGS]);
    if (attrs[XFRMA_REPLAY_VAL] &&
        nla_len(attrs[XFRMA_REPLAY_VAL]) >= (int)sizeof(struct xfrm_replay_state)) {
        out->has_replay = TRUE;
        out->oseq       = ((struct xfrm_replay_state *)nla_data(attrs[XFRMA_REPLAY_VAL]))->oseq;
    }
    return TRUE;
}

static void
on_sa(const struct nlmsghdr *hdr, void *arg)
{
    SaInfo *info = arg;

    if (!info->found && apply_sa_parse(hdr, info))
        info->found = TRUE;
}

int
apply_sa_get(GreNl *nl, const GreAddr *dst, guint32 spi, SaInfo *out)
{
    struct nl_msg *msg = apply_sa_get_msg(dst, spi);
    int            err;

    memset(out, 0, sizeof *out);
    if (!msg)
        return -NLE_NOMEM;
    err = gre_nl_transact_wiped(nl, msg, on_sa, out);
    if (err >= 0 && !out->found)
        err = -NLE_PARSE_ERR;
    return err;
}

int
apply_sa_add(GreNl *nl, const GrePlanState *st, guint32 oseq)
{
    struct nl_msg *msg = apply_sa_add_msg(st, oseq);

    if (!msg)
        return -NLE_NOMEM;
    return gre_nl_transact_wiped(nl, msg, NULL, NULL);
}
