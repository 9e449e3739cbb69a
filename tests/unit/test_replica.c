/* test_replica.c: a model replica's checkpoint: a run stopped, saved,
 * restored into a new replica and continued ends with the same bytes as an
 * uninterrupted run; checkpoints that do not fit the config are refused. */
#include <criterion/criterion.h>
#include <string.h>

#include "learners/learners.h"
#include "testutil.h"

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

/* Rows [from, to) of a seeded Agrawal stream with an abrupt drift. */
static void feed(eddy_replica_t *r, uint64_t from, uint64_t to) {
  eddy_kv_t kv[] = {{"function", "1", NULL, 0}, {"drift_to", "5", NULL, 0}, {"drift_at", "3000", NULL, 0},
                    {"drift_width", "1", NULL, 0}};
  feed_generator(r, "agrawal", kv, 4, 9, from, to, to);
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

/* With a drift detector and each action, the drift state (detector, window,
 * background model) is part of the checkpoint too. */
Test(replica, resume_is_byte_identical_with_drift_retrain) {
  check_resume("[model]\nlearner = naive_bayes\n[drift]\ndetector = adwin\naction = retrain\n"
               "retrain_window = 500\ndata_detectors = psi, ks");
}
Test(replica, resume_is_byte_identical_with_drift_swap) {
  check_resume("[model]\nlearner = naive_bayes\n[drift]\ndetector = ddm\naction = swap");
}
