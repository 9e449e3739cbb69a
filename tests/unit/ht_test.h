/* ht_test.h: helpers shared by the Hoeffding tree suites
 * (test_hoeffding_tree.c, test_hoeffding_adaptive_tree.c,
 * test_hoeffding_tree_regressor.c): seeded generator streams, prequential
 * runs, Elec2 through eddy's CSV decoder, checkpoint round trips, and a
 * count of heap bytes in use (to check that learning does not allocate). */
#ifndef HT_TEST_H
#define HT_TEST_H

#include <criterion/criterion.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
#include "connectors/connectors.h"
#include "generators/generators.h"
#include "learners/learners.h"

typedef struct {
  const char *k, *v;
} kvp_t;

static inline size_t kv_fill(eddy_kv_t *kv, const kvp_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    kv[i].key = (char *)p[i].k;
    kv[i].value = (char *)p[i].v;
    kv[i].file = NULL;
    kv[i].line = 0;
  }
  return n;
}

static inline eddy_generator_t *t_gen(const char *name, uint64_t seed, const kvp_t *p, size_t n) {
  eddy_kv_t kv[16] = {{0}};
  char err[512];
  eddy_generator_t *g = eddy_generator_new(name, kv, kv_fill(kv, p, n), seed, err, sizeof err);
  cr_assert_not_null(g, "%s", err);
  return g;
}

static inline eddy_learner_t *t_learner(const char *name, const eddy_schema_t *s, const kvp_t *p,
                                        size_t n) {
  eddy_kv_t kv[16] = {{0}};
  char err[512];
  eddy_learner_t *l = eddy_learner_new(name, s, kv, kv_fill(kv, p, n), 1, err, sizeof err);
  cr_assert_not_null(l, "%s", err);
  return l;
}

/* Prequential accuracy (classification) over n instances of g; when
 * w1 > w0 also the accuracy over instances [w0, w1) into *window. */
static inline double t_prequential(eddy_generator_t *g, eddy_learner_t *l, size_t n, size_t w0,
                                   size_t w1, double *window) {
  eddy_instance_t in;
  eddy_instance_init(&in, eddy_generator_schema(g)->n_attrs);
  double out[64];
  size_t ok = 0, wok = 0;
  for (size_t i = 0; i < n; i++) {
    cr_assert_eq(eddy_generator_next(g, &in), 0);
    int k = eddy_learner_predict(l, &in, out, 64);
    cr_assert_gt(k, 0);
    int hit = eddy_argmax(out, (size_t)k) == (size_t)in.y;
    ok += hit;
    if (i >= w0 && i < w1) wok += hit;
    cr_assert_eq(eddy_learner_learn(l, &in), 0);
  }
  if (window && w1 > w0) *window = (double)wok / (double)(w1 - w0);
  eddy_instance_free(&in);
  return (double)ok / (double)n;
}

/* Heap bytes in use (glibc). */
static inline size_t t_heap(void) { return mallinfo2().uordblks; }

/* Saves l, loads it back (new learner on the same schema), checks that
 * saving the loaded one gives the same bytes; returns the loaded one. */
static inline eddy_learner_t *t_round_trip(const eddy_learner_t *l) {
  eddy_buf_t a, b;
  eddy_buf_init(&a);
  eddy_buf_init(&b);
  cr_assert_eq(eddy_learner_save(l, &a), 0);
  /* the section framing: skip tag (4) and length (8) */
  eddy_reader_t r;
  eddy_reader_init(&r, a.data + 12, a.len - 12);
  char err[512];
  eddy_learner_t *l2 = eddy_learner_load(&r, l->schema, err, sizeof err);
  cr_assert_not_null(l2, "%s", err);
  cr_assert_eq(eddy_learner_save(l2, &b), 0);
  cr_assert_eq(a.len, b.len, "saving the loaded model: %zu bytes, first save %zu", b.len, a.len);
  cr_assert_eq(memcmp(a.data, b.data, a.len), 0, "saving a loaded model gives the same bytes");
  eddy_buf_free(&a);
  eddy_buf_free(&b);
  return l2;
}

/* Every truncation and every single-byte change (xor 0x5a) of l's saved
 * body: the load is refused, or the loaded learner predicts and learns
 * `rows` without crashing or hanging (under the sanitizers: without a
 * memory error). Returns how many altered bodies loaded. */
