/* test_cmd_detect.c: `eddy detect` end to end: the binary ($EDDY_BIN, set
 * by `make test`; skipped when unset) over series written to files. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "engine/config/config.h"
#include "engine/model/model.h"

static const char *bin(void) {
  const char *b = getenv("EDDY_BIN");
  if (!b || access(b, X_OK) != 0) cr_skip_test("EDDY_BIN is not set: run under make test");
  return b;
}

/* Writes the seeded switch series (Bernoulli(0.2), then Bernoulli(0.5)
 * from 10,000; 20,000 values) to a temporary file. */
static void write_series(char *path, uint64_t seed) {
  strcpy(path, "/tmp/eddy_detect_XXXXXX");
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  FILE *f = fdopen(fd, "w");
  eddy_rng_t r;
  eddy_rng_seed(&r, seed);
  for (int i = 0; i < 20000; i++) fprintf(f, "%d\n", eddy_rng_uniform(&r) < (i < 10000 ? 0.2 : 0.5));
  fclose(f);
}

/* Runs a shell command; returns its exit status and its output (stdout,
 * and stderr too when `with_stderr`), malloc'd. */
static int run(const char *cmd, int with_stderr, char **out) {
  char full[2048];
  snprintf(full, sizeof full, "%s%s", cmd, with_stderr ? " 2>&1" : " 2>/dev/null");
  FILE *p = popen(full, "r");
  cr_assert_not_null(p);
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  size_t n;
  while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
    len += n;
    if (cap - len < 2) buf = realloc(buf, cap *= 2);
  }
  buf[len] = '\0';
  *out = buf;
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(cmd_detect, drifts_as_moa_from_file_and_stdin) {
  const char *b = bin();
  char path[64], cmd[512], *out;
  write_series(path, 1);
  /* MOA's ADWINChangeDetector on this series: 10111 10143 10207 10239. */
  const char *moa = "10111 drift\n10143 drift\n10207 drift\n10239 drift\n";
  snprintf(cmd, sizeof cmd, "%s detect adwin --input %s", b, path);
  cr_assert_eq(run(cmd, 0, &out), 0);
  cr_assert_str_eq(out, moa);
  free(out);
  snprintf(cmd, sizeof cmd, "%s detect adwin < %s", b, path);
  cr_assert_eq(run(cmd, 0, &out), 0);
  cr_assert_str_eq(out, moa, "stdin by default");
  free(out);
  unlink(path);
}

Test(cmd_detect, parameters_with_dashes_and_json) {
  const char *b = bin();
  char path[64], cmd[512], *out;
  write_series(path, 2);
  /* MOA's DDM -n 100 -w 1.5 -o 2.5 on seed 2's series drifts at 10260,
   * 10464, 10740, 11400, 12215 (warnings in between). */
  snprintf(cmd, sizeof cmd,
           "%s detect ddm --min-instances 100 --warning_level 1.5 --drift-level 2.5 --json "
           "--input %s",
           b, path);
  cr_assert_eq(run(cmd, 0, &out), 0);
  static const long moa[] = {10260, 10464, 10740, 11400, 12215};
  size_t k = 0, warnings = 0;
  for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
    json_error_t e;
    json_t *j = json_loads(line, 0, &e);
    cr_assert_not_null(j, "not JSON: %s", line);
    const char *kind = json_string_value(json_object_get(j, "kind"));
    cr_assert_str_eq(json_string_value(json_object_get(j, "detector")), "ddm");
    cr_assert(json_is_number(json_object_get(j, "statistic")), "%s", line);
    cr_assert(json_is_number(json_object_get(j, "threshold")), "%s", line);
    long index = (long)json_integer_value(json_object_get(j, "index"));
    if (strcmp(kind, "drift") == 0) {
      cr_assert_lt(k, 5);
      cr_assert_eq(index, moa[k], "drift %zu at %ld, MOA %ld", k, index, moa[k]);
      cr_assert_gt(json_number_value(json_object_get(j, "statistic")),
                   json_number_value(json_object_get(j, "threshold")));
      k++;
    } else {
      cr_assert_str_eq(kind, "warning");
      warnings++;
    }
    json_decref(j);
  }
  cr_assert_eq(k, 5);
  cr_assert_gt(warnings, 0);
  free(out);
  unlink(path);
}

