/* verify.c: the offline verifier of `eddy verify` (see verify.h). One
 * pipeline at a time:
 *
 *  1. each input partition is read from its first offset to its high
 *     watermark, one partition at a time, and every record is replayed
 *     through the pipeline's own record path (eddy_pipeline_replay: decode,
 *     validate, state join on a fresh memory store, predict, learn, drift)
 *     in a fresh model: whether it decodes is what the run decided, and
 *     the model as it stands at a checkpoint's next offset is compared
 *     byte for byte with the checkpoint read from Redis;
 *  2. the predictions, dead-letter and alerts topics are read to their
 *     ends; every output is matched to the offset it names.
 *
 * Memory is bounded by one byte per input offset (what the record is, and
 * saturating counts of its predictions and dead letters), plus, for each
 * record that does not decode, 40 bytes of hashes to check its dead letter
 * against; records are streamed, never kept. */
#define _GNU_SOURCE
#include "engine/verify/verify.h"

#include <avro.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <regex.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "connectors/connectors.h"
#include "engine/stream/stream.h"

/* One byte per input offset. */
enum { IN_NONE = 0, IN_GOOD = 1, IN_BAD = 2, IN_LABEL = 3 /* a label joined: no output due */ };
#define IN_MASK 3u
#define PRED_SHIFT 2
#define DLQ_SHIFT 5
#define COUNT_MAX 7u

/* A dead letter's cut (pipeline_output.c): a value the producer cannot carry
 * goes with its first 64 KiB. */
#define DLQ_PREFIX_BYTES 65536

/* A record that does not decode: what its dead letter must carry. */
typedef struct bad {
  int64_t offset;
  uint64_t key_hash, value_hash, prefix_hash, hdr_hash;
  uint64_t len;
  int has_key;
} bad_t;

typedef struct vpart {
  char *topic;
  int32_t partition;
  int64_t lo, hi; /* watermarks when read */
  uint8_t *st;    /* hi - lo bytes */
  bad_t *bad;
  size_t n_bad, cap_bad;
  int64_t first_dup; /* the first offset with a second prediction, -1 none */
} vpart_t;

typedef struct ver {
  const eddy_pipeline_conf_t *c;
  const eddy_verify_opts_t *o;
  eddy_verify_result_t *r;
  rd_kafka_t *rk;
  rd_kafka_t *ru; /* exactly once: a read_uncommitted consumer for the outputs' high watermarks */
  int tmo_ms;
  /* Kafka refused the credentials (set on librdkafka's threads): why. */
  atomic_int auth_claimed, auth_refused;
  char auth_why[512];
  vpart_t *parts;
  size_t n_parts, cap_parts;
  eddy_pipeline_t *pl;
  eddy_buf_t model;
  /* Avro predictions ([sink] format = avro): their writer schema. */
  avro_schema_t avsc;
  avro_value_iface_t *aiface;
  avro_value_t aval;
  avro_reader_t areader;
  int aval_made;
  /* The replay in hand. */
  vpart_t *cur;
  eddy_ptask_t *task;
  int64_t ck_offset; /* the partition's checkpoint (-1: none) */
  int64_t ck_label_offset; /* its label partition's next offset (-1: none, or before format 2) */
  const eddy_ckpt_t *ck;
  int ck_done;
  char ck_key[512];
  /* Labels not joined, by the stage their dead letter is due with
   * (pipeline_labels.c: size, decode, else label). */
  uint64_t labels_size, labels_decode;
} ver_t;

static void say(ver_t *v, const char *fmt, ...) EDDY_PRINTF(2, 3);
static void say(ver_t *v, const char *fmt, ...) {
  if (!v->o->out) return;
  va_list ap;
  va_start(ap, fmt);
  fputs("verify: ", v->o->out);
  vfprintf(v->o->out, fmt, ap);
  fputc('\n', v->o->out);
  va_end(ap);
  fflush(v->o->out);
}

/* Records a violation; the first one is kept and printed. */
static void violation(ver_t *v, const char *fmt, ...) EDDY_PRINTF(2, 3);
static void violation(ver_t *v, const char *fmt, ...) {
  if (v->r->violated) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(v->r->violation, sizeof v->r->violation, fmt, ap);
  va_end(ap);
  v->r->violated = 1;
  say(v, "VIOLATION: %s", v->r->violation);
}

static void sha256_hex(const void *p, size_t len, char *hex) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  hex[0] = '\0';
  if (!EVP_Digest(p, len, md, &n, EVP_sha256(), NULL)) return;
  for (unsigned i = 0; i < n; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* ------------------------------------------------------------------ Kafka */

/* librdkafka's lines on stderr as its own logger prints them, less any
 * secret [kafka] value; a refused login is kept for kafka_login. Called
 * on librdkafka's threads. */
static void ver_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
  ver_t *v = rd_kafka_opaque(rk);
  char shown[1024];
  buf = eddy_kafka_scrub(v->c, buf, shown, sizeof shown);
  if (eddy_kafka_auth_refused(buf) && !atomic_exchange(&v->auth_claimed, 1)) {
    snprintf(v->auth_why, sizeof v->auth_why, "%s", buf);
    atomic_store(&v->auth_refused, 1);
  }
  fprintf(stderr, "%%%d|%s|%s| %s\n", level, fac, rd_kafka_name(rk), buf);
}

/* Waits until a broker answers (up to the timeout), failing at once with
 * a clear error when Kafka refuses the credentials, rather than after the
 * timeout with "Broker transport failure". */
static int kafka_login(ver_t *v, char *errstr, size_t errstr_size) {
  double deadline = eddy_now() + v->tmo_ms / 1000.0;
  rd_kafka_resp_err_t e;
  do {
    const struct rd_kafka_metadata *md = NULL;
    e = rd_kafka_metadata(v->rk, 0, NULL, &md, 500);
    if (md) rd_kafka_metadata_destroy(md);
    if (atomic_load(&v->auth_refused)) {
      const char *bs = eddy_kafka_get(v->c, "bootstrap.servers");
      return eddy_seterr(errstr, errstr_size, EDDY_EIO, "Kafka authentication failed at %s: %s (check [kafka] "
                         "sasl.mechanisms, sasl.username and sasl.password)", bs ? bs : "?", v->auth_why);
    }
  } while (e && eddy_now() < deadline);
  return 0; /* a broker away is reported by the first read, as before */
}

static rd_kafka_t *consumer_new(ver_t *v, int uncommitted, char *errstr, size_t errstr_size) {
  const eddy_pipeline_conf_t *c = v->c;
  rd_kafka_conf_t *conf = eddy_kafka_conf(c, EDDY_KAFKA_CONSUMER, errstr, errstr_size);
  if (!conf) return NULL;
  rd_kafka_conf_set_opaque(conf, v);
  rd_kafka_conf_set_log_cb(conf, ver_log);
  char group[200], msg[256];
  /* Never joined (partitions are assigned) nor committed. */
  snprintf(group, sizeof group, "eddy-verify.%s", c->pipeline.name);
  const char *fixed[][2] = {{"group.id", group},
                            {"enable.auto.commit", "false"},
                            {"enable.partition.eof", "true"},
                            {"auto.offset.reset", "earliest"},
                            {"isolation.level", uncommitted ? "read_uncommitted"
                                                : c->pipeline.guarantee == EDDY_EXACTLY_ONCE ? "read_committed"
                                                                                             : NULL}};
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
    if (fixed[i][1] && rd_kafka_conf_set(conf, fixed[i][0], fixed[i][1], msg, sizeof msg) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "kafka %s: %s", fixed[i][0], msg);
      return NULL;
    }
  /* Read-ahead bounded by bytes (one partition's input is read at a time),
   * not by librdkafka's 100,000 messages, which halves the speed of small
   * records (1.3 s instead of 4.2 s for 1,000,000 on a local broker). */
  if (!eddy_kvlist_get(&c->kafka, "queued.max.messages.kbytes"))
    rd_kafka_conf_set(conf, "queued.max.messages.kbytes", "16384", msg, sizeof msg);
  if (!eddy_kvlist_get(&c->kafka, "queued.min.messages"))
    rd_kafka_conf_set(conf, "queued.min.messages", "1000000", msg, sizeof msg);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, msg, sizeof msg);
  if (!rk) {
    char shown[sizeof msg];
    eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "kafka: %s", eddy_kafka_scrub(c, msg, shown, sizeof shown));
    return NULL;
  }
  rd_kafka_poll_set_consumer(rk);
  return rk;
}

