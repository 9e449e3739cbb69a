/* test_replica.c: a model replica's checkpoint: a run stopped, saved,
 * restored into a new replica and continued ends with the same bytes as an
 * uninterrupted run; checkpoints that do not fit the config are refused. */
#include <criterion/criterion.h>
#include <string.h>

#include "core/core.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
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

/* The checkpoint in `in` with the body of its section `tag` cut to `keep`
 * bytes, framed and with a valid CRC (what a fuzzer reaches once it gets
 * past the CRC). */
static void cut_section(const eddy_buf_t *in, uint32_t tag, size_t keep, eddy_buf_t *out) {
  eddy_buf_clear(out);
  eddy_buf_put(out, in->data, 8);
  eddy_reader_t r;
  eddy_reader_init(&r, in->data + 8, in->len - 12);
  while (r.pos < r.len) {
    uint32_t t = eddy_read_u32(&r);
    uint64_t n = eddy_read_u64(&r);
    cr_assert_eq(r.err, 0);
    size_t m = t == tag && keep < n ? keep : (size_t)n;
    eddy_buf_put_u32(out, t);
    eddy_buf_put_u64(out, m);
    eddy_buf_put(out, r.p + r.pos, m);
    r.pos += (size_t)n;
  }
  eddy_buf_put_u32(out, eddy_crc32(out->data, out->len));
}

/* Found by fuzz_replica: a truncated meta section, or a drift section
 * whose detector state is cut short, was refused with no message at all
 * (the caller logged an empty reason, or an older one). */
Test(replica, every_refusal_says_why) {
  fx_t a, b;
  const char *model = "[model]\nlearner = naive_bayes\n[drift]\ndetector = ddm\naction = retrain\nretrain_window = 50";
  make(&a, model);
  feed(a.r, 0, 300);
  eddy_buf_t blob, cut;
  eddy_buf_init(&blob);
  eddy_buf_init(&cut);
  cr_assert_eq(eddy_replica_save(a.r, &blob), 0);
  make(&b, model);
  cr_assert_eq(eddy_replica_load(b.r, blob.data, blob.len, err, sizeof err), 0, "%s", err);
  cut_section(&blob, EDDY_SECTION_META, 16, &cut);
  strcpy(err, "stale");
  cr_assert_eq(eddy_replica_load(b.r, cut.data, cut.len, err, sizeof err), EDDY_ECORRUPT);
  cr_assert(strstr(err, "meta section is truncated"), "%s", err);
  for (size_t keep = 0; keep < 200; keep += 7) {
    cut_section(&blob, EDDY_TAG('D', 'R', 'F', 'T'), keep, &cut);
    strcpy(err, "stale");
    cr_assert_neq(eddy_replica_load(b.r, cut.data, cut.len, err, sizeof err), 0, "drift cut to %zu", keep);
    cr_assert(err[0] && strcmp(err, "stale") != 0, "drift cut to %zu: '%s'", keep, err);
  }
  cr_assert_eq(b.r->index, 300, "refusals leave the replica as it was");
  eddy_buf_free(&blob);
  eddy_buf_free(&cut);
  destroy(&a);
  destroy(&b);
}

/* Found by fuzz_replica: the retrain window of a checkpoint was loaded as
 * is, and the next drift replayed its rows into a fresh learner, which
 * takes class and value indices as subscripts (softmax_regression cast a
 * class of 4e180 to an index). A row must be an instance a decoder could
 * have made over the checkpoint's schema. */
Test(replica, retrain_window_rows_are_checked) {
  fx_t a, b;
  const char *model = "[model]\nlearner = naive_bayes\n[drift]\ndetector = ddm\naction = retrain\nretrain_window = 50";
  make(&a, model);
  feed(a.r, 0, 300);
  eddy_buf_t blob;
  eddy_buf_init(&blob);
  cr_assert_eq(eddy_replica_save(a.r, &blob), 0);
  make(&b, model);
  eddy_reader_t sec;
  cr_assert_eq(eddy_ckpt_section(blob.data, blob.len, EDDY_TAG('D', 'R', 'F', 'T'), 0, &sec), 0);
  /* The last row ends the section: x[9] f64, h[9] u64, missing[9], y, w. */
  size_t end = (size_t)(sec.p - blob.data) + sec.len, row = end - 16 - 17 * 9;
  size_t at[] = {end - 16, end - 16, end - 8, row + 6 * 8, row + 16 * 9 + 2};
  const double bad[] = {4.07e180, 2.0, -1.0, 1e9, 0};
  for (int k = 0; k < 5; k++) {
    uint8_t saved[8];
    memcpy(saved, blob.data + at[k], 8);
    if (k == 4) blob.data[at[k]] = 7; /* a missing flag of 7 */
    else memcpy(blob.data + at[k], &bad[k], 8);
    uint32_t crc = eddy_crc32(blob.data, blob.len - 4);
    for (int i = 0; i < 4; i++) blob.data[blob.len - 4 + (size_t)i] = (uint8_t)(crc >> (8 * i));
    cr_assert_eq(eddy_replica_load(b.r, blob.data, blob.len, err, sizeof err), EDDY_ECORRUPT, "case %d", k);
    cr_assert(strstr(err, "retrain window"), "case %d: %s", k, err);
    memcpy(blob.data + at[k], saved, 8);
  }
  uint32_t crc = eddy_crc32(blob.data, blob.len - 4);
  for (int i = 0; i < 4; i++) blob.data[blob.len - 4 + (size_t)i] = (uint8_t)(crc >> (8 * i));
  cr_assert_eq(eddy_replica_load(b.r, blob.data, blob.len, err, sizeof err), 0, "%s", err);
  eddy_buf_free(&blob);
  destroy(&a);
  destroy(&b);
}

/* A [model] fallback is part of the checkpoint: its learner, who answered
 * last, and the model's windowed record (with a drift reset, so that a new
 * model version starts that record again mid-stream). */
Test(replica, resume_is_byte_identical_with_fallback) {
  check_resume("[model]\nlearner = naive_bayes\nfallback = majority\nwarmup = 300\nfallback_below = 0.7\n"
               "[drift]\ndetector = ddm\naction = reset");
}

Test(replica, fallback_section_refusals_say_why) {
  fx_t a, b;
  const char *model = "[model]\nlearner = naive_bayes\nfallback = majority\nwarmup = 100";
  make(&a, model);
  feed(a.r, 0, 300);
  eddy_buf_t blob, cut;
  eddy_buf_init(&blob);
  eddy_buf_init(&cut);
  cr_assert_eq(eddy_replica_save(a.r, &blob), 0);
  make(&b, "[model]\nlearner = naive_bayes");
  cr_assert_eq(eddy_replica_load(b.r, blob.data, blob.len, err, sizeof err), EDDY_EINVAL);
  cr_assert(strstr(err, "fallback"), "%s", err);
  destroy(&b);
  make(&b, model);
  for (size_t keep = 0; keep < 200; keep += 7) {
    cut_section(&blob, EDDY_TAG('F', 'L', 'B', 'K'), keep, &cut);
    strcpy(err, "stale");
    cr_assert_neq(eddy_replica_load(b.r, cut.data, cut.len, err, sizeof err), 0, "cut at %zu", keep);
    cr_assert(strcmp(err, "stale") && err[0], "cut at %zu: no reason given", keep);
    cr_assert_eq(b.r->index, 0);
  }
  eddy_buf_free(&blob);
  eddy_buf_free(&cut);
  destroy(&a);
  destroy(&b);
}
