/* pipeline_checkpoint.c: a pipeline's model checkpoints: written per task when
 * its outputs are delivered, on a timer, at revocation and at the end; the
 * store's answers. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/stream/pipeline_int.h"

/* ------------------------------------------------------------- checkpoints */

/* Test only (tests/faults): EDDY_TEST_CRASH_AT=STEP[:N] ends the process
 * with _exit(137), as a SIGKILL would, the Nth time (default 1) it reaches
 * STEP: ckpt_before_write (a checkpoint about to be sent to the store) or
 * ckpt_after_write (the store has acknowledged one; its offsets are not
 * committed yet). Unset: one getenv, then nothing. */
static char crash_want[32];
static atomic_long crash_left;

static void crash_init(void) {
  const char *e = getenv("EDDY_TEST_CRASH_AT");
  if (!e || !*e) return;
  snprintf(crash_want, sizeof crash_want, "%s", e);
  char *c = strchr(crash_want, ':');
  long left = 1;
  if (c) {
    *c = '\0';
    left = strtol(c + 1, NULL, 10);
    if (left < 1) left = 1;
  }
  atomic_store(&crash_left, left);
}

/* Read once, counted atomically: worker threads reach it too. */
static void test_crash_at(const char *step) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, crash_init);
  if (!crash_want[0] || strcmp(crash_want, step) != 0 || atomic_fetch_sub(&crash_left, 1) > 1) return;
  fprintf(stderr, "eddy: EDDY_TEST_CRASH_AT=%s: exiting with 137\n", step);
  _exit(137);
}

/* The next offsets a checkpoint of t stands at: those after the last
 * records handled, or, for a partition that has handled none since its
 * restore, its checkpoint's. */
static int64_t in_next(const eddy_ptask_t *t) { return t->wm.next >= 0 ? t->wm.next : t->ckpt_offset; }

static int64_t label_next(const eddy_ptask_t *t) {
  return t->labels && t->labels->wm.next >= 0 ? t->labels->wm.next : t->label_ckpt;
}

/* Writes t's model with the offset after the last record it handled;
 * with a label topic, the label partition's next offset and the waiting
 * predictions too, in the same write. */
void eddy__pl_checkpoint_task(eddy_pipeline_t *pl, eddy_ptask_t *t, int kind) {
  eddy_buf_t *b = &pl->ckpt_buf;
  eddy_buf_clear(b);
  int64_t next = in_next(t), lnext = label_next(t);
  int err = eddy_replica_save(t->replica, b);
  if (!err && b->err) err = EDDY_ENOMEM;
  /* Redis drops them twice label_ttl of wall clock after the checkpoint;
   * a ttl beyond a century (or none) keeps them. */
  int64_t ttl = pl->conf->source.label_ttl;
  eddy_ckpt_labels_t lab = {.offset = lnext, .ttl_ms = ttl > 0 && ttl <= 1600000000 ? ttl * 2000 : 0};
  if (!err && t->waiting) {
    eddy_buf_clear(&pl->wait_buf);
    if (eddy_waiting_save(t->waiting, next, lnext, &pl->wait_buf)) err = EDDY_ENOMEM;
    lab.waiting = pl->wait_buf.data;
    lab.waiting_len = pl->wait_buf.len;
  }
  if (!err) test_crash_at("ckpt_before_write");
  if (!err)
    err = pl->store.type->checkpoint(&pl->store, t, next, b->data, b->len, pl->labels_on ? &lab : NULL, kind);
  if (err) {
    pl->st.checkpoint_failures++;
    eddy__pl_log_limited(pl, EDDY_LOG_ERROR, "%s [%d]: checkpoint at offset %" PRId64 " not written: %s", t->topic,
                (int)t->partition, next, eddy_strerror(err));
    return;
  }
  t->ckpt_offset = next;
  t->label_ckpt = lnext;
  pl->ckpts_pending++;
  if (kind == EDDY_CKPT_REVOKE) pl->revoke_ckpts++;
}

/* A task's model moved since its last checkpoint (a label learned moves
 * it too). */
int eddy__pl_has_news(const eddy_ptask_t *t) {
  int64_t next = in_next(t);
  return !t->retired && t->restored && next >= 0 && (next > t->ckpt_offset || label_next(t) > t->label_ckpt) &&
         (!t->pl->eos || (t->wm.next <= t->wm.committed &&
                          (!t->labels || t->labels->wm.next <= t->labels->wm.committed)));
}

int eddy__pl_delivered(const eddy_ptask_t *t) {
  return eddy_wm_open(&t->wm) == 0 && (!t->labels || eddy_wm_open(&t->labels->wm) == 0);
}

