/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ifup-gre and ifdown-gre (one source, built twice): GRE tunnels at boot and shutdown.
 *
 * network-scripts run them as ifup-$DEVICETYPE CONFIG [boot] for ifcfg files with
 * DEVICETYPE=gre; ifupdown's hook (ifupdown-hook.in) runs them with --ifupdown for stanzas with
 * gre-* options. Either way the tunnel is brought up by the core's transactional apply, so a
 * failure leaves nothing behind, and brought down from the ownership record, so only what was
 * created is removed.
 */
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "gre-apply.h"
#include "gre-error.h"
#include "gre-i18n.h"
#include "gre-ifcfg.h"
#include "gre-kernel-env.h"
#include "gre-mtu.h"
#include "gre-plan.h"
#include "gre-routes-file.h"
#include "gre-settings-table.h"
#include "gre-state.h"
#include "gre-validate.h"
#include "gre-vici.h"

#ifndef GRE_BOOT_DOWN
#error "build with -DGRE_BOOT_DOWN=0 (ifup-gre) or -DGRE_BOOT_DOWN=1 (ifdown-gre)"
#endif

#define PROG (GRE_BOOT_DOWN ? "ifdown-gre" : "ifup-gre")

enum {
    EXIT_OK     = 0,
    EXIT_CONFIG = 1, /* bad configuration */
    EXIT_USAGE  = 2,
    EXIT_SYSTEM = 3, /* the kernel or the system failed */
};

/* ---- messages: stderr and syslog, the way network-scripts' net_log writes them ---- */

static void
log_text(int level, const char *text)
{
    const char      *label = level <= LOG_ERR       ? "ERROR     "
                             : level == LOG_WARNING ? "WARN      "
                                                    : "INFO      ";
    g_autofree char *shown = gre_error_display(text); /* it may quote a hostile file */
    g_auto(GStrv) lines    = g_strsplit(shown, "\n", -1);

    for (guint i = 0; lines[i]; i++) {
        if (!*lines[i])
            continue;
        fprintf(stderr, "%s: [%s] %s\n", label, PROG, lines[i]);
        syslog(level, "%s", lines[i]);
    }
}

static void G_GNUC_PRINTF(2, 3) say(int level, const char *fmt, ...)
{
    va_list          ap;
    g_autofree char *text = NULL;

    va_start(ap, fmt);
    text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    log_text(level, text);
}

static void
say_all(int level, GPtrArray *lines)
{
    for (guint i = 0; lines && i < lines->len; i++)
        log_text(level, lines->pdata[i]);
}

static int
fail(GError *error)
{
    g_autoptr(GError) owned = error;

    log_text(LOG_ERR, owned->message);
    if (owned->domain == G_OPTION_ERROR)
        return EXIT_USAGE;
    return owned->domain == GRE_ERROR && owned->code == GRE_ERROR_KERNEL ? EXIT_SYSTEM
                                                                         : EXIT_CONFIG;
}

/* ---- shared by both front ends ---- */

/* Facts about this host for the plan; missing facts are fine until the plan needs them. */
static void
host_env(const GreSettings *s, GrePlanEnv *env)
{
    g_autoptr(GError) error = NULL;

    memset(env, 0, sizeof *env);
    if (!gre_kernel_env_resolve(&s->remote, s->underlay[0] ? s->underlay : NULL, env, &error))
        g_debug("no facts about the route to the remote: %s", error->message);
}

/* The plan for @s, with what to do when the route to the remote is missing, as it is when a
 * tunnel comes up before its underlay: @order_hint says how the boot order is fixed. */
