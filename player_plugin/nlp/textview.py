"""The deterministic text of a track: what the encoder reads.

A track becomes one *metadata* text (title, artists, album, genres, tags, year — labelled, in a
fixed order, empty fields left out) and zero or more *lyrics windows*: the lyrics with repeated
lines dropped (a chorus sung four times says nothing new), packed line by line into windows of at
most ``window_tokens`` tokens, at most ``max_windows`` of them (spread over the song when there
are more). The track vector is

    normalise(META_WEIGHT · v_meta + LYRICS_WEIGHT · normalise(mean(v_window)))

with META_WEIGHT = 0.6 and LYRICS_WEIGHT = 0.4: the tags say what kind of music it is (genre,
artist, language), the lyrics what it is about (mood, theme); tags lead because every track has
them and they are the stronger signal for "what plays next". A track without lyrics is v_meta.

Changing anything here changes ``TEXTVIEW_VERSION``, which re-embeds every track.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

TEXTVIEW_VERSION = "1"
META_WEIGHT = 0.6
LYRICS_WEIGHT = 0.4


def metadata_text(
    title: str,
    artists: Iterable[str] = (),
    album: str | None = None,
    genres: Iterable[str] = (),
    tags: Iterable[str] = (),
    year: int | None = None,
) -> str:
    parts = [f"Title: {title.strip()}"]
    artist = ", ".join(a.strip() for a in artists if a and a.strip())
    if artist:
        parts.append(f"Artist: {artist}")
    if album and album.strip():
        parts.append(f"Album: {album.strip()}")
    genre = ", ".join(g.strip() for g in genres if g and g.strip())
    if genre:
        parts.append(f"Genre: {genre}")
    tag_text = ", ".join(t.strip() for t in tags if t and t.strip())
    if tag_text:
        parts.append(f"Tags: {tag_text}")
    if year:
        parts.append(f"Year: {year}")
    return " | ".join(parts)


def lyric_lines(lyrics: str) -> list[str]:
    """Non-empty lines, each distinct line once (first occurrence), whitespace collapsed."""
    out: list[str] = []
    folded: set[str] = set()
    for raw in lyrics.splitlines():
        line = " ".join(raw.split())
        key = line.casefold()
        if line and key not in folded:
            folded.add(key)
            out.append(line)
    return out


def lyric_windows(
    lyrics: str | None,
    count_tokens: Callable[[Sequence[str]], list[int]],
    window_tokens: int = 128,
    max_windows: int = 4,
) -> list[str]:
    """Pack lyric lines into windows of <= ``window_tokens`` tokens (a longer line is its own window,
    truncated by the tokenizer). More windows than ``max_windows`` → evenly spaced ones are kept."""
    if not lyrics:
        return []
    lines = lyric_lines(lyrics)
    if not lines:
        return []
    lengths = count_tokens(lines)
    windows: list[str] = []
    current: list[str] = []
    used = 0
    for line, n in zip(lines, lengths, strict=True):
        if current and used + n > window_tokens:
            windows.append("\n".join(current))
            current, used = [], 0
        current.append(line)
        used += n
    if current:
        windows.append("\n".join(current))
    if len(windows) > max_windows:
        picks = np.linspace(0, len(windows) - 1, max_windows).round().astype(int)
        windows = [windows[i] for i in sorted(set(picks.tolist()))]
    return windows


@dataclass(frozen=True, slots=True)
class TrackText:
    meta: str
    windows: tuple[str, ...]

    @property
    def hash(self) -> str:
        h = hashlib.sha1(TEXTVIEW_VERSION.encode())
        for part in (self.meta, *self.windows):
            h.update(b"\x1e" + part.encode("utf-8"))
        return h.hexdigest()


def combine(meta: np.ndarray, windows: np.ndarray | None) -> np.ndarray:
    """The track vector from its metadata vector and its lyric windows' vectors (see module doc)."""
    if windows is None or len(windows) == 0:
        v = meta.astype(np.float32, copy=True)
    else:
        lyr = windows.mean(axis=0)
        lyr = lyr / max(float(np.linalg.norm(lyr)), 1e-12)
        v = META_WEIGHT * meta + LYRICS_WEIGHT * lyr
    return (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)
