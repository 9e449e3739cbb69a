/* replica.c: one model replica (a partition's, or an offline run's):
 * test-then-train on its schema and learner, with prequential metrics. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/connectors.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
#include "engine/model/model_int.h"
#include "learners/learners.h"

eddy_replica_t *eddy_replica_new(const eddy_pipeline_conf_t *c, const eddy_fields_t *f,
                                 size_t window, char *errstr, size_t errstr_size) {
  eddy_replica_t *r = calloc(1, sizeof *r);
  if (!r) {
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    return NULL;
  }
  r->conf = c;
  r->partition = -1;
  r->offset = -1;
  r->version = 1;
  r->pred_cap = c->pipeline.task == EDDY_CLASSIFICATION ? (size_t)c->features.max_classes : 1;
  r->pred = calloc(r->pred_cap, sizeof *r->pred);
  r->schema = eddy_fields_schema(f, errstr, errstr_size);
  r->eval = eddy_evaluator_new(c->pipeline.task, window);
  if (!r->pred || !r->schema || !r->eval) {
    if (r->schema && !r->eval) eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    eddy_replica_free(r);
    return NULL;
  }
  r->learner = eddy_learner_new(c->model.learner, r->schema, c->model_params.v, c->model_params.n,
                                (uint64_t)c->pipeline.seed, errstr, errstr_size);
  if (!r->learner) {
    eddy_replica_free(r);
    return NULL;
  }
  r->unsupervised = r->learner->type->unsupervised;
  r->score = NAN;
  r->drift = eddy__drift_new(r, errstr, errstr_size);
  if (!r->drift && errstr_size && errstr[0]) {
    eddy_replica_free(r);
    return NULL;
  }
  r->fallback = eddy__fallback_new(r, errstr, errstr_size);
  if (!r->fallback && errstr_size && errstr[0]) {
    eddy_replica_free(r);
    return NULL;
  }
  return r;
}

void eddy_replica_free(eddy_replica_t *r) {
  if (!r) return;
  eddy__fallback_free(r->fallback);
  eddy__drift_free(r->drift);
  eddy_learner_free(r->learner);
  eddy_evaluator_free(r->eval);
  eddy_schema_free(r->schema);
  free(r->pred);
  free(r);
}

/* An anomaly detector's score above [sink] anomaly_threshold. */
static void anomaly_alert(eddy_replica_t *r) {
  double thr = r->conf->sink.anomaly_threshold;
  if (!r->on_alert || !(r->score > thr)) return;
  eddy_alert_t a = {
      .pipeline = r->conf->pipeline.name,
      .partition = r->partition,
      .offset = r->offset,
      .index = r->index - 1,
      .detector = r->learner->type->name,
      .kind = "anomaly",
      .statistic = r->score,
      .threshold = thr,
      .action = "none",
      .version_before = r->version,
      .version_after = r->version,
      .time = eddy_wallclock(),
  };
  r->on_alert(r->alert_ctx, &a);
}

/* Class scores as probabilities: votes (a tree's counts) divided by their
 * sum, so the predicted class has the largest one and they sum to 1. A
 * model that has learned nothing predicts nothing (k = 0: the prediction is
 * null); one that has learned but gives every class 0 (a fresh tree leaf)
 * has no preference: uniform, the first class predicted, as MOA and the
 * evaluator score it. */
static int normalise(eddy_replica_t *r, int k) {
  if (k <= 0 || r->schema->task != EDDY_CLASSIFICATION) return k > 0 ? k : 0;
  if (r->learned == 0) return 0;
  double sum = 0;
  for (int c = 0; c < k; c++) {
    if (!(r->pred[c] > 0)) r->pred[c] = 0; /* negative or NaN: no support */
    sum += r->pred[c];
  }
  if (sum > 0 && isfinite(sum)) {
    for (int c = 0; c < k; c++) r->pred[c] /= sum;
  } else {
    for (int c = 0; c < k; c++) r->pred[c] = 1.0 / k;
  }
  return k;
}

int eddy_replica_predict(eddy_replica_t *r, const eddy_instance_t *in) {
  int k = eddy_learner_predict(r->learner, in, r->pred, r->pred_cap);
  r->scored_k = k > 0 ? k : 0;
  if (!r->unsupervised) k = normalise(r, k); /* a score is not a distribution */
  r->pred_k = k > 0 ? k : 0;
  r->index++;
  if (r->fallback) {
    k = eddy__fallback_predict(r, r->fallback, in, k);
    r->pred_k = k > 0 ? k : 0;
    if (r->served) r->scored_k = r->pred_k; /* the evaluator scores what was served */
  }
  if (r->unsupervised) {
    r->score = k > 0 ? r->pred[0] : NAN;
    r->pred_k = 0; /* a score, not class probabilities */
    if (k > 0) k = 0;
  }
  if (r->drift) eddy__drift_inputs(r, r->drift, in);
  if (r->unsupervised) anomaly_alert(r);
  return k;
}

