/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "gre-state.h"

/*
 * The watchdog of nm-gre-service: a second process (the same program, run with --watchdog)
 * that holds the read end of a pipe whose only write end the service holds. When the service
 * ends in any way, SIGKILL included, the kernel closes that end, the watchdog reads end-of-file
 * and removes, as `down` does, every tunnel whose record the service owned. A service that
 * took its tunnel down itself has left nothing to remove.
 */

#define GRE_NM_SERVICE_PROGRAM "nm-gre-service"
#define GRE_NM_WATCHDOG_FD 3

/* Starts the watchdog of this process (@owner) once; later calls do nothing. @exited is called
 * should the watchdog end while this process runs. */
gboolean gre_nm_watchdog_start(const GreStateOwner *owner, GChildWatchFunc exited, GError **error);

/* In the watchdog: detaches from the service's session and signals, then waits until the
 * service named by @arg ("PID:START") is gone. Returns that owner, or NULL and @error when @arg
 * or the inherited descriptor is not what the service passes. */
GreStateOwner *gre_nm_watchdog_wait(const char *arg, GError **error);
