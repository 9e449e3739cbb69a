/* connectors.h: the connectors' interface: how record fields map onto a
 * schema, the decoded record, the CSV / JSON / Avro decoders, line readers
 * for files, and the embedded Kafka-protocol broker. Sources and sinks
 * (Kafka, Redis) are declared below them. Each section is self-contained. */
#ifndef EDDY_CONNECTORS_H
#define EDDY_CONNECTORS_H

#include <librdkafka/rdkafka.h>

#include "core/core.h"
#include "connectors/aggregates.h"

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
  eddy_kvlist_t values; /* declared nominal values ([features] values.NAME) */
  int stream_scope;     /* [state] scope = stream: every record's key is EDDY_STREAM_KEY */
} eddy_fields_t;

/* The entity key of every record under [state] scope = stream: the
 * stream's one state is kept under it, or per partition P under
 * "*stream*:P" (eddy_record_stream_key). */
#define EDDY_STREAM_KEY "*stream*"

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
/* The checks of [features] that need no record: no name both an attribute
 * and another role, numeric and nominal, excluded and listed, or listed
 * twice. Errors name file:line of the list's key. eddy_fields_new runs it;
 * the config validation too. */
int eddy_fields_check(const eddy_pipeline_conf_t *c, char *errstr, size_t errstr_size);
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
  const char *fixed_key; /* stream scope: EDDY_STREAM_KEY, else NULL */
  char stream_key[32];   /* stream scope: EDDY_STREAM_KEY ":" partition */
} eddy_record_t;

int eddy_record_init(eddy_record_t *r, const eddy_fields_t *f);
void eddy_record_free(eddy_record_t *r);
void eddy_record_clear(eddy_record_t *r);
/* Under [state] scope = stream, makes r's key the state key of partition
 * p's stream ("*stream*:P"; p < 0 leaves EDDY_STREAM_KEY): each partition
 * is a stream of its own. Does nothing in entity scope. Allocates nothing. */
void eddy_record_stream_key(eddy_record_t *r, int32_t partition);

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

/* 1 when a field's value is neither missing (as eddy_record_set reads
 * missing: "", "?", "NA", "nan", "null"; a JSON string: "") nor a number a
 * numeric attribute would take: a value only a nominal attribute can hold. */
int eddy_field_is_text(const char *t, size_t len, int is_string);

/* The number parser of record fields (exact: strtod's result, faster for
 * plain decimals); exposed for its tests. */
int eddy__parse_number(const char *t, size_t len, double *out);

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
 * unquoted in place; blanks around a field are dropped (a header "a, b, y"
 * names a, b and y). */
int eddy_csv_split(char *line, size_t len, char **fields, size_t *lens, size_t max);
/* The top-level keys of a JSON object, in order, as malloc'd strings (the
 * caller frees each and the array); for inferring fields from a first
 * record. Returns the count or a negative code. */
int eddy_json_keys(const char *p, size_t len, char ***keys, char *errstr, size_t errstr_size);

/* Calls fn for each top-level member of one JSON object, in order: its key
 * and, for a string, number, true, false or null, the value's text
 * (is_string for a string, unescaped); for an object or array v is NULL.
 * Texts are valid during the call only. For setup (inferring fields from
 * first records), not the record path: it allocates. */
typedef void (*eddy_json_member_fn)(void *ctx, const char *key, size_t klen, const char *v, size_t vlen,
                                    int is_string);
int eddy_json_members(const char *p, size_t len, eddy_json_member_fn fn, void *ctx, char *errstr,
                      size_t errstr_size);

/* ---------------------------------------------------------- line reading */

/* Reads lines from a file or stdin through one buffer, without allocating
 * per line (the buffer grows only for a longer line than any before). */
typedef struct eddy_lines eddy_lines_t;

/* path NULL or "-" reads stdin. */
eddy_lines_t *eddy_lines_open(const char *path, char *errstr, size_t errstr_size);
/* The next line without its end (\n or \r\n), or EDDY_EEOF / EDDY_EIO. The
 * pointer is valid until the next call; the line is NUL-terminated. */
int eddy_lines_next(eddy_lines_t *l, char **line, size_t *len);
/* Marks the current position: lines read after it can be read again after
 * eddy_lines_rewind (setup reads a few records ahead; the buffer keeps
 * every byte from the mark until then). */