int eddy_replica_score(eddy_replica_t *r, const eddy_instance_t *in) {
  int k = eddy_learner_predict(r->learner, in, r->pred, r->pred_cap);
  r->scored_k = k > 0 ? k : 0;
  if (!r->unsupervised) k = normalise(r, k);
  r->pred_k = k > 0 ? k : 0;
  if (r->fallback) { /* what eddy__fallback_predict would serve, without its bookkeeping */
    k = eddy__fallback_score(r, r->fallback, in, k, &r->served);
    r->pred_k = k > 0 ? k : 0;
    if (r->served) r->scored_k = r->pred_k;
  }
  if (r->unsupervised) {
    r->score = k > 0 ? r->pred[0] : NAN;
    r->pred_k = 0;
    if (k > 0) k = 0;
  }
  return k;
}

double eddy_replica_predicted(const eddy_replica_t *r) {
  if (r->schema->task == EDDY_REGRESSION) return r->pred_k ? r->pred[0] : 0.0;
  return (double)eddy_argmax(r->pred, (size_t)r->pred_k);
}

/* An anomaly detector learns every record; a label only evaluates its
 * score: as the probability of the second class (regression: as the value).
 * The score is mapped monotonically (ROC AUC unchanged) so that it is over
 * 0.5 exactly when above [sink] anomaly_threshold: accuracy and the
 * confusion matrix are then those of the alerts. No error-driven drift
 * detection. */
static int learn_unsupervised(eddy_replica_t *r, const eddy_instance_t *in) {
  if (in->has_y && r->score == r->score) {
    double s = r->score, thr = r->conf->sink.anomaly_threshold;
    double p1 = s > thr ? 0.5 + 0.5 * (s - thr) / (1.0 - thr) : thr > 0 ? 0.5 * s / thr : 0.0;
    double p[2] = {1.0 - p1, p1};
    if (r->schema->task == EDDY_REGRESSION) p[1] = s;
    int reg = r->schema->task == EDDY_REGRESSION;
    int err = eddy_evaluator_add(r->eval, reg ? p + 1 : p, reg ? 1 : 2, in->y);
    if (err) return err;
  }
  int err = eddy_learner_learn(r->learner, in);
  if (err) return err;
  r->learned++;
  return 0;
}

void eddy_replica_describe_fallback(const eddy_replica_t *r, FILE *out) {
  if (r->fallback) eddy__fallback_describe(r, r->fallback, out);
}

const char *eddy_replica_served_by(const eddy_replica_t *r) {
  if (r->served) return "fallback";
  const char *s = r->learner->type->served ? r->learner->type->served(r->learner) : NULL;
  return s ? s : r->fallback ? "model" : NULL;
}

int eddy_replica_learn_with(eddy_replica_t *r, const eddy_instance_t *in, const double *pred, int k) {
  if (r->unsupervised) return learn_unsupervised(r, in);
  /* A label that arrived later: what the model predicts for it now, before
   * learning it, stands for its answer in the fallback's window. */
  if (r->fallback && pred != r->pred && in->has_y) eddy__fallback_remeasure(r, r->fallback, in);
  if (!in->has_y) return 0;
  int err = eddy_evaluator_add(r->eval, pred, (size_t)k, in->y);
  if (err) return err;
  err = eddy_learner_learn(r->learner, in);
  if (err) return err;
  r->learned++;
  if (r->fallback && (err = eddy__fallback_learned(r, r->fallback, in))) return err;
  if (!r->drift) return 0;
  /* The detector watches the 0/1 error (or the absolute error) of the
   * prediction that was made for this instance. */
  double p = r->schema->task == EDDY_REGRESSION ? (k ? pred[0] : 0.0) : (double)eddy_argmax(pred, (size_t)k);
  double loss = r->schema->task == EDDY_CLASSIFICATION ? (double)(p != in->y) : fabs(p - in->y);
  return eddy__drift_learned(r, r->drift, in, loss);
}

int eddy_replica_learn(eddy_replica_t *r, const eddy_instance_t *in) {
  /* Scored over the learner's classes: a prediction withheld (nothing
   * learned yet) counts as MOA counts it. */
  return eddy_replica_learn_with(r, in, r->pred, r->scored_k);
}

