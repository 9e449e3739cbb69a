/* drift.c: a replica's drift handling: the concept-drift detector on its
 * error stream, data-drift checks on its inputs, and the configured action
 * on drift (alert, reset, retrain on the buffered window, swap in the
 * background model), each reported as an alert. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detectors.h"
#include "engine/model/model_int.h"
#include "learners/learners.h"

/* The last `cap` labelled instances, oldest first, for `retrain`. */
typedef struct window {
  size_t cap, n, head, n_attrs;
  double *x, *y, *w;
  uint64_t *h;
  uint8_t *missing;
} window_t;

typedef struct data_check {
  eddy_detector_t *det;
  size_t attr;
} data_check_t;

struct eddy__drift {
  eddy_detector_t *concept; /* NULL: none */
  int action;
  eddy_drift_t last; /* the concept detector's last state */
  data_check_t *data;
  size_t n_data;
  window_t win;
  uint64_t since_warning; /* instances buffered since the first warning */
  /* Warnings flap in and out (DDM's especially): one alert per episode,
   * which ends at a drift or after retrain_window instances without one. */
  int in_episode;
  uint64_t last_warning; /* r->learned at the last warning state */
  eddy_learner_t *background;
  uint64_t background_seen;
  eddy_instance_t replay; /* scratch for replaying the window */
};

static const char *const action_names[] = {"alert", "reset", "retrain", "swap"};

static int window_init(window_t *w, size_t cap, size_t n_attrs) {
  memset(w, 0, sizeof *w);
  w->cap = cap;
  w->n_attrs = n_attrs;
  size_t m = cap * (n_attrs ? n_attrs : 1);
  w->x = malloc(m * sizeof *w->x);
  w->h = malloc(m * sizeof *w->h);
  w->missing = malloc(m);
  w->y = malloc(cap * sizeof *w->y);
  w->w = malloc(cap * sizeof *w->w);
  return w->x && w->h && w->missing && w->y && w->w ? 0 : EDDY_ENOMEM;
}

static void window_free(window_t *w) {
  free(w->x);
  free(w->h);
  free(w->missing);
  free(w->y);
  free(w->w);
}

static void window_push(window_t *w, const eddy_instance_t *in) {
  size_t i = w->head, a = w->n_attrs;
  memcpy(w->x + i * a, in->x, a * sizeof *w->x);
  memcpy(w->h + i * a, in->h, a * sizeof *w->h);
  memcpy(w->missing + i * a, in->missing, a);
  w->y[i] = in->y;
  w->w[i] = in->weight;
  w->head = (w->head + 1) % w->cap;
  if (w->n < w->cap) w->n++;
}

/* The j-th of the last `last` instances (oldest first) into in. */
static void window_get(const window_t *w, size_t last, size_t j, eddy_instance_t *in) {
  size_t i = (w->head + w->cap - last + j) % w->cap, a = w->n_attrs;
  memcpy(in->x, w->x + i * a, a * sizeof *in->x);
  memcpy(in->h, w->h + i * a, a * sizeof *in->h);
  memcpy(in->missing, w->missing + i * a, a);
  in->y = w->y[i];
  in->weight = w->w[i];
  in->has_y = 1;
}

/* Pairs NAME.KEY of drift_params for the data detector NAME. */
static int prefixed(const eddy_kvlist_t *all, const char *name, eddy_kvlist_t *out) {
  size_t n = strlen(name);
  for (size_t i = 0; i < all->n; i++) {
    const eddy_kv_t *kv = &all->v[i];
    if (strncmp(kv->key, name, n) == 0 && kv->key[n] == '.') {
      int err = eddy_kvlist_add(out, kv->key + n + 1, kv->value, kv->file, kv->line);
      if (err) return err;
    }
  }
  return 0;
}

static int watched(const char *list, const char *feature) {
  if (!list || !*list) return 1;
  char *copy = strdup(list), *items[4096];
  if (!copy) return 0;
  size_t n = eddy_split_list(copy, items, 4096);
  int found = 0;
  for (size_t i = 0; i < n && !found; i++) found = strcmp(items[i], feature) == 0;
  free(copy);
  return found;
}

