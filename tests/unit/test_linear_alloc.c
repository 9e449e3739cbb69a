/* test_linear_alloc.c: the linear models allocate nothing per event. This
 * binary interposes malloc, calloc and realloc (forwarding to glibc's
 * __libc_* functions) and counts the calls made while learning and
 * predicting, once every class and nominal value has been met. Skipped in
 * the sanitizer build, whose allocator must not be bypassed. */
#include <criterion/criterion.h>
#include <string.h>

#include "linear_data.h"

#if defined(__SANITIZE_ADDRESS__)
#define NO_INTERPOSE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_INTERPOSE 1
#endif
#endif

static volatile int counting;
static volatile size_t allocations;

#ifndef NO_INTERPOSE
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

void *malloc(size_t n) {
  if (counting) allocations++;
  return __libc_malloc(n);
}
void *calloc(size_t n, size_t s) {
  if (counting) allocations++;
  return __libc_calloc(n, s);
}
void *realloc(void *p, size_t n) {
  if (counting) allocations++;
  return __libc_realloc(p, n);
}
void free(void *p) { __libc_free(p); }
#endif

#define KV(k, v) {(char *)(k), (char *)(v), NULL, 0}

/* 3 numeric + 1 nominal attribute (8 values), k classes or regression. */
static void rows(data_t *Dt, size_t n, unsigned k) {
  data_alloc(Dt, n, 4);
  Dt->schema = make_schema(4, "nnnc", k);
  eddy_rng_t r;
  eddy_rng_seed(&r, 3);
  for (size_t i = 0; i < n; i++) {
    double *x = Dt->x + 4 * i;
    for (int j = 0; j < 3; j++) x[j] = eddy_rng_gauss(&r);
    data_nominal(Dt, i, 3, (unsigned)(i % 8));
    Dt->miss[4 * i + (i % 4)] = i % 7 == 0; /* some numeric and nominal values missing */
    Dt->y[i] = k ? (double)(i % k) : x[0] - x[1];
  }
}

Test(alloc, none_per_event) {
#ifdef NO_INTERPOSE
  cr_skip_test("sanitizer build: malloc is not interposed");
#endif
  static const char *const optimizers[] = {"sgd", "adagrad", "rmsprop", "adam", "ftrl", "vw"};
  static const struct {
    const char *name;
    unsigned k;
  } learners[] = {{"logistic_regression", 2}, {"softmax_regression", 5}, {"linear_regression", 0},
                  {"linear_svm", 2},          {"perceptron", 2},         {"passive_aggressive", 2},
                  {"passive_aggressive", 0}};
  for (size_t li = 0; li < sizeof learners / sizeof learners[0]; li++) {
    data_t Dt;
    rows(&Dt, 2000, learners[li].k);
    for (size_t o = 0; o < 6; o++) {
      int cls = learners[li].k > 0;
      eddy_kv_t kv[] = {KV("optimizer", optimizers[o]), KV("hash_bits", "8"), KV("l1", "0.001"),
                        KV("standardize", "true"), KV("class_weight", cls ? "balanced" : "")};
      int pa = strcmp(learners[li].name, "passive_aggressive") == 0;
      eddy_kv_t pakv[] = {KV("standardize", "true"), KV("class_weight", cls ? "balanced" : "")};
      char err[256];
      eddy_learner_t *l =
          pa ? eddy_learner_new(learners[li].name, Dt.schema, pakv, cls ? 2 : 1, 1, err, sizeof err)
             : eddy_learner_new(learners[li].name, Dt.schema, kv, cls ? 5 : 4, 1, err, sizeof err);
      cr_assert_not_null(l, "%s: %s", learners[li].name, err);
      eddy_instance_t in;
      double out[8];
      for (size_t i = 0; i < 100; i++) { /* every class met */
        data_row(&Dt, i, &in);
        eddy_learner_predict(l, &in, out, 8);
        eddy_learner_learn(l, &in);
      }
      allocations = 0;
      counting = 1;
      for (size_t i = 100; i < Dt.n; i++) {
        data_row(&Dt, i, &in);
        eddy_learner_predict(l, &in, out, 8);
        eddy_learner_learn(l, &in);
      }
      counting = 0;
      cr_assert_eq(allocations, 0, "%s with %s: %zu allocations in 1,900 events",
                   learners[li].name, optimizers[o], (size_t)allocations);
      eddy_learner_free(l);
      if (pa) break; /* no optimizer */
    }
    data_free(&Dt);
  }
}

/* The counter counts: the first event of a new softmax class allocates. */
Test(alloc, the_counter_sees_class_growth) {
#ifdef NO_INTERPOSE
  cr_skip_test("sanitizer build: malloc is not interposed");
#endif
  data_t Dt;
  rows(&Dt, 10, 5);
  eddy_learner_t *l = eddy_learner_new("softmax_regression", Dt.schema, NULL, 0, 1, NULL, 0);
  eddy_instance_t in;
  allocations = 0;
  counting = 1;
  data_row(&Dt, 4, &in); /* class 4 first: outputs 0..4 appear */
  eddy_learner_learn(l, &in);
  counting = 0;
  cr_assert_gt(allocations, 0);
  eddy_learner_free(l);
  data_free(&Dt);
}
