/* linear_regression.c: linear_regression, least squares trained online
 * (River's LinearRegression: loss (y - z)^2, whose derivative 2 (z - y) is
 * twice scikit-learn's SGDRegressor half squared error: the same model with
 * learning rates halved). */
#include <math.h>

#include "learners/linear/linear.h"

static const eddy_option_t options[] = {
    EDDY_LINEAR_OPTIONS(eddy_linear_opts_t, , "0.01", "0.01",
                        "learning rate (ftrl: alpha); 0 = the optimizer's River default: sgd "
                        "0.01 (River's LinearRegression), adagrad, rmsprop, adam 0.1, ftrl "
                        "0.05, vw 0.5 (VW's -l)",
                        "0", "L2 penalty (River's default 0); with ftrl, FTRL's lambda_2"),
    EDDY_OPT_END,
};

static int linreg_init(eddy_learner_t *l, char *errstr, size_t errstr_size) {
  return eddy_linear_init(l->state, l->schema, l->params, 1, 0.01, errstr, errstr_size);
}

static int linreg_predict(eddy_learner_t *l, const eddy_instance_t *x, double *out,
                          size_t out_len) {
  eddy_linear_t *m = l->state;
  if (out_len < 1) return EDDY_ENOSPC;
  int err = eddy_linear_encode(m, x, 0);
  if (err) return err;
  out[0] = eddy_linear_scores(m)[0];
  return 1;
}

static int linreg_learn(eddy_learner_t *l, const eddy_instance_t *x) {
  eddy_linear_t *m = l->state;
  if (!x->has_y || !isfinite(x->y)) return EDDY_EINVAL;
  int err = eddy_linear_encode(m, x, 1);
  if (err) return err;
  double z = eddy_linear_scores(m)[0];
  eddy_linear_begin(m, x->weight);
  eddy_linear_update(m, 0, 2.0 * (z - x->y));
  m->seen[0] = 1;
  return 0;
}

const eddy_learner_type_t eddy_learner_linear_regression = {
    .name = "linear_regression",
    .description = "linear least-squares regression, online",
    .tasks = EDDY_REGRESSION,
    .options = options,
    .params_size = sizeof(eddy_linear_opts_t),
    .state_size = sizeof(eddy_linear_t),
    .init = linreg_init,
    .predict = linreg_predict,
    .learn = linreg_learn,
    .reset = eddy_linear_learner_reset,
    .save = eddy_linear_learner_save,
    .load = eddy_linear_learner_load,
    .memory = eddy_linear_learner_memory,
    .destroy = eddy_linear_learner_destroy,
    .export_json = eddy_linear_export,
    .describe = eddy_linear_learner_describe,
};
