/* model_selection.c: several candidate learners learn every labelled
 * record; each prediction comes from the candidate whose loss over its last
 * `window` predictions is lowest (0/1 error or log loss; absolute error for
 * regression), and the learner says which one answered (`served_by`). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learners/learners.h"

#define MS_MAX 16
enum { MS_ACCURACY, MS_LOG_LOSS };
static const char *const ms_metrics[] = {"accuracy", "log_loss", NULL};

typedef struct {
  char *candidates;
  int metric;
  int64_t window;
} ms_params_t;

typedef struct {
  eddy_learner_t *m[MS_MAX];
  char *names[MS_MAX]; /* registry names, from the candidates list */
  size_t n;
  double *pred;   /* n rows of cap: each candidate's last prediction */
  int *k;         /* their predict results */
  size_t cap;
  double *ring;   /* n rows of window: each candidate's last losses */
  double *sum;    /* their sums */
  size_t window, head, filled;
  int best;       /* the candidate that answered the last prediction */
  /* the last predicted instance: learn reuses the candidates' predictions
   * when it is the same record (predict, then learn) */
  double *last_x;
  uint8_t *last_missing;
  uint64_t *last_h;
  size_t last_cap, last_n;
  int last_valid;
} ms_t;

static const eddy_option_t ms_options[] = {
    EDDY_OPT_TEXT_(ms_params_t, "candidates", candidates, "hoeffding_tree, logistic_regression, naive_bayes",
                   "The candidate learners (registry names, each once, at most 16); a candidate's own keys "
                   "are written `NAME.KEY` (hoeffding_tree.grace_period = 100). Every candidate learns every "
                   "labelled record."),
    EDDY_OPT_ENUM_(ms_params_t, "metric", metric, "accuracy", ms_metrics,
                   "Classification: the windowed metric that picks the candidate answering: accuracy (fewest "
                   "errors) or log_loss (the lowest; the first candidate on ties). Regression: mean absolute error."),
    EDDY_OPT_INT_(ms_params_t, "window", window, "1000", 1, 100000000,
                  "The last predictions each candidate's metric is over."),
    EDDY_OPT_END,
};

static void ms_free_all(ms_t *s) {
  for (size_t i = 0; i < s->n; i++) {
    eddy_learner_free(s->m[i]);
    free(s->names[i]);
  }
  free(s->pred);
  free(s->k);
  free(s->ring);
  free(s->sum);
  free(s->last_x);
  free(s->last_missing);
  free(s->last_h);
}

/* Candidate i's keys: NAME.KEY pairs of l->kv, prefix removed (borrowed). */
static size_t candidate_kv(const eddy_learner_t *l, const char *name, eddy_kv_t *out) {
  size_t plen = strlen(name), n = 0;
  for (size_t j = 0; j < l->kv.n; j++) {
    const eddy_kv_t *kv = &l->kv.v[j];
    if (strncmp(kv->key, name, plen) == 0 && kv->key[plen] == '.') {
      out[n] = *kv;
      out[n++].key += plen + 1;
    }
  }
  return n;
}

