/* http_conn.c: one client connection: TLS handshake, strict head, body, handler, response. */
#include "http_internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_CHUNK 16384
#define HEADER_ROOM 256 /* reserved in front of a response body for the status and headers */

enum conn_state {
	C_HANDSHAKE,
	C_HEAD,     /* waiting for (more of) a request head */
	C_BODY,     /* head accepted, reading Content-Length bytes */
	C_WRITE,    /* writing a response */
	C_CLOSING,
	C_LINGER,   /* answered and shut for writing: draining what the client still sends, so
	             * that closing does not reset the connection before it read the answer */
	C_DEFERRED, /* the handler answers later (http_defer); nothing is read meanwhile */
};

struct http_deferred {
	struct http_conn *c;
	http_cancel_fn cancel;
	void *arg;
	int active;
	int in_handler; /* answered from within the handler: the caller's loop writes it */
};

struct http_conn {
	struct http_worker *w;
	struct http_conn *prev, *next;
	int fd;
	struct crypto_tls_conn *tls;
	struct event *ev;       /* read readiness, persistent */
	struct event *wev;      /* write readiness, persistent, only while a write is blocked */
	int rd_on, wr_on;       /* which of the two is added */
	int64_t deadline;       /* monotonic ms; the worker's sweep enforces it */
	enum conn_state state;
	struct hx_buf in;
	struct http_request req;
	const struct http_route *route;
	size_t need;            /* head_len + content length, once the head is in */
	struct hx_buf out;
	size_t out_off;
	int close_after;
	int counted;            /* holds a per-peer connection slot */
	int lingering;          /* an error answered before the request was fully read */
	int continuing;         /* writing "100 Continue" before reading the body */
	int fresh;              /* the socket was reported readable and not read since */
	struct trust_peer peer;
	uint8_t fp[CRYPTO_SHA256_LEN];
	unsigned requests;
	enum http_listener listener;
	struct http_deferred def;
};

static void on_event(evutil_socket_t fd, short what, void *arg);

/* Wait for what the TLS layer asked for. Level-triggered and persistent: nothing is
 * re-armed while a connection keeps reading, so a keep-alive request costs no epoll_ctl. The
 * read event is off while a write is blocked (else unread input would spin the loop). */
static void conn_want(struct http_conn *c, int r, uint64_t timeout_ms)
{
	int want_write = r == CRYPTO_TLS_WANT_WRITE;
	if (want_write && !c->wr_on) {
		if (c->rd_on) {
			event_del(c->ev);
			c->rd_on = 0;
		}
		event_add(c->wev, NULL);
		c->wr_on = 1;
	} else if (!want_write && !c->rd_on) {
		if (c->wr_on) {
			event_del(c->wev);
			c->wr_on = 0;
		}
		event_add(c->ev, NULL);
		c->rd_on = 1;
	}
	c->deadline = hx_time_mono_ms() + (int64_t)timeout_ms;
}

void http_conn_close(struct http_conn *c)
{
	struct http_worker *w = c->w;
	if (c->def.active) {
		/* The handler's work is dropped: it must not answer a closed connection. */
		c->def.active = 0;
		c->def.cancel(c->def.arg);
	}
	if (c->tls != NULL) {
		crypto_tls_conn_shutdown(c->tls);
		crypto_tls_conn_free(c->tls);
	}
	if (c->ev != NULL)
		event_free(c->ev); /* event_free deletes a pending event */
	if (c->wev != NULL)
		event_free(c->wev);
	close(c->fd);
	if (c->counted)
		http_peer_count_del(w->srv, c->peer.org_id);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	w->nconns--;
	atomic_fetch_sub(&w->srv->total_conns, 1);
	hx_buf_clear(&c->in);
	hx_buf_clear(&c->out);
	free(c);
	if (w->stopping && w->nconns == 0)
		event_base_loopexit(w->base, NULL);
}

