/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-kernel-env.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include "gre-error.h"
#include "gre-i18n.h"
#include "gre-nl-batch.h"
#include "gre-state.h"

#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12 /* linux/netlink.h from 4.20 on */
#endif

struct _GreNl {
    struct nl_sock *sk;
    int             kerrno;      /* errno of the last NLMSG_ERROR, 0 if none */
    char            extack[256]; /* the kernel's message for it, "" if none */
    guint32         raw_seq;     /* gre_nl_transact_wiped()'s own sequence numbers */
};

static int
on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
    GreNl           *nl  = arg;
    struct nlmsghdr *hdr = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);

    (void)nla;
    nl->kerrno    = -e->error;
    nl->extack[0] = '\0';

    /* With NETLINK_CAP_ACK the request is not echoed, so the TLVs follow the nlmsgerr. */
    if ((hdr->nlmsg_flags & NLM_F_ACK_TLVS) && (hdr->nlmsg_flags & NLM_F_CAPPED)) {
        struct nlattr *a   = (struct nlattr *)((char *)e + sizeof *e);
        int            rem = (int)hdr->nlmsg_len - NLMSG_HDRLEN - (int)sizeof *e;

        for (; nla_ok(a, rem); a = nla_next(a, &rem)) {
            if (nla_type(a) == NLMSGERR_ATTR_MSG)
                g_strlcpy(nl->extack, nla_data(a), MIN((gsize)nla_len(a) + 1, sizeof nl->extack));
        }
    }
    return NL_STOP;
}

GreNl *
gre_nl_open(int protocol, GError **error)
{
    g_autofree GreNl *nl  = g_new0(GreNl, 1);
    int               one = 1;
    int               err;

    nl->sk = nl_socket_alloc();
    if (!nl->sk) {
        g_set_error_literal(error, GRE_ERROR, GRE_ERROR_KERNEL, _("out of memory"));
        return NULL;
    }
    err = nl_connect(nl->sk, protocol);
    if (err < 0) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_KERNEL, _("cannot open a %s netlink socket: %s"),
                    protocol == NETLINK_XFRM ? "XFRM" : "route", nl_geterror(err));
        nl_socket_free(nl->sk);
        return NULL;
    }
    /* Best effort: older kernels simply give no extended ack. */
    setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
    setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
    /* Best effort as well: without it, a filtered dump is a whole one (see the header). */
    if (protocol == NETLINK_ROUTE)
        setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one);
    /* libnl peeks at every message to size its buffer: two recvmsg per reply. The kernel sizes
     * dump parts by the reader's largest recvmsg, capped at 32 KiB, and our single replies are
     * far smaller, so a 64 KiB buffer takes each in one call (a larger one would fail loudly with
     * NLE_MSG_TRUNC, never be cut silently). */
    if (nl_socket_set_msg_buf_size(nl->sk, 65536) == 0)
        nl_socket_disable_msg_peek(nl->sk);
    nl_socket_modify_err_cb(nl->sk, NL_CB_CUSTOM, on_error, nl);
    /* Far from libnl's numbers, which start at the time of day. */
    nl->raw_seq = g_random_int() | 0x80000000u;
    return g_steal_pointer(&nl);
}

void
gre_nl_close(GreNl *nl)
{
    if (!nl)
        return;
    nl_socket_free(nl->sk);
    g_free(nl);
}

struct nl_sock *
gre_nl_begin(GreNl *nl)
{
    nl->kerrno    = 0;
    nl->extack[0] = '\0';
    return nl->sk;
}

char *
gre_nl_error_text(GreNl *nl, int nlerr)
{
    if (nl->kerrno && nl->extack[0])
        return g_strdup_printf("%s (%s)", g_strerror(nl->kerrno), nl->extack);
    if (nl->kerrno)
        return g_strdup(g_strerror(nl->kerrno));
    return g_strdup(nl_geterror(nlerr));
}

int
gre_nl_errno(GreNl *nl)
{
    return nl->kerrno;
}

typedef struct {
    int (*valid)(struct nl_msg *msg, void *arg);
    void    *arg;
    gboolean done;
} Transaction;

