/* pipeline_labels.c: [source] label_topic: labels that arrive later. A
 * record predicted without its label waits by id in its task's store
 * (engine/model/waiting.c); a label record of the co-partitioned label
 * topic finds it and the task's model learns it once, with the prediction
 * made then. The two partitions of a task are merged in timestamp order,
 * as Kafka Streams' joins are, so that the learning order is a function
 * of the data. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "engine/stream/pipeline_int.h"

#define LAG_WAIT 30.0 /* seconds a lagging partition is waited for at most */

/* --------------------------------------------------------------- config */

int eddy__pl_labels_init(eddy_pipeline_t *pl, char *errstr, size_t errstr_size) {
  const eddy_pipeline_conf_t *c = pl->conf;
  const char *lt = c->source.label_topic, *in = c->source.topics;
  if (!lt || !*lt) return 0;
#define REFUSE(...) return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, __VA_ARGS__)
  if (!in || !*in || *in == '^' || strchr(in, ','))
    REFUSE("%s:%d: [source] label_topic needs exactly one input topic in [source] topics (its partition p and "
           "the label topic's partition p are joined), not '%s'", c->file, c->line, in ? in : "");
  if (strcmp(in, lt) == 0)
    REFUSE("%s:%d: [source] label_topic '%s' is the input topic: give the topic the labels arrive on", c->file,
           c->line, lt);
  if (!c->features.id || !*c->features.id)
    REFUSE("%s:%d: [source] label_topic needs [features] id: the field that names a record in its label record",
           c->file, c->line);
  int fmt = c->source.label_format ? c->source.label_format - 1 : c->source.format;
  const char *lschema = c->source.label_schema && *c->source.label_schema ? c->source.label_schema : c->source.schema;
  if (fmt == EDDY_FORMAT_AVRO && (!lschema || !*lschema))
    REFUSE("%s:%d: [source] label_format = avro needs [source] label_schema (the label records' .avsc)", c->file,
           c->line);
  const char *strategy = eddy_kafka_get(c, "partition.assignment.strategy");
  if (strategy && strcmp(strategy, "range") != 0)
    REFUSE("%s:%d: [kafka] partition.assignment.strategy = %s: [source] label_topic needs range (input "
           "partition p and label partition p go to one member together)", c->file, c->line, strategy);
#undef REFUSE
  pl->labels_on = 1;
  /* The label records' field map: the id, the target and the timestamp;
   * every other field is ignored. CSV label records are `id,target`. */
  pl->labelfields = *pl->path.fields;
  if (!(pl->labelfields.v = malloc(pl->path.fields->n * sizeof *pl->labelfields.v)))
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  for (size_t i = 0; i < pl->path.fields->n; i++) {
    eddy_field_t *f = &pl->labelfields.v[i];
    *f = pl->path.fields->v[i];
    if (f->kind != EDDY_FIELD_ID && f->kind != EDDY_FIELD_TARGET && f->kind != EDDY_FIELD_TIME)
      f->kind = EDDY_FIELD_IGNORE;
  }
  const char *csv[2] = {c->features.id, c->features.target};
  const eddy_pipeline_conf_t *dc = c;
  if (fmt == EDDY_FORMAT_AVRO) {
    /* The Avro decoder reads its schema from [source]: a shallow copy
     * (the strings stay the config's) with the label records' schema. */
    if (!(pl->labelconf = malloc(sizeof *pl->labelconf)))
      return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    *pl->labelconf = *c;
    pl->labelconf->source.schema = (char *)lschema;
    pl->labelconf->source.schema_id = c->source.label_schema_id;
    dc = pl->labelconf;
  }
  char why[512];
  pl->labeldec = eddy_decoder_new((eddy_format_t)fmt, &pl->labelfields, dc, fmt == EDDY_FORMAT_CSV ? csv : NULL,
                                  fmt == EDDY_FORMAT_CSV ? 2 : 0, why, sizeof why);
  if (!pl->labeldec)
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "%s:%d: [source] label records: %s", c->file, c->line,
                       why);
  if (eddy_record_init(&pl->labelrec, pl->path.fields))
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  rd_kafka_topic_partition_list_add(pl->topics, lt, RD_KAFKA_PARTITION_UA);
  /* The range assignor gives each member the same slice of the
   * partitions of every topic with the same partition count: input
   * partition p and label partition p are assigned together, which the
   * join needs (roundrobin and sticky assignors do not promise it). */
  if (rd_kafka_conf_set(pl->cconf, "partition.assignment.strategy", "range", errstr, errstr_size) !=
      RD_KAFKA_CONF_OK)
    return EDDY_EINVAL;
  return 0;
}

