/* test_store.c: the store: every record type, persistence, atomicity under a kill, a full
 * map, the audit chain against tampering, and group commit under concurrency. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "store.h"

#define ORG "2.16.840.1.113883.3.7001"

static char *tmpdir_new(void)
{
	char tmpl[] = "/tmp/hx-store-XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return strdup(d);
}

static void rm_rf(const char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static struct store *open_new(const char *dir, uint64_t map_size)
{
	struct store_opts o = {.create = 1, .org_id = ORG, .map_size = map_size};
	struct store *s = NULL;
	char err[STORE_ERR_MAX];
	int rc = store_open(dir, &o, &s, err, sizeof(err));
	if (rc != HX_OK)
		fail_msg("store_open: %s", err);
	return s;
}

static struct store *open_existing(const char *dir)
{
	struct store *s = NULL;
	char err[STORE_ERR_MAX];
	int rc = store_open(dir, NULL, &s, err, sizeof(err));
	if (rc != HX_OK)
		fail_msg("store_open: %s", err);
	return s;
}

/* ---- sample records ---------------------------------------------------------------------- */

struct sample_patient {
	Hie__V1__Patient p;
	Hie__V1__Demographics d;
	Hie__V1__HumanName name, *names[1];
	char *given[1];
	char id[32];
};

static void sample_patient_init(struct sample_patient *sp, const char *id, const char *family)
{
	hie__v1__patient__init(&sp->p);
	hie__v1__demographics__init(&sp->d);
	hie__v1__human_name__init(&sp->name);
	snprintf(sp->id, sizeof(sp->id), "%s", id);
	sp->given[0] = "Ann";
	sp->name.use = HIE__V1__NAME_USE__NAME_USE_OFFICIAL;
	sp->name.family = (char *)family;
	sp->name.n_given = 1;
	sp->name.given = sp->given;
	sp->names[0] = &sp->name;
	sp->d.n_names = 1;
	sp->d.names = sp->names;
	sp->d.birth_date = "1970-05-04";
	sp->d.sex = HIE__V1__SEX__SEX_FEMALE;
	sp->p.id = sp->id;
	sp->p.demographics = &sp->d;
	sp->p.updated = 1700000000000;
}

struct sample_doc {
	Hie__V1__DocumentEntry e;
	Hie__V1__Code type, cls;
	char id[33];
	char pid[32];
	uint8_t sha[32];
	uint8_t *content;
	size_t len;
};

static void sample_doc_init(struct sample_doc *sd, const char *pid, int64_t ctime,
                            const char *type, size_t len, unsigned fill)
{
	memset(sd, 0, sizeof(*sd));
	hie__v1__document_entry__init(&sd->e);
	hie__v1__code__init(&sd->type);
	hie__v1__code__init(&sd->cls);
	assert_int_equal(crypto_doc_id_new(sd->id), HX_OK);
	snprintf(sd->pid, sizeof(sd->pid), "%s", pid);
	sd->content = malloc(len + 1);
	assert_non_null(sd->content);
	for (size_t i = 0; i < len; i++)
		sd->content[i] = (uint8_t)('a' + (i * 7 + fill) % 26);
	sd->len = len;
	crypto_sha256(sd->content, len, sd->sha);
	sd->type.code = (char *)type;
	sd->type.system = "2.16.840.1.113883.6.1";
	sd->cls.code = "REPORTS";
	sd->cls.system = "1.3.6.1.4.1.19376.1.2.6.1";
	sd->e.id = sd->id;
	sd->e.patient_id = sd->pid;
	sd->e.type_code = &sd->type;
	sd->e.class_code = &sd->cls;
	sd->e.creation_time = ctime;
	sd->e.mime_type = "text/plain";
	sd->e.size = len;
	sd->e.sha256.data = sd->sha;
	sd->e.sha256.len = 32;
	sd->e.status = HIE__V1__DOCUMENT_STATUS__DOCUMENT_STATUS_APPROVED;
	sd->e.origin_org = ORG;
	sd->e.title = "Progress note";
}

static void sample_doc_clear(struct sample_doc *sd)
{
	free(sd->content);
	sd->content = NULL;
}

/* ---- write functions --------------------------------------------------------------------- */

struct put_patient_arg {
	const Hie__V1__Patient *p;
	const struct store_key *keys;
	size_t nkeys;
};

static int w_put_patient(struct store_txn *t, void *arg)
{
	struct put_patient_arg *a = arg;
	return store_patient_put(t, a->p, a->keys, a->nkeys);
}

static int put_patient(struct store *s, const char *id, const char *family, const char *key)
{
	struct sample_patient sp;
	struct store_key k = {(const uint8_t *)key, key != NULL ? strlen(key) : 0};
	sample_patient_init(&sp, id, family);
	struct put_patient_arg a = {&sp.p, &k, key != NULL ? 1 : 0};
	return store_write(s, w_put_patient, &a);
}

static int w_put_doc(struct store_txn *t, void *arg)
{
	struct sample_doc *sd = arg;
	return store_doc_put(t, &sd->e, sd->content, sd->len);
}

static int w_del_doc(struct store_txn *t, void *arg)
{
	return store_doc_delete(t, arg);
}

static int w_del_patient(struct store_txn *t, void *arg)
{
	return store_patient_delete(t, arg);
}

static int w_audit(struct store_txn *t, void *arg)
{
	Hie__V1__AuditEvent ev = HIE__V1__AUDIT_EVENT__INIT;
	ev.time = 1700000000000;
	ev.action = HIE__V1__AUDIT_ACTION__AUDIT_ACTION_QUERY;
	ev.outcome = HIE__V1__AUDIT_OUTCOME__AUDIT_OUTCOME_SUCCESS;
	ev.actor_org = "1.2.3";
	ev.detail = arg;
	return store_audit_append(t, &ev, NULL);
}

/* ---- tests ------------------------------------------------------------------------------- */

static int collect_id(const char *id, void *arg)
{
	char *out = arg;
	strcat(out, id);
	strcat(out, ",");
	return 0;
}

/* The match record kept with a patient: read in place by store_patient_match_visit, which
 * falls back to the demographics when there is none or the reader refuses it. */
struct visit_seen {
	char rec[64];
	char family[64];
	int refuse; /* the record callback answers HX_EVERSION */
};

static int seen_rec(const char *id, const uint8_t *rec, size_t len, void *arg)
{
	struct visit_seen *v = arg;
	(void)id;
	if (v->refuse)
		return HX_EVERSION;
	assert_true(len < sizeof(v->rec));
	memcpy(v->rec, rec, len);
	v->rec[len] = '\0';
	return HX_OK;
}

static int seen_demo(const char *id, const Hie__V1__Demographics *d, void *arg)
{
	struct visit_seen *v = arg;
	(void)id;
	hx_strlcpy(v->family, d->names[0]->family, sizeof(v->family));
	return HX_OK;
}

struct put_rec_arg {
	const Hie__V1__Patient *p;
	const char *rec;
	size_t len;
};

static int w_put_rec(struct store_txn *t, void *arg)
{
	struct put_rec_arg *a = arg;
	struct store_key k = {(const uint8_t *)"key1", 4};
	return store_patient_put_rec(t, a->p, &k, 1, a->rec, a->len);
}

