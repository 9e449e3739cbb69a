/* cmd_config.c: `eddy config`: the key reference generated from the
 * option tables, and validation of a config file. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "engine/config/config.h"
#include "engine/model/model.h"
#include "engine/cli/cli.h"

static const char usage[] =
    "usage: eddy config --reference\n"
    "       eddy config --check -c FILE\n"
    "  --reference   print every config key with its default and description (Markdown)\n"
    "  --check       validate FILE: exit 0 when it is valid, else print file:line:key and exit 1\n";

int eddy_cmd_config(int argc, char **argv) {
  static const struct option longopts[] = {{"reference", no_argument, 0, 'r'},
                                            {"check", no_argument, 0, 'k'},
                                            {"config", required_argument, 0, 'c'},
                                            {"help", no_argument, 0, 'h'},
                                            {0, 0, 0, 0}};
  int reference = 0, check = 0, o;
  const char *path = NULL;
  optind = 1;
  while ((o = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
    switch (o) {
    case 'r': reference = 1; break;
    case 'k': check = 1; break;
    case 'c': path = optarg; break;
    case 'h': fputs(usage, stdout); return 0;
    default: fputs(usage, stderr); return 2;
    }
  }
  if (reference) {
    eddy_config_reference(stdout);
    return 0;
  }
  if (check || path) {
    if (!path) {
      fputs(usage, stderr);
      return 2;
    }
    char err[2048];
    eddy_config_t *c = eddy_config_load(path, err, sizeof err);
    if (!c) {
      fprintf(stderr, "eddy: %s\n", err);
      return 1;
    }
    printf("%s: ok, %zu pipeline%s:", path, c->n_pipelines, c->n_pipelines == 1 ? "" : "s");
    for (size_t i = 0; i < c->n_pipelines; i++)
      printf(" %s (%s)", c->pipelines[i].pipeline.name, c->pipelines[i].model.learner);
    printf("\n");
    eddy_config_free(c);
    return 0;
  }
  fputs(usage, stderr);
  return 2;
}

/* The start of every command that takes -c FILE [--pipeline NAME]: the
 * config loaded (the caller frees it), or NULL after saying on stderr why
 * (the file, line and key of a bad config, or the pipeline it lacks). */
eddy_config_t *eddy__cmd_config(const char *cmd, const char *path, const char *only) {
  char err[2048];
  eddy_config_t *cfg = eddy_config_load(path, err, sizeof err);
  if (!cfg) {
    fprintf(stderr, "eddy %s: %s\n", cmd, err);
    return NULL;
  }
  if (only && !eddy_config_pipeline(cfg, only)) {
    fprintf(stderr, "eddy %s: %s has no pipeline '%s'\n", cmd, path, only);
    eddy_config_free(cfg);
    return NULL;
  }
  return cfg;
}