static GrePlan *
plan_tunnel(const GreSettings *s, const char *where, const char *order_hint, GError **error)
{
    g_autofree char *remote = gre_addr_to_string(&s->remote);
    GrePlanEnv       env;
    GrePlan         *plan;

    host_env(s, &env);
    plan = gre_plan_build(s, &env, error);
    if (!plan) {
        g_autofree char *msg = NULL;

        if (env.route_dev[0]) {
            g_prefix_error(error, "%s: ", where);
            return NULL;
        }
        msg = g_strdup_printf(_("%s: %s\n%s: there is no route to %s yet; %s"), where,
                              (*error)->message, where, remote, order_hint);
        g_free((*error)->message);
        (*error)->message = g_steal_pointer(&msg);
        return NULL;
    }
    if (plan->underlay_mtu_assumed && !s->mtu)
        say(LOG_WARNING,
            _("%s: there is no route to %s yet, so the MTU %u assumes a 1500-byte path; %s"), where,
            remote, plan->mtu, order_hint);
    return plan;
}

static const GreAddr *
planned_local(const GrePlan *plan)
{
    for (guint i = 0; i < plan->steps->len; i++) {
        const GrePlanStep *step = &g_array_index(plan->steps, GrePlanStep, i);
        if (step->kind == GRE_STEP_LINK)
            return &step->link.local;
    }
    return NULL;
}

/* The plan's IKE connection (IPSEC=ike), NULL for the other modes. */
static const GrePlanIkeConn *
planned_ike(const GrePlan *plan)
{
    for (guint i = 0; i < plan->steps->len; i++) {
        const GrePlanStep *step = &g_array_index(plan->steps, GrePlanStep, i);
        if (step->kind == GRE_STEP_IKE_CONN)
            return &step->ike_conn;
    }
    return NULL;
}

/* IPSEC=ike at boot. The wait for the peer is bounded (GRE_APPLY_IKE_TIMEOUT_MS, as for
 * `gre-tunnel up`), and a peer that does not answer in time leaves the tunnel up with the
 * daemon's trap policies: GRE is dropped, never sent in the clear, until IKE succeeds, which the
 * daemon goes on trying. Failing instead would make the two ends depend on their boot order
 * and leave a tunnel that nobody brings up later. The daemon itself must be running: without
 * its policies GRE would go in the clear, so then ifup-gre fails, with the way out. */
static void
say_ike_wait(const GrePlanIkeConn *ike)
{
    g_autofree char *remote = gre_addr_to_string(&ike->remote);

    say(LOG_INFO,
        _("%s: IPSEC=ike: waiting up to %u s for the IKE daemon to negotiate with %s; if it does "
          "not answer, the tunnel stays up with GRE dropped until IKE succeeds"),
        ike->name, GRE_APPLY_IKE_TIMEOUT_MS / 1000, remote);
}

static void
hint_no_daemon(const GrePlanIkeConn *ike, GError *error)
{
    g_autoptr(GError) local = NULL;
    g_autoptr(GreVici) v    = gre_vici_connect(ike->socket, &local);
    char *msg;

    if (v || !g_error_matches(local, GRE_VICI_ERROR, GRE_VICI_ERROR_CONNECT))
        return;
    msg = g_strdup_printf(_("%s\nIPSEC=ike needs the IKE daemon running before %s: at boot, "
                            "strongswan.service starts only after network-online.target, "
                            "after network-scripts and ifupdown; bring IKE tunnels up with "
                            "gre-tunnel@NAME.service or gre-tunnel-all.service, which start "
                            "after it (see ifup-gre(8), IKE AT BOOT)"),
                          error->message, PROG);
    g_free(error->message);
    error->message = msg;
}

