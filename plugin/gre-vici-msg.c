/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-vici-msg.h"

#include <string.h>

#include "gre-i18n.h"

G_DEFINE_QUARK(gre - vici - error - quark, gre_vici_error)

/* ---- building ------------------------------------------------------------------------------ */

struct _GreViciBuilder {
    guint8  *data; /* own buffer: grown by copy and wipe, never by realloc (values may be secret) */
    gsize    len, cap;
    guint    depth;   /* open sections */
    gboolean in_list; /* a list is open */
    GError  *error;   /* the first misuse */
};

GreViciBuilder *
gre_vici_builder_new(void)
{
    GreViciBuilder *b = g_new0(GreViciBuilder, 1);

    b->cap  = 512;
    b->data = g_malloc(b->cap);
    return b;
}

void
gre_vici_builder_free(GreViciBuilder *b)
{
    if (!b)
        return;
    explicit_bzero(b->data, b->cap);
    g_free(b->data);
    g_clear_error(&b->error);
    g_free(b);
}

static gboolean G_GNUC_PRINTF(3, 4)
    fail(GreViciBuilder *b, GreViciErrorCode code, const char *fmt, ...)
{
    va_list ap;

    if (!b->error) {
        va_start(ap, fmt);
        b->error = g_error_new_valist(GRE_VICI_ERROR, code, fmt, ap);
        va_end(ap);
    }
    return FALSE;
}

/* Appends @len bytes, keeping the message inside one transport segment. */
static gboolean
append(GreViciBuilder *b, const void *data, gsize len)
{
    if (len > GRE_VICI_MAX_SEGMENT - b->len)
        return fail(b, GRE_VICI_ERROR_TOO_LARGE, _("VICI message larger than %d bytes"),
                    GRE_VICI_MAX_SEGMENT);
    if (b->len + len > b->cap) {
        gsize   cap   = MAX(b->cap * 2, b->len + len);
        guint8 *grown = g_malloc(cap);

        memcpy(grown, b->data, b->len);
        explicit_bzero(b->data, b->cap);
        g_free(b->data);
        b->data = grown;
        b->cap  = cap;
    }
    if (len > 0)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    return TRUE;
}

static gboolean
append_name(GreViciBuilder *b, guint8 type, const char *name)
{
    gsize  len = name ? strlen(name) : 0;
    guint8 hdr[2];

    if (len == 0)
        return fail(b, GRE_VICI_ERROR_MALFORMED, _("VICI message: empty name"));
    if (len > GRE_VICI_MAX_NAME)
        return fail(b, GRE_VICI_ERROR_TOO_LARGE, _("VICI name \"%.32s...\" longer than %d bytes"),
                    name, GRE_VICI_MAX_NAME);
    hdr[0] = type;
    hdr[1] = (guint8)len;
    return append(b, hdr, 2) && append(b, name, len);
}

static gboolean
append_value(GreViciBuilder *b, const char *name, const void *value, gsize len)
{
    guint8 hdr[2];

    if (len > GRE_VICI_MAX_VALUE)
        return fail(b, GRE_VICI_ERROR_TOO_LARGE, _("VICI value of \"%s\" longer than %d bytes"),
                    name ? name : _("a list item"), GRE_VICI_MAX_VALUE);
    hdr[0] = (guint8)(len >> 8);
    hdr[1] = (guint8)(len & 0xff);
    return append(b, hdr, 2) && append(b, value, len);
}

static gboolean
usable(GreViciBuilder *b, gboolean want_list, const char *what)
{
    if (b->error)
        return FALSE;
    if (b->in_list && !want_list)
        return fail(b, GRE_VICI_ERROR_MALFORMED, _("VICI message: %s inside a list"), what);
    if (!b->in_list && want_list)
        return fail(b, GRE_VICI_ERROR_MALFORMED, _("VICI message: %s outside a list"), what);
    return TRUE;
}

void
gre_vici_builder_begin_section(GreViciBuilder *b, const char *name)
{
    if (!usable(b, FALSE, _("a section")))
        return;
    if (b->depth >= GRE_VICI_MAX_DEPTH) {
        fail(b, GRE_VICI_ERROR_MALFORMED, _("VICI message: sections nested deeper than %d"),
             GRE_VICI_MAX_DEPTH);
        return;
    }
    if (append_name(b, GRE_VICI_SECTION_START, name))
        b->depth++;
}

