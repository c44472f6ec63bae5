/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-shvar.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gre-error.h"
#include "gre-file.h"
#include "gre-i18n.h"
#include "gre-settings.h"

typedef struct {
    char *value;
    guint line;
    guint value_start, value_end; /* byte columns of the value as written, for editors */
} ShvarEntry;

struct _GreShvarFile {
    char       *source;
    GPtrArray  *keys;    /* char *, NULL-terminated, order of first appearance */
    GHashTable *entries; /* key (borrowed from @keys) -> ShvarEntry */
};

static void
shvar_entry_free(gpointer data)
{
    ShvarEntry *entry = data;

    /* Values of keys files are key material; wiping every value keeps that simple. */
    gre_wipe_free(entry->value);
    g_free(entry);
}

static GreShvarFile *
shvar_file_new(const char *source)
{
    GreShvarFile *file = g_new0(GreShvarFile, 1);

    file->source  = g_strdup(source);
    file->keys    = g_ptr_array_new_null_terminated(8, g_free, TRUE);
    file->entries = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, shvar_entry_free);
    return file;
}

void
gre_shvar_file_free(GreShvarFile *file)
{
    if (!file)
        return;
    /* The table borrows its keys from the array, so it must go first. */
    g_hash_table_unref(file->entries);
    g_ptr_array_unref(file->keys);
    g_free(file->source);
    g_free(file);
}

static void
shvar_file_set(GreShvarFile *file, const char *key, char *value, guint line, guint value_start,
               guint value_end)
{
    ShvarEntry *entry = g_hash_table_lookup(file->entries, key);

    if (entry) {
        gre_wipe_free(entry->value);
    } else {
        char *owned_key = g_strdup(key);

        entry = g_new0(ShvarEntry, 1);
        g_ptr_array_add(file->keys, owned_key);
        g_hash_table_insert(file->entries, owned_key, entry);
    }
    entry->value       = value;
    entry->line        = line;
    entry->value_start = value_start;
    entry->value_end   = value_end;
}

/*****************************************************************************/

static gboolean
is_name_start(char ch)
{
    return g_ascii_isalpha(ch) || ch == '_';
}

static gboolean
is_name_char(char ch)
{
    return g_ascii_isalnum(ch) || ch == '_';
}

static gboolean
is_octal(char ch)
{
    return ch >= '0' && ch <= '7';
}

/* Explains an unescaped '$' at @p. Every form of it would make bash substitute something, so
 * the value bash sees would differ from the one written in the file. */
static char *
dollar_reason(const char *p, gboolean in_double_quotes)
{
    const char *literal = in_double_quotes ? "\\$" : _("\\$ or '$'");

    if (p[1] == '(')
        return g_strdup(
            _("command substitution $(...) is not supported; write the value literally"));
    if (p[1] == '"' && !in_double_quotes)
        return g_strdup(_("locale translation $\"...\" is not supported; use plain double quotes"));
    if (p[1] == '{' || is_name_char(p[1]) || (p[1] && strchr("$?!#@*-", p[1])))
        return g_strdup_printf(_("variable expansion is not supported; write the value literally "
                                 "(a literal $ is written %s)"),
                               literal);
    return g_strdup_printf(_("a bare $ is not supported; write a literal $ as %s"), literal);
}

