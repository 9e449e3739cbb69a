/* _core.c: the Python extension over eddy's C core. A Model is one schema
 * and one learner (learners/learners.h) fed from River-style dicts; a
 * Detector wraps one drift detector (detectors/detectors.h). The River
 * classes in eddy/river.py are thin Python layers over these two types. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learners/learners.h"
#include "detectors/detectors.h"

static PyObject *EddyError; /* eddy._core.EddyError (a ValueError) */

/* -------------------------------------------------------------- helpers */

/* Parameters as eddy key = value pairs: a dict of str -> str. */
typedef struct {
  eddy_kv_t *v;
  size_t n;
} kvs_t;

static void kvs_free(kvs_t *k) {
  for (size_t i = 0; i < k->n; i++) {
    free(k->v[i].key);
    free(k->v[i].value);
  }
  free(k->v);
  k->v = NULL;
  k->n = 0;
}

static int kvs_from_dict(PyObject *d, kvs_t *out) {
  out->v = NULL;
  out->n = 0;
  if (!PyDict_Check(d)) {
    PyErr_SetString(PyExc_TypeError, "params must be a dict of str to str");
    return -1;
  }
  Py_ssize_t n = PyDict_Size(d);
  out->v = calloc(n ? (size_t)n : 1, sizeof *out->v);
  if (!out->v) {
    PyErr_NoMemory();
    return -1;
  }
  PyObject *k, *v;
  Py_ssize_t pos = 0;
  while (PyDict_Next(d, &pos, &k, &v)) {
    const char *ks = PyUnicode_Check(k) ? PyUnicode_AsUTF8(k) : NULL;
    const char *vs = PyUnicode_Check(v) ? PyUnicode_AsUTF8(v) : NULL;
    if (!ks || !vs) {
      if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "params must be a dict of str to str");
      kvs_free(out);
      return -1;
    }
    eddy_kv_t *kv = &out->v[out->n++];
    kv->key = strdup(ks);
    kv->value = strdup(vs);
    if (!kv->key || !kv->value) {
      kvs_free(out);
      PyErr_NoMemory();
      return -1;
    }
  }
  return 0;
}

static PyObject *kvlist_to_dict(const eddy_kvlist_t *kv) {
  PyObject *d = PyDict_New();
  if (!d) return NULL;
  for (size_t i = 0; i < kv->n; i++) {
    PyObject *v = PyUnicode_FromString(kv->v[i].value);
    if (!v || PyDict_SetItemString(d, kv->v[i].key, v)) {
      Py_XDECREF(v);
      Py_DECREF(d);
      return NULL;
    }
    Py_DECREF(v);
  }
  return d;
}

/* ---------------------------------------------------------------- Model */

typedef struct {
  PyObject_HEAD
  char learner[64];
  eddy_task_t task;
  PyObject *params; /* dict str -> str, as given */
  kvs_t kv;
  uint64_t seed;
  uint32_t max_values, max_classes;
  /* Set by the first learn_one (or a load): until then the model has seen
   * nothing and predicts nothing. */
  eddy_schema_t *schema;
  eddy_learner_t *l;
  eddy_instance_t in;
  PyObject *features; /* dict feature key -> attribute index (int) */
  PyObject *keys;     /* list: the feature key of each attribute */
  PyObject *classes;  /* list: the label of each class index */
  PyObject *class_of; /* dict label -> class index (int) */
  double *pred;
  size_t pred_cap;
} Model;

static void model_drop(Model *m) {
  if (m->l) eddy_learner_free(m->l);
  if (m->schema) eddy_schema_free(m->schema);
  eddy_instance_free(&m->in);
  m->l = NULL;
  m->schema = NULL;
  Py_CLEAR(m->features);
  Py_CLEAR(m->keys);
  free(m->pred);
  m->pred = NULL;
  m->pred_cap = 0;
}

static void Model_dealloc(Model *m) {
  model_drop(m);
  Py_CLEAR(m->classes);
  Py_CLEAR(m->class_of);
  Py_CLEAR(m->params);
  kvs_free(&m->kv);
  Py_TYPE(m)->tp_free((PyObject *)m);
}

static int parse_task(const char *s, eddy_task_t *t) {
  if (strcmp(s, "classification") == 0)
    *t = EDDY_CLASSIFICATION;
  else if (strcmp(s, "regression") == 0)
    *t = EDDY_REGRESSION;
  else {
    PyErr_Format(PyExc_ValueError, "task must be 'classification' or 'regression', not '%s'", s);
    return -1;
  }
  return 0;
}

/* Creates a learner over a throwaway schema, so that a bad name or
 * parameter fails when the estimator is made, with eddy's own message. */
static int model_validate(Model *m) {
  char err[512];
  eddy_schema_t *s = eddy_schema_new(m->task, "y", m->max_values, m->max_classes, err, sizeof err);
  if (!s) {
    PyErr_SetString(EddyError, err);
    return -1;
  }
  eddy_learner_t *l = eddy_learner_new(m->learner, s, m->kv.v, m->kv.n, m->seed, err, sizeof err);
  if (l) eddy_learner_free(l);
  eddy_schema_free(s);
  if (!l) {
    PyErr_SetString(EddyError, err);
    return -1;
  }
  return 0;
}