void eddy__pl_labels_free(eddy_pipeline_t *pl) {
  free(pl->labelfields.v);
  pl->labelfields.v = NULL;
  eddy_decoder_free(pl->labeldec);
  pl->labeldec = NULL;
  free(pl->labelconf); /* after its decoder */
  pl->labelconf = NULL;
  if (pl->labels_on) eddy_record_free(&pl->labelrec);
}

/* The partition count of topic, or a negative error (message in errstr). */
static int partitions_of(rd_kafka_t *rk, const char *topic, char *errstr, size_t errstr_size) {
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
  const struct rd_kafka_metadata *md = NULL;
  rd_kafka_resp_err_t e = rkt ? rd_kafka_metadata(rk, 0, rkt, &md, 10000) : RD_KAFKA_RESP_ERR__FAIL;
  int n = EDDY_EIO;
  if (e) {
    eddy_seterr(errstr, errstr_size, EDDY_EIO, "metadata of topic %s: %s", topic, rd_kafka_err2str(e));
  } else if (md->topic_cnt < 1 || md->topics[0].err || md->topics[0].partition_cnt < 1) {
    eddy_seterr(errstr, errstr_size, EDDY_ENOENT, "topic %s does not exist (%s)", topic,
                md->topic_cnt ? rd_kafka_err2str(md->topics[0].err) : "no metadata");
    n = EDDY_ENOENT;
  } else {
    n = md->topics[0].partition_cnt;
  }
  if (md) rd_kafka_metadata_destroy(md);
  if (rkt) rd_kafka_topic_destroy(rkt);
  return n;
}

/* At start: the label topic must have the input topic's partition count. */
int eddy__pl_labels_check(eddy_pipeline_t *pl, char *errstr, size_t errstr_size) {
  if (!pl->labels_on) return 0;
  const eddy_pipeline_conf_t *c = pl->conf;
  char why[512];
  int ni = partitions_of(pl->consumer, c->source.topics, why, sizeof why);
  int nl = ni > 0 ? partitions_of(pl->consumer, c->source.label_topic, why, sizeof why) : 0;
  if (ni < 0 || nl < 0)
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL,
                       "pipeline %s: [source] label_topic: %s: the input and label topics must exist, with the "
                       "same partition count, before the pipeline starts",
                       c->pipeline.name, why);
  if (ni != nl)
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL,
                       "pipeline %s: [source] label_topic %s has %d partitions and the input topic %s has %d: "
                       "labels are joined partition by partition, so the label topic needs %d partitions, keyed "
                       "as the input (recreate it with %d partitions, or repartition the labels into a topic "
                       "that has them)",
                       c->pipeline.name, c->source.label_topic, nl, c->source.topics, ni, ni, ni);
  eddy_log(EDDY_LOG_INFO, "pipeline %s: labels from %s joined by [features] %s (%d partitions, co-partitioned)",
           c->pipeline.name, c->source.label_topic, c->features.id, ni);
  return 0;
}

/* ---------------------------------------------------------------- tasks */

/* An input task's store of waiting predictions (when labels come later). */
int eddy__pl_labels_task(eddy_pipeline_t *pl, eddy_ptask_t *t) {
  t->fetched_next = -1;
  if (!pl->labels_on) return 0;
  const eddy_pipeline_conf_t *c = pl->conf;
  t->waiting = eddy_waiting_new(pl->path.rec.in.n, (size_t)c->state.max_waiting, (double)c->source.label_ttl * 1000);
  return t->waiting ? 0 : EDDY_ENOMEM;
}

int eddy__pl_is_label_topic(const eddy_pipeline_t *pl, const char *topic) {
  return pl->labels_on && strcmp(topic, pl->conf->source.label_topic) == 0;
}

