/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * VICI messages (strongSwan's control protocol, as charon 5.9 speaks it): a tree of sections,
 * key/values and lists, encoded as a flat sequence of elements. This file only builds and parses
 * messages; gre-vici.h moves them over the daemon's socket.
 *
 * Values may hold secrets (the PSK of load-shared): every buffer that held an encoded message or
 * a parsed value is wiped before it is freed.
 */
#include <glib.h>

#define GRE_VICI_ERROR (gre_vici_error_quark())
GQuark gre_vici_error_quark(void);

typedef enum {
    GRE_VICI_ERROR_MALFORMED,       /* a message or packet breaks the protocol's rules */
    GRE_VICI_ERROR_TOO_LARGE,       /* a name, value or segment is over the protocol's limit */
    GRE_VICI_ERROR_CONNECT,         /* the daemon's socket could not be reached */
    GRE_VICI_ERROR_IO,              /* reading or writing the socket failed */
    GRE_VICI_ERROR_TIMEOUT,         /* the daemon did not answer in time */
    GRE_VICI_ERROR_CLOSED,          /* the daemon closed the connection */
    GRE_VICI_ERROR_UNKNOWN_COMMAND, /* CMD_UNKNOWN: the daemon has no such command */
    GRE_VICI_ERROR_UNKNOWN_EVENT,   /* EVENT_UNKNOWN: no such event, or not registered */
    GRE_VICI_ERROR_FAILED,          /* the command ran and reported failure (its errmsg) */
} GreViciErrorCode;

/* Limits of the protocol (charon's vici plugin): names have an 8-bit length, values a 16-bit one,
 * and a transport segment carries at most 512 KiB. Parsing also refuses sections nested deeper
 * than GRE_VICI_MAX_DEPTH: charon's deepest message (child-rekey) nests 5 levels. */
#define GRE_VICI_MAX_NAME 255
#define GRE_VICI_MAX_VALUE 65535
#define GRE_VICI_MAX_SEGMENT (512 * 1024)
#define GRE_VICI_MAX_DEPTH 16

/* Message element types (the first byte of each element). */
typedef enum {
    GRE_VICI_SECTION_START = 1,
    GRE_VICI_SECTION_END   = 2,
    GRE_VICI_KEY_VALUE     = 3,
    GRE_VICI_LIST_START    = 4,
    GRE_VICI_LIST_ITEM     = 5,
    GRE_VICI_LIST_END      = 6,
} GreViciElement;

/* ---- building ---------------------------------------------------------------------------------
 * Calls append elements in order. The first misuse (a name or value over its limit, an empty
 * name, a key/value inside a list, an end without a start, a message over the segment limit)
 * is remembered, later calls do nothing, and gre_vici_builder_finish() reports it. */
typedef struct _GreViciBuilder GreViciBuilder;

GreViciBuilder *gre_vici_builder_new(void);
void            gre_vici_builder_free(GreViciBuilder *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GreViciBuilder, gre_vici_builder_free)

void gre_vici_builder_begin_section(GreViciBuilder *b, const char *name);
void gre_vici_builder_end_section(GreViciBuilder *b);
void gre_vici_builder_add(GreViciBuilder *b, const char *key, const char *value);
void gre_vici_builder_add_bytes(GreViciBuilder *b, const char *key, const void *value, gsize len);
void gre_vici_builder_begin_list(GreViciBuilder *b, const char *name);
void gre_vici_builder_list_item(GreViciBuilder *b, const char *value);
/* A list item that need not be text (a DER certificate). */
void gre_vici_builder_list_item_bytes(GreViciBuilder *b, const void *value, gsize len);
void gre_vici_builder_end_list(GreViciBuilder *b);

/* The encoded message (wiped when its last reference goes), or NULL with the first misuse, or
 * with an unbalanced section or list. The builder can be freed afterwards only. */
GBytes *gre_vici_builder_finish(GreViciBuilder *b, GError **error);

/* ---- parsed messages --------------------------------------------------------------------------
 * A section (the message itself is the unnamed root section) holds entries in the order they came:
 * key/values, lists and sub-sections. Duplicate names are kept (charon repeats keys in
 * get-algorithms); lookups return the first. Values are raw bytes; the accessors for text give
 * NULL for a value with a NUL byte in it, so a caller never silently sees half a value. */
typedef struct _GreViciSection GreViciSection;

typedef enum {
    GRE_VICI_ENTRY_VALUE,
    GRE_VICI_ENTRY_LIST,
    GRE_VICI_ENTRY_SECTION,
} GreViciEntryKind;

/* Strict, bounded parse of one message: every element must fit in @len, sections and lists must
 * balance, lists hold items only and do not nest, sections nest at most GRE_VICI_MAX_DEPTH. */
GreViciSection *gre_vici_parse(const guint8 *data, gsize len, GError **error);
void            gre_vici_section_free(GreViciSection *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GreViciSection, gre_vici_section_free)

const char *gre_vici_section_name(const GreViciSection *s); /* NULL for the root */
guint       gre_vici_section_n_entries(const GreViciSection *s);
/* Entry @i: its kind and name; *sub is set for a section (else NULL). */
GreViciEntryKind gre_vici_section_entry(const GreViciSection *s, guint i, const char **name,
                                        const GreViciSection **sub);

/* The text of key @key, NULL when absent, not a key/value, or holding a NUL byte. */
const char *gre_vici_get(const GreViciSection *s, const char *key);
/* The raw value of key @key (NULL when absent). */
const guint8 *gre_vici_get_bytes(const GreViciSection *s, const char *key, gsize *len);
/* Sub-section @name, NULL when absent. */
const GreViciSection *gre_vici_get_section(const GreViciSection *s, const char *name);
/* The items of list @name as a NULL-terminated array (NULL when absent; an item holding a NUL
 * byte makes the whole list NULL). */
const char *const *gre_vici_get_list(const GreViciSection *s, const char *name);

/* The message again in VICI's encoding (for round trips and re-sending). */
GBytes *gre_vici_section_encode(const GreViciSection *s, GError **error);

/* A readable dump, one element a line, for tests and debugging; values shown as text. */
char *gre_vici_section_dump(const GreViciSection *s);
