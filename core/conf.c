/* core/conf.c: the configuration's data model: one option table per
 * section (the single definition of every key, its default, range and
 * help), and the functions over a parsed config that every folder uses. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"

/* ----------------------------------------------------------- the tables */

static const char *const tasks[] = {"", "classification", "regression", NULL};
static const char *const guarantees[] = {"at_least_once", "exactly_once", NULL};
static const char *const source_types[] = {"kafka", "file", NULL};
static const char *const formats[] = {"json", "avro", "csv", NULL};
static const char *const label_formats[] = {"", "json", "avro", "csv", NULL};
static const char *const wires[] = {"auto", "plain", "confluent", NULL};
static const char *const actions[] = {"alert", "reset", "retrain", "swap", NULL};
static const char *const windows[] = {"tumbling", "sliding", NULL};
static const char *const time_units[] = {"auto", "s", "ms", NULL};
static const char *const scopes[] = {"entity", "stream", NULL};

#define P eddy_pipeline_section_t
static const eddy_option_t pipeline_options[] = {
    EDDY_OPT_STRING_(P, "name", name, NULL,
                     "Names the pipeline: its consumer group (eddy.NAME), Redis keys and metrics. Required."),
    EDDY_OPT_ENUM_(P, "task", task, "classification", tasks,
                   "What the target is: a class (classification) or a number (regression)."),
    EDDY_OPT_INT_(P, "seed", seed, "1", 0, 9007199254740991.0,
                  "Seed of every random choice (ensembles, detectors): a run is reproducible from it."),
    EDDY_OPT_ENUM_(P, "processing.guarantee", guarantee, "at_least_once", guarantees,
                   "at_least_once, or exactly_once (Kafka transactions; real Kafka only)."),
    EDDY_OPT_INT_(P, "window", window, "1000", 1, 100000000,
                  "Instances in the windowed metrics (accuracy, MAE) of each partition's model."),
    EDDY_OPT_END,
};
#undef P

#define S eddy_source_section_t
static const eddy_option_t source_options[] = {
    EDDY_OPT_ENUM_(S, "type", type, "kafka", source_types, "Where records come from: kafka or file."),
    EDDY_OPT_TEXT_(S, "topics", topics, NULL,
                   "Kafka topics: a comma-separated list, or one ^regex subscription."),
    EDDY_OPT_TEXT_(S, "path", path, NULL, "File to read when type = file."),
    EDDY_OPT_ENUM_(S, "format", format, "json", formats, "Record format: json, avro or csv."),
    EDDY_OPT_TEXT_(S, "schema", schema, NULL, "Avro schema file (.avsc) of the records, for avro."),
    EDDY_OPT_ENUM_(S, "wire_format", wire, "auto", wires,
                   "Avro framing: plain, confluent (magic byte + 4-byte schema id), or auto (by the first byte)."),
    EDDY_OPT_INT_(S, "schema_id", schema_id, "-1", -1, 2147483647.0,
                  "Confluent schema id the records must carry (-1: any)."),
    EDDY_OPT_TEXT_(S, "columns", columns, NULL,
                   "CSV over Kafka: the column names, in order (files use their header line)."),
    EDDY_OPT_TEXT_(S, "label_topic", label_topic, NULL,
                   "Topic of labels that arrive later (records carrying [features] id and target): a record "
                   "without its label is predicted and waits by id until its label comes, then the partition's "
                   "model learns it once. Co-partitioned with the input: the same partition count, keyed alike."),
    EDDY_OPT_ENUM_(S, "label_format", label_format, NULL, label_formats,
                   "Format of the label records: json, avro or csv (columns: [features] id, then target); empty: "
                   "the input's."),
    EDDY_OPT_TEXT_(S, "label_schema", label_schema, NULL,
                   "Avro schema file (.avsc) of the label records (Avro labels: at least [features] id and target; "
                   "framed as wire_format says); empty: [source] schema, the input's."),
    EDDY_OPT_INT_(S, "label_schema_id", label_schema_id, "-1", -1, 2147483647.0,
                  "Confluent schema id the label records must carry (-1: any)."),
    EDDY_OPT_INT_(S, "label_ttl", label_ttl, "604800", 0, 9007199254740991.0,
                  "Seconds (of record time) a prediction waits for its label; older ones are dropped and counted "
                  "(0: no limit)."),
    EDDY_OPT_INT_(S, "max_task_idle_ms", max_task_idle_ms, "0", -1, 86400000,
                  "With label_topic, as Kafka Streams' max.task.idle.ms: milliseconds a partition's task waits "
                  "for the other partition (input or labels) when it has nothing buffered and is caught up, so "
                  "that records are handled in timestamp order (a partition known to lag is waited for anyway; "
                  "-1: never wait)."),
    EDDY_OPT_INT_(S, "max_record_bytes", max_record_bytes, "1048576", 64, 1073741824.0,
                  "Records larger than this go to the dead-letter topic undecoded."),
    EDDY_OPT_INT_(S, "batch_size", batch_size, "1024", 1, 1000000,
                  "Most records handled per loop wake-up."),
    EDDY_OPT_INT_(S, "commit_interval_ms", commit_interval_ms, "1000", 10, 3600000,
                  "Milliseconds between offset commits (of offsets whose records' outputs are all delivered; "
                  "exactly_once: between transactions, 100 unless set)."),
    EDDY_OPT_END,
};
#undef S

