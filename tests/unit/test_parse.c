/* test_parse.c: eddy_parse_decimal (core/parse.c) against glibc's strtod,
 * bit for bit, on millions of texts: printed doubles, random digit
 * strings over the whole exponent range, exact ties and near-ties between
 * doubles, classic hard cases, malformed and long texts; its 128-bit table
 * re-derived with independent exact arithmetic; eddy_parse_double
 * unchanged in what it accepts. EDDY_TEST_SLOW=1 multiplies the random
 * counts by 15 (about 75 million texts; not part of `make test`). */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
#include "core/core_int.h"

static long scaled(long n) {
  const char *s = getenv("EDDY_TEST_SLOW");
  return s && *s && strcmp(s, "0") != 0 ? 15 * n : n;
}

typedef struct tally {
  const char *what;
  long n, bad;
  long slow; /* texts the fast path handed to strtod */
} tally_t;

/* strtod's verdict on the len bytes at s: 1 when it reads them all. */
static int reference(const char *s, size_t len, double *out) {
  char stack[1024], *buf = len < sizeof stack ? stack : malloc(len + 1);
  cr_assert_not_null(buf);
  memcpy(buf, s, len);
  buf[len] = '\0';
  char *end;
  *out = strtod(buf, &end);
  int ok = len > 0 && end == buf + len;
  if (buf != stack) free(buf);
  return ok;
}

/* One text through eddy_parse_decimal, which must give strtod's verdict
 * and bits. The text is followed by more digits in memory, which the
 * parser must not read (they would change the number); every 61st text
 * sits at the very end of a heap block of its own size instead, for the
 * sanitizer build. */
static void check(tally_t *t, const char *s, size_t len) {
  static char buf[2048];
  char *p = buf, *heap = NULL;
  if (t->n % 61 == 60) {
    p = heap = malloc(len ? len : 1);
    cr_assert_not_null(heap);
  } else {
    cr_assert_lt(len + 4, sizeof buf);
    memcpy(buf + len, "97e5", 4);
  }
  memcpy(p, s, len);
  double want = 0, got = 0;
  int ok = reference(s, len, &want);
  int rc = eddy_parse_decimal(p, len, &got);
  double fast;
  t->slow += eddy__parse_decimal_fast(p, len, &fast) == 1;
  free(heap);
  t->n++;
  if ((rc == 0) != ok || (ok && memcmp(&got, &want, sizeof got) != 0)) {
    if (t->bad++ < 10)
      cr_log_error("%s: '%.*s': rc %d got %a, strtod %s %a", t->what, (int)(len > 200 ? 200 : len), s,
                   rc, got, ok ? "reads" : "refuses", want);
  }
  if (rc != 0) cr_assert_eq(rc, EDDY_EPARSE, "'%.*s'", (int)len, s);
}

static void check_str(tally_t *t, const char *s) { check(t, s, strlen(s)); }

static void done(const tally_t *t) {
  cr_log_info("%s: %ld texts, %ld to strtod", t->what, t->n, t->slow);
  cr_assert_eq(t->bad, 0, "%s: %ld of %ld texts differ from strtod", t->what, t->bad, t->n);
}

static double random_bits_double(eddy_rng_t *r) {
  double v;
  do {
    uint64_t b = eddy_rng_next(r);
    memcpy(&v, &b, sizeof v);
  } while (!isfinite(v));
  return v;
}

/* Doubles of several kinds: random bits (every exponent, subnormals), the
 * uniform and Gaussian values streams hold, tiny and huge ones. */
static double random_double(eddy_rng_t *r, long i) {
  switch (i % 6) {
  case 0:
  case 1: return random_bits_double(r);
  case 2: return 10 * eddy_rng_uniform(r);
  case 3: return eddy_rng_gauss(r) * pow(10, (double)eddy_rng_below(r, 40) - 20);
  case 4: { /* subnormal or just above */
    uint64_t b = eddy_rng_next(r) >> (11 + eddy_rng_below(r, 52));
    double v;
    memcpy(&v, &b, sizeof v);
    return eddy_rng_below(r, 2) ? -v : v;
  }
  default: { /* near DBL_MAX */
    uint64_t b = 0x7fefffffffffffffull - eddy_rng_below(r, 1ull << 40);
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
  }
  }
}

