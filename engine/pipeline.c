/* pipeline.c: one pipeline of `eddy run`: a consumer in its group, a
 * producer for its outputs, a task (model replica) per assigned partition,
 * and the record path: decode, predict, produce the prediction, learn when
 * the record carries its label (drift detectors and alerts run inside the
 * replica), dead-letter what cannot be used. Offsets are committed only up
 * to the first record whose outputs are not all delivered (task.c). With
 * the Redis store (plstore.c), records are handled in batches whose
 * entities are read from Redis in one round trip per task, models are
 * checkpointed between batches, at revocation and at shutdown, and
 * restored at assignment.
 *
 * Everything runs on the loop thread: the consumer's queue (with the main
 * queue forwarded to it) and the producer's main queue each write a byte to
 * a pipe when they turn non-empty (rd_kafka_queue_io_event_enable); a
 * uv_poll on the pipe runs a batch of rd_kafka_consumer_poll(.., 0) or one
 * rd_kafka_poll(producer, 0), which serve every callback here. The batch
 * consume APIs are not used: librdkafka 2.0.2's are unsafe with pause and
 * rebalance (PITFALLS.md). */
#define _GNU_SOURCE
#include <avro.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "learners/learners.h"
#include "stream.h"

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
  eddy_pl_state_t state;
  int failed;

  /* Made by eddy_pipeline_new. */
  eddy_fields_t *fields;
  eddy_decoder_t *decoder;
  eddy_output_t *output;
  eddy_plstore_t store;     /* checkpoints, and the aggregates' store.entities */
  eddy_aggs_t *aggs;        /* [state] aggregates (n == 0: none) */
  int ckpt;                 /* the store keeps checkpoints (Redis) */
  int batched;              /* entities fetched per batch (Redis, with aggregates) */
  eddy_fields_t keyfields;  /* the field map with the entity key alone (first pass) */
  eddy_decoder_t *keydec;
  eddy_record_t keyrec;
  const eddy_field_t **required;
  size_t n_required;
  eddy_record_t rec;
  eddy_buf_t out, alert_out;
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

  eddy_pipeline_stats_t st;
};

static int64_t now_ms(void) { return (int64_t)(eddy_wallclock() * 1000.0); }

static void *opaque_of(const eddy_ptask_t *t, int kind, uint64_t seq) {
  return (void *)(uintptr_t)(((uint64_t)t->slot << 34) | ((uint64_t)kind << 32) | (uint32_t)seq);
}

/* Logs at most one line a second per pipeline for repeated problems, and
 * says how many were left out. */
static void log_limited(eddy_pipeline_t *pl, eddy_log_level_t level, const char *fmt, ...)
    EDDY_PRINTF(3, 4);
static void log_limited(eddy_pipeline_t *pl, eddy_log_level_t level, const char *fmt, ...) {
  double now = eddy_now();
  pl->errors_logged++;
  if (now - pl->last_error_log < 1.0) return;
  char msg[900];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (pl->errors_logged > 1)
    eddy_log(level, "pipeline %s: %s (%" PRIu64 " similar lines left out)", pl->conf->pipeline.name, msg,
             pl->errors_logged - 1);
  else
    eddy_log(level, "pipeline %s: %s", pl->conf->pipeline.name, msg);
  pl->errors_logged = 0;
  pl->last_error_log = now;
}

static void reachable(eddy_pipeline_t *pl) {
  if (!pl->unreachable) return;
  pl->unreachable = 0;
  eddy_log(EDDY_LOG_INFO, "pipeline %s: Kafka at %s is reachable again after %.1f s; resuming",
           pl->conf->pipeline.name, pl->bootstrap, eddy_now() - pl->unreachable_since);
}

/* ------------------------------------------------------------ accessors */

eddy_pl_state_t eddy_pipeline_state(const eddy_pipeline_t *pl) { return pl->state; }
const eddy_pipeline_conf_t *eddy_pipeline_conf(const eddy_pipeline_t *pl) { return pl->conf; }
const eddy_pipeline_stats_t *eddy_pipeline_stats(const eddy_pipeline_t *pl) { return &pl->st; }
uint64_t eddy_pipeline_in_flight(const eddy_pipeline_t *pl) { return pl->in_flight; }

size_t eddy_pipeline_tasks(const eddy_pipeline_t *pl, eddy_ptask_t **out, size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < pl->n_tasks; i++)
    if (!pl->tasks[i]->retired) {
      if (n < max) out[n] = pl->tasks[i];
      n++;
    }
  return n;
}

int64_t eddy_pipeline_lag(const eddy_pipeline_t *pl, const eddy_ptask_t *t) {
  int64_t lo, hi;
  if (!pl->consumer || t->wm.next < 0) return -1;
  if (rd_kafka_get_watermark_offsets(pl->consumer, t->topic, t->partition, &lo, &hi) ||
      hi < 0)
    return -1;
  return hi > t->wm.next ? hi - t->wm.next : 0;
}

/* ---------------------------------------------------------------- tasks */

static eddy_ptask_t *find_task(eddy_pipeline_t *pl, const char *topic, int32_t partition) {
  for (size_t i = 0; i < pl->n_tasks; i++) {
    eddy_ptask_t *t = pl->tasks[i];
    if (!t->retired && t->partition == partition && strcmp(t->topic, topic) == 0) return t;
  }
  return NULL;
}

/* The task of a consumed message: the last one, else by its topic handle,
 * else by name (then the handle is remembered). */
static eddy_ptask_t *task_of(eddy_pipeline_t *pl, const rd_kafka_message_t *m) {
  eddy_ptask_t *t = pl->last;
  if (t && t->rkt == m->rkt && t->partition == m->partition && !t->retired) return t;
  for (size_t i = 0; i < pl->n_tasks; i++) {
    t = pl->tasks[i];
    if (!t->retired && t->rkt == m->rkt && t->partition == m->partition) return pl->last = t;
  }
  t = find_task(pl, rd_kafka_topic_name(m->rkt), m->partition);
  if (t) {
    t->rkt = m->rkt;
    pl->last = t;
  }
  return t;
}

static void task_drop(eddy_pipeline_t *pl, eddy_ptask_t *t) {
  for (size_t i = 0; i < pl->n_tasks; i++)
    if (pl->tasks[i] == t) {
      pl->tasks[i] = pl->tasks[--pl->n_tasks];
      break;
    }
  if (t->slot < pl->n_slots && pl->slots[t->slot] == t) pl->slots[t->slot] = NULL;
  if (pl->last == t) pl->last = NULL;
  eddy_state_batch_free(t->store);
  t->store = NULL;
  eddy_ptask_free(t);
}

static void on_alert(void *ctx, const eddy_alert_t *a);
static void on_more(uv_idle_t *h);

static eddy_ptask_t *task_add(eddy_pipeline_t *pl, const char *topic, int32_t partition) {
  char err[512];
  eddy_ptask_t *t = eddy_ptask_new(pl, topic, partition, pl->fields, err, sizeof err);
  if (!t) {
    eddy_log(EDDY_LOG_ERROR, "pipeline %s: %s [%d]: cannot make a model replica: %s",
             pl->conf->pipeline.name, topic, (int)partition, err);
    return NULL;
  }
  size_t slot = 0;
  while (slot < pl->n_slots && pl->slots[slot]) slot++;
  if (slot == pl->n_slots &&
      (eddy_grow((void **)&pl->slots, &pl->n_slots, slot + 1, sizeof *pl->slots) ||
       slot >= (1u << 30))) {
    eddy_ptask_free(t);
    return NULL;
  }
  if (eddy_grow((void **)&pl->tasks, &pl->cap_tasks, pl->n_tasks + 1, sizeof *pl->tasks)) {
    eddy_ptask_free(t);
    return NULL;
  }
  if (pl->store.entities && !(t->store = eddy_state_batch_new(pl->aggs, partition))) {
    eddy_ptask_free(t);
    return NULL;
  }
  t->ckpt_offset = -1;
  t->slot = (uint32_t)slot;
  pl->slots[slot] = t;
  pl->tasks[pl->n_tasks++] = t;
  t->replica->on_alert = on_alert;
  t->replica->alert_ctx = t;
  return t;
}

/* ---------------------------------------------------------------- flow */

static void apply_pause(eddy_pipeline_t *pl, int pause) {
  if (!pl->consumer) return;
  rd_kafka_topic_partition_list_t *l = NULL;
  if (rd_kafka_assignment(pl->consumer, &l) || !l) return;
  if (l->cnt) {
    if (pause) rd_kafka_pause_partitions(pl->consumer, l);
    else rd_kafka_resume_partitions(pl->consumer, l);
  }
  rd_kafka_topic_partition_list_destroy(l);
}

void eddy_pipeline_pause(eddy_pipeline_t *pl, unsigned reason) {
  unsigned was = pl->paused;
  pl->paused |= reason;
  if (!was && pl->paused) apply_pause(pl, 1);
}

void eddy_pipeline_resume(eddy_pipeline_t *pl, unsigned reason) {
  unsigned was = pl->paused;
  pl->paused &= ~reason;
  if (was && !pl->paused) {
    apply_pause(pl, 0);
    /* Messages may already wait in the queue: its io event was spent. */
    if (pl->state == EDDY_PL_RUNNING && !pl->more_active && pl->consumer) {
      uv_idle_start(&pl->more, on_more);
      pl->more_active = 1;
    }
  }
}

/* Backpressure. Too many outputs in flight first stops the consumer's
 * queue from being read ("held"): librdkafka stops fetching by itself when
 * its queue is full, and reading resumes at once when deliveries catch up
 * (pausing partitions in librdkafka 2.0.2 costs about a second to resume
 * fetching). A hold that lasts (the broker is away) becomes a real pause of
 * the partitions, so that the consumer can be polled again: rebalances are
 * served and max.poll.interval.ms is never exceeded. */
#define HOLD_SECONDS 3.0

static void kick(eddy_pipeline_t *pl) {
  if (pl->state == EDDY_PL_RUNNING && !pl->more_active && pl->consumer) {
    uv_idle_start(&pl->more, on_more);
    pl->more_active = 1;
  }
}

static void check_backpressure(eddy_pipeline_t *pl) {
  uint64_t max = (uint64_t)pl->conf->sink.max_in_flight;
  if (pl->in_flight >= max) {
    if (!pl->held && !(pl->paused & EDDY_PAUSE_BACKPRESSURE)) {
      pl->held = 1;
      pl->held_since = eddy_now();
    } else if (pl->held && eddy_now() - pl->held_since > HOLD_SECONDS) {
      pl->held = 0;
      eddy_pipeline_pause(pl, EDDY_PAUSE_BACKPRESSURE);
      log_limited(pl, EDDY_LOG_WARN, "%" PRIu64 " outputs await delivery: consumption paused until half are delivered",
                  pl->in_flight);
    }
  } else if (pl->in_flight <= max / 2) {
    if (pl->held) {
      pl->held = 0;
      kick(pl);
    }
    if (pl->paused & EDDY_PAUSE_BACKPRESSURE) eddy_pipeline_resume(pl, EDDY_PAUSE_BACKPRESSURE);
  }
}

/* ------------------------------------------------------------- producing */

/* Produces one output for the current record. The payload and key are
 * copied (RD_KAFKA_MSG_F_COPY): the buffers are reused for the next one.
 * headers, when given, pass to librdkafka. A full producer queue is served
 * until there is room (backpressure pauses consumption long before). */
