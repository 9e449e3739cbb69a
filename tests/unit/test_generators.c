/* test_generators.c: the synthetic streams (SEA, Agrawal, hyperplane, RBF,
 * STAGGER), concept drift as MOA's ConceptDriftStream, the fast number
 * formatter, and `eddy gen` run as a program. Labels are recomputed here
 * from the attributes with predicates written from the papers and MOA's
 * text, independently of generators/. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
#include "core/core_int.h"
#include "generators/generators.h"

/* ---------------------------------------------------------------- helpers */

static eddy_generator_t *gen(const char *name, const char *opts, uint64_t seed) {
  /* opts: "k=v k=v" */
  eddy_kvlist_t kv = {0};
  char buf[512];
  snprintf(buf, sizeof buf, "%s", opts ? opts : "");
  for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " ")) {
    char *eq = strchr(tok, '=');
    cr_assert(eq, "bad test option %s", tok);
    *eq = '\0';
    eddy_kvlist_add(&kv, tok, eq + 1, NULL, 0);
  }
  char err[1024] = "";
  eddy_generator_t *g = eddy_generator_new(name, kv.v, kv.n, seed, err, sizeof err);
  eddy_kvlist_free(&kv);
  cr_assert(g, "%s %s: %s", name, opts ? opts : "", err);
  return g;
}

typedef struct {
  eddy_generator_t *g;
  eddy_instance_t in;
  size_t n;
} stream_t;

static void open_stream(stream_t *s, const char *name, const char *opts, uint64_t seed) {
  s->g = gen(name, opts, seed);
  s->n = eddy_generator_schema(s->g)->n_attrs;
  cr_assert_eq(eddy_instance_init(&s->in, s->n), 0);
}

static const eddy_instance_t *next(stream_t *s) {
  cr_assert_eq(eddy_generator_next(s->g, &s->in), 0);
  cr_assert_eq(s->in.has_y, 1);
  cr_assert_eq(s->in.weight, 1.0);
  for (size_t i = 0; i < s->n; i++) cr_assert_eq(s->in.missing[i], 0);
  return &s->in;
}

static void close_stream(stream_t *s) {
  eddy_instance_free(&s->in);
  eddy_generator_free(s->g);
}

/* The text of nominal value x[i]. */
static const char *text(const stream_t *s, size_t i) {
  const eddy_schema_t *sc = eddy_generator_schema(s->g);
  return eddy_dict_name(sc->attrs[i].dict, (uint32_t)s->in.x[i]);
}

static int same_instance(const eddy_instance_t *a, const eddy_instance_t *b) {
  return a->n == b->n && memcmp(a->x, b->x, a->n * sizeof *a->x) == 0 &&
         memcmp(a->h, b->h, a->n * sizeof *a->h) == 0 && a->y == b->y;
}

static const char *const all_types[] = {"sea", "agrawal", "hyperplane", "rbf", "stagger"};

/* --------------------------------------------------------------- registry */

Test(registry, names_options_and_errors) {
  char err[1024];
  cr_assert_null(eddy_generator_new("sae", NULL, 0, 1, err, sizeof err));
  cr_assert(strstr(err, "sae") && strstr(err, "sea") && strstr(err, "agrawal") &&
                strstr(err, "hyperplane") && strstr(err, "rbf") && strstr(err, "stagger"),
            "%s", err);
  eddy_kv_t bad[] = {{"nosie", "0.2", "g.ini", 3}};
  cr_assert_null(eddy_generator_new("sea", bad, 1, 1, err, sizeof err));
  cr_assert(strstr(err, "g.ini:3:") && strstr(err, "nosie") && strstr(err, "noise") &&
                strstr(err, "concept") && strstr(err, "drift_to"),
            "%s", err);
  eddy_kv_t range[] = {{"function", "11", NULL, 0}};
  cr_assert_null(eddy_generator_new("agrawal", range, 1, 1, err, sizeof err));
  cr_assert(strstr(err, "function") && strstr(err, "11"), "%s", err);
  eddy_kv_t drift_bad[] = {{"drift_to", "5", NULL, 0}};
  cr_assert_null(eddy_generator_new("sea", drift_bad, 1, 1, err, sizeof err));
  cr_assert(strstr(err, "drift_to") && strstr(err, "concept"), "%s", err);
  eddy_kv_t no_to[] = {{"drift_at", "5", NULL, 0}};
  cr_assert_null(eddy_generator_new("sea", no_to, 1, 1, err, sizeof err));
  cr_assert(strstr(err, "drift_to"), "%s", err);
  eddy_kv_t hp[] = {{"features", "3", NULL, 0}, {"drift_features", "4", NULL, 0}};
  cr_assert_null(eddy_generator_new("hyperplane", hp, 2, 1, err, sizeof err));
  cr_assert(strstr(err, "drift_features"), "%s", err);
  /* Every registered type is made with its defaults and its concept key
   * is one of its options. */
  size_t n = 0;
  for (const eddy_generator_type_t *const *t = eddy_generator_types; *t; t++, n++) {
    cr_assert_eq(eddy_generator_type_find((*t)->name), *t);
    cr_assert(eddy_options_find((*t)->options, (*t)->concept_key), "%s", (*t)->name);
    eddy_generator_t *g = eddy_generator_new((*t)->name, NULL, 0, 1, err, sizeof err);
    cr_assert(g, "%s: %s", (*t)->name, err);
    eddy_generator_free(g);
  }
  cr_assert_eq(n, 5);
}

