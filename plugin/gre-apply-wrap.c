/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-apply-private.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/ip.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "gre-error.h"
#include "gre-i18n.h"
#include "gre-state.h"

/*
 * Whether this kernel honours XFRM_SA_XFLAG_OSEQ_MAY_WRAP (Linux 5.9 and later). The answer
 * cannot be read from the SA: kernels from 3.15 on store XFRMA_SA_EXTRA_FLAGS as given and report
 * it back, whether they act on the bit or not. So it is tried: in a network namespace of its own
 * (a thread that leaves the host's namespace alone), an SA of the same suite with zero keys, its
 * counter at 2^32-2 and the flag, a policy that sends GRE to 127.0.0.1 through it, and two
 * packets. A kernel that honours the flag wraps the counter to 0; one that does not stops at
 * 2^32-1 and drops the second packet. The namespace, and all in it, goes when the thread ends.
 */

#define PROBE_SPI 0x100
#define PROBE_REQID 1
#define PROBE_OSEQ 0xfffffffeu

WrapVerdict
apply_wrap_verdict(const SaInfo *after)
{
    if (!after->found)
        return WRAP_INCONCLUSIVE;
    if (!(after->extra_flags & XFRM_SA_XFLAG_OSEQ_MAY_WRAP))
        return WRAP_NOT_STORED;
    if (!after->has_replay || after->oseq == PROBE_OSEQ)
        return WRAP_INCONCLUSIVE; /* no packet reached the SA */
    if (after->oseq == G_MAXUINT32)
        return WRAP_IGNORED; /* the first packet took it to 2^32-1; the second was refused */
    return WRAP_HONOURED;
}

typedef struct {
    const GrePlanState *st;
    int                 unshare_errno;
    WrapVerdict         verdict;
    char               *why;       /* set when the probe itself failed */
    char               *no_sa_why; /* set when the kernel refused the probe's SA */
} WrapProbe;

/* lo up, and xfrm allowed on it: loopback is made with disable_xfrm=1, which would let the
 * probe packets bypass the policy. */
static int
loopback_up(GreNl *rt)
{
    struct ifinfomsg ifi = { 0 };
    struct nl_msg   *msg = nlmsg_alloc_simple(RTM_NEWLINK, 0);
    struct nlattr   *spec, *inet, *conf;

    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index  = gre_nl_ifindex(rt, "lo");
    ifi.ifi_flags  = IFF_UP;
    ifi.ifi_change = IFF_UP;
    if (!msg || !ifi.ifi_index || nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0 ||
        !(spec = nla_nest_start(msg, IFLA_AF_SPEC)) || !(inet = nla_nest_start(msg, AF_INET)) ||
        !(conf = nla_nest_start(msg, IFLA_INET_CONF)) ||
        nla_put_u32(msg, IPV4_DEVCONF_NOXFRM, 0) < 0) {
        nlmsg_free(msg);
        return -NLE_NOMEM;
    }
    nla_nest_end(msg, conf);
    nla_nest_end(msg, inet);
    nla_nest_end(msg, spec);
    return gre_nl_request(rt, msg);
}

static void
send_probe_packets(void)
{
    /* A GRE header (no flags, protocol IPv4) is enough: the packet only has to pass the SA. */
    static const guint8 gre[4] = { 0, 0, 0x08, 0x00 };
    struct sockaddr_in  to     = { .sin_family = AF_INET };
    int                 fd     = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_GRE);

    if (fd < 0)
        return;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* The second send fails (EOVERFLOW) where the flag is not honoured: that is the answer. */
    for (int i = 0; i < 2; i++)
        (void)!sendto(fd, gre, sizeof gre, 0, (struct sockaddr *)&to, sizeof to);
    close(fd);
}

static char *
step_failed(const char *what, GreNl *nl, int err)
{
    g_autofree char *why = gre_nl_error_text(nl, err);

    return g_strdup_printf("%s: %s", what, why);
}

