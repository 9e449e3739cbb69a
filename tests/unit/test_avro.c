/* test_avro.c: Avro records, plain and in the Confluent wire format, made
 * with avro-c's writer and read back by eddy's decoder; malformed, trailing
 * and wrong-schema payloads are refused. */
#include <avro.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
#include "connectors/connectors.h"

static const char *avsc =
    "{\"type\":\"record\",\"name\":\"Txn\",\"fields\":["
    "{\"name\":\"amount\",\"type\":\"double\"},"
    "{\"name\":\"hour\",\"type\":\"int\"},"
    "{\"name\":\"merchant\",\"type\":\"string\"},"
    "{\"name\":\"day\",\"type\":{\"type\":\"enum\",\"name\":\"Day\",\"symbols\":[\"MON\",\"TUE\"]}},"
    "{\"name\":\"note\",\"type\":[\"null\",\"string\"]},"
    "{\"name\":\"user\",\"type\":\"string\"},"
    "{\"name\":\"fraud\",\"type\":\"boolean\"}]}";

static char err[1024];

typedef struct {
  eddy_config_t *c;
  eddy_fields_t *f;
  eddy_schema_t *s;
  eddy_decoder_t *d;
  eddy_record_t r;
  avro_schema_t as;
  avro_value_iface_t *iface;
} fx_t;

static char avsc_path[64];

static void setup(fx_t *x, const char *extra) {
  /* One file per test process: Criterion runs tests in parallel. */
  snprintf(avsc_path, sizeof avsc_path, "/tmp/eddy-test-%d.avsc", (int)getpid());
  FILE *f = fopen(avsc_path, "w");
  fputs(avsc, f);
  fclose(f);
  char text[1024];
  snprintf(text, sizeof text,
           "[pipeline]\nname = t\n[source]\ntopics = t\nformat = avro\nschema = %s\n%s\n"
           "[features]\nnumeric = amount, hour\nnominal = merchant, day, note\ntarget = fraud\nkey = user\n"
           "[model]\nlearner = majority\n", avsc_path, extra);
  x->c = eddy_config_parse(text, "t.ini", err, sizeof err);
  cr_assert_not_null(x->c, "%s", err);
  x->f = eddy_fields_new(&x->c->pipelines[0], NULL, 0, NULL, 0, err, sizeof err);
  cr_assert_not_null(x->f, "%s", err);
  x->s = eddy_fields_schema(x->f, err, sizeof err);
  x->d = eddy_decoder_new(EDDY_FORMAT_AVRO, x->f, &x->c->pipelines[0], NULL, 0, err, sizeof err);
  cr_assert_not_null(x->d, "%s", err);
  eddy_record_init(&x->r, x->f);
  cr_assert_eq(avro_schema_from_json_length(avsc, strlen(avsc), &x->as), 0);
  x->iface = avro_generic_class_from_schema(x->as);
}

static void teardown(fx_t *x) {
  remove(avsc_path);
  avro_value_iface_decref(x->iface);
  avro_schema_decref(x->as);
  eddy_record_free(&x->r);
  eddy_decoder_free(x->d);
  eddy_schema_free(x->s);
  eddy_fields_free(x->f);
  eddy_config_free(x->c);
}

/* Encodes one record; returns its length in out (after `prefix` bytes). */
static size_t encode(fx_t *x, char *out, size_t cap, size_t prefix, double amount, const char *note,
                     int fraud) {
  avro_value_t v, fv, br;
  avro_generic_value_new(x->iface, &v);
  avro_value_get_by_name(&v, "amount", &fv, NULL);
  avro_value_set_double(&fv, amount);
  avro_value_get_by_name(&v, "hour", &fv, NULL);
  avro_value_set_int(&fv, 13);
  avro_value_get_by_name(&v, "merchant", &fv, NULL);
  avro_value_set_string(&fv, "caf\xc3\xa9");
  avro_value_get_by_name(&v, "day", &fv, NULL);
  avro_value_set_enum(&fv, 1);
  avro_value_get_by_name(&v, "note", &fv, NULL);
  if (note) {
    avro_value_set_branch(&fv, 1, &br);
    avro_value_set_string(&br, note);
  } else {
    avro_value_set_branch(&fv, 0, &br);
    avro_value_set_null(&br);
  }
  avro_value_get_by_name(&v, "user", &fv, NULL);
  avro_value_set_string(&fv, "u42");
  avro_value_get_by_name(&v, "fraud", &fv, NULL);
  avro_value_set_boolean(&fv, fraud);
  avro_writer_t w = avro_writer_memory(out + prefix, (int64_t)(cap - prefix));
  cr_assert_eq(avro_value_write(w, &v), 0);
  size_t n = (size_t)avro_writer_tell(w);
  avro_writer_free(w);
  avro_value_decref(&v);
  return n;
}