Test(schema, attributes_and_classes) {
  stream_t s;
  open_stream(&s, "sea", NULL, 1);
  const eddy_schema_t *sc = eddy_generator_schema(s.g);
  cr_assert_eq(sc->n_attrs, 3);
  cr_assert_str_eq(sc->attrs[2].name, "attrib3");
  cr_assert_eq(sc->attrs[0].kind, EDDY_NUMERIC);
  cr_assert_eq(eddy_schema_n_classes(sc), 2);
  cr_assert_str_eq(eddy_dict_name(sc->target.dict, 0), "0");
  cr_assert_str_eq(eddy_dict_name(sc->target.dict, 1), "1");
  cr_assert_str_eq(sc->target.name, "class");
  close_stream(&s);

  open_stream(&s, "agrawal", NULL, 1);
  sc = eddy_generator_schema(s.g);
  const char *names[] = {"salary", "commission", "age",    "elevel", "car",
                         "zipcode", "hvalue",    "hyears", "loan"};
  cr_assert_eq(sc->n_attrs, 9);
  for (size_t i = 0; i < 9; i++) {
    cr_assert_str_eq(sc->attrs[i].name, names[i]);
    cr_assert_eq(sc->attrs[i].kind, (i >= 3 && i <= 5) ? EDDY_NOMINAL : EDDY_NUMERIC);
  }
  cr_assert_eq(eddy_schema_n_values(sc, 3), 5);
  cr_assert_eq(eddy_schema_n_values(sc, 4), 20);
  cr_assert_eq(eddy_schema_n_values(sc, 5), 9);
  cr_assert_str_eq(eddy_dict_name(sc->attrs[3].dict, 0), "level0");
  cr_assert_str_eq(eddy_dict_name(sc->attrs[4].dict, 19), "car20");
  cr_assert_str_eq(eddy_dict_name(sc->attrs[5].dict, 8), "zipcode9");
  close_stream(&s);

  open_stream(&s, "stagger", NULL, 1);
  sc = eddy_generator_schema(s.g);
  cr_assert_eq(sc->n_attrs, 3);
  cr_assert_str_eq(eddy_dict_name(sc->attrs[0].dict, 2), "large");
  cr_assert_str_eq(eddy_dict_name(sc->attrs[1].dict, 1), "blue");
  cr_assert_str_eq(eddy_dict_name(sc->attrs[2].dict, 0), "circle");
  /* h[] is the hash of the value's text */
  next(&s);
  const char *t = text(&s, 1);
  cr_assert_eq(s.in.h[1], eddy_hash(t, strlen(t)));
  close_stream(&s);

  open_stream(&s, "rbf", "features=7 classes=5", 1);
  sc = eddy_generator_schema(s.g);
  cr_assert_eq(sc->n_attrs, 7);
  cr_assert_str_eq(sc->attrs[6].name, "att7");
  cr_assert_eq(eddy_schema_n_classes(sc), 5);
  cr_assert_str_eq(eddy_dict_name(sc->target.dict, 4), "4");
  close_stream(&s);

  open_stream(&s, "hyperplane", "features=4", 1);
  cr_assert_eq(eddy_generator_schema(s.g)->n_attrs, 4);
  close_stream(&s);
}

/* ------------------------------------------------------------ determinism */

