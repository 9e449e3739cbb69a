/* http.c: the process's HTTP endpoint (/metrics, /healthz, the dashboard,
 * the serving API) on the loop, parsed with Debian's http-parser. HTTP/1.1
 * keep-alive, one request at a time per connection: while an answer is
 * being written the connection is not read. A URL over 1 KiB or headers
 * over 16 KiB get 400, a body over the bound 413 (both close), an idle
 * connection is closed after 10 s: a hostile client costs bounded memory. */
#include <http_parser.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/stream/stream.h"

#define MAX_HEADERS 16384
#define IDLE_MS 10000

typedef struct conn conn_t;

struct eddy_http {
  uv_loop_t *loop;
  uv_tcp_t server;
  eddy_http_handler_t handler;
  void *ctx;
  size_t max_body;
  conn_t *conns; /* open connections, to close them on stop */
  int port;
  int stopping;
  int handles; /* handles not yet closed (server + connections) */
};

struct conn {
  uv_tcp_t tcp;
  uv_timer_t idle;
  eddy_http_t *http;
  conn_t *next, *prev;
  http_parser parser;
  /* The request in hand. */
  size_t header_bytes;
  char url[1024];
  size_t url_len;
  char auth[512];
  size_t auth_len;
  int header_is_auth, in_value;
  eddy_buf_t body;
  int complete;  /* parsed, answer being written */
  int close_after;
  int closing;
  int open;      /* handles of this connection not yet closed */
  eddy_buf_t pending; /* bytes read past the request in hand (pipelined) */
  uv_write_t wr;
  eddy_buf_t out, resp;
};

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);
static void on_alloc(uv_handle_t *hd, size_t suggested, uv_buf_t *buf);

static void http_maybe_free(eddy_http_t *h) {
  if (h->stopping && h->handles == 0) free(h);
}

static void conn_closed(uv_handle_t *hd) {
  conn_t *c = hd->data;
  if (--c->open) return;
  eddy_http_t *h = c->http;
  if (c->prev) c->prev->next = c->next;
  else h->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  eddy_buf_free(&c->out);
  eddy_buf_free(&c->resp);
  eddy_buf_free(&c->body);
  eddy_buf_free(&c->pending);
  free(c);
  h->handles--;
  http_maybe_free(h);
}

static void conn_close(conn_t *c) {
  if (c->closing) return;
  c->closing = 1;
  uv_read_stop((uv_stream_t *)&c->tcp);
  uv_close((uv_handle_t *)&c->idle, conn_closed);
  uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void request_reset(conn_t *c) {
  c->header_bytes = 0;
  c->url_len = 0;
  c->url[0] = '\0';
  c->auth_len = 0;
  c->auth[0] = '\0';
  c->header_is_auth = c->in_value = 0;
  eddy_buf_clear(&c->body);
  c->complete = 0;
}

/* Parses bytes; returns 0, or -1 when the connection is done with. */
static int feed(conn_t *c, const char *p, size_t n);

static void on_written(uv_write_t *w, int status) {
  conn_t *c = w->data;
  if (status || c->close_after || c->http->stopping) {
    conn_close(c);
    return;
  }
  /* The next request: bytes already read first, then the socket. */
  request_reset(c);
  http_parser_pause(&c->parser, 0);
  if (c->pending.len) {
    eddy_buf_t rest = c->pending;
    eddy_buf_init(&c->pending);
    int rc = feed(c, (const char *)rest.data, rest.len);
    eddy_buf_free(&rest);
    if (rc || c->complete) return;
  }
  uv_timer_again(&c->idle);
  if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read)) conn_close(c);
}

static const char *reason(int status) {
  switch (status) {
  case 200: return "OK";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 409: return "Conflict";
  case 413: return "Payload Too Large";
  case 415: return "Unsupported Media Type";
  case 501: return "Not Implemented";
  case 503: return "Service Unavailable";
  default: return status >= 500 ? "Internal Server Error" : "Error";
  }
}

static void respond(conn_t *c, int status, const char *type, const eddy_buf_t *body, int close_after) {
  c->close_after = close_after;
  eddy_buf_clear(&c->out);
  eddy_buf_printf(&c->out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s\r\n", status,
                  reason(status), type, body ? body->len : 0, status == 401 ? "WWW-Authenticate: Bearer\r\n" : "",
                  close_after ? "Connection: close\r\n" : "");
  if (body && body->len) eddy_buf_put(&c->out, body->data, body->len);
  if (c->out.err) {
    conn_close(c);
    return;
  }
  c->complete = 1;
  uv_read_stop((uv_stream_t *)&c->tcp);
  uv_buf_t buf = uv_buf_init((char *)c->out.data, (unsigned)c->out.len);
  c->wr.data = c;
  if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &buf, 1, on_written)) conn_close(c);
}