static int produce(eddy_pipeline_t *pl, rd_kafka_topic_t *rkt, const void *value, size_t len,
                   const void *key, size_t key_len, rd_kafka_headers_t *headers, void *opaque) {
  for (int tries = 0;; tries++) {
    rd_kafka_resp_err_t err;
    if (headers) {
      err = rd_kafka_producev(pl->producer, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_VALUE((void *)value, len), RD_KAFKA_V_KEY(key, key_len),
                              RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    } else {
      err = rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, (void *)value, len, key,
                             key_len, opaque)
                ? rd_kafka_last_error()
                : RD_KAFKA_RESP_ERR_NO_ERROR;
    }
    if (!err) {
      pl->in_flight++;
      return 0;
    }
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      log_limited(pl, EDDY_LOG_ERROR, "cannot produce to %s: %s", rd_kafka_topic_name(rkt),
                  rd_kafka_err2str(err));
      return (int)err;
    }
    if (tries == 0)
      log_limited(pl, EDDY_LOG_WARN, "the producer's queue is full: waiting for deliveries "
                                     "(raise queue.buffering.max.messages or lower [sink] max_in_flight)");
    pl->dr_now_ms = 0;
    rd_kafka_poll(pl->producer, 10);
  }
}

/* Produces an output of record `seq` of the current task and counts it
 * pending; on failure the output is given up (logged and counted). */
static int txn_begin(eddy_pipeline_t *pl);

static void emit(eddy_pipeline_t *pl, rd_kafka_topic_t *rkt, int kind, const void *value, size_t len,
                 const void *key, size_t key_len, rd_kafka_headers_t *headers) {
  eddy_ptask_t *t = pl->cur;
  if (pl->eos && !pl->txn_open && txn_begin(pl)) {
    if (headers) rd_kafka_headers_destroy(headers);
    return;
  }
  eddy_wm_add(&t->wm, pl->cur_seq);
  if (produce(pl, rkt, value, len, key, key_len, headers, opaque_of(t, kind, pl->cur_seq))) {
    if (headers) rd_kafka_headers_destroy(headers);
    pl->st.delivery_failures++;
    eddy_wm_done(&t->wm, pl->cur_seq);
    if (pl->eos) pl->txn_abort = 1; /* the transaction lacks an output: handled again */
  }
}

static void count_alert(eddy_pipeline_t *pl, const char *detector, const char *kind) {
  eddy_pipeline_stats_t *st = &pl->st;
  for (size_t i = 0; i < st->n_alerts; i++)
    if (!strcmp(st->alerts[i].detector, detector) && !strcmp(st->alerts[i].kind, kind)) {
      st->alerts[i].n++;
      return;
    }
  if (eddy_grow((void **)&st->alerts, &st->cap_alerts, st->n_alerts + 1, sizeof *st->alerts)) return;
  eddy_alert_count_t *c = &st->alerts[st->n_alerts++];
  snprintf(c->detector, sizeof c->detector, "%s", detector);
  snprintf(c->kind, sizeof c->kind, "%s", kind);
  c->n = 1;
}

/* A replica's warning or drift: counted, logged, given to the run (the
 * demo's view) and produced to the alerts topic as an output of the
 * record that raised it. */
static void on_alert(void *ctx, const eddy_alert_t *a) {
  eddy_ptask_t *t = ctx;
  eddy_pipeline_t *pl = t->pl;
  /* A record replayed to learn again raised this alert the first time,
   * and it was committed then. */
  if (pl->replaying && pl->cur == t) return;
  count_alert(pl, a->detector, a->kind);
  eddy__run_alert(pl->run, pl, a);
  if (pl->store.type->alert) pl->store.type->alert(&pl->store, a);
  eddy_buf_t *b = &pl->alert_out;
  if (strcmp(a->kind, "warning") != 0) {
    eddy_buf_clear(b);
    eddy_alert_text(a, b);
    eddy_log(EDDY_LOG_INFO, "alert: %s [%s]: %.*s", t->topic, a->kind, (int)b->len, (const char *)b->data);
  }
  if (!pl->t_alerts || pl->cur != t) return;
  /* The alert's JSON with the source topic in front. */
  eddy_buf_clear(b);
  eddy_buf_put(b, "{\"topic\":", 9);
  eddy_json_string(b, t->topic, strlen(t->topic));
  eddy_buf_put_u8(b, ',');
  size_t at = b->len;
  eddy_alert_json(a, b);
  if (b->err || b->len <= at) return;
  memmove(b->data + at, b->data + at + 1, b->len - at - 1); /* drop the alert's own '{' */
  b->len--;
  emit(pl, pl->t_alerts, OUT_ALERT, b->data, b->len, pl->conf->pipeline.name,
       strlen(pl->conf->pipeline.name), NULL);
}

/* ------------------------------------------------------------- dead letters */

static void dead_letter(eddy_pipeline_t *pl, const rd_kafka_message_t *m, const char *stage, int err,
                        const char *msg) {
  eddy_ptask_t *t = pl->cur;
  if (pl->replaying) return; /* dead-lettered by the committed transaction */
  pl->st.dead_lettered++;
  t->dead_lettered++;
  if (!pl->t_dlq) {
    pl->st.dropped++;
    log_limited(pl, EDDY_LOG_WARN, "%s [%d] offset %" PRId64 " skipped (no [sink] dead_letter topic): %s",
                t->topic, (int)t->partition, (int64_t)m->offset, msg);
    return;
  }
  rd_kafka_headers_t *orig = NULL, *h;
  h = rd_kafka_message_headers(m, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR && orig ? rd_kafka_headers_copy(orig)
                                                                               : rd_kafka_headers_new(8);
  eddy_dlq_info_t info = {pl->conf->pipeline.name, t->topic, t->partition, m->offset, stage, err, msg};
  eddy_dlq_headers(h, &info);
  size_t len = m->len;
  /* A value the producer cannot carry goes with its first 64 KiB. */
  const char *max = eddy_kafka_get(pl->conf, "message.max.bytes");
  int64_t limit = 1000000;
  if (max) eddy_parse_int(max, &limit);
  if ((int64_t)len + (int64_t)m->key_len + 4096 > limit) {
    char n[24];
    snprintf(n, sizeof n, "%zu", len);
    rd_kafka_header_add(h, EDDY_DLQ_PREFIX "value.truncated.from", -1, n, -1);
    len = len < 65536 ? len : 65536;
  }
  emit(pl, pl->t_dlq, OUT_DEAD_LETTER, m->payload, len, m->key, m->key_len, h);
}

/* ------------------------------------------------------------ record path */

static int check_required(eddy_pipeline_t *pl, char *msg, size_t size) {
  const eddy_record_t *r = &pl->rec;
  for (size_t i = 0; i < pl->n_required; i++) {
    const eddy_field_t *f = pl->required[i];
    int present = 1;
    switch (f->kind) {
    case EDDY_FIELD_ATTR: present = !r->in.missing[f->index]; break;
    case EDDY_FIELD_TARGET: present = r->in.has_y; break;
    case EDDY_FIELD_KEY: present = r->key != NULL; break;
    case EDDY_FIELD_ID: present = r->id != NULL; break;
    case EDDY_FIELD_TIME: present = r->has_ts; break;
    case EDDY_FIELD_AUX: present = r->aux_set[f->index]; break;
    default: break;
    }
    if (!present) return eddy_seterr(msg, size, EDDY_EMISSING, "required field '%s' is missing", f->name);
  }
  return 0;
}

/* The record path. `pre` is the record's entity in its task's state
 * batch from the batch's first pass (Redis), -1 when that pass found no
 * key, or ENTITY_NOW to fetch it now (the memory store answers at once:
 * one record is one batch). Without a key the record joins the state of
 * an entity never seen, and updates nothing. */
#define ENTITY_NOW (-2)

static void handle(eddy_pipeline_t *pl, const rd_kafka_message_t *m, eddy_ptask_t *t, int64_t pre) {
  rd_kafka_timestamp_type_t tstype;
  int64_t ts = rd_kafka_message_timestamp(m, &tstype);
  uint64_t seq;
  if (eddy_wm_begin(&t->wm, m->offset, ts, &seq)) {
    eddy_log(EDDY_LOG_ERROR, "pipeline %s: out of memory", pl->conf->pipeline.name);
    eddy__run_failed(pl->run, pl);
    return;
  }
  pl->cur = t;
  pl->cur_seq = seq;
  /* Exactly once, after a restore: records whose outputs are committed
   * are handled without outputs; records the model already learned (it
   * was checkpointed past them) without learning. */
  int learn = m->offset >= t->learn_from;
  pl->replaying = m->offset < t->emit_from;
  if (pl->replaying) pl->st.replayed++;
  pl->st.records_in++;
  pl->st.bytes_in += m->len;
  t->records++;
  eddy_replica_t *rep = t->replica;
  char msg[512];
  int err;
  if (m->len > (size_t)pl->conf->source.max_record_bytes) {
    pl->st.oversized++;
    snprintf(msg, sizeof msg, "record of %zu bytes is larger than max_record_bytes = %" PRId64, m->len,
             pl->conf->source.max_record_bytes);
    dead_letter(pl, m, "size", EDDY_ERANGE, msg);
  } else if ((err = eddy_decoder_decode(pl->decoder, rep->schema, m->payload, m->len, &pl->rec, msg,
                                        sizeof msg))) {
    pl->st.decode_errors++;
    dead_letter(pl, m, "decode", err, msg);
  } else if ((err = check_required(pl, msg, sizeof msg))) {
    pl->st.invalid++;
    dead_letter(pl, m, "validate", err, msg);
  } else {
    rep->offset = m->offset;
    int64_t entity = -1;
    double t_ms = 0;
    eddy_state_batch_t *b = t->store;
    if (pl->aggs->n) {
      t_ms = eddy_aggs_time_ms(pl->aggs, &pl->rec, ts > 0 ? (double)ts : pl->batch_time * 1000);
      if (b && pl->rec.key) {
        if (pre == ENTITY_NOW) {
          eddy_state_batch_clear(b);
          entity = eddy_state_batch_add(b, pl->rec.key, pl->rec.key_len);
          if (entity >= 0 && eddy_store_fetch(pl->store.entities, b, NULL, NULL) != 0) entity = -1;
        } else if (pre >= 0 && b->key_len[pre] == pl->rec.key_len &&
                   memcmp(b->keys + b->key_off[pre], pl->rec.key, pl->rec.key_len) == 0) {
          entity = pre;
        } else {
          log_limited(pl, EDDY_LOG_ERROR, "%s [%d] offset %" PRId64 ": the entity key was not read "
                      "before the batch: joined as a new entity, not updated", t->topic, (int)t->partition,
                      (int64_t)m->offset);
        }
      }
      if (entity >= 0) eddy_state_batch_join(b, (size_t)entity, &pl->rec, t_ms);
      else eddy_aggs_join(pl->aggs, pl->aggs->fresh, &pl->rec, t_ms);
    }
    int k = eddy_replica_predict(rep, &pl->rec.in);
    if (pl->t_pred && !pl->replaying) {
      eddy_buf_clear(&pl->out);
      eddy_prediction_t p = {
          .pipeline = pl->conf->pipeline.name,
          .topic = t->topic,
          .partition = t->partition,
          .offset = m->offset,
          .key = m->key,
          .key_len = m->key_len,
          .id = pl->rec.id,
          .id_len = pl->rec.id_len,
          .schema = rep->schema,
          .scores = rep->pred,
          .k = k > 0 ? k : 0,
          .predicted = eddy_replica_predicted(rep),
          .has_label = pl->rec.in.has_y,
          .label = pl->rec.in.y,
          .model_version = rep->version,
          .time = pl->batch_time,
          .aggs = pl->conf->sink.aggregates && pl->aggs->n ? pl->aggs : NULL,
          .in = &pl->rec.in,
      };
      if (eddy_output_encode(pl->output, &p, &pl->out) == 0) {
        pl->st.predictions++;
        t->predictions++;
        emit(pl, pl->t_pred, OUT_PREDICTION, pl->out.data, pl->out.len, m->key, m->key_len, NULL);
      } else {
        log_limited(pl, EDDY_LOG_ERROR, "cannot encode a prediction of %s [%d] offset %" PRId64,
                    t->topic, (int)t->partition, (int64_t)m->offset);
      }
    }
    if (pl->rec.in.has_y && learn) {
      err = eddy_replica_learn(rep, &pl->rec.in);
      if (err) {
        log_limited(pl, EDDY_LOG_ERROR, "%s [%d] offset %" PRId64 ": learner %s: %s", t->topic,
                    (int)t->partition, (int64_t)m->offset, pl->conf->model.learner, eddy_strerror(err));
      } else {
        pl->st.learned++;
        t->learned++;
      }
    }
    if (entity >= 0 && learn) {
      eddy_state_batch_update(b, (size_t)entity, &pl->rec, t_ms);
      if (pre == ENTITY_NOW) eddy_store_write(pl->store.entities, b);
    }
  }
  pl->cur = NULL;
  pl->replaying = 0;
  eddy_wm_done(&t->wm, seq); /* the guard */
}

static void consumer_error(eddy_pipeline_t *pl, const rd_kafka_message_t *m) {
  if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return;
  const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "";
  if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
    log_limited(pl, EDDY_LOG_WARN, "topic %s does not exist (yet): waiting for it", topic);
    return;
  }
  log_limited(pl, EDDY_LOG_WARN, "consumer: %s%s%s", topic, *topic ? ": " : "", rd_kafka_message_errstr(m));
}

