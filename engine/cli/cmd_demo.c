/* cmd_demo.c: `eddy demo`: everything in one process, nothing to install:
 * an embedded Kafka-protocol broker (librdkafka's mock cluster on
 * loopback), a SEA stream with an abrupt concept change produced to it
 * from a thread, and `eddy run`'s own engine consuming it with the best
 * learner this build has and ADWIN on the error stream (reset on drift),
 * its models kept in memory. A live line shows events per second, the
 * windowed accuracy and the model version; drift alerts print as they
 * fire; after --events records every prediction is delivered and a
 * summary closes. The dashboard is served on --http (its URL printed) until
 * the end, or until Ctrl-C with --linger. With --label-delay N the records
 * go without their label, each label N records later to a co-partitioned
 * label topic ([source] label_topic), and the view counts labels waiting
 * and joined. */
#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "generators/generators.h"
#include "learners/learners.h"
#include "engine/stream/stream.h"

static const char usage[] =
    "usage: eddy demo [--events N] [--rate R] [--partitions P] [--learner NAME] [--seed S] [--plain]\n"
    "                 [--http HOST:PORT] [--linger] [--label-delay N]\n"
    "An embedded broker, a drifting SEA stream and a pipeline with drift detection, live.\n"
    "  --events N       records to stream (default 200000); the drift comes at N/2\n"
    "  --rate R         records a second (default 25000; 0: as fast as possible)\n"
    "  --partitions P   partitions of the input topic: one model each (default 2)\n"
    "  --learner NAME   the learner (default: hoeffding_tree, else naive_bayes, else majority)\n"
    "  --seed S         the stream's seed (default 1)\n"
    "  --plain          a line a second instead of the live view (the default when not a terminal)\n"
    "  --http HOST:PORT the dashboard's address (default 127.0.0.1:0: any free port; its URL is printed)\n"
    "  --linger         keep serving the dashboard after the summary, until Ctrl-C\n"
    "  --label-delay N  records go without their label; each label follows N records later on\n"
    "                   topic 'sea.labels' (same key, same partition), joined by id (default 0: in the record)\n";

typedef struct demo {
  eddy_mock_broker_t *mb;
  eddy_run_t *run;
  uv_loop_t loop;
  uv_timer_t view;
  uv_signal_t sigint, sigterm;
  int64_t events, drift_at;
  double rate;
  int partitions;
  uint64_t seed;
  const char *learner;
  int tty, plain;
  const char *http;
  int linger;
  int64_t label_delay; /* 0: labels in the records */
  /* producer thread */
  pthread_t th;
  atomic_llong produced;
  atomic_int stop_producer;
  atomic_int go; /* the pipeline has its partitions: the stream starts */
  char producer_error[512];
  /* figures */
  double t0, last_t;
  uint64_t last_records;
  double rate_now;
  double acc_before, acc_min_after, acc_final;
  uint64_t warnings, drifts;
  int stopping, interrupted;
  int port; /* the dashboard's */
  char alerts[16][256];
  int n_alerts;
  int repeats[16];       /* drifts folded into each shown one */
  int32_t last_partition[16];
  uint64_t last_index[16];
  double done_at;
  uint64_t ticks;
  eddy_pipeline_stats_t final; /* the pipeline's counters when it stopped */
  uint64_t final_waiting;      /* --label-delay: predictions waiting for their label then */
  int have_final;
} demo_t;

static const char *pick_learner(void) {
  const char *prefs[] = {"hoeffding_tree", "naive_bayes", "majority"};
  for (int i = 0; i < 3; i++)
    if (eddy_learner_type_find(prefs[i])) return prefs[i];
  return "majority";
}

/* --------------------------------------------------------- the producer */

/* The label of record i, keyed as it (the same partitioner and partition
 * count: its partition), its id naming it. */
static int put_label(eddy_kafka_writer_t *lw, int64_t i, char y) {
  char key[32], buf[64];
  int kn = snprintf(key, sizeof key, "k%" PRId64, i);
  int n = snprintf(buf, sizeof buf, "{\"id\":\"r%" PRId64 "\",\"class\":\"%c\"}", i, y);
  return eddy_kafka_writer_put(lw, buf, (size_t)n, key, (size_t)kn);
}