static void test_patient_match_record(void **state)
{
	(void)state;
	char *dir = tmpdir_new();
	struct store *s = open_new(dir, 0);
	struct store_txn *t;
	struct sample_patient sp, sp2;
	struct visit_seen v;
	static char big[STORE_MATCH_RECORD_MAX + 1];

	sample_patient_init(&sp, "P1", "Smith");
	sample_patient_init(&sp2, "P2", "Jones");
	struct put_rec_arg a = {&sp.p, "\x01smith", 6}, b = {&sp2.p, NULL, 0};
	assert_int_equal(store_write(s, w_put_rec, &a), HX_OK);
	assert_int_equal(store_write(s, w_put_rec, &b), HX_OK);
	struct put_rec_arg toobig = {&sp.p, big, sizeof(big)}, bad = {&sp.p, NULL, 3};
	assert_int_equal(store_write(s, w_put_rec, &toobig), HX_EINVAL);
	assert_int_equal(store_write(s, w_put_rec, &bad), HX_EINVAL);

	assert_int_equal(store_read_begin(s, &t), HX_OK);
	memset(&v, 0, sizeof(v));
	assert_int_equal(store_patient_match_visit(t, "P1", seen_rec, seen_demo, &v), HX_OK);
	assert_string_equal(v.rec, "\x01smith"); /* the record, and the demographics not read */
	assert_string_equal(v.family, "");
	memset(&v, 0, sizeof(v));
	v.refuse = 1;
	assert_int_equal(store_patient_match_visit(t, "P1", seen_rec, seen_demo, &v), HX_OK);
	assert_string_equal(v.family, "Smith"); /* refused: the demographics instead */
	memset(&v, 0, sizeof(v));
	assert_int_equal(store_patient_match_visit(t, "P2", seen_rec, seen_demo, &v), HX_OK);
	assert_string_equal(v.rec, ""); /* written without one */
	assert_string_equal(v.family, "Jones");
	assert_int_equal(store_patient_match_visit(t, "P9", seen_rec, seen_demo, &v), HX_ENOTFOUND);
	/* The envelope still decodes whole, record and all. */
	Hie__V1__Patient *p;
	assert_int_equal(store_patient_get(t, "P1", &p), HX_OK);
	assert_string_equal(p->demographics->names[0]->family, "Smith");
	proto_free(p);
	store_read_end(t);

	/* An update without a record drops the old one. */
	struct put_rec_arg c = {&sp.p, NULL, 0};
	assert_int_equal(store_write(s, w_put_rec, &c), HX_OK);
	assert_int_equal(store_read_begin(s, &t), HX_OK);
	memset(&v, 0, sizeof(v));
	assert_int_equal(store_patient_match_visit(t, "P1", seen_rec, seen_demo, &v), HX_OK);
	assert_string_equal(v.rec, "");
	assert_string_equal(v.family, "Smith");
	store_read_end(t);
	store_close(s);
	rm_rf(dir);
	free(dir);
}

static void test_patient_roundtrip(void **state)
{
	(void)state;
	char *dir = tmpdir_new();
	struct store *s = open_new(dir, 0);
	struct store_txn *t;
	Hie__V1__Patient *p = NULL;
	char ids[256] = "";
	int trunc;

	assert_int_equal(put_patient(s, "P1", "Smith", "smith1970"), HX_OK);
	assert_int_equal(put_patient(s, "P2", "Smyth", "smith1970"), HX_OK);
	assert_int_equal(store_read_begin(s, &t), HX_OK);
	assert_int_equal(store_patient_get(t, "P1", &p), HX_OK);
	assert_string_equal(p->id, "P1");
	assert_string_equal(p->demographics->names[0]->family, "Smith");
	assert_string_equal(p->demographics->birth_date, "1970-05-04");
	proto_free(p);
	assert_int_equal(store_patient_get(t, "P9", &p), HX_ENOTFOUND);
	assert_int_equal(store_patient_get(t, "../x", &p), HX_EINVAL);
	assert_int_equal(store_block_lookup(t, (const uint8_t *)"smith1970", 9, 10, collect_id, ids,
	                                    &trunc),
	                 HX_OK);
	assert_string_equal(ids, "P1,P2,");
	assert_int_equal(trunc, 0);
	ids[0] = '\0';
	assert_int_equal(store_block_lookup(t, (const uint8_t *)"smith1970", 9, 1, collect_id, ids,
	                                    &trunc),
	                 HX_OK);
	assert_string_equal(ids, "P1,");
	assert_int_equal(trunc, 1);
	store_read_end(t);

	/* An update replaces the blocking keys. */
	assert_int_equal(put_patient(s, "P1", "Smith", "smith-new"), HX_OK);
	assert_int_equal(store_read_begin(s, &t), HX_OK);
	ids[0] = '\0';
	assert_int_equal(store_block_lookup(t, (const uint8_t *)"smith1970", 9, 10, collect_id, ids,
	                                    NULL),
	                 HX_OK);
	assert_string_equal(ids, "P2,");
	ids[0] = '\0';
	assert_int_equal(store_block_lookup(t, (const uint8_t *)"smith-new", 9, 10, collect_id, ids,
	                                    NULL),
	                 HX_OK);
	assert_string_equal(ids, "P1,");
	store_read_end(t);

	/* Delete removes the record and its keys. */
	assert_int_equal(store_write(s, w_del_patient, "P1"), HX_OK);
	assert_int_equal(store_write(s, w_del_patient, "P1"), HX_ENOTFOUND);
	assert_int_equal(store_read_begin(s, &t), HX_OK);
	assert_int_equal(store_patient_get(t, "P1", &p), HX_ENOTFOUND);
	ids[0] = '\0';
	assert_int_equal(store_block_lookup(t, (const uint8_t *)"smith-new", 9, 10, collect_id, ids,
	                                    NULL),
	                 HX_OK);
	assert_string_equal(ids, "");
	store_read_end(t);
	store_close(s);
	rm_rf(dir);
	free(dir);
}

static int count_patient(const Hie__V1__Patient *p, void *arg)
{
	(void)p;
	(*(size_t *)arg)++;
	return 0;
}

static void test_patient_list(void **state)
{
	(void)state;
	char *dir = tmpdir_new();
	struct store *s = open_new(dir, 0);
	struct store_txn *t;
	size_t n = 0;
	int more;

	for (int i = 0; i < 25; i++) {
		char id[16];
		snprintf(id, sizeof(id), "P%03d", i);
		assert_int_equal(put_patient(s, id, "Doe", NULL), HX_OK);
	}
	assert_int_equal(store_read_begin(s, &t), HX_OK);
	assert_int_equal(store_patient_list(t, NULL, 10, count_patient, &n, &more), HX_OK);
	assert_int_equal(n, 10);
	assert_int_equal(more, 1);
	n = 0;
	assert_int_equal(store_patient_list(t, "P019", 10, count_patient, &n, &more), HX_OK);
	assert_int_equal(n, 5);
	assert_int_equal(more, 0);
	store_read_end(t);
	store_close(s);
	rm_rf(dir);
	free(dir);
}

struct doc_list {
	char ids[16][33];
	int64_t times[16];
	int n;
};

static int collect_doc(const char *id, int64_t ctime, void *arg)
{
	struct doc_list *l = arg;
	if (l->n < 16) {
		strcpy(l->ids[l->n], id);
		l->times[l->n] = ctime;
	}
	l->n++;
	return 0;
}

