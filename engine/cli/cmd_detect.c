/* cmd_detect.c: `eddy detect NAME [--PARAM VALUE]... [--input FILE]
 * [--json] [--seed N]`: runs one drift detector over a series of numbers,
 * one a line (stdin by default; blank lines skipped; a value the detector
 * cannot take stops it with the line's number), and prints one line per warning and drift:
 * its 0-based index and kind, or a JSON object with the detector's
 * statistic and threshold. Parameters are the detector's config keys with
 * dashes for underscores (--min-instances or --min_instances). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detectors.h"
#include "engine/cli/cli.h"
#include "engine/config/config.h"
#include "engine/model/model.h"

static void detect_usage(FILE *out) {
  char names[1024];
  eddy_detector_type_names(names, sizeof names);
  fprintf(out,
          "usage: eddy detect NAME [--PARAM VALUE]... [--input FILE] [--json] [--seed N]\n\n"
          "Runs detector NAME over a series of numbers, one a line (stdin by default),\n"
          "and prints each warning and drift with its 0-based index.\n\n"
          "  --input FILE   read the series from FILE\n"
          "  --json         one JSON object a line, with statistic and threshold\n"
          "  --seed N       seed of randomised detectors (default 1)\n\n"
          "detectors: %s\n`eddy detect NAME --help` lists NAME's parameters.\n",
          names);
}

static void detector_help(const eddy_detector_type_t *t) {
  static const char *const types[] = {"int", "real", "bool", "choice", "string", "text"};
  printf("%s: %s\n\nparameters:\n", t->name, t->description);
  for (const eddy_option_t *o = t->options; o && o->name; o++) {
    printf("  --%-20s %s (%s, default %s", o->name, o->help, types[o->type], o->def);
    if (o->type == EDDY_OPT_ENUM) {
      printf("; one of");
      for (const char *const *c = o->choices; *c; c++) printf(" %s", *c);
    }
    printf(")\n");
  }
}

static void known_params(const eddy_detector_type_t *t, char *buf, size_t size) {
  size_t n = 0;
  buf[0] = '\0';
  for (const eddy_option_t *o = t->options; o && o->name && n < size; o++)
    n += (size_t)snprintf(buf + n, size - n, "%s--%s", n ? ", " : "", o->name);
  if (!buf[0]) snprintf(buf, size, "none");
}

static void put_number(char *buf, size_t size, double v) {
  if (v != v || v == 1.0 / 0.0 || v == -1.0 / 0.0)
    snprintf(buf, size, "null");
  else
    eddy_fmt_double(buf, size, v);
}

/* What the command line asked for. */
typedef struct detect_args {
  const eddy_detector_type_t *type;
  char name[128];
  const char *input;
  int json;
  uint64_t seed;
  eddy_kvlist_t kv;
} detect_args_t;

/* Reads argv[2..] into a: 0, -1 when --help was printed, or the exit
 * status of a usage error (2) or of running out of memory (1). */
static int detect_parse(int argc, char **argv, detect_args_t *a) {
  for (int i = 2; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      detector_help(a->type);
      return -1;
    }
    if (strcmp(arg, "--json") == 0) {
      a->json = 1;
      continue;
    }
    if (strncmp(arg, "--", 2) != 0 || !arg[2]) {
      fprintf(stderr, "eddy detect: unexpected argument '%s'\n", arg);
      return 2;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "eddy detect: %s needs a value\n", arg);
      return 2;
    }
    const char *value = argv[++i];
    if (strcmp(arg, "--input") == 0) {
      a->input = value;
      continue;
    }
    if (strcmp(arg, "--seed") == 0) {
      int64_t s;
      if (eddy_parse_int(value, &s) || s < 0) {
        fprintf(stderr, "eddy detect: --seed: '%s' is not a whole number >= 0\n", value);
        return 2;
      }
      a->seed = (uint64_t)s;
      continue;
    }
    char key[128];
    snprintf(key, sizeof key, "%s", arg + 2);
    for (char *c = key; *c; c++)
      if (*c == '-') *c = '_';
    if (!eddy_options_find(a->type->options, key)) {
      char known[1024];
      known_params(a->type, known, sizeof known);
      fprintf(stderr, "eddy detect: unknown parameter '%s' for detector '%s' (known: %s)\n", arg,
              a->name, known);
      return 2;
    }
    if (eddy_kvlist_set(&a->kv, key, value, NULL, 0)) {
      fprintf(stderr, "eddy detect: out of memory\n");
      return 1;
    }
  }
  return 0;
}

