/* cmd_eval.c: `eddy eval`: prequential (test-then-train) evaluation of a
 * pipeline's model on a CSV or JSON-lines file, as MOA's
 * EvaluatePrequential and River's progressive_val_score do. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connectors/connectors.h"
#include "engine/record/record.h"
#include "engine/cli/cli.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
#include "learners/learners.h"

static const char usage[] =
    "usage: eddy eval -c FILE.ini [--input PATH|-] [options]\n"
    "Prequential evaluation: each record is predicted, then learned when it has a label.\n"
    "  -c, --config FILE      pipeline configuration (its [features], [model], [drift])\n"
    "  -p, --pipeline NAME    which pipeline of the file (default: the first)\n"
    "  -i, --input PATH       CSV with a header, or JSON lines; '-' or none: stdin\n"
    "  -e, --every N          a line of figures every N instances (default 10000; 0: only the end)\n"
    "  -w, --window N         sliding window of the windowed figures (default 1000)\n"
    "  -f, --format FMT       text (default), csv or jsonl\n"
    "  -n, --max N            stop after N records\n"
    "  -P, --predictions FILE one JSON line per record, the predictions topic's fields\n"
    "                         (with the record's index for topic/partition/offset); '-': stdout\n"
    "      --describe         print the model (e.g. a tree's splits) at the end\n"
    "  -q, --quiet            no progress bar\n";

typedef struct eval {
  const eddy_pipeline_conf_t *pc;
  eddy_pipeline_conf_t conf; /* pc with a memory store and JSON predictions */
  eddy_path_t path;          /* the one record path */
  eddy_store_t *store;       /* entity aggregates (memory), or NULL */
  eddy_state_batch_t *batch;
  eddy_lines_t *lines;
  char **names;              /* the records' fields */
  int n_names;
  char *first_line;          /* JSON: the first record, read for its keys */
  size_t first_len;
  const char *predictions_path;
  FILE *predictions;         /* --predictions: one JSON line per record */
  uint64_t learn_errors;
  int format; /* 0 text, 1 csv, 2 jsonl */
  uint64_t every, max;
  size_t window;
  int describe, progress;
  const char *input;
  eddy_replica_t *rep;
  uint64_t records, labelled, errors;
  uint64_t alerts_warning, alerts_drift, alerts_data, alerts_anomaly, alerts_switch;
  uint64_t served_fallback; /* predictions the [model] fallback answered */
  uint64_t last_row; /* instances at the last row printed */
  int header_done;
  double t0;
  eddy_buf_t out;
} eval_t;

enum { FMT_TEXT, FMT_CSV, FMT_JSONL };

static void put_num(eddy_buf_t *b, double v, int json) {
  if (isnan(v)) {
    eddy_buf_printf(b, "%s", json ? "null" : "nan");
    return;
  }
  eddy_buf_printf(b, "%.6f", v);
}

static void flush_out(eval_t *e) {
  fwrite(e->out.data, 1, e->out.len, stdout);
  fflush(stdout);
  eddy_buf_clear(&e->out);
}

/* The figure columns of a task: name, cumulative and windowed values. */
static size_t figures(const eval_t *e, const char **names, double *cum, double *win) {
  eddy_metrics_t c, w;
  eddy_evaluator_cumulative(e->rep->eval, &c);
  eddy_evaluator_windowed(e->rep->eval, &w);
  size_t n = 0;
  if (e->pc->pipeline.task == EDDY_CLASSIFICATION) {
    const char *nm[] = {"accuracy", "kappa", "log_loss", "f1_macro", "auc"};
    double cv[] = {c.accuracy, c.kappa, c.log_loss, c.f1_macro, c.auc};
    double wv[] = {w.accuracy, w.kappa, w.log_loss, w.f1_macro, w.auc};
    /* Columns stay fixed for the whole run: auc is nan unless binary. */
    for (size_t i = 0; i < 5; i++) {
      names[n] = nm[i];
      cum[n] = cv[i];
      win[n++] = wv[i];
    }
  } else {
    const char *nm[] = {"mae", "rmse", "r2"};
    double cv[] = {c.mae, c.rmse, c.r2}, wv[] = {w.mae, w.rmse, w.r2};
    for (size_t i = 0; i < 3; i++) {
      names[n] = nm[i];
      cum[n] = cv[i];
      win[n++] = wv[i];
    }
  }
  return n;
}

