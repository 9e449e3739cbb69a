/* fields.c: which record field feeds which attribute, the target or the
 * state store, the schema that follows from it, and storing one field's
 * value into a decoded record. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "connectors/connectors.h"

#define MAX_LIST 65536

static int add_field(eddy_fields_t *f, const char *name, eddy_field_kind_t kind,
                     eddy_attr_kind_t ak) {
  eddy_field_t *v = realloc(f->v, (f->n + 1) * sizeof *v);
  if (!v) return EDDY_ENOMEM;
  f->v = v;
  eddy_field_t *x = &v[f->n];
  memset(x, 0, sizeof *x);
  if (!(x->name = strdup(name))) return EDDY_ENOMEM;
  x->kind = kind;
  x->attr_kind = ak;
  if (kind == EDDY_FIELD_ATTR) x->index = (int)f->n_attrs++;
  if (kind == EDDY_FIELD_AUX) x->index = (int)f->n_aux++;
  f->n++;
  return 0;
}

static int build_table(eddy_fields_t *f) {
  uint32_t size = 16;
  while (size < f->n * 2) size *= 2;
  uint32_t *t = calloc(size, sizeof *t);
  if (!t) return EDDY_ENOMEM;
  for (size_t i = 0; i < f->n; i++) {
    uint32_t h = (uint32_t)eddy_hash(f->v[i].name, strlen(f->v[i].name)) & (size - 1);
    while (t[h]) h = (h + 1) & (size - 1);
    t[h] = (uint32_t)i + 1;
  }
  free(f->table);
  f->table = t;
  f->table_size = size;
  return 0;
}

const eddy_field_t *eddy_fields_find(const eddy_fields_t *f, const char *name, size_t len) {
  uint32_t mask = f->table_size - 1;
  uint32_t h = (uint32_t)eddy_hash(name, len) & mask;
  for (uint32_t v; (v = f->table[h]); h = (h + 1) & mask) {
    const char *n = f->v[v - 1].name;
    if (strncmp(n, name, len) == 0 && n[len] == '\0' && memchr(name, 0, len) == NULL)
      return &f->v[v - 1];
  }
  return NULL;
}

/* Splits a [features] list into a malloc'd copy and item pointers. */
static size_t list(const char *text, char **copy, char ***items) {
  *copy = NULL;
  *items = NULL;
  if (!text || !*text) return 0;
  *copy = strdup(text);
  *items = calloc(MAX_LIST, sizeof **items);
  if (!*copy || !*items) return 0;
  return eddy_split_list(*copy, *items, MAX_LIST);
}

static int in_list(char **items, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(items[i], name) == 0) return 1;
  return 0;
}

static const char *role_of(const eddy_features_section_t *fs, const char *name) {
  const char *keys[] = {fs->target, fs->key, fs->id, fs->timestamp, fs->weight};
  static const char *const roles[] = {"target", "key", "id", "timestamp", "weight"};
  for (int i = 0; i < 5; i++)
    if (keys[i] && strcmp(keys[i], name) == 0) return roles[i];
  return NULL;
}