/* Checkpoints every task whose model moved and whose records' outputs
 * are all delivered: a restart from a checkpoint then re-predicts records
 * (duplicates) but never skips one whose prediction was lost. Returns 1
 * when no task with news is left waiting for deliveries. */
int eddy__pl_checkpoint_tasks(eddy_pipeline_t *pl, int kind) {
  int all = 1;
  for (size_t i = 0; i < pl->n_tasks; i++) {
    eddy_ptask_t *t = pl->tasks[i];
    if (!eddy__pl_has_news(t)) continue;
    if (!eddy__pl_delivered(t)) {
      all = 0;
      continue;
    }
    eddy__pl_checkpoint_task(pl, t, kind);
  }
  return all;
}

/* Timer checkpoints, between batches: consumption waits (a delivery
 * round trip, at most CKPT_WAIT) for the outputs of the tasks with news;
 * tasks still waiting then are left to the next round. Returns 1 when
 * consumption may go on. */
#define CKPT_WAIT 2.0

int eddy__pl_ckpt_gate(eddy_pipeline_t *pl) {
  /* Exactly once: checkpoints follow the transactions' commits. */
  if (!pl->ckpt || pl->state != EDDY_PL_RUNNING || pl->eos) return 1;
  double now = eddy_now();
  if (!pl->ckpt_due) {
    if (now < pl->next_ckpt) return 1;
    pl->ckpt_due = 1;
    pl->ckpt_since = now;
  }
  int all = eddy__pl_checkpoint_tasks(pl, EDDY_CKPT_TIMER);
  if (!all && now - pl->ckpt_since < CKPT_WAIT) return 0;
  if (!all)
    eddy__pl_log_limited(pl, EDDY_LOG_WARN, "checkpoints: some partitions' outputs still await delivery after %.0f s: "
                "they are checkpointed at a later round", CKPT_WAIT);
  pl->ckpt_due = 0;
  pl->next_ckpt = now + pl->conf->state.checkpoint_interval;
  return 1;
}

void eddy__pl_unassign_now(eddy_pipeline_t *pl, const rd_kafka_topic_partition_list_t *parts) {
  pl->unassign_due = 0;
  if (!pl->consumer) return;
  if (strcmp(rd_kafka_rebalance_protocol(pl->consumer), "COOPERATIVE") == 0 && parts) {
    rd_kafka_error_t *e = rd_kafka_incremental_unassign(pl->consumer, parts);
    if (e) rd_kafka_error_destroy(e);
  } else {
    rd_kafka_assign(pl->consumer, NULL);
  }
}

void eddy__pipeline_checkpointed(eddy_pipeline_t *pl, int32_t partition, int64_t offset, int64_t label_offset,
                                 int kind, int status, int64_t stored) {
  if (pl->ckpts_pending) pl->ckpts_pending--;
  const char *name = pl->conf->pipeline.name;
  if (status == 0 || (status == EDDY_ESTATE && stored > offset)) {
    /* The store holds a checkpoint of the partition: its offsets may be
     * committed (pipeline_commit.c). */
    for (size_t i = 0; i < pl->n_tasks; i++) {
      eddy_ptask_t *t = pl->tasks[i];
      if (t->partition != partition || t->retired || t->ckpt_offset < offset) continue;
      t->ckpt_stored = 1;
      if (status == 0 && label_offset > t->label_acked) t->label_acked = label_offset;
    }
  }
  if (status == 0) {
    test_crash_at("ckpt_after_write");
    pl->st.checkpoints++;
  } else if (status == EDDY_ESTATE && stored > offset) {
    pl->st.checkpoint_failures++;
    eddy_log(EDDY_LOG_WARN, "pipeline %s: partition %d: Redis holds a checkpoint at offset %" PRId64
             ", past this one (%" PRId64 "): another instance has gone further; this one was not kept",
             name, (int)partition, stored, offset);
  } else if (status != EDDY_ESTATE) {
    pl->st.checkpoint_failures++;
    eddy__pl_log_limited(pl, EDDY_LOG_ERROR, "partition %d: checkpoint at offset %" PRId64 " not written",
                (int)partition, offset);
  }
  if (kind == EDDY_CKPT_REVOKE && pl->revoke_ckpts && --pl->revoke_ckpts == 0 && pl->unassign_due) {
    eddy_log(EDDY_LOG_INFO, "pipeline %s: checkpoints of the revoked partitions written", name);
    eddy__pl_unassign_now(pl, pl->unassign_parts);
    if (pl->unassign_parts) rd_kafka_topic_partition_list_destroy(pl->unassign_parts);
    pl->unassign_parts = NULL;
  }
}
