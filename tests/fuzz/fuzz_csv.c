/* fuzz_csv.c: the CSV decoder (RFC 4180 quoting, eddy_csv_split, field
 * values into records) and CSV headers as `eddy eval` reads them; see
 * fuzz_lines.h for what each input goes through. Seeds: corpus/csv/. */
#include "fuzz_lines.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_lines(EDDY_FORMAT_CSV, data, size);
  return 0;
}