void eddy_lines_mark(eddy_lines_t *l);
void eddy_lines_rewind(eddy_lines_t *l);
uint64_t eddy_lines_number(const eddy_lines_t *l); /* 1-based number of the last line */
uint64_t eddy_lines_offset(const eddy_lines_t *l);  /* bytes consumed */
int64_t eddy_lines_size(const eddy_lines_t *l);     /* file size, -1 for pipes */
void eddy_lines_close(eddy_lines_t *l);
/* ----------------------------------------------------- eval's input */

/* The next line that is not blank (input.c). */
int eddy_input_next(eddy_lines_t *l, char **line, size_t *len);
/* The format of a file: [source] format when the config sets it for type
 * = file; else by path's extension (.csv, .tsv; .json, .jsonl, .ndjson);
 * else JSON when the first record (line) starts with '{', CSV otherwise. */
eddy_format_t eddy_input_format(const eddy_pipeline_conf_t *c, const char *path, const char *line);
/* A CSV header's names (blanks around them dropped), malloc'd, each and
 * the array freed by the caller; returns the count or a negative code. */
int eddy_csv_header(const char *line, size_t len, char ***names);
/* With [features] numeric empty: the fields (of names, in order) that no
 * key claims and whose values in the next max_records records of l are
 * not all numbers or missing, as "a, b" in *inferred (malloc'd; NULL when
 * none), and the records read in *records. Reads l on: mark it before and
 * rewind it after. */
int eddy_input_infer_nominal(const eddy_pipeline_conf_t *c, eddy_format_t fmt, const char *const *names,
                             size_t n_names, eddy_lines_t *l, size_t max_records, char **inferred,
                             size_t *records, char *errstr, size_t errstr_size);

/* ------------------------------------------------ embedded mock broker */

/* A local Kafka-protocol cluster: librdkafka's mock cluster
 * (rdkafka_mock.h), listening on loopback TCP, so kcat and any Kafka client
 * in any process can use it. All topic data lives in the memory of the
 * process that owns it (`eddy broker` runs it as its own process; `eddy
 * demo` may embed one). Limits of librdkafka 2.0.2's mock:
 * 5 MB per partition, unknown topics auto-created
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

/* The eviction watch (mock_watch.c): a thread with its own client that
 * reads every partition's low watermark of the brokers at `bootstraps`
 * every `interval` seconds and logs a warning (eddy_log) naming each topic
 * whose oldest records the mock dropped, and how many. Free with
 * eddy_mock_watch_free (stops the thread). */
typedef struct eddy_mock_watch eddy_mock_watch_t;
eddy_mock_watch_t *eddy_mock_watch_new(const char *bootstraps, double interval, char *errstr,
                                       size_t errstr_size);
void eddy_mock_watch_free(eddy_mock_watch_t *w);

/* Kafka protocol helpers the control commands use. A request type by its
 * protocol name (case-insensitive: "Produce", "fetch", "JoinGroup", ...) or
 * its number; returns the API key or EDDY_ENOENT. */
int eddy_kafka_api_key(const char *s);
/* An error code by its librdkafka name with or without the
 * RD_KAFKA_RESP_ERR_ prefix (case-insensitive: "NOT_LEADER_FOR_PARTITION",
 * "_TRANSPORT", "no_error") or its number; 0 with *code set, or EDDY_ENOENT. */
int eddy_kafka_err_code(const char *s, int *code);

/* ----------------------------------------------------------------- Redis */

/* One asynchronous Redis connection on a libuv loop (hiredis 0.14 with its
 * libuv adapter), shared by everything a process keeps in Redis: entity
 * state, checkpoints, the alerts stream. It connects by itself, and
 * reconnects with exponential backoff after a failure, logging one clear
 * line per event. hiredis 0.14 has no async timeouts and its libuv adapter
 * drops poll errors (a connect to a closed port never calls back), so a
 * uv_timer watches the connect and every request: past its deadline the
 * connection is dropped and made again.
 *
 * A connection is `ready` once connected, past SELECT (and SCRIPT LOAD of
 * the registered scripts) and answering PING; the ready callback tells
 * the consumer loop to pause (0) or resume (1) consumption. Commands:
 * - reads are accepted only when ready (else EDDY_EAGAIN); when the
 *   connection is lost their callback gets a NULL reply;
 * - writes flagged EDDY_REDIS_REPLAY are kept until Redis acknowledges
 *   them and sent again, in their original order and before anything
 *   new, after a reconnect; they are accepted while Redis is down (queued).
 *   They must be idempotent (HSET of whole values, scripts that check).
 * Replies arrive in the order commands were sent, on the loop thread. */
struct uv_loop_s;
struct redisReply;
struct redisContext;
typedef struct eddy_redis eddy_redis_t;

