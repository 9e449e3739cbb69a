/* learners.h: the learner interface, the registry of learner types by the
 * names configs use, and model checkpoints (schema + learner). Adding a
 * learner is one file defining an eddy_learner_type_t plus one line in
 * registry.c. */
#ifndef EDDY_LEARNERS_H
#define EDDY_LEARNERS_H

#include "../engine/eddy.h"

typedef struct eddy_learner eddy_learner_t;

/* A learner type: a static const descriptor. Before init, the generic code
 * allocates `params` (params_size bytes, filled from `options` defaults and
 * then the config's keys) and `state` (state_size zeroed bytes). init
 * allocates whatever else the state needs (sized once: no allocation per
 * record afterwards except when the schema grows or a tree grows); destroy
 * frees that, not params or state. */
typedef struct eddy_learner_type {
  const char *name;
  const char *description;
  unsigned tasks; /* bit set of eddy_task_t values the type supports */
  const eddy_option_t *options; /* its [model] keys; may be NULL */
  size_t params_size;
  size_t state_size;
  int (*init)(eddy_learner_t *l, char *errstr, size_t errstr_size);
  /* Classification: out[c] = P(class c | x) for every class the schema has
   * now (n = eddy_schema_n_classes; classes never learned get 0), returns n,
   * or EDDY_ENOSPC when out_len < n. Regression: out[0] = the predicted
   * value, returns 1. May use scratch in the state; never allocates. */
  int (*predict)(eddy_learner_t *l, const eddy_instance_t *x, double *out, size_t out_len);
  /* Learns x (x->has_y set) with weight x->weight. */
  int (*learn)(eddy_learner_t *l, const eddy_instance_t *x);
  /* Back to the state right after init (same parameters). */
  void (*reset)(eddy_learner_t *l);
  /* The type's own state, after the generic header (name, parameters, RNG). */
  int (*save)(const eddy_learner_t *l, eddy_buf_t *b);
  int (*load)(eddy_learner_t *l, eddy_reader_t *r);
  /* Bytes in use, including state_size and what init allocated. */
  size_t (*memory)(const eddy_learner_t *l);
  void (*destroy)(eddy_learner_t *l);
  /* Optional (NULL): a human-readable description of the model, e.g. a
   * tree's structure or an ensemble's members, for `eddy eval --describe`. */
  void (*describe)(const eddy_learner_t *l, FILE *out);
  /* Optional (NULL): keys starting with this prefix (ensembles: "base.")
   * are not checked against `options`; the type reads them from l->kv
   * itself (ensembles pass them, prefix removed, to their members, whose
   * own option tables then validate them with the file:line of the pair).
   * ".": every key with a dot (model_selection's NAME.KEY). */
  const char *pass_prefix;
  /* Optional (NULL), classification: the class votes as MOA's
   * getVotesForInstance returns them, before predict normalises them (a
   * tree leaf's class counts or naive Bayes scores), in out[0..n) where n,
   * returned, is the length of MOA's array (n <= the schema's classes:
   * classes beyond it have no vote). Has predict's side effects. Ensembles
   * combine members' votes from this, as MOA does, so that their sums
   * (subnormal, infinite) and ties are MOA's; NULL: from predict. */
  int (*votes)(eddy_learner_t *l, const eddy_instance_t *x, double *out, size_t out_len);
  /* 1: an anomaly detector (half_space_trees). It needs no target: learn
   * takes every record, labelled or not (the label is ignored), and predict
   * writes the anomaly score in [0, 1] to out[0] and returns 1, whatever
   * the schema's task. */
  int unsupervised;
  /* Optional (NULL): the name of what answered the last predict (a
   * model_selection's candidate), for the prediction's "served_by". */
  const char *(*served)(const eddy_learner_t *l);
} eddy_learner_type_t;

struct eddy_learner {
  const eddy_learner_type_t *type;
  const eddy_schema_t *schema; /* borrowed: the schema must outlive the learner */
  void *params;
  void *state;
  eddy_rng_t rng;   /* every random choice of this learner */
  uint64_t seed;
  eddy_kvlist_t kv; /* the parameters as given (saved in checkpoints) */
};

/* NULL-terminated, in registry.c. */
extern const eddy_learner_type_t *const eddy_learner_types[];

/* The type registered under name, or NULL. */
const eddy_learner_type_t *eddy_learner_type_find(const char *name);
/* "a, b, c": the registered names, for error messages. */
void eddy_learner_type_names(char *buf, size_t size);

/* Creates a learner of the named type over schema. kv are its parameters
 * (an unknown key or bad value fails naming file:line:key). An unknown name
 * fails with a message that lists the known ones. Free with
 * eddy_learner_free. */