void http_conn_accept(struct http_worker *w, int fd, enum http_listener listener)
{
	struct http_server *srv = w->srv;
	struct crypto_tls_server *tls_srv;
	struct http_conn *c;
	int one = 1;

	if (atomic_fetch_add(&srv->total_conns, 1) >= srv->cfg->max_connections) {
		atomic_fetch_sub(&srv->total_conns, 1);
		hx_log_warn("http: connection limit (%u) reached; refusing a connection",
		            srv->cfg->max_connections);
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		atomic_fetch_sub(&srv->total_conns, 1);
		close(fd);
		return;
	}
	c->w = w;
	c->fd = fd;
	c->listener = listener;
	c->def.c = c;
	hx_buf_init(&c->in, HTTP_HEAD_MAX + srv->cfg->max_body);
	hx_buf_init(&c->out, SIZE_MAX);
	tls_srv = trust_server_get(srv->trust);
	if (crypto_tls_conn_new(tls_srv, fd, &c->tls) != HX_OK ||
	    (c->ev = event_new(w->base, fd, EV_READ | EV_PERSIST, on_event, c)) == NULL ||
	    (c->wev = event_new(w->base, fd, EV_WRITE | EV_PERSIST, on_event, c)) == NULL) {
		crypto_tls_server_free(tls_srv);
		crypto_tls_conn_free(c->tls);
		if (c->ev != NULL)
			event_free(c->ev);
		atomic_fetch_sub(&srv->total_conns, 1);
		close(fd);
		free(c);
		return;
	}
	crypto_tls_server_free(tls_srv); /* the connection holds its own reference */
	c->next = w->conns;
	if (w->conns != NULL)
		w->conns->prev = c;
	w->conns = c;
	w->nconns++;
	c->state = C_HANDSHAKE;
	on_event(fd, EV_READ, c); /* the ClientHello may already be there */
}

/* ---- responses -------------------------------------------------------------------------- */

