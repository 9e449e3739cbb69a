/* test_importance.c: feature importance (mean decrease in impurity) of the
 * trees and the forests: exact on a one-split tree, the concept's features
 * first on streams whose relevant features are known (SEA, Agrawal, a
 * regression), through checkpoints, and in the JSON export. */
#include <math.h>

#include "ht_test.h"
#include "learners/trees/trees.h"

#define MAXA 16

/* Importance normalised to sum 1 (and the raw gains' sum). */
static double importance(const eddy_learner_t *l, double *imp, double *splits) {
  size_t n = l->schema->n_attrs;
  cr_assert_leq(n, MAXA);
  cr_assert_eq(eddy_learner_importance(l, imp, splits, n), 0, "%s has importance", l->type->name);
  double s = 0.0;
  for (size_t a = 0; a < n; a++) {
    cr_assert_geq(imp[a], 0.0);
    s += imp[a];
  }
  for (size_t a = 0; s > 0.0 && a < n; a++) imp[a] /= s;
  return s;
}

static size_t attr_of(const eddy_schema_t *s, const char *name) {
  for (size_t a = 0; a < s->n_attrs; a++)
    if (strcmp(s->attrs[a].name, name) == 0) return a;
  cr_assert_fail("no attribute %s", name);
  return 0;
}

/* Learns n instances of g (prequential order does not matter here). */
static void learn_n(eddy_generator_t *g, eddy_learner_t *l, size_t n) {
  eddy_instance_t in;
  eddy_instance_init(&in, eddy_generator_schema(g)->n_attrs);
  for (size_t i = 0; i < n; i++) {
    cr_assert_eq(eddy_generator_next(g, &in), 0);
    cr_assert_eq(eddy_learner_learn(l, &in), 0);
  }
  eddy_instance_free(&in);
}

/* ------------------------------------------------------------ exact */

/* The entropy in bits of two class weights. */
static double h2(double a, double b) {
  double w = a + b, h = 0.0;
  if (a > 0) h -= a / w * log2(a / w);
  if (b > 0) h -= b / w * log2(b / w);
  return h;
}

/* class = (x0 > 0.5) with 10% of the labels flipped; x1 is noise. The
 * first split (on x0) leaves two leaves: the gain is the information gain
 * of their class weights, computed here from the leaves alone. */
static void one_split(const char *criterion, int gini) {
  eddy_schema_t *s = eddy_schema_new(EDDY_CLASSIFICATION, "y", 0, 0, NULL, 0);
  eddy_schema_add(s, "x0", EDDY_NUMERIC);
  eddy_schema_add(s, "x1", EDDY_NUMERIC);
  eddy_dict_intern(s->target.dict, "0", 1, eddy_hash("0", 1), NULL);
  eddy_dict_intern(s->target.dict, "1", 1, eddy_hash("1", 1), NULL);
  kvp_t p[] = {{"split_criterion", criterion}};
  eddy_learner_t *l = t_learner("hoeffding_tree", s, p, 1);
  const eddy__ht_tree_t *t = l->state;
  eddy_rng_t r;
  eddy_rng_seed(&r, 5);
  eddy_instance_t in;
  eddy_instance_init(&in, 2);
  double gain[2], splits[2];
  cr_assert_eq(eddy_learner_importance(l, gain, splits, 2), 0);
  cr_assert(gain[0] == 0.0 && gain[1] == 0.0 && splits[0] == 0.0, "an empty tree: nothing");
  for (size_t i = 0; i < 100000 && t->st.n_split == 0; i++) {
    in.x[0] = eddy_rng_uniform(&r);
    in.x[1] = eddy_rng_uniform(&r);
    in.missing[0] = in.missing[1] = 0;
    in.y = (in.x[0] > 0.5) ^ (eddy_rng_uniform(&r) < 0.1);
    in.has_y = 1;
    in.weight = 1;
    cr_assert_eq(eddy_learner_learn(l, &in), 0);
  }
  cr_assert_eq(t->st.n_split, 1u);
  const eddy__ht_base_t *root = eddy__ht_base(&t->st, t->st.root);
  cr_assert_eq(root->attr, 0, "the split is on x0");
  const double *d0 = eddy__ht_dist(t, eddy__ht_kid(t, t->st.root, 0));
  const double *d1 = eddy__ht_dist(t, eddy__ht_kid(t, t->st.root, 1));
  double w0 = d0[0] + d0[1], w1 = d1[0] + d1[1], w = w0 + w1, a = d0[0] + d1[0], b = d0[1] + d1[1];
  double want;
  if (gini)
    want = (1 - (a * a + b * b) / (w * w)) -
           w0 / w * (1 - (d0[0] * d0[0] + d0[1] * d0[1]) / (w0 * w0)) -
           w1 / w * (1 - (d1[0] * d1[0] + d1[1] * d1[1]) / (w1 * w1));
  else
    want = h2(a, b) - w0 / w * h2(d0[0], d0[1]) - w1 / w * h2(d1[0], d1[1]);
  cr_assert_eq(eddy_learner_importance(l, gain, splits, 2), 0);
  cr_assert(fabs(gain[0] - want) <= 1e-12 * want, "%s: gain %.17g, want %.17g", criterion, gain[0], want);
  cr_assert(want > 0.1, "a clear split (gain %g)", want);
  cr_assert(gain[1] == 0.0 && splits[0] == 1.0 && splits[1] == 0.0);
  eddy_instance_free(&in);
  eddy_learner_free(l);
  eddy_schema_free(s);
}

