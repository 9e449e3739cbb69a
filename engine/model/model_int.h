/* engine/model/model_int.h: engine/model/'s internals: drift detection and
 * actions of one replica (drift.c), used by replica.c. */
#ifndef EDDY_MODEL_INT_H
#define EDDY_MODEL_INT_H

#include "engine/model/model.h"

/* Drift detection and actions of one replica (drift.c). */
typedef struct eddy__drift eddy__drift_t;

/* NULL with *errstr empty when the pipeline has no [drift] detector and no
 * data detectors; NULL with a message on error. */
eddy__drift_t *eddy__drift_new(eddy_replica_t *r, char *errstr, size_t errstr_size);
void eddy__drift_free(eddy__drift_t *d);
/* Feeds the data-drift checks with a record's inputs (every record). */
void eddy__drift_inputs(eddy_replica_t *r, eddy__drift_t *d, const eddy_instance_t *in);
/* After the learner learned a labelled instance whose prediction was
 * `correct` (or had absolute error `loss` for regression): buffers it,
 * trains a background model, updates the concept detector and acts. */
int eddy__drift_learned(eddy_replica_t *r, eddy__drift_t *d, const eddy_instance_t *in, double loss);
size_t eddy__drift_memory(const eddy__drift_t *d);
/* The drift state, as the body of a checkpoint section. */
int eddy__drift_save(const eddy__drift_t *d, eddy_buf_t *b);
/* Reads what eddy__drift_save wrote into d (made from the same config). */
int eddy__drift_load(eddy_replica_t *r, eddy__drift_t *d, eddy_reader_t *rd, char *errstr,
                     size_t errstr_size);

/* A replica's [model] fallback learner (fallback.c). */
typedef struct eddy__fallback eddy__fallback_t;

/* NULL with *errstr empty when the pipeline has no fallback; NULL with a
 * message on error. */
eddy__fallback_t *eddy__fallback_new(eddy_replica_t *r, char *errstr, size_t errstr_size);
void eddy__fallback_free(eddy__fallback_t *f);
/* After the model predicted into r->pred (k: its result, which may be an
 * error): lets the fallback answer instead when due (r->pred, r->served;
 * an alert when who answers changes). Returns the number of values in
 * r->pred, or the model's error when neither could predict. */
int eddy__fallback_predict(eddy_replica_t *r, eddy__fallback_t *f, const eddy_instance_t *in, int k);
/* A label that arrived after other records were predicted (eval --delay):
 * the model's prediction for it now, before it learns it, replaces the one
 * kept from the last predict for the windowed hits. */
/* The same decision read-only (HTTP predicts): nothing noted, no alert,
 * the replica's state untouched but r->pred; *served says who answered. */
int eddy__fallback_score(const eddy_replica_t *r, eddy__fallback_t *f, const eddy_instance_t *in, int k,
                         int *served);
void eddy__fallback_remeasure(eddy_replica_t *r, eddy__fallback_t *f, const eddy_instance_t *in);
/* After the model learned a labelled record: the model's windowed hits,
 * and the fallback learns it. */
int eddy__fallback_learned(eddy_replica_t *r, eddy__fallback_t *f, const eddy_instance_t *in);
size_t eddy__fallback_memory(const eddy__fallback_t *f);
int eddy__fallback_save(const eddy_replica_t *r, const eddy__fallback_t *f, eddy_buf_t *b);
int eddy__fallback_load(eddy_replica_t *r, eddy__fallback_t *f, eddy_reader_t *rd, char *errstr,
                        size_t errstr_size);
void eddy__fallback_describe(const eddy_replica_t *r, const eddy__fallback_t *f, FILE *out);

#endif /* EDDY_MODEL_INT_H */
