/* dash_api.c: the dashboard over HTTP: the page's embedded files and the
 * JSON API behind it (/api/pipelines, /api/series, /api/alerts,
 * /api/models; README's "Dashboard" documents them). Answers are built on
 * the loop from what dash.c holds, without touching the record path. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/stream/dash_int.h"

/* ---------------------------------------------------------------- query */

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* The percent-decoded value of key in query (a=1&b=2), or NULL. */
static const char *query_get(const char *query, const char *key, char *out, size_t size) {
  size_t klen = strlen(key);
  for (const char *p = query; p && *p;) {
    const char *end = strchr(p, '&');
    if (!end) end = p + strlen(p);
    if ((size_t)(end - p) > klen && !strncmp(p, key, klen) && p[klen] == '=') {
      size_t n = 0;
      for (const char *s = p + klen + 1; s < end && n + 1 < size; s++) {
        if (*s == '+') {
          out[n++] = ' ';
        } else if (*s == '%' && s + 2 < end && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
          out[n++] = (char)(hexval(s[1]) * 16 + hexval(s[2]));
          s += 2;
        } else {
          out[n++] = *s;
        }
      }
      out[n] = '\0';
      return out;
    }
    p = *end ? end + 1 : end;
  }
  return NULL;
}

/* ----------------------------------------------------------------- JSON */

static void jstr(eddy_buf_t *b, const char *s) { eddy_json_string(b, s, strlen(s)); }

static void jnum(eddy_buf_t *b, double v) {
  if (isnan(v) || isinf(v)) eddy_buf_put(b, "null", 4);
  else eddy_buf_printf(b, "%.6g", v);
}

static const char *state_name(int s) {
  static const char *const names[] = {"prepared", "running", "draining", "closed"};
  return s >= 0 && s < 4 ? names[s] : "?";
}

/* The label join ([source] label_topic), or null. */
static void api_labels(const eddy__dash_pl_t *p, eddy_buf_t *b) {
  if (!p->labels_on) {
    eddy_buf_put(b, ",\"labels\":null", 14);
    return;
  }
  eddy_buf_put(b, ",\"labels\":{\"topic\":", 19);
  jstr(b, p->label_topic);
  eddy_buf_printf(b, ",\"in\":%llu,\"joined\":%llu,\"unmatched\":%llu,\"expired\":%llu,\"evicted\":%llu,"
                     "\"waiting\":%llu,\"delay_p50\":",
                  (unsigned long long)p->labels_in, (unsigned long long)p->labels_joined,
                  (unsigned long long)p->labels_unmatched, (unsigned long long)p->labels_expired,
                  (unsigned long long)p->labels_evicted, (unsigned long long)p->labels_waiting);
  jnum(b, p->delay_p50);
  eddy_buf_put(b, ",\"delay_p99\":", 13);
  jnum(b, p->delay_p99);
  eddy_buf_put(b, ",\"delay_mean\":", 14);
  jnum(b, p->delay_mean);
  eddy_buf_put_u8(b, '}');
}

static void api_pipelines(const eddy_dash_t *d, eddy_buf_t *b) {
  eddy_buf_printf(b, "{\"now\":%.3f,\"seconds\":%zu,\"ring_bytes\":%zu,\"pipelines\":[", eddy_wallclock(),
                  d->seconds, eddy_dash_ring_bytes(d->seconds));
  for (size_t i = 0; i < d->n_pls; i++) {
    const eddy__dash_pl_t *p = &d->pls[i];
    eddy_buf_printf(b, "%s{\"name\":", i ? "," : "");
    jstr(b, p->name);
    eddy_buf_printf(b, ",\"state\":\"%s\",\"metric\":\"%s\",\"learner\":", state_name(p->state), p->metric);
    jstr(b, p->learner);
    eddy_buf_put(b, ",\"detector\":", 12);
    jstr(b, p->detector);
    eddy_buf_printf(b, ",\"action\":\"%s\",\"store\":\"%s\",\"records_in\":%llu,\"predictions\":%llu,"
                       "\"dead_lettered\":%llu,\"learned\":%llu,\"alerts\":%llu,\"latency_p50\":",
                    p->action, p->store, (unsigned long long)p->records_in, (unsigned long long)p->predictions,
                    (unsigned long long)p->dead_lettered, (unsigned long long)p->learned,
                    (unsigned long long)p->alerts);
    jnum(b, p->p50);
    eddy_buf_put(b, ",\"latency_p99\":", 15);
    jnum(b, p->p99);
    api_labels(p, b);
    eddy_buf_put(b, ",\"partitions\":[", 15);
    int first = 1;
    for (size_t k = 0; k < d->n_parts; k++) {
      const eddy__dash_part_t *q = &d->parts[k];
      if (strcmp(q->pipeline, p->name)) continue;
      eddy_buf_printf(b, "%s{\"partition\":%d,\"assigned\":%s}", first ? "" : ",", (int)q->partition,
                      q->live && p->state != EDDY_PL_CLOSED ? "true" : "false");
      first = 0;
    }
    eddy_buf_put(b, "]}", 2);
  }
  eddy_buf_put(b, "]}\n", 3);
}

