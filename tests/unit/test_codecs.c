/* test_codecs.c: field maps, CSV and JSON decoding (including hostile
 * input), and the line reader. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
#include "connectors/connectors.h"

static char err[1024];

static eddy_config_t *conf(const char *features) {
  char text[2048];
  snprintf(text, sizeof text,
           "[pipeline]\nname = t\n[features]\n%s\n[model]\nlearner = majority\n", features);
  eddy_config_t *c = eddy_config_parse(text, "t.ini", err, sizeof err);
  cr_assert_not_null(c, "%s", err);
  return c;
}

typedef struct {
  eddy_config_t *c;
  eddy_fields_t *f;
  eddy_schema_t *s;
  eddy_decoder_t *d;
  eddy_record_t r;
} fixture_t;

static void setup(fixture_t *x, const char *features, eddy_format_t fmt, const char *const *names,
                  size_t n) {
  x->c = conf(features);
  x->f = eddy_fields_new(&x->c->pipelines[0], names, n, NULL, 0, err, sizeof err);
  cr_assert_not_null(x->f, "%s", err);
  x->s = eddy_fields_schema(x->f, err, sizeof err);
  cr_assert_not_null(x->s, "%s", err);
  x->d = eddy_decoder_new(fmt, x->f, &x->c->pipelines[0], names, n, err, sizeof err);
  cr_assert_not_null(x->d, "%s", err);
  cr_assert_eq(eddy_record_init(&x->r, x->f), 0);
}

static void teardown(fixture_t *x) {
  eddy_record_free(&x->r);
  eddy_decoder_free(x->d);
  eddy_schema_free(x->s);
  eddy_fields_free(x->f);
  eddy_config_free(x->c);
}

static int decode(fixture_t *x, const char *text) {
  err[0] = '\0';
  return eddy_decoder_decode(x->d, x->s, text, strlen(text), &x->r, err, sizeof err);
}

Test(csv, split_rfc4180) {
  char line[] = "a,\"b,c\",\"say \"\"hi\"\"\",,\"\"";
  char *f[8];
  size_t l[8];
  int n = eddy_csv_split(line, strlen(line), f, l, 8);
  cr_assert_eq(n, 5);
  cr_assert_str_eq(f[0], "a");
  cr_assert_str_eq(f[1], "b,c");
  cr_assert_str_eq(f[2], "say \"hi\"");
  cr_assert_eq(l[3], 0);
  cr_assert_eq(l[4], 0);
  char trailing[] = "x,";
  cr_assert_eq(eddy_csv_split(trailing, 2, f, l, 8), 2);
  char bad[] = "\"open,b";
  cr_assert_eq(eddy_csv_split(bad, strlen(bad), f, l, 8), EDDY_EPARSE);
  char junk[] = "\"q\"x,b";
  cr_assert_eq(eddy_csv_split(junk, strlen(junk), f, l, 8), EDDY_EPARSE);
  char many[] = "1,2,3";
  cr_assert_eq(eddy_csv_split(many, 5, f, l, 2), EDDY_ERANGE);
}

Test(csv, header_order_inference_and_values) {
  const char *cols[] = {"date", "day", "price", "class"};
  fixture_t x;
  setup(&x, "nominal = day\ntarget = class", EDDY_FORMAT_CSV, cols, 4);
  cr_assert_eq(x.s->n_attrs, 3);
  cr_assert_str_eq(x.s->attrs[0].name, "date", "attributes follow the header order");
  cr_assert_eq(x.s->attrs[1].kind, EDDY_NOMINAL);
  cr_assert_eq(decode(&x, "0,2,0.056,UP"), 0, "%s", err);
  cr_assert_eq(x.r.in.x[2], 0.056);
  cr_assert_eq(x.r.in.x[1], 0.0, "first value of day gets index 0");
  cr_assert_eq(x.r.in.h[1], eddy_hash("2", 1));
  cr_assert_eq(x.r.in.has_y, 1);
  cr_assert_eq(decode(&x, "1,5,?,DOWN\r\n"), 0, "%s", err);
  cr_assert_eq(x.r.in.x[1], 1.0);
  cr_assert_eq(x.r.in.missing[2], 1, "'?' is missing");
  cr_assert_eq(x.r.in.y, 1.0);
  cr_assert_eq(decode(&x, "1,5,0.1,"), 0);
  cr_assert_eq(x.r.in.has_y, 0, "no label: predict only");
  cr_assert_eq(decode(&x, "1,5,abc,UP"), EDDY_ETYPE);
  cr_assert(strstr(err, "price") && strstr(err, "abc"), "%s", err);
  cr_assert_eq(decode(&x, "1,5,0.1"), EDDY_EPARSE);
  cr_assert(strstr(err, "expected 4"), "%s", err);
  cr_assert_eq(decode(&x, "1,5,0.1,UP,extra"), EDDY_EPARSE);
  teardown(&x);
}

Test(fields, errors) {
  eddy_config_t *c = conf("nominal = day\ntarget = class\nkey = user");
  const char *cols[] = {"day", "class"};
  cr_assert_null(eddy_fields_new(&c->pipelines[0], cols, 2, NULL, 0, err, sizeof err));
  cr_assert(strstr(err, "'user'") && strstr(err, "t.ini"), "%s", err);
  eddy_config_free(c);
  /* Names in two roles: refused by the config's validation already (the
   * same check, eddy_fields_check), at the list's line. */
  cr_assert_null(eddy_config_parse("[pipeline]\nname = t\n[features]\nnumeric = a, b\nnominal = b\ntarget = y\n",
                                   "t.ini", err, sizeof err));
  cr_assert(strstr(err, "t.ini:5:") && strstr(err, "'b'"), "%s", err);
  cr_assert_null(eddy_config_parse("[pipeline]\nname = t\n[features]\nnumeric = y\ntarget = y\n", "t.ini", err,
                                   sizeof err));
  cr_assert(strstr(err, "t.ini:4:") && strstr(err, "target"), "%s", err);
}

