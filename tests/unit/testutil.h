/* testutil.h: helpers shared by suites: feeding a generator's stream to a
 * model replica as a decoder would (values mapped through the replica's own
 * dictionaries). Header-only; include once per suite. */
#ifndef EDDY_TESTUTIL_H
#define EDDY_TESTUTIL_H

#include <criterion/criterion.h>
#include <string.h>

#include "core/core.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
#include "connectors/connectors.h"
#include "generators/generators.h"

/* Runs rows [from, to) of generator `name` (options kv, seed) through r:
 * predict, then learn. Returns the number of correct predictions among
 * rows [count_from, to). */
/* Called after each prediction, before the instance is learned. */
typedef void (*feed_cb)(void *ctx, eddy_replica_t *r, const eddy_instance_t *in, int k);

static inline uint64_t feed_generator_cb(eddy_replica_t *r, const char *name, const eddy_kv_t *kv,
                                         size_t n_kv, uint64_t seed, uint64_t from, uint64_t to,
                                         uint64_t count_from, feed_cb cb, void *ctx) {
  char err[512];
  eddy_generator_t *g = eddy_generator_new(name, kv, n_kv, seed, err, sizeof err);
  cr_assert_not_null(g, "%s", err);
  const eddy_schema_t *gs = eddy_generator_schema(g);
  eddy_instance_t gi, in;
  eddy_instance_init(&gi, gs->n_attrs);
  eddy_instance_init(&in, r->schema->n_attrs);
  uint64_t correct = 0;
  for (uint64_t i = 0; i < to; i++) {
    cr_assert_eq(eddy_generator_next(g, &gi), 0);
    if (i < from) continue;
    eddy_instance_clear(&in);
    for (size_t a = 0; a < gs->n_attrs; a++) {
      int j = eddy_schema_find(r->schema, gs->attrs[a].name);
      cr_assert_geq(j, 0, "attribute %s", gs->attrs[a].name);
      if (gs->attrs[a].kind == EDDY_NOMINAL) {
        const char *v = eddy_dict_name(gs->attrs[a].dict, (uint32_t)gi.x[a]);
        uint64_t h = eddy_hash(v, strlen(v));
        in.x[j] = (double)eddy_dict_intern(r->schema->attrs[j].dict, v, strlen(v), h, NULL);
        in.h[j] = h;
      } else {
        in.x[j] = gi.x[a];
      }
      in.missing[j] = 0;
    }
    const char *y = eddy_dict_name(gs->target.dict, (uint32_t)gi.y);
    in.y = (double)eddy_dict_intern(r->schema->target.dict, y, strlen(y), eddy_hash(y, strlen(y)), NULL);
    in.has_y = 1;
    int k = eddy_replica_predict(r, &in);
    if (cb) cb(ctx, r, &in, k);
    if (i >= count_from) correct += eddy_replica_predicted(r) == in.y;
    cr_assert_eq(eddy_replica_learn(r, &in), 0);
  }
  eddy_instance_free(&gi);
  eddy_instance_free(&in);
  eddy_generator_free(g);
  return correct;
}

static inline uint64_t feed_generator(eddy_replica_t *r, const char *name, const eddy_kv_t *kv,
                                      size_t n_kv, uint64_t seed, uint64_t from, uint64_t to,
                                      uint64_t count_from) {
  return feed_generator_cb(r, name, kv, n_kv, seed, from, to, count_from, NULL, NULL);
}

#endif /* EDDY_TESTUTIL_H */
