/* stream.h: `eddy run`'s moving parts, shared by engine/run.c (the loop,
 * reloads, signals, shutdown), engine/pipeline*.c (one pipeline's consumer,
 * producer and record path), engine/task.c (a partition's task and its
 * commit watermark), engine/metrics.c (Prometheus text) and engine/http.c.
 *
 * One libuv loop thread owns everything here. librdkafka's consumer and
 * producer queues wake the loop through rd_kafka_queue_io_event_enable on
 * pipes watched by uv_poll; every librdkafka callback (rebalance, delivery
 * reports, errors, commits) runs on the loop thread, from the polls it
 * makes. */
#ifndef EDDY_STREAM_H
#define EDDY_STREAM_H

#include <uv.h>

#include "connectors/connectors.h"
#include "engine/config/config.h"
#include "engine/model/model.h"

typedef struct eddy_run eddy_run_t;
typedef struct eddy_pipeline eddy_pipeline_t;
typedef struct eddy_ptask eddy_ptask_t;

/* ------------------------------------------------------- commit watermark */

/* At-least-once bookkeeping of one partition. Each record consumed is
 * "begun" in offset order and stays open while any of its outputs
 * (prediction, alerts, dead letter) awaits its delivery report; the offset
 * that may be committed is the first open record's, or the one after the
 * last record when none is open. Records hold one extra pending count, the
 * guard, from eddy_wm_begin until the record path is done with them, so
 * that a record whose alerts are still being produced is never complete.
 * Sequence numbers count records; delivery reports carry their low 32
 * bits (eddy_wm_seq widens them back). Memory grows only when more
 * records are open than ever before (bounded by [sink] max_in_flight). */
typedef struct eddy_wm_entry {
  int64_t offset;
  int64_t ts_ms;    /* the record's Kafka timestamp, for latency; -1 none */
  uint32_t pending; /* outputs not yet reported, plus the guard */
} eddy_wm_entry_t;

typedef struct eddy_watermark {
  eddy_wm_entry_t *v;
  uint64_t mask;       /* capacity - 1; capacity is a power of two */
  uint64_t head, tail; /* open records are the sequence numbers [head, tail) */
  int64_t next;        /* the offset after the last record begun; -1 before any */
  int64_t committed;   /* the last offset committed; -1 none */
} eddy_watermark_t;

int eddy_wm_init(eddy_watermark_t *w, size_t capacity);
void eddy_wm_free(eddy_watermark_t *w);
/* Begins the record at offset (larger than any before) with its guard. */
int eddy_wm_begin(eddy_watermark_t *w, int64_t offset, int64_t ts_ms, uint64_t *seq);
/* One more output of record seq awaits its report. */
void eddy_wm_add(eddy_watermark_t *w, uint64_t seq);
/* One output (or the guard) of record seq is done: delivered, or given up
 * for good. Returns 1 when that completed the record, 0 when it still
 * waits, EDDY_ENOENT for a sequence that is not open. */
int eddy_wm_done(eddy_watermark_t *w, uint64_t seq);
/* The open sequence number whose low 32 bits are low, or UINT64_MAX. */
uint64_t eddy_wm_seq(const eddy_watermark_t *w, uint32_t low);
/* The entry of an open sequence number. */
static inline eddy_wm_entry_t *eddy_wm_entry(const eddy_watermark_t *w, uint64_t seq) {
  return &w->v[seq & w->mask];
}
/* The offset to commit now (-1: nothing consumed yet). */
int64_t eddy_wm_committable(const eddy_watermark_t *w);
/* Forgets every open record (their outputs were aborted with their
 * transaction): sequence numbers go on from where they were, so that a
 * late report of a forgotten one matches nothing; `next` is -1 again and
 * `committed` stays. */
void eddy_wm_reset(eddy_watermark_t *w);
/* Records open, and whether a commit would move the committed offset. */
static inline uint64_t eddy_wm_open(const eddy_watermark_t *w) { return w->tail - w->head; }

/* ---------------------------------------------------------------- tasks */

/* A partition's task: its model replica, commit watermark and counters.
 * Made on assignment; on revocation it is retired (the replica freed) and
 * freed once no output of it awaits a delivery report. */