Test(determinism, same_seed_same_stream_other_seed_other) {
  for (size_t k = 0; k < 5; k++) {
    const char *opts = strcmp(all_types[k], "rbf") == 0 ? "speed=0.01" : NULL;
    stream_t a, b, c;
    open_stream(&a, all_types[k], opts, 42);
    open_stream(&b, all_types[k], opts, 42);
    open_stream(&c, all_types[k], opts, 43);
    size_t differ = 0;
    for (int i = 0; i < 5000; i++) {
      next(&a);
      next(&b);
      next(&c);
      cr_assert(same_instance(&a.in, &b.in), "%s: instance %d differs", all_types[k], i);
      differ += !same_instance(&a.in, &c.in);
    }
    /* STAGGER has only 27 distinct rows; the others never repeat. */
    cr_assert_gt(differ, strcmp(all_types[k], "stagger") == 0 ? 4000 : 4999, "%s: %zu",
                 all_types[k], differ);
    close_stream(&a);
    close_stream(&b);
    close_stream(&c);
  }
}

/* -------------------------------------------------------------------- SEA */

Test(sea, concepts_without_noise) {
  const double thr[4] = {8, 9, 7, 9.5};
  for (int concept = 1; concept <= 4; concept++) {
    char opts[64];
    snprintf(opts, sizeof opts, "concept=%d noise=0", concept);
    stream_t s;
    open_stream(&s, "sea", opts, 7);
    size_t ones = 0, n = 50000;
    for (size_t i = 0; i < n; i++) {
      const eddy_instance_t *in = next(&s);
      for (int j = 0; j < 3; j++) cr_assert(in->x[j] >= 0 && in->x[j] < 10);
      int want = in->x[0] + in->x[1] > thr[concept - 1];
      cr_assert_eq((int)in->y, want, "concept %d row %zu: %g + %g -> %g", concept, i, in->x[0],
                   in->x[1], in->y);
      ones += want;
    }
    /* P(a1 + a2 > t) for t <= 10 is 1 - t^2 / 200: 0.68, 0.595, 0.755, 0.54875 */
    double expect = 1 - thr[concept - 1] * thr[concept - 1] / 200;
    cr_assert(fabs((double)ones / n - expect) < 0.01, "concept %d: %g vs %g", concept,
              (double)ones / n, expect);
    close_stream(&s);
  }
}

Test(sea, default_noise_class_fraction) {
  /* 0.68 * 0.9 + 0.32 * 0.1 = 0.644; measured 0.64382 (seed 1, 100k). */
  stream_t s, clean;
  open_stream(&s, "sea", NULL, 1);
  open_stream(&clean, "sea", "noise=0", 1);
  size_t ones = 0, flipped = 0, n = 100000;
  for (size_t i = 0; i < n; i++) {
    next(&s);
    next(&clean);
    /* The noise draw is made whatever the noise: same attributes. */
    cr_assert_eq(memcmp(s.in.x, clean.in.x, 3 * sizeof(double)), 0);
    ones += s.in.y == 1;
    flipped += s.in.y != clean.in.y;
  }
  cr_assert(fabs((double)ones / n - 0.644) < 0.006, "class-1 fraction %g", (double)ones / n);
  cr_assert(fabs((double)flipped / n - 0.10) < 0.005, "flipped %g", (double)flipped / n);
  close_stream(&s);
  close_stream(&clean);
}

Test(sea, balance_alternates) {
  stream_t s;
  open_stream(&s, "sea", "concept=4 noise=0 balance=true", 3);
  for (int i = 0; i < 1000; i++) {
    next(&s);
    cr_assert_eq(s.in.y, (i % 2 == 0) ? 1.0 : 0.0, "row %d", i); /* MOA starts with class 1 */
    cr_assert_eq(s.in.y, (double)(s.in.x[0] + s.in.x[1] > 9.5));
  }
  close_stream(&s);
}

/* ---------------------------------------------------------------- Agrawal */

/* Group A (class 0) of the paper's functions, written from the paper
 * (Agrawal et al. 1993, p. 924) with MOA's 2/3 for the paper's 0.67. */
