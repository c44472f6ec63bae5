/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-nm-plan.h"

gboolean
gre_nm_plan_step_is_tunnel(const GrePlanStep *step)
{
    switch (step->kind) {
    case GRE_STEP_XFRM_STATE:
    case GRE_STEP_XFRM_POLICY:
    case GRE_STEP_LINK:
    case GRE_STEP_LINK_UP:
    case GRE_STEP_IKE_SHARED:
    case GRE_STEP_IKE_CONN:
    case GRE_STEP_IKE_CA:
    case GRE_STEP_IKE_KEY:
        return TRUE;
    case GRE_STEP_ROUTE:
        /* The pin goes via the underlay, which NetworkManager does not hand to us. */
        return step->route.pin;
    case GRE_STEP_ADDR:
        return FALSE;
    }
    g_return_val_if_reached(FALSE);
}

void
gre_nm_plan_tunnel_only(GrePlan *plan)
{
    for (guint i = plan->steps->len; i > 0; i--) {
        if (!gre_nm_plan_step_is_tunnel(&g_array_index(plan->steps, GrePlanStep, i - 1)))
            g_array_remove_index(plan->steps, i - 1);
    }
}
