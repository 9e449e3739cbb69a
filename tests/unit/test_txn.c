/* test_txn.c: processing.guarantee = exactly_once without a broker (txn.c):
 * where a partition starts after a restore and which of its records are
 * replayed, the transactional.id, the librdkafka settings, the watermark's
 * reset after an abort, and the mock cluster's refusal (an in-process
 * librdkafka mock cluster; the real broker is tests/integration/
 * test_exactly_once.sh's). */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
#include "connectors/connectors.h"
#include "engine/stream/stream.h"
#include <librdkafka/rdkafka_mock.h> /* after rdkafka.h */

/* ----------------------------------------------------- start positions */

Test(txn_start, checkpoint_before_committed_replays_learning_only) {
  int64_t learn, emit;
  /* The usual case after a kill: checkpoint 818, committed 978. */
  cr_assert_eq(eddy_txn_start(818, 978, &learn, &emit), 818, "consume from the checkpoint");
  cr_assert_eq(learn, 818, "records from 818 on are learned");
  cr_assert_eq(emit, 978, "outputs from the committed offset on");
  /* Checkpoint at the committed offset: nothing replayed. */
  cr_assert_eq(eddy_txn_start(500, 500, &learn, &emit), 500);
  cr_assert_eq(learn, 500);
  cr_assert_eq(emit, 500);
}

Test(txn_start, no_checkpoint_rebuilds_from_the_beginning) {
  int64_t learn, emit;
  cr_assert_eq(eddy_txn_start(-1, 1234, &learn, &emit), RD_KAFKA_OFFSET_BEGINNING);
  cr_assert_eq(learn, 0, "every record is learned");
  cr_assert_eq(emit, 1234, "none before the committed offset has an output");
  /* Committed 0: nothing to replay. */
  cr_assert_eq(eddy_txn_start(-1, 0, &learn, &emit), 0);
  cr_assert_eq(emit, 0);
}

Test(txn_start, nothing_committed_yet) {
  int64_t learn, emit;
  cr_assert_eq(eddy_txn_start(-1, -1, &learn, &emit), RD_KAFKA_OFFSET_INVALID, "auto.offset.reset decides");
  cr_assert_eq(learn, 0);
  cr_assert_eq(emit, 0);
  /* A checkpoint but no committed offset (the group's offsets expired):
   * from the checkpoint, with outputs. */
  cr_assert_eq(eddy_txn_start(300, -1, &learn, &emit), 300);
  cr_assert_eq(learn, 300);
  cr_assert_eq(emit, 300);
}

Test(txn_start, checkpoint_past_committed_predicts_without_learning) {
  int64_t learn, emit;
  /* A checkpoint written under at_least_once, past the committed offset. */
  cr_assert_eq(eddy_txn_start(700, 650, &learn, &emit), 650, "from the committed offset: no output is missing");
  cr_assert_eq(learn, 700, "the model has 650..699 already: not learned twice");
  cr_assert_eq(emit, 650);
}

/* --------------------------------------------------- transactional.id */

static eddy_config_t *parse(const char *kafka) {
  char text[1024], err[512];
  snprintf(text, sizeof text,
           "[pipeline]\nname = fraud\nprocessing.guarantee = exactly_once\n[source]\ntopics = t\n"
           "[kafka]\n%s\n[features]\nnumeric = x\ntarget = y\n[model]\nlearner = majority\n",
           kafka);
  eddy_config_t *c = eddy_config_parse(text, "t.ini", err, sizeof err);
  cr_assert_not_null(c, "%s", err);
  return c;
}

Test(txn_id, override_instance_then_host) {
  char id[256], host[256];
  eddy_config_t *c = parse("transactional.id = mine");
  eddy_txn_id(&c->pipelines[0], id, sizeof id);
  cr_assert_str_eq(id, "mine");
  eddy_config_free(c);
  c = parse("group.instance.id = host1-a");
  eddy_txn_id(&c->pipelines[0], id, sizeof id);
  cr_assert_str_eq(id, "eddy.fraud.host1-a");
  eddy_config_free(c);
  c = parse("client.id = x");
  eddy_txn_id(&c->pipelines[0], id, sizeof id);
  cr_assert_eq(gethostname(host, sizeof host), 0);
  char want[300];
  snprintf(want, sizeof want, "eddy.fraud.%s", host);
  cr_assert_str_eq(id, want);
  eddy_config_free(c);
}

static void conf_is(rd_kafka_conf_t *conf, const char *key, const char *want) {
  char v[256];
  size_t n = sizeof v;
  cr_assert_eq(rd_kafka_conf_get(conf, key, v, &n), RD_KAFKA_CONF_OK, "%s", key);
  cr_assert_str_eq(v, want, "%s", key);
}

