/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gre-tunnel up, down and status: the subcommands that talk to the kernel through apply. */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gre-apply.h"
#include "gre-error.h"
#include "gre-i18n.h"
#include "gre-routes-file.h"
#include "gre-tunnel-cli.h"

static int
report_error(GError *error)
{
    g_autoptr(GError) owned = error;
    g_autofree char *shown  = gre_error_display(owned->message);

    g_printerr("gre-tunnel: %s\n", shown);
    if (owned->domain == G_OPTION_ERROR)
        return 2;
    return owned->domain == GRE_ERROR && owned->code == GRE_ERROR_KERNEL ? 3 : 1;
}

static void
print_notes(const GreApplyReport *report)
{
    for (guint i = 0; report->notes && i < report->notes->len; i++)
        g_print("  %s\n", (char *)report->notes->pdata[i]);
    for (guint i = 0; report->warnings && i < report->warnings->len; i++)
        g_printerr(_("gre-tunnel: warning: %s\n"), (char *)report->warnings->pdata[i]);
}

static GOptionContext *
context(const char *params, const char *summary)
{
    GOptionContext *ctx = g_option_context_new(params);

    g_option_context_set_translation_domain(ctx, GETTEXT_PACKAGE);
    g_option_context_set_summary(ctx, summary);
    return ctx;
}

/* --all and -q, shared by up and down. */
typedef struct {
    gboolean all;
    gboolean quiet;
} AllOptions;

static void
add_all_options(GOptionContext *ctx, AllOptions *o, gboolean down)
{
    GOptionEntry entries[] = {
        { "all", 'a', 0, G_OPTION_ARG_NONE, &o->all,
          down ? N_("Every tunnel brought up from an ifcfg file in DIR (default "
                    "/etc/sysconfig/network-scripts), in one process, in reverse order")
               : N_("Every ifcfg file in DIR (default /etc/sysconfig/network-scripts) with "
                    "DEVICETYPE=gre and ONBOOT not no, in one process, in name order"),
          NULL },
        { "quiet", 'q', 0, G_OPTION_ARG_NONE, &o->quiet,
          N_("Print only errors, and the summary when something failed"), NULL },
        { NULL },
    };

    g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
}

int
gre_cli_up(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = context(
        "CONFIG|--all [DIR]",
        N_("Bring up the tunnel CONFIG (an ifcfg file, or NAME) describes: GRE device, "
           "exact MTU, addresses, routes and GRE-only IPsec, all or nothing. Running it "
           "again changes nothing; after a settings change it recreates the tunnel. With --all, "
           "every tunnel of DIR, each all or nothing: one that fails is named and the others "
           "come up."));
    g_autoptr(GError) error       = NULL;
    g_autoptr(GreIfcfg) cfg       = NULL;
    g_autoptr(GrePlan) plan       = NULL;
    g_auto(GreApplyReport) report = { 0 };
    AllOptions      opt           = { 0 };
    GrePlanEnv      env;
    GreApplyOptions opts      = { FALSE, 0 };
    int             timeout   = GRE_APPLY_IKE_TIMEOUT_MS / 1000;
    GOptionEntry    entries[] = {
           { "wait-peer", 0, 0, G_OPTION_ARG_NONE, &opts.wait_peer,
             N_("IPSEC=ike: fail (and remove everything) when the peer does not answer IKE in time, "
                   "instead of leaving the tunnel up with the trap"),
             NULL },
           { "ike-timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
             N_("IPSEC=ike: how long to wait for the IPsec SA (default 30); with --all, the "
                   "whole run's wait, each tunnel waiting at least 2"),
             N_("SECONDS") },
           { NULL }
    };

    add_all_options(ctx, &opt, FALSE);
    g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
    if (!g_option_context_parse(ctx, &argc, &argv, &error))
        return report_error(g_steal_pointer(&error));
    if (opt.all && argc > 2)
        return report_error(g_error_new(G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                        _("up --all takes at most one DIR; see --help")));
    if (timeout < 1 || timeout > 3600)
        return report_error(g_error_new(G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                        _("--ike-timeout takes 1 to 3600 seconds")));
    opts.ike_timeout_ms = (guint)timeout * 1000;
    if (opt.all)
        return gre_cli_all(&(GreCliAllOptions){ GRE_CLI_ALL_UP, opt.quiet, 0, FALSE, opts.wait_peer,
                                                opts.ike_timeout_ms },
                           argc == 2 ? argv[1] : NULL);
    if (argc != 2)
        return report_error(g_error_new(G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                        _("up takes one CONFIG; see --help")));
    if (!(cfg = gre_cli_load(argv[1], opt.quiet, &error)) ||
        !gre_routes_file_add_beside(cfg->ifcfg_path, cfg->settings, NULL, &error))
        return report_error(g_steal_pointer(&error));
    gre_cli_env(cfg->settings, &env);
    if (!(plan = gre_plan_build(cfg->settings, &env, &error)))
        return report_error(g_steal_pointer(&error));
    /* The file goes into the record: down --all takes down what came from its directory. */
    if (!gre_apply_up_full(plan, cfg->ifcfg_path, &opts, &report, &error))
        return report_error(g_steal_pointer(&error));
    if (opt.quiet) {
        /* Warnings are not chatter: IPSEC=ike up without its SA yet is said even so. */
        for (guint i = 0; report.warnings && i < report.warnings->len; i++)
            g_printerr(_("gre-tunnel: warning: %s\n"), (char *)report.warnings->pdata[i]);
        return 0;
    }
    if (report.unchanged)
        g_print(_("%s: already up as configured; nothing changed\n"), plan->name);
    else
        g_print(g_dngettext(GETTEXT_PACKAGE, "%s: up%s: %u object created, MTU %u%s\n",
                            "%s: up%s: %u objects created, MTU %u%s\n", report.created),
                plan->name,
                report.recreated ? _(" (recreated: the settings had changed or an earlier attempt "
                                     "was incomplete)")
                                 : "",
                report.created, plan->mtu, cfg->settings->ipsec ? _(", GRE-only IPsec") : "");
    print_notes(&report);
    return 0;
}