#define SECTION_DRIFT EDDY_TAG('D', 'R', 'F', 'T')
#define SECTION_FALLBACK EDDY_TAG('F', 'L', 'B', 'K')

int eddy_replica_save(const eddy_replica_t *r, eddy_buf_t *b) {
  eddy_ckpt_begin(b);
  size_t mark = eddy_ckpt_section_begin(b, EDDY_SECTION_SCHEMA);
  eddy_schema_save(r->schema, b);
  eddy_ckpt_section_end(b, mark);
  int err = eddy_learner_save(r->learner, b);
  if (err) return err;
  mark = eddy_ckpt_section_begin(b, EDDY_SECTION_META);
  eddy_buf_put_u64(b, r->version);
  eddy_buf_put_u64(b, r->index);
  eddy_buf_put_u64(b, r->learned);
  eddy_ckpt_section_end(b, mark);
  if (r->drift) {
    mark = eddy_ckpt_section_begin(b, SECTION_DRIFT);
    err = eddy__drift_save(r->drift, b);
    eddy_ckpt_section_end(b, mark);
    if (err) return err;
  }
  if (r->fallback) {
    mark = eddy_ckpt_section_begin(b, SECTION_FALLBACK);
    err = eddy__fallback_save(r, r->fallback, b);
    eddy_ckpt_section_end(b, mark);
    if (err) return err;
  }
  return eddy_ckpt_finish(b);
}

/* The fallback section into t (a fresh fallback of t's config). */
static int load_fallback(eddy_replica_t *t, const void *p, size_t len, char *errstr, size_t errstr_size) {
  char msg[512] = "";
  eddy_reader_t rd;
  t->served = 0;
  t->fallback = eddy__fallback_new(t, msg, sizeof msg);
  if (!t->fallback && msg[0]) return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "%s", msg);
  int has = eddy_ckpt_section(p, len, SECTION_FALLBACK, 0, &rd) == 0;
  if (has != (t->fallback != NULL))
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "checkpoint and config disagree on [model] fallback");
  return t->fallback ? eddy__fallback_load(t, t->fallback, &rd, errstr, errstr_size) : 0;
}

int eddy_replica_load(eddy_replica_t *r, const void *p, size_t len, char *errstr, size_t errstr_size) {
  int err = eddy_ckpt_verify(p, len, errstr, errstr_size);
  if (err) return err;
  /* Everything is read into a scratch replica; r changes only on success. */
  eddy_replica_t t = *r;
  t.schema = NULL;
  t.learner = NULL;
  t.drift = NULL;
  t.fallback = NULL;
  eddy_reader_t rd;
  if (eddy_ckpt_section(p, len, EDDY_SECTION_SCHEMA, 0, &rd))
    return eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT, "checkpoint has no schema section");
  if (!(t.schema = eddy_schema_load(&rd, errstr, errstr_size))) return EDDY_ECORRUPT;
  err = EDDY_ECORRUPT;
  if (t.schema->n_attrs != r->schema->n_attrs || t.schema->task != r->schema->task) {
    err = eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "checkpoint's attributes differ from the config's");
    goto fail;
  }
  for (size_t i = 0; i < t.schema->n_attrs; i++)
    if (strcmp(t.schema->attrs[i].name, r->schema->attrs[i].name) ||
        t.schema->attrs[i].kind != r->schema->attrs[i].kind) {
      err = eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "checkpoint's attribute %zu is '%s', the config's '%s'",
                        i, t.schema->attrs[i].name, r->schema->attrs[i].name);
      goto fail;
    }
  if (eddy_ckpt_section(p, len, EDDY_SECTION_LEARNER, 0, &rd)) {
    eddy_seterr(errstr, errstr_size, err, "checkpoint has no learner section");
    goto fail;
  }
  if (!(t.learner = eddy_learner_load(&rd, t.schema, errstr, errstr_size))) goto fail;
  if (t.learner->type != r->learner->type) {
    err = eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "checkpoint holds a '%s', the config asks for '%s'",
                      t.learner->type->name, r->learner->type->name);
    goto fail;
  }
  if (eddy_ckpt_section(p, len, EDDY_SECTION_META, 0, &rd)) {
    eddy_seterr(errstr, errstr_size, err, "checkpoint has no meta section");
    goto fail;
  }
  t.version = eddy_read_u64(&rd);
  t.index = eddy_read_u64(&rd);
  t.learned = eddy_read_u64(&rd);
  if (rd.err) {
    eddy_seterr(errstr, errstr_size, err, "checkpoint's meta section is truncated");
    goto fail;
  }
  char msg[512] = "";
  t.drift = eddy__drift_new(&t, msg, sizeof msg);
  if (!t.drift && msg[0]) {
    err = eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "%s", msg);
    goto fail;
  }
  int has = eddy_ckpt_section(p, len, SECTION_DRIFT, 0, &rd) == 0;
  if (has != (t.drift != NULL)) {
    err = eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "checkpoint and config disagree on [drift]");
    goto fail;
  }
  if (t.drift) {
    if (errstr_size) errstr[0] = '\0';
    if ((err = eddy__drift_load(&t, t.drift, &rd, errstr, errstr_size))) {
      /* Not every refusal of the drift state says why. */
      if (errstr_size && !errstr[0])
        eddy_seterr(errstr, errstr_size, err, "checkpoint's drift section is corrupt (%s)", eddy_strerror(err));
      goto fail;
    }
  }
  if ((err = load_fallback(&t, p, len, errstr, errstr_size))) goto fail;
  eddy__fallback_free(r->fallback);
  eddy__drift_free(r->drift);
  eddy_learner_free(r->learner);
  eddy_schema_free(r->schema);
  *r = t;
  return 0;
