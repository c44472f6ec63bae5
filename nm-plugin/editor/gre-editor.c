/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-editor.h"

#include <libnma/nma-ui-utils.h>
#include <sys/socket.h>

#include "gre-editor-check.h"
#include "gre-editor-gtk.h"
#include "gre-editor-page.h"
#include "gre-i18n.h"
#include "gre-mtu.h"
#include "gre-settings-table.h"
#include "gre-suite.h"

#define GRE_SERVICE_TYPE "org.freedesktop.NetworkManager.gre"

/* The MTU hint assumes Ethernet when the underlay MTU is left to auto. */
#define GRE_HINT_UNDERLAY_MTU 1500

#define GRE_TYPE_NM_EDITOR (gre_nm_editor_get_type())
G_DECLARE_FINAL_TYPE(GreNmEditor, gre_nm_editor, GRE, NM_EDITOR, GObject)

struct _GreNmEditor {
    GObject parent;
    GrePage page;
    /* The setting as it came in: what the page does not show (user-name, persistent, timeout)
     * is kept from here. */
    NMSettingVpn *original;
    /* Set while update_connection() refreshes the storage menus, which re-set their icons: the
     * host answers "changed" by calling update_connection() again, so that must not be one. */
    gboolean updating;
    /* The IPsec mode the suite list was last made for: a suite left at that mode's default
     * follows to the new mode's default (aes256-sha256 with manual keys, aes256gcm16 with IKE). */
    GreIpsecMode suites_mode;
};

static void gre_nm_editor_interface_init(NMVpnEditorInterface *iface);

G_DEFINE_TYPE_WITH_CODE(GreNmEditor, gre_nm_editor, G_TYPE_OBJECT,
                        G_IMPLEMENT_INTERFACE(NM_TYPE_VPN_EDITOR, gre_nm_editor_interface_init))

/* ---- reading the widgets into a vpn setting ---- */

static void
field_to_vpn(const GreField *f, const GreSettings *choice, NMSettingVpn *s_vpn)
{
    const char          *name = f->key->nm;
    const char          *text = NULL;
    gboolean             value, def = FALSE;
    NMSettingSecretFlags flags;

    switch (f->kind) {
    case GRE_W_ENTRY:
        text = gre_entry_get_text(f->widget);
        break;
    case GRE_W_CHECK:
        value = gre_check_get_active(f->widget);
        gre_parse_bool(f->key->def, &def);
        text = value == def ? NULL : value ? "yes" : "no";
        break;
    case GRE_W_COMBO:
        /* The default of the mode shown (the suite's differs with IKE) is left unwritten. */
        text = gtk_combo_box_get_active_id(GTK_COMBO_BOX(f->widget));
        if (g_strcmp0(text, gre_key_default(f->key, choice)) == 0)
            text = NULL;
        break;
    case GRE_W_SECRET:
        /* As other VPN plugins: a secret the user wants asked for is not stored at all. */
        flags = nma_utils_menu_to_secret_flags(f->widget);
        text  = gre_entry_get_text(f->widget);
        if (!(flags & (NM_SETTING_SECRET_FLAG_NOT_SAVED | NM_SETTING_SECRET_FLAG_NOT_REQUIRED)) &&
            text && *text)
            nm_setting_vpn_add_secret(s_vpn, name, text);
        nm_setting_set_secret_flags(NM_SETTING(s_vpn), name, flags, NULL);
        return;
    }
    if (text && *text)
        nm_setting_vpn_add_data_item(s_vpn, name, text);
}

static void
remove_all(NMSettingVpn *s_vpn, gboolean secrets)
{
    g_autofree const char **keys = secrets ? nm_setting_vpn_get_secret_keys(s_vpn, NULL)
                                           : nm_setting_vpn_get_data_keys(s_vpn, NULL);

    /* Copies: removing frees the names the array points to. */
    for (guint i = 0; keys && keys[i]; i++) {
        g_autofree char *name = g_strdup(keys[i]);

        if (secrets)
            nm_setting_vpn_remove_secret(s_vpn, name);
        else
            nm_setting_vpn_remove_data_item(s_vpn, name);
    }
}