static void *produce(void *arg) {
  demo_t *d = arg;
  char err[512], to[8], at[32];
  snprintf(to, sizeof to, "4"); /* SEA's threshold 8 becomes 9.5 */
  snprintf(at, sizeof at, "%" PRId64, d->drift_at);
  eddy_kv_t kv[] = {{"drift_to", to, NULL, 0}, {"drift_at", at, NULL, 0}, {"drift_width", "1", NULL, 0}};
  eddy_generator_t *g = eddy_generator_new("sea", kv, 3, d->seed, err, sizeof err);
  eddy_kafka_writer_t *w = g ? eddy_kafka_writer_new(eddy_mock_broker_bootstraps(d->mb), "sea", NULL, err, sizeof err) : NULL;
  eddy_kafka_writer_t *lw = NULL;
  char *ys = NULL; /* --label-delay: the labels not sent yet, a ring of label_delay */
  if (w && d->label_delay > 0) {
    lw = eddy_kafka_writer_new(eddy_mock_broker_bootstraps(d->mb), "sea.labels", NULL, err, sizeof err);
    if (lw && !(ys = malloc((size_t)d->label_delay))) snprintf(err, sizeof err, "out of memory");
  }
  eddy_instance_t in = {0};
  if (!g || !w || (d->label_delay > 0 && (!lw || !ys)) || eddy_instance_init(&in, 3)) {
    snprintf(d->producer_error, sizeof d->producer_error, "%s", err);
    goto done;
  }
  char buf[256];
  while (!atomic_load(&d->go) && !atomic_load(&d->stop_producer)) {
    struct timespec ts = {0, 10000000};
    nanosleep(&ts, NULL);
  }
  d->t0 = eddy_now();
  for (int64_t i = 0; i < d->events && !atomic_load(&d->stop_producer); i++) {
    if (d->rate > 0) {
      double wait = d->t0 + (double)i / d->rate - eddy_now();
      if (wait > 0.001) {
        struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
        nanosleep(&ts, NULL);
      }
    }
    eddy_generator_next(g, &in);
    char a[32], b[32], c[32];
    eddy_fmt_double(a, sizeof a, in.x[0]);
    eddy_fmt_double(b, sizeof b, in.x[1]);
    eddy_fmt_double(c, sizeof c, in.x[2]);
    int n;
    if (!lw) {
      n = snprintf(buf, sizeof buf, "{\"attrib1\":%s,\"attrib2\":%s,\"attrib3\":%s,\"class\":\"%d\"}", a, b, c,
                   (int)in.y);
      if (eddy_kafka_writer_put(w, buf, (size_t)n, NULL, 0)) goto failed;
    } else {
      char key[32];
      int kn = snprintf(key, sizeof key, "k%" PRId64, i);
      n = snprintf(buf, sizeof buf, "{\"id\":\"r%" PRId64 "\",\"attrib1\":%s,\"attrib2\":%s,\"attrib3\":%s}", i, a,
                   b, c);
      if (eddy_kafka_writer_put(w, buf, (size_t)n, key, (size_t)kn)) goto failed;
      if (i >= d->label_delay && put_label(lw, i - d->label_delay, ys[(i - d->label_delay) % d->label_delay]))
        goto failed;
      ys[i % d->label_delay] = (char)('0' + (int)in.y);
    }
    atomic_store(&d->produced, i + 1);
  }
  /* The last label_delay labels follow the last record. */
  if (lw && !atomic_load(&d->stop_producer))
    for (int64_t j = d->events > d->label_delay ? d->events - d->label_delay : 0; j < d->events; j++)
      if (put_label(lw, j, ys[j % d->label_delay])) goto failed;
  goto done;
failed:
  snprintf(d->producer_error, sizeof d->producer_error, "cannot produce to the embedded broker");
done:
  if (lw && eddy_kafka_writer_close(lw, 30000, err, sizeof err) && !d->producer_error[0])
    snprintf(d->producer_error, sizeof d->producer_error, "%s", err);
  free(ys);
  if (w && eddy_kafka_writer_close(w, 30000, err, sizeof err) && !d->producer_error[0])
    snprintf(d->producer_error, sizeof d->producer_error, "%s", err);
  eddy_instance_free(&in);
  eddy_generator_free(g);
  return NULL;
}

/* ---------------------------------------------------------- the view */

/* Records consumed, and the windowed accuracy averaged over partitions
 * (weighted by the labelled instances each window holds). */
