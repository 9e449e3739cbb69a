/* evaluator.c: prequential metrics (cumulative and windowed) for `eddy
 * eval` and the stream processor's /metrics. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/config/config.h"
#include "engine/model/model.h"

#define AUC_BINS 10000
#define EPS 1e-15

typedef struct {
  uint32_t y, yhat;
  double p_true; /* normalised probability of the true class (log loss) */
  double score;  /* normalised probability of class 1 (AUC) */
  double value, pred; /* regression */
} slot_t;

/* Confusion counts with a stride that grows when classes appear. */
typedef struct {
  uint64_t *m;
  size_t k, stride;
  uint64_t n, correct;
  double log_loss;
} confusion_t;

struct eddy_evaluator {
  eddy_task_t task;
  size_t window;
  slot_t *ring;
  size_t head, filled;
  confusion_t all, win;
  uint64_t *auc_pos, *auc_neg; /* cumulative score histograms */
  /* regression, cumulative */
  uint64_t n;
  double abs_err, sq_err, mean_y, m2_y;
};

static int confusion_fit(confusion_t *c, size_t k) {
  if (k <= c->stride) {
    if (k > c->k) c->k = k;
    return 0;
  }
  size_t stride = c->stride ? c->stride : 4;
  while (stride < k) stride *= 2;
  uint64_t *m = calloc(stride * stride, sizeof *m);
  if (!m) return EDDY_ENOMEM;
  for (size_t i = 0; i < c->k; i++) memcpy(m + i * stride, c->m + i * c->stride, c->k * sizeof *m);
  free(c->m);
  c->m = m;
  c->stride = stride;
  c->k = k;
  return 0;
}

eddy_evaluator_t *eddy_evaluator_new(eddy_task_t task, size_t window) {
  eddy_evaluator_t *e = calloc(1, sizeof *e);
  if (!e) return NULL;
  e->task = task;
  e->window = window ? window : 1;
  e->ring = calloc(e->window, sizeof *e->ring);
  if (task == EDDY_CLASSIFICATION) {
    e->auc_pos = calloc(AUC_BINS + 1, sizeof *e->auc_pos);
    e->auc_neg = calloc(AUC_BINS + 1, sizeof *e->auc_neg);
  }
  if (!e->ring || (task == EDDY_CLASSIFICATION && (!e->auc_pos || !e->auc_neg ||
                                                    confusion_fit(&e->all, 2) || confusion_fit(&e->win, 2)))) {
    eddy_evaluator_free(e);
    return NULL;
  }
  return e;
}

void eddy_evaluator_free(eddy_evaluator_t *e) {
  if (!e) return;
  free(e->ring);
  free(e->all.m);
  free(e->win.m);
  free(e->auc_pos);
  free(e->auc_neg);
  free(e);
}

void eddy_evaluator_reset(eddy_evaluator_t *e) {
  e->head = e->filled = 0;
  for (confusion_t *c = &e->all; c; c = c == &e->all ? &e->win : NULL) {
    if (c->m) memset(c->m, 0, c->stride * c->stride * sizeof *c->m);
    c->n = c->correct = 0;
    c->log_loss = 0;
  }
  if (e->auc_pos) {
    memset(e->auc_pos, 0, (AUC_BINS + 1) * sizeof *e->auc_pos);
    memset(e->auc_neg, 0, (AUC_BINS + 1) * sizeof *e->auc_neg);
  }
  e->n = 0;
  e->abs_err = e->sq_err = e->mean_y = e->m2_y = 0;
}

static void confusion_add(confusion_t *c, const slot_t *s, int sign) {
  c->m[s->y * c->stride + s->yhat] += (uint64_t)(int64_t)sign;
  c->n += (uint64_t)(int64_t)sign;
  c->correct += (uint64_t)(int64_t)(sign * (s->y == s->yhat));
  c->log_loss += sign * -log(s->p_true);
}

int eddy_evaluator_add(eddy_evaluator_t *e, const double *pred, size_t k, double y) {
  slot_t s = {0};
  if (e->task == EDDY_REGRESSION) {
    s.value = y;
    s.pred = k ? pred[0] : 0.0;
    double err = s.pred - y;
    e->n++;
    e->abs_err += fabs(err);
    e->sq_err += err * err;
    double d = y - e->mean_y;
    e->mean_y += d / (double)e->n;
    e->m2_y += d * (y - e->mean_y);
  } else {
    size_t yi = (size_t)y;
    size_t need = (yi + 1 > k ? yi + 1 : k);
    if (confusion_fit(&e->all, need) || confusion_fit(&e->win, need)) return EDDY_ENOMEM;
    double sum = 0;
    for (size_t c = 0; c < k; c++) sum += pred[c] > 0 ? pred[c] : 0;
    s.y = (uint32_t)yi;
    s.yhat = (uint32_t)eddy_argmax(pred, k);
    double p = sum > 0 ? (yi < k && pred[yi] > 0 ? pred[yi] / sum : 0) : 1.0 / (double)(k ? k : 1);
    s.p_true = p < EPS ? EPS : p > 1 ? 1 : p;
    double sc = sum > 0 && k > 1 && pred[1] > 0 ? pred[1] / sum : (sum > 0 ? 0 : 0.5);
    s.score = sc;
    confusion_add(&e->all, &s, 1);
    size_t bin = (size_t)(sc * AUC_BINS);
    if (bin > AUC_BINS) bin = AUC_BINS;
    if (yi == 1)
      e->auc_pos[bin]++;
    else
      e->auc_neg[bin]++;
  }
  /* The window: evict the oldest, keep the newest. */
  if (e->filled == e->window) {
    if (e->task == EDDY_CLASSIFICATION) confusion_add(&e->win, &e->ring[e->head], -1);
  } else {
    e->filled++;
  }
  e->ring[e->head] = s;
  if (e->task == EDDY_CLASSIFICATION) confusion_add(&e->win, &s, 1);
  e->head = (e->head + 1) % e->window;
  return 0;
}

