/* cmd_alerts.c: `eddy alerts`: the drift alerts of a config's pipelines,
 * one line each or JSON lines, from the Redis stream every alert is
 * appended to (XRANGE; XREAD BLOCK to follow) or, for a pipeline without
 * Redis, from its [sink] alerts topic (a librdkafka consumer that reads
 * every partition from the beginning, or from --since, without joining a
 * group or committing anything). */
#define _GNU_SOURCE
#include <getopt.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connectors/connectors.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
#include "engine/cli/cli.h"

static const char usage[] =
    "usage: eddy alerts -c FILE.ini [--pipeline NAME] [--follow] [--since TIME] [--json]\n"
    "Lists drift alerts from the pipelines' Redis stream, or from the [sink] alerts topic\n"
    "when a pipeline keeps no state in Redis.\n"
    "  -c, --config FILE      pipeline configuration\n"
    "  -p, --pipeline NAME    only this pipeline (default: every pipeline of FILE)\n"
    "  -f, --follow           keep printing alerts as they come (Ctrl-C stops)\n"
    "  -s, --since TIME       only alerts from TIME on: epoch seconds, 2024-05-01,\n"
    "                         2024-05-01T12:00:00Z, or a duration ago: 90s, 15m, 2h, 7d\n"
    "  -j, --json             JSON lines (the alert as written) instead of text lines\n"
    "  -t, --timeout SECONDS  for connecting and each reply (default 5)\n";

static volatile sig_atomic_t stop_flag;
static void on_signal(int sig) {
  (void)sig;
  stop_flag = 1;
}

typedef struct opts {
  int follow, json;
  double since_ms; /* NAN: from the start */
  double timeout;
} opts_t;

/* ------------------------------------------------------------------ time */

/* "YYYY-MM-DD[THH:MM[:SS[.fff]]][Z]" (UTC) in epoch seconds; -1 if not. */
static int parse_iso(const char *s, double *out) {
  int y, mo, d, h = 0, mi = 0, n = 0;
  double sec = 0;
  if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3) return -1;
  const char *p = s + n;
  if (*p == 'T' || *p == ' ') {
    int m = 0;
    if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &m) != 2) return -1;
    p += 1 + m;
    if (*p == ':') {
      char *end;
      sec = strtod(p + 1, &end);
      if (end == p + 1) return -1;
      p = end;
    }
  }
  if (*p == 'Z') p++;
  if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec < 0 || sec >= 61) return -1;
  struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
  *out = (double)timegm(&tm) + sec;
  return 0;
}

/* --since: epoch seconds, an ISO date/time, or a duration ago. */
static int parse_since(const char *s, double now, double *ms) {
  size_t len = strlen(s);
  double v;
  if (len > 1 && strchr("smhd", s[len - 1])) {
    char num[64];
    if (len >= sizeof num) return -1;
    memcpy(num, s, len - 1);
    num[len - 1] = '\0';
    if (eddy_parse_double(num, &v) || v < 0) return -1;
    double unit = s[len - 1] == 's' ? 1 : s[len - 1] == 'm' ? 60 : s[len - 1] == 'h' ? 3600 : 86400;
    *ms = (now - v * unit) * 1000;
    return 0;
  }
  if (!eddy_parse_double(s, &v)) {
    *ms = fabs(v) >= 1e11 ? v : v * 1000; /* milliseconds already, or seconds */
    return 0;
  }
  if (!parse_iso(s, &v)) {
    *ms = v * 1000;
    return 0;
  }
  return -1;
}

/* --------------------------------------------------------------- output */

