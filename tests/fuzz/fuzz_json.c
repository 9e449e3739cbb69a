/* fuzz_json.c: the JSON decoder (the pull parser: depth bound, UTF-8 and
 * escape validation, skipped values), eddy_json_keys, and JSON records as
 * `eddy eval` reads them; see fuzz_lines.h for what each input goes
 * through. Seeds: corpus/json/; dictionary: json.dict. */
#include "fuzz_lines.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_lines(EDDY_FORMAT_JSON, data, size);
  return 0;
}
