/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "gre-settings.h"

/*
 * ESP suites for GRE-only IPsec: the kernel algorithm names, key sizes and the figures the
 * kernel's xfrm_state_mtu() uses, so that MTU and plan agree with what the kernel does, and
 * which keying each suite is safe with.
 */
typedef struct {
    GreSuite    id;
    const char *name;        /* as written in settings, e.g. "aes256gcm16" */
    const char *description; /* for help text */
    const char *aead;        /* kernel AEAD name, or NULL for cipher + HMAC */
    const char *enc;         /* kernel cipher name when not AEAD */
    const char *auth;        /* kernel HMAC name when not AEAD */
    guint       enc_key_len; /* bytes, including the 4-byte salt of AEAD suites */
    guint       auth_key_len;
    guint       icv_len; /* bytes of integrity check value (AEAD ICV or truncated HMAC) */
    guint       iv_len;
    guint       block_len; /* cipher block size; the kernel aligns it up to 4 */
    /* Safe with static (manual) keys. Counter-mode AEAD suites are not: their nonce comes from
     * the SA's packet counter, which starts again at 1 whenever the SA is added again, while a
     * static key outlives every SA made with it, so nonces repeat under one key. */
    gboolean    static_keys;
    const char *spec; /* the RFC defining the suite for ESP, for messages */
} GreSuiteInfo;

/* The default IPSEC_SUITE before it became one that is safe with static keys: a file written for
 * it has 36-byte keys and no IPSEC_SUITE line, and is told what to write now. */
#define GRE_SUITE_FORMER_DEFAULT GRE_SUITE_AES256_GCM16

const GreSuiteInfo *gre_suite_info(GreSuite id);
const GreSuiteInfo *gre_suite_lookup(const char *name);
/* "aes128gcm16, aes256gcm16, ..." for help and error texts. */
const char *gre_suite_names(void);
/* Whether @suite may be used with keying @mode (with none, nothing is keyed: any suite). The one
 * rule every front end applies: parsers through validation, editors through their lists. */
gboolean gre_suite_allowed(const GreSuiteInfo *suite, GreIpsecMode mode);
/* The names of the suites allowed with @mode, as gre_suite_names() lists them. */
const char *gre_suite_names_for(GreIpsecMode mode);

/* DH groups for IKE_ESP_DH: those strongSwan and libreswan both know by these names. */
gboolean    gre_dh_group_known(const char *name);
const char *gre_dh_group_names(void);