/* The partitions of topic; a negative code when it is not there. */
static int topic_partitions(ver_t *v, const char *topic, int32_t **ids, char *errstr, size_t errstr_size) {
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(v->rk, topic, NULL);
  const struct rd_kafka_metadata *md = NULL;
  rd_kafka_resp_err_t e = rkt ? rd_kafka_metadata(v->rk, 0, rkt, &md, v->tmo_ms) : RD_KAFKA_RESP_ERR__FAIL;
  int n = -1;
  if (e) {
    eddy_seterr(errstr, errstr_size, EDDY_EIO, "topic %s: metadata: %s", topic, rd_kafka_err2str(e));
  } else if (md->topic_cnt != 1 || md->topics[0].err) {
    eddy_seterr(errstr, errstr_size, EDDY_EIO, "topic %s: %s", topic,
                md->topic_cnt ? rd_kafka_err2str(md->topics[0].err) : "not found");
    if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) n = EDDY_ENOENT;
  } else if (!(*ids = malloc(sizeof **ids * (size_t)(md->topics[0].partition_cnt + 1)))) {
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  } else {
    n = md->topics[0].partition_cnt;
    for (int i = 0; i < n; i++) (*ids)[i] = md->topics[0].partitions[i].id;
    /* Sorted: the report names partitions in order. */
    for (int i = 1; i < n; i++)
      for (int j = i; j > 0 && (*ids)[j - 1] > (*ids)[j]; j--) {
        int32_t x = (*ids)[j];
        (*ids)[j] = (*ids)[j - 1];
        (*ids)[j - 1] = x;
      }
  }
  if (md) rd_kafka_metadata_destroy(md);
  if (rkt) rd_kafka_topic_destroy(rkt);
  return n == EDDY_ENOENT ? n : n < 0 ? EDDY_EIO : n;
}

typedef int (*on_msg_t)(ver_t *v, void *ctx, const rd_kafka_message_t *m);

/* A partition whose first records are gone: what the run did with them
 * cannot be known, so no verdict (exit 2), rather than "missing" outputs
 * that were produced and then dropped. */
static int headless(const char *topic, int32_t partition, int64_t lo, char *errstr, size_t errstr_size) {
  return eddy_seterr(errstr, errstr_size, EDDY_ERANGE,
                     "cannot verify: %s:%d no longer starts at offset 0 (its first %" PRId64 " records are gone: "
                     "retention, deleted records, or eddy broker's ~5 MB per partition)",
                     topic, (int)partition, lo);
}

/* Reads partitions ids[0..n) of topic from their low to their high
 * watermark (as queried now), or to the end a read_committed consumer
 * sees, calling fn for each record. Gives up, with an error, when a
 * partition makes no progress for the timeout. */
static int read_topic(ver_t *v, const char *topic, const int32_t *ids, int n, on_msg_t fn, void *ctx,
                      char *errstr, size_t errstr_size) {
  int64_t *lo = calloc((size_t)n + 1, sizeof *lo), *hi = calloc((size_t)n + 1, sizeof *hi);
  uint8_t *done = calloc((size_t)n + 1, 1);
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n ? n : 1);
  int err = 0, left = 0;
  if (!lo || !hi || !done) {
    err = eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    goto out;
  }
  for (int i = 0; i < n; i++) {
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(v->rk, topic, ids[i], &lo[i], &hi[i], v->tmo_ms);
    if (e) {
      err = eddy_seterr(errstr, errstr_size, EDDY_EIO, "topic %s [%d]: watermarks: %s", topic, (int)ids[i],
                        rd_kafka_err2str(e));
      goto out;
    }
    if (lo[i] > 0) {
      err = headless(topic, ids[i], lo[i], errstr, errstr_size);
      goto out;
    }
    if (lo[i] >= hi[i]) {
      done[i] = 1;
      continue;
    }
    rd_kafka_topic_partition_list_add(l, topic, ids[i])->offset = lo[i];
    left++;
  }
  if (!left) goto out;
  rd_kafka_resp_err_t e = rd_kafka_assign(v->rk, l);
  if (e) {
    err = eddy_seterr(errstr, errstr_size, EDDY_EIO, "topic %s: assign: %s", topic, rd_kafka_err2str(e));
    goto out;
  }
  double last = eddy_now();
  uint64_t got = 0, got_then = 0;
  while (left && !err) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(v->rk, 100);
    if (!m) {
      /* The clock is read when the queue is empty only. */
      double now = eddy_now();
      if (got != got_then) {
        got_then = got;
        last = now;
      } else if (now - last > v->o->timeout) {
        for (int i = 0; i < n; i++)
          if (!done[i]) {
            err = eddy_seterr(errstr, errstr_size, EDDY_ETIMEDOUT,
                              "topic %s [%d]: nothing read for %.0f s before its end (offset %" PRId64 ")",
                              topic, (int)ids[i], v->o->timeout, hi[i]);
            break;
          }
      }
      continue;
    }
    int i = 0;
    while (i < n && ids[i] != m->partition) i++;
    if (i == n || (m->rkt && strcmp(rd_kafka_topic_name(m->rkt), topic) != 0)) {
      rd_kafka_message_destroy(m);
      continue;
    }
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (!done[i]) left--;
      done[i] = 1;
    } else if (m->err) {
      if (m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE || m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
          m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC || m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)
        err = eddy_seterr(errstr, errstr_size, EDDY_EIO, "topic %s [%d]: %s", topic, (int)m->partition,
                          rd_kafka_message_errstr(m));
    } else if (!done[i] && m->offset < hi[i]) {
      got++;
      int64_t off = m->offset;
      err = fn(v, ctx, m);
      if (err == 1) { /* fn keeps m */
        err = 0;
        m = NULL;
      }
      if (off + 1 >= hi[i]) {
        done[i] = 1;
        left--;
      }
    }
    if (m) rd_kafka_message_destroy(m);
  }
  rd_kafka_assign(v->rk, NULL);
out:
  rd_kafka_topic_partition_list_destroy(l);
  free(lo);
  free(hi);
  free(done);
  return err;
}

/* ------------------------------------------------------------------ input */

static vpart_t *find_part(ver_t *v, const char *topic, size_t topic_len, int64_t partition) {
  for (size_t i = 0; i < v->n_parts; i++) {
    vpart_t *p = &v->parts[i];
    if (p->partition == partition && strlen(p->topic) == topic_len && memcmp(p->topic, topic, topic_len) == 0)
      return p;
  }
  return NULL;
}

/* The headers of m that are not eddy.errors.*, in order, hashed. */
static uint64_t hash_headers(const rd_kafka_message_t *m) {
  rd_kafka_headers_t *h = NULL;
  XXH3_state_t *s = XXH3_createState();
  if (!s) return 0;
  XXH3_64bits_reset(s);
  if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR && h) {
    const char *name;
    const void *val;
    size_t size;
    for (size_t i = 0; rd_kafka_header_get_all(h, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; i++) {
      if (strncmp(name, EDDY_DLQ_PREFIX, strlen(EDDY_DLQ_PREFIX)) == 0) continue;
      uint64_t lens[2] = {strlen(name), val ? size : UINT64_MAX};
      XXH3_64bits_update(s, lens, sizeof lens);
      XXH3_64bits_update(s, name, lens[0]);
      if (val) XXH3_64bits_update(s, val, size);
    }
  }
  uint64_t x = XXH3_64bits_digest(s);
  XXH3_freeState(s);
  return x;
}

/* [source] label_topic: the predictions waiting at the checkpoint's
 * offsets, against those it holds. */
