"""Up Next's first pass: every track's taste score from an int8 copy of the library, the best few
thousand rescored exactly.

The fill's one unavoidable cost is ``matrix @ w_u`` over the whole library, and at 100,000 × 384
float32 that product reads 154 MB: it is bound by memory bandwidth, not arithmetic. The first pass
reads a quarter of it: each track's vector as int8 with one float scale per track (the vectors are
unit length, so an int8 step is 1/127 of the largest component), multiplied by an integer copy of
``w_u`` (7 bits: no saturation on AVX2) in onnxruntime's u8 × s8 integer kernels (AVX2, AVX-512
VNNI and NEON dot products), with the library prepacked once when the catalog loads. The rows
whose approximate score is among the best :data:`RESCORE_ROWS` (and any row the caller names) then
get their exact float32 score, so what Up Next picks is ranked as before (``bench/up_next.py``
reports the overlap of the top 50 with the exact ranking). The rows left approximate are off by
less than 0.4 % of ``|w|``; statistics over all rows (a spread, a mean) move by far less.

The graph is one ``MatMulInteger`` node over the library's own vectors, built here in memory: there
is nothing to export or download (it is arithmetic, not a model), and it needs no ``onnx`` package —
its few protobuf fields are written by :func:`_matmul_model`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from player_plugin import matrix_file
from player_plugin.recommend.select import SAMPLE_STEP, rows_at_least

log = logging.getLogger(__name__)

FIRST_PASS_MIN_TRACKS = 20_000  # below this the exact product is already a millisecond or two
RESCORE_ROWS = 1_000  # rows rescored exactly after the first pass (the queue rules walk far fewer)
# ... and the best rows of the generator's scores, which the explore slots rank by (taste + generator):
# every rescored row is a random read of the float32 matrix, the fill's second cost after the first pass
RESCORE_GENERATOR_ROWS = 500
# ... and, while a prompt is set, its best fits: the gate (at most ``prompt_fit`` tracks that can be
# picked now) is ordered by this score; this many times its size covers what the queue and recent plays hold
RESCORE_GATE_FACTOR = 8
# ... and the rows b lifts to within this many spreads of the taste scores of the best rows' cut: the lift is
# estimated before the generator joins (its part of a row's score spans about a spread either way), so
# a row b and the generator lift together is still rescored
LIFT_MARGIN = 1.0
# The query goes in as uint8 (u8 × s8 is the fast integer kernel) with 7 bits, ±63 around 64: AVX2's
# u8 × s8 instruction adds pairs into a saturating int16, and 2 × 127 × 127 still fits where 2 × 255 × 127
# would not (the reason onnxruntime quantises with reduce_range on such CPUs).
_QUERY_STEPS = 63
_ZERO_POINT = 64


class FirstPass:
    """The int8 library, prepacked in an onnxruntime session; :meth:`scores` ≈ ``matrix @ w``."""

    def __init__(self, matrix: np.ndarray, threads: int | None = None) -> None:
        from player_plugin.nlp.runtime import _ort, default_threads

        ort = _ort()
        n, dim = matrix.shape
        self.n, self.dim = n, dim
        self.scale = np.empty(n, np.float32)
        # [dim, n]: the graph's B, one column per track; a file like the float32 matrix's (onnxruntime
        # prepacks it into its own buffer and never reads it again, so its pages go back to the kernel)
        try:
            library: np.ndarray = matrix_file.file_array((dim, n), np.int8)
        except OSError:  # no room in the cache folder: on the heap, 38 MB more at 100k tracks
            library = np.empty((dim, n), np.int8)
        for start, block in matrix_file.blocks(matrix):  # in blocks: no float copy of the whole library
            peak = np.abs(block).max(axis=1)
            scale = self.scale[start : start + len(block)] = np.maximum(peak, 1e-12) / 127.0
            library[:, start : start + len(block)] = np.rint(block / scale[:, None]).T
            matrix_file.release(library)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or default_threads()
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        # no spin-waiting after each run: the fill goes on in numpy on the same cores at once
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # the library goes in as an external initializer: no protobuf copy of its bytes, no second
        # copy inside onnxruntime beside the prepacked one (the session keeps this value alive)
        self._library = ort.OrtValue.ortvalue_from_numpy(library)
        opts.add_external_initializers(["library"], [self._library])
        self.session = ort.InferenceSession(
            _matmul_model(dim, n), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        matrix_file.release(library)

    def scores(self, w: np.ndarray) -> np.ndarray:
        """Approximate ``matrix @ w`` (float32, one per track; ``w`` ``[k, dim]``: ``[k, n]``, the library
        read once for all k): error below 1 % of ``|w|`` (each row of ``w`` is quantised on its own)."""
        w = np.asarray(w, np.float32)
        one = w.ndim == 1
        w = np.atleast_2d(w)
        w_scale = np.maximum(np.abs(w).max(axis=1), 1e-12) / _QUERY_STEPS
        query = (np.rint(w / w_scale[:, None]).astype(np.int16) + _ZERO_POINT).astype(np.uint8)
        (out,) = self.session.run(None, {"query": query})
        scores = out.astype(np.float32)
        scores *= self.scale
        scores *= w_scale.astype(np.float32)[:, None]
        return scores[0] if one else scores


@dataclass(frozen=True)
class FoldedQuery:
    """A second query that rides on the first pass: its scores are ``(matrix @ vector + offset) * inverse_norm``.

    The generator ranks a track by ``t_m · q`` with ``t_m = normalise(v_m W + c)`` (recommend/seq2seq_rec.py),
    which is ``(v_m · Wq + c · q) / |v_m W + c|``: one more column of the first pass's product and one
    number per track, where the library mapped into the generator's space was a second full read per
    fill (51 MB at 100,000 tracks, and 51 MB kept)."""

    vector: np.ndarray  # W q, in the encoder's space
    offset: float | np.ndarray  # c · q (per track for a script-centred generator, seq2seq_rec.GeneratorSide)
    inverse_norm: np.ndarray  # 1 / |v_m W + c| per track (0 where the map gives the zero vector)

    def offset_at(self, rows: np.ndarray | None = None) -> np.float32 | np.ndarray:
        """The offset of ``rows`` (all rows when None), to add to their ``v_m · vector``."""
        if not isinstance(self.offset, np.ndarray):
            return np.float32(self.offset)
        return self.offset if rows is None else self.offset[rows]

    def exact(self, matrix: np.ndarray) -> np.ndarray:
        return (matrix_file.product(matrix, self.vector) + self.offset_at()) * self.inverse_norm


def taste_scores(
    matrix: np.ndarray,
    first_pass: FirstPass | None,
    w: np.ndarray,
    exact_rows: np.ndarray | None = None,
    generator: np.ndarray | FoldedQuery | None = None,
    skip_rows: np.ndarray | None = None,
    lift: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """(``matrix @ w``, the generator's scores or None).

    Exact when there is no first pass. Else the first pass, its best :data:`RESCORE_ROWS` rows, the
    generator's best :data:`RESCORE_GENERATOR_ROWS` and ``exact_rows`` rescored exactly. ``generator``
    is its scores (exact already; only the rows it lifts are rescored here) or a :class:`FoldedQuery`,
    scored in the same first pass and rescored from the same gather of float32 rows. ``skip_rows``
    (rows that can never be picked: a blocked genre, artist or folder) are passed over when the best
    rows are chosen, so a blocklist that holds the listener's favourite genre still leaves the rows
    Up Next walks exact; their own scores stay approximate. ``lift`` (rows, amounts in units of the
    taste scores' spread: ``score.lift_of``) is what ``b`` will add: the best :data:`RESCORE_ROWS` with
    it added are rescored too, so a long history's favourites are exact where they will rank, and its
    thousands of other rows are not read (rescoring every row a 25,000-listen history touched read
    ~20,000 rows from the library's file per fill: 37 ms at 100,000 tracks)."""
    w = np.asarray(w, np.float32)
    folded = generator if isinstance(generator, FoldedQuery) else None
    if first_pass is None:
        return matrix_file.product(matrix, w), (folded.exact(matrix) if folded is not None else generator)
    if folded is None:
        scores, other = first_pass.scores(w), generator
    else:
        scores, raw = first_pass.scores(np.stack([w, folded.vector]))
        other = (raw + folded.offset_at()) * folded.inverse_norm
    parts = [rows_at_least(scores, RESCORE_ROWS, skip_rows)]
    if lift is not None and len(lift[0]):
        parts.append(_lifted_rows(scores, parts[0], lift, RESCORE_ROWS))
    if other is not None:
        parts.append(rows_at_least(other, RESCORE_GENERATOR_ROWS, skip_rows))
    if exact_rows is not None and len(exact_rows):
        parts.append(np.asarray(exact_rows, np.int64))  # a row twice is rescored twice, alike
    rows = np.concatenate(parts)
    rows.sort()  # in memory order: the gather reads the matrix front to back
    # einsum, not BLAS: a few thousand rows are 60 µs on one core, while OpenBLAS's threads, woken for
    # so small a product on a busy machine, took 5-8 ms (measured beside a running embed)
    block = matrix[rows]
    scores[rows] = np.einsum("ij,j->i", block, w)
    if folded is not None and other is not None:
        exact = np.einsum("ij,j->i", block, folded.vector) + folded.offset_at(rows)
        other[rows] = exact * folded.inverse_norm[rows]
    return scores, other


def _lifted_rows(scores: np.ndarray, best: np.ndarray, lift: tuple[np.ndarray, np.ndarray], k: int) -> np.ndarray:
    """The rows ``lift`` raises to within :data:`LIFT_MARGIN` spreads of the worst of ``best`` (at most
    the ``k`` raised highest): with ``best``, every row that can rank among the best once ``b`` is added.
    A history of any length costs its touched rows and two passes over the scores: no row is read from
    the library for it beyond those returned."""
    rows, amounts = lift
    # summed per row over the library (a row in two terms: both) and compared there: passes over 100,000
    # numbers are cheaper than sorting a long history's 20,000 rows to find its repeats
    total = np.bincount(rows, weights=amounts, minlength=len(scores))
    spread = float(np.std(scores[::SAMPLE_STEP]))  # the taste's spread: a sample tells it well enough here
    cut = float(scores[best].min()) - LIFT_MARGIN * spread if len(best) else -np.inf
    with np.errstate(invalid="ignore"):  # -inf (an excluded row) stays -inf
        lifted = scores + spread * total
    keep = np.flatnonzero((total != 0) & (lifted >= cut))
    if len(keep) > k:
        keep = keep[np.argpartition(-lifted[keep], k - 1)[:k]]
    return keep


def build_first_pass(matrix: np.ndarray) -> FirstPass | None:
    """The first pass for a library this big, or None (small libraries, or onnxruntime cannot build it:
    then the exact product runs, as before)."""
    if matrix.ndim != 2 or len(matrix) < FIRST_PASS_MIN_TRACKS:
        return None
    try:
        return FirstPass(matrix)
    except Exception as exc:  # noqa: BLE001 - a slower fill, never a failed one
        log.warning("Up Next's int8 first pass is unavailable (%s); using the exact product", exc)
        return None


# -- the graph, as protobuf (onnx.proto3: ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto) --

_UINT8, _INT8, _INT32 = 2, 3, 6  # TensorProto.DataType
_IR_VERSION, _OPSET = 8, 13


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


Parts = list  # of byte strings, joined once at the end


def _field(number: int, *payload: bytes | Parts) -> Parts:
    """A length-delimited field around ``payload`` (pieces or lists of pieces)."""
    parts: Parts = []
    for p in payload:
        parts.extend(p if isinstance(p, list) else [p])
    size = sum(len(p) for p in parts)
    return [_varint(number << 3 | 2) + _varint(size), *parts]


def _int_field(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _tensor(name: str, dtype: int, dims: tuple[int, ...], raw: bytes | None = None) -> Parts:
    """A TensorProto with ``raw`` data, or (None) one whose data the session is given as an external
    initializer (data_location EXTERNAL; the location is never read)."""
    head = b"".join(_int_field(1, d) for d in dims) + _int_field(2, dtype) + b"".join(_field(8, name.encode()))
    if raw is not None:
        return [head, *_field(9, raw)]
    return [head, *_field(13, _field(1, b"location"), _field(2, name.encode())), _int_field(14, 1)]


def _value_info(name: str, dtype: int, dims: tuple[int | str, ...]) -> Parts:
    shape: Parts = []
    for d in dims:  # TensorShapeProto.dim: dim_param (2) or dim_value (1)
        shape += _field(1, _field(2, d.encode()) if isinstance(d, str) else _int_field(1, d))
    tensor_type = [_int_field(1, dtype), *_field(2, shape)]
    return [*_field(1, name.encode()), *_field(2, _field(1, tensor_type))]


def _matmul_model(dim: int, n: int) -> bytes:
    """``scores[k, n] = MatMulInteger(query[k, dim] uint8, library[dim, n] int8, zero point 64)``; the
    library is an external initializer."""
    node = [*_field(1, b"query"), *_field(1, b"library"), *_field(1, b"a_zero_point")]
    node += [*_field(2, b"scores"), *_field(3, b"first_pass"), *_field(4, b"MatMulInteger")]
    graph = [*_field(1, node), *_field(2, b"up_next_first_pass")]
    graph += _field(5, _tensor("library", _INT8, (dim, n)))
    graph += _field(5, _tensor("a_zero_point", _UINT8, (), bytes([_ZERO_POINT])))
    graph += _field(11, _value_info("query", _UINT8, ("k", dim)))
    graph += _field(12, _value_info("scores", _INT32, ("k", n)))
    opset = [*_field(1, b""), _int_field(2, _OPSET)]
    parts = [_int_field(1, _IR_VERSION), *_field(8, opset), *_field(7, graph)]
    return b"".join(parts)
