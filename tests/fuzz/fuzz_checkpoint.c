/* fuzz_checkpoint.c: model checkpoints (eddy_model_load: framing, schema,
 * the learner's generic header and its own load). Input: one byte that
 * picks a learner of the registry (byte % number of learners, so learners
 * added later are covered without touching this file), then a checkpoint.
 * The target writes the picked learner's name into the checkpoint's learner
 * section and recomputes the CRC-32 over the mutated body, so that the
 * fuzzer's changes reach the loaders instead of stopping at the CRC. A
 * load must fail cleanly or give a model that predicts, learns and
 * round-trips through save and load; ASan, UBSan and LeakSanitizer watch
 * the rest. Seeds: make_corpus (one trained checkpoint per learner and
 * task). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  static size_t n_learners;
  if (!n_learners) n_learners = fuzz_n_learners();
  const eddy_learner_type_t *type = eddy_learner_types[data[0] % n_learners];
  eddy_buf_t blob;
  eddy_buf_init(&blob);
  fuzz_ckpt_prepare(data + 1, size - 1, type->name, &blob);
  eddy_schema_t *s;
  eddy_learner_t *l;
  char err[1024];
  int rc = eddy_model_load(blob.data, blob.len, &s, &l, err, sizeof err);
  if (rc == 0) {
    FUZZ_CHECK(s && l && l->schema == s, "loaded without a schema or learner");
    fuzz_exercise_learner(l, s, eddy_hash(data, size));
    eddy_learner_free(l);
    eddy_schema_free(s);
  } else {
    FUZZ_CHECK(!s && !l, "a failed load left a model");
    FUZZ_CHECK(err[0], "a failed load without a message");
  }
  eddy_buf_free(&blob);
  return 0;
}
