/* rng.c: eddy's PRNG (xoshiro256**, Blackman & Vigna) and the draws built
 * on it; java.util.Random's generator, for components that reproduce MOA's
 * draws exactly; also eddy's hashing, which wraps xxHash. */
#include <limits.h>
#include <math.h>
#include <string.h>
#include <xxhash.h>

#include "core/core.h"

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

/* ------------------------------------------------------ java.util.Random */

#define JR_MULT 0x5DEECE66DULL
#define JR_MASK ((1ULL << 48) - 1)

void eddy_jrandom_seed(eddy_jrandom_t *r, int64_t seed) {
  r->seed = ((uint64_t)seed ^ JR_MULT) & JR_MASK;
  r->next_gaussian = 0.0;
  r->have_next_gaussian = 0;
}

int32_t eddy_jrandom_next(eddy_jrandom_t *r, int bits) {
  r->seed = (r->seed * JR_MULT + 0xBULL) & JR_MASK;
  /* Java: (int)(seed >>> (48 - bits)), the low 32 bits as a signed int */
  return (int32_t)(uint32_t)(r->seed >> (48 - bits));
}

int32_t eddy_jrandom_int(eddy_jrandom_t *r, int32_t bound) {
  if (bound <= 0) return 0; /* Java throws */
  int32_t x = eddy_jrandom_next(r, 31), m = bound - 1;
  if ((bound & m) == 0) return (int32_t)(((int64_t)bound * x) >> 31);
  /* Java's rejection rule: retry while u - u % bound + m overflows an int. */
  for (int32_t u = x; (int32_t)((uint32_t)u - (uint32_t)(x = u % bound) + (uint32_t)m) < 0;
       u = eddy_jrandom_next(r, 31)) {
  }
  return x;
}

double eddy_jrandom_double(eddy_jrandom_t *r) {
  int64_t hi = eddy_jrandom_next(r, 26), lo = eddy_jrandom_next(r, 27);
  return (double)((hi << 27) + lo) * 0x1.0p-53;
}

/* StrictMath.log is fdlibm's e_log.c: x = 2^k (1 + f) with 1 + f in
 * [sqrt(2)/2, sqrt(2)), log(1 + f) = f - s (f - R(s^2)) with s = f / (2 +
 * f) and R a degree-7 minimax polynomial, k ln 2 added in two parts. The
 * operations below are fdlibm's, in its order, so the result is its
 * result to the bit (glibc's log is as accurate but rounds ~4% of the
 * arguments of nextGaussian the other way). */
double eddy_java_log(double x) {
  static const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10,
                      two54 = 1.80143985094819840000e+16, lg1 = 6.666666666666735130e-01,
                      lg2 = 3.999999999940941908e-01, lg3 = 2.857142874366239149e-01,
                      lg4 = 2.222219843214978396e-01, lg5 = 1.818357216161805012e-01,
                      lg6 = 1.531383769920937332e-01, lg7 = 1.479819860511658591e-01;
  uint64_t bits;
  memcpy(&bits, &x, sizeof bits);
  int32_t hx = (int32_t)(uint32_t)(bits >> 32);
  uint32_t lx = (uint32_t)bits;
  int k = 0;
  if (hx < 0x00100000) { /* below 2^-1022: zero, negative or subnormal */
    if (((hx & 0x7fffffff) | (int32_t)lx) == 0) return -INFINITY;
    if (hx < 0) return NAN;
    k -= 54;
    x *= two54; /* scale a subnormal up */
    memcpy(&bits, &x, sizeof bits);
    hx = (int32_t)(uint32_t)(bits >> 32);
  }
  if (hx >= 0x7ff00000) return x + x; /* infinity or NaN */
  k += (hx >> 20) - 1023;
  hx &= 0x000fffff;
  int32_t i = (hx + 0x95f64) & 0x100000; /* the mantissa above sqrt(2): halve x */
  bits = ((uint64_t)(uint32_t)(hx | (i ^ 0x3ff00000)) << 32) | (bits & 0xffffffffULL);
  memcpy(&x, &bits, sizeof x);
  k += i >> 20;
  double f = x - 1.0, dk = (double)k, r;
  if ((0x000fffff & (2 + hx)) < 3) { /* |f| < 2^-20 */
    if (f == 0.0) return k == 0 ? 0.0 : dk * ln2_hi + dk * ln2_lo;
    r = f * f * (0.5 - 0.33333333333333333 * f);
    return k == 0 ? f - r : dk * ln2_hi - ((r - dk * ln2_lo) - f);
  }
  double s = f / (2.0 + f), z = s * s, w = z * z;
  i = hx - 0x6147a;
  int32_t j = 0x6b851 - hx;
  double t1 = w * (lg2 + w * (lg4 + w * lg6));
  double t2 = z * (lg1 + w * (lg3 + w * (lg5 + w * lg7)));
  i |= j;
  r = t2 + t1;
  if (i > 0) {
    double hfsq = 0.5 * f * f;
    if (k == 0) return f - (hfsq - s * (hfsq + r));
    return dk * ln2_hi - ((hfsq - (s * (hfsq + r) + dk * ln2_lo)) - f);
  }
  if (k == 0) return f - s * (f - r);
  return dk * ln2_hi - ((s * (f - r) - dk * ln2_lo) - f);
}