/* Found by fuzz_csv: a header with unnamed columns (pandas writes its index
 * so; a trailing comma makes one) became an attribute called '' that no
 * schema takes ("cannot add attribute ''"). They are ignored. */
Test(fields, unnamed_columns_are_ignored) {
  const char *cols[] = {"", "a", "", "class"};
  fixture_t x;
  setup(&x, "target = class", EDDY_FORMAT_CSV, cols, 4);
  cr_assert_eq(x.s->n_attrs, 1);
  cr_assert_str_eq(x.s->attrs[0].name, "a");
  cr_assert_eq(decode(&x, "7,1.5,zz,up"), 0, "%s", err);
  cr_assert_eq(x.r.in.x[0], 1.5);
  cr_assert_eq(x.r.in.has_y, 1);
  teardown(&x);

  char **keys;
  const char *rec = "{\"\": 1, \"a\": 2, \"class\": \"x\"}";
  int n = eddy_json_keys(rec, strlen(rec), &keys, err, sizeof err);
  cr_assert_eq(n, 3, "%s", err);
  setup(&x, "target = class", EDDY_FORMAT_JSON, (const char *const *)keys, 3);
  cr_assert_eq(x.s->n_attrs, 1);
  cr_assert_eq(decode(&x, rec), 0, "%s", err);
  cr_assert_eq(x.r.in.x[0], 2.0);
  teardown(&x);
  for (int i = 0; i < n; i++) free(keys[i]);
  free(keys);
}

/* Found by fuzz_config: `numeric = a, b, c, a` passed, then made no schema
 * ("cannot add attribute 'a'") where records bring no field names. */
Test(fields, a_name_listed_twice_is_named) {
  cr_assert_null(eddy_config_parse("[pipeline]\nname = t\n[features]\nnumeric = a, b, c, a\ntarget = y\n",
                                   "t.ini", err, sizeof err));
  cr_assert(strstr(err, "t.ini:4:") && strstr(err, "lists 'a' twice"), "%s", err);
  cr_assert_null(eddy_config_parse("[pipeline]\nname = t\n[features]\ntarget = y\nnominal = d, e, d\n", "t.ini",
                                   err, sizeof err));
  cr_assert(strstr(err, "t.ini:5:") && strstr(err, "'nominal': lists 'd' twice"), "%s", err);
}

