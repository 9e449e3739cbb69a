/* pipeline_commit.c: a pipeline's offset commits, and with exactly once its
 * transactions: commit interval, abort and rewind to the checkpoint, replay of
 * [checkpoint, committed) (engine/txn.c has the transactional producer). */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "engine/stream/pipeline_int.h"

/* The offsets committed (a commit's report): remembered per task. */
static void committed(eddy_pipeline_t *pl, rd_kafka_resp_err_t err,
                      const rd_kafka_topic_partition_list_t *offsets) {
  if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
    pl->st.commit_failures++;
    eddy__pl_log_limited(pl, EDDY_LOG_WARN, "offset commit failed: %s (retried at the next commit)",
                rd_kafka_err2str(err));
  }
  for (int i = 0; offsets && i < offsets->cnt; i++) {
    const rd_kafka_topic_partition_t *p = &offsets->elems[i];
    if (p->err || p->offset < 0) continue;
    eddy_ptask_t *t = eddy__pl_find_task(pl, p->topic, p->partition);
    if (!t && eddy__pl_is_label_topic(pl, p->topic)) {
      t = eddy__pl_find_task(pl, pl->conf->source.topics, p->partition);
      t = t ? t->labels : NULL;
    }
    if (!t || p->offset <= t->wm.committed) continue;
    t->wm.committed = p->offset;
  }
  if (!err) pl->st.commits++;
}

void eddy__pl_on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *offsets,
                        void *opaque) {
  (void)rk;
  eddy_pipeline_t *pl = opaque;
  if (pl->commits_pending) pl->commits_pending--;
  committed(pl, err, offsets);
}

/* The offsets of tasks (all, or those of `only`) that may move forward. */
static rd_kafka_topic_partition_list_t *commit_list(eddy_pipeline_t *pl,
                                                    const rd_kafka_topic_partition_list_t *only) {
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)pl->n_tasks + 1);
  for (size_t i = 0; i < pl->n_tasks; i++) {
    eddy_ptask_t *t = pl->tasks[i];
    if (t->retired) continue;
    if (only && !rd_kafka_topic_partition_list_find(only, t->topic, t->partition)) continue;
    /* Checkpoints kept, at least once: no commit before the partition's
     * first checkpoint is in the store. A restart that found none would
     * start a fresh model at the committed offset, never learning the
     * records before it; with nothing committed it starts from the
     * beginning (auto.offset.reset = earliest), their predictions again. */
    if (pl->ckpt && !pl->eos && !t->ckpt_stored) continue;
    int64_t c = pl->eos ? t->wm.next : eddy_wm_committable(&t->wm);
    if (c >= 0 && c > t->wm.committed) rd_kafka_topic_partition_list_add(l, t->topic, t->partition)->offset = c;
    /* Its label partition: labels learned or dead-lettered (at least
     * once); with checkpoints, no further than the last acknowledged
     * checkpoint's label offset: a restart from one that has none reads
     * labels from the committed offset. */
    eddy_ptask_t *lt = t->labels;
    if (lt && (!only || rd_kafka_topic_partition_list_find(only, lt->topic, lt->partition)) &&
        (c = pl->eos ? lt->wm.next : eddy_wm_committable(&lt->wm)) >= 0) {
      if (pl->ckpt && !pl->eos && c > t->label_acked) c = t->label_acked;
      if (c >= 0 && c > lt->wm.committed)
        rd_kafka_topic_partition_list_add(l, lt->topic, lt->partition)->offset = c;
    }
  }
  return l;
}

typedef struct {
  int done;
  eddy_pipeline_t *pl;
} commit_wait_t;

static void on_commit_sync(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *offsets,
                           void *opaque) {
  (void)rk;
  commit_wait_t *w = opaque;
  w->done = 1;
  committed(w->pl, err, offsets);
}

/* Commits and waits for the answer at most timeout_ms (a broker that is
 * away must not hold a shutdown). */

