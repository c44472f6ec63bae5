/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nm-gre-auth-dialog: asks for the IPsec keys of a GRE tunnel whose keys the user's agent
 * holds or that are never saved. NetworkManager's agents (nm-applet, gnome-shell, nmcli) start
 * it with the connection on stdin, as nm_vpn_service_plugin_read_vpn_details() reads it.
 *
 * With --external-ui-mode it only describes what to ask, as a key file on stdout, and the agent
 * asks. Otherwise it asks itself (with -i, when anything must be asked), prints the secrets as
 * "NAME\nVALUE\n" pairs ending in an empty line, and waits for QUIT.
 */
#include <NetworkManager.h>
#include <gtk/gtk.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gre-auth-secrets.h"
#include "gre-i18n.h"
#include "gre-settings-table.h"
#include "gre-settings.h"

#define GRE_SERVICE_TYPE "org.freedesktop.NetworkManager.gre"

/* Asks for every secret marked so, in one dialog. FALSE when the user cancels. */
static gboolean
ask_user(GPtrArray *list, const char *connection_name)
{
    gboolean         ike = list->len && g_str_equal(((GreAuthSecret *)list->pdata[0])->name,
                                                    gre_key_info(GRE_KEY_IKE_PSK)->nm);
    g_autofree char *sentence =
        g_strdup_printf(ike ? _("The GRE tunnel \"%s\" needs its IKE pre-shared key to connect.")
                            : _("The GRE tunnel \"%s\" needs these keys (hex digits) to connect."),
                        connection_name);
    /* The markup stays out of the catalog; the name and the translations are escaped. */
    g_autofree char *text =
        g_markup_printf_escaped("<b>%s</b>\n\n%s", _("IPsec keys needed"), sentence);
    GtkWidget *dialog =
        gtk_dialog_new_with_buttons(_("Authenticate GRE tunnel"), NULL, 0, _("_Cancel"),
                                    GTK_RESPONSE_CANCEL, _("C_onnect"), GTK_RESPONSE_OK, NULL);
    GtkWidget *grid       = gtk_grid_new();
    GtkWidget *label      = gtk_label_new(text);
    GtkWidget *entries[8] = { NULL };
    guint      row        = 1;
    gboolean   ok;

    gtk_dialog_set_default_response(GTK_DIALOG(dialog), GTK_RESPONSE_OK);
    gtk_grid_set_row_spacing(GTK_GRID(grid), 6);
    gtk_grid_set_column_spacing(GTK_GRID(grid), 12);
    gtk_container_set_border_width(GTK_CONTAINER(grid), 12);
    gtk_label_set_markup(GTK_LABEL(label), text);
    gtk_label_set_xalign(GTK_LABEL(label), 0);
    gtk_widget_set_margin_bottom(label, 6);
    gtk_grid_attach(GTK_GRID(grid), label, 0, 0, 2, 1);
    for (guint i = 0; i < list->len && i < G_N_ELEMENTS(entries); i++) {
        GreAuthSecret *secret = list->pdata[i];
        GtkWidget     *name;

        if (!secret->ask)
            continue;
        name       = gtk_label_new(secret->label);
        entries[i] = gtk_entry_new();
        gtk_label_set_xalign(GTK_LABEL(name), 1);
        gtk_widget_set_name(entries[i], secret->name);
        gtk_entry_set_visibility(GTK_ENTRY(entries[i]), FALSE);
        gtk_entry_set_activates_default(GTK_ENTRY(entries[i]), TRUE);
        gtk_entry_set_width_chars(GTK_ENTRY(entries[i]), 40);
        if (secret->value)
            gtk_entry_set_text(GTK_ENTRY(entries[i]), secret->value);
        gtk_grid_attach(GTK_GRID(grid), name, 0, row, 1, 1);
        gtk_grid_attach(GTK_GRID(grid), entries[i], 1, row++, 1, 1);
    }
    gtk_container_add(GTK_CONTAINER(gtk_dialog_get_content_area(GTK_DIALOG(dialog))), grid);
    gtk_widget_show_all(dialog);

    ok = gtk_dialog_run(GTK_DIALOG(dialog)) == GTK_RESPONSE_OK;
    for (guint i = 0; ok && i < list->len && i < G_N_ELEMENTS(entries); i++) {
        GreAuthSecret *secret = list->pdata[i];
        const char    *value;

        if (!entries[i])
            continue;
        /* The entry's own buffer is GTK's (not ours to wipe); our copy is wiped when freed. */
        value = gtk_entry_get_text(GTK_ENTRY(entries[i]));
        gre_wipe_free(secret->value);
        secret->value = *value ? g_strdup(value) : NULL;
    }
    gtk_widget_destroy(dialog);
    return ok;
}