static int Model_init(Model *m, PyObject *args, PyObject *kw) {
  static char *names[] = {"learner", "task",        "params",  "seed",
                          "max_values", "max_classes", "classes", NULL};
  const char *learner, *task;
  PyObject *params = NULL, *classes = NULL;
  unsigned long long seed = 1;
  unsigned int max_values = EDDY_DEFAULT_MAX_VALUES, max_classes = EDDY_DEFAULT_MAX_CLASSES;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "ss|OKIIO", names, &learner, &task, &params, &seed,
                                   &max_values, &max_classes, &classes))
    return -1;
  if (strlen(learner) >= sizeof m->learner) {
    PyErr_SetString(PyExc_ValueError, "learner name too long");
    return -1;
  }
  model_drop(m);
  Py_CLEAR(m->params);
  kvs_free(&m->kv);
  snprintf(m->learner, sizeof m->learner, "%s", learner);
  if (parse_task(task, &m->task)) return -1;
  m->params = params ? PyDict_Copy(params) : PyDict_New();
  if (!m->params || kvs_from_dict(m->params, &m->kv)) return -1;
  m->seed = seed;
  m->max_values = max_values;
  m->max_classes = max_classes;
  Py_XSETREF(m->classes, PyList_New(0));
  Py_XSETREF(m->class_of, PyDict_New());
  if (!m->classes || !m->class_of) return -1;
  if (classes && classes != Py_None) {
    PyObject *it = PyObject_GetIter(classes), *y;
    if (!it) return -1;
    while ((y = PyIter_Next(it))) {
      PyObject *ix = PyLong_FromSsize_t(PyList_GET_SIZE(m->classes));
      int bad = !ix || PyDict_Contains(m->class_of, y) != 0 ||
                PyDict_SetItem(m->class_of, y, ix) || PyList_Append(m->classes, y);
      Py_XDECREF(ix);
      Py_DECREF(y);
      if (bad) {
        Py_DECREF(it);
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "classes: a label given twice");
        return -1;
      }
    }
    Py_DECREF(it);
    if (PyErr_Occurred()) return -1;
  }
  return model_validate(m);
}

static int is_nominal_value(PyObject *v) {
  return v != Py_None && !PyFloat_Check(v) && !PyLong_Check(v) && !PyNumber_Check(v);
}

/* After the schema exists: instance, feature map and prediction scratch. */
static int model_attach(Model *m, eddy_schema_t *s, eddy_learner_t *l) {
  m->schema = s;
  m->l = l;
  if (eddy_instance_init(&m->in, s->n_attrs)) {
    PyErr_NoMemory();
    return -1;
  }
  m->pred_cap = 16;
  m->pred = calloc(m->pred_cap, sizeof *m->pred);
  if (!m->pred) {
    PyErr_NoMemory();
    return -1;
  }
  return 0;
}

/* The schema from the first record learned: its features in the order of
 * their names (so that the order of a dict's keys does not matter), numeric
 * or nominal by value type as eddy's JSON decoder types an unconfigured
 * field (a string is nominal, a number numeric). Features first seen later
 * are ignored, as eddy's decoders ignore fields the schema does not have. */
static int intern_label(Model *m, PyObject *y, Py_ssize_t n);

static int model_freeze(Model *m, PyObject *x) {
  char err[512];
  int rc = -1;
  eddy_schema_t *s = NULL;
  /* (name, position) pairs sort by name alone (positions differ); items
   * holds the (key, value) at each position. */
  PyObject *order = PyList_New(0), *items = PyDict_Items(x);
  PyObject *k, *v;
  Py_ssize_t pos = 0, i = 0;
  if (!order || !items) goto out;
  while (PyDict_Next(x, &pos, &k, &v)) {
    PyObject *name = PyObject_Str(k);
    PyObject *t = name ? Py_BuildValue("(Nn)", name, i++) : NULL;
    if (!t || PyList_Append(order, t)) {
      Py_XDECREF(t);
      goto out;
    }
    Py_DECREF(t);
  }
  if (PyList_Sort(order)) goto out;
  s = eddy_schema_new(m->task, "y", m->max_values, m->max_classes, err, sizeof err);
  if (!s) {
    PyErr_SetString(EddyError, err);
    goto out;
  }
  m->features = PyDict_New();
  m->keys = PyList_New(0);
  if (!m->features || !m->keys) goto out;
  for (i = 0; i < PyList_GET_SIZE(order); i++) {
    PyObject *t = PyList_GET_ITEM(order, i);
    const char *name = PyUnicode_AsUTF8(PyTuple_GET_ITEM(t, 0));
    PyObject *kv = PyList_GET_ITEM(items, PyLong_AsSsize_t(PyTuple_GET_ITEM(t, 1)));
    PyObject *key = PyTuple_GET_ITEM(kv, 0), *val = PyTuple_GET_ITEM(kv, 1);
    if (!name) goto out;
    int a = eddy_schema_add(s, name, is_nominal_value(val) ? EDDY_NOMINAL : EDDY_NUMERIC);
    if (a < 0) {
      PyErr_Format(EddyError, "feature '%s': two features with this name", name);
      goto out;
    }
    PyObject *ix = PyLong_FromLong(a);
    if (!ix || PyDict_SetItem(m->features, key, ix) || PyList_Append(m->keys, key)) {
      Py_XDECREF(ix);
      goto out;
    }
    Py_DECREF(ix);
  }
  if (m->task == EDDY_CLASSIFICATION) {
    /* labels given to the constructor, first and in their order */
    m->schema = s;
    for (i = 0; i < PyList_GET_SIZE(m->classes); i++)
      if (intern_label(m, PyList_GET_ITEM(m->classes, i), i)) {
        m->schema = NULL;
        goto out;
      }
    m->schema = NULL;
  }
  eddy_learner_t *l = eddy_learner_new(m->learner, s, m->kv.v, m->kv.n, m->seed, err, sizeof err);
  if (!l) {
    PyErr_SetString(EddyError, err);
    goto out;
  }
  eddy_schema_t *owned = s;
  s = NULL;
  if (model_attach(m, owned, l)) goto out;
  rc = 0;
out:
  if (s) eddy_schema_free(s);
  if (rc) model_drop(m);
  Py_XDECREF(order);
  Py_XDECREF(items);
  return rc;
}