static void test_document_roundtrip_and_list(void **state)
{
	(void)state;
	char *dir = tmpdir_new();
	struct store *s = open_new(dir, 0);
	struct sample_doc d[4];
	struct store_txn *t;
	Hie__V1__DocumentEntry *e;
	const uint8_t *data;
	size_t len;

	assert_int_equal(put_patient(s, "P1", "Smith", NULL), HX_OK);
	assert_int_equal(put_patient(s, "P10", "Other", NULL), HX_OK);
	sample_doc_init(&d[0], "P1", 1000, "11506-3", 100, 0);
	sample_doc_init(&d[1], "P1", 2000, "18842-5", 5000, 1);
	sample_doc_init(&d[2], "P1", 3000, "11506-3", 0, 2);
	sample_doc_init(&d[3], "P10", 1500, "11506-3", 10, 3);
	d[2].e.status = HIE__V1__DOCUMENT_STATUS__DOCUMENT_STATUS_DEPRECATED;
	for (int i = 0; i < 4; i++)
		assert_int_equal(store_write(s, w_put_doc, &d[i]), HX_OK);

	assert_int_equal(store_read_begin(s, &t), HX_OK);
	assert_int_equal(store_doc_get(t, d[1].id, &e), HX_OK);
	assert_string_equal(e->patient_id, "P1");
	assert_int_equal(e->size, 5000);
	assert_memory_equal(e->sha256.data, d[1].sha, 32);
	proto_free(e);
	assert_int_equal(store_doc_content(t, d[1].id, &data, &len), HX_OK);
	assert_int_equal(len, 5000);
	assert_memory_equal(data, d[1].content, 5000);
	assert_int_equal(store_doc_get(t, "00000000000000000000000000000000", &e), HX_ENOTFOUND);

	/* Default filter: approved only, newest first, P1's only (not P10's). */
	struct doc_list l = {0};
	assert_int_equal(store_doc_list(t, "P1", NULL, collect_doc, &l, NULL), HX_OK);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.ids[0], d[1].id);
	assert_string_equal(l.ids[1], d[0].id);
	/* Every status, a time range [1500, 3001). */
	struct store_doc_filter f = {.created_from = 1500, .created_to = 3001, .status_mask = ~0u};
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_doc_list(t, "P1", &f, collect_doc, &l, NULL), HX_OK);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.times[0], 3000);
	assert_int_equal(l.times[1], 2000);
	/* By type code. */
	Hie__V1__Code want = HIE__V1__CODE__INIT, *wants[1] = {&want};
	want.code = "11506-3";
	struct store_doc_filter ft = {.type_codes = wants, .n_type_codes = 1, .status_mask = ~0u};
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_doc_list(t, "P1", &ft, collect_doc, &l, NULL), HX_OK);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.times[0], 3000);
	assert_int_equal(l.times[1], 1000);
	/* By class with a wrong system: nothing. */
	Hie__V1__Code cls = HIE__V1__CODE__INIT, *clss[1] = {&cls};
	cls.code = "REPORTS";
	cls.system = "9.9.9";
	struct store_doc_filter fc = {.class_codes = clss, .n_class_codes = 1};
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_doc_list(t, "P1", &fc, collect_doc, &l, NULL), HX_OK);
	assert_int_equal(l.n, 0);
	/* Limit and truncation. */
	struct store_doc_filter fl = {.limit = 1, .status_mask = ~0u};
	int trunc = 0;
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_doc_list(t, "P1", &fl, collect_doc, &l, &trunc), HX_OK);
	assert_int_equal(l.n, 1);
	assert_int_equal(trunc, 1);
	store_read_end(t);

	/* A patient with documents cannot be deleted; a document delete removes all three. */
	assert_int_equal(store_write(s, w_del_patient, "P10"), HX_EEXIST);
	assert_int_equal(store_write(s, w_del_doc, d[3].id), HX_OK);
	assert_int_equal(store_write(s, w_del_doc, d[3].id), HX_ENOTFOUND);
	assert_int_equal(store_read_begin(s, &t), HX_OK);
	assert_int_equal(store_doc_content(t, d[3].id, &data, &len), HX_ENOTFOUND);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_doc_list(t, "P10", &f, collect_doc, &l, NULL), HX_OK);
	assert_int_equal(l.n, 0);
	store_read_end(t);
	assert_int_equal(store_write(s, w_del_patient, "P10"), HX_OK);

	/* Bad documents are refused: wrong hash, wrong size, unknown patient. */
	struct sample_doc bad;
	sample_doc_init(&bad, "P1", 5000, "11506-3", 64, 9);
	bad.sha[0] ^= 1;
	assert_int_equal(store_write(s, w_put_doc, &bad), HX_EINVAL);
	bad.sha[0] ^= 1;
	bad.e.size = 63;
	assert_int_equal(store_write(s, w_put_doc, &bad), HX_EINVAL);
	bad.e.size = 64;
	strcpy(bad.pid, "NOBODY");
	assert_int_equal(store_write(s, w_put_doc, &bad), HX_ENOTFOUND);
	sample_doc_clear(&bad);

	for (int i = 0; i < 4; i++)
		sample_doc_clear(&d[i]);
	store_close(s);
	rm_rf(dir);
	free(dir);
}

struct peer_arg {
	Hie__V1__Peer *p;
};

static int w_put_peer(struct store_txn *t, void *arg)
{
	return store_peer_put(t, arg);
}

static int w_del_peer(struct store_txn *t, void *arg)
{
	return store_peer_delete(t, arg);
}

static int count_peer(const Hie__V1__Peer *p, void *arg)
{
	(void)p;
	(*(int *)arg)++;
	return 0;
}

static int w_meta_put(struct store_txn *t, void *arg)
{
	return store_meta_put(t, "note", arg, strlen(arg));
}

static int w_meta_put_reserved(struct store_txn *t, void *arg)
{
	(void)arg;
	return store_meta_put(t, "schema", "x", 1);
}

static void test_peer_meta_roundtrip_and_reopen(void **state)
{
	(void)state;
	char *dir = tmpdir_new();
	struct store *s = open_new(dir, 0);
	struct store_txn *t;
	Hie__V1__Peer p = HIE__V1__PEER__INIT, *got;
	uint8_t fp[32];
	uint64_t gen0, gen1;
	const void *val;
	size_t len;
	int n = 0;

	memset(fp, 0xab, sizeof(fp));
	p.org_id = "2.16.840.1.113883.3.7002";
	p.name = "General Hospital";
	p.endpoint = "https://general.example:7443";
	p.fingerprint.data = fp;
	p.fingerprint.len = 32;
	p.status = HIE__V1__PEER_STATUS__PEER_STATUS_ACTIVE;

	assert_int_equal(store_read_begin(s, &t), HX_OK);
	assert_int_equal(store_trust_gen_get(t, &gen0), HX_OK);
	store_read_end(t);
	assert_int_equal(store_write(s, w_put_peer, &p), HX_OK);
	assert_int_equal(store_write(s, w_meta_put, "hello"), HX_OK);
	assert_int_equal(store_write(s, w_meta_put_reserved, NULL), HX_EDENIED);
	p.org_id = "1.2.3";
	assert_int_equal(store_write(s, w_put_peer, &p), HX_OK);
	p.org_id = "1.2.x";
	assert_int_equal(store_write(s, w_put_peer, &p), HX_EINVAL);
	assert_int_equal(store_write(s, w_del_peer, "1.2.3"), HX_OK);
	assert_int_equal(store_write(s, w_del_peer, "1.2.3"), HX_ENOTFOUND);
	store_close(s);

	/* Everything survives a reopen. */
	s = open_existing(dir);
	assert_string_equal(store_org_id(s), ORG);
	assert_int_equal(store_read_begin(s, &t), HX_OK);
	assert_int_equal(store_peer_get(t, "2.16.840.1.113883.3.7002", &got), HX_OK);
	assert_string_equal(got->name, "General Hospital");
	assert_int_equal(got->status, HIE__V1__PEER_STATUS__PEER_STATUS_ACTIVE);
	assert_memory_equal(got->fingerprint.data, fp, 32);
	proto_free(got);
	assert_int_equal(store_peer_get(t, "1.2.3", &got), HX_ENOTFOUND);
	assert_int_equal(store_peer_list(t, count_peer, &n), HX_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_trust_gen_get(t, &gen1), HX_OK);
	assert_int_equal(gen1, gen0 + 3); /* put, put, delete */
	assert_int_equal(store_meta_get(t, "note", &val, &len), HX_OK);
	assert_int_equal(len, 5);
	assert_memory_equal(val, "hello", 5);
	assert_int_equal(store_meta_get(t, "absent", &val, &len), HX_ENOTFOUND);
	store_read_end(t);
	store_close(s);
	rm_rf(dir);
	free(dir);
}

/* ---- bad stores -------------------------------------------------------------------------- */

static int open_rc(const char *dir, const struct store_opts *o, char *err)
{
	struct store *s = NULL;
	int rc = store_open(dir, o, &s, err, STORE_ERR_MAX);
	if (rc == HX_OK)
		store_close(s);
	else
		assert_true(strlen(err) > 10); /* a sentence naming the problem */
	return rc;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void raw_meta_put(const char *dir, const char *key, const void *val, size_t len)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {strlen(key), (void *)key}, v = {len, (void *)val};
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 32);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void test_bad_stores(void **state)
{
	(void)state;
	char *dir = tmpdir_new(), path[512], err[STORE_ERR_MAX];
	struct store_opts create = {.create = 1, .org_id = ORG};
	struct store_opts create_bad = {.create = 1, .org_id = "not-an-oid"};
	uint8_t junk[65536];

	/* No store there. */
	snprintf(path, sizeof(path), "%s/none", dir);
	assert_int_equal(open_rc(path, NULL, err), HX_ENOTFOUND);
	assert_non_null(strstr(err, "hiepeerctl init"));
	/* Not a directory / cannot be created. */
	assert_int_equal(open_rc("/etc/passwd/store", &create, err), HX_EIO);
	assert_int_equal(open_rc("/etc/passwd", NULL, err), HX_EINVAL);
	/* Bad organisation id. */
	assert_int_equal(open_rc(path, &create_bad, err), HX_EINVAL);
	/* Not writable (meaningless as root, who may write anywhere). */
	if (geteuid() != 0) {
		snprintf(path, sizeof(path), "%s/ro", dir);
		mkdir(path, 0500);
		assert_int_equal(open_rc(path, &create, err), HX_EPERM);
	}
	/* A garbage data.mdb. */
	snprintf(path, sizeof(path), "%s/garbage", dir);
	mkdir(path, 0700);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 2654435761u >> 13);
	{
		char f[600];
		snprintf(f, sizeof(f), "%s/data.mdb", path);
		write_file(f, junk, sizeof(junk));
	}
	assert_int_equal(open_rc(path, NULL, err), HX_ECORRUPT);
	/* A truncated one. */
	snprintf(path, sizeof(path), "%s/short", dir);
	mkdir(path, 0700);
	{
		char f[600];
		snprintf(f, sizeof(f), "%s/data.mdb", path);
		write_file(f, junk, 100);
	}
	assert_int_equal(open_rc(path, NULL, err), HX_ECORRUPT);
	/* A foreign LMDB environment. */
	snprintf(path, sizeof(path), "%s/foreign", dir);
	mkdir(path, 0700);
	{
		MDB_env *env;
		MDB_txn *txn;
		MDB_dbi dbi;
		MDB_val k = {3, "key"}, v = {3, "val"};
		assert_int_equal(mdb_env_create(&env), 0);
		mdb_env_set_maxdbs(env, 4);
		assert_int_equal(mdb_env_open(env, path, 0, 0600), 0);
		assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
		assert_int_equal(mdb_dbi_open(txn, "other", MDB_CREATE, &dbi), 0);
		assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
		assert_int_equal(mdb_txn_commit(txn), 0);
		mdb_env_close(env);
	}
	assert_int_equal(open_rc(path, NULL, err), HX_ECORRUPT);
	assert_non_null(strstr(err, "foreign"));
	assert_int_equal(open_rc(path, &create, err), HX_ECORRUPT);
	/* A store from the future, and one already initialised. */
	snprintf(path, sizeof(path), "%s/future", dir);
	store_close(open_new(path, 0));
	assert_int_equal(open_rc(path, &create, err), HX_EEXIST);
	raw_meta_put(path, "schema", "\0\0\0\x63", 4);
	assert_int_equal(open_rc(path, NULL, err), HX_EVERSION);
	assert_non_null(strstr(err, "99"));
	rm_rf(dir);
	free(dir);
}

