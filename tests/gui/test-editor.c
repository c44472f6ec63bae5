/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The editor page in a real toolkit, as nm-connection-editor uses it: loaded through the
 * GTK-free plugin (or, without it, straight from the editor library), shown in a window, typed
 * into, and asked to write the connection back. Built once for GTK3 and once for GTK4; runs
 * under Xvfb. Screenshots of each page go to the build directory's meson-logs.
 *
 * Usage: test-editor-gtkN --tap [--plugin PATH] --editor PATH [--german]
 * With --german only the page in German is tested (the catalogs of the build directory).
 */
#include <dlfcn.h>
#include <gtk/gtk.h>
#include <locale.h>
#include <NetworkManager.h>
#include <glib/gstdio.h>
#include <libnma/nma-ui-utils.h>
#include <string.h>

#include "gre-mtu.h"
#include "gre-nm-data.h"
#include "gre-settings-table.h"

#if GTK_CHECK_VERSION(4, 0, 0)
#define TOOLKIT "gtk4"
#else
#define TOOLKIT "gtk3"
#endif

/* Documentation addresses only; the keys are test patterns, not secrets. The suite is
 * aes128-sha1: 16-byte cipher keys, 20-byte HMAC keys. */
#define SUITE "aes128-sha1"
#define KEY_IN "0x000102030405060708090a0b0c0d0e0f"
#define KEY_OUT "0x101112131415161718191a1b1c1d1e1f"
#define AUTH_IN "0x202122232425262728292a2b2c2d2e2f30313233"
#define AUTH_OUT "0x303132333435363738393a3b3c3d3e3f40414243"
/* The suites manual keying takes, as the combo must list them. */
#define MANUAL_SUITES "aes128-sha256 aes256-sha256 aes128-sha1 aes256-sha1"

static const char *plugin_path;
static char       *plugin_dir; /* the copies, removed at the end */
static const char *editor_path;
static GtkWidget  *window;
static guint       changed_count;

typedef NMVpnEditor *(*FactoryFunc)(NMVpnEditorPlugin *, NMConnection *, GError **);

static NMConnection *
new_connection_suite(gboolean with_keys, const char *suite)
{
    NMConnection    *c     = nm_simple_connection_new();
    NMSetting       *s_con = nm_setting_connection_new();
    NMSetting       *s_vpn = nm_setting_vpn_new();
    NMSettingVpn    *vpn   = NM_SETTING_VPN(s_vpn);
    g_autofree char *uuid  = nm_utils_uuid_generate();

    g_object_set(s_con, NM_SETTING_CONNECTION_ID, "gre-test", NM_SETTING_CONNECTION_UUID, uuid,
                 NM_SETTING_CONNECTION_TYPE, NM_SETTING_VPN_SETTING_NAME, NULL);
    g_object_set(s_vpn, NM_SETTING_VPN_SERVICE_TYPE, GRE_NM_SERVICE_TYPE, NM_SETTING_VPN_PERSISTENT,
                 TRUE, NM_SETTING_VPN_TIMEOUT, 42, NULL);
    nm_setting_vpn_add_data_item(vpn, "device", "gre-test1");
    nm_setting_vpn_add_data_item(vpn, "remote", "192.0.2.2");
    nm_setting_vpn_add_data_item(vpn, "local", "192.0.2.1");
    nm_setting_vpn_add_data_item(vpn, "inner-address", "198.51.100.1/30");
    nm_setting_vpn_add_data_item(vpn, "inner-peer", "198.51.100.2");
    nm_setting_vpn_add_data_item(vpn, "ipsec", "manual");
    nm_setting_vpn_add_data_item(vpn, "ipsec-suite", suite);
    nm_setting_vpn_add_data_item(vpn, "spi-in", "0x1000");
    nm_setting_vpn_add_data_item(vpn, "spi-out", "0x1001");
    if (with_keys) {
        nm_setting_vpn_add_secret(vpn, "esp-key-in", KEY_IN);
        nm_setting_vpn_add_secret(vpn, "esp-key-out", KEY_OUT);
        nm_setting_vpn_add_secret(vpn, "auth-key-in", AUTH_IN);
        nm_setting_vpn_add_secret(vpn, "auth-key-out", AUTH_OUT);
    } else {
        /* Asked for at connect time: the editor must accept the connection without them. */
        nm_setting_set_secret_flags(s_vpn, "esp-key-in", NM_SETTING_SECRET_FLAG_AGENT_OWNED, NULL);
        nm_setting_set_secret_flags(s_vpn, "esp-key-out", NM_SETTING_SECRET_FLAG_NOT_SAVED, NULL);
        nm_setting_set_secret_flags(s_vpn, "auth-key-in", NM_SETTING_SECRET_FLAG_AGENT_OWNED, NULL);
        nm_setting_set_secret_flags(s_vpn, "auth-key-out", NM_SETTING_SECRET_FLAG_NOT_SAVED, NULL);
    }
    nm_connection_add_setting(c, s_con);
    nm_connection_add_setting(c, s_vpn);
    return c;
}

