/*
 * test_common.c: common/: error names, bounded buffers, hex, times, dates, sizes, durations,
 * the log line (escaping, levels, journald prefix), and the heap settings.
 */
#include <limits.h>
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "hx.h"

/* ---- errors ------------------------------------------------------------------------------ */

static const struct {
	int err;
	const char *name;
} err_names[] = {
	{HX_OK, "OK"},           {HX_EINVAL, "EINVAL"},     {HX_EPARSE, "EPARSE"},
	{HX_ENOTFOUND, "ENOTFOUND"}, {HX_EEXIST, "EEXIST"}, {HX_EDENIED, "EDENIED"},
	{HX_ELIMIT, "ELIMIT"},   {HX_ESPACE, "ESPACE"},     {HX_ENOMEM, "ENOMEM"},
	{HX_EIO, "EIO"},         {HX_ECORRUPT, "ECORRUPT"}, {HX_EVERSION, "EVERSION"},
	{HX_ETIMEOUT, "ETIMEOUT"}, {HX_EPEER, "EPEER"},     {HX_EBUSY, "EBUSY"},
	{HX_ETLS, "ETLS"},       {HX_ECONFIG, "ECONFIG"},   {HX_ECLOSED, "ECLOSED"},
	{HX_EPERM, "EPERM"},     {HX_EINTERNAL, "EINTERNAL"},
};

static void test_errors(void **state)
{
	(void)state;
	assert_int_equal(HX_ARRAY_SIZE(err_names), 1 - HX_ERR_MIN);
	for (size_t i = 0; i < HX_ARRAY_SIZE(err_names); i++) {
		const char *text = hx_strerror(err_names[i].err);
		assert_string_equal(hx_errname(err_names[i].err), err_names[i].name);
		assert_non_null(text);
		assert_true(strlen(text) > 3);
		assert_string_not_equal(text, "unknown error");
		/* Every sentence and name is distinct. */
		for (size_t j = 0; j < i; j++) {
			assert_string_not_equal(text, hx_strerror(err_names[j].err));
			assert_string_not_equal(hx_errname(err_names[i].err),
			                        hx_errname(err_names[j].err));
		}
	}
	assert_string_equal(hx_strerror(HX_ESPACE), "store is full (map size or disk)");
	assert_string_equal(hx_strerror(HX_EPARSE), "malformed input");
	static const int outside[] = {HX_ERR_MIN - 1, 1, 2, INT_MIN, INT_MAX, -1000};
	for (size_t i = 0; i < HX_ARRAY_SIZE(outside); i++) {
		assert_string_equal(hx_strerror(outside[i]), "unknown error");
		assert_string_equal(hx_errname(outside[i]), "EUNKNOWN");
	}
}

/* ---- buffers ----------------------------------------------------------------------------- */

static void assert_buf(const struct hx_buf *b, const char *want)
{
	assert_int_equal(b->len, strlen(want));
	assert_non_null(b->data);
	assert_memory_equal(b->data, want, b->len + 1); /* with the terminating NUL */
	assert_true(b->cap > b->len);
	assert_true(b->cap - 1 <= b->max); /* cap <= max + 1 without wrapping */
}

static void test_buf_limit(void **state)
{
	struct hx_buf b;
	(void)state;

	hx_buf_init(&b, 8);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(hx_buf_append(&b, "hello", 5), HX_OK);
	assert_buf(&b, "hello");
	/* Past the maximum: refused, nothing changed. */
	assert_int_equal(hx_buf_append(&b, "abcd", 4), HX_ELIMIT);
	assert_buf(&b, "hello");
	assert_int_equal(hx_buf_printf(&b, "%d", 1234), HX_ELIMIT);
	assert_buf(&b, "hello");
	assert_int_equal(hx_buf_puts(&b, "1234"), HX_ELIMIT);
	assert_buf(&b, "hello");
	/* Up to exactly the maximum. */
	assert_int_equal(hx_buf_append(&b, "abc", 3), HX_OK);
	assert_buf(&b, "helloabc");
	assert_int_equal(hx_buf_append(&b, "", 0), HX_OK);
	assert_int_equal(hx_buf_append(&b, "x", 1), HX_ELIMIT);
	assert_buf(&b, "helloabc");
	/* Reservations are checked the same way, also against overflow. */
	assert_int_equal(hx_buf_reserve(&b, 1), HX_ELIMIT);
	assert_int_equal(hx_buf_reserve(&b, SIZE_MAX), HX_ELIMIT);
	assert_int_equal(hx_buf_reserve(&b, 0), HX_OK);
	hx_buf_reset(&b);
	assert_buf(&b, "");
	assert_int_equal(hx_buf_reserve(&b, 8), HX_OK);
	assert_int_equal(hx_buf_reserve(&b, 9), HX_ELIMIT);
	hx_buf_clear(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.max, 8);
	hx_buf_clear(&b);
}

