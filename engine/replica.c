/* replica.c: one model replica (a partition's, or an offline run's):
 * test-then-train on its schema and learner, with prequential metrics. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/connectors.h"
#include "eddy.h"
#include "internal.h"
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
  r->drift = eddy__drift_new(r, errstr, errstr_size);
  if (!r->drift && errstr_size && errstr[0]) {
    eddy_replica_free(r);
    return NULL;
  }
  return r;
}

void eddy_replica_free(eddy_replica_t *r) {
  if (!r) return;
  eddy__drift_free(r->drift);
  eddy_learner_free(r->learner);
  eddy_evaluator_free(r->eval);
  eddy_schema_free(r->schema);
  free(r->pred);
  free(r);
}

int eddy_replica_predict(eddy_replica_t *r, const eddy_instance_t *in) {
  int k = eddy_learner_predict(r->learner, in, r->pred, r->pred_cap);
  r->pred_k = k > 0 ? k : 0;
  r->index++;
  if (r->drift) eddy__drift_inputs(r, r->drift, in);
  return k;
}

double eddy_replica_predicted(const eddy_replica_t *r) {
  if (r->schema->task == EDDY_REGRESSION) return r->pred_k ? r->pred[0] : 0.0;
  return (double)eddy_argmax(r->pred, (size_t)r->pred_k);
}

int eddy_replica_learn(eddy_replica_t *r, const eddy_instance_t *in) {
  if (!in->has_y) return 0;
  int err = eddy_evaluator_add(r->eval, r->pred, (size_t)r->pred_k, in->y);
  if (err) return err;
  err = eddy_learner_learn(r->learner, in);
  if (err) return err;
  r->learned++;
  if (!r->drift) return 0;
  /* The detector watches the 0/1 error, or the absolute error. */
  double p = eddy_replica_predicted(r);
  double loss = r->schema->task == EDDY_CLASSIFICATION ? (double)(p != in->y) : fabs(p - in->y);
  return eddy__drift_learned(r, r->drift, in, loss);
}