/* ---- a full map -------------------------------------------------------------------------- */

static void test_map_full(void **state)
{
	(void)state;
	char *dir = tmpdir_new();
	struct store *s = open_new(dir, 1u << 20); /* 1 MiB */
	struct sample_doc d[64];
	struct store_txn *t;
	const uint8_t *data;
	size_t len;
	int n = 0, rc = HX_OK;

	assert_int_equal(put_patient(s, "P1", "Smith", NULL), HX_OK);
	/* One write larger than the whole map: LMDB's MAP_FULL fails it, nothing else. */
	struct sample_doc huge;
	sample_doc_init(&huge, "P1", 999, "11506-3", 2u << 20, 0);
	assert_int_equal(store_write(s, w_put_doc, &huge), HX_ESPACE);
	sample_doc_clear(&huge);
	for (n = 0; n < 64; n++) {
		sample_doc_init(&d[n], "P1", 1000 + n, "11506-3", 48 * 1024, (unsigned)n);
		rc = store_write(s, w_put_doc, &d[n]);
		if (rc != HX_OK)
			break;
	}
	assert_int_equal(rc, HX_ESPACE);
	assert_true(n > 2);
	/* Reads still work, and what was acknowledged is there. */
	assert_int_equal(store_read_begin(s, &t), HX_OK);
	for (int i = 0; i < n; i++) {
		assert_int_equal(store_doc_content(t, d[i].id, &data, &len), HX_OK);
		assert_memory_equal(data, d[i].content, len);
	}
	assert_int_equal(store_doc_content(t, d[n].id, &data, &len), HX_ENOTFOUND);
	store_read_end(t);
	/* Free space: writes work again, without a restart. */
	assert_int_equal(store_write(s, w_del_doc, d[0].id), HX_OK);
	assert_int_equal(store_write(s, w_del_doc, d[1].id), HX_OK);
	assert_int_equal(store_write(s, w_put_doc, &d[n]), HX_OK);
	/* Fill again, then grow the map: writes work again. */
	int m = n + 1;
	for (; m < 64; m++) {
		sample_doc_init(&d[m], "P1", 1000 + m, "11506-3", 48 * 1024, (unsigned)m);
		if ((rc = store_write(s, w_put_doc, &d[m])) != HX_OK)
			break;
	}
	assert_int_equal(rc, HX_ESPACE);
	assert_int_equal(store_map_grow(s, 1024), HX_EINVAL);
	assert_int_equal(store_map_grow(s, 8u << 20), HX_OK);
	assert_int_equal(store_write(s, w_put_doc, &d[m]), HX_OK);
	store_close(s);
	/* The grown size persists. */
	s = open_existing(dir);
	struct store_stat st;
	assert_int_equal(store_stat_get(s, &st), HX_OK);
	assert_true(st.map_size >= (8u << 20));
	assert_int_equal(st.documents, (uint64_t)(m + 1 - 2));
	store_close(s);
	for (int i = 0; i <= m && i < 64; i++)
		sample_doc_clear(&d[i]);
	rm_rf(dir);
	free(dir);
}


/* A full disk (a small tmpfs, when we may mount one): HX_ESPACE, acknowledged data intact,
 * and writes work again once space is freed. */
static void test_disk_full(void **state)
{
	(void)state;
	char *dir = tmpdir_new(), cmd[600];
	struct sample_doc d[128];
	struct store *s;
	struct store_txn *t;
	const uint8_t *data;
	size_t len;
	int n, rc = HX_OK;

	snprintf(cmd, sizeof(cmd), "mount -t tmpfs -o size=3m hx-test '%s' 2>/dev/null", dir);
	if (geteuid() != 0 || system(cmd) != 0) {
		rm_rf(dir);
		free(dir);
		print_message("disk full: cannot mount a tmpfs here (needs root); skipped\n");
		skip();
	}
	s = open_new(dir, 64u << 20); /* the map is far larger than the disk */
	assert_int_equal(put_patient(s, "P1", "Smith", NULL), HX_OK);
	for (n = 0; n < 128; n++) {
		sample_doc_init(&d[n], "P1", 1000 + n, "11506-3", 40 * 1024, (unsigned)n);
		if ((rc = store_write(s, w_put_doc, &d[n])) != HX_OK)
			break;
	}
	assert_int_equal(rc, HX_ESPACE);
	assert_true(n > 10);
	assert_int_equal(store_read_begin(s, &t), HX_OK);
	for (int i = 0; i < n; i++) {
		assert_int_equal(store_doc_content(t, d[i].id, &data, &len), HX_OK);
		assert_memory_equal(data, d[i].content, len);
	}
	store_read_end(t);
	for (int i = 0; i < 8; i++)
		assert_int_equal(store_write(s, w_del_doc, d[i].id), HX_OK);
	assert_int_equal(store_write(s, w_put_doc, &d[n]), HX_OK);
	store_close(s);
	s = open_existing(dir);
	assert_int_equal(store_read_begin(s, &t), HX_OK);
	assert_int_equal(store_doc_content(t, d[n].id, &data, &len), HX_OK);
	assert_int_equal(store_doc_content(t, d[n - 1].id, &data, &len), HX_OK);
	store_read_end(t);
	store_close(s);
	for (int i = 0; i <= n && i < 128; i++)
		sample_doc_clear(&d[i]);
	snprintf(cmd, sizeof(cmd), "umount '%s'", dir);
	assert_int_equal(system(cmd), 0);
	rm_rf(dir);
	free(dir);
}

/* ---- audit chain ------------------------------------------------------------------------- */

static int audit_verify(const char *dir, struct store_audit_report *rep)
{
	struct store *s = open_existing(dir);
	struct store_txn *t;
	assert_int_equal(store_read_begin(s, &t), HX_OK);
	int rc = store_audit_verify(t, rep);
	store_read_end(t);
	store_close(s);
	return rc;
}

/* Apply fn to the raw audit sub-database of a closed store. */
static void raw_audit(const char *dir, void (*fn)(MDB_txn *, MDB_dbi))
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 32);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "audit", 0, &dbi), 0);
	fn(txn, dbi);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static MDB_val seq_key(uint8_t *buf, uint64_t seq)
{
	for (int i = 7; i >= 0; i--) {
		buf[i] = (uint8_t)seq;
		seq >>= 8;
	}
	MDB_val k = {8, buf};
	return k;
}

/* Change the detail of record 3 (re-packed: a valid record with different content). */
static void tamper_change(MDB_txn *txn, MDB_dbi dbi)
{
	uint8_t kb[8], buf[4096];
	MDB_val k = seq_key(kb, 3), v;
	Hie__V1__AuditEvent *ev = NULL;
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	assert_int_equal(proto_audit_event_unpack(v.mv_data, v.mv_size, &ev), HX_OK);
	char *orig = ev->detail;
	ev->detail = "innocent";
	v.mv_size = proto_pack_to(ev, buf);
	v.mv_data = buf;
	ev->detail = orig;
	proto_free(ev);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
}