static void test_buf_printf(void **state)
{
	struct hx_buf b;
	(void)state;

	hx_buf_init(&b, 16);
	assert_int_equal(hx_buf_printf(&b, "%s-%d", "ab", 42), HX_OK);
	assert_buf(&b, "ab-42");
	assert_int_equal(hx_buf_printf(&b, "%05u|", 7u), HX_OK);
	assert_buf(&b, "ab-4200007|");
	assert_int_equal(hx_buf_printf(&b, "%s", "123456"), HX_ELIMIT);
	assert_buf(&b, "ab-4200007|");
	assert_int_equal(hx_buf_printf(&b, "%s", "12345"), HX_OK);
	assert_buf(&b, "ab-4200007|12345");
	assert_int_equal(hx_buf_printf(&b, "%s", ""), HX_OK);
	assert_buf(&b, "ab-4200007|12345");
	hx_buf_clear(&b);

	/* Empty printf on a fresh buffer still leaves a terminated string. */
	hx_buf_init(&b, 4);
	assert_int_equal(hx_buf_printf(&b, "%s", ""), HX_OK);
	assert_buf(&b, "");
	hx_buf_clear(&b);
}

static void test_buf_steal_and_grow(void **state)
{
	struct hx_buf b;
	size_t len = 99;
	(void)state;

	hx_buf_init(&b, 1u << 20);
	assert_null(hx_buf_steal(&b, &len)); /* never allocated */
	assert_int_equal(len, 0);
	for (size_t i = 0; i < 100000; i++) {
		char c = (char)('a' + i % 26);
		assert_int_equal(hx_buf_append(&b, &c, 1), HX_OK);
	}
	assert_int_equal(b.len, 100000);
	assert_true(b.cap > b.len && b.cap - 1 <= b.max);
	for (size_t i = 0; i < b.len; i += 997)
		assert_int_equal(b.data[i], 'a' + i % 26);
	assert_int_equal(b.data[b.len], '\0');

	uint8_t *p = hx_buf_steal(&b, &len);
	assert_non_null(p);
	assert_int_equal(len, 100000);
	assert_int_equal(p[99999], 'a' + 99999 % 26);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_int_equal(b.max, 1u << 20);
	free(p);
	/* Reusable after steal, and steal with a NULL length. */
	assert_int_equal(hx_buf_puts(&b, "again"), HX_OK);
	assert_buf(&b, "again");
	p = hx_buf_steal(&b, NULL);
	assert_string_equal((char *)p, "again");
	free(p);

	assert_int_equal(hx_buf_puts(&b, "secret"), HX_OK);
	hx_buf_wipe_clear(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	hx_buf_wipe_clear(&b);
}

/* A buffer without a practical maximum (SIZE_MAX) must still allocate room for its data. */
static void test_buf_unbounded(void **state)
{
	struct hx_buf b;
	(void)state;

	hx_buf_init(&b, SIZE_MAX);
	assert_int_equal(hx_buf_append(&b, "abc", 3), HX_OK);
	assert_true(b.cap >= 4);
	assert_buf(&b, "abc");
	for (int i = 0; i < 100; i++)
		assert_int_equal(hx_buf_printf(&b, "%03d", i), HX_OK);
	assert_int_equal(b.len, 303);
	assert_true(b.cap > b.len);
	assert_memory_equal(b.data + 300, "099", 4);
	/* A size that cannot be represented with its NUL is refused, not wrapped. */
	assert_int_equal(hx_buf_reserve(&b, SIZE_MAX), HX_ELIMIT);
	assert_int_equal(hx_buf_reserve(&b, SIZE_MAX - b.len), HX_ELIMIT);
	assert_int_equal(b.len, 303);
	hx_buf_clear(&b);
}

static void test_strlcpy(void **state)
{
	char dst[4] = "zzz";
	(void)state;
	assert_int_equal(hx_strlcpy(dst, "hello", sizeof(dst)), 5);
	assert_string_equal(dst, "hel");
	assert_int_equal(hx_strlcpy(dst, "abc", sizeof(dst)), 3);
	assert_string_equal(dst, "abc");
	assert_int_equal(hx_strlcpy(dst, "", sizeof(dst)), 0);
	assert_string_equal(dst, "");
	dst[0] = 'q';
	assert_int_equal(hx_strlcpy(dst, "xyz", 0), 3);
	assert_int_equal(dst[0], 'q');
}

/* A cut never splits a character: "aд€😀" is 1 + 2 + 3 + 4 bytes. */
static void test_strlcpy_utf8(void **state)
{
	static const char s[] = "a\xd0\xb4\xe2\x82\xac\xf0\x9f\x98\x80";
	static const size_t want[] = {0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10, 10};
	char dst[16];
	(void)state;
	for (size_t size = 1; size <= 12; size++) {
		memset(dst, 'z', sizeof(dst));
		assert_int_equal(hx_strlcpy_utf8(dst, s, size), 10);
		if (strlen(dst) != want[size - 1] || memcmp(dst, s, strlen(dst)) != 0)
			fail_msg("size %zu: %zu bytes kept, want %zu", size, strlen(dst), want[size - 1]);
	}
	dst[0] = 'q';
	assert_int_equal(hx_strlcpy_utf8(dst, s, 0), 10);
	assert_int_equal(dst[0], 'q');
}

/* ---- hex --------------------------------------------------------------------------------- */

static void test_hex(void **state)
{
	static const uint8_t bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
	char out[2 * sizeof(bytes) + 1];
	uint8_t back[sizeof(bytes)];
	(void)state;

	hx_hex_encode(bytes, sizeof(bytes), out);
	assert_string_equal(out, "00017f80abff");
	hx_hex_encode(bytes, 0, out);
	assert_string_equal(out, "");

	assert_int_equal(hx_hex_decode("00017f80abff", back, sizeof(back)), HX_OK);
	assert_memory_equal(back, bytes, sizeof(bytes));
	memset(back, 0, sizeof(back));
	assert_int_equal(hx_hex_decode("00017F80ABFF", back, sizeof(back)), HX_OK);
	assert_memory_equal(back, bytes, sizeof(bytes));

	/* Failures leave the output untouched, even when a prefix was valid. */
	static const char *const bad[] = {
		"00017f80abf", "00017f80abfff", "00017f80abfg", "0x017f80abff", "00017f80ab f",
		"", "00017f80ab\xff\xff", "-0017f80abff",
	};
	for (size_t i = 0; i < HX_ARRAY_SIZE(bad); i++) {
		memset(back, 0x5a, sizeof(back));
		assert_int_equal(hx_hex_decode(bad[i], back, sizeof(back)), HX_EPARSE);
		for (size_t j = 0; j < sizeof(back); j++)
			assert_int_equal(back[j], 0x5a);
	}
	assert_int_equal(hx_hex_decode("", back, 0), HX_OK);

	/* Round trip of every byte value; the 256-byte maximum. */
	uint8_t all[256], all_back[257];
	char all_hex[2 * 257 + 1];
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	hx_hex_encode(all, 256, all_hex);
	assert_int_equal(hx_hex_decode(all_hex, all_back, 256), HX_OK);
	assert_memory_equal(all, all_back, 256);
	strcat(all_hex, "00");
	assert_int_equal(hx_hex_decode(all_hex, all_back, 257), HX_EPARSE);
}

/* ---- time and dates ---------------------------------------------------------------------- */

static const struct {
	const char *in;
	int64_t ms;
	const char *out; /* hx_time_format of ms */
} times[] = {
	{"2024-03-05T14:07:09Z", INT64_C(1709647629000), "2024-03-05T14:07:09Z"},
	{"2024-03-05T15:07:09+01:00", INT64_C(1709647629000), "2024-03-05T14:07:09Z"},
	{"2024-03-05T09:37:09-04:30", INT64_C(1709647629000), "2024-03-05T14:07:09Z"},
	{"2024-03-05T14:07:09.5Z", INT64_C(1709647629500), "2024-03-05T14:07:09.500Z"},
	{"2024-03-05T14:07:09.123456789Z", INT64_C(1709647629123), "2024-03-05T14:07:09.123Z"},
	{"2024-03-05T14:07:09.007+00:00", INT64_C(1709647629007), "2024-03-05T14:07:09.007Z"},
	{"2024-03-05T14:07Z", INT64_C(1709647620000), "2024-03-05T14:07:00Z"},
	{"2024-03-05", INT64_C(1709596800000), "2024-03-05T00:00:00Z"},
	{"1970-01-01T00:00:00Z", 0, "1970-01-01T00:00:00Z"},
	{"1969-12-31T23:59:59.999Z", -1, "1969-12-31T23:59:59.999Z"},
	{"1850-01-01T00:00:00Z", INT64_C(-3786825600000), "1850-01-01T00:00:00Z"},
	{"2200-12-31T23:59:59Z", INT64_C(7289654399000), "2200-12-31T23:59:59Z"},
	{"2024-12-31T23:30:00-01:00", INT64_C(1735691400000), "2025-01-01T00:30:00Z"},
	{"2000-02-29T12:00:00+14:00", INT64_C(951775200000), "2000-02-28T22:00:00Z"},
};

static const char *const bad_times[] = {
	"", "2024-02-30", "2023-02-29", "2024-13-01", "2024-00-01", "2024-01-00",
	"2024-03-05T24:00Z", "2024-03-05T23:60Z", "2024-03-05T14:07:61Z",
	"2024-03-05T14:07:09", "2024-03-05T14:07", "2024-03-05T", "2024-03-05T14:07:09.Z",
	"2024-03-05T14:07:09.1234567890Z", "2024-03-05T14:07:09+01", "2024-03-05T14:07:09+0100",
	"2024-03-05T14:07:09+24:00", "2024-03-05T14:07:09+01:60", "2024-03-05T14:07:09Zjunk",
	"2024-03-05 14:07:09Z", "2024-3-5", "24-03-05", "2024-03-05T1:07Z",
	"2024-03-05t14:07:09z", " 2024-03-05", "2024-03-05\n", "2024-02-30T00:00:00Z",
};

static void test_hash(void **state)
{
	char s[48];
	unsigned bucket[1024] = {0}, most = 0;
	(void)state;
	/* the string and the memory forms agree at every length, and only the n bytes count:
	 * not what follows them */
	for (size_t n = 0; n < 40; n++) {
		char other[48];
		memset(s, 'x', sizeof(s));
		memset(other, 'y', sizeof(other));
		for (size_t i = 0; i < n; i++)
			s[i] = other[i] = (char)('0' + (i * 7) % 10);
		s[n] = '\0';
		assert_int_equal(hx_hash_str(s), hx_hash_mem(s, n));
		assert_int_equal(hx_hash_mem(other, n), hx_hash_mem(s, n));
		assert_int_not_equal(hx_hash_mem(s, n), hx_hash_mem(s, n + 1));
	}
	/* organisation ids share long prefixes: their low bits (a table's index) still spread,
	 * 20,000 of them over 1,024 buckets (about 20 each) with none near a pile-up */
	for (unsigned i = 0; i < 20000; i++) {
		snprintf(s, sizeof(s), "2.16.840.1.113883.3.%u", 1000 + i);
		bucket[hx_hash_str(s) & 1023]++;
	}
	for (size_t i = 0; i < 1024; i++)
		if (bucket[i] > most)
			most = bucket[i];
	assert_true(most < 45);
}

static void test_time(void **state)
{
	char out[32];
	(void)state;

	for (size_t i = 0; i < HX_ARRAY_SIZE(times); i++) {
		int64_t ms = 12345;
		assert_int_equal(hx_time_parse(times[i].in, &ms), HX_OK);
		assert_int_equal(ms, times[i].ms);
		hx_time_format(ms, out, sizeof(out));
		assert_string_equal(out, times[i].out);
		/* The formatted form parses back to the same instant. */
		ms = 0;
		assert_int_equal(hx_time_parse(out, &ms), HX_OK);
		assert_int_equal(ms, times[i].ms);
	}
	for (size_t i = 0; i < HX_ARRAY_SIZE(bad_times); i++) {
		int64_t ms = 12345;
		if (hx_time_parse(bad_times[i], &ms) != HX_EPARSE)
			fail_msg("\"%s\" parsed", bad_times[i]);
		assert_int_equal(ms, 12345);
	}
	/* Now is after the day this test was written and formats as a Z time. */
	int64_t now = hx_time_now_ms(), back = 0;
	assert_true(now > INT64_C(1709647629000));
	hx_time_format(now, out, sizeof(out));
	assert_int_equal(out[strlen(out) - 1], 'Z');
	assert_int_equal(hx_time_parse(out, &back), HX_OK);
	assert_int_equal(back, now);
	int64_t m1 = hx_time_mono_ns(), m2 = hx_time_mono_ns();
	assert_true(m2 >= m1);
}

static void test_date_check(void **state)
{
	static const char *const good[] = {
		"1850-01-01", "2200-12-31", "2000-02-29", "2024-02-29", "1984-02-29", "1999-12-31",
		"2023-02-28", "2024-04-30",
	};
	static const char *const bad[] = {
		"1849-12-31", "2201-01-01", "1900-02-29", "2100-02-29", "2023-02-29", "2024-04-31",
		"2024-02-30", "2024-13-01", "2024-00-10", "2024-01-00", "2024-01-32", "2024-1-01",
		"2024-01-1", "2024-01-01T00:00Z", " 2024-01-01", "2024-01-01 ", "", "abcd-ef-gh",
		"2024/01/01", "+2024-01-01", "0000-01-01", "9999-12-31",
	};
	(void)state;
	for (size_t i = 0; i < HX_ARRAY_SIZE(good); i++)
		if (hx_date_check(good[i]) != HX_OK)
			fail_msg("good date \"%s\" refused", good[i]);
	for (size_t i = 0; i < HX_ARRAY_SIZE(bad); i++)
		if (hx_date_check(bad[i]) != HX_EPARSE)
			fail_msg("bad date \"%s\" accepted", bad[i]);
}

static void test_birth_date_check(void **state)
{
	int64_t now; /* 2026-11-26T23:30:00Z */
	(void)state;
	assert_int_equal(hx_time_parse("2026-11-26T23:30:00Z", &now), HX_OK);
	assert_int_equal(hx_birth_date_check("1950-01-01", now), HX_OK);
	assert_int_equal(hx_birth_date_check("2026-11-26", now), HX_OK);
	assert_int_equal(hx_birth_date_check("2026-11-27", now), HX_OK); /* already the 27th east */
	assert_int_equal(hx_birth_date_check("2026-11-28", now), HX_EINVAL);
	assert_int_equal(hx_birth_date_check("2091-01-01", now), HX_EINVAL);
	assert_int_equal(hx_birth_date_check("2026-02-30", now), HX_EPARSE);
	assert_int_equal(hx_birth_date_check("1849-12-31", now), HX_EPARSE);
	assert_int_equal(hx_birth_date_check("", now), HX_EPARSE);
}

/* Every day 1850..2200: days and dates convert both ways and follow each other. */
static void test_date_days(void **state)
{
	int64_t prev = 0, days = 0;
	int n = 0;
	(void)state;

	for (int y = 1850; y <= 2200; y++) {
		for (int m = 1; m <= 12; m++) {
			for (int d = 1; d <= 31; d++) {
				char s[16];
				int yy, mm, dd;
				int ok = hx_date_to_days(y, m, d, &days) == HX_OK;
				snprintf(s, sizeof(s), "%04d-%02d-%02d", y, m, d);
				assert_int_equal(hx_date_check(s), ok ? HX_OK : HX_EPARSE);
				if (!ok)
					continue;
				if (n++ > 0)
					assert_int_equal(days, prev + 1);
				prev = days;
				hx_days_to_date(days, &yy, &mm, &dd);
				assert_int_equal(yy, y);
				assert_int_equal(mm, m);
				assert_int_equal(dd, d);
			}
		}
	}
	/* 351 years, 85 of them leap (1900 and 2100 are not, 2000 is). */
	assert_int_equal(n, 351 * 365 + 85);
	assert_int_equal(hx_date_to_days(1970, 1, 1, &days), HX_OK);
	assert_int_equal(days, 0);
	days = 77;
	assert_int_equal(hx_date_to_days(2023, 2, 29, &days), HX_EPARSE);
	assert_int_equal(days, 77);
}

/* ---- sizes and durations ----------------------------------------------------------------- */

struct num_case {
	const char *in;
	int rc;
	uint64_t want;
};

static void check_num(int (*parse)(const char *, uint64_t *), const struct num_case *c,
                      size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t v = 4242;
		int rc = parse(c[i].in, &v);
		if (rc != c[i].rc)
			fail_msg("\"%s\": %s, want %s", c[i].in, hx_errname(rc),
			         hx_errname(c[i].rc));
		assert_int_equal(v, c[i].rc == HX_OK ? c[i].want : 4242);
	}
}

