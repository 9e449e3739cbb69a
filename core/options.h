/* core/options.h: option tables (the single definition of every config
 * key: type, default, range, help), key = value lists with where they were
 * written, and the set-up and checkpoint header learners and detectors share. */
#ifndef EDDY_CORE_OPTIONS_H
#define EDDY_CORE_OPTIONS_H

#include "core/rng.h"
#include "core/schema.h"

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
 * to 19 significant digits take ~10-20 ns, without strtod (core/parse.c). */
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

#endif /* EDDY_CORE_OPTIONS_H */