static void tamper_remove(MDB_txn *txn, MDB_dbi dbi)
{
	uint8_t kb[8];
	MDB_val k = seq_key(kb, 3);
	assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
}

static void tamper_remove_last(MDB_txn *txn, MDB_dbi dbi)
{
	uint8_t kb[8];
	MDB_val k = seq_key(kb, 6);
	assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
}

static void tamper_swap(MDB_txn *txn, MDB_dbi dbi)
{
	uint8_t k2b[8], k3b[8], b2[4096], b3[4096];
	MDB_val k2 = seq_key(k2b, 2), k3 = seq_key(k3b, 3), v2, v3;
	assert_int_equal(mdb_get(txn, dbi, &k2, &v2), 0);
	assert_int_equal(mdb_get(txn, dbi, &k3, &v3), 0);
	assert_true(v2.mv_size <= sizeof(b2) && v3.mv_size <= sizeof(b3));
	memcpy(b2, v2.mv_data, v2.mv_size);
	memcpy(b3, v3.mv_data, v3.mv_size);
	/* Record 3's bytes under key 2, record 2's under key 3. */
	MDB_val n2 = {v3.mv_size, b3}, n3 = {v2.mv_size, b2};
	assert_int_equal(mdb_put(txn, dbi, &k2, &n2, 0), 0);
	assert_int_equal(mdb_put(txn, dbi, &k3, &n3, 0), 0);
}

static void test_audit_chain(void **state)
{
	(void)state;
	void (*tampers[])(MDB_txn *, MDB_dbi) = {tamper_change, tamper_remove, tamper_swap,
	                                         tamper_remove_last};
	const uint64_t expect_bad[] = {4, 3, 2, 6};

	for (size_t i = 0; i < HX_ARRAY_SIZE(tampers); i++) {
		char *dir = tmpdir_new();
		struct store *s = open_new(dir, 0); /* record 1: store created */
		struct store_audit_report rep;
		char detail[5][16];
		for (int j = 0; j < 5; j++) {
			snprintf(detail[j], sizeof(detail[j]), "event %d", j + 2);
			assert_int_equal(store_write(s, w_audit, detail[j]), HX_OK);
		}
		store_close(s);
		assert_int_equal(audit_verify(dir, &rep), HX_OK);
		assert_int_equal(rep.records, 6);
		assert_int_equal(rep.bad_seq, 0);

		raw_audit(dir, tampers[i]);
		assert_int_equal(audit_verify(dir, &rep), HX_ECORRUPT);
		assert_int_equal(rep.bad_seq, expect_bad[i]);
		assert_true(strlen(rep.problem) > 0);
		rm_rf(dir);
		free(dir);
	}
}

/* ---- group commit ------------------------------------------------------------------------ */

#define GC_THREADS 8
#define GC_PER_THREAD 1000

struct gc_thread {
	struct store *s;
	int index;
	int ok;
	int failed;
};

static void *gc_main(void *arg)
{
	struct gc_thread *g = arg;
	for (int i = 0; i < GC_PER_THREAD; i++) {
		char id[32];
		snprintf(id, sizeof(id), "T%d-%04d", g->index, i);
		if (put_patient(g->s, id, "Group", NULL) == HX_OK)
			g->ok++;
		else
			g->failed++;
	}
	return NULL;
}

static void test_group_commit_threads(void **state)
{
	(void)state;
	char *dir = tmpdir_new();
	struct store *s = open_new(dir, 0);
	struct gc_thread g[GC_THREADS];
	pthread_t th[GC_THREADS];
	struct store_stat st;
	int ok = 0;

	for (int i = 0; i < GC_THREADS; i++) {
		g[i] = (struct gc_thread){s, i, 0, 0};
		assert_int_equal(pthread_create(&th[i], NULL, gc_main, &g[i]), 0);
	}
	for (int i = 0; i < GC_THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(g[i].failed, 0);
		ok += g[i].ok;
	}
	assert_int_equal(ok, GC_THREADS * GC_PER_THREAD);
	assert_int_equal(store_stat_get(s, &st), HX_OK);
	assert_int_equal(st.writes, GC_THREADS * GC_PER_THREAD);
	/* Concurrent submissions shared commits (and so fsyncs). */
	assert_true(st.commits < st.writes);
	print_message("group commit: %llu writes in %llu commits\n", (unsigned long long)st.writes,
	              (unsigned long long)st.commits);
	store_close(s);

	s = open_existing(dir);
	struct store_txn *t;
	assert_int_equal(store_read_begin(s, &t), HX_OK);
	for (int i = 0; i < GC_THREADS; i++) {
		for (int j = 0; j < GC_PER_THREAD; j++) {
			char id[32];
			Hie__V1__Patient *p;
			snprintf(id, sizeof(id), "T%d-%04d", i, j);
			assert_int_equal(store_patient_get(t, id, &p), HX_OK);
			proto_free(p);
		}
	}
	store_read_end(t);
	assert_int_equal(store_stat_get(s, &st), HX_OK);
	assert_int_equal(st.patients, GC_THREADS * GC_PER_THREAD);
	store_close(s);
	rm_rf(dir);
	free(dir);
}

/* Async submissions: a blocker holds the writer so that the rest form one batch, in which
 * some members fail; the others must commit, the failures leave no trace, and every
 * done callback runs exactly once. */
struct gate {
	pthread_mutex_t m;
	pthread_cond_t c;
	int open;
	int entered;
};

static int w_blocker(struct store_txn *t, void *arg)
{
	struct gate *g = arg;
	(void)t;
	pthread_mutex_lock(&g->m);
	g->entered = 1;
	pthread_cond_broadcast(&g->c);
	while (!g->open)
		pthread_cond_wait(&g->c, &g->m);
	pthread_mutex_unlock(&g->m);
	return HX_OK;
}

struct async_item {
	struct sample_patient sp;
	int fail;
	atomic_int done_calls;
	int rc;
};

static int w_async(struct store_txn *t, void *arg)
{
	struct async_item *it = arg;
	int rc = store_patient_put(t, &it->sp.p, NULL, 0);
	if (rc == HX_OK && it->fail)
		return HX_EDENIED; /* after writing: the write must be undone */
	return rc;
}

static void d_async(int rc, void *arg)
{
	struct async_item *it = arg;
	it->rc = rc;
	atomic_fetch_add(&it->done_calls, 1);
}

static void d_nop(int rc, void *arg)
{
	(void)rc;
	(void)arg;
}

static void test_group_commit_isolation(void **state)
{
	(void)state;
	char *dir = tmpdir_new();
	struct store *s = open_new(dir, 0);
	struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
	static struct async_item items[200];
	struct store_stat st0, st1;
	struct store_txn *t;

	assert_int_equal(store_stat_get(s, &st0), HX_OK);
	assert_int_equal(store_write_submit(s, w_blocker, d_nop, &g), HX_OK);
	pthread_mutex_lock(&g.m);
	while (!g.entered)
		pthread_cond_wait(&g.c, &g.m);
	pthread_mutex_unlock(&g.m);
	for (int i = 0; i < 200; i++) {
		char id[16];
		snprintf(id, sizeof(id), "A%03d", i);
		sample_patient_init(&items[i].sp, id, "Async");
		items[i].fail = i % 7 == 3;
		atomic_init(&items[i].done_calls, 0);
		assert_int_equal(store_write_submit(s, w_async, d_async, &items[i]), HX_OK);
	}
	pthread_mutex_lock(&g.m);
	g.open = 1;
	pthread_cond_broadcast(&g.c);
	pthread_mutex_unlock(&g.m);
	store_close(s); /* drains the queue */

	s = open_existing(dir);
	assert_int_equal(store_read_begin(s, &t), HX_OK);
	for (int i = 0; i < 200; i++) {
		Hie__V1__Patient *p;
		assert_int_equal(atomic_load(&items[i].done_calls), 1);
		assert_int_equal(items[i].rc, items[i].fail ? HX_EDENIED : HX_OK);
		assert_int_equal(store_patient_get(t, items[i].sp.id, &p),
		                 items[i].fail ? HX_ENOTFOUND : HX_OK);
		if (!items[i].fail)
			proto_free(p);
	}
	store_read_end(t);
	assert_int_equal(store_stat_get(s, &st1), HX_OK);
	store_close(s);
	(void)st0;
	rm_rf(dir);
	free(dir);
}

/* ---- atomicity under a kill ------------------------------------------------------------- */