static uint64_t figures(demo_t *d, double *acc, uint64_t *version, uint64_t *delivered, uint64_t *skipped) {
  eddy_pipeline_t *pl[4];
  size_t n = eddy_run_pipelines(d->run, pl, 4);
  uint64_t records = 0, w = 0;
  double sum = 0;
  *version = 0;
  *delivered = 0;
  *skipped = 0;
  for (size_t i = 0; i < n && i < 4; i++) {
    const eddy_pipeline_stats_t *st = eddy_pipeline_stats(pl[i]);
    records += st->records_in;
    *delivered += st->predictions_delivered;
    *skipped += st->skipped;
    eddy_ptask_t *t[64];
    size_t k = eddy_pipeline_tasks(pl[i], t, 64);
    for (size_t j = 0; j < k && j < 64; j++) {
      eddy_metrics_t m;
      eddy_evaluator_windowed(t[j]->replica->eval, &m);
      if (m.n && !isnan(m.accuracy)) {
        sum += m.accuracy * (double)m.n;
        w += m.n;
      }
      if (t[j]->replica->version > *version) *version = t[j]->replica->version;
    }
  }
  *acc = w ? sum / (double)w : NAN;
  return records;
}

/* --label-delay: label records in, joined, and predictions waiting now
 * (eddy_labels_in_total, eddy_labels_joined_total, eddy_labels_waiting). */
static void label_figures(demo_t *d, uint64_t *in, uint64_t *joined, uint64_t *waiting) {
  eddy_pipeline_t *pl[4];
  size_t n = eddy_run_pipelines(d->run, pl, 4);
  *in = *joined = *waiting = 0;
  for (size_t i = 0; i < n && i < 4; i++) {
    const eddy_pipeline_stats_t *st = eddy_pipeline_stats(pl[i]);
    *in += st->labels_in;
    *joined += st->labels_joined;
    eddy_ptask_t *t[64];
    size_t k = eddy_pipeline_tasks(pl[i], t, 64);
    for (size_t j = 0; j < k && j < 64; j++)
      if (t[j]->waiting) *waiting += eddy_waiting_stats(t[j]->waiting)->waiting;
  }
}

static void status(demo_t *d, int final) {
  double acc;
  uint64_t version, delivered, skipped;
  uint64_t records = figures(d, &acc, &version, &delivered, &skipped);
  double now = eddy_now();
  if (now - d->last_t >= 0.5) {
    d->rate_now = (double)(records - d->last_records) / (now - d->last_t);
    d->last_t = now;
    d->last_records = records;
  }
  if (!isnan(acc)) {
    if ((int64_t)records < d->drift_at) d->acc_before = acc;
    else if (isnan(d->acc_min_after) || acc < d->acc_min_after) d->acc_min_after = acc;
    d->acc_final = acc;
  }
  char bar[24];
  int fill = isnan(acc) ? 0 : (int)lround(acc * 20);
  for (int i = 0; i < 20; i++) bar[i] = i < fill ? '#' : '.';
  bar[20] = '\0';
  char line[320];
  snprintf(line, sizeof line,
           "%9" PRIu64 " / %" PRId64 " events %s| %7.0f ev/s | windowed accuracy %5.3f [%s] | model v%" PRIu64
           " | %" PRIu64 " drift%s, %" PRIu64 " warning%s",
           records, d->events, (int64_t)records >= d->drift_at ? "(after the drift) " : "", d->rate_now,
           isnan(acc) ? 0.0 : acc, bar, version, d->drifts, d->drifts == 1 ? "" : "s", d->warnings,
           d->warnings == 1 ? "" : "s");
  if (d->label_delay > 0) {
    uint64_t lin, joined, waiting;
    size_t len = strlen(line);
    label_figures(d, &lin, &joined, &waiting);
    snprintf(line + len, sizeof line - len, " | labels %" PRIu64 " waiting, %" PRIu64 " joined", waiting, joined);
  }
  if (d->tty && !d->plain)
    printf("\r\033[K%s%s", line, final ? "\n" : "");
  else if (final || d->ticks % 4 == 0) /* a line a second */
    printf("%s\n", line);
  d->ticks++;
  fflush(stdout);
}

