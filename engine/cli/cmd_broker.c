/* cmd_broker.c: `eddy broker`: a local Kafka-protocol broker (librdkafka's
 * mock cluster) for demos and tests. It prints its bootstrap list as the
 * first line of stdout, then reads fault-injection commands from stdin, one
 * per line, answering each with `ok` or `error: ...`, until SIGINT, SIGTERM
 * or `quit` (or the end of stdin with --exit-on-eof). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connectors/connectors.h"
#include "engine/cli/cli.h"
#include "engine/config/config.h"
#include "engine/model/model.h"

#define MAX_TOPICS 256
#define DEFAULT_PARTITIONS 4 /* what the mock gives an auto-created topic */

static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig) {
  int saved = errno;
  unsigned char b = (unsigned char)sig;
  if (write(sig_pipe[1], &b, 1) < 0) { /* the pipe is full: a signal is pending anyway */
  }
  errno = saved;
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: eddy broker [--port P] [--brokers N] [--topic NAME[:PARTITIONS[:REPLICAS]]]...\n"
          "                   [--exit-on-eof]\n"
          "\n"
          "A local Kafka-protocol broker on librdkafka's mock cluster, for demos and tests.\n"
          "Prints its bootstrap list (127.0.0.1:PORT,...) as the first line of stdout, then\n"
          "reads commands from stdin, one per line, each answered with `ok` or `error: ...`.\n"
          "Runs until SIGINT, SIGTERM or `quit`; the end of stdin stops it only with\n"
          "--exit-on-eof. Topic data lives in this process's memory, at most ~5 MB per\n"
          "partition: older records are dropped (a warning says how many; a real Kafka\n"
          "keeps them). Unknown topics are created on first use with %d partitions.\n"
          "\n"
          "  --port P         first broker's port; broker i listens on P+i-1 (default 0: ephemeral)\n"
          "  --brokers N      number of brokers, ids 1..N (default 1)\n"
          "  --topic T[:P[:R]]  create topic T with P partitions (default %d), R replicas\n"
          "                   (default min(3, N)); repeatable\n"
          "  --exit-on-eof    exit when stdin ends\n"
          "\n"
          "Commands:\n%s"
          "quit                             stop the broker\n",
          DEFAULT_PARTITIONS, DEFAULT_PARTITIONS, eddy_mock_broker_help());
}

typedef struct {
  char *name;
  int partitions, replicas;
} topic_arg_t;

/* NAME[:PARTITIONS[:REPLICAS]]; topic names cannot contain ':'. t->name
 * is a copy (argv stays as ps shows it). */
static int parse_topic(const char *arg, topic_arg_t *t) {
  char *s = strdup(arg);
  if (!s) return EDDY_ENOMEM;
  t->name = s;
  t->partitions = DEFAULT_PARTITIONS;
  t->replicas = 0;
  char *c1 = strchr(s, ':');
  if (!c1) return 0;
  *c1 = '\0';
  char *c2 = strchr(c1 + 1, ':');
  if (c2) *c2 = '\0';
  int64_t v;
  if (eddy_parse_int(c1 + 1, &v) < 0 || v < 1 || v > 100000) goto bad;
  t->partitions = (int)v;
  if (c2) {
    if (eddy_parse_int(c2 + 1, &v) < 0 || v < 1 || v > 64) goto bad;
    t->replicas = (int)v;
  }
  return 0;
bad:
  free(s);
  t->name = NULL;
  return EDDY_EINVAL;
}

static void free_topics(topic_arg_t *topics, int n) {
  for (int i = 0; i < n; i++) free(topics[i].name);
}

/* Runs one line; returns 1 when it was `quit`. */
static int run_line(eddy_mock_broker_t *mb, const char *line) {
  static char reply[8192];
  const char *p = line + strspn(line, " \t\r");
  if (!*p || *p == '#') return 0;
  size_t n = strcspn(p, " \t\r");
  if (n == 4 && strncmp(p, "quit", 4) == 0 && !p[4 + strspn(p + 4, " \t\r")]) {
    printf("ok\n");
    fflush(stdout);
    return 1;
  }
  int rc = eddy_mock_broker_command(mb, p, reply, sizeof reply);
  if (rc == 0)
    printf("%sok\n", reply);
  else
    printf("error: %s\n", reply[0] ? reply : eddy_strerror(rc));
  fflush(stdout);
  return 0;
}

typedef struct {
  int port, n_brokers, exit_on_eof, n_topics;
  topic_arg_t topics[MAX_TOPICS];
} args_t;

