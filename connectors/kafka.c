/* kafka.c: the Kafka side of a pipeline that is not the loop's business:
 * librdkafka configurations from [kafka] with eddy's defaults, the topic
 * list of a subscription, which delivery errors are permanent, and the
 * dead-letter headers (Kafka Connect's shape under eddy.errors.). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/connectors.h"

/* Defaults for keys the config leaves out; "%s" stands for the pipeline's
 * name. */
typedef struct {
  const char *key, *value;
  unsigned roles; /* 1 consumer, 2 producer */
} default_t;

static const default_t defaults[] = {
    {"bootstrap.servers", "127.0.0.1:9092", 3},
    {"client.id", "eddy.%s", 3},
    {"group.id", "eddy.%s", 1},
    {"enable.auto.commit", "false", 1},
    {"enable.auto.offset.store", "false", 1},
    {"auto.offset.reset", "earliest", 1},
    {"enable.partition.eof", "false", 1},
    /* Outputs are retried until delivered: a broker that is away for a
     * while costs time, never records (offsets wait for the deliveries). */
    {"message.timeout.ms", "0", 2},
    {NULL, NULL, 0},
};

const char *eddy_kafka_get(const eddy_pipeline_conf_t *c, const char *key) {
  const eddy_kv_t *kv = eddy_kvlist_get(&c->kafka, key);
  if (kv) return kv->value;
  for (const default_t *d = defaults; d->key; d++)
    if (strcmp(d->key, key) == 0 && !strstr(d->value, "%s")) return d->value;
  return NULL;
}

int eddy_kafka_key_secret(const char *key) {
  return strstr(key, "password") || strstr(key, "secret") || strcmp(key, "ssl.key.pem") == 0 ||
         strcmp(key, "sasl.oauthbearer.config") == 0;
}

int eddy_kafka_auth_refused(const char *text) {
  /* The broker's words (SaslAuthenticationException, PLAIN and SCRAM;
   * UnsupportedSaslMechanismException) as librdkafka passes them on. */
  return strstr(text, "Authentication failed") || strstr(text, "invalid credentials") ||
         strstr(text, "Invalid username or password") || strstr(text, "mechanism handshake failed") ||
         strstr(text, "nsupported SASL mechanism");
}

/* The first secret value found in text at or after p, its length in *len. */
static const char *find_secret(const eddy_pipeline_conf_t *c, const char *p, size_t *len) {
  const char *best = NULL;
  for (size_t i = 0; i < c->kafka.n; i++) {
    const eddy_kv_t *kv = &c->kafka.v[i];
    if (!*kv->value || !eddy_kafka_key_secret(kv->key)) continue;
    const char *q = strstr(p, kv->value);
    if (q && (!best || q < best || (q == best && strlen(kv->value) > *len))) {
      best = q;
      *len = strlen(kv->value);
    }
  }
  return best;
}

const char *eddy_kafka_scrub(const eddy_pipeline_conf_t *c, const char *text, char *out, size_t size) {
  size_t len = 0, n = 0;
  const char *p = text, *q = find_secret(c, p, &len);
  if (!q || size == 0) return q ? "" : text;
  while (q) {
    n += (size_t)snprintf(out + n, size - n, "%.*s***", (int)(q - p), p);
    if (n >= size) return out;
    p = q + len;
    q = find_secret(c, p, &len);
  }
  snprintf(out + n, size - n, "%s", p);
  return out;
}

