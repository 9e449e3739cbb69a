/* ht_export.c: a Hoeffding tree (classification, adaptive too) as JSON for
 * `eddy models --export`: its nodes in preorder from the root, each split
 * with its attribute, test and branches, each leaf with its class weights
 * (HAT's alternate subtrees are counted, not listed). */
#include <string.h>

#include "learners/trees/trees.h"

static void put_name(eddy_buf_t *b, const char *s) { eddy_json_string(b, s ? s : "", s ? strlen(s) : 0); }

static void put_test(const eddy__ht_tree_t *t, const eddy__ht_node_t *n, eddy_buf_t *b) {
  const eddy_attr_t *a = &t->schema->attrs[n->b.attr];
  eddy_buf_printf(b, ",\"attribute\":");
  put_name(b, a->name);
  if (n->b.test == EDDY__HT_TEST_NUM_LE) {
    eddy_buf_printf(b, ",\"test\":\"<=\",\"value\":");
    eddy_json_double(b, n->b.value);
  } else if (n->b.test == EDDY__HT_TEST_NOM_EQ) {
    eddy_buf_printf(b, ",\"test\":\"==\",\"value\":");
    put_name(b, eddy_dict_name(a->dict, (uint32_t)n->b.value));
  } else {
    eddy_buf_printf(b, ",\"test\":\"multiway\",\"values\":[");
    for (int32_t i = 0; i < n->b.n_kids; i++) {
      if (i) eddy_buf_put_u8(b, ',');
      put_name(b, eddy_dict_name(a->dict, (uint32_t)i));
    }
    eddy_buf_put_u8(b, ']');
  }
}

/* Nodes in the subtree of id (alternates aside). */
static uint32_t subtree_size(const eddy__ht_tree_t *t, int32_t id) {
  uint32_t n = 1;
  if (eddy__ht_node(t, id)->b.kind == EDDY__HT_SPLIT)
    for (int32_t i = 0; i < eddy__ht_node(t, id)->b.n_kids; i++) {
      int32_t k = eddy__ht_kid(t, id, i);
      if (k >= 0) n += subtree_size(t, k);
    }
  return n;
}

/* Node id and its subtree, numbered from *next in preorder; a split lists
 * its children by the numbers they get. */
static int put_node(const eddy__ht_tree_t *t, int32_t id, uint32_t depth, uint32_t *next, eddy_buf_t *b) {
  const eddy__ht_node_t *n = eddy__ht_node(t, id);
  uint32_t me = (*next)++;
  eddy_buf_printf(b, "%s{\"id\":%u,\"depth\":%u,\"kind\":\"%s\"", me ? "," : "", me, depth,
                  n->b.kind == EDDY__HT_SPLIT ? "split" : n->b.kind == EDDY__HT_LEAF ? "leaf" : "inactive_leaf");
  eddy_buf_printf(b, ",\"class_weights\":{");
  const double *d = eddy__ht_dist(t, id);
  for (uint32_t c = 0; c < n->dist_len && c < t->st.L.C; c++) {
    if (c) eddy_buf_put_u8(b, ',');
    put_name(b, eddy_dict_name(t->schema->target.dict, c));
    eddy_buf_put_u8(b, ':');
    eddy_json_double(b, d[c]);
  }
  eddy_buf_put_u8(b, '}');
  if (n->b.kind != EDDY__HT_SPLIT) {
    eddy_buf_put_u8(b, '}');
    return b->err;
  }
  put_test(t, n, b);
  if (n->alt >= 0) eddy_buf_printf(b, ",\"has_alternate\":true");
  eddy_buf_printf(b, ",\"children\":[");
  uint32_t child = me + 1;
  for (int32_t i = 0; i < n->b.n_kids; i++) {
    int32_t k = eddy__ht_kid(t, id, i);
    if (i) eddy_buf_put_u8(b, ',');
    if (k < 0) {
      eddy_buf_printf(b, "null");
    } else {
      eddy_buf_printf(b, "%u", child);
      child += subtree_size(t, k);
    }
  }
  eddy_buf_printf(b, "]}");
  for (int32_t i = 0; i < n->b.n_kids; i++) {
    int32_t k = eddy__ht_kid(t, id, i);
    if (k >= 0 && put_node(t, k, depth + 1, next, b)) return b->err;
  }
  return b->err;
}

int eddy__ht_export(const eddy_learner_t *l, eddy_buf_t *b) {
  return eddy__ht_tree_export(l->state, b);
}

int eddy__ht_tree_export(const eddy__ht_tree_t *t, eddy_buf_t *b) {
  eddy_buf_printf(b, "{\"family\":\"tree\",\"weight_seen\":");
  eddy_json_double(b, t->st.weight_seen);
  eddy_buf_printf(b, ",\"split_nodes\":%zu,\"active_leaves\":%zu,\"inactive_leaves\":%zu", t->st.n_split,
                  t->st.n_active, t->st.n_inactive);
  if (t->adaptive) eddy_buf_printf(b, ",\"alternates\":%llu", (unsigned long long)t->n_alternates);
  eddy_buf_printf(b, ",\"nodes\":[");
  uint32_t next = 0;
  int err = t->st.root >= 0 ? put_node(t, t->st.root, 0, &next, b) : 0;
  eddy_buf_printf(b, "]}");
  return err ? err : b->err;
}
