/* core/conf.h: what a parsed configuration holds (pipelines and their
 * sections), shared by every folder that is configured; the parser that
 * fills it is engine/config/. */
#ifndef EDDY_CORE_CONF_H
#define EDDY_CORE_CONF_H

#include "core/options.h"

/* ---------------------------------------------------------- configuration */

#define EDDY_N_SECTIONS_ 10 /* = EDDY_N_SECTIONS, below (checked in conf.c) */

/* A config file holds one or more pipelines; each starts at a [pipeline]
 * section and owns the sections after it. Sections before the first
 * [pipeline] are defaults copied into every pipeline; [http] is for the
 * process. Every section's keys are defined by one option table below (or,
 * for [model] and [drift], by the chosen learner's or detector's table). */

typedef enum { EDDY_SOURCE_KAFKA, EDDY_SOURCE_FILE } eddy_source_type_t;
typedef enum { EDDY_FORMAT_JSON, EDDY_FORMAT_AVRO, EDDY_FORMAT_CSV } eddy_format_t;
typedef enum { EDDY_WIRE_AUTO, EDDY_WIRE_PLAIN, EDDY_WIRE_CONFLUENT } eddy_wire_t;
typedef enum { EDDY_ACTION_ALERT, EDDY_ACTION_RESET, EDDY_ACTION_RETRAIN, EDDY_ACTION_SWAP } eddy_action_t;
typedef enum { EDDY_AT_LEAST_ONCE, EDDY_EXACTLY_ONCE } eddy_guarantee_t;

typedef struct eddy_pipeline_section {
  char name[128];
  int task; /* EDDY_CLASSIFICATION or EDDY_REGRESSION */
  int64_t seed;
  int guarantee; /* eddy_guarantee_t */
  int64_t window; /* instances in the windowed metrics of each replica */
} eddy_pipeline_section_t;

typedef struct eddy_source_section {
  int type;   /* eddy_source_type_t */
  char *topics; /* comma-separated, or ^regex */
  char *path;
  int format; /* eddy_format_t */
  char *schema; /* .avsc path, for avro */
  int wire;     /* eddy_wire_t */
  int64_t schema_id;
  char *columns; /* csv over kafka: the column names */
  char *label_topic;
  int label_format;         /* 0: the input's, else eddy_format_t + 1 */
  char *label_schema;       /* .avsc path of Avro label records; NULL: schema */
  int64_t label_schema_id;  /* Confluent schema id of label records (-1: any) */
  int64_t label_ttl;        /* seconds of record time; 0: no limit */
  int64_t max_task_idle_ms; /* -1: never wait */
  int64_t max_record_bytes;
  int64_t batch_size;
  int64_t commit_interval_ms;
} eddy_source_section_t;

typedef struct eddy_features_section {
  char *numeric; /* empty: every field not named elsewhere */
  char *nominal;
  char *target;
  char *key;
  char *id;
  char *timestamp;
  char *weight;
  char *required; /* fields a record must carry (non-null) */
  char *exclude;  /* fields that are not attributes (with numeric empty) */
  int64_t max_values;
  int64_t max_classes;
} eddy_features_section_t;

typedef enum { EDDY_WINDOW_TUMBLING, EDDY_WINDOW_SLIDING } eddy_window_t;
typedef enum { EDDY_TIME_AUTO, EDDY_TIME_S, EDDY_TIME_MS } eddy_time_unit_t;
/* Whose state the aggregates keep: each entity's (the key field's), or the
 * whole stream's (one state per partition, no key). */
typedef enum { EDDY_SCOPE_ENTITY, EDDY_SCOPE_STREAM } eddy_scope_t;

typedef struct eddy_state_section {
  char *store; /* memory | redis://host:port/db */
  char *aggregates;
  int64_t window_ms;
  int64_t max_entities;
  int64_t max_waiting; /* predictions waiting for their label, per partition */
  double checkpoint_interval; /* seconds */
  char *key_prefix;
  char *key; /* same as [features] key (either may be given) */
  int window;             /* eddy_window_t */
  int64_t window_buckets; /* sliding: buckets per window */
  int time_unit;          /* eddy_time_unit_t: of the timestamp and since_last fields */
  int scope;              /* eddy_scope_t */
} eddy_state_section_t;

typedef struct eddy_model_section {
  char learner[64];
  char fallback[64];      /* empty: no fallback learner */
  int64_t warmup;         /* the fallback answers until the model learned this many */
  double fallback_below;  /* ... and while the model's windowed accuracy is under this */
} eddy_model_section_t;

typedef struct eddy_drift_section {
  char detector[64]; /* empty: no concept-drift detector */
  int action;        /* eddy_action_t */
  int64_t retrain_window;
  int64_t retrain_epochs;
  char *data_detectors; /* psi, ks */
  char *data_features;  /* empty: every numeric and nominal feature */
} eddy_drift_section_t;