/* NetworkManager reads the secrets, then writes QUIT; leaving earlier would look like a crash. */
static void
wait_for_quit(void)
{
    g_autoptr(GString) line = g_string_new(NULL);
    char c;

    while (read(STDIN_FILENO, &c, 1) == 1) {
        if (c != '\n') {
            g_string_append_c(line, c);
            continue;
        }
        if (strcmp(line->str, "QUIT") == 0)
            return;
        g_string_truncate(line, 0);
    }
}

/* An error for whoever started the dialog: agents log its stderr. Returns the exit status. */
static int G_GNUC_PRINTF(1, 2) fail(const char *fmt, ...)
{
    va_list ap;

    fputs("nm-gre-auth-dialog: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

int
main(int argc, char **argv)
{
    g_autofree char *uuid = NULL, *name = NULL, *service = NULL;
    g_auto(GStrv) hints   = NULL;
    gboolean     reprompt = FALSE, interactive = FALSE, external_ui = FALSE;
    GOptionEntry entries[] = {
        { "reprompt", 'r', 0, G_OPTION_ARG_NONE, &reprompt, N_("Ask again even if keys are known"),
          NULL },
        { "uuid", 'u', 0, G_OPTION_ARG_STRING, &uuid, N_("UUID of the connection"), "UUID" },
        { "name", 'n', 0, G_OPTION_ARG_STRING, &name, N_("Name of the connection"), "NAME" },
        { "service", 's', 0, G_OPTION_ARG_STRING, &service, N_("VPN service type"), "SERVICE" },
        { "allow-interaction", 'i', 0, G_OPTION_ARG_NONE, &interactive, N_("Allow asking the user"),
          NULL },
        { "external-ui-mode", 0, 0, G_OPTION_ARG_NONE, &external_ui,
          N_("Describe the secrets as a key file for the agent to ask"), NULL },
        { "hint", 't', 0, G_OPTION_ARG_STRING_ARRAY, &hints, N_("Secret hints (unused)"), "HINT" },
        { NULL },
    };
    g_autoptr(GOptionContext) context      = NULL;
    g_autoptr(GError) error                = NULL;
    g_autoptr(GHashTable) data             = NULL;
    g_autoptr(GreAuthSecretsTable) secrets = NULL;
    g_autoptr(GPtrArray) list              = NULL;

    /* A program of its own: the agent's locale, and this package's catalog as the default. */
    gre_i18n_init();
    context = g_option_context_new(N_("- GRE tunnel IPsec key dialog"));
    g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);
    g_option_context_add_main_entries(context, entries, GETTEXT_PACKAGE);
    if (!g_option_context_parse(context, &argc, &argv, &error))
        return fail("%s", error->message);
    if (!uuid || !name || !service)
        return fail("%s", _("-u UUID, -n NAME and -s SERVICE are required"));
    if (strcmp(service, GRE_SERVICE_TYPE) != 0)
        return fail(_("service %s is not %s"), service, GRE_SERVICE_TYPE);
    if (!nm_vpn_service_plugin_read_vpn_details(STDIN_FILENO, &data, &secrets))
        return fail(_("no connection details on stdin for %s"), uuid);

    list = gre_auth_secrets_needed(data, secrets, reprompt);
    if (external_ui) {
        g_autofree char *text = gre_auth_secrets_to_external_ui(list, name);

        fputs(text, stdout);
        fflush(stdout);
        gre_wipe_free(g_steal_pointer(&text));
        return 0;
    }
    if (interactive && gre_auth_secrets_any_ask(list)) {
        if (!gtk_init_check(NULL, NULL))
            return fail("%s", _("no display to ask on"));
        if (!ask_user(list, name))
            return 1;
    }
    gre_auth_secrets_print(list, stdout);
    wait_for_quit();
    return 0;
}