static eddy_field_kind_t kind_of_role(const char *role) {
  if (!strcmp(role, "target")) return EDDY_FIELD_TARGET;
  if (!strcmp(role, "key")) return EDDY_FIELD_KEY;
  if (!strcmp(role, "id")) return EDDY_FIELD_ID;
  if (!strcmp(role, "timestamp")) return EDDY_FIELD_TIME;
  return EDDY_FIELD_WEIGHT;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The line a [features] key was written at (the pipeline's otherwise). */
static const char *key_at(const eddy_pipeline_conf_t *c, const char *key, int *line) {
  const eddy_kv_t *w = eddy_conf_where(c, "features", key);
  *line = w ? w->line : c->line;
  return w && w->file ? w->file : c->file;
}

/* A name listed twice in numeric (or in nominal) would become two
 * attributes of one name, which no schema can hold: named here, where the
 * config's line is known. Sorted copies: lists may be long. */
static int check_repeats(const eddy_pipeline_conf_t *c, char **num, size_t n_num, char **nom,
                         size_t n_nom, char *errstr, size_t errstr_size) {
  char **lists[] = {num, nom};
  size_t counts[] = {n_num, n_nom};
  static const char *const keys[] = {"numeric", "nominal"};
  for (int l = 0; l < 2; l++) {
    if (counts[l] < 2) continue;
    char **v = malloc(counts[l] * sizeof *v);
    if (!v) return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    memcpy(v, lists[l], counts[l] * sizeof *v);
    qsort(v, counts[l], sizeof *v, cmp_names);
    int err = 0;
    for (size_t i = 1; i < counts[l] && !err; i++)
      if (strcmp(v[i - 1], v[i]) == 0)
      {
        int line;
        const char *file = key_at(c, keys[l], &line);
        err = eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "%s:%d: [features] key '%s': lists '%s' twice",
                          file, line, keys[l], v[i]);
      }
    free(v);
    if (err) return err;
  }
  return 0;
}

int eddy_fields_check(const eddy_pipeline_conf_t *c, char *errstr, size_t errstr_size) {
  const eddy_features_section_t *fs = &c->features;
  char *ncopy, *mcopy, *xcopy, **num, **nom, **exc;
  size_t n_num = list(fs->numeric, &ncopy, &num), n_nom = list(fs->nominal, &mcopy, &nom);
  size_t n_exc = list(fs->exclude, &xcopy, &exc);
  int err = 0, line;
  const char *file;
  if ((fs->numeric && *fs->numeric && !num) || (fs->nominal && *fs->nominal && !nom) ||
      (fs->exclude && *fs->exclude && !exc))
    err = eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  /* A name in two roles is a config mistake worth naming, at the list's line. */
  for (size_t i = 0; i < n_num + n_nom && !err; i++) {
    const char *name = i < n_num ? num[i] : nom[i - n_num];
    const char *key = i < n_num ? "numeric" : "nominal";
    const char *role = role_of(fs, name);
    file = key_at(c, key, &line);
    if (role)
      err = eddy_seterr(errstr, errstr_size, EDDY_EINVAL,
                        "%s:%d: [features] key '%s': '%s' is both an attribute and the %s", file, line,
                        key, name, role);
    else if (i >= n_num && in_list(num, n_num, name))
      err = eddy_seterr(errstr, errstr_size, EDDY_EINVAL,
                        "%s:%d: [features] key 'nominal': '%s' is listed as numeric and as nominal", file,
                        line, name);
    else if (in_list(exc, n_exc, name))
      err = eddy_seterr(errstr, errstr_size, EDDY_EINVAL,
                        "%s:%d: [features] key '%s': '%s' is also in exclude", file, line, key, name);
  }
  for (size_t i = 0; i < n_exc && !err; i++) {
    const char *role = role_of(fs, exc[i]);
    file = key_at(c, "exclude", &line);
    if (role)
      err = eddy_seterr(errstr, errstr_size, EDDY_EINVAL,
                        "%s:%d: [features] key 'exclude': '%s' is the %s", file, line, exc[i], role);
  }
  if (!err) err = check_repeats(c, num, n_num, nom, n_nom, errstr, errstr_size);
  free(ncopy);
  free(mcopy);
  free(xcopy);
  free(num);
  free(nom);
  free(exc);
  return err;
}

void eddy_fields_free(eddy_fields_t *f) {
  if (!f) return;
  for (size_t i = 0; i < f->n; i++) free(f->v[i].name);
  free(f->v);
  free(f->table);
  free(f->target);
  eddy_kvlist_free(&f->values);
  free(f);
}

eddy_fields_t *eddy_fields_new(const eddy_pipeline_conf_t *c, const char *const *names,
                               size_t n_names, const char *const *aux, size_t n_aux,
                               char *errstr, size_t errstr_size) {
  const eddy_features_section_t *fs = &c->features;
  eddy_fields_t *f = calloc(1, sizeof *f);
  char *ncopy, *mcopy, *xcopy, **num, **nom, **exc;
  size_t n_num = list(fs->numeric, &ncopy, &num), n_nom = list(fs->nominal, &mcopy, &nom);
  size_t n_exc = list(fs->exclude, &xcopy, &exc);
  int err = 0;
  if (!f || (fs->numeric && *fs->numeric && !num) || (fs->nominal && *fs->nominal && !nom) ||
      (fs->exclude && *fs->exclude && !exc)) {
    err = eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    goto done;
  }
  f->task = c->pipeline.task;
  f->stream_scope = c->state.scope == EDDY_SCOPE_STREAM;
  f->max_values = (uint32_t)fs->max_values;
  f->max_classes = (uint32_t)fs->max_classes;
  f->target = strdup(fs->target ? fs->target : "class");
  f->infer = n_num == 0;
  if (eddy_kvlist_copy(&f->values, c->values.v, c->values.n)) {
    err = eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    goto done;
  }
  err = eddy_fields_check(c, errstr, errstr_size);
  if (err) goto done;
  if (names) {
    for (size_t i = 0; i < n_names && !err; i++) {
      const char *name = names[i];
      const char *role = role_of(fs, name);
      if (!*name) {
        /* A column without a name (pandas writes its index so) cannot be
         * named in [features]: ignored, however many there are. */
        err = add_field(f, name, EDDY_FIELD_IGNORE, EDDY_NUMERIC);
      } else if (f->table && eddy_fields_find(f, name, strlen(name))) {
        err = eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "field '%s' appears twice", name);
      } else if (role) {
        err = add_field(f, name, kind_of_role(role), EDDY_NUMERIC);
      } else if (in_list(exc, n_exc, name)) {
        err = add_field(f, name, EDDY_FIELD_IGNORE, EDDY_NUMERIC);
      } else if (in_list(nom, n_nom, name)) {
        err = add_field(f, name, EDDY_FIELD_ATTR, EDDY_NOMINAL);
      } else if (f->infer || in_list(num, n_num, name)) {
        err = add_field(f, name, EDDY_FIELD_ATTR, EDDY_NUMERIC);
      } else {
        err = add_field(f, name, EDDY_FIELD_IGNORE, EDDY_NUMERIC);
      }
      if (!err) err = build_table(f);
    }
    /* Everything [features] names must be there. */
    const char *want[] = {fs->target, fs->key, fs->id, fs->timestamp, fs->weight};
    static const char *const want_keys[] = {"target", "key", "id", "timestamp", "weight"};
    for (size_t i = 0; i < n_num + n_nom + n_exc + 5 && !err; i++) {
      size_t k = i - n_num - n_nom - n_exc;
      const char *name = i < n_num ? num[i] : i < n_num + n_nom ? nom[i - n_num]
                                            : i < n_num + n_nom + n_exc ? exc[i - n_num - n_nom] : want[k];
      const char *key = i < n_num ? "numeric" : i < n_num + n_nom ? "nominal"
                                              : i < n_num + n_nom + n_exc ? "exclude" : want_keys[k];
      if (name && *name && !eddy_fields_find(f, name, strlen(name))) {
        int line;
        const char *file = key_at(c, key, &line);
        err = eddy_seterr(errstr, errstr_size, EDDY_ENOENT,
                          "%s:%d: [features] key '%s': names '%s', which the records do not have", file,
                          line, key, name);
      }
    }
  } else {
    for (size_t i = 0; i < n_num && !err; i++) err = add_field(f, num[i], EDDY_FIELD_ATTR, EDDY_NUMERIC);
    for (size_t i = 0; i < n_nom && !err; i++) err = add_field(f, nom[i], EDDY_FIELD_ATTR, EDDY_NOMINAL);
    const char *want[] = {fs->target, fs->key, fs->id, fs->timestamp, fs->weight};
    static const eddy_field_kind_t kinds[] = {EDDY_FIELD_TARGET, EDDY_FIELD_KEY, EDDY_FIELD_ID,
                                              EDDY_FIELD_TIME, EDDY_FIELD_WEIGHT};
    for (int i = 0; i < 5 && !err; i++)
      if (want[i] && *want[i]) err = add_field(f, want[i], kinds[i], EDDY_NUMERIC);
  }
  if (!err) err = build_table(f); /* the lookups below need it (also without names) */
  for (size_t i = 0; i < n_aux && !err; i++) {
    const eddy_field_t *x = eddy_fields_find(f, aux[i], strlen(aux[i]));
    if (!x || x->kind == EDDY_FIELD_IGNORE) { /* not already an input: an extra slot */
      if (x) {
        ((eddy_field_t *)x)->kind = EDDY_FIELD_AUX;
        ((eddy_field_t *)x)->index = (int)f->n_aux++;
      } else {
        err = add_field(f, aux[i], EDDY_FIELD_AUX, EDDY_NUMERIC);
        if (!err) err = build_table(f);
      }
    }
  }
  if (!err) err = build_table(f);
  if (!err && f->n_attrs == 0)
    err = eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "%s:%d: [features] no attributes to learn from",
                      c->file, c->line);
  if (err == EDDY_ENOMEM) eddy_seterr(errstr, errstr_size, err, "out of memory");
