/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-editor-page.h"

#include "gre-editor-gtk.h"
#include "gre-i18n.h"
#include "gre-suite.h"

typedef enum {
    ROW_PAGE,
    ROW_HEADING,
    ROW_FIELD,
} RowKind;

typedef struct {
    RowKind     kind;
    GreKeyId    id;
    const char *text; /* page title, heading or field label; translated when shown */
} LayoutRow;

/* Which keys go where. Everything else about a key (name, type, default, help) is in the
 * settings table. The texts are looked up in the catalog when the page is built. */
static const LayoutRow layout[] = {
    { ROW_PAGE, 0, N_("Tunnel") },
    { ROW_HEADING, 0, N_("Endpoints") },
    { ROW_FIELD, GRE_KEY_DEVICE, N_("Device name") },
    { ROW_FIELD, GRE_KEY_REMOTE, N_("Remote address") },
    { ROW_FIELD, GRE_KEY_LOCAL, N_("Local address") },
    { ROW_FIELD, GRE_KEY_UNDERLAY, N_("Underlay device") },
    { ROW_FIELD, GRE_KEY_PIN, N_("Host route to remote") },
    { ROW_HEADING, 0, N_("Inner addresses and routes") },
    { ROW_FIELD, GRE_KEY_INNER4, N_("IPv4 address") },
    { ROW_FIELD, GRE_KEY_INNER4_PEER, N_("IPv4 peer") },
    { ROW_FIELD, GRE_KEY_INNER6, N_("IPv6 address") },
    { ROW_FIELD, GRE_KEY_INNER6_PEER, N_("IPv6 peer") },
    { ROW_FIELD, GRE_KEY_ROUTES, N_("Routes") },
    { ROW_FIELD, GRE_KEY_LOCAL_NETWORKS, N_("Local networks") },
    { ROW_PAGE, 0, N_("GRE and MTU") },
    { ROW_HEADING, 0, N_("GRE options") },
    { ROW_FIELD, GRE_KEY_KEY, N_("Key") },
    { ROW_FIELD, GRE_KEY_IKEY, N_("Input key") },
    { ROW_FIELD, GRE_KEY_OKEY, N_("Output key") },
    { ROW_FIELD, GRE_KEY_SEQ, N_("Sequence numbers") },
    { ROW_FIELD, GRE_KEY_CSUM, N_("Checksums") },
    { ROW_FIELD, GRE_KEY_PMTUDISC, N_("Path MTU discovery") },
    { ROW_FIELD, GRE_KEY_TTL, N_("TTL") },
    { ROW_FIELD, GRE_KEY_TOS, N_("TOS") },
    { ROW_FIELD, GRE_KEY_ENCAPLIMIT, N_("Encapsulation limit") },
    { ROW_HEADING, 0, N_("MTU") },
    { ROW_FIELD, GRE_KEY_MTU, N_("Tunnel MTU") },
    { ROW_FIELD, GRE_KEY_UNDERLAY_MTU, N_("Underlay MTU") },
    { ROW_PAGE, 0, N_("IPsec") },
    { ROW_HEADING, 0, N_("GRE-only IPsec") },
    { ROW_FIELD, GRE_KEY_IPSEC, N_("Mode") },
    { ROW_FIELD, GRE_KEY_SUITE, N_("Suite") },
    { ROW_HEADING, 0, N_("Static keys") },
    { ROW_FIELD, GRE_KEY_SPI_IN, N_("Inbound SPI") },
    { ROW_FIELD, GRE_KEY_SPI_OUT, N_("Outbound SPI") },
    { ROW_FIELD, GRE_KEY_ENC_KEY_IN, N_("Inbound key") },
    { ROW_FIELD, GRE_KEY_ENC_KEY_OUT, N_("Outbound key") },
    { ROW_FIELD, GRE_KEY_AUTH_KEY_IN, N_("Inbound HMAC key") },
    { ROW_FIELD, GRE_KEY_AUTH_KEY_OUT, N_("Outbound HMAC key") },
    { ROW_PAGE, 0, N_("IKE") },
    { ROW_HEADING, 0, N_("Keys negotiated by IKEv2 (strongSwan)") },
    { ROW_FIELD, GRE_KEY_IKE_PSK, N_("Pre-shared key") },
    { ROW_FIELD, GRE_KEY_IKE_LOCAL_ID, N_("Local identity") },
    { ROW_FIELD, GRE_KEY_IKE_REMOTE_ID, N_("Remote identity") },
    { ROW_FIELD, GRE_KEY_IKE_PROPOSALS, N_("IKE proposals") },
    { ROW_FIELD, GRE_KEY_IKE_ESP_DH, N_("DH group for ESP rekeying") },
    { ROW_FIELD, GRE_KEY_IKE_REKEY_TIME, N_("Rekey time") },
    { ROW_FIELD, GRE_KEY_IKE_DPD_DELAY, N_("Dead peer detection delay") },
    { ROW_FIELD, GRE_KEY_IKE_VICI_SOCKET, N_("Daemon socket (VICI)") },
    /* Keys of the table not named above (added later, e.g. certificates) follow here, labelled
     * with their vpn.data names: gre_page_build() places every key. */
};

