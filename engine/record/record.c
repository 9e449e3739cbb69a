/* record.c: the one record path (record.h): built from a pipeline's config,
 * then per record: size, decode, required fields, state join, predict,
 * emit, learn (drift follows in the replica), state update. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "engine/record/record.h"

static int fail(char *errstr, size_t errstr_size, const char *fmt, ...) EDDY_PRINTF(3, 4);
static int fail(char *errstr, size_t errstr_size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (errstr && errstr_size) vsnprintf(errstr, errstr_size, fmt, ap);
  va_end(ap);
  return EDDY_EINVAL;
}

/* [features] required: each must be a field the decoder fills. */
static int resolve_required(eddy_path_t *p, char *errstr, size_t errstr_size) {
  const eddy_pipeline_conf_t *c = p->conf;
  if (!c->features.required || !*c->features.required) return 0;
  char *copy = strdup(c->features.required), *items[1024];
  size_t n = copy ? eddy_split_list(copy, items, 1024) : 0;
  p->required = calloc(n ? n : 1, sizeof *p->required);
  if (!copy || !p->required) {
    free(copy);
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  }
  int err = 0;
  for (size_t i = 0; i < n && !err; i++) {
    const eddy_field_t *f = eddy_fields_find(p->fields, items[i], strlen(items[i]));
    if (!f || f->kind == EDDY_FIELD_IGNORE || f->kind == EDDY_FIELD_WEIGHT) {
      const eddy_kv_t *w = eddy_conf_where(c, "features", "required");
      err = fail(errstr, errstr_size,
                 "%s:%d: [features] key 'required': '%s' is not an attribute, the target, key, id or timestamp",
                 w && w->file ? w->file : c->file, w ? w->line : c->line, items[i]);
    } else {
      p->required[p->n_required++] = f;
    }
  }
  free(copy);
  return err;
}

int eddy_path_init(eddy_path_t *p, const eddy_pipeline_conf_t *c, eddy_format_t fmt,
                   const char *const *names, size_t n_names, int with_output, char *errstr,
                   size_t errstr_size) {
  memset(p, 0, sizeof *p);
  p->conf = c;
  eddy_buf_init(&p->out);
  /* Per-entity aggregates: their inputs are extra fields, their outputs
   * attributes joined from the state store before predict. */
  if (!(p->aggs = eddy_aggs_new(c, errstr, errstr_size))) return EDDY_EINVAL;
  if (!(p->fields = eddy_fields_new(c, names, n_names, (const char *const *)p->aggs->inputs,
                                    p->aggs->n_inputs, errstr, errstr_size)))
    return EDDY_EINVAL;
  if (p->aggs->n) {
    int err = eddy_aggs_bind(p->aggs, p->fields, errstr, errstr_size);
    if (err) return err;
    const char *key = c->features.key && *c->features.key ? c->features.key : c->state.key;
    if ((!key || !*key) && c->state.scope != EDDY_SCOPE_STREAM)
      return fail(errstr, errstr_size,
                  "%s:%d: [state] aggregates need the entity key: [features] key (or [state] key), "
                  "or [state] scope = stream for one state over the whole stream",
                  c->file, c->line);
  }
  if (!(p->decoder = eddy_decoder_new(fmt, p->fields, c, names, n_names, errstr, errstr_size)))
    return EDDY_EINVAL;
  if (with_output && !(p->output = eddy_output_new(c, errstr, errstr_size))) return EDDY_EINVAL;
  if (eddy_record_init(&p->rec, p->fields))
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  return resolve_required(p, errstr, errstr_size);
}

void eddy_path_free(eddy_path_t *p) {
  if (!p) return;
  eddy_record_free(&p->rec);
  eddy_output_free(p->output);
  eddy_decoder_free(p->decoder);
  eddy_fields_free(p->fields);
  eddy_aggs_free(p->aggs);
  free(p->required);
  eddy_buf_free(&p->out);
  memset(p, 0, sizeof *p);
}

const char *eddy_path_stage_name(eddy_path_stage_t s) {
  switch (s) {
  case EDDY_PATH_SIZE: return "size";
  case EDDY_PATH_DECODE: return "decode";
  default: return "validate";
  }
}

static int check_required(const eddy_path_t *p, char *msg, size_t size) {
  const eddy_record_t *r = &p->rec;
  for (size_t i = 0; i < p->n_required; i++) {
    const eddy_field_t *f = p->required[i];
    int present = 1;
    switch (f->kind) {
    case EDDY_FIELD_ATTR: present = !r->in.missing[f->index]; break;
    case EDDY_FIELD_TARGET: present = r->in.has_y; break;
    case EDDY_FIELD_KEY: present = r->key != NULL; break;
    case EDDY_FIELD_ID: present = r->id != NULL; break;
    case EDDY_FIELD_TIME: present = r->has_ts; break;
    case EDDY_FIELD_AUX: present = r->aux_set[f->index]; break;
    default: break;
    }
    if (!present) return eddy_seterr(msg, size, EDDY_EMISSING, "required field '%s' is missing", f->name);
  }
  return 0;
}

/* Joins the record's entity state into it; returns the entity's index in
 * the batch, or -1 when it updates nothing (no key, no store). */