done:
  free(ncopy);
  free(mcopy);
  free(xcopy);
  free(num);
  free(nom);
  free(exc);
  if (err) {
    eddy_fields_free(f);
    return NULL;
  }
  return f;
}

int eddy_fields_add_attr(eddy_fields_t *f, const char *name) {
  if (eddy_fields_find(f, name, strlen(name))) return EDDY_EINVAL;
  int err = add_field(f, name, EDDY_FIELD_ATTR, EDDY_NUMERIC);
  if (!err) err = build_table(f);
  return err ? err : f->v[f->n - 1].index;
}

eddy_schema_t *eddy_fields_schema(const eddy_fields_t *f, char *errstr, size_t errstr_size) {
  eddy_schema_t *s =
      eddy_schema_new(f->task, f->target, f->max_values, f->max_classes, errstr, errstr_size);
  if (!s) return NULL;
  /* Attributes in index order (fields may interleave other kinds). */
  for (size_t a = 0; a < f->n_attrs; a++) {
    for (size_t i = 0; i < f->n; i++) {
      if (f->v[i].kind != EDDY_FIELD_ATTR || (size_t)f->v[i].index != a) continue;
      if (eddy_schema_add(s, f->v[i].name, f->v[i].attr_kind) != (int)a) {
        eddy_schema_free(s);
        eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "cannot add attribute '%s'", f->v[i].name);
        return NULL;
      }
    }
  }
  /* Declared values first, in their order, as an ARFF header fixes them. */
  for (size_t i = 0; i < f->values.n; i++) {
    const eddy_kv_t *kv = &f->values.v[i];
    int at = eddy_schema_find(s, kv->key);
    eddy_dict_t *d = at >= 0 ? s->attrs[at].dict : strcmp(kv->key, s->target.name) == 0 ? s->target.dict : NULL;
    size_t cap = 1; /* items: one more than the commas (a fixed 4096 cut longer lists short) */
    for (const char *t = kv->value; *t; t++) cap += *t == ',';
    char *copy = strdup(kv->value), **items = malloc(cap * sizeof *items);
    size_t n = copy && items ? eddy_split_list(copy, items, cap) : 0;
    for (size_t j = 0; d && j < n; j++) {
      int added;
      int64_t idx = eddy_dict_intern(d, items[j], strlen(items[j]), eddy_hash(items[j], strlen(items[j])), &added);
      if (idx < 0 || !added) {
        eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "%s:%d: [features] key 'values.%s': '%s' %s",
                    kv->file ? kv->file : "config", kv->line, kv->key, items[j],
                    idx < 0 ? "is past the bound of distinct values" : "is listed twice");
        free(copy);
        free(items);
        eddy_schema_free(s);
        return NULL;
      }
    }
    free(copy);
    free(items);
  }
  return s;
}

