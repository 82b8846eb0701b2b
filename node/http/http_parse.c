/*
 * http_parse.c: the strict HTTP/1.1 request-head parser (the rules are in http_parse.h).
 *
 * One pass, line by line. next_line() finds the next CRLF-terminated line and refuses, on
 * the way and also in a line still incomplete, control characters, a bare CR or LF and an
 * overlong request line. The first line goes to parse_request_line(), each further one to
 * parse_field(), which hands the fields the node interprets to their handler in
 * field_table; finish() applies the rules that need the whole head. Everything is built in
 * a struct parse on the stack and copied to the caller only on DONE.
 */
#include <stdint.h>
#include <string.h>

#include "http_parse.h"
#include "hx.h"

struct parse {
	struct http_request req;
	int status;
	const char *why;
	int n_type;              /* Content-Type fields */
	int n_te;                /* Transfer-Encoding fields */
	int conn_close;          /* a "close" connection option */
	int conn_keep_alive;     /* a "keep-alive" connection option */
	int expect_continue;     /* "Expect: 100-continue" */
};

enum line_result { LINE_OK, LINE_MORE, LINE_ERROR };

static int fail(struct parse *p, int status, const char *why)
{
	p->status = status;
	p->why = why;
	return -1;
}

/* ---- characters ------------------------------------------------------------------------ */

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int hex_value(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int is_in(char c, const char *set)
{
	return c != '\0' && strchr(set, c) != NULL;
}

/* RFC 9110 tchar: what a method, a field name and a connection option are made of. */
static int is_tchar(char c)
{
	return is_alnum(c) || is_in(c, "!#$%&'*+-.^_`|~");
}

/* RFC 3986 unreserved. */
static int is_unreserved(char c)
{
	return is_alnum(c) || is_in(c, "-._~");
}

static int is_path_char(char c)
{
	return is_unreserved(c) || c == '/';
}

/* A query character other than '%' (which must start a %XX escape). */
static int is_query_char(char c)
{
	return is_unreserved(c) || is_in(c, "&=+,:@/");
}

static int is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* s[0..n) equals the NUL-terminated lit, ASCII case-insensitively. */
static int ci_equal(const char *s, size_t n, const char *lit)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (lit[i] == '\0' || ascii_lower(s[i]) != ascii_lower(lit[i]))
			return 0;
	return lit[n] == '\0';
}

/* ---- lines ----------------------------------------------------------------------------- */

/*
 * The line starting at buf[pos] within buf[0..lim): LINE_OK with its content (without the
 * CRLF) at buf[pos..pos + *n); LINE_MORE if its end is not in sight yet; LINE_ERROR for a
 * control character other than HTAB, a CR not followed by LF, a LF not preceded by CR, or
 * content longer than max (414: only the request line has a length of its own).
 */
static enum line_result next_line(struct parse *p, const char *buf, size_t lim, size_t pos,
                                  size_t max, size_t *n)
{
	for (size_t i = pos; i < lim; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\r') {
			if (i + 1 == lim)
				return LINE_MORE;
			if (buf[i + 1] != '\n') {
				fail(p, 400, "bare CR in request head");
				return LINE_ERROR;
			}
			*n = i - pos;
			return LINE_OK;
		}
		if (c == '\n') {
			fail(p, 400, "line not ended by CRLF");
			return LINE_ERROR;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			fail(p, 400, "control character in request head");
			return LINE_ERROR;
		}
		if (i - pos >= max) {
			fail(p, 414, "request line too long");
			return LINE_ERROR;
		}
	}
	return LINE_MORE;
}

/* ---- request line ---------------------------------------------------------------------- */

static const struct {
	const char *name;
	enum http_method method;
} method_table[] = {
	{"GET", HTTP_METHOD_GET},
	{"POST", HTTP_METHOD_POST},
	{"HEAD", HTTP_METHOD_HEAD},
};

/* Path characters only; no empty segment but a last one ("//"), no "." or ".." segment. */
static int check_path(const char *s, size_t n)
{
	size_t seg = 1; /* start of the current segment, after s[0] == '/' */

	for (size_t i = 1; i <= n; i++) {
		size_t len;

		if (i < n && s[i] != '/') {
			if (!is_path_char(s[i]))
				return -1;
			continue;
		}
		len = i - seg;
		if (len == 0 && i < n)
			return -1;
		if (len >= 1 && len <= 2 && s[seg] == '.' && (len == 1 || s[seg + 1] == '.'))
			return -1;
		seg = i + 1;
	}
	return 0;
}

/* Query characters and %XX escapes, none of them encoding a control character. */
static int check_query(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi, lo, v;

		if (s[i] != '%') {
			if (!is_query_char(s[i]))
				return -1;
			continue;
		}
		if (n - i < 3)
			return -1;
		hi = hex_value(s[i + 1]);
		lo = hex_value(s[i + 2]);
		if (hi < 0 || lo < 0)
			return -1;
		v = hi * 16 + lo;
		if (v < 0x20 || v == 0x7f)
			return -1;
		i += 2;
	}
	return 0;
}