static void test_size_parse(void **state)
{
	static const struct num_case cases[] = {
		{"0", HX_OK, 0},
		{"64", HX_OK, 64},
		{"5B", HX_OK, 5},
		{"64K", HX_OK, 65536},
		{"64KB", HX_OK, 65536},
		{"64KiB", HX_OK, 65536},
		{"10M", HX_OK, 10485760},
		{"10MB", HX_OK, 10485760},
		{"10MiB", HX_OK, 10485760},
		{"2G", HX_OK, UINT64_C(2147483648)},
		{"2GiB", HX_OK, UINT64_C(2147483648)},
		{"1T", HX_OK, UINT64_C(1) << 40},
		{"1TiB", HX_OK, UINT64_C(1) << 40},
		{"16777215T", HX_OK, UINT64_C(16777215) << 40},
		{"18446744073709551615", HX_OK, UINT64_MAX},
		{"16777216T", HX_ELIMIT, 0},
		{"17179869184G", HX_ELIMIT, 0},
		{"18446744073709551616", HX_ELIMIT, 0},
		{"99999999999999999999999", HX_ELIMIT, 0},
		{"123456789012345678901234567890K", HX_ELIMIT, 0},
		{"", HX_EPARSE, 0},
		{"1X", HX_EPARSE, 0},
		{"-1", HX_EPARSE, 0},
		{"K", HX_EPARSE, 0},
		{"1k", HX_EPARSE, 0},
		{"1 K", HX_EPARSE, 0},
		{" 1", HX_EPARSE, 0},
		{"1.5M", HX_EPARSE, 0},
		{"1KK", HX_EPARSE, 0},
		{"+1", HX_EPARSE, 0},
		{"0x10", HX_EPARSE, 0},
		{"1iB", HX_EPARSE, 0},
	};
	(void)state;
	check_num(hx_size_parse, cases, HX_ARRAY_SIZE(cases));
}

