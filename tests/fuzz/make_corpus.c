/* make_corpus.c: writes the seeds that depend on what is built, so that
 * the fuzz corpus covers every learner and detector registered at build
 * time:
 *   OUT/checkpoint/  one model checkpoint per learner and task it supports,
 *                    trained on a few hundred seeded rows with a concept
 *                    change (input of fuzz_checkpoint: selector byte +
 *                    checkpoint);
 *   OUT/replica/     one replica checkpoint per learner and drift set-up
 *                    (no detector, then every concept detector, actions
 *                    and data detectors in turn), trained the same way
 *                    (input of fuzz_replica: two selector bytes +
 *                    checkpoint);
 *   OUT/avro/        records of tests/fuzz/fuzz.avsc written by avro-c,
 *                    plain and in the Confluent framing;
 *   OUT/config.dict  the section names, keys, choices and registry names
 *                    of `eddy config --reference`, as a libFuzzer
 *                    dictionary.
 * Usage: make_corpus OUT AVSC */
#include <avro.h>
#include <errno.h>
#include <sys/stat.h>

#define FUZZ_NO_MAIN
#include "fuzz_replica.c"

#define N_ROWS 300

static const char *out_dir;
static eddy_buf_t a_scratch; /* a replica's checkpoint */

static void write_file(const char *sub, const char *name, const void *p, size_t n) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", out_dir, sub);
  if (mkdir(path, 0777) && errno != EEXIST) {
    perror(path);
    exit(1);
  }
  snprintf(path, sizeof path, "%s/%s/%s", out_dir, sub, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
    perror(path);
    exit(1);
  }
}

/* One row of a stream with a concept change halfway: a and b numeric, c
 * nominal (v0..v4), y from a rule over them (classes c0..c2, or a number). */
static void row(fuzz_rng_t *g, eddy_schema_t *s, size_t i, eddy_instance_t *in) {
  char text[16];
  eddy_instance_clear(in);
  double a = fuzz_uniform(g) * 10, b = fuzz_uniform(g) * 4 - 2;
  unsigned c = (unsigned)(fuzz_next(g) % 5);
  int flip = i >= N_ROWS / 2;
  in->x[0] = a;
  in->x[1] = b;
  in->missing[0] = in->missing[1] = 0;
  if (fuzz_next(g) % 10) { /* c is missing one time in ten */
    int n = snprintf(text, sizeof text, "v%u", c);
    uint64_t h = eddy_hash(text, (size_t)n);
    in->x[2] = (double)eddy_dict_intern(s->attrs[2].dict, text, (size_t)n, h, NULL);
    in->h[2] = h;
    in->missing[2] = 0;
  }
  if (s->task == EDDY_REGRESSION) {
    in->y = (flip ? -2 : 2) * a + b + c;
  } else {
    unsigned k = a + (c == 1 ? 3 : 0) < 4 ? 0 : a < 8 ? 1 : 2;
    if (flip) k = (k + 1) % 3;
    int n = snprintf(text, sizeof text, "c%u", k);
    in->y = (double)eddy_dict_intern(s->target.dict, text, (size_t)n, eddy_hash(text, (size_t)n), NULL);
  }
  in->has_y = 1;
}

/* A replica of pipeline (b0, b1) trained on the stream. */
static eddy_replica_t *trained(uint8_t b0, uint8_t b1) {
  pipe_t *p = fuzz_replica_pipe(b0, b1);
  eddy_replica_t *r = new_replica(p);
  FUZZ_CHECK(r->schema->n_attrs == 3, "the fuzz pipeline has a, b, c");
  eddy_instance_t in;
  FUZZ_CHECK(eddy_instance_init(&in, 3) == 0, "out of memory");
  fuzz_rng_t g = {(uint64_t)b0 << 8 | b1};
  for (size_t i = 0; i < N_ROWS; i++) {
    row(&g, r->schema, i, &in);
    eddy_replica_predict(r, &in);
    eddy_replica_learn(r, &in); /* binary learners refuse the third class */
  }
  eddy_instance_free(&in);
  return r;
}

static void checkpoints(void) {
  size_t nl = fuzz_n_learners();
  for (size_t i = 0; i < nl; i++) {
    const eddy_learner_type_t *lt = eddy_learner_types[i];
    for (int task = 1; task <= 2; task++) {
      if (!(lt->tasks & (unsigned)task)) continue;
      eddy_replica_t *r = trained((uint8_t)i, task == EDDY_REGRESSION ? 0x80 : 0);
      FUZZ_CHECK((int)r->schema->task == task, "task");
      eddy_buf_t b;
      eddy_buf_init(&b);
      eddy_buf_put_u8(&b, (uint8_t)i);
      eddy_buf_t m;
      eddy_buf_init(&m);
      FUZZ_CHECK(eddy_model_save(r->schema, r->learner, &m) == 0, "save");
      eddy_buf_put(&b, m.data, m.len);
      char name[256];
      snprintf(name, sizeof name, "%s-%s", lt->name, task == EDDY_REGRESSION ? "regression" : "classification");
      write_file("checkpoint", name, b.data, b.len);
      eddy_buf_free(&m);
      eddy_buf_free(&b);
      eddy_replica_free(r);
    }
  }
}

