/* test_baselines.c: the learner registry and the two baseline learners,
 * including the model checkpoint round trip. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "core/core.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
#include "learners/learners.h"

static eddy_schema_t *schema3(void) {
  eddy_schema_t *s = eddy_schema_new(EDDY_CLASSIFICATION, "y", 0, 0, NULL, 0);
  eddy_schema_add(s, "a", EDDY_NUMERIC);
  for (const char *c = "abc"; *c; c++) eddy_dict_intern(s->target.dict, c, 1, eddy_hash(c, 1), NULL);
  return s;
}

Test(registry, unknown_name_lists_known) {
  eddy_schema_t *s = schema3();
  char err[512];
  cr_assert_null(eddy_learner_new("hoefding_tree", s, NULL, 0, 1, err, sizeof err));
  cr_assert(strstr(err, "hoefding_tree") && strstr(err, "majority") && strstr(err, "no_change"),
            "%s", err);
  eddy_kv_t kv[] = {{"nonsense", "1", "m.ini", 12}};
  cr_assert_null(eddy_learner_new("majority", s, kv, 1, 1, err, sizeof err));
  cr_assert(strstr(err, "m.ini:12:") && strstr(err, "nonsense"), "%s", err);
  eddy_schema_free(s);
}

static void learn(eddy_learner_t *l, eddy_instance_t *in, double y) {
  in->y = y;
  in->has_y = 1;
  cr_assert_eq(eddy_learner_learn(l, in), 0);
}

Test(majority, predicts_class_distribution_and_mean) {
  eddy_schema_t *s = schema3();
  eddy_learner_t *l = eddy_learner_new("majority", s, NULL, 0, 1, NULL, 0);
  eddy_instance_t in;
  eddy_instance_init(&in, 1);
  double p[3];
  cr_assert_eq(eddy_learner_predict(l, &in, p, 3), 3);
  cr_assert_eq(p[0] + p[1] + p[2], 0.0, "nothing learned yet");
  learn(l, &in, 2);
  learn(l, &in, 2);
  learn(l, &in, 0);
  cr_assert_eq(eddy_learner_predict(l, &in, p, 3), 3);
  cr_assert_float_eq(p[2], 2.0 / 3, 1e-12);
  cr_assert_float_eq(p[0], 1.0 / 3, 1e-12);
  cr_assert_eq(p[1], 0.0);
  cr_assert_eq(eddy_learner_predict(l, &in, p, 2), EDDY_ENOSPC);
  eddy_learner_reset(l);
  eddy_learner_predict(l, &in, p, 3);
  cr_assert_eq(p[2], 0.0);
  eddy_learner_free(l);
  eddy_schema_t *r = eddy_schema_new(EDDY_REGRESSION, "y", 0, 0, NULL, 0);
  eddy_schema_add(r, "a", EDDY_NUMERIC);
  l = eddy_learner_new("majority", r, NULL, 0, 1, NULL, 0);
  learn(l, &in, 1);
  learn(l, &in, 4);
  in.weight = 2;
  learn(l, &in, 10);
  cr_assert_eq(eddy_learner_predict(l, &in, p, 1), 1);
  cr_assert_float_eq(p[0], (1 + 4 + 20) / 4.0, 1e-12);
  eddy_learner_free(l);
  eddy_schema_free(r);
  eddy_schema_free(s);
  eddy_instance_free(&in);
}

Test(no_change, predicts_last_label) {
  eddy_schema_t *s = schema3();
  eddy_learner_t *l = eddy_learner_new("no_change", s, NULL, 0, 1, NULL, 0);
  eddy_instance_t in;
  eddy_instance_init(&in, 1);
  double p[3];
  learn(l, &in, 1);
  eddy_learner_predict(l, &in, p, 3);
  cr_assert_eq(eddy_argmax(p, 3), 1);
  learn(l, &in, 2);
  eddy_learner_predict(l, &in, p, 3);
  cr_assert_eq(eddy_argmax(p, 3), 2);
  cr_assert_eq(p[2], 1.0);
  eddy_learner_free(l);
  eddy_schema_free(s);
  eddy_instance_free(&in);
}

Test(model, checkpoint_round_trip_and_corruption) {
  eddy_schema_t *s = schema3();
  eddy_learner_t *l = eddy_learner_new("majority", s, NULL, 0, 99, NULL, 0);
  eddy_instance_t in;
  eddy_instance_init(&in, 1);
  for (int i = 0; i < 10; i++) learn(l, &in, i % 3 == 0 ? 1 : 0);
  eddy_buf_t b;
  eddy_buf_init(&b);
  cr_assert_eq(eddy_model_save(s, l, &b), 0);
  eddy_schema_t *s2;
  eddy_learner_t *l2;
  char err[256];
  cr_assert_eq(eddy_model_load(b.data, b.len, &s2, &l2, err, sizeof err), 0, "%s", err);
  cr_assert_str_eq(l2->type->name, "majority");
  cr_assert_eq(l2->seed, 99);
  double p[3], q[3];
  eddy_learner_predict(l, &in, p, 3);
  eddy_learner_predict(l2, &in, q, 3);
  cr_assert_eq(memcmp(p, q, sizeof p), 0, "bit-identical predictions");
  eddy_buf_t b2;
  eddy_buf_init(&b2);
  eddy_model_save(s2, l2, &b2);
  cr_assert_eq(b.len, b2.len);
  cr_assert_eq(memcmp(b.data, b2.data, b.len), 0, "saving a loaded model gives the same bytes");
  eddy_learner_free(l2); /* before the next load sets l2 and s2 to NULL (valgrind: leaked) */
  eddy_schema_free(s2);
  b.data[b.len / 2] ^= 1;
  cr_assert_neq(eddy_model_load(b.data, b.len, &s2, &l2, err, sizeof err), 0);
  cr_assert(strstr(err, "CRC"), "%s", err);
  cr_assert(!s2 && !l2, "a refused checkpoint leaves nothing");
  eddy_learner_free(l);
  eddy_buf_free(&b);
  eddy_buf_free(&b2);
  eddy_instance_free(&in);
  eddy_schema_free(s);
}