eddy_learner_t *eddy_learner_new(const char *name, const eddy_schema_t *schema,
                                 const eddy_kv_t *kv, size_t n_kv, uint64_t seed, char *errstr,
                                 size_t errstr_size);
/* A fresh learner with l's type, schema and parameters. */
eddy_learner_t *eddy_learner_new_like(const eddy_learner_t *l, uint64_t seed, char *errstr,
                                      size_t errstr_size);
void eddy_learner_free(eddy_learner_t *l);

static inline int eddy_learner_predict(eddy_learner_t *l, const eddy_instance_t *x, double *out,
                                       size_t out_len) {
  return l->type->predict(l, x, out, out_len);
}
static inline int eddy_learner_learn(eddy_learner_t *l, const eddy_instance_t *x) {
  return l->type->learn(l, x);
}
void eddy_learner_reset(eddy_learner_t *l);
/* Bytes in use by the learner, its parameters and the generic header. */
size_t eddy_learner_memory(const eddy_learner_t *l);
/* Prints the type's description, or one line with its name and size. */
void eddy_learner_describe(const eddy_learner_t *l, FILE *out);

/* The learner as one checkpoint section (EDDY_SECTION_LEARNER): type name,
 * seed, parameters, RNG state, body. */
int eddy_learner_save(const eddy_learner_t *l, eddy_buf_t *b);
/* Reads what eddy_learner_save wrote (r is the section's reader). */
eddy_learner_t *eddy_learner_load(eddy_reader_t *r, const eddy_schema_t *schema, char *errstr,
                                  size_t errstr_size);

/* A whole model checkpoint: header, schema section, learner section, CRC. */
int eddy_model_save(const eddy_schema_t *schema, const eddy_learner_t *l, eddy_buf_t *b);
/* Verifies and loads one; the caller frees both *schema and *learner (the
 * learner first). */
int eddy_model_load(const void *p, size_t len, eddy_schema_t **schema, eddy_learner_t **learner,
                    char *errstr, size_t errstr_size);

/* ------------------------------------------------------------ ensembles */
/* Member handling shared by oza_boost, oza_bag and adwin_bagging
 * (learners/ensemble.c). Members are ordinary learners from the registry;
 * an ensemble passes them its `base.`-prefixed keys with the prefix removed
 * (`base.grace_period = 100` -> `grace_period = 100`), so that the members'
 * option tables validate them. */
#define EDDY_ENSEMBLE_PREFIX "base."

/* Where an ensemble's Poisson weights come from (its `random` option).
 * moa: one java.util.Random (eddy_jrandom_t) seeded with the learner's
 * seed, as MOA's AbstractClassifier seeds classifierRandom with its -r
 * randomSeed (default 1, as eddy's [pipeline] seed), drawn in MOA's order,
 * so that an ensemble of members that MOA reproduces exactly (Hoeffding
 * trees) predicts as MOA does, row for row. eddy: eddy's own generator
 * (l->rng, xoshiro256**) from the same seed: the same distribution, other
 * draws. */
enum { EDDY_ENSEMBLE_RANDOM_MOA = 0, EDDY_ENSEMBLE_RANDOM_EDDY = 1 };
extern const char *const eddy_ensemble_random_names[]; /* "moa", "eddy" */
#define EDDY_ENSEMBLE_RANDOM_OPTION(st, field)                                                 \
  EDDY_OPT_ENUM_(st, "random", field, "moa", eddy_ensemble_random_names,                      \
                 "generator of the members' Poisson weights: moa = a java.util.Random seeded " \
                 "with the pipeline seed, as MOA seeds its classifier's random (-r, default "  \
                 "1), drawn in MOA's order: with Hoeffding tree members the predictions are " \
                 "MOA's, row for row; eddy = eddy's own generator from the same seed (the "    \
                 "same distribution, other draws)")

typedef struct eddy_ensemble {
  eddy_learner_t **members;
  size_t n;
  int random;        /* EDDY_ENSEMBLE_RANDOM_* */
  uint64_t seed;     /* the ensemble's seed (reset reseeds jr) */
  eddy_jrandom_t jr; /* MOA's classifierRandom, when random = moa */
  double *votes; /* scratch: one member's prediction */
  size_t votes_cap;
  /* What each member predicted (argmax, or -1) for the last instance the
   * ensemble predicted, while that member has not changed: in prequential
   * use, a member that draws k = 0 need not predict again in learn. */
  int32_t *known;
  double *last_x;
  uint64_t *last_h;
  uint8_t *last_missing;
  size_t last_cap, last_n, last_classes;
  int last_valid;
} eddy_ensemble_t;

