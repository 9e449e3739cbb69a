/* test_core.c: buffers, the PRNG, dictionaries, schemas, option tables and
 * checkpoint framing. */
#include <criterion/criterion.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "core/core.h"
#include "engine/config/config.h"
#include "engine/model/model.h"

Test(buf, round_trip_little_endian) {
  eddy_buf_t b;
  eddy_buf_init(&b);
  eddy_buf_put_u32(&b, 0x01020304u);
  eddy_buf_put_u64(&b, 0x1122334455667788ull);
  eddy_buf_put_f64(&b, -0.1);
  eddy_buf_put_str(&b, "hello");
  cr_assert_eq(b.err, 0);
  cr_assert_eq(b.data[0], 0x04); /* little-endian on any host */
  eddy_reader_t r;
  eddy_reader_init(&r, b.data, b.len);
  cr_assert_eq(eddy_read_u32(&r), 0x01020304u);
  cr_assert_eq(eddy_read_u64(&r), 0x1122334455667788ull);
  cr_assert_eq(eddy_read_f64(&r), -0.1);
  char s[8];
  eddy_read_str(&r, s, sizeof s);
  cr_assert_str_eq(s, "hello");
  cr_assert_eq(r.err, 0);
  cr_assert_eq(r.pos, r.len);
  eddy_read_u8(&r);
  cr_assert_eq(r.err, EDDY_ECORRUPT, "reading past the end is an error");
  eddy_buf_free(&b);
}

/* Found by fuzz_checkpoint: a softmax model saved before its first class
 * has no per-class arrays (NULL), and its load read 0 bytes into NULL:
 * memcpy(NULL, p, 0), undefined. Reading 0 bytes touches nothing. */
Test(buf, empty_read_into_null) {
  uint8_t one = 7;
  eddy_reader_t r;
  eddy_reader_init(&r, &one, 1);
  eddy_read(&r, NULL, 0);
  cr_assert_eq(r.err, 0);
  cr_assert_eq(r.pos, 0);
  cr_assert_eq(eddy_read_u8(&r), 7);
  eddy_read(&r, NULL, 0); /* at the end: still nothing to read */
  cr_assert_eq(r.err, 0);
}

Test(buf, corrupt_count_refused) {
  eddy_buf_t b;
  eddy_buf_init(&b);
  eddy_buf_put_u64(&b, 1ull << 40); /* claims 2^40 doubles in 8 bytes */
  eddy_buf_put_f64(&b, 1.0);
  eddy_reader_t r;
  eddy_reader_init(&r, b.data, b.len);
  cr_assert_eq(eddy_read_count(&r, 8), 0);
  cr_assert_eq(r.err, EDDY_ECORRUPT);
  eddy_buf_free(&b);
}

Test(rng, reproducible_and_uniform) {
  eddy_rng_t a, b;
  eddy_rng_seed(&a, 42);
  eddy_rng_seed(&b, 42);
  for (int i = 0; i < 1000; i++) cr_assert_eq(eddy_rng_next(&a), eddy_rng_next(&b));
  eddy_rng_seed(&b, 43);
  cr_assert_neq(eddy_rng_next(&a), eddy_rng_next(&b));
  double sum = 0, sq = 0;
  int n = 200000, below[10] = {0};
  for (int i = 0; i < n; i++) {
    double u = eddy_rng_uniform(&a);
    cr_assert(u >= 0.0 && u < 1.0);
    sum += u;
    below[eddy_rng_below(&a, 10)]++;
    double g = eddy_rng_gauss(&a);
    sq += g * g;
  }
  cr_assert_float_eq(sum / n, 0.5, 0.005);
  cr_assert_float_eq(sq / n, 1.0, 0.02);
  for (int k = 0; k < 10; k++) cr_assert_float_eq(below[k] / (double)n, 0.1, 0.005);
}