static const char *jstr(json_t *o, const char *k) {
  json_t *v = json_object_get(o, k);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

static double jnum(json_t *o, const char *k, double def) {
  json_t *v = json_object_get(o, k);
  return json_is_number(v) ? json_number_value(v) : def;
}

/* Prints one alert given as JSON; `when` (epoch s, NAN if unknown) stands
 * in for its time field. */
static void print_alert(const char *text, size_t len, double when, const opts_t *o) {
  if (o->json) {
    fwrite(text, 1, len, stdout);
    fputc('\n', stdout);
    return;
  }
  json_error_t je;
  json_t *j = json_loadb(text, len, 0, &je);
  if (!json_is_object(j)) {
    printf("(not an alert: %.*s)\n", (int)(len > 200 ? 200 : len), text);
    json_decref(j);
    return;
  }
  eddy_alert_t a = {
      .pipeline = jstr(j, "pipeline") ? jstr(j, "pipeline") : "?",
      .partition = (int32_t)jnum(j, "partition", -1),
      .offset = (int64_t)jnum(j, "offset", -1),
      .index = (uint64_t)jnum(j, "index", 0),
      .detector = jstr(j, "detector") ? jstr(j, "detector") : "?",
      .kind = jstr(j, "kind") ? jstr(j, "kind") : "?",
      .statistic = jnum(j, "statistic", NAN),
      .threshold = jnum(j, "threshold", NAN),
      .feature = jstr(j, "feature"),
      .action = jstr(j, "action") ? jstr(j, "action") : "none",
      .version_before = (uint64_t)jnum(j, "version_before", 0),
      .version_after = (uint64_t)jnum(j, "version_after", 0),
      .time = when,
  };
  double t;
  if (isnan(a.time)) a.time = jstr(j, "time") && !parse_iso(jstr(j, "time"), &t) ? t : 0;
  eddy_buf_t b;
  eddy_buf_init(&b);
  eddy_alert_text(&a, &b);
  fwrite(b.data, 1, b.len, stdout);
  fputc('\n', stdout);
  eddy_buf_free(&b);
  json_decref(j);
}

/* ---------------------------------------------------------------- Redis */

/* Prints the entries of an XRANGE/XREAD entry list; keeps the last id. */
static size_t print_entries(const redisReply *list, char *last_id, size_t id_size, const opts_t *o) {
  size_t n = 0;
  for (size_t i = 0; list && list->type == REDIS_REPLY_ARRAY && i < list->elements; i++) {
    const redisReply *e = list->element[i];
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2) continue;
    snprintf(last_id, id_size, "%s", e->element[0]->str);
    const redisReply *f = e->element[1];
    const char *json = NULL;
    size_t json_len = 0;
    double when = NAN;
    for (size_t k = 0; f->type == REDIS_REPLY_ARRAY && k + 1 < f->elements; k += 2) {
      if (!strcmp(f->element[k]->str, "json")) {
        json = f->element[k + 1]->str;
        json_len = f->element[k + 1]->len;
      } else if (!strcmp(f->element[k]->str, "time")) {
        eddy_parse_double(f->element[k + 1]->str, &when);
      }
    }
    if (json) {
      print_alert(json, json_len, when, o);
      n++;
    }
  }
  fflush(stdout);
  return n;
}

typedef struct rstream {
  char key[512];
  char last[96]; /* the id to read after */
} rstream_t;

static int redis_alerts(const char *url, rstream_t *st, size_t n_st, const opts_t *o) {
  char err[1024];
  redisContext *c = eddy_redis_connect_sync(url, o->timeout, err, sizeof err);
  if (!c) {
    fprintf(stderr, "eddy alerts: %s\n", err);
    return 1;
  }
  for (size_t s = 0; s < n_st; s++) {
    char start[90];
    if (isnan(o->since_ms))
      snprintf(start, sizeof start, "-");
    else
      snprintf(start, sizeof start, "%.0f-0", o->since_ms < 0 ? 0 : floor(o->since_ms));
    snprintf(st[s].last, sizeof st[s].last, "%s", strcmp(start, "-") ? start : "0-0");
    for (;;) {
      redisReply *r = eddy_redis_sync_command(c, "XRANGE %s %s + COUNT 1000", st[s].key, start);
      if (!r || r->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "eddy alerts: %s: %s\n", st[s].key, r ? r->str : c->errstr);
        if (r) freeReplyObject(r);
        eddy_redis_sync_free(c);
        return 1;
      }
      size_t got = r->elements;
      print_entries(r, st[s].last, sizeof st[s].last, o);
      freeReplyObject(r);
      if (got < 1000) break;
      snprintf(start, sizeof start, "(%s", st[s].last); /* exclusive: after the last one */
    }
  }
  if (!o->follow) {
    eddy_redis_sync_free(c);
    return 0;
  }
  /* XREAD BLOCK in 1 s rounds, so that Ctrl-C is noticed. */
  struct timeval tv = {(time_t)o->timeout + 2, 0};
  redisSetTimeout(c, tv);
  const char **argv = calloc(4 + 2 * n_st, sizeof *argv);
  int rc = 0;
  /* On a Redis Cluster the streams lie in different slots: one XREAD
   * per stream, in turn, sharing the second. */
  int one = eddy_redis_sync_is_cluster(c) && n_st > 1;
  char block[16];
  snprintf(block, sizeof block, "%d", one ? (int)(1000 / n_st > 50 ? 1000 / n_st : 50) : 1000);
  for (size_t round = 0; !stop_flag; round++) {
    int k = 0;
    argv[k++] = "XREAD";
    argv[k++] = "BLOCK";
    argv[k++] = block;
    argv[k++] = "STREAMS";
    size_t from = one ? round % n_st : 0, to = one ? from + 1 : n_st;
    for (size_t s = from; s < to; s++) argv[k++] = st[s].key;
    for (size_t s = from; s < to; s++) argv[k++] = st[s].last;
    redisReply *r = eddy_redis_sync_argv(c, k, argv, NULL);
    if (!r) {
      if (stop_flag) break;
      char shown[600];
      fprintf(stderr, "eddy alerts: %s: %s\n", eddy_redis_url_mask(url, shown, sizeof shown), c->errstr);
      rc = 1;
      break;
    }
    if (r->type == REDIS_REPLY_ARRAY) {
      for (size_t i = 0; i < r->elements; i++) {
        const redisReply *sr = r->element[i];
        if (sr->type != REDIS_REPLY_ARRAY || sr->elements != 2) continue;
        for (size_t s = 0; s < n_st; s++)
          if (!strcmp(sr->element[0]->str, st[s].key))
            print_entries(sr->element[1], st[s].last, sizeof st[s].last, o);
      }
    } else if (r->type == REDIS_REPLY_ERROR) {
      fprintf(stderr, "eddy alerts: %s\n", r->str);
      rc = 1;
      freeReplyObject(r);
      break;
    }
    freeReplyObject(r);
  }
  free(argv);
  eddy_redis_sync_free(c);
  return rc;
}

