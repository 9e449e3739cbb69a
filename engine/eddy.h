/* eddy.h: the engine's core interface, shared by every folder: error codes,
 * logging, byte buffers, the PRNGs, schemas and instances, option tables
 * (the single definition of every config key) and checkpoints. */
#ifndef EDDY_H
#define EDDY_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define EDDY_VERSION "0.1.0"

#if defined(__GNUC__)
#define EDDY_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define EDDY_UNUSED __attribute__((unused))
#else
#define EDDY_PRINTF(f, a)
#define EDDY_UNUSED
#endif

/* ---------------------------------------------------------------- errors */

/* Functions return 0 or one of these negative codes. */
typedef enum eddy_err {
  EDDY_OK = 0,
  EDDY_EINVAL = -1,    /* invalid argument or value */
  EDDY_ENOMEM = -2,    /* out of memory */
  EDDY_ENOENT = -3,    /* no such name, key or field */
  EDDY_EIO = -4,       /* input/output error */
  EDDY_EPARSE = -5,    /* malformed input */
  EDDY_ECORRUPT = -6,  /* data does not verify (magic, CRC, truncation) */
  EDDY_EVERSION = -7,  /* unsupported format version */
  EDDY_ERANGE = -8,    /* value out of range or a bound was reached */
  EDDY_ENOSPC = -9,    /* caller's buffer too small */
  EDDY_ETYPE = -10,    /* value of the wrong type */
  EDDY_EAGAIN = -11,   /* not now, try again */
  EDDY_ETIMEDOUT = -12,
  EDDY_ESTATE = -13,   /* not valid in the current state */
  EDDY_EEOF = -14,     /* end of input */
  EDDY_ENOTSUP = -15,  /* not supported by this component */
  EDDY_EMISSING = -16  /* a required field is absent */
} eddy_err_t;

/* Static text for an error code; never NULL. */
const char *eddy_strerror(int err);

/* Formats into errstr (when not NULL) and returns err, for one-line error
 * returns: `return eddy_seterr(errstr, size, EDDY_EINVAL, "bad %s", k);` */
int eddy_seterr(char *errstr, size_t errstr_size, int err, const char *fmt, ...)
    EDDY_PRINTF(4, 5);

/* --------------------------------------------------------------- logging */

typedef enum { EDDY_LOG_DEBUG, EDDY_LOG_INFO, EDDY_LOG_WARN, EDDY_LOG_ERROR } eddy_log_level_t;

/* One line on stderr with a UTC timestamp and the level. */
void eddy_log(eddy_log_level_t level, const char *fmt, ...) EDDY_PRINTF(2, 3);
void eddy_log_set_level(eddy_log_level_t level);

/* ------------------------------------------------------------ byte buffer */

/* A growable byte buffer for serialization. Writes are sticky: after a
 * failed allocation every later write is a no-op and `err` stays set, so a
 * save function writes everything and checks once at the end. Numbers are
 * little-endian. The buffer owns `data`; eddy_buf_free releases it. */
typedef struct eddy_buf {
  uint8_t *data;
  size_t len;
  size_t cap;
  int err;
} eddy_buf_t;

void eddy_buf_init(eddy_buf_t *b);
void eddy_buf_free(eddy_buf_t *b);
void eddy_buf_clear(eddy_buf_t *b); /* len = 0, err = 0; keeps the memory */
int eddy_buf_reserve(eddy_buf_t *b, size_t extra);
void eddy_buf_put(eddy_buf_t *b, const void *p, size_t n);
void eddy_buf_put_u8(eddy_buf_t *b, uint8_t v);
void eddy_buf_put_u16(eddy_buf_t *b, uint16_t v);
void eddy_buf_put_u32(eddy_buf_t *b, uint32_t v);
void eddy_buf_put_u64(eddy_buf_t *b, uint64_t v);
void eddy_buf_put_i64(eddy_buf_t *b, int64_t v);
void eddy_buf_put_f64(eddy_buf_t *b, double v);
void eddy_buf_put_f64s(eddy_buf_t *b, const double *v, size_t n);
void eddy_buf_put_str(eddy_buf_t *b, const char *s); /* u32 length + bytes; NULL as "" */
void eddy_buf_put_mem(eddy_buf_t *b, const void *p, size_t n); /* u32 length + bytes */
/* Overwrites 4 bytes at pos (for lengths known only later). */
void eddy_buf_patch_u32(eddy_buf_t *b, size_t pos, uint32_t v);
/* printf into the buffer (text outputs); no NUL is counted in len. */
void eddy_buf_printf(eddy_buf_t *b, const char *fmt, ...) EDDY_PRINTF(2, 3);
void eddy_buf_vprintf(eddy_buf_t *b, const char *fmt, va_list ap);

/* Reads what eddy_buf_put_* wrote. Reads are sticky too: reading past the
 * end sets err = EDDY_ECORRUPT and yields zeros. The reader borrows p. */
typedef struct eddy_reader {
  const uint8_t *p;
  size_t len;
  size_t pos;
  int err;
} eddy_reader_t;

