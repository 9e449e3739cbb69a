/* leveraging_bagging.c: Leveraging Bagging (Bifet, Holmes & Pfahringer,
 * ECML PKDD 2010) as MOA 2024.07.0's meta.LeveragingBag: online bagging
 * with heavier resampling (each member learns with weight k ~
 * Poisson(weight_shrink = 6)), one ADWIN per member on its 0/1 error after
 * learning, and on a change (a member's ADWIN cut its window and its error
 * estimate went up) the member with the highest error estimate is reset
 * with a fresh ADWIN; it does not learn the current instance (MOA's line is
 * commented out). MOA's variants (`algorithm`) and random output codes
 * (`output_codes`, off by default) are here too, drawn in MOA's order. */
#include <stdlib.h>
#include <string.h>

#include "learners/ensembles/ensembles.h"

enum { ALG_BAG = 0, ALG_ME, ALG_HALF, ALG_WT, ALG_SUBAG };
static const char *const algorithm_names[] = {"leveraging_bag", "leveraging_bag_me",
                                              "leveraging_bag_half", "leveraging_bag_wt",
                                              "leveraging_subag", NULL};

typedef struct {
  char base_learner[64];
  int64_t ensemble_size;
  double weight_shrink;
  double adwin_delta;
  int output_codes;
  int algorithm;
  int adwin_arithmetic;
  int random;
} levbag_params_t;

static const eddy_option_t levbag_options[] = {
    EDDY_OPT_STRING_(levbag_params_t, "base_learner", base_learner, "hoeffding_tree",
                     "learner type of the members (MOA -l; a registry name); give its "
                     "parameters with a `base.` prefix, e.g. base.grace_period = 100"),
    EDDY_OPT_INT_(levbag_params_t, "ensemble_size", ensemble_size, "10", 1, 10000,
                  "number of members (MOA -s)"),
    EDDY_OPT_DOUBLE_(levbag_params_t, "weight_shrink", weight_shrink, "6", 0, 1e300,
                     "lambda of the members' Poisson weights (MOA -w)"),
    EDDY_OPT_DOUBLE_(levbag_params_t, "adwin_delta", adwin_delta, "0.002", 0, 1,
                     "confidence of each member's ADWIN on its error (MOA -a)"),
    EDDY_OPT_BOOL_(levbag_params_t, "output_codes", output_codes, "false",
                   "random output codes (MOA -o): each member learns a random binary "
                   "relabelling of the classes (drawn on the first instance learned; needs "
                   "the target's values declared) and the vote counts the classes whose "
                   "code matches each member's prediction"),
    EDDY_OPT_ENUM_(levbag_params_t, "algorithm", algorithm, "leveraging_bag", algorithm_names,
                   "MOA -m: leveraging_bag (Poisson(weight_shrink)); leveraging_bag_me (weight "
                   "1 when the member misclassifies, else 1 with probability e / (1 - e), e its "
                   "error estimate); leveraging_bag_half (weight 1 or 0, half each); "
                   "leveraging_bag_wt (1 + Poisson(1)); leveraging_subag (1 when Poisson(1) > 0)"),
    EDDY_OPT_ENUM_(levbag_params_t, "adwin_arithmetic", adwin_arithmetic, "moa",
                   eddy__adwin_arithmetic_names,
                   "moa: the ADWINs multiply bucket sizes in 32-bit ints as MOA's ADWIN.java "
                   "does (they overflow on windows over ~130,000 values), so they cut where "
                   "MOA's do; exact: in doubles, as the adwin detector does"),
    EDDY_ENSEMBLE_RANDOM_OPTION(levbag_params_t, random),
    EDDY_OPT_END,
};

typedef struct {
  eddy_ensemble_t e;
  eddy_adwin_t **adwins; /* one per member, on its 0/1 error */
  uint64_t changes;      /* MOA's numberOfChangesDetected */
  uint64_t replacements;
  /* output codes: n rows of code_cols 0/1 codes, drawn on the first learn */
  uint8_t *codes;
  uint32_t code_cols;
  int codes_drawn;
} levbag_t;

static void free_adwins(levbag_t *s, size_t n) {
  eddy__member_adwins_free(s->adwins, n);
  s->adwins = NULL;
}

