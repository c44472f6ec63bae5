/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "gre-shvar.h"

/*
 * Changing a few assignments of a shell-variable file that is the user's: every other byte
 * (lines, comments, order, blanks) stays as it was.
 */

/* @text with each @keys[i] set to @values[i] (NULL-terminated, same length): the value of the
 * assignment in effect (the last one) is replaced where it stands, keeping the line's indent and
 * whatever follows the value (blanks, a comment); a key without an assignment is appended as a
 * line of its own. @parsed is what gre_shvar_file_parse() read from @text. Values are quoted as
 * needed here. */
char *gre_shvar_edit(const char *text, gsize len, const GreShvarFile *parsed,
                     const char *const *keys, const char *const *values);
