/* linear_svm.c: linear_svm, a binary linear SVM trained online on the hinge
 * loss max(0, 1 - y z), y in {-1, +1} (scikit-learn's SGDClassifier(
 * loss='hinge'); River has it as LogisticRegression(loss=Hinge())). The
 * probabilities given are sigmoid(margin), as River's linear classifiers. */
#include "learners/linear/linear.h"

static const eddy_option_t options[] = {
    EDDY_LINEAR_OPTIONS(eddy_linear_opts_t, , "0.01", "0.01",
                        "learning rate (ftrl: alpha); 0 = the optimizer's River default: sgd "
                        "0.01 (River's linear models), adagrad, rmsprop, adam 0.1, ftrl 0.05, "
                        "vw 0.5 (VW's -l)",
                        "0.0001",
                        "L2 penalty, the SVM's regularization (scikit-learn's default alpha "
                        "0.0001); with ftrl, FTRL's lambda_2"),
    EDDY_LINEAR_CLASS_WEIGHT(eddy_linear_opts_t, ),
    EDDY_OPT_END,
};

static int svm_init(eddy_learner_t *l, char *errstr, size_t errstr_size) {
  return eddy_linear_init(l->state, l->schema, l->params, 1, 0.01, errstr, errstr_size);
}

static int svm_learn(eddy_learner_t *l, const eddy_instance_t *x) {
  eddy_linear_t *m = l->state;
  int pos;
  double cw;
  int err = eddy_linear_binary_prepare(l, x, &pos, &cw);
  if (err) return err;
  double y = pos ? 1.0 : -1.0, z = eddy_linear_scores(m)[0];
  eddy_linear_begin(m, cw * x->weight);
  eddy_linear_update(m, 0, y * z <= 1.0 ? -y : 0.0); /* as scikit-learn's Hinge(1) */
  m->seen[0] = 1;
  return 0;
}

const eddy_learner_type_t eddy_learner_linear_svm = {
    .name = "linear_svm",
    .description = "binary linear SVM (hinge loss, L2), online",
    .tasks = EDDY_CLASSIFICATION,
    .options = options,
    .params_size = sizeof(eddy_linear_opts_t),
    .state_size = sizeof(eddy_linear_t),
    .init = svm_init,
    .predict = eddy_linear_predict_binary,
    .learn = svm_learn,
    .reset = eddy_linear_learner_reset,
    .save = eddy_linear_learner_save,
    .load = eddy_linear_learner_load,
    .memory = eddy_linear_learner_memory,
    .destroy = eddy_linear_learner_destroy,
    .export_json = eddy_linear_export,
    .describe = eddy_linear_learner_describe,
};
