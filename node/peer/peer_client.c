/* peer_client.c: libcurl multi on libevent. The one place CURLE_* codes become hx_err. */
#include "peer.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct peer_client {
	struct event_base *base;
	const struct crypto_tls_client *tls;
	uint8_t id[CRYPTO_SHA256_LEN]; /* our certificate's fingerprint (zeros without tls) */
	CURLM *multi;
	/* The process-wide shares (below) this client has used so far, by authority. */
	struct peer_share *shares;
	size_t nshares, cap_shares;
	struct event *timer;
	struct peer_call *calls; /* doubly linked */
	struct curl_slist *headers; /* the same for every call */
	struct peer_sock *socks;    /* sockets curl asked us to watch */
	/* Easy handles of finished calls, reset, for the next ones: a call then allocates no
	 * transfer buffers (a fan-out would otherwise grow and trim the heap every round). */
	CURL *pool[64];
	size_t npool;
};

/*
 * TLS sessions (and DNS) shared between calls, for resumption: one libcurl share per peer
 * (host:port of the URL, and the fingerprint the peer is pinned to) and client identity, for
 * the whole process. Every worker's client
 * uses the same shares, so a call from any worker resumes the session any worker last made
 * with that peer (each worker keeps its own connections: libcurl does not share those across
 * threads). One share per peer, as a share keeps only 8 sessions, least recently used first
 * out: one share for all would lose most of them in a fan-out to more than 8 peers. A resumed
 * session skips the certificate checks of a full handshake, so a session is resumed only by a
 * call that speaks as the same certificate (ours) and expects the same one (the peer's pin):
 * a peer re-enrolled with a new certificate at the same address gets a full handshake. The
 * shares live as long as the process (a few hundred bytes per peer and certificate).
 */
struct shared {
	char authority[256];
	uint8_t id[CRYPTO_SHA256_LEN];  /* our certificate */
	uint8_t pin[CRYPTO_SHA256_LEN]; /* the peer's enrolled one */
	CURLSH *share;
	pthread_mutex_t mu[CURL_LOCK_DATA_LAST]; /* curl's locks, one per kind of data */
};

static struct {
	pthread_mutex_t mu;
	struct shared **v;
	size_t n, cap;
} registry = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void share_lock(CURL *e, curl_lock_data data, curl_lock_access access, void *arg)
{
	struct shared *sh = arg;
	(void)e;
	(void)access;
	pthread_mutex_lock(&sh->mu[(unsigned)data < CURL_LOCK_DATA_LAST ? data : 0]);
}

static void share_unlock(CURL *e, curl_lock_data data, void *arg)
{
	struct shared *sh = arg;
	(void)e;
	pthread_mutex_unlock(&sh->mu[(unsigned)data < CURL_LOCK_DATA_LAST ? data : 0]);
}

/* The process's share for (authority, id, pin), made on first use; NULL if none can be
 * made. */
