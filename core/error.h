/* core/error.h: the version, error codes (functions return 0 or a negative
 * EDDY_E*), eddy_strerror, and the one-line logger. */
#ifndef EDDY_CORE_ERROR_H
#define EDDY_CORE_ERROR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define EDDY_VERSION "0.1.0"

#if defined(__GNUC__)
#define EDDY_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define EDDY_UNUSED __attribute__((unused))
#else
#define EDDY_PRINTF(f, a)
#define EDDY_UNUSED
#endif

/* ---------------------------------------------------------------- errors */

/* Functions return 0 or one of these negative codes. */
typedef enum eddy_err {
  EDDY_OK = 0,
  EDDY_EINVAL = -1,    /* invalid argument or value */
  EDDY_ENOMEM = -2,    /* out of memory */
  EDDY_ENOENT = -3,    /* no such name, key or field */
  EDDY_EIO = -4,       /* input/output error */
  EDDY_EPARSE = -5,    /* malformed input */
  EDDY_ECORRUPT = -6,  /* data does not verify (magic, CRC, truncation) */
  EDDY_EVERSION = -7,  /* unsupported format version */
  EDDY_ERANGE = -8,    /* value out of range or a bound was reached */
  EDDY_ENOSPC = -9,    /* caller's buffer too small */
  EDDY_ETYPE = -10,    /* value of the wrong type */
  EDDY_EAGAIN = -11,   /* not now, try again */
  EDDY_ETIMEDOUT = -12,
  EDDY_ESTATE = -13,   /* not valid in the current state */
  EDDY_EEOF = -14,     /* end of input */
  EDDY_ENOTSUP = -15,  /* not supported by this component */
  EDDY_EMISSING = -16, /* a required field is absent */
  EDDY_EACCES = -17    /* refused: authentication failed, or no permission */
} eddy_err_t;

/* Static text for an error code; never NULL. */
const char *eddy_strerror(int err);

/* Formats into errstr (when not NULL) and returns err, for one-line error
 * returns: `return eddy_seterr(errstr, size, EDDY_EINVAL, "bad %s", k);` */
int eddy_seterr(char *errstr, size_t errstr_size, int err, const char *fmt, ...)
    EDDY_PRINTF(4, 5);

/* --------------------------------------------------------------- logging */

typedef enum { EDDY_LOG_DEBUG, EDDY_LOG_INFO, EDDY_LOG_WARN, EDDY_LOG_ERROR } eddy_log_level_t;

/* One line on stderr with a UTC timestamp and the level. */
void eddy_log(eddy_log_level_t level, const char *fmt, ...) EDDY_PRINTF(2, 3);
void eddy_log_set_level(eddy_log_level_t level);

#endif /* EDDY_CORE_ERROR_H */
