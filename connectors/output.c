/* output.c: prediction records. The encoder is picked by [sink] format
 * through a descriptor (eddy_output_format_t), as decoders are, so that an
 * Avro encoder is one more descriptor. JSON is written by hand into the
 * caller's reused buffer: nothing is allocated per record. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connectors/connectors.h"

static void put_double(eddy_buf_t *b, double v) { eddy_json_double(b, v); }

static void put_int(eddy_buf_t *b, int64_t v) {
  char s[24], *e = s + sizeof s, *p = e;
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  do {
    *--p = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) *--p = '-';
  eddy_buf_put(b, p, (size_t)(e - p));
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void put_base64(eddy_buf_t *b, const unsigned char *p, size_t len) {
  eddy_buf_put_u8(b, '"');
  for (size_t i = 0; i < len; i += 3) {
    unsigned v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0) |
                 (i + 2 < len ? p[i + 2] : 0);
    char q[4] = {b64[v >> 18], b64[v >> 12 & 63], i + 1 < len ? b64[v >> 6 & 63] : '=',
                 i + 2 < len ? b64[v & 63] : '='};
    eddy_buf_put(b, q, 4);
  }
  eddy_buf_put_u8(b, '"');
}

/* A class's name as written in the output: its text in the target
 * dictionary. */
static void put_class(eddy_buf_t *b, const eddy_schema_t *s, double index) {
  const char *name = index >= 0 ? eddy_dict_name(s->target.dict, (uint32_t)index) : NULL;
  if (name) eddy_json_string(b, name, strlen(name));
  else eddy_buf_put(b, "null", 4);
}

