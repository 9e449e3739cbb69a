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

/* Issue 19 item 3: a prediction never contradicts its probabilities. The
 * first prediction (nothing learned) used to be {"prediction":"1",
 * "probabilities":{"1":0}}, and a Hoeffding tree's fresh leaves gave every
 * class 0. Each prediction is encoded as the sink would (JSON) and read
 * back: null with no probabilities until something was learned, then
 * probabilities summing to 1 with the predicted class's the largest. */
#include <avro.h>
#include <jansson.h>

typedef struct {
  eddy_output_t *out, *avro_out;
  eddy_config_t *avro_conf;
  avro_schema_t schema;
  avro_value_iface_t *iface;
  uint64_t n, nulls;
} probe_t;

/* The same prediction through the Avro encoder (configs/prediction.avsc),
 * read back with avro-c: null with an empty map, or the largest of
 * probabilities summing to 1. */
static void check_avro(probe_t *pr, const eddy_prediction_t *p, int learned) {
  eddy_buf_t b;
  eddy_buf_init(&b);
  cr_assert_eq(eddy_output_encode(pr->avro_out, p, &b), 0);
  avro_value_t v, fv, br, pv;
  avro_generic_value_new(pr->iface, &v);
  avro_reader_t rd = avro_reader_memory((const char *)b.data, (int64_t)b.len);
  cr_assert_eq(avro_value_read(rd, &v), 0, "%s", avro_strerror());
  avro_reader_free(rd);
  avro_value_get_by_name(&v, "prediction", &fv, NULL);
  avro_value_get_current_branch(&fv, &br);
  avro_value_get_by_name(&v, "probabilities", &pv, NULL);
  size_t n = 0;
  avro_value_get_size(&pv, &n);
  if (!learned) {
    cr_assert_eq(avro_value_get_type(&br), AVRO_NULL, "record %llu: Avro prediction not null", (unsigned long long)pr->n);
    cr_assert_eq(n, 0);
  } else {
    const char *cls;
    size_t len;
    cr_assert_eq(avro_value_get_string(&br, &cls, &len), 0, "record %llu", (unsigned long long)pr->n);
    double sum = 0, top = -1, mine = -1;
    for (size_t i = 0; i < n; i++) {
      avro_value_t e;
      const char *name;
      double d;
      avro_value_get_by_index(&pv, i, &e, &name);
      avro_value_get_double(&e, &d);
      sum += d;
      if (d > top) top = d;
      if (!strcmp(name, cls)) mine = d;
    }
    cr_assert_eq(mine, top, "record %llu: Avro prediction %s has %g, the largest is %g", (unsigned long long)pr->n,
                 cls, mine, top);
    cr_assert_float_eq(sum, 1.0, 1e-12, "record %llu: Avro probabilities sum to %.17g", (unsigned long long)pr->n, sum);
  }
  avro_value_decref(&v);
  eddy_buf_free(&b);
}

static void check_prediction(void *ctx, eddy_replica_t *r, const eddy_instance_t *in, int k) {
  probe_t *pr = ctx;
  eddy_prediction_t p = {.pipeline = "t", .topic = "in", .partition = 0, .offset = (int64_t)pr->n,
                         .schema = r->schema, .scores = r->pred, .k = k,
                         .predicted = eddy_replica_predicted(r), .has_label = 1, .label = in->y,
                         .model_version = 1, .time = 1};
  eddy_buf_t b;
  eddy_buf_init(&b);
  cr_assert_eq(eddy_output_encode(pr->out, &p, &b), 0);
  json_error_t je;
  json_t *j = json_loadb((const char *)b.data, b.len, 0, &je);
  cr_assert_not_null(j, "%s", je.text);
  json_t *pred = json_object_get(j, "prediction"), *probs = json_object_get(j, "probabilities");
  cr_assert(json_is_object(probs));
  if (r->learned == 0) {
    cr_assert(json_is_null(pred), "record %llu: %.*s", (unsigned long long)pr->n, (int)b.len, b.data);
    cr_assert_eq(json_object_size(probs), 0);
    pr->nulls++;
  } else {
    cr_assert(json_is_string(pred), "record %llu: %.*s", (unsigned long long)pr->n, (int)b.len, b.data);
    json_t *mine = json_object_get(probs, json_string_value(pred));
    cr_assert(json_is_number(mine), "record %llu: %.*s", (unsigned long long)pr->n, (int)b.len, b.data);
    double sum = 0, top = json_number_value(mine);
    const char *name;
    json_t *v;
    json_object_foreach(probs, name, v) {
      double x = json_number_value(v);
      cr_assert(x >= 0 && x <= 1, "record %llu: %s = %g", (unsigned long long)pr->n, name, x);
      cr_assert(x <= top, "record %llu: %s has %g, the predicted class %g: %.*s",
                (unsigned long long)pr->n, name, x, top, (int)b.len, b.data);
      sum += x;
    }
    cr_assert_float_eq(sum, 1.0, 1e-12, "record %llu: probabilities sum to %.17g: %.*s",
                       (unsigned long long)pr->n, sum, (int)b.len, b.data);
  }
  json_decref(j);
  eddy_buf_free(&b);
  check_avro(pr, &p, r->learned > 0);
  pr->n++;
}