static void child_ingest(const char *dir, int fd)
{
	struct store *s = open_existing(dir);
	char c = 'r';
	/* Keep submitting batches of documents until killed. */
	for (int i = 0;; i++) {
		static struct sample_doc d[32];
		static atomic_int pending;
		for (int j = 0; j < 32; j++) {
			sample_doc_init(&d[j], "P1", 1000 + i * 32 + j, "11506-3",
			                4096 + (size_t)(j * 997 % 20000), (unsigned)j);
			atomic_fetch_add(&pending, 1);
		}
		for (int j = 0; j < 31; j++)
			store_write_submit(s, w_put_doc, d_nop, &d[j]);
		store_write(s, w_put_doc, &d[31]); /* waits for the batch */
		if (i == 2 && write(fd, &c, 1) != 1)
			_exit(3);
		for (int j = 0; j < 32; j++)
			sample_doc_clear(&d[j]);
	}
}

static int check_doc_cb(const char *id, int64_t ctime, void *arg)
{
	struct store_txn *t = arg;
	Hie__V1__DocumentEntry *e;
	(void)ctime;
	assert_int_equal(store_doc_get(t, id, &e), HX_OK);
	proto_free(e);
	return 0;
}

/* Lazy writes: one alone is committed after about STORE_LAZY_MS, not at once; many share
 * commits; an eager write takes the queued lazy ones along; closing drains them. */
static int64_t now_ms_(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_lazy_writes(void **state)
{
	(void)state;
	char *dir = tmpdir_new();
	struct store *s = open_new(dir, 0);
	static struct async_item items[600];
	int64_t t0;
	struct store_txn *t;

	for (int i = 0; i < 600; i++) {
		char id[16];
		snprintf(id, sizeof(id), "L%03d", i);
		sample_patient_init(&items[i].sp, id, "Lazy");
		items[i].fail = 0;
		atomic_init(&items[i].done_calls, 0);
	}
	/* One alone: not before about STORE_LAZY_MS, and not much later. */
	t0 = now_ms_();
	assert_int_equal(store_write_lazy(s, w_async, d_async, &items[0]), HX_OK);
	while (atomic_load(&items[0].done_calls) == 0 && now_ms_() - t0 < 5000)
		usleep(1000);
	assert_int_equal(atomic_load(&items[0].done_calls), 1);
	assert_true(now_ms_() - t0 >= STORE_LAZY_MS - 2);
	assert_true(now_ms_() - t0 < 2000);
	/* An eager write takes a queued lazy one along at once. */
	assert_int_equal(store_write_lazy(s, w_async, d_async, &items[1]), HX_OK);
	assert_int_equal(store_write_submit(s, w_async, d_async, &items[2]), HX_OK);
	t0 = now_ms_();
	while (atomic_load(&items[2].done_calls) == 0 && now_ms_() - t0 < 5000)
		usleep(200);
	assert_int_equal(atomic_load(&items[1].done_calls), 1); /* same batch, done first */
	/* Many: all committed; then the rest queued right before closing are drained. */
	for (int i = 3; i < 500; i++)
		assert_int_equal(store_write_lazy(s, w_async, d_async, &items[i]), HX_OK);
	t0 = now_ms_();
	while (atomic_load(&items[499].done_calls) == 0 && now_ms_() - t0 < 5000)
		usleep(1000);
	for (int i = 500; i < 600; i++)
		assert_int_equal(store_write_lazy(s, w_async, d_async, &items[i]), HX_OK);
	store_close(s);
	s = open_existing(dir);
	assert_int_equal(store_read_begin(s, &t), HX_OK);
	for (int i = 0; i < 600; i++) {
		Hie__V1__Patient *p;
		assert_int_equal(atomic_load(&items[i].done_calls), 1);
		assert_int_equal(items[i].rc, HX_OK);
		assert_int_equal(store_patient_get(t, items[i].sp.id, &p), HX_OK);
		proto_free(p);
	}
	store_read_end(t);
	store_close(s);
	rm_rf(dir);
	free(dir);
}

static void test_atomic_under_kill(void **state)
{
	(void)state;
	for (int round = 0; round < 3; round++) {
		char *dir = tmpdir_new();
		struct store *s = open_new(dir, 0);
		int fds[2];
		char c;
		pid_t pid;

		assert_int_equal(put_patient(s, "P1", "Smith", NULL), HX_OK);
		store_close(s);
		assert_int_equal(pipe(fds), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			child_ingest(dir, fds[1]);
			_exit(0);
		}
		close(fds[1]);
		assert_int_equal(read(fds[0], &c, 1), 1);
		usleep(1000 * (unsigned)(round * 7 + 3)); /* kill at varying points mid-batch */
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(fds[0]);

		/* Every document is whole: entry, content with matching hash, index entry; and
		 * every index entry has its document. */
		s = open_existing(dir);
		struct store_txn *t;
		struct store_stat st;
		assert_int_equal(store_stat_get(s, &st), HX_OK);
		assert_true(st.documents >= 96);
		assert_int_equal(store_read_begin(s, &t), HX_OK);
		struct store_doc_filter all = {.status_mask = ~0u, .limit = STORE_LIST_MAX};
		assert_int_equal(store_doc_list(t, "P1", &all, check_doc_cb, t, NULL), HX_OK);
		size_t indexed;
		assert_int_equal(store_doc_count(t, "P1", &indexed), HX_OK);
		assert_int_equal(indexed, st.documents);
		store_read_end(t);
		store_close(s);
		/* Content count equals entry count, and every content hashes right. */
		MDB_env *env;
		MDB_txn *txn;
		MDB_dbi docs, content;
		MDB_stat ds, cs;
		assert_int_equal(mdb_env_create(&env), 0);
		mdb_env_set_maxdbs(env, 32);
		assert_int_equal(mdb_env_open(env, dir, MDB_RDONLY, 0600), 0);
		assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
		assert_int_equal(mdb_dbi_open(txn, "docs", 0, &docs), 0);
		assert_int_equal(mdb_dbi_open(txn, "content", 0, &content), 0);
		mdb_stat(txn, docs, &ds);
		mdb_stat(txn, content, &cs);
		assert_int_equal(ds.ms_entries, cs.ms_entries);
		MDB_cursor *cur;
		MDB_val k, v;
		assert_int_equal(mdb_cursor_open(txn, docs, &cur), 0);
		while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
			Hie__V1__DocumentEntry *e = NULL;
			MDB_val cv;
			uint8_t h[32];
			assert_int_equal(proto_document_entry_unpack(v.mv_data, v.mv_size, &e), HX_OK);
			assert_int_equal(mdb_get(txn, content, &k, &cv), 0);
			assert_int_equal(cv.mv_size, e->size);
			crypto_sha256(cv.mv_data, cv.mv_size, h);
			assert_memory_equal(h, e->sha256.data, 32);
			proto_free(e);
		}
		mdb_cursor_close(cur);
		mdb_txn_abort(txn);
		mdb_env_close(env);
		rm_rf(dir);
		free(dir);
	}
}

/* ---- record locator ---------------------------------------------------------------------- */

struct loc_op {
	const uint8_t *token;
	const char *org;
	int remove;
};

static int w_locator(struct store_txn *t, void *arg)
{
	const struct loc_op *op = arg;
	return op->remove ? store_locator_remove(t, op->token, op->org)
	                  : store_locator_add(t, op->token, op->org);
}

/* Several operations in one write: all or nothing. */
static int w_locator_many(struct store_txn *t, void *arg)
{
	for (const struct loc_op *op = arg; op->token != NULL; op++) {
		int rc = w_locator(t, (void *)op);
		if (rc != HX_OK)
			return rc;
	}
	return HX_OK;
}

static int loc_write(struct store *s, const uint8_t *token, const char *org, int remove)
{
	struct loc_op op = {token, org, remove};
	return store_write(s, w_locator, &op);
}

struct loc_seen {
	char list[512];
	size_t n, stop_at;
};

static int loc_collect(const char *org, size_t len, void *arg)
{
	struct loc_seen *a = arg;
	assert_int_equal(len, strlen(org));
	a->n++;
	if (strlen(a->list) + strlen(org) + 2 < sizeof(a->list)) {
		strcat(a->list, org);
		strcat(a->list, ",");
	}
	return a->stop_at != 0 && a->n == a->stop_at;
}

/* Lookup through a fresh read transaction: the organisations as "a,b,", *truncated. */
static struct loc_seen loc_lookup(struct store *s, const uint8_t *token, size_t max,
                                  size_t stop_at, int *truncated)
{
	struct loc_seen a = {.stop_at = stop_at};
	struct store_txn *t;
	*truncated = -1;
	assert_int_equal(store_read_begin(s, &t), HX_OK);
	assert_int_equal(store_locator_lookup(t, token, max, loc_collect, &a, truncated), HX_OK);
	store_read_end(t);
	assert_true(*truncated == 0 || *truncated == 1);
	return a;
}

