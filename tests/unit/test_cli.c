/* test_cli.c: the eddy binary end to end: `eval` figures and errors,
 * `config --check` naming file:line:key, and configs/REFERENCE.md being
 * what `config --reference` prints. EDDY_BIN names the binary. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static const char *bin(void) {
  const char *b = getenv("EDDY_BIN");
  if (!b || !*b) cr_skip_test("EDDY_BIN is not set (run through make test)");
  return b;
}

/* Runs a shell command; returns its exit status and its stdout+stderr. */
static int run(const char *cmd, char **out) {
  FILE *p = popen(cmd, "r");
  cr_assert_not_null(p);
  size_t cap = 1 << 16, n = 0;
  *out = malloc(cap);
  size_t r;
  while ((r = fread(*out + n, 1, cap - n - 1, p)) > 0) {
    n += r;
    if (n + 1 == cap) *out = realloc(*out, cap *= 2);
  }
  (*out)[n] = '\0';
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f);
  fputs(text, f);
  fclose(f);
}

Test(cli, config_check_names_file_line_key) {
  const char *b = bin();
  write_file("/tmp/eddy-cli-bad.ini", "[pipeline]\nname = p\n[features]\ntarget = y\nnumerc = a\n");
  char cmd[512], *out;
  snprintf(cmd, sizeof cmd, "%s config --check -c /tmp/eddy-cli-bad.ini 2>&1", b);
  int rc = run(cmd, &out);
  cr_assert_neq(rc, 0, "a misspelled key must fail");
  cr_assert(strstr(out, "/tmp/eddy-cli-bad.ini:5:") && strstr(out, "numerc"), "%s", out);
  free(out);
  snprintf(cmd, sizeof cmd, "%s eval -c /tmp/eddy-cli-bad.ini --input /dev/null 2>&1", b);
  rc = run(cmd, &out);
  cr_assert_neq(rc, 0);
  cr_assert(strstr(out, "/tmp/eddy-cli-bad.ini:5:") && strstr(out, "numerc"), "%s", out);
  free(out);
  remove("/tmp/eddy-cli-bad.ini");
}

Test(cli, eval_majority_figures) {
  const char *b = bin();
  /* 3 rows of class a, 1 of b, then a: majority predicts a from row 2 on. */
  write_file("/tmp/eddy-cli.csv", "x,c\n1,a\n2,a\n3,b\n4,a\n5,a\n");
  write_file("/tmp/eddy-cli.ini", "[pipeline]\nname = t\n[features]\ntarget = c\n[model]\nlearner = majority\n");
  char cmd[512], *out;
  snprintf(cmd, sizeof cmd, "%s eval -c /tmp/eddy-cli.ini --input /tmp/eddy-cli.csv --format jsonl -e 0", b);
  int rc = run(cmd, &out);
  cr_assert_eq(rc, 0, "%s", out);
  /* Every row predicts class index 0 ("a"; an empty model's all-zero votes
   * also give index 0, as MOA's maxIndex does): a, a, a, a right, b wrong. */
  cr_assert(strstr(out, "\"instances\":5,\"accuracy\":0.800000"), "%s", out);
  cr_assert(strstr(out, "\"confusion\":[[4,0],[1,0]]"), "%s", out);
  free(out);
  snprintf(cmd, sizeof cmd, "%s eval -c /tmp/eddy-cli.ini --format csv -e 2 < /tmp/eddy-cli.csv 2>/dev/null", b);
  rc = run(cmd, &out);
  cr_assert_eq(rc, 0, "%s", out);
  cr_assert(strncmp(out, "instances,accuracy,kappa,log_loss,f1_macro,auc,window_accuracy", 62) == 0, "%s", out);
  int rows = 0;
  for (char *p = out; (p = strchr(p, '\n')); p++) rows++;
  cr_assert_eq(rows, 4, "header, rows at 2 and 4, and the final row at 5: %s", out);
  free(out);
  remove("/tmp/eddy-cli.csv");
  remove("/tmp/eddy-cli.ini");
}

