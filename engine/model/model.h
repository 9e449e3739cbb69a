/* engine/model/model.h: the model around a learner: the prequential
 * evaluator, alerts, and the replica (schema, learner, evaluator, drift). */
#ifndef EDDY_MODEL_H
#define EDDY_MODEL_H

#include "core/core.h"

/* ------------------------------------------------------------ evaluation */

/* Prequential metrics, cumulative and over a sliding window of the last W
 * labelled instances. Classification: accuracy, Cohen's kappa, log loss,
 * macro F1 (over the classes seen as truth or prediction, as scikit-learn
 * does), ROC AUC when there are exactly two classes (positive = index 1;
 * cumulative AUC from 10,000 score bins, windowed AUC exact). Regression:
 * MAE, RMSE, R^2. Unweighted. */
typedef struct eddy_evaluator eddy_evaluator_t;

typedef struct eddy_metrics {
  uint64_t n; /* labelled instances counted */
  double accuracy, kappa, log_loss, f1_macro, auc; /* auc is NAN unless binary */
  double mae, rmse, r2;
} eddy_metrics_t;

eddy_evaluator_t *eddy_evaluator_new(eddy_task_t task, size_t window);
void eddy_evaluator_free(eddy_evaluator_t *e);
/* One labelled prediction: pred is what predict wrote (k class scores, or
 * the value in pred[0]), y the true class index or value. Allocates only
 * when a new class appears. */
int eddy_evaluator_add(eddy_evaluator_t *e, const double *pred, size_t k, double y);
void eddy_evaluator_cumulative(const eddy_evaluator_t *e, eddy_metrics_t *m);
void eddy_evaluator_windowed(const eddy_evaluator_t *e, eddy_metrics_t *m);
/* The cumulative confusion matrix: k x k counts, row = true class, column
 * = predicted class, row-major with the given stride. */
const uint64_t *eddy_evaluator_confusion(const eddy_evaluator_t *e, size_t *k, size_t *stride);
void eddy_evaluator_reset(eddy_evaluator_t *e);

/* ---------------------------------------------------------------- alerts */

/* One warning, drift or data-drift event: what happened, where, and what
 * was done. Sinks (eval's output, the alerts topic, the Redis stream) all
 * carry this one type. Strings are borrowed for the call. */
typedef struct eddy_alert {
  const char *pipeline;
  int32_t partition;        /* -1 when not from Kafka */
  int64_t offset;           /* source offset, -1 when none */
  uint64_t index;           /* 0-based instance index within the model replica */
  const char *detector;     /* registry name */
  const char *kind;         /* "warning", "drift" or "data_drift" */
  double statistic;         /* the detector's statistic and its threshold */
  double threshold;
  const char *feature;      /* data drift: the feature; NULL otherwise */
  const char *action;       /* "alert", "reset", "retrain", "swap", or "none" for warnings */
  uint64_t version_before;  /* model versions before and after the action */
  uint64_t version_after;
  double time;              /* wall clock, seconds since the epoch */
} eddy_alert_t;

/* Appends the alert as one JSON object (no newline). */
void eddy_alert_json(const eddy_alert_t *a, eddy_buf_t *b);
/* Appends one readable line (no newline). */
void eddy_alert_text(const eddy_alert_t *a, eddy_buf_t *b);

struct eddy_redis;
/* Appends the alert to its pipeline's Redis stream (connectors'
 * eddy_alerts_xadd with the alert's JSON). */
int eddy_alert_xadd(struct eddy_redis *r, const char *prefix, int64_t maxlen, const eddy_alert_t *a);

typedef void (*eddy_alert_cb)(void *ctx, const eddy_alert_t *a);

/* --------------------------------------------------------------- replicas */

struct eddy_learner;
struct eddy_fields;

/* A model replica: the schema, learner, evaluator and drift handling of one
 * partition (or of an offline evaluation). Owns all of them. */
typedef struct eddy_replica {
  const eddy_pipeline_conf_t *conf; /* borrowed */
  eddy_schema_t *schema;
  struct eddy_learner *learner;
  eddy_evaluator_t *eval;
  uint64_t version;        /* model version: bumps at every reset, retrain or swap */
  uint64_t index;          /* instances seen (predicted) */
  uint64_t learned;        /* instances learned */
  int32_t partition;       /* -1 offline */
  int64_t offset;          /* offset of the current record, -1 offline */
  double *pred;            /* scratch: the last prediction */
  size_t pred_cap;
  int pred_k;              /* values in pred (classes, or 1); 0: no prediction (nothing learned
                              yet), and always 0 for an anomaly detector */
  int scored_k;            /* values the evaluator scores (the learner's k: an abstention counts as
                              MOA counts it; what the fallback served when it served) */
  int unsupervised;        /* the learner is an anomaly detector (learns every record) */
  double score;            /* its anomaly score of the last record; NAN for other learners */
  eddy_alert_cb on_alert;  /* may be NULL */
  void *alert_ctx;
  void *drift;             /* drift detection and actions (replica_drift.c) */
  void *fallback;          /* [model] fallback (fallback.c); NULL when none */
  int served;              /* 1: the fallback answered the last prediction */
} eddy_replica_t;

