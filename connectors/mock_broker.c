/* mock_broker.c: the embedded Kafka-protocol broker behind `eddy broker`:
 * librdkafka's mock cluster on loopback TCP, fixed or ephemeral ports, and
 * the line-oriented control commands that inject faults (broker down/up,
 * round-trip time, request errors, leader and coordinator moves). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <syslog.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "connectors/connectors.h"

#define MAX_BROKERS 64

struct eddy_mock_broker {
  rd_kafka_t *rk; /* the throwaway producer a mock cluster needs */
  rd_kafka_mock_cluster_t *mc;
  int n_brokers;
  int ports[MAX_BROKERS];
  char *bootstraps;
};

/* ------------------------------------------------------------ fixed ports */

/* librdkafka 2.0.2 binds every mock broker to 127.0.0.1 port 0 and has no
 * setting for the port. So that `eddy broker --port 9092` works, this file
 * defines bind(): the executable's definition comes first in symbol lookup,
 * so librdkafka's call lands here. It passes every call straight to libc's
 * bind, except while eddy_mock_broker_new is creating the cluster on this
 * thread: then a bind to 127.0.0.1:0 gets the next requested port. When
 * that port is taken it falls back to an ephemeral one (librdkafka 2.0.2
 * aborts on a failed bind) and records the failure, which
 * eddy_mock_broker_new reports after the fact. The mock creates its
 * brokers' listeners on the calling thread, in id order. */
static pthread_mutex_t port_lock = PTHREAD_MUTEX_INITIALIZER;
static int port_armed; /* atomic: read by every bind in the process */
static pthread_t port_thread;
static int port_next, port_failed, port_errno;

typedef int (*bind_fn)(int, const struct sockaddr *, socklen_t);

static int real_bind(int fd, const struct sockaddr *addr, socklen_t len) {
  static bind_fn fn;
  bind_fn f = __atomic_load_n(&fn, __ATOMIC_ACQUIRE);
  if (!f) {
    f = (bind_fn)dlsym(RTLD_NEXT, "bind");
    if (!f) {
      errno = ENOSYS;
      return -1;
    }
    __atomic_store_n(&fn, f, __ATOMIC_RELEASE);
  }
  return f(fd, addr, len);
}

int bind(int fd, const struct sockaddr *addr, socklen_t len) {
  if (!__atomic_load_n(&port_armed, __ATOMIC_ACQUIRE) || !pthread_equal(pthread_self(), port_thread) ||
      !addr || addr->sa_family != AF_INET || len < (socklen_t)sizeof(struct sockaddr_in))
    return real_bind(fd, addr, len);
  struct sockaddr_in sin;
  memcpy(&sin, addr, sizeof sin);
  if (sin.sin_port != 0 || sin.sin_addr.s_addr != htonl(INADDR_LOOPBACK))
    return real_bind(fd, addr, len);
  int port = port_next++;
  sin.sin_port = htons((uint16_t)port);
  if (real_bind(fd, (const struct sockaddr *)&sin, sizeof sin) == 0) return 0;
  if (!port_failed) {
    port_failed = port;
    port_errno = errno;
  }
  return real_bind(fd, addr, len); /* ephemeral, so that librdkafka goes on */
}

/* ------------------------------------------------------------- lifecycle */

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
  (void)rk;
  eddy_log(level <= LOG_ERR ? EDDY_LOG_ERROR : level <= LOG_WARNING ? EDDY_LOG_WARN : EDDY_LOG_INFO,
           "mock broker: %s: %s", fac, buf);
}

static int parse_bootstraps(eddy_mock_broker_t *mb) {
  const char *p = mb->bootstraps;
  int n = 0;
  while (p && *p && n < MAX_BROKERS) {
    const char *comma = strchr(p, ',');
    const char *end = comma ? comma : p + strlen(p);
    const char *colon = NULL;
    for (const char *q = p; q < end; q++)
      if (*q == ':') colon = q;
    if (!colon) return EDDY_EPARSE;
    mb->ports[n++] = atoi(colon + 1);
    p = comma ? comma + 1 : NULL;
  }
  return n == mb->n_brokers ? 0 : EDDY_EPARSE;
}

