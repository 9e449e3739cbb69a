/* redis_int.h: what redis.c and redis_cluster.c share. A handle made from
 * a redis+cluster:// URL is an eddy_redis_t whose calls redis.c hands to
 * the cluster client (one eddy_redis_t per master behind it). */
#ifndef EDDY_REDIS_INT_H
#define EDDY_REDIS_INT_H

#include "connectors/connectors.h"

typedef struct eddy__cluster eddy__cluster_t;

/* Starts the cluster client for `owner` (whose name it fills). */
eddy__cluster_t *eddy__cluster_new(struct uv_loop_s *loop, eddy_redis_t *owner, const char *url,
                                   const eddy_redis_options_t *o, char *errstr, size_t errstr_size);
void eddy__cluster_on_ready(eddy__cluster_t *cl, eddy_redis_ready_cb cb, void *ctx);
int eddy__cluster_ready(const eddy__cluster_t *cl);
int eddy__cluster_script(eddy__cluster_t *cl, const char *source, char *sha1);
int eddy__cluster_command_raw(eddy__cluster_t *cl, unsigned flags, eddy_redis_reply_cb cb, void *ctx,
                              const void *cmd, size_t len);
size_t eddy__cluster_pending(const eddy__cluster_t *cl);
void eddy__cluster_stats(const eddy__cluster_t *cl, eddy_redis_stats_t *out);
/* Closes every node; then frees the cluster and `owner`
 * (eddy__redis_owner_free) and calls closed(ctx). */
void eddy__cluster_close(eddy__cluster_t *cl, void (*closed)(void *ctx), void *ctx);

/* Hands the writes a connection keeps for replay (lost with it, or issued
 * while it was down) to fn, in their order, and forgets them: for a
 * cluster master that is gone, whose slots another node now serves. Only
 * while not connected; returns how many. fn must not send on r. */
typedef void (*eddy__redis_drain_fn)(void *arg, eddy_redis_reply_cb cb, void *ctx, const void *cmd,
                                     size_t len);
size_t eddy__redis_drain(eddy_redis_t *r, eddy__redis_drain_fn fn, void *arg);

/* Frees a cluster handle's eddy_redis_t (its buffers too). */
void eddy__redis_owner_free(eddy_redis_t *r);

/* AUTH on a blocking connection with the URL's credentials (none: 0). */
int eddy__redis_auth_sync(struct redisContext *c, const char *url, char *errstr, size_t errstr_size);

/* The seeds of a redis+cluster:// URL; 0 or a negative code. */
#define EDDY__CLUSTER_MAX_SEEDS 16
typedef struct eddy__seed {
  char host[256];
  int port;
} eddy__seed_t;
int eddy__cluster_url_parse(const char *url, eddy__seed_t *seeds, int *n_seeds, char *errstr,
                            size_t errstr_size);

/* The slot of a command in RESP form (its key's), or -1 without a key. */
int eddy__cluster_command_slot(const void *cmd, size_t len);
/* A blocking connection to the first seed that answers (redis.c's
 * eddy_redis_connect_sync for a cluster URL). */
struct redisContext *eddy__cluster_connect_sync(const char *url, double timeout, char *errstr,
                                                size_t errstr_size);

#endif