void eddy__pl_commit_now(eddy_pipeline_t *pl, const rd_kafka_topic_partition_list_t *only, int timeout_ms) {
  if (!pl->consumer) return;
  if (pl->eos) {
    /* Every task's outputs are in the transaction: all its offsets go. */
    eddy__pl_txn_commit_wait(pl, only, timeout_ms);
    return;
  }
  rd_kafka_topic_partition_list_t *l = commit_list(pl, only);
  if (l->cnt) {
    rd_kafka_queue_t *q = rd_kafka_queue_new(pl->consumer);
    commit_wait_t w = {0, pl};
    rd_kafka_commit_queue(pl->consumer, l, q, on_commit_sync, &w);
    double deadline = eddy_now() + timeout_ms / 1000.0;
    while (!w.done && eddy_now() < deadline) rd_kafka_queue_poll_callback(q, 50);
    if (!w.done)
      eddy_log(EDDY_LOG_WARN, "pipeline %s: offset commit not confirmed within %d ms: the records after "
                              "the last confirmed commit will be predicted again by their next consumer",
               pl->conf->pipeline.name, timeout_ms);
    rd_kafka_queue_destroy(q);
  }
  rd_kafka_topic_partition_list_destroy(l);
}

void eddy__pl_commit_async(eddy_pipeline_t *pl) {
  if (!pl->consumer) return;
  /* One commit at a time while the coordinator answers slowly or not. */
  if (pl->commits_pending && eddy_now() - pl->commit_sent < 30) return;
  rd_kafka_topic_partition_list_t *l = commit_list(pl, NULL);
  if (l->cnt && rd_kafka_commit(pl->consumer, l, 1) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    pl->commits_pending = 1;
    pl->commit_sent = eddy_now();
  }
  rd_kafka_topic_partition_list_destroy(l);
}

/* ------------------------------------------------------- exactly once */

/* processing.guarantee = exactly_once: the outputs of the records handled
 * since the last commit and their offsets go in one Kafka transaction,
 * committed every commit interval (100 ms unless [source]
 * commit_interval_ms says otherwise), at revocation and at the end. A
 * transaction begins with its first output (or at its commit when only
 * offsets moved). Consumption waits while a commit is not confirmed. An
 * abortable error aborts it and rewinds every task to its state at the
 * last commit: the model restored from its checkpoint (written only at
 * committed offsets, so never past them) and the records from there
 * consumed again, learning only up to the committed offset (txn.c). A
 * fatal error (fenced by a newer instance with the same transactional.id)
 * stops the pipeline; nothing more is committed or checkpointed. */

static void txn_fatal(eddy_pipeline_t *pl, const char *why) {
  if (!pl->txn_failed)
    eddy_log(EDDY_LOG_ERROR, "pipeline %s: exactly once: %s (transactional.id %s): stopping; its last "
             "committed transaction is where its next run goes on", pl->conf->pipeline.name, why, pl->txn_id);
  pl->txn_failed = 1;
  pl->txn_open = 0;
  eddy__run_failed(pl->run, pl);
}

int eddy__pl_txn_begin(eddy_pipeline_t *pl) {
  char why[768];
  if (pl->txn_failed) return EDDY_EIO;
  if (eddy_txn_begin(pl->producer, why, sizeof why) != EDDY_TXN_OK) {
    txn_fatal(pl, why);
    return EDDY_EIO;
  }
  pl->txn_open = 1;
  pl->txn_offsets_sent = 0;
  return 0;
}

static int in_list(const rd_kafka_topic_partition_list_t *l, const eddy_ptask_t *t) {
  return l && rd_kafka_topic_partition_list_find(l, t->topic, t->partition) != NULL;
}

/* A task back to its state at the last commit: a fresh replica with its
 * checkpoint, and where to consume from (set on l). */
static int rewind_task(eddy_pipeline_t *pl, eddy_ptask_t *t, rd_kafka_topic_partition_list_t *l) {
  const eddy_pipeline_conf_t *c = pl->conf;
  char err[512];
  eddy_replica_t *r = eddy_replica_new(c, pl->path.fields, (size_t)c->pipeline.window, err, sizeof err);
  if (!r) {
    eddy_log(EDDY_LOG_ERROR, "pipeline %s: %s [%d]: cannot make a model replica: %s", c->pipeline.name, t->topic,
             (int)t->partition, err);
    return EDDY_ENOMEM;
  }
  r->partition = t->partition;
  r->on_alert = eddy__pl_on_alert;
  r->alert_ctx = t;
  eddy_replica_free(t->replica);
  t->replica = r;
  eddy_wm_reset(&t->wm);
  t->restored = 0;
  t->ckpt_offset = -1;
  t->label_ckpt = t->label_acked = -1;
  if (t->waiting) eddy_waiting_clear(t->waiting); /* the checkpoint's come back with it */
  int64_t off = RD_KAFKA_OFFSET_INVALID;
  if (eddy__pl_restore_task(pl, t, &off) == EDDY_EAGAIN) return EDDY_EAGAIN;
  int64_t start = eddy_txn_start(t->ckpt_offset, t->wm.committed, &t->learn_from, &t->emit_from);
  rd_kafka_topic_partition_list_add(l, t->topic, t->partition)->offset = start;
  t->expect = start >= 0 ? start : start == RD_KAFKA_OFFSET_BEGINNING ? 0 : -1;
  if (pl->labels_on) eddy__pl_labels_rewind(pl, t, l);
  eddy_log(EDDY_LOG_INFO, "pipeline %s: %s [%d]: rewound: model from %s %" PRId64 ", consuming again from "
           "offset %s%" PRId64 ", outputs from %" PRId64, c->pipeline.name, t->topic, (int)t->partition,
           t->ckpt_offset >= 0 ? "its checkpoint at offset" : "scratch, offset", t->learn_from,
           start == RD_KAFKA_OFFSET_BEGINNING ? "(the beginning) " : "", start < 0 ? t->learn_from : start,
           t->emit_from);
  return 0;
}

