/* metrics.c: the Prometheus text exposition format (0.0.4) and the fixed-
 * bucket histograms behind /metrics. Counters live as plain fields of the
 * pipelines and tasks (the record path only increments integers); this
 * file only writes them out. */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "engine/stream/stream.h"

/* End-to-end latency buckets, seconds: 0.5 ms to 30 s. */
const double eddy_latency_bounds[] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
                                      0.1,    0.2,   0.5,   1,     2,    5,    10, 30};
const size_t eddy_latency_n_bounds = sizeof eddy_latency_bounds / sizeof eddy_latency_bounds[0];
const double eddy_label_delay_bounds[] = {1, 10, 60, 300, 900, 3600, 4 * 3600, 86400, 7 * 86400};
const size_t eddy_label_delay_n_bounds = sizeof eddy_label_delay_bounds / sizeof eddy_label_delay_bounds[0];

void eddy_hist_init(eddy_histogram_t *h, const double *bounds, size_t n) {
  memset(h, 0, sizeof *h);
  h->bounds = bounds;
  h->n = n < 31 ? n : 31;
}

void eddy_hist_observe(eddy_histogram_t *h, double v) {
  size_t i = 0;
  while (i < h->n && v > h->bounds[i]) i++;
  h->counts[i]++;
  h->sum += v;
  h->count++;
}

void eddy_hist_add(eddy_histogram_t *h, const eddy_histogram_t *o) {
  for (size_t i = 0; i <= h->n && i <= o->n; i++) h->counts[i] += o->counts[i];
  h->sum += o->sum;
  h->count += o->count;
}

double eddy_hist_quantile(const eddy_histogram_t *h, double q) {
  if (!h->count) return NAN;
  double rank = q * (double)h->count;
  uint64_t cum = 0;
  for (size_t i = 0; i <= h->n; i++) {
    uint64_t prev = cum;
    cum += h->counts[i];
    if ((double)cum >= rank && h->counts[i]) {
      if (i == h->n) return h->bounds[h->n - 1]; /* +Inf bucket: its lower bound */
      double lo = i ? h->bounds[i - 1] : 0, hi = h->bounds[i];
      return lo + (hi - lo) * (rank - (double)prev) / (double)h->counts[i];
    }
  }
  return h->bounds[h->n - 1];
}

static void put_value(eddy_buf_t *b, double v) {
  char s[40];
  if (isnan(v)) {
    eddy_buf_put(b, "NaN", 3);
  } else if (isinf(v)) {
    eddy_buf_printf(b, "%s", v > 0 ? "+Inf" : "-Inf");
  } else {
    int n = eddy_fmt_double(s, sizeof s, v);
    eddy_buf_put(b, s, (size_t)n);
  }
}

void eddy_prom_family(eddy_buf_t *b, const char *name, const char *type, const char *help) {
  /* HELP text escapes backslash and newline. */
  eddy_buf_printf(b, "# HELP %s ", name);
  for (const char *p = help; *p; p++) {
    if (*p == '\\') eddy_buf_put(b, "\\\\", 2);
    else if (*p == '\n') eddy_buf_put(b, "\\n", 2);
    else eddy_buf_put_u8(b, (uint8_t)*p);
  }
  eddy_buf_printf(b, "\n# TYPE %s %s\n", name, type);
}

void eddy_prom_sample(eddy_buf_t *b, const char *name, const char *labels, double v) {
  eddy_buf_put(b, name, strlen(name));
  if (labels && *labels) eddy_buf_printf(b, "{%s}", labels);
  eddy_buf_put_u8(b, ' ');
  put_value(b, v);
  eddy_buf_put_u8(b, '\n');
}

void eddy_prom_histogram(eddy_buf_t *b, const char *name, const char *labels,
                         const eddy_histogram_t *h) {
  uint64_t cum = 0;
  const char *sep = labels && *labels ? "," : "";
  for (size_t i = 0; i <= h->n; i++) {
    cum += h->counts[i];
    eddy_buf_printf(b, "%s_bucket{%s%sle=\"", name, labels ? labels : "", sep);
    if (i == h->n) eddy_buf_put(b, "+Inf", 4);
    else put_value(b, h->bounds[i]);
    eddy_buf_printf(b, "\"} %llu\n", (unsigned long long)cum);
  }
  char sum[128];
  snprintf(sum, sizeof sum, "%s_sum", name);
  eddy_prom_sample(b, sum, labels, h->sum);
  snprintf(sum, sizeof sum, "%s_count", name);
  eddy_prom_sample(b, sum, labels, (double)h->count);
}

const char *eddy_prom_labels(char *out, size_t size, ...) {
  va_list ap;
  va_start(ap, size);
  size_t n = 0;
  out[0] = '\0';
  const char *k;
  while ((k = va_arg(ap, const char *)) != NULL) {
    const char *v = va_arg(ap, const char *);
    if (!v) v = "";
    size_t need = strlen(k) + 2 * strlen(v) + 5;
    if (n + need >= size) break;
    n += (size_t)snprintf(out + n, size - n, "%s%s=\"", n ? "," : "", k);
    for (const char *p = v; *p; p++) {
      if (*p == '\\' || *p == '"') {
        out[n++] = '\\';
        out[n++] = *p;
      } else if (*p == '\n') {
        out[n++] = '\\';
        out[n++] = 'n';
      } else {
        out[n++] = *p;
      }
    }
    out[n++] = '"';
    out[n] = '\0';
  }
  va_end(ap);
  return out;
}