static void compare_waiting(ver_t *v) {
  eddy_buf_clear(&v->model);
  int err = eddy_waiting_save(v->task->waiting, v->ck_offset, v->ck_label_offset, &v->model);
  int equal = !err && v->model.len == v->ck->waiting_len &&
              memcmp(v->model.data, v->ck->waiting, v->model.len) == 0;
  say(v, "waiting %s [%d]: checkpoint %s holds %zu bytes of predictions waiting for their labels: %s",
      v->cur->topic, (int)v->cur->partition, v->ck_key, v->ck->waiting_len,
      equal ? "equal to the recomputed ones" : "DIFFER");
  if (!equal)
    violation(v, "checkpoint %s: the predictions waiting for their labels differ from those recomputed from %s [%d] "
              "up to offset %" PRId64 " and its labels up to %" PRId64, v->ck_key, v->cur->topic,
              (int)v->cur->partition, v->ck_offset, v->ck_label_offset);
}

/* The model at the checkpoint's offset, against the checkpoint. */
static void compare_model(ver_t *v) {
  v->ck_done = 1;
  eddy_buf_clear(&v->model);
  int err = eddy_replica_save(v->task->replica, &v->model);
  char want[2 * EVP_MAX_MD_SIZE + 1], got[2 * EVP_MAX_MD_SIZE + 1];
  sha256_hex(v->ck->model, v->ck->model_len, want);
  v->r->models_checked++;
  if (err || v->model.err) {
    violation(v, "checkpoint %s: the recomputed model cannot be saved: %s", v->ck_key,
              eddy_strerror(err ? err : EDDY_ENOMEM));
    return;
  }
  sha256_hex(v->model.data, v->model.len, got);
  int equal = v->model.len == v->ck->model_len && memcmp(v->model.data, v->ck->model, v->model.len) == 0;
  say(v, "model %s [%d]: checkpoint %s at next offset %" PRId64 "%s, %zu bytes, sha256 %s: %s", v->cur->topic,
      (int)v->cur->partition, v->ck_key, v->ck_offset, v->ck_label_offset >= 0 ? " (and its labels')" : "",
      v->ck->model_len, want, equal ? "equal to the recomputed model" : "DIFFERS");
  if (equal && v->task->waiting && v->ck->waiting) compare_waiting(v);
  if (equal) {
    v->r->models_equal++;
  } else {
    say(v, "model %s [%d]: recomputed from offsets %" PRId64 "..%" PRId64 ": %zu bytes, sha256 %s", v->cur->topic,
        (int)v->cur->partition, v->cur->lo, v->ck_offset - 1, v->model.len, got);
    violation(v, "checkpoint %s (next offset %" PRId64 ") holds a model (sha256 %.16s...) that differs from the one "
              "recomputed from %s [%d] up to that offset (sha256 %.16s...)", v->ck_key, v->ck_offset, want,
              v->cur->topic, (int)v->cur->partition, got);
  }
}

/* A record the replay dead-lettered: what its dead letter must carry. */
static int note_bad(vpart_t *p, const rd_kafka_message_t *m) {
  p->st[m->offset - p->lo] = IN_BAD;
  if (eddy_grow((void **)&p->bad, &p->cap_bad, p->n_bad + 1, sizeof *p->bad)) return EDDY_ENOMEM;
  bad_t *b = &p->bad[p->n_bad++];
  b->offset = m->offset;
  b->has_key = m->key != NULL;
  b->key_hash = XXH3_64bits(m->key ? m->key : "", m->key_len);
  b->value_hash = XXH3_64bits(m->payload ? m->payload : "", m->len);
  b->prefix_hash = XXH3_64bits(m->payload ? m->payload : "", m->len < DLQ_PREFIX_BYTES ? m->len : DLQ_PREFIX_BYTES);
  b->len = m->len;
  b->hdr_hash = hash_headers(m);
  return 0;
}

static int on_input(ver_t *v, void *ctx, const rd_kafka_message_t *m) {
  (void)ctx;
  vpart_t *p = v->cur;
  /* With labels, replay_with_labels compares (both offsets count). */
  if (!(v->c->source.label_topic && *v->c->source.label_topic) && v->ck && !v->ck_done && m->offset >= v->ck_offset) compare_model(v);
  const eddy_pipeline_stats_t *st = eddy_pipeline_stats(v->pl);
  uint64_t before = st->dead_lettered;
  eddy_pipeline_replay(v->pl, v->task, m);
  v->r->records_in++;
  if (st->dead_lettered > before) return note_bad(p, m);
  p->st[m->offset - p->lo] = IN_GOOD;
  v->r->decoded++;
  return 0;
}

/* A label record: joined (learned), else its dead letter is due. */
static int on_label(ver_t *v, vpart_t *p, const rd_kafka_message_t *m) {
  const eddy_pipeline_stats_t *st = eddy_pipeline_stats(v->pl);
  uint64_t before = st->dead_lettered, size = st->oversized, decode = st->decode_errors;
  eddy_pipeline_replay_label(v->pl, v->task, m);
  v->r->labels_in++;
  if (st->dead_lettered > before) {
    v->labels_size += st->oversized - size;
    v->labels_decode += st->decode_errors - decode;
    return note_bad(p, m);
  }
  p->st[m->offset - p->lo] = IN_LABEL;
  v->r->labels_joined++;
  return 0;
}

typedef struct msgs {
  rd_kafka_message_t **m;
  size_t n, cap;
} msgs_t;

static int collect(ver_t *v, void *ctx, const rd_kafka_message_t *m) {
  (void)v;
  msgs_t *s = ctx;
  if (eddy_grow((void **)&s->m, &s->cap, s->n + 1, sizeof *s->m)) return EDDY_ENOMEM;
  s->m[s->n++] = (rd_kafka_message_t *)m;
  return 1; /* kept */
}

/* [source] label_topic: input partition pin and label partition plab
 * (indexes in v->parts) replayed together as the pipeline handles them:
 * in timestamp order, the input first on ties. Both are held in memory. */
static int replay_with_labels(ver_t *v, size_t pin, size_t plab, char *errstr, size_t errstr_size) {
  msgs_t in = {0}, lab = {0};
  int32_t one = v->parts[pin].partition;
  int err = read_topic(v, v->parts[pin].topic, &one, 1, collect, &in, errstr, errstr_size);
  if (!err) err = read_topic(v, v->parts[plab].topic, &one, 1, collect, &lab, errstr, errstr_size);
  size_t i = 0, j = 0;
  /* A checkpoint stands at an input offset and a label offset (format 1:
   * none, labels from the start): the model is compared once every record
   * before both is replayed and none after either. */
  int64_t lck = v->ck_label_offset;
  while (!err && (i < in.n || j < lab.n)) {
    int64_t ni = i < in.n ? in.m[i]->offset : v->parts[pin].hi, nl = j < lab.n ? lab.m[j]->offset : v->parts[plab].hi;
    if (v->ck && !v->ck_done && ni >= v->ck_offset && (lck < 0 || nl >= lck)) compare_model(v);
    int take_in = j == lab.n || (i < in.n && rd_kafka_message_timestamp(in.m[i], NULL) <=
                                                 rd_kafka_message_timestamp(lab.m[j], NULL));
    if (take_in) {
      v->cur = &v->parts[pin];
      err = on_input(v, NULL, in.m[i++]);
    } else {
      err = on_label(v, &v->parts[plab], lab.m[j++]);
    }
  }
  if (!err && v->ck && !v->ck_done) compare_model(v);
  if (err == EDDY_ENOMEM) eddy_seterr(errstr, errstr_size, err, "out of memory");
  for (size_t k = 0; k < in.n; k++) rd_kafka_message_destroy(in.m[k]);
  for (size_t k = 0; k < lab.n; k++) rd_kafka_message_destroy(lab.m[k]);
  free(in.m);
  free(lab.m);
  return err;
}

