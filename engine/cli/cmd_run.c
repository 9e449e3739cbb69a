/* cmd_run.c: `eddy run -c pipeline.ini`: the Kafka stream processor. One
 * libuv loop runs every pipeline of the config (engine/run.c), or, with
 * --threads N, N worker threads run an instance of each (worker.c). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "engine/stream/stream.h"

static const char usage[] =
    "usage: eddy run -c FILE.ini [--threads N] [-v|-q]\n"
    "Runs every pipeline of FILE as a Kafka stream processor: consume, decode, predict,\n"
    "produce the prediction, learn when the record carries its label, detect drift.\n"
    "  -c, --config FILE   the pipelines (see configs/ and configs/REFERENCE.md)\n"
    "  -t, --threads N     worker threads (default: [run] threads, else 1): each pipeline runs\n"
    "                      as N instances in its consumer group, one per thread (docs/SCALING.md)\n"
    "  -v, --verbose       debug log lines\n"
    "  -q, --quiet         warnings and errors only\n"
    "Signals: SIGINT or SIGTERM stop (finish the batch, flush, commit; exit within 10 s);\n"
    "SIGHUP re-reads FILE: pipelines added start, removed ones drain and commit, unchanged\n"
    "ones keep their models; a FILE that does not validate is refused and nothing changes.\n";

int eddy_cmd_run(int argc, char **argv) {
  static const struct option longopts[] = {{"config", required_argument, 0, 'c'},
                                            {"threads", required_argument, 0, 't'},
                                            {"verbose", no_argument, 0, 'v'},
                                            {"quiet", no_argument, 0, 'q'},
                                            {"help", no_argument, 0, 'h'},
                                            {0, 0, 0, 0}};
  const char *path = NULL;
  int o, threads = 0;
  optind = 1;
  while ((o = getopt_long(argc, argv, "c:t:vqh", longopts, NULL)) != -1) {
    int64_t v;
    switch (o) {
    case 'c': path = optarg; break;
    case 't':
      if (eddy_parse_int(optarg, &v) || v < 1 || v > 256) {
        fprintf(stderr, "eddy: --threads '%s': expected 1 to 256\n", optarg);
        return 2;
      }
      threads = (int)v;
      break;
    case 'v': eddy_log_set_level(EDDY_LOG_DEBUG); break;
    case 'q': eddy_log_set_level(EDDY_LOG_WARN); break;
    case 'h': fputs(usage, stdout); return 0;
    default: fputs(usage, stderr); return 2;
    }
  }
  if (!path || optind != argc) {
    fputs(usage, stderr);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  char err[2048];
  uv_loop_t loop;
  uv_loop_init(&loop);
  eddy_run_opts_t opts = {.config_path = path, .threads = threads};
  eddy_run_t *r = eddy_run_new(&loop, &opts, NULL, err, sizeof err);
  if (!r) {
    fprintf(stderr, "eddy: %s\n", err);
    uv_loop_close(&loop);
    return 1;
  }
  int rc = 0;
  if (eddy_run_start(r, err, sizeof err)) {
    eddy_log(EDDY_LOG_ERROR, "%s", err);
    rc = 1;
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  if (eddy_run_status(r)) rc = 1;
  eddy_run_free(r);
  uv_loop_close(&loop);
  return rc;
}