/* ------------------------------------------------------------- the table */

/* Little-endian base-2^32 integers, enough for 5^342 * 2^128. */
#define LIMBS 40
typedef struct big {
  uint32_t d[LIMBS];
} big_t;

static void big_set(big_t *a, uint64_t v) {
  memset(a, 0, sizeof *a);
  a->d[0] = (uint32_t)v;
  a->d[1] = (uint32_t)(v >> 32);
}

static void big_mul_small(big_t *a, uint32_t m) {
  uint64_t carry = 0;
  for (int i = 0; i < LIMBS; i++) {
    uint64_t x = (uint64_t)a->d[i] * m + carry;
    a->d[i] = (uint32_t)x;
    carry = x >> 32;
  }
  cr_assert_eq(carry, 0);
}

static void big_add(big_t *a, const big_t *b) {
  uint64_t carry = 0;
  for (int i = 0; i < LIMBS; i++) {
    uint64_t x = (uint64_t)a->d[i] + b->d[i] + carry;
    a->d[i] = (uint32_t)x;
    carry = x >> 32;
  }
  cr_assert_eq(carry, 0);
}

/* a * (hi, lo), the 128-bit table entry. */
static void big_mul_128(big_t *out, const big_t *a, uint64_t hi, uint64_t lo) {
  uint32_t t[4] = {(uint32_t)lo, (uint32_t)(lo >> 32), (uint32_t)hi, (uint32_t)(hi >> 32)};
  memset(out, 0, sizeof *out);
  for (int j = 0; j < 4; j++) {
    uint64_t carry = 0;
    for (int i = 0; i + j < LIMBS; i++) {
      uint64_t x = (uint64_t)a->d[i] * t[j] + out->d[i + j] + carry;
      out->d[i + j] = (uint32_t)x;
      carry = x >> 32;
    }
    cr_assert_eq(carry, 0);
  }
}

static int big_bits(const big_t *a) {
  for (int i = LIMBS - 1; i >= 0; i--)
    if (a->d[i]) return 32 * i + 32 - __builtin_clz(a->d[i]);
  return 0;
}

static int big_bit(const big_t *a, int k) { return k >= 0 && k < 32 * LIMBS && (a->d[k / 32] >> (k % 32)) & 1; }

/* The 64 bits of a from bit k up (k may be negative: zeros shift in). */
static uint64_t big_bits_at(const big_t *a, int k) {
  uint64_t v = 0;
  for (int i = 63; i >= 0; i--) v = v << 1 | (uint64_t)big_bit(a, k + i);
  return v;
}

/* Compares a with 2^k: -1, 0, 1. */
static int big_cmp_pow2(const big_t *a, int k) {
  int n = big_bits(a);
  if (n != k + 1) return n < k + 1 ? -1 : 1;
  for (int i = 0; i < k; i++)
    if (big_bit(a, i)) return 1;
  return 0;
}

/* Every entry is floor(5^q * 2^(127 - f)) in [2^127, 2^128) with f =
 * floor(log2(5^q)), and the parser's f formula is exact. */
Test(parse, table_is_exact) {
  big_t p5;
  big_set(&p5, 1);
  for (int q = 0; q <= 308; q++) {
    if (q) big_mul_small(&p5, 5);
    int f = big_bits(&p5) - 1;
    cr_assert_eq(eddy__log2_pow5(q), f, "floor(log2(5^%d))", q);
    const uint64_t *t = eddy__pow5_128[q + 342];
    /* The top 128 bits of 5^q, truncated. */
    uint64_t hi = big_bits_at(&p5, f - 63), lo = big_bits_at(&p5, f - 127);
    cr_assert(t[0] == hi && t[1] == lo, "5^%d: table %016llx %016llx, exact %016llx %016llx", q,
              (unsigned long long)t[0], (unsigned long long)t[1], (unsigned long long)hi,
              (unsigned long long)lo);
  }
  big_set(&p5, 1);
  for (int n = 1; n <= 342; n++) {
    big_mul_small(&p5, 5);
    int len = big_bits(&p5); /* 5^n is no power of two: floor(log2(5^-n)) = -len */
    cr_assert_eq(eddy__log2_pow5(-n), -len, "floor(log2(5^-%d))", n);
    const uint64_t *t = eddy__pow5_128[342 - n];
    cr_assert(t[0] >> 63, "5^-%d is normalised", n);
    /* T * 5^n <= 2^(127 + len) < (T + 1) * 5^n */
    big_t prod;
    big_mul_128(&prod, &p5, t[0], t[1]);
    cr_assert_leq(big_cmp_pow2(&prod, 127 + len), 0, "5^-%d: entry too large", n);
    big_add(&prod, &p5);
    cr_assert_gt(big_cmp_pow2(&prod, 127 + len), 0, "5^-%d: entry too small", n);
  }
}