typedef struct eddy_redis_options {
  double connect_timeout; /* seconds to connect, then give up and retry; default 2 */
  double request_timeout; /* seconds a reply may take before the connection is dropped; default 10 */
  double backoff_min;     /* first retry delay, doubled per failure; default 0.1 */
  double backoff_max;     /* largest retry delay; default 5 */
  int quiet;              /* log connection events at DEBUG level only (CLI tools) */
} eddy_redis_options_t;

/* The reply (NULL when the connection was lost or the request timed out);
 * hiredis frees it after the callback returns. */
typedef void (*eddy_redis_reply_cb)(void *ctx, struct redisReply *reply);
typedef void (*eddy_redis_ready_cb)(void *ctx, int ready);

#define EDDY_REDIS_REPLAY 1u

/* Splits redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] (HOST may be [v6];
 * PORT 6379, DB 0 by default); a redis+cluster:// URL gives its first
 * node. */
int eddy_redis_url_parse(const char *url, char *host, size_t host_size, int *port, int *db,
                         char *errstr, size_t errstr_size);
/* Starts connecting (the first attempt is made before this returns; the
 * result arrives on the loop). o may be NULL for the defaults. */
eddy_redis_t *eddy_redis_new(struct uv_loop_s *loop, const char *url, const eddy_redis_options_t *o,
                             char *errstr, size_t errstr_size);
/* Called with 0 when the connection is lost and 1 when it is ready again
 * (and once at the first connection). */
void eddy_redis_on_ready(eddy_redis_t *r, eddy_redis_ready_cb cb, void *ctx);
int eddy_redis_ready(const eddy_redis_t *r);
/* "HOST:PORT/DB", for messages. */
const char *eddy_redis_name(const eddy_redis_t *r);
/* Registers a Lua script loaded (SCRIPT LOAD) at every connection, so
 * that EVALSHA finds it; sha1 (41 bytes) receives its SHA-1 in hex. */
int eddy_redis_script(eddy_redis_t *r, const char *source, char *sha1);
/* Sends one command (argv with lengths, binary-safe). Returns 0, or
 * EDDY_EAGAIN (a read while not ready), EDDY_ESTATE (closing),
 * EDDY_ENOMEM. cb may be NULL. */
int eddy_redis_command(eddy_redis_t *r, unsigned flags, eddy_redis_reply_cb cb, void *ctx, int argc,
                       const char *const *argv, const size_t *lens);
/* The same for a command already in RESP form (cmd is copied). */
int eddy_redis_command_raw(eddy_redis_t *r, unsigned flags, eddy_redis_reply_cb cb, void *ctx,
                           const void *cmd, size_t len);
/* Appends one command in RESP form to b (for eddy_redis_command_raw). */
void eddy_resp_begin(eddy_buf_t *b, int argc);
void eddy_resp_arg(eddy_buf_t *b, const void *p, size_t len);
void eddy_resp_argz(eddy_buf_t *b, const char *s);
/* Requests sent and not answered, and writes waiting for a connection. */
size_t eddy_redis_pending(const eddy_redis_t *r);
/* Connection events so far (for tests and metrics). */
typedef struct eddy_redis_stats {
  uint64_t connects, disconnects, timeouts, failed_attempts, replayed;
} eddy_redis_stats_t;
void eddy_redis_stats(const eddy_redis_t *r, eddy_redis_stats_t *out);
/* Closes: pending replies are awaited (up to request_timeout), queued
 * writes that never reached Redis get a NULL reply, then the handles
 * close and r is freed; `closed` (may be NULL) is called at the end. Keep
 * running the loop until then. */
void eddy_redis_close(eddy_redis_t *r, void (*closed)(void *ctx), void *ctx);

/* A blocking connection for command-line tools and for restoring on
 * partition assignment: connected, SELECTed, with `timeout` seconds for
 * the connect and for every reply. Send commands with
 * eddy_redis_sync_command / _argv (they follow a cluster's redirections);
 * free with eddy_redis_sync_free. */
struct redisContext *eddy_redis_connect_sync(const char *url, double timeout, char *errstr,
                                             size_t errstr_size);
/* redisCommand / redisCommandArgv that, on a connection made from a
 * cluster URL, follow MOVED and ASK to the node named. The reply is the
 * caller's (freeReplyObject); NULL with c->errstr set on a lost connection. */
struct redisReply *eddy_redis_sync_command(struct redisContext *c, const char *fmt, ...);
struct redisReply *eddy_redis_sync_argv(struct redisContext *c, int argc, const char **argv,
                                        const size_t *lens);
