/* test_efdt.c: the Extremely Fast Decision Tree (efdt): Elec2 against MOA
 * 2024.07's trees.EFDT prediction for prediction (defaults and options that
 * exercise re-evaluation and Gini's leaf restarts), checkpoints taken after
 * subtrees were replaced that continue bit for bit, reset, corrupt
 * checkpoints, describe, and no allocation while the tree does not change. */
#include <math.h>

#include "learners/trees/trees.h"
#include "ht_test.h"

#define EFDT "efdt"

Test(efdt, options) {
  eddy_generator_t *g = t_gen("sea", 1, NULL, 0);
  eddy_learner_t *l = t_learner(EFDT, eddy_generator_schema(g), NULL, 0);
  const eddy__ht_params_t *p = &((const eddy__efdt_params_t *)l->params)->tree;
  cr_assert_eq(p->grace_period, 200);
  cr_assert_eq(p->split_confidence, 1e-7);
  cr_assert_eq(p->tie_threshold, 0.05);
  cr_assert_eq(p->split_criterion, EDDY__HT_INFO_GAIN);
  cr_assert_eq(p->leaf_prediction, EDDY__HT_PRED_NBA);
  cr_assert_eq(((const eddy__efdt_params_t *)l->params)->reeval_period, 2000);
  eddy_learner_free(l);
  char err[512];
  eddy_kv_t kv[] = {{"reevaluation_period", "0", "e.ini", 7}};
  cr_assert_null(eddy_learner_new(EFDT, eddy_generator_schema(g), kv, 1, 1, err, sizeof err));
  cr_assert(strstr(err, "e.ini:7:") && strstr(err, "reevaluation_period"), "%s", err);
  eddy_generator_free(g);
}

Test(efdt, elec2_matches_moa) {
  /* MOA 2024.07.0, tools/compare/MoaPrequential.java (EvaluatePrequential's
   * prediction: maxIndex of getVotesForInstance), trees.EFDT on Elec2 with
   * day's values in elecNormNew.arff's order: the rows right below, each
   * case's predictions equal to MOA's row for row (tests/integration/
   * test_parity.sh compares the defaults' row by row with MOA run there). */
  size_t ok;
  size_t n = t_elec2(EFDT, NULL, 0, 1, &ok, NULL);
  if (!n) cr_skip_test("elec2.csv not found in ../shared/datasets (or $EDDY_DATASETS)");
  cr_assert_eq(n, 45312u);
  cr_assert_eq(ok, 36541u, "correct %zu (accuracy %.6f), MOA 0.806431", ok, (double)ok / n);
  /* -s GiniSplitCriterion -R 500 (subtrees replaced, leaves restarted);
   * -R 100 -g 20 -s GiniSplitCriterion; -R 200 -g 50; -b */
  static const kvp_t opts[4][3] = {
      {{"split_criterion", "gini"}, {"reevaluation_period", "500"}},
      {{"split_criterion", "gini"}, {"reevaluation_period", "100"}, {"grace_period", "20"}},
      {{"reevaluation_period", "200"}, {"grace_period", "50"}},
      {{"binary_splits", "true"}}};
  static const size_t n_opts[4] = {2, 3, 2, 1};
  static const size_t moa_ok[4] = {36210, 35623, 37247, 36327};
  for (int i = 0; i < 4; i++) {
    t_elec2(EFDT, opts[i], n_opts[i], 1, &ok, NULL);
    cr_assert_eq(ok, moa_ok[i], "case %d: %zu correct, MOA %zu", i, ok, moa_ok[i]);
  }
  /* as an ensemble's member, learning weighted instances and voting with
   * MOA's raw votes: meta.OzaBag -l trees.EFDT -s 10, 0.832605 */
  static const kvp_t bag[2] = {{"base_learner", EFDT}, {"ensemble_size", "10"}};
  t_elec2("oza_bag", bag, 2, 1, &ok, NULL);
  cr_assert_eq(ok, 37727u, "OzaBag of EFDT: %zu correct, MOA 37727", ok);
}

/* Rows of an Agrawal stream that drifts from function 2 to 5 at 10,000. */
static eddy_instance_t *agrawal_rows(eddy_generator_t **g, size_t n) {
  kvp_t gp[] = {{"function", "2"}, {"drift_to", "5"}, {"drift_at", "10000"}, {"drift_width", "1"}};
  *g = t_gen("agrawal", 3, gp, 4);
  const eddy_schema_t *s = eddy_generator_schema(*g);
  eddy_instance_t *rows = calloc(n, sizeof *rows);
  for (size_t i = 0; i < n; i++) {
    eddy_instance_init(&rows[i], s->n_attrs);
    eddy_generator_next(*g, &rows[i]);
  }
  return rows;
}

