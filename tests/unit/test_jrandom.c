/* test_jrandom.c: eddy_jrandom_t (java.util.Random, core/rng.c) and
 * MOA's MiscUtils.poisson on it, against values printed by Java.
 *
 * Every expected value below was printed by OpenJDK 17.0.15 (Debian 12)
 * with MOA 2024.07.0's jar on the class path, by a class doing what each
 * comment says (Double.toString for doubles; "hash" is the Java long
 * h = h * 31 + v over the values, v = Double.doubleToRawLongBits(x) for a
 * double, wrapping as Java's long arithmetic does). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/core.h"
#include "engine/config/config.h"
#include "engine/model/model.h"

static uint64_t bits(double x) {
  uint64_t b;
  memcpy(&b, &x, sizeof b);
  return b;
}

/* Java's r.nextLong(): ((long) next(32) << 32) + next(32). */
static uint64_t next_long(eddy_jrandom_t *r) {
  uint32_t hi = (uint32_t)eddy_jrandom_next(r, 32);
  int32_t lo = eddy_jrandom_next(r, 32);
  return ((uint64_t)hi << 32) + (uint64_t)(int64_t)lo;
}

Test(jrandom, uniform_draws_as_java) {
  eddy_jrandom_t r;
  /* new Random(42): 4 x nextDouble() */
  const double d[] = {0.7275636800328681, 0.6832234717598454, 0.30871945533265976,
                      0.27707849007413665};
  eddy_jrandom_seed(&r, 42);
  for (int i = 0; i < 4; i++) cr_assert_eq(eddy_jrandom_double(&r), d[i], "draw %d", i);
  /* new Random(42): 10 x nextInt(10) */
  const int32_t i10[] = {0, 3, 8, 4, 0, 5, 5, 8, 9, 3};
  eddy_jrandom_seed(&r, 42);
  for (int i = 0; i < 10; i++) cr_assert_eq(eddy_jrandom_int(&r, 10), i10[i], "draw %d", i);
  /* new Random(42): 4 x nextInt(1 << 20) (a power of two: no rejection) */
  const int32_t p2[] = {762905, 57320, 716411, 50268};
  eddy_jrandom_seed(&r, 42);
  for (int i = 0; i < 4; i++) cr_assert_eq(eddy_jrandom_int(&r, 1 << 20), p2[i], "draw %d", i);
  /* new Random(42): 4 x nextInt(), which is next(32) */
  const int32_t i32[] = {-1170105035, 234785527, -1360544799, 205897768};
  eddy_jrandom_seed(&r, 42);
  for (int i = 0; i < 4; i++) cr_assert_eq(eddy_jrandom_next(&r, 32), i32[i], "draw %d", i);
  /* new Random(-7) (a negative seed): 6 x nextInt(2000000000), then the
   * hash of 100,000 draws from a fresh Random(-7) and nextInt(7) after
   * them; with this bound about 7% of the draws are rejected and redrawn */
  const int32_t big[] = {577934662, 1935951297, 1445645590, 1119890478, 314447087, 1829394591};
  eddy_jrandom_seed(&r, -7);
  for (int i = 0; i < 6; i++) cr_assert_eq(eddy_jrandom_int(&r, 2000000000), big[i], "draw %d", i);
  eddy_jrandom_seed(&r, -7);
  uint64_t h = 0;
  for (int i = 0; i < 100000; i++) h = h * 31 + (uint64_t)(int64_t)eddy_jrandom_int(&r, 2000000000);
  cr_assert_eq((int64_t)h, 8521569399766159643LL);
  cr_assert_eq(eddy_jrandom_int(&r, 7), 2);
}

Test(jrandom, gaussian_draws_as_java) {
  eddy_jrandom_t r;
  /* new Random(42): 5 x nextGaussian() (the polar method's pairs, the
   * second of each cached) */
  const double g[] = {1.1419053154730547, 0.9194079489827879, -0.9498666368908959,
                      -1.1069902863993377, 0.2809776380727795};
  eddy_jrandom_seed(&r, 42);
  for (int i = 0; i < 5; i++) cr_assert_eq(eddy_jrandom_gaussian(&r), g[i], "draw %d", i);
  /* new Random(42): hash of 1,000,000 x nextGaussian(), then nextDouble().
   * With the C library's log in place of StrictMath.log, about 2% of the
   * draws differ in their last bit and the hash with them. */
  eddy_jrandom_seed(&r, 42);
  uint64_t h = 0;
  for (int i = 0; i < 1000000; i++) h = h * 31 + bits(eddy_jrandom_gaussian(&r));
  cr_assert_eq((int64_t)h, -1707567433587489852LL);
  cr_assert_eq(eddy_jrandom_double(&r), 0.309837815653937);
}

