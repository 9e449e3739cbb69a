/* schema.c: the attributes and target a model replica learns over, and the
 * instance that carries one record's values to the learners. */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

eddy_schema_t *eddy_schema_new(eddy_task_t task, const char *target, uint32_t max_values,
                               uint32_t max_classes, char *errstr, size_t errstr_size) {
  if (task != EDDY_CLASSIFICATION && task != EDDY_REGRESSION) {
    eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "task must be classification or regression");
    return NULL;
  }
  eddy_schema_t *s = calloc(1, sizeof *s);
  if (!s) goto oom;
  s->task = task;
  s->max_values = max_values ? max_values : EDDY_DEFAULT_MAX_VALUES;
  s->max_classes = max_classes ? max_classes : EDDY_DEFAULT_MAX_CLASSES;
  s->target.name = strdup(target ? target : "class");
  if (!s->target.name) goto oom;
  if (task == EDDY_CLASSIFICATION) {
    s->target.kind = EDDY_NOMINAL;
    /* A class beyond the bound is an error, not an "other" class. */
    s->target.dict = eddy_dict_new(s->max_classes, 0);
    if (!s->target.dict) goto oom;
  }
  return s;
oom:
  eddy_schema_free(s);
  eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  return NULL;
}

static void attr_free(eddy_attr_t *a) {
  free(a->name);
  eddy_dict_free(a->dict);
}

void eddy_schema_free(eddy_schema_t *s) {
  if (!s) return;
  for (size_t i = 0; i < s->n_attrs; i++) attr_free(&s->attrs[i]);
  free(s->attrs);
  attr_free(&s->target);
  free(s);
}

int eddy_schema_find(const eddy_schema_t *s, const char *name) {
  for (size_t i = 0; i < s->n_attrs; i++)
    if (strcmp(s->attrs[i].name, name) == 0) return (int)i;
  return EDDY_ENOENT;
}

int eddy_schema_add(eddy_schema_t *s, const char *name, eddy_attr_kind_t kind) {
  if (!name || !*name || eddy_schema_find(s, name) >= 0 || strcmp(name, s->target.name) == 0)
    return EDDY_EINVAL;
  eddy_attr_t *attrs = realloc(s->attrs, (s->n_attrs + 1) * sizeof *attrs);
  if (!attrs) return EDDY_ENOMEM;
  s->attrs = attrs;
  eddy_attr_t *a = &attrs[s->n_attrs];
  memset(a, 0, sizeof *a);
  a->kind = kind;
  a->name = strdup(name);
  if (!a->name) return EDDY_ENOMEM;
  if (kind == EDDY_NOMINAL) {
    a->dict = eddy_dict_new(s->max_values, 1);
    if (!a->dict) {
      free(a->name);
      return EDDY_ENOMEM;
    }
  }
  return (int)s->n_attrs++;
}

size_t eddy_schema_memory(const eddy_schema_t *s) {
  size_t m = sizeof *s + s->n_attrs * sizeof(eddy_attr_t);
  for (size_t i = 0; i < s->n_attrs; i++) {
    m += strlen(s->attrs[i].name) + 1;
    if (s->attrs[i].dict) m += eddy_dict_memory(s->attrs[i].dict);
  }
  if (s->target.dict) m += eddy_dict_memory(s->target.dict);
  return m;
}

static void attr_save(const eddy_attr_t *a, eddy_buf_t *b) {
  eddy_buf_put_str(b, a->name);
  eddy_buf_put_u8(b, (uint8_t)a->kind);
  if (a->kind == EDDY_NOMINAL) eddy_dict_save(a->dict, b);
}

void eddy_schema_save(const eddy_schema_t *s, eddy_buf_t *b) {
  eddy_buf_put_u8(b, (uint8_t)s->task);
  eddy_buf_put_u32(b, s->max_values);
  eddy_buf_put_u32(b, s->max_classes);
  attr_save(&s->target, b);
  eddy_buf_put_u64(b, s->n_attrs);
  for (size_t i = 0; i < s->n_attrs; i++) attr_save(&s->attrs[i], b);
}

/* A nominal attribute's dictionary is bounded by the schema's max_values
 * and has an overflow value; the target's by max_classes, without one
 * (eddy_schema_new and eddy_schema_add make them so). A checkpoint that
 * says otherwise could claim billions of classes or values. */