/* ----------------------------------------------------------- fixed texts */

Test(parse, syntax_as_strtod) {
  /* Whether strtod reads the whole text (glibc, C locale). */
  static const struct {
    const char *s;
    int ok;
  } cases[] = {
      {"0", 1},       {"-0", 1},      {"+0", 1},        {"00", 1},       {"0.0", 1},
      {".5", 1},      {"5.", 1},      {"+.5", 1},       {"-5.", 1},      {"5.e3", 1},
      {".5e-3", 1},   {"1e5", 1},     {"1E5", 1},       {"1e+5", 1},     {"1e-5", 1},
      {"1e0005", 1},  {"0e999999999999999999", 1},      {"1e-999999999999999999", 1},
      {"", 0},        {"+", 0},       {"-", 0},         {".", 0},        {"+.", 0},
      {"-.e1", 0},    {".e1", 0},     {"e1", 0},        {"1e", 0},       {"1e+", 0},
      {"1e-", 0},     {"1E", 0},      {"1ee5", 0},      {"1e5e5", 0},    {"1e5.5", 0},
      {"1.2.3", 0},   {"1..2", 0},    {"--1", 0},       {"+-1", 0},      {"1-", 0},
      {"1+", 0},      {"12a", 0},     {"1_000", 0},     {"1,5", 0},      {"1 ", 0},
      {"0x", 0},      {"0x10", 1},    {"0X1p-3", 1},    {"-0x1.8p1", 1}, {"inf", 1},
      {"-Infinity", 1}, {"nan", 1},   {"NAN(123)", 1},  {"infi", 0},     {" 5", 1},
      {"\t-5", 1},    {"5\n", 0},     {"1e+5x", 0},     {"0.", 1},       {"00.00e-0", 1},
  };
  tally_t t = {"syntax", 0, 0, 0};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    double v, want;
    cr_assert_eq(reference(cases[i].s, strlen(cases[i].s), &want), cases[i].ok,
                 "strtod on '%s' (the list is wrong)", cases[i].s);
    int rc = eddy_parse_decimal(cases[i].s, strlen(cases[i].s), &v);
    cr_assert_eq(rc == 0, cases[i].ok, "'%s'", cases[i].s);
    check_str(&t, cases[i].s);
  }
  done(&t);
  double z;
  cr_assert_eq(eddy_parse_decimal("-0.0e10", 7, &z), 0);
  cr_assert(z == 0 && signbit(z), "-0 keeps its sign");
  cr_assert_eq(eddy_parse_decimal("-1e-400", 7, &z), 0);
  cr_assert(z == 0 && signbit(z), "-1e-400 underflows to -0");
  cr_assert_eq(eddy_parse_decimal("1e309", 5, &z), 0);
  cr_assert(isinf(z) && z > 0, "overflow gives inf, as strtod");
  cr_assert_eq(eddy_parse_decimal("1.5", 1, &z), 0, "only len bytes are read");
  cr_assert_eq(z, 1.0);
}

/* Hard cases from the literature: Paxson's (1991) decimal-to-binary
 * stress cases, the inputs that hung PHP and Java (2011), exact and near
 * ties at 2^53, 1 + 2^-53, the subnormal boundary and DBL_MAX. */