/* The IPsec mode and suite as the combos show them, read as the service reads them. */
static GreSettings *
ipsec_choice(GreNmEditor *self)
{
    GreSettings   *s       = gre_settings_new();
    const GreKeyId modes[] = { GRE_KEY_IPSEC, GRE_KEY_SUITE };

    for (guint i = 0; i < G_N_ELEMENTS(modes); i++) {
        const char *text =
            gtk_combo_box_get_active_id(GTK_COMBO_BOX(self->page.fields[modes[i]].widget));

        if (text)
            gre_key_set(gre_key_info(modes[i]), s, text, NULL);
    }
    return s;
}

/* Whether the page shows @id as in use. Greyed-out fields are not written: the service would
 * ignore them, or refuse them (HMAC keys with an AEAD suite) where the user cannot edit them.
 * Their text stays in the widgets, so switching back brings it back. */
static gboolean
field_applies(const GreSettings *choice, GreKeyId id)
{
    /* Every key after the manual ones is IKE's (the table keeps them last). */
    if (id >= GRE_KEY_IKE_PSK)
        return choice->ipsec == GRE_IPSEC_IKE;
    if (id < GRE_KEY_SUITE)
        return TRUE;
    if (id == GRE_KEY_SUITE)
        return choice->ipsec != GRE_IPSEC_NONE;
    if (choice->ipsec != GRE_IPSEC_MANUAL)
        return FALSE;
    if (id == GRE_KEY_AUTH_KEY_IN || id == GRE_KEY_AUTH_KEY_OUT)
        return gre_suite_info(choice->suite)->aead == NULL;
    return TRUE;
}

/* A key the page has no field for (none today: the page places every key of the table) keeps
 * the value the connection came with, so editing loses nothing. */
static void
keep_unshown(NMSettingVpn *original, NMSettingVpn *s_vpn, const GreKeyInfo *key)
{
    g_autofree char *flags_name = g_strdup_printf("%s-flags", key->nm);
    const char      *text;

    if (!original)
        return;
    if ((text = nm_setting_vpn_get_data_item(original, key->nm)))
        nm_setting_vpn_add_data_item(s_vpn, key->nm, text);
    if ((text = nm_setting_vpn_get_data_item(original, flags_name)))
        nm_setting_vpn_add_data_item(s_vpn, flags_name, text);
    if ((text = nm_setting_vpn_get_secret(original, key->nm)))
        nm_setting_vpn_add_secret(s_vpn, key->nm, text);
}

/* vpn.data and vpn.secrets are the page's alone; the setting's other properties are kept. */
static NMSettingVpn *
editor_to_vpn(GreNmEditor *self)
{
    g_autoptr(GreSettings) choice = ipsec_choice(self);
    NMSettingVpn *s_vpn;

    if (self->original) {
        s_vpn = NM_SETTING_VPN(nm_setting_duplicate(NM_SETTING(self->original)));
        remove_all(s_vpn, FALSE);
        remove_all(s_vpn, TRUE);
    } else {
        s_vpn = NM_SETTING_VPN(nm_setting_vpn_new());
    }
    g_object_set(s_vpn, NM_SETTING_VPN_SERVICE_TYPE, GRE_SERVICE_TYPE, NULL);
    for (guint i = 0; i < GRE_KEY_COUNT; i++) {
        if (!self->page.fields[i].widget)
            keep_unshown(self->original, s_vpn, gre_key_info(i));
        else if (field_applies(choice, i))
            field_to_vpn(&self->page.fields[i], choice, s_vpn);
    }
    return s_vpn;
}

/* ---- live feedback ---- */

