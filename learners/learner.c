/* learner.c: the generic side of every learner: creation from the
 * registry and parameters, checkpoint sections, and model checkpoints. */
#include <stdlib.h>
#include <string.h>

#include "learners/learners.h"

const eddy_learner_type_t *eddy_learner_type_find(const char *name) {
  for (const eddy_learner_type_t *const *t = eddy_learner_types; *t; t++)
    if (strcmp((*t)->name, name) == 0) return *t;
  return NULL;
}

void eddy_learner_type_names(char *buf, size_t size) {
  size_t n = 0;
  if (size) buf[0] = '\0';
  for (const eddy_learner_type_t *const *t = eddy_learner_types; *t && n < size; t++)
    n += (size_t)snprintf(buf + n, size - n, "%s%s", t == eddy_learner_types ? "" : ", ",
                          (*t)->name);
}

eddy_learner_t *eddy_learner_new(const char *name, const eddy_schema_t *schema,
                                 const eddy_kv_t *kv, size_t n_kv, uint64_t seed, char *errstr,
                                 size_t errstr_size) {
  const eddy_learner_type_t *type = eddy_learner_type_find(name ? name : "");
  if (!type) {
    char known[1024];
    eddy_learner_type_names(known, sizeof known);
    eddy_unknown_name(errstr, errstr_size, "learner", name ? name : "", known);
    return NULL;
  }
  if (!(type->tasks & (unsigned)schema->task)) {
    eddy_seterr(errstr, errstr_size, EDDY_ENOTSUP, "learner '%s' does not support %s", name,
                schema->task == EDDY_CLASSIFICATION ? "classification" : "regression");
    return NULL;
  }
  eddy_learner_t *l = calloc(1, sizeof *l);
  if (!l) {
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    return NULL;
  }
  l->type = type;
  l->schema = schema;
  l->seed = seed;
  eddy_rng_seed(&l->rng, seed);
  if (eddy_component_setup_except(type->options, type->params_size, type->state_size, kv, n_kv,
                                  type->pass_prefix, &l->params, &l->state, &l->kv, errstr,
                                  errstr_size)) {
    free(l);
    return NULL;
  }
  if (type->init && type->init(l, errstr, errstr_size)) {
    eddy_component_teardown(type->options, &l->params, &l->state, &l->kv);
    free(l);
    return NULL;
  }
  return l;
}

eddy_learner_t *eddy_learner_new_like(const eddy_learner_t *l, uint64_t seed, char *errstr,
                                      size_t errstr_size) {
  return eddy_learner_new(l->type->name, l->schema, l->kv.v, l->kv.n, seed, errstr, errstr_size);
}

void eddy_learner_free(eddy_learner_t *l) {
  if (!l) return;
  if (l->type->destroy) l->type->destroy(l);
  eddy_component_teardown(l->type->options, &l->params, &l->state, &l->kv);
  free(l);
}

void eddy_learner_reset(eddy_learner_t *l) {
  if (l->type->reset) l->type->reset(l);
}

size_t eddy_learner_memory(const eddy_learner_t *l) {
  size_t m = sizeof *l + l->type->params_size;
  m += l->type->memory ? l->type->memory(l) : l->type->state_size;
  return m;
}

void eddy_learner_describe(const eddy_learner_t *l, FILE *out) {
  if (l->type->describe)
    l->type->describe(l, out);
  else
    fprintf(out, "%s: %zu bytes\n", l->type->name, eddy_learner_memory(l));
}

static void put_str(eddy_buf_t *b, const char *s) { eddy_json_string(b, s, strlen(s)); }

int eddy_learner_importance(const eddy_learner_t *l, double *gain, double *splits, size_t n_attrs) {
  for (size_t a = 0; a < n_attrs; a++) gain[a] = splits[a] = 0.0;
  if (!l->type->importance) return EDDY_ENOTSUP;
  return l->type->importance(l, gain, splits, n_attrs);
}

/* One feature of the ranking. */
typedef struct ranked {
  double gain, splits;
  size_t attr;
} ranked_t;

static int by_gain(const void *pa, const void *pb) {
  const ranked_t *a = pa, *b = pb;
  if (a->gain != b->gain) return a->gain > b->gain ? -1 : 1;
  return a->attr < b->attr ? -1 : a->attr > b->attr;
}

