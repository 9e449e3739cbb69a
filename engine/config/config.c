/* config.c: pipeline configuration files (INI, read with inih): one option
 * table per section, validation that names file:line:key, several pipelines
 * per file, and the generated key reference. */
#include <ctype.h>
#include <errno.h>
#include <arpa/inet.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detectors.h"
#include "connectors/connectors.h"
#include "engine/config/config.h"
#include "learners/learners.h"


/* ------------------------------------------------------------ parsing */

typedef struct parser {
  const char *file;
  const char *text;
  size_t pos, len;
  int line;             /* of the line last handed to inih */
  int line_indented;    /* that line starts with blanks: a continuation */
  int mid_line;         /* the last read stopped inside a line */
  int section_line;     /* line of the current section header */
  int section;          /* index into sections, -1 before any */
  int scope_line[EDDY_N_SECTIONS]; /* headers met in the current pipeline (or the defaults) */
  int http_line;        /* of the [http] header (one per file) */
  int run_line;         /* of the [run] header (one per file) */
  int listen_line;      /* of [http] listen */
  eddy_config_t *cfg;
  eddy_pipeline_conf_t defaults; /* sections before the first [pipeline] */
  int have_defaults;
  eddy_pipeline_conf_t *cur;     /* pipeline being filled, or &defaults */
  eddy_kvlist_t seen;            /* keys of the current section, for duplicates */
  const char *last_key;          /* for continuation lines */
  int err;
  char *errstr;
  size_t errstr_size;
} parser_t;

static int fail(parser_t *p, int line, const char *section, const char *key, const char *fmt,
                ...) EDDY_PRINTF(5, 6);

static int fail(parser_t *p, int line, const char *section, const char *key, const char *fmt,
                ...) {
  if (p->err) return 0;
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (key)
    eddy_seterr(p->errstr, p->errstr_size, EDDY_EINVAL, "%s:%d: [%s] key '%s': %s", p->file, line,
                section, key, msg);
  else
    eddy_seterr(p->errstr, p->errstr_size, EDDY_EINVAL, "%s:%d: %s", p->file, line, msg);
  p->err = EDDY_EINVAL;
  return 0; /* stops inih */
}

static int section_index(const char *name) {
  for (int i = 0; i < EDDY_N_SECTIONS; i++)
    if (strcmp(eddy_conf_sections[i].name, name) == 0) return i;
  return -1;
}

static void section_names(char *buf, size_t size) {
  size_t n = 0;
  for (int i = 0; i < EDDY_N_SECTIONS && n < size; i++)
    n += (size_t)snprintf(buf + n, size - n, "%s[%s]", i ? ", " : "", eddy_conf_sections[i].name);
}


static int conf_defaults(eddy_pipeline_conf_t *c, const char *file, int line) {
  memset(c, 0, sizeof *c);
  c->file = file;
  c->line = line;
  for (int i = 0; i < EDDY_N_SECTIONS; i++)
    if (eddy_conf_sections[i].options && !EDDY_SEC_PROCESS(i)) {
      int err = eddy_options_defaults(eddy_conf_sections[i].options, (char *)c + eddy_conf_sections[i].offset);
      if (err) return err;
    }
  return 0;
}

/* A new pipeline block: defaults, then a copy of the file-level sections. */
static int pipeline_begin(parser_t *p) {
  eddy_config_t *cfg = p->cfg;
  eddy_pipeline_conf_t *v = realloc(cfg->pipelines, (cfg->n_pipelines + 1) * sizeof *v);
  if (!v) return EDDY_ENOMEM;
  cfg->pipelines = v;
  eddy_pipeline_conf_t *c = &v[cfg->n_pipelines++];
  int err = conf_defaults(c, cfg->file, p->section_line);
  if (err) return err;
  p->cur = c;
  for (int i = 0; i < EDDY_N_SECTIONS; i++) p->scope_line[i] = 0;
  if (!p->have_defaults) return 0;
  memcpy(c->section_line, p->defaults.section_line, sizeof c->section_line);
  /* Re-apply the file-level pairs: simplest exact copy of TEXT fields. */
  eddy_pipeline_conf_t *d = &p->defaults;
  for (int i = 0; i < EDDY_N_SECTIONS; i++) {
    if (!eddy_conf_sections[i].options || EDDY_SEC_PROCESS(i) || i == EDDY_SEC_PIPELINE) continue;
    for (const eddy_option_t *o = eddy_conf_sections[i].options; o->name; o++) {
      const char *src = (const char *)d + eddy_conf_sections[i].offset + o->offset;
      char *dst = (char *)c + eddy_conf_sections[i].offset + o->offset;
      if (o->type == EDDY_OPT_TEXT) {
        const char *s = *(char *const *)(const void *)src;
        char **slot = (char **)(void *)dst;
        free(*slot);
        *slot = s ? strdup(s) : NULL;
        if (s && !*slot) return EDDY_ENOMEM;
      } else {
        size_t size = o->type == EDDY_OPT_INT     ? sizeof(int64_t)
                      : o->type == EDDY_OPT_DOUBLE ? sizeof(double)
                      : o->type == EDDY_OPT_STRING ? o->size
                                                   : sizeof(int);
        memcpy(dst, src, size);
      }
    }
  }
  c->has_source = d->has_source;
  if ((err = eddy_kvlist_copy(&c->kafka, d->kafka.v, d->kafka.n)) ||
      (err = eddy_kvlist_copy(&c->model_params, d->model_params.v, d->model_params.n)) ||
      (err = eddy_kvlist_copy(&c->fallback_params, d->fallback_params.v, d->fallback_params.n)) ||
      (err = eddy_kvlist_copy(&c->drift_params, d->drift_params.v, d->drift_params.n)) ||
      (err = eddy_kvlist_copy(&c->values, d->values.v, d->values.n)) ||
      (err = eddy_kvlist_copy(&c->where, d->where.v, d->where.n)))
    return err;
  return 0;
}