static int64_t join_state(eddy_path_t *p, const eddy_path_state_t *st, const eddy_path_input_t *in,
                          double t_ms, const eddy_path_sink_t *sink, void *ctx) {
  eddy_record_t *r = &p->rec;
  eddy_state_batch_t *b = st ? st->batch : NULL;
  int64_t entity = -1;
  if (b && r->key) {
    if (st->pre == EDDY_PATH_ENTITY_NOW) {
      eddy_state_batch_clear(b);
      entity = eddy_state_batch_add(b, r->key, r->key_len);
      if (entity >= 0 && eddy_store_fetch(st->store, b, NULL, NULL) != 0) entity = -1;
    } else if (st->pre >= 0 && b->key_len[st->pre] == r->key_len &&
               memcmp(b->keys + b->key_off[st->pre], r->key, r->key_len) == 0) {
      entity = st->pre;
    } else if (sink && sink->entity_missed) {
      sink->entity_missed(ctx, in);
    }
  }
  if (entity >= 0) eddy_state_batch_join(b, (size_t)entity, r, t_ms);
  else eddy_aggs_join(p->aggs, p->aggs->fresh, r, t_ms);
  return entity;
}

static void emit(eddy_path_t *p, eddy_replica_t *rep, const eddy_path_input_t *in, int k,
                 const eddy_path_sink_t *sink, void *ctx) {
  eddy_buf_clear(&p->out);
  eddy_prediction_t pr = {
      .pipeline = p->conf->pipeline.name,
      .topic = in->topic,
      .partition = in->partition,
      .offset = in->offset,
      .key = in->key,
      .key_len = in->key_len,
      .id = p->rec.id,
      .id_len = p->rec.id_len,
      .schema = rep->schema,
      .scores = rep->pred,
      .k = k > 0 ? k : 0,
      .has_score = rep->unsupervised,
      .score = rep->score,
      .served_by = eddy_replica_served_by(rep),
      .predicted = eddy_replica_predicted(rep),
      .has_label = p->rec.in.has_y,
      .label = p->rec.in.y,
      .model_version = rep->version,
      .time = in->time,
      .aggs = p->conf->sink.aggregates && p->aggs->n ? p->aggs : NULL,
      .in = &p->rec.in,
  };
  if (eddy_output_encode(p->output, &pr, &p->out) == 0) {
    if (sink && sink->predicted) sink->predicted(ctx, in, &p->out);
  } else if (sink && sink->encode_failed) {
    sink->encode_failed(ctx, in);
  }
}

/* Decodes the record; a read-only one against the frozen schema, so that
 * a value never seen adds nothing to the model's dictionaries. */
static int decode(eddy_path_t *p, eddy_replica_t *rep, const eddy_path_input_t *in, char *msg, size_t size) {
  rep->schema->frozen = in->readonly;
  int err = eddy_decoder_decode(p->decoder, rep->schema, in->value, in->len, &p->rec, msg, size);
  rep->schema->frozen = 0;
  return err;
}

int eddy_path_handle(eddy_path_t *p, eddy_replica_t *rep, const eddy_path_state_t *st,
                     const eddy_path_input_t *in, const eddy_path_sink_t *sink, void *ctx) {
  char msg[512];
  int err = 0;
  eddy_path_stage_t stage = EDDY_PATH_SIZE;
  if (in->len > (size_t)p->conf->source.max_record_bytes) {
    snprintf(msg, sizeof msg, "record of %zu bytes is larger than max_record_bytes = %" PRId64, in->len,
             p->conf->source.max_record_bytes);
    err = EDDY_ERANGE;
  } else if ((err = decode(p, rep, in, msg, sizeof msg))) {
    stage = EDDY_PATH_DECODE;
  } else if ((err = check_required(p, msg, sizeof msg))) {
    stage = EDDY_PATH_VALIDATE;
  }
  if (err) {
    if (sink && sink->rejected) sink->rejected(ctx, in, stage, err, msg);
    return err;
  }
  if (!in->readonly) rep->offset = in->topic && !in->outside ? in->offset : -1;
  /* [state] scope = stream: one state per partition (as first_pass keys it). */
  eddy_record_stream_key(&p->rec, in->topic ? in->partition : -1);
  int64_t entity = -1;
  double t_ms = p->aggs->n || in->defer || in->wait ? eddy_aggs_time_ms(p->aggs, &p->rec, in->fallback_ms) : 0;
  if (sink && sink->decoded) sink->decoded(ctx, in, t_ms);
  if (p->aggs->n) entity = join_state(p, st, in, t_ms, sink, ctx);
  int served = rep->served;
  int k = in->readonly ? eddy_replica_score(rep, &p->rec.in) : eddy_replica_predict(rep, &p->rec.in);
  if (in->emit && p->output) emit(p, rep, in, k, sink, ctx);
  if (in->readonly) rep->served = served; /* who served the stream's last record: the fallback's switch alerts */
  if (eddy_replica_learns(rep, &p->rec.in) && in->learn && !in->readonly) {
    /* An anomaly detector learns every record at once: no label to wait for. */
    if (in->defer && !rep->unsupervised) {
      if (sink && sink->deferred) sink->deferred(ctx, in, &p->rec.in, rep->pred, rep->scored_k, t_ms);
    } else {
      int lerr = eddy_replica_learn(rep, &p->rec.in);
      if (sink && sink->learned) sink->learned(ctx, in, lerr);
    }
  } else if (in->wait && in->learn && sink && sink->waiting) {
    sink->waiting(ctx, in, p->rec.id, p->rec.id_len, &p->rec.in, rep->pred, k, t_ms);
  }
  if (entity >= 0 && in->learn && !in->readonly) {
    /* A label revealed later (eval --delay, eddy predict) is not known yet:
     * the aggregates of the target (last(class), ...) must not see it. */
    int has_y = p->rec.in.has_y;
    if (in->defer) p->rec.in.has_y = 0;
    eddy_state_batch_update(st->batch, (size_t)entity, &p->rec, t_ms);
    p->rec.in.has_y = has_y;
    if (st->pre == EDDY_PATH_ENTITY_NOW) eddy_store_write(st->store, st->batch);
  }
  return 0;
}
