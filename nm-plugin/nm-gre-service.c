/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <glib-unix.h>
#include <signal.h>
#include <stdlib.h>
#include <syslog.h>

#include <NetworkManager.h>

#include "gre-apply.h"
#include "gre-error.h"
#include "gre-i18n.h"
#include "gre-kernel-env.h"
#include "gre-nm-config.h"
#include "gre-nm-data.h"
#include "gre-nm-plan.h"
#include "gre-nm-watchdog.h"

/*
 * nm-gre-service: NetworkManager starts one per active GRE connection. Connect creates the
 * tunnel (IPsec, pinned endpoint route, link) exactly as `gre-tunnel up` would, through the same
 * plan and the same transactional apply with its ownership record; the inner addresses and
 * routes are reported to NetworkManager instead of being added. Disconnect, a signal, or
 * NetworkManager going away removes what the record lists. The record names this process as
 * its owner; should it end without cleaning up (SIGKILL, a crash), its watchdog
 * (gre-nm-watchdog.h) removes what it left, and failing that the next connect of any gre
 * connection in this network namespace does.
 */

static struct {
    int      log_level;
    gboolean log_syslog;
    gboolean debug;
    gboolean persist;
    char    *bus_name;
    char    *watchdog; /* --watchdog=PID:START: run as that service's watchdog */
} gl = { LOG_NOTICE, FALSE, FALSE, FALSE, NULL, NULL };

static void G_GNUC_PRINTF(2, 3) log_at(int level, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list          ap;

    if (level > gl.log_level)
        return;
    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (gl.log_syslog)
        syslog(level, "%s", msg);
    else
        g_printerr("nm-gre[%ld] <%s> %s\n", (long)getpid(),
                   level <= LOG_ERR       ? "error"
                   : level <= LOG_WARNING ? "warn"
                   : level <= LOG_INFO    ? "info"
                                          : "debug",
                   msg);
}

#define GRE_TYPE_SERVICE (gre_service_get_type())
G_DECLARE_FINAL_TYPE(GreService, gre_service, GRE, SERVICE, NMVpnServicePlugin)

struct _GreService {
    NMVpnServicePlugin parent;
    char               device[GRE_IFNAMSIZ]; /* "" while nothing is up */
    GVariant          *config, *ip4, *ip6;   /* reported once the tunnel is up */
    GrePlan           *pending;              /* validated, applied once connect has returned */
    gboolean           pending_ipsec;
    GreApplyOptions    pending_opts; /* IPSEC=ike: wait for the CHILD_SA, and how long */
    gboolean           login_failed; /* up failed on IKE authentication: say so last */
    GSource           *apply_source;
    /* IPSEC=ike: an `up` waiting for the CHILD_SA, polled from the main loop so that the
     * service keeps answering D-Bus (Disconnect above all) meanwhile; it holds the plan. */
    GreApplyUp *waiting;
    GrePlan    *waiting_plan;
    GSource    *poll_source;
};

G_DEFINE_TYPE(GreService, gre_service, NM_TYPE_VPN_SERVICE_PLUGIN)

static void
send_config(GreService *self)
{
    NMVpnServicePlugin *plugin = NM_VPN_SERVICE_PLUGIN(self);

    log_at(LOG_INFO, "%s: reporting the tunnel to NetworkManager", self->device);
    nm_vpn_service_plugin_set_config(plugin, self->config);
    if (self->ip4)
        nm_vpn_service_plugin_set_ip4_config(plugin, self->ip4);
    if (self->ip6)
        nm_vpn_service_plugin_set_ip6_config(plugin, self->ip6);
}

