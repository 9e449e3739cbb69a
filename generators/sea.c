/* sea.c: SEA concepts (Street & Kim, "A streaming ensemble algorithm (SEA)
 * for large-scale classification", KDD 2001), as MOA's SEAGenerator: three
 * attributes uniform in [0, 10); class 1 when attrib1 + attrib2 > threshold
 * (class 0 when <=), thresholds 8, 9, 7 and 9.5 for concepts 1 to 4
 * (attrib3 is irrelevant); then the label is flipped with probability
 * `noise` (MOA's noisePercentage, default 10%). With `balance`, instances
 * are drawn until the class alternates 1, 0, 1, ... (MOA's balanceClasses).
 * Draws per instance as MOA: a1, a2, a3 (each retried when balancing),
 * then one noise draw. */
#include "internal.h"

typedef struct {
  int64_t concept;
  double noise;
  int balance;
} sea_params_t;

typedef struct {
  double threshold;
  int next_zero; /* balancing: the next class wanted is 0 */
} sea_state_t;

static const eddy_option_t sea_options[] = {
    EDDY_OPT_INT_(sea_params_t, "concept", concept, "1", 1, 4,
                  "classification function: threshold on attrib1 + attrib2 of 8, 9, 7 or 9.5"),
    EDDY_OPT_DOUBLE_(sea_params_t, "noise", noise, "0.1", 0, 1,
                     "probability that a label is flipped"),
    EDDY_OPT_BOOL_(sea_params_t, "balance", balance, "false",
                   "alternate the classes (draw until the wanted class comes)"),
    EDDY_OPT_END,
};

static const double thresholds[4] = {8.0, 9.0, 7.0, 9.5};

static int sea_init(eddy_generator_t *g, char *errstr, size_t errstr_size) {
  const sea_params_t *p = g->params;
  sea_state_t *s = g->state;
  s->threshold = thresholds[p->concept - 1];
  g->schema = eddy_gen_schema(2, errstr, errstr_size);
  if (!g->schema) return EDDY_ENOMEM;
  if (eddy_gen_add_numeric(g->schema, "attrib1") || eddy_gen_add_numeric(g->schema, "attrib2") ||
      eddy_gen_add_numeric(g->schema, "attrib3"))
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  return 0;
}

static int sea_next(eddy_generator_t *g, eddy_instance_t *out) {
  const sea_params_t *p = g->params;
  sea_state_t *s = g->state;
  double a1, a2, a3;
  unsigned c;
  for (;;) {
    a1 = 10.0 * eddy_rng_uniform(&g->rng);
    a2 = 10.0 * eddy_rng_uniform(&g->rng);
    a3 = 10.0 * eddy_rng_uniform(&g->rng);
    c = a1 + a2 <= s->threshold ? 0 : 1;
    if (!p->balance) break;
    if ((s->next_zero && c == 0) || (!s->next_zero && c == 1)) {
      s->next_zero = !s->next_zero;
      break;
    }
  }
  if (eddy_gen_chance(&g->rng, p->noise)) c = !c;
  eddy_gen_num(out, 0, a1);
  eddy_gen_num(out, 1, a2);
  eddy_gen_num(out, 2, a3);
  eddy_gen_label(out, c);
  return 0;
}

const eddy_generator_type_t eddy_generator_sea = {
    .name = "sea",
    .description = "SEA concepts (Street & Kim 2001): class 1 when attrib1 + attrib2 > 8, 9, 7, 9.5",
    .options = sea_options,
    .params_size = sizeof(sea_params_t),
    .state_size = sizeof(sea_state_t),
    .init = sea_init,
    .next = sea_next,
    .concept_key = "concept",
};
