/* cmd_models.c: `eddy models`: the model checkpoints that the pipelines of
 * a config keep in Redis, one per partition: learner, model version, next
 * offset, size, SHA-256 of the model bytes and time, as a table or JSON
 * lines. A checkpoint that does not verify is reported with its key. */
#include <errno.h>
#include <getopt.h>
#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connectors/connectors.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
#include "engine/cli/cli.h"

static const char usage[] =
    "usage: eddy models -c FILE.ini [--pipeline NAME] [--json] [--export FILE] [--dump DIR] [--describe]\n"
    "       eddy models --checkpoint CKPT [--export FILE] [--describe]\n"
    "Lists the model checkpoints in Redis of every pipeline of FILE whose [state] store is Redis.\n"
    "  -c, --config FILE      pipeline configuration\n"
    "  -p, --pipeline NAME    only this pipeline\n"
    "  -j, --json             JSON lines instead of a table\n"
    "  -e, --export FILE      each model as one JSON line (trees' nodes, linear weights by feature,\n"
    "                         naive Bayes statistics, ensembles' members; README \"Model export\");\n"
    "                         '-': stdout\n"
    "  -d, --dump DIR         each checkpoint's model bytes to DIR/PIPELINE-PARTITION.ckpt (eddy predict -m)\n"
    "  -D, --describe         print each model (a tree's splits, an ensemble's members) and the\n"
    "                         features ranked by importance (trees and forests)\n"
    "  -k, --checkpoint CKPT  export (or --describe) a checkpoint file (eddy eval --save-model,\n"
    "                         --dump) instead\n"
    "  -t, --timeout SECONDS  for connecting and each reply (default 5)\n";

