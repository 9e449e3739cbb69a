/* avro.c: Avro binary records against a schema file (.avsc), plain or in
 * the Confluent wire format (byte 0, a 4-byte big-endian schema id, then the
 * body). avro-c decodes; this file checks what avro-c does not:
 * the schema id before decoding, and trailing bytes after the record. */
#include <avro.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/connectors.h"

typedef struct {
  avro_schema_t schema;
  avro_value_iface_t *iface;
  avro_value_t value; /* reused for every record */
  avro_reader_t reader;
  const eddy_field_t **by_index; /* record field -> eddy field (NULL: ignored) */
  size_t n_fields;
  int wire;           /* eddy_wire_t */
  int64_t schema_id;  /* -1: any */
} avro_t;

/* ---- validation: avro-c trusts the lengths and counts it reads (a
 * garbage string length makes it allocate gigabytes), so every record is
 * first walked against the schema with each length, count, branch and
 * symbol checked against what is there. The walk allocates nothing. */

#define MAX_DEPTH 32
#define MAX_ITEMS 1000000 /* zero-byte items (null) could claim any count */

typedef struct {
  const uint8_t *p, *end;
  uint64_t items;
} walk_t;

static int varint(walk_t *w, int64_t *out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (w->p >= w->end) return -1;
    uint8_t b = *w->p++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1); /* zigzag */
      return 0;
    }
  }
  return -1;
}

static int skip_bytes(walk_t *w, int64_t n) {
  if (n < 0 || n > w->end - w->p) return -1;
  w->p += n;
  return 0;
}

static int walk(walk_t *w, avro_schema_t s, int depth) {
  int64_t n;
  if (depth > MAX_DEPTH) return -1;
  switch (avro_typeof(s)) {
  case AVRO_NULL: return 0;
  case AVRO_BOOLEAN:
    if (w->p >= w->end || *w->p > 1) return -1;
    w->p++;
    return 0;
  case AVRO_INT32:
  case AVRO_INT64: return varint(w, &n);
  case AVRO_FLOAT: return skip_bytes(w, 4);
  case AVRO_DOUBLE: return skip_bytes(w, 8);
  case AVRO_STRING:
  case AVRO_BYTES: return varint(w, &n) ? -1 : skip_bytes(w, n);
  case AVRO_FIXED: return skip_bytes(w, avro_schema_fixed_size(s));
  case AVRO_ENUM: return varint(w, &n) || n < 0 || n >= avro_schema_enum_number_of_symbols(s) ? -1 : 0;
  case AVRO_UNION:
    if (varint(w, &n) || n < 0 || (size_t)n >= avro_schema_union_size(s)) return -1;
    return walk(w, avro_schema_union_branch(s, (int)n), depth + 1);
  case AVRO_RECORD:
    for (size_t i = 0, k = avro_schema_record_size(s); i < k; i++)
      if (walk(w, avro_schema_record_field_get_by_index(s, (int)i), depth + 1)) return -1;
    return 0;
  case AVRO_ARRAY:
  case AVRO_MAP: {
    avro_schema_t item = avro_typeof(s) == AVRO_ARRAY ? avro_schema_array_items(s) : avro_schema_map_values(s);
    for (;;) { /* blocks: count (negative: followed by a byte size), items; 0 ends */
      if (varint(w, &n)) return -1;
      if (n == 0) return 0;
      if (n < 0) {
        int64_t size;
        if (n == INT64_MIN || varint(w, &size) || size < 0) return -1;
        n = -n;
      }
      if ((w->items += (uint64_t)n) > MAX_ITEMS) return -1;
      for (int64_t i = 0; i < n; i++) {
        int64_t klen;
        if (avro_typeof(s) == AVRO_MAP && (varint(w, &klen) || skip_bytes(w, klen))) return -1;
        if (walk(w, item, depth + 1)) return -1;
      }
    }
  }
  case AVRO_LINK: return walk(w, avro_schema_link_target(s), depth + 1);
  default: return -1;
  }
}

