/* cmd_config.c: `eddy config`: the key reference generated from the
 * option tables, and validation of a config file. */
#include <stdio.h>
#include <string.h>

#include "eddy.h"

int eddy_cmd_config(int argc, char **argv) {
  (void)argc;
  (void)argv;
  return 2;
}
