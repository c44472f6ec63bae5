/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-mirror.h"

#include <string.h>
#include <sys/socket.h>

#include "gre-error.h"
#include "gre-i18n.h"
#include "gre-mtu.h"

guint
gre_effective_mtu(const GreSettings *s)
{
    if (s->mtu != GRE_MTU_AUTO)
        return s->mtu;
    return gre_mtu_compute(s, s->underlay_mtu ? s->underlay_mtu : 1500, NULL);
}

static gboolean
is_inner_key(GreKeyId id)
{
    return id == GRE_KEY_INNER4 || id == GRE_KEY_INNER4_PEER || id == GRE_KEY_INNER6 ||
           id == GRE_KEY_INNER6_PEER;
}

static gboolean
mirror_inner(const GrePrefix *local, const GreAddr *peer, GrePrefix *m_local, GreAddr *m_peer,
             GreKeyId peer_id, GError **error)
{
    if (local->addr.family == AF_UNSPEC)
        return TRUE;
    if (peer->family == AF_UNSPEC) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_INVALID,
                    _("%s: missing: the peer's inner address is needed to write its settings"),
                    gre_key_info(peer_id)->ifcfg);
        return FALSE;
    }
    m_local->addr = *peer;
    m_local->plen = local->plen;
    *m_peer       = local->addr;
    return TRUE;
}

GreSettings *
gre_mirror(const GreSettings *s, GError **error)
{
    g_autoptr(GreSettings) m = gre_settings_new();

    if (s->local.family == AF_UNSPEC) {
        g_set_error(error, GRE_ERROR, GRE_ERROR_INVALID,
                    _("%s: is auto, but the peer must know which address to send to; set it"),
                    gre_key_info(GRE_KEY_LOCAL)->ifcfg);
        return NULL;
    }
    for (guint i = 0; i < GRE_KEY_COUNT; i++) {
        const GreKeyInfo *key = gre_key_info(i);
        const GreKeyInfo *target;
        g_auto(GreWipedString) value = NULL;
        g_autoptr(GError) local      = NULL;

        if (key->mirror == GRE_MIRROR_LOCAL || is_inner_key(key->id))
            continue;
        target = key->mirror == GRE_MIRROR_SWAP ? gre_key_info(key->partner) : key;
        value  = gre_key_get(key, s);
        if (!value)
            continue;
        /* The text form round-trips through the same parser every front end uses. */
        if (!gre_key_set(target, m, value, &local))
            g_error("mirror: %s does not read back: %s", key->ifcfg, local->message);
    }
    if (!mirror_inner(&s->inner4, &s->inner4_peer, &m->inner4, &m->inner4_peer, GRE_KEY_INNER4_PEER,
                      error) ||
        !mirror_inner(&s->inner6, &s->inner6_peer, &m->inner6, &m->inner6_peer, GRE_KEY_INNER6_PEER,
                      error))
        return NULL;
    return g_steal_pointer(&m);
}

typedef struct {
    const char *a_name, *b_name;
    GPtrArray  *mismatches, *warnings;
} Check;

static void G_GNUC_PRINTF(3, 4) report(GPtrArray *list, const char *key, const char *fmt, ...)
{
    va_list          ap;
    g_autofree char *msg = NULL;

    if (!list)
        return;
    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_ptr_array_add(list, g_strdup_printf("%s: %s", key, msg));
}

static const char *
shown(const char *value)
{
    return value ? value : _("(unset)");
}

static void
compare_inner(Check *c, const GreSettings *a, const GreSettings *b, GreKeyId local_id,
              GreKeyId peer_id, const GrePrefix *al, const GreAddr *ap, const GrePrefix *bl,
              const GreAddr *bp)
{
    const char      *lname = gre_key_info(local_id)->ifcfg;
    const char      *pname = gre_key_info(peer_id)->ifcfg;
    g_autofree char *al_s  = al->addr.family ? gre_prefix_to_string(al) : NULL;
    g_autofree char *bl_s  = bl->addr.family ? gre_prefix_to_string(bl) : NULL;
    g_autofree char *ap_s  = ap->family ? gre_addr_to_string(ap) : NULL;
    g_autofree char *bp_s  = bp->family ? gre_addr_to_string(bp) : NULL;

    (void)a;
    (void)b;
    if (!al->addr.family && !bl->addr.family)
        return;
    if (!gre_addr_equal(&al->addr, bp) && (bp->family || al->addr.family))
        report(c->mismatches, lname, _("%s has %s, but %s expects its peer at %s (%s)"), c->a_name,
               shown(al_s), c->b_name, shown(bp_s), pname);
    if (!gre_addr_equal(&bl->addr, ap) && (ap->family || bl->addr.family))
        report(c->mismatches, pname, _("%s expects its peer at %s, but %s has %s (%s)"), c->a_name,
               shown(ap_s), c->b_name, shown(bl_s), lname);
    if (al->addr.family && bl->addr.family) {
        if (al->plen != bl->plen)
            report(c->mismatches, lname, _("%s has prefix /%u, %s has /%u"), c->a_name, al->plen,
                   c->b_name, bl->plen);
        else if (al->plen < gre_addr_max_plen(al->addr.family) &&
                 !gre_prefix_contains(al, &bl->addr))
            report(c->mismatches, lname, _("%s (%s) and %s (%s) are not on one subnet"), c->a_name,
                   al_s, c->b_name, bl_s);
    }
}