Test(avro, plain_records_decode) {
  fx_t x;
  setup(&x, "wire_format = plain");
  char buf[256];
  size_t n = encode(&x, buf, sizeof buf, 0, 12.5, NULL, 1);
  cr_assert_eq(eddy_decoder_decode(x.d, x.s, buf, n, &x.r, err, sizeof err), 0, "%s", err);
  cr_assert_eq(x.r.in.x[0], 12.5);
  cr_assert_eq(x.r.in.x[1], 13.0);
  cr_assert_str_eq(eddy_dict_name(x.s->attrs[2].dict, (uint32_t)x.r.in.x[2]), "caf\xc3\xa9");
  cr_assert_str_eq(eddy_dict_name(x.s->attrs[3].dict, (uint32_t)x.r.in.x[3]), "TUE");
  cr_assert_eq(x.r.in.missing[4], 1, "a null union branch is missing");
  cr_assert_eq(x.r.key_len, 3);
  cr_assert(memcmp(x.r.key, "u42", 3) == 0);
  cr_assert_str_eq(eddy_dict_name(x.s->target.dict, (uint32_t)x.r.in.y), "true");
  n = encode(&x, buf, sizeof buf, 0, -1, "vip", 0);
  cr_assert_eq(eddy_decoder_decode(x.d, x.s, buf, n, &x.r, err, sizeof err), 0, "%s", err);
  cr_assert_eq(x.r.in.missing[4], 0);
  cr_assert_str_eq(eddy_dict_name(x.s->attrs[4].dict, 0), "vip");
  /* Truncated: refused. Trailing bytes: refused (avro-c alone accepts them). */
  cr_assert_lt(eddy_decoder_decode(x.d, x.s, buf, n - 3, &x.r, err, sizeof err), 0);
  buf[n] = 7;
  cr_assert_eq(eddy_decoder_decode(x.d, x.s, buf, n + 1, &x.r, err, sizeof err), EDDY_EPARSE);
  cr_assert(strstr(err, "payload"), "%s", err);
  teardown(&x);
}

Test(avro, confluent_wire_format_and_schema_id) {
  fx_t x;
  setup(&x, "wire_format = confluent\nschema_id = 7");
  char buf[256];
  size_t n = encode(&x, buf, sizeof buf, 5, 3.25, "x", 1);
  memcpy(buf, "\0\0\0\0\x07", 5);
  cr_assert_eq(eddy_decoder_decode(x.d, x.s, buf, n + 5, &x.r, err, sizeof err), 0, "%s", err);
  cr_assert_eq(x.r.in.x[0], 3.25);
  buf[4] = 8; /* another schema id: refused before decoding */
  cr_assert_eq(eddy_decoder_decode(x.d, x.s, buf, n + 5, &x.r, err, sizeof err), EDDY_EPARSE);
  cr_assert(strstr(err, "schema id 8, expected 7"), "%s", err);
  buf[0] = 1;
  cr_assert_eq(eddy_decoder_decode(x.d, x.s, buf, n + 5, &x.r, err, sizeof err), EDDY_EPARSE);
  cr_assert(strstr(err, "magic byte 1"), "%s", err);
  teardown(&x);
}

Test(avro, garbage_is_refused) {
  fx_t x;
  setup(&x, "wire_format = plain");
  eddy_rng_t r;
  eddy_rng_seed(&r, 3);
  char buf[64];
  int refused = 0;
  for (int i = 0; i < 2000; i++) {
    size_t n = 1 + eddy_rng_below(&r, sizeof buf);
    for (size_t j = 0; j < n; j++) buf[j] = (char)eddy_rng_below(&r, 256);
    refused += eddy_decoder_decode(x.d, x.s, buf, n, &x.r, err, sizeof err) != 0;
  }
  cr_assert_gt(refused, 1900, "random bytes are nearly always refused (%d of 2000)", refused);
  teardown(&x);
}

