/* cmd_gen.c: `eddy gen NAME`: a synthetic stream (generators/) written as
 * CSV (a header, then one row per instance) or JSON lines, to stdout or a
 * file. Rows are formatted into one large buffer and written with fwrite;
 * nothing is allocated per row. The same seed and arguments give the same
 * bytes. */
#include <errno.h>
#include <ini.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/cli/cli.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
#include "connectors/connectors.h"
#include "generators/generators.h"

#define GEN_USAGE "NAME [--n N] [--seed S] [--format csv|jsonl] [--output FILE | --topic T --bootstrap HOST:PORT [--rate R] [--key FIELD] [--kafka-config FILE]] [--KEY VALUE ...]"

/* ------------------------------------------------------------------ help */

static void print_options(FILE *out, const eddy_option_t *table) {
  static const char *const types[] = {"integer", "real", "boolean", "choice", "string", "text"};
  for (const eddy_option_t *o = table; o && o->name; o++) {
    char flag[64];
    size_t i = 0;
    for (const char *c = o->name; *c && i < sizeof flag - 1; c++) flag[i++] = *c == '_' ? '-' : *c;
    flag[i] = '\0';
    char range[96] = "";
    if (o->type == EDDY_OPT_INT || o->type == EDDY_OPT_DOUBLE) {
      char lo[32], hi[32];
      eddy_fmt_double(lo, sizeof lo, o->min);
      eddy_fmt_double(hi, sizeof hi, o->max);
      snprintf(range, sizeof range, ", in [%s, %s]", lo, hi);
    }
    fprintf(out, "  --%-16s %s\n  %18s (%s, default %s%s)\n", flag, o->help, "", types[o->type],
            o->def && *o->def ? o->def : "none", range);
  }
}

static void usage_all(FILE *out) {
  fprintf(out, "usage: eddy gen %s\n\nSynthetic streams with concept drift.\n\n", GEN_USAGE);
  fprintf(out, "  --n N              instances to write (default 100000)\n"
               "  --seed S           seed of every random choice (default 1)\n"
               "  --format F         csv (a header, then rows) or jsonl (default csv)\n"
               "  --output FILE      write there instead of stdout\n"
               "  --topic T          produce each row as one record to Kafka topic T (format\n"
               "                     jsonl unless --format csv; CSV's header is not sent)\n"
               "  --bootstrap B      the brokers for --topic (default 127.0.0.1:9092)\n"
               "  --rate R           with --topic: at most R records a second (default 0: no limit)\n"
               "  --key FIELD        with --topic: each record's key is its FIELD value (default:\n"
               "                     its index 0, 1, ...: records spread over the partitions)\n"
               "  --kafka-config F   with --topic: librdkafka keys from F, KEY = VALUE lines (e.g.\n"
               "                     security.protocol, sasl.*, ssl.*); in a pipeline's config,\n"
               "                     those of its [kafka] section (bootstrap.servers there is\n"
               "                     used unless --bootstrap is given)\n\n"
               "generators (`eddy gen NAME --help` for their options):\n");
  for (const eddy_generator_type_t *const *t = eddy_generator_types; *t; t++)
    fprintf(out, "  %-12s %s\n", (*t)->name, (*t)->description);
  fprintf(out, "\nconcept drift (every generator), as MOA's ConceptDriftStream:\n");
  print_options(out, eddy_generator_drift_options);
}

static void usage_type(FILE *out, const eddy_generator_type_t *t) {
  fprintf(out, "usage: eddy gen %s [--n N] [--seed S] [--format csv|jsonl] [--output FILE] "
               "[--KEY VALUE ...]\n\n%s\n\noptions of %s:\n",
          t->name, t->description, t->name);
  print_options(out, t->options);
  fprintf(out, "\nconcept drift (drift_to sets '%s' after the drift):\n",
          t->concept_key ? t->concept_key : "nothing: not supported");
  print_options(out, eddy_generator_drift_options);
}