void eddy__drift_free(eddy__drift_t *d) {
  if (!d) return;
  eddy_detector_free(d->concept);
  for (size_t i = 0; i < d->n_data; i++) eddy_detector_free(d->data[i].det);
  free(d->data);
  window_free(&d->win);
  eddy_learner_free(d->background);
  eddy_instance_free(&d->replay);
  free(d);
}

eddy__drift_t *eddy__drift_new(eddy_replica_t *r, char *errstr, size_t errstr_size) {
  const eddy_pipeline_conf_t *c = r->conf;
  const eddy_drift_section_t *ds = &c->drift;
  if (errstr_size) errstr[0] = '\0';
  if (!ds->detector[0] && (!ds->data_detectors || !*ds->data_detectors)) return NULL;
  eddy__drift_t *d = calloc(1, sizeof *d);
  if (!d) goto oom;
  d->action = ds->action;
  uint64_t seed = (uint64_t)c->pipeline.seed;
  if (ds->detector[0]) {
    eddy_kvlist_t own = {0};
    for (size_t i = 0; i < c->drift_params.n; i++)
      if (!strchr(c->drift_params.v[i].key, '.') &&
          eddy_kvlist_add(&own, c->drift_params.v[i].key, c->drift_params.v[i].value,
                          c->drift_params.v[i].file, c->drift_params.v[i].line)) {
        eddy_kvlist_free(&own);
        goto oom;
      }
    d->concept = eddy_detector_new(ds->detector, own.v, own.n, eddy_seed_derive(seed, 1000),
                                   errstr, errstr_size);
    eddy_kvlist_free(&own);
    if (!d->concept) goto fail;
  }
  /* One data check per (data detector, watched feature); KS needs numbers. */
  char *dd = ds->data_detectors ? strdup(ds->data_detectors) : NULL;
  char *names[16];
  size_t n_names = dd ? eddy_split_list(dd, names, 16) : 0;
  const eddy_schema_t *s = r->schema;
  for (size_t t = 0; t < n_names; t++) {
    const eddy_detector_type_t *type = eddy_detector_type_find(names[t]);
    for (size_t a = 0; type && a < s->n_attrs; a++) {
      if (!watched(ds->data_features, s->attrs[a].name)) continue;
      int nominal = s->attrs[a].kind == EDDY_NOMINAL;
      if (nominal && !eddy_options_find(type->options, "nominal")) continue;
      eddy_kvlist_t kv = {0};
      int err = prefixed(&c->drift_params, names[t], &kv);
      if (!err && nominal) err = eddy_kvlist_set(&kv, "nominal", "true", NULL, 0);
      data_check_t *v = err ? NULL : realloc(d->data, (d->n_data + 1) * sizeof *v);
      if (!v) {
        eddy_kvlist_free(&kv);
        free(dd);
        goto oom;
      }
      d->data = v;
      v[d->n_data].attr = a;
      v[d->n_data].det = eddy_detector_new(names[t], kv.v, kv.n,
                                           eddy_seed_derive(seed, 2000 + d->n_data), errstr, errstr_size);
      eddy_kvlist_free(&kv);
      if (!v[d->n_data].det) {
        free(dd);
        goto fail;
      }
      d->n_data++;
    }
  }
  free(dd);
  if (d->action == EDDY_ACTION_RETRAIN &&
      (window_init(&d->win, (size_t)ds->retrain_window, s->n_attrs) ||
       eddy_instance_init(&d->replay, s->n_attrs)))
    goto oom;
  return d;
oom:
  eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
fail:
  eddy__drift_free(d);
  return NULL;
}