static char *put_str(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

#define PUT_LIT(p, lit) put_str((p), (lit), sizeof(lit) - 1)

/* Lay the status line and headers in front of the body held in c->out after HEADER_ROOM
 * (formatted by hand: this runs once per response). */
static void response_finish(struct http_conn *c, int status, const char *ctype)
{
	char head[HEADER_ROOM], digits[24], *p = head;
	const char *text = http_status_text(status);
	size_t body = c->out.len - HEADER_ROOM, text_len = strlen(text), ctype_len = strlen(ctype);
	size_t nd = 0, n;

	if (c->req.method == HTTP_METHOD_HEAD) {
		c->out.len = HEADER_ROOM; /* headers only; Content-Length still says the size */
	}
	do
		digits[sizeof(digits) - ++nd] = (char)('0' + body % 10);
	while ((body /= 10) != 0);
	/* Status texts and content types are this program's constants: they fit. */
	if (status < 100 || status > 999 || text_len + ctype_len > HEADER_ROOM - 128) {
		hx_log_err("http: cannot lay out a %d response", status);
		c->state = C_CLOSING;
		return;
	}
	p = PUT_LIT(p, "HTTP/1.1 ");
	*p++ = (char)('0' + status / 100);
	*p++ = (char)('0' + status / 10 % 10);
	*p++ = (char)('0' + status % 10);
	*p++ = ' ';
	p = put_str(p, text, text_len);
	p = PUT_LIT(p, "\r\nContent-Type: ");
	p = put_str(p, ctype, ctype_len);
	p = PUT_LIT(p, "\r\nContent-Length: ");
	p = put_str(p, digits + sizeof(digits) - nd, nd);
	p = PUT_LIT(p, "\r\n");
	if (c->close_after)
		p = PUT_LIT(p, "Connection: close\r\n");
	p = PUT_LIT(p, "\r\n");
	n = (size_t)(p - head);
	memcpy(c->out.data + HEADER_ROOM - n, head, n);
	c->out_off = HEADER_ROOM - n;
	c->state = C_WRITE;
}

static int response_begin(struct http_conn *c)
{
	static const uint8_t zeros[HEADER_ROOM];
	hx_buf_reset(&c->out);
	return hx_buf_append(&c->out, zeros, HEADER_ROOM);
}

/* An error response. Errors in the request itself close the connection afterwards. */
static void respond_error(struct http_conn *c, int status, int err, const char *why, int close)
{
	if (close) {
		c->close_after = 1;
		c->lingering = 1; /* the client may still be sending */
	}
	if (response_begin(c) != HX_OK || http_error_body(status, err, why, &c->out) != HX_OK) {
		c->state = C_CLOSING;
		return;
	}
	response_finish(c, status, "application/x-protobuf");
}

/* ---- requests --------------------------------------------------------------------------- */

static void dispatch(struct http_conn *c)
{
	struct http_server *srv = c->w->srv;
	struct http_ctx ctx = {
		.srv = srv,
		.conn = c,
		.base = c->w->base,
		.peers = c->w->peers,
		.worker_slot = &c->w->slot,
		.store = srv->store,
		.trust = srv->trust,
		.cfg = srv->cfg,
		.req = &c->req,
		.peer = &c->peer,
		.peer_fp = c->fp,
		.body = c->in.data + c->req.head_len,
		.body_len = c->need - c->req.head_len,
		.out = &c->out,
		.content_type = "application/x-protobuf",
	};
	int rc;

	if (!c->req.keep_alive || c->w->stopping)
		c->close_after = 1;
	if (response_begin(c) != HX_OK) {
		c->state = C_CLOSING;
		return;
	}
	c->def.in_handler = 1;
	rc = c->route->fn(&ctx);
	c->def.in_handler = 0;
	c->requests++;
	if (rc == HTTP_DEFERRED)
		return; /* C_DEFERRED until answered, or C_WRITE if answered already */
	if (rc != HX_OK) {
		int status = http_status_from_err(rc);
		if (status >= 500)
			hx_log_err("http: %.*s from %s failed: %s", (int)c->req.path_len, c->req.path,
			           c->peer.org_id, hx_strerror(rc));
		respond_error(c, status, rc, status >= 500 ? NULL : ctx.error_text, 0);
		return;
	}
	response_finish(c, 200, ctx.content_type);
}

struct http_deferred *http_defer(struct http_ctx *ctx, uint64_t timeout_ms,
                                 http_cancel_fn cancel, void *arg)
{
	struct http_conn *c = ctx->conn;
	c->def.cancel = cancel;
	c->def.arg = arg;
	c->def.active = 1;
	c->state = C_DEFERRED;
	/* Nothing is read meanwhile: no events; the worker's sweep enforces the deadline. */
	if (c->rd_on) {
		event_del(c->ev);
		c->rd_on = 0;
	}
	if (c->wr_on) {
		event_del(c->wev);
		c->wr_on = 0;
	}
	c->deadline = hx_time_mono_ms() + (int64_t)timeout_ms;
	return &c->def;
}

struct hx_buf *http_deferred_body(struct http_deferred *d)
{
	return &d->c->out;
}

void http_deferred_answer(struct http_deferred *d, int rc, const char *content_type,
                          const char *error_text)
{
	struct http_conn *c = d->c;
	if (!d->active || c->state != C_DEFERRED)
		return;
	d->active = 0;
	if (rc != HX_OK) {
		int status = http_status_from_err(rc);
		if (status >= 500)
			hx_log_err("http: %.*s from %s failed: %s", (int)c->req.path_len, c->req.path,
			           c->peer.org_id, hx_strerror(rc));
		respond_error(c, status, rc, status >= 500 ? NULL : error_text, 0);
	} else {
		response_finish(c, 200, content_type != NULL ? content_type
		                                             : "application/x-protobuf");
	}
	if (!d->in_handler)
		on_event(c->fd, EV_WRITE, c);
}

/* Try to make progress on the head in c->in. */
static void head_parse(struct http_conn *c)
{
	int status = 0;
	const char *why = NULL;
	enum http_parse_result r =
		http_request_parse((const char *)c->in.data, c->in.len, &c->req, &status, &why);

	if (r == HTTP_PARSE_MORE)
		return;
	if (r == HTTP_PARSE_ERROR) {
		respond_error(c, status, HX_EPARSE, why, 1);
		return;
	}
	status = http_route_find(&c->req, c->listener, &c->route);
	if (status == 200)
		status = http_route_admit(c->route, c->w->srv->cfg, &c->peer, &c->req, &why);
	else
		why = status == 404 ? "no such route" : "method not allowed on this route";
	if (status != 200) {
		/* A body we will not read would desynchronise the connection: close after. */
		respond_error(c, status, HX_OK, why, c->req.has_length && c->req.content_length > 0);
		return;
	}
	c->need = c->req.head_len + (size_t)(c->req.has_length ? c->req.content_length : 0);
	if (c->in.len >= c->need) {
		dispatch(c);
		return;
	}
	/* Room for the whole body now; the buffer may move, so parse again to re-point. */
	if (hx_buf_reserve(&c->in, c->need - c->in.len) != HX_OK) {
		respond_error(c, 413, HX_ELIMIT, "request body too large", 1);
		return;
	}
	http_request_parse((const char *)c->in.data, c->in.len, &c->req, &status, &why);
	c->state = C_BODY;
	if (c->req.expect_continue) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
		hx_buf_reset(&c->out);
		if (hx_buf_append(&c->out, cont, sizeof(cont) - 1) == HX_OK) {
			c->out_off = 0;
			c->continuing = 1;
			c->state = C_WRITE;
		}
	}
}