/* Creates n members of type `base` over l->schema, each with the base.*
 * pairs of l->kv and the seed eddy_seed_derive(l->seed, i), and seeds the
 * Poisson draws (`random`: EDDY_ENSEMBLE_RANDOM_*). MOA's members are copies
 * of one base learner, whose own randomness (none for a HoeffdingTree)
 * has its own seed; eddy's get distinct seeds. On failure the error names
 * the member key's file:line and nothing is left allocated. */
int eddy_ensemble_init(eddy_ensemble_t *e, const eddy_learner_t *l, const char *base, size_t n,
                       int random, char *errstr, size_t errstr_size);
void eddy_ensemble_destroy(eddy_ensemble_t *e);
/* Member i back to its state after creation, RNG reseeded (MOA's
 * resetLearning). */
void eddy_ensemble_reset_member(eddy_ensemble_t *e, size_t i);
/* Every member reset, and the Poisson draws reseeded (MOA's resetLearning:
 * classifierRandom = new Random(randomSeed)); l is the ensemble. */
void eddy_ensemble_reset(eddy_ensemble_t *e, eddy_learner_t *l);
/* One Poisson(lambda) weight from the ensemble's generator: MOA's
 * MiscUtils.poisson on its java.util.Random (random = moa), else
 * eddy_rng_poisson on l->rng. */
int eddy_ensemble_poisson(eddy_ensemble_t *e, eddy_learner_t *l, double lambda);
/* Call at the start of the ensemble's predict (remembers x, forgets what
 * the members predicted before) and of its learn (keeps what the members
 * predicted when x is the instance last predicted). */
void eddy_ensemble_begin_predict(eddy_ensemble_t *e, const eddy_instance_t *x);
void eddy_ensemble_begin_learn(eddy_ensemble_t *e, const eddy_instance_t *x);
/* Member i learns x with weight x->weight * k (nothing when k <= 0). */
int eddy_ensemble_learn_member(eddy_ensemble_t *e, size_t i, const eddy_instance_t *x, double k);
/* Member i's votes into e->votes (classification: its type's `votes`,
 * MOA's unnormalised votes, when it has one, else its probabilities;
 * regression: its prediction); returns their number or an error. */
int eddy_ensemble_member_predict(eddy_ensemble_t *e, size_t i, const eddy_instance_t *x);
/* 1 when member i predicts x->y (argmax, first on ties: MOA's
 * correctlyClassifies), 0 when not, or a negative error. Uses what the
 * member predicted for x in the ensemble's predict when it has not learned
 * since (x must be the instance given to eddy_ensemble_begin_learn). */
int eddy_ensemble_correct(eddy_ensemble_t *e, size_t i, const eddy_instance_t *x);
/* Adds member i's votes to out[0..k) as MOA's ensembles do: nothing when
 * they do not sum to more than 0; else each times 1 / (the sum of their
 * absolute values), then times weight (when weight != 1: OzaBoost's
 * scaleValues). A subnormal sum makes that factor infinite, as in MOA: the
 * member adds infinity to its classes with a vote and NaN (0 x infinity)
 * to the others. Returns 0 or an error. */
int eddy_ensemble_add_vote(eddy_ensemble_t *e, size_t i, const eddy_instance_t *x, double weight,
                           double *out, size_t k);
/* Bagging's vote (MOA's OzaBag and OzaBagAdwin): the sum of the members'
 * normalised votes (eddy_ensemble_add_vote), made probabilities by
 * eddy_ensemble_finish_vote; for regression the members' mean. */
int eddy_ensemble_bagging_predict(eddy_ensemble_t *e, const eddy_schema_t *schema,
                                  const eddy_instance_t *x, double *out, size_t out_len);
/* Turns a combined vote v[0..k) (MOA returns it as it is; its evaluator
 * takes Utils.maxIndex, the first largest, NaN never larger) into
 * probabilities whose first largest is that same class: v divided by its
 * sum when that is finite and positive (and the class nudged up by an ulp
 * should the division tie it with an earlier one), else one-hot on MOA's
 * class (infinite or NaN votes), or left at 0 when nothing voted. */
void eddy_ensemble_finish_vote(double *v, size_t k);
/* Members as nested learner sections (eddy_learner_save). */
int eddy_ensemble_save(const eddy_ensemble_t *e, eddy_buf_t *b);
/* Replaces the members with the ones saved (their number must match). */
int eddy_ensemble_load(eddy_ensemble_t *e, const eddy_learner_t *l, eddy_reader_t *r);
size_t eddy_ensemble_memory(const eddy_ensemble_t *e); /* members and scratch */
/* "  member i: <head>\n" then the member's own description indented. */
void eddy_ensemble_describe_member(const eddy_ensemble_t *e, size_t i, const char *head,
                                   FILE *out);
