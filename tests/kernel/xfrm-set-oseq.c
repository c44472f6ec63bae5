/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test helper: sets the outbound sequence counter of an existing ESP SA, in place, with
 * XFRM_MSG_NEWAE (iproute2 has no command for it). The SA stays the one that was made, flags
 * and keys included, so a test can push the counter of gre-tunnel's own SA close to 2^32.
 * Usage: xfrm-set-oseq DST SPI OSEQ   (IPv4 or IPv6 DST; SPI and OSEQ decimal or 0x hex)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/xfrm.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>

int
main(int argc, char **argv)
{
    struct xfrm_aevent_id    ae = { 0 };
    struct xfrm_replay_state rs = { 0 };
    struct nl_sock          *sk;
    struct nl_msg           *msg;
    int                      err;

    if (argc != 4) {
        fprintf(stderr, "usage: %s DST SPI OSEQ\n", argv[0]);
        return 2;
    }
    if (inet_pton(AF_INET, argv[1], &ae.sa_id.daddr.a4) == 1)
        ae.sa_id.family = AF_INET;
    else if (inet_pton(AF_INET6, argv[1], ae.sa_id.daddr.a6) == 1)
        ae.sa_id.family = AF_INET6;
    else {
        fprintf(stderr, "%s: not an address\n", argv[1]);
        return 2;
    }
    ae.sa_id.spi   = htonl((unsigned)strtoul(argv[2], NULL, 0));
    ae.sa_id.proto = IPPROTO_ESP;
    rs.oseq        = (unsigned)strtoul(argv[3], NULL, 0);

    sk = nl_socket_alloc();
    if (!sk || nl_connect(sk, NETLINK_XFRM) < 0) {
        fprintf(stderr, "cannot open an XFRM netlink socket\n");
        return 1;
    }
    /* The kernel only changes an SA's counters on NEWAE with NLM_F_REPLACE. */
    msg = nlmsg_alloc_simple(XFRM_MSG_NEWAE, NLM_F_REPLACE);
    if (!msg || nlmsg_append(msg, &ae, sizeof ae, NLMSG_ALIGNTO) < 0 ||
        nla_put(msg, XFRMA_REPLAY_VAL, sizeof rs, &rs) < 0) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    err = nl_send_auto(sk, msg);
    if (err >= 0)
        err = nl_wait_for_ack(sk);
    nlmsg_free(msg);
    nl_socket_free(sk);
    if (err < 0) {
        fprintf(stderr, "XFRM_MSG_NEWAE: %s\n", nl_geterror(err));
        return 1;
    }
    return 0;
}