static void respond_error(conn_t *c, int status, const char *msg) {
  eddy_buf_clear(&c->resp);
  eddy_buf_printf(&c->resp, "{\"error\":");
  eddy_json_string(&c->resp, msg, strlen(msg));
  eddy_buf_printf(&c->resp, "}\n");
  respond(c, status, "application/json", &c->resp, 1);
}

static int on_url(http_parser *p, const char *at, size_t len) {
  conn_t *c = p->data;
  if (c->url_len + len >= sizeof c->url) return 1;
  memcpy(c->url + c->url_len, at, len);
  c->url_len += len;
  c->url[c->url_len] = '\0';
  return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len) {
  conn_t *c = p->data;
  if ((c->header_bytes += len) > MAX_HEADERS) return 1;
  /* Field names come in pieces only across reads: a short name is read whole almost always,
   * and a split "Authorization" is compared on its first piece (the rest is ignored). */
  if (c->in_value || !c->header_is_auth) c->header_is_auth = len == 13 && strncasecmp(at, "authorization", 13) == 0;
  c->in_value = 0;
  return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len) {
  conn_t *c = p->data;
  if ((c->header_bytes += len) > MAX_HEADERS) return 1;
  c->in_value = 1;
  if (!c->header_is_auth) return 0;
  if (c->auth_len + len >= sizeof c->auth) return 1;
  memcpy(c->auth + c->auth_len, at, len);
  c->auth_len += len;
  c->auth[c->auth_len] = '\0';
  return 0;
}

static int on_headers_complete(http_parser *p) {
  conn_t *c = p->data;
  if (p->content_length != ULLONG_MAX && p->content_length > c->http->max_body) {
    respond_error(c, 413, "request body larger than [http] max_body_bytes");
    return 1;
  }
  return 0;
}

static int on_body(http_parser *p, const char *at, size_t len) {
  conn_t *c = p->data;
  if (c->body.len + len > c->http->max_body) {
    respond_error(c, 413, "request body larger than [http] max_body_bytes");
    return 1;
  }
  eddy_buf_put(&c->body, at, len);
  return c->body.err ? 1 : 0;
}

static int on_message_complete(http_parser *p) {
  conn_t *c = p->data;
  if (c->complete) return 0;
  eddy_http_t *h = c->http;
  /* The path, and its query apart. */
  char *q = strchr(c->url, '?');
  const char *query = "";
  if (q) {
    *q = '\0';
    query = q + 1;
  }
  eddy_buf_put_u8(&c->body, 0); /* handlers may read the body as a string */
  eddy_http_request_t req = {
      .method = http_method_str((enum http_method)p->method),
      .path = c->url,
      .query = query,
      .body = c->body.len ? (const char *)c->body.data : "",
      .body_len = c->body.len ? c->body.len - 1 : 0,
      .authorization = c->auth,
  };
  eddy_buf_clear(&c->resp);
  const char *type = "text/plain; charset=utf-8";
  int status = h->handler(h->ctx, &req, &c->resp, &type);
  respond(c, status, type, &c->resp, !http_should_keep_alive(p));
  http_parser_pause(p, 1); /* one request at a time */
  return 0;
}

