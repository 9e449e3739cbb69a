/* pipeline_skip.c: offset jumps the pipeline did not choose. Each consumed
 * record's offset is compared with the offset its task expected; a record
 * beyond it, when the broker no longer has the expected one (retention, the
 * mock broker's ~5 MB per partition, an out-of-range reset), is a skip:
 * logged and counted (eddy_records_skipped_total). Gaps the log itself has
 * (transaction markers, compaction, aborted records) are not skips. */
#include <inttypes.h>
#include <string.h>

#include "engine/stream/pipeline_int.h"

/* The group's committed offset of t (-1 none or unknown). Synchronous, but
 * asked only when a task's first record is past a partition head that is
 * gone, once per assignment. */
static int64_t committed(eddy_pipeline_t *pl, const eddy_ptask_t *t) {
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(l, t->topic, t->partition);
  int64_t c = -1;
  if (!rd_kafka_committed(pl->consumer, l, 2000) && !l->elems[0].err) c = l->elems[0].offset;
  rd_kafka_topic_partition_list_destroy(l);
  return c;
}

static int reset_earliest(eddy_pipeline_t *pl) {
  char v[32];
  size_t n = sizeof v;
  const rd_kafka_conf_t *c = rd_kafka_conf(pl->consumer);
  if (rd_kafka_conf_get(c, "auto.offset.reset", v, &n) != RD_KAFKA_CONF_OK) return 1;
  return !strcmp(v, "earliest") || !strcmp(v, "smallest") || !strcmp(v, "beginning");
}

void eddy__pl_offset_seen(eddy_pipeline_t *pl, eddy_ptask_t *t, const rd_kafka_message_t *m) {
  int64_t o = m->offset, e = t->expect, lo = -1, hi = -1;
  t->expect = o + 1;
  if (o <= e || o == 0 || !pl->consumer) return; /* in order, or a rewind (replay, rebalance) */
  if (rd_kafka_get_watermark_offsets(pl->consumer, t->topic, t->partition, &lo, &hi) || lo <= 0) return;
  const char *why = "the broker no longer has them";
  if (e < 0) { /* the task's first record, its start not stored by eddy */
    e = committed(pl, t);
    if (e < 0) {
      if (!reset_earliest(pl)) return; /* auto.offset.reset = latest: a start chosen */
      e = 0;
      why = "the partition no longer starts at offset 0";
    }
    if (o <= e) return;
  }
  if (lo <= e) return; /* the expected offset is still there: a gap of the log's own */
  uint64_t n = (uint64_t)(o - e);
  pl->st.skipped += n;
  eddy_log(EDDY_LOG_WARN,
           "pipeline %s: %s [%d]: %" PRIu64 " records skipped (offsets %" PRId64 "..%" PRId64 "): %s "
           "(it keeps offsets from %" PRId64 ": retention, or eddy broker's ~5 MB per partition); "
           "%" PRIu64 " skipped in all",
           pl->conf->pipeline.name, t->topic, (int)t->partition, n, e, o - 1, why, lo, pl->st.skipped);
}
