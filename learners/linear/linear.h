/* learners/linear/linear.h: the linear models' shared core (encoding,
 * scaling, optimizers, penalties), used by linear.c and linear_*.c. */
#ifndef EDDY_LINEAR_H
#define EDDY_LINEAR_H

#include "learners/learners.h"

/* ============================================================================
 * linear model core (used by learners/linear.c and learners/linear_*.c)
 *
 * The online linear models (logistic, softmax and linear regression, linear
 * SVM, perceptron, passive-aggressive) share one core in learners/linear.c:
 *   - features: each numeric attribute has a dense weight (contiguous, in
 *     attribute order); each nominal attribute is one-hot through feature
 *     hashing: slot eddy_hash_mix(attribute index, h[i]) & (2^hash_bits - 1)
 *     of a hashed block that exists only when the schema has a nominal
 *     attribute. A missing value is skipped: it adds nothing to the margin
 *     and no loss gradient (with `standardize`, that is the running mean
 *     imputed, whose standardized value is 0).
 *   - online standardization of numeric attributes (Welford's running mean
 *     and population variance, computed as River's StandardScaler does, so
 *     that standardize = true is River's StandardScaler() | model): learn
 *     updates the statistics with x and then uses them, predict only uses
 *     them; a feature of variance 0 gives 0.
 *   - optimizers with per-weight state: sgd (constant or inverse-scaling
 *     rate), adagrad, rmsprop, adam, ftrl (FTRL-Proximal, McMahan et al.
 *     2013) and vw (adaptive + normalized per-feature rates in the manner of
 *     Vowpal Wabbit's default update, without its importance-invariant
 *     step). The intercept always takes plain SGD steps at intercept_lr
 *     (River), scaled by the same schedule as the weights (scikit-learn).
 *   - penalties: l2 adds l2 * w to each present weight's gradient (River;
 *     for sgd that is scikit-learn's w *= max(0, 1 - eta * l2)); l1 is the
 *     cumulative truncation of Tsuruoka et al. (2009), applied lazily to the
 *     features of each event, so untouched hashed weights stay exact zeros;
 *     the penalty accrues l1 x the base rate per event (River: l1 x the
 *     optimizer's learning_rate), so adaptive optimizers, whose per-weight
 *     steps shrink below the base rate, want a smaller l1;
 *     both together are the elastic net. With ftrl, l1 and l2 are FTRL's own
 *     lambda_1 and lambda_2.
 *   - class weights: "" (none), "balanced" (n / (k * n_c) from the counts
 *     seen so far, the current event included) or "label:weight, ...";
 *     the event's weight multiplies the loss gradient (and a PA step).
 * The state of every linear learner is an eddy_linear_t (state_size =
 * sizeof(eddy_linear_t)), so reset, save, load, memory, describe and
 * destroy are shared (eddy_linear_learner_*). Nothing here allocates per
 * event: learn allocates only when softmax meets a new class index or a
 * class weight is first looked up for a new class (eddy_grow).
 * ========================================================================== */

typedef enum {
  EDDY_LIN_SGD = 0,
  EDDY_LIN_ADAGRAD,
  EDDY_LIN_RMSPROP,
  EDDY_LIN_ADAM,
  EDDY_LIN_FTRL,
  EDDY_LIN_VW
} eddy_linear_optimizer_t;

typedef enum { EDDY_LIN_CONSTANT = 0, EDDY_LIN_INVSCALING } eddy_linear_schedule_t;

/* The options every linear learner has (its params struct embeds this). */
typedef struct eddy_linear_opts {
  int optimizer;        /* eddy_linear_optimizer_t */
  double learning_rate; /* 0: the optimizer's default (see EDDY_LINEAR_OPTIONS) */
  int schedule;         /* eddy_linear_schedule_t */
  double power_t;
  double l1, l2;
  int intercept;
  double intercept_lr;
  int64_t hash_bits;
  int standardize;
  double clip_gradient;
  double beta_1, beta_2, rho, epsilon, ftrl_beta;
  char class_weight[256];
} eddy_linear_opts_t;

