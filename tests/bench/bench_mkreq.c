/*
 * bench_mkreq.c: the protobuf bodies of the transport benchmarks (tests/bench/bench_tls.sh).
 *
 *   bench_mkreq request DOCID OUT          RetrieveRequest {document_ids: [DOCID],
 *                                          purpose: TREATMENT}: what bench_load POSTs
 *   bench_mkreq response STORE DOCID OUT   RetrieveResponse {documents: [{entry, content}]}
 *                                          of that document, read from the store: the bytes
 *                                          a node answers, which nginx serves as the anchor
 *   bench_mkreq health ORG OUT             Health {status: "ok", org_id: ORG, version}: a
 *                                          stand-in for GET /hie/v1/health until the node
 *                                          answers it (the script then uses the node's bytes)
 *
 * Every message passes proto_check() before it is packed. Exit status 0, or 1 with a reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "proto.h"
#include "store.h"

static int write_file(const char *path, const struct hx_buf *b)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(b->data, 1, b->len, f) != b->len || fclose(f) != 0) {
		fprintf(stderr, "bench_mkreq: cannot write %s\n", path);
		return 1;
	}
	return 0;
}

static int pack_out(enum proto_kind kind, const void *msg, const char *path)
{
	struct hx_buf b;
	int rc;

	if (proto_check(kind, msg) != HX_OK) {
		fprintf(stderr, "bench_mkreq: the %s does not pass proto_check\n",
		        proto_kind_name(kind));
		return 1;
	}
	hx_buf_init(&b, proto_kind_max_size(kind));
	if ((rc = proto_pack(msg, &b)) != HX_OK) {
		fprintf(stderr, "bench_mkreq: packing the %s: %s\n", proto_kind_name(kind),
		        hx_strerror(rc));
		hx_buf_clear(&b);
		return 1;
	}
	rc = write_file(path, &b);
	hx_buf_clear(&b);
	return rc;
}

static int make_request(const char *doc_id, const char *out)
{
	Hie__V1__RetrieveRequest r = HIE__V1__RETRIEVE_REQUEST__INIT;
	char *ids[1] = {(char *)doc_id};

	r.n_document_ids = 1;
	r.document_ids = ids;
	r.purpose = HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_TREATMENT;
	return pack_out(PROTO_RETRIEVE_REQUEST, &r, out);
}

static int make_response(const char *store_dir, const char *doc_id, const char *out)
{
	Hie__V1__RetrieveResponse r = HIE__V1__RETRIEVE_RESPONSE__INIT;
	Hie__V1__Document d = HIE__V1__DOCUMENT__INIT, *docs[1] = {&d};
	Hie__V1__DocumentEntry *e = NULL;
	struct store_opts so = {.read_only = 1};
	struct store *s = NULL;
	struct store_txn *t = NULL;
	const uint8_t *content;
	size_t len;
	char err[STORE_ERR_MAX];
	int rc = 1;

	if (store_open(store_dir, &so, &s, err, sizeof(err)) != HX_OK) {
		fprintf(stderr, "bench_mkreq: %s\n", err);
		return 1;
	}
	if (store_read_begin(s, &t) != HX_OK || store_doc_get(t, doc_id, &e) != HX_OK ||
	    store_doc_content(t, doc_id, &content, &len) != HX_OK) {
		fprintf(stderr, "bench_mkreq: no document %s in %s\n", doc_id, store_dir);
		goto fail;
	}
	d.entry = e;
	d.content.data = (uint8_t *)content;
	d.content.len = len;
	r.n_documents = 1;
	r.documents = docs;
	rc = pack_out(PROTO_RETRIEVE_RESPONSE, &r, out);
fail:
	proto_free(e);
	store_read_end(t);
	store_close(s);
	return rc;
}

static int make_health(const char *org, const char *out)
{
	Hie__V1__Health h = HIE__V1__HEALTH__INIT;

	h.status = "ok";
	h.org_id = (char *)org;
	h.version = HX_VERSION;
	return pack_out(PROTO_HEALTH, &h, out);
}

/* locator STORE N OUT: N random tokens in the store's locator, each held by one to three of
 * 20 organisations, each enrolled (active; a locate names only those); OUT gets a
 * LocateRequest for 10 of them. */
