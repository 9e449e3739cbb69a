/* json.c: JSON object records. A small pull parser instead of jansson:
 * jansson builds a tree (allocations per value) and the per-record path
 * must not allocate. Nesting is bounded and strings must be valid UTF-8, so
 * that hostile records cost bounded work and end in the dead-letter topic. */
#include <stdlib.h>
#include <string.h>

#include "connectors/connectors.h"

#define MAX_DEPTH 64

typedef struct {
  const char *p, *end, *start;
  char *out, *out_end; /* unescaped strings go here (the decoder's scratch) */
  char *errstr;
  size_t errstr_size;
} json_t;

static int jerr(json_t *j, const char *what) {
  return eddy_seterr(j->errstr, j->errstr_size, EDDY_EPARSE, "malformed JSON at byte %zu: %s",
                     (size_t)(j->p - j->start), what);
}

static void ws(json_t *j) {
  const char *p = j->p;
  while (p < j->end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  j->p = p;
}

static int hex4(const char *p, unsigned *v) {
  *v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                 : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                 : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                        : 16u;
    if (d > 15) return -1;
    *v = *v << 4 | d;
  }
  return 0;
}

static char *put_utf8(char *o, unsigned cp) {
  if (cp < 0x80) {
    *o++ = (char)cp;
  } else if (cp < 0x800) {
    *o++ = (char)(0xC0 | cp >> 6);
    *o++ = (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *o++ = (char)(0xE0 | cp >> 12);
    *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
    *o++ = (char)(0x80 | (cp & 0x3F));
  } else {
    *o++ = (char)(0xF0 | cp >> 18);
    *o++ = (char)(0x80 | (cp >> 12 & 0x3F));
    *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
    *o++ = (char)(0x80 | (cp & 0x3F));
  }
  return o;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 (Unicode 3.0+
 * rules: no overlongs, no surrogates, nothing past U+10FFFF). */
static size_t utf8_len(const unsigned char *p, const unsigned char *end) {
  unsigned c = p[0];
  if (c < 0x80) return 1;
  size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  if (!n || c > 0xF4 || (size_t)(end - p) < n) return 0;
  for (size_t i = 1; i < n; i++)
    if ((p[i] & 0xC0) != 0x80) return 0;
  if (c == 0xE0 && p[1] < 0xA0) return 0;
  if (c == 0xED && p[1] > 0x9F) return 0;
  if (c == 0xF0 && p[1] < 0x90) return 0;
  if (c == 0xF4 && p[1] > 0x8F) return 0;
  return n;
}

/* Reads a string (at its opening quote) into j->out; *s and *len locate it.
 * Strings without escapes are not copied. */
static int string(json_t *j, const char **s, size_t *len) {
  const char *p = j->p + 1, *end = j->end; /* a local cursor (see number_value) */
  const char *begin = p;
  int escaped = 0;
  while (p < end && *p != '"') {
    unsigned char c = (unsigned char)*p;
    if (c == '\\') {
      escaped = 1;
      p += 2;
    } else if (c < 0x20) {
      j->p = p;
      return jerr(j, "control character in a string");
    } else if (c < 0x80) {
      p++;
    } else {
      size_t n = utf8_len((const unsigned char *)p, (const unsigned char *)end);
      j->p = p;
      if (!n) return jerr(j, "invalid UTF-8 in a string");
      p += n;
    }
  }
  j->p = p;
  if (p >= end) return jerr(j, "unterminated string");
  const char *stop = j->p++;
  if (!escaped) {
    *s = begin;
    *len = (size_t)(stop - begin);
    return 0;
  }
  /* Unescaped text is never longer than the escaped one. */
  char *o = j->out;
  if ((size_t)(j->out_end - o) < (size_t)(stop - begin)) return jerr(j, "out of scratch");
  for (const char *q = begin; q < stop;) {
    if (*q != '\\') {
      *o++ = *q++;
      continue;
    }
    q++;
    switch (*q++) {
    case '"': *o++ = '"'; break;
    case '\\': *o++ = '\\'; break;
    case '/': *o++ = '/'; break;
    case 'b': *o++ = '\b'; break;
    case 'f': *o++ = '\f'; break;
    case 'n': *o++ = '\n'; break;
    case 'r': *o++ = '\r'; break;
    case 't': *o++ = '\t'; break;
    case 'u': {
      unsigned cp, lo;
      if (stop - q < 4 || hex4(q, &cp)) return jerr(j, "bad \\u escape");
      q += 4;
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (stop - q < 6 || q[0] != '\\' || q[1] != 'u' || hex4(q + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF)
          return jerr(j, "unpaired surrogate in \\u escape");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        q += 6;
      } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        return jerr(j, "unpaired surrogate in \\u escape");
      }
      o = put_utf8(o, cp);
      break;
    }
    default:
      return jerr(j, "bad escape");
    }
  }
  *s = j->out;
  *len = (size_t)(o - j->out);
  j->out = o;
  return 0;
}

static int number(json_t *j, const char **s, size_t *len) {
  const char *b = j->p;
  if (j->p < j->end && *j->p == '-') j->p++;
  if (j->p >= j->end || !(*j->p >= '0' && *j->p <= '9')) return jerr(j, "bad number");
  if (*j->p == '0') {
    j->p++;
  } else {
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
  }
  if (j->p < j->end && *j->p == '.') {
    j->p++;
    if (j->p >= j->end || !(*j->p >= '0' && *j->p <= '9')) return jerr(j, "bad number");
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
  }
  if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
    j->p++;
    if (j->p < j->end && (*j->p == '+' || *j->p == '-')) j->p++;
    if (j->p >= j->end || !(*j->p >= '0' && *j->p <= '9')) return jerr(j, "bad number");
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
  }
  *s = b;
  *len = (size_t)(j->p - b);
  return 0;
}