static int
bring_up(const GrePlan *plan, const GreSettings *s)
{
    g_autoptr(GError) error       = NULL;
    g_auto(GreApplyReport) report = { 0 };
    const GrePlanIkeConn *ike     = planned_ike(plan);

    if (ike)
        say_ike_wait(ike);
    if (!gre_apply_up(plan, &report, &error)) {
        if (ike)
            hint_no_daemon(ike, error);
        return fail(g_steal_pointer(&error));
    }
    if (report.unchanged)
        say(LOG_INFO, _("%s: already up as configured; nothing changed"), plan->name);
    else
        say(LOG_INFO,
            g_dngettext(GETTEXT_PACKAGE, "%s: up%s: %u object created, MTU %u%s",
                        "%s: up%s: %u objects created, MTU %u%s", report.created),
            plan->name,
            report.recreated ? _(" (recreated: the settings had changed or an earlier attempt "
                                 "was incomplete)")
                             : "",
            report.created, plan->mtu, s->ipsec != GRE_IPSEC_NONE ? _(", GRE-only IPsec") : "");
    say_all(LOG_INFO, report.notes);
    say_all(LOG_WARNING, report.warnings);
    return EXIT_OK;
}

static int
take_down(const char *name, gboolean from_ifup_tunnel_file)
{
    g_autoptr(GError) error       = NULL;
    g_auto(GreApplyReport) report = { 0 };
    gboolean         had_record   = gre_state_exists(name);
    g_autofree char *nsdir        = gre_state_netns_dir(NULL);
    g_autofree char *dir          = nsdir ? g_steal_pointer(&nsdir) : gre_state_dir();

    if (!gre_apply_down_full(name, &report, &error))
        return fail(g_steal_pointer(&error));
    if (report.removed)
        say(LOG_INFO,
            g_dngettext(GETTEXT_PACKAGE, "%s: down: %u object removed",
                        "%s: down: %u objects removed", report.removed),
            name, report.removed);
    else if (!had_record && if_nametoindex(name))
        /* Only what our record lists is ours; a device of the same name may be anyone's. */
        say(LOG_WARNING,
            _("%s: there is no record of bringing it up in %s, so the device %s is left alone%s; "
              "if it is a leftover, remove it with: ip link del dev %s"),
            name, dir, name,
            from_ifup_tunnel_file ? _(" (ifdown-tunnel would delete any device of that name)") : "",
            name);
    else
        say(LOG_INFO, _("%s: nothing to remove"), name);
    say_all(LOG_INFO, report.notes);
    say_all(LOG_WARNING, report.warnings);
    return EXIT_OK;
}

static gboolean
check_name(const char *where, const char *name, GError **error)
{
    g_autoptr(GreSettings) tmp = gre_settings_new();
    g_autoptr(GError) local    = NULL;

    if (gre_key_set(gre_key_info(GRE_KEY_DEVICE), tmp, name, &local))
        return TRUE;
    g_set_error(error, GRE_ERROR, GRE_ERROR_INVALID, "%s: %s", where, local->message);
    return FALSE;
}

/* ---- network-scripts: ifcfg-NAME, keys-NAME, route-NAME, route6-NAME ---- */

static char *
scripts_dir(void)
{
    const char *dir = g_getenv("GRE_NETWORK_SCRIPTS_DIR");

    return g_strdup(dir && *dir ? dir : GRE_NETWORK_SCRIPTS_DIR);
}

/* As network-scripts' need_config: ifcfg-ARG, then ARG itself, in the network-scripts directory.
 * An argument with a slash is a path. */
static char *
config_path(const char *arg)
{
    g_autofree char *dir      = scripts_dir();
    g_autofree char *prefixed = NULL;
    g_autofree char *plain    = NULL;

    if (strchr(arg, '/'))
        return g_strdup(arg);
    if (!g_str_has_prefix(arg, "ifcfg-")) {
        prefixed = g_strconcat(dir, "/ifcfg-", arg, NULL);
        if (g_file_test(prefixed, G_FILE_TEST_EXISTS))
            return g_steal_pointer(&prefixed);
    }
    plain = g_build_filename(dir, arg, NULL);
    if (g_file_test(plain, G_FILE_TEST_EXISTS) || !prefixed)
        return g_steal_pointer(&plain);
    return g_steal_pointer(&prefixed);
}

/* network-scripts hand TYPE=GRE and TYPE=GRE6 to their own ifup-tunnel; such a file reaches us
 * only when someone runs ifup-gre on it directly. */
