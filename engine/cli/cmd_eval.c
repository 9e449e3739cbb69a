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
    "  -d, --delay N|DURATION each label revealed N records after its record, or DURATION\n"
    "                         (500ms, 30s, 15m, 2h, 7d) after its [features] timestamp,\n"
    "                         as River's progressive_val_score(delay=...)\n"
    "      --save-model FILE  the model's checkpoint at the end (for eddy predict)\n"
    "  -P, --predictions FILE one JSON line per record, the predictions topic's fields\n"
    "                         (with the record's index for topic/partition/offset); '-': stdout\n"
    "      --describe         print the model (e.g. a tree's splits) at the end, and the features\n"
    "                         ranked by importance (trees and forests)\n"
    "  -q, --quiet            no progress bar\n";

typedef struct eval {
  const eddy_pipeline_conf_t *pc;
  eddy_pipeline_conf_t conf; /* pc with a memory store and JSON predictions */
  eddy_path_t path;          /* the one record path */
  eddy_store_t *store;       /* entity aggregates (memory), or NULL */
  eddy_state_batch_t *batch;
  eddy__records_file_t file; /* the input */
  const char *predictions_path;
  const char *save_model;    /* --save-model: the replica's checkpoint at the end */
  FILE *predictions;         /* --predictions: one JSON line per record */
  uint64_t learn_errors;
  int64_t delay_records;     /* --delay N: labels revealed N records later (-1: none) */
  double delay_ms;           /* --delay 15m: against the record time (NAN: none) */
  eddy_delay_t *pending;     /* labelled instances waiting for their label */
  uint64_t revealed, deferred;
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
  if (e->out.len) fwrite(e->out.data, 1, e->out.len, stdout); /* data is NULL before the first write */
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
    eddy_buf_printf(b, ",\"final\":true,\"labelled\":%llu,\"errors\":%llu,\"learn_errors\":%llu,\"revealed_later\":%llu,"
                    "\"seconds\":%.6f,\"instances_per_second\":%.0f,\"memory_bytes\":%zu,"
                    "\"alerts\":{\"warning\":%llu,\"drift\":%llu,\"data_drift\":%llu,\"anomaly\":%llu}",
                    (unsigned long long)e->labelled, (unsigned long long)e->errors,
                    (unsigned long long)e->learn_errors, (unsigned long long)e->revealed, dt, dt > 0 ? (double)e->records / dt : 0.0,
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
  if (e->pending)
    eddy_buf_printf(b, "labels revealed later %llu (%llu by the end of the stream)\n",
                    (unsigned long long)e->revealed, (unsigned long long)e->deferred);
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
            (unsigned long long)eddy_lines_number(e->file.lines), eddy_path_stage_name(stage), msg);
}

static void on_learned(void *ctx, const eddy_path_input_t *in, int err) {
  eval_t *e = ctx;
  (void)in;
  if (!err) {
    e->labelled += (uint64_t)e->path.rec.in.has_y; /* an anomaly detector learns unlabelled ones too */
  } else if (e->learn_errors++ < 10) {
    fprintf(stderr, "eddy eval: %s:%llu: learner %s: %s\n", e->input ? e->input : "stdin",
            (unsigned long long)eddy_lines_number(e->file.lines), e->pc->model.learner, eddy_strerror(err));
  }
}

/* Learns every waiting instance due by now (all of them when now is NAN),
 * evaluating the prediction made when it was seen. */
static void reveal(eval_t *e, double now) {
  const double *pred;
  int k;
  const eddy_instance_t *x;
  while ((x = eddy_delay_due(e->pending, now, &pred, &k))) {
    e->revealed++;
    on_learned(e, NULL, eddy_replica_learn_with(e->rep, x, pred, k));
    eddy_delay_pop(e->pending);
  }
}

static void on_decoded(void *ctx, const eddy_path_input_t *in, double t_ms) {
  eval_t *e = ctx;
  if (e->pending) reveal(e, e->delay_records >= 0 ? (double)in->offset : t_ms);
}

static void on_deferred(void *ctx, const eddy_path_input_t *in, const eddy_instance_t *x, const double *pred,
                        int k, double t_ms) {
  eval_t *e = ctx;
  double due = e->delay_records >= 0 ? (double)in->offset + (double)e->delay_records : t_ms + e->delay_ms;
  int err = eddy_delay_push(e->pending, x, pred, k, due);
  if (err) on_learned(e, in, err);
  else e->deferred++;
}

