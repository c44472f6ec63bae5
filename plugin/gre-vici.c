/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "gre-vici.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "gre-i18n.h"

typedef struct {
    GreViciEventFunc func;
    gpointer         user_data;
} Handler;

struct _GreVici {
    int            fd;
    char          *label; /* the socket, for messages */
    guint          timeout_ms;
    GHashTable    *handlers; /* event name -> Handler */
    GError        *broken;   /* why the connection is unusable, or NULL */
    GreViciTapFunc tap;
    gpointer       tap_data;
    char          *pending_cmd; /* sent, its response not yet read (gre_vici_command_send) */
    gint64         pending_deadline;
};

/* One received packet. */
typedef struct {
    guint8 *segment; /* the whole segment, wiped when freed */
    gsize   len;
    guint8  type;
    char   *name;    /* named types only */
    gsize   msg_off; /* where the message starts in segment */
} Packet;

static void
packet_clear(Packet *p)
{
    if (p->segment) {
        explicit_bzero(p->segment, p->len);
        g_free(p->segment);
    }
    g_free(p->name);
    memset(p, 0, sizeof(*p));
}

GreVici *
gre_vici_new_from_fd(int fd, const char *label)
{
    GreVici *v = g_new0(GreVici, 1);

    v->fd         = fd;
    v->label      = g_strdup(label);
    v->timeout_ms = GRE_VICI_DEFAULT_TIMEOUT_MS;
    v->handlers   = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    /* Every wait is a poll() with a deadline, so the socket never blocks a read or write. */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return v;
}

static const char *
uri_path(const char *uri)
{
    if (g_str_has_prefix(uri, "unix://"))
        return uri + strlen("unix://");
    if (uri[0] == '/')
        return uri;
    return NULL;
}

GreVici *
gre_vici_connect(const char *uri, GError **error)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    const char        *path;
    int                fd, err;

    if (!uri)
        uri = GRE_VICI_DEFAULT_URI;
    path = uri_path(uri);
    if (!path || path[0] != '/') {
        g_set_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_CONNECT,
                    _("Unsupported VICI socket \"%s\": give unix:///PATH or an absolute path"),
                    uri);
        return NULL;
    }
    if (strlen(path) >= sizeof(sun.sun_path)) {
        g_set_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_CONNECT,
                    _("VICI socket path \"%s\" is too long for a unix socket"), path);
        return NULL;
    }
    strcpy(sun.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        err = errno;
        if (fd >= 0)
            close(fd);
        if (err == ENOENT || err == ECONNREFUSED)
            g_set_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_CONNECT,
                        _("Cannot connect to the IKE daemon at %s: %s (is charon running? On "
                          "Debian it comes with the package charon-systemd, or strongswan for "
                          "strongswan.service)"),
                        path, g_strerror(err));
        else
            g_set_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_CONNECT,
                        _("Cannot connect to the IKE daemon at %s: %s"), path, g_strerror(err));
        return NULL;
    }
    return gre_vici_new_from_fd(fd, path);
}

void
gre_vici_free(GreVici *v)
{
    if (!v)
        return;
    if (v->fd >= 0)
        close(v->fd);
    g_free(v->label);
    g_hash_table_unref(v->handlers);
    g_clear_error(&v->broken);
    g_free(v->pending_cmd);
    g_free(v);
}

void
gre_vici_set_timeout(GreVici *v, guint timeout_ms)
{
    v->timeout_ms = timeout_ms;
}

void
gre_vici_set_tap(GreVici *v, GreViciTapFunc func, gpointer user_data)
{
    v->tap      = func;
    v->tap_data = user_data;
}

/* Records @error as the reason the connection is unusable, and passes it on. */
static gboolean
broken(GreVici *v, GError *error, GError **out)
{
    if (!v->broken)
        v->broken = g_error_copy(error);
    g_propagate_error(out, error);
    return FALSE;
}

static gboolean
usable(GreVici *v, GError **error)
{
    if (!v->broken)
        return TRUE;
    g_set_error(error, GRE_VICI_ERROR, v->broken->code,
                _("The connection to the IKE daemon at %s is unusable after an earlier error: %s"),
                v->label, v->broken->message);
    return FALSE;
}

