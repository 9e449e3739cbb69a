/* aggregates.c: per-entity aggregates of the state store ([state]
 * aggregates): the spec parser, the fixed layout of doubles per entity,
 * and join (the state before a record, as features) and update (apply the
 * record), with tumbling or bucketed sliding windows on the record time.
 * Stores (connectors/state_*.c) only keep the doubles; all the meaning is
 * here, so that the memory and Redis stores give the same values. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/connectors.h"
#include "core/core.h"

static const char *const kind_names[] = {"count", "sum",  "mean", "min",
                                         "max",   "ewma", "last", "since_last"};
#define N_KINDS (sizeof kind_names / sizeof kind_names[0])

/* Slots per bucket of a windowed aggregate (mean keeps n and sum). */
static size_t slots_per_bucket(eddy_agg_kind_t k) { return k == EDDY_AGG_MEAN ? 2 : 1; }
static int is_windowed(eddy_agg_kind_t k) { return k <= EDDY_AGG_MAX; }
/* The state slots of g: per bucket when windowed, one per lag for last. */
static size_t n_slots_of(const eddy_aggs_t *a, const eddy_agg_t *g) {
  if (g->windowed) return slots_per_bucket(g->kind) * a->buckets;
  return g->kind == EDDY_AGG_LAST ? g->lag : 1;
}
/* The value of an empty bucket: counts and sums start at 0, the rest at none. */
static double empty_value(eddy_agg_kind_t k) {
  return k == EDDY_AGG_COUNT || k == EDDY_AGG_SUM || k == EDDY_AGG_MEAN ? 0.0 : NAN;
}

void eddy_aggs_free(eddy_aggs_t *a) {
  if (!a) return;
  for (size_t i = 0; i < a->n; i++) {
    free(a->v[i].field);
    free(a->v[i].name);
  }
  for (size_t i = 0; i < a->n_inputs; i++) free(a->inputs[i]);
  free(a->inputs);
  free(a->v);
  free(a->fresh);
  free(a->spec);
  free(a);
}

static char *trim(char *s) {
  while (isspace((unsigned char)*s)) s++;
  char *e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
  return s;
}

static int valid_field(const char *s) {
  if (!*s) return 0;
  for (; *s; s++)
    if (*s == '(' || *s == ')' || *s == ',' || isspace((unsigned char)*s)) return 0;
  return 1;
}

static int add_input(eddy_aggs_t *a, const char *name) {
  for (size_t i = 0; i < a->n_inputs; i++)
    if (strcmp(a->inputs[i], name) == 0) return 0;
  char **v = realloc(a->inputs, (a->n_inputs + 1) * sizeof *v);
  if (!v) return EDDY_ENOMEM;
  a->inputs = v;
  if (!(v[a->n_inputs] = strdup(name))) return EDDY_ENOMEM;
  a->n_inputs++;
  return 0;
}