/* A model checkpoint of no_change over schema3 (three classes) whose state
 * (last label f64, seen u8: the body's last 9 bytes) is replaced, with the
 * CRC made valid again, as a damaged disk or a hostile writer could. */
static int load_no_change(eddy_task_t task, double last, uint8_t seen) {
  eddy_schema_t *s = task == EDDY_CLASSIFICATION ? schema3()
                                                 : eddy_schema_new(EDDY_REGRESSION, "y", 0, 0, NULL, 0);
  if (task == EDDY_REGRESSION) eddy_schema_add(s, "a", EDDY_NUMERIC);
  eddy_learner_t *l = eddy_learner_new("no_change", s, NULL, 0, 1, NULL, 0);
  eddy_buf_t b;
  eddy_buf_init(&b);
  cr_assert_eq(eddy_model_save(s, l, &b), 0);
  size_t at = b.len - 4 - 9;
  memcpy(b.data + at, &last, 8); /* little-endian hosts, as the format */
  b.data[at + 8] = seen;
  uint32_t crc = eddy_crc32(b.data, b.len - 4);
  for (int i = 0; i < 4; i++) b.data[b.len - 4 + (size_t)i] = (uint8_t)(crc >> (8 * i));
  eddy_schema_t *s2;
  eddy_learner_t *l2;
  char err[512];
  int rc = eddy_model_load(b.data, b.len, &s2, &l2, err, sizeof err);
  if (rc == 0) {
    double p[3];
    int k = eddy_learner_predict(l2, NULL, p, 3);
    cr_assert_eq(k, task == EDDY_CLASSIFICATION ? 3 : 1);
    if (task == EDDY_REGRESSION) cr_assert_eq(p[0], seen ? last : 0.0);
    else if (seen) cr_assert_eq(p[(size_t)last], 1.0, "the loaded label is predicted");
    else cr_assert(p[0] == 0 && p[1] == 0 && p[2] == 0);
    eddy_learner_free(l2);
    eddy_schema_free(s2);
  } else {
    cr_assert(strstr(err, "no_change"), "%s", err);
  }
  eddy_buf_free(&b);
  eddy_learner_free(l);
  eddy_schema_free(s);
  return rc;
}

/* Found by fuzz_checkpoint: a last label of -2.5e207 loaded, and predict
 * turned it into an index (undefined behaviour; a crash or a wrong class). */
Test(no_change, checkpoint_with_a_label_that_is_no_class_is_refused) {
  cr_assert_eq(load_no_change(EDDY_CLASSIFICATION, 2, 1), 0, "class 2 of 3");
  cr_assert_eq(load_no_change(EDDY_CLASSIFICATION, -2.5e207, 1), EDDY_ECORRUPT);
  cr_assert_eq(load_no_change(EDDY_CLASSIFICATION, 3, 1), EDDY_ECORRUPT, "one past the classes");
  cr_assert_eq(load_no_change(EDDY_CLASSIFICATION, 1.5, 1), EDDY_ECORRUPT);
  cr_assert_eq(load_no_change(EDDY_CLASSIFICATION, NAN, 1), EDDY_ECORRUPT);
  cr_assert_eq(load_no_change(EDDY_CLASSIFICATION, 0, 2), EDDY_ECORRUPT, "seen is 0 or 1");
  cr_assert_eq(load_no_change(EDDY_CLASSIFICATION, 0, 0), 0);
  cr_assert_eq(load_no_change(EDDY_REGRESSION, -2.5e207, 1), 0, "any finite value");
  cr_assert_eq(load_no_change(EDDY_REGRESSION, INFINITY, 1), EDDY_ECORRUPT);
}