/* Waits for @events on the socket until @deadline (monotonic µs). */
static gboolean
wait_fd(GreVici *v, short events, gint64 deadline, const char *what, GError **error)
{
    for (;;) {
        struct pollfd pfd  = { .fd = v->fd, .events = events };
        gint64        left = deadline - g_get_monotonic_time();
        int           n;

        if (left <= 0)
            return broken(v,
                          g_error_new(GRE_VICI_ERROR, GRE_VICI_ERROR_TIMEOUT,
                                      _("The IKE daemon at %s did not answer within %u ms (%s)"),
                                      v->label, v->timeout_ms, what),
                          error);
        n = poll(&pfd, 1, (int)MIN((left + 999) / 1000, G_MAXINT));
        if (n > 0)
            return TRUE;
        if (n < 0 && errno != EINTR)
            return broken(v,
                          g_error_new(GRE_VICI_ERROR, GRE_VICI_ERROR_IO,
                                      _("Talking to the IKE daemon at %s failed: %s"), v->label,
                                      g_strerror(errno)),
                          error);
    }
}

static gboolean
write_all(GreVici *v, const guint8 *data, gsize len, gint64 deadline, const char *what,
          GError **error)
{
    while (len > 0) {
        ssize_t n = send(v->fd, data, len, MSG_NOSIGNAL);

        if (n > 0) {
            data += n;
            len -= (gsize)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_fd(v, POLLOUT, deadline, what, error))
                return FALSE;
        } else {
            int err = n < 0 ? errno : EPIPE;

            if (err == EPIPE || err == ECONNRESET)
                return broken(v,
                              g_error_new(GRE_VICI_ERROR, GRE_VICI_ERROR_CLOSED,
                                          _("The IKE daemon at %s closed the connection (%s)"),
                                          v->label, what),
                              error);
            return broken(v,
                          g_error_new(GRE_VICI_ERROR, GRE_VICI_ERROR_IO,
                                      _("Talking to the IKE daemon at %s failed: %s"), v->label,
                                      g_strerror(err)),
                          error);
        }
    }
    return TRUE;
}

static gboolean
read_all(GreVici *v, guint8 *data, gsize len, gint64 deadline, const char *what, GError **error)
{
    while (len > 0) {
        ssize_t n = recv(v->fd, data, len, 0);

        if (n > 0) {
            data += n;
            len -= (gsize)n;
        } else if (n == 0) {
            return broken(v,
                          g_error_new(GRE_VICI_ERROR, GRE_VICI_ERROR_CLOSED,
                                      _("The IKE daemon at %s closed the connection (%s)"),
                                      v->label, what),
                          error);
        } else if (errno == EAGAIN || errno == EINTR) {
            if (!wait_fd(v, POLLIN, deadline, what, error))
                return FALSE;
        } else {
            return broken(
                v,
                g_error_new(
                    GRE_VICI_ERROR, errno == ECONNRESET ? GRE_VICI_ERROR_CLOSED : GRE_VICI_ERROR_IO,
                    _("Talking to the IKE daemon at %s failed: %s"), v->label, g_strerror(errno)),
                error);
        }
    }
    return TRUE;
}

static gboolean
is_named(guint8 type)
{
    return type == GRE_VICI_CMD_REQUEST || type == GRE_VICI_EVENT_REGISTER ||
           type == GRE_VICI_EVENT_UNREGISTER || type == GRE_VICI_EVENT;
}

/* Sends one packet: length, type, name (named types), message. The segment is wiped after. */
static gboolean
send_packet(GreVici *v, guint8 type, const char *name, GBytes *msg, const char *what,
            GError **error)
{
    gsize    nlen = name ? strlen(name) : 0;
    gsize    mlen = msg ? g_bytes_get_size(msg) : 0;
    gsize    slen = 1 + (is_named(type) ? 1 + nlen : 0) + mlen;
    guint8  *seg;
    gsize    off = 4;
    gboolean ok;

    if (!usable(v, error))
        return FALSE;
    if (is_named(type) && (nlen == 0 || nlen > GRE_VICI_MAX_NAME)) {
        g_set_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_TOO_LARGE,
                    _("VICI name \"%.32s\" is empty or longer than %d bytes"), name ? name : "",
                    GRE_VICI_MAX_NAME);
        return FALSE;
    }
    if (slen > GRE_VICI_MAX_SEGMENT) {
        g_set_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_TOO_LARGE,
                    _("VICI packet for %s of %zu bytes is over the limit of %d"), what, slen,
                    GRE_VICI_MAX_SEGMENT);
        return FALSE;
    }
    seg        = g_malloc(4 + slen);
    seg[0]     = (guint8)(slen >> 24);
    seg[1]     = (guint8)(slen >> 16);
    seg[2]     = (guint8)(slen >> 8);
    seg[3]     = (guint8)slen;
    seg[off++] = type;
    if (is_named(type)) {
        seg[off++] = (guint8)nlen;
        memcpy(seg + off, name, nlen);
        off += nlen;
    }
    if (mlen)
        memcpy(seg + off, g_bytes_get_data(msg, NULL), mlen);
    if (v->tap)
        v->tap(TRUE, seg + 4, slen, v->tap_data);
    ok = write_all(v, seg, 4 + slen, g_get_monotonic_time() + (gint64)v->timeout_ms * 1000, what,
                   error);
    explicit_bzero(seg, 4 + slen);
    g_free(seg);
    return ok;
}