static const char *
ifup_tunnel_type(const GreShvarFile *ifcfg)
{
    const char *type = gre_shvar_file_get(ifcfg, "TYPE");

    if (type && (strcmp(type, "GRE") == 0 || strcmp(type, "GRE6") == 0))
        return type;
    return NULL;
}

/* The keys ifup-tunnel reads; it ignores every other key of ours. */
static gboolean
ifup_tunnel_reads(const char *key)
{
    static const char *const keys[] = { "DEVICE",
                                        "MY_OUTER_IPADDR",
                                        "PEER_OUTER_IPADDR",
                                        "MY_INNER_IPADDR",
                                        "PEER_INNER_IPADDR",
                                        "KEY",
                                        "TTL",
                                        "MTU" };

    for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
        if (strcmp(key, keys[i]) == 0)
            return TRUE;
    }
    return FALSE;
}

/* What changes for a file written for ifup-tunnel, so that moving to ifup-gre holds no
 * surprises. */
static void
ifup_tunnel_notes(const GreIfcfg *cfg, const char *type, const GrePlan *plan, guint file_routes)
{
    const GreSettings *s    = cfg->settings;
    const char        *ttl  = gre_shvar_file_get(cfg->ifcfg, "TTL");
    const char        *mtu  = gre_shvar_file_get(cfg->ifcfg, "MTU");
    const char *const *keys = gre_shvar_file_get_keys(cfg->ifcfg);
    g_autofree char   *peer = gre_addr_to_string(&s->remote);

    say(LOG_INFO,
        _("%s: TYPE=%s is ifup-tunnel's; ifup-gre reads it, and this is what it does "
          "differently:"),
        cfg->ifcfg_path, type);
    if (!ttl || !*ttl)
        say(LOG_INFO, _("TTL: not set; using %s (ifup-tunnel would inherit)"),
            gre_key_info(GRE_KEY_TTL)->def);
    if (s->local.family == AF_UNSPEC) {
        g_autofree char *local = gre_addr_to_string(planned_local(plan));
        say(LOG_INFO,
            _("MY_OUTER_IPADDR: not set; using %s, the source address of the route to %s "
              "(ifup-tunnel would leave the tunnel unbound, accepting GRE on every local address)"),
            local, peer);
    }
    if (!mtu || !*mtu) {
        g_autoptr(GreSettings) plain = gre_settings_copy(s);
        guint kernel;

        plain->ipsec = GRE_IPSEC_NONE;
        kernel       = gre_mtu_compute(plain, plan->underlay_mtu, NULL);
        if (kernel != plan->mtu)
            say(LOG_INFO,
                _("MTU: not set; using %u, what fits once ESP is added (ifup-tunnel would leave "
                  "the kernel's %u, which has no room for ESP)"),
                plan->mtu, kernel);
    }
    for (guint i = 0; keys[i]; i++) {
        if (gre_key_lookup(GRE_STYLE_IFCFG, keys[i]) && !ifup_tunnel_reads(keys[i]))
            say(LOG_INFO, _("%s: used (ifup-tunnel ignores it)"), keys[i]);
    }
    if (file_routes)
        say(LOG_INFO,
            _("route files: %u routes get the tunnel's inner address as their source and are "
              "removed again by ifdown-gre (ifup-routes sets no source and leaves them behind)"),
            file_routes);
    if (plan->pinned && s->pin == GRE_PIN_AUTO)
        say(LOG_INFO,
            _("PEER_OUTER_IPADDR: a tunnel route covers %s, so a host route pins it to the "
              "underlay (with ifup-tunnel the tunnel's own packets would be routed into it)"),
            peer);
}

