/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "gre-settings.h"

/*
 * The settings table: one row per key, naming it once for every front end. Parsers (ifcfg,
 * NetworkManager vpn.data, ifupdown), validation messages, export, editors and man pages all
 * read these rows; adding an option means adding a row and the code that uses the value.
 */

typedef enum {
    GRE_KT_IFNAME,     /* interface name */
    GRE_KT_OUTER_ADDR, /* outer address, any family; "auto" allowed where the default is auto */
    GRE_KT_ADDR4,      /* IPv4 address */
    GRE_KT_ADDR6,      /* IPv6 address */
    GRE_KT_PREFIX4,    /* IPv4 address with optional /plen */
    GRE_KT_PREFIX6,    /* IPv6 address with optional /plen */
    GRE_KT_ROUTES,     /* "PREFIX [metric N] PREFIX ..." */
    GRE_KT_PIN,        /* auto | yes | no */
    GRE_KT_GREKEY,     /* number or dotted quad */
    GRE_KT_BOOL,       /* yes | no */
    GRE_KT_TTL,        /* inherit | 1..255 */
    GRE_KT_TOS,        /* inherit | 0..255 */
    GRE_KT_ENCAPLIMIT, /* none | 0..255 */
    GRE_KT_MTU,        /* auto | 68..65535 */
    GRE_KT_IPSEC,      /* none | manual | ike */
    GRE_KT_SUITE,      /* a name from gre-suite.h */
    GRE_KT_SPI,        /* 256..2^32-1, decimal or 0x hex */
    GRE_KT_HEXKEY,     /* secret: hex bytes, optional 0x */
    GRE_KT_PSK,        /* secret: text, stored as its bytes */
    GRE_KT_IKE_ID,     /* IKE identity: address, FQDN, user@FQDN or a DN */
    GRE_KT_PROPOSAL,   /* strongSwan proposal list: alg-alg-...,alg-... */
    GRE_KT_DHGROUP,    /* a DH group name such as ecp256 */
    GRE_KT_SECONDS,    /* N, Ns, Nm or Nh; stored as seconds */
    GRE_KT_PATH,       /* absolute path of a unix socket */
    GRE_KT_IKE_AUTH,   /* psk | cert */
    GRE_KT_FILE,       /* absolute path of a file we read (certificate, private key) */
} GreKeyType;

typedef enum {
    GRE_KEY_DEVICE,
    GRE_KEY_LOCAL,
    GRE_KEY_REMOTE,
    GRE_KEY_UNDERLAY,
    GRE_KEY_INNER4,
    GRE_KEY_INNER4_PEER,
    GRE_KEY_INNER6,
    GRE_KEY_INNER6_PEER,
    GRE_KEY_ROUTES,
    GRE_KEY_LOCAL_NETWORKS,
    GRE_KEY_PIN,
    GRE_KEY_KEY,
    GRE_KEY_IKEY,
    GRE_KEY_OKEY,
    GRE_KEY_SEQ,
    GRE_KEY_CSUM,
    GRE_KEY_TTL,
    GRE_KEY_TOS,
    GRE_KEY_PMTUDISC,
    GRE_KEY_ENCAPLIMIT,
    GRE_KEY_MTU,
    GRE_KEY_UNDERLAY_MTU,
    GRE_KEY_IPSEC,
    GRE_KEY_SUITE,
    GRE_KEY_SPI_IN,
    GRE_KEY_SPI_OUT,
    GRE_KEY_ENC_KEY_IN,
    GRE_KEY_ENC_KEY_OUT,
    GRE_KEY_AUTH_KEY_IN,
    GRE_KEY_AUTH_KEY_OUT,
    GRE_KEY_IKE_PSK,
    GRE_KEY_IKE_LOCAL_ID,
    GRE_KEY_IKE_REMOTE_ID,
    GRE_KEY_IKE_PROPOSALS,
    GRE_KEY_IKE_ESP_DH,
    GRE_KEY_IKE_REKEY_TIME,
    GRE_KEY_IKE_DPD_DELAY,
    GRE_KEY_IKE_VICI_SOCKET,
    GRE_KEY_IKE_AUTH,
    GRE_KEY_IKE_CERT,
    GRE_KEY_IKE_PRIVKEY,
    GRE_KEY_IKE_CACERT,
    GRE_KEY_COUNT,
} GreKeyId;

