/* cmd_models.c: `eddy models`: the model checkpoints that the pipelines of
 * a config keep in Redis, one per partition: learner, model version, next
 * offset, size, SHA-256 of the model bytes and time, as a table or JSON
 * lines. A checkpoint that does not verify is reported with its key. */
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
    "usage: eddy models -c FILE.ini [--pipeline NAME] [--json]\n"
    "Lists the model checkpoints in Redis of every pipeline of FILE whose [state] store is Redis.\n"
    "  -c, --config FILE      pipeline configuration\n"
    "  -p, --pipeline NAME    only this pipeline\n"
    "  -j, --json             JSON lines instead of a table\n"
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

static void json_str(eddy_buf_t *b, const char *s) {
  eddy_buf_put_u8(b, '"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      eddy_buf_printf(b, "\\%c", c);
    else if (c < 0x20)
      eddy_buf_printf(b, "\\u%04x", c);
    else
      eddy_buf_put_u8(b, c);
  }
  eddy_buf_put_u8(b, '"');
}

int eddy_cmd_models(int argc, char **argv) {
  static const struct option longopts[] = {{"config", required_argument, 0, 'c'},
                                            {"pipeline", required_argument, 0, 'p'},
                                            {"json", no_argument, 0, 'j'},
                                            {"timeout", required_argument, 0, 't'},
                                            {"help", no_argument, 0, 'h'},
                                            {0, 0, 0, 0}};
  const char *path = NULL, *only = NULL;
  int json = 0, o;
  double timeout = 5;
  optind = 1;
  while ((o = getopt_long(argc, argv, "c:p:jt:h", longopts, NULL)) != -1) {
    switch (o) {
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
  if (!path || optind < argc) {
    fputs(usage, stderr);
    return 2;
  }
  char err[2048];
  eddy_config_t *cfg = eddy__cmd_config("models", path, only);
  if (!cfg) return 1;
  int rc = 0, any_redis = 0, header = 0;
  eddy_buf_t out;
  eddy_buf_init(&out);
  for (size_t i = 0; i < cfg->n_pipelines; i++) {
    const eddy_pipeline_conf_t *pc = &cfg->pipelines[i];
    if (only && strcmp(pc->pipeline.name, only) != 0) continue;
    if (!eddy_store_is_redis(pc)) {
      fprintf(stderr, "eddy models: pipeline %s keeps its state in memory: no checkpoints\n",
              pc->pipeline.name);
      continue;
    }
    any_redis = 1;
    redisContext *c = eddy_redis_connect_conf(pc, timeout, NULL, err, sizeof err);
    if (!c) {
      fprintf(stderr, "eddy models: pipeline %s: %s\n", pc->pipeline.name, err);
      rc = 1;
      continue;
    }
    int32_t *parts = NULL;
    int n = eddy_ckpt_partitions_sync(c, pc->state.key_prefix, pc->pipeline.name, &parts, err, sizeof err);
    if (n < 0) {
      fprintf(stderr, "eddy models: pipeline %s: %s\n", pc->pipeline.name, err);
      rc = 1;
    }
    if (!json && !header) {
      printf("%-20s %9s %-24s %7s %12s %10s %-64s %s\n", "pipeline", "partition", "learner",
             "version", "next_offset", "bytes", "sha256", "time");
      header = 1;
    }
    for (int k = 0; k < n; k++) {
      eddy_ckpt_t ck;
      int e = eddy_ckpt_read_sync(c, pc->state.key_prefix, pc->pipeline.name, parts[k], &ck, err, sizeof err);
      if (e == EDDY_ENOENT) continue; /* removed since the listing */
      eddy_buf_clear(&out);
      if (e) {
        rc = 1;
        fprintf(stderr, "eddy models: %s\n", err);
        if (json) {
          eddy_buf_put(&out, "{\"pipeline\":", 12);
          json_str(&out, pc->pipeline.name);
          eddy_buf_printf(&out, ",\"partition\":%d,\"key\":", (int)parts[k]);
          json_str(&out, ck.key);
          eddy_buf_put(&out, ",\"error\":", 9);
          json_str(&out, err);
          eddy_buf_put(&out, "}\n", 2);
        } else {
          eddy_buf_printf(&out, "%-20s %9d %-24s %s\n", pc->pipeline.name, (int)parts[k], "REFUSED", err);
        }
      } else {
        char sha[2 * EVP_MAX_MD_SIZE + 1], when[40];
        sha256_hex(ck.model, ck.model_len, sha);
        iso(ck.time, when, sizeof when);
        if (json) {
          eddy_buf_put(&out, "{\"pipeline\":", 12);
          json_str(&out, pc->pipeline.name);
          eddy_buf_printf(&out, ",\"partition\":%d,\"learner\":", (int)ck.partition);
          json_str(&out, ck.learner);
          eddy_buf_printf(&out,
                          ",\"version\":%llu,\"next_offset\":%lld,\"bytes\":%zu,\"sha256\":\"%s\","
                          "\"time\":\"%s\",\"key\":",
                          (unsigned long long)ck.version, (long long)ck.offset, ck.model_len, sha, when);
          json_str(&out, ck.key);
          eddy_buf_put(&out, "}\n", 2);
        } else {
          eddy_buf_printf(&out, "%-20s %9d %-24s %7llu %12lld %10zu %-64s %s\n", pc->pipeline.name,
                          (int)ck.partition, ck.learner, (unsigned long long)ck.version,
                          (long long)ck.offset, ck.model_len, sha, when);
        }
        eddy_ckpt_clear(&ck);
      }
      fwrite(out.data, 1, out.len, stdout);
    }
    free(parts);
    redisFree(c);
  }
  fflush(stdout);
  if (!any_redis) {
    fprintf(stderr, "eddy models: no pipeline of %s keeps its state in Redis ([state] store = redis://...)\n",
            path);
    rc = 1;
  }
  eddy_buf_free(&out);
  eddy_config_free(cfg);
  return rc;
}