Test(json, flat_objects_types_and_escapes) {
  fixture_t x;
  setup(&x, "numeric = amount, hour\nnominal = merchant\ntarget = fraud\nkey = user\nid = txn",
        EDDY_FORMAT_JSON, NULL, 0);
  cr_assert_eq(x.s->n_attrs, 3);
  int rc = decode(&x, "{\"txn\":\"t1\",\"amount\": 12.5, \"hour\":3,\"merchant\":\"caf\\u00e9 \\\"A\\\"\","
                      "\"extra\":{\"nested\":[1,2,{\"x\":null}]},\"user\":\"u\\u0031\",\"fraud\":true}");
  cr_assert_eq(rc, 0, "%s", err);
  cr_assert_eq(x.r.in.x[0], 12.5);
  cr_assert_eq(x.r.in.x[1], 3.0);
  cr_assert_str_eq(eddy_dict_name(x.s->attrs[2].dict, 0), "caf\xc3\xa9 \"A\"");
  cr_assert_eq(x.r.key_len, 2);
  cr_assert(memcmp(x.r.key, "u1", 2) == 0);
  cr_assert(memcmp(x.r.id, "t1", 2) == 0);
  cr_assert_str_eq(eddy_dict_name(x.s->target.dict, 0), "true");
  cr_assert_eq(decode(&x, "{\"amount\":\"7.25\",\"hour\":null}"), 0, "%s", err);
  cr_assert_eq(x.r.in.x[0], 7.25, "a number in a string is accepted");
  cr_assert_eq(x.r.in.missing[1], 1);
  cr_assert_eq(x.r.in.missing[2], 1, "absent field is missing");
  cr_assert_eq(decode(&x, "  {}  "), 0);
  cr_assert_eq(decode(&x, "{\"amount\":\"lots\"}"), EDDY_ETYPE);
  cr_assert_eq(decode(&x, "{\"amount\":[1]}"), EDDY_ETYPE);
  cr_assert(strstr(err, "amount") && strstr(err, "array"), "%s", err);
  teardown(&x);
}

