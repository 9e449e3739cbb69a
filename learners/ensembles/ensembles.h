/* learners/ensembles/ensembles.h: the ensembles' internals: members from
 * the registry, their `base.` keys, and the Poisson weights drawn as MOA does. */
#ifndef EDDY_ENSEMBLES_H
#define EDDY_ENSEMBLES_H

#include "detectors/detectors.h"
#include "learners/learners.h"
#include "learners/trees/trees.h"

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
/* Adds votes v[0..n) to out[0..k) as MOA's ensembles do (the part of
 * eddy_ensemble_add_vote after the member's prediction): for forests whose
 * members are not registry learners. */
void eddy_ensemble_add_votes(const double *v, size_t n, double weight, double *out, size_t k);
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
/* The members as JSON: {"family": "ensemble", "members": [{"vote_weight",
 * "learner": eddy_learner_export}]}; weights NULL: every vote counts 1. */
int eddy_ensemble_export(const eddy_ensemble_t *e, const double *weights, eddy_buf_t *b);

/* The importance hook of oza_bag, oza_boost, adwin_bagging and
 * leveraging_bagging (whose state starts with their eddy_ensemble_t): the
 * mean of the members' gains (each member counts the same, whatever its
 * vote weight) and the sum of their splits; EDDY_ENOTSUP when the members
 * have no importance (not trees). */
int eddy_ensemble_importance(const eddy_learner_t *l, double *gain, double *splits, size_t n_attrs);

int eddy_oza_boost_member(const eddy_learner_t *l, size_t i, double *scm, double *swm,
                          double *vote_weight);
/* ADWIN bagging: how many members were replaced on a change so far. */
uint64_t eddy_adwin_bagging_replacements(const eddy_learner_t *l);
/* Leveraging bagging: how many members were reset on a change so far. */
uint64_t eddy_leveraging_bagging_replacements(const eddy_learner_t *l);

/* ------------------------------------------------------ members' ADWINs */
/* member_adwin.c: the ADWINs ensembles keep per member. moa_ints: MOA's
 * 32-bit bucket arithmetic (the `adwin_arithmetic = moa` option). */
eddy_adwin_t *eddy__member_adwin_new(double delta, int moa_ints); /* NULL: out of memory */
/* MOA's ADWINChangeDetector.input: 1 when adding v cut the window and
 * raised the estimate. */
int eddy__member_adwin_change(eddy_adwin_t *a, double v);
/* Replaces *slot (freed) by an ADWIN read from r. */
int eddy__member_adwin_load(eddy_adwin_t **slot, int moa_ints, eddy_reader_t *r);
/* A row of n (the bagging ensembles'); NULL when out of memory. The caller
 * frees it with eddy__member_adwins_free. */
eddy_adwin_t **eddy__member_adwins_new(size_t n, double delta, int moa_ints);
void eddy__member_adwins_free(eddy_adwin_t **a, size_t n);
void eddy__member_adwins_reset(eddy_adwin_t **a, size_t n);
/* The member with the highest error estimate, first on ties; n when every
 * estimate is 0 (MOA's OzaBagAdwin and LeveragingBag). */
size_t eddy__member_adwins_worst(eddy_adwin_t *const *a, size_t n);
/* n, then each; load refuses another n. */
void eddy__member_adwins_save(eddy_adwin_t *const *a, size_t n, eddy_buf_t *b);
int eddy__member_adwins_load(eddy_adwin_t **a, size_t n, int moa_ints, eddy_reader_t *r);
size_t eddy__member_adwins_memory(eddy_adwin_t *const *a, size_t n); /* the row included */

/* ------------------------------------------------------ forest members */
/* forest_member.c: the forests' members (adaptive_random_forest,
 * streaming_random_patches, adaptive_random_forest_regressor). The watch:
 * MOA's warning and drift ChangeDetectors (ADWIN) on one value per
 * instance, the member's evaluator (classification: the weight of its right
 * predictions over their number) and its counts. */
