/*
 * bench_load.c: an HTTP/1.1 load generator over mutual TLS, for the transport benchmarks.
 *
 * wrk and h2load cannot present a client certificate, so this is our own: one thread, one
 * epoll loop, non-blocking OpenSSL. It is a test tool, not part of hiepeer, so it calls
 * OpenSSL directly instead of going through crypto/.
 *
 * Modes:
 *   keepalive  --conns persistent connections; each sends its next request as soon as the
 *              previous response is complete (no pipelining).
 *   connect    every request on a fresh connection: TCP connect, full handshake, request with
 *              "Connection: close", response, then wait for the server to close.
 *   resume     like connect, but each connection slot offers the newest session it was given
 *              (SSL_set_session; under TLS 1.3 the newest ticket, since a server may accept a
 *              ticket only once). The first handshake of each slot is full. The count of
 *              handshakes actually resumed (SSL_session_reused) is reported, and a run where
 *              resumption did not happen says so loudly and fails.
 *
 * Every response must be "200" with a Content-Length (and --expect-bytes of body when
 * given): anything else stops the run with the status line and the start of the body.
 * The run lasts --warmup + --duration seconds, or until --requests responses. Only the
 * measured part (after the warm-up) counts: requests, latency (keepalive: from writing the
 * request to the last body byte; connect/resume: from connect() to the last body byte), and,
 * with --cpu-pid, the server's CPU time (utime + stime of /proc/PID/stat, summed over the
 * pids), read exactly at the start and the end of the measured part.
 *
 * Output: one line of key=value fields on stdout (see print_result()); diagnostics on
 * stderr. Exit status 0 if every request succeeded, 1 on errors, 2 on bad usage, 3 when
 * resumption was asked for and did not happen.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HDR_MAX 16384        /* largest response head accepted */
#define RBUF_SIZE 65536      /* one read */
#define CONNS_MAX 4096
#define PIDS_MAX 16
#define EXCERPT_MAX 256      /* body bytes kept to show with a failed response */
#define ERRORS_SHOWN 5       /* connection errors printed before going quiet */
#define ERRORS_ABORT 100     /* connection errors after which the run is abandoned */
#define BODY_MAX (64u << 20) /* --body file */

enum mode { MODE_KEEPALIVE, MODE_CONNECT, MODE_RESUME };
enum cstate { C_OFF, C_CONNECTING, C_HANDSHAKE, C_WRITING, C_READING, C_DRAINING, C_PACED };

static const char *const mode_names[] = {"keepalive", "connect", "resume"};
static const char *const state_names[] = {"off",     "connect", "handshake",
                                          "writing", "reading", "waiting for close"};

struct opts {
	const char *host, *servername, *cert, *key, *ca;
	const char *method, *path, *body_file, *bodies_file, *ctype, *save_body;
	int port, tls, conns;
	enum mode mode;
	double duration, warmup, timeout;
	double rate;             /* keepalive: requests/s over all connections; 0 = flat out */
	int spin;                /* poll without sleeping (--spin) */
	uint64_t requests;       /* 0: run for --duration */
	long long expect_bytes;  /* -1: any size */
	pid_t pids[PIDS_MAX];
	int npids;
};

struct conn {
	int fd;
	SSL *ssl;
	enum cstate st;
	uint32_t ev;             /* events registered with epoll */
	size_t wpos;             /* request bytes written */
	char hdr[HDR_MAX + 1];
	size_t hlen;
	int in_body, close_after, status;
	uint64_t clen, got;
	unsigned char excerpt[EXCERPT_MAX];
	size_t nexcerpt;
	int64_t t_start;         /* latency origin */
	int64_t next_ns;         /* --rate: not before this */
	const char *req;         /* the request being sent */
	size_t req_len;
	int64_t t_io;            /* last progress, for --timeout */
	SSL_SESSION *sess;       /* resume: the newest session this slot was given */
	uint64_t opened;         /* connections this slot has opened */
};

struct stats {
	uint64_t requests, errors, handshakes, resumed, reconnects;
	uint32_t *lat;           /* µs, one per measured request */
	size_t nlat, cap;
};