struct eddy_ptask {
  eddy_pipeline_t *pl;
  char *topic;
  int32_t partition;
  uint32_t slot;            /* index in the pipeline's slot table (delivery reports) */
  const void *rkt;          /* the consumer's topic handle, learnt from its messages */
  eddy_replica_t *replica;  /* NULL once retired */
  eddy_watermark_t wm;
  int retired;
  uint64_t records, predictions, learned, dead_lettered;
  double last_accuracy;     /* windowed figure kept when retired (not exported) */
  eddy_state_batch_t *store; /* its entities of the current batch (aggregates), or NULL */
  /* Checkpoints: the next offset of the last checkpoint written or
   * restored (-1: none), and whether the assignment restored it yet. */
  int64_t ckpt_offset;
  int restored;
  /* [source] label_topic: the label partition's next offset in the last
   * checkpoint written or restored, and in the last one the store
   * acknowledged (-1: none). Label offsets are committed up to the
   * latter only: a restart from a checkpoint without one reads labels
   * from the committed offset (pipeline_commit.c). */
  int64_t label_ckpt, label_acked;
  /* The store holds a checkpoint of the partition (restored, or one
   * written was acknowledged). Until then, at least once, its offsets
   * are not committed: a restart that finds no checkpoint starts a fresh
   * model at the committed offset, and the model would leave out every
   * record before it (pipeline_commit.c). */
  int ckpt_stored;
  /* The batch being fetched (Redis store): the batch it belongs to and
   * its fetch's state. */
  uint64_t batch_mark;
  int fetch;
  /* Exactly-once (txn.c): records before learn_from are already in the
   * model (its checkpoint's next offset), records before emit_from have
   * their outputs committed (the group's committed offset); a record
   * below either is handled without learning or without outputs. 0 and 0
   * at least once. */
  int64_t learn_from, emit_from;
  /* The offset the next consumed record should have (-1: not known yet):
   * a record beyond it that the broker no longer has is a skip
   * (pipeline_skip.c). */
  int64_t expect;
  /* [source] label_topic (pipeline_labels.c): an input task has its
   * label partition's (the same number) in `labels`; that one has no
   * replica of its own, `owner` is the input task, and it is in the slot
   * table (its dead letters' reports) but not in the task list. The
   * input task keeps its predictions waiting for their label. */
  struct eddy_ptask *labels, *owner;
  eddy_waiting_t *waiting;
  /* Records polled and not yet handled, merged with the other partition's
   * in timestamp order; since when the other one has been waited for. */
  struct rd_kafka_message_s **buf;
  size_t buf_head, buf_n, buf_cap;
  int64_t fetched_next;     /* the offset after the last one polled (-1: not known) */
  double blocked_since;
  int buf_paused;           /* paused because its buffer is full */
};

/* ----------------------------------------------------------- state store */

/* A pipeline's model store: model checkpoints per task (restored at
 * assignment, written between batches on [state] checkpoint_interval, at
 * revocation and at shutdown) and the per-entity aggregates' store
 * (connectors' eddy_store_t). `memory` keeps models in the process only
 * (lost on restart, rebuilt from the stream) and the aggregates in a
 * bounded table; `redis` (engine/plstore_redis.c) keeps both in Redis on
 * one connection of the loop, which tells the pipeline when it is away
 * (eddy__pipeline_store_ready: consumption pauses) and back. Every
 * function may be NULL; all run on the loop thread. */
typedef struct eddy_plstore eddy_plstore_t;

enum { EDDY_CKPT_TIMER = 0, EDDY_CKPT_REVOKE = 1, EDDY_CKPT_FINAL = 2 };

typedef struct eddy_plstore_type {
  const char *name;
  /* Checks the config; no network (eddy_pipeline_new). */
  int (*open)(eddy_plstore_t *s, char *errstr, size_t errstr_size);
  /* Connects on the loop (eddy_pipeline_start) and makes s->entities
   * when the pipeline has aggregates. */
  int (*start)(eddy_plstore_t *s, uv_loop_t *loop, char *errstr, size_t errstr_size);
  /* Closes the connection when the pipeline is done (answers still due
   * arrive first); eddy__pipeline_store_closed is called at the end. */
  void (*stop)(eddy_plstore_t *s);
  /* Frees what open and start made. */
  void (*close)(eddy_plstore_t *s);
  /* At assignment, before consumption starts: replaces t's model with its
   * checkpoint's and sets *offset to the checkpoint's next offset (put on
   * the partition list given to rd_kafka_assign); leaves *offset alone
   * (the group's committed offset, a fresh model) when there is none or
   * it is refused (logged, naming its key). EDDY_EAGAIN: the store cannot
   * be read now (the assignment waits and tries again). */
  int (*restore)(eddy_plstore_t *s, eddy_ptask_t *t, int64_t *offset);
  /* Writes t's checkpoint: the model bytes and next_offset, between
   * batches (after t's last entity write-back). Returns 0 when issued;
   * eddy__pipeline_checkpointed is called with the answer. */
  int (*checkpoint)(eddy_plstore_t *s, eddy_ptask_t *t, int64_t next_offset, const void *model,
                    size_t len, const eddy_ckpt_labels_t *labels, int kind);
  /* Every alert (the Redis stream of alerts). */
  void (*alert)(eddy_plstore_t *s, const eddy_alert_t *a);
  /* 1 when the store is reachable. */
  int (*ready)(const eddy_plstore_t *s);
} eddy_plstore_type_t;

