/* test_hoeffding_tree.c: the Hoeffding tree classifier (hoeffding_tree):
 * MOA's numerics against values printed by MOA 2016.04 / Java, split
 * behaviour on seeded streams, accuracy bounds (SEA, Agrawal 1-10),
 * Elec2 against MOA's figures, checkpoints, reset, memory management,
 * allocation-free learning, online classes, missing values, describe. */
#include <math.h>

#include "learners/trees/trees.h"
#include "ht_test.h"

/* ------------------------------------------------------------ MOA numerics */

Test(ht_numerics, match_moa_and_java) {
  /* Values printed by MOA 2016.04 (HoeffdingTree.computeHoeffdingBound,
   * InfoGainSplitCriterion, GiniSplitCriterion) and java.util.Random. */
  cr_assert_eq(eddy__ht_hoeffding_bound(1.0, 1e-7, 200), 0.20073674085078647);
  const double pre[2] = {30, 10}, post[4] = {25, 2, 5, 8};
  const uint32_t len2[2] = {2, 2};
  cr_assert_float_eq(eddy__ht_merit(EDDY__HT_INFO_GAIN, 0.01, pre, 2, post, len2, 2), 0.24173728257305882,
                     1e-15);
  const double pre3[3] = {30, 10, 5}, post3[9] = {25, 2, 1, 5, 8, 0, 0, 0, 4};
  const uint32_t len3[3] = {3, 3, 3};
  cr_assert_float_eq(eddy__ht_merit(EDDY__HT_INFO_GAIN, 0.01, pre3, 3, post3, len3, 3), 0.5798253579694927,
                     1e-15);
  /* one branch at or below minBranchFrac (1%): -inf */
  const double thin[4] = {29.9, 10, 0.1, 0};
  cr_assert(isinf(eddy__ht_merit(EDDY__HT_INFO_GAIN, 0.01, pre, 2, thin, len2, 2)));
  cr_assert_float_eq(eddy__ht_merit_range(EDDY__HT_INFO_GAIN, 3), 1.5849625007211563, 1e-15);
  cr_assert_eq(eddy__ht_merit_range(EDDY__HT_INFO_GAIN, 1), 1.0, "at least two classes");
  cr_assert_eq(eddy__ht_merit_range(EDDY__HT_GINI, 5), 1.0);
  cr_assert_float_eq(eddy__ht_merit(EDDY__HT_GINI, 0.01, pre, 2, post, len2, 2), 0.7535612535612536, 1e-15);
  cr_assert_float_eq(eddy__ht_merit(EDDY__HT_GINI, 0.01, pre, 2, pre, len2, 1), 0.625, 1e-15);
  /* MOA's Gini of a split with an empty branch whose array is not empty */
  const double empty[4] = {30, 10, 0, 0};
  cr_assert(isnan(eddy__ht_merit(EDDY__HT_GINI, 0.01, pre, 2, empty, len2, 2)));
  /* Double.compare: NaN above everything, -0.0 below 0.0 */
  cr_assert_gt(eddy__ht_java_compare(NAN, INFINITY), 0);
  cr_assert_lt(eddy__ht_java_compare(-0.0, 0.0), 0);
  cr_assert_eq(eddy__ht_java_compare(NAN, NAN), 0);
  /* new Random(1).nextDouble() and MiscUtils.poisson(1.0, new Random(1)) */
  eddy_jrandom_t j;
  eddy_jrandom_seed(&j, 1);
  cr_assert_eq(eddy_jrandom_double(&j), 0.7308781907032909);
  cr_assert_eq(eddy_jrandom_double(&j), 0.41008081149220166);
  const int poisson[20] = {1, 1, 0, 0, 3, 0, 3, 3, 3, 3, 1, 0, 0, 1, 0, 2, 1, 0, 1, 0};
  uint64_t r = eddy__ht_moa_random_state();
  for (int i = 0; i < 20; i++) cr_assert_eq(eddy__ht_poisson1_java(&r), poisson[i], "draw %d", i);
  /* weka.core.Statistics.normalProbability, to the last bit */
  cr_assert_eq(eddy__ht_normal_probability(-1.5), 0.06680720126885807);
  cr_assert_eq(eddy__ht_normal_probability(-3.0), 0.0013498980316300933);
  cr_assert_eq(eddy__ht_normal_probability(1.0), 0.8413447460685429);
}