static void emit(eddy_replica_t *r, const eddy_detector_t *det, const char *kind,
                 const char *feature, const char *action, uint64_t before) {
  if (!r->on_alert) return;
  eddy_alert_t a = {
      .pipeline = r->conf->pipeline.name,
      .partition = r->partition,
      .offset = r->offset,
      .index = r->index ? r->index - 1 : 0,
      .detector = det->type->name,
      .kind = kind,
      .feature = feature,
      .action = action,
      .version_before = before,
      .version_after = r->version,
      .time = eddy_wallclock(),
  };
  eddy_detector_stat(det, &a.statistic, &a.threshold);
  r->on_alert(r->alert_ctx, &a);
}

void eddy__drift_inputs(eddy_replica_t *r, eddy__drift_t *d, const eddy_instance_t *in) {
  for (size_t i = 0; i < d->n_data; i++) {
    size_t a = d->data[i].attr;
    if (in->missing[a]) continue;
    if (eddy_detector_update(d->data[i].det, in->x[a]) == EDDY_DRIFT_DRIFT)
      emit(r, d->data[i].det, "data_drift", r->schema->attrs[a].name, "alert", r->version);
  }
}

/* A fresh learner of the replica's kind, seeded by the new version. */
static eddy_learner_t *fresh(eddy_replica_t *r) {
  char err[512];
  eddy_learner_t *l = eddy_learner_new_like(
      r->learner, eddy_seed_derive((uint64_t)r->conf->pipeline.seed, r->version + 1), err, sizeof err);
  if (!l) eddy_log(EDDY_LOG_ERROR, "pipeline %s: cannot create a learner: %s", r->conf->pipeline.name, err);
  return l;
}

static void replace(eddy_replica_t *r, eddy_learner_t *l) {
  eddy_learner_free(r->learner);
  r->learner = l;
}

/* The drift action; returns the action's name for the alert. */
static const char *act(eddy_replica_t *r, eddy__drift_t *d) {
  eddy_learner_t *l;
  switch (d->action) {
  case EDDY_ACTION_RESET:
    eddy_learner_reset(r->learner);
    r->version++;
    break;
  case EDDY_ACTION_RETRAIN: {
    /* The window since the first warning, else the last N instances. */
    size_t last = d->since_warning ? (size_t)d->since_warning : d->win.n;
    if (last > d->win.n) last = d->win.n;
    if (!(l = fresh(r))) return "alert";
    int64_t epochs = r->conf->drift.retrain_epochs;
    for (int64_t e = 0; e < epochs; e++)
      for (size_t j = 0; j < last; j++) {
        window_get(&d->win, last, j, &d->replay);
        eddy_learner_learn(l, &d->replay);
      }
    replace(r, l);
    r->version++;
    break;
  }
  case EDDY_ACTION_SWAP:
    if (d->background && d->background_seen) {
      l = r->learner;
      r->learner = d->background;
      d->background = l;
      eddy_learner_reset(d->background);
    } else {
      eddy_learner_reset(r->learner); /* no warning came first: start afresh */
    }
    d->background_seen = 0;
    r->version++;
    break;
  default:
    break;
  }
  return action_names[d->action];
}

