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
 * rebalance.
 *
 * This file has the pipeline's construction, lifecycle, tasks and flow
 * control; its other parts, sharing pipeline_int.h: pipeline_record.c
 * (record path, batches), pipeline_output.c (outputs, delivery reports),
 * pipeline_checkpoint.c, pipeline_commit.c (offset commits, exactly once),
 * pipeline_rebalance.c, pipeline_metrics.c, pipeline_replay.c (eddy verify). */
#define _GNU_SOURCE
#include <avro.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/stream/pipeline_int.h"

int64_t eddy__pl_now_ms(void) { return (int64_t)(eddy_wallclock() * 1000.0); }

void *eddy__pl_opaque_of(const eddy_ptask_t *t, int kind, uint64_t seq) {
  return (void *)(uintptr_t)(((uint64_t)t->slot << 34) | ((uint64_t)kind << 32) | (uint32_t)seq);
}

/* Logs at most one line a second per pipeline for repeated problems, and
 * says how many were left out. */
void eddy__pl_log_limited(eddy_pipeline_t *pl, eddy_log_level_t level, const char *fmt, ...) {
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

void eddy__pl_reachable(eddy_pipeline_t *pl) {
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

eddy_ptask_t *eddy__pl_find_task(eddy_pipeline_t *pl, const char *topic, int32_t partition) {
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
  const char *topic = rd_kafka_topic_name(m->rkt);
  t = eddy__pl_find_task(pl, topic, m->partition);
  if (!t && eddy__pl_is_label_topic(pl, topic)) {
    /* A label partition: its input partition's task has it. */
    t = eddy__pl_find_task(pl, pl->conf->source.topics, m->partition);
    t = t ? t->labels : NULL;
  }
  if (t) {
    t->rkt = m->rkt;
    pl->last = t;
  }
  return t;
}

eddy_ptask_t *eddy__pl_task_of(eddy_pipeline_t *pl, const rd_kafka_message_t *m) {
  eddy_ptask_t *t = task_of(pl, m);
  if (t) eddy__pl_offset_seen(pl, t, m);
  return t;
}

void eddy__pl_task_drop(eddy_pipeline_t *pl, eddy_ptask_t *t) {
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

eddy_ptask_t *eddy__pl_task_add(eddy_pipeline_t *pl, const char *topic, int32_t partition) {
  char err[512];
  eddy_ptask_t *t = eddy_ptask_new(pl, topic, partition, pl->path.fields, err, sizeof err);
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
  if (pl->store.entities && !(t->store = eddy_state_batch_new(pl->path.aggs, partition))) {
    eddy_ptask_free(t);
    return NULL;
  }
  if (eddy__pl_labels_task(pl, t)) {
    eddy_state_batch_free(t->store);
    eddy_ptask_free(t);
    return NULL;
  }
  t->ckpt_offset = -1;
  t->label_ckpt = t->label_acked = -1;
  t->slot = (uint32_t)slot;
  pl->slots[slot] = t;
  pl->tasks[pl->n_tasks++] = t;
  t->replica->on_alert = eddy__pl_on_alert;
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
  /* Every partition resumed, those paused for a full buffer too: they
   * are paused again when it fills (pipeline_labels.c). */
  for (size_t i = 0; !pause && i < pl->n_tasks; i++) {
    pl->tasks[i]->buf_paused = 0;
    if (pl->tasks[i]->labels) pl->tasks[i]->labels->buf_paused = 0;
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
      uv_idle_start(&pl->more, eddy__pl_on_more);
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

void eddy__pl_kick(eddy_pipeline_t *pl) {
  if (pl->state == EDDY_PL_RUNNING && !pl->more_active && pl->consumer) {
    uv_idle_start(&pl->more, eddy__pl_on_more);
    pl->more_active = 1;
  }
}

void eddy__pl_check_backpressure(eddy_pipeline_t *pl) {
  uint64_t max = (uint64_t)pl->conf->sink.max_in_flight;
  if (pl->in_flight >= max) {
    if (!pl->held && !(pl->paused & EDDY_PAUSE_BACKPRESSURE)) {
      pl->held = 1;
      pl->held_since = eddy_now();
    } else if (pl->held && eddy_now() - pl->held_since > HOLD_SECONDS) {
      pl->held = 0;
      eddy_pipeline_pause(pl, EDDY_PAUSE_BACKPRESSURE);
      eddy__pl_log_limited(pl, EDDY_LOG_WARN, "%" PRIu64 " outputs await delivery: consumption paused until half are delivered",
                  pl->in_flight);
    }
  } else if (pl->in_flight <= max / 2) {
    if (pl->held) {
      pl->held = 0;
      eddy__pl_kick(pl);
    }
    if (pl->paused & EDDY_PAUSE_BACKPRESSURE) eddy_pipeline_resume(pl, EDDY_PAUSE_BACKPRESSURE);
  }
}

/* --------------------------------------------------------- librdkafka callbacks */

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
  eddy_pipeline_t *pl = opaque;
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char why[512];
    rd_kafka_fatal_error(rk, why, sizeof why);
    eddy_log(EDDY_LOG_ERROR, "pipeline %s: fatal Kafka error: %s", pl->conf->pipeline.name, why);
    eddy__run_failed(pl->run, pl);
    return;
  }
  char shown[1024];
  reason = eddy_kafka_scrub(pl->conf, reason, shown, sizeof shown);
  if (pl->auth_failed) return; /* the brokers "down" that follow are that refusal */
  if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION && eddy_kafka_auth_refused(reason)) {
    /* Wrong credentials do not heal by retrying: librdkafka would go on
     * reconnecting forever, the run idling. (A connection lost during the
     * SASL exchange is also reported as an authentication error: that one
     * is retried, below.) */
    pl->auth_failed = 1;
    eddy_log(EDDY_LOG_ERROR, "pipeline %s: Kafka authentication failed at %s: %s (check [kafka] sasl.mechanisms, "
             "sasl.username and sasl.password)", pl->conf->pipeline.name, pl->bootstrap, reason);
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
  eddy__pl_log_limited(pl, EDDY_LOG_WARN, "Kafka: %s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

/* librdkafka's own log lines (its threads): errors only, and neither the
 * notes that a [kafka] key does not apply to a consumer or a producer nor
 * refused connections (the pipeline says once that Kafka is unreachable,
 * and when it is back). */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
  /* With [kafka] debug = ..., everything librdkafka says (the config is
   * not changed after start: reading it from this thread is safe). */
  const eddy_pipeline_t *pl = rd_kafka_opaque(rk);
  char shown[1024];
  if (pl) buf = eddy_kafka_scrub(pl->conf, buf, shown, sizeof shown); /* no secret in the log */
  if (pl && eddy_kvlist_get(&pl->conf->kafka, "debug")) {
    eddy_log(level > 6 ? EDDY_LOG_DEBUG : EDDY_LOG_WARN, "librdkafka %s: %s", fac, buf);
    return;
  }
  if (level > 3 || strstr(buf, "will be ignored by this") || strstr(buf, "Connection refused")) return;
  eddy_log(EDDY_LOG_WARN, "librdkafka %s: %s", fac, buf);
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
                       "%s:%d: [state] key 'store': '%s' is neither memory, redis://HOST:PORT/DB nor redis+cluster://HOST:PORT[,HOST:PORT...]",
                       w && w->file ? w->file : c->file, w ? w->line : c->line, kind);
  }
  pl->store.pl = pl;
  pl->store.aggs = pl->path.aggs;
  pl->ckpt = pl->store.type->checkpoint != NULL;
  pl->batched = pl->ckpt && pl->path.aggs->n;
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
  return eddy__pipeline_instance_new(run, c, 0, 1, NULL, errstr, errstr_size);
}

void eddy__pipeline_group(eddy_pipeline_t *const *group, size_t n) {
  for (size_t i = 0; i < n; i++) {
    group[i]->group = n > 1 ? group : NULL;
    group[i]->n_group = n > 1 ? n : 0;
  }
}

/* Instance k of n: its own transactional.id and static member id. */
static int instance_ids(eddy_pipeline_t *pl, int k, int n, char *errstr, size_t errstr_size) {
  if (n <= 1) return 0;
  char v[512], why[256];
  size_t l = strlen(pl->txn_id);
  if (pl->eos) {
    snprintf(pl->txn_id + l, sizeof pl->txn_id - l, ".%d", k);
    if (rd_kafka_conf_set(pl->pconf, "transactional.id", pl->txn_id, why, sizeof why) != RD_KAFKA_CONF_OK)
      return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "transactional.id: %s", why);
  }
  const eddy_kv_t *gi = eddy_kvlist_get(&pl->conf->kafka, "group.instance.id");
  if (gi && *gi->value) {
    snprintf(v, sizeof v, "%s.%d", gi->value, k);
    if (rd_kafka_conf_set(pl->cconf, "group.instance.id", v, why, sizeof why) != RD_KAFKA_CONF_OK)
      return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "group.instance.id: %s", why);
  }
  return 0;
}