/* At a section header: [pipeline] starts a block; other sections before
 * the first one fill the file-level defaults. */
static int section_enter(parser_t *p, int si) {
  /* A section given twice in one pipeline (or twice among the defaults, or
   * [http] twice in the file) is refused: its second half would silently
   * override or extend the first. */
  int first = si == EDDY_SEC_HTTP ? p->http_line : si == EDDY_SEC_RUN ? p->run_line : si == EDDY_SEC_PIPELINE ? 0 : p->scope_line[si];
  if (first)
    return fail(p, p->line, eddy_conf_sections[si].name, NULL,
                "section [%s] given twice%s (first at line %d): write its keys in one section",
                eddy_conf_sections[si].name, EDDY_SEC_PROCESS(si) ? " in the file" : " in one pipeline", first),
           p->err;
  if (si == EDDY_SEC_HTTP) p->http_line = p->line;
  else if (si == EDDY_SEC_RUN) p->run_line = p->line;
  else if (si != EDDY_SEC_PIPELINE) p->scope_line[si] = p->line;
  p->section_line = p->line;
  p->section = si;
  eddy_kvlist_free(&p->seen);
  p->last_key = NULL;
  int err = 0;
  if (si == EDDY_SEC_PIPELINE) {
    err = pipeline_begin(p);
  } else if (!p->cur && !EDDY_SEC_PROCESS(si)) {
    if (!p->have_defaults && !(err = conf_defaults(&p->defaults, p->cfg->file, p->line)))
      p->have_defaults = 1;
    p->cur = &p->defaults;
  }
  if (err) return fail(p, p->line, eddy_conf_sections[si].name, NULL, "%s", eddy_strerror(err)), p->err;
  if (si == EDDY_SEC_SOURCE) p->cur->has_source = 1;
  if (p->cur && !EDDY_SEC_PROCESS(si)) p->cur->section_line[si] = p->line;
  return 0;
}

/* Appends a continuation line to a value: lists join with ", ". */
static char *join(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  int comma = la && a[la - 1] != ',' && b[0] != ',';
  char *s = malloc(la + lb + 3);
  if (!s) return NULL;
  memcpy(s, a, la);
  size_t n = la;
  if (comma) s[n++] = ',';
  if (la) s[n++] = ' ';
  memcpy(s + n, b, lb + 1);
  return s;
}

/* [http] listen: HOST:PORT with an IP address, :PORT or PORT (loopback:
 * 0.0.0.0:PORT is every interface), or empty (checked here so that
 * --check, run and a reload agree). */
static int check_listen(const char *listen, char *msg, size_t size) {
  if (!*listen) return 0;
  const char *colon = strrchr(listen, ':');
  char host[64];
  int64_t port;
  if (eddy_parse_int(colon ? colon + 1 : listen, &port) || port < 0 || port > 65535)
    return snprintf(msg, size, "'%s': expected HOST:PORT or PORT (e.g. 127.0.0.1:9100)", listen), EDDY_EINVAL;
  size_t n = colon ? (size_t)(colon - listen) : 0;
  if (n >= sizeof host) return snprintf(msg, size, "'%s': host too long", listen), EDDY_EINVAL;
  memcpy(host, listen, n);
  host[n] = '\0';
  unsigned char addr[16];
  if (n && inet_pton(AF_INET, host, addr) != 1 && inet_pton(AF_INET6, host, addr) != 1)
    return snprintf(msg, size, "'%s' is not an IP address (HOST:PORT, e.g. 127.0.0.1:9100)", host),
           EDDY_EINVAL;
  return 0;
}

