/* fmt.c: eddy_fmt_double, the shortest of %.15g, %.16g, %.17g that reads
 * back exactly, in C locale. Trying each with snprintf and strtod costs
 * about 600 ns a number, most of the time of writing a stream. Here the same decision is made with exact integer arithmetic: for
 * v = m * 2^q, v * 10^s = m * 5^s * 2^(q+s) is an integer (m * 5^s) shifted
 * right by t bits, so rounding it to P digits (ties to even, as glibc's
 * printf) and checking that the P digits read back to v (as glibc's
 * correctly rounded strtod would) are exact comparisons of 128-bit
 * integers. Values outside the domain where that fits (|v| < 1e-11,
 * |v| >= 1e15, zero, subnormals, inf, nan) go to the snprintf/strtod path. The unit
 * suite compares the two on millions of values. */
#include <math.h>
#include <string.h>

#include <stdio.h>
#include <stdlib.h>

#include "core/core.h"
#include "core/core_int.h"

typedef unsigned __int128 u128;

#define MAX_S 27 /* 5^27 is the largest power of five in 64 bits */

/* Shared with parse.c (internal.h). */
const uint64_t eddy__pow5_u64[MAX_S + 1] = {
    1ull,
    5ull,
    25ull,
    125ull,
    625ull,
    3125ull,
    15625ull,
    78125ull,
    390625ull,
    1953125ull,
    9765625ull,
    48828125ull,
    244140625ull,
    1220703125ull,
    6103515625ull,
    30517578125ull,
    152587890625ull,
    762939453125ull,
    3814697265625ull,
    19073486328125ull,
    95367431640625ull,
    476837158203125ull,
    2384185791015625ull,
    11920928955078125ull,
    59604644775390625ull,
    298023223876953125ull,
    1490116119384765625ull,
    7450580596923828125ull,
};

static const uint64_t tens[19] = {
    1ull,
    10ull,
    100ull,
    1000ull,
    10000ull,
    100000ull,
    1000000ull,
    10000000ull,
    100000000ull,
    1000000000ull,
    10000000000ull,
    100000000000ull,
    1000000000000ull,
    10000000000000ull,
    100000000000000ull,
    1000000000000000ull,
    10000000000000000ull,
    100000000000000000ull,
    1000000000000000000ull,
};

/* d = round(m * 2^q * 10^s), ties to even; *exact_back = 1 when d * 10^-s
 * reads back to m * 2^q (its distance to it is under half the gap to the
 * neighbouring doubles, or exactly half and m is even). Returns -1 outside
 * the exact domain. m has 53 significant bits (a normal double). */
static int scaled_round(uint64_t m, int q, int s, uint64_t *d, int *exact_back) {
  if (s < 0 || s > MAX_S) return -1;
  u128 n = (u128)m * eddy__pow5_u64[s]; /* < 2^117 */
  int e2 = q + s;
  if (e2 >= 0) {
    if (e2 > 10) return -1;
    u128 v = n << e2;
    if (v >> 64) return -1;
    *d = (uint64_t)v;
    *exact_back = 1;
    return 0;
  }
  int t = -e2;
  if (t > 120) return -1;
  u128 r = n >> t;
  u128 rem = n - (r << t);
  u128 half = (u128)1 << (t - 1);
  if (rem > half || (rem == half && (r & 1))) r++;
  if (r >> 64) return -1;
  *d = (uint64_t)r;
  /* In units of 2^-t: the half gap to the next double up is 5^s / 2, and
   * so is the one down except at a power of two, where it is 5^s / 4. */
  u128 f = eddy__pow5_u64[s];
  u128 back = r << t;
  int even = (m & 1) == 0;
  if (back >= n) {
    u128 over2 = (back - n) * 2;
    *exact_back = over2 < f || (over2 == f && even);
  } else {
    u128 under = n - back;
    u128 k = (m == (1ull << 52)) ? under * 4 : under * 2;
    *exact_back = k < f || (k == f && even);
  }
  return 0;
}

/* The exact decimal exponent x of m * 2^q (10^x <= v < 10^(x+1)), from an
 * estimate that may be one off: floor(v * 10^(16-x)) must have 17 digits. */
