/* engine/cli/cli.h: the commands of the eddy binary. */
#ifndef EDDY_CLI_H
#define EDDY_CLI_H

#include "core/core.h"
#include "connectors/connectors.h"
#include "engine/config/config.h"

/* -------------------------------------------------------------- commands */

/* `eddy NAME ...`: each returns the process exit status (0 ok, 1 failure,
 * 2 usage). argv[0] is the command's name. */
typedef struct eddy_command {
  const char *name;
  int (*main)(int argc, char **argv);
  const char *usage;   /* one line: the arguments */
  const char *summary; /* one line: what it does */
} eddy_command_t;
/* Loads -c FILE for command CMD and checks that it has pipeline ONLY (when
 * not NULL); NULL after an error on stderr. The caller frees the config. */
eddy_config_t *eddy__cmd_config(const char *cmd, const char *path, const char *only);

int eddy_cmd_config(int argc, char **argv);
int eddy_cmd_eval(int argc, char **argv);
int eddy_cmd_predict(int argc, char **argv);
int eddy_cmd_gen(int argc, char **argv);
int eddy_cmd_run(int argc, char **argv);
int eddy_cmd_demo(int argc, char **argv);
int eddy_cmd_broker(int argc, char **argv);
int eddy_cmd_detect(int argc, char **argv);
int eddy_cmd_models(int argc, char **argv);
int eddy_cmd_alerts(int argc, char **argv);
int eddy_cmd_verify(int argc, char **argv);

/* A file of records for `eval` and `predict`: CSV with a header or JSON
 * lines (a JSON file's first record that parses gives the field names);
 * the format by the config's [source] format (type = file), else the
 * file's extension, else the first record; a byte order mark and blank
 * lines skipped. */
typedef struct eddy__records_file {
  const char *path;   /* NULL: stdin */
  eddy_lines_t *lines;
  eddy_format_t fmt;
  char **names;       /* the records' fields */
  int n_names;
} eddy__records_file_t;

/* Opens path (NULL or "-": stdin) and reads its header. Errors name the
 * file. Close with eddy__records_file_close (also after a failure). */
int eddy__records_file_open(eddy__records_file_t *f, const char *path, const eddy_pipeline_conf_t *pc,
                            char *err, size_t size);
/* With [features] numeric empty: the fields whose values in the first
 * 1000 records are not all numbers join pc's nominal list (said on
 * stderr). Call after open, before reading records. */
int eddy__records_file_infer(eddy__records_file_t *f, eddy_pipeline_conf_t *pc, char *err, size_t size);
/* Adds which file's header a "[features] names 'x', which the records do
 * not have" error is about. */
void eddy__records_file_explain(const eddy__records_file_t *f, char *err, size_t size);
/* The next record (blank lines skipped); EDDY_EEOF at the end. */
int eddy__records_file_next(eddy__records_file_t *f, char **line, size_t *len);
void eddy__records_file_close(eddy__records_file_t *f);

#endif /* EDDY_CLI_H */
