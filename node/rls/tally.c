/* node/rls/tally.c: a locate's count of the organisations holding its tokens (tally.h). */
#include "tally.h"

#include "hx.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

void rls_tally_init(struct rls_tally *t, const char *self)
{
	t->self = self;
	t->self_len = strlen(self);
	t->self_hash = hx_hash_mem(self, t->self_len);
	t->slots = t->inline_slots;
	t->cap = RLS_TALLY_INLINE;
	t->n = 0;
	t->failed = t->corrupt = 0;
	for (size_t i = 0; i < RLS_TALLY_INLINE; i++)
		t->inline_slots[i].id[0] = '\0';
}

void rls_tally_release(struct rls_tally *t)
{
	if (t->slots != t->inline_slots)
		free(t->slots);
	t->slots = t->inline_slots;
	t->cap = t->n = 0;
}

/* Where id is (or would go): its hash compared first, as the ids share long prefixes. */
static struct rls_org *slot_find(struct rls_org *slots, size_t cap, const char *id, uint32_t h)
{
	size_t i = h & (cap - 1);
	while (slots[i].id[0] != '\0' && (slots[i].hash != h || strcmp(slots[i].id, id) != 0))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static int grow(struct rls_tally *t)
{
	size_t cap = t->cap * 2;
	struct rls_org *slots = calloc(cap, sizeof(*slots));
	if (slots == NULL)
		return HX_ENOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].id[0] != '\0')
			*slot_find(slots, cap, t->slots[i].id, t->slots[i].hash) = t->slots[i];
	if (t->slots != t->inline_slots)
		free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return HX_OK;
}

int rls_tally_add(const char *org_id, size_t len, void *tally)
{
	struct rls_tally *t = tally;
	struct rls_org *s;
	uint32_t h = hx_hash_mem(org_id, len);
	if (h == t->self_hash && len == t->self_len && memcmp(org_id, t->self, len) == 0)
		return 0;
	if (len > PROTO_ORG_ID_MAX) {
		t->corrupt = 1;
		return 1;
	}
	if (2 * (t->n + 1) > t->cap && grow(t) != HX_OK) {
		t->failed = 1;
		return 1;
	}
	s = slot_find(t->slots, t->cap, org_id, h);
	if (s->id[0] == '\0') {
		memcpy(s->id, org_id, len);
		s->id[len] = '\0';
		s->hash = h;
		s->hits = 0;
		t->n++;
	}
	s->hits++;
	return 0;
}

size_t rls_tally_keep(struct rls_tally *t, rls_tally_keep_fn keep, void *arg)
{
	const char *ids[64];
	uint32_t hashes[64];
	unsigned char yes[64];
	size_t n = 0, kept = 0;

	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].id[0] != '\0')
			t->slots[n++] = t->slots[i];
	if (keep == NULL)
		return n;
	/* Compacting in place: a run is asked about before any of its slots is overwritten. */
	for (size_t base = 0; base < n; base += HX_ARRAY_SIZE(ids)) {
		size_t m = n - base < HX_ARRAY_SIZE(ids) ? n - base : HX_ARRAY_SIZE(ids);
		for (size_t i = 0; i < m; i++) {
			ids[i] = t->slots[base + i].id;
			hashes[i] = t->slots[base + i].hash;
		}
		keep(arg, ids, hashes, m, yes);
		for (size_t i = 0; i < m; i++)
			if (yes[i])
				t->slots[kept++] = t->slots[base + i];
	}
	return kept;
}

/* The second pass, one token at a time: its holders in runs of 64, each run asked about at
 * once (one look at the trust table a run), the kept ones counted until per_token. */
struct run {
	struct rls_tally *t;
	rls_tally_keep_fn keep;
	void *arg;
	char ids[64][PROTO_ORG_ID_MAX + 1];
	uint32_t hashes[64];
	size_t n, counted, per_token;
	int full;    /* per_token counted: the walk stops */
	int refused; /* some holder refused by keep() */
};