eddy_mock_broker_t *eddy_mock_broker_new(int n_brokers, int port, char *errstr,
                                         size_t errstr_size) {
  if (n_brokers < 1 || n_brokers > MAX_BROKERS) {
    eddy_seterr(errstr, errstr_size, EDDY_ERANGE, "brokers: %d is not in 1..%d", n_brokers,
                MAX_BROKERS);
    return NULL;
  }
  if (port < 0 || port + n_brokers - 1 > 65535) {
    eddy_seterr(errstr, errstr_size, EDDY_ERANGE, "port: %d is not in 0..%d", port,
                65535 - n_brokers + 1);
    return NULL;
  }
  eddy_mock_broker_t *mb = calloc(1, sizeof *mb);
  if (!mb) {
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    return NULL;
  }
  mb->n_brokers = n_brokers;
  char e[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set_log_cb(conf, log_cb);
  if (rd_kafka_conf_set(conf, "client.id", "eddy-mock-broker", e, sizeof e) ||
      rd_kafka_conf_set(conf, "log_level", "4", e, sizeof e)) {
    rd_kafka_conf_destroy(conf);
    eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "mock broker: %s", e);
    free(mb);
    return NULL;
  }
  mb->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
  if (!mb->rk) {
    rd_kafka_conf_destroy(conf);
    eddy_seterr(errstr, errstr_size, EDDY_EIO, "mock broker: %s", e);
    free(mb);
    return NULL;
  }

  int failed = 0, ferr = 0;
  if (port > 0) {
    pthread_mutex_lock(&port_lock);
    port_thread = pthread_self();
    port_next = port;
    port_failed = 0;
    __atomic_store_n(&port_armed, 1, __ATOMIC_RELEASE);
  }
  mb->mc = rd_kafka_mock_cluster_new(mb->rk, n_brokers);
  if (port > 0) {
    __atomic_store_n(&port_armed, 0, __ATOMIC_RELEASE);
    failed = port_failed;
    ferr = port_errno;
    pthread_mutex_unlock(&port_lock);
  }
  if (!mb->mc) {
    eddy_seterr(errstr, errstr_size, EDDY_EIO, "mock broker: cannot create the cluster");
    eddy_mock_broker_free(mb);
    return NULL;
  }
  if (failed) {
    eddy_seterr(errstr, errstr_size, EDDY_EIO, "mock broker: port %d: %s", failed,
                strerror(ferr));
    eddy_mock_broker_free(mb);
    return NULL;
  }
  mb->bootstraps = strdup(rd_kafka_mock_cluster_bootstraps(mb->mc));
  if (!mb->bootstraps || parse_bootstraps(mb) < 0) {
    eddy_seterr(errstr, errstr_size, EDDY_EIO, "mock broker: unexpected bootstrap list '%s'",
                mb->bootstraps ? mb->bootstraps : "");
    eddy_mock_broker_free(mb);
    return NULL;
  }
  if (port > 0)
    for (int i = 0; i < n_brokers; i++)
      if (mb->ports[i] != port + i) { /* the mock bound in another order */
        eddy_seterr(errstr, errstr_size, EDDY_EIO,
                    "mock broker: broker %d listens on %d, not %d", i + 1, mb->ports[i],
                    port + i);
        eddy_mock_broker_free(mb);
        return NULL;
      }
  return mb;
}

void eddy_mock_broker_free(eddy_mock_broker_t *mb) {
  if (!mb) return;
  if (mb->mc) rd_kafka_mock_cluster_destroy(mb->mc);
  if (mb->rk) rd_kafka_destroy(mb->rk);
  free(mb->bootstraps);
  free(mb);
}

const char *eddy_mock_broker_bootstraps(const eddy_mock_broker_t *mb) { return mb->bootstraps; }

