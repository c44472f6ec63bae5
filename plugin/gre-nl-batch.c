/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-nl-batch.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/netlink.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>

#include "gre-i18n.h"
#include "gre-kernel-env.h"

/* Answers to a batch of at most a few dozen requests: acknowledgements of ~40 bytes (the request
 * is not echoed, NETLINK_CAP_ACK), answers to GETSA or GETPOLICY, each well under 1 KiB, and to
 * GETLINK (`down`'s probes; without the virtual functions, 1-2 KiB). */
#define RECV_SIZE 8192
#define RECV_BUFS 16

typedef struct {
    struct nl_msg  *msg;
    GreNlBatchReply reply;
    void           *arg;
    GreNlResult     result;
} Request;

struct _GreNlBatch {
    int      fd;
    guint32  port;
    guint32 *seq;
    guint32  first_seq;
    GArray  *requests; /* of Request */
    guint    answered;
};

GreNlBatch *
gre_nl_batch_new(int fd, guint32 port, guint32 *seq)
{
    GreNlBatch *b = g_new0(GreNlBatch, 1);

    b->fd        = fd;
    b->port      = port;
    b->seq       = seq;
    b->first_seq = *seq;
    b->requests  = g_array_new(FALSE, TRUE, sizeof(Request));
    return b;
}

void
gre_nl_batch_free(GreNlBatch *b)
{
    if (!b)
        return;
    for (guint i = 0; i < b->requests->len; i++)
        gre_nl_msg_free_wiped(g_array_index(b->requests, Request, i).msg);
    g_array_unref(b->requests);
    g_free(b);
}

guint
gre_nl_batch_add(GreNlBatch *b, struct nl_msg *msg, GreNlBatchReply reply, void *arg)
{
    struct nlmsghdr *hdr = nlmsg_hdr(msg);
    Request          r   = { msg, reply, arg, { 0 } };

    hdr->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    hdr->nlmsg_seq = (*b->seq)++;
    hdr->nlmsg_pid = b->port;
    g_array_append_val(b->requests, r);
    return b->requests->len - 1;
}

guint
gre_nl_batch_len(const GreNlBatch *b)
{
    return b->requests->len;
}

gboolean
gre_nl_batch_complete(const GreNlBatch *b)
{
    return b->answered == b->requests->len;
}

const GreNlResult *
gre_nl_batch_result(const GreNlBatch *b, guint i)
{
    g_return_val_if_fail(i < b->requests->len, NULL);
    return &g_array_index(b->requests, Request, i).result;
}

char *
gre_nl_result_text(const GreNlResult *r)
{
    if (!r->answered)
        return g_strdup(_("no answer from the kernel"));
    if (r->extack[0])
        return g_strdup_printf("%s (%s)", g_strerror(r->kerrno), r->extack);
    return g_strdup(g_strerror(r->kerrno));
}

static void
take_error(GreNlResult *res, const struct nlmsghdr *hdr)
{
    const struct nlmsgerr *e = NLMSG_DATA(hdr);

    res->kerrno    = -e->error;
    res->extack[0] = '\0';
    /* With NETLINK_CAP_ACK the request is not echoed, so the TLVs follow the nlmsgerr. */
    if (e->error && (hdr->nlmsg_flags & NLM_F_ACK_TLVS) && (hdr->nlmsg_flags & NLM_F_CAPPED)) {
        struct nlattr *a   = (struct nlattr *)((char *)e + sizeof *e);
        int            rem = (int)hdr->nlmsg_len - NLMSG_HDRLEN - (int)sizeof *e;

        for (; nla_ok(a, rem); a = nla_next(a, &rem)) {
            if (nla_type(a) == NLMSGERR_ATTR_MSG)
                g_strlcpy(res->extack, nla_data(a), MIN((gsize)nla_len(a) + 1, sizeof res->extack));
        }
    }
}

