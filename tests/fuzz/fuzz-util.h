/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * What every harness shares: a private directory for the files a reader takes by path, a fixed
 * host for the plan (so that no harness asks the kernel), and the last step of the path from bytes
 * to ip(8) lines, with the invariants every plan must keep.
 */
#include <stddef.h>
#include <stdint.h>

#include "gre-plan.h"

/* The separator between the parts of a two-part input (ifcfg and keys, file A and file B). */
#define FUZZ_SEPARATOR "\n%%\n"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Once per process: criticals and warnings abort (they are bugs), and the directory exists. */
void        fuzz_init(void);
const char *fuzz_dir(void);

/* Writes @len bytes to fuzz_dir()/@name with @mode; returns the path (static until the next call
 * with the same @name is not promised: copy it). */
char *fuzz_write(const char *name, const void *data, size_t len, int mode);
void  fuzz_remove(const char *name);

/* Splits @data at the first FUZZ_SEPARATOR: *second is NULL when there is none. */
void fuzz_split(const uint8_t *data, size_t size, const uint8_t **second, size_t *first_len,
                size_t *second_len);

/* Plans @s on a host whose route to the remote goes through eth0 (MTU 1500) from an address of
 * the remote's family, renders the plan up (masked and with secrets) and down, and checks what
 * must hold for any plan. Returns the masked up lines joined (for round-trip comparisons), or NULL
 * when the plan is refused. */
char *fuzz_plan_render(const GreSettings *s, GrePlan **plan_out);
