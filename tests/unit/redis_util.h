/* redis_util.h: a real redis-server for the suites that need one: started
 * on a free loopback port in a temporary directory, and stopped even when
 * a test fails (fixture teardown), exits (atexit) or crashes (the server
 * gets SIGKILL through PR_SET_PDEATHSIG when the test process dies). Also
 * a loop driver: run a libuv loop until a flag is set or time runs out.
 * Header-only; each suite includes it once. */
#ifndef EDDY_TEST_REDIS_UTIL_H
#define EDDY_TEST_REDIS_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "core/core.h"
#include "engine/config/config.h"
#include "engine/model/model.h"

#define REDIS_SERVER_BIN "/usr/bin/redis-server"

typedef struct redis_srv {
  pid_t pid;
  int port;
  char dir[128];
  char url[64];
  const char *extra[12]; /* more redis-server arguments, NULL-terminated */
} redis_srv_t;

static redis_srv_t *redis_srv_all_[8];

static EDDY_UNUSED void redis_srv_kill(redis_srv_t *s, int sig) {
  if (s->pid <= 0) return;
  kill(s->pid, sig);
  int st;
  while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR) {
  }
  s->pid = 0;
}

static EDDY_UNUSED void redis_srv_atexit_(void) {
  for (int i = 0; i < 8; i++)
    if (redis_srv_all_[i] && redis_srv_all_[i]->pid > 0) kill(redis_srv_all_[i]->pid, SIGKILL);
}

static EDDY_UNUSED int redis_free_port_(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || getsockname(fd, (struct sockaddr *)&a, &len)) {
    if (fd >= 0) close(fd);
    return -1;
  }
  close(fd);
  return ntohs(a.sin_port);
}

/* Waits until the server answers PING (up to 10 s). */
static EDDY_UNUSED int redis_srv_wait_(redis_srv_t *s) {
  for (int i = 0; i < 1000; i++) {
    struct timeval tv = {0, 200000};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
    if (c && !c->err) {
      redisReply *r = redisCommand(c, "PING");
      int ok = r && r->type == REDIS_REPLY_STATUS;
      if (r) freeReplyObject(r);
      redisFree(c);
      if (ok) return 0;
    } else if (c) {
      redisFree(c);
    }
    int st;
    if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
      s->pid = 0;
      return -1; /* it exited */
    }
    usleep(10000);
  }
  return -1;
}

/* (Re)starts the server on s->port in s->dir. */
static EDDY_UNUSED int redis_srv_spawn_(redis_srv_t *s) {
  char port[16], log[200];
  snprintf(port, sizeof port, "%d", s->port);
  snprintf(log, sizeof log, "%s/redis.log", s->dir);
  const char *argv[40] = {REDIS_SERVER_BIN, "--port", port, "--bind", "127.0.0.1", "--dir", s->dir,
                          "--save", "", "--daemonize", "no", "--logfile", log,
                          "--protected-mode", "no"};
  int n = 15;
  for (int i = 0; s->extra[i] && n < 38; i++) argv[n++] = s->extra[i];
  argv[n] = NULL;
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      dup2(devnull, 0);
      dup2(devnull, 1);
    }
    execv(REDIS_SERVER_BIN, (char *const *)argv);
    _exit(127);
  }
  s->pid = pid;
  return redis_srv_wait_(s);
}

/* Starts a fresh server; extra (may be NULL) are more arguments, e.g.
 * {"--appendonly", "yes", "--appendfsync", "always", NULL}. */
static EDDY_UNUSED int redis_srv_start(redis_srv_t *s, const char *const *extra) {
  memset(s, 0, sizeof *s);
  if (access(REDIS_SERVER_BIN, X_OK) != 0) return -1;
  for (int i = 0; extra && extra[i] && i < 11; i++) s->extra[i] = extra[i];
  snprintf(s->dir, sizeof s->dir, "/tmp/eddy-redis-XXXXXX");
  if (!mkdtemp(s->dir)) return -1;
  static int registered;
  if (!registered) {
    atexit(redis_srv_atexit_);
    registered = 1;
  }
  for (int i = 0; i < 8; i++)
    if (!redis_srv_all_[i] || redis_srv_all_[i]->pid <= 0) {
      redis_srv_all_[i] = s;
      break;
    }
  for (int attempt = 0; attempt < 5; attempt++) {
    s->port = redis_free_port_();
    snprintf(s->url, sizeof s->url, "redis://127.0.0.1:%d/0", s->port);
    if (s->port > 0 && redis_srv_spawn_(s) == 0) return 0;
    redis_srv_kill(s, SIGKILL);
  }
  return -1;
}