/* One JSON line of figures; the last one carries the totals. */
static void report_jsonl(eval_t *e, int final, size_t n, const char **names, const double *cum,
                         const double *win) {
  eddy_buf_t *b = &e->out;
  eddy_buf_printf(b, "{\"instances\":%llu", (unsigned long long)e->records);
  for (size_t i = 0; i < n; i++) {
    eddy_buf_printf(b, ",\"%s\":", names[i]);
    put_num(b, cum[i], 1);
  }
  eddy_buf_printf(b, ",\"window\":{\"size\":%zu", e->window);
  for (size_t i = 0; i < n; i++) {
    eddy_buf_printf(b, ",\"%s\":", names[i]);
    put_num(b, win[i], 1);
  }
  eddy_buf_printf(b, "},\"model_version\":%llu", (unsigned long long)e->rep->version);
  if (final) {
    double dt = eddy_now() - e->t0;
    eddy_buf_printf(b, ",\"final\":true,\"labelled\":%llu,\"errors\":%llu,\"learn_errors\":%llu,"
                    "\"seconds\":%.6f,\"instances_per_second\":%.0f,\"memory_bytes\":%zu,"
                    "\"alerts\":{\"warning\":%llu,\"drift\":%llu,\"data_drift\":%llu,\"anomaly\":%llu}",
                    (unsigned long long)e->labelled, (unsigned long long)e->errors,
                    (unsigned long long)e->learn_errors, dt, dt > 0 ? (double)e->records / dt : 0.0,
                    eddy_learner_memory(e->rep->learner), (unsigned long long)e->alerts_warning,
                    (unsigned long long)e->alerts_drift, (unsigned long long)e->alerts_data,
                    (unsigned long long)e->alerts_anomaly);
    if (e->rep->fallback)
      eddy_buf_printf(b, ",\"served_by_fallback\":%llu,\"fallback_switches\":%llu",
                      (unsigned long long)e->served_fallback, (unsigned long long)e->alerts_switch);
    if (e->pc->pipeline.task == EDDY_CLASSIFICATION) {
      size_t k, stride;
      const uint64_t *m = eddy_evaluator_confusion(e->rep->eval, &k, &stride);
      k = eddy_schema_n_classes(e->rep->schema);
      eddy_buf_printf(b, ",\"classes\":[");
      for (size_t i = 0; i < k; i++)
        eddy_buf_printf(b, "%s\"%s\"", i ? "," : "", eddy_dict_name(e->rep->schema->target.dict, (uint32_t)i));
      eddy_buf_printf(b, "],\"confusion\":[");
      for (size_t i = 0; i < k; i++) {
        eddy_buf_printf(b, "%s[", i ? "," : "");
        for (size_t j = 0; j < k; j++)
          eddy_buf_printf(b, "%s%llu", j ? "," : "", (unsigned long long)m[i * stride + j]);
        eddy_buf_printf(b, "]");
      }
      eddy_buf_printf(b, "]");
    }
  }
  eddy_buf_printf(b, "}\n");
}

