/* engine/config/config.h: reads and validates config files (inih), and
 * writes the key reference. */
#ifndef EDDY_CONFIG_H
#define EDDY_CONFIG_H

#include "core/core.h"

/* Reads and validates a config file: every key known, every value in
 * range, learner and detector names registered with valid parameters.
 * Errors read "FILE:LINE: [section] key 'KEY': what is wrong". Free with
 * eddy_config_free. */
eddy_config_t *eddy_config_load(const char *path, char *errstr, size_t errstr_size);
/* The same from text in memory; `name` stands for the file in errors. */
eddy_config_t *eddy_config_parse(const char *text, const char *name, char *errstr,
                                 size_t errstr_size);
/* Writes configs/REFERENCE.md's text: every section's keys, then every
 * learner's and detector's. */
void eddy_config_reference(FILE *out);

#endif /* EDDY_CONFIG_H */
