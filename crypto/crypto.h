/*
 * crypto/crypto.h: every OpenSSL call of hiepeer lives behind this header.
 *
 * This header exposes no OpenSSL types, so modules that must not see OpenSSL (store/)
 * may use its hashing functions. Later issues add TLS contexts, certificates, signatures
 * and patient tokens here.
 */
#ifndef HX_CRYPTO_H
#define HX_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "hx.h"

#define CRYPTO_SHA256_LEN 32

/* SHA-256 of one buffer. */
void crypto_sha256(const void *data, size_t len, uint8_t out[CRYPTO_SHA256_LEN]);

/* SHA-256 over several buffers, as if concatenated. */
struct crypto_iov {
	const void *data;
	size_t len;
};
void crypto_sha256_v(const struct crypto_iov *iov, size_t n, uint8_t out[CRYPTO_SHA256_LEN]);

/* Fill buf with n bytes from the OS CSPRNG (via OpenSSL). HX_EINTERNAL if it fails. */
int crypto_random(void *buf, size_t n);

/* A fresh 128-bit document id as 32 lowercase hex digits (out: 33 bytes). */
int crypto_doc_id_new(char out[33]);

/* "SHA256:<64 hex>" for a 32-byte fingerprint (out: 72 bytes). */
void crypto_fingerprint_format(const uint8_t fp[CRYPTO_SHA256_LEN], char *out, size_t size);

/* Wipe memory that held a secret. */
void crypto_wipe(void *p, size_t n);

/* ---- origin signatures of documents (crypto_sign.c) -----------------------------------------
 * The organisation that publishes a document signs, with its node's private key, the bytes
 *   "hiepeer-doc-sig-v1" 0x1f ORIGIN-OID 0x1f DOCUMENT-ID 0x1f SHA-256 (hex) 0x1f SIZE
 * (ECDSA or RSA over SHA-256; Ed25519/Ed448 over the bytes). A consumer checks it with the
 * origin's enrolled certificate, and the content against the SHA-256, before handing the
 * bytes on. */
struct crypto_signer;
int crypto_signer_new(const char *key_path, struct crypto_signer **out, char *err,
                      size_t errlen);
void crypto_signer_free(struct crypto_signer *s);
int crypto_doc_sign(struct crypto_signer *s, const char *origin_org, const char *doc_id,
                    const uint8_t sha256[32], uint64_t size, struct hx_buf *sig);
/* HX_OK; HX_EDENIED when the signature does not verify; HX_EPARSE for an unusable
 * certificate. */
int crypto_doc_verify(const uint8_t *cert_der, size_t cert_len, const char *origin_org,
                      const char *doc_id, const uint8_t sha256[32], uint64_t size,
                      const uint8_t *sig, size_t siglen);
/* The first certificate of a PEM file, as DER. */
int crypto_cert_der_load(const char *pem_path, struct hx_buf *der, char *err, size_t errlen);

/* ---- HMAC and the linkage key (crypto_token.c) ---------------------------------------------- */

/* HMAC-SHA256 (RFC 2104) of data under key; the _v form over up to CRYPTO_HMAC_IOV_MAX
 * buffers as if concatenated. */
#define CRYPTO_HMAC_IOV_MAX 15
void crypto_hmac_sha256(const uint8_t *key, size_t keylen, const void *data, size_t len,
                        uint8_t out[CRYPTO_SHA256_LEN]);
void crypto_hmac_sha256_v(const uint8_t *key, size_t keylen, const struct crypto_iov *iov,
                          size_t n, uint8_t out[CRYPTO_SHA256_LEN]);

/* The community's linkage key: the secret every node of a region shares so that the same
 * person gives the same patient tokens everywhere, and the RLS (which never holds it) sees
 * only tokens. A file with 64 to 128 hex digits on one line, mode 0600 or 0400. */