/* Appends the escape sequence after "\" inside $'...' (the backslash is at value[*i - 1]). */
static gboolean
parse_ansic_escape(const char *value, gsize *i, GString *out, char **reason)
{
    char ch = value[*i];

    switch (ch) {
    case 'a':
        g_string_append_c(out, '\a');
        break;
    case 'b':
        g_string_append_c(out, '\b');
        break;
    case 'e':
    case 'E':
        g_string_append_c(out, '\033');
        break;
    case 'f':
        g_string_append_c(out, '\f');
        break;
    case 'n':
        g_string_append_c(out, '\n');
        break;
    case 'r':
        g_string_append_c(out, '\r');
        break;
    case 't':
        g_string_append_c(out, '\t');
        break;
    case 'v':
        g_string_append_c(out, '\v');
        break;
    case '?':
    case '"':
    case '\\':
    case '\'':
        g_string_append_c(out, ch);
        break;
    case 'c':
        /* bash reads \cX as a control character while NetworkManager keeps it literally; rather
         * than pick one reading, refuse the ambiguity. */
        *reason =
            g_strdup(_("the \\c control escape in $'...' is not supported; use \\xHH instead"));
        return FALSE;
    case 'x':
    case 'u':
    case 'U': {
        guint   max_digits = ch == 'x' ? 2 : (ch == 'u' ? 4 : 8);
        guint   n          = 0;
        guint32 v          = 0;

        while (n < max_digits && g_ascii_isxdigit(value[*i + 1 + n])) {
            v = v * 16 + g_ascii_xdigit_value(value[*i + 1 + n]);
            n++;
        }
        if (n == 0) {
            /* Like bash: without digits the escape stands for itself. */
            g_string_append_c(out, '\\');
            g_string_append_c(out, ch);
            break;
        }
        *i += n;
        if (ch == 'x') {
            g_string_append_c(out, (char)v);
        } else if (!g_unichar_validate(v)) {
            *reason = g_strdup_printf(_("\\%c%0*X in $'...' is not a valid Unicode character"), ch,
                                      (int)n, v);
            return FALSE;
        } else {
            g_string_append_unichar(out, v);
        }
        break;
    }
    default:
        if (is_octal(ch)) {
            guint v = 0;
            guint n = 0;

            while (n < 3 && is_octal(value[*i + n])) {
                v = v * 8 + (value[*i + n] - '0');
                n++;
            }
            *i += n - 1;
            /* Like bash, an octal value above \377 keeps only its low byte. */
            g_string_append_c(out, (char)(v & 0xff));
        } else {
            /* Unknown escapes keep their backslash, in bash as here. */
            g_string_append_c(out, '\\');
            g_string_append_c(out, ch);
        }
        break;
    }
    (*i)++;
    return TRUE;
}

/* Unquotes the text after "NAME=" (NUL-terminated, without the newline) the way bash would
 * assign it, refusing every construct that would make bash expand or run something. @stop is
 * where the value as written ends (blanks and a comment may follow). */