/* How ARF's features_per_tree is read (MOA's -o), M the number of
 * attributes: specified_m (m itself; negative: M - m), sqrt_m1
 * (round(sqrt(M)) + 1), m_sqrt_m1 (M - round(sqrt(M) + 1)), percentage
 * (round(M * m / 100); negative: M * (100 + m) / 100); then clamped to
 * [1, M] (MOA's initEnsemble, Java's Math.round). */
enum { EDDY__FOREST_M = 0, EDDY__FOREST_SQRT, EDDY__FOREST_SQRT_INV, EDDY__FOREST_PERCENT };
extern const char *const eddy__forest_mode_names[];
int64_t eddy__forest_subspace_size(int mode, int64_t m, size_t n_attrs);
/* The seed of member i's subspace generator: MOA's trees all use their
 * default randomSeed 1; random = eddy gives each member its own. */
int64_t eddy__forest_tree_seed(int random, uint64_t seed, size_t i);
/* `adwin_arithmetic`'s values: moa (MOA's 32-bit ints) and exact. */
enum { EDDY__ADWIN_MOA = 0, EDDY__ADWIN_EXACT = 1 };
extern const char *const eddy__adwin_arithmetic_names[];

/* The keys of MOA's AdaptiveRandomForest and of its regressor, for a
 * params struct with the fields they name; MOA's defaults. The classifier
 * puts weighted_vote between the two parts. */
#define EDDY__ARF_OPTIONS(st)                                                                    \
    EDDY_OPT_INT_(st, "ensemble_size", ensemble_size, "100", 1, 100000,                          \
                  "number of trees (MOA -s)"),                                                   \
    EDDY_OPT_ENUM_(st, "features_mode", features_mode, "percentage", eddy__forest_mode_names,    \
                   "how features_per_tree is read (MOA -o), M being the number of attributes: "  \
                   "specified_m (m itself; negative: M - m), sqrt_m1 (round(sqrt(M)) + 1), "     \
                   "m_sqrt_m1 (M - round(sqrt(M) + 1)), percentage (round(M * m / 100); "        \
                   "negative: M * (100 + m) / 100)"),                                            \
    EDDY_OPT_INT_(st, "features_per_tree", features_per_tree, "60", -1e9, 1e9,                   \
                  "m: attributes each leaf considers for its splits (MOA -m)"),                  \
    EDDY_OPT_DOUBLE_(st, "lambda", lambda, "6", 1, 1e300,                                        \
                     "lambda of the trees' Poisson weights (MOA -a)"),                           \
    EDDY_OPT_DOUBLE_(st, "drift_delta", drift_delta, "0.001", 0, 1,                              \
                     "delta of each tree's ADWIN drift detector (MOA -x ADWINChangeDetector "    \
                     "-a)"),                                                                     \
    EDDY_OPT_DOUBLE_(st, "warning_delta", warning_delta, "0.01", 0, 1,                           \
                     "delta of each tree's ADWIN warning detector, which starts a background "   \
                     "tree (MOA -p ADWINChangeDetector -a)")
#define EDDY__ARF_DRIFT_OPTIONS(st)                                                              \
    EDDY_OPT_BOOL_(st, "drift_detection", drift_detection, "true",                               \
                   "reset a tree when its drift detector fires (MOA: off with -u, which also "   \
                   "turns the background trees off)"),                                           \
    EDDY_OPT_BOOL_(st, "background_learner", background_learner, "true",                         \
                   "a warning starts a background tree that replaces the tree on drift (MOA: "   \
                   "off with -q: the tree is reset instead)"),                                   \
    EDDY_OPT_ENUM_(st, "adwin_arithmetic", adwin_arithmetic, "moa",                              \
                   eddy__adwin_arithmetic_names,                                                 \
                   "moa: the detectors' ADWINs multiply bucket sizes in 32-bit ints as MOA's "   \
                   "ADWIN.java does (they overflow on windows over ~130,000 values); exact: in " \
                   "doubles")

typedef struct eddy__forest_watch {
  eddy_adwin_t *drift, *warn;
  double eval_sum, eval_len;
  uint64_t n_drifts, n_warnings;
} eddy__forest_watch_t;