/* "--a, --b-c": the options a generator accepts, in CLI spelling. */
static void option_list(const eddy_generator_type_t *t, char *buf, size_t size) {
  size_t n = 0;
  buf[0] = '\0';
  const eddy_option_t *tables[2] = {t->options, eddy_generator_drift_options};
  for (int k = 0; k < 2; k++) {
    for (const eddy_option_t *o = tables[k]; o && o->name && n + 64 < size; o++) {
      n += (size_t)snprintf(buf + n, size - n, "%s--", n ? ", " : "");
      for (const char *c = o->name; *c; c++) buf[n++] = *c == '_' ? '-' : *c;
      buf[n] = '\0';
    }
  }
}

/* ---------------------------------------------------------------- writer */

typedef struct {
  FILE *f;
  char *buf;
  size_t len, cap, max_row;
  int err;
} writer_t;

static void w_flush(writer_t *w) {
  if (w->len && fwrite(w->buf, 1, w->len, w->f) != w->len) w->err = 1;
  w->len = 0;
}

static inline void w_put(writer_t *w, const char *s, size_t n) {
  memcpy(w->buf + w->len, s, n);
  w->len += n;
}

static inline void w_char(writer_t *w, char c) { w->buf[w->len++] = c; }

/* A JSON string literal of s, into dst (at least 6 * len + 3 bytes). */
static size_t json_quote(char *dst, const char *s) {
  size_t n = 0;
  dst[n++] = '"';
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    if (*c == '"' || *c == '\\') {
      dst[n++] = '\\';
      dst[n++] = (char)*c;
    } else if (*c < 0x20) {
      n += (size_t)sprintf(dst + n, "\\u%04x", *c);
    } else {
      dst[n++] = (char)*c;
    }
  }
  dst[n++] = '"';
  dst[n] = '\0';
  return n;
}

/* A nominal attribute's (or the target's) values as output text. */
typedef struct {
  char **text;
  size_t *len;
  uint32_t n;
} texts_t;

static int texts_make(texts_t *t, const eddy_dict_t *d, int json) {
  t->n = eddy_dict_size(d);
  t->text = calloc(t->n ? t->n : 1, sizeof *t->text);
  t->len = calloc(t->n ? t->n : 1, sizeof *t->len);
  if (!t->text || !t->len) return EDDY_ENOMEM;
  for (uint32_t v = 0; v < t->n; v++) {
    const char *name = eddy_dict_name(d, v);
    t->text[v] = malloc(6 * strlen(name) + 3);
    if (!t->text[v]) return EDDY_ENOMEM;
    if (json) {
      t->len[v] = json_quote(t->text[v], name);
    } else {
      strcpy(t->text[v], name);
      t->len[v] = strlen(name);
    }
  }
  return 0;
}

static void texts_free(texts_t *t) {
  for (uint32_t v = 0; t->text && v < t->n; v++) free(t->text[v]);
  free(t->text);
  free(t->len);
  memset(t, 0, sizeof *t);
}

/* ------------------------------------------------------------------ main */

/* The attribute index of field name (n_attrs for the target), or SIZE_MAX. */
static size_t key_index(const eddy_schema_t *s, const char *name) {
  for (size_t i = 0; i < s->n_attrs; i++)
    if (strcmp(s->attrs[i].name, name) == 0) return i;
  return strcmp(s->target.name, name) == 0 ? s->n_attrs : SIZE_MAX;
}

/* After the last record was delivered (or the wait gave up): one line
 * on stderr with the records each partition got. */
static void print_summary(eddy_kafka_writer_t *kw, const char *topic, const char *bootstrap,
                          const char *key_field, double t0) {
  eddy_kafka_writer_flush(kw, 60000);
  const uint64_t *per;
  size_t np = eddy_kafka_writer_partitions(kw, &per);
  fprintf(stderr, "eddy gen: %llu records to %s at %s in %.1f s, keyed by %s; by partition:",
          (unsigned long long)eddy_kafka_writer_delivered(kw), topic, bootstrap, eddy_now() - t0,
          key_field ? key_field : "record index");
  for (size_t p = 0; p < np; p++) fprintf(stderr, " %zu:%llu", p, (unsigned long long)per[p]);
  fprintf(stderr, "\n");
}

