/* main.c: the eddy command line: dispatches `eddy NAME ...` to the command
 * of that name. */
#include <stdio.h>
#include <string.h>

#include "engine/cli/cli.h"
#include "engine/config/config.h"
#include "engine/model/model.h"

static const eddy_command_t commands[] = {
    {"run", eddy_cmd_run, "-c FILE.ini", "run the pipelines of FILE as a Kafka stream processor"},
    {"demo", eddy_cmd_demo, "[--events N] [--rate R] [--learner NAME]",
     "everything embedded: broker, drifting stream, pipeline with drift detection, live view"},
    {"eval", eddy_cmd_eval, "-c FILE.ini [--input PATH|-] [--every N] [--window N] [--format F]",
     "prequential evaluation of a pipeline's model on a CSV or JSON-lines file"},
    {"predict", eddy_cmd_predict, "-c FILE.ini -m CHECKPOINT [--input PATH|-] [--output FILE] [--format F]",
     "score a file of records with a saved model (eval --save-model, or a checkpoint from Redis)"},
    {"config", eddy_cmd_config, "--reference | --check -c FILE",
     "print every config key, or validate a config file"},
    {"gen", eddy_cmd_gen, "NAME [--n N] [--seed S] [--format csv|jsonl] [--output FILE]",
     "synthetic streams with concept drift (sea, agrawal, hyperplane, rbf, stagger)"},
    {"broker", eddy_cmd_broker, "[--port P] [--brokers N] [--topic NAME:PARTITIONS]...",
     "a local Kafka-protocol broker (mock cluster) with fault commands on stdin"},
    {"detect", eddy_cmd_detect, "NAME [--PARAM VALUE]... [--input FILE] [--json]",
     "run one drift detector over a series of numbers, one a line"},
    {"models", eddy_cmd_models, "-c FILE.ini [--pipeline NAME] [--json]",
     "list the model checkpoints in Redis (version, next offset, bytes, SHA-256)"},
    {"alerts", eddy_cmd_alerts, "-c FILE.ini [--pipeline NAME] [--follow] [--since TIME] [--json]",
     "list or follow drift alerts (Redis stream, or the alerts topic)"},
    {"verify", eddy_cmd_verify, "-c FILE.ini [--pipeline NAME] [--exactly-once] [--expect-dlq N] [--json]",
     "check a run's outputs and checkpoints against its input (offline, after the run)"},
};
static const size_t n_commands = sizeof commands / sizeof commands[0];

static void usage(FILE *out) {
  fprintf(out, "eddy %s: streaming online learning on Kafka\n\nusage: eddy COMMAND [ARGS]\n\n",
          EDDY_VERSION);
  for (size_t i = 0; i < n_commands; i++)
    fprintf(out, "  eddy %-8s %s\n  %14s %s\n", commands[i].name, commands[i].usage, "",
            commands[i].summary);
  fprintf(out, "\n`eddy COMMAND --help` for a command's options.\n");
}

int main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
    printf("eddy %s\n", EDDY_VERSION);
    return 0;
  }
  for (size_t i = 0; i < n_commands; i++)
    if (strcmp(argv[1], commands[i].name) == 0) return commands[i].main(argc - 1, argv + 1);
  fprintf(stderr, "eddy: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return 2;
}
