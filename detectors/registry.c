/* registry.c: every drift detector type, by the name configs use. One line
 * per detector; the reference and `eddy detect` list them in this order:
 * error-stream detectors, then data-drift checks. */
#include "detectors/detectors.h"

extern const eddy_detector_type_t eddy_detector_adwin, eddy_detector_ddm, eddy_detector_eddm,
    eddy_detector_page_hinkley, eddy_detector_hddm_a, eddy_detector_hddm_w, eddy_detector_kswin,
    eddy_detector_psi, eddy_detector_ks;

const eddy_detector_type_t *const eddy_detector_types[] = {
    &eddy_detector_adwin,
    &eddy_detector_ddm,
    &eddy_detector_eddm,
    &eddy_detector_page_hinkley,
    &eddy_detector_hddm_a,
    &eddy_detector_hddm_w,
    &eddy_detector_kswin,
    &eddy_detector_psi,
    &eddy_detector_ks,
    NULL,
};
