/* http_server.c: worker threads, SO_REUSEPORT listeners, the state file, a clean stop. */
#include "http_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ACCEPT_BATCH 64

static int listen_on(const struct config_addr *a, uint16_t port, uint16_t *bound, char *err,
                     size_t errlen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	char portstr[8];
	int fd = -1, one = 1, rc;

	snprintf(portstr, sizeof(portstr), "%u", port);
	rc = getaddrinfo(a->host[0] != '\0' ? a->host : NULL, portstr, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "listen %s:%u: %s", a->host, port, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
		snprintf(err, errlen, "listen %s:%u: %s", a->host, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	{
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		getsockname(fd, (struct sockaddr *)&ss, &sl);
		*bound = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
		                                        : ((struct sockaddr_in *)&ss)->sin_port);
	}
	return fd;
}

static void accept_batch(struct http_worker *w, evutil_socket_t lfd,
                         enum http_listener listener)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				hx_log_warn("http: accept: %s", strerror(errno));
			return;
		}
		http_conn_accept(w, fd, listener);
	}
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
	(void)what;
	accept_batch(arg, lfd, HTTP_LISTEN_PEER);
}

static void on_accept_local(evutil_socket_t lfd, short what, void *arg)
{
	(void)what;
	accept_batch(arg, lfd, HTTP_LISTEN_LOCAL);
}

static int state_write(struct http_server *srv, char *err, size_t errlen);

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct http_worker *w = arg;
	uint64_t gen;
	(void)fd;
	(void)what;
	http_conn_sweep(w);
	trust_refresh(w->srv->trust);
	if (w->index == 0) {
		struct trust_status ts;
		char err[256];
		trust_status_get(w->srv->trust, &ts);
		if (ts.changes != w->srv->state_changes && state_write(w->srv, err, sizeof(err)) != HX_OK)
			hx_log_err("%s", err);
	}
	if (w->index == 0 && ++w->ticks % 20 == 0) { /* every 10 s: expired TLS sessions */
		struct crypto_tls_server *tls = trust_server_get(w->srv->trust);
		crypto_tls_server_flush(tls);
		crypto_tls_server_free(tls);
	}
	gen = trust_generation(w->srv->trust);
	if (gen != w->trust_gen_seen) {
		w->trust_gen_seen = gen;
		http_conn_recheck_trust(w);
		w->peers_stale = 1;
	}
	/* Our certificate renewed (cert install): calls to peers present the new one from now
	 * on, and connections made with the old one go (below). */
	{
		struct crypto_tls_client *ct = trust_client_get(w->srv->trust);
		if (ct != w->client_tls) {
			peer_client_set_tls(w->peers, ct);
			crypto_tls_client_free(w->client_tls);
			w->client_tls = ct;
			w->peers_stale = 1;
		} else {
			crypto_tls_client_free(ct);
		}
	}
	/* Our own connections to peers, too: a peer re-pinned (rotated, re-enrolled) must not
	 * be called over a connection verified against its old certificate. Their TLS sessions
	 * are kept per pin (peer_client.c), so reconnecting checks the new one. While calls are
	 * running, at a later tick. */
	if (w->peers_stale && w->peers != NULL && peer_client_disconnect(w->peers) == HX_OK)
		w->peers_stale = 0;
}

static void on_grace(evutil_socket_t fd, short what, void *arg)
{
	struct http_worker *w = arg;
	(void)fd;
	(void)what;
	while (w->conns != NULL)
		http_conn_close(w->conns);
	event_base_loopexit(w->base, NULL);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct http_worker *w = arg;
	struct timeval tv = {(time_t)(w->srv->grace_ms / 1000),
	                     (suseconds_t)(w->srv->grace_ms % 1000) * 1000};
	(void)fd;
	(void)what;
	w->stopping = 1;
	if (w->accept_ev != NULL) {
		event_del(w->accept_ev);
		close(w->listen_fd);
		w->listen_fd = -1;
	}
	if (w->local_accept_ev != NULL) {
		event_del(w->local_accept_ev);
		close(w->local_fd);
		w->local_fd = -1;
	}
	event_del(w->tick_ev);
	http_conn_stop_idle(w);
	if (w->nconns == 0) {
		event_base_loopexit(w->base, NULL);
		return;
	}
	w->grace_ev = evtimer_new(w->base, on_grace, w);
	if (w->grace_ev != NULL)
		evtimer_add(w->grace_ev, &tv);
}

static void *worker_main(void *arg)
{
	struct http_worker *w = arg;
	event_base_dispatch(w->base);
	return NULL;
}

