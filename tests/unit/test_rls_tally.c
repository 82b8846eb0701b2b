/*
 * test_rls_tally.c: a locate's count of organisations (node/rls/tally.c): hits per
 * organisation, the caller left out, hundreds of organisations (past the table kept in the
 * struct), the keep filter in runs with the right hashes, and the answer's order (most hits
 * first, ties by id) for few and for many; and a whole locate's count in a real store, where
 * the caller and organisations the filter refuses never count toward a token's cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hx.h"
#include "store.h"
#include "tally.h"

static void add(struct rls_tally *t, const char *org)
{
	assert_int_equal(rls_tally_add(org, strlen(org), t), 0);
}

/* The kept organisations' hits, looked up by id (0 when not kept). */
static uint32_t hits_of(const struct rls_tally *t, size_t n, const char *org)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t->slots[i].id, org) == 0)
			return t->slots[i].hits;
	return 0;
}

static void test_counts(void **state)
{
	struct rls_tally t;
	size_t n;
	(void)state;
	memset(&t, 0xa5, sizeof(t)); /* as a stack would be: init must not rely on zeroes */
	rls_tally_init(&t, "1.2.3.9");
	add(&t, "1.2.3.1");
	add(&t, "1.2.3.9"); /* the caller itself: not counted */
	add(&t, "1.2.3.2");
	add(&t, "1.2.3.1");
	add(&t, "1.2.3.10");
	add(&t, "1.2.3.1");
	assert_int_equal(t.n, 3);
	assert_int_equal(t.failed, 0);
	n = rls_tally_keep(&t, NULL, NULL);
	assert_int_equal(n, 3);
	assert_int_equal(hits_of(&t, n, "1.2.3.1"), 3);
	assert_int_equal(hits_of(&t, n, "1.2.3.2"), 1);
	assert_int_equal(hits_of(&t, n, "1.2.3.10"), 1);
	assert_int_equal(hits_of(&t, n, "1.2.3.9"), 0);
	rls_tally_release(&t);

	/* a prefix of the caller's id, and the caller's id with more after it, are others */
	rls_tally_init(&t, "1.2.3.9");
	add(&t, "1.2.3.");
	add(&t, "1.2.3.91");
	assert_int_equal(rls_tally_keep(&t, NULL, NULL), 2);
	rls_tally_release(&t);

	/* an id longer than any organisation id stops the walk */
	{
		char longid[PROTO_ORG_ID_MAX + 2];
		memset(longid, '1', sizeof(longid) - 1);
		longid[sizeof(longid) - 1] = '\0';
		rls_tally_init(&t, "1.2.3.9");
		assert_int_not_equal(rls_tally_add(longid, strlen(longid), &t), 0);
		assert_int_equal(t.corrupt, 1);
		assert_int_equal(t.failed, 0);
		assert_int_equal(t.n, 0);
		rls_tally_release(&t);
	}
}

#define MANY 701 /* prime: i * 7 % MANY visits every number */

static void org_name(char *buf, size_t size, unsigned i)
{
	snprintf(buf, size, "2.16.840.1.113883.3.%u", 5000 + i);
}

struct keep_log {
	size_t calls, asked, max_run;
	int bad_hash;
};

/* Keeps the organisations whose number is even. */
static void keep_even(void *arg, const char *const *ids, const uint32_t *hashes, size_t n,
                      unsigned char *yes)
{
	struct keep_log *k = arg;
	k->calls++;
	k->asked += n;
	if (n > k->max_run)
		k->max_run = n;
	for (size_t i = 0; i < n; i++) {
		unsigned num = (unsigned)strtoul(strrchr(ids[i], '.') + 1, NULL, 10) - 5000;
		if (hashes[i] != hx_hash_str(ids[i]))
			k->bad_hash = 1;
		yes[i] = num % 2 == 0;
	}
}