void
gre_vici_builder_end_section(GreViciBuilder *b)
{
    guint8 t = GRE_VICI_SECTION_END;

    if (!usable(b, FALSE, _("a section end")))
        return;
    if (b->depth == 0) {
        fail(b, GRE_VICI_ERROR_MALFORMED, _("VICI message: section end without a section"));
        return;
    }
    if (append(b, &t, 1))
        b->depth--;
}

void
gre_vici_builder_add_bytes(GreViciBuilder *b, const char *key, const void *value, gsize len)
{
    if (usable(b, FALSE, _("a key/value")) && append_name(b, GRE_VICI_KEY_VALUE, key))
        append_value(b, key, value, len);
}

void
gre_vici_builder_add(GreViciBuilder *b, const char *key, const char *value)
{
    gre_vici_builder_add_bytes(b, key, value, value ? strlen(value) : 0);
}

void
gre_vici_builder_begin_list(GreViciBuilder *b, const char *name)
{
    if (usable(b, FALSE, _("a list")) && append_name(b, GRE_VICI_LIST_START, name))
        b->in_list = TRUE;
}

void
gre_vici_builder_list_item_bytes(GreViciBuilder *b, const void *value, gsize len)
{
    guint8 t = GRE_VICI_LIST_ITEM;

    if (usable(b, TRUE, _("a list item")) && append(b, &t, 1))
        append_value(b, NULL, value, len);
}

void
gre_vici_builder_list_item(GreViciBuilder *b, const char *value)
{
    gre_vici_builder_list_item_bytes(b, value, value ? strlen(value) : 0);
}

void
gre_vici_builder_end_list(GreViciBuilder *b)
{
    guint8 t = GRE_VICI_LIST_END;

    if (usable(b, TRUE, _("a list end")) && append(b, &t, 1))
        b->in_list = FALSE;
}

/* GBytes free function for a wiped copy. */
static void
wipe_g_free(gpointer data, gsize len)
{
    explicit_bzero(data, len);
    g_free(data);
}

typedef struct {
    guint8 *data;
    gsize   len;
} Wiped;

static void
wiped_free(gpointer p)
{
    Wiped *w = p;

    wipe_g_free(w->data, w->len);
    g_free(w);
}

/* A GBytes owning a copy of @data that is wiped when the last reference goes. */
static GBytes *
bytes_new_wiped(const guint8 *data, gsize len)
{
    Wiped *w = g_new(Wiped, 1);

    w->data = g_memdup2(data, len ? len : 1);
    w->len  = len;
    return g_bytes_new_with_free_func(w->data, len, wiped_free, w);
}

GBytes *
gre_vici_builder_finish(GreViciBuilder *b, GError **error)
{
    if (!b->error && b->in_list)
        fail(b, GRE_VICI_ERROR_MALFORMED, _("VICI message: a list is not closed"));
    if (!b->error && b->depth > 0)
        fail(b, GRE_VICI_ERROR_MALFORMED, _("VICI message: %u section(s) not closed"), b->depth);
    if (b->error) {
        g_propagate_error(error, g_error_copy(b->error));
        return NULL;
    }
    return bytes_new_wiped(b->data, b->len);
}

/* ---- parsed messages ----------------------------------------------------------------------- */

typedef struct {
    GreViciEntryKind kind;
    char            *name;
    guint8          *value; /* VALUE: NUL-terminated copy */
    gsize            value_len;
    GPtrArray       *items;   /* LIST: char* items, NULL-terminated; NULL if one holds a NUL */
    GArray          *lengths; /* LIST: each item's length */
    GreViciSection  *section; /* SECTION */
} Entry;

struct _GreViciSection {
    char   *name;
    GArray *entries; /* Entry */
};

static void
wipe_str(gpointer p)
{
    /* List items came from the daemon or from us and may be secrets as much as values. */
    if (p) {
        explicit_bzero(p, strlen(p));
        g_free(p);
    }
}