static int ms_init(eddy_learner_t *l, char *errstr, size_t errstr_size) {
  const ms_params_t *p = l->params;
  ms_t *s = l->state;
  char *copy = strdup(p->candidates ? p->candidates : ""), *items[MS_MAX + 1];
  eddy_kv_t *kv = calloc(l->kv.n ? l->kv.n : 1, sizeof *kv);
  if (!copy || !kv) {
    free(copy);
    free(kv);
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  }
  size_t n = eddy_split_list(copy, items, MS_MAX + 1);
  int err = 0;
  if (n == 0 || n > MS_MAX)
    err = eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "key 'candidates': between 1 and %d learners", MS_MAX);
  for (size_t i = 0; i < n && !err; i++)
    for (size_t j = 0; j < i && !err; j++)
      if (strcmp(items[i], items[j]) == 0)
        err = eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "key 'candidates': '%s' is listed twice", items[i]);
  /* Every dotted key belongs to a candidate. */
  for (size_t j = 0; j < l->kv.n && !err; j++) {
    const char *dot = strchr(l->kv.v[j].key, '.');
    if (!dot) continue;
    size_t i = 0;
    while (i < n && !(strlen(items[i]) == (size_t)(dot - l->kv.v[j].key) &&
                      strncmp(items[i], l->kv.v[j].key, strlen(items[i])) == 0))
      i++;
    if (i == n)
      err = eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "%s:%d: key '%s': '%.*s' is not a candidate",
                        l->kv.v[j].file ? l->kv.v[j].file : "<params>", l->kv.v[j].line, l->kv.v[j].key,
                        (int)(dot - l->kv.v[j].key), l->kv.v[j].key);
  }
  for (size_t i = 0; i < n && !err; i++) {
    const eddy_learner_type_t *t = eddy_learner_type_find(items[i]);
    if (t && (t->unsupervised || t == l->type)) {
      err = eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "key 'candidates': '%s' cannot be a candidate", items[i]);
      break;
    }
    size_t nkv = candidate_kv(l, items[i], kv);
    char msg[1024];
    s->m[i] = eddy_learner_new(items[i], l->schema, kv, nkv, eddy_seed_derive(l->seed, i), msg, sizeof msg);
    s->names[i] = strdup(items[i]);
    s->n = i + 1;
    if (!s->m[i]) err = eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "candidate '%s': %s", items[i], msg);
    else if (!s->names[i]) err = eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  }
  free(copy);
  free(kv);
  if (!err) {
    s->window = (size_t)p->window;
    s->cap = l->schema->task == EDDY_REGRESSION ? 1 : (size_t)eddy_schema_n_classes(l->schema);
    if (s->cap < 2) s->cap = 2;
    s->pred = calloc(s->n * s->cap, sizeof *s->pred);
    s->k = calloc(s->n, sizeof *s->k);
    s->ring = calloc(s->n * s->window, sizeof *s->ring);
    s->sum = calloc(s->n, sizeof *s->sum);
    if (!s->pred || !s->k || !s->ring || !s->sum) err = eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  }
  if (err) {
    ms_free_all(s);
    memset(s, 0, sizeof *s);
  }
  return err;
}

/* Room for k classes per candidate (a class seen for the first time). */
static int fit_classes(ms_t *s, size_t k) {
  if (k <= s->cap) return 0;
  double *p = calloc(s->n * k, sizeof *p);
  if (!p) return EDDY_ENOMEM;
  for (size_t i = 0; i < s->n; i++) memcpy(p + i * k, s->pred + i * s->cap, s->cap * sizeof *p);
  free(s->pred);
  s->pred = p;
  s->cap = k;
  return 0;
}

static int same_as_last(const ms_t *s, const eddy_instance_t *x) {
  return s->last_valid && s->last_n == x->n && memcmp(s->last_x, x->x, x->n * sizeof *x->x) == 0 &&
         memcmp(s->last_missing, x->missing, x->n) == 0 && memcmp(s->last_h, x->h, x->n * sizeof *x->h) == 0;
}

static int remember(ms_t *s, const eddy_instance_t *x) {
  if (x->n > s->last_cap) {
    if (eddy_grow((void **)&s->last_x, &s->last_cap, x->n, sizeof *s->last_x)) return EDDY_ENOMEM;
    size_t c = 0;
    if (eddy_grow((void **)&s->last_missing, &c, x->n, 1)) return EDDY_ENOMEM;
    c = 0;
    if (eddy_grow((void **)&s->last_h, &c, x->n, sizeof *s->last_h)) return EDDY_ENOMEM;
  }
  memcpy(s->last_x, x->x, x->n * sizeof *x->x);
  memcpy(s->last_missing, x->missing, x->n);
  memcpy(s->last_h, x->h, x->n * sizeof *x->h);
  s->last_n = x->n;
  s->last_valid = 1;
  return 0;
}

static int predict_all(eddy_learner_t *l, ms_t *s, const eddy_instance_t *x) {
  size_t k = l->schema->task == EDDY_REGRESSION ? 1 : eddy_schema_n_classes(l->schema);
  if (fit_classes(s, k)) return EDDY_ENOMEM;
  for (size_t i = 0; i < s->n; i++) s->k[i] = eddy_learner_predict(s->m[i], x, s->pred + i * s->cap, s->cap);
  return 0;
}