/* One item "kind(args)" into g; *msg gets what is wrong. */
static int parse_item(char *item, eddy_agg_t *g, char *msg, size_t msg_size) {
  char *open = strchr(item, '(');
  size_t len = strlen(item);
  if (!open || len == 0 || item[len - 1] != ')')
    return eddy_seterr(msg, msg_size, EDDY_EPARSE, "'%s' is not NAME(FIELD)", item);
  *open = '\0';
  item[len - 1] = '\0';
  char *kind = trim(item), *args = open + 1;
  if (strchr(args, '(') || strchr(args, ')'))
    return eddy_seterr(msg, msg_size, EDDY_EPARSE, "'%s(%s)': unbalanced parentheses", kind, args);
  size_t k = 0;
  while (k < N_KINDS && strcmp(kind, kind_names[k]) != 0) k++;
  if (k == N_KINDS)
    return eddy_seterr(msg, msg_size, EDDY_EINVAL,
                       "unknown aggregate '%s' (known: count, sum, mean, min, max, ewma, last, "
                       "since_last)",
                       kind);
  g->kind = (eddy_agg_kind_t)k;
  char *argv[3];
  size_t argc = 0;
  for (char *s = args;; ) {
    char *comma = strchr(s, ',');
    if (comma) *comma = '\0';
    if (argc == 3) return eddy_seterr(msg, msg_size, EDDY_EINVAL, "%s(): too many arguments", kind);
    argv[argc++] = trim(s);
    if (!comma) break;
    s = comma + 1;
  }
  if (argc == 1 && !*argv[0]) argc = 0;
  const char *field = NULL;
  switch (g->kind) {
  case EDDY_AGG_COUNT:
    if (argc > 1) return eddy_seterr(msg, msg_size, EDDY_EINVAL, "count takes one field, or *");
    if (argc == 1 && strcmp(argv[0], "*") != 0) field = argv[0];
    break;
  case EDDY_AGG_SINCE_LAST:
    if (argc > 1)
      return eddy_seterr(msg, msg_size, EDDY_EINVAL,
                         "since_last takes one time field, or none for the record time");
    if (argc == 1) field = argv[0];
    break;
  case EDDY_AGG_EWMA: {
    if (argc != 2)
      return eddy_seterr(msg, msg_size, EDDY_EINVAL, "ewma takes a field and a weight: ewma(F, ALPHA)");
    field = argv[0];
    double alpha;
    if (eddy_parse_double(argv[1], &alpha) || !(alpha > 0 && alpha <= 1))
      return eddy_seterr(msg, msg_size, EDDY_EINVAL, "ewma(%s, %s): ALPHA must be a number in (0, 1]",
                         argv[0], argv[1]);
    g->alpha = alpha;
    break;
  }
  case EDDY_AGG_LAST: {
    if (argc < 1 || argc > 2 || !*argv[0])
      return eddy_seterr(msg, msg_size, EDDY_EINVAL, "last takes a field and an optional lag: last(F) or last(F, N)");
    field = argv[0];
    double lag = 1;
    if (argc == 2 && (eddy_parse_double(argv[1], &lag) || !(lag >= 1 && lag <= 1000) || lag != floor(lag)))
      return eddy_seterr(msg, msg_size, EDDY_EINVAL, "last(%s, %s): N must be a whole number in [1, 1000]",
                         argv[0], argv[1]);
    g->lag = (uint32_t)lag;
    break;
  }
  default:
    if (argc != 1) return eddy_seterr(msg, msg_size, EDDY_EINVAL, "%s takes one field: %s(F)", kind, kind);
    field = argv[0];
  }
  if (field && !valid_field(field))
    return eddy_seterr(msg, msg_size, EDDY_EINVAL, "%s(): '%s' is not a field name", kind, field);
  if (field && !(g->field = strdup(field))) return EDDY_ENOMEM;
  char name[512], alpha[40];
  if (g->kind == EDDY_AGG_EWMA) {
    eddy_fmt_double(alpha, sizeof alpha, g->alpha);
    snprintf(name, sizeof name, "%s_ewma_%s", field, alpha);
  } else if (g->kind == EDDY_AGG_LAST && g->lag > 1) {
    snprintf(name, sizeof name, "%s_last_%u", field, g->lag);
  } else if (field) {
    snprintf(name, sizeof name, "%s_%s", field, kind_names[g->kind]);
  } else {
    snprintf(name, sizeof name, "%s", kind_names[g->kind]);
  }
  if (!(g->name = strdup(name))) return EDDY_ENOMEM;
  return 0;
}

/* Splits at commas outside parentheses. */
static size_t split_top(char *s, char **items, size_t max) {
  size_t n = 0;
  int depth = 0;
  char *start = s;
  for (char *p = s;; p++) {
    if (*p == '(') depth++;
    if (*p == ')') depth--;
    if ((*p == ',' && depth == 0) || !*p) {
      int end = !*p;
      *p = '\0';
      char *t = trim(start);
      if (*t && n < max) items[n++] = t;
      if (end) break;
      start = p + 1;
    }
  }
  return n;
}

