/* checkpoint.c: the framing of every checkpoint (magic, version, tagged
 * sections, CRC-32) so that a corrupt or foreign file is refused before any
 * of it is trusted. */
#include <string.h>
#include <zlib.h>

#include "core/core.h"

#define HEADER_LEN 8 /* magic + u16 version + u16 flags */

uint32_t eddy_crc32(const void *p, size_t len) {
  uLong crc = crc32(0L, Z_NULL, 0);
  const Bytef *b = p;
  while (len > 0) {
    uInt chunk = len > 0x40000000u ? 0x40000000u : (uInt)len;
    crc = crc32(crc, b, chunk);
    b += chunk;
    len -= chunk;
  }
  return (uint32_t)crc;
}

void eddy_ckpt_begin(eddy_buf_t *b) {
  eddy_buf_put(b, EDDY_CKPT_MAGIC, 4);
  eddy_buf_put_u16(b, EDDY_CKPT_VERSION);
  eddy_buf_put_u16(b, 0);
}

size_t eddy_ckpt_section_begin(eddy_buf_t *b, uint32_t tag) {
  eddy_buf_put_u32(b, tag);
  size_t mark = b->len;
  eddy_buf_put_u64(b, 0);
  return mark;
}

void eddy_ckpt_section_end(eddy_buf_t *b, size_t mark) {
  if (b->err || mark + 8 > b->len) return;
  uint64_t n = b->len - mark - 8;
  for (int i = 0; i < 8; i++) b->data[mark + (size_t)i] = (uint8_t)(n >> (8 * i));
}

int eddy_ckpt_finish(eddy_buf_t *b) {
  if (!b->err) eddy_buf_put_u32(b, eddy_crc32(b->data, b->len));
  return b->err;
}

int eddy_ckpt_verify(const void *p, size_t len, char *errstr, size_t errstr_size) {
  const uint8_t *d = p;
  if (len < HEADER_LEN + 4 || memcmp(d, EDDY_CKPT_MAGIC, 4) != 0)
    return eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT, "not an eddy checkpoint (bad magic)");
  eddy_reader_t r;
  eddy_reader_init(&r, d + 4, len - 4);
  uint16_t version = eddy_read_u16(&r);
  if (version != EDDY_CKPT_VERSION)
    return eddy_seterr(errstr, errstr_size, EDDY_EVERSION,
                       "checkpoint format version %u, this eddy reads version %u", version,
                       EDDY_CKPT_VERSION);
  eddy_reader_init(&r, d + len - 4, 4);
  uint32_t stored = eddy_read_u32(&r), actual = eddy_crc32(d, len - 4);
  if (stored != actual)
    return eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT,
                       "checkpoint CRC mismatch (stored %08x, computed %08x)", stored, actual);
  /* The CRC holds; still check that the sections tile the body exactly. */
  eddy_reader_init(&r, d + HEADER_LEN, len - HEADER_LEN - 4);
  while (r.pos < r.len && !r.err) {
    eddy_read_u32(&r);
    uint64_t n = eddy_read_u64(&r);
    if (r.err || n > r.len - r.pos) break;
    r.pos += (size_t)n;
  }
  if (r.err || r.pos != r.len)
    return eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT, "checkpoint sections are malformed");
  return 0;
}

int eddy_ckpt_section(const void *p, size_t len, uint32_t tag, int nth, eddy_reader_t *out) {
  if (len < HEADER_LEN + 4) return EDDY_ECORRUPT;
  eddy_reader_t r;
  eddy_reader_init(&r, (const uint8_t *)p + HEADER_LEN, len - HEADER_LEN - 4);
  while (r.pos < r.len && !r.err) {
    uint32_t t = eddy_read_u32(&r);
    uint64_t n = eddy_read_u64(&r);
    if (r.err || n > r.len - r.pos) return EDDY_ECORRUPT;
    if (t == tag && nth-- == 0) {
      eddy_reader_init(out, r.p + r.pos, (size_t)n);
      return 0;
    }
    r.pos += (size_t)n;
  }
  return r.err ? EDDY_ECORRUPT : EDDY_ENOENT;
}

int eddy_read_section(eddy_reader_t *r, uint32_t tag, eddy_reader_t *sub) {
  uint32_t t = eddy_read_u32(r);
  uint64_t n = eddy_read_u64(r);
  if (r->err || t != tag || n > r->len - r->pos) {
    if (!r->err) r->err = EDDY_ECORRUPT;
    return r->err;
  }
  eddy_reader_init(sub, r->p + r->pos, (size_t)n);
  r->pos += (size_t)n;
  return 0;
}