Test(cmd_detect, errors_name_what_is_wrong) {
  const char *b = bin();
  char cmd[512], *out;
  snprintf(cmd, sizeof cmd, "%s detect adwin --deltaa 0.1 < /dev/null", b);
  cr_assert_eq(run(cmd, 1, &out), 2);
  cr_assert(strstr(out, "--deltaa") && strstr(out, "--delta") && strstr(out, "--clock"), "%s", out);
  free(out);
  snprintf(cmd, sizeof cmd, "%s detect adwn < /dev/null", b);
  cr_assert_eq(run(cmd, 1, &out), 2);
  cr_assert(strstr(out, "adwn") && strstr(out, "page_hinkley"), "%s", out);
  free(out);
  snprintf(cmd, sizeof cmd, "%s detect adwin --delta 7 < /dev/null", b);
  cr_assert_eq(run(cmd, 1, &out), 2);
  cr_assert(strstr(out, "delta"), "%s", out);
  free(out);
  snprintf(cmd, sizeof cmd, "printf '0\\n1\\n0.5x\\n1\\n' | %s detect ddm", b);
  cr_assert_eq(run(cmd, 1, &out), 1);
  cr_assert(strstr(out, "stdin:3:") && strstr(out, "0.5x"), "%s", out);
  free(out);
  snprintf(cmd, sizeof cmd, "%s detect ddm --input /nonexistent/x", b);
  cr_assert_eq(run(cmd, 1, &out), 1);
  cr_assert(strstr(out, "/nonexistent/x"), "%s", out);
  free(out);
  snprintf(cmd, sizeof cmd, "%s detect kswin --help", b);
  cr_assert_eq(run(cmd, 0, &out), 0);
  cr_assert(strstr(out, "--stat_size") && strstr(out, "--alpha"), "%s", out);
  free(out);
}

/* Blank lines are no values (the series goes on after them, indexes count
 * values); a value outside what the detector's statistics are defined for
 * stops it with the line's number (issue 19: DDM took inf, 5 and -3). */
Test(cmd_detect, blank_lines_skipped_and_inputs_refused) {
  const char *b = bin();
  char path[64], path2[80], cmd[512], *out, *want;
  write_series(path, 1);
  /* The same series with a blank line after every 1000th value. */
  snprintf(path2, sizeof path2, "%s.blank", path);
  snprintf(cmd, sizeof cmd, "awk '{print} NR %% 1000 == 0 {print \"\"}' %s > %s", path, path2);
  cr_assert_eq(system(cmd), 0);
  snprintf(cmd, sizeof cmd, "%s detect adwin --input %s", b, path);
  cr_assert_eq(run(cmd, 0, &want), 0);
  snprintf(cmd, sizeof cmd, "%s detect adwin --input %s", b, path2);
  cr_assert_eq(run(cmd, 1, &out), 0, "%s", out);
  cr_assert_str_eq(out, want);
  cr_assert(strlen(want) > 0);
  free(out);
  free(want);
  unlink(path);
  unlink(path2);
  static const struct { const char *det, *input, *where, *what; } bad[] = {
      {"ddm", "0\\n1\\n\\ninf\\n", "stdin:4:", "0 or 1"},
      {"ddm", "0\\n5\\n", "stdin:2:", "0 or 1"},
      {"eddm", "1\\n-3\\n", "stdin:2:", "0 or 1"},
      {"ddm", "0\\n0.5\\n", "stdin:2:", "0 or 1"},
      {"hddm_a", "0.5\\n1.5\\n", "stdin:2:", "[0, 1]"},
      {"hddm_w", "-0.1\\n", "stdin:1:", "[0, 1]"},
      {"adwin", "0.5\\n-inf\\n", "stdin:2:", "finite"},
      {"page_hinkley", "1\\n\\n\\ninf\\n", "stdin:4:", "finite"},
      {"adwin", "0.5\\nnan\\n", "stdin:2:", "nan"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    snprintf(cmd, sizeof cmd, "printf -- '%s' | %s detect %s", bad[i].input, b, bad[i].det);
    cr_assert_eq(run(cmd, 1, &out), 1, "%s", cmd);
    cr_assert(strstr(out, bad[i].where) && strstr(out, bad[i].what), "%s: %s", cmd, out);
    free(out);
  }
  /* Real values are fine for the detectors of real streams. */
  snprintf(cmd, sizeof cmd, "printf '5\\n-3\\n0.25\\n' | %s detect adwin", b);
  cr_assert_eq(run(cmd, 1, &out), 0, "%s", out);
  free(out);
}