#define F eddy_features_section_t
static const eddy_option_t features_options[] = {
    EDDY_OPT_TEXT_(F, "numeric", numeric, NULL,
                   "Numeric attributes (comma-separated). Empty: every field not named by another key."),
    EDDY_OPT_TEXT_(F, "nominal", nominal, NULL,
                   "Nominal attributes, dictionary-encoded as their values appear; `values.NAME = a, b, c` declares NAME's values (or the classes') in order first, as an ARFF header does."),
    EDDY_OPT_TEXT_(F, "target", target, NULL, "The label field. Required, except for an anomaly detector (half_space_trees), for which it is optional and only evaluated: ROC AUC of the score, positive = the second class (declare `values.TARGET = normal, anomaly`); accuracy and the confusion matrix are those of [sink] anomaly_threshold's alerts."),
    EDDY_OPT_TEXT_(F, "key", key, NULL, "Entity key field, for the state store's aggregates."),
    EDDY_OPT_TEXT_(F, "id", id, NULL, "Record id field, echoed in every prediction as `id` (to join labels that arrive later)."),
    EDDY_OPT_TEXT_(F, "timestamp", timestamp, NULL,
                   "Event time field (seconds or milliseconds since the epoch), for time windows."),
    EDDY_OPT_TEXT_(F, "weight", weight, NULL, "Instance weight field (default weight 1)."),
    EDDY_OPT_TEXT_(F, "required", required, NULL,
                   "Fields every record must carry (not null); a record without one goes to the dead-letter topic. Empty: a missing attribute is a missing value."),
    EDDY_OPT_TEXT_(F, "exclude", exclude, NULL,
                   "Fields that are not attributes (e.g. a date or a row id), when numeric is empty and every other field would be one."),
    EDDY_OPT_INT_(F, "max_values", max_values, "1024", 2, 16777216,
                  "Distinct values kept per nominal attribute; later ones share one overflow value."),
    EDDY_OPT_INT_(F, "max_classes", max_classes, "256", 2, 65536,
                  "Distinct classes accepted; a record with a further class is dead-lettered."),
    EDDY_OPT_END,
};
#undef F