static void test_duration_parse(void **state)
{
	static const struct num_case cases[] = {
		{"500ms", HX_OK, 500},
		{"2s", HX_OK, 2000},
		{"1m", HX_OK, 60000},
		{"1h", HX_OK, 3600000},
		{"3d", HX_OK, 259200000},
		{"30", HX_OK, 30000},
		{"0", HX_OK, 0},
		{"0ms", HX_OK, 0},
		{"213503982334d", HX_OK, UINT64_C(213503982334) * 86400000},
		{"213503982335d", HX_ELIMIT, 0},
		{"18446744073709551615", HX_ELIMIT, 0},
		{"18446744073709551615ms", HX_OK, UINT64_MAX},
		{"", HX_EPARSE, 0},
		{"1x", HX_EPARSE, 0},
		{"-1", HX_EPARSE, 0},
		{"1.5s", HX_EPARSE, 0},
		{"ms", HX_EPARSE, 0},
		{"1 s", HX_EPARSE, 0},
		{"1S", HX_EPARSE, 0},
		{"1mss", HX_EPARSE, 0},
		{"1sm", HX_EPARSE, 0},
	};
	(void)state;
	check_num(hx_duration_parse, cases, HX_ARRAY_SIZE(cases));
}

static void test_u64_and_size_format(void **state)
{
	static const struct num_case cases[] = {
		{"0", HX_OK, 0},
		{"007", HX_OK, 7},
		{"18446744073709551615", HX_OK, UINT64_MAX},
		{"18446744073709551616", HX_ELIMIT, 0},
		{"", HX_EPARSE, 0},
		{"-1", HX_EPARSE, 0},
		{"1a", HX_EPARSE, 0},
		{" 1", HX_EPARSE, 0},
		{"1 ", HX_EPARSE, 0},
	};
	static const struct {
		uint64_t bytes;
		const char *text;
	} fmt[] = {
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{1572864, "1.5 MiB"},
		{UINT64_C(1) << 40, "1.0 TiB"},
		{UINT64_C(1) << 50, "1024.0 TiB"},
	};
	char out[16];
	(void)state;

	check_num(hx_u64_parse, cases, HX_ARRAY_SIZE(cases));
	for (size_t i = 0; i < HX_ARRAY_SIZE(fmt); i++) {
		hx_size_format(fmt[i].bytes, out, sizeof(out));
		assert_string_equal(out, fmt[i].text);
	}
}

