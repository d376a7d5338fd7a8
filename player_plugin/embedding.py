"""Give every track a vector for the current model: incremental, resumable, cancellable.

A track is (re-)embedded when it has no vector for the model or the hash of its text view changed
(new tags, new lyrics, a new text-view version). Work is done in chunks of tracks, each written in
one transaction, so an interrupted run keeps every finished chunk and the next run goes on from
there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from player_plugin.library.tag_bounds import bounded_lyrics, bounded_text, bounded_values
from player_plugin.models import Track
from player_plugin.nlp.encoder import Encoder
from player_plugin.nlp.textview import TrackText, combine, lyric_windows, metadata_text
from player_plugin.store import Database, TrackRepository, VectorRepository


@dataclass(frozen=True, slots=True)
class EmbedProgress:
    done: int
    total: int
    current: str = ""


@dataclass
class EmbedReport:
    model_id: str
    embedded: int = 0
    unchanged: int = 0
    texts: int = 0
    cancelled: bool = False
    provider: str = ""

    def as_dict(self) -> dict:
        return {
            "model": self.model_id,
            "embedded": self.embedded,
            "unchanged": self.unchanged,
            "texts": self.texts,
            "cancelled": self.cancelled,
            "provider": self.provider,
        }


def track_text(track: Track, encoder: Encoder) -> TrackText:
    t = track.tags  # bounded as the scanner bounds them (a database filled before the bounds existed)
    meta = metadata_text(bounded_text(t.title), bounded_values(t.artists), bounded_text(t.album),
                         bounded_values(t.genres), (), t.year)  # fmt: skip
    lyrics = bounded_lyrics(track.lyrics)
    windows = lyric_windows(lyrics, lambda lines: [len(ids) - 2 for ids in encoder.token_ids(lines)])
    return TrackText(meta, tuple(windows))


def embed_texts(encoder: Encoder, texts: list[TrackText]) -> np.ndarray:
    """Track vectors for several text views, with every text of the chunk in one length-sorted pass."""
    flat: list[str] = []
    spans: list[tuple[int, int, int]] = []
    for tt in texts:
        start = len(flat)
        flat.append(tt.meta)
        flat.extend(tt.windows)
        spans.append((start, start + 1, len(flat)))
    vectors = encoder.embed(flat, kind="passage")
    out = np.empty((len(texts), encoder.dim), dtype=np.float32)
    for row, (meta_i, win_start, win_end) in enumerate(spans):
        out[row] = combine(vectors[meta_i], vectors[win_start:win_end] if win_end > win_start else None)
    return out


class Embedder:
    def __init__(self, db: Database, encoder: Encoder, chunk_tracks: int = 64) -> None:
        self.db = db
        self.encoder = encoder
        self.tracks = TrackRepository(db)
        self.vectors = VectorRepository(db)
        self.chunk_tracks = chunk_tracks

    def pending(self) -> tuple[list[tuple[Track, TrackText]], int]:
        """(tracks whose vector is missing or stale with their text views, count up to date)."""
        known = self.vectors.text_hashes(self.encoder.model_id)
        todo: list[tuple[Track, TrackText]] = []
        unchanged = 0
        for track in self.tracks.iter_all():
            text = track_text(track, self.encoder)
            if known.get(track.id) == text.hash:
                unchanged += 1
            else:
                todo.append((track, text))
        return todo, unchanged

    def run(
        self,
        progress: Callable[[EmbedProgress], None] | None = None,
        cancel: Callable[[], bool] | threading.Event | None = None,
    ) -> EmbedReport:
        is_cancelled = cancel.is_set if isinstance(cancel, threading.Event) else (cancel or (lambda: False))
        report = EmbedReport(self.encoder.model_id, provider=self.encoder.provider)
        todo, report.unchanged = self.pending()
        total = len(todo)
        if progress:
            progress(EmbedProgress(0, total))
        done = 0
        for start in range(0, total, self.chunk_tracks):
            if is_cancelled():
                report.cancelled = True
                break
            chunk = todo[start : start + self.chunk_tracks]
            vectors = embed_texts(self.encoder, [text for _, text in chunk])
            with self.db.transaction():
                for (track, text), vec in zip(chunk, vectors, strict=True):
                    # A scan running meanwhile may have removed the track: skip it rather than
                    # fail the whole chunk on the foreign key.
                    if self.tracks.get(track.id) is not None:
                        self.vectors.put(track.id, self.encoder.model_id, vec, text.hash)
                        report.embedded += 1
            done += len(chunk)
            report.texts += sum(1 + len(text.windows) for _, text in chunk)
            if progress:
                progress(EmbedProgress(done, total, chunk[-1][0].tags.title))
        return report