/* The values the IPsec mode combo shows: what vpn.data spells, in words. */
static const struct {
    const char *id, *text;
} ipsec_modes[] = {
    { "none", N_("None") },
    { "manual", N_("Manual keys") },
    { "ike", N_("IKEv2") },
};

gboolean
gre_page_is_path(const GreKeyInfo *key)
{
    /* Paths of the daemon's socket, and of certificates and private keys: the same chooser. */
    return key->type == GRE_KT_PATH || key->type == GRE_KT_FILE;
}

static GreWidgetKind
kind_of(const GreKeyInfo *key)
{
    if (key->secret)
        return GRE_W_SECRET;
    switch (key->type) {
    case GRE_KT_BOOL:
        return GRE_W_CHECK;
    case GRE_KT_PIN:
    case GRE_KT_IPSEC:
    case GRE_KT_SUITE:
    case GRE_KT_IKE_AUTH:
        return GRE_W_COMBO;
    default:
        return GRE_W_ENTRY;
    }
}

static GtkWidget *
new_entry(const GreKeyInfo *key)
{
    GtkWidget  *entry = gtk_entry_new();
    const char *range = gre_key_range(key);

    gtk_entry_set_placeholder_text(GTK_ENTRY(entry), key->def ? key->def : range);
    gtk_widget_set_hexpand(entry, TRUE);
    gre_entry_set_width_chars(entry, 28);
    return entry;
}

static GtkWidget *
new_combo(const GreKeyInfo *key)
{
    GtkWidget *combo = gtk_combo_box_text_new();

    /* The suites depend on the IPsec mode: gre_page_set_suites() fills them in. */
    if (key->type != GRE_KT_SUITE) {
        g_auto(GStrv) values = g_strsplit(gre_key_range(key), ", ", -1);

        for (guint i = 0; values[i]; i++) {
            const char *text = values[i];

            for (guint m = 0; key->type == GRE_KT_IPSEC && m < G_N_ELEMENTS(ipsec_modes); m++) {
                if (g_str_equal(values[i], ipsec_modes[m].id))
                    text = _(ipsec_modes[m].text);
            }
            gtk_combo_box_text_append(GTK_COMBO_BOX_TEXT(combo), values[i], text);
        }
    }
    gtk_widget_set_hexpand(combo, TRUE);
    return combo;
}