/* 1 when c was made from a redis+cluster:// URL. */
int eddy_redis_sync_is_cluster(const struct redisContext *c);
void eddy_redis_sync_free(struct redisContext *c);

/* Redis Cluster: `redis+cluster://HOST:PORT[,HOST:PORT...]` names a
 * cluster by one or more of its nodes (redis_cluster.c). eddy_redis_new
 * gives a handle with the interface above: it reads the slot map (CLUSTER
 * SLOTS), keeps one connection per master, sends each command to the
 * master of its key's slot, follows MOVED (and reads the map again) and
 * ASK (with ASKING), and is ready when every slot's master is connected.
 * Replies to commands of one slot come in the order they were sent
 * (except during a slot migration, ASK); writes of one slot are applied
 * in order, across failovers too. Closing answers what is on its way
 * (redirections followed) up to request_timeout. Keys carry a hash tag per
 * pipeline and partition (eddy_redis_key_head), so that a partition's
 * entities and checkpoint share one slot and a Lua script may touch them
 * together. */
int eddy_redis_url_is_cluster(const char *url);
/* The URL's credentials ("" when absent): USER:PASSWORD@ (an ACL user),
 * :PASSWORD@ or PASSWORD@ (requirepass); sent with AUTH at every
 * connection, to every node of a cluster. 0, or EDDY_ERANGE. */
int eddy_redis_url_credentials(const char *url, char *user, size_t user_size, char *pass, size_t pass_size);
/* The URL with its password as *** (for messages). */
const char *eddy_redis_url_mask(const char *url, char *buf, size_t size);
int eddy_redis_is_cluster(const eddy_redis_t *r);
/* The cluster's key slot: CRC16 (XMODEM) of the key, or of its hash tag
 * (the bytes between the first '{' and the next '}', when not empty),
 * modulo 16384. */
uint16_t eddy_redis_cluster_slot(const void *key, size_t len);
uint16_t eddy_redis_cluster_crc16(const void *p, size_t n);
/* The head of a pipeline's keys: "PREFIX:PIPELINE" for one Redis,
 * "PREFIX:{PIPELINE:PARTITION}" for a cluster. */
const char *eddy_redis_key_head(char *buf, size_t size, int cluster, const char *prefix,
                                const char *pipeline, int32_t partition);

/* ----------------------------------------------------------- state store */

/* Per-entity aggregate state (connectors/aggregates.h, eddy_aggs_t) kept in a store,
 * read and written per batch of records so that Redis costs one pipelined
 * round trip per batch, never one per record. One batch object per task
 * (partition), reused for every batch:
 *
 *   eddy_state_batch_clear(b);
 *   for each record r of the batch: idx[r] = eddy_state_batch_add(b, r.key, r.key_len);
 *   eddy_store_fetch(s, b, fetched, ctx);        -- async (memory: done before it returns)
 *   fetched(ctx, b, 0):
 *     for each record r in order:
 *       t = eddy_aggs_time_ms(aggs, &r, kafka_timestamp_ms);
 *       eddy_state_batch_join(b, idx[r], &r, t);   -- features as of before r
 *       predict, emit, learn ...
 *       eddy_state_batch_update(b, idx[r], &r, t); -- r applied
 *     eddy_store_write(s, b);                      -- dirty entities back, in order
 *
 * Two records of one batch with the same key share one entity copy, so the
 * second sees the first's update. A fetch must follow the write of the
 * previous batch (the write is queued first on the connection, so the
 * fetch reads it); status != 0 in `fetched` (Redis lost) means nothing was
 * read: keep the records, wait for the store to be ready, fetch again.
 *
 * Exactly-once state with checkpoints (Redis): every entity value carries,
 * besides its current state, the state as of the task's last checkpoint
 * (its "epoch": the next offset of the last checkpoint issued) and who
 * wrote it (partition, an incarnation id drawn per task start). A task
 * restarted from a checkpoint at offset C reads, for entities written
 * after C by its previous incarnation, the state as of C, so replayed
 * records see the same features as the first time. This needs the topic
 * partitioned by the entity key (each entity in one partition), the
 * checkpoint issued through eddy_store_checkpoint between batches, and
 * the record time taken from the record (timestamp field or Kafka
 * timestamp), never the wall clock.
 *
 * Redis layout: one hash per entity, KEY_PREFIX:PIPELINE:e:ENTITY, whose
 * field `s` holds the state (little-endian: u32 magic "EST1", u32 slots,
 * u64 layout hash, i32 partition, u32 0, u64 incarnation, i64 epoch, then
 * the current and the epoch's doubles). A value written under another
 * aggregates layout (the config changed) is read as a new entity. */