static gboolean
parse_value(const char *value, GString *out, gsize *stop, char **reason)
{
    gsize i = 0;

    while (value[i]) {
        char ch = value[i];

        if (g_ascii_isspace(ch) || ch == ';') {
            gboolean semicolon = ch == ';';
            gsize    j         = i + 1;

            while (g_ascii_isspace(value[j]) || (!semicolon && value[j] == ';')) {
                if (value[j] == ';')
                    semicolon = TRUE;
                j++;
            }
            if (value[j] == '\0' || value[j] == '#') {
                *stop = i;
                return TRUE;
            }
            if (semicolon)
                *reason = g_strdup(_("text after ';'; only one assignment per line is supported"));
            else if (i == 0)
                *reason = g_strdup(_("a space after '=' ends the value; remove the space, or quote "
                                     "the value if it starts with a space"));
            else
                *reason = g_strdup(
                    _("a second word after the value; quote the value if it contains spaces"));
            return FALSE;
        }

        switch (ch) {
        case '\\':
            if (value[i + 1] == '\0') {
                *reason =
                    g_strdup(_("a backslash at the end of the line (line continuation) is not "
                               "supported; keep the value on one line"));
                return FALSE;
            }
            g_string_append_c(out, value[i + 1]);
            i += 2;
            continue;

        case '\'': {
            const char *end = strchr(&value[i + 1], '\'');

            if (!end) {
                *reason = g_strdup(_("unterminated single quote; the closing ' must be on the same "
                                     "line (a value cannot span lines)"));
                return FALSE;
            }
            g_string_append_len(out, &value[i + 1], end - &value[i + 1]);
            i = end - value + 1;
            continue;
        }

        case '"':
            for (i++; value[i] != '"'; i++) {
                if (value[i] == '\0') {
                    *reason = g_strdup(_("unterminated double quote; the closing \" must be on the "
                                         "same line (a value cannot span lines)"));
                    return FALSE;
                }
                if (value[i] == '$') {
                    *reason = dollar_reason(&value[i], TRUE);
                    return FALSE;
                }
                if (value[i] == '`') {
                    *reason = g_strdup(_("command substitution with backticks is not supported; "
                                         "write the value literally (a literal ` is written \\`)"));
                    return FALSE;
                }
                if (value[i] == '\\') {
                    if (value[i + 1] == '\0') {
                        *reason = g_strdup(_("a backslash at the end of the line (line "
                                             "continuation) is not supported; keep the value on "
                                             "one line"));
                        return FALSE;
                    }
                    /* Inside double quotes only these four lose their backslash. */
                    if (!strchr("$`\"\\", value[i + 1]))
                        g_string_append_c(out, '\\');
                    i++;
                }
                g_string_append_c(out, value[i]);
            }
            i++;
            continue;

        case '$':
            if (value[i + 1] != '\'') {
                *reason = dollar_reason(&value[i], FALSE);
                return FALSE;
            }
            for (i += 2; value[i] != '\''; i++) {
                if (value[i] == '\0') {
                    *reason = g_strdup(_("unterminated $'...' quote; the closing ' must be on the "
                                         "same line (a value cannot span lines)"));
                    return FALSE;
                }
                if (value[i] == '\\') {
                    if (value[i + 1] == '\0') {
                        *reason = g_strdup(_("unterminated $'...' quote; the closing ' must be on "
                                             "the same line (a value cannot span lines)"));
                        return FALSE;
                    }
                    i++;
                    if (!parse_ansic_escape(value, &i, out, reason))
                        return FALSE;
                    i--;
                    continue;
                }
                g_string_append_c(out, value[i]);
            }
            i++;
            continue;

        case '`':
            *reason = g_strdup(_("command substitution with backticks is not supported; write the "
                                 "value literally (a literal ` is written \\`)"));
            return FALSE;

        case '|':
        case '&':
        case '(':
        case ')':
        case '<':
        case '>':
            *reason = g_strdup_printf(
                _("an unquoted '%c' is a shell operator; put the value in quotes ('...')"), ch);
            return FALSE;

        case '~':
            /* In an assignment bash replaces an unquoted ~ at the start or after ':' with a home
             * directory, so the value it sees is not the one written here. */
            if (i == 0 || value[i - 1] == ':') {
                *reason = g_strdup(_("an unquoted ~ here is expanded by the shell to a home "
                                     "directory; write it as '~' or \\~"));
                return FALSE;
            }
            break;

        default:
            break;
        }

        g_string_append_c(out, ch);
        i++;
    }
    *stop = i;
    return TRUE;
}

static const char *
builtin_reason(const char *word, gsize len)
{
    static const struct {
        const char *word;
        const char *reason;
    } builtins[] = {
        { "export", N_("'export' is not supported; write NAME=value") },
        { "declare", N_("'declare' is not supported; write NAME=value") },
        { "typeset", N_("'typeset' is not supported; write NAME=value") },
        { "readonly", N_("'readonly' is not supported; write NAME=value") },
        { "local", N_("'local' is not supported; write NAME=value") },
        { "unset", N_("'unset' is not supported; delete the assignment instead") },
        { "source", N_("including another file is not supported; copy its assignments here") },
        { ".", N_("including another file is not supported; copy its assignments here") },
    };

    for (gsize k = 0; k < G_N_ELEMENTS(builtins); k++) {
        if (strlen(builtins[k].word) == len && memcmp(builtins[k].word, word, len) == 0)
            return _(builtins[k].reason);
    }
    return NULL;
}