struct loc_fill {
	uint8_t (*tok)[32];
	size_t from, to;
};

static int w_loc(struct store_txn *t, void *arg)
{
	struct loc_fill *f = arg;
	for (size_t i = f->from; i < f->to; i++)
		for (unsigned k = 0; k <= f->tok[i][0] % 3; k++) {
			char org[40];
			snprintf(org, sizeof(org), "2.16.840.1.113883.3.%u", 8100 + (f->tok[i][1] + k) % 20);
			int rc = store_locator_add(t, f->tok[i], org);
			if (rc != HX_OK)
				return rc;
		}
	return HX_OK;
}

static int w_orgs(struct store_txn *t, void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < 20; i++) {
		Hie__V1__Peer p = HIE__V1__PEER__INIT;
		uint8_t fp[32];
		char org[40], name[16];
		int rc;
		snprintf(org, sizeof(org), "2.16.840.1.113883.3.%u", 8100 + i);
		snprintf(name, sizeof(name), "org%u", i);
		if (crypto_random(fp, sizeof(fp)) != HX_OK)
			return HX_EINTERNAL;
		p.org_id = org;
		p.name = name;
		p.fingerprint = (ProtobufCBinaryData){sizeof(fp), fp};
		p.status = HIE__V1__PEER_STATUS__PEER_STATUS_ACTIVE;
		if ((rc = store_peer_put(t, &p)) != HX_OK)
			return rc;
	}
	return HX_OK;
}

static int make_locator(const char *path, size_t n, const char *out)
{
	struct store_opts so = {0};
	struct store *s;
	char err[STORE_ERR_MAX];
	uint8_t (*tok)[32] = malloc(n * 32);
	Hie__V1__LocateRequest lr = HIE__V1__LOCATE_REQUEST__INIT;
	ProtobufCBinaryData b[10];
	int rc = HX_OK;
	if (tok == NULL || n < 10 || crypto_random(tok, n * 32) != HX_OK)
		return 1;
	if (store_open(path, &so, &s, err, sizeof(err)) != HX_OK) {
		fprintf(stderr, "bench_mkreq: %s\n", err);
		return 1;
	}
	rc = store_write(s, w_orgs, NULL);
	for (size_t i = 0; i < n && rc == HX_OK; i += 10000) {
		struct loc_fill f = {tok, i, i + 10000 < n ? i + 10000 : n};
		rc = store_write(s, w_loc, &f);
	}
	store_close(s);
	if (rc != HX_OK) {
		fprintf(stderr, "bench_mkreq: filling the locator: %s\n", hx_strerror(rc));
		return 1;
	}
	for (int i = 0; i < 10; i++)
		b[i] = (ProtobufCBinaryData){32, tok[(size_t)i * (n / 10)]};
	lr.tokens = b;
	lr.n_tokens = 10;
	rc = pack_out(PROTO_LOCATE_REQUEST, &lr, out);
	free(tok);
	return rc;
}

int main(int argc, char **argv)
{
	hx_log_init("bench_mkreq", HX_LOG_WARNING);
	if (argc == 4 && strcmp(argv[1], "request") == 0)
		return make_request(argv[2], argv[3]);
	if (argc == 5 && strcmp(argv[1], "response") == 0)
		return make_response(argv[2], argv[3], argv[4]);
	if (argc == 4 && strcmp(argv[1], "health") == 0)
		return make_health(argv[2], argv[3]);
	if (argc == 5 && strcmp(argv[1], "locator") == 0)
		return make_locator(argv[2], strtoull(argv[3], NULL, 10), argv[4]);
	fprintf(stderr, "usage: bench_mkreq request DOCID OUT\n"
	                "       bench_mkreq response STORE DOCID OUT\n"
	                "       bench_mkreq health ORG OUT\n"
	                "       bench_mkreq locator STORE N OUT\n");
	return 2;
}