/* One column of a partition's points after `since`. */
enum { C_RECORDS, C_PREDICTIONS, C_DEAD, C_LEARNED, C_LAG, C_METRIC, C_P50, C_P99, C_VERSION, C_WAITING, C_T };

static void column(const eddy_dash_t *d, const eddy__dash_part_t *p, size_t from, int col, eddy_buf_t *b) {
  static const char *const names[] = {"records", "predictions", "dead_letters", "learned", "lag",
                                      "metric",  "p50",         "p99",          "version", "waiting", "t"};
  eddy_buf_printf(b, ",\"%s\":[", names[col]);
  int first = 1;
  for (size_t i = from; i < p->n; i++) {
    const eddy__dash_point_t *pt = &p->ring[(p->head + d->seconds - p->n + i) % d->seconds];
    if (!first) eddy_buf_put_u8(b, ',');
    first = 0;
    switch (col) {
    case C_T: eddy_buf_printf(b, "%lld", (long long)pt->t); break;
    case C_RECORDS: eddy_buf_printf(b, "%.0f", pt->records); break;
    case C_PREDICTIONS: eddy_buf_printf(b, "%.0f", pt->predictions); break;
    case C_DEAD: eddy_buf_printf(b, "%.0f", pt->dead_letters); break;
    case C_LEARNED: eddy_buf_printf(b, "%.0f", pt->learned); break;
    case C_LAG:
      if (pt->lag < 0) eddy_buf_put(b, "null", 4);
      else eddy_buf_printf(b, "%.0f", pt->lag);
      break;
    case C_METRIC: jnum(b, pt->metric); break;
    case C_P50: jnum(b, pt->p50); break;
    case C_P99: jnum(b, pt->p99); break;
    case C_VERSION: eddy_buf_printf(b, "%u", pt->version); break;
    case C_WAITING:
      if (pt->waiting < 0) eddy_buf_put(b, "null", 4);
      else eddy_buf_printf(b, "%.0f", pt->waiting);
      break;
    }
  }
  eddy_buf_put_u8(b, ']');
}

static void api_series(const eddy_dash_t *d, const char *pipeline, int64_t since, eddy_buf_t *b) {
  eddy_buf_printf(b, "{\"now\":%.3f,\"seconds\":%zu,\"partitions\":[", eddy_wallclock(), d->seconds);
  int first = 1;
  for (size_t k = 0; k < d->n_parts; k++) {
    const eddy__dash_part_t *p = &d->parts[k];
    if (pipeline && strcmp(p->pipeline, pipeline)) continue;
    eddy_buf_printf(b, "%s{\"pipeline\":", first ? "" : ",");
    first = 0;
    jstr(b, p->pipeline);
    eddy_buf_printf(b, ",\"partition\":%d,\"metric\":\"%s\"", (int)p->partition,
                    p->task == EDDY_REGRESSION ? "mae" : "accuracy");
    /* Points are in time order: a poll's few new ones are found from the newest. */
    size_t from = p->n;
    while (from > 0 && p->ring[(p->head + d->seconds - p->n + from - 1) % d->seconds].t > since) from--;
    column(d, p, from, C_T, b);
    for (int c = C_RECORDS; c <= C_WAITING; c++) column(d, p, from, c, b);
    eddy_buf_put_u8(b, '}');
  }
  eddy_buf_put(b, "]}\n", 3);
}