/* Starts it again (same port, directory and arguments) after a kill. */
static EDDY_UNUSED int redis_srv_restart(redis_srv_t *s) {
  for (int attempt = 0; attempt < 50; attempt++) {
    if (redis_srv_spawn_(s) == 0) return 0;
    redis_srv_kill(s, SIGKILL);
    usleep(100000); /* the port may be busy for a moment */
  }
  return -1;
}

/* Stops the server and removes its directory. */
static EDDY_UNUSED void redis_srv_stop(redis_srv_t *s) {
  redis_srv_kill(s, SIGKILL);
  if (s->dir[0]) {
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
    if (system(cmd)) {
    }
    s->dir[0] = '\0';
  }
  for (int i = 0; i < 8; i++)
    if (redis_srv_all_[i] == s) redis_srv_all_[i] = NULL;
}

/* A blocking client of the test server, for checking what is stored. */
static EDDY_UNUSED redisContext *redis_srv_client(const redis_srv_t *s) {
  struct timeval tv = {5, 0};
  redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
  if (c && c->err) {
    redisFree(c);
    return NULL;
  }
  return c;
}

/* One command on a fresh client: 1 when it was not refused. */
static EDDY_UNUSED int redis_srv_do_(const redis_srv_t *s, const char *fmt, ...) {
  redisContext *c = redis_srv_client(s);
  if (!c) return 0;
  va_list ap;
  va_start(ap, fmt);
  redisReply *r = redisvCommand(c, fmt, ap);
  va_end(ap);
  int ok = r && r->type != REDIS_REPLY_ERROR;
  if (r) freeReplyObject(r);
  redisFree(c);
  return ok;
}

static EDDY_UNUSED int redis_cluster_ok_(const redis_srv_t *s, int n) {
  redisContext *c = redis_srv_client(s);
  if (!c) return 0;
  redisReply *r = redisCommand(c, "CLUSTER INFO");
  char known[40];
  snprintf(known, sizeof known, "cluster_known_nodes:%d\r", n);
  int ok = r && r->type == REDIS_REPLY_STRING && strstr(r->str, "cluster_state:ok") && strstr(r->str, known);
  if (r) freeReplyObject(r);
  redisFree(c);
  return ok;
}

/* A Redis Cluster of n masters (cluster-mode servers whose bus port,
 * port + 10000, fits) sharing the 16,384 slots in n equal ranges, in
 * order; 0 once every node says cluster_state:ok, -1 when redis-server
 * cannot run in cluster mode here. Stop each with redis_srv_stop. */
static EDDY_UNUSED int redis_cluster_start(redis_srv_t *nodes, int n) {
  const char *extra[] = {"--cluster-enabled", "yes", "--cluster-node-timeout", "2000", NULL};
  for (int i = 0; i < n; i++) {
    int up = -1;
    for (int attempt = 0; attempt < 10 && up; attempt++) up = redis_srv_start(&nodes[i], extra);
    if (up) return -1;
    int lo = 16384 * i / n, hi = 16384 * (i + 1) / n - 1;
    if (!redis_srv_do_(&nodes[i], "CLUSTER ADDSLOTSRANGE %d %d", lo, hi)) return -1;
    if (i && !redis_srv_do_(&nodes[0], "CLUSTER MEET 127.0.0.1 %d", nodes[i].port)) return -1;
  }
  for (int t = 0; t < 1000; t++) {
    int all = 1;
    for (int i = 0; i < n && all; i++) all = redis_cluster_ok_(&nodes[i], n);
    if (all) return 0;
    usleep(20000);
  }
  return -1;
}

static EDDY_UNUSED void loop_wake_(uv_timer_t *t) { (void)t; }

/* Runs the loop until *flag is non-zero or `seconds` pass; returns *flag. */
static EDDY_UNUSED int run_until(uv_loop_t *loop, volatile int *flag, double seconds) {
  uv_timer_t t;
  uv_timer_init(loop, &t);
  uv_timer_start(&t, loop_wake_, 10, 10); /* UV_RUN_ONCE returns at least this often */
  double end = eddy_now() + seconds;
  while (!*flag && eddy_now() < end) uv_run(loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(loop, UV_RUN_NOWAIT);
  return *flag;
}

/* Runs the loop for `seconds`. */
static EDDY_UNUSED void run_for(uv_loop_t *loop, double seconds) {
  int never = 0;
  run_until(loop, &never, seconds);
}

#endif /* EDDY_TEST_REDIS_UTIL_H */