Test(json, hostile_input_is_refused) {
  fixture_t x;
  setup(&x, "numeric = a\ntarget = y", EDDY_FORMAT_JSON, NULL, 0);
  const char *bad[] = {
      "", "[1,2]", "{", "{\"a\":1", "{\"a\":1,}", "{\"a\" 1}", "{\"a\":01}", "{\"a\":1.}",
      "{\"a\":-}", "{\"a\":1} x", "{\"a\":tru}", "{\"s\":\"\\x\"}", "{\"s\":\"\\ud800\"}",
      "{\"s\":\"\xff\"}", "{\"s\":\"\xc0\xaf\"}", "{\"s\":\"\xed\xa0\x80\"}", "{\"s\":\"a\nb\"}",
      "{\"z\":[1,2}", "{\"z\":{\"k\"}}", "{\"z\":{\"k\":1]}"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert_lt(decode(&x, bad[i]), 0, "accepted bad input #%zu: %s", i, bad[i]);
  /* Deep nesting in a skipped field: bounded, refused past 64 levels. */
  char deep[400];
  size_t n = (size_t)snprintf(deep, sizeof deep, "{\"z\":");
  for (int i = 0; i < 100; i++) deep[n++] = '[';
  for (int i = 0; i < 100; i++) deep[n++] = ']';
  deep[n++] = '}';
  deep[n] = '\0';
  cr_assert_eq(decode(&x, deep), EDDY_EPARSE);
  cr_assert(strstr(err, "nested"), "%s", err);
  n = (size_t)snprintf(deep, sizeof deep, "{\"z\":");
  for (int i = 0; i < 60; i++) deep[n++] = '[';
  for (int i = 0; i < 60; i++) deep[n++] = ']';
  snprintf(deep + n, sizeof deep - n, ",\"a\":2}");
  cr_assert_eq(decode(&x, deep), 0, "60 levels are fine: %s", err);
  cr_assert_eq(x.r.in.x[0], 2.0);
  cr_assert_eq(decode(&x, "{\"s\":\"\xf0\x9f\x98\x80 ok\",\"a\":1e3}"), 0, "%s", err);
  cr_assert_eq(x.r.in.x[0], 1000.0);
  teardown(&x);
}

Test(json, record_size_bound) {
  fixture_t x;
  setup(&x, "numeric = a\ntarget = y", EDDY_FORMAT_JSON, NULL, 0);
  size_t n = 2 << 20;
  char *big = malloc(n + 1);
  memset(big, ' ', n);
  big[n] = '\0';
  big[0] = '{';
  big[n - 1] = '}';
  cr_assert_eq(decode(&x, big), EDDY_ERANGE);
  cr_assert(strstr(err, "max_record_bytes"), "%s", err);
  free(big);
  teardown(&x);
}

Test(json, keys_of_first_record) {
  char **keys;
  const char *rec = "{\"b\":1,\"a\":{\"x\":[1]},\"c\\u0041\":\"s\"}";
  int n = eddy_json_keys(rec, strlen(rec), &keys, err, sizeof err);
  cr_assert_eq(n, 3, "%s", err);
  cr_assert_str_eq(keys[0], "b");
  cr_assert_str_eq(keys[2], "cA");
  for (int i = 0; i < n; i++) free(keys[i]);
  free(keys);
  cr_assert_lt(eddy_json_keys("[1]", 3, &keys, err, sizeof err), 0);
}

Test(classes, bound_is_an_error) {
  fixture_t x;
  setup(&x, "numeric = a\ntarget = y\nmax_classes = 2", EDDY_FORMAT_JSON, NULL, 0);
  cr_assert_eq(decode(&x, "{\"a\":1,\"y\":\"p\"}"), 0);
  cr_assert_eq(decode(&x, "{\"a\":1,\"y\":\"q\"}"), 0);
  cr_assert_eq(decode(&x, "{\"a\":1,\"y\":\"r\"}"), EDDY_ERANGE);
  cr_assert(strstr(err, "max_classes"), "%s", err);
  teardown(&x);
}

Test(lines, reads_long_lines_and_crlf) {
  char path[] = "/tmp/eddy-lines-XXXXXX";
  int fd = mkstemp(path);
  FILE *f = fdopen(fd, "w");
  fputs("a,b\r\n", f);
  for (int i = 0; i < 300000; i++) fputc('x', f); /* longer than the first buffer? no: 1 MiB */
  fputs("\n\nlast", f);
  fclose(f);
  eddy_lines_t *l = eddy_lines_open(path, err, sizeof err);
  cr_assert_not_null(l, "%s", err);
  char *s;
  size_t n;
  cr_assert_eq(eddy_lines_next(l, &s, &n), 0);
  cr_assert_str_eq(s, "a,b");
  cr_assert_eq(eddy_lines_next(l, &s, &n), 0);
  cr_assert_eq(n, 300000);
  cr_assert_eq(eddy_lines_next(l, &s, &n), 0);
  cr_assert_eq(n, 0);
  cr_assert_eq(eddy_lines_next(l, &s, &n), 0);
  cr_assert_str_eq(s, "last");
  cr_assert_eq(eddy_lines_number(l), 4);
  cr_assert_eq(eddy_lines_next(l, &s, &n), EDDY_EEOF);
  eddy_lines_close(l);
  remove(path);
  cr_assert_null(eddy_lines_open("/nonexistent", err, sizeof err));
}

/* The record number parser gives strtod's exact result for every text,
 * through its fast path or not. */
Test(numbers, same_as_strtod) {
  eddy_rng_t r;
  eddy_rng_seed(&r, 17);
  char s[64];
  size_t bad = 0;
  for (int i = 0; i < 2000000; i++) {
    double v;
    switch (i % 5) {
    case 0: v = eddy_rng_uniform(&r); break;
    case 1: v = (eddy_rng_uniform(&r) - 0.5) * 1e6; break;
    case 2: v = (double)(int64_t)(eddy_rng_next(&r) >> (eddy_rng_below(&r, 64))); break;
    case 3: v = eddy_rng_gauss(&r) * pow(10, (double)eddy_rng_below(&r, 40) - 20); break;
    default: { uint64_t b = eddy_rng_next(&r); memcpy(&v, &b, 8); }
    }
    int prec = 1 + (int)eddy_rng_below(&r, 18);
    int n = snprintf(s, sizeof s, i % 3 ? "%.*g" : "%.*e", prec, v);
    double want = strtod(s, NULL), got;
    int rc = eddy__parse_number(s, (size_t)n, &got);
    if (!isfinite(want)) {
      bad += rc == 0;
    } else if (rc != 0 || memcmp(&got, &want, 8) != 0) {
      if (bad++ < 5) cr_log_error("'%s': got %.17g want %.17g", s, got, want);
    }
  }
  cr_assert_eq(bad, 0);
  const char *texts[] = {"0.056443", "-0", "+3.5", ".5", "5.", "1e22", "9007199254740993", "123456789012345678901",
                         "1E-22", "4.9e-324", "1e400", "12a", "--1", "1e", ".", "", "0x10", "1_0"};
  const int ok[] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    double got;
    int rc = eddy__parse_number(texts[i], strlen(texts[i]), &got);
    cr_assert_eq(rc == 0, ok[i], "'%s'", texts[i]);
    if (ok[i]) cr_assert_eq(got, strtod(texts[i], NULL), "'%s'", texts[i]);
  }
  double z;
  eddy__parse_number("-0", 2, &z);
  cr_assert(signbit(z), "-0 keeps its sign");
}