int http_peer_count_add(struct http_server *srv, const char *org_id)
{
	int ok = 1;
	size_t i;
	pthread_mutex_lock(&srv->peer_lock);
	for (i = 0; i < srv->npc; i++)
		if (strcmp(srv->pc[i].org_id, org_id) == 0)
			break;
	if (i == srv->npc) {
		if (srv->npc == srv->pc_cap) {
			size_t cap = srv->pc_cap != 0 ? srv->pc_cap * 2 : 16;
			struct peer_count *p = realloc(srv->pc, cap * sizeof(*p));
			if (p == NULL) {
				pthread_mutex_unlock(&srv->peer_lock);
				return 0;
			}
			srv->pc = p;
			srv->pc_cap = cap;
		}
		hx_strlcpy(srv->pc[i].org_id, org_id, sizeof(srv->pc[i].org_id));
		srv->pc[i].n = 0;
		srv->npc++;
	}
	if (srv->pc[i].n >= srv->cfg->max_connections_per_peer)
		ok = 0;
	else
		srv->pc[i].n++;
	pthread_mutex_unlock(&srv->peer_lock);
	return ok;
}

void http_peer_count_del(struct http_server *srv, const char *org_id)
{
	pthread_mutex_lock(&srv->peer_lock);
	for (size_t i = 0; i < srv->npc; i++) {
		if (strcmp(srv->pc[i].org_id, org_id) == 0) {
			if (srv->pc[i].n > 0)
				srv->pc[i].n--;
			break;
		}
	}
	pthread_mutex_unlock(&srv->peer_lock);
}

/* Write the state file atomically (a temporary file renamed into place): the bound port for
 * tests and tools, and what the daemon trusts now for `hiepeerctl status`. */
static int state_write(struct http_server *srv, char *err, size_t errlen)
{
	const struct config *cfg = srv->cfg;
	char path[CONFIG_PATH_MAX + 32], tmp[CONFIG_PATH_MAX + 48], t1[32], t2[32];
	struct trust_status ts;
	FILE *f;

	trust_status_get(srv->trust, &ts);
	srv->state_changes = ts.changes;
	if (cfg->state[0] != '\0')
		snprintf(path, sizeof(path), "%s", cfg->state);
	else
		snprintf(path, sizeof(path), "%s/hiepeerd.state", cfg->store);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL) {
		snprintf(err, errlen, "state file %s: %s", path, strerror(errno));
		return HX_EIO;
	}
	hx_time_format(ts.crl_next_update, t1, sizeof(t1));
	hx_time_format(ts.cert_not_after, t2, sizeof(t2));
	fprintf(f, "pid = %d\norg_id = %s\npeer = %s:%u\ntrust_generation = %llu\n"
	           "enrolled = %zu\ncertificate_not_after = %s\ncrl_next_update = %s\n",
	        (int)getpid(), cfg->org_id, cfg->peer.host[0] != '\0' ? cfg->peer.host : "0.0.0.0",
	        srv->port, (unsigned long long)ts.generation, ts.enrolled, t2,
	        ts.crl_next_update != 0 ? t1 : "-");
	if (srv->local_port != 0)
		fprintf(f, "local = %s:%u\n", cfg->local.host[0] != '\0' ? cfg->local.host : "0.0.0.0",
		        srv->local_port);
	if (ts.problem[0] != '\0') {
		hx_time_format(ts.problem_since, t1, sizeof(t1));
		fprintf(f, "trust_problem = %s\ntrust_problem_since = %s\n", ts.problem, t1);
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		snprintf(err, errlen, "state file %s: %s", path, strerror(errno));
		return HX_EIO;
	}
	return HX_OK;
}

static void server_free(struct http_server *srv)
{
	for (unsigned i = 0; i < srv->nworkers; i++) {
		struct http_worker *w = &srv->workers[i];
		if (w->slot != NULL && http_worker_slot_free != NULL)
			http_worker_slot_free(w->slot);
		w->slot = NULL;
		if (w->accept_ev != NULL)
			event_free(w->accept_ev);
		if (w->local_accept_ev != NULL)
			event_free(w->local_accept_ev);
		if (w->local_fd >= 0)
			close(w->local_fd);
		if (w->tick_ev != NULL)
			event_free(w->tick_ev);
		if (w->stop_ev != NULL)
			event_free(w->stop_ev);
		if (w->grace_ev != NULL)
			event_free(w->grace_ev);
		if (w->listen_fd >= 0)
			close(w->listen_fd);
		peer_client_free(w->peers);
		crypto_tls_client_free(w->client_tls);
		if (w->base != NULL)
			event_base_free(w->base);
	}
	free(srv->workers);
	free(srv->pc);
	pthread_mutex_destroy(&srv->peer_lock);
	free(srv);
}

static void evthread_init(void)
{
	evthread_use_pthreads();
}

int http_server_start(const struct config *cfg, struct store *store, struct trust *trust,
                      struct http_server **out, char *err, size_t errlen)
{
	static pthread_once_t evthread_once = PTHREAD_ONCE_INIT;
	struct http_server *srv;
	unsigned n = cfg->workers;
	uint16_t port = cfg->peer.port, lport = cfg->local.port;
	struct timeval second = {0, 500000}; /* the tick: deadlines, trust changes */

