/* core/buf.h: the growable byte buffer (sticky errors) that serialises
 * checkpoints and outputs, and the reader that bounds every read. */
#ifndef EDDY_CORE_BUF_H
#define EDDY_CORE_BUF_H

#include <string.h>

#include "core/error.h"

/* ------------------------------------------------------------ byte buffer */

/* A growable byte buffer for serialization. Writes are sticky: after a
 * failed allocation every later write is a no-op and `err` stays set, so a
 * save function writes everything and checks once at the end. Numbers are
 * little-endian. The buffer owns `data`; eddy_buf_free releases it. */
typedef struct eddy_buf {
  uint8_t *data;
  size_t len;
  size_t cap;
  int err;
} eddy_buf_t;

void eddy_buf_init(eddy_buf_t *b);
void eddy_buf_free(eddy_buf_t *b);
void eddy_buf_clear(eddy_buf_t *b); /* len = 0, err = 0; keeps the memory */
int eddy_buf_reserve(eddy_buf_t *b, size_t extra);
/* The out-of-line path of eddy_buf_put: growing, or a sticky error. */
void eddy__buf_put_slow(eddy_buf_t *b, const void *p, size_t n);
/* Inline: outputs are written a few bytes at a time on the per-record
 * path, where a call per put cost ~3% of eddy's CPU per record. */
static inline void eddy_buf_put(eddy_buf_t *b, const void *p, size_t n) {
  if (!b->err && b->cap - b->len >= n) {
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
  } else {
    eddy__buf_put_slow(b, p, n);
  }
}
static inline void eddy_buf_put_u8(eddy_buf_t *b, uint8_t v) {
  if (!b->err && b->cap > b->len) b->data[b->len++] = v;
  else eddy__buf_put_slow(b, &v, 1);
}
void eddy_buf_put_u16(eddy_buf_t *b, uint16_t v);
void eddy_buf_put_u32(eddy_buf_t *b, uint32_t v);
void eddy_buf_put_u64(eddy_buf_t *b, uint64_t v);
void eddy_buf_put_i64(eddy_buf_t *b, int64_t v);
void eddy_buf_put_f64(eddy_buf_t *b, double v);
void eddy_buf_put_f64s(eddy_buf_t *b, const double *v, size_t n);
void eddy_buf_put_str(eddy_buf_t *b, const char *s); /* u32 length + bytes; NULL as "" */
void eddy_buf_put_mem(eddy_buf_t *b, const void *p, size_t n); /* u32 length + bytes */
/* Overwrites 4 bytes at pos (for lengths known only later). */
void eddy_buf_patch_u32(eddy_buf_t *b, size_t pos, uint32_t v);
/* Appends the whole file at path: 0, EDDY_EIO (errno says why) or
 * EDDY_ENOMEM. */
int eddy_buf_read_file(eddy_buf_t *b, const char *path);
/* printf into the buffer (text outputs); no NUL is counted in len. */
void eddy_buf_printf(eddy_buf_t *b, const char *fmt, ...) EDDY_PRINTF(2, 3);
void eddy_buf_vprintf(eddy_buf_t *b, const char *fmt, va_list ap);

/* Reads what eddy_buf_put_* wrote. Reads are sticky too: reading past the
 * end sets err = EDDY_ECORRUPT and yields zeros. The reader borrows p. */
typedef struct eddy_reader {
  const uint8_t *p;
  size_t len;
  size_t pos;
  int err;
} eddy_reader_t;

void eddy_reader_init(eddy_reader_t *r, const void *p, size_t len);
uint8_t eddy_read_u8(eddy_reader_t *r);
uint16_t eddy_read_u16(eddy_reader_t *r);
uint32_t eddy_read_u32(eddy_reader_t *r);
uint64_t eddy_read_u64(eddy_reader_t *r);
int64_t eddy_read_i64(eddy_reader_t *r);
double eddy_read_f64(eddy_reader_t *r);
void eddy_read_f64s(eddy_reader_t *r, double *v, size_t n);
void eddy_read(eddy_reader_t *r, void *dst, size_t n);
/* A length-prefixed byte string; returns a pointer into the reader's memory
 * (not NUL-terminated) or NULL on error. */
const void *eddy_read_mem(eddy_reader_t *r, size_t *len);
/* Copies a length-prefixed string into dst (NUL-terminated); a string that
 * does not fit sets err = EDDY_ECORRUPT. */
void eddy_read_str(eddy_reader_t *r, char *dst, size_t size);
/* Like eddy_read_str but returns a malloc'd copy the caller frees. */
char *eddy_read_strdup(eddy_reader_t *r);
/* Reads a u64 element count and checks that count * elem_size bytes remain,
 * so that a corrupt count never drives a huge allocation. */
size_t eddy_read_count(eddy_reader_t *r, size_t elem_size);

#endif /* EDDY_CORE_BUF_H */