/* Aborts the transaction and rewinds every task not in skip (those are
 * being revoked). Returns EDDY_ESTATE (aborted), or EDDY_EIO when the
 * pipeline failed. */
int eddy__pl_txn_abort(eddy_pipeline_t *pl, const char *cause, const rd_kafka_topic_partition_list_t *skip) {
  const char *name = pl->conf->pipeline.name;
  char why[768];
  eddy_log(EDDY_LOG_WARN, "pipeline %s: exactly once: aborting the transaction (%s): its records are "
           "handled again from the last committed offsets", name, cause);
  pl->st.txn_aborts++;
  /* An output that can never be delivered (too large for its topic...)
   * would abort every transaction again: stop instead of looping. */
  if (++pl->abort_streak > 5) {
    char msg[1000];
    snprintf(msg, sizeof msg, "%d transactions aborted in a row without a commit (the last: %s): an output that "
             "can never be delivered?", pl->abort_streak, cause);
    pl->purging = 1;
    (void)eddy_txn_abort(pl->producer, 5000, why, sizeof why);
    rd_kafka_poll(pl->producer, 0);
    pl->purging = 0;
    txn_fatal(pl, msg);
    return EDDY_EIO;
  }
  pl->purging = 1;
  eddy_txn_result_t r = EDDY_TXN_RETRY;
  for (int tries = 0; tries < 3 && r == EDDY_TXN_RETRY; tries++)
    r = eddy_txn_abort(pl->producer, 10000, why, sizeof why);
  pl->dr_now_ms = 0;
  rd_kafka_poll(pl->producer, 0); /* the aborted outputs' reports */
  pl->purging = 0;
  pl->txn_open = pl->txn_abort = pl->txn_committing = pl->txn_offsets_sent = 0;
  if (r != EDDY_TXN_OK) {
    txn_fatal(pl, why);
    return EDDY_EIO;
  }
  if (pl->in_flight) {
    eddy_log(EDDY_LOG_WARN, "pipeline %s: %" PRIu64 " aborted outputs not reported yet: forgotten", name,
             pl->in_flight);
    pl->in_flight = 0;
  }
  /* Records held for a batch: consumed again. */
  eddy__pl_batch_drop(pl);
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)pl->n_tasks + 1);
  int failed = 0;
  for (size_t i = 0; i < pl->n_tasks && !failed; i++) {
    eddy_ptask_t *t = pl->tasks[i];
    if (t->retired || in_list(skip, t)) continue;
    int e = rewind_task(pl, t, l);
    if (e) {
      failed = 1;
      txn_fatal(pl, e == EDDY_EAGAIN ? "a checkpoint cannot be read to rewind a partition (Redis away)"
                                     : "a partition cannot be rewound");
    }
  }
  if (!failed && l->cnt && pl->consumer) {
    if (strcmp(rd_kafka_rebalance_protocol(pl->consumer), "COOPERATIVE") == 0) {
      rd_kafka_error_t *e = rd_kafka_seek_partitions(pl->consumer, l, 0);
      if (e) rd_kafka_error_destroy(e);
    } else {
      /* The whole assignment again, with the rewound offsets: records
       * already fetched from the old positions are dropped. */
      rd_kafka_assign(pl->consumer, l);
      if (pl->paused) rd_kafka_pause_partitions(pl->consumer, l);
    }
  }
  rd_kafka_topic_partition_list_destroy(l);
  return failed ? EDDY_EIO : EDDY_ESTATE;
}