void
gre_page_set_suites(GrePage *page, GreIpsecMode mode)
{
    GtkComboBox     *combo  = GTK_COMBO_BOX(page->fields[GRE_KEY_SUITE].widget);
    g_autofree char *active = g_strdup(gtk_combo_box_get_active_id(combo));
    gboolean         listed = FALSE;

    /* Without IPsec the suite is greyed out; show what turning it on would offer. */
    if (mode == GRE_IPSEC_NONE)
        mode = GRE_IPSEC_MANUAL;
    gtk_combo_box_text_remove_all(GTK_COMBO_BOX_TEXT(combo));
    for (guint i = 0; i < GRE_SUITE_COUNT; i++) {
        const GreSuiteInfo *info = gre_suite_info(i);
        g_autofree char    *text = NULL;

        if (!gre_suite_allowed(info, mode))
            continue;
        text = g_strdup_printf("%s (%s)", info->name, info->description);
        gtk_combo_box_text_append(GTK_COMBO_BOX_TEXT(combo), info->name, text);
        listed = listed || g_strcmp0(active, info->name) == 0;
    }
    /* A suite the mode refuses (a connection from before the rule) stays visible while it is
     * chosen, marked by the check, so that the user sees what to change. */
    if (active && !listed)
        gtk_combo_box_text_append(GTK_COMBO_BOX_TEXT(combo), active, active);
    if (!active) {
        g_autoptr(GreSettings) s = gre_settings_new();

        s->ipsec = mode;
        gtk_combo_box_set_active_id(combo, gre_key_default(page->fields[GRE_KEY_SUITE].key, s));
    } else {
        gtk_combo_box_set_active_id(combo, active);
    }
}

#if GTK_CHECK_VERSION(4, 0, 0)
static void
chooser_response(GtkNativeDialog *dialog, int response, gpointer user_data)
{
    GtkWidget *entry = user_data;

    if (response == GTK_RESPONSE_ACCEPT) {
        g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
        g_autofree char *path = file ? g_file_get_path(file) : NULL;

        if (path)
            gre_entry_set_text(entry, path);
    }
    gtk_native_dialog_destroy(dialog);
    g_object_unref(dialog);
}
#endif

/* The entry keeps the path (typed, pasted, or chosen here): it is what the editor reads. */
static void
choose_file(GtkButton *button, gpointer user_data)
{
    GtkWidget            *entry = user_data;
    GtkFileChooserNative *dialog;
    const char           *now = gre_entry_get_text(entry);

    dialog = gtk_file_chooser_native_new(_("Choose a file"), gre_widget_window(GTK_WIDGET(button)),
                                         GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
    if (now && g_path_is_absolute(now)) {
        g_autoptr(GFile) file = g_file_new_for_path(now);

        gtk_file_chooser_set_file(GTK_FILE_CHOOSER(dialog), file, NULL);
    }
#if GTK_CHECK_VERSION(4, 0, 0)
    gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(dialog), TRUE);
    g_signal_connect(dialog, "response", G_CALLBACK(chooser_response), entry);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(dialog));
#else
    if (gtk_native_dialog_run(GTK_NATIVE_DIALOG(dialog)) == GTK_RESPONSE_ACCEPT) {
        g_autofree char *path = gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(dialog));

        if (path)
            gre_entry_set_text(entry, path);
    }
    g_object_unref(dialog);
#endif
}

static GtkWidget *
new_page_grid(void)
{
    GtkWidget *grid = gtk_grid_new();

    gtk_grid_set_row_spacing(GTK_GRID(grid), 6);
    gtk_grid_set_column_spacing(GTK_GRID(grid), 12);
    gtk_widget_set_margin_start(grid, 12);
    gtk_widget_set_margin_end(grid, 12);
    gtk_widget_set_margin_top(grid, 12);
    gtk_widget_set_margin_bottom(grid, 12);
    return grid;
}

static GtkWidget *
new_heading(const char *text, guint row)
{
    GtkWidget       *label  = gtk_label_new(NULL);
    g_autofree char *markup = g_markup_printf_escaped("<b>%s</b>", text);

    gtk_label_set_markup(GTK_LABEL(label), markup);
    gtk_label_set_xalign(GTK_LABEL(label), 0);
    if (row > 0)
        gtk_widget_set_margin_top(label, 12);
    return label;
}