#define T eddy_state_section_t
static const eddy_option_t state_options[] = {
    EDDY_OPT_TEXT_(T, "store", store, "memory",
                   "Feature and model state: memory, redis://HOST:PORT/DB, or redis+cluster://HOST:PORT[,HOST:PORT...] (a Redis Cluster named by some of its nodes: keys carry a hash tag per pipeline and partition)."),
    EDDY_OPT_TEXT_(T, "aggregates", aggregates, NULL,
                   "Per-entity (or, with scope = stream, stream-wide) aggregates joined as features before the prediction and updated after learning (named FIELD_count, FIELD_mean, FIELD_ewma_ALPHA, FIELD_last, FIELD_last_N, ...): count(F), count(*), sum(F), mean(F), min(F), max(F), ewma(F, ALPHA), last(F), last(F, N) (F N records back), since_last(TIME), since_last(). F may be the classification target: its class index in values.CLASS order (0, 1, ...), e.g. last(class) is the previous labelled record's class."),
    EDDY_OPT_ENUM_(T, "scope", scope, "entity", scopes,
                   "Whose state the aggregates keep: entity (one per value of the key field; a record without a key joins a fresh state and updates nothing) or stream (one for the whole stream, per partition under eddy run; no key field), e.g. scope = stream with aggregates = last(class) gives each record the label of the record before it, as MOA's TemporallyAugmentedClassifier."),
    EDDY_OPT_INT_(T, "window_ms", window_ms, "0", 0, 9007199254740991.0,
                  "count, sum, mean, min and max over a time window of this length on the record's timestamp (0: since the first event)."),
    EDDY_OPT_ENUM_(T, "window", window, "tumbling", windows,
                   "tumbling (the state resets when a record's window changes) or sliding (window_buckets buckets; the window is the record's bucket and the ones before it)."),
    EDDY_OPT_INT_(T, "window_buckets", window_buckets, "10", 2, 1000,
                  "Sliding windows: buckets of window_ms / window_buckets each."),
    EDDY_OPT_ENUM_(T, "time_unit", time_unit, "auto", time_units,
                   "Unit of the timestamp field and since_last fields: s, ms, or auto (ms when |value| >= 1e11, else s)."),
    EDDY_OPT_INT_(T, "max_entities", max_entities, "1000000", 1, 1e12,
                  "Entities kept by the memory store ([state] store = memory; about 100 bytes each with a few aggregates): when it is full, the least recently seen entity is evicted, its aggregates forgotten: its next record joins as a new entity (count 0, no mean, min, max, last or since_last yet). The Redis store keeps every entity."),
    EDDY_OPT_INT_(T, "max_waiting", max_waiting, "1000000", 1, 1e9,
                  "Predictions kept waiting for their label per partition ([source] label_topic, memory store): "
                  "when full, the least recently predicted is evicted and counted (its label is then unmatched)."),
    EDDY_OPT_DOUBLE_(T, "checkpoint_interval", checkpoint_interval, "10", 0.1, 86400,
                     "Seconds between model checkpoints (also taken on revocation and shutdown)."),
    EDDY_OPT_TEXT_(T, "key_prefix", key_prefix, "eddy", "Prefix of every Redis key eddy writes."),
    EDDY_OPT_TEXT_(T, "key", key, NULL,
                   "Entity key field of the aggregates; the same as [features] key (give either)."),
    EDDY_OPT_END,
};
#undef T

#define M eddy_model_section_t
static const eddy_option_t model_options[] = {
    EDDY_OPT_STRING_(M, "learner", learner, "hoeffding_tree",
                     "Learner type (a registry name); the section's other keys are its parameters."),
    EDDY_OPT_STRING_(M, "fallback", fallback, NULL,
                     "A second learner (a registry name, e.g. majority or no_change; its keys as `fallback.KEY`) "
                     "that answers while the model has learned fewer than `warmup` records, while its windowed "
                     "accuracy ([pipeline] window) is under `fallback_below`, or when its prediction fails. It learns "
                     "every labelled record too; predictions say \"served_by\": \"model\" or \"fallback\", and each "
                     "switch is an alert (detector fallback, kind fallback or model). Empty: none."),
    EDDY_OPT_INT_(M, "warmup", warmup, "0", 0, 9007199254740991.0,
                  "Records the model learns (since its last reset, retrain or swap) before it answers instead of the fallback."),
    EDDY_OPT_DOUBLE_(M, "fallback_below", fallback_below, "0", 0, 1,
                     "Classification: the fallback answers while the model's accuracy over the last [pipeline] window "
                     "labelled records is under this (0: never)."),
    EDDY_OPT_END,
};
#undef M

#define D eddy_drift_section_t
static const eddy_option_t drift_options[] = {
    EDDY_OPT_STRING_(D, "detector", detector, NULL,
                     "Concept-drift detector on the error stream (a registry name; empty: none). The section's other keys are its parameters."),
    EDDY_OPT_ENUM_(D, "action", action, "alert", actions,
                   "On drift: alert (report only), reset (fresh model), retrain (batch-train on the buffered window), swap (promote the background model)."),
    EDDY_OPT_INT_(D, "retrain_window", retrain_window, "1000", 10, 10000000,
                  "Instances buffered for retrain when no warning came first (and the most kept after one)."),
    EDDY_OPT_INT_(D, "retrain_epochs", retrain_epochs, "1", 1, 1000, "Passes over the window when retraining."),
    EDDY_OPT_TEXT_(D, "data_detectors", data_detectors, NULL,
                   "Data-drift checks on the inputs, e.g. psi, ks; their parameters as psi.KEY, ks.KEY."),
    EDDY_OPT_TEXT_(D, "data_features", data_features, NULL,
                   "Features the data-drift checks watch (empty: all)."),
    EDDY_OPT_END,
};
#undef D