static NMConnection *
new_connection(gboolean with_keys)
{
    return new_connection_suite(with_keys, SUITE);
}

/* nm-connection-editor's way: the GTK-free plugin, which finds the editor library beside
 * itself. The build keeps them in different directories, so both are copied into one. */
static NMVpnEditorPlugin *
load_plugin(void)
{
    static NMVpnEditorPlugin *plugin;
    g_autoptr(GError) error = NULL;
    g_autofree char *dir    = NULL;
    g_autofree char *copy   = NULL;

    if (plugin)
        return plugin;
    /* Under the build directory, so that a failed run leaves nothing in /tmp. */
    dir = g_build_filename(g_getenv("GRE_BUILDDIR") ? g_getenv("GRE_BUILDDIR") : ".",
                           "gre-editor-XXXXXX", NULL);
    g_assert_nonnull(g_mkdtemp(dir));
    plugin_dir = g_strdup(dir);
    for (guint i = 0; i < 2; i++) {
        const char      *from   = i == 0 ? plugin_path : editor_path;
        g_autofree char *base   = g_path_get_basename(from);
        g_autofree char *to     = g_build_filename(dir, base, NULL);
        g_autoptr(GFile) source = g_file_new_for_path(from);
        g_autoptr(GFile) dest   = g_file_new_for_path(to);

        g_assert_true(g_file_copy(source, dest, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, &error));
        g_assert_no_error(error);
        if (i == 0)
            copy = g_steal_pointer(&to);
    }
    plugin = nm_vpn_editor_plugin_load_from_file(copy, GRE_NM_SERVICE_TYPE, -1, NULL, NULL, &error);
    g_assert_no_error(error);
    g_test_message("loaded %s", copy);
    return plugin;
}

static NMVpnEditor *
load_editor(NMConnection *connection)
{
    g_autoptr(GError) error = NULL;
    NMVpnEditor *editor;

    if (plugin_path) {
        editor = nm_vpn_editor_plugin_get_editor(load_plugin(), connection, &error);
    } else {
        void       *lib = dlopen(editor_path, RTLD_NOW | RTLD_LOCAL);
        FactoryFunc factory;

        g_assert_nonnull(lib);
        factory = (FactoryFunc)dlsym(lib, "nm_vpn_editor_factory_gre");
        g_assert_nonnull(factory);
        editor = factory(NULL, connection, &error);
    }
    g_assert_no_error(error);
    g_assert_true(NM_IS_VPN_EDITOR(editor));
    /* The page from this branch's editor library, not some other. */
    g_assert_cmpstr(G_OBJECT_TYPE_NAME(editor), ==, "GreNmEditor");
    return editor;
}

/* ---- toolkit differences ---- */

#if !GTK_CHECK_VERSION(4, 0, 0)
typedef struct {
    const char *name;
    GType       type;
    GtkWidget  *found;
} Search;

static void find_cb(GtkWidget *w, gpointer data);
#endif

/* The widget called @name (or, with a NULL @name, the first of @type) under @root. */
static GtkWidget *
find(GtkWidget *root, const char *name, GType type)
{
    if ((name && g_strcmp0(gtk_widget_get_name(root), name) == 0) ||
        (!name && G_TYPE_CHECK_INSTANCE_TYPE(root, type)))
        return root;
#if GTK_CHECK_VERSION(4, 0, 0)
    for (GtkWidget *c = gtk_widget_get_first_child(root); c; c = gtk_widget_get_next_sibling(c)) {
        GtkWidget *hit = find(c, name, type);
        if (hit)
            return hit;
    }
    return NULL;
#else
    Search s = { name, type, NULL };

    if (GTK_IS_CONTAINER(root))
        gtk_container_forall(GTK_CONTAINER(root), find_cb, &s);
    return s.found;
#endif
}

#if !GTK_CHECK_VERSION(4, 0, 0)
static void
find_cb(GtkWidget *w, gpointer data)
{
    Search *s = data;

    if (!s->found)
        s->found = find(w, s->name, s->type);
}
#endif

static void
set_text(GtkWidget *root, const char *name, const char *text)
{
    GtkWidget *entry = find(root, name, G_TYPE_NONE);

    g_assert_true(GTK_IS_ENTRY(entry));
#if GTK_CHECK_VERSION(4, 0, 0)
    gtk_editable_set_text(GTK_EDITABLE(entry), text);
#else
    gtk_entry_set_text(GTK_ENTRY(entry), text);
#endif
}

static void
set_combo(GtkWidget *root, const char *name, const char *id)
{
    GtkWidget *combo = find(root, name, G_TYPE_NONE);

    g_assert_true(GTK_IS_COMBO_BOX(combo));
    g_assert_true(gtk_combo_box_set_active_id(GTK_COMBO_BOX(combo), id));
}

