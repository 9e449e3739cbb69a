/* options.c: option tables (one per component: the single definition of
 * its config keys, defaults, ranges and help) and key = value lists. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/core.h"

int eddy_kvlist_add(eddy_kvlist_t *l, const char *key, const char *value, const char *file,
                    int line) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 8;
    eddy_kv_t *v = realloc(l->v, cap * sizeof *v);
    if (!v) return EDDY_ENOMEM;
    l->v = v;
    l->cap = cap;
  }
  eddy_kv_t *kv = &l->v[l->n];
  kv->key = strdup(key);
  kv->value = strdup(value ? value : "");
  kv->file = file;
  kv->line = line;
  if (!kv->key || !kv->value) {
    free(kv->key);
    free(kv->value);
    return EDDY_ENOMEM;
  }
  l->n++;
  return 0;
}

int eddy_kvlist_set(eddy_kvlist_t *l, const char *key, const char *value, const char *file,
                    int line) {
  for (size_t i = 0; i < l->n; i++) {
    if (strcmp(l->v[i].key, key) == 0) {
      char *v = strdup(value ? value : "");
      if (!v) return EDDY_ENOMEM;
      free(l->v[i].value);
      l->v[i].value = v;
      l->v[i].file = file;
      l->v[i].line = line;
      return 0;
    }
  }
  return eddy_kvlist_add(l, key, value, file, line);
}

const eddy_kv_t *eddy_kvlist_get(const eddy_kvlist_t *l, const char *key) {
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i].key, key) == 0) return &l->v[i];
  return NULL;
}

int eddy_kvlist_copy(eddy_kvlist_t *dst, const eddy_kv_t *src, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int err = eddy_kvlist_add(dst, src[i].key, src[i].value, src[i].file, src[i].line);
    if (err) return err;
  }
  return 0;
}

void eddy_kvlist_free(eddy_kvlist_t *l) {
  for (size_t i = 0; i < l->n; i++) {
    free(l->v[i].key);
    free(l->v[i].value);
  }
  free(l->v);
  memset(l, 0, sizeof *l);
}

void eddy_kvlist_save(const eddy_kv_t *v, size_t n, eddy_buf_t *b) {
  eddy_buf_put_u64(b, n);
  for (size_t i = 0; i < n; i++) {
    eddy_buf_put_str(b, v[i].key);
    eddy_buf_put_str(b, v[i].value);
  }
}

int eddy_kvlist_load(eddy_kvlist_t *l, eddy_reader_t *r) {
  size_t n = eddy_read_count(r, 8);
  for (size_t i = 0; i < n && !r->err; i++) {
    char *k = eddy_read_strdup(r), *v = eddy_read_strdup(r);
    if (k && v && !r->err) {
      int err = eddy_kvlist_add(l, k, v, NULL, 0);
      if (err) r->err = err;
    }
    free(k);
    free(v);
  }
  return r->err;
}

const char *eddy_kv_where(const eddy_kv_t *kv, char *buf, size_t size) {
  if (kv && kv->file && kv->line > 0)
    snprintf(buf, size, "%s:%d: ", kv->file, kv->line);
  else if (kv && kv->line > 0)
    snprintf(buf, size, "line %d: ", kv->line);
  else if (size)
    buf[0] = '\0';
  return buf;
}

int eddy_parse_int(const char *s, int64_t *out) {
  if (!s || !*s) return EDDY_EINVAL;
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || *end) {
    /* Accept whole numbers written as reals, such as 1e6. */
    double d;
    if (eddy_parse_double(s, &d) || d != floor(d) || fabs(d) > 9.0e15) return EDDY_EINVAL;
    v = (long long)d;
  }
  *out = v;
  return 0;
}

/* True when the text's digits before any exponent are all zeros: a zero
 * that strtod reads without ERANGE. */
static int zero_text(const char *s) {
  if (*s == '+' || *s == '-') s++;
  for (; *s && *s != 'e' && *s != 'E'; s++)
    if (*s != '0' && *s != '.') return 0;
  return 1;
}

