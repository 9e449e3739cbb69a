/* engine/cli/cli.h: the commands of the eddy binary. */
#ifndef EDDY_CLI_H
#define EDDY_CLI_H

#include "core/core.h"
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

#endif /* EDDY_CLI_H */
