/* run.c: the process of `eddy run`: one libuv loop with the pipelines of a
 * config, a timer that commits and moves drains along, signals (SIGINT and
 * SIGTERM stop within 10 s, SIGHUP reloads the config), the HTTP endpoint
 * (/metrics, /healthz, the dashboard, /v1/pipelines/NAME/predict|learn with
 * its bearer token), and config reloads: pipelines added start, removed
 * ones drain, flush and commit, changed ones are replaced, unchanged ones
 * keep running with their models. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "engine/stream/stream.h"
#include "engine/stream/worker.h"

#define TICK_MS 50
#define STOP_BUDGET 9.0    /* seconds from the signal to the end of every drain */
#define WATCHDOG 9.7       /* seconds: the process exits then whatever happens */
#define REMOVE_BUDGET 30.0 /* seconds a pipeline removed by a reload may take */

/* A config and how many running pipelines borrow from it. */
typedef struct cfgref {
  eddy_config_t *cfg;
  int refs;
} cfgref_t;

typedef struct slot {
  eddy_pipeline_t *pl;
  cfgref_t *ref;
  eddy_pipeline_t *after; /* a replacement starts once this one has closed */
  /* [run] threads > 1: the pipeline's instances, inst[k] on worker k (pl
   * is inst[0]); NULL: pl alone, on the run's loop. */
  eddy_pipeline_t **inst;
  int go_sent;
} slot_t;

struct eddy_run {
  uv_loop_t *loop;
  eddy_run_opts_t opts;
  char *config_path;
  cfgref_t *current; /* the config the running set follows */
  slot_t *pls;       /* running (or starting) pipelines */
  size_t n_pls, cap_pls;
  slot_t *gone;      /* draining pipelines */
  size_t n_gone, cap_gone;
  uv_timer_t tick;
  uv_signal_t sig[3];
  int n_sig;
  eddy_http_t *http;
  char listen[128];
  int started, stopping, closed, failed;
  double stop_deadline;
  uint64_t reloads, reload_failures;
  double started_at;
  eddy_dash_t *dash;        /* the dashboard's figures: kept until eddy_run_free */
  eddy_pipeline_t **seen;   /* scratch: the pipelines the dashboard samples */
  uint64_t http_requests;
  double http_seconds;      /* loop time spent answering them */
  size_t cap_seen;
  /* Worker threads ([run] threads > 1; none: everything on this loop). */
  eddy__worker_t **workers;
  int n_workers;
  pthread_mutex_t mu;  /* the dashboard's alerts and fail_posted, with workers */
  uv_async_t wake;     /* a worker posted a failure */
  int wake_on, fail_posted;
  pthread_t main_thread;
};

/* With workers, the main thread reads or calls a worker's instances only
 * under its lock; every worker's, in index order. */
static void lock_all(const eddy_run_t *r) {
  for (int k = 0; k < r->n_workers; k++) eddy__worker_lock(r->workers[k]);
}

static void unlock_all(const eddy_run_t *r) {
  for (int k = r->n_workers - 1; k >= 0; k--) eddy__worker_unlock(r->workers[k]);
}

static cfgref_t *ref_new(eddy_config_t *cfg) {
  cfgref_t *r = calloc(1, sizeof *r);
  if (r) r->cfg = cfg;
  return r;
}

static void ref_drop(cfgref_t *r) {
  if (r && --r->refs <= 0) {
    eddy_config_free(r->cfg);
    free(r);
  }
}

uv_loop_t *eddy__run_loop(eddy_run_t *r) { return r->loop; }
uv_loop_t *eddy_run_loop(const eddy_run_t *r) { return r->loop; }
int eddy__run_stopping(const eddy_run_t *r) { return r->stopping; }
int eddy_run_status(const eddy_run_t *r) { return r->failed ? 1 : 0; }
int eddy_run_http_port(const eddy_run_t *r) { return eddy_http_port(r->http); }

size_t eddy_run_pipelines(const eddy_run_t *r, eddy_pipeline_t **out, size_t max) {
  for (size_t i = 0; i < r->n_pls && i < max; i++) out[i] = r->pls[i].pl;
  return r->n_pls;
}

eddy_dash_t *eddy_run_dash(const eddy_run_t *r) { return r->dash; }

void eddy__run_alert(eddy_run_t *r, const eddy_pipeline_t *pl, const eddy_alert_t *a) {
  if (!r) return;
  /* From a worker's thread (holding its own lock): under the run's. */
  if (r->n_workers) pthread_mutex_lock(&r->mu);
  eddy_dash_alert(r->dash, a);
  if (r->opts.on_alert) r->opts.on_alert(r->opts.ctx, pl, a);
  if (r->n_workers) pthread_mutex_unlock(&r->mu);
}

