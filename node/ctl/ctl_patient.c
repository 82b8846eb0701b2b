/* ctl_patient.c: patient list, patient show. */
#include "ctl.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

struct list_state {
	struct ctl *c;
	cJSON *arr;
	size_t n;
	char last[PROTO_PATIENT_ID_MAX + 1];
};

static void name_line(const Hie__V1__Demographics *d, char *out, size_t size)
{
	const Hie__V1__HumanName *nm = d->n_names > 0 ? d->names[0] : NULL;
	if (nm == NULL) {
		snprintf(out, size, "-");
		return;
	}
	snprintf(out, size, "%s, %s", nm->family, nm->n_given > 0 ? nm->given[0] : "");
}

static int list_cb(const Hie__V1__Patient *p, void *arg)
{
	struct list_state *st = arg;
	char name[128];

	st->n++;
	hx_strlcpy(st->last, p->id, sizeof(st->last));
	if (st->arr != NULL) {
		cJSON_AddItemToArray(st->arr, ctl_patient_json(p));
		return 0;
	}
	name_line(p->demographics, name, sizeof(name));
	printf("%-20s ", p->id);
	ctl_print_padded(name, 36);
	printf(" %-10s %-7s %s\n", p->demographics->birth_date,
	       p->demographics->sex == HIE__V1__SEX__SEX_FEMALE ? "female"
	       : p->demographics->sex == HIE__V1__SEX__SEX_MALE ? "male"
	                                                         : "-",
	       p->demographics->n_addresses > 0 ? p->demographics->addresses[0]->city : "");
	return 0;
}

int ctl_patient_list_run(struct ctl *c)
{
	static const struct option opts[] = {
		{"after", required_argument, NULL, 'a'},
		{"limit", required_argument, NULL, 'l'},
		{NULL, 0, NULL, 0},
	};
	struct list_state st = {c, NULL, 0, ""};
	struct store_txn *t;
	const char *after = NULL;
	uint64_t limit = 100;
	int ch, rc, more = 0;

	while ((ch = getopt_long(c->argc, c->argv, "a:l:", opts, NULL)) != -1) {
		if (ch == 'a')
			after = optarg;
		else if (ch == 'l') {
			if (ctl_parse_u64("--limit", optarg, &limit))
				return 1;
			if (limit == 0 || limit > STORE_LIST_MAX)
				return ctl_fail("--limit: between 1 and %d", STORE_LIST_MAX);
		} else
			return 2;
	}
	if (optind != c->argc)
		return ctl_fail("patient list: unexpected argument '%s'", c->argv[optind]);
	if (ctl_store_open(c, 1) != 0)
		return 1;
	if ((rc = store_read_begin(c->store, &t)) != HX_OK)
		return ctl_fail("patient list: %s", hx_strerror(rc));
	if (c->json)
		st.arr = cJSON_CreateArray();
	else
		printf("%-20s %-36s %-10s %-7s %s\n", "ID", "NAME", "BORN", "SEX", "CITY");
	rc = store_patient_list(t, after, (size_t)limit, list_cb, &st, &more);
	store_read_end(t);
	if (rc != HX_OK) {
		cJSON_Delete(st.arr);
		return ctl_fail("patient list: %s", hx_strerror(rc));
	}
	if (st.arr != NULL)
		ctl_json_print(st.arr);
	else if (more)
		printf("(more: hiepeerctl patient list --after %s)\n", st.last);
	return 0;
}

int ctl_patient_show_run(struct ctl *c)
{
	Hie__V1__Patient *p;
	struct store_txn *t;
	size_t ndocs = 0;
	int rc;

	if (c->argc != 2)
		return ctl_fail("patient show: usage: hiepeerctl patient show ID");
	if (proto_id_patient_check(c->argv[1]) != HX_OK)
		return ctl_fail("patient show: '%s' is not a valid patient id", c->argv[1]);
	if (ctl_store_open(c, 1) != 0)
		return 1;
	if ((rc = store_read_begin(c->store, &t)) != HX_OK)
		return ctl_fail("patient show: %s", hx_strerror(rc));
	rc = store_patient_get(t, c->argv[1], &p);
	if (rc == HX_OK)
		rc = store_doc_count(t, c->argv[1], &ndocs);
	store_read_end(t);
	if (rc == HX_ENOTFOUND)
		return ctl_fail("patient show: no patient '%s'", c->argv[1]);
	if (rc != HX_OK)
		return ctl_fail("patient show: %s", hx_strerror(rc));
	cJSON *j = ctl_patient_json(p);
	cJSON_AddNumberToObject(j, "documents", (double)ndocs);
	proto_free(p);
	ctl_json_print(j); /* one patient reads well as JSON in both modes */
	return 0;
}