eddy_aggs_t *eddy_aggs_new(const eddy_pipeline_conf_t *c, char *errstr, size_t errstr_size) {
  eddy_aggs_t *a = calloc(1, sizeof *a);
  if (!a) {
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    return NULL;
  }
  const eddy_state_section_t *st = &c->state;
  a->window_ms = st->window_ms;
  a->buckets = st->window_ms > 0 && st->window == EDDY_WINDOW_SLIDING ? (uint32_t)st->window_buckets : 1;
  a->bucket_ms = st->window_ms > 0 ? (double)st->window_ms / a->buckets : 0;
  a->time_unit = st->time_unit;
  const eddy_kv_t *where = eddy_conf_where(c, "state", "aggregates");
  char *copy = strdup(st->aggregates ? st->aggregates : "");
  size_t max = copy ? strlen(copy) + 1 : 0;
  char **items = calloc(max, sizeof *items);
  char msg[600];
  int err = !copy || !items ? EDDY_ENOMEM : 0;
  size_t n = err ? 0 : split_top(copy, items, max);
  if (!err && n && !(a->v = calloc(n, sizeof *a->v))) err = EDDY_ENOMEM;
  eddy_buf_t spec;
  eddy_buf_init(&spec);
  size_t slot = 1; /* slot 0: the newest bucket index */
  for (size_t i = 0; i < n && !err; i++) {
    eddy_agg_t *g = &a->v[a->n++];
    g->attr = -1;
    if ((err = parse_item(items[i], g, msg, sizeof msg))) break;
    for (size_t j = 0; j + 1 < a->n && !err; j++)
      if (strcmp(a->v[j].name, g->name) == 0)
        err = eddy_seterr(msg, sizeof msg, EDDY_EINVAL, "'%s' is given twice", g->name);
    if (!err && g->field) err = add_input(a, g->field);
    g->windowed = is_windowed(g->kind);
    g->slot = slot;
    slot += n_slots_of(a, g);
    char al[40] = "";
    if (g->kind == EDDY_AGG_EWMA) eddy_fmt_double(al, sizeof al, g->alpha);
    if (g->kind == EDDY_AGG_LAST && g->lag > 1) snprintf(al, sizeof al, "%u", g->lag);
    eddy_buf_printf(&spec, "%s%s(%s%s%s)", i ? ", " : "", kind_names[g->kind],
                    g->field ? g->field : (g->kind == EDDY_AGG_COUNT ? "*" : ""), al[0] ? ", " : "", al);
  }
  a->n_slots = slot;
  if (!err) {
    eddy_buf_put_u8(&spec, 0);
    if (spec.err || !(a->fresh = malloc(a->n_slots * sizeof *a->fresh))) err = EDDY_ENOMEM;
  }
  if (!err) {
    a->spec = (char *)spec.data;
    spec.data = NULL;
    a->fresh[0] = NAN;
    for (size_t i = 0; i < a->n; i++) {
      const eddy_agg_t *g = &a->v[i];
      size_t m = n_slots_of(a, g);
      for (size_t j = 0; j < m; j++) a->fresh[g->slot + j] = empty_value(g->kind);
    }
    char text[1200];
    snprintf(text, sizeof text, "eddy-aggs-1|%s|%lld|%u", a->spec, (long long)a->window_ms, a->buckets);
    a->layout = eddy_hash(text, strlen(text));
  }
  eddy_buf_free(&spec);
  free(copy);
  free(items);
  if (err) {
    if (err == EDDY_ENOMEM)
      eddy_seterr(errstr, errstr_size, err, "out of memory");
    else
      eddy_seterr(errstr, errstr_size, err, "%s:%d: [state] key 'aggregates': %s",
                  where && where->file ? where->file : c->file, where ? where->line : c->line, msg);
    eddy_aggs_free(a);
    return NULL;
  }
  return a;
}

int eddy_aggs_bind(eddy_aggs_t *a, eddy_fields_t *f, char *errstr, size_t errstr_size) {
  for (size_t i = 0; i < a->n; i++) {
    eddy_agg_t *g = &a->v[i];
    if (g->attr >= 0) return eddy_seterr(errstr, errstr_size, EDDY_ESTATE, "aggregates are bound already");
    if (!g->field) {
      g->src = g->kind == EDDY_AGG_COUNT ? EDDY_AGG_SRC_ALL : EDDY_AGG_SRC_RTIME;
    } else {
      const eddy_field_t *x = eddy_fields_find(f, g->field, strlen(g->field));
      const char *bad = NULL;
      if (!x) {
        bad = "is not a field of the records (pass the aggregates' inputs to eddy_fields_new as aux)";
      } else {
        g->src_index = x->index;
        switch (x->kind) {
        case EDDY_FIELD_ATTR:
          if (x->attr_kind == EDDY_NOMINAL) bad = "is nominal; aggregates need numbers";
          g->src = EDDY_AGG_SRC_ATTR;
          break;
        case EDDY_FIELD_AUX: g->src = EDDY_AGG_SRC_AUX; break;
        case EDDY_FIELD_TIME: g->src = EDDY_AGG_SRC_TIME; break;
        case EDDY_FIELD_WEIGHT: g->src = EDDY_AGG_SRC_WEIGHT; break;
        case EDDY_FIELD_TARGET:
          /* A class is its index: the label of records already seen. */
          if (g->kind == EDDY_AGG_SINCE_LAST) bad = "is the target, not a time";
          g->src = EDDY_AGG_SRC_TARGET;
          break;
        case EDDY_FIELD_KEY: bad = "is the entity key"; break;
        case EDDY_FIELD_ID: bad = "is the record id"; break;
        case EDDY_FIELD_IGNORE:
          bad = "is ignored by the field map (pass the aggregates' inputs to eddy_fields_new as aux)";
          break;
        }
      }
      if (bad)
        return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "aggregate %s: field '%s' %s", g->name,
                           g->field, bad);
    }
    int attr = eddy_fields_add_attr(f, g->name);
    if (attr == EDDY_EINVAL)
      return eddy_seterr(errstr, errstr_size, EDDY_EINVAL,
                         "aggregate %s: the records already have a field of that name", g->name);
    if (attr < 0) return eddy_seterr(errstr, errstr_size, attr, "out of memory");
    g->attr = attr;
  }
  return 0;
}

