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

int eddy_cmd_detect(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    detect_usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  char name[128];
  snprintf(name, sizeof name, "%s", argv[1]);
  for (char *c = name; *c; c++)
    if (*c == '-') *c = '_'; /* hddm-a as hddm_a */
  const eddy_detector_type_t *type = eddy_detector_type_find(name);
  if (!type) {
    char names[1024];
    eddy_detector_type_names(names, sizeof names);
    fprintf(stderr, "eddy detect: unknown detector '%s' (known: %s)\n", argv[1], names);
    return 2;
  }
  const char *input = NULL;
  int json = 0;
  uint64_t seed = 1;
  eddy_kvlist_t kv = {0};
  int rc = 2;
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      detector_help(type);
      eddy_kvlist_free(&kv);
      return 0;
    }
    if (strcmp(a, "--json") == 0) {
      json = 1;
      continue;
    }
    if (strncmp(a, "--", 2) != 0 || !a[2]) {
      fprintf(stderr, "eddy detect: unexpected argument '%s'\n", a);
      goto done;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "eddy detect: %s needs a value\n", a);
      goto done;
    }
    const char *value = argv[++i];
    if (strcmp(a, "--input") == 0) {
      input = value;
      continue;
    }
    if (strcmp(a, "--seed") == 0) {
      int64_t s;
      if (eddy_parse_int(value, &s) || s < 0) {
        fprintf(stderr, "eddy detect: --seed: '%s' is not a whole number >= 0\n", value);
        goto done;
      }
      seed = (uint64_t)s;
      continue;
    }
    char key[128];
    snprintf(key, sizeof key, "%s", a + 2);
    for (char *c = key; *c; c++)
      if (*c == '-') *c = '_';
    if (!eddy_options_find(type->options, key)) {
      char known[1024];
      known_params(type, known, sizeof known);
      fprintf(stderr, "eddy detect: unknown parameter '%s' for detector '%s' (known: %s)\n", a,
              name, known);
      goto done;
    }
    if (eddy_kvlist_set(&kv, key, value, NULL, 0)) {
      fprintf(stderr, "eddy detect: out of memory\n");
      rc = 1;
      goto done;
    }
  }

  char err[512];
  eddy_detector_t *d = eddy_detector_new(name, kv.v, kv.n, seed, err, sizeof err);
  if (!d) {
    fprintf(stderr, "eddy detect: %s\n", err);
    goto done;
  }
  FILE *in = stdin;
  if (input && strcmp(input, "-") != 0) {
    in = fopen(input, "r");
    if (!in) {
      fprintf(stderr, "eddy detect: cannot open '%s': %s\n", input, strerror(errno));
      eddy_detector_free(d);
      rc = 1;
      goto done;
    }
  }
  const char *where = input ? input : "stdin";
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  uint64_t index = 0, number = 0; /* values read; lines read */
  rc = 0;
  while ((len = getline(&line, &cap, in)) >= 0) {
    char *s = line, *e = line + len;
    while (s < e && (*s == ' ' || *s == '\t')) s++;
    while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t')) e--;
    *e = '\0';
    number++;
    if (!*s) continue; /* a blank line is no value */
    double x;
    if (eddy_parse_double(s, &x)) {
      fprintf(stderr, "eddy detect: %s:%llu: '%s' is not a number\n", where,
              (unsigned long long)number, s);
      rc = 1;
      break;
    }
    if (eddy_detector_check_input(type, x, err, sizeof err)) {
      fprintf(stderr, "eddy detect: %s:%llu: '%s': %s\n", where, (unsigned long long)number, s, err);
      rc = 1;
      break;
    }
    eddy_drift_t st = eddy_detector_update(d, x);
    if (st != EDDY_DRIFT_NONE) {
      if (json) {
        double stat, thr;
        char a[40], b[40];
        eddy_detector_stat(d, &stat, &thr);
        put_number(a, sizeof a, stat);
        put_number(b, sizeof b, thr);
        printf("{\"index\":%llu,\"kind\":\"%s\",\"detector\":\"%s\",\"statistic\":%s,"
               "\"threshold\":%s}\n",
               (unsigned long long)index, eddy_drift_name(st), name, a, b);
      } else {
        printf("%llu %s\n", (unsigned long long)index, eddy_drift_name(st));
      }
    }
    index++;
  }
  if (!rc && ferror(in)) {
    fprintf(stderr, "eddy detect: error reading %s: %s\n", where, strerror(errno));
    rc = 1;
  }
  if (fflush(stdout) || ferror(stdout)) rc = 1;
  free(line);
  if (in != stdin) fclose(in);
  eddy_detector_free(d);
done:
  eddy_kvlist_free(&kv);
  return rc;
}