/* A vpart for topic [partition] with its watermarks; its index in *at. */
static int add_part(ver_t *v, const char *topic, int32_t partition, size_t *at, char *errstr, size_t errstr_size) {
  if (eddy_grow((void **)&v->parts, &v->cap_parts, v->n_parts + 1, sizeof *v->parts))
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  vpart_t *p = &v->parts[v->n_parts++];
  memset(p, 0, sizeof *p);
  p->first_dup = -1;
  p->partition = partition;
  *at = v->n_parts - 1;
  if (!(p->topic = strdup(topic))) return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(v->rk, topic, partition, &p->lo, &p->hi, v->tmo_ms);
  if (e)
    return eddy_seterr(errstr, errstr_size, EDDY_EIO, "topic %s [%d]: watermarks: %s", topic, (int)partition,
                       rd_kafka_err2str(e));
  if (!(p->st = calloc((size_t)(p->hi - p->lo) + 1, 1)))
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory for %" PRId64 " offsets", p->hi - p->lo);
  return 0;
}

/* The checkpoint of partition, if the pipeline keeps them: 1 read, 0 none,
 * negative when Redis cannot be read. A checkpoint that does not verify is
 * a violation. */
static int read_ckpt(ver_t *v, redisContext *rc, int32_t partition, eddy_ckpt_t *ck, char *errstr,
                     size_t errstr_size) {
  char err[1600];
  int e = eddy_ckpt_read_sync(rc, v->c->state.key_prefix, v->c->pipeline.name, partition, ck, err, sizeof err);
  if (e == EDDY_ENOENT) return 0;
  if (e == EDDY_ECORRUPT || e == EDDY_EVERSION) {
    v->r->models_checked++;
    violation(v, "%s", err);
    return 0;
  }
  if (e) return eddy_seterr(errstr, errstr_size, e, "Redis: %s", err);
  return 1;
}

static int read_inputs(ver_t *v, redisContext *rc, char *errstr, size_t errstr_size) {
  double t0 = eddy_now();
  char *copy = strdup(v->c->source.topics ? v->c->source.topics : ""), *items[256];
  if (!copy) return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  size_t n_items = eddy_split_list(copy, items, 256);
  int err = 0;
  /* Regex subscriptions: every topic of the cluster that matches. */
  char **topics = NULL;
  size_t n_topics = 0, cap_topics = 0;
  for (size_t i = 0; i < n_items && !err; i++) {
    if (items[i][0] != '^') {
      if (eddy_grow((void **)&topics, &cap_topics, n_topics + 1, sizeof *topics)) err = EDDY_ENOMEM;
      else topics[n_topics++] = strdup(items[i]);
      continue;
    }
    regex_t re;
    if (regcomp(&re, items[i], REG_EXTENDED | REG_NOSUB)) {
      err = eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "[source] topics: %s is not a regular expression",
                        items[i]);
      break;
    }
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(v->rk, 1, NULL, &md, v->tmo_ms);
    if (e) {
      err = eddy_seterr(errstr, errstr_size, EDDY_EIO, "metadata: %s", rd_kafka_err2str(e));
    } else {
      for (int t = 0; t < md->topic_cnt && !err; t++)
        if (md->topics[t].topic[0] != '_' && regexec(&re, md->topics[t].topic, 0, NULL, 0) == 0) {
          if (eddy_grow((void **)&topics, &cap_topics, n_topics + 1, sizeof *topics)) err = EDDY_ENOMEM;
          else topics[n_topics++] = strdup(md->topics[t].topic);
        }
      rd_kafka_metadata_destroy(md);
    }
    regfree(&re);
  }
  free(copy);
  if (err == EDDY_ENOMEM) eddy_seterr(errstr, errstr_size, err, "out of memory");
  uint64_t bad_total = 0;
  size_t n_in_parts = 0;
  for (size_t ti = 0; ti < n_topics && !err; ti++) {
    const char *topic = topics[ti];
    if (!topic) {
      err = eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
      break;
    }
    int32_t *ids = NULL;
    int n = topic_partitions(v, topic, &ids, errstr, errstr_size);
    if (n < 0) {
      err = n;
      break;
    }
    for (int k = 0; k < n && !err; k++) {
      if (eddy_grow((void **)&v->parts, &v->cap_parts, v->n_parts + 1, sizeof *v->parts)) {
        err = eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
        break;
      }
      vpart_t *p = &v->parts[v->n_parts++];
      memset(p, 0, sizeof *p);
      p->first_dup = -1;
      p->partition = ids[k];
      if (!(p->topic = strdup(topic))) {
        err = eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
        break;
      }
      rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(v->rk, topic, ids[k], &p->lo, &p->hi, v->tmo_ms);
      if (e) {
        err = eddy_seterr(errstr, errstr_size, EDDY_EIO, "topic %s [%d]: watermarks: %s", topic, (int)ids[k],
                          rd_kafka_err2str(e));
        break;
      }
      if (p->lo > 0) {
        err = headless(topic, ids[k], p->lo, errstr, errstr_size);
        break;
      }
      if (!(p->st = calloc((size_t)(p->hi - p->lo) + 1, 1))) {
        err = eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory for %" PRId64 " offsets",
                          p->hi - p->lo);
        break;
      }
      eddy_ckpt_t ck;
      memset(&ck, 0, sizeof ck);
      int has = rc ? read_ckpt(v, rc, p->partition, &ck, errstr, errstr_size) : 0;
      if (has < 0) {
        err = has;
        break;
      }
      v->cur = p;
      v->ck = has ? &ck : NULL;
      v->ck_offset = has ? ck.offset : -1;
      v->ck_label_offset = has ? ck.label_offset : -1;
      v->ck_done = 0;
      eddy_ckpt_key(v->ck_key, sizeof v->ck_key, eddy_redis_url_is_cluster(v->c->state.store), v->c->state.key_prefix ? v->c->state.key_prefix : "eddy",
                    v->c->pipeline.name, p->partition);
      if (has && p->lo > 0) {
        err = eddy_seterr(errstr, errstr_size, EDDY_ERANGE,
                          "%s [%d] starts at offset %" PRId64 " (older records deleted): the model of %s cannot "
                          "be recomputed from offset 0", topic, (int)p->partition, p->lo, v->ck_key);
      } else if (has && ck.offset > p->hi) {
        v->r->models_checked++;
        violation(v, "checkpoint %s names next offset %" PRId64 ", beyond the end of %s [%d] (%" PRId64 ")",
                  v->ck_key, ck.offset, topic, (int)p->partition, p->hi);
        v->ck = NULL;
      }
      if (!err && !(v->task = eddy_pipeline_replay_task(v->pl, topic, p->partition, errstr, errstr_size)))
        err = EDDY_ENOMEM;
      const char *lt = v->c->source.label_topic;
      if (!err && lt && *lt) {
        size_t pin = (size_t)(p - v->parts), plab = 0;
        if (!(err = add_part(v, lt, ids[k], &plab, errstr, errstr_size)))
          err = replay_with_labels(v, pin, plab, errstr, errstr_size);
        p = &v->parts[pin]; /* v->parts moved */
      } else if (!err) {
        int32_t one = p->partition;
        err = read_topic(v, topic, &one, 1, on_input, NULL, errstr, errstr_size);
        if (!err && v->ck && !v->ck_done) compare_model(v);
      }
      if (v->task) eddy_pipeline_replay_done(v->pl, v->task);
      v->task = NULL;
      v->ck = NULL;
      eddy_ckpt_clear(&ck);
      bad_total += p->n_bad;
      n_in_parts++;
    }
    free(ids);
  }
  for (size_t i = 0; i < n_topics; i++) free(topics[i]);
  free(topics);
  if (!err)
    say(v, "input %s: %zu partitions, %" PRIu64 " records read and replayed, %" PRIu64 " decode, %" PRIu64
        " do not (%.1f s)", v->c->source.topics, n_in_parts, v->r->records_in, v->r->decoded, bad_total,
        eddy_now() - t0);
  if (!err && v->c->source.label_topic && *v->c->source.label_topic) {
    uint64_t not_joined = v->r->labels_in - v->r->labels_joined;
    uint64_t at_label = not_joined - v->labels_size - v->labels_decode;
    char why[192] = "";
    if (not_joined) {
      int n = snprintf(why, sizeof why, " (dead letters due: %" PRIu64 " with stage label", at_label);
      if (v->labels_decode)
        n += snprintf(why + n, sizeof why - (size_t)n, ", %" PRIu64 " with stage decode", v->labels_decode);
      if (v->labels_size)
        n += snprintf(why + n, sizeof why - (size_t)n, ", %" PRIu64 " with stage size", v->labels_size);
      snprintf(why + n, sizeof why - (size_t)n, ")");
    }
    say(v, "labels %s: %" PRIu64 " label records replayed with their input partitions in timestamp order, %" PRIu64
        " joined (learned once), %" PRIu64 " not%s", v->c->source.label_topic, v->r->labels_in,
        v->r->labels_joined, not_joined, why);
  }
  return err;
}