void eddy__run_failed(eddy_run_t *r, eddy_pipeline_t *pl) {
  if (!r) return; /* an offline replay (eddy verify): the caller sees the stats */
  if (r->n_workers && !pthread_equal(pthread_self(), r->main_thread)) {
    /* A worker's thread: the main thread stops the run (on_wake). */
    pthread_mutex_lock(&r->mu);
    int first = !r->fail_posted;
    r->fail_posted = 1;
    pthread_mutex_unlock(&r->mu);
    if (first)
      eddy_log(EDDY_LOG_ERROR, "pipeline %s failed: stopping", eddy_pipeline_conf(pl)->pipeline.name);
    if (r->wake_on) uv_async_send(&r->wake);
    return;
  }
  if (!r->failed)
    eddy_log(EDDY_LOG_ERROR, "pipeline %s failed: stopping", eddy_pipeline_conf(pl)->pipeline.name);
  r->failed = 1;
  eddy_run_stop(r);
}

/* --------------------------------------------------------------- plans */

size_t eddy_run_plan(const eddy_config_t *old, const eddy_config_t *cur, eddy_plan_item_t *items,
                     size_t max) {
  size_t n = 0;
  for (size_t j = 0; j < cur->n_pipelines; j++) {
    const eddy_pipeline_conf_t *c = &cur->pipelines[j];
    eddy_plan_item_t it = {EDDY_PLAN_ADD, c->pipeline.name, 0, j};
    for (size_t i = 0; old && i < old->n_pipelines; i++)
      if (strcmp(old->pipelines[i].pipeline.name, c->pipeline.name) == 0) {
        it.op = eddy_pipeline_conf_equal(&old->pipelines[i], c) ? EDDY_PLAN_KEEP : EDDY_PLAN_REPLACE;
        it.old_index = i;
      }
    if (n < max) items[n] = it;
    n++;
  }
  for (size_t i = 0; old && i < old->n_pipelines; i++) {
    int found = 0;
    for (size_t j = 0; j < cur->n_pipelines && !found; j++)
      found = strcmp(old->pipelines[i].pipeline.name, cur->pipelines[j].pipeline.name) == 0;
    if (found) continue;
    if (n < max) items[n] = (eddy_plan_item_t){EDDY_PLAN_REMOVE, old->pipelines[i].pipeline.name, i, 0};
    n++;
  }
  return n;
}

/* --------------------------------------------------------------- HTTP */

static const struct family {
  const char *name, *type, *help;
} families[] = {
    {"eddy_records_in_total", "counter", "Records consumed."},
    {"eddy_bytes_in_total", "counter", "Bytes of record values consumed."},
    {"eddy_predictions_total", "counter", "Predictions produced."},
    {"eddy_predictions_delivered_total", "counter", "Predictions the broker acknowledged."},
    {"eddy_decode_errors_total", "counter", "Records that did not decode."},
    {"eddy_invalid_records_total", "counter", "Records without a required field."},
    {"eddy_oversized_records_total", "counter", "Records larger than max_record_bytes."},
    {"eddy_dead_lettered_total", "counter", "Records sent to the dead-letter topic (all reasons)."},
    {"eddy_dead_letters_delivered_total", "counter", "Dead letters the broker acknowledged."},
    {"eddy_dropped_total", "counter", "Bad records skipped because no dead-letter topic is set."},
    {"eddy_records_skipped_total", "counter",
     "Records never consumed: offsets the broker no longer had (retention, an out-of-range reset)."},
    {"eddy_learn_total", "counter", "Labelled records learned (with their label, or joined to a label record)."},
    {"eddy_labels_in_total", "counter", "Label records consumed from [source] label_topic."},
    {"eddy_labels_joined_total", "counter", "Label records joined to a waiting prediction: its instance learned."},
    {"eddy_labels_unmatched_total", "counter", "Label records not learned (unknown id, expired, second label): dead-lettered."},
    {"eddy_labels_expired_total", "counter", "Predictions dropped after waiting label_ttl for their label."},
    {"eddy_labels_evicted_total", "counter", "Predictions evicted from a full store of waiting ones ([state] max_waiting)."},
    {"eddy_labels_waiting", "gauge", "Predictions waiting for their label."},
    {"eddy_label_delay_seconds", "histogram", "Record time from a prediction to its label's record."},
    {"eddy_alerts_total", "counter", "Drift alerts by detector and kind (warning, drift, data_drift)."},
    {"eddy_delivery_retries_total", "counter", "Outputs produced again after a failed delivery."},
    {"eddy_delivery_failures_total", "counter", "Outputs lost to a permanent delivery error."},
    {"eddy_commits_total", "counter", "Offset commits acknowledged."},
    {"eddy_commit_failures_total", "counter", "Offset commits that failed (retried)."},
    {"eddy_rebalances_total", "counter", "Partition assignments and revocations."},
    {"eddy_checkpoints_total", "counter", "Model checkpoints written to the state store."},
    {"eddy_checkpoint_failures_total", "counter", "Model checkpoints not written (refused, lost or failed)."},
    {"eddy_replayed_records_total", "counter",
     "Exactly once: records handled again after a restore or an abort, without outputs (theirs are committed)."},
    {"eddy_transactions_committed_total", "counter", "Exactly once: Kafka transactions committed."},
    {"eddy_transactions_aborted_total", "counter", "Exactly once: Kafka transactions aborted (their records handled again)."},
    {"eddy_outputs_in_flight", "gauge", "Outputs awaiting their delivery report."},
    {"eddy_paused", "gauge", "1 while consumption is paused (backpressure, state store, drain)."},
    {"eddy_kafka_reachable", "gauge", "0 while every broker is unreachable."},
    {"eddy_state_store_reachable", "gauge", "0 while the pipeline's state store (Redis) is unreachable; 1 for memory."},
    {"eddy_latency_seconds", "histogram",
     "End to end: the source record's Kafka timestamp to its prediction's delivery report."},
    {"eddy_partition_records_total", "counter", "Records consumed by the partition's current task."},
    {"eddy_partition_learn_total", "counter", "Records learned by the partition's current model."},
    {"eddy_accuracy_windowed", "gauge", "Accuracy over the last [pipeline] window labelled records."},
    {"eddy_mae_windowed", "gauge", "Mean absolute error over the last [pipeline] window labelled records."},
    {"eddy_model_version", "gauge", "Model version of the partition (bumps at each drift reset, retrain or swap)."},
    {"eddy_consumer_lag", "gauge", "High watermark minus the next offset to consume."},
    {"eddy_committed_offset", "gauge", "Last offset committed for the partition."},
};

