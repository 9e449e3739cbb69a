/* test_waiting.c: the store of predictions waiting for their label
 * (engine/model/waiting.c): join once, bound with the least recent
 * evicted, ttl by record time, tombstones, replacement. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/model/model.h"

static eddy_instance_t inst(double x0) {
  eddy_instance_t in;
  cr_assert_eq(eddy_instance_init(&in, 2), 0);
  in.x[0] = x0;
  in.x[1] = -x0;
  in.missing[0] = in.missing[1] = 0;
  return in;
}

static eddy_wait_status_t take(eddy_waiting_t *w, const char *id, double t, double *x0, double *p0) {
  eddy_instance_t *in = NULL;
  const double *pred = NULL;
  int k = -1;
  double tp = NAN;
  eddy_wait_status_t s = eddy_waiting_take(w, id, strlen(id), t, &in, &pred, &k, &tp);
  if (s == EDDY_WAIT_JOINED) {
    cr_assert_eq(k, 2);
    if (x0) *x0 = in->x[0];
    if (p0) *p0 = pred[0];
  }
  return s;
}

static void put(eddy_waiting_t *w, const char *id, double x0, double t) {
  eddy_instance_t in = inst(x0);
  double pred[2] = {x0 / 10, 1 - x0 / 10};
  cr_assert_eq(eddy_waiting_put(w, id, strlen(id), &in, pred, 2, t), 0);
  eddy_instance_free(&in);
}

Test(waiting, joins_once_then_tells_duplicates_and_unknowns) {
  eddy_waiting_t *w = eddy_waiting_new(2, 10, 0);
  put(w, "a", 3, 1000);
  put(w, "b", 4, 1001);
  cr_assert_eq(eddy_waiting_stats(w)->waiting, 2);
  double x0 = 0, p0 = 0;
  cr_assert_eq(take(w, "b", 2000, &x0, &p0), EDDY_WAIT_JOINED);
  cr_assert_eq(x0, 4);
  cr_assert_float_eq(p0, 0.4, 1e-12);
  cr_assert_eq(eddy_waiting_stats(w)->waiting, 1);
  cr_assert_eq(take(w, "b", 2001, NULL, NULL), EDDY_WAIT_DUPLICATE);
  cr_assert_eq(take(w, "c", 2001, NULL, NULL), EDDY_WAIT_UNKNOWN);
  cr_assert_eq(take(w, "a", 2002, &x0, NULL), EDDY_WAIT_JOINED);
  cr_assert_eq(x0, 3);
  cr_assert_eq(eddy_waiting_stats(w)->waiting, 0);
  cr_assert_str_eq(eddy_wait_status_name(EDDY_WAIT_UNKNOWN), "unknown id");
  eddy_waiting_free(w);
}

Test(waiting, bound_evicts_the_least_recently_predicted) {
  eddy_waiting_t *w = eddy_waiting_new(2, 3, 0);
  put(w, "1", 1, 1);
  put(w, "2", 2, 2);
  put(w, "3", 3, 3);
  put(w, "1", 11, 4); /* predicted again: now the latest, replacing the first */
  cr_assert_eq(eddy_waiting_stats(w)->replaced, 1);
  put(w, "4", 4, 5);  /* full: "2" is the least recent */
  cr_assert_eq(eddy_waiting_stats(w)->evicted, 1);
  cr_assert_eq(eddy_waiting_stats(w)->waiting, 3);
  cr_assert_eq(take(w, "2", 6, NULL, NULL), EDDY_WAIT_UNKNOWN);
  double x0 = 0;
  cr_assert_eq(take(w, "1", 6, &x0, NULL), EDDY_WAIT_JOINED);
  cr_assert_eq(x0, 11);
  cr_assert_eq(take(w, "3", 6, NULL, NULL), EDDY_WAIT_JOINED);
  cr_assert_eq(take(w, "4", 6, NULL, NULL), EDDY_WAIT_JOINED);
  /* Tombstones are evicted like the rest, and no waiting one is counted. */
  put(w, "5", 5, 7);
  cr_assert_eq(eddy_waiting_stats(w)->evicted, 1);
  cr_assert_eq(take(w, "3", 8, NULL, NULL), EDDY_WAIT_UNKNOWN); /* the least recent tombstone went */
  cr_assert_eq(take(w, "1", 8, NULL, NULL), EDDY_WAIT_DUPLICATE);
  eddy_waiting_free(w);
}

