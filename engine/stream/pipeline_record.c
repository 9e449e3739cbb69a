/* pipeline_record.c: a pipeline's record path: consuming from the loop,
 * decode, predict, learn (handle), and the batches of the Redis store whose
 * entities are fetched in one round trip per task. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "engine/stream/pipeline_int.h"

/* ------------------------------------------------------------ record path */

/* What the one record path (engine/record/) hands back: outputs go to
 * Kafka, outcomes to the pipeline's and the task's counters. */
static void on_predicted(void *ctx, const eddy_path_input_t *in, const eddy_buf_t *out) {
  eddy_pipeline_t *pl = ctx;
  pl->st.predictions++;
  pl->cur->predictions++;
  eddy__pl_emit(pl, pl->t_pred, OUT_PREDICTION, out->data, out->len, in->key, in->key_len, NULL);
}

static void on_encode_failed(void *ctx, const eddy_path_input_t *in) {
  eddy__pl_log_limited(ctx, EDDY_LOG_ERROR, "cannot encode a prediction of %s [%d] offset %" PRId64, in->topic,
                       (int)in->partition, in->offset);
}

static void on_rejected(void *ctx, const eddy_path_input_t *in, eddy_path_stage_t stage, int err,
                        const char *msg) {
  eddy_pipeline_t *pl = ctx;
  if (stage == EDDY_PATH_SIZE) pl->st.oversized++;
  else if (stage == EDDY_PATH_DECODE) pl->st.decode_errors++;
  else pl->st.invalid++;
  eddy__pl_dead_letter(pl, in->opaque, eddy_path_stage_name(stage), err, msg);
}

static void on_learned(void *ctx, const eddy_path_input_t *in, int err) {
  eddy_pipeline_t *pl = ctx;
  if (err) {
    eddy__pl_log_limited(pl, EDDY_LOG_ERROR, "%s [%d] offset %" PRId64 ": learner %s: %s", in->topic,
                         (int)in->partition, in->offset, pl->conf->model.learner, eddy_strerror(err));
  } else {
    pl->st.learned++;
    pl->cur->learned++;
  }
}

static void on_entity_missed(void *ctx, const eddy_path_input_t *in) {
  eddy__pl_log_limited(ctx, EDDY_LOG_ERROR, "%s [%d] offset %" PRId64 ": the entity key was not read "
                       "before the batch: joined as a new entity, not updated", in->topic, (int)in->partition,
                       in->offset);
}

static const eddy_path_sink_t pl_sink = {
    .predicted = on_predicted,
    .encode_failed = on_encode_failed,
    .rejected = on_rejected,
    .learned = on_learned,
    .entity_missed = on_entity_missed,
    .decoded = eddy__pl_on_decoded,
    .waiting = eddy__pl_on_waiting,
};

/* A consumed record through the one record path. `pre` is the record's
 * entity in its task's state batch from the batch's first pass (Redis),
 * -1 when that pass found no key, or ENTITY_NOW to fetch it now (the
 * memory store answers at once: one record is one batch). Without a key
 * the record joins the state of an entity never seen, and updates
 * nothing. */
void eddy__pl_handle(eddy_pipeline_t *pl, const rd_kafka_message_t *m, eddy_ptask_t *t, int64_t pre) {
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
  pl->replaying = m->offset < t->emit_from;
  if (pl->replaying) pl->st.replayed++;
  pl->st.records_in++;
  pl->st.bytes_in += m->len;
  t->records++;
  eddy_path_input_t in = {
      .value = m->payload,
      .len = m->len,
      .key = m->key,
      .key_len = m->key_len,
      .topic = t->topic,
      .partition = t->partition,
      .offset = m->offset,
      .fallback_ms = ts > 0 ? (double)ts : pl->batch_time * 1000,
      .time = pl->batch_time,
      .emit = pl->t_pred && !pl->replaying,
      .learn = m->offset >= t->learn_from,
      .wait = t->waiting != NULL,
      .opaque = (void *)m,
  };
  eddy_path_state_t st = {.batch = t->store, .store = pl->store.entities, .pre = pre};
  eddy_path_handle(&pl->path, t->replica, &st, &in, &pl_sink, pl);
  pl->cur = NULL;
  pl->replaying = 0;
  eddy_wm_done(&t->wm, seq); /* the guard */
}

static void consumer_error(eddy_pipeline_t *pl, const rd_kafka_message_t *m) {
  if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return;
  const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "";
  if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
    eddy__pl_log_limited(pl, EDDY_LOG_WARN, "topic %s does not exist (yet): waiting for it", topic);
    return;
  }
  eddy__pl_log_limited(pl, EDDY_LOG_WARN, "consumer: %s%s%s", topic, *topic ? ": " : "", rd_kafka_message_errstr(m));
}