Test(parse, classic_hard_cases) {
  static const char *const texts[] = {
      "5e+125", "69e+267", "999e-026", "7861e-034", "75569e-254", "928609e-261", "9210917e+080",
      "84863171e+114", "653777767e+273", "5232604057e-298", "27235667517e-109", "653532977297e-123",
      "3142213164987e-294", "46202199371337e-072", "231010996856685e-073",
      "9324754620109615e+212", "78459735791271921e+049", "272104041512242479e+200",
      "6802601037806061975e+198", "20505426358836677347e-221", "836168422905420598437e-234",
      "4891559871276714924261e+222", "9e-265", "85e-037", "623e+100", "3571e+263",
      "81661e+153", "920657e-023", "4603830e-026", "87575437e-309", "245540327e+122",
      "6138508396e+096", "83356057653e+193", "619534293513e+124", "2335141086879e+218",
      "36167929443327e-159", "609610927149051e-255", "3743626360493413e-165",
      "94080055902682397e-242", "899810892172646163e+283", "7120190517612959703e+120",
      "25188282901709339043e-252", "308984926168550152811e-052",
      "6372891218502368041059e+064", "2.2250738585072011e-308", "2.2250738585072012e-308",
      "2.2250738585072014e-308", "2.225073858507201136057409796709131975934819546351645648e-308",
      "9007199254740993", "9007199254740992", "9007199254740994", "9007199254740995",
      "9007199254740993.0000000000000000001", "9007199254740992.9999999999999999999",
      "18014398509481989", "18014398509481990", "18014398509481991",
      "1.00000000000000011102230246251565404236316680908203125",
      "1.00000000000000011102230246251565404236316680908203124",
      "1.00000000000000011102230246251565404236316680908203126",
      "0.99999999999999994448884876874217297882", "4.9406564584124654e-324", "5e-324",
      "2.4703282292062327e-324", "2.4703282292062328e-324", "2.47032822920623272e-324",
      "4.9406564584124654417656879286822137236505980e-324", "2e-324", "3e-324", "7e-324",
      "2.2250738585072009e-308", "2.2250738585072013e-308", "1.7976931348623157e308",
      "1.7976931348623158e308", "1.7976931348623159e308", "1.797693134862315807e308",
      "179769313486231580793728971405301e276", "179769313486231570814527423731704356798070567525"
      "844996598917476803157260780028538760589558632766878171540458953514382464234321326889464"
      "182768467546703537516986049910576551282076245490090389328944075868508455133942304583236"
      "903222948165808559332123348274797826204144723168738177180919299881250404026184124858368",
      "1e23", "8.98846567431158e307", "7.038531e-26", "0.1", "0.2", "0.3", "1.448997445238699",
      "4.35e-1", "3.4028234664e38", "123456789012345678901234567890", "100000000000000000000000",
      "0.000000000000000000000000000001234567890123456789012", "7.2057594037927933e16",
      "3.2412934710204567", "0.056443", "1e-342", "1e-343", "1e-324", "1e308", "1e309",
  };
  tally_t t = {"classic", 0, 0, 0};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    check_str(&t, texts[i]);
    char s[64];
    snprintf(s, sizeof s, "-%.60s", texts[i]);
    check_str(&t, s);
  }
  done(&t);
}

/* ----------------------------------------------------- random texts */

/* Random doubles as programs print them: %.17g, %.16g, %.15g, eddy's
 * shortest form and %.Ne with N from 0 to 24 (up to 25 digits). */
Test(parse, printed_doubles, .timeout = 600) {
  eddy_rng_t r;
  eddy_rng_seed(&r, 1);
  tally_t t = {"printed", 0, 0, 0}, e = {"printed %.Ne", 0, 0, 0};
  char s[64];
  long n = scaled(400000);
  for (long i = 0; i < n; i++) {
    double v = random_double(&r, i);
    check(&t, s, (size_t)snprintf(s, sizeof s, "%.17g", v));
    check(&t, s, (size_t)snprintf(s, sizeof s, "%.16g", v));
    check(&t, s, (size_t)snprintf(s, sizeof s, "%.15g", v));
    check(&t, s, (size_t)eddy_fmt_double(s, sizeof s, v));
    check(&e, s, (size_t)snprintf(s, sizeof s, "%.*e", (int)eddy_rng_below(&r, 25), v));
  }
  done(&t);
  done(&e);
  /* None of them needs strtod (measured: 0 of 2 million). */
  cr_assert_eq(t.slow + e.slow, 0, "%ld of %ld texts left the fast path", t.slow + e.slow, t.n + e.n);
}