/* Partitions with a checkpoint that no input partition has. */
static void stray_checkpoints(ver_t *v, redisContext *rc) {
  int32_t *ids = NULL;
  char err[512];
  int n = eddy_ckpt_partitions_sync(rc, v->c->state.key_prefix, v->c->pipeline.name, &ids, err, sizeof err);
  for (int i = 0; i < n; i++) {
    int known = 0;
    for (size_t k = 0; k < v->n_parts; k++) known |= v->parts[k].partition == ids[i];
    if (!known) {
      char key[512];
      v->r->stray++;
      violation(v, "checkpoint %s is of partition %d, which the input does not have",
                eddy_ckpt_key(key, sizeof key, eddy_redis_url_is_cluster(v->c->state.store), v->c->state.key_prefix ? v->c->state.key_prefix : "eddy",
                              v->c->pipeline.name, ids[i]), (int)ids[i]);
    }
  }
  free(ids);
}

/* ---------------------------------------------------------------- outputs */

/* The input offset an output names: its byte, or NULL (a stray output,
 * counted and reported). */
static uint8_t *named(ver_t *v, const char *what, const char *topic, size_t topic_len, int64_t partition,
                      int64_t offset, vpart_t **pp) {
  vpart_t *p = find_part(v, topic, topic_len, partition);
  if (pp) *pp = p;
  if (p && offset >= p->lo && offset < p->hi && (p->st[offset - p->lo] & IN_MASK) != IN_NONE)
    return &p->st[offset - p->lo];
  if (p && offset >= 0 && offset < p->lo) {
    /* The record was deleted since (retention): nothing to check it against. */
    v->r->before_start++;
    return NULL;
  }
  v->r->stray++;
  if (!p)
    violation(v, "%s names %.*s [%" PRId64 "] offset %" PRId64 ": no such input partition", what, (int)topic_len,
              topic, partition, offset);
  else if (offset >= p->hi)
    violation(v, "%s names %s:%d@%" PRId64 ", beyond the high watermark %" PRId64, what, p->topic,
              (int)p->partition, offset, p->hi);
  else
    violation(v, "%s names %s:%d@%" PRId64 ", an offset that holds no record", what, p->topic, (int)p->partition,
              offset);
  return NULL;
}

static const char *jstr(json_t *o, const char *k, size_t *len) {
  json_t *x = json_object_get(o, k);
  if (!json_is_string(x)) return NULL;
  *len = json_string_length(x);
  return json_string_value(x);
}

static int jint(json_t *o, const char *k, int64_t *out) {
  json_t *x = json_object_get(o, k);
  if (!json_is_integer(x)) return -1;
  *out = json_integer_value(x);
  return 0;
}

static const char *skip_ws(const char *p, const char *e) {
  while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  return p;
}

/* The fast path of json_source for what eddy writes: the top-level keys
 * pipeline, topic (strings without escapes), partition and offset
 * (integers) come first, in any order. Returns 1 with the four found, 0
 * when the text takes any other shape (jansson reads it then). */
static int fast_source(const char *p, size_t n, const char **pl, size_t *pl_len, const char **topic,
                       size_t *topic_len, int64_t *partition, int64_t *offset) {
  const char *e = p + n;
  unsigned have = 0;
  p = skip_ws(p, e);
  if (p == e || *p++ != '{') return 0;
  while (have != 15) {
    p = skip_ws(p, e);
    if (p == e || *p++ != '"') return 0;
    const char *k = p, *q = memchr(p, '"', (size_t)(e - p));
    if (!q || memchr(k, '\\', (size_t)(q - k))) return 0;
    size_t klen = (size_t)(q - k);
    p = skip_ws(q + 1, e);
    if (p == e || *p++ != ':') return 0;
    p = skip_ws(p, e);
    if (p == e) return 0;
    const char *sv = NULL;
    size_t slen = 0;
    int64_t iv = 0;
    if (*p == '"') {
      sv = ++p;
      if (!(q = memchr(p, '"', (size_t)(e - p))) || memchr(sv, '\\', (size_t)(q - sv))) return 0;
      slen = (size_t)(q - sv);
      p = q + 1;
    } else {
      int neg = *p == '-', digits = 0;
      if (neg) p++;
      while (p < e && *p >= '0' && *p <= '9' && digits < 18) iv = iv * 10 + (*p++ - '0'), digits++;
      if (!digits || (p < e && (*p == '.' || *p == 'e' || *p == 'E' || (*p >= '0' && *p <= '9')))) return 0;
      if (neg) iv = -iv;
    }
#define KEY(s) (klen == sizeof s - 1 && memcmp(k, s, klen) == 0)
    if (KEY("pipeline") && sv) *pl = sv, *pl_len = slen, have |= 1;
    else if (KEY("topic") && sv) *topic = sv, *topic_len = slen, have |= 2;
    else if (KEY("partition") && !sv) *partition = iv, have |= 4;
    else if (KEY("offset") && !sv) *offset = iv, have |= 8;
    else return 0;
#undef KEY
    if (have == 15) break;
    p = skip_ws(p, e);
    if (p == e || *p++ != ',') return 0;
  }
  return 1;
}

/* A JSON output (prediction or alert) of this pipeline: its source offset.
 * 1 found, 0 another pipeline's, -1 unreadable. */
static int json_source(ver_t *v, const rd_kafka_message_t *m, json_t **doc, const char **topic, size_t *topic_len,
                       int64_t *partition, int64_t *offset) {
  const char *fpl = NULL;
  size_t fpl_len = 0;
  if (m->payload && fast_source(m->payload, m->len, &fpl, &fpl_len, topic, topic_len, partition, offset))
    return fpl_len == strlen(v->c->pipeline.name) && memcmp(fpl, v->c->pipeline.name, fpl_len) == 0;
  json_error_t je;
  *doc = json_loadb(m->payload ? m->payload : "", m->len, 0, &je);
  if (!*doc || !json_is_object(*doc)) return -1;
  size_t plen = 0;
  const char *pl = jstr(*doc, "pipeline", &plen);
  if (pl && (plen != strlen(v->c->pipeline.name) || memcmp(pl, v->c->pipeline.name, plen) != 0)) return 0;
  if (!(*topic = jstr(*doc, "topic", topic_len)) || jint(*doc, "partition", partition) ||
      jint(*doc, "offset", offset))
    return -1;
  return 1;
}

/* The writer schema of Avro predictions: [sink] output_schema, or the
 * built-in one. */
static int avro_open(ver_t *v, char *errstr, size_t errstr_size) {
  const char *path = v->c->sink.output_schema;
  eddy_buf_t text;
  eddy_buf_init(&text);
  const char *json = eddy_output_avro_default_schema();
  size_t len = strlen(json);
  if (path && *path) {
    FILE *f = fopen(path, "rb");
    char chunk[8192];
    size_t n;
    if (!f) return eddy_seterr(errstr, errstr_size, EDDY_EIO, "[sink] output_schema: %s: cannot open", path);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) eddy_buf_put(&text, chunk, n);
    fclose(f);
    json = (const char *)text.data;
    len = text.len;
  }
  int rc = text.err || !json ? -1 : avro_schema_from_json_length(json, len, &v->avsc);
  eddy_buf_free(&text);
  if (rc) {
    v->avsc = NULL;
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "[sink] output_schema: not an Avro schema");
  }
  if (!(v->aiface = avro_generic_class_from_schema(v->avsc)) || avro_generic_value_new(v->aiface, &v->aval) ||
      !(v->areader = avro_reader_memory(NULL, 0)))
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "Avro: cannot make a reader of the prediction schema");
  v->aval_made = 1;
  return 0;
}