/* The JSON decoder reads a numeric field's number in one pass (its exact
 * fast path, the text parsed otherwise): the same bits as strtod on every
 * JSON number, short or long, with or without exponents, -0 and ties. */
Test(json, numbers_same_as_strtod) {
  fixture_t x;
  setup(&x, "numeric = a, b\ntarget = y", EDDY_FORMAT_JSON, NULL, 0);
  eddy_rng_t r;
  eddy_rng_seed(&r, 23);
  char num[64], rec[160];
  size_t bad = 0;
  for (int i = 0; i < 300000; i++) {
    double v;
    switch (i % 4) {
    case 0: v = eddy_rng_uniform(&r); break;
    case 1: v = (eddy_rng_uniform(&r) - 0.5) * pow(10, (double)eddy_rng_below(&r, 24)); break;
    case 2: v = (double)(int64_t)(eddy_rng_next(&r) >> eddy_rng_below(&r, 64)); break;
    default: v = eddy_rng_gauss(&r) * pow(10, (double)eddy_rng_below(&r, 40) - 20);
    }
    int prec = (int)eddy_rng_below(&r, 25);
    /* %f forms (the fast path's), and %e forms (JSON exponents) */
    if (i % 3) snprintf(num, sizeof num, "%.*f", prec, v);
    else snprintf(num, sizeof num, "%.*e", prec % 18, v);
    snprintf(rec, sizeof rec, "{\"b\":%s,\"a\":%s}", num, num);
    double want = strtod(num, NULL);
    int rc = decode(&x, rec);
    if (rc != 0 || memcmp(&x.r.in.x[0], &want, 8) != 0 || memcmp(&x.r.in.x[1], &want, 8) != 0) {
      if (bad++ < 5) cr_log_error("'%s': rc %d got %.17g want %.17g", num, rc, x.r.in.x[0], want);
    }
  }
  cr_assert_eq(bad, 0);
  const char *texts[] = {"0", "-0", "0.5", "-0.000", "9007199254740992", "9007199254740993", "0.1",
                         "1234567890123456789", "12345678901234567890", "0.0000000000000000000001",
                         "0.00000000000000000000001", "123456.7890123456789", "1e22", "-1E-5", "1.5e+3"};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    snprintf(rec, sizeof rec, "{\"a\":%s}", texts[i]);
    cr_assert_eq(decode(&x, rec), 0, "'%s': %s", texts[i], err);
    double want = strtod(texts[i], NULL);
    cr_assert(memcmp(&x.r.in.x[0], &want, 8) == 0, "'%s': %.17g", texts[i], x.r.in.x[0]);
    cr_assert_eq(x.r.in.missing[0], 0);
  }
  /* Bad numbers keep their error and position. */
  cr_assert_eq(decode(&x, "{\"a\":-x}"), EDDY_EPARSE);
  cr_assert(strstr(err, "bad number") && strstr(err, "byte 6"), "%s", err);
  cr_assert_eq(decode(&x, "{\"a\":2.}"), EDDY_EPARSE);
  cr_assert(strstr(err, "byte 7"), "%s", err);
  cr_assert_eq(decode(&x, "{\"a\":1e400}"), EDDY_ETYPE, "out of range: %s", err);
  teardown(&x);
}

/* Declared values take the first indices, in their order; appearing
 * values come after them. */
Test(fields, declared_values_fix_the_order) {
  const char *cols[] = {"day", "x", "c"};
  fixture_t x;
  setup(&x, "nominal = day\nvalues.day = mon, tue, wed\nvalues.c = UP, DOWN\ntarget = c", EDDY_FORMAT_CSV, cols, 3);
  cr_assert_eq(eddy_schema_n_values(x.s, 0), 3);
  cr_assert_eq(eddy_schema_n_classes(x.s), 2);
  cr_assert_eq(decode(&x, "wed,1,DOWN"), 0, "%s", err);
  cr_assert_eq(x.r.in.x[0], 2.0);
  cr_assert_eq(x.r.in.y, 1.0);
  cr_assert_eq(decode(&x, "sun,1,UP"), 0, "%s", err);
  cr_assert_eq(x.r.in.x[0], 3.0, "an undeclared value comes after the declared ones");
  teardown(&x);
  /* A value listed twice: refused with the config (test_config). */
  cr_assert_null(eddy_config_parse("[pipeline]\nname = t\n[features]\nnominal = day\nvalues.day = a, b, a\n"
                                   "target = c\n[model]\nlearner = majority\n", "t.ini", err, sizeof err));
  cr_assert(strstr(err, "values.day") && strstr(err, "twice"), "%s", err);
}

