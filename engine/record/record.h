/* engine/record/record.h: the one record path: size and decode, required
 * fields, state join, predict, emit, learn, drift. `eddy run`, `eddy demo`,
 * `eddy verify` (through the stream's pipelines) and `eddy eval` all hand
 * their records to eddy_path_handle, so what a team measures offline is
 * what runs in production. */
#ifndef EDDY_RECORD_H
#define EDDY_RECORD_H

#include "connectors/connectors.h"
#include "engine/model/model.h"

/* What a pipeline's records go through, built once from its config: the
 * aggregates and the field map they extend, the decoder, the required
 * fields and the prediction encoder. Owns everything but conf. */
typedef struct eddy_path {
  const eddy_pipeline_conf_t *conf; /* borrowed */
  eddy_aggs_t *aggs;                /* [state] aggregates (n == 0: none) */
  eddy_fields_t *fields;
  eddy_decoder_t *decoder;
  eddy_output_t *output;            /* NULL: no prediction records */
  const eddy_field_t **required;    /* [features] required, resolved */
  size_t n_required;
  eddy_record_t rec;                /* the record in hand */
  eddy_buf_t out;                   /* its prediction record */
} eddy_path_t;

/* Builds p for pipeline c over records in format fmt whose fields are
 * names (the CSV header, an Avro schema's fields, or none for JSON from
 * Kafka, where the [features] lists say them). with_output: encode
 * prediction records ([sink] format). Errors name file:line:key. Free
 * with eddy_path_free (also after a failed init). */
int eddy_path_init(eddy_path_t *p, const eddy_pipeline_conf_t *c, eddy_format_t fmt,
                   const char *const *names, size_t n_names, int with_output, char *errstr,
                   size_t errstr_size);
void eddy_path_free(eddy_path_t *p);

/* One record and what to do with it. Strings are borrowed for the call. */
typedef struct eddy_path_input {
  const void *value;
  size_t len;
  const void *key;      /* the message key (Kafka), echoed in the prediction; NULL: none */
  size_t key_len;
  const char *topic;    /* NULL offline: predictions carry the record's index */
  int32_t partition;
  int64_t offset;       /* the source offset, or the record's index offline */
  double fallback_ms;   /* the record time when it has no [features] timestamp */
  double time;          /* the prediction's time, seconds since the epoch */
  int emit;             /* encode and hand over its prediction (0: replaying) */
  int learn;            /* learn it when labelled (0: the model has learned it) */
  int defer;            /* its label is revealed later: a labelled record goes to
                           sink->deferred (when set) instead of being learned now */
  int readonly;         /* score only (HTTP predict): the schema is frozen while it is decoded,
                           the replica neither counts it nor feeds drift, no state update, no learning */
  int outside;          /* from outside the stream (HTTP learn): no source offset for alerts */
  int wait;             /* its label may come later ([source] label_topic): a record
                           without its label goes to sink->waiting (when set) */
  void *opaque;         /* the caller's (the Kafka message), for its sink */
} eddy_path_input_t;

/* Where a record's entity state is: a task's batch in a store. pre is the
 * entity's index in the batch from the batch's first pass, -1 when that
 * pass found no key, or EDDY_PATH_ENTITY_NOW to fetch it now (the memory
 * store answers at once: one record is one batch, written back at once). */
#define EDDY_PATH_ENTITY_NOW (-2)
typedef struct eddy_path_state {
  eddy_state_batch_t *batch; /* NULL: no state store */
  eddy_store_t *store;
  int64_t pre;
} eddy_path_state_t;

/* Why a record went to the dead letters. */
typedef enum { EDDY_PATH_SIZE, EDDY_PATH_DECODE, EDDY_PATH_VALIDATE } eddy_path_stage_t;
/* "size", "decode", "validate": eddy.errors.stage's value. */
const char *eddy_path_stage_name(eddy_path_stage_t s);

/* What the caller does with the outcomes; every function may be NULL. */
typedef struct eddy_path_sink {
  /* A prediction record in p->out, to produce or write. */
  void (*predicted)(void *ctx, const eddy_path_input_t *in, const eddy_buf_t *out);
  /* A prediction that could not be encoded (logged by the caller). */
  void (*encode_failed)(void *ctx, const eddy_path_input_t *in);
  /* A bad record: nothing was predicted or learned. */
  void (*rejected)(void *ctx, const eddy_path_input_t *in, eddy_path_stage_t stage, int err,
                   const char *msg);
  /* After a labelled record was learned (err 0) or the learner failed. */
  void (*learned)(void *ctx, const eddy_path_input_t *in, int err);
  /* After the checks, before the state join and the prediction: t_ms is
   * the record time (its [features] timestamp, else in->fallback_ms).
   * Labels due by now are learned here, before this record is predicted,
   * as River's simulate_qa reveals them. */
  void (*decoded)(void *ctx, const eddy_path_input_t *in, double t_ms);
  /* in->defer: the joined instance and the prediction made (k values),
   * to learn when its label is revealed (eddy_replica_learn_with). */
  void (*deferred)(void *ctx, const eddy_path_input_t *in, const eddy_instance_t *x, const double *pred,
                   int k, double t_ms);
  /* in->wait and no label: the joined instance and the prediction made
   * (k values), to keep under the record's id (NULL when it has none)
   * until its label comes. */
  void (*waiting)(void *ctx, const eddy_path_input_t *in, const void *id, size_t id_len,
                  const eddy_instance_t *x, const double *pred, int k, double t_ms);
  /* The entity key was not read before the batch (Redis): joined as new. */
  void (*entity_missed)(void *ctx, const eddy_path_input_t *in);
} eddy_path_sink_t;

/* Handles one record with replica rep: checks its size (max_record_bytes)
 * and decodes it, checks the required fields, joins its entity's
 * aggregates, predicts, hands over the prediction (when in->emit), learns
 * it when labelled (when in->learn; drift detection and its actions
 * follow in the replica), then updates the entity's state. Allocates
 * nothing once the buffers have grown. Returns 0 when it was predicted, or
 * the error that sent it to sink->rejected. */
int eddy_path_handle(eddy_path_t *p, eddy_replica_t *rep, const eddy_path_state_t *st,
                     const eddy_path_input_t *in, const eddy_path_sink_t *sink, void *ctx);

#endif /* EDDY_RECORD_H */