Test(ht_numerics, gaussian_observer_matches_moa) {
  /* GaussianEstimator after 1.5, 2, 2.5, 4, 3 (weight 1): MOA prints mean
   * 2.6, less-than -0.2084592211312275, equal 1.9021668114869694 and
   * greater-than 3.306292409644258 at 2.2; the observer's binary split
   * puts less + equal left and greater right. */
  eddy_schema_t *s = eddy_schema_new(EDDY_CLASSIFICATION, "y", 0, 0, NULL, 0);
  eddy_schema_add(s, "x", EDDY_NUMERIC);
  uint32_t V[1] = {0};
  size_t off[1];
  eddy__ht_layout_t L = {.n_attrs = 1, .C = 2, .V = V, .off = off, .n_bins = 10};
  eddy__ht_layout_compute(&L, s);
  cr_assert_eq(L.stride, 10u);
  double slot[10] = {0};
  eddy_instance_t in;
  eddy_instance_init(&in, 1);
  const double xs[5] = {1.5, 2.0, 2.5, 4.0, 3.0};
  in.missing[0] = 0;
  for (int i = 0; i < 5; i++) {
    in.x[0] = xs[i];
    eddy__ht_obs_update(&L, s, slot, &in, 0, 1.0, NULL);
  }
  cr_assert_eq(slot[2], 2.6, "mean");
  eddy__ht_cand_t c = {.attr = 0, .test = EDDY__HT_TEST_NUM_LE, .value = 2.2, .n_branches = 2};
  double post[4];
  uint32_t lens[2];
  eddy__ht_obs_post_dists(&L, s, slot, &c, post, lens);
  cr_assert_eq(post[0], -0.2084592211312275 + 1.9021668114869694);
  cr_assert_eq(post[2], 3.306292409644258);
  cr_assert_eq(lens[0], 1u);
  cr_assert_eq(lens[1], 1u);
  /* split points: 10 evenly spaced strictly inside [1.5, 4] */
  double pre[2] = {5, 0}, scratch[64];
  uint32_t sl[8];
  eddy__ht_cand_t best;
  cr_assert_eq(eddy__ht_obs_best_split(&L, s, slot, 0, EDDY__HT_INFO_GAIN, 0.01, 0, pre, 1, scratch, sl, &best),
               0);
  cr_assert_eq(best.value, 2.5 / 11.0 * 1 + 1.5, "first candidate wins when all merits are -inf");
  eddy_instance_free(&in);
  eddy_schema_free(s);
}

/* ------------------------------------------------------------ options */

Test(ht, defaults_are_moa_s) {
  eddy_generator_t *g = t_gen("sea", 1, NULL, 0);
  eddy_learner_t *l = t_learner("hoeffding_tree", eddy_generator_schema(g), NULL, 0);
  const eddy__ht_params_t *p = l->params;
  cr_assert_eq(p->grace_period, 200);
  cr_assert_eq(p->split_confidence, 1e-7);
  cr_assert_eq(p->tie_threshold, 0.05);
  cr_assert_eq(p->split_criterion, EDDY__HT_INFO_GAIN);
  cr_assert_eq(p->n_split_points, 10);
  cr_assert_eq(p->leaf_prediction, EDDY__HT_PRED_NBA);
  cr_assert_eq(p->binary_splits, 0);
  cr_assert_eq(p->no_preprune, 0);
  cr_assert_eq(p->max_byte_size, 33554432);
  eddy_learner_free(l);
  char err[512];
  eddy_kv_t kv[] = {{"leaf_prediction", "bayes", "x.ini", 7}};
  cr_assert_null(eddy_learner_new("hoeffding_tree", eddy_generator_schema(g), kv, 1, 1, err,
                                  sizeof err));
  cr_assert(strstr(err, "x.ini:7:") && strstr(err, "leaf_prediction"), "%s", err);
  eddy_kv_t kv2[] = {{"adwin_delta", "0.01", "x.ini", 8}};
  cr_assert_null(eddy_learner_new("hoeffding_tree", eddy_generator_schema(g), kv2, 1, 1, err,
                                  sizeof err),
                 "HAT's keys are not HT's");
  eddy_schema_t *r = eddy_schema_new(EDDY_REGRESSION, "y", 0, 0, NULL, 0);
  cr_assert_null(eddy_learner_new("hoeffding_tree", r, NULL, 0, 1, err, sizeof err));
  eddy_schema_free(r);
  eddy_generator_free(g);
}

/* ------------------------------------------------------------ split behaviour */

static const char *root_attr(const eddy_learner_t *l) {
  const eddy__ht_tree_t *t = l->state;
  if (t->st.root < 0 || eddy__ht_node(t, t->st.root)->b.kind != EDDY__HT_SPLIT) return NULL;
  return l->schema->attrs[eddy__ht_node(t, t->st.root)->b.attr].name;
}

Test(ht, first_split_uses_a_concept_attribute) {
  /* Agrawal et al.'s functions and the attributes each one reads; the
   * first split (after 20,000 instances, seed 1) must fall on one of them. */
  static const char *const uses[10][6] = {
      {"age"},
      {"age", "salary"},
      {"age", "elevel"},
      {"age", "elevel", "salary"},
      {"age", "salary", "loan"},
      {"age", "salary", "commission"},
      {"salary", "commission", "loan"},
      {"salary", "commission", "elevel"},
      {"salary", "commission", "elevel", "loan"},
      {"salary", "commission", "elevel", "hvalue", "hyears"},
  };
  for (int f = 1; f <= 10; f++) {
    char fs[16];
    snprintf(fs, sizeof fs, "%d", f);
    kvp_t gp[] = {{"function", fs}};
    eddy_generator_t *g = t_gen("agrawal", 1, gp, 1);
    eddy_learner_t *l = t_learner("hoeffding_tree", eddy_generator_schema(g), NULL, 0);
    t_prequential(g, l, 20000, 0, 0, NULL);
    const char *a = root_attr(l);
    cr_assert_not_null(a, "F%d: no split in 20,000 instances", f);
    int ok = 0;
    for (int i = 0; i < 6 && uses[f - 1][i]; i++) ok |= strcmp(a, uses[f - 1][i]) == 0;
    cr_assert(ok, "Agrawal F%d: first split on %s, which the concept does not use", f, a);
    eddy_learner_free(l);
    eddy_generator_free(g);
  }
  /* SEA: class = attrib1 + attrib2 <= theta; attrib3 is noise */
  eddy_generator_t *g = t_gen("sea", 1, NULL, 0);
  eddy_learner_t *l = t_learner("hoeffding_tree", eddy_generator_schema(g), NULL, 0);
  t_prequential(g, l, 20000, 0, 0, NULL);
  const char *a = root_attr(l);
  cr_assert(a && (strcmp(a, "attrib1") == 0 || strcmp(a, "attrib2") == 0), "SEA root: %s",
            a ? a : "none");
  eddy_learner_free(l);
  eddy_generator_free(g);
}