static int run_flush(struct run *r)
{
	const char *ids[64];
	unsigned char yes[64];
	for (size_t i = 0; i < r->n; i++) {
		ids[i] = r->ids[i];
		yes[i] = 1;
	}
	if (r->keep != NULL && r->n > 0)
		r->keep(r->arg, ids, r->hashes, r->n, yes);
	for (size_t i = 0; i < r->n && !r->full; i++) {
		if (!yes[i]) {
			r->refused = 1;
			continue;
		}
		if (rls_tally_add(ids[i], strlen(ids[i]), r->t) != 0)
			return 1; /* out of memory (t->failed) */
		if (++r->counted == r->per_token)
			r->full = 1;
	}
	r->n = 0;
	return r->full;
}

static int run_add(const char *org_id, size_t len, void *arg)
{
	struct run *r = arg;
	struct rls_tally *t = r->t;
	uint32_t h;
	if (len > PROTO_ORG_ID_MAX) {
		t->corrupt = 1;
		return 1;
	}
	h = hx_hash_mem(org_id, len);
	if (h == t->self_hash && len == t->self_len && memcmp(org_id, t->self, len) == 0)
		return 0; /* the caller: never counted */
	memcpy(r->ids[r->n], org_id, len);
	r->ids[r->n][len] = '\0';
	r->hashes[r->n] = h;
	return ++r->n == HX_ARRAY_SIZE(r->ids) ? run_flush(r) : 0;
}

int rls_locate_count(struct rls_tally *t, struct store_txn *txn, const uint8_t *const *tokens,
                     size_t n, size_t per_token, rls_tally_keep_fn keep, void *arg,
                     size_t *kept, int *truncated, int *left_out)
{
	int rc;
	*truncated = *left_out = 0;
	rc = store_locator_lookup_each(txn, tokens, n, per_token, rls_tally_add, t, truncated);
	if (rc == HX_OK && *truncated && !t->corrupt && !t->failed) {
		/* Some token has more holders than per_token, and those not answered (the caller,
		 * refused ones) may have taken places: count again without them, each token's walk
		 * bounded by the store's most (STORE_LOCATOR_LOOKUP_MAX holders). */
		struct run *r = malloc(sizeof(*r));
		const char *self = t->self;
		if (r == NULL)
			return HX_ENOMEM;
		rls_tally_release(t);
		rls_tally_init(t, self);
		*truncated = 0;
		for (size_t i = 0; i < n && rc == HX_OK && !t->corrupt && !t->failed; i++) {
			int more = 0;
			*r = (struct run){.t = t, .keep = keep, .arg = arg, .per_token = per_token};
			rc = store_locator_lookup(txn, tokens[i], STORE_LOCATOR_LOOKUP_MAX, run_add, r,
			                          &more);
			if (rc == HX_OK && !r->full && !t->corrupt && !t->failed)
				run_flush(r);
			*truncated |= more || r->full;
			*left_out |= r->refused;
		}
		free(r);
	} else if (rc == HX_OK) {
		size_t all = t->n;
		if (!t->corrupt && !t->failed) {
			*kept = rls_tally_keep(t, keep, arg);
			*left_out = *kept < all;
			return HX_OK;
		}
	}
	if (rc == HX_OK && t->corrupt)
		rc = HX_ECORRUPT;
	else if (rc == HX_OK && t->failed)
		rc = HX_ENOMEM;
	if (rc == HX_OK)
		*kept = rls_tally_keep(t, NULL, NULL); /* every one counted was kept */
	return rc;
}

static int hit_before(const Hie__V1__LocateHit *x, const Hie__V1__LocateHit *y)
{
	if (x->hits != y->hits)
		return x->hits > y->hits;
	return strcmp(x->org_id, y->org_id) < 0;
}

static int hit_cmp(const void *a, const void *b)
{
	const Hie__V1__LocateHit *x = *(Hie__V1__LocateHit *const *)a;
	const Hie__V1__LocateHit *y = *(Hie__V1__LocateHit *const *)b;
	return hit_before(x, y) ? -1 : hit_before(y, x) ? 1 : 0;
}

void rls_hits_sort(Hie__V1__LocateHit **h, size_t n)
{
	if (n > 64) {
		qsort(h, n, sizeof(*h), hit_cmp);
		return;
	}
	for (size_t i = 1; i < n; i++) { /* by insertion: few, and no call per comparison */
		Hie__V1__LocateHit *x = h[i];
		size_t j = i;
		for (; j > 0 && hit_before(x, h[j - 1]); j--)
			h[j] = h[j - 1];
		h[j] = x;
	}
}