eddy_pipeline_t *eddy__pipeline_instance_new(eddy_run_t *run, const eddy_pipeline_conf_t *c, int index, int n,
                                             uv_loop_t *loop, char *errstr, size_t errstr_size) {
  eddy_pipeline_t *pl = calloc(1, sizeof *pl);
  if (!pl) {
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    return NULL;
  }
  pl->run = run;
  pl->conf = c;
  pl->loop = loop;
  pl->instance = index;
  pl->cpipe[0] = pl->cpipe[1] = pl->ppipe[0] = pl->ppipe[1] = -1;
  pl->revoke_budget_ms = 5000;
  eddy_buf_init(&pl->alert_out);
  eddy_buf_init(&pl->ckpt_buf);
  eddy_buf_init(&pl->wait_buf);
  eddy_hist_init(&pl->st.latency, eddy_latency_bounds, eddy_latency_n_bounds);
  eddy_hist_init(&pl->st.label_delay, eddy_label_delay_bounds, eddy_label_delay_n_bounds);
  char **names = NULL;
  size_t n_names = 0;
  int err = 0;
  const char *name = c->pipeline.name;
#define FAIL(...) do { err = eddy_seterr(errstr, errstr_size, EDDY_EINVAL, __VA_ARGS__); goto fail; } while (0)
  if (c->has_source && c->source.type == EDDY_SOURCE_FILE)
    FAIL("%s:%d: pipeline %s: [source] type = file is for `eddy eval`; `eddy run` reads Kafka", c->file,
         c->line, name);
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
  /* The one record path over these fields (engine/record/). */
  if ((err = eddy_path_init(&pl->path, c, c->source.format, (const char *const *)names, n_names, 1, errstr,
                            errstr_size)))
    goto fail;
  if ((err = store_open(pl, errstr, errstr_size))) goto fail;
  if (pl->batched || (c->features.key && *c->features.key)) {
    /* The batch's first pass (and an HTTP predict, to find the partition)
     * reads the entity key alone: the same field map with every other
     * field ignored. */
    pl->keyfields = *pl->path.fields;
    if (!(pl->keyfields.v = malloc(pl->path.fields->n * sizeof *pl->keyfields.v))) FAIL("out of memory");
    for (size_t i = 0; i < pl->path.fields->n; i++) {
      pl->keyfields.v[i] = pl->path.fields->v[i];
      if (pl->keyfields.v[i].kind != EDDY_FIELD_KEY) pl->keyfields.v[i].kind = EDDY_FIELD_IGNORE;
    }
    if (!(pl->keydec = eddy_decoder_new(c->source.format, &pl->keyfields, c, (const char *const *)names,
                                        n_names, errstr, errstr_size))) {
      err = EDDY_EINVAL;
      goto fail;
    }
    if (eddy_record_init(&pl->keyrec, pl->path.fields)) FAIL("out of memory");
    if (!(pl->serve_schema = eddy_fields_schema(pl->path.fields, errstr, errstr_size))) {
      err = EDDY_EINVAL;
      goto fail;
    }
  }
  /* The learner and detectors over this field map (config.c checked them
   * over an empty schema). */
  eddy_replica_t *probe = eddy_replica_new(c, pl->path.fields, 10, errstr, errstr_size);
  if (!probe) {
    err = EDDY_EINVAL;
    goto fail;
  }
  eddy_replica_free(probe);
  if (!(pl->cconf = eddy_kafka_conf(c, EDDY_KAFKA_CONSUMER, errstr, errstr_size)) ||
      !(pl->pconf = eddy_kafka_conf(c, EDDY_KAFKA_PRODUCER, errstr, errstr_size)) ||
      (pl->eos && eddy_txn_conf(c, pl->pconf, pl->cconf, errstr, errstr_size)) ||
      instance_ids(pl, index, n, errstr, errstr_size)) {
    err = EDDY_EINVAL;
    goto fail;
  }
  if ((err = eddy__pl_labels_init(pl, errstr, errstr_size))) goto fail;
  if (pl->labels_on && pl->batched) {
    /* The Redis store's batches fetch entities per batch of input records;
     * the label merge hands records over one at a time. */
    err = eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "%s:%d: [source] label_topic with [state] store = redis "
                      "and [features] aggregates: not in this build yet (label topics work with the Redis store "
                      "without aggregates, or with the memory store)", c->file, c->line);
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
  uv_loop_t *loop = pl->loop ? pl->loop : eddy__run_loop(pl->run);
  char msg[512];
  rd_kafka_conf_set_opaque(pl->cconf, pl);
  rd_kafka_conf_set_rebalance_cb(pl->cconf, eddy__pl_on_rebalance);
  rd_kafka_conf_set_offset_commit_cb(pl->cconf, eddy__pl_on_commit);
  rd_kafka_conf_set_error_cb(pl->cconf, on_error);
  rd_kafka_conf_set_log_cb(pl->cconf, on_log);
  rd_kafka_conf_set_opaque(pl->pconf, pl);
  rd_kafka_conf_set_dr_msg_cb(pl->pconf, eddy__pl_on_delivery);
  rd_kafka_conf_set_error_cb(pl->pconf, on_error);
  rd_kafka_conf_set_log_cb(pl->pconf, on_log);
  pl->producer = rd_kafka_new(RD_KAFKA_PRODUCER, pl->pconf, msg, sizeof msg);
  char shown[sizeof msg];
  if (!pl->producer)
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "pipeline %s: producer: %s", c->pipeline.name,
                       eddy_kafka_scrub(c, msg, shown, sizeof shown));
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
  if (!pl->consumer)
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "pipeline %s: consumer: %s", c->pipeline.name,
                       eddy_kafka_scrub(c, msg, shown, sizeof shown));
  pl->cconf = NULL;
  rd_kafka_poll_set_consumer(pl->consumer);
  pl->cq = rd_kafka_queue_get_consumer(pl->consumer);
  pl->pq = rd_kafka_queue_get_main(pl->producer);
  if (make_pipe(pl->cpipe) || make_pipe(pl->ppipe))
    return eddy_seterr(errstr, errstr_size, EDDY_EIO, "pipe: %s", strerror(errno));
  if (c->sink.predictions && *c->sink.predictions) pl->t_pred = rd_kafka_topic_new(pl->producer, c->sink.predictions, NULL);
  if (c->sink.alerts && *c->sink.alerts) pl->t_alerts = rd_kafka_topic_new(pl->producer, c->sink.alerts, NULL);
  if (c->sink.dead_letter && *c->sink.dead_letter) pl->t_dlq = rd_kafka_topic_new(pl->producer, c->sink.dead_letter, NULL);
  int lerr = eddy__pl_labels_check(pl, errstr, errstr_size);
  if (lerr) return lerr;
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
  uv_poll_start(&pl->cpoll, UV_READABLE, eddy__pl_on_consumer_io);
  uv_poll_start(&pl->ppoll, UV_READABLE, eddy__pl_on_producer_io);
  pl->state = EDDY_PL_RUNNING;
  pl->next_commit = eddy_now() + pl->commit_interval;
  pl->next_ckpt = eddy_now() + c->state.checkpoint_interval;
  /* Until the store is reachable (Redis: its first connection). */
  if (pl->store.type->ready && !pl->store.type->ready(&pl->store)) eddy_pipeline_pause(pl, EDDY_PAUSE_STORE);
  char group[256];
  const char *g = eddy_kafka_get(c, "group.id");
  snprintf(group, sizeof group, g ? "%s" : "eddy.%s", g ? g : c->pipeline.name);
  char thread[32] = "";
  if (pl->n_group) snprintf(thread, sizeof thread, ", thread %d", pl->instance);
  eddy_log(EDDY_LOG_INFO, "pipeline %s: consuming %s from %s as group %s (learner %s%s%s%s)", c->pipeline.name,
           c->source.topics, pl->bootstrap, group, c->model.learner, c->drift.detector[0] ? ", drift detector " : "",
           c->drift.detector, thread);
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
  eddy__pl_batch_drop(pl);
  pl->closing = 1;
  if (pl->consumer) {
    /* librdkafka waits for the answer to a rebalance before it leaves. */
    if (pl->unassign_due) eddy__pl_unassign_now(pl, pl->unassign_parts);
    if (pl->assign_wait) {
      eddy__pl_revoke_tasks(pl, pl->assign_wait, 1);
      rd_kafka_topic_partition_list_destroy(pl->assign_wait);
      pl->assign_wait = NULL;
      rd_kafka_assign(pl->consumer, NULL);
    }
    eddy__pl_commit_now(pl, NULL, budget / 3);
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
  eddy__pl_dlq_report(pl, eddy_now(), 1);
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
  eddy__pl_dlq_report(pl, now, 0);
  if (pl->state == EDDY_PL_RUNNING || (pl->state == EDDY_PL_DRAINING && pl->consumer)) {
    if (pl->retries && !pl->unreachable) eddy__pl_retry_deliveries(pl);
    if (pl->held || (pl->paused & EDDY_PAUSE_BACKPRESSURE)) eddy__pl_check_backpressure(pl);
    if (pl->eos) {
      eddy__pl_txn_tick(pl, now);
    } else if (now >= pl->next_commit) {
      eddy__pl_commit_async(pl);
      pl->next_commit = now + pl->commit_interval;
    }
    if (pl->batch_state != BATCH_IDLE) eddy__pl_batch_tick(pl);
    if (pl->labels_on) eddy__pl_labels_tick(pl);
    if (pl->assign_wait) eddy__pl_retry_assign(pl);
    if (pl->unassign_due && now >= pl->unassign_deadline) {
      eddy_log(EDDY_LOG_WARN, "pipeline %s: checkpoints of the revoked partitions not answered within %.0f s: "
               "giving them up anyway (the checkpoints are sent when Redis answers; a next owner that reads "
               "an older one replays from there)", pl->conf->pipeline.name, UNASSIGN_WAIT);
      eddy__pl_unassign_now(pl, pl->unassign_parts);
    }
    /* Serve the consumer now and then even when no message wakes it, so
     * that rebalances and commit reports never wait. */
    if (pl->consumer && !pl->more_active && pl->state == EDDY_PL_RUNNING) eddy__pl_consume(pl);
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
      eddy__pl_txn_commit_wait(pl, NULL, left > 1 ? (int)(left * 500) : 500);
    }
    if (pl->ckpt && !pl->final_sent) {
      pl->final_sent = 1;
      if (ready && pl->batch_state == BATCH_IDLE) eddy__pl_checkpoint_tasks(pl, EDDY_CKPT_FINAL);
    }
    if (pl->ckpts_pending && ready && now < pl->drain_deadline - 2.0) return;
    finish(pl);
  }
}