/* A stream whose class is a fair coin independent of 4 uniform inputs. */
static size_t nodes_after(eddy_learner_t *l, eddy_schema_t *s, size_t n, uint64_t seed,
                          size_t *first_split) {
  eddy_rng_t r;
  eddy_rng_seed(&r, seed);
  eddy_instance_t in;
  eddy_instance_init(&in, s->n_attrs);
  *first_split = 0;
  for (size_t i = 0; i < n; i++) {
    for (size_t a = 0; a < s->n_attrs; a++) {
      in.x[a] = eddy_rng_uniform(&r);
      in.missing[a] = 0;
    }
    in.y = (double)eddy_rng_below(&r, 2);
    in.has_y = 1;
    in.weight = 1;
    cr_assert_eq(eddy_learner_learn(l, &in), 0);
    const eddy__ht_tree_t *t = l->state;
    if (!*first_split && t->st.n_split) *first_split = i + 1;
  }
  eddy_instance_free(&in);
  const eddy__ht_tree_t *t = l->state;
  return t->st.n_split + t->st.n_active + t->st.n_inactive;
}

static eddy_schema_t *coin_schema(void) {
  eddy_schema_t *s = eddy_schema_new(EDDY_CLASSIFICATION, "y", 0, 0, NULL, 0);
  const char *names[] = {"a", "b", "c", "d"};
  for (int i = 0; i < 4; i++) eddy_schema_add(s, names[i], EDDY_NUMERIC);
  eddy_dict_intern(s->target.dict, "0", 1, eddy_hash("0", 1), NULL);
  eddy_dict_intern(s->target.dict, "1", 1, eddy_hash("1", 1), NULL);
  return s;
}

Test(ht, independent_class_never_splits_at_default_delta) {
  eddy_schema_t *s = coin_schema();
  size_t first;
  /* Without the tie rule (tie_threshold = 0) and delta = 1e-7: one node
   * after 100,000 instances (measured: 1). */
  kvp_t p[] = {{"tie_threshold", "0"}};
  eddy_learner_t *l = t_learner("hoeffding_tree", s, p, 1);
  cr_assert_eq(nodes_after(l, s, 100000, 7, &first), 1u);
  eddy_learner_free(l);
  /* With MOA's default tie_threshold 0.05 the tie rule alone splits: the
   * bound sqrt(ln(1e7) / 2n) falls below 0.05 at n > 3223.6, so the first
   * split is exactly at the attempt at n = 3400 (measured: 3400), never
   * before. */
  l = t_learner("hoeffding_tree", s, NULL, 0);
  nodes_after(l, s, 5000, 7, &first);
  cr_assert_eq(first, 3400u);
  eddy_learner_free(l);
  eddy_schema_free(s);
}

/* ------------------------------------------------------------ accuracy bounds */

Test(ht, sea_accuracy) {
  /* SEA concept 1, 10% label noise (so at most ~0.90), 100,000 instances,
   * seed 1. Bound 0.87 <= acc <= 0.905; measured 0.8819 (MOA 2016.04's
   * HoeffdingTree on its own SEAGenerator -n 10: 0.8834). */
  kvp_t gp[] = {{"noise", "0.1"}};
  eddy_generator_t *g = t_gen("sea", 1, gp, 1);
  eddy_learner_t *l = t_learner("hoeffding_tree", eddy_generator_schema(g), NULL, 0);
  double acc = t_prequential(g, l, 100000, 0, 0, NULL);
  cr_assert(acc >= 0.87 && acc <= 0.905, "SEA accuracy %.4f", acc);
  eddy_learner_free(l);
  eddy_generator_free(g);
}

Test(ht, agrawal_accuracy) {
  /* Agrawal F1-F10, perturbation 0.05, 100,000 instances, seed 1: bound
   * and measured value per function (in brackets MOA 2016.04's
   * HoeffdingTree on its own AgrawalGenerator -f F, 100,000 instances). */
  static const double bound[10] = {0.93, 0.73, 0.95, 0.86, 0.80, 0.85, 0.93, 0.98, 0.92, 0.99};
  /* measured: F1 0.9435 [0.9410], F2 0.7503 [0.7489], F3 0.9651 [0.9667],
   * F4 0.8782 [0.8767], F5 0.8217 [0.7658], F6 0.8705 [0.8786],
   * F7 0.9442 [0.9448], F8 0.9914 [0.9902], F9 0.9350 [0.9383],
   * F10 0.9981 [0.9980] */
  for (int f = 1; f <= 10; f++) {
    char fs[16];
    snprintf(fs, sizeof fs, "%d", f);
    kvp_t gp[] = {{"function", fs}};
    eddy_generator_t *g = t_gen("agrawal", 1, gp, 1);
    eddy_learner_t *l = t_learner("hoeffding_tree", eddy_generator_schema(g), NULL, 0);
    double acc = t_prequential(g, l, 100000, 0, 0, NULL);
    cr_assert_geq(acc, bound[f - 1], "Agrawal F%d: accuracy %.4f below %.2f", f, acc,
                  bound[f - 1]);
    eddy_learner_free(l);
    eddy_generator_free(g);
  }
}