/* Input task t's label partition (the same number). */
int eddy__pl_labels_make(eddy_pipeline_t *pl, eddy_ptask_t *t) {
  eddy_ptask_t *lt = calloc(1, sizeof *lt);
  size_t slot = 0;
  while (slot < pl->n_slots && pl->slots[slot]) slot++;
  if (!lt || !(lt->topic = strdup(pl->conf->source.label_topic)) || eddy_wm_init(&lt->wm, 1024) ||
      (slot == pl->n_slots && eddy_grow((void **)&pl->slots, &pl->n_slots, slot + 1, sizeof *pl->slots))) {
    eddy_ptask_free(lt);
    return EDDY_ENOMEM;
  }
  lt->pl = pl;
  lt->partition = t->partition;
  lt->owner = t;
  lt->restored = 1;
  lt->ckpt_offset = -1;
  lt->fetched_next = -1;
  lt->expect = -1; /* its start is the group's committed offset (pipeline_skip.c) */
  lt->slot = (uint32_t)slot;
  pl->slots[slot] = lt;
  t->labels = lt;
  return 0;
}

/* The label partitions of an assignment join their input partitions'
 * tasks (made before). */
void eddy__pl_labels_attach(eddy_pipeline_t *pl, const rd_kafka_topic_partition_list_t *parts) {
  for (int i = 0; i < parts->cnt; i++) {
    const rd_kafka_topic_partition_t *p = &parts->elems[i];
    if (!eddy__pl_is_label_topic(pl, p->topic)) continue;
    eddy_ptask_t *t = eddy__pl_find_task(pl, pl->conf->source.topics, p->partition);
    if (!t) {
      eddy_log(EDDY_LOG_ERROR, "pipeline %s: label partition %s [%d] assigned without input partition %s [%d] "
               "(another member has it: are all members using the range assignor?): its labels are not read here",
               pl->conf->pipeline.name, p->topic, (int)p->partition, pl->conf->source.topics, (int)p->partition);
      continue;
    }
    if (!t->labels && eddy__pl_labels_make(pl, t)) {
      eddy_log(EDDY_LOG_ERROR, "pipeline %s: out of memory", pl->conf->pipeline.name);
      eddy__run_failed(pl->run, pl);
      return;
    }
  }
}

static void buf_clear(eddy_ptask_t *q) {
  for (size_t i = 0; i < q->buf_n; i++) rd_kafka_message_destroy(q->buf[(q->buf_head + i) % q->buf_cap]);
  q->buf_head = q->buf_n = 0;
}

/* An input task retired: its records not handled are given up (not
 * begun: their next owner reads them), and its label partition with it. */
void eddy__pl_labels_retire(eddy_pipeline_t *pl, eddy_ptask_t *t) {
  buf_clear(t);
  eddy_ptask_t *lt = t->labels;
  if (!lt) return;
  t->labels = NULL;
  buf_clear(lt);
  lt->owner = NULL;
  lt->retired = 1;
  if (pl->last == lt) pl->last = NULL;
  if (eddy_wm_open(&lt->wm) == 0) eddy__pl_task_drop(pl, lt);
}

/* Exactly once, an abort: t (rewound to its checkpoint) forgets the
 * records it buffered, and its label partition is rewound with it: to the
 * checkpoint's label offset, dead letters from the committed one; its
 * start goes on l. */
void eddy__pl_labels_rewind(eddy_pipeline_t *pl, eddy_ptask_t *t, rd_kafka_topic_partition_list_t *l) {
  (void)pl;
  buf_clear(t);
  t->fetched_next = -1;
  t->blocked_since = 0;
  eddy_ptask_t *lt = t->labels;
  if (!lt) return;
  buf_clear(lt);
  eddy_wm_reset(&lt->wm);
  lt->fetched_next = -1;
  int64_t start = eddy_txn_start(t->label_ckpt, lt->wm.committed, &lt->learn_from, &lt->emit_from);
  rd_kafka_topic_partition_list_add(l, lt->topic, lt->partition)->offset = start;
  lt->expect = start >= 0 ? start : start == RD_KAFKA_OFFSET_BEGINNING ? 0 : -1;
}

/* ----------------------------------------------------------- record path */

/* The record path's `decoded`: predictions waiting past label_ttl (of
 * record time) go before this record is predicted. */
void eddy__pl_on_decoded(void *ctx, const eddy_path_input_t *in, double t_ms) {
  (void)in;
  eddy_pipeline_t *pl = ctx;
  eddy_ptask_t *t = pl->cur;
  if (t->waiting && pl->conf->source.label_ttl > 0) pl->st.labels_expired += eddy_waiting_expire(t->waiting, t_ms);
}