/* Boosting's per-member statistics (for tests and describe): the weight of
 * instances member i classified correctly (scms) and wrongly (swms), and
 * its vote weight log(1/beta) (0 when excluded). EDDY_EINVAL when l is not
 * an oza_boost or i is out of range. */
int eddy_oza_boost_member(const eddy_learner_t *l, size_t i, double *scm, double *swm,
                          double *vote_weight);
/* ADWIN bagging: how many members were replaced on a change so far. */
uint64_t eddy_adwin_bagging_replacements(const eddy_learner_t *l);
/* ---------------------------------------------------------- end ensembles */

/* Baseline learner types (the rest are declared in registry.c). */
extern const eddy_learner_type_t eddy_learner_majority;
extern const eddy_learner_type_t eddy_learner_no_change;

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
  EDDY_OPT_BOOL_(st, "standardize", f standardize, "false",                                     \
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

extern const eddy_learner_type_t eddy_learner_logistic_regression;
extern const eddy_learner_type_t eddy_learner_softmax_regression;
extern const eddy_learner_type_t eddy_learner_linear_regression;
extern const eddy_learner_type_t eddy_learner_linear_svm;
extern const eddy_learner_type_t eddy_learner_perceptron;
extern const eddy_learner_type_t eddy_learner_passive_aggressive;

/* ========================== end of linear model core ====================== */

/* ===================================================================
 * Hoeffding tree internals
 * Shared by learners/ht_common.c (pools, MOA numerics), ht_observers.c
 * (attribute observers and split criteria), hoeffding_tree.c (the
 * classification tree core and `hoeffding_tree`),
 * hoeffding_adaptive_tree.c and hoeffding_tree_regressor.c. Not a public
 * API: names start with ht_ and may change.
 *
 * A tree is a pool of nodes indexed by id (int32, -1 = none), not one
 * allocation per node: ids are recycled through a free list, children lists
 * live in a second pool (power-of-two blocks), and the statistics of active
 * leaves (attribute observers) live in a third pool of fixed-stride slots.
 * Save/load is a straight serialization of the pools and memory is their
 * capacity. The learn path allocates only when a pool grows (a node split,
 * a new branch) or when a class or nominal value first appears (the slot
 * stride grows and every slot is re-laid out).
 * =================================================================== */

/* Split tests. Branch 0 of HT_TEST_NUM_LE is x <= value (MOA's
 * NumericAttributeBinaryTest with equalsPassesTest); branch 0 of
 * HT_TEST_NOM_EQ is x == value; HT_TEST_NOM_MULTI has one branch per
 * nominal value index. A missing value has no branch (-1). */
enum { HT_TEST_NUM_LE = 0, HT_TEST_NOM_EQ = 1, HT_TEST_NOM_MULTI = 2 };

/* Node kinds. */
enum { HT_FREE = 0, HT_SPLIT = 1, HT_LEAF = 2, HT_LEAF_INACTIVE = 3 };

/* Split criteria and leaf predictors (option indices). */
enum { HT_INFO_GAIN = 0, HT_GINI = 1 };
enum { HT_PRED_MC = 0, HT_PRED_NB = 1, HT_PRED_NBA = 2 };
/* HAT's Poisson(1) leaf weights: java.util.Random(1) per node as MOA does
 * (number-for-number parity), per-node streams derived from the learner's
 * seed, or none (River's bootstrap_sampling = False). */
enum { HT_BOOT_MOA = 0, HT_BOOT_SEEDED = 1, HT_BOOT_OFF = 2 };

/* Children lists: int32 node ids in blocks of 1 << log2 entries; a freed
 * block goes to the free list of its size (its first entry links on). */
typedef struct ht_kids {
  int32_t *v;
  size_t len, cap;
  int32_t free_head[32];
} ht_kids_t;

void ht_kids_init(ht_kids_t *k);
void ht_kids_free_all(ht_kids_t *k);
/* A block of 1 << log2 entries, all -1; its offset, or a negative code. */
int64_t ht_kids_alloc(ht_kids_t *k, unsigned log2);
void ht_kids_release(ht_kids_t *k, int32_t off, unsigned log2);
/* Smallest log2 with (1 << log2) >= n. */
unsigned ht_log2_ceil(size_t n);
size_t ht_kids_memory(const ht_kids_t *k);
void ht_kids_save(const ht_kids_t *k, eddy_buf_t *b);
int ht_kids_load(ht_kids_t *k, eddy_reader_t *r);

/* Checks a loaded tree's pools (either tree's node type, through the
 * offsets of its fields; alt_off SIZE_MAX when there are no alternates):
 * the root's subtree (children and alternates) is a tree of live nodes,
 * every live node is in it, the free lists hold exactly the free nodes,
 * slots and children blocks without cycles or sharing, and the counts
 * match. Returns 0 or EDDY_ECORRUPT. */
typedef struct ht_pool_view {
  const uint8_t *nodes;
  size_t n_nodes, size;
  size_t kind_off, kids_off, log2_off, n_kids_off, slot_off, alt_off;
} ht_pool_view_t;
int ht_check_pools(const ht_pool_view_t *v, const ht_kids_t *kids, int32_t root, int32_t free_node,
                   size_t n_slots, const int32_t *slot_free, size_t n_slot_free, size_t n_split,
                   size_t n_active, size_t n_inactive);

/* MOA numerics, so that results match MOA's number for number. */
#define HT_NORMAL_CONSTANT 2.5066282746310002 /* Math.sqrt(2 * Math.PI) */
double ht_log2(double a);                       /* moa.core.Utils.log2 */
double ht_normal_probability(double a);         /* weka Statistics.normalProbability */
int ht_java_compare(double a, double b);        /* Double.compare */
/* HAT's per-node java.util.Random(1) (MOA's learning nodes each make a new
 * Random(1)): the 48-bit state of an eddy_jrandom_t (engine/rng.c), which
 * is all of it while only Poisson(1) draws it. */
uint64_t ht_moa_random_state(void);
/* MOA's MiscUtils.poisson(1.0, r) on that state (eddy_jrandom_poisson). */
int ht_poisson1_java(uint64_t *state);
/* The same inversion on a splitmix64 state (HT_BOOT_SEEDED). */
int ht_poisson1_splitmix(uint64_t *state);
/* Hoeffding bound sqrt(R^2 ln(1/delta) / 2n), MOA's formula. */
double ht_hoeffding_bound(double range, double confidence, double n);
/* Prints a number for describe (%.6g, C locale). */
void ht_fmt_value(char *buf, size_t size, double v);

/* The layout of an active leaf's statistics slot (doubles), for a tree
 * with C class slots and V[a] value slots per nominal attribute:
 *   classification, numeric attribute (MOA's Gaussian observer), 5 rows
 *     of C: weight, mean, variance sum, min, max per class;
 *   classification, nominal attribute (MOA's nominal observer): len[C]
 *     (MOA's per-class DoubleVector length: highest value index seen + 1),
 *     sum[C] (weight per class), then counts[V][C];
 *   regression, numeric attribute: 4 header doubles (lo, width, state,
 *     spare) then n_bins rows of 3: weight, mean, M2 of the target;
 *   regression, nominal attribute: V rows of 3 (weight, mean, M2).
 * off[a] is attribute a's first double; `extra` doubles precede them. */
typedef struct ht_layout {
  size_t n_attrs;
  uint32_t C;    /* class slots (classification) */
  uint32_t *V;   /* value slots per attribute (0 for numeric) */
  size_t *off;   /* per attribute */
  size_t extra;  /* doubles before the first attribute (regression: leaf model) */
  size_t stride; /* doubles per slot */
  uint32_t n_bins; /* regression numeric observer bins */
} ht_layout_t;

/* Fills off/stride from C, V and the schema (task decides the blocks). */
void ht_layout_compute(ht_layout_t *L, const eddy_schema_t *s);
/* Copies one slot from layout `from` to layout `to` (same attributes, C and
 * V only grow); new class or value entries start empty. */
void ht_layout_copy_slot(const ht_layout_t *from, const double *src, const ht_layout_t *to,
                         double *dst, const eddy_schema_t *s);
/* An empty slot (what a fresh observer holds). */
void ht_layout_clear_slot(const ht_layout_t *L, double *slot, const eddy_schema_t *s);

/* ----- classification observers (ht_observers.c) ----- */

/* One split candidate: an attribute's best test, or the null split
 * (attr = -1) that pre-pruning adds. */
typedef struct ht_cand {
  int32_t attr;
  int test;
  double value;
  double merit;
  uint32_t n_branches;
  int32_t aux; /* regression numeric: the bin boundary index */
} ht_cand_t;

/* Observes (x[a], class c, weight w) in the slot. */
void ht_obs_update(const ht_layout_t *L, const eddy_schema_t *s, double *slot,
                   const eddy_instance_t *x, uint32_t c, double w);
/* MOA's NaiveBayes.doNaiveBayesPrediction: votes[c] for c < len (the
 * node's class-distribution length), 0 beyond, up to L->C. `init` is 0
 * when the leaf has no observers yet (MOA skips every attribute then). */
void ht_obs_nb_votes(const ht_layout_t *L, const eddy_schema_t *s, const double *slot, int init,
                     const double *dist, uint32_t len, const eddy_instance_t *x, double *votes);
/* MOA's getBestEvaluatedSplitSuggestion for attribute a; 0 and *out filled,
 * or 1 when the attribute offers no candidate. scratch: 2 * C + V[a] * C
 * doubles and V[a] + 2 lengths. */
int ht_obs_best_split(const ht_layout_t *L, const eddy_schema_t *s, const double *slot, size_t a,
                      int criterion, double min_branch_frac, int binary_only, const double *pre,
                      uint32_t pre_len, double *scratch, uint32_t *scratch_len, ht_cand_t *out);
/* The class distributions (n_branches rows of C) and their MOA lengths that
 * the candidate's test gives on the slot's observations. */
void ht_obs_post_dists(const ht_layout_t *L, const eddy_schema_t *s, const double *slot,
                       const ht_cand_t *cand, double *post, uint32_t *post_len);
/* Split criteria (MOA's InfoGainSplitCriterion and GiniSplitCriterion) on
 * rows of C doubles; lens[i] is row i's MOA array length (Gini's 0/0). */
double ht_merit(int criterion, double min_branch_frac, const double *pre, uint32_t C,
                const double *post, const uint32_t *lens, uint32_t n_post);
double ht_merit_range(int criterion, uint32_t pre_len);
/* Branch of x under a test, -1 when the value is missing. */
static inline int ht_branch(int test, size_t attr, double value, const eddy_instance_t *x) {
  if (x->missing && x->missing[attr]) return -1;
  double v = x->x[attr];
  switch (test) {
  case HT_TEST_NUM_LE: return v != v ? -1 : (v <= value ? 0 : 1);
  case HT_TEST_NOM_EQ: return v == value ? 0 : 1;
  default: return (v >= 0 && v < 2147483648.0) ? (int)v : -1;
  }
}
/* Describes branch b of a test ("x <= 0.5", "day = 3", "day != 3"). */
void ht_describe_branch(const eddy_schema_t *s, int test, size_t attr, double value, int b,
                        char *buf, size_t size);

/* ----- regression observers (ht_observers.c) ----- */

/* Weighted mean and sum of squared deviations (River's stats.Var, ddof 1). */
typedef struct ht_var {
  double n, mean, m2;
} ht_var_t;

static inline void ht_var_add(ht_var_t *v, double y, double w) {
  double old = v->mean;
  v->n += w;
  v->mean += (w / v->n) * (y - old);
  v->m2 += w * (y - old) * (y - v->mean);
}
/* Chan et al.'s parallel combination: a += b. */
void ht_var_merge(ht_var_t *a, const ht_var_t *b);
static inline double ht_var_get(const ht_var_t *v) {
  return v->n > 1.0 ? v->m2 / (v->n - 1.0) : 0.0;
}

/* Numeric observer of the regression tree: n_bins equal-width bins of the
 * target's statistics over [lo, lo + n_bins * width); the first value is
 * held alone until a second, different one sets the range, and a value
 * outside doubles the width (merging neighbour bins) toward its side, so
 * memory is fixed and nothing is allocated. Candidates are the bin
 * boundaries (x < boundary goes left). Nominal: statistics per value. */
void htr_obs_update(const ht_layout_t *L, const eddy_schema_t *s, double *slot,
                    const eddy_instance_t *x, double y, double w);
/* River's VarianceReductionSplitCriterion: 0 when a branch has fewer than
 * min_samples; branches with no weight at all are left out (a multiway
 * split has branches only for the values seen). */
double htr_merit(const ht_var_t *pre, const ht_var_t *post, uint32_t n_post,
                 double min_samples);
/* Best candidate of attribute a (as River's splitters choose: the first
 * strictly best merit); 1 when there is none. Merits are variance
 * reductions of what the observer saw (pre is the union of the branches;
 * the `pre` argument is not used: a leaf's own statistics include what it
 * inherited, and River instead puts that share in the right branch).
 * scratch: 2 * n_bins + 2 ht_var_t. */
int htr_obs_best_split(const ht_layout_t *L, const eddy_schema_t *s, const double *slot, size_t a,
                       const ht_var_t *pre, double min_samples, int binary_only,
                       ht_var_t *scratch, ht_cand_t *out);
/* Branch statistics of a candidate (n_branches of them). */
void htr_obs_post_stats(const ht_layout_t *L, const eddy_schema_t *s, const double *slot,
                        const ht_cand_t *cand, ht_var_t *post);

/* ----- the classification tree (hoeffding_tree.c), also HAT's ----- */

typedef struct ht_params {
  int64_t grace_period;
  double split_confidence;
  double tie_threshold;
  int split_criterion;
  int64_t n_split_points;
  int binary_splits;
  int leaf_prediction;
  int64_t nb_threshold;
  int64_t max_depth; /* 0: unlimited */
  int64_t max_byte_size;
  int64_t memory_estimate_period;
  int stop_mem_management;
  int no_preprune;
  double min_branch_frac;
  /* HAT */
  double adwin_delta;
  int bootstrap;
  double switch_significance;
  int64_t drift_window_threshold;
} ht_params_t;

typedef struct eddy_adwin eddy_adwin_t;

typedef struct ht_node {
  uint8_t kind;
  uint8_t test;
  uint8_t kids_log2;
  uint8_t obs_init;  /* the active leaf has observed an instance */
  uint8_t err_used;  /* HAT: the error estimator has seen an instance */
  uint8_t pad[3];
  int32_t attr;
  double value;
  int32_t kids;      /* offset in the children pool; free list link when free */
  int32_t n_kids;    /* branches (MOA's AutoExpandVector size) */
  int32_t slot;      /* statistics slot of an active leaf, else -1 */
  int32_t depth;
  uint32_t dist_len; /* MOA's class-distribution length */
  int32_t alt;       /* HAT: alternate tree, -1 */
  double last_eval;  /* weight seen at the last split attempt */
  double mc_correct, nb_correct; /* naive Bayes adaptive */
  uint64_t rng;      /* HAT: Poisson weight stream */
  eddy_adwin_t *adwin; /* HAT: error estimator (allocated with the node) */
} ht_node_t;

typedef struct ht_tree {
  const eddy_schema_t *schema;
  const ht_params_t *p;
  int adaptive;     /* HAT nodes (ADWIN, alternates) */
  uint64_t seed;    /* HT_BOOT_SEEDED streams */
  ht_layout_t L;
  ht_node_t *nodes;
  size_t n_nodes, cap_nodes;
  int32_t free_node;
  double *dist;     /* n_nodes rows of L.C */
  size_t cap_dist;  /* rows */
  double *stats;    /* n_slots rows of L.stride */
  size_t n_slots, cap_slots;
  int32_t *slot_free; /* stack of free slots (cap_slots entries) */
  size_t n_slot_free;
  ht_kids_t kids;
  int32_t root;
  size_t n_split, n_active, n_inactive;
  int growth_allowed;
  double weight_seen;
  /* MOA's memory estimates (estimateModelByteSizes), with exact sizes */
  double active_est, inactive_est, overhead;
  uint64_t n_created; /* nodes ever created (HT_BOOT_SEEDED streams) */
  uint64_t n_alternates, n_switched, n_pruned; /* HAT */
  uint64_t n_takeovers; /* HAT: alternates whose first split replaced their owner */
  /* scratch, sized with the layout */
  double *votes, *votes2, *post, *obs_scratch;
  uint32_t *post_len, *obs_len;
  ht_cand_t *cands;
  int32_t *walk; /* node ids for traversals (memory management) */
  size_t cap_walk;
  /* prediction cache: where the last predict's instance went and the
   * naive Bayes votes it got, reused by learn when the same instance
   * arrives on an unchanged tree (predict-then-learn); `stamp` counts
   * changes of the tree */
  double *cache_x, *cache_votes;
  uint8_t *cache_miss;
  int32_t cache_leaf, cache_node, cache_parent;
  int cache_branch, cache_nb;
  uint64_t cache_stamp, stamp;
} ht_tree_t;

int ht_tree_init(ht_tree_t *t, const eddy_schema_t *s, const ht_params_t *p, int adaptive,
                 uint64_t seed);
void ht_tree_free(ht_tree_t *t);
void ht_tree_reset(ht_tree_t *t);
/* Grows the layout for x's class and nominal values (learn only). */
int ht_tree_ensure(ht_tree_t *t, const eddy_instance_t *x);
static inline double *ht_dist(const ht_tree_t *t, int32_t id) {
  return t->dist + (size_t)id * t->L.C;
}
static inline double *ht_slot(const ht_tree_t *t, int32_t id) {
  return t->stats + (size_t)t->nodes[id].slot * t->L.stride;
}
static inline int32_t ht_kid(const ht_tree_t *t, int32_t id, int b) {
  const ht_node_t *n = &t->nodes[id];
  return (b >= 0 && b < n->n_kids) ? t->kids.v[n->kids + b] : -1;
}
/* A new active leaf with an initial class distribution (NULL: empty). */
int32_t ht_new_leaf(ht_tree_t *t, const double *dist, uint32_t len, int32_t depth);
/* Frees a node, its children and alternates. */
void ht_free_subtree(ht_tree_t *t, int32_t id);
/* Puts id where (parent, branch) points (the root when parent < 0). */
int ht_set_child(ht_tree_t *t, int32_t parent, int branch, int32_t id);
/* MOA's filterInstanceToLeaf from `from`: the leaf reached, or the split
 * node whose value is missing in x, or -1 when the branch has no child
 * (then *parent and *branch say where). */
int32_t ht_sort(const ht_tree_t *t, int32_t from, const eddy_instance_t *x, int32_t *parent,
                int *branch);
/* ht_sort from the root through the prediction cache: the result of the
 * last predict when x is that instance and the tree has not changed. */
int32_t ht_sort_root(ht_tree_t *t, const eddy_instance_t *x, int32_t *parent, int *branch);
/* Notes where predict's instance went (for ht_sort_root). */
void ht_cache_sort(ht_tree_t *t, const eddy_instance_t *x, int32_t id, int32_t parent,
                   int branch);
/* MOA's getClassVotes of a node (before any HAT weighting), L.C entries. */
void ht_node_votes(ht_tree_t *t, int32_t id, const eddy_instance_t *x, double *votes);
/* Sum of the node's class distribution (MOA's getWeightSeen). */
double ht_weight(const ht_tree_t *t, int32_t id);
/* DoubleVector.maxIndex of the distribution: -1 when empty. */
int ht_dist_max_index(const ht_tree_t *t, int32_t id);
/* LearningNode.learnFromInstance (naive Bayes adaptive counts, class
 * distribution, observers). */
void ht_leaf_learn(ht_tree_t *t, int32_t id, const eddy_instance_t *x, uint32_t c, double w);
/* MOA's attemptToSplit(leaf, parent, branch): 1 when the leaf was replaced
 * (split or deactivated: its id is no longer a leaf, or is freed), 0 when it
 * stays, or a negative code. The new node goes where (parent, branch)
 * points, whatever is there (HAT passes an alternate's owner: see
 * hoeffding_adaptive_tree.c). */
int ht_attempt_split(ht_tree_t *t, int32_t leaf, int32_t parent, int branch);
/* After each instance: the periodic memory check. */
int ht_after_learn(ht_tree_t *t, double w);
/* out[c] for the caller's k classes from raw votes (normalized; one-hot on
 * the first largest when the sum is not a positive number). */
int ht_votes_out(const double *votes, uint32_t C, double *out, size_t out_len, size_t k);
size_t ht_tree_memory(const ht_tree_t *t);
int ht_tree_save(const ht_tree_t *t, eddy_buf_t *b);
int ht_tree_load(ht_tree_t *t, eddy_reader_t *r);
void ht_tree_describe(const ht_tree_t *t, const char *name, FILE *out);
/* Depth (edges from the root to the deepest leaf) and node counts of the
 * main tree (HAT's alternates left out). */
void ht_tree_shape(const ht_tree_t *t, size_t *depth, size_t *nodes, size_t *leaves,
                   size_t *inactive);

extern const eddy_option_t ht_options[];
extern const eddy_option_t hat_options[];

/* ---- naive Bayes (naive_bayes.c): read-only access to its statistics, for
 * tests and model inspection. */
extern const eddy_learner_type_t eddy_learner_naive_bayes;

/* The weight learned for class c (0 for a class without a slot yet), or a
 * negative code when l is not a naive_bayes learner. */
double eddy_naive_bayes_class_weight(const eddy_learner_t *l, size_t c);

/* The Gaussian of numeric attribute attr (schema index) for class c: the
 * weight of its non-missing values, their mean, and the variance the
 * model uses (sample or population as configured, plus the var_smoothing
 * epsilon). Returns 0, EDDY_EINVAL (not naive_bayes, or attr not numeric)
 * or EDDY_ERANGE (no such class slot). */
int eddy_naive_bayes_gaussian(const eddy_learner_t *l, size_t c, size_t attr, double *weight,
                              double *mean, double *var);

/* The var_smoothing epsilon in use (var_smoothing times the largest
 * population variance of a numeric attribute over all rows learned). */
double eddy_naive_bayes_epsilon(const eddy_learner_t *l);

#endif /* EDDY_LEARNERS_H */
