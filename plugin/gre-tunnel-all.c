/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gre-tunnel up --all / down --all: every tunnel of a network-scripts directory in one process,
 * on one netlink socket per family. Each tunnel is still its own transaction with its own lock
 * and record, so one bad file or one failing tunnel fails alone and the others come up.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "gre-apply.h"
#include "gre-error.h"
#include "gre-i18n.h"
#include "gre-kernel-env.h"
#include "gre-routes-file.h"
#include "gre-settings-table.h"
#include "gre-state.h"
#include "gre-tunnel-cli.h"
#include "gre-validate.h"

#define TEMPLATE_PREFIX "gre-tunnel@"
#define TEMPLATE_SUFFIX ".service"
#define UNIT_DIRS "/etc/systemd/system:/run/systemd/system:/usr/lib/systemd/system"

enum { EXIT_OK = 0, EXIT_CONFIG = 1, EXIT_SYSTEM = 3 };

/* IPSEC=ike: what each tunnel waits for its CHILD_SA at least, once the run's wait is spent. A
 * peer that is there answers within it (two round trips and a DH each way); one that is not
 * costs the run no more than this. */
#define ALL_IKE_MIN_WAIT_MS 2000

typedef struct {
    const GreCliAllOptions *opt;
    gboolean                quiet;
    guint                   done;
    GPtrArray              *failed; /* of char *: names */
    int                     status;
    gint64                  ike_deadline; /* monotonic µs; 0: no IKE tunnel yet */
    GPtrArray              *pending;      /* of char *: up with the trap, no CHILD_SA yet */
} Run;

static void
run_failed(Run *run, const char *name, const GError *error)
{
    g_printerr("gre-tunnel: %s\n", error->message);
    g_ptr_array_add(run->failed, g_strdup(name));
    if (error->domain == GRE_ERROR && error->code == GRE_ERROR_KERNEL)
        run->status = EXIT_SYSTEM;
    else if (run->status == EXIT_OK)
        run->status = EXIT_CONFIG;
}

static void
print_notes(const Run *run, const GreApplyReport *report)
{
    for (guint i = 0; !run->quiet && report->notes && i < report->notes->len; i++)
        g_print("  %s\n", (char *)report->notes->pdata[i]);
    /* Warnings are not chatter: an IKE tunnel up without its SA is said even with -q. */
    for (guint i = 0; report->warnings && i < report->warnings->len; i++)
        g_printerr(_("gre-tunnel: warning: %s\n"), (char *)report->warnings->pdata[i]);
}

/* How long this IPSEC=ike tunnel may wait for its CHILD_SA. --ike-timeout bounds the whole
 * run's waiting, not each tunnel's: with one wait per tunnel, a hub whose spokes are all silent
 * (its own uplink down at boot) would take 30 s per spoke. The clock starts at the first IKE
 * tunnel; once it has run out, each tunnel still waits ALL_IKE_MIN_WAIT_MS, so that a peer that
 * answers is still confirmed or refused. A tunnel whose peer is silent is left up with the trap
 * as by a single `up`, and the daemon goes on negotiating. */
static guint
ike_wait_ms(Run *run)
{
    guint  total = run->opt->ike_timeout_ms ? run->opt->ike_timeout_ms : GRE_APPLY_IKE_TIMEOUT_MS;
    gint64 now   = g_get_monotonic_time();
    gint64 left;

    if (!run->ike_deadline)
        run->ike_deadline = now + (gint64)total * 1000;
    left = (run->ike_deadline - now) / 1000;
    return (guint)CLAMP(left, MIN(ALL_IKE_MIN_WAIT_MS, total), total);
}

/* ---- which files: network-scripts' own rules ---- */

/* The network service's list: ifcfg-* less editor and package-manager leftovers, the loopback,
 * aliases (ifcfg-eth0:1) and ranges (ifcfg-eth0-range0). */
