/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <sys/socket.h>

#include "gre-error.h"
#include "gre-ifcfg.h"
#include "gre-plan.h"
#include "test-util.h"

/* The host facts every golden is computed with: the remote is reached via eth0. */
static void
fixed_env(int family, GrePlanEnv *env)
{
    memset(env, 0, sizeof *env);
    g_strlcpy(env->route_dev, "eth0", sizeof env->route_dev);
    g_assert_true(gre_addr_parse(family == AF_INET6 ? "2001:db8:a::fe" : "192.0.2.254", family,
                                 &env->route_gateway));
    g_assert_true(
        gre_addr_parse(family == AF_INET6 ? "2001:db8:a::5" : "192.0.2.5", family, &env->local));
    env->route_mtu = 1500;
}

static char *
render_all(const GrePlan *plan)
{
    g_autoptr(GPtrArray) up   = gre_plan_render_up(plan, FALSE);
    g_autoptr(GPtrArray) down = gre_plan_render_down(plan);
    GString *out              = g_string_new(NULL);

    g_string_append_printf(out, "# mtu %u underlay %u%s\n# up\n", plan->mtu, plan->underlay_mtu,
                           plan->pinned ? " pinned" : "");
    for (guint i = 0; i < up->len; i++)
        g_string_append_printf(out, "%s\n", (char *)up->pdata[i]);
    g_string_append(out, "# down\n");
    for (guint i = 0; i < down->len; i++)
        g_string_append_printf(out, "%s\n", (char *)down->pdata[i]);
    return g_string_free(out, FALSE);
}

static void
compare_golden(const char *name, const char *got)
{
    g_autofree char *rel    = g_strdup_printf("plan/%s.expected", name);
    g_autofree char *path   = test_data_path(rel);
    g_autofree char *expect = NULL;

    if (g_getenv("GRE_UPDATE_GOLDENS")) {
        g_assert_true(g_file_set_contents(path, got, -1, NULL));
        return;
    }
    if (!g_file_get_contents(path, &expect, NULL, NULL))
        g_error("%s missing; run with GRE_UPDATE_GOLDENS=1 and review it", path);
    if (strcmp(expect, got) != 0)
        g_error("plan for %s differs from %s:\n%s", name, path, got);
}

static void
test_examples(void)
{
    g_autofree char *dir     = test_copy_data_dir("examples");
    const char      *names[] = { "office", "branch", "pppoe", "v6", "legacy", "ike", "ike-v6" };

    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *path   = g_strdup_printf("%s/ifcfg-%s", dir, names[i]);
        g_autoptr(GError) error = NULL;
        g_autoptr(GreIfcfg) cfg = gre_ifcfg_load(path, NULL, &error);
        g_autoptr(GrePlan) plan = NULL;
        g_autofree char *text   = NULL;
        GrePlanEnv       env;

        g_assert_no_error(error);
        fixed_env(cfg->settings->remote.family, &env);
        plan = gre_plan_build(cfg->settings, &env, &error);
        g_assert_no_error(error);
        text = render_all(plan);
        compare_golden(names[i], text);
    }
}

static GrePlan *
plan_from(const char *text, const GrePlanEnv *env, GError **error)
{
    g_autoptr(GreSettings) s = test_settings(text);

    return gre_plan_build(s, env, error);
}

#define BASE_MIN                                                                                   \
    "DEVICE=t1\nPEER_OUTER_IPADDR=198.51.100.1\nMY_INNER_IPADDR=203.0.113.1/30\n"                  \
    "PEER_INNER_IPADDR=203.0.113.2\n"

/* LOCAL=auto takes the source address of the route; no route, no plan. */
static void
test_local_auto(void)
{
    GrePlanEnv env, none = { 0 };
    g_autoptr(GError) error = NULL;
    g_autoptr(GrePlan) plan = NULL;
    g_autoptr(GrePlan) bad  = NULL;
    g_autofree char *text   = NULL;

    fixed_env(AF_INET, &env);
    plan = plan_from(BASE_MIN, &env, &error);
    g_assert_no_error(error);
    text = render_all(plan);
    compare_golden("local-auto", text);
    bad = plan_from(BASE_MIN, &none, &error);
    g_assert_null(bad);
    g_assert_error(error, GRE_ERROR, GRE_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "no IPv4 route to 198.51.100.1"));
}

