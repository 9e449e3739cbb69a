/* fuzz.h: what the libFuzzer targets in tests/fuzz/ share: pipeline
 * configs parsed from text, a deterministic byte-driven PRNG, checkpoint
 * surgery (the learner's name replaced, the CRC recomputed so that mutated
 * bodies reach the loaders), and exercising a loaded model (predict, learn,
 * save, reload, save: same bytes, same predictions). Header-only; include
 * once per target. A failed check calls abort() so that libFuzzer reports
 * the input as a crash. */
#ifndef EDDY_FUZZ_H
#define EDDY_FUZZ_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/connectors.h"
#include "detectors/detectors.h"
#include "core/core.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
#include "learners/learners.h"

#define FUZZ_CHECK(cond, ...)                                        \
  do {                                                               \
    if (!(cond)) {                                                   \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                  \
      fprintf(stderr, "\n");                                         \
      abort();                                                       \
    }                                                                \
  } while (0)

/* Learners log refusals (a third class for a binary learner) per record:
 * quiet, so that the fuzzers' output stays readable and fast. */
__attribute__((constructor)) static void fuzz_quiet(void) { eddy_log_set_level(EDDY_LOG_ERROR + 1); }

/* A config that must parse (the targets' own, not fuzzed): aborts with the
 * message otherwise. Without a [model] section it gets the registry's
 * first learner (the default one may not be built in). */
static inline eddy_config_t *fuzz_config(const char *text) {
  char err[1024];
  eddy_buf_t b;
  eddy_buf_init(&b);
  eddy_buf_printf(&b, "%s", text);
  if (!strstr(text, "[model]")) eddy_buf_printf(&b, "\n[model]\nlearner = %s\n", eddy_learner_types[0]->name);
  eddy_buf_put_u8(&b, 0);
  FUZZ_CHECK(!b.err, "out of memory");
  eddy_config_t *c = eddy_config_parse((const char *)b.data, "<fuzz>", err, sizeof err);
  FUZZ_CHECK(c, "%s\n%s", err, (const char *)b.data);
  eddy_buf_free(&b);
  return c;
}

/* The [model] section for learner type lt: small ensembles and hashed
 * feature spaces (fuzzing is about code paths, not sizes: a replica of a
 * linear model with 2^18 slots per class costs 100x more per input), and
 * for regression a base learner that does regression (the default base
 * learner may not). */
static inline void fuzz_model_section(eddy_buf_t *b, const eddy_learner_type_t *lt, int regression) {
  eddy_buf_printf(b, "[model]\nlearner = %s\n", lt->name);
  if (eddy_options_find(lt->options, "ensemble_size")) eddy_buf_printf(b, "ensemble_size = 3\n");
  if (eddy_options_find(lt->options, "hash_bits")) eddy_buf_printf(b, "hash_bits = 6\n");
  if (!regression || !eddy_options_find(lt->options, "base_learner")) return;
  const char *base = NULL;
  for (const eddy_learner_type_t *const *t = eddy_learner_types; *t; t++)
    if (((*t)->tasks & EDDY_REGRESSION) && !eddy_options_find((*t)->options, "base_learner") &&
        (!base || !strcmp((*t)->name, "hoeffding_tree_regressor"))) /* the natural one, if built */
      base = (*t)->name;
  if (base) eddy_buf_printf(b, "base_learner = %s\n", base);
}

/* ---- number of registered types */

static inline size_t fuzz_n_learners(void) {
  size_t n = 0;
  while (eddy_learner_types[n]) n++;
  return n;
}

/* Concept-drift detectors (the [drift] detector kind), in registry order. */
static inline size_t fuzz_concept_detectors(const eddy_detector_type_t **out, size_t max) {
  size_t n = 0;
  for (const eddy_detector_type_t *const *t = eddy_detector_types; *t; t++)
    if ((*t)->kind == EDDY_DETECTOR_CONCEPT && n < max) out[n++] = *t;
  return n;
}

static inline size_t fuzz_data_detectors(const eddy_detector_type_t **out, size_t max) {
  size_t n = 0;
  for (const eddy_detector_type_t *const *t = eddy_detector_types; *t; t++)
    if ((*t)->kind == EDDY_DETECTOR_DATA && n < max) out[n++] = *t;
  return n;
}

/* ---- a small PRNG seeded from the input, for the values a target makes up */

typedef struct {
  uint64_t s;
} fuzz_rng_t;