Test(importance, one_split_is_its_information_gain) { one_split("info_gain", 0); }
Test(importance, one_split_is_its_gini_decrease) { one_split("gini", 1); }

/* ------------------------------------------------------------ rankings */

/* SEA (class = attrib1 + attrib2 <= theta, 10% noise): attrib1 and
 * attrib2 first, attrib3 (noise) near 0, for every tree and forest: under
 * 0.05, under 0.1 for the forests, whose leaves see random subsets of the
 * attributes (2 of SEA's 3 in ARF: a leaf without one of the two may only
 * split on the noise; measured 0.027 ARF, 0.045 SRP, 0.0025 or less for
 * the others). */
static void sea_ranking(const char *learner, const kvp_t *p, size_t np, size_t n, double noise_max) {
  kvp_t gp[] = {{"noise", "0.1"}};
  eddy_generator_t *g = t_gen("sea", 1, gp, 1);
  const eddy_schema_t *s = eddy_generator_schema(g);
  eddy_learner_t *l = t_learner(learner, s, p, np);
  learn_n(g, l, n);
  double imp[MAXA], splits[MAXA];
  importance(l, imp, splits);
  size_t a1 = attr_of(s, "attrib1"), a2 = attr_of(s, "attrib2"), a3 = attr_of(s, "attrib3");
  cr_log_info("%s: attrib1 %.4f (%g splits), attrib2 %.4f (%g), attrib3 %.4f (%g)", learner, imp[a1],
              splits[a1], imp[a2], splits[a2], imp[a3], splits[a3]);
  cr_assert(imp[a1] > 0.25 && imp[a2] > 0.25, "%s: attrib1 %.4f, attrib2 %.4f", learner, imp[a1], imp[a2]);
  cr_assert(imp[a3] < noise_max, "%s: attrib3 (noise) %.4f", learner, imp[a3]);
  cr_assert(splits[a1] >= 1 && splits[a2] >= 1);
  eddy_learner_free(l);
  eddy_generator_free(g);
}

Test(importance, sea_concept_features_first_in_every_tree_and_forest, .timeout = 120) {
  sea_ranking("hoeffding_tree", NULL, 0, 50000, 0.05);
  sea_ranking("hoeffding_adaptive_tree", NULL, 0, 50000, 0.05);
  kvp_t ens[] = {{"ensemble_size", "5"}, {"base_learner", "hoeffding_tree"}};
  sea_ranking("oza_bag", ens, 2, 30000, 0.05);
  sea_ranking("oza_boost", ens, 2, 30000, 0.05);
  sea_ranking("adwin_bagging", ens, 2, 30000, 0.05);
  sea_ranking("leveraging_bagging", ens, 2, 30000, 0.05);
  kvp_t forest[] = {{"ensemble_size", "5"}};
  sea_ranking("adaptive_random_forest", forest, 1, 30000, 0.1);
  sea_ranking("streaming_random_patches", forest, 1, 30000, 0.1);
}

/* Agrawal F1 (the class depends on age alone) and F2 (age and salary). */
Test(importance, agrawal_concept_features_first) {
  static const char *const uses[2][2] = {{"age", NULL}, {"age", "salary"}};
  for (int f = 1; f <= 2; f++) {
    char fs[8];
    snprintf(fs, sizeof fs, "%d", f);
    kvp_t gp[] = {{"function", fs}};
    eddy_generator_t *g = t_gen("agrawal", 1, gp, 1);
    const eddy_schema_t *s = eddy_generator_schema(g);
    eddy_learner_t *l = t_learner("hoeffding_tree", s, NULL, 0);
    learn_n(g, l, 50000);
    double imp[MAXA], splits[MAXA], used = 0.0;
    importance(l, imp, splits);
    for (int i = 0; i < 2 && uses[f - 1][i]; i++) used += imp[attr_of(s, uses[f - 1][i])];
    for (size_t a = 0; a < s->n_attrs; a++) {
      cr_log_info("F%d %s %.4f (%g splits)", f, s->attrs[a].name, imp[a], splits[a]);
      int relevant = 0;
      for (int i = 0; i < 2 && uses[f - 1][i]; i++) relevant |= strcmp(s->attrs[a].name, uses[f - 1][i]) == 0;
      if (!relevant) cr_assert(imp[a] < 0.05, "F%d: %s (irrelevant) %.4f", f, s->attrs[a].name, imp[a]);
    }
    cr_assert(used > 0.85, "F%d: the concept's features hold %.4f", f, used);
    if (f == 1) cr_assert(imp[attr_of(s, "age")] > 0.85);
    eddy_learner_free(l);
    eddy_generator_free(g);
  }
}