static int
up_ifcfg(const char *arg, gboolean boot)
{
    g_autofree char *path         = config_path(arg);
    g_autoptr(GError) error       = NULL;
    g_autoptr(GreShvarFile) raw   = NULL;
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GreIfcfg) cfg       = NULL;
    g_autoptr(GrePlan) plan       = NULL;
    const char *onboot, *type;
    guint       file_routes;
    gboolean    b;

    if (!(raw = gre_shvar_file_load(path, &error)))
        return fail(g_steal_pointer(&error));
    onboot = gre_shvar_file_get(raw, "ONBOOT");
    if (boot && onboot && gre_parse_bool(onboot, &b) && !b)
        return EXIT_OK; /* network-scripts' `ifup NAME boot` with ONBOOT=no: nothing, quietly */
    if (onboot && *onboot && !gre_parse_bool(onboot, &b))
        say(LOG_WARNING,
            _("%s:%u: ONBOOT: \"%s\" is neither yes nor no; network-scripts bring such a "
              "tunnel up at boot"),
            path, gre_shvar_file_get_line(raw, "ONBOOT"), onboot);

    if (!(cfg = gre_ifcfg_load(path, warnings, &error)))
        return fail(g_steal_pointer(&error));
    say_all(LOG_WARNING, warnings);
    if (!gre_routes_file_add_beside(cfg->ifcfg_path, cfg->settings, &file_routes, &error))
        return fail(g_steal_pointer(&error));

    plan = plan_tunnel(cfg->settings, path,
                       boot ? _("at boot, network-scripts bring up TYPE=gre files in name order "
                                "with the other interfaces, before VLANs, bridges and PPPoE: set "
                                "MY_OUTER_IPADDR and UNDERLAY_MTU so that the tunnel needs no "
                                "route, or give it a name that sorts after its underlay's")
                            : _("bring up the underlay first, or set MY_OUTER_IPADDR and "
                                "UNDERLAY_MTU so that the tunnel needs no route"),
                       &error);
    if (!plan)
        return fail(g_steal_pointer(&error));
    if ((type = ifup_tunnel_type(cfg->ifcfg)))
        ifup_tunnel_notes(cfg, type, plan, file_routes);
    return bring_up(plan, cfg->settings);
}

static int
down_ifcfg(const char *arg)
{
    g_autofree char *path       = config_path(arg);
    g_autoptr(GError) error     = NULL;
    g_autoptr(GreShvarFile) raw = NULL;
    g_autofree char *name       = NULL;

    if (g_file_test(path, G_FILE_TEST_EXISTS)) {
        /* Only DEVICE matters: a file that no longer validates can still be taken down. */
        const char *device;

        if (!(raw = gre_shvar_file_load(path, &error)))
            return fail(g_steal_pointer(&error));
        device = gre_shvar_file_get(raw, "DEVICE");
        if (!device || !*device)
            return fail(g_error_new(GRE_ERROR, GRE_ERROR_INVALID,
                                    _("%s: DEVICE: missing: cannot tell which tunnel to take down"),
                                    path));
        name = g_strdup(device);
    } else if (!strchr(arg, '/')) {
        /* The file is gone, but the record of what was created is not. */
        name = g_strdup(g_str_has_prefix(arg, "ifcfg-") ? arg + 6 : arg);
    } else
        return fail(g_error_new(GRE_ERROR, GRE_ERROR_IO, _("%s: no such file"), path));
    if (!check_name(raw ? path : arg, name, &error))
        return fail(g_steal_pointer(&error));
    return take_down(name, raw && ifup_tunnel_type(raw));
}

/* ---- ifupdown: IFACE and IF_* from an /etc/network/interfaces stanza ---- */

#define KEYS_FILE_OPTION "gre-keys-file"

typedef struct {
    const char   *iface;
    const char   *where; /* "iface NAME" */
    const char   *keys_path;
    GreShvarFile *keys; /* NULL without gre-keys-file */
} Stanza;

/* The variable ifupdown exports for an option: IF_, then the name upper-cased with '-' as '_'
 * and anything else not alphanumeric dropped (execute.c, setlocalenv()). */