typedef struct eddy_state_batch eddy_state_batch_t;
typedef struct eddy_store eddy_store_t;

/* status: 0, or EDDY_EIO when the connection was lost (nothing read). */
typedef void (*eddy_store_cb)(void *ctx, eddy_state_batch_t *b, int status);

struct eddy_state_batch {
  const eddy_aggs_t *aggs; /* borrowed */
  /* The task: its partition, this incarnation, its epoch (next offset of
   * the last checkpoint issued, -1 before any) and the offset it restored
   * from (-1: none). Set by eddy_state_batch_new / _restore and
   * eddy_store_checkpoint. */
  int32_t partition;
  uint64_t incarnation;
  int64_t epoch;
  int64_t restored;
  size_t n;          /* distinct entities in the batch */
  size_t cap;
  double *state;     /* n x aggs->n_slots: the working copies */
  double *base;      /* n x aggs->n_slots: what is written as the epoch's state */
  uint8_t *dirty;
  uint64_t *hash;    /* eddy_hash of each key */
  size_t *key_off;   /* into keys */
  uint32_t *key_len;
  char *keys;
  size_t keys_len, keys_cap;
  uint32_t *table;   /* open addressing: entity index + 1 */
  size_t table_size;
  int phase;         /* 0 idle, 1 fetching, 2 fetched */
  int orphan;        /* freed while fetching: freed when the fetch ends */
  size_t replies;    /* fetch replies still due */
  size_t answered;   /* fetch replies received */
  int status;
  eddy_store_cb done;
  void *done_ctx;
  eddy_store_t *store;
  uint64_t stale_epochs; /* entities whose epoch is past the restored checkpoint */
  /* Each entity's (batch, index), the context of its fetch reply: replies
   * need not come in order (a Redis Cluster slot being migrated). */
  struct eddy_state_ref {
    eddy_state_batch_t *b;
    size_t i;
  } *refs;
};

/* A batch for one task (partition -1 when not from Kafka). Free with
 * eddy_state_batch_free (deferred until a fetch in flight ends). */
eddy_state_batch_t *eddy_state_batch_new(const eddy_aggs_t *aggs, int32_t partition);
void eddy_state_batch_free(eddy_state_batch_t *b);
/* Empties the batch (not while fetching); keeps its memory. */
int eddy_state_batch_clear(eddy_state_batch_t *b);
/* The entity index of key in b, adding it (its key copied) if new; a
 * negative code on failure (EDDY_ESTATE while fetching). Allocates only
 * when the batch outgrows every batch before it. */
int64_t eddy_state_batch_add(eddy_state_batch_t *b, const char *key, size_t len);
static inline double *eddy_state_batch_state(eddy_state_batch_t *b, size_t i) {
  return b->state + i * b->aggs->n_slots;
}
/* eddy_aggs_join / eddy_aggs_update on entity i (update marks it dirty). */
void eddy_state_batch_join(eddy_state_batch_t *b, size_t i, struct eddy_record *r, double t_ms);
void eddy_state_batch_update(eddy_state_batch_t *b, size_t i, const struct eddy_record *r,
                             double t_ms);
/* After a task restored its checkpoint (next_offset; -1 when there was
 * none): a new incarnation whose epoch and restored offset are next_offset.
 * Call before the task's first fetch. */
void eddy_state_batch_restore(eddy_state_batch_t *b, int64_t next_offset);

/* A store backend: one static const descriptor per file. */
typedef struct eddy_store_type {
  const char *name;
  int (*open)(eddy_store_t *s, char *errstr, size_t errstr_size);
  /* Reads every entity of b into its copies and calls done once: 0 when
   * it will (the memory store calls it before returning), else a negative
   * code and no call (EDDY_EAGAIN: not ready). */
  int (*fetch)(eddy_store_t *s, eddy_state_batch_t *b, eddy_store_cb done, void *ctx);
  /* Writes back the dirty entities of b; returns once they are issued. */
  int (*write)(eddy_store_t *s, eddy_state_batch_t *b);
  int (*ready)(const eddy_store_t *s);
  void (*close)(eddy_store_t *s);
} eddy_store_type_t;

struct eddy_store {
  const eddy_store_type_t *type;
  const eddy_aggs_t *aggs; /* borrowed */
  eddy_redis_t *redis;     /* borrowed: the Redis backend's connection */
  char *pipeline;
  char *prefix;            /* [state] key_prefix */
  int64_t max_entities;
  uint64_t write_errors;   /* writes Redis refused (logged once) */
  void *impl;
};

