/* connectors.h: the connectors' interface: how record fields map onto a
 * schema, the decoded record, the CSV / JSON / Avro decoders, line readers
 * for files, and the embedded Kafka-protocol broker. Sources and sinks
 * (Kafka, Redis) are declared below them. Each section is self-contained. */
#ifndef EDDY_CONNECTORS_H
#define EDDY_CONNECTORS_H

#include <librdkafka/rdkafka.h>

#include "../engine/eddy.h"

/* ------------------------------------------------------------ field map */

/* What a record field feeds. */
typedef enum {
  EDDY_FIELD_IGNORE = 0,
  EDDY_FIELD_ATTR,   /* attribute `index` of the schema */
  EDDY_FIELD_TARGET,
  EDDY_FIELD_KEY,    /* entity key for the state store */
  EDDY_FIELD_ID,     /* record id for labels that arrive later */
  EDDY_FIELD_TIME,
  EDDY_FIELD_WEIGHT,
  EDDY_FIELD_AUX     /* a number the state store needs (aggregate input) */
} eddy_field_kind_t;

typedef struct eddy_field {
  char *name;
  eddy_field_kind_t kind;
  int index; /* ATTR: attribute index; AUX: aux slot */
  eddy_attr_kind_t attr_kind;
} eddy_field_t;

/* The fields of a pipeline's records and what each feeds. Built once per
 * pipeline from [features]; every model replica's schema made from it has
 * the same attribute layout. */
typedef struct eddy_fields {
  eddy_task_t task;
  eddy_field_t *v;
  size_t n;
  size_t n_attrs;
  size_t n_aux;
  uint32_t max_values, max_classes;
  char *target;
  uint32_t *table; /* open addressing by name hash: field index + 1 */
  uint32_t table_size;
  int infer; /* numeric attributes not listed: unknown fields become numeric */
} eddy_fields_t;

/* Builds the field map. `names` (may be NULL) are the fields records have,
 * in order (a CSV header, an Avro schema's fields): attributes then follow
 * that order, and with [features] numeric empty every name not claimed by
 * another key becomes a numeric attribute. Without names, attributes are
 * the numeric list then the nominal list. aux are extra numeric inputs
 * (aggregate fields) that are not attributes. A name listed in [features]
 * but absent from `names` is an error. Free with eddy_fields_free. */
eddy_fields_t *eddy_fields_new(const eddy_pipeline_conf_t *c, const char *const *names,
                               size_t n_names, const char *const *aux, size_t n_aux,
                               char *errstr, size_t errstr_size);
void eddy_fields_free(eddy_fields_t *f);
/* The field called name (len bytes), or NULL. */
const eddy_field_t *eddy_fields_find(const eddy_fields_t *f, const char *name, size_t len);
/* A fresh schema with the fields' attributes and target. */
eddy_schema_t *eddy_fields_schema(const eddy_fields_t *f, char *errstr, size_t errstr_size);
/* Appends a numeric attribute (an aggregate joined by the state store) to
 * the map; returns its attribute index. Call before making schemas. */
int eddy_fields_add_attr(eddy_fields_t *f, const char *name);

/* ---------------------------------------------------------------- record */

/* One decoded record. Text fields point into the decoder's scratch and are
 * valid until its next decode. */
typedef struct eddy_record {
  eddy_instance_t in;
  const char *key;
  size_t key_len;
  const char *id;
  size_t id_len;
  double ts;
  int has_ts;
  double *aux;
  uint8_t *aux_set;
  size_t n_aux;
} eddy_record_t;

int eddy_record_init(eddy_record_t *r, const eddy_fields_t *f);
void eddy_record_free(eddy_record_t *r);
void eddy_record_clear(eddy_record_t *r);

/* The longest nominal value or class text kept: dictionaries are bounded in
 * count (max_values, max_classes) and, through this, in bytes, so that
 * hostile records cost bounded memory. A longer one is an EDDY_ERANGE
 * error (the record is dead-lettered). */