extern const char *const eddy_linear_optimizer_names[]; /* "sgd", ... (NULL-terminated) */
extern const char *const eddy_linear_schedule_names[];  /* "constant", "invscaling" */

/* The option rows of eddy_linear_opts_t inside params struct `st` (field
 * path `f`, e.g. lin. or nothing); sgd_lr / ilr are the learner's River
 * defaults as text, lr_help says where they come from. Classification
 * learners add EDDY_LINEAR_CLASS_WEIGHT. */
#define EDDY_LINEAR_PENALTY_OPTIONS(st, f, l2_def, l2_help)                                     \
  EDDY_OPT_DOUBLE_(st, "l1", f l1, "0", 0, 1e300,                                               \
                   "L1 penalty, cumulative truncation (Tsuruoka et al. 2009); with ftrl, "      \
                   "FTRL's lambda_1. River's default 0"),                                       \
  EDDY_OPT_DOUBLE_(st, "l2", f l2, l2_def, 0, 1e300, l2_help)
#define EDDY_LINEAR_FEATURE_OPTIONS(st, f)                                                      \
  EDDY_OPT_INT_(st, "hash_bits", f hash_bits, "18", 1, 28,                                      \
                "nominal attributes are one-hot hashed into 2^hash_bits weights per output "    \
                "(VW's default -b 18); no hashed block without nominal attributes"),            \
  EDDY_OPT_BOOL_(st, "standardize", f standardize, "true",                                      \
                 "standardize numeric attributes online (Welford mean and variance, as a River " \
                 "StandardScaler before the model); a missing value then counts as the mean")
#define EDDY_LINEAR_OPTIONS(st, f, sgd_lr, ilr, lr_help, l2_def, l2_help)                       \
  EDDY_OPT_ENUM_(st, "optimizer", f optimizer, "sgd", eddy_linear_optimizer_names,              \
                 "sgd; adagrad, rmsprop, adam (River's); ftrl (FTRL-Proximal); vw (adaptive "   \
                 "normalized per-feature rates, as Vowpal Wabbit's default)"),                  \
  EDDY_OPT_DOUBLE_(st, "learning_rate", f learning_rate, "0", 0, 1e300, lr_help),               \
  EDDY_OPT_ENUM_(st, "schedule", f schedule, "constant", eddy_linear_schedule_names,            \
                 "constant, or invscaling: rate / t^power_t at the t-th learned event "         \
                 "(scikit-learn's invscaling, River's InverseScaling); not used by ftrl"),      \
  EDDY_OPT_DOUBLE_(st, "power_t", f power_t, "0.5", 0, 10, "exponent of invscaling"),           \
  EDDY_LINEAR_PENALTY_OPTIONS(st, f, l2_def, l2_help),                                          \
  EDDY_OPT_BOOL_(st, "intercept", f intercept, "true", "learn an intercept"),                   \
  EDDY_OPT_DOUBLE_(st, "intercept_lr", f intercept_lr, ilr, 0, 1e300,                           \
                   "the intercept's plain SGD rate (River's intercept_lr, default " ilr         \
                   "), scaled by the schedule"),                                                \
  EDDY_LINEAR_FEATURE_OPTIONS(st, f),                                                           \
  EDDY_OPT_DOUBLE_(st, "clip_gradient", f clip_gradient, "1e12", 0, 1e300,                      \
                   "clips the loss derivative to [-c, c] (scikit-learn's MAX_DLOSS, River's "   \
                   "clip_gradient)"),                                                           \
  EDDY_OPT_DOUBLE_(st, "beta_1", f beta_1, "0.9", 0, 1, "adam: first moment decay (River)"),   \
  EDDY_OPT_DOUBLE_(st, "beta_2", f beta_2, "0.999", 0, 1, "adam: second moment decay (River)"), \
  EDDY_OPT_DOUBLE_(st, "rho", f rho, "0.9", 0, 1, "rmsprop: decay (River)"),                    \
  EDDY_OPT_DOUBLE_(st, "epsilon", f epsilon, "1e-8", 0, 1,                                      \
                   "adagrad, rmsprop, adam: denominator guard (River)"),                        \
  EDDY_OPT_DOUBLE_(st, "ftrl_beta", f ftrl_beta, "1", 0, 1e300, "ftrl: beta (River's default 1)")