extern const eddy_store_type_t eddy_store_memory;
extern const eddy_store_type_t eddy_store_redis;

/* The store of pipeline c's [state] store: `memory` (redis must be NULL),
 * or redis://... through `redis`, a connection to that URL made with
 * eddy_redis_new (shared by the process's pipelines on the same server;
 * the store does not own it). Free with eddy_store_free. */
eddy_store_t *eddy_store_new(const eddy_pipeline_conf_t *c, const eddy_aggs_t *aggs,
                             eddy_redis_t *redis, char *errstr, size_t errstr_size);
void eddy_store_free(eddy_store_t *s);
/* 1 when [state] store names Redis. */
int eddy_store_is_redis(const eddy_pipeline_conf_t *c);
int eddy_store_fetch(eddy_store_t *s, eddy_state_batch_t *b, eddy_store_cb done, void *ctx);
int eddy_store_write(eddy_store_t *s, eddy_state_batch_t *b);
int eddy_store_ready(const eddy_store_t *s);
/* Entities held (memory store), or 0. */
size_t eddy_store_memory_count(const eddy_store_t *s);

/* ----------------------------------------------------------- checkpoints */

/* Model checkpoints in Redis, per pipeline and partition: the hash
 * KEY_PREFIX:PIPELINE:ckpt:PARTITION with fields model (the checkpoint
 * blob: schema, learner, detectors, ...), offset (the next offset to
 * consume), version (model version), learner, time (epoch seconds), bytes;
 * KEY_PREFIX:PIPELINE:ckpts is the set of partitions that have one. One
 * Lua script writes them (EVALSHA, EVAL when the script cache lost it)
 * and only when the new offset is greater than the stored one, so a stale
 * instance after a rebalance cannot overwrite newer state and a checkpoint
 * is never half-written. The model bytes are opaque here; readers verify
 * them (magic, version, CRC) and refuse naming the key. */
typedef struct eddy_ckpt {
  char key[512];
  char pipeline[128];
  int32_t partition;
  int64_t offset;   /* next offset to consume */
  uint64_t version;
  char learner[64];
  double time;
  uint8_t *model;   /* malloc'd by the readers; eddy_ckpt_clear frees it */
  size_t model_len;
  /* Format 2 ([source] label_topic): the label partition's next offset
   * (-1: none, and in a format 1 checkpoint) and the predictions waiting
   * for their labels as they stood then (eddy_waiting_save's bytes,
   * verified; malloc'd; NULL when there were none). waiting_gone: the
   * checkpoint names some but Redis expired them ([source] label_ttl). */
  int format;
  int64_t label_offset;
  uint8_t *waiting;
  size_t waiting_len;
  int waiting_gone;
} eddy_ckpt_t;

/* What a checkpoint of a pipeline with a label topic adds (format 2): the
 * label partition's next offset and the waiting predictions' bytes, kept
 * under KEY_PREFIX:PIPELINE:waiting:PARTITION (on a cluster
 * KEY_PREFIX:{PIPELINE:PARTITION}:waiting, the checkpoint's slot) with an
 * expiry of ttl_ms (0: none), written by the checkpoint's own script: a
 * checkpoint and the waiting predictions it covers are one step. */
#define EDDY_CKPT_FORMAT 2
typedef struct eddy_ckpt_labels {
  int64_t offset;
  const void *waiting;
  size_t waiting_len;
  int64_t ttl_ms;
} eddy_ckpt_labels_t;

/* stored: the offset Redis holds after the call (== next_offset when
 * written). status: 0 written; EDDY_ESTATE refused because Redis holds a
 * greater offset (this task is stale: stop it) or the same one (nothing
 * new: harmless); EDDY_EIO on a Redis error. */
typedef void (*eddy_ckpt_cb)(void *ctx, int status, int64_t stored);

/* Issues the write on the connection (replayed after a reconnect). */
int eddy_ckpt_write(eddy_redis_t *r, const char *prefix, const char *pipeline, int32_t partition,
                    int64_t next_offset, uint64_t version, const char *learner, const void *model,
                    size_t len, eddy_ckpt_cb cb, void *ctx);
/* The same with a label partition (labels may be NULL). A checkpoint is
 * then written only when neither offset is behind Redis' and one is
 * ahead (stored: Redis' input offset). */
int eddy_ckpt_write_labels(eddy_redis_t *r, const char *prefix, const char *pipeline, int32_t partition,
                           int64_t next_offset, uint64_t version, const char *learner, const void *model,
                           size_t len, const eddy_ckpt_labels_t *labels, eddy_ckpt_cb cb, void *ctx);