static void test_many(void **state)
{
	struct rls_tally t;
	struct keep_log k = {0};
	char org[40];
	size_t n;
	(void)state;
	memset(&t, 0xa5, sizeof(t));
	rls_tally_init(&t, "1.2.3.9");
	/* organisation i is hit 1 + i % 5 times, in an order that mixes them */
	for (unsigned round = 0; round < 5; round++)
		for (unsigned i = 0; i < MANY; i++)
			if (i % 5 >= round) {
				org_name(org, sizeof(org), (i * 7) % MANY);
				add(&t, org);
			}
	assert_int_equal(t.failed, 0);
	assert_int_equal(t.n, MANY);
	assert_true(t.cap > RLS_TALLY_INLINE); /* moved to the heap */
	n = rls_tally_keep(&t, keep_even, &k);
	assert_int_equal(n, (MANY + 1) / 2);
	assert_int_equal(k.asked, MANY);
	assert_int_equal(k.max_run, 64);
	assert_int_equal(k.calls, (MANY + 63) / 64);
	assert_int_equal(k.bad_hash, 0);
	for (unsigned i = 0; i < MANY; i++) {
		unsigned id = (i * 7) % MANY;
		org_name(org, sizeof(org), id);
		assert_int_equal(hits_of(&t, n, org), id % 2 == 0 ? 1 + i % 5 : 0);
	}
	rls_tally_release(&t);
}

/* Sorts n hits made from (hits, id) and checks the order and that nothing was lost. */
static void sort_check(size_t n)
{
	Hie__V1__LocateHit *hits = calloc(n, sizeof(*hits));
	Hie__V1__LocateHit **p = calloc(n, sizeof(*p));
	char (*ids)[40] = calloc(n, 40);
	uint64_t sum = 0, sum_after = 0;
	assert_non_null(hits);
	assert_non_null(p);
	assert_non_null(ids);
	for (size_t i = 0; i < n; i++) {
		hie__v1__locate_hit__init(&hits[i]);
		org_name(ids[i], 40, (unsigned)((i * 37) % n));
		hits[i].org_id = ids[i];
		hits[i].hits = (uint32_t)((i * 13) % 4) + 1;
		p[i] = &hits[i];
		sum += (uintptr_t)p[i];
	}
	rls_hits_sort(p, n);
	for (size_t i = 0; i < n; i++) {
		sum_after += (uintptr_t)p[i];
		if (i == 0)
			continue;
		assert_true(p[i - 1]->hits >= p[i]->hits);
		if (p[i - 1]->hits == p[i]->hits)
			assert_true(strcmp(p[i - 1]->org_id, p[i]->org_id) < 0);
	}
	assert_true(sum == sum_after);
	free(ids);
	free(p);
	free(hits);
}

static void test_order(void **state)
{
	Hie__V1__LocateHit a = HIE__V1__LOCATE_HIT__INIT, b = a, c = a, *p[3] = {&a, &b, &c};
	(void)state;
	a.org_id = "1.2.3.2", a.hits = 2;
	b.org_id = "1.2.3.10", b.hits = 2;
	c.org_id = "1.2.3.1", c.hits = 3;
	rls_hits_sort(p, 3);
	assert_ptr_equal(p[0], &c);
	assert_ptr_equal(p[1], &b); /* "1.2.3.10" < "1.2.3.2" in byte order */
	assert_ptr_equal(p[2], &a);
	rls_hits_sort(p, 0);
	sort_check(1);
	sort_check(20);  /* by insertion */
	sort_check(64);
	sort_check(65);  /* qsort */
	sort_check(1000);
}

/* ---- rls_locate_count in a real store ----------------------------------------------------- */

struct pair {
	uint8_t token[STORE_TOKEN_LEN];
	char org[32];
};

static int w_pairs(struct store_txn *t, void *arg)
{
	struct pair *p = arg;
	for (; p->org[0] != '\0'; p++) {
		int rc = store_locator_add(t, p->token, p->org);
		if (rc != HX_OK)
			return rc;
	}
	return HX_OK;
}

