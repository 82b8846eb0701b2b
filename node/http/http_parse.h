/*
 * node/http/http_parse.h: the strict HTTP/1.1 request-head parser of the node's own
 * connection layer.
 *
 * The node does not use libevent's evhttp: its parser is lenient (unlimited heads and
 * bodies, differing duplicate Content-Length accepted, "Transfer-Encoding : chunked"
 * desynchronising the connection, NUL in values, no Host required, "..", "%00" and CRLF
 * passed through). This one accepts a small, safe subset of RFC 9110/9112 and refuses
 * everything else with a status.
 *
 * It parses one request head (request line, header fields, blank line) and nothing else: the
 * body and any pipelined request after it are the caller's. It never reads past len, never
 * writes to the buffer, never allocates, and runs in O(len) time (it looks at no more than
 * the first HTTP_HEAD_MAX bytes). It keeps no state: call it again over the whole buffer when
 * more bytes arrive. A head only completes with a LF, so a caller reading in small pieces
 * need only call it when the new bytes hold a '\n' or the buffer has reached HTTP_HEAD_MAX
 * bytes; a head has at most HTTP_HEADERS_MAX + 3 lines, so a client sending one byte at a
 * time then costs at most that many parses, not one per byte.
 *
 * What is accepted (anything else is an ERROR with the status in brackets):
 *
 *  Lines      Every line ends in CRLF; a bare LF, a CR not followed by LF, NUL, DEL or any
 *             other control character except HTAB (in field values only) [400]. At most one
 *             empty line (CRLF) before the request line is ignored; a second one [400].
 *  Request    METHOD SP target SP HTTP/1.x CRLF with exactly one SP between the three parts
 *  line       [400]; at most HTTP_REQUEST_LINE_MAX bytes without the CRLF [414].
 *             Method: GET, POST or HEAD (case-sensitive); another token [501], not a token
 *             [400]. Version: exactly "HTTP/" DIGIT "." DIGIT [400]; HTTP/1.1 and HTTP/1.0
 *             only [505]. Checked in the order: syntax, version, method, target.
 *  Target     origin-form only: begins with '/' (absolute-form, authority-form, '*' [400]).
 *             Path characters A-Z a-z 0-9 / . _ - ~ only (no '%', ';', ':', '#'...); no empty
 *             segment inside the path ("//"), no "." or ".." segment [400]; a trailing '/' is
 *             allowed. Query (after the first '?'): unreserved characters, & = + , : @ / and
 *             %XX with two hex digits, but not an encoded control character (%00-%1F, %7F)
 *             [400].
 *  Fields     name ":" OWS value OWS CRLF. The name is a non-empty token with nothing between
 *             it and the colon ("Transfer-Encoding : x" [400]). A line beginning with SP or
 *             HTAB (obs-fold) [400]. The value is trimmed of SP/HTAB at both ends; it may hold
 *             SP, HTAB, visible ASCII and bytes 0x80-0xFF (RFC 9110 obs-text). At most
 *             HTTP_HEADERS_MAX fields [431]; the whole head, blank line included, at most
 *             HTTP_HEAD_MAX bytes [431].
 *  Content-   1 to 15 digits, nothing else (no sign, space, comma list) [400]; a second
 *  Length     Content-Length, even an equal one [400]. GET or HEAD with a non-zero length
 *             [400]; POST without one [411].
 *  Transfer-  Never accepted: bodies are framed by Content-Length only, which rules out
 *  Encoding   chunked request smuggling. With Content-Length [400], without [411].
 *  Host       Required on HTTP/1.1 (missing [400]), optional on 1.0, never repeated [400].
 *             Value: a name of A-Z a-z 0-9 . - _ ~, or "[" hex digits, ':' and '.' "]", then
 *             optionally ":" and a port of 1-5 digits up to 65535; nothing else, not empty
 *             [400].
 *  Connection Comma-separated tokens, case-insensitive, empty elements ignored, non-token
 *             [400]. "close" clears keep_alive; "keep-alive" sets it on HTTP/1.0. Default:
 *             1 on HTTP/1.1, 0 on HTTP/1.0. "close" wins over "keep-alive".
 *  Expect     "100-continue" (case-insensitive) sets expect_continue on HTTP/1.1 and is
 *             ignored on HTTP/1.0 (RFC 9110 §10.1.1); any other expectation [417].
 *  Content-   At most one [400]; its value is reported as is.
 *  Type
 *
 * The parser never answers 405 (the router knows the routes) or 413 (the router knows each
 * route's body limit: compare content_length with it before reading the body). After an
 * ERROR the connection cannot be resynchronised: answer *status and close it.
 */
