/* fuzz_decimal.c: eddy_parse_decimal (core/parse.c: Clinger's and the
 * Eisel-Lemire fast paths before strtod), the number parser of the CSV and
 * JSON decoders, differentially against glibc's strtod, as its contract
 * says: when strtod reads all of the input, the same bits (NaN's sign
 * included); when it stops short, EDDY_EPARSE (or EDDY_ENOMEM for a text
 * over 255 bytes that needs strtod). Input: the text. Seeds:
 * corpus/decimal/ (ties, subnormals, 19- and 20-digit mantissas, exponent
 * extremes, hexadecimal, inf, nan). */
#include <errno.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096) return 0;
  char buf[4097];
  memcpy(buf, data, size);
  buf[size] = '\0';
  double got = 0;
  int rc = eddy_parse_decimal((const char *)data, size, &got);
  char *end;
  errno = 0;
  double want = strtod(buf, &end);
  int all = size > 0 && end == buf + size; /* an embedded NUL stops strtod short */
  if (all) {
    if (rc == EDDY_ENOMEM && size > 255) return 0;
    FUZZ_CHECK(rc == 0, "'%.*s': strtod reads it all (%a), eddy_parse_decimal says %d", (int)size, buf,
               want, rc);
    FUZZ_CHECK(memcmp(&got, &want, sizeof got) == 0, "'%.*s': strtod %a, eddy_parse_decimal %a",
               (int)size, buf, want, got);
  } else {
    FUZZ_CHECK(rc != 0, "'%.*s': strtod stops at byte %td, eddy_parse_decimal took it as %a", (int)size,
               buf, end - buf, got);
  }
  return 0;
}