static void more_off(eddy_pipeline_t *pl) {
  if (pl->more_active) {
    uv_idle_stop(&pl->more);
    pl->more_active = 0;
  }
}

/* ------------------------------------------------------------- checkpoints */

/* Test only (tests/faults): EDDY_TEST_CRASH_AT=STEP[:N] ends the process
 * with _exit(137), as a SIGKILL would, the Nth time (default 1) it reaches
 * STEP: ckpt_before_write (a checkpoint about to be sent to the store) or
 * ckpt_after_write (the store has acknowledged one; its offsets are not
 * committed yet). Unset: one getenv, then nothing. */
static void test_crash_at(const char *step) {
  static int init;
  static char want[32];
  static long left;
  if (!init) {
    init = 1;
    const char *e = getenv("EDDY_TEST_CRASH_AT");
    if (e && *e) {
      snprintf(want, sizeof want, "%s", e);
      char *c = strchr(want, ':');
      left = 1;
      if (c) {
        *c = '\0';
        left = strtol(c + 1, NULL, 10);
        if (left < 1) left = 1;
      }
    }
  }
  if (!want[0] || strcmp(want, step) != 0 || --left > 0) return;
  fprintf(stderr, "eddy: EDDY_TEST_CRASH_AT=%s: exiting with 137\n", step);
  _exit(137);
}

/* Writes t's model with the offset after the last record it handled. */
static void checkpoint_task(eddy_pipeline_t *pl, eddy_ptask_t *t, int kind) {
  eddy_buf_t *b = &pl->ckpt_buf;
  eddy_buf_clear(b);
  int err = eddy_replica_save(t->replica, b);
  if (!err && b->err) err = EDDY_ENOMEM;
  if (!err) test_crash_at("ckpt_before_write");
  if (!err) err = pl->store.type->checkpoint(&pl->store, t, t->wm.next, b->data, b->len, kind);
  if (err) {
    pl->st.checkpoint_failures++;
    log_limited(pl, EDDY_LOG_ERROR, "%s [%d]: checkpoint at offset %" PRId64 " not written: %s", t->topic,
                (int)t->partition, t->wm.next, eddy_strerror(err));
    return;
  }
  t->ckpt_offset = t->wm.next;
  pl->ckpts_pending++;
  if (kind == EDDY_CKPT_REVOKE) pl->revoke_ckpts++;
}

/* A task's model moved since its last checkpoint. */
static int has_news(const eddy_ptask_t *t) {
  return !t->retired && t->restored && t->wm.next >= 0 && t->wm.next > t->ckpt_offset &&
         (!t->pl->eos || t->wm.next <= t->wm.committed);
}

/* Checkpoints every task whose model moved and whose records' outputs
 * are all delivered: a restart from a checkpoint then re-predicts records
 * (duplicates) but never skips one whose prediction was lost. Returns 1
 * when no task with news is left waiting for deliveries. */
static int checkpoint_tasks(eddy_pipeline_t *pl, int kind) {
  int all = 1;
  for (size_t i = 0; i < pl->n_tasks; i++) {
    eddy_ptask_t *t = pl->tasks[i];
    if (!has_news(t)) continue;
    if (eddy_wm_open(&t->wm)) {
      all = 0;
      continue;
    }
    checkpoint_task(pl, t, kind);
  }
  return all;
}

/* Timer checkpoints, between batches: consumption waits (a delivery
 * round trip, at most CKPT_WAIT) for the outputs of the tasks with news;
 * tasks still waiting then are left to the next round. Returns 1 when
 * consumption may go on. */
#define CKPT_WAIT 2.0

static int ckpt_gate(eddy_pipeline_t *pl) {
  /* Exactly once: checkpoints follow the transactions' commits. */
  if (!pl->ckpt || pl->state != EDDY_PL_RUNNING || pl->eos) return 1;
  double now = eddy_now();
  if (!pl->ckpt_due) {
    if (now < pl->next_ckpt) return 1;
    pl->ckpt_due = 1;
    pl->ckpt_since = now;
  }
  int all = checkpoint_tasks(pl, EDDY_CKPT_TIMER);
  if (!all && now - pl->ckpt_since < CKPT_WAIT) return 0;
  if (!all)
    log_limited(pl, EDDY_LOG_WARN, "checkpoints: some partitions' outputs still await delivery after %.0f s: "
                "they are checkpointed at a later round", CKPT_WAIT);
  pl->ckpt_due = 0;
  pl->next_ckpt = now + pl->conf->state.checkpoint_interval;
  return 1;
}

static void unassign_now(eddy_pipeline_t *pl, const rd_kafka_topic_partition_list_t *parts) {
  pl->unassign_due = 0;
  if (!pl->consumer) return;
  if (strcmp(rd_kafka_rebalance_protocol(pl->consumer), "COOPERATIVE") == 0 && parts) {
    rd_kafka_error_t *e = rd_kafka_incremental_unassign(pl->consumer, parts);
    if (e) rd_kafka_error_destroy(e);
  } else {
    rd_kafka_assign(pl->consumer, NULL);
  }
}

void eddy__pipeline_checkpointed(eddy_pipeline_t *pl, int32_t partition, int64_t offset, int kind,
                                 int status, int64_t stored) {
  if (pl->ckpts_pending) pl->ckpts_pending--;
  const char *name = pl->conf->pipeline.name;
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
    log_limited(pl, EDDY_LOG_ERROR, "partition %d: checkpoint at offset %" PRId64 " not written",
                (int)partition, offset);
  }
  if (kind == EDDY_CKPT_REVOKE && pl->revoke_ckpts && --pl->revoke_ckpts == 0 && pl->unassign_due) {
    eddy_log(EDDY_LOG_INFO, "pipeline %s: checkpoints of the revoked partitions written", name);
    unassign_now(pl, pl->unassign_parts);
    if (pl->unassign_parts) rd_kafka_topic_partition_list_destroy(pl->unassign_parts);
    pl->unassign_parts = NULL;
  }
}

/* ----------------------------------------------------------------- batches */

/* The Redis store: a batch of records is held while their entities are
 * read in one pipelined round trip per task; then its records are
 * handled in order and the entities written back (issued before the next
 * batch's reads, on the same connection, so that those read them). While
 * Redis is away the batch is kept, the partitions are paused, and it is
 * read again when Redis is back. */

static void process_batch(eddy_pipeline_t *pl);

static int hold(eddy_pipeline_t *pl, rd_kafka_message_t *m, eddy_ptask_t *t) {
  if (eddy_grow((void **)&pl->q, &pl->cap_q, pl->n_q + 1, sizeof *pl->q)) return EDDY_ENOMEM;
  pl->q[pl->n_q++] = (held_t){m, t, -1};
  return 0;
}

/* Polls at most max messages into the queue; returns how many came. */
static int64_t poll_held(eddy_pipeline_t *pl, int64_t max) {
  int64_t n = 0;
  while (n < max && pl->consumer && pl->state != EDDY_PL_CLOSED) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(pl->consumer, 0);
    if (!m) break;
    n++;
    eddy_ptask_t *t = NULL;
    if (m->err) {
      consumer_error(pl, m);
    } else {
      if (pl->unreachable) reachable(pl);
      if (!(pl->paused & EDDY_PAUSE_DRAIN)) t = task_of(pl, m);
    }
    if (!t) {
      rd_kafka_message_destroy(m);
    } else if (hold(pl, m, t)) {
      rd_kafka_message_destroy(m);
      eddy_log(EDDY_LOG_ERROR, "pipeline %s: out of memory", pl->conf->pipeline.name);
      eddy__run_failed(pl->run, pl);
      break;
    }
  }
  return n;
}

/* The first pass over a record: its entity key alone, decoded with a field
 * map where every other field is ignored (nothing is interned into the
 * model's schema ahead of the record's turn), added to t's batch. */
static int64_t first_pass(eddy_pipeline_t *pl, eddy_ptask_t *t, const rd_kafka_message_t *m) {
  char msg[16];
  if (m->len > (size_t)pl->conf->source.max_record_bytes ||
      eddy_decoder_decode(pl->keydec, t->replica->schema, m->payload, m->len, &pl->keyrec, msg, sizeof msg) ||
      !pl->keyrec.key)
    return -1;
  int64_t e = eddy_state_batch_add(t->store, pl->keyrec.key, pl->keyrec.key_len);
  return e >= 0 ? e : -1;
}

static void fetched_all(eddy_pipeline_t *pl) {
  for (size_t i = 0; i < pl->n_btasks; i++)
    if (pl->btasks[i]->fetch != FETCH_OK) {
      pl->batch_state = BATCH_WAIT_STORE;
      /* Redis is away (ready again: the next tick reads it again). */
      pl->refetch_at = eddy_now() + 0.1;
      return;
    }
  process_batch(pl);
}

static void on_fetched(void *ctx, eddy_state_batch_t *b, int status) {
  (void)b;
  eddy_ptask_t *t = ctx;
  eddy_pipeline_t *pl = t->pl;
  if (t->fetch != FETCH_PENDING || t->batch_mark != pl->batch_id) return; /* left the batch */
  pl->fetches--;
  t->fetch = status ? FETCH_FAILED : FETCH_OK;
  if (status)
    log_limited(pl, EDDY_LOG_WARN, "%s [%d]: entity state not read (%s): the batch waits for Redis",
                t->topic, (int)t->partition, eddy_strerror(status));
  if (pl->fetches == 0 && !pl->issuing && pl->batch_state == BATCH_FETCHING) fetched_all(pl);
}

/* Reads the entities of every task of the batch not read yet. */
static void fetch_batch(eddy_pipeline_t *pl) {
  pl->batch_state = BATCH_FETCHING;
  pl->issuing = 1;
  for (size_t i = 0; i < pl->n_btasks; i++) {
    eddy_ptask_t *t = pl->btasks[i];
    if (t->fetch == FETCH_OK || t->fetch == FETCH_PENDING) continue;
    t->fetch = FETCH_PENDING;
    pl->fetches++;
    if (eddy_store_fetch(pl->store.entities, t->store, on_fetched, t)) {
      pl->fetches--;
      t->fetch = FETCH_FAILED;
    }
  }
  pl->issuing = 0;
  if (pl->fetches == 0) fetched_all(pl);
}

static void start_batch(eddy_pipeline_t *pl) {
  pl->batch_id++;
  pl->n_batch = pl->n_q;
  pl->n_btasks = 0;
  for (size_t i = 0; i < pl->n_batch; i++) {
    held_t *h = &pl->q[i];
    eddy_ptask_t *t = h->t;
    if (t->batch_mark != pl->batch_id) {
      if (eddy_grow((void **)&pl->btasks, &pl->cap_btasks, pl->n_btasks + 1, sizeof *pl->btasks)) {
        eddy_log(EDDY_LOG_ERROR, "pipeline %s: out of memory", pl->conf->pipeline.name);
        eddy__run_failed(pl->run, pl);
        return;
      }
      t->batch_mark = pl->batch_id;
      t->fetch = FETCH_NONE;
      eddy_state_batch_clear(t->store);
      pl->btasks[pl->n_btasks++] = t;
    }
    h->entity = first_pass(pl, t, h->m);
  }
  fetch_batch(pl);
}

