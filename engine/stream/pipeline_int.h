/* pipeline_int.h: private to the pipeline's files (engine/pipeline*.c): the
 * pipeline's struct and the functions they share (eddy__pl_*). The public
 * API is engine/stream.h. */
#ifndef EDDY_PIPELINE_INT_H
#define EDDY_PIPELINE_INT_H

#include <stdint.h>

#include "learners/learners.h"
#include "engine/record/record.h"
#include "engine/stream/stream.h"

_Static_assert(sizeof(void *) == 8, "delivery opaques pack 64 bits into a pointer");

enum { OUT_PREDICTION = 0, OUT_ALERT = 1, OUT_DEAD_LETTER = 2 };

/* A consumed record held for a batch, with its task and the index of
 * its entity in the task's state batch (-1: no key). */
typedef struct held {
  rd_kafka_message_t *m;
  eddy_ptask_t *t;
  int64_t entity;
} held_t;

enum { BATCH_IDLE, BATCH_FETCHING, BATCH_WAIT_STORE };
enum { FETCH_NONE, FETCH_PENDING, FETCH_OK, FETCH_FAILED };

/* A delivery that failed and waits to be produced again (rare). */
typedef struct retry {
  struct retry *next;
  rd_kafka_topic_t *rkt;
  void *opaque;
  void *value, *key;
  size_t value_len, key_len;
  rd_kafka_headers_t *headers;
} retry_t;

struct eddy_pipeline {
  eddy_run_t *run;
  const eddy_pipeline_conf_t *conf;
  /* [run] threads > 1: this is instance `instance` of `n_group`, running on
   * its worker's loop; group: every instance of the pipeline (the run's,
   * read by the main thread under every worker's lock: metrics, dashboard,
   * serving). NULL loop: the run's loop; NULL group: alone. */
  uv_loop_t *loop;
  int instance;
  eddy_pipeline_t *const *group;
  size_t n_group;
  eddy_pl_state_t state;
  int failed;

  /* Made by eddy_pipeline_new. */
  eddy_path_t path;         /* the one record path: fields, decoder, aggregates, output */
  eddy_plstore_t store;     /* checkpoints, and the aggregates' store.entities */
  int ckpt;                 /* the store keeps checkpoints (Redis) */
  int batched;              /* entities fetched per batch (Redis, with aggregates) */
  eddy_fields_t keyfields;  /* the field map with the entity key alone (first pass) */
  eddy_decoder_t *keydec;
  eddy_record_t keyrec;
  eddy_buf_t alert_out;
  /* [source] label_topic (pipeline_labels.c): the label records' field
   * map (id, target, timestamp), decoder and record; Avro label records
   * are decoded by a copy of the config whose [source] schema and
   * schema_id are label_schema's. */
  int labels_on;
  eddy_fields_t labelfields;
  eddy_pipeline_conf_t *labelconf;
  eddy_decoder_t *labeldec;
  eddy_record_t labelrec;
  rd_kafka_conf_t *cconf, *pconf;
  rd_kafka_topic_partition_list_t *topics;
  char bootstrap[256];

  /* Kafka and the loop. */
  rd_kafka_t *consumer, *producer;
  rd_kafka_queue_t *cq, *pq;
  int cpipe[2], ppipe[2];
  uv_poll_t cpoll, ppoll;
  uv_idle_t more;
  int handles;         /* uv handles not yet closed */
  int more_active;
  rd_kafka_topic_t *t_pred, *t_alerts, *t_dlq;

  /* Tasks: every task not yet freed (retired ones wait for reports), the
   * slot table that delivery reports index, and a lookup cache. */
  eddy_ptask_t **tasks;
  size_t n_tasks, cap_tasks;
  eddy_ptask_t **slots;
  size_t n_slots;
  eddy_ptask_t *last;

  /* The record being handled (alerts attach to it). */
  eddy_ptask_t *cur;
  uint64_t cur_seq;

  unsigned paused;
  int held;            /* backpressure: the consumer's queue is not read */
  double batch_time;   /* wall clock at the start of the batch */
  int64_t dr_now_ms;   /* wall clock of the delivery reports being served (0: not read yet) */
  double held_since;
  uint64_t in_flight;
  retry_t *retries;
  double next_commit;
  int commits_pending;
  double commit_sent;
  double drain_deadline;
  int revoke_budget_ms;
  int purging;         /* outputs are being dropped at the end: no retries */

  int unreachable;
  int auth_failed; /* Kafka refused the credentials: stopping, said once */
  double unreachable_since, unreachable_logged;
  double last_error_log;
  uint64_t errors_logged;