/* Explains why a non-blank, non-comment line (starting at @p) is not a NAME=value assignment. */
static char *
not_assignment_reason(const char *p)
{
    gsize       word_len = strcspn(p, " \t\n\v\f\r;");
    gsize       key_len  = strcspn(p, "=");
    gsize       name_len = 0;
    const char *reason;

    if (g_str_has_prefix(p, "\xEF\xBB\xBF"))
        return g_strdup(_(
            "the line starts with a byte-order mark (U+FEFF); save the file as UTF-8 without BOM"));

    reason = builtin_reason(p, word_len);
    if (reason)
        return g_strdup(reason);

    while (is_name_char(p[name_len]))
        name_len++;
    if (name_len > 0 && is_name_start(p[0])) {
        if (p[name_len] == '+' && p[name_len + 1] == '=')
            return g_strdup(_("appending with += is not supported; write NAME=value"));
        if (p[name_len] == '[')
            return g_strdup(_("arrays are not supported; write NAME=value"));
        if (g_ascii_isspace(p[name_len]) && p[name_len + strspn(&p[name_len], " \t\v\f\r")] == '=')
            return g_strdup(_("a space before '=' is not allowed; write NAME=value"));
    }
    if (key_len > 0 && key_len < word_len)
        return g_strdup_printf(_("'%.*s' is not a valid name; a name has letters, digits and "
                                 "underscores and does not start with a digit"),
                               (int)key_len, p);
    return g_strdup(_("not a NAME=value assignment; only assignments, blank lines and #comments "
                      "are allowed"));
}

static gboolean
parse_line(GreShvarFile *file, const char *line, gsize len, guint lineno, GError **error)
{
    g_auto(GreWipedString) copy = NULL;
    g_autofree char *key        = NULL;
    g_autofree char *reason     = NULL;
    GString         *value      = NULL;
    const char      *p;
    gsize            name_len = 0, stop = 0;

    copy = g_strndup(line, len);
    p    = copy;
    while (g_ascii_isspace(*p))
        p++;

    if (is_name_start(*p)) {
        while (is_name_char(p[name_len]))
            name_len++;
        if (p[name_len] == '=')
            key = g_strndup(p, name_len);
    }

    if (strlen(copy) != len) {
        reason = g_strdup(_("contains a NUL byte; the file must be plain text"));
    } else if (key) {
        /* Unquoting never lengthens a value: sized so, the string never moves, and no copy of
         * a key is left behind in freed memory. */
        value = g_string_sized_new(len + 1);
        if (parse_value(&p[name_len + 1], value, &stop, &reason)) {
            if (memchr(value->str, '\0', value->len))
                reason = g_strdup(_("an escape produces a NUL byte, which a value cannot hold; "
                                    "remove it"));
            else if (!g_utf8_validate(value->str, value->len, NULL))
                reason = g_strdup(_("the value is not valid UTF-8; convert the file to UTF-8"));
        }
    } else if (*p == '\0' || *p == '#') {
        return TRUE;
    } else {
        reason = not_assignment_reason(p);
    }

    if (reason) {
        if (key)
            g_set_error(error, GRE_ERROR, GRE_ERROR_PARSE, "%s:%u: %s: %s", file->source, lineno,
                        key, reason);
        else
            g_set_error(error, GRE_ERROR, GRE_ERROR_PARSE, "%s:%u: %s", file->source, lineno,
                        reason);
        if (value) {
            explicit_bzero(value->str, value->allocated_len);
            g_string_free(value, TRUE);
        }
        return FALSE;
    }

    shvar_file_set(file, key, g_string_free(value, FALSE), lineno, p - copy + name_len + 1,
                   p - copy + name_len + 1 + stop);
    return TRUE;
}

GreShvarFile *
gre_shvar_file_parse(const char *source, const char *text, gssize len, GError **error)
{
    g_autoptr(GreShvarFile) file = NULL;
    const char *end;
    const char *p;
    guint       lineno = 0;

    g_return_val_if_fail(text || len == 0, NULL);
    g_return_val_if_fail(!error || !*error, NULL);

    if (len < 0)
        len = strlen(text);
    file = shvar_file_new(source ? source : "(input)");

    end = text ? text + len : NULL;
    for (p = text; p && p < end;) {
        const char *nl   = memchr(p, '\n', end - p);
        const char *stop = nl ? nl : end;

        if (!parse_line(file, p, stop - p, ++lineno, error))
            return NULL;
        p = nl ? nl + 1 : end;
    }
    return g_steal_pointer(&file);
}

/*****************************************************************************/

