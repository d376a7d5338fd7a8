"""A big library's vectors in a private, unnamed file instead of the heap, read by rows and blocks.

At 100,000 tracks the float32 matrix is 154 MB, a third of the app's resident memory, yet a fill
reads only a few thousand of its rows (the int8 first pass ranks the rest, recommend/first_pass.py)
and the passes over every row (the prompt's fit, the library's means, the generator's map) run once
per prompt or catalog. So a library of :data:`FILE_MIN_ROWS` rows or more is written once, when the
catalog loads, to an anonymous temporary file in the user's private cache folder (``O_TMPFILE`` or
unlinked at once: it has no name, goes with the process and can never be read stale), and read back
with ``pread``: :class:`FileRows` answers ``m[i]``, ``m[rows]`` and ``m[a:b]`` with copies, and
:func:`blocks` / :func:`product` run the full passes a block at a time. The data then lives in the
kernel's page cache, which gives it back under pressure, not in the process.

Why not ``mmap``: a read fault maps the 64 KB around it (the kernel's fault-around), so the 2,000
random rows of one fill mapped 130 MB of the file into the process, and ``MADV_RANDOM`` does not stop it.

Every function here takes a plain in-memory array too and computes exactly the same (the blocks are
the same either way): the evaluation's libraries stay in memory and run the same code.
"""

from __future__ import annotations

import contextlib
import logging
import mmap
import os
import tempfile
import threading
from collections.abc import Iterator
from typing import Any, BinaryIO

import numpy as np

log = logging.getLogger(__name__)

FILE_MIN_ROWS = 20_000  # below this the matrix is under 31 MB at dim 384: the heap is cheaper than a file
BLOCK_ROWS = 8_192  # rows per block of a full pass: 12.6 MB at dim 384, one block in memory at a time
# Rows read one by one are kept, the oldest read first out: a fill rescores about the same best rows
# as the fill before it and gives reasons from the same history, and a read costs a system call
# (~2 µs) where memory costs nothing. 8,192 rows are 12.6 MB at dim 384.
CACHE_ROWS = 8_192

_PAGE = mmap.PAGESIZE
_DONTNEED = getattr(mmap, "MADV_DONTNEED", None)
_F32 = np.dtype(np.float32)


def _private_file() -> BinaryIO:
    """An anonymous file (mode 0600, no name) in the private cache folder."""
    from player_plugin import paths
    from player_plugin.private_files import private_dir

    return tempfile.TemporaryFile(dir=private_dir(paths.cache_dir()))