#define EDDY_MAX_VALUE_BYTES 1024

/* Stores one field's value into the record, interning nominal values and
 * classes into the schema's dictionaries. `text` is the value as written
 * (numbers included); is_string says whether it was a quoted string (JSON),
 * which a numeric attribute still accepts when it parses as a number. A
 * NULL text is a missing value. Errors (EDDY_ETYPE for a value of the
 * wrong type, EDDY_ERANGE past max_classes) name the field. */
int eddy_record_set(eddy_record_t *r, const eddy_fields_t *f, eddy_schema_t *s,
                    const eddy_field_t *field, const char *text, size_t len, int is_string,
                    char *errstr, size_t errstr_size);

/* The same for a value that arrived as a number (Avro): numeric fields
 * take it as is; nominal attributes and classes use its shortest text. */
int eddy_record_set_number(eddy_record_t *r, const eddy_fields_t *f, eddy_schema_t *s,
                           const eddy_field_t *field, double v, char *errstr, size_t errstr_size);

/* -------------------------------------------------------------- decoders */

typedef struct eddy_decoder eddy_decoder_t;

/* A record format: one static const descriptor per codec file. */
typedef struct eddy_codec {
  const char *name;
  int (*create)(eddy_decoder_t *d, const char *const *columns, size_t n_columns, char *errstr,
                size_t errstr_size);
  int (*decode)(eddy_decoder_t *d, eddy_schema_t *s, const void *p, size_t len, eddy_record_t *r,
                char *errstr, size_t errstr_size);
  void (*destroy)(eddy_decoder_t *d);
} eddy_codec_t;

struct eddy_decoder {
  const eddy_codec_t *codec;
  const eddy_fields_t *fields;
  const eddy_pipeline_conf_t *conf;
  char *scratch; /* max_record_bytes + 1, for in-place splitting and unescaping */
  size_t scratch_size;
  void *impl;    /* the codec's own state */
};

extern const eddy_codec_t eddy_codec_csv;
extern const eddy_codec_t eddy_codec_json;
extern const eddy_codec_t eddy_codec_avro;

/* A decoder for records of one format and field map (borrowed: it must
 * outlive the decoder). CSV needs `columns`, the field names in column
 * order (a file's header or [source] columns). Avro needs the schema file
 * in conf->source.schema. Scratch is sized once (max_record_bytes). */
eddy_decoder_t *eddy_decoder_new(eddy_format_t format, const eddy_fields_t *fields,
                                 const eddy_pipeline_conf_t *conf, const char *const *columns,
                                 size_t n_columns, char *errstr, size_t errstr_size);
void eddy_decoder_free(eddy_decoder_t *d);
/* Decodes one record into r (cleared first) against schema s (whose
 * dictionaries grow). Never allocates. On failure returns a negative code
 * and a message naming the field or byte offset. */
int eddy_decoder_decode(eddy_decoder_t *d, eddy_schema_t *s, const void *p, size_t len,
                        eddy_record_t *r, char *errstr, size_t errstr_size);

/* Splits one CSV line (RFC 4180: quotes, doubled quotes) in place into at
 * most max fields; returns the count or EDDY_EPARSE. Quoted fields are
 * unquoted in place. */
int eddy_csv_split(char *line, size_t len, char **fields, size_t *lens, size_t max);
/* The top-level keys of a JSON object, in order, as malloc'd strings (the
 * caller frees each and the array); for inferring fields from a first
 * record. Returns the count or a negative code. */
int eddy_json_keys(const char *p, size_t len, char ***keys, char *errstr, size_t errstr_size);

/* ---------------------------------------------------------- line reading */

/* Reads lines from a file or stdin through one buffer, without allocating
 * per line (the buffer grows only for a longer line than any before). */
typedef struct eddy_lines eddy_lines_t;