Test(waiting, ttl_by_record_time) {
  eddy_waiting_t *w = eddy_waiting_new(2, 100, 1000);
  put(w, "a", 1, 0);
  put(w, "b", 2, 500);
  put(w, "c", 3, 900);
  cr_assert_eq(take(w, "a", 1001, NULL, NULL), EDDY_WAIT_EXPIRED); /* 1001 ms after */
  cr_assert_eq(eddy_waiting_stats(w)->expired, 1);
  cr_assert_eq(take(w, "a", 1002, NULL, NULL), EDDY_WAIT_EXPIRED); /* still told apart, counted once */
  cr_assert_eq(eddy_waiting_stats(w)->expired, 1);
  cr_assert_eq(take(w, "b", 1500, NULL, NULL), EDDY_WAIT_JOINED); /* exactly the ttl: kept */
  cr_assert_eq(eddy_waiting_expire(w, 1899), 0);
  cr_assert_eq(eddy_waiting_expire(w, 1901), 1); /* "c"; "b"'s tombstone is not a prediction */
  cr_assert_eq(eddy_waiting_stats(w)->expired, 2);
  cr_assert_eq(eddy_waiting_stats(w)->waiting, 0);
  cr_assert_eq(take(w, "b", 1902, NULL, NULL), EDDY_WAIT_DUPLICATE);
  cr_assert_eq(take(w, "c", 1903, NULL, NULL), EDDY_WAIT_EXPIRED);
  /* Another ttl later the ids are forgotten. */
  cr_assert_eq(eddy_waiting_expire(w, 2950), 0);
  cr_assert_eq(take(w, "a", 2951, NULL, NULL), EDDY_WAIT_UNKNOWN);
  cr_assert_eq(take(w, "b", 2951, NULL, NULL), EDDY_WAIT_UNKNOWN);
  cr_assert_eq(take(w, "c", 2951, NULL, NULL), EDDY_WAIT_UNKNOWN);
  /* Their slots are reused without eviction. */
  put(w, "d", 4, 3000);
  cr_assert_eq(take(w, "d", 3001, NULL, NULL), EDDY_WAIT_JOINED);
  cr_assert_eq(eddy_waiting_stats(w)->evicted, 0);
  eddy_waiting_free(w);
}

Test(waiting, a_full_store_evicts_graves_first) {
  eddy_waiting_t *w = eddy_waiting_new(2, 2, 1000);
  put(w, "old", 1, 0);
  put(w, "new", 2, 1500);
  cr_assert_eq(eddy_waiting_expire(w, 1500), 1); /* "old" past the ttl: a grave */
  put(w, "newer", 3, 1600);                      /* full: the grave goes, not "new" */
  cr_assert_eq(eddy_waiting_stats(w)->evicted, 0);
  cr_assert_eq(take(w, "old", 1700, NULL, NULL), EDDY_WAIT_UNKNOWN);
  cr_assert_eq(take(w, "new", 1700, NULL, NULL), EDDY_WAIT_JOINED);
  cr_assert_eq(take(w, "newer", 1700, NULL, NULL), EDDY_WAIT_JOINED);
  eddy_waiting_free(w);
}

Test(waiting, many_ids_reuse_slots) {
  eddy_waiting_t *w = eddy_waiting_new(2, 64, 0);
  char id[32];
  for (int i = 0; i < 10000; i++) {
    snprintf(id, sizeof id, "id-%d", i);
    put(w, id, i, i);
    if (i >= 10) {
      snprintf(id, sizeof id, "id-%d", i - 10);
      double x0 = -1;
      cr_assert_eq(take(w, id, i, &x0, NULL), EDDY_WAIT_JOINED, "i = %d", i);
      cr_assert_eq(x0, i - 10);
    }
  }
  cr_assert_eq(eddy_waiting_stats(w)->waiting, 10);
  cr_assert_eq(eddy_waiting_stats(w)->evicted, 0);
  eddy_waiting_free(w);
}

/* Checkpoints (eddy_waiting_save/load): a set loaded from the bytes of
 * another behaves as that one does from there on (joins, tombstones,
 * graves, the eviction order) and saves to the same bytes. */
static void sequence_before(eddy_waiting_t *w) {
  put(w, "a", 1, 1000);
  put(w, "b", 2, 1001);
  put(w, "c", 3, 1002);
  put(w, "d", 4, 3500);
  cr_assert_eq(take(w, "b", 3600, NULL, NULL), EDDY_WAIT_JOINED); /* a tombstone */
  cr_assert_eq(eddy_waiting_expire(w, 3600), 0);
  cr_assert_eq(eddy_waiting_expire(w, 4500), 2); /* a and c expire (ttl 3000); a, b, c graves */
}

static void sequence_after(eddy_waiting_t *w, char *trace, size_t size) {
  size_t n = 0;
  put(w, "e", 5, 4600); /* full (4): the oldest graves go first (a, then b) */
  put(w, "f", 6, 4700);
  const char *ids[] = {"a", "b", "c", "d", "e", "f", "g"};
  for (int i = 0; i < 7; i++) {
    double x0 = -1;
    eddy_wait_status_t s = take(w, ids[i], 4800, &x0, NULL);
    n += (size_t)snprintf(trace + n, size - n, "%s:%d:%g ", ids[i], (int)s, x0);
  }
}

