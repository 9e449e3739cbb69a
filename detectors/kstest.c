/* kstest.c: the Kolmogorov-Smirnov statistic and p-values the `ks` and
 * `kswin` detectors use, computed as scipy.stats.ks_2samp does:
 *
 * - method 'asymp' (ks): P(D_N >= d) of the one-sample Kolmogorov
 *   distribution with N = round(n1 n2 / (n1 + n2)) (scipy's kstwo.sf),
 *   evaluated by the algorithm choice of Simard & L'Ecuyer (2011) that scipy
 *   follows: Ruben-Gambino's closed forms at the edges, the Durbin matrix
 *   (Marsaglia, Tsang & Wang 2003) for small n d^2, twice the exact
 *   one-sided Smirnov tail (Birnbaum & Tingey 1951) for large n d^2, and the
 *   Pelz-Good (1976) expansion for n > 140 in between. (scipy uses
 *   Pomeranz's recursion for n <= 140 and 0.75 < n d^2 <= 4; the Durbin
 *   matrix computes the same exact probability there.)
 * - method 'exact' for two samples of equal size n (kswin): the proportion
 *   of lattice paths that leave the band |x - y| < h (Hodges 1958). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detectors.h"

static double clip01(double p) { return p < 0 ? 0 : p > 1 ? 1 : p; }

double eddy_ks_statistic(const double *a, size_t n1, const double *b, size_t n2) {
  /* The largest |F1(v) - F2(v)| over every value v of either sample, the
   * empirical CDFs counting values <= v (scipy's searchsorted 'right'). */
  size_t i = 0, j = 0;
  double d = 0;
  while (i < n1 || j < n2) {
    double v = j >= n2 || (i < n1 && a[i] <= b[j]) ? a[i] : b[j];
    while (i < n1 && a[i] <= v) i++;
    while (j < n2 && b[j] <= v) j++;
    double diff = fabs((double)i / (double)n1 - (double)j / (double)n2);
    if (diff > d) d = diff;
  }
  return d;
}

/* P(D+_n >= x), exact (Birnbaum & Tingey): x times the sum over j from 0 to
 * floor(n (1 - x)) of C(n, j) (x + j/n)^(j-1) (1 - x - j/n)^(n-j). Every
 * term is positive; each is formed in logarithms. */
static double smirnov_sf(int64_t n, double x) {
  if (x <= 0) return 1;
  if (x >= 1) return 0;
  double dn = (double)n;
  int64_t last = (int64_t)floor(dn * (1 - x));
  double log_c = 0; /* log C(n, j) */
  double sum = 0;
  for (int64_t j = 0; j <= last; j++) {
    double a = x + (double)j / dn, b = 1 - a;
    if (j > 0) log_c += log((dn - (double)j + 1) / (double)j);
    if (b <= 0) continue; /* (1 - x - j/n)^(n-j) = 0 */
    sum += exp(log_c + (double)(j - 1) * log(a) + (double)(n - j) * log(b));
  }
  return clip01(x * sum);
}

/* P(D_n <= d) by the Durbin matrix as Marsaglia, Tsang & Wang compute it:
 * with k = ceil(n d), h = k - n d and m = 2k - 1, the (k, k) entry of H^n
 * times n! / n^n, where H is m x m; powers are rescaled by 2^128 to stay
 * in range. */