static const eddy_path_sink_t eval_sink = {
    .predicted = on_predicted,
    .rejected = on_rejected,
    .learned = on_learned,
    .decoded = on_decoded,
    .deferred = on_deferred,
};

/* --delay N (records) or a duration: 500ms, 30s, 15m, 2h, 7d. */
static int parse_delay(eval_t *e, const char *s) {
  char *end;
  double v = strtod(s, &end);
  if (end == s || !(v >= 0) || !isfinite(v)) return EDDY_EINVAL;
  if (!*end) {
    if (v != floor(v)) return EDDY_EINVAL;
    e->delay_records = (int64_t)v;
    return 0;
  }
  static const struct { const char *unit; double ms; } units[] = {
      {"ms", 1}, {"s", 1e3}, {"m", 60e3}, {"min", 60e3}, {"h", 3600e3}, {"d", 86400e3}};
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
    if (!strcmp(end, units[i].unit)) {
      e->delay_ms = v * units[i].ms;
      return 0;
    }
  return EDDY_EINVAL;
}

static int parse_args(eval_t *e, int argc, char **argv, const char **path, const char **pipeline) {
  static const struct option longopts[] = {
      {"config", required_argument, 0, 'c'}, {"pipeline", required_argument, 0, 'p'},
      {"input", required_argument, 0, 'i'},  {"every", required_argument, 0, 'e'},
      {"window", required_argument, 0, 'w'}, {"format", required_argument, 0, 'f'},
      {"max", required_argument, 0, 'n'},    {"describe", no_argument, 0, 'D'},
      {"quiet", no_argument, 0, 'q'},        {"predictions", required_argument, 0, 'P'},
      {"delay", required_argument, 0, 'd'},  {"save-model", required_argument, 0, 'S'},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  uint64_t v;
  int o;
  optind = 1;
  while ((o = getopt_long(argc, argv, "c:p:i:e:w:f:n:P:d:qh", longopts, NULL)) != -1) {
    switch (o) {
    case 'c': *path = optarg; break;
    case 'p': *pipeline = optarg; break;
    case 'i': e->input = optarg; break;
    case 'P': e->predictions_path = optarg; break;
    case 'S': e->save_model = optarg; break;
    case 'd':
      if (parse_delay(e, optarg)) goto bad;
      break;
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
          o == 'e' ? "every" : o == 'w' ? "window" : o == 'n' ? "max" : o == 'd' ? "delay" : "format", usage);
  return 2;
}

/* The path, the replica and, with aggregates, a memory store: eval keeps
 * entity state in memory whatever [state] store says (a file has no
 * checkpoints to share). */
static int setup(eval_t *e, char *err, size_t size) {
  e->conf = *e->pc;
  e->conf.state.store = (char *)"memory";
  e->conf.sink.format = EDDY_FORMAT_JSON;
  int rc = eddy_path_init(&e->path, &e->conf, e->file.fmt, (const char *const *)e->file.names,
                          (size_t)e->file.n_names, e->predictions != NULL, err, size);
  if (rc) return rc;
  if (!(e->rep = eddy_replica_new(&e->conf, e->path.fields, e->window, err, size))) return EDDY_EINVAL;
  e->rep->on_alert = on_alert;
  e->rep->alert_ctx = e;
  if (e->delay_records >= 0 || !isnan(e->delay_ms)) {
    if (!isnan(e->delay_ms) && !(e->conf.features.timestamp && *e->conf.features.timestamp))
      return eddy_seterr(err, size, EDDY_EINVAL,
                         "--delay with a duration reveals labels by the record time: set [features] timestamp");
    if (!(e->pending = eddy_delay_new(e->rep->schema->n_attrs)))
      return eddy_seterr(err, size, EDDY_ENOMEM, "out of memory");
  }
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
    progress(e, e->file.lines, 0);
    *next_progress = eddy_now() + 0.25;
  }
}

/* setup, its error saying which file's fields it is about. */
static int setup_explained(eval_t *e, char *err, size_t size) {
  int rc = setup(e, err, size);
  if (rc) eddy__records_file_explain(&e->file, err, size);
  return rc;
}

/* Every record through the one record path, test then train. */
static int run_records(eval_t *e, char *err, size_t size) {
  eddy_path_state_t st = {.batch = e->batch, .store = e->store, .pre = EDDY_PATH_ENTITY_NOW};
  double now = eddy_wallclock(), next_progress = eddy_now() + 0.25;
  char *line;
  size_t len;
  int rc = eddy__records_file_next(&e->file, &line, &len);
  uint64_t index = 0;
  while (rc == 0 && (!e->max || e->records < e->max)) {
    if (len > 0 && line[strspn(line, " \t\r")] != '\0') { /* blank lines are not records */
      eddy_path_input_t in = {.value = line, .len = len, .offset = (int64_t)index++, .time = now,
                              .emit = e->predictions != NULL, .learn = 1, .defer = e->pending != NULL};
      if (eddy_path_handle(&e->path, e->rep, &st, &in, &eval_sink, e) == 0) {
        e->records++;
        e->served_fallback += (uint64_t)e->rep->served;
        after_record(e, &next_progress);
      }
    }
    rc = eddy__records_file_next(&e->file, &line, &len);
  }
  if (rc != 0 && rc != EDDY_EEOF)
    return eddy_seterr(err, size, rc, "%s: read error", e->input ? e->input : "stdin");
  if (e->pending) reveal(e, NAN); /* the labels still waiting at the end, as River does */
  if (e->progress) progress(e, e->file.lines, 1);
  if (e->errors > 10) fprintf(stderr, "eddy eval: %llu records skipped in all (first 10 shown)\n",
                              (unsigned long long)e->errors);
  if (e->learn_errors > 10) fprintf(stderr, "eddy eval: %llu learner errors in all (first 10 shown)\n",
                                    (unsigned long long)e->learn_errors);
  if (e->records == 0)
    return eddy_seterr(err, size, EDDY_EINVAL, "%s: no instance was evaluated (%llu records skipped)",
                       e->input ? e->input : "stdin", (unsigned long long)e->errors);
  return 0;
}

/* The replica's checkpoint, as `eddy run` keeps it in Redis. */
static int save_model(eval_t *e, char *err, size_t size) {
  eddy_buf_t b;
  eddy_buf_init(&b);
  int rc = eddy_replica_save(e->rep, &b);
  FILE *f = rc ? NULL : fopen(e->save_model, "wb");
  if (!rc && !f) rc = eddy_seterr(err, size, EDDY_EIO, "--save-model %s: %s", e->save_model, strerror(errno));
  else if (rc) eddy_seterr(err, size, rc, "the model cannot be saved: %s", eddy_strerror(rc));
  if (f) {
    if (fwrite(b.data, 1, b.len, f) != b.len || fclose(f))
      rc = eddy_seterr(err, size, EDDY_EIO, "--save-model %s: %s", e->save_model, strerror(errno));
    else fprintf(stderr, "eddy eval: model saved to %s (%zu bytes)\n", e->save_model, b.len);
  }
  eddy_buf_free(&b);
  return rc;
}

static void eval_free(eval_t *e) {
  eddy_delay_free(e->pending);
  eddy_state_batch_free(e->batch);
  eddy_store_free(e->store);
  eddy_replica_free(e->rep);
  eddy_path_free(&e->path);
  eddy__records_file_close(&e->file);
  if (e->predictions && e->predictions != stdout) fclose(e->predictions);
  eddy_buf_free(&e->out);
}

int eddy_cmd_eval(int argc, char **argv) {
  eval_t e = {.every = 10000, .window = 1000, .progress = 1, .delay_records = -1, .delay_ms = NAN};
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
  if (e.predictions_path &&
      !(e.predictions = strcmp(e.predictions_path, "-") ? fopen(e.predictions_path, "w") : stdout)) {
    snprintf(err, sizeof err, "--predictions %s: %s", e.predictions_path, strerror(errno));
  } else if (!eddy__records_file_open(&e.file, e.input, e.pc, err, sizeof err) &&
             !eddy__records_file_infer(&e.file, &cfg->pipelines[e.pc - cfg->pipelines], err, sizeof err) &&
             !setup_explained(&e, err, sizeof err)) {
    e.t0 = eddy_now();
    if (!run_records(&e, err, sizeof err)) {
      report(&e, 1);
      flush_out(&e);
      if (e.describe) eddy_learner_describe(e.rep->learner, stdout);
      if (e.describe) eddy_learner_describe_importance(e.rep->learner, stdout);
      if (e.describe) eddy_replica_describe_fallback(e.rep, stdout);
      rc = e.save_model ? save_model(&e, err, sizeof err) : 0;
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
