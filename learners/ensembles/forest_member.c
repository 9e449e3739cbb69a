/* forest_member.c: what the forests' members share (MOA's ARFBaseLearner
 * and StreamingRandomPatchesClassifier, and the regressor forest's
 * ARFFIMTDDBaseLearner): a warning and a drift ADWIN on a value per
 * instance, the member's prequential accuracy that weights its vote, and,
 * for the classification forests, the tree with its background tree. */
#include <math.h>
#include <string.h>

#include "learners/ensembles/ensembles.h"

const char *const eddy__forest_mode_names[] = {"specified_m", "sqrt_m1", "m_sqrt_m1",
                                               "percentage", NULL};

int64_t eddy__forest_tree_seed(int random, uint64_t seed, size_t i) {
  return random == EDDY_ENSEMBLE_RANDOM_MOA ? 1 : (int64_t)(eddy_seed_derive(seed, i) >> 1);
}

int64_t eddy__forest_subspace_size(int mode, int64_t m, size_t n_attrs) {
  int64_t n = (int64_t)n_attrs, k = m;
  switch (mode) {
  case EDDY__FOREST_SQRT: k = (int64_t)floor(sqrt((double)n) + 0.5) + 1; break;
  case EDDY__FOREST_SQRT_INV: k = n - (int64_t)floor(sqrt((double)n) + 1 + 0.5); break;
  case EDDY__FOREST_PERCENT: {
    double pc = k < 0 ? (double)(100 + k) / 100.0 : (double)k / 100.0;
    k = (int64_t)floor((double)n * pc + 0.5);
    break;
  }
  default: break;
  }
  if (k < 0) k = n + k;
  if (k <= 0) k = 1;
  if (k > n) k = n;
  return k;
}

/* ------------------------------------------------------------ the watch */

int eddy__forest_watch_init(eddy__forest_watch_t *w, double drift_delta, double warning_delta,
                            int moa_ints) {
  memset(w, 0, sizeof *w);
  w->drift = eddy__member_adwin_new(drift_delta, moa_ints);
  w->warn = eddy__member_adwin_new(warning_delta, moa_ints);
  return w->drift && w->warn ? 0 : EDDY_ENOMEM;
}

void eddy__forest_watch_free(eddy__forest_watch_t *w) {
  if (w->drift) eddy_adwin_free(w->drift);
  if (w->warn) eddy_adwin_free(w->warn);
  w->drift = w->warn = NULL;
}

void eddy__forest_watch_reset(eddy__forest_watch_t *w) {
  eddy_adwin_reset(w->drift);
  eddy_adwin_reset(w->warn);
  w->eval_sum = w->eval_len = 0;
  w->n_drifts = w->n_warnings = 0;
}

int eddy__forest_watch_input(eddy__forest_watch_t *w, double v, int warnings) {
  int f = 0;
  if (warnings && eddy__member_adwin_change(w->warn, v)) {
    w->n_warnings++;
    eddy_adwin_reset(w->warn); /* MOA: a new detector */
    f |= EDDY__FOREST_WARNING;
  }
  if (eddy__member_adwin_change(w->drift, v)) {
    w->n_drifts++;
    w->eval_sum = w->eval_len = 0; /* MOA: evaluator.reset() */
    f |= EDDY__FOREST_DRIFT;
  }
  return f;
}

void eddy__forest_watch_drifted(eddy__forest_watch_t *w, int swapped) {
  eddy_adwin_reset(w->drift);
  if (swapped) eddy_adwin_reset(w->warn);
}

double eddy__forest_watch_vote_weight(const eddy__forest_watch_t *w, int weighted) {
  double acc = (w->eval_sum / w->eval_len) * 100.0;
  return weighted && acc > 0.0 ? acc : 1.0;
}

double eddy__forest_watch_accuracy(const eddy__forest_watch_t *w) {
  return w->eval_len > 0 ? w->eval_sum / w->eval_len : 0.0;
}

void eddy__forest_watch_save_eval(const eddy__forest_watch_t *w, eddy_buf_t *b) {
  eddy_buf_put_f64(b, w->eval_sum);
  eddy_buf_put_f64(b, w->eval_len);
}

int eddy__forest_watch_load_eval(eddy__forest_watch_t *w, eddy_reader_t *r) {
  w->eval_sum = eddy_read_f64(r);
  w->eval_len = eddy_read_f64(r);
  if (r->err) return r->err;
  /* a count of predictions and the weight of the right ones (or a sum of
   * squared errors): both finite and not negative */
  if (!(w->eval_len >= 0 && w->eval_len < INFINITY && w->eval_sum >= 0 &&
        w->eval_sum < INFINITY))
    return EDDY_ECORRUPT;
  return 0;
}

