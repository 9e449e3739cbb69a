/* json.c: JSON text out of eddy's buffers: strings (UTF-8 checked) and
 * numbers in their shortest exact form. Outputs, alerts and model exports
 * write JSON by hand into reused buffers with these. */
#include <math.h>

#include "core/core.h"

int eddy_utf8_valid(const void *p, size_t len) {
  const unsigned char *s = p, *end = s + len;
  while (s < end) {
    unsigned c = *s;
    if (c < 0x80) {
      s++;
      continue;
    }
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (!n || c > 0xF4 || (size_t)(end - s) < n) return 0;
    for (size_t i = 1; i < n; i++)
      if ((s[i] & 0xC0) != 0x80) return 0;
    if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F) || (c == 0xF0 && s[1] < 0x90) ||
        (c == 0xF4 && s[1] > 0x8F))
      return 0;
    s += n;
  }
  return 1;
}

static const char hexdigits[] = "0123456789abcdef";

static inline int plain(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

void eddy_json_string(eddy_buf_t *b, const char *s, size_t len) {
  if (eddy_buf_reserve(b, len + 2)) return;
  const unsigned char *p = (const unsigned char *)s, *end = p + len;
  /* The usual string (class names, topics): nothing to escape, one copy. */
  const unsigned char *q = p;
  while (q < end && plain(*q)) q++;
  if (q == end) {
    uint8_t *o = b->data + b->len;
    o[0] = '"';
    if (len) memcpy(o + 1, s, len);
    o[len + 1] = '"';
    b->len += len + 2;
    return;
  }
  eddy_buf_put_u8(b, '"');
  while (p < end) {
    /* Runs of plain bytes in one copy. */
    q = p;
    while (q < end && plain(*q)) q++;
    if (q > p) {
      eddy_buf_put(b, p, (size_t)(q - p));
      p = q;
      continue;
    }
    unsigned c = *p;
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      eddy_buf_put(b, e, 2);
      p++;
    } else if (c < 0x20) {
      char e[6] = {'\\', 'u', '0', '0', hexdigits[c >> 4], hexdigits[c & 15]};
      eddy_buf_put(b, e, 6);
      p++;
    } else {
      size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
      if ((size_t)(end - p) >= n && eddy_utf8_valid(p, n)) {
        eddy_buf_put(b, p, n);
        p += n;
      } else {
        char e[6] = {'\\', 'u', '0', '0', hexdigits[c >> 4], hexdigits[c & 15]};
        eddy_buf_put(b, e, 6);
        p++;
      }
    }
  }
  eddy_buf_put_u8(b, '"');
}

void eddy_json_double(eddy_buf_t *b, double v) {
  char s[40];
  if (!isfinite(v)) {
    eddy_buf_put(b, "null", 4);
    return;
  }
  int n = eddy_fmt_double(s, sizeof s, v);
  eddy_buf_put(b, s, (size_t)n);
}
