/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <NetworkManager.h>
#include <gtk/gtk.h>

#include "gre-settings-table.h"

/*
 * The editor page's widgets: one per key of the settings table, in pages and groups. Only
 * construction lives here; values and signals are the editor's (gre-editor.c).
 */

typedef enum {
    GRE_W_ENTRY,
    GRE_W_SECRET,
    GRE_W_CHECK,
    GRE_W_COMBO,
} GreWidgetKind;

typedef struct {
    const GreKeyInfo    *key;
    GreWidgetKind        kind;
    GtkWidget           *widget; /* named after the vpn.data key, for tests and accessibility */
    GtkWidget           *label;  /* NULL for check buttons, which carry their own */
    NMSettingSecretFlags flags;  /* secrets: the storage menu's last choice */
} GreField;

typedef struct {
    GtkWidget *root;     /* the whole page; floating until the caller sinks it */
    GtkWidget *mtu_hint; /* beside the MTU field: what auto would give */
    GtkWidget *problem;  /* below the pages: the first problem, if any */
    GreField   fields[GRE_KEY_COUNT];
} GrePage;

/* Creates every widget, empty and without signal handlers. */
void gre_page_build(GrePage *page);
/* Whether @key holds a file path: its entry gets a button that opens a file chooser. */
gboolean gre_page_is_path(const GreKeyInfo *key);
/* Lists in the suite combo the suites @mode may use, keeping the active one (none active: the
 * mode's default suite). */
void gre_page_set_suites(GrePage *page, GreIpsecMode mode);