#define EDDY_LINEAR_CLASS_WEIGHT(st, f)                                                         \
  EDDY_OPT_STRING_(st, "class_weight", f class_weight, "",                                      \
                   "per-class loss weights: empty (all 1), balanced (n / (k * n_c) over the "   \
                   "stream so far), or label:weight, ... (unlisted classes 1)")

/* Class-weight spec parsed at init. */
typedef struct eddy_linear_cw {
  char *label;
  double weight;
} eddy_linear_cw_t;

typedef struct eddy_linear {
  eddy_linear_opts_t o; /* resolved: learning_rate filled in */
  size_t n_attrs;       /* attributes at init; instances must have at least these */
  size_t n_num, n_nom;
  uint32_t *num_attr, *nom_attr; /* attribute index of each numeric / nominal feature */
  size_t n_hash;                 /* 2^hash_bits when n_nom > 0, else 0 */
  uint64_t hash_mask;
  size_t stride;        /* weights per output: n_num dense, then n_hash hashed */
  size_t n_out, n_out0; /* outputs now / after init (softmax: 0, others 1) */
  double *w;            /* n_out * stride */
  double *b;            /* intercepts, n_out */
  double *acc1, *acc2;  /* per-weight optimizer state (NULL when unused) */
  double *q;            /* per-weight L1 penalty applied so far (when l1 > 0, not ftrl) */
  double *fnorm;        /* vw: per-feature max |x| seen, stride */
  uint8_t *seen;        /* per output: learned at least once (softmax classes) */
  double *zbuf, *ebuf;  /* per output: margins, softmax exps (see eddy_linear_scores) */
  size_t cap_w, cap_a1, cap_a2, cap_q, cap_b, cap_seen, cap_z, cap_e;
  /* online standardization (numeric features): count, mean, variance, sd */
  double *sc_n, *sc_mean, *sc_var, *sc_sd;
  /* the encoded event (scratch) */
  double *xv;    /* n_num values (standardized, 0 when missing) */
  uint32_t *hot; /* hashed slots of the present nominal values */
  size_t n_hot;
  /* the event whose margins are in zbuf: learn after predict on the same
   * event reuses them (same bits); any change of the weights drops it */
  double *xv_c;
  uint32_t *hot_c;
  size_t n_hot_c;
  int z_ok, e_ok;
  double e_tot;
  /* step state */
  uint64_t t;          /* events learned */
  double u;            /* L1: total penalty per unit rate so far */
  double b1t, b2t;     /* adam: beta_1^t, beta_2^t */
  double vw_weight, vw_norm; /* vw: total weight and weighted sum of normalized |x|^2 */
  /* per-event values set by eddy_linear_begin */
  double wt, eta, eta_b, decay, eta_adam, vw_mult;
  /* class weights */
  int cw_mode; /* 0 none, 1 balanced, 2 list */
  eddy_linear_cw_t *cw_list;
  size_t cw_n;
  double *cw_cache; /* per class index, resolved */
  size_t cw_cap, cw_resolved;
  double *cw_count; /* balanced: events per class */
  size_t cw_count_cap, cw_count_n, cw_classes; /* n: highest class index met + 1 */
  double cw_total;
  int warned; /* binary learners: a third class was refused (logged once) */
} eddy_linear_t;

/* Sets up m (zeroed) for schema s: n_out outputs (1, or 0 for softmax, whose
 * outputs grow), sgd_lr the learner's sgd rate when learning_rate is 0. */
int eddy_linear_init(eddy_linear_t *m, const eddy_schema_t *s, const eddy_linear_opts_t *o,
                     size_t n_out, double sgd_lr, char *errstr, size_t errstr_size);
