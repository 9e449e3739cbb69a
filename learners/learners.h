/* learners.h: the learner interface, the registry of learner types by the
 * names configs use, and model checkpoints (schema + learner). Adding a
 * learner is one file defining an eddy_learner_type_t plus one line in
 * registry.c. */
#ifndef EDDY_LEARNERS_H
#define EDDY_LEARNERS_H

#include "core/core.h"

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
  /* Optional (NULL): the model's own state as one JSON object (a linear
   * model's weights by feature, naive Bayes' statistics, a tree's nodes,
   * an ensemble's members), for `eddy models --export`. */
  int (*export_json)(const eddy_learner_t *l, eddy_buf_t *b);
  /* Optional (NULL): feature importance as mean decrease in impurity,
   * derived from the model as it stands (docs/HACKING.md, "Feature
   * importance"): gain[a] = the impurity decrease of the splits on
   * attribute a, each weighted by the share of the weight seen that reached
   * it; splits[a] = how many splits test a. Fills both (n_attrs entries,
   * the schema's attribute count); 0, or EDDY_ENOTSUP when the model has
   * none (an ensemble whose members are not trees). May allocate (it is
   * not on the record path). */
  int (*importance)(const eddy_learner_t *l, double *gain, double *splits, size_t n_attrs);
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

/* The type's importance hook with both arrays zeroed first: 0, or
 * EDDY_ENOTSUP when the type has none. */
int eddy_learner_importance(const eddy_learner_t *l, double *gain, double *splits, size_t n_attrs);
/* The features ranked by importance (normalised to sum 1) with their
 * number of splits, for `--describe`; nothing when the learner has no
 * importance. */
void eddy_learner_describe_importance(const eddy_learner_t *l, FILE *out);
/* The same ranking as JSON, [{"name", "importance", "splits"}] (the first
 * max features; 0: all), or null when the learner has none. */
void eddy_learner_importance_json(const eddy_learner_t *l, size_t max, eddy_buf_t *b);

/* The learner as one JSON object: {"type": NAME, "seed": S, "params":
 * {KEY: VALUE}, "attributes": [{"name", "kind", "values"}], "target":
 * {"name", "classes"}, "model": the type's export_json, or null when the
 * type has none, "importance": [{"name", "importance", "splits"}] ranked,
 * or null}. The format is documented in the README ("Model export"). */
int eddy_learner_export(const eddy_learner_t *l, eddy_buf_t *b);
/* The schema part of it alone: "attributes": [...], "target": {...}
 * (no braces), for the family exports that name features. */
void eddy_schema_export(const eddy_schema_t *s, eddy_buf_t *b);

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

#endif /* EDDY_LEARNERS_H */
