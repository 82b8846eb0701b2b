/* node/rls/publisher.h: hiepeerd's publisher of patient tokens to the record locator. */
#ifndef HX_PUBLISHER_H
#define HX_PUBLISHER_H

#include "config.h"
#include "store.h"

struct publisher;

struct trust;

/* Start publishing when [rls] endpoints are configured (*out stays NULL when none are):
 * loads the linkage key and our TLS identity (from trust when given, following its
 * changes: a renewed certificate is presented from the next round on; else from cfg's
 * files, once). HX_EINVAL etc. with err set. */
int publisher_start(const struct config *cfg, struct store *store, struct trust *trust,
                    struct publisher **out, char *err, size_t errlen);
/* Stop the thread (a call in flight ends at its deadline); NULL is a no-op. */
void publisher_stop(struct publisher *p);

#endif