static void more_off(eddy_pipeline_t *pl) {
  if (pl->more_active) {
    uv_idle_stop(&pl->more);
    pl->more_active = 0;
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
      if (pl->unreachable) eddy__pl_reachable(pl);
      if (!(pl->paused & EDDY_PAUSE_DRAIN)) t = eddy__pl_task_of(pl, m);
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
  /* [state] scope = stream: the partition's stream state (as the path keys it). */
  eddy_record_stream_key(&pl->keyrec, t->partition);
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
    eddy__pl_log_limited(pl, EDDY_LOG_WARN, "%s [%d]: entity state not read (%s): the batch waits for Redis",
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
void eddy__pl_unhold(eddy_pipeline_t *pl, size_t n) {
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
    if (!h->t->retired) eddy__pl_handle(pl, h->m, h->t, h->entity);
  }
  for (size_t i = 0; i < pl->n_btasks; i++) {
    eddy_ptask_t *t = pl->btasks[i];
    if (t->retired) continue;
    int err = eddy_store_write(pl->store.entities, t->store);
    if (err)
      eddy__pl_log_limited(pl, EDDY_LOG_ERROR, "%s [%d]: entity state not written back: %s", t->topic, (int)t->partition,
                  eddy_strerror(err));
  }
  eddy__pl_unhold(pl, n);
  pl->n_batch = 0;
  pl->n_btasks = 0;
  pl->batch_state = BATCH_IDLE;
  if (pl->in_flight >= (uint64_t)pl->conf->sink.max_in_flight) eddy__pl_check_backpressure(pl);
  eddy__pl_kick(pl);
}

/* A revoked task leaves the batch; its held records are given up. */
void eddy__pl_batch_forget(eddy_pipeline_t *pl, eddy_ptask_t *t) {
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
void eddy__pl_batch_drop(eddy_pipeline_t *pl) {
  for (size_t i = 0; i < pl->n_btasks; i++) {
    pl->btasks[i]->fetch = FETCH_NONE;
    pl->btasks[i]->batch_mark = 0;
  }
  eddy__pl_unhold(pl, pl->n_q);
  pl->n_batch = pl->n_btasks = 0;
  pl->fetches = 0;
  pl->batch_state = BATCH_IDLE;
}

/* A batch waiting for Redis is read again once it is back; a batch whose
 * last task left it (revoked) while it was read goes on. */
void eddy__pl_batch_tick(eddy_pipeline_t *pl) {
  if (pl->batch_state == BATCH_WAIT_STORE && pl->store.type->ready(&pl->store) &&
      eddy_now() >= pl->refetch_at)
    fetch_batch(pl);
  else if (pl->batch_state == BATCH_FETCHING && pl->fetches == 0 && !pl->issuing)
    fetched_all(pl);
}

/* One batch: at most batch_size messages, then the loop runs other work.
 * The queue's io event fires only when it turns non-empty, so a batch that
 * stops early continues from an idle handle. */
void eddy__pl_consume(eddy_pipeline_t *pl) {
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
  if (!eddy__pl_ckpt_gate(pl)) {
    more_off(pl);
    return;
  }
  if (pl->batched) {
    if ((int64_t)pl->n_q < max) n = poll_held(pl, max - (int64_t)pl->n_q);
    more_off(pl);
    if (pl->n_q && pl->state == EDDY_PL_RUNNING && !(pl->paused & EDDY_PAUSE_DRAIN)) start_batch(pl);
    else if (n) eddy__pl_kick(pl); /* errors and records of partitions no longer ours: more may come */
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
      if (pl->unreachable) eddy__pl_reachable(pl);
      eddy_ptask_t *t;
      /* A partition no longer ours: its next owner handles it. */
      if (!(pl->paused & EDDY_PAUSE_DRAIN) && (t = eddy__pl_task_of(pl, m))) {
        /* Labels later: buffered, handled in timestamp order below. */
        if (pl->labels_on && eddy__pl_labels_push(pl, m, t) == 0) continue;
        if (pl->labels_on) {
          eddy_log(EDDY_LOG_ERROR, "pipeline %s: out of memory", pl->conf->pipeline.name);
          eddy__run_failed(pl->run, pl);
        } else {
          eddy__pl_handle(pl, m, t, ENTITY_NOW);
        }
      }
    }
    rd_kafka_message_destroy(m);
    if (pl->in_flight >= (uint64_t)pl->conf->sink.max_in_flight) {
      eddy__pl_check_backpressure(pl);
      if (pl->held) break;
    }
  }
  if (pl->labels_on) eddy__pl_labels_drain(pl);
  int again = n == max && !(pl->paused & EDDY_PAUSE_DRAIN);
  if (again && !pl->more_active) {
    uv_idle_start(&pl->more, eddy__pl_on_more);
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

void eddy__pl_on_consumer_io(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  eddy_pipeline_t *pl = h->data;
  drain_pipe(pl->cpipe[0]);
  eddy__pl_consume(pl);
}

void eddy__pl_on_more(uv_idle_t *h) {
  eddy_pipeline_t *pl = h->data;
  eddy__pl_consume(pl);
}

void eddy__pl_on_producer_io(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  eddy_pipeline_t *pl = h->data;
  drain_pipe(pl->ppipe[0]);
  pl->dr_now_ms = 0;
  if (pl->producer) rd_kafka_poll(pl->producer, 0);
}
