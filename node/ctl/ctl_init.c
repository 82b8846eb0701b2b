/* ctl_init.c: init, store stat, store grow. */
#include "ctl.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

int ctl_init_run(struct ctl *c)
{
	static const struct option opts[] = {
		{"org", required_argument, NULL, 'o'},
		{"map-size", required_argument, NULL, 'm'},
		{NULL, 0, NULL, 0},
	};
	struct store_opts o = {.create = 1};
	char err[STORE_ERR_MAX], sz[16];
	int ch, rc;

	while ((ch = getopt_long(c->argc, c->argv, "o:m:", opts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			o.org_id = optarg;
			break;
		case 'm':
			if (hx_size_parse(optarg, &o.map_size) != HX_OK || o.map_size < (1u << 20))
				return ctl_fail("--map-size: '%s' is not a size of at least 1M", optarg);
			break;
		default:
			return 2;
		}
	}
	if (optind != c->argc)
		return ctl_fail("init: unexpected argument '%s'", c->argv[optind]);
	if (o.org_id == NULL)
		return ctl_fail("init: --org OID is required (the organisation's OID)");
	if (proto_id_org_check(o.org_id) != HX_OK)
		return ctl_fail("init: --org '%s' is not an OID (e.g. 2.16.840.1.113883.3.7001)",
		                o.org_id);
	rc = store_open(c->store_path, &o, &c->store, err, sizeof(err));
	if (rc != HX_OK)
		return ctl_fail("%s", err);
	hx_size_format(o.map_size != 0 ? o.map_size : STORE_MAP_SIZE_DEFAULT, sz, sizeof(sz));
	if (c->json) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "store", c->store_path);
		cJSON_AddStringToObject(j, "org_id", o.org_id);
		cJSON_AddNumberToObject(j, "schema_version", STORE_SCHEMA_VERSION);
		ctl_json_print(j);
	} else {
		printf("initialised store %s for organisation %s (map %s, schema %d)\n",
		       c->store_path, o.org_id, sz, STORE_SCHEMA_VERSION);
	}
	return 0;
}

int ctl_store_stat_run(struct ctl *c)
{
	struct store_stat st;
	char map[16], used[16];
	int rc;

	if (c->argc != 1)
		return ctl_fail("store stat: takes no arguments");
	if (ctl_store_open(c, 1) != 0)
		return 1;
	if ((rc = store_stat_get(c->store, &st)) != HX_OK)
		return ctl_fail("store stat: %s", hx_strerror(rc));
	if (c->json) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "store", c->store_path);
		cJSON_AddStringToObject(j, "org_id", store_org_id(c->store));
		cJSON_AddNumberToObject(j, "schema_version", st.schema_version);
		cJSON_AddNumberToObject(j, "map_size", (double)st.map_size);
		cJSON_AddNumberToObject(j, "used", (double)st.used);
		cJSON_AddNumberToObject(j, "patients", (double)st.patients);
		cJSON_AddNumberToObject(j, "documents", (double)st.documents);
		cJSON_AddNumberToObject(j, "peers", (double)st.peers);
		cJSON_AddNumberToObject(j, "audit_records", (double)st.audit_records);
		cJSON_AddNumberToObject(j, "blocking_keys", (double)st.block_keys);
		ctl_json_print(j);
		return 0;
	}
	hx_size_format(st.map_size, map, sizeof(map));
	hx_size_format(st.used, used, sizeof(used));
	printf("store          %s\n", c->store_path);
	printf("organisation   %s\n", store_org_id(c->store));
	printf("schema         %u\n", st.schema_version);
	printf("map            %s (%s high-water, %.0f%%)\n", map, used,
	       st.map_size != 0 ? 100.0 * (double)st.used / (double)st.map_size : 0.0);
	printf("patients       %llu\n", (unsigned long long)st.patients);
	printf("documents      %llu\n", (unsigned long long)st.documents);
	printf("peers          %llu\n", (unsigned long long)st.peers);
	printf("audit records  %llu\n", (unsigned long long)st.audit_records);
	printf("blocking keys  %llu\n", (unsigned long long)st.block_keys);
	return 0;
}

int ctl_store_grow_run(struct ctl *c)
{
	uint64_t size;
	char detail[96], sz[16];
	int rc;

	if (c->argc != 2)
		return ctl_fail("store grow: usage: hiepeerctl store grow SIZE (e.g. 4G)");
	if (hx_size_parse(c->argv[1], &size) != HX_OK)
		return ctl_fail("store grow: '%s' is not a size (e.g. 4G, 512M)", c->argv[1]);
	if (ctl_store_open(c, 0) != 0)
		return 1;
	rc = store_map_grow(c->store, size);
	if (rc == HX_EINVAL)
		return ctl_fail("store grow: %s is smaller than the current map", c->argv[1]);
	if (rc != HX_OK)
		return ctl_fail("store grow: %s", hx_strerror(rc));
	hx_size_format(size, sz, sizeof(sz));
	snprintf(detail, sizeof(detail), "store map grown to %s", sz);
	if (ctl_audit_admin(c, HIE__V1__AUDIT_ACTION__AUDIT_ACTION_STORE_CHANGE, detail))
		return 1;
	printf("%s\n", detail);
	return 0;
}
