/* test_broker.c: the embedded mock broker (connectors/mock_broker.c):
 * protocol names, the control-command parser, fixed ports, and records
 * through the cluster with librdkafka clients in the same process. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "core/core.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
#include "connectors/connectors.h"

/* ------------------------------------------------------------- helpers */

/* A listening socket on 127.0.0.1 (port 0: any); returns the fd and sets
 * *port. */
static int listen_on(int port, int *got) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  cr_assert(fd >= 0);
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(fd, 1) < 0) {
    close(fd);
    return -1;
  }
  socklen_t len = sizeof sin;
  getsockname(fd, (struct sockaddr *)&sin, &len);
  if (got) *got = ntohs(sin.sin_port);
  return fd;
}

/* 0 when a TCP connect to 127.0.0.1:port succeeds, else errno. */
static int try_connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc = connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0 ? 0 : errno;
  close(fd);
  return rc;
}

/* n consecutive free ports (checked by binding them); the first. */
static int free_ports(int n) {
  for (int attempt = 0; attempt < 50; attempt++) {
    int first, fds[8], ok = 1, k = 0;
    fds[k++] = listen_on(0, &first);
    if (fds[0] < 0 || first + n > 65535) ok = 0;
    for (int i = 1; ok && i < n; i++) {
      fds[k] = listen_on(first + i, NULL);
      if (fds[k++] < 0) ok = 0;
    }
    for (int i = 0; i < k; i++)
      if (fds[i] >= 0) close(fds[i]);
    if (ok) return first;
  }
  cr_assert_fail("no %d consecutive free ports", n);
  return -1;
}

static eddy_mock_broker_t *new_cluster(int n) {
  char err[256];
  eddy_mock_broker_t *mb = eddy_mock_broker_new(n, 0, err, sizeof err);
  cr_assert_not_null(mb, "%s", err);
  return mb;
}

/* Runs a command; returns its code, the reply in reply. */
static int cmd(eddy_mock_broker_t *mb, const char *line, char *reply, size_t size) {
  return eddy_mock_broker_command(mb, line, reply, size);
}

static rd_kafka_t *client(rd_kafka_type_t type, const char *bootstraps) {
  char err[256];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  cr_assert_eq(rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err, sizeof err), 0);
  rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
  if (type == RD_KAFKA_CONSUMER) {
    rd_kafka_conf_set(conf, "group.id", "test-broker", err, sizeof err);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
  }
  rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof err);
  cr_assert_not_null(rk, "%s", err);
  return rk;
}