void eddy_reader_init(eddy_reader_t *r, const void *p, size_t len);
uint8_t eddy_read_u8(eddy_reader_t *r);
uint16_t eddy_read_u16(eddy_reader_t *r);
uint32_t eddy_read_u32(eddy_reader_t *r);
uint64_t eddy_read_u64(eddy_reader_t *r);
int64_t eddy_read_i64(eddy_reader_t *r);
double eddy_read_f64(eddy_reader_t *r);
void eddy_read_f64s(eddy_reader_t *r, double *v, size_t n);
void eddy_read(eddy_reader_t *r, void *dst, size_t n);
/* A length-prefixed byte string; returns a pointer into the reader's memory
 * (not NUL-terminated) or NULL on error. */
const void *eddy_read_mem(eddy_reader_t *r, size_t *len);
/* Copies a length-prefixed string into dst (NUL-terminated); a string that
 * does not fit sets err = EDDY_ECORRUPT. */
void eddy_read_str(eddy_reader_t *r, char *dst, size_t size);
/* Like eddy_read_str but returns a malloc'd copy the caller frees. */
char *eddy_read_strdup(eddy_reader_t *r);
/* Reads a u64 element count and checks that count * elem_size bytes remain,
 * so that a corrupt count never drives a huge allocation. */
size_t eddy_read_count(eddy_reader_t *r, size_t elem_size);

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

/* ----------------------------------------------------------------- hashing */

uint64_t eddy_hash(const void *p, size_t len); /* XXH3-64 */
uint64_t eddy_hash_mix(uint64_t a, uint64_t b); /* combines two hashes */

/* ------------------------------------------------------------- dictionary */

/* Online dictionary encoding of nominal values: each new text gets the next
 * index, up to `bound` values; past the bound every new text maps to one
 * overflow bucket (index `bound`, named "__other__") when overflow is
 * allowed, or is refused with EDDY_ERANGE. Owned by its schema. */
typedef struct eddy_dict eddy_dict_t;

eddy_dict_t *eddy_dict_new(uint32_t bound, int allow_overflow);
void eddy_dict_free(eddy_dict_t *d);
/* The index of s (len bytes, hash = eddy_hash(s, len)), adding it if new.
 * Returns the index or EDDY_ERANGE / EDDY_ENOMEM. *added (may be NULL) is set
 * to 1 when a new index was created. Allocates only when a value is new. */
int64_t eddy_dict_intern(eddy_dict_t *d, const char *s, size_t len, uint64_t hash, int *added);
/* The index of s, or EDDY_ENOENT. Never adds. */
int64_t eddy_dict_find(const eddy_dict_t *d, const char *s, size_t len, uint64_t hash);
const char *eddy_dict_name(const eddy_dict_t *d, uint32_t index); /* NULL if out of range */
uint32_t eddy_dict_size(const eddy_dict_t *d); /* indices in use, overflow included */
uint32_t eddy_dict_bound(const eddy_dict_t *d);
int eddy_dict_allows_overflow(const eddy_dict_t *d); /* the allow_overflow given to eddy_dict_new */
size_t eddy_dict_memory(const eddy_dict_t *d);
void eddy_dict_save(const eddy_dict_t *d, eddy_buf_t *b);
eddy_dict_t *eddy_dict_load(eddy_reader_t *r);

/* ---------------------------------------------------------------- schema */

typedef enum { EDDY_NUMERIC = 0, EDDY_NOMINAL = 1 } eddy_attr_kind_t;

typedef enum { EDDY_CLASSIFICATION = 1, EDDY_REGRESSION = 2 } eddy_task_t;

typedef struct eddy_attr {
  char *name;
  eddy_attr_kind_t kind;
  eddy_dict_t *dict; /* nominal only */
} eddy_attr_t;

/* The attributes a learner sees and the target. Attributes are fixed once
 * learning starts; nominal dictionaries grow as values appear, so learners
 * must accept value and class indices beyond what they have seen so far
 * (they may allocate when one first appears, never per record otherwise).
 * A schema belongs to one model replica and outlives its learner. */
typedef struct eddy_schema {
  eddy_task_t task;
  size_t n_attrs;
  eddy_attr_t *attrs;
  eddy_attr_t target; /* nominal (classification) or numeric (regression) */
  uint32_t max_values;  /* dictionary bound for nominal attributes */
  uint32_t max_classes; /* dictionary bound for the target */
} eddy_schema_t;

#define EDDY_DEFAULT_MAX_VALUES 1024
#define EDDY_DEFAULT_MAX_CLASSES 256

/* The caller frees with eddy_schema_free. */
eddy_schema_t *eddy_schema_new(eddy_task_t task, const char *target, uint32_t max_values,
                               uint32_t max_classes, char *errstr, size_t errstr_size);
void eddy_schema_free(eddy_schema_t *s);
/* Appends an attribute; returns its index or a negative code (EDDY_EINVAL
 * for a duplicate name). */
int eddy_schema_add(eddy_schema_t *s, const char *name, eddy_attr_kind_t kind);
int eddy_schema_find(const eddy_schema_t *s, const char *name); /* index or EDDY_ENOENT */
eddy_schema_t *eddy_schema_clone(const eddy_schema_t *s); /* deep copy, dictionaries included */
static inline uint32_t eddy_schema_n_values(const eddy_schema_t *s, size_t attr) {
  return s->attrs[attr].kind == EDDY_NOMINAL ? eddy_dict_size(s->attrs[attr].dict) : 0;
}
static inline uint32_t eddy_schema_n_classes(const eddy_schema_t *s) {
  return s->task == EDDY_CLASSIFICATION ? eddy_dict_size(s->target.dict) : 0;
}
size_t eddy_schema_memory(const eddy_schema_t *s);
void eddy_schema_save(const eddy_schema_t *s, eddy_buf_t *b);
eddy_schema_t *eddy_schema_load(eddy_reader_t *r, char *errstr, size_t errstr_size);