/* A replica for pipeline c with a fresh schema from the field map. window
 * is the evaluator's window. Free with eddy_replica_free. */
eddy_replica_t *eddy_replica_new(const eddy_pipeline_conf_t *c, const struct eddy_fields *f,
                                 size_t window, char *errstr, size_t errstr_size);
void eddy_replica_free(eddy_replica_t *r);
/* Predicts in into r->pred; returns the number of values (classes or 1).
 * Class scores are probabilities: they sum to 1 and the predicted class has
 * the largest (uniform when the model gives every class 0). Returns 0, no
 * prediction, while the model has learned nothing.
 * An anomaly detector's score goes to r->score instead (pred_k and the
 * result 0), and a score above [sink] anomaly_threshold is an alert of kind
 * "anomaly" (statistic: the score) through on_alert. */
int eddy_replica_predict(eddy_replica_t *r, const eddy_instance_t *in);
/* 1 when eddy_replica_learn has something to learn from in: a labelled
 * record, or any record for an anomaly detector. */
static inline int eddy_replica_learns(const eddy_replica_t *r, const eddy_instance_t *in) {
  return in->has_y || r->unsupervised;
}
/* For a labelled instance: evaluates the last prediction, learns, feeds the
 * drift detectors and acts on their signals (alerts through on_alert).
 * Call after eddy_replica_predict on the same instance. */
int eddy_replica_learn(eddy_replica_t *r, const eddy_instance_t *in);
/* Predicts as eddy_replica_predict (into r->pred, normalised, the
 * fallback's answer when it would serve, an anomaly score into r->score),
 * read-only: the instance is not counted, the data-drift detectors and the
 * fallback's bookkeeping do not see it, no alert (HTTP predicts); nothing
 * saved in a checkpoint changes. Sets r->served for the prediction record:
 * the caller restores it. */
int eddy_replica_score(eddy_replica_t *r, const eddy_instance_t *in);
/* The same for an instance predicted earlier, whose label came later: the
 * evaluator and the drift detectors see pred (k values), the prediction
 * made then. */
int eddy_replica_learn_with(eddy_replica_t *r, const eddy_instance_t *in, const double *pred, int k);
/* The predicted label index (classification) or value (regression). */
double eddy_replica_predicted(const eddy_replica_t *r);
/* Who answered the last prediction, for the record's "served_by":
 * "fallback", a model_selection's candidate, "model" (with a fallback), or
 * NULL (the model, and nothing to say). */
const char *eddy_replica_served_by(const eddy_replica_t *r);
/* The fallback's description (`eval --describe`); nothing without one. */
void eddy_replica_describe_fallback(const eddy_replica_t *r, FILE *out);
/* The replica as one checkpoint: schema, learner, counters and the drift
 * state (detectors, background model, retrain window). The bytes depend on
 * the model alone (no clock), so two runs over the same records give the
 * same bytes. */
int eddy_replica_save(const eddy_replica_t *r, eddy_buf_t *b);
/* Replaces r's model with a checkpoint's. Refused (r unchanged) when it does
 * not verify, or was made by another learner or drift set-up than r's
 * config now asks for. */
int eddy_replica_load(eddy_replica_t *r, const void *p, size_t len, char *errstr, size_t errstr_size);
/* A replica checkpoint (eddy_replica_save's bytes, a Redis checkpoint's
 * `model`) as JSON: {"version", "instances", "learned", "learner": the
 * learner's export (eddy_learner_export)}. Needs no config. */
int eddy_checkpoint_export(const void *p, size_t len, eddy_buf_t *b, char *errstr, size_t errstr_size);
/* The same checkpoint's learner described (eddy_learner_describe) and its
 * features ranked by importance, for `eddy models --describe`. */
int eddy_checkpoint_describe(const void *p, size_t len, FILE *out, char *errstr, size_t errstr_size);
/* Bytes used by the model: learner, schema and drift state. */
size_t eddy_replica_memory(const eddy_replica_t *r);

/* ----------------------------------------------------- labels that wait */

/* Instances predicted before their label was revealed, in order, each with
 * the prediction made then and the moment its label is due (a record
 * index, or a time in ms): `eddy eval --delay`. Grows as needed and keeps
 * its slots: once grown, push and pop allocate nothing. */
typedef struct eddy_delay eddy_delay_t;

