/* cmd_eval.c: `eddy eval`: prequential (test-then-train) evaluation of a
 * pipeline's model on a CSV or JSON-lines file, as MOA's
 * EvaluatePrequential and River's progressive_val_score do. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connectors/connectors.h"
#include "eddy.h"
#include "internal.h"
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
    "      --describe         print the model (e.g. a tree's splits) at the end\n"
    "  -q, --quiet            no progress bar\n";

typedef struct eval {
  const eddy_pipeline_conf_t *pc;
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

static void report(eval_t *e, int final) {
  const char *names[8];
  double cum[8], win[8];
  size_t n = figures(e, names, cum, win);
  eddy_buf_t *b = &e->out;
  int row = !(final && e->last_row == e->records && e->records);
  e->last_row = e->records;
  if (e->format == FMT_JSONL) {
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
      eddy_buf_printf(b, ",\"final\":true,\"labelled\":%llu,\"errors\":%llu,\"seconds\":%.6f,"
                      "\"instances_per_second\":%.0f,\"memory_bytes\":%zu,\"alerts\":{\"warning\":%llu,"
                      "\"drift\":%llu,\"data_drift\":%llu,\"anomaly\":%llu}",
                      (unsigned long long)e->labelled, (unsigned long long)e->errors, dt,
                      dt > 0 ? (double)e->records / dt : 0.0,
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
    return;
  }
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
  if (!row) {
    /* the last row already stands for the end */
  } else if (e->format == FMT_CSV) {
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
  if (final && e->format == FMT_TEXT) {
    double dt = eddy_now() - e->t0;
    const eddy_schema_t *s = e->rep->schema;
    eddy_buf_printf(b, "\npipeline %s, learner %s, %zu attributes\n", e->pc->pipeline.name,
                    e->rep->learner->type->name, s->n_attrs);
    eddy_buf_printf(b, "instances %llu (labelled %llu, skipped %llu with errors)\n",
                    (unsigned long long)e->records, (unsigned long long)e->labelled,
                    (unsigned long long)e->errors);
    for (size_t i = 0; i < n; i++) {
      eddy_buf_printf(b, "%-10s %.6f", names[i], cum[i]);
      eddy_buf_printf(b, "   (last %zu: %.6f)\n", e->window, win[i]);
    }
    if (s->task == EDDY_CLASSIFICATION) {
      size_t k, stride;
      const uint64_t *m = eddy_evaluator_confusion(e->rep->eval, &k, &stride);
      k = eddy_schema_n_classes(s);
      if (k <= 20) {
        eddy_buf_printf(b, "confusion matrix (rows: true class, columns: predicted)\n%12s", "");
        for (size_t j = 0; j < k; j++) eddy_buf_printf(b, " %10.10s", eddy_dict_name(s->target.dict, (uint32_t)j));
        eddy_buf_printf(b, "\n");
        for (size_t i = 0; i < k; i++) {
          eddy_buf_printf(b, "%12.12s", eddy_dict_name(s->target.dict, (uint32_t)i));
          for (size_t j = 0; j < k; j++) eddy_buf_printf(b, " %10llu", (unsigned long long)m[i * stride + j]);
          eddy_buf_printf(b, "\n");
        }
      } else {
        eddy_buf_printf(b, "confusion matrix: %zu classes (see --format jsonl)\n", k);
      }
    }
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

int eddy_cmd_eval(int argc, char **argv) {
  static const struct option longopts[] = {
      {"config", required_argument, 0, 'c'}, {"pipeline", required_argument, 0, 'p'},
      {"input", required_argument, 0, 'i'},  {"every", required_argument, 0, 'e'},
      {"window", required_argument, 0, 'w'}, {"format", required_argument, 0, 'f'},
      {"max", required_argument, 0, 'n'},    {"describe", no_argument, 0, 'D'},
      {"quiet", no_argument, 0, 'q'},        {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  eval_t e = {.every = 10000, .window = 1000, .progress = 1};
  const char *path = NULL, *pipeline = NULL;
  uint64_t v;
  int o;
  optind = 1;
  while ((o = getopt_long(argc, argv, "c:p:i:e:w:f:n:qh", longopts, NULL)) != -1) {
    switch (o) {
    case 'c': path = optarg; break;
    case 'p': pipeline = optarg; break;
    case 'i': e.input = optarg; break;
    case 'e':
      if (parse_uint(optarg, &e.every)) goto bad;
      break;
    case 'w':
      if (parse_uint(optarg, &v) || v == 0 || v > 100000000) goto bad;
      e.window = (size_t)v;
      break;
    case 'n':
      if (parse_uint(optarg, &e.max)) goto bad;
      break;
    case 'f':
      if (!strcmp(optarg, "text")) e.format = FMT_TEXT;
      else if (!strcmp(optarg, "csv")) e.format = FMT_CSV;
      else if (!strcmp(optarg, "jsonl")) e.format = FMT_JSONL;
      else goto bad;
      break;
    case 'D': e.describe = 1; break;
    case 'q': e.progress = 0; break;
    case 'h': fputs(usage, stdout); return 0;
    default: fputs(usage, stderr); return 2;
    }
  }
  if (!path || optind != argc) {
    fputs(usage, stderr);
    return 2;
  }
  char err[2048];
  eddy_config_t *cfg = eddy_config_load(path, err, sizeof err);
  if (!cfg) {
    fprintf(stderr, "eddy: %s\n", err);
    return 1;
  }
  e.pc = eddy_config_pipeline(cfg, pipeline);
  if (!e.pc) {
    fprintf(stderr, "eddy: %s has no pipeline named '%s'\n", path, pipeline);
    eddy_config_free(cfg);
    return 1;
  }
  if (!e.input && e.pc->has_source && e.pc->source.type == EDDY_SOURCE_FILE) e.input = e.pc->source.path;
  e.progress = e.progress && isatty(2);
  eddy_buf_init(&e.out);

  int rc = 1;
  eddy_fields_t *fields = NULL;
  eddy_decoder_t *dec = NULL;
  eddy_record_t rec = {0};
  char **names = NULL;
  int n_names = 0;
  char *line;
  size_t len;
  eddy_lines_t *lines = eddy_lines_open(e.input, err, sizeof err);
  if (!lines) goto fail;
  int first = eddy_lines_next(lines, &line, &len);
  if (first == EDDY_EEOF) {
    snprintf(err, sizeof err, "%s: empty input", e.input ? e.input : "stdin");
    goto fail;
  }
  if (first) {
    snprintf(err, sizeof err, "%s: %s", e.input ? e.input : "stdin", eddy_strerror(first));
    goto fail;
  }
  /* The format: the config's for a file source, else by the first byte. */
  size_t skip = strspn(line, " \t");
  eddy_format_t fmt = line[skip] == '{' ? EDDY_FORMAT_JSON : EDDY_FORMAT_CSV;
  if (e.pc->has_source && e.pc->source.type == EDDY_SOURCE_FILE) fmt = e.pc->source.format;
  if (fmt == EDDY_FORMAT_AVRO) {
    snprintf(err, sizeof err, "eval reads CSV or JSON lines; convert Avro first");
    goto fail;
  }
  int header_is_data = fmt == EDDY_FORMAT_JSON;
  if (fmt == EDDY_FORMAT_JSON) {
    n_names = eddy_json_keys(line, len, &names, err, sizeof err);
    if (n_names < 0) goto fail;
  } else {
    char **cols = calloc(len + 1, sizeof *cols);
    size_t *lens = calloc(len + 1, sizeof *lens);
    int n = cols && lens ? eddy_csv_split(line, len, cols, lens, len + 1) : EDDY_ENOMEM;
    if (n > 0 && (names = calloc((size_t)n, sizeof *names)))
      for (int i = 0; i < n; i++) names[i] = eddy_strndup(cols[i], lens[i]);
    free(cols);
    free(lens);
    if (n <= 0 || !names) {
      snprintf(err, sizeof err, "%s:1: cannot read the CSV header", e.input ? e.input : "stdin");
      goto fail;
    }
    n_names = n;
  }
  fields = eddy_fields_new(e.pc, (const char *const *)names, (size_t)n_names, NULL, 0, err, sizeof err);
  if (!fields) goto fail;
  dec = eddy_decoder_new(fmt, fields, e.pc, (const char *const *)names, (size_t)n_names, err, sizeof err);
  if (!dec) goto fail;
  e.rep = eddy_replica_new(e.pc, fields, e.window, err, sizeof err);
  if (!e.rep) goto fail;
  e.rep->on_alert = on_alert;
  e.rep->alert_ctx = &e;
  if (eddy_record_init(&rec, fields)) {
    snprintf(err, sizeof err, "out of memory");
    goto fail;
  }

  e.t0 = eddy_now();
  double next_progress = e.t0 + 0.25;
  int st = header_is_data ? 0 : eddy_lines_next(lines, &line, &len);
  while (st == 0 && (!e.max || e.records < e.max)) {
    if (len == 0 || line[strspn(line, " \t\r")] == '\0') {
      st = eddy_lines_next(lines, &line, &len);
      continue; /* blank lines are not records */
    }
    char msg[512];
    int derr = eddy_decoder_decode(dec, e.rep->schema, line, len, &rec, msg, sizeof msg);
    if (derr) {
      if (e.errors++ < 10)
        fprintf(stderr, "eddy eval: %s:%llu: skipped: %s\n", e.input ? e.input : "stdin",
                (unsigned long long)eddy_lines_number(lines), msg);
    } else {
      eddy_replica_predict(e.rep, &rec.in);
      e.records++;
      e.served_fallback += (uint64_t)e.rep->served;
      if (eddy_replica_learns(e.rep, &rec.in)) {
        e.labelled += rec.in.has_y;
        int lerr = eddy_replica_learn(e.rep, &rec.in);
        if (lerr) {
          snprintf(err, sizeof err, "learner %s: %s", e.pc->model.learner, eddy_strerror(lerr));
          goto fail;
        }
      }
      if (e.every && e.records % e.every == 0) {
        report(&e, 0);
        flush_out(&e);
      } else if (e.out.len > 1 << 16) {
        flush_out(&e);
      }
      if (e.progress && (e.records & 4095) == 0 && eddy_now() > next_progress) {
        progress(&e, lines, 0);
        next_progress = eddy_now() + 0.25;
      }
    }
    st = eddy_lines_next(lines, &line, &len);
  }
  if (st != 0 && st != EDDY_EEOF) {
    snprintf(err, sizeof err, "%s: read error", e.input ? e.input : "stdin");
    goto fail;
  }
  if (e.progress) progress(&e, lines, 1);
  if (e.errors > 10) fprintf(stderr, "eddy eval: %llu records skipped in all\n", (unsigned long long)e.errors);
  report(&e, 1);
  flush_out(&e);
  if (e.describe) eddy_learner_describe(e.rep->learner, stdout);
  if (e.describe && e.rep->fallback) eddy__fallback_describe(e.rep, e.rep->fallback, stdout);
  rc = 0;
fail:
  if (rc) {
    flush_out(&e);
    fprintf(stderr, "eddy: %s\n", err);
  }
  eddy_record_free(&rec);
  eddy_replica_free(e.rep);
  eddy_decoder_free(dec);
  eddy_fields_free(fields);
  for (int i = 0; i < n_names; i++) free(names[i]);
  free(names);
  eddy_lines_close(lines);
  eddy_buf_free(&e.out);
  eddy_config_free(cfg);
  return rc;
bad:
  fprintf(stderr, "eddy eval: bad value '%s' for --%s\n%s", optarg,
          o == 'e' ? "every" : o == 'w' ? "window" : o == 'n' ? "max" : "format", usage);
  return 2;
}
