/* http.c: the process's HTTP endpoint (/metrics, /healthz, the dashboard) on the loop,
 * parsed with Debian's http-parser. Requests are small GETs: a request
 * larger than 16 KiB, or a connection idle for 10 s, is closed, so that a
 * hostile client costs bounded memory. Every answer closes its
 * connection. */
#include <http_parser.h>
#include <stdlib.h>
#include <string.h>

#include "engine/stream/stream.h"

#define MAX_REQUEST 16384
#define IDLE_MS 10000

typedef struct conn conn_t;

struct eddy_http {
  uv_loop_t *loop;
  uv_tcp_t server;
  eddy_http_handler_t handler;
  void *ctx;
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
  size_t received;
  char url[1024];
  size_t url_len;
  int done;    /* the request was answered */
  int closing;
  int open;    /* handles of this connection not yet closed */
  uv_write_t wr;
  eddy_buf_t out;
};

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

static void on_written(uv_write_t *w, int status) {
  (void)status;
  conn_close(w->data);
}

static void respond(conn_t *c, int status, const char *type, const eddy_buf_t *body) {
  const char *reason = status == 200 ? "OK" : status == 404 ? "Not Found" : status == 405 ? "Method Not Allowed"
                       : status == 400 ? "Bad Request" : status == 413 ? "Payload Too Large"
                       : status == 503 ? "Service Unavailable" : "Error";
  eddy_buf_clear(&c->out);
  eddy_buf_printf(&c->out,
                  "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                  status, reason, type, body ? body->len : 0);
  if (body && body->len) eddy_buf_put(&c->out, body->data, body->len);
  if (c->out.err) {
    conn_close(c);
    return;
  }
  c->done = 1;
  uv_read_stop((uv_stream_t *)&c->tcp);
  uv_buf_t buf = uv_buf_init((char *)c->out.data, (unsigned)c->out.len);
  c->wr.data = c;
  if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &buf, 1, on_written)) conn_close(c);
}

static int on_url(http_parser *p, const char *at, size_t len) {
  conn_t *c = p->data;
  if (c->url_len + len >= sizeof c->url) return 1;
  memcpy(c->url + c->url_len, at, len);
  c->url_len += len;
  c->url[c->url_len] = '\0';
  return 0;
}

static int on_message_complete(http_parser *p) {
  conn_t *c = p->data;
  if (c->done) return 0;
  eddy_http_t *h = c->http;
  /* The path, and its query apart. */
  char *q = strchr(c->url, '?');
  const char *query = "";
  if (q) {
    *q = '\0';
    query = q + 1;
  }
  eddy_buf_t body;
  eddy_buf_init(&body);
  const char *type = "text/plain; charset=utf-8";
  int status = h->handler(h->ctx, http_method_str((enum http_method)p->method), c->url, query, &body, &type);
  respond(c, status, type, &body);
  eddy_buf_free(&body);
  http_parser_pause(p, 1); /* one request per connection */
  return 0;
}

static const http_parser_settings settings = {
    .on_url = on_url,
    .on_message_complete = on_message_complete,
};

static void on_alloc(uv_handle_t *hd, size_t suggested, uv_buf_t *buf) {
  (void)hd;
  (void)suggested;
  static char slab[4096]; /* one loop thread: reads are consumed before the next */
  *buf = uv_buf_init(slab, sizeof slab);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  conn_t *c = s->data;
  if (n < 0) {
    conn_close(c);
    return;
  }
  if (n == 0 || c->done) return;
  c->received += (size_t)n;
  if (c->received > MAX_REQUEST) {
    eddy_buf_t body;
    eddy_buf_init(&body);
    eddy_buf_printf(&body, "request too large\n");
    respond(c, 413, "text/plain; charset=utf-8", &body);
    eddy_buf_free(&body);
    return;
  }
  size_t used = http_parser_execute(&c->parser, &settings, buf->base, (size_t)n);
  enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
  if (!c->done && (e != HPE_OK || used != (size_t)n) && e != HPE_PAUSED) {
    eddy_buf_t body;
    eddy_buf_init(&body);
    eddy_buf_printf(&body, "bad request: %s\n", http_errno_description(e));
    respond(c, 400, "text/plain; charset=utf-8", &body);
    eddy_buf_free(&body);
  }
}

static void on_idle(uv_timer_t *t) { conn_close(t->data); }

static void on_connection(uv_stream_t *server, int status) {
  eddy_http_t *h = server->data;
  if (status < 0 || h->stopping) return;
  conn_t *c = calloc(1, sizeof *c);
  if (!c) return;
  c->http = h;
  eddy_buf_init(&c->out);
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
  uv_timer_start(&c->idle, on_idle, IDLE_MS, 0);
}

eddy_http_t *eddy_http_start(uv_loop_t *loop, const char *listen, eddy_http_handler_t handler,
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
  uv_tcp_init(loop, &h->server);
  h->server.data = h;
  h->handles = 1;
  int rc = uv_tcp_bind(&h->server, (const struct sockaddr *)&addr, 0);
  if (!rc) rc = uv_listen((uv_stream_t *)&h->server, 64, on_connection);
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