#define CRYPTO_LINKAGE_KEY_MIN 32
#define CRYPTO_LINKAGE_KEY_MAX 64
struct crypto_linkage_key {
	uint8_t key[CRYPTO_LINKAGE_KEY_MAX];
	size_t len;
	uint8_t id[CRYPTO_SHA256_LEN]; /* HMAC(key, "hiepeer-linkage-key-id"): names it safely */
};
/* HX_OK; HX_ENOTFOUND, HX_EPERM (unreadable, or readable by group or others), HX_EINVAL
 * (not a regular file), HX_EPARSE (not 64..128 hex digits), HX_EIO; err names the file. */
int crypto_linkage_key_load(const char *path, struct crypto_linkage_key *out, char *err,
                            size_t errlen);
/* Write a fresh random 32-byte key to a new file (mode 0600). HX_EEXIST if it exists. */
int crypto_linkage_key_new(const char *path, char *err, size_t errlen);


/* ---- TLS (crypto_tls.c) ----------------------------------------------------------------- */

/*
 * The peer-facing TLS server policy: TLS 1.2 and 1.3 only; TLS 1.2 suites ECDHE with AES-GCM
 * or ChaCha20-Poly1305 only; no renegotiation, no compression; a client certificate is
 * required and verified against the community CA bundle (and the CRL, when given); session
 * resumption from a server-side cache only (no stateless tickets), with the trust generation
 * as session id context so that no session from before a trust change is resumed. On top of
 * the chain, the `admit` callback decides on the leaf's SHA-256 fingerprint (enrolled and
 * active): a refused certificate fails the handshake.
 *
 * A crypto_tls_server is immutable once built and may be used by several threads at once;
 * connections keep what they need alive, so the server may be freed while they run.
 */
struct crypto_tls_server;
struct crypto_tls_conn;

typedef int (*crypto_tls_admit_fn)(const uint8_t fp[CRYPTO_SHA256_LEN], void *arg);

struct crypto_tls_server_opts {
	const char *cert_file;      /* PEM chain, leaf first */
	const char *key_file;
	const char *ca_file;        /* community CA bundle (PEM) */
	const char *crl_file;       /* PEM CRL(s) or NULL */
	uint64_t trust_gen;         /* session id context */
	unsigned session_cache;     /* entries; 0 = 20480 */
	unsigned session_timeout_s; /* 0 = 300 */
	crypto_tls_admit_fn admit;  /* NULL admits every verified chain */
	void *admit_arg;
};

/* Build a server context. HX_ETLS (with err naming the file and OpenSSL's reason),
 * HX_ENOTFOUND for a missing file, HX_ENOMEM. A CRL must be signed by a CA of the bundle
 * and not past its nextUpdate, or the context is not built. */
int crypto_tls_server_new(const struct crypto_tls_server_opts *o, struct crypto_tls_server **out,
                          char *err, size_t errlen);
void crypto_tls_server_free(struct crypto_tls_server *s);
/* The CRL's earliest nextUpdate (Unix ms; 0 without a CRL) and our certificate's notAfter. */
int64_t crypto_tls_server_crl_next_update(const struct crypto_tls_server *s);
int64_t crypto_tls_server_cert_not_after(const struct crypto_tls_server *s);
/* The SHA-256 fingerprint of the certificate it presents. */
void crypto_tls_server_cert_fingerprint(const struct crypto_tls_server *s,
                                        uint8_t out[CRYPTO_SHA256_LEN]);
/* Drop expired sessions from the cache (call every few seconds from one thread). */
void crypto_tls_server_flush(struct crypto_tls_server *s);
/* Another reference to the same server (freed by crypto_tls_server_free). */
struct crypto_tls_server *crypto_tls_server_ref(struct crypto_tls_server *s);

/* Results of the non-blocking connection calls (besides negative hx_err values). */
enum crypto_tls_io {
	CRYPTO_TLS_DONE = 0,
	CRYPTO_TLS_WANT_READ = 1,
	CRYPTO_TLS_WANT_WRITE = 2,
	CRYPTO_TLS_EOF = 3, /* the peer closed (close_notify or TCP EOF) */
};

