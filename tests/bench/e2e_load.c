/* e2e_load.c: the load generator and prediction reader of
 * tests/bench/bench_e2e.sh (built by it: not a bench of its own).
 *
 *   e2e_load preload -b BOOTSTRAP -t TOPIC -n N
 *       produces N JSON records (10 numeric features x0..x9 and a binary
 *       label y from a fixed hyperplane, seeded) as fast as it can and
 *       waits for every delivery report
 *   e2e_load drain -b BOOTSTRAP -o TOPIC -n N
 *       reads N predictions from the beginning of TOPIC; prints the rate
 *       between the first and the last one received (the engine's rate
 *       when it started on a preloaded topic)
 *   e2e_load live -b BOOTSTRAP -t TOPIC -o TOPIC -n N [-r RATE]
 *       produces N records at RATE per second (0: as fast as possible)
 *       while reading the predictions; each prediction's latency is its
 *       arrival time minus its record's send time (found by the source
 *       partition and offset the prediction carries); prints records/s end
 *       to end and the latency percentiles
 *
 * Each prints one JSON line on stdout. Duplicated predictions (at-least-
 * once) count once. With E2E_KEYS=K, each record also carries "user", one
 * of K entity keys drawn at random, and is keyed by it (the partitioner
 * keeps an entity in one partition), for pipelines with aggregates. */
#define _GNU_SOURCE
#include <librdkafka/rdkafka.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_PARTITIONS 64

static const char *bootstrap, *in_topic, *out_topic;
static long n_records, n_keys;
static double rate;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const char *why) {
  fprintf(stderr, "e2e_load: %s: %s\n", what, why);
  exit(1);
}

/* Send times by source partition and offset (offsets start at 0: fresh
 * topics). */
typedef struct {
  double *t;
  uint8_t *seen;
  long cap;
} ptimes_t;
static ptimes_t sent[MAX_PARTITIONS];
static pthread_mutex_t sent_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_long delivered, received, dups;

static void record_sent(int32_t p, int64_t off, double t) {
  if (p < 0 || p >= MAX_PARTITIONS || off < 0) return;
  pthread_mutex_lock(&sent_lock);
  ptimes_t *s = &sent[p];
  if (off >= s->cap) {
    long cap = s->cap ? s->cap : 65536;
    while (cap <= off) cap *= 2;
    s->t = realloc(s->t, (size_t)cap * sizeof *s->t);
    s->seen = realloc(s->seen, (size_t)cap);
    for (long i = s->cap; i < cap; i++) {
      s->t[i] = NAN;
      s->seen[i] = 0;
    }
    s->cap = cap;
  }
  s->t[off] = t;
  pthread_mutex_unlock(&sent_lock);
}

static void on_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk;
  (void)opaque;
  if (m->err) die("delivery", rd_kafka_err2str(m->err));
  double t;
  memcpy(&t, &m->_private, sizeof t);
  record_sent(m->partition, m->offset, t);
  atomic_fetch_add(&delivered, 1);
}

static rd_kafka_t *make(rd_kafka_type_t type, const char *group) {
  char err[512];
  rd_kafka_conf_t *c = rd_kafka_conf_new();
  rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, err, sizeof err);
  if (type == RD_KAFKA_PRODUCER) {
    rd_kafka_conf_set(c, "linger.ms", getenv("E2E_LINGER_MS") ? getenv("E2E_LINGER_MS") : rate > 0 ? "1" : "5", err, sizeof err);
    rd_kafka_conf_set(c, "queue.buffering.max.messages", "2000000", err, sizeof err);
    rd_kafka_conf_set(c, "acks", "1", err, sizeof err);
    rd_kafka_conf_set_dr_msg_cb(c, on_dr);
  } else {
    rd_kafka_conf_set(c, "group.id", group, err, sizeof err);
    rd_kafka_conf_set(c, "enable.auto.commit", "false", err, sizeof err);
    /* The mock broker answers an empty fetch only after this wait; Kafka
     * answers as soon as records come (E2E_FETCH_WAIT_MS: its default). */
    rd_kafka_conf_set(c, "fetch.wait.max.ms", getenv("E2E_FETCH_WAIT_MS") ? getenv("E2E_FETCH_WAIT_MS") : "1",
                      err, sizeof err);
  }
  rd_kafka_t *rk = rd_kafka_new(type, c, err, sizeof err);
  if (!rk) die("rd_kafka_new", err);
  return rk;
}

