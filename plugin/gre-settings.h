/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <netinet/in.h>

/*
 * The model of one end of a GRE tunnel. Every field is described by one row of the settings
 * table (gre-settings-table.c): parsers, validation, export and docs all go through that table.
 */

#define GRE_IFNAMSIZ 16

typedef struct {
    int family; /* AF_UNSPEC when unset, else AF_INET or AF_INET6 */
    union {
        struct in_addr  v4;
        struct in6_addr v6;
    } u;
} GreAddr;

typedef struct {
    GreAddr addr;
    guint8  plen;
} GrePrefix;

typedef struct {
    GrePrefix dst;
    guint32   metric; /* 0: the kernel default */
} GreRoute;

typedef enum {
    GRE_PIN_AUTO,
    GRE_PIN_YES,
    GRE_PIN_NO,
} GrePinMode;

typedef enum {
    GRE_IPSEC_NONE,
    GRE_IPSEC_MANUAL,
    GRE_IPSEC_IKE, /* keyed by the system's IKE daemon (strongSwan's charon) through VICI */
} GreIpsecMode;

/* How the two ends of IPSEC=ike prove who they are. */
typedef enum {
    GRE_IKE_AUTH_PSK,  /* IKE_PSK, the same at both ends */
    GRE_IKE_AUTH_CERT, /* X.509: this end's certificate and key, the CA that signs the peer's */
} GreIkeAuth;

typedef enum {
    GRE_SUITE_AES128_GCM16,
    GRE_SUITE_AES256_GCM16,
    GRE_SUITE_AES128_GCM12,
    GRE_SUITE_AES256_GCM12,
    GRE_SUITE_AES128_SHA256,
    GRE_SUITE_AES256_SHA256,
    GRE_SUITE_AES128_SHA1,
    GRE_SUITE_AES256_SHA1,
    GRE_SUITE_CHACHA20_POLY1305,
    GRE_SUITE_COUNT,
} GreSuite;

/* A tri-state for values whose default is "let the kernel or the environment decide". */
#define GRE_TTL_INHERIT 0
#define GRE_TOS_INHERIT (-1)
#define GRE_MTU_AUTO 0
#define GRE_ENCAPLIMIT_NONE (-1)
#define GRE_ENCAPLIMIT_KERNEL 4

typedef struct {
    char    name[GRE_IFNAMSIZ];
    GreAddr local;  /* outer; AF_UNSPEC = auto (the source address of the route to remote) */
    GreAddr remote; /* outer; its family selects gre or ip6gre */
    char    underlay[GRE_IFNAMSIZ];

    GrePrefix  inner4;      /* inner local address; plen 0 = unset */
    GreAddr    inner4_peer; /* AF_UNSPEC = none */
    GrePrefix  inner6;
    GreAddr    inner6_peer;
    GArray    *routes;         /* of GreRoute; never NULL */
    GArray    *local_networks; /* of GreRoute, for the peer's routes; never NULL */
    GrePinMode pin;

    gboolean has_ikey, has_okey;
    guint32  ikey, okey; /* host order */
    gboolean seq, csum;

    guint8   ttl; /* GRE_TTL_INHERIT or 1..255 */
    int      tos; /* GRE_TOS_INHERIT or 0..255 */
    gboolean pmtudisc;
    int      encaplimit; /* ip6gre only: GRE_ENCAPLIMIT_NONE or 0..255 */

    guint mtu;          /* GRE_MTU_AUTO or an explicit value */
    guint underlay_mtu; /* GRE_MTU_AUTO: the MTU of the device the remote is routed through */

    GreIpsecMode ipsec;
    GreSuite     suite;
    guint32      spi_in, spi_out;
    /* Secrets, as raw bytes; wiped when freed. */
    GBytes *enc_key_in, *enc_key_out;
    GBytes *auth_key_in, *auth_key_out;

    /* IPSEC=ike. Text values are NULL when unset; gre_key_text() gives the table's default. */
    GBytes    *ike_psk;                      /* secret */
    char      *ike_local_id, *ike_remote_id; /* NULL: the outer addresses */
    char      *ike_proposals;                /* IKE SA proposal, strongSwan syntax */
    char      *ike_esp_dh;                   /* DH group for PFS on CHILD_SA rekeys */
    guint      ike_rekey_time;               /* seconds; 0 = default */
    guint      ike_dpd_delay;                /* seconds; 0 = default */
    char      *ike_vici_socket;              /* path of charon's VICI socket */
    GreIkeAuth ike_auth;
    /* IKE_AUTH=cert: absolute paths, read by gre-tunnel itself when `up` loads them. */
    char *ike_cert, *ike_privkey, *ike_cacert;
} GreSettings;

GreSettings *gre_settings_new(void);
GreSettings *gre_settings_copy(const GreSettings *s);
void         gre_settings_free(GreSettings *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GreSettings, gre_settings_free)

/* A secret (key material): a GBytes that wipes its copy of @data when the last reference goes.
 * Copies made by other code (libnm and NetworkManager, GLib's GKeyFile, GTK's entry buffers,
 * stdio buffers, the kernel's SAs) are theirs to wipe, out of our control. */
GBytes *gre_secret_new(const guint8 *data, gsize len);

/* A string that may hold a secret: g_auto(GreWipedString) wipes it before freeing. */
void          gre_wipe_free(char *text);
typedef char *GreWipedString;
G_DEFINE_AUTO_CLEANUP_FREE_FUNC(GreWipedString, gre_wipe_free, NULL)

/* Outer family: that of remote (AF_UNSPEC while remote is unset). */
int gre_settings_outer_family(const GreSettings *s);

/* Helpers for addresses, shared by parsers, plan and apply. */
gboolean gre_addr_parse(const char *text, int family, GreAddr *out);
char    *gre_addr_to_string(const GreAddr *a);
gboolean gre_addr_equal(const GreAddr *a, const GreAddr *b);
gboolean gre_prefix_parse(const char *text, int family, GrePrefix *out, gboolean *had_plen);
char    *gre_prefix_to_string(const GrePrefix *p);
/* Whether @a lies inside @p. */
gboolean gre_prefix_contains(const GrePrefix *p, const GreAddr *a);
/* @p with host bits cleared. */
GrePrefix gre_prefix_network(const GrePrefix *p);
guint     gre_addr_max_plen(int family);