static int agrawal_group_a(int f, double salary, double commission, double age, int elevel,
                           double hvalue, double hyears, double loan) {
  int band = age < 40 ? 0 : age < 60 ? 1 : 2;
  static const double sal_lo[3] = {50e3, 75e3, 25e3}, sal_hi[3] = {100e3, 125e3, 75e3};
  static const int el_lo[3] = {0, 1, 2}, el_hi[3] = {1, 3, 4};
  static const double f4_in_lo[3] = {25e3, 50e3, 50e3}, f4_in_hi[3] = {75e3, 100e3, 100e3};
  static const double f4_out_lo[3] = {50e3, 75e3, 25e3}, f4_out_hi[3] = {100e3, 125e3, 75e3};
  static const double f5_in_lo[3] = {100e3, 200e3, 300e3}, f5_in_hi[3] = {300e3, 400e3, 500e3};
  static const double f5_out_lo[3] = {200e3, 300e3, 100e3}, f5_out_hi[3] = {400e3, 500e3, 300e3};
#define BETWEEN(v, lo, hi) ((v) >= (lo) && (v) <= (hi))
  int el_in = elevel >= el_lo[band] && elevel <= el_hi[band];
  int sal_in = BETWEEN(salary, sal_lo[band], sal_hi[band]);
  double income = salary + commission;
  switch (f) {
  case 1: return band != 1;
  case 2: return sal_in;
  case 3: return el_in;
  case 4:
    return el_in ? BETWEEN(salary, f4_in_lo[band], f4_in_hi[band])
                 : BETWEEN(salary, f4_out_lo[band], f4_out_hi[band]);
  case 5:
    return sal_in ? BETWEEN(loan, f5_in_lo[band], f5_in_hi[band])
                  : BETWEEN(loan, f5_out_lo[band], f5_out_hi[band]);
  case 6: return BETWEEN(income, sal_lo[band], sal_hi[band]);
  case 7: return income * 2.0 / 3.0 - 0.2 * loan - 20e3 > 0;
  case 8: return income * 2.0 / 3.0 - 5e3 * elevel - 20e3 > 0;
  case 9: return income * 2.0 / 3.0 - 5e3 * elevel - 0.2 * loan - 10e3 > 0;
  default: {
    double equity = 0.1 * hvalue * fmax(hyears - 20, 0);
    return income * 2.0 / 3.0 - 5e3 * elevel + 0.2 * equity - 10e3 > 0;
  }
  }
#undef BETWEEN
}

Test(agrawal, ten_functions_without_perturbation) {
  for (int f = 1; f <= 10; f++) {
    char opts[64];
    snprintf(opts, sizeof opts, "function=%d perturbation=0", f);
    stream_t s;
    open_stream(&s, "agrawal", opts, (uint64_t)f);
    size_t zeros = 0, n = 20000;
    for (size_t i = 0; i < n; i++) {
      const double *x = next(&s)->x;
      double salary = x[0], commission = x[1], age = x[2], hvalue = x[6], hyears = x[7],
             loan = x[8];
      int elevel = atoi(text(&s, 3) + 5), car = atoi(text(&s, 4) + 3),
          zip = atoi(text(&s, 5) + 7) - 1;
      cr_assert(salary >= 20e3 && salary < 150e3);
      if (salary >= 75e3)
        cr_assert_eq(commission, 0.0);
      else
        cr_assert(commission >= 10e3 && commission < 75e3, "%g", commission);
      cr_assert(age >= 20 && age <= 80 && age == floor(age));
      cr_assert(elevel >= 0 && elevel <= 4 && car >= 1 && car <= 20 && zip >= 0 && zip <= 8);
      cr_assert(hvalue >= (9 - zip) * 50e3 && hvalue < (9 - zip) * 150e3, "%g z%d", hvalue, zip);
      cr_assert(hyears >= 1 && hyears <= 30 && hyears == floor(hyears));
      cr_assert(loan >= 0 && loan < 500e3);
      int want = agrawal_group_a(f, salary, commission, age, elevel, hvalue, hyears, loan) ? 0 : 1;
      cr_assert_eq((int)s.in.y, want, "function %d row %zu", f, i);
      zeros += want == 0;
    }
    if (f == 1) /* group A: age in 20..39 or 60..80, 41 of 61 ages */
      cr_assert(fabs((double)zeros / n - 41.0 / 61) < 0.01, "%g", (double)zeros / n);
    cr_assert(zeros > 0 && zeros < n, "function %d: one class only", f);
    close_stream(&s);
  }
}

Test(agrawal, perturbation_bounds) {
  stream_t s;
  open_stream(&s, "agrawal", "function=2", 5); /* default perturbation 0.05 */
  size_t salaries_moved = 0;
  for (int i = 0; i < 20000; i++) {
    const double *x = next(&s)->x;
    cr_assert(x[0] >= 20e3 && x[0] <= 150e3);
    cr_assert(x[1] == 0 || (x[1] >= 10e3 && x[1] <= 75e3));
    cr_assert(x[2] >= 20 && x[2] <= 80 && x[2] == floor(x[2]));
    cr_assert(x[6] >= 0 && x[6] <= 135000, "hvalue %g: MOA clamps it to 135000", x[6]);
    cr_assert(x[7] >= 1 && x[7] <= 30 && x[7] == floor(x[7]));
    cr_assert(x[8] >= 0 && x[8] <= 500e3);
    salaries_moved += x[0] == 20e3 || x[0] == 150e3; /* clamped at a bound */
  }
  /* A salary d from a bound (d < 6500 = 0.05 * 130000) is pushed past it
   * with probability (6500 - d) / 13000: 2 * 6500/130000 * 1/4 = 2.5% of
   * rows, 500 of 20000; measured 524. */
  cr_assert(salaries_moved > 400 && salaries_moved < 650, "%zu", salaries_moved);
  close_stream(&s);
}

