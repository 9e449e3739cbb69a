/* avro.c: Avro binary records against a schema file (.avsc), plain or in
 * the Confluent wire format (byte 0, a 4-byte big-endian schema id, then the
 * body). avro-c decodes; this file checks what avro-c does not (PITFALLS.md):
 * the schema id before decoding, and trailing bytes after the record. */
#include <avro.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors.h"

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

static int read_file(const char *path, eddy_buf_t *b) {
  FILE *f = fopen(path, "rb");
  if (!f) return EDDY_EIO;
  char chunk[8192];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) eddy_buf_put(b, chunk, n);
  int err = ferror(f) ? EDDY_EIO : b->err;
  fclose(f);
  return err;
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
  int err = read_file(path, &text);
  if (err) {
    eddy_buf_free(&text);
    avro_destroy(d);
    return eddy_seterr(errstr, errstr_size, err, "%s: %s", path, strerror(errno));
  }
  avro_schema_error_t serr;
  int rc = avro_schema_from_json((const char *)text.data, (int32_t)text.len, &a->schema, &serr);
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
  /* avro-c reads from our scratch copy: the caller's buffer may go away. */
  memcpy(d->scratch, b, len);
  avro_reader_memory_set_source(a->reader, d->scratch, (int64_t)len);
  avro_value_reset(&a->value);
  int rc = avro_value_read(a->reader, &a->value);
  if (rc)
    return eddy_seterr(errstr, errstr_size, EDDY_EPARSE, "malformed Avro record (%s, errno %d)",
                       rc == ENOSPC || rc == EILSEQ ? "truncated or corrupt" : "cannot decode", rc);
  size_t used = 0;
  if (avro_value_sizeof(&a->value, &used) || used != len)
    return eddy_seterr(errstr, errstr_size, EDDY_EPARSE,
                       "Avro record is %zu bytes but the payload has %zu (wrong schema?)", used, len);
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
