/* records_file.c: a file of records for `eddy eval` and `eddy predict`:
 * CSV with a header, or JSON lines whose first record names the fields. */
#include <stdlib.h>
#include <string.h>

#include "engine/cli/cli.h"

int eddy__records_file_open(eddy__records_file_t *f, const char *path, const eddy_pipeline_conf_t *pc,
                            char *err, size_t size) {
  memset(f, 0, sizeof *f);
  f->path = path && strcmp(path, "-") ? path : NULL;
  if (!(f->lines = eddy_lines_open(f->path, err, size))) return EDDY_EINVAL;
  const char *in = f->path ? f->path : "stdin";
  char *line;
  size_t len;
  int first = eddy_lines_next(f->lines, &line, &len);
  if (first == EDDY_EEOF) return eddy_seterr(err, size, EDDY_EINVAL, "%s: empty input", in);
  if (first) return eddy_seterr(err, size, first, "%s: %s", in, eddy_strerror(first));
  size_t skip = strspn(line, " \t");
  f->fmt = line[skip] == '{' ? EDDY_FORMAT_JSON : EDDY_FORMAT_CSV;
  if (pc->has_source && pc->source.type == EDDY_SOURCE_FILE) f->fmt = pc->source.format;
  if (f->fmt == EDDY_FORMAT_AVRO)
    return eddy_seterr(err, size, EDDY_EINVAL, "%s: CSV or JSON lines are read here; convert Avro first", in);
  if (f->fmt == EDDY_FORMAT_JSON) {
    int n = eddy_json_keys(line, len, &f->names, err, size);
    if (n < 0) return n;
    f->n_names = n;
    f->first_line = line;
    f->first_len = len;
    return 0;
  }
  char **cols = calloc(len + 1, sizeof *cols);
  size_t *lens = calloc(len + 1, sizeof *lens);
  int n = cols && lens ? eddy_csv_split(line, len, cols, lens, len + 1) : EDDY_ENOMEM;
  if (n > 0 && (f->names = calloc((size_t)n, sizeof *f->names)))
    for (int i = 0; i < n; i++) f->names[i] = eddy_strndup(cols[i], lens[i]);
  free(cols);
  free(lens);
  if (n <= 0 || !f->names) return eddy_seterr(err, size, EDDY_EINVAL, "%s:1: cannot read the CSV header", in);
  f->n_names = n;
  return 0;
}

int eddy__records_file_next(eddy__records_file_t *f, char **line, size_t *len) {
  if (f->first_line) {
    *line = f->first_line;
    *len = f->first_len;
    f->first_line = NULL;
    return 0;
  }
  return eddy_lines_next(f->lines, line, len);
}

void eddy__records_file_close(eddy__records_file_t *f) {
  for (int i = 0; i < f->n_names; i++) free(f->names[i]);
  free(f->names);
  eddy_lines_close(f->lines);
  memset(f, 0, sizeof *f);
}