/* The leader of topic [partition] as the brokers' metadata says. */
static int leader_of(rd_kafka_t *rk, const char *topic, int partition) {
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
  const struct rd_kafka_metadata *md = NULL;
  cr_assert_eq(rd_kafka_metadata(rk, 0, rkt, &md, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
  int leader = -2;
  cr_assert_eq(md->topic_cnt, 1);
  for (int i = 0; i < md->topics[0].partition_cnt; i++)
    if (md->topics[0].partitions[i].id == partition) leader = md->topics[0].partitions[i].leader;
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(rkt);
  return leader;
}

static int partition_count(rd_kafka_t *rk, const char *topic) {
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
  const struct rd_kafka_metadata *md = NULL;
  cr_assert_eq(rd_kafka_metadata(rk, 0, rkt, &md, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
  int n = md->topics[0].err ? -1 : md->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(rkt);
  return n;
}

/* ------------------------------------------------------ protocol names */

Test(names, api_keys) {
  cr_assert_eq(eddy_kafka_api_key("Produce"), 0);
  cr_assert_eq(eddy_kafka_api_key("fetch"), 1);
  cr_assert_eq(eddy_kafka_api_key("METADATA"), 3);
  cr_assert_eq(eddy_kafka_api_key("OffsetCommit"), 8);
  cr_assert_eq(eddy_kafka_api_key("FindCoordinator"), 10);
  cr_assert_eq(eddy_kafka_api_key("JoinGroup"), 11);
  cr_assert_eq(eddy_kafka_api_key("Heartbeat"), 12);
  cr_assert_eq(eddy_kafka_api_key("SyncGroup"), 14);
  cr_assert_eq(eddy_kafka_api_key("ApiVersions"), 18);
  cr_assert_eq(eddy_kafka_api_key("InitProducerId"), 22);
  cr_assert_eq(eddy_kafka_api_key("EndTxn"), 26);
  cr_assert_eq(eddy_kafka_api_key("TxnOffsetCommit"), 28);
  cr_assert_eq(eddy_kafka_api_key("AlterUserScramCredentials"), 51);
  cr_assert_eq(eddy_kafka_api_key("3"), 3);
  cr_assert_eq(eddy_kafka_api_key("51"), 51);
  cr_assert_eq(eddy_kafka_api_key("52"), EDDY_ENOENT);
  cr_assert_eq(eddy_kafka_api_key("-1"), EDDY_ENOENT);
  cr_assert_eq(eddy_kafka_api_key("Produc"), EDDY_ENOENT);
  cr_assert_eq(eddy_kafka_api_key(""), EDDY_ENOENT);
}

Test(names, error_codes) {
  int code = 12345;
  cr_assert_eq(eddy_kafka_err_code("NOT_LEADER_FOR_PARTITION", &code), 0);
  cr_assert_eq(code, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
  cr_assert_eq(code, 6);
  cr_assert_eq(eddy_kafka_err_code("rd_kafka_resp_err__transport", &code), 0);
  cr_assert_eq(code, RD_KAFKA_RESP_ERR__TRANSPORT);
  cr_assert_eq(eddy_kafka_err_code("no_error", &code), 0);
  cr_assert_eq(code, 0);
  cr_assert_eq(eddy_kafka_err_code("25", &code), 0);
  cr_assert_eq(code, RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID);
  cr_assert_eq(eddy_kafka_err_code("-195", &code), 0);
  cr_assert_eq(code, RD_KAFKA_RESP_ERR__TRANSPORT);
  cr_assert_eq(eddy_kafka_err_code("COORDINATOR_NOT_AVAILABLE", &code), 0);
  cr_assert_eq(code, 15);
  code = 77;
  cr_assert_eq(eddy_kafka_err_code("NOT_AN_ERROR", &code), EDDY_ENOENT);
  cr_assert_eq(eddy_kafka_err_code("99999", &code), EDDY_ENOENT);
  cr_assert_eq(eddy_kafka_err_code("", &code), EDDY_ENOENT);
  cr_assert_eq(code, 77, "a failed lookup leaves *code alone");
}

/* ------------------------------------------------------------- parser */

Test(commands, answers_and_errors) {
  eddy_mock_broker_t *mb = new_cluster(3);
  char r[4096];
  cr_assert_eq(eddy_mock_broker_count(mb), 3);

  cr_assert_eq(cmd(mb, "", r, sizeof r), 0);
  cr_assert_str_empty(r);
  cr_assert_eq(cmd(mb, "   # a comment", r, sizeof r), 0);
  cr_assert_str_empty(r);
  cr_assert_eq(cmd(mb, "help", r, sizeof r), 0);
  cr_assert_not_null(strstr(r, "\nleader TOPIC PARTITION BROKER"), "%s", r);
  cr_assert_not_null(strstr(r, "\ncoordinator group|transaction KEY BROKER"));
  cr_assert_eq(cmd(mb, "brokers", r, sizeof r), 0);
  char want[512];
  snprintf(want, sizeof want, "%s\n", eddy_mock_broker_bootstraps(mb));
  cr_assert_str_eq(r, want);

  /* Well-formed commands. */
  const char *ok[] = {"down 2", "up 2", "down all", "up -1", "rtt 3 250", "rtt all 0",
                      "error Produce NOT_LEADER_FOR_PARTITION", "error 1 _TRANSPORT 3",
                      "clear-errors Produce", "clear-errors fetch",
                      "broker-error 2 Fetch REQUEST_TIMED_OUT 100 2", "leader t 0 2",
                      "leader t 1 -1", "coordinator group g 3", "coordinator transaction tx 1",
                      "topic t2 5", "topic t3 2 1", "topic-error t2 UNKNOWN_TOPIC_OR_PART",
                      "topic-error t2 NO_ERROR", "apiversion Fetch 4 11",
                      "  rtt\t1   10  "};
  cr_assert_eq(cmd(mb, "topic t 3", r, sizeof r), 0, "%s", r);
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    cr_expect_eq(cmd(mb, ok[i], r, sizeof r), 0, "'%s': %s", ok[i], r);
    cr_expect_str_empty(r, "'%s' printed '%s'", ok[i], r);
  }

  /* Malformed ones: each an error with a reason naming the problem. */
  struct {
    const char *line;
    int code;
    const char *reason;
  } bad[] = {
      {"frobnicate", EDDY_ENOENT, "unknown command 'frobnicate'"},
      {"down", EDDY_EINVAL, "usage: down|up BROKER"},
      {"down 4", EDDY_ENOENT, "no broker '4' (brokers: 1..3, all)"},
      {"down 0", EDDY_ENOENT, "no broker '0'"},
      {"up x", EDDY_ENOENT, "no broker 'x'"},
      {"rtt 1", EDDY_EINVAL, "usage: rtt BROKER MS"},
      {"rtt 1 -5", EDDY_ERANGE, "MS: -5 is not in 0..3600000"},
      {"rtt 1 fast", EDDY_EINVAL, "MS: 'fast' is not a whole number"},
      {"error Produce", EDDY_EINVAL, "usage: error API ERR [COUNT]"},
      {"error Produc NOT_LEADER_FOR_PARTITION", EDDY_ENOENT, "unknown request type 'Produc'"},
      {"error Produce NOT_A_CODE", EDDY_ENOENT, "unknown error code 'NOT_A_CODE'"},
      {"error Produce NOT_LEADER_FOR_PARTITION 0", EDDY_ERANGE, "COUNT: 0 is not in 1..100000"},
      {"broker-error all Produce _TRANSPORT 0", EDDY_ENOENT, "no broker 'all' (brokers: 1..3)"},
      {"leader t 0 7", EDDY_ENOENT, "no broker '7'"},
      {"leader t x 1", EDDY_EINVAL, "PARTITION: 'x' is not a whole number"},
      {"leader t 9 1", EDDY_EINVAL, "UNKNOWN_TOPIC_OR_PART"},
      {"coordinator member g 1", EDDY_EINVAL, "'member' is neither group nor transaction"},
      {"coordinator group g", EDDY_EINVAL, "usage: coordinator group|transaction KEY BROKER"},
      {"topic t 3", EDDY_EINVAL, "topic 't' already exists"},
      {"topic bad/name 3", EDDY_EINVAL, "topic 'bad/name': a name is 1..249 of [a-zA-Z0-9._-]"},
      {"topic .. 3", EDDY_EINVAL, "topic '..'"},
      {"topic u 0", EDDY_ERANGE, "PARTITIONS: 0 is not in 1..100000"},
      {"topic u 2 4", EDDY_ERANGE, "REPLICAS: 4 is not in 1..3"},
      {"topic-error t WHAT", EDDY_ENOENT, "unknown error code 'WHAT'"},
      {"apiversion Fetch 1", EDDY_EINVAL, "usage: apiversion API MIN MAX"},
      {"brokers now", EDDY_EINVAL, "usage: brokers"},
      {"a b c d e f g h i j", EDDY_EINVAL, "too many words"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc = cmd(mb, bad[i].line, r, sizeof r);
    cr_expect_eq(rc, bad[i].code, "'%s': code %d, reason '%s'", bad[i].line, rc, r);
    cr_expect_not_null(strstr(r, bad[i].reason), "'%s': reason '%s' lacks '%s'", bad[i].line,
                       r, bad[i].reason);
    cr_expect_null(strchr(r, '\n'), "'%s': an error reason is one line", bad[i].line);
  }

  char longline[2000];
  memset(longline, 'x', sizeof longline - 1);
  longline[sizeof longline - 1] = '\0';
  cr_assert_eq(cmd(mb, longline, r, sizeof r), EDDY_ERANGE);
  cr_assert_not_null(strstr(r, "longer than"));

  /* A reply buffer too small for help is truncated, not overrun. */
  char tiny[8];
  cr_assert_eq(cmd(mb, "help", tiny, sizeof tiny), 0);
  cr_assert_eq(strlen(tiny), sizeof tiny - 1);
  eddy_mock_broker_free(mb);
}

/* -------------------------------------------- effects seen by clients */

Test(commands, leader_moves_and_topics_in_metadata) {
  eddy_mock_broker_t *mb = new_cluster(3);
  char r[512];
  cr_assert_eq(eddy_mock_broker_topic(mb, "moves", 2, 0, r, sizeof r), 0, "%s", r);
  rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, eddy_mock_broker_bootstraps(mb));
  cr_assert_eq(partition_count(rk, "moves"), 2);
  for (int b = 1; b <= 3; b++) {
    char line[64];
    snprintf(line, sizeof line, "leader moves 1 %d", b);
    cr_assert_eq(cmd(mb, line, r, sizeof r), 0, "%s", r);
    cr_assert_eq(leader_of(rk, "moves", 1), b);
  }
  cr_assert_eq(cmd(mb, "leader moves 1 -1", r, sizeof r), 0, "%s", r);
  cr_assert_eq(leader_of(rk, "moves", 1), -1, "leaderless");

  cr_assert_eq(cmd(mb, "topic made 7", r, sizeof r), 0, "%s", r);
  cr_assert_eq(partition_count(rk, "made"), 7);
  /* An unknown topic is created on first use with the mock's 4 partitions. */
  cr_assert_eq(partition_count(rk, "auto"), 4);
  cr_assert_eq(cmd(mb, "topic-error made TOPIC_AUTHORIZATION_FAILED", r, sizeof r), 0);
  cr_assert_eq(partition_count(rk, "made"), -1, "metadata carries the topic error");
  cr_assert_eq(cmd(mb, "topic-error made NO_ERROR", r, sizeof r), 0);
  cr_assert_eq(partition_count(rk, "made"), 7);
  rd_kafka_destroy(rk);
  eddy_mock_broker_free(mb);
}

Test(commands, down_refuses_connections_up_accepts) {
  eddy_mock_broker_t *mb = new_cluster(2);
  char r[256];
  int p1 = eddy_mock_broker_port(mb, 1), p2 = eddy_mock_broker_port(mb, 2);
  cr_assert_gt(p1, 0);
  cr_assert_gt(p2, 0);
  cr_assert_eq(eddy_mock_broker_port(mb, 3), EDDY_ENOENT);
  cr_assert_eq(try_connect(p1), 0);
  cr_assert_eq(cmd(mb, "down 1", r, sizeof r), 0, "%s", r);
  cr_assert_eq(try_connect(p1), ECONNREFUSED);
  cr_assert_eq(try_connect(p2), 0, "broker 2 stays up");
  cr_assert_eq(cmd(mb, "up 1", r, sizeof r), 0, "%s", r);
  cr_assert_eq(try_connect(p1), 0, "up listens on the same port again");
  cr_assert_eq(cmd(mb, "down all", r, sizeof r), 0, "%s", r);
  cr_assert_eq(try_connect(p1), ECONNREFUSED);
  cr_assert_eq(try_connect(p2), ECONNREFUSED);
  cr_assert_eq(cmd(mb, "up all", r, sizeof r), 0, "%s", r);
  cr_assert_eq(try_connect(p2), 0);
  eddy_mock_broker_free(mb);
}

/* Records produced through the mock come back intact, in order per
 * partition. */
Test(cluster, produce_and_consume) {
  eddy_mock_broker_t *mb = new_cluster(1);
  char err[256];
  cr_assert_eq(eddy_mock_broker_topic(mb, "rt", 2, 0, err, sizeof err), 0, "%s", err);
  rd_kafka_t *p = client(RD_KAFKA_PRODUCER, eddy_mock_broker_bootstraps(mb));
  enum { N = 200 };
  for (int i = 0; i < N; i++) {
    char v[32];
    int n = snprintf(v, sizeof v, "value-%d", i);
    cr_assert_eq(rd_kafka_producev(p, RD_KAFKA_V_TOPIC("rt"), RD_KAFKA_V_PARTITION(i % 2),
                                   RD_KAFKA_V_VALUE(v, (size_t)n),
                                   RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
                 RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  cr_assert_eq(rd_kafka_flush(p, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(p);

  rd_kafka_t *c = client(RD_KAFKA_CONSUMER, eddy_mock_broker_bootstraps(mb));
  rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(2);
  rd_kafka_topic_partition_list_add(parts, "rt", 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_topic_partition_list_add(parts, "rt", 1)->offset = RD_KAFKA_OFFSET_BEGINNING;
  cr_assert_eq(rd_kafka_assign(c, parts), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(parts);
  int next[2] = {0, 1}, got = 0;
  double deadline = eddy_now() + 30;
  while (got < N && eddy_now() < deadline) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
    if (!m) continue;
    cr_assert_eq(m->err, RD_KAFKA_RESP_ERR_NO_ERROR, "%s", rd_kafka_message_errstr(m));
    char want[32];
    int pt = m->partition;
    snprintf(want, sizeof want, "value-%d", next[pt]);
    cr_assert_eq(m->len, strlen(want));
    cr_assert(memcmp(m->payload, want, m->len) == 0, "partition %d offset %lld", pt,
              (long long)m->offset);
    cr_assert_eq(m->offset, next[pt] / 2);
    next[pt] += 2;
    got++;
    rd_kafka_message_destroy(m);
  }
  cr_assert_eq(got, N, "got %d", got);
  rd_kafka_consumer_close(c);
  rd_kafka_destroy(c);
  eddy_mock_broker_free(mb);
}

/* ------------------------------------------------------------- ports */

Test(ports, fixed_consecutive_ports) {
  int first = free_ports(3);
  char err[256];
  eddy_mock_broker_t *mb = eddy_mock_broker_new(3, first, err, sizeof err);
  cr_assert_not_null(mb, "%s", err);
  char want[128];
  snprintf(want, sizeof want, "127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d", first, first + 1,
           first + 2);
  cr_assert_str_eq(eddy_mock_broker_bootstraps(mb), want);
  for (int b = 1; b <= 3; b++) cr_assert_eq(eddy_mock_broker_port(mb, b), first + b - 1);
  /* down and up keep the fixed port */
  char r[128];
  cr_assert_eq(cmd(mb, "down 2", r, sizeof r), 0);
  cr_assert_eq(try_connect(first + 1), ECONNREFUSED);
  cr_assert_eq(cmd(mb, "up 2", r, sizeof r), 0);
  cr_assert_eq(try_connect(first + 1), 0);
  eddy_mock_broker_free(mb);
}

Test(ports, taken_port_is_an_error_and_binding_stays_normal) {
  int taken;
  int fd = listen_on(0, &taken);
  cr_assert_geq(fd, 0);
  char err[256];
  eddy_mock_broker_t *mb = eddy_mock_broker_new(1, taken, err, sizeof err);
  cr_assert_null(mb);
  char want[128];
  snprintf(want, sizeof want, "port %d: Address already in use", taken);
  cr_assert_not_null(strstr(err, want), "%s", err);
  close(fd);

  /* Outside eddy_mock_broker_new, bind() is the plain one: port 0 gets an
   * ephemeral port, never one of a previous request. */
  int eph;
  fd = listen_on(0, &eph);
  cr_assert_geq(fd, 0);
  cr_assert_neq(eph, taken + 1);
  close(fd);
  mb = eddy_mock_broker_new(1, 0, err, sizeof err);
  cr_assert_not_null(mb, "%s", err);
  eddy_mock_broker_free(mb);
}

Test(ports, bad_arguments) {
  char err[256];
  cr_assert_null(eddy_mock_broker_new(0, 0, err, sizeof err));
  cr_assert_not_null(strstr(err, "brokers: 0 is not in 1..64"), "%s", err);
  cr_assert_null(eddy_mock_broker_new(65, 0, err, sizeof err));
  cr_assert_null(eddy_mock_broker_new(2, 65535, err, sizeof err));
  cr_assert_not_null(strstr(err, "port: 65535 is not in 0..65534"), "%s", err);
  cr_assert_null(eddy_mock_broker_new(1, -1, err, sizeof err));
}
