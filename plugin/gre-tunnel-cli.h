/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "gre-ifcfg.h"
#include "gre-plan.h"

/* Where CONFIG=NAME is looked up, and what up --all reads by default. */
#define GRE_CLI_NETWORK_SCRIPTS_DIR "/etc/sysconfig/network-scripts"

/* Shared by the gre-tunnel subcommands. */
char     *gre_cli_config_path(const char *config);
GreIfcfg *gre_cli_load(const char *config, gboolean quiet, GError **error);
void      gre_cli_env(const GreSettings *s, GrePlanEnv *env);

/* The subcommands that change or read the kernel (gre-tunnel-kernel.c). */
int gre_cli_up(int argc, char **argv);
int gre_cli_down(int argc, char **argv);
int gre_cli_status(int argc, char **argv);
/* up --all, down --all and plan --all (gre-tunnel-all.c): the exit status. */
typedef enum { GRE_CLI_ALL_UP, GRE_CLI_ALL_DOWN, GRE_CLI_ALL_PLAN } GreCliAllMode;
typedef struct {
    GreCliAllMode mode;
    gboolean      quiet;
    guint         underlay_mtu;   /* plan: instead of the route's; 0: the route's */
    gboolean      show_secrets;   /* plan */
    gboolean      wait_peer;      /* up: IPSEC=ike, as up --wait-peer */
    guint         ike_timeout_ms; /* up: the run's whole wait for IKE; 0: the default */
} GreCliAllOptions;
int gre_cli_all(const GreCliAllOptions *opt, const char *dir_or_null);
/* What `plan CONFIG` prints: a header line, then the steps as ip commands. */
void gre_cli_print_plan(const GrePlan *plan, const GreSettings *s, gboolean down,
                        gboolean show_secrets);

/* gre-tunnel keygen (gre-tunnel-keygen.c). */
int gre_cli_keygen(int argc, char **argv);
