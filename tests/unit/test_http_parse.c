/*
 * test_http_parse.c: node/http/http_parse.c, the strict request-head parser. A table of good
 * and bad heads with the status each bad one must get; every prefix of a good head is MORE
 * and every prefix of a bad one is MORE or the same error; the fields of good heads; the
 * size and count limits at and one past the edge; keep-alive rules; head_len with a body and
 * a pipelined request behind; out-parameters untouched when they should be.
 *
 * Every parse runs on a heap copy of exactly the input's length, so AddressSanitizer sees a
 * read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http_parse.h"
#include "hx.h"

/* ---- helpers ----------------------------------------------------------------------------- */

struct run {
	char *buf;
	size_t len;
	enum http_parse_result res;
	struct http_request req;
	int status;
	const char *why;
};

static void run_parse(struct run *r, const char *s, size_t n)
{
	r->buf = malloc(n != 0 ? n : 1);
	assert_non_null(r->buf);
	if (n != 0)
		memcpy(r->buf, s, n);
	r->len = n;
	r->status = -1;
	r->why = NULL;
	memset(&r->req, 0, sizeof(r->req));
	r->res = http_request_parse(r->buf, n, &r->req, &r->status, &r->why);
}

static void run_free(struct run *r)
{
	free(r->buf);
	r->buf = NULL;
}

static const char *res_name(enum http_parse_result res)
{
	switch (res) {
	case HTTP_PARSE_DONE:
		return "DONE";
	case HTTP_PARSE_MORE:
		return "MORE";
	case HTTP_PARSE_ERROR:
		return "ERROR";
	}
	return "?";
}

/* The reason is a short static sentence: printable, not inside the input. */
static void check_why(const struct run *r, const char *name)
{
	if (r->why == NULL)
		fail_msg("%s: no reason", name);
	if (r->why >= r->buf && r->why < r->buf + r->len)
		fail_msg("%s: the reason points into the input", name);
	if (strlen(r->why) < 5 || strlen(r->why) > 60)
		fail_msg("%s: reason \"%s\" too short or long", name, r->why);
	for (const char *c = r->why; *c != '\0'; c++)
		if (*c < 0x20 || *c > 0x7e)
			fail_msg("%s: reason has byte 0x%02x", name, (unsigned char)*c);
}

static int str_equal(const char *p, size_t n, const char *want)
{
	return p != NULL && n == strlen(want) && memcmp(p, want, n) == 0;
}

/* ---- the table ------------------------------------------------------------------------- */

struct parse_case {
	const char *name;
	const char *head; /* may hold NUL bytes: len says how long */
	size_t len;
	int status;       /* 0: DONE with head_len == len */
};

#define GOOD(name, s) {name, s, sizeof(s) - 1, 0}
#define BAD(name, s, status) {name, s, sizeof(s) - 1, status}
#define H "Host: node.example\r\n"

