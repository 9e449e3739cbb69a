/* pipeline_serve.c: HTTP predict and learn on a running pipeline's live
 * models (POST /v1/pipelines/NAME/predict|learn, routed by run.c): each
 * JSON record goes to the replica of the partition its key maps to
 * (librdkafka's default partitioner), through the one record path. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "engine/stream/pipeline_int.h"

#define PARTS_TTL 30.0 /* seconds a topic's partition count is kept */

/* ------------------------------------------------------------------ JSON */

static const char *ws(const char *p, const char *e) {
  while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++;
  return p;
}

static const char *skip_string(const char *p, const char *e) {
  for (p++; p < e; p++) {
    if (*p == '\\') p++;
    else if (*p == '"') return p + 1;
  }
  return NULL;
}

/* The end of the JSON value at p (its syntax is checked by the decoder;
 * here only the nesting), or NULL. depth bounds hostile nesting. */
static const char *skip_value(const char *p, const char *e, int depth) {
  if (p >= e || depth > 64) return NULL;
  if (*p == '"') return skip_string(p, e);
  if (*p == '{' || *p == '[') {
    char close = *p == '{' ? '}' : ']';
    p = ws(p + 1, e);
    if (p < e && *p == close) return p + 1;
    for (;;) {
      if (close == '}') {
        if (p >= e || *p != '"' || !(p = skip_string(p, e))) return NULL;
        p = ws(p, e);
        if (p >= e || *p != ':') return NULL;
        p = ws(p + 1, e);
      }
      if (!(p = skip_value(p, e, depth + 1))) return NULL;
      p = ws(p, e);
      if (p < e && *p == close) return p + 1;
      if (p >= e || *p != ',') return NULL;
      p = ws(p + 1, e);
    }
  }
  for (; p < e; p++)
    switch (*p) {
    case ',': case '}': case ']': case ' ': case '\t': case '\r': case '\n': return p;
    default: break;
    }
  return p;
}

/* A record's first field the pipeline does not know, as name/len; 0 when
 * every field is known. The object at p is well nested (skip_value). */
static int unknown_field(const eddy_fields_t *f, const char *p, const char *e, const char **name, size_t *len) {
  p = ws(p + 1, e);
  while (p < e && *p == '"') {
    const char *k = p + 1, *ke = skip_string(p, e);
    if (!ke) return 0;
    if (!memchr(k, '\\', (size_t)(ke - 1 - k)) && !eddy_fields_find(f, k, (size_t)(ke - 1 - k))) {
      *name = k;
      *len = (size_t)(ke - 1 - k);
      return 1;
    }
    p = ws(ke, e);
    if (p >= e || *p != ':' || !(p = skip_value(ws(p + 1, e), e, 1))) return 0;
    p = ws(p, e);
    if (p < e && *p == ',') p = ws(p + 1, e);
  }
  return 0;
}

/* ------------------------------------------------------------ the query */

