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
   * own option tables then validate them with the file:line of the pair). */
  const char *pass_prefix;
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

typedef struct eddy_ensemble {
  eddy_learner_t **members;
  size_t n;
  double *votes; /* scratch: one member's prediction */
  size_t votes_cap;
} eddy_ensemble_t;

/* Creates n members of type `base` over l->schema, each with the base.*
 * pairs of l->kv and the seed eddy_seed_derive(l->seed, i). On failure the
 * error names the member key's file:line and nothing is left allocated. */
int eddy_ensemble_init(eddy_ensemble_t *e, const eddy_learner_t *l, const char *base, size_t n,
                       char *errstr, size_t errstr_size);
void eddy_ensemble_destroy(eddy_ensemble_t *e);
/* Member i back to its state after creation, RNG reseeded (MOA's
 * resetLearning). */
void eddy_ensemble_reset_member(eddy_ensemble_t *e, size_t i);
void eddy_ensemble_reset(eddy_ensemble_t *e);
/* Member i learns x with weight x->weight * k (nothing when k <= 0). */
int eddy_ensemble_learn_member(eddy_ensemble_t *e, size_t i, const eddy_instance_t *x, double k);
/* Member i's prediction into e->votes; returns its length or an error. */
int eddy_ensemble_member_predict(eddy_ensemble_t *e, size_t i, const eddy_instance_t *x);
/* 1 when member i predicts x->y (argmax, first on ties: MOA's
 * correctlyClassifies), 0 when not, or a negative error. */
int eddy_ensemble_correct(eddy_ensemble_t *e, size_t i, const eddy_instance_t *x);
/* Adds weight * (member i's votes normalised to sum 1) to out[0..k), as
 * MOA's getVotesForInstance does; a member whose votes sum to 0 adds
 * nothing. Returns 0 or an error. */
int eddy_ensemble_add_vote(eddy_ensemble_t *e, size_t i, const eddy_instance_t *x, double weight,
                           double *out, size_t k);
/* Bagging's vote (MOA's OzaBag and OzaBagAdwin): the sum of the members'
 * normalised votes, normalised; for regression the members' mean. */
int eddy_ensemble_bagging_predict(eddy_ensemble_t *e, const eddy_schema_t *schema,
                                  const eddy_instance_t *x, double *out, size_t out_len);
/* Divides v[0..k) by its sum when the sum is positive. */
void eddy_ensemble_normalize(double *v, size_t k);
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

#endif /* EDDY_LEARNERS_H */
