/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <gtk/gtk.h>

/*
 * The few calls that differ between GTK3 and GTK4, so that the editor is one source compiled
 * once per toolkit (GRE_GTK4 set for the GTK4 build).
 */

static inline const char *
gre_entry_get_text(GtkWidget *entry)
{
#if GTK_CHECK_VERSION(4, 0, 0)
    return gtk_editable_get_text(GTK_EDITABLE(entry));
#else
    return gtk_entry_get_text(GTK_ENTRY(entry));
#endif
}

static inline void
gre_entry_set_text(GtkWidget *entry, const char *text)
{
#if GTK_CHECK_VERSION(4, 0, 0)
    gtk_editable_set_text(GTK_EDITABLE(entry), text ? text : "");
#else
    gtk_entry_set_text(GTK_ENTRY(entry), text ? text : "");
#endif
}

static inline gboolean
gre_check_get_active(GtkWidget *check)
{
#if GTK_CHECK_VERSION(4, 0, 0)
    return gtk_check_button_get_active(GTK_CHECK_BUTTON(check));
#else
    return gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(check));
#endif
}

static inline void
gre_check_set_active(GtkWidget *check, gboolean active)
{
#if GTK_CHECK_VERSION(4, 0, 0)
    gtk_check_button_set_active(GTK_CHECK_BUTTON(check), active);
#else
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(check), active);
#endif
}

static inline void
gre_widget_set_error(GtkWidget *widget, gboolean error)
{
#if GTK_CHECK_VERSION(4, 0, 0)
    if (error)
        gtk_widget_add_css_class(widget, "error");
    else
        gtk_widget_remove_css_class(widget, "error");
#else
    GtkStyleContext *style = gtk_widget_get_style_context(widget);

    if (error)
        gtk_style_context_add_class(style, "error");
    else
        gtk_style_context_remove_class(style, "error");
#endif
}

static inline gboolean
gre_widget_has_error(GtkWidget *widget)
{
#if GTK_CHECK_VERSION(4, 0, 0)
    return gtk_widget_has_css_class(widget, "error");
#else
    return gtk_style_context_has_class(gtk_widget_get_style_context(widget), "error");
#endif
}

static inline void
gre_box_append(GtkWidget *box, GtkWidget *child)
{
#if GTK_CHECK_VERSION(4, 0, 0)
    gtk_box_append(GTK_BOX(box), child);
#else
    gtk_box_pack_start(GTK_BOX(box), child, FALSE, FALSE, 0);
#endif
}

static inline void
gre_label_set_wrap(GtkWidget *label)
{
#if GTK_CHECK_VERSION(4, 0, 0)
    gtk_label_set_wrap(GTK_LABEL(label), TRUE);
#else
    gtk_label_set_line_wrap(GTK_LABEL(label), TRUE);
#endif
}

static inline void
gre_entry_set_width_chars(GtkWidget *entry, int n)
{
#if GTK_CHECK_VERSION(4, 0, 0)
    gtk_editable_set_width_chars(GTK_EDITABLE(entry), n);
#else
    gtk_entry_set_width_chars(GTK_ENTRY(entry), n);
#endif
}

/* The window @widget is in, or NULL while it is in none (dialogs opened from it stay on top). */
static inline GtkWindow *
gre_widget_window(GtkWidget *widget)
{
#if GTK_CHECK_VERSION(4, 0, 0)
    GtkRoot *root = gtk_widget_get_root(widget);

    return GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL;
#else
    GtkWidget *top = gtk_widget_get_toplevel(widget);

    return GTK_IS_WINDOW(top) ? GTK_WINDOW(top) : NULL;
#endif
}