void eddy_run_metrics(const eddy_run_t *r, eddy_buf_t *b) {
  eddy_prom_family(b, "eddy_build_info", "gauge", "eddy's version.");
  char labels[64];
  eddy_prom_sample(b, "eddy_build_info", eddy_prom_labels(labels, sizeof labels, "version", EDDY_VERSION, NULL), 1);
  eddy_prom_family(b, "eddy_uptime_seconds", "gauge", "Seconds since the process started.");
  eddy_prom_sample(b, "eddy_uptime_seconds", NULL, eddy_now() - r->started_at);
  eddy_prom_family(b, "eddy_config_reloads_total", "counter", "Config reloads applied.");
  eddy_prom_sample(b, "eddy_config_reloads_total", NULL, (double)r->reloads);
  eddy_prom_family(b, "eddy_config_reload_failures_total", "counter", "Config reloads refused.");
  eddy_prom_sample(b, "eddy_config_reload_failures_total", NULL, (double)r->reload_failures);
  eddy_prom_family(b, "eddy_http_requests_total", "counter", "HTTP requests answered (dashboard, its API, /metrics, /healthz, predicts, learns).");
  eddy_prom_sample(b, "eddy_http_requests_total", NULL, (double)r->http_requests);
  eddy_prom_family(b, "eddy_http_seconds_total", "counter",
                   "Loop time spent building HTTP answers (time the record path waited for them).");
  eddy_prom_sample(b, "eddy_http_seconds_total", NULL, r->http_seconds);
  eddy_prom_family(b, "eddy_pipelines", "gauge", "Pipelines running.");
  eddy_prom_sample(b, "eddy_pipelines", NULL, (double)r->n_pls);
  lock_all(r); /* instance 0 reads the figures of its siblings too */
  for (size_t f = 0; f < sizeof families / sizeof families[0]; f++) {
    eddy_prom_family(b, families[f].name, families[f].type, families[f].help);
    for (size_t i = 0; i < r->n_pls; i++)
      if (eddy_pipeline_state(r->pls[i].pl) == EDDY_PL_RUNNING)
        eddy_pipeline_metrics(r->pls[i].pl, families[f].name, b);
  }
  unlock_all(r);
}

static int answer(eddy_run_t *r, const eddy_http_request_t *req, eddy_buf_t *body, const char **content_type);

/* Answers, and counts the loop time they take: it is time the record path
 * waits (eddy_http_seconds_total, what `make bench` bounds). */
int eddy_run_http(void *ctx, const eddy_http_request_t *req, eddy_buf_t *body, const char **content_type) {
  eddy_run_t *r = ctx;
  uint64_t t0 = uv_hrtime();
  int status = answer(r, req, body, content_type);
  r->http_requests++;
  r->http_seconds += (double)(uv_hrtime() - t0) / 1e9;
  return status;
}

static int json_error(eddy_buf_t *body, const char **content_type, int status, const char *msg) {
  *content_type = "application/json";
  eddy_buf_printf(body, "{\"error\":");
  eddy_json_string(body, msg, strlen(msg));
  eddy_buf_printf(body, "}\n");
  return status;
}

/* Constant time in the token's length: a wrong guess says nothing of how
 * much of it was right. */
static int token_ok(const char *authorization, const char *token) {
  if (strncasecmp(authorization, "Bearer ", 7)) return 0;
  const char *given = authorization + 7;
  while (*given == ' ') given++;
  size_t n = strlen(token), m = strlen(given);
  unsigned diff = (unsigned)(n != m);
  for (size_t i = 0; i < n; i++) diff |= (unsigned char)token[i] ^ (unsigned char)(i < m ? given[i] : 0);
  return n > 0 && diff == 0;
}

