/*
 * The inner loops of exact data match, compiled: keyed SipHash-2-4 of many
 * short strings, the search of sorted match keys through their bucket
 * directory, and the end of each run of equal keys found.
 * shareguard.detect.edm holds the same in numpy and uses them when this
 * module is missing; the tests hold both to each other and to the
 * reference test vectors.
 *
 * The functions read and write caller-owned buffers (bytes, numpy arrays),
 * check every offset they are given before they read at it, and run without
 * the GIL.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

/* ------------------------------------------------------------------ SipHash-2-4 */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND                                                               \
    do {                                                                       \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);              \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                                 \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                                 \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);              \
    } while (0)

static inline uint64_t
load_le64(const unsigned char *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
           (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
           (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

/* SipHash-2-4 of head || tail under (k0, k1): the message is the field's
 * prefix followed by the value, without copying them together. */
static uint64_t
siphash24(uint64_t k0, uint64_t k1, const unsigned char *head, size_t n_head,
          const unsigned char *tail, size_t n_tail)
{
    uint64_t v0 = k0 ^ 0x736f6d6570736575ULL;
    uint64_t v1 = k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ULL;
    uint64_t v3 = k1 ^ 0x7465646279746573ULL;
    unsigned char word[8];
    size_t filled = 0;
    const unsigned char *parts[2] = {head, tail};
    size_t sizes[2] = {n_head, n_tail};

    for (int k = 0; k < 2; k++) {
        const unsigned char *p = parts[k];
        size_t n = sizes[k];
        while (n) {
            if (filled == 0 && n >= 8) {
                uint64_t m = load_le64(p);
                v3 ^= m; SIPROUND; SIPROUND; v0 ^= m;
                p += 8;
                n -= 8;
                continue;
            }
            word[filled++] = *p++;
            n--;
            if (filled == 8) {
                uint64_t m = load_le64(word);
                v3 ^= m; SIPROUND; SIPROUND; v0 ^= m;
                filled = 0;
            }
        }
    }
    uint64_t last = (uint64_t)((n_head + n_tail) & 0xff) << 56;
    for (size_t i = 0; i < filled; i++)
        last |= (uint64_t)word[i] << (8 * i);
    v3 ^= last; SIPROUND; SIPROUND; v0 ^= last;
    v2 ^= 0xff;
    SIPROUND; SIPROUND; SIPROUND; SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* ------------------------------------------------------------------ buffers */

/* An argument read or written as a C-contiguous buffer of items of
 * `itemsize` bytes (0: any, checked by the function), writable if asked. */
typedef struct {
    PyObject *obj;
    Py_ssize_t itemsize;
    int writable;
    const char *what;
    Py_buffer view;
} Array;

static void
release_arrays(Array *arrays, int n)
{
    for (int i = 0; i < n; i++)
        PyBuffer_Release(&arrays[i].view);
}

/* Every buffer of a call, or none: on failure those already held are
 * released and -1 returned, with the error set. */
static int
get_arrays(Array *arrays, int n)
{
    for (int i = 0; i < n; i++) {
        Array *a = &arrays[i];
        int flags = PyBUF_C_CONTIGUOUS | (a->writable ? PyBUF_WRITABLE : 0);
        if (PyObject_GetBuffer(a->obj, &a->view, flags) < 0) {
            release_arrays(arrays, i);
            return -1;
        }
        if (a->itemsize && (a->view.itemsize != a->itemsize || a->view.len % a->itemsize)) {
            PyErr_Format(PyExc_ValueError, "%s: items of %zd bytes expected, got %zd",
                         a->what, a->itemsize, a->view.itemsize);
            release_arrays(arrays, i + 1);
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ siphash24 */

PyDoc_STRVAR(siphash24_doc,
"siphash24(k0, k1, prefix, data, offsets, out)\n\n"
"out[i] = SipHash-2-4 under the key (k0, k1) of prefix + data[offsets[i]:offsets[i + 1]].\n"
"k0, k1: the key's two little-endian 64-bit halves; prefix, data: bytes-like;\n"
"offsets: int64, one more than out; out: writable uint64.");

static PyObject *
py_siphash24(PyObject *Py_UNUSED(module), PyObject *args)
{
    unsigned long long k0, k1;
    Array bufs[4] = {{.itemsize = 0, .what = "prefix"},
                     {.itemsize = 0, .what = "data"},
                     {.itemsize = 8, .what = "offsets"},
                     {.itemsize = 8, .writable = 1, .what = "out"}};

    if (!PyArg_ParseTuple(args, "KKOOOO:siphash24", &k0, &k1, &bufs[0].obj, &bufs[1].obj,
                          &bufs[2].obj, &bufs[3].obj))
        return NULL;
    if (get_arrays(bufs, 4) < 0)
        return NULL;
    Py_buffer prefix = bufs[0].view, data = bufs[1].view;
    Py_buffer offsets = bufs[2].view, out = bufs[3].view;
    PyObject *result = NULL;

    Py_ssize_t n = out.len / 8;
    const int64_t *off = (const int64_t *)offsets.buf;
    if (offsets.len / 8 != n + 1) {
        PyErr_SetString(PyExc_ValueError, "offsets: one more item than out expected");
        goto done;
    }
    if (off[0] < 0 || off[n] > data.len) {
        PyErr_SetString(PyExc_ValueError, "offsets: outside data");
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (off[i + 1] < off[i]) {
            PyErr_SetString(PyExc_ValueError, "offsets: not in order");
            goto done;
        }
    }
    const unsigned char *bytes = (const unsigned char *)data.buf;
    const unsigned char *head = (const unsigned char *)prefix.buf;
    size_t n_head = (size_t)prefix.len;
    uint64_t *hashes = (uint64_t *)out.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++)
        hashes[i] = siphash24(k0, k1, head, n_head, bytes + off[i], (size_t)(off[i + 1] - off[i]));
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    release_arrays(bufs, 4);
    return result;
}

/* ------------------------------------------------------------------ find */

PyDoc_STRVAR(find_doc,
"find(keys, buckets, shift, queries, out)\n\n"
"out[i] = the first position p of keys (sorted uint64) with keys[p] == queries[i],\n"
"or -1 where there is none.  buckets (int32 or int64, one more than 2**(64 - shift)):\n"
"where each bucket of keys by their top 64 - shift bits starts, the last item the\n"
"number of keys.  out: writable int64, as long as queries.");

/* queries looked up together: each one's bucket and first keys are asked
 * of memory before any is searched, so that the reads overlap */
#define FIND_BATCH 16

static PyObject *
py_find(PyObject *Py_UNUSED(module), PyObject *args)
{
    int shift;
    Array bufs[4] = {{.itemsize = 8, .what = "keys"},
                     {.itemsize = 0, .what = "buckets"},
                     {.itemsize = 8, .what = "queries"},
                     {.itemsize = 8, .writable = 1, .what = "out"}};

    if (!PyArg_ParseTuple(args, "OOiOO:find", &bufs[0].obj, &bufs[1].obj, &shift, &bufs[2].obj,
                          &bufs[3].obj))
        return NULL;
    if (shift < 1 || shift > 63) {
        PyErr_SetString(PyExc_ValueError, "shift: 1 to 63 expected");
        return NULL;
    }
    if (get_arrays(bufs, 4) < 0)
        return NULL;
    Py_buffer keys = bufs[0].view, buckets = bufs[1].view;
    Py_buffer queries = bufs[2].view, out = bufs[3].view;
    PyObject *result = NULL;

    Py_ssize_t n_keys = keys.len / 8, n = queries.len / 8;
    Py_ssize_t width = buckets.itemsize;
    if ((width != 4 && width != 8) || buckets.len % width != 0) {
        PyErr_SetString(PyExc_ValueError, "buckets: int32 or int64 expected");
        goto done;
    }
    Py_ssize_t n_buckets = buckets.len / width - 1;
    if (out.len / 8 != n) {
        PyErr_SetString(PyExc_ValueError, "out: as many items as queries expected");
        goto done;
    }
    if (n_buckets < 1 || (uint64_t)n_buckets != (uint64_t)1 << (64 - shift)) {
        PyErr_SetString(PyExc_ValueError,
                        "buckets: one per value of the top 64 - shift bits expected");
        goto done;
    }
    const int32_t *b32 = (const int32_t *)buckets.buf;
    const int64_t *b64 = (const int64_t *)buckets.buf;
    const uint64_t *k = (const uint64_t *)keys.buf;
    const uint64_t *q = (const uint64_t *)queries.buf;
    int64_t *pos = (int64_t *)out.buf;
    int broken = 0;
    Py_BEGIN_ALLOW_THREADS
    int64_t lo[FIND_BATCH], hi[FIND_BATCH];
    for (Py_ssize_t start = 0; start < n && !broken; start += FIND_BATCH) {
        Py_ssize_t count = n - start < FIND_BATCH ? n - start : FIND_BATCH;
        /* < n_buckets, by the check above */
        for (Py_ssize_t j = 0; j < count; j++) {
            Py_ssize_t at = (Py_ssize_t)(q[start + j] >> shift);
            __builtin_prefetch(width == 4 ? (const void *)(b32 + at) : (const void *)(b64 + at));
        }
        for (Py_ssize_t j = 0; j < count; j++) {
            Py_ssize_t at = (Py_ssize_t)(q[start + j] >> shift);
            lo[j] = width == 4 ? (int64_t)b32[at] : b64[at];
            hi[j] = width == 4 ? (int64_t)b32[at + 1] : b64[at + 1];
            if (lo[j] < 0 || hi[j] < lo[j] || hi[j] > n_keys) { /* never read outside the keys */
                broken = 1;
                break;
            }
            /* the bucket's first keys (16 to 32 on average), a cache line each 8 */
            for (int64_t ahead = lo[j]; ahead < hi[j] && ahead < lo[j] + 64; ahead += 8)
                __builtin_prefetch(k + ahead);
        }
        for (Py_ssize_t j = 0; j < count && !broken; j++) {
            uint64_t query = q[start + j];
            int64_t a = lo[j], b = hi[j];
            while (a < b) { /* the first key >= query in [a, b) */
                int64_t mid = a + ((b - a) >> 1);
                if (k[mid] < query)
                    a = mid + 1;
                else
                    b = mid;
            }
            pos[start + j] = a < hi[j] && k[a] == query ? a : -1;
        }
    }
    Py_END_ALLOW_THREADS
    if (broken) {
        PyErr_SetString(PyExc_ValueError, "buckets: not a directory of the keys");
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    release_arrays(bufs, 4);
    return result;
}

/* ------------------------------------------------------------------ run_ends */

PyDoc_STRVAR(run_ends_doc,
"run_ends(keys, starts, out)\n\n"
"out[i] = the first position after starts[i] whose key differs from keys[starts[i]]\n"
"(keys sorted uint64; starts int64, each a position of keys; out writable int64):\n"
"galloping, so a key a few rows share costs a read or two, one thousands share\n"
"a few dozen.");

static PyObject *
py_run_ends(PyObject *Py_UNUSED(module), PyObject *args)
{
    Array bufs[3] = {{.itemsize = 8, .what = "keys"},
                     {.itemsize = 8, .what = "starts"},
                     {.itemsize = 8, .writable = 1, .what = "out"}};

    if (!PyArg_ParseTuple(args, "OOO:run_ends", &bufs[0].obj, &bufs[1].obj, &bufs[2].obj))
        return NULL;
    if (get_arrays(bufs, 3) < 0)
        return NULL;
    Py_buffer keys = bufs[0].view, starts = bufs[1].view, out = bufs[2].view;
    PyObject *result = NULL;

    int64_t n_keys = (int64_t)(keys.len / 8);
    Py_ssize_t n = starts.len / 8;
    if (out.len / 8 != n) {
        PyErr_SetString(PyExc_ValueError, "out: as many items as starts expected");
        goto done;
    }
    const uint64_t *k = (const uint64_t *)keys.buf;
    const int64_t *from = (const int64_t *)starts.buf;
    int64_t *end = (int64_t *)out.buf;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (from[i] < 0 || from[i] >= n_keys) {
            PyErr_SetString(PyExc_ValueError, "starts: not a position of the keys");
            goto done;
        }
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t first = from[i];
        uint64_t key = k[first];
        /* keys[a] == key; b = a + 1, a + 2, a + 4 ... until past the run */
        int64_t a = first, b = first + 1, step = 1;
        while (b < n_keys && k[b] == key) {
            a = b;
            step <<= 1;
            b = first + step;
        }
        if (b > n_keys)
            b = n_keys;
        while (b - a > 1) { /* keys[a] == key, keys[b] != key (or b the end) */
            int64_t mid = a + ((b - a) >> 1);
            if (k[mid] == key)
                a = mid;
            else
                b = mid;
        }
        end[i] = b;
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    release_arrays(bufs, 3);
    return result;
}

/* ------------------------------------------------------------------ module */

static PyMethodDef methods[] = {
    {"siphash24", py_siphash24, METH_VARARGS, siphash24_doc},
    {"find", py_find, METH_VARARGS, find_doc},
    {"run_ends", py_run_ends, METH_VARARGS, run_ends_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "_edmkernel",
    "Compiled inner loops of exact data match (see shareguard.detect.edm).",
    0,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__edmkernel(void)
{
    return PyModule_Create(&module);
}