int eddy_record_init(eddy_record_t *r, const eddy_fields_t *f) {
  memset(r, 0, sizeof *r);
  int err = eddy_instance_init(&r->in, f->n_attrs);
  if (err) return err;
  r->n_aux = f->n_aux;
  if (f->stream_scope) {
    r->fixed_key = EDDY_STREAM_KEY;
    r->key = r->fixed_key;
    r->key_len = strlen(EDDY_STREAM_KEY);
  }
  r->aux = calloc(f->n_aux ? f->n_aux : 1, sizeof *r->aux);
  r->aux_set = calloc(f->n_aux ? f->n_aux : 1, 1);
  if (!r->aux || !r->aux_set) {
    eddy_record_free(r);
    return EDDY_ENOMEM;
  }
  return 0;
}

void eddy_record_free(eddy_record_t *r) {
  eddy_instance_free(&r->in);
  free(r->aux);
  free(r->aux_set);
  memset(r, 0, sizeof *r);
}

void eddy_record_clear(eddy_record_t *r) {
  eddy_instance_clear(&r->in);
  r->key = r->fixed_key;
  r->key_len = r->fixed_key ? strlen(r->fixed_key) : 0;
  r->id = NULL;
  r->id_len = 0;
  r->ts = 0;
  r->has_ts = 0;
  if (r->n_aux) memset(r->aux_set, 0, r->n_aux);
}

void eddy_record_stream_key(eddy_record_t *r, int32_t partition) {
  if (!r->fixed_key || partition < 0) return;
  int n = snprintf(r->stream_key, sizeof r->stream_key, "%s:%d", r->fixed_key, (int)partition);
  r->key = r->stream_key;
  r->key_len = (size_t)n;
}