static int parse_count(const char *flag, const char *s, int64_t *out) {
  if (eddy_parse_int(s, out) || *out < 0) {
    fprintf(stderr, "eddy gen: %s: '%s' is not a whole number >= 0\n", flag, s);
    return -1;
  }
  return 0;
}

/* What the command line asked for. */
typedef struct gen_opts {
  const char *name, *output, *topic, *bootstrap, *key_field, *kafka_config;
  int bootstrap_given;
  int64_t n, seed;
  double rate;
  int json, help, format_given;
  eddy_kvlist_t kv; /* the generator's own --KEY VALUE pairs */
  eddy_kvlist_t kafka; /* librdkafka keys of --kafka-config */
} gen_opts_t;

/* One --key value (or --key=value) pair: the built-in ones, else a
 * generator option; dashes in the key become underscores. */
static int take_option(gen_opts_t *o, const char *key, const char *value) {
  if (strcmp(key, "n") == 0) return parse_count("--n", value, &o->n) ? 2 : 0;
  if (strcmp(key, "seed") == 0) return parse_count("--seed", value, &o->seed) ? 2 : 0;
  if (strcmp(key, "format") == 0) {
    o->format_given = 1;
    if (strcmp(value, "csv") == 0) o->json = 0;
    else if (strcmp(value, "jsonl") == 0 || strcmp(value, "json") == 0) o->json = 1;
    else {
      fprintf(stderr, "eddy gen: --format: '%s' is not csv or jsonl\n", value);
      return 2;
    }
    return 0;
  }
  if (strcmp(key, "output") == 0) o->output = value;
  else if (strcmp(key, "topic") == 0) o->topic = value;
  else if (strcmp(key, "bootstrap") == 0) o->bootstrap = value, o->bootstrap_given = 1;
  else if (strcmp(key, "kafka_config") == 0) o->kafka_config = value;
  else if (strcmp(key, "key") == 0) o->key_field = value;
  else if (strcmp(key, "rate") == 0) {
    if (eddy_parse_double(value, &o->rate) || o->rate < 0) {
      fprintf(stderr, "eddy gen: --rate: '%s' is not a number >= 0\n", value);
      return 2;
    }
  } else if (eddy_kvlist_set(&o->kv, key, value, NULL, 0)) {
    fprintf(stderr, "eddy gen: out of memory\n");
    return 1;
  }
  return 0;
}

/* Returns 0, or the exit status of a usage error. */
static int parse_args(gen_opts_t *o, int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      o->help = 1;
      continue;
    }
    if (strncmp(a, "--", 2) != 0) {
      if (o->name) {
        fprintf(stderr, "eddy gen: one generator only ('%s', then '%s')\n", o->name, a);
        return 2;
      }
      o->name = a;
      continue;
    }
    char key[128];
    const char *value;
    const char *eq = strchr(a + 2, '=');
    size_t klen = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
    if (klen == 0 || klen >= sizeof key) {
      fprintf(stderr, "eddy gen: bad option '%s'\n", a);
      return 2;
    }
    for (size_t k = 0; k < klen; k++) key[k] = a[2 + k] == '-' ? '_' : a[2 + k];
    key[klen] = '\0';
    if (eq) {
      value = eq + 1;
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      fprintf(stderr, "eddy gen: option '%s' needs a value\n", a);
      return 2;
    }
    int rc = take_option(o, key, value);
    if (rc) return rc;
  }
  return 0;
}

/* The generator named, its options known, the destinations coherent;
 * *rc is the exit status when NULL is returned (0 after --help). */