/* After a response: drop the request's bytes, keep what follows (pipelining). */
static void request_done(struct http_conn *c)
{
	size_t rest = c->in.len - c->need;
	memmove(c->in.data, c->in.data + c->need, rest);
	c->in.len = rest;
	c->need = 0;
	c->route = NULL;
	hx_buf_reset(&c->out);
	c->out_off = 0;
	c->state = C_HEAD;
	/* A big request buffer is not kept for an idle connection. */
	if (rest == 0 && c->in.cap > 65536)
		hx_buf_clear(&c->in);
	if (rest > 0)
		head_parse(c);
}

/* ---- the state machine ------------------------------------------------------------------ */

static int do_handshake(struct http_conn *c)
{
	struct http_server *srv = c->w->srv;
	int r = crypto_tls_conn_handshake(c->tls);
	if (r != CRYPTO_TLS_DONE)
		return r;
	if (crypto_tls_conn_peer_fingerprint(c->tls, c->fp) != HX_OK ||
	    trust_peer_lookup(srv->trust, c->fp, &c->peer) != HX_OK)
		return HX_EDENIED;
	if (c->peer.local != (c->listener == HTTP_LISTEN_LOCAL)) {
		/* A peer on the local listener, or a local client on the peer one. */
		hx_log_info("http: %s refused on the %s listener", c->peer.org_id,
		            c->listener == HTTP_LISTEN_LOCAL ? "local" : "peer");
		return HX_EPERM;
	}
	if (!http_peer_count_add(srv, c->peer.org_id)) {
		hx_log_warn("http: peer %s is at its connection limit (%u)", c->peer.org_id,
		            srv->cfg->max_connections_per_peer);
		return HX_EBUSY;
	}
	c->counted = 1;
	c->state = C_HEAD;
	hx_log_debug("http: %s connected (%s TLS session)", c->peer.org_id,
	             crypto_tls_conn_resumed(c->tls) ? "resumed" : "new");
	return CRYPTO_TLS_DONE;
}