/* ISO 8601 UTC with milliseconds; the seconds' text is cached. */
static void put_time(eddy_buf_t *b, double t) {
  static __thread time_t last = -1;
  static __thread char date[24];
  time_t sec = (time_t)t;
  if (sec != last) {
    struct tm tm;
    gmtime_r(&sec, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    last = sec;
  }
  int ms = (int)((t - (double)sec) * 1000);
  if (ms < 0 || ms > 999) ms = 0;
  char tail[8] = {'.', (char)('0' + ms / 100), (char)('0' + ms / 10 % 10), (char)('0' + ms % 10), 'Z', '"'};
  eddy_buf_put_u8(b, '"');
  eddy_buf_put(b, date, strlen(date));
  eddy_buf_put(b, tail, 6);
}

#define LIT(b, s) eddy_buf_put((b), (s), sizeof(s) - 1)

/* The start of every record of one source partition is the same text:
 * kept from the last record (pointers compared: a pipeline's tasks keep
 * their strings). */
typedef struct {
  const char *pipeline, *topic;
  int32_t partition;
  eddy_buf_t prefix; /* {"pipeline":..,"topic":..,"partition":N,"offset": */
} json_out_t;

static int json_create(eddy_output_t *o, char *errstr, size_t errstr_size) {
  json_out_t *j = calloc(1, sizeof *j);
  if (!j) return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  eddy_buf_init(&j->prefix);
  o->impl = j;
  return 0;
}

static void json_destroy(eddy_output_t *o) {
  json_out_t *j = o->impl;
  if (!j) return;
  eddy_buf_free(&j->prefix);
  free(j);
  o->impl = NULL;
}

static void put_prefix(eddy_buf_t *b, const eddy_prediction_t *p) {
  LIT(b, "{\"pipeline\":");
  eddy_json_string(b, p->pipeline, strlen(p->pipeline));
  if (!p->topic) { /* offline (eval): the record's index stands for the offset */
    LIT(b, ",\"index\":");
    return;
  }
  LIT(b, ",\"topic\":");
  eddy_json_string(b, p->topic, strlen(p->topic));
  LIT(b, ",\"partition\":");
  put_int(b, p->partition);
  LIT(b, ",\"offset\":");
}

static int json_encode(eddy_output_t *o, const eddy_prediction_t *p, eddy_buf_t *b) {
  json_out_t *j = o ? o->impl : NULL;
  if (j) {
    if (j->pipeline != p->pipeline || j->topic != p->topic || j->partition != p->partition ||
        j->prefix.len == 0) {
      eddy_buf_clear(&j->prefix);
      put_prefix(&j->prefix, p);
      j->pipeline = p->pipeline;
      j->topic = p->topic;
      j->partition = p->partition;
    }
    eddy_buf_put(b, j->prefix.data, j->prefix.len);
  } else {
    put_prefix(b, p);
  }
  /* Room for the usual record at once (the puts below then only copy). */
  eddy_buf_reserve(b, 256 + (size_t)p->k * 40 + p->key_len * 6 + p->id_len * 6);
  put_int(b, p->offset);
  if (!p->key) {
    LIT(b, ",\"key\":null");
  } else if (eddy_utf8_valid(p->key, p->key_len)) {
    LIT(b, ",\"key\":");
    eddy_json_string(b, p->key, p->key_len);
  } else {
    LIT(b, ",\"key_base64\":");
    put_base64(b, p->key, p->key_len);
  }
  if (p->id) {
    LIT(b, ",\"id\":");
    eddy_json_string(b, p->id, p->id_len);
  }
  int classification = p->schema->task == EDDY_CLASSIFICATION;
  LIT(b, ",\"prediction\":");
  if (classification) {
    if (p->k > 0) put_class(b, p->schema, p->predicted);
    else LIT(b, "null"); /* nothing learned yet: no class known */
    LIT(b, ",\"probabilities\":{");
    for (int c = 0; c < p->k; c++) {
      if (c) eddy_buf_put_u8(b, ',');
      put_class(b, p->schema, c);
      eddy_buf_put_u8(b, ':');
      put_double(b, p->scores[c]);
    }
    eddy_buf_put_u8(b, '}');
  } else {
    put_double(b, p->predicted);
  }
  if (p->has_score) {
    LIT(b, ",\"score\":");
    put_double(b, p->score);
  }
  if (p->served_by) {
    LIT(b, ",\"served_by\":");
    eddy_json_string(b, p->served_by, strlen(p->served_by));
  }
  if (p->has_label) {
    LIT(b, ",\"label\":");
    if (classification) put_class(b, p->schema, p->label);
    else put_double(b, p->label);
  }
  if (p->aggs && p->in) {
    LIT(b, ",\"aggregates\":{");
    for (size_t i = 0; i < p->aggs->n; i++) {
      const eddy_agg_t *g = &p->aggs->v[i];
      if (i) eddy_buf_put_u8(b, ',');
      eddy_json_string(b, g->name, strlen(g->name));
      eddy_buf_put_u8(b, ':');
      if (g->attr < 0 || p->in->missing[g->attr]) LIT(b, "null");
      else put_double(b, p->in->x[g->attr]);
    }
    eddy_buf_put_u8(b, '}');
  }
  LIT(b, ",\"model_version\":");
  put_int(b, (int64_t)p->model_version);
  LIT(b, ",\"time\":");
  put_time(b, p->time);
  eddy_buf_put_u8(b, '}');
  return b->err;
}

const eddy_output_format_t eddy_output_json = {"json", json_create, json_encode, json_destroy};

/* ---- Avro prediction records: binary against [sink] output_schema, or
 * the built-in schema (configs/prediction.avsc). avro-c parses the schema;
 * records are encoded here, field by field into the caller's buffer, so
 * nothing is allocated per record. */

#include <avro.h>

static const char default_schema[] =
    "{\"type\":\"record\",\"name\":\"Prediction\",\"namespace\":\"eddy\",\"fields\":["
    "{\"name\":\"pipeline\",\"type\":\"string\"},{\"name\":\"topic\",\"type\":\"string\"},"
    "{\"name\":\"partition\",\"type\":\"int\"},{\"name\":\"offset\",\"type\":\"long\"},"
    "{\"name\":\"key\",\"type\":[\"null\",\"bytes\"],\"default\":null},"
    "{\"name\":\"id\",\"type\":[\"null\",\"string\"],\"default\":null},"
    "{\"name\":\"prediction\",\"type\":[\"null\",\"string\",\"double\"],\"default\":null},"
    "{\"name\":\"probabilities\",\"type\":{\"type\":\"map\",\"values\":\"double\"}},"
    "{\"name\":\"score\",\"type\":[\"null\",\"double\"],\"default\":null},"
    "{\"name\":\"served_by\",\"type\":[\"null\",\"string\"],\"default\":null},"
    "{\"name\":\"label\",\"type\":[\"null\",\"string\",\"double\"],\"default\":null},"
    "{\"name\":\"model_version\",\"type\":\"long\"},"
    "{\"name\":\"time\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}}]}";

enum { F_PIPELINE, F_TOPIC, F_PARTITION, F_OFFSET, F_KEY, F_ID, F_PREDICTION, F_PROBS, F_LABEL,
       F_VERSION, F_TIME, F_SCORE, F_SERVED, F_NULL };
static const char *const field_names[] = {"pipeline", "topic", "partition", "offset", "key", "id",
                                          "prediction", "probabilities", "label", "model_version",
                                          "time", "score", "served_by"};

/* How one field is written: what it holds, its type, and for a union the
 * branch numbers of null, string, bytes, double and long (-1: none). */
typedef struct {
  int what;
  avro_type_t type; /* the non-union type, or AVRO_UNION */
  int null_b, string_b, bytes_b, double_b, long_b, int_b;
} out_field_t;

typedef struct {
  avro_schema_t schema;
  out_field_t *fields;
  size_t n;
  int64_t schema_id;
} avro_out_t;

static void put_avro_long(eddy_buf_t *b, int64_t v) {
  uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
  uint8_t t[10];
  size_t n = 0;
  while (z >= 0x80) {
    t[n++] = (uint8_t)(z | 0x80);
    z >>= 7;
  }
  t[n++] = (uint8_t)z;
  eddy_buf_put(b, t, n);
}

static void put_avro_bytes(eddy_buf_t *b, const void *p, size_t len) {
  put_avro_long(b, (int64_t)len);
  eddy_buf_put(b, p, len);
}

static void put_avro_double(eddy_buf_t *b, double v) {
  uint64_t u;
  memcpy(&u, &v, 8);
  eddy_buf_put_u64(b, u); /* little-endian, as Avro's */
}

static int plan_field(out_field_t *f, avro_schema_t t) {
  f->null_b = f->string_b = f->bytes_b = f->double_b = f->long_b = f->int_b = -1;
  if (avro_typeof(t) == AVRO_LINK) t = avro_schema_link_target(t);
  f->type = avro_typeof(t);
  if (f->type != AVRO_UNION) return 0;
  for (size_t i = 0; i < avro_schema_union_size(t); i++) {
    switch (avro_typeof(avro_schema_union_branch(t, (int)i))) {
    case AVRO_NULL: f->null_b = (int)i; break;
    case AVRO_STRING: f->string_b = (int)i; break;
    case AVRO_BYTES: f->bytes_b = (int)i; break;
    case AVRO_DOUBLE: f->double_b = (int)i; break;
    case AVRO_INT64: f->long_b = (int)i; break;
    case AVRO_INT32: f->int_b = (int)i; break;
    default: break;
    }
  }
  return 0;
}

/* Whether a field of this plan can carry `what` (checked once, at create). */
static int fits(const out_field_t *f, int what) {
  int u = f->type == AVRO_UNION;
  switch (what) {
  case F_PIPELINE:
  case F_TOPIC: return f->type == AVRO_STRING || (u && f->string_b >= 0);
  case F_PARTITION: return f->type == AVRO_INT32 || f->type == AVRO_INT64 || (u && (f->int_b >= 0 || f->long_b >= 0));
  case F_OFFSET:
  case F_VERSION:
  case F_TIME: return f->type == AVRO_INT64 || (u && f->long_b >= 0);
  case F_KEY: return u && f->null_b >= 0 && (f->bytes_b >= 0 || f->string_b >= 0);
  case F_ID: return u && f->null_b >= 0 && f->string_b >= 0;
  case F_PREDICTION:
  case F_LABEL: return u && f->null_b >= 0 && (f->string_b >= 0 || f->double_b >= 0);
  case F_PROBS: return f->type == AVRO_MAP;
  case F_SCORE: return u && f->null_b >= 0 && f->double_b >= 0;
  case F_SERVED: return u && f->null_b >= 0 && f->string_b >= 0;
  default: return u && f->null_b >= 0;
  }
}

static void avro_out_destroy(eddy_output_t *o) {
  avro_out_t *a = o->impl;
  if (!a) return;
  if (a->schema) avro_schema_decref(a->schema);
  free(a->fields);
  free(a);
  o->impl = NULL;
}

static int avro_out_create(eddy_output_t *o, char *errstr, size_t errstr_size) {
  const char *path = o->conf->sink.output_schema;
  avro_out_t *a = calloc(1, sizeof *a);
  if (!a) return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  o->impl = a;
  a->schema_id = o->conf->sink.output_schema_id;
  eddy_buf_t text;
  eddy_buf_init(&text);
  const char *json = default_schema, *name = "the built-in prediction schema";
  size_t len = sizeof default_schema - 1;
  if (path && *path) {
    FILE *f = fopen(path, "rb");
    char chunk[8192];
    size_t n;
    if (!f) {
      avro_out_destroy(o);
      return eddy_seterr(errstr, errstr_size, EDDY_EIO, "[sink] output_schema: %s: cannot open", path);
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) eddy_buf_put(&text, chunk, n);
    fclose(f);
    json = (const char *)text.data;
    len = text.len;
    name = path;
  }
  int rc = text.err ? -1 : avro_schema_from_json_length(json ? json : "", len, &a->schema);
  eddy_buf_free(&text);
  if (rc || !is_avro_record(a->schema)) {
    if (!rc) avro_schema_decref(a->schema);
    a->schema = NULL;
    avro_out_destroy(o);
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "[sink] output_schema: %s is not an Avro record schema", name);
  }
  a->n = avro_schema_record_size(a->schema);
  a->fields = calloc(a->n ? a->n : 1, sizeof *a->fields);
  if (!a->fields) {
    avro_out_destroy(o);
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < a->n; i++) {
    const char *fname = avro_schema_record_field_name(a->schema, (int)i);
    out_field_t *f = &a->fields[i];
    plan_field(f, avro_schema_record_field_get_by_index(a->schema, (int)i));
    f->what = F_NULL;
    for (int w = 0; w < F_NULL; w++)
      if (strcmp(fname, field_names[w]) == 0) f->what = w;
    if (!fits(f, f->what)) {
      /* The message first: fname and f go with the schema and the plan. */
      eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "[sink] output_schema %s: field '%s' %s", name, fname,
                  f->what == F_NULL ? "is not one eddy writes and is not nullable"
                                    : "has a type that cannot hold what eddy writes there (see configs/prediction.avsc)");
      avro_out_destroy(o);
      return EDDY_EINVAL;
    }
  }
  return 0;
}

