/* cmd_predict.c: `eddy predict`: offline batch scoring of a file of records
 * with a saved model (`eddy eval --save-model`, or a checkpoint's `model`
 * field from Redis), through the one record path without learning. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cli/cli.h"
#include "engine/record/record.h"

static const char usage[] =
    "usage: eddy predict -c FILE.ini -m CHECKPOINT [--input PATH|-] [options]\n"
    "Scores each record with the saved model; nothing is learned.\n"
    "  -c, --config FILE      the pipeline configuration the model was made with\n"
    "  -p, --pipeline NAME    which pipeline of the file (default: the first)\n"
    "  -m, --model FILE       a model checkpoint (eddy eval --save-model, or a Redis\n"
    "                         checkpoint's `model` field written to a file)\n"
    "  -i, --input PATH       CSV with a header, or JSON lines; '-' or none: stdin\n"
    "  -o, --output FILE      where the predictions go (default: stdout)\n"
    "  -f, --format FMT       jsonl (default: the predictions topic's fields, with the\n"
    "                         record's index) or csv (index, prediction, one column per class)\n";

typedef struct predict {
  FILE *out;
  eddy_store_t *store; /* entity aggregates (memory), or NULL */
  eddy_state_batch_t *batch;
  int csv;
  int header_done;
  eddy_replica_t *rep;
  const char *input;
  eddy__records_file_t file;
  uint64_t records, skipped;
} predict_t;

static void on_predicted(void *ctx, const eddy_path_input_t *in, const eddy_buf_t *out) {
  predict_t *p = ctx;
  if (!p->csv) {
    fwrite(out->data, 1, out->len, p->out);
    fputc('\n', p->out);
    return;
  }
  const eddy_schema_t *s = p->rep->schema;
  size_t k = s->task == EDDY_CLASSIFICATION ? eddy_schema_n_classes(s) : 0;
  if (!p->header_done) {
    p->header_done = 1;
    fputs("index,prediction", p->out);
    for (size_t c = 0; c < k; c++) fprintf(p->out, ",p_%s", eddy_dict_name(s->target.dict, (uint32_t)c));
    fputc('\n', p->out);
  }
  char num[32];
  double v = eddy_replica_predicted(p->rep);
  fprintf(p->out, "%lld,", (long long)in->offset);
  if (s->task == EDDY_REGRESSION) {
    eddy_fmt_double(num, sizeof num, v);
    fputs(num, p->out);
  } else if (p->rep->pred_k > 0) {
    fputs(eddy_dict_name(s->target.dict, (uint32_t)v), p->out);
  }
  for (size_t c = 0; c < k; c++) {
    eddy_fmt_double(num, sizeof num, (int)c < p->rep->pred_k ? p->rep->pred[c] : 0.0);
    fprintf(p->out, ",%s", num);
  }
  fputc('\n', p->out);
}

static void on_rejected(void *ctx, const eddy_path_input_t *in, eddy_path_stage_t stage, int err,
                        const char *msg) {
  predict_t *p = ctx;
  (void)in;
  (void)err;
  if (p->skipped++ < 10)
    fprintf(stderr, "eddy predict: %s:%llu: skipped (%s): %s\n", p->input ? p->input : "stdin",
            (unsigned long long)eddy_lines_number(p->file.lines), eddy_path_stage_name(stage), msg);
}

static const eddy_path_sink_t predict_sink = {.predicted = on_predicted, .rejected = on_rejected};

/* Reads the checkpoint file into the replica (refused unless it verifies
 * and fits the config). */
/* Nominal attributes inferred as eval infers them (a model trained by
 * eval on such a file has them nominal; a model whose attributes differ is
 * refused when loaded). Into the config's pipeline, which owns the list. */
static int infer_nominal(predict_t *p, eddy_config_t *cfg, const char *pipeline, eddy_pipeline_conf_t *conf,
                         char *err, size_t size) {
  eddy_pipeline_conf_t *pc = &cfg->pipelines[eddy_config_pipeline(cfg, pipeline) - cfg->pipelines];
  int rc = eddy__records_file_infer(&p->file, pc, err, size);
  conf->features.nominal = pc->features.nominal;
  return rc;
}

static int load_model(eddy_replica_t *rep, const char *path, char *err, size_t size) {
  eddy_buf_t b;
  eddy_buf_init(&b);
  int rc = eddy_buf_read_file(&b, path);
  if (rc) {
    eddy_buf_free(&b);
    return eddy_seterr(err, size, rc, "%s: %s", path, rc == EDDY_EIO ? strerror(errno) : eddy_strerror(rc));
  }
  char why[512];
  rc = eddy_replica_load(rep, b.data, b.len, why, sizeof why);
  eddy_buf_free(&b);
  if (rc) return eddy_seterr(err, size, rc, "%s: refused: %s", path, why);
  return 0;
}