enum { EDDY__FOREST_WARNING = 1, EDDY__FOREST_DRIFT = 2 };
/* 0 or EDDY_ENOMEM (then eddy__forest_watch_free cleans up). */
int eddy__forest_watch_init(eddy__forest_watch_t *w, double drift_delta, double warning_delta,
                            int moa_ints);
void eddy__forest_watch_free(eddy__forest_watch_t *w);
/* Detectors, evaluator and counts as new. */
void eddy__forest_watch_reset(eddy__forest_watch_t *w);
/* v into the warning detector (when `warnings`) then the drift detector;
 * EDDY__FOREST_* bits of what fired. A warning is counted and its detector
 * renewed; a drift is counted and the evaluator starts over, but the drift
 * detector is the caller's to renew (eddy__forest_watch_drifted), as MOA's
 * members differ there. */
int eddy__forest_watch_input(eddy__forest_watch_t *w, double v, int warnings);
/* After a drift: a new drift detector, and a new warning one when the
 * background learner took over (swapped: its detectors are fresh). */
void eddy__forest_watch_drifted(eddy__forest_watch_t *w, int swapped);
/* The accuracy in percent when weighted and above 0, else 1. */
double eddy__forest_watch_vote_weight(const eddy__forest_watch_t *w, int weighted);
double eddy__forest_watch_accuracy(const eddy__forest_watch_t *w); /* 0 before any */
/* Checkpoint pieces (the forests lay them out differently). */
void eddy__forest_watch_save_eval(const eddy__forest_watch_t *w, eddy_buf_t *b);
int eddy__forest_watch_load_eval(eddy__forest_watch_t *w, eddy_reader_t *r);
void eddy__forest_watch_save_counts(const eddy__forest_watch_t *w, eddy_buf_t *b);
int eddy__forest_watch_load_counts(eddy__forest_watch_t *w, eddy_reader_t *r);
void eddy__forest_watch_save_detectors(const eddy__forest_watch_t *w, eddy_buf_t *b);
int eddy__forest_watch_load_detectors(eddy__forest_watch_t *w, int moa_ints, eddy_reader_t *r);
size_t eddy__forest_watch_memory(const eddy__forest_watch_t *w); /* the two detectors */

/* A classification forest's member: its tree, the background tree
 * (initialised always; in use while has_bkg) and its watch. */
typedef struct eddy__forest_member {
  eddy__ht_tree_t tree, bkg;
  int has_bkg;
  eddy__forest_watch_t w;
} eddy__forest_member_t;

/* Both trees and the watch; on failure eddy__forest_member_free cleans up
 * (the member must have been zeroed). */
int eddy__forest_member_init(eddy__forest_member_t *m, const eddy_schema_t *s,
                             const eddy__ht_params_t *p, uint64_t seed, double drift_delta,
                             double warning_delta, int moa_ints);
void eddy__forest_member_free(eddy__forest_member_t *m);
/* Trees empty, no background tree, the watch as new. */
void eddy__forest_member_reset(eddy__forest_member_t *m);
/* The evaluator on what the tree predicts for x before learning it. */
void eddy__forest_member_score(eddy__forest_member_t *m, const eddy_instance_t *x);
/* A warning: the background tree starts empty. */
void eddy__forest_member_start_bkg(eddy__forest_member_t *m);
/* The background tree takes over; the old tree becomes the (empty, unused)
 * background. */
void eddy__forest_member_swap(eddy__forest_member_t *m);
/* The tree's normalised vote times its vote weight, added to out[0..k). */
void eddy__forest_member_add_vote(eddy__forest_member_t *m, const eddy_instance_t *x,
                                  int weighted, double *out, size_t k);
size_t eddy__forest_member_memory(const eddy__forest_member_t *m); /* beyond its struct */
/* `{"vote_weight": w, "accuracy": a` (with a comma before when i > 0). */
void eddy__forest_member_export_head(const eddy__forest_member_t *m, int weighted, size_t i,
                                     eddy_buf_t *b);
/* ---------------------------------------------------------- end ensembles */

#endif /* EDDY_ENSEMBLES_H */
