/* connectors.h: the connectors' interface: where records come from and go
 * to (Kafka, Redis, files), the codecs (Avro, JSON, CSV) and the embedded
 * Kafka-protocol broker. Each section below is self-contained. */
#ifndef EDDY_CONNECTORS_H
#define EDDY_CONNECTORS_H

#include <stddef.h>

#include "../engine/eddy.h"

/* ------------------------------------------------ embedded mock broker */

/* A local Kafka-protocol cluster: librdkafka's mock cluster
 * (rdkafka_mock.h), listening on loopback TCP, so kcat and any Kafka client
 * in any process can use it. All topic data lives in the memory of the
 * process that owns it (`eddy broker` runs it as its own process; `eddy
 * demo` may embed one). Limits of librdkafka 2.0.2's mock: see
 * ../shared/PITFALLS.md (5 MB per partition, unknown topics auto-created
 * with 4 partitions, first group join waits ~3 s, no CreateTopics). */
typedef struct eddy_mock_broker eddy_mock_broker_t;
struct rd_kafka_mock_cluster_s;

/* Starts n_brokers brokers (ids 1..n_brokers, 1 <= n_brokers <= 64) on
 * 127.0.0.1. port 0: the kernel picks ephemeral ports; port P > 0: broker i
 * listens on P + i - 1, and EDDY_EIO (naming the port) when one of them is
 * taken. Returns NULL on failure with the reason in errstr. Free with
 * eddy_mock_broker_free. */
eddy_mock_broker_t *eddy_mock_broker_new(int n_brokers, int port, char *errstr,
                                         size_t errstr_size);
void eddy_mock_broker_free(eddy_mock_broker_t *mb);

/* "127.0.0.1:p1,127.0.0.1:p2,...", owned by mb. */
const char *eddy_mock_broker_bootstraps(const eddy_mock_broker_t *mb);
int eddy_mock_broker_count(const eddy_mock_broker_t *mb);
/* The listening port of broker id (1-based), or EDDY_ENOENT. */
int eddy_mock_broker_port(const eddy_mock_broker_t *mb, int broker_id);
/* The underlying cluster, for rdkafka_mock.h calls not wrapped here. */
struct rd_kafka_mock_cluster_s *eddy_mock_broker_cluster(eddy_mock_broker_t *mb);

/* Creates a topic with `partitions` partitions (1..100000) and
 * `replication` replicas (0: min(3, brokers)). An existing topic is
 * EDDY_EINVAL ("already exists"). */
int eddy_mock_broker_topic(eddy_mock_broker_t *mb, const char *topic, int partitions,
                           int replication, char *errstr, size_t errstr_size);

/* Runs one control command (one line, no newline needed), e.g. "down 1",
 * "leader t 0 2", "error Produce NOT_LEADER_FOR_PARTITION 3". On success
 * returns 0 and reply holds what the command prints (empty for most; `help`
 * gives the command list), each line ending in '\n'. On failure returns a
 * negative EDDY_E* code and reply holds the reason (one line, no newline).
 * A blank line or a '#' comment does nothing. Thread-safe with respect to
 * the cluster (librdkafka serialises mock commands). */
int eddy_mock_broker_command(eddy_mock_broker_t *mb, const char *line, char *reply,
                             size_t reply_size);
/* The control commands, one per line, for `help` and usage texts. */
const char *eddy_mock_broker_help(void);

/* Kafka protocol helpers the control commands use. A request type by its
 * protocol name (case-insensitive: "Produce", "fetch", "JoinGroup", ...) or
 * its number; returns the API key or EDDY_ENOENT. */
int eddy_kafka_api_key(const char *s);
/* An error code by its librdkafka name with or without the
 * RD_KAFKA_RESP_ERR_ prefix (case-insensitive: "NOT_LEADER_FOR_PARTITION",
 * "_TRANSPORT", "no_error") or its number; 0 with *code set, or EDDY_ENOENT. */
int eddy_kafka_err_code(const char *s, int *code);

#endif /* EDDY_CONNECTORS_H */
