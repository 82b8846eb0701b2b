/*
 * node/http/http.h: the node's own HTTP/1.1-over-TLS server: N worker threads, each with its
 * own event_base and SO_REUSEPORT listener; a strict parser (http_parse.h); direct
 * SSL_read/SSL_write through crypto/; routes from a table with one pre-dispatch step.
 *
 * A request's life: TLS handshake (the client certificate must verify and be enrolled and
 * active: trust.h) → head parsed (strict; 400/411/413/431/... answered, then close) → route
 * found (404/405) → pre-dispatch: role of this node serves it, the peer's enrolment allows
 * it (403), Content-Length within the route's limit (413, answered before any body is read)
 * → body read → handler → response. Handlers run on the worker thread, synchronously, and
 * must not block (short LMDB read transactions are fine).
 */
#ifndef HX_HTTP_H
#define HX_HTTP_H

#include <stdint.h>

#include "config.h"
#include "http_parse.h"
#include "store.h"
#include "trust.h"

struct http_server;

/* Everything a handler may use; valid for the duration of the call. */
struct http_ctx {
	struct http_server *srv;
	struct store *store;
	struct trust *trust;
	const struct config *cfg;
	const struct http_request *req;
	const struct trust_peer *peer;  /* the caller, from its enrolment (never the request) */
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

struct http_route {
	enum http_method method;
	const char *path;
	http_handler_fn fn;
	unsigned node_roles;   /* 1 << enum config_role: roles of this node that serve it */
	unsigned peer_roles;   /* 1 << PeerRole the caller must hold; 0 = any enrolled peer */
	uint64_t max_body;     /* 0 = the configured max_body */
};

/* The route table (node/api/api_routes.c). */
extern const struct http_route http_routes[];
extern const size_t http_routes_count;

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

#endif
