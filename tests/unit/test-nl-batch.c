/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Batched netlink requests against a fake kernel on a socket pair: what goes out (every request
 * numbered and asking for an acknowledgement, in one datagram), and how the answers are matched
 * to the requests, whatever their order and grouping: errors with the kernel's text, replies
 * before the acknowledgement, strangers ignored, a socket that goes away. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>

#include "gre-nl-batch.h"
#include "test-util.h"

#define FIRST_SEQ 0x80001000u
#define TYPE_BASE 0x100 /* the requests' types: TYPE_BASE + index */

typedef struct {
    int      fd;
    gboolean close_early; /* leave the last request unanswered and close */
    guint    nreq;        /* what arrived */
    guint32  seq[8];
    guint16  type[8];
    guint16  flags[8];
    gboolean one_datagram;
} Fake;

/* Appends an NLMSG_ERROR for @seq to @buf: @error 0 is an acknowledgement. With @text, the
 * kernel's extended ack (NETLINK_CAP_ACK: the request is not echoed). */
static void
put_ack(GByteArray *buf, guint32 seq, int error, const char *text)
{
    struct nlmsghdr     hdr     = { 0 };
    struct nlmsgerr     e       = { 0 };
    gsize               tlen    = text ? strlen(text) + 1 : 0;
    struct nlattr       a       = { 0 };
    static const guint8 zero[4] = { 0 };

    hdr.nlmsg_type  = NLMSG_ERROR;
    hdr.nlmsg_seq   = seq;
    hdr.nlmsg_flags = NLM_F_CAPPED | (text ? NLM_F_ACK_TLVS : 0);
    hdr.nlmsg_len   = NLMSG_LENGTH(sizeof e) + (text ? NLA_ALIGN(NLA_HDRLEN + tlen) : 0);
    e.error         = -error;
    e.msg.nlmsg_seq = seq;
    g_byte_array_append(buf, (guint8 *)&hdr, sizeof hdr);
    g_byte_array_append(buf, (guint8 *)&e, sizeof e);
    if (text) {
        a.nla_type = NLMSGERR_ATTR_MSG;
        a.nla_len  = NLA_HDRLEN + tlen;
        g_byte_array_append(buf, (guint8 *)&a, sizeof a);
        g_byte_array_append(buf, (const guint8 *)text, tlen);
        g_byte_array_append(buf, zero, NLA_ALIGN(tlen) - tlen);
    }
}

/* A reply that is not an acknowledgement (like the answer to a GET), 4 bytes of payload. */
static void
put_reply(GByteArray *buf, guint32 seq, guint32 payload)
{
    struct nlmsghdr hdr = { .nlmsg_len = NLMSG_LENGTH(4), .nlmsg_type = 0x42, .nlmsg_seq = seq };

    g_byte_array_append(buf, (guint8 *)&hdr, sizeof hdr);
    g_byte_array_append(buf, (guint8 *)&payload, 4);
}

static void
send_buf(int fd, GByteArray *buf)
{
    g_assert_cmpint(send(fd, buf->data, buf->len, 0), ==, (gssize)buf->len);
    g_byte_array_set_size(buf, 0);
}

static gpointer
fake_kernel(gpointer data)
{
    Fake              *f      = data;
    g_autofree guint8 *in     = g_malloc(65536);
    g_autoptr(GByteArray) out = g_byte_array_new();
    gssize n                  = recv(f->fd, in, 65536, 0);
    int    rem                = (int)n;

    g_assert_cmpint(n, >, 0);
    f->one_datagram = TRUE;
    for (struct nlmsghdr *h = (struct nlmsghdr *)in; nlmsg_ok(h, rem); h = nlmsg_next(h, &rem)) {
        f->seq[f->nreq]   = h->nlmsg_seq;
        f->type[f->nreq]  = h->nlmsg_type;
        f->flags[f->nreq] = h->nlmsg_flags;
        f->nreq++;
    }
    g_assert_cmpint(rem, ==, 0); /* every byte was part of a message */
    /* Out of order and grouped as it comes: request 3's ack first, alone; a stranger; the reply
     * to 2 and acks of 0 and 1 (an error with the kernel's text) in one datagram; 2's ack. */
    if (!f->close_early) {
        put_ack(out, FIRST_SEQ + 3, 0, NULL);
        send_buf(f->fd, out);
    }
    put_ack(out, FIRST_SEQ - 7, EPERM, NULL); /* an answer to somebody else's request */
    put_reply(out, FIRST_SEQ + 2, 0xfeedf00d);
    put_ack(out, FIRST_SEQ + 0, 0, NULL);
    put_ack(out, FIRST_SEQ + 1, EEXIST, "Policy already exists");
    send_buf(f->fd, out);
    put_ack(out, FIRST_SEQ + 2, 0, NULL);
    put_ack(out, FIRST_SEQ + 2, ENOENT, NULL); /* a second answer to 2: ignored */
    send_buf(f->fd, out);
    if (f->close_early)
        close(f->fd);
    return NULL;
}

typedef struct {
    guint   calls;
    guint32 payload;
} Replies;

