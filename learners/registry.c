/* registry.c: every learner type, by the name configs use. One line per
 * learner; keep the order of DESIGN.md. */
#include "learners.h"

extern const eddy_learner_type_t eddy_learner_naive_bayes;

const eddy_learner_type_t *const eddy_learner_types[] = {
    &eddy_learner_majority,
    &eddy_learner_no_change,
    &eddy_learner_logistic_regression,
    &eddy_learner_softmax_regression,
    &eddy_learner_linear_regression,
    &eddy_learner_linear_svm,
    &eddy_learner_perceptron,
    &eddy_learner_passive_aggressive,
    &eddy_learner_naive_bayes,
    NULL,
};