void eddy_aggs_reset(const eddy_aggs_t *a, double *state) {
  memcpy(state, a->fresh, a->n_slots * sizeof *state);
}

double eddy_aggs_to_ms(const eddy_aggs_t *a, double v) {
  switch (a->time_unit) {
  case EDDY_TIME_S: return v * 1000.0;
  case EDDY_TIME_MS: return v;
  default: return fabs(v) >= 1e11 ? v : v * 1000.0;
  }
}

double eddy_aggs_time_ms(const eddy_aggs_t *a, const eddy_record_t *r, double fallback_ms) {
  return r->has_ts ? eddy_aggs_to_ms(a, r->ts) : fallback_ms;
}

/* The input of g in r, in its own units (time fields in ms); 0 when absent. */
static int input(const eddy_aggs_t *a, const eddy_agg_t *g, const eddy_record_t *r, double t_ms,
                 double *v) {
  size_t i = (size_t)g->src_index;
  switch ((eddy_agg_src_t)g->src) {
  case EDDY_AGG_SRC_ALL: *v = 1; return 1;
  case EDDY_AGG_SRC_ATTR:
    if (r->in.missing[i]) return 0;
    *v = r->in.x[i];
    break;
  case EDDY_AGG_SRC_AUX:
    if (!r->aux_set[i]) return 0;
    *v = r->aux[i];
    break;
  case EDDY_AGG_SRC_TIME:
    if (!r->has_ts) return 0;
    *v = r->ts;
    break;
  case EDDY_AGG_SRC_RTIME:
    if (isnan(t_ms)) return 0;
    *v = t_ms;
    return 1;
  case EDDY_AGG_SRC_TARGET:
    if (!r->in.has_y) return 0;
    *v = r->in.y;
    break;
  case EDDY_AGG_SRC_WEIGHT: *v = r->in.weight; break;
  default: return 0;
  }
  if (isnan(*v)) return 0;
  if (g->kind == EDDY_AGG_SINCE_LAST) *v = eddy_aggs_to_ms(a, *v);
  return 1;
}

static double bucket_of(const eddy_aggs_t *a, double t_ms) {
  if (a->window_ms <= 0 || isnan(t_ms)) return NAN;
  return floor(t_ms / a->bucket_ms);
}

static size_t ring_pos(const eddy_aggs_t *a, double j) {
  double b = (double)a->buckets;
  return (size_t)(j - b * floor(j / b));
}

/* The buckets [*lo, *hi] of the state that are inside the window of a
 * record at t_ms; returns 0 when none is (a new entity, or an expired one). */
static int window_range(const eddy_aggs_t *a, const double *state, double t_ms, double *lo,
                        double *hi) {
  double newest = state[0];
  if (isnan(newest)) return 0;
  double k = bucket_of(a, t_ms);
  if (isnan(k) || k < newest) k = newest;
  double first = k - a->buckets + 1;
  double oldest = newest - a->buckets + 1;
  *lo = first > oldest ? first : oldest;
  *hi = newest;
  return *lo <= *hi;
}

