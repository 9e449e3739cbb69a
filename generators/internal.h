/* internal.h: what the generator types share (schema building, writing an
 * instance's fields); not part of the generators' interface. */
#ifndef EDDY_GENERATORS_INTERNAL_H
#define EDDY_GENERATORS_INTERNAL_H

#include "generators.h"

/* A classification schema with target "class" and classes "0".."n-1"
 * interned in order (class index == label text). NULL on failure. */
eddy_schema_t *eddy_gen_schema(uint32_t n_classes, char *errstr, size_t errstr_size);
int eddy_gen_add_numeric(eddy_schema_t *s, const char *name);
/* A nominal attribute with values[0..n) interned in that order; hashes[v]
 * receives eddy_hash of value v (for the instances' h[]). */
int eddy_gen_add_nominal(eddy_schema_t *s, const char *name, const char *const *values, size_t n,
                         uint64_t *hashes);

static inline void eddy_gen_num(eddy_instance_t *out, size_t i, double v) {
  out->x[i] = v;
  out->h[i] = 0;
  out->missing[i] = 0;
}

static inline void eddy_gen_nom(eddy_instance_t *out, size_t i, unsigned index,
                                const uint64_t *hashes) {
  out->x[i] = index;
  out->h[i] = hashes[index];
  out->missing[i] = 0;
}

static inline void eddy_gen_label(eddy_instance_t *out, unsigned c) {
  out->y = c;
  out->has_y = 1;
  out->weight = 1.0;
}

/* MOA's `1 + nextInt(100) <= percentage` with p a fraction: the same
 * probability for whole percentages, from eddy's RNG. Always draws, as MOA
 * does, so that streams differing only in p have the same attributes. */
static inline int eddy_gen_chance(eddy_rng_t *r, double p) {
  return eddy_rng_uniform(r) < p;
}

#endif /* EDDY_GENERATORS_INTERNAL_H */