/* The features by decreasing importance (ties: schema order) and the sum
 * of the gains; NULL when the learner has none (or out of memory). The
 * caller frees it. */
static ranked_t *rank_features(const eddy_learner_t *l, double *total) {
  size_t n = l->schema->n_attrs;
  double *g = calloc(2 * n + 1, sizeof *g);
  ranked_t *r = calloc(n + 1, sizeof *r);
  int err = (!g || !r) ? EDDY_ENOMEM : eddy_learner_importance(l, g, g + n, n);
  *total = 0.0;
  for (size_t a = 0; !err && a < n; a++) {
    r[a] = (ranked_t){g[a] > 0.0 ? g[a] : 0.0, g[n + a], a};
    *total += r[a].gain;
  }
  free(g);
  if (err) {
    free(r);
    return NULL;
  }
  qsort(r, n, sizeof *r, by_gain);
  return r;
}

void eddy_learner_describe_importance(const eddy_learner_t *l, FILE *out) {
  double total;
  ranked_t *r = rank_features(l, &total);
  if (!r) return;
  fprintf(out, "feature importance (mean decrease in impurity, normalised to sum 1):\n");
  if (!(total > 0.0)) fprintf(out, "  no split yet\n");
  fprintf(out, "  %4s  %-24s %10s %8s\n", "rank", "feature", "importance", "splits");
  for (size_t i = 0; i < l->schema->n_attrs; i++)
    fprintf(out, "  %4zu  %-24s %10.6f %8.0f\n", i + 1, l->schema->attrs[r[i].attr].name,
            total > 0.0 ? r[i].gain / total : 0.0, r[i].splits);
  free(r);
}

void eddy_learner_importance_json(const eddy_learner_t *l, size_t max, eddy_buf_t *b) {
  double total;
  ranked_t *r = l->type->importance ? rank_features(l, &total) : NULL;
  if (!r) {
    eddy_buf_printf(b, "null");
    return;
  }
  size_t n = l->schema->n_attrs;
  if (max && max < n) n = max;
  eddy_buf_put_u8(b, '[');
  for (size_t i = 0; i < n; i++) {
    eddy_buf_printf(b, "%s{\"name\":", i ? "," : "");
    put_str(b, l->schema->attrs[r[i].attr].name);
    eddy_buf_printf(b, ",\"importance\":");
    eddy_json_double(b, total > 0.0 ? r[i].gain / total : 0.0);
    eddy_buf_printf(b, ",\"splits\":%.0f}", r[i].splits);
  }
  eddy_buf_put_u8(b, ']');
  free(r);
}

static void put_names(eddy_buf_t *b, const eddy_dict_t *d) {
  eddy_buf_put_u8(b, '[');
  uint32_t n = eddy_dict_size(d);
  for (uint32_t i = 0; i < n; i++) {
    if (i) eddy_buf_put_u8(b, ',');
    const char *s = eddy_dict_name(d, i);
    put_str(b, s ? s : "");
  }
  eddy_buf_put_u8(b, ']');
}

void eddy_schema_export(const eddy_schema_t *s, eddy_buf_t *b) {
  eddy_buf_printf(b, "\"attributes\":[");
  for (size_t i = 0; i < s->n_attrs; i++) {
    const eddy_attr_t *a = &s->attrs[i];
    eddy_buf_printf(b, "%s{\"name\":", i ? "," : "");
    put_str(b, a->name);
    eddy_buf_printf(b, ",\"kind\":\"%s\"", a->kind == EDDY_NOMINAL ? "nominal" : "numeric");
    if (a->kind == EDDY_NOMINAL) {
      eddy_buf_printf(b, ",\"values\":");
      put_names(b, a->dict);
    }
    eddy_buf_put_u8(b, '}');
  }
  eddy_buf_printf(b, "],\"target\":{\"name\":");
  put_str(b, s->target.name ? s->target.name : "");
  eddy_buf_printf(b, ",\"task\":\"%s\"", s->task == EDDY_CLASSIFICATION ? "classification" : "regression");
  if (s->task == EDDY_CLASSIFICATION) {
    eddy_buf_printf(b, ",\"classes\":");
    put_names(b, s->target.dict);
  }
  eddy_buf_put_u8(b, '}');
}