/* -------------------------------------------------------------- instance */

/* One record as learners see it. x[i] holds a number, or for a nominal
 * attribute its dictionary index; h[i] holds eddy_hash of the nominal text
 * (for feature hashing, where the bound of the dictionary does not apply).
 * Arrays are allocated once by eddy_instance_init and reused. */
typedef struct eddy_instance {
  size_t n;
  double *x;
  uint64_t *h;
  uint8_t *missing;
  double y;      /* class index or target value, valid when has_y */
  int has_y;
  double weight; /* 1 unless the source says otherwise */
} eddy_instance_t;

int eddy_instance_init(eddy_instance_t *in, size_t n);
void eddy_instance_free(eddy_instance_t *in);
void eddy_instance_clear(eddy_instance_t *in); /* all missing, no label, weight 1 */
int eddy_instance_copy(eddy_instance_t *dst, const eddy_instance_t *src); /* same n */

/* ---------------------------------------------------------- option tables */

/* Every configurable component declares its keys in one table of these:
 * the parser, the validation and `eddy config --reference` all read it. A
 * field lives at `offset` in the component's parameter struct. */
typedef enum {
  EDDY_OPT_INT,    /* int64_t, range [min, max] */
  EDDY_OPT_DOUBLE, /* double, range [min, max] */
  EDDY_OPT_BOOL,   /* int: true/false, yes/no, on/off, 1/0 */
  EDDY_OPT_ENUM,   /* int: index into choices */
  EDDY_OPT_STRING, /* char[size], NUL-terminated */
  EDDY_OPT_TEXT    /* char *, malloc'd; released by eddy_options_free */
} eddy_opt_type_t;

typedef struct eddy_option {
  const char *name;
  eddy_opt_type_t type;
  size_t offset;
  size_t size; /* STRING: capacity */
  const char *def;
  double min, max;
  const char *const *choices; /* ENUM: NULL-terminated */
  const char *help;
} eddy_option_t;

#define EDDY_OPT_INT_(st, key, field, def, lo, hi, help) \
  { key, EDDY_OPT_INT, offsetof(st, field), 0, def, lo, hi, NULL, help }
#define EDDY_OPT_DOUBLE_(st, key, field, def, lo, hi, help) \
  { key, EDDY_OPT_DOUBLE, offsetof(st, field), 0, def, lo, hi, NULL, help }
#define EDDY_OPT_BOOL_(st, key, field, def, help) \
  { key, EDDY_OPT_BOOL, offsetof(st, field), 0, def, 0, 1, NULL, help }
#define EDDY_OPT_ENUM_(st, key, field, def, choices, help) \
  { key, EDDY_OPT_ENUM, offsetof(st, field), 0, def, 0, 0, choices, help }
#define EDDY_OPT_STRING_(st, key, field, def, help) \
  { key, EDDY_OPT_STRING, offsetof(st, field), sizeof(((st *)0)->field), def, 0, 0, NULL, help }
#define EDDY_OPT_TEXT_(st, key, field, def, help) \
  { key, EDDY_OPT_TEXT, offsetof(st, field), 0, def, 0, 0, NULL, help }
#define EDDY_OPT_END { NULL, 0, 0, 0, NULL, 0, 0, NULL, NULL }

/* A key = value pair as written in a config, with where it was written so
 * that whoever rejects it can name file:line:key. */
typedef struct eddy_kv {
  char *key;
  char *value;
  const char *file; /* borrowed; may be NULL */
  int line;         /* 0 when not from a file */
} eddy_kv_t;

/* A growable list of pairs; owns its strings (not `file`). */
typedef struct eddy_kvlist {
  eddy_kv_t *v;
  size_t n, cap;
} eddy_kvlist_t;

int eddy_kvlist_add(eddy_kvlist_t *l, const char *key, const char *value, const char *file,
                    int line);
/* Sets key: replaces the value of an existing pair, else appends. */
int eddy_kvlist_set(eddy_kvlist_t *l, const char *key, const char *value, const char *file,
                    int line);
const eddy_kv_t *eddy_kvlist_get(const eddy_kvlist_t *l, const char *key);
int eddy_kvlist_copy(eddy_kvlist_t *dst, const eddy_kv_t *src, size_t n);
void eddy_kvlist_free(eddy_kvlist_t *l);
void eddy_kvlist_save(const eddy_kv_t *v, size_t n, eddy_buf_t *b);
int eddy_kvlist_load(eddy_kvlist_t *l, eddy_reader_t *r);

/* Where a kv came from, as "file:line: " (or "" when unknown), in buf. */
const char *eddy_kv_where(const eddy_kv_t *kv, char *buf, size_t size);

const eddy_option_t *eddy_options_find(const eddy_option_t *table, const char *key);
/* Fills every field with its default. */
int eddy_options_defaults(const eddy_option_t *table, void *params);
/* Parses value into the field of opt. The error names the key and the
 * accepted values or range. */
