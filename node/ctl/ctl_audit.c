/* ctl_audit.c: audit verify, audit list. */
#include "ctl.h"

#include "crypto.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

int ctl_audit_verify_run(struct ctl *c)
{
	struct store_audit_report rep;
	struct store_txn *t;
	int rc;

	if (c->argc != 1)
		return ctl_fail("audit verify: takes no arguments");
	if (ctl_store_open(c, 1) != 0)
		return 1;
	if ((rc = store_read_begin(c->store, &t)) != HX_OK)
		return ctl_fail("audit verify: %s", hx_strerror(rc));
	rc = store_audit_verify(t, &rep);
	store_read_end(t);
	if (c->json) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddBoolToObject(j, "ok", rc == HX_OK);
		cJSON_AddNumberToObject(j, "records", (double)rep.records);
		if (rc != HX_OK) {
			cJSON_AddNumberToObject(j, "bad_seq", (double)rep.bad_seq);
			cJSON_AddStringToObject(j, "problem", rep.problem[0] ? rep.problem
			                                                     : hx_strerror(rc));
		}
		ctl_json_print(j);
		return rc == HX_OK ? 0 : 1;
	}
	if (rc == HX_ECORRUPT)
		return ctl_fail("audit verify: FAILED at record %llu: %s",
		                (unsigned long long)rep.bad_seq, rep.problem);
	if (rc != HX_OK)
		return ctl_fail("audit verify: %s", hx_strerror(rc));
	printf("audit chain ok: %llu records\n", (unsigned long long)rep.records);
	return 0;
}

struct audit_state {
	cJSON *arr;
};

static const char *action_name(int a)
{
	const ProtobufCEnumValue *v =
		protobuf_c_enum_descriptor_get_value(&hie__v1__audit_action__descriptor, a);
	return v != NULL ? v->name + strlen("AUDIT_ACTION_") : "?";
}

static const char *outcome_name(int o)
{
	const ProtobufCEnumValue *v =
		protobuf_c_enum_descriptor_get_value(&hie__v1__audit_outcome__descriptor, o);
	return v != NULL ? v->name + strlen("AUDIT_OUTCOME_") : "?";
}

static int audit_cb(const Hie__V1__AuditEvent *ev, void *arg)
{
	struct audit_state *st = arg;
	char ts[32], fp[100];

	hx_time_format(ev->time, ts, sizeof(ts));
	if (st->arr != NULL) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "seq", (double)ev->seq);
		cJSON_AddStringToObject(o, "time", ts);
		cJSON_AddStringToObject(o, "action", action_name(ev->action));
		cJSON_AddStringToObject(o, "outcome", outcome_name(ev->outcome));
		cJSON_AddStringToObject(o, "actor_org", ev->actor_org);
		cJSON_AddStringToObject(o, "actor_user", ev->actor_user);
		cJSON_AddStringToObject(o, "target_org", ev->target_org);
		cJSON_AddStringToObject(o, "detail", ev->detail);
		if (ev->n_patient_ids > 0) {
			cJSON *ids = cJSON_AddArrayToObject(o, "patient_ids");
			for (size_t i = 0; i < ev->n_patient_ids; i++)
				cJSON_AddItemToArray(ids, cJSON_CreateString(ev->patient_ids[i]));
		}
		if (ev->n_document_ids > 0) {
			cJSON *ids = cJSON_AddArrayToObject(o, "document_ids");
			for (size_t i = 0; i < ev->n_document_ids; i++)
				cJSON_AddItemToArray(ids, cJSON_CreateString(ev->document_ids[i]));
		}
		if (ev->purpose != 0) {
			const ProtobufCEnumValue *pv = protobuf_c_enum_descriptor_get_value(
			        &hie__v1__purpose_of_use__descriptor, ev->purpose);
			cJSON_AddStringToObject(o, "purpose",
			                        pv != NULL ? pv->name + strlen("PURPOSE_OF_USE_") : "?");
		}
		if (ev->actor_fingerprint.len == CRYPTO_SHA256_LEN) {
			crypto_fingerprint_format(ev->actor_fingerprint.data, fp, sizeof(fp));
			cJSON_AddStringToObject(o, "actor_fingerprint", fp);
		}
		if (ev->old_fingerprint.len == CRYPTO_SHA256_LEN) {
			crypto_fingerprint_format(ev->old_fingerprint.data, fp, sizeof(fp));
			cJSON_AddStringToObject(o, "old_fingerprint", fp);
		}
		if (ev->new_fingerprint.len == CRYPTO_SHA256_LEN) {
			crypto_fingerprint_format(ev->new_fingerprint.data, fp, sizeof(fp));
			cJSON_AddStringToObject(o, "new_fingerprint", fp);
		}
		cJSON_AddItemToArray(st->arr, o);
		return 0;
	}
	printf("%8llu  %-24s  %-16s %-8s %-26s %-10s %s\n", (unsigned long long)ev->seq, ts,
	       action_name(ev->action), outcome_name(ev->outcome), ev->actor_org, ev->actor_user,
	       ev->detail);
	return 0;
}

int ctl_audit_list_run(struct ctl *c)
{
	static const struct option opts[] = {
		{"from", required_argument, NULL, 'f'},
		{"limit", required_argument, NULL, 'l'},
		{NULL, 0, NULL, 0},
	};
	struct audit_state st = {0};
	struct store_txn *t;
	uint64_t from = 1, limit = 100;
	int ch, rc;

	while ((ch = getopt_long(c->argc, c->argv, "f:l:", opts, NULL)) != -1) {
		if (ch == 'f') {
			if (ctl_parse_u64("--from", optarg, &from))
				return 1;
		} else if (ch == 'l') {
			if (ctl_parse_u64("--limit", optarg, &limit))
				return 1;
			if (limit == 0 || limit > STORE_LIST_MAX)
				return ctl_fail("--limit: between 1 and %d", STORE_LIST_MAX);
		} else {
			return 2;
		}
	}
	if (optind != c->argc)
		return ctl_fail("audit list: unexpected argument '%s'", c->argv[optind]);
	if (ctl_store_open(c, 1) != 0)
		return 1;
	if ((rc = store_read_begin(c->store, &t)) != HX_OK)
		return ctl_fail("audit list: %s", hx_strerror(rc));
	if (c->json)
		st.arr = cJSON_CreateArray();
	else
		printf("%8s  %-24s  %-16s %-8s %-26s %-10s %s\n", "SEQ", "TIME", "ACTION", "OUTCOME",
		       "ACTOR ORG", "USER", "DETAIL");
	rc = store_audit_list(t, from, (size_t)limit, audit_cb, &st);
	store_read_end(t);
	if (rc != HX_OK) {
		cJSON_Delete(st.arr);
		return ctl_fail("audit list: %s", hx_strerror(rc));
	}
	if (st.arr != NULL)
		ctl_json_print(st.arr);
	return 0;
}
