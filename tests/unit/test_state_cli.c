/* test_state_cli.c: `eddy models` and `eddy alerts` end to end, against a
 * real redis-server (checkpoints and the alerts stream written by the
 * library) and, for a pipeline without Redis, against librdkafka's mock
 * cluster holding an alerts topic. EDDY_BIN names the binary. */
#include <criterion/criterion.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <openssl/evp.h>
#include <string.h>

#include "core/core.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
#include "connectors/connectors.h"
#include "learners/learners.h"
#include "redis_util.h"

static redis_srv_t srv;
static uv_loop_t loop;
static char err[2048];
static char ini[256];

static const char *bin(void) {
  const char *b = getenv("EDDY_BIN");
  if (!b || !*b) cr_skip_test("EDDY_BIN is not set (run through make test)");
  return b;
}

static void start(void) {
  uv_loop_init(&loop);
  if (redis_srv_start(&srv, NULL)) cr_skip_test("cannot start %s", REDIS_SERVER_BIN);
}

static void stop(void) {
  redis_srv_stop(&srv);
  if (ini[0]) remove(ini);
  uv_run(&loop, UV_RUN_NOWAIT);
  uv_loop_close(&loop);
}

static int run(const char *cmd, char **out) {
  FILE *p = popen(cmd, "r");
  cr_assert_not_null(p);
  size_t cap = 1 << 16, n = 0, r;
  *out = malloc(cap);
  while ((r = fread(*out + n, 1, cap - n - 1, p)) > 0) {
    n += r;
    if (n + 1 == cap) *out = realloc(*out, cap *= 2);
  }
  (*out)[n] = '\0';
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_ini(const char *text) {
  snprintf(ini, sizeof ini, "/tmp/eddy-state-cli-%d.ini", (int)getpid());
  FILE *f = fopen(ini, "w");
  cr_assert_not_null(f);
  fputs(text, f);
  fclose(f);
}

typedef struct conn {
  eddy_redis_t *r;
  int ready, closed, done;
} conn_t;

static void conn_ready(void *ctx, int ready) { ((conn_t *)ctx)->ready = ready; }
static void conn_closed(void *ctx) { ((conn_t *)ctx)->closed = 1; }
static void ckpt_done(void *ctx, int status, int64_t stored) {
  (void)stored;
  cr_assert_eq(status, 0);
  ((conn_t *)ctx)->done++;
}

static void conn_open(conn_t *c) {
  memset(c, 0, sizeof *c);
  c->r = eddy_redis_new(&loop, srv.url, NULL, err, sizeof err);
  cr_assert_not_null(c->r, "%s", err);
  eddy_redis_on_ready(c->r, conn_ready, c);
  cr_assert(run_until(&loop, &c->ready, 5));
}

static void conn_flush_close(conn_t *c) {
  for (int i = 0; i < 500 && eddy_redis_pending(c->r); i++) run_for(&loop, 0.01);
  eddy_redis_close(c->r, conn_closed, c);
  cr_assert(run_until(&loop, &c->closed, 15));
  uv_run(&loop, UV_RUN_DEFAULT);
}

static void sha256_hex(const void *p, size_t len, char *hex) {
  unsigned char md[32];
  unsigned int n = 0;
  EVP_Digest(p, len, md, &n, EVP_sha256(), NULL);
  for (unsigned i = 0; i < n; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static void model_blob(eddy_buf_t *b) {
  eddy_schema_t *s = eddy_schema_new(EDDY_REGRESSION, "y", 0, 0, err, sizeof err);
  eddy_learner_t *l = eddy_learner_new("majority", s, NULL, 0, 1, err, sizeof err);
  eddy_buf_init(b);
  eddy_model_save(s, l, b);
  eddy_learner_free(l);
  eddy_schema_free(s);
}

Test(models_cli, lists_checkpoints_with_sha256, .init = start, .fini = stop) {
  const char *b = bin();
  char text[1024];
  snprintf(text, sizeof text,
           "[pipeline]\nname = fraud\n[features]\ntarget = y\n[state]\nstore = %s\n[model]\nlearner = majority\n"
           "[pipeline]\nname = local\n[features]\ntarget = y\n[model]\nlearner = majority\n",
           srv.url);
  write_ini(text);
  conn_t c;
  conn_open(&c);
  eddy_buf_t m;
  model_blob(&m);
  eddy_ckpt_write(c.r, "eddy", "fraud", 0, 1234, 3, "majority", m.data, m.len, ckpt_done, &c);
  eddy_ckpt_write(c.r, "eddy", "fraud", 2, 99, 1, "majority", m.data, m.len - 1, ckpt_done, &c);
  conn_flush_close(&c);
  cr_assert_eq(c.done, 2);
  char sha[65];
  sha256_hex(m.data, m.len, sha);

  char cmd[512], *out;
  snprintf(cmd, sizeof cmd, "%s models -c %s 2>&1", b, ini);
  int rc = run(cmd, &out);
  /* Partition 2's bytes are truncated: refused with its key; exit 1. */
  cr_assert_eq(rc, 1, "%s", out);
  cr_assert(strstr(out, "pipeline local keeps its state in memory"), "%s", out);
  char *row = strstr(out, "\nfraud ");
  cr_assert_not_null(row, "%s", out);
  char pipe[32], learner[32], hash[80], when[40];
  int part;
  unsigned long long ver, bytes;
  long long off;
  cr_assert_eq(sscanf(row + 1, "%31s %d %31s %llu %lld %llu %79s %39s", pipe, &part, learner, &ver, &off,
                      &bytes, hash, when), 8, "%s", row);
  cr_assert_eq(part, 0);
  cr_assert_str_eq(learner, "majority");
  cr_assert_eq(ver, 3);
  cr_assert_eq(off, 1234);
  cr_assert_eq(bytes, m.len);
  cr_assert_str_eq(hash, sha);
  cr_assert(strstr(out, "eddy:fraud:ckpt:2") && strstr(out, "REFUSED"), "%s", out);
  free(out);

  snprintf(cmd, sizeof cmd, "%s models -c %s --pipeline fraud --json 2>/dev/null", b, ini);
  rc = run(cmd, &out);
  cr_assert_eq(rc, 1);
  char want[256];
  snprintf(want, sizeof want,
           "{\"pipeline\":\"fraud\",\"partition\":0,\"learner\":\"majority\",\"version\":3,"
           "\"next_offset\":1234,\"bytes\":%zu,\"sha256\":\"%s\",",
           m.len, sha);
  cr_assert(strncmp(out, want, strlen(want)) == 0, "%s\nwant %s", out, want);
  cr_assert(strstr(out, "{\"pipeline\":\"fraud\",\"partition\":2,\"key\":\"eddy:fraud:ckpt:2\",\"error\":"), "%s", out);
  free(out);
  eddy_buf_free(&m);
}

static void add_alerts(conn_t *c, int n, double t0) {
  for (int i = 0; i < n; i++) {
    eddy_alert_t a = {.pipeline = "fraud", .partition = 0, .offset = 500 + i, .index = (uint64_t)(10 * i),
                      .detector = "ddm", .kind = "drift", .statistic = 3.5, .threshold = 3,
                      .action = "reset", .version_before = (uint64_t)i + 1, .version_after = (uint64_t)i + 2,
                      .time = t0 + i};
    cr_assert_eq(eddy_alert_xadd(c->r, "eddy", 1000, &a), 0);
  }
}

Test(alerts_cli, from_redis_text_json_since_follow, .init = start, .fini = stop) {
  const char *b = bin();
  char text[1024];
  snprintf(text, sizeof text,
           "[pipeline]\nname = fraud\n[features]\ntarget = y\n[state]\nstore = %s\n[model]\nlearner = majority\n",
           srv.url);
  write_ini(text);
  conn_t c;
  conn_open(&c);
  add_alerts(&c, 3, eddy_wallclock());
  conn_flush_close(&c);

  char cmd[512], *out;
  snprintf(cmd, sizeof cmd, "%s alerts -c %s 2>&1", b, ini);
  cr_assert_eq(run(cmd, &out), 0, "%s", out);
  cr_assert(strstr(out, "drift      fraud/ddm at instance 0 (partition 0 offset 500): statistic 3.5, "
                        "threshold 3; action reset, model v1 -> v2"), "%s", out);
  cr_assert(strstr(out, "at instance 20 (partition 0 offset 502)"), "%s", out);
  free(out);

  snprintf(cmd, sizeof cmd, "%s alerts -c %s --json 2>&1", b, ini);
  cr_assert_eq(run(cmd, &out), 0, "%s", out);
  int lines = 0;
  for (char *p = out; (p = strstr(p, "{\"pipeline\":\"fraud\",\"partition\":0,\"offset\":")); p++) lines++;
  cr_assert_eq(lines, 3, "%s", out);
  free(out);

  /* --since in the future: nothing; an hour ago: all three. */
  snprintf(cmd, sizeof cmd, "%s alerts -c %s --json --since %.0f 2>&1", b, ini, eddy_wallclock() + 3600);
  cr_assert_eq(run(cmd, &out), 0, "%s", out);
  cr_assert_str_eq(out, "");
  free(out);
  snprintf(cmd, sizeof cmd, "%s alerts -c %s --json --since 1h 2>&1", b, ini);
  cr_assert_eq(run(cmd, &out), 0, "%s", out);
  cr_assert(strstr(out, "\"offset\":502"), "%s", out);
  free(out);
  snprintf(cmd, sizeof cmd, "%s alerts -c %s --since yesterday 2>&1", b, ini);
  cr_assert_eq(run(cmd, &out), 2, "%s", out);
  cr_assert(strstr(out, "--since 'yesterday'"), "%s", out);
  free(out);

  /* --follow: prints the past, then what arrives. */
  char log[200];
  snprintf(log, sizeof log, "/tmp/eddy-follow-%d.out", (int)getpid());
  snprintf(cmd, sizeof cmd, "timeout -s INT 3 %s alerts -c %s --follow --json > %s 2>&1", b, ini, log);
  FILE *p = popen(cmd, "r");
  usleep(1200000);
  conn_open(&c);
  add_alerts(&c, 1, eddy_wallclock());
  conn_flush_close(&c);
  pclose(p);
  FILE *f = fopen(log, "r");
  cr_assert_not_null(f);
  char buf[8192];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  remove(log);
  lines = 0;
  for (char *q = buf; (q = strstr(q, "\"offset\":500")); q++) lines++;
  cr_assert_eq(lines, 2, "the old alert at 500 and the new one: %s", buf);
}

/* ------------------------------------------------------ alerts from Kafka */

static void no_server(void) { uv_loop_init(&loop); }

Test(alerts_cli, from_the_alerts_topic_without_redis, .init = no_server, .fini = stop) {
  const char *b = bin();
  char kerr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "0", kerr, sizeof kerr);
  rd_kafka_t *owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, kerr, sizeof kerr);
  cr_assert_not_null(owner, "%s", kerr);
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(owner, 1);
  cr_assert_not_null(mc);
  const char *bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
  rd_kafka_mock_topic_create(mc, "fraud.alerts", 2, 1);

  rd_kafka_conf_t *pc = rd_kafka_conf_new();
  rd_kafka_conf_set(pc, "bootstrap.servers", bootstraps, kerr, sizeof kerr);
  rd_kafka_t *prod = rd_kafka_new(RD_KAFKA_PRODUCER, pc, kerr, sizeof kerr);
  cr_assert_not_null(prod, "%s", kerr);
  for (int i = 0; i < 4; i++) {
    eddy_alert_t a = {.pipeline = "fraud", .partition = i % 2, .offset = 70 + i, .index = (uint64_t)i,
                      .detector = "adwin", .kind = "warning", .statistic = 0.1, .threshold = 0.2,
                      .action = "none", .version_before = 1, .version_after = 1, .time = 1700000000 + i};
    eddy_buf_t j;
    eddy_buf_init(&j);
    eddy_alert_json(&a, &j);
    cr_assert_eq(rd_kafka_producev(prod, RD_KAFKA_V_TOPIC("fraud.alerts"), RD_KAFKA_V_PARTITION(i % 2),
                                   RD_KAFKA_V_VALUE(j.data, j.len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                   RD_KAFKA_V_END),
                 0);
    eddy_buf_free(&j);
  }
  cr_assert_eq(rd_kafka_flush(prod, 10000), 0);

  char text[1024];
  snprintf(text, sizeof text,
           "[pipeline]\nname = fraud\n[kafka]\nbootstrap.servers = %s\n[features]\ntarget = y\n"
           "[model]\nlearner = majority\n[sink]\nalerts = fraud.alerts\n",
           bootstraps);
  write_ini(text);
  char cmd[512], *out;
  snprintf(cmd, sizeof cmd, "%s alerts -c %s --timeout 20 2>&1", b, ini);
  int rc = run(cmd, &out);
  cr_assert_eq(rc, 0, "%s", out);
  for (int i = 0; i < 4; i++) {
    char want[128];
    snprintf(want, sizeof want, "warning    fraud/adwin at instance %d (partition %d offset %d)", i, i % 2, 70 + i);
    cr_assert(strstr(out, want), "lacks '%s':\n%s", want, out);
  }
  cr_assert(strstr(out, "2023-11-14T22:13:20.000Z warning"), "time from the JSON: %s", out);
  free(out);
  snprintf(cmd, sizeof cmd, "%s alerts -c %s --json --timeout 20 2>&1", b, ini);
  cr_assert_eq(run(cmd, &out), 0, "%s", out);
  int lines = 0;
  for (char *p = out; (p = strstr(p, "{\"pipeline\":\"fraud\"")); p++) lines++;
  cr_assert_eq(lines, 4, "%s", out);
  free(out);

  rd_kafka_destroy(prod);
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(owner);
}