/* The ids a combo offers, space-separated, in order. */
static char *
combo_ids(GtkWidget *root, const char *name)
{
    GtkWidget    *combo = find(root, name, G_TYPE_NONE);
    GtkTreeModel *model;
    GtkTreeIter   iter;
    GString      *ids = g_string_new(NULL);
    int           col;

    g_assert_true(GTK_IS_COMBO_BOX(combo));
    model = gtk_combo_box_get_model(GTK_COMBO_BOX(combo));
    col   = gtk_combo_box_get_id_column(GTK_COMBO_BOX(combo));
    for (gboolean more = gtk_tree_model_get_iter_first(model, &iter); more;
         more          = gtk_tree_model_iter_next(model, &iter)) {
        g_autofree char *id = NULL;

        gtk_tree_model_get(model, &iter, col, &id, -1);
        g_string_append_printf(ids, "%s%s", ids->len ? " " : "", id);
    }
    return g_string_free(ids, FALSE);
}

static gboolean
has_error(GtkWidget *root, const char *name)
{
    GtkWidget *w = find(root, name, G_TYPE_NONE);

    g_assert_nonnull(w);
#if GTK_CHECK_VERSION(4, 0, 0)
    return gtk_widget_has_css_class(w, "error");
#else
    return gtk_style_context_has_class(gtk_widget_get_style_context(w), "error");
#endif
}

static void
settle(void)
{
    gint64 until = g_get_monotonic_time() + 300 * 1000;

    while (g_get_monotonic_time() < until)
        g_main_context_iteration(NULL, FALSE);
}

static void
show_in_window(GtkWidget *page)
{
#if GTK_CHECK_VERSION(4, 0, 0)
    window = gtk_window_new();
    gtk_window_set_child(GTK_WINDOW(window), page);
    gtk_window_present(GTK_WINDOW(window));
#else
    window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
    gtk_container_add(GTK_CONTAINER(window), page);
    gtk_widget_show_all(window);
#endif
    gtk_window_set_title(GTK_WINDOW(window), "GRE tunnel");
    settle();
}

static void
close_window(void)
{
#if GTK_CHECK_VERSION(4, 0, 0)
    gtk_window_destroy(GTK_WINDOW(window));
#else
    gtk_widget_destroy(window);
#endif
    window = NULL;
    settle();
}

static void
screenshot(const char *what)
{
    const char      *dir = g_getenv("GRE_BUILDDIR");
    g_autofree char *path =
        g_strdup_printf("%s/meson-logs/editor-%s-%s.png", dir ? dir : ".", TOOLKIT, what);
    int w, h;

    /* A loaded host may take a while to map and size the window. */
    for (int i = 0; i < 50; i++) {
        settle();
#if GTK_CHECK_VERSION(4, 0, 0)
        w = gtk_widget_get_width(window);
        h = gtk_widget_get_height(window);
#else
        w = gtk_widget_get_allocated_width(window);
        h = gtk_widget_get_allocated_height(window);
#endif
        if (gtk_widget_get_mapped(window) && w > 1 && h > 1)
            break;
    }
    g_assert_cmpint(w, >, 1);
    g_assert_cmpint(h, >, 1);
#if GTK_CHECK_VERSION(4, 0, 0)
    {
        g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new(window);
        GtkSnapshot *snapshot             = gtk_snapshot_new();
        g_autoptr(GskRenderNode) node     = NULL;
        g_autoptr(GdkTexture) texture     = NULL;
        GskRenderer *renderer             = gtk_native_get_renderer(GTK_NATIVE(window));

        gdk_paintable_snapshot(paintable, snapshot, w, h);
        node = gtk_snapshot_free_to_node(snapshot);
        /* Nothing drawn yet: give the frame clock another turn. */
        for (int i = 0; i < 20 && !node; i++) {
            settle();
            snapshot = gtk_snapshot_new();
            gdk_paintable_snapshot(paintable, snapshot, w, h);
            node = gtk_snapshot_free_to_node(snapshot);
        }
        g_assert_nonnull(node);
        texture = gsk_renderer_render_texture(renderer, node, &GRAPHENE_RECT_INIT(0, 0, w, h));
        g_assert_true(gdk_texture_save_to_png(texture, path));
    }
#else
    {
        cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
        cairo_t         *cr      = cairo_create(surface);

        gtk_widget_draw(window, cr);
        g_assert_cmpint(cairo_surface_write_to_png(surface, path), ==, CAIRO_STATUS_SUCCESS);
        cairo_destroy(cr);
        cairo_surface_destroy(surface);
    }
#endif
    g_test_message("screenshot: %s (%dx%d)", path, w, h);
}

/* ---- tests ---- */

/* nm-connection-editor answers every "changed" by validating: update_connection() on a copy.
 * That must neither recurse nor emit "changed" again. */
static void
on_changed(NMVpnEditor *editor)
{
    static gboolean inside;
    g_autoptr(NMConnection) scratch = nm_simple_connection_new();

    g_assert_false(inside);
    changed_count++;
    g_assert_cmpuint(changed_count, <, 1000);
    inside = TRUE;
    nm_vpn_editor_update_connection(editor, scratch, NULL);
    inside = FALSE;
}

static const char *
label_text(GtkWidget *root, const char *name)
{
    GtkWidget *label = find(root, name, G_TYPE_NONE);

    g_assert_true(GTK_IS_LABEL(label));
    return gtk_label_get_text(GTK_LABEL(label));
}

