/* pipeline_rebalance.c: a pipeline's rebalance callback: tasks made and
 * restored from their checkpoints at assignment (retried while the store is
 * away), checkpointed, committed and retired at revocation. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <string.h>

#include "engine/stream/pipeline_int.h"

void eddy__pl_revoke_tasks(eddy_pipeline_t *pl, const rd_kafka_topic_partition_list_t *parts, int lost) {
  /* Lost partitions' offsets cannot be committed by this member any more:
   * their outputs go with an aborted transaction. */
  if (lost && pl->eos && pl->txn_open) eddy__pl_txn_abort(pl, "partitions lost", parts);
  if (!lost) {
    /* Deliver what these partitions produced, then commit their offsets. */
    pl->dr_now_ms = 0;
    if (pl->producer && pl->in_flight) rd_kafka_flush(pl->producer, pl->revoke_budget_ms);
    eddy__pl_commit_now(pl, parts, pl->revoke_budget_ms > 500 ? 2000 : 500);
  }
  for (int i = 0; i < parts->cnt; i++) {
    eddy_ptask_t *t = eddy__pl_find_task(pl, parts->elems[i].topic, parts->elems[i].partition);
    if (!t) continue;
    eddy__pl_batch_forget(pl, t);
    if (!lost && pl->ckpt && eddy__pl_has_news(t)) {
      /* The next owner restores the model from here. */
      if (eddy__pl_delivered(t))
        eddy__pl_checkpoint_task(pl, t, EDDY_CKPT_REVOKE);
      else
        eddy_log(EDDY_LOG_WARN, "pipeline %s: %s [%d]: outputs not all delivered: no checkpoint at "
                 "revocation (the next owner restarts from the last one, offset %" PRId64 ")",
                 pl->conf->pipeline.name, t->topic, (int)t->partition, t->ckpt_offset);
    }
    eddy__pl_labels_retire(pl, t);
    eddy_ptask_retire(t);
    if (pl->last == t) pl->last = NULL;
    if (eddy_wm_open(&t->wm) == 0) eddy__pl_task_drop(pl, t);
  }
}

/* Restores t once (the store's checkpoint: model and start offset). */
int eddy__pl_restore_task(eddy_pipeline_t *pl, eddy_ptask_t *t, int64_t *offset) {
  if (t->restored) return 0;
  int err = pl->store.type->restore ? pl->store.type->restore(&pl->store, t, offset) : 0;
  if (err == EDDY_EAGAIN) return err;
  t->restored = 1;
  t->ckpt_stored = t->ckpt_offset >= 0;
  if (*offset >= 0) t->expect = *offset; /* the start eddy chose: its checkpoint */
  return 0;
}

static void assign_now(eddy_pipeline_t *pl, rd_kafka_topic_partition_list_t *parts) {
  rd_kafka_t *rk = pl->consumer;
  if (strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0) {
    rd_kafka_error_t *e = rd_kafka_incremental_assign(rk, parts);
    if (e) rd_kafka_error_destroy(e);
  } else {
    rd_kafka_assign(rk, parts);
  }
  if (pl->paused) rd_kafka_pause_partitions(rk, parts);
}

/* An assignment that waits for Redis (its checkpoints give the start
 * offsets) is tried again every second, then made. */
void eddy__pl_retry_assign(eddy_pipeline_t *pl) {
  if (!pl->assign_wait || eddy_now() < pl->assign_retry) return;
  int wait = 0;
  for (int i = 0; i < pl->assign_wait->cnt && !wait; i++) {
    rd_kafka_topic_partition_t *p = &pl->assign_wait->elems[i];
    eddy_ptask_t *t = eddy__pl_find_task(pl, p->topic, p->partition);
    if (t && eddy__pl_restore_task(pl, t, &p->offset) == EDDY_EAGAIN) wait = 1;
  }
  if (!wait && pl->eos && eddy__pl_eos_positions(pl, pl->assign_wait) == EDDY_EAGAIN) wait = 1;
  if (!wait) eddy__pl_labels_seek(pl, pl->assign_wait);
  if (wait) {
    pl->assign_retry = eddy_now() + 1;
    return;
  }
  eddy_log(EDDY_LOG_INFO, "pipeline %s: checkpoints read: consuming the assigned partitions",
           pl->conf->pipeline.name);
  rd_kafka_topic_partition_list_t *l = pl->assign_wait;
  pl->assign_wait = NULL;
  assign_now(pl, l);
  rd_kafka_topic_partition_list_destroy(l);
}