fail:
  eddy__fallback_free(t.fallback);
  eddy__drift_free(t.drift);
  eddy_learner_free(t.learner);
  eddy_schema_free(t.schema);
  return err;
}

size_t eddy_replica_memory(const eddy_replica_t *r) {
  size_t m = eddy_learner_memory(r->learner) + eddy_schema_memory(r->schema);
  if (r->fallback) m += eddy__fallback_memory(r->fallback);
  return r->drift ? m + eddy__drift_memory(r->drift) : m;
}

/* A replica checkpoint's schema, learner and meta counts (0 when it has
 * none); the caller frees the learner, then the schema. */
static int checkpoint_open(const void *p, size_t len, eddy_schema_t **schema, eddy_learner_t **l,
                           uint64_t meta[3], char *errstr, size_t errstr_size) {
  *schema = NULL;
  *l = NULL;
  meta[0] = meta[1] = meta[2] = 0;
  int err = eddy_ckpt_verify(p, len, errstr, errstr_size);
  if (err) return err;
  eddy_reader_t rd;
  if (eddy_ckpt_section(p, len, EDDY_SECTION_SCHEMA, 0, &rd))
    return eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT, "checkpoint has no schema section");
  if (!(*schema = eddy_schema_load(&rd, errstr, errstr_size))) return EDDY_ECORRUPT;
  if (eddy_ckpt_section(p, len, EDDY_SECTION_LEARNER, 0, &rd))
    err = eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT, "checkpoint has no learner section");
  else if (!(*l = eddy_learner_load(&rd, *schema, errstr, errstr_size)))
    err = EDDY_ECORRUPT;
  if (err) {
    eddy_schema_free(*schema);
    *schema = NULL;
    return err;
  }
  if (eddy_ckpt_section(p, len, EDDY_SECTION_META, 0, &rd) == 0)
    for (int i = 0; i < 3; i++) meta[i] = eddy_read_u64(&rd);
  return 0;
}

int eddy_checkpoint_export(const void *p, size_t len, eddy_buf_t *b, char *errstr, size_t errstr_size) {
  eddy_schema_t *schema;
  eddy_learner_t *l;
  uint64_t meta[3];
  int err = checkpoint_open(p, len, &schema, &l, meta, errstr, errstr_size);
  if (err) return err;
  eddy_buf_printf(b, "{\"version\":%llu,\"instances\":%llu,\"learned\":%llu,\"learner\":",
                  (unsigned long long)meta[0], (unsigned long long)meta[1], (unsigned long long)meta[2]);
  err = eddy_learner_export(l, b);
  eddy_buf_put_u8(b, '}');
  if (err) eddy_seterr(errstr, errstr_size, err, "export: %s", eddy_strerror(err));
  eddy_learner_free(l);
  eddy_schema_free(schema);
  return err;
}

int eddy_checkpoint_describe(const void *p, size_t len, FILE *out, char *errstr, size_t errstr_size) {
  eddy_schema_t *schema;
  eddy_learner_t *l;
  uint64_t meta[3];
  int err = checkpoint_open(p, len, &schema, &l, meta, errstr, errstr_size);
  if (err) return err;
  eddy_learner_describe(l, out);
  eddy_learner_describe_importance(l, out);
  eddy_learner_free(l);
  eddy_schema_free(schema);
  return 0;
}