/* Read what is there. Returns CRYPTO_TLS_WANT_* to wait, EOF, or an error. */
static int do_read(struct http_conn *c)
{
	for (;;) {
		size_t got = 0, room;
		int r;
		if (c->state != C_HEAD && c->state != C_BODY)
			return CRYPTO_TLS_DONE;
		room = c->state == C_BODY ? c->need - c->in.len : READ_CHUNK;
		if (c->state == C_HEAD && c->in.len >= HTTP_HEAD_MAX) {
			head_parse(c); /* at the cap: the parser answers 431 */
			if (c->state == C_HEAD)
				respond_error(c, 431, HX_ELIMIT, "request head too large", 1);
			continue;
		}
		if (hx_buf_reserve(&c->in, room) != HX_OK)
			room = c->in.max - c->in.len;
		if (room == 0) {
			respond_error(c, 413, HX_ELIMIT, "request too large", 1);
			return CRYPTO_TLS_DONE;
		}
		/* Level-triggered: with nothing buffered in TLS and the socket already read since
		 * it was reported readable, wait for the next report instead of a read(2) that
		 * would only say EAGAIN. */
		if (!c->fresh && !crypto_tls_conn_has_pending(c->tls))
			return CRYPTO_TLS_WANT_READ;
		r = crypto_tls_conn_read(c->tls, c->in.data + c->in.len, room, &got);
		c->fresh = 0;
		if (r != CRYPTO_TLS_DONE)
			return r;
		c->in.len += got;
		if (c->state == C_HEAD)
			head_parse(c);
		else if (c->in.len >= c->need)
			dispatch(c);
	}
}

#define LINGER_MS 2000

/* After an error answer with unread input: close_notify, FIN, then drain until EOF. */
static int linger_start(struct http_conn *c)
{
	crypto_tls_conn_shutdown(c->tls);
	shutdown(c->fd, SHUT_WR);
	c->state = C_LINGER;
	return CRYPTO_TLS_WANT_READ;
}

static int linger_drain(struct http_conn *c)
{
	char scratch[16384];
	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(c->fd, scratch, sizeof(scratch), 0);
		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return CRYPTO_TLS_WANT_READ;
		return CRYPTO_TLS_EOF;
	}
	return CRYPTO_TLS_WANT_READ;
}

static int do_write(struct http_conn *c)
{
	while (c->out_off < c->out.len) {
		size_t put = 0;
		int r = crypto_tls_conn_write(c->tls, c->out.data + c->out_off, c->out.len - c->out_off,
		                              &put);
		if (r != CRYPTO_TLS_DONE)
			return r;
		c->out_off += put;
	}
	if (c->continuing) {
		c->continuing = 0;
		hx_buf_reset(&c->out);
		c->out_off = 0;
		c->state = C_BODY;
		return CRYPTO_TLS_DONE;
	}
	if (c->close_after) {
		/* Input we did not read (a refused body, a pipelined request) would make close()
		 * send a reset that can destroy the answer in flight: linger instead. */
		if (c->in.len > c->need || (c->state == C_WRITE && c->need == 0 && c->in.len > 0) ||
		    c->lingering)
			return linger_start(c);
		c->state = C_CLOSING;
		return CRYPTO_TLS_EOF;
	}
	request_done(c);
	return CRYPTO_TLS_DONE;
}