static void print_change(eddy_detector_t *d, const detect_args_t *a, uint64_t index, eddy_drift_t st) {
  if (!a->json) {
    printf("%llu %s\n", (unsigned long long)index, eddy_drift_name(st));
    return;
  }
  double stat, thr;
  char sa[40], sb[40];
  eddy_detector_stat(d, &stat, &thr);
  put_number(sa, sizeof sa, stat);
  put_number(sb, sizeof sb, thr);
  printf("{\"index\":%llu,\"kind\":\"%s\",\"detector\":\"%s\",\"statistic\":%s,"
         "\"threshold\":%s}\n",
         (unsigned long long)index, eddy_drift_name(st), a->name, sa, sb);
}

/* Feeds the series of `in` to d, a line at a time: 0, or 1 at the first
 * value it cannot take (the line's number said) or a read error. */
static int detect_series(eddy_detector_t *d, const detect_args_t *a, FILE *in) {
  const char *where = a->input ? a->input : "stdin";
  char *line = NULL, err[512];
  size_t cap = 0;
  ssize_t len;
  uint64_t index = 0, number = 0; /* values read; lines read */
  int rc = 0;
  while ((len = getline(&line, &cap, in)) >= 0) {
    char *s = line, *e = line + len;
    while (s < e && (*s == ' ' || *s == '\t')) s++;
    while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t')) e--;
    *e = '\0';
    number++;
    if (!*s) continue; /* a blank line is no value */
    double x;
    if (eddy_parse_double(s, &x)) {
      fprintf(stderr, "eddy detect: %s:%llu: '%s' is not a number\n", where, (unsigned long long)number, s);
      rc = 1;
      break;
    }
    if (eddy_detector_check_input(a->type, x, err, sizeof err)) {
      fprintf(stderr, "eddy detect: %s:%llu: '%s': %s\n", where, (unsigned long long)number, s, err);
      rc = 1;
      break;
    }
    eddy_drift_t st = eddy_detector_update(d, x);
    if (st != EDDY_DRIFT_NONE) print_change(d, a, index, st);
    index++;
  }
  if (!rc && ferror(in)) {
    fprintf(stderr, "eddy detect: error reading %s: %s\n", where, strerror(errno));
    rc = 1;
  }
  free(line);
  return rc;
}

int eddy_cmd_detect(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    detect_usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  detect_args_t a = {.seed = 1};
  snprintf(a.name, sizeof a.name, "%s", argv[1]);
  for (char *c = a.name; *c; c++)
    if (*c == '-') *c = '_'; /* hddm-a as hddm_a */
  if (!(a.type = eddy_detector_type_find(a.name))) {
    char names[1024];
    eddy_detector_type_names(names, sizeof names);
    fprintf(stderr, "eddy detect: unknown detector '%s' (known: %s)\n", argv[1], names);
    return 2;
  }
  int rc = detect_parse(argc, argv, &a);
  if (rc) {
    eddy_kvlist_free(&a.kv);
    return rc < 0 ? 0 : rc;
  }
  char err[512];
  eddy_detector_t *d = eddy_detector_new(a.name, a.kv.v, a.kv.n, a.seed, err, sizeof err);
  eddy_kvlist_free(&a.kv);
  if (!d) {
    fprintf(stderr, "eddy detect: %s\n", err);
    return 2;
  }
  FILE *in = stdin;
  if (a.input && strcmp(a.input, "-") != 0 && !(in = fopen(a.input, "r"))) {
    fprintf(stderr, "eddy detect: cannot open '%s': %s\n", a.input, strerror(errno));
    eddy_detector_free(d);
    return 1;
  }
  rc = detect_series(d, &a, in);
  if (fflush(stdout) || ferror(stdout)) rc = 1;
  if (in != stdin) fclose(in);
  eddy_detector_free(d);
  return rc;
}
