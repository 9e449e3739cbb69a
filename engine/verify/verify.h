/* verify.h: the offline verifier behind `eddy verify` (engine/verify.c):
 * after a run, reads a pipeline's input, predictions, alerts and dead-letter
 * topics and its Redis checkpoints, and checks the invariants of
 * docs (README, "eddy verify"): every input offset that decodes has a
 * prediction (exactly one with exactly_once), every one that does not has a
 * dead letter carrying it; no output names an offset never in the input;
 * each checkpointed model is byte-identical to the one recomputed by
 * replaying its partition through the pipeline's record path. */
#ifndef EDDY_VERIFY_H
#define EDDY_VERIFY_H

#include <stdio.h>

#include "engine/config/config.h"
#include "engine/model/model.h"

typedef struct eddy_verify_opts {
  int exactly_once;   /* exactly one prediction (dead letter) per offset */
  int64_t expect_dlq; /* distinct records the DLQ must hold; -1: not checked */
  double timeout;     /* seconds: connecting, and waiting for a topic's end */
  FILE *out;          /* the report lines (one per check); NULL: none */
} eddy_verify_opts_t;

/* Figures of one pipeline (the JSON of `eddy verify --json`). */
typedef struct eddy_verify_result {
  char pipeline[128];
  uint64_t records_in;     /* input records (offsets holding a record) */
  uint64_t decoded;        /* those that decode (a prediction is due) */
  uint64_t predictions;    /* decoded offsets with at least one prediction */
  uint64_t duplicates;     /* predictions beyond the first of an offset */
  uint64_t lost;           /* offsets without their output: prediction or dead letter */
  uint64_t dlq;            /* offsets with at least one dead letter */
  uint64_t dlq_duplicates; /* dead letters beyond the first of an offset */
  uint64_t alerts;         /* alerts of this pipeline in the alerts topic */
  uint64_t stray;          /* outputs naming an offset never in the input */
  uint64_t misrouted;      /* a prediction of a bad record, a dead letter of a good one */
  uint64_t bad_dead_letters; /* dead letters whose key, value or headers are not the record's */
  uint64_t before_start;   /* outputs naming records deleted since (below the low watermark) */
  uint64_t models_checked, models_equal;
  /* [source] label_topic: label records replayed, and those joined to a
   * prediction (learned; the others must be dead-lettered). */
  uint64_t labels_in, labels_joined;
  /* Exactly once: output records past a partition's last stable offset
   * (an open transaction hides them from read_committed readers), over
   * how many partitions, the first of them (TOPIC:P). */
  uint64_t hidden, hidden_parts;
  char hidden_where[300];
  uint64_t prediction_records, dead_letter_records; /* as read, this pipeline's */
  double seconds;
  int violated;
  char violation[1024]; /* the first violation */
  /* No verdict yet (exit 2): outputs are missing while others are hidden
   * by an open transaction (empty: none). */
  char pending[1024];
} eddy_verify_result_t;

/* Verifies pipeline c. Returns 0 when the checks ran (r->violated says
 * whether an invariant failed), or a negative code when they could not:
 * the config, Kafka or Redis (errstr says which). */
int eddy_verify_pipeline(const eddy_pipeline_conf_t *c, const eddy_verify_opts_t *o,
                         eddy_verify_result_t *r, char *errstr, size_t errstr_size);

/* The result as one JSON object (no newline). */
void eddy_verify_json(const eddy_verify_result_t *r, eddy_buf_t *b);

#endif /* EDDY_VERIFY_H */