static void avro_close(ver_t *v) {
  if (v->areader) avro_reader_free(v->areader);
  if (v->aval_made) avro_value_decref(&v->aval);
  if (v->aiface) avro_value_iface_decref(v->aiface);
  if (v->avsc) avro_schema_decref(v->avsc);
}

/* Field name of the record read, through a union's branch. */
static int avro_field(avro_value_t *rec, const char *name, avro_value_t *out) {
  if (avro_value_get_by_name(rec, name, out, NULL)) return -1;
  if (avro_value_get_type(out) == AVRO_UNION) {
    avro_value_t b;
    if (avro_value_get_current_branch(out, &b)) return -1;
    *out = b;
  }
  return 0;
}

static int avro_int(avro_value_t *rec, const char *name, int64_t *out) {
  avro_value_t f;
  int32_t i;
  if (avro_field(rec, name, &f)) return -1;
  if (avro_value_get_type(&f) == AVRO_INT64) return avro_value_get_long(&f, out) ? -1 : 0;
  if (avro_value_get_type(&f) == AVRO_INT32 && !avro_value_get_int(&f, &i)) {
    *out = i;
    return 0;
  }
  return -1;
}

static int avro_text(avro_value_t *rec, const char *name, const char **s, size_t *len) {
  avro_value_t f;
  if (avro_field(rec, name, &f) || avro_value_get_type(&f) != AVRO_STRING ||
      avro_value_get_string(&f, s, len) || !*len)
    return -1;
  (*len)--; /* avro-c counts the NUL */
  return 0;
}

/* An Avro prediction of this pipeline: as json_source. */
static int avro_source(ver_t *v, const rd_kafka_message_t *m, const char **topic, size_t *topic_len,
                       int64_t *partition, int64_t *offset) {
  const uint8_t *p = m->payload;
  size_t len = m->len;
  int64_t id = v->c->sink.output_schema_id;
  if (id >= 0) {
    if (len < 5 || !p || p[0] != 0 ||
        ((int64_t)p[1] << 24 | (int64_t)p[2] << 16 | (int64_t)p[3] << 8 | (int64_t)p[4]) != id)
      return -1;
    p += 5;
    len -= 5;
  }
  avro_value_reset(&v->aval);
  avro_reader_memory_set_source(v->areader, (const char *)(p ? p : (const uint8_t *)""), (int64_t)len);
  if (avro_value_read(v->areader, &v->aval)) return -1;
  const char *pl = NULL;
  size_t plen = 0;
  if (!avro_text(&v->aval, "pipeline", &pl, &plen) &&
      (plen != strlen(v->c->pipeline.name) || memcmp(pl, v->c->pipeline.name, plen) != 0))
    return 0;
  if (avro_text(&v->aval, "topic", topic, topic_len) || avro_int(&v->aval, "partition", partition) ||
      avro_int(&v->aval, "offset", offset))
    return -1;
  return 1;
}

static int on_prediction(ver_t *v, void *ctx, const rd_kafka_message_t *m) {
  (void)ctx;
  json_t *doc = NULL;
  const char *topic = NULL;
  size_t tlen = 0;
  int64_t part = -1, off = -1;
  int avro = v->c->sink.format == EDDY_FORMAT_AVRO;
  int k = avro ? avro_source(v, m, &topic, &tlen, &part, &off) : json_source(v, m, &doc, &topic, &tlen, &part, &off);
  if (k < 0) {
    v->r->stray++;
    violation(v, "prediction at %s [%d] offset %" PRId64 " is not %s prediction naming its source",
              v->c->sink.predictions, (int)m->partition, (int64_t)m->offset, avro ? "an Avro" : "a JSON");
  } else if (k > 0) {
    v->r->prediction_records++;
    vpart_t *p;
    uint8_t *b = named(v, "a prediction", topic, tlen, part, off, &p);
    if (b && (*b & IN_MASK) == IN_LABEL) {
      v->r->misrouted++;
      violation(v, "%s:%d@%" PRId64 " is a label record but has a prediction", p->topic, (int)p->partition, off);
    } else if (b && (*b & IN_MASK) == IN_BAD) {
      v->r->misrouted++;
      violation(v, "%s:%d@%" PRId64 " does not decode (it has a dead letter due) but has a prediction", p->topic,
                (int)p->partition, off);
    } else if (b) {
      unsigned n = (*b >> PRED_SHIFT) & COUNT_MAX;
      if (n) {
        v->r->duplicates++;
        if (p->first_dup < 0) p->first_dup = off;
        if (v->o->exactly_once)
          violation(v, "%s:%d@%" PRId64 " has more than one prediction (exactly once)", p->topic, (int)p->partition,
                    off);
      }
      if (n < COUNT_MAX) *b = (uint8_t)((*b & ~(COUNT_MAX << PRED_SHIFT)) | ((n + 1) << PRED_SHIFT));
    }
  }
  json_decref(doc);
  return 0;
}

static int on_alert(ver_t *v, void *ctx, const rd_kafka_message_t *m) {
  (void)ctx;
  json_t *doc = NULL;
  const char *topic = NULL;
  size_t tlen = 0;
  int64_t part = -1, off = -1;
  int k = json_source(v, m, &doc, &topic, &tlen, &part, &off);
  if (k < 0) {
    v->r->stray++;
    violation(v, "alert at %s [%d] offset %" PRId64 " is not a JSON alert naming its source", v->c->sink.alerts,
              (int)m->partition, (int64_t)m->offset);
  } else if (k > 0) {
    v->r->alerts++;
    vpart_t *p;
    uint8_t *b = named(v, "an alert", topic, tlen, part, off, &p);
    if (b && (*b & IN_MASK) != IN_GOOD) {
      v->r->misrouted++;
      violation(v, "an alert names %s:%d@%" PRId64 ", a record that does not decode", p->topic, (int)p->partition,
                off);
    }
  }
  json_decref(doc);
  return 0;
}

static const char *header(rd_kafka_headers_t *h, const char *name, size_t *len) {
  const void *val = NULL;
  size_t size = 0;
  if (!h || rd_kafka_header_get_last(h, name, &val, &size) != RD_KAFKA_RESP_ERR_NO_ERROR || !val) return NULL;
  *len = size;
  return val;
}

static int header_int(rd_kafka_headers_t *h, const char *name, int64_t *out) {
  size_t len = 0;
  const char *s = header(h, name, &len);
  char buf[32];
  if (!s || len == 0 || len >= sizeof buf) return -1;
  memcpy(buf, s, len);
  buf[len] = '\0';
  return eddy_parse_int(buf, out) ? -1 : 0;
}

static const bad_t *find_bad(const vpart_t *p, int64_t offset) {
  size_t a = 0, b = p->n_bad;
  while (a < b) {
    size_t mid = (a + b) / 2;
    if (p->bad[mid].offset < offset) a = mid + 1;
    else b = mid;
  }
  return a < p->n_bad && p->bad[a].offset == offset ? &p->bad[a] : NULL;
}