/* CSV and ARFF spell a missing value in several ways. */
static int is_missing(const char *t, size_t len) {
  if (len == 0) return 1;
  if (len == 1 && t[0] == '?') return 1;
  if (len == 2 && (t[0] == 'N' || t[0] == 'n') && (t[1] == 'A' || t[1] == 'a')) return 1;
  if (len == 3 && strncasecmp(t, "nan", 3) == 0) return 1;
  if (len == 4 && strncmp(t, "null", 4) == 0) return 1;
  return 0;
}

/* A whole token as a finite double; the token need not be NUL-terminated.
 * eddy_parse_decimal gives strtod's exact result (Clinger's and the
 * Eisel-Lemire fast paths, strtod for the rest); blanks before the number,
 * which strtod skips, and inf and nan are refused here. */
static int parse_number(const char *t, size_t len, double *out) {
  double v;
  /* Past 255 characters eddy_parse_decimal may copy to the heap; no
   * number in a record needs that many, so the record path refuses it. */
  if (len == 0 || len > 255 || t[0] == ' ' || t[0] == '\t' || eddy_parse_decimal(t, len, &v) ||
      !isfinite(v))
    return EDDY_ETYPE;
  *out = v;
  return 0;
}

int eddy_field_is_text(const char *t, size_t len, int is_string) {
  double v;
  if (is_string ? len == 0 : is_missing(t, len)) return 0;
  return parse_number(t, len, &v) != 0;
}

/* For tests: the number parser records use. */
int eddy__parse_number(const char *t, size_t len, double *out) { return parse_number(t, len, out); }

static int type_error(char *errstr, size_t errstr_size, const eddy_field_t *field,
                      const char *what, const char *text, size_t len) {
  return eddy_seterr(errstr, errstr_size, EDDY_ETYPE, "field '%s': expected %s, got \"%.*s%s\"",
                     field->name, what, (int)(len > 40 ? 40 : len), text, len > 40 ? "..." : "");
}

/* A frozen schema's index of a nominal value: the one it has, else the
 * one the stream would give it now (the next index, or the overflow
 * bucket), without adding it. */
static int64_t frozen_index(const eddy_dict_t *d, const char *text, size_t len, uint64_t h) {
  int64_t idx = eddy_dict_find(d, text, len, h);
  if (idx >= 0) return idx;
  uint32_t n = eddy_dict_size(d), bound = eddy_dict_bound(d);
  if (n < bound) return n;
  return eddy_dict_allows_overflow(d) ? (int64_t)bound : EDDY_ERANGE;
}

