/* pipeline.c: one pipeline of `eddy run`: a consumer in its group, a
 * producer for its outputs, a task (model replica) per assigned partition,
 * and the record path: decode, predict, produce the prediction, learn when
 * the record carries its label (drift detectors and alerts run inside the
 * replica), dead-letter what cannot be used. Offsets are committed only up
 * to the first record whose outputs are not all delivered (task.c).
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
  eddy_plstore_t store;
  eddy_aggs_t *aggs;        /* [state] aggregates (n == 0: none) */
  eddy_store_t *entities;   /* their store (memory), NULL without aggregates */
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
  if (pl->entities && !(t->store = eddy_state_batch_new(pl->aggs, partition))) {
    eddy_ptask_free(t);
    return NULL;
  }
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
static void emit(eddy_pipeline_t *pl, rd_kafka_topic_t *rkt, int kind, const void *value, size_t len,
                 const void *key, size_t key_len, rd_kafka_headers_t *headers) {
  eddy_ptask_t *t = pl->cur;
  eddy_wm_add(&t->wm, pl->cur_seq);
  if (produce(pl, rkt, value, len, key, key_len, headers, opaque_of(t, kind, pl->cur_seq))) {
    if (headers) rd_kafka_headers_destroy(headers);
    pl->st.delivery_failures++;
    eddy_wm_done(&t->wm, pl->cur_seq);
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
  count_alert(pl, a->detector, a->kind);
  eddy__run_alert(pl->run, pl, a);
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

static void state_fetched(void *ctx, eddy_state_batch_t *b, int status) {
  (void)ctx;
  (void)b;
  (void)status;
}

static void handle(eddy_pipeline_t *pl, const rd_kafka_message_t *m) {
  eddy_ptask_t *t = task_of(pl, m);
  if (!t) return; /* a partition no longer ours: its next owner handles it */
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
    if (b && pl->rec.key) {
      /* The memory store answers at once: one record is one batch. */
      eddy_state_batch_clear(b);
      entity = eddy_state_batch_add(b, pl->rec.key, pl->rec.key_len);
      if (entity >= 0 && eddy_store_fetch(pl->entities, b, state_fetched, NULL) == 0) {
        t_ms = eddy_aggs_time_ms(pl->aggs, &pl->rec, ts > 0 ? (double)ts : pl->batch_time * 1000);
        eddy_state_batch_join(b, (size_t)entity, &pl->rec, t_ms);
      } else {
        entity = -1;
      }
    }
    int k = eddy_replica_predict(rep, &pl->rec.in);
    if (pl->t_pred) {
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
    if (pl->rec.in.has_y) {
      err = eddy_replica_learn(rep, &pl->rec.in);
      if (err) {
        log_limited(pl, EDDY_LOG_ERROR, "%s [%d] offset %" PRId64 ": learner %s: %s", t->topic,
                    (int)t->partition, (int64_t)m->offset, pl->conf->model.learner, eddy_strerror(err));
      } else {
        pl->st.learned++;
        t->learned++;
      }
    }
    if (entity >= 0) {
      eddy_state_batch_update(b, (size_t)entity, &pl->rec, t_ms);
      eddy_store_write(pl->entities, b);
    }
  }
  pl->cur = NULL;
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

/* One batch: at most batch_size messages, then the loop runs other work.
 * The queue's io event fires only when it turns non-empty, so a batch that
 * stops early continues from an idle handle. */
static void consume(eddy_pipeline_t *pl) {
  if (!pl->consumer || pl->state == EDDY_PL_CLOSED) return;
  if (pl->held) {
    if (pl->more_active) {
      uv_idle_stop(&pl->more);
      pl->more_active = 0;
    }
    return;
  }
  int64_t max = pl->conf->source.batch_size, n = 0;
  pl->batch_time = eddy_wallclock(); /* the predictions' time: one clock read a batch */
  while (n < max && pl->state != EDDY_PL_CLOSED) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(pl->consumer, 0);
    if (!m) break;
    n++;
    if (m->err) {
      consumer_error(pl, m);
    } else {
      if (pl->unreachable) reachable(pl);
      if (!(pl->paused & EDDY_PAUSE_DRAIN)) handle(pl, m);
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
  } else if (!again && pl->more_active) {
    uv_idle_stop(&pl->more);
    pl->more_active = 0;
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
  if (m->err && !eddy_kafka_err_permanent(m->err) && !pl->purging) {
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
  if (m->err) {
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

/* The offsets committed (a commit's report): remembered per task, and the
 * state store hears of them. */
static void committed(eddy_pipeline_t *pl, rd_kafka_resp_err_t err,
                      const rd_kafka_topic_partition_list_t *offsets, int final) {
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
    if (pl->store.type->hooks.committed) pl->store.type->hooks.committed(&pl->store, t, p->offset, final);
  }
  if (!err) pl->st.commits++;
}

static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *offsets,
                      void *opaque) {
  (void)rk;
  eddy_pipeline_t *pl = opaque;
  if (pl->commits_pending) pl->commits_pending--;
  committed(pl, err, offsets, 0);
}

/* The offsets of tasks (all, or those of `only`) that may move forward. */
static rd_kafka_topic_partition_list_t *commit_list(eddy_pipeline_t *pl,
                                                    const rd_kafka_topic_partition_list_t *only) {
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)pl->n_tasks + 1);
  for (size_t i = 0; i < pl->n_tasks; i++) {
    eddy_ptask_t *t = pl->tasks[i];
    if (t->retired) continue;
    if (only && !rd_kafka_topic_partition_list_find(only, t->topic, t->partition)) continue;
    int64_t c = eddy_wm_committable(&t->wm);
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
  committed(w->pl, err, offsets, 1);
}

/* Commits and waits for the answer at most timeout_ms (a broker that is
 * away must not hold a shutdown). */
static void commit_now(eddy_pipeline_t *pl, const rd_kafka_topic_partition_list_t *only, int timeout_ms) {
  if (!pl->consumer) return;
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

static void revoke_tasks(eddy_pipeline_t *pl, const rd_kafka_topic_partition_list_t *parts, int lost) {
  if (!lost) {
    /* Deliver what these partitions produced, then commit their offsets. */
    pl->dr_now_ms = 0;
    if (pl->producer && pl->in_flight) rd_kafka_flush(pl->producer, pl->revoke_budget_ms);
    commit_now(pl, parts, pl->revoke_budget_ms > 500 ? 2000 : 500);
  }
  for (int i = 0; i < parts->cnt; i++) {
    eddy_ptask_t *t = find_task(pl, parts->elems[i].topic, parts->elems[i].partition);
    if (!t) continue;
    if (pl->store.type->hooks.revoked) pl->store.type->hooks.revoked(&pl->store, t);
    eddy_ptask_retire(t);
    if (pl->last == t) pl->last = NULL;
    if (eddy_wm_open(&t->wm) == 0) task_drop(pl, t);
  }
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
                         void *opaque) {
  eddy_pipeline_t *pl = opaque;
  int cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
  pl->st.rebalances++;
  char names[1024];
  size_t n = 0;
  names[0] = '\0';
  for (int i = 0; i < parts->cnt && n < sizeof names - 64; i++)
    n += (size_t)snprintf(names + n, sizeof names - n, "%s%s[%d]", i ? " " : "", parts->elems[i].topic,
                          (int)parts->elems[i].partition);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    for (int i = 0; i < parts->cnt; i++) {
      rd_kafka_topic_partition_t *p = &parts->elems[i];
      eddy_ptask_t *t = find_task(pl, p->topic, p->partition);
      if (!t && !(t = task_add(pl, p->topic, p->partition))) {
        eddy__run_failed(pl->run, pl);
        continue;
      }
      int64_t offset = RD_KAFKA_OFFSET_INVALID;
      if (pl->store.type->hooks.assigned && pl->store.type->hooks.assigned(&pl->store, t, &offset))
        offset = RD_KAFKA_OFFSET_INVALID;
      /* Stored offsets go on the list given to assign (seeking later has
       * a timeout bug in librdkafka 2.0.2). */
      p->offset = offset;
    }
    eddy_log(EDDY_LOG_INFO, "pipeline %s: assigned %s", pl->conf->pipeline.name, names);
    if (cooperative) {
      rd_kafka_error_t *e = rd_kafka_incremental_assign(rk, parts);
      if (e) rd_kafka_error_destroy(e);
    } else {
      rd_kafka_assign(rk, parts);
    }
    if (pl->paused) rd_kafka_pause_partitions(rk, parts);
  } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    int lost = rd_kafka_assignment_lost(rk);
    eddy_log(EDDY_LOG_INFO, "pipeline %s: %s %s", pl->conf->pipeline.name, lost ? "lost" : "revoked", names);
    revoke_tasks(pl, parts, lost);
    if (cooperative) {
      rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
      if (e) rd_kafka_error_destroy(e);
    } else {
      rd_kafka_assign(rk, NULL);
    }
  } else {
    eddy_log(EDDY_LOG_WARN, "pipeline %s: rebalance error: %s", pl->conf->pipeline.name, rd_kafka_err2str(err));
    revoke_tasks(pl, parts, 1);
    rd_kafka_assign(rk, NULL);
  }
}

/* ------------------------------------------------------------- the store */

const eddy_plstore_type_t eddy_plstore_memory = {"memory", NULL, NULL, {NULL, NULL, NULL}};

static int store_open(eddy_pipeline_t *pl, char *errstr, size_t errstr_size) {
  const eddy_state_section_t *s = &pl->conf->state;
  const char *kind = s->store && *s->store ? s->store : "memory";
  if (strcmp(kind, "memory") != 0)
    return eddy_seterr(errstr, errstr_size, EDDY_ENOTSUP,
                       "%s:%d: [state] store '%s': only 'memory' is available in this build "
                       "(the Redis store comes with model checkpoints)",
                       pl->conf->file, pl->conf->line, kind);
  pl->store.type = &eddy_plstore_memory;
  pl->store.pl = pl;
  return pl->store.type->open ? pl->store.type->open(&pl->store, errstr, errstr_size) : 0;
}

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
  if (c->pipeline.guarantee == EDDY_EXACTLY_ONCE)
    FAIL("%s:%d: [pipeline] processing.guarantee = exactly_once is not available in this build yet",
         c->file, c->line);
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
    if (!(pl->entities = eddy_store_new(c, pl->aggs, NULL, errstr, errstr_size))) {
      err = EDDY_EINVAL;
      goto fail;
    }
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
      !(pl->pconf = eddy_kafka_conf(c, EDDY_KAFKA_PRODUCER, errstr, errstr_size))) {
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
  if ((err = store_open(pl, errstr, errstr_size))) goto fail;
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
  /* Nothing fails from here on: the loop's handles. */
  rd_kafka_queue_io_event_enable(pl->cq, pl->cpipe[1], "c", 1);
  rd_kafka_queue_io_event_enable(pl->pq, pl->ppipe[1], "p", 1);
  uv_poll_init(loop, &pl->cpoll, pl->cpipe[0]);
  uv_poll_init(loop, &pl->ppoll, pl->ppipe[0]);
  uv_idle_init(loop, &pl->more);
  pl->cpoll.data = pl->ppoll.data = pl->more.data = pl;
  pl->handles = 3;
  uv_poll_start(&pl->cpoll, UV_READABLE, on_consumer_io);
  uv_poll_start(&pl->ppoll, UV_READABLE, on_producer_io);
  pl->state = EDDY_PL_RUNNING;
  pl->next_commit = eddy_now() + c->source.commit_interval_ms / 1000.0;
  char group[256];
  const char *g = eddy_kafka_get(c, "group.id");
  snprintf(group, sizeof group, g ? "%s" : "eddy.%s", g ? g : c->pipeline.name);
  eddy_log(EDDY_LOG_INFO, "pipeline %s: consuming %s from %s as group %s (learner %s%s%s)", c->pipeline.name,
           c->source.topics, pl->bootstrap, group, c->model.learner, c->drift.detector[0] ? ", drift detector " : "",
           c->drift.detector);
  return 0;
}

static void handle_closed(uv_handle_t *h) {
  eddy_pipeline_t *pl = h->data;
  if (--pl->handles == 0) {
    if (pl->cpipe[0] >= 0) close(pl->cpipe[0]);
    if (pl->cpipe[1] >= 0) close(pl->cpipe[1]);
    if (pl->ppipe[0] >= 0) close(pl->ppipe[0]);
    if (pl->ppipe[1] >= 0) close(pl->ppipe[1]);
    pl->cpipe[0] = pl->cpipe[1] = pl->ppipe[0] = pl->ppipe[1] = -1;
    pl->state = EDDY_PL_CLOSED;
  }
}

/* The end of a drain: commit, leave the group, deliver what is left, and
 * close everything. Blocking steps are bounded by the deadline. */
static void finish(eddy_pipeline_t *pl) {
  double left = pl->drain_deadline - eddy_now();
  int budget = left > 0.5 ? (int)(left * 1000) : 500;
  if (pl->consumer) {
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
    if (now >= pl->next_commit) {
      commit_async(pl);
      pl->next_commit = now + pl->conf->source.commit_interval_ms / 1000.0;
    }
    /* Serve the consumer now and then even when no message wakes it, so
     * that rebalances and commit reports never wait. */
    if (pl->consumer && !pl->more_active && pl->state == EDDY_PL_RUNNING) consume(pl);
  }
  if (pl->state == EDDY_PL_DRAINING && pl->consumer) {
    /* Outputs still in flight are awaited, leaving time to commit and
     * close before the deadline. */
    if (pl->in_flight == 0 || now >= pl->drain_deadline - 2.5) finish(pl);
  }
}

void eddy_pipeline_free(eddy_pipeline_t *pl) {
  if (!pl) return;
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
  eddy_store_free(pl->entities);
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
