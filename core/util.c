/* util.c: clocks, exact number formatting in C locale, and small string
 * helpers shared across the engine. */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"

double eddy_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double eddy_wallclock(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

char *eddy_strndup(const char *s, size_t n) {
  char *p = malloc(n + 1);
  if (!p) return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

size_t eddy_split_list(char *s, char **items, size_t max) {
  size_t n = 0;
  while (s && *s && n < max) {
    char *comma = strchr(s, ',');
    if (comma) *comma = '\0';
    while (isspace((unsigned char)*s)) s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1])) *--end = '\0';
    if (*s) items[n++] = s;
    s = comma ? comma + 1 : NULL;
  }
  return n;
}

int eddy_grow(void **arr, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return 0;
  size_t n = *cap ? *cap : 4;
  while (n < need) n *= 2;
  if (n > SIZE_MAX / elem) return EDDY_ENOMEM;
  char *p = realloc(*arr, n * elem);
  if (!p) return EDDY_ENOMEM;
  memset(p + *cap * elem, 0, (n - *cap) * elem);
  *arr = p;
  *cap = n;
  return 0;
}

size_t eddy_argmax(const double *v, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; i++)
    if (v[i] > v[best]) best = i;
  return best;
}