Test(rng, poisson_mean_and_state_round_trip) {
  eddy_rng_t r;
  eddy_rng_seed(&r, 7);
  for (double lambda = 0.5; lambda <= 150; lambda *= 5) {
    double s = 0;
    for (int i = 0; i < 50000; i++) s += eddy_rng_poisson(&r, lambda);
    cr_assert_float_eq(s / 50000, lambda, 0.03 * lambda + 0.02, "lambda %g mean %g", lambda,
                       s / 50000);
  }
  cr_assert_eq(eddy_rng_poisson(&r, 0.0), 0u);
  eddy_buf_t b;
  eddy_buf_init(&b);
  eddy_rng_gauss(&r); /* leaves a spare */
  eddy_rng_save(&r, &b);
  eddy_rng_t c;
  eddy_reader_t rd;
  eddy_reader_init(&rd, b.data, b.len);
  eddy_rng_load(&c, &rd);
  for (int i = 0; i < 10; i++) cr_assert_eq(eddy_rng_gauss(&r), eddy_rng_gauss(&c));
  eddy_buf_free(&b);
}

/* Found by fuzz_checkpoint: oza_boost's lambda (which grows with the
 * weight seen, loaded or learned) past UINT_MAX went through
 * (unsigned)floor(x), undefined. Counts saturate. */
Test(rng, poisson_saturates) {
  eddy_rng_t r;
  eddy_rng_seed(&r, 7);
  for (int i = 0; i < 100; i++) {
    cr_assert_eq(eddy_rng_poisson(&r, 1e300), UINT_MAX);
    cr_assert_eq(eddy_rng_poisson(&r, 7.3e152), UINT_MAX);
    cr_assert_eq(eddy_rng_poisson(&r, INFINITY), UINT_MAX);
    cr_assert_eq(eddy_rng_poisson(&r, NAN), 0u);
    cr_assert_eq(eddy_rng_poisson(&r, -1.0), 0u);
  }
  double s = 0;
  for (int i = 0; i < 1000; i++) s += eddy_rng_poisson(&r, 1e9);
  cr_assert_float_eq(s / 1000, 1e9, 1e4, "a large lambda that fits: mean %g", s / 1000);
}

Test(rng, derived_seeds_differ) {
  cr_assert_neq(eddy_seed_derive(1, 0), eddy_seed_derive(1, 1));
  cr_assert_neq(eddy_seed_derive(1, 0), eddy_seed_derive(2, 0));
  cr_assert_eq(eddy_seed_derive(9, 3), eddy_seed_derive(9, 3));
}

static int64_t intern(eddy_dict_t *d, const char *s) {
  return eddy_dict_intern(d, s, strlen(s), eddy_hash(s, strlen(s)), NULL);
}

Test(dict, online_indices_bound_and_overflow) {
  eddy_dict_t *d = eddy_dict_new(3, 1);
  cr_assert_eq(intern(d, "red"), 0);
  cr_assert_eq(intern(d, "green"), 1);
  cr_assert_eq(intern(d, "red"), 0);
  cr_assert_eq(intern(d, "blue"), 2);
  cr_assert_eq(eddy_dict_size(d), 3);
  cr_assert_eq(intern(d, "pink"), 3, "past the bound: the overflow bucket");
  cr_assert_eq(intern(d, "cyan"), 3);
  cr_assert_eq(eddy_dict_size(d), 4);
  cr_assert_str_eq(eddy_dict_name(d, 3), "__other__");
  cr_assert_str_eq(eddy_dict_name(d, 1), "green");
  /* Texts with NUL bytes are distinct values. */
  eddy_dict_t *e = eddy_dict_new(10, 0);
  cr_assert_eq(eddy_dict_intern(e, "a\0b", 3, eddy_hash("a\0b", 3), NULL), 0);
  cr_assert_eq(eddy_dict_intern(e, "a", 1, eddy_hash("a", 1), NULL), 1);
  cr_assert_eq(eddy_dict_find(e, "a\0c", 3, eddy_hash("a\0c", 3)), EDDY_ENOENT);
  eddy_dict_free(e);
  eddy_dict_t *f = eddy_dict_new(2, 0);
  intern(f, "x");
  intern(f, "y");
  cr_assert_eq(intern(f, "z"), EDDY_ERANGE, "targets refuse to overflow");
  eddy_dict_free(f);
  eddy_dict_free(d);
}