Test(efdt, checkpoint_after_replacements_continues_bit_for_bit) {
  const size_t n = 30000;
  eddy_generator_t *g;
  eddy_instance_t *rows = agrawal_rows(&g, n);
  const eddy_schema_t *s = eddy_generator_schema(g);
  kvp_t p[] = {{"reevaluation_period", "100"}, {"grace_period", "20"}};
  eddy_learner_t *l = t_learner(EFDT, s, p, 2);
  double out[2], out2[2];
  size_t cut = 0;
  uint64_t before = 0;
  for (size_t i = 0; i < n && !cut; i++) {
    eddy_learner_predict(l, &rows[i], out, 2);
    cr_assert_eq(eddy_learner_learn(l, &rows[i]), 0);
    const eddy__efdt_t *v = l->state;
    if (v->n_replaced >= 1) {
      cut = i + 1;
      before = v->n_replaced;
    }
  }
  cr_assert_gt(cut, 0u, "a re-evaluation replaced a subtree before the save");
  cr_log_info("saved after instance %zu", cut);
  eddy_learner_t *l2 = t_round_trip(l);
  for (size_t i = cut; i < n; i++) {
    cr_assert_gt(eddy_learner_predict(l, &rows[i], out, 2), 0);
    cr_assert_gt(eddy_learner_predict(l2, &rows[i], out2, 2), 0);
    cr_assert_eq(memcmp(out, out2, sizeof out), 0, "instance %zu", i);
    cr_assert_eq(eddy_learner_learn(l, &rows[i]), 0);
    cr_assert_eq(eddy_learner_learn(l2, &rows[i]), 0);
  }
  const eddy__efdt_t *a = l->state, *b = l2->state;
  cr_assert_gt(a->n_replaced, before, "more replacements after the load");
  cr_assert_eq(a->n_replaced, b->n_replaced);
  cr_assert_eq(a->n_splits, b->n_splits);
  eddy_buf_t ba, bb;
  eddy_buf_init(&ba);
  eddy_buf_init(&bb);
  cr_assert_eq(eddy_learner_save(l, &ba), 0);
  cr_assert_eq(eddy_learner_save(l2, &bb), 0);
  cr_assert_eq(ba.len, bb.len);
  cr_assert_eq(memcmp(ba.data, bb.data, ba.len), 0, "the same bytes at the end");
  eddy_buf_free(&ba);
  eddy_buf_free(&bb);
  /* reset: a fresh tree */
  eddy_learner_reset(l);
  cr_assert_eq(((const eddy__efdt_t *)l->state)->t.st.root, -1);
  eddy_learner_t *fresh = t_learner(EFDT, s, p, 2);
  for (size_t i = 0; i < n; i++) {
    eddy_learner_predict(l, &rows[i], out, 2);
    eddy_learner_predict(fresh, &rows[i], out2, 2);
    cr_assert_eq(memcmp(out, out2, sizeof out), 0, "instance %zu after reset", i);
    eddy_learner_learn(l, &rows[i]);
    eddy_learner_learn(fresh, &rows[i]);
  }
  eddy_learner_free(fresh);
  eddy_learner_free(l2);
  eddy_learner_free(l);
  for (size_t i = 0; i < n; i++) eddy_instance_free(&rows[i]);
  free(rows);
  eddy_generator_free(g);
}

Test(efdt, corrupt_checkpoints_are_refused_or_harmless) {
  const size_t n = 400;
  eddy_generator_t *g;
  eddy_instance_t *rows = agrawal_rows(&g, n);
  kvp_t p[] = {{"reevaluation_period", "50"}, {"grace_period", "20"}};
  eddy_learner_t *l = t_learner(EFDT, eddy_generator_schema(g), p, 2);
  for (size_t i = 0; i < 350; i++) eddy_learner_learn(l, &rows[i]);
  cr_assert_gt(((const eddy__efdt_t *)l->state)->n_splits, 0u);
  size_t loaded = t_corruption_sweep(l, rows + 350, 10);
  cr_log_info("%zu altered checkpoints loaded", loaded);
  eddy_learner_free(l);
  for (size_t i = 0; i < n; i++) eddy_instance_free(&rows[i]);
  free(rows);
  eddy_generator_free(g);
}