Test(cli, eval_bad_records_are_skipped_and_named) {
  const char *b = bin();
  write_file("/tmp/eddy-cli2.csv", "x,c\n1,a\nzz,a\n3,b,extra\n4,a\n");
  write_file("/tmp/eddy-cli2.ini", "[pipeline]\nname = t\n[features]\ntarget = c\n[model]\nlearner = majority\n");
  char cmd[512], *out;
  snprintf(cmd, sizeof cmd, "%s eval -c /tmp/eddy-cli2.ini -i /tmp/eddy-cli2.csv -f jsonl -e 0 2>&1", b);
  int rc = run(cmd, &out);
  cr_assert_eq(rc, 0, "%s", out);
  cr_assert(strstr(out, "eddy-cli2.csv:3: skipped (decode): field 'x': expected a number"), "%s", out);
  cr_assert(strstr(out, "eddy-cli2.csv:4: skipped (decode): expected 2 CSV fields"), "%s", out);
  cr_assert(strstr(out, "\"instances\":2,") && strstr(out, "\"errors\":2"), "%s", out);
  free(out);
  remove("/tmp/eddy-cli2.csv");
  remove("/tmp/eddy-cli2.ini");
}

/* eval goes through run's record path: [features] required skips a record
 * (stage validate) as run dead-letters it, the aggregates are joined, and a
 * file of which nothing could be evaluated exits 1. */
Test(cli, eval_runs_the_record_path_of_run) {
  const char *b = bin();
  write_file("/tmp/eddy-cli5.csv", "u,x,c\nk1,1,a\nk1,,a\nk1,3,b\nk2,5,a\n");
  write_file("/tmp/eddy-cli5.ini",
             "[pipeline]\nname = t\n[features]\nkey = u\ntarget = c\nrequired = x\n"
             "[state]\naggregates = count(*), mean(x)\n[sink]\naggregates = true\n"
             "[model]\nlearner = majority\n");
  char cmd[512], *out;
  snprintf(cmd, sizeof cmd, "%s eval -c /tmp/eddy-cli5.ini -i /tmp/eddy-cli5.csv -e 0 -f jsonl "
           "--predictions /tmp/eddy-cli5.jsonl 2>&1", b);
  cr_assert_eq(run(cmd, &out), 0, "%s", out);
  cr_assert(strstr(out, "eddy-cli5.csv:3: skipped (validate): required field 'x' is missing"), "%s", out);
  cr_assert(strstr(out, "\"instances\":3,") && strstr(out, "\"errors\":1"), "%s", out);
  free(out);
  cr_assert_eq(run("cat /tmp/eddy-cli5.jsonl", &out), 0);
  /* k1's third record sees the state of its first one only (the second
   * was skipped); k2 is a new entity. */
  cr_assert(strstr(out, "\"index\":0,") && strstr(out, "\"label\":\"a\",\"aggregates\":{\"count\":0,\"x_mean\":null}"),
            "%s", out);
  cr_assert_null(strstr(out, "\"index\":1,"), "%s", out);
  cr_assert(strstr(out, "\"index\":2,") && strstr(out, "\"aggregates\":{\"count\":1,\"x_mean\":1}"), "%s", out);
  cr_assert(strstr(out, "\"index\":3,") && strstr(out, "\"aggregates\":{\"count\":0,\"x_mean\":null}"), "%s", out);
  free(out);
  write_file("/tmp/eddy-cli5.csv", "u,x,c\nk1,,a\nk1,,b\n");
  snprintf(cmd, sizeof cmd, "%s eval -c /tmp/eddy-cli5.ini -i /tmp/eddy-cli5.csv -e 0 2>&1", b);
  cr_assert_eq(run(cmd, &out), 1, "%s", out);
  cr_assert(strstr(out, "no instance was evaluated (2 records skipped)"), "%s", out);
  free(out);
  remove("/tmp/eddy-cli5.csv");
  remove("/tmp/eddy-cli5.ini");
  remove("/tmp/eddy-cli5.jsonl");
}

Test(cli, reference_md_is_current) {
  const char *b = bin();
  char cmd[512], *out, *want;
  snprintf(cmd, sizeof cmd, "%s config --reference", b);
  cr_assert_eq(run(cmd, &out), 0);
  FILE *f = fopen("configs/REFERENCE.md", "r");
  if (!f) cr_skip_test("configs/REFERENCE.md not found (run from the repository root)");
  fclose(f);
  cr_assert_eq(run("cat configs/REFERENCE.md", &want), 0);
  cr_assert(strcmp(out, want) == 0, "configs/REFERENCE.md is stale: run `make reference`");
  free(out);
  free(want);
}
