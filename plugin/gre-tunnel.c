/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gre-tunnel: the admin CLI. */
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gre-error.h"
#include "gre-i18n.h"
#include "gre-ifcfg.h"
#include "gre-routes-file.h"
#include "gre-kernel-env.h"
#include "gre-mirror.h"
#include "gre-mtu.h"
#include "gre-plan.h"
#include "gre-settings-table.h"
#include "gre-suite.h"
#include "gre-tunnel-cli.h"

enum {
    EXIT_OK     = 0,
    EXIT_CONFIG = 1, /* bad configuration, or two ends that do not mirror each other */
    EXIT_USAGE  = 2,
    EXIT_SYSTEM = 3, /* the kernel or the system failed */
};

static int
exit_code_for(const GError *error)
{
    if (error->domain == G_OPTION_ERROR)
        return EXIT_USAGE;
    if (error->domain == GRE_ERROR && error->code == GRE_ERROR_KERNEL)
        return EXIT_SYSTEM;
    return EXIT_CONFIG;
}

static int
fail(GError *error)
{
    g_autoptr(GError) owned = error;
    g_autofree char *shown  = gre_error_display(owned->message);

    g_printerr("gre-tunnel: %s\n", shown);
    return exit_code_for(owned);
}

static void
print_warnings(GPtrArray *warnings)
{
    for (guint i = 0; warnings && i < warnings->len; i++) {
        g_autofree char *shown = gre_error_display(warnings->pdata[i]);

        g_printerr(_("gre-tunnel: warning: %s\n"), shown);
    }
}

/* CONFIG is a path to an ifcfg file, or NAME for GRE_CLI_NETWORK_SCRIPTS_DIR/ifcfg-NAME. */
char *
gre_cli_config_path(const char *config)
{
    if (!strchr(config, '/') && access(config, F_OK) != 0)
        return g_strdup_printf(GRE_CLI_NETWORK_SCRIPTS_DIR "/ifcfg-%s", config);
    return g_strdup(config);
}

GreIfcfg *
gre_cli_load(const char *config, gboolean quiet, GError **error)
{
    g_autofree char *path         = gre_cli_config_path(config);
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    GreIfcfg *cfg                 = gre_ifcfg_load(path, warnings, error);

    if (cfg && !quiet)
        print_warnings(warnings);
    return cfg;
}

/* Facts about this host for the plan; missing facts are fine until the plan needs them. */
void
gre_cli_env(const GreSettings *s, GrePlanEnv *env)
{
    g_autoptr(GError) error = NULL;

    memset(env, 0, sizeof *env);
    if (!gre_kernel_env_resolve(&s->remote, s->underlay[0] ? s->underlay : NULL, env, &error))
        g_debug("no facts about the route to the remote: %s", error->message);
}

static GOptionContext *
context_new(const char *params, const char *summary, GOptionEntry *entries)
{
    GOptionContext *ctx = g_option_context_new(params);

    g_option_context_set_translation_domain(ctx, GETTEXT_PACKAGE);
    g_option_context_set_summary(ctx, summary);
    if (entries)
        g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
    return ctx;
}

static gboolean
parse_args(GOptionContext *ctx, int *argc, char ***argv, int want_min, int want_max, GError **error)
{
    if (!g_option_context_parse(ctx, argc, argv, error))
        return FALSE;
    if (*argc - 1 < want_min || *argc - 1 > want_max) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    _("wrong number of arguments; see --help"));
        return FALSE;
    }
    return TRUE;
}

void
gre_cli_print_plan(const GrePlan *plan, const GreSettings *s, gboolean down, gboolean show_secrets)
{
    g_autoptr(GPtrArray) lines = NULL;
    g_autofree char *remote    = gre_addr_to_string(&s->remote);

    /* TRANSLATORS: name, gre or ip6gre, remote address, MTU, underlay MTU and two remarks */
    g_print(_("# %s: %s to %s, MTU %u (underlay %u%s)%s\n"), plan->name,
            s->remote.family == AF_INET6 ? "ip6gre" : "gre", remote, plan->mtu, plan->underlay_mtu,
            plan->underlay_mtu_assumed ? _(", assumed: no route to the remote") : "",
            plan->pinned ? _(", remote pinned to the underlay") : "");
    lines = down ? gre_plan_render_down(plan) : gre_plan_render_up(plan, show_secrets);
    for (guint i = 0; i < lines->len; i++)
        g_print("%s\n", (char *)lines->pdata[i]);
    if (show_secrets) {
        for (guint i = 0; i < lines->len; i++)
            explicit_bzero(lines->pdata[i], strlen(lines->pdata[i]));
    }
}