/* Gives up an `up` that waits for the IKE daemon: what it created so far is removed. */
static void
cancel_wait(GreService *self)
{
    g_auto(GreApplyReport) report = { 0 };
    g_autoptr(GError) local       = NULL;

    if (self->poll_source) {
        g_source_destroy(self->poll_source);
        g_clear_pointer(&self->poll_source, g_source_unref);
    }
    if (!self->waiting)
        return;
    if (!gre_apply_up_cancel(g_steal_pointer(&self->waiting), &report, &local))
        log_at(LOG_ERR, "%s: giving up the wait for the CHILD_SA: %s", self->waiting_plan->name,
               local->message);
    else
        log_at(LOG_NOTICE, "%s: the wait for the CHILD_SA given up; nothing of it is left",
               self->waiting_plan->name);
    g_clear_pointer(&self->waiting_plan, gre_plan_free);
}

static void
clear_config(GreService *self)
{
    cancel_wait(self);
    if (self->apply_source) {
        g_source_destroy(self->apply_source);
        g_clear_pointer(&self->apply_source, g_source_unref);
    }
    g_clear_pointer(&self->pending, gre_plan_free);
    g_clear_pointer(&self->config, g_variant_unref);
    g_clear_pointer(&self->ip4, g_variant_unref);
    g_clear_pointer(&self->ip6, g_variant_unref);
}

/* NetworkManager keeps the last failure class a service reports, and libnm's disconnect reports
 * "connect failed" after whatever the service said while the connection was starting. So a
 * refused PSK is reported again from the disconnect itself, which libnm runs before it tells
 * NetworkManager the service stopped: nmcli then says the secrets were invalid. The signal is
 * the one libnm sends (VPN.Plugin.Failure), on the service's own bus connection. */
static void
report_login_failed(GreService *self)
{
    g_autoptr(GDBusConnection) bus =
        nm_vpn_service_plugin_get_connection(NM_VPN_SERVICE_PLUGIN(self));

    if (bus)
        g_dbus_connection_emit_signal(
            bus, NULL, NM_VPN_DBUS_PLUGIN_PATH, NM_VPN_DBUS_PLUGIN_INTERFACE, "Failure",
            g_variant_new("(u)", NM_VPN_PLUGIN_FAILURE_LOGIN_FAILED), NULL);
}

static void
log_plan(const GrePlan *plan)
{
    /* Keys are masked: the log may go anywhere. */
    g_autoptr(GPtrArray) lines = gre_plan_render_up(plan, FALSE);

    for (guint i = 0; i < lines->len; i++)
        log_at(LOG_DEBUG, "%s: %s", plan->name, (const char *)lines->pdata[i]);
}

