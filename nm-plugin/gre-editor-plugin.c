/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dlfcn.h>

#include <NetworkManager.h>

#include "gre-error.h"
#include "gre-i18n.h"
#include "gre-nm-data.h"
#include "gre-nm-file.h"

/*
 * libnm-vpn-plugin-gre.so: what nmcli, nmtui and the GNOME tools load for "vpn-type gre". It
 * has no GTK in it, so import and export work everywhere; the editor widgets live in a separate
 * library per GTK version, loaded only when a GUI asks for them.
 */

#define GRE_EDITOR_GTK3 "libnm-vpn-plugin-gre-editor.so"
#define GRE_EDITOR_GTK4 "libnm-gtk4-vpn-plugin-gre-editor.so"
#define GRE_EDITOR_FACTORY "nm_vpn_editor_factory_gre"

typedef NMVpnEditor *(*GreEditorFactory)(NMVpnEditorPlugin *editor_plugin, NMConnection *connection,
                                         GError **error);

#define GRE_TYPE_EDITOR_PLUGIN (gre_editor_plugin_get_type())
G_DECLARE_FINAL_TYPE(GreEditorPlugin, gre_editor_plugin, GRE, EDITOR_PLUGIN, GObject)

struct _GreEditorPlugin {
    GObject parent;
};

enum {
    PROP_0,
    PROP_NAME,
    PROP_DESC,
    PROP_SERVICE,
};

static void gre_editor_plugin_iface_init(NMVpnEditorPluginInterface *iface);

G_DEFINE_TYPE_WITH_CODE(GreEditorPlugin, gre_editor_plugin, G_TYPE_OBJECT,
                        G_IMPLEMENT_INTERFACE(NM_TYPE_VPN_EDITOR_PLUGIN,
                                              gre_editor_plugin_iface_init))

/* The directory this library was loaded from: the editor libraries are installed beside it. */
static char *
own_dir(void)
{
    Dl_info info;

    if (!dladdr((void *)own_dir, &info) || !info.dli_fname)
        return NULL;
    return g_path_get_dirname(info.dli_fname);
}

static NMVpnEditor *
get_editor(NMVpnEditorPlugin *plugin, NMConnection *connection, GError **error)
{
    /* A GTK 3 process cannot load GTK 4 widgets, nor the reverse; the host decides. */
    const gboolean   gtk3 = dlsym(RTLD_DEFAULT, "gtk_container_add") != NULL;
    g_autofree char *dir  = own_dir();
    g_autofree char *path = NULL;
    GreEditorFactory factory;
    void            *handle;

    if (!dir) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_IO,
                    _("cannot find where the GRE VPN plugin is installed"));
        return NULL;
    }
    path = g_build_filename(dir, gtk3 ? GRE_EDITOR_GTK3 : GRE_EDITOR_GTK4, NULL);
    /* Never unloaded: the editor registers GTypes, which cannot be unregistered. */
    handle = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
    if (!handle) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_IO,
                    /* TRANSLATORS: the GTK version (3 or 4), then the loader's reason */
                    _("the GRE tunnel editor for GTK %d is not installed or cannot be loaded (%s); "
                      "nmcli can still edit the connection"),
                    gtk3 ? 3 : 4, dlerror());
        return NULL;
    }
    factory = (GreEditorFactory)dlsym(handle, GRE_EDITOR_FACTORY);
    if (!factory) {
        /* TRANSLATORS: a library's path, then the name of a function it should export */
        g_set_error(error, GRE_ERROR, GRE_ERROR_IO, _("%s does not provide %s"), path,
                    GRE_EDITOR_FACTORY);
        return NULL;
    }
    return factory(plugin, connection, error);
}

static NMVpnEditorPluginCapability
get_capabilities(NMVpnEditorPlugin *plugin)
{
    (void)plugin;
    /* IPV6: the tunnel carries inner IPv6 too, so the editor keeps the IPv6 page. */
    return NM_VPN_EDITOR_PLUGIN_CAPABILITY_IMPORT | NM_VPN_EDITOR_PLUGIN_CAPABILITY_EXPORT |
           NM_VPN_EDITOR_PLUGIN_CAPABILITY_IPV6;
}

static NMConnection *
import_from_file(NMVpnEditorPlugin *plugin, const char *path, GError **error)
{
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    NMConnection *conn            = gre_nm_import(path, warnings, error);

    (void)plugin;
    /* Not fatal, but the user should hear of them: nmcli shows messages on stderr. */
    for (guint i = 0; conn && i < warnings->len; i++)
        g_message("%s", (const char *)warnings->pdata[i]);
    return conn;
}

static gboolean
export_to_file(NMVpnEditorPlugin *plugin, const char *path, NMConnection *connection,
               GError **error)
{
    (void)plugin;
    return gre_nm_export(connection, path, error);
}

static char *
get_suggested_filename(NMVpnEditorPlugin *plugin, NMConnection *connection)
{
    (void)plugin;
    return gre_nm_suggested_filename(connection);
}

static void
get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
    /* Translated on each read, in the language the host has when it asks. */
    switch (prop_id) {
    case PROP_NAME:
        g_value_set_string(value, _("GRE tunnel"));
        break;
    case PROP_DESC:
        g_value_set_string(value, _("A GRE or ip6gre tunnel to a peer, optionally with GRE-only "
                                    "IPsec (manual keys)"));
        break;
    case PROP_SERVICE:
        g_value_set_string(value, GRE_NM_SERVICE_TYPE);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
        break;
    }
}

static void
gre_editor_plugin_init(GreEditorPlugin *plugin)
{
    (void)plugin;
}

static void
gre_editor_plugin_class_init(GreEditorPluginClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->get_property = get_property;
    g_object_class_override_property(object_class, PROP_NAME, NM_VPN_EDITOR_PLUGIN_NAME);
    g_object_class_override_property(object_class, PROP_DESC, NM_VPN_EDITOR_PLUGIN_DESCRIPTION);
    g_object_class_override_property(object_class, PROP_SERVICE, NM_VPN_EDITOR_PLUGIN_SERVICE);
}

static void
gre_editor_plugin_iface_init(NMVpnEditorPluginInterface *iface)
{
    iface->get_editor             = get_editor;
    iface->get_capabilities       = get_capabilities;
    iface->import_from_file       = import_from_file;
    iface->export_to_file         = export_to_file;
    iface->get_suggested_filename = get_suggested_filename;
}

G_MODULE_EXPORT NMVpnEditorPlugin *
nm_vpn_editor_plugin_factory(GError **error)
{
    g_return_val_if_fail(!error || !*error, NULL);
    /* The host (nmcli, nm-connection-editor, GNOME Settings) owns the locale and the default
     * text domain; the plugin only says where its own catalogs are. */
    gre_i18n_bind();
    return g_object_new(GRE_TYPE_EDITOR_PLUGIN, NULL);
}
