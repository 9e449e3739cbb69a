/* generator.c: the generic side of every synthetic stream: creation from
 * the registry and options (as learners are made), and concept drift as
 * MOA's ConceptDriftStream adds it: two streams of the same type, the old
 * concept and the new, and at instance t (counted from 1) the new one is
 * chosen with probability 1 / (1 + exp(-4 (t - drift_at) / drift_width)).
 * Each inner stream advances only when it is chosen, as in MOA. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "generators.h"

const eddy_generator_type_t *eddy_generator_type_find(const char *name) {
  for (const eddy_generator_type_t *const *t = eddy_generator_types; *t; t++)
    if (strcmp((*t)->name, name) == 0) return *t;
  return NULL;
}

void eddy_generator_type_names(char *buf, size_t size) {
  size_t n = 0;
  if (size) buf[0] = '\0';
  for (const eddy_generator_type_t *const *t = eddy_generator_types; *t && n < size; t++)
    n += (size_t)snprintf(buf + n, size - n, "%s%s", t == eddy_generator_types ? "" : ", ",
                          (*t)->name);
}

/* ------------------------------------------------------------ drift keys */

typedef struct {
  char to[64];   /* the concept key's value after the drift; "" = no drift */
  int64_t at;    /* centre of the sigmoid, in instances */
  int64_t width; /* its width; 1 is (nearly) abrupt */
} drift_params_t;

/* Defaults as River's ConceptDriftStream (position 5000, width 1000); MOA's
 * width is 1000 too, its position 0. */
const eddy_option_t eddy_generator_drift_options[] = {
    EDDY_OPT_STRING_(drift_params_t, "drift_to", to, "",
                     "concept after the drift (the value of the generator's concept key, e.g. "
                     "SEA's concept or Agrawal's function); empty: no drift"),
    EDDY_OPT_INT_(drift_params_t, "drift_at", at, "5000", 0, 9.0e15,
                  "instance at the centre of the drift (instances count from 1)"),
    EDDY_OPT_INT_(drift_params_t, "drift_width", width, "1000", 1, 9.0e15,
                  "width of the drift: the new concept's share rises along a sigmoid "
                  "1/(1+exp(-4(t-drift_at)/drift_width)); 1 is abrupt"),
    EDDY_OPT_END,
};

typedef struct {
  eddy_generator_t *old_concept;
  eddy_generator_t *new_concept;
  int64_t t; /* instances produced so far */
} drift_state_t;

static int drift_next(eddy_generator_t *g, eddy_instance_t *out) {
  const drift_params_t *p = g->params;
  drift_state_t *s = g->state;
  s->t++;
  double x = -4.0 * (double)(s->t - p->at) / (double)p->width;
  double prob_new = 1.0 / (1.0 + exp(x));
  /* MOA: random.nextDouble() > probabilityDrift picks the old stream. */
  if (eddy_rng_uniform(&g->rng) > prob_new) return eddy_generator_next(s->old_concept, out);
  return eddy_generator_next(s->new_concept, out);
}

static void drift_destroy(eddy_generator_t *g) {
  drift_state_t *s = g->state;
  eddy_generator_free(s->old_concept);
  eddy_generator_free(s->new_concept);
}

const eddy_generator_type_t eddy_generator_concept_drift = {
    .name = "concept_drift",
    .description = "two streams of one type joined by a sigmoid, as MOA's ConceptDriftStream",
    .options = eddy_generator_drift_options,
    .params_size = sizeof(drift_params_t),
    .state_size = sizeof(drift_state_t),
    .next = drift_next,
    .destroy = drift_destroy,
};

/* --------------------------------------------------------------- generic */

static eddy_generator_t *create(const eddy_generator_type_t *type, const eddy_kv_t *kv,
                                size_t n_kv, uint64_t seed, char *errstr, size_t errstr_size) {
  eddy_generator_t *g = calloc(1, sizeof *g);
  if (!g) {
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    return NULL;
  }
  g->type = type;
  g->seed = seed;
  eddy_rng_seed(&g->rng, seed);
  if (eddy_component_setup(type->options, type->params_size, type->state_size, kv, n_kv,
                           &g->params, &g->state, &g->kv, errstr, errstr_size)) {
    free(g);
    return NULL;
  }
  if (type->init && type->init(g, errstr, errstr_size)) {
    eddy_generator_free(g);
    return NULL;
  }
  return g;
}

static int is_drift_key(const char *key) {
  return eddy_options_find(eddy_generator_drift_options, key) != NULL;
}

/* "a, b, c": the type's keys then the drift keys. */
static void keys_text(const eddy_generator_type_t *type, char *buf, size_t size) {
  size_t n = 0;
  buf[0] = '\0';
  const eddy_option_t *tables[2] = {type->options, eddy_generator_drift_options};
  for (int k = 0; k < 2; k++)
    for (const eddy_option_t *o = tables[k]; o && o->name && n < size; o++)
      n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "", o->name);
}