static void
update_mtu_hint(GreNmEditor *self, const GreSettings *s)
{
    guint            underlay = s->underlay_mtu ? s->underlay_mtu : GRE_HINT_UNDERLAY_MTU;
    guint            fits;
    g_autofree char *text = NULL;

    if (gre_settings_outer_family(s) == AF_UNSPEC) {
        /* TRANSLATORS: "auto" is the MTU setting's value, as typed; keep it as it is */
        gtk_label_set_text(GTK_LABEL(self->page.mtu_hint), _("auto: set the remote address first"));
        return;
    }
    fits = gre_mtu_compute(s, underlay, NULL);
    if (s->mtu && s->mtu > fits)
        /* TRANSLATORS: the MTU typed in, the largest that fits, the underlay's MTU */
        text = g_strdup_printf(_("%u is more than fits: %u over a %u-byte underlay"), s->mtu, fits,
                               underlay);
    else
        /* TRANSLATORS: "auto" is the MTU setting's value; the MTU it gives, the underlay's MTU */
        text = g_strdup_printf(_("auto: %u over a %u-byte underlay"), fits, underlay);
    gtk_label_set_text(GTK_LABEL(self->page.mtu_hint), text);
}

static void
update_sensitivity(GreNmEditor *self, const GreSettings *s)
{
    for (guint i = GRE_KEY_SUITE; i < GRE_KEY_COUNT; i++) {
        gboolean on = field_applies(s, i);

        if (!self->page.fields[i].widget)
            continue;
        gtk_widget_set_sensitive(self->page.fields[i].widget, on);
        if (self->page.fields[i].label)
            gtk_widget_set_sensitive(self->page.fields[i].label, on);
    }
    /* The encapsulation limit option exists only in ip6gre. */
    gtk_widget_set_sensitive(self->page.fields[GRE_KEY_ENCAPLIMIT].widget,
                             gre_settings_outer_family(s) != AF_INET);
}

/* Marks each field with a problem and returns whether there was none. */
static gboolean
check(GreNmEditor *self, NMSettingVpn *s_vpn, GError **error)
{
    g_autoptr(GHashTable) bad = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GreSettings) s  = NULL;
    g_autoptr(GError) local   = NULL;
    gboolean ok;

    ok = gre_editor_check(s_vpn, bad, &s, &local);
    for (guint i = 0; i < GRE_KEY_COUNT; i++) {
        const GreField *f = &self->page.fields[i];

        if (f->widget)
            gre_widget_set_error(f->widget, g_hash_table_contains(bad, f->key->nm));
    }
    if (ok) {
        gtk_label_set_text(GTK_LABEL(self->page.problem), "");
    } else {
        g_auto(GStrv) lines = g_strsplit(local->message, "\n", 2);

        gtk_label_set_text(GTK_LABEL(self->page.problem), lines[0]);
    }
    update_mtu_hint(self, s);
    update_sensitivity(self, s);
    if (!ok)
        g_propagate_error(error, g_steal_pointer(&local));
    return ok;
}

static void
field_changed(GreNmEditor *self)
{
    g_autoptr(NMSettingVpn) s_vpn = NULL;

    if (self->updating)
        return;
    s_vpn = editor_to_vpn(self);
    check(self, s_vpn, NULL);
    g_signal_emit_by_name(self, "changed");
}

/* The storage menu shows its choice as the entry's icon, and libnma re-sets the icon often
 * (each update_connection() does): only a different choice is a change. */
static void
storage_changed(GtkWidget *entry, GParamSpec *pspec, GreNmEditor *self)
{
    (void)pspec;
    for (guint i = 0; i < GRE_KEY_COUNT; i++) {
        GreField            *f = &self->page.fields[i];
        NMSettingSecretFlags flags;

        if (f->widget != entry)
            continue;
        flags = nma_utils_menu_to_secret_flags(entry);
        if (flags != f->flags) {
            f->flags = flags;
            field_changed(self);
        }
        return;
    }
}

/* ---- filling the page ---- */