struct eddy_plstore {
  const eddy_plstore_type_t *type;
  eddy_pipeline_t *pl;
  const eddy_aggs_t *aggs;  /* the pipeline's aggregates (n == 0: none) */
  eddy_store_t *entities;   /* their store; NULL without aggregates (or before start) */
  void *impl;
};

extern const eddy_plstore_type_t eddy_plstore_memory;
extern const eddy_plstore_type_t eddy_plstore_redis;

/* Called by stores (internal to the engine). */
void eddy__pipeline_store_ready(eddy_pipeline_t *pl, int ready);
void eddy__pipeline_store_closed(eddy_pipeline_t *pl);
/* A checkpoint's answer: status 0 written, EDDY_ESTATE refused (Redis
 * holds `stored`, an offset not smaller), EDDY_EIO not written. */
void eddy__pipeline_checkpointed(eddy_pipeline_t *pl, int32_t partition, int64_t offset, int64_t label_offset,
                                 int kind, int status, int64_t stored);

/* ------------------------------------------------------------- metrics */

/* A histogram with fixed bucket bounds (upper, inclusive, increasing). */
typedef struct eddy_histogram {
  const double *bounds;
  size_t n;          /* bounds; counts has n + 1 (the last is +Inf) */
  uint64_t counts[32];
  double sum;
  uint64_t count;
} eddy_histogram_t;

void eddy_hist_init(eddy_histogram_t *h, const double *bounds, size_t n);
void eddy_hist_observe(eddy_histogram_t *h, double v);
/* Adds o's observations to h (same bounds: instances of one pipeline). */
void eddy_hist_add(eddy_histogram_t *h, const eddy_histogram_t *o);
/* The value under which a fraction q of observations fall, interpolated
 * within its bucket (as Prometheus' histogram_quantile). */
double eddy_hist_quantile(const eddy_histogram_t *h, double q);
extern const double eddy_latency_bounds[];
extern const size_t eddy_latency_n_bounds;
/* Label delay buckets, seconds: 1 s to a week. */
extern const double eddy_label_delay_bounds[];
extern const size_t eddy_label_delay_n_bounds;

/* Prometheus text exposition (format 0.0.4): a family's HELP and TYPE,
 * then its samples. labels is `k="v",...` (eddy_prom_labels makes it) or
 * NULL. */
void eddy_prom_family(eddy_buf_t *b, const char *name, const char *type, const char *help);
void eddy_prom_sample(eddy_buf_t *b, const char *name, const char *labels, double v);
void eddy_prom_histogram(eddy_buf_t *b, const char *name, const char *labels,
                         const eddy_histogram_t *h);
/* Writes k1="v1",k2="v2"... (NULL-terminated pairs) into out, escaping
 * backslash, quote and newline as the format requires. */
const char *eddy_prom_labels(char *out, size_t size, ...);

/* ---------------------------------------------------------------- HTTP */

typedef struct eddy_http eddy_http_t;

/* One request, borrowed for the handler's call. path is the URL's path,
 * query what followed its '?' ("" when none), both still percent-encoded;
 * body is NUL-terminated (body_len excludes the NUL); authorization is the
 * header's value ("" when none). */
typedef struct eddy_http_request {
  const char *method;
  const char *path;
  const char *query;
  const char *body;
  size_t body_len;
  const char *authorization;
} eddy_http_request_t;

/* Answers one request: writes the answer's body, sets *content_type,
 * returns the status code. */
