/* cmd_verify.c: `eddy verify`: after a run, checks a config's pipelines
 * against what is in Kafka and Redis (engine/verify.c): one line per check
 * and the first violation; --json adds one JSON object per pipeline on
 * stdout. Exit status 0: every invariant holds; 1: a violation; 2: usage,
 * config, Kafka or Redis error. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cli/cli.h"
#include "engine/verify/verify.h"

static const char usage[] =
    "usage: eddy verify -c FILE.ini [--pipeline NAME] [--exactly-once] [--expect-dlq N]\n"
    "                   [--timeout SECONDS] [--json]\n"
    "Checks, after a run, each pipeline's outputs and checkpoints against its input:\n"
    "every input offset that decodes has a prediction (--exactly-once: exactly one), every\n"
    "one that does not has a dead letter carrying its key, value and headers; no prediction,\n"
    "alert or dead letter names an offset that was never in the input; every Redis checkpoint's\n"
    "model equals, byte for byte, the model recomputed by replaying its partition from offset 0.\n"
    "  -c, --config FILE      pipeline configuration\n"
    "  -p, --pipeline NAME    only this pipeline\n"
    "  -x, --exactly-once     exactly one prediction (dead letter) per offset\n"
    "  -d, --expect-dlq N     the dead-letter topic holds exactly N distinct records\n"
    "  -t, --timeout SECONDS  for connecting, and for a topic that stops short of its end (default 30)\n"
    "  -j, --json             one JSON object per pipeline on stdout (the lines go to stderr)\n"
    "Exit status: 0 every invariant holds, 1 a violation, 2 usage, config, Kafka or Redis error, or (exactly\n"
    "once) outputs missing while an open transaction hides others: rerun after transaction.timeout.ms.\n";

int eddy_cmd_verify(int argc, char **argv) {
  static const struct option longopts[] = {{"config", required_argument, 0, 'c'},
                                            {"pipeline", required_argument, 0, 'p'},
                                            {"exactly-once", no_argument, 0, 'x'},
                                            {"expect-dlq", required_argument, 0, 'd'},
                                            {"timeout", required_argument, 0, 't'},
                                            {"json", no_argument, 0, 'j'},
                                            {"help", no_argument, 0, 'h'},
                                            {0, 0, 0, 0}};
  const char *path = NULL, *only = NULL;
  int json = 0, o;
  eddy_verify_opts_t opts = {.expect_dlq = -1, .timeout = 30};
  optind = 1;
  while ((o = getopt_long(argc, argv, "c:p:xd:t:jh", longopts, NULL)) != -1) {
    switch (o) {
    case 'c': path = optarg; break;
    case 'p': only = optarg; break;
    case 'x': opts.exactly_once = 1; break;
    case 'd':
      if (eddy_parse_int(optarg, &opts.expect_dlq) || opts.expect_dlq < 0) {
        fprintf(stderr, "eddy verify: --expect-dlq wants a count >= 0\n");
        return 2;
      }
      break;
    case 't':
      if (eddy_parse_double(optarg, &opts.timeout) || !(opts.timeout > 0)) {
        fprintf(stderr, "eddy verify: --timeout wants seconds > 0\n");
        return 2;
      }
      break;
    case 'j': json = 1; break;
    case 'h': fputs(usage, stdout); return 0;
    default: fputs(usage, stderr); return 2;
    }
  }
  if (!path || optind < argc) {
    fputs(usage, stderr);
    return 2;
  }
  char err[2048];
  eddy_config_t *cfg = eddy__cmd_config("verify", path, only);
  if (!cfg) return 2;
  opts.out = json ? stderr : stdout;
  /* The replays' own logs (a record dead-lettered, ...) are the run's
   * business: only errors. */
  eddy_log_set_level(EDDY_LOG_ERROR);
  int rc = 0, pending = 0;
  eddy_buf_t b;
  eddy_buf_init(&b);
  for (size_t i = 0; i < cfg->n_pipelines && rc != 2; i++) {
    const eddy_pipeline_conf_t *pc = &cfg->pipelines[i];
    if (only && strcmp(pc->pipeline.name, only) != 0) continue;
    fprintf(opts.out, "verify: pipeline %s\n", pc->pipeline.name);
    eddy_verify_result_t r;
    if (eddy_verify_pipeline(pc, &opts, &r, err, sizeof err)) {
      fprintf(stderr, "eddy verify: pipeline %s: %s\n", pc->pipeline.name, err);
      rc = 2;
      break;
    }
    if (r.violated) rc = 1;
    else if (r.pending[0]) pending = 1;
    if (json) {
      eddy_buf_clear(&b);
      eddy_verify_json(&r, &b);
      printf("%.*s\n", (int)b.len, (const char *)b.data);
      fflush(stdout);
    }
  }
  eddy_buf_free(&b);
  eddy_config_free(cfg);
  /* Missing outputs that an open transaction may hide: no verdict. */
  return rc == 0 && pending ? 2 : rc;
}