  /* Batches of the Redis store: records held (their entities fetched in
   * one round trip per task, then handled in order), the first n_batch
   * of which form the batch in hand; its tasks. */
  held_t *q;
  size_t n_q, cap_q, n_batch;
  eddy_ptask_t **btasks;
  size_t n_btasks, cap_btasks;
  uint64_t batch_id;
  int batch_state;
  int fetches;         /* fetches of the batch not answered yet */
  int issuing;
  double refetch_at;

  /* Checkpoints. */
  eddy_buf_t ckpt_buf;
  eddy_buf_t wait_buf;  /* the waiting predictions of a checkpoint ([source] label_topic) */
  double next_ckpt, ckpt_since;
  int ckpt_due;
  int ckpts_pending;   /* written and not answered */
  int revoke_ckpts;    /* those of the last revocation */
  int unassign_due;    /* the revoked partitions are given up once they are answered */
  double unassign_deadline;
  rd_kafka_topic_partition_list_t *unassign_parts;
  rd_kafka_topic_partition_list_t *assign_wait; /* an assignment waiting for Redis */
  double assign_retry;
  int final_sent;
  int closing;         /* the consumer is being closed: revocations do not wait */
  int store_started;
  int store_seen_ready;
  double store_away_since;

  /* Exactly once (txn.c): the transaction in hand. */
  int eos;             /* processing.guarantee = exactly_once */
  int txn_open;        /* begun, neither committed nor aborted */
  int txn_abort;       /* an output failed: abort at the next tick */
  int txn_committing;  /* a commit not confirmed yet: retried before anything is consumed */
  int txn_offsets_sent;
  int txn_failed;      /* fatal (fenced): nothing more is committed */
  int final_commit;
  int replaying;       /* the record in hand has no outputs */
  int abort_streak;    /* aborts since the last commit */
  int64_t fault_abort_every; /* EDDY_FAULT_ABORT_EVERY: tests abort every Nth commit (0: never) */
  uint64_t commit_attempts;
  double commit_interval; /* seconds */
  char txn_id[256];

  /* HTTP serving (pipeline_serve.c): the input topic's partition count,
   * cached, and the schema the key-only decode is given (it adds nothing). */
  char serve_topic[256];
  int32_t serve_parts;
  double serve_parts_at;
  eddy_schema_t *serve_schema;

  /* Dead letters since the last report (pipeline_output.c): by stage
   * (size, decode, validate, other), and the first one's words. */
  struct {
    uint64_t n, by_stage[4];
    char first[640];
    double next_report, since; /* since: the last report, or the first dead letter */
  } dlq_log;

  eddy_pipeline_stats_t st;
};

/* eddy__pl_handle's `pre`: fetch the record's entity now (engine/record/). */
#define ENTITY_NOW EDDY_PATH_ENTITY_NOW
#define UNASSIGN_WAIT 10.0 /* seconds revoked partitions wait for their checkpoints */

/* pipeline.c */
int64_t eddy__pl_now_ms(void);
void *eddy__pl_opaque_of(const eddy_ptask_t *t, int kind, uint64_t seq);
void eddy__pl_log_limited(eddy_pipeline_t *pl, eddy_log_level_t level, const char *fmt, ...)
    EDDY_PRINTF(3, 4);
void eddy__pl_reachable(eddy_pipeline_t *pl);
eddy_ptask_t *eddy__pl_find_task(eddy_pipeline_t *pl, const char *topic, int32_t partition);
eddy_ptask_t *eddy__pl_task_of(eddy_pipeline_t *pl, const rd_kafka_message_t *m);
void eddy__pl_task_drop(eddy_pipeline_t *pl, eddy_ptask_t *t);
eddy_ptask_t *eddy__pl_task_add(eddy_pipeline_t *pl, const char *topic, int32_t partition);
void eddy__pl_kick(eddy_pipeline_t *pl);
void eddy__pl_check_backpressure(eddy_pipeline_t *pl);

/* pipeline_output.c */
void eddy__pl_emit(eddy_pipeline_t *pl, rd_kafka_topic_t *rkt, int kind, const void *value, size_t len,
                   const void *key, size_t key_len, rd_kafka_headers_t *headers);
void eddy__pl_on_alert(void *ctx, const eddy_alert_t *a);
/* Logs the dead letters since the last report, at most every few seconds
 * (final: now, at the stop): how many, by stage, the first one's error;
 * an error while the pipeline has predicted nothing at all. */
void eddy__pl_dlq_report(eddy_pipeline_t *pl, double now, int final);
void eddy__pl_dead_letter(eddy_pipeline_t *pl, const rd_kafka_message_t *m, const char *stage, int err,
                          const char *msg);
void eddy__pl_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);
void eddy__pl_retry_deliveries(eddy_pipeline_t *pl);

