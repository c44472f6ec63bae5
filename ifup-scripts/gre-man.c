/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gre-man TEMPLATE OUTPUT: writes a man page, replacing the template's comment lines
 * ".\" generated: ifcfg keys" and ".\" generated: ifupdown options" (ifup-gre(8)),
 * ".\" generated: settings" (gre-tunnel-settings(5)) and ".\" generated: suites" with the
 * settings table as troff, so that the pages list exactly the keys the parsers read. Runs at
 * build time, in English: the pages are not translated.
 * gre-man --keys: prints the ifcfg name of every key, one a line, for the tests.
 */
#include <stdio.h>
#include <string.h>

#include "gre-settings-table.h"
#include "gre-suite.h"

/* Text for troff: backslashes and minus signs escaped, no request or control at line start. */
static void
put_text(GString *out, const char *text)
{
    if (*text == '.' || *text == '\'')
        g_string_append(out, "\\&");
    for (const char *p = text; *p; p++) {
        if (*p == '\\')
            g_string_append(out, "\\e");
        else if (*p == '-')
            g_string_append(out, "\\-");
        else
            g_string_append_c(out, *p);
    }
}

static void
put_key(GString *out, const GreKeyInfo *key, const char *name, gboolean ifupdown)
{
    const char *range = gre_key_range(key);

    g_string_append(out, ".TP\n.B ");
    put_text(out, name);
    if (ifupdown)
        g_string_append(out, " \\fIvalue\\fR");
    g_string_append(out, "\n");
    put_text(out, key->help);
    g_string_append(out, "\n");
    /* One sentence per line, as troff wants it. */
    if (range) {
        g_string_append(out, "Values: ");
        put_text(out, range);
        if (!g_str_has_suffix(range, "."))
            g_string_append(out, ".");
        g_string_append(out, "\n");
    }
    if (key->def) {
        g_string_append(out, "Default: ");
        put_text(out, key->def);
        if (key->def_ike) {
            g_string_append(out, "; with ike: ");
            put_text(out, key->def_ike);
        }
        g_string_append(out, ".\n");
    }
    if (key->required)
        g_string_append(out, "Required.\n");
    if (key->secret && !ifupdown)
        g_string_append(out, "Secret: only in keys\\-NAME.\n");
}

static void
put_table(GString *out, gboolean ifupdown)
{
    for (guint i = 0; i < GRE_KEY_COUNT; i++) {
        const GreKeyInfo *key = gre_key_info(i);

        /* In a stanza the device is IFACE, and secrets live in gre-keys-file. */
        if (ifupdown && (!key->ifupdown || key->secret))
            continue;
        put_key(out, key, ifupdown ? key->ifupdown : key->ifcfg, ifupdown);
    }
}

/* gre-tunnel-settings(5): every key, in groups, under its ifcfg name with its other names. */
static const struct {
    const char *title;
    GreKeyId    first, last;
    const char *intro;
} groups[] = {
    { "Tunnel endpoints", GRE_KEY_DEVICE, GRE_KEY_UNDERLAY,
      "The device and the outer addresses GRE packets travel between." },
    { "Inner addresses and routes", GRE_KEY_INNER4, GRE_KEY_PIN,
      "What the tunnel carries: its own addresses and the networks routed through it." },
    { "GRE header", GRE_KEY_KEY, GRE_KEY_ENCAPLIMIT,
      "Fields of the GRE and outer IP headers; both ends must agree on keys, sequence numbers "
      "and checksums." },
    { "MTU", GRE_KEY_MTU, GRE_KEY_UNDERLAY_MTU,
      "The tunnel MTU is computed exactly from the underlay MTU and the headers that are "
      "added; see \\fBgre\\-tunnel mtu \\-\\-explain\\fR." },
    { "IPsec", GRE_KEY_IPSEC, GRE_KEY_AUTH_KEY_OUT,
      "Static ESP transport-mode SAs that encrypt GRE, and only GRE, between the outer "
      "addresses.\nInbound at one end is outbound at the other." },
    { "IKE", GRE_KEY_IKE_PSK, GRE_KEY_IKE_CACERT,
      "With \\fBIPSEC=ike\\fR the ESP SAs are negotiated by strongSwan's charon (IKEv2), "
      "driven through its VICI socket: one CHILD_SA in transport mode selecting only GRE "
      "between the outer addresses, authenticated with a pre-shared key or with X.509 "
      "certificates (see IKE WITH CERTIFICATES below). The ESP proposal is "
      "\\fBIPSEC_SUITE\\fR with \\fBIKE_ESP_DH\\fR; the SPI and key settings above are "
      "not used." },
};

