/* registry.c: every learner type, by the name configs use: the one place
 * that names them all. Adding a learner is its file plus one line here (an
 * extern and an entry); the order is the one `eddy config --reference`
 * lists them in: baselines, linear models, naive Bayes, trees, ensembles. */
#include "learners/learners.h"

extern const eddy_learner_type_t eddy_learner_majority;
extern const eddy_learner_type_t eddy_learner_no_change;
extern const eddy_learner_type_t eddy_learner_logistic_regression;
extern const eddy_learner_type_t eddy_learner_softmax_regression;
extern const eddy_learner_type_t eddy_learner_linear_regression;
extern const eddy_learner_type_t eddy_learner_linear_svm;
extern const eddy_learner_type_t eddy_learner_perceptron;
extern const eddy_learner_type_t eddy_learner_passive_aggressive;
extern const eddy_learner_type_t eddy_learner_naive_bayes;
extern const eddy_learner_type_t eddy_learner_hoeffding_tree;
extern const eddy_learner_type_t eddy_learner_hoeffding_adaptive_tree;
extern const eddy_learner_type_t eddy_learner_hoeffding_tree_regressor;
extern const eddy_learner_type_t eddy_learner_efdt;
extern const eddy_learner_type_t eddy_learner_oza_boost;
extern const eddy_learner_type_t eddy_learner_oza_bag;
extern const eddy_learner_type_t eddy_learner_adwin_bagging;
extern const eddy_learner_type_t eddy_learner_leveraging_bagging;
extern const eddy_learner_type_t eddy_learner_adaptive_random_forest;
extern const eddy_learner_type_t eddy_learner_adaptive_random_forest_regressor;
extern const eddy_learner_type_t eddy_learner_streaming_random_patches;
extern const eddy_learner_type_t eddy_learner_half_space_trees;
extern const eddy_learner_type_t eddy_learner_model_selection;

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
    &eddy_learner_hoeffding_tree,
    &eddy_learner_hoeffding_adaptive_tree,
    &eddy_learner_hoeffding_tree_regressor,
    &eddy_learner_efdt,
    &eddy_learner_oza_boost,
    &eddy_learner_oza_bag,
    &eddy_learner_adwin_bagging,
    &eddy_learner_leveraging_bagging,
    &eddy_learner_adaptive_random_forest,
    &eddy_learner_adaptive_random_forest_regressor,
    &eddy_learner_streaming_random_patches,
    &eddy_learner_half_space_trees,
    &eddy_learner_model_selection,
    NULL,
};