static int levbag_init(eddy_learner_t *l, char *errstr, size_t errstr_size) {
  const levbag_params_t *p = l->params;
  levbag_t *s = l->state;
  size_t n = (size_t)p->ensemble_size;
  s->adwins = eddy__member_adwins_new(n, p->adwin_delta, p->adwin_arithmetic == EDDY__ADWIN_MOA);
  int err = s->adwins ? 0 : EDDY_ENOMEM;
  if (!err && p->output_codes) {
    /* MOA sizes the codes by the header's classes: the target's declared
     * values here, so that they are known before the first instance */
    s->code_cols = eddy_schema_n_classes(l->schema);
    if (s->code_cols < 2) {
      free_adwins(s, n);
      return eddy_seterr(errstr, errstr_size, EDDY_EINVAL,
                         "key 'output_codes': needs the target's values declared "
                         "([features] values.TARGET), at least two");
    }
    if (!(s->codes = calloc(n * s->code_cols, 1))) err = EDDY_ENOMEM;
  }
  if (err) {
    free_adwins(s, n);
    free(s->codes);
    s->codes = NULL;
    return eddy_seterr(errstr, errstr_size, err, "out of memory");
  }
  err = eddy_ensemble_init(&s->e, l, p->base_learner, n, p->random, errstr, errstr_size);
  if (err) {
    free_adwins(s, n);
    free(s->codes);
    s->codes = NULL;
  }
  return err;
}

/* nextBoolean and nextDouble from the ensemble's generator. */
static int draw_bool(levbag_t *s, eddy_learner_t *l) {
  if (s->e.random == EDDY_ENSEMBLE_RANDOM_MOA) return eddy_jrandom_next(&s->e.jr, 1) != 0;
  return (int)(eddy_rng_next(&l->rng) >> 63);
}

static double draw_double(levbag_t *s, eddy_learner_t *l) {
  if (s->e.random == EDDY_ENSEMBLE_RANDOM_MOA) return eddy_jrandom_double(&s->e.jr);
  return eddy_rng_uniform(&l->rng);
}

/* MOA's matrixCodes: per member, random bits per class (the second of two
 * classes the complement of the first) until ones and zeros balance to
 * within (members mod 2), compared squared as MOA does. */
static void draw_codes(levbag_t *s, eddy_learner_t *l) {
  uint32_t C = s->code_cols;
  for (size_t i = 0; i < s->e.n; i++) {
    uint8_t *row = s->codes + i * C;
    int64_t ones, zeros;
    do {
      ones = zeros = 0;
      for (uint32_t j = 0; j < C; j++) {
        row[j] = (j == 1 && C == 2) ? (uint8_t)(1 - row[0]) : (uint8_t)draw_bool(s, l);
        if (row[j]) ones++;
        else zeros++;
      }
    } while ((ones - zeros) * (ones - zeros) > (int64_t)(s->e.n % 2));
  }
  s->codes_drawn = 1;
}

/* Member i's weight k for x under the chosen algorithm (MOA's switch). */
static int member_weight(levbag_t *s, eddy_learner_t *l, const levbag_params_t *p, size_t i,
                         const eddy_instance_t *cur, double *k) {
  switch (p->algorithm) {
  case ALG_ME: {
    double e = eddy_adwin_estimation(s->adwins[i]);
    int ok = eddy_ensemble_correct(&s->e, i, cur);
    if (ok < 0) return ok;
    *k = !ok ? 1.0 : (draw_double(s, l) < e / (1.0 - e) ? 1.0 : 0.0);
    return 0;
  }
  case ALG_HALF: *k = draw_bool(s, l) ? 0.0 : 1.0; return 0;
  case ALG_WT: *k = 1.0 + eddy_ensemble_poisson(&s->e, l, 1.0); return 0;
  case ALG_SUBAG: *k = eddy_ensemble_poisson(&s->e, l, 1.0) > 0 ? 1.0 : 0.0; return 0;
  default: *k = eddy_ensemble_poisson(&s->e, l, p->weight_shrink); return 0;
  }
}