/* The record path's `waiting`: a record predicted without its label. */
void eddy__pl_on_waiting(void *ctx, const eddy_path_input_t *in, const void *id, size_t id_len,
                         const eddy_instance_t *x, const double *pred, int k, double t_ms) {
  eddy_pipeline_t *pl = ctx;
  eddy_ptask_t *t = pl->cur;
  if (!t->waiting) return;
  if (!id) {
    eddy__pl_log_limited(pl, EDDY_LOG_WARN, "%s [%d] offset %" PRId64 ": no [features] %s: predicted, but its "
                         "label cannot be joined", in->topic, (int)in->partition, in->offset, pl->conf->features.id);
    return;
  }
  uint64_t before = eddy_waiting_stats(t->waiting)->evicted;
  int err = eddy_waiting_put(t->waiting, id, id_len, x, pred, k, t_ms);
  pl->st.labels_evicted += eddy_waiting_stats(t->waiting)->evicted - before;
  if (err)
    eddy__pl_log_limited(pl, EDDY_LOG_ERROR, "%s [%d] offset %" PRId64 ": cannot keep the prediction for its "
                         "label: %s", in->topic, (int)in->partition, in->offset, eddy_strerror(err));
}

static void label_rejected(eddy_pipeline_t *pl, const rd_kafka_message_t *m, const char *stage, int err,
                           const char *msg) {
  eddy_ptask_t *lt = pl->cur;
  eddy__pl_log_limited(pl, EDDY_LOG_WARN, "%s [%d] offset %" PRId64 ": label not learned (%s): %s", lt->topic,
                       (int)lt->partition, (int64_t)m->offset, stage, msg);
  eddy__pl_dead_letter(pl, m, stage, err, msg);
}

/* A label record of lt (a label partition): its prediction is learned
 * once by the owner's model, else it is dead-lettered with stage label. */
static void handle_label(eddy_pipeline_t *pl, const rd_kafka_message_t *m, eddy_ptask_t *lt) {
  eddy_ptask_t *t = lt->owner;
  int64_t ts = rd_kafka_message_timestamp(m, NULL);
  uint64_t seq;
  if (eddy_wm_begin(&lt->wm, m->offset, ts, &seq)) {
    eddy_log(EDDY_LOG_ERROR, "pipeline %s: out of memory", pl->conf->pipeline.name);
    eddy__run_failed(pl->run, pl);
    return;
  }
  /* Exactly once, after a restart or an abort: labels before the
   * checkpoint's label offset are in the model already (only when a
   * checkpoint is past the committed offset); those before the committed
   * offset have their dead letters committed. */
  if (m->offset < lt->learn_from) {
    eddy_wm_done(&lt->wm, seq);
    return;
  }
  pl->replaying = m->offset < lt->emit_from;
  pl->cur = lt;
  pl->cur_seq = seq;
  pl->st.labels_in++;
  lt->records++;
  char msg[512];
  eddy_record_t *r = &pl->labelrec;
  int err;
  if (m->len > (size_t)pl->conf->source.max_record_bytes) {
    pl->st.oversized++;
    snprintf(msg, sizeof msg, "record of %zu bytes is larger than max_record_bytes = %" PRId64, m->len,
             pl->conf->source.max_record_bytes);
    label_rejected(pl, m, "size", EDDY_ERANGE, msg);
  } else if ((err = eddy_decoder_decode(pl->labeldec, t->replica->schema, m->payload, m->len, r, msg,
                                        sizeof msg))) {
    pl->st.decode_errors++;
    label_rejected(pl, m, "decode", err, msg);
  } else if (!r->id || !r->in.has_y) {
    pl->st.labels_unmatched++;
    snprintf(msg, sizeof msg, "the label record has no %s ('%s')", r->id ? "target" : "id",
             r->id ? pl->conf->features.target : pl->conf->features.id);
    label_rejected(pl, m, "label", EDDY_EMISSING, msg);
  } else {
    double t_ms = eddy_aggs_time_ms(pl->path.aggs, r, ts > 0 ? (double)ts : pl->batch_time * 1000);
    eddy_instance_t *x;
    const double *pred;
    int k;
    double t_pred;
    /* Its own prediction first (an expired one says so), then the others
     * past label_ttl. x stays valid: expiring frees nothing. */
    uint64_t expired = eddy_waiting_stats(t->waiting)->expired;
    eddy_wait_status_t s = eddy_waiting_take(t->waiting, r->id, r->id_len, t_ms, &x, &pred, &k, &t_pred);
    if (pl->conf->source.label_ttl > 0) eddy_waiting_expire(t->waiting, t_ms);
    pl->st.labels_expired += eddy_waiting_stats(t->waiting)->expired - expired;
    if (s == EDDY_WAIT_JOINED) {
      x->y = r->in.y;
      x->has_y = 1;
      int lerr = eddy_replica_learn_with(t->replica, x, pred, k);
      if (lerr) {
        eddy__pl_log_limited(pl, EDDY_LOG_ERROR, "%s [%d] offset %" PRId64 ": learner %s: %s", lt->topic,
                             (int)lt->partition, (int64_t)m->offset, pl->conf->model.learner, eddy_strerror(lerr));
      } else {
        pl->st.learned++;
        t->learned++;
        pl->st.labels_joined++;
        double d = (t_ms - t_pred) / 1000;
        eddy_hist_observe(&pl->st.label_delay, d > 0 ? d : 0);
      }
    } else {
      pl->st.labels_unmatched++;
      snprintf(msg, sizeof msg, "%s: no prediction waits for id '%.*s'", eddy_wait_status_name(s),
               (int)(r->id_len < 200 ? r->id_len : 200), r->id);
      label_rejected(pl, m, "label", EDDY_ENOENT, msg);
    }
  }
  pl->cur = NULL;
  pl->replaying = 0;
  eddy_wm_done(&lt->wm, seq); /* the guard */
}

