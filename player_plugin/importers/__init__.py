"""Listening-history exports (Last.fm, ListenBrainz, Spotify) read in bounded memory: ``parse_history``.

``source`` opens only regular files and streams zip members under size, ratio and member-count
bounds; ``json_stream`` reads JSON one value at a time under size and depth bounds;
``csv_history``, ``formats`` and ``spotify`` turn rows and entries into :class:`Listen`; ``parse`` tells the
formats apart. Matching listens to the library and storing them is ``recommend.history_import``.
"""

from player_plugin.importers.model import (
    LASTFM,
    LISTENBRAINZ,
    SPOTIFY,
    SPOTIFY_EXTENDED,
    HistoryImportError,
    Listen,
    ParseStats,
)
from player_plugin.importers.parse import parse_history

__all__ = [
    "LASTFM",
    "LISTENBRAINZ",
    "SPOTIFY",
    "SPOTIFY_EXTENDED",
    "HistoryImportError",
    "Listen",
    "ParseStats",
    "parse_history",
]