static int levbag_learn(eddy_learner_t *l, const eddy_instance_t *x) {
  const levbag_params_t *p = l->params;
  levbag_t *s = l->state;
  if (!(x->weight > 0.0)) return 0; /* MOA's trainOnInstance skips these */
  if (p->output_codes) {
    if (!s->codes_drawn) draw_codes(s, l);
    if (!(x->y >= 0 && x->y < s->code_cols)) {
      eddy_log(EDDY_LOG_WARN, "leveraging_bagging: class %.0f has no output code (%u classes "
               "when the codes were drawn)", x->y, s->code_cols);
      return EDDY_ERANGE;
    }
  }
  eddy_ensemble_begin_learn(&s->e, x);
  /* MOA's weightedInst: one copy whose class becomes member i's code when
   * i learns (and stays so for the next members' checks until one learns) */
  eddy_instance_t cur = *x;
  int change = 0;
  for (size_t i = 0; i < s->e.n; i++) {
    double k;
    int err = member_weight(s, l, p, i, &cur, &k);
    if (err) return err;
    if (k > 0.0) {
      if (p->output_codes) cur.y = s->codes[i * s->code_cols + (size_t)x->y];
      if ((err = eddy_ensemble_learn_member(&s->e, i, &cur, k))) return err;
    }
    int ok = eddy_ensemble_correct(&s->e, i, &cur);
    if (ok < 0) return ok;
    if (eddy__member_adwin_change(s->adwins[i], ok ? 0.0 : 1.0)) change = 1;
  }
  if (!change) return 0;
  s->changes++;
  size_t imax = eddy__member_adwins_worst(s->adwins, s->e.n);
  if (imax == s->e.n) return 0;
  eddy_ensemble_reset_member(&s->e, imax);
  eddy_adwin_reset(s->adwins[imax]); /* MOA: new ADWIN(delta) */
  s->replacements++;
  return 0;
}

/* MOA's getVotesForInstanceBinary: each member's 0/1 prediction (1 when
 * its votes have two entries and the second is larger) counts one for
 * every class whose code it is; nothing before the codes are drawn. */
static int predict_codes(levbag_t *s, const eddy_instance_t *x, double *out, size_t k) {
  eddy_ensemble_begin_predict(&s->e, x);
  memset(out, 0, k * sizeof *out);
  if (!s->codes_drawn) return (int)k;
  size_t m = k < s->code_cols ? k : s->code_cols;
  for (size_t i = 0; i < s->e.n; i++) {
    int n = eddy_ensemble_member_predict(&s->e, i, x);
    if (n < 0) return n;
    int vc = (n == 2 && s->e.votes[1] > s->e.votes[0]) ? 1 : 0;
    for (size_t j = 0; j < m; j++)
      if (s->codes[i * s->code_cols + j] == vc) out[j] += 1.0;
  }
  eddy_ensemble_finish_vote(out, k);
  return (int)k;
}

static int levbag_predict(eddy_learner_t *l, const eddy_instance_t *x, double *out,
                          size_t out_len) {
  const levbag_params_t *p = l->params;
  levbag_t *s = l->state;
  if (p->output_codes) {
    size_t k = eddy_schema_n_classes(l->schema);
    if (out_len < k) return EDDY_ENOSPC;
    return predict_codes(s, x, out, k);
  }
  return eddy_ensemble_bagging_predict(&s->e, l->schema, x, out, out_len);
}

static void levbag_reset(eddy_learner_t *l) {
  levbag_t *s = l->state;
  eddy_ensemble_reset(&s->e, l);
  eddy__member_adwins_reset(s->adwins, s->e.n);
  s->changes = s->replacements = 0;
  s->codes_drawn = 0;
  if (s->codes) memset(s->codes, 0, s->e.n * s->code_cols);
}

static int levbag_save(const eddy_learner_t *l, eddy_buf_t *b) {
  const levbag_t *s = l->state;
  eddy_buf_put_u64(b, s->changes);
  eddy_buf_put_u64(b, s->replacements);
  eddy__member_adwins_save(s->adwins, s->e.n, b);
  eddy_buf_put_u32(b, s->code_cols);
  eddy_buf_put_u8(b, (uint8_t)s->codes_drawn);
  if (s->code_cols) eddy_buf_put(b, s->codes, s->e.n * s->code_cols);
  return eddy_ensemble_save(&s->e, b);
}