/* A number as number() reads it (the same checks, the same error
 * positions), with its value when the exact fast path applies: at most 19
 * digits making an integer w <= 2^53, at most 22 after the point, no
 * exponent part, so that w / 10^frac is one correctly rounded division,
 * what eddy_parse_decimal computes for such text. Returns 1 (*v set), 0
 * (the text in *s, *len: parse it) or an error. One pass instead of a
 * scan and a parse: numbers are most of a record's bytes. */
static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                       1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static inline int digit(char c) { return (unsigned char)(c - '0') < 10; }

/* Digits from p into *w (wrapping past 19 digits: the caller counts
 * them), four at a time while it can (a SWAR step, as core/parse.c). */
static inline const char *scan_digits(const char *p, const char *end, uint64_t *w) {
  uint64_t v = *w;
  while (end - p >= 4) {
    uint32_t x;
    memcpy(&x, p, 4);
    x -= 0x30303030u;
    if (((x + 0x76767676u) | x) & 0x80808080u) break; /* some byte is not a digit */
    x = (x * 10 + (x >> 8)) & 0x00ff00ffu;
    x = (x * 100 + (x >> 16)) & 0x0000ffffu;
    v = v * 10000 + x;
    p += 4;
  }
  for (; p < end && digit(*p); p++) v = v * 10 + (uint64_t)(*p - '0');
  *w = v;
  return p;
}

static int number_value(json_t *j, const char **s, size_t *len, double *v) {
  /* A local cursor: j->p lives in memory (j escapes to jerr), and a store
   * per digit was most of the cost. */
  const char *p = j->p, *end = j->end, *b = p;
  int neg = 0, nd = 0, frac = 0, simple = 1;
  uint64_t w = 0;
  if (p < end && *p == '-') {
    neg = 1;
    p++;
  }
  if (p >= end || !digit(*p)) goto bad;
  if (*p == '0') {
    p++;
  } else {
    const char *from = p;
    p = scan_digits(p, end, &w);
    nd = (int)(p - from < 100 ? p - from : 100);
  }
  if (p < end && *p == '.') {
    p++;
    if (p >= end || !digit(*p)) goto bad;
    const char *from = p;
    p = scan_digits(p, end, &w);
    frac = (int)(p - from < 100 ? p - from : 100);
    nd += frac;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    simple = 0;
    p++;
    if (p < end && (*p == '+' || *p == '-')) p++;
    if (p >= end || !digit(*p)) goto bad;
    while (p < end && digit(*p)) p++;
  }
  j->p = p;
  *s = b;
  *len = (size_t)(p - b);
  if (!simple || nd > 19 || frac > 22 || w > (1ull << 53)) return 0;
  double d = frac ? (double)w / pow10_exact[frac] : (double)w;
  *v = neg ? -d : d;
  return 1;
bad:
  j->p = p;
  return jerr(j, "bad number");
}