Test(waiting, saved_and_loaded_behaves_the_same) {
  eddy_waiting_t *w = eddy_waiting_new(2, 4, 3000), *v = eddy_waiting_new(2, 4, 3000);
  sequence_before(w);
  eddy_buf_t b, c;
  eddy_buf_init(&b);
  eddy_buf_init(&c);
  cr_assert_eq(eddy_waiting_save(w, 17, 9, &b), 0);
  char err[256] = "";
  cr_assert_eq(eddy_waiting_load(v, b.data, b.len, 17, 9, err, sizeof err), 0, "%s", err);
  cr_assert_eq(eddy_waiting_stats(v)->waiting, eddy_waiting_stats(w)->waiting);
  cr_assert_eq(eddy_waiting_save(v, 17, 9, &c), 0);
  cr_assert_eq(c.len, b.len);
  cr_assert(memcmp(c.data, b.data, b.len) == 0, "saved again: other bytes");
  char tw[256], tv[256];
  sequence_after(w, tw, sizeof tw);
  sequence_after(v, tv, sizeof tv);
  cr_assert_str_eq(tv, tw);
  /* What the sequence does: a and b evicted (unknown), c expired, d, e,
   * f waiting, g unknown. */
  cr_assert_str_eq(tw, "a:1:-1 b:1:-1 c:2:-1 d:0:4 e:0:5 f:0:6 g:1:-1 ");
  eddy_buf_free(&b);
  eddy_buf_free(&c);
  eddy_waiting_free(w);
  eddy_waiting_free(v);
}

Test(waiting, load_refuses_what_save_could_not_have_written) {
  eddy_waiting_t *w = eddy_waiting_new(2, 4, 0);
  put(w, "a", 1, 1000);
  put(w, "b", 2, 1001);
  eddy_buf_t b;
  eddy_buf_init(&b);
  cr_assert_eq(eddy_waiting_save(w, 17, 9, &b), 0);
  char err[256];
  eddy_waiting_t *v = eddy_waiting_new(2, 4, 0);
  /* Another checkpoint's offsets. */
  cr_assert_eq(eddy_waiting_load(v, b.data, b.len, 17, 10, err, sizeof err), EDDY_ECORRUPT);
  cr_assert(strstr(err, "not the same step"), "%s", err);
  /* A flipped byte: the CRC. */
  b.data[b.len / 2] ^= 1;
  cr_assert_eq(eddy_waiting_load(v, b.data, b.len, 17, 9, err, sizeof err), EDDY_ECORRUPT);
  b.data[b.len / 2] ^= 1;
  /* Instances of another width, a smaller store. */
  eddy_waiting_t *x3 = eddy_waiting_new(3, 4, 0), *x1 = eddy_waiting_new(2, 1, 0);
  cr_assert_eq(eddy_waiting_load(x3, b.data, b.len, 17, 9, err, sizeof err), EDDY_ECORRUPT);
  cr_assert_eq(eddy_waiting_load(x1, b.data, b.len, 17, 9, err, sizeof err), EDDY_ECORRUPT);
  /* Not empty. */
  cr_assert_eq(eddy_waiting_load(w, b.data, b.len, 17, 9, err, sizeof err), EDDY_ESTATE);
  cr_assert_eq(eddy_waiting_load(v, b.data, b.len, 17, 9, err, sizeof err), 0, "%s", err);
  cr_assert_eq(eddy_waiting_stats(v)->waiting, 2);
  eddy_buf_free(&b);
  eddy_waiting_free(w);
  eddy_waiting_free(v);
  eddy_waiting_free(x3);
  eddy_waiting_free(x1);
}

/* The buckets grow with the entries (from 1,024 to max_waiting's): ids put
 * before and after each growth are all found, with their own instance and
 * prediction, and a second label still reads as one; ids of every length
 * (the entry's block holds the id) come back intact. */
Test(waiting, lookups_hold_across_bucket_growth) {
  eddy_waiting_t *w = eddy_waiting_new(2, 100000, 0);
  char id[160];
  for (int i = 0; i < 20000; i++) {
    int n = snprintf(id, sizeof id, "id-%d-", i);
    for (int j = 0; j < i % 100; j++) id[n++] = (char)('a' + j % 26);
    id[n] = '\0';
    put(w, id, i % 1000, i);
  }
  cr_assert_eq(eddy_waiting_stats(w)->waiting, 20000);
  for (int i = 19999; i >= 0; i--) {
    int n = snprintf(id, sizeof id, "id-%d-", i);
    for (int j = 0; j < i % 100; j++) id[n++] = (char)('a' + j % 26);
    id[n] = '\0';
    double x0 = -1, p0 = -1;
    cr_assert_eq(take(w, id, 30000, &x0, &p0), EDDY_WAIT_JOINED, "i = %d", i);
    cr_assert_eq(x0, i % 1000);
    cr_assert_eq(p0, (i % 1000) / 10.0);
    cr_assert_eq(take(w, id, 30000, NULL, NULL), EDDY_WAIT_DUPLICATE, "i = %d", i);
  }
  cr_assert_eq(take(w, "id-20000-", 30000, NULL, NULL), EDDY_WAIT_UNKNOWN);
  cr_assert_eq(eddy_waiting_stats(w)->waiting, 0);
  eddy_waiting_free(w);
}
