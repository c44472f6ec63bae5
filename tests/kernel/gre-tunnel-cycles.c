/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gre-tunnel-cycles: `gre-tunnel up CONFIG` then `gre-tunnel down NAME`, CYCLES times, in one
 * process: gre-tunnel's own main() (built into this program as gre_tunnel_main) with the argv
 * the CLI gets. Under valgrind, whatever one cycle leaks is then lost CYCLES times in the one
 * report, and memcheck's start-up (minutes in an emulated VM) is paid once, not 2 x CYCLES
 * times. After each step the kernel is asked whether NAME exists (if_nametoindex), not our code.
 * Usage: gre-tunnel-cycles CYCLES CONFIG NAME
 * Exit: 0 all cycles done, 1 a step failed or the kernel disagreed, 2 usage.
 */
#undef main
#include <glib.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>

int gre_tunnel_main(int argc, char **argv);

static int
run(const char *cmd, const char *arg)
{
    /* GOption rearranges argv: a fresh copy each time, as a new process would have. */
    g_autofree char *c0 = g_strdup("gre-tunnel"), *c1 = g_strdup(cmd), *c2 = g_strdup(arg);
    char            *argv[] = { c0, c1, c2, NULL };

    return gre_tunnel_main(3, argv);
}

int
main(int argc, char **argv)
{
    gint64 cycles;

    if (argc != 4 || !g_ascii_string_to_signed(argv[1], 10, 1, 100000, &cycles, NULL)) {
        fprintf(stderr, "usage: gre-tunnel-cycles CYCLES CONFIG NAME\n");
        return 2;
    }
    for (gint64 c = 1; c <= cycles; c++) {
        int rc;

        if ((rc = run("up", argv[2])) != 0 || !if_nametoindex(argv[3])) {
            fprintf(stderr, "cycle %" G_GINT64_FORMAT ": up: exit %d, link %s\n", c, rc,
                    if_nametoindex(argv[3]) ? "present" : "missing");
            return 1;
        }
        if ((rc = run("down", argv[3])) != 0 || if_nametoindex(argv[3])) {
            fprintf(stderr, "cycle %" G_GINT64_FORMAT ": down: exit %d, link %s\n", c, rc,
                    if_nametoindex(argv[3]) ? "still there" : "gone");
            return 1;
        }
    }
    printf("%" G_GINT64_FORMAT " cycles of up and down\n", cycles);
    return 0;
}