void eddy_pipeline_free(eddy_pipeline_t *pl) {
  if (!pl) return;
  eddy__pl_unhold(pl, pl->n_q); /* before the consumer goes */
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
  while (pl->n_tasks) {
    eddy_ptask_t *t = pl->tasks[pl->n_tasks - 1];
    eddy__pl_labels_retire(pl, t); /* its buffered records and label partition */
    eddy__pl_task_drop(pl, t);
  }
  for (size_t i = 0; i < pl->n_slots; i++) /* retired label partitions awaiting reports */
    if (pl->slots[i] && pl->slots[i]->owner == NULL && pl->slots[i]->retired && !pl->slots[i]->replica) {
      eddy_ptask_free(pl->slots[i]);
      pl->slots[i] = NULL;
    }
  eddy__pl_labels_free(pl);
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
  eddy_record_free(&pl->keyrec);
  eddy_schema_free(pl->serve_schema);
  eddy_decoder_free(pl->keydec);
  free(pl->keyfields.v);
  free(pl->q);
  free(pl->btasks);
  if (pl->assign_wait) rd_kafka_topic_partition_list_destroy(pl->assign_wait);
  if (pl->unassign_parts) rd_kafka_topic_partition_list_destroy(pl->unassign_parts);
  eddy_buf_free(&pl->ckpt_buf);
  eddy_buf_free(&pl->wait_buf);
  eddy_path_free(&pl->path);
  eddy_buf_free(&pl->alert_out);
  free(pl->st.alerts);
  free(pl);
}
