/* fuzz_lines.h: the CSV and JSON targets' common driver. An input is lines
 * of text, decoded two ways:
 *  1. fixed fields: every line is a record of a pipeline whose fields take
 *     every role (numeric and nominal attributes, target, key, id,
 *     timestamp, weight, an aggregate's input), against a schema made
 *     fresh for the input (small dictionary bounds, so overflow values and
 *     refused classes happen); each decoded record is checked;
 *  2. as `eddy eval` reads a file: the first line names the fields (a CSV
 *     header; a JSON record's keys), the field map and the decoder are made
 *     from it, and the records go through the replicas of two pipelines
 *     picked by the header's hash among one per registered learner and
 *     task (each with a concept detector, a drift action and the data
 *     detectors), so decoded extremes reach learners and detectors. The
 *     target y is a class for some and a number for others: a record that
 *     one refuses is still given to the other. */
#ifndef EDDY_FUZZ_LINES_H
#define EDDY_FUZZ_LINES_H

#include "fuzz.h"

#define FUZZ_FIXED_CONF                                                                  \
  "[pipeline]\nname = fixed\n[source]\nmax_record_bytes = 1048576\n"                    \
  "[features]\nnumeric = a, b\nnominal = c, d\ntarget = y\nkey = k\nid = i\n"             \
  "timestamp = ts\nweight = w\nmax_values = 4\nmax_classes = 3\n"

/* Column order of the fixed CSV records (u: a column nothing uses). */
static const char *const fuzz_fixed_columns[] = {"a", "b", "c", "d", "y", "k", "i", "ts", "w", "z", "u"};
#define FUZZ_N_FIXED (sizeof fuzz_fixed_columns / sizeof *fuzz_fixed_columns)

typedef struct {
  eddy_config_t *fixed_conf;
  eddy_fields_t *fixed_fields;
  eddy_decoder_t *fixed_dec;
  eddy_record_t fixed_rec;
  eddy_config_t **learner_confs; /* one per registered learner and task */
  size_t n_learners;
} fuzz_lines_t;

static const char *const fuzz_actions[] = {"alert", "reset", "retrain", "swap"};

static fuzz_lines_t *fuzz_lines_setup(eddy_format_t fmt) {
  static fuzz_lines_t t;
  if (t.fixed_conf) return &t;
  char err[1024];
  t.fixed_conf = fuzz_config(FUZZ_FIXED_CONF);
  const eddy_pipeline_conf_t *pc = &t.fixed_conf->pipelines[0];
  static const char *const aux[] = {"z", "a"}; /* z: an aggregate input; a: already an attribute */
  t.fixed_fields = eddy_fields_new(pc, NULL, 0, aux, 2, err, sizeof err);
  FUZZ_CHECK(t.fixed_fields, "%s", err);
  t.fixed_dec = eddy_decoder_new(fmt, t.fixed_fields, pc, fuzz_fixed_columns, FUZZ_N_FIXED, err, sizeof err);
  FUZZ_CHECK(t.fixed_dec, "%s", err);
  FUZZ_CHECK(eddy_record_init(&t.fixed_rec, t.fixed_fields) == 0, "out of memory");

  const eddy_detector_type_t *concept[64], *data[64];
  size_t nc = fuzz_concept_detectors(concept, 64), nd = fuzz_data_detectors(data, 64);
  /* One pipeline per learner and task it supports. */
  size_t nl = fuzz_n_learners();
  t.learner_confs = calloc(2 * nl, sizeof *t.learner_confs);
  FUZZ_CHECK(t.learner_confs, "out of memory");
  for (size_t i = 0; i < 2 * nl; i++) {
    const eddy_learner_type_t *lt = eddy_learner_types[i / 2];
    int task = i % 2 ? EDDY_REGRESSION : EDDY_CLASSIFICATION;
    if (!(lt->tasks & (unsigned)task)) continue;
    size_t v = t.n_learners;
    eddy_buf_t b;
    eddy_buf_init(&b);
    eddy_buf_printf(&b,
                    "[pipeline]\nname = header\ntask = %s\n[source]\nmax_record_bytes = 1048576\n"
                    "[features]\nnominal = c\ntarget = y\nmax_values = 4\nmax_classes = 4\n",
                    task == EDDY_REGRESSION ? "regression" : "classification");
    fuzz_model_section(&b, lt, task == EDDY_REGRESSION);
    eddy_buf_printf(&b, "[drift]\naction = %s\nretrain_window = 10\n", fuzz_actions[v % 4]);
    if (nc) eddy_buf_printf(&b, "detector = %s\n", concept[v % nc]->name);
    for (size_t j = 0; j < nd; j++) {
      eddy_buf_printf(&b, "%s%s", j ? ", " : "data_detectors = ", data[j]->name);
      if (j == nd - 1) eddy_buf_printf(&b, "\n");
    }
    static const char *const small[] = {"reference_size", "window_size", "interval"};
    for (size_t j = 0; j < nd; j++)
      for (size_t k = 0; k < 3; k++)
        if (eddy_options_find(data[j]->options, small[k]))
          eddy_buf_printf(&b, "%s.%s = 4\n", data[j]->name, small[k]);
    eddy_buf_put_u8(&b, 0);
    t.learner_confs[t.n_learners++] = fuzz_config((const char *)b.data);
    eddy_buf_free(&b);
  }
  return &t;
}

/* The next line of [*p, end) (without its '\n'); 0 at the end. */
static int fuzz_next_line(const char **p, const char *end, const char **line, size_t *len) {
  if (*p >= end) return 0;
  const char *nl = memchr(*p, '\n', (size_t)(end - *p));
  *line = *p;
  *len = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
  *p = nl ? nl + 1 : end;
  return 1;
}

