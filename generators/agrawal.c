/* agrawal.c: the loan data of Agrawal, Imielinski & Swami, "Database
 * Mining: A Performance Perspective", IEEE TKDE 5(6) 1993, as MOA's
 * AgrawalGenerator defines it (the paper's ten functions, page 924, are
 * pred20..pred29 of the authors' C code; perturbation as that code does).
 *
 * Attributes, in this order: salary uniform in [20000, 150000); commission
 * 0 when salary >= 75000, else uniform in [10000, 75000); age 20..80;
 * elevel (nominal level0..level4); car (nominal car1..car20); zipcode
 * (nominal zipcode1..zipcode9, index z = 0..8); hvalue (9 - z) * 100000 *
 * uniform [0.5, 1.5); hyears 1..30; loan uniform in [0, 500000). Class 0 is
 * the paper's group A (MOA's "groupA"), 1 group B. The class is computed
 * before perturbation. With perturbation f > 0 each numeric value moves by
 * range * f * uniform(-1, 1) and is clamped: salary [20000, 150000],
 * commission (when > 0) [10000, 75000], age [20, 80] and hyears [1, 30]
 * rounded (Java's Math.round), loan [0, 500000], and hvalue with range
 * (9 - z) * 100000 clamped to [0, 135000]: MOA's (and River's) bound,
 * which caps most perturbed house values; kept so that streams compare.
 *
 * River's Agrawal differs from MOA (labels of functions 1-6 swapped,
 * commission up to 85000, hvalue from 8 - z, typos in function 5); this
 * follows MOA and the paper. Draws per instance as MOA: salary,
 * [commission], age, elevel, car, zipcode, hvalue, hyears, loan (repeated
 * when balancing), then the perturbation draws in the order above. */
#include <math.h>

#include "internal.h"

typedef struct {
  int64_t function;
  double perturbation;
  int balance;
} agrawal_params_t;

typedef struct {
  uint64_t elevel_h[5], car_h[20], zip_h[9];
  int next_zero;
} agrawal_state_t;

static const eddy_option_t agrawal_options[] = {
    EDDY_OPT_INT_(agrawal_params_t, "function", function, "1", 1, 10,
                  "classification function of the paper, 1 to 10"),
    EDDY_OPT_DOUBLE_(agrawal_params_t, "perturbation", perturbation, "0.05", 0, 1,
                     "noise on numeric values, as a fraction of each one's range (MOA's "
                     "peturbFraction)"),
    EDDY_OPT_BOOL_(agrawal_params_t, "balance", balance, "false",
                   "alternate the classes (draw until the wanted class comes)"),
    EDDY_OPT_END,
};

static const char *const elevels[5] = {"level0", "level1", "level2", "level3", "level4"};
static const char *const cars[20] = {"car1",  "car2",  "car3",  "car4",  "car5",
                                     "car6",  "car7",  "car8",  "car9",  "car10",
                                     "car11", "car12", "car13", "car14", "car15",
                                     "car16", "car17", "car18", "car19", "car20"};
static const char *const zipcodes[9] = {"zipcode1", "zipcode2", "zipcode3", "zipcode4", "zipcode5",
                                        "zipcode6", "zipcode7", "zipcode8", "zipcode9"};

/* 1 when lo <= v <= hi */
static inline int in(double v, double lo, double hi) { return lo <= v && v <= hi; }

/* The paper's functions: 0 = group A. */
static unsigned classify(int f, double salary, double commission, int age, int elevel,
                         double hvalue, int hyears, double loan) {
  switch (f) {
  case 1:
    return (age < 40 || 60 <= age) ? 0 : 1;
  case 2:
    if (age < 40) return in(salary, 50000, 100000) ? 0 : 1;
    if (age < 60) return in(salary, 75000, 125000) ? 0 : 1;
    return in(salary, 25000, 75000) ? 0 : 1;
  case 3:
    if (age < 40) return (elevel == 0 || elevel == 1) ? 0 : 1;
    if (age < 60) return (elevel >= 1 && elevel <= 3) ? 0 : 1;
    return (elevel >= 2 && elevel <= 4) ? 0 : 1;
  case 4:
    if (age < 40) {
      if (elevel == 0 || elevel == 1) return in(salary, 25000, 75000) ? 0 : 1;
      return in(salary, 50000, 100000) ? 0 : 1;
    }
    if (age < 60) {
      if (elevel >= 1 && elevel <= 3) return in(salary, 50000, 100000) ? 0 : 1;
      return in(salary, 75000, 125000) ? 0 : 1;
    }
    if (elevel >= 2 && elevel <= 4) return in(salary, 50000, 100000) ? 0 : 1;
    return in(salary, 25000, 75000) ? 0 : 1;
  case 5:
    if (age < 40) {
      if (in(salary, 50000, 100000)) return in(loan, 100000, 300000) ? 0 : 1;
      return in(loan, 200000, 400000) ? 0 : 1;
    }
    if (age < 60) {
      if (in(salary, 75000, 125000)) return in(loan, 200000, 400000) ? 0 : 1;
      return in(loan, 300000, 500000) ? 0 : 1;
    }
    if (in(salary, 25000, 75000)) return in(loan, 300000, 500000) ? 0 : 1;
    return in(loan, 100000, 300000) ? 0 : 1;
  case 6: {
    double total = salary + commission;
    if (age < 40) return in(total, 50000, 100000) ? 0 : 1;
    if (age < 60) return in(total, 75000, 125000) ? 0 : 1;
    return in(total, 25000, 75000) ? 0 : 1;
  }
  case 7:
    return (2.0 * (salary + commission) / 3.0 - loan / 5.0 - 20000.0) > 0 ? 0 : 1;
  case 8:
    return (2.0 * (salary + commission) / 3.0 - 5000.0 * elevel - 20000.0) > 0 ? 0 : 1;
  case 9:
    return (2.0 * (salary + commission) / 3.0 - 5000.0 * elevel - loan / 5.0 - 10000.0) > 0 ? 0
                                                                                           : 1;
  default: { /* 10 */
    double equity = hyears >= 20 ? hvalue * (hyears - 20.0) / 10.0 : 0.0;
    return (2.0 * (salary + commission) / 3.0 - 5000.0 * elevel + equity / 5.0 - 10000.0) > 0 ? 0
                                                                                             : 1;
  }
  }
}

