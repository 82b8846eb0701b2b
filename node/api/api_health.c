/* api_health.c: GET /hie/v1/health. */
#include "api.h"

int api_health(struct http_ctx *ctx)
{
	Hie__V1__Health h = HIE__V1__HEALTH__INIT;
	h.status = "ok";
	h.org_id = (char *)ctx->cfg->org_id;
	h.version = HX_VERSION;
	h.trust_generation = trust_generation(ctx->trust);
	return proto_pack(&h, ctx->out);
}
