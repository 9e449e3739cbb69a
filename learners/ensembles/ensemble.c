/* ensemble.c: member handling shared by the online ensembles (oza_boost,
 * oza_bag, adwin_bagging): creating members of any registered type from
 * the ensemble's `base.`-prefixed keys, their Poisson weights (MOA's
 * java.util.Random or eddy's generator), MOA-style vote combination,
 * nested checkpoints and indented descriptions. */
#define _GNU_SOURCE /* open_memstream */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learners/ensembles/ensembles.h"

/* Scratch for one member's votes is sized at creation for this many
 * classes (or the schema's bound, if lower), so that predict does not
 * allocate unless a stream has more classes than that. */
#define VOTES_PREALLOC 256

const char *const eddy_ensemble_random_names[] = {"moa", "eddy", NULL};

/* Rewrites a member's option error so that it names the key as the user
 * wrote it ("key 'grace_period'" -> "key 'base.grace_period'"). */
static void member_error(char *errstr, size_t errstr_size, const char *msg, const char *base) {
  const char *k = strstr(msg, "key '");
  if (k)
    eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "%.*skey '%s%s (base learner '%s')",
                (int)(k - msg), msg, EDDY_ENSEMBLE_PREFIX, k + 5, base);
  else
    eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "base learner '%s': %s", base, msg);
}

int eddy_ensemble_init(eddy_ensemble_t *e, const eddy_learner_t *l, const char *base, size_t n,
                       int random, char *errstr, size_t errstr_size) {
  memset(e, 0, sizeof *e);
  e->random = random;
  e->seed = l->seed;
  /* MOA: classifierRandom = new Random(randomSeed), randomSeed an int
   * (-r); eddy's seed is the Java long (the same below 2^31) */
  eddy_jrandom_seed(&e->jr, (int64_t)l->seed);
  size_t plen = strlen(EDDY_ENSEMBLE_PREFIX), nkv = 0;
  eddy_kv_t *kv = calloc(l->kv.n ? l->kv.n : 1, sizeof *kv);
  e->members = calloc(n, sizeof *e->members);
  if (!kv || !e->members) {
    free(kv);
    free(e->members);
    e->members = NULL;
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  }
  /* Borrowed keys: the members copy their pairs. */
  for (size_t j = 0; j < l->kv.n; j++) {
    if (strncmp(l->kv.v[j].key, EDDY_ENSEMBLE_PREFIX, plen) != 0) continue;
    kv[nkv] = l->kv.v[j];
    kv[nkv++].key += plen;
  }
  int err = 0;
  for (size_t i = 0; i < n && !err; i++) {
    char msg[1024];
    e->members[i] = eddy_learner_new(base, l->schema, kv, nkv, eddy_seed_derive(l->seed, i), msg,
                                     sizeof msg);
    e->n = i + 1;
    if (!e->members[i]) {
      if (!eddy_learner_type_find(base)) {
        char where[512];
        eddy_kv_where(eddy_kvlist_get(&l->kv, "base_learner"), where, sizeof where);
        err = eddy_seterr(errstr, errstr_size, EDDY_ENOENT, "%skey 'base_learner': %s", where,
                          msg);
      } else {
        member_error(errstr, errstr_size, msg, base);
        err = EDDY_EINVAL;
      }
    }
  }
  free(kv);
  if (!err) {
    size_t cap = 1;
    if (l->schema->task == EDDY_CLASSIFICATION) {
      cap = l->schema->max_classes < VOTES_PREALLOC ? l->schema->max_classes : VOTES_PREALLOC;
      if (cap < eddy_schema_n_classes(l->schema)) cap = eddy_schema_n_classes(l->schema);
      if (cap < 1) cap = 1;
    }
    if (eddy_grow((void **)&e->votes, &e->votes_cap, cap, sizeof *e->votes))
      err = eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  }
  if (!err) {
    size_t d = l->schema->n_attrs ? l->schema->n_attrs : 1;
    e->known = malloc(n * sizeof *e->known);
    e->last_x = calloc(d, sizeof *e->last_x);
    e->last_h = calloc(d, sizeof *e->last_h);
    e->last_missing = calloc(d, 1);
    e->last_cap = d;
    if (!e->known || !e->last_x || !e->last_h || !e->last_missing)
      err = eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    else
      for (size_t i = 0; i < n; i++) e->known[i] = -1;
  }
  if (err) eddy_ensemble_destroy(e);
  return err;
}

