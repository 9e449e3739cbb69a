/* test_drift_actions.c: what a replica does on drift: on SEA with an abrupt
 * concept change, reset / retrain / swap recover faster than alert alone;
 * every change bumps the model version and is reported as an alert; a mean
 * shift in one input is reported as data drift on that feature only. */
#include <criterion/criterion.h>
#include <string.h>

#include "testutil.h"

static char err[1024];

typedef struct {
  int n, drifts, warnings, data;
  uint64_t first_drift;
  uint64_t versions_ok;
  char features[8][32];
} alerts_t;

static void collect(void *ctx, const eddy_alert_t *a) {
  alerts_t *s = ctx;
  s->n++;
  if (!strcmp(a->kind, "drift")) {
    if (!s->drifts++) s->first_drift = a->index;
    int changed = strcmp(a->action, "alert") != 0;
    s->versions_ok += a->version_after == a->version_before + (uint64_t)changed;
  } else if (!strcmp(a->kind, "warning")) {
    s->warnings++;
    s->versions_ok += a->version_after == a->version_before && !strcmp(a->action, "none");
  } else if (!strcmp(a->kind, "data_drift") && s->data < 8) {
    snprintf(s->features[s->data++], 32, "%s", a->feature);
  }
}

typedef struct {
  eddy_config_t *c;
  eddy_fields_t *f;
  eddy_replica_t *r;
  alerts_t alerts;
} fx_t;

static void make(fx_t *x, const char *features, const char *drift) {
  char text[1024];
  snprintf(text, sizeof text,
           "[pipeline]\nname = t\n[features]\n%s\n[model]\nlearner = naive_bayes\n[drift]\n%s\n",
           features, drift);
  x->c = eddy_config_parse(text, "t.ini", err, sizeof err);
  cr_assert_not_null(x->c, "%s", err);
  x->f = eddy_fields_new(&x->c->pipelines[0], NULL, 0, NULL, 0, err, sizeof err);
  x->r = eddy_replica_new(&x->c->pipelines[0], x->f, 1000, err, sizeof err);
  cr_assert_not_null(x->r, "%s", err);
  memset(&x->alerts, 0, sizeof x->alerts);
  x->r->on_alert = collect;
  x->r->alert_ctx = &x->alerts;
}

static void destroy(fx_t *x) {
  eddy_replica_free(x->r);
  eddy_fields_free(x->f);
  eddy_config_free(x->c);
}

/* Accuracy over the 5,000 instances after SEA's change from concept 1
 * (attrib1 + attrib2 > 8) to concept 4 (> 9.5) at 20,000, 10% noise. */
static double after_change(const char *drift, alerts_t *out) {
  fx_t x;
  make(&x, "numeric = attrib1, attrib2, attrib3\ntarget = class", drift);
  eddy_kv_t kv[] = {{"concept", "1", NULL, 0}, {"drift_to", "4", NULL, 0},
                    {"drift_at", "20000", NULL, 0}, {"drift_width", "1", NULL, 0}};
  uint64_t correct = feed_generator(x.r, "sea", kv, 4, 3, 0, 25000, 20000);
  *out = x.alerts;
  destroy(&x);
  return correct / 5000.0;
}

Test(drift_actions, sea_abrupt_change_ddm) {
  alerts_t al, re, sw, rs;
  double alert = after_change("detector = ddm\naction = alert", &al);
  double retrain = after_change("detector = ddm\naction = retrain", &re);
  double swap = after_change("detector = ddm\naction = swap", &sw);
  double reset = after_change("detector = ddm\naction = reset", &rs);
  /* Measured (seed 3): alert 0.7886, retrain 0.8554, swap 0.8554, reset 0.8564. */
  cr_assert_gt(retrain, alert + 0.03, "retrain %.4f vs alert %.4f", retrain, alert);
  cr_assert_gt(swap, alert + 0.03, "swap %.4f vs alert %.4f", swap, alert);
  cr_assert_gt(reset, alert + 0.03, "reset %.4f vs alert %.4f", reset, alert);
  for (alerts_t *a = &al; a; a = a == &al ? &re : a == &re ? &sw : a == &sw ? &rs : NULL) {
    cr_assert_geq(a->drifts, 1);
    cr_assert_geq(a->first_drift, 20000, "no drift before the change (first at %llu)",
                  (unsigned long long)a->first_drift);
    cr_assert_lt(a->first_drift, 22500, "drift within 2,500 of the change (at %llu)",
                 (unsigned long long)a->first_drift);
    cr_assert_eq(a->versions_ok, (uint64_t)(a->drifts + a->warnings), "every alert's versions are right");
  }
}

Test(drift_actions, sea_abrupt_change_adwin) {
  alerts_t al, re, sw;
  double alert = after_change("detector = adwin\naction = alert", &al);
  double retrain = after_change("detector = adwin\naction = retrain", &re);
  double swap = after_change("detector = adwin\naction = swap", &sw);
  /* Measured (seed 3): alert 0.7886, retrain 0.8512, swap 0.8662 (ADWIN
   * gives no warnings: swap finds no background model and starts afresh). */
  cr_assert_gt(retrain, alert + 0.03, "retrain %.4f vs alert %.4f", retrain, alert);
  cr_assert_gt(swap, alert + 0.03, "swap %.4f vs alert %.4f", swap, alert);
  cr_assert_eq(al.warnings, 0);
  /* The detector starts afresh with the new model: the fresh model's own
   * learning is not reported as more drift (measured: 1 drift each). */
  cr_assert_leq(re.drifts, 2, "retrain: %d drifts", re.drifts);
  cr_assert_leq(sw.drifts, 2, "swap: %d drifts", sw.drifts);
  cr_assert_geq(re.first_drift, 20000);
  cr_assert_lt(re.first_drift, 21000);
}

Test(drift_actions, data_drift_names_the_shifted_feature) {
  fx_t x;
  make(&x, "numeric = a, b, c\ntarget = y",
       "data_detectors = psi, ks\npsi.reference_size = 1000\nks.reference_size = 1000");
  const char *cls[] = {"n", "p"};
  for (int i = 0; i < 2; i++) eddy_dict_intern(x.r->schema->target.dict, cls[i], 1, eddy_hash(cls[i], 1), NULL);
  eddy_rng_t r;
  eddy_rng_seed(&r, 4);
  eddy_instance_t in;
  eddy_instance_init(&in, 3);
  for (int i = 0; i < 8000; i++) {
    for (int a = 0; a < 3; a++) {
      in.x[a] = eddy_rng_uniform(&r) + (a == 1 && i >= 4000 ? 0.5 : 0.0);
      in.missing[a] = 0;
    }
    in.y = in.x[0] > 0.5;
    in.has_y = 1;
    eddy_replica_predict(x.r, &in);
    eddy_replica_learn(x.r, &in);
  }
  cr_assert_geq(x.alerts.data, 2, "PSI and KS both flag the shift (%d alerts)", x.alerts.data);
  for (int i = 0; i < x.alerts.data; i++) cr_assert_str_eq(x.alerts.features[i], "b");
  cr_assert_eq(x.r->version, 1, "data drift only reports");
  eddy_instance_free(&in);
  destroy(&x);
}