/* Drops the first n held records (handled, or given up: not begun, so
 * not committed, they are consumed again by the partition's next owner). */
static void unhold(eddy_pipeline_t *pl, size_t n) {
  if (!n) return;
  for (size_t i = 0; i < n; i++) rd_kafka_message_destroy(pl->q[i].m);
  memmove(pl->q, pl->q + n, (pl->n_q - n) * sizeof *pl->q);
  pl->n_q -= n;
}

static void process_batch(eddy_pipeline_t *pl) {
  pl->batch_time = eddy_wallclock();
  size_t n = pl->n_batch;
  for (size_t i = 0; i < n; i++) {
    held_t *h = &pl->q[i];
    if (!h->t->retired) handle(pl, h->m, h->t, h->entity);
  }
  for (size_t i = 0; i < pl->n_btasks; i++) {
    eddy_ptask_t *t = pl->btasks[i];
    if (t->retired) continue;
    int err = eddy_store_write(pl->store.entities, t->store);
    if (err)
      log_limited(pl, EDDY_LOG_ERROR, "%s [%d]: entity state not written back: %s", t->topic, (int)t->partition,
                  eddy_strerror(err));
  }
  unhold(pl, n);
  pl->n_batch = 0;
  pl->n_btasks = 0;
  pl->batch_state = BATCH_IDLE;
  if (pl->in_flight >= (uint64_t)pl->conf->sink.max_in_flight) check_backpressure(pl);
  kick(pl);
}

/* A revoked task leaves the batch; its held records are given up. */
static void batch_forget(eddy_pipeline_t *pl, eddy_ptask_t *t) {
  size_t w = 0, in_batch = 0;
  for (size_t i = 0; i < pl->n_q; i++) {
    if (pl->q[i].t == t) {
      rd_kafka_message_destroy(pl->q[i].m);
      continue;
    }
    if (i < pl->n_batch) in_batch++;
    pl->q[w++] = pl->q[i];
  }
  pl->n_q = w;
  pl->n_batch = in_batch;
  for (size_t i = 0; i < pl->n_btasks; i++)
    if (pl->btasks[i] == t) {
      pl->btasks[i] = pl->btasks[--pl->n_btasks];
      break;
    }
  if (t->fetch == FETCH_PENDING && t->batch_mark == pl->batch_id && pl->fetches) pl->fetches--;
  t->fetch = FETCH_NONE;
  t->batch_mark = 0;
  if (pl->batch_state != BATCH_IDLE && pl->n_btasks == 0) {
    pl->batch_state = BATCH_IDLE;
    pl->n_batch = 0;
  }
}

/* Every held record given up (the end of a drain). */
static void batch_drop(eddy_pipeline_t *pl) {
  for (size_t i = 0; i < pl->n_btasks; i++) {
    pl->btasks[i]->fetch = FETCH_NONE;
    pl->btasks[i]->batch_mark = 0;
  }
  unhold(pl, pl->n_q);
  pl->n_batch = pl->n_btasks = 0;
  pl->fetches = 0;
  pl->batch_state = BATCH_IDLE;
}

/* A batch waiting for Redis is read again once it is back; a batch whose
 * last task left it (revoked) while it was read goes on. */
static void batch_tick(eddy_pipeline_t *pl) {
  if (pl->batch_state == BATCH_WAIT_STORE && pl->store.type->ready(&pl->store) &&
      eddy_now() >= pl->refetch_at)
    fetch_batch(pl);
  else if (pl->batch_state == BATCH_FETCHING && pl->fetches == 0 && !pl->issuing)
    fetched_all(pl);
}

/* One batch: at most batch_size messages, then the loop runs other work.
 * The queue's io event fires only when it turns non-empty, so a batch that
 * stops early continues from an idle handle. */
static void consume(eddy_pipeline_t *pl) {
  if (!pl->consumer || pl->state == EDDY_PL_CLOSED) return;
  if (pl->held || (pl->eos && (pl->txn_abort || pl->txn_committing || pl->txn_failed))) {
    more_off(pl);
    return;
  }
  int64_t max = pl->conf->source.batch_size, n = 0;
  if (pl->batch_state != BATCH_IDLE) {
    more_off(pl);
    /* Waiting for Redis: the consumer is still served (rebalances,
     * commits); paused partitions give no records, and any already on
     * their way join the next batch. */
    if (pl->batch_state == BATCH_WAIT_STORE && pl->n_q < (size_t)(2 * max)) poll_held(pl, max);
    return;
  }
  if (!ckpt_gate(pl)) {
    more_off(pl);
    return;
  }
  if (pl->batched) {
    if ((int64_t)pl->n_q < max) n = poll_held(pl, max - (int64_t)pl->n_q);
    more_off(pl);
    if (pl->n_q && pl->state == EDDY_PL_RUNNING && !(pl->paused & EDDY_PAUSE_DRAIN)) start_batch(pl);
    else if (n) kick(pl); /* errors and records of partitions no longer ours: more may come */
    return;
  }
  pl->batch_time = eddy_wallclock(); /* the predictions' time: one clock read a batch */
  while (n < max && pl->state != EDDY_PL_CLOSED) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(pl->consumer, 0);
    if (!m) break;
    n++;
    if (m->err) {
      consumer_error(pl, m);
    } else {
      if (pl->unreachable) reachable(pl);
      eddy_ptask_t *t;
      /* A partition no longer ours: its next owner handles it. */
      if (!(pl->paused & EDDY_PAUSE_DRAIN) && (t = task_of(pl, m))) handle(pl, m, t, ENTITY_NOW);
    }
    rd_kafka_message_destroy(m);
    if (pl->in_flight >= (uint64_t)pl->conf->sink.max_in_flight) {
      check_backpressure(pl);
      if (pl->held) break;
    }
  }
  int again = n == max && !(pl->paused & EDDY_PAUSE_DRAIN);
  if (again && !pl->more_active) {
    uv_idle_start(&pl->more, on_more);
    pl->more_active = 1;
  } else if (!again) {
    more_off(pl);
  }
}

static void drain_pipe(int fd) {
  char buf[256];
  while (read(fd, buf, sizeof buf) > 0) {
  }
}

static void on_consumer_io(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  eddy_pipeline_t *pl = h->data;
  drain_pipe(pl->cpipe[0]);
  consume(pl);
}

static void on_more(uv_idle_t *h) {
  eddy_pipeline_t *pl = h->data;
  consume(pl);
}

static void on_producer_io(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  eddy_pipeline_t *pl = h->data;
  drain_pipe(pl->ppipe[0]);
  pl->dr_now_ms = 0;
  if (pl->producer) rd_kafka_poll(pl->producer, 0);
}

/* --------------------------------------------------------- librdkafka callbacks */

/* Delivery report of one output (loop thread, from rd_kafka_poll). */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk;
  eddy_pipeline_t *pl = opaque;
  uint64_t op = (uint64_t)(uintptr_t)m->_private;
  uint32_t slot = (uint32_t)(op >> 34);
  int kind = (int)(op >> 32 & 3);
  eddy_ptask_t *t = slot < pl->n_slots ? pl->slots[slot] : NULL;
  if (m->err && !eddy_kafka_err_permanent(m->err) && !pl->purging && !pl->eos) {
    /* Not delivered yet: produce it again later (the timer retries). */
    retry_t *r = calloc(1, sizeof *r);
    if (r && (r->value = malloc(m->len ? m->len : 1)) && (r->key = malloc(m->key_len ? m->key_len : 1))) {
      memcpy(r->value, m->payload, m->len);
      memcpy(r->key, m->key, m->key_len);
      r->value_len = m->len;
      r->key_len = m->key_len;
      r->rkt = m->rkt;
      r->opaque = m->_private;
      rd_kafka_message_detach_headers((rd_kafka_message_t *)m, &r->headers);
      r->next = pl->retries;
      pl->retries = r;
      pl->st.delivery_retries++;
      log_limited(pl, EDDY_LOG_WARN, "delivery to %s failed (%s): retrying", rd_kafka_topic_name(m->rkt),
                  rd_kafka_err2str(m->err));
      pl->in_flight--;
      return;
    }
    if (r) free(r->value);
    free(r);
  }
  pl->in_flight--;
  if (m->err && pl->eos) {
    /* The transaction lacks this output: it is aborted and its records
     * handled again (outputs purged by an abort say nothing). */
    if (!pl->purging && !pl->txn_abort) {
      pl->txn_abort = 1;
      log_limited(pl, EDDY_LOG_WARN, "an output to %s failed (%s): the transaction is aborted and its "
                  "records are handled again", rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
    }
  } else if (m->err) {
    pl->st.delivery_failures++;
    log_limited(pl, EDDY_LOG_ERROR, "an output to %s is lost: %s", rd_kafka_topic_name(m->rkt),
                rd_kafka_err2str(m->err));
  } else {
    if (pl->unreachable) reachable(pl);
    if (kind == OUT_PREDICTION) pl->st.predictions_delivered++;
    else if (kind == OUT_ALERT) pl->st.alerts_delivered++;
    else pl->st.dead_letters_delivered++;
  }
  if (t) {
    uint64_t seq = eddy_wm_seq(&t->wm, (uint32_t)op);
    if (seq != UINT64_MAX) {
      if (kind == OUT_PREDICTION && !m->err) {
        int64_t ts = eddy_wm_entry(&t->wm, seq)->ts_ms;
        if (ts > 0) {
          if (!pl->dr_now_ms) pl->dr_now_ms = now_ms(); /* one clock read per poll */
          double lat = (double)(pl->dr_now_ms - ts) / 1000.0;
          eddy_hist_observe(&pl->st.latency, lat > 0 ? lat : 0);
        }
      }
      eddy_wm_done(&t->wm, seq);
    }
    if (t->retired && eddy_wm_open(&t->wm) == 0) task_drop(pl, t);
    else if (pl->ckpt_due && eddy_wm_open(&t->wm) == 0) kick(pl); /* a checkpoint waited for it */
  }
  if (pl->held || (pl->paused & EDDY_PAUSE_BACKPRESSURE)) check_backpressure(pl);
}

static void retry_deliveries(eddy_pipeline_t *pl) {
  retry_t *r = pl->retries;
  pl->retries = NULL;
  while (r) {
    retry_t *next = r->next;
    if (produce(pl, r->rkt, r->value, r->value_len, r->key, r->key_len, r->headers, r->opaque) == 0) {
      free(r->value);
      free(r->key);
      free(r);
    } else {
      r->next = pl->retries;
      pl->retries = r;
    }
    r = next;
  }
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
  eddy_pipeline_t *pl = opaque;
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char why[512];
    rd_kafka_fatal_error(rk, why, sizeof why);
    eddy_log(EDDY_LOG_ERROR, "pipeline %s: fatal Kafka error: %s", pl->conf->pipeline.name, why);
    eddy__run_failed(pl->run, pl);
    return;
  }
  if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__RESOLVE) {
    double now = eddy_now();
    if (!pl->unreachable) {
      pl->unreachable = 1;
      pl->unreachable_since = pl->unreachable_logged = now;
      eddy_log(EDDY_LOG_WARN,
               "pipeline %s: Kafka at %s is unreachable (%s): retrying; nothing is lost, outputs and "
               "commits wait and consumption resumes when it is back",
               pl->conf->pipeline.name, pl->bootstrap, reason);
    } else if (now - pl->unreachable_logged >= 30) {
      pl->unreachable_logged = now;
      eddy_log(EDDY_LOG_WARN, "pipeline %s: Kafka at %s still unreachable after %.0f s: retrying",
               pl->conf->pipeline.name, pl->bootstrap, now - pl->unreachable_since);
    }
    return;
  }
  if (err == RD_KAFKA_RESP_ERR__TRANSPORT) return; /* a connection closed; reconnects follow */
  log_limited(pl, EDDY_LOG_WARN, "Kafka: %s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

/* librdkafka's own log lines (its threads): errors only, and neither the
 * notes that a [kafka] key does not apply to a consumer or a producer nor
 * refused connections (the pipeline says once that Kafka is unreachable,
 * and when it is back). */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
  /* With [kafka] debug = ..., everything librdkafka says (the config is
   * not changed after start: reading it from this thread is safe). */
  const eddy_pipeline_t *pl = rd_kafka_opaque(rk);
  if (pl && eddy_kvlist_get(&pl->conf->kafka, "debug")) {
    eddy_log(level > 6 ? EDDY_LOG_DEBUG : EDDY_LOG_WARN, "librdkafka %s: %s", fac, buf);
    return;
  }
  if (level > 3 || strstr(buf, "will be ignored by this") || strstr(buf, "Connection refused")) return;
  eddy_log(EDDY_LOG_WARN, "librdkafka %s: %s", fac, buf);
}

