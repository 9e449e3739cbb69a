/* fuzz_waiting.c: the predictions waiting for their labels as a checkpoint
 * holds them (eddy_waiting_load, engine/model/waiting.c). Input: the body
 * of the WAIT section (its two offsets first); the target frames it with
 * a valid CRC so that mutated bodies reach the loader, and loads it into
 * a set of 2 attributes and 8 entries. A load must fail cleanly (the set
 * left empty) or give a set that saves to the bytes it was loaded from,
 * loads again, and takes puts, takes and expiry. Seed:
 * tests/fuzz/corpus/waiting/ (a set with waiting entries, a tombstone and
 * graves). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  eddy_buf_t b;
  eddy_buf_init(&b);
  eddy_ckpt_begin(&b);
  size_t mark = eddy_ckpt_section_begin(&b, EDDY_SECTION_WAITING);
  eddy_buf_put(&b, data, size);
  eddy_ckpt_section_end(&b, mark);
  FUZZ_CHECK(eddy_ckpt_finish(&b) == 0, "out of memory");
  int64_t in_off = 0, lab_off = 0;
  if (size >= 16) {
    memcpy(&in_off, data, 8);
    memcpy(&lab_off, data + 8, 8);
  }
  eddy_waiting_t *w = eddy_waiting_new(2, 8, 3000);
  FUZZ_CHECK(w, "out of memory");
  char err[512];
  err[0] = '\0';
  int rc = eddy_waiting_load(w, b.data, b.len, in_off, lab_off, err, sizeof err);
  if (rc) {
    FUZZ_CHECK(err[0], "a failed load without a message");
    FUZZ_CHECK(eddy_waiting_stats(w)->waiting == 0, "a failed load left entries");
  } else {
    eddy_buf_t c;
    eddy_buf_init(&c);
    FUZZ_CHECK(eddy_waiting_save(w, in_off, lab_off, &c) == 0, "save");
    FUZZ_CHECK(c.len == b.len && memcmp(c.data, b.data, b.len) == 0, "saved to other bytes than loaded");
    eddy_waiting_t *v = eddy_waiting_new(2, 8, 3000);
    FUZZ_CHECK(eddy_waiting_load(v, c.data, c.len, in_off, lab_off, err, sizeof err) == 0, "reload: %s", err);
    eddy_waiting_free(v);
    eddy_buf_free(&c);
    eddy_instance_t in;
    FUZZ_CHECK(eddy_instance_init(&in, 2) == 0, "out of memory");
    double pred[2] = {0.5, 0.5};
    char id[8];
    for (int i = 0; i < 12; i++) {
      snprintf(id, sizeof id, "r%d", i);
      eddy_instance_t *x;
      const double *p;
      int k;
      double t;
      (void)eddy_waiting_take(w, id, strlen(id), 1000.0 * i, &x, &p, &k, &t);
      FUZZ_CHECK(eddy_waiting_put(w, id, strlen(id), &in, pred, 2, 1000.0 * i) == 0, "put");
      eddy_waiting_expire(w, 1000.0 * i);
    }
    eddy_instance_free(&in);
  }
  eddy_waiting_free(w);
  eddy_buf_free(&b);
  return 0;
}