static void avro_destroy(eddy_decoder_t *d) {
  avro_t *a = d->impl;
  if (!a) return;
  if (a->iface) {
    avro_value_decref(&a->value);
    avro_value_iface_decref(a->iface);
  }
  if (a->reader) avro_reader_free(a->reader);
  if (a->schema) avro_schema_decref(a->schema);
  free(a->by_index);
  free(a);
  d->impl = NULL;
}

static int avro_create(eddy_decoder_t *d, const char *const *columns, size_t n, char *errstr,
                       size_t errstr_size) {
  (void)columns;
  (void)n;
  const char *path = d->conf->source.schema;
  if (!path || !*path)
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "[source] schema: an .avsc file is required for avro");
  avro_t *a = calloc(1, sizeof *a);
  if (!a) return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  d->impl = a;
  a->wire = d->conf->source.wire;
  a->schema_id = d->conf->source.schema_id;
  eddy_buf_t text;
  eddy_buf_init(&text);
  int err = eddy_buf_read_file(&text, path);
  if (err) {
    eddy_buf_free(&text);
    avro_destroy(d);
    return eddy_seterr(errstr, errstr_size, err, "%s: %s", path, strerror(errno));
  }
  /* avro_schema_from_json ignores its length argument and reads to a NUL:
   * use the _length variant. */
  int rc = avro_schema_from_json_length((const char *)text.data, text.len, &a->schema);
  eddy_buf_free(&text);
  if (rc || !is_avro_record(a->schema)) {
    if (!rc) avro_schema_decref(a->schema);
    a->schema = NULL;
    avro_destroy(d);
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "%s: not an Avro record schema (%s)", path,
                       rc ? avro_strerror() : "top-level type is not a record");
  }
  a->iface = avro_generic_class_from_schema(a->schema);
  if (!a->iface || avro_generic_value_new(a->iface, &a->value)) {
    if (a->iface) avro_value_iface_decref(a->iface);
    a->iface = NULL;
    avro_destroy(d);
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "%s: cannot make a value of its schema", path);
  }
  a->reader = avro_reader_memory(d->scratch, 0);
  a->n_fields = avro_schema_record_size(a->schema);
  a->by_index = calloc(a->n_fields ? a->n_fields : 1, sizeof *a->by_index);
  if (!a->reader || !a->by_index) {
    avro_destroy(d);
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < a->n_fields; i++) {
    const char *name = avro_schema_record_field_name(a->schema, (int)i);
    const eddy_field_t *f = eddy_fields_find(d->fields, name, strlen(name));
    a->by_index[i] = f && f->kind != EDDY_FIELD_IGNORE ? f : NULL;
  }
  return 0;
}

/* One field's value into the record. Unions: the current branch; null is a
 * missing value. */
