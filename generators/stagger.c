/* stagger.c: STAGGER concepts (Schlimmer & Granger, "Incremental learning
 * from noisy data", Machine Learning 1, 1986, p. 341), as MOA's
 * STAGGERGenerator: three nominal attributes, size (small, medium, large),
 * color (red, blue, green) and shape (circle, square, triangle), each
 * uniform; class 1 (MOA's "true") under concept 1 when size = small and
 * color = red, under concept 2 when color = green or shape = circle, under
 * concept 3 when size = medium or large. No label noise, as in MOA. With
 * `balance` the classes alternate (MOA's balanceClasses). */
#include "internal.h"

typedef struct {
  int64_t concept;
  int balance;
} stagger_params_t;

typedef struct {
  uint64_t size_h[3], color_h[3], shape_h[3];
  int next_zero;
} stagger_state_t;

static const eddy_option_t stagger_options[] = {
    EDDY_OPT_INT_(stagger_params_t, "concept", concept, "1", 1, 3,
                  "1: small and red; 2: green or circle; 3: medium or large"),
    EDDY_OPT_BOOL_(stagger_params_t, "balance", balance, "false",
                   "alternate the classes (draw until the wanted class comes)"),
    EDDY_OPT_END,
};

static const char *const sizes[3] = {"small", "medium", "large"};
static const char *const colors[3] = {"red", "blue", "green"};
static const char *const shapes[3] = {"circle", "square", "triangle"};

static int stagger_init(eddy_generator_t *g, char *errstr, size_t errstr_size) {
  stagger_state_t *s = g->state;
  g->schema = eddy_gen_schema(2, errstr, errstr_size);
  if (!g->schema) return EDDY_ENOMEM;
  if (eddy_gen_add_nominal(g->schema, "size", sizes, 3, s->size_h) ||
      eddy_gen_add_nominal(g->schema, "color", colors, 3, s->color_h) ||
      eddy_gen_add_nominal(g->schema, "shape", shapes, 3, s->shape_h))
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  return 0;
}

static unsigned classify(int concept, unsigned size, unsigned color, unsigned shape) {
  switch (concept) {
  case 1:
    return size == 0 && color == 0;
  case 2:
    return color == 2 || shape == 0;
  default:
    return size == 1 || size == 2;
  }
}

static int stagger_next(eddy_generator_t *g, eddy_instance_t *out) {
  const stagger_params_t *p = g->params;
  stagger_state_t *s = g->state;
  unsigned size, color, shape, c;
  for (;;) {
    size = (unsigned)eddy_rng_below(&g->rng, 3);
    color = (unsigned)eddy_rng_below(&g->rng, 3);
    shape = (unsigned)eddy_rng_below(&g->rng, 3);
    c = classify((int)p->concept, size, color, shape);
    if (!p->balance) break;
    if ((s->next_zero && c == 0) || (!s->next_zero && c == 1)) {
      s->next_zero = !s->next_zero;
      break;
    }
  }
  eddy_gen_nom(out, 0, size, s->size_h);
  eddy_gen_nom(out, 1, color, s->color_h);
  eddy_gen_nom(out, 2, shape, s->shape_h);
  eddy_gen_label(out, c);
  return 0;
}

const eddy_generator_type_t eddy_generator_stagger = {
    .name = "stagger",
    .description = "STAGGER concepts (Schlimmer & Granger 1986): size, color, shape",
    .options = stagger_options,
    .params_size = sizeof(stagger_params_t),
    .state_size = sizeof(stagger_state_t),
    .init = stagger_init,
    .next = stagger_next,
    .concept_key = "concept",
};