static int on_dead_letter(ver_t *v, void *ctx, const rd_kafka_message_t *m) {
  (void)ctx;
  rd_kafka_headers_t *h = NULL;
  if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR) h = NULL;
  size_t len = 0, tlen = 0;
  const char *who = header(h, EDDY_DLQ_PREFIX "connector.name", &len);
  if (who && (len != strlen(v->c->pipeline.name) || memcmp(who, v->c->pipeline.name, len) != 0)) return 0;
  const char *topic = header(h, EDDY_DLQ_PREFIX "topic", &tlen);
  int64_t part, off;
  if (!who || !topic || header_int(h, EDDY_DLQ_PREFIX "partition", &part) ||
      header_int(h, EDDY_DLQ_PREFIX "offset", &off)) {
    v->r->stray++;
    violation(v, "dead letter at %s [%d] offset %" PRId64 " lacks the eddy.errors.* headers naming its record",
              v->c->sink.dead_letter, (int)m->partition, (int64_t)m->offset);
    return 0;
  }
  v->r->dead_letter_records++;
  vpart_t *p;
  uint8_t *b = named(v, "a dead letter", topic, tlen, part, off, &p);
  if (!b) return 0;
  if ((*b & IN_MASK) == IN_LABEL) {
    v->r->misrouted++;
    violation(v, "%s:%d@%" PRId64 " is a label joined to its prediction (learned) but was dead-lettered", p->topic,
              (int)p->partition, off);
    return 0;
  }
  if ((*b & IN_MASK) == IN_GOOD) {
    v->r->misrouted++;
    violation(v, "%s:%d@%" PRId64 " decodes (a prediction is due) but was dead-lettered", p->topic,
              (int)p->partition, off);
    return 0;
  }
  unsigned n = (*b >> DLQ_SHIFT) & COUNT_MAX;
  if (n) {
    v->r->dlq_duplicates++;
    if (v->o->exactly_once)
      violation(v, "%s:%d@%" PRId64 " has more than one dead letter (exactly once)", p->topic, (int)p->partition,
                off);
  }
  if (n < COUNT_MAX) *b = (uint8_t)((*b & ~(COUNT_MAX << DLQ_SHIFT)) | ((n + 1) << DLQ_SHIFT));
  /* What the record was: its key, value (or its first 64 KiB) and headers. */
  const bad_t *r = find_bad(p, off);
  const char *why = NULL;
  static const char *const need[] = {"stage", "exception.class.name", "exception.message"};
  for (size_t i = 0; i < sizeof need / sizeof need[0] && !why; i++) {
    char name[64];
    snprintf(name, sizeof name, EDDY_DLQ_PREFIX "%s", need[i]);
    if (!header(h, name, &len)) why = "lacks a header saying why (stage, exception.class.name, exception.message)";
  }
  int64_t cut_from = -1;
  int cut = header_int(h, EDDY_DLQ_PREFIX "value.truncated.from", &cut_from) == 0;
  if (why) {
  } else if (!r) {
    why = "matches no record kept";
  } else if ((m->key != NULL) != r->has_key || XXH3_64bits(m->key ? m->key : "", m->key_len) != r->key_hash) {
    why = "has a key other than the record's";
  } else if (cut ? (cut_from != (int64_t)r->len || m->len != (r->len < DLQ_PREFIX_BYTES ? r->len : DLQ_PREFIX_BYTES) ||
                    XXH3_64bits(m->payload ? m->payload : "", m->len) != r->prefix_hash)
                 : (m->len != r->len || XXH3_64bits(m->payload ? m->payload : "", m->len) != r->value_hash)) {
    why = "has a value other than the record's";
  } else if (hash_headers(m) != r->hdr_hash) {
    why = "does not carry the record's own headers";
  }
  if (why) {
    v->r->bad_dead_letters++;
    violation(v, "the dead letter of %s:%d@%" PRId64 " (%s [%d] offset %" PRId64 ") %s", p->topic, (int)p->partition,
              off, v->c->sink.dead_letter, (int)m->partition, (int64_t)m->offset, why);
  }
  return 0;
}

/* Exactly once: outputs are read read_committed, up to each partition's
 * last stable offset. A transaction left open (an instance killed in the
 * middle of one, whose transactional.id nobody took over) holds that offset
 * back, hiding every output after it, until the broker aborts it
 * (transaction.timeout.ms after it began): what lies between the last
 * stable offset and the high watermark (read_uncommitted) is counted, and
 * missing outputs are then no verdict (sweep). */
static int hidden_outputs(ver_t *v, const char *topic, const int32_t *ids, int n, char *errstr,
                          size_t errstr_size) {
  if (!v->ru && !(v->ru = consumer_new(v, 1, errstr, errstr_size))) return EDDY_EINVAL;
  for (int i = 0; i < n; i++) {
    int64_t lo, lso, lo2, hw;
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(v->rk, topic, ids[i], &lo, &lso, v->tmo_ms);
    if (!e) e = rd_kafka_query_watermark_offsets(v->ru, topic, ids[i], &lo2, &hw, v->tmo_ms);
    if (e)
      return eddy_seterr(errstr, errstr_size, EDDY_EIO, "topic %s [%d]: watermarks: %s", topic, (int)ids[i],
                         rd_kafka_err2str(e));
    if (hw <= lso) continue;
    say(v, "%s:%d: offsets %" PRId64 "..%" PRId64 " are past its last stable offset (%" PRId64 " < high watermark %"
        PRId64 "): an open transaction hides them from read_committed readers", topic, (int)ids[i], lso, hw - 1,
        lso, hw);
    if (!v->r->hidden_parts++)
      snprintf(v->r->hidden_where, sizeof v->r->hidden_where, "%s:%d", topic, (int)ids[i]);
    v->r->hidden += (uint64_t)(hw - lso);
  }
  return 0;
}

static int read_output(ver_t *v, const char *topic, on_msg_t fn, char *errstr, size_t errstr_size) {
  int32_t *ids = NULL;
  int n = topic_partitions(v, topic, &ids, errstr, errstr_size);
  if (n == EDDY_ENOENT) {
    /* Never written (a broker that does not create topics on first use). */
    say(v, "topic %s does not exist: no records in it", topic);
    return 0;
  }
  if (n < 0) return n;
  int err = read_topic(v, topic, ids, n, fn, NULL, errstr, errstr_size);
  if (!err && v->c->pipeline.guarantee == EDDY_EXACTLY_ONCE) err = hidden_outputs(v, topic, ids, n, errstr, errstr_size);
  free(ids);
  return err;
}

/* --------------------------------------------------------------- the sweep */