int eddy__drift_learned(eddy_replica_t *r, eddy__drift_t *d, const eddy_instance_t *in, double loss) {
  if (d->action == EDDY_ACTION_RETRAIN) {
    window_push(&d->win, in);
    if (d->since_warning) d->since_warning++;
  }
  if (d->action == EDDY_ACTION_SWAP && d->last == EDDY_DRIFT_WARNING && d->background) {
    eddy_learner_learn(d->background, in);
    d->background_seen++;
  }
  if (!d->concept) return 0;
  eddy_drift_t st = eddy_detector_update(d->concept, loss);
  if (st == EDDY_DRIFT_WARNING && d->last != EDDY_DRIFT_WARNING) {
    /* The first warning: start the window and the background model. */
    d->since_warning = 1;
    if (d->action == EDDY_ACTION_SWAP) {
      if (!d->background) d->background = fresh(r);
      else eddy_learner_reset(d->background);
      d->background_seen = 0;
      if (d->background) {
        eddy_learner_learn(d->background, in);
        d->background_seen = 1;
      }
    }
    if (!d->in_episode || r->learned - d->last_warning > (uint64_t)r->conf->drift.retrain_window)
      emit(r, d->concept, "warning", NULL, "none", r->version);
    d->in_episode = 1;
  } else if (st == EDDY_DRIFT_DRIFT) {
    uint64_t before = r->version;
    const char *what = act(r, d);
    emit(r, d->concept, "drift", NULL, what, before);
    /* A new model's errors are a new stream: watching them against the old
     * model's history would report the fresh model's learning as drift. */
    if (r->version != before) eddy_detector_reset(d->concept);
    d->since_warning = 0;
    d->in_episode = 0;
  } else if (st == EDDY_DRIFT_NONE) {
    d->since_warning = 0; /* back in control: a later warning starts afresh */
  }
  if (st == EDDY_DRIFT_WARNING) d->last_warning = r->learned;
  d->last = st;
  return 0;
}

size_t eddy__drift_memory(const eddy__drift_t *d) {
  size_t m = sizeof *d;
  if (d->concept) m += eddy_detector_memory(d->concept);
  for (size_t i = 0; i < d->n_data; i++) m += eddy_detector_memory(d->data[i].det) + sizeof d->data[i];
  m += d->win.cap * (d->win.n_attrs * 17 + 16);
  if (d->background) m += eddy_learner_memory(d->background);
  return m;
}

int eddy__drift_save(const eddy__drift_t *d, eddy_buf_t *b) {
  int err = 0;
  eddy_buf_put_u8(b, d->concept != NULL);
  if (d->concept) err = eddy_detector_save(d->concept, b);
  eddy_buf_put_u64(b, d->n_data);
  for (size_t i = 0; i < d->n_data && !err; i++) {
    eddy_buf_put_u64(b, d->data[i].attr);
    err = eddy_detector_save(d->data[i].det, b);
  }
  eddy_buf_put_u8(b, (uint8_t)d->last);
  eddy_buf_put_u64(b, d->since_warning);
  eddy_buf_put_u8(b, (uint8_t)d->in_episode);
  eddy_buf_put_u64(b, d->last_warning);
  eddy_buf_put_u8(b, d->background != NULL);
  if (d->background && !err) err = eddy_learner_save(d->background, b);
  eddy_buf_put_u64(b, d->background_seen);
  const window_t *w = &d->win;
  eddy_buf_put_u64(b, w->cap);
  eddy_buf_put_u64(b, w->n);
  /* The window oldest first, so that its layout in memory does not matter. */
  for (size_t j = 0; j < w->n && !err; j++) {
    size_t i = (w->head + w->cap - w->n + j) % w->cap, a = w->n_attrs;
    eddy_buf_put_f64s(b, w->x + i * a, a);
    for (size_t k = 0; k < a; k++) eddy_buf_put_u64(b, w->h[i * a + k]);
    eddy_buf_put(b, w->missing + i * a, a);
    eddy_buf_put_f64(b, w->y[i]);
    eddy_buf_put_f64(b, w->w[i]);
  }
  return err ? err : b->err;
}

/* Loads a detector section into *slot, which must be of the same type. */
static int load_detector(eddy_reader_t *rd, eddy_detector_t **slot, char *errstr, size_t errstr_size) {
  eddy_reader_t sub;
  if (eddy_read_section(rd, EDDY_SECTION_DETECTOR, &sub))
    return eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT, "drift state: detector section missing");
  eddy_detector_t *det = eddy_detector_load(&sub, errstr, errstr_size);
  if (!det) return EDDY_ECORRUPT;
  if (det->type != (*slot)->type) {
    eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "checkpoint has detector '%s', the config '%s'",
                det->type->name, (*slot)->type->name);
    eddy_detector_free(det);
    return EDDY_EINVAL;
  }
  eddy_detector_free(*slot);
  *slot = det;
  return 0;
}

