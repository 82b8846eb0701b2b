/* api_routes.c: the route table. Checks common to every route (identity, role, body limit)
 * run once before dispatch, in node/http/http_route.c. */
#include "api.h"

#define NODE (1u << CONFIG_ROLE_NODE)
#define RLS (1u << CONFIG_ROLE_RLS)
#define ANY_PEER 0u
/* Peers enrolled as nodes: the record locator (enrolled with --role rls, so that our publisher
 * can pin it) holds pointers only, never records, and is not answered with them. */
#define NODE_PEER (1u << HIE__V1__PEER_ROLE__PEER_ROLE_NODE)

#define PEER_LISTENER HTTP_LISTEN_PEER
#define RIGHT(r) (1u << HIE__V1__CLIENT_RIGHT__CLIENT_RIGHT_##r)

const struct http_route http_routes[] = {
	/* The peer API: enrolled peers, on [listen] peer. */
	{HTTP_METHOD_GET, "/hie/v1/health", api_health, NODE | RLS, ANY_PEER, 0, PEER_LISTENER, 0},
	{HTTP_METHOD_POST, "/hie/v1/documents/query", api_documents_query, NODE, NODE_PEER,
	 64 * 1024, PEER_LISTENER, 0},
	{HTTP_METHOD_POST, "/hie/v1/documents/retrieve", api_documents_retrieve, NODE, NODE_PEER,
	 64 * 1024, PEER_LISTENER, 0},
	{HTTP_METHOD_POST, "/hie/v1/patients/discover", api_patients_discover, NODE, NODE_PEER,
	 64 * 1024, PEER_LISTENER, 0},
	{HTTP_METHOD_POST, "/hie/v1/rls/publish", api_rls_publish, RLS, ANY_PEER,
	 API_RLS_PUBLISH_BODY_MAX, PEER_LISTENER, 0},
	{HTTP_METHOD_POST, "/hie/v1/rls/snapshot", api_rls_snapshot, RLS, ANY_PEER,
	 API_RLS_PUBLISH_BODY_MAX, PEER_LISTENER, 0},
	{HTTP_METHOD_POST, "/hie/v1/rls/locate", api_rls_locate, RLS, ANY_PEER, 16 * 1024,
	 PEER_LISTENER, 0},
	{HTTP_METHOD_POST, "/hie/v1/rls/check", api_rls_check, RLS, ANY_PEER, 1024, PEER_LISTENER,
	 0},
	/* The local API: registered local clients, on [listen] local (docs/local-api.md). */
	{HTTP_METHOD_GET, "/local/v1/health", api_health, NODE | RLS, ANY_PEER, 0,
	 HTTP_LISTEN_LOCAL, 0},
	{HTTP_METHOD_POST, "/local/v1/query", api_local_query, NODE, ANY_PEER, 64 * 1024,
	 HTTP_LISTEN_LOCAL, RIGHT(QUERY)},
	{HTTP_METHOD_POST, "/local/v1/retrieve", api_local_retrieve, NODE, ANY_PEER, 8 * 1024,
	 HTTP_LISTEN_LOCAL, RIGHT(RETRIEVE)},
	{HTTP_METHOD_POST, "/local/v1/patients", api_local_patient, NODE, ANY_PEER, 64 * 1024,
	 HTTP_LISTEN_LOCAL, RIGHT(PUBLISH)},
	{HTTP_METHOD_POST, "/local/v1/documents", api_local_document, NODE, ANY_PEER, 0,
	 HTTP_LISTEN_LOCAL, RIGHT(PUBLISH)}, /* [limits] max_body */
};

const size_t http_routes_count = sizeof(http_routes) / sizeof(http_routes[0]);

void (*const http_worker_slot_free)(void *slot) = api_worker_free;
