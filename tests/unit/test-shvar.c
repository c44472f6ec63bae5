/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gre-error.h"
#include "gre-shvar.h"

/*****************************************************************************/

typedef struct {
    const char *line;  /* the whole line, assigning K */
    const char *value; /* what K must read as */
    /* bash reads it differently (NetworkManager's reading wins here); skip the bash check */
    gboolean bash_differs;
} AcceptCase;

static const AcceptCase accept_cases[] = {
    { "K=abc", "abc" },
    { "K=", "" },
    { "K= ", "" },
    { "K= #comment", "" },
    { "K=;", "" },
    { "K=a;", "a" },
    { "K=b ; #c", "b" },
    { "K=b;#c", "b" },
    { "K=b\t# $(not run) `nor this`", "b" },
    { "K=b  ", "b" },
    { "  K=x", "x" },
    { "\tK=x", "x" },
    { "K=a\\ b", "a b" },
    { "K=\\$HOME", "$HOME" },
    { "K=a\\\\b", "a\\b" },
    { "K=\\`x\\`", "`x`" },
    { "K=\\|\\&\\;\\(\\)\\<\\>", "|&;()<>" },
    { "K='a b $x `y` \\n'", "a b $x `y` \\n" },
    { "K='it'\\''s'", "it's" },
    { "K=''", "" },
    { "K=\"\"", "" },
    { "K=\"a b\"", "a b" },
    { "K=\"\\$ \\` \\\" \\\\\"", "$ ` \" \\" },
    { "K=\"\\n\\q\\'\\~\"", "\\n\\q\\'\\~" },
    { "K=\"it's ~ | & ; ( ) < > #\"", "it's ~ | & ; ( ) < > #" },
    { "K=\"x\"'y'z", "xyz" },
    { "K=a\"b c\"'d e'\\ f", "ab cd e f" },
    { "K=$''", "" },
    { "K=$'a\\nb'", "a\nb" },
    { "K=$'\\a\\b\\e\\E\\f\\n\\r\\t\\v\\?\\\"\\\\\\''", "\a\b\033\033\f\n\r\t\v?\"\\'" },
    { "K=$'\\101\\60\\0601'", "A001" },
    { "K=$'\\x41\\x4a\\x7E'", "AJ~" },
    { "K=$'\\x4g'", "\004g" },
    { "K=$'\\xZ\\u\\U'", "\\xZ\\u\\U" },
    { "K=$'\\u00e9\\U0001F600\\u263A'", "\xc3\xa9\xf0\x9f\x98\x80\xe2\x98\xba" },
    { "K=$'\\303\\251'", "\xc3\xa9" },
    { "K=$'\\q'", "\\q" },
    { "K=$'$x `y` \"'", "$x `y` \"" },
    { "K=$'a'\"b\"c", "abc" },
    { "K=a#b", "a#b" },
    { "K=\"x\"#c", "x#c" },
    { "K=a=b:c", "a=b:c" },
    { "K=x~", "x~" },
    { "K='~'", "~" },
    { "K=\\~/x", "~/x" },
    { "K={a,b}*?[x]!", "{a,b}*?[x]!" },
    { "K=h\xc3\xa9llo", "h\xc3\xa9llo" },
    { "K=\"a\tb\"", "a\tb" },
    { "K=\"x y\"  ", "x y" },
    { "K=b\r", "b", TRUE },
    { "K=\"b\"\r", "b", TRUE },
};

static void
test_accept(gconstpointer data)
{
    const AcceptCase *c          = data;
    g_autoptr(GError) error      = NULL;
    g_autoptr(GreShvarFile) file = NULL;
    const char *const *keys;

    file = gre_shvar_file_parse("test", c->line, -1, &error);
    g_assert_no_error(error);
    g_assert_nonnull(file);
    g_assert_cmpstr(gre_shvar_file_get(file, "K"), ==, c->value);
    g_assert_cmpuint(gre_shvar_file_get_line(file, "K"), ==, 1);
    keys = gre_shvar_file_get_keys(file);
    g_assert_cmpstr(keys[0], ==, "K");
    g_assert_null(keys[1]);
}

typedef struct {
    const char *text;
    gssize      len;    /* -1 unless the text holds a NUL */
    const char *prefix; /* the message starts with this: "test:LINE: " or "test:LINE: KEY: " */
    const char *reason; /* ... and contains this */
} RejectCase;