static int handler(void *user, const char *section, const char *key, const char *value) {
  parser_t *p = user;
  if (p->err) return 0;
  int line = p->line;
  int si = section_index(section);
  if (si < 0) {
    if (!section[0]) return fail(p, line, "", NULL, "key '%s' is outside any [section]", key);
    return 1; /* an unknown section is reported by the reader, at its header */
  }

  eddy_pipeline_conf_t *c = p->cur;

  /* A continuation line (indented) extends the previous key's value. */
  char *joined = NULL;
  const eddy_kv_t *prev = eddy_kvlist_get(&p->seen, key);
  if (prev) {
    if (!p->line_indented || !p->last_key || strcmp(p->last_key, key) != 0)
      return fail(p, line, section, key, "set twice (first at line %d)", prev->line);
    joined = join(prev->value, value);
    if (!joined) return fail(p, line, section, key, "out of memory");
    value = joined;
  }
  if (eddy_kvlist_set(&p->seen, key, value, p->file, prev ? prev->line : line)) {
    free(joined);
    return fail(p, line, section, key, "out of memory");
  }
  p->last_key = eddy_kvlist_get(&p->seen, key)->key;

  char msg[768];
  int rc = 1;
  if (si == EDDY_SEC_KAFKA) {
    if (eddy_kvlist_set(&c->kafka, key, value, p->file, line)) rc = fail(p, line, section, key, "out of memory");
  } else if (si == EDDY_SEC_HTTP) {
    const eddy_option_t *o = eddy_options_find(eddy_conf_sections[EDDY_SEC_HTTP].options, key);
    if (!o)
      rc = fail(p, line, section, key, "unknown key (known: listen, max_body_bytes, allow_learn, token_file)");
    else if (eddy_option_set(o, &p->cfg->http, value, msg, sizeof msg))
      rc = fail(p, line, section, key, "%s", strstr(msg, "': ") ? strstr(msg, "': ") + 3 : msg);
    else if (check_listen(p->cfg->http.listen, msg, sizeof msg))
      rc = fail(p, line, section, key, "%s", msg);
    else if (!strcmp(key, "token_file"))
      p->cfg->http.token_file_line = line;
    else if (!strcmp(key, "allow_learn"))
      p->cfg->http.allow_learn_line = line;
  } else if (si == EDDY_SEC_RUN) {
    const eddy_option_t *o = eddy_options_find(eddy_conf_sections[EDDY_SEC_RUN].options, key);
    if (!o)
      rc = fail(p, line, section, key, "unknown key (known: threads)");
    else if (eddy_option_set(o, &p->cfg->run, value, msg, sizeof msg))
      rc = fail(p, line, section, key, "%s", strstr(msg, "': ") ? strstr(msg, "': ") + 3 : msg);
  } else {
    const eddy_option_t *o = eddy_options_find(eddy_conf_sections[si].options, key);
    if (!o && si == EDDY_SEC_FEATURES && strncmp(key, "values.", 7) == 0 && key[7]) {
      /* values.NAME: NAME's values declared in order (as an ARFF header
       * does), checked against the attributes when the pipeline is. */
      if (eddy_kvlist_set(&c->values, key + 7, value, p->file, line)) rc = fail(p, line, section, key, "out of memory");
    } else if (!o && (si == EDDY_SEC_MODEL || si == EDDY_SEC_DRIFT)) {
      /* Not the section's own key: the learner's or detector's, checked
       * once the whole section is known. */
      eddy_kvlist_t *l = si == EDDY_SEC_MODEL ? &c->model_params : &c->drift_params;
      if (si == EDDY_SEC_MODEL && strncmp(key, "fallback.", 9) == 0 && key[9]) {
        l = &c->fallback_params;
        key += 9;
      }
      if (eddy_kvlist_set(l, key, value, p->file, line)) rc = fail(p, line, section, key, "out of memory");
    } else if (!o) {
      char known[1024];
      size_t n = 0;
      known[0] = '\0';
      for (const eddy_option_t *t = eddy_conf_sections[si].options; t->name && n < sizeof known; t++)
        n += (size_t)snprintf(known + n, sizeof known - n, "%s%s",
                              t == eddy_conf_sections[si].options ? "" : ", ", t->name);
      rc = fail(p, line, section, key, "unknown key (known: %s)", known);
    } else if (eddy_option_set(o, (char *)c + eddy_conf_sections[si].offset, value, msg, sizeof msg)) {
      const char *m = strstr(msg, "': ");
      rc = fail(p, line, section, key, "%s", m ? m + 3 : msg);
    }
  }
  if (rc && !EDDY_SEC_PROCESS(si)) {
    char full[256];
    snprintf(full, sizeof full, "%s.%s", section, key);
    if (eddy_kvlist_set(&c->where, full, value, p->file, prev ? prev->line : line))
      rc = fail(p, line, section, key, "out of memory");
  }
  free(joined);
  return rc;
}

/* Hands inih one whole line at a time so that line numbers are exact, and
 * checks section headers (inih does not report empty sections). */