static int fuzz_blank(const char *line, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r') return 0;
  return 1;
}

static void fuzz_fixed(fuzz_lines_t *t, const uint8_t *data, size_t size) {
  char err[1024];
  eddy_schema_t *s = eddy_fields_schema(t->fixed_fields, err, sizeof err);
  FUZZ_CHECK(s, "%s", err);
  const char *p = (const char *)data, *end = p + size, *line;
  size_t len;
  while (fuzz_next_line(&p, end, &line, &len)) {
    err[0] = '\0';
    if (eddy_decoder_decode(t->fixed_dec, s, line, len, &t->fixed_rec, err, sizeof err) == 0)
      fuzz_check_record(s, &t->fixed_rec);
    else
      FUZZ_CHECK(err[0], "a failed decode without a message");
  }
  eddy_schema_free(s);
}

/* The header's field names, malloc'd; the count or a negative code. */
static int fuzz_header(eddy_format_t fmt, const char *line, size_t len, char ***names) {
  char err[1024];
  if (fmt == EDDY_FORMAT_JSON) return eddy_json_keys(line, len, names, err, sizeof err);
  char *copy = eddy_strndup(line, len);
  char **cols = calloc(len + 1, sizeof *cols);
  size_t *lens = calloc(len + 1, sizeof *lens);
  FUZZ_CHECK(copy && cols && lens, "out of memory");
  while (len && (copy[len - 1] == '\r')) len--;
  int n = eddy_csv_split(copy, len, cols, lens, len + 1);
  *names = NULL;
  if (n > 0) {
    *names = calloc((size_t)n, sizeof **names);
    FUZZ_CHECK(*names, "out of memory");
    for (int i = 0; i < n; i++) FUZZ_CHECK(((*names)[i] = eddy_strndup(cols[i], lens[i])), "out of memory");
  }
  free(copy);
  free(cols);
  free(lens);
  return n;
}

static void fuzz_with_header(fuzz_lines_t *t, eddy_format_t fmt, const uint8_t *data, size_t size) {
  const char *p = (const char *)data, *end = p + size, *line;
  size_t len;
  if (!fuzz_next_line(&p, end, &line, &len)) return;
  char **names = NULL;
  int n = fuzz_header(fmt, line, len, &names);
  if (n <= 0) return;
  char err[1024];
  /* A field map and a decoder per task (the target is a class or a number). */
  eddy_fields_t *f[2] = {NULL, NULL};
  eddy_decoder_t *dec[2] = {NULL, NULL};
  eddy_record_t rec[2];
  /* Two of the pipelines, picked by the header's hash (every replica per
   * input would cost more than the decoding). */
  enum { N_REPS = 2 };
  eddy_replica_t *reps[N_REPS] = {NULL, NULL};
  uint64_t h = eddy_hash(line, len);
  for (size_t i = 0; i < N_REPS; i++) {
    const eddy_pipeline_conf_t *pc = &t->learner_confs[(h + i * 7) % t->n_learners]->pipelines[0];
    int k = pc->pipeline.task == EDDY_REGRESSION;
    if (!f[k]) {
      f[k] = eddy_fields_new(pc, (const char *const *)names, (size_t)n, NULL, 0, err, sizeof err);
      if (!f[k]) break; /* the header lacks c or y: refused for either task */
      dec[k] = eddy_decoder_new(fmt, f[k], pc, (const char *const *)names, (size_t)n, err, sizeof err);
      FUZZ_CHECK(dec[k], "a field map that was made has no decoder: %s", err);
      FUZZ_CHECK(eddy_record_init(&rec[k], f[k]) == 0, "out of memory");
    }
    reps[i] = eddy_replica_new(pc, f[k], 20, err, sizeof err);
    FUZZ_CHECK(reps[i], "%s", err);
  }
  if (fmt == EDDY_FORMAT_JSON) p = (const char *)data; /* the first record names the fields and is data */
  while (reps[N_REPS - 1] && fuzz_next_line(&p, end, &line, &len)) {
    if (fuzz_blank(line, len)) continue;
    for (size_t i = 0; i < N_REPS; i++) {
      eddy_replica_t *r = reps[i];
      int k = r->schema->task == EDDY_REGRESSION;
      err[0] = '\0';
      if (eddy_decoder_decode(dec[k], r->schema, line, len, &rec[k], err, sizeof err)) {
        FUZZ_CHECK(err[0], "a failed decode without a message");
        continue;
      }
      fuzz_check_record(r->schema, &rec[k]);
      int nk = eddy_replica_predict(r, &rec[k].in);
      FUZZ_CHECK(nk <= (int)r->pred_cap, "predict wrote %d values into %zu", nk, r->pred_cap);
      if (rec[k].in.has_y) eddy_replica_learn(r, &rec[k].in);
    }
  }
  for (size_t i = 0; i < N_REPS; i++) eddy_replica_free(reps[i]);
  for (int k = 0; k < 2; k++) {
    if (dec[k]) eddy_record_free(&rec[k]);
    eddy_decoder_free(dec[k]);
    eddy_fields_free(f[k]);
  }
  for (int i = 0; i < n; i++) free(names[i]);
  free(names);
}

static void fuzz_lines(eddy_format_t fmt, const uint8_t *data, size_t size) {
  fuzz_lines_t *t = fuzz_lines_setup(fmt);
  fuzz_fixed(t, data, size);
  fuzz_with_header(t, fmt, data, size);
}

#endif /* EDDY_FUZZ_LINES_H */
