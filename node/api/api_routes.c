/* api_routes.c: the route table. Checks common to every route (identity, role, body limit)
 * run once before dispatch, in node/http/http_route.c. */
#include "api.h"

#define NODE (1u << CONFIG_ROLE_NODE)
#define RLS (1u << CONFIG_ROLE_RLS)
#define ANY_PEER 0u

const struct http_route http_routes[] = {
	{HTTP_METHOD_GET, "/hie/v1/health", api_health, NODE | RLS, ANY_PEER, 0},
	{HTTP_METHOD_POST, "/hie/v1/documents/query", api_documents_query, NODE, ANY_PEER,
	 64 * 1024},
	{HTTP_METHOD_POST, "/hie/v1/documents/retrieve", api_documents_retrieve, NODE, ANY_PEER,
	 64 * 1024},
	{HTTP_METHOD_POST, "/hie/v1/patients/discover", api_patients_discover, NODE, ANY_PEER,
	 64 * 1024},
	{HTTP_METHOD_POST, "/hie/v1/rls/publish", api_rls_publish, RLS, ANY_PEER,
	 API_RLS_PUBLISH_BODY_MAX},
	{HTTP_METHOD_POST, "/hie/v1/rls/locate", api_rls_locate, RLS, ANY_PEER, 16 * 1024},
};

const size_t http_routes_count = sizeof(http_routes) / sizeof(http_routes[0]);
