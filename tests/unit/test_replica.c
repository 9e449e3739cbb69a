/* test_replica.c: a model replica's checkpoint: a run stopped, saved,
 * restored into a new replica and continued ends with the same bytes as an
 * uninterrupted run; checkpoints that do not fit the config are refused. */
#include <criterion/criterion.h>
#include <string.h>

#include "connectors/connectors.h"
#include "generators/generators.h"
#include "learners/learners.h"

static char err[1024];

typedef struct {
  eddy_config_t *c;
  eddy_fields_t *f;
  eddy_replica_t *r;
} fx_t;

static void make(fx_t *x, const char *model) {
  char text[1024];
  snprintf(text, sizeof text,
           "[pipeline]\nname = t\nseed = 5\n[features]\nnumeric = salary, commission, age, hvalue, hyears, loan\n"
           "nominal = elevel, car, zipcode\ntarget = class\n%s\n", model);
  x->c = eddy_config_parse(text, "t.ini", err, sizeof err);
  cr_assert_not_null(x->c, "%s", err);
  x->f = eddy_fields_new(&x->c->pipelines[0], NULL, 0, NULL, 0, err, sizeof err);
  cr_assert_not_null(x->f, "%s", err);
  x->r = eddy_replica_new(&x->c->pipelines[0], x->f, 100, err, sizeof err);
  cr_assert_not_null(x->r, "%s", err);
}

static void destroy(fx_t *x) {
  eddy_replica_free(x->r);
  eddy_fields_free(x->f);
  eddy_config_free(x->c);
}

/* Feeds rows [from, to) of a seeded Agrawal stream with a drift, mapping
 * the generator's values through the replica's own dictionaries as a
 * decoder would. */
static void feed(eddy_replica_t *r, uint64_t from, uint64_t to) {
  eddy_kv_t kv[] = {{"function", "1", NULL, 0}, {"drift_to", "5", NULL, 0}, {"drift_at", "3000", NULL, 0},
                    {"drift_width", "1", NULL, 0}};
  eddy_generator_t *g = eddy_generator_new("agrawal", kv, 4, 9, err, sizeof err);
  cr_assert_not_null(g, "%s", err);
  const eddy_schema_t *gs = eddy_generator_schema(g);
  eddy_instance_t gi, in;
  eddy_instance_init(&gi, gs->n_attrs);
  eddy_instance_init(&in, r->schema->n_attrs);
  for (uint64_t i = 0; i < to; i++) {
    cr_assert_eq(eddy_generator_next(g, &gi), 0);
    if (i < from) continue;
    eddy_instance_clear(&in);
    for (size_t a = 0; a < gs->n_attrs; a++) {
      int j = eddy_schema_find(r->schema, gs->attrs[a].name);
      cr_assert_geq(j, 0);
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
    eddy_replica_predict(r, &in);
    cr_assert_eq(eddy_replica_learn(r, &in), 0);
  }
  eddy_instance_free(&gi);
  eddy_instance_free(&in);
  eddy_generator_free(g);
}

static void check_resume(const char *model) {
  fx_t a, b, c;
  make(&a, model);
  feed(a.r, 0, 6000);
  eddy_buf_t whole, half, restored;
  eddy_buf_init(&whole);
  eddy_buf_init(&half);
  eddy_buf_init(&restored);
  cr_assert_eq(eddy_replica_save(a.r, &whole), 0);
  make(&b, model);
  feed(b.r, 0, 2500);
  cr_assert_eq(eddy_replica_save(b.r, &half), 0);
  make(&c, model); /* a new process: fresh replica, then the checkpoint */
  cr_assert_eq(eddy_replica_load(c.r, half.data, half.len, err, sizeof err), 0, "%s", err);
  cr_assert_eq(c.r->index, 2500);
  feed(c.r, 2500, 6000);
  cr_assert_eq(eddy_replica_save(c.r, &restored), 0);
  cr_assert_eq(whole.len, restored.len, "%s: %zu vs %zu bytes", model, whole.len, restored.len);
  cr_assert(memcmp(whole.data, restored.data, whole.len) == 0, "%s: checkpoints differ", model);
  eddy_buf_free(&whole);
  eddy_buf_free(&half);
  eddy_buf_free(&restored);
  destroy(&a);
  destroy(&b);
  destroy(&c);
}

Test(replica, resume_is_byte_identical_naive_bayes) { check_resume("[model]\nlearner = naive_bayes"); }
Test(replica, resume_is_byte_identical_majority) { check_resume("[model]\nlearner = majority"); }

Test(replica, refuses_what_does_not_fit) {
  fx_t a, b;
  make(&a, "[model]\nlearner = naive_bayes");
  feed(a.r, 0, 500);
  eddy_buf_t blob;
  eddy_buf_init(&blob);
  cr_assert_eq(eddy_replica_save(a.r, &blob), 0);
  make(&b, "[model]\nlearner = majority");
  cr_assert_eq(eddy_replica_load(b.r, blob.data, blob.len, err, sizeof err), EDDY_EINVAL);
  cr_assert(strstr(err, "naive_bayes") && strstr(err, "majority"), "%s", err);
  cr_assert_eq(b.r->index, 0, "a refused checkpoint leaves the replica as it was");
  blob.data[blob.len / 3] ^= 0x40;
  cr_assert_eq(eddy_replica_load(a.r, blob.data, blob.len, err, sizeof err), EDDY_ECORRUPT);
  cr_assert(strstr(err, "CRC"), "%s", err);
  cr_assert_eq(a.r->index, 500);
  eddy_buf_free(&blob);
  destroy(&a);
  destroy(&b);
}