static int hexval(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The percent-decoded value of name in query, or NULL. */
static const char *query_get(const char *query, const char *name, char *out, size_t size, size_t *len) {
  size_t nl = strlen(name);
  for (const char *p = query; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
    if (strncmp(p, name, nl) || p[nl] != '=') continue;
    size_t n = 0;
    for (const char *v = p + nl + 1; *v && *v != '&' && n + 1 < size; v++) {
      if (*v == '%' && hexval(v[1]) >= 0 && hexval(v[2]) >= 0) {
        out[n++] = (char)(hexval(v[1]) * 16 + hexval(v[2]));
        v += 2;
      } else {
        out[n++] = *v == '+' ? ' ' : *v;
      }
    }
    out[n] = '\0';
    *len = n;
    return out;
  }
  return NULL;
}

/* ------------------------------------------------------------ partitions */

/* The input topic's partition count, from the consumer's metadata, cached
 * (the first ask, and one every PARTS_TTL seconds, waits for the broker). */
static int32_t partitions(eddy_pipeline_t *pl, const char *topic) {
  double now = eddy_now();
  if (pl->serve_parts > 0 && now < pl->serve_parts_at + PARTS_TTL && !strcmp(pl->serve_topic, topic))
    return pl->serve_parts;
  if (!pl->consumer) return pl->serve_parts;
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(pl->consumer, topic, NULL);
  const struct rd_kafka_metadata *md = NULL;
  int32_t n = -1;
  if (rkt && rd_kafka_metadata(pl->consumer, 0, rkt, &md, 1000) == RD_KAFKA_RESP_ERR_NO_ERROR &&
      md->topic_cnt == 1 && !md->topics[0].err)
    n = md->topics[0].partition_cnt;
  if (md) rd_kafka_metadata_destroy(md);
  if (rkt) rd_kafka_topic_destroy(rkt);
  if (n > 0) {
    snprintf(pl->serve_topic, sizeof pl->serve_topic, "%s", topic);
    pl->serve_parts = n;
    pl->serve_parts_at = now;
  }
  return n > 0 ? n : (!strcmp(pl->serve_topic, topic) ? pl->serve_parts : -1);
}

/* ----------------------------------------------------------------- sink */

typedef struct serve {
  eddy_pipeline_t *pl;
  eddy_ptask_t *t;
  eddy_buf_t *body;
  size_t n;      /* answers written */
  int status;    /* 0, or the error's */
  char msg[600];
} serve_t;

static void on_predicted(void *ctx, const eddy_path_input_t *in, const eddy_buf_t *out) {
  (void)in;
  serve_t *s = ctx;
  size_t len = out->len;
  while (len && (out->data[len - 1] == '\n' || out->data[len - 1] == '\r')) len--;
  if (s->n++) eddy_buf_put_u8(s->body, ',');
  eddy_buf_put(s->body, out->data, len);
}

static void on_encode_failed(void *ctx, const eddy_path_input_t *in) {
  (void)in;
  serve_t *s = ctx;
  s->status = 500;
  snprintf(s->msg, sizeof s->msg, "the prediction could not be encoded");
}

static void on_rejected(void *ctx, const eddy_path_input_t *in, eddy_path_stage_t stage, int err, const char *msg) {
  (void)in;
  (void)err;
  serve_t *s = ctx;
  s->status = stage == EDDY_PATH_SIZE ? 413 : 400;
  snprintf(s->msg, sizeof s->msg, "%s: %s", eddy_path_stage_name(stage), msg);
}

static void on_learned(void *ctx, const eddy_path_input_t *in, int err) {
  (void)in;
  serve_t *s = ctx;
  if (err) {
    s->status = 500;
    snprintf(s->msg, sizeof s->msg, "learner %s: %s", s->pl->conf->model.learner, eddy_strerror(err));
    return;
  }
  s->pl->st.learned++;
  s->t->learned++;
}

static const eddy_path_sink_t serve_sink = {
    .predicted = on_predicted,
    .encode_failed = on_encode_failed,
    .rejected = on_rejected,
    .learned = on_learned,
};

/* ------------------------------------------------------------- a record */

static int error(eddy_buf_t *body, int status, const char *fmt, ...) EDDY_PRINTF(3, 4);
static int error(eddy_buf_t *body, int status, const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  eddy_buf_clear(body);
  eddy_buf_printf(body, "{\"error\":");
  eddy_json_string(body, msg, strlen(msg));
  eddy_buf_printf(body, "}\n");
  return status;
}

/* Scores (or learns) the record p..e of a request, appending its
 * prediction to s->body; returns 0 or the error's status (body: the error). */
static int one(serve_t *s, const char *p, const char *e, int learn, const char *query, size_t index, int many) {
  eddy_pipeline_t *pl = s->pl;
  char where[32] = "";
  if (many) snprintf(where, sizeof where, "record %zu: ", index);
  if (*p != '{') return error(s->body, 400, "%sexpected a JSON object (a record) or an array of them", where);
  const char *name;
  size_t nlen;
  if (unknown_field(pl->path.fields, p, e, &name, &nlen))
    return error(s->body, 400, "%sunknown field '%.*s' (not in the pipeline's [features] or [state])", where,
                 (int)(nlen > 100 ? 100 : nlen), name);
  /* The key: the record's [features] key, else ?key=. */
  char qkey[512], qpart[32], msg[256];
  const char *key = NULL;
  size_t key_len = 0;
  if (pl->keydec) {
    if (eddy_decoder_decode(pl->keydec, pl->serve_schema, p, (size_t)(e - p), &pl->keyrec, msg, sizeof msg))
      return error(s->body, 400, "%sdecode: %s", where, msg);
    key = pl->keyrec.key;
    key_len = pl->keyrec.key_len;
  }
  if (!key) key = query_get(query, "key", qkey, sizeof qkey, &key_len);
  char topicbuf[256];
  size_t tl;
  const char *topic = query_get(query, "topic", topicbuf, sizeof topicbuf, &tl);
  if (!topic) topic = pl->topics->elems[0].topic;
  if (topic[0] == '^') return error(s->body, 400, "the pipeline subscribes to a pattern: say the topic (?topic=)");
  int32_t n = partitions(pl, topic), part = 0;
  if (n <= 0) return error(s->body, 503, "topic %s: partition count unknown (is the broker reachable?)", topic);
  if (key) {
    part = rd_kafka_msg_partitioner_consistent_random(NULL, key, key_len, n, NULL, NULL);
  } else if (query_get(query, "partition", qpart, sizeof qpart, &tl)) {
    int64_t v;
    if (eddy_parse_int(qpart, &v) || v < 0 || v >= n)
      return error(s->body, 400, "partition '%s': expected 0 to %d", qpart, (int)n - 1);
    part = (int32_t)v;
  }
  eddy_ptask_t *t = eddy__pl_find_task(pl, topic, part);
  /* `eddy run --threads N`: the instance that owns the partition answers
   * with its replica and record path (the caller holds every worker's
   * lock: no record of theirs is being handled). */
  for (size_t k = 0; (!t || !t->replica) && k < pl->n_group; k++)
    if (pl->group[k] != pl && (t = eddy__pl_find_task(pl->group[k], topic, part)) && t->replica) pl = pl->group[k];
  s->pl = pl; /* its counters */
  if (!t || !t->replica)
    return error(s->body, 409, "%s%s [%d] is not owned by this instance: ask its owner (the consumer group's member "
                 "assigned partition %d)", where, topic, (int)part, (int)part);
  if (!t->restored) return error(s->body, 503, "%s%s [%d] is being restored: try again", where, topic, (int)part);
  s->t = t;
  double now = eddy_wallclock(); /* the record time when it has no timestamp field, as the stream's */
  eddy_path_input_t in = {
      .value = p,
      .len = (size_t)(e - p),
      .key = key,
      .key_len = key ? key_len : 0,
      .topic = t->topic,
      .partition = t->partition,
      .offset = -1,
      .fallback_ms = now * 1000,
      .time = now,
      .emit = 1,
      .learn = learn,
      .readonly = !learn,
      .outside = 1,
  };
  eddy_path_state_t st = {.batch = t->store, .store = pl->store.entities, .pre = ENTITY_NOW};
  s->status = 0;
  eddy_path_handle(&pl->path, t->replica, &st, &in, &serve_sink, s);
  if (s->status) return error(s->body, s->status, "%s%s", where, s->msg);
  return 0;
}

int eddy_pipeline_serve(eddy_pipeline_t *pl, int learn, const eddy_http_request_t *req, eddy_buf_t *body) {
  const eddy_pipeline_conf_t *c = pl->conf;
  if (c->source.format != EDDY_FORMAT_JSON || c->sink.format != EDDY_FORMAT_JSON)
    return error(body, 415, "pipeline %s reads %s records and writes %s predictions: only JSON pipelines are served "
                 "over HTTP", c->pipeline.name, c->source.format == EDDY_FORMAT_JSON ? "JSON" : "non-JSON",
                 c->sink.format == EDDY_FORMAT_JSON ? "JSON" : "Avro");
  if (pl->batched)
    return error(body, 501, "pipeline %s joins aggregates kept in Redis: HTTP predict serves memory-store "
                 "pipelines only in this build", c->pipeline.name);
  if (pl->state != EDDY_PL_RUNNING || !pl->consumer)
    return error(body, 503, "pipeline %s is not running", c->pipeline.name);
  if (!pl->path.output) return error(body, 500, "pipeline %s encodes no predictions", c->pipeline.name);
  const char *p = ws(req->body, req->body + req->body_len), *e = req->body + req->body_len;
  if (p >= e) return error(body, 400, "empty body: expected a JSON record or an array of records");
  serve_t s = {.pl = pl, .body = body};
  eddy_buf_clear(body);
  int many = *p == '[';
  const char *end = skip_value(p, e, 0);
  if (!end || ws(end, e) != e) return error(body, 400, "bad JSON: the body is not one well-formed JSON value");
  if (many) eddy_buf_put_u8(body, '[');
  if (!many) {
    int st = one(&s, p, end, learn, req->query, 0, 0);
    if (st) return st;
  } else {
    size_t i = 0;
    for (p = ws(p + 1, e); *p != ']'; i++) {
      const char *ve = skip_value(p, e, 1);
      int st = one(&s, p, ve, learn, req->query, i, 1);
      if (st) {
        if (learn && i) { /* say what was learned before the error */
          body->len -= 2;
          eddy_buf_printf(body, ",\"learned\":%zu}\n", i);
        }
        return st;
      }
      p = ws(ve, e);
      if (*p == ',') p = ws(p + 1, e);
    }
    eddy_buf_put_u8(body, ']');
  }
  eddy_buf_put_u8(body, '\n');
  return 200;
}