/* POST /v1/pipelines/NAME/predict and .../learn (pipeline_serve.c). */
static int serve(eddy_run_t *r, const eddy_http_request_t *req, eddy_buf_t *body, const char **content_type) {
  const char *name = req->path + strlen("/v1/pipelines/"), *slash = strchr(name, '/');
  const char *op = slash ? slash + 1 : "";
  int learn = !strcmp(op, "learn");
  if (!slash || (!learn && strcmp(op, "predict")))
    return json_error(body, content_type, 404, "not found: POST /v1/pipelines/NAME/predict (or /learn)");
  const eddy_http_section_t *h = &r->current->cfg->http;
  if (learn && !h->allow_learn)
    return json_error(body, content_type, 404, "learn is off: [http] allow_learn = true serves it");
  if (strcmp(req->method, "POST")) return json_error(body, content_type, 405, "only POST");
  if (learn && !token_ok(req->authorization, h->token))
    return json_error(body, content_type, 401, "learn needs Authorization: Bearer TOKEN ([http] token_file's)");
  eddy_pipeline_t *pl = NULL;
  for (size_t i = 0; i < r->n_pls && !pl; i++) {
    const char *n = eddy_pipeline_conf(r->pls[i].pl)->pipeline.name;
    if (strlen(n) == (size_t)(slash - name) && !strncmp(n, name, (size_t)(slash - name))) pl = r->pls[i].pl;
  }
  if (!pl) {
    char msg[300];
    snprintf(msg, sizeof msg, "no pipeline '%.*s'", (int)(slash - name > 200 ? 200 : slash - name), name);
    return json_error(body, content_type, 404, msg);
  }
  *content_type = "application/json";
  lock_all(r); /* the partition's owner answers, with its replica */
  int status = eddy_pipeline_serve(pl, learn, req, body);
  unlock_all(r);
  return status;
}

static int answer(eddy_run_t *r, const eddy_http_request_t *req, eddy_buf_t *body, const char **content_type) {
  const char *method = req->method, *path = req->path, *query = req->query;
  if (!strncmp(path, "/v1/pipelines/", 14)) return serve(r, req, body, content_type);
  if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
    eddy_buf_printf(body, "only GET\n");
    return 405;
  }
  if (strcmp(path, "/metrics") == 0) {
    *content_type = "text/plain; version=0.0.4; charset=utf-8";
    eddy_run_metrics(r, body);
    return 200;
  }
  if (strcmp(path, "/healthz") == 0) {
    *content_type = "application/json";
    int ok = !r->stopping && !r->failed;
    eddy_buf_printf(body, "{\"status\":\"%s\",\"pipelines\":{", r->failed ? "failed" : r->stopping ? "stopping" : "ok");
    lock_all(r);
    for (size_t i = 0; i < r->n_pls; i++) {
      eddy_pipeline_t *pl = r->pls[i].pl;
      const eddy_pipeline_conf_t *c = eddy_pipeline_conf(pl);
      static const char *const states[] = {"prepared", "running", "draining", "closed"};
      eddy_buf_printf(body, "%s", i ? "," : "");
      eddy_json_string(body, c->pipeline.name, strlen(c->pipeline.name));
      eddy_ptask_t *t[1];
      size_t parts = 0;
      uint64_t in_flight = 0;
      for (int k = 0; k < (r->pls[i].inst ? r->n_workers : 1); k++) { /* summed over the instances */
        eddy_pipeline_t *x = r->pls[i].inst ? r->pls[i].inst[k] : pl;
        parts += eddy_pipeline_tasks(x, t, 0);
        in_flight += eddy_pipeline_in_flight(x);
      }
      eddy_buf_printf(body, ":{\"state\":\"%s\",\"partitions\":%zu,\"outputs_in_flight\":%" PRIu64 "}",
                      states[eddy_pipeline_state(pl)], parts, in_flight);
    }
    unlock_all(r);
    eddy_buf_printf(body, "}}\n");
    return ok ? 200 : 503;
  }
  if (r->n_workers) pthread_mutex_lock(&r->mu); /* alerts arrive from the workers */
  int status = eddy_dash_http(r->dash, path, query, body, content_type);
  if (r->n_workers) pthread_mutex_unlock(&r->mu);
  if (status) return status;
  eddy_buf_printf(body, "not found: try /, /metrics, /healthz or /api/pipelines\n");
  return 404;
}

/* ------------------------------------------------------------- the loop */

static int push(slot_t **v, size_t *n, size_t *cap, slot_t s) {
  if (eddy_grow((void **)v, cap, *n + 1, sizeof **v)) return EDDY_ENOMEM;
  (*v)[(*n)++] = s;
  return 0;
}

/* ----------------------------------------------- slots and their instances */

/* A pipeline of the config, made for this run: one instance, or one per
 * worker. */