/* Random digit strings: 1 to 25 digits (leading zeros now and then), the
 * point anywhere or absent, exponents that put the value anywhere from
 * below the least subnormal to above DBL_MAX, signs and spellings. */
Test(parse, random_digit_strings, .timeout = 600) {
  eddy_rng_t r;
  eddy_rng_seed(&r, 2);
  tally_t t = {"digits", 0, 0, 0}, t19 = {"digits, <= 19", 0, 0, 0};
  char s[128];
  long n = scaled(1500000);
  for (long i = 0; i < n; i++) {
    char *o = s;
    switch (eddy_rng_below(&r, 4)) {
    case 0: *o++ = '-'; break;
    case 1: *o++ = '+'; break;
    default: break;
    }
    int nd = 1 + (int)eddy_rng_below(&r, 25);
    int point = (int)eddy_rng_below(&r, (uint64_t)nd + 2) - 1; /* -1: none */
    int zeros = eddy_rng_below(&r, 8) == 0 ? (int)eddy_rng_below(&r, (uint64_t)nd + 1) : 0;
    for (int k = 0; k < nd; k++) {
      if (k == point) *o++ = '.';
      *o++ = (char)(k < zeros ? '0' : '0' + (int)eddy_rng_below(&r, 10));
    }
    if (point == nd) *o++ = '.';
    if (eddy_rng_below(&r, 10)) {
      /* An exponent that puts the leading digit near 10^x, x in
       * [-350, 320]. */
      int x = (int)eddy_rng_below(&r, 671) - 350;
      int lead = point < 0 ? nd : point;
      int ex = x - (lead - 1);
      *o++ = eddy_rng_below(&r, 2) ? 'e' : 'E';
      if (ex >= 0 && eddy_rng_below(&r, 2)) *o++ = '+';
      o += sprintf(o, eddy_rng_below(&r, 8) ? "%d" : "%04d", ex);
    }
    check(nd <= 19 ? &t19 : &t, s, (size_t)(o - s));
  }
  done(&t19);
  done(&t);
  /* Measured: 0 of 1.14 million texts of at most 19 digits went to
   * strtod; past 19, those whose truncation straddles a tie do. */
  cr_assert_eq(t19.slow, 0, "%ld of %ld", t19.slow, t19.n);
}

/* Ties, exactly halfway between two doubles, and texts a hair either side
 * of them: the cases where the rounding bit is 1 and the rest decides.
 * Exact ties with at most 19 digits are (r * 5^q) * 2^e rebuilt as
 * w * 10^q; others come from the midpoint of a random double and its
 * successor, exact in long double, printed with 16 to 40 digits and in
 * full (%.800Le: up to 767 significant digits). */