typedef int (*eddy_http_handler_t)(void *ctx, const eddy_http_request_t *req, eddy_buf_t *body,
                                   const char **content_type);

#define EDDY_HTTP_MAX_BODY (1 << 20) /* [http] max_body_bytes' default */

/* Listens on HOST:PORT (PORT 0: any free one) on loop with Debian's
 * http-parser: HTTP/1.1 keep-alive, one request at a time per connection,
 * bodies up to max_body bytes (0: EDDY_HTTP_MAX_BODY; larger: 413). */
eddy_http_t *eddy_http_start(uv_loop_t *loop, const char *listen, size_t max_body, eddy_http_handler_t handler,
                             void *ctx, char *errstr, size_t errstr_size);
int eddy_http_port(const eddy_http_t *h);
/* Closes the listener and every connection; frees h once libuv is done. */
void eddy_http_stop(eddy_http_t *h);

/* ----------------------------------------------------------- dashboard */

/* The live dashboard behind [http] listen's / (dash.c, dash_api.c): a ring
 * of per-second points per partition, sampled by the run's timer from the
 * counters the record path already keeps (the record path does nothing
 * more), the last alerts (copied into a ring allocated up front: alerts
 * come from the record path), the models' figures, and the page itself
 * (HTML, CSS, JS and uPlot embedded at build time). Loop thread only. */
typedef struct eddy_dash eddy_dash_t;

#define EDDY_DASH_SECONDS 900 /* seconds of points kept per partition */
#define EDDY_DASH_ALERTS 4096 /* alerts kept per process */
#define EDDY_DASH_MODEL_EVERY 5.0 /* seconds between the models' snapshots, while /api/models is asked */

/* NULL when out of memory. Free with eddy_dash_free. */
eddy_dash_t *eddy_dash_new(size_t seconds, size_t max_alerts);
void eddy_dash_free(eddy_dash_t *d);
/* Called often (the run's tick); adds a point per assigned partition once
 * the wall clock's second changes. models: snapshot the models now
 * (otherwise every EDDY_DASH_MODEL_EVERY seconds while /api/models is
 * asked for). Pipelines no longer in
 * pls are shown as closed, with their figures; pls NULL: all of them (the
 * run is over). */
void eddy_dash_sample(eddy_dash_t *d, eddy_pipeline_t *const *pls, size_t n, int models);
/* Keeps a copy of an alert (no allocation). */
void eddy_dash_alert(eddy_dash_t *d, const eddy_alert_t *a);
/* Answers GET path?query when it is the dashboard's (/, its files, /api/...):
 * returns the status code, or 0 when the path is not the dashboard's. */
int eddy_dash_http(eddy_dash_t *d, const char *path, const char *query, eddy_buf_t *body,
                   const char **content_type);
/* Bytes one partition's ring costs. */
size_t eddy_dash_ring_bytes(size_t seconds);

/* ------------------------------------------------------------ pipelines */

enum { EDDY_PAUSE_BACKPRESSURE = 1, EDDY_PAUSE_STORE = 2, EDDY_PAUSE_DRAIN = 4 };

typedef enum { EDDY_PL_PREPARED, EDDY_PL_RUNNING, EDDY_PL_DRAINING, EDDY_PL_CLOSED } eddy_pl_state_t;

/* An alert count by detector and kind, for the metrics. */
typedef struct eddy_alert_count {
  char detector[32];
  char kind[16];
  uint64_t n;
} eddy_alert_count_t;

/* A pipeline's counters (cumulative over its tasks, past and present). */
typedef struct eddy_pipeline_stats {
  uint64_t records_in, bytes_in;
  uint64_t predictions, predictions_delivered;
  uint64_t decode_errors, invalid, oversized, dead_lettered, dead_letters_delivered, dropped;
  uint64_t skipped;                  /* offsets jumped over that the broker no longer had */
  uint64_t learned, alerts_delivered;
  uint64_t delivery_retries, delivery_failures;
  uint64_t commits, commit_failures;
  uint64_t rebalances;
  uint64_t checkpoints, checkpoint_failures;
  uint64_t replayed;                 /* exactly once: records handled again without outputs */
  uint64_t txn_commits, txn_aborts;  /* exactly once: transactions */
  eddy_alert_count_t *alerts;
  size_t n_alerts, cap_alerts;
  /* [source] label_topic: label records in, joined (learned), not
   * learned (unknown id, expired, second label), predictions dropped past
   * label_ttl or evicted from a full store; the label delay (prediction's
   * record time to the label's), seconds. */
  uint64_t labels_in, labels_joined, labels_unmatched, labels_expired, labels_evicted;
  eddy_histogram_t label_delay;
  eddy_histogram_t latency; /* source record's timestamp to prediction delivered, seconds */
} eddy_pipeline_stats_t;