static int slot_make(eddy_run_t *r, const eddy_pipeline_conf_t *c, slot_t *out, char *errstr, size_t errstr_size) {
  memset(out, 0, sizeof *out);
  if (!r->n_workers) return (out->pl = eddy_pipeline_new(r, c, errstr, errstr_size)) ? 0 : EDDY_EINVAL;
  if (!(out->inst = calloc((size_t)r->n_workers, sizeof *out->inst)))
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  for (int k = 0; k < r->n_workers; k++)
    if (!(out->inst[k] = eddy__pipeline_instance_new(r, c, k, r->n_workers, eddy__worker_loop(r->workers[k]), errstr,
                                                     errstr_size))) {
      while (k-- > 0) eddy_pipeline_free(out->inst[k]);
      free(out->inst);
      out->inst = NULL;
      return EDDY_EINVAL;
    }
  out->pl = out->inst[0];
  eddy__pipeline_group(out->inst, (size_t)r->n_workers);
  return 0;
}

/* Hands a slot's instances to their workers (they tick them from now on). */
static void slot_attach(eddy_run_t *r, slot_t *s) {
  for (int k = 0; s->inst && k < r->n_workers; k++) {
    eddy__worker_lock(r->workers[k]);
    eddy__worker_add(r->workers[k], s->inst[k]);
    eddy__worker_unlock(r->workers[k]);
  }
}

static void slot_go(eddy_run_t *r, slot_t *s) {
  s->go_sent = 1;
  for (int k = 0; k < r->n_workers; k++) {
    eddy__worker_lock(r->workers[k]);
    eddy__worker_go(r->workers[k], s->inst[k]);
    eddy__worker_unlock(r->workers[k]);
  }
}

static void slot_drain(eddy_run_t *r, slot_t *s, double deadline) {
  if (!s->inst) {
    eddy_pipeline_drain(s->pl, deadline);
    return;
  }
  for (int k = 0; k < r->n_workers; k++) {
    eddy__worker_lock(r->workers[k]);
    eddy__worker_drain(r->workers[k], s->inst[k], deadline);
    eddy__worker_unlock(r->workers[k]);
  }
}

static int slot_closed(eddy_run_t *r, slot_t *s) {
  if (!s->inst) return eddy_pipeline_state(s->pl) == EDDY_PL_CLOSED;
  int closed = 1;
  for (int k = 0; k < r->n_workers && closed; k++) {
    eddy__worker_lock(r->workers[k]);
    closed = eddy_pipeline_state(s->inst[k]) == EDDY_PL_CLOSED;
    eddy__worker_unlock(r->workers[k]);
  }
  return closed;
}

/* Frees a slot's pipeline (each instance forgotten by its worker first)
 * and drops its config. */
static void slot_free(eddy_run_t *r, slot_t *s) {
  if (!s->inst) {
    eddy_pipeline_free(s->pl);
  } else {
    for (int k = 0; k < r->n_workers; k++) {
      eddy__worker_lock(r->workers[k]);
      eddy__worker_remove(r->workers[k], s->inst[k]);
      eddy_pipeline_free(s->inst[k]);
      eddy__worker_unlock(r->workers[k]);
    }
    free(s->inst);
  }
  ref_drop(s->ref);
}

static void close_all(eddy_run_t *r) {
  if (r->closed) return;
  r->closed = 1;
  uv_timer_stop(&r->tick);
  uv_close((uv_handle_t *)&r->tick, NULL);
  for (int i = 0; i < r->n_sig; i++) uv_close((uv_handle_t *)&r->sig[i], NULL);
  eddy_http_stop(r->http);
  r->http = NULL;
  if (r->wake_on) uv_close((uv_handle_t *)&r->wake, NULL);
  r->wake_on = 0;
  /* Every instance is closed (or was never started): the workers' loops end. */
  for (int k = 0; k < r->n_workers; k++) eddy__worker_stop(r->workers[k]);
}

static void start_pipeline(eddy_run_t *r, slot_t *s) {
  char err[1024];
  if (eddy_pipeline_start(s->pl, err, sizeof err)) {
    eddy_log(EDDY_LOG_ERROR, "%s", err);
    r->failed = 1;
    eddy_run_stop(r);
  }
}

/* The dashboard's point of this second, from every pipeline running or
 * draining. */
static void dash_sample(eddy_run_t *r, int models) {
  size_t n = r->n_pls + r->n_gone;
  if (!r->dash || eddy_grow((void **)&r->seen, &r->cap_seen, n + 1, sizeof *r->seen)) return;
  for (size_t i = 0; i < r->n_pls; i++) r->seen[i] = r->pls[i].pl;
  for (size_t i = 0; i < r->n_gone; i++) r->seen[r->n_pls + i] = r->gone[i].pl;
  if (!r->n_workers) {
    eddy_dash_sample(r->dash, r->seen, n, models);
    return;
  }
  /* Instance 0 is sampled with its siblings, every worker held. */
  lock_all(r);
  pthread_mutex_lock(&r->mu);
  eddy_dash_sample(r->dash, r->seen, n, models);
  pthread_mutex_unlock(&r->mu);
  unlock_all(r);
}

/* The tick with workers: they tick their instances themselves; this one
 * starts, and frees what has closed. */