Test(parse, ties_and_near_ties, .timeout = 600) {
  eddy_rng_t r;
  eddy_rng_seed(&r, 3);
  tally_t t19 = {"ties, <= 19 digits", 0, 0, 0}, t = {"ties in full", 0, 0, 0};
  tally_t nt19 = {"near ties, <= 19 digits", 0, 0, 0}, nt = {"near ties", 0, 0, 0};
  char s[1200];
  long n = scaled(100000);
  for (long i = 0; i < n; i++) {
    /* A tie m * 2^e with m odd of 54 bits, m = r * 5^q. */
    int q = (int)eddy_rng_below(&r, 24);
    uint64_t p5 = 1;
    for (int k = 0; k < q; k++) p5 *= 5;
    uint64_t lo = ((1ull << 53) + p5 - 1) / p5, hi = ((1ull << 54) - 1) / p5;
    uint64_t odd = (lo + eddy_rng_below(&r, hi - lo + 1)) | 1;
    if (odd * p5 >= (1ull << 54)) odd -= 2;
    uint64_t w = odd; /* times 2^s, s >= 0, while w stays under 10^19 */
    for (int k = (int)eddy_rng_below(&r, 12); k > 0 && w < 1000000000000000000ull; k--) w <<= 1;
    if (w >= 10000000000000000000ull) w >>= 1;
    int len = snprintf(s, sizeof s, "%llue%d", (unsigned long long)w, q);
    check(&t19, s, (size_t)len);
    /* The same value with zeros after the point. */
    len = snprintf(s, sizeof s, "%llu.000e%d", (unsigned long long)w, q);
    check(&t19, s, (size_t)len);
    /* q < 0: m * 2^e with e + d >= 0 is w * 10^-d, w = m * 5^d * 2^(e + d). */
    int d = 1 + (int)eddy_rng_below(&r, 4);
    uint64_t m = ((1ull << 53) + eddy_rng_below(&r, 1ull << 53)) | 1;
    uint64_t f5 = d == 1 ? 5 : d == 2 ? 25 : d == 3 ? 125 : 625;
    if (m <= UINT64_MAX / f5 && m * f5 < 10000000000000000000ull) {
      len = snprintf(s, sizeof s, "%llue-%d", (unsigned long long)(m * f5), d);
      check(&t19, s, (size_t)len);
    }
    /* Midpoints of random doubles, and roundings of them. */
    double v = fabs(random_double(&r, i));
    long double mid = v == DBL_MAX ? (long double)DBL_MAX + ldexpl(1, 970)
                                   : ((long double)v + (long double)nextafter(v, INFINITY)) / 2;
    static const int prec[] = {15, 16, 17, 18, 19, 20, 25, 40}; /* digits - 1 */
    for (size_t k = 0; k < sizeof prec / sizeof prec[0]; k++)
      check(prec[k] < 19 ? &nt19 : &nt, s, (size_t)snprintf(s, sizeof s, "%.*Le", prec[k], mid));
    if (i % 16 == 0) {
      /* In full: trailing zeros removed, a tie to every digit. */
      len = snprintf(s, sizeof s, "%.800Le", mid);
      char *e = strchr(s, 'e'), *z = e;
      while (z[-1] == '0') z--;
      memmove(z, e, strlen(e) + 1);
      check(&t, s, strlen(s));
      /* Then one unit of the last digit more and less (no carries). */
      char *last = z - 1;
      if (*last > '0' && *last < '9') {
        (*last)++;
        check(&nt, s, strlen(s));
        *last = (char)(*last - 2);
        check(&nt, s, strlen(s));
      }
    }
  }
  done(&t19);
  done(&t);
  done(&nt19);
  done(&nt);
  /* Up to 19 digits the fast path decides ties (exact products for q >=
   * 0, dyadic values for q < 0) and near ties (0 of 400,000 measured):
   * none needs strtod. */
  cr_assert_eq(t19.slow, 0, "%ld of %ld ties", t19.slow, t19.n);
  cr_assert_eq(nt19.slow, 0, "%ld of %ld near ties", nt19.slow, nt19.n);
}

/* Texts of random characters from the number alphabet (and a few
 * others): whatever strtod says about them, the parser says too. */
Test(parse, malformed_texts, .timeout = 600) {
  static const char alphabet[] = "0123456789.eE+-xXpPinfaINFA \t,_\0";
  eddy_rng_t r;
  eddy_rng_seed(&r, 4);
  tally_t t = {"malformed", 0, 0, 0};
  char s[32];
  long n = scaled(1000000);
  for (long i = 0; i < n; i++) {
    size_t len = (size_t)eddy_rng_below(&r, 13);
    for (size_t k = 0; k < len; k++) {
      /* Mostly digits, so that many texts are near-numbers. */
      int c = eddy_rng_below(&r, 2) ? (int)eddy_rng_below(&r, 10) : (int)eddy_rng_below(&r, sizeof alphabet - 1);
      s[k] = alphabet[c];
    }
    check(&t, s, len);
  }
  /* Valid numbers with one character replaced, inserted or cut. */
  for (long i = 0; i < n / 4; i++) {
    int len = eddy_fmt_double(s, sizeof s, random_double(&r, i));
    size_t at = (size_t)eddy_rng_below(&r, (uint64_t)len);
    char c = alphabet[eddy_rng_below(&r, sizeof alphabet - 1)];
    switch (i % 3) {
    case 0: s[at] = c; break;
    case 1:
      memmove(s + at + 1, s + at, (size_t)len - at);
      s[at] = c;
      len++;
      break;
    default: len = (int)at; break;
    }
    check(&t, s, (size_t)len);
  }
  done(&t);
}