static struct opts o = {
	.host = "127.0.0.1", .method = "GET", .path = "/", .tls = 13, .conns = 1,
	.mode = MODE_KEEPALIVE, .duration = 5, .timeout = 10, .expect_bytes = -1,
};
static struct stats st;
static struct conn *conns;
static SSL_CTX *ctx;
static int ep = -1;
static struct sockaddr_storage addr;
static socklen_t addrlen;
static char *req;
static size_t req_len;
/* --bodies: one request per body, sent in turn over all connections. */
static char **reqs;
static size_t *req_lens, nreqs, req_next;
static unsigned char rbuf[RBUF_SIZE];
static int measuring, stopping;
static uint64_t issued;      /* requests started (for --requests) */
static uint64_t responses;   /* good responses, warm-up included */
static FILE *save_fp;
static int save_done;

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fatal(const char *fmt, ...)
{
	va_list ap;
	fputs("bench_load: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* OpenSSL's queued errors as one string (the queue is emptied). */
static const char *ssl_errors(void)
{
	static char buf[512];
	unsigned long e;
	size_t n = 0;
	buf[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		if (n + 3 < sizeof(buf)) {
			if (n > 0)
				n += (size_t)snprintf(buf + n, sizeof(buf) - n, "; ");
			ERR_error_string_n(e, buf + n, sizeof(buf) - n);
			n = strlen(buf);
		}
	}
	return buf[0] != '\0' ? buf : "no OpenSSL error queued";
}

/* Printable form of untrusted bytes (for a failed response's head and body). */
static void print_escaped(FILE *f, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n')
			fputs("\\n", f);
		else if (p[i] == '\r')
			fputs("\\r", f);
		else if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			fputc(p[i], f);
		else
			fprintf(f, "\\x%02x", p[i]);
	}
}

/* ---- server CPU ------------------------------------------------------------------------- */

/* utime + stime of every --cpu-pid, in clock ticks; -1 if a process is gone. *user (may be
 * NULL) gets utime alone: the time in the server's own code and libraries, without the kernel's
 * (on loopback, the kernel time includes waking the client). */
static long long server_ticks(long long *user)
{
	long long sum = 0, usum = 0;
	for (int i = 0; i < o.npids; i++) {
		char path[64], buf[1024], *p;
		unsigned long long ut, stime;
		size_t n;
		FILE *f;
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)o.pids[i]);
		if ((f = fopen(path, "r")) == NULL)
			return -1;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		/* Fields after the command name, which may hold spaces: ") S ppid ..." where
		 * utime and stime are fields 14 and 15, the 12th and 13th after ')'. */
		if ((p = strrchr(buf, ')')) == NULL ||
		    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
		           &stime) != 2)
			return -1;
		sum += (long long)(ut + stime);
		usum += (long long)ut;
	}
	if (user != NULL)
		*user = usum;
	return sum;
}

static double client_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* ---- connections ------------------------------------------------------------------------ */

static void conn_start(struct conn *c);

static void conn_close(struct conn *c)
{
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->fd >= 0)
		close(c->fd); /* also leaves the epoll set */
	c->ssl = NULL;
	c->fd = -1;
	c->st = C_OFF;
	c->ev = 0;
}

static int run_wants_more(void)
{
	return !stopping && (o.requests == 0 || issued < o.requests);
}

/* Close, and open a fresh connection if the run wants more requests. */
static void conn_next(struct conn *c)
{
	conn_close(c);
	if (run_wants_more())
		conn_start(c);
}

