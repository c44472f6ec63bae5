/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ownership record: what `up` writes before touching the kernel, and what `down` trusts. */
#include <glib/gstdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gre-apply.h"
#include "gre-error.h"
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

/* This namespace's record directory under @state, worked out here and not by the code under test:
 * netns-COOKIE with the socket option, else netns-ino-INO. */
static char *
netns_dir(const char *state)
{
    guint64     cookie = 0;
    socklen_t   len    = sizeof cookie;
    int         fd     = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct stat st;

    g_assert_cmpint(fd, >=, 0);
    if (getsockopt(fd, SOL_SOCKET, 71 /* SO_NETNS_COOKIE */, &cookie, &len) < 0)
        cookie = 0;
    close(fd);
    if (cookie)
        return g_strdup_printf("%s/netns-%" G_GUINT64_FORMAT, state, cookie);
    g_assert_cmpint(stat("/proc/self/ns/net", &st), ==, 0);
    return g_strdup_printf("%s/netns-ino-%" G_GUINT64_FORMAT, state, (guint64)st.st_ino);
}

static void
test_round_trip(void)
{
    g_autofree char *ex      = test_copy_data_dir("examples");
    g_autofree char *state   = g_dir_make_tmp("gre-state-XXXXXX", NULL);
    const char      *names[] = { "office", "branch", "pppoe", "v6", "legacy", "ike", "ike-v6" };

    g_setenv("GRE_TUNNEL_STATE_DIR", state, TRUE);
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autoptr(GrePlan) plan        = example_plan(ex, names[i]);
        g_autoptr(GreStateRecord) rec  = gre_state_record_from_plan(plan);
        g_autoptr(GreStateRecord) back = NULL;
        g_autoptr(GError) error        = NULL;
        g_autofree char *nsdir         = netns_dir(state);
        g_autofree char *path          = g_strdup_printf("%s/%s.state", nsdir, plan->name);
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
            if (step->kind == GRE_STEP_IKE_SHARED) {
                gsize            n;
                const char      *d   = g_bytes_get_data(step->ike_shared.psk, &n);
                g_autofree char *psk = g_strndup(d, n);

                g_assert_null(strstr(text, psk));
            }
        }

        back = gre_state_read(plan->name, &error);
        g_assert_no_error(error);
        g_assert_nonnull(back);
        g_assert_cmpstr(back->secrets, ==, rec->secrets);
        /* IPSEC=ike: `down` finds the daemon and the names it unloads in the record. */
        for (guint l = 0; l < plan->steps->len; l++) {
            const GrePlanStep *want = &g_array_index(plan->steps, GrePlanStep, l);
            const GrePlanStep *got  = &g_array_index(back->steps, GrePlanStep, l);

            g_assert_cmpint(got->kind, ==, want->kind);
            if (want->kind == GRE_STEP_IKE_CONN) {
                g_assert_cmpstr(got->ike_conn.name, ==, want->ike_conn.name);
                g_assert_cmpstr(got->ike_conn.socket, ==, want->ike_conn.socket);
            } else if (want->kind == GRE_STEP_IKE_SHARED) {
                g_assert_cmpstr(got->ike_shared.name, ==, want->ike_shared.name);
                g_assert_cmpstr(got->ike_shared.socket, ==, want->ike_shared.socket);
            } else if (want->kind == GRE_STEP_XFRM_POLICY) {
                /* IPSEC=ike's block policies: `down` must name them with their mark. */
                g_assert_cmpint(got->policy.block, ==, want->policy.block);
                g_assert_cmpuint(got->policy.mark, ==, want->policy.mark);
                g_assert_cmpuint(got->policy.mark_mask, ==, want->policy.mark_mask);
                g_assert_cmpuint(got->policy.priority, ==, want->policy.priority);
            }
        }
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

/* The file a tunnel came from is kept (down --all DIR works from it): absolute, its directory's
 * symbolic links resolved; a record without one (NetworkManager, earlier versions) reads back
 * without one, and a name with a line break is not kept. */