/* Made from a validated config without touching the network: fields,
 * decoder, encoder, librdkafka configurations and the state store are all
 * checked here, so that a reload can refuse a config before changing
 * anything. conf is borrowed and must outlive the pipeline. */
eddy_pipeline_t *eddy_pipeline_new(eddy_run_t *run, const eddy_pipeline_conf_t *conf, char *errstr,
                                   size_t errstr_size);
/* Instance `index` of n of a pipeline (`eddy run --threads N`), to run on
 * loop (NULL: the run's): with n > 1, its transactional.id and any [kafka]
 * group.instance.id get the suffix .INDEX, so that the instances neither
 * fence each other nor share a static membership. eddy_pipeline_new is
 * instance 0 of 1. */
eddy_pipeline_t *eddy__pipeline_instance_new(eddy_run_t *run, const eddy_pipeline_conf_t *conf, int index, int n,
                                             uv_loop_t *loop, char *errstr, size_t errstr_size);
/* Tells each of the n instances of a pipeline about the others (group is
 * borrowed: it must outlive them). Metrics and the dashboard then sum them;
 * serving finds a partition's task in whichever instance owns it. */
void eddy__pipeline_group(eddy_pipeline_t *const *group, size_t n);
/* Creates the consumer and producer, subscribes, and starts consuming. */
int eddy_pipeline_start(eddy_pipeline_t *pl, char *errstr, size_t errstr_size);
/* Stops consuming; outputs still in flight are awaited until `deadline`
 * (eddy_now() seconds), then offsets are committed and the consumer
 * leaves its group. eddy_pipeline_state() says CLOSED when it is done. */
void eddy_pipeline_drain(eddy_pipeline_t *pl, double deadline);
/* Called by the run's timer: commits, resumes, progresses a drain. */
void eddy_pipeline_tick(eddy_pipeline_t *pl);
void eddy_pipeline_free(eddy_pipeline_t *pl);
void eddy_pipeline_pause(eddy_pipeline_t *pl, unsigned reason);
void eddy_pipeline_resume(eddy_pipeline_t *pl, unsigned reason);
eddy_pl_state_t eddy_pipeline_state(const eddy_pipeline_t *pl);
const eddy_pipeline_conf_t *eddy_pipeline_conf(const eddy_pipeline_t *pl);
/* HTTP serving (pipeline_serve.c): the body of req (a JSON record or an
 * array of them) scored by the live model of the partition each record's
 * key maps to (read-only: nothing the model saves changes), or, learn = 1,
 * learned by it at once. Writes the prediction records (an object, or an
 * array) or {"error": ...} into body; returns the HTTP status. */
int eddy_pipeline_serve(eddy_pipeline_t *pl, int learn, const eddy_http_request_t *req, eddy_buf_t *body);
const eddy_pipeline_stats_t *eddy_pipeline_stats(const eddy_pipeline_t *pl);
/* The tasks now assigned (retired ones excluded), in no order. */
size_t eddy_pipeline_tasks(const eddy_pipeline_t *pl, eddy_ptask_t **out, size_t max);
/* Outputs produced and not yet reported. */
uint64_t eddy_pipeline_in_flight(const eddy_pipeline_t *pl);
/* Consumer lag of a task: the partition's high watermark minus the next
 * offset to consume, from librdkafka's cached figures; -1 when unknown. */
int64_t eddy_pipeline_lag(const eddy_pipeline_t *pl, const eddy_ptask_t *t);
/* Appends the pipeline's samples of one metric family (see run.c). */
void eddy_pipeline_metrics(const eddy_pipeline_t *pl, const char *family, eddy_buf_t *b);

/* Offline replay (`eddy verify`): in a pipeline made by eddy_pipeline_new
 * and never started, a task for (topic, partition) with a fresh model and,
 * with aggregates, a fresh memory store of entities (the previous one is
 * freed); eddy_pipeline_replay runs one record through the record path
 * (decode, validate, state join, predict, learn, drift) without emitting
 * anything: a record that would be dead-lettered only counts in the
 * stats' dead_lettered. Records must come in offset order.
 * eddy_pipeline_replay_done frees the task. */