class FileRows:
    """A read-only float32 ``[n, dim]`` matrix in an unnamed file; indexing reads (and copies) rows.

    ``m[i]`` one row, ``m[rows]`` (ints, in any order, repeats allowed, or a boolean mask) those rows,
    ``m[a:b]`` a block; ``m[rows, cols]`` too. There is no ``m @ q``: a pass over every row goes through
    :func:`product` or :func:`blocks`, which read it a block at a time."""

    ndim = 2
    dtype = _F32

    def __init__(self, handle: BinaryIO, rows: int, dim: int) -> None:
        self._handle = handle
        self._fd = handle.fileno()
        self.shape = (rows, dim)
        self._row_bytes = dim * _F32.itemsize
        size = min(CACHE_ROWS, rows)
        self._cache = np.empty((size, dim), np.float32)  # rows read one by one, kept
        self._slot_of = np.full(rows, -1, np.int32)  # row -> its slot in _cache, -1: not kept
        self._row_in = np.full(size, -1, np.int64)  # slot -> its row
        self._next = 0  # the next slot to reuse (the oldest kept row's)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def nbytes(self) -> int:
        return self.shape[0] * self._row_bytes

    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise TypeError("a file-backed matrix is read by rows or in blocks (player_plugin/matrix_file.py)")

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, tuple):  # m[rows, cols]: the rows read, then the columns taken
            rows, *cols = key
            return self[rows][tuple(cols)] if _is_int(rows) else self[rows][(slice(None), *cols)]
        n = self.shape[0]
        if _is_int(key):
            i = int(key) + (n if int(key) < 0 else 0)
            if not 0 <= i < n:
                raise IndexError(f"row {int(key)} is out of range for {n} rows")
            return self._read(i, 1)[0]
        if isinstance(key, slice):
            start, stop, step = key.indices(n)
            if step != 1:
                return self[np.arange(start, stop, step)]
            return self._read(start, max(0, stop - start))
        return self._gather(np.asarray(key))

    def _read(self, start: int, count: int) -> np.ndarray:
        out = np.empty((count, self.shape[1]), np.float32)
        if out.size:
            self._fill(memoryview(out).cast("B"), start)
        return out

    def _fill(self, buffer: memoryview, row: int) -> None:
        offset, done = row * self._row_bytes, 0
        while done < len(buffer):
            got = os.preadv(self._fd, [buffer[done:]], offset + done)
            if got <= 0:
                raise OSError(f"the library's vector file ended early (row {row}, byte {offset + done})")
            done += got

    def _gather(self, rows: np.ndarray) -> np.ndarray:
        n = self.shape[0]
        if rows.dtype == bool:
            if rows.shape != (n,):
                raise IndexError(f"a mask of {rows.shape} for {n} rows")
            rows = np.flatnonzero(rows)
        rows = rows.astype(np.int64, copy=False).ravel()
        rows = np.where(rows < 0, rows + n, rows)
        if len(rows) and (rows.min() < 0 or rows.max() >= n):
            raise IndexError(f"a row out of range for {n} rows")
        with self._lock:
            slots = self._slot_of[rows]
            missing = np.unique(rows[slots < 0])
            size = len(self._cache)
            if len(missing) + int(np.count_nonzero(slots >= 0)) > size:  # more than it holds: read all, keep none
                unique, inverse = np.unique(rows, return_inverse=True)
                return self._read_rows(unique)[inverse]
            if len(missing):
                order = (self._next + np.arange(size)) % size  # oldest first, but never a row this read needs
                needed = np.zeros(size, dtype=bool)
                needed[slots[slots >= 0]] = True
                free = order[~needed[order]][: len(missing)]
                self._next = int(free[-1] + 1) % size
                gone = self._row_in[free]
                self._slot_of[gone[gone >= 0]] = -1
                self._cache[free] = self._read_rows(missing)
                self._row_in[free] = missing
                self._slot_of[missing] = free
                slots = self._slot_of[rows]
            return self._cache[slots]

    def _read_rows(self, unique: np.ndarray) -> np.ndarray:
        """``unique`` rows (sorted, distinct) from the file: one read per run of consecutive rows."""
        out = np.empty((len(unique), self.shape[1]), np.float32)
        if not out.size:
            return out
        raw = memoryview(out).cast("B")
        cuts = np.flatnonzero(np.diff(unique) != 1) + 1
        rb = self._row_bytes
        for lo, hi in zip(np.r_[0, cuts].tolist(), np.r_[cuts, len(unique)].tolist(), strict=True):
            self._fill(raw[lo * rb : hi * rb], int(unique[lo]))
        return out


def _is_int(key: Any) -> bool:
    return isinstance(key, int | np.integer)


class RowsBuilder:
    """Collects ``rows`` float32 rows of ``dim``, in order; :meth:`finish` gives the matrix: a
    :class:`FileRows` from :data:`FILE_MIN_ROWS` rows on (written a block at a time), else an array."""

    def __init__(self, rows: int, dim: int) -> None:
        self.rows, self.dim = rows, dim
        self._file: BinaryIO | None = None
        if rows >= FILE_MIN_ROWS and dim and hasattr(os, "preadv"):
            try:
                self._file = _private_file()
            except OSError as exc:  # a full or read-only cache folder: more memory, never a failure
                log.warning("keeping the library's vectors in memory (the cache folder refused a file: %s)", exc)
        self._buf = np.empty((min(rows, BLOCK_ROWS) if self._file else rows, dim), np.float32)
        self._count = 0  # rows added
        self._held = 0  # rows in _buf not yet written

    def add(self, row: bytes | np.ndarray) -> None:
        if self._count >= self.rows:
            raise ValueError(f"more than the {self.rows} rows announced")
        self._buf[self._held] = np.frombuffer(row, dtype="<f4") if isinstance(row, bytes) else row
        self._count += 1
        self._held += 1
        if self._file is not None and self._held == len(self._buf):
            self._flush()

    def _flush(self) -> None:
        assert self._file is not None
        try:
            self._file.write(memoryview(self._buf[: self._held]).cast("B"))
            self._file.flush()
        except OSError as exc:  # the disk filled up: the rows go on in memory, none lost
            log.warning("keeping the library's vectors in memory (the cache folder is full: %s)", exc)
            self._to_memory()
            return
        self._held = 0

    def _to_memory(self) -> None:
        assert self._file is not None
        written = self._count - self._held
        full = np.empty((self.rows, self.dim), np.float32)
        if written:
            full[:written] = FileRows(self._file, written, self.dim)[:written]
        full[written : self._count] = self._buf[: self._held]
        with contextlib.suppress(OSError):  # closing flushes what failed once already
            self._file.close()
        self._file, self._buf, self._held = None, full, self._count

    def finish(self) -> np.ndarray | FileRows:
        """The rows added so far (fewer than announced is fine)."""
        if self._file is not None and self._held:
            self._flush()
        if self._file is None:
            return self._buf[: self._count]
        self._buf = np.empty((0, self.dim), np.float32)
        return FileRows(self._file, self._count, self.dim)