static int put(eddy_decoder_t *d, eddy_schema_t *s, eddy_record_t *r, const eddy_field_t *f,
               avro_value_t *v, char *errstr, size_t errstr_size) {
  avro_value_t branch;
  int32_t i32;
  int64_t i64;
  float fl;
  double db;
  int b;
  const char *str;
  size_t size;
  const void *bytes;
  switch (avro_value_get_type(v)) {
  case AVRO_UNION:
    if (avro_value_get_current_branch(v, &branch)) return EDDY_EPARSE;
    return put(d, s, r, f, &branch, errstr, errstr_size);
  case AVRO_NULL:
    return eddy_record_set(r, d->fields, s, f, NULL, 0, 0, errstr, errstr_size);
  case AVRO_STRING:
    if (avro_value_get_string(v, &str, &size)) return EDDY_EPARSE;
    return eddy_record_set(r, d->fields, s, f, str, size ? size - 1 : 0, 1, errstr, errstr_size);
  case AVRO_BYTES:
    if (avro_value_get_bytes(v, &bytes, &size)) return EDDY_EPARSE;
    return eddy_record_set(r, d->fields, s, f, bytes, size, 1, errstr, errstr_size);
  case AVRO_ENUM: {
    if (avro_value_get_enum(v, &i32)) return EDDY_EPARSE;
    const char *sym = avro_schema_enum_get(avro_value_get_schema(v), i32);
    if (!sym) return EDDY_EPARSE;
    return eddy_record_set(r, d->fields, s, f, sym, strlen(sym), 1, errstr, errstr_size);
  }
  case AVRO_BOOLEAN:
    if (avro_value_get_boolean(v, &b)) return EDDY_EPARSE;
    return eddy_record_set(r, d->fields, s, f, b ? "true" : "false", b ? 4 : 5, 0, errstr, errstr_size);
  case AVRO_INT32:
    if (avro_value_get_int(v, &i32)) return EDDY_EPARSE;
    return eddy_record_set_number(r, d->fields, s, f, (double)i32, errstr, errstr_size);
  case AVRO_INT64:
    if (avro_value_get_long(v, &i64)) return EDDY_EPARSE;
    return eddy_record_set_number(r, d->fields, s, f, (double)i64, errstr, errstr_size);
  case AVRO_FLOAT:
    if (avro_value_get_float(v, &fl)) return EDDY_EPARSE;
    return eddy_record_set_number(r, d->fields, s, f, (double)fl, errstr, errstr_size);
  case AVRO_DOUBLE:
    if (avro_value_get_double(v, &db)) return EDDY_EPARSE;
    return eddy_record_set_number(r, d->fields, s, f, db, errstr, errstr_size);
  default:
    return eddy_seterr(errstr, errstr_size, EDDY_ETYPE,
                       "field '%s': expected a number or a string, got a nested Avro value", f->name);
  }
}

static int avro_decode(eddy_decoder_t *d, eddy_schema_t *s, const void *p, size_t len,
                       eddy_record_t *r, char *errstr, size_t errstr_size) {
  avro_t *a = d->impl;
  const uint8_t *b = p;
  int confluent = a->wire == EDDY_WIRE_CONFLUENT || (a->wire == EDDY_WIRE_AUTO && len >= 5 && b[0] == 0);
  if (confluent) {
    if (len < 5 || b[0] != 0)
      return eddy_seterr(errstr, errstr_size, EDDY_EPARSE,
                         "not in the Confluent wire format (magic byte %d, %zu bytes)", len ? b[0] : -1, len);
    int64_t id = (int64_t)((uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 8 | b[4]);
    if (a->schema_id >= 0 && id != a->schema_id)
      return eddy_seterr(errstr, errstr_size, EDDY_EPARSE, "schema id %lld, expected %lld",
                         (long long)id, (long long)a->schema_id);
    b += 5;
    len -= 5;
  }
  walk_t w = {b, b + len, 0};
  if (walk(&w, a->schema, 0))
    return eddy_seterr(errstr, errstr_size, EDDY_EPARSE,
                       "malformed Avro record (truncated, or a length, count or branch out of bounds "
                       "at byte %zu)", (size_t)(w.p - b) + (confluent ? 5 : 0));
  if (w.p != w.end)
    return eddy_seterr(errstr, errstr_size, EDDY_EPARSE,
                       "Avro record is %zu bytes but the payload has %zu (wrong schema?)",
                       (size_t)(w.p - b), len);
  /* avro-c reads from our scratch copy: the caller's buffer may go away. */
  memcpy(d->scratch, b, len);
  avro_reader_memory_set_source(a->reader, d->scratch, (int64_t)len);
  avro_value_reset(&a->value);
  int rc = avro_value_read(a->reader, &a->value);
  if (rc)
    return eddy_seterr(errstr, errstr_size, EDDY_EPARSE, "malformed Avro record (%s, errno %d)",
                       rc == ENOSPC || rc == EILSEQ ? "truncated or corrupt" : "cannot decode", rc);
  for (size_t i = 0; i < a->n_fields; i++) {
    if (!a->by_index[i]) continue;
    avro_value_t field;
    if (avro_value_get_by_index(&a->value, i, &field, NULL)) return EDDY_EPARSE;
    int err = put(d, s, r, a->by_index[i], &field, errstr, errstr_size);
    if (err) return err;
  }
  return 0;
}

const eddy_codec_t eddy_codec_avro = {"avro", avro_create, avro_decode, avro_destroy};