static void
test_edit(void)
{
    g_autoptr(NMConnection) connection = new_connection(TRUE);
    g_autoptr(NMConnection) out        = nm_simple_connection_new();
    g_autoptr(NMVpnEditor) editor      = load_editor(connection);
    g_autoptr(GError) error            = NULL;
    g_autoptr(GreSettings) s           = NULL;
    GtkWidget       *page              = GTK_WIDGET(nm_vpn_editor_get_widget(editor));
    GtkWidget       *notebook          = find(page, NULL, GTK_TYPE_NOTEBOOK);
    NMSettingVpn    *vpn;
    g_autofree char *hint = NULL;

    g_signal_connect(editor, "changed", G_CALLBACK(on_changed), NULL);
    show_in_window(page);
    g_assert_nonnull(notebook);
    for (int i = 0; i < gtk_notebook_get_n_pages(GTK_NOTEBOOK(notebook)); i++) {
        const char      *names[] = { "tunnel", "gre-mtu", "ipsec" };
        g_autofree char *what    = g_strdup_printf("%d-%s", i + 1, i < 3 ? names[i] : "page");

        gtk_notebook_set_current_page(GTK_NOTEBOOK(notebook), i);
        screenshot(what);
    }
    gtk_notebook_set_current_page(GTK_NOTEBOOK(notebook), 0);

    /* Unchanged, the connection comes back as it went in. */
    g_assert_true(nm_vpn_editor_update_connection(editor, out, &error));
    g_assert_no_error(error);
    vpn = nm_connection_get_setting_vpn(out);
    g_assert_cmpstr(nm_setting_vpn_get_data_item(vpn, "remote"), ==, "192.0.2.2");
    g_assert_cmpstr(nm_setting_vpn_get_data_item(vpn, "ipsec-suite"), ==, SUITE);
    g_assert_cmpstr(nm_setting_vpn_get_secret(vpn, "esp-key-in"), ==, KEY_IN);
    /* What the page does not show is kept. */
    g_assert_true(nm_setting_vpn_get_persistent(vpn));
    g_assert_cmpuint(nm_setting_vpn_get_timeout(vpn), ==, 42);

    /* Typing: every keystroke is a change, and the values land in vpn.data. */
    changed_count = 0;
    set_text(page, "mtu", "1400");
    set_text(page, "ttl", "32");
    set_text(page, "routes", "203.0.113.0/24 metric 10");
    set_text(page, "inner-address6", "2001:db8::1/64");
    g_assert_cmpuint(changed_count, >=, 4);
    g_assert_true(nm_vpn_editor_update_connection(editor, out, &error));
    g_assert_no_error(error);
    vpn = nm_connection_get_setting_vpn(out);
    g_assert_cmpstr(nm_setting_vpn_get_service_type(vpn), ==, GRE_NM_SERVICE_TYPE);
    g_assert_cmpstr(nm_setting_vpn_get_data_item(vpn, "mtu"), ==, "1400");
    g_assert_cmpstr(nm_setting_vpn_get_data_item(vpn, "ttl"), ==, "32");
    g_assert_cmpstr(nm_setting_vpn_get_data_item(vpn, "routes"), ==, "203.0.113.0/24 metric 10");
    g_assert_cmpstr(nm_setting_vpn_get_data_item(vpn, "inner-address6"), ==, "2001:db8::1/64");
    g_assert_cmpstr(nm_setting_vpn_get_secret(vpn, "esp-key-out"), ==, KEY_OUT);
    /* Keys left at their default are not written. */
    g_assert_null(nm_setting_vpn_get_data_item(vpn, "sequence-numbers"));
    g_assert_null(nm_setting_vpn_get_data_item(vpn, "pin-remote"));

    /* What the editor wrote, the service accepts. */
    s = gre_nm_settings_from_vpn(vpn, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(s->mtu, ==, 1400);

    /* The hint shows what auto would give, from the same arithmetic as the service. */
    s->mtu = GRE_MTU_AUTO;
    hint   = g_strdup_printf("auto: %u over a 1500-byte underlay", gre_mtu_compute(s, 1500, NULL));
    g_assert_cmpstr(label_text(page, "mtu-hint"), ==, hint);
    g_test_message("mtu hint: %s", hint);
    set_text(page, "mtu", "1500");
    g_assert_nonnull(strstr(label_text(page, "mtu-hint"), "is more than fits"));
    set_text(page, "mtu", "1400");

    /* With manual keys only the CBC suites are offered: a counter-mode suite cannot be chosen. */
    {
        g_autofree char *ids = combo_ids(page, "ipsec-suite");

        g_assert_cmpstr(ids, ==, MANUAL_SUITES);
    }
    g_assert_false(gtk_combo_box_set_active_id(
        GTK_COMBO_BOX(find(page, "ipsec-suite", G_TYPE_NONE)), "aes128gcm16"));
    set_combo(page, "ipsec-suite", "aes256-sha256");
    set_text(page, "esp-key-in", KEY_IN "101112131415161718191a1b1c1d1e1f");
    set_text(page, "esp-key-out", KEY_OUT "202122232425262728292a2b2c2d2e2f");
    set_text(page, "auth-key-in", KEY_IN "101112131415161718191a1b1c1d1e1f");
    set_text(page, "auth-key-out", KEY_OUT "202122232425262728292a2b2c2d2e2f");
    g_assert_true(nm_vpn_editor_update_connection(editor, out, &error));
    g_assert_no_error(error);
    vpn = nm_connection_get_setting_vpn(out);
    /* The default suite is not written. */
    g_assert_null(nm_setting_vpn_get_data_item(vpn, "ipsec-suite"));
    /* Greyed-out fields are not written: without IPsec no IPsec key is written at all. */
    set_combo(page, "ipsec", "none");
    g_assert_true(nm_vpn_editor_update_connection(editor, out, &error));
    g_assert_no_error(error);
    vpn = nm_connection_get_setting_vpn(out);
    g_assert_null(nm_setting_vpn_get_data_item(vpn, "ipsec"));
    g_assert_null(nm_setting_vpn_get_data_item(vpn, "spi-in"));
    g_assert_null(nm_setting_vpn_get_secret(vpn, "esp-key-in"));
    g_assert_cmpstr(nm_setting_vpn_get_data_item(vpn, "mtu"), ==, "1400");
    close_window();
}

static void
test_invalid(void)
{
    g_autoptr(NMConnection) connection = new_connection(TRUE);
    g_autoptr(NMConnection) out        = new_connection(TRUE);
    g_autoptr(NMVpnEditor) editor      = load_editor(connection);
    g_autoptr(GError) error            = NULL;
    GtkWidget *page                    = GTK_WIDGET(nm_vpn_editor_get_widget(editor));
    GtkWidget *notebook                = find(page, NULL, GTK_TYPE_NOTEBOOK);

    show_in_window(page);
    g_assert_false(has_error(page, "remote"));

    /* Marked as typed, before anything is saved. */
    set_text(page, "remote", "192.0.2.300");
    g_assert_true(has_error(page, "remote"));
    g_assert_false(has_error(page, "local"));
    g_assert_nonnull(strstr(label_text(page, "problem"), "remote"));
    screenshot("invalid-remote");

    g_assert_false(nm_vpn_editor_update_connection(editor, out, &error));
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "vpn.data: remote: "));
    g_test_message("error: %s", error->message);
    g_clear_error(&error);

    /* A problem between fields: the SPI is out of range, the key the wrong length. */
    set_text(page, "remote", "192.0.2.2");
    set_text(page, "spi-in", "12");
    set_text(page, "esp-key-in", "0x0001");
    g_assert_false(has_error(page, "remote"));
    g_assert_true(has_error(page, "spi-in"));
    g_assert_true(has_error(page, "esp-key-in"));
    gtk_notebook_set_current_page(GTK_NOTEBOOK(notebook), 2);
    screenshot("invalid-ipsec");
    g_assert_false(nm_vpn_editor_update_connection(editor, out, &error));
    g_assert_nonnull(strstr(error->message, "vpn.data: spi-in: "));
    g_assert_nonnull(strstr(error->message, "vpn.secrets: esp-key-in: "));
    /* Never echo key material. */
    g_assert_null(strstr(error->message, "0001"));
    g_test_message("error: %s", error->message);
    g_clear_error(&error);

    /* Fixed, it saves again. */
    set_text(page, "spi-in", "0x1000");
    set_text(page, "esp-key-in", KEY_IN);
    g_assert_false(has_error(page, "spi-in"));
    g_assert_true(nm_vpn_editor_update_connection(editor, out, &error));
    g_assert_no_error(error);
    close_window();
}