def is_file_backed(a: Any) -> bool:
    return isinstance(a, FileRows)


def blocks(a: np.ndarray | FileRows, rows: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """``(start, a[start : start + rows])`` (:data:`BLOCK_ROWS` rows) front to back; from a file, each
    block is a fresh read."""
    rows = rows or BLOCK_ROWS
    for start in range(0, len(a), rows):
        yield start, a[start : start + rows]


def product(a: np.ndarray | FileRows, q: np.ndarray) -> np.ndarray:
    """``a @ q`` (``q`` a vector or ``[dim, k]``), block by block: the same arithmetic in memory or in a file."""
    q = np.asarray(q, np.float32)
    out = np.empty((len(a), *q.shape[1:]), np.float32)
    for start, block in blocks(a):
        out[start : start + len(block)] = block @ q
    return out


def weighted_sum(a: np.ndarray | FileRows, weights: np.ndarray) -> np.ndarray:
    """``weights.T @ a`` (``weights`` one per row, ``[n]`` or ``[n, k]``), block by block, summed in float64."""
    w = np.asarray(weights, np.float32)
    out = np.zeros((*w.shape[1:], *a.shape[1:]), np.float64)
    for start, block in blocks(a):
        out += w[start : start + len(block)].T @ block
    return out.astype(np.float32)


def take_rows(a: np.ndarray | FileRows, rows: np.ndarray) -> np.ndarray | FileRows:
    """``a[rows]`` (many rows, in order), into a new file when ``a`` is in one, a block at a time."""
    if not is_file_backed(a):
        return a[rows]
    out = RowsBuilder(len(rows), a.shape[1])
    for start in range(0, len(rows), BLOCK_ROWS):
        for row in a[rows[start : start + BLOCK_ROWS]]:
            out.add(row)
    return out.finish()


# -- a file-mapped scratch array: for data handed to a library that keeps a pointer to it -----------


def file_array(shape: tuple[int, ...], dtype: type = np.float32) -> np.memmap:
    """A writable array mapped from an anonymous private file: for a buffer that must stay valid but is
    read once (the first pass's int8 library, which onnxruntime prepacks): :func:`release` its pages."""
    with _private_file() as handle:  # the mapping keeps its own descriptor; the file has no name
        return np.memmap(handle, dtype=dtype, mode="w+", shape=shape)


def release(a: np.ndarray) -> None:
    """Hand the pages of a :func:`file_array` back to the kernel (the data stays in the file); a
    no-op for anything else."""
    mapping = getattr(a, "_mmap", None)
    if mapping is None or _DONTNEED is None or a.nbytes == 0:
        return
    start = np.frombuffer(mapping, np.uint8, count=1).ctypes.data  # where the mapping begins
    lo = a.ctypes.data - start
    hi = lo + a.nbytes
    lo -= lo % _PAGE
    hi = min(len(mapping), hi + (-hi) % _PAGE)
    with contextlib.suppress(OSError, ValueError):  # refused advice: the pages stay, nothing is lost
        mapping.madvise(_DONTNEED, lo, hi - lo)