/* ---------------------------------------------------------------- Kafka */

/* An alert record's time in ms: its own "time", else the record's
 * timestamp (NAN: neither). */
static double alert_ms(const rd_kafka_message_t *m) {
  json_error_t je;
  json_t *j = json_loadb(m->payload, m->len, 0, &je);
  double t, ms = NAN;
  if (json_is_object(j) && jstr(j, "time") && !parse_iso(jstr(j, "time"), &t)) ms = t * 1000.0;
  json_decref(j);
  if (isnan(ms)) {
    int64_t ts = rd_kafka_message_timestamp(m, NULL);
    if (ts >= 0) ms = (double)ts;
  }
  return ms;
}

/* A consumer for pc's alerts topic: pc's [kafka] keys, never joining a
 * group (its partitions are assigned). NULL: the error was printed. */
static rd_kafka_t *alerts_consumer(const eddy_pipeline_conf_t *pc) {
  char err[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  int has_bootstrap = 0;
  for (size_t i = 0; i < pc->kafka.n; i++) {
    const eddy_kv_t *kv = &pc->kafka.v[i];
    if (!strcmp(kv->key, "bootstrap.servers")) has_bootstrap = 1;
    if (!strcmp(kv->key, "group.id") || !strcmp(kv->key, "enable.auto.commit")) continue;
    if (rd_kafka_conf_set(conf, kv->key, kv->value, err, sizeof err) != RD_KAFKA_CONF_OK) {
      char shown[sizeof err];
      fprintf(stderr, "eddy alerts: %s:%d: [kafka] %s: %s\n", kv->file ? kv->file : pc->file, kv->line,
              kv->key, eddy_kafka_scrub(pc, err, shown, sizeof shown));
      rd_kafka_conf_destroy(conf);
      return NULL;
    }
  }
  char group[200];
  snprintf(group, sizeof group, "eddy-alerts.%s", pc->pipeline.name);
  const char *fixed[][2] = {{"bootstrap.servers", "127.0.0.1:9092"},
                            {"group.id", group}, /* never joined: partitions are assigned */
                            {"enable.auto.commit", "false"},
                            {"enable.partition.eof", "true"},
                            {"auto.offset.reset", "earliest"}};
  for (size_t i = has_bootstrap ? 1 : 0; i < sizeof fixed / sizeof fixed[0]; i++)
    rd_kafka_conf_set(conf, fixed[i][0], fixed[i][1], err, sizeof err);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk) fprintf(stderr, "eddy alerts: %s\n", err);
  return rk;
}

/* Assigns every partition of topic from the beginning or from --since.
 * *n: the partitions; *filter (calloc'd, n + 1 bytes, the caller frees):
 * 1 for those read from the beginning whose alerts are kept by their own
 * time. Returns the assignment (the caller destroys it), NULL on error. */
