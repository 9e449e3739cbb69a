/* learners/bayes/bayes.h: read-only access to naive Bayes' statistics,
 * for tests and model inspection. */
#ifndef EDDY_BAYES_H
#define EDDY_BAYES_H

#include "learners/learners.h"


/* The weight learned for class c (0 for a class without a slot yet), or a
 * negative code when l is not a naive_bayes learner. */
double eddy_naive_bayes_class_weight(const eddy_learner_t *l, size_t c);

/* The Gaussian of numeric attribute attr (schema index) for class c: the
 * weight of its non-missing values, their mean, and the variance the
 * model uses (sample or population as configured, plus the var_smoothing
 * epsilon). Returns 0, EDDY_EINVAL (not naive_bayes, or attr not numeric)
 * or EDDY_ERANGE (no such class slot). */
int eddy_naive_bayes_gaussian(const eddy_learner_t *l, size_t c, size_t attr, double *weight,
                              double *mean, double *var);

/* The var_smoothing epsilon in use (var_smoothing times the largest
 * population variance of a numeric attribute over all rows learned). */
double eddy_naive_bayes_epsilon(const eddy_learner_t *l);

#endif /* EDDY_BAYES_H */