static void on_alert(void *ctx, const eddy_pipeline_t *pl, const eddy_alert_t *a) {
  (void)pl;
  demo_t *d = ctx;
  int drift = strcmp(a->kind, "warning") != 0;
  if (drift) d->drifts++;
  else d->warnings++;
  if (!drift) return; /* warnings are counted; drifts are shown */
  /* A reset model is worse than the window before it for a while, so the
   * detector fires again every few dozen instances: such repeats on the
   * same partition are folded into the drift they follow. */
  for (int i = d->n_alerts - 1; i >= 0; i--)
    if (d->last_partition[i] == a->partition) {
      if (a->index < d->last_index[i] + 2000) {
        d->repeats[i]++;
        d->last_index[i] = a->index;
        return;
      }
      break;
    }
  char line[256];
  snprintf(line, sizeof line, "DRIFT  %s on partition %d at offset %" PRId64 " (instance %" PRIu64
           " of its model): %s, model v%" PRIu64 " -> v%" PRIu64,
           a->detector, (int)a->partition, a->offset, a->index, a->action, a->version_before, a->version_after);
  if (d->n_alerts < 16) {
    d->last_partition[d->n_alerts] = a->partition;
    d->last_index[d->n_alerts] = a->index;
    snprintf(d->alerts[d->n_alerts++], sizeof d->alerts[0], "%s", line);
  }
  if (d->tty && !d->plain) printf("\r\033[K%s\n", line);
  else printf("%s\n", line);
  fflush(stdout);
}

/* Keeps the counters before the run frees its pipelines. */
static void finish(demo_t *d) {
  d->stopping = 1;
  d->done_at = eddy_now();
  status(d, 1);
  eddy_pipeline_t *pl[1];
  if (eddy_run_pipelines(d->run, pl, 1)) {
    d->final = *eddy_pipeline_stats(pl[0]);
    d->final.alerts = NULL;
    d->final.n_alerts = d->final.cap_alerts = 0;
    d->have_final = 1;
    uint64_t lin, joined;
    label_figures(d, &lin, &joined, &d->final_waiting);
  }
  uv_timer_stop(&d->view);
  uv_close((uv_handle_t *)&d->view, NULL);
  uv_close((uv_handle_t *)&d->sigint, NULL);
  uv_close((uv_handle_t *)&d->sigterm, NULL);
  eddy_run_stop(d->run);
}

static void on_view(uv_timer_t *t) {
  demo_t *d = t->data;
  if (d->stopping) return;
  if (!atomic_load(&d->go)) {
    eddy_pipeline_t *pl[1];
    eddy_ptask_t *tasks[1];
    if (eddy_run_pipelines(d->run, pl, 1) && eddy_pipeline_tasks(pl[0], tasks, 0) == (size_t)d->partitions) {
      atomic_store(&d->go, 1);
      d->last_t = eddy_now();
    } else {
      if (eddy_now() - d->t0 > 1 && (!d->tty || d->plain)) return;
      if (d->tty && !d->plain) printf("\r\033[Kjoining the consumer group (the embedded broker takes ~3 s)...");
      fflush(stdout);
      return;
    }
  }
  status(d, 0);
  double acc;
  uint64_t version, delivered, skipped;
  uint64_t records = figures(d, &acc, &version, &delivered, &skipped);
  (void)records;
  /* Records the embedded broker dropped before they were read (it keeps
   * ~5 MB per partition) never get a prediction: counted as skipped. With
   * --label-delay, the last labels come after the last prediction. */
  uint64_t lin = 0, joined, waiting;
  if (d->label_delay > 0) label_figures(d, &lin, &joined, &waiting);
  int labels_done = d->label_delay <= 0 || (int64_t)(lin + skipped) >= d->events;
  if (((int64_t)(delivered + skipped) >= d->events && labels_done) || d->producer_error[0]) finish(d);
}

static void on_signal(uv_signal_t *h, int signum) {
  (void)signum;
  demo_t *d = h->data;
  if (d->stopping) return;
  d->interrupted = 1;
  atomic_store(&d->stop_producer, 1);
  finish(d);
}

/* ------------------------------------------------------------ --linger */

/* HOST:PORT of the dashboard's URL: the listen address with the port bound. */
static const char *url_host(const char *listen, int port, char *buf, size_t size) {
  const char *colon = strrchr(listen, ':');
  int n = colon ? (int)(colon - listen) : 0; /* PORT alone: loopback */
  if (n == 0 || (n == 7 && !strncmp(listen, "0.0.0.0", 7))) snprintf(buf, size, "127.0.0.1:%d", port);
  else snprintf(buf, size, "%.*s:%d", n, listen, port);
  return buf;
}

typedef struct lingering {
  eddy_http_t *http;
  uv_signal_t sig[2];
} lingering_t;