static void conn_error(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void conn_error(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	st.errors++;
	if (st.errors <= ERRORS_SHOWN) {
		fprintf(stderr, "bench_load: connection %d (%s): ", (int)(c - conns),
		        state_names[c->st]);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	/* Before any success an error is a setup problem (refused, certificate), not load. */
	if (responses == 0)
		fatal("the first connection failed: giving up");
	if (st.errors >= ERRORS_ABORT)
		fatal("%llu connection errors: giving up", (unsigned long long)st.errors);
	ERR_clear_error();
	conn_next(c);
}

static void conn_want(struct conn *c, uint32_t ev)
{
	struct epoll_event e = {.events = ev, .data.ptr = c};
	if (c->ev == ev)
		return;
	if (epoll_ctl(ep, c->ev == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c->fd, &e) != 0)
		fatal("epoll_ctl: %s", strerror(errno));
	c->ev = ev;
}

/* Map an SSL_ERROR_WANT_* to epoll interest; 1 if it was one (wait), 0 if not. */
static int ssl_wait(struct conn *c, int rc)
{
	switch (SSL_get_error(c->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		conn_want(c, EPOLLIN);
		return 1;
	case SSL_ERROR_WANT_WRITE:
		conn_want(c, EPOLLOUT);
		return 1;
	default:
		return 0;
	}
}

static void conn_start(struct conn *c)
{
	int one = 1, rc;

	c->fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		fatal("socket: %s", strerror(errno));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->t_start = c->t_io = mono_ns();
	c->st = C_CONNECTING;
	c->ev = 0;
	if (o.mode == MODE_KEEPALIVE && c->opened++ > 0 && measuring)
		st.reconnects++;
	rc = connect(c->fd, (struct sockaddr *)&addr, addrlen);
	if (rc != 0 && errno != EINPROGRESS) {
		conn_error(c, "connect: %s", strerror(errno));
		return;
	}
	conn_want(c, EPOLLOUT);
}

/* Start the next request on an established connection. */
static void request_begin(struct conn *c)
{
	if (!run_wants_more()) {
		conn_close(c);
		return;
	}
	issued++;
	if (nreqs > 0) {
		c->req = reqs[req_next % nreqs];
		c->req_len = req_lens[req_next % nreqs];
		req_next++;
	} else {
		c->req = req;
		c->req_len = req_len;
	}
	c->wpos = 0;
	c->hlen = 0;
	c->in_body = 0;
	c->close_after = 0;
	c->status = 0;
	c->clen = c->got = 0;
	c->nexcerpt = 0;
	if (o.mode == MODE_KEEPALIVE)
		c->t_start = mono_ns();
	c->st = C_WRITING;
	if (o.rate > 0 && o.mode == MODE_KEEPALIVE) {
		/* Each connection sends every conns/rate seconds; a late one does not catch up in
		 * a burst. */
		int64_t now = c->t_start, gap = (int64_t)(1e9 * o.conns / o.rate);
		if (c->next_ns == 0 || c->next_ns < now - gap)
			c->next_ns = now;
		if (now < c->next_ns) {
			c->st = C_PACED;
			conn_want(c, EPOLLIN);
		}
		c->next_ns += gap;
	}
}

static void conn_step(struct conn *c);

/* --rate: send the requests whose time has come; returns ns until the next one (at most
 * 100 ms). */
static int64_t pace(void)
{
	int64_t now = mono_ns(), wait = 100000000;
	for (int i = 0; i < o.conns; i++) {
		struct conn *c = &conns[i];
		if (c->st != C_PACED)
			continue;
		if (c->next_ns - (int64_t)(1e9 * o.conns / o.rate) <= now) {
			c->st = C_WRITING;
			c->t_start = now;
			conn_step(c);
		} else {
			int64_t ns = c->next_ns - (int64_t)(1e9 * o.conns / o.rate) - now;
			if (ns < wait)
				wait = ns;
		}
	}
	return wait;
}

/* Parse the response head in c->hdr[0..hlen): status, Content-Length, Connection. */
static void parse_head(struct conn *c)
{
	char *line, *save = NULL;
	int have_len = 0;

	c->hdr[c->hlen] = '\0';
	if (strncmp(c->hdr, "HTTP/1.", 7) != 0 || (c->hdr[7] != '0' && c->hdr[7] != '1') ||
	    c->hdr[8] != ' ' || sscanf(c->hdr + 9, "%3d", &c->status) != 1) {
		fputs("bench_load: not an HTTP/1.x response: ", stderr);
		print_escaped(stderr, (unsigned char *)c->hdr, c->hlen < 200 ? c->hlen : 200);
		fputc('\n', stderr);
		exit(1);
	}
	if (c->hdr[7] == '0')
		c->close_after = 1;
	strtok_r(c->hdr, "\r\n", &save); /* the status line */
	while ((line = strtok_r(NULL, "\r\n", &save)) != NULL) {
		char *v = strchr(line, ':');
		if (v == NULL)
			continue;
		*v++ = '\0';
		v += strspn(v, " \t");
		if (strcasecmp(line, "content-length") == 0) {
			char *end;
			errno = 0;
			c->clen = strtoull(v, &end, 10);
			if (errno != 0 || end == v || (*end != '\0' && *end != ' '))
				fatal("bad Content-Length '%s'", v);
			have_len = 1;
		} else if (strcasecmp(line, "transfer-encoding") == 0) {
			fatal("response with Transfer-Encoding '%s': only Content-Length is supported",
			      v);
		} else if (strcasecmp(line, "connection") == 0) {
			if (strcasestr(v, "close") != NULL)
				c->close_after = 1;
		}
	}
	if (!have_len)
		fatal("response %d without Content-Length", c->status);
	if (c->status == 200 && o.expect_bytes >= 0 && c->clen != (uint64_t)o.expect_bytes)
		fatal("response body of %llu bytes, expected %lld (--expect-bytes)",
		      (unsigned long long)c->clen, o.expect_bytes);
}

/* Take n response bytes. Returns 1 when the response is complete. */
static int feed(struct conn *c, const unsigned char *p, size_t n)
{
	if (!c->in_body) {
		size_t old = c->hlen, take = n < HDR_MAX - old ? n : HDR_MAX - old;
		size_t from = old > 3 ? old - 3 : 0;
		char *end;
		memcpy(c->hdr + old, p, take);
		c->hlen = old + take;
		c->hdr[c->hlen] = '\0';
		end = memmem(c->hdr + from, c->hlen - from, "\r\n\r\n", 4);
		if (end == NULL) {
			if (c->hlen == HDR_MAX)
				fatal("response head longer than %d bytes", HDR_MAX);
			return 0;
		}
		c->hlen = (size_t)(end + 4 - c->hdr);
		p += c->hlen - old;
		n -= c->hlen - old;
		parse_head(c);
		c->in_body = 1;
	}
	if (n > c->clen - c->got)
		fatal("%zu bytes beyond the Content-Length of %llu (the server sent more than "
		      "one response?)", n - (size_t)(c->clen - c->got), (unsigned long long)c->clen);
	if (c->nexcerpt < EXCERPT_MAX) {
		size_t k = EXCERPT_MAX - c->nexcerpt < n ? EXCERPT_MAX - c->nexcerpt : n;
		memcpy(c->excerpt + c->nexcerpt, p, k);
		c->nexcerpt += k;
	}
	if (save_fp != NULL && !save_done && n > 0 && fwrite(p, 1, n, save_fp) != n)
		fatal("--save-body: %s", strerror(errno));
	c->got += n;
	return c->got == c->clen;
}

static void record_latency(int64_t ns)
{
	if (st.nlat == st.cap) {
		size_t cap = st.cap == 0 ? 1 << 16 : st.cap * 2;
		uint32_t *p = realloc(st.lat, cap * sizeof(*p));
		if (p == NULL)
			fatal("out of memory");
		st.lat = p;
		st.cap = cap;
	}
	st.lat[st.nlat++] = ns / 1000 > UINT32_MAX ? UINT32_MAX : (uint32_t)(ns / 1000);
}

static void response_done(struct conn *c)
{
	if (c->status != 200) {
		fprintf(stderr, "bench_load: status %d from %s %s; head: ", c->status, o.method,
		        o.path);
		c->hdr[c->hlen] = '\0';
		print_escaped(stderr, (unsigned char *)c->hdr, strcspn(c->hdr, "\r\n"));
		fputs("; body starts: ", stderr);
		print_escaped(stderr, c->excerpt, c->nexcerpt);
		fputc('\n', stderr);
		exit(1);
	}
	responses++;
	if (measuring) {
		st.requests++;
		record_latency(mono_ns() - c->t_start);
	}
	if (save_fp != NULL && !save_done) {
		save_done = 1;
		if (fclose(save_fp) != 0)
			fatal("--save-body: %s", strerror(errno));
		save_fp = NULL;
	}
	if (o.mode != MODE_KEEPALIVE) {
		/* We asked for "Connection: close": the server closes, we read its end. */
		c->st = C_DRAINING;
		return;
	}
	if (c->close_after)
		conn_next(c);
	else
		request_begin(c);
}

/* Client side of the TLS session cache: keep the newest session of each slot. */
static int new_session(SSL *ssl, SSL_SESSION *sess)
{
	struct conn *c = SSL_get_app_data(ssl);
	if (c == NULL)
		return 0;
	SSL_SESSION_free(c->sess);
	c->sess = sess;
	return 1; /* we keep the reference */
}

static int ssl_begin(struct conn *c)
{
	if ((c->ssl = SSL_new(ctx)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
		fatal("SSL_new: %s", ssl_errors());
	SSL_set_app_data(c->ssl, c);
	if (o.servername != NULL) {
		if (SSL_set_tlsext_host_name(c->ssl, o.servername) != 1 ||
		    SSL_set1_host(c->ssl, o.servername) != 1)
			fatal("servername '%s': %s", o.servername, ssl_errors());
	} else if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), o.host) != 1) {
		fatal("--host '%s' is not an IP address to verify", o.host);
	}
	if (o.mode == MODE_RESUME && c->sess != NULL && SSL_SESSION_is_resumable(c->sess) &&
	    SSL_set_session(c->ssl, c->sess) != 1)
		fatal("SSL_set_session: %s", ssl_errors());
	return 0;
}

/* Drive a connection as far as it goes without blocking; called for an epoll event. */
static void conn_step(struct conn *c)
{
	for (int first = 1;; first = 0) {
		int rc, err = 0;
		socklen_t len = sizeof(err);

		switch (c->st) {
		case C_OFF:
		case C_PACED:
			return;
		case C_CONNECTING:
			/* A connection opened during this step waits for its own event. */
			if (!first)
				return;
			if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
				err = errno;
			if (err != 0) {
				conn_error(c, "connect to %s:%d: %s", o.host, o.port, strerror(err));
				return;
			}
			ssl_begin(c);
			c->st = C_HANDSHAKE;
			c->t_io = mono_ns();
			break;
		case C_HANDSHAKE:
			rc = SSL_connect(c->ssl);
			if (rc == 1) {
				if (measuring) {
					st.handshakes++;
					st.resumed += SSL_session_reused(c->ssl) == 1;
				}
				c->t_io = mono_ns();
				request_begin(c);
				break;
			}
			if (ssl_wait(c, rc))
				return;
			{
				long v = SSL_get_verify_result(c->ssl);
				conn_error(c, "TLS handshake: %s%s%s", ssl_errors(),
				           v != X509_V_OK ? "; certificate: " : "",
				           v != X509_V_OK ? X509_verify_cert_error_string(v) : "");
			}
			return;
		case C_WRITING:
			rc = SSL_write(c->ssl, c->req + c->wpos, (int)(c->req_len - c->wpos));
			if (rc > 0) {
				c->wpos += (size_t)rc;
				c->t_io = mono_ns();
				if (c->wpos == c->req_len)
					c->st = C_READING;
				break;
			}
			if (ssl_wait(c, rc))
				return;
			conn_error(c, "write: %s", ssl_errors());
			return;
		case C_READING:
			rc = SSL_read(c->ssl, rbuf, sizeof(rbuf));
			if (rc > 0) {
				c->t_io = mono_ns();
				if (feed(c, rbuf, (size_t)rc))
					response_done(c);
				break;
			}
			if (ssl_wait(c, rc))
				return;
			conn_error(c, "the server closed the connection after %llu of the response "
			           "(%s)", (unsigned long long)(c->hlen + c->got), ssl_errors());
			return;
		case C_DRAINING:
			rc = SSL_read(c->ssl, rbuf, sizeof(rbuf));
			if (rc > 0) {
				conn_error(c, "%d bytes after the response to a Connection: close "
				           "request", rc);
				return;
			}
			if (ssl_wait(c, rc))
				return;
			/* close_notify, EOF or a reset: the connection is over either way. Mark it
			 * shut down (without sending anything to the closed socket): OpenSSL makes
			 * the session of a connection freed without a shutdown unresumable. */
			ERR_clear_error();
			SSL_set_quiet_shutdown(c->ssl, 1);
			SSL_shutdown(c->ssl);
			conn_next(c);
			return;
		}
	}
}

/* ---- setup ------------------------------------------------------------------------------ */

static void make_ctx(void)
{
	int v = o.tls == 12 ? TLS1_2_VERSION : TLS1_3_VERSION;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		fatal("SSL_CTX_new: %s", ssl_errors());
	SSL_CTX_set_min_proto_version(ctx, v);
	SSL_CTX_set_max_proto_version(ctx, v);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_use_certificate_chain_file(ctx, o.cert) != 1)
		fatal("--cert %s: %s", o.cert, ssl_errors());
	if (SSL_CTX_use_PrivateKey_file(ctx, o.key, SSL_FILETYPE_PEM) != 1)
		fatal("--key %s: %s", o.key, ssl_errors());
	if (SSL_CTX_check_private_key(ctx) != 1)
		fatal("--key %s does not match --cert %s", o.key, o.cert);
	if (SSL_CTX_load_verify_locations(ctx, o.ca, NULL) != 1)
		fatal("--ca %s: %s", o.ca, ssl_errors());
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (o.mode == MODE_RESUME) {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
		                                        SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(ctx, new_session);
	} else {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	}
}

static void build_request(const unsigned char *body, size_t blen, int has_body, char **out,
                          size_t *out_len)
{
	size_t cap = 1024 + strlen(o.path) + strlen(o.host) +
	             (o.servername ? strlen(o.servername) : 0) + (o.ctype ? strlen(o.ctype) : 0) +
	             blen;
	char *r = malloc(cap);
	int hl;
	if (r == NULL)
		fatal("out of memory");
	hl = snprintf(r, cap, "%s %s HTTP/1.1\r\nHost: %s\r\n", o.method, o.path,
	              o.servername != NULL ? o.servername : o.host);
	if (o.ctype != NULL)
		hl += snprintf(r + hl, cap - (size_t)hl, "Content-Type: %s\r\n", o.ctype);
	if (has_body || strcmp(o.method, "POST") == 0)
		hl += snprintf(r + hl, cap - (size_t)hl, "Content-Length: %zu\r\n", blen);
	if (o.mode != MODE_KEEPALIVE)
		hl += snprintf(r + hl, cap - (size_t)hl, "Connection: close\r\n");
	hl += snprintf(r + hl, cap - (size_t)hl, "\r\n");
	if (blen > 0)
		memcpy(r + hl, body, blen);
	*out = r;
	*out_len = (size_t)hl + blen;
}

/* --bodies FILE: records of a 4-byte big-endian length and that many bytes. */
static void make_requests(void)
{
	FILE *f = fopen(o.bodies_file, "rb");
	unsigned char len4[4], *body = malloc(BODY_MAX);
	size_t cap = 0;
	if (f == NULL || body == NULL)
		fatal("--bodies %s: %s", o.bodies_file, f == NULL ? strerror(errno) : "no memory");
	while (fread(len4, 1, 4, f) == 4) {
		size_t blen = (size_t)len4[0] << 24 | (size_t)len4[1] << 16 | (size_t)len4[2] << 8 |
		              len4[3];
		if (blen > BODY_MAX || fread(body, 1, blen, f) != blen)
			fatal("--bodies %s: a record is cut or over %u bytes", o.bodies_file, BODY_MAX);
		if (nreqs == cap) {
			char **nr;
			size_t *nl;
			cap = cap ? cap * 2 : 1024;
			if ((nr = realloc(reqs, cap * sizeof(*reqs))) == NULL)
				fatal("out of memory");
			reqs = nr;
			if ((nl = realloc(req_lens, cap * sizeof(*req_lens))) == NULL)
				fatal("out of memory");
			req_lens = nl;
		}
		build_request(body, blen, 1, &reqs[nreqs], &req_lens[nreqs]);
		nreqs++;
	}
	fclose(f);
	free(body);
	if (nreqs == 0)
		fatal("--bodies %s: no record", o.bodies_file);
	req = reqs[0];
	req_len = req_lens[0];
}

static void make_request(void)
{
	unsigned char *body = NULL;
	size_t blen = 0;

	if (o.bodies_file != NULL) {
		make_requests();
		return;
	}
	if (o.body_file != NULL) {
		FILE *f = fopen(o.body_file, "rb");
		if (f == NULL)
			fatal("--body %s: %s", o.body_file, strerror(errno));
		body = malloc(BODY_MAX);
		if (body == NULL)
			fatal("out of memory");
		blen = fread(body, 1, BODY_MAX, f);
		if (ferror(f) || !feof(f))
			fatal("--body %s: unreadable or over %u bytes", o.body_file, BODY_MAX);
		fclose(f);
	}
	build_request(body, blen, o.body_file != NULL, &req, &req_len);
	free(body);
}

static void make_addr(void)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)&addr;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&addr;

	memset(&addr, 0, sizeof(addr));
	if (inet_pton(AF_INET, o.host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)o.port);
		addrlen = sizeof(*a4);
	} else if (inet_pton(AF_INET6, o.host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)o.port);
		addrlen = sizeof(*a6);
	} else {
		fatal("--host must be an IP address, not '%s'", o.host);
	}
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: bench_load --port N --cert C --key K --ca CA [options]\n"
	        "  --host IP              server address (default 127.0.0.1)\n"
	        "  --servername NAME      SNI and the name to verify (default: verify --host)\n"
	        "  --tls 1.2|1.3          protocol version (default 1.3)\n"
	        "  --mode keepalive|connect|resume   (default keepalive)\n"
	        "  --conns N              concurrent connections (default 1)\n"
	        "  --duration S           measured seconds (default 5), after --warmup S (0)\n"
	        "  --requests N           instead of --duration: stop after N responses\n"
	        "  --method GET|POST --path P [--body FILE] [--content-type T]\n"
	        "  --expect-bytes N       every body must be N bytes\n"
	        "  --cpu-pid PID[,PID]    report these processes' CPU time per request\n"
	        "  --save-body FILE       write the first response body to FILE\n"
	        "  --timeout S            a connection without progress for S s fails (10)\n"
	        "  --bodies FILE          instead of --body: records (4-byte big-endian length,\n"
	        "                         bytes), one request each, sent in turn\n"
	        "  --rate R               keepalive: at most R requests/s in all (paced per\n"
	        "                         connection; compare two servers at the same rate)\n"
	        "  --spin                 never sleep waiting for the server: poll, as a load\n"
	        "                         on another host costs the server no wake-up\n");
}