static GreShvarFile *
parse_fd(int fd, const char *path, GError **error)
{
    GreShvarFile *file;
    char         *text;
    gsize         len = 0;

    text = gre_file_read_fd(fd, path, &len, error);
    if (!text)
        return NULL;
    file = gre_shvar_file_parse(path, text, len, error);
    gre_file_free_wiped(text, len);
    return file;
}

GreShvarFile *
gre_shvar_file_load(const char *path, GError **error)
{
    GreShvarFile *file;
    struct stat   st;
    int           fd;

    g_return_val_if_fail(path, NULL);
    g_return_val_if_fail(!error || !*error, NULL);

    /* Settings files may be symbolic links: network-scripts and NetworkManager follow them. */
    fd = gre_file_open_regular(path, GRE_FILE_FOLLOW, &st, error);
    if (fd < 0)
        return NULL;
    file = parse_fd(fd, path, error);
    close(fd);
    return file;
}

gboolean
gre_shvar_check_private_type(const char *path, GError **error)
{
    struct stat st;

    if (lstat(path, &st) < 0) {
        int errsv = errno;

        if (errsv == ENOENT)
            return TRUE;
        g_set_error(error, GRE_ERROR, GRE_ERROR_IO, _("cannot open %s: %s"), path,
                    g_strerror(errsv));
        return FALSE;
    }
    if (S_ISLNK(st.st_mode)) {
        gre_file_set_symlink_error(path, error);
        return FALSE;
    }
    if (!S_ISREG(st.st_mode)) {
        gre_file_set_type_error(path, st.st_mode, GRE_FILE_SECRET, error);
        return FALSE;
    }
    return TRUE;
}

/* "root (uid 0)" when the account is known, else "uid 0". */
static char *
describe_uid(uid_t uid, char **out_name)
{
    struct passwd  pw;
    struct passwd *result = NULL;
    char           buf[4096];

    if (getpwuid_r(uid, &pw, buf, sizeof(buf), &result) == 0 && result) {
        *out_name = g_strdup(result->pw_name);
        return g_strdup_printf("%s (uid %u)", result->pw_name, (guint)uid);
    }
    *out_name = g_strdup_printf("%u", (guint)uid);
    return g_strdup_printf("uid %u", (guint)uid);
}

GreShvarFile *
gre_shvar_file_load_private(const char *path, uid_t owner, GError **error)
{
    g_autoptr(GString) problems = NULL;
    g_autoptr(GString) commands = NULL;
    g_autofree char *quoted     = NULL;
    GreShvarFile    *file;
    struct stat      st;
    int              fd;

    g_return_val_if_fail(path, NULL);
    g_return_val_if_fail(!error || !*error, NULL);

    /* Every check is on the opened file, and the bytes parsed are read from that same
     * descriptor: replacing the file between the checks and the read changes nothing. */
    fd = gre_file_open_regular(path, GRE_FILE_SECRET, &st, error);
    if (fd < 0)
        return NULL;

    problems = g_string_new(NULL);
    commands = g_string_new(NULL);
    quoted   = gre_shvar_escape(path);

    if (st.st_uid != owner) {
        g_autofree char *want      = NULL;
        g_autofree char *want_name = NULL;

        want = describe_uid(owner, &want_name);
        g_string_append_printf(problems, _("owned by uid %u, not %s"), (guint)st.st_uid, want);
        g_string_append_printf(commands, "chown %s %s", want_name, quoted);
    }
    if (st.st_mode & 077) {
        g_string_append_printf(
            problems,
            /* TRANSLATORS: " and " or nothing, "readable" or "accessible", the file mode */
            _("%s%s by group or others (mode %04o)"), problems->len ? _(" and ") : "",
            (st.st_mode & 044) ? _("readable") : _("accessible"), (guint)(st.st_mode & 07777));
        g_string_append_printf(commands, "%schmod 600 %s", commands->len ? " && " : "", quoted);
    }
    if (problems->len) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_PERMISSION, _("%s: %s; run: %s"), path,
                    problems->str, commands->str);
        close(fd);
        return NULL;
    }

    file = parse_fd(fd, path, error);
    close(fd);
    return file;
}