/* One row of the text table or of CSV, after the header the first time. */
static void report_row(eval_t *e, int row, size_t n, const char **names, const double *cum,
                       const double *win) {
  eddy_buf_t *b = &e->out;
  if (!e->header_done) {
    e->header_done = 1;
    if (e->format == FMT_CSV) {
      eddy_buf_printf(b, "instances");
      for (size_t i = 0; i < n; i++) eddy_buf_printf(b, ",%s", names[i]);
      for (size_t i = 0; i < n; i++) eddy_buf_printf(b, ",window_%s", names[i]);
      eddy_buf_printf(b, ",model_version\n");
    } else {
      eddy_buf_printf(b, "%12s", "instances");
      for (size_t i = 0; i < n; i++) eddy_buf_printf(b, " %10.10s", names[i]);
      for (size_t i = 0; i < n; i++) {
        char w[32];
        snprintf(w, sizeof w, "w_%s", names[i]);
        eddy_buf_printf(b, " %10.10s", w);
      }
      eddy_buf_printf(b, "\n");
    }
  }
  if (!row) return; /* the last row already stands for the end */
  if (e->format == FMT_CSV) {
    eddy_buf_printf(b, "%llu", (unsigned long long)e->records);
    for (size_t i = 0; i < n; i++) {
      eddy_buf_put_u8(b, ',');
      put_num(b, cum[i], 0);
    }
    for (size_t i = 0; i < n; i++) {
      eddy_buf_put_u8(b, ',');
      put_num(b, win[i], 0);
    }
    eddy_buf_printf(b, ",%llu\n", (unsigned long long)e->rep->version);
  } else {
    eddy_buf_printf(b, "%12llu", (unsigned long long)e->records);
    for (size_t i = 0; i < n; i++) eddy_buf_printf(b, " %10.4f", cum[i]);
    for (size_t i = 0; i < n; i++) eddy_buf_printf(b, " %10.4f", win[i]);
    eddy_buf_printf(b, "\n");
  }
}

static void confusion_text(eval_t *e) {
  eddy_buf_t *b = &e->out;
  const eddy_schema_t *s = e->rep->schema;
  size_t k, stride;
  const uint64_t *m = eddy_evaluator_confusion(e->rep->eval, &k, &stride);
  k = eddy_schema_n_classes(s);
  if (k > 20) {
    eddy_buf_printf(b, "confusion matrix: %zu classes (see --format jsonl)\n", k);
    return;
  }
  eddy_buf_printf(b, "confusion matrix (rows: true class, columns: predicted)\n%12s", "");
  for (size_t j = 0; j < k; j++) eddy_buf_printf(b, " %10.10s", eddy_dict_name(s->target.dict, (uint32_t)j));
  eddy_buf_printf(b, "\n");
  for (size_t i = 0; i < k; i++) {
    eddy_buf_printf(b, "%12.12s", eddy_dict_name(s->target.dict, (uint32_t)i));
    for (size_t j = 0; j < k; j++) eddy_buf_printf(b, " %10llu", (unsigned long long)m[i * stride + j]);
    eddy_buf_printf(b, "\n");
  }
}

/* The totals after the last text row. */
static void report_summary(eval_t *e, size_t n, const char **names, const double *cum, const double *win) {
  eddy_buf_t *b = &e->out;
  double dt = eddy_now() - e->t0;
  const eddy_schema_t *s = e->rep->schema;
  eddy_buf_printf(b, "\npipeline %s, learner %s, %zu attributes\n", e->pc->pipeline.name,
                  e->rep->learner->type->name, s->n_attrs);
  eddy_buf_printf(b, "instances %llu (labelled %llu, skipped %llu with errors", (unsigned long long)e->records,
                  (unsigned long long)e->labelled, (unsigned long long)e->errors);
  if (e->learn_errors) eddy_buf_printf(b, ", %llu learner errors", (unsigned long long)e->learn_errors);
  eddy_buf_printf(b, ")\n");
  for (size_t i = 0; i < n; i++) {
    eddy_buf_printf(b, "%-10s %.6f", names[i], cum[i]);
    eddy_buf_printf(b, "   (last %zu: %.6f)\n", e->window, win[i]);
  }
  if (s->task == EDDY_CLASSIFICATION) confusion_text(e);
  if (e->alerts_warning + e->alerts_drift + e->alerts_data + e->alerts_anomaly)
    eddy_buf_printf(b, "alerts: %llu warning, %llu drift, %llu data_drift, %llu anomaly; model version %llu\n",
                    (unsigned long long)e->alerts_warning, (unsigned long long)e->alerts_drift,
                    (unsigned long long)e->alerts_data, (unsigned long long)e->alerts_anomaly,
                    (unsigned long long)e->rep->version);
  if (e->rep->fallback)
    eddy_buf_printf(b, "served by the fallback (%s): %llu of %llu predictions, %llu switches\n",
                    e->pc->model.fallback, (unsigned long long)e->served_fallback,
                    (unsigned long long)e->records, (unsigned long long)e->alerts_switch);
  eddy_buf_printf(b, "time %.3f s, %.0f instances/s\nmodel memory %zu bytes\n", dt,
                  dt > 0 ? (double)e->records / dt : 0.0, eddy_learner_memory(e->rep->learner));
}