static gboolean
bring_down(GreService *self, GError **error)
{
    g_auto(GreApplyReport) report = { 0 };
    g_autoptr(GError) local       = NULL;

    if (!self->device[0])
        return TRUE;
    if (!gre_apply_down_full(self->device, &report, &local)) {
        log_at(LOG_ERR, "%s: down failed: %s", self->device, local->message);
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    log_at(LOG_NOTICE, "%s: down, %u objects removed", self->device, report.removed);
    for (guint i = 0; report.notes && i < report.notes->len; i++)
        log_at(LOG_NOTICE, "%s: %s", self->device, (const char *)report.notes->pdata[i]);
    for (guint i = 0; report.warnings && i < report.warnings->len; i++)
        log_at(LOG_WARNING, "%s: %s", self->device, (const char *)report.warnings->pdata[i]);
    self->device[0] = '\0';
    return TRUE;
}

/* What a reclaim did: a removal is a note; a warning is e.g. an IKE daemon that has gone, whose
 * connection went with it. */
static void
log_report(const char *name, const GreApplyReport *report)
{
    for (guint i = 0; report->notes && i < report->notes->len; i++)
        log_at(LOG_NOTICE, "%s: %s", name, (const char *)report->notes->pdata[i]);
    for (guint i = 0; report->warnings && i < report->warnings->len; i++)
        log_at(LOG_WARNING, "%s: %s", name, (const char *)report->warnings->pdata[i]);
}

static void
watchdog_exited(GPid pid, gint status, gpointer user_data)
{
    (void)user_data;
    log_at(LOG_WARNING,
           "the watchdog (pid %ld) ended (status %d): if this service is killed, what it "
           "created stays until the next gre connection comes up",
           (long)pid, status);
    g_spawn_close_pid(pid);
}

/* Before the first change to the kernel: a watchdog that cleans up should this process be
 * killed, and the leftovers of services that were killed with their watchdog. */
static void
guard(void)
{
    const GreStateOwner *owner    = gre_state_get_process_owner();
    g_auto(GreApplyReport) report = { 0 };
    g_autoptr(GError) local       = NULL;

    if (owner && !gre_nm_watchdog_start(owner, watchdog_exited, &local)) {
        log_at(LOG_WARNING, "cannot start the watchdog: %s", local->message);
        g_clear_error(&local);
    }
    if (!gre_apply_reclaim(NULL, &report, &local))
        log_at(LOG_WARNING, "removing what killed services left: %s", local->message);
    log_report("reclaim", &report);
}

static void
up_failed(GreService *self, const char *name, const GreApplyReport *report, const GError *error)
{
    /* The whole reason (for IPSEC=ike the daemon's own words) goes to the service's log,
     * beside NetworkManager's in the journal; nmcli can only show a failure class, so a
     * refused PSK is "invalid secrets". */
    log_at(LOG_ERR, "%s: up failed: %s", name, error->message);
    clear_config(self);
    self->login_failed = report->ike_auth_failed;
    nm_vpn_service_plugin_failure(NM_VPN_SERVICE_PLUGIN(self),
                                  report->ike_auth_failed ? NM_VPN_PLUGIN_FAILURE_LOGIN_FAILED
                                                          : NM_VPN_PLUGIN_FAILURE_CONNECT_FAILED);
    nm_vpn_service_plugin_disconnect(NM_VPN_SERVICE_PLUGIN(self), NULL);
}

static void
up_succeeded(GreService *self, const GrePlan *plan, const GreApplyReport *report)
{
    g_strlcpy(self->device, plan->name, sizeof self->device);
    if (report->unchanged)
        log_at(LOG_NOTICE,
               "%s: already up exactly as planned (left by an earlier instance); "
               "taking it over",
               plan->name);
    else
        log_at(LOG_NOTICE, "%s: up%s, %u objects created, MTU %u%s", plan->name,
               report->recreated ? " (an earlier instance was removed first)" : "", report->created,
               plan->mtu, self->pending_ipsec ? ", GRE-only IPsec" : "");
    for (guint i = 0; report->notes && i < report->notes->len; i++)
        log_at(LOG_NOTICE, "%s: %s", plan->name, (const char *)report->notes->pdata[i]);
    for (guint i = 0; report->warnings && i < report->warnings->len; i++)
        log_at(LOG_WARNING, "%s: %s", plan->name, (const char *)report->warnings->pdata[i]);
    send_config(self);
}

/* How often the daemon is asked, while waiting, whether the CHILD_SA is there. */
#define POLL_MS 200

static gboolean
poll_wait(gpointer user_data)
{
    GreService *self              = user_data;
    g_autoptr(GrePlan) plan       = NULL;
    g_autoptr(GError) local       = NULL;
    g_auto(GreApplyReport) report = { 0 };
    GreApplyProgress progress     = gre_apply_up_poll(self->waiting, &report, &local);

    if (progress == GRE_APPLY_WAITING)
        return G_SOURCE_CONTINUE;
    self->waiting = NULL; /* freed by the poll */
    plan          = g_steal_pointer(&self->waiting_plan);
    g_clear_pointer(&self->poll_source, g_source_unref);
    if (progress == GRE_APPLY_FAILED)
        up_failed(self, plan->name, &report, local);
    else
        up_succeeded(self, plan, &report);
    return G_SOURCE_REMOVE;
}

static gboolean
apply_pending(gpointer user_data)
{
    GreService *self              = user_data;
    g_autoptr(GrePlan) plan       = g_steal_pointer(&self->pending);
    g_autoptr(GError) local       = NULL;
    g_auto(GreApplyReport) report = { 0 };
    GreApplyProgress progress;

    g_clear_pointer(&self->apply_source, g_source_unref);
    guard();
    /* A record left by a crashed instance is found and replaced here: apply recreates. */
    progress = gre_apply_up_start(plan, &self->pending_opts, &report, &self->waiting, &local);
    if (progress == GRE_APPLY_FAILED)
        up_failed(self, plan->name, &report, local);
    else if (progress == GRE_APPLY_DONE)
        up_succeeded(self, plan, &report);
    else {
        /* The IKE daemon was asked for the CHILD_SA; its answer is read from the main loop. */
        self->waiting_plan = g_steal_pointer(&plan);
        self->poll_source  = g_timeout_source_new(POLL_MS);
        g_source_set_callback(self->poll_source, poll_wait, self, NULL);
        g_source_attach(self->poll_source, NULL);
    }
    return G_SOURCE_REMOVE;
}

/* IPSEC=ike: NetworkManager becomes activated only once the CHILD_SA is installed, so `up`
 * waits for it and fails (leaving nothing) when the peer stays silent, instead of leaving the
 * tunnel up with the trap as `gre-tunnel up` does. NetworkManager gives the service vpn.timeout
 * seconds (0: its default, 60 s) from the Connect reply to report the tunnel; the wait is that
 * minus IKE_MARGIN_S for the rest of `up` and the report, so that the daemon's reason, not
 * NetworkManager's timeout, is what ends a failed attempt. A default that NetworkManager.conf
 * changes is not visible here: set vpn.timeout on the connection instead. */
#define NM_DEFAULT_VPN_TIMEOUT_S 60
#define IKE_MARGIN_S 10

static guint
ike_wait_ms(NMSettingVpn *s_vpn)
{
    guint nm_timeout = nm_setting_vpn_get_timeout(s_vpn);

    if (!nm_timeout)
        nm_timeout = NM_DEFAULT_VPN_TIMEOUT_S;
    if (nm_timeout > 2 * IKE_MARGIN_S)
        return (nm_timeout - IKE_MARGIN_S) * 1000;
    return nm_timeout * 1000 / 2;
}

/* The connection id as logged: it comes over D-Bus from whoever called, so it is cut to
 * ID_SHOWN characters (a 1 MB id would make a 1 MB log line). */
#define ID_SHOWN 64

static char *
shown_id(NMConnection *connection)
{
    const char      *id  = nm_connection_get_id(connection);
    g_autofree char *cut = NULL;

    if (!id)
        return g_strdup("(no id)");
    if (g_utf8_strlen(id, (ID_SHOWN + 1) * 4) <= ID_SHOWN)
        return g_strdup(id);
    cut = g_utf8_substring(id, 0, ID_SHOWN);
    return g_strconcat(cut, "…", NULL);
}

static gboolean
real_connect(NMVpnServicePlugin *plugin, NMConnection *connection, GError **error)
{
    GreService   *self          = GRE_SERVICE(plugin);
    NMSettingVpn *s_vpn         = nm_connection_get_setting_vpn(connection);
    g_autoptr(GreSettings) s    = NULL;
    g_autoptr(GrePlan) plan     = NULL;
    g_autoptr(GError) env_error = NULL;
    g_autoptr(GError) local     = NULL;
    GrePlanEnv env              = { 0 };

    if (!s_vpn) {
        g_set_error_literal(error, NM_VPN_PLUGIN_ERROR, NM_VPN_PLUGIN_ERROR_INVALID_CONNECTION,
                            "the connection has no VPN setting");
        return FALSE;
    }
    if (!(s = gre_nm_settings_from_vpn(s_vpn, &local))) {
        g_autofree char *id = shown_id(connection);

        log_at(LOG_ERR, "%s: invalid: %s", id, local->message);
        g_set_error_literal(error, NM_VPN_PLUGIN_ERROR, NM_VPN_PLUGIN_ERROR_BAD_ARGUMENTS,
                            local->message);
        return FALSE;
    }

    /* Without a route to the remote the plan can still be built when nothing depends on it. */
    if (!gre_kernel_env_resolve(&s->remote, s->underlay[0] ? s->underlay : NULL, &env, &env_error))
        log_at(LOG_INFO, "%s: no facts about the route to the remote: %s", s->name,
               env_error->message);
    if (!(plan = gre_plan_build(s, &env, &local))) {
        g_autofree char *msg = g_strdup_printf("%s%s%s", local->message, env_error ? ": " : "",
                                               env_error ? env_error->message : "");

        log_at(LOG_ERR, "%s: %s", s->name, msg);
        g_set_error_literal(error, NM_VPN_PLUGIN_ERROR, NM_VPN_PLUGIN_ERROR_BAD_ARGUMENTS, msg);
        return FALSE;
    }

    clear_config(self);
    self->config = g_variant_ref_sink(gre_nm_config_generic(plan));
    if ((self->ip4 = gre_nm_config_ip(plan, AF_INET)))
        g_variant_ref_sink(self->ip4);
    if ((self->ip6 = gre_nm_config_ip(plan, AF_INET6)))
        g_variant_ref_sink(self->ip6);

    gre_nm_plan_tunnel_only(plan);
    log_plan(plan);
    /* The kernel work runs after connect has returned: NetworkManager ignores configuration
     * that arrives earlier, and gives the Connect call only seconds, while the first ESP state
     * of a boot may wait for crypto modules to load. Failures are then reported as Failure. */
    self->pending       = g_steal_pointer(&plan);
    self->pending_ipsec = s->ipsec != GRE_IPSEC_NONE;
    self->pending_opts  = (GreApplyOptions){ 0 };
    if (s->ipsec == GRE_IPSEC_IKE) {
        self->pending_opts.wait_peer      = TRUE;
        self->pending_opts.ike_timeout_ms = ike_wait_ms(s_vpn);
        log_at(LOG_INFO, "%s: waiting up to %u s for the IKE daemon's CHILD_SA", s->name,
               self->pending_opts.ike_timeout_ms / 1000);
    }
    self->apply_source = g_idle_source_new();
    g_source_set_callback(self->apply_source, apply_pending, self, NULL);
    g_source_attach(self->apply_source, NULL);
    return TRUE;
}

/* NetworkManager tries ConnectInteractive first whenever its agents could answer questions. This
 * plugin never asks any (a key is there or the connection is refused), so it connects at once.
 * Left unimplemented, libnm would answer "not supported" and stop the service 5 s later unless
 * the fallback Connect has arrived by then: a race the service loses when it runs slowly
 * (under valgrind in the VM, NetworkManager then gave up: "The VPN service failed to start"). */
static gboolean
real_connect_interactive(NMVpnServicePlugin *plugin, NMConnection *connection, GVariant *details,
                         GError **error)
{
    (void)details;
    return real_connect(plugin, connection, error);
}

/* libnm builds an NMConnection for every NeedSecrets call and never drops its reference
 * (impl_vpn_service_plugin_need_secrets() in nm-vpn-service-plugin.c, 1.2 to 1.60 at least). The
 * connection stays reachable through GObject's table of signal handlers (each setting's "notify"
 * handler points at it), so memcheck calls it "still reachable", not lost: some 4 KB per call,
 * and NetworkManager calls NeedSecrets before every connect. Once the call is over (an idle
 * callback), a count of 2 is our reference and the leaked one, which is dropped; a libnm that
 * releases its own leaves 1, ours. Nothing else holds the connection: libnm hands it only to
 * this callback. */
static gboolean
release_need_secrets_connection(gpointer data)
{
    GObject *connection = data;

    if (g_atomic_int_get(&connection->ref_count) == 2)
        g_object_unref(connection);
    g_object_unref(connection);
    return G_SOURCE_REMOVE;
}

static gboolean
real_need_secrets(NMVpnServicePlugin *plugin, NMConnection *connection, const char **setting_name,
                  GError **error)
{
    NMSettingVpn           *s_vpn   = nm_connection_get_setting_vpn(connection);
    g_autofree const char **missing = NULL;
    g_autofree char        *id      = NULL;

    (void)plugin;
    g_idle_add(release_need_secrets_connection, g_object_ref(connection));
    if (!s_vpn) {
        g_set_error_literal(error, NM_VPN_PLUGIN_ERROR, NM_VPN_PLUGIN_ERROR_INVALID_CONNECTION,
                            "the connection has no VPN setting");
        return FALSE;
    }
    missing = gre_nm_missing_secrets(s_vpn);
    if (!missing[0])
        return FALSE;
    id = shown_id(connection);
    log_at(LOG_INFO, "%s: secrets needed, first: %s", id, missing[0]);
    *setting_name = NM_SETTING_VPN_SETTING_NAME;
    return TRUE;
}

static gboolean
real_disconnect(NMVpnServicePlugin *plugin, GError **error)
{
    GreService *self        = GRE_SERVICE(plugin);
    g_autoptr(GError) local = NULL;

    if (self->login_failed) {
        self->login_failed = FALSE;
        report_login_failed(self);
    }
    clear_config(self);
    if (!bring_down(self, &local)) {
        g_set_error_literal(error, NM_VPN_PLUGIN_ERROR, NM_VPN_PLUGIN_ERROR_FAILED, local->message);
        return FALSE;
    }
    return TRUE;
}

static void
gre_service_init(GreService *self)
{
    (void)self;
}

static void
dispose(GObject *object)
{
    clear_config(GRE_SERVICE(object));
    G_OBJECT_CLASS(gre_service_parent_class)->dispose(object);
}

static void
gre_service_class_init(GreServiceClass *klass)
{
    GObjectClass            *object_class = G_OBJECT_CLASS(klass);
    NMVpnServicePluginClass *parent_class = NM_VPN_SERVICE_PLUGIN_CLASS(klass);

    object_class->dispose             = dispose;
    parent_class->connect             = real_connect;
    parent_class->connect_interactive = real_connect_interactive;
    parent_class->need_secrets        = real_need_secrets;
    parent_class->disconnect          = real_disconnect;
}

/* ---- main ---- */

static const GOptionEntry entries[] = {
    { "persist", 0, 0, G_OPTION_ARG_NONE, &gl.persist, "Keep running when the connection is down",
      NULL },
    { "debug", 0, 0, G_OPTION_ARG_NONE, &gl.debug,
      "Log everything to stderr and keep running when NetworkManager goes away", NULL },
    { "bus-name", 0, 0, G_OPTION_ARG_STRING, &gl.bus_name, "D-Bus name to own",
      "org.freedesktop.NetworkManager.gre[.Connection_N]" },
    { "watchdog", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &gl.watchdog,
      "Run as the watchdog of the service PID (started at START); the service starts it", NULL },
    { NULL },
};

static gboolean
on_signal(gpointer user_data)
{
    GMainLoop *loop = user_data;

    log_at(LOG_NOTICE, "signal received, taking the tunnel down");
    g_main_loop_quit(loop);
    return G_SOURCE_CONTINUE;
}

/* GDBus writes from a thread of its own, and libnm asks us to quit from inside the state change
 * to "stopped", before that signal (and the failure reported with it) is even queued. Exiting
 * without waiting for the queue loses them: NetworkManager then sees only the name vanish and
 * tells the user "the VPN service stopped unexpectedly" instead of why it failed. */
static void
flush_bus(GreService *self)
{
    g_autoptr(GDBusConnection) bus =
        nm_vpn_service_plugin_get_connection(NM_VPN_SERVICE_PLUGIN(self));
    g_autoptr(GError) local = NULL;

    if (bus && !g_dbus_connection_is_closed(bus) &&
        !g_dbus_connection_flush_sync(bus, NULL, &local))
        log_at(LOG_WARNING, "the last messages to NetworkManager may be lost: %s", local->message);
}

static void
on_quit(NMVpnServicePlugin *plugin, gpointer user_data)
{
    (void)plugin;
    g_main_loop_quit(user_data);
}

static int
log_level_from_env(void)
{
    const char *text = g_getenv("NM_VPN_LOG_LEVEL");
    gint64      v;

    if (!text || !g_ascii_string_to_signed(text, 10, 0, LOG_DEBUG, &v, NULL))
        return LOG_NOTICE;
    return (int)v;
}

/* The watchdog (gre-nm-watchdog.h): waits for its service to end, then removes what the
 * service's records still list. */
static int
run_watchdog(void)
{
    g_auto(GreApplyReport) report  = { 0 };
    g_autoptr(GError) error        = NULL;
    g_autoptr(GreStateOwner) owner = gre_nm_watchdog_wait(gl.watchdog, &error);

    if (!owner) {
        log_at(LOG_ERR, "watchdog: %s", error->message);
        return 1;
    }
    log_at(LOG_DEBUG, "watchdog: nm-gre-service (pid %llu) has exited",
           (unsigned long long)owner->pid);
    if (!gre_apply_reclaim(owner, &report, &error)) {
        log_at(LOG_ERR, "watchdog: %s", error->message);
        log_report("watchdog", &report);
        return 1;
    }
    log_report("watchdog", &report);
    return 0;
}

int
main(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = NULL;
    g_autoptr(GError) error       = NULL;
    g_autoptr(GreService) self    = NULL;
    g_autoptr(GMainLoop) loop     = NULL;

    /* Errors returned to NetworkManager (BadArguments) are shown to the user: translated. */
    gre_i18n_init();
    ctx = g_option_context_new(NULL);
    g_option_context_set_summary(
        ctx, "The NetworkManager service for GRE tunnels (vpn-type gre). NetworkManager starts "
             "it; run it by hand with --debug as root to watch a connection.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        g_printerr("nm-gre-service: %s\n", error->message);
        return 2;
    }

    gl.log_level  = gl.debug ? LOG_DEBUG : log_level_from_env();
    gl.log_syslog = !gl.debug && g_strcmp0(g_getenv("NM_VPN_LOG_SYSLOG"), "1") == 0;
    if (gl.log_syslog)
        openlog("nm-gre", LOG_PID, LOG_DAEMON);
    if (gl.watchdog)
        return run_watchdog();

    {
        g_autoptr(GreStateOwner) owner = gre_state_owner_self(GRE_NM_SERVICE_PROGRAM, &error);

        /* Without it the records name no owner, as those of `gre-tunnel up`. */
        if (!owner) {
            log_at(LOG_WARNING, "records will name no owner: %s", error->message);
            g_clear_error(&error);
        }
        gre_state_set_process_owner(owner);
    }

    self = g_initable_new(GRE_TYPE_SERVICE, NULL, &error, NM_VPN_SERVICE_PLUGIN_DBUS_SERVICE_NAME,
                          gl.bus_name ? gl.bus_name : GRE_NM_SERVICE_TYPE,
                          NM_VPN_SERVICE_PLUGIN_DBUS_WATCH_PEER, !gl.debug, NULL);
    if (!self) {
        log_at(LOG_ERR, "cannot start: %s", error->message);
        return 1;
    }

    loop = g_main_loop_new(NULL, FALSE);
    if (!gl.persist)
        g_signal_connect(self, "quit", G_CALLBACK(on_quit), loop);
    g_unix_signal_add(SIGTERM, on_signal, loop);
    g_unix_signal_add(SIGINT, on_signal, loop);
    log_at(LOG_INFO, "ready on %s", gl.bus_name ? gl.bus_name : GRE_NM_SERVICE_TYPE);
    g_main_loop_run(loop);

    /* Disconnects (and so takes the tunnel down) if a connection is still active. */
    nm_vpn_service_plugin_shutdown(NM_VPN_SERVICE_PLUGIN(self));
    flush_bus(self);
    /* Whatever state the D-Bus side was in, the kernel objects must not outlive us. */
    g_clear_pointer(&gl.bus_name, g_free);
    gre_state_set_process_owner(NULL);
    if (!bring_down(self, &error))
        return 1;
    return 0;
}