/* The same through the store, for a task with state: issued after the
 * task's last write-back (so Redis applies them first) and between
 * batches (EDDY_ESTATE while b is fetched and not written back); moves b
 * to the new epoch. EDDY_ENOTSUP for the memory store. */
int eddy_store_checkpoint(eddy_store_t *s, eddy_state_batch_t *b, int64_t next_offset,
                          uint64_t version, const char *learner, const void *model, size_t len,
                          const eddy_ckpt_labels_t *labels, eddy_ckpt_cb cb, void *ctx);
/* Reads and verifies the checkpoint of (pipeline, partition) on a blocking
 * connection, with its waiting predictions (format 2): 0, EDDY_ENOENT
 * when there is none, EDDY_ECORRUPT with the key named when the bytes do
 * not verify, EDDY_EVERSION for a format newer than EDDY_CKPT_FORMAT,
 * EDDY_EIO. */
int eddy_ckpt_read_sync(struct redisContext *c, const char *prefix, const char *pipeline,
                        int32_t partition, eddy_ckpt_t *out, char *errstr, size_t errstr_size);
/* The partitions of pipeline that have a checkpoint, sorted; *parts is
 * malloc'd. Returns the count or a negative code. */
int eddy_ckpt_partitions_sync(struct redisContext *c, const char *prefix, const char *pipeline,
                              int32_t **parts, char *errstr, size_t errstr_size);
void eddy_ckpt_clear(eddy_ckpt_t *ck);
/* "PREFIX:PIPELINE:ckpt:PARTITION" into buf; on a cluster (cluster = 1)
 * "PREFIX:{PIPELINE:PARTITION}:ckpt", the set "PREFIX:{PIPELINE}:ckpts". */
const char *eddy_ckpt_key(char *buf, size_t size, int cluster, const char *prefix, const char *pipeline,
                          int32_t partition);

/* ---------------------------------------------------------- alert stream */

/* One alert as the stream keeps it: a few fields to filter on and the whole
 * alert as JSON (engine/model formats it). Strings are borrowed. */
typedef struct eddy_alert_entry {
  const char *pipeline, *kind, *detector;
  int32_t partition;
  int64_t offset;
  double time;
  const char *json;
  size_t json_len;
} eddy_alert_entry_t;

/* Appends an alert to the Redis stream KEY_PREFIX:PIPELINE:alerts (XADD
 * MAXLEN ~ maxlen) with fields kind, detector, partition, offset, time and
 * json; replayed after a reconnect (at least once). */
int eddy_alerts_xadd(eddy_redis_t *r, const char *prefix, int64_t maxlen, const eddy_alert_entry_t *e);
/* "PREFIX:PIPELINE:alerts" into buf. */
const char *eddy_alerts_key(char *buf, size_t size, const char *prefix, const char *pipeline);

/* ------------------------------------------------------ prediction records */

/* One prediction as the predictions topic carries it. Strings are borrowed
 * for the call. */
typedef struct eddy_prediction {
  const char *pipeline;
  const char *topic;        /* source topic; NULL offline: no topic or partition, */
  int32_t partition;
  int64_t offset;           /* and offset is the record's index ("index") */
  const void *key;          /* the source record's key; NULL when it had none */
  size_t key_len;
  const char *id;           /* [features] id of the record; NULL when none */
  size_t id_len;
  const eddy_schema_t *schema; /* class names */
  const double *scores;     /* class probabilities; regression: the value in scores[0] */
  int k;                    /* values in scores */
  int has_score;            /* an anomaly detector's prediction: score, no class */
  double score;             /* its anomaly score in [0, 1] */
  const char *served_by;    /* "model" or "fallback" with a [model] fallback, else NULL */
  double predicted;         /* class index, or the value */
  int has_label;            /* the record carried its label (then learned) */
  double label;             /* class index or value */
  uint64_t model_version;
  double time;              /* wall clock, seconds since the epoch */
  /* When set, the aggregates joined into the record (their values in in's
   * attributes) go with the prediction. */
  const eddy_aggs_t *aggs;
  const eddy_instance_t *in;
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
 * "id", "prediction", "probabilities": {class: p}, "score" (anomaly
 * detectors only), "served_by" (with a fallback only), "label",
 * "model_version", "time"}; a key that is not UTF-8 is "key_base64". */
extern const eddy_output_format_t eddy_output_json;
/* Avro binary against [sink] output_schema (default: the built-in schema,
 * configs/prediction.avsc), fields matched by name; in the Confluent wire
 * format when [sink] output_schema_id >= 0. A schema field eddy does not
 * write must be nullable (written null); a field whose type cannot hold
 * what eddy writes there is refused at start. */