static int parse_target(struct parse *p, const char *s, size_t n)
{
	const char *q = memchr(s, '?', n);
	size_t path_len = q != NULL ? (size_t)(q - s) : n;

	if (s[0] != '/')
		return fail(p, 400, "request target is not an absolute path");
	if (check_path(s, path_len) != 0)
		return fail(p, 400, "bad request path");
	if (q != NULL && check_query(q + 1, n - path_len - 1) != 0)
		return fail(p, 400, "bad query string");
	p->req.path = s;
	p->req.path_len = path_len;
	if (q != NULL) {
		p->req.query = q + 1;
		p->req.query_len = n - path_len - 1;
	}
	return 0;
}

/* METHOD SP target SP HTTP/1.x, in s[0..n) (without CRLF). */
static int parse_request_line(struct parse *p, const char *s, size_t n)
{
	const char *end = s + n, *sp1, *sp2, *v;
	size_t i;

	sp1 = memchr(s, ' ', n);
	sp2 = sp1 != NULL ? memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1)) : NULL;
	if (sp2 == NULL || sp1 == s || sp2 == sp1 + 1)
		return fail(p, 400, "malformed request line");
	for (v = s; v < sp1; v++)
		if (!is_tchar(*v))
			return fail(p, 400, "malformed request line");

	v = sp2 + 1;
	if (end - v != 8 || memcmp(v, "HTTP/", 5) != 0 || !is_digit(v[5]) || v[6] != '.' ||
	    !is_digit(v[7]))
		return fail(p, 400, "malformed HTTP version");
	if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
		return fail(p, 505, "HTTP version not supported");
	p->req.minor = v[7] - '0';

	for (i = 0; i < HX_ARRAY_SIZE(method_table); i++)
		if (strlen(method_table[i].name) == (size_t)(sp1 - s) &&
		    memcmp(method_table[i].name, s, (size_t)(sp1 - s)) == 0)
			break;
	if (i == HX_ARRAY_SIZE(method_table))
		return fail(p, 501, "method not implemented");
	p->req.method = method_table[i].method;

	return parse_target(p, sp1 + 1, (size_t)(sp2 - sp1 - 1));
}

/* ---- header fields --------------------------------------------------------------------- */

static int field_content_length(struct parse *p, const char *v, size_t n)
{
	uint64_t x = 0;

	if (p->req.has_length)
		return fail(p, 400, "more than one Content-Length");
	if (n == 0 || n > HTTP_CONTENT_LENGTH_DIGITS)
		return fail(p, 400, "bad Content-Length");
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(v[i]))
			return fail(p, 400, "bad Content-Length");
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	p->req.has_length = 1;
	p->req.content_length = x;
	return 0;
}

static int field_transfer_encoding(struct parse *p, const char *v, size_t n)
{
	(void)v;
	(void)n;
	p->n_te++;
	return 0;
}

/* reg-name (unreserved characters) or "[" IPv6 characters "]", then optionally ":port". */
static int check_host(const char *v, size_t n)
{
	size_t i = 0, digits;
	unsigned long port = 0;

	if (n > 0 && v[0] == '[') {
		for (i = 1; i < n && (hex_value(v[i]) >= 0 || v[i] == ':' || v[i] == '.'); i++)
			;
		if (i == 1 || i == n || v[i] != ']')
			return -1;
		i++;
	} else {
		while (i < n && is_unreserved(v[i]))
			i++;
		if (i == 0)
			return -1;
	}
	if (i == n)
		return 0;
	if (v[i++] != ':')
		return -1;
	digits = n - i;
	if (digits == 0 || digits > 5)
		return -1;
	for (; i < n; i++) {
		if (!is_digit(v[i]))
			return -1;
		port = port * 10 + (unsigned long)(v[i] - '0');
	}
	return port <= 65535 ? 0 : -1;
}

static int field_host(struct parse *p, const char *v, size_t n)
{
	if (p->req.host != NULL)
		return fail(p, 400, "more than one Host");
	if (check_host(v, n) != 0)
		return fail(p, 400, "bad Host");
	p->req.host = v;
	p->req.host_len = n;
	return 0;
}

/* A comma-separated list of connection options; empty elements are allowed (RFC 9110 §5.6.1). */
static int field_connection(struct parse *p, const char *v, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		size_t a = start, b = i;

		if (i < n && v[i] != ',')
			continue;
		start = i + 1;
		while (a < b && is_ows(v[a]))
			a++;
		while (b > a && is_ows(v[b - 1]))
			b--;
		for (size_t k = a; k < b; k++)
			if (!is_tchar(v[k]))
				return fail(p, 400, "bad Connection");
		if (ci_equal(v + a, b - a, "close"))
			p->conn_close = 1;
		else if (ci_equal(v + a, b - a, "keep-alive"))
			p->conn_keep_alive = 1;
	}
	return 0;
}

static int field_expect(struct parse *p, const char *v, size_t n)
{
	if (!ci_equal(v, n, "100-continue"))
		return fail(p, 417, "expectation not supported");
	p->expect_continue = 1;
	return 0;
}