int eddy_option_set(const eddy_option_t *opt, void *params, const char *value, char *errstr,
                    size_t errstr_size);
/* Applies pairs to params. An unknown key is EDDY_ENOENT, a bad value
 * EDDY_EINVAL; the error starts with file:line: and names the key. */
int eddy_options_apply(const eddy_option_t *table, void *params, const eddy_kv_t *kv, size_t n,
                       char *errstr, size_t errstr_size);
/* The same, except that keys starting with pass_prefix (when not NULL, e.g.
 * "base.") are left alone: the component reads them itself (an ensemble
 * passes them, prefix removed, to its members, which validate them). */
int eddy_options_apply_except(const eddy_option_t *table, void *params, const eddy_kv_t *kv,
                              size_t n, const char *pass_prefix, char *errstr,
                              size_t errstr_size);
/* Releases EDDY_OPT_TEXT fields. */
void eddy_options_free(const eddy_option_t *table, void *params);
/* Writes the table as Markdown rows: key, type, default, range, help. */
void eddy_options_reference(const eddy_option_t *table, const char *prefix, FILE *out);
/* Parses a whole number / a real in C locale; the whole string must match. */
int eddy_parse_int(const char *s, int64_t *out);
int eddy_parse_double(const char *s, double *out);
int eddy_parse_bool(const char *s, int *out);
/* The len bytes at p (no NUL needed) as strtod reads them in C locale, bit
 * for bit, when strtod would consume them all; else EDDY_EPARSE (or
 * EDDY_ENOMEM for a text over 255 bytes that needs strtod). Like strtod it
 * accepts leading blanks, hexadecimal, inf and nan and gives +-inf on
 * overflow: callers that want finite numbers check. Plain decimals of up
 * to 19 significant digits take ~10-20 ns, without strtod (engine/parse.c). */
int eddy_parse_decimal(const char *p, size_t len, double *out);

/* ------------------------------------------------------------- components */

/* What learners and detectors share: parameters parsed from an option table
 * and key = value pairs, zeroed state, and a copy of the pairs for
 * checkpoints. On success *params and *state are calloc'd (params filled)
 * and `copy` holds the pairs; on failure nothing is left allocated. */
int eddy_component_setup(const eddy_option_t *options, size_t params_size, size_t state_size,
                         const eddy_kv_t *kv, size_t n_kv, void **params, void **state,
                         eddy_kvlist_t *copy, char *errstr, size_t errstr_size);
/* The same with eddy_options_apply_except(pass_prefix): `copy` still holds
 * every pair, the passed ones included. */
int eddy_component_setup_except(const eddy_option_t *options, size_t params_size,
                                size_t state_size, const eddy_kv_t *kv, size_t n_kv,
                                const char *pass_prefix, void **params, void **state,
                                eddy_kvlist_t *copy, char *errstr, size_t errstr_size);
void eddy_component_teardown(const eddy_option_t *options, void **params, void **state,
                             eddy_kvlist_t *copy);
/* The header both write before their body: name, seed, pairs, RNG. */
void eddy_component_save_header(const char *name, uint64_t seed, const eddy_kvlist_t *kv,
                                const eddy_rng_t *rng, eddy_buf_t *b);
/* Reads the name, seed and pairs (the RNG follows; read it after creating
 * the component). */
int eddy_component_load_header(eddy_reader_t *r, char *name, size_t name_size, uint64_t *seed,
                               eddy_kvlist_t *kv);
/* "what 'name' is unknown (known: ...)" into errstr; returns EDDY_ENOENT. */
int eddy_unknown_name(char *errstr, size_t errstr_size, const char *what, const char *name,
                      const char *known);

/* ------------------------------------------------------------ checkpoints */

/* A checkpoint is binary and little-endian:
 *   "EDDY" | u16 format version | u16 flags | sections... | u32 CRC-32
 * where a section is u32 tag | u64 length | bytes. The CRC (zlib's) covers
 * everything before it. Readers skip sections they do not know, and verify
 * magic, version and CRC before reading any section. */
#define EDDY_CKPT_MAGIC "EDDY"
#define EDDY_CKPT_VERSION 1
#define EDDY_TAG(a, b, c, d) \
  ((uint32_t)(a) | ((uint32_t)(b) << 8) | ((uint32_t)(c) << 16) | ((uint32_t)(d) << 24))
#define EDDY_SECTION_SCHEMA EDDY_TAG('S', 'C', 'H', 'M')
#define EDDY_SECTION_LEARNER EDDY_TAG('L', 'R', 'N', 'R')
#define EDDY_SECTION_DETECTOR EDDY_TAG('D', 'T', 'C', 'T')
#define EDDY_SECTION_META EDDY_TAG('M', 'E', 'T', 'A')

void eddy_ckpt_begin(eddy_buf_t *b);
size_t eddy_ckpt_section_begin(eddy_buf_t *b, uint32_t tag); /* returns a mark */
void eddy_ckpt_section_end(eddy_buf_t *b, size_t mark);
int eddy_ckpt_finish(eddy_buf_t *b); /* appends the CRC; returns b->err */
/* Checks magic, version, section framing and CRC. */
int eddy_ckpt_verify(const void *p, size_t len, char *errstr, size_t errstr_size);
/* The nth (0-based) section with tag, or EDDY_ENOENT. Call after verify. */
int eddy_ckpt_section(const void *p, size_t len, uint32_t tag, int nth, eddy_reader_t *out);