Test(avro, bad_schema_file) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/eddy-bad-%d.avsc", (int)getpid());
  FILE *f = fopen(path, "w");
  fputs("{\"type\":\"string\"}", f);
  fclose(f);
  char text[512];
  snprintf(text, sizeof text, "[pipeline]\nname = t\n[source]\ntopics = t\nformat = avro\nschema = %s\n"
           "[features]\nnumeric = a\ntarget = y\n[model]\nlearner = majority\n", path);
  eddy_config_t *c = eddy_config_parse(text, "t.ini", err, sizeof err);
  cr_assert_not_null(c, "%s", err);
  eddy_fields_t *fl = eddy_fields_new(&c->pipelines[0], NULL, 0, NULL, 0, err, sizeof err);
  cr_assert_null(eddy_decoder_new(EDDY_FORMAT_AVRO, fl, &c->pipelines[0], NULL, 0, err, sizeof err));
  cr_assert(strstr(err, path) && strstr(err, "record"), "%s", err);
  remove(path);
  eddy_fields_free(fl);
  eddy_config_free(c);
}

/* A well-formed prefix then a string claiming 2^40 bytes: avro-c alone
 * would try to allocate them; eddy refuses before decoding. */
Test(avro, huge_length_refused_without_allocating) {
  fx_t x;
  setup(&x, "wire_format = plain");
  uint8_t buf[32];
  size_t n = 0;
  double amount = 1.5;
  memcpy(buf, &amount, 8); /* little-endian host, as Avro */
  n = 8;
  buf[n++] = 26; /* hour = 13, zigzag */
  uint64_t len = 1ull << 40, z = len << 1;
  while (z >= 0x80) {
    buf[n++] = (uint8_t)(z | 0x80);
    z >>= 7;
  }
  buf[n++] = (uint8_t)z;
  memcpy(buf + n, "abc", 3);
  n += 3;
  cr_assert_eq(eddy_decoder_decode(x.d, x.s, buf, n, &x.r, err, sizeof err), EDDY_EPARSE);
  cr_assert(strstr(err, "out of bounds"), "%s", err);
  teardown(&x);
}

/* ---- Avro prediction records: written by eddy, read back by avro-c. */

static eddy_config_t *sink_conf(const char *sink) {
  char text[1024];
  snprintf(text, sizeof text,
           "[pipeline]\nname = p\n[features]\nnumeric = a\ntarget = y\n[model]\nlearner = majority\n"
           "[sink]\nformat = avro\n%s\n", sink);
  eddy_config_t *c = eddy_config_parse(text, "t.ini", err, sizeof err);
  cr_assert_not_null(c, "%s", err);
  return c;
}

static avro_value_t read_back(const char *json, const char *p, size_t len, avro_schema_t *s,
                              avro_value_iface_t **iface) {
  cr_assert_eq(avro_schema_from_json_length(json, strlen(json), s), 0);
  *iface = avro_generic_class_from_schema(*s);
  avro_value_t v;
  avro_generic_value_new(*iface, &v);
  avro_reader_t r = avro_reader_memory(p, (int64_t)len);
  cr_assert_eq(avro_value_read(r, &v), 0, "%s", avro_strerror());
  size_t used;
  avro_value_sizeof(&v, &used);
  cr_assert_eq(used, len, "the whole record is the schema's");
  avro_reader_free(r);
  return v;
}

