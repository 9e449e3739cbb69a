/* alerts_redis.c: every alert also goes to a capped Redis stream per
 * pipeline (XADD MAXLEN ~), with a few top-level fields for filtering and
 * the whole alert as JSON; `eddy alerts` reads it back. */
#include <stdio.h>
#include <string.h>

#include "connectors.h"

const char *eddy_alerts_key(char *buf, size_t size, const char *prefix, const char *pipeline) {
  snprintf(buf, size, "%s:%s:alerts", prefix, pipeline);
  return buf;
}

int eddy_alert_xadd(eddy_redis_t *r, const char *prefix, int64_t maxlen, const eddy_alert_t *a) {
  char key[512], max[32], part[16], off[32], when[40];
  eddy_alerts_key(key, sizeof key, prefix, a->pipeline);
  snprintf(max, sizeof max, "%lld", (long long)maxlen);
  snprintf(part, sizeof part, "%d", (int)a->partition);
  snprintf(off, sizeof off, "%lld", (long long)a->offset);
  snprintf(when, sizeof when, "%.3f", a->time);
  eddy_buf_t json;
  eddy_buf_init(&json);
  eddy_alert_json(a, &json);
  if (json.err) {
    eddy_buf_free(&json);
    return EDDY_ENOMEM;
  }
  const char *argv[] = {"XADD", key, "MAXLEN", "~", max, "*", "kind", a->kind ? a->kind : "",
                        "detector", a->detector ? a->detector : "", "partition", part, "offset", off,
                        "time", when, "json", (const char *)json.data};
  size_t lens[18];
  for (int i = 0; i < 17; i++) lens[i] = strlen(argv[i]);
  lens[17] = json.len;
  int err = eddy_redis_command(r, EDDY_REDIS_REPLAY, NULL, NULL, 18, argv, lens);
  eddy_buf_free(&json);
  return err;
}