static const eddy_generator_type_t *check_args(gen_opts_t *o, int *rc) {
  const eddy_generator_type_t *type = o->name ? eddy_generator_type_find(o->name) : NULL;
  *rc = 2;
  if (o->help) {
    if (type) usage_type(stdout, type);
    else usage_all(stdout);
    *rc = 0;
    return NULL;
  }
  if (!o->name) {
    usage_all(stderr);
    return NULL;
  }
  if (!type) {
    char known[512];
    eddy_generator_type_names(known, sizeof known);
    fprintf(stderr, "eddy gen: unknown generator '%s' (known: %s)\n", o->name, known);
    return NULL;
  }
  for (size_t i = 0; i < o->kv.n; i++) {
    if (!eddy_options_find(type->options, o->kv.v[i].key) &&
        !eddy_options_find(eddy_generator_drift_options, o->kv.v[i].key)) {
      char list[1024];
      option_list(type, list, sizeof list);
      for (char *c = o->kv.v[i].key; *c; c++)
        if (*c == '_') *c = '-';
      fprintf(stderr, "eddy gen: unknown option '--%s' for generator '%s' (options: %s)\n", o->kv.v[i].key,
              type->name, list);
      return NULL;
    }
  }
  if (o->topic && o->output) {
    fprintf(stderr, "eddy gen: --topic and --output: one destination only\n");
    return NULL;
  }
  if (o->key_field && !o->topic) {
    fprintf(stderr, "eddy gen: --key is for --topic (records' keys)\n");
    return NULL;
  }
  if (o->topic && !o->format_given) o->json = 1;
  return type;
}

/* How a row is written: the nominal values' texts and, for JSON, each
 * field's `"name":` prefix, made once; the longest a row can be. */
typedef struct row_layout {
  size_t na;         /* attributes; index na is the target */
  texts_t *nominal;
  char **keys;       /* JSON: {"a": ,"b": ... */
  size_t *key_len;
  size_t max_row;
} row_layout_t;

static void layout_free(row_layout_t *L) {
  for (size_t i = 0; L->nominal && i <= L->na; i++) texts_free(&L->nominal[i]);
  for (size_t i = 0; L->keys && i <= L->na; i++) free(L->keys[i]);
  free(L->nominal);
  free(L->keys);
  free(L->key_len);
}

static int layout_init(row_layout_t *L, const eddy_schema_t *s, int json) {
  L->na = s->n_attrs;
  L->nominal = calloc(L->na + 1, sizeof *L->nominal);
  L->keys = calloc(L->na + 1, sizeof *L->keys);
  L->key_len = calloc(L->na + 1, sizeof *L->key_len);
  if (!L->nominal || !L->keys || !L->key_len) return EDDY_ENOMEM;
  /* A number takes at most 24 bytes (and its formatter is given 32). */
  L->max_row = 2;
  for (size_t i = 0; i <= L->na; i++) {
    const eddy_attr_t *at = i < L->na ? &s->attrs[i] : &s->target;
    size_t widest = 32;
    if (at->kind == EDDY_NOMINAL) {
      if (texts_make(&L->nominal[i], at->dict, json)) return EDDY_ENOMEM;
      for (uint32_t v = 0; v < L->nominal[i].n; v++)
        if (L->nominal[i].len[v] > widest) widest = L->nominal[i].len[v];
    }
    if (!(L->keys[i] = malloc(6 * strlen(at->name) + 5))) return EDDY_ENOMEM;
    L->keys[i][0] = i ? ',' : '{';
    L->key_len[i] = 1 + json_quote(L->keys[i] + 1, at->name);
    L->keys[i][L->key_len[i]++] = ':';
    L->max_row += widest + 1 + (json ? L->key_len[i] : 0);
  }
  return 0;
}

/* Appends one instance as a row (no newline); [*key_from, *key_to) is the
 * text of field key_at (SIZE_MAX: none). */
static void write_row(writer_t *w, const row_layout_t *L, const eddy_instance_t *in, int json, size_t key_at,
                      size_t *key_from, size_t *key_to) {
  for (size_t i = 0; i <= L->na; i++) {
    double v = i < L->na ? in->x[i] : in->y;
    if (json) w_put(w, L->keys[i], L->key_len[i]);
    else if (i) w_char(w, ',');
    if (i == key_at) *key_from = w->len;
    if (L->nominal[i].text) {
      uint32_t k = (uint32_t)v;
      w_put(w, L->nominal[i].text[k], L->nominal[i].len[k]);
    } else if (json && !isfinite(v)) {
      w_put(w, "null", 4);
    } else {
      w->len += (size_t)eddy_fmt_double(w->buf + w->len, 32, v);
    }
    if (i == key_at) *key_to = w->len;
  }
  if (json) w_char(w, '}');
}

