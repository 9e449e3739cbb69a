/* linear_pa.c: passive_aggressive, the online passive-aggressive algorithms
 * of Crammer et al. (2006): classification on the hinge loss (binary, class
 * index 1 positive) and regression on the epsilon-insensitive loss, by the
 * schema's task. Modes: pa (tau = loss / |x|^2), pa1 (PA-I, min(C, ...)),
 * pa2 (PA-II, loss / (|x|^2 + 1/(2C))), as River's PAClassifier and
 * PARegressor (mode 0, 1, 2); pa1 is scikit-learn's PassiveAggressive*
 * with loss='hinge' / 'epsilon_insensitive' step for step. (scikit-learn's
 * PA-II puts the squared loss in the numerator; this one, as the paper and
 * River, the plain loss.) The intercept is updated by the same step, |x|^2
 * not counting it. Probabilities are sigmoid(margin), as River's. */
#include <math.h>

#include "learners/linear/linear.h"

typedef struct {
  eddy_linear_opts_t lin;
  double C;
  int mode;
  double eps;
} pa_params_t;

enum { PA0, PA1, PA2 };
static const char *const modes[] = {"pa", "pa1", "pa2", NULL};

static const eddy_option_t options[] = {
    EDDY_OPT_DOUBLE_(pa_params_t, "c", C, "1", 0, 1e300,
                     "aggressiveness C: the largest step of PA-I, the slack cost of PA-II "
                     "(River's and scikit-learn's C, default 1)"),
    EDDY_OPT_ENUM_(pa_params_t, "mode", mode, "pa1", modes,
                   "pa, pa1 (PA-I, River's default mode 1) or pa2 (PA-II)"),
    EDDY_OPT_DOUBLE_(pa_params_t, "eps", eps, "0.1", 0, 1e300,
                     "regression: the epsilon-insensitive margin (River's default 0.1)"),
    EDDY_OPT_BOOL_(pa_params_t, "intercept", lin.intercept, "true",
                   "learn an intercept (River's learn_intercept)"),
    EDDY_LINEAR_FEATURE_OPTIONS(pa_params_t, lin.),
    EDDY_LINEAR_CLASS_WEIGHT(pa_params_t, lin.),
    EDDY_OPT_END,
};

static int pa_init(eddy_learner_t *l, char *errstr, size_t errstr_size) {
  pa_params_t *p = l->params;
  if (l->schema->task == EDDY_REGRESSION && p->lin.class_weight[0])
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL,
                       "key 'class_weight': passive_aggressive regression has no classes");
  return eddy_linear_init(l->state, l->schema, &p->lin, 1, 1.0, errstr, errstr_size);
}

static int pa_predict(eddy_learner_t *l, const eddy_instance_t *x, double *out,
                      size_t out_len) {
  eddy_linear_t *m = l->state;
  if (l->schema->task == EDDY_CLASSIFICATION) return eddy_linear_predict_binary(l, x, out, out_len);
  if (out_len < 1) return EDDY_ENOSPC;
  int err = eddy_linear_encode(m, x, 0);
  if (err) return err;
  out[0] = eddy_linear_scores(m)[0];
  return 1;
}

static int pa_learn(eddy_learner_t *l, const eddy_instance_t *x) {
  eddy_linear_t *m = l->state;
  const pa_params_t *p = l->params;
  double sign, loss, cw = 1.0;
  int err;
  if (l->schema->task == EDDY_CLASSIFICATION) {
    int pos;
    if ((err = eddy_linear_binary_prepare(l, x, &pos, &cw))) return err;
    sign = pos ? 1.0 : -1.0;
    double z = sign * eddy_linear_scores(m)[0];
    loss = z <= 1.0 ? 1.0 - z : 0.0;
  } else {
    if (!x->has_y || !isfinite(x->y)) return EDDY_EINVAL;
    err = eddy_linear_encode(m, x, 1);
    if (err) return err;
    double r = x->y - eddy_linear_scores(m)[0];
    sign = r < 0 ? -1.0 : 1.0;
    loss = fabs(r) - p->eps;
    if (loss < 0) loss = 0;
  }
  m->t++;
  m->seen[0] = 1;
  double sq = eddy_linear_sqnorm(m), tau;
  if (p->mode == PA2) {
    tau = loss / (sq + 0.5 / p->C);
  } else {
    if (sq == 0) return 0;
    tau = loss / sq;
    if (p->mode == PA1 && tau > p->C) tau = p->C;
  }
  double step = tau * sign;
  step *= cw * x->weight;
  if (step != 0) eddy_linear_add(m, 0, step);
  return 0;
}

const eddy_learner_type_t eddy_learner_passive_aggressive = {
    .name = "passive_aggressive",
    .description = "passive-aggressive (PA, PA-I, PA-II) classification and regression, online",
    .tasks = EDDY_CLASSIFICATION | EDDY_REGRESSION,
    .options = options,
    .params_size = sizeof(pa_params_t),
    .state_size = sizeof(eddy_linear_t),
    .init = pa_init,
    .predict = pa_predict,
    .learn = pa_learn,
    .reset = eddy_linear_learner_reset,
    .save = eddy_linear_learner_save,
    .load = eddy_linear_learner_load,
    .memory = eddy_linear_learner_memory,
    .destroy = eddy_linear_learner_destroy,
    .export_json = eddy_linear_export,
    .describe = eddy_linear_learner_describe,
};