static void report(eval_t *e, int final) {
  const char *names[8];
  double cum[8], win[8];
  size_t n = figures(e, names, cum, win);
  int row = !(final && e->last_row == e->records && e->records);
  e->last_row = e->records;
  if (e->format == FMT_JSONL) {
    report_jsonl(e, final, n, names, cum, win);
    return;
  }
  report_row(e, row, n, names, cum, win);
  if (final && e->format == FMT_TEXT) report_summary(e, n, names, cum, win);
  if (final && e->format == FMT_CSV) {
    double dt = eddy_now() - e->t0;
    fprintf(stderr, "eddy eval: %llu instances in %.3f s (%.0f/s), model memory %zu bytes\n",
            (unsigned long long)e->records, dt, dt > 0 ? (double)e->records / dt : 0.0,
            eddy_learner_memory(e->rep->learner));
  }
}

static void on_alert(void *ctx, const eddy_alert_t *a) {
  eval_t *e = ctx;
  if (!strcmp(a->kind, "warning")) e->alerts_warning++;
  else if (!strcmp(a->kind, "drift")) e->alerts_drift++;
  else if (!strcmp(a->kind, "anomaly")) e->alerts_anomaly++;
  else if (!strcmp(a->detector, "fallback")) e->alerts_switch++;
  else e->alerts_data++;
  eddy_buf_t *b = &e->out;
  if (e->format == FMT_JSONL) {
    eddy_buf_printf(b, "{\"alert\":");
    eddy_alert_json(a, b);
    eddy_buf_printf(b, "}\n");
  } else if (e->format == FMT_TEXT) {
    eddy_buf_printf(b, "ALERT ");
    eddy_alert_text(a, b);
    eddy_buf_printf(b, "\n");
  } else {
    eddy_buf_t line;
    eddy_buf_init(&line);
    eddy_alert_text(a, &line);
    fprintf(stderr, "eddy eval: alert: %.*s\n", (int)line.len, (const char *)line.data);
    eddy_buf_free(&line);
  }
}

static void progress(eval_t *e, eddy_lines_t *l, int done) {
  double dt = eddy_now() - e->t0;
  eddy_metrics_t w;
  eddy_evaluator_windowed(e->rep->eval, &w);
  int64_t size = eddy_lines_size(l);
  char bar[32] = "";
  if (size > 0) {
    double f = (double)eddy_lines_offset(l) / (double)size;
    int fill = (int)(f * 20);
    for (int i = 0; i < 20; i++) bar[i] = i < fill ? '#' : '.';
    bar[20] = '\0';
    fprintf(stderr, "\r[%s] %3.0f%% ", bar, f * 100);
  } else {
    fprintf(stderr, "\r");
  }
  fprintf(stderr, "%llu instances, %.0f/s, windowed %s %.4f   ", (unsigned long long)e->records,
          dt > 0 ? (double)e->records / dt : 0.0,
          e->pc->pipeline.task == EDDY_CLASSIFICATION ? "accuracy" : "mae",
          e->pc->pipeline.task == EDDY_CLASSIFICATION ? w.accuracy : w.mae);
  if (done) fprintf(stderr, "\r%*s\r", 100, "");
}

