/* eddy/eddy.h: eddy's public C API, as installed by `make install`: the
 * foundation (errors, buffers, PRNGs, schemas and instances, option lists,
 * checkpoints), the learners (create from a registry name and key = value
 * parameters, learn, predict, save, load) and the drift detectors.
 * Compile with `pkg-config --cflags --libs eddy`.
 *
 * Ownership, in one place:
 * - Every `eddy_*_new` returns an object the caller frees with the matching
 *   `eddy_*_free`; a learner borrows its schema, which must outlive it (free
 *   the learner first). `eddy_model_load` gives the caller both the schema
 *   and the learner.
 * - Strings passed in (names, key = value pairs) are copied when kept.
 * - `eddy_buf_t` buffers are the caller's: init, fill (save), free.
 * - Functions return 0 or a negative EDDY_E* code (`eddy_strerror`);
 *   constructors return NULL and write the reason into errstr.
 * - Nothing is thread-safe by itself: one learner or detector per thread,
 *   or a lock around it. */
#ifndef EDDY_PUBLIC_H
#define EDDY_PUBLIC_H

#include "core/core.h"
#include "detectors/detectors.h"
#include "learners/learners.h"

#endif /* EDDY_PUBLIC_H */