static void
entry_clear(gpointer p)
{
    Entry *e = p;

    g_free(e->name);
    if (e->value)
        wipe_g_free(e->value, e->value_len + 1);
    if (e->items)
        g_ptr_array_unref(e->items);
    if (e->lengths)
        g_array_unref(e->lengths);
    gre_vici_section_free(e->section);
}

static GreViciSection *
section_new(const char *name, gsize len)
{
    GreViciSection *s = g_new0(GreViciSection, 1);

    s->name    = name ? g_strndup(name, len) : NULL;
    s->entries = g_array_new(FALSE, TRUE, sizeof(Entry));
    g_array_set_clear_func(s->entries, entry_clear);
    return s;
}

void
gre_vici_section_free(GreViciSection *s)
{
    if (!s)
        return;
    g_free(s->name);
    g_array_unref(s->entries);
    g_free(s);
}

static const char *
element_name(guint8 type)
{
    switch (type) {
    case GRE_VICI_SECTION_START:
        return "SECTION_START";
    case GRE_VICI_SECTION_END:
        return "SECTION_END";
    case GRE_VICI_KEY_VALUE:
        return "KEY_VALUE";
    case GRE_VICI_LIST_START:
        return "LIST_START";
    case GRE_VICI_LIST_ITEM:
        return "LIST_ITEM";
    case GRE_VICI_LIST_END:
        return "LIST_END";
    }
    return "?";
}

typedef struct {
    const guint8 *data;
    gsize         len;
    gsize         pos;
    gsize         elem; /* where the element being read starts */
    GError      **error;
} Reader;

static gboolean G_GNUC_PRINTF(2, 3) bad(Reader *r, const char *fmt, ...)
{
    va_list          ap;
    g_autofree char *what = NULL;

    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(r->error, GRE_VICI_ERROR, GRE_VICI_ERROR_MALFORMED,
                _("malformed VICI message at byte %zu: %s"), r->elem, what);
    return FALSE;
}

static gboolean
read_name(Reader *r, guint8 type, const char **name, gsize *len)
{
    if (r->pos >= r->len)
        return bad(r, _("%s without its name length"), element_name(type));
    *len = r->data[r->pos++];
    if (*len == 0)
        return bad(r, _("%s with an empty name"), element_name(type));
    if (*len > r->len - r->pos)
        return bad(r, _("%s name of %zu bytes runs past the end"), element_name(type), *len);
    /* Names are text: one holding a NUL would be read short (as "" at worst), and neither
     * charon nor our builder could send it. */
    if (memchr(r->data + r->pos, 0, *len))
        return bad(r, _("%s name holding a NUL byte"), element_name(type));
    *name = (const char *)r->data + r->pos;
    r->pos += *len;
    return TRUE;
}

static gboolean
read_value(Reader *r, guint8 type, const guint8 **value, gsize *len)
{
    if (r->len - r->pos < 2)
        return bad(r, _("%s without its value length"), element_name(type));
    *len = ((gsize)r->data[r->pos] << 8) | r->data[r->pos + 1];
    r->pos += 2;
    if (*len > r->len - r->pos)
        return bad(r, _("%s value of %zu bytes runs past the end"), element_name(type), *len);
    *value = r->data + r->pos;
    r->pos += *len;
    return TRUE;
}

static Entry *
add_entry(GreViciSection *s, GreViciEntryKind kind, const char *name, gsize len)
{
    Entry e = { .kind = kind, .name = g_strndup(name, len) };

    g_array_append_val(s->entries, e);
    return &g_array_index(s->entries, Entry, s->entries->len - 1);
}

static guint8 *
copy_value(const guint8 *v, gsize len)
{
    guint8 *c = g_malloc(len + 1);

    memcpy(c, v, len);
    c[len] = '\0';
    return c;
}

