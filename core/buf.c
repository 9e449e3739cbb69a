/* buf.c: growable write buffer and bounds-checked reader for checkpoints
 * and wire formats; little-endian, sticky errors. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

void eddy_buf_init(eddy_buf_t *b) { memset(b, 0, sizeof *b); }

void eddy_buf_free(eddy_buf_t *b) {
  free(b->data);
  memset(b, 0, sizeof *b);
}

void eddy_buf_clear(eddy_buf_t *b) {
  b->len = 0;
  b->err = 0;
}

int eddy_buf_reserve(eddy_buf_t *b, size_t extra) {
  if (b->err) return b->err;
  if (extra > SIZE_MAX - b->len) return b->err = EDDY_ENOMEM;
  size_t need = b->len + extra;
  if (need <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  uint8_t *p = realloc(b->data, cap);
  if (!p) return b->err = EDDY_ENOMEM;
  b->data = p;
  b->cap = cap;
  return 0;
}

void eddy__buf_put_slow(eddy_buf_t *b, const void *p, size_t n) {
  if (n == 0 || eddy_buf_reserve(b, n)) return;
  memcpy(b->data + b->len, p, n);
  b->len += n;
}

void eddy_buf_put_u16(eddy_buf_t *b, uint16_t v) {
  uint8_t t[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
  eddy_buf_put(b, t, 2);
}

void eddy_buf_put_u32(eddy_buf_t *b, uint32_t v) {
  uint8_t t[4];
  for (int i = 0; i < 4; i++) t[i] = (uint8_t)(v >> (8 * i));
  eddy_buf_put(b, t, 4);
}

void eddy_buf_put_u64(eddy_buf_t *b, uint64_t v) {
  uint8_t t[8];
  for (int i = 0; i < 8; i++) t[i] = (uint8_t)(v >> (8 * i));
  eddy_buf_put(b, t, 8);
}

void eddy_buf_put_i64(eddy_buf_t *b, int64_t v) { eddy_buf_put_u64(b, (uint64_t)v); }

void eddy_buf_put_f64(eddy_buf_t *b, double v) {
  uint64_t u;
  memcpy(&u, &v, 8);
  eddy_buf_put_u64(b, u);
}

void eddy_buf_put_f64s(eddy_buf_t *b, const double *v, size_t n) {
  if (eddy_buf_reserve(b, n * 8)) return;
  for (size_t i = 0; i < n; i++) eddy_buf_put_f64(b, v[i]);
}

void eddy_buf_put_mem(eddy_buf_t *b, const void *p, size_t n) {
  if (n > UINT32_MAX) {
    if (!b->err) b->err = EDDY_ERANGE;
    return;
  }
  eddy_buf_put_u32(b, (uint32_t)n);
  eddy_buf_put(b, p, n);
}

void eddy_buf_put_str(eddy_buf_t *b, const char *s) {
  eddy_buf_put_mem(b, s ? s : "", s ? strlen(s) : 0);
}

void eddy_buf_patch_u32(eddy_buf_t *b, size_t pos, uint32_t v) {
  if (b->err || pos + 4 > b->len) return;
  for (int i = 0; i < 4; i++) b->data[pos + (size_t)i] = (uint8_t)(v >> (8 * i));
}

void eddy_buf_vprintf(eddy_buf_t *b, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  char small[256];
  int n = vsnprintf(small, sizeof small, fmt, ap2);
  va_end(ap2);
  if (n < 0) {
    if (!b->err) b->err = EDDY_EINVAL;
    return;
  }
  if ((size_t)n < sizeof small) {
    eddy_buf_put(b, small, (size_t)n);
    return;
  }
  if (eddy_buf_reserve(b, (size_t)n + 1)) return;
  vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
}

void eddy_buf_printf(eddy_buf_t *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  eddy_buf_vprintf(b, fmt, ap);
  va_end(ap);
}

void eddy_reader_init(eddy_reader_t *r, const void *p, size_t len) {
  r->p = p;
  r->len = len;
  r->pos = 0;
  r->err = 0;
}

/* Returns the next n bytes or NULL (and sets err) when they are not there. */
static const uint8_t *take(eddy_reader_t *r, size_t n) {
  if (r->err) return NULL;
  if (n > r->len - r->pos) {
    r->err = EDDY_ECORRUPT;
    return NULL;
  }
  const uint8_t *p = r->p + r->pos;
  r->pos += n;
  return p;
}

uint8_t eddy_read_u8(eddy_reader_t *r) {
  const uint8_t *p = take(r, 1);
  return p ? p[0] : 0;
}

uint16_t eddy_read_u16(eddy_reader_t *r) {
  const uint8_t *p = take(r, 2);
  return p ? (uint16_t)(p[0] | (p[1] << 8)) : 0;
}

uint32_t eddy_read_u32(eddy_reader_t *r) {
  const uint8_t *p = take(r, 4);
  if (!p) return 0;
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
  return v;
}

uint64_t eddy_read_u64(eddy_reader_t *r) {
  const uint8_t *p = take(r, 8);
  if (!p) return 0;
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

int64_t eddy_read_i64(eddy_reader_t *r) { return (int64_t)eddy_read_u64(r); }

double eddy_read_f64(eddy_reader_t *r) {
  uint64_t u = eddy_read_u64(r);
  double v;
  memcpy(&v, &u, 8);
  return v;
}

void eddy_read_f64s(eddy_reader_t *r, double *v, size_t n) {
  if (n > (r->len - r->pos) / 8) {
    if (!r->err) r->err = EDDY_ECORRUPT;
  }
  for (size_t i = 0; i < n; i++) v[i] = r->err ? 0.0 : eddy_read_f64(r);
}

void eddy_read(eddy_reader_t *r, void *dst, size_t n) {
  const uint8_t *p = take(r, n);
  if (!n) return; /* dst may be NULL then (an empty array), and memcpy(NULL, p, 0) is undefined */
  if (p)
    memcpy(dst, p, n);
  else
    memset(dst, 0, n);
}

const void *eddy_read_mem(eddy_reader_t *r, size_t *len) {
  uint32_t n = eddy_read_u32(r);
  const uint8_t *p = take(r, n);
  if (len) *len = p ? n : 0;
  return p;
}

void eddy_read_str(eddy_reader_t *r, char *dst, size_t size) {
  size_t n;
  const char *p = eddy_read_mem(r, &n);
  if (!p || n >= size) {
    if (!r->err) r->err = EDDY_ECORRUPT;
    if (size) dst[0] = '\0';
    return;
  }
  memcpy(dst, p, n);
  dst[n] = '\0';
}

char *eddy_read_strdup(eddy_reader_t *r) {
  size_t n;
  const char *p = eddy_read_mem(r, &n);
  if (!p) return NULL;
  char *s = eddy_strndup(p, n);
  if (!s && !r->err) r->err = EDDY_ENOMEM;
  return s;
}

size_t eddy_read_count(eddy_reader_t *r, size_t elem_size) {
  uint64_t n = eddy_read_u64(r);
  if (r->err) return 0;
  size_t left = r->len - r->pos;
  if (elem_size && n > left / elem_size) {
    r->err = EDDY_ECORRUPT;
    return 0;
  }
  return (size_t)n;
}

int eddy_buf_read_file(eddy_buf_t *b, const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return EDDY_EIO;
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) eddy_buf_put(b, chunk, n);
  int err = ferror(f) ? EDDY_EIO : b->err ? EDDY_ENOMEM : 0;
  fclose(f);
  return err;
}