Test(agrawal, balance_alternates) {
  stream_t s;
  open_stream(&s, "agrawal", "function=7 balance=yes", 2);
  for (int i = 0; i < 200; i++) cr_assert_eq(next(&s)->y, (i % 2 == 0) ? 1.0 : 0.0);
  close_stream(&s);
}

/* ------------------------------------------------------------- hyperplane */

Test(hyperplane, balance_and_fixed_plane) {
  /* About half of [0,1)^d on each side of a plane through the centre;
   * measured 0.50221 (seed 1, noise 0, 100k). */
  stream_t s;
  open_stream(&s, "hyperplane", "noise=0", 1);
  size_t ones = 0, n = 100000;
  for (size_t i = 0; i < n; i++) {
    next(&s);
    for (size_t j = 0; j < 10; j++) cr_assert(s.in.x[j] >= 0 && s.in.x[j] < 1);
    ones += s.in.y == 1;
  }
  cr_assert(fabs((double)ones / n - 0.5) < 0.02, "%g", (double)ones / n);
  close_stream(&s);
  /* One attribute with a positive weight: class 1 exactly when x >= 0.5. */
  open_stream(&s, "hyperplane", "features=1 drift_features=0 noise=0", 9);
  for (int i = 0; i < 10000; i++) cr_assert_eq(next(&s)->y, (double)(s.in.x[0] >= 0.5));
  close_stream(&s);
}

Test(hyperplane, drift_moves_the_weights) {
  /* features=1: the label is x >= 0.5 while the weight is positive and
   * x <= 0.5 once it has drifted below zero. magnitude 0.3 with reversals
   * half the time is a random walk that crosses zero. */
  stream_t fixed, moving;
  open_stream(&fixed, "hyperplane", "features=1 drift_features=1 noise=0 sigma=0.5", 4);
  open_stream(&moving, "hyperplane",
              "features=1 drift_features=1 noise=0 sigma=0.5 magnitude=0.3", 4);
  size_t disagree = 0;
  for (int i = 0; i < 10000; i++) {
    next(&fixed);
    next(&moving);
    cr_assert_eq(fixed.in.x[0], moving.in.x[0], "same draws whatever the magnitude");
    cr_assert_eq(fixed.in.y, (double)(fixed.in.x[0] >= 0.5));
    disagree += moving.in.y != fixed.in.y;
  }
  cr_assert_gt(disagree, 1000, "the weight never went negative: %zu", disagree);
  close_stream(&fixed);
  close_stream(&moving);
  /* With the default noise 5% of labels are flipped. */
  stream_t clean, noisy;
  open_stream(&clean, "hyperplane", "noise=0", 6);
  open_stream(&noisy, "hyperplane", NULL, 6);
  size_t flipped = 0;
  for (int i = 0; i < 50000; i++) flipped += next(&clean)->y != next(&noisy)->y;
  cr_assert(fabs(flipped / 50000.0 - 0.05) < 0.005, "%zu", flipped);
  close_stream(&clean);
  close_stream(&noisy);
}

/* -------------------------------------------------------------------- RBF */