	pthread_once(&evthread_once, evthread_init);
	if (n == 0) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		n = cores > 0 ? (unsigned)cores : 1;
	}
	if (n > 256)
		n = 256;
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL || (srv->workers = calloc(n, sizeof(*srv->workers))) == NULL) {
		free(srv);
		snprintf(err, errlen, "out of memory");
		return HX_ENOMEM;
	}
	srv->cfg = cfg;
	srv->store = store;
	srv->trust = trust;
	srv->nworkers = n;
	srv->grace_ms = 5000;
	pthread_mutex_init(&srv->peer_lock, NULL);
	for (unsigned i = 0; i < n; i++) {
		srv->workers[i].listen_fd = -1;
		srv->workers[i].local_fd = -1;
	}
	for (unsigned i = 0; i < n; i++) {
		struct http_worker *w = &srv->workers[i];
		uint16_t bound = 0;
		w->srv = srv;
		w->index = i;
		w->trust_gen_seen = trust_generation(trust);
		w->listen_fd = listen_on(&cfg->peer, port, &bound, err, errlen);
		if (w->listen_fd < 0)
			goto fail;
		port = bound; /* workers after the first share the port the first one got */
		w->base = event_base_new();
		if (w->base == NULL ||
		    (w->accept_ev = event_new(w->base, w->listen_fd, EV_READ | EV_PERSIST, on_accept,
		                              w)) == NULL ||
		    (w->tick_ev = event_new(w->base, -1, EV_PERSIST, on_tick, w)) == NULL ||
		    (w->stop_ev = event_new(w->base, -1, 0, on_stop, w)) == NULL) {
			snprintf(err, errlen, "cannot set up the event loop");
			goto fail;
		}
		w->client_tls = trust_client_get(trust);
		if (peer_client_new(w->base, w->client_tls, &w->peers) != HX_OK) {
			snprintf(err, errlen, "cannot set up the peer client");
			goto fail;
		}
		if (cfg->local.set) {
			uint16_t lb = 0;
			if ((w->local_fd = listen_on(&cfg->local, lport, &lb, err, errlen)) < 0)
				goto fail;
			lport = lb;
			if ((w->local_accept_ev = event_new(w->base, w->local_fd, EV_READ | EV_PERSIST,
			                                    on_accept_local, w)) == NULL) {
				snprintf(err, errlen, "cannot set up the event loop");
				goto fail;
			}
			event_add(w->local_accept_ev, NULL);
		}
		event_add(w->accept_ev, NULL);
		event_add(w->tick_ev, &second);
	}
	srv->port = port;
	srv->local_port = cfg->local.set ? lport : 0;
	if (state_write(srv, err, errlen) != HX_OK)
		goto fail;
	for (unsigned i = 0; i < n; i++) {
		char tname[16];
		if (pthread_create(&srv->workers[i].thread, NULL, worker_main, &srv->workers[i]) != 0) {
			snprintf(err, errlen, "cannot start worker threads");
			/* Stop the ones started. */
			for (unsigned j = 0; j < i; j++) {
				event_active(srv->workers[j].stop_ev, EV_TIMEOUT, 0);
				pthread_join(srv->workers[j].thread, NULL);
			}
			srv->nworkers = n;
			goto fail;
		}
		/* Named for top -H and perf: hx-worker-0, hx-worker-1, ... */
		snprintf(tname, sizeof(tname), "hx-worker-%u", i % 1000);
		pthread_setname_np(srv->workers[i].thread, tname);
	}
	hx_log_notice("http: %u worker(s) serving peers on %s:%u", n,
	              cfg->peer.host[0] != '\0' ? cfg->peer.host : "*", port);
	if (srv->local_port != 0)
		hx_log_notice("http: local clients on %s:%u",
		              cfg->local.host[0] != '\0' ? cfg->local.host : "*", srv->local_port);
	*out = srv;
	return HX_OK;
fail:
	server_free(srv);
	return HX_EIO;
}

void http_server_stop(struct http_server *srv, unsigned grace_ms)
{
	if (srv == NULL)
		return;
	srv->grace_ms = grace_ms;
	for (unsigned i = 0; i < srv->nworkers; i++)
		event_active(srv->workers[i].stop_ev, EV_TIMEOUT, 0);
	for (unsigned i = 0; i < srv->nworkers; i++)
		pthread_join(srv->workers[i].thread, NULL);
	/* Anything left (a worker that stopped by grace) is closed by now. */
	for (unsigned i = 0; i < srv->nworkers; i++)
		while (srv->workers[i].conns != NULL)
			http_conn_close(srv->workers[i].conns);
	server_free(srv);
}

uint16_t http_server_port(const struct http_server *srv)
{
	return srv->port;
}

uint16_t http_server_local_port(const struct http_server *srv)
{
	return srv->local_port;
}
