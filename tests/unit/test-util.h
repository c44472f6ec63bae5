/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

#include "gre-settings-table.h"

/* Settings from "KEY=value" lines in ifcfg naming, through the same table the parsers use. */
GreSettings *test_settings_from_text(const char *text, GError **error);
/* Asserts success. */
GreSettings *test_settings(const char *text);
/* A readable dump of every key that is not at its default, "KEY=value\n" each. */
char *test_settings_dump(const GreSettings *s);
/* Path of a file below the source tree's tests/data. */
char *test_data_path(const char *rel);
/* A fresh temporary copy of tests/data/SUB, keys files at mode 0600 (git keeps no modes). */
char *test_copy_data_dir(const char *sub);
void  test_remove_dir(const char *path);
/* For a bad-input case DIR/NAME (a copy of tests/data/bad): the message it must give, from its
 * first line "# expect: ...", with {f} replaced by its path and {k} by its keys file's path. */
char *test_bad_expectation(const char *dir, const char *name);