int eddy_mock_broker_count(const eddy_mock_broker_t *mb) { return mb->n_brokers; }

int eddy_mock_broker_port(const eddy_mock_broker_t *mb, int broker_id) {
  if (broker_id < 1 || broker_id > mb->n_brokers) return EDDY_ENOENT;
  return mb->ports[broker_id - 1];
}

struct rd_kafka_mock_cluster_s *eddy_mock_broker_cluster(eddy_mock_broker_t *mb) {
  return mb->mc;
}

/* The characters Kafka allows in a topic name. */
#define TOPIC_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"

static int mock_err(char *errstr, size_t size, rd_kafka_resp_err_t err) {
  return eddy_seterr(errstr, size, EDDY_EINVAL, "%s: %s", rd_kafka_err2name(err),
                     rd_kafka_err2str(err));
}

int eddy_mock_broker_topic(eddy_mock_broker_t *mb, const char *topic, int partitions,
                           int replication, char *errstr, size_t errstr_size) {
  size_t len = topic ? strlen(topic) : 0;
  if (len == 0 || len > 249 || strspn(topic, TOPIC_CHARS) != len ||
      strcmp(topic, ".") == 0 || strcmp(topic, "..") == 0)
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL,
                       "topic '%s': a name is 1..249 of [a-zA-Z0-9._-], as Kafka requires",
                       topic ? topic : "");
  if (partitions < 1 || partitions > 100000)
    return eddy_seterr(errstr, errstr_size, EDDY_ERANGE, "partitions: %d is not in 1..100000",
                       partitions);
  if (replication == 0) replication = mb->n_brokers < 3 ? mb->n_brokers : 3;
  if (replication < 1 || replication > mb->n_brokers)
    return eddy_seterr(errstr, errstr_size, EDDY_ERANGE, "replication: %d is not in 1..%d",
                       replication, mb->n_brokers);
  rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mb->mc, topic, partitions, replication);
  if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "topic '%s' already exists", topic);
  return err ? mock_err(errstr, errstr_size, err) : 0;
}

/* ------------------------------------------------------- protocol names */

/* Kafka protocol request types, as Kafka's ApiKeys names them. */
static const char *const api_names[] = {
    "Produce", "Fetch", "ListOffsets", "Metadata", "LeaderAndIsr", "StopReplica",
    "UpdateMetadata", "ControlledShutdown", "OffsetCommit", "OffsetFetch", "FindCoordinator",
    "JoinGroup", "Heartbeat", "LeaveGroup", "SyncGroup", "DescribeGroups", "ListGroups",
    "SaslHandshake", "ApiVersions", "CreateTopics", "DeleteTopics", "DeleteRecords",
    "InitProducerId", "OffsetForLeaderEpoch", "AddPartitionsToTxn", "AddOffsetsToTxn", "EndTxn",
    "WriteTxnMarkers", "TxnOffsetCommit", "DescribeAcls", "CreateAcls", "DeleteAcls",
    "DescribeConfigs", "AlterConfigs", "AlterReplicaLogDirs", "DescribeLogDirs",
    "SaslAuthenticate", "CreatePartitions", "CreateDelegationToken", "RenewDelegationToken",
    "ExpireDelegationToken", "DescribeDelegationToken", "DeleteGroups", "ElectLeaders",
    "IncrementalAlterConfigs", "AlterPartitionReassignments", "ListPartitionReassignments",
    "OffsetDelete", "DescribeClientQuotas", "AlterClientQuotas", "DescribeUserScramCredentials",
    "AlterUserScramCredentials"};
#define N_API ((int)(sizeof api_names / sizeof api_names[0]))

int eddy_kafka_api_key(const char *s) {
  int64_t v;
  if (!s) return EDDY_ENOENT;
  if (eddy_parse_int(s, &v) == 0) return v >= 0 && v < N_API ? (int)v : EDDY_ENOENT;
  for (int i = 0; i < N_API; i++)
    if (strcasecmp(s, api_names[i]) == 0) return i;
  return EDDY_ENOENT;
}

