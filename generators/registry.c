/* registry.c: every generator type, by the name `eddy gen` uses. One line
 * per generator; `eddy gen` lists them in this order. */
#include "generators.h"

const eddy_generator_type_t *const eddy_generator_types[] = {
    &eddy_generator_sea,
    &eddy_generator_agrawal,
    &eddy_generator_hyperplane,
    &eddy_generator_rbf,
    &eddy_generator_stagger,
    NULL,
};
