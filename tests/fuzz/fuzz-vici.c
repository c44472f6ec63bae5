/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A VICI message as charon sends it to our client: the bytes are one message (the segment
 * without its type byte). gre_vici_parse() reads it; what it accepts is walked the way the
 * client reads answers (keys, lists, sections), dumped, encoded again, and must parse to the
 * same bytes again.
 */
#include <string.h>

#include "fuzz-util.h"
#include "gre-vici-msg.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    return 0;
}

static void
walk(const GreViciSection *s, guint depth)
{
    if (depth > GRE_VICI_MAX_DEPTH + 1)
        g_error("fuzz: parsed %u sections deep, over the limit of %d", depth, GRE_VICI_MAX_DEPTH);
    for (guint i = 0; i < gre_vici_section_n_entries(s); i++) {
        const char           *name = NULL;
        const GreViciSection *sub  = NULL;
        GreViciEntryKind      kind = gre_vici_section_entry(s, i, &name, &sub);
        gsize                 len  = 0;

        if (!name)
            g_error("fuzz: entry %u has no name", i);
        switch (kind) {
        case GRE_VICI_ENTRY_VALUE:
            if (!gre_vici_get_bytes(s, name, &len))
                g_error("fuzz: value %s is listed but not found", name);
            (void)gre_vici_get(s, name);
            break;
        case GRE_VICI_ENTRY_LIST:
            (void)gre_vici_get_list(s, name);
            break;
        case GRE_VICI_ENTRY_SECTION:
            if (!sub)
                g_error("fuzz: section %s without its contents", name);
            (void)gre_vici_get_section(s, name);
            walk(sub, depth + 1);
            break;
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error         = NULL;
    g_autoptr(GreViciSection) msg   = gre_vici_parse(data, size, &error);
    g_autoptr(GreViciSection) again = NULL;
    g_autoptr(GBytes) encoded       = NULL;
    g_autoptr(GBytes) reencoded     = NULL;
    g_autofree char *dump           = NULL;

    if (!msg) {
        if (!error || !*error->message)
            g_error("fuzz: refused without a message");
        return 0;
    }
    walk(msg, 0);
    dump    = gre_vici_section_dump(msg);
    encoded = gre_vici_section_encode(msg, &error);
    if (!encoded)
        g_error("fuzz: a parsed message does not encode: %s", error->message);
    again = gre_vici_parse(g_bytes_get_data(encoded, NULL), g_bytes_get_size(encoded), &error);
    if (!again)
        g_error("fuzz: an encoded message does not parse: %s", error->message);
    reencoded = gre_vici_section_encode(again, &error);
    if (!reencoded || !g_bytes_equal(encoded, reencoded))
        g_error("fuzz: encode, parse, encode is not stable");
    return 0;
}