static char *reader(char *str, int num, void *stream) {
  parser_t *p = stream;
  if (p->err || p->pos >= p->len || num < 2) return NULL;
  const char *s = p->text + p->pos;
  const char *nl = memchr(s, '\n', p->len - p->pos);
  size_t n = nl ? (size_t)(nl - s) + 1 : p->len - p->pos;
  /* inih grows its buffer and asks again for the rest of a long line. */
  int continued = p->mid_line;
  p->mid_line = n > (size_t)num - 1;
  if (p->mid_line) n = (size_t)num - 1;
  memcpy(str, s, n);
  str[n] = '\0';
  p->pos += n;
  if (continued) return str;
  p->line++;
  p->line_indented = n > 0 && (s[0] == ' ' || s[0] == '\t');
  const char *t = s;
  while (t < s + n && isspace((unsigned char)*t)) t++;
  if (t < s + n && *t == '[') {
    const char *end = memchr(t, ']', (size_t)(s + n - t));
    if (end) {
      char name[64];
      const char *a = t + 1;
      while (a < end && isspace((unsigned char)*a)) a++;
      const char *b = end;
      while (b > a && isspace((unsigned char)b[-1])) b--;
      size_t len = (size_t)(b - a) < sizeof name - 1 ? (size_t)(b - a) : sizeof name - 1;
      memcpy(name, a, len);
      name[len] = '\0';
      if (section_index(name) < 0) {
        char known[256];
        section_names(known, sizeof known);
        fail(p, p->line, name, NULL, "unknown section [%s] (known: %s)", name, known);
        return NULL;
      }
      if (section_enter(p, section_index(name))) return NULL;
    }
  }
  return str;
}

/* ---------------------------------------------------------- validation */

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* values.NAME: no value twice and no more than the bound (found by
 * fuzz_config: the schema refused them only when a replica was made,
 * after the config had been accepted). */
static int check_declared(parser_t *p, const eddy_kv_t *kv, int64_t bound, const char *bound_key) {
  size_t cap = 1;
  for (const char *t = kv->value; *t; t++) cap += *t == ',';
  char *copy = strdup(kv->value), **items = malloc(cap * sizeof *items);
  int err = !copy || !items ? EDDY_ENOMEM : 0;
  size_t n = err ? 0 : eddy_split_list(copy, items, cap);
  if (!err && (int64_t)n > bound)
    err = eddy_seterr(p->errstr, p->errstr_size, EDDY_EINVAL,
                      "%s:%d: [features] key 'values.%s': %zu values, more than %s = %lld", p->file,
                      kv->line, kv->key, n, bound_key, (long long)bound);
  if (!err) qsort(items, n, sizeof *items, cmp_str);
  for (size_t i = 1; i < n && !err; i++)
    if (strcmp(items[i - 1], items[i]) == 0)
      err = eddy_seterr(p->errstr, p->errstr_size, EDDY_EINVAL,
                        "%s:%d: [features] key 'values.%s': '%s' is listed twice", p->file, kv->line,
                        kv->key, items[i]);
  if (err == EDDY_ENOMEM) eddy_seterr(p->errstr, p->errstr_size, err, "out of memory");
  free(copy);
  free(items);
  return err ? (p->err = err) : 0;
}

/* Where an error about [section] key belongs: the key's line when it was
 * written, else its section's header, else the [pipeline] header. */
static int line_of(const eddy_pipeline_conf_t *c, int si, const char *key) {
  const eddy_kv_t *w = key ? eddy_conf_where(c, eddy_conf_sections[si].name, key) : NULL;
  if (w) return w->line;
  return c->section_line[si] ? c->section_line[si] : c->line;
}

/* What a Kafka source needs to be consumed at all (run would refuse it at
 * start otherwise, after --check had said ok). */
static int check_kafka(parser_t *p, const eddy_pipeline_conf_t *c) {
  const eddy_kv_t *b = eddy_kvlist_get(&c->kafka, "bootstrap.servers");
  if (b && b->value[strspn(b->value, " \t,")] == '\0')
    return fail(p, b->line, "kafka", "bootstrap.servers",
                "empty: give HOST:PORT[, HOST:PORT...] (left out, it is 127.0.0.1:9092)"), p->err;
  if (!c->has_source || c->source.type != EDDY_SOURCE_KAFKA) return 0;
  const eddy_features_section_t *fs = &c->features;
  if (!c->source.topics || !*c->source.topics)
    return fail(p, line_of(c, EDDY_SEC_SOURCE, "type"), "source", "topics", "required for type = kafka"), p->err;
  if (c->source.format == EDDY_FORMAT_CSV && (!c->source.columns || !*c->source.columns))
    return fail(p, line_of(c, EDDY_SEC_SOURCE, "format"), "source", "columns",
                "required for format = csv from Kafka (the column names, in order)"), p->err;
  if (c->source.format == EDDY_FORMAT_JSON && (!fs->numeric || !*fs->numeric) && (!fs->nominal || !*fs->nominal))
    return fail(p, c->section_line[EDDY_SEC_FEATURES] ? c->section_line[EDDY_SEC_FEATURES]
                                                       : line_of(c, EDDY_SEC_SOURCE, "format"),
                "features", "numeric", "JSON records from Kafka need their attributes listed (numeric, nominal)"),
           p->err;
  return 0;
}