static void api_alerts(const eddy_dash_t *d, const char *query, eddy_buf_t *b) {
  char pipeline[256], part[32], detector[64], kind[32], since[48];
  const char *fp = query_get(query, "pipeline", pipeline, sizeof pipeline);
  const char *fpart = query_get(query, "partition", part, sizeof part);
  const char *fdet = query_get(query, "detector", detector, sizeof detector);
  const char *fkind = query_get(query, "kind", kind, sizeof kind);
  const char *fsince = query_get(query, "since", since, sizeof since);
  int64_t want_part = 0;
  double t0 = 0;
  if (fpart && eddy_parse_int(fpart, &want_part)) fpart = NULL;
  if (fsince && eddy_parse_double(fsince, &t0)) fsince = NULL;
  eddy_buf_put_u8(b, '[');
  int first = 1;
  for (size_t i = 0; i < d->n_alerts; i++) {
    const eddy__dash_alert_t *a = eddy__dash_alert_at(d, i);
    if ((fsince && a->time < t0) || (fp && strcmp(a->pipeline, fp)) || (fpart && a->partition != want_part) ||
        (fdet && strcmp(a->detector, fdet)) || (fkind && strcmp(a->kind, fkind)))
      continue;
    if (!first) eddy_buf_put(b, ",\n", 2);
    first = 0;
    eddy__dash_alert_json(a, b);
  }
  eddy_buf_put(b, "]\n", 2);
}

static void api_models(const eddy_dash_t *d, const char *pipeline, eddy_buf_t *b) {
  eddy_buf_put(b, "{\"models\":[", 11);
  int first = 1;
  for (size_t k = 0; k < d->n_parts; k++) {
    const eddy__dash_part_t *p = &d->parts[k];
    const eddy__dash_model_t *m = &p->model;
    if (!m->have || (pipeline && strcmp(p->pipeline, pipeline))) continue;
    eddy_buf_printf(b, "%s{\"pipeline\":", first ? "" : ",");
    first = 0;
    jstr(b, p->pipeline);
    eddy_buf_printf(b, ",\"partition\":%d,\"learner\":", (int)p->partition);
    jstr(b, m->learner);
    eddy_buf_printf(b,
                    ",\"version\":%llu,\"next_offset\":%lld,\"bytes\":%zu,\"memory\":%zu,\"sha256\":\"%s\","
                    "\"seen\":%llu,\"learned\":%llu,\"time\":%.3f,\"assigned\":%s,\"importance\":%s}",
                    (unsigned long long)m->version, (long long)m->next_offset, m->bytes, m->memory, m->sha256,
                    (unsigned long long)m->seen, (unsigned long long)m->learned, m->time,
                    p->live ? "true" : "false", m->importance[0] ? m->importance : "null");
  }
  eddy_buf_put(b, "]}\n", 3);
}

int eddy_dash_http(eddy_dash_t *d, const char *path, const char *query, eddy_buf_t *body,
                   const char **content_type) {
  if (!d) return 0;
  if (!strcmp(path, "/index.html")) path = "/";
  for (size_t i = 0; i < eddy__dash_n_assets; i++)
    if (!strcmp(path, eddy__dash_assets[i].path)) {
      *content_type = eddy__dash_assets[i].type;
      eddy_buf_put(body, eddy__dash_assets[i].data, eddy__dash_assets[i].len);
      return 200;
    }
  if (strncmp(path, "/api/", 5)) return 0;
  char pipeline[256], since[32];
  const char *pl = query_get(query, "pipeline", pipeline, sizeof pipeline);
  *content_type = "application/json";
  if (!strcmp(path, "/api/pipelines")) {
    api_pipelines(d, body);
  } else if (!strcmp(path, "/api/series")) {
    int64_t t = 0;
    double dt;
    if (query_get(query, "since", since, sizeof since)) {
      if (eddy_parse_double(since, &dt)) {
        *content_type = "text/plain; charset=utf-8";
        eddy_buf_printf(body, "since: expected seconds since the epoch\n");
        return 400;
      }
      t = (int64_t)floor(dt);
    }
    api_series(d, pl, t, body);
  } else if (!strcmp(path, "/api/alerts")) {
    api_alerts(d, query, body);
  } else if (!strcmp(path, "/api/models")) {
    if (d->models_wanted_until == 0) d->last_models = 0; /* the first ask: a snapshot at the next second */
    d->models_wanted_until = eddy_wallclock() + 6 * EDDY_DASH_MODEL_EVERY;
    api_models(d, pl, body);
  } else {
    *content_type = "text/plain; charset=utf-8";
    eddy_buf_printf(body, "not found: try /api/pipelines, /api/series, /api/alerts or /api/models\n");
    return 404;
  }
  return 200;
}