/* ---- logging ----------------------------------------------------------------------------- */

static void test_log_level_parse(void **state)
{
	static const struct {
		const char *name;
		enum hx_log_level level;
	} ok[] = {
		{"err", HX_LOG_ERR},   {"error", HX_LOG_ERR},    {"warning", HX_LOG_WARNING},
		{"warn", HX_LOG_WARNING}, {"notice", HX_LOG_NOTICE}, {"info", HX_LOG_INFO},
		{"debug", HX_LOG_DEBUG},
	};
	static const char *const bad[] = {"", "INFO", "trace", "e", "errors", "debug "};
	(void)state;
	for (size_t i = 0; i < HX_ARRAY_SIZE(ok); i++) {
		enum hx_log_level l = HX_LOG_NOTICE + 100;
		assert_int_equal(hx_log_level_parse(ok[i].name, &l), HX_OK);
		assert_int_equal(l, ok[i].level);
	}
	for (size_t i = 0; i < HX_ARRAY_SIZE(bad); i++) {
		enum hx_log_level l = HX_LOG_NOTICE;
		assert_int_equal(hx_log_level_parse(bad[i], &l), HX_EPARSE);
		assert_int_equal(l, HX_LOG_NOTICE);
	}
}

/* stderr goes to a temporary file between capture_start() and capture_end(). */
struct capture {
	FILE *file;
	int saved;
};

