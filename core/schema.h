/* core/schema.h: what learners see: the schema (attributes, target) and
 * one instance (dense values, missing flags, weight, label). */
#ifndef EDDY_CORE_SCHEMA_H
#define EDDY_CORE_SCHEMA_H

#include "core/dict.h"

/* ---------------------------------------------------------------- schema */

typedef enum { EDDY_NUMERIC = 0, EDDY_NOMINAL = 1 } eddy_attr_kind_t;

typedef enum { EDDY_CLASSIFICATION = 1, EDDY_REGRESSION = 2 } eddy_task_t;

typedef struct eddy_attr {
  char *name;
  eddy_attr_kind_t kind;
  eddy_dict_t *dict; /* nominal only */
} eddy_attr_t;

/* The attributes a learner sees and the target. Attributes are fixed once
 * learning starts; nominal dictionaries grow as values appear, so learners
 * must accept value and class indices beyond what they have seen so far
 * (they may allocate when one first appears, never per record otherwise).
 * A schema belongs to one model replica and outlives its learner. */
typedef struct eddy_schema {
  eddy_task_t task;
  size_t n_attrs;
  eddy_attr_t *attrs;
  eddy_attr_t target; /* nominal (classification) or numeric (regression) */
  uint32_t max_values;  /* dictionary bound for nominal attributes */
  uint32_t max_classes; /* dictionary bound for the target */
  int frozen;           /* set around a read-only decode (HTTP predict): values are looked up, never
                           added; not saved */
} eddy_schema_t;

#define EDDY_DEFAULT_MAX_VALUES 1024
#define EDDY_DEFAULT_MAX_CLASSES 256

/* The caller frees with eddy_schema_free. */
eddy_schema_t *eddy_schema_new(eddy_task_t task, const char *target, uint32_t max_values,
                               uint32_t max_classes, char *errstr, size_t errstr_size);
void eddy_schema_free(eddy_schema_t *s);
/* Appends an attribute; returns its index or a negative code (EDDY_EINVAL
 * for a duplicate name). */
int eddy_schema_add(eddy_schema_t *s, const char *name, eddy_attr_kind_t kind);
int eddy_schema_find(const eddy_schema_t *s, const char *name); /* index or EDDY_ENOENT */
eddy_schema_t *eddy_schema_clone(const eddy_schema_t *s); /* deep copy, dictionaries included */
static inline uint32_t eddy_schema_n_values(const eddy_schema_t *s, size_t attr) {
  return s->attrs[attr].kind == EDDY_NOMINAL ? eddy_dict_size(s->attrs[attr].dict) : 0;
}
static inline uint32_t eddy_schema_n_classes(const eddy_schema_t *s) {
  return s->task == EDDY_CLASSIFICATION ? eddy_dict_size(s->target.dict) : 0;
}
size_t eddy_schema_memory(const eddy_schema_t *s);
void eddy_schema_save(const eddy_schema_t *s, eddy_buf_t *b);
eddy_schema_t *eddy_schema_load(eddy_reader_t *r, char *errstr, size_t errstr_size);

/* -------------------------------------------------------------- instance */

/* One record as learners see it. x[i] holds a number, or for a nominal
 * attribute its dictionary index; h[i] holds eddy_hash of the nominal text
 * (for feature hashing, where the bound of the dictionary does not apply).
 * Arrays are allocated once by eddy_instance_init and reused. */
typedef struct eddy_instance {
  size_t n;
  double *x;
  uint64_t *h;
  uint8_t *missing;
  double y;      /* class index or target value, valid when has_y */
  int has_y;
  double weight; /* 1 unless the source says otherwise */
} eddy_instance_t;

int eddy_instance_init(eddy_instance_t *in, size_t n);
void eddy_instance_free(eddy_instance_t *in);
void eddy_instance_clear(eddy_instance_t *in); /* all missing, no label, weight 1 */
int eddy_instance_copy(eddy_instance_t *dst, const eddy_instance_t *src); /* same n */

#endif /* EDDY_CORE_SCHEMA_H */
