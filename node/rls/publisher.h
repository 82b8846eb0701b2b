/* node/rls/publisher.h: hiepeerd's publisher of patient tokens to the record locator. */
#ifndef HX_PUBLISHER_H
#define HX_PUBLISHER_H

#include "config.h"
#include "store.h"

struct publisher;

/* Start publishing when [rls] endpoints are configured (*out stays NULL when none are):
 * loads the linkage key and our TLS identity. HX_EINVAL etc. with err set. */
int publisher_start(const struct config *cfg, struct store *store, struct publisher **out,
                    char *err, size_t errlen);
/* Stop the thread (a call in flight ends at its deadline); NULL is a no-op. */
void publisher_stop(struct publisher *p);

#endif