/* ------------------------------------------------------------ Elec2 vs MOA */

Test(ht, elec2_matches_moa) {
  /* MOA 2016.04, EvaluatePrequential with BasicClassificationPerformance-
   * Evaluator, HoeffdingTree defaults, elecNormNew.arff (day nominal
   * {1..7}): 0.791954 = 35885 / 45312. eddy reproduces MOA prediction for
   * prediction, so the count is exact. */
  size_t ok;
  size_t n = t_elec2("hoeffding_tree", NULL, 0, 1, &ok, NULL);
  if (!n) cr_skip_test("elec2.csv not found in ../shared/datasets (or $EDDY_DATASETS)");
  cr_assert_eq(n, 45312u);
  cr_assert_eq(ok, 35885u, "correct %zu (accuracy %.6f)", ok, (double)ok / n);
  cr_assert(fabs((double)ok / n - 0.7920) <= 0.005);
  /* With day's values indexed in order of appearance (as a CSV gives
   * them), naive Bayes' Laplace estimate sees other value counts: MOA on an
   * ARFF declaring that order scores 35883 / 45312 = 0.791909, and so does
   * eddy. */
  n = t_elec2("hoeffding_tree", NULL, 0, 0, &ok, NULL);
  cr_assert_eq(ok, 35883u, "correct %zu", ok);
  /* Other options, MOA's counts on elecNormNew.arff: Gini 0.795816,
   * majority-class leaves 0.757217, naive Bayes leaves 0.774298, binary
   * splits 0.805659. */
  static const kvp_t opts[4] = {{"split_criterion", "gini"},
                                {"leaf_prediction", "mc"},
                                {"leaf_prediction", "nb"},
                                {"binary_splits", "true"}};
  static const size_t moa_ok[4] = {36060, 34311, 35085, 36506};
  for (int i = 0; i < 4; i++) {
    t_elec2("hoeffding_tree", &opts[i], 1, 1, &ok, NULL);
    cr_assert_eq(ok, moa_ok[i], "%s = %s: %zu correct, MOA %zu", opts[i].k, opts[i].v, ok,
                 moa_ok[i]);
  }
}

/* ------------------------------------------------------------ state */

static eddy_instance_t *sea_rows(size_t n, uint64_t seed, eddy_generator_t **gout) {
  kvp_t gp[] = {{"noise", "0.1"}};
  eddy_generator_t *g = t_gen("sea", seed, gp, 1);
  eddy_instance_t *rows = calloc(n, sizeof *rows);
  for (size_t i = 0; i < n; i++) {
    eddy_instance_init(&rows[i], 3);
    eddy_generator_next(g, &rows[i]);
  }
  *gout = g;
  return rows;
}

static void free_rows(eddy_instance_t *rows, size_t n) {
  for (size_t i = 0; i < n; i++) eddy_instance_free(&rows[i]);
  free(rows);
}

Test(ht, checkpoint_round_trip_and_continuation) {
  eddy_generator_t *g;
  const size_t n = 40000;
  eddy_instance_t *rows = sea_rows(n, 3, &g);
  eddy_learner_t *l = t_learner("hoeffding_tree", eddy_generator_schema(g), NULL, 0);
  double out[2], out2[2];
  for (size_t i = 0; i < n / 2; i++) eddy_learner_learn(l, &rows[i]);
  eddy_learner_t *l2 = t_round_trip(l);
  const eddy__ht_tree_t *t = l->state;
  cr_assert_gt(t->st.n_split, 3u, "a grown tree (%zu splits)", t->st.n_split);
  /* the loaded model predicts bit-identically and keeps learning the same */
  for (size_t i = n / 2; i < n; i++) {
    eddy_learner_predict(l, &rows[i], out, 2);
    eddy_learner_predict(l2, &rows[i], out2, 2);
    cr_assert_eq(memcmp(out, out2, sizeof out), 0, "instance %zu", i);
    eddy_learner_learn(l, &rows[i]);
    eddy_learner_learn(l2, &rows[i]);
  }
  eddy_learner_t *l3 = t_round_trip(l2);
  eddy_buf_t a, b;
  eddy_buf_init(&a);
  eddy_buf_init(&b);
  eddy_learner_save(l, &a);
  eddy_learner_save(l3, &b);
  cr_assert(a.len == b.len && memcmp(a.data, b.data, a.len) == 0, "same state after the stream");
  eddy_buf_free(&a);
  eddy_buf_free(&b);
  /* a model checkpoint (schema + learner, CRC) loads too */
  eddy_buf_init(&a);
  cr_assert_eq(eddy_model_save(eddy_generator_schema(g), l, &a), 0);
  eddy_schema_t *s4;
  eddy_learner_t *l4;
  char err[256];
  cr_assert_eq(eddy_model_load(a.data, a.len, &s4, &l4, err, sizeof err), 0, "%s", err);
  eddy_learner_predict(l, &rows[0], out, 2);
  eddy_learner_predict(l4, &rows[0], out2, 2);
  cr_assert_eq(memcmp(out, out2, sizeof out), 0);
  /* truncated bodies are refused, never loaded half */
  eddy_buf_t c;
  eddy_buf_init(&c);
  eddy_learner_save(l, &c);
  for (size_t cut = 20; cut < c.len; cut += c.len / 7) {
    eddy_reader_t r;
    eddy_reader_init(&r, c.data + 12, cut);
    cr_assert_null(eddy_learner_load(&r, eddy_generator_schema(g), err, sizeof err), "cut %zu",
                   cut);
  }
  eddy_buf_free(&c);
  eddy_learner_free(l4);
  eddy_schema_free(s4);
  eddy_buf_free(&a);
  eddy_learner_free(l3);
  eddy_learner_free(l2);
  eddy_learner_free(l);
  free_rows(rows, n);
  eddy_generator_free(g);
}