void eddy_ensemble_destroy(eddy_ensemble_t *e) {
  for (size_t i = 0; i < e->n; i++) eddy_learner_free(e->members[i]);
  free(e->members);
  free(e->votes);
  free(e->known);
  free(e->last_x);
  free(e->last_h);
  free(e->last_missing);
  memset(e, 0, sizeof *e);
}

static int same_instance(const eddy_ensemble_t *e, const eddy_instance_t *x) {
  return e->last_valid && x->n == e->last_n &&
         e->last_classes == eddy_schema_n_classes(e->members[0]->schema) &&
         memcmp(x->x, e->last_x, x->n * sizeof *x->x) == 0 &&
         memcmp(x->h, e->last_h, x->n * sizeof *x->h) == 0 &&
         memcmp(x->missing, e->last_missing, x->n) == 0;
}

void eddy_ensemble_begin_predict(eddy_ensemble_t *e, const eddy_instance_t *x) {
  for (size_t i = 0; i < e->n; i++) e->known[i] = -1;
  e->last_valid = x->n <= e->last_cap;
  if (!e->last_valid) return;
  e->last_n = x->n;
  e->last_classes = eddy_schema_n_classes(e->members[0]->schema);
  memcpy(e->last_x, x->x, x->n * sizeof *x->x);
  memcpy(e->last_h, x->h, x->n * sizeof *x->h);
  memcpy(e->last_missing, x->missing, x->n);
}

void eddy_ensemble_begin_learn(eddy_ensemble_t *e, const eddy_instance_t *x) {
  if (e->last_valid && same_instance(e, x)) return;
  e->last_valid = 0;
  for (size_t i = 0; i < e->n; i++) e->known[i] = -1;
}

void eddy_ensemble_reset_member(eddy_ensemble_t *e, size_t i) {
  e->known[i] = -1;
  eddy_learner_t *m = e->members[i];
  eddy_learner_reset(m);
  eddy_rng_seed(&m->rng, m->seed);
}

void eddy_ensemble_reset(eddy_ensemble_t *e, eddy_learner_t *l) {
  for (size_t i = 0; i < e->n; i++) eddy_ensemble_reset_member(e, i);
  eddy_jrandom_seed(&e->jr, (int64_t)e->seed);
  eddy_rng_seed(&l->rng, l->seed);
}

int eddy_ensemble_poisson(eddy_ensemble_t *e, eddy_learner_t *l, double lambda) {
  if (e->random == EDDY_ENSEMBLE_RANDOM_MOA) return eddy_jrandom_poisson(&e->jr, lambda);
  return (int)eddy_rng_poisson(&l->rng, lambda);
}

int eddy_ensemble_learn_member(eddy_ensemble_t *e, size_t i, const eddy_instance_t *x, double k) {
  if (!(k > 0.0)) return 0;
  e->known[i] = -1; /* the member changes */
  eddy_instance_t w = *x; /* shares the arrays: only the weight differs */
  w.weight = x->weight * k;
  return eddy_learner_learn(e->members[i], &w);
}

int eddy_ensemble_member_predict(eddy_ensemble_t *e, size_t i, const eddy_instance_t *x) {
  eddy_learner_t *m = e->members[i];
  if (m->schema->task == EDDY_CLASSIFICATION) {
    size_t k = eddy_schema_n_classes(m->schema);
    if (k > e->votes_cap && eddy_grow((void **)&e->votes, &e->votes_cap, k, sizeof *e->votes))
      return EDDY_ENOMEM;
    if (m->type->votes) return m->type->votes(m, x, e->votes, e->votes_cap);
  }
  return eddy_learner_predict(m, x, e->votes, e->votes_cap);
}