static const http_parser_settings settings = {
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static int feed(conn_t *c, const char *p, size_t n) {
  size_t used = http_parser_execute(&c->parser, &settings, p, n);
  enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
  if (c->closing) return -1;
  if (c->complete && e == HPE_PAUSED) {
    if (used < n) eddy_buf_put(&c->pending, p + used, n - used); /* the next request's */
    return c->pending.err ? -1 : 0;
  }
  if (c->complete) return 0; /* answered by a callback (413): closes after the write */
  if (e != HPE_OK || used != n) {
    char msg[128];
    snprintf(msg, sizeof msg, "bad request: %s", http_errno_description(e));
    respond_error(c, 400, msg);
  }
  return 0;
}

static void on_alloc(uv_handle_t *hd, size_t suggested, uv_buf_t *buf) {
  (void)hd;
  (void)suggested;
  static char slab[65536]; /* one loop thread: reads are consumed before the next */
  *buf = uv_buf_init(slab, sizeof slab);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  conn_t *c = s->data;
  if (n < 0) {
    conn_close(c);
    return;
  }
  if (n == 0 || c->complete || c->closing) return;
  uv_timer_again(&c->idle);
  feed(c, buf->base, (size_t)n);
}

static void on_idle(uv_timer_t *t) {
  conn_t *c = t->data;
  if (!c->complete) conn_close(c); /* an answer being written closes (or goes on) by itself */
}

static void on_connection(uv_stream_t *server, int status) {
  eddy_http_t *h = server->data;
  if (status < 0 || h->stopping) return;
  conn_t *c = calloc(1, sizeof *c);
  if (!c) return;
  c->http = h;
  eddy_buf_init(&c->out);
  eddy_buf_init(&c->resp);
  eddy_buf_init(&c->body);
  eddy_buf_init(&c->pending);
  uv_tcp_init(h->loop, &c->tcp);
  uv_timer_init(h->loop, &c->idle);
  c->tcp.data = c;
  c->idle.data = c;
  c->open = 2;
  h->handles++;
  c->next = h->conns;
  if (h->conns) h->conns->prev = c;
  h->conns = c;
  http_parser_init(&c->parser, HTTP_REQUEST);
  c->parser.data = c;
  if (uv_accept(server, (uv_stream_t *)&c->tcp) ||
      uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read)) {
    conn_close(c);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1); /* answers are one write each: no Nagle wait behind them */
  uv_timer_start(&c->idle, on_idle, IDLE_MS, IDLE_MS);
}

eddy_http_t *eddy_http_start(uv_loop_t *loop, const char *listen, size_t max_body, eddy_http_handler_t handler,
                             void *ctx, char *errstr, size_t errstr_size) {
  char host[128];
  const char *colon = strrchr(listen, ':');
  size_t hn = colon ? (size_t)(colon - listen) : 0; /* PORT alone: loopback, as :PORT */
  int64_t port;
  if (hn >= sizeof host || eddy_parse_int(colon ? colon + 1 : listen, &port) || port < 0 || port > 65535) {
    eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "[http] listen '%s': expected HOST:PORT", listen);
    return NULL;
  }
  memcpy(host, listen, hn);
  host[hn] = '\0';
  if (host[0] == '[' && host[strlen(host) - 1] == ']') { /* [::1]:8080 */
    memmove(host, host + 1, strlen(host));
    host[strlen(host) - 1] = '\0';
  }
  struct sockaddr_storage addr;
  if (uv_ip4_addr(host[0] ? host : "127.0.0.1", (int)port, (struct sockaddr_in *)&addr) &&
      uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)&addr)) {
    eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "[http] listen '%s': '%s' is not an IP address",
                listen, host);
    return NULL;
  }
  eddy_http_t *h = calloc(1, sizeof *h);
  if (!h) {
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    return NULL;
  }
  h->loop = loop;
  h->handler = handler;
  h->ctx = ctx;
  h->max_body = max_body ? max_body : EDDY_HTTP_MAX_BODY;
  uv_tcp_init(loop, &h->server);
  h->server.data = h;
  h->handles = 1;
  int rc = uv_tcp_bind(&h->server, (const struct sockaddr *)&addr, 0);
  if (!rc) rc = uv_listen((uv_stream_t *)&h->server, 511, on_connection);
  if (rc) {
    eddy_seterr(errstr, errstr_size, EDDY_EIO, "[http] listen %s: %s", listen, uv_strerror(rc));
    eddy_http_stop(h);
    return NULL;
  }
  struct sockaddr_storage bound;
  int len = sizeof bound;
  uv_tcp_getsockname(&h->server, (struct sockaddr *)&bound, &len);
  h->port = bound.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&bound)->sin6_port)
                                         : ntohs(((struct sockaddr_in *)&bound)->sin_port);
  return h;
}

int eddy_http_port(const eddy_http_t *h) { return h ? h->port : 0; }

static void server_closed(uv_handle_t *hd) {
  eddy_http_t *h = hd->data;
  h->handles--;
  http_maybe_free(h);
}

void eddy_http_stop(eddy_http_t *h) {
  if (!h || h->stopping) return;
  h->stopping = 1;
  for (conn_t *c = h->conns; c; c = c->next) conn_close(c);
  uv_close((uv_handle_t *)&h->server, server_closed);
}