/* The filter: organisations whose last number is below 30, and those under 1.2.3.0., are
 * "suspended". */
static int asked;
static void keep_30_up(void *arg, const char *const *ids, const uint32_t *hashes, size_t n,
                       unsigned char *yes)
{
	(void)arg;
	for (size_t i = 0; i < n; i++) {
		const char *dot = strrchr(ids[i], '.');
		assert_int_equal(hashes[i], hx_hash_str(ids[i]));
		yes[i] = atoi(dot + 1) >= 30 && strncmp(ids[i], "1.2.3.0.", 8) != 0;
		asked++;
	}
}

/* Count tokens (n of them) as the caller 1.2.3.35, which holds some of them too. */
static size_t count_n(struct store *s, const uint8_t *const *keys, size_t n, size_t per_token,
                      struct rls_tally *t, int *truncated, int *left_out)
{
	struct store_txn *txn;
	size_t kept = 99;
	rls_tally_init(t, "1.2.3.35");
	assert_int_equal(store_read_begin(s, &txn), HX_OK);
	*truncated = *left_out = -1;
	assert_int_equal(rls_locate_count(t, txn, keys, n, per_token, keep_30_up, NULL, &kept,
	                                  truncated, left_out),
	                 HX_OK);
	store_read_end(txn);
	return kept;
}

static size_t count(struct store *s, const uint8_t *tok, size_t per_token, struct rls_tally *t,
                    int *truncated, int *left_out)
{
	const uint8_t *keys[1] = {tok};
	return count_n(s, keys, 1, per_token, t, truncated, left_out);
}

static void add_pair(struct pair *p, size_t *np, const uint8_t *tok, const char *org)
{
	memcpy(p[*np].token, tok, STORE_TOKEN_LEN);
	hx_strlcpy(p[*np].org, org, sizeof(p[0].org));
	(*np)++;
}