eddy_generator_t *eddy_generator_new(const char *name, const eddy_kv_t *kv, size_t n_kv,
                                     uint64_t seed, char *errstr, size_t errstr_size) {
  const eddy_generator_type_t *type = eddy_generator_type_find(name ? name : "");
  if (!type) {
    char known[512];
    eddy_generator_type_names(known, sizeof known);
    eddy_unknown_name(errstr, errstr_size, "generator", name ? name : "", known);
    return NULL;
  }
  /* Every key must be the type's or a drift key; split them. */
  eddy_kvlist_t own = {0}, drift = {0};
  eddy_generator_t *g = NULL;
  int err = 0;
  for (size_t i = 0; i < n_kv && !err; i++) {
    if (is_drift_key(kv[i].key)) {
      err = eddy_kvlist_add(&drift, kv[i].key, kv[i].value, kv[i].file, kv[i].line);
    } else if (eddy_options_find(type->options, kv[i].key)) {
      err = eddy_kvlist_add(&own, kv[i].key, kv[i].value, kv[i].file, kv[i].line);
    } else {
      char where[512], known[1024];
      eddy_kv_where(&kv[i], where, sizeof where);
      keys_text(type, known, sizeof known);
      eddy_seterr(errstr, errstr_size, EDDY_ENOENT,
                  "%sgenerator '%s': unknown option '%s' (known: %s)", where, type->name,
                  kv[i].key, known);
      goto out;
    }
  }
  if (err) {
    eddy_seterr(errstr, errstr_size, err, "out of memory");
    goto out;
  }
  const eddy_kv_t *to = eddy_kvlist_get(&drift, "drift_to");
  if (!to || !to->value[0]) {
    if (to || drift.n) {
      eddy_seterr(errstr, errstr_size, EDDY_EINVAL,
                  "generator '%s': drift_at and drift_width need drift_to", type->name);
      goto out;
    }
    g = create(type, own.v, own.n, seed, errstr, errstr_size);
    goto out;
  }
  if (!type->concept_key) {
    eddy_seterr(errstr, errstr_size, EDDY_ENOTSUP,
                "generator '%s' has no concept to drift to", type->name);
    goto out;
  }
  /* The wrapper: drift keys parsed from its table; the old concept with the
   * caller's seed (so rows before the drift are the undrifted stream's),
   * the new one with a sub-seed. MOA would give both streams their own
   * instanceRandomSeed (1 unless set); ours differ so that the new concept
   * does not replay the old one's attribute values. */
  g = calloc(1, sizeof *g);
  if (!g) {
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    goto out;
  }
  g->type = &eddy_generator_concept_drift;
  g->seed = seed;
  eddy_rng_seed(&g->rng, eddy_seed_derive(seed, 2));
  if (eddy_component_setup(g->type->options, g->type->params_size, g->type->state_size, drift.v,
                           drift.n, &g->params, &g->state, &g->kv, errstr, errstr_size)) {
    free(g);
    g = NULL;
    goto out;
  }
  eddy_kvlist_free(&g->kv); /* keep every key given, the type's as well */
  drift_state_t *s = g->state;
  if (eddy_kvlist_copy(&g->kv, kv, n_kv)) {
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    goto fail;
  }
  s->old_concept = create(type, own.v, own.n, seed, errstr, errstr_size);
  if (!s->old_concept) goto fail;
  if (eddy_kvlist_set(&own, type->concept_key, to->value, to->file, to->line)) {
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    goto fail;
  }
  char msg[768];
  s->new_concept = create(type, own.v, own.n, eddy_seed_derive(seed, 1), msg, sizeof msg);
  if (!s->new_concept) {
    eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "drift_to: %s", msg);
    goto fail;
  }
  g->schema = eddy_schema_clone(s->old_concept->schema);
  if (!g->schema) {
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    goto fail;
  }
  goto out;
fail:
  eddy_generator_free(g);
  g = NULL;
out:
  eddy_kvlist_free(&own);
  eddy_kvlist_free(&drift);
  return g;
}

int eddy_generator_next(eddy_generator_t *g, eddy_instance_t *out) {
  return g->type->next(g, out);
}

const eddy_schema_t *eddy_generator_schema(const eddy_generator_t *g) { return g->schema; }

void eddy_generator_free(eddy_generator_t *g) {
  if (!g) return;
  if (g->state && g->type->destroy) g->type->destroy(g);
  eddy_component_teardown(g->type->options, &g->params, &g->state, &g->kv);
  eddy_schema_free(g->schema);
  free(g);
}

/* ----------------------------------------------- helpers for the types */

eddy_schema_t *eddy_gen_schema(uint32_t n_classes, char *errstr, size_t errstr_size) {
  uint32_t bound = n_classes > EDDY_DEFAULT_MAX_CLASSES ? n_classes : 0;
  eddy_schema_t *s = eddy_schema_new(EDDY_CLASSIFICATION, "class", 0, bound, errstr, errstr_size);
  if (!s) return NULL;
  char name[16];
  for (uint32_t c = 0; c < n_classes; c++) {
    int n = snprintf(name, sizeof name, "%u", c);
    if (eddy_dict_intern(s->target.dict, name, (size_t)n, eddy_hash(name, (size_t)n), NULL) !=
        (int64_t)c) {
      eddy_schema_free(s);
      eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
      return NULL;
    }
  }
  return s;
}

int eddy_gen_add_numeric(eddy_schema_t *s, const char *name) {
  int i = eddy_schema_add(s, name, EDDY_NUMERIC);
  return i < 0 ? i : 0;
}

int eddy_gen_add_nominal(eddy_schema_t *s, const char *name, const char *const *values, size_t n,
                         uint64_t *hashes) {
  int i = eddy_schema_add(s, name, EDDY_NOMINAL);
  if (i < 0) return i;
  for (size_t v = 0; v < n; v++) {
    size_t len = strlen(values[v]);
    hashes[v] = eddy_hash(values[v], len);
    if (eddy_dict_intern(s->attrs[i].dict, values[v], len, hashes[v], NULL) != (int64_t)v)
      return EDDY_ENOMEM;
  }
  return 0;
}