/* A server-side connection on a connected non-blocking socket (not owned: the caller
 * closes fd after crypto_tls_conn_free). */
int crypto_tls_conn_new(struct crypto_tls_server *s, int fd, struct crypto_tls_conn **out);
void crypto_tls_conn_free(struct crypto_tls_conn *c);
/* Drive the handshake: DONE, WANT_READ, WANT_WRITE, EOF or HX_ETLS (refused or broken; a
 * reason is kept for crypto_tls_conn_error). */
int crypto_tls_conn_handshake(struct crypto_tls_conn *c);
/* Read up to n bytes: DONE with *got > 0, WANT_READ/WANT_WRITE, EOF, or HX_ETLS. */
int crypto_tls_conn_read(struct crypto_tls_conn *c, void *buf, size_t n, size_t *got);
/* Write up to n bytes: DONE with *put > 0 (may be partial), WANT_*, or HX_ETLS. */
int crypto_tls_conn_write(struct crypto_tls_conn *c, const void *buf, size_t n, size_t *put);
/* Send close_notify (best effort, non-blocking). */
void crypto_tls_conn_shutdown(struct crypto_tls_conn *c);
/* The client certificate's SHA-256 fingerprint (also on resumed sessions). HX_EDENIED if none. */
int crypto_tls_conn_peer_fingerprint(struct crypto_tls_conn *c, uint8_t out[CRYPTO_SHA256_LEN]);
/* Whether bytes are buffered inside the TLS layer (decrypted or not yet): read again before
 * waiting for the socket. */
int crypto_tls_conn_has_pending(const struct crypto_tls_conn *c);
/* "TLSv1.3" etc.; whether the session was resumed; the last error's reason ("" if none). */
const char *crypto_tls_conn_version(const struct crypto_tls_conn *c);
int crypto_tls_conn_resumed(const struct crypto_tls_conn *c);
const char *crypto_tls_conn_error(const struct crypto_tls_conn *c);

/*
 * The client side, for calls to peers (libcurl builds one SSL_CTX per connection and hands
 * it to CURLOPT_SSL_CTX_FUNCTION). A crypto_tls_client holds our certificate, key and the
 * community CA store, loaded once; crypto_tls_client_configure() applies them to such an
 * SSL_CTX without touching a file, with the same protocol and cipher policy as the server,
 * and, when `fp` is given, pins the server's leaf certificate to that SHA-256 fingerprint
 * (the peer's enrolled one) or to `fp_next` (its staged next one during a rotation; may be
 * NULL): any other certificate fails the handshake before a request byte is sent.
 */
struct crypto_tls_client;
/* crl_file (NULL or "" for none): the CRL(s) the peers we call are checked against, as the
 * server checks its callers (signed by a CA of the bundle, not past nextUpdate when loaded). */
int crypto_tls_client_new(const char *cert_file, const char *key_file, const char *ca_file,
                          const char *crl_file, struct crypto_tls_client **out, char *err,
                          size_t errlen);
/* Releases one reference (the one from _new, or one from _up_ref); the last frees. */
void crypto_tls_client_free(struct crypto_tls_client *c);
/* Another reference to c (thread-safe); returns c. */
struct crypto_tls_client *crypto_tls_client_up_ref(struct crypto_tls_client *c);
/* The SHA-256 fingerprint of our certificate: who a session made with c speaks as (a TLS
 * session is resumed only by a client of the same identity). */
void crypto_tls_client_id(const struct crypto_tls_client *c, uint8_t out[CRYPTO_SHA256_LEN]);
/* ssl_ctx is an SSL_CTX *. HX_ETLS or HX_ENOMEM on failure. */
int crypto_tls_client_configure(const struct crypto_tls_client *c, void *ssl_ctx,
                                const uint8_t fp[CRYPTO_SHA256_LEN],
                                const uint8_t fp_next[CRYPTO_SHA256_LEN]);


