/* rng.c: the one PRNG (xoshiro256**, Blackman & Vigna) and the draws built
 * on it; also eddy's hashing, which wraps xxHash. */
#include <limits.h>
#include <math.h>
#include <string.h>
#include <xxhash.h>

#include "eddy.h"

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void eddy_rng_seed(eddy_rng_t *r, uint64_t seed) {
  uint64_t x = seed;
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
  r->spare = 0.0;
  r->has_spare = 0;
}

uint64_t eddy_rng_next(eddy_rng_t *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double eddy_rng_uniform(eddy_rng_t *r) { return (double)(eddy_rng_next(r) >> 11) * 0x1.0p-53; }

uint64_t eddy_rng_below(eddy_rng_t *r, uint64_t n) {
  if (n == 0) return 0;
  /* Lemire's multiply-shift with rejection: unbiased, one division at most. */
  unsigned __int128 m = (unsigned __int128)eddy_rng_next(r) * n;
  uint64_t lo = (uint64_t)m;
  if (lo < n) {
    uint64_t t = -n % n;
    while (lo < t) {
      m = (unsigned __int128)eddy_rng_next(r) * n;
      lo = (uint64_t)m;
    }
  }
  return (uint64_t)(m >> 64);
}

double eddy_rng_gauss(eddy_rng_t *r) {
  /* Marsaglia's polar method, as java.util.Random.nextGaussian uses. */
  if (r->has_spare) {
    r->has_spare = 0;
    return r->spare;
  }
  double v1, v2, s;
  do {
    v1 = 2.0 * eddy_rng_uniform(r) - 1.0;
    v2 = 2.0 * eddy_rng_uniform(r) - 1.0;
    s = v1 * v1 + v2 * v2;
  } while (s >= 1.0 || s == 0.0);
  double m = sqrt(-2.0 * log(s) / s);
  r->spare = v2 * m;
  r->has_spare = 1;
  return v1 * m;
}

unsigned eddy_rng_poisson(eddy_rng_t *r, double lambda) {
  if (!(lambda > 0.0)) return 0;
  if (lambda < 100.0) {
    double product = 1.0, sum = 1.0;
    double threshold = eddy_rng_uniform(r) * exp(lambda);
    int i = 1;
    int max = 10 * (int)ceil(lambda);
    if (max < 100) max = 100;
    while (i < max && sum <= threshold) {
      product *= lambda / i;
      sum += product;
      i++;
    }
    return (unsigned)(i - 1);
  }
  /* Saturated: a count past UINT_MAX (oza_boost's lambda grows with the
   * weight seen) must not go through an undefined conversion. */
  if (!(lambda < INFINITY)) return UINT_MAX;
  double x = lambda + sqrt(lambda) * eddy_rng_gauss(r);
  if (!(x > 0.0)) return 0u;
  return x >= 4294967295.0 ? UINT_MAX : (unsigned)floor(x);
}

uint64_t eddy_seed_derive(uint64_t seed, uint64_t stream) {
  uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL + 0x2545f4914f6cdd1dULL);
  splitmix64(&x);
  return splitmix64(&x);
}

void eddy_rng_save(const eddy_rng_t *r, eddy_buf_t *b) {
  for (int i = 0; i < 4; i++) eddy_buf_put_u64(b, r->s[i]);
  eddy_buf_put_f64(b, r->spare);
  eddy_buf_put_u8(b, (uint8_t)(r->has_spare != 0));
}

void eddy_rng_load(eddy_rng_t *r, eddy_reader_t *rd) {
  for (int i = 0; i < 4; i++) r->s[i] = eddy_read_u64(rd);
  r->spare = eddy_read_f64(rd);
  r->has_spare = eddy_read_u8(rd) != 0;
}

uint64_t eddy_hash(const void *p, size_t len) { return XXH3_64bits(p, len); }

uint64_t eddy_hash_mix(uint64_t a, uint64_t b) {
  uint64_t x = a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
  return splitmix64(&x);
}
