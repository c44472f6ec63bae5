/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "gre-settings.h"

/*
 * network-scripts route files beside ifcfg-NAME: route-NAME (IPv4) and route6-NAME (IPv6), in the
 * two forms ifup-routes reads, told apart the way it does (any line assigning ADDRESSn selects the
 * second):
 *
 *   - one `ip route add` argument list per line, of which this subset is accepted:
 *       PREFIX [via GATEWAY] [dev DEVICE] [metric N] [src ADDRESS]
 *     (PREFIX may be "default"; an address without /LEN is a host route; # starts a comment);
 *   - shell variables ADDRESSn, NETMASKn, GATEWAYn and METRICn, n counting from 0 without gaps
 *     (route-NAME only; read with the shell-variable reader, never run).
 *
 * The file is never handed to ip(8): every route becomes a GreRoute of the tunnel, so it gets the
 * tunnel's inner source address and is removed with the tunnel.
 */

typedef struct {
    GrePrefix dst;
    guint32   metric;            /* 0: none given */
    GreAddr   gateway;           /* AF_UNSPEC: none given */
    GreAddr   src;               /* AF_UNSPEC: none given */
    char      dev[GRE_IFNAMSIZ]; /* "": none given */
    guint     line;              /* where the route is written (ADDRESSn's line in the 2nd form) */
} GreRouteEntry;

typedef struct {
    char    *source; /* for messages: the path */
    int      family; /* AF_INET for route-NAME, AF_INET6 for route6-NAME */
    gboolean shvar_form;
    GArray  *routes; /* of GreRouteEntry, in file order */
} GreRoutesFile;

/* Parses @text; @family says which file it is. Errors (GRE_ERROR_PARSE) read
 * "SOURCE:LINE: reason" and name the accepted subset where a line goes beyond it. */
GreRoutesFile *gre_routes_file_parse(const char *source, int family, const char *text, gssize len,
                                     GError **error);
GreRoutesFile *gre_routes_file_load(const char *path, int family, GError **error);
void           gre_routes_file_free(GreRoutesFile *file);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GreRoutesFile, gre_routes_file_free)

/* route-NAME (AF_INET) or route6-NAME (AF_INET6) beside @ifcfg_path, NAME taken as for keys-NAME:
 * from the file name ifcfg-NAME, else @device. */
char *gre_routes_file_path(const char *ifcfg_path, const char *device, int family);

/*
 * Appends the routes of @file to the tunnel @s (validated settings). A point-to-point tunnel has
 * one next hop, so "dev", "via" and "src" are accepted only where they say what the tunnel does
 * anyway: dev is the tunnel, via is the inner peer, src is the inner address. Anything else, a
 * route without an inner address of its family, or a route the tunnel already has, is a
 * GRE_ERROR_INVALID error "SOURCE:LINE: reason".
 */
gboolean gre_routes_file_merge(const GreRoutesFile *file, GreSettings *s, GError **error);

/* Reads route-NAME and route6-NAME beside @ifcfg_path, where they exist, and merges them into
 * @s as above; @count (may be NULL) gets the number of routes they added. The file front ends
 * (ifup-gre, gre-tunnel up/plan, --all) all take a tunnel's routes this way. */
gboolean gre_routes_file_add_beside(const char *ifcfg_path, GreSettings *s, guint *count,
                                    GError **error);