/* Text of a nominal value or a label: a str as it is, anything else str(). */
static const char *value_text(PyObject *v, PyObject **tmp, Py_ssize_t *len) {
  *tmp = NULL;
  if (PyUnicode_Check(v)) return PyUnicode_AsUTF8AndSize(v, len);
  *tmp = PyObject_Str(v);
  return *tmp ? PyUnicode_AsUTF8AndSize(*tmp, len) : NULL;
}

/* x (a dict) into m->in. Unknown features are ignored, None and NaN are
 * missing values; a str where the schema has a number is a TypeError. */
static int model_fill(Model *m, PyObject *x) {
  if (!PyDict_Check(x)) {
    PyErr_Format(PyExc_TypeError, "x must be a dict, not %.100s", Py_TYPE(x)->tp_name);
    return -1;
  }
  eddy_instance_t *in = &m->in;
  memset(in->missing, 1, in->n);
  in->has_y = 0;
  in->weight = 1.0;
  PyObject *k, *v;
  Py_ssize_t pos = 0;
  while (PyDict_Next(x, &pos, &k, &v)) {
    PyObject *ix = PyDict_GetItemWithError(m->features, k);
    if (!ix) {
      if (PyErr_Occurred()) return -1;
      continue;
    }
    if (v == Py_None) continue;
    Py_ssize_t i = PyLong_AsSsize_t(ix);
    if (m->schema->attrs[i].kind == EDDY_NUMERIC) {
      double d;
      if (PyFloat_CheckExact(v))
        d = PyFloat_AS_DOUBLE(v);
      else if (PyUnicode_Check(v) || (d = PyFloat_AsDouble(v), d == -1.0 && PyErr_Occurred())) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "feature '%s': expected a number, got %.100s",
                     m->schema->attrs[i].name, Py_TYPE(v)->tp_name);
        return -1;
      }
      if (d != d) continue;
      in->x[i] = d;
    } else {
      PyObject *tmp;
      Py_ssize_t len;
      const char *t = value_text(v, &tmp, &len);
      if (!t) return -1;
      uint64_t h = eddy_hash(t, (size_t)len);
      int64_t idx = eddy_dict_intern(m->schema->attrs[i].dict, t, (size_t)len, h, NULL);
      Py_XDECREF(tmp);
      if (idx < 0) {
        PyErr_Format(EddyError, "feature '%s': %s", m->schema->attrs[i].name,
                     eddy_strerror((int)idx));
        return -1;
      }
      in->x[i] = (double)idx;
      in->h[i] = h;
    }
    in->missing[i] = 0;
  }
  return 0;
}

/* Adds label y's text to the target dictionary as class n. Labels are
 * Python objects; the dictionary holds their text, made unique. */
static int intern_label(Model *m, PyObject *y, Py_ssize_t n) {
  eddy_dict_t *d = m->schema->target.dict;
  Py_ssize_t len;
  PyObject *tmp;
  const char *t = value_text(y, &tmp, &len);
  if (!t) return -1;
  char buf[300];
  if (eddy_dict_find(d, t, (size_t)len, eddy_hash(t, (size_t)len)) >= 0) {
    /* 1 and "1", True and "True": another label has this text */
    len = snprintf(buf, sizeof buf, "%.200s#%zd", t, n);
    t = buf;
  }
  int added = 0;
  int64_t idx = eddy_dict_intern(d, t, (size_t)len, eddy_hash(t, (size_t)len), &added);
  Py_XDECREF(tmp);
  if (idx < 0 || !added || idx != n) {
    PyErr_Format(EddyError, "class %R: %s", y,
                 idx == EDDY_ERANGE ? "one more class than max_classes" : "cannot add it");
    return -1;
  }
  return 0;
}