/* The endpoint is pinned when a tunnel route (or the inner subnet) covers it, or when asked. */
static void
test_pin(void)
{
    static const struct {
        const char *extra;
        gboolean    pinned;
    } cases[] = {
        { "", FALSE },
        { "ROUTES=198.51.100.0/24", TRUE },
        { "ROUTES=0.0.0.0/0", TRUE },
        { "ROUTES=198.51.100.128/25", FALSE },
        { "ROUTES=198.51.100.0/24\nPIN_REMOTE=no", FALSE },
        { "PIN_REMOTE=yes", TRUE },
        { "MY_INNER_IPADDR=198.51.100.2/24\nPEER_INNER_IPADDR=198.51.100.3", TRUE },
    };
    GrePlanEnv env, none = { 0 };

    fixed_env(AF_INET, &env);
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *text =
            g_strconcat(BASE_MIN, "MY_OUTER_IPADDR=192.0.2.1\n", cases[i].extra, NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(GrePlan) plan = plan_from(text, &env, &error);
        g_autoptr(GrePlan) p2   = NULL;

        g_assert_no_error(error);
        g_assert_cmpint(plan->pinned, ==, cases[i].pinned);
        if (!cases[i].pinned)
            continue;
        g_assert_cmpint(g_array_index(plan->steps, GrePlanStep, 0).kind, ==, GRE_STEP_ROUTE);
        g_assert_true(g_array_index(plan->steps, GrePlanStep, 0).route.pin);
        /* Pinning needs to know the underlay route. */
        p2 = plan_from(text, &none, &error);
        g_assert_null(p2);
        g_assert_nonnull(strstr(error->message, "must be pinned"));
    }
}

static void
test_mtu(void)
{
    GrePlanEnv env, none = { 0 };
    g_autoptr(GError) error = NULL;
    g_autoptr(GrePlan) a    = NULL;
    g_autoptr(GrePlan) b    = NULL;
    g_autoptr(GrePlan) c    = NULL;

    fixed_env(AF_INET, &env);
    env.route_mtu = 1492;
    a             = plan_from(BASE_MIN "MY_OUTER_IPADDR=192.0.2.1\n", &env, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(a->mtu, ==, 1468);
    g_assert_cmpuint(g_array_index(a->steps, GrePlanStep, 0).link.mtu, ==, 1468);
    /* An explicit MTU must fit the underlay the route really has. */
    b = plan_from(BASE_MIN "MY_OUTER_IPADDR=192.0.2.1\nMTU=1476\n", &env, &error);
    g_assert_null(b);
    g_assert_nonnull(
        strstr(error->message, "MTU 1476 does not fit: the underlay MTU is 1492 on eth0"));
    g_clear_error(&error);
    /* Without facts, 1500 is assumed and said so. */
    none.local = env.local;
    c          = plan_from(BASE_MIN, &none, &error);
    g_assert_no_error(error);
    g_assert_true(c->underlay_mtu_assumed);
    g_assert_cmpuint(c->mtu, ==, 1476);
}

/* Keys are masked unless asked for, and then printed exactly. */
static void
test_secrets(void)
{
    g_autofree char *dir        = test_copy_data_dir("examples");
    g_autofree char *path       = g_strdup_printf("%s/ifcfg-branch", dir);
    g_autofree char *keys       = g_strdup_printf("%s/keys-branch", dir);
    g_autofree char *ktext      = NULL;
    g_autoptr(GError) error     = NULL;
    g_autoptr(GreIfcfg) cfg     = gre_ifcfg_load(path, NULL, &error);
    g_autoptr(GrePlan) plan     = NULL;
    g_autoptr(GPtrArray) masked = NULL, shown = NULL;
    g_autofree char *m = NULL, *s = NULL;
    GrePlanEnv       env;
    char            *key_out;

    g_assert_no_error(error);
    fixed_env(AF_INET, &env);
    plan   = gre_plan_build(cfg->settings, &env, &error);
    masked = gre_plan_render_up(plan, FALSE);
    shown  = gre_plan_render_up(plan, TRUE);
    g_ptr_array_add(masked, NULL);
    g_ptr_array_add(shown, NULL);
    m = g_strjoinv("\n", (char **)masked->pdata);
    s = g_strjoinv("\n", (char **)shown->pdata);
    g_assert_true(g_file_get_contents(keys, &ktext, NULL, NULL));
    key_out                         = strstr(ktext, "KEY_ESP_OUT=") + strlen("KEY_ESP_OUT=");
    key_out[strcspn(key_out, "\n")] = '\0';
    g_assert_null(strstr(m, key_out + 2));
    g_assert_nonnull(strstr(m, "<secret:32-bytes>"));
    g_assert_nonnull(strstr(s, key_out));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/plan/examples", test_examples);
    g_test_add_func("/plan/local-auto", test_local_auto);
    g_test_add_func("/plan/pin", test_pin);
    g_test_add_func("/plan/mtu", test_mtu);
    g_test_add_func("/plan/secrets", test_secrets);
    return g_test_run();
}