/* Texts longer than the parser's stack copy for strtod (255 bytes), and
 * many-digit texts that stay on the fast path. */
Test(parse, long_texts) {
  tally_t t = {"long", 0, 0, 0}, z = {"long, 19 digits and zeros", 0, 0, 0};
  char s[1100];
  eddy_rng_t r;
  eddy_rng_seed(&r, 5);
  for (int i = 0; i < 2000; i++) {
    int nd = 20 + (int)eddy_rng_below(&r, 700);
    char *o = s;
    if (i % 3 == 0) o += sprintf(o, "0.");
    if (i % 3 == 0 && i % 2)
      for (int k = 0; k < 300; k++) *o++ = '0';
    for (int k = 0; k < nd; k++) *o++ = (char)('0' + (k == 0 ? 1 + (int)eddy_rng_below(&r, 9) : (int)eddy_rng_below(&r, 10)));
    if (i % 5 == 0) o += sprintf(o, "e%d", (int)eddy_rng_below(&r, 700) - 350);
    check(&t, s, (size_t)(o - s));
    /* Digits past the 19th that are all zeros keep the text exact. */
    o = s + sprintf(s, "%llu", (unsigned long long)(eddy_rng_next(&r) % 10000000000000000000ull));
    for (int k = 0; k < 280; k++) *o++ = '0';
    o += sprintf(o, "e-%d", 280 + (int)eddy_rng_below(&r, 30));
    check(&z, s, (size_t)(o - s));
  }
  done(&t);
  done(&z);
  cr_assert_eq(z.slow, 0, "%ld of %ld", z.slow, z.n);
}

/* ------------------------------------------------------- eddy_parse_double */

/* What eddy_parse_double accepted before it used the fast parser. */
static int old_parse_double(const char *s, double *out) {
  if (!s || !*s) return EDDY_EINVAL;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno == ERANGE || *end || isnan(v)) return EDDY_EINVAL;
  *out = v;
  return 0;
}

Test(parse, parse_double_unchanged) {
  static const char *const texts[] = {
      "0", "-0", "0.0", "0e5", "1", "-2.5", "1e6", "0.056443", "1e308", "1e309", "-1e309",
      "1e-300", "2.2250738585072014e-308", "2.2250738585072011e-308", "4.9e-324", "1e-400",
      "0x10", "0x1p-1074", "0x0", "inf", "-inf", "nan", "", " 1", "1 ", "1e", "abc",
      "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308",
  };
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    double a = -7, b = -7;
    int ra = eddy_parse_double(texts[i], &a), rb = old_parse_double(texts[i], &b);
    cr_assert_eq(ra, rb, "'%s'", texts[i]);
    cr_assert(memcmp(&a, &b, sizeof a) == 0, "'%s': %a, before %a", texts[i], a, b);
  }
  eddy_rng_t r;
  eddy_rng_seed(&r, 6);
  char s[64];
  long bad = 0, n = scaled(200000);
  for (long i = 0; i < n; i++) {
    double v = random_double(&r, i);
    if (i % 2)
      snprintf(s, sizeof s, "%.*g", 1 + (int)eddy_rng_below(&r, 17), v);
    else
      snprintf(s, sizeof s, "%.3e", v * pow(10, (double)eddy_rng_below(&r, 40) - 20));
    double a = -7, b = -7;
    int ra = eddy_parse_double(s, &a), rb = old_parse_double(s, &b);
    if (ra != rb || memcmp(&a, &b, sizeof a) != 0) {
      if (bad++ < 5) cr_log_error("'%s': %d %a, before %d %a", s, ra, a, rb, b);
    }
  }
  cr_assert_eq(bad, 0);
}
