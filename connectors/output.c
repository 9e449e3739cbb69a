/* output.c: prediction records. The encoder is picked by [sink] format
 * through a descriptor (eddy_output_format_t), as decoders are, so that an
 * Avro encoder is one more descriptor. JSON is written by hand into the
 * caller's reused buffer: nothing is allocated per record. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connectors.h"

int eddy_utf8_valid(const void *p, size_t len) {
  const unsigned char *s = p, *end = s + len;
  while (s < end) {
    unsigned c = *s;
    if (c < 0x80) {
      s++;
      continue;
    }
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (!n || c > 0xF4 || (size_t)(end - s) < n) return 0;
    for (size_t i = 1; i < n; i++)
      if ((s[i] & 0xC0) != 0x80) return 0;
    if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F) || (c == 0xF0 && s[1] < 0x90) ||
        (c == 0xF4 && s[1] > 0x8F))
      return 0;
    s += n;
  }
  return 1;
}

static const char hexdigits[] = "0123456789abcdef";

void eddy_json_string(eddy_buf_t *b, const char *s, size_t len) {
  if (eddy_buf_reserve(b, len + 2)) return;
  eddy_buf_put_u8(b, '"');
  const unsigned char *p = (const unsigned char *)s, *end = p + len;
  while (p < end) {
    /* Runs of plain bytes in one copy. */
    const unsigned char *q = p;
    while (q < end && *q >= 0x20 && *q < 0x80 && *q != '"' && *q != '\\') q++;
    if (q > p) {
      eddy_buf_put(b, p, (size_t)(q - p));
      p = q;
      continue;
    }
    unsigned c = *p;
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      eddy_buf_put(b, e, 2);
      p++;
    } else if (c < 0x20) {
      char e[6] = {'\\', 'u', '0', '0', hexdigits[c >> 4], hexdigits[c & 15]};
      eddy_buf_put(b, e, 6);
      p++;
    } else {
      size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
      if ((size_t)(end - p) >= n && eddy_utf8_valid(p, n)) {
        eddy_buf_put(b, p, n);
        p += n;
      } else {
        char e[6] = {'\\', 'u', '0', '0', hexdigits[c >> 4], hexdigits[c & 15]};
        eddy_buf_put(b, e, 6);
        p++;
      }
    }
  }
  eddy_buf_put_u8(b, '"');
}

static void put_double(eddy_buf_t *b, double v) {
  char s[40];
  if (!isfinite(v)) {
    eddy_buf_put(b, "null", 4);
    return;
  }
  int n = eddy_fmt_double(s, sizeof s, v);
  eddy_buf_put(b, s, (size_t)n);
}

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

/* The Avro encoder's slot: [sink] format = avro is refused until it is
 * written (the decoder side is connectors/avro.c). */
static int avro_out_create(eddy_output_t *o, char *errstr, size_t errstr_size) {
  (void)o;
  return eddy_seterr(errstr, errstr_size, EDDY_ENOTSUP,
                     "[sink] format = avro: Avro prediction records are not written yet; use json");
}

static int avro_out_encode(eddy_output_t *o, const eddy_prediction_t *p, eddy_buf_t *b) {
  (void)o;
  (void)p;
  (void)b;
  return EDDY_ENOTSUP;
}

const eddy_output_format_t eddy_output_avro = {"avro", avro_out_create, avro_out_encode, NULL};

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