int eddy_record_set(eddy_record_t *r, const eddy_fields_t *f, eddy_schema_t *s,
                    const eddy_field_t *field, const char *text, size_t len, int is_string,
                    char *errstr, size_t errstr_size) {
  (void)f;
  double v;
  int missing = !text || (!is_string && is_missing(text, len)) || (is_string && len == 0);
  switch (field->kind) {
  case EDDY_FIELD_IGNORE:
    return 0;
  case EDDY_FIELD_ATTR: {
    size_t i = (size_t)field->index;
    if (missing) {
      r->in.missing[i] = 1;
      return 0;
    }
    if (field->attr_kind == EDDY_NUMERIC) {
      if (parse_number(text, len, &v))
        return type_error(errstr, errstr_size, field, "a number (a category? list it in [features] nominal)",
                          text, len);
      r->in.x[i] = v;
    } else {
      if (len > EDDY_MAX_VALUE_BYTES)
        return eddy_seterr(errstr, errstr_size, EDDY_ERANGE,
                           "field '%s': a nominal value of %zu bytes (at most %d)", field->name, len,
                           EDDY_MAX_VALUE_BYTES);
      uint64_t h = eddy_hash(text, len);
      int64_t idx = s->frozen ? frozen_index(s->attrs[i].dict, text, len, h)
                              : eddy_dict_intern(s->attrs[i].dict, text, len, h, NULL);
      if (idx < 0) return eddy_seterr(errstr, errstr_size, (int)idx, "field '%s': %s", field->name, eddy_strerror((int)idx));
      r->in.x[i] = (double)idx;
      r->in.h[i] = h;
    }
    r->in.missing[i] = 0;
    return 0;
  }
  case EDDY_FIELD_TARGET:
    if (missing) return 0; /* no label: predict only */
    if (s->task == EDDY_REGRESSION) {
      if (parse_number(text, len, &v)) return type_error(errstr, errstr_size, field, "a number", text, len);
      r->in.y = v;
    } else {
      if (len > EDDY_MAX_VALUE_BYTES)
        return eddy_seterr(errstr, errstr_size, EDDY_ERANGE, "field '%s': a class of %zu bytes (at most %d)",
                           field->name, len, EDDY_MAX_VALUE_BYTES);
      if (s->frozen) { /* a read-only predict: the label is not needed, a class never seen is not added */
        int64_t c = eddy_dict_find(s->target.dict, text, len, eddy_hash(text, len));
        if (c < 0) return 0;
        r->in.y = (double)c;
        r->in.has_y = 1;
        return 0;
      }
      int64_t idx = eddy_dict_intern(s->target.dict, text, len, eddy_hash(text, len), NULL);
      if (idx == EDDY_ERANGE)
        return eddy_seterr(errstr, errstr_size, EDDY_ERANGE,
                           "field '%s': class \"%.*s\" is one more than max_classes = %u", field->name,
                           (int)(len > 40 ? 40 : len), text, s->max_classes);
      if (idx < 0) return eddy_seterr(errstr, errstr_size, (int)idx, "field '%s': %s", field->name, eddy_strerror((int)idx));
      r->in.y = (double)idx;
    }
    r->in.has_y = 1;
    return 0;
  case EDDY_FIELD_KEY:
    r->key = missing ? NULL : text;
    r->key_len = missing ? 0 : len;
    return 0;
  case EDDY_FIELD_ID:
    r->id = missing ? NULL : text;
    r->id_len = missing ? 0 : len;
    return 0;
  case EDDY_FIELD_TIME:
    if (missing) return 0;
    if (parse_number(text, len, &v)) return type_error(errstr, errstr_size, field, "a number (epoch time)", text, len);
    r->ts = v;
    r->has_ts = 1;
    return 0;
  case EDDY_FIELD_WEIGHT:
    if (missing) return 0;
    if (parse_number(text, len, &v) || v < 0)
      return type_error(errstr, errstr_size, field, "a weight >= 0", text, len);
    r->in.weight = v;
    return 0;
  case EDDY_FIELD_AUX:
    if (missing) return 0;
    if (parse_number(text, len, &v)) return type_error(errstr, errstr_size, field, "a number", text, len);
    r->aux[field->index] = v;
    r->aux_set[field->index] = 1;
    return 0;
  }
  return EDDY_EINVAL;
}

int eddy_record_set_number(eddy_record_t *r, const eddy_fields_t *f, eddy_schema_t *s,
                           const eddy_field_t *field, double v, char *errstr, size_t errstr_size) {
  int numeric = (field->kind == EDDY_FIELD_ATTR && field->attr_kind == EDDY_NUMERIC) ||
                (field->kind == EDDY_FIELD_TARGET && s->task == EDDY_REGRESSION) ||
                field->kind == EDDY_FIELD_AUX || field->kind == EDDY_FIELD_TIME ||
                field->kind == EDDY_FIELD_WEIGHT;
  if (numeric && isfinite(v)) {
    switch (field->kind) {
    case EDDY_FIELD_ATTR:
      r->in.x[field->index] = v;
      r->in.missing[field->index] = 0;
      return 0;
    case EDDY_FIELD_TARGET:
      r->in.y = v;
      r->in.has_y = 1;
      return 0;
    case EDDY_FIELD_AUX:
      r->aux[field->index] = v;
      r->aux_set[field->index] = 1;
      return 0;
    case EDDY_FIELD_TIME:
      r->ts = v;
      r->has_ts = 1;
      return 0;
    default:
      break; /* weight: checked below */
    }
  }
  char text[40];
  int n = eddy_fmt_double(text, sizeof text, v);
  if (n < 0 || (size_t)n >= sizeof text) return EDDY_EINVAL;
  /* Keys and ids must outlive this call: they cannot point at `text`. */
  if (field->kind == EDDY_FIELD_KEY || field->kind == EDDY_FIELD_ID)
    return eddy_seterr(errstr, errstr_size, EDDY_ETYPE, "field '%s': expected a string", field->name);
  return eddy_record_set(r, f, s, field, text, (size_t)n, 0, errstr, errstr_size);
}