/* pipeline_record.c */
void eddy__pl_handle(eddy_pipeline_t *pl, const rd_kafka_message_t *m, eddy_ptask_t *t, int64_t pre);
/* Every consumed record of t, in consumption order: counts and logs the
 * offsets jumped over that the broker no longer had (pipeline_skip.c). */
void eddy__pl_offset_seen(eddy_pipeline_t *pl, eddy_ptask_t *t, const rd_kafka_message_t *m);
void eddy__pl_unhold(eddy_pipeline_t *pl, size_t n);
void eddy__pl_batch_forget(eddy_pipeline_t *pl, eddy_ptask_t *t);
void eddy__pl_batch_drop(eddy_pipeline_t *pl);
void eddy__pl_batch_tick(eddy_pipeline_t *pl);
void eddy__pl_consume(eddy_pipeline_t *pl);
void eddy__pl_on_consumer_io(uv_poll_t *h, int status, int events);
void eddy__pl_on_more(uv_idle_t *h);
void eddy__pl_on_producer_io(uv_poll_t *h, int status, int events);

/* pipeline_labels.c */
int eddy__pl_labels_init(eddy_pipeline_t *pl, char *errstr, size_t errstr_size);
void eddy__pl_labels_free(eddy_pipeline_t *pl);
int eddy__pl_labels_check(eddy_pipeline_t *pl, char *errstr, size_t errstr_size);
int eddy__pl_labels_task(eddy_pipeline_t *pl, eddy_ptask_t *t);
int eddy__pl_labels_make(eddy_pipeline_t *pl, eddy_ptask_t *t);
int eddy__pl_is_label_topic(const eddy_pipeline_t *pl, const char *topic);
void eddy__pl_labels_attach(eddy_pipeline_t *pl, const rd_kafka_topic_partition_list_t *parts);
void eddy__pl_labels_retire(eddy_pipeline_t *pl, eddy_ptask_t *t);
void eddy__pl_on_decoded(void *ctx, const eddy_path_input_t *in, double t_ms);
void eddy__pl_on_waiting(void *ctx, const eddy_path_input_t *in, const void *id, size_t id_len,
                         const eddy_instance_t *x, const double *pred, int k, double t_ms);
int eddy__pl_labels_push(eddy_pipeline_t *pl, rd_kafka_message_t *m, eddy_ptask_t *q);
void eddy__pl_labels_drain(eddy_pipeline_t *pl);
void eddy__pl_labels_tick(eddy_pipeline_t *pl);
/* At assignment, after restores: each label partition of parts starts at
 * its input task's checkpoint label offset (none: the committed one). */
void eddy__pl_labels_seek(eddy_pipeline_t *pl, rd_kafka_topic_partition_list_t *parts);
void eddy__pl_labels_rewind(eddy_pipeline_t *pl, eddy_ptask_t *t, rd_kafka_topic_partition_list_t *l);

/* pipeline_checkpoint.c */
void eddy__pl_checkpoint_task(eddy_pipeline_t *pl, eddy_ptask_t *t, int kind);
int eddy__pl_has_news(const eddy_ptask_t *t);
/* Whether t and its label partition have no output awaiting delivery. */
int eddy__pl_delivered(const eddy_ptask_t *t);
int eddy__pl_checkpoint_tasks(eddy_pipeline_t *pl, int kind);
int eddy__pl_ckpt_gate(eddy_pipeline_t *pl);
void eddy__pl_unassign_now(eddy_pipeline_t *pl, const rd_kafka_topic_partition_list_t *parts);

/* pipeline_commit.c */
void eddy__pl_on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *offsets,
                        void *opaque);
void eddy__pl_commit_now(eddy_pipeline_t *pl, const rd_kafka_topic_partition_list_t *only, int timeout_ms);
void eddy__pl_commit_async(eddy_pipeline_t *pl);
int eddy__pl_txn_begin(eddy_pipeline_t *pl);
int eddy__pl_txn_abort(eddy_pipeline_t *pl, const char *cause, const rd_kafka_topic_partition_list_t *skip);
int eddy__pl_txn_commit_wait(eddy_pipeline_t *pl, const rd_kafka_topic_partition_list_t *skip, int timeout_ms);
void eddy__pl_txn_tick(eddy_pipeline_t *pl, double now);
int eddy__pl_eos_positions(eddy_pipeline_t *pl, rd_kafka_topic_partition_list_t *parts);

/* pipeline_rebalance.c */
void eddy__pl_revoke_tasks(eddy_pipeline_t *pl, const rd_kafka_topic_partition_list_t *parts, int lost);
int eddy__pl_restore_task(eddy_pipeline_t *pl, eddy_ptask_t *t, int64_t *offset);
void eddy__pl_retry_assign(eddy_pipeline_t *pl);
void eddy__pl_on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
                           void *opaque);

#endif
