/* records_file.c: a file of records for `eddy eval` and `eddy predict`:
 * CSV with a header, or JSON lines whose first record names the fields;
 * the format by the config, the file's extension or the first record, past
 * a byte order mark and blank lines (connectors/input.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cli/cli.h"

enum { INFER_RECORDS = 1000 }; /* records read ahead to infer nominal attributes */

/* The first record that names JSON fields: lines before it that are not a
 * JSON object are left to the record loop, which reports them. */
static int json_names(eddy__records_file_t *f, const char *in, char *err, size_t size) {
  char *line, msg[512] = "";
  size_t len;
  uint64_t first_bad = 0;
  int st;
  while ((st = eddy_input_next(f->lines, &line, &len)) == 0) {
    int n = eddy_json_keys(line, len, &f->names, msg, sizeof msg);
    if (n >= 0) {
      f->n_names = n;
      return 0;
    }
    if (!first_bad) first_bad = eddy_lines_number(f->lines);
    if (eddy_lines_number(f->lines) - first_bad >= INFER_RECORDS) break;
  }
  if (first_bad)
    return eddy_seterr(err, size, EDDY_EINVAL, "%s:%llu: no JSON record to take field names from (%s)", in,
                       (unsigned long long)first_bad, msg);
  return eddy_seterr(err, size, EDDY_EINVAL, "%s: %s", in,
                     st == EDDY_EEOF ? "no records (empty, or blank lines only)" : eddy_strerror(st));
}

int eddy__records_file_open(eddy__records_file_t *f, const char *path, const eddy_pipeline_conf_t *pc,
                            char *err, size_t size) {
  memset(f, 0, sizeof *f);
  f->path = path && strcmp(path, "-") ? path : NULL;
  if (!(f->lines = eddy_lines_open(f->path, err, size))) return EDDY_EINVAL;
  const char *in = f->path ? f->path : "stdin";
  char *line;
  size_t len;
  eddy_lines_mark(f->lines);
  int first = eddy_input_next(f->lines, &line, &len);
  if (first == EDDY_EEOF) return eddy_seterr(err, size, EDDY_EINVAL, "%s: empty input (or blank lines only)", in);
  if (first) return eddy_seterr(err, size, first, "%s: %s", in, eddy_strerror(first));
  f->fmt = eddy_input_format(pc, f->path, line);
  if (f->fmt == EDDY_FORMAT_AVRO)
    return eddy_seterr(err, size, EDDY_EINVAL, "%s: CSV or JSON lines are read here; convert Avro first", in);
  if (f->fmt == EDDY_FORMAT_JSON) {
    /* The names from the first record that parses; then back before it:
     * every line is a record (a malformed one is skipped, named). */
    eddy_lines_rewind(f->lines);
    eddy_lines_mark(f->lines);
    if (json_names(f, in, err, size)) return EDDY_EINVAL;
    eddy_lines_rewind(f->lines);
  } else {
    int n = eddy_csv_header(line, len, &f->names);
    if (n <= 0)
      return eddy_seterr(err, size, EDDY_EINVAL, "%s:%llu: cannot read the CSV header (%s)", in,
                         (unsigned long long)eddy_lines_number(f->lines), eddy_strerror(n ? n : EDDY_EPARSE));
    f->n_names = n;
  }
  eddy_lines_mark(f->lines); /* before the first record: eddy__records_file_infer reads ahead */
  return 0;
}

int eddy__records_file_infer(eddy__records_file_t *f, eddy_pipeline_conf_t *pc, char *err, size_t size) {
  char *inferred;
  size_t records;
  int rc = eddy_input_infer_nominal(pc, f->fmt, (const char *const *)f->names, (size_t)f->n_names, f->lines,
                                    INFER_RECORDS, &inferred, &records, err, size);
  eddy_lines_rewind(f->lines);
  if (rc || !inferred) return rc;
  fprintf(stderr, "eddy: nominal attributes inferred from text values in the first %zu records: %s "
                  "(name them in [features] nominal or numeric to choose)\n", records, inferred);
  const char *had = pc->features.nominal && *pc->features.nominal ? pc->features.nominal : NULL;
  char *joined = malloc((had ? strlen(had) + 2 : 0) + strlen(inferred) + 1);
  if (!joined) {
    free(inferred);
    return eddy_seterr(err, size, EDDY_ENOMEM, "out of memory");
  }
  sprintf(joined, "%s%s%s", had ? had : "", had ? ", " : "", inferred);
  free(inferred);
  free(pc->features.nominal);
  pc->features.nominal = joined;
  return 0;
}

void eddy__records_file_explain(const eddy__records_file_t *f, char *err, size_t size) {
  if (!strstr(err, "which the records do not have")) return;
  size_t n = strlen(err);
  snprintf(err + n, size - n, " (the fields of %s's %s)", f->path ? f->path : "stdin",
           f->fmt == EDDY_FORMAT_JSON ? "first JSON record" : "CSV header");
}

int eddy__records_file_next(eddy__records_file_t *f, char **line, size_t *len) {
  return eddy_input_next(f->lines, line, len);
}

void eddy__records_file_close(eddy__records_file_t *f) {
  for (int i = 0; i < f->n_names; i++) free(f->names[i]);
  free(f->names);
  eddy_lines_close(f->lines);
  memset(f, 0, sizeof *f);
}