static gpointer
probe_thread(gpointer data)
{
    WrapProbe *w            = data;
    g_autoptr(GreNl) rt     = NULL;
    g_autoptr(GreNl) xfrm   = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) ekey  = NULL;
    g_autoptr(GBytes) akey  = NULL;
    g_autoptr(XfrmSp) sp    = NULL;
    GrePlanState  sa        = { 0 };
    GrePlanPolicy pol       = { 0 };
    SaInfo        after     = { 0 };
    gsize         elen      = g_bytes_get_size(w->st->enc_key);
    gsize         alen      = w->st->auth_key ? g_bytes_get_size(w->st->auth_key) : 0;
    int           err;

    /* Only this thread moves: the process's other threads stay in the host's namespace. */
    if (unshare(CLONE_NEWNET) < 0) {
        w->unshare_errno = errno;
        return NULL;
    }
    if (!(rt = gre_nl_open(NETLINK_ROUTE, &error)) || !(xfrm = gre_nl_open(NETLINK_XFRM, &error))) {
        w->why = g_strdup(error->message);
        return NULL;
    }
    if ((err = loopback_up(rt)) < 0) {
        w->why = step_failed("lo up", rt, err);
        return NULL;
    }
    sa.src.family      = AF_INET;
    sa.src.u.v4.s_addr = htonl(INADDR_LOOPBACK);
    sa.dst             = sa.src;
    sa.spi             = PROBE_SPI;
    sa.reqid           = PROBE_REQID;
    sa.suite           = w->st->suite;
    /* Zero keys of the suite's sizes: nothing secret goes into the probe. */
    ekey             = g_bytes_new_take(g_malloc0(elen), elen);
    akey             = alen ? g_bytes_new_take(g_malloc0(alen), alen) : NULL;
    sa.enc_key       = ekey;
    sa.auth_key      = akey;
    sa.oseq_may_wrap = TRUE;
    if ((err = apply_sa_add(xfrm, &sa, PROBE_OSEQ)) < 0) {
        w->no_sa_why = gre_nl_error_text(xfrm, err);
        return NULL;
    }
    pol = (GrePlanPolicy){ sa.src, sa.dst, GRE_DIR_OUT, FALSE, 0, PROBE_REQID, 0 };
    sp  = apply_policy_object(&pol, TRUE);
    if ((err = xfrmnl_sp_add(gre_nl_begin(xfrm), sp, NLM_F_CREATE | NLM_F_EXCL)) < 0) {
        w->why = step_failed("xfrm policy", xfrm, err);
        return NULL;
    }
    send_probe_packets();
    if ((err = apply_sa_get(xfrm, &sa.dst, PROBE_SPI, &after)) < 0) {
        w->why = step_failed("xfrm state get", xfrm, err);
        return NULL;
    }
    w->verdict = apply_wrap_verdict(&after);
    return NULL;
}

/*
 * The verdict is the kernel's, so it is found once per process: `up --all` of a thousand
 * manually keyed tunnels makes one test namespace, not a thousand. A kernel that honours the
 * flag is also remembered for the rest of the boot, in STATE_DIR/kernel-oseq-wrap, keyed by the
 * boot id and the kernel's release and build. That is safe because what acts on the flag, the
 * xfrm replay code (net/xfrm/xfrm_replay.c), is part of the kernel image (CONFIG_XFRM cannot be
 * a module): it cannot change before the next boot, which gives a new boot id. The file is in
 * root's state directory (0700), and is believed only when it is ours and nobody else can write
 * it. Only "honoured" goes into the file: a kernel that fails the test is tested again by the
 * next process. The outbound SA of every `up` is still read back for the flag (create_state()).
 */
static GMutex      verdict_lock;
static gboolean    verdict_known;
static WrapVerdict verdict;

static char *
verdict_path(void)
{
    g_autofree char *dir = gre_state_dir();

    return g_build_filename(dir, "kernel-oseq-wrap", NULL);
}

/* "boot ID kernel RELEASE VERSION: oseq-may-wrap honoured", or NULL when this kernel cannot be
 * named. */
static char *
honoured_line(void)
{
    g_autofree char *boot = NULL;
    struct utsname   u;

    if (!g_file_get_contents("/proc/sys/kernel/random/boot_id", &boot, NULL, NULL) || uname(&u) < 0)
        return NULL;
    return g_strdup_printf("boot %s kernel %s %s: oseq-may-wrap honoured\n", g_strstrip(boot),
                           u.release, u.version);
}