/* [model] fallback: a learner of the task that is not an anomaly
 * detector, its fallback.* keys valid; its other keys need it. */
static int check_fallback(parser_t *p, eddy_pipeline_conf_t *c, const eddy_learner_type_t *main) {
  char msg[1024];
  if (!c->model.fallback[0]) {
    const char *keys[] = {"warmup", "fallback_below"};
    for (size_t i = 0; i < 2; i++) {
      const eddy_kv_t *w = eddy_conf_where(c, "model", keys[i]);
      if (w)
        return eddy_seterr(p->errstr, p->errstr_size, EDDY_EINVAL, "%s:%d: [model] key '%s': needs a fallback learner (fallback = ...)",
                           p->file, w->line, keys[i]), p->err = EDDY_EINVAL;
    }
    if (c->fallback_params.n)
      return eddy_seterr(p->errstr, p->errstr_size, EDDY_EINVAL, "%s:%d: [model] key 'fallback.%s': no fallback learner is set",
                         p->file, c->fallback_params.v[0].line, c->fallback_params.v[0].key), p->err = EDDY_EINVAL;
    return 0;
  }
  const eddy_learner_type_t *ft = eddy_learner_type_find(c->model.fallback);
  if ((main && main->unsupervised) || (ft && ft->unsupervised))
    return fail(p, c->line, "model", "fallback", "an anomaly detector has no fallback and is none"), p->err;
  eddy_schema_t *s = eddy_schema_new(c->pipeline.task, "target", 0, 0, msg, sizeof msg);
  if (!s) return fail(p, c->line, "model", "fallback", "%s", msg), p->err;
  eddy_learner_t *l = eddy_learner_new(c->model.fallback, s, c->fallback_params.v, c->fallback_params.n, 1,
                                       msg, sizeof msg);
  eddy_learner_free(l);
  eddy_schema_free(s);
  if (l) return 0;
  if (strncmp(msg, p->file, strlen(p->file)) == 0) {
    eddy_seterr(p->errstr, p->errstr_size, EDDY_EINVAL, "%s (in [model] fallback.*, learner '%s')", msg,
                c->model.fallback);
    return p->err = EDDY_EINVAL;
  }
  return fail(p, c->line, "model", "fallback", "%s", msg), p->err;
}