int eddy_kafka_err_code(const char *s, int *code) {
  if (!s || !*s) return EDDY_ENOENT;
  const struct rd_kafka_err_desc *descs;
  size_t n;
  rd_kafka_get_err_descs(&descs, &n);
  int64_t v;
  int numeric = eddy_parse_int(s, &v) == 0;
  if (!numeric && strncasecmp(s, "RD_KAFKA_RESP_ERR_", 18) == 0) s += 18;
  for (size_t i = 0; i < n; i++) {
    if (!descs[i].name) continue;
    if (numeric ? (int64_t)descs[i].code == v : strcasecmp(s, descs[i].name) == 0) {
      *code = (int)descs[i].code;
      return 0;
    }
  }
  return EDDY_ENOENT;
}

/* --------------------------------------------------------------- control */

static const char help_text[] =
    "down BROKER                      disconnect a broker and refuse connections (BROKER: id, or all)\n"
    "up BROKER                        accept connections again\n"
    "rtt BROKER MS                    add MS milliseconds to every response of a broker (0: none)\n"
    "error API ERR [COUNT]            fail the next COUNT (1) requests of type API with ERR\n"
    "broker-error BROKER API ERR MS [COUNT]  the same on one broker, each response delayed by MS\n"
    "clear-errors API                 drop the queued errors for API (cluster-wide ones)\n"
    "leader TOPIC PARTITION BROKER    move a partition's leader (BROKER -1: leaderless)\n"
    "coordinator group|transaction KEY BROKER  move the coordinator of a group or transactional id\n"
    "topic NAME PARTITIONS [REPLICAS] create a topic\n"
    "topic-error TOPIC ERR            metadata requests for TOPIC return ERR (NO_ERROR clears)\n"
    "apiversion API MIN MAX           restrict the versions of a request type (-1 -1: disabled)\n"
    "brokers                          print the bootstrap list\n"
    "help                             this list\n"
    "API: a request name (Produce, Fetch, Metadata, JoinGroup, ...) or number; ERR: a librdkafka\n"
    "error name (NOT_LEADER_FOR_PARTITION, _TRANSPORT disconnects, ...) or number.\n";

const char *eddy_mock_broker_help(void) { return help_text; }

#define MAX_ARGS 8

static int int_arg(const char *s, const char *what, int64_t lo, int64_t hi, int *out,
                   char *reply, size_t size) {
  int64_t v;
  if (eddy_parse_int(s, &v) < 0)
    return eddy_seterr(reply, size, EDDY_EINVAL, "%s: '%s' is not a whole number", what, s);
  if (v < lo || v > hi)
    return eddy_seterr(reply, size, EDDY_ERANGE, "%s: %s is not in %lld..%lld", what, s,
                       (long long)lo, (long long)hi);
  *out = (int)v;
  return 0;
}

/* A broker id of this cluster, or -1 for all when allow_all. */
static int broker_arg(const eddy_mock_broker_t *mb, const char *s, int allow_all, int *out,
                      char *reply, size_t size) {
  if (allow_all && (strcasecmp(s, "all") == 0 || strcmp(s, "-1") == 0)) {
    *out = -1;
    return 0;
  }
  int64_t v;
  if (eddy_parse_int(s, &v) < 0 || v < 1 || v > mb->n_brokers)
    return eddy_seterr(reply, size, EDDY_ENOENT, "no broker '%s' (brokers: 1..%d%s)", s,
                       mb->n_brokers, allow_all ? ", all" : "");
  *out = (int)v;
  return 0;
}

static int api_arg(const char *s, int *out, char *reply, size_t size) {
  int k = eddy_kafka_api_key(s);
  if (k < 0)
    return eddy_seterr(reply, size, EDDY_ENOENT,
                       "unknown request type '%s' (a name such as Produce, Fetch, Metadata, "
                       "JoinGroup, or 0..%d)",
                       s, N_API - 1);
  *out = k;
  return 0;
}