static void on_event(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;
	const struct config *cfg = c->w->srv->cfg;
	int r = CRYPTO_TLS_DONE;

	(void)fd;
	if (what & EV_TIMEOUT) {
		if (c->state == C_DEFERRED)
			hx_log_warn("http: %.*s for %s passed its deadline unanswered; closing",
			            (int)c->req.path_len, c->req.path, c->peer.org_id);
		if (c->state == C_HEAD && c->in.len > 0) {
			/* Part of a head arrived, the rest did not. */
			respond_error(c, 408, HX_ETIMEOUT, "request head not received in time", 1);
			r = do_write(c);
			if (r == CRYPTO_TLS_WANT_WRITE || r == CRYPTO_TLS_WANT_READ) {
				conn_want(c, r, 1000);
				return;
			}
		}
		http_conn_close(c);
		return;
	}
	c->fresh = (what & EV_READ) != 0;
	for (;;) {
		switch (c->state) {
		case C_HANDSHAKE:
			r = do_handshake(c);
			if (r == HX_ETLS)
				hx_log_info("http: TLS handshake refused: %s", crypto_tls_conn_error(c->tls));
			else if (r == HX_EDENIED)
				hx_log_info("http: client certificate not enrolled or not active");
			break;
		case C_DEFERRED:
			return; /* nothing to do until the handler answers */
		case C_HEAD:
		case C_BODY:
			r = do_read(c);
			break;
		case C_WRITE:
			r = do_write(c);
			break;
		case C_CLOSING:
			r = CRYPTO_TLS_EOF;
			break;
		case C_LINGER:
			r = linger_drain(c);
			break;
		}
		if (r == CRYPTO_TLS_DONE)
			continue; /* the state moved on: go on with it */
		break;
	}
	if (r == CRYPTO_TLS_WANT_READ || r == CRYPTO_TLS_WANT_WRITE) {
		uint64_t timeout = cfg->idle_timeout_ms;
		if (c->state == C_HANDSHAKE || (c->state == C_HEAD && c->in.len > 0))
			timeout = cfg->header_timeout_ms;
		else if (c->state == C_BODY)
			timeout = cfg->read_timeout_ms;
		else if (c->state == C_WRITE)
			timeout = cfg->read_timeout_ms;
		else if (c->state == C_LINGER)
			timeout = LINGER_MS;
		conn_want(c, r, timeout);
		return;
	}
	if (r == HX_ETLS && (c->state == C_HEAD || c->state == C_BODY || c->state == C_WRITE))
		hx_log_info("http: a connection of %s ended on a TLS error: %s", c->peer.org_id,
		            crypto_tls_conn_error(c->tls));
	http_conn_close(c);
}

void http_conn_sweep(struct http_worker *w)
{
	struct http_conn *c = w->conns, *next;
	int64_t now = hx_time_mono_ms();
	for (; c != NULL; c = next) {
		next = c->next;
		if (c->deadline != 0 && now >= c->deadline)
			on_event(c->fd, EV_TIMEOUT, c);
	}
}

/* Bytes the kernel holds for us on fd, not read yet. */
static int unread(int fd)
{
	int n = 0;
	return ioctl(fd, FIONREAD, &n) == 0 && n > 0;
}

void http_conn_stop_idle(struct http_worker *w)
{
	struct http_conn *c = w->conns, *next;
	for (; c != NULL; c = next) {
		next = c->next;
		/* Idle: between requests, and nothing sent that we have not read (a request that
		 * arrived just before the stop is answered, within the grace period). */
		if ((c->state == C_HEAD && c->in.len == 0 && !unread(c->fd)) ||
		    c->state == C_HANDSHAKE)
			http_conn_close(c);
		else
			c->close_after = 1;
	}
}

void http_conn_recheck_trust(struct http_worker *w)
{
	struct http_conn *c = w->conns, *next;
	struct trust_peer p;
	for (; c != NULL; c = next) {
		next = c->next;
		if (!c->counted)
			continue;
		if (trust_peer_lookup(w->srv->trust, c->fp, &p) != HX_OK) {
			hx_log_notice("http: closing a connection of %s: no longer trusted",
			              c->peer.org_id);
			http_conn_close(c);
		} else if (p.roles != c->peer.roles || p.rights != c->peer.rights ||
		           p.local != c->peer.local || strcmp(p.org_id, c->peer.org_id) != 0) {
			/* Enrolled again with other roles or rights (or as another organisation): what
			 * the connection may call was decided at its handshake. */
			hx_log_notice("http: closing a connection of %s: its enrolment changed",
			              c->peer.org_id);
			http_conn_close(c);
		}
	}
}