static int check_pipeline(parser_t *p, eddy_pipeline_conf_t *c) {
  char msg[1024];
  /* [state] key and [features] key name the same field. */
  if (c->state.key && *c->state.key) {
    if (c->features.key && *c->features.key && strcmp(c->features.key, c->state.key) != 0)
      return fail(p, line_of(c, EDDY_SEC_STATE, "key"), "state", "key", "'%s' differs from [features] key '%s'", c->state.key,
                  c->features.key), p->err;
    free(c->features.key);
    if (!(c->features.key = strdup(c->state.key))) return fail(p, line_of(c, EDDY_SEC_STATE, "key"), "state", "key", "out of memory"), p->err;
  }
  /* One state for the whole stream has no entity key to read. */
  if (c->state.scope == EDDY_SCOPE_STREAM && c->features.key && *c->features.key)
    return fail(p, line_of(c, EDDY_SEC_STATE, "scope"), "state", "scope",
                "stream keeps one state for the whole stream: drop the entity key '%s' (or use scope = entity)",
                c->features.key), p->err;
  if (!c->pipeline.name[0])
    return fail(p, c->line, "pipeline", "name", "required (it names the group id, keys and metrics)"), p->err;
  for (const char *s = c->pipeline.name; *s; s++)
    if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
      return fail(p, c->line, "pipeline", "name", "'%s': use letters, digits, '-', '_' or '.'",
                  c->pipeline.name), p->err;
  const eddy_learner_type_t *lt = eddy_learner_type_find(c->model.learner);
  if ((!c->features.target || !*c->features.target) && !(lt && lt->unsupervised))
    return fail(p, line_of(c, EDDY_SEC_FEATURES, NULL), "features", "target",
                "required: the label field (optional only for an anomaly detector)"), p->err;
  if (c->has_source && c->source.type == EDDY_SOURCE_FILE && (!c->source.path || !*c->source.path))
    return fail(p, line_of(c, EDDY_SEC_SOURCE, "type"), "source", "path", "required when type = file"), p->err;
  if (c->has_source && c->source.format == EDDY_FORMAT_AVRO && (!c->source.schema || !*c->source.schema))
    return fail(p, line_of(c, EDDY_SEC_SOURCE, "format"), "source", "schema", "required when format = avro"), p->err;
  if (c->has_source && c->source.label_topic && *c->source.label_topic &&
      c->source.label_format == EDDY_FORMAT_AVRO + 1 && c->source.format != EDDY_FORMAT_AVRO &&
      (!c->source.label_schema || !*c->source.label_schema))
    return fail(p, line_of(c, EDDY_SEC_SOURCE, "label_format"), "source", "label_schema",
                "required when label_format = avro and the input is not Avro (the label records' .avsc)"), p->err;
  if (check_kafka(p, c)) return p->err;
  if (eddy_fields_check(c, msg, sizeof msg)) {
    eddy_seterr(p->errstr, p->errstr_size, EDDY_EINVAL, "%s", msg);
    return p->err = EDDY_EINVAL;
  }

  /* Declared values belong to a nominal attribute or a class target. */
  for (size_t i = 0; i < c->values.n; i++) {
    const eddy_kv_t *kv = &c->values.v[i];
    char *copy = strdup(c->features.nominal ? c->features.nominal : ""), *items[4096];
    size_t n = copy ? eddy_split_list(copy, items, 4096) : 0;
    int ok = c->pipeline.task == EDDY_CLASSIFICATION && c->features.target &&
             strcmp(kv->key, c->features.target) == 0;
    for (size_t j = 0; j < n && !ok; j++) ok = strcmp(items[j], kv->key) == 0;
    free(copy);
    if (!ok)
      return eddy_seterr(p->errstr, p->errstr_size, EDDY_EINVAL,
                         "%s:%d: [features] key 'values.%s': '%s' is neither a nominal attribute nor the class",
                         p->file, kv->line, kv->key, kv->key), p->err = EDDY_EINVAL;
    int is_class = c->features.target && strcmp(kv->key, c->features.target) == 0;
    if (check_declared(p, kv, is_class ? c->features.max_classes : c->features.max_values,
                       is_class ? "max_classes" : "max_values"))
      return p->err;
  }

  /* The learner and its parameters: create one over an empty schema. */
  eddy_schema_t *s = eddy_schema_new(c->pipeline.task, "target", 0, 0, msg, sizeof msg);
  if (!s) return fail(p, line_of(c, EDDY_SEC_MODEL, "learner"), "model", "learner", "%s", msg), p->err;
  eddy_learner_t *l = eddy_learner_new(c->model.learner, s, c->model_params.v, c->model_params.n,
                                       1, msg, sizeof msg);
  eddy_learner_free(l);
  eddy_schema_free(s);
  if (!l) {
    /* Parameter errors already start with file:line:; name errors do not. */
    if (strncmp(msg, p->file, strlen(p->file)) == 0) {
      eddy_seterr(p->errstr, p->errstr_size, EDDY_EINVAL, "%s (in [model] of learner '%s')", msg,
                  c->model.learner);
      return p->err = EDDY_EINVAL;
    }
    return fail(p, line_of(c, EDDY_SEC_MODEL, "learner"), "model", "learner", "%s", msg), p->err;
  }

  if (check_fallback(p, c, lt)) return p->err;
  if (lt && lt->unsupervised && c->drift.detector[0])
    return fail(p, c->line, "drift", "detector", "watches a model's errors, and an anomaly detector makes none "
                "(data_detectors watch its inputs)"), p->err;

  /* Detector parameters: psi.* and ks.* go to the data detectors. */
  eddy_kvlist_t own = {0};
  int err = 0;
  for (size_t i = 0; i < c->drift_params.n && !err; i++) {
    const eddy_kv_t *kv = &c->drift_params.v[i];
    if (!strchr(kv->key, '.')) err = eddy_kvlist_add(&own, kv->key, kv->value, kv->file, kv->line);
  }
  if (!err && c->drift.detector[0]) {
    eddy_detector_t *d = eddy_detector_new(c->drift.detector, own.v, own.n, 1, msg, sizeof msg);
    if (!d) {
      if (strncmp(msg, p->file, strlen(p->file)) == 0)
        err = eddy_seterr(p->errstr, p->errstr_size, EDDY_EINVAL, "%s (in [drift] of detector '%s')",
                          msg, c->drift.detector);
      else
        err = (fail(p, line_of(c, EDDY_SEC_DRIFT, "detector"), "drift", "detector", "%s", msg), EDDY_EINVAL);
    }
    eddy_detector_free(d);
  } else if (!err && own.n) {
    err = eddy_seterr(p->errstr, p->errstr_size, EDDY_EINVAL,
                      "%s:%d: [drift] key '%s': unknown key (no detector is set; known: detector, "
                      "action, retrain_window, retrain_epochs, data_detectors, data_features)",
                      p->file, own.v[0].line, own.v[0].key);
  }
  eddy_kvlist_free(&own);
  if (err) return p->err = err;

  char *dd = c->drift.data_detectors ? strdup(c->drift.data_detectors) : NULL;
  char *items[16];
  size_t n = dd ? eddy_split_list(dd, items, 16) : 0;
  for (size_t i = 0; i < n && !err; i++) {
    eddy_kvlist_t kv = {0};
    size_t plen = strlen(items[i]);
    for (size_t j = 0; j < c->drift_params.n && !err; j++) {
      const eddy_kv_t *e = &c->drift_params.v[j];
      if (strncmp(e->key, items[i], plen) == 0 && e->key[plen] == '.')
        err = eddy_kvlist_add(&kv, e->key + plen + 1, e->value, e->file, e->line);
    }
    eddy_detector_t *d = err ? NULL : eddy_detector_new(items[i], kv.v, kv.n, 1, msg, sizeof msg);
    if (!d && !err) {
      if (strncmp(msg, p->file, strlen(p->file)) == 0)
        err = eddy_seterr(p->errstr, p->errstr_size, EDDY_EINVAL, "%s (in [drift] %s.*)", msg, items[i]);
      else
        err = (fail(p, line_of(c, EDDY_SEC_DRIFT, "data_detectors"), "drift", "data_detectors", "%s", msg), EDDY_EINVAL);
    } else if (d && d->type->kind != EDDY_DETECTOR_DATA) {
      err = (fail(p, line_of(c, EDDY_SEC_DRIFT, "data_detectors"), "drift", "data_detectors", "'%s' watches an error stream, not a feature",
                  items[i]), EDDY_EINVAL);
    }
    eddy_detector_free(d);
    eddy_kvlist_free(&kv);
  }
  /* A dotted key whose prefix is no data detector was never checked. */
  for (size_t j = 0; j < c->drift_params.n && !err; j++) {
    const eddy_kv_t *e = &c->drift_params.v[j];
    const char *dot = strchr(e->key, '.');
    if (!dot) continue;
    int found = 0;
    for (size_t i = 0; i < n; i++)
      if ((size_t)(dot - e->key) == strlen(items[i]) && strncmp(e->key, items[i], strlen(items[i])) == 0)
        found = 1;
    if (!found)
      err = eddy_seterr(p->errstr, p->errstr_size, EDDY_EINVAL,
                        "%s:%d: [drift] key '%s': '%.*s' is not in data_detectors", p->file, e->line,
                        e->key, (int)(dot - e->key), e->key);
  }
  free(dd);
  if (err) return p->err = err;

  /* The state's aggregate specs (their errors name file:line:key). */
  eddy_aggs_t *aggs = eddy_aggs_new(c, p->errstr, p->errstr_size);
  if (!aggs) return p->err = EDDY_EINVAL;
  eddy_aggs_free(aggs);
  return 0;
}