int eddy_ensemble_correct(eddy_ensemble_t *e, size_t i, const eddy_instance_t *x) {
  if (e->last_valid && e->known[i] >= 0) return (double)e->known[i] == x->y;
  int k = eddy_ensemble_member_predict(e, i, x);
  if (k < 0) return k;
  size_t c = eddy_argmax(e->votes, (size_t)k);
  if (e->last_valid) e->known[i] = (int32_t)c;
  return (double)c == x->y;
}

void eddy_ensemble_add_votes(const double *v, size_t n, double weight, double *out, size_t k) {
  size_t m = n < k ? n : k;
  double sum = 0, abs_sum = 0;
  for (size_t c = 0; c < m; c++) {
    sum += v[c];
    abs_sum += v[c] > 0.0 ? v[c] : -v[c];
  }
  if (!(sum > 0.0)) return;
  /* MOA's DoubleVector: normalize() multiplies by 1 / (sum of absolute
   * values), then scaleValues(weight): the same roundings, in that order,
   * so that ties break as MOA's do; an infinite factor (subnormal sum)
   * gives infinity and NaN as MOA's does. */
  double inv = 1.0 / abs_sum;
  if (weight == 1.0)
    for (size_t c = 0; c < m; c++) out[c] += v[c] * inv;
  else
    for (size_t c = 0; c < m; c++) out[c] += (v[c] * inv) * weight;
}

int eddy_ensemble_add_vote(eddy_ensemble_t *e, size_t i, const eddy_instance_t *x, double weight,
                           double *out, size_t k) {
  int n = eddy_ensemble_member_predict(e, i, x);
  if (n < 0) return n;
  if (e->last_valid) e->known[i] = (int32_t)eddy_argmax(e->votes, (size_t)n);
  eddy_ensemble_add_votes(e->votes, (size_t)n, weight, out, k);
  return 0;
}

void eddy_ensemble_finish_vote(double *v, size_t k) {
  if (k == 0) return;
  size_t best = eddy_argmax(v, k);
  double sum = 0;
  for (size_t c = 0; c < k; c++) sum += v[c];
  if (!isfinite(sum)) { /* a member's infinite or NaN vote */
    for (size_t c = 0; c < k; c++) v[c] = c == best ? 1.0 : 0.0;
    return;
  }
  if (!(sum > 0.0)) return; /* nothing voted: all 0 */
  for (size_t c = 0; c < k; c++) v[c] /= sum;
  /* division rounds monotonically, so it can only tie `best` with an
   * earlier class, never pass it */
  if (eddy_argmax(v, k) != best) v[best] = nextafter(v[best], INFINITY);
}

int eddy_ensemble_bagging_predict(eddy_ensemble_t *e, const eddy_schema_t *schema,
                                  const eddy_instance_t *x, double *out, size_t out_len) {
  eddy_ensemble_begin_predict(e, x);
  if (schema->task == EDDY_REGRESSION) {
    if (out_len < 1) return EDDY_ENOSPC;
    double sum = 0;
    for (size_t i = 0; i < e->n; i++) {
      int n = eddy_ensemble_member_predict(e, i, x);
      if (n < 0) return n;
      sum += e->votes[0];
    }
    out[0] = sum / (double)e->n;
    return 1;
  }
  size_t k = eddy_schema_n_classes(schema);
  if (out_len < k) return EDDY_ENOSPC;
  memset(out, 0, k * sizeof *out);
  for (size_t i = 0; i < e->n; i++) {
    int err = eddy_ensemble_add_vote(e, i, x, 1.0, out, k);
    if (err) return err;
  }
  eddy_ensemble_finish_vote(out, k);
  return (int)k;
}

int eddy_ensemble_save(const eddy_ensemble_t *e, eddy_buf_t *b) {
  eddy_buf_put_u64(b, e->n);
  for (size_t i = 0; i < e->n; i++) {
    int err = eddy_learner_save(e->members[i], b);
    if (err) return err;
  }
  eddy_buf_put_u8(b, (uint8_t)e->random);
  eddy_jrandom_save(&e->jr, b);
  return b->err;
}