eddy_ptask_t *eddy_pipeline_replay_task(eddy_pipeline_t *pl, const char *topic, int32_t partition,
                                        char *errstr, size_t errstr_size);
void eddy_pipeline_replay(eddy_pipeline_t *pl, eddy_ptask_t *t, const rd_kafka_message_t *m);
void eddy_pipeline_replay_done(eddy_pipeline_t *pl, eddy_ptask_t *t);
/* [source] label_topic: a record of the label partition of t's partition
 * (the caller merges the two in timestamp order, input first on ties, as
 * the pipeline does). */
void eddy_pipeline_replay_label(eddy_pipeline_t *pl, eddy_ptask_t *t, const rd_kafka_message_t *m);

/* Tasks (task.c). */
eddy_ptask_t *eddy_ptask_new(eddy_pipeline_t *pl, const char *topic, int32_t partition,
                           const eddy_fields_t *fields, char *errstr, size_t errstr_size);
/* Frees the replica; the task stays until its outputs are reported. */
void eddy_ptask_retire(eddy_ptask_t *t);
void eddy_ptask_free(eddy_ptask_t *t);

/* --------------------------------------------------------- transactions */

/* processing.guarantee = exactly_once (txn.c): the librdkafka side of a
 * pipeline's transactions, kept apart from the loop's bookkeeping. */

/* The transactional.id of pipeline c: [kafka] transactional.id when set,
 * else eddy.PIPELINE.INSTANCE where INSTANCE is [kafka] group.instance.id
 * when set, else the host name. Stable across restarts, so that a
 * restarted instance fences its predecessor (a zombie) and aborts what it
 * left open; two instances of one pipeline on one host need their own
 * group.instance.id (or transactional.id). */
void eddy_txn_id(const eddy_pipeline_conf_t *c, char *out, size_t size);
/* Adds exactly-once settings to the librdkafka configurations: the
 * producer's transactional.id and message.timeout.ms (no longer than
 * transaction.timeout.ms, as librdkafka requires), the consumer's
 * isolation.level = read_committed; keys set in [kafka] are kept. */
int eddy_txn_conf(const eddy_pipeline_conf_t *c, rd_kafka_conf_t *pconf, rd_kafka_conf_t *cconf,
                  char *errstr, size_t errstr_size);
/* The outcome of a transactional call. */
typedef enum {
  EDDY_TXN_OK = 0,
  EDDY_TXN_RETRY,  /* timed out or a retriable error: call it again */
  EDDY_TXN_ABORT,  /* the transaction must be aborted (and its records handled again) */
  EDDY_TXN_FATAL,  /* the producer is unusable (fenced by a newer instance): stop */
} eddy_txn_result_t;
/* Refuses librdkafka's mock cluster (`eddy broker`: its transactions keep
 * no offsets and show aborted records), then init_transactions, retried
 * for at most budget_ms. */
eddy_txn_result_t eddy_txn_init(rd_kafka_t *producer, int budget_ms, char *errstr, size_t errstr_size);
eddy_txn_result_t eddy_txn_begin(rd_kafka_t *producer, char *errstr, size_t errstr_size);
/* send_offsets_to_transaction (offsets: may be empty; the consumer's group
 * metadata makes the commit fenced by the group's generation, KIP-447). */
eddy_txn_result_t eddy_txn_send_offsets(rd_kafka_t *producer, rd_kafka_t *consumer,
                                        const rd_kafka_topic_partition_list_t *offsets, int timeout_ms,
                                        char *errstr, size_t errstr_size);
eddy_txn_result_t eddy_txn_commit(rd_kafka_t *producer, int timeout_ms, char *errstr, size_t errstr_size);
/* Purges the queue and lets in-flight requests end (librdkafka #4849),
 * then aborts; RETRY when it should be called again. */
eddy_txn_result_t eddy_txn_abort(rd_kafka_t *producer, int timeout_ms, char *errstr, size_t errstr_size);
/* Where records start after a restore: ckpt is the checkpoint's next
 * offset (-1: none), committed the group's committed offset (-1: none).
 * Sets learn_from and emit_from and returns the offset to consume from
 * (RD_KAFKA_OFFSET_BEGINNING to replay a partition from its start,
 * RD_KAFKA_OFFSET_INVALID for auto.offset.reset). */