static gboolean
is_candidate(const char *file)
{
    static const char *const ignored[] = { "~",       ".bak",     ".old",    ".orig",
                                           ".rpmnew", ".rpmorig", ".rpmsave" };

    if (!g_str_has_prefix(file, "ifcfg-") || !file[6] || g_str_equal(file, "ifcfg-lo") ||
        strchr(file, ':') || strstr(file + 6, "-range"))
        return FALSE;
    for (guint i = 0; i < G_N_ELEMENTS(ignored); i++) {
        if (g_str_has_suffix(file, ignored[i]))
            return FALSE;
    }
    return TRUE;
}

/* network-scripts' order: the name up to its first digit, then the number there (spoke2 before
 * spoke10), then the whole name. */
static int
cmp_names(const char *a, const char *b)
{
    gsize   la = strcspn(a, "0123456789"), lb = strcspn(b, "0123456789");
    guint64 na, nb;
    int     c = strncmp(a, b, MIN(la, lb));

    if (c || la != lb)
        return c ? c : (la < lb ? -1 : 1);
    na = g_ascii_strtoull(a + la, NULL, 10);
    nb = g_ascii_strtoull(b + lb, NULL, 10);
    if (na != nb)
        return na < nb ? -1 : 1;
    return strcmp(a, b);
}

static int
cmp_names_p(gconstpointer a, gconstpointer b)
{
    return cmp_names(*(char *const *)a, *(char *const *)b);
}

static GPtrArray *
list_files(const char *dir, GError **error)
{
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    DIR           *d           = opendir(dir);
    struct dirent *entry;

    if (!d) {
        int errsv = errno;

        g_set_error(error, GRE_ERROR, GRE_ERROR_IO, _("cannot read the directory %s: %s"), dir,
                    g_strerror(errsv));
        return NULL;
    }
    while ((entry = readdir(d))) {
        if (is_candidate(entry->d_name))
            g_ptr_array_add(files, g_strdup(entry->d_name));
    }
    closedir(d);
    g_ptr_array_sort(files, cmp_names_p);
    return g_steal_pointer(&files);
}

/* A file our reader refuses may still be meant for us: then it fails, named; otherwise it is
 * someone else's (a file for bash) and not our business. The test is network-scripts' own: a
 * DEVICETYPE=gre line, quoted or not. */
static gboolean
says_devicetype_gre(const char *path)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines   = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return TRUE; /* unreadable: cannot tell, so it is named */
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        g_autofree char *l = g_strdup(lines[i]);

        g_strstrip(l);
        if (g_str_equal(l, "DEVICETYPE=gre") || g_str_equal(l, "DEVICETYPE=\"gre\"") ||
            g_str_equal(l, "DEVICETYPE='gre'"))
            return TRUE;
    }
    return FALSE;
}

/* ---- one front end per tunnel: instances of gre-tunnel@.service that are enabled ---- */

/* systemd-escape's \xHH back to bytes: the instance is what %i hands to gre-tunnel. */
static char *
unescape_instance(const char *s, gsize len)
{
    GString *out = g_string_new(NULL);

    for (gsize i = 0; i < len; i++) {
        if (s[i] == '\\' && i + 3 < len && s[i + 1] == 'x' && g_ascii_isxdigit(s[i + 2]) &&
            g_ascii_isxdigit(s[i + 3])) {
            g_string_append_c(
                out, (char)(g_ascii_xdigit_value(s[i + 2]) * 16 + g_ascii_xdigit_value(s[i + 3])));
            i += 3;
        } else
            g_string_append_c(out, s[i]);
    }
    return g_string_free(out, FALSE);
}

static void
add_instances(GHashTable *set, const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *entry;

    while (d && (entry = g_dir_read_name(d))) {
        gsize len = strlen(entry);

        if (g_str_has_prefix(entry, TEMPLATE_PREFIX) && g_str_has_suffix(entry, TEMPLATE_SUFFIX) &&
            len > strlen(TEMPLATE_PREFIX) + strlen(TEMPLATE_SUFFIX))
            g_hash_table_add(
                set, unescape_instance(entry + strlen(TEMPLATE_PREFIX),
                                       len - strlen(TEMPLATE_PREFIX) - strlen(TEMPLATE_SUFFIX)));
    }
}