Test(ht, reset_gives_a_fresh_tree) {
  eddy_generator_t *g;
  const size_t n = 10000;
  eddy_instance_t *rows = sea_rows(n, 4, &g);
  eddy_learner_t *l = t_learner("hoeffding_tree", eddy_generator_schema(g), NULL, 0);
  eddy_learner_t *fresh = t_learner("hoeffding_tree", eddy_generator_schema(g), NULL, 0);
  for (size_t i = 0; i < n; i++) eddy_learner_learn(l, &rows[i]);
  eddy_learner_reset(l);
  double out[2], out2[2];
  for (size_t i = 0; i < n; i++) {
    eddy_learner_predict(l, &rows[i], out, 2);
    eddy_learner_predict(fresh, &rows[i], out2, 2);
    cr_assert_eq(memcmp(out, out2, sizeof out), 0, "instance %zu", i);
    eddy_learner_learn(l, &rows[i]);
    eddy_learner_learn(fresh, &rows[i]);
  }
  eddy_learner_free(l);
  eddy_learner_free(fresh);
  free_rows(rows, n);
  eddy_generator_free(g);
}

Test(ht, learning_allocates_only_when_the_tree_grows) {
  eddy_generator_t *g;
  const size_t n = 30000;
  eddy_instance_t *rows = sea_rows(n, 5, &g);
  eddy_learner_t *l = t_learner("hoeffding_tree", eddy_generator_schema(g), NULL, 0);
  double out[2];
  size_t grew = 0, heap = t_heap(), nodes = 0;
  for (size_t i = 0; i < n; i++) {
    eddy_learner_predict(l, &rows[i], out, 2);
    eddy_learner_learn(l, &rows[i]);
    const eddy__ht_tree_t *t = l->state;
    size_t now = t_heap(), nn = t->st.n_split + t->st.n_active + t->st.n_inactive;
    if (now != heap) {
      cr_assert(nn != nodes || i == 0, "instance %zu: heap changed without the tree growing", i);
      grew++;
    }
    heap = now;
    nodes = nn;
  }
  cr_log_info("heap changed %zu times", grew);
  /* measured: the heap changed 7 times (pools doubling) in 30,000 events */
  cr_assert_leq(grew, 30u, "heap changed %zu times", grew);
  eddy_learner_free(l);
  free_rows(rows, n);
  eddy_generator_free(g);
}

Test(ht, memory_limit_deactivates_the_least_promising_leaves) {
  /* Agrawal F5 grows big trees; with a 40 KB limit checked every 10,000
   * instances the tree keeps at most as many active leaves as the limit
   * allows by MOA's estimates, and deactivates the rest. */
  kvp_t gp[] = {{"function", "5"}};
  eddy_generator_t *g = t_gen("agrawal", 1, gp, 1);
  kvp_t p[] = {{"max_byte_size", "40000"}, {"memory_estimate_period", "10000"}};
  eddy_learner_t *l = t_learner("hoeffding_tree", eddy_generator_schema(g), p, 2);
  double acc = t_prequential(g, l, 100000, 0, 0, NULL);
  const eddy__ht_tree_t *t = l->state;
  cr_assert_gt(t->st.n_inactive, 0u, "some leaves deactivated (active %zu)", t->st.n_active);
  cr_assert_leq((t->st.n_active * t->active_est + t->st.n_inactive * t->inactive_est) * t->overhead,
                40000.0 * 1.0001, "MOA's estimate fits the limit");
  /* measured: 0.8221 with the limit, ~22 active and ~64 inactive leaves at
   * the end (0.8217 without the limit) */
  cr_assert_geq(acc, 0.70);
  eddy_learner_free(l);
  /* stop_mem_management: growth stops instead */
  eddy_generator_free(g);
  g = t_gen("agrawal", 1, gp, 1);
  kvp_t p2[] = {{"max_byte_size", "40000"},
                {"memory_estimate_period", "10000"},
                {"stop_mem_management", "true"}};
  l = t_learner("hoeffding_tree", eddy_generator_schema(g), p2, 3);
  t_prequential(g, l, 100000, 0, 0, NULL);
  t = l->state;
  cr_assert_eq(t->st.growth_allowed, 0);
  cr_assert_eq(t->st.n_inactive, 0u);
  eddy_learner_free(l);
  eddy_generator_free(g);
}

/* ------------------------------------------------------------ schema growth, missing */