static void on_linger_signal(uv_signal_t *h, int signum) {
  (void)signum;
  lingering_t *l = h->data;
  eddy_http_stop(l->http);
  for (int i = 0; i < 2; i++) uv_close((uv_handle_t *)&l->sig[i], NULL);
}

/* Serves the dashboard of the finished run on the same address until a
 * signal (the run closed its listener when it stopped). */
static void linger(demo_t *d) {
  char err[512], addr[160];
  url_host(d->http, d->port, addr, sizeof addr);
  eddy_dash_sample(eddy_run_dash(d->run), NULL, 0, 0);
  lingering_t l;
  l.http = eddy_http_start(&d->loop, addr, 0, eddy_run_http, d->run, err, sizeof err);
  if (!l.http) {
    fprintf(stderr, "eddy demo: --linger: %s\n", err);
    return;
  }
  for (int i = 0; i < 2; i++) {
    uv_signal_init(&d->loop, &l.sig[i]);
    l.sig[i].data = &l;
    uv_signal_start(&l.sig[i], on_linger_signal, i ? SIGTERM : SIGINT);
  }
  printf("\nthe dashboard stays at http://%s/ until Ctrl-C\n", addr);
  fflush(stdout);
  uv_run(&d->loop, UV_RUN_DEFAULT);
}

/* ---------------------------------------------------------------- main */