/* The class index of label y, adding it when new. */
static Py_ssize_t model_class(Model *m, PyObject *y) {
  PyObject *ix = PyDict_GetItemWithError(m->class_of, y);
  if (ix) return PyLong_AsSsize_t(ix);
  if (PyErr_Occurred()) return -1;
  Py_ssize_t n = PyList_GET_SIZE(m->classes);
  if (intern_label(m, y, n)) return -1;
  PyObject *pi = PyLong_FromSsize_t(n);
  if (!pi || PyDict_SetItem(m->class_of, y, pi) || PyList_Append(m->classes, y)) {
    Py_XDECREF(pi);
    return -1;
  }
  Py_DECREF(pi);
  return n;
}

/* learn_one(x, y, w=1.0), as METH_FASTCALL: the per-record call parses its
 * arguments without building a tuple. */
static PyObject *Model_learn_one(Model *m, PyObject *const *args, Py_ssize_t nargs,
                                 PyObject *kwnames) {
  PyObject *x = NULL, *y = NULL, *wo = NULL;
  Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  if (nargs > 3) return PyErr_Format(PyExc_TypeError, "learn_one takes at most 3 arguments");
  if (nargs > 0) x = args[0];
  if (nargs > 1) y = args[1];
  if (nargs > 2) wo = args[2];
  for (Py_ssize_t i = 0; i < nkw; i++) {
    const char *k = PyUnicode_AsUTF8(PyTuple_GET_ITEM(kwnames, i));
    PyObject **slot = !k ? NULL : !strcmp(k, "x") ? &x : !strcmp(k, "y") ? &y : !strcmp(k, "w") ? &wo : NULL;
    if (!slot || *slot)
      return PyErr_Format(PyExc_TypeError, "learn_one: unexpected or repeated argument %R",
                          PyTuple_GET_ITEM(kwnames, i));
    *slot = args[nargs + i];
  }
  if (!x || !y) return PyErr_Format(PyExc_TypeError, "learn_one(x, y, w=1.0): x and y are required");
  double w = 1.0;
  if (wo && ((w = PyFloat_AsDouble(wo)) == -1.0 && PyErr_Occurred())) return NULL;
  if (!(w >= 0) || !isfinite(w)) return PyErr_Format(PyExc_ValueError, "w must be a finite weight >= 0");
  if (!PyDict_Check(x)) return PyErr_Format(PyExc_TypeError, "x must be a dict");
  if (!m->l && model_freeze(m, x)) return NULL;
  if (model_fill(m, x)) return NULL;
  if (m->task == EDDY_CLASSIFICATION) {
    Py_ssize_t c = model_class(m, y);
    if (c < 0) return NULL;
    m->in.y = (double)c;
  } else {
    double v = PyFloat_AsDouble(y);
    if (v == -1.0 && PyErr_Occurred()) return NULL;
    if (!isfinite(v)) return PyErr_Format(PyExc_ValueError, "y must be a finite number");
    m->in.y = v;
  }
  m->in.has_y = 1;
  m->in.weight = w;
  int err = eddy_learner_learn(m->l, &m->in);
  if (err) return PyErr_Format(EddyError, "learn: %s", eddy_strerror(err));
  Py_RETURN_NONE;
}

/* Predicts x into m->pred; returns the number of values, 0 before any
 * learning, -1 with an exception. */
static int model_predict(Model *m, PyObject *x) {
  if (!m->l) {
    if (!PyDict_Check(x)) {
      PyErr_Format(PyExc_TypeError, "x must be a dict");
      return -1;
    }
    return 0;
  }
  if (model_fill(m, x)) return -1;
  size_t need = m->task == EDDY_CLASSIFICATION ? eddy_schema_n_classes(m->schema) : 1;
  if (need > m->pred_cap) {
    double *p = realloc(m->pred, need * sizeof *p);
    if (!p) {
      PyErr_NoMemory();
      return -1;
    }
    m->pred = p;
    m->pred_cap = need;
  }
  int k = eddy_learner_predict(m->l, &m->in, m->pred, m->pred_cap);
  if (k < 0) {
    PyErr_Format(EddyError, "predict: %s", eddy_strerror(k));
    return -1;
  }
  return k;
}

static PyObject *Model_predict_proba_one(Model *m, PyObject *x) {
  int k = model_predict(m, x);
  if (k < 0) return NULL;
  PyObject *d = PyDict_New();
  if (!d || m->task != EDDY_CLASSIFICATION) return d;
  if (k > PyList_GET_SIZE(m->classes)) k = (int)PyList_GET_SIZE(m->classes);
  /* Nothing voted (an OzaBoost whose members are all excluded, as in MOA):
   * River wants a distribution; uniform keeps the label predict_one gives
   * (the first class, MOA's maxIndex of zeros). */
  double sum = 0;
  for (int c = 0; c < k; c++) sum += m->pred[c];
  for (int c = 0; sum == 0 && c < k; c++) m->pred[c] = 1.0 / k;
  for (int c = 0; c < k; c++) {
    PyObject *p = PyFloat_FromDouble(m->pred[c]);
    if (!p || PyDict_SetItem(d, PyList_GET_ITEM(m->classes, c), p)) {
      Py_XDECREF(p);
      Py_DECREF(d);
      return NULL;
    }
    Py_DECREF(p);
  }
  return d;
}