static void class_metrics(const confusion_t *c, eddy_metrics_t *m) {
  m->n = c->n;
  if (!c->n) {
    m->accuracy = m->kappa = m->log_loss = m->f1_macro = NAN;
    return;
  }
  double n = (double)c->n;
  m->accuracy = (double)c->correct / n;
  m->log_loss = c->log_loss / n;
  double pc = 0, f1 = 0;
  int classes = 0;
  for (size_t i = 0; i < c->k; i++) {
    uint64_t row = 0, col = 0;
    for (size_t j = 0; j < c->k; j++) {
      row += c->m[i * c->stride + j];
      col += c->m[j * c->stride + i];
    }
    pc += ((double)row / n) * ((double)col / n);
    if (row || col) {
      double tp = (double)c->m[i * c->stride + i];
      double prec = col ? tp / (double)col : 0, rec = row ? tp / (double)row : 0;
      f1 += prec + rec > 0 ? 2 * prec * rec / (prec + rec) : 0;
      classes++;
    }
  }
  m->kappa = pc < 1 ? (m->accuracy - pc) / (1 - pc) : 0;
  m->f1_macro = classes ? f1 / classes : NAN;
}

static int cmp_score(const void *a, const void *b) {
  double x = ((const slot_t *)a)->score, y = ((const slot_t *)b)->score;
  return x < y ? -1 : x > y;
}

void eddy_evaluator_cumulative(const eddy_evaluator_t *e, eddy_metrics_t *m) {
  memset(m, 0, sizeof *m);
  m->auc = NAN;
  if (e->task == EDDY_REGRESSION) {
    m->n = e->n;
    if (!e->n) {
      m->mae = m->rmse = m->r2 = NAN;
      return;
    }
    m->mae = e->abs_err / (double)e->n;
    m->rmse = sqrt(e->sq_err / (double)e->n);
    m->r2 = e->m2_y > 0 ? 1 - e->sq_err / e->m2_y : 0;
    return;
  }
  class_metrics(&e->all, m);
  if (e->all.k == 2) {
    /* Pairs (positive, negative) ordered right, ties in a bin count half. */
    double neg_below = 0, sum = 0, pos = 0, neg = 0;
    for (size_t b = 0; b <= AUC_BINS; b++) {
      sum += (double)e->auc_pos[b] * (neg_below + 0.5 * (double)e->auc_neg[b]);
      neg_below += (double)e->auc_neg[b];
      pos += (double)e->auc_pos[b];
    }
    neg = neg_below;
    m->auc = pos > 0 && neg > 0 ? sum / (pos * neg) : NAN;
  }
}

void eddy_evaluator_windowed(const eddy_evaluator_t *e, eddy_metrics_t *m) {
  memset(m, 0, sizeof *m);
  m->auc = NAN;
  size_t n = e->filled;
  if (e->task == EDDY_REGRESSION) {
    m->n = n;
    if (!n) {
      m->mae = m->rmse = m->r2 = NAN;
      return;
    }
    double ae = 0, se = 0, mean = 0, m2 = 0;
    for (size_t i = 0; i < n; i++) {
      const slot_t *s = &e->ring[i];
      double err = s->pred - s->value;
      ae += fabs(err);
      se += err * err;
      double d = s->value - mean;
      mean += d / (double)(i + 1);
      m2 += d * (s->value - mean);
    }
    m->mae = ae / (double)n;
    m->rmse = sqrt(se / (double)n);
    m->r2 = m2 > 0 ? 1 - se / m2 : 0;
    return;
  }
  class_metrics(&e->win, m);
  if (e->win.k == 2 && n > 1) {
    /* Exact windowed AUC: rank-sum over the window sorted by score. This
     * allocates, but only when metrics are reported, never per record. */
    slot_t *v = malloc(n * sizeof *v);
    if (!v) return;
    memcpy(v, e->ring, n * sizeof *v);
    qsort(v, n, sizeof *v, cmp_score);
    double rank_sum = 0, pos = 0;
    for (size_t i = 0; i < n;) {
      size_t j = i;
      while (j < n && v[j].score == v[i].score) j++;
      double avg = (double)(i + j + 1) / 2.0; /* mean of ranks i+1 .. j */
      for (size_t t = i; t < j; t++)
        if (v[t].y == 1) {
          rank_sum += avg;
          pos++;
        }
      i = j;
    }
    double neg = (double)n - pos;
    m->auc = pos > 0 && neg > 0 ? (rank_sum - pos * (pos + 1) / 2) / (pos * neg) : NAN;
    free(v);
  }
}

const uint64_t *eddy_evaluator_confusion(const eddy_evaluator_t *e, size_t *k, size_t *stride) {
  *k = e->all.k;
  *stride = e->all.stride;
  return e->all.m;
}
