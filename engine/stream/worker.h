/* worker.h: private to run.c and worker.c: the worker threads of `eddy run
 * --threads N` (Kafka Streams' stream threads). A worker is a thread with
 * its own libuv loop that owns one instance of every pipeline: their
 * consumers, producers, store connections, tasks and replicas. */
#ifndef EDDY_STREAM_WORKER_H
#define EDDY_STREAM_WORKER_H

#include "engine/stream/stream.h"

typedef struct eddy__worker eddy__worker_t;

/* Starts worker `index` (its thread and loop). NULL on failure (errstr). */
eddy__worker_t *eddy__worker_new(eddy_run_t *run, int index, char *errstr, size_t errstr_size);
/* The worker's loop: pipelines made for it are given it (not yet run). */
uv_loop_t *eddy__worker_loop(eddy__worker_t *w);

/* The worker holds its lock whenever it runs anything of its loop (it lets
 * go only while it waits in poll); the main thread takes it to read or call
 * anything of the worker's instances (metrics, the dashboard, serving,
 * their state) and to change its mailbox. Lock order: a worker's lock
 * before the run's own (alerts take the run's under the worker's); workers
 * in index order. */
void eddy__worker_lock(eddy__worker_t *w);
void eddy__worker_unlock(eddy__worker_t *w);

/* The mailbox (main thread, with the lock held): the worker handles it at
 * once (uv_async_t). add: the worker ticks pl from now on; go: start it;
 * drain: drain it by deadline (eddy_now() seconds); remove: forget a
 * CLOSED pl (the caller frees it). */
void eddy__worker_add(eddy__worker_t *w, eddy_pipeline_t *pl);
void eddy__worker_go(eddy__worker_t *w, eddy_pipeline_t *pl);
void eddy__worker_drain(eddy__worker_t *w, eddy_pipeline_t *pl, double deadline);
void eddy__worker_remove(eddy__worker_t *w, eddy_pipeline_t *pl);
/* Ends the loop (its instances closed or never started) and joins the
 * thread; the lock and mailbox stay usable (main thread, without the lock). */
void eddy__worker_stop(eddy__worker_t *w);
/* Stops w if need be and frees it (its instances are the caller's). */
void eddy__worker_free(eddy__worker_t *w);

#endif
