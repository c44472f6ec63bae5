/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "gre-plan.h"

/*
 * The ownership record: /run/gre-tunnel/NAME.state (the directory is $GRE_TUNNEL_STATE_DIR when
 * set, for tests). `up` writes it before its first change to the kernel and lists every object it
 * is about to create, one canonical line per plan step, with the attributes that identify the
 * object; `down` removes exactly those objects, and only while they still match. A crash in the
 * middle of `up` therefore leaves a record that says what may be left over.
 *
 * The record holds no key material: only a SHA-256 over the keys, so that a re-`up` can tell
 * whether they changed. The file is mode 0600 and replaced atomically.
 */

#define GRE_STATE_DIR_DEFAULT "/run/gre-tunnel"

typedef struct {
    char       name[GRE_IFNAMSIZ];
    char      *secrets; /* "sha256:HEX", or "none" for a tunnel without IPsec */
    GPtrArray *lines;   /* of char *: one canonical line per step, in creation order */
    GArray    *steps;   /* of GrePlanStep parsed from @lines; keys are always NULL */
} GreStateRecord;

void gre_state_record_free(GreStateRecord *rec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GreStateRecord, gre_state_record_free)

/* The record a plan will leave once applied. */
GreStateRecord *gre_state_record_from_plan(const GrePlan *plan);

/* One step as a record line: "link name=gre1 kind=gre local=... mtu=1430". No secrets. */
char *gre_state_step_line(const GrePlanStep *step);
/* "sha256:HEX" over every key (with its SPI) of the plan's ESP states; "none" without any. */
char *gre_state_secrets_hash(const GrePlan *plan);

char    *gre_state_dir(void);
gboolean gre_state_exists(const char *name);
gboolean gre_state_write(const GreStateRecord *rec, GError **error);
/* NULL and no error when @name has no record. */
GreStateRecord *gre_state_read(const char *name, GError **error);
/* Removing a record that does not exist is not an error. */
gboolean gre_state_delete(const char *name, GError **error);
/* The names that have a record, sorted. */
GPtrArray *gre_state_list(GError **error);

/* Serialises `up`/`down`/`status` of one tunnel between processes: returns a file descriptor
 * holding an exclusive lock (close it to release), or -1 with @error set. Blocks while another
 * process holds it. */
int gre_state_lock(const char *name, GError **error);
