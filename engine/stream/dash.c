/* dash.c: the figures behind the dashboard: once a second, a point per
 * assigned partition taken from the counters the record path keeps anyway
 * (so the record path does no extra work), a ring of the last alerts, and
 * every few seconds a snapshot of each model (checkpoint size, SHA-256).
 * dash_api.c serves them. */
#include <math.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "engine/stream/dash_int.h"
#include "engine/stream/pipeline_int.h"

size_t eddy_dash_ring_bytes(size_t seconds) { return seconds * sizeof(eddy__dash_point_t); }

eddy_dash_t *eddy_dash_new(size_t seconds, size_t max_alerts) {
  eddy_dash_t *d = calloc(1, sizeof *d);
  if (!d) return NULL;
  d->seconds = seconds ? seconds : 1;
  d->max_alerts = max_alerts ? max_alerts : 1;
  d->alerts = calloc(d->max_alerts, sizeof *d->alerts);
  if (!d->alerts) {
    free(d);
    return NULL;
  }
  return d;
}

void eddy_dash_free(eddy_dash_t *d) {
  if (!d) return;
  for (size_t i = 0; i < d->n_parts; i++) free(d->parts[i].ring);
  free(d->parts);
  free(d->pls);
  free(d->alerts);
  free(d);
}

/* ---------------------------------------------------------------- alerts */

static void copy(char *dst, size_t size, const char *src) {
  size_t n = src ? strlen(src) : 0;
  if (n >= size) n = size - 1;
  if (n) memcpy(dst, src, n);
  dst[n] = '\0';
}

void eddy_dash_alert(eddy_dash_t *d, const eddy_alert_t *a) {
  if (!d) return;
  eddy__dash_alert_t *s = &d->alerts[d->alert_head];
  copy(s->pipeline, sizeof s->pipeline, a->pipeline);
  copy(s->detector, sizeof s->detector, a->detector);
  copy(s->kind, sizeof s->kind, a->kind);
  copy(s->action, sizeof s->action, a->action);
  copy(s->feature, sizeof s->feature, a->feature);
  s->has_feature = a->feature != NULL;
  s->partition = a->partition;
  s->offset = a->offset;
  s->index = a->index;
  s->version_before = a->version_before;
  s->version_after = a->version_after;
  s->statistic = a->statistic;
  s->threshold = a->threshold;
  s->time = a->time;
  d->alert_head = (d->alert_head + 1) % d->max_alerts;
  if (d->n_alerts < d->max_alerts) d->n_alerts++;
  else d->alerts_dropped++;
}

const eddy__dash_alert_t *eddy__dash_alert_at(const eddy_dash_t *d, size_t i) {
  size_t first = (d->alert_head + d->max_alerts - d->n_alerts) % d->max_alerts;
  return &d->alerts[(first + i) % d->max_alerts];
}

void eddy__dash_alert_json(const eddy__dash_alert_t *s, eddy_buf_t *b) {
  eddy_alert_t a = {
      .pipeline = s->pipeline, .partition = s->partition, .offset = s->offset, .index = s->index,
      .detector = s->detector, .kind = s->kind, .statistic = s->statistic, .threshold = s->threshold,
      .feature = s->has_feature ? s->feature : NULL, .action = s->action,
      .version_before = s->version_before, .version_after = s->version_after, .time = s->time,
  };
  eddy_alert_json(&a, b);
}

/* ------------------------------------------------------------- sampling */

static eddy__dash_pl_t *pl_entry(eddy_dash_t *d, const char *name) {
  for (size_t i = 0; i < d->n_pls; i++)
    if (!strcmp(d->pls[i].name, name)) return &d->pls[i];
  if (eddy_grow((void **)&d->pls, &d->cap_pls, d->n_pls + 1, sizeof *d->pls)) return NULL;
  eddy__dash_pl_t *p = &d->pls[d->n_pls++];
  memset(p, 0, sizeof *p);
  copy(p->name, sizeof p->name, name);
  p->p50 = p->p99 = NAN;
  return p;
}