static void
test_source(void)
{
    g_autofree char *ex        = test_copy_data_dir("examples");
    g_autofree char *state     = g_dir_make_tmp("gre-state-XXXXXX", NULL);
    g_autofree char *link      = g_build_filename(state, "scripts", NULL);
    g_autofree char *via       = g_build_filename(link, "ifcfg-office", NULL);
    g_autofree char *want      = g_build_filename(ex, "ifcfg-office", NULL);
    g_autofree char *real      = realpath(want, NULL);
    const char      *sources[] = { via, NULL, "/etc/x\nsource=/tmp/ifcfg-x" };

    g_setenv("GRE_TUNNEL_STATE_DIR", state, TRUE);
    g_assert_cmpint(symlink(ex, link), ==, 0);
    for (guint i = 0; i < G_N_ELEMENTS(sources); i++) {
        g_autoptr(GrePlan) plan        = example_plan(ex, "office");
        g_autoptr(GreStateRecord) rec  = gre_state_record_from_plan(plan);
        g_autoptr(GreStateRecord) back = NULL;
        g_autoptr(GError) error        = NULL;

        g_assert_null(rec->source);
        rec->source =
            sources[i] && i == 0 ? gre_state_source_path(sources[i]) : g_strdup(sources[i]);
        if (i == 0)
            g_assert_cmpstr(rec->source, ==, real);
        g_assert_true(gre_state_write(rec, &error));
        back = gre_state_read(plan->name, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(back->source, ==, i == 0 ? real : NULL);
        g_assert_true(gre_state_delete(plan->name, &error));
    }
    g_unsetenv("GRE_TUNNEL_STATE_DIR");
    g_assert_cmpint(unlink(link), ==, 0);
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

/* IPSEC=ike: a new IKE_PSK changes the hash too, so `up` reloads the key. */
static void
test_secrets_hash_ike(void)
{
    g_autofree char *ex  = test_copy_data_dir("examples");
    g_autoptr(GrePlan) a = example_plan(ex, "ike");
    g_autoptr(GrePlan) b = example_plan(ex, "ike");
    g_autofree char *ha = gre_state_secrets_hash(a), *hb = NULL;
    GrePlanStep     *sh = NULL;

    /* After the block policies (gre-plan.c). */
    for (guint i = 0; i < b->steps->len && !sh; i++) {
        if (g_array_index(b->steps, GrePlanStep, i).kind == GRE_STEP_IKE_SHARED)
            sh = &g_array_index(b->steps, GrePlanStep, i);
    }
    g_assert_nonnull(sh);
    g_assert_true(g_str_has_prefix(ha, "sha256:"));
    g_bytes_unref(sh->ike_shared.psk);
    sh->ike_shared.psk = gre_secret_new((const guint8 *)"another-pre-shared-key", 22);
    hb                 = gre_state_secrets_hash(b);
    g_assert_cmpstr(ha, !=, hb);
    test_remove_dir(ex);
}

/* IKE_AUTH=cert: the CA, the key and the connection's certificate are recorded with their
 * files; the key's id, known once charon loaded it, is added to its line and read back, since
 * `down` needs it for unload-key. */
static void
test_ike_cert(void)
{
    g_autofree char *state         = g_dir_make_tmp("gre-state-XXXXXX", NULL);
    g_autoptr(GreSettings) s       = test_settings("DEVICE=gre5\nPEER_OUTER_IPADDR=192.0.2.2\n"
                                                         "MY_OUTER_IPADDR=192.0.2.1\nIPSEC=ike\n"
                                                         "IKE_AUTH=cert\nIKE_CERT=/etc/gre/a.crt\n"
                                                         "IKE_PRIVKEY=/etc/gre/a.key\n"
                                                         "IKE_CACERT=/etc/gre/ca.crt\n");
    GrePlanEnv env                 = { .route_mtu = 1500 };
    g_autoptr(GError) error        = NULL;
    g_autoptr(GrePlan) plan        = gre_plan_build(s, &env, &error);
    g_autoptr(GreStateRecord) rec  = NULL;
    g_autoptr(GreStateRecord) back = NULL;
    GrePlanStep *key;
    guint        i = 0;

    g_assert_no_error(error);
    g_setenv("GRE_TUNNEL_STATE_DIR", state, TRUE);
    rec = gre_state_record_from_plan(plan);
    /* The fail-closed block policies come first; the credentials follow in this order. */
    while (i < rec->lines->len && !g_str_has_prefix(rec->lines->pdata[i], "ike-"))
        i++;
    g_assert_cmpuint(i + 3, <=, rec->lines->len);
    g_assert_cmpstr(rec->lines->pdata[i], ==,
                    "ike-ca name=gre-gre5 socket=/run/charon.vici file=/etc/gre/ca.crt");
    g_assert_cmpstr(rec->lines->pdata[i + 1], ==,
                    "ike-key name=gre-gre5 socket=/run/charon.vici file=/etc/gre/a.key");
    g_assert_cmpstr(rec->lines->pdata[i + 2], ==,
                    "ike-conn name=gre-gre5 socket=/run/charon.vici cert=/etc/gre/a.crt");
    g_assert_cmpstr(rec->secrets, ==, "none");
    key = &g_array_index(rec->steps, GrePlanStep, i + 1);
    g_strlcpy(key->ike_cred.keyid, "5e54490c28990f1a427ef841aed83ceb452a6469",
              sizeof key->ike_cred.keyid);
    g_free(rec->lines->pdata[i + 1]);
    rec->lines->pdata[i + 1] = gre_state_step_line(key);
    g_assert_true(gre_state_write(rec, &error));
    back = gre_state_read("gre5", &error);
    g_assert_no_error(error);
    for (guint l = 0; l < rec->lines->len; l++) {
        g_autofree char *again = gre_state_step_line(&g_array_index(back->steps, GrePlanStep, l));

        g_assert_cmpstr(again, ==, rec->lines->pdata[l]);
    }
    g_assert_cmpstr(g_array_index(back->steps, GrePlanStep, i + 1).ike_cred.keyid, ==,
                    "5e54490c28990f1a427ef841aed83ceb452a6469");
    g_assert_true(g_array_index(back->steps, GrePlanStep, i + 2).ike_conn.cert);
    g_assert_true(gre_state_delete("gre5", &error));
    g_unsetenv("GRE_TUNNEL_STATE_DIR");
    test_remove_dir(state);
}

/* A damaged record is an error that names the file, not a crash or a guess. */
static void
test_damaged(void)
{
    g_autofree char *state        = g_dir_make_tmp("gre-state-XXXXXX", NULL);
    g_autofree char *nsdir        = netns_dir(state);
    g_autofree char *path         = g_build_filename(nsdir, "gre9.state", NULL);
    g_autoptr(GError) error       = NULL;
    g_autoptr(GreStateRecord) rec = NULL;

    g_setenv("GRE_TUNNEL_STATE_DIR", state, TRUE);
    g_assert_cmpint(g_mkdir(nsdir, 0700), ==, 0);
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

/* Records live in this namespace's own directory, which says which namespace it is for; the
 * top directory is the host-wide one of earlier versions and is not listed as ours. */
static void
test_netns_layout(void)
{
    g_autofree char *ex           = test_copy_data_dir("examples");
    g_autofree char *state        = g_dir_make_tmp("gre-state-XXXXXX", NULL);
    g_autofree char *nsdir        = netns_dir(state);
    g_autofree char *mine         = NULL;
    g_autofree char *identity     = NULL;
    g_autofree char *idpath       = g_build_filename(nsdir, "netns", NULL);
    g_autofree char *top_rec      = g_build_filename(state, "office.state", NULL);
    g_autoptr(GrePlan) plan       = example_plan(ex, "office");
    g_autoptr(GreStateRecord) rec = gre_state_record_from_plan(plan);
    g_autoptr(GPtrArray) names    = NULL;
    g_autoptr(GError) error       = NULL;
    struct stat st;

    g_setenv("GRE_TUNNEL_STATE_DIR", state, TRUE);
    mine = gre_state_netns_dir(&error);
    g_assert_no_error(error);
    g_assert_cmpstr(mine, ==, nsdir);
    g_assert_true(gre_state_write(rec, &error));
    g_assert_no_error(error);
    g_assert_cmpint(stat(nsdir, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0700);
    g_assert_true(g_file_get_contents(idpath, &identity, NULL, NULL));
    g_assert_cmpint(stat("/proc/self/ns/net", &st), ==, 0);
    {
        g_autofree char *ino = g_strdup_printf("\nino=%" G_GUINT64_FORMAT "\n", (guint64)st.st_ino);
        g_assert_nonnull(strstr(identity, ino));
    }
    /* Nothing at the top but the namespace's directory. */
    g_assert_false(g_file_test(top_rec, G_FILE_TEST_EXISTS));
    names = gre_state_list(&error);
    g_assert_no_error(error);
    g_assert_cmpuint(names->len, ==, 1);
    g_assert_cmpstr(names->pdata[0], ==, "office");
    g_clear_pointer(&names, g_ptr_array_unref);

    /* A record of the old layout is not ours until adopted; adopting moves it. */
    g_assert_true(gre_state_delete("office", &error));
    g_assert_true(g_file_set_contents(top_rec, "version=1\nsecrets=none\n", -1, NULL));
    g_assert_null(gre_state_read("office", &error));
    g_assert_no_error(error);
    names = gre_state_list(&error);
    g_assert_cmpuint(names->len, ==, 0);
    g_clear_pointer(&names, g_ptr_array_unref);
    names = gre_state_list_legacy(&error);
    g_assert_cmpuint(names->len, ==, 1);
    {
        g_autoptr(GreStateRecord) old = gre_state_read_legacy("office", &error);
        g_autofree char *to           = NULL;

        g_assert_no_error(error);
        g_assert_nonnull(old);
        g_assert_true(gre_state_adopt_legacy("office", &to, &error));
        g_assert_no_error(error);
        g_assert_true(g_str_has_prefix(to, nsdir));
        g_assert_false(g_file_test(top_rec, G_FILE_TEST_EXISTS));
        g_assert_true(gre_state_exists("office"));
        /* A second adopter (another namespace, a moment later) finds nothing, without error. */
        g_assert_false(gre_state_adopt_legacy("office", NULL, &error));
        g_assert_no_error(error);
    }
    g_unsetenv("GRE_TUNNEL_STATE_DIR");
    test_remove_dir(ex);
    test_remove_dir(state);
}

/* The directory of a namespace that no longer exists is stale: listed, then removed by the next
 * lock; that of a live namespace (this process's, under another name) is left alone, and so is
 * one whose identity cannot be read. */
static void
test_netns_stale(void)
{
    g_autofree char *state       = g_dir_make_tmp("gre-state-XXXXXX", NULL);
    g_autofree char *dead        = g_build_filename(state, "netns-999999999", NULL);
    g_autofree char *alive       = g_build_filename(state, "netns-999999998", NULL);
    g_autofree char *unknown     = g_build_filename(state, "netns-999999997", NULL);
    g_autofree char *dead_rec    = g_build_filename(dead, "gre1.state", NULL);
    g_autofree char *alive_rec   = g_build_filename(alive, "gre1.state", NULL);
    g_autofree char *unknown_rec = g_build_filename(unknown, "gre1.state", NULL);
    g_autofree char *dead_id     = g_build_filename(dead, "netns", NULL);
    g_autofree char *alive_id    = g_build_filename(alive, "netns", NULL);
    g_autofree char *text        = NULL;
    g_autoptr(GPtrArray) stale   = NULL;
    g_autoptr(GPtrArray) notes   = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error      = NULL;
    g_autoptr(GreStateLock) lock = NULL;
    struct stat init;
    gboolean    blind;
    char        buf[64];

    g_assert_cmpint(stat("/proc/self/ns/net", &init), ==, 0);
    g_setenv("GRE_TUNNEL_STATE_DIR", state, TRUE);
    g_assert_cmpint(g_mkdir(dead, 0700), ==, 0);
    g_assert_cmpint(g_mkdir(alive, 0700), ==, 0);
    g_assert_cmpint(g_mkdir(unknown, 0700), ==, 0);
    /* Inode 1 is never a namespace's. */
    g_assert_true(g_file_set_contents(dead_id, "cookie=999999999\nino=1\n", -1, NULL));
    text = g_strdup_printf("cookie=999999998\nino=%" G_GUINT64_FORMAT "\n", (guint64)init.st_ino);
    g_assert_true(g_file_set_contents(alive_id, text, -1, NULL));
    g_assert_true(g_file_set_contents(dead_rec, "version=1\nsecrets=none\n", -1, NULL));
    g_assert_true(g_file_set_contents(alive_rec, "version=1\nsecrets=none\n", -1, NULL));
    g_assert_true(g_file_set_contents(unknown_rec, "version=1\nsecrets=none\n", -1, NULL));

    /* Where other processes' namespaces cannot be read (not root, a sandbox), no namespace can
     * be shown to be gone, and nothing may be removed. */
    blind = readlink("/proc/1/ns/net", buf, sizeof buf) < 0;
    stale = gre_state_list_stale();
    g_assert_cmpuint(stale->len, ==, blind ? 0 : 1);
    if (!blind)
        g_assert_cmpstr(stale->pdata[0], ==, dead_rec);

    lock = gre_state_lock("gre1", notes, &error);
    g_assert_no_error(error);
    g_assert_nonnull(lock);
    g_assert_true(g_file_test(dead, G_FILE_TEST_EXISTS) == blind);
    g_assert_true(g_file_test(alive_rec, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(unknown, G_FILE_TEST_EXISTS));
    g_assert_cmpuint(notes->len, ==, blind ? 0 : 1);
    if (!blind) {
        g_assert_nonnull(strstr(notes->pdata[0], "gre1"));
        g_assert_nonnull(strstr(notes->pdata[0], "netns-999999999"));
    } else
        g_test_message("other processes' namespaces cannot be read here: only the "
                       "conservative half is tested (nothing is removed)");
    g_clear_pointer(&lock, gre_state_unlock);
    g_unsetenv("GRE_TUNNEL_STATE_DIR");
    test_remove_dir(state);
}

/* Field 22 of /proc/PID/stat, read here and not by the code under test. */
static guint64
start_of(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%ld/stat", (long)pid);
    g_autofree char *text = NULL;
    g_auto(GStrv) f       = NULL;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    f = g_strsplit(strrchr(text, ')') + 2, " ", -1);
    return g_ascii_strtoull(f[19], NULL, 10);
}

static char
state_of(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%ld/stat", (long)pid);
    g_autofree char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return '?';
    return strrchr(text, ')')[2];
}

/* Who owns a record, and whether that process is still there: a pid that now names another
 * process (another start time), no process, a zombie, another boot are gone; another PID
 * namespace cannot be told. */
static void
test_owner(void)
{
    g_autoptr(GError) error       = NULL;
    g_autoptr(GreStateOwner) self = gre_state_owner_self("test-state", &error);
    g_autoptr(GreStateOwner) back = NULL;
    g_autoptr(GreStateOwner) o    = NULL;
    g_autofree char *line         = NULL;
    pid_t            child;
    int              status;

    g_assert_no_error(error);
    g_assert_cmpuint(self->pid, ==, (guint64)getpid());
    g_assert_cmpuint(self->start, ==, start_of(getpid()));
    g_assert_cmpint(gre_state_owner_state(self), ==, GRE_OWNER_ALIVE);
    g_assert_cmpint(gre_state_owner_state(NULL), ==, GRE_OWNER_NONE);

    line = gre_state_owner_to_line(self);
    back = gre_state_owner_from_line(line, &error);
    g_assert_no_error(error);
    g_assert_true(gre_state_owner_equal(self, back));
    g_clear_pointer(&back, gre_state_owner_free);
    /* Words a later version may add do not change who it is. */
    {
        g_autofree char *more = g_strconcat(line, " cgroup=/x", NULL);

        back = gre_state_owner_from_line(more, &error);
        g_assert_no_error(error);
        g_assert_true(gre_state_owner_equal(self, back));
    }
    for (guint i = 0; i < 4; i++) {
        const char *bad[] = { "", "nm-gre-service pid=1 start=2 pidns=3",
                              "nm-gre-service pid=x start=2 boot=b pidns=3",
                              "a/b pid=1 start=2 boot=b pidns=3" };

        g_assert_null(gre_state_owner_from_line(bad[i], &error));
        g_assert_error(error, GRE_ERROR, GRE_ERROR_PARSE);
        g_clear_error(&error);
    }

    o        = gre_state_owner_dup(self);
    o->start = self->start + 1; /* the pid handed out again */
    g_assert_false(gre_state_owner_equal(self, o));
    g_assert_cmpint(gre_state_owner_state(o), ==, GRE_OWNER_GONE);
    *o     = *self;
    o->pid = G_MAXINT; /* above any pid_max: no such process */
    g_assert_cmpint(gre_state_owner_state(o), ==, GRE_OWNER_GONE);
    *o = *self;
    g_strlcpy(o->boot, "00000000-0000-0000-0000-000000000000", sizeof o->boot);
    g_assert_cmpint(gre_state_owner_state(o), ==, GRE_OWNER_GONE);
    *o = *self;
    o->pidns++;
    g_assert_cmpint(gre_state_owner_state(o), ==, GRE_OWNER_UNKNOWN);

    /* A child that has exited but is not collected yet is a zombie: gone. */
    child = fork();
    g_assert_cmpint(child, >=, 0);
    if (child == 0)
        _exit(0);
    for (guint i = 0; i < 500 && state_of(child) != 'Z'; i++)
        g_usleep(10000);
    g_assert_cmpint(state_of(child), ==, 'Z');
    g_clear_pointer(&o, gre_state_owner_free);
    o = gre_state_owner_of("test-state", (guint64)child, start_of(child), &error);
    g_assert_no_error(error);
    g_assert_cmpint(gre_state_owner_state(o), ==, GRE_OWNER_GONE);
    g_assert_cmpint(waitpid(child, &status, 0), ==, child);
}

/* A record names the process owner set for this process, survives the round trip, and a record
 * of an earlier version (no owner line) has none. */
static void
test_owner_record(void)
{
    g_autofree char *ex            = test_copy_data_dir("examples");
    g_autofree char *state         = g_dir_make_tmp("gre-state-XXXXXX", NULL);
    g_autofree char *nsdir         = netns_dir(state);
    g_autofree char *path          = g_build_filename(nsdir, "office.state", NULL);
    g_autofree char *text          = NULL;
    g_autoptr(GError) error        = NULL;
    g_autoptr(GreStateOwner) self  = gre_state_owner_self("test-state", &error);
    g_autoptr(GrePlan) plan        = example_plan(ex, "office");
    g_autoptr(GreStateRecord) rec  = NULL;
    g_autoptr(GreStateRecord) back = NULL;

    g_setenv("GRE_TUNNEL_STATE_DIR", state, TRUE);
    rec = gre_state_record_from_plan(plan);
    g_assert_null(rec->owner);
    g_clear_pointer(&rec, gre_state_record_free);

    gre_state_set_process_owner(self);
    rec = gre_state_record_from_plan(plan);
    gre_state_set_process_owner(NULL);
    g_assert_true(gre_state_owner_equal(rec->owner, self));
    g_assert_true(gre_state_write(rec, &error));
    g_assert_no_error(error);
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_assert_nonnull(strstr(text, "\nowner=test-state pid="));
    back = gre_state_read("office", &error);
    g_assert_no_error(error);
    g_assert_true(gre_state_owner_equal(back->owner, self));
    g_clear_pointer(&back, gre_state_record_free);

    /* An earlier version's record: no owner line. */
    g_assert_true(g_file_set_contents(path, "version=1\nsecrets=none\n", -1, NULL));
    back = gre_state_read("office", &error);
    g_assert_no_error(error);
    g_assert_null(back->owner);
    g_clear_pointer(&back, gre_state_record_free);
    /* A damaged owner line damages the record. */
    g_assert_true(g_file_set_contents(path, "version=1\nsecrets=none\nowner=x pid=1\n", -1, NULL));
    g_assert_null(gre_state_read("office", &error));
    g_assert_error(error, GRE_ERROR, GRE_ERROR_PARSE);
    g_assert_nonnull(strstr(error->message, "office.state"));

    g_unsetenv("GRE_TUNNEL_STATE_DIR");
    test_remove_dir(ex);
    test_remove_dir(state);
}

/* Reclaim removes the records (and, as `down` does, the objects: none here) of owners that are
 * gone, or of one given owner; never the admin's, nor those of a live owner or one that cannot be
 * told. */
static void
test_reclaim(void)
{
    g_autofree char *state          = g_dir_make_tmp("gre-state-XXXXXX", NULL);
    g_autoptr(GError) error         = NULL;
    g_autoptr(GreStateOwner) self   = gre_state_owner_self("test-state", &error);
    g_autoptr(GreStateOwner) gone   = gre_state_owner_dup(self);
    g_autoptr(GreStateOwner) other  = gre_state_owner_dup(self);
    g_autoptr(GPtrArray) names      = NULL;
    g_auto(GreApplyReport) report   = { 0 };
    const char          *rec_name[] = { "orphan", "live", "admin", "elsewhere" };
    const GreStateOwner *owner[]    = { gone, self, NULL, other };

    g_setenv("GRE_TUNNEL_STATE_DIR", state, TRUE);
    gone->start++;
    other->pidns++;
    other->start++;
    for (guint i = 0; i < G_N_ELEMENTS(rec_name); i++) {
        g_autoptr(GreStateRecord) rec = g_new0(GreStateRecord, 1);

        g_strlcpy(rec->name, rec_name[i], sizeof rec->name);
        rec->secrets = g_strdup("none");
        rec->owner   = gre_state_owner_dup(owner[i]);
        rec->lines   = g_ptr_array_new_with_free_func(g_free);
        rec->steps   = g_array_new(FALSE, TRUE, sizeof(GrePlanStep));
        g_assert_true(gre_state_write(rec, &error));
        g_assert_no_error(error);
    }

    g_assert_true(gre_apply_reclaim(NULL, &report, &error));
    g_assert_no_error(error);
    names = gre_state_list(&error);
    g_assert_cmpuint(names->len, ==, 3);
    g_assert_false(gre_state_exists("orphan"));
    g_assert_cmpuint(report.notes->len, ==, 1);
    g_assert_nonnull(strstr(report.notes->pdata[0], "orphan"));
    g_assert_nonnull(strstr(report.notes->pdata[0], "test-state"));
    gre_apply_report_clear(&report);

    /* The watchdog's case: one owner's records, whatever /proc says of it. */
    g_assert_true(gre_apply_reclaim(self, &report, &error));
    g_assert_no_error(error);
    g_assert_false(gre_state_exists("live"));
    g_assert_true(gre_state_exists("admin"));
    g_assert_true(gre_state_exists("elsewhere"));

    g_unsetenv("GRE_TUNNEL_STATE_DIR");
    test_remove_dir(state);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/state/round-trip", test_round_trip);
    g_test_add_func("/state/source", test_source);
    g_test_add_func("/state/secrets-hash", test_secrets_hash);
    g_test_add_func("/state/secrets-hash-ike", test_secrets_hash_ike);
    g_test_add_func("/state/ike-cert", test_ike_cert);
    g_test_add_func("/state/damaged", test_damaged);
    g_test_add_func("/state/netns-layout", test_netns_layout);
    g_test_add_func("/state/netns-stale", test_netns_stale);
    g_test_add_func("/state/owner", test_owner);
    g_test_add_func("/state/owner-record", test_owner_record);
    g_test_add_func("/state/reclaim", test_reclaim);
    return g_test_run();
}
