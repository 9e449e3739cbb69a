/* registry.c: every learner type, by the name configs use. One line per
 * learner; keep the order of DESIGN.md. */
#include "learners.h"

extern const eddy_learner_type_t eddy_learner_naive_bayes;

const eddy_learner_type_t *const eddy_learner_types[] = {
    &eddy_learner_majority,
    &eddy_learner_no_change,
    &eddy_learner_naive_bayes,
    NULL,
};