static void sweep(ver_t *v) {
  eddy_verify_result_t *r = v->r;
  int preds = v->c->sink.predictions && *v->c->sink.predictions;
  int dlq = v->c->sink.dead_letter && *v->c->sink.dead_letter;
  uint64_t lost_pred = 0, lost_dlq = 0, bad = 0;
  /* Outputs hidden by an open transaction: a missing one may be there. */
  int hold = r->hidden > 0;
  for (size_t i = 0; i < v->n_parts; i++) {
    vpart_t *p = &v->parts[i];
    for (int64_t k = 0; k < p->hi - p->lo; k++) {
      uint8_t b = p->st[k];
      unsigned in = b & IN_MASK, np = (b >> PRED_SHIFT) & COUNT_MAX, nd = (b >> DLQ_SHIFT) & COUNT_MAX;
      if (in == IN_GOOD) {
        if (np) r->predictions++;
        else if (preds) {
          lost_pred++;
          if (!hold) violation(v, "%s:%d@%" PRId64 " has no prediction", p->topic, (int)p->partition, p->lo + k);
        }
      } else if (in == IN_BAD) {
        bad++;
        if (nd) r->dlq++;
        else if (dlq) {
          lost_dlq++;
          if (!hold) violation(v, "%s:%d@%" PRId64 " does not decode and has no dead letter", p->topic, (int)p->partition,
                    p->lo + k);
        }
      }
    }
  }
  r->lost = lost_pred + lost_dlq;
  if (hold && r->lost) {
    char more[64] = "";
    if (r->hidden_parts > 1) snprintf(more, sizeof more, " and %" PRIu64 " more partitions", r->hidden_parts - 1);
    snprintf(r->pending, sizeof r->pending,
             "%" PRIu64 " input offsets without a visible output may wait behind an open transaction on %s%s (%"
             PRIu64 " output records past the last stable offset); rerun after transaction.timeout.ms",
             r->lost, r->hidden_where, more, r->hidden);
    say(v, "PENDING: %s", r->pending);
  }
  if (preds)
    say(v, "predictions: %" PRIu64 " offsets over %zu partitions, %" PRIu64 " with a prediction, %" PRIu64
        " duplicates, %" PRIu64 " missing (%" PRIu64 " predictions read from %s)", r->decoded, v->n_parts,
        r->predictions, r->duplicates, lost_pred, r->prediction_records, v->c->sink.predictions);
  else
    say(v, "predictions: no [sink] predictions topic: not checked");
  if (dlq)
    say(v, "dead letters: %" PRIu64 " records do not decode, %" PRIu64 " with a dead letter, %" PRIu64
        " duplicates, %" PRIu64 " missing, %" PRIu64 " not carrying their record (key, value, headers)", bad, r->dlq,
        r->dlq_duplicates, lost_dlq, r->bad_dead_letters);
  else
    say(v, "dead letters: no [sink] dead_letter topic: %" PRIu64 " records that do not decode were dropped", bad);
  if (v->o->expect_dlq >= 0 && (uint64_t)v->o->expect_dlq != r->dlq)
    violation(v, "the dead-letter topic holds %" PRIu64 " distinct records, %" PRId64 " expected", r->dlq,
              v->o->expect_dlq);
  if (v->o->exactly_once && (r->duplicates || r->dlq_duplicates)) {
    for (size_t i = 0; i < v->n_parts; i++)
      if (v->parts[i].first_dup >= 0) {
        violation(v, "%s:%d@%" PRId64 " has more than one prediction (exactly once)", v->parts[i].topic,
                  (int)v->parts[i].partition, v->parts[i].first_dup);
        break;
      }
    violation(v, "%" PRIu64 " duplicated outputs (exactly once)", r->duplicates + r->dlq_duplicates);
  }
  say(v, "stray: %" PRIu64 " outputs name an offset that was never in the input; %" PRIu64
      " predictions of bad records or dead letters of good ones", r->stray, r->misrouted);
  if (r->before_start)
    say(v, "%" PRIu64 " outputs name records deleted from the input since (before its low watermark): not checked",
        r->before_start);
}

/* -------------------------------------------------------------- pipeline */

int eddy_verify_pipeline(const eddy_pipeline_conf_t *c, const eddy_verify_opts_t *o, eddy_verify_result_t *r,
                         char *errstr, size_t errstr_size) {
  memset(r, 0, sizeof *r);
  snprintf(r->pipeline, sizeof r->pipeline, "%s", c->pipeline.name);
  double t0 = eddy_now();
  ver_t v = {.c = c, .o = o, .r = r, .tmo_ms = (int)(o->timeout * 1000)};
  eddy_buf_init(&v.model);
  redisContext *rc = NULL;
  int err = 0;
  if (c->source.type != EDDY_SOURCE_KAFKA) {
    err = eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "pipeline %s reads no Kafka topic: nothing to verify",
                      c->pipeline.name);
    goto out;
  }
  if (c->sink.format == EDDY_FORMAT_AVRO && (err = avro_open(&v, errstr, errstr_size))) goto out;
  /* The pipeline's own record path, never started. How outputs are
   * delivered (processing.guarantee) is no part of it: the replay is made
   * at least once (nothing is produced either way). */
  eddy_pipeline_conf_t replay_conf = *c;
  replay_conf.pipeline.guarantee = EDDY_AT_LEAST_ONCE;
  if (!(v.pl = eddy_pipeline_new(NULL, &replay_conf, errstr, errstr_size))) {
    err = EDDY_EINVAL;
    goto out;
  }
  if (!(v.rk = consumer_new(&v, 0, errstr, errstr_size))) {
    err = EDDY_EINVAL;
    goto out;
  }
  if ((err = kafka_login(&v, errstr, errstr_size))) goto out;
  if (eddy_store_is_redis(c)) {
    char why[1024];
    if (!(rc = eddy_redis_connect_sync(c->state.store, o->timeout, why, sizeof why))) {
      char shown[600];
      err = eddy_seterr(errstr, errstr_size, EDDY_EIO, "Redis %s: %s",
                        eddy_redis_url_mask(c->state.store, shown, sizeof shown), why);
      goto out;
    }
  }
  if ((err = read_inputs(&v, rc, errstr, errstr_size))) goto out;
  if (rc) stray_checkpoints(&v, rc);
  if (rc)
    say(&v, "models: %" PRIu64 " checkpoints checked, %" PRIu64 " equal to the model recomputed from the input",
        r->models_checked, r->models_equal);
  else
    say(&v, "models: [state] store = memory: no checkpoints to check");
  if (c->sink.predictions && *c->sink.predictions &&
      (err = read_output(&v, c->sink.predictions, on_prediction, errstr, errstr_size)))
    goto out;
  if (c->sink.dead_letter && *c->sink.dead_letter &&
      (err = read_output(&v, c->sink.dead_letter, on_dead_letter, errstr, errstr_size)))
    goto out;
  if (c->sink.alerts && *c->sink.alerts) {
    if ((err = read_output(&v, c->sink.alerts, on_alert, errstr, errstr_size))) goto out;
    say(&v, "alerts: %" PRIu64 " in %s", r->alerts, c->sink.alerts);
  }
  sweep(&v);
  r->seconds = eddy_now() - t0;
  say(&v, "%s: %" PRIu64 " records verified in %.1f s (%.0f records/s)",
      r->violated ? "FAILED" : r->pending[0] ? "NO VERDICT" : "ok",
      r->records_in, r->seconds, r->seconds > 0 ? (double)r->records_in / r->seconds : 0);
out:
  if (rc) eddy_redis_sync_free(rc);
  if (v.rk) {
    rd_kafka_consumer_close(v.rk);
    rd_kafka_destroy(v.rk);
  }
  if (v.ru) {
    rd_kafka_consumer_close(v.ru);
    rd_kafka_destroy(v.ru);
  }
  if (v.pl) eddy_pipeline_free(v.pl);
  for (size_t i = 0; i < v.n_parts; i++) {
    free(v.parts[i].topic);
    free(v.parts[i].st);
    free(v.parts[i].bad);
  }
  free(v.parts);
  eddy_buf_free(&v.model);
  avro_close(&v);
  return err;
}

void eddy_verify_json(const eddy_verify_result_t *r, eddy_buf_t *b) {
  eddy_buf_put(b, "{\"pipeline\":", 12);
  eddy_json_string(b, r->pipeline, strlen(r->pipeline));
  eddy_buf_printf(b,
                  ",\"records_in\":%" PRIu64 ",\"decoded\":%" PRIu64 ",\"predictions\":%" PRIu64
                  ",\"duplicates\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"dlq\":%" PRIu64 ",\"dlq_duplicates\":%" PRIu64
                  ",\"alerts\":%" PRIu64 ",\"stray\":%" PRIu64 ",\"models_checked\":%" PRIu64
                  ",\"models_equal\":%" PRIu64 ",\"misrouted\":%" PRIu64 ",\"bad_dead_letters\":%" PRIu64
                  ",\"before_start\":%" PRIu64 ",\"hidden\":%" PRIu64 ",\"labels_in\":%" PRIu64
                  ",\"labels_joined\":%" PRIu64 ",\"seconds\":%.3f,\"violation\":",
                  r->records_in, r->decoded, r->predictions, r->duplicates, r->lost, r->dlq, r->dlq_duplicates,
                  r->alerts, r->stray, r->models_checked, r->models_equal, r->misrouted, r->bad_dead_letters,
                  r->before_start, r->hidden, r->labels_in, r->labels_joined, r->seconds);
  if (r->violated) eddy_json_string(b, r->violation, strlen(r->violation));
  else eddy_buf_put(b, "null", 4);
  eddy_buf_put(b, ",\"pending\":", 11);
  if (r->pending[0]) eddy_json_string(b, r->pending, strlen(r->pending));
  else eddy_buf_put(b, "null", 4);
  eddy_buf_put_u8(b, '}');
}