/* ---- certificates and PKI (crypto_x509.c, crypto_pki.c) --------------------------------- */

/*
 * Certificate inspection, for the CLI (cert show, peer add) and for whoever must look at a
 * certificate file before trusting it. Every function here returns HX_OK or a negative
 * enum hx_err; out-parameters are untouched on failure, and where there is an `err`
 * parameter it receives one sentence naming the file and the problem (err may be NULL when
 * errlen is 0). No function prompts: an encrypted private key is refused as HX_EPARSE.
 */

/* Largest PEM file (certificate, key, CRL) any function here reads. */
#define CRYPTO_PEM_FILE_MAX (256u * 1024)

/* Key usage bits (keyUsage extension). */
enum crypto_key_usage {
	CRYPTO_KU_DIGITAL_SIGNATURE = 1u << 0,
	CRYPTO_KU_KEY_ENCIPHERMENT = 1u << 1,
	CRYPTO_KU_KEY_AGREEMENT = 1u << 2,
	CRYPTO_KU_KEY_CERT_SIGN = 1u << 3,
	CRYPTO_KU_CRL_SIGN = 1u << 4,
	CRYPTO_KU_OTHER = 1u << 5, /* nonRepudiation, dataEncipherment, encipher/decipherOnly */
};

/* Extended key usage bits (extKeyUsage extension). */
enum crypto_ext_key_usage {
	CRYPTO_EKU_SERVER_AUTH = 1u << 0,
	CRYPTO_EKU_CLIENT_AUTH = 1u << 1,
	CRYPTO_EKU_EMAIL = 1u << 2,        /* emailProtection */
	CRYPTO_EKU_CODE_SIGNING = 1u << 3,
	CRYPTO_EKU_ANY = 1u << 4,          /* anyExtendedKeyUsage */
	CRYPTO_EKU_OTHER = 1u << 5,        /* any other purpose OID */
};

/* What the SAN says about the organisation (URIs "urn:oid:<OID>"). */
enum crypto_cert_org {
	CRYPTO_CERT_ORG_NONE = 0,      /* no urn:oid: URI */
	CRYPTO_CERT_ORG_OK = 1,        /* exactly one organisation id, in org_id */
	CRYPTO_CERT_ORG_MALFORMED = 2, /* a urn:oid: URI whose value is not [0-9.]{1,64} */
	CRYPTO_CERT_ORG_AMBIGUOUS = 3, /* urn:oid: URIs naming different organisations */
};

#define CRYPTO_CERT_NAME_MAX 256 /* a name attribute, UTF-8, NUL-terminated */
#define CRYPTO_CERT_SERIAL_MAX 67 /* up to 32 octets as hex, a sign, NUL */
#define CRYPTO_CERT_ORG_ID_MAX 65 /* an OID of up to 64 characters, NUL */
#define CRYPTO_CERT_SAN_MAX 1024

/*
 * What a certificate says. Strings are NUL-terminated UTF-8 copies; control characters from
 * the certificate are replaced by '?', so they are safe to print and log; a string that does
 * not fit is cut at a character boundary (san ends in "..." then).
 */
