/* pipeline_metrics.c: a pipeline's Prometheus metrics: its counters and
 * per-task figures (eddy_pipeline_metrics). */
#define _GNU_SOURCE
#include <string.h>

#include "engine/stream/pipeline_int.h"

/* ------------------------------------------------------------- metrics */

static const char *task_labels(const eddy_pipeline_t *pl, const eddy_ptask_t *t, char *buf, size_t size) {
  char part[16];
  snprintf(part, sizeof part, "%d", (int)t->partition);
  return eddy_prom_labels(buf, size, "pipeline", pl->conf->pipeline.name, "topic", t->topic, "partition",
                          part, NULL);
}

void eddy_pipeline_metrics(const eddy_pipeline_t *pl, const char *family, eddy_buf_t *b) {
  const eddy_pipeline_stats_t *st = &pl->st;
  char labels[512];
  const char *name = pl->conf->pipeline.name;
  eddy_prom_labels(labels, sizeof labels, "pipeline", name, NULL);
  struct {
    const char *family;
    uint64_t v;
  } counters[] = {
      {"eddy_records_in_total", st->records_in},
      {"eddy_bytes_in_total", st->bytes_in},
      {"eddy_predictions_total", st->predictions},
      {"eddy_predictions_delivered_total", st->predictions_delivered},
      {"eddy_decode_errors_total", st->decode_errors},
      {"eddy_invalid_records_total", st->invalid},
      {"eddy_oversized_records_total", st->oversized},
      {"eddy_dead_lettered_total", st->dead_lettered},
      {"eddy_dead_letters_delivered_total", st->dead_letters_delivered},
      {"eddy_dropped_total", st->dropped},
      {"eddy_records_skipped_total", st->skipped},
      {"eddy_learn_total", st->learned},
      {"eddy_delivery_retries_total", st->delivery_retries},
      {"eddy_delivery_failures_total", st->delivery_failures},
      {"eddy_commits_total", st->commits},
      {"eddy_commit_failures_total", st->commit_failures},
      {"eddy_rebalances_total", st->rebalances},
      {"eddy_checkpoints_total", st->checkpoints},
      {"eddy_checkpoint_failures_total", st->checkpoint_failures},
      {"eddy_replayed_records_total", st->replayed},
      {"eddy_transactions_committed_total", st->txn_commits},
      {"eddy_transactions_aborted_total", st->txn_aborts},
      {"eddy_labels_in_total", st->labels_in},
      {"eddy_labels_joined_total", st->labels_joined},
      {"eddy_labels_unmatched_total", st->labels_unmatched},
      {"eddy_labels_expired_total", st->labels_expired},
      {"eddy_labels_evicted_total", st->labels_evicted},
  };
  for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
    if (!strcmp(family, counters[i].family)) {
      eddy_prom_sample(b, family, labels, (double)counters[i].v);
      return;
    }
  if (!strcmp(family, "eddy_outputs_in_flight")) {
    eddy_prom_sample(b, family, labels, (double)pl->in_flight);
  } else if (!strcmp(family, "eddy_paused")) {
    eddy_prom_sample(b, family, labels, pl->paused || pl->held ? 1 : 0);
  } else if (!strcmp(family, "eddy_kafka_reachable")) {
    eddy_prom_sample(b, family, labels, pl->unreachable ? 0 : 1);
  } else if (!strcmp(family, "eddy_state_store_reachable")) {
    const eddy_plstore_t *s = &pl->store;
    eddy_prom_sample(b, family, labels, !s->type || !s->type->ready || s->type->ready(s) ? 1 : 0);
  } else if (!strcmp(family, "eddy_alerts_total")) {
    for (size_t i = 0; i < st->n_alerts; i++) {
      eddy_prom_labels(labels, sizeof labels, "pipeline", name, "detector", st->alerts[i].detector, "kind",
                       st->alerts[i].kind, NULL);
      eddy_prom_sample(b, family, labels, (double)st->alerts[i].n);
    }
  } else if (!strcmp(family, "eddy_labels_waiting")) {
    uint64_t n = 0;
    for (size_t i = 0; i < pl->n_tasks; i++)
      if (!pl->tasks[i]->retired && pl->tasks[i]->waiting) n += eddy_waiting_stats(pl->tasks[i]->waiting)->waiting;
    eddy_prom_sample(b, family, labels, (double)n);
  } else if (!strcmp(family, "eddy_label_delay_seconds")) {
    eddy_prom_histogram(b, family, labels, &st->label_delay);
  } else if (!strcmp(family, "eddy_latency_seconds")) {
    eddy_prom_histogram(b, family, labels, &st->latency);
  } else {
    for (size_t i = 0; i < pl->n_tasks; i++) {
      const eddy_ptask_t *t = pl->tasks[i];
      if (t->retired) continue;
      task_labels(pl, t, labels, sizeof labels);
      const eddy_replica_t *r = t->replica;
      if (!strcmp(family, "eddy_partition_records_total")) {
        eddy_prom_sample(b, family, labels, (double)t->records);
      } else if (!strcmp(family, "eddy_partition_learn_total")) {
        eddy_prom_sample(b, family, labels, (double)t->learned);
      } else if (!strcmp(family, "eddy_model_version")) {
        eddy_prom_sample(b, family, labels, (double)r->version);
      } else if (!strcmp(family, "eddy_accuracy_windowed") || !strcmp(family, "eddy_mae_windowed")) {
        int cls = r->schema->task == EDDY_CLASSIFICATION;
        if (cls != !strcmp(family, "eddy_accuracy_windowed")) continue;
        eddy_metrics_t m;
        eddy_evaluator_windowed(r->eval, &m);
        if (m.n) eddy_prom_sample(b, family, labels, cls ? m.accuracy : m.mae);
      } else if (!strcmp(family, "eddy_consumer_lag")) {
        int64_t lag = eddy_pipeline_lag(pl, t);
        if (lag >= 0) eddy_prom_sample(b, family, labels, (double)lag);
      } else if (!strcmp(family, "eddy_committed_offset")) {
        if (t->wm.committed >= 0) eddy_prom_sample(b, family, labels, (double)t->wm.committed);
      }
    }
  }
}