rd_kafka_conf_t *eddy_kafka_conf(const eddy_pipeline_conf_t *c, eddy_kafka_role_t role,
                                 char *errstr, size_t errstr_size) {
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  char msg[512], value[256];
  unsigned bit = role == EDDY_KAFKA_CONSUMER ? 1 : 2;
  for (const default_t *d = defaults; d->key; d++) {
    if (!(d->roles & bit) || eddy_kvlist_get(&c->kafka, d->key)) continue;
    snprintf(value, sizeof value, d->value, c->pipeline.name);
    if (rd_kafka_conf_set(conf, d->key, value, msg, sizeof msg) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "librdkafka refuses %s = %s: %s", d->key, value, msg);
      return NULL;
    }
  }
  for (size_t i = 0; i < c->kafka.n; i++) {
    const eddy_kv_t *kv = &c->kafka.v[i];
    if (rd_kafka_conf_set(conf, kv->key, kv->value, msg, sizeof msg) != RD_KAFKA_CONF_OK) {
      char where[300];
      rd_kafka_conf_destroy(conf);
      char shown[sizeof msg];
      eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "%s[kafka] key '%s': %s",
                  eddy_kv_where(kv, where, sizeof where), kv->key, eddy_kafka_scrub(c, msg, shown, sizeof shown));
      return NULL;
    }
  }
  return conf;
}

int eddy_kafka_err_permanent(rd_kafka_resp_err_t err) {
  switch (err) {
  case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
  case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
  case RD_KAFKA_RESP_ERR_INVALID_MSG:
  case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
  case RD_KAFKA_RESP_ERR_INVALID_RECORD:
  case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
  case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
  case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
  case RD_KAFKA_RESP_ERR_INVALID_REQUIRED_ACKS:
  case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
  case RD_KAFKA_RESP_ERR__INVALID_ARG:
  case RD_KAFKA_RESP_ERR__FATAL:
    return 1;
  default:
    return 0;
  }
}

rd_kafka_topic_partition_list_t *eddy_kafka_topics(const char *topics, char *errstr,
                                                   size_t errstr_size) {
  if (!topics || !*topics) {
    eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "[source] topics: required for type = kafka");
    return NULL;
  }
  char *copy = strdup(topics), *items[1024];
  if (!copy) {
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    return NULL;
  }
  size_t n = eddy_split_list(copy, items, 1024);
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)(n ? n : 1));
  for (size_t i = 0; i < n; i++) {
    if (!*items[i]) continue;
    int dup = 0;
    for (int j = 0; j < l->cnt; j++) dup |= strcmp(l->elems[j].topic, items[i]) == 0;
    if (!dup) rd_kafka_topic_partition_list_add(l, items[i], RD_KAFKA_PARTITION_UA);
  }
  free(copy);
  if (l->cnt == 0) {
    rd_kafka_topic_partition_list_destroy(l);
    eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "[source] topics: no topic named");
    return NULL;
  }
  return l;
}

const char *eddy_err_name(int err) {
  switch (err) {
  case EDDY_OK: return "OK";
  case EDDY_EINVAL: return "EINVAL";
  case EDDY_ENOMEM: return "ENOMEM";
  case EDDY_ENOENT: return "ENOENT";
  case EDDY_EIO: return "EIO";
  case EDDY_EPARSE: return "EPARSE";
  case EDDY_ECORRUPT: return "ECORRUPT";
  case EDDY_EVERSION: return "EVERSION";
  case EDDY_ERANGE: return "ERANGE";
  case EDDY_ENOSPC: return "ENOSPC";
  case EDDY_ETYPE: return "ETYPE";
  case EDDY_EAGAIN: return "EAGAIN";
  case EDDY_ETIMEDOUT: return "ETIMEDOUT";
  case EDDY_ESTATE: return "ESTATE";
  case EDDY_EEOF: return "EEOF";
  case EDDY_ENOTSUP: return "ENOTSUP";
  case EDDY_EMISSING: return "EMISSING";
  default: return "EUNKNOWN";
  }
}

static int add(rd_kafka_headers_t *h, const char *name, const char *value) {
  char key[64];
  snprintf(key, sizeof key, "%s%s", EDDY_DLQ_PREFIX, name);
  return rd_kafka_header_add(h, key, -1, value ? value : "", -1) ? EDDY_EINVAL : 0;
}

