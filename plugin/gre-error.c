/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-error.h"

G_DEFINE_QUARK(gre - error - quark, gre_error)