static double parse_num(const char *opt, const char *s, double lo, double hi)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end != '\0' || !(v >= lo && v <= hi)) {
		fprintf(stderr, "bench_load: %s: a number from %g to %g, not '%s'\n", opt, lo, hi, s);
		exit(2);
	}
	return v;
}

static void parse_args(int argc, char **argv)
{
	enum {
		OPT_HOST = 256, OPT_PORT, OPT_CERT, OPT_KEY, OPT_CA, OPT_SNI, OPT_MODE, OPT_CONNS,
		OPT_DUR, OPT_REQS, OPT_METHOD, OPT_PATH, OPT_BODY, OPT_CTYPE, OPT_EXPECT, OPT_TLS,
		OPT_WARM, OPT_PID, OPT_SAVE, OPT_TIMEOUT, OPT_RATE, OPT_BODIES, OPT_SPIN, OPT_HELP
	};
	static const struct option lo[] = {
		{"host", required_argument, NULL, OPT_HOST},
		{"port", required_argument, NULL, OPT_PORT},
		{"cert", required_argument, NULL, OPT_CERT},
		{"key", required_argument, NULL, OPT_KEY},
		{"ca", required_argument, NULL, OPT_CA},
		{"servername", required_argument, NULL, OPT_SNI},
		{"mode", required_argument, NULL, OPT_MODE},
		{"conns", required_argument, NULL, OPT_CONNS},
		{"duration", required_argument, NULL, OPT_DUR},
		{"requests", required_argument, NULL, OPT_REQS},
		{"method", required_argument, NULL, OPT_METHOD},
		{"path", required_argument, NULL, OPT_PATH},
		{"body", required_argument, NULL, OPT_BODY},
		{"content-type", required_argument, NULL, OPT_CTYPE},
		{"expect-bytes", required_argument, NULL, OPT_EXPECT},
		{"tls", required_argument, NULL, OPT_TLS},
		{"warmup", required_argument, NULL, OPT_WARM},
		{"cpu-pid", required_argument, NULL, OPT_PID},
		{"save-body", required_argument, NULL, OPT_SAVE},
		{"timeout", required_argument, NULL, OPT_TIMEOUT},
		{"rate", required_argument, NULL, OPT_RATE},
		{"spin", no_argument, NULL, OPT_SPIN},
		{"bodies", required_argument, NULL, OPT_BODIES},
		{"help", no_argument, NULL, OPT_HELP},
		{NULL, 0, NULL, 0},
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case OPT_HOST: o.host = optarg; break;
		case OPT_PORT: o.port = (int)parse_num("--port", optarg, 1, 65535); break;
		case OPT_CERT: o.cert = optarg; break;
		case OPT_KEY: o.key = optarg; break;
		case OPT_CA: o.ca = optarg; break;
		case OPT_SNI: o.servername = optarg; break;
		case OPT_CONNS: o.conns = (int)parse_num("--conns", optarg, 1, CONNS_MAX); break;
		case OPT_DUR: o.duration = parse_num("--duration", optarg, 0.1, 86400); break;
		case OPT_REQS: o.requests = (uint64_t)parse_num("--requests", optarg, 1, 1e12); break;
		case OPT_WARM: o.warmup = parse_num("--warmup", optarg, 0, 3600); break;
		case OPT_TIMEOUT: o.timeout = parse_num("--timeout", optarg, 0.1, 3600); break;
		case OPT_RATE: o.rate = parse_num("--rate", optarg, 1, 1e7); break;
		case OPT_SPIN: o.spin = 1; break;
		case OPT_BODIES: o.bodies_file = optarg; break;
		case OPT_PATH: o.path = optarg; break;
		case OPT_BODY: o.body_file = optarg; break;
		case OPT_CTYPE: o.ctype = optarg; break;
		case OPT_SAVE: o.save_body = optarg; break;
		case OPT_EXPECT:
			o.expect_bytes = (long long)parse_num("--expect-bytes", optarg, 0, 1e12);
			break;
		case OPT_METHOD:
			if (strcmp(optarg, "GET") != 0 && strcmp(optarg, "POST") != 0) {
				fprintf(stderr, "bench_load: --method GET or POST\n");
				exit(2);
			}
			o.method = optarg;
			break;
		case OPT_MODE:
			for (o.mode = MODE_KEEPALIVE; o.mode <= MODE_RESUME; o.mode++)
				if (strcmp(optarg, mode_names[o.mode]) == 0)
					break;
			if (o.mode > MODE_RESUME) {
				fprintf(stderr, "bench_load: --mode keepalive, connect or resume\n");
				exit(2);
			}
			break;
		case OPT_TLS:
			if (strcmp(optarg, "1.2") != 0 && strcmp(optarg, "1.3") != 0) {
				fprintf(stderr, "bench_load: --tls 1.2 or 1.3\n");
				exit(2);
			}
			o.tls = optarg[2] == '2' ? 12 : 13;
			break;
		case OPT_PID:
			for (char *save = NULL, *t = strtok_r(optarg, ",", &save); t != NULL;
			     t = strtok_r(NULL, ",", &save)) {
				if (o.npids == PIDS_MAX) {
					fprintf(stderr, "bench_load: at most %d pids\n", PIDS_MAX);
					exit(2);
				}
				o.pids[o.npids++] = (pid_t)parse_num("--cpu-pid", t, 1, 1 << 30);
			}
			break;
		case OPT_HELP:
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc || o.port == 0 || o.cert == NULL || o.key == NULL || o.ca == NULL) {
		usage(stderr);
		exit(2);
	}
	if (o.save_body != NULL && o.conns != 1) {
		fprintf(stderr, "bench_load: --save-body needs --conns 1\n");
		exit(2);
	}
}

