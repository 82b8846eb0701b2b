/*
 * node/config/config.h: hiepeerd's INI configuration (DESIGN §8), strict.
 *
 * Every key is in one table (config.c). An unknown section or key, a repeated key, a bad
 * value or a missing required key is an error naming the file and line.
 */
#ifndef HX_CONFIG_H
#define HX_CONFIG_H

#include <stdint.h>

#include "hx.h"

#define CONFIG_ERR_MAX 512
#define CONFIG_PATH_MAX 1024
#define CONFIG_ENDPOINTS_MAX 8

enum config_role {
	CONFIG_ROLE_NODE,
	CONFIG_ROLE_RLS,
};

/* What a query does when the record locator cannot be asked or fails. */
enum config_fallback {
	CONFIG_FALLBACK_PEERS, /* ask every active peer (the default) */
	CONFIG_FALLBACK_NONE,  /* ask nobody: the answer says the locator failed */
};

struct config_addr {
	char host[256];
	uint16_t port; /* 0 = any free port (the daemon reports what it bound) */
	int set;
};

struct config {
	/* [node] */
	char org_id[65];
	char name[128];
	enum config_role role;
	char store[CONFIG_PATH_MAX];
	unsigned workers;          /* 0 = one per core */
	enum hx_log_level log_level;
	uint64_t map_size;         /* 0 = keep the store's */
	char state[CONFIG_PATH_MAX]; /* state file with the bound ports; "" = <store>/hiepeerd.state */
	/* [tls] */
	char certificate[CONFIG_PATH_MAX];
	char key[CONFIG_PATH_MAX];
	char ca[CONFIG_PATH_MAX];
	char crl[CONFIG_PATH_MAX];
	/* [listen] */
	struct config_addr peer, local, metrics;
	/* [rls] */
	char endpoints[CONFIG_ENDPOINTS_MAX][CONFIG_PATH_MAX];
	unsigned n_endpoints;
	char linkage_key[CONFIG_PATH_MAX];
	enum config_fallback rls_fallback;
	uint64_t rls_check_ms;      /* how often a node with nothing to publish checks each RLS */
	/* [limits] */
	uint64_t max_body;         /* bytes */
	uint64_t header_timeout_ms;
	uint64_t idle_timeout_ms;
	uint64_t peer_timeout_ms;
	uint64_t query_timeout_ms;
	uint64_t read_timeout_ms;  /* a request body must arrive within this */
	unsigned max_connections;  /* per daemon */
	unsigned max_connections_per_peer;
};

/* Defaults for every optional key. */
void config_init(struct config *c);
/* Load `path` over the defaults. HX_ENOTFOUND (no file), HX_ECONFIG with err set to
 * "FILE:LINE: problem". */
int config_load(const char *path, struct config *c, char *err, size_t errlen);

#endif
