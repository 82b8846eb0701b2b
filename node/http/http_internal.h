/* http_internal.h: shared by the files of node/http only. */
#ifndef HX_HTTP_INTERNAL_H
#define HX_HTTP_INTERNAL_H

#include <event2/event.h>
#include <pthread.h>
#include <stdatomic.h>

#include "http.h"
#include "peer.h"

struct http_conn;

struct http_worker {
	struct http_server *srv;
	unsigned index;
	pthread_t thread;
	struct event_base *base;
	int listen_fd;
	struct event *accept_ev;
	int local_fd;              /* [listen] local, or -1 */
	struct event *local_accept_ev;
	void *slot;                /* route handlers' state (http_ctx.worker_slot) */
	struct event *tick_ev;
	struct event *stop_ev;
	struct event *grace_ev;
	struct http_conn *conns; /* doubly linked */
	size_t nconns;
	int stopping;
	uint64_t trust_gen_seen;
	unsigned ticks;
	struct peer_client *peers; /* this worker's calls to peers (libcurl multi) */
	struct crypto_tls_client *client_tls; /* the identity peers uses (a trust reference) */
	int peers_stale;           /* the trust generation moved: close idle connections to
	                              peers (they were verified against the pins of before) */
};

struct peer_count {
	char org_id[PROTO_ORG_ID_MAX + 1];
	unsigned n;
};

struct http_server {
	const struct config *cfg;
	struct store *store;
	struct trust *trust;
	struct http_worker *workers;
	unsigned nworkers;
	uint16_t port;
	uint16_t local_port;
	unsigned grace_ms;
	uint64_t state_changes;  /* trust changes reflected in the state file */
	atomic_uint total_conns;
	pthread_mutex_t peer_lock;
	struct peer_count *pc;
	size_t npc, pc_cap;
};

/* http_route.c */
int http_route_find(const struct http_request *req, enum http_listener listener,
                    const struct http_route **out);
int http_route_admit(const struct http_route *r, const struct config *cfg,
                     const struct trust_peer *peer, const struct http_request *req,
                     const char **why);
/* Pack an Error message for status (err: the hx_err if known, else HX_OK). */
int http_error_body(int status, int err, const char *text, struct hx_buf *out);

/* http_conn.c */
void http_conn_accept(struct http_worker *w, int fd, enum http_listener listener);
void http_conn_close(struct http_conn *c);
/* Called on stop: close idle connections, mark the rest to close after their response. */
void http_conn_stop_idle(struct http_worker *w);
/* Apply deadlines (the worker calls it every tick). */
void http_conn_sweep(struct http_worker *w);
/* Close connections whose peer is no longer trusted. */
void http_conn_recheck_trust(struct http_worker *w);

/* http_server.c: per-peer connection accounting. Returns 0 if over the cap. */
int http_peer_count_add(struct http_server *srv, const char *org_id);
void http_peer_count_del(struct http_server *srv, const char *org_id);

#endif
