"""Array arithmetic a fill does many times, kept cheap.

* :func:`mean_std`: a fill takes the spread of 100,000 scores four or five times (the taste side's
  unit, the generator's, the explore floor's); ``np.std`` alone is a mean, a difference, a square and
  a sum, each a pass over 400 KB, plus its Python wrapper. Here the squares are summed by one
  ``einsum`` over the differences: three passes, equal to ``np.std`` to float32 rounding.
* :func:`one_thread_product`: OpenBLAS multiplies on one thread while m·n·k stays at or under 2^18
  (its SMP_THRESHOLD_MIN × the default GEMM_MULTITHREAD_THRESHOLD; matrix-vector products go
  multi-threaded far sooner). A fill's few-row products (its picks against the liked and finished
  tracks, the spread sample against ``w_u``) are cut into such pieces, so no BLAS thread is woken on a
  busy machine (measured 5-8 ms there), and each piece still runs BLAS's kernel: 3 times faster than
  einsum's loop for 600 finished tracks × 10 picks.
"""

from __future__ import annotations

import numpy as np


def mean_std(x: np.ndarray) -> tuple[float, float]:
    """(mean, population standard deviation) of ``x`` (1-d); (nan, nan) for an empty one."""
    n = len(x)
    if n == 0:
        return float("nan"), float("nan")
    mean = np.add.reduce(x) / n
    d = x - mean
    return float(mean), float(np.sqrt(np.einsum("i,i->", d, d) / n))


ONE_THREAD_MNK = 1 << 18


def one_thread_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` (``a`` [m, k], ``b`` [k, n] or [k]) in pieces of ``a``'s rows small enough for one BLAS thread."""
    b2 = b[:, None] if b.ndim == 1 else b
    step = max(1, ONE_THREAD_MNK // max(1, b2.shape[0] * b2.shape[1]))
    out = np.empty((a.shape[0], b2.shape[1]), np.result_type(a, b))
    for i in range(0, a.shape[0], step):
        out[i : i + step] = a[i : i + step] @ b2
    return out[:, 0] if b.ndim == 1 else out