static const RejectCase reject_cases[] = {
    { "K=b c", -1, "test:1: K: ", "a second word after the value; quote the value" },
    { "LANG=C ls", -1, "test:1: LANG: ", "a second word after the value" },
    { "K=\"a\" b", -1, "test:1: K: ", "a second word after the value" },
    { "K= b", -1, "test:1: K: ", "a space after '=' ends the value" },
    { "K=a; B=2", -1, "test:1: K: ", "only one assignment per line" },
    { "K=a;;", -1, "test:1: K: ", "only one assignment per line" },
    { "K=a ; ; #c", -1, "test:1: K: ", "only one assignment per line" },
    { "K=$HOME", -1,
      "test:1: K: ", "variable expansion is not supported; write the value literally" },
    { "K=${HOME}", -1, "test:1: K: ", "variable expansion is not supported" },
    { "K=a$1", -1, "test:1: K: ", "variable expansion is not supported" },
    { "K=$$", -1, "test:1: K: ", "variable expansion is not supported" },
    { "K=$(ls)", -1,
      "test:1: K: ", "command substitution $(...) is not supported; write the value literally" },
    { "K=$", -1, "test:1: K: ", "a bare $ is not supported" },
    { "K=a$/", -1, "test:1: K: ", "a bare $ is not supported" },
    { "K=$\"x\"", -1, "test:1: K: ", "locale translation" },
    { "K=`ls`", -1, "test:1: K: ", "command substitution with backticks is not supported" },
    { "K=\"$HOME\"", -1, "test:1: K: ", "variable expansion is not supported" },
    { "K=\"a$\"", -1, "test:1: K: ", "a literal $ as \\$" },
    { "K=\"$(id)\"", -1, "test:1: K: ", "command substitution $(...)" },
    { "K=\"a`id`\"", -1, "test:1: K: ", "command substitution with backticks" },
    { "K=a|b", -1, "test:1: K: ", "an unquoted '|' is a shell operator; put the value in quotes" },
    { "K=a&", -1, "test:1: K: ", "'&' is a shell operator" },
    { "K=(a)", -1, "test:1: K: ", "'(' is a shell operator" },
    { "K=a)", -1, "test:1: K: ", "')' is a shell operator" },
    { "K=a<b", -1, "test:1: K: ", "'<' is a shell operator" },
    { "K=a>b", -1, "test:1: K: ", "'>' is a shell operator" },
    { "K=\"abc", -1, "test:1: K: ", "unterminated double quote" },
    { "K=\"abc\\\"", -1, "test:1: K: ", "unterminated double quote" },
    { "K='abc", -1, "test:1: K: ", "unterminated single quote" },
    { "K=$'abc", -1, "test:1: K: ", "unterminated $'...' quote" },
    { "K=$'abc\\'", -1, "test:1: K: ", "unterminated $'...' quote" },
    { "K=$'abc\\", -1, "test:1: K: ", "unterminated $'...' quote" },
    { "K=\"a\nb\"\n", -1, "test:1: K: ", "a value cannot span lines" },
    { "K=abc\\", -1, "test:1: K: ", "a backslash at the end of the line (line continuation)" },
    { "K=abc\\\nd", -1, "test:1: K: ", "line continuation" },
    { "K=\"abc\\", -1, "test:1: K: ", "line continuation" },
    { "K=a\0b", 5, "test:1: K: ", "contains a NUL byte" },
    { "K=$'a\\0b'", -1, "test:1: K: ", "NUL byte" },
    { "K=$'\\x00'", -1, "test:1: K: ", "NUL byte" },
    { "K=$'\\u0000'", -1, "test:1: K: ", "NUL byte" },
    { "K=\xff", -1, "test:1: K: ", "not valid UTF-8" },
    { "K='\xc3('", -1, "test:1: K: ", "not valid UTF-8" },
    { "K=$'\\377'", -1, "test:1: K: ", "not valid UTF-8" },
    { "K=$'\\uD800'", -1, "test:1: K: ", "\\uD800 in $'...' is not a valid Unicode character" },
    { "K=$'\\U00110000'", -1, "test:1: K: ", "not a valid Unicode character" },
    { "K=$'\\cA'", -1, "test:1: K: ", "the \\c control escape" },
    { "K=~", -1, "test:1: K: ", "an unquoted ~ here is expanded by the shell" },
    { "K=~/x", -1, "test:1: K: ", "~ here is expanded" },
    { "K=a:~/x", -1, "test:1: K: ", "~ here is expanded" },
    { "export K=1", -1, "test:1: ", "'export' is not supported; write NAME=value" },
    { "  export K=1", -1, "test:1: ", "'export' is not supported" },
    { "declare K=1", -1, "test:1: ", "'declare' is not supported" },
    { "readonly K=1", -1, "test:1: ", "'readonly' is not supported" },
    { "unset K", -1, "test:1: ", "'unset' is not supported" },
    { ". /etc/other", -1, "test:1: ", "including another file is not supported" },
    { "source /etc/other", -1, "test:1: ", "including another file is not supported" },
    { "K =1", -1, "test:1: ", "a space before '=' is not allowed" },
    { "K+=1", -1, "test:1: ", "appending with += is not supported" },
    { "K[0]=1", -1, "test:1: ", "arrays are not supported" },
    { "1K=1", -1, "test:1: ", "'1K' is not a valid name" },
    { "K-X=1", -1, "test:1: ", "'K-X' is not a valid name" },
    { "=1", -1, "test:1: ", "not a NAME=value assignment" },
    { "K", -1, "test:1: ", "not a NAME=value assignment" },
    { "ls -l", -1, "test:1: ", "not a NAME=value assignment" },
    { "K=1; ls", -1, "test:1: K: ", "only one assignment per line" },
    { "\xef\xbb\xbfK=1", -1, "test:1: ", "byte-order mark" },
    { "# comment\0 with NUL", 19, "test:1: ", "contains a NUL byte" },
    /* The line number is that of the offending line, counting blank and comment lines. */
    { "A=1\n\n# c\nB=\"x\ny\"\n", -1, "test:4: B: ", "unterminated double quote" },
    { "#ok\n  \nexport X=1\n", -1, "test:3: ", "'export' is not supported" },
    { "A=1\nB=2\nC=$(x)", -1, "test:3: C: ", "command substitution" },
};