struct crypto_cert_info {
	uint8_t fingerprint[CRYPTO_SHA256_LEN]; /* SHA-256 of the DER encoding */
	char subject_cn[CRYPTO_CERT_NAME_MAX];  /* "" when the subject has no CN */
	char subject_o[CRYPTO_CERT_NAME_MAX];   /* organisationName, "" when none */
	char issuer_cn[CRYPTO_CERT_NAME_MAX];
	char serial[CRYPTO_CERT_SERIAL_MAX];    /* lowercase hex, "-" prefix if negative */
	int64_t not_before, not_after;          /* Unix ms */
	int is_ca;                              /* basicConstraints CA:TRUE */
	int self_issued;                        /* subject == issuer (and key ids agree) */
	char key_type[48];                      /* "EC P-256", "RSA 2048", "ED25519", "unknown" */
	int key_bits;                           /* 256, 2048, ... (0 if unknown) */
	int key_security_bits;                  /* the key's strength (128 for P-256, 112 for
	                                           RSA 2048, 80 for RSA 1024; 0 if unknown) */
	char sig_alg[48];                       /* "ecdsa-with-SHA256", "sha1WithRSAEncryption" */
	int sig_security_bits;                  /* strength of the signature's digest as OpenSSL
	                                           rates it (SHA-1: < 80); -1 if unknown */
	int has_key_usage;                      /* keyUsage present (absent: any usage) */
	unsigned key_usage;                     /* enum crypto_key_usage bits */
	int has_ext_key_usage;                  /* extKeyUsage present (absent: any purpose) */
	unsigned ext_key_usage;                 /* enum crypto_ext_key_usage bits */
	enum crypto_cert_org org_state;
	char org_id[CRYPTO_CERT_ORG_ID_MAX];    /* the SAN's urn:oid: value when org_state is
	                                           CRYPTO_CERT_ORG_OK, else "". Only its
	                                           characters are checked: callers run
	                                           proto_id_org_check() on it. */
	char san[CRYPTO_CERT_SAN_MAX];          /* "DNS:a.example, IP:127.0.0.1, URI:urn:oid:…" */
};

/*
 * Read a whole regular file of at most `max` bytes into *out (initialised here with maximum
 * `max`; NUL-terminated; the caller clears it, with hx_buf_wipe_clear() if it held a key).
 * Errors: HX_ENOTFOUND (no such file), HX_EPERM (not readable), HX_EINVAL (not a regular
 * file), HX_ELIMIT (larger than max), HX_EIO, HX_ENOMEM.
 */
int crypto_file_read(const char *path, size_t max, struct hx_buf *out, char *err, size_t errlen);

/*
 * Describe the first certificate of a PEM file (other PEM blocks before it, such as a key,
 * are skipped). Errors: HX_ENOTFOUND (no file), HX_EPERM, HX_EINVAL (not a regular file),
 * HX_ELIMIT (file over CRYPTO_PEM_FILE_MAX), HX_EPARSE (not PEM, no certificate, or a
 * certificate OpenSSL cannot decode or whose extensions are malformed or repeated),
 * HX_EIO, HX_ENOMEM.
 */
int crypto_cert_info_load(const char *pem_path, struct crypto_cert_info *out, char *err,
                          size_t errlen);
/* The same for PEM text in memory (len bytes; need not be NUL-terminated). HX_ELIMIT when
 * len exceeds CRYPTO_PEM_FILE_MAX, HX_EPARSE, HX_ENOMEM. */
int crypto_cert_info_from_pem(const char *pem, size_t len, struct crypto_cert_info *out,
                              char *err, size_t errlen);

/*
 * HX_OK if the (unencrypted, PEM) private key in key_path is the key of the first certificate
 * in cert_path; HX_EINVAL if it is another key. Errors of reading either file as above;
 * HX_EPARSE when a file holds no usable key or certificate (or the key is encrypted).
 */
int crypto_key_matches_cert(const char *key_path, const char *cert_path);

/* Most certificates (leaf and intermediates) crypto_cert_validate() reads from one file. */
#define CRYPTO_CHAIN_MAX 10