/* The offsets committed (a commit's report): remembered per task. */
static void committed(eddy_pipeline_t *pl, rd_kafka_resp_err_t err,
                      const rd_kafka_topic_partition_list_t *offsets) {
  if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
    pl->st.commit_failures++;
    log_limited(pl, EDDY_LOG_WARN, "offset commit failed: %s (retried at the next commit)",
                rd_kafka_err2str(err));
  }
  for (int i = 0; offsets && i < offsets->cnt; i++) {
    const rd_kafka_topic_partition_t *p = &offsets->elems[i];
    if (p->err || p->offset < 0) continue;
    eddy_ptask_t *t = find_task(pl, p->topic, p->partition);
    if (!t || p->offset <= t->wm.committed) continue;
    t->wm.committed = p->offset;
  }
  if (!err) pl->st.commits++;
}

static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *offsets,
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
    int64_t c = pl->eos ? t->wm.next : eddy_wm_committable(&t->wm);
    if (c >= 0 && c > t->wm.committed) rd_kafka_topic_partition_list_add(l, t->topic, t->partition)->offset = c;
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
static int txn_commit_wait(eddy_pipeline_t *pl, const rd_kafka_topic_partition_list_t *skip, int timeout_ms);

static void commit_now(eddy_pipeline_t *pl, const rd_kafka_topic_partition_list_t *only, int timeout_ms) {
  if (!pl->consumer) return;
  if (pl->eos) {
    /* Every task's outputs are in the transaction: all its offsets go. */
    txn_commit_wait(pl, only, timeout_ms);
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

static void commit_async(eddy_pipeline_t *pl) {
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

static int restore_task(eddy_pipeline_t *pl, eddy_ptask_t *t, int64_t *offset);

static void txn_fatal(eddy_pipeline_t *pl, const char *why) {
  if (!pl->txn_failed)
    eddy_log(EDDY_LOG_ERROR, "pipeline %s: exactly once: %s (transactional.id %s): stopping; its last "
             "committed transaction is where its next run goes on", pl->conf->pipeline.name, why, pl->txn_id);
  pl->txn_failed = 1;
  pl->txn_open = 0;
  eddy__run_failed(pl->run, pl);
}

static int txn_begin(eddy_pipeline_t *pl) {
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
  eddy_replica_t *r = eddy_replica_new(c, pl->fields, (size_t)c->pipeline.window, err, sizeof err);
  if (!r) {
    eddy_log(EDDY_LOG_ERROR, "pipeline %s: %s [%d]: cannot make a model replica: %s", c->pipeline.name, t->topic,
             (int)t->partition, err);
    return EDDY_ENOMEM;
  }
  r->partition = t->partition;
  r->on_alert = on_alert;
  r->alert_ctx = t;
  eddy_replica_free(t->replica);
  t->replica = r;
  eddy_wm_reset(&t->wm);
  t->restored = 0;
  t->ckpt_offset = -1;
  int64_t off = RD_KAFKA_OFFSET_INVALID;
  if (restore_task(pl, t, &off) == EDDY_EAGAIN) return EDDY_EAGAIN;
  int64_t start = eddy_txn_start(t->ckpt_offset, t->wm.committed, &t->learn_from, &t->emit_from);
  rd_kafka_topic_partition_list_add(l, t->topic, t->partition)->offset = start;
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
static int txn_abort(eddy_pipeline_t *pl, const char *cause, const rd_kafka_topic_partition_list_t *skip) {
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
  batch_drop(pl);
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
  if (pl->txn_abort) return txn_abort(pl, "an output or its commit failed", skip);
  rd_kafka_topic_partition_list_t *l = commit_list(pl, NULL);
  if (!pl->txn_open && !l->cnt) {
    rd_kafka_topic_partition_list_destroy(l);
    return 0;
  }
  if (!pl->txn_open && txn_begin(pl)) {
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
    if (pl->unreachable) reachable(pl);
    break;
  case EDDY_TXN_RETRY:
    log_limited(pl, EDDY_LOG_WARN, "exactly once: the transaction's commit is not confirmed yet (%s): "
                "trying again, consumption waits", why);
    rc = EDDY_EAGAIN;
    break;
  case EDDY_TXN_ABORT:
    pl->st.commit_failures++;
    if (!skip && pl->batch_state != BATCH_IDLE) {
      /* The rewind drops the batch in hand: once it is handled (its
       * outputs go to the doomed transaction, nothing is consumed after
       * it), at a tick. */
      log_limited(pl, EDDY_LOG_WARN, "exactly once: %s: the transaction is aborted after the batch in hand", why);
      pl->txn_abort = 1;
      pl->txn_committing = 0;
      rc = EDDY_EAGAIN;
      break;
    }
    rc = txn_abort(pl, why, skip);
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
static int txn_commit_wait(eddy_pipeline_t *pl, const rd_kafka_topic_partition_list_t *skip, int timeout_ms) {
  double deadline = eddy_now() + timeout_ms / 1000.0;
  int rc;
  for (;;) {
    double left = deadline - eddy_now();
    rc = txn_commit(pl, skip, left > 0.5 ? (int)(left * 1000) : 500);
    if (rc != EDDY_EAGAIN) return rc;
    if (eddy_now() >= deadline) return txn_abort(pl, "its commit was not confirmed in time", skip);
  }
}

/* After a commit: the checkpoints that are due (their offsets are the
 * committed ones). */
static void txn_committed_ckpt(eddy_pipeline_t *pl) {
  double now = eddy_now();
  if (!pl->ckpt || pl->state != EDDY_PL_RUNNING || now < pl->next_ckpt || pl->batch_state != BATCH_IDLE) return;
  checkpoint_tasks(pl, EDDY_CKPT_TIMER);
  pl->next_ckpt = now + pl->conf->state.checkpoint_interval;
}

/* The tick's part: commit on the interval, retry a commit, abort. */
static void txn_tick(eddy_pipeline_t *pl, double now) {
  if (pl->txn_failed || !(pl->txn_abort || pl->txn_committing || now >= pl->next_commit)) return;
  /* An abort drops the batch in hand: between batches only. */
  if (pl->txn_abort && pl->batch_state != BATCH_IDLE) return;
  pl->next_commit = now + pl->commit_interval;
  int rc = txn_commit(pl, NULL, 1000);
  if (rc == 0) txn_committed_ckpt(pl);
  if (rc == 0 || rc == EDDY_ESTATE) kick(pl);
}

/* Exactly once, at assignment (after the checkpoints are restored): the
 * group's committed offsets, and from them where each partition starts
 * and which of its records are replayed (txn.c). EDDY_EAGAIN: not read. */
static int eos_positions(eddy_pipeline_t *pl, rd_kafka_topic_partition_list_t *parts) {
  const char *name = pl->conf->pipeline.name;
  rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_copy(parts);
  for (int i = 0; i < c->cnt; i++) c->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
  rd_kafka_resp_err_t e = rd_kafka_committed(pl->consumer, c, 10000);
  for (int i = 0; !e && i < c->cnt; i++)
    if (c->elems[i].err) e = c->elems[i].err;
  if (e) {
    log_limited(pl, EDDY_LOG_WARN, "exactly once: the group's committed offsets cannot be read (%s): the "
                "assignment waits", rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(c);
    return EDDY_EAGAIN;
  }
  for (int i = 0; i < parts->cnt; i++) {
    rd_kafka_topic_partition_t *p = &parts->elems[i];
    eddy_ptask_t *t = find_task(pl, p->topic, p->partition);
    const rd_kafka_topic_partition_t *k = rd_kafka_topic_partition_list_find(c, p->topic, p->partition);
    if (!t || !k) continue;
    int64_t committed_at = k->offset >= 0 ? k->offset : -1;
    t->wm.committed = committed_at;
    p->offset = eddy_txn_start(t->ckpt_offset, committed_at, &t->learn_from, &t->emit_from);
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

#define UNASSIGN_WAIT 10.0 /* seconds revoked partitions wait for their checkpoints */

static void revoke_tasks(eddy_pipeline_t *pl, const rd_kafka_topic_partition_list_t *parts, int lost) {
  /* Lost partitions' offsets cannot be committed by this member any more:
   * their outputs go with an aborted transaction. */
  if (lost && pl->eos && pl->txn_open) txn_abort(pl, "partitions lost", parts);
  if (!lost) {
    /* Deliver what these partitions produced, then commit their offsets. */
    pl->dr_now_ms = 0;
    if (pl->producer && pl->in_flight) rd_kafka_flush(pl->producer, pl->revoke_budget_ms);
    commit_now(pl, parts, pl->revoke_budget_ms > 500 ? 2000 : 500);
  }
  for (int i = 0; i < parts->cnt; i++) {
    eddy_ptask_t *t = find_task(pl, parts->elems[i].topic, parts->elems[i].partition);
    if (!t) continue;
    batch_forget(pl, t);
    if (!lost && pl->ckpt && has_news(t)) {
      /* The next owner restores the model from here. */
      if (eddy_wm_open(&t->wm) == 0)
        checkpoint_task(pl, t, EDDY_CKPT_REVOKE);
      else
        eddy_log(EDDY_LOG_WARN, "pipeline %s: %s [%d]: outputs not all delivered: no checkpoint at "
                 "revocation (the next owner restarts from the last one, offset %" PRId64 ")",
                 pl->conf->pipeline.name, t->topic, (int)t->partition, t->ckpt_offset);
    }
    eddy_ptask_retire(t);
    if (pl->last == t) pl->last = NULL;
    if (eddy_wm_open(&t->wm) == 0) task_drop(pl, t);
  }
}

/* Restores t once (the store's checkpoint: model and start offset). */
static int restore_task(eddy_pipeline_t *pl, eddy_ptask_t *t, int64_t *offset) {
  if (t->restored) return 0;
  int err = pl->store.type->restore ? pl->store.type->restore(&pl->store, t, offset) : 0;
  if (err == EDDY_EAGAIN) return err;
  t->restored = 1;
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
static void retry_assign(eddy_pipeline_t *pl) {
  if (!pl->assign_wait || eddy_now() < pl->assign_retry) return;
  int wait = 0;
  for (int i = 0; i < pl->assign_wait->cnt && !wait; i++) {
    rd_kafka_topic_partition_t *p = &pl->assign_wait->elems[i];
    eddy_ptask_t *t = find_task(pl, p->topic, p->partition);
    if (t && restore_task(pl, t, &p->offset) == EDDY_EAGAIN) wait = 1;
  }
  if (!wait && pl->eos && eos_positions(pl, pl->assign_wait) == EDDY_EAGAIN) wait = 1;
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

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
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
    revoke_tasks(pl, pl->assign_wait, 1);
    rd_kafka_topic_partition_list_destroy(pl->assign_wait);
    pl->assign_wait = NULL;
  }
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    int wait = 0;
    for (int i = 0; i < parts->cnt; i++) {
      rd_kafka_topic_partition_t *p = &parts->elems[i];
      eddy_ptask_t *t = find_task(pl, p->topic, p->partition);
      if (!t && !(t = task_add(pl, p->topic, p->partition))) {
        eddy__run_failed(pl->run, pl);
        continue;
      }
      /* Stored offsets go on the list given to assign (seeking later has
       * a timeout bug in librdkafka 2.0.2); none: the committed offset. */
      p->offset = RD_KAFKA_OFFSET_INVALID;
      if (!wait && restore_task(pl, t, &p->offset) == EDDY_EAGAIN) wait = 1;
    }
    if (!wait && pl->eos && eos_positions(pl, parts) == EDDY_EAGAIN) wait = 1;
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
    revoke_tasks(pl, parts, lost);
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
      unassign_now(pl, parts);
    }
  } else {
    eddy_log(EDDY_LOG_WARN, "pipeline %s: rebalance error: %s", pl->conf->pipeline.name, rd_kafka_err2str(err));
    revoke_tasks(pl, parts, 1);
    rd_kafka_assign(rk, NULL);
  }
}

/* ------------------------------------------------------------- the store */

static int store_open(eddy_pipeline_t *pl, char *errstr, size_t errstr_size) {
  const eddy_pipeline_conf_t *c = pl->conf;
  const char *kind = c->state.store && *c->state.store ? c->state.store : "memory";
  if (eddy_store_is_redis(c)) {
    pl->store.type = &eddy_plstore_redis;
  } else if (strcmp(kind, "memory") == 0) {
    pl->store.type = &eddy_plstore_memory;
  } else {
    const eddy_kv_t *w = eddy_conf_where(c, "state", "store");
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL,
                       "%s:%d: [state] key 'store': '%s' is neither memory nor redis://HOST:PORT/DB",
                       w && w->file ? w->file : c->file, w ? w->line : c->line, kind);
  }
  pl->store.pl = pl;
  pl->store.aggs = pl->aggs;
  pl->ckpt = pl->store.type->checkpoint != NULL;
  pl->batched = pl->ckpt && pl->aggs->n;
  return pl->store.type->open ? pl->store.type->open(&pl->store, errstr, errstr_size) : 0;
}

void eddy__pipeline_store_ready(eddy_pipeline_t *pl, int ready) {
  const char *name = pl->conf->pipeline.name;
  if (!ready) {
    if (!(pl->paused & EDDY_PAUSE_STORE))
      eddy_log(EDDY_LOG_WARN, "pipeline %s: Redis unreachable: consumption paused (records wait in Kafka, "
               "the batch in hand is kept: nothing is lost)", name);
    pl->store_away_since = eddy_now();
    eddy_pipeline_pause(pl, EDDY_PAUSE_STORE);
    return;
  }
  if (pl->paused & EDDY_PAUSE_STORE) {
    if (pl->store_seen_ready)
      eddy_log(EDDY_LOG_INFO, "pipeline %s: Redis is back after %.1f s: consumption resumes", name,
               eddy_now() - pl->store_away_since);
    eddy_pipeline_resume(pl, EDDY_PAUSE_STORE);
  }
  pl->store_seen_ready = 1;
  /* A batch that waits, or an assignment: on the next tick. */
  pl->refetch_at = 0;
  pl->assign_retry = 0;
}

static void store_handle_closed(eddy_pipeline_t *pl);

void eddy__pipeline_store_closed(eddy_pipeline_t *pl) { store_handle_closed(pl); }

/* ------------------------------------------------------------ lifecycle */

/* The field names of an Avro record schema file. */
static int avro_names(const char *path, char ***names, size_t *n, char *errstr, size_t errstr_size) {
  FILE *f = fopen(path, "rb");
  if (!f) return eddy_seterr(errstr, errstr_size, EDDY_EIO, "[source] schema %s: %s", path, strerror(errno));
  eddy_buf_t b;
  eddy_buf_init(&b);
  char chunk[4096];
  size_t k;
  while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) eddy_buf_put(&b, chunk, k);
  fclose(f);
  avro_schema_t s;
  /* avro_schema_from_json ignores its length and reads to a NUL. */
  int rc = b.err ? -1 : avro_schema_from_json_length((const char *)b.data, b.len, &s);
  eddy_buf_free(&b);
  if (rc) return eddy_seterr(errstr, errstr_size, EDDY_EPARSE, "[source] schema %s: %s", path, avro_strerror());
  if (!is_avro_record(s)) {
    avro_schema_decref(s);
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "[source] schema %s: not an Avro record", path);
  }
  *n = avro_schema_record_size(s);
  *names = calloc(*n ? *n : 1, sizeof **names);
  for (size_t i = 0; *names && i < *n; i++) (*names)[i] = strdup(avro_schema_record_field_name(s, (int)i));
  avro_schema_decref(s);
  return *names ? 0 : EDDY_ENOMEM;
}

static void free_names(char **names, size_t n) {
  for (size_t i = 0; names && i < n; i++) free(names[i]);
  free(names);
}

eddy_pipeline_t *eddy_pipeline_new(eddy_run_t *run, const eddy_pipeline_conf_t *c, char *errstr,
                                   size_t errstr_size) {
  eddy_pipeline_t *pl = calloc(1, sizeof *pl);
  if (!pl) {
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    return NULL;
  }
  pl->run = run;
  pl->conf = c;
  pl->cpipe[0] = pl->cpipe[1] = pl->ppipe[0] = pl->ppipe[1] = -1;
  pl->revoke_budget_ms = 5000;
  eddy_buf_init(&pl->out);
  eddy_buf_init(&pl->alert_out);
  eddy_buf_init(&pl->ckpt_buf);
  eddy_hist_init(&pl->st.latency, eddy_latency_bounds, eddy_latency_n_bounds);
  char **names = NULL;
  size_t n_names = 0;
  int err = 0;
  const char *name = c->pipeline.name;
#define FAIL(...) do { err = eddy_seterr(errstr, errstr_size, EDDY_EINVAL, __VA_ARGS__); goto fail; } while (0)
  if (c->has_source && c->source.type == EDDY_SOURCE_FILE)
    FAIL("%s:%d: pipeline %s: [source] type = file is for `eddy eval`; `eddy run` reads Kafka", c->file,
         c->line, name);
  if (c->source.label_topic && *c->source.label_topic)
    FAIL("%s:%d: [source] label_topic: labels that arrive later are not joined in this build yet", c->file,
         c->line);
  pl->eos = c->pipeline.guarantee == EDDY_EXACTLY_ONCE;
  pl->commit_interval = c->source.commit_interval_ms / 1000.0;
  if (pl->eos) {
    eddy_txn_id(c, pl->txn_id, sizeof pl->txn_id);
    /* Kafka Streams' commit interval under exactly once, unless set. */
    if (!eddy_conf_where(c, "source", "commit_interval_ms")) pl->commit_interval = 0.1;
  }
  if (!(pl->topics = eddy_kafka_topics(c->source.topics, errstr, errstr_size))) {
    err = EDDY_EINVAL;
    goto fail;
  }
  /* The fields records have: an Avro schema's, CSV's columns, else the
   * [features] lists (JSON). */
  if (c->source.format == EDDY_FORMAT_AVRO) {
    if ((err = avro_names(c->source.schema, &names, &n_names, errstr, errstr_size))) goto fail;
  } else if (c->source.format == EDDY_FORMAT_CSV) {
    if (!c->source.columns || !*c->source.columns)
      FAIL("%s:%d: [source] columns: required for format = csv from Kafka (the column names, in order)",
           c->file, c->line);
    char *copy = strdup(c->source.columns), *items[4096];
    n_names = copy ? eddy_split_list(copy, items, 4096) : 0;
    names = calloc(n_names ? n_names : 1, sizeof *names);
    for (size_t i = 0; names && i < n_names; i++) names[i] = strdup(items[i]);
    free(copy);
  } else if ((!c->features.numeric || !*c->features.numeric) && (!c->features.nominal || !*c->features.nominal)) {
    FAIL("%s:%d: [features] numeric or nominal: JSON records from Kafka need their attributes listed", c->file,
         c->line);
  }
  /* Per-entity aggregates: their inputs are extra fields, their outputs
   * attributes joined from the state store before predict. */
  if (!(pl->aggs = eddy_aggs_new(c, errstr, errstr_size))) {
    err = EDDY_EINVAL;
    goto fail;
  }
  if (!(pl->fields = eddy_fields_new(c, (const char *const *)names, n_names,
                                     (const char *const *)pl->aggs->inputs, pl->aggs->n_inputs, errstr,
                                     errstr_size)) ||
      (pl->aggs->n && eddy_aggs_bind(pl->aggs, pl->fields, errstr, errstr_size))) {
    err = EDDY_EINVAL;
    goto fail;
  }
  if (pl->aggs->n) {
    const char *key = c->features.key && *c->features.key ? c->features.key : c->state.key;
    if (!key || !*key)
      FAIL("%s:%d: [state] aggregates need the entity key: [features] key (or [state] key)", c->file, c->line);
  }
  if ((err = store_open(pl, errstr, errstr_size))) goto fail;
  if (pl->batched) {
    /* The batch's first pass reads the entity key alone: the same field
     * map with every other field ignored. */
    pl->keyfields = *pl->fields;
    if (!(pl->keyfields.v = malloc(pl->fields->n * sizeof *pl->keyfields.v))) FAIL("out of memory");
    for (size_t i = 0; i < pl->fields->n; i++) {
      pl->keyfields.v[i] = pl->fields->v[i];
      if (pl->keyfields.v[i].kind != EDDY_FIELD_KEY) pl->keyfields.v[i].kind = EDDY_FIELD_IGNORE;
    }
    if (!(pl->keydec = eddy_decoder_new(c->source.format, &pl->keyfields, c, (const char *const *)names,
                                        n_names, errstr, errstr_size))) {
      err = EDDY_EINVAL;
      goto fail;
    }
    if (eddy_record_init(&pl->keyrec, pl->fields)) FAIL("out of memory");
  }
  if (!(pl->decoder = eddy_decoder_new(c->source.format, pl->fields, c, (const char *const *)names, n_names,
                                       errstr, errstr_size)) ||
      !(pl->output = eddy_output_new(c, errstr, errstr_size))) {
    err = EDDY_EINVAL;
    goto fail;
  }
  if (eddy_record_init(&pl->rec, pl->fields)) FAIL("out of memory");
  /* Required fields must be ones the decoder fills. */
  if (c->features.required && *c->features.required) {
    char *copy = strdup(c->features.required), *items[1024];
    size_t n = copy ? eddy_split_list(copy, items, 1024) : 0;
    pl->required = calloc(n ? n : 1, sizeof *pl->required);
    for (size_t i = 0; pl->required && i < n; i++) {
      const eddy_field_t *f = eddy_fields_find(pl->fields, items[i], strlen(items[i]));
      if (!f || f->kind == EDDY_FIELD_IGNORE || f->kind == EDDY_FIELD_WEIGHT) {
        eddy_seterr(errstr, errstr_size, EDDY_EINVAL,
                    "%s:%d: [features] required: '%s' is not an attribute, the target, key, id or timestamp",
                    c->file, c->line, items[i]);
        free(copy);
        err = EDDY_EINVAL;
        goto fail;
      }
      pl->required[pl->n_required++] = f;
    }
    free(copy);
  }
  /* The learner and detectors over this field map (config.c checked them
   * over an empty schema). */
  eddy_replica_t *probe = eddy_replica_new(c, pl->fields, 10, errstr, errstr_size);
  if (!probe) {
    err = EDDY_EINVAL;
    goto fail;
  }
  eddy_replica_free(probe);
  if (!(pl->cconf = eddy_kafka_conf(c, EDDY_KAFKA_CONSUMER, errstr, errstr_size)) ||
      !(pl->pconf = eddy_kafka_conf(c, EDDY_KAFKA_PRODUCER, errstr, errstr_size)) ||
      (pl->eos && eddy_txn_conf(c, pl->pconf, pl->cconf, errstr, errstr_size))) {
    err = EDDY_EINVAL;
    goto fail;
  }
  char msg[256];
  if (!eddy_kvlist_get(&c->kafka, "queue.buffering.max.messages")) {
    /* Room for everything in flight before backpressure pauses, and more. */
    int64_t q = 2 * c->sink.max_in_flight + 16 * c->source.batch_size;
    snprintf(msg, sizeof msg, "%" PRId64, q < 100000 ? 100000 : q > 10000000 ? 10000000 : q);
    rd_kafka_conf_set(pl->pconf, "queue.buffering.max.messages", msg, NULL, 0);
  }
  const char *bs = eddy_kafka_get(c, "bootstrap.servers");
  snprintf(pl->bootstrap, sizeof pl->bootstrap, "%s", bs ? bs : "?");
  free_names(names, n_names);
  pl->state = EDDY_PL_PREPARED;
  return pl;
#undef FAIL
fail:
  (void)err;
  free_names(names, n_names);
  eddy_pipeline_free(pl);
  return NULL;
}

static int make_pipe(int fds[2]) { return pipe2(fds, O_NONBLOCK | O_CLOEXEC); }

int eddy_pipeline_start(eddy_pipeline_t *pl, char *errstr, size_t errstr_size) {
  const eddy_pipeline_conf_t *c = pl->conf;
  uv_loop_t *loop = eddy__run_loop(pl->run);
  char msg[512];
  rd_kafka_conf_set_opaque(pl->cconf, pl);
  rd_kafka_conf_set_rebalance_cb(pl->cconf, on_rebalance);
  rd_kafka_conf_set_offset_commit_cb(pl->cconf, on_commit);
  rd_kafka_conf_set_error_cb(pl->cconf, on_error);
  rd_kafka_conf_set_log_cb(pl->cconf, on_log);
  rd_kafka_conf_set_opaque(pl->pconf, pl);
  rd_kafka_conf_set_dr_msg_cb(pl->pconf, on_delivery);
  rd_kafka_conf_set_error_cb(pl->pconf, on_error);
  rd_kafka_conf_set_log_cb(pl->pconf, on_log);
  pl->producer = rd_kafka_new(RD_KAFKA_PRODUCER, pl->pconf, msg, sizeof msg);
  if (!pl->producer) return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "pipeline %s: producer: %s", c->pipeline.name, msg);
  pl->pconf = NULL;
  if (pl->eos) {
    char why[768];
    if (eddy_txn_init(pl->producer, 60000, why, sizeof why) != EDDY_TXN_OK)
      return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "pipeline %s: %s", c->pipeline.name, why);
    eddy_log(EDDY_LOG_INFO, "pipeline %s: exactly once: transactions as %s, committed every %.0f ms",
             c->pipeline.name, pl->txn_id, pl->commit_interval * 1000);
    /* Fault injection for the tests: every Nth commit is aborted instead. */
    const char *f = getenv("EDDY_FAULT_ABORT_EVERY");
    if (f && eddy_parse_int(f, &pl->fault_abort_every) == 0 && pl->fault_abort_every > 0)
      eddy_log(EDDY_LOG_WARN, "pipeline %s: EDDY_FAULT_ABORT_EVERY=%" PRId64 ": every %" PRId64 "th transaction "
               "is aborted (fault injection)", c->pipeline.name, pl->fault_abort_every, pl->fault_abort_every);
    else
      pl->fault_abort_every = 0;
  }
  pl->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, pl->cconf, msg, sizeof msg);
  if (!pl->consumer) return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "pipeline %s: consumer: %s", c->pipeline.name, msg);
  pl->cconf = NULL;
  rd_kafka_poll_set_consumer(pl->consumer);
  pl->cq = rd_kafka_queue_get_consumer(pl->consumer);
  pl->pq = rd_kafka_queue_get_main(pl->producer);
  if (make_pipe(pl->cpipe) || make_pipe(pl->ppipe))
    return eddy_seterr(errstr, errstr_size, EDDY_EIO, "pipe: %s", strerror(errno));
  if (c->sink.predictions && *c->sink.predictions) pl->t_pred = rd_kafka_topic_new(pl->producer, c->sink.predictions, NULL);
  if (c->sink.alerts && *c->sink.alerts) pl->t_alerts = rd_kafka_topic_new(pl->producer, c->sink.alerts, NULL);
  if (c->sink.dead_letter && *c->sink.dead_letter) pl->t_dlq = rd_kafka_topic_new(pl->producer, c->sink.dead_letter, NULL);
  rd_kafka_resp_err_t e = rd_kafka_subscribe(pl->consumer, pl->topics);
  if (e) return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "pipeline %s: subscribe %s: %s", c->pipeline.name,
                            c->source.topics, rd_kafka_err2str(e));
  if (pl->store.type->start) {
    if (pl->store.type->start(&pl->store, loop, msg, sizeof msg))
      return eddy_seterr(errstr, errstr_size, EDDY_EIO, "pipeline %s: [state] store: %s", c->pipeline.name, msg);
    pl->store_started = 1;
  }
  /* Nothing fails from here on: the loop's handles. */
  rd_kafka_queue_io_event_enable(pl->cq, pl->cpipe[1], "c", 1);
  rd_kafka_queue_io_event_enable(pl->pq, pl->ppipe[1], "p", 1);
  uv_poll_init(loop, &pl->cpoll, pl->cpipe[0]);
  uv_poll_init(loop, &pl->ppoll, pl->ppipe[0]);
  uv_idle_init(loop, &pl->more);
  pl->cpoll.data = pl->ppoll.data = pl->more.data = pl;
  pl->handles = 3 + pl->store_started;
  uv_poll_start(&pl->cpoll, UV_READABLE, on_consumer_io);
  uv_poll_start(&pl->ppoll, UV_READABLE, on_producer_io);
  pl->state = EDDY_PL_RUNNING;
  pl->next_commit = eddy_now() + pl->commit_interval;
  pl->next_ckpt = eddy_now() + c->state.checkpoint_interval;
  /* Until the store is reachable (Redis: its first connection). */
  if (pl->store.type->ready && !pl->store.type->ready(&pl->store)) eddy_pipeline_pause(pl, EDDY_PAUSE_STORE);
  char group[256];
  const char *g = eddy_kafka_get(c, "group.id");
  snprintf(group, sizeof group, g ? "%s" : "eddy.%s", g ? g : c->pipeline.name);
  eddy_log(EDDY_LOG_INFO, "pipeline %s: consuming %s from %s as group %s (learner %s%s%s)", c->pipeline.name,
           c->source.topics, pl->bootstrap, group, c->model.learner, c->drift.detector[0] ? ", drift detector " : "",
           c->drift.detector);
  return 0;
}