int eddy_parse_double(const char *s, double *out) {
  if (!s || !*s) return EDDY_EINVAL;
  /* The fast parser, when its answer is one that strtod gives without
   * ERANGE: a finite number above the least normal double, or a plain
   * zero. Underflow (strtod's ERANGE for tiny results) and overflow keep
   * strtod's errno verdict below. */
  double v;
  size_t len = strlen(s);
  if (eddy_parse_decimal(s, len, &v) == 0 &&
      ((fabs(v) > DBL_MIN && fabs(v) <= DBL_MAX) || (v == 0 && zero_text(s)))) {
    *out = v;
    return 0;
  }
  char *end;
  errno = 0;
  v = strtod(s, &end); /* eddy never calls setlocale: this is C locale */
  if (errno == ERANGE || *end || isnan(v)) return EDDY_EINVAL;
  *out = v;
  return 0;
}

int eddy_parse_bool(const char *s, int *out) {
  static const char *const yes[] = {"1", "true", "yes", "on"};
  static const char *const no[] = {"0", "false", "no", "off"};
  for (size_t i = 0; i < 4; i++) {
    if (strcasecmp(s, yes[i]) == 0) return *out = 1, 0;
    if (strcasecmp(s, no[i]) == 0) return *out = 0, 0;
  }
  return EDDY_EINVAL;
}

const eddy_option_t *eddy_options_find(const eddy_option_t *table, const char *key) {
  for (const eddy_option_t *o = table; o && o->name; o++)
    if (strcmp(o->name, key) == 0) return o;
  return NULL;
}

static void choices_text(const eddy_option_t *o, char *buf, size_t size) {
  size_t n = 0;
  buf[0] = '\0';
  for (const char *const *c = o->choices; c && *c && n < size; c++)
    if (**c) n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "", *c);
}

/* A range bound as text: integral bounds print without a fraction. */
static void bound_text(double v, char *buf, size_t size) {
  if (isinf(v))
    snprintf(buf, size, "%s", v > 0 ? "inf" : "-inf");
  else
    eddy_fmt_double(buf, size, v);
}

int eddy_option_set(const eddy_option_t *o, void *params, const char *value, char *errstr,
                    size_t errstr_size) {
  char *field = (char *)params + o->offset;
  char lo[32], hi[32];
  bound_text(o->min, lo, sizeof lo);
  bound_text(o->max, hi, sizeof hi);
  switch (o->type) {
  case EDDY_OPT_INT: {
    int64_t v;
    if (eddy_parse_int(value, &v))
      return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "key '%s': '%s' is not a whole number",
                         o->name, value);
    if ((double)v < o->min || (double)v > o->max)
      return eddy_seterr(errstr, errstr_size, EDDY_EINVAL,
                         "key '%s': %s is out of range [%s, %s]", o->name, value, lo, hi);
    memcpy(field, &v, sizeof v);
    return 0;
  }
  case EDDY_OPT_DOUBLE: {
    double v;
    if (eddy_parse_double(value, &v))
      return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "key '%s': '%s' is not a number",
                         o->name, value);
    if (v < o->min || v > o->max)
      return eddy_seterr(errstr, errstr_size, EDDY_EINVAL,
                         "key '%s': %s is out of range [%s, %s]", o->name, value, lo, hi);
    memcpy(field, &v, sizeof v);
    return 0;
  }
  case EDDY_OPT_BOOL: {
    int v;
    if (eddy_parse_bool(value, &v))
      return eddy_seterr(errstr, errstr_size, EDDY_EINVAL,
                         "key '%s': '%s' is not a boolean (true/false, yes/no, on/off, 1/0)",
                         o->name, value);
    memcpy(field, &v, sizeof v);
    return 0;
  }
  case EDDY_OPT_ENUM: {
    /* An empty choice is a placeholder that keeps enum values aligned. */
    for (int i = 0; o->choices && o->choices[i]; i++) {
      if (o->choices[i][0] && strcasecmp(o->choices[i], value) == 0) {
        memcpy(field, &i, sizeof i);
        return 0;
      }
    }
    char c[512];
    choices_text(o, c, sizeof c);
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "key '%s': '%s' is not one of: %s",
                       o->name, value, c);
  }
  case EDDY_OPT_STRING:
    if (strlen(value) >= o->size)
      return eddy_seterr(errstr, errstr_size, EDDY_EINVAL,
                         "key '%s': value longer than %zu characters", o->name, o->size - 1);
    memcpy(field, value, strlen(value) + 1);
    return 0;
  case EDDY_OPT_TEXT: {
    char *copy = strdup(value);
    if (!copy) return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    char **slot = (char **)(void *)field;
    free(*slot);
    *slot = copy;
    return 0;
  }
  }
  return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "key '%s': bad option type", o->name);
}