static void tick_workers(eddy_run_t *r) {
  dash_sample(r, 0);
  for (size_t i = 0; i < r->n_pls; i++) {
    slot_t *s = &r->pls[i];
    if (!s->after && !s->go_sent && !r->stopping) slot_go(r, s);
  }
  for (size_t i = 0; i < r->n_gone;) {
    slot_t *s = &r->gone[i];
    if (slot_closed(r, s)) {
      for (size_t j = 0; j < r->n_pls; j++)
        if (r->pls[j].after == s->pl) r->pls[j].after = NULL; /* its replacement may start */
      slot_free(r, s);
      r->gone[i] = r->gone[--r->n_gone];
    } else {
      i++;
    }
  }
  if (r->stopping && r->n_pls == 0 && r->n_gone == 0) close_all(r);
}

/* A worker posted a failure (eddy__run_failed on its thread). */
static void on_wake(uv_async_t *h) {
  eddy_run_t *r = h->data;
  pthread_mutex_lock(&r->mu);
  int failed = r->fail_posted;
  pthread_mutex_unlock(&r->mu);
  if (failed) {
    r->failed = 1;
    eddy_run_stop(r);
  }
}

static void on_tick(uv_timer_t *t) {
  eddy_run_t *r = t->data;
  if (r->n_workers) {
    tick_workers(r);
    return;
  }
  dash_sample(r, 0);
  for (size_t i = 0; i < r->n_pls; i++) {
    slot_t *s = &r->pls[i];
    if (s->after) continue; /* waits for its predecessor */
    if (eddy_pipeline_state(s->pl) == EDDY_PL_PREPARED && !r->stopping) start_pipeline(r, s);
    eddy_pipeline_tick(s->pl);
  }
  for (size_t i = 0; i < r->n_gone;) {
    slot_t *s = &r->gone[i];
    eddy_pipeline_tick(s->pl);
    if (eddy_pipeline_state(s->pl) == EDDY_PL_CLOSED) {
      for (size_t j = 0; j < r->n_pls; j++)
        if (r->pls[j].after == s->pl) r->pls[j].after = NULL; /* its replacement may start */
      eddy_pipeline_free(s->pl);
      ref_drop(s->ref);
      r->gone[i] = r->gone[--r->n_gone];
    } else {
      i++;
    }
  }
  if (r->stopping && r->n_pls == 0 && r->n_gone == 0) close_all(r);
}

static void *watchdog(void *arg) {
  (void)arg;
  struct timespec ts = {(time_t)WATCHDOG, (long)((WATCHDOG - (time_t)WATCHDOG) * 1e9)};
  while (nanosleep(&ts, &ts) && errno == EINTR) {
  }
  eddy_log(EDDY_LOG_ERROR, "shutdown took more than %.1f s: exiting now (offsets not committed are "
                           "consumed again on restart: nothing is lost)", WATCHDOG);
  _exit(0);
  return NULL;
}

void eddy_run_stop(eddy_run_t *r) {
  if (r->stopping) return;
  r->stopping = 1;
  r->stop_deadline = eddy_now() + STOP_BUDGET;
  dash_sample(r, 1); /* the models as they are now, to be shown after the pipelines are gone */
  if (!r->opts.no_signals) {
    pthread_t th;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_create(&th, &a, watchdog, NULL);
    pthread_attr_destroy(&a);
  }
  for (size_t i = 0; i < r->n_pls; i++) {
    slot_t s = r->pls[i];
    slot_drain(r, &s, r->stop_deadline);
    push(&r->gone, &r->n_gone, &r->cap_gone, s);
  }
  for (size_t i = 0; i < r->n_gone; i++) slot_drain(r, &r->gone[i], r->stop_deadline);
  r->n_pls = 0;
  if (!r->started) close_all(r);
}

static void on_signal(uv_signal_t *h, int signum) {
  eddy_run_t *r = h->data;
  if (signum == SIGHUP) {
    char err[2048];
    if (r->stopping) return;
    eddy_log(EDDY_LOG_INFO, "SIGHUP: reloading %s", r->config_path);
    if (eddy_run_reload(r, err, sizeof err))
      eddy_log(EDDY_LOG_ERROR, "reload refused, the running pipelines go on unchanged: %s", err);
    return;
  }
  if (r->stopping) {
    eddy_log(EDDY_LOG_WARN, "%s again: exiting now", strsignal(signum));
    _exit(1);
  }
  eddy_log(EDDY_LOG_INFO, "%s: stopping (finishing the batch, flushing outputs, committing)", strsignal(signum));
  eddy_run_stop(r);
}

/* A slot made and never attached. */
static void unmake(eddy_run_t *r, slot_t *s) {
  (void)r;
  if (s->inst) {
    for (int k = 0; k < r->n_workers; k++) eddy_pipeline_free(s->inst[k]);
    free(s->inst);
  } else {
    eddy_pipeline_free(s->pl);
  }
  memset(s, 0, sizeof *s);
}

/* Prepares every pipeline of cfg that the plan adds or replaces; on any
 * error nothing is kept. */
