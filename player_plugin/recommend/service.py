"""Up Next for a real library: the store, the encoder and the recommender wired together.

Hosts reach this through :class:`player_plugin.engine.Engine`. The catalog (track vectors and the
metadata the rules need) is loaded once and kept in memory as one float32 matrix, with everything
derived from it (:class:`~player_plugin.recommend.catalog_index.CatalogIndex`); both are rebuilt
after a scan or an embedding run changed the library (``invalidate``). A fill is then one matrix
product, one ``argpartition`` and a walk over a few hundred candidates.

Threads: one :class:`RecommendService` is shared by the engine's callers — the UI thread (a mix, the
prompt) and worker threads (fills and refills; ``invalidate`` after a scan or an embedding run). A
fill, and every cache it reads or writes, runs under the service's one lock, so two fills never
interleave. ``invalidate`` takes no lock and never waits: it moves the service to a new generation;
a fill in flight finishes on the catalog it started with, and the next fill builds a new index.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

import numpy as np

from player_plugin.models import EventKind, QueueEntry
from player_plugin.nlp.encoder import Encoder
from player_plugin.recommend.catalog_index import CatalogIndex, HistoryCache, read_catalog
from player_plugin.recommend.config import RecommendConfig
from player_plugin.recommend.first_pass import RESCORE_GATE_FACTOR, FoldedQuery
from player_plugin.recommend.habits import listening_habits
from player_plugin.recommend.history_state import HistoryState
from player_plugin.recommend.profile import (
    HistoryEvent,
    TrackStats,
    UserModel,
    bias_at,
    build_user_model,
    current_session,
)
from player_plugin.recommend.prompt_reading import PromptReading
from player_plugin.recommend.prompt_space import prompt_gate, script_neutral
from player_plugin.recommend.queue import Catalog, QueueRules, explore_count, pick
from player_plugin.recommend.reasons import Likeness, reason
from player_plugin.recommend.score import Term, lift_of, score
from player_plugin.recommend.seeds import Seed, resolve_seed
from player_plugin.recommend.seq2seq_rec import load_generator_or_none, session_outcomes
from player_plugin.store import Database, EventRepository, QueueRepository, SettingsRepository, VectorRepository

log = logging.getLogger(__name__)


class NoVectorsError(RuntimeError):
    """The library has no track vectors for the model yet (run the embedding first)."""


class RecommendService(PromptReading):
    def __init__(
        self,
        db: Database,
        encoder: Callable[[], Encoder],
        model_id: Callable[[], str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self._encoder = encoder
        self._model_id = model_id
        self.clock = clock
        self.settings = SettingsRepository(db)
        self.events = EventRepository(db)
        self.queue_repo = QueueRepository(db)
        self.vectors = VectorRepository(db)
        self._index: CatalogIndex | None = None
        self._generation = 0  # moved on by invalidate(); an index built before is stale
        self._lock = threading.RLock()  # held by a fill and by the index build (see the module doc)
        self._forget_prompt_readings()
        self._config: tuple[object, RecommendConfig] | None = None  # (the settings it was made from, config)
        self.seed: Seed | None = None
        self._generator = False  # not loaded yet

    # -- state -------------------------------------------------------------------------------------

    def invalidate(self) -> None:
        """The library changed: the next fill reads the catalog again and rebuilds its index. Never waits
        for a fill in flight (it finishes on the catalog it started with)."""
        self._generation += 1
        self._index = None

    def history_forgotten(self) -> None:
        """Every event was deleted: the folded history goes too (its ids may be reused by new events)."""
        if self._index is not None:
            self._index.history = None

    def index(self) -> CatalogIndex:
        """The current catalog and everything derived from it, built on first use after an invalidate."""
        with self._lock:
            model_id = self._model_id()
            index = self._index
            if index is not None and index.model_id == model_id and index.generation == self._generation:
                return index
            generation = self._generation
            index = CatalogIndex.build(self._read_catalog(model_id), model_id, generation)
            if generation == self._generation:  # not invalidated while it was read: keep it
                self._index = index
            return index

    def catalog(self) -> Catalog:
        return self.index().catalog

    def _read_catalog(self, model_id: str) -> Catalog:
        return read_catalog(self.db, self.vectors, model_id)

    def generator(self):
        """The Seq2Seq next-track generator, loaded once; None (said once in the log) when its model
        is missing or corrupt — Up Next then runs on the user model alone."""
        if self._generator is False:
            self._generator = load_generator_or_none()
        return self._generator

    def set_generator(self, generator) -> None:
        """Use ``generator`` (None: Up Next runs on the user model alone) instead of loading the shipped one."""
        self._generator = generator

    def generator_scores(
        self, generator, index: CatalogIndex, rows: list[int], outcomes: np.ndarray
    ) -> tuple[tuple, np.ndarray | FoldedQuery | None]:
        """(its cache key, the generator's scores for this session, or what the first pass needs to score
        them; None for an empty session). Its scores are kept until the session, its outcomes, the prompt
        or the catalog change (``keep_generator_scores``): a refill with nothing new (a queue edit, the
        UI topping up) skips the generation."""
        key = (tuple(rows), tuple(outcomes.tolist()), self.prompt, self._model_id())
        scores = index.cached_generator_scores(generator, key)
        if scores is not None:
            return key, scores
        side = index.generator_side(generator)
        query = side.query(rows, outcomes, self.prompt_vector())
        return key, None if query is None else side.for_fill(query, index.first_pass)

    def config(self) -> RecommendConfig:
        overrides = self.settings.recommend_settings()
        if self._config is not None and self._config[0] == overrides:
            return self._config[1]
        try:
            cfg = RecommendConfig().replace(**overrides)
        except (TypeError, ValueError) as exc:
            log.warning("ignoring bad recommender settings %s: %s", overrides, exc)
            cfg = RecommendConfig()
        self._config = (overrides, cfg)
        return cfg

    def rules(self) -> QueueRules:
        block = self.settings.blocklist()
        return QueueRules.from_settings(block.get("artists", ()), block.get("genres", ()), block.get("folders", ()))

    def comment_vectors(self) -> list[tuple[np.ndarray, float]]:
        model_id = self._model_id()
        out = []
        for _track_id, text, ts, mid, blob in self.events.comments():
            if mid == model_id and blob:
                vec = np.frombuffer(blob, dtype="<f4").astype(np.float32)
            else:
                vec = self._encoder().embed_query(text)
                self.events.set_comment_vector(text, model_id, vec)
            out.append((vec, ts))
        return out

    def history_state(self, index: CatalogIndex, cfg: RecommendConfig) -> HistoryState:
        """The history folded into a :class:`HistoryState`, read from the store only as far as it changed.

        Kept with the catalog's index between fills; new events (ids above the last one read, not older
        than the last one) are added in O(1) each. Anything else — forgotten or re-attached events, an
        import of older history, a new catalog or new settings — rebuilds it from the whole history.
        """
        catalog = index.catalog
        cached = index.history
        if cached is not None and cached.cfg == cfg:
            state = cached.state
            count, max_id, ts_now = self.events.history_signature(cached.last_id)
            if ts_now == cached.last_ts:  # the last event read is still there: nothing was forgotten
                if count == len(state.events) and max_id == cached.last_id:
                    return state
                rows = self.events.history_since_id(cached.last_id) if max_id > cached.last_id else []
                appended = rows and count == len(state.events) + len(rows)
                if appended and state.extend(self._history_events(catalog, rows)):
                    newest = max(rows, key=lambda r: r[0])
                    index.history = HistoryCache(cfg, newest[0], newest[4], state)
                    return state
        rows = self.events.history_since_id(0)
        state = HistoryState(catalog.matrix, cfg)
        if not state.extend(self._history_events(catalog, rows)):  # cannot happen: rows come in time order
            raise AssertionError("history rows out of order")
        newest = max(rows, key=lambda r: r[0], default=(0, None, None, None, None, None))
        index.history = HistoryCache(cfg, newest[0], newest[4], state)
        return state

    @staticmethod
    def _history_events(catalog: Catalog, rows) -> list[HistoryEvent]:
        row_of = catalog.row_of
        return [
            HistoryEvent(row_of.get(track_id, -1), EventKind(kind), ts, position, duration or 0.0)
            for _id, track_id, kind, position, ts, duration in rows
        ]

    # -- seeds ---------------------------------------------------------------------------------------

    def resolve_seed(self, text: str) -> Seed:
        """A track (id, or title/"artist - title") or an artist name → the rows to seed a mix with."""
        return resolve_seed(self.catalog(), text, self.clock())

    def playlist_seed(self, track_ids: list[int], label: str) -> Seed:
        """A mix that continues a playlist: seeded by its tracks with a vector, which it never picks again."""
        row_of = self.catalog().row_of
        rows = [row_of[t] for t in track_ids if t in row_of]
        if not rows:
            raise LookupError(f"none of the tracks of “{label}” has been understood yet: run `player-plugin embed`")
        return Seed(rows, label, self.clock(), held=frozenset(track_ids))

    # -- the fill --------------------------------------------------------------------------------

    def user_model(
        self,
        catalog: Catalog,
        events: list[HistoryEvent],
        cfg: RecommendConfig,
        now: float,
        state: HistoryState | None = None,
    ) -> UserModel:
        """The user model at ``now``; ``state`` (the same ``events`` folded) makes it O(session)."""
        prompt, comments = self.prompt_lead_vector(), self.comment_vectors()
        if state is not None:
            model = state.user_model(now, prompt, comments)
        else:
            model = build_user_model(events, catalog.matrix, cfg, now, prompt, comments)
        if self.seed is not None:
            last_play = next((e.ts for e in reversed(events) if e.kind == EventKind.PLAY), 0.0)
            if last_play <= self.seed.ts:
                seed_vec = catalog.matrix[self.seed.rows].mean(axis=0)
                model.session = seed_vec / max(float(np.linalg.norm(seed_vec)), 1e-9)
                model.session_rows = self.seed.rows[:1]
            else:
                self.seed = None
        return model

    def recommend(
        self, n: int, queued_ids: list[int], current_id: int | None = None, unplayable: frozenset[int] = frozenset()
    ) -> list[QueueEntry]:
        """``n`` new entries to append after ``queued_ids`` (``current_id`` is playing now), none of them
        ``unplayable`` (tracks the host cannot play: a file its own library does not hold)."""
        if n <= 0:
            return []
        with self._lock:
            return self._recommend(n, queued_ids, current_id, unplayable)

    def _recommend(
        self, n: int, queued_ids: list[int], current_id: int | None, unplayable: frozenset[int]
    ) -> list[QueueEntry]:
        index = self.index()
        catalog = index.catalog
        if catalog.n == 0:
            raise NoVectorsError("no track has a vector yet: run `player-plugin embed` first")
        cfg = self.config()
        now = self.clock()
        state = self.history_state(index, cfg)
        stats = state.stats
        habits = listening_habits(state.listens, state.repeats, catalog.artist_sets)
        cfg = cfg.replace(
            bias_rotation=cfg.bias_rotation * habits.rotation_share(),
            artist_spacing=0 if cfg.spacing_follows_habit and habits.plays_artist_runs() else cfg.artist_spacing,
        )
        model = self.user_model(catalog, state.events, cfg, now, state)
        w = model.vector(cfg, catalog.matrix.shape[1], index.spread_sample(cfg.spread_sample, cfg.spread_seed))
        cold = not np.any(w)
        if cold:
            # Nothing known yet (no history, prompt or seed): start from the heart of the library.
            centre = index.library_mean
            w = centre / max(float(np.linalg.norm(centre)), 1e-9)
        else:  # a first like tells a sound, not a script (recommend/prompt_space.py)
            w = script_neutral(w, index.centre.script_axis, model.evidence, cfg.script_neutral_until)
        generator = self.generator()
        s2s_key, s2s_in = None, None
        if generator is not None and model.session_rows and self.seed is None:
            rows = model.session_rows
            outcomes = session_outcomes(current_session(state.events, cfg, now), rows)
            s2s_key, s2s_in = self.generator_scores(generator, index, rows, outcomes)
        # While a prompt is set it leads: habits (b) and the terms that follow the session (same artist)
        # step back by the prompt's share of the mix; exclusions (-inf) stay.
        follow = 1.0 - model.prompt_share(cfg)
        artist = None
        if cfg.bias_artist and model.session_rows:
            artist = index.artists.affinity(model.session_rows, cfg.session_decay, cfg.session_tracks)
        # b, only where it is not 0: the rows the history touched, your "this after that" habit after the
        # current track, your past sessions like this one, and the genres and artists the prompt names (or
        # rules out: the plainest wishes, which a small encoder reads least well, recommend/prompt_words.py).
        word_rows, word_match = self.prompt_word_matches(index)
        touched = state.touched
        terms = [Term(bias_at(stats, touched, cfg, now), follow, touched)]
        habit_rows, habit = state.transitions_sparse(model.session_rows[-1] if model.session_rows else -1)
        terms.append(Term(habit, follow * cfg.bias_transition, habit_rows))
        neighbour_rows, neighbour = state.neighbours_sparse(model.session_rows, now)
        if cfg.bias_neighbours and len(neighbour_rows):
            terms.append(Term(neighbour, follow * cfg.bias_neighbours, neighbour_rows))
        if cfg.bias_prompt_words and len(word_rows):
            terms.append(Term(word_match, cfg.bias_prompt_words, word_rows, explore=True))
        # exact for the best rows as they will rank with b and the generator, and for the prompt's gate:
        # it orders its few tracks by this score, wherever they rank (recommend/first_pass.py)
        rules = self.rules()
        if self.seed is not None and self.seed.held:  # a playlist's mix continues it: its own tracks stay out
            unplayable = unplayable | self.seed.held if unplayable else self.seed.held
        blocked, blocked_rows = index.blocked(rules, cfg.max_track_s, unplayable)
        lift = lift_of(
            terms,
            artist=artist,
            artist_weight=follow * cfg.bias_artist,
            artist_rows=index.artists.rows_of(model.session_rows) if artist is not None else None,
            reference_spread=cfg.bias_reference_spread,
        )
        fit = None
        exact = [np.zeros(0, np.int64)]
        if model.prompt is not None and cfg.prompt_fit > 0:
            wish = self.prompt_script()
            fit = index.prompt_fit(model.prompt, wish)  # model.prompt: the prompt's lead (prompt_lead_vector)
            gate_rows = RESCORE_GATE_FACTOR * cfg.prompt_fit
            best_fits = index.prompt_fit_rows(model.prompt, wish, gate_rows, rules, cfg.max_track_s, unplayable)
            exact += [best_fits, word_rows[word_match > 0]]
        taste, s2s = index.taste(w, np.concatenate(exact), s2s_in, blocked_rows, lift)
        if s2s is not None and index.cached_generator_scores(generator, s2s_key) is None:  # new: kept
            index.keep_generator_scores(generator, s2s_key, s2s)
        if cold:  # ... of each script's part of it: the first queue mirrors the library's mix of languages
            taste = index.per_script_standard(taste)
        # The bias_* weights are cosine units at a taste spread of bias_reference_spread; scaled to this
        # fill's spread, so b keeps its meaning when a prompt (narrow query cosines) leads.
        scored = score(
            taste,
            terms,
            artist=artist,
            artist_weight=follow * cfg.bias_artist,
            generator=s2s,
            reference_spread=cfg.bias_reference_spread,
        )
        queued_rows = [
            catalog.row_of[t] for t in ([current_id] if current_id else []) + queued_ids if t in catalog.row_of
        ]
        recent_rows = state.listens[-cfg.no_repeat_last :] if cfg.no_repeat_last > 0 else []
        fits: set[int] | None = None
        near: set[int] = set()
        main, explore = scored.main, scored.explore
        if fit is not None:
            # A prompt leads: what fits it is decided by its own ranking, the rest of the score only orders
            # among its best tracks that can be picked now (a long history must not drown a typed wish).
            best = min(cfg.prompt_fit, math.ceil(cfg.prompt_fit_share * catalog.n))
            size = max(n, best)
            held = np.concatenate([np.asarray(queued_rows + list(recent_rows), np.int64), blocked_rows])
            inside = prompt_gate(fit, scored.main, word_rows, word_match, held, size, best_fits)
            main, explore = np.full_like(main, -np.inf), np.full_like(explore, -np.inf)  # the rest stays out
            main[inside], explore[inside] = scored.main[inside], scored.explore[inside]
            fits = set(inside.tolist())
            near = set(inside[best:].tolist())  # a small library's gate, past the prompt's best few (best first)
        never_played = np.ones(catalog.n, dtype=bool)
        never_played[touched] = ~(stats.played_at(touched) | stats.excluded[touched])
        picks = pick(
            catalog,
            main,
            explore,  # the explore slots' ranking: the generator leads there
            never_played,
            n,
            cfg.replace(explore_slots=explore_count(cfg, _familiar_share(stats, model.session_rows))),
            rules,
            queued_rows=queued_rows,
            recent_rows=recent_rows,
            start_position=len(queued_ids),
            blocked=blocked,
        )
        prompt = self.prompt
        seed_label = self.seed.label if self.seed is not None else None
        alike = dict(zip(neighbour_rows.tolist(), neighbour.tolist(), strict=True)) if cfg.bias_neighbours else {}
        named = set(word_rows[word_match > 0].tolist()) if cfg.bias_prompt_words else set()
        likeness = Likeness(catalog.matrix, model, [p.row for p in picks])
        said = {"prompt": prompt, "seed_label": seed_label, "alike": alike, "named": named, "fits": fits, "near": near}
        return [
            QueueEntry(
                int(catalog.ids[p.row]), reason(p, catalog, model, stats, likeness=likeness, **said), False, p.score
            )
            for p in picks
        ]


def _familiar_share(stats: TrackStats, session_rows: list[int]) -> float:
    """Share of the session's tracks heard more than once (before this session, roughly); with no
    session yet, 0: a fresh start explores."""
    if not session_rows:
        return 0.0
    rows = np.asarray(session_rows, dtype=np.int64)
    heard = np.maximum(stats.plays[rows], stats.completes[rows])
    return float(np.mean(heard > 1))
