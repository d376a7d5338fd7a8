"""The prompt's own ranking: what fits a typed wish, with what only says "this is a request" taken out.

A query embedding carries a large offset shared by every request (the encoder's "query: " view of any
text), and track vectors one shared by the whole library; both drown the part of the cosine that
says *what* was asked for, and they favour the same few hub tracks for every prompt (measured on
named playlists, docs/evaluation.md "The prompt task"). So:

* the prompt is embedded and the mean query vector of a fixed, hand-written corpus of requests in our
  listeners' languages (``resources/prompt_centre.txt``) is subtracted (computed once per model);
* both sides lose their script's offset too (the e5 vectors carry a shared offset per script, so a
  Chinese prompt found Chinese tracks first, whatever it asked for): the query the corpus mean of its
  script (CJK or not), each track ``v - m`` with ``m`` the mean of the library's tracks of its script,
  renormalised — without copying the library: with unit ``v``, ``|v - m|² = 1 - 2 v·m + m·m``, so the
  fit is ``(V q - m·q) / |v - m|``.

:func:`fit` is the prompt's ranking of the library; Up Next keeps its picks among the best
``prompt_fit`` of it while a prompt is set (recommend/service.py), and ``similar`` ranks by it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from player_plugin import matrix_file, paths
from player_plugin.recommend.queue import top_rows
from player_plugin.text_norm import has_cjk

CORPUS_FILE = "prompt_centre.txt"
# How much of each offset is taken out grows with the library. On a 22k-track library all of both
# ranks named playlists best (NDCG@10 0.102 vs 0.075 untouched); on a small one the library's own
# mean is content, not an offset (32 tracks: half of them are "the Chinese tracks"), and taking it
# out, or all of the request offset, put a ballad about street lamps above the demo library's dance
# tracks for "dance party under neon lights". So: the query loses half its offset plus half again
# times s, the tracks s of theirs, s = min(1, tracks / FULL_CENTRE_AT).
FULL_CENTRE_AT = 2000
QUERY_CENTRE_MIN = 0.5


def centre_weight(n_tracks: int) -> float:
    """s above: 0 for an empty library, 1 from FULL_CENTRE_AT tracks on."""
    return min(1.0, max(n_tracks, 0) / FULL_CENTRE_AT)


def corpus() -> list[str]:
    """The requests whose mean query vector is the offset to remove (comment lines start with #)."""
    text = (paths.resources_dir() / CORPUS_FILE).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def query_centre(embed_queries: Callable[[Sequence[str]], np.ndarray]) -> dict[bool, np.ndarray]:
    """The corpus' mean query vector per script, keyed by :func:`has_cjk` (``embed_queries`` embeds
    texts as queries, unit rows): a Chinese request and an English one carry different offsets."""
    texts = corpus()
    vectors = np.asarray(embed_queries(texts), np.float32)
    script = np.fromiter((has_cjk(t) for t in texts), bool, len(texts))
    return {cjk: vectors[script == cjk].mean(axis=0) for cjk in (True, False) if np.any(script == cjk)}


def centred_query(text: str, query: np.ndarray, centres: dict[bool, np.ndarray] | None, n_tracks: int) -> np.ndarray:
    """``query`` (the embedding of ``text``) less the mean request of its script, unit length."""
    centre = (centres or {}).get(has_cjk(text))
    weight = QUERY_CENTRE_MIN + (1.0 - QUERY_CENTRE_MIN) * centre_weight(n_tracks)
    v = query.astype(np.float32) - (weight * centre if centre is not None else 0.0)
    return (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)


class LibraryCentre:
    """Each track's script group's mean vector (CJK-titled or not) and its distance from it, for :func:`fit`;
    built once per catalog."""

    def __init__(self, matrix: np.ndarray, titles: Sequence[str]) -> None:
        self.group = np.fromiter((has_cjk(t) for t in titles), bool, len(titles))
        dim = matrix.shape[1] if matrix.ndim == 2 else 0
        members = np.stack([~self.group, self.group], axis=1).astype(np.float32)  # [n, 2]: not CJK, CJK
        # each group's sum in one pass, block by block: no copy of a group's rows (154 MB at 100k tracks)
        self.sums = matrix_file.weighted_sum(matrix, members) if len(titles) else np.zeros((2, dim), np.float32)
        counts = members.sum(axis=0)
        self.means = np.zeros((2, dim), np.float32)  # [not CJK, CJK]
        for k in (0, 1):
            if counts[k]:
                self.means[k] = centre_weight(len(matrix)) * self.sums[k] / float(counts[k])
        self.group_index = g = self.group.astype(np.int64)  # 0 not CJK, 1 CJK: each row's row of ``means``
        # v · (its group's mean), via an n × 2 product
        dots = matrix_file.product(matrix, self.means.T)[np.arange(len(g)), g] if len(g) else np.zeros(0, np.float32)
        sq = 1.0 - 2.0 * dots + np.einsum("ij,ij->i", self.means, self.means)[g]
        self.norms = np.sqrt(np.maximum(sq, 1e-12)).astype(np.float32)

    @property
    def script_axis(self) -> np.ndarray | None:
        """The unit direction from the library's other tracks' mean to its CJK-titled tracks' mean (what
        a vector says about script rather than sound); None unless both scripts are in the library."""
        d = (self.means[1] - self.means[0]).astype(np.float64)
        norm = float(np.linalg.norm(d))
        return (d / norm).astype(np.float32) if norm > 1e-9 and self.group.any() and not self.group.all() else None

    def centred(self, rows: np.ndarray, v: np.ndarray) -> np.ndarray:
        """``v`` (the library's ``rows``) less each one's group mean, unit length: the space a
        script-centred generator reads (recommend/seq2seq_rec.TrackView, export/train_seq2seq.py)."""
        return (v - self.means[self.group_index[rows]]) / self.norms[rows, None]

    def fit(self, matrix: np.ndarray, query: np.ndarray) -> np.ndarray:
        """How well each track fits ``query`` (a centred query): cosine of ``v - its group's mean`` and it."""
        offsets = (self.means @ query)[self.group_index]
        return (matrix_file.product(matrix, query) - offsets) / self.norms


# Added to the prompt's fit (a cosine, at most 1) of a track whose genre or artist the prompt names:
# such a track is inside the prompt's gate before any the encoder merely finds close.
PROMPT_NAMED_FIT = 2.0


def prompt_gate(
    fit: np.ndarray,
    scores: np.ndarray,
    word_rows: np.ndarray,
    word_match: np.ndarray,
    held: Sequence[int],
    size: int,
    best_fits: np.ndarray | None = None,
) -> np.ndarray:
    """The rows Up Next may pick while a prompt leads: the best ``size`` of the prompt's ``fit`` among
    those that can be picked now (a finite score, not ``held`` — queued, just played or blocked); a track whose
    genre or artist the prompt names (``word_match`` +1) comes first, one it rules out (-1) never.

    ``best_fits`` (``select.rows_at_least(fit, k)``: every row left out fits worse than every row in
    it, or is ``held``): when ``size`` of them and of the named tracks can be picked and rank at or above the worst of
    them, the answer lies among them, and only they are looked at — the same rows as over the whole
    library."""
    if best_fits is not None and len(best_fits):
        rows = np.union1d(best_fits, word_rows[word_match > 0])
        part = _gate_fit(fit[rows], rows, scores[rows], word_rows, word_match, held)
        # every row left out fits below the worst of best_fits: those at or above it are the answer
        if np.count_nonzero(part >= fit[best_fits].min()) >= size:
            return rows[top_rows(part, size)]
    return top_rows(_gate_fit(fit, None, scores, word_rows, word_match, held), size)


def _gate_fit(
    fit: np.ndarray,
    rows: np.ndarray | None,
    scores: np.ndarray,
    word_rows: np.ndarray,
    word_match: np.ndarray,
    held: Sequence[int],
) -> np.ndarray:
    """``fit`` (of ``rows``, sorted; None: of every row) as the gate ranks it: named tracks lifted, ruled
    out, unpickable (a non-finite score) and held ones -inf."""
    fit = fit.copy() if rows is None else fit
    at = _positions(rows)
    if len(word_rows):
        fit[at(word_rows[word_match > 0])] += PROMPT_NAMED_FIT
        fit[at(word_rows[word_match < 0])] = -np.inf
    fit[~np.isfinite(scores)] = -np.inf
    fit[at(np.asarray(held, np.int64))] = -np.inf
    return fit


def _positions(rows: np.ndarray | None) -> Callable[[np.ndarray], np.ndarray]:
    """Library rows → their places in ``rows`` (sorted), dropping those not in it; None: the rows themselves."""
    if rows is None:
        return lambda wanted: wanted

    def at(wanted: np.ndarray) -> np.ndarray:
        place = np.searchsorted(rows, wanted)
        place = np.minimum(place, max(len(rows) - 1, 0))
        return place[rows[place] == wanted] if len(rows) else place[:0]

    return at


def script_neutral(w: np.ndarray, axis: np.ndarray | None, evidence: int, until: int) -> np.ndarray:
    """``w_u`` with its script component taken out in proportion to how little the history says: a first
    like or two tells a sound, not which script the listener wants (everything of one script shares an
    offset in the e5 space, so one Chinese like made the whole queue Chinese). From ``until`` tracks of
    evidence on, ``w_u`` is left as it is: a listener who keeps to one language keeps it."""
    if axis is None or until <= 0 or evidence >= until:
        return w
    take = 1.0 - evidence / until if evidence > 0 else 1.0
    return (w - take * float(w @ axis) * axis).astype(np.float32)