int eddy_dlq_headers(rd_kafka_headers_t *h, const eddy_dlq_info_t *info) {
  char partition[16], offset[24], cls[64];
  snprintf(partition, sizeof partition, "%d", (int)info->partition);
  snprintf(offset, sizeof offset, "%lld", (long long)info->offset);
  snprintf(cls, sizeof cls, "eddy.%s", eddy_err_name(info->err));
  int err = 0;
  err |= add(h, "topic", info->topic);
  err |= add(h, "partition", partition);
  err |= add(h, "offset", offset);
  err |= add(h, "connector.name", info->pipeline);
  err |= add(h, "stage", info->stage);
  err |= add(h, "exception.class.name", cls);
  /* The message is the decoder's text, which may quote record bytes: it is
   * cut to 1 KiB and every byte that is not valid UTF-8 becomes '?'. */
  const char *m = info->message ? info->message : eddy_strerror(info->err);
  char text[1025];
  size_t n = 0;
  for (const char *p = m; *p && n < sizeof text - 5;) {
    size_t l = 1;
    while (l <= 4 && p[l - 1] && !eddy_utf8_valid(p, l)) l++;
    if (l > 4 || !p[l - 1]) {
      text[n++] = '?';
      p++;
    } else {
      memcpy(text + n, p, l);
      n += l;
      p += l;
    }
  }
  char key[64];
  snprintf(key, sizeof key, "%sexception.message", EDDY_DLQ_PREFIX);
  err |= rd_kafka_header_add(h, key, -1, text, (ssize_t)n) ? 1 : 0;
  return err ? EDDY_EINVAL : 0;
}

/* ------------------------------------------------------------- writer */

struct eddy_kafka_writer {
  rd_kafka_t *rk;
  rd_kafka_topic_t *rkt;
  uint64_t put, delivered, failed;
  uint64_t *per_partition; /* delivered, by partition (grows when a new one appears) */
  size_t n_partitions;
  char last_error[256];
};

static void writer_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk;
  eddy_kafka_writer_t *w = opaque;
  if (m->err) {
    w->failed++;
    snprintf(w->last_error, sizeof w->last_error, "%s", rd_kafka_err2str(m->err));
    return;
  }
  w->delivered++;
  if (m->partition < 0 || m->partition > 1 << 20) return;
  size_t p = (size_t)m->partition;
  if (p >= w->n_partitions) {
    uint64_t *v = realloc(w->per_partition, (p + 1) * sizeof *v);
    if (!v) return;
    memset(v + w->n_partitions, 0, (p + 1 - w->n_partitions) * sizeof *v);
    w->per_partition = v;
    w->n_partitions = p + 1;
  }
  w->per_partition[p]++;
}

/* librdkafka's own log lines (connection refused, retries) are kept as the
 * writer's last error rather than printed: the command says what failed,
 * once, in its own words. */
static void writer_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
  (void)fac;
  eddy_kafka_writer_t *w = rd_kafka_opaque(rk);
  if (w && level <= 4) snprintf(w->last_error, sizeof w->last_error, "%s", buf);
}

static void writer_error(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
  (void)rk;
  (void)err;
  eddy_kafka_writer_t *w = opaque;
  snprintf(w->last_error, sizeof w->last_error, "%s", reason);
}