Test(rbf, classes_attributes_and_moving_centroids) {
  stream_t s;
  open_stream(&s, "rbf", "features=7 classes=5 centroids=50", 3);
  size_t count[5] = {0};
  for (int i = 0; i < 20000; i++) {
    next(&s);
    cr_assert(s.in.y >= 0 && s.in.y < 5);
    count[(int)s.in.y]++;
    for (size_t j = 0; j < 7; j++) cr_assert(isfinite(s.in.x[j]) && fabs(s.in.x[j] - 0.5) < 6);
  }
  for (int c = 0; c < 5; c++) cr_assert_gt(count[c], 0, "class %d never drawn", c);
  close_stream(&s);
  /* Moving centroids change nothing but the centres: the same draws give
   * the same centroid, direction and length, so instance t differs from
   * the static stream's by the centroid's displacement, at most t * speed
   * long (unit speed vectors), and not at all without moving centroids. */
  stream_t still, moving, none;
  open_stream(&still, "rbf", NULL, 8);
  open_stream(&moving, "rbf", "speed=0.001", 8);
  open_stream(&none, "rbf", "speed=0.001 drift_centroids=0", 8);
  double max_shift = 0;
  for (int t = 1; t <= 2000; t++) {
    next(&still);
    next(&moving);
    next(&none);
    cr_assert(same_instance(&still.in, &none.in));
    cr_assert_eq(still.in.y, moving.in.y);
    double d2 = 0;
    for (size_t j = 0; j < 10; j++) d2 += pow(moving.in.x[j] - still.in.x[j], 2);
    cr_assert_leq(sqrt(d2), t * 0.001 + 1e-12, "t=%d shift %g", t, sqrt(d2));
    if (sqrt(d2) > max_shift) max_shift = sqrt(d2);
  }
  cr_assert_gt(max_shift, 0.5, "centroids did not move: %g", max_shift); /* measured 1.749 */
  close_stream(&still);
  close_stream(&moving);
  close_stream(&none);
}

/* ---------------------------------------------------------------- STAGGER */

Test(stagger, three_concepts) {
  for (int concept = 1; concept <= 3; concept++) {
    char opts[32];
    snprintf(opts, sizeof opts, "concept=%d", concept);
    stream_t s;
    open_stream(&s, "stagger", opts, 11);
    int seen[27] = {0};
    for (int i = 0; i < 5000; i++) {
      next(&s);
      const char *size = text(&s, 0), *color = text(&s, 1), *shape = text(&s, 2);
      int want = concept == 1   ? strcmp(size, "small") == 0 && strcmp(color, "red") == 0
                 : concept == 2 ? strcmp(color, "green") == 0 || strcmp(shape, "circle") == 0
                                : strcmp(size, "medium") == 0 || strcmp(size, "large") == 0;
      cr_assert_eq((int)s.in.y, want, "concept %d: %s %s %s -> %g", concept, size, color, shape,
                   s.in.y);
      seen[(int)(s.in.x[0] * 9 + s.in.x[1] * 3 + s.in.x[2])] = 1;
    }
    for (int k = 0; k < 27; k++) cr_assert(seen[k], "combination %d never drawn", k);
    close_stream(&s);
  }
  stream_t b;
  open_stream(&b, "stagger", "concept=1 balance=1", 2); /* class 1 is 1/9 of rows */
  for (int i = 0; i < 100; i++) cr_assert_eq(next(&b)->y, (i % 2 == 0) ? 1.0 : 0.0);
  close_stream(&b);
}

/* ------------------------------------------------------------------ drift */

Test(drift, abrupt_switch_and_interleaving) {
  /* SEA concept 1 -> 3 at 5000, width 1, no noise. Rows with 7 < a1 + a2
   * <= 8 tell the concepts apart (class 0 under 1, class 1 under 3). */
  stream_t d, old_c, new_c;
  open_stream(&d, "sea", "noise=0 drift_to=3 drift_at=5000 drift_width=1", 5);
  open_stream(&old_c, "sea", "noise=0", 5);
  open_stream(&new_c, "sea", "noise=0 concept=3", eddy_seed_derive(5, 1));
  cr_assert_str_eq(d.g->type->name, "concept_drift");
  cr_assert_eq(eddy_generator_schema(d.g)->n_attrs, 3);
  next(&old_c);
  next(&new_c);
  size_t told_before = 0, told_after = 0, from_new = 0;
  for (int t = 1; t <= 10000; t++) {
    next(&d);
    double sum = d.in.x[0] + d.in.x[1];
    if (t <= 4990) cr_assert_eq(d.in.y, (double)(sum > 8), "t=%d", t);
    if (t >= 5010) cr_assert_eq(d.in.y, (double)(sum > 7), "t=%d", t);
    told_before += t <= 4990 && sum > 7 && sum <= 8;
    told_after += t >= 5010 && sum > 7 && sum <= 8;
    /* Each inner stream advances only when chosen: every row is the next
     * row of one of them (the old with the seed, the new with sub-seed 1). */
    if (same_instance(&d.in, &old_c.in)) {
      next(&old_c);
    } else {
      cr_assert(same_instance(&d.in, &new_c.in), "t=%d is from neither stream", t);
      next(&new_c);
      from_new++;
      cr_assert_geq(t, 4990, "new concept at t=%d", t);
    }
  }
  cr_assert_gt(told_before, 200);
  cr_assert_gt(told_after, 200);
  cr_assert(from_new > 4980 && from_new < 5020, "%zu", from_new);
  close_stream(&d);
  close_stream(&old_c);
  close_stream(&new_c);
}