/* Commits the transaction: the outputs so far and every task's offset
 * after its last record handled. 0: committed, or nothing to commit;
 * EDDY_EAGAIN: not confirmed yet (call again; nothing is consumed
 * meanwhile); EDDY_ESTATE: aborted and rewound (tasks in skip excepted);
 * EDDY_EIO: fatal. */
static int txn_commit(eddy_pipeline_t *pl, const rd_kafka_topic_partition_list_t *skip, int timeout_ms) {
  if (!pl->eos || !pl->producer || !pl->consumer) return 0;
  if (pl->txn_failed) return EDDY_EIO;
  if (pl->txn_abort) return eddy__pl_txn_abort(pl, "an output or its commit failed", skip);
  rd_kafka_topic_partition_list_t *l = commit_list(pl, NULL);
  if (!pl->txn_open && !l->cnt) {
    rd_kafka_topic_partition_list_destroy(l);
    return 0;
  }
  if (!pl->txn_open && eddy__pl_txn_begin(pl)) {
    rd_kafka_topic_partition_list_destroy(l);
    return EDDY_EIO;
  }
  char why[768];
  eddy_txn_result_t r = EDDY_TXN_OK;
  pl->txn_committing = 1;
  if (!pl->txn_offsets_sent) {
    r = eddy_txn_send_offsets(pl->producer, pl->consumer, l, timeout_ms, why, sizeof why);
    if (r == EDDY_TXN_OK) pl->txn_offsets_sent = 1;
  }
  if (r == EDDY_TXN_OK && pl->fault_abort_every && ++pl->commit_attempts % (uint64_t)pl->fault_abort_every == 0) {
    snprintf(why, sizeof why, "EDDY_FAULT_ABORT_EVERY=%" PRId64 ": an abort injected", pl->fault_abort_every);
    r = EDDY_TXN_ABORT;
  }
  if (r == EDDY_TXN_OK) {
    pl->dr_now_ms = 0;
    r = eddy_txn_commit(pl->producer, timeout_ms, why, sizeof why);
  }
  int rc = 0;
  switch (r) {
  case EDDY_TXN_OK:
    pl->txn_open = pl->txn_committing = pl->txn_offsets_sent = 0;
    pl->st.txn_commits++;
    pl->abort_streak = 0;
    committed(pl, RD_KAFKA_RESP_ERR_NO_ERROR, l);
    if (pl->unreachable) eddy__pl_reachable(pl);
    break;
  case EDDY_TXN_RETRY:
    eddy__pl_log_limited(pl, EDDY_LOG_WARN, "exactly once: the transaction's commit is not confirmed yet (%s): "
                "trying again, consumption waits", why);
    rc = EDDY_EAGAIN;
    break;
  case EDDY_TXN_ABORT:
    pl->st.commit_failures++;
    if (!skip && pl->batch_state != BATCH_IDLE) {
      /* The rewind drops the batch in hand: once it is handled (its
       * outputs go to the doomed transaction, nothing is consumed after
       * it), at a tick. */
      eddy__pl_log_limited(pl, EDDY_LOG_WARN, "exactly once: %s: the transaction is aborted after the batch in hand", why);
      pl->txn_abort = 1;
      pl->txn_committing = 0;
      rc = EDDY_EAGAIN;
      break;
    }
    rc = eddy__pl_txn_abort(pl, why, skip);
    break;
  case EDDY_TXN_FATAL:
    txn_fatal(pl, why);
    rc = EDDY_EIO;
    break;
  }
  rd_kafka_topic_partition_list_destroy(l);
  return rc;
}

/* Commits, trying again until timeout_ms; a commit still not confirmed
 * then is aborted (the partitions are being given up or the pipeline
 * stops: nothing may stay pending for their next owner). */
int eddy__pl_txn_commit_wait(eddy_pipeline_t *pl, const rd_kafka_topic_partition_list_t *skip, int timeout_ms) {
  double deadline = eddy_now() + timeout_ms / 1000.0;
  int rc;
  for (;;) {
    double left = deadline - eddy_now();
    rc = txn_commit(pl, skip, left > 0.5 ? (int)(left * 1000) : 500);
    if (rc != EDDY_EAGAIN) return rc;
    if (eddy_now() >= deadline) return eddy__pl_txn_abort(pl, "its commit was not confirmed in time", skip);
  }
}

/* After a commit: the checkpoints that are due (their offsets are the
 * committed ones). */
