/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "gre-plan.h"

/*
 * What the plan needs to know about this host, asked of the kernel: the equivalent of
 * `ip route get REMOTE [oif UNDERLAY]` plus the MTU of the device that route leaves through.
 */

/* Fails (GRE_ERROR_KERNEL) when there is no route to @remote, or (GRE_ERROR_INVALID) when the
 * route found leaves through a GRE device: the tunnel would then be routed into a tunnel. */
gboolean gre_kernel_env_resolve(const GreAddr *remote, const char *underlay_or_null,
                                GrePlanEnv *env, GError **error);

/* The same on a route socket of the caller's (gre-tunnel up --all shares one for all tunnels). */
struct _GreNl;
gboolean gre_kernel_env_resolve_nl(struct _GreNl *nl, const GreAddr *remote,
                                   const char *underlay_or_null, GrePlanEnv *env, GError **error);

/*
 * Netlink plumbing shared with gre-apply.c. libnl turns the kernel's errno into its own, coarser
 * codes ("Object exists"); a GreNl socket also keeps the errno and the kernel's extended-ack text,
 * so errors can quote the kernel exactly ("File exists", "Nexthop device is not up").
 */
struct nl_sock;
struct nl_msg;
typedef struct _GreNl GreNl;

/* @protocol: NETLINK_ROUTE or NETLINK_XFRM. */
GreNl *gre_nl_open(int protocol, GError **error);
void   gre_nl_close(GreNl *nl);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GreNl, gre_nl_close)

/* The socket, with the last kernel error forgotten: pass it to one libnl call at a time. */
struct nl_sock *gre_nl_begin(GreNl *nl);
/* The text for a libnl call that returned @nlerr < 0: the kernel's, when it gave one. */
char *gre_nl_error_text(GreNl *nl, int nlerr);
/* The errno of the kernel's answer to the last call, 0 when it gave none. */
int gre_nl_errno(GreNl *nl);
/* Sends @msg (consumed) and waits for the kernel's ack; returns 0 or a negative libnl error. */
int gre_nl_request(GreNl *nl, struct nl_msg *msg);
/* The same, passing each reply message to @valid (may be NULL) before the ack arrives. */
int gre_nl_transact(GreNl *nl, struct nl_msg *msg, int (*valid)(struct nl_msg *, void *),
                    void *arg);
/*
 * For messages that carry key material (an SA being added, or the kernel's answer to
 * XFRM_MSG_GETSA, which always includes the keys): @msg's buffer is wiped before it is freed, and
 * the answers are received into a buffer of ours, passed to @valid (may be NULL) and wiped, instead
 * of going through libnl's receive buffer, which libnl frees without wiping. Returns 0 or a
 * negative libnl error, as gre_nl_transact() does.
 */
struct nlmsghdr;
typedef void (*GreNlReplyFunc)(const struct nlmsghdr *hdr, void *arg);
int gre_nl_transact_wiped(GreNl *nl, struct nl_msg *msg, GreNlReplyFunc valid, void *arg);
/* Zeroes the whole buffer of @msg (what was written and the unused rest). */
void gre_nl_msg_wipe(struct nl_msg *msg);
/* gre_nl_msg_wipe(), then nlmsg_free(). NULL is ignored. */
void gre_nl_msg_free_wiped(struct nl_msg *msg);
/* The ifindex of the device @name in this network namespace; 0 when there is none. */
int gre_nl_ifindex(GreNl *nl, const char *name);