static gboolean
remembered_honoured(void)
{
    g_autofree char *path = verdict_path();
    g_autofree char *want = honoured_line();
    g_autofree char *have = NULL;
    struct stat      sb;

    return want && lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_uid == geteuid() &&
           !(sb.st_mode & (S_IWGRP | S_IWOTH)) && g_file_get_contents(path, &have, NULL, NULL) &&
           g_str_equal(have, want);
}

static void
remember_honoured(void)
{
    g_autofree char *path = verdict_path();
    g_autofree char *line = honoured_line();

    /* Best effort: without the file the next process tests again. */
    if (line)
        g_file_set_contents_full(path, line, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL);
}

static gboolean run_check(const GrePlanState *st, WrapVerdict *out, char **not_checked,
                          GError **error);

/* The error for a kernel that does not honour the flag. */
static void
refuse(WrapVerdict v, GError **error)
{
    g_set_error_literal(
        error, GRE_ERROR, GRE_ERROR_KERNEL,
        v == WRAP_NOT_STORED
            ? _("this kernel does not support the flag oseq-may-wrap (Linux 5.9 or later): "
                "without it the outbound SA stops sending after 2^32 packets, and manually keyed "
                "SAs are never replaced. Use a newer kernel for IPSEC=manual")
            : _("this kernel ignores the flag oseq-may-wrap (it needs Linux 5.9 or later): "
                "its outbound SA stops sending after 2^32 packets, and manually keyed SAs are "
                "never replaced. Use a newer kernel for IPSEC=manual"));
}

gboolean
apply_check_oseq_wrap(const GrePlanState *st, char **not_checked, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&verdict_lock);
    WrapVerdict v                  = WRAP_INCONCLUSIVE;
    gboolean    ok;

    (void)locker; /* held until return */
    *not_checked = NULL;
    if (!verdict_known && remembered_honoured()) {
        verdict_known = TRUE;
        verdict       = WRAP_HONOURED;
    }
    if (verdict_known) {
        if (verdict == WRAP_HONOURED)
            return TRUE;
        refuse(verdict, error);
        return FALSE;
    }
    ok = run_check(st, &v, not_checked, error);
    /* A kernel that was tested (not one where the test could not be run, or went wrong). */
    if (!*not_checked && (v == WRAP_HONOURED || v == WRAP_IGNORED || v == WRAP_NOT_STORED)) {
        if (v == WRAP_HONOURED)
            remember_honoured();
        verdict_known = TRUE;
        verdict       = v;
    }
    return ok;
}

static gboolean
run_check(const GrePlanState *st, WrapVerdict *out, char **not_checked, GError **error)
{
    WrapProbe        w   = { st, 0, WRAP_INCONCLUSIVE, NULL, NULL };
    g_autofree char *why = NULL;

    g_thread_join(g_thread_new("gre-oseq-probe", probe_thread, &w));
    *out = w.verdict;
    why  = g_steal_pointer(&w.why);
    if (w.unshare_errno == EPERM) {
        *not_checked = g_strdup(_("that needs CAP_SYS_ADMIN for a network namespace of its own"));
        return TRUE;
    }
    /* The SA gre-tunnel is about to add would fail the same way, and its error names the step
     * and the settings; a kernel that takes it after all is still checked by the read-back. */
    if (w.no_sa_why) {
        *not_checked = g_strdup_printf(_("the kernel refused the test SA: %s"), w.no_sa_why);
        g_free(w.no_sa_why);
        return TRUE;
    }
    if (w.unshare_errno)
        why =
            g_strdup_printf(_("cannot make a network namespace: %s"), g_strerror(w.unshare_errno));
    if (!why && w.verdict == WRAP_HONOURED)
        return TRUE;
    if (!why && w.verdict == WRAP_INCONCLUSIVE)
        why = g_strdup(_("its test packets did not reach the test SA"));
    if (why) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_KERNEL,
                    _("cannot tell whether this kernel lets an outbound SA go on past 2^32 "
                      "packets (XFRM_SA_XFLAG_OSEQ_MAY_WRAP): the check failed: %s"),
                    why);
        return FALSE;
    }
    refuse(w.verdict, error);
    return FALSE;
}
