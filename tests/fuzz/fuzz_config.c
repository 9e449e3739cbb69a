/* fuzz_config.c: config files (eddy_config_parse over inih: sections,
 * option tables, continuation lines, file-level defaults, several
 * pipelines, learner and detector parameters, [state] aggregates). Input:
 * the text of a config (cut at its first NUL byte, as a file with one is
 * refused before parsing). A config that parses is then used as the engine
 * uses it: its pipelines looked up and their keys' origins read, the field
 * map built with the aggregates' inputs and bound to them, a few records
 * joined and updated through the aggregates, and a model replica made
 * (learner and drift set-up) unless the config asks for large buffers,
 * which is legitimate and not this target's business. Seeds: the .ini files
 * of configs/ and corpus/config/; dictionary: generated from the option
 * tables by make_corpus. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether a replica of c would stay small: retrain window and every
 * numeric learner or detector parameter bounded. */
static int small_enough(const eddy_pipeline_conf_t *c, size_t n_attrs) {
  if ((double)c->drift.retrain_window * (double)(n_attrs + 2) > 1e6) return 0;
  const eddy_kvlist_t *lists[] = {&c->model_params, &c->drift_params};
  for (int i = 0; i < 2; i++)
    for (size_t j = 0; j < lists[i]->n; j++) {
      double v;
      if (eddy_parse_double(lists[i]->v[j].value, &v) == 0 && fabs(v) > 1e5) return 0;
    }
  return 1;
}

static void use_pipeline(const eddy_pipeline_conf_t *pc, uint64_t seed) {
  char err[1024];
  FUZZ_CHECK(pc->file && pc->line > 0, "pipeline without its origin");
  static const char *const keys[][2] = {{"pipeline", "name"}, {"features", "target"},
                                        {"state", "aggregates"}, {"model", "learner"}};
  for (size_t i = 0; i < 4; i++) {
    const eddy_kv_t *kv = eddy_conf_where(pc, keys[i][0], keys[i][1]);
    if (kv) FUZZ_CHECK(kv->value && kv->line > 0, "key without its origin");
  }
  eddy_aggs_t *a = eddy_aggs_new(pc, err, sizeof err);
  FUZZ_CHECK(a, "aggregates that parsed are refused: %s", err);
  eddy_fields_t *f = eddy_fields_new(pc, NULL, 0, (const char *const *)a->inputs, a->n_inputs, err, sizeof err);
  if (f && eddy_aggs_bind(a, f, err, sizeof err) == 0) {
    eddy_schema_t *s = eddy_fields_schema(f, err, sizeof err);
    FUZZ_CHECK(s, "a field map makes no schema: %s", err);
    eddy_record_t rec;
    double *state = malloc(a->n_slots * sizeof *state), *out = malloc((a->n + 1) * sizeof *out);
    FUZZ_CHECK(state && out && eddy_record_init(&rec, f) == 0, "out of memory");
    eddy_aggs_reset(a, state);
    fuzz_rng_t g = {seed};
    double t = 1.7e12;
    for (int i = 0; i < 8; i++) {
      eddy_record_clear(&rec);
      for (size_t j = 0; j < f->n; j++) {
        if (fuzz_next(&g) % 4 == 0) continue;
        eddy_record_set_number(&rec, f, s, &f->v[j], (double)(int)(fuzz_next(&g) % 2000) - 500, err, sizeof err);
      }
      t += (double)(fuzz_next(&g) % 100000);
      double tm = eddy_aggs_time_ms(a, &rec, t);
      eddy_aggs_eval(a, state, &rec, tm, out);
      eddy_aggs_join(a, state, &rec, tm);
      eddy_aggs_update(a, state, &rec, tm);
    }
    if (small_enough(pc, f->n_attrs)) {
      eddy_replica_t *r = eddy_replica_new(pc, f, 10, err, sizeof err);
      FUZZ_CHECK(r, "a config that parsed makes no replica: %s", err);
      eddy_replica_free(r);
    }
    free(state);
    free(out);
    eddy_record_free(&rec);
    eddy_schema_free(s);
  }
  eddy_fields_free(f);
  eddy_aggs_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = eddy_strndup((const char *)data, size); /* parsed up to its first NUL */
  FUZZ_CHECK(text, "out of memory");
  char err[2048] = "";
  eddy_config_t *c = eddy_config_parse(text, "fuzz.ini", err, sizeof err);
  if (c) {
    FUZZ_CHECK(c->n_pipelines > 0, "a config without pipelines");
    FUZZ_CHECK(eddy_config_pipeline(c, NULL) == &c->pipelines[0], "first pipeline");
    for (size_t i = 0; i < c->n_pipelines; i++) {
      FUZZ_CHECK(eddy_config_pipeline(c, c->pipelines[i].pipeline.name) == &c->pipelines[i],
                 "pipeline names are unique");
      use_pipeline(&c->pipelines[i], eddy_hash(data, size) + i);
    }
    eddy_config_free(c);
  } else {
    FUZZ_CHECK(err[0], "a refused config without a message");
  }
  free(text);
  return 0;
}