static gboolean
protocol_error(GreVici *v, const char *what, const char *reason, GError **error)
{
    return broken(v,
                  g_error_new(GRE_VICI_ERROR, GRE_VICI_ERROR_MALFORMED,
                              _("The IKE daemon at %s broke the VICI protocol (%s): %s"), v->label,
                              what, reason),
                  error);
}

/* Receives one packet, waiting until @deadline. */
static gboolean
recv_packet(GreVici *v, Packet *p, gint64 deadline, const char *what, GError **error)
{
    guint8 hdr[4];
    gsize  len;

    memset(p, 0, sizeof(*p));
    if (!read_all(v, hdr, 4, deadline, what, error))
        return FALSE;
    len = ((gsize)hdr[0] << 24) | ((gsize)hdr[1] << 16) | ((gsize)hdr[2] << 8) | hdr[3];
    if (len == 0)
        return protocol_error(v, what, _("an empty segment"), error);
    if (len > GRE_VICI_MAX_SEGMENT) {
        g_autofree char *r = g_strdup_printf(_("a segment of %zu bytes, over the limit of %d"), len,
                                             GRE_VICI_MAX_SEGMENT);

        return protocol_error(v, what, r, error);
    }
    p->segment = g_malloc(len);
    p->len     = len;
    if (!read_all(v, p->segment, len, deadline, what, error)) {
        packet_clear(p);
        return FALSE;
    }
    if (v->tap)
        v->tap(FALSE, p->segment, len, v->tap_data);
    p->type    = p->segment[0];
    p->msg_off = 1;
    if (p->type > GRE_VICI_EVENT) {
        g_autofree char *r = g_strdup_printf(_("unknown packet type %u"), p->type);

        packet_clear(p);
        return protocol_error(v, what, r, error);
    }
    if (is_named(p->type)) {
        gsize nlen = len > 1 ? p->segment[1] : 0;

        if (len < 2 || nlen == 0 || nlen > len - 2) {
            packet_clear(p);
            return protocol_error(v, what, _("a packet whose name is missing or truncated"), error);
        }
        p->name    = g_strndup((const char *)p->segment + 2, nlen);
        p->msg_off = 2 + nlen;
    }
    return TRUE;
}

static const char *
packet_type_name(guint8 type)
{
    static const char *const names[] = { "CMD_REQUEST",      "CMD_RESPONSE",
                                         "CMD_UNKNOWN",      "EVENT_REGISTER",
                                         "EVENT_UNREGISTER", "EVENT_CONFIRM",
                                         "EVENT_UNKNOWN",    "EVENT" };

    return type < G_N_ELEMENTS(names) ? names[type] : "?";
}

/* Hands an EVENT packet to its callback; events nobody registered for are dropped (one may
 * still arrive between our unregister and its confirmation). */
static gboolean
dispatch_event(GreVici *v, Packet *p, const char *what, GError **error)
{
    const Handler *h              = g_hash_table_lookup(v->handlers, p->name);
    g_autoptr(GreViciSection) msg = NULL;
    g_autoptr(GError) local       = NULL;

    if (!h)
        return TRUE;
    msg = gre_vici_parse(p->segment + p->msg_off, p->len - p->msg_off, &local);
    if (!msg) {
        g_autofree char *r = g_strdup_printf(_("event \"%s\": %s"), p->name, local->message);

        return protocol_error(v, what, r, error);
    }
    h->func(p->name, msg, h->user_data);
    return TRUE;
}

/* Reads packets until one that is not an event arrives (events are dispatched on the way). */
static gboolean
recv_reply(GreVici *v, Packet *p, const char *what, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)v->timeout_ms * 1000;

    for (;;) {
        if (!recv_packet(v, p, deadline, what, error))
            return FALSE;
        if (p->type != GRE_VICI_EVENT)
            return TRUE;
        if (!dispatch_event(v, p, what, error)) {
            packet_clear(p);
            return FALSE;
        }
        packet_clear(p);
    }
}