static int
cmd_plan(int argc, char **argv)
{
    gboolean     show_secrets = FALSE, down = FALSE, all = FALSE;
    int          underlay  = 0;
    GOptionEntry entries[] = {
        { "all", 'a', 0, G_OPTION_ARG_NONE, &all,
          N_("The plan of every tunnel up --all would bring up from DIR (default "
             "/etc/sysconfig/network-scripts), in its order; bad files are named"),
          NULL },
        { "underlay-mtu", 'u', 0, G_OPTION_ARG_INT, &underlay,
          N_("Plan for this path MTU instead of that of the route to the remote"), "N" },
        { "show-secrets", 0, 0, G_OPTION_ARG_NONE, &show_secrets,
          N_("Print IPsec keys instead of masking them"), NULL },
        { "down", 0, 0, G_OPTION_ARG_NONE, &down, N_("Print the removal instead of the creation"),
          NULL },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = context_new(
        "CONFIG|--all [DIR]",
        N_("Print the kernel objects CONFIG (an ifcfg file, or NAME) makes, in order, as "
           "the equivalent ip(8) commands."),
        entries);
    g_autoptr(GError) error = NULL;
    g_autoptr(GreIfcfg) cfg = NULL;
    g_autoptr(GrePlan) plan = NULL;
    GrePlanEnv env;

    if (!parse_args(ctx, &argc, &argv, all ? 0 : 1, 1, &error))
        return fail(g_steal_pointer(&error));
    if (underlay && (underlay < 68 || underlay > 65535))
        return fail(g_error_new(G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                _("--underlay-mtu %d: use a value from 68 to 65535"), underlay));
    if (all && down)
        return fail(g_error_new(G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                _("--all and --down: down --all works from the records of what "
                                  "is up, not from the files; see gre-tunnel status")));
    if (all)
        return gre_cli_all(&(GreCliAllOptions){ GRE_CLI_ALL_PLAN, FALSE, underlay, show_secrets },
                           argc == 2 ? argv[1] : NULL);
    if (!(cfg = gre_cli_load(argv[1], FALSE, &error)) ||
        !gre_routes_file_add_beside(cfg->ifcfg_path, cfg->settings, NULL, &error))
        return fail(g_steal_pointer(&error));
    gre_cli_env(cfg->settings, &env);
    if (underlay)
        env.route_mtu = underlay;
    if (!(plan = gre_plan_build(cfg->settings, &env, &error)))
        return fail(g_steal_pointer(&error));
    gre_cli_print_plan(plan, cfg->settings, down, show_secrets);
    return EXIT_OK;
}

static int
cmd_check(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = context_new(
        "A B",
        N_("Check that two ends of a tunnel (ifcfg files) mirror each other: outer and inner "
           "addresses swapped, keys, SPIs and IPsec keys swapped, the same suite, MTU and "
           "TTL mode. Exit status 1 on any mismatch."),
        NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GreIfcfg) a = NULL, b = NULL;
    g_autoptr(GPtrArray) mismatches = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) warnings   = g_ptr_array_new_with_free_func(g_free);

    if (!parse_args(ctx, &argc, &argv, 2, 2, &error))
        return fail(g_steal_pointer(&error));
    if (!(a = gre_cli_load(argv[1], TRUE, &error)) || !(b = gre_cli_load(argv[2], TRUE, &error)))
        return fail(g_steal_pointer(&error));
    gre_check(a->settings, a->ifcfg_path, b->settings, b->ifcfg_path, mismatches, warnings);
    for (guint i = 0; i < warnings->len; i++) {
        g_autofree char *shown = gre_error_display(warnings->pdata[i]);

        g_print(_("warning: %s\n"), shown);
    }
    for (guint i = 0; i < mismatches->len; i++) {
        g_autofree char *shown = gre_error_display(mismatches->pdata[i]);

        g_print(_("mismatch: %s\n"), shown);
    }
    if (mismatches->len) {
        g_printerr(g_dngettext(GETTEXT_PACKAGE,
                               "gre-tunnel: %u mismatch: the two ends do not mirror each other\n",
                               "gre-tunnel: %u mismatches: the two ends do not mirror each other\n",
                               mismatches->len),
                   mismatches->len);
        return EXIT_CONFIG;
    }
    g_print(_("%s and %s mirror each other\n"), a->ifcfg_path, b->ifcfg_path);
    return EXIT_OK;
}