eddy_kafka_writer_t *eddy_kafka_writer_new(const char *bootstrap, const char *topic, const eddy_kvlist_t *extra,
                                           char *errstr, size_t errstr_size) {
  eddy_kafka_writer_t *w = calloc(1, sizeof *w);
  char msg[512];
  if (!w) {
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    return NULL;
  }
  rd_kafka_conf_t *c = rd_kafka_conf_new();
  const char *bad = NULL;
  if (rd_kafka_conf_set(c, "acks", "all", msg, sizeof msg) ||
      rd_kafka_conf_set(c, "linger.ms", "5", msg, sizeof msg) ||
      rd_kafka_conf_set(c, "queue.buffering.max.messages", "1000000", msg, sizeof msg) ||
      rd_kafka_conf_set(c, "log.queue", "true", msg, sizeof msg))
    bad = "";
  for (size_t i = 0; !bad && extra && i < extra->n; i++)
    if (rd_kafka_conf_set(c, extra->v[i].key, extra->v[i].value, msg, sizeof msg)) bad = extra->v[i].key;
  if (!bad && rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, msg, sizeof msg)) bad = "";
  if (bad) {
    rd_kafka_conf_destroy(c);
    free(w);
    /* librdkafka's message names the key, never a secret value. */
    eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "%s%s%s", bad, *bad ? ": " : "", msg);
    return NULL;
  }
  rd_kafka_conf_set_opaque(c, w);
  rd_kafka_conf_set_dr_msg_cb(c, writer_dr);
  rd_kafka_conf_set_log_cb(c, writer_log);
  rd_kafka_conf_set_error_cb(c, writer_error);
  if (!(w->rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, msg, sizeof msg))) {
    rd_kafka_conf_destroy(c);
    free(w);
    eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "%s", msg);
    return NULL;
  }
  rd_kafka_set_log_queue(w->rk, NULL); /* logs served by rd_kafka_poll, on this thread */
  w->rkt = rd_kafka_topic_new(w->rk, topic, NULL);
  return w;
}

int eddy_kafka_writer_put(eddy_kafka_writer_t *w, const void *value, size_t len, const void *key,
                          size_t key_len) {
  while (rd_kafka_produce(w->rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, (void *)value, len, key,
                          key_len, NULL)) {
    if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) return EDDY_EIO;
    rd_kafka_poll(w->rk, 10);
  }
  if ((++w->put & 1023) == 0) rd_kafka_poll(w->rk, 0);
  return 0;
}

int eddy_kafka_writer_connect(eddy_kafka_writer_t *w, int timeout_ms, char *errstr, size_t errstr_size) {
  rd_kafka_resp_err_t e;
  double deadline = eddy_now() + timeout_ms / 1000.0;
  do { /* in steps, so that refused credentials end it at once */
    const struct rd_kafka_metadata *md = NULL;
    e = rd_kafka_metadata(w->rk, 0, w->rkt, &md, 500);
    if (md) rd_kafka_metadata_destroy(md);
    rd_kafka_poll(w->rk, 0); /* its log lines and errors, into last_error */
    if (e && eddy_kafka_auth_refused(w->last_error))
      return eddy_seterr(errstr, errstr_size, EDDY_EIO, "Kafka authentication failed: %s (check "
                         "sasl.mechanisms, sasl.username and sasl.password)", w->last_error);
  } while (e && eddy_now() < deadline);
  if (!e) return 0;
  return eddy_seterr(errstr, errstr_size, EDDY_EIO, "no broker answered within %d s (%s%s%s)", timeout_ms / 1000,
                     rd_kafka_err2str(e), w->last_error[0] ? ": " : "", w->last_error);
}

void eddy_kafka_writer_flush(eddy_kafka_writer_t *w, int timeout_ms) { rd_kafka_flush(w->rk, timeout_ms); }

size_t eddy_kafka_writer_partitions(const eddy_kafka_writer_t *w, const uint64_t **delivered) {
  *delivered = w->per_partition;
  return w->n_partitions;
}

uint64_t eddy_kafka_writer_delivered(const eddy_kafka_writer_t *w) { return w->delivered; }
uint64_t eddy_kafka_writer_failed(const eddy_kafka_writer_t *w) { return w->failed; }

int eddy_kafka_writer_close(eddy_kafka_writer_t *w, int timeout_ms, char *errstr, size_t errstr_size) {
  if (!w) return 0;
  rd_kafka_flush(w->rk, timeout_ms);
  uint64_t left = w->put - w->delivered - w->failed;
  int err = 0;
  if (left || w->failed)
    err = eddy_seterr(errstr, errstr_size, EDDY_EIO, "%llu of %llu records not delivered%s%s",
                      (unsigned long long)(left + w->failed), (unsigned long long)w->put,
                      w->failed ? ": " : " in time", w->failed ? w->last_error : "");
  rd_kafka_topic_destroy(w->rkt);
  rd_kafka_destroy(w->rk);
  free(w->per_partition);
  free(w);
  return err;
}
