/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "gre-settings.h"

/*
 * ESP suites for GRE-only IPsec: the kernel algorithm names, key sizes and the figures the
 * kernel's xfrm_state_mtu() uses, so that MTU and plan agree with what the kernel does.
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
} GreSuiteInfo;

const GreSuiteInfo *gre_suite_info(GreSuite id);
const GreSuiteInfo *gre_suite_lookup(const char *name);
/* "aes128gcm16, aes256gcm16, ..." for help and error texts. */
const char *gre_suite_names(void);