/* [http]: the token is read now (at start and at each reload), so that a
 * missing or unreadable token file refuses the config, not a request. */
static void check_http(parser_t *p) {
  eddy_http_section_t *h = &p->cfg->http;
  if (h->allow_learn && !h->token_file[0]) {
    fail(p, h->allow_learn_line, "http", "allow_learn", "needs [http] token_file (writes need a bearer token)");
    return;
  }
  if (!h->token_file[0]) return;
  FILE *f = fopen(h->token_file, "rb");
  if (!f) {
    fail(p, h->token_file_line, "http", "token_file", "cannot read '%s': %s", h->token_file, strerror(errno));
    return;
  }
  char buf[sizeof h->token + 2];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  int ioerr = ferror(f);
  fclose(f);
  buf[n] = '\0';
  char *s = buf, *e = buf + n;
  while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') s++;
  while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n')) *--e = '\0';
  if (ioerr || !*s || (size_t)(e - s) >= sizeof h->token || strpbrk(s, " \t\r\n"))
    fail(p, h->token_file_line, "http", "token_file", "'%s': %s", h->token_file,
         ioerr ? "cannot read" : !*s ? "is empty" : "expected one token of at most 255 characters");
  else
    memcpy(h->token, s, (size_t)(e - s) + 1);
}

eddy_config_t *eddy_config_parse(const char *text, const char *name, char *errstr,
                                 size_t errstr_size) {
  eddy_config_t *cfg = calloc(1, sizeof *cfg);
  if (!cfg || !(cfg->file = strdup(name ? name : "<config>"))) {
    free(cfg);
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    return NULL;
  }
  parser_t p = {.file = cfg->file, .text = text, .len = strlen(text), .section = -1,
                .cfg = cfg, .errstr = errstr, .errstr_size = errstr_size};
  eddy_options_defaults(eddy_conf_sections[EDDY_SEC_HTTP].options, &cfg->http);
  eddy_options_defaults(eddy_conf_sections[EDDY_SEC_RUN].options, &cfg->run);
  /* Debian's inih takes its limits at run time: allow long feature lists. */
  ini_use_stack = false;
  ini_allow_realloc = true;
  ini_max_line = 1 << 20;
  ini_allow_multiline = true;
  ini_allow_inline_comments = true;
  int rc = ini_parse_stream(reader, &p, handler, &p);
  if (rc > 0 && !p.err) fail(&p, rc, "", NULL, "syntax error (expected [section] or key = value)");
  if (rc < 0 && !p.err) {
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "%s: cannot parse: out of memory", cfg->file);
    p.err = EDDY_ENOMEM;
  }
  if (!p.err && cfg->n_pipelines == 0)
    fail(&p, p.line ? p.line : 1, "", NULL, "no [pipeline] section");
  for (size_t i = 0; i < cfg->n_pipelines && !p.err; i++) {
    check_pipeline(&p, &cfg->pipelines[i]);
    for (size_t j = 0; j < i && !p.err; j++)
      if (strcmp(cfg->pipelines[i].pipeline.name, cfg->pipelines[j].pipeline.name) == 0)
        fail(&p, cfg->pipelines[i].line, "pipeline", "name", "'%s' is already the name of the pipeline at line %d",
             cfg->pipelines[i].pipeline.name, cfg->pipelines[j].line);
  }
  if (!p.err) check_http(&p);
  eddy_kvlist_free(&p.seen);
  if (p.have_defaults) eddy_pipeline_conf_free(&p.defaults);
  if (p.err) {
    eddy_config_free(cfg);
    return NULL;
  }
  return cfg;
}