static CURLSH *registry_share(const char *a, size_t n, const uint8_t id[CRYPTO_SHA256_LEN],
                              const uint8_t pin[CRYPTO_SHA256_LEN])
{
	struct shared *sh = NULL;
	CURLSH *out = NULL;
	pthread_mutex_lock(&registry.mu);
	for (size_t i = 0; i < registry.n; i++)
		if (strlen(registry.v[i]->authority) == n &&
		    memcmp(registry.v[i]->authority, a, n) == 0 &&
		    memcmp(registry.v[i]->id, id, CRYPTO_SHA256_LEN) == 0 &&
		    memcmp(registry.v[i]->pin, pin, CRYPTO_SHA256_LEN) == 0) {
			out = registry.v[i]->share;
			goto done;
		}
	if (registry.n == registry.cap) {
		size_t cap = registry.cap ? registry.cap * 2 : 16;
		struct shared **v = realloc(registry.v, cap * sizeof(*v));
		if (v == NULL)
			goto done;
		registry.v = v;
		registry.cap = cap;
	}
	if ((sh = calloc(1, sizeof(*sh))) == NULL || (sh->share = curl_share_init()) == NULL)
		goto done;
	for (int k = 0; k < CURL_LOCK_DATA_LAST; k++)
		pthread_mutex_init(&sh->mu[k], NULL);
	memcpy(sh->authority, a, n);
	sh->authority[n] = '\0';
	memcpy(sh->id, id, CRYPTO_SHA256_LEN);
	memcpy(sh->pin, pin, CRYPTO_SHA256_LEN);
	curl_share_setopt(sh->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(sh->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(sh->share, CURLSHOPT_USERDATA, sh);
	curl_share_setopt(sh->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(sh->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	registry.v[registry.n++] = sh;
	out = sh->share;
	sh = NULL;
done:
	pthread_mutex_unlock(&registry.mu);
	free(sh);
	return out;
}

struct peer_share {
	char authority[256]; /* host:port of the URL */
	uint8_t pin[CRYPTO_SHA256_LEN];
	CURLSH *share;
};

/* The share of the URL's authority and the peer's pin: the client's own list first (no
 * lock), then the process's; NULL if none can be made (calls then work without resumption). */
static CURLSH *share_for(struct peer_client *pc, const char *url,
                         const uint8_t pin[CRYPTO_SHA256_LEN])
{
	const char *a = url + 8; /* after "https://" */
	size_t n = strcspn(a, "/?#");
	struct peer_share *sh;
	CURLSH *share;
	if (n >= sizeof(sh->authority))
		return NULL;
	for (size_t i = 0; i < pc->nshares; i++)
		if (strlen(pc->shares[i].authority) == n && memcmp(pc->shares[i].authority, a, n) == 0 &&
		    memcmp(pc->shares[i].pin, pin, CRYPTO_SHA256_LEN) == 0)
			return pc->shares[i].share;
	if (pc->nshares == pc->cap_shares) {
		size_t cap = pc->cap_shares ? pc->cap_shares * 2 : 16;
		struct peer_share *p = realloc(pc->shares, cap * sizeof(*p));
		if (p == NULL)
			return NULL;
		pc->shares = p;
		pc->cap_shares = cap;
	}
	if ((share = registry_share(a, n, pc->id, pin)) == NULL)
		return NULL;
	sh = &pc->shares[pc->nshares++];
	memcpy(sh->authority, a, n);
	sh->authority[n] = '\0';
	memcpy(sh->pin, pin, CRYPTO_SHA256_LEN);
	sh->share = share;
	return share;
}

struct peer_call {
	struct peer_client *pc;
	struct peer_call *prev, *next;
	CURL *easy;
	uint8_t fp[CRYPTO_SHA256_LEN], fp_next[CRYPTO_SHA256_LEN];
	int has_next;
	peer_done_fn done;
	void *arg;
	struct peer_result res;
	char errbuf[CURL_ERROR_SIZE];
};

/* Per-socket state for curl's socket callback. */
struct peer_sock {
	struct event *ev;
	short kind; /* what ev waits for */
	struct peer_sock *prev, *next; /* the client's, to free any a closed multi left */
};

static void sock_free(struct peer_client *pc, struct peer_sock *ps)
{
	if (ps->prev != NULL)
		ps->prev->next = ps->next;
	else
		pc->socks = ps->next;
	if (ps->next != NULL)
		ps->next->prev = ps->prev;
	event_free(ps->ev);
	free(ps);
}

int peer_refused_us(const char *error)
{
	static const char *const alerts[] = {
		"alert handshake failure", "alert bad certificate",     "alert certificate unknown",
		"alert certificate revoked", "alert certificate expired", "alert certificate required",
		"alert unknown ca",          "alert access denied",
	};
	for (size_t i = 0; i < HX_ARRAY_SIZE(alerts); i++)
		if (strstr(error, alerts[i]) != NULL)
			return 1;
	return 0;
}

/* The call's status from curl's code, and (for a failed read) its error text. */
static int peer_err_from_curl(CURLcode c, const char *errbuf)
{
	/* Under TLS 1.3 a server that refuses our certificate says so with an alert after our
	 * side of the handshake is done, so curl reports a failed read: a refusal, as a failed
	 * handshake under TLS 1.2 is, not a broken peer. */
	if (c == CURLE_RECV_ERROR && peer_refused_us(errbuf))
		return HX_ETLS;
	switch (c) {
	case CURLE_OK:
		return HX_OK;
	case CURLE_OPERATION_TIMEDOUT:
		return HX_ETIMEOUT;
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		return HX_ELIMIT;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return HX_ETLS;
	case CURLE_OUT_OF_MEMORY:
		return HX_ENOMEM;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return HX_EINVAL;
	default:
		return HX_EPEER;
	}
}

static void call_unlink(struct peer_call *call)
{
	struct peer_client *pc = call->pc;
	if (call->prev != NULL)
		call->prev->next = call->next;
	else
		pc->calls = call->next;
	if (call->next != NULL)
		call->next->prev = call->prev;
	call->prev = call->next = NULL;
}

static void call_free(struct peer_call *call)
{
	struct peer_client *pc = call->pc;
	if (call->easy != NULL) {
		curl_multi_remove_handle(pc->multi, call->easy);
		if (pc->npool < HX_ARRAY_SIZE(pc->pool)) {
			curl_easy_reset(call->easy);
			pc->pool[pc->npool++] = call->easy;
		} else {
			curl_easy_cleanup(call->easy);
		}
	}
	hx_buf_clear(&call->res.body);
	free(call);
}

/* Finished transfers: tell their owners. */
static void check_done(struct peer_client *pc)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(pc->multi, &left)) != NULL) {
		struct peer_call *call = NULL;
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&call);
		if (call == NULL)
			continue;
		call->res.rc = peer_err_from_curl(msg->data.result, call->errbuf);
		if (call->res.rc == HX_OK)
			curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &call->res.status);
		else
			snprintf(call->res.error, sizeof(call->res.error), "%s",
			         call->errbuf[0] != '\0' ? call->errbuf
			                                 : curl_easy_strerror(msg->data.result));
		call_unlink(call);
		call->done(call, &call->res, call->arg);
		call_free(call);
	}
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
	struct peer_client *pc = arg;
	int running, action = (what & EV_READ ? CURL_CSELECT_IN : 0) |
	                      (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
	curl_multi_socket_action(pc->multi, fd, action, &running);
	check_done(pc);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct peer_client *pc = arg;
	int running;
	(void)fd;
	(void)what;
	curl_multi_socket_action(pc->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(pc);
}

static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct peer_client *pc = userp;
	struct peer_sock *ps = socketp;
	short kind;
	(void)easy;

	if (what == CURL_POLL_REMOVE) {
		if (ps != NULL) {
			sock_free(pc, ps);
			curl_multi_assign(pc->multi, s, NULL);
		}
		return 0;
	}
	kind = (short)((what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0) |
	               EV_PERSIST);
	if (ps == NULL) {
		ps = calloc(1, sizeof(*ps));
		if (ps == NULL)
			return -1;
		if ((ps->ev = event_new(pc->base, s, kind, on_socket_event, pc)) == NULL) {
			free(ps);
			return -1;
		}
		ps->next = pc->socks;
		if (pc->socks != NULL)
			pc->socks->prev = ps;
		pc->socks = ps;
		curl_multi_assign(pc->multi, s, ps);
	} else if (ps->kind == kind) {
		return 0; /* already waiting for just that */
	} else {
		event_del(ps->ev);
		event_assign(ps->ev, pc->base, s, kind, on_socket_event, pc);
	}
	ps->kind = kind;
	event_add(ps->ev, NULL);
	return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct peer_client *pc = userp;
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	(void)multi;
	if (timeout_ms < 0)
		evtimer_del(pc->timer);
	else
		evtimer_add(pc->timer, &tv);
	return 0;
}