static guint
count_char(const char *s, char ch)
{
    guint n = 0;

    for (; *s; s++)
        n += *s == ch;
    return n;
}

static void
test_reject(gconstpointer data)
{
    const RejectCase *c          = data;
    g_autoptr(GError) error      = NULL;
    g_autoptr(GreShvarFile) file = NULL;

    file = gre_shvar_file_parse("test", c->text, c->len, &error);
    g_assert_null(file);
    g_assert_error(error, GRE_ERROR, GRE_ERROR_PARSE);
    if (!g_str_has_prefix(error->message, c->prefix) || !strstr(error->message, c->reason))
        g_error("message \"%s\" does not start with \"%s\" or lacks \"%s\"", error->message,
                c->prefix, c->reason);
    /* A line that is not an assignment has no key to name: "test:N: reason". */
    if (count_char(c->prefix, ':') == 2) {
        const char *rest = error->message + strlen(c->prefix);
        gsize       n    = strspn(rest, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_");

        g_assert_false(n > 0 && rest[n] == ':');
    }
}

/*****************************************************************************/

static void
test_last_wins(void)
{
    g_autoptr(GError) error      = NULL;
    g_autoptr(GreShvarFile) file = NULL;
    const char        *text      = "# header\n"
                                   "A=1\n"
                                   "B='two'\n"
                                   "\n"
                                   "A=3 # wins\n"
                                   "C=\n"
                                   "  B=\"four\"\n";
    const char *const *keys;

    file = gre_shvar_file_parse("last", text, -1, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(gre_shvar_file_get(file, "A"), ==, "3");
    g_assert_cmpuint(gre_shvar_file_get_line(file, "A"), ==, 5);
    g_assert_cmpstr(gre_shvar_file_get(file, "B"), ==, "four");
    g_assert_cmpuint(gre_shvar_file_get_line(file, "B"), ==, 7);
    /* Present but empty differs from absent. */
    g_assert_cmpstr(gre_shvar_file_get(file, "C"), ==, "");
    g_assert_cmpuint(gre_shvar_file_get_line(file, "C"), ==, 6);
    g_assert_null(gre_shvar_file_get(file, "D"));
    g_assert_cmpuint(gre_shvar_file_get_line(file, "D"), ==, 0);
    g_assert_null(gre_shvar_file_get(file, "a"));

    keys = gre_shvar_file_get_keys(file);
    g_assert_cmpuint(g_strv_length((char **)keys), ==, 3);
    g_assert_cmpstr(keys[0], ==, "A");
    g_assert_cmpstr(keys[1], ==, "B");
    g_assert_cmpstr(keys[2], ==, "C");
    g_assert_cmpstr(gre_shvar_file_get_source(file), ==, "last");
}

static void
test_keys_order(void)
{
    g_autoptr(GError) error      = NULL;
    g_autoptr(GreShvarFile) file = NULL;
    const char        *text      = "Z=1\nM=2\n_a=3\nZ=4\nA9=5\nM=6";
    const char *const *keys;

    file = gre_shvar_file_parse("order", text, -1, &error);
    g_assert_no_error(error);
    keys = gre_shvar_file_get_keys(file);
    g_assert_cmpuint(g_strv_length((char **)keys), ==, 4);
    g_assert_cmpstr(keys[0], ==, "Z");
    g_assert_cmpstr(keys[1], ==, "M");
    g_assert_cmpstr(keys[2], ==, "_a");
    g_assert_cmpstr(keys[3], ==, "A9");
    /* The last line has no newline and still counts. */
    g_assert_cmpstr(gre_shvar_file_get(file, "M"), ==, "6");
    g_assert_cmpuint(gre_shvar_file_get_line(file, "M"), ==, 6);
}

static void
test_empty_and_len(void)
{
    g_autoptr(GError) error       = NULL;
    g_autoptr(GreShvarFile) empty = NULL;
    g_autoptr(GreShvarFile) blank = NULL;
    g_autoptr(GreShvarFile) part  = NULL;
    g_autoptr(GreShvarFile) crlf  = NULL;

    empty = gre_shvar_file_parse(NULL, "", -1, &error);
    g_assert_no_error(error);
    g_assert_nonnull(gre_shvar_file_get_keys(empty));
    g_assert_null(gre_shvar_file_get_keys(empty)[0]);
    g_assert_nonnull(gre_shvar_file_get_source(empty));

    blank = gre_shvar_file_parse("blank", "\n \n\t\n# only comments\n   # indented\n", -1, &error);
    g_assert_no_error(error);
    g_assert_null(gre_shvar_file_get_keys(blank)[0]);

    /* @len bounds the text: the garbage after it is never looked at. */
    part = gre_shvar_file_parse("part", "A=1\nB=$(x)", 4, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(gre_shvar_file_get(part, "A"), ==, "1");
    g_assert_null(gre_shvar_file_get(part, "B"));

    crlf = gre_shvar_file_parse("crlf", "A=1\r\nB=\"x y\"\r\n", -1, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(gre_shvar_file_get(crlf, "A"), ==, "1");
    g_assert_cmpstr(gre_shvar_file_get(crlf, "B"), ==, "x y");
}

/*****************************************************************************/

static const char *const tricky_values[] = {
    "",
    "plain",
    "with space",
    " leading and trailing ",
    "double\"quote",
    "single'quote",
    "it's \"mixed\"",
    "dollar $HOME ${X} $(id) $",
    "back`tick`",
    "back\\slash\\",
    "\\$\\`\\\"",
    "new\nline",
    "tab\there",
    "cr\r and \033[1m escape \a\b\f\v\x7f",
    "\001\0027 (octal, so the 7 is not part of the escape)",
    "ctrl and 'quote' and \\ and \"dq\"\n",
    "h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xac \xf0\x9f\x98\x80",
    "\xc3\xa9\nnewline after UTF-8",
    "~",
    "~/x:~/y",
    "a=b",
    "#not a comment",
    "semi;colon",
    "|&()<>",
    "*?[a-z]{1,2}!",
    "-dash",
    "key=0x1234,user@host:/path%20+more.",
};

static void
test_escape_exact(void)
{
    static const struct {
        const char *value;
        const char *escaped;
    } cases[] = {
        { "", "\"\"" },
        { "abc", "abc" },
        { "10.0.0.1/24", "10.0.0.1/24" },
        { "a-b_c.d/e:f@g%h+i,j=k", "a-b_c.d/e:f@g%h+i,j=k" },
        { "a b", "\"a b\"" },
        { "a\"b\\c$d`e", "\"a\\\"b\\\\c\\$d\\`e\"" },
        { "it's", "\"it's\"" },
        { "~", "\"~\"" },
        { "\xc3\xa9", "\"\xc3\xa9\"" },
        { "a\nb", "$'a\\nb'" },
        { "a\tb'c\\d\"e$", "$'a\\tb\\'c\\\\d\"e$'" },
        { "\0011", "$'\\0011'" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *escaped = gre_shvar_escape(cases[i].value);

        g_assert_cmpstr(escaped, ==, cases[i].escaped);
    }
}

static void
test_escape_roundtrip(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(tricky_values); i++) {
        g_autofree char *escaped     = gre_shvar_escape(tricky_values[i]);
        g_autofree char *line        = g_strdup_printf("K=%s\n", escaped);
        g_autoptr(GError) error      = NULL;
        g_autoptr(GreShvarFile) file = NULL;

        /* The escaped form must stay on one line. */
        g_assert_null(strchr(escaped, '\n'));
        file = gre_shvar_file_parse("roundtrip", line, -1, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(gre_shvar_file_get(file, "K"), ==, tricky_values[i]);
    }
}

/* Has bash source @text and returns the values of @keys, so tests can check that bash reads
 * what the reader reads. Returns NULL (and skips the test) without bash. */
static GPtrArray *
bash_read(const char *text, const char *const *keys)
{
    g_autofree char *bash     = g_find_program_in_path("bash");
    g_autofree char *dir      = NULL;
    g_autofree char *path     = NULL;
    g_autofree char *out      = NULL;
    g_autofree char *err      = NULL;
    g_autoptr(GString) script = NULL;
    g_autoptr(GError) error   = NULL;
    GPtrArray  *values;
    int         status = 0;
    const char *p;

    if (!bash) {
        g_test_skip("bash is not installed");
        return NULL;
    }
    dir = g_dir_make_tmp("test-shvar-bash-XXXXXX", &error);
    g_assert_no_error(error);
    path = g_build_filename(dir, "vars", NULL);
    g_file_set_contents(path, text, -1, &error);
    g_assert_no_error(error);

    script = g_string_new("set -e; . \"$1\"; printf '%s\\0'");
    for (gsize i = 0; keys[i]; i++)
        g_string_append_printf(script, " \"$%s\"", keys[i]);

    {
        const char *argv[] = {
            bash, "--norc", "--noprofile", "-c", script->str, "bash", path, NULL
        };

        g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                     &error);
    }
    g_assert_no_error(error);
    g_remove(path);
    g_rmdir(dir);
    if (!g_spawn_check_wait_status(status, NULL))
        g_error("bash failed on:\n%s\n%s", text, err);

    values = g_ptr_array_new_with_free_func(g_free);
    for (p = out; values->len < g_strv_length((char **)keys); p += strlen(p) + 1)
        g_ptr_array_add(values, g_strdup(p));
    return values;
}

static void
test_bash_agrees_roundtrip(void)
{
    g_autoptr(GString) text    = g_string_new(NULL);
    g_autoptr(GPtrArray) names = g_ptr_array_new_null_terminated(8, g_free, TRUE);
    g_autoptr(GPtrArray) got   = NULL;

    for (gsize i = 0; i < G_N_ELEMENTS(tricky_values); i++) {
        g_autofree char *escaped = gre_shvar_escape(tricky_values[i]);

        g_ptr_array_add(names, g_strdup_printf("K%zu", i));
        g_string_append_printf(text, "K%zu=%s\n", i, escaped);
    }
    got = bash_read(text->str, (const char *const *)names->pdata);
    if (!got)
        return;
    for (gsize i = 0; i < G_N_ELEMENTS(tricky_values); i++)
        g_assert_cmpstr(got->pdata[i], ==, tricky_values[i]);
}

static void
test_bash_agrees_accept(void)
{
    static const char *const keys[] = { "K", NULL };

    for (gsize i = 0; i < G_N_ELEMENTS(accept_cases); i++) {
        g_autoptr(GPtrArray) got = NULL;

        if (accept_cases[i].bash_differs)
            continue;
        got = bash_read(accept_cases[i].line, keys);
        if (!got)
            return;
        g_assert_cmpstr(got->pdata[0], ==, accept_cases[i].value);
    }
}

/*****************************************************************************/

typedef struct {
    char *dir;
} TmpDir;

static void
tmpdir_setup(TmpDir *t, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    (void)data;
    t->dir = g_dir_make_tmp("test-shvar-XXXXXX", &error);
    g_assert_no_error(error);
}

static void
tmpdir_teardown(TmpDir *t, gconstpointer data)
{
    g_autoptr(GDir) dir = g_dir_open(t->dir, 0, NULL);
    const char *name;

    (void)data;
    while (dir && (name = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(t->dir, name, NULL);

        if (g_rmdir(path) != 0)
            g_assert_cmpint(g_remove(path), ==, 0);
    }
    g_assert_cmpint(g_rmdir(t->dir), ==, 0);
    g_free(t->dir);
}

static char *
tmpdir_write(TmpDir *t, const char *name, const char *text, mode_t mode)
{
    g_autoptr(GError) error = NULL;
    char *path              = g_build_filename(t->dir, name, NULL);

    g_file_set_contents(path, text, -1, &error);
    g_assert_no_error(error);
    g_assert_cmpint(g_chmod(path, mode), ==, 0);
    return path;
}

static void
assert_message(const GError *error, const char *part)
{
    if (!strstr(error->message, part))
        g_error("message \"%s\" lacks \"%s\"", error->message, part);
}

static void
test_load_example(void)
{
    const char      *srcdir      = g_getenv("GRE_SRCDIR");
    g_autofree char *path        = NULL;
    g_autoptr(GError) error      = NULL;
    g_autoptr(GreShvarFile) file = NULL;

    if (!srcdir) {
        g_test_skip("GRE_SRCDIR is not set");
        return;
    }
    path = g_build_filename(srcdir, "tests", "data", "shvar", "ifcfg-gre1", NULL);
    file = gre_shvar_file_load(path, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(gre_shvar_file_get_source(file), ==, path);
    g_assert_cmpstr(gre_shvar_file_get(file, "DEVICE"), ==, "gre1");
    g_assert_cmpstr(gre_shvar_file_get(file, "TYPE"), ==, "GRE");
    g_assert_cmpstr(gre_shvar_file_get(file, "MY_OUTER_IPADDR"), ==, "198.51.100.1");
    g_assert_cmpstr(gre_shvar_file_get(file, "NAME"), ==, "GRE to the branch office");
    g_assert_cmpstr(gre_shvar_file_get(file, "KEY"), ==, "1234");
    g_assert_cmpstr(gre_shvar_file_get(file, "TTL"), ==, "64");
    g_assert_cmpuint(gre_shvar_file_get_line(file, "TTL"), ==, 15);
}

static void
test_load_bad_example(void)
{
    const char      *srcdir      = g_getenv("GRE_SRCDIR");
    g_autofree char *path        = NULL;
    g_autofree char *prefix      = NULL;
    g_autoptr(GError) error      = NULL;
    g_autoptr(GreShvarFile) file = NULL;

    if (!srcdir) {
        g_test_skip("GRE_SRCDIR is not set");
        return;
    }
    path   = g_build_filename(srcdir, "tests", "data", "shvar", "ifcfg-bad-substitution", NULL);
    prefix = g_strdup_printf("%s:5: MY_OUTER_IPADDR: ", path);
    file   = gre_shvar_file_load(path, &error);
    g_assert_null(file);
    g_assert_error(error, GRE_ERROR, GRE_ERROR_PARSE);
    g_assert_true(g_str_has_prefix(error->message, prefix));
    assert_message(error, "command substitution");
}

static void
test_load_io(TmpDir *t, gconstpointer data)
{
    g_autofree char *missing = g_build_filename(t->dir, "missing", NULL);
    g_autofree char *big     = NULL;
    g_autofree char *path    = NULL;
    g_autofree char *text    = NULL;
    g_autoptr(GError) error  = NULL;
    GreShvarFile *file;

    (void)data;
    file = gre_shvar_file_load(missing, &error);
    g_assert_null(file);
    g_assert_error(error, GRE_ERROR, GRE_ERROR_IO);
    assert_message(error, missing);
    assert_message(error, g_strerror(ENOENT));
    g_clear_error(&error);

    file = gre_shvar_file_load(t->dir, &error);
    g_assert_null(file);
    g_assert_error(error, GRE_ERROR, GRE_ERROR_IO);
    assert_message(error, t->dir);
    g_clear_error(&error);

    /* Exactly 1 MiB is still read; one byte more is not. */
    text = g_malloc(1024 * 1024 + 2);
    memset(text, '#', 1024 * 1024 + 1);
    text[1024 * 1024 + 1] = '\0';
    text[0]               = '\n';
    big                   = tmpdir_write(t, "big", text, 0600);
    file                  = gre_shvar_file_load(big, &error);
    g_assert_null(file);
    g_assert_error(error, GRE_ERROR, GRE_ERROR_IO);
    assert_message(error, "larger than 1 MiB");
    assert_message(error, big);
    g_clear_error(&error);

    text[1024 * 1024] = '\0';
    path              = tmpdir_write(t, "just-fits", text, 0600);
    file              = gre_shvar_file_load(path, &error);
    g_assert_no_error(error);
    gre_shvar_file_free(file);
}

static void
test_load_private_ok(TmpDir *t, gconstpointer data)
{
    g_autofree char *path        = tmpdir_write(t, "keys-gre1", "IPSEC_PSK='s3cr$t key'\n", 0600);
    g_autoptr(GError) error      = NULL;
    g_autoptr(GreShvarFile) file = NULL;

    (void)data;
    file = gre_shvar_file_load_private(path, getuid(), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(gre_shvar_file_get(file, "IPSEC_PSK"), ==, "s3cr$t key");
    g_assert_cmpstr(gre_shvar_file_get_source(file), ==, path);
}

static void
test_load_private_mode(TmpDir *t, gconstpointer data)
{
    static const struct {
        mode_t      mode;
        const char *part;
    } cases[] = {
        { 0644, "readable by group or others (mode 0644)" },
        { 0640, "readable by group or others (mode 0640)" },
        { 0604, "(mode 0604)" },
        { 0620, "accessible by group or others (mode 0620)" },
        { 0601, "(mode 0601)" },
    };

    (void)data;
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *name   = g_strdup_printf("keys-%zu", i);
        g_autofree char *path   = tmpdir_write(t, name, "A=1\n", cases[i].mode);
        g_autofree char *chmod  = g_strdup_printf("; run: chmod 600 %s", path);
        g_autoptr(GError) error = NULL;

        g_assert_null(gre_shvar_file_load_private(path, getuid(), &error));
        g_assert_error(error, GRE_ERROR, GRE_ERROR_PERMISSION);
        g_assert_true(g_str_has_prefix(error->message, path));
        assert_message(error, cases[i].part);
        assert_message(error, chmod);
    }
}

static void
test_load_private_owner(TmpDir *t, gconstpointer data)
{
    g_autofree char *path   = tmpdir_write(t, "keys-gre1", "A=1\n", 0600);
    g_autofree char *owned  = g_strdup_printf("owned by uid %u, not ", (guint)getuid());
    g_autofree char *want   = g_strdup_printf("(uid %u)", (guint)getuid() + 1);
    g_autofree char *bad    = tmpdir_write(t, "keys-both", "A=1\n", 0644);
    g_autoptr(GError) error = NULL;

    (void)data;
    g_assert_null(gre_shvar_file_load_private(path, getuid() + 1, &error));
    g_assert_error(error, GRE_ERROR, GRE_ERROR_PERMISSION);
    assert_message(error, owned);
    assert_message(error, want);
    assert_message(error, "; run: chown ");
    g_clear_error(&error);

    /* Both problems are reported at once, so one round of fixes is enough. */
    g_assert_null(gre_shvar_file_load_private(bad, getuid() + 1, &error));
    g_assert_error(error, GRE_ERROR, GRE_ERROR_PERMISSION);
    assert_message(error, owned);
    assert_message(error, "and readable by group or others (mode 0644)");
    assert_message(error, " && chmod 600 ");
}

static void
test_load_private_not_regular(TmpDir *t, gconstpointer data)
{
    g_autofree char *target = tmpdir_write(t, "real", "A=1\n", 0600);
    g_autofree char *link   = g_build_filename(t->dir, "link", NULL);
    g_autofree char *fifo   = g_build_filename(t->dir, "fifo", NULL);
    g_autofree char *sub    = g_build_filename(t->dir, "sub", NULL);
    g_autofree char *gone   = g_build_filename(t->dir, "gone", NULL);
    g_autoptr(GError) error = NULL;

    (void)data;
    g_assert_cmpint(symlink(target, link), ==, 0);
    g_assert_null(gre_shvar_file_load_private(link, getuid(), &error));
    g_assert_error(error, GRE_ERROR, GRE_ERROR_PERMISSION);
    assert_message(error, link);
    assert_message(error, "symbolic link");
    g_clear_error(&error);

    /* Must be refused without waiting for a writer. */
    g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
    g_assert_null(gre_shvar_file_load_private(fifo, getuid(), &error));
    g_assert_error(error, GRE_ERROR, GRE_ERROR_PERMISSION);
    assert_message(error, "is a FIFO; secrets must be stored in a regular file");
    g_clear_error(&error);

    g_assert_cmpint(g_mkdir(sub, 0700), ==, 0);
    g_assert_null(gre_shvar_file_load_private(sub, getuid(), &error));
    g_assert_error(error, GRE_ERROR, GRE_ERROR_PERMISSION);
    assert_message(error, "is a directory");
    g_clear_error(&error);

    g_assert_null(gre_shvar_file_load_private(gone, getuid(), &error));
    g_assert_error(error, GRE_ERROR, GRE_ERROR_IO);
    assert_message(error, g_strerror(ENOENT));
}

static void
test_load_private_parse_error(TmpDir *t, gconstpointer data)
{
    g_autofree char *path   = tmpdir_write(t, "keys-gre1", "# secrets\nPSK=$(cat /x)\n", 0600);
    g_autofree char *prefix = g_strdup_printf("%s:2: PSK: ", path);
    g_autoptr(GError) error = NULL;

    (void)data;
    g_assert_null(gre_shvar_file_load_private(path, getuid(), &error));
    g_assert_error(error, GRE_ERROR, GRE_ERROR_PARSE);
    g_assert_true(g_str_has_prefix(error->message, prefix));
}

/*****************************************************************************/

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    for (gsize i = 0; i < G_N_ELEMENTS(accept_cases); i++) {
        g_autofree char *name = g_strdup_printf("/shvar/accept/%02zu", i);

        g_test_add_data_func(name, &accept_cases[i], test_accept);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(reject_cases); i++) {
        g_autofree char *name = g_strdup_printf("/shvar/reject/%02zu", i);

        g_test_add_data_func(name, &reject_cases[i], test_reject);
    }
    g_test_add_func("/shvar/last-wins", test_last_wins);
    g_test_add_func("/shvar/keys-order", test_keys_order);
    g_test_add_func("/shvar/empty-and-len", test_empty_and_len);
    g_test_add_func("/shvar/escape/exact", test_escape_exact);
    g_test_add_func("/shvar/escape/roundtrip", test_escape_roundtrip);
    g_test_add_func("/shvar/bash-agrees/roundtrip", test_bash_agrees_roundtrip);
    g_test_add_func("/shvar/bash-agrees/accept", test_bash_agrees_accept);
    g_test_add_func("/shvar/load/example", test_load_example);
    g_test_add_func("/shvar/load/bad-example", test_load_bad_example);
    g_test_add("/shvar/load/io", TmpDir, NULL, tmpdir_setup, test_load_io, tmpdir_teardown);
    g_test_add("/shvar/load-private/ok", TmpDir, NULL, tmpdir_setup, test_load_private_ok,
               tmpdir_teardown);
    g_test_add("/shvar/load-private/mode", TmpDir, NULL, tmpdir_setup, test_load_private_mode,
               tmpdir_teardown);
    g_test_add("/shvar/load-private/owner", TmpDir, NULL, tmpdir_setup, test_load_private_owner,
               tmpdir_teardown);
    g_test_add("/shvar/load-private/not-regular", TmpDir, NULL, tmpdir_setup,
               test_load_private_not_regular, tmpdir_teardown);
    g_test_add("/shvar/load-private/parse-error", TmpDir, NULL, tmpdir_setup,
               test_load_private_parse_error, tmpdir_teardown);

    return g_test_run();
}
