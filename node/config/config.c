/* config.c: the table of configuration keys and the strict INI loader (inih). */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proto.h"

enum key_type { T_STRING, T_PATH, T_OID, T_ROLE, T_UINT, T_SIZE, T_DURATION, T_ADDR, T_URLS,
                T_LOGLEVEL, T_FALLBACK };

static const struct config_key {
	const char *section;
	const char *name;
	enum key_type type;
	size_t offset;
	size_t size;   /* for strings: buffer size */
	int required;
} keys[] = {
#define K(sec, key, type, field, req) \
	{sec, #key, type, offsetof(struct config, field), sizeof(((struct config *)0)->field), req}
	K("node", org_id, T_OID, org_id, 1),
	K("node", name, T_STRING, name, 0),
	K("node", role, T_ROLE, role, 0),
	K("node", store, T_PATH, store, 1),
	K("node", workers, T_UINT, workers, 0),
	K("node", log_level, T_LOGLEVEL, log_level, 0),
	K("node", map_size, T_SIZE, map_size, 0),
	K("node", state, T_PATH, state, 0),
	K("tls", certificate, T_PATH, certificate, 0),
	K("tls", key, T_PATH, key, 0),
	K("tls", ca, T_PATH, ca, 0),
	K("tls", crl, T_PATH, crl, 0),
	K("listen", peer, T_ADDR, peer, 0),
	K("listen", local, T_ADDR, local, 0),
	K("listen", metrics, T_ADDR, metrics, 0),
	K("rls", endpoints, T_URLS, endpoints, 0),
	K("rls", linkage_key, T_PATH, linkage_key, 0),
	K("rls", fallback, T_FALLBACK, rls_fallback, 0),
	K("rls", check_interval, T_DURATION, rls_check_ms, 0),
	K("limits", max_body, T_SIZE, max_body, 0),
	K("limits", header_timeout, T_DURATION, header_timeout_ms, 0),
	K("limits", idle_timeout, T_DURATION, idle_timeout_ms, 0),
	K("limits", peer_timeout, T_DURATION, peer_timeout_ms, 0),
	K("limits", query_timeout, T_DURATION, query_timeout_ms, 0),
	K("limits", read_timeout, T_DURATION, read_timeout_ms, 0),
	K("limits", max_connections, T_UINT, max_connections, 0),
	K("limits", max_connections_per_peer, T_UINT, max_connections_per_peer, 0),
#undef K
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

struct load_state {
	struct config *c;
	const char *path;
	FILE *f;
	int line;
	int seen[NKEYS];
	char *err;
	size_t errlen;
	int failed;
};

void config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->role = CONFIG_ROLE_NODE;
	c->log_level = HX_LOG_INFO;
	c->max_body = 16u << 20;
	c->header_timeout_ms = 10000;
	c->idle_timeout_ms = 60000;
	c->peer_timeout_ms = 5000;
	c->rls_check_ms = 300000;
	c->query_timeout_ms = 15000;
	c->read_timeout_ms = 30000;
	c->max_connections = 1024;
	c->max_connections_per_peer = 64;
}

static int set_err(struct load_state *st, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int set_err(struct load_state *st, int line, const char *fmt, ...)
{
	char msg[CONFIG_ERR_MAX];
	va_list ap;
	if (st->failed)
		return 0;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(st->err, st->errlen, "%s:%d: %s", st->path, line, msg);
	st->failed = 1;
	return 0;
}

static int parse_addr(const char *v, struct config_addr *a)
{
	const char *colon = strrchr(v, ':');
	uint64_t port;
	size_t hl;

	if (colon == NULL || colon == v)
		return HX_EPARSE;
	hl = (size_t)(colon - v);
	if (v[0] == '[') { /* [v6]:port */
		if (hl < 3 || v[hl - 1] != ']')
			return HX_EPARSE;
		v++;
		hl -= 2;
	}
	if (hl >= sizeof(a->host) || hx_u64_parse(colon + 1, &port) != HX_OK || port > 65535)
		return HX_EPARSE;
	memcpy(a->host, v, hl);
	a->host[hl] = '\0';
	a->port = (uint16_t)port;
	a->set = 1;
	return HX_OK;
}

static int parse_urls(const char *v, struct config *c)
{
	char buf[CONFIG_ENDPOINTS_MAX * CONFIG_PATH_MAX];
	char *save = NULL;
	c->n_endpoints = 0;
	if (strlen(v) >= sizeof(buf))
		return HX_ELIMIT;
	strcpy(buf, v);
	for (char *tok = strtok_r(buf, ", \t", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save)) {
		if (c->n_endpoints == CONFIG_ENDPOINTS_MAX)
			return HX_ELIMIT;
		if (strncmp(tok, "https://", 8) != 0 || strlen(tok) <= 8 ||
		    strlen(tok) >= CONFIG_PATH_MAX)
			return HX_EPARSE;
		strcpy(c->endpoints[c->n_endpoints++], tok);
	}
	return c->n_endpoints > 0 ? HX_OK : HX_EPARSE;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct load_state *st = user;
	const struct config_key *k = NULL;
	size_t idx = 0;
	char *field;
	uint64_t v;

	if (st->failed)
		return 0;
	for (size_t i = 0; i < NKEYS; i++) {
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0) {
			k = &keys[i];
			idx = i;
		}
	}
	if (k == NULL) {
		int known_section = 0;
		for (size_t i = 0; i < NKEYS; i++)
			known_section |= strcmp(keys[i].section, section) == 0;
		if (!known_section)
			return set_err(st, st->line, "unknown section [%s]", section);
		return set_err(st, st->line, "unknown key '%s' in [%s]", name, section);
	}
	if (st->seen[idx]++)
		return set_err(st, st->line, "'%s' is set twice in [%s]", name, section);
	field = (char *)st->c + k->offset;
	switch (k->type) {
	case T_STRING:
	case T_PATH:
	case T_OID:
		if (value[0] == '\0')
			return set_err(st, st->line, "'%s' is empty", name);
		if (strlen(value) >= k->size)
			return set_err(st, st->line, "'%s' is longer than %zu characters", name,
			               k->size - 1);
		if (k->type == T_OID && proto_id_org_check(value) != HX_OK)
			return set_err(st, st->line, "'%s' is not an OID: '%s'", name, value);
		strcpy(field, value);
		break;
	case T_ROLE:
		if (strcmp(value, "node") == 0)
			st->c->role = CONFIG_ROLE_NODE;
		else if (strcmp(value, "rls") == 0)
			st->c->role = CONFIG_ROLE_RLS;
		else
			return set_err(st, st->line, "role must be 'node' or 'rls', not '%s'", value);
		break;
	case T_UINT:
		if (hx_u64_parse(value, &v) != HX_OK || v > 100000)
			return set_err(st, st->line, "'%s' must be a whole number up to 100000, not '%s'",
			               name, value);
		*(unsigned *)(void *)field = (unsigned)v;
		break;
	case T_SIZE:
		if (hx_size_parse(value, &v) != HX_OK)
			return set_err(st, st->line, "'%s' must be a size like 16M, not '%s'", name,
			               value);
		*(uint64_t *)(void *)field = v;
		break;
	case T_DURATION:
		/* Up to 30 days: a deadline or an interval, added to a time in ms. */
		if (hx_duration_parse(value, &v) != HX_OK || v == 0 || v > 30ull * 86400000)
			return set_err(st, st->line,
			               "'%s' must be a duration like 500ms or 5s, up to 30d, not '%s'", name,
			               value);
		*(uint64_t *)(void *)field = v;
		break;
	case T_ADDR:
		if (parse_addr(value, (struct config_addr *)(void *)field) != HX_OK)
			return set_err(st, st->line, "'%s' must be HOST:PORT, not '%s'", name, value);
		break;
	case T_URLS:
		if (parse_urls(value, st->c) != HX_OK)
			return set_err(st, st->line,
			               "'%s' must be up to %d https:// URLs separated by commas", name,
			               CONFIG_ENDPOINTS_MAX);
		break;
	case T_FALLBACK:
		if (strcmp(value, "peers") == 0)
			st->c->rls_fallback = CONFIG_FALLBACK_PEERS;
		else if (strcmp(value, "none") == 0)
			st->c->rls_fallback = CONFIG_FALLBACK_NONE;
		else
			return set_err(st, st->line, "fallback must be 'peers' or 'none', not '%s'", value);
		break;
	case T_LOGLEVEL:
		if (hx_log_level_parse(value, &st->c->log_level) != HX_OK)
			return set_err(st, st->line, "log_level must be err, warning, notice, info or "
			                             "debug, not '%s'", value);
		break;
	}
	return 1;
}

/* inih reader that counts lines, so errors can name them. */
static char *reader(char *str, int num, void *stream)
{
	struct load_state *st = stream;
	char *r = fgets(str, num, st->f);
	if (r != NULL)
		st->line++;
	return r;
}

int config_load(const char *path, struct config *c, char *err, size_t errlen)
{
	struct load_state st = {.c = c, .path = path, .err = err, .errlen = errlen};
	int rc;

	st.f = fopen(path, "r");
	if (st.f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? HX_ENOTFOUND : HX_ECONFIG;
	}
	{
		struct stat sb;
		if (fstat(fileno(st.f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
			fclose(st.f);
			snprintf(err, errlen, "%s: a directory, not a configuration file", path);
			return HX_ECONFIG;
		}
	}
	rc = ini_parse_stream(reader, &st, handler, &st);
	fclose(st.f);
	if (st.failed)
		return HX_ECONFIG;
	if (rc != 0) {
		snprintf(err, errlen, "%s:%d: not a 'key = value' line or [section]", path,
		         rc > 0 ? rc : st.line);
		return HX_ECONFIG;
	}
	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].required && !st.seen[i]) {
			snprintf(err, errlen, "%s: [%s] %s is required", path, keys[i].section,
			         keys[i].name);
			return HX_ECONFIG;
		}
	}
	/* The record locator sees tokens only: it never holds the region's linkage key, and has
	 * no patients to publish. */
	if (c->role == CONFIG_ROLE_RLS && (c->linkage_key[0] != '\0' || c->n_endpoints > 0)) {
		snprintf(err, errlen,
		         "%s: role = rls takes no [rls] %s: the record locator never holds the "
		         "region's linkage key and publishes nothing",
		         path,
		         c->linkage_key[0] == '\0' ? "endpoints"
		         : c->n_endpoints > 0       ? "linkage_key or endpoints"
		                                    : "linkage_key");
		return HX_ECONFIG;
	}
	if (c->n_endpoints > 0 && c->linkage_key[0] == '\0') {
		snprintf(err, errlen, "%s: [rls] endpoints are set but no [rls] linkage_key", path);
		return HX_ECONFIG;
	}
	return HX_OK;
}