static void replicas(void) {
  const eddy_detector_type_t *concept[64];
  size_t nl = fuzz_n_learners(), nc = fuzz_concept_detectors(concept, 64);
  for (size_t i = 0; i < nl; i++) {
    for (size_t d = 0; d <= nc; d++) {
      /* Every action and the data detectors in turn, regression on odd
       * rows where the learner does both. */
      size_t v = i + d;
      uint8_t b1 = (uint8_t)(d | (v % 4) << 4 | (v % 3 == 0 ? 0x40 : 0) | (v % 2 ? 0x80 : 0));
      eddy_replica_t *r = trained((uint8_t)i, b1);
      eddy_buf_t b;
      eddy_buf_init(&b);
      eddy_buf_put_u8(&b, (uint8_t)i);
      eddy_buf_put_u8(&b, b1);
      save(r, &a_scratch);
      eddy_buf_put(&b, a_scratch.data, a_scratch.len);
      char name[256];
      snprintf(name, sizeof name, "%s-%s-%s%s%s", eddy_learner_types[i]->name,
               d ? concept[d - 1]->name : "none", action_names[(b1 >> 4) & 3],
               b1 & 0x40 ? "-data" : "", r->schema->task == EDDY_REGRESSION ? "-regression" : "");
      write_file("replica", name, b.data, b.len);
      eddy_buf_free(&b);
      eddy_replica_free(r);
    }
  }
}

/* ---- Avro records */

static avro_value_t field(avro_value_t *rec, const char *name) {
  avro_value_t f;
  FUZZ_CHECK(avro_value_get_by_name(rec, name, &f, NULL) == 0, "no field %s", name);
  return f;
}

static void avro_records(const char *avsc) {
  FILE *f = fopen(avsc, "rb");
  FUZZ_CHECK(f, "%s: %s", avsc, strerror(errno));
  char text[16384];
  size_t n = fread(text, 1, sizeof text, f);
  fclose(f);
  avro_schema_t schema;
  FUZZ_CHECK(avro_schema_from_json_length(text, n, &schema) == 0, "%s: %s", avsc, avro_strerror());
  avro_value_iface_t *iface = avro_generic_class_from_schema(schema);
  avro_value_t rec, v, br, item;
  FUZZ_CHECK(iface && avro_generic_value_new(iface, &rec) == 0, "avro value");
  static const char *const merchants[] = {"shop", "caf\xc3\xa9", "", "a much longer merchant name"};
  for (int i = 0; i < 8; i++) {
    avro_value_reset(&rec);
    v = field(&rec, "amount");
    avro_value_set_double(&v, i * 12.5 - 3);
    v = field(&rec, "hour");
    avro_value_set_int(&v, i * 3 - 1);
    v = field(&rec, "count");
    avro_value_set_long(&v, (int64_t)1 << (i * 8));
    v = field(&rec, "ratio");
    avro_value_set_float(&v, (float)i / 3);
    v = field(&rec, "score");
    if (i % 3 == 0) {
      avro_value_set_branch(&v, 0, &br);
      avro_value_set_null(&br);
    } else {
      avro_value_set_branch(&v, 1, &br);
      avro_value_set_double(&br, i * 0.25);
    }
    v = field(&rec, "flag");
    avro_value_set_boolean(&v, i % 2);
    v = field(&rec, "merchant");
    avro_value_set_string(&v, merchants[i % 4]);
    v = field(&rec, "country");
    avro_value_set_enum(&v, i % 4);
    v = field(&rec, "channel");
    avro_value_set_branch(&v, i % 3, &br);
    if (i % 3 == 0) avro_value_set_null(&br);
    else if (i % 3 == 1) avro_value_set_string(&br, i % 2 ? "web" : "pos");
    else avro_value_set_long(&br, -i);
    v = field(&rec, "raw");
    avro_value_set_bytes(&v, (void *)"\x00\x01\xff", (size_t)(i % 4));
    v = field(&rec, "tags");
    for (int k = 0; k < i % 3; k++) {
      avro_value_append(&v, &item, NULL);
      avro_value_set_string(&item, k ? "b" : "a");
    }
    v = field(&rec, "attrs");
    for (int k = 0; k < i % 3; k++) {
      avro_value_add(&v, k ? "k1" : "k0", &item, NULL, NULL);
      if (k) {
        avro_value_set_branch(&item, 1, &br);
        avro_value_set_long(&br, k * 1000);
      } else {
        avro_value_set_branch(&item, 0, &br);
        avro_value_set_null(&br);
      }
    }
    v = field(&rec, "digest");
    avro_value_set_fixed(&v, (void *)"\xde\xad\xbe\xef", 4);
    avro_value_t nested = field(&rec, "nested"), cur = nested;
    for (int k = 0; k <= i % 3; k++) { /* a chain of k + 1 Inner records */
      v = field(&cur, "x");
      avro_value_set_double(&v, k);
      v = field(&cur, "next");
      if (k == i % 3) {
        avro_value_set_branch(&v, 0, &br);
        avro_value_set_null(&br);
      } else {
        avro_value_set_branch(&v, 1, &cur);
      }
    }
    v = field(&rec, "user");
    avro_value_set_string(&v, i % 2 ? "u1" : "u2");
    v = field(&rec, "txn");
    if (i == 5) {
      avro_value_set_branch(&v, 0, &br);
      avro_value_set_null(&br);
    } else {
      avro_value_set_branch(&v, 1, &br);
      avro_value_set_string(&br, "t-42");
    }
    v = field(&rec, "ts");
    avro_value_set_long(&v, 1700000000000 + i * 1000);
    v = field(&rec, "w");
    avro_value_set_branch(&v, i % 2, &br);
    if (i % 2) avro_value_set_double(&br, 0.5 * i);
    else avro_value_set_null(&br);
    v = field(&rec, "label");
    avro_value_set_string(&v, i % 4 == 3 ? "fraud" : "ok");

    char buf[4096];
    /* Confluent framing for odd records (schema id 7, which one decoder
     * requires), plain for even ones. */
    size_t off = i % 2 ? 5 : 0;
    memcpy(buf, "\x00\x00\x00\x00\x07", off);
    avro_writer_t w = avro_writer_memory(buf + off, (int64_t)(sizeof buf - off));
    FUZZ_CHECK(avro_value_write(w, &rec) == 0, "avro write: %s", avro_strerror());
    size_t len = (size_t)avro_writer_tell(w) + off;
    avro_writer_free(w);
    char name[64];
    snprintf(name, sizeof name, "record-%d%s", i, off ? "-confluent" : "");
    write_file("avro", name, buf, len);
  }
  avro_value_decref(&rec);
  avro_value_iface_decref(iface);
  avro_schema_decref(schema);
}