static int
on_ack(struct nl_msg *msg, void *arg)
{
    (void)msg;
    ((Transaction *)arg)->done = TRUE;
    return NL_STOP;
}

static int
on_valid(struct nl_msg *msg, void *arg)
{
    Transaction *t = arg;

    return t->valid ? t->valid(msg, t->arg) : NL_OK;
}

/* Reads the answers to the request just sent until its acknowledgement or, for a dump, the
 * NLMSG_DONE. */
static int
receive(GreNl *nl, int (*valid)(struct nl_msg *, void *), void *arg)
{
    struct nl_cb *base = nl_socket_get_cb(nl->sk);
    struct nl_cb *cb   = nl_cb_clone(base);
    Transaction   t    = { valid, arg, FALSE };
    int           err  = 0;

    nl_cb_put(base);
    if (!cb)
        return -NLE_NOMEM;
    nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, &t);
    nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_ack, &t);
    nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &t);
    while (!t.done && err >= 0)
        err = nl_recvmsgs(nl->sk, cb);
    nl_cb_put(cb);
    return err < 0 ? err : 0;
}

int
gre_nl_transact(GreNl *nl, struct nl_msg *msg, int (*valid)(struct nl_msg *, void *), void *arg)
{
    int err = nl_send_auto(gre_nl_begin(nl), msg);

    nlmsg_free(msg);
    return err < 0 ? err : receive(nl, valid, arg);
}

int
gre_nl_request(GreNl *nl, struct nl_msg *msg)
{
    return gre_nl_transact(nl, msg, NULL, NULL);
}

void
gre_nl_msg_wipe(struct nl_msg *msg)
{
    /* nlmsg_reserve() never reallocates: the message has lived in this one buffer. */
    explicit_bzero(nlmsg_hdr(msg), nlmsg_get_max_size(msg));
}

void
gre_nl_msg_free_wiped(struct nl_msg *msg)
{
    if (!msg)
        return;
    gre_nl_msg_wipe(msg);
    nlmsg_free(msg);
}

/* Answers to one request: an SA is well under 1 KiB, a GETSA answer is a single message. */
#define WIPED_RECV_SIZE 8192

int
gre_nl_transact_wiped(GreNl *nl, struct nl_msg *msg, GreNlReplyFunc valid, void *arg)
{
    struct nl_sock    *sk   = gre_nl_begin(nl);
    g_autofree guint8 *buf  = NULL;
    gboolean           done = FALSE;
    struct nlmsghdr   *hdr;
    guint32            seq;
    int                err;

    /* Sent with a sequence number of our own, not libnl's: the answers never pass through
     * libnl, which would otherwise expect them and refuse its next answer as out of order. */
    seq = nl->raw_seq++;
    hdr = nlmsg_hdr(msg);
    hdr->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    hdr->nlmsg_seq = seq;
    hdr->nlmsg_pid = nl_socket_get_local_port(sk);
    err            = nl_send(sk, msg); /* as is: nl_send_auto() would renumber it */
    gre_nl_msg_free_wiped(msg);
    if (err < 0)
        return err;

    buf = g_malloc(WIPED_RECV_SIZE);
    err = 0;
    while (!done && err >= 0) {
        struct iovec  iov = { buf, WIPED_RECV_SIZE };
        struct msghdr mh  = { .msg_iov = &iov, .msg_iovlen = 1 };
        ssize_t       n   = recvmsg(nl_socket_get_fd(sk), &mh, 0);
        int           len;

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err = -nl_syserr2nlerr(errno);
            break;
        }
        if (mh.msg_flags & MSG_TRUNC) {
            err = -NLE_MSG_TRUNC;
            break;
        }
        len = (int)n;
        for (hdr = (struct nlmsghdr *)buf; nlmsg_ok(hdr, len); hdr = nlmsg_next(hdr, &len)) {
            if (hdr->nlmsg_seq != seq)
                continue; /* an answer to somebody else's request (none are expected) */
            if (hdr->nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr *e = NLMSG_DATA(hdr);

                if (hdr->nlmsg_len < NLMSG_LENGTH(sizeof *e))
                    err = -NLE_MSG_TRUNC;
                else if (e->error) {
                    on_error(NULL, e, nl);
                    err = -nl_syserr2nlerr(-e->error);
                }
                done = TRUE;
            } else if (hdr->nlmsg_type == NLMSG_DONE)
                done = TRUE;
            else if (valid)
                valid(hdr, arg);
        }
    }
    explicit_bzero(buf, WIPED_RECV_SIZE);
    return err;
}