void
gre_page_build(GrePage *self)
{
    GtkWidget *notebook = gtk_notebook_new();
    GtkWidget *grid     = NULL;
    guint      row      = 0;

    gboolean placed[GRE_KEY_COUNT] = { FALSE };
    guint    n_rows                = G_N_ELEMENTS(layout);

    for (guint i = 0; i < G_N_ELEMENTS(layout); i++) {
        if (layout[i].kind == ROW_FIELD)
            placed[layout[i].id] = TRUE;
    }
    for (guint i = 0; i < GRE_KEY_COUNT; i++)
        n_rows += !placed[i];

    for (guint i = 0, extra = 0; i < n_rows; i++) {
        LayoutRow        added = { ROW_FIELD, 0, NULL };
        const LayoutRow *l     = &added;
        GreField        *f;
        g_autofree char *tip = NULL;
        GtkWidget       *cell;

        if (i < G_N_ELEMENTS(layout)) {
            l = &layout[i];
        } else {
            while (placed[extra])
                extra++;
            added.id   = extra++;
            added.text = gre_key_info(added.id)->nm;
        }

        if (l->kind == ROW_PAGE) {
            grid = new_page_grid();
            row  = 0;
            gtk_notebook_append_page(GTK_NOTEBOOK(notebook), grid, gtk_label_new(_(l->text)));
            continue;
        }
        if (l->kind == ROW_HEADING) {
            gtk_grid_attach(GTK_GRID(grid), new_heading(_(l->text), row), 0, row, 2, 1);
            row++;
            continue;
        }

        f       = &self->fields[l->id];
        f->key  = gre_key_info(l->id);
        f->kind = kind_of(f->key);
        switch (f->kind) {
        case GRE_W_CHECK:
            f->widget = gtk_check_button_new_with_label(_(l->text));
            break;
        case GRE_W_COMBO:
            f->widget = new_combo(f->key);
            break;
        default:
            f->widget = new_entry(f->key);
            break;
        }
        gtk_widget_set_name(f->widget, f->key->nm);
        /* The table's help is marked N_() in the core, and translated here, when shown. The key
         * and its range of values are the names and syntax vpn.data uses: never translated. */
        tip = g_strdup_printf("%s\n%s: %s", g_dgettext(GETTEXT_PACKAGE, f->key->help), f->key->nm,
                              gre_key_range(f->key));
        gtk_widget_set_tooltip_text(f->widget, tip);

        if (f->kind != GRE_W_CHECK) {
            f->label = gtk_label_new_with_mnemonic(_(l->text));
            gtk_label_set_xalign(GTK_LABEL(f->label), 1);
            gtk_label_set_mnemonic_widget(GTK_LABEL(f->label), f->widget);
            gtk_widget_set_margin_start(f->label, 12);
            gtk_grid_attach(GTK_GRID(grid), f->label, 0, row, 1, 1);
        }
        cell = f->widget;
        if (gre_page_is_path(f->key)) {
            GtkWidget       *button = gtk_button_new_with_mnemonic(_("_Choose…"));
            g_autofree char *name   = g_strdup_printf("%s-choose", f->key->nm);

            gtk_widget_set_name(button, name);
            g_signal_connect(button, "clicked", G_CALLBACK(choose_file), f->widget);
            cell = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
            gre_box_append(cell, f->widget);
            gre_box_append(cell, button);
        }
        if (l->id == GRE_KEY_MTU) {
            /* What auto would give, next to the field that overrides it. */
            cell           = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
            self->mtu_hint = gtk_label_new(NULL);
            gtk_widget_set_name(self->mtu_hint, "mtu-hint");
            gtk_label_set_xalign(GTK_LABEL(self->mtu_hint), 0);
            gre_entry_set_width_chars(f->widget, 8);
            gtk_widget_set_hexpand(f->widget, FALSE);
            gre_box_append(cell, f->widget);
            gre_box_append(cell, self->mtu_hint);
        }
        gtk_grid_attach(GTK_GRID(grid), cell, 1, row++, 1, 1);
    }

    self->problem = gtk_label_new(NULL);
    gtk_widget_set_name(self->problem, "problem");
    gtk_label_set_xalign(GTK_LABEL(self->problem), 0);
    gre_label_set_wrap(self->problem);
    gtk_widget_set_margin_start(self->problem, 12);
    gtk_widget_set_margin_top(self->problem, 6);
    gtk_widget_set_margin_bottom(self->problem, 6);
    gre_widget_set_error(self->problem, TRUE);

    self->root = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
    gre_box_append(self->root, notebook);
    gre_box_append(self->root, self->problem);
}
