/* core/checkpoint.h: checkpoint framing: magic, version, tagged sections
 * and a CRC-32, so that a damaged checkpoint is refused. */
#ifndef EDDY_CORE_CHECKPOINT_H
#define EDDY_CORE_CHECKPOINT_H

#include "core/buf.h"

/* ------------------------------------------------------------ checkpoints */

/* A checkpoint is binary and little-endian:
 *   "EDDY" | u16 format version | u16 flags | sections... | u32 CRC-32
 * where a section is u32 tag | u64 length | bytes. The CRC (zlib's) covers
 * everything before it. Readers skip sections they do not know, and verify
 * magic, version and CRC before reading any section. */
#define EDDY_CKPT_MAGIC "EDDY"
#define EDDY_CKPT_VERSION 1
#define EDDY_TAG(a, b, c, d) \
  ((uint32_t)(a) | ((uint32_t)(b) << 8) | ((uint32_t)(c) << 16) | ((uint32_t)(d) << 24))
#define EDDY_SECTION_SCHEMA EDDY_TAG('S', 'C', 'H', 'M')
#define EDDY_SECTION_LEARNER EDDY_TAG('L', 'R', 'N', 'R')
#define EDDY_SECTION_DETECTOR EDDY_TAG('D', 'T', 'C', 'T')
#define EDDY_SECTION_META EDDY_TAG('M', 'E', 'T', 'A')

void eddy_ckpt_begin(eddy_buf_t *b);
size_t eddy_ckpt_section_begin(eddy_buf_t *b, uint32_t tag); /* returns a mark */
void eddy_ckpt_section_end(eddy_buf_t *b, size_t mark);
int eddy_ckpt_finish(eddy_buf_t *b); /* appends the CRC; returns b->err */
/* Checks magic, version, section framing and CRC. */
int eddy_ckpt_verify(const void *p, size_t len, char *errstr, size_t errstr_size);
/* The nth (0-based) section with tag, or EDDY_ENOENT. Call after verify. */
int eddy_ckpt_section(const void *p, size_t len, uint32_t tag, int nth, eddy_reader_t *out);

uint32_t eddy_crc32(const void *p, size_t len);
/* Reads a section nested in another one's body at r's position: checks its
 * tag and points sub at its bytes; r moves past it. */
int eddy_read_section(eddy_reader_t *r, uint32_t tag, eddy_reader_t *sub);

#endif /* EDDY_CORE_CHECKPOINT_H */