int
gre_nl_ifindex(GreNl *nl, const char *name)
{
    struct rtnl_link *link = NULL;
    int               ifindex;

    if (rtnl_link_get_kernel(gre_nl_begin(nl), 0, name, &link) < 0)
        return 0;
    ifindex = rtnl_link_get_ifindex(link);
    rtnl_link_put(link);
    return ifindex;
}

int
gre_nl_dump(GreNl *nl, struct nl_msg *msg, int (*valid)(struct nl_msg *, void *), void *arg)
{
    int err;

    nl_complete_msg(gre_nl_begin(nl), msg);
    /* No acknowledgement: a dump ends with NLMSG_DONE, and an ack left over would be taken for
     * the answer to the next request. */
    nlmsg_hdr(msg)->nlmsg_flags &= ~NLM_F_ACK;
    err = nl_send(nl->sk, msg);
    nlmsg_free(msg);
    return err < 0 ? err : receive(nl, valid, arg);
}

GreNlBatch *
gre_nl_batch(GreNl *nl)
{
    return gre_nl_batch_new(nl_socket_get_fd(nl->sk), nl_socket_get_local_port(nl->sk),
                            &nl->raw_seq);
}

/* ---- ip route get ---- */

static int
on_route(struct nl_msg *msg, void *arg)
{
    struct rtnl_route **out = arg;

    if (!*out)
        rtnl_route_parse(nlmsg_hdr(msg), out);
    return NL_OK;
}

static gboolean
addr_from_nl(struct nl_addr *a, GreAddr *out)
{
    *out = (GreAddr){ 0 };
    if (!a || nl_addr_iszero(a))
        return FALSE;
    if (nl_addr_get_family(a) == AF_INET && nl_addr_get_len(a) == 4)
        memcpy(&out->u.v4, nl_addr_get_binary_addr(a), 4);
    else if (nl_addr_get_family(a) == AF_INET6 && nl_addr_get_len(a) == 16)
        memcpy(&out->u.v6, nl_addr_get_binary_addr(a), 16);
    else
        return FALSE;
    out->family = nl_addr_get_family(a);
    return TRUE;
}

static gboolean
is_gre_kind(const char *kind)
{
    static const char *const kinds[] = { "gre",       "gretap", "ip6gre",
                                         "ip6gretap", "erspan", "ip6erspan" };

    for (guint i = 0; kind && i < G_N_ELEMENTS(kinds); i++) {
        if (g_str_equal(kind, kinds[i]))
            return TRUE;
    }
    return FALSE;
}

gboolean
gre_kernel_env_resolve(const GreAddr *remote, const char *underlay_or_null, GrePlanEnv *env,
                       GError **error)
{
    g_autoptr(GreNl) nl = NULL;

    g_return_val_if_fail(remote->family == AF_INET || remote->family == AF_INET6, FALSE);
    *env = (GrePlanEnv){ 0 };
    nl   = gre_nl_open(NETLINK_ROUTE, error);
    return nl && gre_kernel_env_resolve_nl(nl, remote, underlay_or_null, env, error);
}