double eddy_jrandom_gaussian(eddy_jrandom_t *r) {
  /* Java's polar method; its StrictMath.sqrt is correctly rounded, as sqrt. */
  if (r->have_next_gaussian) {
    r->have_next_gaussian = 0;
    return r->next_gaussian;
  }
  double v1, v2, s;
  do {
    v1 = 2 * eddy_jrandom_double(r) - 1;
    v2 = 2 * eddy_jrandom_double(r) - 1;
    s = v1 * v1 + v2 * v2;
  } while (s >= 1 || s == 0);
  double m = sqrt(-2 * eddy_java_log(s) / s);
  r->next_gaussian = v2 * m;
  r->have_next_gaussian = 1;
  return v1 * m;
}

/* Java's (int) of a double: NaN 0, saturating at the int range. */
static int32_t java_d2i(double x) {
  if (x != x) return 0;
  if (x >= 2147483647.0) return INT32_MAX;
  if (x <= -2147483648.0) return INT32_MIN;
  return (int32_t)x;
}

int32_t eddy_jrandom_poisson(eddy_jrandom_t *r, double lambda) {
  if (lambda < 100.0) {
    double product = 1.0, sum = 1.0;
    /* Java's Math.exp; C's exp agrees on exp(1) and rounds the other way on
     * ~0.2% of other arguments, which moves a draw only when the partial
     * sum falls within that last bit of the threshold. */
    double threshold = eddy_jrandom_double(r) * exp(lambda);
    int32_t i = 1, max = 100;
    /* Java's max(100, 10 * (int) ceil(lambda)): 100 up to lambda 10 (and
     * below 0, where the loop stops at once: exp(lambda) < 1 <= sum) */
    if (lambda > 10.0) max = 10 * (int32_t)ceil(lambda);
    while (i < max && sum <= threshold) {
      product *= lambda / i;
      sum += product;
      i++;
    }
    return i - 1;
  }
  double x = lambda + sqrt(lambda) * eddy_jrandom_gaussian(r);
  if (x < 0.0) return 0;
  return java_d2i(floor(x));
}

void eddy_jrandom_save(const eddy_jrandom_t *r, eddy_buf_t *b) {
  eddy_buf_put_u64(b, r->seed);
  eddy_buf_put_f64(b, r->next_gaussian);
  eddy_buf_put_u8(b, (uint8_t)(r->have_next_gaussian != 0));
}

void eddy_jrandom_load(eddy_jrandom_t *r, eddy_reader_t *rd) {
  r->seed = eddy_read_u64(rd) & JR_MASK;
  r->next_gaussian = eddy_read_f64(rd);
  r->have_next_gaussian = eddy_read_u8(rd) != 0;
}

/* ---------------------------------------------------------------- hashing */

uint64_t eddy_hash(const void *p, size_t len) { return XXH3_64bits(p, len); }

uint64_t eddy_hash_mix(uint64_t a, uint64_t b) {
  uint64_t x = a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
  return splitmix64(&x);
}