static PyObject *Model_predict_one(Model *m, PyObject *x) {
  int k = model_predict(m, x);
  if (k < 0) return NULL;
  if (m->task == EDDY_REGRESSION) return PyFloat_FromDouble(k ? m->pred[0] : 0.0);
  if (k > PyList_GET_SIZE(m->classes)) k = (int)PyList_GET_SIZE(m->classes);
  if (k == 0) Py_RETURN_NONE;
  PyObject *label = PyList_GET_ITEM(m->classes, eddy_argmax(m->pred, (size_t)k));
  Py_INCREF(label);
  return label;
}

/* The model as a checkpoint (learners.h's eddy_model_save), or None. */
static PyObject *Model_checkpoint(Model *m, PyObject *unused) {
  (void)unused;
  if (!m->l) Py_RETURN_NONE;
  eddy_buf_t b;
  eddy_buf_init(&b);
  int err = eddy_model_save(m->schema, m->l, &b);
  if (err) {
    eddy_buf_free(&b);
    return PyErr_Format(EddyError, "save: %s", eddy_strerror(err));
  }
  PyObject *r = PyBytes_FromStringAndSize((const char *)b.data, (Py_ssize_t)b.len);
  eddy_buf_free(&b);
  return r;
}

static int model_load_bytes(Model *m, const char *p, Py_ssize_t len, PyObject *keys,
                            PyObject *classes) {
  char err[512];
  eddy_schema_t *s;
  eddy_learner_t *l;
  if (eddy_model_load(p, (size_t)len, &s, &l, err, sizeof err)) {
    PyErr_SetString(EddyError, err);
    return -1;
  }
  /* An anomaly detector ignores the task: a checkpoint of a pipeline with a
   * label (classification) loads into the Python model's (regression, whose
   * one output is the score). */
  if ((s->task != m->task && !l->type->unsupervised) || strcmp(l->type->name, m->learner) != 0) {
    PyErr_Format(EddyError, "checkpoint holds a %s for %s, not this model's %s",
                 l->type->name, s->task == EDDY_CLASSIFICATION ? "classification" : "regression",
                 m->learner);
    eddy_learner_free(l);
    eddy_schema_free(s);
    return -1;
  }
  model_drop(m);
  l->schema = s;
  if (model_attach(m, s, l)) return -1;
  m->features = PyDict_New();
  m->keys = PyList_New(0);
  Py_XSETREF(m->classes, PyList_New(0));
  Py_XSETREF(m->class_of, PyDict_New());
  if (!m->features || !m->keys || !m->classes || !m->class_of) return -1;
  if (keys != Py_None && (!PyList_Check(keys) || PyList_GET_SIZE(keys) != (Py_ssize_t)s->n_attrs)) {
    PyErr_SetString(EddyError, "checkpoint: feature keys do not match its schema");
    return -1;
  }
  for (size_t a = 0; a < s->n_attrs; a++) {
    PyObject *key = keys != Py_None ? (Py_INCREF(PyList_GET_ITEM(keys, a)), PyList_GET_ITEM(keys, a))
                                    : PyUnicode_FromString(s->attrs[a].name);
    PyObject *ix = PyLong_FromSize_t(a);
    int bad = !key || !ix || PyDict_SetItem(m->features, key, ix) || PyList_Append(m->keys, key);
    Py_XDECREF(key);
    Py_XDECREF(ix);
    if (bad) return -1;
  }
  uint32_t k = eddy_schema_n_classes(s);
  if (classes != Py_None && (!PyList_Check(classes) || PyList_GET_SIZE(classes) != (Py_ssize_t)k)) {
    PyErr_SetString(EddyError, "checkpoint: class labels do not match its schema");
    return -1;
  }
  for (uint32_t c = 0; c < k; c++) {
    PyObject *label = classes != Py_None
                          ? (Py_INCREF(PyList_GET_ITEM(classes, c)), PyList_GET_ITEM(classes, c))
                          : PyUnicode_FromString(eddy_dict_name(s->target.dict, c));
    PyObject *ix = PyLong_FromUnsignedLong(c);
    int bad = !label || !ix || PyDict_SetItem(m->class_of, label, ix) ||
              PyList_Append(m->classes, label);
    Py_XDECREF(label);
    Py_XDECREF(ix);
    if (bad) return -1;
  }
  return 0;
}

/* load(checkpoint bytes, keys or None, classes or None): replaces the
 * model with the checkpoint's. Without keys and classes, the schema's
 * names (str) are used. */
static PyObject *Model_load(Model *m, PyObject *args) {
  Py_buffer buf;
  PyObject *keys = Py_None, *classes = Py_None;
  if (!PyArg_ParseTuple(args, "y*|OO", &buf, &keys, &classes)) return NULL;
  int rc = model_load_bytes(m, buf.buf, buf.len, keys, classes);
  PyBuffer_Release(&buf);
  if (rc) return NULL;
  Py_RETURN_NONE;
}