static eddy__dash_part_t *part_entry(eddy_dash_t *d, const char *pipeline, int32_t partition) {
  for (size_t i = 0; i < d->n_parts; i++)
    if (d->parts[i].partition == partition && !strcmp(d->parts[i].pipeline, pipeline)) return &d->parts[i];
  eddy__dash_point_t *ring = calloc(d->seconds, sizeof *ring);
  if (!ring || eddy_grow((void **)&d->parts, &d->cap_parts, d->n_parts + 1, sizeof *d->parts)) {
    free(ring);
    return NULL;
  }
  eddy__dash_part_t *p = &d->parts[d->n_parts++];
  memset(p, 0, sizeof *p);
  copy(p->pipeline, sizeof p->pipeline, pipeline);
  p->partition = partition;
  p->ring = ring;
  p->model.next_offset = -1;
  return p;
}

/* The latency quantiles of what was delivered since the previous second. */
static void latency_delta(eddy__dash_pl_t *e, const eddy_histogram_t *h, float *p50, float *p99) {
  eddy_histogram_t delta;
  eddy_hist_init(&delta, h->bounds, h->n);
  for (size_t i = 0; i <= h->n; i++) {
    uint64_t prev = e->prev_lat[i] <= h->counts[i] ? e->prev_lat[i] : 0;
    delta.counts[i] = h->counts[i] - prev;
    delta.count += delta.counts[i];
    e->prev_lat[i] = h->counts[i];
  }
  *p50 = (float)eddy_hist_quantile(&delta, 0.5);
  *p99 = (float)eddy_hist_quantile(&delta, 0.99);
}