/* Whether window row i is an instance a decoder could have made over s:
 * the retrain replays it into a learner, which trusts its class and value
 * indices as array subscripts. */
static int window_row_ok(const eddy_schema_t *s, const window_t *w, size_t i) {
  size_t a = w->n_attrs;
  for (size_t k = 0; k < a; k++) {
    uint8_t miss = w->missing[i * a + k];
    double v = w->x[i * a + k];
    if (miss > 1) return 0;
    if (miss) continue;
    if (isnan(v)) return 0; /* an aggregate can reach +-inf; NaN is a missing value */
    if (s->attrs[k].kind == EDDY_NOMINAL && !(v >= 0 && v < eddy_schema_n_values(s, k) && v == floor(v)))
      return 0;
  }
  double y = w->y[i];
  if (!isfinite(y) || !(w->w[i] >= 0 && w->w[i] < INFINITY)) return 0;
  return s->task != EDDY_CLASSIFICATION || (y >= 0 && y < eddy_schema_n_classes(s) && y == floor(y));
}

int eddy__drift_load(eddy_replica_t *r, eddy__drift_t *d, eddy_reader_t *rd, char *errstr,
                     size_t errstr_size) {
  int has_concept = eddy_read_u8(rd);
  if (rd->err) return EDDY_ECORRUPT;
  if (has_concept != (d->concept != NULL))
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "checkpoint and config disagree on [drift] detector");
  int err = has_concept ? load_detector(rd, &d->concept, errstr, errstr_size) : 0;
  size_t n = err ? 0 : (size_t)eddy_read_u64(rd);
  if (!err && n != d->n_data)
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "checkpoint has %zu data checks, the config %zu", n,
                       d->n_data);
  for (size_t i = 0; i < n && !err; i++) {
    if (eddy_read_u64(rd) != d->data[i].attr) return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "data checks differ");
    err = load_detector(rd, &d->data[i].det, errstr, errstr_size);
  }
  if (err) return err;
  uint8_t last = eddy_read_u8(rd);
  d->since_warning = eddy_read_u64(rd);
  uint8_t in_episode = eddy_read_u8(rd);
  d->last_warning = eddy_read_u64(rd);
  if (!rd->err && (last > EDDY_DRIFT_DRIFT || in_episode > 1))
    return eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT, "checkpoint's drift state is corrupt");
  d->last = (eddy_drift_t)last;
  d->in_episode = in_episode;
  if (eddy_read_u8(rd)) {
    eddy_reader_t sub;
    if (eddy_read_section(rd, EDDY_SECTION_LEARNER, &sub)) return EDDY_ECORRUPT;
    eddy_learner_t *l = eddy_learner_load(&sub, r->schema, errstr, errstr_size);
    if (!l) return EDDY_ECORRUPT;
    eddy_learner_free(d->background);
    d->background = l;
  }
  d->background_seen = eddy_read_u64(rd);
  size_t cap = (size_t)eddy_read_u64(rd), wn = (size_t)eddy_read_u64(rd);
  window_t *w = &d->win;
  if (rd->err || cap != w->cap || wn > cap)
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "checkpoint's retrain window differs from the config's");
  w->n = w->head = 0;
  size_t a = w->n_attrs;
  for (size_t j = 0; j < wn && !rd->err; j++) {
    size_t i = w->head;
    eddy_read_f64s(rd, w->x + i * a, a);
    for (size_t k = 0; k < a; k++) w->h[i * a + k] = eddy_read_u64(rd);
    eddy_read(rd, w->missing + i * a, a);
    w->y[i] = eddy_read_f64(rd);
    w->w[i] = eddy_read_f64(rd);
    if (!rd->err && !window_row_ok(r->schema, w, i))
      return eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT,
                         "checkpoint's retrain window holds an instance no decoder makes (row %zu)", j);
    w->head = (w->head + 1) % w->cap;
    w->n++;
  }
  return rd->err ? EDDY_ECORRUPT : 0;
}