static rd_kafka_topic_partition_list_t *alerts_assign(rd_kafka_t *rk, rd_kafka_topic_t *rkt, const char *topic,
                                                      const opts_t *o, int *n, char **filter) {
  int tmo = (int)(o->timeout * 1000);
  const struct rd_kafka_metadata *md = NULL;
  rd_kafka_topic_partition_list_t *parts = NULL;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, tmo);
  if (e || md->topic_cnt != 1 || md->topics[0].err) {
    fprintf(stderr, "eddy alerts: topic %s: %s\n", topic,
            e ? rd_kafka_err2str(e) : md->topic_cnt ? rd_kafka_err2str(md->topics[0].err) : "not found");
    goto fail;
  }
  *n = md->topics[0].partition_cnt;
  parts = rd_kafka_topic_partition_list_new(*n);
  for (int p = 0; p < *n; p++)
    rd_kafka_topic_partition_list_add(parts, topic, md->topics[0].partitions[p].id)->offset =
        isnan(o->since_ms) ? RD_KAFKA_OFFSET_BEGINNING : (int64_t)o->since_ms;
  /* --since: each partition from the first offset at or after the time.
   * A partition the broker finds no offset for (none that late on Kafka;
   * eddy broker's mock cluster finds none ever) is read from its beginning,
   * its alerts kept by their own time. */
  if (!(*filter = calloc((size_t)*n + 1, 1))) goto fail;
  if (!isnan(o->since_ms)) {
    e = rd_kafka_offsets_for_times(rk, parts, tmo);
    if (e)
      fprintf(stderr, "eddy alerts: topic %s: the broker cannot look offsets up by time (%s): reading from "
              "the beginning, keeping the alerts at or after --since\n", topic, rd_kafka_err2str(e));
    for (int p = 0; p < parts->cnt; p++)
      if (e || parts->elems[p].offset < 0 || parts->elems[p].err) {
        parts->elems[p].offset = RD_KAFKA_OFFSET_BEGINNING;
        parts->elems[p].err = RD_KAFKA_RESP_ERR_NO_ERROR;
        if (parts->elems[p].partition >= 0 && parts->elems[p].partition < *n)
          (*filter)[parts->elems[p].partition] = 1;
      }
  }
  if ((e = rd_kafka_assign(rk, parts))) {
    fprintf(stderr, "eddy alerts: topic %s: %s\n", topic, rd_kafka_err2str(e));
    goto fail;
  }
  rd_kafka_metadata_destroy(md);
  return parts;
fail:
  if (parts) rd_kafka_topic_partition_list_destroy(parts);
  if (md) rd_kafka_metadata_destroy(md);
  return NULL;
}

/* Prints the assigned partitions' alerts until each is at its end (or,
 * with --follow, until a signal). 0, or 1 when the broker stopped answering. */
static int alerts_read(rd_kafka_t *rk, const char *topic, int n, const char *filter, const opts_t *o) {
  int at_end = 0, rc = 0;
  char *eof = calloc((size_t)n + 1, 1);
  if (!eof) return 1;
  double last_progress = eddy_now();
  while (!stop_flag) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
    if (!m) {
      /* No EOF ever came (e.g. the broker went away): give up unless following. */
      if (!o->follow && eddy_now() - last_progress > o->timeout) {
        fprintf(stderr, "eddy alerts: topic %s: no answer within %.0f s\n", topic, o->timeout);
        rc = 1;
        break;
      }
      continue;
    }
    last_progress = eddy_now();
    int ours = m->partition >= 0 && m->partition < n;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (ours && !eof[m->partition]) {
        eof[m->partition] = 1;
        at_end++;
      }
    } else if (m->err) {
      fprintf(stderr, "eddy alerts: topic %s: %s\n", topic, rd_kafka_message_errstr(m));
    } else {
      if (ours && eof[m->partition]) {
        eof[m->partition] = 0;
        at_end--;
      }
      if (!(ours && filter[m->partition]) || alert_ms(m) >= o->since_ms) {
        print_alert(m->payload, m->len, NAN, o);
        fflush(stdout);
      }
    }
    rd_kafka_message_destroy(m);
    if (!o->follow && at_end == n) break;
  }
  free(eof);
  return rc;
}

static int kafka_alerts(const eddy_pipeline_conf_t *pc, const opts_t *o) {
  const char *topic = pc->sink.alerts;
  rd_kafka_t *rk = alerts_consumer(pc);
  if (!rk) return 1;
  int rc = 1, n = 0;
  char *filter = NULL;
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
  rd_kafka_topic_partition_list_t *parts = alerts_assign(rk, rkt, topic, o, &n, &filter);
  if (parts) {
    rc = alerts_read(rk, topic, n, filter, o);
    rd_kafka_topic_partition_list_destroy(parts);
  }
  free(filter);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return rc;
}