static double perturb(eddy_rng_t *r, double f, double v, double range, double lo, double hi) {
  v += range * (2.0 * (eddy_rng_uniform(r) - 0.5)) * f;
  return v < lo ? lo : v > hi ? hi : v;
}

static int agrawal_init(eddy_generator_t *g, char *errstr, size_t errstr_size) {
  agrawal_state_t *s = g->state;
  eddy_schema_t *sc = g->schema = eddy_gen_schema(2, errstr, errstr_size);
  if (!sc) return EDDY_ENOMEM;
  if (eddy_gen_add_numeric(sc, "salary") || eddy_gen_add_numeric(sc, "commission") ||
      eddy_gen_add_numeric(sc, "age") || eddy_gen_add_nominal(sc, "elevel", elevels, 5, s->elevel_h) ||
      eddy_gen_add_nominal(sc, "car", cars, 20, s->car_h) ||
      eddy_gen_add_nominal(sc, "zipcode", zipcodes, 9, s->zip_h) ||
      eddy_gen_add_numeric(sc, "hvalue") || eddy_gen_add_numeric(sc, "hyears") ||
      eddy_gen_add_numeric(sc, "loan"))
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  return 0;
}

static int agrawal_next(eddy_generator_t *g, eddy_instance_t *out) {
  const agrawal_params_t *p = g->params;
  agrawal_state_t *s = g->state;
  eddy_rng_t *r = &g->rng;
  double salary, commission, hvalue, loan;
  int age, elevel, car, zipcode, hyears;
  unsigned c;
  for (;;) {
    salary = 20000.0 + 130000.0 * eddy_rng_uniform(r);
    commission = salary >= 75000.0 ? 0.0 : 10000.0 + 65000.0 * eddy_rng_uniform(r);
    age = 20 + (int)eddy_rng_below(r, 61);
    elevel = (int)eddy_rng_below(r, 5);
    car = (int)eddy_rng_below(r, 20);
    zipcode = (int)eddy_rng_below(r, 9);
    hvalue = (9.0 - zipcode) * 100000.0 * (0.5 + eddy_rng_uniform(r));
    hyears = 1 + (int)eddy_rng_below(r, 30);
    loan = eddy_rng_uniform(r) * 500000.0;
    c = classify((int)p->function, salary, commission, age, elevel, hvalue, hyears, loan);
    if (!p->balance) break;
    if ((s->next_zero && c == 0) || (!s->next_zero && c == 1)) {
      s->next_zero = !s->next_zero;
      break;
    }
  }
  double fage = age, fhyears = hyears;
  double f = p->perturbation;
  if (f > 0.0) {
    salary = perturb(r, f, salary, 130000, 20000, 150000);
    if (commission > 0) commission = perturb(r, f, commission, 65000, 10000, 75000);
    fage = floor(perturb(r, f, age, 60, 20, 80) + 0.5); /* Math.round */
    hvalue = perturb(r, f, hvalue, (9.0 - zipcode) * 100000.0, 0, 135000);
    fhyears = floor(perturb(r, f, hyears, 29, 1, 30) + 0.5);
    loan = perturb(r, f, loan, 500000, 0, 500000);
  }
  eddy_gen_num(out, 0, salary);
  eddy_gen_num(out, 1, commission);
  eddy_gen_num(out, 2, fage);
  eddy_gen_nom(out, 3, (unsigned)elevel, s->elevel_h);
  eddy_gen_nom(out, 4, (unsigned)car, s->car_h);
  eddy_gen_nom(out, 5, (unsigned)zipcode, s->zip_h);
  eddy_gen_num(out, 6, hvalue);
  eddy_gen_num(out, 7, fhyears);
  eddy_gen_num(out, 8, loan);
  eddy_gen_label(out, c);
  return 0;
}

const eddy_generator_type_t eddy_generator_agrawal = {
    .name = "agrawal",
    .description = "Agrawal et al. 1993 loan data: nine attributes, ten classification functions",
    .options = agrawal_options,
    .params_size = sizeof(agrawal_params_t),
    .state_size = sizeof(agrawal_state_t),
    .init = agrawal_init,
    .next = agrawal_next,
    .concept_key = "function",
};
