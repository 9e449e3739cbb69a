/* pipeline_replay.c: the offline replay API of `eddy verify`: a
 * partition's records run through the record path of a pipeline never started. */
#define _GNU_SOURCE

#include "engine/stream/pipeline_int.h"

/* ---------------------------------------------------------- offline replay */

/* `eddy verify` (engine/verify.c) recomputes a partition's model by running
 * its records through eddy__pl_handle() itself, in a pipeline made by
 * eddy_pipeline_new and never started: with no producer nothing is emitted
 * (dead letters are counted in the stats); the aggregates join from a fresh
 * memory store. */
eddy_ptask_t *eddy_pipeline_replay_task(eddy_pipeline_t *pl, const char *topic, int32_t partition,
                                        char *errstr, size_t errstr_size) {
  if (pl->state != EDDY_PL_PREPARED || pl->consumer)
    return eddy_seterr(errstr, errstr_size, EDDY_ESTATE, "replay needs a pipeline that never started"), NULL;
  if (pl->path.aggs->n) {
    eddy_pipeline_conf_t mem = *pl->conf;
    mem.state.store = (char *)"memory";
    eddy_store_t *s = eddy_store_new(&mem, pl->path.aggs, NULL, errstr, errstr_size);
    if (!s) return NULL;
    eddy_store_free(pl->store.entities);
    pl->store.entities = s;
  }
  eddy_ptask_t *t = eddy__pl_task_add(pl, topic, partition);
  if (!t) return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "cannot make a model replica (logged)"), NULL;
  t->replica->on_alert = NULL;
  t->restored = 1;
  if (pl->labels_on && eddy__pl_labels_make(pl, t)) {
    eddy__pl_task_drop(pl, t);
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory"), NULL;
  }
  return t;
}

void eddy_pipeline_replay(eddy_pipeline_t *pl, eddy_ptask_t *t, const rd_kafka_message_t *m) {
  eddy__pl_handle(pl, m, t, ENTITY_NOW);
}

void eddy_pipeline_replay_done(eddy_pipeline_t *pl, eddy_ptask_t *t) {
  eddy__pl_labels_retire(pl, t);
  eddy__pl_task_drop(pl, t);
}