/* path NULL or "-" reads stdin. */
eddy_lines_t *eddy_lines_open(const char *path, char *errstr, size_t errstr_size);
/* The next line without its end (\n or \r\n), or EDDY_EEOF / EDDY_EIO. The
 * pointer is valid until the next call; the line is NUL-terminated. */
int eddy_lines_next(eddy_lines_t *l, char **line, size_t *len);
uint64_t eddy_lines_number(const eddy_lines_t *l); /* 1-based number of the last line */
uint64_t eddy_lines_offset(const eddy_lines_t *l);  /* bytes consumed */
int64_t eddy_lines_size(const eddy_lines_t *l);     /* file size, -1 for pipes */
void eddy_lines_close(eddy_lines_t *l);
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

/* ------------------------------------------------------ prediction records */

/* One prediction as the predictions topic carries it. Strings are borrowed
 * for the call. */
typedef struct eddy_prediction {
  const char *pipeline;
  const char *topic;        /* source topic */
  int32_t partition;
  int64_t offset;
  const void *key;          /* the source record's key; NULL when it had none */
  size_t key_len;
  const char *id;           /* [features] id of the record; NULL when none */
  size_t id_len;
  const eddy_schema_t *schema; /* class names */
  const double *scores;     /* class probabilities; regression: the value in scores[0] */
  int k;                    /* values in scores */
  double predicted;         /* class index, or the value */
  int has_label;            /* the record carried its label (then learned) */
  double label;             /* class index or value */
  uint64_t model_version;
  double time;              /* wall clock, seconds since the epoch */
} eddy_prediction_t;

typedef struct eddy_output eddy_output_t;

/* A prediction record format: one static const descriptor per encoder, as
 * codecs are. encode appends to b and allocates nothing but b's growth. */
typedef struct eddy_output_format {
  const char *name;
  int (*create)(eddy_output_t *o, char *errstr, size_t errstr_size);
  int (*encode)(eddy_output_t *o, const eddy_prediction_t *p, eddy_buf_t *b);
  void (*destroy)(eddy_output_t *o);
} eddy_output_format_t;

struct eddy_output {
  const eddy_output_format_t *format;
  const eddy_pipeline_conf_t *conf; /* borrowed ([sink] output_schema, ...) */
  void *impl;
};

/* JSON (the default): {"pipeline", "topic", "partition", "offset", "key",
 * "id", "prediction", "probabilities": {class: p}, "label",
 * "model_version", "time"}; a key that is not UTF-8 is "key_base64". */
extern const eddy_output_format_t eddy_output_json;
/* Avro binary against [sink] output_schema: the slot for the Avro encoder
 * (its create fails with EDDY_ENOTSUP until one is written). */
extern const eddy_output_format_t eddy_output_avro;

/* The encoder of [sink] format for pipeline c. Free with eddy_output_free. */
eddy_output_t *eddy_output_new(const eddy_pipeline_conf_t *c, char *errstr, size_t errstr_size);
void eddy_output_free(eddy_output_t *o);
static inline int eddy_output_encode(eddy_output_t *o, const eddy_prediction_t *p, eddy_buf_t *b) {
  return o->format->encode(o, p, b);
}
/* Appends s (len bytes) as a JSON string. Bytes that are not valid UTF-8
 * are written as \u00XX escapes of their Latin-1 reading. */
void eddy_json_string(eddy_buf_t *b, const char *s, size_t len);
/* 1 when p[0..len) is valid UTF-8 (no overlongs, no surrogates). */
int eddy_utf8_valid(const void *p, size_t len);

/* ------------------------------------------------------------------ Kafka */

typedef enum { EDDY_KAFKA_CONSUMER, EDDY_KAFKA_PRODUCER } eddy_kafka_role_t;