/* Which front end's names to use when talking about a key. */
typedef enum {
    GRE_STYLE_IFCFG,
    GRE_STYLE_NM,
    GRE_STYLE_IFUPDOWN,
} GreKeyStyle;

/* How a key relates to the same key at the other end of the tunnel (mirror and check). */
typedef enum {
    GRE_MIRROR_SAME,      /* both ends must agree */
    GRE_MIRROR_SAME_WARN, /* both ends should agree; a difference is a warning */
    GRE_MIRROR_SWAP,      /* this end's value is the peer's value of the partner key */
    GRE_MIRROR_COPY,      /* copied to the peer as a starting point, never compared */
    GRE_MIRROR_LOCAL,     /* describes this host only: not copied, not compared */
} GreMirrorKind;

typedef struct {
    GreKeyId    id;
    GreKeyType  type;
    const char *ifcfg; /* variable in ifcfg-NAME (secrets: in keys-NAME) */
    const char *nm;    /* key in NetworkManager vpn.data (secrets: vpn.secrets) */
    const char
        *ifupdown;       /* option in an /etc/network/interfaces stanza; NULL: not settable there */
    const char   *def;   /* default as text; NULL: unset unless given */
    const char   *range; /* accepted values; read it through gre_key_range() */
    gboolean      secret;
    gboolean      required;
    const char   *help; /* one line */
    GreMirrorKind mirror;
    GreKeyId      partner; /* for GRE_MIRROR_SWAP */
    /* Default with IPSEC=ike where it differs from def (NULL: def); read it through
     * gre_key_default(), the one place a mode-dependent default is resolved. */
    const char *def_ike;
} GreKeyInfo;

const GreKeyInfo *gre_key_info(GreKeyId id);
gboolean          gre_parse_bool(const char *text, gboolean *out);
const GreKeyInfo *gre_key_lookup(GreKeyStyle style, const char *name);
const char       *gre_key_name(const GreKeyInfo *key, GreKeyStyle style);
/* The default of @key for the keying mode of @s (@s NULL: the mode-independent default). */
const char *gre_key_default(const GreKeyInfo *key, const GreSettings *s);
/* A text key's value in @s, or its default (gre_key_default()) when unset. */
const char *gre_key_text(GreKeyId id, const GreSettings *s);
/* Accepted values, for help texts and man pages. */
const char *gre_key_range(const GreKeyInfo *key);

/* Parse @text for @key into @s. The error message is just the reason (no source or key name):
 * the caller knows where the text came from and prefixes it. */
gboolean gre_key_set(const GreKeyInfo *key, GreSettings *s, const char *text, GError **error);
/* The value of @key in @s as text that gre_key_set() accepts; NULL when the key is unset or
 * covered by another key (IKEY/OKEY when both equal KEY). */
char *gre_key_get(const GreKeyInfo *key, const GreSettings *s);
/* Whether gre_key_get() would return the default (or nothing). */
gboolean gre_key_is_default(const GreKeyInfo *key, const GreSettings *s);

/* Defaults that depend on the keying mode (IPSEC_SUITE) are resolved here, once the mode is
 * known, for the keys not in @given (indexed by GreKeyId): every reader calls it last, so no
 * front end special-cases them. */
void gre_settings_resolve_defaults(GreSettings *s, const gboolean given[GRE_KEY_COUNT]);

/* Reads every key from a lookup function; error messages come out as
 * "LOCATION: NAME: reason", where LOCATION is what @locate returns for the key. */
typedef const char *(*GreKeyGetFunc)(const char *name, gpointer user_data);
typedef char *(*GreKeyLocateFunc)(const GreKeyInfo *key, gpointer user_data);
GreSettings *gre_settings_from_lookup(GreKeyStyle style, GreKeyGetFunc get, GreKeyLocateFunc locate,
                                      gpointer user_data, GError **error);
