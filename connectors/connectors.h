/* connectors.h: the connectors' interface: how record fields map onto a
 * schema, the decoded record, the CSV / JSON / Avro decoders, line readers
 * for files, and the embedded Kafka-protocol broker. Sources and sinks
 * (Kafka, Redis) are declared below them. Each section is self-contained. */
#ifndef EDDY_CONNECTORS_H
#define EDDY_CONNECTORS_H

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

#endif /* EDDY_CONNECTORS_H */
