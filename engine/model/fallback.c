/* fallback.c: a replica's [model] fallback learner: it answers while the
 * model is warming up, performs poorly (windowed accuracy) or fails to
 * predict; it learns every labelled record, and each switch of who answers
 * is an alert. Part of the replica, so run, eval and verify all have it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/config/config.h"
#include "engine/model/model_int.h"
#include "learners/learners.h"

struct eddy__fallback {
  eddy_learner_t *learner;
  double *pred;      /* the fallback's prediction (scratch, pred_cap values) */
  /* What the model did for the record being handled. */
  int main_k;        /* its predict's result */
  double main_value; /* its class index (argmax), or value */
  /* The model's record since its version began (reset, retrain, swap). */
  uint64_t version;
  uint64_t learned;
  uint8_t *ring;     /* its 0/1 hits on the last `window` labelled records */
  size_t window, head, filled;
  uint64_t correct;  /* hits in the ring */
};

eddy__fallback_t *eddy__fallback_new(eddy_replica_t *r, char *errstr, size_t errstr_size) {
  const eddy_pipeline_conf_t *c = r->conf;
  if (errstr_size) errstr[0] = '\0';
  if (!c->model.fallback[0]) return NULL;
  eddy__fallback_t *f = calloc(1, sizeof *f);
  if (!f) goto oom;
  f->window = c->pipeline.window > 0 ? (size_t)c->pipeline.window : 1;
  f->ring = calloc(f->window, 1);
  f->pred = calloc(r->pred_cap, sizeof *f->pred);
  if (!f->ring || !f->pred) goto oom;
  f->version = r->version;
  /* Its own seed, derived: the main model's draws stay as without it. */
  f->learner = eddy_learner_new(c->model.fallback, r->schema, c->fallback_params.v, c->fallback_params.n,
                                eddy_seed_derive((uint64_t)c->pipeline.seed, 0xfa11bac6), errstr,
                                errstr_size);
  if (!f->learner) {
    eddy__fallback_free(f);
    return NULL;
  }
  return f;
oom:
  eddy__fallback_free(f);
  eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  return NULL;
}

void eddy__fallback_free(eddy__fallback_t *f) {
  if (!f) return;
  eddy_learner_free(f->learner);
  free(f->ring);
  free(f->pred);
  free(f);
}

/* A new model version starts its record again. */
static void sync_version(const eddy_replica_t *r, eddy__fallback_t *f) {
  if (f->version == r->version) return;
  f->version = r->version;
  f->learned = 0;
  f->head = f->filled = 0;
  f->correct = 0;
  memset(f->ring, 0, f->window);
}

/* What the model answered for the record being handled. */
static void note_main(const eddy_replica_t *r, eddy__fallback_t *f, const double *pred, int k) {
  f->main_k = k;
  /* A model that abstains (nothing learned yet) is scored as the evaluator
   * and MOA score it: class 0. */
  f->main_value = r->schema->task == EDDY_REGRESSION ? (k <= 0 ? -1.0 : pred[0])
                  : k <= 0 ? 0.0 : (double)eddy_argmax(pred, (size_t)k);
}

static double main_accuracy(const eddy__fallback_t *f) {
  return f->filled ? (double)f->correct / (double)f->filled : NAN;
}

static void switch_alert(eddy_replica_t *r, eddy__fallback_t *f, int to_fallback) {
  if (!r->on_alert) return;
  eddy_alert_t a = {
      .pipeline = r->conf->pipeline.name,
      .partition = r->partition,
      .offset = r->offset,
      .index = r->index ? r->index - 1 : 0,
      .detector = "fallback",
      .kind = to_fallback ? "fallback" : "model",
      .statistic = main_accuracy(f),
      .threshold = r->conf->model.fallback_below,
      .action = "none",
      .version_before = r->version,
      .version_after = r->version,
      .time = eddy_wallclock(),
  };
  r->on_alert(r->alert_ctx, &a);
}

int eddy__fallback_predict(eddy_replica_t *r, eddy__fallback_t *f, const eddy_instance_t *in, int k) {
  const eddy_model_section_t *m = &r->conf->model;
  sync_version(r, f);
  note_main(r, f, r->pred, k);
  double acc = main_accuracy(f);
  int want = k < 0 || f->learned < (uint64_t)m->warmup ||
             (r->schema->task == EDDY_CLASSIFICATION && m->fallback_below > 0 && acc < m->fallback_below);
  int served = 0;
  if (want) {
    int kf = eddy_learner_predict(f->learner, in, f->pred, r->pred_cap);
    if (kf >= 0) {
      memcpy(r->pred, f->pred, (size_t)kf * sizeof *r->pred);
      k = kf;
      served = 1;
    }
  }
  /* The first record decides without an alert: nothing switched yet. */
  if (served != r->served && r->index > 1) switch_alert(r, f, served);
  r->served = served;
  return k;
}