/* ---- the config dictionary */

static void dict_token(FILE *out, const char *s, size_t n) {
  fputc('"', out);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
    else if (c < 0x20 || c >= 0x7f) fprintf(out, "\\x%02x", c);
    else fputc(c, out);
  }
  fputs("\"\n", out);
}

static void config_dict(void) {
  char *ref = NULL;
  size_t ref_len = 0;
  FILE *m = open_memstream(&ref, &ref_len);
  FUZZ_CHECK(m, "open_memstream");
  eddy_config_reference(m);
  fclose(m);
  char path[4096];
  snprintf(path, sizeof path, "%s/config.dict", out_dir);
  FILE *out = fopen(path, "w");
  FUZZ_CHECK(out, "%s: %s", path, strerror(errno));
  fprintf(out, "# generated by make_corpus from the option tables\n");
  static const char *const extra[] = {"\n", " = ", "\n  ", "; ", "# ", ",", "[", "]", "true", "false",
                                      "memory", "redis://127.0.0.1:6379/0", "count(*)", "since_last()",
                                      "(", ", 0.1)", "-1", "1e308", "nan", "0x10", NULL};
  for (const char *const *e = extra; *e; e++) dict_token(out, *e, strlen(*e));
  for (char *line = ref, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next) *next++ = '\0';
    if (!strncmp(line, "## [", 4)) {
      dict_token(out, line + 3, strlen(line + 3));
    } else if (!strncmp(line, "### ", 4)) {
      dict_token(out, line + 4, strlen(line + 4));
    } else if (!strncmp(line, "| `", 3)) {
      char *k = line + 3, *e = strchr(k, '`');
      if (!e) continue;
      dict_token(out, k, (size_t)(e - k));
      /* The range column of a choice lists its values. */
      char *col[6] = {0};
      int nc = 0;
      for (char *p = line; *p && nc < 6; p++)
        if (*p == '|') col[nc++] = p + 1;
      if (nc >= 5 && strncmp(col[1], " choice ", 8) == 0) {
        *strchr(col[3], '|') = '\0';
        for (char *t = strtok(col[3], ", "); t; t = strtok(NULL, ", ")) dict_token(out, t, strlen(t));
      }
    }
  }
  /* Aggregate functions, from the [state] help text. */
  static const char *const aggs[] = {"count(", "sum(", "mean(", "min(", "max(", "ewma(", "last(", "since_last(", NULL};
  for (const char *const *e = aggs; *e; e++) dict_token(out, *e, strlen(*e));
  fclose(out);
  free(ref);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: make_corpus OUT AVSC\n");
    return 2;
  }
  out_dir = argv[1];
  if (mkdir(out_dir, 0777) && errno != EEXIST) {
    perror(out_dir);
    return 1;
  }
  checkpoints();
  replicas();
  avro_records(argv[2]);
  config_dict();
  eddy_buf_free(&a_scratch);
  return 0;
}