Test(efdt, describe) {
  eddy_generator_t *g;
  eddy_instance_t *rows = agrawal_rows(&g, 5000);
  eddy_learner_t *l = t_learner(EFDT, eddy_generator_schema(g), NULL, 0);
  for (size_t i = 0; i < 5000; i++) eddy_learner_learn(l, &rows[i]);
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  eddy_learner_describe(l, m);
  fclose(m);
  cr_assert(strncmp(text, "efdt: depth ", 12) == 0, "%.100s", text);
  cr_assert(strstr(text, "\nif "), "%.300s", text);
  cr_assert(strstr(text, "\nsplits: "), "%s", text);
  free(text);
  /* importance: one split counted per split node, gains of those attributes only */
  const eddy__efdt_t *e = l->state;
  size_t na = eddy_generator_schema(g)->n_attrs;
  double gain[16], splits[16], total = 0;
  cr_assert_eq(eddy_learner_importance(l, gain, splits, na), 0);
  for (size_t a = 0; a < na; a++) {
    total += splits[a];
    cr_assert(splits[a] > 0 || gain[a] == 0, "attribute %zu gains without a split", a);
  }
  cr_assert_eq(total, (double)e->t.st.n_split);
  eddy_learner_free(l);
  for (size_t i = 0; i < 5000; i++) eddy_instance_free(&rows[i]);
  free(rows);
  eddy_generator_free(g);
}

Test(efdt, learning_allocates_only_when_the_tree_changes) {
  /* The heap may change only on an instance that split a leaf or replaced
   * a subtree (new nodes, pools doubling); measured on 30,000 noisy SEA
   * rows with re-evaluation every 500. */
  kvp_t gp[] = {{"noise", "0.1"}};
  eddy_generator_t *g = t_gen("sea", 5, gp, 1);
  kvp_t p[] = {{"reevaluation_period", "500"}};
  eddy_learner_t *l = t_learner(EFDT, eddy_generator_schema(g), p, 1);
  eddy_instance_t in;
  eddy_instance_init(&in, 3);
  double out[2];
  size_t changes = 0, idle = 0, heap = t_heap();
  uint64_t events = 0;
  for (size_t i = 0; i < 30000; i++) {
    eddy_generator_next(g, &in);
    eddy_learner_predict(l, &in, out, 2);
    eddy_learner_learn(l, &in);
    size_t now = t_heap();
    const eddy__efdt_t *v = l->state;
    uint64_t ev = v->n_splits + v->n_replaced + v->n_restarts + (i == 0);
    if (now != heap) {
      changes++;
      if (ev == events) idle++;
    }
    heap = now;
    events = ev;
  }
  cr_log_info("heap changed %zu times, %zu without a tree change", changes, idle);
  cr_assert_gt(events, 3u, "the tree grew");
  cr_assert_eq(idle, 0u, "heap changed %zu times without the tree changing", idle);
  eddy_instance_free(&in);
  eddy_learner_free(l);
  eddy_generator_free(g);
}

Test(efdt, split_without_observers_is_refused) {
  /* EFDT's split nodes learn into their statistics slot: a checkpoint whose
   * split holds none (its slot back on the free list, which the node store
   * accepts: the other trees' splits have none) would make learning write
   * outside the slots. */
  eddy_generator_t *g;
  eddy_instance_t *rows = agrawal_rows(&g, 2000);
  kvp_t p[] = {{"grace_period", "50"}};
  eddy_learner_t *l = t_learner(EFDT, eddy_generator_schema(g), p, 1);
  for (size_t i = 0; i < 2000; i++) eddy_learner_learn(l, &rows[i]);
  eddy__efdt_t *e = l->state;
  eddy__ht_store_t *st = &e->t.st;
  int32_t split = -1;
  for (size_t i = 0; i < st->n_nodes && split < 0; i++)
    if (eddy__ht_base(st, (int32_t)i)->kind == EDDY__HT_SPLIT) split = (int32_t)i;
  cr_assert_geq(split, 0, "the tree split");
  eddy_learner_t *ok = t_round_trip(l); /* as it is: loads */
  eddy_learner_free(ok);
  eddy__ht_base_t *b = eddy__ht_base(st, split);
  st->slot_free[st->n_slot_free++] = b->slot;
  b->slot = -1;
  eddy_buf_t buf;
  eddy_buf_init(&buf);
  cr_assert_eq(eddy_learner_save(l, &buf), 0);
  eddy_reader_t r;
  eddy_reader_init(&r, buf.data + 12, buf.len - 12);
  char err[512];
  cr_assert_null(eddy_learner_load(&r, l->schema, err, sizeof err),
                 "a split without observers loaded");
  eddy_buf_free(&buf);
  b->slot = st->slot_free[--st->n_slot_free]; /* back as it was, to be freed */
  eddy_learner_free(l);
  for (size_t i = 0; i < 2000; i++) eddy_instance_free(&rows[i]);
  free(rows);
  eddy_generator_free(g);
}