int eddy__fallback_score(const eddy_replica_t *r, eddy__fallback_t *f, const eddy_instance_t *in, int k,
                         int *served) {
  const eddy_model_section_t *m = &r->conf->model;
  int fresh = f->version != r->version; /* sync_version would reset it: nothing learned since */
  uint64_t learned = fresh ? 0 : f->learned;
  double acc = fresh ? NAN : main_accuracy(f);
  int want = k < 0 || learned < (uint64_t)m->warmup ||
             (r->schema->task == EDDY_CLASSIFICATION && m->fallback_below > 0 && acc < m->fallback_below);
  *served = 0;
  if (want) {
    int kf = eddy_learner_predict(f->learner, in, f->pred, r->pred_cap);
    if (kf >= 0) {
      memcpy(r->pred, f->pred, (size_t)kf * sizeof *r->pred);
      k = kf;
      *served = 1;
    }
  }
  return k;
}

void eddy__fallback_remeasure(eddy_replica_t *r, eddy__fallback_t *f, const eddy_instance_t *in) {
  note_main(r, f, f->pred, eddy_learner_predict(r->learner, in, f->pred, r->pred_cap));
}

int eddy__fallback_learned(eddy_replica_t *r, eddy__fallback_t *f, const eddy_instance_t *in) {
  sync_version(r, f);
  f->learned++;
  if (r->schema->task == EDDY_CLASSIFICATION) {
    uint8_t hit = f->main_value == in->y;
    if (f->filled == f->window) f->correct -= f->ring[f->head];
    else f->filled++;
    f->ring[f->head] = hit;
    f->correct += hit;
    f->head = (f->head + 1) % f->window;
  }
  return eddy_learner_learn(f->learner, in);
}

size_t eddy__fallback_memory(const eddy__fallback_t *f) {
  return sizeof *f + f->window + eddy_learner_memory(f->learner);
}

int eddy__fallback_save(const eddy_replica_t *r, const eddy__fallback_t *f, eddy_buf_t *b) {
  /* As sync_version would leave it: a drift action may have made a new
   * model version since the last record. */
  int stale = f->version != r->version;
  eddy_buf_put_u8(b, (uint8_t)r->served);
  eddy_buf_put_u64(b, r->version);
  eddy_buf_put_u64(b, stale ? 0 : f->learned);
  eddy_buf_put_u64(b, f->window);
  eddy_buf_put_u64(b, stale ? 0 : f->head);
  eddy_buf_put_u64(b, stale ? 0 : f->filled);
  for (size_t i = 0; i < f->window; i++) eddy_buf_put_u8(b, stale ? 0 : f->ring[i]);
  return eddy_learner_save(f->learner, b);
}

int eddy__fallback_load(eddy_replica_t *r, eddy__fallback_t *f, eddy_reader_t *rd, char *errstr,
                        size_t errstr_size) {
  int served = eddy_read_u8(rd);
  uint64_t version = eddy_read_u64(rd), learned = eddy_read_u64(rd), window = eddy_read_u64(rd);
  uint64_t head = eddy_read_u64(rd), filled = eddy_read_u64(rd);
  if (rd->err) return eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT, "checkpoint's fallback section is truncated");
  if (window != f->window)
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL,
                       "checkpoint's fallback window is %llu records, the config's [pipeline] window %zu",
                       (unsigned long long)window, f->window);
  if (served > 1 || version != r->version || head >= window || filled > window ||
      (filled < window && head != filled) || rd->len - rd->pos < window)
    return eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT, "checkpoint's fallback section is corrupt");
  uint64_t correct = 0;
  for (size_t i = 0; i < window; i++) {
    uint8_t v = eddy_read_u8(rd);
    if (v > 1 || (i >= filled && v)) return eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT, "checkpoint's fallback section is corrupt");
    f->ring[i] = v;
    correct += v;
  }
  uint32_t tag = eddy_read_u32(rd);
  uint64_t len = eddy_read_u64(rd);
  if (rd->err || tag != EDDY_SECTION_LEARNER || len > rd->len - rd->pos)
    return eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT, "checkpoint's fallback learner is missing");
  eddy_reader_t sub;
  eddy_reader_init(&sub, rd->p + rd->pos, (size_t)len);
  eddy_learner_t *l = eddy_learner_load(&sub, r->schema, errstr, errstr_size);
  if (!l) return EDDY_ECORRUPT;
  if (l->type != f->learner->type) {
    eddy_learner_free(l);
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "checkpoint's fallback is a '%s', the config asks for '%s'",
                       l->type->name, f->learner->type->name);
  }
  rd->pos += (size_t)len;
  eddy_learner_free(f->learner);
  f->learner = l;
  r->served = served;
  f->version = version;
  f->learned = learned;
  f->head = (size_t)head;
  f->filled = (size_t)filled;
  f->correct = correct;
  return 0;
}

void eddy__fallback_describe(const eddy_replica_t *r, const eddy__fallback_t *f, FILE *out) {
  fprintf(out, "fallback %s (serving: %s; the model learned %llu records of warmup %lld, windowed accuracy %.4f)\n",
          f->learner->type->name, r->served ? "fallback" : "model", (unsigned long long)f->learned,
          (long long)r->conf->model.warmup, main_accuracy(f));
  eddy_learner_describe(f->learner, out);
}