void
gre_nl_batch_feed(GreNlBatch *b, const void *buf, gsize len)
{
    int              rem = (int)MIN(len, (gsize)G_MAXINT);
    struct nlmsghdr *hdr;

    for (hdr = (struct nlmsghdr *)buf; nlmsg_ok(hdr, rem); hdr = nlmsg_next(hdr, &rem)) {
        guint32  i = hdr->nlmsg_seq - b->first_seq; /* wraps to a large number below first */
        Request *r;

        if (i >= b->requests->len)
            continue; /* not ours: an answer to an earlier request that gave up, or a notice */
        r = &g_array_index(b->requests, Request, i);
        if (r->result.answered)
            continue;
        if (hdr->nlmsg_type == NLMSG_ERROR) {
            if (hdr->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
                continue; /* cut short: never from a kernel */
            take_error(&r->result, hdr);
            r->result.answered = TRUE;
            b->answered++;
        } else if (hdr->nlmsg_type != NLMSG_DONE && r->reply)
            r->reply(hdr, r->arg);
    }
}

static int
send_all(GreNlBatch *b)
{
    static const guint8      pad[NLMSG_ALIGNTO] = { 0 };
    g_autofree struct iovec *iov                = g_new0(struct iovec, 2 * b->requests->len);
    struct sockaddr_nl       kernel             = { .nl_family = AF_NETLINK };
    struct msghdr            mh                 = { 0 };
    guint                    n                  = 0;
    int                      domain             = 0;
    socklen_t                len                = sizeof domain;
    ssize_t                  sent;

    /* Addressed to the kernel, as libnl does it (tools such as strace decode the messages only
     * then); the fake kernel of the tests is a socket pair, which takes no address. */
    if (getsockopt(b->fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 && domain == AF_NETLINK) {
        mh.msg_name    = &kernel;
        mh.msg_namelen = sizeof kernel;
    }

    for (guint i = 0; i < b->requests->len; i++) {
        struct nlmsghdr *hdr = nlmsg_hdr(g_array_index(b->requests, Request, i).msg);

        iov[n++] = (struct iovec){ hdr, hdr->nlmsg_len };
        /* The kernel finds the next message at the aligned end of this one. */
        if (NLMSG_ALIGN(hdr->nlmsg_len) != hdr->nlmsg_len)
            iov[n++] = (struct iovec){ (void *)pad, NLMSG_ALIGN(hdr->nlmsg_len) - hdr->nlmsg_len };
    }
    mh.msg_iov    = iov;
    mh.msg_iovlen = n;
    do
        sent = sendmsg(b->fd, &mh, 0);
    while (sent < 0 && errno == EINTR);
    return sent < 0 ? -nl_syserr2nlerr(errno) : 0;
}

int
gre_nl_batch_run(GreNlBatch *b)
{
    guint              nbufs = MIN(RECV_BUFS, 2 * b->requests->len);
    g_autofree guint8 *bufs  = NULL;
    struct mmsghdr     mm[RECV_BUFS];
    struct iovec       iov[RECV_BUFS];
    int                err;

    if (!b->requests->len)
        return 0;
    if ((err = send_all(b)) < 0)
        return err;
    bufs = g_malloc(nbufs * RECV_SIZE);
    while (!gre_nl_batch_complete(b) && err >= 0) {
        int got;

        for (guint i = 0; i < nbufs; i++) {
            iov[i] = (struct iovec){ bufs + i * RECV_SIZE, RECV_SIZE };
            mm[i]  = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
        }
        /* Blocks for the first datagram only, then takes what is queued. */
        got = recvmmsg(b->fd, mm, nbufs, MSG_WAITFORONE, NULL);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            err = -nl_syserr2nlerr(errno);
            break;
        }

        for (int i = 0; i < got; i++) {
            if (mm[i].msg_hdr.msg_flags & MSG_TRUNC)
                err = -NLE_MSG_TRUNC;
            /* End of file: never from the kernel, but a socket pair's other end may close. */
            if (mm[i].msg_len == 0)
                err = -NLE_BAD_SOCK;
            gre_nl_batch_feed(b, iov[i].iov_base, mm[i].msg_len);
            explicit_bzero(iov[i].iov_base, MIN(mm[i].msg_len, RECV_SIZE));
        }
    }
    return err;
}