static int parse_uint(const char *s, uint64_t *out) {
  int64_t v;
  if (eddy_parse_int(s, &v) || v < 0) return EDDY_EINVAL;
  *out = (uint64_t)v;
  return 0;
}

/* ---- the records: eval hands each to the one record path (engine/record/)
 * as `eddy run` does, and counts what it hands back. */

static void on_predicted(void *ctx, const eddy_path_input_t *in, const eddy_buf_t *out) {
  eval_t *e = ctx;
  (void)in;
  fwrite(out->data, 1, out->len, e->predictions);
  fputc('\n', e->predictions);
}

static void on_rejected(void *ctx, const eddy_path_input_t *in, eddy_path_stage_t stage, int err,
                        const char *msg) {
  eval_t *e = ctx;
  (void)in;
  (void)err;
  if (e->errors++ < 10)
    fprintf(stderr, "eddy eval: %s:%llu: skipped (%s): %s\n", e->input ? e->input : "stdin",
            (unsigned long long)eddy_lines_number(e->lines), eddy_path_stage_name(stage), msg);
}

static void on_learned(void *ctx, const eddy_path_input_t *in, int err) {
  eval_t *e = ctx;
  (void)in;
  if (!err) {
    e->labelled += (uint64_t)e->path.rec.in.has_y; /* an anomaly detector learns unlabelled ones too */
  } else if (e->learn_errors++ < 10) {
    fprintf(stderr, "eddy eval: %s:%llu: learner %s: %s\n", e->input ? e->input : "stdin",
            (unsigned long long)eddy_lines_number(e->lines), e->pc->model.learner, eddy_strerror(err));
  }
}

static const eddy_path_sink_t eval_sink = {
    .predicted = on_predicted,
    .rejected = on_rejected,
    .learned = on_learned,
};

