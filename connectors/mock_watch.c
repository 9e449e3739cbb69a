/* mock_watch.c: `eddy broker`'s eviction watch. librdkafka's mock cluster
 * keeps ~5 MB (or 100,000 batches) per partition and drops the oldest
 * records beyond that without a word; a thread with its own client reads
 * every partition's low watermark every couple of seconds and logs how many
 * records each topic lost, so that nobody mistakes it for Kafka. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "connectors/connectors.h"

#define WATCH_MAX_PARTITIONS 4096 /* partitions followed in all */

typedef struct {
  char *topic;
  int32_t partition;
  int64_t lo; /* the low watermark last seen */
} seen_t;

struct eddy_mock_watch {
  rd_kafka_t *rk;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int stop;
  double interval;
  seen_t *seen;
  size_t n_seen;
};

static void quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
  (void)rk, (void)level, (void)fac, (void)buf; /* a broker set down by a test is no news */
}

static seen_t *find(eddy_mock_watch_t *w, const char *topic, int32_t partition) {
  for (size_t i = 0; i < w->n_seen; i++)
    if (w->seen[i].partition == partition && !strcmp(w->seen[i].topic, topic)) return &w->seen[i];
  if (w->n_seen == WATCH_MAX_PARTITIONS || !(topic = strdup(topic))) return NULL;
  w->seen[w->n_seen] = (seen_t){(char *)topic, partition, 0}; /* a mock partition starts at 0 */
  return &w->seen[w->n_seen++];
}

static int stopping(eddy_mock_watch_t *w) {
  pthread_mutex_lock(&w->lock);
  int s = w->stop;
  pthread_mutex_unlock(&w->lock);
  return s;
}

/* One pass over every topic (internal ones aside): one line per topic that
 * lost records since the last pass. */
static void pass(eddy_mock_watch_t *w) {
  const rd_kafka_metadata_t *md = NULL;
  if (rd_kafka_metadata(w->rk, 1, NULL, &md, 2000) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
  for (int i = 0; i < md->topic_cnt && !stopping(w); i++) {
    const rd_kafka_metadata_topic_t *t = &md->topics[i];
    if (t->err || !strncmp(t->topic, "__", 2)) continue;
    uint64_t dropped = 0;
    char where[256] = "";
    size_t n = 0;
    for (int p = 0; p < t->partition_cnt; p++) {
      int64_t lo, hi;
      seen_t *s = find(w, t->topic, t->partitions[p].id);
      if (!s || rd_kafka_query_watermark_offsets(w->rk, t->topic, t->partitions[p].id, &lo, &hi, 1000) ||
          lo <= s->lo)
        continue;
      dropped += (uint64_t)(lo - s->lo);
      if (n < sizeof where - 64)
        n += (size_t)snprintf(where + n, sizeof where - n, "%spartition %d now starts at offset %" PRId64, n ? ", " : "",
                              (int)t->partitions[p].id, lo);
      s->lo = lo;
    }
    if (dropped)
      eddy_log(EDDY_LOG_WARN,
               "eddy broker: topic %s: dropped its %" PRIu64 " oldest records (%s): this "
               "broker keeps ~5 MB per partition; a real Kafka keeps them for its retention time",
               t->topic, dropped, where);
  }
  rd_kafka_metadata_destroy(md);
}

static void *run(void *arg) {
  eddy_mock_watch_t *w = arg;
  pthread_mutex_lock(&w->lock);
  while (!w->stop) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double at = (double)ts.tv_sec + ts.tv_nsec / 1e9 + w->interval;
    ts.tv_sec = (time_t)at;
    ts.tv_nsec = (long)((at - (double)ts.tv_sec) * 1e9);
    pthread_cond_timedwait(&w->cond, &w->lock, &ts);
    if (w->stop) break;
    pthread_mutex_unlock(&w->lock);
    pass(w);
    pthread_mutex_lock(&w->lock);
  }
  pthread_mutex_unlock(&w->lock);
  return NULL;
}

eddy_mock_watch_t *eddy_mock_watch_new(const char *bootstraps, double interval, char *errstr,
                                       size_t errstr_size) {
  eddy_mock_watch_t *w = calloc(1, sizeof *w);
  if (w) w->seen = calloc(WATCH_MAX_PARTITIONS, sizeof *w->seen);
  if (!w || !w->seen) {
    if (w) free(w);
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    return NULL;
  }
  w->interval = interval;
  char e[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set_log_cb(conf, quiet_log);
  if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, e, sizeof e) ||
      rd_kafka_conf_set(conf, "client.id", "eddy-broker-watch", e, sizeof e) ||
      rd_kafka_conf_set(conf, "allow.auto.create.topics", "false", e, sizeof e) ||
      !(w->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof e))) {
    rd_kafka_conf_destroy(conf);
    eddy_seterr(errstr, errstr_size, EDDY_EIO, "eviction watch: %s", e);
    free(w->seen);
    free(w);
    return NULL;
  }
  pthread_mutex_init(&w->lock, NULL);
  pthread_cond_init(&w->cond, NULL);
  if (pthread_create(&w->thread, NULL, run, w)) {
    eddy_seterr(errstr, errstr_size, EDDY_EIO, "eviction watch: cannot start its thread");
    rd_kafka_destroy(w->rk);
    free(w->seen);
    free(w);
    return NULL;
  }
  return w;
}

void eddy_mock_watch_free(eddy_mock_watch_t *w) {
  if (!w) return;
  pthread_mutex_lock(&w->lock);
  w->stop = 1;
  pthread_cond_signal(&w->cond);
  pthread_mutex_unlock(&w->lock);
  pthread_join(w->thread, NULL);
  rd_kafka_destroy(w->rk);
  for (size_t i = 0; i < w->n_seen; i++) free(w->seen[i].topic);
  free(w->seen);
  pthread_mutex_destroy(&w->lock);
  pthread_cond_destroy(&w->cond);
  free(w);
}
