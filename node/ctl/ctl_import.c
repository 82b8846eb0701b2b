/* ctl_import.c: patient add, doc import: put an operator's own records into the store. */
#include "ctl.h"

#include "crypto.h"
#include "identity.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct patient_write {
	Hie__V1__Patient *p;
	const char *detail;
};

static int w_patient(struct store_txn *t, void *arg)
{
	struct patient_write *pw = arg;
	struct identity_keys keys;
	int rc;

	identity_keys_build(pw->p->demographics, &keys);
	if ((rc = store_patient_put_rec(t, pw->p, keys.keys, keys.n, keys.record,
	                                 keys.record_len)) != HX_OK)
		return rc;
	return ctl_audit_patient(t, pw->p->id, pw->detail);
}

int ctl_patient_add_run(struct ctl *c)
{
	static const struct option opts[] = {
		{"id", required_argument, NULL, 'i'},      {"family", required_argument, NULL, 'f'},
		{"given", required_argument, NULL, 'g'},   {"birth-date", required_argument, NULL, 'b'},
		{"sex", required_argument, NULL, 's'},     {"ssn", required_argument, NULL, 'n'},
		{"postal-code", required_argument, NULL, 'z'}, {NULL, 0, NULL, 0},
	};
	Hie__V1__Patient p = HIE__V1__PATIENT__INIT;
	Hie__V1__Demographics d = HIE__V1__DEMOGRAPHICS__INIT;
	Hie__V1__HumanName name = HIE__V1__HUMAN_NAME__INIT, *names[1] = {&name};
	Hie__V1__Identifier ssn = HIE__V1__IDENTIFIER__INIT, *idents[1] = {&ssn};
	Hie__V1__Address addr = HIE__V1__ADDRESS__INIT, *addrs[1] = {&addr};
	char *given[1];
	struct patient_write pw = {&p, "patient added by hiepeerctl"};
	int ch, rc;

	p.demographics = &d;
	d.names = names;
	name.use = HIE__V1__NAME_USE__NAME_USE_OFFICIAL;
	while ((ch = getopt_long(c->argc, c->argv, "i:f:g:b:s:n:z:", opts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			p.id = optarg;
			break;
		case 'f':
			name.family = optarg;
			d.n_names = 1;
			break;
		case 'g':
			given[0] = optarg;
			name.given = given;
			name.n_given = 1;
			d.n_names = 1;
			break;
		case 'b':
			d.birth_date = optarg;
			break;
		case 's':
			if (strcmp(optarg, "female") == 0)
				d.sex = HIE__V1__SEX__SEX_FEMALE;
			else if (strcmp(optarg, "male") == 0)
				d.sex = HIE__V1__SEX__SEX_MALE;
			else if (strcmp(optarg, "other") == 0)
				d.sex = HIE__V1__SEX__SEX_OTHER;
			else
				return ctl_fail("--sex: female, male or other (not '%s')", optarg);
			break;
		case 'n':
			ssn.system = "2.16.840.1.113883.4.1";
			ssn.value = optarg;
			d.identifiers = idents;
			d.n_identifiers = 1;
			break;
		case 'z':
			addr.postal_code = optarg;
			d.addresses = addrs;
			d.n_addresses = 1;
			break;
		default:
			return 2;
		}
	}
	if (optind != c->argc || p.id == NULL)
		return ctl_fail("patient add: usage: hiepeerctl patient add --id ID [--family F] "
		                "[--given G] [--birth-date YYYY-MM-DD] [--sex S] [--ssn N]");
	if (proto_id_patient_check(p.id) != HX_OK)
		return ctl_fail("patient add: '%s' is not a valid patient id", p.id);
	if (d.birth_date != NULL && d.birth_date[0] != '\0' &&
	    (rc = hx_birth_date_check(d.birth_date, hx_time_now_ms())) != HX_OK)
		return ctl_fail(rc == HX_EINVAL ? "patient add: --birth-date: '%s' is in the future"
		                                : "patient add: '%s' is not a real date (YYYY-MM-DD)",
		                d.birth_date);
	p.updated = hx_time_now_ms();
	if (proto_check(PROTO_PATIENT, &p) != HX_OK)
		return ctl_fail("patient add: the demographics are not acceptable (UTF-8 text, no "
		                "control characters, within length limits)");
	if (ctl_store_open(c, 0) != 0)
		return 1;
	if ((rc = store_write(c->store, w_patient, &pw)) != HX_OK)
		return ctl_fail("patient add: %s", hx_strerror(rc));
	printf("patient %s stored\n", p.id);
	return 0;
}

struct doc_write {
	Hie__V1__DocumentEntry *e;
	const uint8_t *content;
	size_t len;
};

static int w_doc(struct store_txn *t, void *arg)
{
	struct doc_write *dw = arg;
	Hie__V1__AuditEvent ev = HIE__V1__AUDIT_EVENT__INIT;
	char *pids[1] = {dw->e->patient_id}, *dids[1] = {dw->e->id};
	int rc;

	if ((rc = store_doc_put(t, dw->e, dw->content, dw->len)) != HX_OK)
		return rc;
	ev.time = hx_time_now_ms();
	ev.action = HIE__V1__AUDIT_ACTION__AUDIT_ACTION_IMPORT;
	ev.outcome = HIE__V1__AUDIT_OUTCOME__AUDIT_OUTCOME_SUCCESS;
	ev.actor_org = (char *)store_org_id(store_txn_store(t));
	ev.actor_user = (char *)ctl_actor();
	ev.n_patient_ids = 1;
	ev.patient_ids = pids;
	ev.n_document_ids = 1;
	ev.document_ids = dids;
	ev.detail = "document imported by hiepeerctl";
	return store_audit_append(t, &ev, NULL);
}

int ctl_doc_import_run(struct ctl *c)
{
	static const struct option opts[] = {
		{"patient", required_argument, NULL, 'p'}, {"file", required_argument, NULL, 'f'},
		{"type", required_argument, NULL, 'y'},    {"title", required_argument, NULL, 't'},
		{"mime", required_argument, NULL, 'm'},    {"created", required_argument, NULL, 'c'},
		{NULL, 0, NULL, 0},
	};
	Hie__V1__DocumentEntry e = HIE__V1__DOCUMENT_ENTRY__INIT;
	Hie__V1__Code type = HIE__V1__CODE__INIT;
	struct doc_write dw = {&e, NULL, 0};
	struct hx_buf content, sigbuf;
	uint8_t sha[CRYPTO_SHA256_LEN];
	char id[33], uid[128];
	const char *file = NULL;
	FILE *f;
	int ch, rc;

	type.system = "2.16.840.1.113883.6.1";
	e.type_code = &type;
	e.mime_type = "text/plain";
	e.language = "en-US";
	e.status = HIE__V1__DOCUMENT_STATUS__DOCUMENT_STATUS_APPROVED;
	e.creation_time = hx_time_now_ms();
	while ((ch = getopt_long(c->argc, c->argv, "p:f:y:t:m:c:", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			e.patient_id = optarg;
			break;
		case 'f':
			file = optarg;
			break;
		case 'y':
			type.code = optarg;
			break;
		case 't':
			e.title = optarg;
			break;
		case 'm':
			e.mime_type = optarg;
			break;
		case 'c':
			if (ctl_parse_time("--created", optarg, &e.creation_time))
				return 1;
			break;
		default:
			return 2;
		}
	}
	if (optind != c->argc || e.patient_id == NULL || file == NULL || type.code == NULL)
		return ctl_fail("doc import: usage: hiepeerctl doc import --patient ID --file FILE "
		                "--type LOINC [--title T] [--mime TYPE] [--created DATE]");
	hx_buf_init(&content, PROTO_CONTENT_MAX);
	f = fopen(file, "rb");
	if (f == NULL)
		return ctl_fail("doc import: cannot read %s", file);
	for (;;) {
		uint8_t chunk[65536];
		size_t n = fread(chunk, 1, sizeof(chunk), f);
		if (n == 0)
			break;
		if (hx_buf_append(&content, chunk, n) != HX_OK) {
			fclose(f);
			hx_buf_clear(&content);
			return ctl_fail("doc import: %s is larger than 64 MiB", file);
		}
	}
	fclose(f);
	if (ctl_store_open(c, 0) != 0) {
		hx_buf_clear(&content);
		return 1;
	}
	crypto_doc_id_new(id);
	crypto_sha256(content.data, content.len, sha);
	snprintf(uid, sizeof(uid), "urn:uuid:%.8s-%.4s-%.4s-%.4s-%.12s", id, id + 8, id + 12,
	         id + 16, id + 20);
	e.id = id;
	e.unique_id = uid;
	e.origin_org = (char *)store_org_id(c->store);
	e.size = content.len;
	e.sha256.data = sha;
	e.sha256.len = sizeof(sha);
	if (e.title == NULL)
		e.title = "Imported document";
	{
		struct crypto_signer *signer = NULL;
		if (ctl_signer_open(c, &signer) != 0) {
			hx_buf_clear(&content);
			return 1;
		}
		hx_buf_init(&sigbuf, 4096);
		rc = ctl_sign_entry(signer, &e, &sigbuf);
		crypto_signer_free(signer);
		if (rc != HX_OK) {
			hx_buf_clear(&content);
			hx_buf_clear(&sigbuf);
			return ctl_fail("doc import: cannot sign the document: %s", hx_strerror(rc));
		}
	}
	dw.content = content.data;
	dw.len = content.len;
	if (proto_check(PROTO_DOCUMENT_ENTRY, &e) != HX_OK) {
		hx_buf_clear(&content);
		hx_buf_clear(&sigbuf);
		return ctl_fail("doc import: the metadata is not acceptable (check --type, --mime, "
		                "--title)");
	}
	rc = store_write(c->store, w_doc, &dw);
	hx_buf_clear(&sigbuf);
	hx_buf_clear(&content);
	if (rc == HX_ENOTFOUND)
		return ctl_fail("doc import: no patient '%s' (hiepeerctl patient add)", e.patient_id);
	if (rc != HX_OK)
		return ctl_fail("doc import: %s", hx_strerror(rc));
	if (c->json) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "id", id);
		cJSON_AddNumberToObject(j, "size", (double)e.size);
		ctl_json_print(j);
	} else {
		printf("document %s stored for patient %s (%llu bytes)\n", id, e.patient_id,
		       (unsigned long long)e.size);
	}
	return 0;
}