/* A connection from before the rule, with AES-GCM and manual keys: the editor shows its suite,
 * marked, with the service's message, and offers only the CBC suites to choose instead. */
static void
test_refused_suite(void)
{
    g_autoptr(NMConnection) connection = new_connection_suite(TRUE, "aes256gcm16");
    g_autoptr(NMConnection) out        = nm_simple_connection_new();
    g_autoptr(NMVpnEditor) editor      = load_editor(connection);
    g_autoptr(GError) error            = NULL;
    GtkWidget       *page              = GTK_WIDGET(nm_vpn_editor_get_widget(editor));
    GtkWidget       *notebook          = find(page, NULL, GTK_TYPE_NOTEBOOK);
    g_autofree char *ids               = NULL;

    g_signal_connect(editor, "changed", G_CALLBACK(on_changed), NULL);
    show_in_window(page);
    ids = combo_ids(page, "ipsec-suite");
    g_assert_cmpstr(ids, ==, MANUAL_SUITES " aes256gcm16");
    g_assert_cmpstr(
        gtk_combo_box_get_active_id(GTK_COMBO_BOX(find(page, "ipsec-suite", G_TYPE_NONE))), ==,
        "aes256gcm16");
    g_assert_true(has_error(page, "ipsec-suite"));
    g_assert_true(g_str_has_prefix(label_text(page, "problem"),
                                   "vpn.data: ipsec-suite: aes256gcm16 is not safe with static "
                                   "keys: "));
    gtk_notebook_set_current_page(GTK_NOTEBOOK(notebook), 2);
    screenshot("refused-suite");
    g_assert_false(nm_vpn_editor_update_connection(editor, out, &error));
    g_assert_nonnull(strstr(error->message, "with ipsec=manual use a CBC suite (aes128-sha256, "
                                            "aes256-sha256, aes128-sha1, aes256-sha1)"));
    g_test_message("error: %s", error->message);
    g_clear_error(&error);

    /* Another suite chosen, the refused one is gone from the list. */
    set_combo(page, "ipsec-suite", "aes128-sha1");
    g_free(ids);
    ids = combo_ids(page, "ipsec-suite");
    g_assert_cmpstr(ids, ==, MANUAL_SUITES);
    g_assert_false(has_error(page, "ipsec-suite"));
    /* Without IPsec and back: still only the CBC suites. */
    set_combo(page, "ipsec", "none");
    set_combo(page, "ipsec", "manual");
    g_free(ids);
    ids = combo_ids(page, "ipsec-suite");
    g_assert_cmpstr(ids, ==, MANUAL_SUITES);
    close_window();
}

