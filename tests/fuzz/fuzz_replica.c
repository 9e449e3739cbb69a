/* fuzz_replica.c: replica checkpoints (eddy_replica_load: schema checked
 * against the config, learner, counters, and the drift state: concept and
 * data detectors, background learner, retrain window). Input: two bytes
 * that pick the pipeline, then a checkpoint.
 *   byte 0: the learner (byte % number of learners in the registry)
 *   byte 1: bits 0-3 the concept detector ((bits % (detectors + 1)) - 1,
 *           none at 0), bits 4-5 the action (alert, reset, retrain, swap),
 *           bit 6 every data detector on, bit 7 regression when the learner
 *           does both tasks.
 * The learner section gets the picked learner's name and the CRC is
 * recomputed (see fuzz_checkpoint.c). A load must fail cleanly and leave
 * the replica as it was, or give a replica that runs records (drift
 * actions included) and round-trips through save and load. Seeds:
 * make_corpus (trained replicas over the registries). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_RECORDS 24

typedef struct {
  eddy_config_t *conf;
  eddy_fields_t *fields;
} pipe_t;

static const char *const action_names[] = {"alert", "reset", "retrain", "swap"};

static const char *const concept_small[] = {"min_instances", "5", "min_errors", "5", "clock", "4", NULL};
static const char *const data_small[] = {"reference_size", "8", "window_size", "8", "interval", "8", NULL};

/* KEY = VALUE for each pair whose key the detector has (prefixed NAME.
 * for data detectors). */
static void set_small(const eddy_detector_type_t *t, const char *prefix, const char *const *kv,
                      eddy_buf_t *text) {
  for (; kv[0]; kv += 2)
    if (eddy_options_find(t->options, kv[0]))
      eddy_buf_printf(text, "%s%s%s = %s\n", prefix ? prefix : "", prefix ? "." : "", kv[0], kv[1]);
}

/* The pipeline config for selector bytes b0, b1 (make_corpus writes its
 * seeds through the same function). */
static void fuzz_replica_config(uint8_t b0, uint8_t b1, eddy_buf_t *text) {
  const eddy_detector_type_t *concept[64], *data[64];
  size_t nc = fuzz_concept_detectors(concept, 64), nd = fuzz_data_detectors(data, 64);
  const eddy_learner_type_t *lt = eddy_learner_types[b0 % fuzz_n_learners()];
  int regression = (lt->tasks & EDDY_REGRESSION) &&
                   (!(lt->tasks & EDDY_CLASSIFICATION) || (b1 & 0x80));
  size_t det = (size_t)(b1 & 0x0f) % (nc + 1);
  eddy_buf_clear(text);
  eddy_buf_printf(text,
                  "[pipeline]\nname = fuzz\ntask = %s\nseed = 7\n"
                  "[features]\nnumeric = a, b\nnominal = c\ntarget = y\nmax_values = 6\nmax_classes = 6\n",
                  regression ? "regression" : "classification");
  fuzz_model_section(text, lt, regression);
  eddy_buf_printf(text, "[drift]\naction = %s\nretrain_window = 16\nretrain_epochs = 2\n",
                  action_names[(b1 >> 4) & 3]);
  /* Small windows and warm-ups so that a few records reach the tests
   * and the drift actions. */
  if (det) {
    eddy_buf_printf(text, "detector = %s\n", concept[det - 1]->name);
    set_small(concept[det - 1], NULL, concept_small, text);
  }
  if ((b1 & 0x40) && nd) {
    eddy_buf_printf(text, "data_detectors = ");
    for (size_t i = 0; i < nd; i++) eddy_buf_printf(text, "%s%s", i ? ", " : "", data[i]->name);
    eddy_buf_printf(text, "\n");
    for (size_t i = 0; i < nd; i++) set_small(data[i], data[i]->name, data_small, text);
  }
  eddy_buf_put_u8(text, 0);
  FUZZ_CHECK(!text->err, "out of memory");
}

static pipe_t *fuzz_replica_pipe(uint8_t b0, uint8_t b1) {
  static pipe_t *cache;
  static size_t n_learners;
  if (!cache) {
    n_learners = fuzz_n_learners();
    cache = calloc(n_learners * 256, sizeof *cache);
    FUZZ_CHECK(cache, "out of memory");
  }
  pipe_t *p = &cache[(b0 % n_learners) * 256 + b1];
  if (p->conf) return p;
  eddy_buf_t text;
  eddy_buf_init(&text);
  fuzz_replica_config(b0, b1, &text);
  p->conf = fuzz_config((const char *)text.data);
  eddy_buf_free(&text);
  char err[1024];
  p->fields = eddy_fields_new(&p->conf->pipelines[0], NULL, 0, NULL, 0, err, sizeof err);
  FUZZ_CHECK(p->fields, "%s", err);
  return p;
}

static eddy_replica_t *new_replica(pipe_t *p) {
  char err[1024];
  eddy_replica_t *r = eddy_replica_new(&p->conf->pipelines[0], p->fields, 50, err, sizeof err);
  FUZZ_CHECK(r, "%s", err);
  return r;
}

static void save(const eddy_replica_t *r, eddy_buf_t *b) {
  eddy_buf_clear(b);
  FUZZ_CHECK(eddy_replica_save(r, b) == 0, "replica does not save");
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  pipe_t *p = fuzz_replica_pipe(data[0], data[1]);
  eddy_replica_t *r = new_replica(p);
  eddy_buf_t blob, a, b;
  eddy_buf_init(&blob);
  eddy_buf_init(&a);
  eddy_buf_init(&b);
  fuzz_ckpt_prepare(data + 2, size - 2, r->learner->type->name, &blob);
  save(r, &a);
  char err[1024] = "";
  int rc = eddy_replica_load(r, blob.data, blob.len, err, sizeof err);
  if (rc) {
    FUZZ_CHECK(err[0], "a failed load without a message");
    save(r, &b);
    FUZZ_CHECK(a.len == b.len && !memcmp(a.data, b.data, a.len), "a failed load changed the replica");
  }
  /* Records through the replica (loaded or not): predict, learn, drift. */
  fuzz_rng_t g = {eddy_hash(data, size)};
  eddy_instance_t in;
  FUZZ_CHECK(eddy_instance_init(&in, r->schema->n_attrs) == 0, "out of memory");
  for (int i = 0; i < N_RECORDS; i++) {
    fuzz_instance(&g, r->schema, &in);
    int k = eddy_replica_predict(r, &in);
    FUZZ_CHECK(k <= (int)r->pred_cap, "predict wrote %d values into %zu", k, r->pred_cap);
    eddy_replica_learn(r, &in);
  }
  /* Saved, loaded into a fresh replica and saved again: the same bytes. */
  save(r, &a);
  eddy_replica_t *r2 = new_replica(p);
  rc = eddy_replica_load(r2, a.data, a.len, err, sizeof err);
  FUZZ_CHECK(rc == 0, "a checkpoint just saved does not load: %s", err);
  save(r2, &b);
  FUZZ_CHECK(a.len == b.len && !memcmp(a.data, b.data, a.len),
             "saved, loaded and saved again: %zu bytes, then %zu bytes differ", a.len, b.len);
  eddy_instance_free(&in);
  eddy_replica_free(r2);
  eddy_replica_free(r);
  eddy_buf_free(&blob);
  eddy_buf_free(&a);
  eddy_buf_free(&b);
  return 0;
}
#endif