void eddy__forest_watch_save_counts(const eddy__forest_watch_t *w, eddy_buf_t *b) {
  eddy_buf_put_u64(b, w->n_drifts);
  eddy_buf_put_u64(b, w->n_warnings);
}

int eddy__forest_watch_load_counts(eddy__forest_watch_t *w, eddy_reader_t *r) {
  w->n_drifts = eddy_read_u64(r);
  w->n_warnings = eddy_read_u64(r);
  return r->err;
}

void eddy__forest_watch_save_detectors(const eddy__forest_watch_t *w, eddy_buf_t *b) {
  eddy_adwin_save(w->drift, b);
  eddy_adwin_save(w->warn, b);
}

int eddy__forest_watch_load_detectors(eddy__forest_watch_t *w, int moa_ints, eddy_reader_t *r) {
  int err = eddy__member_adwin_load(&w->drift, moa_ints, r);
  return err ? err : eddy__member_adwin_load(&w->warn, moa_ints, r);
}

size_t eddy__forest_watch_memory(const eddy__forest_watch_t *w) {
  return eddy_adwin_memory(w->drift) + eddy_adwin_memory(w->warn);
}

/* ------------------------------------------------------------ tree members */

int eddy__forest_member_init(eddy__forest_member_t *m, const eddy_schema_t *s,
                             const eddy__ht_params_t *p, uint64_t seed, double drift_delta,
                             double warning_delta, int moa_ints) {
  int err = eddy__ht_tree_init(&m->tree, s, p, 0, seed);
  if (!err) err = eddy__ht_tree_init(&m->bkg, s, p, 0, seed);
  if (!err) err = eddy__forest_watch_init(&m->w, drift_delta, warning_delta, moa_ints);
  return err;
}

void eddy__forest_member_free(eddy__forest_member_t *m) {
  eddy__ht_tree_free(&m->tree);
  eddy__ht_tree_free(&m->bkg);
  eddy__forest_watch_free(&m->w);
}

void eddy__forest_member_reset(eddy__forest_member_t *m) {
  eddy__ht_tree_reset(&m->tree);
  eddy__ht_tree_reset(&m->bkg);
  m->has_bkg = 0;
  eddy__forest_watch_reset(&m->w);
}

void eddy__forest_member_score(eddy__forest_member_t *m, const eddy_instance_t *x) {
  m->w.eval_len += 1.0;
  if (eddy__ht_tree_predict(&m->tree, x) == (uint32_t)x->y) m->w.eval_sum += x->weight;
}

void eddy__forest_member_start_bkg(eddy__forest_member_t *m) {
  eddy__ht_tree_reset(&m->bkg); /* MOA: a copy of the tree, reset */
  m->has_bkg = 1;
}

void eddy__forest_member_swap(eddy__forest_member_t *m) {
  eddy__ht_tree_t old = m->tree;
  m->tree = m->bkg;
  m->bkg = old;
  eddy__ht_tree_reset(&m->bkg);
  m->has_bkg = 0;
}

void eddy__forest_member_add_vote(eddy__forest_member_t *m, const eddy_instance_t *x,
                                  int weighted, double *out, size_t k) {
  int n = eddy__ht_tree_votes(&m->tree, x);
  /* MOA: each tree's normalised vote times its accuracy in percent when
   * that is above 0 (NaN before its first prediction: unweighted) */
  eddy_ensemble_add_votes(m->tree.votes, (size_t)n, eddy__forest_watch_vote_weight(&m->w, weighted),
                          out, k);
}

size_t eddy__forest_member_memory(const eddy__forest_member_t *m) {
  return eddy__ht_tree_memory(&m->tree) + eddy__ht_tree_memory(&m->bkg) -
         2 * sizeof(eddy__ht_tree_t) + eddy__forest_watch_memory(&m->w);
}

void eddy__forest_member_export_head(const eddy__forest_member_t *m, int weighted, size_t i,
                                     eddy_buf_t *b) {
  eddy_buf_printf(b, "%s{\"vote_weight\":", i ? "," : "");
  eddy_json_double(b, eddy__forest_watch_vote_weight(&m->w, weighted));
  eddy_buf_printf(b, ",\"accuracy\":");
  eddy_json_double(b, eddy__forest_watch_accuracy(&m->w));
}