static int levbag_load(eddy_learner_t *l, eddy_reader_t *r) {
  const levbag_params_t *p = l->params;
  levbag_t *s = l->state;
  s->changes = eddy_read_u64(r);
  s->replacements = eddy_read_u64(r);
  int err = eddy__member_adwins_load(s->adwins, s->e.n, p->adwin_arithmetic == EDDY__ADWIN_MOA, r);
  if (err) return err;
  uint32_t cols = eddy_read_u32(r);
  uint8_t drawn = eddy_read_u8(r);
  if (r->err) return r->err;
  if (cols != s->code_cols || drawn > 1) return EDDY_ECORRUPT;
  if (cols) {
    eddy_read(r, s->codes, s->e.n * cols);
    if (r->err) return r->err;
    for (size_t j = 0; j < s->e.n * cols; j++)
      if (s->codes[j] > 1) return EDDY_ECORRUPT;
  }
  s->codes_drawn = drawn;
  return eddy_ensemble_load(&s->e, l, r);
}

static size_t levbag_memory(const eddy_learner_t *l) {
  const levbag_t *s = l->state;
  return sizeof *s + eddy__member_adwins_memory(s->adwins, s->e.n) + s->e.n * s->code_cols +
         eddy_ensemble_memory(&s->e);
}

static void levbag_destroy(eddy_learner_t *l) {
  levbag_t *s = l->state;
  free_adwins(s, s->e.n);
  free(s->codes);
  s->codes = NULL;
  eddy_ensemble_destroy(&s->e);
}

static void levbag_describe(const eddy_learner_t *l, FILE *out) {
  const levbag_params_t *p = l->params;
  const levbag_t *s = l->state;
  fprintf(out,
          "leveraging_bagging (%s): %zu members of %s, lambda %g, %llu changes detected, "
          "%llu members reset, %zu bytes\n",
          algorithm_names[p->algorithm], s->e.n, p->base_learner, p->weight_shrink,
          (unsigned long long)s->changes, (unsigned long long)s->replacements,
          eddy_learner_memory(l));
  for (size_t i = 0; i < s->e.n; i++) {
    char head[160];
    int n = snprintf(head, sizeof head, "error estimate %.6g over %llu instances",
                     eddy_adwin_estimation(s->adwins[i]),
                     (unsigned long long)eddy_adwin_width(s->adwins[i]));
    if (s->codes_drawn && n > 0 && (size_t)n < sizeof head) {
      n += snprintf(head + n, sizeof head - (size_t)n, ", output code ");
      for (uint32_t j = 0; j < s->code_cols && (size_t)n + 1 < sizeof head; j++)
        head[n++] = (char)('0' + s->codes[i * s->code_cols + j]), head[n] = 0;
    }
    eddy_ensemble_describe_member(&s->e, i, head, out);
  }
}

static int levbag_export(const eddy_learner_t *l, eddy_buf_t *b) {
  const levbag_t *s = l->state;
  return eddy_ensemble_export(&s->e, NULL, b);
}

const eddy_learner_type_t eddy_learner_leveraging_bagging = {
    .name = "leveraging_bagging",
    .description = "leveraging bagging: Poisson(6) weights, an ADWIN per member, the worst "
                   "reset on change (MOA LeveragingBag)",
    .tasks = EDDY_CLASSIFICATION,
    .options = levbag_options,
    .params_size = sizeof(levbag_params_t),
    .state_size = sizeof(levbag_t),
    .init = levbag_init,
    .predict = levbag_predict,
    .learn = levbag_learn,
    .reset = levbag_reset,
    .save = levbag_save,
    .load = levbag_load,
    .memory = levbag_memory,
    .destroy = levbag_destroy,
    .describe = levbag_describe,
    .export_json = levbag_export,
    .importance = eddy_ensemble_importance,
    .pass_prefix = EDDY_ENSEMBLE_PREFIX,
};

uint64_t eddy_leveraging_bagging_replacements(const eddy_learner_t *l) {
  if (!l || l->type != &eddy_learner_leveraging_bagging) return 0;
  return ((const levbag_t *)l->state)->replacements;
}
