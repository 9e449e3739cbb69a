/* core/dict.h: hashing (XXH3) and the bounded online dictionary that
 * encodes nominal values. */
#ifndef EDDY_CORE_DICT_H
#define EDDY_CORE_DICT_H

#include "core/buf.h"

/* ----------------------------------------------------------------- hashing */

uint64_t eddy_hash(const void *p, size_t len); /* XXH3-64 */
uint64_t eddy_hash_mix(uint64_t a, uint64_t b); /* combines two hashes */

/* ------------------------------------------------------------- dictionary */

/* Online dictionary encoding of nominal values: each new text gets the next
 * index, up to `bound` values; past the bound every new text maps to one
 * overflow bucket (index `bound`, named "__other__") when overflow is
 * allowed, or is refused with EDDY_ERANGE. Owned by its schema. */
typedef struct eddy_dict eddy_dict_t;

eddy_dict_t *eddy_dict_new(uint32_t bound, int allow_overflow);
void eddy_dict_free(eddy_dict_t *d);
/* The index of s (len bytes, hash = eddy_hash(s, len)), adding it if new.
 * Returns the index or EDDY_ERANGE / EDDY_ENOMEM. *added (may be NULL) is set
 * to 1 when a new index was created. Allocates only when a value is new. */
int64_t eddy_dict_intern(eddy_dict_t *d, const char *s, size_t len, uint64_t hash, int *added);
/* The index of s, or EDDY_ENOENT. Never adds. */
int64_t eddy_dict_find(const eddy_dict_t *d, const char *s, size_t len, uint64_t hash);
const char *eddy_dict_name(const eddy_dict_t *d, uint32_t index); /* NULL if out of range */
uint32_t eddy_dict_size(const eddy_dict_t *d); /* indices in use, overflow included */
uint32_t eddy_dict_bound(const eddy_dict_t *d);
int eddy_dict_allows_overflow(const eddy_dict_t *d); /* the allow_overflow given to eddy_dict_new */
size_t eddy_dict_memory(const eddy_dict_t *d);
void eddy_dict_save(const eddy_dict_t *d, eddy_buf_t *b);
eddy_dict_t *eddy_dict_load(eddy_reader_t *r);

#endif /* EDDY_CORE_DICT_H */
