/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

/* Every failure a user can see carries one of these codes; the CLI maps them to exit codes. */
#define GRE_ERROR (gre_error_quark())
GQuark gre_error_quark(void);

typedef enum {
    GRE_ERROR_PARSE,      /* a settings source is not well-formed (syntax) */
    GRE_ERROR_INVALID,    /* well-formed, but a value or combination is not allowed */
    GRE_ERROR_PERMISSION, /* a secrets file is readable by others, or owned by someone else */
    GRE_ERROR_IO,         /* a file could not be read or written */
    GRE_ERROR_MISMATCH,   /* two ends of a tunnel do not mirror each other */
    GRE_ERROR_KERNEL,     /* the kernel refused or reported something */
} GreErrorCode;

/* @text made safe to show on a terminal or in syslog: messages quote what a file held, and a
 * file may hold anything. Control characters (other than newline and tab) and bytes that are
 * not UTF-8 become \xHH; a line longer than GRE_ERROR_DISPLAY_LINE bytes keeps its start and
 * end around a note of how much was left out. Free the result. */
#define GRE_ERROR_DISPLAY_LINE 1024
char *gre_error_display(const char *text);