/* Regression: y = 4 x0 + x1 + noise; x2 and x3 are noise. Variance
 * reduction puts x0 first, x1 second. */
Test(importance, regressor_ranks_by_variance_reduction) {
  eddy_schema_t *s = eddy_schema_new(EDDY_REGRESSION, "y", 0, 0, NULL, 0);
  const char *names[] = {"x0", "x1", "x2", "x3"};
  for (int i = 0; i < 4; i++) eddy_schema_add(s, names[i], EDDY_NUMERIC);
  eddy_learner_t *l = t_learner("hoeffding_tree_regressor", s, NULL, 0);
  eddy_rng_t r;
  eddy_rng_seed(&r, 3);
  eddy_instance_t in;
  eddy_instance_init(&in, 4);
  for (size_t i = 0; i < 20000; i++) {
    for (int a = 0; a < 4; a++) {
      in.x[a] = eddy_rng_uniform(&r);
      in.missing[a] = 0;
    }
    in.y = 4 * in.x[0] + in.x[1] + 0.1 * (eddy_rng_uniform(&r) - 0.5);
    in.has_y = 1;
    in.weight = 1;
    cr_assert_eq(eddy_learner_learn(l, &in), 0);
  }
  double imp[MAXA], splits[MAXA];
  importance(l, imp, splits);
  cr_log_info("regressor: %.4f %.4f %.4f %.4f", imp[0], imp[1], imp[2], imp[3]);
  cr_assert(imp[0] > 0.6 && imp[0] > imp[1], "x0 %.4f, x1 %.4f", imp[0], imp[1]);
  cr_assert(imp[2] < 0.05 && imp[3] < 0.05, "x2 %.4f, x3 %.4f", imp[2], imp[3]);
  eddy_instance_free(&in);
  eddy_learner_free(l);
  eddy_schema_free(s);
}

Test(importance, learners_without_trees_have_none) {
  kvp_t gp[] = {{"noise", "0.1"}};
  eddy_generator_t *g = t_gen("sea", 1, gp, 1);
  const eddy_schema_t *s = eddy_generator_schema(g);
  double gain[MAXA], splits[MAXA];
  eddy_learner_t *l = t_learner("naive_bayes", s, NULL, 0);
  cr_assert_eq(eddy_learner_importance(l, gain, splits, s->n_attrs), EDDY_ENOTSUP);
  eddy_learner_free(l);
  kvp_t ens[] = {{"ensemble_size", "3"}, {"base_learner", "naive_bayes"}};
  l = t_learner("oza_bag", s, ens, 2);
  cr_assert_eq(eddy_learner_importance(l, gain, splits, s->n_attrs), EDDY_ENOTSUP);
  /* and describe prints no ranking for them */
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  eddy_learner_describe_importance(l, f);
  fclose(f);
  cr_assert_eq(len, 0u, "%s", text);
  free(text);
  eddy_learner_free(l);
  eddy_generator_free(g);
}

/* model_selection: the importance of the candidate that answered last. */
Test(importance, model_selection_gives_the_serving_candidate_s) {
  kvp_t gp[] = {{"noise", "0.1"}};
  eddy_generator_t *g = t_gen("sea", 1, gp, 1);
  const eddy_schema_t *s = eddy_generator_schema(g);
  kvp_t p[] = {{"candidates", "majority, hoeffding_tree"}};
  eddy_learner_t *l = t_learner("model_selection", s, p, 1);
  eddy_learner_t *ht = t_learner("hoeffding_tree", s, NULL, 0);
  eddy_instance_t in;
  eddy_instance_init(&in, s->n_attrs);
  double out[8];
  for (size_t i = 0; i < 20000; i++) {
    cr_assert_eq(eddy_generator_next(g, &in), 0);
    cr_assert_gt(eddy_learner_predict(l, &in, out, 8), 0);
    cr_assert_eq(eddy_learner_learn(l, &in), 0);
    cr_assert_eq(eddy_learner_learn(ht, &in), 0);
  }
  eddy_instance_free(&in);
  cr_assert_str_eq(l->type->served(l), "hoeffding_tree");
  double a[2][MAXA] = {{0}}, b[2][MAXA] = {{0}};
  cr_assert_eq(eddy_learner_importance(l, a[0], a[1], s->n_attrs), 0);
  cr_assert_eq(eddy_learner_importance(ht, b[0], b[1], s->n_attrs), 0);
  cr_assert_eq(memcmp(a, b, sizeof a), 0, "the candidate's, which learned what a tree alone learns");
  cr_assert_gt(a[1][0], 0.0);
  eddy_learner_free(ht);
  eddy_learner_free(l);
  kvp_t p2[] = {{"candidates", "majority, naive_bayes"}};
  l = t_learner("model_selection", s, p2, 1);
  cr_assert_eq(eddy_learner_importance(l, a[0], a[1], s->n_attrs), EDDY_ENOTSUP);
  eddy_learner_free(l);
  eddy_generator_free(g);
}