static void put_branch(eddy_buf_t *b, const out_field_t *f, int branch) {
  if (f->type == AVRO_UNION) put_avro_long(b, branch);
}

static void put_text(eddy_buf_t *b, const out_field_t *f, const char *s, size_t len) {
  put_branch(b, f, f->string_b);
  put_avro_bytes(b, s, len);
}

static void put_long_field(eddy_buf_t *b, const out_field_t *f, int64_t v) {
  if (f->type == AVRO_UNION) put_branch(b, f, f->long_b >= 0 ? f->long_b : f->int_b);
  put_avro_long(b, v); /* int and long share the zigzag varint */
}

/* A class (by index) or a value: the class's text when the field has a
 * string branch, else the number. */
static void put_outcome(eddy_buf_t *b, const out_field_t *f, const eddy_prediction_t *p, double v) {
  const char *name = p->schema->task == EDDY_CLASSIFICATION && v >= 0
                         ? eddy_dict_name(p->schema->target.dict, (uint32_t)v) : NULL;
  if (name && f->string_b >= 0) {
    put_text(b, f, name, strlen(name));
  } else if (p->schema->task == EDDY_REGRESSION && f->double_b >= 0) {
    put_branch(b, f, f->double_b);
    put_avro_double(b, v);
  } else if (name && f->double_b >= 0) {
    put_branch(b, f, f->double_b); /* only a number field: the class index */
    put_avro_double(b, v);
  } else {
    put_branch(b, f, f->null_b);
  }
}