Test(dict, grows_past_many_values) {
  eddy_dict_t *d = eddy_dict_new(100000, 0);
  char s[32];
  for (int i = 0; i < 50000; i++) {
    snprintf(s, sizeof s, "v%d", i);
    cr_assert_eq(intern(d, s), i);
  }
  for (int i = 0; i < 50000; i += 997) {
    snprintf(s, sizeof s, "v%d", i);
    cr_assert_eq(eddy_dict_find(d, s, strlen(s), eddy_hash(s, strlen(s))), i);
  }
  eddy_dict_free(d);
}

Test(schema, save_load_clone) {
  char err[256];
  eddy_schema_t *s = eddy_schema_new(EDDY_CLASSIFICATION, "class", 16, 4, err, sizeof err);
  cr_assert_not_null(s, "%s", err);
  cr_assert_eq(eddy_schema_add(s, "price", EDDY_NUMERIC), 0);
  cr_assert_eq(eddy_schema_add(s, "day", EDDY_NOMINAL), 1);
  cr_assert_eq(eddy_schema_add(s, "day", EDDY_NUMERIC), EDDY_EINVAL, "duplicate name");
  cr_assert_eq(eddy_schema_add(s, "class", EDDY_NUMERIC), EDDY_EINVAL, "target name");
  intern(s->attrs[1].dict, "mon");
  intern(s->attrs[1].dict, "tue");
  intern(s->target.dict, "UP");
  eddy_schema_t *c = eddy_schema_clone(s);
  cr_assert_not_null(c);
  cr_assert_eq(c->n_attrs, 2);
  cr_assert_str_eq(c->attrs[1].name, "day");
  cr_assert_eq(eddy_schema_n_values(c, 1), 2);
  cr_assert_str_eq(eddy_dict_name(c->attrs[1].dict, 1), "tue");
  cr_assert_eq(eddy_schema_n_classes(c), 1);
  cr_assert_eq(eddy_schema_find(c, "price"), 0);
  cr_assert_eq(eddy_schema_find(c, "nope"), EDDY_ENOENT);
  eddy_schema_free(c);
  eddy_schema_free(s);
}

/* A schema's bytes with one nominal attribute, its dictionary and the
 * target's as given (bound, allow_overflow, overflow_used, names). */
typedef struct {
  uint32_t bound;
  uint8_t allow, used;
  int n;
} dict_spec_t;

static void put_dict(eddy_buf_t *b, dict_spec_t d) {
  eddy_buf_put_u32(b, d.bound);
  eddy_buf_put_u8(b, d.allow);
  eddy_buf_put_u8(b, d.used);
  eddy_buf_put_u64(b, (uint64_t)d.n);
  for (int i = 0; i < d.n; i++) {
    char v[16];
    snprintf(v, sizeof v, "v%d", i);
    eddy_buf_put_str(b, v);
  }
}

static eddy_schema_t *load_schema(uint32_t max_values, uint32_t max_classes, dict_spec_t target,
                                  dict_spec_t attr) {
  eddy_buf_t b;
  eddy_buf_init(&b);
  eddy_buf_put_u8(&b, EDDY_CLASSIFICATION);
  eddy_buf_put_u32(&b, max_values);
  eddy_buf_put_u32(&b, max_classes);
  eddy_buf_put_str(&b, "y");
  eddy_buf_put_u8(&b, EDDY_NOMINAL);
  put_dict(&b, target);
  eddy_buf_put_u64(&b, 1);
  eddy_buf_put_str(&b, "day");
  eddy_buf_put_u8(&b, EDDY_NOMINAL);
  put_dict(&b, attr);
  eddy_reader_t r;
  eddy_reader_init(&r, b.data, b.len);
  char err[256];
  eddy_schema_t *s = eddy_schema_load(&r, err, sizeof err);
  eddy_buf_free(&b);
  return s;
}