static void capture_start(struct capture *c)
{
	fflush(stderr);
	c->file = tmpfile();
	assert_non_null(c->file);
	c->saved = dup(STDERR_FILENO);
	assert_true(c->saved >= 0);
	assert_int_equal(dup2(fileno(c->file), STDERR_FILENO), STDERR_FILENO);
}

/* Restore stderr and return what was written (NUL-terminated, caller frees). */
static char *capture_end(struct capture *c)
{
	char *text;
	long n;

	assert_int_equal(dup2(c->saved, STDERR_FILENO), STDERR_FILENO);
	close(c->saved);
	n = lseek(fileno(c->file), 0, SEEK_END);
	assert_true(n >= 0);
	text = malloc((size_t)n + 1);
	assert_non_null(text);
	assert_int_equal(pread(fileno(c->file), text, (size_t)n, 0), n);
	text[n] = '\0';
	fclose(c->file);
	return text;
}

static size_t count_char(const char *s, char c)
{
	size_t n = 0;
	for (; *s != '\0'; s++)
		n += *s == c;
	return n;
}

static void test_log_escaping(void **state)
{
	struct capture c;
	char *out, prefix[64], *msg;
	(void)state;

	unsetenv("JOURNAL_STREAM");
	hx_log_init("test_common", HX_LOG_INFO);
	capture_start(&c);
	hx_log_info("peer %s sent \"%s\"", "1.2.3", "a\nb\rc\x1b[31mred\xc3\xa9\x7f\\z\t!");
	out = capture_end(&c);

	/* One line: "<time> test_common[pid] info: <escaped>\n". */
	assert_int_equal(count_char(out, '\n'), 1);
	assert_int_equal(out[strlen(out) - 1], '\n');
	assert_null(strchr(out, '\r'));
	assert_null(strchr(out, '\x1b'));
	assert_null(strchr(out, '\t'));
	for (const unsigned char *p = (const unsigned char *)out; *p != '\0'; p++)
		assert_true(*p == '\n' || (*p >= 0x20 && *p < 0x7f));
	snprintf(prefix, sizeof(prefix), " test_common[%d] info: ", (int)getpid());
	msg = strstr(out, prefix);
	assert_non_null(msg);
	assert_string_equal(msg + strlen(prefix), "peer 1.2.3 sent \"a\\x0ab\\x0dc\\x1b[31mred"
	                                          "\\xc3\\xa9\\x7f\\\\z\\x09!\"\n");
	/* The timestamp is a time this process can parse back. */
	*msg = '\0';
	int64_t ts = 0;
	assert_int_equal(hx_time_parse(out, &ts), HX_OK);
	assert_true(ts > hx_time_now_ms() - 60000 && ts <= hx_time_now_ms());
	free(out);
}