static int ms_predict(eddy_learner_t *l, const eddy_instance_t *x, double *out, size_t out_len) {
  ms_t *s = l->state;
  int err = predict_all(l, s, x);
  if (err) return err;
  if (remember(s, x)) s->last_valid = 0;
  /* The lowest windowed loss among the candidates that could predict. */
  int best = -1;
  for (size_t i = 0; i < s->n; i++)
    if (s->k[i] >= 0 && (best < 0 || s->sum[i] < s->sum[best])) best = (int)i;
  if (best < 0) return s->k[0];
  s->best = best;
  size_t k = (size_t)s->k[best];
  if (out_len < k) return EDDY_ENOSPC;
  memcpy(out, s->pred + (size_t)best * s->cap, k * sizeof *out);
  return (int)k;
}

/* Candidate i's loss on its last prediction for label y. */
static double loss(const eddy_learner_t *l, const ms_t *s, size_t i, double y) {
  const ms_params_t *p = l->params;
  const double *v = s->pred + i * s->cap;
  int k = s->k[i];
  if (l->schema->task == EDDY_REGRESSION) return k > 0 ? fabs(v[0] - y) : fabs(y);
  size_t c = (size_t)y;
  if (p->metric == MS_ACCURACY) return k > 0 && eddy_argmax(v, (size_t)k) == c ? 0.0 : 1.0;
  double sum = 0;
  for (int j = 0; j < k; j++) sum += v[j] > 0 ? v[j] : 0;
  double q = sum > 0 && c < (size_t)k && v[c] > 0 ? v[c] / sum : 0.0;
  return -log(q > 1e-15 ? q : 1e-15);
}

static int ms_learn(eddy_learner_t *l, const eddy_instance_t *x) {
  ms_t *s = l->state;
  if (!same_as_last(s, x)) {
    int err = predict_all(l, s, x);
    if (err) return err;
  }
  s->last_valid = 0; /* the candidates change now */
  for (size_t i = 0; i < s->n; i++) {
    double *ring = s->ring + i * s->window, v = loss(l, s, i, x->y);
    if (s->filled == s->window) s->sum[i] -= ring[s->head];
    ring[s->head] = v;
    s->sum[i] += v;
  }
  s->head = (s->head + 1) % s->window;
  if (s->filled < s->window) s->filled++;
  for (size_t i = 0; i < s->n; i++) {
    int err = eddy_learner_learn(s->m[i], x);
    if (err) return err;
  }
  return 0;
}

static void ms_reset(eddy_learner_t *l) {
  ms_t *s = l->state;
  for (size_t i = 0; i < s->n; i++) {
    eddy_learner_reset(s->m[i]);
    eddy_rng_seed(&s->m[i]->rng, s->m[i]->seed);
  }
  memset(s->ring, 0, s->n * s->window * sizeof *s->ring);
  memset(s->sum, 0, s->n * sizeof *s->sum);
  s->head = s->filled = 0;
  s->best = 0;
  s->last_valid = 0;
}

static int ms_save(const eddy_learner_t *l, eddy_buf_t *b) {
  const ms_t *s = l->state;
  eddy_buf_put_u64(b, s->n);
  for (size_t i = 0; i < s->n; i++) {
    int err = eddy_learner_save(s->m[i], b);
    if (err) return err;
  }
  eddy_buf_put_u64(b, s->head);
  eddy_buf_put_u64(b, s->filled);
  eddy_buf_put_u32(b, (uint32_t)s->best);
  eddy_buf_put_f64s(b, s->ring, s->n * s->window);
  eddy_buf_put_f64s(b, s->sum, s->n);
  return b->err;
}

