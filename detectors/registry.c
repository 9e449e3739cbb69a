/* registry.c: every drift detector type, by the name configs use. One line
 * per detector; keep the order of DESIGN.md. */
#include "detectors.h"

const eddy_detector_type_t *const eddy_detector_types[] = {
    NULL,
};