static double value(const eddy_aggs_t *a, const eddy_agg_t *g, const double *state,
                    const eddy_record_t *r, double t_ms, int in_window, double lo, double hi) {
  const double *s = state + g->slot;
  if (g->windowed) {
    double n = 0, sum = 0, m = NAN;
    if (in_window) {
      for (double j = lo; j <= hi; j++) {
        size_t p = ring_pos(a, j);
        switch (g->kind) {
        case EDDY_AGG_COUNT: n += s[p]; break;
        case EDDY_AGG_SUM: sum += s[p]; break;
        case EDDY_AGG_MEAN:
          n += s[p];
          sum += s[a->buckets + p];
          break;
        case EDDY_AGG_MIN:
          if (!isnan(s[p]) && !(s[p] >= m)) m = s[p];
          break;
        default: /* max */
          if (!isnan(s[p]) && !(s[p] <= m)) m = s[p];
        }
      }
    }
    switch (g->kind) {
    case EDDY_AGG_COUNT: return n;
    case EDDY_AGG_SUM: return sum;
    case EDDY_AGG_MEAN: return n > 0 ? sum / n : NAN;
    default: return m;
    }
  }
  if (g->kind == EDDY_AGG_SINCE_LAST) {
    double now;
    if (isnan(s[0]) || !input(a, g, r, t_ms, &now)) return NAN;
    return (now - s[0]) / 1000.0;
  }
  if (g->kind == EDDY_AGG_LAST) return s[g->lag - 1];
  return s[0]; /* ewma */
}

void eddy_aggs_eval(const eddy_aggs_t *a, const double *state, const eddy_record_t *r, double t_ms,
                    double *out) {
  double lo = 0, hi = -1;
  int in_window = window_range(a, state, t_ms, &lo, &hi);
  for (size_t i = 0; i < a->n; i++) out[i] = value(a, &a->v[i], state, r, t_ms, in_window, lo, hi);
}

void eddy_aggs_join(const eddy_aggs_t *a, const double *state, eddy_record_t *r, double t_ms) {
  double lo = 0, hi = -1;
  int in_window = window_range(a, state, t_ms, &lo, &hi);
  for (size_t i = 0; i < a->n; i++) {
    const eddy_agg_t *g = &a->v[i];
    if (g->attr < 0) continue;
    double v = value(a, g, state, r, t_ms, in_window, lo, hi);
    r->in.x[g->attr] = isnan(v) ? 0.0 : v;
    r->in.missing[g->attr] = isnan(v);
  }
}

/* Empties the bucket at ring position p of every windowed aggregate. */
static void clear_bucket(const eddy_aggs_t *a, double *state, size_t p) {
  for (size_t i = 0; i < a->n; i++) {
    const eddy_agg_t *g = &a->v[i];
    if (!g->windowed) continue;
    state[g->slot + p] = empty_value(g->kind);
    if (g->kind == EDDY_AGG_MEAN) state[g->slot + a->buckets + p] = 0.0;
  }
}

void eddy_aggs_update(const eddy_aggs_t *a, double *state, const eddy_record_t *r, double t_ms) {
  double k = bucket_of(a, t_ms);
  double newest = state[0];
  if (isnan(newest)) {
    eddy_aggs_reset(a, state);
    newest = isnan(k) ? 0 : k;
  } else if (!isnan(k) && k > newest) {
    /* Buckets newest+1 .. k are new: empty them (all of them at most once). */
    double stop = k - newest > a->buckets ? newest + a->buckets : k;
    for (double j = newest + 1; j <= stop; j++) clear_bucket(a, state, ring_pos(a, j));
    newest = k;
  }
  state[0] = newest;
  size_t p = ring_pos(a, newest);
  for (size_t i = 0; i < a->n; i++) {
    const eddy_agg_t *g = &a->v[i];
    double v, *s = state + g->slot;
    if (!input(a, g, r, t_ms, &v)) continue;
    switch (g->kind) {
    case EDDY_AGG_COUNT: s[p] += 1; break;
    case EDDY_AGG_SUM: s[p] += v; break;
    case EDDY_AGG_MEAN:
      s[p] += 1;
      s[a->buckets + p] += v;
      break;
    case EDDY_AGG_MIN:
      if (!(v >= s[p])) s[p] = v;
      break;
    case EDDY_AGG_MAX:
      if (!(v <= s[p])) s[p] = v;
      break;
    case EDDY_AGG_EWMA: s[0] = isnan(s[0]) ? v : g->alpha * v + (1 - g->alpha) * s[0]; break;
    case EDDY_AGG_LAST:
      /* s[0] is the newest, s[lag - 1] the one lag records back. */
      memmove(s + 1, s, (g->lag - 1) * sizeof *s);
      s[0] = v;
      break;
    case EDDY_AGG_SINCE_LAST: s[0] = v; break;
    }
  }
}
