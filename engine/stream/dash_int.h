/* dash_int.h: private to the dashboard (engine/stream/dash.c keeps the figures,
 * engine/stream/dash_api.c serves them and the page; build/gen/dash_assets.c,
 * generated from engine/dashboard/, holds the page's files). */
#ifndef EDDY_DASH_INT_H
#define EDDY_DASH_INT_H

#include <stddef.h>
#include <stdint.h>

#include "engine/stream/stream.h"

/* One file of the page, embedded at build time (tools/embed.sh). */
typedef struct eddy__dash_asset {
  const char *path; /* "/", "/app.js", ... */
  const char *type; /* Content-Type */
  const unsigned char *data;
  size_t len;
} eddy__dash_asset_t;

extern const eddy__dash_asset_t eddy__dash_assets[];
extern const size_t eddy__dash_n_assets;

/* One second of one partition. Rates are counts within the second; the
 * latency quantiles are the pipeline's (delivery reports are not kept by
 * partition); NaN or -1 where unknown. */
typedef struct eddy__dash_point {
  int64_t t;           /* wall clock, whole seconds since the epoch */
  float records, predictions, dead_letters, learned;
  float lag;           /* -1: unknown */
  float metric;        /* windowed accuracy or MAE; NaN before any label */
  float p50, p99;      /* seconds; NaN when nothing was delivered in the second */
  float waiting;       /* predictions waiting for their label ([source] label_topic); -1: none */
  uint32_t version;
} eddy__dash_point_t;

/* The last model figures of a partition (refreshed every few seconds:
 * hashing a model is not free). */
typedef struct eddy__dash_model {
  int have;
  char learner[64];
  uint64_t version, learned, seen;
  int64_t next_offset;  /* the offset after the last record consumed; -1 none */
  size_t bytes;         /* checkpoint bytes (eddy_replica_save) */
  size_t memory;        /* bytes in memory (eddy_replica_memory) */
  char sha256[65];      /* of the checkpoint bytes */
  double time;          /* wall clock of the snapshot */
  /* the first features by importance as JSON (eddy_learner_importance_json,
   * as many of EDDY__DASH_TOP_FEATURES as fit), "" for null */
  char importance[1024];
} eddy__dash_model_t;
#define EDDY__DASH_TOP_FEATURES 5

/* A partition's ring of points: the last `cap` seconds. */
typedef struct eddy__dash_part {
  char pipeline[128];
  int32_t partition;
  int task;                 /* EDDY_CLASSIFICATION or EDDY_REGRESSION */
  eddy__dash_point_t *ring; /* cap points, allocated once when the partition first shows */
  size_t head, n;           /* the next slot written, points held */
  const void *task_seen;    /* the task the previous counters came from */
  uint64_t prev_records, prev_predictions, prev_dead, prev_learned;
  int live;                 /* assigned at the last sample */
  eddy__dash_model_t model;
} eddy__dash_part_t;

/* A pipeline as the dashboard last saw it. */
typedef struct eddy__dash_pl {
  char name[128];
  char learner[64], detector[64], action[16], store[16], metric[16];
  int state;                     /* eddy_pl_state_t; CLOSED once gone */
  uint64_t records_in, predictions, dead_lettered, learned, alerts;
  uint64_t prev_lat[32];         /* the latency histogram's counts at the previous second */
  const void *seen;              /* the pipeline the previous counts came from */
  double p50, p99;               /* over the run (seconds; NaN none) */
  /* [source] label_topic: the label join's counters (eddy_labels_*), the
   * predictions waiting now and the label delay over the run (seconds). */
  int labels_on;
  char label_topic[256];
  uint64_t labels_in, labels_joined, labels_unmatched, labels_expired, labels_evicted, labels_waiting;
  double delay_p50, delay_p99, delay_mean;
} eddy__dash_pl_t;

/* One alert, copied into fixed fields (alerts come from the record path:
 * no allocation there). Longer strings are cut. */
typedef struct eddy__dash_alert {
  char pipeline[128], detector[64], kind[16], action[16], feature[256];
  int32_t partition;
  int64_t offset;
  uint64_t index, version_before, version_after;
  double statistic, threshold, time;
  int has_feature;
} eddy__dash_alert_t;

struct eddy_dash {
  size_t seconds;          /* ring length of each partition */
  eddy__dash_part_t *parts;
  size_t n_parts, cap_parts;
  eddy__dash_pl_t *pls;
  size_t n_pls, cap_pls;
  eddy__dash_alert_t *alerts; /* ring of max_alerts */
  size_t max_alerts, alert_head, n_alerts;
  uint64_t alerts_dropped;    /* older alerts overwritten */
  int64_t last_second;
  double last_models;
  double models_wanted_until; /* wall clock: /api/models was asked for lately */
};

/* eddy_dash_sample at wall clock `now` (tests give their own clock). */
void eddy__dash_sample_at(eddy_dash_t *d, eddy_pipeline_t *const *pls, size_t n, int models, double now);
/* The alert at position i (0 = oldest held). */
const eddy__dash_alert_t *eddy__dash_alert_at(const eddy_dash_t *d, size_t i);
/* Writes a held alert exactly as eddy_alert_json does. */
void eddy__dash_alert_json(const eddy__dash_alert_t *a, eddy_buf_t *b);

#endif