/* Returns -1 to go on, else the exit status (after --help or a bad value). */
static int parse_args(demo_t *d, int argc, char **argv) {
  static const struct option longopts[] = {
      {"events", required_argument, 0, 'n'}, {"rate", required_argument, 0, 'r'},
      {"partitions", required_argument, 0, 'p'}, {"learner", required_argument, 0, 'l'},
      {"seed", required_argument, 0, 's'}, {"plain", no_argument, 0, 'P'},
      {"http", required_argument, 0, 'H'}, {"linger", no_argument, 0, 'L'},
      {"label-delay", required_argument, 0, 'D'},
      {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  int64_t v;
  int o;
  optind = 1;
  while ((o = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (o) {
    case 'n':
      if (eddy_parse_int(optarg, &v) || v < 100) goto bad;
      d->events = v;
      break;
    case 'r':
      if (eddy_parse_double(optarg, &d->rate) || d->rate < 0) goto bad;
      break;
    case 'p':
      if (eddy_parse_int(optarg, &v) || v < 1 || v > 64) goto bad;
      d->partitions = (int)v;
      break;
    case 'l': d->learner = optarg; break;
    case 's':
      if (eddy_parse_int(optarg, &v) || v < 0) goto bad;
      d->seed = (uint64_t)v;
      break;
    case 'P': d->plain = 1; break;
    case 'H':
      if (strlen(optarg) >= 128 || strchr(optarg, '\n')) goto bad;
      d->http = optarg;
      break;
    case 'L': d->linger = 1; break;
    case 'D':
      if (eddy_parse_int(optarg, &v) || v < 0 || v > 10000000) goto bad;
      d->label_delay = v;
      break;
    case 'h': fputs(usage, stdout); return 0;
    default: fputs(usage, stderr); return 2;
    }
  }
  if (optind != argc) {
    fputs(usage, stderr);
    return 2;
  }
  return -1;
bad:
  fprintf(stderr, "eddy demo: bad value '%s'\n%s", optarg, usage);
  return 2;
}

/* The embedded broker with the demo's topics, and the pipeline's config
 * over it; NULL after an error on stderr (the broker freed). */
static eddy_config_t *start_broker(demo_t *d) {
  char err[2048];
  if (!(d->mb = eddy_mock_broker_new(1, 0, err, sizeof err))) {
    fprintf(stderr, "eddy demo: cannot start the embedded broker: %s\n", err);
    return NULL;
  }
  const char *bs = eddy_mock_broker_bootstraps(d->mb);
  eddy_config_t *cfg = NULL;
  if (eddy_mock_broker_topic(d->mb, "sea", d->partitions, 1, err, sizeof err) ||
      eddy_mock_broker_topic(d->mb, "sea.predictions", d->partitions, 1, err, sizeof err) ||
      eddy_mock_broker_topic(d->mb, "sea.alerts", 1, 1, err, sizeof err) ||
      eddy_mock_broker_topic(d->mb, "sea.dlq", 1, 1, err, sizeof err) ||
      (d->label_delay > 0 && eddy_mock_broker_topic(d->mb, "sea.labels", d->partitions, 1, err, sizeof err))) {
    fprintf(stderr, "eddy demo: %s\n", err);
  } else {
    /* --label-delay: the labels on a co-partitioned topic, joined by id. */
    /* A label may be fetched before its record when the input's latest
     * fetch is not in yet: the task waits up to a second for its input
     * (Kafka Streams' max.task.idle.ms) rather than call it unknown. */
    const char *label_topic = d->label_delay > 0 ? "label_topic = sea.labels\nmax_task_idle_ms = 1000\n" : "";
    const char *id = d->label_delay > 0 ? "id = id\n" : "";
    char ini[2048];
    snprintf(ini, sizeof ini,
             "[http]\nlisten = %s\n"
             "[pipeline]\nname = demo\ntask = classification\nwindow = 1000\n"
             "[source]\ntopics = sea\nformat = json\n%s"
             "[kafka]\nbootstrap.servers = %s\nsession.timeout.ms = 6000\nfetch.wait.max.ms = 10\n"
             "[features]\nnumeric = attrib1, attrib2, attrib3\ntarget = class\n%s"
             "[state]\nstore = memory\n"
             "[model]\nlearner = %s\n"
             "[drift]\ndetector = adwin\ndelta = 0.002\naction = reset\n"
             "[sink]\npredictions = sea.predictions\nalerts = sea.alerts\ndead_letter = sea.dlq\n",
             d->http, label_topic, bs, id, d->learner);
    if (!(cfg = eddy_config_parse(ini, "<demo>", err, sizeof err))) fprintf(stderr, "eddy demo: %s\n", err);
  }
  if (!cfg) {
    eddy_mock_broker_free(d->mb);
    d->mb = NULL;
  }
  return cfg;
}

static void print_banner(const demo_t *d, const char *best) {
  char speed[64];
  printf("eddy demo: an embedded Kafka broker at %s (librdkafka's mock cluster: no JVM)\n",
         eddy_mock_broker_bootstraps(d->mb));
  if (d->rate > 0) snprintf(speed, sizeof speed, "%.0f/s", d->rate);
  else snprintf(speed, sizeof speed, "full speed");
  printf("  stream    SEA (3 numeric attributes, 10%% label noise) into topic 'sea', %d partition%s,\n"
         "            %" PRId64 " records at %s, the concept changing abruptly at record %" PRId64
         " (threshold 8 -> 9.5)\n",
         d->partitions, d->partitions == 1 ? "" : "s", d->events, speed, d->drift_at);
  printf("  pipeline  %s per partition, ADWIN (delta 0.002) on its errors, reset on drift,\n"
         "            models in memory; predictions to 'sea.predictions', alerts to 'sea.alerts'\n",
         d->learner);
  if (d->label_delay > 0)
    printf("  labels    not in the records: each one %" PRId64 " records later on 'sea.labels' (same key, same\n"
           "            partition), joined by id to the prediction waiting for it, then learned\n",
           d->label_delay);
  if (strcmp(d->learner, "hoeffding_tree") != 0 && strcmp(best, "hoeffding_tree") != 0)
    printf("  (hoeffding_tree is not in this build yet: using %s)\n", d->learner);
  printf("\n");
  fflush(stdout);
}

/* The loop with the live view, the producer thread and the signals, until
 * the run ends. */
static void run_demo(demo_t *d) {
  char host[160];
  d->port = eddy_run_http_port(d->run);
  printf("  dashboard http://%s/  (the JSON API under /api/, Prometheus at /metrics)\n\n",
         url_host(d->http, eddy_run_http_port(d->run), host, sizeof host));
  fflush(stdout);
  uv_timer_init(&d->loop, &d->view);
  d->view.data = d;
  uv_timer_start(&d->view, on_view, 250, 250);
  uv_signal_init(&d->loop, &d->sigint);
  uv_signal_init(&d->loop, &d->sigterm);
  d->sigint.data = d->sigterm.data = d;
  uv_signal_start(&d->sigint, on_signal, SIGINT);
  uv_signal_start(&d->sigterm, on_signal, SIGTERM);
  d->t0 = d->last_t = eddy_now();
  pthread_create(&d->th, NULL, produce, d);
  uv_run(&d->loop, UV_RUN_DEFAULT);
  atomic_store(&d->stop_producer, 1);
  pthread_join(d->th, NULL);
}

static void print_summary(const demo_t *d) {
  const eddy_pipeline_stats_t *st = d->have_final ? &d->final : NULL;
  double secs = (d->done_at > 0 ? d->done_at : eddy_now()) - d->t0;
  long long produced = (long long)atomic_load(&d->produced);
  printf("\nsummary%s\n", d->interrupted ? " (interrupted)" : "");
  printf("  events          %lld produced, in %.1f s (%.0f/s)\n", produced, secs,
         secs > 0 ? (double)produced / secs : 0.0);
  if (st)
    printf("  predictions     %" PRIu64 " delivered, %" PRIu64 " learned, %" PRIu64 " dead-lettered\n",
           st->predictions_delivered, st->learned, st->dead_lettered);
  printf("  accuracy        %.3f before the drift, %.3f at its lowest after it, %.3f at the end "
         "(windowed, last 1000 per partition)\n",
         d->acc_before, d->acc_min_after, d->acc_final);
  printf("  alerts          %" PRIu64 " drift alert%s, %" PRIu64 " warning%s\n", d->drifts, d->drifts == 1 ? "" : "s",
         d->warnings, d->warnings == 1 ? "" : "s");
  for (int i = 0; i < d->n_alerts; i++) {
    printf("                  %s", d->alerts[i]);
    if (d->repeats[i])
      printf("\n                    (+%d repeat%s while the fresh model learned)", d->repeats[i],
             d->repeats[i] == 1 ? "" : "s");
    printf("\n");
  }
  if (st && d->label_delay > 0)
    printf("  labels          %" PRIu64 " in, %" PRIu64 " joined (%" PRId64 " records after their prediction), %" PRIu64
           " waiting at the end, %" PRIu64 " unmatched, %" PRIu64 " expired\n",
           st->labels_in, st->labels_joined, d->label_delay, d->final_waiting, st->labels_unmatched,
           st->labels_expired);
  if (st && st->skipped)
    printf("  lost            %" PRIu64 " records the embedded broker dropped before they were read (it keeps\n"
           "                  ~5 MB per partition; a real Kafka keeps them): try a lower --rate or fewer --events\n",
           st->skipped);
  if (st && st->latency.count)
    printf("  latency         p50 %.1f ms, p99 %.1f ms (record timestamp to prediction delivered)\n",
           eddy_hist_quantile(&st->latency, 0.5) * 1000, eddy_hist_quantile(&st->latency, 0.99) * 1000);
  printf("  learner         %s; try `eddy demo --learner NAME`, or a real broker with `eddy run -c configs/...`\n",
         d->learner);
}

int eddy_cmd_demo(int argc, char **argv) {
  demo_t d = {.events = 200000, .rate = 25000, .partitions = 2, .seed = 1, .http = "127.0.0.1:0"};
  d.acc_before = d.acc_min_after = d.acc_final = NAN;
  int rc = parse_args(&d, argc, argv);
  if (rc >= 0) return rc;
  signal(SIGPIPE, SIG_IGN);
  d.tty = isatty(1);
  d.drift_at = d.events / 2;
  const char *best = pick_learner();
  if (!d.learner) d.learner = best;
  eddy_log_set_level(EDDY_LOG_WARN); /* the view says what happens */
  eddy_config_t *cfg = start_broker(&d);
  if (!cfg) return 1;
  print_banner(&d, best);
  char err[2048];
  uv_loop_init(&d.loop);
  /* One thread: the demo reads its pipelines directly. */
  eddy_run_opts_t opts = {.on_alert = on_alert, .ctx = &d, .no_signals = 1, .threads = 1};
  d.run = eddy_run_new(&d.loop, &opts, cfg, err, sizeof err);
  rc = 1;
  if (!d.run) {
    fprintf(stderr, "eddy demo: %s\n", err);
  } else if (eddy_run_start(d.run, err, sizeof err)) {
    fprintf(stderr, "eddy demo: %s\n", err);
    uv_run(&d.loop, UV_RUN_DEFAULT);
  } else {
    run_demo(&d);
    print_summary(&d);
    if (d.producer_error[0]) fprintf(stderr, "eddy demo: producer: %s\n", d.producer_error);
    rc = d.producer_error[0] || eddy_run_status(d.run) ? 1 : 0;
    if (d.linger && !d.interrupted) linger(&d);
  }
  eddy_run_free(d.run);
  uv_loop_close(&d.loop);
  eddy_mock_broker_free(d.mb);
  return rc;
}
