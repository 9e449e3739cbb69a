/* generators.h: synthetic streams with concept drift (`eddy gen`), used by
 * the CLI, the tests and the benchmarks. Each generator is a static const
 * descriptor in its own file, registered in registry.c, defined exactly as
 * its publication and MOA define it. */
#ifndef EDDY_GENERATORS_H
#define EDDY_GENERATORS_H

#include "core/core.h"

typedef struct eddy_generator eddy_generator_t;

/* Allocated and configured by the generic code as learners are (options
 * defaults, then the given keys, then init). init builds g->schema: every
 * attribute, and for classification every class interned in order "0",
 * "1", ... so that class indices equal class labels. */
typedef struct eddy_generator_type {
  const char *name;
  const char *description;
  const eddy_option_t *options;
  size_t params_size;
  size_t state_size;
  int (*init)(eddy_generator_t *g, char *errstr, size_t errstr_size);
  /* Writes the next instance (values, has_y = 1, y) into out, which was
   * made with eddy_instance_init(out, schema->n_attrs). Never allocates. */
  int (*next)(eddy_generator_t *g, eddy_instance_t *out);
  void (*destroy)(eddy_generator_t *g);
  /* The option that names a concept (SEA's `concept`, Agrawal's
   * `function`, RBF's `model_seed`...): `drift_to` sets it in the stream
   * after the drift. NULL when the type has none (drift_to is refused). */
  const char *concept_key;
} eddy_generator_type_t;

struct eddy_generator {
  const eddy_generator_type_t *type;
  void *params;
  void *state;
  eddy_schema_t *schema; /* owned; built by init */
  eddy_rng_t rng;
  uint64_t seed;
  eddy_kvlist_t kv;
};

/* NULL-terminated, in registry.c. */
extern const eddy_generator_type_t *const eddy_generator_types[];
const eddy_generator_type_t *eddy_generator_type_find(const char *name);
void eddy_generator_type_names(char *buf, size_t size);

/* A generator of the named type. kv are its options (`noise`, `function`,
 * ...) and the drift keys common to all of them: `drift_to` (the concept
 * after the drift, in the generator's own terms, e.g. SEA's concept 3 or
 * Agrawal's function 5), `drift_at` (centre, in instances) and
 * `drift_width` (sigmoid width; 1 = abrupt), as MOA's ConceptDriftStream.
 * With drift_to, the generator returned wraps two of the named type (the
 * old concept, seeded with `seed`, and the new one, seeded with
 * eddy_seed_derive(seed, 1)); its type is eddy_generator_concept_drift and
 * its schema a copy of theirs. An unknown key fails naming it and listing
 * the type's keys. Free with eddy_generator_free. */
eddy_generator_t *eddy_generator_new(const char *name, const eddy_kv_t *kv, size_t n_kv,
                                     uint64_t seed, char *errstr, size_t errstr_size);
int eddy_generator_next(eddy_generator_t *g, eddy_instance_t *out);
const eddy_schema_t *eddy_generator_schema(const eddy_generator_t *g);
void eddy_generator_free(eddy_generator_t *g);

/* The drift keys every generator accepts (drift_to, drift_at, drift_width)
 * and the wrapper type that implements them (not in the registry). */
extern const eddy_option_t eddy_generator_drift_options[];
extern const eddy_generator_type_t eddy_generator_concept_drift;

/* The generator types (registry.c lists them). */
extern const eddy_generator_type_t eddy_generator_sea;
extern const eddy_generator_type_t eddy_generator_agrawal;
extern const eddy_generator_type_t eddy_generator_hyperplane;
extern const eddy_generator_type_t eddy_generator_rbf;
extern const eddy_generator_type_t eddy_generator_stagger;

#endif /* EDDY_GENERATORS_H */