/* The NAMEs of gre-tunnel@NAME.service that are enabled: wanted or required by some unit, as
 * `systemctl enable` (its [Install] section) or `systemctl add-wants` record it. */
static GHashTable *
enabled_instances(void)
{
    GHashTable *set     = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    const char *dirs    = g_getenv("GRE_TUNNEL_UNIT_DIRS"); /* for the tests */
    g_auto(GStrv) roots = g_strsplit(dirs && *dirs ? dirs : UNIT_DIRS, ":", -1);

    for (guint i = 0; roots[i]; i++) {
        g_autoptr(GDir) d = g_dir_open(roots[i], 0, NULL);
        const char *entry;

        while (d && (entry = g_dir_read_name(d))) {
            g_autofree char *sub = NULL;

            if (!g_str_has_suffix(entry, ".wants") && !g_str_has_suffix(entry, ".requires"))
                continue;
            sub = g_build_filename(roots[i], entry, NULL);
            add_instances(set, sub);
        }
    }
    return set;
}

/* The instance that reads @file: gre-tunnel@NAME for DIR/ifcfg-NAME. */
static const char *
instance_of(GHashTable *enabled, const char *file, const char *device)
{
    const char *name = g_str_has_prefix(file, "ifcfg-") ? file + 6 : NULL;

    if (name && g_hash_table_contains(enabled, name))
        return name;
    if (device && g_hash_table_contains(enabled, device))
        return device;
    return NULL;
}

static void
say_skipped(const Run *run, const char *name, const char *instance)
{
    if (!run->quiet)
        g_print(_("%s: skipped: %s%s%s is enabled and brings it up and down\n"), name,
                TEMPLATE_PREFIX, instance, TEMPLATE_SUFFIX);
}

/* ---- up ---- */

static GrePlan *
plan_of(const Run *run, GreApplyContext *ctx, const GreIfcfg *cfg, GError **error)
{
    const GreSettings *s  = cfg->settings;
    g_autoptr(GError) err = NULL;
    GrePlanEnv env        = { 0 };
    GreNl     *rt         = gre_apply_context_route(ctx, error);
    GrePlan   *plan;

    if (!rt)
        return NULL;
    /* Missing facts are fine until the plan needs them, as for a single up. */
    if (!gre_kernel_env_resolve_nl(rt, &s->remote, s->underlay[0] ? s->underlay : NULL, &env, &err))
        g_debug("no facts about the route to the remote: %s", err->message);
    if (run->opt->underlay_mtu)
        env.route_mtu = run->opt->underlay_mtu;
    plan = gre_plan_build(s, &env, error);
    if (!plan)
        g_prefix_error(error, "%s: ", cfg->ifcfg_path);
    return plan;
}