/* `eddy verify`: a label record of t's label partition, replayed. */
void eddy_pipeline_replay_label(eddy_pipeline_t *pl, eddy_ptask_t *t, const rd_kafka_message_t *m) {
  if (t->labels) handle_label(pl, m, t->labels);
}

/* ---------------------------------------------------- timestamp order */

static int64_t ts_of(const rd_kafka_message_t *m) { return rd_kafka_message_timestamp(m, NULL); }

static rd_kafka_message_t *head(const eddy_ptask_t *q) { return q->buf_n ? q->buf[q->buf_head] : NULL; }

static void set_paused(eddy_pipeline_t *pl, eddy_ptask_t *q, int pause) {
  if (q->buf_paused == pause || !pl->consumer) return;
  q->buf_paused = pause;
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(l, q->topic, q->partition);
  if (pause) rd_kafka_pause_partitions(pl->consumer, l);
  else if (!pl->paused) rd_kafka_resume_partitions(pl->consumer, l);
  rd_kafka_topic_partition_list_destroy(l);
}

/* Most records buffered per partition before it is paused (the other
 * partition is waited for). */
static size_t buf_limit(const eddy_pipeline_t *pl) {
  size_t n = (size_t)pl->conf->source.batch_size * 4;
  return n < 1024 ? 1024 : n;
}

/* Buffers a polled record of q (an input task or a label partition);
 * takes m. */
int eddy__pl_labels_push(eddy_pipeline_t *pl, rd_kafka_message_t *m, eddy_ptask_t *q) {
  if (q->buf_n == q->buf_cap) {
    size_t cap = q->buf_cap ? q->buf_cap * 2 : 256;
    rd_kafka_message_t **b = malloc(cap * sizeof *b);
    if (!b) return EDDY_ENOMEM;
    for (size_t i = 0; i < q->buf_n; i++) b[i] = q->buf[(q->buf_head + i) % q->buf_cap];
    free(q->buf);
    q->buf = (struct rd_kafka_message_s **)b;
    q->buf_cap = cap;
    q->buf_head = 0;
  }
  q->buf[(q->buf_head + q->buf_n++) % q->buf_cap] = m;
  q->fetched_next = m->offset + 1;
  if (q->buf_n >= buf_limit(pl)) set_paused(pl, q, 1);
  return 0;
}

/* Whether q's partition has nothing more on the broker now (its high
 * watermark, as of the last fetch, is where the consumer is). */
static int caught_up(eddy_pipeline_t *pl, eddy_ptask_t *q) {
  int64_t lo = -1, hi = -1;
  if (rd_kafka_get_watermark_offsets(pl->consumer, q->topic, q->partition, &lo, &hi) || hi < 0) return 0;
  if (q->fetched_next < 0) {
    /* Nothing polled yet: the consumer's position (once fetching began). */
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, q->topic, q->partition);
    if (rd_kafka_position(pl->consumer, l) == RD_KAFKA_RESP_ERR_NO_ERROR && l->elems[0].offset >= 0)
      q->fetched_next = l->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(l);
    /* Nothing consumed yet: the start eddy chose (a checkpoint's offset),
     * else an empty partition (as of the last fetch) has nothing to wait for. */
    if (q->fetched_next < 0) return q->expect >= 0 ? q->expect >= hi : lo == hi;
  }
  return q->fetched_next >= hi;
}