static uint64_t loc_pairs(struct store *s)
{
	struct store_txn *t;
	uint64_t n = 0;
	assert_int_equal(store_read_begin(s, &t), HX_OK);
	assert_int_equal(store_locator_stat(t, &n), HX_OK);
	store_read_end(t);
	return n;
}

struct seq_op {
	const char *org;
	struct store_locator_seq in;
	struct store_locator_seq_out out;
};

static int w_seq(struct store_txn *t, void *arg)
{
	struct seq_op *o = arg;
	return store_locator_sequence(t, o->org, &o->in, &o->out);
}

static int w_resume(struct store_txn *t, void *arg)
{
	struct seq_op *o = arg;
	return store_locator_resume(t, o->org, o->in.stream, o->in.seq);
}

/* seq_try(s, org, stream byte, sequence, digest byte): "apply", "replay" or "conflict", and
 * the stream's highest applied sequence after. */
static const char *seq_try(struct store *s, const char *org, uint8_t stream, uint64_t seq,
                           uint8_t digest, uint64_t *applied)
{
	struct seq_op o = {.org = org};
	memset(o.in.stream, stream, sizeof(o.in.stream));
	memset(o.in.digest, digest, sizeof(o.in.digest));
	o.in.seq = seq;
	if (store_write(s, w_seq, &o) != HX_OK)
		return "error";
	*applied = o.out.applied;
	return o.out.apply ? "apply" : o.out.conflict ? "conflict" : o.out.gap ? "gap" : "replay";
}

/* A publisher's stream at the locator: each sequence applied once and in order. */
static void test_locator_sequence(void **state)
{
	(void)state;
	char *dir = tmpdir_new();
	struct store *s = open_new(dir, 0);
	const char *A = "1.2.3.1", *B = "1.2.3.2";
	struct seq_op bad = {.org = A};
	uint64_t ap = 0;

	assert_string_equal(seq_try(s, A, 1, 1, 0xa1, &ap), "apply");
	assert_int_equal(ap, 1);
	assert_string_equal(seq_try(s, A, 1, 1, 0xa1, &ap), "replay"); /* a resend */
	assert_string_equal(seq_try(s, A, 1, 1, 0xa2, &ap), "conflict"); /* other tokens */
	assert_string_equal(seq_try(s, A, 1, 3, 0xa3, &ap), "gap"); /* 2 never came */
	assert_int_equal(ap, 1);
	assert_string_equal(seq_try(s, A, 1, 2, 0xa2, &ap), "apply");
	assert_string_equal(seq_try(s, A, 1, 3, 0xa3, &ap), "apply");
	assert_int_equal(ap, 3);
	assert_string_equal(seq_try(s, A, 1, 2, 0xa2, &ap), "conflict"); /* late */
	assert_int_equal(ap, 3);
	assert_string_equal(seq_try(s, A, 1, 3, 0xa3, &ap), "replay");
	/* another stream, another organisation: their own places */
	assert_string_equal(seq_try(s, A, 2, 1, 0xb1, &ap), "apply");
	assert_string_equal(seq_try(s, B, 1, 1, 0xa1, &ap), "apply");
	assert_string_equal(seq_try(s, A, 1, 3, 0xa3, &ap), "replay");
	assert_int_equal(ap, 3);
	/* refused: sequence 0, a bad organisation id, a read transaction */
	assert_string_equal(seq_try(s, A, 1, 0, 0, &ap), "error");
	assert_string_equal(seq_try(s, "1.2.x", 1, 4, 0, &ap), "error");
	{
		struct store_txn *t;
		bad.in.seq = 9;
		assert_int_equal(store_read_begin(s, &t), HX_OK);
		assert_int_equal(store_locator_sequence(t, A, &bad.in, &bad.out), HX_EINVAL);
		store_read_end(t);
	}
	/* at most STORE_LOCATOR_STREAMS_MAX streams an organisation: a new one evicts the
	 * longest unused (here the first, made no later than the others) */
	for (unsigned k = 0; k < STORE_LOCATOR_STREAMS_MAX; k++)
		assert_string_equal(seq_try(s, B, (uint8_t)(0x10 + k), 1, 0xc0, &ap), "apply");
	assert_string_equal(seq_try(s, B, 0x10, 1, 0xc0, &ap), "replay");
	assert_string_equal(seq_try(s, B, 0x40, 1, 0xc0, &ap), "apply"); /* the 17th */
	assert_string_equal(seq_try(s, B, 0x1f, 1, 0xc0, &ap), "replay"); /* kept */
	assert_string_equal(seq_try(s, B, 0x10, 1, 0xc0, &ap), "apply");  /* forgotten */
	assert_string_equal(seq_try(s, A, 1, 3, 0xa3, &ap), "replay");    /* A's untouched */
	/* a snapshot's resume point: the next sequence follows it, an earlier one conflicts */
	{
		struct seq_op r = {.org = A};
		memset(r.in.stream, 5, sizeof(r.in.stream));
		r.in.seq = 10;
		assert_int_equal(store_write(s, w_resume, &r), HX_OK);
		assert_string_equal(seq_try(s, A, 5, 10, 0xd0, &ap), "conflict");
		assert_string_equal(seq_try(s, A, 5, 11, 0xd1, &ap), "apply");
		r.in.seq = 4; /* behind: changes nothing */
		assert_int_equal(store_write(s, w_resume, &r), HX_OK);
		assert_string_equal(seq_try(s, A, 5, 12, 0xd2, &ap), "apply");
	}
	/* A publisher that sends nothing between snapshots: each snapshot's last range resumes
	 * its queue's stream, which therefore stays in use. When the 16th snapshot's first
	 * range makes a 17th stream, the first snapshot's stream is evicted, not the queue's:
	 * a publication sent then follows on (not a gap). */
	{
		const char *C = "1.2.3.3";
		struct seq_op r = {.org = C};
		assert_string_equal(seq_try(s, C, 0x60, 1, 0xe1, &ap), "apply");
		memset(r.in.stream, 0x60, sizeof(r.in.stream));
		r.in.seq = 1;
		for (unsigned k = 0; k < STORE_LOCATOR_STREAMS_MAX - 1; k++) {
			usleep(2000); /* the streams' use times differ */
			assert_string_equal(seq_try(s, C, (uint8_t)(0x70 + k), 1, 0xe0, &ap), "apply");
			assert_int_equal(store_write(s, w_resume, &r), HX_OK);
		}
		usleep(2000);
		assert_string_equal(seq_try(s, C, 0x90, 1, 0xe0, &ap), "apply"); /* the 17th */
		/* marking it used kept its digest: a resend of its last publication is a replay */
		assert_string_equal(seq_try(s, C, 0x60, 1, 0xe1, &ap), "replay");
		assert_string_equal(seq_try(s, C, 0x60, 2, 0xe2, &ap), "apply");
		assert_string_equal(seq_try(s, C, 0x70, 2, 0xe0, &ap), "gap"); /* evicted */
	}
	/* how far a stream is applied, in a read transaction (a check): per organisation and
	 * stream, 0 for one not known (never seen, or evicted) */
	{
		struct store_txn *t;
		uint8_t st[PROTO_STREAM_LEN];
		uint64_t got = 99;
		assert_int_equal(store_read_begin(s, &t), HX_OK);
		memset(st, 1, sizeof(st));
		assert_int_equal(store_locator_applied(t, A, st, &got), HX_OK);
		assert_int_equal(got, 3);
		memset(st, 5, sizeof(st));
		assert_int_equal(store_locator_applied(t, A, st, &got), HX_OK);
		assert_int_equal(got, 12);
		assert_int_equal(store_locator_applied(t, B, st, &got), HX_OK);
		assert_int_equal(got, 0);
		memset(st, 0x11, sizeof(st)); /* B's second stream, evicted above */
		assert_int_equal(store_locator_applied(t, B, st, &got), HX_OK);
		assert_int_equal(got, 0);
		memset(st, 0x12, sizeof(st));
		assert_int_equal(store_locator_applied(t, B, st, &got), HX_OK);
		assert_int_equal(got, 1);
		assert_int_equal(store_locator_applied(t, "1.2.x", st, &got), HX_EINVAL);
		store_read_end(t);
	}
	/* kept across a reopen */
	store_close(s);
	s = open_existing(dir);
	assert_string_equal(seq_try(s, A, 1, 3, 0xa3, &ap), "replay");
	assert_string_equal(seq_try(s, A, 1, 4, 0xa4, &ap), "apply");
	store_close(s);
	rm_rf(dir);
	free(dir);
}