uint32_t eddy_crc32(const void *p, size_t len);
/* Reads a section nested in another one's body at r's position: checks its
 * tag and points sub at its bytes; r moves past it. */
int eddy_read_section(eddy_reader_t *r, uint32_t tag, eddy_reader_t *sub);

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

/* ---------------------------------------------------------- configuration */

/* A config file holds one or more pipelines; each starts at a [pipeline]
 * section and owns the sections after it. Sections before the first
 * [pipeline] are defaults copied into every pipeline; [http] is for the
 * process. Every section's keys are defined by one option table below (or,
 * for [model] and [drift], by the chosen learner's or detector's table). */

typedef enum { EDDY_SOURCE_KAFKA, EDDY_SOURCE_FILE } eddy_source_type_t;
typedef enum { EDDY_FORMAT_JSON, EDDY_FORMAT_AVRO, EDDY_FORMAT_CSV } eddy_format_t;
typedef enum { EDDY_WIRE_AUTO, EDDY_WIRE_PLAIN, EDDY_WIRE_CONFLUENT } eddy_wire_t;
typedef enum { EDDY_ACTION_ALERT, EDDY_ACTION_RESET, EDDY_ACTION_RETRAIN, EDDY_ACTION_SWAP } eddy_action_t;
typedef enum { EDDY_AT_LEAST_ONCE, EDDY_EXACTLY_ONCE } eddy_guarantee_t;

typedef struct eddy_pipeline_section {
  char name[128];
  int task; /* EDDY_CLASSIFICATION or EDDY_REGRESSION */
  int64_t seed;
  int guarantee; /* eddy_guarantee_t */
  int64_t window; /* instances in the windowed metrics of each replica */
} eddy_pipeline_section_t;

typedef struct eddy_source_section {
  int type;   /* eddy_source_type_t */
  char *topics; /* comma-separated, or ^regex */
  char *path;
  int format; /* eddy_format_t */
  char *schema; /* .avsc path, for avro */
  int wire;     /* eddy_wire_t */
  int64_t schema_id;
  char *columns; /* csv over kafka: the column names */
  char *label_topic;
  int64_t max_record_bytes;
  int64_t batch_size;
  int64_t commit_interval_ms;
} eddy_source_section_t;

typedef struct eddy_features_section {
  char *numeric; /* empty: every field not named elsewhere */
  char *nominal;
  char *target;
  char *key;
  char *id;
  char *timestamp;
  char *weight;
  char *required; /* fields a record must carry (non-null) */
  int64_t max_values;
  int64_t max_classes;
} eddy_features_section_t;

typedef enum { EDDY_WINDOW_TUMBLING, EDDY_WINDOW_SLIDING } eddy_window_t;
typedef enum { EDDY_TIME_AUTO, EDDY_TIME_S, EDDY_TIME_MS } eddy_time_unit_t;

typedef struct eddy_state_section {
  char *store; /* memory | redis://host:port/db */
  char *aggregates;
  int64_t window_ms;
  int64_t max_entities;
  double checkpoint_interval; /* seconds */
  char *key_prefix;
  char *key; /* same as [features] key (either may be given) */
  int window;             /* eddy_window_t */
  int64_t window_buckets; /* sliding: buckets per window */
  int time_unit;          /* eddy_time_unit_t: of the timestamp and since_last fields */
} eddy_state_section_t;

typedef struct eddy_model_section {
  char learner[64];
  char fallback[64];      /* empty: no fallback learner */
  int64_t warmup;         /* the fallback answers until the model learned this many */
  double fallback_below;  /* ... and while the model's windowed accuracy is under this */
} eddy_model_section_t;

typedef struct eddy_drift_section {
  char detector[64]; /* empty: no concept-drift detector */
  int action;        /* eddy_action_t */
  int64_t retrain_window;
  int64_t retrain_epochs;
  char *data_detectors; /* psi, ks */
  char *data_features;  /* empty: every numeric and nominal feature */
} eddy_drift_section_t;

typedef struct eddy_sink_section {
  char *predictions;
  char *alerts;
  char *dead_letter;
  int format; /* eddy_format_t: json or avro */
  char *output_schema;
  int64_t output_schema_id; /* >= 0: Confluent wire format with this id */
  int64_t alerts_maxlen;
  int64_t max_in_flight; /* outputs awaiting delivery before consumption pauses */
  int aggregates;        /* predictions carry the joined aggregates */
  double anomaly_threshold; /* anomaly scores above it are alerts (1: none) */
} eddy_sink_section_t;