static int parse_args(eval_t *e, int argc, char **argv, const char **path, const char **pipeline) {
  static const struct option longopts[] = {
      {"config", required_argument, 0, 'c'}, {"pipeline", required_argument, 0, 'p'},
      {"input", required_argument, 0, 'i'},  {"every", required_argument, 0, 'e'},
      {"window", required_argument, 0, 'w'}, {"format", required_argument, 0, 'f'},
      {"max", required_argument, 0, 'n'},    {"describe", no_argument, 0, 'D'},
      {"quiet", no_argument, 0, 'q'},        {"predictions", required_argument, 0, 'P'},
      {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
  uint64_t v;
  int o;
  optind = 1;
  while ((o = getopt_long(argc, argv, "c:p:i:e:w:f:n:P:qh", longopts, NULL)) != -1) {
    switch (o) {
    case 'c': *path = optarg; break;
    case 'p': *pipeline = optarg; break;
    case 'i': e->input = optarg; break;
    case 'P': e->predictions_path = optarg; break;
    case 'e':
      if (parse_uint(optarg, &e->every)) goto bad;
      break;
    case 'w':
      if (parse_uint(optarg, &v) || v == 0 || v > 100000000) goto bad;
      e->window = (size_t)v;
      break;
    case 'n':
      if (parse_uint(optarg, &e->max)) goto bad;
      break;
    case 'f':
      if (!strcmp(optarg, "text")) e->format = FMT_TEXT;
      else if (!strcmp(optarg, "csv")) e->format = FMT_CSV;
      else if (!strcmp(optarg, "jsonl")) e->format = FMT_JSONL;
      else goto bad;
      break;
    case 'D': e->describe = 1; break;
    case 'q': e->progress = 0; break;
    case 'h': fputs(usage, stdout); return 0;
    default: fputs(usage, stderr); return 2;
    }
  }
  if (!*path || optind != argc) {
    fputs(usage, stderr);
    return 2;
  }
  return -1;
bad:
  fprintf(stderr, "eddy eval: bad value '%s' for --%s\n%s", optarg,
          o == 'e' ? "every" : o == 'w' ? "window" : o == 'n' ? "max" : "format", usage);
  return 2;
}

/* Reads the first line: the format (the config's for a file source, else
 * by the first byte) and the field names (the CSV header, or the first
 * JSON record's keys, which is then a record too). */
static int read_header(eval_t *e, eddy_format_t *fmt, char *err, size_t size) {
  char *line;
  size_t len;
  const char *in = e->input ? e->input : "stdin";
  int first = eddy_lines_next(e->lines, &line, &len);
  if (first == EDDY_EEOF) return eddy_seterr(err, size, EDDY_EINVAL, "%s: empty input", in);
  if (first) return eddy_seterr(err, size, first, "%s: %s", in, eddy_strerror(first));
  size_t skip = strspn(line, " \t");
  *fmt = line[skip] == '{' ? EDDY_FORMAT_JSON : EDDY_FORMAT_CSV;
  if (e->pc->has_source && e->pc->source.type == EDDY_SOURCE_FILE) *fmt = e->pc->source.format;
  if (*fmt == EDDY_FORMAT_AVRO)
    return eddy_seterr(err, size, EDDY_EINVAL, "eval reads CSV or JSON lines; convert Avro first");
  if (*fmt == EDDY_FORMAT_JSON) {
    int n = eddy_json_keys(line, len, &e->names, err, size);
    if (n < 0) return n;
    e->n_names = n;
    e->first_line = line;
    e->first_len = len;
    return 0;
  }
  char **cols = calloc(len + 1, sizeof *cols);
  size_t *lens = calloc(len + 1, sizeof *lens);
  int n = cols && lens ? eddy_csv_split(line, len, cols, lens, len + 1) : EDDY_ENOMEM;
  if (n > 0 && (e->names = calloc((size_t)n, sizeof *e->names)))
    for (int i = 0; i < n; i++) e->names[i] = eddy_strndup(cols[i], lens[i]);
  free(cols);
  free(lens);
  if (n <= 0 || !e->names) return eddy_seterr(err, size, EDDY_EINVAL, "%s:1: cannot read the CSV header", in);
  e->n_names = n;
  return 0;
}

/* The path, the replica and, with aggregates, a memory store: eval keeps
 * entity state in memory whatever [state] store says (a file has no
 * checkpoints to share). */
static int setup(eval_t *e, eddy_format_t fmt, char *err, size_t size) {
  e->conf = *e->pc;
  e->conf.state.store = (char *)"memory";
  e->conf.sink.format = EDDY_FORMAT_JSON;
  int rc = eddy_path_init(&e->path, &e->conf, fmt, (const char *const *)e->names, (size_t)e->n_names,
                          e->predictions != NULL, err, size);
  if (rc) return rc;
  if (!(e->rep = eddy_replica_new(&e->conf, e->path.fields, e->window, err, size))) return EDDY_EINVAL;
  e->rep->on_alert = on_alert;
  e->rep->alert_ctx = e;
  if (e->path.aggs->n) {
    if (!(e->store = eddy_store_new(&e->conf, e->path.aggs, NULL, err, size))) return EDDY_EINVAL;
    if (!(e->batch = eddy_state_batch_new(e->path.aggs, -1)))
      return eddy_seterr(err, size, EDDY_ENOMEM, "out of memory");
  }
  return 0;
}

static void after_record(eval_t *e, double *next_progress) {
  if (e->every && e->records % e->every == 0) {
    report(e, 0);
    flush_out(e);
  } else if (e->out.len > 1 << 16) {
    flush_out(e);
  }
  if (e->progress && (e->records & 4095) == 0 && eddy_now() > *next_progress) {
    progress(e, e->lines, 0);
    *next_progress = eddy_now() + 0.25;
  }
}

/* Every record through the one record path, test then train. */
static int run_records(eval_t *e, char *err, size_t size) {
  eddy_path_state_t st = {.batch = e->batch, .store = e->store, .pre = EDDY_PATH_ENTITY_NOW};
  double now = eddy_wallclock(), next_progress = eddy_now() + 0.25;
  char *line = e->first_line;
  size_t len = e->first_len;
  int rc = line ? 0 : eddy_lines_next(e->lines, &line, &len);
  uint64_t index = 0;
  while (rc == 0 && (!e->max || e->records < e->max)) {
    if (len > 0 && line[strspn(line, " \t\r")] != '\0') { /* blank lines are not records */
      eddy_path_input_t in = {.value = line, .len = len, .offset = (int64_t)index++, .time = now,
                              .emit = e->predictions != NULL, .learn = 1};
      if (eddy_path_handle(&e->path, e->rep, &st, &in, &eval_sink, e) == 0) {
        e->records++;
        e->served_fallback += (uint64_t)e->rep->served;
        after_record(e, &next_progress);
      }
    }
    rc = eddy_lines_next(e->lines, &line, &len);
  }
  if (rc != 0 && rc != EDDY_EEOF)
    return eddy_seterr(err, size, rc, "%s: read error", e->input ? e->input : "stdin");
  if (e->progress) progress(e, e->lines, 1);
  if (e->errors > 10) fprintf(stderr, "eddy eval: %llu records skipped in all (first 10 shown)\n",
                              (unsigned long long)e->errors);
  if (e->learn_errors > 10) fprintf(stderr, "eddy eval: %llu learner errors in all (first 10 shown)\n",
                                    (unsigned long long)e->learn_errors);
  if (e->records == 0)
    return eddy_seterr(err, size, EDDY_EINVAL, "%s: no instance was evaluated (%llu records skipped)",
                       e->input ? e->input : "stdin", (unsigned long long)e->errors);
  return 0;
}

static void eval_free(eval_t *e) {
  eddy_state_batch_free(e->batch);
  eddy_store_free(e->store);
  eddy_replica_free(e->rep);
  eddy_path_free(&e->path);
  for (int i = 0; i < e->n_names; i++) free(e->names[i]);
  free(e->names);
  eddy_lines_close(e->lines);
  if (e->predictions && e->predictions != stdout) fclose(e->predictions);
  eddy_buf_free(&e->out);
}

int eddy_cmd_eval(int argc, char **argv) {
  eval_t e = {.every = 10000, .window = 1000, .progress = 1};
  const char *path = NULL, *pipeline = NULL;
  int rc = parse_args(&e, argc, argv, &path, &pipeline);
  if (rc >= 0) return rc;
  char err[2048];
  eddy_config_t *cfg = eddy_config_load(path, err, sizeof err);
  if (!cfg) {
    fprintf(stderr, "eddy: %s\n", err);
    return 1;
  }
  if (!(e.pc = eddy_config_pipeline(cfg, pipeline))) {
    fprintf(stderr, "eddy: %s has no pipeline named '%s'\n", path, pipeline);
    eddy_config_free(cfg);
    return 1;
  }
  if (!e.input && e.pc->has_source && e.pc->source.type == EDDY_SOURCE_FILE) e.input = e.pc->source.path;
  e.progress = e.progress && isatty(2);
  eddy_buf_init(&e.out);
  rc = 1;
  eddy_format_t fmt = EDDY_FORMAT_CSV;
  if (e.predictions_path &&
      !(e.predictions = strcmp(e.predictions_path, "-") ? fopen(e.predictions_path, "w") : stdout)) {
    snprintf(err, sizeof err, "--predictions %s: %s", e.predictions_path, strerror(errno));
  } else if ((e.lines = eddy_lines_open(e.input, err, sizeof err)) && !read_header(&e, &fmt, err, sizeof err) &&
             !setup(&e, fmt, err, sizeof err)) {
    e.t0 = eddy_now();
    if (!run_records(&e, err, sizeof err)) {
      report(&e, 1);
      flush_out(&e);
      if (e.describe) eddy_learner_describe(e.rep->learner, stdout);
      if (e.describe) eddy_replica_describe_fallback(e.rep, stdout);
      rc = 0;
    }
  }
  if (rc) {
    flush_out(&e);
    fprintf(stderr, "eddy: %s\n", err);
  }
  eval_free(&e);
  eddy_config_free(cfg);
  return rc;
}