/* NAME, or CONFIG from which DEVICE is read; a config that no longer validates can still be
 * taken down. */
static char *
name_of(const char *arg, GError **error)
{
    g_autofree char *path        = gre_cli_config_path(arg);
    g_autoptr(GreShvarFile) file = NULL;
    const char *device;

    if (!strchr(arg, '/') && access(path, F_OK) != 0)
        return g_strdup(arg);
    if (!(file = gre_shvar_file_load(path, error)))
        return NULL;
    device = gre_shvar_file_get(file, "DEVICE");
    if (!device || !*device) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_INVALID, _("%s: DEVICE: missing"), path);
        return NULL;
    }
    return g_strdup(device);
}

int
gre_cli_down(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = context(
        "CONFIG|NAME|--all [DIR]",
        N_("Take a tunnel down: remove exactly what gre-tunnel up created (as "
           "recorded under /run/gre-tunnel) and nothing else. With --all, every tunnel of this "
           "network namespace whose record says it was brought up from a file in DIR, whether "
           "or not the file is still there."));
    g_autoptr(GError) error       = NULL;
    g_autofree char *name         = NULL;
    g_auto(GreApplyReport) report = { 0 };
    AllOptions opt                = { 0 };

    add_all_options(ctx, &opt, TRUE);
    if (!g_option_context_parse(ctx, &argc, &argv, &error))
        return report_error(g_steal_pointer(&error));
    if (opt.all && argc > 2)
        return report_error(g_error_new(G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                        _("down --all takes at most one DIR; see --help")));
    if (opt.all)
        return gre_cli_all(&(GreCliAllOptions){ GRE_CLI_ALL_DOWN, opt.quiet, 0, FALSE },
                           argc == 2 ? argv[1] : NULL);
    if (argc != 2)
        return report_error(g_error_new(G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                        _("down takes one CONFIG or NAME; see --help")));
    if (!(name = name_of(argv[1], &error)))
        return report_error(g_steal_pointer(&error));
    if (!gre_apply_down_full(name, &report, &error))
        return report_error(g_steal_pointer(&error));
    if (opt.quiet)
        return 0;
    if (report.removed)
        g_print(g_dngettext(GETTEXT_PACKAGE, "%s: down: %u object removed\n",
                            "%s: down: %u objects removed\n", report.removed),
                name, report.removed);
    else
        g_print(_("%s: nothing to remove\n"), name);
    print_notes(&report);
    return 0;
}

int
gre_cli_status(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = context(
        "[NAME]", N_("Show tunnels brought up by gre-tunnel as the kernel reports them: link, MTU, "
                     "TTL mode, addresses, routes and IPsec counters."));
    g_autoptr(GError) error = NULL;
    g_autoptr(GString) out  = g_string_new(NULL);

    if (!g_option_context_parse(ctx, &argc, &argv, &error))
        return report_error(g_steal_pointer(&error));
    if (argc > 2)
        return report_error(g_error_new(G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                        _("status takes at most one NAME; see --help")));
    if (!gre_apply_status(argc == 2 ? argv[1] : NULL, out, &error))
        return report_error(g_steal_pointer(&error));
    g_print("%s", out->str);
    return 0;
}