static int
cmd_mirror(int argc, char **argv)
{
    g_autofree char *dir       = NULL;
    gboolean         force     = FALSE;
    GOptionEntry     entries[] = {
            { "output", 'o', 0, G_OPTION_ARG_FILENAME, &dir,
              N_("Write ifcfg-NAME and keys-NAME (mode 0600) into DIR"), "DIR" },
            { "force", 'f', 0, G_OPTION_ARG_NONE, &force, N_("Overwrite existing files in DIR"), NULL },
            { NULL },
    };
    g_autoptr(GOptionContext) ctx = context_new(
        "CONFIG",
        N_("Write the settings of the other end of the tunnel CONFIG describes. Without "
           "-o, print its ifcfg file (secrets are only ever written to a file)."),
        entries);
    g_autoptr(GError) error     = NULL;
    g_autoptr(GreIfcfg) cfg     = NULL;
    g_autoptr(GreSettings) peer = NULL;
    g_autofree char *text       = NULL;
    g_autofree char *keys       = NULL;

    if (!parse_args(ctx, &argc, &argv, 1, 1, &error))
        return fail(g_steal_pointer(&error));
    if (!(cfg = gre_cli_load(argv[1], FALSE, &error)))
        return fail(g_steal_pointer(&error));
    if (!(peer = gre_mirror(cfg->settings, &error))) {
        g_prefix_error_literal(&error, _("cannot mirror: "));
        return fail(g_steal_pointer(&error));
    }
    text = gre_ifcfg_format(peer);
    keys = gre_ifcfg_format_keys(peer);
    if (keys)
        explicit_bzero(keys, strlen(keys));
    if (dir) {
        if (!gre_ifcfg_write(peer, dir, force, &error))
            return fail(g_steal_pointer(&error));
        if (keys)
            g_print(_("wrote %s/ifcfg-%s and keys-%s\n"), dir, peer->name, peer->name);
        else
            g_print(_("wrote %s/ifcfg-%s\n"), dir, peer->name);
        return EXIT_OK;
    }
    g_print("%s", text);
    if (keys)
        g_print(_("# keys-%s holds the IPsec keys; write it with -o DIR\n"), peer->name);
    return EXIT_OK;
}

