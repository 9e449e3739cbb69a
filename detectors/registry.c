/* registry.c: every drift detector type, by the name configs use. One line
 * per detector; keep the order of DESIGN.md. */
#include "detectors.h"

extern const eddy_detector_type_t eddy_detector_adwin;

const eddy_detector_type_t *const eddy_detector_types[] = {
    &eddy_detector_adwin,
    NULL,
};
