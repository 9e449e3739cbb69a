/* linear_export.c: a linear model as JSON (`eddy models --export`): per
 * output its intercept and its weights by feature name, the nominal values'
 * hashed weights by attribute and value, and the running standardization. */
#include <string.h>

#include "learners/linear/linear.h"

static void put_name(eddy_buf_t *b, const char *s) { eddy_json_string(b, s, strlen(s)); }

/* What output o predicts: a class's score (softmax), the second class's
 * probability (binary), or the value (regression). */
static void put_output(const eddy_learner_t *l, const eddy_linear_t *m, size_t o, eddy_buf_t *b) {
  const eddy_schema_t *s = l->schema;
  if (s->task == EDDY_REGRESSION) {
    put_name(b, "value");
    return;
  }
  uint32_t c = m->n_out > 1 || m->n_out0 == 0 ? (uint32_t)o : 1;
  const char *name = eddy_dict_name(s->target.dict, c);
  put_name(b, name ? name : "");
}

/* The weight of each nominal value seen (slot of its hash), per output. */
static void put_nominal(const eddy_learner_t *l, const eddy_linear_t *m, const double *w, eddy_buf_t *b) {
  eddy_buf_printf(b, ",\"nominal\":{");
  for (size_t j = 0; j < m->n_nom; j++) {
    uint32_t a = m->nom_attr[j];
    const eddy_dict_t *d = l->schema->attrs[a].dict;
    if (j) eddy_buf_put_u8(b, ',');
    put_name(b, l->schema->attrs[a].name);
    eddy_buf_printf(b, ":{");
    uint32_t n = eddy_dict_size(d);
    for (uint32_t v = 0; v < n; v++) {
      const char *text = eddy_dict_name(d, v);
      if (!text) continue;
      size_t slot = (size_t)(eddy_hash_mix(a, eddy_hash(text, strlen(text))) & m->hash_mask);
      if (v) eddy_buf_put_u8(b, ',');
      put_name(b, text);
      eddy_buf_put_u8(b, ':');
      eddy_json_double(b, w[m->n_num + slot]);
    }
    eddy_buf_put_u8(b, '}');
  }
  eddy_buf_put_u8(b, '}');
}

int eddy_linear_export(const eddy_learner_t *l, eddy_buf_t *b) {
  const eddy_linear_t *m = l->state;
  eddy_buf_printf(b, "{\"family\":\"linear\",\"learned\":%llu,\"standardize\":%s,\"hash_bits\":%lld,\"outputs\":[",
                  (unsigned long long)m->t, m->o.standardize ? "true" : "false", (long long)m->o.hash_bits);
  for (size_t o = 0; o < m->n_out; o++) {
    const double *w = m->w + o * m->stride;
    eddy_buf_printf(b, "%s{\"output\":", o ? "," : "");
    put_output(l, m, o, b);
    eddy_buf_printf(b, ",\"intercept\":");
    eddy_json_double(b, m->b ? m->b[o] : 0.0);
    eddy_buf_printf(b, ",\"weights\":{");
    for (size_t j = 0; j < m->n_num; j++) {
      if (j) eddy_buf_put_u8(b, ',');
      put_name(b, l->schema->attrs[m->num_attr[j]].name);
      eddy_buf_put_u8(b, ':');
      eddy_json_double(b, w[j]);
    }
    eddy_buf_put_u8(b, '}');
    if (m->n_nom) put_nominal(l, m, w, b);
    eddy_buf_put_u8(b, '}');
  }
  eddy_buf_put_u8(b, ']');
  if (m->o.standardize && m->sc_n) {
    eddy_buf_printf(b, ",\"scaling\":{");
    for (size_t j = 0; j < m->n_num; j++) {
      if (j) eddy_buf_put_u8(b, ',');
      put_name(b, l->schema->attrs[m->num_attr[j]].name);
      eddy_buf_printf(b, ":{\"count\":");
      eddy_json_double(b, m->sc_n[j]);
      eddy_buf_printf(b, ",\"mean\":");
      eddy_json_double(b, m->sc_mean[j]);
      eddy_buf_printf(b, ",\"sd\":");
      eddy_json_double(b, m->sc_sd[j]);
      eddy_buf_put_u8(b, '}');
    }
    eddy_buf_put_u8(b, '}');
  }
  eddy_buf_put_u8(b, '}');
  return b->err;
}
