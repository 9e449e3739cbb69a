/* input.c: what `eddy eval` needs to read a file it was not told about:
 * the format (by the config, the file's extension, else its first record),
 * a CSV header's names, and nominal attributes inferred from the values of
 * the first records. Setup only: these allocate. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "connectors/connectors.h"

static int blank(const char *line, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r') return 0;
  return 1;
}

int eddy_input_next(eddy_lines_t *l, char **line, size_t *len) {
  int st;
  while ((st = eddy_lines_next(l, line, len)) == 0 && blank(*line, *len)) {
  }
  return st;
}

eddy_format_t eddy_input_format(const eddy_pipeline_conf_t *c, const char *path, const char *line) {
  if (c->has_source && c->source.type == EDDY_SOURCE_FILE && eddy_conf_where(c, "source", "format"))
    return (eddy_format_t)c->source.format;
  const char *dot = path ? strrchr(path, '.') : NULL;
  if (dot && (!strchr(dot, '/'))) {
    if (!strcasecmp(dot, ".csv") || !strcasecmp(dot, ".tsv")) return EDDY_FORMAT_CSV;
    if (!strcasecmp(dot, ".json") || !strcasecmp(dot, ".jsonl") || !strcasecmp(dot, ".ndjson"))
      return EDDY_FORMAT_JSON;
  }
  return line[strspn(line, " \t")] == '{' ? EDDY_FORMAT_JSON : EDDY_FORMAT_CSV;
}

int eddy_csv_header(const char *line, size_t len, char ***names) {
  char *copy = eddy_strndup(line, len);
  char **cols = calloc(len + 1, sizeof *cols);
  size_t *lens = calloc(len + 1, sizeof *lens);
  int n = copy && cols && lens ? eddy_csv_split(copy, len, cols, lens, len + 1) : EDDY_ENOMEM;
  *names = NULL;
  if (n > 0 && !(*names = calloc((size_t)n, sizeof **names))) n = EDDY_ENOMEM;
  for (int i = 0; n > 0 && i < n; i++)
    if (!((*names)[i] = eddy_strndup(cols[i], lens[i]))) {
      for (int k = 0; k < i; k++) free((*names)[k]);
      free(*names);
      *names = NULL;
      n = EDDY_ENOMEM;
    }
  free(copy);
  free(cols);
  free(lens);
  return n;
}

/* ------------------------------------------------- nominal inference */

typedef struct {
  const char *const *names;
  size_t n;
  char *text; /* per name: 1 once a value was not a number */
} infer_t;

static void on_member(void *ctx, const char *key, size_t klen, const char *v, size_t vlen, int is_string) {
  infer_t *t = ctx;
  if (!v) return;
  for (size_t i = 0; i < t->n; i++)
    if (!t->text[i] && strlen(t->names[i]) == klen && memcmp(t->names[i], key, klen) == 0) {
      t->text[i] = (char)eddy_field_is_text(v, vlen, is_string);
      return;
    }
}

static int in_list(const char *list, const char *name) {
  if (!list || !*list) return 0;
  char *copy = strdup(list), *items[4096];
  size_t n = copy ? eddy_split_list(copy, items, 4096) : 0;
  int found = 0;
  for (size_t i = 0; i < n && !found; i++) found = strcmp(items[i], name) == 0;
  free(copy);
  return found;
}

/* A field [features] leaves to be an attribute: with numeric empty, one
 * named by no key. */
static int unclaimed(const eddy_features_section_t *fs, const char *name) {
  const char *roles[] = {fs->target, fs->key, fs->id, fs->timestamp, fs->weight};
  if (!*name) return 0;
  for (int i = 0; i < 5; i++)
    if (roles[i] && strcmp(roles[i], name) == 0) return 0;
  return !in_list(fs->nominal, name) && !in_list(fs->exclude, name);
}

int eddy_input_infer_nominal(const eddy_pipeline_conf_t *c, eddy_format_t fmt, const char *const *names,
                             size_t n_names, eddy_lines_t *l, size_t max_records, char **inferred,
                             size_t *records, char *errstr, size_t errstr_size) {
  *inferred = NULL;
  *records = 0;
  if (c->features.numeric && *c->features.numeric) return 0; /* attributes listed: nothing to infer */
  infer_t t = {names, n_names, calloc(n_names ? n_names : 1, 1)};
  char **cols = NULL, *copy = NULL;
  size_t *lens = NULL, cap = 0;
  int err = t.text ? 0 : EDDY_ENOMEM;
  char *line;
  size_t len;
  while (!err && *records < max_records && eddy_input_next(l, &line, &len) == 0) {
    if (fmt == EDDY_FORMAT_JSON) {
      char msg[256];
      if (eddy_json_members(line, len, on_member, &t, msg, sizeof msg) == 0) (*records)++;
      continue; /* a malformed line is reported by the record loop */
    }
    if (len + 1 > cap) {
      cap = len + 1;
      free(cols);
      free(lens);
      free(copy);
      cols = calloc(cap, sizeof *cols);
      lens = calloc(cap, sizeof *lens);
      copy = malloc(cap);
      if (!cols || !lens || !copy) err = EDDY_ENOMEM;
    }
    if (err) break;
    memcpy(copy, line, len + 1); /* split works in place; the line is read again after rewind */
    int n = eddy_csv_split(copy, len, cols, lens, cap);
    if (n != (int)n_names) continue;
    (*records)++;
    for (size_t i = 0; i < n_names; i++)
      if (!t.text[i]) t.text[i] = (char)eddy_field_is_text(cols[i], lens[i], 0);
  }
  eddy_buf_t b;
  eddy_buf_init(&b);
  for (size_t i = 0; !err && i < n_names; i++)
    if (t.text[i] && unclaimed(&c->features, names[i])) eddy_buf_printf(&b, "%s%s", b.len ? ", " : "", names[i]);
  if (!err && b.len) {
    eddy_buf_put_u8(&b, 0);
    if (b.err || !(*inferred = strdup((const char *)b.data))) err = EDDY_ENOMEM;
  }
  eddy_buf_free(&b);
  free(cols);
  free(lens);
  free(copy);
  free(t.text);
  return err ? eddy_seterr(errstr, errstr_size, err, "out of memory") : 0;
}