static char *
grekey_text(const GreSettings *s, gboolean input)
{
    if (input ? !s->has_ikey : !s->has_okey)
        return NULL;
    return g_strdup_printf("%u", input ? s->ikey : s->okey);
}

static char *
ike_id_text(const GreSettings *s, gboolean local)
{
    const char *set = local ? s->ike_local_id : s->ike_remote_id;

    if (set)
        return g_strdup(set);
    return gre_key_get(gre_key_info(local ? GRE_KEY_LOCAL : GRE_KEY_REMOTE), s);
}

gboolean
gre_check(const GreSettings *a, const char *a_name, const GreSettings *b, const char *b_name,
          GPtrArray *mismatches, GPtrArray *warnings)
{
    g_autoptr(GPtrArray) own = mismatches ? NULL : g_ptr_array_new_with_free_func(g_free);
    Check c                  = { a_name, b_name, mismatches ? mismatches : own, warnings };
    guint before             = c.mismatches->len;

    for (guint i = 0; i < GRE_KEY_COUNT; i++) {
        const GreKeyInfo *key = gre_key_info(i);
        const GreKeyInfo *other;
        g_auto(GreWipedString) av = NULL;
        g_auto(GreWipedString) bv = NULL;

        if (key->mirror == GRE_MIRROR_LOCAL || key->mirror == GRE_MIRROR_COPY ||
            is_inner_key(key->id) || key->id == GRE_KEY_MTU)
            continue;
        /* With certificates on either end a PSK is not used there: IKE_AUTH names the
         * difference that matters. */
        if (key->id == GRE_KEY_IKE_PSK &&
            (a->ike_auth == GRE_IKE_AUTH_CERT || b->ike_auth == GRE_IKE_AUTH_CERT))
            continue;
        other = key->mirror == GRE_MIRROR_SWAP ? gre_key_info(key->partner) : key;
        if (key->type == GRE_KT_GREKEY) {
            /* KEY is shorthand for IKEY and OKEY: compare what each direction really uses. */
            if (key->id == GRE_KEY_KEY)
                continue;
            av = grekey_text(a, key->id == GRE_KEY_IKEY);
            bv = grekey_text(b, other->id == GRE_KEY_IKEY);
        } else if (key->type == GRE_KT_IKE_ID) {
            /* An identity left unset is the outer address: compare what each end uses. */
            av = ike_id_text(a, key->id == GRE_KEY_IKE_LOCAL_ID);
            bv = ike_id_text(b, other->id == GRE_KEY_IKE_LOCAL_ID);
        } else {
            av = gre_key_get(key, a);
            bv = gre_key_get(other, b);
        }
        /* LOCAL_NETWORKS only documents what the peer routes; compare it when it is given. */
        if ((key->id == GRE_KEY_ROUTES && !bv) || (key->id == GRE_KEY_LOCAL_NETWORKS && !av))
            continue;
        if (g_strcmp0(av, bv) == 0)
            continue;
        if (key->secret)
            /* TRANSLATORS: after "KEY: ": file A, file B, the key of B that should be equal */
            report(c.mismatches, key->ifcfg, _("%s's differs from %s's %s (values not shown)"),
                   a_name, b_name, other->ifcfg);
        else if (other == key)
            report(key->mirror == GRE_MIRROR_SAME_WARN ? c.warnings : c.mismatches, key->ifcfg,
                   _("%s has %s, %s has %s"), a_name, shown(av), b_name, shown(bv));
        else
            /* TRANSLATORS: after "KEY: ": file A, its value, file B, the key of B, its value */
            report(c.mismatches, key->ifcfg, _("%s has %s, but %s's %s is %s"), a_name, shown(av),
                   b_name, other->ifcfg, shown(bv));
    }
    compare_inner(&c, a, b, GRE_KEY_INNER4, GRE_KEY_INNER4_PEER, &a->inner4, &a->inner4_peer,
                  &b->inner4, &b->inner4_peer);
    compare_inner(&c, a, b, GRE_KEY_INNER6, GRE_KEY_INNER6_PEER, &a->inner6, &a->inner6_peer,
                  &b->inner6, &b->inner6_peer);
    if (gre_effective_mtu(a) != gre_effective_mtu(b))
        report(c.mismatches, "MTU", _("%s uses %u, %s uses %u; both ends need the same MTU"),
               a_name, gre_effective_mtu(a), b_name, gre_effective_mtu(b));
    return c.mismatches->len == before;
}