Test(drift, gradual_sigmoid) {
  /* STAGGER 1 -> 3 centred at 20000, width 1000: 7 rows in 9 tell the
   * concepts apart. The share of the new concept follows
   * 1/(1+exp(-4(t-p)/w)): its mean is 0.5 over [p-250, p+250] (measured
   * 0.5144 on 383 telling rows), 0.0075 over [p-1500, p-1000] (measured
   * 0.0049) and 0.9925 over [p+1000, p+1500] (measured 0.9974). */
  stream_t d;
  open_stream(&d, "stagger", "drift_to=3 drift_at=20000 drift_width=1000", 12);
  size_t told[3] = {0}, new_c[3] = {0};
  for (int t = 1; t <= 22000; t++) {
    next(&d);
    const char *size = text(&d, 0), *color = text(&d, 1);
    int c1 = strcmp(size, "small") == 0 && strcmp(color, "red") == 0;
    int c3 = strcmp(size, "small") != 0;
    if (c1 == c3) continue;
    int w = t >= 18500 && t <= 19000 ? 0 : t >= 19750 && t <= 20250 ? 1
            : t >= 21000 && t <= 21500 ? 2 : -1;
    if (w < 0) continue;
    told[w]++;
    new_c[w] += (int)d.in.y == c3;
  }
  double share[3];
  for (int w = 0; w < 3; w++) share[w] = (double)new_c[w] / told[w];
  cr_assert_lt(share[0], 0.03, "%g", share[0]);
  cr_assert(fabs(share[1] - 0.5) < 0.08, "%g", share[1]);
  cr_assert_gt(share[2], 0.97, "%g", share[2]);
  close_stream(&d);
}

/* -------------------------------------------------------------- formatter */

static size_t fmt_bad;
static void fmt_check(double v) {
  char a[64], b[64];
  int na = eddy_fmt_double(a, sizeof a, v);
  int nb = eddy__fmt_double_slow(b, sizeof b, v);
  if (na != nb || strcmp(a, b) != 0) {
    if (fmt_bad++ < 5) cr_log_error("%.17g: fast '%s', snprintf/strtod '%s'", v, a, b);
  }
}

Test(fmt, same_bytes_as_snprintf_strtod) {
  eddy_rng_t r;
  eddy_rng_seed(&r, 99);
  fmt_bad = 0;
  for (int i = 0; i < 200000; i++) {
    fmt_check(10 * eddy_rng_uniform(&r));
    fmt_check(eddy_rng_uniform(&r));
    fmt_check(eddy_rng_gauss(&r) * 1000);
    fmt_check(20000 + 130000 * eddy_rng_uniform(&r));
    fmt_check(-pow(10, -13 + 30 * eddy_rng_uniform(&r)));
    fmt_check((double)eddy_rng_below(&r, 1000000));
    uint64_t bits = eddy_rng_next(&r); /* any double: inf, nan, subnormal */
    double v;
    memcpy(&v, &bits, sizeof v);
    fmt_check(v);
    /* dyadic values: exact decimal expansions, ties when rounding */
    int nb = 1 + (int)eddy_rng_below(&r, 53);
    fmt_check(ldexp((double)(eddy_rng_next(&r) >> (64 - nb)), -(int)eddy_rng_below(&r, 70)));
  }
  /* neighbours of powers of ten and of two (asymmetric gaps) */
  for (int e = -12; e <= 16; e++) {
    double v = pow(10, e), u = v;
    for (int k = 0; k < 40; k++, v = nextafter(v, 0), u = nextafter(u, INFINITY)) {
      fmt_check(v);
      fmt_check(u);
    }
  }
  for (int e = -45; e <= 52; e++) {
    double v = ldexp(1, e), u = v;
    for (int k = 0; k < 20; k++, v = nextafter(v, 0), u = nextafter(u, INFINITY)) {
      fmt_check(v);
      fmt_check(-u);
    }
  }
  fmt_check(0.0);
  fmt_check(-0.0);
  fmt_check(0.1);
  fmt_check(1e-11);
  fmt_check(1e15);
  cr_assert_eq(fmt_bad, 0, "%zu values formatted differently", fmt_bad);
}

/* -------------------------------------------------------------------- CLI */