Test(txn_conf, transactional_producer_read_committed_consumer) {
  char err[512];
  eddy_config_t *c = parse("group.instance.id = a\ntransaction.timeout.ms = 20000");
  const eddy_pipeline_conf_t *pc = &c->pipelines[0];
  rd_kafka_conf_t *p = eddy_kafka_conf(pc, EDDY_KAFKA_PRODUCER, err, sizeof err);
  rd_kafka_conf_t *k = eddy_kafka_conf(pc, EDDY_KAFKA_CONSUMER, err, sizeof err);
  cr_assert(p && k, "%s", err);
  cr_assert_eq(eddy_txn_conf(pc, p, k, err, sizeof err), 0, "%s", err);
  conf_is(p, "transactional.id", "eddy.fraud.a");
  conf_is(p, "message.timeout.ms", "20000"); /* eddy's 0 (forever) is refused with transactions */
  conf_is(k, "isolation.level", "read_committed");
  conf_is(k, "enable.auto.commit", "false");
  /* librdkafka accepts the producer: message.timeout.ms fits. */
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, p, err, sizeof err);
  cr_assert_not_null(rk, "%s", err);
  rd_kafka_destroy(rk);
  rd_kafka_conf_destroy(k);
  eddy_config_free(c);
}

Test(txn_conf, keys_set_in_kafka_are_kept) {
  char err[512];
  eddy_config_t *c = parse("transactional.id = t1\nmessage.timeout.ms = 5000\nisolation.level = read_uncommitted");
  const eddy_pipeline_conf_t *pc = &c->pipelines[0];
  rd_kafka_conf_t *p = eddy_kafka_conf(pc, EDDY_KAFKA_PRODUCER, err, sizeof err);
  rd_kafka_conf_t *k = eddy_kafka_conf(pc, EDDY_KAFKA_CONSUMER, err, sizeof err);
  cr_assert(p && k, "%s", err);
  cr_assert_eq(eddy_txn_conf(pc, p, k, err, sizeof err), 0, "%s", err);
  conf_is(p, "transactional.id", "t1");
  conf_is(p, "message.timeout.ms", "5000");
  conf_is(k, "isolation.level", "read_uncommitted");
  rd_kafka_conf_destroy(p);
  rd_kafka_conf_destroy(k);
  eddy_config_free(c);
}

Test(txn_conf, pipeline_prepared_with_exactly_once) {
  char err[512];
  eddy_config_t *c = parse("bootstrap.servers = 127.0.0.1:1");
  eddy_pipeline_t *pl = eddy_pipeline_new(NULL, &c->pipelines[0], err, sizeof err);
  cr_assert_not_null(pl, "exactly_once is accepted now: %s", err);
  eddy_pipeline_free(pl);
  eddy_config_free(c);
}

/* ------------------------------------------------------------ watermark */

Test(txn_wm, reset_forgets_open_records_and_late_reports) {
  eddy_watermark_t w;
  eddy_wm_init(&w, 16);
  uint64_t a, b, c;
  eddy_wm_begin(&w, 10, 0, &a);
  eddy_wm_add(&w, a);
  eddy_wm_done(&w, a);
  eddy_wm_begin(&w, 11, 0, &b);
  eddy_wm_add(&w, b);
  eddy_wm_done(&w, b);
  w.committed = 10;
  eddy_wm_reset(&w);
  cr_assert_eq(eddy_wm_open(&w), 0);
  cr_assert_eq(w.next, -1);
  cr_assert_eq(w.committed, 10, "the committed offset stays");
  /* Records again from the rewound offset. */
  cr_assert_eq(eddy_wm_begin(&w, 10, 0, &c), 0);
  cr_assert_eq(c, b + 1, "sequences go on");
  cr_assert_eq(eddy_wm_seq(&w, (uint32_t)a), UINT64_MAX, "a late report of an aborted output matches nothing");
  cr_assert_eq(eddy_wm_done(&w, a), EDDY_ENOENT);
  cr_assert_eq(eddy_wm_done(&w, c), 1);
  cr_assert_eq(eddy_wm_committable(&w), 11);
  eddy_wm_free(&w);
}

/* ------------------------------------------------------ the mock cluster */

Test(txn_init, mock_cluster_is_refused) {
  char err[1024];
  rd_kafka_t *mk = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), err, sizeof err);
  cr_assert_not_null(mk, "%s", err);
  rd_kafka_mock_cluster_t *mcl = rd_kafka_mock_cluster_new(mk, 1);
  cr_assert_not_null(mcl);
  const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mcl);
  rd_kafka_conf_t *pc = rd_kafka_conf_new();
  rd_kafka_conf_set(pc, "bootstrap.servers", bootstrap, err, sizeof err);
  rd_kafka_conf_set(pc, "transactional.id", "t", err, sizeof err);
  rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof err);
  cr_assert_not_null(p, "%s", err);
  cr_assert_eq(eddy_txn_init(p, 5000, err, sizeof err), EDDY_TXN_FATAL);
  cr_assert(strstr(err, "exactly_once needs a real Kafka broker") && strstr(err, "mock cluster"), "%s", err);
  rd_kafka_destroy(p);
  rd_kafka_mock_cluster_destroy(mcl);
  rd_kafka_destroy(mk);
}
