/* txn.c: processing.guarantee = exactly_once, the librdkafka side. A
 * pipeline has one transactional producer; every commit interval its
 * outputs (predictions, alerts, dead letters) and the consumed offsets go
 * in one Kafka transaction (begin, produce, send_offsets_to_transaction
 * with the consumer's group metadata, commit). pipeline_commit.c keeps the
 * bookkeeping (when to commit, what to rewind after an abort); this file
 * names the transactional.id, sets the configurations, classifies the
 * errors of each call, and computes where a partition starts after a
 * restore (eddy_txn_start).
 *
 * The model checkpoint and the transaction stay consistent this way: a
 * checkpoint is written only at an offset whose transaction committed
 * (checkpoint offset <= committed offset). On assignment the task restores
 * its checkpoint (offset C), reads the group's committed offset K, consumes
 * from C and handles [C, K) learning only (their outputs are committed
 * already), then normally from K. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/stream/stream.h"

void eddy_txn_id(const eddy_pipeline_conf_t *c, char *out, size_t size) {
  const eddy_kv_t *kv = eddy_kvlist_get(&c->kafka, "transactional.id");
  if (kv && *kv->value) {
    snprintf(out, size, "%s", kv->value);
    return;
  }
  const eddy_kv_t *gi = eddy_kvlist_get(&c->kafka, "group.instance.id");
  char host[256];
  const char *instance = gi && *gi->value ? gi->value : NULL;
  if (!instance) {
    if (gethostname(host, sizeof host) != 0 || !*host) snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    instance = host;
  }
  snprintf(out, size, "eddy.%s.%s", c->pipeline.name, instance);
}

static int set(rd_kafka_conf_t *conf, const char *key, const char *value, char *errstr, size_t errstr_size) {
  char msg[512];
  if (rd_kafka_conf_set(conf, key, value, msg, sizeof msg) != RD_KAFKA_CONF_OK)
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "librdkafka refuses %s = %s: %s", key, value, msg);
  return 0;
}

int eddy_txn_conf(const eddy_pipeline_conf_t *c, rd_kafka_conf_t *pconf, rd_kafka_conf_t *cconf,
                  char *errstr, size_t errstr_size) {
  char id[512], v[64];
  eddy_txn_id(c, id, sizeof id);
  int err = 0;
  if (pconf) {
    if (!eddy_kvlist_get(&c->kafka, "transactional.id")) err = set(pconf, "transactional.id", id, errstr, errstr_size);
    /* eddy's default message.timeout.ms (0: retry forever) is refused with
     * transactions: outputs may wait as long as a transaction lives. */
    if (!err && !eddy_kvlist_get(&c->kafka, "message.timeout.ms")) {
      size_t n = sizeof v;
      if (rd_kafka_conf_get(pconf, "transaction.timeout.ms", v, &n) != RD_KAFKA_CONF_OK)
        snprintf(v, sizeof v, "60000");
      err = set(pconf, "message.timeout.ms", v, errstr, errstr_size);
    }
  }
  if (!err && cconf && !eddy_kvlist_get(&c->kafka, "isolation.level"))
    err = set(cconf, "isolation.level", "read_committed", errstr, errstr_size);
  return err;
}

/* Classifies an error of a transactional call (and frees it). */
static eddy_txn_result_t classify(rd_kafka_error_t *e, const char *what, char *errstr, size_t errstr_size) {
  if (!e) return EDDY_TXN_OK;
  rd_kafka_resp_err_t code = rd_kafka_error_code(e);
  eddy_txn_result_t r;
  if (rd_kafka_error_is_fatal(e)) r = EDDY_TXN_FATAL;
  else if (rd_kafka_error_txn_requires_abort(e)) r = EDDY_TXN_ABORT;
  else if (rd_kafka_error_is_retriable(e) || code == RD_KAFKA_RESP_ERR__TIMED_OUT) r = EDDY_TXN_RETRY;
  else r = EDDY_TXN_ABORT;
  int fenced = code == RD_KAFKA_RESP_ERR__FENCED || code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
               code == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH ||
               code == RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
  snprintf(errstr, errstr_size, "%s: %s%s (%s)", what, rd_kafka_error_string(e),
           r == EDDY_TXN_FATAL && fenced
               ? ": fenced: another producer with this transactional.id has started (a newer instance "
                 "of this pipeline)"
               : "",
           rd_kafka_err2name(code));
  rd_kafka_error_destroy(e);
  return r;
}

