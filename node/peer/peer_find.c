/* peer_find.c: which enrolled peer a configured URL is, and the URLs of its routes. */
#include "peer.h"

#include <stdio.h>
#include <string.h>

/* The URL without its trailing slashes: its length. */
static size_t url_len(const char *u)
{
	size_t n = strlen(u);
	while (n > 0 && u[n - 1] == '/')
		n--;
	return n;
}

void peer_url_join(const char *base, const char *path, char *out, size_t size)
{
	snprintf(out, size, "%.*s%s", (int)url_len(base), base, path);
}

struct find {
	const char *url;
	int role;
	struct peer_pin *out;
	int found;
};

static int find_cb(const Hie__V1__Peer *pe, void *arg)
{
	struct find *f = arg;
	size_t n = url_len(f->url);
	int has_role = 0;
	for (size_t i = 0; i < pe->n_roles; i++)
		has_role |= (int)pe->roles[i] == f->role;
	if (!has_role || pe->status != HIE__V1__PEER_STATUS__PEER_STATUS_ACTIVE ||
	    pe->fingerprint.len != 32 || url_len(pe->endpoint) != n ||
	    strncmp(pe->endpoint, f->url, n) != 0)
		return 0;
	memcpy(f->out->fp, pe->fingerprint.data, 32);
	if ((f->out->has_next = pe->next_fingerprint.len == 32))
		memcpy(f->out->next, pe->next_fingerprint.data, 32);
	f->found = 1;
	return 1;
}

int peer_pin_by_url(struct store *s, const char *url, int role, struct peer_pin *out)
{
	struct find f = {url, role, out, 0};
	struct store_txn *t;
	int rc = store_read_begin(s, &t);
	if (rc != HX_OK)
		return rc;
	rc = store_peer_list(t, find_cb, &f);
	store_read_end(t);
	if (rc != HX_OK)
		return rc;
	return f.found ? HX_OK : HX_ENOTFOUND;
}