#define K eddy_sink_section_t
static const eddy_option_t sink_options[] = {
    EDDY_OPT_TEXT_(K, "predictions", predictions, NULL, "Topic of predictions (empty: none)."),
    EDDY_OPT_TEXT_(K, "alerts", alerts, NULL, "Topic of drift alerts (empty: none)."),
    EDDY_OPT_TEXT_(K, "dead_letter", dead_letter, NULL,
                   "Topic of records that could not be used, with the error in headers."),
    EDDY_OPT_ENUM_(K, "format", format, "json", formats, "Prediction record format: json or avro."),
    EDDY_OPT_TEXT_(K, "output_schema", output_schema, NULL,
                   "Avro schema (.avsc) of prediction records for format = avro (default: configs/prediction.avsc's, built in)."),
    EDDY_OPT_INT_(K, "output_schema_id", output_schema_id, "-1", -1, 2147483647.0,
                  "Avro predictions in the Confluent wire format with this schema id (-1: plain Avro)."),
    EDDY_OPT_INT_(K, "alerts_maxlen", alerts_maxlen, "10000", 1, 1e9,
                  "Approximate length cap of the Redis stream of alerts."),
    EDDY_OPT_INT_(K, "max_in_flight", max_in_flight, "100000", 100, 10000000,
                  "Outputs awaiting their delivery report before the pipeline pauses consumption (resumes at half)."),
    EDDY_OPT_BOOL_(K, "aggregates", aggregates, "false",
                   "Predictions carry the aggregates joined into their record, as \"aggregates\": {NAME: value} (null when missing)."),
    EDDY_OPT_DOUBLE_(K, "anomaly_threshold", anomaly_threshold, "1", 0, 1,
                     "An anomaly detector's score (half_space_trees) above this is an alert of kind \"anomaly\" on the alerts topic (1: never)."),
    EDDY_OPT_END,
};
#undef K

#define H eddy_http_section_t
static const eddy_option_t http_options[] = {
    EDDY_OPT_STRING_(H, "listen", listen, NULL,
                     "HOST:PORT of /metrics (Prometheus), /healthz, the dashboard and the serving API "
                     "(POST /v1/pipelines/NAME/predict); `PORT` or `:PORT` listens on loopback (127.0.0.1) only, "
                     "`0.0.0.0:PORT` on every interface (only learn asks for a token: expose the endpoint through a "
                     "proxy or a firewall). Empty: no HTTP endpoint."),
    EDDY_OPT_INT_(H, "max_body_bytes", max_body_bytes, "1048576", 64, 1073741824.0,
                  "Largest request body (a predict's records); larger: 413."),
    EDDY_OPT_BOOL_(H, "allow_learn", allow_learn, "false",
                   "Serve POST /v1/pipelines/NAME/learn (labelled records learned at once, outside the stream's "
                   "order); needs token_file."),
    EDDY_OPT_STRING_(H, "token_file", token_file, NULL,
                     "File holding the bearer token every write (learn) must send as Authorization: Bearer TOKEN; "
                     "read at start and at each reload (missing or unreadable: refused)."),
    EDDY_OPT_END,
};
#undef H

#define R eddy_run_section_t
static const eddy_option_t run_options[] = {
    EDDY_OPT_INT_(R, "threads", threads, "1", 1, 256,
                  "Worker threads of `eddy run` (as Kafka Streams' num.stream.threads): each pipeline runs as this "
                  "many instances, one per thread, each with its own consumer in the pipeline's group (the group "
                  "spreads the partitions over them: a partition's task lives in one thread), producer and "
                  "state-store connection, on its own loop; a task's model does not depend on it. Default 1, not "
                  "the cores available: one thread is what existing deployments and `eddy verify` assume (one "
                  "consumer, one transactional.id per pipeline), so more is opt-in; `eddy run --threads N` "
                  "overrides it. More threads than the input's partitions leave some idle."),
    EDDY_OPT_END,
};
#undef R

const eddy_conf_section_t eddy_conf_sections[EDDY_N_SECTIONS] = {
    [EDDY_SEC_PIPELINE] = {"pipeline", pipeline_options, offsetof(eddy_pipeline_conf_t, pipeline),
                      "Starts a pipeline; the sections after it belong to it."},
    [EDDY_SEC_SOURCE] = {"source", source_options, offsetof(eddy_pipeline_conf_t, source),
                    "Where records come from and how they are encoded."},
    [EDDY_SEC_KAFKA] = {"kafka", NULL, 0,
                   "Every key is passed to librdkafka as is (bootstrap.servers, security.protocol, ...). Defaults: bootstrap.servers = 127.0.0.1:9092, group.id = eddy.NAME."},
    [EDDY_SEC_FEATURES] = {"features", features_options, offsetof(eddy_pipeline_conf_t, features),
                      "Which fields are attributes, the target, the entity key and the record id."},
    [EDDY_SEC_STATE] = {"state", state_options, offsetof(eddy_pipeline_conf_t, state),
                   "Per-entity feature state and model checkpoints."},
    [EDDY_SEC_MODEL] = {"model", model_options, offsetof(eddy_pipeline_conf_t, model),
                   "The learner; its parameters are listed under Learners below."},
    [EDDY_SEC_DRIFT] = {"drift", drift_options, offsetof(eddy_pipeline_conf_t, drift),
                   "Drift detection and what to do on drift; detector parameters are listed under Detectors below."},
    [EDDY_SEC_SINK] = {"sink", sink_options, offsetof(eddy_pipeline_conf_t, sink),
                  "Output topics."},
    [EDDY_SEC_HTTP] = {"http", http_options, 0, "The process's HTTP endpoint (one per process)."},
    [EDDY_SEC_RUN] = {"run", run_options, 0, "The process of `eddy run` (one per file)."},
};

