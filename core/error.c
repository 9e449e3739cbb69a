/* error.c: error texts and the one-line logger every component uses. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "core/core.h"

const char *eddy_strerror(int err) {
  switch (err) {
  case EDDY_OK: return "success";
  case EDDY_EINVAL: return "invalid argument";
  case EDDY_ENOMEM: return "out of memory";
  case EDDY_ENOENT: return "no such name";
  case EDDY_EIO: return "input/output error";
  case EDDY_EPARSE: return "malformed input";
  case EDDY_ECORRUPT: return "data does not verify";
  case EDDY_EVERSION: return "unsupported format version";
  case EDDY_ERANGE: return "out of range";
  case EDDY_ENOSPC: return "buffer too small";
  case EDDY_ETYPE: return "wrong type";
  case EDDY_EAGAIN: return "try again";
  case EDDY_ETIMEDOUT: return "timed out";
  case EDDY_ESTATE: return "not valid in this state";
  case EDDY_EEOF: return "end of input";
  case EDDY_ENOTSUP: return "not supported";
  case EDDY_EMISSING: return "required field missing";
  case EDDY_EACCES: return "authentication failed or permission denied";
  default: return "unknown error";
  }
}

int eddy_seterr(char *errstr, size_t errstr_size, int err, const char *fmt, ...) {
  if (errstr && errstr_size) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errstr, errstr_size, fmt, ap);
    va_end(ap);
  }
  return err;
}

static eddy_log_level_t log_level = EDDY_LOG_INFO;

void eddy_log_set_level(eddy_log_level_t level) { log_level = level; }

void eddy_log(eddy_log_level_t level, const char *fmt, ...) {
  static const char *const names[] = {"debug", "info", "warn", "error"};
  if (level < log_level) return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  /* One formatted write per line so that lines from threads stay whole. */
  char line[1024];
  int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ eddy %s: ",
                   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                   tm.tm_sec, ts.tv_nsec / 1000000, names[level]);
  va_list ap;
  va_start(ap, fmt);
  if (n > 0 && (size_t)n < sizeof line) n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof line - 1) n = (int)sizeof line - 2;
  line[n++] = '\n';
  /* write(2), not stdio: one system call per line, whole even when
   * worker threads and librdkafka's log at once. */
  for (ssize_t off = 0, w; off < n; off += w)
    if ((w = write(STDERR_FILENO, line + off, (size_t)(n - off))) <= 0) break;
}
