/* lines.c: reads a file or stdin line by line through one buffer, for
 * `eddy eval` and the file source: no allocation per line. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "connectors/connectors.h"

struct eddy_lines {
  int fd;
  int own_fd;
  char *buf;
  size_t cap, start, end; /* unread bytes are buf[start, end) */
  int eof;
  uint64_t number;
  uint64_t offset;
  int64_t size;
};

eddy_lines_t *eddy_lines_open(const char *path, char *errstr, size_t errstr_size) {
  eddy_lines_t *l = calloc(1, sizeof *l);
  if (!l) {
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    return NULL;
  }
  l->cap = 1 << 20;
  l->buf = malloc(l->cap + 1);
  if (!l->buf) {
    free(l);
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    return NULL;
  }
  if (!path || strcmp(path, "-") == 0) {
    l->fd = 0;
  } else {
    l->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (l->fd < 0) {
      eddy_seterr(errstr, errstr_size, EDDY_EIO, "%s: %s", path, strerror(errno));
      free(l->buf);
      free(l);
      return NULL;
    }
    l->own_fd = 1;
  }
  struct stat st;
  l->size = fstat(l->fd, &st) == 0 && S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1;
  return l;
}

/* Reads more bytes after moving the unread ones to the front; grows the
 * buffer when one line fills it. */
static int fill(eddy_lines_t *l) {
  if (l->start > 0) {
    memmove(l->buf, l->buf + l->start, l->end - l->start);
    l->end -= l->start;
    l->start = 0;
  }
  if (l->end == l->cap) {
    char *b = realloc(l->buf, l->cap * 2 + 1);
    if (!b) return EDDY_ENOMEM;
    l->buf = b;
    l->cap *= 2;
  }
  for (;;) {
    ssize_t n = read(l->fd, l->buf + l->end, l->cap - l->end);
    if (n > 0) {
      l->end += (size_t)n;
      return 0;
    }
    if (n == 0) {
      l->eof = 1;
      return 0;
    }
    if (errno != EINTR) return EDDY_EIO;
  }
}

int eddy_lines_next(eddy_lines_t *l, char **line, size_t *len) {
  for (;;) {
    char *s = l->buf + l->start;
    char *nl = memchr(s, '\n', l->end - l->start);
    if (nl || (l->eof && l->end > l->start)) {
      size_t n = nl ? (size_t)(nl - s) : l->end - l->start;
      l->start += nl ? n + 1 : n;
      l->offset += nl ? n + 1 : n;
      if (n && s[n - 1] == '\r') n--;
      s[n] = '\0'; /* over the '\n' (or the spare byte at cap) */
      l->number++;
      *line = s;
      *len = n;
      return 0;
    }
    if (l->eof) return EDDY_EEOF;
    int err = fill(l);
    if (err) return err;
  }
}

uint64_t eddy_lines_number(const eddy_lines_t *l) { return l->number; }
uint64_t eddy_lines_offset(const eddy_lines_t *l) { return l->offset; }
int64_t eddy_lines_size(const eddy_lines_t *l) { return l->size; }

void eddy_lines_close(eddy_lines_t *l) {
  if (!l) return;
  if (l->own_fd) close(l->fd);
  free(l->buf);
  free(l);
}