GreViciSection *
gre_vici_parse(const guint8 *data, gsize len, GError **error)
{
    g_autoptr(GreViciSection) root = section_new(NULL, 0);
    g_autoptr(GPtrArray) stack     = g_ptr_array_new(); /* open sections, root first */
    Entry *list                    = NULL;              /* the open list */
    Reader r                       = { .data = data, .len = len, .error = error };

    if (len > GRE_VICI_MAX_SEGMENT) {
        g_set_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_TOO_LARGE,
                    _("VICI message of %zu bytes is over the limit of %d"), len,
                    GRE_VICI_MAX_SEGMENT);
        return NULL;
    }
    g_ptr_array_add(stack, root);
    while (r.pos < r.len) {
        GreViciSection *cur = stack->pdata[stack->len - 1];
        guint8          type;
        const char     *name;
        gsize           nlen, vlen;
        const guint8   *value;
        Entry          *e;

        r.elem = r.pos;
        type   = r.data[r.pos++];
        if (list && type != GRE_VICI_LIST_ITEM && type != GRE_VICI_LIST_END) {
            if (type >= GRE_VICI_SECTION_START && type <= GRE_VICI_LIST_END)
                bad(&r, _("%s inside list \"%s\" (only items may be there)"), element_name(type),
                    list->name);
            else
                bad(&r, _("unknown element type %u"), type);
            return NULL;
        }
        switch (type) {
        case GRE_VICI_SECTION_START:
            if (!read_name(&r, type, &name, &nlen))
                return NULL;
            if (stack->len > GRE_VICI_MAX_DEPTH) {
                bad(&r, _("sections nested deeper than %d"), GRE_VICI_MAX_DEPTH);
                return NULL;
            }
            e          = add_entry(cur, GRE_VICI_ENTRY_SECTION, name, nlen);
            e->section = section_new(name, nlen);
            g_ptr_array_add(stack, e->section);
            break;
        case GRE_VICI_SECTION_END:
            if (stack->len == 1) {
                bad(&r, _("section end without a section"));
                return NULL;
            }
            g_ptr_array_set_size(stack, stack->len - 1);
            break;
        case GRE_VICI_KEY_VALUE:
            if (!read_name(&r, type, &name, &nlen) || !read_value(&r, type, &value, &vlen))
                return NULL;
            e            = add_entry(cur, GRE_VICI_ENTRY_VALUE, name, nlen);
            e->value     = copy_value(value, vlen);
            e->value_len = vlen;
            break;
        case GRE_VICI_LIST_START:
            if (!read_name(&r, type, &name, &nlen))
                return NULL;
            list          = add_entry(cur, GRE_VICI_ENTRY_LIST, name, nlen);
            list->items   = g_ptr_array_new_with_free_func(wipe_str);
            list->lengths = g_array_new(FALSE, FALSE, sizeof(gsize));
            break;
        case GRE_VICI_LIST_ITEM:
            if (!list) {
                bad(&r, _("list item outside a list"));
                return NULL;
            }
            if (!read_value(&r, type, &value, &vlen))
                return NULL;
            g_ptr_array_add(list->items, copy_value(value, vlen));
            g_array_append_val(list->lengths, vlen);
            break;
        case GRE_VICI_LIST_END:
            if (!list) {
                bad(&r, _("list end without a list"));
                return NULL;
            }
            g_ptr_array_add(list->items, NULL);
            list = NULL;
            break;
        default:
            bad(&r, _("unknown element type %u"), type);
            return NULL;
        }
    }
    r.elem = r.len;
    if (list) {
        bad(&r, _("list \"%s\" is not closed"), list->name);
        return NULL;
    }
    if (stack->len > 1) {
        GreViciSection *open = stack->pdata[stack->len - 1];

        bad(&r, _("section \"%s\" is not closed"), open->name);
        return NULL;
    }
    return g_steal_pointer(&root);
}

const char *
gre_vici_section_name(const GreViciSection *s)
{
    return s->name;
}

guint
gre_vici_section_n_entries(const GreViciSection *s)
{
    return s->entries->len;
}

GreViciEntryKind
gre_vici_section_entry(const GreViciSection *s, guint i, const char **name,
                       const GreViciSection **sub)
{
    const Entry *e;

    g_return_val_if_fail(i < s->entries->len, GRE_VICI_ENTRY_VALUE);
    e = &g_array_index(s->entries, Entry, i);
    if (name)
        *name = e->name;
    if (sub)
        *sub = e->section;
    return e->kind;
}