static void check_predictions(const char *model) {
  fx_t a;
  make(&a, model);
  probe_t pr = {.out = eddy_output_new(&a.c->pipelines[0], err, sizeof err)};
  cr_assert_not_null(pr.out, "%s", err);
  char text[1024];
  snprintf(text, sizeof text, "[pipeline]\nname = t\n[features]\nnumeric = a\ntarget = y\n[sink]\nformat = avro\n");
  pr.avro_conf = eddy_config_parse(text, "a.ini", err, sizeof err);
  cr_assert_not_null(pr.avro_conf, "%s", err);
  cr_assert_not_null(pr.avro_out = eddy_output_new(&pr.avro_conf->pipelines[0], err, sizeof err), "%s", err);
  FILE *f = fopen("configs/prediction.avsc", "r");
  if (!f) cr_skip_test("configs/prediction.avsc not found (run from the repository root)");
  char json[4096];
  size_t len = fread(json, 1, sizeof json - 1, f);
  json[len] = '\0';
  fclose(f);
  cr_assert_eq(avro_schema_from_json_length(json, len, &pr.schema), 0);
  pr.iface = avro_generic_class_from_schema(pr.schema);
  eddy_kv_t kv[] = {{"function", "1", NULL, 0}, {"drift_to", "5", NULL, 0}, {"drift_at", "3000", NULL, 0},
                    {"drift_width", "1", NULL, 0}};
  feed_generator_cb(a.r, "agrawal", kv, 4, 9, 0, 20000, 20000, check_prediction, &pr);
  cr_assert_eq(pr.nulls, 1, "%s: one prediction before anything was learned, %llu null", model,
               (unsigned long long)pr.nulls);
  eddy_output_free(pr.out);
  eddy_output_free(pr.avro_out);
  eddy_config_free(pr.avro_conf);
  avro_value_iface_decref(pr.iface);
  avro_schema_decref(pr.schema);
  destroy(&a);
}

Test(replica, predictions_agree_with_probabilities_hoeffding_tree) {
  check_predictions("[model]\nlearner = hoeffding_tree\ngrace_period = 50");
}
Test(replica, predictions_agree_with_probabilities_naive_bayes) { check_predictions("[model]\nlearner = naive_bayes"); }
Test(replica, predictions_agree_with_probabilities_majority) { check_predictions("[model]\nlearner = majority"); }

/* eddy_replica_score (HTTP predicts) predicts as eddy_replica_predict does
 * and changes nothing a checkpoint holds: not the instance count, not the
 * data-drift detectors' windows. Replica a learns rows [0, 2000); c learns
 * the same rows and more, and each of c's later rows is scored by a. */
typedef struct {
  eddy_replica_t *a;
  uint64_t calls, compared;
} score_ctx_t;

static void score_on_a(void *ctx, eddy_replica_t *c, const eddy_instance_t *in, int k) {
  score_ctx_t *s = ctx;
  if (++s->calls <= 2000) return;
  int ka = eddy_replica_score(s->a, in);
  if (s->calls == 2001) { /* c is a's twin until it learns this row */
    cr_assert_eq(ka, k);
    for (int i = 0; i < k; i++) cr_assert_eq(s->a->pred[i], c->pred[i], "class %d", i);
    s->compared++;
  }
}

Test(replica, score_is_read_only) {
  const char *model = "[model]\nlearner = naive_bayes\n[drift]\ndetector = adwin\ndata_detectors = psi, ks\n";
  fx_t a, c;
  make(&a, model);
  make(&c, model);
  feed(a.r, 0, 2000);
  eddy_buf_t before, after;
  eddy_buf_init(&before);
  eddy_buf_init(&after);
  cr_assert_eq(eddy_replica_save(a.r, &before), 0);
  uint64_t index = a.r->index;
  score_ctx_t s = {a.r, 0, 0};
  eddy_kv_t kv[] = {{"function", "1", NULL, 0}, {"drift_to", "5", NULL, 0}, {"drift_at", "3000", NULL, 0},
                    {"drift_width", "1", NULL, 0}};
  feed_generator_cb(c.r, "agrawal", kv, 4, 9, 0, 4000, 4000, score_on_a, &s);
  cr_assert_eq(s.compared, 1);
  cr_assert_eq(a.r->index, index, "instances counted by score");
  cr_assert_eq(eddy_replica_save(a.r, &after), 0);
  cr_assert_eq(before.len, after.len);
  cr_assert(memcmp(before.data, after.data, before.len) == 0, "2000 scores changed the checkpoint bytes");
  eddy_buf_free(&before);
  eddy_buf_free(&after);
  destroy(&a);
  destroy(&c);
}
