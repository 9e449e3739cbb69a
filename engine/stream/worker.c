/* worker.c: a worker thread of `eddy run --threads N` (worker.h): its own
 * libuv loop runs its pipeline instances (consume, handle, produce, commit,
 * checkpoint, rebalance: all of it on this thread); the main thread reaches
 * it only through the worker's lock and its mailbox (an uv_async_t). */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "engine/stream/worker.h"

#define TICK_MS 50 /* as the run's: commits, drains, retries */

typedef struct entry {
  eddy_pipeline_t *pl;
  int go, started;
  double drain; /* > 0: drain by then (eddy_now() seconds) */
  int drained;
} entry_t;

struct eddy__worker {
  eddy_run_t *run;
  int index;
  uv_loop_t loop;
  uv_async_t wake;
  uv_timer_t tick;
  uv_thread_t th;
  pthread_mutex_t mu;
  atomic_int want; /* the main thread is waiting for the lock */
  entry_t *e;      /* the mailbox and the instances: under mu */
  size_t n, cap;
  int quit, closing;
  int joined; /* main thread only */
};

uv_loop_t *eddy__worker_loop(eddy__worker_t *w) { return &w->loop; }

void eddy__worker_lock(eddy__worker_t *w) {
  atomic_fetch_add(&w->want, 1);
  pthread_mutex_lock(&w->mu);
  atomic_fetch_sub(&w->want, 1);
}

void eddy__worker_unlock(eddy__worker_t *w) { pthread_mutex_unlock(&w->mu); }

static entry_t *find(eddy__worker_t *w, const eddy_pipeline_t *pl) {
  for (size_t i = 0; i < w->n; i++)
    if (w->e[i].pl == pl) return &w->e[i];
  return NULL;
}

/* Worker thread, lock held: what the mailbox asks. */
static void serve_mailbox(eddy__worker_t *w) {
  for (size_t i = 0; i < w->n; i++) {
    entry_t *e = &w->e[i];
    if (e->go && !e->started && !e->drain) {
      e->started = 1;
      char err[1024];
      if (eddy_pipeline_state(e->pl) == EDDY_PL_PREPARED && eddy_pipeline_start(e->pl, err, sizeof err)) {
        eddy_log(EDDY_LOG_ERROR, "%s", err);
        eddy__run_failed(w->run, e->pl);
      }
    }
    if (e->drain > 0 && !e->drained) {
      e->drained = 1;
      eddy_pipeline_drain(e->pl, e->drain);
    }
  }
  if (w->quit && !w->closing) {
    w->closing = 1;
    uv_timer_stop(&w->tick);
    uv_close((uv_handle_t *)&w->tick, NULL);
    uv_close((uv_handle_t *)&w->wake, NULL);
  }
}

static void on_wake(uv_async_t *h) { serve_mailbox(h->data); }

static void on_tick(uv_timer_t *t) {
  eddy__worker_t *w = t->data;
  serve_mailbox(w);
  for (size_t i = 0; i < w->n; i++) {
    entry_t *e = &w->e[i];
    if ((e->started || e->drained) && eddy_pipeline_state(e->pl) != EDDY_PL_CLOSED) eddy_pipeline_tick(e->pl);
  }
}

/* The loop, run a turn at a time with the lock held, and waited on (poll
 * of its backend fd, libuv's way to embed a loop) without it: the main
 * thread gets the lock between two turns, never in the middle of a batch. */
static void thread_main(void *arg) {
  eddy__worker_t *w = arg;
  for (;;) {
    pthread_mutex_lock(&w->mu);
    int alive = uv_run(&w->loop, UV_RUN_NOWAIT);
    int timeout = uv_backend_timeout(&w->loop);
    int fd = uv_backend_fd(&w->loop);
    pthread_mutex_unlock(&w->mu);
    if (!alive) break;
    /* A mutex is not fair: let a waiting main thread in first. */
    while (atomic_load(&w->want) > 0) sched_yield();
    if (timeout != 0) {
      struct pollfd p = {.fd = fd, .events = POLLIN};
      poll(&p, 1, timeout);
    }
  }
}

eddy__worker_t *eddy__worker_new(eddy_run_t *run, int index, char *errstr, size_t errstr_size) {
  eddy__worker_t *w = calloc(1, sizeof *w);
  if (!w) {
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    return NULL;
  }
  w->run = run;
  w->index = index;
  int rc = uv_loop_init(&w->loop);
  if (rc) {
    free(w);
    eddy_seterr(errstr, errstr_size, EDDY_EIO, "worker %d: loop: %s", index, uv_strerror(rc));
    return NULL;
  }
  pthread_mutex_init(&w->mu, NULL);
  atomic_init(&w->want, 0);
  uv_async_init(&w->loop, &w->wake, on_wake);
  uv_timer_init(&w->loop, &w->tick);
  w->wake.data = w->tick.data = w;
  uv_timer_start(&w->tick, on_tick, TICK_MS, TICK_MS);
  if ((rc = uv_thread_create(&w->th, thread_main, w))) {
    uv_close((uv_handle_t *)&w->wake, NULL);
    uv_close((uv_handle_t *)&w->tick, NULL);
    uv_run(&w->loop, UV_RUN_NOWAIT);
    uv_loop_close(&w->loop);
    pthread_mutex_destroy(&w->mu);
    free(w);
    eddy_seterr(errstr, errstr_size, EDDY_EIO, "worker %d: thread: %s", index, uv_strerror(rc));
    return NULL;
  }
  return w;
}

void eddy__worker_add(eddy__worker_t *w, eddy_pipeline_t *pl) {
  if (eddy_grow((void **)&w->e, &w->cap, w->n + 1, sizeof *w->e)) {
    /* Out of memory for one pointer: the instance runs nowhere; say so. */
    eddy_log(EDDY_LOG_ERROR, "worker %d: out of memory: pipeline %s not started there", w->index,
             eddy_pipeline_conf(pl)->pipeline.name);
    return;
  }
  w->e[w->n++] = (entry_t){.pl = pl};
}

void eddy__worker_go(eddy__worker_t *w, eddy_pipeline_t *pl) {
  entry_t *e = find(w, pl);
  if (e) e->go = 1;
  uv_async_send(&w->wake);
}

void eddy__worker_drain(eddy__worker_t *w, eddy_pipeline_t *pl, double deadline) {
  entry_t *e = find(w, pl);
  if (e && (!e->drain || deadline < e->drain)) {
    /* A shorter deadline (a stop during a reload's drain) is applied too. */
    if (e->drained) eddy_pipeline_drain(pl, deadline); /* only lowers the deadline: no loop handle touched */
    e->drain = deadline;
  }
  uv_async_send(&w->wake);
}

void eddy__worker_remove(eddy__worker_t *w, eddy_pipeline_t *pl) {
  entry_t *e = find(w, pl);
  if (e) *e = w->e[--w->n];
}

void eddy__worker_stop(eddy__worker_t *w) {
  if (!w || w->joined) return;
  eddy__worker_lock(w);
  w->quit = 1;
  uv_async_send(&w->wake);
  eddy__worker_unlock(w);
  uv_thread_join(&w->th);
  w->joined = 1;
}

void eddy__worker_free(eddy__worker_t *w) {
  if (!w) return;
  eddy__worker_stop(w);
  uv_loop_close(&w->loop);
  pthread_mutex_destroy(&w->mu);
  free(w->e);
  free(w);
}