/* The storage menu of a key entry, as if the user picked "ask every time". */
static void
test_storage_menu(void)
{
    g_autoptr(NMConnection) connection = new_connection(TRUE);
    g_autoptr(NMConnection) out        = nm_simple_connection_new();
    g_autoptr(NMVpnEditor) editor      = load_editor(connection);
    g_autoptr(GError) error            = NULL;
    g_autofree const char **missing    = NULL;
    GtkWidget              *page       = GTK_WIDGET(nm_vpn_editor_get_widget(editor));
    GtkWidget              *entry      = find(page, "esp-key-out", G_TYPE_NONE);
    NMSettingSecretFlags    flags      = 0;
    NMSettingVpn           *vpn;

    g_signal_connect(editor, "changed", G_CALLBACK(on_changed), NULL);
    show_in_window(page);
    changed_count = 0;
    nma_utils_update_password_storage(entry, NM_SETTING_SECRET_FLAG_NOT_SAVED, NULL, "esp-key-out");
    g_assert_cmpuint(changed_count, >, 0);

    g_assert_true(nm_vpn_editor_update_connection(editor, out, &error));
    g_assert_no_error(error);
    vpn = nm_connection_get_setting_vpn(out);
    g_assert_null(nm_setting_vpn_get_secret(vpn, "esp-key-out"));
    g_assert_true(nm_setting_get_secret_flags(NM_SETTING(vpn), "esp-key-out", &flags, NULL));
    g_assert_cmpint(flags, ==, NM_SETTING_SECRET_FLAG_NOT_SAVED);
    g_assert_cmpstr(nm_setting_vpn_get_secret(vpn, "esp-key-in"), ==, KEY_IN);
    /* The service asks for exactly that key at connect time. */
    missing = gre_nm_missing_secrets(vpn);
    g_assert_cmpstr(missing[0], ==, "esp-key-out");
    g_assert_null(missing[1]);
    close_window();
}

static void
test_unheld_secrets(void)
{
    g_autoptr(NMConnection) connection = new_connection(FALSE);
    g_autoptr(NMConnection) out        = new_connection(FALSE);
    g_autoptr(NMVpnEditor) editor      = load_editor(connection);
    g_autoptr(GError) error            = NULL;
    NMSettingSecretFlags flags         = 0;
    NMSettingVpn        *vpn;

    show_in_window(GTK_WIDGET(nm_vpn_editor_get_widget(editor)));
    g_assert_true(nm_vpn_editor_update_connection(editor, out, &error));
    g_assert_no_error(error);
    vpn = nm_connection_get_setting_vpn(out);
    g_assert_null(nm_setting_vpn_get_secret(vpn, "esp-key-in"));
    g_assert_true(nm_setting_get_secret_flags(NM_SETTING(vpn), "esp-key-in", &flags, NULL));
    g_assert_cmpint(flags, ==, NM_SETTING_SECRET_FLAG_AGENT_OWNED);
    g_assert_true(nm_setting_get_secret_flags(NM_SETTING(vpn), "esp-key-out", &flags, NULL));
    g_assert_cmpint(flags, ==, NM_SETTING_SECRET_FLAG_NOT_SAVED);
    close_window();
}

/* IKEv2 is offered beside none and manual keys. Chosen, the suite follows to IKE's default (an
 * AEAD suite), the IKE page's fields apply and the manual ones do not; the PSK is a secret with
 * NetworkManager's storage menu, and its flags survive a second editor on the result. */
