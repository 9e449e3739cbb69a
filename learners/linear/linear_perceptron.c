/* linear_perceptron.c: perceptron, Rosenblatt's binary perceptron as River
 * and scikit-learn define it: the hinge loss with threshold 0, plain SGD at
 * rate 1, intercept rate 1, no penalty (River's Perceptron, scikit-learn's
 * Perceptron). Probabilities are sigmoid(margin), as River's. */
#include "learners/linear/linear.h"

static const eddy_option_t options[] = {
    EDDY_LINEAR_OPTIONS(eddy_linear_opts_t, , "1", "1",
                        "learning rate (ftrl: alpha); 0 = the optimizer's default: sgd 1 "
                        "(River's Perceptron, scikit-learn's eta0), adagrad, rmsprop, adam 0.1, "
                        "ftrl 0.05, vw 0.5",
                        "0", "L2 penalty (River's default 0); with ftrl, FTRL's lambda_2"),
    EDDY_LINEAR_CLASS_WEIGHT(eddy_linear_opts_t, ),
    EDDY_OPT_END,
};

static int perceptron_init(eddy_learner_t *l, char *errstr, size_t errstr_size) {
  return eddy_linear_init(l->state, l->schema, l->params, 1, 1.0, errstr, errstr_size);
}

static int perceptron_learn(eddy_learner_t *l, const eddy_instance_t *x) {
  eddy_linear_t *m = l->state;
  int pos;
  double cw;
  int err = eddy_linear_binary_prepare(l, x, &pos, &cw);
  if (err) return err;
  double y = pos ? 1.0 : -1.0, z = eddy_linear_scores(m)[0];
  eddy_linear_begin(m, cw * x->weight);
  eddy_linear_update(m, 0, y * z <= 0.0 ? -y : 0.0); /* Hinge(threshold 0) */
  m->seen[0] = 1;
  return 0;
}

const eddy_learner_type_t eddy_learner_perceptron = {
    .name = "perceptron",
    .description = "binary perceptron, online",
    .tasks = EDDY_CLASSIFICATION,
    .options = options,
    .params_size = sizeof(eddy_linear_opts_t),
    .state_size = sizeof(eddy_linear_t),
    .init = perceptron_init,
    .predict = eddy_linear_predict_binary,
    .learn = perceptron_learn,
    .reset = eddy_linear_learner_reset,
    .save = eddy_linear_learner_save,
    .load = eddy_linear_learner_load,
    .memory = eddy_linear_learner_memory,
    .destroy = eddy_linear_learner_destroy,
    .export_json = eddy_linear_export,
    .describe = eddy_linear_learner_describe,
};
