/* core/util.h: clocks, exact number formatting, and small helpers every
 * folder uses. */
#ifndef EDDY_CORE_UTIL_H
#define EDDY_CORE_UTIL_H

#include "core/buf.h"

/* ------------------------------------------------------------------ misc */

double eddy_now(void);      /* seconds, monotonic */
double eddy_wallclock(void); /* seconds since the epoch */
/* Formats a double so that it parses back to the same value, in C locale,
 * as briefly as possible (%.15g, %.16g or %.17g). Returns the length. */
int eddy_fmt_double(char *buf, size_t size, double v);
/* Duplicates at most n bytes; NULL only on allocation failure. */
char *eddy_strndup(const char *s, size_t n);
/* Grows a zero-filled array of elem-byte elements so that index need-1 is
 * valid; *cap counts elements. Learners use it when a class or nominal value
 * first appears (the only allocation their learn path may make). */
int eddy_grow(void **arr, size_t *cap, size_t need, size_t elem);
/* Index of the largest of v[0..n), the first on ties (as MOA's
 * Utils.maxIndex); 0 when n == 0. */
size_t eddy_argmax(const double *v, size_t n);
/* Splits a comma-separated list in place, trimming blanks; returns the
 * number of items (at most max) written to items. */
size_t eddy_split_list(char *s, char **items, size_t max);

/* JSON text (json.c). Appends s (len bytes) as a JSON string; bytes that
 * are not valid UTF-8 are written as \u00XX escapes of their Latin-1
 * reading. */
void eddy_json_string(eddy_buf_t *b, const char *s, size_t len);
/* Appends v in its shortest exact form, or null when not finite. */
void eddy_json_double(eddy_buf_t *b, double v);
/* 1 when p[0..len) is valid UTF-8 (no overlongs, no surrogates). */
int eddy_utf8_valid(const void *p, size_t len);

#endif /* EDDY_CORE_UTIL_H */
