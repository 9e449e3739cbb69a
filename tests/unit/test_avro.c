/* test_avro.c: Avro records, plain and in the Confluent wire format, made
 * with avro-c's writer and read back by eddy's decoder; malformed, trailing
 * and wrong-schema payloads are refused. */
#include <avro.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
           "[pipeline]\nname = t\n[source]\nformat = avro\nschema = %s\n%s\n"
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
  snprintf(text, sizeof text, "[pipeline]\nname = t\n[source]\nformat = avro\nschema = %s\n"
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