/* Everything pickle needs, as plain objects. */
static PyObject *Model_reduce(Model *m, PyObject *unused) {
  (void)unused;
  PyObject *ck = Model_checkpoint(m, NULL);
  if (!ck) return NULL;
  PyObject *restore = PyObject_GetAttrString((PyObject *)Py_TYPE(m), "_restore");
  if (!restore) {
    Py_DECREF(ck);
    return NULL;
  }
  return Py_BuildValue("N(ssOKIINOO)", restore, m->learner,
                       m->task == EDDY_CLASSIFICATION ? "classification" : "regression",
                       m->params, (unsigned long long)m->seed, m->max_values, m->max_classes, ck,
                       m->keys ? m->keys : Py_None, m->classes);
}

static PyTypeObject ModelType;

static PyObject *Model_restore(PyObject *cls, PyObject *args) {
  (void)cls;
  const char *learner, *task;
  PyObject *params, *ck, *keys, *classes;
  unsigned long long seed;
  unsigned int mv, mc;
  if (!PyArg_ParseTuple(args, "ssOKIIOOO", &learner, &task, &params, &seed, &mv, &mc, &ck, &keys,
                        &classes))
    return NULL;
  PyObject *m = PyObject_CallFunction((PyObject *)&ModelType, "ssOKIIO", learner, task, params,
                                      seed, mv, mc, ck == Py_None ? classes : Py_None);
  if (!m) return NULL;
  if (ck != Py_None) {
    char *p;
    Py_ssize_t len;
    if (PyBytes_AsStringAndSize(ck, &p, &len) ||
        model_load_bytes((Model *)m, p, len, keys, classes)) {
      Py_DECREF(m);
      return NULL;
    }
  }
  return m;
}

static PyObject *Model_sizeof(Model *m, PyObject *unused) {
  (void)unused;
  size_t n = sizeof *m + m->kv.n * sizeof *m->kv.v + m->pred_cap * sizeof(double);
  if (m->l) n += eddy_learner_memory(m->l) + eddy_schema_memory(m->schema) + m->in.n * 17;
  return PyLong_FromSize_t(n);
}

static PyObject *Model_describe(Model *m, PyObject *unused) {
  (void)unused;
  if (!m->l) return PyUnicode_FromString("");
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) return PyErr_NoMemory();
  eddy_learner_describe(m->l, f);
  eddy_learner_describe_importance(m->l, f);
  fclose(f);
  PyObject *r = PyUnicode_DecodeUTF8(text, (Py_ssize_t)len, "replace");
  free(text);
  return r;
}

/* The model as learners.h's JSON export (eddy models --export's format). */
static PyObject *Model_export(Model *m, PyObject *unused) {
  (void)unused;
  if (!m->l) Py_RETURN_NONE;
  eddy_buf_t b;
  eddy_buf_init(&b);
  int err = eddy_learner_export(m->l, &b);
  PyObject *r = err || b.err ? PyErr_Format(EddyError, "export: %s", eddy_strerror(err ? err : b.err))
                             : PyUnicode_DecodeUTF8((const char *)b.data, (Py_ssize_t)b.len, "strict");
  eddy_buf_free(&b);
  return r;
}

static PyObject *Model_get_learner(Model *m, void *c) {
  (void)c;
  return PyUnicode_FromString(m->learner);
}
static PyObject *Model_get_params(Model *m, void *c) {
  (void)c;
  if (m->l) return kvlist_to_dict(&m->l->kv);
  return PyDict_Copy(m->params);
}
static PyObject *Model_get_classes(Model *m, void *c) {
  (void)c;
  return PyList_GetSlice(m->classes, 0, PyList_GET_SIZE(m->classes));
}
static PyObject *Model_get_features(Model *m, void *c) {
  (void)c;
  return m->keys ? PyList_GetSlice(m->keys, 0, PyList_GET_SIZE(m->keys)) : PyList_New(0);
}
static PyObject *Model_get_task(Model *m, void *c) {
  (void)c;
  return PyUnicode_FromString(m->task == EDDY_CLASSIFICATION ? "classification" : "regression");
}
static PyObject *Model_get_seed(Model *m, void *c) {
  (void)c;
  return PyLong_FromUnsignedLongLong(m->l ? m->l->seed : m->seed);
}