void eddy_linear_destroy(eddy_linear_t *m);
void eddy_linear_reset(eddy_linear_t *m);
size_t eddy_linear_memory(const eddy_linear_t *m);
int eddy_linear_save(const eddy_linear_t *m, eddy_buf_t *b);
int eddy_linear_load(eddy_linear_t *m, eddy_reader_t *r);
/* Makes outputs 0..n-1 exist (zero weights); allocates only when n grows. */
int eddy_linear_grow(eddy_linear_t *m, size_t n);
/* Encodes x into m's scratch (learning: update the standardizer first).
 * EDDY_EINVAL when x has fewer attributes than the schema had at init. */
int eddy_linear_encode(eddy_linear_t *m, const eddy_instance_t *x, int learning);
/* w_k . x + b_k on the encoded event. */
double eddy_linear_margin(const eddy_linear_t *m, size_t k);
/* z[k] = eddy_linear_margin(m, k) for every output k < n_out, bit for bit,
 * computed together (faster for many outputs); outputs with only[k] == 0
 * get 0 (only may be NULL). */
void eddy_linear_margins(const eddy_linear_t *m, const uint8_t *only, double *z);
/* The margins of every output for the encoded event (m->zbuf). When the
 * encoded event equals the one of the last call and no weight has changed
 * since (predict, then learn on the same event), they are reused: the bits
 * are the same either way, only the work is saved. */
const double *eddy_linear_scores(eddy_linear_t *m);
/* exp(z_k - max) over the seen outputs (0 for the others) of the scores,
 * with their sum in *tot; cached with the scores. */
const double *eddy_linear_softmax_exps(eddy_linear_t *m, double *tot);
/* exp(-z_0) of the scores (binary learners' sigmoid), cached with them. */
double eddy_linear_exp_neg0(eddy_linear_t *m);
/* Squared norm of the encoded event (the intercept's 1 not included). */
double eddy_linear_sqnorm(const eddy_linear_t *m);
/* One learning step on the encoded event with example weight wt (class
 * weight x sample weight): begin once, update each output with its loss
 * derivative d(loss)/d(margin), in any order. */
void eddy_linear_begin(eddy_linear_t *m, double wt);
void eddy_linear_update(eddy_linear_t *m, size_t k, double dloss);
/* w_k += step * x, b_k += step when the intercept is on (passive-aggressive). */
void eddy_linear_add(eddy_linear_t *m, size_t k, double step);
/* The class weight of class c for this event (balanced: counts it).
 * Returns 1.0 without class weights; negative (EDDY_ENOMEM) on failure. */
double eddy_linear_class_weight(eddy_linear_t *m, const eddy_schema_t *s, size_t c);
/* Binary learners: *pos = 1 for class index 1, 0 for class 0. A third class
 * is EDDY_ENOTSUP, logged once naming the class and softmax_regression;
 * no label is EDDY_EINVAL. */
int eddy_linear_binary_label(eddy_learner_t *l, const eddy_instance_t *x, int *pos);
/* The start of a binary learner's learn: the label (as above), x encoded
 * for learning, and *cw its class weight. 0 or a negative EDDY_E*. */
int eddy_linear_binary_prepare(eddy_learner_t *l, const eddy_instance_t *x, int *pos, double *cw);
/* predict of a binary learner: out[0] = 1 - p, out[1] = p, 0 for any
 * other class; p = sigmoid(margin). */
int eddy_linear_predict_binary(eddy_learner_t *l, const eddy_instance_t *x, double *out,
                               size_t out_len);
double eddy_sigmoid(double z);

/* The shared learner functions (state is an eddy_linear_t). */
void eddy_linear_learner_reset(eddy_learner_t *l);
int eddy_linear_learner_save(const eddy_learner_t *l, eddy_buf_t *b);
int eddy_linear_learner_load(eddy_learner_t *l, eddy_reader_t *r);
size_t eddy_linear_learner_memory(const eddy_learner_t *l);
void eddy_linear_learner_destroy(eddy_learner_t *l);
void eddy_linear_learner_describe(const eddy_learner_t *l, FILE *out);


/* The model as JSON (linear_export.c), every linear learner's export_json. */
int eddy_linear_export(const eddy_learner_t *l, eddy_buf_t *b);

/* ========================== end of linear model core ====================== */

#endif /* EDDY_LINEAR_H */