/*****************************************************************************/

const char *
gre_shvar_file_get_source(const GreShvarFile *file)
{
    g_return_val_if_fail(file, NULL);
    return file->source;
}

const char *
gre_shvar_file_get(const GreShvarFile *file, const char *key)
{
    const ShvarEntry *entry;

    g_return_val_if_fail(file, NULL);
    g_return_val_if_fail(key, NULL);

    entry = g_hash_table_lookup(file->entries, key);
    return entry ? entry->value : NULL;
}

guint
gre_shvar_file_get_line(const GreShvarFile *file, const char *key)
{
    const ShvarEntry *entry;

    g_return_val_if_fail(file, 0);
    g_return_val_if_fail(key, 0);

    entry = g_hash_table_lookup(file->entries, key);
    return entry ? entry->line : 0;
}

gboolean
gre_shvar_file_get_span(const GreShvarFile *file, const char *key, guint *line, guint *start,
                        guint *end)
{
    const ShvarEntry *entry;

    g_return_val_if_fail(file, FALSE);
    g_return_val_if_fail(key, FALSE);

    entry = g_hash_table_lookup(file->entries, key);
    if (!entry)
        return FALSE;
    *line  = entry->line;
    *start = entry->value_start;
    *end   = entry->value_end;
    return TRUE;
}

const char *const *
gre_shvar_file_get_keys(const GreShvarFile *file)
{
    g_return_val_if_fail(file, NULL);
    return (const char *const *)file->keys->pdata;
}

/*****************************************************************************/

static gboolean
is_plain_char(char ch)
{
    return g_ascii_isalnum(ch) || (ch && strchr("_./:@%+,=-", ch));
}

char *
gre_shvar_escape(const char *value)
{
    GString    *out;
    const char *p;
    gboolean    plain   = TRUE;
    gboolean    control = FALSE;
    gboolean    utf8;

    g_return_val_if_fail(value, NULL);

    if (value[0] == '\0')
        return g_strdup("\"\"");

    for (p = value; *p; p++) {
        if (!is_plain_char(*p))
            plain = FALSE;
        if ((guchar)*p < 0x20 || *p == 0x7f)
            control = TRUE;
    }
    if (plain)
        return g_strdup(value);

    utf8 = g_utf8_validate(value, -1, NULL);
    out  = g_string_sized_new(strlen(value) + 3);

    if (!control && utf8) {
        g_string_append_c(out, '"');
        for (p = value; *p; p++) {
            if (strchr("\"\\$`", *p))
                g_string_append_c(out, '\\');
            g_string_append_c(out, *p);
        }
        g_string_append_c(out, '"');
        return g_string_free(out, FALSE);
    }

    /* A newline cannot appear in a value on one line, and raw control characters are invisible
     * in an editor, so spell them out with ANSI-C quoting. Invalid UTF-8 is spelled out as
     * octal too: it is kept intact for bash, although this reader will refuse it. */
    g_string_append(out, "$'");
    for (p = value; *p; p++) {
        guchar ch = *p;

        switch (ch) {
        case '\a':
            g_string_append(out, "\\a");
            break;
        case '\b':
            g_string_append(out, "\\b");
            break;
        case '\033':
            g_string_append(out, "\\e");
            break;
        case '\f':
            g_string_append(out, "\\f");
            break;
        case '\n':
            g_string_append(out, "\\n");
            break;
        case '\r':
            g_string_append(out, "\\r");
            break;
        case '\t':
            g_string_append(out, "\\t");
            break;
        case '\v':
            g_string_append(out, "\\v");
            break;
        case '\\':
        case '\'':
            g_string_append_c(out, '\\');
            g_string_append_c(out, ch);
            break;
        default:
            /* Three octal digits always, so a following digit cannot join the escape. */
            if (ch < 0x20 || ch == 0x7f || (ch >= 0x80 && !utf8))
                g_string_append_printf(out, "\\%03o", ch);
            else
                g_string_append_c(out, ch);
            break;
        }
    }
    g_string_append_c(out, '\'');
    return g_string_free(out, FALSE);
}