static PyGetSetDef Model_getset[] = {
    {"learner", (getter)Model_get_learner, NULL, "registry name of the learner", NULL},
    {"params", (getter)Model_get_params, NULL, "the learner's eddy parameters", NULL},
    {"classes", (getter)Model_get_classes, NULL, "labels by class index", NULL},
    {"features", (getter)Model_get_features, NULL, "feature keys by attribute index", NULL},
    {"task", (getter)Model_get_task, NULL, "classification or regression", NULL},
    {"seed", (getter)Model_get_seed, NULL, "the learner's seed", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef Model_methods[] = {
    {"learn_one", (PyCFunction)(void (*)(void))Model_learn_one, METH_FASTCALL | METH_KEYWORDS,
     "learn_one(x, y, w=1.0): learns one labelled dict"},
    {"predict_one", (PyCFunction)Model_predict_one, METH_O,
     "predict_one(x): the label (None before any learning) or the value"},
    {"predict_proba_one", (PyCFunction)Model_predict_proba_one, METH_O,
     "predict_proba_one(x): {label: probability} over the classes seen"},
    {"checkpoint", (PyCFunction)Model_checkpoint, METH_NOARGS,
     "the model as an eddy checkpoint (bytes), None before any learning"},
    {"load", (PyCFunction)Model_load, METH_VARARGS,
     "load(checkpoint, keys=None, classes=None): replaces the model"},
    {"describe", (PyCFunction)Model_describe, METH_NOARGS, "the learner's description"},
    {"export", (PyCFunction)Model_export, METH_NOARGS,
     "the model as JSON text (eddy models --export's format), None before any learning"},
    {"__reduce__", (PyCFunction)Model_reduce, METH_NOARGS, NULL},
    {"__sizeof__", (PyCFunction)Model_sizeof, METH_NOARGS, NULL},
    {"_restore", (PyCFunction)Model_restore, METH_VARARGS | METH_CLASS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ModelType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "eddy._core.Model",
    .tp_basicsize = sizeof(Model),
    .tp_dealloc = (destructor)Model_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Model(learner, task, params={}, seed=1, max_values=1024, max_classes=256): "
              "an eddy learner fed with dicts",
    .tp_methods = Model_methods,
    .tp_getset = Model_getset,
    .tp_init = (initproc)Model_init,
    .tp_new = PyType_GenericNew,
};

/* ------------------------------------------------------------- Detector */

typedef struct {
  PyObject_HEAD
  eddy_detector_t *d;
} Detector;

static void Detector_dealloc(Detector *d) {
  if (d->d) eddy_detector_free(d->d);
  Py_TYPE(d)->tp_free((PyObject *)d);
}

static int Detector_init(Detector *self, PyObject *args, PyObject *kw) {
  static char *names[] = {"name", "params", "seed", NULL};
  const char *name;
  PyObject *params = NULL;
  unsigned long long seed = 1;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "s|OK", names, &name, &params, &seed)) return -1;
  kvs_t kv = {0};
  PyObject *p = params ? params : PyDict_New();
  int bad = !p || kvs_from_dict(p, &kv);
  if (!params) Py_XDECREF(p);
  if (bad) return -1;
  char err[512];
  eddy_detector_t *d = eddy_detector_new(name, kv.v, kv.n, seed, err, sizeof err);
  kvs_free(&kv);
  if (!d) {
    PyErr_SetString(EddyError, err);
    return -1;
  }
  if (self->d) eddy_detector_free(self->d);
  self->d = d;
  return 0;
}

static PyObject *Detector_update(Detector *self, PyObject *x) {
  double v = PyFloat_AsDouble(x);
  if (v == -1.0 && PyErr_Occurred()) return NULL;
  return PyLong_FromLong((long)eddy_detector_update(self->d, v));
}

static PyObject *Detector_reset(Detector *self, PyObject *unused) {
  (void)unused;
  eddy_detector_reset(self->d);
  Py_RETURN_NONE;
}

static PyObject *Detector_stat(Detector *self, PyObject *unused) {
  (void)unused;
  double s = NAN, t = NAN;
  eddy_detector_stat(self->d, &s, &t);
  return Py_BuildValue("dd", s, t);
}

static PyObject *Detector_checkpoint(Detector *self, PyObject *unused) {
  (void)unused;
  eddy_buf_t b;
  eddy_buf_init(&b);
  int err = eddy_detector_save(self->d, &b);
  PyObject *r = err ? PyErr_Format(EddyError, "save: %s", eddy_strerror(err))
                    : PyBytes_FromStringAndSize((const char *)b.data, (Py_ssize_t)b.len);
  eddy_buf_free(&b);
  return r;
}

static PyTypeObject DetectorType;

static PyObject *Detector_restore(PyObject *cls, PyObject *args) {
  (void)cls;
  Py_buffer buf;
  if (!PyArg_ParseTuple(args, "y*", &buf)) return NULL;
  eddy_reader_t r, sub;
  eddy_reader_init(&r, buf.buf, (size_t)buf.len);
  char err[512] = "detector checkpoint is truncated";
  eddy_detector_t *d = NULL;
  if (eddy_read_section(&r, EDDY_SECTION_DETECTOR, &sub) == 0)
    d = eddy_detector_load(&sub, err, sizeof err);
  PyBuffer_Release(&buf);
  if (!d) return PyErr_Format(EddyError, "%s", err);
  Detector *o = (Detector *)DetectorType.tp_alloc(&DetectorType, 0);
  if (!o) {
    eddy_detector_free(d);
    return NULL;
  }
  o->d = d;
  return (PyObject *)o;
}

static PyObject *Detector_reduce(Detector *self, PyObject *unused) {
  (void)unused;
  PyObject *ck = Detector_checkpoint(self, NULL);
  if (!ck) return NULL;
  PyObject *restore = PyObject_GetAttrString((PyObject *)Py_TYPE(self), "_restore");
  if (!restore) {
    Py_DECREF(ck);
    return NULL;
  }
  return Py_BuildValue("N(N)", restore, ck);
}

static PyObject *Detector_sizeof(Detector *self, PyObject *unused) {
  (void)unused;
  return PyLong_FromSize_t(sizeof *self + (self->d ? eddy_detector_memory(self->d) : 0));
}

static PyMethodDef Detector_methods[] = {
    {"update", (PyCFunction)Detector_update, METH_O,
     "update(x): 0 (none), 1 (warning) or 2 (drift) after x"},
    {"reset", (PyCFunction)Detector_reset, METH_NOARGS, "back to the state after creation"},
    {"stat", (PyCFunction)Detector_stat, METH_NOARGS, "(statistic, threshold) at the last update"},
    {"checkpoint", (PyCFunction)Detector_checkpoint, METH_NOARGS, "the detector's checkpoint section"},
    {"__reduce__", (PyCFunction)Detector_reduce, METH_NOARGS, NULL},
    {"__sizeof__", (PyCFunction)Detector_sizeof, METH_NOARGS, NULL},
    {"_restore", (PyCFunction)Detector_restore, METH_VARARGS | METH_CLASS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject DetectorType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "eddy._core.Detector",
    .tp_basicsize = sizeof(Detector),
    .tp_dealloc = (destructor)Detector_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Detector(name, params={}, seed=1): an eddy drift detector",
    .tp_methods = Detector_methods,
    .tp_init = (initproc)Detector_init,
    .tp_new = PyType_GenericNew,
};

/* --------------------------------------------------------------- module */

static PyObject *core_learners(PyObject *self, PyObject *unused) {
  (void)self;
  (void)unused;
  PyObject *l = PyList_New(0);
  for (const eddy_learner_type_t *const *t = eddy_learner_types; l && *t; t++) {
    PyObject *s = PyUnicode_FromString((*t)->name);
    if (!s || PyList_Append(l, s)) Py_CLEAR(l);
    Py_XDECREF(s);
  }
  return l;
}

/* The learner name of a model checkpoint, without loading it. */
static PyObject *core_checkpoint_learner(PyObject *self, PyObject *args) {
  (void)self;
  Py_buffer buf;
  if (!PyArg_ParseTuple(args, "y*", &buf)) return NULL;
  char err[512], name[128];
  eddy_reader_t r;
  uint64_t seed;
  eddy_kvlist_t kv = {0};
  PyObject *res = NULL;
  if (eddy_ckpt_verify(buf.buf, (size_t)buf.len, err, sizeof err))
    PyErr_SetString(EddyError, err);
  else if (eddy_ckpt_section(buf.buf, (size_t)buf.len, EDDY_SECTION_LEARNER, 0, &r) ||
           eddy_component_load_header(&r, name, sizeof name, &seed, &kv))
    PyErr_SetString(EddyError, "checkpoint has no readable learner section");
  else {
    eddy_reader_t rs;
    int task = 0;
    if (eddy_ckpt_section(buf.buf, (size_t)buf.len, EDDY_SECTION_SCHEMA, 0, &rs) == 0) {
      eddy_schema_t *s = eddy_schema_load(&rs, err, sizeof err);
      if (s) task = s->task;
      eddy_schema_free(s);
    }
    PyObject *d = kvlist_to_dict(&kv);
    if (d)
      res = Py_BuildValue("sNsK", name, d, task == EDDY_REGRESSION ? "regression" : "classification",
                          (unsigned long long)seed);
  }
  eddy_kvlist_free(&kv);
  PyBuffer_Release(&buf);
  return res;
}

static PyMethodDef core_methods[] = {
    {"learners", core_learners, METH_NOARGS, "the registered learner names"},
    {"checkpoint_learner", core_checkpoint_learner, METH_VARARGS,
     "checkpoint_learner(bytes): (learner name, params, task, seed)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT, "eddy._core", "eddy's C core: learners and drift detectors", -1,
    core_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__core(void) {
  if (PyType_Ready(&ModelType) < 0 || PyType_Ready(&DetectorType) < 0) return NULL;
  PyObject *m = PyModule_Create(&core_module);
  if (!m) return NULL;
  EddyError = PyErr_NewException("eddy._core.EddyError", PyExc_ValueError, NULL);
  Py_INCREF(&ModelType);
  Py_INCREF(&DetectorType);
  if (!EddyError || PyModule_AddObject(m, "EddyError", EddyError) ||
      PyModule_AddObject(m, "Model", (PyObject *)&ModelType) ||
      PyModule_AddObject(m, "Detector", (PyObject *)&DetectorType) ||
      PyModule_AddStringConstant(m, "version", EDDY_VERSION)) {
    Py_DECREF(m);
    return NULL;
  }
  Py_INCREF(EddyError);
  return m;
}