static CURLM *multi_new(struct peer_client *pc)
{
	CURLM *m = curl_multi_init();
	if (m == NULL)
		return NULL;
	curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(m, CURLMOPT_SOCKETDATA, pc);
	curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(m, CURLMOPT_TIMERDATA, pc);
	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 16L);
	/* Keep idle connections to every peer: by default libcurl sizes its cache by the calls
	 * running at the moment, so a fan-out to many peers would close most of them as the
	 * calls finish one by one, and the next query would handshake again. */
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, 1024L);
	return m;
}

static void global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

int peer_client_new(struct event_base *base, const struct crypto_tls_client *tls,
                    struct peer_client **out)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct peer_client *pc;

	pthread_once(&once, global_init);
	pc = calloc(1, sizeof(*pc));
	if (pc == NULL)
		return HX_ENOMEM;
	pc->base = base;
	pc->tls = tls;
	if (tls != NULL)
		crypto_tls_client_id(tls, pc->id);
	pc->timer = evtimer_new(base, on_timer, pc);
	pc->headers = curl_slist_append(NULL, "Content-Type: application/x-protobuf");
	if (pc->headers != NULL)
		pc->headers = curl_slist_append(pc->headers, "Expect:");
	if ((pc->multi = multi_new(pc)) == NULL || pc->timer == NULL || pc->headers == NULL) {
		peer_client_free(pc);
		return HX_ENOMEM;
	}
	*out = pc;
	return HX_OK;
}