Test(ht, classes_and_nominal_values_appear_online) {
  /* x0 nominal; the class is x0's value mod 3, and values/classes appear
   * one after another: the tree must learn every one of them. */
  eddy_schema_t *s = eddy_schema_new(EDDY_CLASSIFICATION, "y", 0, 0, NULL, 0);
  eddy_schema_add(s, "x0", EDDY_NOMINAL);
  eddy_schema_add(s, "x1", EDDY_NUMERIC);
  eddy_learner_t *l = t_learner("hoeffding_tree", s, NULL, 0);
  eddy_instance_t in;
  eddy_instance_init(&in, 2);
  eddy_rng_t r;
  eddy_rng_seed(&r, 9);
  double out[8];
  size_t ok = 0;
  for (size_t i = 0; i < 30000; i++) {
    size_t nv = 2 + i / 3000; /* a new value every 3000 instances, up to 11 */
    uint32_t v = (uint32_t)eddy_rng_below(&r, nv < 11 ? nv : 11);
    char name[16], cls[16];
    snprintf(name, sizeof name, "v%u", v);
    snprintf(cls, sizeof cls, "c%u", v % 3);
    in.x[0] = (double)eddy_dict_intern(s->attrs[0].dict, name, strlen(name),
                                       eddy_hash(name, strlen(name)), NULL);
    in.x[1] = eddy_rng_uniform(&r);
    in.missing[0] = in.missing[1] = 0;
    in.y = (double)eddy_dict_intern(s->target.dict, cls, strlen(cls), eddy_hash(cls, strlen(cls)),
                                    NULL);
    in.has_y = 1;
    int k = eddy_learner_predict(l, &in, out, 8);
    cr_assert_eq(k, (int)eddy_schema_n_classes(s));
    if (i >= 25000) ok += eddy_argmax(out, (size_t)k) == (size_t)in.y;
    cr_assert_eq(eddy_learner_learn(l, &in), 0);
  }
  /* measured: 5000 / 5000 over the last 5000 instances */
  cr_assert_geq(ok, 4950u, "last 5000: %zu correct", ok);
  cr_assert_eq(eddy_learner_predict(l, &in, out, 2), EDDY_ENOSPC);
  eddy_learner_t *l2 = t_round_trip(l);
  eddy_learner_free(l2);
  eddy_learner_free(l);
  eddy_instance_free(&in);
  eddy_schema_free(s);
}

Test(ht, missing_split_value_predicts_the_split_nodes_distribution) {
  eddy_generator_t *g;
  eddy_instance_t *rows = sea_rows(20000, 6, &g);
  eddy_learner_t *l = t_learner("hoeffding_tree", eddy_generator_schema(g), NULL, 0);
  for (size_t i = 0; i < 20000; i++) eddy_learner_learn(l, &rows[i]);
  const eddy__ht_tree_t *t = l->state;
  cr_assert_eq(eddy__ht_node(t, t->st.root)->b.kind, EDDY__HT_SPLIT);
  eddy_instance_t x;
  eddy_instance_init(&x, 3);
  eddy_instance_copy(&x, &rows[0]);
  x.missing[eddy__ht_node(t, t->st.root)->b.attr] = 1;
  double out[2];
  eddy_learner_predict(l, &x, out, 2);
  const double *d = eddy__ht_dist(t, t->st.root);
  cr_assert_float_eq(out[0], d[0] / (d[0] + d[1]), 1e-12);
  /* and learning it changes nothing (MOA stops at the split node) */
  size_t w = t->st.n_split + t->st.n_active;
  double before = eddy__ht_weight(t, t->st.root);
  cr_assert_eq(eddy_learner_learn(l, &x), 0);
  cr_assert_eq(eddy__ht_weight(t, t->st.root), before);
  cr_assert_eq(t->st.n_split + t->st.n_active, w);
  eddy_instance_free(&x);
  eddy_learner_free(l);
  free_rows(rows, 20000);
  eddy_generator_free(g);
}

Test(ht, describe_prints_the_split_tests) {
  size_t ok;
  eddy_learner_t *l = NULL;
  if (!t_elec2("hoeffding_tree", NULL, 0, 0, &ok, &l)) cr_skip_test("elec2.csv not found");
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  eddy_learner_describe(l, m);
  fclose(m);
  /* the first line: depth, nodes, leaves; the root test of MOA's tree on
   * Elec2 is nswprice <= 0.0866705 */
  cr_assert(strncmp(text, "hoeffding_tree: depth 8, 57 nodes, 39 leaves", 44) == 0, "%.200s",
            text);
  cr_assert(strstr(text, "\nif nswprice <= 0.0866705 (n="), "%.400s", text);
  cr_assert(strstr(text, "\n  if nswprice <= 0.0705452 (n="), "%.400s", text);
  cr_assert(strstr(text, "if day = 3 (n="), "multiway day branches");
  cr_assert(strstr(text, "leaf: DOWN (n="));
  free(text);
  const eddy_schema_t *s = l->schema;
  eddy_learner_free(l);
  eddy_schema_free((eddy_schema_t *)s);
}

