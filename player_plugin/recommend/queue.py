"""Up Next: turn a ranking into a queue people want, one reasoned pick at a time.

Rules, applied while walking the ranking from the top:

* a track played in the last ``no_repeat_last`` plays, already queued, dismissed, disliked or
  blocked stays out;
* one version of a song: live/remaster/edit/… variants collapse to one key (artist + base title);
* the same artist not twice within ``artist_spacing`` entries (the current track counts);
* blocklists: artists, genres and folders from the settings; tracks longer than ``max_track_s``;
* ``explore_slots`` of every ``explore_block`` (10) entries go to tracks never played, ranked by
  taste alone (their ``b`` is 0 by construction and habit scores would bury them): the music a user
  has just added gets heard.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from player_plugin.matrix_file import FileRows
from player_plugin.recommend.config import RecommendConfig
from player_plugin.recommend.fill_math import mean_std
from player_plugin.recommend.select import SAMPLE_STEP, best_rows
from player_plugin.text_norm import normalise

# Whole words only ("Deliverance" is not "live", "Credits" not "edit"): a Latin letter or digit may
# not touch either end. Chinese words need no boundary ("现场版").
_VERSION_WORDS = (
    r"(?<![a-z0-9])(?:live|remaster(?:ed)?|radio edit|edit(?:ed)?|single version|album version|version|"
    r"mono|stereo|demo|acoustic|unplugged|explicit|clean|deluxe|bonus track|remix(?:ed|es)?|mix|instrumental|"
    r"karaoke)(?![a-z0-9])|现场|live版|伴奏|純音樂|纯音乐"
)
_BRACKETED = re.compile(r"\s*[\(\[（【][^\)\]）】]*(?:" + _VERSION_WORDS + r")[^\)\]）】]*[\)\]）】]", re.I)
_DASHED = re.compile(r"\s+[-–—]\s+.*(?:" + _VERSION_WORDS + r").*$", re.I)


def version_key(artist: str, title: str) -> str:
    """ "Song (Live at X)", "Song - 2011 Remaster" and "Song" share one key."""
    base = _DASHED.sub("", _BRACKETED.sub("", title))
    return normalise(artist) + "\x1f" + normalise(base or title)


@dataclass
class Catalog:
    """The library as the recommender sees it: one row per track with a vector."""

    ids: np.ndarray  # int64 track ids
    matrix: np.ndarray | FileRows  # float32 [n, dim], unit rows (a big library's in a file: read by rows)
    titles: list[str]
    artists: list[str]  # display form
    artist_sets: list[frozenset[str]]  # normalised individual artists
    genres: list[frozenset[str]]  # normalised
    paths: list[str]
    durations: np.ndarray  # seconds
    version_keys: list[str] = field(default_factory=list)
    row_of: dict[int, int] = field(default_factory=dict)
    segments: frozenset[int] = frozenset()  # the ids of CUE sheets' tracks (parts of a file: library/cue.py)

    def __post_init__(self) -> None:
        if not self.version_keys:
            self.version_keys = [version_key(a, t) for a, t in zip(self.artists, self.titles, strict=True)]
        if not self.row_of:
            self.row_of = {int(t): i for i, t in enumerate(self.ids)}

    @property
    def n(self) -> int:
        return len(self.ids)

    @classmethod
    def build(
        cls,
        ids: np.ndarray,
        matrix: np.ndarray | FileRows,
        meta: Sequence[tuple[str, Sequence[str], Sequence[str], str, float]],
    ) -> Catalog:
        """``meta[i]`` = (title, artists, genres, path, duration_s) of ``ids[i]``."""
        # one object per distinct set: 100k tracks share ~8k artist sets and a few dozen genre sets
        # (two frozensets per track were 43 MB at 100k)
        shared: dict[tuple[str, ...], frozenset[str]] = {}

        def labels(values: Sequence[str]) -> frozenset[str]:
            key = tuple(values)
            got = shared.get(key)
            if got is None:
                got = shared[key] = frozenset(normalise(v) for v in values if v)
            return got

        return cls(
            ids=np.asarray(ids, dtype=np.int64),
            matrix=_float32_rows(matrix),
            titles=[m[0] for m in meta],
            artists=["; ".join(m[1]) for m in meta],
            artist_sets=[labels(m[1]) for m in meta],
            genres=[labels(m[2]) for m in meta],
            paths=[m[3] for m in meta],
            durations=np.asarray([m[4] for m in meta], dtype=np.float32),
        )


def _float32_rows(matrix: np.ndarray | FileRows) -> np.ndarray | FileRows:
    """``matrix`` as C-contiguous float32, itself when it already is; a file-backed one stays in its
    file (player_plugin/matrix_file.py)."""
    if isinstance(matrix, FileRows) or (matrix.dtype == np.float32 and matrix.flags.c_contiguous):
        return matrix
    return np.ascontiguousarray(matrix, dtype=np.float32)


@dataclass(frozen=True)
class QueueRules:
    blocked_artists: frozenset[str] = frozenset()
    blocked_genres: frozenset[str] = frozenset()
    blocked_folders: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, artists: Iterable[str] = (), genres: Iterable[str] = (), folders: Iterable[str] = ()):
        return cls(
            frozenset(normalise(a) for a in artists if a.strip()),
            frozenset(normalise(g) for g in genres if g.strip()),
            tuple(f.rstrip("/\\") for f in folders if f.strip()),
        )


@dataclass(frozen=True, slots=True)
class Pick:
    row: int
    explore: bool
    score: float


def blocked_rows(catalog: Catalog, rules: QueueRules, max_track_s: float | None) -> np.ndarray:
    """Every row the blocklists (artists, genres, folders) or the length limit keep out, as a bool mask:
    made once per rules (``CatalogIndex.blocked``), read by :func:`pick` and by the first pass, which
    rescores the best rows that may be picked (recommend/first_pass.py)."""
    out = np.zeros(catalog.n, dtype=bool)
    for labels, blocked in ((catalog.artist_sets, rules.blocked_artists), (catalog.genres, rules.blocked_genres)):
        if blocked:
            hit: dict[int, bool] = {}  # the sets are shared between rows: each distinct one is looked at once
            out |= np.fromiter(
                (hit[id(s)] if id(s) in hit else hit.setdefault(id(s), bool(s & blocked)) for s in labels),
                dtype=bool,
                count=catalog.n,
            )
    if rules.blocked_folders:
        folders = rules.blocked_folders
        heads = tuple(f + "/" for f in folders) + tuple(f + "\\" for f in folders)
        out |= np.fromiter((p in folders or p.startswith(heads) for p in catalog.paths), dtype=bool, count=catalog.n)
    if max_track_s:
        out |= catalog.durations > max_track_s
    return out


def top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """The rows of the ``k`` highest finite scores, best first (ties: lower row first)."""
    if np.isfinite(scores[::SAMPLE_STEP]).mean() < 0.25:  # mostly -inf (the explore ranking): only the finite
        rows = np.flatnonzero(np.isfinite(scores))
        return rows[best_rows(scores[rows], k)] if len(rows) else rows
    return best_rows(scores, k)


def pick(
    catalog: Catalog,
    scores: np.ndarray,
    taste: np.ndarray,
    never_played: np.ndarray,
    n: int,
    cfg: RecommendConfig,
    rules: QueueRules = QueueRules(),  # noqa: B008 - immutable
    queued_rows: Sequence[int] = (),
    recent_rows: Sequence[int] = (),
    start_position: int = 0,
    blocked: np.ndarray | None = None,
) -> list[Pick]:
    """``n`` picks: ``scores`` = w_u·w_m + b ranks the main slots, ``taste`` = w_u·w_m the explore ones.

    ``queued_rows`` are already in the queue (in order, the current track first); ``recent_rows``
    the last plays, newest last. ``start_position`` is the queue position of the first pick, so the
    explore slots stay at the same places in every block of ``explore_block`` however the queue was filled.
    ``blocked``: :func:`blocked_rows` of these rules (made here when not given).
    """
    if blocked is None:
        blocked = blocked_rows(catalog, rules, cfg.max_track_s)
    recent = list(recent_rows)[-cfg.no_repeat_last :] if cfg.no_repeat_last > 0 else []
    blocked_keys = {catalog.version_keys[r] for r in list(queued_rows) + recent}
    taken: set[int] = set(queued_rows) | set(recent)
    spacing: list[frozenset[str]] = (
        [catalog.artist_sets[r] for r in queued_rows][-cfg.artist_spacing :] if cfg.artist_spacing > 0 else []
    )
    main = _Candidates(top_rows(scores, cfg.candidates).tolist())
    explore = _Candidates(
        top_rows(explore_scores(taste, never_played & np.isfinite(scores), cfg), cfg.candidates).tolist()
    )
    block = max(cfg.explore_block, 1)
    explore_at = explore_positions(cfg)

    def usable(row: int) -> bool:
        return row not in taken and catalog.version_keys[row] not in blocked_keys and not blocked[row]

    def spaced(row: int) -> bool:
        return not any(catalog.artist_sets[row] & s for s in spacing if s)

    picks: list[Pick] = []
    while len(picks) < n:
        position = start_position + len(picks)
        is_explore = (position % block) in explore_at
        row = explore.take(usable, spaced) if is_explore else None
        if row is None:
            row, is_explore = main.take(usable, spaced), False
        if row is None:  # a small library runs out of other artists: relax spacing
            row = main.take(usable, None)
        if row is None:
            break
        picks.append(Pick(row, is_explore, float(taste[row] if is_explore else scores[row])))
        taken.add(row)
        blocked_keys.add(catalog.version_keys[row])
        if cfg.artist_spacing > 0:
            spacing = (spacing + [catalog.artist_sets[row]])[-cfg.artist_spacing :]
    return picks


class _Candidates:
    """A ranking walked from the top. Rows that can never be picked are dropped; rows held back only
    by artist spacing wait (in rank order) and are offered again before anything ranked below them."""

    def __init__(self, rows: list[int]) -> None:
        self.rows = rows
        self.next = 0
        self.waiting: list[int] = []

    def take(self, usable, spaced) -> int | None:
        """The best row with ``usable(row)`` and ``spaced(row)`` (``spaced=None``: spacing relaxed)."""
        self.waiting = [r for r in self.waiting if usable(r)]
        for i, row in enumerate(self.waiting):
            if spaced is None or spaced(row):
                return self.waiting.pop(i)
        while self.next < len(self.rows):
            row = self.rows[self.next]
            self.next += 1
            if not usable(row):
                continue
            if spaced is None or spaced(row):
                return row
            self.waiting.append(row)
        return None


def explore_positions(cfg: RecommendConfig) -> set[int]:
    """The places (modulo ``explore_block``) of the explore slots: the last ``explore_slots`` of each block."""
    block = max(cfg.explore_block, 1)
    return set(range(block - min(cfg.explore_slots, block), block)) if cfg.explore_slots > 0 else set()


def explore_count(cfg: RecommendConfig, warm_share: float) -> int:
    """Explore slots for a session of which ``warm_share`` was already familiar: all of them while
    you are exploring new music, none while you are listening to what you know (tuned on the
    validation splits: radio-like familiar sessions lose by being sent elsewhere)."""
    return int(round(cfg.explore_slots * (1.0 - min(max(warm_share, 0.0), 1.0))))


def explore_scores(taste: np.ndarray, never_played: np.ndarray, cfg: RecommendConfig) -> np.ndarray:
    """Taste of the never-played tracks that are a real match (z-score of taste ≥ ``explore_min_z``
    over the library); -inf elsewhere. An explore slot with no such track goes to the main ranking:
    new music is offered when it fits, not for its own sake."""
    out = np.full_like(taste, -np.inf)
    finite = np.isfinite(taste)
    if finite.all():
        mean, sd = mean_std(taste)
    elif finite.any():
        mean, sd = mean_std(taste[finite])
    else:
        return out
    keep = np.flatnonzero(never_played & (taste >= np.float32(mean + cfg.explore_min_z * sd)))
    out[keep] = taste[keep]
    return out