static void test_log_levels(void **state)
{
	struct capture c;
	char *out;
	(void)state;

	unsetenv("JOURNAL_STREAM");
	hx_log_init("lv", HX_LOG_WARNING);
	assert_int_equal(hx_log_get_level(), HX_LOG_WARNING);
	capture_start(&c);
	hx_log_debug("dropped-debug");
	hx_log_info("dropped-info");
	hx_log_notice("dropped-notice");
	hx_log_warn("kept-warning");
	hx_log_err("kept-err");
	out = capture_end(&c);
	assert_null(strstr(out, "dropped"));
	assert_int_equal(count_char(out, '\n'), 2);
	assert_non_null(strstr(out, " warning: kept-warning\n"));
	assert_non_null(strstr(out, " err: kept-err\n"));
	assert_true(strstr(out, "kept-warning") < strstr(out, "kept-err"));
	free(out);

	hx_log_set_level(HX_LOG_DEBUG);
	assert_int_equal(hx_log_get_level(), HX_LOG_DEBUG);
	capture_start(&c);
	hx_log_debug("now-%s", "debug");
	hx_log((enum hx_log_level)1, "below-err"); /* an out-of-range level is logged as err */
	out = capture_end(&c);
	assert_non_null(strstr(out, " debug: now-debug\n"));
	assert_non_null(strstr(out, " err: below-err\n"));
	free(out);

	hx_log_set_level(HX_LOG_ERR);
	capture_start(&c);
	hx_log_warn("dropped");
	out = capture_end(&c);
	assert_string_equal(out, "");
	free(out);
	hx_log_set_level(HX_LOG_INFO);
}