/* ------------------------------------------------------------------ main */

/* The pipelines to read (--pipeline, or all) into sel: those with a
 * Redis store (grouped by server later: one XREAD follows them all) or an
 * alerts topic. 0; 1 when one has neither (said, the others are read); 2
 * when --follow would need more than one source. */
static int select_pipelines(const eddy_config_t *cfg, const char *only, const opts_t *o,
                            const eddy_pipeline_conf_t **sel, size_t *n_sel) {
  size_t n = 0, kafka = 0;
  int rc = 0;
  for (size_t i = 0; i < cfg->n_pipelines && n < 256; i++) {
    const eddy_pipeline_conf_t *pc = &cfg->pipelines[i];
    if (only && strcmp(pc->pipeline.name, only) != 0) continue;
    if (!eddy_store_is_redis(pc) && !(pc->sink.alerts && *pc->sink.alerts)) {
      fprintf(stderr, "eddy alerts: pipeline %s has neither a Redis store nor a [sink] alerts topic\n",
              pc->pipeline.name);
      rc = 1;
      continue;
    }
    kafka += !eddy_store_is_redis(pc);
    sel[n++] = pc;
  }
  *n_sel = n;
  int redis_urls = 0;
  for (size_t i = 0; i < n; i++) {
    if (!eddy_store_is_redis(sel[i])) continue;
    int seen = 0;
    for (size_t j = 0; j < i; j++)
      if (eddy_store_is_redis(sel[j]) && !strcmp(sel[j]->state.store, sel[i]->state.store)) seen = 1;
    redis_urls += !seen;
  }
  if (o->follow && (redis_urls + kafka > 1)) {
    fprintf(stderr, "eddy alerts: --follow reads one source: these pipelines use %d; choose one with --pipeline\n",
            redis_urls + (int)kafka);
    return 2;
  }
  return rc;
}

int eddy_cmd_alerts(int argc, char **argv) {
  static const struct option longopts[] = {{"config", required_argument, 0, 'c'},
                                            {"pipeline", required_argument, 0, 'p'},
                                            {"follow", no_argument, 0, 'f'},
                                            {"since", required_argument, 0, 's'},
                                            {"json", no_argument, 0, 'j'},
                                            {"timeout", required_argument, 0, 't'},
                                            {"help", no_argument, 0, 'h'},
                                            {0, 0, 0, 0}};
  const char *path = NULL, *only = NULL;
  opts_t o = {.since_ms = NAN, .timeout = 5};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "c:p:fs:jt:h", longopts, NULL)) != -1) {
    switch (c) {
    case 'c': path = optarg; break;
    case 'p': only = optarg; break;
    case 'f': o.follow = 1; break;
    case 'j': o.json = 1; break;
    case 's':
      if (parse_since(optarg, eddy_wallclock(), &o.since_ms)) {
        fprintf(stderr, "eddy alerts: --since '%s': expected epoch seconds, YYYY-MM-DD[THH:MM:SS], or 15m, 2h, 7d\n",
                optarg);
        return 2;
      }
      break;
    case 't':
      if (eddy_parse_double(optarg, &o.timeout) || !(o.timeout > 0)) {
        fprintf(stderr, "eddy alerts: --timeout wants seconds > 0\n");
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
  eddy_config_t *cfg = eddy__cmd_config("alerts", path, only);
  if (!cfg) return 1;
  const eddy_pipeline_conf_t *sel[256];
  size_t n = 0;
  int rc = select_pipelines(cfg, only, &o, sel, &n);
  if (rc == 2) {
    eddy_config_free(cfg);
    return 2;
  }
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  for (size_t i = 0; i < n && !stop_flag; i++) {
    const eddy_pipeline_conf_t *pc = sel[i];
    if (!eddy_store_is_redis(pc)) {
      rc |= kafka_alerts(pc, &o);
      continue;
    }
    int first = 1;
    for (size_t j = 0; j < i; j++)
      if (eddy_store_is_redis(sel[j]) && !strcmp(sel[j]->state.store, pc->state.store)) first = 0;
    if (!first) continue; /* done with the first pipeline on this server */
    rstream_t st[256];
    size_t m = 0;
    for (size_t j = i; j < n; j++)
      if (eddy_store_is_redis(sel[j]) && !strcmp(sel[j]->state.store, pc->state.store))
        eddy_alerts_key(st[m++].key, sizeof st[0].key, sel[j]->state.key_prefix, sel[j]->pipeline.name);
    rc |= redis_alerts(pc->state.store, st, m, &o);
  }
  eddy_config_free(cfg);
  return rc;
}