static gboolean
event_op(GreVici *v, guint8 type, const char *event, GError **error)
{
    g_autofree char *what = g_strdup_printf(
        type == GRE_VICI_EVENT_REGISTER ? _("registering event %s") : _("unregistering event %s"),
        event);
    Packet   p;
    gboolean ok = FALSE;

    if (!send_packet(v, type, event, NULL, what, error) || !recv_reply(v, &p, what, error))
        return FALSE;
    if (p.type == GRE_VICI_EVENT_CONFIRM && p.len == 1)
        ok = TRUE;
    else if (p.type == GRE_VICI_EVENT_UNKNOWN && p.len == 1)
        g_set_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_UNKNOWN_EVENT,
                    type == GRE_VICI_EVENT_REGISTER
                        ? _("The IKE daemon at %s does not know the event \"%s\"")
                        : _("The IKE daemon at %s has no registration for the event \"%s\""),
                    v->label, event);
    else {
        g_autofree char *r =
            g_strdup_printf(_("a %s packet of %zu bytes"), packet_type_name(p.type), p.len);

        protocol_error(v, what, r, error);
    }
    packet_clear(&p);
    return ok;
}

gboolean
gre_vici_register(GreVici *v, const char *event, GreViciEventFunc func, gpointer user_data,
                  GError **error)
{
    Handler *h = g_new(Handler, 1);

    /* In place before the request: the daemon may raise the event before it confirms. */
    h->func      = func;
    h->user_data = user_data;
    g_hash_table_replace(v->handlers, g_strdup(event), h);
    if (!event_op(v, GRE_VICI_EVENT_REGISTER, event, error)) {
        g_hash_table_remove(v->handlers, event);
        return FALSE;
    }
    return TRUE;
}

gboolean
gre_vici_unregister(GreVici *v, const char *event, GError **error)
{
    g_hash_table_remove(v->handlers, event);
    return event_op(v, GRE_VICI_EVENT_UNREGISTER, event, error);
}

/* The command's response, from packet @p (freed here). */
static GreViciSection *
take_response(GreVici *v, Packet *p, const char *cmd, const char *what, GError **error)
{
    g_autoptr(GError) local = NULL;
    GreViciSection *reply   = NULL;

    switch (p->type) {
    case GRE_VICI_CMD_RESPONSE:
        reply = gre_vici_parse(p->segment + 1, p->len - 1, &local);
        if (!reply)
            protocol_error(v, what, local->message, error);
        break;
    case GRE_VICI_CMD_UNKNOWN:
        g_set_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_UNKNOWN_COMMAND,
                    _("The IKE daemon at %s does not know the command \"%s\""), v->label, cmd);
        break;
    default: {
        g_autofree char *r =
            g_strdup_printf(_("a %s packet of %zu bytes"), packet_type_name(p->type), p->len);

        protocol_error(v, what, r, error);
    }
    }
    packet_clear(p);
    return reply;
}

gboolean
gre_vici_command_send(GreVici *v, const char *cmd, GBytes *request, GError **error)
{
    g_autofree char *what = g_strdup_printf(_("command %s"), cmd);

    g_return_val_if_fail(!v->pending_cmd, FALSE);
    if (!send_packet(v, GRE_VICI_CMD_REQUEST, cmd, request, what, error))
        return FALSE;
    v->pending_cmd      = g_strdup(cmd);
    v->pending_deadline = g_get_monotonic_time() + (gint64)v->timeout_ms * 1000;
    return TRUE;
}

GreViciSection *
gre_vici_command_finish(GreVici *v, GError **error)
{
    g_autofree char *cmd  = g_steal_pointer(&v->pending_cmd);
    g_autofree char *what = NULL;
    Packet           p;

    g_return_val_if_fail(cmd != NULL, NULL);
    what = g_strdup_printf(_("command %s"), cmd);
    if (!recv_reply(v, &p, what, error))
        return NULL;
    return take_response(v, &p, cmd, what, error);
}

gboolean
gre_vici_command_poll(GreVici *v, GreViciSection **reply, GError **error)
{
    g_autofree char *what = NULL;

    g_return_val_if_fail(v->pending_cmd != NULL, FALSE);
    *reply = NULL;
    if (!usable(v, error))
        return FALSE;
    what = g_strdup_printf(_("command %s"), v->pending_cmd);
    for (;;) {
        struct pollfd pfd = { .fd = v->fd, .events = POLLIN };
        Packet        p;
        int           n = poll(&pfd, 1, 0);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return broken(v,
                          g_error_new(GRE_VICI_ERROR, GRE_VICI_ERROR_IO,
                                      _("Talking to the IKE daemon at %s failed: %s"), v->label,
                                      g_strerror(errno)),
                          error);
        if (n == 0) {
            if (g_get_monotonic_time() < v->pending_deadline)
                return TRUE;
            return broken(v,
                          g_error_new(GRE_VICI_ERROR, GRE_VICI_ERROR_TIMEOUT,
                                      _("The IKE daemon at %s did not answer within %u ms (%s)"),
                                      v->label, v->timeout_ms, what),
                          error);
        }
        /* A packet has begun: the rest of it comes within the usual timeout. */
        if (!recv_packet(v, &p, g_get_monotonic_time() + (gint64)v->timeout_ms * 1000, what, error))
            return FALSE;
        if (p.type == GRE_VICI_EVENT) {
            gboolean ok = dispatch_event(v, &p, what, error);

            packet_clear(&p);
            if (!ok)
                return FALSE;
            continue;
        }
        {
            g_autofree char *cmd = g_steal_pointer(&v->pending_cmd);

            *reply = take_response(v, &p, cmd, what, error);
            return *reply != NULL;
        }
    }
}

