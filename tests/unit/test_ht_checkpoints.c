/* test_ht_checkpoints.c: checkpoints of the Hoeffding trees written by an
 * earlier build still load, and save again to the same bytes. The files in
 * tests/unit/ht_checkpoints/ were written by the trees as they were before
 * their pools, walks and checks moved to ht_common.c (commit 87795cc), from
 * the seeded stream below; a change of the checkpoint format shows here.
 *
 * To write them again (only for a deliberate format change, with a new
 * save version): EDDY_HT_CHECKPOINTS_WRITE=1 build/tests/test_ht_checkpoints
 * from the repository root. */
#include "ht_test.h"

#define CKPT_DIR "tests/unit/ht_checkpoints"
#define N_ROWS 3000

/* Trees with what their checkpoints hold: new classes and nominal values,
 * missing values, weights, inactive leaves (memory limits), HAT's
 * alternates and ADWINs, the regressor's models. */
static const struct {
  const char *name, *learner;
  int regression;
  kvp_t kv[8];
  size_t n_kv;
} scens[] = {
    {"ht",
     "hoeffding_tree",
     0,
     {{"grace_period", "40"},
      {"tie_threshold", "0.3"},
      {"max_byte_size", "6000"},
      {"memory_estimate_period", "300"}},
     4},
    {"ht_gini",
     "hoeffding_tree",
     0,
     {{"grace_period", "30"},
      {"tie_threshold", "0.2"},
      {"split_criterion", "gini"},
      {"binary_splits", "true"},
      {"leaf_prediction", "nb"},
      {"max_depth", "5"},
      {"no_preprune", "true"}},
     7},
    {"hat",
     "hoeffding_adaptive_tree",
     0,
     {{"grace_period", "100"},
      {"tie_threshold", "0.3"},
      {"drift_window_threshold", "30"},
      {"adwin_delta", "0.1"}},
     4},
    {"hat_seeded",
     "hoeffding_adaptive_tree",
     0,
     {{"grace_period", "40"},
      {"tie_threshold", "0.3"},
      {"bootstrap", "seeded"},
      {"max_byte_size", "12000"},
      {"memory_estimate_period", "250"}},
     5},
    {"htr",
     "hoeffding_tree_regressor",
     1,
     {{"grace_period", "40"},
      {"tie_threshold", "0.3"},
      {"bins", "8"},
      {"max_byte_size", "9000"},
      {"memory_estimate_period", "300"}},
     5},
    {"htr_model",
     "hoeffding_tree_regressor",
     1,
     {{"grace_period", "40"},
      {"tie_threshold", "0.3"},
      {"leaf_prediction", "model"},
      {"binary_splits", "true"},
      {"max_depth", "3"},
      {"no_preprune", "true"}},
     6},
};
#define N_SCENS (sizeof scens / sizeof scens[0])

static eddy_schema_t *make_schema(int regression) {
  eddy_schema_t *s = eddy_schema_new(regression ? EDDY_REGRESSION : EDDY_CLASSIFICATION, "y", 0, 0,
                                     NULL, 0);
  eddy_schema_add(s, "a", EDDY_NOMINAL);
  eddy_schema_add(s, "b", EDDY_NUMERIC);
  eddy_schema_add(s, "c", EDDY_NUMERIC);
  eddy_schema_add(s, "d", EDDY_NOMINAL);
  eddy_schema_add(s, "e", EDDY_NUMERIC);
  return s;
}

static double intern(eddy_dict_t *d, const char *p) {
  return (double)eddy_dict_intern(d, p, strlen(p), eddy_hash(p, strlen(p)), NULL);
}

/* Row i of a seeded stream: values of `a` and classes appear as it goes,
 * the concept changes halfway. */
static void next_row(eddy_schema_t *s, eddy_rng_t *r, size_t i, eddy_instance_t *in) {
  char buf[32];
  size_t nv = 2 + i / 300;
  uint32_t a = (uint32_t)eddy_rng_below(r, nv < 12 ? nv : 12);
  snprintf(buf, sizeof buf, "a%u", a);
  in->x[0] = intern(s->attrs[0].dict, buf);
  in->x[1] = eddy_rng_uniform(r);
  in->x[2] = eddy_rng_gauss(r);
  uint32_t d = (uint32_t)eddy_rng_below(r, 3);
  snprintf(buf, sizeof buf, "d%u", d);
  in->x[3] = intern(s->attrs[3].dict, buf);
  in->x[4] = eddy_rng_uniform(r) * 10;
  for (size_t k = 0; k < 5; k++) in->missing[k] = eddy_rng_uniform(r) < 0.02;
  in->has_y = 1;
  in->weight = eddy_rng_uniform(r) < 0.1 ? 2.0 : 1.0;
  int drift = i >= N_ROWS / 2;
  double noise = eddy_rng_uniform(r);
  if (s->task == EDDY_CLASSIFICATION) {
    unsigned c = (in->x[1] + (drift ? -in->x[2] : in->x[2]) * 0.3 > 0.5) ^ (a % 3 == 0);
    if (i > 1000 && in->x[4] > 8.5) c = 2;
    if (i > 2000 && d == 2 && in->x[1] < 0.2) c = 3;
    if (noise < 0.05) c = (unsigned)eddy_rng_below(r, 2);
    snprintf(buf, sizeof buf, "k%u", c);
    in->y = intern(s->target.dict, buf);
  } else {
    in->y = (drift ? -3.0 : 3.0) * in->x[1] + (a % 4) * 1.5 + 0.2 * in->x[4] + noise +
            (d == 1 ? 2.0 : 0.0);
  }
}