/* ------------------------------------------------------------ checkpoints */

/* Importance after a save and load is the same, bit for bit, and stays so
 * as both learn on. */
static void round_trip(const char *learner, const kvp_t *p, size_t np) {
  kvp_t gp[] = {{"noise", "0.1"}};
  eddy_generator_t *g = t_gen("sea", 2, gp, 1);
  const eddy_schema_t *s = eddy_generator_schema(g);
  eddy_learner_t *l = t_learner(learner, s, p, np);
  learn_n(g, l, 20000);
  eddy_learner_t *l2 = t_round_trip(l);
  double a[2][MAXA] = {{0}}, b[2][MAXA] = {{0}};
  for (int step = 0; step < 2; step++) {
    cr_assert_eq(eddy_learner_importance(l, a[0], a[1], s->n_attrs), 0);
    cr_assert_eq(eddy_learner_importance(l2, b[0], b[1], s->n_attrs), 0);
    cr_assert_eq(memcmp(a, b, sizeof a), 0, "%s: the same importance after a checkpoint (step %d)", learner, step);
    cr_assert_gt(a[1][0] + a[1][1], 0.0, "%s: a grown model", learner);
    /* both learn the same 10,000 instances */
    eddy_instance_t in;
    eddy_instance_init(&in, s->n_attrs);
    for (size_t i = 0; i < 10000; i++) {
      cr_assert_eq(eddy_generator_next(g, &in), 0);
      cr_assert_eq(eddy_learner_learn(l, &in), 0);
      cr_assert_eq(eddy_learner_learn(l2, &in), 0);
    }
    eddy_instance_free(&in);
  }
  eddy_learner_free(l2);
  eddy_learner_free(l);
  eddy_generator_free(g);
}

Test(importance, continues_bit_for_bit_after_a_checkpoint) {
  round_trip("hoeffding_tree", NULL, 0);
  round_trip("hoeffding_adaptive_tree", NULL, 0);
  kvp_t forest[] = {{"ensemble_size", "3"}};
  round_trip("adaptive_random_forest", forest, 1);
  round_trip("streaming_random_patches", forest, 1);
  kvp_t ens[] = {{"ensemble_size", "3"}, {"base_learner", "hoeffding_tree"}};
  round_trip("leveraging_bagging", ens, 2);
}

/* ------------------------------------------------------------ export */

Test(importance, export_lists_the_ranking) {
  kvp_t gp[] = {{"noise", "0.1"}};
  eddy_generator_t *g = t_gen("sea", 1, gp, 1);
  eddy_learner_t *l = t_learner("hoeffding_tree", eddy_generator_schema(g), NULL, 0);
  learn_n(g, l, 30000);
  eddy_buf_t b;
  eddy_buf_init(&b);
  cr_assert_eq(eddy_learner_export(l, &b), 0);
  eddy_buf_put_u8(&b, '\0');
  const char *j = (const char *)b.data, *imp = strstr(j, "\"importance\":[{\"name\":\"attrib");
  cr_assert_not_null(imp, "%s", j);
  /* ranked: attrib3 (noise) comes last */
  const char *a3 = strstr(imp, "\"attrib3\""), *a1 = strstr(imp, "\"attrib1\""), *a2 = strstr(imp, "\"attrib2\"");
  cr_assert(a1 && a2 && a3 && a3 > a1 && a3 > a2, "%s", imp);
  eddy_buf_free(&b);
  eddy_learner_free(l);
  /* a learner without importance exports null */
  l = t_learner("naive_bayes", eddy_generator_schema(g), NULL, 0);
  eddy_buf_init(&b);
  cr_assert_eq(eddy_learner_export(l, &b), 0);
  eddy_buf_put_u8(&b, '\0');
  cr_assert_not_null(strstr((const char *)b.data, ",\"importance\":null}"));
  eddy_buf_free(&b);
  eddy_learner_free(l);
  eddy_generator_free(g);
}
