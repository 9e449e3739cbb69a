/* csv.c: CSV records (RFC 4180 quoting; blanks around a field dropped)
 * against a column list: a file's header line, or [source] columns for CSV
 * over Kafka. */
#include <stdlib.h>
#include <string.h>

#include "connectors/connectors.h"

typedef struct {
  const eddy_field_t **cols; /* column -> field (NULL: ignored) */
  size_t n;
  char **fields; /* split scratch */
  size_t *lens;
} csv_t;

int eddy_csv_split(char *line, size_t len, char **fields, size_t *lens, size_t max) {
  size_t n = 0, i = 0;
  for (;;) {
    if (n == max) return EDDY_ERANGE;
    /* Blanks around a field are no part of it ("a, b, y" as "a,b,y"). */
    while (i < len && (line[i] == ' ' || line[i] == '\t')) i++;
    if (i < len && line[i] == '"') {
      /* Quoted: unquote in place, "" stands for one quote. */
      size_t w = i, r = i + 1;
      fields[n] = line + i;
      for (;;) {
        if (r >= len) return EDDY_EPARSE; /* unterminated quote */
        if (line[r] == '"') {
          if (r + 1 < len && line[r + 1] == '"') {
            line[w++] = '"';
            r += 2;
            continue;
          }
          r++;
          break;
        }
        line[w++] = line[r++];
      }
      lens[n] = w - i;
      while (r < len && (line[r] == ' ' || line[r] == '\t')) r++;
      if (r < len && line[r] != ',') return EDDY_EPARSE; /* text after the closing quote */
      line[w] = '\0'; /* w < r: the quote was consumed */
      i = r;
    } else {
      fields[n] = line + i;
      char *comma = memchr(line + i, ',', len - i);
      size_t e = comma ? (size_t)(comma - line) : len, t = e;
      while (t > i && (line[t - 1] == ' ' || line[t - 1] == '\t')) t--;
      lens[n] = t - i;
      if (t < e) line[t] = '\0';
      i = e;
    }
    n++;
    if (i >= len) break;
    line[i++] = '\0'; /* the comma */
    if (i == len) { /* a trailing comma: one more empty field */
      if (n == max) return EDDY_ERANGE;
      fields[n] = line + i;
      lens[n++] = 0;
      break;
    }
  }
  return (int)n;
}

static int csv_create(eddy_decoder_t *d, const char *const *columns, size_t n, char *errstr,
                      size_t errstr_size) {
  if (!columns || n == 0)
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL,
                       "CSV records need their column names ([source] columns, or a header line)");
  csv_t *c = calloc(1, sizeof *c);
  if (!c) return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  c->n = n;
  c->cols = calloc(n, sizeof *c->cols);
  c->fields = calloc(n + 1, sizeof *c->fields);
  c->lens = calloc(n + 1, sizeof *c->lens);
  if (!c->cols || !c->fields || !c->lens) {
    free(c->cols);
    free(c->fields);
    free(c->lens);
    free(c);
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    const eddy_field_t *f = eddy_fields_find(d->fields, columns[i], strlen(columns[i]));
    c->cols[i] = f && f->kind != EDDY_FIELD_IGNORE ? f : NULL;
  }
  d->impl = c;
  return 0;
}

static int csv_decode(eddy_decoder_t *d, eddy_schema_t *s, const void *p, size_t len,
                      eddy_record_t *r, char *errstr, size_t errstr_size) {
  csv_t *c = d->impl;
  while (len && (((const char *)p)[len - 1] == '\n' || ((const char *)p)[len - 1] == '\r')) len--;
  memcpy(d->scratch, p, len);
  d->scratch[len] = '\0';
  int n = eddy_csv_split(d->scratch, len, c->fields, c->lens, c->n + 1);
  if (n == EDDY_EPARSE)
    return eddy_seterr(errstr, errstr_size, EDDY_EPARSE, "malformed CSV (unbalanced quotes)");
  if (n < 0 || (size_t)n != c->n)
    return eddy_seterr(errstr, errstr_size, EDDY_EPARSE, "expected %zu CSV fields, got %s%d", c->n,
                       n < 0 ? "more than " : "", n < 0 ? (int)c->n : n);
  for (size_t i = 0; i < c->n; i++) {
    if (!c->cols[i]) continue;
    /* CSV has no types: every value is text, and "" is missing. */
    int err = eddy_record_set(r, d->fields, s, c->cols[i], c->fields[i], c->lens[i], 0, errstr,
                              errstr_size);
    if (err) return err;
  }
  return 0;
}

static void csv_destroy(eddy_decoder_t *d) {
  csv_t *c = d->impl;
  if (!c) return;
  free(c->cols);
  free(c->fields);
  free(c->lens);
  free(c);
}

const eddy_codec_t eddy_codec_csv = {"csv", csv_create, csv_decode, csv_destroy};