static const char *
type_name(GreKeyType type)
{
    switch (type) {
    case GRE_KT_IFNAME:
        return "interface name";
    case GRE_KT_OUTER_ADDR:
        return "IP address";
    case GRE_KT_ADDR4:
        return "IPv4 address";
    case GRE_KT_ADDR6:
        return "IPv6 address";
    case GRE_KT_PREFIX4:
        return "IPv4 address with an optional prefix length";
    case GRE_KT_PREFIX6:
        return "IPv6 address with an optional prefix length";
    case GRE_KT_ROUTES:
        return "list of prefixes, each with an optional metric";
    case GRE_KT_PIN:
        return "auto or boolean";
    case GRE_KT_GREKEY:
        return "32-bit GRE key";
    case GRE_KT_BOOL:
        return "boolean";
    case GRE_KT_TTL:
        return "TTL";
    case GRE_KT_TOS:
        return "TOS byte";
    case GRE_KT_ENCAPLIMIT:
        return "encapsulation limit";
    case GRE_KT_MTU:
        return "MTU in bytes";
    case GRE_KT_IPSEC:
        return "IPsec mode";
    case GRE_KT_SUITE:
        return "ESP suite name (see ESP SUITES)";
    case GRE_KT_SPI:
        return "32-bit SPI, decimal or 0x hexadecimal";
    case GRE_KT_HEXKEY:
        return "key bytes as hexadecimal digits, optionally after 0x";
    case GRE_KT_PSK:
        return "text";
    case GRE_KT_IKE_ID:
        return "IKE identity";
    case GRE_KT_PROPOSAL:
        return "IKE proposal list";
    case GRE_KT_DHGROUP:
        return "Diffie-Hellman group";
    case GRE_KT_SECONDS:
        return "time";
    case GRE_KT_PATH:
        return "path";
    case GRE_KT_IKE_AUTH:
        return "psk or cert";
    case GRE_KT_FILE:
        return "file";
    }
    g_assert_not_reached();
}

static void
put_bold(GString *out, const char *text)
{
    g_string_append(out, "\\fB\\%"); /* \% : never hyphenated */
    put_text(out, text);
    g_string_append(out, "\\fR");
}

static void
put_setting(GString *out, const GreKeyInfo *key)
{
    const char *range = gre_key_range(key);

    g_string_append(out, ".TP\n.B ");
    put_text(out, key->ifcfg);
    g_string_append(out, "\n");
    put_text(out, key->help);
    g_string_append(out, "\n.br\nNetworkManager: ");
    put_bold(out, key->nm);
    g_string_append(out, key->secret ? " (in vpn.secrets)" : " (in vpn.data)");
    g_string_append(out, "; ifupdown: ");
    if (key->secret) {
        put_bold(out, key->ifcfg);
        g_string_append(out, " in the \\fBgre\\-keys\\-file\\fR");
    } else if (key->ifupdown)
        put_bold(out, key->ifupdown);
    else
        g_string_append(out, "the stanza's interface");
    g_string_append(out, ".\n.br\nType: ");
    put_text(out, type_name(key->type));
    if (range && key->type != GRE_KT_HEXKEY) {
        g_string_append(out, "; values: ");
        put_text(out, range);
    }
    g_string_append(out, range && key->type != GRE_KT_HEXKEY && g_str_has_suffix(range, ".")
                             ? "\n.br\n"
                             : ".\n.br\n");
    if (key->def) {
        g_string_append(out, "Default: ");
        put_bold(out, key->def);
        if (key->def_ike) {
            g_string_append(out, "; with \\fBIPSEC=ike\\fR: ");
            put_bold(out, key->def_ike);
        }
        g_string_append(out, ".");
    } else
        g_string_append(out, key->required ? "Required." : "Default: unset.");
    if (key->secret)
        g_string_append(out, "\n.br\nSecret: in ifcfg files only in \\fBkeys\\-\\fINAME\\fR "
                             "(mode 0600); \\fBgre\\-tunnel plan\\fR masks it unless given "
                             "\\fB\\-\\-show\\-secrets\\fR.");
    g_string_append(out, "\n");
}