static void
field_from_vpn(GreNmEditor *self, GreField *f, const GreSettings *mode, NMSettingVpn *s_vpn)
{
    const char          *name;
    const char          *text;
    NMSettingSecretFlags flags = NM_SETTING_SECRET_FLAG_NONE;
    gboolean             value = FALSE;

    if (!f->widget)
        return;
    name = f->key->nm;
    text = s_vpn ? nm_setting_vpn_get_data_item(s_vpn, name) : NULL;

    switch (f->kind) {
    case GRE_W_ENTRY:
        gre_entry_set_text(f->widget, text);
        g_signal_connect_swapped(f->widget, "changed", G_CALLBACK(field_changed), self);
        break;
    case GRE_W_CHECK:
        if (!text || !gre_parse_bool(text, &value))
            gre_parse_bool(f->key->def, &value);
        gre_check_set_active(f->widget, value);
        g_signal_connect_swapped(f->widget, "toggled", G_CALLBACK(field_changed), self);
        break;
    case GRE_W_COMBO:
        /* A value the list does not have (a typo in a hand-written file) is kept by showing it. */
        if (text && !gtk_combo_box_set_active_id(GTK_COMBO_BOX(f->widget), text)) {
            gtk_combo_box_text_append(GTK_COMBO_BOX_TEXT(f->widget), text, text);
            gtk_combo_box_set_active_id(GTK_COMBO_BOX(f->widget), text);
        } else if (!text) {
            gtk_combo_box_set_active_id(GTK_COMBO_BOX(f->widget), gre_key_default(f->key, mode));
        }
        g_signal_connect_swapped(f->widget, "changed", G_CALLBACK(field_changed), self);
        break;
    case GRE_W_SECRET:
        gtk_entry_set_visibility(GTK_ENTRY(f->widget), FALSE);
        if (s_vpn) {
            gre_entry_set_text(f->widget, nm_setting_vpn_get_secret(s_vpn, name));
            nm_setting_get_secret_flags(NM_SETTING(s_vpn), name, &flags, NULL);
        }
        nma_utils_setup_password_storage(f->widget, flags, s_vpn ? NM_SETTING(s_vpn) : NULL, name,
                                         TRUE, FALSE);
        g_signal_connect_swapped(f->widget, "changed", G_CALLBACK(field_changed), self);
        f->flags = nma_utils_menu_to_secret_flags(f->widget);
        g_signal_connect(f->widget, "notify::secondary-icon-name", G_CALLBACK(storage_changed),
                         self);
        break;
    }
}

/* The suites offered follow the IPsec mode; a refused suite the connection came with is listed
 * only while it is chosen. Rebuilding the list is no change of value (the active suite is kept),
 * so the combo's own "changed" signals are not passed on. */
static void
refresh_suites(GreNmEditor *self)
{
    g_autoptr(GreSettings) choice = NULL;
    gboolean was                  = self->updating;

    if (self->updating || !self->page.fields[GRE_KEY_SUITE].widget)
        return;
    choice         = ipsec_choice(self);
    self->updating = TRUE;
    if (choice->ipsec != self->suites_mode && choice->ipsec != GRE_IPSEC_NONE) {
        GtkComboBox *combo         = GTK_COMBO_BOX(self->page.fields[GRE_KEY_SUITE].widget);
        g_autoptr(GreSettings) old = gre_settings_new();
        const GreKeyInfo *key      = gre_key_info(GRE_KEY_SUITE);

        old->ipsec = self->suites_mode;
        if (g_strcmp0(gtk_combo_box_get_active_id(combo), gre_key_default(key, old)) == 0)
            gtk_combo_box_set_active_id(combo, NULL);
        self->suites_mode = choice->ipsec;
    }
    gre_page_set_suites(&self->page, choice->ipsec);
    self->updating = was;
}

/* ---- NMVpnEditor ---- */

static GObject *
get_widget(NMVpnEditor *editor)
{
    return G_OBJECT(GRE_NM_EDITOR(editor)->page.root);
}

static gboolean
update_connection(NMVpnEditor *editor, NMConnection *connection, GError **error)
{
    GreNmEditor *self             = GRE_NM_EDITOR(editor);
    g_autoptr(NMSettingVpn) s_vpn = NULL;

    if (!self->page.fields[0].widget) {
        g_set_error_literal(error, NM_CONNECTION_ERROR, NM_CONNECTION_ERROR_FAILED,
                            _("the GRE editor page has been closed"));
        return FALSE;
    }
    s_vpn = editor_to_vpn(self);
    if (!check(self, s_vpn, error))
        return FALSE;
    self->updating = TRUE;
    for (guint i = 0; i < GRE_KEY_COUNT; i++) {
        const GreField *f = &self->page.fields[i];

        /* The menus now change the flags of the setting the connection holds. */
        if (f->widget && f->kind == GRE_W_SECRET)
            nma_utils_update_password_storage(f->widget, nma_utils_menu_to_secret_flags(f->widget),
                                              NM_SETTING(s_vpn), f->key->nm);
    }
    self->updating = FALSE;
    nm_connection_add_setting(connection, NM_SETTING(g_steal_pointer(&s_vpn)));
    return TRUE;
}