eddy_txn_result_t eddy_txn_init(rd_kafka_t *producer, int budget_ms, char *errstr, size_t errstr_size) {
  double deadline = eddy_now() + budget_ms / 1000.0;
  /* The mock cluster names itself so (rdkafka_mock.c). */
  char *id = rd_kafka_clusterid(producer, budget_ms < 10000 ? budget_ms : 10000);
  if (id && strncmp(id, "mockCluster", 11) == 0) {
    snprintf(errstr, errstr_size,
             "processing.guarantee = exactly_once needs a real Kafka broker: the cluster at bootstrap.servers "
             "is librdkafka's mock cluster (%s, `eddy broker`), whose transactions keep no consumed offsets "
             "and let read_committed consumers see aborted records; use at_least_once with it",
             id);
    free(id);
    return EDDY_TXN_FATAL;
  }
  free(id);
  for (;;) {
    double left = deadline - eddy_now();
    int ms = left > 0 ? (int)(left * 1000) : 0;
    eddy_txn_result_t r = classify(rd_kafka_init_transactions(producer, ms > 1000 ? ms : 1000),
                                   "init_transactions", errstr, errstr_size);
    if (r != EDDY_TXN_RETRY || eddy_now() >= deadline) return r == EDDY_TXN_ABORT ? EDDY_TXN_FATAL : r;
  }
}

eddy_txn_result_t eddy_txn_begin(rd_kafka_t *producer, char *errstr, size_t errstr_size) {
  eddy_txn_result_t r = classify(rd_kafka_begin_transaction(producer), "begin_transaction", errstr, errstr_size);
  /* begin fails only in a state it cannot leave: nothing to abort. */
  return r == EDDY_TXN_OK ? r : EDDY_TXN_FATAL;
}

eddy_txn_result_t eddy_txn_send_offsets(rd_kafka_t *producer, rd_kafka_t *consumer,
                                        const rd_kafka_topic_partition_list_t *offsets, int timeout_ms,
                                        char *errstr, size_t errstr_size) {
  if (!offsets || !offsets->cnt) return EDDY_TXN_OK;
  rd_kafka_consumer_group_metadata_t *md = rd_kafka_consumer_group_metadata(consumer);
  if (!md) {
    snprintf(errstr, errstr_size, "send_offsets_to_transaction: no consumer group metadata");
    return EDDY_TXN_ABORT;
  }
  eddy_txn_result_t r = classify(rd_kafka_send_offsets_to_transaction(producer, offsets, md, timeout_ms),
                                 "send_offsets_to_transaction", errstr, errstr_size);
  rd_kafka_consumer_group_metadata_destroy(md);
  return r;
}

eddy_txn_result_t eddy_txn_commit(rd_kafka_t *producer, int timeout_ms, char *errstr, size_t errstr_size) {
  return classify(rd_kafka_commit_transaction(producer, timeout_ms), "commit_transaction", errstr, errstr_size);
}

eddy_txn_result_t eddy_txn_abort(rd_kafka_t *producer, int timeout_ms, char *errstr, size_t errstr_size) {
  /* librdkafka #4849: abort with messages still queued can hang or leave
   * them to a later transaction: purge the queue, let in-flight requests
   * end, then abort. */
  rd_kafka_purge(producer, RD_KAFKA_PURGE_F_QUEUE);
  rd_kafka_flush(producer, timeout_ms < 5000 ? timeout_ms : 5000);
  eddy_txn_result_t r = classify(rd_kafka_abort_transaction(producer, timeout_ms), "abort_transaction", errstr,
                                 errstr_size);
  return r == EDDY_TXN_ABORT ? EDDY_TXN_FATAL : r;
}

int64_t eddy_txn_start(int64_t ckpt, int64_t committed, int64_t *learn_from, int64_t *emit_from) {
  *learn_from = ckpt >= 0 ? ckpt : 0;
  if (committed >= 0) {
    *emit_from = committed;
    if (ckpt >= 0) return ckpt < committed ? ckpt : committed;
    /* No checkpoint: the model is rebuilt from the partition's start. */
    return committed > 0 ? RD_KAFKA_OFFSET_BEGINNING : 0;
  }
  /* Nothing committed yet: everything from the checkpoint (or from where
   * auto.offset.reset says) has outputs. */
  *emit_from = ckpt >= 0 ? ckpt : 0;
  return ckpt >= 0 ? ckpt : RD_KAFKA_OFFSET_INVALID;
}