eddy_config_t *eddy_config_load(const char *path, char *errstr, size_t errstr_size) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    eddy_seterr(errstr, errstr_size, EDDY_EIO, "%s: %s", path, strerror(errno));
    return NULL;
  }
  eddy_buf_t b;
  eddy_buf_init(&b);
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) eddy_buf_put(&b, chunk, n);
  int ioerr = ferror(f);
  fclose(f);
  eddy_buf_put_u8(&b, 0);
  eddy_config_t *c = NULL;
  if (ioerr || b.err)
    eddy_seterr(errstr, errstr_size, EDDY_EIO, "%s: cannot read", path);
  else if (memchr(b.data, 0, b.len - 1))
    eddy_seterr(errstr, errstr_size, EDDY_EPARSE, "%s: not a text file (NUL byte)", path);
  else
    c = eddy_config_parse((const char *)b.data, path, errstr, errstr_size);
  eddy_buf_free(&b);
  return c;
}


/* ----------------------------------------------------------- reference */

static void table_header(FILE *out) {
  fprintf(out, "| key | type | default | range | description |\n|---|---|---|---|---|\n");
}

void eddy_config_reference(FILE *out) {
  fprintf(out,
          "# eddy configuration reference\n\n"
          "Generated by `eddy config --reference` from the option tables in the code; do not edit.\n\n"
          "A config file is INI: `[section]` headers and `key = value` lines, `;` or `#` comments. "
          "A file holds one or more pipelines: each starts at a `[pipeline]` section and owns the "
          "sections after it; sections before the first `[pipeline]` are defaults for every "
          "pipeline. A long value continues on indented lines (lists join with commas). An unknown "
          "section or key, or a bad value, is an error naming file:line:key. A section appears once "
          "per pipeline (and once among the defaults; [http] and [run] once per file): a repeated section is an "
          "error, as a repeated key is. `eddy config --check`, `eddy run`, `eddy eval` and a SIGHUP "
          "reload validate a file alike.\n\n");
  for (int i = 0; i < EDDY_N_SECTIONS; i++) {
    fprintf(out, "## [%s]\n\n%s\n\n", eddy_conf_sections[i].name, eddy_conf_sections[i].help);
    if (!eddy_conf_sections[i].options) continue;
    table_header(out);
    eddy_options_reference(eddy_conf_sections[i].options, NULL, out);
    fprintf(out, "\n");
  }
  fprintf(out, "## Learners (`[model] learner = NAME`; the keys go in [model])\n\n");
  for (const eddy_learner_type_t *const *t = eddy_learner_types; *t; t++) {
    fprintf(out, "### %s\n\n%s (%s%s%s).\n\n", (*t)->name, (*t)->description,
            (*t)->tasks & EDDY_CLASSIFICATION ? "classification" : "",
            (*t)->tasks == (EDDY_CLASSIFICATION | EDDY_REGRESSION) ? ", " : "",
            (*t)->tasks & EDDY_REGRESSION ? "regression" : "");
    if ((*t)->options && (*t)->options->name) {
      table_header(out);
      eddy_options_reference((*t)->options, NULL, out);
      fprintf(out, "\n");
    } else {
      fprintf(out, "No parameters.\n\n");
    }
  }
  fprintf(out, "## Detectors (`[drift] detector = NAME` or `data_detectors = NAME`)\n\n");
  for (const eddy_detector_type_t *const *t = eddy_detector_types; *t; t++) {
    fprintf(out, "### %s\n\n%s (%s).\n\n", (*t)->name, (*t)->description,
            (*t)->kind == EDDY_DETECTOR_DATA ? "data drift: keys go in [drift] as NAME.KEY"
                                             : "concept drift: keys go in [drift]");
    if ((*t)->options && (*t)->options->name) {
      table_header(out);
      eddy_options_reference((*t)->options, NULL, out);
      fprintf(out, "\n");
    } else {
      fprintf(out, "No parameters.\n\n");
    }
  }
}