static inline uint64_t fuzz_next(fuzz_rng_t *r) { /* splitmix64 */
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static inline double fuzz_uniform(fuzz_rng_t *r) { return (double)(fuzz_next(r) >> 11) * 0x1p-53; }

/* ---- checkpoint surgery */

#define FUZZ_CKPT_HEADER 8

/* out = the checkpoint p with the name at the start of its first learner
 * section replaced by `name` (section length adjusted), and the CRC
 * recomputed over the result. Input too short to hold a CRC is copied as
 * is; input whose sections do not tile is copied with its CRC fixed. */
static inline void fuzz_ckpt_prepare(const uint8_t *p, size_t len, const char *name,
                                     eddy_buf_t *out) {
  eddy_buf_clear(out);
  if (len < FUZZ_CKPT_HEADER + 4) {
    eddy_buf_put(out, p, len);
    return;
  }
  size_t body = len - 4;
  int renamed = 0;
  if (name) {
    /* Walk the sections; rebuild with the learner section renamed. */
    eddy_reader_t r;
    eddy_reader_init(&r, p + FUZZ_CKPT_HEADER, body - FUZZ_CKPT_HEADER);
    eddy_buf_put(out, p, FUZZ_CKPT_HEADER);
    while (r.pos < r.len && !r.err) {
      uint32_t tag = eddy_read_u32(&r);
      uint64_t n = eddy_read_u64(&r);
      if (r.err || n > r.len - r.pos) {
        r.err = EDDY_ECORRUPT;
        break;
      }
      const uint8_t *sec = r.p + r.pos;
      r.pos += (size_t)n;
      if (tag == EDDY_SECTION_LEARNER && !renamed) {
        eddy_reader_t s;
        eddy_reader_init(&s, sec, (size_t)n);
        size_t old;
        if (eddy_read_mem(&s, &old)) {
          size_t rest = (size_t)n - s.pos;
          eddy_buf_put_u32(out, tag);
          eddy_buf_put_u64(out, 4 + strlen(name) + rest);
          eddy_buf_put_str(out, name);
          eddy_buf_put(out, sec + s.pos, rest);
          renamed = 1;
          continue;
        }
      }
      eddy_buf_put_u32(out, tag);
      eddy_buf_put_u64(out, n);
      eddy_buf_put(out, sec, (size_t)n);
    }
    if (r.err || !renamed) eddy_buf_clear(out);
  }
  if (!renamed) eddy_buf_put(out, p, body);
  eddy_buf_put_u32(out, eddy_crc32(out->data, out->len));
  FUZZ_CHECK(!out->err, "out of memory");
}

/* ---- exercising a loaded model */

/* Fills in with made-up values over schema s (whose dictionaries may
 * grow: new nominal values and classes, as a decoder would add them);
 * has_y is 0 when the target dictionary is full. */
static inline void fuzz_instance(fuzz_rng_t *g, eddy_schema_t *s, eddy_instance_t *in) {
  char text[32];
  eddy_instance_clear(in);
  for (size_t a = 0; a < s->n_attrs; a++) {
    uint64_t u = fuzz_next(g);
    if (u % 8 == 0) continue; /* missing */
    if (s->attrs[a].kind == EDDY_NUMERIC) {
      static const double odd[] = {0.0, -0.0, 1e308, -1e308, 5e-324, 1.0, -1.0, 0.5};
      in->x[a] = u % 16 == 1 ? odd[(u >> 8) % 8] : (fuzz_uniform(g) - 0.5) * 100;
    } else {
      int n = snprintf(text, sizeof text, "v%u", (unsigned)((u >> 8) % 6));
      uint64_t h = eddy_hash(text, (size_t)n);
      int64_t idx = eddy_dict_intern(s->attrs[a].dict, text, (size_t)n, h, NULL);
      if (idx < 0) continue;
      in->x[a] = (double)idx;
      in->h[a] = h;
    }
    in->missing[a] = 0;
  }
  uint64_t u = fuzz_next(g);
  in->weight = u % 5 == 0 ? fuzz_uniform(g) * 3 : 1.0;
  if (s->task == EDDY_REGRESSION) {
    in->y = (fuzz_uniform(g) - 0.5) * 20;
    in->has_y = 1;
  } else {
    int n = snprintf(text, sizeof text, "c%u", (unsigned)((u >> 8) % 4));
    int64_t idx = eddy_dict_intern(s->target.dict, text, (size_t)n, eddy_hash(text, (size_t)n), NULL);
    if (idx >= 0) {
      in->y = (double)idx;
      in->has_y = 1;
    }
  }
}

/* Bit-identical arrays (NaNs included). */
static inline int fuzz_same(const double *a, const double *b, size_t n) {
  return n == 0 || memcmp(a, b, n * sizeof *a) == 0;
}

/* Predicts and learns a few made-up instances with l over s (s is l's
 * schema, owned by the caller and allowed to grow), then checks the
 * checkpoint contract: saved, loaded and saved again, the bytes are the
 * same and the reloaded model predicts bit-identically. */
static inline void fuzz_exercise_learner(eddy_learner_t *l, eddy_schema_t *s, uint64_t seed) {
  fuzz_rng_t g = {seed};
  eddy_instance_t in;
  FUZZ_CHECK(eddy_instance_init(&in, s->n_attrs) == 0, "out of memory");
  size_t cap = 0;
  double *out = NULL, *out2 = NULL;
  for (int i = 0; i < 6; i++) {
    fuzz_instance(&g, s, &in);
    size_t k = s->task == EDDY_CLASSIFICATION ? eddy_schema_n_classes(s) : 1;
    if (k + 1 > cap) {
      cap = k + 1;
      out = realloc(out, cap * sizeof *out);
      out2 = realloc(out2, cap * sizeof *out2);
      FUZZ_CHECK(out && out2, "out of memory");
    }
    int n = eddy_learner_predict(l, &in, out, cap);
    FUZZ_CHECK(n < 0 || (size_t)n <= k, "predict wrote %d values for %zu classes", n, k);
    if (in.has_y) eddy_learner_learn(l, &in);
  }
  /* The instance compared below, made before saving so that whatever it
   * adds to the dictionaries is in the checkpoint too. */
  fuzz_instance(&g, s, &in);
  eddy_buf_t a, b;
  eddy_buf_init(&a);
  eddy_buf_init(&b);
  char err[1024];
  if (eddy_model_save(s, l, &a) == 0) {
    eddy_schema_t *s2;
    eddy_learner_t *l2;
    int rc = eddy_model_load(a.data, a.len, &s2, &l2, err, sizeof err);
    FUZZ_CHECK(rc == 0, "%s: a checkpoint just saved does not load: %s", l->type->name, err);
    FUZZ_CHECK(eddy_model_save(s2, l2, &b) == 0, "the reloaded model does not save");
    FUZZ_CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0,
               "%s: saved, loaded and saved again: %zu bytes, then %zu bytes differ", l->type->name,
               a.len, b.len);
    size_t m = (s->task == EDDY_CLASSIFICATION ? eddy_schema_n_classes(s) : 1) + 1;
    double *p1 = calloc(m, sizeof *p1), *p2 = calloc(m, sizeof *p2);
    FUZZ_CHECK(p1 && p2, "out of memory");
    int n1 = eddy_learner_predict(l, &in, p1, m);
    int n2 = eddy_learner_predict(l2, &in, p2, m);
    FUZZ_CHECK(n1 == n2 && (n1 <= 0 || fuzz_same(p1, p2, (size_t)n1)),
               "%s: the reloaded model predicts differently", l->type->name);
    free(p1);
    free(p2);
    eddy_learner_free(l2);
    eddy_schema_free(s2);
  }
  eddy_buf_free(&a);
  eddy_buf_free(&b);
  eddy_instance_free(&in);
  free(out);
  free(out2);
}