static int ms_load(eddy_learner_t *l, eddy_reader_t *r) {
  ms_t *s = l->state;
  uint64_t n = eddy_read_u64(r);
  if (r->err) return r->err;
  if (n != s->n) return EDDY_ECORRUPT;
  for (size_t i = 0; i < s->n; i++) {
    uint32_t tag = eddy_read_u32(r);
    uint64_t len = eddy_read_u64(r);
    if (r->err || tag != EDDY_SECTION_LEARNER || len > r->len - r->pos) return EDDY_ECORRUPT;
    eddy_reader_t sub;
    eddy_reader_init(&sub, r->p + r->pos, (size_t)len);
    char msg[512];
    eddy_learner_t *m = eddy_learner_load(&sub, l->schema, msg, sizeof msg);
    if (!m) return EDDY_ECORRUPT;
    if (m->type != s->m[i]->type) {
      eddy_learner_free(m);
      return EDDY_ECORRUPT;
    }
    eddy_learner_free(s->m[i]);
    s->m[i] = m;
    r->pos += (size_t)len;
  }
  uint64_t head = eddy_read_u64(r), filled = eddy_read_u64(r);
  uint32_t best = eddy_read_u32(r);
  if (r->err) return r->err;
  if (head >= s->window || filled > s->window || (filled < s->window && head != filled) || best >= s->n)
    return EDDY_ECORRUPT;
  eddy_read_f64s(r, s->ring, s->n * s->window);
  eddy_read_f64s(r, s->sum, s->n);
  if (r->err) return r->err;
  for (size_t i = 0; i < s->n * s->window; i++)
    if (!(s->ring[i] >= 0) || isinf(s->ring[i])) return EDDY_ECORRUPT;
  for (size_t i = 0; i < s->n; i++)
    if (!(s->sum[i] >= -1e-6) || isinf(s->sum[i])) return EDDY_ECORRUPT;
  s->head = (size_t)head;
  s->filled = (size_t)filled;
  s->best = (int)best;
  s->last_valid = 0;
  return 0;
}

static size_t ms_memory(const eddy_learner_t *l) {
  const ms_t *s = l->state;
  size_t m = sizeof *s + s->n * (s->cap * sizeof *s->pred + sizeof *s->k + s->window * sizeof *s->ring +
                                 sizeof *s->sum);
  m += s->last_cap * (sizeof *s->last_x + 1 + sizeof *s->last_h);
  for (size_t i = 0; i < s->n; i++) m += eddy_learner_memory(s->m[i]) + strlen(s->names[i]) + 1;
  return m;
}

static void ms_destroy(eddy_learner_t *l) { ms_free_all(l->state); }

static const char *ms_served(const eddy_learner_t *l) {
  const ms_t *s = l->state;
  return s->n ? s->names[s->best] : NULL;
}

/* The importance of the candidate that answered the last prediction (none
 * when it has none, e.g. a linear model). */
static int ms_importance(const eddy_learner_t *l, double *gain, double *splits, size_t n_attrs) {
  const ms_t *s = l->state;
  return s->n ? eddy_learner_importance(s->m[s->best], gain, splits, n_attrs) : EDDY_ENOTSUP;
}

static void ms_describe(const eddy_learner_t *l, FILE *out) {
  const ms_params_t *p = l->params;
  const ms_t *s = l->state;
  int reg = l->schema->task == EDDY_REGRESSION;
  fprintf(out, "model_selection: %zu candidates, %s over the last %zu (of window %lld); answering: %s\n", s->n,
          reg ? "mean absolute error" : ms_metrics[p->metric], s->filled, (long long)p->window, s->names[s->best]);
  for (size_t i = 0; i < s->n; i++) {
    double v = s->filled ? s->sum[i] / (double)s->filled : NAN;
    if (!reg && p->metric == MS_ACCURACY) v = 1 - v;
    fprintf(out, "  candidate %zu: %s, windowed %s %.6f\n", i, s->names[i],
            reg ? "mae" : ms_metrics[p->metric], v);
  }
}

const eddy_learner_type_t eddy_learner_model_selection = {
    .name = "model_selection",
    .description = "candidates learn every record; the one with the best windowed metric answers",
    .tasks = EDDY_CLASSIFICATION | EDDY_REGRESSION,
    .options = ms_options,
    .params_size = sizeof(ms_params_t),
    .state_size = sizeof(ms_t),
    .init = ms_init,
    .predict = ms_predict,
    .learn = ms_learn,
    .reset = ms_reset,
    .save = ms_save,
    .load = ms_load,
    .memory = ms_memory,
    .destroy = ms_destroy,
    .describe = ms_describe,
    .pass_prefix = ".",
    .served = ms_served,
    .importance = ms_importance,
};