void peer_client_set_tls(struct peer_client *pc, const struct crypto_tls_client *tls)
{
	pc->tls = tls;
	memset(pc->id, 0, sizeof(pc->id));
	if (tls != NULL)
		crypto_tls_client_id(tls, pc->id);
	pc->nshares = 0; /* sessions made as the old identity are not ours to resume */
}

int peer_client_disconnect(struct peer_client *pc)
{
	CURLM *m;
	if (pc->calls != NULL)
		return HX_EBUSY;
	if ((m = multi_new(pc)) == NULL)
		return HX_ENOMEM;
	curl_multi_cleanup(pc->multi); /* closes its connections; the sessions stay shared */
	while (pc->socks != NULL) /* any socket curl did not say it removed */
		sock_free(pc, pc->socks);
	pc->multi = m;
	return HX_OK;
}

void peer_client_free(struct peer_client *pc)
{
	if (pc == NULL)
		return;
	while (pc->calls != NULL) {
		struct peer_call *c = pc->calls;
		call_unlink(c);
		call_free(c);
	}
	while (pc->npool > 0)
		curl_easy_cleanup(pc->pool[--pc->npool]);
	if (pc->multi != NULL)
		curl_multi_cleanup(pc->multi);
	while (pc->socks != NULL)
		sock_free(pc, pc->socks);
	curl_slist_free_all(pc->headers);
	free(pc->shares); /* the shares themselves are the process's */
	if (pc->timer != NULL)
		event_free(pc->timer);
	free(pc);
}

static size_t write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct peer_call *call = arg;
	if (hx_buf_append(&call->res.body, data, size * n) != HX_OK)
		return 0; /* over the cap: curl fails the transfer with CURLE_WRITE_ERROR */
	return size * n;
}

static CURLcode ssl_ctx_cb(CURL *easy, void *ssl_ctx, void *arg)
{
	struct peer_call *call = arg;
	(void)easy;
	return crypto_tls_client_configure(call->pc->tls, ssl_ctx, call->fp,
	                                   call->has_next ? call->fp_next : NULL) == HX_OK
	               ? CURLE_OK
	               : CURLE_SSL_CERTPROBLEM;
}