static void
up_one(Run *run, GreApplyContext *ctx, GHashTable *enabled, GHashTable *devices, const char *dir,
       const char *file)
{
    g_autofree char *path         = g_build_filename(dir, file, NULL);
    g_autoptr(GError) error       = NULL;
    g_autoptr(GreShvarFile) raw   = NULL;
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GreIfcfg) cfg       = NULL;
    g_autoptr(GrePlan) plan       = NULL;
    g_auto(GreApplyReport) report = { 0 };
    GreApplyOptions opts          = { run->opt->wait_peer, 0 };
    const char     *dtype, *onboot, *device, *instance, *seen;
    gboolean        b;

    if (!(raw = gre_shvar_file_load(path, &error))) {
        if (says_devicetype_gre(path))
            run_failed(run, file + 6, error);
        return;
    }
    dtype = gre_shvar_file_get(raw, "DEVICETYPE");
    if (g_strcmp0(dtype, "gre") != 0)
        return; /* not ours */
    device = gre_shvar_file_get(raw, "DEVICE");
    if (!device || !*device)
        device = file + 6;
    onboot = gre_shvar_file_get(raw, "ONBOOT");
    if (onboot && *onboot && !gre_parse_bool(onboot, &b)) {
        if (!run->quiet)
            g_printerr(_("gre-tunnel: warning: %s:%u: ONBOOT: \"%s\" is neither yes nor no; "
                         "taken as yes, as network-scripts do\n"),
                       path, gre_shvar_file_get_line(raw, "ONBOOT"), onboot);
    } else if (onboot && *onboot && !b)
        return; /* ONBOOT=no: brought up by hand only */
    if ((instance = instance_of(enabled, file, device))) {
        say_skipped(run, device, instance);
        return;
    }
    if ((seen = g_hash_table_lookup(devices, device))) {
        g_set_error(&error, GRE_ERROR, GRE_ERROR_INVALID,
                    _("%s:%u: DEVICE: %s is also the device of %s, which comes first; one file "
                      "per tunnel"),
                    path, gre_shvar_file_get_line(raw, "DEVICE"), device, seen);
        run_failed(run, file + 6, error); /* the device is the other file's */
        return;
    }
    g_hash_table_insert(devices, g_strdup(device), g_strdup(path));

    if (!(cfg = gre_ifcfg_load(path, warnings, &error)) ||
        !gre_routes_file_add_beside(cfg->ifcfg_path, cfg->settings, NULL, &error) ||
        !(plan = plan_of(run, ctx, cfg, &error))) {
        run_failed(run, device, error);
        return;
    }
    for (guint i = 0; !run->quiet && i < warnings->len; i++)
        g_printerr(_("gre-tunnel: warning: %s\n"), (char *)warnings->pdata[i]);
    if (run->opt->mode == GRE_CLI_ALL_PLAN) {
        /* What up --all would do, one tunnel after the other, without touching the kernel. */
        if (run->done++)
            g_print("\n");
        gre_cli_print_plan(plan, cfg->settings, FALSE, run->opt->show_secrets);
        return;
    }
    if (cfg->settings->ipsec == GRE_IPSEC_IKE)
        opts.ike_timeout_ms = ike_wait_ms(run);
    if (!gre_apply_up_with_options(ctx, plan, path, &opts, &report, &error)) {
        g_prefix_error(&error, "%s: ", plan->name);
        run_failed(run, plan->name, error);
        return;
    }
    run->done++;
    if (report.ike_pending)
        g_ptr_array_add(run->pending, g_strdup(plan->name));
    for (guint i = 0; run->quiet && report.warnings && i < report.warnings->len; i++)
        g_printerr(_("gre-tunnel: warning: %s\n"), (char *)report.warnings->pdata[i]);
    if (run->quiet)
        return;
    if (report.unchanged) {
        /* One line per tunnel: the notes would only say the same again. */
        g_print(_("%s: already up as configured; nothing changed\n"), plan->name);
        return;
    }
    g_print(g_dngettext(GETTEXT_PACKAGE, "%s: up%s: %u object created, MTU %u%s\n",
                        "%s: up%s: %u objects created, MTU %u%s\n", report.created),
            plan->name,
            report.recreated ? _(" (recreated: the settings had changed or an earlier attempt "
                                 "was incomplete)")
                             : "",
            report.created, plan->mtu, cfg->settings->ipsec ? _(", GRE-only IPsec") : "");
    print_notes(run, &report);
}

static void
up_all(Run *run, GreApplyContext *ctx, const char *dir, GPtrArray *files)
{
    g_autoptr(GHashTable) enabled = enabled_instances();
    g_autoptr(GHashTable) devices = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

    for (guint i = 0; i < files->len; i++)
        up_one(run, ctx, enabled, devices, dir, files->pdata[i]);
}

/* ---- down: from the records, so that a tunnel whose file is gone still comes down ---- */