static void txn_committed_ckpt(eddy_pipeline_t *pl) {
  double now = eddy_now();
  if (!pl->ckpt || pl->state != EDDY_PL_RUNNING || now < pl->next_ckpt || pl->batch_state != BATCH_IDLE) return;
  eddy__pl_checkpoint_tasks(pl, EDDY_CKPT_TIMER);
  pl->next_ckpt = now + pl->conf->state.checkpoint_interval;
}

/* The tick's part: commit on the interval, retry a commit, abort. */
void eddy__pl_txn_tick(eddy_pipeline_t *pl, double now) {
  if (pl->txn_failed || !(pl->txn_abort || pl->txn_committing || now >= pl->next_commit)) return;
  /* An abort drops the batch in hand: between batches only. */
  if (pl->txn_abort && pl->batch_state != BATCH_IDLE) return;
  pl->next_commit = now + pl->commit_interval;
  int rc = txn_commit(pl, NULL, 1000);
  if (rc == 0) txn_committed_ckpt(pl);
  if (rc == 0 || rc == EDDY_ESTATE) eddy__pl_kick(pl);
}

/* Exactly once, at assignment (after the checkpoints are restored): the
 * group's committed offsets, and from them where each partition starts
 * and which of its records are replayed (txn.c). EDDY_EAGAIN: not read. */
int eddy__pl_eos_positions(eddy_pipeline_t *pl, rd_kafka_topic_partition_list_t *parts) {
  const char *name = pl->conf->pipeline.name;
  rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_copy(parts);
  for (int i = 0; i < c->cnt; i++) c->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
  rd_kafka_resp_err_t e = rd_kafka_committed(pl->consumer, c, 10000);
  for (int i = 0; !e && i < c->cnt; i++)
    if (c->elems[i].err) e = c->elems[i].err;
  if (e) {
    eddy__pl_log_limited(pl, EDDY_LOG_WARN, "exactly once: the group's committed offsets cannot be read (%s): the "
                "assignment waits", rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(c);
    return EDDY_EAGAIN;
  }
  for (int i = 0; i < parts->cnt; i++) {
    rd_kafka_topic_partition_t *p = &parts->elems[i];
    eddy_ptask_t *t = eddy__pl_find_task(pl, p->topic, p->partition);
    const rd_kafka_topic_partition_t *k = rd_kafka_topic_partition_list_find(c, p->topic, p->partition);
    if (!t && k && eddy__pl_is_label_topic(pl, p->topic)) {
      /* A label partition: from its input task's checkpoint (its label
       * offset), dead letters from the committed offset. */
      eddy_ptask_t *in = eddy__pl_find_task(pl, pl->conf->source.topics, p->partition), *lt = in ? in->labels : NULL;
      if (!lt) continue;
      lt->wm.committed = k->offset >= 0 ? k->offset : -1;
      p->offset = eddy_txn_start(in->label_ckpt, lt->wm.committed, &lt->learn_from, &lt->emit_from);
      lt->expect = p->offset >= 0 ? p->offset : p->offset == RD_KAFKA_OFFSET_BEGINNING ? 0 : -1;
      continue;
    }
    if (!t || !k) continue;
    int64_t committed_at = k->offset >= 0 ? k->offset : -1;
    t->wm.committed = committed_at;
    p->offset = eddy_txn_start(t->ckpt_offset, committed_at, &t->learn_from, &t->emit_from);
    t->expect = p->offset >= 0 ? p->offset : p->offset == RD_KAFKA_OFFSET_BEGINNING ? 0 : -1;
    if (t->learn_from < t->emit_from)
      eddy_log(EDDY_LOG_INFO, "pipeline %s: %s [%d]: outputs committed up to offset %" PRId64 ", model at "
               "offset %" PRId64 "%s: records in between are learned again without outputs", name, p->topic,
               (int)p->partition, t->emit_from, t->learn_from,
               t->ckpt_offset < 0 ? " (no checkpoint: from the partition's beginning)" : "");
    else if (t->learn_from == t->emit_from)
      eddy_log(EDDY_LOG_INFO, "pipeline %s: %s [%d]: outputs committed and model at offset %" PRId64, name,
               p->topic, (int)p->partition, t->emit_from);
    else if (t->learn_from > t->emit_from)
      eddy_log(EDDY_LOG_WARN, "pipeline %s: %s [%d]: the checkpoint (offset %" PRId64 ") is past the committed "
               "offset %" PRId64 " (written by at_least_once?): records in between are predicted without "
               "learning", name, p->topic, (int)p->partition, t->learn_from, t->emit_from);
  }
  rd_kafka_topic_partition_list_destroy(c);
  return 0;
}