static void
on_reply(const struct nlmsghdr *hdr, void *arg)
{
    Replies *r = arg;

    r->calls++;
    memcpy(&r->payload, NLMSG_DATA(hdr), 4);
}

static GreNlBatch *
batch_of_four(int fd, guint32 *seq, Replies *replies)
{
    GreNlBatch *b = gre_nl_batch_new(fd, 4242, seq);

    for (guint i = 0; i < 4; i++) {
        struct nl_msg *msg = nlmsg_alloc_simple(TYPE_BASE + i, 0);

        /* Lengths that are and are not multiples of 4: the kernel finds each message at the
         * aligned end of the one before. */
        g_assert_cmpint(nlmsg_append(msg, "abcdefg", i == 1 ? 7 : 8, i == 1 ? 0 : NLMSG_ALIGNTO),
                        ==, 0);
        g_assert_cmpuint(gre_nl_batch_add(b, msg, i == 2 ? on_reply : NULL, replies), ==, i);
    }
    return b;
}

static void
test_answers(void)
{
    int      sv[2];
    guint32  seq     = FIRST_SEQ;
    Replies  replies = { 0 };
    Fake     fake    = { 0 };
    GThread *kernel;
    g_autoptr(GreNlBatch) b = NULL;
    g_autofree char *text   = NULL;

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), ==, 0);
    fake.fd = sv[1];
    b       = batch_of_four(sv[0], &seq, &replies);
    g_assert_cmpuint(seq, ==, FIRST_SEQ + 4);
    g_assert_cmpuint(gre_nl_batch_len(b), ==, 4);
    kernel = g_thread_new("fake-kernel", fake_kernel, &fake);
    g_assert_cmpint(gre_nl_batch_run(b), ==, 0);
    g_thread_join(kernel);

    /* What went out: the four requests in one datagram, in order, numbered, asking for acks. */
    g_assert_cmpuint(fake.nreq, ==, 4);
    for (guint i = 0; i < 4; i++) {
        g_assert_cmpuint(fake.type[i], ==, TYPE_BASE + i);
        g_assert_cmpuint(fake.seq[i], ==, FIRST_SEQ + i);
        g_assert_cmpuint(fake.flags[i] & (NLM_F_REQUEST | NLM_F_ACK), ==,
                         NLM_F_REQUEST | NLM_F_ACK);
    }
    /* What came back, each to its own request. */
    g_assert_true(gre_nl_batch_complete(b));
    g_assert_true(gre_nl_batch_result(b, 0)->answered);
    g_assert_cmpint(gre_nl_batch_result(b, 0)->kerrno, ==, 0);
    g_assert_cmpint(gre_nl_batch_result(b, 1)->kerrno, ==, EEXIST);
    g_assert_cmpstr(gre_nl_batch_result(b, 1)->extack, ==, "Policy already exists");
    text = gre_nl_result_text(gre_nl_batch_result(b, 1));
    g_assert_cmpstr(text, ==, "File exists (Policy already exists)");
    g_assert_cmpint(gre_nl_batch_result(b, 2)->kerrno, ==, 0); /* the later ENOENT ignored */
    g_assert_cmpint(gre_nl_batch_result(b, 3)->kerrno, ==, 0);
    g_assert_cmpuint(replies.calls, ==, 1);
    g_assert_cmpuint(replies.payload, ==, 0xfeedf00d);
    close(sv[0]);
}

static void
test_socket_gone(void)
{
    int      sv[2];
    guint32  seq     = FIRST_SEQ;
    Replies  replies = { 0 };
    Fake     fake    = { .close_early = TRUE };
    GThread *kernel;
    g_autoptr(GreNlBatch) b = NULL;
    g_autofree char *text   = NULL;

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), ==, 0);
    fake.fd = sv[1];
    b       = batch_of_four(sv[0], &seq, &replies);
    kernel  = g_thread_new("fake-kernel", fake_kernel, &fake);
    /* Requests 0-2 are answered, 3 never is: the run fails, and says which are known. */
    g_assert_cmpint(gre_nl_batch_run(b), <, 0);
    g_thread_join(kernel);
    g_assert_false(gre_nl_batch_complete(b));
    g_assert_true(gre_nl_batch_result(b, 0)->answered);
    g_assert_cmpint(gre_nl_batch_result(b, 1)->kerrno, ==, EEXIST);
    g_assert_true(gre_nl_batch_result(b, 2)->answered);
    g_assert_false(gre_nl_batch_result(b, 3)->answered);
    text = gre_nl_result_text(gre_nl_batch_result(b, 3));
    g_assert_cmpstr(text, ==, "no answer from the kernel");
    close(sv[0]);
}

static void
test_empty(void)
{
    guint32 seq             = 7;
    g_autoptr(GreNlBatch) b = gre_nl_batch_new(-1, 0, &seq);

    /* Nothing to send: no system call at all (the fd is not even valid). */
    g_assert_cmpint(gre_nl_batch_run(b), ==, 0);
    g_assert_true(gre_nl_batch_complete(b));
    g_assert_cmpuint(seq, ==, 7);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/nl-batch/answers", test_answers);
    g_test_add_func("/nl-batch/socket-gone", test_socket_gone);
    g_test_add_func("/nl-batch/empty", test_empty);
    return g_test_run();
}