static int literal(json_t *j, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0) return jerr(j, "unexpected token");
  j->p += n;
  return 0;
}

/* string() for the usual string, printable ASCII without escapes, with
 * no call; anything else goes to string(). */
static inline int string_fast(json_t *j, const char **s, size_t *len) {
  const char *b = j->p + 1, *p = b;
  for (; p < j->end; p++) {
    unsigned char c = (unsigned char)*p;
    if (c == '"') {
      *s = b;
      *len = (size_t)(p - b);
      j->p = p + 1;
      return 0;
    }
    if (c == '\\' || c < 0x20 || c >= 0x80) break;
  }
  return string(j, s, len);
}

/* An object member's key and its ':' (the key's text is not needed). */
static int member_key(json_t *j) {
  const char *s;
  size_t len;
  char *saved = j->out;
  ws(j);
  if (j->p >= j->end || *j->p != '"') return jerr(j, "expected a key");
  int err = string(j, &s, &len);
  j->out = saved;
  if (err) return err;
  ws(j);
  if (j->p >= j->end || *j->p != ':') return jerr(j, "expected ':'");
  j->p++;
  return 0;
}

/* Skips any value (an unmapped field), iteratively with a depth bound. */
static int skip(json_t *j) {
  char stack[MAX_DEPTH];
  int depth = 0, err;
  char *saved = j->out;
  for (;;) {
    ws(j);
    if (j->p >= j->end) return jerr(j, "unexpected end");
    char c = *j->p;
    if (c == '{' || c == '[') {
      if (depth == MAX_DEPTH) return jerr(j, "nested deeper than 64 levels");
      stack[depth++] = c;
      j->p++;
      ws(j);
      if (j->p < j->end && *j->p == (c == '{' ? '}' : ']')) {
        j->p++;
        depth--;
      } else {
        if (c == '{' && (err = member_key(j))) return err;
        continue;
      }
    } else {
      const char *s;
      size_t len;
      err = c == '"' ? string(j, &s, &len)
            : c == 't' ? literal(j, "true")
            : c == 'f' ? literal(j, "false")
            : c == 'n' ? literal(j, "null")
                       : number(j, &s, &len);
      j->out = saved; /* a skipped string needs no scratch */
      if (err) return err;
    }
    /* After a value: the next element, or close containers. */
    for (;;) {
      if (depth == 0) return 0;
      ws(j);
      if (j->p >= j->end) return jerr(j, "unexpected end");
      char top = stack[depth - 1];
      if (*j->p == ',') {
        j->p++;
        if (top == '{' && (err = member_key(j))) return err;
        break;
      }
      if (*j->p != (top == '{' ? '}' : ']')) return jerr(j, "expected ',' or a closing bracket");
      j->p++;
      depth--;
    }
  }
}

/* Records of a stream mostly repeat their keys in the same order: the
 * field found for the key at each position is remembered, with the key's
 * text, so that a record like the last one costs one comparison per key
 * instead of a hash lookup. */
#define KEY_CACHE 64
#define KEY_CACHE_LEN 48

typedef struct {
  const eddy_field_t *f; /* NULL: a key no field maps */
  uint8_t len;           /* 0: empty slot */
  char key[KEY_CACHE_LEN];
} key_slot_t;

static int json_create(eddy_decoder_t *d, const char *const *columns, size_t n, char *errstr,
                       size_t errstr_size) {
  (void)columns;
  (void)n;
  d->impl = calloc(KEY_CACHE, sizeof(key_slot_t));
  return d->impl ? 0 : eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
}

