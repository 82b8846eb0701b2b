/*
 * fuzz_http_parse.c: the fuzz target of the HTTP request-head parser (node/http/http_parse.c);
 * fuzz_http_parse under libFuzzer, fuzz_seed_http_parse with the plain driver over
 * seeds/http/.
 *
 * Whatever the bytes, http_request_parse() must:
 *  - on DONE: describe a head inside buf[0..min(len, HTTP_HEAD_MAX)) ending in CRLF CRLF,
 *    with every pointer inside it, a path starting with '/' and free of "//", "." and ".."
 *    segments, at most HTTP_HEADERS_MAX fields free of CR, LF and NUL, the framing rules held
 *    (POST has a length, GET/HEAD a zero one); parse the head alone to the same request, and
 *    the head minus its last byte to MORE;
 *  - on MORE: have len < HTTP_HEAD_MAX;
 *  - on ERROR: give a status of the documented list and a static printable reason;
 *  - write *req only on DONE and *status, *why only on ERROR;
 *  - agree with itself on the input minus its last byte: a DONE there is the same DONE here,
 *    an ERROR there the same status here.
 * Anything else aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "http_parse.h"

static void fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz_http_parse: %s\n", what);
	abort();
}

struct result {
	enum http_parse_result res;
	struct http_request req;
	int status;
	const char *why;
};

static const struct http_request *pattern(void)
{
	static struct http_request p;
	static int done;

	if (!done) {
		memset(&p, 0x5a, sizeof(p));
		done = 1;
	}
	return &p;
}

static void parse(const char *buf, size_t len, struct result *r)
{
	memcpy(&r->req, pattern(), sizeof(r->req));
	r->status = -1;
	r->why = NULL;
	r->res = http_request_parse(buf, len, &r->req, &r->status, &r->why);
}

/* p[0..n) lies inside [lo, hi). */
static int inside(const char *p, size_t n, const char *lo, const char *hi)
{
	return p != NULL && p >= lo && p <= hi && n <= (size_t)(hi - p);
}

static int has_byte(const char *p, size_t n, const char *set, size_t set_len)
{
	for (size_t i = 0; i < n; i++)
		if (memchr(set, p[i], set_len) != NULL)
			return 1;
	return 0;
}

static void check_path(const char *p, size_t n)
{
	size_t seg = 1;

	if (n == 0 || p[0] != '/')
		fuzz_fail("path does not start with '/'");
	for (size_t i = 1; i <= n; i++) {
		if (i < n && p[i] != '/')
			continue;
		if (i - seg == 0 && i < n)
			fuzz_fail("empty path segment");
		if ((i - seg == 1 && p[seg] == '.') ||
		    (i - seg == 2 && p[seg] == '.' && p[seg + 1] == '.'))
			fuzz_fail("dot segment in path");
		seg = i + 1;
	}
	if (has_byte(p, n, "%?#;:\\ ", 7))
		fuzz_fail("forbidden byte in path");
}

static int same_request(const struct http_request *a, const struct http_request *b)
{
	if (a->method != b->method || a->path != b->path || a->path_len != b->path_len ||
	    a->query != b->query || a->query_len != b->query_len || a->minor != b->minor ||
	    a->n_headers != b->n_headers || a->has_length != b->has_length ||
	    a->content_length != b->content_length || a->keep_alive != b->keep_alive ||
	    a->expect_continue != b->expect_continue || a->host != b->host ||
	    a->host_len != b->host_len || a->content_type != b->content_type ||
	    a->content_type_len != b->content_type_len || a->head_len != b->head_len)
		return 0;
	for (size_t i = 0; i < a->n_headers; i++)
		if (a->headers[i].name != b->headers[i].name ||
		    a->headers[i].name_len != b->headers[i].name_len ||
		    a->headers[i].value != b->headers[i].value ||
		    a->headers[i].value_len != b->headers[i].value_len)
			return 0;
	return 1;
}