/* Found by fuzz_checkpoint: a target dictionary with its overflow value in
 * use and a bound of 0xfffe0006 loaded as 4 billion classes, and whoever
 * sized something per class asked for 32 GB. A loaded dictionary must be
 * one eddy_schema_new / eddy_schema_add would make. */
Test(schema, load_refuses_dictionaries_it_would_not_make) {
  dict_spec_t target = {4, 0, 0, 2}, attr = {16, 1, 0, 3};
  eddy_schema_t *s = load_schema(16, 4, target, attr);
  cr_assert_not_null(s, "the schema eddy_schema_new makes");
  cr_assert_eq(eddy_schema_n_classes(s), 2);
  eddy_schema_free(s);
  attr = (dict_spec_t){3, 1, 1, 3};
  s = load_schema(3, 4, target, attr);
  cr_assert_not_null(s, "a full attribute dictionary with its overflow value");
  cr_assert_eq(eddy_schema_n_values(s, 0), 4);
  eddy_schema_free(s);
  attr = (dict_spec_t){16, 1, 0, 3};
  cr_assert_null(load_schema(16, 0xfffe0006u, (dict_spec_t){0xfffe0006u, 1, 1, 2}, attr),
                 "an overflowing target");
  cr_assert_null(load_schema(16, 4, (dict_spec_t){4, 1, 0, 2}, attr), "a target allowed to overflow");
  cr_assert_null(load_schema(16, 8, target, attr), "target bound other than max_classes");
  cr_assert_null(load_schema(16, 4, target, (dict_spec_t){16, 0, 0, 3}), "an attribute without overflow");
  cr_assert_null(load_schema(17, 4, target, attr), "attribute bound other than max_values");
  cr_assert_null(load_schema(16, 4, target, (dict_spec_t){16, 1, 1, 3}),
                 "overflow in use before the bound is reached");
  cr_assert_null(load_schema(0, 4, target, (dict_spec_t){0, 1, 0, 0}), "a bound of 0");
}

typedef struct {
  int64_t grace;
  double delta;
  int binary;
  int crit;
  char name[8];
  char *list;
} opts_t;

static const char *const crits[] = {"info_gain", "gini", NULL};
static const eddy_option_t table[] = {
    EDDY_OPT_INT_(opts_t, "grace_period", grace, "200", 1, 1e9, "instances between split attempts"),
    EDDY_OPT_DOUBLE_(opts_t, "delta", delta, "1e-7", 0, 1, "split confidence"),
    EDDY_OPT_BOOL_(opts_t, "binary_splits", binary, "false", "binary splits only"),
    EDDY_OPT_ENUM_(opts_t, "criterion", crit, "info_gain", crits, "split criterion"),
    EDDY_OPT_STRING_(opts_t, "name", name, "abc", "a short name"),
    EDDY_OPT_TEXT_(opts_t, "list", list, "a, b", "a long list"),
    EDDY_OPT_END,
};

