/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ownership record: what `up` writes before touching the kernel, and what `down` trusts. */
#include <glib/gstdio.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "gre-ifcfg.h"
#include "gre-plan.h"
#include "gre-state.h"
#include "test-util.h"

static GrePlan *
example_plan(const char *dir, const char *name)
{
    g_autofree char *path   = g_strdup_printf("%s/ifcfg-%s", dir, name);
    g_autoptr(GError) error = NULL;
    g_autoptr(GreIfcfg) cfg = gre_ifcfg_load(path, NULL, &error);
    GrePlanEnv env          = { 0 };

    g_assert_no_error(error);
    g_strlcpy(env.route_dev, "eth0", sizeof env.route_dev);
    env.route_mtu = 1500;
    g_assert_true(
        gre_addr_parse(cfg->settings->remote.family == AF_INET6 ? "2001:db8:a::fe" : "192.0.2.254",
                       AF_UNSPEC, &env.route_gateway));
    return gre_plan_build(cfg->settings, &env, &error);
}

static void
test_round_trip(void)
{
    g_autofree char *ex      = test_copy_data_dir("examples");
    g_autofree char *state   = g_dir_make_tmp("gre-state-XXXXXX", NULL);
    const char      *names[] = { "office", "branch", "pppoe", "v6", "legacy" };

    g_setenv("GRE_TUNNEL_STATE_DIR", state, TRUE);
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autoptr(GrePlan) plan        = example_plan(ex, names[i]);
        g_autoptr(GreStateRecord) rec  = gre_state_record_from_plan(plan);
        g_autoptr(GreStateRecord) back = NULL;
        g_autoptr(GError) error        = NULL;
        g_autofree char *path          = g_strdup_printf("%s/%s.state", state, plan->name);
        g_autofree char *text          = NULL;
        struct stat      st;

        g_assert_cmpuint(rec->lines->len, ==, plan->steps->len);
        g_assert_true(gre_state_write(rec, &error));
        g_assert_no_error(error);
        g_assert_true(gre_state_exists(plan->name));
        g_assert_cmpint(stat(path, &st), ==, 0);
        g_assert_cmpint(st.st_mode & 0777, ==, 0600);

        /* No key material in the record, only a hash of it. */
        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        for (guint s = 0; s < plan->steps->len; s++) {
            const GrePlanStep *step = &g_array_index(plan->steps, GrePlanStep, s);
            if (step->kind == GRE_STEP_XFRM_STATE) {
                g_autofree char *hex = NULL;
                gsize            n;
                const guint8    *d = g_bytes_get_data(step->state.enc_key, &n);
                GString         *h = g_string_new(NULL);
                for (gsize k = 0; k < n; k++)
                    g_string_append_printf(h, "%02x", d[k]);
                hex = g_string_free(h, FALSE);
                g_assert_null(strstr(text, hex));
            }
        }

        back = gre_state_read(plan->name, &error);
        g_assert_no_error(error);
        g_assert_nonnull(back);
        g_assert_cmpstr(back->secrets, ==, rec->secrets);
        g_assert_cmpuint(back->lines->len, ==, rec->lines->len);
        for (guint l = 0; l < rec->lines->len; l++) {
            g_autofree char *again =
                gre_state_step_line(&g_array_index(back->steps, GrePlanStep, l));
            g_assert_cmpstr(back->lines->pdata[l], ==, rec->lines->pdata[l]);
            /* The parsed step describes the same object. */
            g_assert_cmpstr(again, ==, rec->lines->pdata[l]);
        }
        g_assert_true(gre_state_delete(plan->name, &error));
        g_assert_false(gre_state_exists(plan->name));
        g_assert_true(gre_state_delete(plan->name, &error)); /* already gone: fine */
    }
    g_unsetenv("GRE_TUNNEL_STATE_DIR");
    test_remove_dir(ex);
    test_remove_dir(state);
}

/* A change of keys (only) changes the hash, so `up` knows to recreate the tunnel. */
static void
test_secrets_hash(void)
{
    g_autofree char *ex     = test_copy_data_dir("examples");
    g_autoptr(GrePlan) a    = example_plan(ex, "branch");
    g_autoptr(GrePlan) b    = example_plan(ex, "branch");
    g_autoptr(GrePlan) none = example_plan(ex, "office");
    g_autofree char *ha = gre_state_secrets_hash(a), *hb = NULL, *hn = gre_state_secrets_hash(none);
    GrePlanStep     *st        = &g_array_index(b->steps, GrePlanStep, 0);
    guint8           other[36] = { 1 };

    g_assert_cmpint(st->kind, ==, GRE_STEP_XFRM_STATE);
    g_bytes_unref(st->state.enc_key);
    st->state.enc_key = gre_secret_new(other, sizeof other);
    hb                = gre_state_secrets_hash(b);
    g_assert_true(g_str_has_prefix(ha, "sha256:"));
    g_assert_cmpstr(ha, !=, hb);
    g_assert_cmpstr(hn, ==, "none");
    test_remove_dir(ex);
}

/* A damaged record is an error that names the file, not a crash or a guess. */
static void
test_damaged(void)
{
    g_autofree char *state        = g_dir_make_tmp("gre-state-XXXXXX", NULL);
    g_autofree char *path         = g_build_filename(state, "gre9.state", NULL);
    g_autoptr(GError) error       = NULL;
    g_autoptr(GreStateRecord) rec = NULL;

    g_setenv("GRE_TUNNEL_STATE_DIR", state, TRUE);
    g_assert_true(g_file_set_contents(path, "garbage\nlink name=\n", -1, NULL));
    g_chmod(path, 0600);
    rec = gre_state_read("gre9", &error);
    g_assert_null(rec);
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "gre9.state"));
    g_unlink(path);
    g_clear_error(&error);
    g_assert_null(gre_state_read("gre9", &error));
    g_assert_no_error(error);
    g_unsetenv("GRE_TUNNEL_STATE_DIR");
    test_remove_dir(state);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/state/round-trip", test_round_trip);
    g_test_add_func("/state/secrets-hash", test_secrets_hash);
    g_test_add_func("/state/damaged", test_damaged);
    return g_test_run();
}