static uint8_t *read_all(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *p = malloc(len > 0 ? (size_t)len : 1);
  cr_assert_not_null(p);
  *n = fread(p, 1, (size_t)(len > 0 ? len : 0), f);
  fclose(f);
  return p;
}

/* With EDDY_HT_CHECKPOINTS_WRITE set: trains each tree on the stream and
 * writes its checkpoint. */
static void write_checkpoints(void) {
  for (size_t k = 0; k < N_SCENS; k++) {
    eddy_schema_t *s = make_schema(scens[k].regression);
    eddy_learner_t *l = t_learner(scens[k].learner, s, scens[k].kv, scens[k].n_kv);
    eddy_rng_t r;
    eddy_rng_seed(&r, 42);
    eddy_instance_t in;
    eddy_instance_init(&in, s->n_attrs);
    double out[8];
    for (size_t i = 0; i < N_ROWS; i++) {
      next_row(s, &r, i, &in);
      eddy_learner_predict(l, &in, out, 8);
      cr_assert_eq(eddy_learner_learn(l, &in), 0);
    }
    eddy_buf_t b;
    eddy_buf_init(&b);
    cr_assert_eq(eddy_model_save(s, l, &b), 0);
    char path[256];
    snprintf(path, sizeof path, CKPT_DIR "/%s.ckpt", scens[k].name);
    FILE *f = fopen(path, "wb");
    cr_assert(f && fwrite(b.data, 1, b.len, f) == b.len && fclose(f) == 0, "writing %s", path);
    cr_log_info("%s: %zu bytes", path, b.len);
    eddy_learner_describe(l, stderr);
    eddy_buf_free(&b);
    eddy_instance_free(&in);
    eddy_learner_free(l);
    eddy_schema_free(s);
  }
}

Test(ht_checkpoints, saved_by_an_earlier_build_load_and_save_the_same_bytes) {
  if (getenv("EDDY_HT_CHECKPOINTS_WRITE")) {
    write_checkpoints();
    cr_skip_test("wrote the checkpoints into " CKPT_DIR);
  }
  for (size_t k = 0; k < N_SCENS; k++) {
    char path[256], err[512];
    snprintf(path, sizeof path, CKPT_DIR "/%s.ckpt", scens[k].name);
    size_t n;
    uint8_t *old = read_all(path, &n);
    if (!old) cr_skip_test("%s not found (run from the repository root)", path);
    eddy_schema_t *s;
    eddy_learner_t *l;
    cr_assert_eq(eddy_model_load(old, n, &s, &l, err, sizeof err), 0, "%s: %s", path, err);
    cr_assert_str_eq(l->type->name, scens[k].learner);
    eddy_buf_t b;
    eddy_buf_init(&b);
    cr_assert_eq(eddy_model_save(s, l, &b), 0);
    cr_assert(b.len == n && memcmp(b.data, old, n) == 0,
              "%s: saved again, %zu bytes, differs from the %zu loaded", path, b.len, n);
    /* and the loaded tree goes on learning the stream's next rows */
    eddy_rng_t r;
    eddy_rng_seed(&r, 43);
    eddy_instance_t in;
    eddy_instance_init(&in, s->n_attrs);
    double out[8];
    for (size_t i = N_ROWS; i < N_ROWS + 500; i++) {
      next_row(s, &r, i, &in);
      int c = eddy_learner_predict(l, &in, out, 8);
      cr_assert_eq(c, scens[k].regression ? 1 : (int)eddy_schema_n_classes(s), "%s", path);
      cr_assert_eq(eddy_learner_learn(l, &in), 0, "%s: row %zu", path, i);
    }
    eddy_instance_free(&in);
    eddy_buf_free(&b);
    eddy_learner_free(l);
    eddy_schema_free(s);
    free(old);
  }
}