#define PSK "a-test-pattern-of-24-ch"
static void
test_ike(void)
{
    g_autoptr(NMConnection) connection = new_connection(TRUE);
    g_autoptr(NMConnection) out        = nm_simple_connection_new();
    g_autoptr(NMConnection) again      = nm_simple_connection_new();
    g_autoptr(NMVpnEditor) editor      = load_editor(connection);
    g_autoptr(NMVpnEditor) editor2     = NULL;
    g_autoptr(GError) error            = NULL;
    g_autofree const char **missing    = NULL;
    g_autofree char        *ids        = NULL;
    GtkWidget              *page       = GTK_WIDGET(nm_vpn_editor_get_widget(editor));
    GtkWidget              *notebook   = find(page, NULL, GTK_TYPE_NOTEBOOK);
    GtkWidget              *psk;
    NMSettingSecretFlags    flags = 0;
    NMSettingVpn           *vpn;

    g_signal_connect(editor, "changed", G_CALLBACK(on_changed), NULL);
    show_in_window(page);
    ids = combo_ids(page, "ipsec");
    g_assert_cmpstr(ids, ==, "none manual ike");
    g_assert_false(gtk_widget_get_sensitive(find(page, "ike-psk", G_TYPE_NONE)));
    /* The suite was manual keying's default: it follows to IKE's. */
    set_combo(page, "ipsec-suite", "aes256-sha256");
    set_combo(page, "ipsec", "ike");
    g_assert_cmpstr(
        gtk_combo_box_get_active_id(GTK_COMBO_BOX(find(page, "ipsec-suite", G_TYPE_NONE))), ==,
        "aes256gcm16");
    g_free(ids);
    ids = combo_ids(page, "ipsec-suite");
    g_assert_nonnull(strstr(ids, "aes256gcm16"));
    g_assert_nonnull(strstr(ids, "chacha20poly1305"));
    g_assert_true(gtk_widget_get_sensitive(find(page, "ipsec-suite", G_TYPE_NONE)));
    g_assert_true(gtk_widget_get_sensitive(find(page, "ike-psk", G_TYPE_NONE)));
    g_assert_false(gtk_widget_get_sensitive(find(page, "spi-in", G_TYPE_NONE)));
    g_assert_false(gtk_widget_get_sensitive(find(page, "esp-key-in", G_TYPE_NONE)));
    /* A path key has a chooser beside its entry. */
    g_assert_true(GTK_IS_BUTTON(find(page, "ike-vici-socket-choose", G_TYPE_NONE)));

    /* Without a PSK the page says so, naming the key. */
    g_assert_false(nm_vpn_editor_update_connection(editor, out, &error));
    g_assert_nonnull(strstr(error->message, "vpn.secrets: ike-psk: missing"));
    g_assert_true(has_error(page, "ike-psk"));
    g_clear_error(&error);
    set_text(page, "ike-psk", PSK);
    set_text(page, "ike-remote-id", "gw.example.net");
    gtk_notebook_set_current_page(GTK_NOTEBOOK(notebook), 3);
    screenshot("ike");
    g_assert_true(nm_vpn_editor_update_connection(editor, out, &error));
    g_assert_no_error(error);
    vpn = nm_connection_get_setting_vpn(out);
    g_assert_cmpstr(nm_setting_vpn_get_data_item(vpn, "ipsec"), ==, "ike");
    g_assert_null(nm_setting_vpn_get_data_item(vpn, "ipsec-suite")); /* IKE's default */
    g_assert_cmpstr(nm_setting_vpn_get_data_item(vpn, "ike-remote-id"), ==, "gw.example.net");
    g_assert_null(nm_setting_vpn_get_data_item(vpn, "spi-in"));
    g_assert_null(nm_setting_vpn_get_secret(vpn, "esp-key-in"));
    g_assert_cmpstr(nm_setting_vpn_get_secret(vpn, "ike-psk"), ==, PSK);

    /* "Ask every time": no PSK stored, the flag is, and the service asks for exactly it. */
    psk = find(page, "ike-psk", G_TYPE_NONE);
    nma_utils_update_password_storage(psk, NM_SETTING_SECRET_FLAG_NOT_SAVED, NULL, "ike-psk");
    g_assert_true(nm_vpn_editor_update_connection(editor, out, &error));
    g_assert_no_error(error);
    vpn = nm_connection_get_setting_vpn(out);
    g_assert_null(nm_setting_vpn_get_secret(vpn, "ike-psk"));
    g_assert_true(nm_setting_get_secret_flags(NM_SETTING(vpn), "ike-psk", &flags, NULL));
    g_assert_cmpint(flags, ==, NM_SETTING_SECRET_FLAG_NOT_SAVED);
    missing = gre_nm_missing_secrets(vpn);
    g_assert_cmpstr(missing[0], ==, "ike-psk");
    g_assert_null(missing[1]);
    close_window();

    /* A second editor on the result shows the same choice and writes it back. */
    nm_connection_add_setting(again, nm_setting_duplicate(NM_SETTING(vpn)));
    nm_connection_add_setting(
        again, nm_setting_duplicate(NM_SETTING(nm_connection_get_setting_connection(connection))));
    editor2 = load_editor(again);
    page    = GTK_WIDGET(nm_vpn_editor_get_widget(editor2));
    show_in_window(page);
    g_assert_cmpint(nma_utils_menu_to_secret_flags(find(page, "ike-psk", G_TYPE_NONE)), ==,
                    NM_SETTING_SECRET_FLAG_NOT_SAVED);
    g_assert_cmpstr(
        gtk_combo_box_get_active_id(GTK_COMBO_BOX(find(page, "ipsec-suite", G_TYPE_NONE))), ==,
        "aes256gcm16");
    g_assert_true(nm_vpn_editor_update_connection(editor2, again, &error));
    g_assert_no_error(error);
    vpn = nm_connection_get_setting_vpn(again);
    g_assert_true(nm_setting_get_secret_flags(NM_SETTING(vpn), "ike-psk", &flags, NULL));
    g_assert_cmpint(flags, ==, NM_SETTING_SECRET_FLAG_NOT_SAVED);
    g_assert_null(nm_setting_vpn_get_data_item(vpn, "ipsec-suite"));
    g_assert_cmpstr(nm_setting_vpn_get_data_item(vpn, "ike-remote-id"), ==, "gw.example.net");
    close_window();
}

