/* http_route.c: error → status, the route lookup and the pre-dispatch checks. */
#include "http_internal.h"

#include <string.h>

static const struct {
	int err;
	int status;
} err_status[] = {
	{HX_EPARSE, 400},   {HX_EINVAL, 400},  {HX_EDENIED, 403},  {HX_ENOTFOUND, 404},
	{HX_EEXIST, 409},   {HX_ELIMIT, 413},  {HX_EBUSY, 429},    {HX_EPEER, 502},
	{HX_ECLOSED, 503},  {HX_ETIMEOUT, 504}, {HX_ESPACE, 507},
};

int http_status_from_err(int err)
{
	for (size_t i = 0; i < HX_ARRAY_SIZE(err_status); i++)
		if (err_status[i].err == err)
			return err_status[i].status;
	return 500;
}

const char *http_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 417: return "Expectation Failed";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	case 507: return "Insufficient Storage";
	default: return "Internal Server Error";
	}
}

/* The wire ErrorCode for a status when no hx_err is at hand. */
static int code_for_status(int status)
{
	switch (status) {
	case 400: case 405: case 411: case 414: case 417: case 505: case 501:
		return HIE__V1__ERROR_CODE__ERROR_CODE_PARSE;
	case 403: return HIE__V1__ERROR_CODE__ERROR_CODE_DENIED;
	case 404: return HIE__V1__ERROR_CODE__ERROR_CODE_NOT_FOUND;
	case 408: case 504: return HIE__V1__ERROR_CODE__ERROR_CODE_TIMEOUT;
	case 413: case 431: return HIE__V1__ERROR_CODE__ERROR_CODE_LIMIT;
	case 429: case 503: return HIE__V1__ERROR_CODE__ERROR_CODE_BUSY;
	default: return HIE__V1__ERROR_CODE__ERROR_CODE_INTERNAL;
	}
}

int http_error_body(int status, int err, const char *text, struct hx_buf *out)
{
	Hie__V1__Error e = HIE__V1__ERROR__INIT;
	e.code = err < 0 && err >= HX_ERR_MIN ? -err : code_for_status(status);
	if (err == HX_OK || status >= 500)
		e.code = code_for_status(status);
	e.message = (char *)(text != NULL ? text : http_status_text(status));
	return proto_pack(&e, out);
}

int http_route_find(const struct http_request *req, enum http_listener listener,
                    const struct http_route **out)
{
	int path_seen = 0;
	for (size_t i = 0; i < http_routes_count; i++) {
		const struct http_route *r = &http_routes[i];
		if (r->listener != listener)
			continue;
		if (strlen(r->path) != req->path_len || memcmp(r->path, req->path, req->path_len) != 0)
			continue;
		path_seen = 1;
		if (r->method == req->method ||
		    (req->method == HTTP_METHOD_HEAD && r->method == HTTP_METHOD_GET)) {
			*out = r;
			return 200;
		}
	}
	return path_seen ? 405 : 404;
}

int http_route_admit(const struct http_route *r, const struct config *cfg,
                     const struct trust_peer *peer, const struct http_request *req,
                     const char **why)
{
	uint64_t limit = r->max_body != 0 ? r->max_body : cfg->max_body;
	if (!(r->node_roles & (1u << cfg->role))) {
		*why = "not served by this node's role";
		return 404;
	}
	if (r->listener == HTTP_LISTEN_LOCAL && (r->client_rights & peer->rights) !=
	                                         r->client_rights) {
		*why = "this client is not registered for the route";
		return 403;
	}
	if (r->peer_roles != 0 && !(r->peer_roles & peer->roles)) {
		*why = "this peer's enrolment does not allow the route";
		return 403;
	}
	if (req->has_length && req->content_length > limit) {
		*why = "request body too large";
		return 413;
	}
	if (r->method == HTTP_METHOD_POST && !req->has_length) {
		*why = "a body needs a Content-Length";
		return 411;
	}
	return 200;
}
