/* linear_softmax.c: softmax_regression, multinomial logistic regression
 * trained online on the cross-entropy (River's SoftmaxRegression, plus an
 * intercept per class that River's lacks: set intercept = false for
 * River's model). Classes appear online: a class gets its weight vector
 * when its index first arrives in learn, and until then its probability is
 * 0. As in River, the event that brings a new class computes the softmax
 * over the classes seen before it, the new class's probability being 0. */
#include <math.h>

#include "learners/linear/linear.h"

static const eddy_option_t options[] = {
    EDDY_LINEAR_OPTIONS(eddy_linear_opts_t, , "0.01", "0.01",
                        "learning rate (ftrl: alpha); 0 = the optimizer's River default: sgd "
                        "0.01 (River's SoftmaxRegression), adagrad, rmsprop, adam 0.1, ftrl "
                        "0.05, vw 0.5 (VW's -l)",
                        "0", "L2 penalty (River's default 0); with ftrl, FTRL's lambda_2"),
    EDDY_LINEAR_CLASS_WEIGHT(eddy_linear_opts_t, ),
    EDDY_OPT_END,
};

static int softmax_init(eddy_learner_t *l, char *errstr, size_t errstr_size) {
  return eddy_linear_init(l->state, l->schema, l->params, 0, 0.01, errstr, errstr_size);
}

static int softmax_predict(eddy_learner_t *l, const eddy_instance_t *x, double *out,
                           size_t out_len) {
  eddy_linear_t *m = l->state;
  size_t n = eddy_schema_n_classes(l->schema);
  if (out_len < n || out_len < m->n_out) return EDDY_ENOSPC;
  int err = eddy_linear_encode(m, x, 0);
  if (err) return err;
  size_t n_out = m->n_out < n ? m->n_out : n; /* n_out <= n: class indices come from the schema */
  double tot;
  const double *e = eddy_linear_softmax_exps(m, &tot);
  double inv = tot > 0 ? 1.0 / tot : 0.0;
  for (size_t k = 0; k < n; k++) out[k] = k < n_out ? e[k] * inv : 0.0;
  return (int)n;
}

static int softmax_learn(eddy_learner_t *l, const eddy_instance_t *x) {
  eddy_linear_t *m = l->state;
  if (!x->has_y || !(x->y >= 0)) return EDDY_EINVAL;
  size_t c = (size_t)x->y;
  if (c >= m->n_out && eddy_linear_grow(m, c + 1)) return EDDY_ENOMEM;
  int err = eddy_linear_encode(m, x, 1);
  if (err) return err;
  double cw = eddy_linear_class_weight(m, l->schema, c);
  if (cw < 0) return EDDY_ENOMEM;
  size_t n = m->n_out;
  double tot;
  const double *e = eddy_linear_softmax_exps(m, &tot);
  eddy_linear_begin(m, cw * x->weight);
  for (size_t k = 0; k < n; k++) {
    if (m->seen[k])
      eddy_linear_update(m, k, e[k] / tot - (k == c));
    else if (k == c)
      eddy_linear_update(m, k, -1.0);
  }
  m->seen[c] = 1;
  return 0;
}

const eddy_learner_type_t eddy_learner_softmax_regression = {
    .name = "softmax_regression",
    .description = "multinomial logistic (softmax) regression, online; classes appear online",
    .tasks = EDDY_CLASSIFICATION,
    .options = options,
    .params_size = sizeof(eddy_linear_opts_t),
    .state_size = sizeof(eddy_linear_t),
    .init = softmax_init,
    .predict = softmax_predict,
    .learn = softmax_learn,
    .reset = eddy_linear_learner_reset,
    .save = eddy_linear_learner_save,
    .load = eddy_linear_learner_load,
    .memory = eddy_linear_learner_memory,
    .destroy = eddy_linear_learner_destroy,
    .export_json = eddy_linear_export,
    .describe = eddy_linear_learner_describe,
};