_Static_assert(EDDY_N_SECTIONS == EDDY_N_SECTIONS_, "EDDY_N_SECTIONS_ in conf.h");

void eddy_pipeline_conf_free(eddy_pipeline_conf_t *c) {
  for (int i = 0; i < EDDY_N_SECTIONS; i++)
    if (eddy_conf_sections[i].options && !EDDY_SEC_PROCESS(i))
      eddy_options_free(eddy_conf_sections[i].options, (char *)c + eddy_conf_sections[i].offset);
  eddy_kvlist_free(&c->kafka);
  eddy_kvlist_free(&c->model_params);
  eddy_kvlist_free(&c->fallback_params);
  eddy_kvlist_free(&c->drift_params);
  eddy_kvlist_free(&c->values);
  eddy_kvlist_free(&c->where);
}

void eddy_config_free(eddy_config_t *c) {
  if (!c) return;
  for (size_t i = 0; i < c->n_pipelines; i++) eddy_pipeline_conf_free(&c->pipelines[i]);
  free(c->pipelines);
  free(c->file);
  free(c);
}

static int kv_equal(const eddy_kvlist_t *a, const eddy_kvlist_t *b) {
  if (a->n != b->n) return 0;
  for (size_t i = 0; i < a->n; i++) {
    const eddy_kv_t *o = eddy_kvlist_get(b, a->v[i].key);
    if (!o || strcmp(o->value, a->v[i].value) != 0) return 0;
  }
  return 1;
}

int eddy_pipeline_conf_equal(const eddy_pipeline_conf_t *a, const eddy_pipeline_conf_t *b) {
  for (int i = 0; i < EDDY_N_SECTIONS; i++) {
    if (!eddy_conf_sections[i].options || EDDY_SEC_PROCESS(i)) continue;
    const char *pa = (const char *)a + eddy_conf_sections[i].offset, *pb = (const char *)b + eddy_conf_sections[i].offset;
    for (const eddy_option_t *o = eddy_conf_sections[i].options; o->name; o++) {
      const void *x = pa + o->offset, *y = pb + o->offset;
      int same;
      switch (o->type) {
      case EDDY_OPT_INT: same = *(const int64_t *)x == *(const int64_t *)y; break;
      case EDDY_OPT_DOUBLE: same = memcmp(x, y, sizeof(double)) == 0; break;
      case EDDY_OPT_STRING: same = strcmp((const char *)x, (const char *)y) == 0; break;
      case EDDY_OPT_TEXT: {
        const char *s = *(char *const *)x, *t = *(char *const *)y;
        same = (!s || !*s) ? (!t || !*t) : (t && strcmp(s, t) == 0);
        break;
      }
      default: same = *(const int *)x == *(const int *)y; break;
      }
      if (!same) return 0;
    }
  }
  return a->has_source == b->has_source && kv_equal(&a->kafka, &b->kafka) &&
         kv_equal(&a->model_params, &b->model_params) && kv_equal(&a->drift_params, &b->drift_params) &&
         kv_equal(&a->fallback_params, &b->fallback_params);
}

const eddy_kv_t *eddy_conf_where(const eddy_pipeline_conf_t *c, const char *section,
                                 const char *key) {
  char full[256];
  snprintf(full, sizeof full, "%s.%s", section, key);
  return eddy_kvlist_get(&c->where, full);
}

const eddy_pipeline_conf_t *eddy_config_pipeline(const eddy_config_t *c, const char *name) {
  if (!name) return c->n_pipelines ? &c->pipelines[0] : NULL;
  for (size_t i = 0; i < c->n_pipelines; i++)
    if (strcmp(c->pipelines[i].pipeline.name, name) == 0) return &c->pipelines[i];
  return NULL;
}