/* ---- results ---------------------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile of the sorted latencies. */
static uint32_t percentile(double q)
{
	size_t k;
	if (st.nlat == 0)
		return 0;
	k = (size_t)(q * (double)st.nlat + 0.999999);
	return st.lat[k == 0 ? 0 : k - 1];
}

static void print_result(double secs, long long ticks, long long user_ticks, double client_cpu)
{
	printf("mode=%s tls=1.%d conns=%d requests=%llu errors=%llu seconds=%.3f rps=%.1f "
	       "p50_us=%u p99_us=%u handshakes=%llu resumed=%llu reconnects=%llu",
	       mode_names[o.mode], o.tls - 10, o.conns, (unsigned long long)st.requests,
	       (unsigned long long)st.errors, secs, (double)st.requests / secs, percentile(0.50),
	       percentile(0.99), (unsigned long long)st.handshakes,
	       (unsigned long long)st.resumed, (unsigned long long)st.reconnects);
	if (o.npids > 0) {
		double us = (double)ticks * 1e6 / (double)sysconf(_SC_CLK_TCK);
		double uus = (double)user_ticks * 1e6 / (double)sysconf(_SC_CLK_TCK);
		printf(" server_cpu_us=%.0f server_cpu_pct=%.1f cpu_us_per_req=%.2f "
		       "user_cpu_us_per_req=%.2f",
		       us, us / 1e4 / secs, st.requests > 0 ? us / (double)st.requests : 0.0,
		       st.requests > 0 ? uus / (double)st.requests : 0.0);
	}
	printf(" client_cpu_pct=%.1f\n", client_cpu * 100 / secs);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct epoll_event evs[256];
	int64_t t_begin, t_measure, t_end, t0 = 0, t1, t_check;
	long long ticks0 = 0, ticks1, user0 = 0, user1 = 0;
	double cpu0 = 0;
	int rc = 0;

	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	make_addr();
	make_ctx();
	make_request();
	if (o.save_body != NULL && (save_fp = fopen(o.save_body, "wb")) == NULL)
		fatal("--save-body %s: %s", o.save_body, strerror(errno));
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		fatal("epoll_create1: %s", strerror(errno));
	if ((conns = calloc((size_t)o.conns, sizeof(*conns))) == NULL)
		fatal("out of memory");

	t_begin = mono_ns();
	t_measure = o.requests > 0 ? t_begin : t_begin + (int64_t)(o.warmup * 1e9);
	t_end = o.requests > 0 ? INT64_MAX : t_measure + (int64_t)(o.duration * 1e9);
	t_check = t_begin;
	for (int i = 0; i < o.conns; i++) {
		conns[i].fd = -1;
		if (o.requests == 0 || issued < o.requests)
			conn_start(&conns[i]);
	}
	for (;;) {
		int64_t now = mono_ns(), wait_ms;
		int n, live = 0;

		if (!measuring && now >= t_measure) {
			measuring = 1;
			ticks0 = server_ticks(&user0);
			cpu0 = client_cpu_s();
			t0 = now;
			if (ticks0 < 0)
				fatal("cannot read /proc/PID/stat of --cpu-pid (did the server exit?)");
		}
		if (now >= t_end || (o.requests > 0 && st.requests >= o.requests))
			break;
		if (now - t_check >= 100000000) {
			t_check = now;
			for (int i = 0; i < o.conns; i++) {
				struct conn *c = &conns[i];
				if (c->st != C_OFF &&
				    (double)(now - c->t_io) > o.timeout * 1e9)
					conn_error(c, "no progress for %.0f s", o.timeout);
			}
		}
		for (int i = 0; i < o.conns; i++)
			live += conns[i].st != C_OFF;
		if (live == 0)
			break;
		wait_ms = (measuring ? t_end : t_measure) - now;
		wait_ms = wait_ms / 1000000 + 1;
		if (wait_ms > 100)
			wait_ms = 100;
		if (o.spin) {
			/* --spin: the load's thread never sleeps, so a server's answer never has to
			 * wake it. On loopback the server's write pays that wake-up (in a VM that
			 * halts idle cores, several microseconds); a load on another host costs it
			 * nothing. Paced requests are sent when due (pace() above). */
			if (o.rate > 0)
				pace();
			n = epoll_wait(ep, evs, (int)(sizeof(evs) / sizeof(evs[0])), 0);
		} else if (o.rate > 0) {
			/* Sleep until the next paced request is due, to the nanosecond: spinning
			 * would hide the cost of waking a client that waits, as clients do. */
			int64_t w = pace(), ns = wait_ms * 1000000;
			struct timespec ts;
			if (w < ns)
				ns = w;
			ts.tv_sec = (time_t)(ns / 1000000000);
			ts.tv_nsec = (long)(ns % 1000000000);
			n = epoll_pwait2(ep, evs, (int)(sizeof(evs) / sizeof(evs[0])), &ts, NULL);
		} else {
			n = epoll_wait(ep, evs, (int)(sizeof(evs) / sizeof(evs[0])), (int)wait_ms);
		}
		if (n < 0 && errno != EINTR)
			fatal("epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++)
			conn_step(evs[i].data.ptr);
	}
	t1 = mono_ns();
	ticks1 = server_ticks(&user1);
	stopping = 1;
	if (o.npids > 0 && ticks1 < 0)
		fatal("cannot read /proc/PID/stat of --cpu-pid at the end (did the server exit?)");
	if (!measuring)
		fatal("the run ended before the warm-up did");
	qsort(st.lat, st.nlat, sizeof(*st.lat), cmp_u32);
	print_result((double)(t1 - t0) / 1e9, ticks1 - ticks0, user1 - user0, client_cpu_s() - cpu0);

	if (o.requests > 0 && st.requests < o.requests) {
		fprintf(stderr, "bench_load: only %llu of %llu requests succeeded\n",
		        (unsigned long long)st.requests, (unsigned long long)o.requests);
		rc = 1;
	}
	if (st.errors > 0)
		rc = 1;
	if (o.save_body != NULL && !save_done) {
		fprintf(stderr, "bench_load: --save-body: no response was received\n");
		rc = 1;
	}
	if (o.mode == MODE_RESUME) {
		uint64_t full = st.handshakes - st.resumed;
		if (st.resumed == 0) {
			fprintf(stderr, "bench_load: RESUMPTION DID NOT HAPPEN: none of %llu handshakes "
			        "was resumed (the server ignored or refused every session offered)\n",
			        (unsigned long long)st.handshakes);
			rc = 3;
		} else if (full > (uint64_t)o.conns) {
			fprintf(stderr, "bench_load: WARNING: resumption: %llu of %llu handshakes were "
			        "full (only the first handshake of each of the %d slots should be)\n",
			        (unsigned long long)full, (unsigned long long)st.handshakes, o.conns);
		}
	}
	for (int i = 0; i < o.conns; i++) {
		conn_close(&conns[i]);
		SSL_SESSION_free(conns[i].sess);
	}
	SSL_CTX_free(ctx);
	free(conns);
	free(req);
	free(st.lat);
	return rc;
}