gboolean
gre_kernel_env_resolve_nl(GreNl *nl, const GreAddr *remote, const char *underlay_or_null,
                          GrePlanEnv *env, GError **error)
{
    g_autofree char     *rstr  = gre_addr_to_string(remote);
    struct rtnl_route   *route = NULL;
    struct rtnl_link    *dev   = NULL;
    struct rtnl_nexthop *nh;
    struct nl_msg       *msg;
    struct rtmsg         rtm    = { 0 };
    int                  oif    = 0;
    guint32              rt_mtu = 0;
    gboolean             ok     = FALSE;
    int                  err;

    g_return_val_if_fail(remote->family == AF_INET || remote->family == AF_INET6, FALSE);
    *env = (GrePlanEnv){ 0 };

    if (underlay_or_null && underlay_or_null[0]) {
        oif = gre_nl_ifindex(nl, underlay_or_null);
        if (!oif) {
            g_set_error(error, GRE_ERROR, GRE_ERROR_KERNEL,
                        _("the underlay device %s does not exist"), underlay_or_null);
            return FALSE;
        }
    }

    rtm.rtm_family  = remote->family;
    rtm.rtm_dst_len = gre_addr_max_plen(remote->family);
    msg             = nlmsg_alloc_simple(RTM_GETROUTE, 0);
    if (!msg || nlmsg_append(msg, &rtm, sizeof rtm, NLMSG_ALIGNTO) < 0 ||
        nla_put(msg, RTA_DST, remote->family == AF_INET ? 4 : 16, &remote->u) < 0 ||
        (oif && nla_put_u32(msg, RTA_OIF, oif) < 0)) {
        nlmsg_free(msg);
        g_set_error_literal(error, GRE_ERROR, GRE_ERROR_KERNEL, _("out of memory"));
        return FALSE;
    }
    err = gre_nl_transact(nl, msg, on_route, &route);
    if (err < 0 || !route) {
        g_autofree char *why = err < 0 ? gre_nl_error_text(nl, err) : g_strdup(_("no answer"));

        /* TRANSLATORS: remote address, " via " and the underlay device (or nothing), the reason */
        g_set_error(error, GRE_ERROR, GRE_ERROR_KERNEL, _("no route to %s%s%s: %s"), rstr,
                    oif ? " via " : "", oif ? underlay_or_null : "", why);
        goto out;
    }

    if (rtnl_route_get_type(route) == RTN_LOCAL) {
        g_set_error(
            error, GRE_ERROR, GRE_ERROR_INVALID,
            _("the remote %s is an address of this host; a tunnel needs the peer's address"), rstr);
        goto out;
    }
    nh = rtnl_route_get_nnexthops(route) > 0 ? rtnl_route_nexthop_n(route, 0) : NULL;
    if (!nh || rtnl_route_nh_get_ifindex(nh) <= 0) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_KERNEL,
                    _("no route to %s: the kernel's route has no output device"), rstr);
        goto out;
    }
    addr_from_nl(rtnl_route_get_pref_src(route), &env->local);
    addr_from_nl(rtnl_route_nh_get_gateway(nh), &env->route_gateway);
    /* A route may carry its own MTU (`ip route ... mtu N`); it bounds the path like the device. */
    if (rtnl_route_get_metric(route, RTAX_MTU, &rt_mtu) < 0)
        rt_mtu = 0;

    err = rtnl_link_get_kernel(gre_nl_begin(nl), rtnl_route_nh_get_ifindex(nh), NULL, &dev);
    if (err < 0) {
        g_autofree char *why = gre_nl_error_text(nl, err);

        g_set_error(error, GRE_ERROR, GRE_ERROR_KERNEL,
                    _("the route to %s leaves through device #%d, which cannot be read: %s"), rstr,
                    rtnl_route_nh_get_ifindex(nh), why);
        goto out;
    }
    if (is_gre_kind(rtnl_link_get_type(dev))) {
        const char *name = rtnl_link_get_name(dev);

        g_set_error(error, GRE_ERROR, GRE_ERROR_INVALID,
                    _("the route to %s leaves through %s, which is itself a GRE tunnel%s: the "
                      "tunnel would be routed into a tunnel (recursive routing). Add a route to %s "
                      "through the underlay network, or set PHYSDEV to the underlay device"),
                    rstr, name, gre_state_exists(name) ? _(" managed by gre-tunnel") : "", rstr);
        goto out;
    }
    g_strlcpy(env->route_dev, rtnl_link_get_name(dev), sizeof env->route_dev);
    env->route_mtu = rtnl_link_get_mtu(dev);
    if (rt_mtu && rt_mtu < env->route_mtu)
        env->route_mtu = rt_mtu;
    ok = TRUE;

out:
    if (route)
        rtnl_route_put(route);
    if (dev)
        rtnl_link_put(dev);
    return ok;
}
