"""Everything the service derives from one catalog, in one object that is replaced whole.

A fill needs more than the catalog's vectors: the artist and genre indexes, a fixed sample of the
library for the prompt's spread, the generator's view of the library, and the
history folded over this catalog's rows. All of it is only valid for one catalog, so it lives here,
next to the catalog it was built from: when the library changes the service drops the whole
:class:`CatalogIndex` (``RecommendService.invalidate``) and the next fill builds a new one. Nothing
in it can go stale on its own, and no cache needs an ``is catalog`` check.

The parts that depend on something besides the catalog (the prompt, the generator's input, the
settings, new events) are kept with the key they were computed for and recomputed when it changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from player_plugin import matrix_file
from player_plugin.recommend.artists import ArtistIndex
from player_plugin.recommend.config import RecommendConfig
from player_plugin.recommend.first_pass import FirstPass, FoldedQuery, build_first_pass, taste_scores
from player_plugin.recommend.history_state import HistoryState
from player_plugin.recommend.prompt_language import LEAN_PENALTY, NO_WISH, LanguageWish
from player_plugin.recommend.prompt_space import LibraryCentre
from player_plugin.recommend.prompt_words import index_labels
from player_plugin.recommend.queue import Catalog, QueueRules, blocked_rows
from player_plugin.recommend.select import rows_at_least
from player_plugin.recommend.seq2seq_rec import GeneratorSide, needs_centre


@dataclass
class HistoryCache:
    """The history folded over this catalog with ``cfg``, read up to the event ``last_id`` (ts ``last_ts``)."""

    cfg: RecommendConfig
    last_id: int
    last_ts: float | None
    state: HistoryState


@dataclass
class CatalogIndex:
    catalog: Catalog
    model_id: str
    generation: int  # RecommendService's generation when the read began: a later invalidate() makes it stale
    artists: ArtistIndex
    genres: dict[str, np.ndarray]
    history: HistoryCache | None = None
    _sample: tuple[tuple[int, int], np.ndarray] | None = None  # ((size, seed), rows' vectors)
    _generator: GeneratorSide | None = None  # the generator's view of this library
    _words: tuple[str, np.ndarray, np.ndarray] | None = None  # (prompt, rows, +1 / -1)
    _s2s: tuple[Any, tuple, np.ndarray] | None = None  # (generator, its input, its scores)
    _centre: LibraryCentre | None = None  # the library's mean, for the prompt's own ranking
    _fit: tuple[bytes, np.ndarray, dict[tuple, np.ndarray]] | None = None  # (prompt's key, its fit, its best rows)
    _first_pass: tuple[FirstPass | None] | None = None  # the int8 first pass (None inside: not for this library)
    _blocked: tuple[tuple, np.ndarray, np.ndarray] | None = None  # (rules, length limit, unplayable; mask, rows)
    _outside: tuple[tuple, frozenset[int]] | None = None  # ((folders, whole files only), the tracks left out)

    @classmethod
    def build(cls, catalog: Catalog, model_id: str, generation: int) -> CatalogIndex:
        return cls(catalog, model_id, generation, ArtistIndex(catalog.artist_sets), index_labels(catalog.genres))

    @property
    def first_pass(self) -> FirstPass | None:
        """The int8 first pass (recommend/first_pass.py) for a big library, built on first use; else None."""
        if self._first_pass is None:
            self._first_pass = (build_first_pass(self.catalog.matrix),)
        return self._first_pass[0]

    def taste(
        self,
        w: np.ndarray,
        exact_rows: np.ndarray | None = None,
        generator: np.ndarray | FoldedQuery | None = None,
        skip_rows: np.ndarray | None = None,
        lift: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """(``matrix @ w`` for every track, the generator's scores): from the int8 first pass on a big
        library, the best rows that are not ``skip_rows`` (with and without ``lift``) and ``exact_rows``
        exact (``first_pass.taste_scores``)."""
        return taste_scores(self.catalog.matrix, self.first_pass, w, exact_rows, generator, skip_rows, lift)

    def blocked(
        self, rules: QueueRules, max_track_s: float | None, unplayable: frozenset[int] = frozenset()
    ) -> tuple[np.ndarray, np.ndarray]:
        """(the rows kept out as a mask, those rows): what the rules keep out (``queue.blocked_rows``) and
        the tracks the host cannot play (``unplayable``: track ids), kept until either changes."""
        key = (rules, max_track_s, unplayable)  # a host passes the same set each fill: compared by identity
        if self._blocked is None or self._blocked[0] != key:
            mask = blocked_rows(self.catalog, rules, max_track_s)
            row_of = self.catalog.row_of
            mask[[row_of[t] for t in unplayable if t in row_of]] = True
            self._blocked = (key, mask, np.flatnonzero(mask))
        return self._blocked[1], self._blocked[2]

    def outside(self, folders: tuple[str, ...], whole_files: bool = False) -> frozenset[int]:
        """The tracks whose file is under none of ``folders`` (a host's own library folders; () for no
        such bound) and, with ``whole_files``, the tracks of CUE sheets (a host that plays only whole
        files), kept for them."""
        key = (folders, whole_files)
        if self._outside is None or self._outside[0] != key:
            out: frozenset[int] = self.catalog.segments if whole_files else frozenset()
            if folders:
                heads = tuple(f.rstrip("/\\") + sep for f in folders for sep in ("/", "\\"))
                ids = self.catalog.ids
                out = out | {int(ids[r]) for r, p in enumerate(self.catalog.paths) if not p.startswith(heads)}
            self._outside = (key, out)
        return self._outside[1]

    @property
    def centre(self) -> LibraryCentre:
        """Each script group's mean and each track's group (recommend/prompt_space.py), built on first use."""
        if self._centre is None:
            self._centre = LibraryCentre(self.catalog.matrix, self.catalog.titles)
        return self._centre

    def prompt_fit(self, query: np.ndarray, wish: LanguageWish = NO_WISH) -> np.ndarray:
        """How well each track fits a centred prompt (recommend/prompt_space.py), kept until it changes;
        ``wish`` (recommend/prompt_language.py): a script the prompt names, True for CJK titles, and
        the other tracks do not fit (unless the library has none of that script); or the head's lean,
        and the other script's tracks fit ``LEAN_PENALTY × |lean|`` less."""
        key = query.tobytes() + wish.key
        if self._fit is None or self._fit[0] != key:
            fit = self.centre.fit(self.catalog.matrix, query)
            if wish.script is not None:
                other = self.centre.group != wish.script
                if not other.all():
                    fit[other] = -np.inf
            elif wish.lean:
                fit[self.centre.group != (wish.lean > 0)] -= LEAN_PENALTY * abs(wish.lean)
            self._fit = (key, fit, {})
        return self._fit[1]

    def prompt_fit_rows(
        self,
        query: np.ndarray,
        wish: LanguageWish,
        k: int,
        rules: QueueRules,
        max_track_s: float | None,
        unplayable: frozenset[int] = frozenset(),
    ) -> np.ndarray:
        """At least the ``k`` rows that fit the prompt best among those that are not kept out
        (:meth:`blocked`; ``select.rows_at_least``), kept with its fit."""
        fit = self.prompt_fit(query, wish)
        kept = self._fit[2]
        key = (k, rules, max_track_s, unplayable)
        if key not in kept:
            kept[key] = rows_at_least(fit, k, self.blocked(rules, max_track_s, unplayable)[1])
        return kept[key]

    def per_script_standard(self, taste: np.ndarray) -> np.ndarray:
        """``taste`` as z-scores within each script group (CJK-titled or not): the encoder puts one
        script's tracks closer to the library's heart than the other's, so ranked raw the first queue
        of a half-Chinese library was 9 of 10 Chinese."""
        out = taste.astype(np.float32, copy=True)
        for g in (False, True):
            sel = self.centre.group == g
            if sel.sum() > 1:
                part = out[sel]
                out[sel] = (part - part.mean()) / max(float(part.std()), 1e-9)
        return out

    @property
    def library_mean(self) -> np.ndarray:
        """The mean of every track's vector (a cold start's taste), from the script groups' sums."""
        return self.centre.sums.sum(axis=0) / max(self.catalog.n, 1)

    def spread_sample(self, size: int, seed: int) -> np.ndarray:
        """A fixed sample of up to ``size`` library vectors for measuring score spreads (UserModel.vector)."""
        if self._sample is None or self._sample[0] != (size, seed):
            rows = np.random.default_rng(seed).permutation(self.catalog.n)[:size]
            self._sample = ((size, seed), self.catalog.matrix[np.sort(rows)])
        return self._sample[1]

    def generator_side(self, generator: Any) -> GeneratorSide:
        """The generator's view of this catalog (seq2seq_rec.GeneratorSide), made once per generator."""
        if self._generator is None or self._generator.generator is not generator:
            centre = self.centre if needs_centre(generator) else None
            self._generator = GeneratorSide(generator, self.catalog.matrix, centre)
        return self._generator

    def cached_words(self, text: str) -> tuple[np.ndarray, np.ndarray] | None:
        return self._words[1:] if self._words is not None and self._words[0] == text else None

    def keep_words(self, text: str, rows: np.ndarray, values: np.ndarray) -> None:
        self._words = (text, rows, values)

    def cached_generator_scores(self, generator: Any, key: tuple) -> np.ndarray | None:
        hit = self._s2s
        return hit[2] if hit is not None and hit[0] is generator and hit[1] == key else None

    def keep_generator_scores(self, generator: Any, key: tuple, scores: np.ndarray) -> None:
        self._s2s = (generator, key, scores)


def read_catalog(db: Any, vectors: Any, model_id: str) -> Catalog:
    """The tracks that have a vector of ``model_id``, with the metadata the fill reads, from the store."""
    ids, matrix = vectors.matrix(model_id)
    meta = {}
    segments = set()
    for row in db.conn.execute("SELECT id, title, artists, genres, path, duration_s, file FROM tracks"):
        if row["file"] is not None:
            segments.add(row["id"])
        meta[row["id"]] = (
            row["title"],
            json.loads(row["artists"]),
            json.loads(row["genres"]),
            row["path"],
            row["duration_s"] or 0.0,
        )
    keep = np.asarray([i for i, t in enumerate(ids) if int(t) in meta], dtype=np.int64)
    if len(keep) < len(ids):  # vectors of tracks gone since (rare): only then a second copy
        ids, matrix = ids[keep], matrix_file.take_rows(matrix, keep)
    catalog = Catalog.build(ids, matrix, [meta[int(t)] for t in ids])
    catalog.segments = frozenset(segments)
    return catalog