static double kolmogorov_cdf_durbin(int64_t n, double d) {
  double nd = (double)n * d;
  if (nd <= 0.5) return 0;
  int k = (int)ceil(nd);
  double h = k - nd;
  int m = 2 * k - 1;
  size_t mm = (size_t)m * (size_t)m;
  double *buf = malloc(4 * mm * sizeof *buf);
  double *v = malloc((size_t)m * 2 * sizeof *v);
  if (!buf || !v) {
    free(buf);
    free(v);
    return NAN;
  }
  double *H = buf, *P = buf + mm, *T = buf + 2 * mm, *w = v + m;
  double fact = 1; /* 1 / j! */
  for (int j = 1; j <= m; j++) {
    w[j - 1] = fact;
    fact /= j;
    v[j - 1] = (1 - pow(h, j)) * fact;
  }
  double tt = pow(fmax(2 * h - 1, 0), m) - 2 * pow(h, m);
  v[m - 1] = (1 + tt) * fact;
  memset(H, 0, mm * sizeof *H);
  for (int r = 0; r < m; r++)
    for (int c = 1; c < m; c++)
      if (r - c + 1 >= 0) H[r * m + c] = w[r - c + 1];
  for (int r = 0; r < m; r++) H[r * m] = v[r];
  for (int c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c];
  memset(P, 0, mm * sizeof *P);
  for (int r = 0; r < m; r++) P[r * m + r] = 1;
  const double big = ldexp(1, 128), small = ldexp(1, -128);
  int64_t expnt = 0, h_expnt = 0;
  for (int64_t e = n; e > 0; e /= 2) {
    if (e % 2) {
      for (int r = 0; r < m; r++)
        for (int c = 0; c < m; c++) {
          double s = 0;
          for (int t = 0; t < m; t++) s += P[r * m + t] * H[t * m + c];
          T[r * m + c] = s;
        }
      memcpy(P, T, mm * sizeof *P);
      expnt += h_expnt;
    }
    if (e / 2 == 0) break;
    for (int r = 0; r < m; r++)
      for (int c = 0; c < m; c++) {
        double s = 0;
        for (int t = 0; t < m; t++) s += H[r * m + t] * H[t * m + c];
        T[r * m + c] = s;
      }
    memcpy(H, T, mm * sizeof *H);
    h_expnt *= 2;
    if (fabs(H[(k - 1) * m + k - 1]) > big) {
      for (size_t t = 0; t < mm; t++) H[t] /= big;
      h_expnt += 128;
    }
  }
  double p = P[(k - 1) * m + k - 1];
  for (int64_t i = 1; i <= n; i++) {
    p = (double)i * p / (double)n;
    if (fabs(p) < small) {
      p *= big;
      expnt -= 128;
    }
  }
  free(buf);
  free(v);
  return ldexp(p, (int)expnt);
}

/* P(D_n <= x) by the Pelz-Good expansion in powers of n^-1/2. */
static double kolmogorov_cdf_pelz_good(int64_t n, double x) {
  const double pi2 = M_PI * M_PI, pi4 = pi2 * pi2, pi6 = pi4 * pi2;
  const double sqrt2pi = sqrt(2 * M_PI);
  double z = sqrt((double)n) * x;
  double z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2, z7 = z6 * z, z8 = z4 * z4,
         z10 = z8 * z2;
  double qlog = -pi2 / 8 / z2;
  if (qlog < -708.0) return 0;
  double q = exp(qlog);
  double k1a = -z2, k1b = pi2 / 4;
  double k2a = 6 * z6 + 2 * z4, k2b = (2 * z4 - 5 * z2) * pi2 / 4, k2c = pi4 * (1 - 2 * z2) / 16;
  double k3d = pi6 * (5 - 30 * z2) / 64, k3c = pi4 * (-60 * z2 + 212 * z4) / 16,
         k3b = pi2 * (135 * z4 - 96 * z6) / 4, k3a = -30 * z6 - 90 * z8;
  double K[4] = {0, 0, 0, 0};
  int maxk = (int)ceil(16 * z / M_PI);
  /* Horner over the odd terms (2k - 1): sum of c_k q^((2k-1)^2). */
  for (int k = maxk; k >= 1; k--) {
    double m = 2.0 * k - 1, m2 = m * m, m4 = m2 * m2, m6 = m4 * m2;
    double qp = pow(q, 8.0 * k);
    double c[4] = {1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4,
                   k3a + k3b * m2 + k3c * m4 + k3d * m6};
    for (int i = 0; i < 4; i++) K[i] = K[i] * qp + c[i];
  }
  for (int i = 0; i < 4; i++) K[i] *= q * sqrt2pi;
  K[0] /= z;
  K[1] /= 6 * z4;
  K[2] /= 72 * z7;
  K[3] /= 6480 * z10;
  /* The terms over all integers k for K2 and K3. */
  double q2 = exp(-pi2 / 2 / z2), sqrt3z = sqrt(3.0) * z;
  double k2extra = 0, k3extra = 0;
  for (int k = maxk; k >= 1; k--) {
    double kk = (double)k * k, qp = pow(q2, kk), kpi = M_PI * k;
    k2extra += kk * qp;
    k3extra += (sqrt3z + kpi) * (sqrt3z - kpi) * kk * qp;
  }
  K[2] += k2extra * pi2 * sqrt2pi / (-36 * z3);
  K[3] += k3extra * pi2 * sqrt2pi / (216 * z6);
  double sn = sqrt((double)n);
  return K[0] + K[1] / sn + K[2] / (double)n + K[3] / (sn * (double)n);
}