static void sha256_hex(const void *p, size_t len, char *hex) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  hex[0] = '\0';
  if (!EVP_Digest(p, len, md, &n, EVP_sha256(), NULL)) return;
  for (unsigned i = 0; i < n; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static void iso(double t, char *buf, size_t size) {
  time_t s = (time_t)t;
  struct tm tm;
  gmtime_r(&s, &tm);
  strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void json_str(eddy_buf_t *b, const char *s) { eddy_json_string(b, s, strlen(s)); }

/* --export and --dump of one checkpoint. */
typedef struct outputs {
  FILE *export;
  const char *dump_dir;
  int describe;
} outputs_t;

static int export_one(const outputs_t *o, const eddy_pipeline_conf_t *pc, const eddy_ckpt_t *ck, const char *sha) {
  char err[512];
  int rc = 0;
  if (o->export) {
    eddy_buf_t b;
    eddy_buf_init(&b);
    eddy_buf_put(&b, "{\"pipeline\":", 12);
    json_str(&b, pc->pipeline.name);
    eddy_buf_printf(&b, ",\"partition\":%d,\"next_offset\":%lld,\"sha256\":\"%s\",\"checkpoint\":",
                    (int)ck->partition, (long long)ck->offset, sha);
    if (eddy_checkpoint_export(ck->model, ck->model_len, &b, err, sizeof err)) {
      fprintf(stderr, "eddy models: %s: %s\n", ck->key, err);
      rc = 1;
    } else {
      eddy_buf_put(&b, "}\n", 2);
      fwrite(b.data, 1, b.len, o->export);
    }
    eddy_buf_free(&b);
  }
  if (o->dump_dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s-%d.ckpt", o->dump_dir, pc->pipeline.name, (int)ck->partition);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(ck->model, 1, ck->model_len, f) != ck->model_len) {
      fprintf(stderr, "eddy models: %s: cannot write it\n", path);
      rc = 1;
    }
    if (f && fclose(f)) rc = 1;
  }
  return rc;
}

/* --describe of one checkpoint (key: what names it in an error). */
static int describe_one(const void *p, size_t len, const char *key) {
  char err[512];
  int rc = eddy_checkpoint_describe(p, len, stdout, err, sizeof err);
  if (rc) fprintf(stderr, "eddy models: %s: %s\n", key, err);
  return rc ? 1 : 0;
}

/* --checkpoint CKPT: a checkpoint file as JSON to out (NULL: not) and
 * described on stdout, without Redis or a config. */
static int export_file(const char *ckpt, FILE *out, int describe) {
  eddy_buf_t in, b;
  eddy_buf_init(&in);
  eddy_buf_init(&b);
  char err[512];
  if (eddy_buf_read_file(&in, ckpt)) {
    fprintf(stderr, "eddy models: %s: cannot read it: %s\n", ckpt, strerror(errno));
    eddy_buf_free(&in);
    return 1;
  }
  int rc = 0;
  if (out && (rc = eddy_checkpoint_export(in.data, in.len, &b, err, sizeof err))) {
    fprintf(stderr, "eddy models: %s: %s\n", ckpt, err);
  } else if (out) {
    eddy_buf_put_u8(&b, '\n');
    fwrite(b.data, 1, b.len, out);
  }
  if (!rc && describe) rc = describe_one(in.data, in.len, ckpt);
  eddy_buf_free(&in);
  eddy_buf_free(&b);
  return rc ? 1 : 0;
}

/* A checkpoint that does not verify: its key and why. */
static void put_refused(eddy_buf_t *out, int json, const eddy_pipeline_conf_t *pc, int32_t part, const char *key,
                        const char *err) {
  if (!json) {
    eddy_buf_printf(out, "%-20s %9d %-24s %s\n", pc->pipeline.name, (int)part, "REFUSED", err);
    return;
  }
  eddy_buf_put(out, "{\"pipeline\":", 12);
  json_str(out, pc->pipeline.name);
  eddy_buf_printf(out, ",\"partition\":%d,\"key\":", (int)part);
  json_str(out, key);
  eddy_buf_put(out, ",\"error\":", 9);
  json_str(out, err);
  eddy_buf_put(out, "}\n", 2);
}

static void put_checkpoint(eddy_buf_t *out, int json, const eddy_pipeline_conf_t *pc, const eddy_ckpt_t *ck,
                           const char *sha) {
  char when[40];
  iso(ck->time, when, sizeof when);
  if (!json) {
    eddy_buf_printf(out, "%-20s %9d %-24s %7llu %12lld %10zu %-64s %s\n", pc->pipeline.name, (int)ck->partition,
                    ck->learner, (unsigned long long)ck->version, (long long)ck->offset, ck->model_len, sha, when);
    return;
  }
  eddy_buf_put(out, "{\"pipeline\":", 12);
  json_str(out, pc->pipeline.name);
  eddy_buf_printf(out, ",\"partition\":%d,\"learner\":", (int)ck->partition);
  json_str(out, ck->learner);
  eddy_buf_printf(out,
                  ",\"version\":%llu,\"next_offset\":%lld,\"bytes\":%zu,\"sha256\":\"%s\","
                  "\"time\":\"%s\",\"key\":",
                  (unsigned long long)ck->version, (long long)ck->offset, ck->model_len, sha, when);
  json_str(out, ck->key);
  eddy_buf_put(out, "}\n", 2);
}

/* One pipeline's checkpoints: listed, exported, dumped; 0 or 1. */
static int list_pipeline(const eddy_pipeline_conf_t *pc, int json, double timeout, const outputs_t *outs,
                         int *header) {
  char err[2048];
  redisContext *c = eddy_redis_connect_sync(pc->state.store, timeout, err, sizeof err);
  if (!c) {
    fprintf(stderr, "eddy models: pipeline %s: %s\n", pc->pipeline.name, err);
    return 1;
  }
  int rc = 0;
  int32_t *parts = NULL;
  int n = eddy_ckpt_partitions_sync(c, pc->state.key_prefix, pc->pipeline.name, &parts, err, sizeof err);
  if (n < 0) {
    fprintf(stderr, "eddy models: pipeline %s: %s\n", pc->pipeline.name, err);
    rc = 1;
  }
  if (!json && !*header) {
    printf("%-20s %9s %-24s %7s %12s %10s %-64s %s\n", "pipeline", "partition", "learner", "version",
           "next_offset", "bytes", "sha256", "time");
    *header = 1;
  }
  eddy_buf_t out;
  eddy_buf_init(&out);
  for (int k = 0; k < n; k++) {
    eddy_ckpt_t ck;
    int e = eddy_ckpt_read_sync(c, pc->state.key_prefix, pc->pipeline.name, parts[k], &ck, err, sizeof err);
    if (e == EDDY_ENOENT) continue; /* removed since the listing */
    eddy_buf_clear(&out);
    if (e) {
      rc = 1;
      fprintf(stderr, "eddy models: %s\n", err);
      put_refused(&out, json, pc, parts[k], ck.key, err);
    } else {
      char sha[2 * EVP_MAX_MD_SIZE + 1];
      sha256_hex(ck.model, ck.model_len, sha);
      put_checkpoint(&out, json, pc, &ck, sha);
      if (export_one(outs, pc, &ck, sha)) rc = 1;
    }
    if (!outs->export || outs->export != stdout) fwrite(out.data, 1, out.len, stdout);
    if (!e) {
      if (outs->describe) {
        fflush(stdout);
        if (describe_one(ck.model, ck.model_len, ck.key)) rc = 1;
      }
      eddy_ckpt_clear(&ck);
    }
  }
  eddy_buf_free(&out);
  free(parts);
  eddy_redis_sync_free(c);
  return rc;
}

int eddy_cmd_models(int argc, char **argv) {
  static const struct option longopts[] = {{"config", required_argument, 0, 'c'},
                                            {"pipeline", required_argument, 0, 'p'},
                                            {"json", no_argument, 0, 'j'},
                                            {"timeout", required_argument, 0, 't'},
                                            {"export", required_argument, 0, 'e'},
                                            {"dump", required_argument, 0, 'd'},
                                            {"checkpoint", required_argument, 0, 'k'},
                                            {"describe", no_argument, 0, 'D'},
                                            {"help", no_argument, 0, 'h'},
                                            {0, 0, 0, 0}};
  const char *path = NULL, *only = NULL, *export_path = NULL, *ckpt = NULL;
  outputs_t outs = {0};
  int json = 0, o;
  double timeout = 5;
  optind = 1;
  while ((o = getopt_long(argc, argv, "c:p:jt:e:d:k:Dh", longopts, NULL)) != -1) {
    switch (o) {
    case 'e': export_path = optarg; break;
    case 'd': outs.dump_dir = optarg; break;
    case 'k': ckpt = optarg; break;
    case 'D': outs.describe = 1; break;
    case 'c': path = optarg; break;
    case 'p': only = optarg; break;
    case 'j': json = 1; break;
    case 't':
      if (eddy_parse_double(optarg, &timeout) || !(timeout > 0)) {
        fprintf(stderr, "eddy models: --timeout wants seconds > 0\n");
        return 2;
      }
      break;
    case 'h': fputs(usage, stdout); return 0;
    default: fputs(usage, stderr); return 2;
    }
  }
  if ((!path && !ckpt) || optind < argc) {
    fputs(usage, stderr);
    return 2;
  }
  if (outs.describe && export_path && !strcmp(export_path, "-")) {
    fprintf(stderr, "eddy models: --describe and --export - both write to stdout: export to a file\n");
    return 2;
  }
  if (export_path && !(outs.export = strcmp(export_path, "-") ? fopen(export_path, "w") : stdout)) {
    fprintf(stderr, "eddy models: --export %s: cannot create it\n", export_path);
    return 1;
  }
  int rc = 0;
  if (ckpt) {
    rc = export_file(ckpt, outs.export ? outs.export : outs.describe ? NULL : stdout, outs.describe);
  } else {
    eddy_config_t *cfg = eddy__cmd_config("models", path, only);
    int any_redis = 0, header = 0;
    for (size_t i = 0; cfg && i < cfg->n_pipelines; i++) {
      const eddy_pipeline_conf_t *pc = &cfg->pipelines[i];
      if (only && strcmp(pc->pipeline.name, only) != 0) continue;
      if (!eddy_store_is_redis(pc)) {
        fprintf(stderr, "eddy models: pipeline %s keeps its state in memory: no checkpoints\n", pc->pipeline.name);
        continue;
      }
      any_redis = 1;
      if (list_pipeline(pc, json, timeout, &outs, &header)) rc = 1;
    }
    fflush(stdout);
    if (cfg && !any_redis)
      fprintf(stderr, "eddy models: no pipeline of %s keeps its state in Redis ([state] store = redis://...)\n",
              path);
    if (!cfg || !any_redis) rc = 1;
    eddy_config_free(cfg);
  }
  if (outs.export && outs.export != stdout && fclose(outs.export)) rc = 1;
  return rc;
}
