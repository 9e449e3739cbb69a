/* component.c: setup and checkpoint header code shared by learners and
 * detectors (both are descriptor + parameters + zeroed state). */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

int eddy_component_setup(const eddy_option_t *options, size_t params_size, size_t state_size,
                         const eddy_kv_t *kv, size_t n_kv, void **params, void **state,
                         eddy_kvlist_t *copy, char *errstr, size_t errstr_size) {
  return eddy_component_setup_except(options, params_size, state_size, kv, n_kv, NULL, params,
                                     state, copy, errstr, errstr_size);
}

int eddy_component_setup_except(const eddy_option_t *options, size_t params_size,
                                size_t state_size, const eddy_kv_t *kv, size_t n_kv,
                                const char *pass_prefix, void **params, void **state,
                                eddy_kvlist_t *copy, char *errstr, size_t errstr_size) {
  *params = calloc(1, params_size ? params_size : 1);
  *state = calloc(1, state_size ? state_size : 1);
  memset(copy, 0, sizeof *copy);
  int err = (*params && *state) ? 0 : EDDY_ENOMEM;
  if (err) eddy_seterr(errstr, errstr_size, err, "out of memory");
  if (!err && (err = eddy_options_defaults(options, *params)))
    eddy_seterr(errstr, errstr_size, err, "bad default in option table");
  if (!err)
    err = eddy_options_apply_except(options, *params, kv, n_kv, pass_prefix, errstr, errstr_size);
  if (!err && (err = eddy_kvlist_copy(copy, kv, n_kv)))
    eddy_seterr(errstr, errstr_size, err, "out of memory");
  if (err) eddy_component_teardown(options, params, state, copy);
  return err;
}

void eddy_component_teardown(const eddy_option_t *options, void **params, void **state,
                             eddy_kvlist_t *copy) {
  if (*params) eddy_options_free(options, *params);
  free(*params);
  free(*state);
  *params = *state = NULL;
  eddy_kvlist_free(copy);
}

void eddy_component_save_header(const char *name, uint64_t seed, const eddy_kvlist_t *kv,
                                const eddy_rng_t *rng, eddy_buf_t *b) {
  eddy_buf_put_str(b, name);
  eddy_buf_put_u64(b, seed);
  eddy_kvlist_save(kv->v, kv->n, b);
  eddy_rng_save(rng, b);
}

int eddy_component_load_header(eddy_reader_t *r, char *name, size_t name_size, uint64_t *seed,
                               eddy_kvlist_t *kv) {
  eddy_read_str(r, name, name_size);
  *seed = eddy_read_u64(r);
  if (!r->err) eddy_kvlist_load(kv, r);
  return r->err;
}

int eddy_unknown_name(char *errstr, size_t errstr_size, const char *what, const char *name,
                      const char *known) {
  return eddy_seterr(errstr, errstr_size, EDDY_ENOENT, "unknown %s '%s' (known: %s)", what, name,
                     known);
}