static int field_content_type(struct parse *p, const char *v, size_t n)
{
	if (p->n_type++ > 0)
		return fail(p, 400, "more than one Content-Type");
	p->req.content_type = v;
	p->req.content_type_len = n;
	return 0;
}

/* The fields the parser interprets (names in any case); the others are only collected. */
static const struct {
	const char *name;
	int (*handle)(struct parse *p, const char *value, size_t value_len);
} field_table[] = {
	{"Host", field_host},
	{"Content-Length", field_content_length},
	{"Transfer-Encoding", field_transfer_encoding},
	{"Connection", field_connection},
	{"Expect", field_expect},
	{"Content-Type", field_content_type},
};

/* name ":" OWS value OWS, in s[0..n) with n > 0 (control characters already refused). */
static int parse_field(struct parse *p, const char *s, size_t n)
{
	struct http_header *h;
	size_t i = 0, vs, ve;

	if (is_ows(s[0]))
		return fail(p, 400, "obsolete line folding");
	while (i < n && is_tchar(s[i]))
		i++;
	if (i < n && s[i] == ':' && i == 0)
		return fail(p, 400, "empty header field name");
	if (i == 0 || i == n || s[i] != ':')
		return fail(p, 400, "malformed header field name");
	for (vs = i + 1; vs < n && is_ows(s[vs]); vs++)
		;
	for (ve = n; ve > vs && is_ows(s[ve - 1]); ve--)
		;
	if (p->req.n_headers == HTTP_HEADERS_MAX)
		return fail(p, 431, "too many header fields");
	h = &p->req.headers[p->req.n_headers++];
	h->name = s;
	h->name_len = i;
	h->value = s + vs;
	h->value_len = ve - vs;

	for (size_t k = 0; k < HX_ARRAY_SIZE(field_table); k++)
		if (ci_equal(s, i, field_table[k].name))
			return field_table[k].handle(p, h->value, h->value_len);
	return 0;
}

/* ---- the head -------------------------------------------------------------------------- */

/* The rules that need the whole head. */
static int finish(struct parse *p)
{
	struct http_request *r = &p->req;

	if (p->n_te > 0 && r->has_length)
		return fail(p, 400, "Transfer-Encoding with Content-Length");
	if (p->n_te > 0)
		return fail(p, 411, "bodies must have a Content-Length");
	if (r->minor == 1 && r->host == NULL)
		return fail(p, 400, "missing Host");
	if (r->method == HTTP_METHOD_POST && !r->has_length)
		return fail(p, 411, "POST needs a Content-Length");
	if (r->method != HTTP_METHOD_POST && r->content_length != 0)
		return fail(p, 400, "GET and HEAD take no body");
	if (r->minor == 1)
		r->keep_alive = !p->conn_close;
	else
		r->keep_alive = p->conn_keep_alive && !p->conn_close;
	r->expect_continue = r->minor == 1 && p->expect_continue;
	return 0;
}

enum http_parse_result http_request_parse(const char *buf, size_t len, struct http_request *req,
                                          int *status, const char **why)
{
	struct parse p;
	size_t lim = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX, pos = 0, n = 0;
	enum line_result r;

	memset(&p, 0, sizeof(p));
	/* RFC 9112 §2.2: one empty line before the request line is ignored. */
	if (lim >= 2 && buf[0] == '\r' && buf[1] == '\n')
		pos = 2;
	r = next_line(&p, buf, lim, pos, HTTP_REQUEST_LINE_MAX, &n);
	if (r == LINE_OK && n == 0) {
		fail(&p, 400, "empty lines before the request line");
		r = LINE_ERROR;
	}
	if (r == LINE_OK && parse_request_line(&p, buf + pos, n) != 0)
		r = LINE_ERROR;
	while (r == LINE_OK) {
		pos += n + 2;
		r = next_line(&p, buf, lim, pos, SIZE_MAX, &n);
		if (r != LINE_OK)
			break;
		if (n == 0) {
			if (finish(&p) != 0) {
				r = LINE_ERROR;
				break;
			}
			p.req.head_len = pos + 2;
			*req = p.req;
			return HTTP_PARSE_DONE;
		}
		if (parse_field(&p, buf + pos, n) != 0)
			r = LINE_ERROR;
	}
	if (r == LINE_MORE && len >= HTTP_HEAD_MAX)
		fail(&p, 431, "request head too large");
	else if (r == LINE_MORE)
		return HTTP_PARSE_MORE;
	*status = p.status;
	*why = p.why;
	return HTTP_PARSE_ERROR;
}

const struct http_header *http_request_header(const struct http_request *req, const char *name)
{
	for (size_t i = 0; i < req->n_headers; i++)
		if (ci_equal(req->headers[i].name, req->headers[i].name_len, name))
			return &req->headers[i];
	return NULL;
}

const char *http_method_name(enum http_method method)
{
	for (size_t i = 0; i < HX_ARRAY_SIZE(method_table); i++)
		if (method_table[i].method == method)
			return method_table[i].name;
	return "?";
}
