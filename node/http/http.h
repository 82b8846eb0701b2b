/*
 * node/http/http.h: the node's own HTTP/1.1-over-TLS server: N worker threads, each with its
 * own event_base and SO_REUSEPORT listener; a strict parser (http_parse.h); direct
 * SSL_read/SSL_write through crypto/; routes from a table with one pre-dispatch step.
 *
 * Two listeners: [listen] peer for enrolled peers, and [listen] local (optional) for this
 * organisation's own systems, registered as local clients; a certificate is admitted only on
 * the listener of its kind, and each route belongs to one listener.
 *
 * A request's life: TLS handshake (the client certificate must verify and be enrolled and
 * active: trust.h) → head parsed (strict; 400/411/413/431/... answered, then close) → route
 * found (404/405) → pre-dispatch: role of this node serves it, the peer's enrolment allows
 * it (403), Content-Length within the route's limit (413, answered before any body is read)
 * → body read → handler → response. Handlers run on the worker thread and must not block
 * (short LMDB read transactions are fine); one that waits on peers defers its answer.
 */
#ifndef HX_HTTP_H
#define HX_HTTP_H

#include <stdint.h>

#include "config.h"
#include "http_parse.h"
#include "store.h"
#include "trust.h"

struct http_server;
struct http_conn;
struct event_base;
struct peer_client;

/* Everything a handler may use; valid for the duration of the call. */
struct http_ctx {
	struct http_server *srv;
	struct http_conn *conn;         /* for http_defer() */
	struct event_base *base;        /* the worker's event loop */
	struct peer_client *peers;      /* the worker's client for calls to peers */
	void **worker_slot;             /* one pointer per worker for the route handlers' state
	                                   (freed with http_worker_slot_free at stop) */
	struct store *store;
	struct trust *trust;
	const struct config *cfg;
	const struct http_request *req;
	const struct trust_peer *peer;  /* the caller, from its enrolment (never the request); on
	                                   the local listener, a local client (peer->local) */
	const uint8_t *peer_fp;         /* its certificate fingerprint */
	const uint8_t *body;
	size_t body_len;
	struct hx_buf *out;             /* the response body */
	const char *content_type;       /* default "application/x-protobuf" */
	const char *error_text;         /* with an error return: the Error message to send */
};

/* A handler returns HX_OK (200 with ctx->out) or an hx_err mapped to a status by
 * http_status_from_err(), answered with an Error message (ctx->error_text or a generic one). */
typedef int (*http_handler_fn)(struct http_ctx *ctx);

/* A handler that has to wait (for calls to peers) returns HTTP_DEFERRED after http_defer().
 * The connection then reads nothing more until http_deferred_answer() is called, once, on the
 * worker's thread, with the body appended to http_deferred_body(). If the connection closes
 * first (the deadline passed, the daemon stops, the caller's trust was withdrawn), cancel(arg)
 * is called instead and the deferral must not be used again. */
#define HTTP_DEFERRED 1
struct http_deferred;
typedef void (*http_cancel_fn)(void *arg);
struct http_deferred *http_defer(struct http_ctx *ctx, uint64_t timeout_ms,
                                 http_cancel_fn cancel, void *arg);
struct hx_buf *http_deferred_body(struct http_deferred *d);
/* HX_OK: 200 with the body (content type as given, NULL for protobuf); an hx_err: its status
 * with an Error message (error_text, for 4xx only). */
void http_deferred_answer(struct http_deferred *d, int rc, const char *content_type,
                          const char *error_text);

enum http_listener {
	HTTP_LISTEN_PEER,      /* [listen] peer: enrolled peers */
	HTTP_LISTEN_LOCAL,     /* [listen] local: registered local clients */
};

struct http_route {
	enum http_method method;
	const char *path;
	http_handler_fn fn;
	unsigned node_roles;   /* 1 << enum config_role: roles of this node that serve it */
	unsigned peer_roles;   /* 1 << PeerRole the caller must hold; 0 = any enrolled peer */
	uint64_t max_body;     /* 0 = the configured max_body */
	enum http_listener listener;
	unsigned client_rights; /* local routes: 1 << ClientRight the client must hold */
};

/* The route table (node/api/api_routes.c). */
extern const struct http_route http_routes[];
extern const size_t http_routes_count;
/* Frees what handlers left in a worker's slot (api_routes.c; may be NULL). */
extern void (*const http_worker_slot_free)(void *slot);

/* The one table from hx_err to HTTP status (parse 400, denied 403, not found 404, limit 413,
 * busy 429, peer 502, timeout 504, space 507, else 500). */
int http_status_from_err(int err);
const char *http_status_text(int status);

/* Start the workers and listeners of cfg->peer (port 0 allowed), write the state file.
 * Returns with everything running. */
int http_server_start(const struct config *cfg, struct store *store, struct trust *trust,
                      struct http_server **out, char *err, size_t errlen);
/* Stop accepting, let in-flight requests finish (at most `grace_ms`), join the workers. */
void http_server_stop(struct http_server *srv, unsigned grace_ms);
/* The port the peer listener bound. */
uint16_t http_server_port(const struct http_server *srv);
/* The port the local listener bound (0 without [listen] local). */
uint16_t http_server_local_port(const struct http_server *srv);

#endif