static int prepare(eddy_run_t *r, cfgref_t *ref, const eddy_plan_item_t *items, size_t n,
                   slot_t *made, char *errstr, size_t errstr_size) {
  for (size_t i = 0; i < n; i++) {
    memset(&made[i], 0, sizeof made[i]);
    if (items[i].op != EDDY_PLAN_ADD && items[i].op != EDDY_PLAN_REPLACE) continue;
    if (slot_make(r, &ref->cfg->pipelines[items[i].new_index], &made[i], errstr, errstr_size)) {
      for (size_t j = 0; j < i; j++) unmake(r, &made[j]);
      return EDDY_EINVAL;
    }
  }
  return 0;
}

eddy_run_t *eddy_run_new(uv_loop_t *loop, const eddy_run_opts_t *opts, eddy_config_t *config, char *errstr,
                         size_t errstr_size) {
  if (!config && !(config = eddy_config_load(opts->config_path, errstr, errstr_size))) return NULL;
  eddy_run_t *r = calloc(1, sizeof *r);
  int threads = opts->threads > 0 ? opts->threads : (int)config->run.threads;
  cfgref_t *ref = ref_new(config);
  size_t n = config->n_pipelines;
  eddy_plan_item_t *items = calloc(n + 1, sizeof *items);
  slot_t *made = calloc(n + 1, sizeof *made);
  if (!r || !ref || !items || !made || (opts->config_path && !(r->config_path = strdup(opts->config_path)))) {
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    goto fail;
  }
  r->loop = loop;
  r->opts = *opts;
  r->started_at = eddy_now();
  r->main_thread = pthread_self();
  if (threads > 1) {
    pthread_mutex_init(&r->mu, NULL);
    if (!(r->workers = calloc((size_t)threads, sizeof *r->workers))) {
      eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
      goto fail;
    }
    for (; r->n_workers < threads; r->n_workers++)
      if (!(r->workers[r->n_workers] = eddy__worker_new(r, r->n_workers, errstr, errstr_size))) goto fail;
  }
  if (!(r->dash = eddy_dash_new(EDDY_DASH_SECONDS, EDDY_DASH_ALERTS))) {
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    goto fail;
  }
  eddy_run_plan(NULL, config, items, n);
  if (prepare(r, ref, items, n, made, errstr, errstr_size)) goto fail;
  for (size_t i = 0; i < n; i++) {
    made[i].ref = ref;
    push(&r->pls, &r->n_pls, &r->cap_pls, made[i]);
    slot_attach(r, &made[i]);
    ref->refs++;
  }
  ref->refs++; /* held as the current config */
  r->current = ref;
  free(items);
  free(made);
  return r;
fail:
  free(items);
  free(made);
  if (ref) {
    eddy_config_free(ref->cfg);
    free(ref);
  } else {
    eddy_config_free(config);
  }
  if (r) {
    free(r->config_path);
    eddy_dash_free(r->dash);
    for (int k = 0; k < r->n_workers; k++) eddy__worker_free(r->workers[k]);
    free(r->workers);
    if (threads > 1) pthread_mutex_destroy(&r->mu);
  }
  free(r);
  return NULL;
}

int eddy_run_start(eddy_run_t *r, char *errstr, size_t errstr_size) {
  uv_timer_init(r->loop, &r->tick);
  r->tick.data = r;
  if (!r->opts.no_signals) {
    int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
    for (int i = 0; i < 3; i++) {
      uv_signal_init(r->loop, &r->sig[i]);
      r->sig[i].data = r;
      uv_signal_start(&r->sig[i], on_signal, sigs[i]);
    }
    r->n_sig = 3;
  }
  r->started = 1;
  const char *listen = r->current->cfg->http.listen;
  if (listen[0]) {
    r->http = eddy_http_start(r->loop, listen, (size_t)r->current->cfg->http.max_body_bytes, eddy_run_http, r, errstr, errstr_size);
    if (!r->http) {
      eddy_run_stop(r);
      uv_timer_start(&r->tick, on_tick, 0, TICK_MS);
      return EDDY_EIO;
    }
    snprintf(r->listen, sizeof r->listen, "%s", listen);
    eddy_log(EDDY_LOG_INFO, "http: the dashboard, /metrics, /healthz and /v1/pipelines/NAME/predict on port %d", eddy_http_port(r->http));
  }
  if (r->n_workers) {
    /* Each worker starts its instances on its own loop; a failure there
     * stops the run (on_wake). */
    uv_async_init(r->loop, &r->wake, on_wake);
    r->wake.data = r;
    r->wake_on = 1;
    eddy_log(EDDY_LOG_INFO, "%d worker threads: each pipeline runs as %d instances in its consumer group",
             r->n_workers, r->n_workers);
    for (size_t i = 0; i < r->n_pls; i++) slot_go(r, &r->pls[i]);
    uv_timer_start(&r->tick, on_tick, TICK_MS, TICK_MS);
    return 0;
  }
  for (size_t i = 0; i < r->n_pls; i++) {
    if (eddy_pipeline_start(r->pls[i].pl, errstr, errstr_size)) {
      r->failed = 1;
      eddy_run_stop(r);
      uv_timer_start(&r->tick, on_tick, 0, TICK_MS);
      return EDDY_EINVAL;
    }
  }
  uv_timer_start(&r->tick, on_tick, TICK_MS, TICK_MS);
  return 0;
}