static int
cmd_mtu(int argc, char **argv)
{
    gboolean         explain = FALSE, key = FALSE, seq = FALSE, csum = FALSE, ipv6 = FALSE;
    int              underlay  = 0;
    g_autofree char *suite     = NULL;
    GOptionEntry     entries[] = {
            { "explain", 'e', 0, G_OPTION_ARG_NONE, &explain, N_("Show each subtraction"), NULL },
            { "underlay-mtu", 'u', 0, G_OPTION_ARG_INT, &underlay,
              N_("MTU of the path between the outer addresses (default: from CONFIG, else the route "
                     "to the remote, else 1500)"),
              "N" },
            { "ipsec", 0, 0, G_OPTION_ARG_STRING, &suite,
              N_("Without CONFIG: ESP suite, any of them (IPSEC=manual takes the CBC ones; the AEAD "
                     "ones are for IKE keying)"),
              "SUITE" },
            { "key", 0, 0, G_OPTION_ARG_NONE, &key, N_("Without CONFIG: with a GRE key"), NULL },
            { "seq", 0, 0, G_OPTION_ARG_NONE, &seq, N_("Without CONFIG: with sequence numbers"), NULL },
            { "csum", 0, 0, G_OPTION_ARG_NONE, &csum, N_("Without CONFIG: with checksums"), NULL },
            { "ipv6", '6', 0, G_OPTION_ARG_NONE, &ipv6, N_("Without CONFIG: IPv6 outer (ip6gre)"),
              NULL },
            { NULL },
    };
    g_autoptr(GOptionContext) ctx = context_new(
        "[CONFIG]",
        N_("Print the exact tunnel MTU: the largest inner packet that fits the underlay "
           "after GRE, the outer header and (with IPsec) ESP."),
        entries);
    g_autoptr(GError) error      = NULL;
    g_autoptr(GreIfcfg) cfg      = NULL;
    g_autoptr(GreSettings) flags = NULL;
    g_autoptr(GPtrArray) lines   = g_ptr_array_new_with_free_func(g_free);
    const GreSettings *s;
    const char        *source = "";
    guint              mtu;

    if (!parse_args(ctx, &argc, &argv, 0, 1, &error))
        return fail(g_steal_pointer(&error));
    if (underlay && (underlay < 68 || underlay > 65535))
        return fail(g_error_new(G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                _("--underlay-mtu %d: use a value from 68 to 65535"), underlay));
    if (argc == 2) {
        if (suite || key || seq || csum || ipv6)
            return fail(g_error_new(G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                    _("--ipsec, --key, --seq, --csum and --ipv6 describe a tunnel "
                                      "without CONFIG; with CONFIG its settings apply")));
        if (!(cfg = gre_cli_load(argv[1], TRUE, &error)))
            return fail(g_steal_pointer(&error));
        s = cfg->settings;
    } else {
        flags = gre_settings_new();
        gre_addr_parse(ipv6 ? "2001:db8::1" : "192.0.2.1", AF_UNSPEC, &flags->remote);
        flags->has_ikey = flags->has_okey = key;
        flags->seq                        = seq;
        flags->csum                       = csum;
        if (suite) {
            const GreSuiteInfo *info = gre_suite_lookup(suite);
            if (!info)
                return fail(g_error_new(G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                        _("--ipsec %s: unknown suite; known: %s"), suite,
                                        gre_suite_names()));
            flags->ipsec = GRE_IPSEC_MANUAL;
            flags->suite = info->id;
        }
        s = flags;
    }
    if (!underlay && s->underlay_mtu) {
        underlay = s->underlay_mtu;
        source   = _(" (UNDERLAY_MTU)");
    }
    if (!underlay && cfg) {
        GrePlanEnv env;
        gre_cli_env(s, &env);
        if (env.route_mtu) {
            underlay = env.route_mtu;
            source   = _(" (the route to the remote)");
        }
    }
    if (!underlay) {
        underlay = 1500;
        source   = cfg ? _(" (assumed: no route to the remote)") : "";
    }
    mtu = gre_mtu_compute(s, underlay, lines);
    if (!mtu)
        return fail(g_error_new(GRE_ERROR, GRE_ERROR_INVALID,
                                _("an underlay MTU of %d leaves no room for the tunnel"),
                                underlay));
    if (explain) {
        g_print(_("underlay MTU %d%s\n"), underlay, source);
        for (guint i = 0; i < lines->len; i++)
            g_print("%s\n", (char *)lines->pdata[i]);
        /* Only a suite from the command line can be one that static keys may not use. */
        if (flags && suite && !gre_suite_allowed(gre_suite_info(s->suite), GRE_IPSEC_MANUAL))
            g_print(_("%s is for IKE keying: with IPSEC=manual (static keys) only %s\n"),
                    gre_suite_info(s->suite)->name, gre_suite_names_for(GRE_IPSEC_MANUAL));
        if (s->mtu && s->mtu != mtu)
            g_print(_("configured MTU %u is used instead%s\n"), s->mtu,
                    s->mtu > mtu ? _(" (too large for this underlay!)") : "");
    } else
        g_print("%u\n", s->mtu ? s->mtu : mtu);
    return EXIT_OK;
}

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} commands[] = {
    { "up", gre_cli_up, N_("bring a tunnel up (CONFIG)") },
    { "down", gre_cli_down, N_("take a tunnel down (CONFIG or NAME)") },
    { "status", gre_cli_status, N_("show tunnels as the kernel reports them") },
    { "plan", cmd_plan, N_("print the ip(8) commands a tunnel amounts to") },
    { "check", cmd_check, N_("check that two ends mirror each other") },
    { "mirror", cmd_mirror, N_("write the settings of the other end") },
    { "keygen", gre_cli_keygen, N_("make fresh IPsec keys and SPIs") },
    { "mtu", cmd_mtu, N_("compute the exact tunnel MTU") },
};

static void
usage(FILE *out)
{
    fprintf(out, "%s",
            _("Usage: gre-tunnel COMMAND [OPTIONS] [ARGS]\n\n"
              "Symmetric GRE tunnels with an exact MTU and optional GRE-only IPsec.\n\n"
              "Commands:\n"));
    for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, _(commands[i].help));
    fprintf(out,
            _("\nRun gre-tunnel COMMAND --help for its options. CONFIG is an ifcfg file, or "
              "NAME for\n%s/ifcfg-NAME.\n"
              "Exit status: 0 ok, 1 bad configuration or mismatch, 2 usage, 3 system or "
              "kernel error.\n"),
            GRE_CLI_NETWORK_SCRIPTS_DIR);
}

int
main(int argc, char **argv)
{
    g_autofree char *prgname = NULL;

    gre_i18n_init();
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        g_print("gre-tunnel %s\n", GRE_VERSION);
        return EXIT_OK;
    }
    for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            prgname = g_strdup_printf("gre-tunnel %s", commands[i].name);
            g_set_prgname(prgname);
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    g_printerr(_("gre-tunnel: unknown command \"%s\"\n\n"), argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