Test(avro_out, default_schema_round_trip) {
  eddy_config_t *c = sink_conf("output_schema_id = 42");
  eddy_output_t *o = eddy_output_new(&c->pipelines[0], err, sizeof err);
  cr_assert_not_null(o, "%s", err);
  eddy_schema_t *s = eddy_schema_new(EDDY_CLASSIFICATION, "y", 0, 0, NULL, 0);
  eddy_dict_intern(s->target.dict, "UP", 2, eddy_hash("UP", 2), NULL);
  eddy_dict_intern(s->target.dict, "DOWN", 4, eddy_hash("DOWN", 4), NULL);
  double scores[2] = {0.25, 0.75};
  eddy_prediction_t p = {.pipeline = "p", .topic = "in", .partition = 3, .offset = 123456789012,
                         .key = "k\xff", .key_len = 2, .id = "t1", .id_len = 2, .schema = s,
                         .scores = scores, .k = 2, .predicted = 1, .has_label = 1, .label = 0,
                         .model_version = 7, .time = 1700000000.5};
  eddy_buf_t b;
  eddy_buf_init(&b);
  cr_assert_eq(eddy_output_encode(o, &p, &b), 0);
  cr_assert_eq(b.data[0], 0, "Confluent magic byte");
  cr_assert_eq(b.data[4], 42, "schema id, big-endian");
  FILE *f = fopen("configs/prediction.avsc", "r");
  if (!f) cr_skip_test("configs/prediction.avsc not found (run from the repository root)");
  char json[4096];
  size_t n = fread(json, 1, sizeof json - 1, f);
  json[n] = '\0';
  fclose(f);
  avro_schema_t as;
  avro_value_iface_t *iface;
  avro_value_t v = read_back(json, (const char *)b.data + 5, b.len - 5, &as, &iface);
  avro_value_t fv, br;
  const char *str;
  size_t len;
  int64_t l;
  int32_t i;
  double d;
  avro_value_get_by_name(&v, "topic", &fv, NULL);
  avro_value_get_string(&fv, &str, &len);
  cr_assert_str_eq(str, "in");
  avro_value_get_by_name(&v, "partition", &fv, NULL);
  avro_value_get_int(&fv, &i);
  cr_assert_eq(i, 3);
  avro_value_get_by_name(&v, "offset", &fv, NULL);
  avro_value_get_long(&fv, &l);
  cr_assert_eq(l, 123456789012);
  avro_value_get_by_name(&v, "key", &fv, NULL);
  avro_value_get_current_branch(&fv, &br);
  const void *kb;
  avro_value_get_bytes(&br, &kb, &len);
  cr_assert(len == 2 && memcmp(kb, "k\xff", 2) == 0, "a non-UTF-8 key travels as bytes");
  avro_value_get_by_name(&v, "prediction", &fv, NULL);
  avro_value_get_current_branch(&fv, &br);
  avro_value_get_string(&br, &str, &len);
  cr_assert_str_eq(str, "DOWN");
  avro_value_get_by_name(&v, "label", &fv, NULL);
  avro_value_get_current_branch(&fv, &br);
  avro_value_get_string(&br, &str, &len);
  cr_assert_str_eq(str, "UP");
  avro_value_get_by_name(&v, "probabilities", &fv, NULL);
  avro_value_get_by_name(&fv, "DOWN", &br, NULL);
  avro_value_get_double(&br, &d);
  cr_assert_eq(d, 0.75);
  avro_value_get_by_name(&v, "time", &fv, NULL);
  avro_value_get_long(&fv, &l);
  cr_assert_eq(l, 1700000000500);
  avro_value_decref(&v);
  avro_value_iface_decref(iface);
  avro_schema_decref(as);
  eddy_buf_free(&b);
  eddy_schema_free(s);
  eddy_output_free(o);
  eddy_config_free(c);
}