int eddy_learner_export(const eddy_learner_t *l, eddy_buf_t *b) {
  eddy_buf_printf(b, "{\"type\":");
  put_str(b, l->type->name);
  eddy_buf_printf(b, ",\"seed\":%llu,\"params\":{", (unsigned long long)l->seed);
  for (size_t i = 0; i < l->kv.n; i++) {
    if (i) eddy_buf_put_u8(b, ',');
    put_str(b, l->kv.v[i].key);
    eddy_buf_put_u8(b, ':');
    put_str(b, l->kv.v[i].value);
  }
  eddy_buf_printf(b, "},");
  eddy_schema_export(l->schema, b);
  eddy_buf_printf(b, ",\"memory_bytes\":%zu,\"model\":", eddy_learner_memory(l));
  int err = 0;
  if (l->type->export_json) err = l->type->export_json(l, b);
  else eddy_buf_printf(b, "null");
  eddy_buf_printf(b, ",\"importance\":");
  eddy_learner_importance_json(l, 0, b);
  eddy_buf_put_u8(b, '}');
  return err ? err : b->err;
}

int eddy_learner_save(const eddy_learner_t *l, eddy_buf_t *b) {
  size_t mark = eddy_ckpt_section_begin(b, EDDY_SECTION_LEARNER);
  eddy_component_save_header(l->type->name, l->seed, &l->kv, &l->rng, b);
  int err = l->type->save ? l->type->save(l, b) : 0;
  eddy_ckpt_section_end(b, mark);
  return err ? err : b->err;
}

eddy_learner_t *eddy_learner_load(eddy_reader_t *r, const eddy_schema_t *schema, char *errstr,
                                  size_t errstr_size) {
  char name[128];
  uint64_t seed;
  eddy_kvlist_t kv = {0};
  if (eddy_component_load_header(r, name, sizeof name, &seed, &kv)) {
    eddy_kvlist_free(&kv);
    eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT, "learner section is truncated");
    return NULL;
  }
  eddy_learner_t *l = eddy_learner_new(name, schema, kv.v, kv.n, seed, errstr, errstr_size);
  eddy_kvlist_free(&kv);
  if (!l) return NULL;
  eddy_rng_load(&l->rng, r);
  int err = r->err;
  if (!err && l->type->save) {
    if (!l->type->load)
      err = EDDY_ENOTSUP;
    else
      err = l->type->load(l, r);
  }
  if (!err && r->err) err = r->err;
  if (!err && r->pos != r->len) err = EDDY_ECORRUPT; /* a body must be read to its end */
  if (err) {
    eddy_seterr(errstr, errstr_size, err, "learner '%s': cannot load its state: %s", name,
                eddy_strerror(err));
    eddy_learner_free(l);
    return NULL;
  }
  return l;
}

int eddy_model_save(const eddy_schema_t *schema, const eddy_learner_t *l, eddy_buf_t *b) {
  eddy_ckpt_begin(b);
  size_t mark = eddy_ckpt_section_begin(b, EDDY_SECTION_SCHEMA);
  eddy_schema_save(schema, b);
  eddy_ckpt_section_end(b, mark);
  int err = eddy_learner_save(l, b);
  if (err) return err;
  return eddy_ckpt_finish(b);
}

int eddy_model_load(const void *p, size_t len, eddy_schema_t **schema, eddy_learner_t **learner,
                    char *errstr, size_t errstr_size) {
  *schema = NULL;
  *learner = NULL;
  int err = eddy_ckpt_verify(p, len, errstr, errstr_size);
  if (err) return err;
  eddy_reader_t r;
  if (eddy_ckpt_section(p, len, EDDY_SECTION_SCHEMA, 0, &r))
    return eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT, "checkpoint has no schema section");
  eddy_schema_t *s = eddy_schema_load(&r, errstr, errstr_size);
  if (!s) return EDDY_ECORRUPT;
  if (eddy_ckpt_section(p, len, EDDY_SECTION_LEARNER, 0, &r)) {
    eddy_schema_free(s);
    return eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT, "checkpoint has no learner section");
  }
  eddy_learner_t *l = eddy_learner_load(&r, s, errstr, errstr_size);
  if (!l) {
    eddy_schema_free(s);
    return EDDY_ECORRUPT;
  }
  *schema = s;
  *learner = l;
  return 0;
}
