/* detector.c: the generic side of every drift detector: creation from the
 * registry and parameters, and checkpoint sections. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detectors.h"

const eddy_detector_type_t *eddy_detector_type_find(const char *name) {
  for (const eddy_detector_type_t *const *t = eddy_detector_types; *t; t++)
    if (strcmp((*t)->name, name) == 0) return *t;
  return NULL;
}

void eddy_detector_type_names(char *buf, size_t size) {
  size_t n = 0;
  if (size) buf[0] = '\0';
  for (const eddy_detector_type_t *const *t = eddy_detector_types; *t && n < size; t++)
    n += (size_t)snprintf(buf + n, size - n, "%s%s", t == eddy_detector_types ? "" : ", ",
                          (*t)->name);
}

const char *eddy_drift_name(eddy_drift_t s) {
  switch (s) {
  case EDDY_DRIFT_WARNING: return "warning";
  case EDDY_DRIFT_DRIFT: return "drift";
  default: return "none";
  }
}

int eddy_detector_check_input(const eddy_detector_type_t *t, double x, char *errstr, size_t errstr_size) {
  static const char *const takes[] = {"a finite number", "0 or 1 (an error: 1, or a hit: 0)",
                                      "a number in [0, 1]"};
  int ok = isfinite(x) && (t->input != EDDY_INPUT_BINARY || x == 0 || x == 1) &&
           (t->input != EDDY_INPUT_UNIT || (x >= 0 && x <= 1));
  if (ok) return 0;
  return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "%s takes %s", t->name, takes[t->input]);
}

eddy_detector_t *eddy_detector_new(const char *name, const eddy_kv_t *kv, size_t n_kv,
                                   uint64_t seed, char *errstr, size_t errstr_size) {
  const eddy_detector_type_t *type = eddy_detector_type_find(name ? name : "");
  if (!type) {
    char known[1024];
    eddy_detector_type_names(known, sizeof known);
    eddy_unknown_name(errstr, errstr_size, "detector", name ? name : "",
                      known[0] ? known : "none");
    return NULL;
  }
  eddy_detector_t *d = calloc(1, sizeof *d);
  if (!d) {
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    return NULL;
  }
  d->type = type;
  d->seed = seed;
  eddy_rng_seed(&d->rng, seed);
  if (eddy_component_setup(type->options, type->params_size, type->state_size, kv, n_kv,
                           &d->params, &d->state, &d->kv, errstr, errstr_size)) {
    free(d);
    return NULL;
  }
  if (type->init && type->init(d, errstr, errstr_size)) {
    eddy_component_teardown(type->options, &d->params, &d->state, &d->kv);
    free(d);
    return NULL;
  }
  return d;
}

void eddy_detector_free(eddy_detector_t *d) {
  if (!d) return;
  if (d->type->destroy) d->type->destroy(d);
  eddy_component_teardown(d->type->options, &d->params, &d->state, &d->kv);
  free(d);
}

void eddy_detector_reset(eddy_detector_t *d) {
  if (d->type->reset) d->type->reset(d);
}

size_t eddy_detector_memory(const eddy_detector_t *d) {
  size_t m = sizeof *d + d->type->params_size;
  return m + (d->type->memory ? d->type->memory(d) : d->type->state_size);
}

void eddy_detector_stat(const eddy_detector_t *d, double *statistic, double *threshold) {
  *statistic = *threshold = 0.0;
  if (d->type->stat) d->type->stat(d, statistic, threshold);
}

int eddy_detector_save(const eddy_detector_t *d, eddy_buf_t *b) {
  size_t mark = eddy_ckpt_section_begin(b, EDDY_SECTION_DETECTOR);
  eddy_component_save_header(d->type->name, d->seed, &d->kv, &d->rng, b);
  int err = d->type->save ? d->type->save(d, b) : 0;
  eddy_ckpt_section_end(b, mark);
  return err ? err : b->err;
}

eddy_detector_t *eddy_detector_load(eddy_reader_t *r, char *errstr, size_t errstr_size) {
  char name[128];
  uint64_t seed;
  eddy_kvlist_t kv = {0};
  if (eddy_component_load_header(r, name, sizeof name, &seed, &kv)) {
    eddy_kvlist_free(&kv);
    eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT, "detector section is truncated");
    return NULL;
  }
  eddy_detector_t *d = eddy_detector_new(name, kv.v, kv.n, seed, errstr, errstr_size);
  eddy_kvlist_free(&kv);
  if (!d) return NULL;
  eddy_rng_load(&d->rng, r);
  int err = r->err;
  if (!err && d->type->save) err = d->type->load ? d->type->load(d, r) : EDDY_ENOTSUP;
  if (!err && r->err) err = r->err;
  if (!err && r->pos != r->len) err = EDDY_ECORRUPT;
  if (err) {
    eddy_seterr(errstr, errstr_size, err, "detector '%s': cannot load its state: %s", name,
                eddy_strerror(err));
    eddy_detector_free(d);
    return NULL;
  }
  return d;
}