/* librdkafka's configuration for a pipeline's consumer or producer: every
 * [kafka] pair as is, over eddy's defaults for keys the config does not
 * set: bootstrap.servers = 127.0.0.1:9092, client.id = eddy.NAME; the
 * consumer: group.id = eddy.NAME, enable.auto.commit = false,
 * enable.auto.offset.store = false, auto.offset.reset = earliest,
 * partition.assignment.strategy = cooperative-sticky (a rebalance moves
 * only the partitions that change hands: the others keep their models); the
 * producer: message.timeout.ms = 0 (retry until delivered: outputs are
 * never dropped while a broker is away). A key librdkafka refuses fails
 * with "FILE:LINE: [kafka] key 'K': ...". The caller owns the result
 * (rd_kafka_new takes it over). */
rd_kafka_conf_t *eddy_kafka_conf(const eddy_pipeline_conf_t *c, eddy_kafka_role_t role,
                                 char *errstr, size_t errstr_size);
/* The value of a [kafka] key as the handle will see it (the config's, else
 * eddy's default, else NULL). */
const char *eddy_kafka_get(const eddy_pipeline_conf_t *c, const char *key);
/* A delivery error that retrying cannot fix (the record is too large, the
 * topic is not authorised or invalid, ...). */
int eddy_kafka_err_permanent(rd_kafka_resp_err_t err);
/* Splits [source] topics into rd_kafka_subscribe's list ("^..." entries
 * are regex subscriptions). The caller destroys the list. */
rd_kafka_topic_partition_list_t *eddy_kafka_topics(const char *topics, char *errstr,
                                                   size_t errstr_size);

/* A plain producer of records to one topic, for `eddy gen --topic` and the
 * demo: values are copied; a full queue is waited out. */
typedef struct eddy_kafka_writer eddy_kafka_writer_t;

/* acks=all, idempotence off, linger.ms 5. Fails when bootstrap is not a
 * valid list (connecting happens later, in the background). */
eddy_kafka_writer_t *eddy_kafka_writer_new(const char *bootstrap, const char *topic, char *errstr,
                                           size_t errstr_size);
int eddy_kafka_writer_put(eddy_kafka_writer_t *w, const void *value, size_t len, const void *key,
                          size_t key_len);
/* Records delivered so far, and those that failed for good. */
uint64_t eddy_kafka_writer_delivered(const eddy_kafka_writer_t *w);
uint64_t eddy_kafka_writer_failed(const eddy_kafka_writer_t *w);
/* Waits up to timeout_ms for every delivery, then frees w. Returns 0 when
 * every record was delivered, else EDDY_EIO (errstr says how many were
 * not). */
int eddy_kafka_writer_close(eddy_kafka_writer_t *w, int timeout_ms, char *errstr, size_t errstr_size);

/* ------------------------------------------------------------ dead letters */

/* Kafka Connect's dead-letter headers (__connect.errors.topic, .partition,
 * .offset, .exception.class.name, .exception.message, ...) under this
 * prefix, so that existing DLQ tooling reads eddy's. */
#define EDDY_DLQ_PREFIX "eddy.errors."

typedef struct eddy_dlq_info {
  const char *pipeline;
  const char *topic;     /* source topic, partition, offset */
  int32_t partition;
  int64_t offset;
  const char *stage;     /* "decode", "validate" or "size" (Connect's stage names, lower case) */
  int err;               /* the eddy_err_t that rejected the record */
  const char *message;   /* what was wrong, naming the field or byte */
} eddy_dlq_info_t;

/* Adds the headers that describe why a record was dead-lettered to h:
 * topic, partition, offset, pipeline (Connect's connector.name), stage,
 * exception.class.name ("eddy." and the error's name, e.g. "eddy.EPARSE"),
 * exception.message, all as UTF-8 text. h may already hold the record's
 * own headers, which are kept. */
int eddy_dlq_headers(rd_kafka_headers_t *h, const eddy_dlq_info_t *info);
/* "EPARSE" for EDDY_EPARSE, ...: the exception class of a DLQ header. */
const char *eddy_err_name(int err);

#endif /* EDDY_CONNECTORS_H */