typedef struct eddy_sink_section {
  char *predictions;
  char *alerts;
  char *dead_letter;
  int format; /* eddy_format_t: json or avro */
  char *output_schema;
  int64_t output_schema_id; /* >= 0: Confluent wire format with this id */
  int64_t alerts_maxlen;
  int64_t max_in_flight; /* outputs awaiting delivery before consumption pauses */
  int aggregates;        /* predictions carry the joined aggregates */
  double anomaly_threshold; /* anomaly scores above it are alerts (1: none) */
} eddy_sink_section_t;

typedef struct eddy_pipeline_conf {
  const char *file; /* borrowed from eddy_config_t */
  int line;         /* of its [pipeline] header */
  eddy_pipeline_section_t pipeline;
  eddy_source_section_t source;
  eddy_kvlist_t kafka; /* passed to librdkafka as is */
  eddy_features_section_t features;
  eddy_state_section_t state;
  eddy_model_section_t model;
  eddy_kvlist_t model_params; /* [model] keys other than its own: the learner's */
  eddy_kvlist_t fallback_params; /* [model] fallback.KEY: the fallback's, prefix removed */
  eddy_drift_section_t drift;
  eddy_kvlist_t drift_params; /* the detector's keys, and psi.* / ks.* ones */
  eddy_kvlist_t values; /* [features] values.NAME = v1, v2: declared nominal values, in order */
  eddy_sink_section_t sink;
  int has_source; /* a [source] section was given */
  int section_line[EDDY_N_SECTIONS_]; /* line of each section's header (0: not given) */
  /* Every key set for this pipeline as "section.key" = value, with the file
   * and line it was written at: for errors found after parsing (see
   * eddy_conf_where). */
  eddy_kvlist_t where;
} eddy_pipeline_conf_t;

typedef struct eddy_http_section {
  char listen[128]; /* host:port; empty: no HTTP endpoint */
  int64_t max_body_bytes;
  int allow_learn;
  char token_file[512];
  /* Filled by the parser: the token read from token_file (whitespace
   * around it removed; "" when none) and where the keys were written. */
  char token[256];
  int token_file_line, allow_learn_line;
} eddy_http_section_t;

/* [run]: the process's own settings (one per file, as [http]). */
typedef struct eddy_run_section {
  int64_t threads; /* worker threads of `eddy run` (1: the loop thread alone) */
} eddy_run_section_t;

typedef struct eddy_config {
  char *file;
  eddy_pipeline_conf_t *pipelines;
  size_t n_pipelines;
  eddy_http_section_t http;
  eddy_run_section_t run;
} eddy_config_t;


/* The sections of a pipeline and their option tables (conf.c): the parser
 * (engine/config/), the reference and comparisons walk them. */
enum { EDDY_SEC_PIPELINE, EDDY_SEC_SOURCE, EDDY_SEC_KAFKA, EDDY_SEC_FEATURES, EDDY_SEC_STATE,
       EDDY_SEC_MODEL, EDDY_SEC_DRIFT, EDDY_SEC_SINK, EDDY_SEC_HTTP, EDDY_SEC_RUN,
       EDDY_N_SECTIONS };
/* [http] and [run] are the process's (one per file), not a pipeline's. */
#define EDDY_SEC_PROCESS(i) ((i) == EDDY_SEC_HTTP || (i) == EDDY_SEC_RUN)
typedef struct eddy_conf_section {
  const char *name;
  const eddy_option_t *options; /* NULL: pass-through ([kafka]) */
  size_t offset;                /* of its struct in eddy_pipeline_conf_t */
  const char *help;
} eddy_conf_section_t;
extern const eddy_conf_section_t eddy_conf_sections[EDDY_N_SECTIONS];

/* Frees what one pipeline's config owns (not c itself). */
void eddy_pipeline_conf_free(eddy_pipeline_conf_t *c);
/* Frees a config from eddy_config_load or eddy_config_parse. */
void eddy_config_free(eddy_config_t *c);
/* 1 when two pipelines are configured alike: every section's values and
 * every [kafka], [model] and [drift] pair (where they were written does not
 * matter). A reload keeps a pipeline whose configuration is unchanged. */
int eddy_pipeline_conf_equal(const eddy_pipeline_conf_t *a, const eddy_pipeline_conf_t *b);
/* Where [section] key was set for pipeline c (file, line, value as
 * written), or NULL when it was left at its default. */
const eddy_kv_t *eddy_conf_where(const eddy_pipeline_conf_t *c, const char *section,
                                 const char *key);
/* The pipeline named name (NULL: the first), or NULL. */
const eddy_pipeline_conf_t *eddy_config_pipeline(const eddy_config_t *c, const char *name);

#endif /* EDDY_CORE_CONF_H */