#ifndef HX_HTTP_PARSE_H
#define HX_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_HEAD_MAX 8192         /* request line + fields + the blank line, in bytes */
#define HTTP_HEADERS_MAX 64        /* header fields in one head */
#define HTTP_REQUEST_LINE_MAX 2048 /* request line without its CRLF (so path + query < 2 KiB) */
#define HTTP_CONTENT_LENGTH_DIGITS 15

enum http_method {
	HTTP_METHOD_GET = 1,
	HTTP_METHOD_POST,
	HTTP_METHOD_HEAD,
};

/* One header field as received: name and value point into the parsed buffer, are not
 * NUL-terminated, and the value is trimmed of leading and trailing SP/HTAB. */
struct http_header {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

/*
 * A parsed request head. Every pointer points into the buffer given to http_request_parse()
 * and lives as long as those bytes do (the caller must not move or overwrite them while it
 * uses the request). Strings are not NUL-terminated.
 */
struct http_request {
	enum http_method method;
	const char *path;        /* origin-form path without the query; starts with '/' */
	size_t path_len;
	const char *query;       /* the bytes after the first '?' (maybe none: "/a?"); NULL when */
	size_t query_len;        /* the target has no '?'. Still %-encoded: decode before use */
	int minor;               /* HTTP/1.<minor>: 0 or 1 */
	struct http_header headers[HTTP_HEADERS_MAX]; /* in order of arrival */
	size_t n_headers;
	int has_length;          /* a Content-Length field was present */
	uint64_t content_length; /* its value (< 10^15), 0 without one */
	int keep_alive;          /* the connection may carry another request after this one */
	int expect_continue;     /* HTTP/1.1 "Expect: 100-continue": send "100 Continue" before
	                          * reading a non-empty body */
	const char *host;        /* the Host value, or NULL (HTTP/1.0 without Host) */
	size_t host_len;
	const char *content_type; /* the Content-Type value, or NULL */
	size_t content_type_len;
	size_t head_len;         /* bytes of the head, including any ignored leading CRLF and the
	                          * blank line; the body or next request starts at buf[head_len] */
};

enum http_parse_result {
	HTTP_PARSE_DONE,  /* *req holds the head, which is buf[0..req->head_len) */
	HTTP_PARSE_MORE,  /* no error so far, the head is incomplete and len < HTTP_HEAD_MAX */
	HTTP_PARSE_ERROR, /* refuse the request with *status and close the connection */
};

/*
 * Parse the request head at the start of buf[0..len) (len may be 0; buf may then be NULL).
 *
 * DONE: *req is filled in; bytes from buf[req->head_len] on are not looked at.
 * MORE: no error so far and no complete head; len < HTTP_HEAD_MAX. Call again with more.
 * ERROR: *status is the HTTP status to answer (400, 411, 414, 417, 431, 501 or 505) and
 *        *why a short static English reason for the Error message, which never echoes input.
 *        Errors are reported as soon as a complete line shows them (or a partial line holds a
 *        byte that can never be valid, or is already too long), so a client sending garbage is
 *        refused without waiting for HTTP_HEAD_MAX bytes; at HTTP_HEAD_MAX bytes without a
 *        complete head the result is 431.
 * *req is written only on DONE, *status and *why only on ERROR.
 */
enum http_parse_result http_request_parse(const char *buf, size_t len, struct http_request *req,
                                          int *status, const char **why);

/* The first header field named `name` (ASCII case-insensitive, NUL-terminated), or NULL.
 * The result borrows from req (and so from the parsed buffer). */
const struct http_header *http_request_header(const struct http_request *req, const char *name);

/* "GET", "POST", "HEAD"; "?" for anything else. */
const char *http_method_name(enum http_method method);

#endif /* HX_HTTP_PARSE_H */