static void pace(double t0, int64_t r, double rate) {
  if (rate <= 0) return;
  double wait = t0 + (double)r / rate - eddy_now();
  if (wait > 0.001) {
    struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
    nanosleep(&ts, NULL);
  }
}

/* Writes the stream: rows to w (a file) or records to kw (a topic). */
static int stream_rows(const gen_opts_t *o, eddy_generator_t *g, const row_layout_t *L, writer_t *w,
                       eddy_kafka_writer_t *kw, size_t key_at, double t0) {
  const eddy_schema_t *s = eddy_generator_schema(g);
  eddy_instance_t in;
  if (eddy_instance_init(&in, L->na)) return EDDY_ENOMEM;
  int rc = 0;
  if (!o->json && !kw) {
    for (size_t i = 0; i < L->na; i++) {
      w_put(w, s->attrs[i].name, strlen(s->attrs[i].name));
      w_char(w, ',');
    }
    w_put(w, s->target.name, strlen(s->target.name));
    w_char(w, '\n');
  }
  for (int64_t r = 0; r < o->n && !w->err && !rc; r++) {
    if (kw) {
      w->len = 0; /* one row, one record */
      pace(t0, r, o->rate);
    } else if (w->len + w->max_row > w->cap) {
      w_flush(w);
    }
    if ((rc = eddy_generator_next(g, &in))) {
      fprintf(stderr, "eddy gen: %s\n", eddy_strerror(rc));
      break;
    }
    size_t key_from = 0, key_to = 0;
    write_row(w, L, &in, o->json, key_at, &key_from, &key_to);
    if (!kw) {
      w_char(w, '\n');
      continue;
    }
    char index[24];
    const char *k = index;
    size_t klen;
    if (o->key_field) {
      k = w->buf + key_from;
      klen = key_to - key_from;
      if (klen >= 2 && k[0] == '"') k++, klen -= 2; /* a JSON string's text */
    } else {
      klen = (size_t)snprintf(index, sizeof index, "%" PRId64, r);
    }
    if ((rc = eddy_kafka_writer_put(kw, w->buf, w->len, k, klen)))
      fprintf(stderr, "eddy gen: cannot produce to %s\n", o->topic);
  }
  eddy_instance_free(&in);
  return rc;
}

/* --kafka-config: KEY = VALUE lines outside any section or in [kafka]. */
static int on_kafka_key(void *user, const char *section, const char *key, const char *value) {
  if (*section && strcmp(section, "kafka") != 0) return 1;
  return eddy_kvlist_set(user, key, value, NULL, 0) == 0;
}

/* Reads --kafka-config into o->kafka; its bootstrap.servers unless
 * --bootstrap was given. Returns 0 or an exit status, having said why. */
static int read_kafka_config(gen_opts_t *o) {
  if (!o->kafka_config) return 0;
  int line = ini_parse(o->kafka_config, on_kafka_key, &o->kafka);
  if (line) {
    if (line < 0) fprintf(stderr, "eddy gen: --kafka-config %s: cannot read it\n", o->kafka_config);
    else fprintf(stderr, "eddy gen: --kafka-config %s:%d: not a KEY = VALUE line\n", o->kafka_config, line);
    return 2;
  }
  const eddy_kv_t *bs = eddy_kvlist_get(&o->kafka, "bootstrap.servers");
  if (bs && !o->bootstrap_given) o->bootstrap = bs->value;
  return 0;
}

