/* connectors/aggregates.h: per-entity aggregates: their specs, state layout,
 * join and update; the state stores keep their doubles. */
#ifndef EDDY_AGGREGATES_H
#define EDDY_AGGREGATES_H

#include "core/core.h"

/* ------------------------------------------------------------ aggregates */

/* Per-entity aggregates ([state] aggregates), joined into each record as
 * numeric features before its prediction and updated after it. A spec list
 * such as `count(amount), mean(amount), ewma(amount, 0.1), since_last(ts)`
 * becomes a fixed layout of doubles per entity (the state a store keeps)
 * and one output feature per aggregate, named:
 *
 *   count(F) F_count     records where F is present   (0 for a new entity)
 *   count(*) count       every record                 (0)
 *   sum(F)   F_sum       sum of F                     (0)
 *   mean(F)  F_mean      mean of F                    (missing when none)
 *   min(F)   F_min       smallest F                   (missing)
 *   max(F)   F_max       largest F                    (missing)
 *   ewma(F, A) F_ewma_A  A*x + (1-A)*previous, started at the first x, as
 *                        pandas' ewm(alpha=A, adjust=False)   (missing)
 *   last(F)  F_last      F of the entity's previous record    (missing)
 *   last(F, N) F_last_N  F of the entity's record N back (N slots of
 *                        state)                               (missing)
 *   since_last(T) T_since_last  seconds between T of this record and of
 *                        the previous one with T      (missing)
 *   since_last()  since_last    the same on the record time
 *
 * (A is written in its shortest exact form: ewma(amount, 0.1) is
 * amount_ewma_0.1.) A join sees the state as it was BEFORE the record.
 * F may be the target: in regression its value, in classification its
 * class index (0, 1, ... in the order of values.CLASS), so last(class) is
 * the class of the previous labelled record and, with two classes,
 * ewma(class, A) the recent share of the second one. Records without a
 * label leave such aggregates unchanged, and so do records whose label is
 * revealed later (the record path hides it from the update).
 *
 * The entity is the record's key ([features] key), or under [state]
 * scope = stream the whole stream (EDDY_STREAM_KEY for every record).
 *
 * Windows (window_ms > 0) apply to count, sum, mean, min and max; ewma,
 * last and since_last always cover the whole history. The record time
 * (eddy_aggs_time_ms: the [features] timestamp field, else the caller's
 * fallback, e.g. the Kafka message timestamp) picks a bucket of width
 * window_ms (tumbling) or window_ms / window_buckets (sliding); the
 * window is the record's bucket alone (tumbling: the state resets when a
 * record's window index changes) or it and the window_buckets - 1 before
 * it (sliding: between (B-1)/B and all of window_ms of history, kept as B
 * buckets per aggregate in a ring). Buckets follow the largest time seen
 * per entity: a late record counts in the entity's newest bucket. */
typedef enum {
  EDDY_AGG_COUNT,
  EDDY_AGG_SUM,
  EDDY_AGG_MEAN,
  EDDY_AGG_MIN,
  EDDY_AGG_MAX,
  EDDY_AGG_EWMA,
  EDDY_AGG_LAST,
  EDDY_AGG_SINCE_LAST
} eddy_agg_kind_t;

/* Where an aggregate's input lives in a decoded record (after bind). */
typedef enum {
  EDDY_AGG_SRC_UNBOUND = 0,
  EDDY_AGG_SRC_ALL,    /* count(*): every record */
  EDDY_AGG_SRC_ATTR,   /* in.x[index] unless in.missing[index] */
  EDDY_AGG_SRC_AUX,    /* aux[index] when aux_set[index] */
  EDDY_AGG_SRC_TIME,   /* the timestamp field (ts when has_ts) */
  EDDY_AGG_SRC_RTIME,  /* since_last(): the record time given to join/update */
  EDDY_AGG_SRC_TARGET, /* the target (y when has_y): a value, or a class index */
  EDDY_AGG_SRC_WEIGHT  /* instance weight */
} eddy_agg_src_t;

typedef struct eddy_agg {
  eddy_agg_kind_t kind;
  char *field;     /* input field; NULL for count(*) and since_last() */
  double alpha;    /* ewma */
  uint32_t lag;    /* last: N records back (1: the previous one); its slots */
  char *name;      /* output feature name */
  size_t slot;     /* first state slot */
  int windowed;    /* its slots repeat per bucket */
  int src;         /* eddy_agg_src_t, set by eddy_aggs_bind */
  int src_index;
  int attr;        /* attribute index of the output, -1 before bind */
} eddy_agg_t;

typedef struct eddy_aggs {
  eddy_agg_t *v;
  size_t n;
  size_t n_slots;     /* doubles in one entity's state: slot 0 is the newest bucket index */
  int64_t window_ms;  /* 0: no window */
  uint32_t buckets;   /* 1 (tumbling, or no window) or window_buckets (sliding) */
  double bucket_ms;   /* window_ms / buckets */
  int time_unit;      /* eddy_time_unit_t */
  char **inputs;      /* distinct input fields, for eddy_fields_new's aux */
  size_t n_inputs;
  uint64_t layout;    /* hash of the layout: states written under another are not read */
  double *fresh;      /* the state of an entity never seen */
  char *spec;         /* the normalised spec list */
} eddy_aggs_t;

struct eddy_record;
struct eddy_fields;

/* Parses c's [state] aggregates and window keys. A pipeline without
 * aggregates gets a valid empty list (n == 0). A bad spec fails with
 * "FILE:LINE: [state] key 'aggregates': ...". Free with eddy_aggs_free. */
eddy_aggs_t *eddy_aggs_new(const eddy_pipeline_conf_t *c, char *errstr, size_t errstr_size);
void eddy_aggs_free(eddy_aggs_t *a);
/* Resolves every input in the field map f (built with a->inputs as aux)
 * and appends one numeric attribute per aggregate to f
 * (eddy_fields_add_attr), before any schema is made from f. Fails naming
 * the field when an input is nominal, a key or an id, or when an output
 * name is already a field. */
int eddy_aggs_bind(eddy_aggs_t *a, struct eddy_fields *f, char *errstr, size_t errstr_size);
/* Writes a fresh state (a->fresh) into state. */
void eddy_aggs_reset(const eddy_aggs_t *a, double *state);
/* A time value of the timestamp or a since_last field in milliseconds. */
double eddy_aggs_to_ms(const eddy_aggs_t *a, double v);
/* The record time in ms: its timestamp field, else fallback_ms. */
double eddy_aggs_time_ms(const eddy_aggs_t *a, const struct eddy_record *r, double fallback_ms);
/* The n output values for record r at time t_ms from state (as it is
 * before r); NAN is a missing value. Never allocates. */
void eddy_aggs_eval(const eddy_aggs_t *a, const double *state, const struct eddy_record *r,
                    double t_ms, double *out);
/* eddy_aggs_eval into r's instance: the bound attributes, NAN as missing. */
void eddy_aggs_join(const eddy_aggs_t *a, const double *state, struct eddy_record *r, double t_ms);
/* Applies record r at t_ms to state. Never allocates. */
void eddy_aggs_update(const eddy_aggs_t *a, double *state, const struct eddy_record *r,
                      double t_ms);

#endif /* EDDY_AGGREGATES_H */
