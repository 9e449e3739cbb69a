/* alerts_redis.c: every alert also goes to a capped Redis stream per
 * pipeline (XADD MAXLEN ~), with a few top-level fields for filtering and
 * the whole alert as JSON; `eddy alerts` reads it back. */
#include <stdio.h>
#include <string.h>

#include "connectors/connectors.h"

const char *eddy_alerts_key(char *buf, size_t size, const char *prefix, const char *pipeline) {
  snprintf(buf, size, "%s:%s:alerts", prefix, pipeline);
  return buf;
}

int eddy_alerts_xadd(eddy_redis_t *r, const char *prefix, int64_t maxlen, const eddy_alert_entry_t *e) {
  char key[512], max[32], part[16], off[32], when[40];
  eddy_alerts_key(key, sizeof key, prefix, e->pipeline);
  snprintf(max, sizeof max, "%lld", (long long)maxlen);
  snprintf(part, sizeof part, "%d", (int)e->partition);
  snprintf(off, sizeof off, "%lld", (long long)e->offset);
  snprintf(when, sizeof when, "%.3f", e->time);
  const char *argv[] = {"XADD", key, "MAXLEN", "~", max, "*", "kind", e->kind ? e->kind : "",
                        "detector", e->detector ? e->detector : "", "partition", part, "offset", off,
                        "time", when, "json", e->json};
  size_t lens[18];
  for (int i = 0; i < 17; i++) lens[i] = strlen(argv[i]);
  lens[17] = e->json_len;
  return eddy_redis_command(r, EDDY_REDIS_REPLAY, NULL, NULL, 18, argv, lens);
}