/* The page as a German host shows it: the layout's labels, the settings table's help in the
 * tooltips, the MTU hint and the core's messages come from the catalog; key names and values
 * stay as vpn.data spells them. */
static void
test_german(void)
{
    g_autoptr(NMConnection) connection = new_connection(TRUE);
    g_autoptr(NMVpnEditor) editor      = NULL;
    g_autofree char *tip               = NULL;
    GList           *labels            = NULL;
    GtkWidget       *page;

    /* gtk_init() took the locale from LC_ALL=C.UTF-8; without it, LANGUAGE is ignored. */
    if (g_strcmp0(setlocale(LC_MESSAGES, NULL), "C") == 0) {
        g_test_skip("no C.UTF-8 locale");
        return;
    }
    editor = load_editor(connection);
    page   = GTK_WIDGET(nm_vpn_editor_get_widget(editor));
    show_in_window(page);
    screenshot("german");

    labels = gtk_widget_list_mnemonic_labels(find(page, "remote", G_TYPE_NONE));
    g_assert_nonnull(labels);
    g_assert_cmpstr(gtk_label_get_text(GTK_LABEL(labels->data)), ==, "Adresse der Gegenstelle");
    g_list_free(labels);
    /* A copy in both toolkits (GTK4's getter returns the widget's own string). */
    g_object_get(find(page, "device", G_TYPE_NONE), "tooltip-text", &tip, NULL);
    g_assert_cmpstr(tip, ==, "Name des Tunnelgeräts.\ndevice: 1-15 characters");
    g_assert_true(g_str_has_prefix(label_text(page, "mtu-hint"), "auto: "));
    g_assert_nonnull(strstr(label_text(page, "mtu-hint"), " über einem Underlay mit 1500 Byte"));
    set_text(page, "mtu", "1500");
    g_assert_nonnull(strstr(label_text(page, "mtu-hint"), "1500 ist mehr als passt"));

    set_text(page, "remote", "192.0.2.300");
    g_assert_cmpstr(label_text(page, "problem"), ==,
                    "vpn.data: remote: »192.0.2.300« ist keine IPv4- oder IPv6-Adresse");
    g_test_message("problem: %s", label_text(page, "problem"));
    close_window();
}

int
main(int argc, char **argv)
{
    gboolean german = FALSE;
    int      status;

    g_test_init(&argc, &argv, NULL);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--german") == 0)
            german = TRUE;
        else if (i + 1 < argc && strcmp(argv[i], "--plugin") == 0)
            plugin_path = argv[i + 1];
        else if (i + 1 < argc && strcmp(argv[i], "--editor") == 0)
            editor_path = argv[i + 1];
    }
    g_assert_nonnull(editor_path);
    if (german) {
        g_autofree char *po = g_build_filename(g_getenv("GRE_BUILDDIR"), "po", NULL);

        g_assert_nonnull(g_getenv("GRE_BUILDDIR"));
        /* Before gtk_init(), which sets the locale from the environment. */
        g_setenv("LANGUAGE", "de", TRUE);
        g_setenv("LC_ALL", "C.UTF-8", TRUE);
        g_setenv("GRE_LOCALEDIR", po, TRUE);
    }
#if GTK_CHECK_VERSION(4, 0, 0)
    gtk_init();
#else
    gtk_init(NULL, NULL);
#endif

    if (german) {
        g_test_add_func("/editor/" TOOLKIT "/german", test_german);
    } else {
        g_test_add_func("/editor/" TOOLKIT "/edit", test_edit);
        g_test_add_func("/editor/" TOOLKIT "/invalid", test_invalid);
        g_test_add_func("/editor/" TOOLKIT "/refused-suite", test_refused_suite);
        g_test_add_func("/editor/" TOOLKIT "/storage-menu", test_storage_menu);
        g_test_add_func("/editor/" TOOLKIT "/unheld-secrets", test_unheld_secrets);
        g_test_add_func("/editor/" TOOLKIT "/ike", test_ike);
    }
    status = g_test_run();
    if (plugin_dir) {
        g_autoptr(GDir) dir = g_dir_open(plugin_dir, 0, NULL);
        const char *name;

        while (dir && (name = g_dir_read_name(dir))) {
            g_autofree char *path = g_build_filename(plugin_dir, name, NULL);
            g_unlink(path);
        }
        g_rmdir(plugin_dir);
    }
    return status;
}
