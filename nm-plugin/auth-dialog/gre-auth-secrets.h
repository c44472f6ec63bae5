/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <stdio.h>

/*
 * What the auth dialog must return for a connection and what it must ask the user, from the
 * connection's vpn.data (ipsec mode, suite, secret flags) and the secrets it already has.
 * Toolkit-free, so that nmcli's external UI mode and the GTK dialog decide alike.
 */

typedef struct {
    const char *name;  /* vpn.secrets key */
    const char *label; /* for the user */
    char       *value; /* the known value, or NULL; wiped when freed */
    gboolean    ask;   /* whether the user must be asked */
} GreAuthSecret;

/* The secrets this connection needs (none without IPsec; with manual keys the ESP keys, the HMAC
 * keys only for CBC suites; with IKE the pre-shared key),
 * as GreAuthSecret in a GPtrArray that frees them. A secret flagged not-required is never listed;
 * one flagged not-saved is always asked; any other is asked when it has no value, or on
 * @reprompt. */
GPtrArray *gre_auth_secrets_needed(GHashTable *data, GHashTable *secrets, gboolean reprompt);

/* Whether any secret of @list must be asked. */
gboolean gre_auth_secrets_any_ask(GPtrArray *list);

/* nmcli's external UI: a key file with a [VPN Plugin UI] group (Version=2, Title, Description)
 * and one group per secret (Value, Label, IsSecret, ShouldAsk). */
char *gre_auth_secrets_to_external_ui(GPtrArray *list, const char *connection_name);

/* Frees the vpn.secrets table NetworkManager handed over (nm_vpn_service_plugin_read_vpn_details),
 * wiping its values first. */
void               gre_auth_secrets_table_free(GHashTable *secrets);
typedef GHashTable GreAuthSecretsTable;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GreAuthSecretsTable, gre_auth_secrets_table_free)

/* The answer to NetworkManager: "NAME\nVALUE\n" per secret that has a value, then "\n\n". */
void gre_auth_secrets_print(GPtrArray *list, FILE *out);