static void json_destroy(eddy_decoder_t *d) {
  free(d->impl);
  d->impl = NULL;
}

/* Keys are short: a loop inlined beats a call to memcmp. */
static inline int same_key(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (a[i] != b[i]) return 0;
  return 1;
}

static const eddy_field_t *find_field(eddy_decoder_t *d, size_t pos, const char *k, size_t klen) {
  key_slot_t *c = d->impl && pos < KEY_CACHE ? (key_slot_t *)d->impl + pos : NULL;
  if (c && c->len == klen && klen && same_key(c->key, k, klen)) return c->f;
  const eddy_field_t *f = eddy_fields_find(d->fields, k, klen);
  if (c && klen && klen < KEY_CACHE_LEN) {
    c->f = f;
    c->len = (uint8_t)klen;
    memcpy(c->key, k, klen);
  }
  return f;
}

static int json_decode(eddy_decoder_t *d, eddy_schema_t *s, const void *p, size_t len,
                       eddy_record_t *r, char *errstr, size_t errstr_size) {
  json_t j = {p, (const char *)p + len, p, d->scratch, d->scratch + d->scratch_size, errstr, errstr_size};
  size_t pos = 0; /* the key's position, for the key cache */
  ws(&j);
  if (j.p >= j.end || *j.p != '{') return jerr(&j, "a record must be a JSON object");
  j.p++;
  ws(&j);
  if (j.p < j.end && *j.p == '}') {
    j.p++;
  } else {
    for (;;) {
      ws(&j);
      const char *k, *v = NULL;
      size_t klen, vlen = 0;
      if (j.p >= j.end || *j.p != '"') return jerr(&j, "expected a key");
      int err = string_fast(&j, &k, &klen);
      if (err) return err;
      ws(&j);
      if (j.p >= j.end || *j.p != ':') return jerr(&j, "expected ':'");
      j.p++;
      ws(&j);
      if (j.p >= j.end) return jerr(&j, "unexpected end");
      const eddy_field_t *f = find_field(d, pos++, k, klen);
      if (!f || f->kind == EDDY_FIELD_IGNORE) {
        if ((err = skip(&j))) return err;
      } else {
        int is_string = 0;
        char c = *j.p;
        if (c == '"') {
          err = string_fast(&j, &v, &vlen);
          is_string = 1;
        } else if (c == 't') {
          err = literal(&j, "true");
          v = "true";
          vlen = 4;
        } else if (c == 'f') {
          err = literal(&j, "false");
          v = "false";
          vlen = 5;
        } else if (c == 'n') {
          err = literal(&j, "null");
          v = NULL;
        } else if (c == '{' || c == '[') {
          return eddy_seterr(errstr, errstr_size, EDDY_ETYPE,
                             "field '%s': expected a number or a string, got an %s", f->name,
                             c == '{' ? "object" : "array");
        } else if (f->kind == EDDY_FIELD_ATTR && f->attr_kind == EDDY_NUMERIC) {
          double x = 0;
          err = number_value(&j, &v, &vlen, &x);
          if (err < 0) return err;
          if (err == 1) { /* what eddy_record_set does with a finite number */
            r->in.x[f->index] = x;
            r->in.missing[f->index] = 0;
            goto next;
          }
        } else {
          err = number(&j, &v, &vlen);
        }
        if (err) return err;
        if ((f->kind == EDDY_FIELD_KEY || f->kind == EDDY_FIELD_ID) && v &&
            (v < d->scratch || v >= d->scratch + d->scratch_size)) {
          /* Keys and ids must outlive the caller's buffer: copy them. */
          if ((size_t)(j.out_end - j.out) < vlen) return jerr(&j, "out of scratch");
          memcpy(j.out, v, vlen);
          v = j.out;
          j.out += vlen;
        }
        if ((err = eddy_record_set(r, d->fields, s, f, v, vlen, is_string, errstr, errstr_size)))
          return err;
      }
    next:
      ws(&j);
      if (j.p < j.end && *j.p == ',') {
        j.p++;
        continue;
      }
      if (j.p < j.end && *j.p == '}') {
        j.p++;
        break;
      }
      return jerr(&j, "expected ',' or '}'");
    }
  }
  ws(&j);
  if (j.p != j.end) return jerr(&j, "trailing bytes after the object");
  return 0;
}

