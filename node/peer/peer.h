/*
 * node/peer/peer.h: calls to peers: libcurl multi driven by an event_base (curl's
 * multi-event pattern), one per worker thread.
 *
 * Every call: https only, no redirects, our client certificate from one crypto_tls_client
 * loaded once (no per-connection file loading), the server verified against the community CA
 * and pinned to the peer's enrolled fingerprint, a cap on the response size, and a deadline.
 * Connections are kept alive and reused per peer, and TLS sessions resumed.
 */
#ifndef HX_PEER_H
#define HX_PEER_H

#include <event2/event.h>
#include <stdint.h>

#include "crypto.h"
#include "store.h"
#include "hx.h"

struct peer_client;
struct peer_call;

struct peer_request {
	const char *url;            /* https://host:port/path */
	const uint8_t *fp;          /* the peer's enrolled certificate fingerprint (32 bytes) */
	const uint8_t *fp_next;     /* its staged next one during a rotation, or NULL */
	const uint8_t *body;        /* POST body (copied: it may be freed once the call started),
	                               or NULL for GET */
	size_t body_len;
	uint64_t timeout_ms;        /* whole-call deadline */
	size_t max_response;        /* bytes */
};

struct peer_result {
	int rc;                     /* HX_OK when an HTTP response arrived */
	long status;                /* its HTTP status */
	struct hx_buf body;         /* its body (owned by the call; valid during the callback) */
	char error[256];            /* what went wrong, for a log line or the CLI */
};

/* Called once per call, on the event_base's thread. */
typedef void (*peer_done_fn)(struct peer_call *call, const struct peer_result *res, void *arg);

int peer_client_new(struct event_base *base, const struct crypto_tls_client *tls,
                    struct peer_client **out);
/* Cancels every call still running (their callbacks are not called). */
void peer_client_free(struct peer_client *pc);
/* Our identity from now on (our certificate renewed): new connections present it and resume
 * only sessions made with it. tls must outlive its use by the client. Connections already
 * open stay until peer_client_disconnect(). */
void peer_client_set_tls(struct peer_client *pc, const struct crypto_tls_client *tls);
/* Close every idle connection; TLS sessions stay, to be resumed. HX_EBUSY while calls run. */
int peer_client_disconnect(struct peer_client *pc);

/* Start a call. HX_EINVAL (not https, no pin), HX_ENOMEM. */
int peer_call_start(struct peer_client *pc, const struct peer_request *req, peer_done_fn done,
                    void *arg, struct peer_call **out);
/* Cancel a running call: its callback is not called. */
void peer_call_cancel(struct peer_call *call);

/* Whether a failed call's error text is the other side refusing our certificate: a TLS alert
 * about certificates (handshake failure, bad, unknown, revoked or expired certificate,
 * certificate required, unknown CA, access denied), which TLS 1.3 delivers on our first read
 * after the handshake. Such a call's rc is HX_ETLS. */
int peer_refused_us(const char *error);

/* A blocking call on a private event loop (for hiepeerctl). The response body is appended
 * to `body` (whose max must be >= req->max_response). Returns the result's rc. */
int peer_call_sync(const struct crypto_tls_client *tls, const struct peer_request *req,
                   long *status, struct hx_buf *body, char *err, size_t errlen);
/* The same on a client and event loop the caller keeps (connections and TLS sessions stay
 * warm between calls); runs the loop until the call ends. */
int peer_call_wait(struct peer_client *pc, struct event_base *base,
                   const struct peer_request *req, long *status, struct hx_buf *body, char *err,
                   size_t errlen);

/* The pins of the active enrolled peer with role `role` (Hie__V1__PeerRole) whose endpoint is
 * `url` (trailing slashes ignored): its current and staged fingerprints. HX_ENOTFOUND. */
struct peer_pin {
	uint8_t fp[CRYPTO_SHA256_LEN], next[CRYPTO_SHA256_LEN];
	int has_next;
};
int peer_pin_by_url(struct store *s, const char *url, int role, struct peer_pin *out);
/* Before a document retrieved from a peer is handed on: its content matches its SHA-256 (and
 * size), and its origin organisation's signature verifies with that organisation's enrolled
 * certificate (current or staged). HX_OK with msg saying how it was verified; HX_ECORRUPT
 * (hash) or HX_EDENIED (no signature unless allow_unsigned, origin not enrolled or without a
 * certificate, a signature that does not verify) with msg saying why. */
int peer_document_verify(struct store *s, const Hie__V1__Document *d, int allow_unsigned,
                         char *msg, size_t msglen);

/* base (its trailing slashes dropped) followed by path, cut to size. */
void peer_url_join(const char *base, const char *path, char *out, size_t size);

#endif
