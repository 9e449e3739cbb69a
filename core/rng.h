/* core/rng.h: the PRNGs: xoshiro256** for eddy's own randomness and the
 * java.util.Random clone for MOA parity; both saved in checkpoints. */
#ifndef EDDY_CORE_RNG_H
#define EDDY_CORE_RNG_H

#include "core/buf.h"

/* ------------------------------------------------------------------ PRNG */

/* xoshiro256** seeded through splitmix64. Every random choice in eddy goes
 * through one of these (or, where MOA's draws are reproduced, through an
 * eddy_jrandom_t below), so a run is reproducible from its seed. The state
 * is part of every checkpoint that holds one. */
typedef struct eddy_rng {
  uint64_t s[4];
  double spare; /* second Gaussian of the last Box-Muller pair */
  int has_spare;
} eddy_rng_t;

void eddy_rng_seed(eddy_rng_t *r, uint64_t seed);
uint64_t eddy_rng_next(eddy_rng_t *r);
double eddy_rng_uniform(eddy_rng_t *r);             /* [0, 1), 53 bits */
uint64_t eddy_rng_below(eddy_rng_t *r, uint64_t n); /* [0, n), unbiased; 0 when n == 0 */
double eddy_rng_gauss(eddy_rng_t *r);               /* N(0, 1) */
/* Poisson(lambda) by inversion as MOA's MiscUtils.poisson does (normal
 * approximation from lambda >= 100). */
unsigned eddy_rng_poisson(eddy_rng_t *r, double lambda);
/* A seed for sub-stream `stream` of `seed` (ensemble members, generators'
 * parts), independent of the order in which sub-streams are drawn. */
uint64_t eddy_seed_derive(uint64_t seed, uint64_t stream);
void eddy_rng_save(const eddy_rng_t *r, eddy_buf_t *b);
void eddy_rng_load(eddy_rng_t *r, eddy_reader_t *r2);

/* The second generator: java.util.Random's LCG, for components that
 * reproduce MOA's draws exactly (MOA's classifiers draw from a
 * java.util.Random); seeded from the component's seed; saved in
 * checkpoints. Every draw gives the bits Java gives: nextGaussian's
 * logarithm is StrictMath.log's (fdlibm's algorithm, not the C library's,
 * which differs in the last bit for a few percent of arguments). Anything
 * that need not match MOA uses eddy_rng_t. */
typedef struct eddy_jrandom {
  uint64_t seed;        /* the 48-bit state */
  double next_gaussian; /* nextGaussian's second value, while have_next_gaussian */
  int have_next_gaussian;
} eddy_jrandom_t;

/* new Random(seed): the state is (seed ^ 0x5DEECE66D) mod 2^48. */
void eddy_jrandom_seed(eddy_jrandom_t *r, int64_t seed);
int32_t eddy_jrandom_next(eddy_jrandom_t *r, int bits);        /* next(bits), 1..32 */
int32_t eddy_jrandom_int(eddy_jrandom_t *r, int32_t bound);    /* nextInt(bound), bound > 0 */
double eddy_jrandom_double(eddy_jrandom_t *r);                 /* nextDouble */
double eddy_jrandom_gaussian(eddy_jrandom_t *r);               /* nextGaussian */
/* MOA's MiscUtils.poisson(lambda, random): below lambda 100, inversion by
 * the product method against nextDouble() * exp(lambda) (at most
 * max(100, 10 * ceil(lambda)) terms); from 100, floor(lambda +
 * sqrt(lambda) * nextGaussian()), 0 when negative. Java's int semantics
 * (NaN gives 0, overflow saturates). */
int32_t eddy_jrandom_poisson(eddy_jrandom_t *r, double lambda);
/* Java's StrictMath.log (fdlibm's __ieee754_log), bit for bit. */
double eddy_java_log(double x);
void eddy_jrandom_save(const eddy_jrandom_t *r, eddy_buf_t *b);
void eddy_jrandom_load(eddy_jrandom_t *r, eddy_reader_t *rd);

#endif /* EDDY_CORE_RNG_H */