/*
 * Whether the certificate in pem_path (leaf first, then any intermediates; other PEM blocks
 * such as a key are skipped) may be enrolled as organisation org_id's, at now_ms (Unix ms).
 * In this order, it refuses:
 *   HX_ELIMIT  a file over CRYPTO_PEM_FILE_MAX (refused by its size, unread), or more than
 *              CRYPTO_CHAIN_MAX certificates in it;
 *   HX_EPARSE  no certificate, a malformed PEM block or certificate, malformed extensions;
 *   HX_EDENIED the SAN names no organisation, a malformed or ambiguous one, or another one
 *              than org_id; not yet valid or expired at now_ms; not an end-entity (CA:TRUE or
 *              keyCertSign); keyUsage without digitalSignature; extKeyUsage absent or
 *              lacking serverAuth or clientAuth (a peer is both); a key other than EC
 *              P-256/P-384/P-521, RSA of 2048 bits or more, Ed25519 or Ed448; a signature
 *              digest weaker than 112 bits (SHA-1, MD5); a chain that does not verify to a CA
 *              of ca_file at now_ms (OpenSSL, with intermediates from pem_path and every key
 *              and signature of the chain at least 112 bits); revoked in crl_file (PEM CRLs,
 *              may be NULL or ""; with one, it must be the issuer's and current).
 * Errors reading ca_file or crl_file are those of crypto_file_read() (HX_EPARSE if they hold
 * no CA or CRL). `why` receives one sentence naming pem_path and the reason; info (may be
 * NULL) receives the leaf's description when HX_OK is returned.
 */
int crypto_cert_validate(const char *pem_path, const char *ca_file, const char *crl_file,
                         const char *org_id, int64_t now_ms, struct crypto_cert_info *info,
                         char *why, size_t whylen);

/*
 * A throw-away PKI for tests, the demo and small regions: a CA directory and node
 * certificates signed by it, ECDSA P-256 with SHA-256. Not an operator-grade CA (no
 * hardware keys, no policy): a region with its own PKI enrols its certificates as they are.
 *
 * A CA directory holds:
 *   ca.pem     the self-signed CA certificate (CA:TRUE critical; keyUsage keyCertSign and
 *              cRLSign, critical; subject and authority key identifiers)
 *   ca.key     its private key, PKCS#8 PEM, mode 0600
 *   index      one line per certificate the CA issued:
 *              "<serial hex> <SHA-256 hex> <notAfter, Unix s> <variant> <CN>"
 *   crlnumber  the next CRL number (decimal). Certificate serials are random (128 bits,
 *              checked unique against index), so there is no serial counter.
 * Private keys are written with mode 0600 whatever the umask, certificates with 0644, and
 * no file is ever overwritten except a CRL (replaced atomically) and crlnumber.
 */

/*
 * Create a CA in `dir` (made with mode 0700 if missing; its parent must exist), subject
 * CN=cn, valid from 5 minutes ago for `days` days (0: 3650). fp (may be NULL) receives the
 * CA certificate's SHA-256 fingerprint. Errors: HX_EEXIST (dir already holds ca.pem or
 * ca.key: a CA is never overwritten), HX_EINVAL (empty or over-long cn, days over 36500,
 * path too long), HX_ENOTFOUND (the parent of dir is missing), HX_EPERM, HX_ESPACE (disk
 * full), HX_EIO, HX_ENOMEM, HX_EINTERNAL (OpenSSL refused).
 */
int crypto_pki_ca_new(const char *dir, const char *cn, unsigned days,
                      uint8_t fp[CRYPTO_SHA256_LEN], char *err, size_t errlen);

/* Certificates crypto_pki_issue() can make. All but NORMAL are deliberately wrong, for the
 * test matrix of peer admission; each differs from NORMAL in the one way its name says. */
enum crypto_pki_variant {
	CRYPTO_PKI_NORMAL = 0,
	CRYPTO_PKI_EXPIRED,       /* notBefore 30 days ago, notAfter 1 day ago */
	CRYPTO_PKI_NOT_YET_VALID, /* notBefore 1 day from now */
	CRYPTO_PKI_SELF_SIGNED,   /* signed by its own key; no CA involved (ca_dir ignored) */
	CRYPTO_PKI_CA_LEAF,       /* CA:TRUE (keyCertSign added), signed by the CA */
	CRYPTO_PKI_WRONG_EKU,     /* extKeyUsage emailProtection only */
	CRYPTO_PKI_RSA1024,       /* an RSA 1024-bit key */
	CRYPTO_PKI_SHA1,          /* signed with ECDSA over SHA-1 */
	CRYPTO_PKI_OTHER_CA,      /* signed by the CA in other_ca_dir instead of ca_dir */
};