int peer_call_start(struct peer_client *pc, const struct peer_request *req, peer_done_fn done,
                    void *arg, struct peer_call **out)
{
	struct peer_call *call;
	CURL *e;

	if (strncmp(req->url, "https://", 8) != 0 || req->fp == NULL || done == NULL)
		return HX_EINVAL;
	call = calloc(1, sizeof(*call));
	if (call == NULL)
		return HX_ENOMEM;
	e = call->easy = pc->npool > 0 ? pc->pool[--pc->npool] : curl_easy_init();
	if (e == NULL) {
		free(call);
		return HX_ENOMEM;
	}
	call->pc = pc;
	call->done = done;
	call->arg = arg;
	memcpy(call->fp, req->fp, CRYPTO_SHA256_LEN);
	if ((call->has_next = req->fp_next != NULL))
		memcpy(call->fp_next, req->fp_next, CRYPTO_SHA256_LEN);
	hx_buf_init(&call->res.body, req->max_response);
	curl_easy_setopt(e, CURLOPT_URL, req->url);
	{
		CURLSH *sh = share_for(pc, req->url, req->fp);
		if (sh != NULL)
			curl_easy_setopt(e, CURLOPT_SHARE, sh);
	}
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	/* Straight to the peer: never through a proxy named in the environment (and no
	 * environment lookups per call). */
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)req->timeout_ms);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)req->max_response);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(e, CURLOPT_CAINFO, NULL); /* no default bundle: our store only */
	curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
	curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, call);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, pc->headers);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, call);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, call->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, call);
	if (req->body != NULL) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		/* Size first, then a copy: the caller's body need not outlive the call. */
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req->body);
	}
	if (curl_multi_add_handle(pc->multi, e) != CURLM_OK) {
		call_free(call);
		return HX_ENOMEM;
	}
	call->next = pc->calls;
	if (pc->calls != NULL)
		pc->calls->prev = call;
	pc->calls = call;
	if (out != NULL)
		*out = call;
	return HX_OK;
}

void peer_call_cancel(struct peer_call *call)
{
	if (call == NULL)
		return;
	call_unlink(call);
	call_free(call);
}

/* ---- blocking calls for the CLI --------------------------------------------------------- */

struct sync_state {
	struct event_base *base;
	long *status;
	struct hx_buf *body;
	char *err;
	size_t errlen;
	int rc;
	int done;
};

static void sync_done(struct peer_call *call, const struct peer_result *res, void *arg)
{
	struct sync_state *st = arg;
	(void)call;
	st->rc = res->rc;
	st->done = 1;
	if (res->rc == HX_OK) {
		*st->status = res->status;
		st->rc = hx_buf_append(st->body, res->body.data, res->body.len);
	} else {
		snprintf(st->err, st->errlen, "%s", res->error);
	}
	event_base_loopbreak(st->base);
}

int peer_call_wait(struct peer_client *pc, struct event_base *base,
                   const struct peer_request *req, long *status, struct hx_buf *body, char *err,
                   size_t errlen)
{
	struct sync_state st = {.base = base, .status = status, .body = body, .err = err,
	                        .errlen = errlen};
	int rc;

	err[0] = '\0';
	if ((rc = peer_call_start(pc, req, sync_done, &st, NULL)) != HX_OK) {
		snprintf(err, errlen, "cannot start the call: %s", hx_strerror(rc));
		return rc;
	}
	while (!st.done && event_base_dispatch(base) >= 0) {
		if (!st.done && event_base_got_break(base) == 0 && event_base_got_exit(base) == 0)
			break; /* no more events: curl gave up without telling (should not happen) */
	}
	if (!st.done) {
		snprintf(err, errlen, "the call ended without a result");
		return HX_EPEER;
	}
	return st.rc;
}

int peer_call_sync(const struct crypto_tls_client *tls, const struct peer_request *req,
                   long *status, struct hx_buf *body, char *err, size_t errlen)
{
	struct peer_client *pc = NULL;
	struct event_base *base = event_base_new();
	int rc;

	err[0] = '\0';
	if (base == NULL)
		return HX_ENOMEM;
	if ((rc = peer_client_new(base, tls, &pc)) != HX_OK) {
		snprintf(err, errlen, "cannot start the call: %s", hx_strerror(rc));
		event_base_free(base);
		return rc;
	}
	rc = peer_call_wait(pc, base, req, status, body, err, errlen);
	peer_client_free(pc);
	event_base_free(base);
	return rc;
}
