/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

/*
 * Several netlink requests sent at once, their acknowledgements collected after. The kernel
 * handles the messages of one sendmsg() in order, each to the end, and acknowledges each one
 * (NLM_F_ACK) whether it failed or not: a failed request does not stop the ones after it. So
 * the answer to a batch is one result per request, matched by sequence number, and the caller
 * knows exactly which requests took effect, the failed one's successors included.
 *
 * Every buffer that held a request or an answer is wiped before it is freed: requests may carry
 * keys (XFRM_MSG_NEWSA), and answers to XFRM_MSG_GETSA always do.
 */

struct nl_msg;
struct nlmsghdr;

typedef void (*GreNlBatchReply)(const struct nlmsghdr *hdr, void *arg);

typedef struct {
    gboolean answered;    /* its acknowledgement (or error) arrived */
    int      kerrno;      /* the kernel's errno for it; 0: it took effect */
    char     extack[256]; /* the kernel's text for the error, "" if none */
} GreNlResult;

typedef struct _GreNlBatch GreNlBatch;

/* Requests go out on @fd from netlink port @port, numbered from *@seq on (advanced by one per
 * request added), so that numbers never repeat on one socket. */
GreNlBatch *gre_nl_batch_new(int fd, guint32 port, guint32 *seq);
void        gre_nl_batch_free(GreNlBatch *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GreNlBatch, gre_nl_batch_free)

/* Adds @msg (consumed, wiped) with NLM_F_REQUEST | NLM_F_ACK; @reply (may be NULL) is given
 * every answer to it that is not the acknowledgement. Returns the request's index. */
guint gre_nl_batch_add(GreNlBatch *b, struct nl_msg *msg, GreNlBatchReply reply, void *arg);
guint gre_nl_batch_len(const GreNlBatch *b);

/* Sends every request in one sendmsg() and reads the answers (several per recvmmsg()) until
 * each request is answered. Returns 0, or a negative libnl error when the socket failed: then
 * the requests without an answer may or may not have taken effect. */
int gre_nl_batch_run(GreNlBatch *b);

/* The answers in one datagram, as received (what gre_nl_batch_run() does with each; public for
 * tests). Messages with a sequence number not of this batch are ignored. */
void gre_nl_batch_feed(GreNlBatch *b, const void *buf, gsize len);
/* Whether every request has its acknowledgement. */
gboolean           gre_nl_batch_complete(const GreNlBatch *b);
const GreNlResult *gre_nl_batch_result(const GreNlBatch *b, guint i);
/* "File exists", or "File exists (the kernel's text)"; for an unanswered request, a text that
 * says so. */
char *gre_nl_result_text(const GreNlResult *r);