int eddy_ensemble_load(eddy_ensemble_t *e, const eddy_learner_t *l, eddy_reader_t *r) {
  uint64_t n = eddy_read_u64(r);
  if (r->err) return r->err;
  if (n != e->n) return EDDY_ECORRUPT;
  for (size_t i = 0; i < e->n; i++) {
    uint32_t tag = eddy_read_u32(r);
    uint64_t len = eddy_read_u64(r);
    if (r->err || tag != EDDY_SECTION_LEARNER || len > r->len - r->pos) return EDDY_ECORRUPT;
    eddy_reader_t sub;
    eddy_reader_init(&sub, r->p + r->pos, (size_t)len);
    char msg[512];
    eddy_learner_t *m = eddy_learner_load(&sub, l->schema, msg, sizeof msg);
    if (!m) {
      eddy_log(EDDY_LOG_DEBUG, "%s member %zu: %s", l->type->name, i, msg);
      return EDDY_ECORRUPT;
    }
    eddy_learner_free(e->members[i]);
    e->members[i] = m;
    e->known[i] = -1;
    r->pos += (size_t)len;
  }
  if (r->err) return r->err;
  /* checkpoints from before the `random` option end here */
  if (r->pos == r->len) return EDDY_EVERSION;
  if (eddy_read_u8(r) != (uint8_t)e->random) return r->err ? r->err : EDDY_ECORRUPT;
  eddy_jrandom_load(&e->jr, r);
  return r->err;
}

size_t eddy_ensemble_memory(const eddy_ensemble_t *e) {
  size_t m = e->n * (sizeof *e->members + sizeof *e->known) + e->votes_cap * sizeof *e->votes +
             e->last_cap * (sizeof *e->last_x + sizeof *e->last_h + 1);
  for (size_t i = 0; i < e->n; i++) m += eddy_learner_memory(e->members[i]);
  return m;
}

void eddy_ensemble_describe_member(const eddy_ensemble_t *e, size_t i, const char *head,
                                   FILE *out) {
  fprintf(out, "  member %zu: %s\n", i, head);
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  if (!mem) {
    eddy_learner_describe(e->members[i], out);
    return;
  }
  eddy_learner_describe(e->members[i], mem);
  fclose(mem);
  for (char *line = text, *end; line && *line; line = end ? end + 1 : NULL) {
    end = strchr(line, '\n');
    fprintf(out, "    %.*s\n", end ? (int)(end - line) : (int)strlen(line), line);
  }
  free(text);
}

int eddy_ensemble_export(const eddy_ensemble_t *e, const double *weights, eddy_buf_t *b) {
  eddy_buf_printf(b, "{\"family\":\"ensemble\",\"members\":[");
  for (size_t i = 0; i < e->n; i++) {
    eddy_buf_printf(b, "%s{\"vote_weight\":", i ? "," : "");
    eddy_json_double(b, weights ? weights[i] : 1.0);
    eddy_buf_printf(b, ",\"learner\":");
    int err = eddy_learner_export(e->members[i], b);
    if (err) return err;
    eddy_buf_put_u8(b, '}');
  }
  eddy_buf_printf(b, "]}");
  return b->err;
}

int eddy_ensemble_importance(const eddy_learner_t *l, double *gain, double *splits, size_t n_attrs) {
  const eddy_ensemble_t *e = l->state; /* every such ensemble's state starts with it */
  for (size_t a = 0; a < n_attrs; a++) gain[a] = splits[a] = 0.0;
  if (!e->n) return 0;
  double *g = calloc(2 * n_attrs + 1, sizeof *g);
  if (!g) return EDDY_ENOMEM;
  int err = 0;
  for (size_t i = 0; i < e->n && !err; i++) {
    if ((err = eddy_learner_importance(e->members[i], g, g + n_attrs, n_attrs))) break;
    for (size_t a = 0; a < n_attrs; a++) {
      gain[a] += g[a] / (double)e->n;
      splits[a] += g[n_attrs + a];
    }
  }
  free(g);
  return err;
}