extern const eddy_output_format_t eddy_output_avro;

/* The built-in Avro prediction schema (configs/prediction.avsc), as JSON
 * text: what readers of the predictions decode them with when [sink]
 * output_schema is not set. */
const char *eddy_output_avro_default_schema(void);
/* The encoder of [sink] format for pipeline c. Free with eddy_output_free. */
eddy_output_t *eddy_output_new(const eddy_pipeline_conf_t *c, char *errstr, size_t errstr_size);
void eddy_output_free(eddy_output_t *o);
static inline int eddy_output_encode(eddy_output_t *o, const eddy_prediction_t *p, eddy_buf_t *b) {
  return o->format->encode(o, p, b);
}
/* eddy_json_string, eddy_utf8_valid: core/util.h. */

/* ------------------------------------------------------------------ Kafka */

typedef enum { EDDY_KAFKA_CONSUMER, EDDY_KAFKA_PRODUCER } eddy_kafka_role_t;

/* librdkafka's configuration for a pipeline's consumer or producer: every
 * [kafka] pair as is, over eddy's defaults for keys the config does not
 * set: bootstrap.servers = 127.0.0.1:9092, client.id = eddy.NAME; the
 * consumer: group.id = eddy.NAME, enable.auto.commit = false,
 * enable.auto.offset.store = false, auto.offset.reset = earliest (and
 * librdkafka's eager range,roundrobin assignment: its cooperative-sticky
 * assignor asserts on close in 2.0.2, see the run's notes); the
 * producer: message.timeout.ms = 0 (retry until delivered: outputs are
 * never dropped while a broker is away). A key librdkafka refuses fails
 * with "FILE:LINE: [kafka] key 'K': ...". The caller owns the result
 * (rd_kafka_new takes it over). */
rd_kafka_conf_t *eddy_kafka_conf(const eddy_pipeline_conf_t *c, eddy_kafka_role_t role,
                                 char *errstr, size_t errstr_size);
/* The value of a [kafka] key as the handle will see it (the config's, else
 * eddy's default, else NULL). */
const char *eddy_kafka_get(const eddy_pipeline_conf_t *c, const char *key);
/* 1 when a [kafka] key's value is a secret, never printed: a name holding
 * "password" or "secret" (sasl.password, ssl.key.password,
 * ssl.keystore.password, ssl.truststore.password,
 * sasl.oauthbearer.client.secret), ssl.key.pem, sasl.oauthbearer.config. */
int eddy_kafka_key_secret(const char *key);
/* TEXT with every secret [kafka] value of C replaced by "***": TEXT itself
 * when it holds none, else OUT (SIZE bytes, cut to fit). For librdkafka's
 * log lines and errors, which eddy forwards. */
const char *eddy_kafka_scrub(const eddy_pipeline_conf_t *c, const char *text, char *out, size_t size);
/* 1 when librdkafka's text (an error's reason, a log line) says the
 * broker refused the credentials or the SASL mechanism, which retrying
 * cannot fix (not a connection lost during the SASL exchange). */
int eddy_kafka_auth_refused(const char *text);
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

/* acks=all, idempotence off, linger.ms 5, then the pairs of extra (NULL:
 * none; e.g. security.protocol, sasl.*, ssl.*), then bootstrap. Fails
 * when librdkafka refuses a key or bootstrap is not a valid list
 * (connecting happens later, in the background). */
eddy_kafka_writer_t *eddy_kafka_writer_new(const char *bootstrap, const char *topic, const eddy_kvlist_t *extra,
                                           char *errstr, size_t errstr_size);
int eddy_kafka_writer_put(eddy_kafka_writer_t *w, const void *value, size_t len, const void *key,
                          size_t key_len);
/* Waits up to timeout_ms for a broker to answer a metadata request for the
 * topic: EDDY_EIO, saying so, when none does (librdkafka's own log lines
 * are not printed: the last one is in that error). */
int eddy_kafka_writer_connect(eddy_kafka_writer_t *w, int timeout_ms, char *errstr, size_t errstr_size);
/* Waits up to timeout_ms for every delivery report. */
void eddy_kafka_writer_flush(eddy_kafka_writer_t *w, int timeout_ms);
/* Records delivered to each partition so far: the count of partitions seen
 * (0..n-1), *delivered pointing at the counts (owned by w). */
size_t eddy_kafka_writer_partitions(const eddy_kafka_writer_t *w, const uint64_t **delivered);
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