/* Returns -1 to go on, else the exit status (--help: 0, errors: 2). */
static int parse_args(int argc, char **argv, args_t *a) {
  static const struct option longopts[] = {{"port", required_argument, NULL, 'p'},
                                           {"brokers", required_argument, NULL, 'n'},
                                           {"topic", required_argument, NULL, 't'},
                                           {"exit-on-eof", no_argument, NULL, 'e'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  int64_t v;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "p:n:t:eh", longopts, NULL)) != -1) {
    switch (c) {
    case 'p':
      if (eddy_parse_int(optarg, &v) < 0 || v < 0 || v > 65535) {
        fprintf(stderr, "eddy broker: --port: '%s' is not a port (0..65535)\n", optarg);
        return 2;
      }
      a->port = (int)v;
      break;
    case 'n':
      if (eddy_parse_int(optarg, &v) < 0 || v < 1 || v > 64) {
        fprintf(stderr, "eddy broker: --brokers: '%s' is not in 1..64\n", optarg);
        return 2;
      }
      a->n_brokers = (int)v;
      break;
    case 't':
      if (a->n_topics == MAX_TOPICS) {
        fprintf(stderr, "eddy broker: more than %d --topic options\n", MAX_TOPICS);
        return 2;
      }
      if (parse_topic(optarg, &a->topics[a->n_topics]) < 0) {
        fprintf(stderr,
                "eddy broker: --topic: '%s' is not NAME[:PARTITIONS[:REPLICAS]] "
                "(partitions 1..100000)\n",
                optarg);
        return 2;
      }
      a->n_topics++;
      break;
    case 'e':
      a->exit_on_eof = 1;
      break;
    case 'h':
      usage(stdout);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "eddy broker: unexpected argument '%s'\n", argv[optind]);
    return 2;
  }
  return -1;
}

/* Creates the brokers and the --topic topics; NULL (reported) on failure. */
static eddy_mock_broker_t *start_brokers(const args_t *a) {
  char err[512];
  eddy_mock_broker_t *mb = eddy_mock_broker_new(a->n_brokers, a->port, err, sizeof err);
  if (!mb) {
    fprintf(stderr, "eddy broker: %s\n", err);
    return NULL;
  }
  for (int i = 0; i < a->n_topics; i++) {
    const topic_arg_t *t = &a->topics[i];
    if (eddy_mock_broker_topic(mb, t->name, t->partitions, t->replicas, err, sizeof err) < 0) {
      fprintf(stderr, "eddy broker: --topic %s: %s\n", t->name, err);
      eddy_mock_broker_free(mb);
      return NULL;
    }
  }
  return mb;
}

int eddy_cmd_broker(int argc, char **argv) {
  args_t a = {.port = 0, .n_brokers = 1};
  int rc = parse_args(argc, argv, &a);
  eddy_mock_broker_t *mb = rc < 0 ? start_brokers(&a) : NULL;
  free_topics(a.topics, a.n_topics);
  if (rc >= 0) return rc;
  if (!mb) return 1;
  int n_brokers = a.n_brokers, n_topics = a.n_topics, exit_on_eof = a.exit_on_eof;

  if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
    fprintf(stderr, "eddy broker: pipe: %s\n", strerror(errno));
    eddy_mock_broker_free(mb);
    return 1;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN); /* a reader of stdout that went away is not fatal */

  char werr[512];
  eddy_mock_watch_t *watch = eddy_mock_watch_new(eddy_mock_broker_bootstraps(mb), 2.0, werr, sizeof werr);
  if (!watch) eddy_log(EDDY_LOG_WARN, "eddy broker: %s: evictions will not be reported", werr);
  printf("%s\n", eddy_mock_broker_bootstraps(mb));
  fflush(stdout);
  eddy_log(EDDY_LOG_INFO, "eddy broker: %d broker%s at %s, %d topic%s created; commands on stdin "
                          "(help), stop with SIGINT/SIGTERM or quit",
           n_brokers, n_brokers == 1 ? "" : "s", eddy_mock_broker_bootstraps(mb), n_topics,
           n_topics == 1 ? "" : "s");

  char line[4096];
  size_t len = 0;
  int stdin_open = 1, quit = 0, overlong = 0;
  while (!quit) {
    struct pollfd pfd[2] = {{sig_pipe[0], POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    int r = poll(pfd, stdin_open ? 2 : 1, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "eddy broker: poll: %s\n", strerror(errno));
      break;
    }
    if (pfd[0].revents) {
      unsigned char sig = 0;
      if (read(sig_pipe[0], &sig, 1) == 1)
        eddy_log(EDDY_LOG_INFO, "eddy broker: %s, stopping", strsignal(sig));
      break;
    }
    if (!stdin_open || !pfd[1].revents) continue;
    ssize_t got = read(STDIN_FILENO, line + len, sizeof line - 1 - len);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got <= 0) { /* end of stdin (or an error reading it) */
      if (len > 0 && !overlong) {
        line[len] = '\0';
        quit = run_line(mb, line);
      }
      len = 0;
      stdin_open = 0;
      if (exit_on_eof) break;
      continue;
    }
    len += (size_t)got;
    char *start = line, *nl;
    while (!quit && (nl = memchr(start, '\n', len - (size_t)(start - line)))) {
      *nl = '\0';
      if (overlong) { /* the tail of a line that did not fit */
        overlong = 0;
        printf("error: command longer than %zu bytes\n", sizeof line - 2);
        fflush(stdout);
      } else {
        quit = run_line(mb, start);
      }
      start = nl + 1;
    }
    len -= (size_t)(start - line);
    memmove(line, start, len);
    if (len == sizeof line - 1) { /* no newline in a full buffer */
      overlong = 1;
      len = 0;
    }
  }
  eddy_mock_watch_free(watch);
  eddy_mock_broker_free(mb);
  close(sig_pipe[0]);
  close(sig_pipe[1]);
  return 0;
}