static char *
env_name(const char *option)
{
    GString *s = g_string_new("IF_");

    for (const char *p = option; *p; p++) {
        char c = *p == '-' ? '_' : g_ascii_toupper(*p);
        if (g_ascii_isalnum(c) || c == '_')
            g_string_append_c(s, c);
    }
    return g_string_free(s, FALSE);
}

/* Whether the stanza is ours: only stanzas with gre-* options are. */
static gboolean
stanza_has_gre_options(void)
{
    g_auto(GStrv) env = g_get_environ();

    for (guint i = 0; env[i]; i++) {
        if (g_str_has_prefix(env[i], "IF_GRE_"))
            return TRUE;
    }
    return FALSE;
}

static gboolean
is_known_variable(const char *var)
{
    g_autofree char *keys_file = env_name(KEYS_FILE_OPTION);

    if (strcmp(var, keys_file) == 0)
        return TRUE;
    for (guint i = 0; i < GRE_KEY_COUNT; i++) {
        const char      *opt = gre_key_info(i)->ifupdown;
        g_autofree char *v   = opt ? env_name(opt) : NULL;

        if (v && strcmp(v, var) == 0)
            return TRUE;
    }
    return FALSE;
}

static void
warn_unknown_options(const Stanza *st)
{
    g_auto(GStrv) env = g_get_environ();

    for (guint i = 0; env[i]; i++) {
        g_autofree char *var = NULL;
        const char      *eq  = strchr(env[i], '=');

        if (!g_str_has_prefix(env[i], "IF_GRE_") || !eq)
            continue;
        var = g_strndup(env[i], eq - env[i]);
        if (!is_known_variable(var)) {
            g_autofree char *opt = g_ascii_strdown(var + 3, -1);
            g_strdelimit(opt, "_", '-');
            say(LOG_WARNING, _("%s: %s: not an option of GRE tunnels; ignored (see ifup-gre(8))"),
                st->where, opt);
        }
    }
}

static const char *
stanza_get(const char *name, gpointer user_data)
{
    const GreKeyInfo *key = gre_key_lookup(GRE_STYLE_IFUPDOWN, name);
    g_autofree char  *var = NULL;

    (void)user_data;
    /* Secrets never come from the stanza: they are read from gre-keys-file, apart. */
    if (!key || key->secret)
        return NULL;
    var = env_name(name);
    return g_getenv(var);
}

static char *
stanza_locate(const GreKeyInfo *key, gpointer user_data)
{
    const Stanza *st = user_data;

    /* Validation names keys by their stanza option (esp-key-in); in the keys file they are
     * written as in keys-NAME, so say that name too. */
    if (key->secret && st->keys) {
        guint line = gre_shvar_file_get_line(st->keys, key->ifcfg);
        if (line)
            return g_strdup_printf("%s:%u (%s)", st->keys_path, line, key->ifcfg);
        return g_strdup_printf("%s (%s)", st->keys_path, key->ifcfg);
    }
    return g_strdup(st->where);
}