Test(ht, predict_cache_never_changes_what_is_learned) {
  /* learn reuses predict's leaf and naive Bayes votes for the same
   * instance on an unchanged tree: learning with predictions before, with
   * predictions of other instances before, or without any, must give the
   * same tree, byte for byte (HT and HAT). */
  const char *names[2] = {"hoeffding_tree", "hoeffding_adaptive_tree"};
  for (int h = 0; h < 2; h++) {
    eddy_generator_t *g;
    const size_t n = 20000;
    eddy_instance_t *rows = sea_rows(n, 8, &g);
    eddy_learner_t *l[3];
    for (int k = 0; k < 3; k++) l[k] = t_learner(names[h], eddy_generator_schema(g), NULL, 0);
    double out[2];
    for (size_t i = 0; i < n; i++) {
      eddy_learner_predict(l[0], &rows[i], out, 2);
      eddy_learner_learn(l[0], &rows[i]);
      eddy_learner_predict(l[1], &rows[(i * 7919) % n], out, 2);
      eddy_learner_learn(l[1], &rows[i]);
      eddy_learner_learn(l[2], &rows[i]);
    }
    eddy_buf_t b[3];
    for (int k = 0; k < 3; k++) {
      eddy_buf_init(&b[k]);
      eddy_learner_save(l[k], &b[k]);
    }
    for (int k = 1; k < 3; k++)
      cr_assert(b[k].len == b[0].len && memcmp(b[k].data, b[0].data, b[0].len) == 0,
                "%s: learner %d differs", names[h], k);
    for (int k = 0; k < 3; k++) {
      eddy_buf_free(&b[k]);
      eddy_learner_free(l[k]);
    }
    free_rows(rows, n);
    eddy_generator_free(g);
  }
}

Test(ht, prediction_after_learning_is_the_uncached_one) {
  /* a forest's member predicts, learns (weights above 1, as Poisson
   * draws give) and predicts the same instance again: the second votes
   * come partly from the naive Bayes factor cache (only the learned
   * class's factors are recomputed). A twin that predicts another
   * instance in between (which empties its caches) must give the same
   * probabilities to the bit, before and after learning; SEA (numeric)
   * and Agrawal (nominal attributes too). */
  const char *gens[2] = {"sea", "agrawal"};
  kvp_t tp[] = {{"grace_period", "50"}};
  for (int h = 0; h < 2; h++) {
    eddy_generator_t *g = t_gen(gens[h], 5, NULL, 0);
    const eddy_schema_t *s = eddy_generator_schema(g);
    const size_t n = 6000;
    eddy_instance_t *rows = calloc(n, sizeof *rows);
    for (size_t i = 0; i < n; i++) {
      eddy_instance_init(&rows[i], s->n_attrs);
      eddy_generator_next(g, &rows[i]);
      rows[i].weight = (double)(1 + i % 4);
    }
    eddy_learner_t *a = t_learner("hoeffding_tree", s, tp, 1), *b = t_learner("hoeffding_tree", s, tp, 1);
    double pa[8], pb[8];
    for (size_t i = 0; i < n; i++) {
      size_t other = (i * 7919 + 1) % n;
      int ka = eddy_learner_predict(a, &rows[i], pa, 8);
      eddy_learner_predict(b, &rows[other], pb, 8);
      int kb = eddy_learner_predict(b, &rows[i], pb, 8);
      cr_assert(ka == kb && memcmp(pa, pb, (size_t)ka * sizeof *pa) == 0, "%s row %zu before", gens[h], i);
      cr_assert_eq(eddy_learner_learn(a, &rows[i]), 0);
      cr_assert_eq(eddy_learner_learn(b, &rows[i]), 0);
      ka = eddy_learner_predict(a, &rows[i], pa, 8);
      eddy_learner_predict(b, &rows[other], pb, 8);
      kb = eddy_learner_predict(b, &rows[i], pb, 8);
      cr_assert(ka == kb && memcmp(pa, pb, (size_t)ka * sizeof *pa) == 0, "%s row %zu after", gens[h], i);
    }
    const eddy__ht_tree_t *t = a->state;
    cr_assert_gt(t->st.n_split, 3u, "%s: a grown tree (%zu splits)", gens[h], t->st.n_split);
    eddy_learner_free(a);
    eddy_learner_free(b);
    free_rows(rows, n);
    eddy_generator_free(g);
  }
}

Test(ht, damaged_checkpoints_are_refused_or_harmless) {
  /* a small tree: 2,000 SEA instances, grace period 50 and tie threshold
   * 0.3 (so that the tie rule splits early and often) */
  const char *names[2] = {"hoeffding_tree", "hoeffding_adaptive_tree"};
  for (int h = 0; h < 2; h++) {
    eddy_generator_t *g;
    eddy_instance_t *rows = sea_rows(3200, 10, &g);
    kvp_t p[] = {{"grace_period", "50"}, {"tie_threshold", "0.3"}};
    eddy_learner_t *l = t_learner(names[h], eddy_generator_schema(g), p, 2);
    for (size_t i = 0; i < 2000; i++) eddy_learner_learn(l, &rows[i]);
    cr_assert_gt(((const eddy__ht_tree_t *)l->state)->st.n_split, 3u);
    size_t loaded = t_corruption_sweep(l, rows + 3000, 20);
    cr_log_info("%s: %zu altered bodies loaded", names[h], loaded);
    eddy_learner_free(l);
    free_rows(rows, 3200);
    eddy_generator_free(g);
  }
}

/* Where a learner's own body starts in its saved section (past the tag,
 * length, name, seed, parameters and RNG). */