static int attr_load(eddy_attr_t *a, eddy_reader_t *r, uint32_t bound, int overflow) {
  a->name = eddy_read_strdup(r);
  uint8_t kind = eddy_read_u8(r);
  if (r->err || !a->name || kind > EDDY_NOMINAL) return r->err ? r->err : EDDY_ECORRUPT;
  a->kind = (eddy_attr_kind_t)kind;
  if (kind == EDDY_NOMINAL && !(a->dict = eddy_dict_load(r))) return r->err ? r->err : EDDY_ECORRUPT;
  if (a->dict && (eddy_dict_bound(a->dict) != bound || eddy_dict_allows_overflow(a->dict) != overflow))
    return EDDY_ECORRUPT;
  return 0;
}

eddy_schema_t *eddy_schema_load(eddy_reader_t *r, char *errstr, size_t errstr_size) {
  eddy_schema_t *s = calloc(1, sizeof *s);
  if (!s) {
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    return NULL;
  }
  uint8_t task = eddy_read_u8(r);
  s->max_values = eddy_read_u32(r);
  s->max_classes = eddy_read_u32(r);
  s->task = (eddy_task_t)task;
  int err = r->err;
  if (!err && task != EDDY_CLASSIFICATION && task != EDDY_REGRESSION) err = EDDY_ECORRUPT;
  if (!err) err = attr_load(&s->target, r, s->max_classes, 0);
  if (!err && (s->target.kind == EDDY_NOMINAL) != (task == EDDY_CLASSIFICATION)) err = EDDY_ECORRUPT;
  size_t n = err ? 0 : eddy_read_count(r, 5);
  if (!err && r->err) err = r->err;
  if (!err && n) {
    s->attrs = calloc(n, sizeof *s->attrs);
    if (!s->attrs) err = EDDY_ENOMEM;
    for (size_t i = 0; !err && i < n; i++) {
      err = attr_load(&s->attrs[i], r, s->max_values, 1);
      s->n_attrs = i + 1; /* so that free releases what was loaded */
    }
  }
  if (err) {
    eddy_schema_free(s);
    eddy_seterr(errstr, errstr_size, err, "schema: %s", eddy_strerror(err));
    return NULL;
  }
  return s;
}

eddy_schema_t *eddy_schema_clone(const eddy_schema_t *s) {
  eddy_buf_t b;
  eddy_buf_init(&b);
  eddy_schema_save(s, &b);
  eddy_schema_t *c = NULL;
  if (!b.err) {
    eddy_reader_t r;
    eddy_reader_init(&r, b.data, b.len);
    c = eddy_schema_load(&r, NULL, 0);
  }
  eddy_buf_free(&b);
  return c;
}

int eddy_instance_init(eddy_instance_t *in, size_t n) {
  memset(in, 0, sizeof *in);
  size_t m = n ? n : 1;
  in->x = calloc(m, sizeof *in->x);
  in->h = calloc(m, sizeof *in->h);
  in->missing = calloc(m, 1);
  if (!in->x || !in->h || !in->missing) {
    eddy_instance_free(in);
    return EDDY_ENOMEM;
  }
  in->n = n;
  eddy_instance_clear(in);
  return 0;
}

void eddy_instance_free(eddy_instance_t *in) {
  free(in->x);
  free(in->h);
  free(in->missing);
  memset(in, 0, sizeof *in);
}

void eddy_instance_clear(eddy_instance_t *in) {
  memset(in->x, 0, in->n * sizeof *in->x);
  memset(in->h, 0, in->n * sizeof *in->h);
  memset(in->missing, 1, in->n);
  in->y = 0.0;
  in->has_y = 0;
  in->weight = 1.0;
}

int eddy_instance_copy(eddy_instance_t *dst, const eddy_instance_t *src) {
  if (dst->n != src->n) return EDDY_EINVAL;
  memcpy(dst->x, src->x, src->n * sizeof *src->x);
  memcpy(dst->h, src->h, src->n * sizeof *src->h);
  memcpy(dst->missing, src->missing, src->n);
  dst->y = src->y;
  dst->has_y = src->has_y;
  dst->weight = src->weight;
  return 0;
}