/* Which of t's partitions goes next: the head with the smallest
 * timestamp, the input's on ties; when one has nothing buffered, it is
 * waited for while it lags (its records are on their way, LAG_WAIT at
 * most) or max_task_idle_ms when caught up. NULL: wait. */
static eddy_ptask_t *next_of(eddy_pipeline_t *pl, eddy_ptask_t *t, double now) {
  eddy_ptask_t *lt = t->labels;
  rd_kafka_message_t *mi = head(t), *ml = lt ? head(lt) : NULL;
  if (!mi && !ml) {
    t->blocked_since = 0;
    return NULL;
  }
  if (!lt) return t; /* no label partition (yet): the input goes alone */
  if (mi && ml) {
    t->blocked_since = 0;
    return ts_of(mi) <= ts_of(ml) ? t : lt;
  }
  eddy_ptask_t *full = mi ? t : lt, *empty = mi ? lt : t;
  int64_t idle = pl->conf->source.max_task_idle_ms;
  if (idle < 0) return full;
  if (t->blocked_since == 0) t->blocked_since = now;
  double waited = now - t->blocked_since;
  if (!caught_up(pl, empty)) {
    if (waited < LAG_WAIT) return NULL;
    eddy__pl_log_limited(pl, EDDY_LOG_WARN, "%s [%d] still lags after %.0f s: %s [%d] goes on without it",
                         empty->topic, (int)empty->partition, waited, full->topic, (int)full->partition);
  } else if (waited * 1000 < (double)idle) {
    return NULL;
  }
  return full;
}

/* Handles the buffered records of every task, in timestamp order. */
void eddy__pl_labels_drain(eddy_pipeline_t *pl) {
  double now = eddy_now();
  size_t limit = buf_limit(pl);
  for (size_t i = 0; i < pl->n_tasks; i++) {
    eddy_ptask_t *t = pl->tasks[i];
    if (t->retired || t->owner) continue;
    eddy_ptask_t *q;
    while (!pl->held && pl->state != EDDY_PL_CLOSED && (q = next_of(pl, t, now))) {
      rd_kafka_message_t *m = q->buf[q->buf_head];
      q->buf_head = (q->buf_head + 1) % q->buf_cap;
      q->buf_n--;
      if (q->owner) handle_label(pl, m, q);
      else eddy__pl_handle(pl, m, q, ENTITY_NOW);
      rd_kafka_message_destroy(m);
      if (q->buf_paused && q->buf_n <= limit / 4) set_paused(pl, q, 0);
      if (pl->in_flight >= (uint64_t)pl->conf->sink.max_in_flight) eddy__pl_check_backpressure(pl);
      if (t->retired) break; /* revoked while handling (a rebalance callback) */
    }
  }
}

void eddy__pl_labels_seek(eddy_pipeline_t *pl, rd_kafka_topic_partition_list_t *parts) {
  if (!pl->labels_on || pl->eos) return; /* exactly once: eddy__pl_eos_positions */
  for (int i = 0; i < parts->cnt; i++) {
    rd_kafka_topic_partition_t *p = &parts->elems[i];
    if (!eddy__pl_is_label_topic(pl, p->topic)) continue;
    eddy_ptask_t *t = eddy__pl_find_task(pl, pl->conf->source.topics, p->partition);
    if (!t || !t->restored || t->ckpt_offset < 0 || t->label_ckpt < 0) continue;
    p->offset = t->label_ckpt;
    if (t->labels) t->labels->expect = t->label_ckpt;
    eddy_log(EDDY_LOG_INFO, "pipeline %s: %s [%d]: labels from offset %" PRId64 " (its checkpoint), %" PRIu64
             " predictions waiting for theirs", pl->conf->pipeline.name, p->topic, (int)p->partition, t->label_ckpt,
             t->waiting ? eddy_waiting_stats(t->waiting)->waiting : 0);
  }
}

/* The run's timer: tasks waiting for a partition are looked at again. */
void eddy__pl_labels_tick(eddy_pipeline_t *pl) {
  if (!pl->labels_on || pl->state != EDDY_PL_RUNNING) return;
  pl->batch_time = eddy_wallclock();
  eddy__pl_labels_drain(pl);
}