int eddy_options_defaults(const eddy_option_t *table, void *params) {
  for (const eddy_option_t *o = table; o && o->name; o++) {
    if (o->type == EDDY_OPT_TEXT) {
      char **slot = (char **)(void *)((char *)params + o->offset);
      *slot = NULL;
    }
    const char *def = o->def;
    if (!def) {
      if (o->type == EDDY_OPT_STRING) ((char *)params + o->offset)[0] = '\0';
      continue;
    }
    int err = eddy_option_set(o, params, def, NULL, 0);
    if (err) return err; /* a bad default is a bug in the table: tests check every table */
  }
  return 0;
}

int eddy_options_apply(const eddy_option_t *table, void *params, const eddy_kv_t *kv, size_t n,
                       char *errstr, size_t errstr_size) {
  return eddy_options_apply_except(table, params, kv, n, NULL, errstr, errstr_size);
}

int eddy_options_apply_except(const eddy_option_t *table, void *params, const eddy_kv_t *kv,
                              size_t n, const char *pass_prefix, char *errstr,
                              size_t errstr_size) {
  size_t plen = pass_prefix ? strlen(pass_prefix) : 0;
  for (size_t i = 0; i < n; i++) {
    if (plen && strncmp(kv[i].key, pass_prefix, plen) == 0) continue;
    if (plen == 1 && pass_prefix[0] == '.' && strchr(kv[i].key, '.')) continue; /* NAME.KEY pairs */
    char where[512];
    eddy_kv_where(&kv[i], where, sizeof where);
    const eddy_option_t *o = eddy_options_find(table, kv[i].key);
    if (!o) {
      char known[1024];
      size_t m = 0;
      known[0] = '\0';
      for (const eddy_option_t *t = table; t && t->name && m < sizeof known; t++)
        m += (size_t)snprintf(known + m, sizeof known - m, "%s%s", t == table ? "" : ", ", t->name);
      return eddy_seterr(errstr, errstr_size, EDDY_ENOENT, "%skey '%s': unknown key (known: %s)",
                         where, kv[i].key, m ? known : "none");
    }
    char msg[768];
    int err = eddy_option_set(o, params, kv[i].value, msg, sizeof msg);
    if (err) return eddy_seterr(errstr, errstr_size, err, "%s%s", where, msg);
  }
  return 0;
}

void eddy_options_free(const eddy_option_t *table, void *params) {
  for (const eddy_option_t *o = table; o && o->name; o++) {
    if (o->type != EDDY_OPT_TEXT) continue;
    char **slot = (char **)(void *)((char *)params + o->offset);
    free(*slot);
    *slot = NULL;
  }
}

void eddy_options_reference(const eddy_option_t *table, const char *prefix, FILE *out) {
  static const char *const types[] = {"integer", "real", "boolean", "choice", "string", "text"};
  for (const eddy_option_t *o = table; o && o->name; o++) {
    char range[512] = "";
    if (o->type == EDDY_OPT_INT || o->type == EDDY_OPT_DOUBLE) {
      char lo[32], hi[32];
      bound_text(o->min, lo, sizeof lo);
      bound_text(o->max, hi, sizeof hi);
      snprintf(range, sizeof range, "[%s, %s]", lo, hi);
    } else if (o->type == EDDY_OPT_ENUM) {
      choices_text(o, range, sizeof range);
    }
    fprintf(out, "| `%s%s` | %s | %s%s%s | %s | %s |\n", prefix ? prefix : "", o->name,
            types[o->type], o->def && *o->def ? "`" : "", o->def && *o->def ? o->def : "(none)",
            o->def && *o->def ? "`" : "", range, o->help ? o->help : "");
  }
}