static int err_arg(const char *s, int *out, char *reply, size_t size) {
  if (eddy_kafka_err_code(s, out) < 0)
    return eddy_seterr(reply, size, EDDY_ENOENT,
                       "unknown error code '%s' (a librdkafka name such as "
                       "NOT_LEADER_FOR_PARTITION or _TRANSPORT, or its number)",
                       s);
  return 0;
}

static int usage_err(char *reply, size_t size, const char *usage) {
  return eddy_seterr(reply, size, EDDY_EINVAL, "usage: %s", usage);
}

int eddy_mock_broker_command(eddy_mock_broker_t *mb, const char *line, char *reply,
                             size_t reply_size) {
  char buf[1024];
  char *av[MAX_ARGS + 1];
  int ac = 0;
  if (reply_size) reply[0] = '\0';
  size_t len = strlen(line);
  if (len >= sizeof buf)
    return eddy_seterr(reply, reply_size, EDDY_ERANGE, "command longer than %zu bytes",
                       sizeof buf - 1);
  memcpy(buf, line, len + 1);
  for (char *p = buf; *p;) {
    while (isspace((unsigned char)*p)) p++;
    if (!*p) break;
    if (ac == MAX_ARGS + 1) return eddy_seterr(reply, reply_size, EDDY_EINVAL, "too many words");
    av[ac++] = p;
    while (*p && !isspace((unsigned char)*p)) p++;
    if (*p) *p++ = '\0';
  }
  if (ac == 0 || av[0][0] == '#') return 0;
  const char *cmd = av[0];
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  int rc, id, a, b, c, n;

  if (strcmp(cmd, "help") == 0) {
    snprintf(reply, reply_size, "%s", help_text);
    return 0;
  }
  if (strcmp(cmd, "brokers") == 0) {
    if (ac != 1) return usage_err(reply, reply_size, "brokers");
    snprintf(reply, reply_size, "%s\n", mb->bootstraps);
    return 0;
  }
  if (strcmp(cmd, "down") == 0 || strcmp(cmd, "up") == 0) {
    if (ac != 2) return usage_err(reply, reply_size, "down|up BROKER");
    if ((rc = broker_arg(mb, av[1], 1, &id, reply, reply_size)) < 0) return rc;
    err = cmd[0] == 'd' ? rd_kafka_mock_broker_set_down(mb->mc, id)
                        : rd_kafka_mock_broker_set_up(mb->mc, id);
  } else if (strcmp(cmd, "rtt") == 0) {
    if (ac != 3) return usage_err(reply, reply_size, "rtt BROKER MS");
    if ((rc = broker_arg(mb, av[1], 1, &id, reply, reply_size)) < 0 ||
        (rc = int_arg(av[2], "MS", 0, 3600000, &a, reply, reply_size)) < 0)
      return rc;
    err = rd_kafka_mock_broker_set_rtt(mb->mc, id, a);
  } else if (strcmp(cmd, "error") == 0) {
    if (ac != 3 && ac != 4) return usage_err(reply, reply_size, "error API ERR [COUNT]");
    n = 1;
    if ((rc = api_arg(av[1], &a, reply, reply_size)) < 0 ||
        (rc = err_arg(av[2], &b, reply, reply_size)) < 0 ||
        (ac == 4 && (rc = int_arg(av[3], "COUNT", 1, 100000, &n, reply, reply_size)) < 0))
      return rc;
    rd_kafka_resp_err_t *errs = malloc((size_t)n * sizeof *errs);
    if (!errs) return eddy_seterr(reply, reply_size, EDDY_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++) errs[i] = (rd_kafka_resp_err_t)b;
    rd_kafka_mock_push_request_errors_array(mb->mc, (int16_t)a, (size_t)n, errs);
    free(errs);
  } else if (strcmp(cmd, "broker-error") == 0) {
    if (ac != 5 && ac != 6)
      return usage_err(reply, reply_size, "broker-error BROKER API ERR MS [COUNT]");
    n = 1;
    if ((rc = broker_arg(mb, av[1], 0, &id, reply, reply_size)) < 0 ||
        (rc = api_arg(av[2], &a, reply, reply_size)) < 0 ||
        (rc = err_arg(av[3], &b, reply, reply_size)) < 0 ||
        (rc = int_arg(av[4], "MS", 0, 3600000, &c, reply, reply_size)) < 0 ||
        (ac == 6 && (rc = int_arg(av[5], "COUNT", 1, 100000, &n, reply, reply_size)) < 0))
      return rc;
    for (int i = 0; i < n && !err; i++)
      err = rd_kafka_mock_broker_push_request_error_rtts(mb->mc, id, (int16_t)a, 1,
                                                         (rd_kafka_resp_err_t)b, c);
  } else if (strcmp(cmd, "clear-errors") == 0) {
    if (ac != 2) return usage_err(reply, reply_size, "clear-errors API");
    if ((rc = api_arg(av[1], &a, reply, reply_size)) < 0) return rc;
    rd_kafka_mock_clear_request_errors(mb->mc, (int16_t)a);
  } else if (strcmp(cmd, "leader") == 0) {
    if (ac != 4) return usage_err(reply, reply_size, "leader TOPIC PARTITION BROKER");
    if ((rc = int_arg(av[2], "PARTITION", 0, 99999, &a, reply, reply_size)) < 0) return rc;
    if (strcmp(av[3], "-1") == 0)
      id = -1;
    else if ((rc = broker_arg(mb, av[3], 0, &id, reply, reply_size)) < 0)
      return rc;
    err = rd_kafka_mock_partition_set_leader(mb->mc, av[1], a, id);
  } else if (strcmp(cmd, "coordinator") == 0) {
    if (ac != 4) return usage_err(reply, reply_size, "coordinator group|transaction KEY BROKER");
    if (strcmp(av[1], "group") != 0 && strcmp(av[1], "transaction") != 0)
      return eddy_seterr(reply, reply_size, EDDY_EINVAL,
                         "coordinator: '%s' is neither group nor transaction", av[1]);
    if ((rc = broker_arg(mb, av[3], 0, &id, reply, reply_size)) < 0) return rc;
    err = rd_kafka_mock_coordinator_set(mb->mc, av[1], av[2], id);
  } else if (strcmp(cmd, "topic") == 0) {
    if (ac != 3 && ac != 4) return usage_err(reply, reply_size, "topic NAME PARTITIONS [REPLICAS]");
    b = 0;
    if ((rc = int_arg(av[2], "PARTITIONS", 1, 100000, &a, reply, reply_size)) < 0 ||
        (ac == 4 && (rc = int_arg(av[3], "REPLICAS", 1, mb->n_brokers, &b, reply, reply_size)) < 0))
      return rc;
    return eddy_mock_broker_topic(mb, av[1], a, b, reply, reply_size);
  } else if (strcmp(cmd, "topic-error") == 0) {
    if (ac != 3) return usage_err(reply, reply_size, "topic-error TOPIC ERR");
    if ((rc = err_arg(av[2], &b, reply, reply_size)) < 0) return rc;
    rd_kafka_mock_topic_set_error(mb->mc, av[1], (rd_kafka_resp_err_t)b);
  } else if (strcmp(cmd, "apiversion") == 0) {
    if (ac != 4) return usage_err(reply, reply_size, "apiversion API MIN MAX");
    if ((rc = api_arg(av[1], &a, reply, reply_size)) < 0 ||
        (rc = int_arg(av[2], "MIN", -1, 32767, &b, reply, reply_size)) < 0 ||
        (rc = int_arg(av[3], "MAX", -1, 32767, &c, reply, reply_size)) < 0)
      return rc;
    err = rd_kafka_mock_set_apiversion(mb->mc, (int16_t)a, (int16_t)b, (int16_t)c);
  } else {
    return eddy_seterr(reply, reply_size, EDDY_ENOENT, "unknown command '%s' (try help)", cmd);
  }
  return err ? mock_err(reply, reply_size, err) : 0;
}
