/* lines.c: reads a file or stdin line by line through one buffer, for
 * `eddy eval` and the file source: no allocation per line. A first line's
 * UTF-8 byte order mark is dropped; a mark lets setup read ahead (to infer
 * fields) and rewind, also on a pipe. */
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
  /* A mark (eddy_lines_mark): bytes from `mark` on are kept, and the line
   * ends next() overwrote with NUL are noted to be put back on rewind. */
  int marked;
  size_t mark;
  uint64_t mark_number, mark_offset;
  struct { size_t at; char c; } *ends;
  size_t n_ends, cap_ends;
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
  size_t keep = l->marked ? l->mark : l->start; /* the first byte still needed */
  if (keep > 0) {
    memmove(l->buf, l->buf + keep, l->end - keep);
    l->end -= keep;
    l->start -= keep;
    if (l->marked) l->mark = 0;
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

static int note_end(eddy_lines_t *l, size_t at, char c) {
  if (l->n_ends == l->cap_ends) {
    size_t cap = l->cap_ends ? l->cap_ends * 2 : 256;
    void *v = realloc(l->ends, cap * sizeof *l->ends);
    if (!v) return EDDY_ENOMEM;
    l->ends = v;
    l->cap_ends = cap;
  }
  l->ends[l->n_ends].at = at;
  l->ends[l->n_ends++].c = c;
  return 0;
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
      if (l->marked && note_end(l, (size_t)(s + n - l->buf) - l->mark, s[n])) return EDDY_ENOMEM;
      s[n] = '\0'; /* over the '\n' (or the spare byte at cap) */
      l->number++;
      if (l->number == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        s += 3; /* a UTF-8 byte order mark is no part of the first line */
        n -= 3;
      }
      *line = s;
      *len = n;
      return 0;
    }
    if (l->eof) return EDDY_EEOF;
    int err = fill(l);
    if (err) return err;
  }
}

void eddy_lines_mark(eddy_lines_t *l) {
  l->marked = 1;
  l->mark = l->start;
  l->mark_number = l->number;
  l->mark_offset = l->offset;
  l->n_ends = 0;
}

void eddy_lines_rewind(eddy_lines_t *l) {
  if (!l->marked) return;
  for (size_t i = 0; i < l->n_ends; i++) l->buf[l->mark + l->ends[i].at] = l->ends[i].c;
  l->start = l->mark;
  l->number = l->mark_number;
  l->offset = l->mark_offset;
  l->marked = 0;
  l->n_ends = 0;
}

uint64_t eddy_lines_number(const eddy_lines_t *l) { return l->number; }
uint64_t eddy_lines_offset(const eddy_lines_t *l) { return l->offset; }
int64_t eddy_lines_size(const eddy_lines_t *l) { return l->size; }

void eddy_lines_close(eddy_lines_t *l) {
  if (!l) return;
  if (l->own_fd) close(l->fd);
  free(l->ends);
  free(l->buf);
  free(l);
}