GreViciSection *
gre_vici_command(GreVici *v, const char *cmd, GBytes *request, GError **error)
{
    if (!gre_vici_command_send(v, cmd, request, error))
        return NULL;
    return gre_vici_command_finish(v, error);
}

GreViciSection *
gre_vici_command_streamed(GreVici *v, const char *cmd, GBytes *request, const char *event,
                          GreViciEventFunc func, gpointer user_data, GError **error)
{
    GreViciSection *reply;

    if (!gre_vici_register(v, event, func, user_data, error))
        return NULL;
    reply = gre_vici_command(v, cmd, request, error);
    if (!reply) {
        /* Best effort: a connection that is still usable should not keep streaming to us. */
        if (!v->broken)
            gre_vici_unregister(v, event, NULL);
        return NULL;
    }
    if (!gre_vici_unregister(v, event, error)) {
        gre_vici_section_free(reply);
        return NULL;
    }
    return reply;
}

gboolean
gre_vici_wait_event(GreVici *v, guint timeout_ms, GError **error)
{
    gint64   deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    Packet   p;
    gboolean ok;

    if (!usable(v, error))
        return FALSE;
    /* Waiting for an event that does not come is no protocol fault: the connection stays
     * usable after this timeout, nothing is outstanding. */
    for (;;) {
        struct pollfd pfd  = { .fd = v->fd, .events = POLLIN };
        gint64        left = deadline - g_get_monotonic_time();
        int           n;

        if (left <= 0) {
            g_set_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_TIMEOUT,
                        _("No event from the IKE daemon at %s within %u ms"), v->label, timeout_ms);
            return FALSE;
        }
        n = poll(&pfd, 1, (int)MIN((left + 999) / 1000, G_MAXINT));
        if (n > 0)
            break;
        if (n < 0 && errno != EINTR)
            return broken(v,
                          g_error_new(GRE_VICI_ERROR, GRE_VICI_ERROR_IO,
                                      _("Talking to the IKE daemon at %s failed: %s"), v->label,
                                      g_strerror(errno)),
                          error);
    }
    /* Once the event has begun, the rest of it must come within the usual timeout. */
    if (!recv_packet(v, &p, g_get_monotonic_time() + (gint64)v->timeout_ms * 1000,
                     _("waiting for an event"), error))
        return FALSE;
    if (p.type == GRE_VICI_EVENT)
        ok = dispatch_event(v, &p, _("waiting for an event"), error);
    else {
        g_autofree char *r =
            g_strdup_printf(_("a %s packet of %zu bytes"), packet_type_name(p.type), p.len);

        ok = protocol_error(v, _("waiting for an event"), r, error);
    }
    packet_clear(&p);
    return ok;
}

gboolean
gre_vici_check_success(const GreViciSection *reply, const char *cmd, GError **error)
{
    const char *success = gre_vici_get(reply, "success");
    const char *errmsg  = gre_vici_get(reply, "errmsg");

    if (g_strcmp0(success, "yes") == 0)
        return TRUE;
    if (!success)
        g_set_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_MALFORMED,
                    _("The IKE daemon's reply to %s has no \"success\" key"), cmd);
    else if (errmsg && *errmsg)
        g_set_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_FAILED,
                    _("The IKE daemon refused %s: %s"), cmd, errmsg);
    else
        g_set_error(error, GRE_VICI_ERROR, GRE_VICI_ERROR_FAILED,
                    _("The IKE daemon refused %s (it gave no reason)"), cmd);
    return FALSE;
}

gboolean
gre_vici_call(GreVici *v, const char *cmd, GBytes *request, GError **error)
{
    g_autoptr(GreViciSection) reply = gre_vici_command(v, cmd, request, error);

    return reply && gre_vici_check_success(reply, cmd, error);
}