double eddy_kolmogorov_sf(int64_t n, double x) {
  if (n <= 0 || isnan(x)) return NAN;
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  double dn = (double)n, t = dn * x;
  if (t <= 1) { /* Ruben-Gambino: P(D_n <= x) = n!/n^n (2t - 1)^n */
    if (t <= 0.5) return 1;
    double cdf;
    if (n <= 140) {
      cdf = 1;
      for (int64_t i = 1; i <= n; i++) cdf *= (double)i / dn * (2 * t - 1);
    } else {
      cdf = exp(lgamma(dn + 1) - dn * log(dn) + dn * log(2 * t - 1));
    }
    return clip01(1 - cdf);
  }
  if (t >= dn - 1) return clip01(2 * pow(1 - x, dn)); /* Ruben-Gambino */
  if (x >= 0.5) return clip01(2 * smirnov_sf(n, x));
  double nx2 = t * x;
  if (n <= 140) {
    if (nx2 <= 4) return clip01(1 - kolmogorov_cdf_durbin(n, x));
    return clip01(2 * smirnov_sf(n, x));
  }
  if (nx2 >= 370) return 0;
  if (nx2 >= 2.2) return clip01(2 * smirnov_sf(n, x));
  double cdf = n <= 100000 && dn * pow(x, 1.5) <= 1.4 ? kolmogorov_cdf_durbin(n, x)
                                                      : kolmogorov_cdf_pelz_good(n, x);
  return clip01(1 - cdf);
}

double eddy_ks_pvalue(double d, uint64_t n1, uint64_t n2) {
  if (n1 == 0 || n2 == 0) return NAN;
  double a = (double)n1, b = (double)n2;
  double en = a * b / (a + b);
  double n = nearbyint(en); /* numpy's round: halves to even */
  if (n < 1) n = 1;
  return eddy_kolmogorov_sf((int64_t)n, d);
}

double eddy_ks_pvalue_exact_equal(uint64_t n, uint64_t h) {
  /* P(D_{n,n} >= h/n) = 2 (A0 - A0 A1 + A0 A1 A2 - ...), each A_k a ratio
   * of binomials built from h factors, summed Horner-like (as scipy's
   * _compute_prob_outside_square) to avoid cancellation. */
  if (h == 0) return 1;
  if (h > n) return 0;
  double P = 0, dn = (double)n, dh = (double)h;
  for (int64_t k = (int64_t)(n / h); k >= 0; k--) {
    double p1 = 1;
    for (uint64_t j = 0; j < h; j++)
      p1 = (dn - (double)k * dh - (double)j) * p1 / (dn + (double)k * dh + (double)j + 1);
    P = p1 * (1 - P);
  }
  return clip01(2 * P);
}
