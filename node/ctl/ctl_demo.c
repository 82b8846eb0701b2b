/* ctl_demo.c: demo-data: generate a deterministic synthetic region's share for this org
 * and load it into the store, in chunks of one commit each. */
#include "ctl.h"

#include "crypto.h"

#include "demo.h"
#include "identity.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_RECORDS 512
#define CHUNK_BYTES (8u << 20)

/* A chunk of packed records waiting for one write. */
struct chunk_rec {
	enum proto_kind kind;   /* PROTO_PATIENT or PROTO_DOCUMENT_ENTRY */
	size_t off, len;        /* packed message in chunk.buf */
	size_t coff, clen;      /* content (documents) in chunk.buf */
};

struct chunk {
	struct chunk_rec rec[CHUNK_RECORDS];
	size_t n;
	struct hx_buf buf;
};

struct demo_load {
	struct ctl *c;
	struct chunk ch;
	uint64_t patients, docs, bytes;
	int rc;
	struct crypto_signer *signer; /* with --config: documents signed as their origin */
	struct hx_buf sig;
};

static int w_chunk(struct store_txn *t, void *arg)
{
	struct chunk *ch = arg;
	for (size_t i = 0; i < ch->n; i++) {
		const struct chunk_rec *r = &ch->rec[i];
		void *m;
		int rc = proto_unpack(r->kind, ch->buf.data + r->off, r->len, &m);
		if (rc != HX_OK)
			return HX_EINTERNAL;
		if (r->kind == PROTO_PATIENT) {
			Hie__V1__Patient *p = m;
			struct identity_keys keys;
			identity_keys_build(p->demographics, &keys);
			rc = store_patient_put_rec(t, p, keys.keys, keys.n, keys.record, keys.record_len);
		} else {
			rc = store_doc_put(t, m, ch->buf.data + r->coff, r->clen);
		}
		proto_free(m);
		if (rc != HX_OK)
			return rc;
	}
	return HX_OK;
}

static int flush(struct demo_load *dl)
{
	int rc;
	if (dl->ch.n == 0)
		return 0;
	rc = store_write(dl->c->store, w_chunk, &dl->ch);
	dl->ch.n = 0;
	hx_buf_reset(&dl->ch.buf);
	if (rc != HX_OK) {
		dl->rc = rc;
		return 1;
	}
	return 0;
}

static int add_rec(struct demo_load *dl, enum proto_kind kind, const void *msg,
                   const uint8_t *content, size_t clen)
{
	struct chunk *ch = &dl->ch;
	struct chunk_rec *r;
	size_t need = proto_packed_size(msg) + clen;

	if (ch->n == CHUNK_RECORDS || (ch->buf.len + need > CHUNK_BYTES && ch->n > 0))
		if (flush(dl))
			return 1;
	r = &ch->rec[ch->n];
	r->kind = kind;
	r->off = ch->buf.len;
	if (proto_pack(msg, &ch->buf) != HX_OK) {
		dl->rc = HX_ENOMEM;
		return 1;
	}
	r->len = ch->buf.len - r->off;
	r->coff = ch->buf.len;
	r->clen = clen;
	if (clen > 0 && hx_buf_append(&ch->buf, content, clen) != HX_OK) {
		dl->rc = HX_ENOMEM;
		return 1;
	}
	ch->n++;
	return 0;
}

static int on_patient(const Hie__V1__Patient *p, const struct demo_patient_info *info, void *arg)
{
	struct demo_load *dl = arg;
	(void)info;
	dl->patients++;
	return add_rec(dl, PROTO_PATIENT, p, NULL, 0);
}

static int on_doc(const Hie__V1__DocumentEntry *e, const uint8_t *content, size_t len, void *arg)
{
	struct demo_load *dl = arg;
	Hie__V1__DocumentEntry signed_e = *e;
	int rc;
	dl->docs++;
	dl->bytes += len;
	if ((rc = ctl_sign_entry(dl->signer, &signed_e, &dl->sig)) != HX_OK) {
		dl->rc = rc;
		return 1;
	}
	return add_rec(dl, PROTO_DOCUMENT_ENTRY, &signed_e, content, len);
}