/* A record: 10 features in [0, 1), the label of a fixed hyperplane (and
 * an entity key). */
static int format_record(char *buf, size_t size, uint64_t *s, char *key, int *key_len) {
  static const double w[10] = {0.9, -0.7, 0.5, -0.3, 0.8, -0.6, 0.4, -0.2, 0.3, -0.1};
  double x[10], dot = 0;
  for (int i = 0; i < 10; i++) {
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    x[i] = (double)(*s >> 11) / 9007199254740992.0;
    dot += w[i] * (x[i] - 0.5);
  }
  int n = 1;
  buf[0] = '{';
  *key_len = 0;
  if (n_keys > 0) {
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    *key_len = snprintf(key, 16, "u%06ld", (long)((*s >> 33) % (uint64_t)n_keys));
    n = snprintf(buf, size, "{\"user\":\"%s\",", key);
  }
  return n + snprintf(buf + n, size - (size_t)n,
                      "\"x0\":%.6f,\"x1\":%.6f,\"x2\":%.6f,\"x3\":%.6f,\"x4\":%.6f,\"x5\":%.6f,\"x6\":%.6f,"
                      "\"x7\":%.6f,\"x8\":%.6f,\"x9\":%.6f,\"y\":\"%d\"}",
                      x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9], dot > 0);
}

static double produce_all(void) {
  rd_kafka_t *p = make(RD_KAFKA_PRODUCER, NULL);
  rd_kafka_topic_t *t = rd_kafka_topic_new(p, in_topic, NULL);
  /* As fast as possible, records go round the partitions: even partitions
   * (the mock broker keeps ~5 MB a partition, and the sticky partitioner of
   * keyless records fills some far more than others over a short burst).
   * At a fixed rate the sticky partitioner makes batches worth fetching
   * (the mock answers a fetch with one batch per partition). */
  const rd_kafka_metadata_t *md;
  if (rd_kafka_metadata(p, 0, t, &md, 10000)) die("metadata", in_topic);
  int np = md->topic_cnt ? md->topics[0].partition_cnt : 0;
  rd_kafka_metadata_destroy(md);
  if (np <= 0) die("metadata", "no partitions");
  uint64_t seed = 42;
  char buf[512];
  double t0 = now(), next = t0;
  for (long i = 0; i < n_records; i++) {
    if (rate > 0) {
      next += 1.0 / rate;
      double d = next - now();
      if (d > 0.0002) {
        struct timespec ts = {0, (long)(d * 1e9)};
        nanosleep(&ts, NULL);
      }
    }
    char key[16];
    int key_len;
    int len = format_record(buf, sizeof buf, &seed, key, &key_len);
    double ts = now();
    void *op;
    memcpy(&op, &ts, sizeof op);
    int32_t part = rate > 0 || key_len ? RD_KAFKA_PARTITION_UA : (int32_t)(i % np);
    while (rd_kafka_produce(t, part, RD_KAFKA_MSG_F_COPY, buf, (size_t)len, key_len ? key : NULL, (size_t)key_len,
                            op)) {
      if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) die("produce", rd_kafka_err2str(rd_kafka_last_error()));
      rd_kafka_poll(p, 10);
    }
    if ((i & 255) == 0) rd_kafka_poll(p, 0);
  }
  while (rd_kafka_outq_len(p) > 0) rd_kafka_poll(p, 50);
  double dt = now() - t0;
  rd_kafka_topic_destroy(t);
  rd_kafka_destroy(p);
  return dt;
}

/* Reads "partition" and "offset" from a prediction. */
static int source_of(const char *s, size_t len, int32_t *p, int64_t *off) {
  const char *a = memmem(s, len, "\"partition\":", 12), *b = memmem(s, len, "\"offset\":", 9);
  if (!a || !b) return -1;
  *p = (int32_t)strtol(a + 12, NULL, 10);
  *off = strtoll(b + 9, NULL, 10);
  return 0;
}

static double *lat;
static long n_lat;
static double first_rx, last_rx;
static atomic_int stop_consumer;