/* ---- decoded records */

/* What every decoded record must satisfy: nominal values and classes are
 * indices into the schema's dictionaries, numbers are finite, a weight is
 * not negative, key and id bytes are readable (ASan checks the reads). */
static inline void fuzz_check_record(const eddy_schema_t *s, const eddy_record_t *r) {
  const eddy_instance_t *in = &r->in;
  for (size_t a = 0; a < s->n_attrs; a++) {
    if (in->missing[a]) continue;
    FUZZ_CHECK(isfinite(in->x[a]), "attribute %zu: %g", a, in->x[a]);
    if (s->attrs[a].kind == EDDY_NOMINAL)
      FUZZ_CHECK(in->x[a] >= 0 && in->x[a] < eddy_dict_size(s->attrs[a].dict) &&
                     in->x[a] == (double)(uint32_t)in->x[a],
                 "attribute %zu: index %g of %u values", a, in->x[a], eddy_dict_size(s->attrs[a].dict));
  }
  if (in->has_y) {
    FUZZ_CHECK(isfinite(in->y), "target %g", in->y);
    if (s->task == EDDY_CLASSIFICATION)
      FUZZ_CHECK(in->y >= 0 && in->y < eddy_schema_n_classes(s), "class %g of %u", in->y,
                 eddy_schema_n_classes(s));
  }
  FUZZ_CHECK(isfinite(in->weight) && in->weight >= 0, "weight %g", in->weight);
  if (r->key) (void)eddy_hash(r->key, r->key_len);
  if (r->id) (void)eddy_hash(r->id, r->id_len);
  for (size_t i = 0; i < r->n_aux; i++)
    if (r->aux_set[i]) FUZZ_CHECK(isfinite(r->aux[i]), "aux %zu: %g", i, r->aux[i]);
}

#endif /* EDDY_FUZZ_H */