static void
put_settings(GString *out)
{
    guint done = 0;

    for (guint g = 0; g < G_N_ELEMENTS(groups); g++) {
        g_string_append(out, ".SS ");
        g_string_append(out, groups[g].title);
        g_string_append(out, "\n");
        g_string_append(out, groups[g].intro);
        g_string_append(out, "\n");
        for (GreKeyId id = groups[g].first; id <= groups[g].last; id++, done++)
            put_setting(out, gre_key_info(id));
    }
    /* A key added to the table must be given a group. */
    g_assert(done == GRE_KEY_COUNT);
}

static void
put_suites(GString *out)
{
    for (GreSuite id = 0; id < GRE_SUITE_COUNT; id++) {
        const GreSuiteInfo *suite = gre_suite_info(id);

        g_string_append(out, ".TP\n.B ");
        put_text(out, suite->name);
        g_string_append(out, "\n");
        put_text(out, suite->description);
        g_string_append(out, ".\n.br\n");
        if (!suite->static_keys)
            g_string_append_printf(out,
                                   "Not with IPSEC=manual: its nonce is the packet counter, "
                                   "which can repeat under a static key (%s). For IKE keying; "
                                   "gre\\-tunnel mtu \\-\\-ipsec computes its MTU.\n",
                                   suite->spec);
        else
            g_string_append_printf(out,
                                   "KEY_ESP_IN and KEY_ESP_OUT: %u bytes each (%u hex digits); "
                                   "KEY_AESP_IN and KEY_AESP_OUT: %u bytes each (%u hex "
                                   "digits).\n",
                                   suite->enc_key_len, suite->enc_key_len * 2, suite->auth_key_len,
                                   suite->auth_key_len * 2);
    }
}

int
main(int argc, char **argv)
{
    g_autofree char *text   = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GString) out  = g_string_new(NULL);
    g_auto(GStrv) lines     = NULL;

    if (argc == 2 && strcmp(argv[1], "--keys") == 0) {
        for (guint i = 0; i < GRE_KEY_COUNT; i++)
            printf("%s\n", gre_key_info(i)->ifcfg);
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: gre-man TEMPLATE OUTPUT | --keys\n");
        return 2;
    }
    if (!g_file_get_contents(argv[1], &text, NULL, &error)) {
        fprintf(stderr, "gre-man: %s\n", error->message);
        return 1;
    }
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        if (strcmp(lines[i], ".\\\" generated: ifcfg keys") == 0)
            put_table(out, FALSE);
        else if (strcmp(lines[i], ".\\\" generated: ifupdown options") == 0)
            put_table(out, TRUE);
        else if (strcmp(lines[i], ".\\\" generated: settings") == 0)
            put_settings(out);
        else if (strcmp(lines[i], ".\\\" generated: suites") == 0)
            put_suites(out);
        else {
            g_string_append(out, lines[i]);
            if (lines[i + 1])
                g_string_append_c(out, '\n');
        }
    }
    if (!g_file_set_contents(argv[2], out->str, out->len, &error)) {
        fprintf(stderr, "gre-man: %s\n", error->message);
        return 1;
    }
    return 0;
}