static const Entry *
find(const GreViciSection *s, const char *name, GreViciEntryKind kind)
{
    for (guint i = 0; i < s->entries->len; i++) {
        const Entry *e = &g_array_index(s->entries, Entry, i);

        if (e->kind == kind && strcmp(e->name, name) == 0)
            return e;
    }
    return NULL;
}

const guint8 *
gre_vici_get_bytes(const GreViciSection *s, const char *key, gsize *len)
{
    const Entry *e = find(s, key, GRE_VICI_ENTRY_VALUE);

    if (!e)
        return NULL;
    if (len)
        *len = e->value_len;
    return e->value;
}

const char *
gre_vici_get(const GreViciSection *s, const char *key)
{
    const Entry *e = find(s, key, GRE_VICI_ENTRY_VALUE);

    if (!e || memchr(e->value, '\0', e->value_len))
        return NULL;
    return (const char *)e->value;
}

const GreViciSection *
gre_vici_get_section(const GreViciSection *s, const char *name)
{
    const Entry *e = find(s, name, GRE_VICI_ENTRY_SECTION);

    return e ? e->section : NULL;
}

const char *const *
gre_vici_get_list(const GreViciSection *s, const char *name)
{
    const Entry *e = find(s, name, GRE_VICI_ENTRY_LIST);

    if (!e)
        return NULL;
    for (guint i = 0; i < e->lengths->len; i++) {
        if (strlen(e->items->pdata[i]) != g_array_index(e->lengths, gsize, i))
            return NULL;
    }
    return (const char *const *)e->items->pdata;
}

static void
encode_section(GreViciBuilder *b, const GreViciSection *s)
{
    for (guint i = 0; i < s->entries->len; i++) {
        const Entry *e = &g_array_index(s->entries, Entry, i);

        switch (e->kind) {
        case GRE_VICI_ENTRY_VALUE:
            gre_vici_builder_add_bytes(b, e->name, e->value, e->value_len);
            break;
        case GRE_VICI_ENTRY_LIST: {
            guint8 t = GRE_VICI_LIST_ITEM;

            gre_vici_builder_begin_list(b, e->name);
            for (guint j = 0; j < e->lengths->len; j++) {
                /* Items are raw bytes: written with their own length, not strlen. */
                if (usable(b, TRUE, _("a list item")) && append(b, &t, 1))
                    append_value(b, NULL, e->items->pdata[j], g_array_index(e->lengths, gsize, j));
            }
            gre_vici_builder_end_list(b);
            break;
        }
        case GRE_VICI_ENTRY_SECTION:
            gre_vici_builder_begin_section(b, e->name);
            encode_section(b, e->section);
            gre_vici_builder_end_section(b);
            break;
        }
    }
}

GBytes *
gre_vici_section_encode(const GreViciSection *s, GError **error)
{
    g_autoptr(GreViciBuilder) b = gre_vici_builder_new();

    encode_section(b, s);
    return gre_vici_builder_finish(b, error);
}

static void
dump_section(GString *out, const GreViciSection *s, int indent)
{
    for (guint i = 0; i < s->entries->len; i++) {
        const Entry *e = &g_array_index(s->entries, Entry, i);

        g_string_append_printf(out, "%*s", indent * 2, "");
        switch (e->kind) {
        case GRE_VICI_ENTRY_VALUE: {
            g_autofree char *v = g_strescape((const char *)e->value, NULL);

            g_string_append_printf(out, "%s = %s\n", e->name, v);
            break;
        }
        case GRE_VICI_ENTRY_LIST:
            g_string_append_printf(out, "%s = [", e->name);
            for (guint j = 0; j < e->lengths->len; j++) {
                g_autofree char *v = g_strescape(e->items->pdata[j], NULL);

                g_string_append_printf(out, "%s%s", j ? ", " : " ", v);
            }
            g_string_append(out, " ]\n");
            break;
        case GRE_VICI_ENTRY_SECTION:
            g_string_append_printf(out, "%s {\n", e->name);
            dump_section(out, e->section, indent + 1);
            g_string_append_printf(out, "%*s}\n", indent * 2, "");
            break;
        }
    }
}

char *
gre_vici_section_dump(const GreViciSection *s)
{
    GString *out = g_string_new(NULL);

    dump_section(out, s, 0);
    return g_string_free(out, FALSE);
}
