/* node/api/api.h: the handlers behind the route table (one file per route group). */
#ifndef HX_API_H
#define HX_API_H

#include "http.h"

int api_health(struct http_ctx *ctx);
int api_documents_query(struct http_ctx *ctx);
int api_documents_retrieve(struct http_ctx *ctx);
int api_patients_discover(struct http_ctx *ctx);

#endif