static void test_locator(void **state)
{
	(void)state;
	char *dir = tmpdir_new();
	struct store *s = open_new(dir, 0);
	struct store_txn *t;
	uint8_t t1[STORE_TOKEN_LEN], t2[STORE_TOKEN_LEN], t3[STORE_TOKEN_LEN];
	const char *A = "1.2.3.1", *B = "1.2.3.2", *C = "1.2.3.10";
	struct loc_seen got;
	int trunc;

	memset(t1, 0x11, sizeof(t1));
	memset(t2, 0x22, sizeof(t2));
	memset(t3, 0x33, sizeof(t3));
	t2[31] = 0x11; /* tokens differ only in their last byte: no prefix confusion */
	memcpy(t3, t2, sizeof(t3));
	t3[31] = 0x12;

	/* add, and add again: one pair. */
	assert_int_equal(loc_write(s, t1, A, 0), HX_OK);
	assert_int_equal(loc_write(s, t1, A, 0), HX_OK);
	assert_int_equal(loc_pairs(s), 1);
	assert_int_equal(loc_write(s, t1, B, 0), HX_OK);
	assert_int_equal(loc_write(s, t1, C, 0), HX_OK);
	assert_int_equal(loc_write(s, t2, B, 0), HX_OK);
	assert_int_equal(loc_pairs(s), 4);

	/* lookup: every holder once, in byte order of the ids. */
	got = loc_lookup(s, t1, 0, 0, &trunc);
	assert_string_equal(got.list, "1.2.3.1,1.2.3.10,1.2.3.2,");
	assert_int_equal(trunc, 0);
	got = loc_lookup(s, t2, 0, 0, &trunc);
	assert_string_equal(got.list, "1.2.3.2,");
	got = loc_lookup(s, t3, 0, 0, &trunc); /* nobody holds it */
	assert_int_equal(got.n, 0);
	assert_int_equal(trunc, 0);
	/* the cap: exactly as many as there are is not truncated; one fewer is */
	got = loc_lookup(s, t1, 3, 0, &trunc);
	assert_int_equal(got.n, 3);
	assert_int_equal(trunc, 0);
	got = loc_lookup(s, t1, 2, 0, &trunc);
	assert_string_equal(got.list, "1.2.3.1,1.2.3.10,");
	assert_int_equal(trunc, 1);
	/* the callback stopping is not truncation */
	got = loc_lookup(s, t1, 0, 1, &trunc);
	assert_int_equal(got.n, 1);
	assert_int_equal(trunc, 0);
	/* several tokens through one cursor, in any order, one nobody holds among them: each
	 * token's holders in turn; the cap per token; a stop ends the whole walk */
	{
		const uint8_t *each[] = {t2, t3, t1};
		memset(&got, 0, sizeof(got));
		assert_int_equal(store_read_begin(s, &t), HX_OK);
		assert_int_equal(store_locator_lookup_each(t, each, 3, 0, loc_collect, &got, &trunc),
		                 HX_OK);
		assert_string_equal(got.list, "1.2.3.2,1.2.3.1,1.2.3.10,1.2.3.2,");
		assert_int_equal(trunc, 0);
		memset(&got, 0, sizeof(got));
		assert_int_equal(store_locator_lookup_each(t, each, 3, 1, loc_collect, &got, &trunc),
		                 HX_OK);
		assert_string_equal(got.list, "1.2.3.2,1.2.3.1,");
		assert_int_equal(trunc, 1); /* t1 had more than one */
		memset(&got, 0, sizeof(got));
		got.stop_at = 2;
		{
			const uint8_t *t1_first[] = {t1, t2, t3}; /* the stop within t1's holders */
			assert_int_equal(store_locator_lookup_each(t, t1_first, 3, 0, loc_collect, &got,
			                                           &trunc),
			                 HX_OK);
		}
		assert_string_equal(got.list, "1.2.3.1,1.2.3.10,");
		assert_int_equal(store_locator_lookup_each(t, each, 0, 0, loc_collect, &got, &trunc),
		                 HX_OK);
		assert_int_equal(got.n, 2);
		store_read_end(t);
	}

	/* remove one holder: the others keep theirs; remove again, and remove what never was */
	assert_int_equal(loc_write(s, t1, B, 1), HX_OK);
	assert_int_equal(loc_write(s, t1, B, 1), HX_OK);
	assert_int_equal(loc_write(s, t3, A, 1), HX_OK);
	got = loc_lookup(s, t1, 0, 0, &trunc);
	assert_string_equal(got.list, "1.2.3.1,1.2.3.10,");
	got = loc_lookup(s, t2, 0, 0, &trunc);
	assert_string_equal(got.list, "1.2.3.2,");
	assert_int_equal(loc_pairs(s), 3);

	/* bad organisation ids, writes outside a write transaction */
	assert_int_equal(loc_write(s, t1, "1.2.x", 0), HX_EINVAL);
	assert_int_equal(loc_write(s, t1, "", 1), HX_EINVAL);
	assert_int_equal(store_read_begin(s, &t), HX_OK);
	assert_int_equal(store_locator_add(t, t3, A), HX_EINVAL);
	assert_int_equal(store_locator_remove(t, t1, A), HX_EINVAL);
	store_read_end(t);

	/* all or nothing: a write that fails half-way leaves no pair behind */
	{
		struct loc_op ops[] = {
			{t3, A, 0}, {t1, A, 1}, {t3, "not-an-oid", 0}, {NULL, NULL, 0},
		};
		assert_int_equal(store_write(s, w_locator_many, ops), HX_EINVAL);
	}
	got = loc_lookup(s, t3, 0, 0, &trunc);
	assert_int_equal(got.n, 0);
	got = loc_lookup(s, t1, 0, 0, &trunc);
	assert_string_equal(got.list, "1.2.3.1,1.2.3.10,");
	assert_int_equal(loc_pairs(s), 3);
	store_close(s);

	/* everything survives a reopen */
	s = open_existing(dir);
	got = loc_lookup(s, t1, 0, 0, &trunc);
	assert_string_equal(got.list, "1.2.3.1,1.2.3.10,");
	got = loc_lookup(s, t2, 0, 0, &trunc);
	assert_string_equal(got.list, "1.2.3.2,");
	assert_int_equal(loc_pairs(s), 3);

	/* the hard cap: a token held by more than STORE_LOCATOR_LOOKUP_MAX organisations */
	{
		size_t n = STORE_LOCATOR_LOOKUP_MAX + 1;
		struct loc_op *ops = calloc(n + 1, sizeof(*ops));
		char(*orgs)[PROTO_ORG_ID_MAX + 1] = calloc(n, sizeof(*orgs));
		assert_non_null(ops);
		assert_non_null(orgs);
		for (size_t i = 0; i < n; i++) {
			snprintf(orgs[i], sizeof(orgs[i]), "2.16.840.1.113883.9.%zu", i);
			ops[i].token = t3;
			ops[i].org = orgs[i];
		}
		assert_int_equal(store_write(s, w_locator_many, ops), HX_OK);
		free(ops);
		free(orgs);
	}
	got = loc_lookup(s, t3, 0, 0, &trunc);
	assert_int_equal(got.n, STORE_LOCATOR_LOOKUP_MAX);
	assert_int_equal(trunc, 1);
	got = loc_lookup(s, t3, 5000, 0, &trunc);
	assert_int_equal(got.n, STORE_LOCATOR_LOOKUP_MAX);
	assert_int_equal(loc_pairs(s), 3 + STORE_LOCATOR_LOOKUP_MAX + 1);
	store_close(s);
	rm_rf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_patient_roundtrip),
		cmocka_unit_test(test_patient_match_record),
		cmocka_unit_test(test_patient_list),
		cmocka_unit_test(test_document_roundtrip_and_list),
		cmocka_unit_test(test_peer_meta_roundtrip_and_reopen),
		cmocka_unit_test(test_bad_stores),
		cmocka_unit_test(test_map_full),
		cmocka_unit_test(test_disk_full),
		cmocka_unit_test(test_audit_chain),
		cmocka_unit_test(test_group_commit_threads),
		cmocka_unit_test(test_group_commit_isolation),
		cmocka_unit_test(test_lazy_writes),
		cmocka_unit_test(test_atomic_under_kill),
		cmocka_unit_test(test_locator),
		cmocka_unit_test(test_locator_sequence),
	};
	hx_log_init("test_store", HX_LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