static size_t t_body_offset(const eddy_buf_t *b) {
  eddy_reader_t r;
  eddy_reader_init(&r, b->data + 12, b->len - 12);
  char name[128];
  uint64_t seed;
  eddy_kvlist_t kv = {0};
  cr_assert_eq(eddy_component_load_header(&r, name, sizeof name, &seed, &kv), 0);
  eddy_kvlist_free(&kv);
  eddy_rng_t rng;
  eddy_rng_load(&rng, &r);
  cr_assert_eq(r.err, 0);
  return 12 + r.pos;
}

/* Found by fuzz_checkpoint (an oza_boost member): a tree body claiming
 * 2^24 class slots and 2^24 values of a nominal attribute passed the
 * checks one by one, and the load asked for their product in scratch
 * (2^51 bytes). Slot counts above twice what the schema has are corrupt. */
Test(ht, checkpoint_slot_counts_are_bounded_by_the_schema) {
  const char *names[3] = {"hoeffding_tree", "hoeffding_adaptive_tree", "hoeffding_tree_regressor"};
  for (int h = 0; h < 3; h++) {
    eddy_schema_t *s = eddy_schema_new(h == 2 ? EDDY_REGRESSION : EDDY_CLASSIFICATION, "y", 0, 0, NULL, 0);
    eddy_schema_add(s, "x0", EDDY_NOMINAL);
    eddy_schema_add(s, "x1", EDDY_NUMERIC);
    eddy_learner_t *l = t_learner(names[h], s, NULL, 0);
    eddy_instance_t in;
    eddy_instance_init(&in, 2);
    for (int i = 0; i < 300; i++) {
      char v[8], c[8];
      snprintf(v, sizeof v, "v%d", i % 3);
      snprintf(c, sizeof c, "c%d", i % 3);
      in.x[0] = (double)eddy_dict_intern(s->attrs[0].dict, v, strlen(v), eddy_hash(v, strlen(v)), NULL);
      in.h[0] = eddy_hash(v, strlen(v));
      in.x[1] = i % 7;
      in.missing[0] = in.missing[1] = 0;
      in.y = h == 2 ? i % 5 : (double)eddy_dict_intern(s->target.dict, c, strlen(c), eddy_hash(c, strlen(c)), NULL);
      in.has_y = 1;
      cr_assert_eq(eddy_learner_learn(l, &in), 0);
    }
    eddy_buf_t b;
    eddy_buf_init(&b);
    cr_assert_eq(eddy_learner_save(l, &b), 0);
    size_t body = t_body_offset(&b);
    /* HT/HAT: version, adaptive, n_attrs (u64), C, V[0], V[1]; HTR:
     * version, n_attrs (u64), n_bins, V[0], V[1]. */
    size_t c_at = body + 16, v_at = h == 2 ? body + 16 : body + 20;
    char err[512];
    for (int k = 0; k < 3; k++) {
      uint8_t saved[8];
      memcpy(saved, b.data + c_at, 8);
      uint32_t big = 1u << 24, c = h == 2 ? 0 : big, v = big;
      if (k == 1) c = h == 2 ? 0 : 7;  /* over twice the 3 classes */
      if (k == 2) v = 7, c = h == 2 ? 0 : 4; /* over twice the 3 values */
      if (h != 2) memcpy(b.data + c_at, &c, 4);
      memcpy(b.data + v_at, &v, 4);
      eddy_reader_t r;
      eddy_reader_init(&r, b.data + 12, b.len - 12);
      cr_assert_null(eddy_learner_load(&r, s, err, sizeof err), "%s case %d", names[h], k);
      cr_assert(strstr(err, "does not verify"), "%s case %d: %s", names[h], k, err);
      memcpy(b.data + c_at, saved, 8);
    }
    eddy_reader_t r;
    eddy_reader_init(&r, b.data + 12, b.len - 12);
    eddy_learner_t *l2 = eddy_learner_load(&r, s, err, sizeof err);
    cr_assert_not_null(l2, "%s: the unaltered body: %s", names[h], err);
    eddy_learner_free(l2);
    eddy_buf_free(&b);
    eddy_instance_free(&in);
    eddy_learner_free(l);
    eddy_schema_free(s);
  }
}

Test(ht, max_depth_bounds_the_tree) {
  /* Agrawal F5 grows trees of depth 10+ in 50,000 instances; with
   * max_depth = 2 the depth stays 2 (HT deactivates the leaves at that
   * depth, as River does; HAT's keep predicting but stop splitting). */
  const char *names[2] = {"hoeffding_tree", "hoeffding_adaptive_tree"};
  for (int h = 0; h < 2; h++) {
    kvp_t gp[] = {{"function", "5"}};
    eddy_generator_t *g = t_gen("agrawal", 1, gp, 1);
    kvp_t p[] = {{"max_depth", "2"}};
    eddy_learner_t *l = t_learner(names[h], eddy_generator_schema(g), p, 1);
    t_prequential(g, l, 50000, 0, 0, NULL);
    size_t depth, nodes, leaves, inactive;
    eddy__ht_store_shape(&((const eddy__ht_tree_t *)l->state)->st, &depth, &nodes, &leaves, &inactive);
    cr_assert_eq(depth, 2u, "%s: depth %zu", names[h], depth);
    if (h == 0) cr_assert_gt(inactive, 0u, "HT: leaves at depth 2 deactivated");
    eddy_learner_free(l);
    eddy_generator_free(g);
  }
}