static int score(predict_t *p, eddy_path_t *path, char *err, size_t size) {
  char *line;
  size_t len;
  uint64_t index = 0;
  double now = eddy_wallclock();
  eddy_path_state_t st = {.batch = p->batch, .store = p->store, .pre = EDDY_PATH_ENTITY_NOW};
  int rc;
  while ((rc = eddy__records_file_next(&p->file, &line, &len)) == 0) {
    if (!len || line[strspn(line, " \t\r")] == '\0') continue; /* blank lines are not records */
    eddy_path_input_t in = {.value = line, .len = len, .offset = (int64_t)index++, .time = now, .emit = 1,
                            .learn = 1, .defer = 1}; /* the entity state moves on; labels are not learned */
    if (eddy_path_handle(path, p->rep, &st, &in, &predict_sink, p) == 0) p->records++;
  }
  if (rc != EDDY_EEOF) return eddy_seterr(err, size, rc, "%s: read error", p->input ? p->input : "stdin");
  if (p->skipped > 10)
    fprintf(stderr, "eddy predict: %llu records skipped in all (first 10 shown)\n", (unsigned long long)p->skipped);
  fprintf(stderr, "eddy predict: %llu records scored, %llu skipped (model version %llu)\n",
          (unsigned long long)p->records, (unsigned long long)p->skipped, (unsigned long long)p->rep->version);
  return 0;
}

int eddy_cmd_predict(int argc, char **argv) {
  static const struct option longopts[] = {
      {"config", required_argument, 0, 'c'}, {"pipeline", required_argument, 0, 'p'},
      {"model", required_argument, 0, 'm'},  {"input", required_argument, 0, 'i'},
      {"output", required_argument, 0, 'o'}, {"format", required_argument, 0, 'f'},
      {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
  predict_t p = {.out = stdout};
  const char *cpath = NULL, *pipeline = NULL, *model = NULL, *output = NULL;
  int o;
  optind = 1;
  while ((o = getopt_long(argc, argv, "c:p:m:i:o:f:h", longopts, NULL)) != -1) {
    switch (o) {
    case 'c': cpath = optarg; break;
    case 'p': pipeline = optarg; break;
    case 'm': model = optarg; break;
    case 'i': p.input = optarg; break;
    case 'o': output = optarg; break;
    case 'f':
      if (!strcmp(optarg, "csv")) p.csv = 1;
      else if (strcmp(optarg, "jsonl")) {
        fprintf(stderr, "eddy predict: bad value '%s' for --format (jsonl or csv)\n", optarg);
        return 2;
      }
      break;
    case 'h': fputs(usage, stdout); return 0;
    default: fputs(usage, stderr); return 2;
    }
  }
  if (!cpath || !model || optind != argc) {
    fputs(usage, stderr);
    return 2;
  }
  eddy_config_t *cfg = eddy__cmd_config("predict", cpath, pipeline);
  if (!cfg) return 1;
  eddy_pipeline_conf_t conf = *eddy_config_pipeline(cfg, pipeline);
  conf.state.store = (char *)"memory"; /* aggregates over this file's records, as eval keeps them */
  conf.sink.format = EDDY_FORMAT_JSON;
  char err[2048];
  int rc = 1;
  eddy_path_t path = {0};
  if (output && !(p.out = fopen(output, "w"))) {
    snprintf(err, sizeof err, "--output %s: %s", output, strerror(errno));
  } else if (!eddy__records_file_open(&p.file, p.input, &conf, err, sizeof err) &&
             !infer_nominal(&p, cfg, pipeline, &conf, err, sizeof err) &&
             !eddy_path_init(&path, &conf, p.file.fmt, (const char *const *)p.file.names, (size_t)p.file.n_names,
                             1, err, sizeof err) &&
             (p.rep = eddy_replica_new(&conf, path.fields, 1000, err, sizeof err)) &&
             !load_model(p.rep, model, err, sizeof err) &&
             (!path.aggs->n || ((p.store = eddy_store_new(&conf, path.aggs, NULL, err, sizeof err)) &&
                                (p.batch = eddy_state_batch_new(path.aggs, -1)))) &&
             !score(&p, &path, err, sizeof err)) {
    rc = 0;
  }
  if (rc) fprintf(stderr, "eddy: %s\n", err);
  eddy_state_batch_free(p.batch);
  eddy_store_free(p.store);
  eddy_replica_free(p.rep);
  eddy_path_free(&path);
  eddy__records_file_close(&p.file);
  if (p.out && p.out != stdout) fclose(p.out);
  eddy_config_free(cfg);
  return rc;
}
