/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * A small synchronous VICI client: one connection to charon's control socket, one command at a
 * time, every wait bounded by a timeout (a daemon that never answers must not hang a boot or the
 * CLI). Events the caller registered for are handed to its callback whenever they arrive, also
 * while a command is waiting for its response (that is how list-sas and list-conns stream).
 *
 * After a timeout, a broken packet or a closed socket the connection is unusable (a late reply
 * would be taken for the next command's): every later call fails until a new one is made.
 */
#include "gre-vici-msg.h"

/* Debian's charon-systemd and strongswan.service listen here (charon.plugins.vici.socket). */
#define GRE_VICI_DEFAULT_URI "unix:///run/charon.vici"
#define GRE_VICI_DEFAULT_TIMEOUT_MS 10000

/* Packet types of the transport (the first byte of a segment). */
typedef enum {
    GRE_VICI_CMD_REQUEST      = 0,
    GRE_VICI_CMD_RESPONSE     = 1,
    GRE_VICI_CMD_UNKNOWN      = 2,
    GRE_VICI_EVENT_REGISTER   = 3,
    GRE_VICI_EVENT_UNREGISTER = 4,
    GRE_VICI_EVENT_CONFIRM    = 5,
    GRE_VICI_EVENT_UNKNOWN    = 6,
    GRE_VICI_EVENT            = 7,
} GreViciPacket;

typedef struct _GreVici GreVici;

typedef void (*GreViciEventFunc)(const char *event, const GreViciSection *msg, gpointer user_data);
/* Sees every whole segment sent (@sent) or received, for recording and debugging. */
typedef void (*GreViciTapFunc)(gboolean sent, const guint8 *segment, gsize len, gpointer user_data);

/* @uri: "unix:///path" or an absolute path; NULL means GRE_VICI_DEFAULT_URI. */
GreVici *gre_vici_connect(const char *uri, GError **error);
/* Takes @fd (a connected stream socket); @label names the peer in messages. */
GreVici *gre_vici_new_from_fd(int fd, const char *label);
void     gre_vici_free(GreVici *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GreVici, gre_vici_free)

/* How long each wait for the daemon may take (default GRE_VICI_DEFAULT_TIMEOUT_MS). */
void gre_vici_set_timeout(GreVici *v, guint timeout_ms);
void gre_vici_set_tap(GreVici *v, GreViciTapFunc func, gpointer user_data);

/* EVENT_REGISTER / EVENT_UNREGISTER, waiting for EVENT_CONFIRM; EVENT_UNKNOWN is an error. */
gboolean gre_vici_register(GreVici *v, const char *event, GreViciEventFunc func, gpointer user_data,
                           GError **error);
gboolean gre_vici_unregister(GreVici *v, const char *event, GError **error);

/* Sends command @cmd with @request (NULL: an empty message) and returns the response; events
 * arriving meanwhile go to their callbacks. CMD_UNKNOWN is an error. */
GreViciSection *gre_vici_command(GreVici *v, const char *cmd, GBytes *request, GError **error);
/* gre_vici_command() in two halves, for a caller that must not block (a service's main loop):
 * send the command, then collect its response. Until then no other command may be sent. */
gboolean gre_vici_command_send(GreVici *v, const char *cmd, GBytes *request, GError **error);
/* Waits for the response of the command sent (bounded by the timeout set when it was sent). */
GreViciSection *gre_vici_command_finish(GreVici *v, GError **error);
/* Never waits: handles the packets that have arrived (events go to their callbacks) and returns
 * TRUE with *reply NULL while the response is not there yet, TRUE with it once it is, FALSE on an
 * error (a response later than the timeout set when the command was sent is one). */
gboolean gre_vici_command_poll(GreVici *v, GreViciSection **reply, GError **error);
/* A streamed command: registers @event, runs @cmd, unregisters @event. */
GreViciSection *gre_vici_command_streamed(GreVici *v, const char *cmd, GBytes *request,
                                          const char *event, GreViciEventFunc func,
                                          gpointer user_data, GError **error);
/* Waits up to @timeout_ms for one event and hands it to its callback. */
gboolean gre_vici_wait_event(GreVici *v, guint timeout_ms, GError **error);

/* The conventional reply of commands: success = yes, else an error with the daemon's errmsg. */
gboolean gre_vici_check_success(const GreViciSection *reply, const char *cmd, GError **error);
/* gre_vici_command() and gre_vici_check_success() in one. */
gboolean gre_vici_call(GreVici *v, const char *cmd, GBytes *request, GError **error);
