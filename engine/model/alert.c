/* alert.c: the text forms of a drift alert: one JSON object (topics, Redis
 * streams, `--format jsonl`) and one readable line. */
#include <math.h>
#include <string.h>
#include <time.h>

#include "engine/config/config.h"
#include "connectors/connectors.h"
#include "engine/model/model.h"

/* JSON string with the escapes JSON requires. */
static void json_str(eddy_buf_t *b, const char *s) {
  if (!s) {
    eddy_buf_put(b, "null", 4);
    return;
  }
  eddy_buf_put_u8(b, '"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      eddy_buf_put_u8(b, '\\');
      eddy_buf_put_u8(b, c);
    } else if (c < 0x20) {
      eddy_buf_printf(b, "\\u%04x", c);
    } else {
      eddy_buf_put_u8(b, c);
    }
  }
  eddy_buf_put_u8(b, '"');
}

static void json_num(eddy_buf_t *b, double v) { eddy_json_double(b, v); }

static void iso_time(double t, char *buf, size_t size) {
  time_t sec = (time_t)t;
  struct tm tm;
  gmtime_r(&sec, &tm);
  int ms = (int)((t - (double)sec) * 1000);
  if (ms < 0 || ms > 999) ms = 0;
  char date[32];
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf, size, "%.20s.%03dZ", date, ms);
}

void eddy_alert_json(const eddy_alert_t *a, eddy_buf_t *b) {
  char when[48];
  iso_time(a->time, when, sizeof when);
  eddy_buf_put(b, "{\"pipeline\":", 12);
  json_str(b, a->pipeline);
  eddy_buf_printf(b, ",\"partition\":%d,\"offset\":%lld,\"index\":%llu,\"detector\":", (int)a->partition,
                  (long long)a->offset, (unsigned long long)a->index);
  json_str(b, a->detector);
  eddy_buf_put(b, ",\"kind\":", 8);
  json_str(b, a->kind);
  eddy_buf_put(b, ",\"statistic\":", 13);
  json_num(b, a->statistic);
  eddy_buf_put(b, ",\"threshold\":", 13);
  json_num(b, a->threshold);
  eddy_buf_put(b, ",\"feature\":", 11);
  json_str(b, a->feature);
  eddy_buf_put(b, ",\"action\":", 10);
  json_str(b, a->action);
  eddy_buf_printf(b, ",\"version_before\":%llu,\"version_after\":%llu,\"time\":\"%s\"}",
                  (unsigned long long)a->version_before, (unsigned long long)a->version_after, when);
}

void eddy_alert_text(const eddy_alert_t *a, eddy_buf_t *b) {
  char when[48], stat[40], thr[40];
  iso_time(a->time, when, sizeof when);
  snprintf(stat, sizeof stat, "%.6g", a->statistic); /* readable; JSON has them exact */
  snprintf(thr, sizeof thr, "%.6g", a->threshold);
  eddy_buf_printf(b, "%s %-10s %s/%s at instance %llu", when, a->kind, a->pipeline, a->detector,
                  (unsigned long long)a->index);
  if (a->partition >= 0)
    eddy_buf_printf(b, " (partition %d offset %lld)", (int)a->partition, (long long)a->offset);
  if (a->feature) eddy_buf_printf(b, " feature %s", a->feature);
  eddy_buf_printf(b, ": statistic %s, threshold %s", stat, thr);
  if (strcmp(a->action, "none") != 0)
    eddy_buf_printf(b, "; action %s, model v%llu -> v%llu", a->action,
                    (unsigned long long)a->version_before, (unsigned long long)a->version_after);
}

int eddy_alert_xadd(struct eddy_redis *r, const char *prefix, int64_t maxlen, const eddy_alert_t *a) {
  eddy_buf_t json;
  eddy_buf_init(&json);
  eddy_alert_json(a, &json);
  eddy_buf_put_u8(&json, 0);
  if (json.err) {
    eddy_buf_free(&json);
    return EDDY_ENOMEM;
  }
  eddy_alert_entry_t e = {.pipeline = a->pipeline, .kind = a->kind, .detector = a->detector,
                          .partition = a->partition, .offset = a->offset, .time = a->time,
                          .json = (const char *)json.data, .json_len = json.len - 1};
  int err = eddy_alerts_xadd(r, prefix, maxlen, &e);
  eddy_buf_free(&json);
  return err;
}