/* For instances of n attributes. Free with eddy_delay_free. */
eddy_delay_t *eddy_delay_new(size_t n);
void eddy_delay_free(eddy_delay_t *d);
/* Appends a copy of in and pred[0..k) due at `due`. */
int eddy_delay_push(eddy_delay_t *d, const eddy_instance_t *in, const double *pred, int k, double due);
/* The oldest waiting instance when it is due at or before now (any when
 * now is NAN); NULL when none. The pointers stay valid until the next pop. */
const eddy_instance_t *eddy_delay_due(const eddy_delay_t *d, double now, const double **pred, int *k);
void eddy_delay_pop(eddy_delay_t *d);
size_t eddy_delay_count(const eddy_delay_t *d);

/* Instances predicted without their label, kept by record id until a label
 * record with that id comes ([source] label_topic): at most max entries
 * (the least recently predicted evicted and counted), each at most ttl_ms
 * of record time (0: no limit). An id whose label was joined is
 * remembered (a tombstone, evicted like the others) so that a second
 * label for it is told apart from an unknown id; so is one past the ttl,
 * another ttl (a grave: evicted first). Entries are allocated
 * as they are first used and then reused: once warm, put and take
 * allocate nothing (an id longer than its slot held grows it). */
typedef struct eddy_waiting eddy_waiting_t;

typedef enum {
  EDDY_WAIT_JOINED = 0, /* found: its instance and prediction are handed over */
  EDDY_WAIT_UNKNOWN,    /* never predicted here, evicted, or past twice the ttl */
  EDDY_WAIT_EXPIRED,    /* predicted more than ttl (less than twice) before the label */
  EDDY_WAIT_DUPLICATE,  /* its label was joined already */
} eddy_wait_status_t;

/* "unknown id", "expired", "label already joined". */
const char *eddy_wait_status_name(eddy_wait_status_t s);

typedef struct eddy_waiting_stats {
  uint64_t waiting;  /* entries waiting now */
  uint64_t evicted;  /* waiting entries evicted because the store was full */
  uint64_t expired;  /* waiting entries dropped past the ttl (by eddy_waiting_expire or take) */
  uint64_t replaced; /* a second prediction of a waiting id replaced the first */
} eddy_waiting_stats_t;

/* For instances of n attributes. NULL: out of memory. Free with eddy_waiting_free. */
eddy_waiting_t *eddy_waiting_new(size_t n, size_t max, double ttl_ms);
void eddy_waiting_free(eddy_waiting_t *w);
/* Keeps a copy of in and pred[0..k), predicted at t_ms, under id. */
int eddy_waiting_put(eddy_waiting_t *w, const void *id, size_t id_len, const eddy_instance_t *in,
                     const double *pred, int k, double t_ms);
/* The label of id comes at t_ms: returns what became of its prediction;
 * JOINED fills *in, *pred, *k and *t_pred (valid until the next put),
 * and the entry becomes a tombstone. */
eddy_wait_status_t eddy_waiting_take(eddy_waiting_t *w, const void *id, size_t id_len, double t_ms,
                                     eddy_instance_t **in, const double **pred, int *k, double *t_pred);
/* Drops the predictions made more than ttl before now_ms, oldest first
 * (their ids kept another ttl), and forgets ids past twice the ttl;
 * returns how many waiting predictions went. */
size_t eddy_waiting_expire(eddy_waiting_t *w, double now_ms);
const eddy_waiting_stats_t *eddy_waiting_stats(const eddy_waiting_t *w);
/* The waiting set as bytes (a checkpoint blob, core/checkpoint.h, one
 * section WAIT): every entry (waiting, tombstone, grave) in recency
 * order, with in_offset and label_offset, the stream positions it stands
 * at, so that a reader can tell it belongs to its model's checkpoint.
 * The same set saves to the same bytes. Returns b->err. */
int eddy_waiting_save(const eddy_waiting_t *w, int64_t in_offset, int64_t label_offset, eddy_buf_t *b);
/* Reads what eddy_waiting_save wrote into w, which must be empty (just
 * made): EDDY_ECORRUPT (message in errstr) when the bytes do not verify,
 * name other attribute counts or more entries than w holds, or stand at
 * offsets other than in_offset and label_offset; EDDY_ESTATE when w is
 * not empty. On an error w is left empty. */
int eddy_waiting_load(eddy_waiting_t *w, const void *p, size_t len, int64_t in_offset, int64_t label_offset,
                      char *errstr, size_t errstr_size);
/* Forgets every entry and the counts, as just made. */
void eddy_waiting_clear(eddy_waiting_t *w);
#define EDDY_SECTION_WAITING EDDY_TAG('W', 'A', 'I', 'T')

#endif /* EDDY_MODEL_H */