static void *consume_thread(void *arg) {
  int live = *(int *)arg;
  rd_kafka_t *c = make(RD_KAFKA_CONSUMER, "e2e-load");
  const rd_kafka_metadata_t *md;
  rd_kafka_topic_t *t = rd_kafka_topic_new(c, out_topic, NULL);
  if (rd_kafka_metadata(c, 0, t, &md, 10000)) die("metadata", out_topic);
  int np = md->topic_cnt ? md->topics[0].partition_cnt : 0;
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(t);
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(np);
  for (int i = 0; i < np; i++) rd_kafka_topic_partition_list_add(l, out_topic, i)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(c, l);
  rd_kafka_topic_partition_list_destroy(l);
  lat = malloc((size_t)n_records * sizeof *lat);
  double progress = now();
  while (!atomic_load(&stop_consumer) && atomic_load(&received) < n_records) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
    if (!m) {
      if (now() - progress > 60) {
        fprintf(stderr, "e2e_load: no prediction for 60 s: %ld of %ld received\n", atomic_load(&received), n_records);
        break;
      }
      continue;
    }
    progress = now();
    if (!m->err) {
      double t = now();
      int32_t p;
      int64_t off;
      if (source_of(m->payload, m->len, &p, &off) == 0) {
        int fresh = 1;
        double st = NAN;
        if (p >= 0 && p < MAX_PARTITIONS) {
          pthread_mutex_lock(&sent_lock);
          ptimes_t *s = &sent[p];
          if (live && off >= 0 && off < s->cap) {
            fresh = !s->seen[off];
            s->seen[off] = 1;
            st = s->t[off];
          } else if (!live) {
            if (off >= s->cap) {
              pthread_mutex_unlock(&sent_lock);
              record_sent(p, off, NAN);
              pthread_mutex_lock(&sent_lock);
            }
            fresh = !s->seen[off];
            s->seen[off] = 1;
          }
          pthread_mutex_unlock(&sent_lock);
        }
        if (fresh) {
          long k = atomic_fetch_add(&received, 1);
          if (k == 0) first_rx = t;
          last_rx = t;
          if (live && !isnan(st) && n_lat < n_records) lat[n_lat++] = t - st;
        } else {
          atomic_fetch_add(&dups, 1);
        }
      }
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(c);
  rd_kafka_destroy(c);
  return NULL;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(double q) {
  if (!n_lat) return NAN;
  long i = (long)ceil(q * (double)n_lat) - 1;
  if (i < 0) i = 0;
  if (i >= n_lat) i = n_lat - 1;
  return lat[i] * 1000.0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: e2e_load preload|drain|live -b BOOTSTRAP [-t IN] [-o OUT] -n N [-r RATE]\n");
    return 2;
  }
  const char *mode = argv[1];
  int o;
  optind = 2;
  while ((o = getopt(argc, argv, "b:t:o:n:r:")) != -1) {
    switch (o) {
    case 'b': bootstrap = optarg; break;
    case 't': in_topic = optarg; break;
    case 'o': out_topic = optarg; break;
    case 'n': n_records = atol(optarg); break;
    case 'r': rate = atof(optarg); break;
    default: return 2;
    }
  }
  if (!bootstrap || n_records <= 0) return 2;
  if (getenv("E2E_KEYS")) n_keys = atol(getenv("E2E_KEYS"));
  if (!strcmp(mode, "preload")) {
    double dt = produce_all();
    printf("{\"produced\":%ld,\"seconds\":%.3f,\"records_per_second\":%.0f}\n", n_records, dt, n_records / dt);
    return 0;
  }
  int live = !strcmp(mode, "live");
  pthread_t th;
  pthread_create(&th, NULL, consume_thread, &live);
  double t0 = now(), produce_s = 0;
  if (live) {
    sleep(1); /* the reader is assigned before the first record goes */
    t0 = now();
    produce_s = produce_all();
  }
  pthread_join(th, NULL);
  qsort(lat, (size_t)n_lat, sizeof *lat, cmp);
  long got = atomic_load(&received);
  if (live) {
    double span = last_rx - t0;
    printf("{\"records\":%ld,\"predictions\":%ld,\"duplicates\":%ld,\"offered_rate\":%.0f,\"produce_seconds\":%.3f,"
           "\"end_to_end_seconds\":%.3f,\"records_per_second\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,"
           "\"max_ms\":%.3f}\n",
           n_records, got, atomic_load(&dups), rate, produce_s, span, got / span, pct(0.5), pct(0.99), pct(0.999),
           n_lat ? lat[n_lat - 1] * 1000 : NAN);
  } else {
    double span = last_rx - first_rx;
    printf("{\"predictions\":%ld,\"duplicates\":%ld,\"seconds\":%.3f,\"records_per_second\":%.0f}\n", got,
           atomic_load(&dups), span, span > 0 ? (got - 1) / span : 0);
  }
  return got >= n_records ? 0 : 1;
}