/* Where the rows go: a connected Kafka writer, or a file (stdout). */
static int open_destination(const gen_opts_t *o, writer_t *w, eddy_kafka_writer_t **kw) {
  char err[1024];
  if (!o->topic) {
    if ((w->f = o->output ? fopen(o->output, "wb") : stdout)) return 0;
    fprintf(stderr, "eddy gen: cannot write '%s': %s\n", o->output, strerror(errno));
    return EDDY_EIO;
  }
  if (!(*kw = eddy_kafka_writer_new(o->bootstrap, o->topic, &o->kafka, err, sizeof err))) {
    fprintf(stderr, "eddy gen: --bootstrap %s: %s\n", o->bootstrap, err);
    return EDDY_EINVAL;
  }
  /* An unreachable broker is said within seconds, not after the delivery
   * timeout amid librdkafka's retry lines. */
  if (eddy_kafka_writer_connect(*kw, 5000, err, sizeof err)) {
    fprintf(stderr, "eddy gen: cannot reach --bootstrap %s: %s\n", o->bootstrap, err);
    return EDDY_EIO;
  }
  return 0;
}

/* The stream, once the generator and its layout are made. */
static int generate(const gen_opts_t *o, eddy_generator_t *g, const row_layout_t *L, size_t key_at) {
  writer_t w = {0};
  eddy_kafka_writer_t *kw = NULL;
  char err[1024];
  int rc = 1;
  w.max_row = L->max_row;
  w.cap = L->max_row * 4 > (1u << 20) ? L->max_row * 4 : (1u << 20);
  if (!(w.buf = malloc(w.cap))) {
    fprintf(stderr, "eddy gen: out of memory\n");
  } else if (open_destination(o, &w, &kw) == 0) {
    double t0 = eddy_now();
    if (stream_rows(o, g, L, &w, kw, key_at, t0) == 0) {
      if (kw) {
        print_summary(kw, o->topic, o->bootstrap, o->key_field, t0);
        int e = eddy_kafka_writer_close(kw, 60000, err, sizeof err);
        kw = NULL;
        if (e) fprintf(stderr, "eddy gen: %s: %s\n", o->topic, err);
        else rc = 0;
      } else {
        w_flush(&w);
        if (fflush(w.f) || w.err) fprintf(stderr, "eddy gen: write failed\n");
        else rc = 0;
      }
    }
  }
  if (w.f && w.f != stdout && fclose(w.f) && rc == 0) {
    fprintf(stderr, "eddy gen: write failed\n");
    rc = 1;
  }
  if (kw) eddy_kafka_writer_close(kw, 1000, NULL, 0);
  free(w.buf);
  return rc;
}

int eddy_cmd_gen(int argc, char **argv) {
  gen_opts_t o = {.bootstrap = "127.0.0.1:9092", .n = 100000, .seed = 1};
  int rc = parse_args(&o, argc, argv);
  if (!rc) rc = read_kafka_config(&o);
  const eddy_generator_type_t *type = rc ? NULL : check_args(&o, &rc);
  if (!type) {
    eddy_kvlist_free(&o.kv);
    eddy_kvlist_free(&o.kafka);
    return rc;
  }
  char err[1024];
  eddy_generator_t *g = eddy_generator_new(o.name, o.kv.v, o.kv.n, (uint64_t)o.seed, err, sizeof err);
  if (!g) {
    fprintf(stderr, "eddy gen %s: %s\n", o.name, err);
    eddy_kvlist_free(&o.kv);
    eddy_kvlist_free(&o.kafka);
    return 2;
  }
  const eddy_schema_t *s = eddy_generator_schema(g);
  size_t na = s->n_attrs;
  size_t key_at = o.key_field ? key_index(s, o.key_field) : SIZE_MAX; /* na: the target */
  row_layout_t L = {0};
  rc = 1;
  if (o.key_field && key_at == SIZE_MAX) {
    fprintf(stderr, "eddy gen %s: --key: no field '%s' (fields:", o.name, o.key_field);
    for (size_t i = 0; i <= na; i++) fprintf(stderr, " %s", i < na ? s->attrs[i].name : s->target.name);
    fprintf(stderr, ")\n");
  } else if (layout_init(&L, s, o.json)) {
    fprintf(stderr, "eddy gen: out of memory\n");
  } else {
    rc = generate(&o, g, &L, key_at);
  }
  layout_free(&L);
  eddy_generator_free(g);
  eddy_kvlist_free(&o.kv);
  eddy_kvlist_free(&o.kafka);
  return rc;
}