static void
down_all(Run *run, GreApplyContext *ctx, const char *dir)
{
    g_autoptr(GHashTable) enabled = enabled_instances();
    g_autofree char *probe        = g_build_filename(dir, "ifcfg-", NULL);
    g_autofree char *source       = gre_state_source_path(probe);
    g_autofree char *real_dir     = g_path_get_dirname(source); /* DIR as records name it */
    g_autoptr(GError) error       = NULL;
    g_autoptr(GPtrArray) names    = gre_state_list(&error);

    if (!names) {
        run_failed(run, "-", error);
        return;
    }
    g_ptr_array_sort(names, cmp_names_p);
    for (guint i = names->len; i-- > 0;) {
        const char *name              = names->pdata[i];
        g_autoptr(GreStateRecord) rec = gre_state_read(name, &error);
        g_auto(GreApplyReport) report = { 0 };
        g_autofree char *from         = NULL;
        g_autofree char *file         = NULL;
        const char      *instance;

        if (!rec) {
            if (error) {
                run_failed(run, name, error);
                g_clear_error(&error);
            }
            continue;
        }
        if (!rec->source)
            continue; /* brought up by NetworkManager, ifupdown or an earlier version */
        from = g_path_get_dirname(rec->source);
        file = g_path_get_basename(rec->source);
        if (!g_str_equal(from, real_dir))
            continue;
        if ((instance = instance_of(enabled, file, name))) {
            say_skipped(run, name, instance);
            continue;
        }
        if (!gre_apply_down_with(ctx, name, &report, &error)) {
            run_failed(run, name, error);
            g_clear_error(&error);
            continue;
        }
        run->done++;
        if (run->quiet)
            continue;
        if (report.removed)
            g_print(g_dngettext(GETTEXT_PACKAGE, "%s: down: %u object removed\n",
                                "%s: down: %u objects removed\n", report.removed),
                    name, report.removed);
        else
            g_print(_("%s: nothing to remove\n"), name);
        print_notes(run, &report);
    }
}

int
gre_cli_all(const GreCliAllOptions *opt, const char *dir_or_null)
{
    gboolean down                  = opt->mode == GRE_CLI_ALL_DOWN;
    g_autoptr(GreApplyContext) ctx = gre_apply_context_new();
    g_autoptr(GPtrArray) failed    = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) pending   = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) files     = NULL;
    g_autoptr(GError) error        = NULL;
    const char      *dir           = dir_or_null ? dir_or_null : GRE_CLI_NETWORK_SCRIPTS_DIR;
    Run              run           = { opt, opt->quiet, 0, failed, EXIT_OK, 0, pending };
    g_autofree char *names         = NULL;

    /* down needs the directory too, not the files: a tunnel whose file is gone comes down. */
    if (!(files = list_files(dir, &error))) {
        g_printerr("gre-tunnel: %s\n", error->message);
        return EXIT_CONFIG;
    }
    if (down)
        down_all(&run, ctx, dir);
    else
        up_all(&run, ctx, dir, files);

    if (pending->len) {
        g_autofree char *list = NULL;

        g_ptr_array_add(pending, NULL);
        list = g_strjoinv(", ", (char **)pending->pdata);
        /* TRANSLATORS: up --all: tunnels left up with the trap, the peer silent so far */
        g_printerr(g_dngettext(GETTEXT_PACKAGE,
                               "%u IPSEC=ike tunnel is up without its IPsec SA yet (GRE waits for "
                               "IKE, which the daemon goes on trying): %s\n",
                               "%u IPSEC=ike tunnels are up without their IPsec SA yet (GRE waits "
                               "for IKE, which the daemon goes on trying): %s\n",
                               pending->len - 1),
                   pending->len - 1, list);
    }

    if (!failed->len) {
        if (opt->quiet)
            return EXIT_OK;
        /* TRANSLATORS: the summary of up --all: tunnels up, tunnels that failed (none) */
        if (down)
            g_print(_("%u down, 0 failed\n"), run.done);
        else if (opt->mode == GRE_CLI_ALL_PLAN)
            g_print(_("# %u planned, 0 failed\n"), run.done);
        else
            g_print(_("%u up, 0 failed\n"), run.done);
        return EXIT_OK;
    }
    g_ptr_array_add(failed, NULL);
    names = g_strjoinv(", ", (char **)failed->pdata);
    /* TRANSLATORS: tunnels done, tunnels that failed, their names */
    g_printerr(down                            ? _("%u down, %u failed: %s\n")
               : opt->mode == GRE_CLI_ALL_PLAN ? _("# %u planned, %u failed: %s\n")
                                               : _("%u up, %u failed: %s\n"),
               run.done, failed->len - 1, names);
    return run.status;
}