int eddy_json_keys(const char *p, size_t len, char ***keys, char *errstr, size_t errstr_size) {
  char *scratch = malloc(len + 1);
  if (!scratch) return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  json_t j = {p, p + len, p, scratch, scratch + len + 1, errstr, errstr_size};
  int n = 0, err = 0;
  *keys = NULL;
  ws(&j);
  if (j.p >= j.end || *j.p != '{') err = jerr(&j, "a record must be a JSON object");
  else j.p++;
  ws(&j);
  if (!err && j.p < j.end && *j.p == '}') j.p = j.end;
  while (!err && j.p < j.end) {
    ws(&j);
    const char *k;
    size_t klen;
    if (j.p >= j.end || *j.p != '"') { err = jerr(&j, "expected a key"); break; }
    if ((err = string(&j, &k, &klen))) break;
    char **v = realloc(*keys, (size_t)(n + 1) * sizeof *v);
    if (!v || !(v[n] = eddy_strndup(k, klen))) {
      if (v) *keys = v;
      err = eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
      break;
    }
    *keys = v;
    n++;
    ws(&j);
    if (j.p >= j.end || *j.p != ':') { err = jerr(&j, "expected ':'"); break; }
    j.p++;
    if ((err = skip(&j))) break;
    ws(&j);
    if (j.p < j.end && *j.p == ',') { j.p++; continue; }
    if (j.p < j.end && *j.p == '}') break;
    err = jerr(&j, "expected ',' or '}'");
  }
  free(scratch);
  if (err) {
    for (int i = 0; i < n; i++) free((*keys)[i]);
    free(*keys);
    *keys = NULL;
    return err;
  }
  return n;
}

const eddy_codec_t eddy_codec_json = {"json", json_create, json_decode, json_destroy};

int eddy_json_members(const char *p, size_t len, eddy_json_member_fn fn, void *ctx, char *errstr,
                      size_t errstr_size) {
  char *scratch = malloc(len + 1);
  if (!scratch) return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  json_t j = {p, p + len, p, scratch, scratch + len + 1, errstr, errstr_size};
  int err = 0;
  ws(&j);
  if (j.p >= j.end || *j.p != '{') err = jerr(&j, "a record must be a JSON object");
  else j.p++;
  ws(&j);
  if (!err && j.p < j.end && *j.p == '}') j.p = j.end;
  while (!err && j.p < j.end) {
    ws(&j);
    const char *k, *v = NULL;
    size_t klen, vlen = 0;
    int is_string = 0;
    if (j.p >= j.end || *j.p != '"') { err = jerr(&j, "expected a key"); break; }
    if ((err = string(&j, &k, &klen))) break;
    ws(&j);
    if (j.p >= j.end || *j.p != ':') { err = jerr(&j, "expected ':'"); break; }
    j.p++;
    ws(&j);
    if (j.p < j.end && *j.p == '"') {
      is_string = 1;
      err = string(&j, &v, &vlen);
    } else if (j.p < j.end && (*j.p == '-' || (*j.p >= '0' && *j.p <= '9'))) {
      err = number(&j, &v, &vlen);
    } else if (j.p < j.end && (*j.p == 't' || *j.p == 'f' || *j.p == 'n')) {
      v = j.p;
      err = literal(&j, *j.p == 't' ? "true" : *j.p == 'f' ? "false" : "null");
      vlen = (size_t)(j.p - v);
    } else {
      err = skip(&j);
    }
    if (err) break;
    fn(ctx, k, klen, v, vlen, is_string);
    ws(&j);
    if (j.p < j.end && *j.p == ',') { j.p++; continue; }
    if (j.p < j.end && *j.p == '}') break;
    err = jerr(&j, "expected ',' or '}'");
  }
  free(scratch);
  return err;
}