Test(avro_out, custom_schema_subset_and_refusals) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/eddy-out-%d.avsc", (int)getpid());
  const char *json = "{\"type\":\"record\",\"name\":\"P\",\"fields\":[{\"name\":\"offset\",\"type\":\"long\"},"
                     "{\"name\":\"prediction\",\"type\":[\"null\",\"double\"]},"
                     "{\"name\":\"extra\",\"type\":[\"null\",\"int\"]}]}";
  FILE *f = fopen(path, "w");
  fputs(json, f);
  fclose(f);
  char sink[128];
  snprintf(sink, sizeof sink, "output_schema = %s", path);
  eddy_config_t *c = sink_conf(sink);
  eddy_output_t *o = eddy_output_new(&c->pipelines[0], err, sizeof err);
  cr_assert_not_null(o, "%s", err);
  eddy_schema_t *s = eddy_schema_new(EDDY_REGRESSION, "y", 0, 0, NULL, 0);
  double score = 2.5;
  eddy_prediction_t p = {.pipeline = "p", .topic = "in", .offset = 9, .schema = s, .scores = &score,
                         .k = 1, .predicted = 2.5, .time = 1};
  eddy_buf_t b;
  eddy_buf_init(&b);
  cr_assert_eq(eddy_output_encode(o, &p, &b), 0);
  avro_schema_t as;
  avro_value_iface_t *iface;
  avro_value_t v = read_back(json, (const char *)b.data, b.len, &as, &iface);
  avro_value_t fv, br;
  double d;
  avro_value_get_by_name(&v, "prediction", &fv, NULL);
  avro_value_get_current_branch(&fv, &br);
  avro_value_get_double(&br, &d);
  cr_assert_eq(d, 2.5);
  avro_value_get_by_name(&v, "extra", &fv, NULL);
  avro_value_get_current_branch(&fv, &br);
  cr_assert_eq(avro_value_get_type(&br), AVRO_NULL, "an unknown nullable field is null");
  avro_value_decref(&v);
  avro_value_iface_decref(iface);
  avro_schema_decref(as);
  eddy_buf_free(&b);
  eddy_output_free(o);
  eddy_config_free(c);
  eddy_schema_free(s);
  /* Refused: an unknown field that is not nullable; a field of the wrong type. */
  f = fopen(path, "w");
  fputs("{\"type\":\"record\",\"name\":\"P\",\"fields\":[{\"name\":\"extra\",\"type\":\"int\"}]}", f);
  fclose(f);
  c = sink_conf(sink);
  cr_assert_null(eddy_output_new(&c->pipelines[0], err, sizeof err));
  cr_assert(strstr(err, "'extra'") && strstr(err, "nullable"), "%s", err);
  eddy_config_free(c);
  f = fopen(path, "w");
  fputs("{\"type\":\"record\",\"name\":\"P\",\"fields\":[{\"name\":\"offset\",\"type\":\"string\"}]}", f);
  fclose(f);
  c = sink_conf(sink);
  cr_assert_null(eddy_output_new(&c->pipelines[0], err, sizeof err));
  cr_assert(strstr(err, "'offset'") && strstr(err, "type"), "%s", err);
  eddy_config_free(c);
  remove(path);
}

/* An anomaly score and who served (a [model] fallback) travel in the
 * built-in schema's nullable `score` and `served_by`, read back with
 * configs/prediction.avsc; a prediction without them writes null. */
Test(avro_out, score_and_served_by) {
  FILE *f = fopen("configs/prediction.avsc", "r");
  if (!f) cr_skip_test("configs/prediction.avsc not found (run from the repository root)");
  char json[4096];
  size_t n = fread(json, 1, sizeof json - 1, f);
  json[n] = '\0';
  fclose(f);
  eddy_config_t *c = sink_conf("");
  eddy_output_t *o = eddy_output_new(&c->pipelines[0], err, sizeof err);
  cr_assert_not_null(o, "%s", err);
  eddy_schema_t *s = eddy_schema_new(EDDY_CLASSIFICATION, "y", 0, 0, NULL, 0);
  for (int with = 1; with >= 0; with--) {
    eddy_prediction_t p = {.pipeline = "p", .topic = "in", .offset = 1, .schema = s, .k = 0,
                           .has_score = with, .score = 0.875, .served_by = with ? "fallback" : NULL, .time = 1};
    eddy_buf_t b;
    eddy_buf_init(&b);
    cr_assert_eq(eddy_output_encode(o, &p, &b), 0);
    avro_schema_t as;
    avro_value_iface_t *iface;
    avro_value_t v = read_back(json, (const char *)b.data, b.len, &as, &iface);
    avro_value_t fv, br;
    avro_value_get_by_name(&v, "score", &fv, NULL);
    avro_value_get_current_branch(&fv, &br);
    if (with) {
      double d = 0;
      avro_value_get_double(&br, &d);
      cr_assert_eq(d, 0.875);
    } else {
      cr_assert_eq(avro_value_get_type(&br), AVRO_NULL);
    }
    avro_value_get_by_name(&v, "served_by", &fv, NULL);
    avro_value_get_current_branch(&fv, &br);
    if (with) {
      const char *str = NULL;
      size_t len = 0;
      avro_value_get_string(&br, &str, &len);
      cr_assert_str_eq(str, "fallback");
    } else {
      cr_assert_eq(avro_value_get_type(&br), AVRO_NULL);
    }
    avro_value_decref(&v);
    avro_value_iface_decref(iface);
    avro_schema_decref(as);
    eddy_buf_free(&b);
  }
  eddy_schema_free(s);
  eddy_output_free(o);
  eddy_config_free(c);
}