static inline size_t t_corruption_sweep(const eddy_learner_t *l, const eddy_instance_t *rows,
                                        size_t n_rows) {
  eddy_buf_t b;
  eddy_buf_init(&b);
  cr_assert_eq(eddy_learner_save(l, &b), 0);
  uint8_t *body = b.data + 12;
  size_t len = b.len - 12, loaded = 0;
  char err[512];
  double out[64];
  for (size_t cut = 0; cut < len; cut += 1 + cut / 64) {
    eddy_reader_t r;
    eddy_reader_init(&r, body, cut);
    cr_assert_null(eddy_learner_load(&r, l->schema, err, sizeof err), "truncated at %zu", cut);
  }
  for (size_t i = 0; i < len; i++) {
    body[i] ^= 0x5a;
    eddy_reader_t r;
    eddy_reader_init(&r, body, len);
    eddy_learner_t *x = eddy_learner_load(&r, l->schema, err, sizeof err);
    if (x) {
      loaded++;
      for (size_t j = 0; j < n_rows; j++) {
        eddy_learner_predict(x, &rows[j], out, 64);
        eddy_learner_learn(x, &rows[j]);
      }
      eddy_learner_free(x);
    }
    body[i] ^= 0x5a;
  }
  eddy_buf_free(&b);
  return loaded;
}

/* Elec2 through eddy's field map and CSV decoder, `day` nominal as in
 * MOA's elecNormNew.arff. With arff_order, day's values are interned 1..7
 * before reading, as the ARFF header declares them (MOA's value indices);
 * otherwise they are indexed in order of appearance (2, 3, ..., 7, 1).
 * Returns the number of instances (0 and a skip when the file is absent);
 * *correct counts prequential hits. */
static inline size_t t_elec2(const char *learner, const kvp_t *p, size_t n_p, int arff_order,
                             size_t *correct, eddy_learner_t **keep) {
  const char *dir = getenv("EDDY_DATASETS") ? getenv("EDDY_DATASETS") : "../shared/datasets";
  char path[1024], err[1024];
  snprintf(path, sizeof path, "%s/elec2.csv", dir);
  if (access(path, R_OK) != 0) return 0;
  eddy_config_t *c = eddy_config_parse(
      "[pipeline]\nname = elec2\n[features]\nnominal = day\ntarget = class\n"
      "[model]\nlearner = majority\n",
      "elec2.ini", err, sizeof err);
  cr_assert_not_null(c, "%s", err);
  eddy_lines_t *lines = eddy_lines_open(path, err, sizeof err);
  cr_assert_not_null(lines, "%s", err);
  char *line;
  size_t len;
  cr_assert_eq(eddy_lines_next(lines, &line, &len), 0);
  char *cols[32];
  size_t lens[32];
  int n_cols = eddy_csv_split(line, len, cols, lens, 32);
  cr_assert_eq(n_cols, 9);
  char *names[32];
  for (int i = 0; i < n_cols; i++) names[i] = strdup(cols[i]);
  eddy_fields_t *f = eddy_fields_new(&c->pipelines[0], (const char *const *)names, (size_t)n_cols,
                                     NULL, 0, err, sizeof err);
  cr_assert_not_null(f, "%s", err);
  eddy_schema_t *s = eddy_fields_schema(f, err, sizeof err);
  cr_assert_not_null(s, "%s", err);
  int day = eddy_schema_find(s, "day");
  cr_assert_geq(day, 0);
  if (arff_order)
    for (char d = '1'; d <= '7'; d++) eddy_dict_intern(s->attrs[day].dict, &d, 1, eddy_hash(&d, 1), NULL);
  eddy_decoder_t *dec = eddy_decoder_new(EDDY_FORMAT_CSV, f, &c->pipelines[0],
                                         (const char *const *)names, (size_t)n_cols, err, sizeof err);
  cr_assert_not_null(dec, "%s", err);
  eddy_record_t rec;
  cr_assert_eq(eddy_record_init(&rec, f), 0);
  eddy_kv_t kv[16] = {{0}};
  eddy_learner_t *l = eddy_learner_new(learner, s, kv, kv_fill(kv, p, n_p), 1, err, sizeof err);
  cr_assert_not_null(l, "%s", err);
  size_t n = 0, ok = 0;
  double out[8];
  while (eddy_lines_next(lines, &line, &len) == 0) {
    cr_assert_eq(eddy_decoder_decode(dec, s, line, len, &rec, err, sizeof err), 0, "%s", err);
    int k = eddy_learner_predict(l, &rec.in, out, 8);
    cr_assert(k == 1 || k == 2, "%d classes", k); /* DOWN first appears later */
    ok += eddy_argmax(out, (size_t)k) == (size_t)rec.in.y;
    cr_assert_eq(eddy_learner_learn(l, &rec.in), 0);
    n++;
  }
  *correct = ok;
  if (keep) {
    /* the caller describes the model; the schema stays alive with it */
    *keep = l;
  } else {
    eddy_learner_free(l);
    eddy_schema_free(s);
  }
  eddy_record_free(&rec);
  eddy_decoder_free(dec);
  eddy_fields_free(f);
  for (int i = 0; i < n_cols; i++) free(names[i]);
  eddy_lines_close(lines);
  eddy_config_free(c);
  return n;
}

#endif /* HT_TEST_H */