/* Once the page goes away, its widgets must not call back: GTK3 destroys them one by one when
 * the window closes, and a change notified midway would read widgets already gone. */
static void
disconnect_fields(GreNmEditor *self)
{
    for (guint i = 0; i < GRE_KEY_COUNT; i++) {
        if (self->page.fields[i].widget)
            g_signal_handlers_disconnect_by_data(self->page.fields[i].widget, self);
        self->page.fields[i].widget = NULL;
    }
}

static void
gre_nm_editor_init(GreNmEditor *self)
{
    (void)self;
}

static void
gre_nm_editor_dispose(GObject *object)
{
    GreNmEditor *self = GRE_NM_EDITOR(object);

    if (self->page.root) {
        g_signal_handlers_disconnect_by_data(self->page.root, self);
        disconnect_fields(self);
    }
    g_clear_object(&self->page.root);
    g_clear_object(&self->original);
    G_OBJECT_CLASS(gre_nm_editor_parent_class)->dispose(object);
}

static void
gre_nm_editor_class_init(GreNmEditorClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = gre_nm_editor_dispose;
}

static void
gre_nm_editor_interface_init(NMVpnEditorInterface *iface)
{
    iface->get_widget        = get_widget;
    iface->update_connection = update_connection;
}

__attribute__((visibility("default"))) NMVpnEditor *
nm_vpn_editor_factory_gre(NMVpnEditorPlugin *editor_plugin, NMConnection *connection,
                          GError **error)
{
    GreNmEditor  *self;
    NMSettingVpn *s_vpn;
    g_autoptr(GreSettings) mode = NULL;

    (void)editor_plugin;
    g_return_val_if_fail(NM_IS_CONNECTION(connection), NULL);
    g_return_val_if_fail(!error || !*error, NULL);

    /* Usually done already by the editor plugin that loaded this library, but it can be loaded
     * on its own; the locale and the default text domain are the host's. */
    gre_i18n_bind();

    s_vpn = nm_connection_get_setting_vpn(connection);
    self  = g_object_new(GRE_TYPE_NM_EDITOR, NULL);
    if (s_vpn)
        self->original = NM_SETTING_VPN(nm_setting_duplicate(NM_SETTING(s_vpn)));
    gre_page_build(&self->page);
    /* The mode first: the defaults shown depend on it. A value that does not parse leaves none,
     * and the check names it. */
    mode = gre_settings_new();
    if (s_vpn && nm_setting_vpn_get_data_item(s_vpn, "ipsec"))
        gre_key_set(gre_key_info(GRE_KEY_IPSEC), mode, nm_setting_vpn_get_data_item(s_vpn, "ipsec"),
                    NULL);
    self->suites_mode = mode->ipsec == GRE_IPSEC_NONE ? GRE_IPSEC_MANUAL : mode->ipsec;
    /* Fill in only after every widget exists: a change to one field reads them all. */
    for (guint i = 0; i < GRE_KEY_COUNT; i++)
        field_from_vpn(self, &self->page.fields[i], mode, s_vpn);
    g_signal_connect_swapped(self->page.fields[GRE_KEY_IPSEC].widget, "changed",
                             G_CALLBACK(refresh_suites), self);
    g_signal_connect_swapped(self->page.fields[GRE_KEY_SUITE].widget, "changed",
                             G_CALLBACK(refresh_suites), self);
    refresh_suites(self);
    g_object_ref_sink(self->page.root);
    g_signal_connect_swapped(self->page.root, "destroy", G_CALLBACK(disconnect_fields), self);
#if !GTK_CHECK_VERSION(4, 0, 0)
    gtk_widget_show_all(self->page.root);
#endif
    field_changed(self);
    return NM_VPN_EDITOR(self);
}
