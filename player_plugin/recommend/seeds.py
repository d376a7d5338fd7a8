"""A mix started from a track or an artist (``Engine.start_mix``): what the words name in the library."""

from __future__ import annotations

from dataclasses import dataclass

from player_plugin.recommend.queue import Catalog
from player_plugin.text_norm import normalise


@dataclass
class Seed:
    """A mix started from a track or an artist: it stands in for the session until the next play."""

    rows: list[int]
    label: str
    ts: float
    held: frozenset[int] = frozenset()  # track ids kept out of the mix (a playlist's own tracks: it continues them)


def resolve_seed(catalog: Catalog, text: str, now: float) -> Seed:
    """A track (id, or title/"artist - title") or an artist name → the rows to seed a mix with."""
    key = normalise(text)
    if key.isdigit() and int(key) in catalog.row_of:
        row = catalog.row_of[int(key)]
        return Seed([row], catalog.titles[row], now)
    by_artist = [r for r in range(catalog.n) if key in catalog.artist_sets[r]]
    if by_artist:
        return Seed(by_artist, text, now)
    for r in range(catalog.n):
        title = normalise(catalog.titles[r])
        if key in (title, normalise(f"{catalog.artists[r]} - {catalog.titles[r]}")):
            return Seed([r], catalog.titles[r], now)
    partial = [r for r in range(catalog.n) if key and key in normalise(catalog.titles[r])]
    if partial:
        return Seed(partial[:1], catalog.titles[partial[0]], now)
    raise LookupError(f"no track or artist in the library matches {text!r}")