int ctl_demo_run(struct ctl *c)
{
	static const struct option opts[] = {
		{"seed", required_argument, NULL, 'S'},      {"persons", required_argument, NULL, 'p'},
		{"org-index", required_argument, NULL, 'i'}, {"org-count", required_argument, NULL, 'n'},
		{"share", required_argument, NULL, 'r'},     {"docs", required_argument, NULL, 'd'},
		{"doc-size", required_argument, NULL, 'z'},  {NULL, 0, NULL, 0},
	};
	struct demo_opts o = {.seed = 1, .org_count = 1, .persons = 1000, .docs_per_patient = 3};
	struct demo_load *dl;
	uint64_t v;
	char detail[160], sz[16];
	int64_t t0;
	int ch, rc;

	while ((ch = getopt_long(c->argc, c->argv, "S:p:i:n:r:d:z:", opts, NULL)) != -1) {
		switch (ch) {
		case 'S':
			if (ctl_parse_u64("--seed", optarg, &o.seed))
				return 1;
			break;
		case 'p':
			if (ctl_parse_u64("--persons", optarg, &v))
				return 1;
			if (v > DEMO_PERSONS_MAX)
				return ctl_fail("--persons: at most %u", DEMO_PERSONS_MAX);
			o.persons = (size_t)v;
			break;
		case 'i':
		case 'n':
			if (ctl_parse_u64(ch == 'i' ? "--org-index" : "--org-count", optarg, &v))
				return 1;
			if (v > DEMO_ORG_COUNT_MAX)
				return ctl_fail("%s: at most %u", ch == 'i' ? "--org-index" : "--org-count",
				                DEMO_ORG_COUNT_MAX);
			*(ch == 'i' ? &o.org_index : &o.org_count) = (unsigned)v;
			break;
		case 'r': {
			char *end;
			o.share = strtod(optarg, &end);
			if (*end != '\0' || !(o.share > 0 && o.share <= 1))
				return ctl_fail("--share: a probability in (0, 1], not '%s'", optarg);
			break;
		}
		case 'd':
			if (ctl_parse_u64("--docs", optarg, &v))
				return 1;
			if (v > DEMO_DOCS_PER_PATIENT_MAX)
				return ctl_fail("--docs: at most %u", DEMO_DOCS_PER_PATIENT_MAX);
			o.docs_per_patient = (unsigned)v;
			break;
		case 'z':
			if (hx_size_parse(optarg, &v) != HX_OK || v > DEMO_DOC_SIZE_MAX)
				return ctl_fail("--doc-size: a size up to 16M, not '%s'", optarg);
			o.doc_size = (size_t)v;
			break;
		default:
			return 2;
		}
	}
	if (optind != c->argc)
		return ctl_fail("demo-data: unexpected argument '%s'", c->argv[optind]);
	if (o.org_count == 0 || o.org_index >= o.org_count)
		return ctl_fail("demo-data: --org-index must be below --org-count");
	if (ctl_store_open(c, 0) != 0)
		return 1;
	o.org_id = store_org_id(c->store);

	dl = calloc(1, sizeof(*dl));
	if (dl == NULL)
		return ctl_fail("demo-data: out of memory");
	dl->c = c;
	if (ctl_signer_open(c, &dl->signer) != 0) {
		free(dl);
		return 1;
	}
	hx_buf_init(&dl->sig, 4096);
	hx_buf_init(&dl->ch.buf, CHUNK_BYTES + DEMO_DOC_SIZE_MAX + (1u << 20));
	t0 = hx_time_mono_ms();
	rc = demo_generate(&o, on_patient, on_doc, dl);
	if (rc == HX_OK || rc == 0)
		rc = flush(dl) ? dl->rc : HX_OK;
	else if (rc == 1)
		rc = dl->rc;
	hx_buf_clear(&dl->ch.buf);
	hx_buf_clear(&dl->sig);
	crypto_signer_free(dl->signer);
	if (rc != HX_OK) {
		free(dl);
		return ctl_fail("demo-data: loading stopped: %s%s", hx_strerror(rc),
		                rc == HX_ESPACE ? " (grow it: hiepeerctl store grow SIZE)" : "");
	}
	hx_size_format(dl->bytes, sz, sizeof(sz));
	snprintf(detail, sizeof(detail),
	         "demo-data seed %llu org %u/%u: %llu patients, %llu documents (%s)",
	         (unsigned long long)o.seed, o.org_index, o.org_count,
	         (unsigned long long)dl->patients, (unsigned long long)dl->docs, sz);
	rc = ctl_audit_admin(c, HIE__V1__AUDIT_ACTION__AUDIT_ACTION_IMPORT, detail);
	if (rc == 0) {
		if (c->json) {
			cJSON *j = cJSON_CreateObject();
			cJSON_AddNumberToObject(j, "patients", (double)dl->patients);
			cJSON_AddNumberToObject(j, "documents", (double)dl->docs);
			cJSON_AddNumberToObject(j, "content_bytes", (double)dl->bytes);
			cJSON_AddNumberToObject(j, "seconds", (double)(hx_time_mono_ms() - t0) / 1000.0);
			ctl_json_print(j);
		} else {
			printf("loaded %llu patients and %llu documents (%s) in %.1f s\n",
			       (unsigned long long)dl->patients, (unsigned long long)dl->docs, sz,
			       (double)(hx_time_mono_ms() - t0) / 1000.0);
		}
	}
	free(dl);
	return rc;
}