int64_t eddy_txn_start(int64_t ckpt, int64_t committed, int64_t *learn_from, int64_t *emit_from);

/* ------------------------------------------------------------------ run */

/* The process: the loop, the pipelines of the config, signals (SIGINT and
 * SIGTERM stop, SIGHUP reloads), the HTTP endpoint and the timer that
 * commits. */
typedef struct eddy_run_opts {
  const char *config_path; /* re-read on SIGHUP */
  /* Every alert of every pipeline (the demo's live view); may be NULL. */
  void (*on_alert)(void *ctx, const eddy_pipeline_t *pl, const eddy_alert_t *a);
  void *ctx;
  int no_signals; /* the caller handles signals (the demo) */
  /* Worker threads (`eddy run --threads N`); 0: the config's [run] threads.
   * With more than one, each pipeline runs as that many instances, one per
   * worker thread (engine/stream/worker.c), and on_alert is called on the
   * worker's thread under the run's lock. */
  int threads;
} eddy_run_opts_t;

/* Loads and validates the config and prepares its pipelines (nothing is
 * started). config may be given already parsed (the run takes it). */
eddy_run_t *eddy_run_new(uv_loop_t *loop, const eddy_run_opts_t *opts, eddy_config_t *config,
                         char *errstr, size_t errstr_size);
/* Starts every pipeline and the HTTP endpoint. */
int eddy_run_start(eddy_run_t *r, char *errstr, size_t errstr_size);
/* A graceful stop: stop consuming, finish the batch, flush, commit; the
 * loop's handles close when done (uv_run returns). */
void eddy_run_stop(eddy_run_t *r);
/* Re-reads the config file: added pipelines start, removed ones drain,
 * changed ones are replaced, unchanged ones keep running with their
 * models. A config that does not validate is refused (errstr says why,
 * FILE:LINE:KEY) and nothing changes. */
int eddy_run_reload(eddy_run_t *r, char *errstr, size_t errstr_size);
void eddy_run_free(eddy_run_t *r);
uv_loop_t *eddy_run_loop(const eddy_run_t *r);
/* The running pipelines. With worker threads these are each pipeline's
 * instance 0, owned by worker 0's thread: only a one-thread run (the demo)
 * may read them. */
size_t eddy_run_pipelines(const eddy_run_t *r, eddy_pipeline_t **out, size_t max);
/* 0 after a clean stop, 1 when a pipeline failed. */
int eddy_run_status(const eddy_run_t *r);
/* The HTTP port (after start), or 0. */
int eddy_run_http_port(const eddy_run_t *r);
/* /metrics's text. */
void eddy_run_metrics(const eddy_run_t *r, eddy_buf_t *b);
/* The run's dashboard (kept until eddy_run_free, so that it can be served
 * after the pipelines are done: `eddy demo --linger`). */
eddy_dash_t *eddy_run_dash(const eddy_run_t *r);
/* The HTTP handler of the run (/metrics, /healthz, the dashboard), for a
 * listener started by the caller with the run as ctx. */
int eddy_run_http(void *run, const eddy_http_request_t *req, eddy_buf_t *body, const char **content_type);

/* What a reload does to each pipeline, by name (run.c; tested alone). */
typedef enum { EDDY_PLAN_KEEP, EDDY_PLAN_ADD, EDDY_PLAN_REMOVE, EDDY_PLAN_REPLACE } eddy_plan_op_t;
typedef struct eddy_plan_item {
  eddy_plan_op_t op;
  const char *name;
  size_t old_index, new_index; /* into the old and new configs' pipelines, where they apply */
} eddy_plan_item_t;
/* Fills items (one per pipeline of either config, at most max) and returns
 * their number: KEEP and REPLACE for names in both (REPLACE when the
 * configuration differs), ADD for new names, REMOVE for names gone. */
size_t eddy_run_plan(const eddy_config_t *old, const eddy_config_t *cur, eddy_plan_item_t *items,
                     size_t max);

/* Internal to the run: called by pipelines. */
void eddy__run_alert(eddy_run_t *r, const eddy_pipeline_t *pl, const eddy_alert_t *a);
uv_loop_t *eddy__run_loop(eddy_run_t *r);
int eddy__run_stopping(const eddy_run_t *r);
void eddy__run_failed(eddy_run_t *r, eddy_pipeline_t *pl);

#endif /* EDDY_STREAM_H */
