/* linear_logistic.c: logistic_regression, binary logistic regression
 * trained online (River's LogisticRegression; with optimizer = sgd it is
 * scikit-learn's SGDClassifier(loss='log_loss') step for step). Class index
 * 1 is the positive class; a third class is refused. */
#include <math.h>

#include "learners/linear/linear.h"

static const eddy_option_t options[] = {
    EDDY_LINEAR_OPTIONS(eddy_linear_opts_t, , "0.01", "0.01",
                        "learning rate (ftrl: alpha); 0 = the optimizer's River default: sgd "
                        "0.01 (River's LogisticRegression), adagrad, rmsprop, adam 0.1, ftrl "
                        "0.05, vw 0.5 (VW's -l)",
                        "0", "L2 penalty (River's default 0); with ftrl, FTRL's lambda_2"),
    EDDY_LINEAR_CLASS_WEIGHT(eddy_linear_opts_t, ),
    EDDY_OPT_END,
};

static int logreg_init(eddy_learner_t *l, char *errstr, size_t errstr_size) {
  return eddy_linear_init(l->state, l->schema, l->params, 1, 0.01, errstr, errstr_size);
}

static int logreg_learn(eddy_learner_t *l, const eddy_instance_t *x) {
  eddy_linear_t *m = l->state;
  int pos;
  double cw;
  int err = eddy_linear_binary_prepare(l, x, &pos, &cw);
  if (err) return err;
  double z = eddy_linear_scores(m)[0], y = pos, dloss;
  /* sigmoid(z) - y as scikit-learn's cgradient_half_binomial computes it */
  if (z > -37) {
    double e = eddy_linear_exp_neg0(m); /* exp(-z), maybe from predict */
    dloss = ((1 - y) - y * e) / (1 + e);
  } else {
    dloss = exp(z) - y;
  }
  eddy_linear_begin(m, cw * x->weight);
  eddy_linear_update(m, 0, dloss);
  m->seen[0] = 1;
  return 0;
}

const eddy_learner_type_t eddy_learner_logistic_regression = {
    .name = "logistic_regression",
    .description = "binary logistic regression, online (SGD, AdaGrad, RMSProp, Adam, FTRL, VW)",
    .tasks = EDDY_CLASSIFICATION,
    .options = options,
    .params_size = sizeof(eddy_linear_opts_t),
    .state_size = sizeof(eddy_linear_t),
    .init = logreg_init,
    .predict = eddy_linear_predict_binary,
    .learn = logreg_learn,
    .reset = eddy_linear_learner_reset,
    .save = eddy_linear_learner_save,
    .load = eddy_linear_learner_load,
    .memory = eddy_linear_learner_memory,
    .destroy = eddy_linear_learner_destroy,
    .export_json = eddy_linear_export,
    .describe = eddy_linear_learner_describe,
};