static int decimal_exponent(uint64_t m, int q, int *x) {
  for (int tries = 0; tries < 4; tries++) {
    int s = 16 - *x;
    if (s < 0 || s > MAX_S) return -1;
    u128 n = (u128)m * eddy__pow5_u64[s];
    int e2 = q + s;
    if (e2 > 10) return -1;
    u128 fl = e2 >= 0 ? n << e2 : (-e2 > 120 ? 0 : n >> -e2);
    if (fl < tens[16])
      (*x)--;
    else if (fl >= tens[17])
      (*x)++;
    else
      return 0;
  }
  return -1;
}

/* %.Pg of the P-digit integer d (in [10^(P-1), 10^P)) times 10^(x-P+1). */
static int format_g(char *buf, int neg, uint64_t d, int p, int x) {
  static const char pairs[201] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                 "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                 "8081828384858687888990919293949596979899";
  char dig[20];
  int i = p;
  while (i >= 2) { /* two digits a division */
    unsigned r = (unsigned)(d % 100);
    d /= 100;
    dig[--i] = pairs[2 * r + 1];
    dig[--i] = pairs[2 * r];
  }
  if (i) dig[0] = (char)('0' + d);
  int nd = p;
  while (nd > 1 && dig[nd - 1] == '0') nd--;
  char *o = buf;
  if (neg) *o++ = '-';
  if (x < -4 || x >= p) {
    *o++ = dig[0];
    if (nd > 1) {
      *o++ = '.';
      memcpy(o, dig + 1, (size_t)(nd - 1));
      o += nd - 1;
    }
    *o++ = 'e';
    *o++ = x < 0 ? '-' : '+';
    int ax = x < 0 ? -x : x;
    if (ax >= 100) *o++ = (char)('0' + ax / 100);
    *o++ = (char)('0' + ax / 10 % 10);
    *o++ = (char)('0' + ax % 10);
  } else if (x >= 0) {
    memcpy(o, dig, (size_t)(x + 1));
    o += x + 1;
    if (nd > x + 1) {
      *o++ = '.';
      memcpy(o, dig + x + 1, (size_t)(nd - x - 1));
      o += nd - x - 1;
    }
  } else {
    *o++ = '0';
    *o++ = '.';
    for (int z = 0; z < -x - 1; z++) *o++ = '0';
    memcpy(o, dig, (size_t)nd);
    o += nd;
  }
  *o = '\0';
  return (int)(o - buf);
}

/* The reference path: each precision printed and read back. */
int eddy__fmt_double_slow(char *buf, size_t size, double v) {
  int n = 0;
  for (int prec = 15; prec <= 17; prec++) {
    n = snprintf(buf, size, "%.*g", prec, v);
    if (n < 0 || (size_t)n >= size) return n;
    if (strtod(buf, NULL) == v) break;
  }
  return n;
}

int eddy_fmt_double(char *buf, size_t size, double v) {
  double a = fabs(v);
  if (size < 32 || !(a >= 1e-11 && a < 1e15)) return eddy__fmt_double_slow(buf, size, v);
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  int neg = (int)(bits >> 63);
  int be = (int)((bits >> 52) & 0x7ff);
  uint64_t m = (bits & ((1ull << 52) - 1)) | (1ull << 52);
  int q = be - 1075;
  /* floor(e * log10(2)) for the binary exponent e (78913 / 2^18 is
   * log10(2) to 6 digits, exact over this domain): one under the decimal
   * exponent or equal to it, which decimal_exponent settles. Cheaper than
   * log10, a tenth of the formatting's time. */
  int x = ((be - 1023) * 78913) >> 18;
  if (decimal_exponent(m, q, &x)) return eddy__fmt_double_slow(buf, size, v);
  for (int p = 15; p <= 17; p++) {
    uint64_t d;
    int back = 0;
    /* d is in [10^(p-1), 10^p] since x is exact */
    if (scaled_round(m, q, p - 1 - x, &d, &back)) return eddy__fmt_double_slow(buf, size, v);
    if (!back) continue;
    if (d == tens[p]) return format_g(buf, neg, tens[p - 1], p, x + 1); /* rounded up a decade */
    return format_g(buf, neg, d, p, x);
  }
  return eddy__fmt_double_slow(buf, size, v); /* %.17g always reads back: not reached */
}