static gboolean
read_keys_file(Stanza *st, GreSettings *s, GError **error)
{
    g_autofree char   *var = env_name(KEYS_FILE_OPTION);
    const char *const *keys;

    st->keys_path = g_getenv(var);
    if (!st->keys_path || !*st->keys_path) {
        st->keys_path = NULL;
        return TRUE;
    }
    if (!g_path_is_absolute(st->keys_path)) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_INVALID,
                    _("%s: gre-keys-file: \"%s\" is not an absolute path"), st->where,
                    st->keys_path);
        return FALSE;
    }
    st->keys = gre_shvar_file_load_private(st->keys_path, geteuid(), error);
    if (!st->keys)
        return FALSE;

    keys = gre_shvar_file_get_keys(st->keys);
    for (guint i = 0; keys[i]; i++) {
        const GreKeyInfo *key  = gre_key_lookup(GRE_STYLE_IFCFG, keys[i]);
        guint             line = gre_shvar_file_get_line(st->keys, keys[i]);

        if (!key)
            say(LOG_WARNING, _("%s:%u: %s: not a key of GRE tunnels; ignored"), st->keys_path, line,
                keys[i]);
        else if (!key->secret)
            say(LOG_WARNING,
                _("%s:%u: %s: only keys are read from this file; set it in the stanza as %s"),
                st->keys_path, line, keys[i], key->ifupdown ? key->ifupdown : key->ifcfg);
    }
    for (guint i = 0; i < GRE_KEY_COUNT; i++) {
        const GreKeyInfo *key   = gre_key_info(i);
        const char       *text  = key->secret ? gre_shvar_file_get(st->keys, key->ifcfg) : NULL;
        g_autoptr(GError) local = NULL;

        if (!text || !*text)
            continue;
        if (!gre_key_set(key, s, text, &local)) {
            g_set_error(error, GRE_ERROR, GRE_ERROR_INVALID, "%s:%u: %s: %s", st->keys_path,
                        gre_shvar_file_get_line(st->keys, key->ifcfg), key->ifcfg, local->message);
            return FALSE;
        }
    }
    return TRUE;
}

/* The settings of the stanza ifupdown is working on; NULL with @error on any problem. */
static GreSettings *
stanza_settings(Stanza *st, GError **error)
{
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GreSettings) s      = NULL;
    const char *method            = g_getenv("METHOD");

    if (method && strcmp(method, "manual") != 0) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_INVALID,
                    _("%s: write \"iface %s %s manual\" instead of %s: the tunnel's addresses and "
                      "routes come from its gre-* options, and the %s method would set the device "
                      "up on its own"),
                    st->where, st->iface, g_getenv("ADDRFAM") ? g_getenv("ADDRFAM") : "inet",
                    method, method);
        return NULL;
    }
    for (guint i = 0; i < GRE_KEY_COUNT; i++) {
        const GreKeyInfo *key = gre_key_info(i);
        g_autofree char  *var = key->secret && key->ifupdown ? env_name(key->ifupdown) : NULL;

        if (var && g_getenv(var)) {
            g_set_error(
                error, GRE_ERROR, GRE_ERROR_PERMISSION,
                _("%s: %s: secrets do not belong in /etc/network/interfaces, which everyone "
                  "can read; write %s=... into a file only root can read (mode 0600) and "
                  "name it with gre-keys-file"),
                st->where, key->ifupdown, key->ifcfg);
            return NULL;
        }
    }
    warn_unknown_options(st);

    s = gre_settings_from_lookup(GRE_STYLE_IFUPDOWN, stanza_get, stanza_locate, st, error);
    if (!s || !check_name(st->where, st->iface, error))
        return NULL;
    g_strlcpy(s->name, st->iface, sizeof s->name);
    if (!read_keys_file(st, s, error))
        return NULL;
    if (s->ipsec == GRE_IPSEC_IKE && !st->keys) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_INVALID,
                    _("%s: %s ike needs gre-keys-file FILE: a file only root can read (mode "
                      "0600) holding IKE_PSK=..., the pre-shared key (at least 16 characters, "
                      "the same on both ends; gre-tunnel keygen makes one)"),
                    st->where, gre_key_info(GRE_KEY_IPSEC)->ifupdown);
        return NULL;
    }
    if (s->ipsec != GRE_IPSEC_NONE && !st->keys) {
        g_set_error(
            error, GRE_ERROR, GRE_ERROR_INVALID,
            _("%s: %s manual needs gre-keys-file FILE: a file only root can read (mode 0600) "
              "holding KEY_ESP_IN=0x... and KEY_ESP_OUT=0x..."),
            st->where, gre_key_info(GRE_KEY_IPSEC)->ifupdown);
        return NULL;
    }
    if (!gre_settings_validate(s, GRE_STYLE_IFUPDOWN, stanza_locate, st, warnings, error))
        return NULL;
    say_all(LOG_WARNING, warnings);
    return g_steal_pointer(&s);
}