static void sha256_hex(const void *p, size_t len, char *hex) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  hex[0] = '\0';
  if (!EVP_Digest(p, len, md, &n, EVP_sha256(), NULL) || n != 32) return;
  for (unsigned i = 0; i < n; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static void model_snapshot(eddy__dash_part_t *p, const eddy_pipeline_t *pl, const eddy_ptask_t *t,
                           eddy_buf_t *scratch, double now) {
  const eddy_replica_t *r = t->replica;
  eddy__dash_model_t *m = &p->model;
  eddy_buf_clear(scratch);
  if (eddy_replica_save(r, scratch) || scratch->err) return;
  copy(m->learner, sizeof m->learner, pl->conf->model.learner);
  m->version = r->version;
  m->learned = r->learned;
  m->seen = r->index;
  m->next_offset = t->wm.next;
  m->bytes = scratch->len;
  m->memory = eddy_replica_memory(r);
  sha256_hex(scratch->data, scratch->len, m->sha256);
  m->importance[0] = '\0';
  for (size_t k = EDDY__DASH_TOP_FEATURES; k > 0; k--) {
    eddy_buf_clear(scratch);
    eddy_learner_importance_json(r->learner, k, scratch);
    int none = scratch->len == 4 && !memcmp(scratch->data, "null", 4);
    if (none) break;
    if (scratch->err || scratch->len >= sizeof m->importance) continue; /* fewer features */
    memcpy(m->importance, scratch->data, scratch->len);
    m->importance[scratch->len] = '\0';
    break;
  }
  m->time = now;
  m->have = 1;
}

static void sample_task(eddy_dash_t *d, eddy__dash_pl_t *e, const eddy_pipeline_t *pl, const eddy_ptask_t *t,
                        int64_t second, float p50, float p99) {
  eddy__dash_part_t *p = part_entry(d, pl->conf->pipeline.name, t->partition);
  if (!p) return;
  (void)e;
  if (p->task_seen != t) { /* a new task (assignment): its counters start at 0 */
    p->task_seen = t;
    p->prev_records = p->prev_predictions = p->prev_dead = p->prev_learned = 0;
  }
  p->task = t->replica->schema->task;
  p->live = 1;
  /* A second sampled again (the last figures at a stop) adds to its point. */
  eddy__dash_point_t *last = p->n ? &p->ring[(p->head + d->seconds - 1) % d->seconds] : NULL;
  int merge = last && last->t == second;
  eddy__dash_point_t *pt = merge ? last : &p->ring[p->head];
  if (!merge) memset(pt, 0, sizeof *pt);
  pt->t = second;
  pt->records += (float)(t->records - p->prev_records);
  pt->predictions += (float)(t->predictions - p->prev_predictions);
  pt->dead_letters += (float)(t->dead_lettered - p->prev_dead);
  pt->learned += (float)(t->learned - p->prev_learned);
  p->prev_records = t->records;
  p->prev_predictions = t->predictions;
  p->prev_dead = t->dead_lettered;
  p->prev_learned = t->learned;
  int64_t lag = pl->consumer ? eddy_pipeline_lag(pl, t) : -1;
  pt->lag = lag >= 0 ? (float)lag : -1;
  eddy_metrics_t m;
  eddy_evaluator_windowed(t->replica->eval, &m);
  pt->metric = !m.n ? NAN : (float)(p->task == EDDY_CLASSIFICATION ? m.accuracy : m.mae);
  if (!merge || !isnan(p50)) {
    pt->p50 = p50;
    pt->p99 = p99;
  }
  pt->version = (uint32_t)t->replica->version;
  pt->waiting = t->waiting ? (float)eddy_waiting_stats(t->waiting)->waiting : -1;
  if (merge) return;
  p->head = (p->head + 1) % d->seconds;
  if (p->n < d->seconds) p->n++;
}

static const char *action_name(int a) {
  static const char *const names[] = {"alert", "reset", "retrain", "swap"};
  return a >= 0 && a < 4 ? names[a] : "?";
}

/* The label join's figures: counters the label path keeps anyway (every
 * instance's, with worker threads). */
static void sample_labels(eddy__dash_pl_t *e, const eddy_pipeline_t *pl) {
  e->labels_on = pl->labels_on;
  if (!pl->labels_on) return;
  copy(e->label_topic, sizeof e->label_topic, pl->conf->source.label_topic);
  size_t n_inst = pl->n_group ? pl->n_group : 1;
  eddy_histogram_t delay = pl->st.label_delay;
  e->labels_in = e->labels_joined = e->labels_unmatched = e->labels_expired = e->labels_evicted = 0;
  e->labels_waiting = 0;
  for (size_t k = 0; k < n_inst; k++) {
    const eddy_pipeline_t *x = k ? pl->group[k] : pl;
    const eddy_pipeline_stats_t *st = &x->st;
    e->labels_in += st->labels_in;
    e->labels_joined += st->labels_joined;
    e->labels_unmatched += st->labels_unmatched;
    e->labels_expired += st->labels_expired;
    e->labels_evicted += st->labels_evicted;
    if (k) eddy_hist_add(&delay, &st->label_delay);
    for (size_t i = 0; i < x->n_tasks; i++)
      if (!x->tasks[i]->retired && x->tasks[i]->waiting)
        e->labels_waiting += eddy_waiting_stats(x->tasks[i]->waiting)->waiting;
  }
  const eddy_histogram_t *h = &delay;
  e->delay_p50 = eddy_hist_quantile(h, 0.5);
  e->delay_p99 = eddy_hist_quantile(h, 0.99);
  e->delay_mean = h->count ? h->sum / (double)h->count : NAN;
}

static void sample_pipeline(eddy_dash_t *d, eddy_pipeline_t *pl, int64_t second, int models,
                            eddy_buf_t *scratch, double now) {
  const eddy_pipeline_conf_t *c = pl->conf;
  eddy__dash_pl_t *e = pl_entry(d, c->pipeline.name);
  if (!e) return;
  /* `eddy run --threads N`: the instances' figures summed (the caller holds
   * every worker's lock). */
  size_t n_inst = pl->n_group ? pl->n_group : 1;
  eddy_pipeline_stats_t sum = pl->st;
  for (size_t k = 1; k < n_inst; k++) {
    const eddy_pipeline_stats_t *o = &pl->group[k]->st;
    sum.records_in += o->records_in;
    sum.predictions += o->predictions;
    sum.dead_lettered += o->dead_lettered;
    sum.learned += o->learned;
    eddy_hist_add(&sum.latency, &o->latency);
  }
  const eddy_pipeline_stats_t *st = &sum;
  if (e->seen != pl) { /* a new pipeline (start, reload): its histogram starts empty */
    e->seen = pl;
    memset(e->prev_lat, 0, sizeof e->prev_lat);
  }
  copy(e->learner, sizeof e->learner, c->model.learner);
  copy(e->detector, sizeof e->detector, c->drift.detector[0] ? c->drift.detector : "none");
  copy(e->action, sizeof e->action, action_name(c->drift.action));
  copy(e->store, sizeof e->store, strncmp(c->state.store, "redis", 5) ? "memory" : "redis");
  copy(e->metric, sizeof e->metric, c->pipeline.task == EDDY_CLASSIFICATION ? "accuracy" : "mae");
  e->state = pl->state;
  e->records_in = st->records_in;
  e->predictions = st->predictions;
  e->dead_lettered = st->dead_lettered;
  e->learned = st->learned;
  e->alerts = 0;
  for (size_t k = 0; k < n_inst; k++) {
    const eddy_pipeline_stats_t *o = k ? &pl->group[k]->st : &pl->st;
    for (size_t i = 0; i < o->n_alerts; i++) e->alerts += o->alerts[i].n;
  }
  e->p50 = eddy_hist_quantile(&st->latency, 0.5);
  e->p99 = eddy_hist_quantile(&st->latency, 0.99);
  float p50, p99;
  latency_delta(e, &st->latency, &p50, &p99);
  sample_labels(e, pl);
  for (size_t k = 0; k < n_inst; k++) {
    const eddy_pipeline_t *x = k ? pl->group[k] : pl;
    for (size_t i = 0; i < x->n_tasks; i++) {
      const eddy_ptask_t *t = x->tasks[i];
      if (t->retired || !t->replica) continue;
      if (second) sample_task(d, e, x, t, second, p50, p99);
      if (models) {
        eddy__dash_part_t *p = part_entry(d, c->pipeline.name, t->partition);
        if (p) model_snapshot(p, x, t, scratch, now);
      }
    }
  }
}

void eddy_dash_sample(eddy_dash_t *d, eddy_pipeline_t *const *pls, size_t n, int models) {
  eddy__dash_sample_at(d, pls, n, models, eddy_wallclock());
}

void eddy__dash_sample_at(eddy_dash_t *d, eddy_pipeline_t *const *pls, size_t n, int models, double now) {
  if (!d) return;
  int64_t second = (int64_t)floor(now);
  int new_second = second != d->last_second;
  if (!new_second && !models && pls) return;
  /* Saving and hashing a model costs the loop in proportion to its size:
   * done only while someone asks for them (and at a stop). */
  if (now < d->models_wanted_until && now - d->last_models >= EDDY_DASH_MODEL_EVERY) models = 1;
  if (!pls) { /* the run is over: every pipeline is closed */
    for (size_t i = 0; i < d->n_pls; i++) d->pls[i].state = EDDY_PL_CLOSED;
    for (size_t i = 0; i < d->n_parts; i++) d->parts[i].live = 0;
    return;
  }
  if (new_second) {
    d->last_second = second;
    for (size_t i = 0; i < d->n_parts; i++) d->parts[i].live = 0;
    for (size_t i = 0; i < d->n_pls; i++) d->pls[i].state = EDDY_PL_CLOSED;
  }
  eddy_buf_t scratch;
  eddy_buf_init(&scratch);
  for (size_t i = 0; i < n; i++) {
    /* Instances after the first are sampled with it. */
    if (pls[i]->n_group && pls[i]->group[0] != pls[i]) continue;
    if (pls[i]->state == EDDY_PL_CLOSED) {
      eddy__dash_pl_t *e = pl_entry(d, pls[i]->conf->pipeline.name);
      if (e) e->state = pls[i]->state;
      continue;
    }
    /* Forced (a stop) within the second: the counts since go into its point. */
    sample_pipeline(d, pls[i], new_second || models ? second : 0, models, &scratch, now);
  }
  eddy_buf_free(&scratch);
  if (models) d->last_models = now;
}