int eddy_run_reload(eddy_run_t *r, char *errstr, size_t errstr_size) {
  if (!r->config_path) return eddy_seterr(errstr, errstr_size, EDDY_ESTATE, "no config file to reload");
  if (r->stopping) return eddy_seterr(errstr, errstr_size, EDDY_ESTATE, "stopping");
  eddy_config_t *cfg = eddy_config_load(r->config_path, errstr, errstr_size);
  if (!cfg) {
    r->reload_failures++;
    return EDDY_EINVAL;
  }
  cfgref_t *ref = ref_new(cfg);
  size_t cap = cfg->n_pipelines + r->current->cfg->n_pipelines + 1;
  eddy_plan_item_t *items = calloc(cap, sizeof *items);
  slot_t *made = calloc(cap, sizeof *made);
  eddy_http_t *http = NULL;
  int err = 0;
  if (!ref || !items || !made) {
    err = eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    goto done;
  }
  size_t n = eddy_run_plan(r->current->cfg, cfg, items, cap);
  if ((err = prepare(r, ref, items, n, made, errstr, errstr_size))) goto done;
  /* A new [http] listen address is bound before anything changes. */
  int http_changed = strcmp(cfg->http.listen, r->listen) != 0;
  if (http_changed && cfg->http.listen[0] &&
      !(http = eddy_http_start(r->loop, cfg->http.listen, (size_t)cfg->http.max_body_bytes, eddy_run_http, r, errstr, errstr_size))) {
    for (size_t i = 0; i < n; i++) unmake(r, &made[i]);
    err = EDDY_EIO;
    goto done;
  }
  if (cfg->run.threads != r->current->cfg->run.threads && (cfg->run.threads > 1 || r->n_workers))
    eddy_log(EDDY_LOG_WARN, "reload: [run] threads changed: it applies at the next start (%d worker threads "
             "go on)", r->n_workers);
  /* Apply: nothing below fails. */
  char summary[2048];
  size_t sl = 0;
  summary[0] = '\0';
  static const char *const verbs[] = {"kept", "added", "removed", "replaced"};
  for (size_t i = 0; i < n; i++) {
    eddy_plan_item_t *it = &items[i];
    sl += (size_t)snprintf(summary + sl, sl < sizeof summary ? sizeof summary - sl : 0, "%s%s %s",
                           i ? ", " : "", verbs[it->op], it->name);
    if (sl >= sizeof summary) sl = sizeof summary - 1;
    eddy_pipeline_t *old = NULL;
    size_t oi = 0;
    (void)old;
    if (it->op != EDDY_PLAN_ADD) {
      for (oi = 0; oi < r->n_pls; oi++)
        if (strcmp(eddy_pipeline_conf(r->pls[oi].pl)->pipeline.name, it->name) == 0) break;
      old = oi < r->n_pls ? r->pls[oi].pl : NULL;
    }
    if (it->op == EDDY_PLAN_KEEP) continue;
    if (old && (it->op == EDDY_PLAN_REMOVE || it->op == EDDY_PLAN_REPLACE)) {
      slot_t s = r->pls[oi];
      slot_drain(r, &s, eddy_now() + REMOVE_BUDGET);
      push(&r->gone, &r->n_gone, &r->cap_gone, s);
      r->pls[oi] = r->pls[--r->n_pls];
    }
    if (it->op == EDDY_PLAN_ADD || it->op == EDDY_PLAN_REPLACE) {
      /* A replacement joins the group after its predecessor has left. */
      made[i].ref = ref;
      made[i].after = it->op == EDDY_PLAN_REPLACE ? old : NULL;
      push(&r->pls, &r->n_pls, &r->cap_pls, made[i]);
      slot_attach(r, &made[i]);
      ref->refs++;
    }
  }
  if (http_changed) {
    eddy_http_stop(r->http);
    r->http = http;
    snprintf(r->listen, sizeof r->listen, "%s", cfg->http.listen);
  }
  ref->refs++;
  ref_drop(r->current);
  r->current = ref;
  ref = NULL;
  r->reloads++;
  eddy_log(EDDY_LOG_INFO, "reload applied: %s", summary);
  /* New pipelines start on the next tick. */
done:
  if (err) r->reload_failures++;
  if (ref && ref->refs == 0) {
    eddy_config_free(ref->cfg);
    free(ref);
  } else if (!ref && err) {
    eddy_config_free(cfg);
  }
  free(items);
  free(made);
  return err;
}

void eddy_run_free(eddy_run_t *r) {
  if (!r) return;
  for (size_t i = 0; i < r->n_pls; i++) slot_free(r, &r->pls[i]);
  for (size_t i = 0; i < r->n_gone; i++) slot_free(r, &r->gone[i]);
  for (int k = 0; k < r->n_workers; k++) eddy__worker_free(r->workers[k]);
  free(r->workers);
  if (r->n_workers) pthread_mutex_destroy(&r->mu);
  free(r->pls);
  free(r->gone);
  ref_drop(r->current);
  free(r->config_path);
  eddy_dash_free(r->dash);
  free(r->seen);
  free(r);
}
