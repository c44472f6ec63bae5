/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "gre-ifcfg.h"
#include "gre-plan.h"

/* Shared by the gre-tunnel subcommands. */
char     *gre_cli_config_path(const char *config);
GreIfcfg *gre_cli_load(const char *config, gboolean quiet, GError **error);
void      gre_cli_env(const GreSettings *s, GrePlanEnv *env);

/* The subcommands that change or read the kernel (gre-tunnel-kernel.c). */
int gre_cli_up(int argc, char **argv);
int gre_cli_down(int argc, char **argv);
int gre_cli_status(int argc, char **argv);

/* gre-tunnel keygen (gre-tunnel-keygen.c). */
int gre_cli_keygen(int argc, char **argv);
