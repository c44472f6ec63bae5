/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "gre-plan.h"

/*
 * Under NetworkManager the work is split: the service creates the tunnel itself (IPsec states
 * and policies, the route that pins the outer remote to the underlay, the link, link up), while
 * the inner addresses and routes are reported to NetworkManager, which owns everything on the
 * tunnel device and would remove what it did not add.
 */

/* Whether the service creates @step itself. */
gboolean gre_nm_plan_step_is_tunnel(const GrePlanStep *step);

/* Removes from @plan every step that NetworkManager configures instead (inner addresses and the
 * routes over the tunnel); the order of the rest is kept. */
void gre_nm_plan_tunnel_only(GrePlan *plan);
