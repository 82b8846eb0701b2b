/* ctl_doc.c: doc list, doc show. */
#include "ctl.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

struct doc_list_state {
	struct store_txn *t;
	cJSON *arr;
	int rc;
};

static int doc_cb(const char *id, int64_t ctime, void *arg)
{
	struct doc_list_state *st = arg;
	Hie__V1__DocumentEntry *e;
	char when[24];

	(void)ctime;
	if ((st->rc = store_doc_get(st->t, id, &e)) != HX_OK)
		return 1;
	if (st->arr != NULL) {
		cJSON_AddItemToArray(st->arr, ctl_entry_json(e));
	} else {
		ctl_time_short(e->creation_time, when, sizeof(when));
		printf("%-32s %-16s %-8s %-10s %8llu  %s\n", e->id, when, e->type_code->code,
		       e->status == HIE__V1__DOCUMENT_STATUS__DOCUMENT_STATUS_APPROVED ? "approved"
		                                                                        : "deprecated",
		       (unsigned long long)e->size, e->title);
	}
	proto_free(e);
	return 0;
}

int ctl_doc_list_run(struct ctl *c)
{
	static const struct option opts[] = {
		{"from", required_argument, NULL, 'f'},  {"to", required_argument, NULL, 't'},
		{"type", required_argument, NULL, 'y'},  {"class", required_argument, NULL, 'c'},
		{"status", required_argument, NULL, 's'}, {"limit", required_argument, NULL, 'l'},
		{NULL, 0, NULL, 0},
	};
	Hie__V1__Code type = HIE__V1__CODE__INIT, cls = HIE__V1__CODE__INIT;
	Hie__V1__Code *types[1] = {&type}, *classes[1] = {&cls};
	struct store_doc_filter f = {0};
	struct doc_list_state st = {0};
	uint64_t limit = 100;
	int ch, rc, trunc = 0;

	while ((ch = getopt_long(c->argc, c->argv, "f:t:y:c:s:l:", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			if (ctl_parse_time("--from", optarg, &f.created_from))
				return 1;
			break;
		case 't':
			if (ctl_parse_time("--to", optarg, &f.created_to))
				return 1;
			break;
		case 'y':
			type.code = optarg;
			f.type_codes = types;
			f.n_type_codes = 1;
			break;
		case 'c':
			cls.code = optarg;
			f.class_codes = classes;
			f.n_class_codes = 1;
			break;
		case 's':
			if (strcmp(optarg, "approved") == 0)
				f.status_mask = 1u << HIE__V1__DOCUMENT_STATUS__DOCUMENT_STATUS_APPROVED;
			else if (strcmp(optarg, "deprecated") == 0)
				f.status_mask = 1u << HIE__V1__DOCUMENT_STATUS__DOCUMENT_STATUS_DEPRECATED;
			else if (strcmp(optarg, "any") == 0)
				f.status_mask = ~0u;
			else
				return ctl_fail("--status: approved, deprecated or any (not '%s')", optarg);
			break;
		case 'l':
			if (ctl_parse_u64("--limit", optarg, &limit))
				return 1;
			if (limit == 0 || limit > STORE_LIST_MAX)
				return ctl_fail("--limit: between 1 and %d", STORE_LIST_MAX);
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 != c->argc)
		return ctl_fail("doc list: usage: hiepeerctl doc list PATIENT [options]");
	if (proto_id_patient_check(c->argv[optind]) != HX_OK)
		return ctl_fail("doc list: '%s' is not a valid patient id", c->argv[optind]);
	if (f.created_to != 0 && f.created_to <= f.created_from)
		return ctl_fail("doc list: --to must be after --from");
	f.limit = (size_t)limit;
	if (ctl_store_open(c, 1) != 0)
		return 1;
	if ((rc = store_read_begin(c->store, &st.t)) != HX_OK)
		return ctl_fail("doc list: %s", hx_strerror(rc));
	{ /* a patient that is not here is not one without documents */
		Hie__V1__Patient *p = NULL;
		rc = store_patient_get(st.t, c->argv[optind], &p);
		proto_free(p);
		if (rc != HX_OK) {
			store_read_end(st.t);
			return rc == HX_ENOTFOUND ? ctl_fail("doc list: no patient '%s'", c->argv[optind])
			                          : ctl_fail("doc list: %s", hx_strerror(rc));
		}
	}
	if (c->json)
		st.arr = cJSON_CreateArray();
	else
		printf("%-32s %-16s %-8s %-10s %8s  %s\n", "ID", "CREATED (UTC)", "TYPE", "STATUS",
		       "BYTES", "TITLE");
	rc = store_doc_list(st.t, c->argv[optind], &f, doc_cb, &st, &trunc);
	store_read_end(st.t);
	if (rc == HX_OK)
		rc = st.rc;
	if (rc != HX_OK) {
		cJSON_Delete(st.arr);
		return ctl_fail("doc list: %s", hx_strerror(rc));
	}
	if (st.arr != NULL)
		ctl_json_print(st.arr);
	else if (trunc)
		printf("(more: raise --limit or narrow --from/--to)\n");
	return 0;
}

int ctl_doc_show_run(struct ctl *c)
{
	static const struct option opts[] = {
		{"content", no_argument, NULL, 'c'},
		{"output", required_argument, NULL, 'o'},
		{NULL, 0, NULL, 0},
	};
	Hie__V1__DocumentEntry *e = NULL;
	struct store_txn *t;
	const uint8_t *data;
	const char *out = NULL;
	size_t len;
	int ch, rc, content = 0;

	while ((ch = getopt_long(c->argc, c->argv, "co:", opts, NULL)) != -1) {
		if (ch == 'c')
			content = 1;
		else if (ch == 'o')
			out = optarg;
		else
			return 2;
	}
	if (optind + 1 != c->argc)
		return ctl_fail("doc show: usage: hiepeerctl doc show DOCID [--content | -o FILE]");
	if (proto_id_doc_check(c->argv[optind]) != HX_OK)
		return ctl_fail("doc show: '%s' is not a document id (32 lowercase hex digits)",
		                c->argv[optind]);
	if (ctl_store_open(c, 1) != 0)
		return 1;
	if ((rc = store_read_begin(c->store, &t)) != HX_OK)
		return ctl_fail("doc show: %s", hx_strerror(rc));
	if (content || out != NULL) {
		rc = store_doc_content(t, c->argv[optind], &data, &len);
		if (rc == HX_OK && out != NULL) {
			int w = ctl_write_private("doc show", out, data, len);
			if (w != 0) {
				store_read_end(t);
				return w;
			}
		} else if (rc == HX_OK && fwrite(data, 1, len, stdout) != len) {
			rc = HX_EIO;
		}
	} else {
		rc = store_doc_get(t, c->argv[optind], &e);
	}
	store_read_end(t);
	if (rc == HX_ENOTFOUND)
		return ctl_fail("doc show: no document '%s'", c->argv[optind]);
	if (rc != HX_OK)
		return ctl_fail("doc show: %s", hx_strerror(rc));
	if (e != NULL) {
		ctl_json_print(ctl_entry_json(e));
		proto_free(e);
	} else if (out != NULL) {
		printf("wrote %zu bytes to %s\n", len, out);
	}
	return 0;
}