static const struct parse_case cases[] = {
	/* good */
	GOOD("GET 1.1", "GET / HTTP/1.1\r\n" H "\r\n"),
	GOOD("GET health", "GET /hie/v1/health HTTP/1.1\r\nHost: node.example:7443\r\n\r\n"),
	GOOD("HEAD 1.1", "HEAD /hie/v1/health HTTP/1.1\r\n" H "\r\n"),
	GOOD("POST", "POST /hie/v1/patients/discover HTTP/1.1\r\n" H
	             "Content-Type: application/x-protobuf\r\nContent-Length: 12\r\n\r\n"),
	GOOD("GET 1.0 no Host", "GET / HTTP/1.0\r\n\r\n"),
	GOOD("GET 1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
	GOOD("POST 1.0", "POST /x HTTP/1.0\r\nContent-Length: 0\r\n\r\n"),
	GOOD("Connection close", "GET / HTTP/1.1\r\n" H "Connection: close\r\n\r\n"),
	GOOD("Connection list", "GET / HTTP/1.1\r\n" H "Connection: Keep-Alive, Upgrade\r\n\r\n"),
	GOOD("Connection empty elements", "GET / HTTP/1.1\r\n" H "Connection: , close ,,\r\n\r\n"),
	GOOD("query", "GET /fhir/DocumentReference?patient=p-1&_count=10 HTTP/1.1\r\n" H "\r\n"),
	GOOD("query escapes", "GET /fhir/Patient?name=a%20b%2Fc%7e&x=1+2,3:4@5/6 HTTP/1.1\r\n" H
	                      "\r\n"),
	GOOD("empty query", "GET /a? HTTP/1.1\r\n" H "\r\n"),
	GOOD("Host IPv4 port", "GET / HTTP/1.1\r\nHost: 127.0.0.1:7444\r\n\r\n"),
	GOOD("Host IPv6 port", "GET / HTTP/1.1\r\nHost: [::1]:7443\r\n\r\n"),
	GOOD("Host IPv6", "GET / HTTP/1.1\r\nHost: [fe80::1:2]\r\n\r\n"),
	GOOD("Host port 65535", "GET / HTTP/1.1\r\nHost: a:65535\r\n\r\n"),
	GOOD("lowercase names", "POST /x HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\n\r\n"),
	GOOD("mixed-case names", "POST /x HTTP/1.1\r\nHOST: a\r\nCoNtEnT-LeNgTh: 3\r\n\r\n"),
	GOOD("one leading CRLF", "\r\nGET / HTTP/1.1\r\n" H "\r\n"),
	GOOD("OWS trimmed", "GET / HTTP/1.1\r\nHost:\t node.example \t\r\nX-A:  b c  \r\n\r\n"),
	GOOD("no OWS", "GET / HTTP/1.1\r\nHost:node.example\r\n\r\n"),
	GOOD("empty value", "GET / HTTP/1.1\r\n" H "X-Empty:\r\nX-Blank:   \r\n\r\n"),
	GOOD("Expect 100-continue", "POST /x HTTP/1.1\r\n" H "Expect: 100-Continue\r\n"
	                            "Content-Length: 5\r\n\r\n"),
	GOOD("GET Content-Length 0", "GET / HTTP/1.1\r\n" H "Content-Length: 0\r\n\r\n"),
	GOOD("leading zeros", "POST /x HTTP/1.1\r\n" H "Content-Length: 007\r\n\r\n"),
	GOOD("15 digits", "POST /x HTTP/1.1\r\n" H "Content-Length: 999999999999999\r\n\r\n"),
	GOOD("obs-text value", "GET / HTTP/1.1\r\n" H "User-Agent: caf\xc3\xa9\xff\r\n\r\n"),
	GOOD("trailing slash", "GET /hie/v1/ HTTP/1.1\r\n" H "\r\n"),
	GOOD("dot names", "GET /.well-known/a.../...b/~x_y-z HTTP/1.1\r\n" H "\r\n"),
	GOOD("tchar name", "GET / HTTP/1.1\r\n" H "X-!#$%&'*+-.^_`|~9: v\r\n\r\n"),
	GOOD("repeated other field", "GET / HTTP/1.1\r\n" H "Accept: a\r\nAccept: b\r\n\r\n"),
	GOOD("HTAB in value", "GET / HTTP/1.1\r\n" H "X-T: a\tb\r\n\r\n"),

	/* request line */
	BAD("PUT", "PUT /x HTTP/1.1\r\n" H "Content-Length: 1\r\n\r\n", 501),
	BAD("DELETE", "DELETE /x HTTP/1.1\r\n" H "\r\n", 501),
	BAD("lowercase method", "get / HTTP/1.1\r\n" H "\r\n", 501),
	BAD("OPTIONS *", "OPTIONS * HTTP/1.1\r\n" H "\r\n", 501),
	BAD("G@T", "G@T / HTTP/1.1\r\n" H "\r\n", 400),
	BAD("empty method", " / HTTP/1.1\r\n" H "\r\n", 400),
	BAD("HTTP/2.0", "GET / HTTP/2.0\r\n" H "\r\n", 505),
	BAD("HTTP/1.2", "GET / HTTP/1.2\r\n" H "\r\n", 505),
	BAD("HTTP/0.9", "GET / HTTP/0.9\r\n" H "\r\n", 505),
	BAD("h2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
	BAD("HTTP/1", "GET / HTTP/1\r\n" H "\r\n", 400),
	BAD("HTTP/1.10", "GET / HTTP/1.10\r\n" H "\r\n", 400),
	BAD("lowercase version", "GET / http/1.1\r\n" H "\r\n", 400),
	BAD("no version", "GET /\r\n" H "\r\n", 400),
	BAD("tab separator", "GET\t/ HTTP/1.1\r\n" H "\r\n", 400),
	BAD("tab before version", "GET /\tHTTP/1.1\r\n" H "\r\n", 400),
	BAD("double space", "GET  / HTTP/1.1\r\n" H "\r\n", 400),
	BAD("space after version", "GET / HTTP/1.1 \r\n" H "\r\n", 400),
	BAD("bare CR in request line", "GET /a\rb HTTP/1.1\r\n" H "\r\n", 400),
	BAD("two leading CRLF", "\r\n\r\nGET / HTTP/1.1\r\n" H "\r\n", 400),
	BAD("leading bare LF", "\nGET / HTTP/1.1\r\n" H "\r\n", 400),

	/* target */
	BAD("absolute-form", "GET http://node.example/ HTTP/1.1\r\n" H "\r\n", 400),
	BAD("authority-form", "GET node.example:443 HTTP/1.1\r\n" H "\r\n", 400),
	BAD("asterisk", "GET * HTTP/1.1\r\n" H "\r\n", 400),
	BAD("dot-dot", "GET /hie/../etc/passwd HTTP/1.1\r\n" H "\r\n", 400),
	BAD("final dot-dot", "GET /hie/.. HTTP/1.1\r\n" H "\r\n", 400),
	BAD("dot segment", "GET /hie/./v1 HTTP/1.1\r\n" H "\r\n", 400),
	BAD("final dot", "GET /hie/. HTTP/1.1\r\n" H "\r\n", 400),
	BAD("slash dot", "GET /. HTTP/1.1\r\n" H "\r\n", 400),
	BAD("double slash", "GET //etc HTTP/1.1\r\n" H "\r\n", 400),
	BAD("inner double slash", "GET /a//b HTTP/1.1\r\n" H "\r\n", 400),
	BAD("%2e in path", "GET /%2e%2e/x HTTP/1.1\r\n" H "\r\n", 400),
	BAD("percent in path", "GET /a%20b HTTP/1.1\r\n" H "\r\n", 400),
	BAD("semicolon in path", "GET /a;jsessionid=1 HTTP/1.1\r\n" H "\r\n", 400),
	BAD("colon in path", "GET /a:b HTTP/1.1\r\n" H "\r\n", 400),
	BAD("backslash in path", "GET /a\\..\\b HTTP/1.1\r\n" H "\r\n", 400),
	BAD("fragment", "GET /a#b HTTP/1.1\r\n" H "\r\n", 400),
	BAD("%00 in query", "GET /a?x=%00 HTTP/1.1\r\n" H "\r\n", 400),
	BAD("%0d%0a in query", "GET /a?x=%0d%0aSet-Cookie:x HTTP/1.1\r\n" H "\r\n", 400),
	BAD("%0A in query", "GET /a?x=%0A HTTP/1.1\r\n" H "\r\n", 400),
	BAD("%7f in query", "GET /a?x=%7f HTTP/1.1\r\n" H "\r\n", 400),
	BAD("bad hex in query", "GET /a?x=%zz HTTP/1.1\r\n" H "\r\n", 400),
	BAD("cut escape in query", "GET /a?x=%2 HTTP/1.1\r\n" H "\r\n", 400),
	BAD("angle bracket in query", "GET /a?x=<script> HTTP/1.1\r\n" H "\r\n", 400),
	BAD("second ? in query", "GET /a?x=1?y HTTP/1.1\r\n" H "\r\n", 400),
	BAD("CRLF in target", "GET /a\r\nX-Injected: 1 HTTP/1.1\r\n" H "\r\n", 400),
	BAD("NUL in target", "GET /a\0b HTTP/1.1\r\n" H "\r\n", 400),

	/* lines and fields */
	BAD("bare LF endings", "GET / HTTP/1.1\n" H "\n", 400),
	BAD("bare LF after field", "GET / HTTP/1.1\r\nHost: a\n\r\n", 400),
	BAD("bare LF final", "GET / HTTP/1.1\r\n" H "\n", 400),
	BAD("name with space", "GET / HTTP/1.1\r\n" H "X Foo: a\r\n\r\n", 400),
	BAD("space before colon", "GET / HTTP/1.1\r\n" H "X-Foo : a\r\n\r\n", 400),
	BAD("empty name", "GET / HTTP/1.1\r\n" H ": a\r\n\r\n", 400),
	BAD("no colon", "GET / HTTP/1.1\r\n" H "X-Foo\r\n\r\n", 400),
	BAD("non-token name", "GET / HTTP/1.1\r\n" H "X(Foo): a\r\n\r\n", 400),
	BAD("NUL in value", "GET / HTTP/1.1\r\n" H "X-A: a\0b\r\n\r\n", 400),
	BAD("bare CR in value", "GET / HTTP/1.1\r\n" H "X-A: a\rb\r\n\r\n", 400),
	BAD("CR CR LF", "GET / HTTP/1.1\r\n" H "X-A: a\r\r\n\r\n", 400),
	BAD("control char in value", "GET / HTTP/1.1\r\n" H "X-A: a\x01\r\n\r\n", 400),
	BAD("ESC in value", "GET / HTTP/1.1\r\n" H "X-A: \x1b[31m\r\n\r\n", 400),
	BAD("DEL in value", "GET / HTTP/1.1\r\n" H "X-A: a\x7f\r\n\r\n", 400),
	BAD("obs-fold", "GET / HTTP/1.1\r\n" H "X-A: a\r\n b\r\n\r\n", 400),
	BAD("obs-fold tab", "GET / HTTP/1.1\r\n" H "X-A: a\r\n\tb\r\n\r\n", 400),
	BAD("space before first field", "GET / HTTP/1.1\r\n " H "\r\n", 400),

	/* Content-Length and Transfer-Encoding */
	BAD("two equal Content-Length", "POST /x HTTP/1.1\r\n" H "Content-Length: 5\r\n"
	                                "Content-Length: 5\r\n\r\n", 400),
	BAD("two Content-Length", "POST /x HTTP/1.1\r\n" H "Content-Length: 5\r\n"
	                          "Content-Length: 6\r\n\r\n", 400),
	BAD("Content-Length list", "POST /x HTTP/1.1\r\n" H "Content-Length: 5, 5\r\n\r\n", 400),
	BAD("Content-Length sign", "POST /x HTTP/1.1\r\n" H "Content-Length: +5\r\n\r\n", 400),
	BAD("Content-Length negative", "POST /x HTTP/1.1\r\n" H "Content-Length: -1\r\n\r\n", 400),
	BAD("Content-Length inner space", "POST /x HTTP/1.1\r\n" H "Content-Length: 1 2\r\n\r\n",
	    400),
	BAD("Content-Length empty", "POST /x HTTP/1.1\r\n" H "Content-Length:\r\n\r\n", 400),
	BAD("Content-Length hex", "POST /x HTTP/1.1\r\n" H "Content-Length: 0x10\r\n\r\n", 400),
	BAD("Content-Length 16 digits", "POST /x HTTP/1.1\r\n" H
	                                "Content-Length: 1000000000000000\r\n\r\n", 400),
	BAD("Content-Length overflow", "POST /x HTTP/1.1\r\n" H
	                               "Content-Length: 18446744073709551617\r\n\r\n", 400),
	BAD("CL then TE", "POST /x HTTP/1.1\r\n" H "Content-Length: 5\r\n"
	                  "Transfer-Encoding: chunked\r\n\r\n", 400),
	BAD("TE then CL", "POST /x HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n"
	                  "Content-Length: 5\r\n\r\n", 400),
	BAD("TE space colon", "POST /x HTTP/1.1\r\n" H "Content-Length: 5\r\n"
	                      "Transfer-Encoding : chunked\r\n\r\n", 400),
	BAD("TE and CL any case", "POST /x HTTP/1.1\r\n" H "content-LENGTH: 5\r\n"
	                          "tRANSFER-eNCODING: chunked\r\n\r\n", 400),
	BAD("TE alone", "POST /x HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n", 411),
	BAD("TE identity", "POST /x HTTP/1.1\r\n" H "transfer-encoding: identity\r\n\r\n", 411),
	BAD("TE on GET", "GET / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n", 411),
	BAD("POST without length", "POST /x HTTP/1.1\r\n" H "\r\n", 411),
	BAD("GET with body", "GET / HTTP/1.1\r\n" H "Content-Length: 5\r\n\r\n", 400),
	BAD("HEAD with body", "HEAD / HTTP/1.1\r\n" H "Content-Length: 1\r\n\r\n", 400),

	/* Host */
	BAD("missing Host", "GET / HTTP/1.1\r\n\r\n", 400),
	BAD("two Host", "GET / HTTP/1.1\r\n" H H "\r\n", 400),
	BAD("two Host on 1.0", "GET / HTTP/1.0\r\n" H H "\r\n", 400),
	BAD("empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", 400),
	BAD("Host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
	BAD("Host with slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
	BAD("Host with userinfo", "GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", 400),
	BAD("Host empty port", "GET / HTTP/1.1\r\nHost: a:\r\n\r\n", 400),
	BAD("Host port too big", "GET / HTTP/1.1\r\nHost: a:65536\r\n\r\n", 400),
	BAD("Host port 6 digits", "GET / HTTP/1.1\r\nHost: a:000080\r\n\r\n", 400),
	BAD("Host IPv6 open", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400),
	BAD("Host IPv6 empty", "GET / HTTP/1.1\r\nHost: []\r\n\r\n", 400),
	BAD("Host two ports", "GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n", 400),
	BAD("Host IPv6 non-hex", "GET / HTTP/1.1\r\nHost: [::g]\r\n\r\n", 400),

	/* Connection, Expect, Content-Type */
	BAD("Connection not a token", "GET / HTTP/1.1\r\n" H "Connection: close;x\r\n\r\n", 400),
	BAD("Expect other", "POST /x HTTP/1.1\r\n" H "Expect: 200-ok\r\nContent-Length: 1\r\n\r\n",
	    417),
	BAD("Expect list", "POST /x HTTP/1.1\r\n" H "Expect: 100-continue, x\r\n"
	                   "Content-Length: 1\r\n\r\n", 417),
	BAD("two Content-Type", "POST /x HTTP/1.1\r\n" H "Content-Type: a/b\r\nContent-Type: c/d\r\n"
	                        "Content-Length: 1\r\n\r\n", 400),
};

static void test_table(void **state)
{
	size_t good = 0, bad = 0;
	(void)state;

	for (size_t i = 0; i < HX_ARRAY_SIZE(cases); i++) {
		const struct parse_case *c = &cases[i];
		struct run r;

		run_parse(&r, c->head, c->len);
		if (c->status == 0) {
			if (r.res != HTTP_PARSE_DONE)
				fail_msg("%s: %s %d (%s), want DONE", c->name, res_name(r.res),
				         r.status, r.why != NULL ? r.why : "");
			if (r.req.head_len != c->len)
				fail_msg("%s: head_len %zu, want %zu", c->name, r.req.head_len, c->len);
			if (r.status != -1 || r.why != NULL)
				fail_msg("%s: status or why written on DONE", c->name);
			good++;
		} else {
			if (r.res != HTTP_PARSE_ERROR || r.status != c->status)
				fail_msg("%s: %s %d (%s), want ERROR %d", c->name, res_name(r.res),
				         r.status, r.why != NULL ? r.why : "", c->status);
			check_why(&r, c->name);
			bad++;
		}
		run_free(&r);
	}
	assert_true(good >= 30);
	assert_true(bad >= 100);
}

/* A prefix of a good head is MORE, never DONE early or ERROR; the whole head then gives the
 * same request as parsing it at once. A prefix of a bad head is MORE or the same error. */
static void test_prefixes(void **state)
{
	(void)state;

	for (size_t i = 0; i < HX_ARRAY_SIZE(cases); i++) {
		const struct parse_case *c = &cases[i];
		struct run whole;

		run_parse(&whole, c->head, c->len);
		for (size_t k = 0; k < c->len; k++) {
			struct run r;

			run_parse(&r, c->head, k);
			if (c->status == 0 && r.res != HTTP_PARSE_MORE)
				fail_msg("%s: prefix %zu/%zu gives %s %d, want MORE", c->name, k, c->len,
				         res_name(r.res), r.status);
			if (c->status != 0 && r.res == HTTP_PARSE_DONE)
				fail_msg("%s: prefix %zu gives DONE", c->name, k);
			if (c->status != 0 && r.res == HTTP_PARSE_ERROR && r.status != c->status)
				fail_msg("%s: prefix %zu gives %d, the whole %d", c->name, k, r.status,
				         c->status);
			run_free(&r);
		}
		if (c->status == 0) {
			assert_int_equal(whole.res, HTTP_PARSE_DONE);
			assert_int_equal(whole.req.head_len, c->len);
		}
		run_free(&whole);
	}
}

/* ---- fields ---------------------------------------------------------------------------- */

static void test_get_fields(void **state)
{
	static const char in[] = "GET /hie/v1/health HTTP/1.1\r\nHost: node.example:7443\r\n"
	                         "User-Agent: hiepeer/0.1\r\n\r\n";
	struct run r;
	(void)state;

	run_parse(&r, in, sizeof(in) - 1);
	assert_int_equal(r.res, HTTP_PARSE_DONE);
	assert_int_equal(r.req.method, HTTP_METHOD_GET);
	assert_string_equal(http_method_name(r.req.method), "GET");
	assert_true(str_equal(r.req.path, r.req.path_len, "/hie/v1/health"));
	assert_true(r.req.path == r.buf + 4);
	assert_null(r.req.query);
	assert_int_equal(r.req.query_len, 0);
	assert_int_equal(r.req.minor, 1);
	assert_int_equal(r.req.n_headers, 2);
	assert_true(str_equal(r.req.headers[1].name, r.req.headers[1].name_len, "User-Agent"));
	assert_true(str_equal(r.req.headers[1].value, r.req.headers[1].value_len, "hiepeer/0.1"));
	assert_true(str_equal(r.req.host, r.req.host_len, "node.example:7443"));
	assert_false(r.req.has_length);
	assert_int_equal(r.req.content_length, 0);
	assert_true(r.req.keep_alive);
	assert_false(r.req.expect_continue);
	assert_null(r.req.content_type);
	assert_int_equal(r.req.head_len, sizeof(in) - 1);
	run_free(&r);
}

static void test_post_fields(void **state)
{
	static const char in[] = "\r\nPOST /hie/v1/documents/query HTTP/1.1\r\nhost: [::1]:7443\r\n"
	                         "content-type:  application/x-protobuf \t\r\n"
	                         "Expect: 100-continue\r\nContent-Length: 000123456789012\r\n\r\n";
	struct run r;
	(void)state;

	run_parse(&r, in, sizeof(in) - 1);
	assert_int_equal(r.res, HTTP_PARSE_DONE);
	assert_int_equal(r.req.method, HTTP_METHOD_POST);
	assert_true(str_equal(r.req.path, r.req.path_len, "/hie/v1/documents/query"));
	assert_true(str_equal(r.req.host, r.req.host_len, "[::1]:7443"));
	assert_true(str_equal(r.req.content_type, r.req.content_type_len, "application/x-protobuf"));
	assert_true(r.req.has_length);
	assert_int_equal(r.req.content_length, 123456789012ULL);
	assert_true(r.req.expect_continue);
	assert_true(r.req.keep_alive);
	assert_int_equal(r.req.n_headers, 4);
	assert_int_equal(r.req.head_len, sizeof(in) - 1); /* the ignored CRLF counts */
	run_free(&r);

	/* The largest length, and 100-continue ignored on HTTP/1.0. */
	static const char in10[] = "POST /x HTTP/1.0\r\nExpect: 100-continue\r\n"
	                           "Content-Length: 999999999999999\r\n\r\n";
	run_parse(&r, in10, sizeof(in10) - 1);
	assert_int_equal(r.res, HTTP_PARSE_DONE);
	assert_int_equal(r.req.content_length, 999999999999999ULL);
	assert_false(r.req.expect_continue);
	assert_false(r.req.keep_alive);
	assert_null(r.req.host);
	run_free(&r);
}

static void test_query(void **state)
{
	static const struct {
		const char *target, *path, *query; /* query NULL: none */
	} q[] = {
		{"/a", "/a", NULL},
		{"/a?", "/a", ""},
		{"/?x", "/", "x"},
		{"/fhir/Patient?name=a%20b&_count=5", "/fhir/Patient", "name=a%20b&_count=5"},
		{"/a/?b=/c/../d", "/a/", "b=/c/../d"}, /* the query is not a path */
		{"/a?b=%2e%2E", "/a", "b=%2e%2E"},
	};
	(void)state;

	for (size_t i = 0; i < HX_ARRAY_SIZE(q); i++) {
		char in[256];
		struct run r;
		int n = snprintf(in, sizeof(in), "GET %s HTTP/1.1\r\nHost: a\r\n\r\n", q[i].target);

		run_parse(&r, in, (size_t)n);
		if (r.res != HTTP_PARSE_DONE)
			fail_msg("%s: %s %d", q[i].target, res_name(r.res), r.status);
		assert_true(str_equal(r.req.path, r.req.path_len, q[i].path));
		if (q[i].query == NULL)
			assert_null(r.req.query);
		else
			assert_true(str_equal(r.req.query, r.req.query_len, q[i].query));
		run_free(&r);
	}
}

static void test_keep_alive(void **state)
{
	static const struct {
		int minor;
		const char *connection; /* NULL: no Connection field */
		int keep_alive;
	} k[] = {
		{1, NULL, 1},
		{0, NULL, 0},
		{1, "close", 0},
		{1, "CLOSE", 0},
		{1, "keep-alive", 1},
		{0, "keep-alive", 1},
		{0, "Keep-Alive", 1},
		{0, "close", 0},
		{0, "keep-alive, close", 0},
		{1, "close, keep-alive", 0},
		{1, "upgrade", 1},
		{0, "upgrade", 0},
		{1, "closed", 1},
		{0, "keep-alives", 0},
		{1, " , Upgrade,close", 0},
	};
	(void)state;

	for (size_t i = 0; i < HX_ARRAY_SIZE(k); i++) {
		char in[256], conn[128] = "";
		struct run r;
		int n;

		if (k[i].connection != NULL)
			snprintf(conn, sizeof(conn), "Connection: %s\r\n", k[i].connection);
		n = snprintf(in, sizeof(in), "GET / HTTP/1.%d\r\nHost: a\r\n%s\r\n", k[i].minor, conn);
		run_parse(&r, in, (size_t)n);
		assert_int_equal(r.res, HTTP_PARSE_DONE);
		if (r.req.keep_alive != k[i].keep_alive)
			fail_msg("HTTP/1.%d Connection: %s: keep_alive %d", k[i].minor,
			         k[i].connection != NULL ? k[i].connection : "(none)", r.req.keep_alive);
		run_free(&r);
	}

	/* Two Connection fields add up. */
	static const char two[] = "GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n"
	                          "\r\n";
	struct run r;
	run_parse(&r, two, sizeof(two) - 1);
	assert_int_equal(r.res, HTTP_PARSE_DONE);
	assert_false(r.req.keep_alive);
	run_free(&r);
}

static void test_header_lookup(void **state)
{
	static const char in[] = "GET / HTTP/1.1\r\nHost: a\r\nX-Trace: one\r\nx-trace: two\r\n"
	                         "Hos: no\r\n\r\n";
	const struct http_header *h;
	struct run r;
	(void)state;

	run_parse(&r, in, sizeof(in) - 1);
	assert_int_equal(r.res, HTTP_PARSE_DONE);
	h = http_request_header(&r.req, "X-TRACE");
	assert_non_null(h);
	assert_true(str_equal(h->value, h->value_len, "one")); /* the first */
	h = http_request_header(&r.req, "hos");
	assert_non_null(h);
	assert_true(str_equal(h->value, h->value_len, "no"));
	h = http_request_header(&r.req, "host");
	assert_true(str_equal(h->value, h->value_len, "a"));
	assert_null(http_request_header(&r.req, "Ho"));
	assert_null(http_request_header(&r.req, "Hostx"));
	assert_null(http_request_header(&r.req, ""));
	assert_string_equal(http_method_name(HTTP_METHOD_HEAD), "HEAD");
	assert_string_equal(http_method_name(HTTP_METHOD_POST), "POST");
	assert_string_equal(http_method_name((enum http_method)0), "?");
	run_free(&r);
}

/* ---- limits ---------------------------------------------------------------------------- */

/* "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ppp...\r\n\r\n" of exactly `total` bytes. */
static char *head_of_size(size_t total)
{
	static const char start[] = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ";
	char *s = malloc(total);
	size_t fixed = sizeof(start) - 1 + 4;

	assert_non_null(s);
	assert_true(total > fixed);
	memcpy(s, start, sizeof(start) - 1);
	memset(s + sizeof(start) - 1, 'p', total - fixed);
	memcpy(s + total - 4, "\r\n\r\n", 4);
	return s;
}

static void test_head_size(void **state)
{
	struct run r;
	char *s;
	(void)state;

	s = head_of_size(HTTP_HEAD_MAX);
	run_parse(&r, s, HTTP_HEAD_MAX);
	assert_int_equal(r.res, HTTP_PARSE_DONE);
	assert_int_equal(r.req.head_len, HTTP_HEAD_MAX);
	run_free(&r);
	free(s);

	/* One byte more: 431, whether the bytes stop there or more follow. */
	s = head_of_size(HTTP_HEAD_MAX + 1);
	run_parse(&r, s, HTTP_HEAD_MAX + 1);
	assert_int_equal(r.res, HTTP_PARSE_ERROR);
	assert_int_equal(r.status, 431);
	run_free(&r);
	run_parse(&r, s, HTTP_HEAD_MAX);
	assert_int_equal(r.res, HTTP_PARSE_ERROR);
	assert_int_equal(r.status, 431);
	run_free(&r);
	run_parse(&r, s, HTTP_HEAD_MAX - 1);
	assert_int_equal(r.res, HTTP_PARSE_MORE);
	run_free(&r);
	free(s);

	/* A good head of 8 KiB followed by a body: DONE, the body is not looked at. */
	s = malloc(HTTP_HEAD_MAX + 100);
	assert_non_null(s);
	char *h = head_of_size(HTTP_HEAD_MAX);
	memcpy(s, h, HTTP_HEAD_MAX);
	memset(s + HTTP_HEAD_MAX, 0, 100);
	run_parse(&r, s, HTTP_HEAD_MAX + 100);
	assert_int_equal(r.res, HTTP_PARSE_DONE);
	assert_int_equal(r.req.head_len, HTTP_HEAD_MAX);
	run_free(&r);
	free(h);
	free(s);
}

/* n fields "X-<i>: v" after Host (so n + 1 fields in all). */
static size_t head_with_fields(char *s, size_t size, size_t n)
{
	size_t len = (size_t)snprintf(s, size, "GET / HTTP/1.1\r\nHost: a\r\n");

	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, size - len, "X-%zu: v\r\n", i);
	len += (size_t)snprintf(s + len, size - len, "\r\n");
	assert_true(len < size);
	return len;
}

static void test_header_count(void **state)
{
	char s[4096];
	struct run r;
	size_t n;
	(void)state;

	n = head_with_fields(s, sizeof(s), HTTP_HEADERS_MAX - 1);
	run_parse(&r, s, n);
	assert_int_equal(r.res, HTTP_PARSE_DONE);
	assert_int_equal(r.req.n_headers, HTTP_HEADERS_MAX);
	assert_true(str_equal(r.req.headers[HTTP_HEADERS_MAX - 1].name,
	                      r.req.headers[HTTP_HEADERS_MAX - 1].name_len, "X-62"));
	run_free(&r);

	n = head_with_fields(s, sizeof(s), HTTP_HEADERS_MAX);
	run_parse(&r, s, n);
	assert_int_equal(r.res, HTTP_PARSE_ERROR);
	assert_int_equal(r.status, 431);
	run_free(&r);

	/* Refused as soon as the 65th field's line is complete. */
	run_parse(&r, s, n - 2);
	assert_int_equal(r.res, HTTP_PARSE_ERROR);
	assert_int_equal(r.status, 431);
	run_free(&r);
}

static void test_request_line_size(void **state)
{
	char s[HTTP_REQUEST_LINE_MAX + 64];
	struct run r;
	size_t path = HTTP_REQUEST_LINE_MAX - strlen("GET  HTTP/1.1"), n;
	(void)state;

	/* A request line of exactly HTTP_REQUEST_LINE_MAX bytes. */
	memcpy(s, "GET /", 5);
	memset(s + 5, 'a', path - 1);
	n = 4 + path;
	n += (size_t)snprintf(s + n, sizeof(s) - n, " HTTP/1.1\r\nHost: a\r\n\r\n");
	run_parse(&r, s, n);
	assert_int_equal(r.res, HTTP_PARSE_DONE);
	assert_int_equal(r.req.path_len, path);
	run_free(&r);

	/* One byte more. */
	memcpy(s, "GET /", 5);
	memset(s + 5, 'a', path);
	n = 4 + path + 1;
	n += (size_t)snprintf(s + n, sizeof(s) - n, " HTTP/1.1\r\nHost: a\r\n\r\n");
	run_parse(&r, s, n);
	assert_int_equal(r.res, HTTP_PARSE_ERROR);
	assert_int_equal(r.status, 414);
	check_why(&r, "request line + 1");
	run_free(&r);

	/* An overlong target is refused before its line ends, and a query counts too. */
	memset(s, 'a', sizeof(s));
	memcpy(s, "GET /a?", 7);
	run_parse(&r, s, HTTP_REQUEST_LINE_MAX + 1);
	assert_int_equal(r.res, HTTP_PARSE_ERROR);
	assert_int_equal(r.status, 414);
	run_free(&r);
	run_parse(&r, s, HTTP_REQUEST_LINE_MAX);
	assert_int_equal(r.res, HTTP_PARSE_MORE);
	run_free(&r);
}

/* ---- framing --------------------------------------------------------------------------- */

/* head_len is exact: the body and a pipelined request follow; each is parsed in turn. */
static void test_pipelined(void **state)
{
	static const char in[] = "POST /hie/v1/rls/locate HTTP/1.1\r\nHost: a\r\n"
	                         "Content-Length: 5\r\n\r\nhello"
	                         "GET /hie/v1/health HTTP/1.1\r\nHost: a\r\n\r\n"
	                         "GET /next HTTP/1.1\r\nHo";
	const size_t first = sizeof("POST /hie/v1/rls/locate HTTP/1.1\r\nHost: a\r\n"
	                            "Content-Length: 5\r\n\r\n") - 1;
	const size_t second = sizeof("GET /hie/v1/health HTTP/1.1\r\nHost: a\r\n\r\n") - 1;
	struct http_request req;
	int status = 0;
	const char *why = NULL;
	const char *p = in;
	size_t left = sizeof(in) - 1;
	(void)state;

	assert_int_equal(http_request_parse(p, left, &req, &status, &why), HTTP_PARSE_DONE);
	assert_int_equal(req.head_len, first);
	assert_int_equal(req.content_length, 5);
	assert_memory_equal(p + req.head_len, "hello", 5);
	p += req.head_len + req.content_length;
	left -= req.head_len + req.content_length;

	assert_int_equal(http_request_parse(p, left, &req, &status, &why), HTTP_PARSE_DONE);
	assert_int_equal(req.head_len, second);
	assert_true(str_equal(req.path, req.path_len, "/hie/v1/health"));
	p += req.head_len;
	left -= req.head_len;

	assert_int_equal(http_request_parse(p, left, &req, &status, &why), HTTP_PARSE_MORE);
	assert_int_equal(status, 0);
	assert_null(why);
}

/* Garbage is refused before a line is complete; an empty buffer is MORE. */
static void test_early_refusal(void **state)
{
	static const struct {
		const char *name, *in;
		size_t len;
	} e[] = {
		{"TLS record", "\x16\x03\x01\x02\x00\x01", 6},
		{"NUL", "GET /\0", 6},
		{"partial field NUL", "GET / HTTP/1.1\r\nHost: a\r\nX: \0", 29},
		{"bare CR", "GET / HT\rTP", 11},
		{"bare LF", "GET / HTTP/1.1\n", 15},
	};
	struct http_request req;
	int status = 0;
	const char *why = NULL;
	(void)state;

	for (size_t i = 0; i < HX_ARRAY_SIZE(e); i++) {
		struct run r;
		run_parse(&r, e[i].in, e[i].len);
		if (r.res != HTTP_PARSE_ERROR || r.status != 400)
			fail_msg("%s: %s %d", e[i].name, res_name(r.res), r.status);
		run_free(&r);
	}
	assert_int_equal(http_request_parse(NULL, 0, &req, &status, &why), HTTP_PARSE_MORE);
	assert_int_equal(http_request_parse("\r", 1, &req, &status, &why), HTTP_PARSE_MORE);
	assert_int_equal(http_request_parse("\r\n", 2, &req, &status, &why), HTTP_PARSE_MORE);
	assert_int_equal(http_request_parse("\r\n\r", 3, &req, &status, &why), HTTP_PARSE_MORE);
	assert_int_equal(status, 0);
}

/* The reason names the rule that was broken (it becomes the Error message's text). */
static void test_reasons(void **state)
{
	static const struct {
		const char *in, *why;
	} w[] = {
		{"GET / HTTP/1.1\nHost: a\n\n", "line not ended by CRLF"},
		{"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", "obsolete line folding"},
		{"GET / HTTP/1.1\r\nHost: a\r\n: a\r\n\r\n", "empty header field name"},
		{"GET / HTTP/1.1\r\nHost: a\r\nX: \x01\r\n\r\n", "control character in request head"},
		{"GET / HTTP/1.1\r\nHost: a\r\nX: \rb\r\n\r\n", "bare CR in request head"},
		{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
		 "bodies must have a Content-Length"},
		{"GET / HTTP/1.1\r\n\r\n", "missing Host"},
	};
	(void)state;

	for (size_t i = 0; i < HX_ARRAY_SIZE(w); i++) {
		struct run r;
		run_parse(&r, w[i].in, strlen(w[i].in));
		assert_int_equal(r.res, HTTP_PARSE_ERROR);
		assert_non_null(r.why);
		assert_string_equal(r.why, w[i].why);
		run_free(&r);
	}
}

/* *req is written only on DONE, *status and *why only on ERROR. */
static void test_untouched(void **state)
{
	static const char bad[] = "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n";
	static const char good[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	struct http_request req, pattern;
	int status = 7;
	const char *why = "unchanged";
	(void)state;

	memset(&pattern, 0xa5, sizeof(pattern));
	memcpy(&req, &pattern, sizeof(req));
	assert_int_equal(http_request_parse(bad, sizeof(bad) - 1, &req, &status, &why),
	                 HTTP_PARSE_ERROR);
	assert_memory_equal(&req, &pattern, sizeof(req));
	assert_int_equal(status, 400);

	status = 7;
	why = "unchanged";
	assert_int_equal(http_request_parse(good, sizeof(good) - 2, &req, &status, &why),
	                 HTTP_PARSE_MORE);
	assert_memory_equal(&req, &pattern, sizeof(req));
	assert_int_equal(http_request_parse(good, sizeof(good) - 1, &req, &status, &why),
	                 HTTP_PARSE_DONE);
	assert_int_equal(status, 7);
	assert_string_equal(why, "unchanged");
	assert_int_equal(req.head_len, sizeof(good) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_get_fields),
		cmocka_unit_test(test_post_fields),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_keep_alive),
		cmocka_unit_test(test_header_lookup),
		cmocka_unit_test(test_head_size),
		cmocka_unit_test(test_header_count),
		cmocka_unit_test(test_request_line_size),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_early_refusal),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_untouched),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