/* Long messages are cut, still one line; under journald the line has a "<N>" prefix. */
static void test_log_long_and_journal(void **state)
{
	struct capture c;
	char *out, *big = malloc(5001);
	(void)state;

	assert_non_null(big);
	unsetenv("JOURNAL_STREAM");
	hx_log_init("long", HX_LOG_INFO);
	memset(big, 'A', 5000);
	big[5000] = '\0';
	capture_start(&c);
	hx_log_info("%s", big);
	memset(big, 0xff, 5000); /* every byte becomes 4 */
	hx_log_info("%s", big);
	out = capture_end(&c);
	assert_int_equal(count_char(out, '\n'), 2);
	char *second = strchr(out, '\n') + 1;
	assert_true((size_t)(second - out) <= 2048 + 128);
	assert_true((size_t)(second - out) > 2000);
	assert_true(strlen(second) <= 2048 + 128);
	assert_non_null(strstr(second, "\\xff\\xff"));
	assert_null(strchr(out, '\xff'));
	/* A cut never leaves half an escape. */
	char *end = strchr(second, '\n');
	assert_true(end[-1] == 'f' && end[-2] == 'f' && end[-3] == 'x' && end[-4] == '\\');
	free(out);
	free(big);

	struct stat st;
	char js[64];
	capture_start(&c);
	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
	         (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	hx_log_init("jr", HX_LOG_INFO);
	hx_log_warn("to %s", "journal\n");
	out = capture_end(&c);
	assert_string_equal(out, "<4>jr: to journal\\x0a\n");
	free(out);
	unsetenv("JOURNAL_STREAM");
	hx_log_init("test_common", HX_LOG_INFO);
}

/* ---- the heap ------------------------------------------------------------------------------ */

#if defined(__SANITIZE_ADDRESS__)
#define HX_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HX_TEST_SANITIZED 1
#endif
#endif

#ifndef HX_TEST_SANITIZED
/* 3 MiB in 48 blocks of 64 KiB (under both mmap thresholds), written and freed: what a
 * round of work leaves at the top of the heap is glibc's keepcost (this thread's arena is
 * the main one). */
static size_t churn_keepcost(void)
{
	enum { N = 48, SZ = 64 << 10 };
	static void *volatile p[N];
	for (int i = 0; i < N; i++) {
		p[i] = malloc(SZ);
		assert_non_null(p[i]);
		memset(p[i], 1, SZ);
	}
	for (int i = N - 1; i >= 0; i--)
		free(p[i]);
	return mallinfo2().keepcost;
}
#endif

static void test_malloc_tune(void **state)
{
	(void)state;
#ifdef HX_TEST_SANITIZED
	skip(); /* the sanitizer's allocator has no such settings; clone_build runs this test */
#else
	/* glibc's starting values: the freed 3 MiB goes back to the kernel at once. */
	assert_int_equal(mallopt(M_MMAP_THRESHOLD, 128 << 10), 1);
	assert_int_equal(mallopt(M_TRIM_THRESHOLD, 128 << 10), 1);
	size_t before = churn_keepcost();
	assert_true(before < (1u << 20));
	/* Tuned: it is kept for the next round, but no more than the trim threshold; a large
	 * block that the heap does not already hold is mapped on its own, and unmapped when
	 * freed, rather than growing the heap. */
	hx_malloc_tune();
	size_t after = churn_keepcost();
	assert_true(after >= (3u << 20));
	assert_true(after <= HX_MALLOC_TRIM_THRESHOLD + (1u << 20));
	size_t mapped = mallinfo2().hblkhd, big_len = 2 * HX_MALLOC_TRIM_THRESHOLD;
	void *big = malloc(big_len);
	assert_non_null(big);
	assert_true(mallinfo2().hblkhd >= mapped + big_len);
	free(big);
	assert_int_equal(mallinfo2().hblkhd, mapped);
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_buf_limit),
		cmocka_unit_test(test_buf_printf),
		cmocka_unit_test(test_buf_steal_and_grow),
		cmocka_unit_test(test_buf_unbounded),
		cmocka_unit_test(test_strlcpy),
		cmocka_unit_test(test_strlcpy_utf8),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_date_check),
		cmocka_unit_test(test_birth_date_check),
		cmocka_unit_test(test_date_days),
		cmocka_unit_test(test_size_parse),
		cmocka_unit_test(test_duration_parse),
		cmocka_unit_test(test_u64_and_size_format),
		cmocka_unit_test(test_log_level_parse),
		cmocka_unit_test(test_log_escaping),
		cmocka_unit_test(test_log_levels),
		cmocka_unit_test(test_log_long_and_journal),
		cmocka_unit_test(test_malloc_tune),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