typedef struct eddy_pipeline_conf {
  const char *file; /* borrowed from eddy_config_t */
  int line;         /* of its [pipeline] header */
  eddy_pipeline_section_t pipeline;
  eddy_source_section_t source;
  eddy_kvlist_t kafka; /* passed to librdkafka as is */
  eddy_features_section_t features;
  eddy_state_section_t state;
  eddy_model_section_t model;
  eddy_kvlist_t model_params; /* [model] keys other than its own: the learner's */
  eddy_kvlist_t fallback_params; /* [model] fallback.KEY: the fallback's, prefix removed */
  eddy_drift_section_t drift;
  eddy_kvlist_t drift_params; /* the detector's keys, and psi.* / ks.* ones */
  eddy_kvlist_t values; /* [features] values.NAME = v1, v2: declared nominal values, in order */
  eddy_sink_section_t sink;
  int has_source; /* a [source] section was given */
  /* Every key set for this pipeline as "section.key" = value, with the file
   * and line it was written at: for errors found after parsing (see
   * eddy_conf_where). */
  eddy_kvlist_t where;
} eddy_pipeline_conf_t;

typedef struct eddy_http_section {
  char listen[128]; /* host:port; empty: no HTTP endpoint */
} eddy_http_section_t;

typedef struct eddy_config {
  char *file;
  eddy_pipeline_conf_t *pipelines;
  size_t n_pipelines;
  eddy_http_section_t http;
} eddy_config_t;

/* Reads and validates a config file: every key known, every value in
 * range, learner and detector names registered with valid parameters.
 * Errors read "FILE:LINE: [section] key 'KEY': what is wrong". Free with
 * eddy_config_free. */
eddy_config_t *eddy_config_load(const char *path, char *errstr, size_t errstr_size);
/* The same from text in memory; `name` stands for the file in errors. */
eddy_config_t *eddy_config_parse(const char *text, const char *name, char *errstr,
                                 size_t errstr_size);
void eddy_config_free(eddy_config_t *c);
/* 1 when two pipelines are configured alike: every section's values and
 * every [kafka], [model] and [drift] pair (where they were written does not
 * matter). A reload keeps a pipeline whose configuration is unchanged. */
int eddy_pipeline_conf_equal(const eddy_pipeline_conf_t *a, const eddy_pipeline_conf_t *b);
/* Where [section] key was set for pipeline c (file, line, value as
 * written), or NULL when it was left at its default. */
const eddy_kv_t *eddy_conf_where(const eddy_pipeline_conf_t *c, const char *section,
                                 const char *key);
/* The pipeline named name (NULL: the first), or NULL. */
const eddy_pipeline_conf_t *eddy_config_pipeline(const eddy_config_t *c, const char *name);
/* Writes configs/REFERENCE.md's text: every section's keys, then every
 * learner's and detector's. */
void eddy_config_reference(FILE *out);

/* ------------------------------------------------------------ aggregates */

/* Per-entity aggregates ([state] aggregates), joined into each record as
 * numeric features before its prediction and updated after it. A spec list
 * such as `count(amount), mean(amount), ewma(amount, 0.1), since_last(ts)`
 * becomes a fixed layout of doubles per entity (the state a store keeps)
 * and one output feature per aggregate, named:
 *
 *   count(F) F_count     records where F is present   (0 for a new entity)
 *   count(*) count       every record                 (0)
 *   sum(F)   F_sum       sum of F                     (0)
 *   mean(F)  F_mean      mean of F                    (missing when none)
 *   min(F)   F_min       smallest F                   (missing)
 *   max(F)   F_max       largest F                    (missing)
 *   ewma(F, A) F_ewma_A  A*x + (1-A)*previous, started at the first x, as
 *                        pandas' ewm(alpha=A, adjust=False)   (missing)
 *   last(F)  F_last      F of the entity's previous record    (missing)
 *   since_last(T) T_since_last  seconds between T of this record and of
 *                        the previous one with T      (missing)
 *   since_last()  since_last    the same on the record time
 *
 * (A is written in its shortest exact form: ewma(amount, 0.1) is
 * amount_ewma_0.1.) A join sees the state as it was BEFORE the record.
 *
 * Windows (window_ms > 0) apply to count, sum, mean, min and max; ewma,
 * last and since_last always cover the whole history. The record time
 * (eddy_aggs_time_ms: the [features] timestamp field, else the caller's
 * fallback, e.g. the Kafka message timestamp) picks a bucket of width
 * window_ms (tumbling) or window_ms / window_buckets (sliding); the
 * window is the record's bucket alone (tumbling: the state resets when a
 * record's window index changes) or it and the window_buckets - 1 before
 * it (sliding: between (B-1)/B and all of window_ms of history, kept as B
 * buckets per aggregate in a ring). Buckets follow the largest time seen
 * per entity: a late record counts in the entity's newest bucket. */
typedef enum {
  EDDY_AGG_COUNT,
  EDDY_AGG_SUM,
  EDDY_AGG_MEAN,
  EDDY_AGG_MIN,
  EDDY_AGG_MAX,
  EDDY_AGG_EWMA,
  EDDY_AGG_LAST,
  EDDY_AGG_SINCE_LAST
} eddy_agg_kind_t;

/* Where an aggregate's input lives in a decoded record (after bind). */
typedef enum {
  EDDY_AGG_SRC_UNBOUND = 0,
  EDDY_AGG_SRC_ALL,    /* count(*): every record */
  EDDY_AGG_SRC_ATTR,   /* in.x[index] unless in.missing[index] */
  EDDY_AGG_SRC_AUX,    /* aux[index] when aux_set[index] */
  EDDY_AGG_SRC_TIME,   /* the timestamp field (ts when has_ts) */
  EDDY_AGG_SRC_RTIME,  /* since_last(): the record time given to join/update */
  EDDY_AGG_SRC_TARGET, /* regression target (y when has_y) */
  EDDY_AGG_SRC_WEIGHT  /* instance weight */
} eddy_agg_src_t;