static char *run(const char *args, size_t *len, int *status) {
  const char *bin = getenv("EDDY_BIN");
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", bin, args);
  FILE *p = popen(cmd, "r");
  cr_assert(p, "cannot run %s", cmd);
  size_t cap = 1 << 20, n = 0;
  char *buf = malloc(cap);
  size_t got;
  while ((got = fread(buf + n, 1, cap - n - 1, p)) > 0) {
    n += got;
    if (cap - n < 2) buf = realloc(buf, cap *= 2);
  }
  buf[n] = '\0';
  int st = pclose(p);
  *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  *len = n;
  return buf;
}

Test(cli, gen_sea_is_reproducible_and_matches_the_library) {
  if (!getenv("EDDY_BIN")) cr_skip_test("EDDY_BIN is not set (make unit sets it)");
  size_t n1, n2;
  int st1, st2;
  char *a = run("gen sea --seed 1 --n 100000", &n1, &st1);
  char *b = run("gen sea --seed 1 --n 100000", &n2, &st2);
  cr_assert_eq(st1, 0, "%.300s", a);
  cr_assert_eq(st2, 0);
  cr_assert_eq(n1, n2);
  cr_assert_eq(memcmp(a, b, n1), 0, "two runs gave different bytes");
  /* Every row is the library's instance, numbers in eddy_fmt_double's text;
   * measured class-1 fraction 0.64382. */
  stream_t s;
  open_stream(&s, "sea", NULL, 1);
  char *line = strtok(a, "\n");
  cr_assert_str_eq(line, "attrib1,attrib2,attrib3,class");
  size_t rows = 0, ones = 0;
  while ((line = strtok(NULL, "\n"))) {
    next(&s);
    char want[256], f[3][40];
    for (int j = 0; j < 3; j++) eddy_fmt_double(f[j], sizeof f[j], s.in.x[j]);
    snprintf(want, sizeof want, "%s,%s,%s,%d", f[0], f[1], f[2], (int)s.in.y);
    cr_assert_str_eq(line, want, "row %zu", rows);
    ones += line[strlen(line) - 1] == '1';
    rows++;
  }
  cr_assert_eq(rows, 100000);
  cr_assert(fabs(ones / 100000.0 - 0.644) < 0.006, "class-1 fraction %g", ones / 100000.0);
  close_stream(&s);
  free(a);
  free(b);
}

Test(cli, gen_jsonl_and_errors) {
  if (!getenv("EDDY_BIN")) cr_skip_test("EDDY_BIN is not set (make unit sets it)");
  size_t n;
  int st;
  char *out = run("gen agrawal --seed 3 --n 500 --format jsonl --function 4 --perturbation 0", &n,
                  &st);
  cr_assert_eq(st, 0, "%.300s", out);
  stream_t s;
  open_stream(&s, "agrawal", "function=4 perturbation=0", 3);
  const eddy_schema_t *sc = eddy_generator_schema(s.g);
  size_t rows = 0;
  for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"), rows++) {
    json_error_t je;
    json_t *o = json_loads(line, 0, &je);
    cr_assert(o && json_is_object(o), "row %zu: %s", rows, je.text);
    cr_assert_eq(json_object_size(o), 10);
    next(&s);
    for (size_t i = 0; i < 9; i++) {
      json_t *v = json_object_get(o, sc->attrs[i].name);
      cr_assert(v, "row %zu lacks %s", rows, sc->attrs[i].name);
      if (sc->attrs[i].kind == EDDY_NOMINAL)
        cr_assert_str_eq(json_string_value(v), text(&s, i));
      else
        cr_assert_eq(json_number_value(v), s.in.x[i], "row %zu %s", rows, sc->attrs[i].name);
    }
    cr_assert_eq(atoi(json_string_value(json_object_get(o, "class"))), (int)s.in.y);
    json_decref(o);
  }
  cr_assert_eq(rows, 500);
  close_stream(&s);
  free(out);
  /* Drift options with dashes; an unknown option fails naming it. */
  out = run("gen stagger --n 10 --drift-to 2 --drift-at 5 --drift-width 1 --output /dev/null", &n,
            &st);
  cr_assert_eq(st, 0, "%s", out);
  free(out);
  out = run("gen sea --n 10 --nosie 0.2", &n, &st);
  cr_assert_eq(st, 2);
  cr_assert(strstr(out, "--nosie") && strstr(out, "--noise") && strstr(out, "--drift-to"), "%s",
            out);
  free(out);
  out = run("gen sea --n 10 --noise 1.5", &n, &st);
  cr_assert_eq(st, 2);
  cr_assert(strstr(out, "noise"), "%s", out);
  free(out);
}