Test(options, defaults_apply_and_errors_name_file_line_key) {
  opts_t o;
  cr_assert_eq(eddy_options_defaults(table, &o), 0);
  cr_assert_eq(o.grace, 200);
  cr_assert_eq(o.delta, 1e-7);
  cr_assert_eq(o.crit, 0);
  cr_assert_str_eq(o.name, "abc");
  cr_assert_str_eq(o.list, "a, b");
  eddy_kv_t kv[] = {{"grace_period", "50", "x.ini", 3},
                    {"criterion", "GINI", "x.ini", 4},
                    {"binary_splits", "yes", "x.ini", 5}};
  char err[512];
  cr_assert_eq(eddy_options_apply(table, &o, kv, 3, err, sizeof err), 0, "%s", err);
  cr_assert_eq(o.grace, 50);
  cr_assert_eq(o.crit, 1);
  cr_assert_eq(o.binary, 1);
  eddy_kv_t bad[] = {{"grace_perod", "5", "x.ini", 7}};
  cr_assert_eq(eddy_options_apply(table, &o, bad, 1, err, sizeof err), EDDY_ENOENT);
  cr_assert(strstr(err, "x.ini:7:") && strstr(err, "grace_perod") && strstr(err, "grace_period"),
            "%s", err);
  eddy_kv_t range[] = {{"delta", "2", "x.ini", 9}};
  cr_assert_eq(eddy_options_apply(table, &o, range, 1, err, sizeof err), EDDY_EINVAL);
  cr_assert(strstr(err, "x.ini:9:") && strstr(err, "delta") && strstr(err, "[0, 1]"), "%s", err);
  eddy_kv_t badenum[] = {{"criterion", "entropy", "y.ini", 2}};
  cr_assert_eq(eddy_options_apply(table, &o, badenum, 1, err, sizeof err), EDDY_EINVAL);
  cr_assert(strstr(err, "info_gain, gini"), "%s", err);
  eddy_kv_t notnum[] = {{"grace_period", "2x", NULL, 0}};
  cr_assert_eq(eddy_options_apply(table, &o, notnum, 1, err, sizeof err), EDDY_EINVAL);
  eddy_kv_t sci[] = {{"grace_period", "1e3", NULL, 0}};
  cr_assert_eq(eddy_options_apply(table, &o, sci, 1, err, sizeof err), 0);
  cr_assert_eq(o.grace, 1000);
  eddy_options_free(table, &o);
  cr_assert_null(o.list);
}

Test(checkpoint, framing_verifies_and_refuses_corruption) {
  eddy_buf_t b;
  eddy_buf_init(&b);
  eddy_ckpt_begin(&b);
  size_t m = eddy_ckpt_section_begin(&b, EDDY_SECTION_META);
  eddy_buf_put_u64(&b, 12345);
  eddy_ckpt_section_end(&b, m);
  m = eddy_ckpt_section_begin(&b, EDDY_TAG('X', 'T', 'R', 'A'));
  eddy_buf_put_str(&b, "skipped by readers that do not know it");
  eddy_ckpt_section_end(&b, m);
  cr_assert_eq(eddy_ckpt_finish(&b), 0);
  char err[256];
  cr_assert_eq(eddy_ckpt_verify(b.data, b.len, err, sizeof err), 0, "%s", err);
  eddy_reader_t r;
  cr_assert_eq(eddy_ckpt_section(b.data, b.len, EDDY_SECTION_META, 0, &r), 0);
  cr_assert_eq(eddy_read_u64(&r), 12345);
  cr_assert_eq(eddy_ckpt_section(b.data, b.len, EDDY_SECTION_SCHEMA, 0, &r), EDDY_ENOENT);
  for (size_t i = 0; i < b.len; i++) { /* every single-byte flip is refused */
    b.data[i] ^= 0x10;
    cr_assert_neq(eddy_ckpt_verify(b.data, b.len, err, sizeof err), 0, "flip at %zu", i);
    b.data[i] ^= 0x10;
  }
  cr_assert_eq(eddy_ckpt_verify(b.data, b.len - 1, err, sizeof err), EDDY_ECORRUPT);
  b.data[4] = 99; /* a future version */
  cr_assert_eq(eddy_ckpt_verify(b.data, b.len, err, sizeof err), EDDY_EVERSION);
  cr_assert(strstr(err, "version 99"), "%s", err);
  eddy_buf_free(&b);
}

Test(util, fmt_double_round_trips_in_c_locale) {
  double vs[] = {0.1, 1.0 / 3, 1e-300, 123456789.125, -2.5, 0.0};
  char s[40];
  for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++) {
    eddy_fmt_double(s, sizeof s, vs[i]);
    cr_assert_eq(strtod(s, NULL), vs[i], "%s", s);
    cr_assert_null(strchr(s, ','));
  }
  eddy_fmt_double(s, sizeof s, 0.1);
  cr_assert_str_eq(s, "0.1");
  char list[] = " a, b ,,c ";
  char *items[4];
  cr_assert_eq(eddy_split_list(list, items, 4), 3);
  cr_assert_str_eq(items[1], "b");
  cr_assert_str_eq(items[2], "c");
}