typedef struct eddy_agg {
  eddy_agg_kind_t kind;
  char *field;     /* input field; NULL for count(*) and since_last() */
  double alpha;    /* ewma */
  char *name;      /* output feature name */
  size_t slot;     /* first state slot */
  int windowed;    /* its slots repeat per bucket */
  int src;         /* eddy_agg_src_t, set by eddy_aggs_bind */
  int src_index;
  int attr;        /* attribute index of the output, -1 before bind */
} eddy_agg_t;

typedef struct eddy_aggs {
  eddy_agg_t *v;
  size_t n;
  size_t n_slots;     /* doubles in one entity's state: slot 0 is the newest bucket index */
  int64_t window_ms;  /* 0: no window */
  uint32_t buckets;   /* 1 (tumbling, or no window) or window_buckets (sliding) */
  double bucket_ms;   /* window_ms / buckets */
  int time_unit;      /* eddy_time_unit_t */
  char **inputs;      /* distinct input fields, for eddy_fields_new's aux */
  size_t n_inputs;
  uint64_t layout;    /* hash of the layout: states written under another are not read */
  double *fresh;      /* the state of an entity never seen */
  char *spec;         /* the normalised spec list */
} eddy_aggs_t;

struct eddy_record;
struct eddy_fields;

/* Parses c's [state] aggregates and window keys. A pipeline without
 * aggregates gets a valid empty list (n == 0). A bad spec fails with
 * "FILE:LINE: [state] key 'aggregates': ...". Free with eddy_aggs_free. */
eddy_aggs_t *eddy_aggs_new(const eddy_pipeline_conf_t *c, char *errstr, size_t errstr_size);
void eddy_aggs_free(eddy_aggs_t *a);
/* Resolves every input in the field map f (built with a->inputs as aux)
 * and appends one numeric attribute per aggregate to f
 * (eddy_fields_add_attr), before any schema is made from f. Fails naming
 * the field when an input is nominal, a key or an id, or when an output
 * name is already a field. */
int eddy_aggs_bind(eddy_aggs_t *a, struct eddy_fields *f, char *errstr, size_t errstr_size);
/* Writes a fresh state (a->fresh) into state. */
void eddy_aggs_reset(const eddy_aggs_t *a, double *state);
/* A time value of the timestamp or a since_last field in milliseconds. */
double eddy_aggs_to_ms(const eddy_aggs_t *a, double v);
/* The record time in ms: its timestamp field, else fallback_ms. */
double eddy_aggs_time_ms(const eddy_aggs_t *a, const struct eddy_record *r, double fallback_ms);
/* The n output values for record r at time t_ms from state (as it is
 * before r); NAN is a missing value. Never allocates. */
void eddy_aggs_eval(const eddy_aggs_t *a, const double *state, const struct eddy_record *r,
                    double t_ms, double *out);
/* eddy_aggs_eval into r's instance: the bound attributes, NAN as missing. */
void eddy_aggs_join(const eddy_aggs_t *a, const double *state, struct eddy_record *r, double t_ms);
/* Applies record r at t_ms to state. Never allocates. */
void eddy_aggs_update(const eddy_aggs_t *a, double *state, const struct eddy_record *r,
                      double t_ms);

/* ------------------------------------------------------------ evaluation */

/* Prequential metrics, cumulative and over a sliding window of the last W
 * labelled instances. Classification: accuracy, Cohen's kappa, log loss,
 * macro F1 (over the classes seen as truth or prediction, as scikit-learn
 * does), ROC AUC when there are exactly two classes (positive = index 1;
 * cumulative AUC from 10,000 score bins, windowed AUC exact). Regression:
 * MAE, RMSE, R^2. Unweighted. */
typedef struct eddy_evaluator eddy_evaluator_t;

typedef struct eddy_metrics {
  uint64_t n; /* labelled instances counted */
  double accuracy, kappa, log_loss, f1_macro, auc; /* auc is NAN unless binary */
  double mae, rmse, r2;
} eddy_metrics_t;

eddy_evaluator_t *eddy_evaluator_new(eddy_task_t task, size_t window);
void eddy_evaluator_free(eddy_evaluator_t *e);
/* One labelled prediction: pred is what predict wrote (k class scores, or
 * the value in pred[0]), y the true class index or value. Allocates only
 * when a new class appears. */
int eddy_evaluator_add(eddy_evaluator_t *e, const double *pred, size_t k, double y);
void eddy_evaluator_cumulative(const eddy_evaluator_t *e, eddy_metrics_t *m);
void eddy_evaluator_windowed(const eddy_evaluator_t *e, eddy_metrics_t *m);
/* The cumulative confusion matrix: k x k counts, row = true class, column
 * = predicted class, row-major with the given stride. */
const uint64_t *eddy_evaluator_confusion(const eddy_evaluator_t *e, size_t *k, size_t *stride);
void eddy_evaluator_reset(eddy_evaluator_t *e);

/* ---------------------------------------------------------------- alerts */