static void check_done(const char *buf, size_t len, const struct result *r)
{
	const struct http_request *q = &r->req;
	const char *end = buf + q->head_len;
	struct result again;

	if (r->status != -1 || r->why != NULL)
		fuzz_fail("status or why written on DONE");
	if (q->head_len > len || q->head_len > HTTP_HEAD_MAX || q->head_len < 18)
		fuzz_fail("head_len out of range");
	if (memcmp(end - 4, "\r\n\r\n", 4) != 0)
		fuzz_fail("head does not end in CRLF CRLF");
	if (q->method < HTTP_METHOD_GET || q->method > HTTP_METHOD_HEAD)
		fuzz_fail("unknown method");
	if (q->minor != 0 && q->minor != 1)
		fuzz_fail("minor version not 0 or 1");
	if (!inside(q->path, q->path_len, buf, end))
		fuzz_fail("path outside the head");
	check_path(q->path, q->path_len);
	if (q->query != NULL &&
	    (!inside(q->query, q->query_len, buf, end) || q->query != q->path + q->path_len + 1 ||
	     q->query[-1] != '?'))
		fuzz_fail("query misplaced");
	if (q->n_headers > HTTP_HEADERS_MAX)
		fuzz_fail("too many headers");
	for (size_t i = 0; i < q->n_headers; i++) {
		const struct http_header *h = &q->headers[i];
		if (h->name_len == 0 || !inside(h->name, h->name_len, buf, end) ||
		    !inside(h->value, h->value_len, buf, end))
			fuzz_fail("header outside the head");
		if (has_byte(h->name, h->name_len, ": \t\r\n\0", 6) ||
		    has_byte(h->value, h->value_len, "\r\n\0", 3))
			fuzz_fail("forbidden byte in a header");
	}
	if (http_request_header(q, "") != NULL)
		fuzz_fail("a header with an empty name");
	if (q->minor == 1 && q->host == NULL)
		fuzz_fail("HTTP/1.1 without Host");
	if (q->host != NULL && (q->host_len == 0 || !inside(q->host, q->host_len, buf, end) ||
	                        has_byte(q->host, q->host_len, " /@\t", 4)))
		fuzz_fail("bad host");
	if (q->content_type != NULL && !inside(q->content_type, q->content_type_len, buf, end))
		fuzz_fail("content type outside the head");
	if (q->content_length >= 1000000000000000ULL || (!q->has_length && q->content_length != 0))
		fuzz_fail("bad content length");
	if (q->method == HTTP_METHOD_POST ? !q->has_length : q->content_length != 0)
		fuzz_fail("framing rules broken");
	if ((q->keep_alive != 0 && q->keep_alive != 1) ||
	    (q->expect_continue != 0 && q->expect_continue != 1) ||
	    (q->expect_continue && q->minor == 0))
		fuzz_fail("bad flag");

	/* The bytes after the head do not matter; the head without its last byte is MORE. */
	parse(buf, q->head_len, &again);
	if (again.res != HTTP_PARSE_DONE || !same_request(q, &again.req))
		fuzz_fail("the head alone parses differently");
	parse(buf, q->head_len - 1, &again);
	if (again.res != HTTP_PARSE_MORE)
		fuzz_fail("the head minus one byte is not MORE");
}

static void check_error(const char *buf, size_t len, const struct result *r)
{
	static const int statuses[] = {400, 411, 414, 417, 431, 501, 505};
	size_t i;

	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (r->status == statuses[i])
			break;
	if (i == sizeof(statuses) / sizeof(statuses[0]))
		fuzz_fail("undocumented status");
	if (r->why == NULL || (r->why >= buf && r->why < buf + len) || strlen(r->why) == 0 ||
	    strlen(r->why) > 60)
		fuzz_fail("bad reason");
	for (const char *c = r->why; *c != '\0'; c++)
		if (*c < 0x20 || *c > 0x7e)
			fuzz_fail("unprintable reason");
	if (memcmp(&r->req, pattern(), sizeof(r->req)) != 0)
		fuzz_fail("*req written on ERROR");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct result r, shorter;

	parse(buf, size, &r);
	switch (r.res) {
	case HTTP_PARSE_DONE:
		check_done(buf, size, &r);
		break;
	case HTTP_PARSE_MORE:
		if (size >= HTTP_HEAD_MAX)
			fuzz_fail("MORE at HTTP_HEAD_MAX");
		if (r.status != -1 || r.why != NULL ||
		    memcmp(&r.req, pattern(), sizeof(r.req)) != 0)
			fuzz_fail("out-parameters written on MORE");
		break;
	case HTTP_PARSE_ERROR:
		check_error(buf, size, &r);
		break;
	default:
		fuzz_fail("unknown result");
	}

	if (size == 0)
		return 0;
	parse(buf, size - 1, &shorter);
	if (shorter.res == HTTP_PARSE_DONE &&
	    (r.res != HTTP_PARSE_DONE || !same_request(&r.req, &shorter.req)))
		fuzz_fail("a DONE prefix is not DONE alike with one more byte");
	if (shorter.res == HTTP_PARSE_ERROR &&
	    (r.res != HTTP_PARSE_ERROR || r.status != shorter.status))
		fuzz_fail("an ERROR prefix is not the same ERROR with one more byte");
	return 0;
}
