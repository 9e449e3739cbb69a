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

/* The instances of pl (`eddy run --threads N`): the group, or pl alone. */
#define EACH_INSTANCE(pl, k, x)                                                          \
  for (size_t k = 0, n_##x = (pl)->n_group ? (pl)->n_group : 1; k < n_##x; k++)          \
    for (const eddy_pipeline_t *x = (pl)->n_group ? (pl)->group[k] : (pl); x; x = NULL)

/* The counters of every instance summed (their histograms too; alerts are
 * summed where they are written). */
static void stats_sum(const eddy_pipeline_t *pl, eddy_pipeline_stats_t *out) {
  *out = pl->st;
  if (!pl->n_group) return;
  const eddy_pipeline_stats_t *a = &pl->group[0]->st;
  *out = *a;
  for (size_t k = 1; k < pl->n_group; k++) {
    const eddy_pipeline_stats_t *o = &pl->group[k]->st;
#define SUM(f) out->f += o->f;
    SUM(records_in) SUM(bytes_in) SUM(predictions) SUM(predictions_delivered) SUM(decode_errors) SUM(invalid)
    SUM(oversized) SUM(dead_lettered) SUM(dead_letters_delivered) SUM(dropped) SUM(skipped) SUM(learned)
    SUM(alerts_delivered) SUM(delivery_retries) SUM(delivery_failures) SUM(commits) SUM(commit_failures)
    SUM(rebalances) SUM(checkpoints) SUM(checkpoint_failures) SUM(replayed) SUM(txn_commits) SUM(txn_aborts)
    SUM(labels_in) SUM(labels_joined) SUM(labels_unmatched) SUM(labels_expired) SUM(labels_evicted)
#undef SUM
    eddy_hist_add(&out->latency, &o->latency);
    eddy_hist_add(&out->label_delay, &o->label_delay);
  }
}

void eddy_pipeline_metrics(const eddy_pipeline_t *pl, const char *family, eddy_buf_t *b) {
  eddy_pipeline_stats_t sum;
  stats_sum(pl, &sum);
  const eddy_pipeline_stats_t *st = &sum;
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
    uint64_t n = 0;
    EACH_INSTANCE(pl, k, x) n += x->in_flight;
    eddy_prom_sample(b, family, labels, (double)n);
  } else if (!strcmp(family, "eddy_paused")) {
    int paused = 0;
    EACH_INSTANCE(pl, k, x) paused |= x->paused || x->held;
    eddy_prom_sample(b, family, labels, paused ? 1 : 0);
  } else if (!strcmp(family, "eddy_kafka_reachable")) {
    int away = 0;
    EACH_INSTANCE(pl, k, x) away |= x->unreachable;
    eddy_prom_sample(b, family, labels, away ? 0 : 1);
  } else if (!strcmp(family, "eddy_state_store_reachable")) {
    int ok = 1;
    EACH_INSTANCE(pl, k, x) {
      const eddy_plstore_t *s = &x->store;
      ok &= !s->type || !s->type->ready || s->type->ready(s);
    }
    eddy_prom_sample(b, family, labels, ok ? 1 : 0);
  } else if (!strcmp(family, "eddy_alerts_total")) {
    /* By detector and kind, summed over the instances: each pair once, at
     * the first instance that has it. */
    EACH_INSTANCE(pl, k, x) for (size_t i = 0; i < x->st.n_alerts; i++) {
      const eddy_alert_count_t *a = &x->st.alerts[i];
      int earlier = 0;
      uint64_t n = 0;
      EACH_INSTANCE(pl, j, y) for (size_t m = 0; m < y->st.n_alerts; m++) {
        const eddy_alert_count_t *o = &y->st.alerts[m];
        if (strcmp(o->detector, a->detector) || strcmp(o->kind, a->kind)) continue;
        if (j < k) earlier = 1;
        n += o->n;
      }
      if (earlier) continue;
      eddy_prom_labels(labels, sizeof labels, "pipeline", name, "detector", a->detector, "kind", a->kind, NULL);
      eddy_prom_sample(b, family, labels, (double)n);
    }
  } else if (!strcmp(family, "eddy_labels_waiting")) {
    uint64_t n = 0;
    EACH_INSTANCE(pl, k, x) for (size_t i = 0; i < x->n_tasks; i++)
      if (!x->tasks[i]->retired && x->tasks[i]->waiting) n += eddy_waiting_stats(x->tasks[i]->waiting)->waiting;
    eddy_prom_sample(b, family, labels, (double)n);
  } else if (!strcmp(family, "eddy_label_delay_seconds")) {
    eddy_prom_histogram(b, family, labels, &st->label_delay);
  } else if (!strcmp(family, "eddy_latency_seconds")) {
    eddy_prom_histogram(b, family, labels, &st->latency);
  } else {
    EACH_INSTANCE(pl, k, x) for (size_t i = 0; i < x->n_tasks; i++) {
      const eddy_ptask_t *t = x->tasks[i];
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
        int64_t lag = eddy_pipeline_lag(x, t);
        if (lag >= 0) eddy_prom_sample(b, family, labels, (double)lag);
      } else if (!strcmp(family, "eddy_committed_offset")) {
        if (t->wm.committed >= 0) eddy_prom_sample(b, family, labels, (double)t->wm.committed);
      }
    }
  }
}