/* One warning, drift or data-drift event: what happened, where, and what
 * was done. Sinks (eval's output, the alerts topic, the Redis stream) all
 * carry this one type. Strings are borrowed for the call. */
typedef struct eddy_alert {
  const char *pipeline;
  int32_t partition;        /* -1 when not from Kafka */
  int64_t offset;           /* source offset, -1 when none */
  uint64_t index;           /* 0-based instance index within the model replica */
  const char *detector;     /* registry name */
  const char *kind;         /* "warning", "drift" or "data_drift" */
  double statistic;         /* the detector's statistic and its threshold */
  double threshold;
  const char *feature;      /* data drift: the feature; NULL otherwise */
  const char *action;       /* "alert", "reset", "retrain", "swap", or "none" for warnings */
  uint64_t version_before;  /* model versions before and after the action */
  uint64_t version_after;
  double time;              /* wall clock, seconds since the epoch */
} eddy_alert_t;

/* Appends the alert as one JSON object (no newline). */
void eddy_alert_json(const eddy_alert_t *a, eddy_buf_t *b);
/* Appends one readable line (no newline). */
void eddy_alert_text(const eddy_alert_t *a, eddy_buf_t *b);

typedef void (*eddy_alert_cb)(void *ctx, const eddy_alert_t *a);

/* --------------------------------------------------------------- replicas */

struct eddy_learner;
struct eddy_fields;

/* A model replica: the schema, learner, evaluator and drift handling of one
 * partition (or of an offline evaluation). Owns all of them. */
typedef struct eddy_replica {
  const eddy_pipeline_conf_t *conf; /* borrowed */
  eddy_schema_t *schema;
  struct eddy_learner *learner;
  eddy_evaluator_t *eval;
  uint64_t version;        /* model version: bumps at every reset, retrain or swap */
  uint64_t index;          /* instances seen (predicted) */
  uint64_t learned;        /* instances learned */
  int32_t partition;       /* -1 offline */
  int64_t offset;          /* offset of the current record, -1 offline */
  double *pred;            /* scratch: the last prediction */
  size_t pred_cap;
  int pred_k;              /* values in pred (classes, or 1); 0 for an anomaly detector */
  int unsupervised;        /* the learner is an anomaly detector (learns every record) */
  double score;            /* its anomaly score of the last record; NAN for other learners */
  eddy_alert_cb on_alert;  /* may be NULL */
  void *alert_ctx;
  void *drift;             /* drift detection and actions (replica_drift.c) */
  void *fallback;          /* [model] fallback (fallback.c); NULL when none */
  int served;              /* 1: the fallback answered the last prediction */
} eddy_replica_t;

/* A replica for pipeline c with a fresh schema from the field map. window
 * is the evaluator's window. Free with eddy_replica_free. */
eddy_replica_t *eddy_replica_new(const eddy_pipeline_conf_t *c, const struct eddy_fields *f,
                                 size_t window, char *errstr, size_t errstr_size);
void eddy_replica_free(eddy_replica_t *r);
/* Predicts in into r->pred; returns the number of values (classes or 1).
 * An anomaly detector's score goes to r->score instead (pred_k and the
 * result 0), and a score above [sink] anomaly_threshold is an alert of kind
 * "anomaly" (statistic: the score) through on_alert. */
int eddy_replica_predict(eddy_replica_t *r, const eddy_instance_t *in);
/* 1 when eddy_replica_learn has something to learn from in: a labelled
 * record, or any record for an anomaly detector. */
static inline int eddy_replica_learns(const eddy_replica_t *r, const eddy_instance_t *in) {
  return in->has_y || r->unsupervised;
}
/* For a labelled instance: evaluates the last prediction, learns, feeds the
 * drift detectors and acts on their signals (alerts through on_alert).
 * Call after eddy_replica_predict on the same instance. */
int eddy_replica_learn(eddy_replica_t *r, const eddy_instance_t *in);
/* The predicted label index (classification) or value (regression). */
double eddy_replica_predicted(const eddy_replica_t *r);
/* Who answered the last prediction, for the record's "served_by":
 * "fallback", a model_selection's candidate, "model" (with a fallback), or
 * NULL (the model, and nothing to say). */
const char *eddy_replica_served_by(const eddy_replica_t *r);
/* The replica as one checkpoint: schema, learner, counters and the drift
 * state (detectors, background model, retrain window). The bytes depend on
 * the model alone (no clock), so two runs over the same records give the
 * same bytes. */
int eddy_replica_save(const eddy_replica_t *r, eddy_buf_t *b);
/* Replaces r's model with a checkpoint's. Refused (r unchanged) when it does
 * not verify, or was made by another learner or drift set-up than r's
 * config now asks for. */
int eddy_replica_load(eddy_replica_t *r, const void *p, size_t len, char *errstr, size_t errstr_size);
/* Bytes used by the model: learner, schema and drift state. */
size_t eddy_replica_memory(const eddy_replica_t *r);

/* -------------------------------------------------------------- commands */

/* `eddy NAME ...`: each returns the process exit status (0 ok, 1 failure,
 * 2 usage). argv[0] is the command's name. */
typedef struct eddy_command {
  const char *name;
  int (*main)(int argc, char **argv);
  const char *usage;   /* one line: the arguments */
  const char *summary; /* one line: what it does */
} eddy_command_t;

#endif /* EDDY_H */