/* "normal", "expired", "not-yet-valid", "self-signed", "ca-leaf", "wrong-eku", "rsa1024",
 * "sha1", "other-ca" ("?" for a value out of range); parse: HX_ENOTFOUND if unknown. */
const char *crypto_pki_variant_name(enum crypto_pki_variant v);
int crypto_pki_variant_parse(const char *name, enum crypto_pki_variant *out);

#define CRYPTO_PKI_NAMES_MAX 16 /* most DNS names, and most IP addresses, per certificate */

struct crypto_pki_issue {
	const char *ca_dir;        /* the signing CA (not used by SELF_SIGNED) */
	const char *cn;            /* subject CN, 1..64 bytes, no control characters */
	const char *org_name;      /* subject O, or NULL */
	const char *org_id;        /* SAN URI urn:oid:<org_id>: digits and dots, 3..64 */
	const char *const *dns;    /* SAN DNS names (letters, digits, '-', '.', leading "*.") */
	size_t n_dns;
	const char *const *ips;    /* SAN IP addresses, IPv4 or IPv6 text */
	size_t n_ips;
	unsigned days;             /* validity from now; 0 = 365 */
	const char *out_prefix;    /* writes <prefix>.pem (certificate) and <prefix>.key */
	enum crypto_pki_variant variant;
	const char *other_ca_dir;  /* OTHER_CA: the CA that signs instead */
	const char *crl_uri;       /* a CRL distribution point (http:// or https://), or NULL */
};

/*
 * Issue a node certificate: subject CN (and O), SAN DNS/IP/URI, CA:FALSE (critical),
 * keyUsage digitalSignature (critical), extKeyUsage serverAuth and clientAuth, subject and
 * authority key ids, validity [now - 5 min, now + days], a random 128-bit serial, and a
 * fresh P-256 key; or a variant of it (above). The issuing CA's index gets a line. fp (may
 * be NULL) receives the certificate's SHA-256 fingerprint. Errors: HX_EINVAL (a missing or
 * bad option: cn, org_id, a DNS name, an IP address, days, variant, other_ca_dir),
 * HX_ENOTFOUND (no CA in ca_dir / other_ca_dir, or the prefix's folder is missing),
 * HX_EPARSE (the CA's files are damaged or do not belong together), HX_EEXIST (<prefix>.pem
 * or <prefix>.key exists), HX_EPERM, HX_ESPACE, HX_EIO, HX_ENOMEM, HX_EINTERNAL (OpenSSL
 * refused).
 * On failure nothing is left behind.
 */
int crypto_pki_issue(const struct crypto_pki_issue *o, uint8_t fp[CRYPTO_SHA256_LEN], char *err,
                     size_t errlen);

/*
 * Write a CRL (PEM, v2, with CRL number and authority key id) signed by the CA in ca_dir to
 * out_path (replaced atomically), revoking the n certificates in the PEM files `revoke`
 * (each must have been signed by this CA: HX_EINVAL otherwise; duplicates are listed once).
 * nextUpdate = now + days * 86400 + next_update_offset_s; lastUpdate = now, or one day
 * before nextUpdate when that is already past (a stale CRL for tests: days 0 and a negative
 * offset). Errors: HX_ENOTFOUND (no CA, or a revoke file missing), HX_EPARSE (a revoke file
 * holds no certificate), HX_EINVAL (days over 36500, a certificate of another CA),
 * HX_EPARSE (the CA's files or crlnumber are damaged), HX_ELIMIT, HX_EPERM, HX_ESPACE,
 * HX_EIO, HX_ENOMEM, HX_EINTERNAL.
 */
int crypto_pki_crl(const char *ca_dir, const char *const *revoke, size_t n, unsigned days,
                   int64_t next_update_offset_s, const char *out_path, char *err, size_t errlen);

#endif