static void handle_done(eddy_pipeline_t *pl) {
  if (--pl->handles == 0) {
    if (pl->cpipe[0] >= 0) close(pl->cpipe[0]);
    if (pl->cpipe[1] >= 0) close(pl->cpipe[1]);
    if (pl->ppipe[0] >= 0) close(pl->ppipe[0]);
    if (pl->ppipe[1] >= 0) close(pl->ppipe[1]);
    pl->cpipe[0] = pl->cpipe[1] = pl->ppipe[0] = pl->ppipe[1] = -1;
    pl->state = EDDY_PL_CLOSED;
  }
}

static void handle_closed(uv_handle_t *h) { handle_done(h->data); }

static void store_handle_closed(eddy_pipeline_t *pl) {
  pl->store_started = 0;
  handle_done(pl);
}

/* The end of a drain: commit, leave the group, deliver what is left, and
 * close everything. Blocking steps are bounded by the deadline. */
static void finish(eddy_pipeline_t *pl) {
  double left = pl->drain_deadline - eddy_now();
  int budget = left > 0.5 ? (int)(left * 1000) : 500;
  /* Records held for a batch not handled: not begun, not committed. */
  batch_drop(pl);
  pl->closing = 1;
  if (pl->consumer) {
    /* librdkafka waits for the answer to a rebalance before it leaves. */
    if (pl->unassign_due) unassign_now(pl, pl->unassign_parts);
    if (pl->assign_wait) {
      revoke_tasks(pl, pl->assign_wait, 1);
      rd_kafka_topic_partition_list_destroy(pl->assign_wait);
      pl->assign_wait = NULL;
      rd_kafka_assign(pl->consumer, NULL);
    }
    commit_now(pl, NULL, budget / 3);
    /* Leaving the group runs the revoke callback (commit, retire tasks). */
    pl->revoke_budget_ms = budget / 3;
    /* Its events come on the consumer's own queue, served by
     * rd_kafka_consumer_poll: fetched records still queued (a hold for
     * backpressure) are dropped there, uncommitted (a queue served by
     * callbacks only would abort on them). */
    rd_kafka_error_t *e = rd_kafka_consumer_close_queue(pl->consumer, pl->cq);
    double deadline = eddy_now() + budget / 3000.0;
    if (e) {
      rd_kafka_error_destroy(e);
    } else {
      while (!rd_kafka_consumer_closed(pl->consumer) && eddy_now() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(pl->consumer, 50);
        if (m) rd_kafka_message_destroy(m);
      }
    }
    int closed = rd_kafka_consumer_closed(pl->consumer);
    if (!closed)
      eddy_log(EDDY_LOG_WARN, "pipeline %s: the consumer did not leave its group in time", pl->conf->pipeline.name);
    rd_kafka_queue_io_event_enable(pl->cq, -1, NULL, 0);
    rd_kafka_queue_destroy(pl->cq);
    pl->cq = NULL;
    rd_kafka_destroy_flags(pl->consumer, closed ? 0 : RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    pl->consumer = NULL;
  }
  if (pl->producer && pl->eos && pl->txn_open && !pl->txn_failed) {
    char why[768];
    pl->purging = 1;
    if (eddy_txn_abort(pl->producer, 2000, why, sizeof why) != EDDY_TXN_OK)
      eddy_log(EDDY_LOG_WARN, "pipeline %s: %s", pl->conf->pipeline.name, why);
    pl->txn_open = 0;
    rd_kafka_poll(pl->producer, 0);
  }
  if (pl->producer) {
    if (pl->in_flight && rd_kafka_flush(pl->producer, 1000) != RD_KAFKA_RESP_ERR_NO_ERROR)
      eddy_log(EDDY_LOG_WARN, "pipeline %s: %" PRIu64 " outputs not delivered: their records were not "
               "committed and will be predicted again", pl->conf->pipeline.name, pl->in_flight);
    pl->purging = 1; /* purged outputs are not retried */
    rd_kafka_purge(pl->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(pl->producer, 0);
    if (pl->t_pred) rd_kafka_topic_destroy(pl->t_pred);
    if (pl->t_alerts) rd_kafka_topic_destroy(pl->t_alerts);
    if (pl->t_dlq) rd_kafka_topic_destroy(pl->t_dlq);
    pl->t_pred = pl->t_alerts = pl->t_dlq = NULL;
    rd_kafka_queue_io_event_enable(pl->pq, -1, NULL, 0);
    rd_kafka_queue_destroy(pl->pq);
    pl->pq = NULL;
    rd_kafka_destroy(pl->producer);
    pl->producer = NULL;
  }
  /* The store's connection closes once its answers are in. */
  if (pl->store_started) pl->store.type->stop(&pl->store);
  eddy_log(EDDY_LOG_INFO, "pipeline %s: stopped after %" PRIu64 " records (%" PRIu64 " predictions, %" PRIu64
           " dead-lettered)", pl->conf->pipeline.name, pl->st.records_in, pl->st.predictions_delivered,
           pl->st.dead_lettered);
  if (pl->handles) {
    uv_close((uv_handle_t *)&pl->cpoll, handle_closed);
    uv_close((uv_handle_t *)&pl->ppoll, handle_closed);
    uv_close((uv_handle_t *)&pl->more, handle_closed);
  } else {
    pl->state = EDDY_PL_CLOSED;
  }
}

void eddy_pipeline_drain(eddy_pipeline_t *pl, double deadline) {
  if (pl->state == EDDY_PL_PREPARED) {
    pl->state = EDDY_PL_CLOSED;
    return;
  }
  if (pl->state != EDDY_PL_RUNNING) {
    if (deadline < pl->drain_deadline) pl->drain_deadline = deadline;
    return;
  }
  pl->state = EDDY_PL_DRAINING;
  pl->drain_deadline = deadline;
  eddy_pipeline_pause(pl, EDDY_PAUSE_DRAIN);
  if (pl->more_active) {
    uv_idle_stop(&pl->more);
    pl->more_active = 0;
  }
  eddy_log(EDDY_LOG_INFO, "pipeline %s: draining: %" PRIu64 " outputs in flight", pl->conf->pipeline.name,
           pl->in_flight);
}

void eddy_pipeline_tick(eddy_pipeline_t *pl) {
  double now = eddy_now();
  if (pl->state == EDDY_PL_RUNNING || (pl->state == EDDY_PL_DRAINING && pl->consumer)) {
    if (pl->retries && !pl->unreachable) retry_deliveries(pl);
    if (pl->held || (pl->paused & EDDY_PAUSE_BACKPRESSURE)) check_backpressure(pl);
    if (pl->eos) {
      txn_tick(pl, now);
    } else if (now >= pl->next_commit) {
      commit_async(pl);
      pl->next_commit = now + pl->commit_interval;
    }
    if (pl->batch_state != BATCH_IDLE) batch_tick(pl);
    if (pl->assign_wait) retry_assign(pl);
    if (pl->unassign_due && now >= pl->unassign_deadline) {
      eddy_log(EDDY_LOG_WARN, "pipeline %s: checkpoints of the revoked partitions not answered within %.0f s: "
               "giving them up anyway (the checkpoints are sent when Redis answers; a next owner that reads "
               "an older one replays from there)", pl->conf->pipeline.name, UNASSIGN_WAIT);
      unassign_now(pl, pl->unassign_parts);
    }
    /* Serve the consumer now and then even when no message wakes it, so
     * that rebalances and commit reports never wait. */
    if (pl->consumer && !pl->more_active && pl->state == EDDY_PL_RUNNING) consume(pl);
  }
  if (pl->state == EDDY_PL_DRAINING && pl->consumer) {
    /* The batch in hand is finished (unless Redis is away) and outputs
     * still in flight are awaited, leaving time to commit and close before
     * the deadline; then the last checkpoints (at the offset after the
     * last record handled: a restart goes on from there) are written. */
    int late = now >= pl->drain_deadline - 2.5;
    int ready = !pl->store.type->ready || pl->store.type->ready(&pl->store);
    if (!late && ((pl->batch_state != BATCH_IDLE && ready) || pl->in_flight)) return;
    if (pl->eos && !pl->final_commit) {
      pl->final_commit = 1;
      double left = pl->drain_deadline - now - 2.0;
      txn_commit_wait(pl, NULL, left > 1 ? (int)(left * 500) : 500);
    }
    if (pl->ckpt && !pl->final_sent) {
      pl->final_sent = 1;
      if (ready && pl->batch_state == BATCH_IDLE) checkpoint_tasks(pl, EDDY_CKPT_FINAL);
    }
    if (pl->ckpts_pending && ready && now < pl->drain_deadline - 2.0) return;
    finish(pl);
  }
}

void eddy_pipeline_free(eddy_pipeline_t *pl) {
  if (!pl) return;
  unhold(pl, pl->n_q); /* before the consumer goes */
  /* Only after a drain, or a start that failed before the loop's handles. */
  if (pl->cq) rd_kafka_queue_destroy(pl->cq);
  if (pl->pq) rd_kafka_queue_destroy(pl->pq);
  if (pl->t_pred) rd_kafka_topic_destroy(pl->t_pred);
  if (pl->t_alerts) rd_kafka_topic_destroy(pl->t_alerts);
  if (pl->t_dlq) rd_kafka_topic_destroy(pl->t_dlq);
  if (pl->consumer) rd_kafka_destroy_flags(pl->consumer, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  if (pl->producer) {
    pl->purging = 1;
    rd_kafka_purge(pl->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_destroy(pl->producer);
  }
  for (int i = 0; i < 2; i++) {
    if (pl->cpipe[i] >= 0) close(pl->cpipe[i]);
    if (pl->ppipe[i] >= 0) close(pl->ppipe[i]);
  }
  while (pl->n_tasks) task_drop(pl, pl->tasks[pl->n_tasks - 1]);
  free(pl->tasks);
  free(pl->slots);
  while (pl->retries) {
    retry_t *r = pl->retries;
    pl->retries = r->next;
    if (r->headers) rd_kafka_headers_destroy(r->headers);
    free(r->value);
    free(r->key);
    free(r);
  }
  if (pl->store.type && pl->store.type->close) pl->store.type->close(&pl->store);
  if (pl->cconf) rd_kafka_conf_destroy(pl->cconf);
  if (pl->pconf) rd_kafka_conf_destroy(pl->pconf);
  if (pl->topics) rd_kafka_topic_partition_list_destroy(pl->topics);
  eddy_record_free(&pl->rec);
  eddy_record_free(&pl->keyrec);
  eddy_decoder_free(pl->keydec);
  free(pl->keyfields.v);
  free(pl->q);
  free(pl->btasks);
  if (pl->assign_wait) rd_kafka_topic_partition_list_destroy(pl->assign_wait);
  if (pl->unassign_parts) rd_kafka_topic_partition_list_destroy(pl->unassign_parts);
  eddy_buf_free(&pl->ckpt_buf);
  eddy_aggs_free(pl->aggs);
  eddy_decoder_free(pl->decoder);
  eddy_output_free(pl->output);
  eddy_fields_free(pl->fields);
  free(pl->required);
  eddy_buf_free(&pl->out);
  eddy_buf_free(&pl->alert_out);
  free(pl->st.alerts);
  free(pl);
}

/* ------------------------------------------------------------- metrics */

static const char *task_labels(const eddy_pipeline_t *pl, const eddy_ptask_t *t, char *buf, size_t size) {
  char part[16];
  snprintf(part, sizeof part, "%d", (int)t->partition);
  return eddy_prom_labels(buf, size, "pipeline", pl->conf->pipeline.name, "topic", t->topic, "partition",
                          part, NULL);
}

void eddy_pipeline_metrics(const eddy_pipeline_t *pl, const char *family, eddy_buf_t *b) {
  const eddy_pipeline_stats_t *st = &pl->st;
  char labels[512];
  const char *name = pl->conf->pipeline.name;
  eddy_prom_labels(labels, sizeof labels, "pipeline", name, NULL);
  struct {
    const char *family;
    uint64_t v;
  } counters[] = {
      {"eddy_records_in_total", st->records_in},
      {"eddy_bytes_in_total", st->bytes_in},
      {"eddy_predictions_total", st->predictions},
      {"eddy_predictions_delivered_total", st->predictions_delivered},
      {"eddy_decode_errors_total", st->decode_errors},
      {"eddy_invalid_records_total", st->invalid},
      {"eddy_oversized_records_total", st->oversized},
      {"eddy_dead_lettered_total", st->dead_lettered},
      {"eddy_dead_letters_delivered_total", st->dead_letters_delivered},
      {"eddy_dropped_total", st->dropped},
      {"eddy_learn_total", st->learned},
      {"eddy_delivery_retries_total", st->delivery_retries},
      {"eddy_delivery_failures_total", st->delivery_failures},
      {"eddy_commits_total", st->commits},
      {"eddy_commit_failures_total", st->commit_failures},
      {"eddy_rebalances_total", st->rebalances},
      {"eddy_checkpoints_total", st->checkpoints},
      {"eddy_checkpoint_failures_total", st->checkpoint_failures},
      {"eddy_replayed_records_total", st->replayed},
      {"eddy_transactions_committed_total", st->txn_commits},
      {"eddy_transactions_aborted_total", st->txn_aborts},
  };
  for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
    if (!strcmp(family, counters[i].family)) {
      eddy_prom_sample(b, family, labels, (double)counters[i].v);
      return;
    }
  if (!strcmp(family, "eddy_outputs_in_flight")) {
    eddy_prom_sample(b, family, labels, (double)pl->in_flight);
  } else if (!strcmp(family, "eddy_paused")) {
    eddy_prom_sample(b, family, labels, pl->paused || pl->held ? 1 : 0);
  } else if (!strcmp(family, "eddy_kafka_reachable")) {
    eddy_prom_sample(b, family, labels, pl->unreachable ? 0 : 1);
  } else if (!strcmp(family, "eddy_alerts_total")) {
    for (size_t i = 0; i < st->n_alerts; i++) {
      eddy_prom_labels(labels, sizeof labels, "pipeline", name, "detector", st->alerts[i].detector, "kind",
                       st->alerts[i].kind, NULL);
      eddy_prom_sample(b, family, labels, (double)st->alerts[i].n);
    }
  } else if (!strcmp(family, "eddy_latency_seconds")) {
    eddy_prom_histogram(b, family, labels, &st->latency);
  } else {
    for (size_t i = 0; i < pl->n_tasks; i++) {
      const eddy_ptask_t *t = pl->tasks[i];
      if (t->retired) continue;
      task_labels(pl, t, labels, sizeof labels);
      const eddy_replica_t *r = t->replica;
      if (!strcmp(family, "eddy_partition_records_total")) {
        eddy_prom_sample(b, family, labels, (double)t->records);
      } else if (!strcmp(family, "eddy_partition_learn_total")) {
        eddy_prom_sample(b, family, labels, (double)t->learned);
      } else if (!strcmp(family, "eddy_model_version")) {
        eddy_prom_sample(b, family, labels, (double)r->version);
      } else if (!strcmp(family, "eddy_accuracy_windowed") || !strcmp(family, "eddy_mae_windowed")) {
        int cls = r->schema->task == EDDY_CLASSIFICATION;
        if (cls != !strcmp(family, "eddy_accuracy_windowed")) continue;
        eddy_metrics_t m;
        eddy_evaluator_windowed(r->eval, &m);
        if (m.n) eddy_prom_sample(b, family, labels, cls ? m.accuracy : m.mae);
      } else if (!strcmp(family, "eddy_consumer_lag")) {
        int64_t lag = eddy_pipeline_lag(pl, t);
        if (lag >= 0) eddy_prom_sample(b, family, labels, (double)lag);
      } else if (!strcmp(family, "eddy_committed_offset")) {
        if (t->wm.committed >= 0) eddy_prom_sample(b, family, labels, (double)t->wm.committed);
      }
    }
  }
}

/* ---------------------------------------------------------- offline replay */

/* `eddy verify` (engine/verify.c) recomputes a partition's model by running
 * its records through handle() itself, in a pipeline made by
 * eddy_pipeline_new and never started: with no producer nothing is emitted
 * (dead letters are counted in the stats); the aggregates join from a fresh
 * memory store. */
eddy_ptask_t *eddy_pipeline_replay_task(eddy_pipeline_t *pl, const char *topic, int32_t partition,
                                        char *errstr, size_t errstr_size) {
  if (pl->state != EDDY_PL_PREPARED || pl->consumer)
    return eddy_seterr(errstr, errstr_size, EDDY_ESTATE, "replay needs a pipeline that never started"), NULL;
  if (pl->aggs->n) {
    eddy_pipeline_conf_t mem = *pl->conf;
    mem.state.store = (char *)"memory";
    eddy_store_t *s = eddy_store_new(&mem, pl->aggs, NULL, errstr, errstr_size);
    if (!s) return NULL;
    eddy_store_free(pl->store.entities);
    pl->store.entities = s;
  }
  eddy_ptask_t *t = task_add(pl, topic, partition);
  if (!t) return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "cannot make a model replica (logged)"), NULL;
  t->replica->on_alert = NULL;
  t->restored = 1;
  return t;
}

void eddy_pipeline_replay(eddy_pipeline_t *pl, eddy_ptask_t *t, const rd_kafka_message_t *m) {
  handle(pl, m, t, ENTITY_NOW);
}

void eddy_pipeline_replay_done(eddy_pipeline_t *pl, eddy_ptask_t *t) { task_drop(pl, t); }