static int avro_out_encode(eddy_output_t *o, const eddy_prediction_t *p, eddy_buf_t *b) {
  avro_out_t *a = o->impl;
  if (a->schema_id >= 0) {
    uint8_t h[5] = {0, (uint8_t)(a->schema_id >> 24), (uint8_t)(a->schema_id >> 16),
                    (uint8_t)(a->schema_id >> 8), (uint8_t)a->schema_id};
    eddy_buf_put(b, h, 5);
  }
  int classification = p->schema->task == EDDY_CLASSIFICATION;
  for (size_t i = 0; i < a->n; i++) {
    const out_field_t *f = &a->fields[i];
    switch (f->what) {
    case F_PIPELINE: put_text(b, f, p->pipeline, strlen(p->pipeline)); break;
    case F_TOPIC: put_text(b, f, p->topic, strlen(p->topic)); break;
    case F_PARTITION: put_long_field(b, f, p->partition); break;
    case F_OFFSET: put_long_field(b, f, p->offset); break;
    case F_VERSION: put_long_field(b, f, (int64_t)p->model_version); break;
    case F_TIME: put_long_field(b, f, (int64_t)(p->time * 1000.0)); break;
    case F_KEY:
      if (!p->key) {
        put_branch(b, f, f->null_b);
      } else {
        put_branch(b, f, f->bytes_b >= 0 ? f->bytes_b : f->string_b);
        put_avro_bytes(b, p->key, p->key_len);
      }
      break;
    case F_ID:
      if (p->id) put_text(b, f, p->id, p->id_len);
      else put_branch(b, f, f->null_b);
      break;
    case F_PREDICTION:
      if (classification && p->k <= 0) put_branch(b, f, f->null_b); /* nothing learned yet */
      else put_outcome(b, f, p, p->predicted);
      break;
    case F_LABEL:
      if (p->has_label) put_outcome(b, f, p, p->label);
      else put_branch(b, f, f->null_b);
      break;
    case F_PROBS: {
      int k = classification ? p->k : 0;
      if (k > 0) {
        put_avro_long(b, k); /* one block of k entries, then the end */
        for (int c = 0; c < k; c++) {
          const char *name = eddy_dict_name(p->schema->target.dict, (uint32_t)c);
          put_avro_bytes(b, name ? name : "", name ? strlen(name) : 0);
          put_avro_double(b, p->scores[c]);
        }
      }
      put_avro_long(b, 0);
      break;
    }
    case F_SCORE:
      if (p->has_score && p->score == p->score) {
        put_branch(b, f, f->double_b);
        put_avro_double(b, p->score);
      } else {
        put_branch(b, f, f->null_b);
      }
      break;
    case F_SERVED:
      if (p->served_by) put_text(b, f, p->served_by, strlen(p->served_by));
      else put_branch(b, f, f->null_b);
      break;
    default: put_branch(b, f, f->null_b); break;
    }
  }
  return b->err;
}

const eddy_output_format_t eddy_output_avro = {"avro", avro_out_create, avro_out_encode, avro_out_destroy};

const char *eddy_output_avro_default_schema(void) { return default_schema; }

eddy_output_t *eddy_output_new(const eddy_pipeline_conf_t *c, char *errstr, size_t errstr_size) {
  const eddy_output_format_t *f;
  switch (c->sink.format) {
  case EDDY_FORMAT_JSON: f = &eddy_output_json; break;
  case EDDY_FORMAT_AVRO: f = &eddy_output_avro; break;
  default:
    eddy_seterr(errstr, errstr_size, EDDY_ENOTSUP, "%s:%d: [sink] format: predictions are json or avro",
                c->file, c->line);
    return NULL;
  }
  eddy_output_t *o = calloc(1, sizeof *o);
  if (!o) {
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    return NULL;
  }
  o->format = f;
  o->conf = c;
  if (f->create && f->create(o, errstr, errstr_size)) {
    free(o);
    return NULL;
  }
  return o;
}

void eddy_output_free(eddy_output_t *o) {
  if (!o) return;
  if (o->format->destroy) o->format->destroy(o);
  free(o);
}
