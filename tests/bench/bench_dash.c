/* bench_dash.c: `make bench` rows for the dashboard's API: the time the
 * loop spends building each answer with every ring full (16 partitions,
 * EDDY_DASH_SECONDS points each; EDDY_DASH_ALERTS alerts), and the bytes
 * the rings hold. The page asks /api/series incrementally (since=): one
 * second of points a poll. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/stream/dash_int.h"
#include "engine/stream/pipeline_int.h"

#define PARTS 16

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void row(eddy_dash_t *d, const char *what, const char *path, const char *query) {
  eddy_buf_t b;
  eddy_buf_init(&b);
  const char *type;
  int reps = 0;
  double t0 = now_s(), t;
  do {
    eddy_buf_clear(&b);
    eddy_dash_http(d, path, query, &b, &type);
    reps++;
  } while ((t = now_s() - t0) < 0.5);
  printf("  %-52s %9.3f ms  %9zu bytes\n", what, t / reps * 1000, b.len);
  eddy_buf_free(&b);
}

int main(void) {
  char err[1024];
  eddy_config_t *c = eddy_config_parse("[pipeline]\nname = bench\n[source]\ntopics = t\n[features]\nnumeric = x\n"
                                       "target = y\n[model]\nlearner = naive_bayes\n",
                                       "bench.ini", err, sizeof err);
  eddy_pipeline_t *pl = c ? eddy_pipeline_new(NULL, &c->pipelines[0], err, sizeof err) : NULL;
  if (!pl) {
    fprintf(stderr, "bench_dash: %s\n", err);
    return 1;
  }
  eddy_ptask_t *tasks[PARTS];
  for (int i = 0; i < PARTS; i++) {
    /* one task per partition (replay tasks: the pipeline keeps them all) */
    tasks[i] = eddy_pipeline_replay_task(pl, "t", i, err, sizeof err);
    if (!tasks[i]) return 1;
  }
  eddy_dash_t *d = eddy_dash_new(EDDY_DASH_SECONDS, EDDY_DASH_ALERTS);
  double t0 = 1796670000.5;
  for (int s = 0; s < EDDY_DASH_SECONDS; s++) {
    for (int i = 0; i < PARTS; i++) tasks[i]->records += 1000 + (uint64_t)(s % 7);
    eddy__dash_sample_at(d, &pl, 1, 0, t0 + s);
  }
  double t_sample = now_s();
  for (int s = 0; s < 1000; s++) eddy__dash_sample_at(d, &pl, 1, 0, t0 + EDDY_DASH_SECONDS + s);
  t_sample = (now_s() - t_sample) / 1000;
  eddy__dash_sample_at(d, &pl, 1, 1, t0 + EDDY_DASH_SECONDS + 1000.5); /* warm: OpenSSL's first digest */
  double t_models = now_s();
  for (int s = 0; s < 100; s++) eddy__dash_sample_at(d, &pl, 1, 1, t0 + EDDY_DASH_SECONDS + 1000.6);
  t_models = (now_s() - t_models) / 100;
  for (int i = 0; i < EDDY_DASH_ALERTS; i++) {
    eddy_alert_t a = {.pipeline = "bench", .partition = i % PARTS, .offset = i, .index = (uint64_t)i,
                      .detector = "adwin", .kind = "drift", .statistic = 0.1, .threshold = 0.05,
                      .action = "reset", .version_before = 1, .version_after = 2, .time = t0 + i % 900};
    eddy_dash_alert(d, &a);
  }
  char since[64];
  snprintf(since, sizeof since, "pipeline=bench&since=%.0f", t0 + EDDY_DASH_SECONDS + 998);
  printf("\ndashboard API, %d partitions, rings full (%d s, %zu bytes each, %zu in all), %d alerts\n", PARTS,
         EDDY_DASH_SECONDS, eddy_dash_ring_bytes(EDDY_DASH_SECONDS), PARTS * eddy_dash_ring_bytes(EDDY_DASH_SECONDS),
         EDDY_DASH_ALERTS);
  printf("  %-52s %9.3f ms\n", "a second's sample (the run's timer)", t_sample * 1000);
  printf("  %-52s %9.3f ms\n", "a models snapshot, 16 naive Bayes (every 5 s)", t_models * 1000);
  row(d, "/api/series?since= (a poll: the last second)", "/api/series", since);
  row(d, "/api/pipelines", "/api/pipelines", "");
  row(d, "/api/models", "/api/models", "");
  row(d, "/api/alerts?since= (a poll: the newest)", "/api/alerts", "since=1796670899.5");
  row(d, "/api/alerts (all held: the page's first load)", "/api/alerts", "");
  row(d, "/api/series (all held: the page's first load)", "/api/series", "pipeline=bench");
  row(d, "/ (the page)", "/", "");
  eddy_dash_free(d);
  for (int i = 0; i < PARTS; i++) eddy_pipeline_replay_done(pl, tasks[i]);
  eddy_pipeline_free(pl);
  eddy_config_free(c);
  return 0;
}