void eddy__pl_on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
                           void *opaque) {
  eddy_pipeline_t *pl = opaque;
  pl->st.rebalances++;
  char names[1024];
  size_t n = 0;
  names[0] = '\0';
  for (int i = 0; i < parts->cnt && n < sizeof names - 64; i++)
    n += (size_t)snprintf(names + n, sizeof names - n, "%s%s[%d]", i ? " " : "", parts->elems[i].topic,
                          (int)parts->elems[i].partition);
  if (pl->assign_wait) {
    /* A rebalance before the last assignment could be made. */
    eddy__pl_revoke_tasks(pl, pl->assign_wait, 1);
    rd_kafka_topic_partition_list_destroy(pl->assign_wait);
    pl->assign_wait = NULL;
  }
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    int wait = 0;
    for (int i = 0; i < parts->cnt; i++) {
      rd_kafka_topic_partition_t *p = &parts->elems[i];
      if (eddy__pl_is_label_topic(pl, p->topic)) {
        p->offset = RD_KAFKA_OFFSET_INVALID; /* the committed offset: attached to its input's task below */
        continue;
      }
      eddy_ptask_t *t = eddy__pl_find_task(pl, p->topic, p->partition);
      if (!t && !(t = eddy__pl_task_add(pl, p->topic, p->partition))) {
        eddy__run_failed(pl->run, pl);
        continue;
      }
      /* Stored offsets go on the list given to assign (seeking later has
       * a timeout bug in librdkafka 2.0.2); none: the committed offset. */
      p->offset = RD_KAFKA_OFFSET_INVALID;
      t->expect = -1; /* another member may have consumed it meanwhile */
      if (!wait && eddy__pl_restore_task(pl, t, &p->offset) == EDDY_EAGAIN) wait = 1;
    }
    eddy__pl_labels_attach(pl, parts); /* before the positions: exactly once sets the label partitions' */
    if (!wait && pl->eos && eddy__pl_eos_positions(pl, parts) == EDDY_EAGAIN) wait = 1;
    if (!wait) eddy__pl_labels_seek(pl, parts);
    if (pl->n_group)
      eddy_log(EDDY_LOG_INFO, "pipeline %s: assigned %s (thread %d)", pl->conf->pipeline.name, names, pl->instance);
    else
      eddy_log(EDDY_LOG_INFO, "pipeline %s: assigned %s", pl->conf->pipeline.name, names);
    if (wait) {
      eddy_log(EDDY_LOG_WARN, "pipeline %s: Redis unreachable: consumption of %s waits until their "
               "checkpoints can be read", pl->conf->pipeline.name, names);
      pl->assign_wait = rd_kafka_topic_partition_list_copy(parts);
      pl->assign_retry = eddy_now() + 1;
      return;
    }
    assign_now(pl, parts);
  } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    int lost = rd_kafka_assignment_lost(rk);
    eddy_log(EDDY_LOG_INFO, "pipeline %s: %s %s", pl->conf->pipeline.name, lost ? "lost" : "revoked", names);
    pl->revoke_ckpts = 0;
    eddy__pl_revoke_tasks(pl, parts, lost);
    if (pl->revoke_ckpts && !pl->closing) {
      /* The partitions are given up once their checkpoints are written
       * (eddy__pipeline_checkpointed): their next owner reads them. The
       * rebalance callback cannot wait for the loop: the unassign is
       * deferred. */
      pl->unassign_due = 1;
      pl->unassign_deadline = eddy_now() + UNASSIGN_WAIT;
      if (pl->unassign_parts) rd_kafka_topic_partition_list_destroy(pl->unassign_parts);
      pl->unassign_parts = rd_kafka_topic_partition_list_copy(parts);
    } else {
      eddy__pl_unassign_now(pl, parts);
    }
  } else {
    eddy_log(EDDY_LOG_WARN, "pipeline %s: rebalance error: %s", pl->conf->pipeline.name, rd_kafka_err2str(err));
    eddy__pl_revoke_tasks(pl, parts, 1);
    rd_kafka_assign(rk, NULL);
  }
}