/* More than 4096 declared values: all of them (a fixed array of 4096
 * items cut the list short without a word). */
Test(fields, long_declared_value_lists_are_whole) {
  static char feats[65536];
  int n = snprintf(feats, sizeof feats, "nominal = day\nmax_values = 8000\ntarget = c\nvalues.day = v0");
  for (int i = 1; i < 5000; i++) n += snprintf(feats + n, sizeof feats - (size_t)n, ", v%d", i);
  const char *cols[] = {"day", "c"};
  eddy_config_t *c = eddy_config_parse(
      (snprintf(feats + n, sizeof feats - (size_t)n, "\n"), feats), "t.ini", err, sizeof err);
  cr_assert_null(c, "no [pipeline] yet");
  char *text = malloc(70000);
  snprintf(text, 70000, "[pipeline]\nname = t\n[features]\n%s[model]\nlearner = majority\n", feats);
  c = eddy_config_parse(text, "t.ini", err, sizeof err);
  cr_assert_not_null(c, "%s", err);
  eddy_fields_t *f = eddy_fields_new(&c->pipelines[0], cols, 2, NULL, 0, err, sizeof err);
  cr_assert_not_null(f, "%s", err);
  eddy_schema_t *s = eddy_fields_schema(f, err, sizeof err);
  cr_assert_not_null(s, "%s", err);
  cr_assert_eq(eddy_schema_n_values(s, 0), 5000);
  cr_assert_str_eq(eddy_dict_name(s->attrs[0].dict, 4999), "v4999");
  eddy_schema_free(s);
  eddy_fields_free(f);
  eddy_config_free(c);
  free(text);
}

/* Blanks around a field are no part of it (issue 19: a header "a, b, y"
 * did not name b); inside quotes they are kept. */
Test(csv, blanks_around_fields_dropped) {
  char line[] = " a , b,\t\"c d \" , ,y ";
  char *f[8];
  size_t l[8];
  int n = eddy_csv_split(line, strlen(line), f, l, 8);
  cr_assert_eq(n, 5);
  const char *want[] = {"a", "b", "c d ", "", "y"};
  for (int i = 0; i < 5; i++) {
    cr_assert_eq(l[i], strlen(want[i]), "field %d", i);
    cr_assert(strncmp(f[i], want[i], l[i]) == 0, "field %d: '%.*s'", i, (int)l[i], f[i]);
  }
  char **names;
  cr_assert_eq(eddy_csv_header("a, b, y", 7, &names), 3);
  cr_assert_str_eq(names[1], "b");
  cr_assert_str_eq(names[2], "y");
  for (int i = 0; i < 3; i++) free(names[i]);
  free(names);
}

/* A first line's byte order mark is dropped; a mark lets setup read ahead
 * and read the same lines again, also past a buffer refill. */
Test(lines, bom_and_mark_rewind) {
  char path[] = "/tmp/eddy_lines_XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  FILE *fp = fdopen(fd, "w");
  fputs("\xef\xbb\xbfh,y\r\n", fp);
  for (int i = 0; i < 200000; i++) fprintf(fp, "%d,row\n", i); /* > the 1 MiB buffer */
  fclose(fp);
  eddy_lines_t *l = eddy_lines_open(path, err, sizeof err);
  cr_assert_not_null(l, "%s", err);
  char *line;
  size_t len;
  eddy_lines_mark(l);
  cr_assert_eq(eddy_lines_next(l, &line, &len), 0);
  cr_assert_str_eq(line, "h,y");
  cr_assert_eq(len, 3);
  for (int i = 0; i < 150000; i++) cr_assert_eq(eddy_lines_next(l, &line, &len), 0);
  cr_assert_str_eq(line, "149999,row");
  eddy_lines_rewind(l);
  cr_assert_eq(eddy_lines_number(l), 0);
  cr_assert_eq(eddy_lines_next(l, &line, &len), 0);
  cr_assert_str_eq(line, "h,y", "the byte order mark dropped again, the \\r too");
  for (int i = 0; i < 200000; i++) {
    cr_assert_eq(eddy_lines_next(l, &line, &len), 0);
    char want[32];
    snprintf(want, sizeof want, "%d,row", i);
    cr_assert_str_eq(line, want);
  }
  cr_assert_eq(eddy_lines_next(l, &line, &len), EDDY_EEOF);
  cr_assert_eq(eddy_lines_number(l), 200001);
  eddy_lines_close(l);
  unlink(path);
}