static void test_locate_count(void **state)
{
	char dir[] = "/tmp/hx-test-tally-XXXXXX";
	struct store_opts o = {.create = 1, .org_id = "1.2.3.35"};
	struct store *s = NULL;
	char err[STORE_ERR_MAX], cmd[64], org[32];
	static struct pair pairs[1200];
	struct rls_tally t;
	size_t np = 0, kept;
	int truncated, left_out;
	uint8_t busy[STORE_TOKEN_LEN], crowd[STORE_TOKEN_LEN], mixed[STORE_TOKEN_LEN],
	    few[STORE_TOKEN_LEN];
	(void)state;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(store_open(dir, &o, &s, err, sizeof(err)), HX_OK);
	memset(busy, 0xb0, sizeof(busy));
	memset(crowd, 0xc0, sizeof(crowd));
	memset(mixed, 0xd0, sizeof(mixed));
	memset(few, 0xf0, sizeof(few));
	/* busy: ten suspended organisations sort before the caller and three active ones */
	for (unsigned i = 20; i < 39; i++) {
		if (i >= 30 && i < 35)
			continue;
		snprintf(org, sizeof(org), "1.2.3.%u", i); /* 35 is the caller */
		add_pair(pairs, &np, busy, org);
	}
	/* crowd: as many suspended as one token's walk reads, then one active */
	for (unsigned i = 0; i < STORE_LOCATOR_LOOKUP_MAX; i++) {
		snprintf(org, sizeof(org), "1.2.3.0.%u", i + 1);
		add_pair(pairs, &np, crowd, org);
	}
	add_pair(pairs, &np, crowd, "1.2.3.99");
	/* mixed: two active ones sort first, then five suspended, then two active */
	add_pair(pairs, &np, mixed, "1.2.3.100");
	add_pair(pairs, &np, mixed, "1.2.3.101");
	for (unsigned i = 20; i < 25; i++) {
		snprintf(org, sizeof(org), "1.2.3.%u", i);
		add_pair(pairs, &np, mixed, org);
	}
	add_pair(pairs, &np, mixed, "1.2.3.31");
	add_pair(pairs, &np, mixed, "1.2.3.50");
	/* few: one suspended, one active, the caller */
	add_pair(pairs, &np, few, "1.2.3.21");
	add_pair(pairs, &np, few, "1.2.3.31");
	add_pair(pairs, &np, few, "1.2.3.35");
	assert_true(np < HX_ARRAY_SIZE(pairs));
	assert_int_equal(store_write(s, w_pairs, pairs), HX_OK);

	/* Under the cap: one pass, the filter asked once per organisation found. */
	asked = 0;
	kept = count(s, few, 4, &t, &truncated, &left_out);
	assert_int_equal(kept, 1);
	assert_string_equal(t.slots[0].id, "1.2.3.31");
	assert_int_equal(truncated, 0);
	assert_int_equal(left_out, 1);
	assert_int_equal(asked, 2); /* 21 and 31; the caller is never asked about */
	rls_tally_release(&t);

	/* Over a cap of 4 only with the suspended ones and the caller: all three active ones
	 * are found, and the answer is not cut short. Counting the suspended toward the cap
	 * would have found none of them. The filter is asked in runs, not once a holder. */
	asked = 0;
	kept = count(s, busy, 4, &t, &truncated, &left_out);
	assert_int_equal(kept, 3);
	assert_int_equal(hits_of(&t, kept, "1.2.3.36"), 1);
	assert_int_equal(hits_of(&t, kept, "1.2.3.37"), 1);
	assert_int_equal(hits_of(&t, kept, "1.2.3.38"), 1);
	assert_int_equal(truncated, 0);
	assert_int_equal(left_out, 1);
	rls_tally_release(&t);

	/* A cap of 2 among the active ones: the first two, cut short. */
	kept = count(s, busy, 2, &t, &truncated, &left_out);
	assert_int_equal(kept, 2);
	assert_int_equal(hits_of(&t, kept, "1.2.3.36"), 1);
	assert_int_equal(hits_of(&t, kept, "1.2.3.37"), 1);
	assert_int_equal(truncated, 1);
	rls_tally_release(&t);

	/* Active ones counted in the first pass are counted once, not again in the second. */
	kept = count(s, mixed, 4, &t, &truncated, &left_out);
	assert_int_equal(kept, 4);
	assert_int_equal(hits_of(&t, kept, "1.2.3.100"), 1);
	assert_int_equal(hits_of(&t, kept, "1.2.3.101"), 1);
	assert_int_equal(hits_of(&t, kept, "1.2.3.31"), 1);
	assert_int_equal(hits_of(&t, kept, "1.2.3.50"), 1);
	assert_int_equal(truncated, 1); /* the cap of 4 reached */
	rls_tally_release(&t);

	/* Two tokens, one over the cap: hits add up across them. */
	{
		const uint8_t *keys[2] = {mixed, few};
		kept = count_n(s, keys, 2, 5, &t, &truncated, &left_out);
		assert_int_equal(kept, 4);
		assert_int_equal(hits_of(&t, kept, "1.2.3.31"), 2);
		assert_int_equal(hits_of(&t, kept, "1.2.3.100"), 1);
		assert_int_equal(hits_of(&t, kept, "1.2.3.50"), 1);
		assert_int_equal(truncated, 0);
		assert_int_equal(left_out, 1);
		rls_tally_release(&t);
	}

	/* One token's walk is bounded (STORE_LOCATOR_LOOKUP_MAX holders): the active one after
	 * that many suspended is not reached, and the answer says it was cut short. */
	kept = count(s, crowd, 4, &t, &truncated, &left_out);
	assert_int_equal(kept, 0);
	assert_int_equal(truncated, 1);
	assert_int_equal(left_out, 1);
	rls_tally_release(&t);

	store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_locate_count),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