Test(jrandom, strictmath_log_as_java) {
  /* StrictMath.log of Double.MIN_VALUE, 1e-310, 0.5, 1 + Math.ulp(1.0),
   * 0.7071067811865476, 1.4142135623730951, 3.0, 1e300, Double.MAX_VALUE */
  const double x[] = {0x1p-1074, 1e-310, 0.5, 1.0 + 0x1p-52, 0.7071067811865476,
                      1.4142135623730951, 3.0, 1e300, 0x1.fffffffffffffp1023};
  const double y[] = {-744.4400719213812, -713.8013788281542, -0.6931471805599453,
                      2.2204460492503128E-16, -0.3465735902799726, 0.3465735902799727,
                      1.0986122886681096, 690.7755278982137, 709.782712893384};
  for (int i = 0; i < 9; i++) cr_assert_eq(eddy_java_log(x[i]), y[i], "log(%a)", x[i]);
  cr_assert_eq(eddy_java_log(1.0), 0.0);
  cr_assert(isinf(eddy_java_log(0.0)) && eddy_java_log(0.0) < 0);
  cr_assert(isnan(eddy_java_log(-1.0)));
  cr_assert(isinf(eddy_java_log(INFINITY)));
  /* r = new Random(99); 1,000,000 times x = Double.longBitsToDouble(
   * r.nextLong() & Long.MAX_VALUE) (every positive double, subnormals,
   * infinity and NaNs included): the hash of StrictMath.log(x) */
  eddy_jrandom_t r;
  eddy_jrandom_seed(&r, 99);
  uint64_t h = 0;
  for (int i = 0; i < 1000000; i++) {
    uint64_t b = next_long(&r) & 0x7fffffffffffffffULL;
    double v;
    memcpy(&v, &b, sizeof v);
    h = h * 31 + bits(eddy_java_log(v));
  }
  cr_assert_eq((int64_t)h, -6274963141020608519LL);
}

Test(jrandom, moa_poisson_as_java) {
  eddy_jrandom_t r;
  /* MiscUtils.poisson(3.5, r), 8 times, r = new Random(3) */
  const int32_t p35[] = {5, 1, 1, 5, 2, 4, 5, 0};
  eddy_jrandom_seed(&r, 3);
  for (int i = 0; i < 8; i++) cr_assert_eq(eddy_jrandom_poisson(&r, 3.5), p35[i], "draw %d", i);
  /* MiscUtils.poisson(150, r), 5 times, r = new Random(1): the Gaussian
   * branch (lambda >= 100) */
  const int32_t p150[] = {169, 142, 136, 142, 136};
  eddy_jrandom_seed(&r, 1);
  for (int i = 0; i < 5; i++) cr_assert_eq(eddy_jrandom_poisson(&r, 150), p150[i], "draw %d", i);
  /* r = new Random(1); for i < 200000: lambda = 0.25 + (i % 400) * 0.6
   * (0.25 to 239.65: both branches, and the 10 * ceil(lambda) term cap);
   * the hash of MiscUtils.poisson(lambda, r), then r.nextDouble() */
  eddy_jrandom_seed(&r, 1);
  uint64_t h = 0;
  for (int i = 0; i < 200000; i++)
    h = h * 31 + (uint64_t)(int64_t)eddy_jrandom_poisson(&r, 0.25 + (i % 400) * 0.6);
  cr_assert_eq((int64_t)h, -6984365780574786750LL);
  cr_assert_eq(eddy_jrandom_double(&r), 0.8746342745460097);
  /* Java's int semantics: NaN goes to the Gaussian branch and gives 0 */
  eddy_jrandom_seed(&r, 1);
  cr_assert_eq(eddy_jrandom_poisson(&r, NAN), 0);
  cr_assert(r.have_next_gaussian, "a Gaussian was drawn");
}

Test(jrandom, save_load_continues_bit_identically) {
  eddy_jrandom_t a, b;
  eddy_jrandom_seed(&a, 5);
  eddy_jrandom_gaussian(&a); /* leaves a cached second value */
  cr_assert(a.have_next_gaussian);
  eddy_buf_t buf;
  eddy_buf_init(&buf);
  eddy_jrandom_save(&a, &buf);
  eddy_reader_t rd;
  eddy_reader_init(&rd, buf.data, buf.len);
  memset(&b, 0xff, sizeof b);
  eddy_jrandom_load(&b, &rd);
  cr_assert_eq(rd.err, 0);
  cr_assert_eq(rd.pos, rd.len);
  for (int i = 0; i < 1000; i++) {
    cr_assert_eq(bits(eddy_jrandom_gaussian(&a)), bits(eddy_jrandom_gaussian(&b)));
    cr_assert_eq(eddy_jrandom_poisson(&a, 120.5), eddy_jrandom_poisson(&b, 120.5));
    cr_assert_eq(eddy_jrandom_int(&a, 1000), eddy_jrandom_int(&b, 1000));
  }
  /* truncated: sticky error */
  eddy_reader_init(&rd, buf.data, buf.len - 1);
  eddy_jrandom_load(&b, &rd);
  cr_assert_eq(rd.err, EDDY_ECORRUPT);
  eddy_buf_free(&buf);
}