static int
run_ifupdown(void)
{
    g_autoptr(GError) error  = NULL;
    g_autoptr(GreSettings) s = NULL;
    g_autoptr(GrePlan) plan  = NULL;
    g_autofree char *where   = NULL;
    Stanza           st      = { 0 };
    const char      *iface   = g_getenv("IFACE");

    if (!iface || !*iface)
        return fail(g_error_new(G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                                _("--ifupdown is for ifupdown's hooks, which set IFACE and the "
                                  "IF_* options of the stanza; to run it by hand, use ifup or "
                                  "ifdown")));
    if (!stanza_has_gre_options())
        return EXIT_OK; /* not a GRE stanza: nothing to do */
    where    = g_strdup_printf("iface %s", iface);
    st.iface = iface;
    st.where = where;

    if (GRE_BOOT_DOWN) {
        if (!check_name(where, iface, &error))
            return fail(g_steal_pointer(&error));
        return take_down(iface, FALSE);
    }
    s = stanza_settings(&st, &error);
    gre_shvar_file_free(st.keys);
    if (!s)
        return fail(g_steal_pointer(&error));
    plan = plan_tunnel(s, where,
                       _("ifup -a follows /etc/network/interfaces from the top: put this stanza "
                         "after its underlay's, or set gre-local and gre-underlay-mtu so that the "
                         "tunnel needs no route"),
                       &error);
    if (!plan)
        return fail(g_steal_pointer(&error));
    return bring_up(plan, s);
}

int
main(int argc, char **argv)
{
    gboolean     ifupdown = FALSE, version = FALSE;
    GOptionEntry entries[] = {
        { "ifupdown", 0, 0, G_OPTION_ARG_NONE, &ifupdown,
          N_("Run as ifupdown's hook: the tunnel is the stanza ifupdown is working on (IFACE and "
             "its IF_GRE_* options in the environment)"),
          NULL },
        { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_("Print the version"), NULL },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("CONFIG [boot]");
    g_autoptr(GError) error       = NULL;
    g_autofree char *summary      = NULL;

    gre_i18n_init();
    openlog(PROG, 0, LOG_DAEMON);
    g_set_prgname(PROG);

    summary = g_strdup_printf(
        /* TRANSLATORS: %s is "Bring up" or "Take down" */
        _("%s the GRE tunnel CONFIG describes: an ifcfg file (ifcfg-NAME or NAME in %s, or a "
          "path), "
          "with keys-NAME, route-NAME and route6-NAME beside it. network-scripts run it as "
          "ifup-$DEVICETYPE for files with DEVICETYPE=gre; with \"boot\" and ONBOOT=no it does "
          "nothing. See ifup-gre(8)."),
        GRE_BOOT_DOWN ? _("Take down") : _("Bring up"), GRE_NETWORK_SCRIPTS_DIR);
    g_option_context_set_translation_domain(ctx, GETTEXT_PACKAGE);
    g_option_context_set_summary(ctx, summary);
    g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
    if (!g_option_context_parse(ctx, &argc, &argv, &error))
        return fail(g_steal_pointer(&error));
    if (version) {
        g_print("%s %s\n", PROG, GRE_VERSION);
        return EXIT_OK;
    }
    if (ifupdown) {
        if (argc != 1)
            return fail(g_error_new(G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                    _("--ifupdown takes no arguments: the stanza comes from the "
                                      "environment")));
        return run_ifupdown();
    }
    if (argc < 2 || argc > 3)
        return fail(g_error_new(G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                _("usage: %s CONFIG [boot]; see --help"), PROG));
    /* network-scripts pass "boot" from the network service; other words are theirs to pass. */
    if (GRE_BOOT_DOWN)
        return down_ifcfg(argv[1]);
    return up_ifcfg(argv[1], argc == 3 && strcmp(argv[2], "boot") == 0);
}
