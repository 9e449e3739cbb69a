/* pipeline_output.c: a pipeline's outputs: producing predictions, alerts and
 * dead letters (in the transaction when exactly once), and their delivery
 * reports and retries (engine/pipeline.c has the pipeline itself). */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "engine/stream/pipeline_int.h"

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
      eddy__pl_log_limited(pl, EDDY_LOG_ERROR, "cannot produce to %s: %s", rd_kafka_topic_name(rkt),
                  rd_kafka_err2str(err));
      return (int)err;
    }
    if (tries == 0)
      eddy__pl_log_limited(pl, EDDY_LOG_WARN, "the producer's queue is full: waiting for deliveries "
                                     "(raise queue.buffering.max.messages or lower [sink] max_in_flight)");
    pl->dr_now_ms = 0;
    rd_kafka_poll(pl->producer, 10);
  }
}

/* Produces an output of record `seq` of the current task and counts it
 * pending; on failure the output is given up (logged and counted).
 * Exactly once: it goes in the transaction, begun here when none is. */

void eddy__pl_emit(eddy_pipeline_t *pl, rd_kafka_topic_t *rkt, int kind, const void *value, size_t len,
                   const void *key, size_t key_len, rd_kafka_headers_t *headers) {
  eddy_ptask_t *t = pl->cur;
  if (pl->eos && !pl->txn_open && eddy__pl_txn_begin(pl)) {
    if (headers) rd_kafka_headers_destroy(headers);
    return;
  }
  eddy_wm_add(&t->wm, pl->cur_seq);
  if (produce(pl, rkt, value, len, key, key_len, headers, eddy__pl_opaque_of(t, kind, pl->cur_seq))) {
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
void eddy__pl_on_alert(void *ctx, const eddy_alert_t *a) {
  eddy_ptask_t *t = ctx;
  eddy_pipeline_t *pl = t->pl;
  /* A record replayed to learn again raised this alert the first time,
   * and it was committed then. */
  if (pl->replaying && pl->cur == t) return;
  count_alert(pl, a->detector, a->kind);
  eddy__run_alert(pl->run, pl, a);
  if (pl->store.type->alert) pl->store.type->alert(&pl->store, a);
  eddy_buf_t *b = &pl->alert_out;
  if (strcmp(a->kind, "warning") != 0 && strcmp(a->kind, "anomaly") != 0) { /* counted, not logged */
    eddy_buf_clear(b);
    eddy_alert_text(a, b);
    eddy_log(EDDY_LOG_INFO, "alert: %s [%s]: %.*s", t->topic, a->kind, (int)b->len, (const char *)b->data);
  }
  /* The record in hand: the input record, or the label record that
   * made its task learn (its partition's offset waits for the alert). */
  if (!pl->t_alerts || !pl->cur || (pl->cur != t && pl->cur->owner != t)) return;
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
  eddy__pl_emit(pl, pl->t_alerts, OUT_ALERT, b->data, b->len, pl->conf->pipeline.name,
       strlen(pl->conf->pipeline.name), NULL);
}

/* ------------------------------------------------------------- dead letters */

static const char *const stages[] = {"size", "decode", "validate", "other"};
#define DLQ_REPORT_EVERY 5.0 /* seconds between two reports of a pipeline */

/* Counted for the next report; the words of the first one are kept (a
 * copy into the pipeline's buffer: nothing allocated). */
static void note_dead_letter(eddy_pipeline_t *pl, const eddy_ptask_t *t, const rd_kafka_message_t *m,
                             const char *stage, const char *msg) {
  size_t i = 0;
  while (i < 3 && strcmp(stage, stages[i])) i++;
  pl->dlq_log.by_stage[i]++;
  if (pl->dlq_log.n++ == 0) {
    if (pl->dlq_log.since == 0) pl->dlq_log.since = eddy_now(); /* once per report */
    snprintf(pl->dlq_log.first, sizeof pl->dlq_log.first, "%s [%d] offset %" PRId64 ": %s", t->topic,
             (int)t->partition, (int64_t)m->offset, msg);
  }
}

void eddy__pl_dlq_report(eddy_pipeline_t *pl, double now, int final) {
  if (!pl->dlq_log.n || (!final && now < pl->dlq_log.next_report)) return;
  char by[128];
  size_t k = 0;
  by[0] = '\0';
  for (size_t i = 0; i < 4; i++)
    if (pl->dlq_log.by_stage[i] && k < sizeof by - 40)
      k += (size_t)snprintf(by + k, sizeof by - k, "%s%s %" PRIu64, k ? ", " : "", stages[i],
                            pl->dlq_log.by_stage[i]);
  const char *to = pl->t_dlq ? "dead-lettered" : "dropped (no [sink] dead_letter topic)";
  /* Every record consumed so far failed its checks (or none passed). */
  if (pl->st.records_in <= pl->st.dead_lettered)
    eddy_log(EDDY_LOG_ERROR,
             "pipeline %s: NOTHING PREDICTED: all %" PRIu64 " records consumed so far failed; %" PRIu64
             " %s in the last %.0f s (%s); the first: %s; do [features] and [source] format match the records?",
             pl->conf->pipeline.name, pl->st.records_in, pl->dlq_log.n, to, now - pl->dlq_log.since, by,
             pl->dlq_log.first);
  else
    eddy_log(EDDY_LOG_WARN, "pipeline %s: %" PRIu64 " records %s in the last %.0f s (%s); the first: %s",
             pl->conf->pipeline.name, pl->dlq_log.n, to, now - pl->dlq_log.since, by, pl->dlq_log.first);
  pl->dlq_log.since = now;
  memset(pl->dlq_log.by_stage, 0, sizeof pl->dlq_log.by_stage);
  pl->dlq_log.n = 0;
  pl->dlq_log.next_report = now + DLQ_REPORT_EVERY;
}

void eddy__pl_dead_letter(eddy_pipeline_t *pl, const rd_kafka_message_t *m, const char *stage, int err,
                          const char *msg) {
  eddy_ptask_t *t = pl->cur;
  if (pl->replaying) return; /* dead-lettered by the committed transaction */
  pl->st.dead_lettered++;
  t->dead_lettered++;
  note_dead_letter(pl, t, m, stage, msg);
  if (!pl->t_dlq) {
    pl->st.dropped++;
    eddy__pl_log_limited(pl, EDDY_LOG_WARN, "%s [%d] offset %" PRId64 " skipped (no [sink] dead_letter topic): %s",
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
  eddy__pl_emit(pl, pl->t_dlq, OUT_DEAD_LETTER, m->payload, len, m->key, m->key_len, h);
}

/* ------------------------------------------------------------ delivery reports */

/* Delivery report of one output (loop thread, from rd_kafka_poll). */
void eddy__pl_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
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
      eddy__pl_log_limited(pl, EDDY_LOG_WARN, "delivery to %s failed (%s): retrying", rd_kafka_topic_name(m->rkt),
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
      eddy__pl_log_limited(pl, EDDY_LOG_WARN, "an output to %s failed (%s): the transaction is aborted and its "
                  "records are handled again", rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
    }
  } else if (m->err) {
    pl->st.delivery_failures++;
    eddy__pl_log_limited(pl, EDDY_LOG_ERROR, "an output to %s is lost: %s", rd_kafka_topic_name(m->rkt),
                rd_kafka_err2str(m->err));
  } else {
    if (pl->unreachable) eddy__pl_reachable(pl);
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
          if (!pl->dr_now_ms) pl->dr_now_ms = eddy__pl_now_ms(); /* one clock read per poll */
          double lat = (double)(pl->dr_now_ms - ts) / 1000.0;
          eddy_hist_observe(&pl->st.latency, lat > 0 ? lat : 0);
        }
      }
      eddy_wm_done(&t->wm, seq);
    }
    if (t->retired && eddy_wm_open(&t->wm) == 0) eddy__pl_task_drop(pl, t);
    else if (pl->ckpt_due && eddy_wm_open(&t->wm) == 0) eddy__pl_kick(pl); /* a checkpoint waited for it */
  }
  if (pl->held || (pl->paused & EDDY_PAUSE_BACKPRESSURE)) eddy__pl_check_backpressure(pl);
}

void eddy__pl_retry_deliveries(eddy_pipeline_t *pl) {
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
