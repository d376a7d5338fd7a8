"""What the history parsers produce: listens, the counts of what they skipped, their one error type."""

from __future__ import annotations

from dataclasses import dataclass, field

LASTFM = "lastfm"
LISTENBRAINZ = "listenbrainz"
SPOTIFY = "spotify"  # the account export's StreamingHistory*.json
SPOTIFY_EXTENDED = "spotify-extended"  # the extended streaming history's Streaming_History_Audio_*.json
MAX_EXAMPLES = 5  # malformed-row messages kept in the report
MAX_QUOTED_CHARS = 100  # how much of a bad value an error message quotes


class HistoryImportError(ValueError):
    """The file is not a listening history this module understands, cannot be read, or is beyond
    the import's bounds (size, nesting, members). ``str()`` is one line naming the file."""


@dataclass(frozen=True, slots=True)
class Listen:
    artist: str
    title: str
    album: str | None
    ts: float  # unix seconds, UTC
    source: str = ""  # "lastfm", "listenbrainz", "spotify" or "spotify-extended"
    skip: bool = False  # FORMAT.md's rule (``spotify.is_skip``); Last.fm and ListenBrainz say nothing: played
    played_s: float | None = None  # how long it played, when the export says


@dataclass
class ParseStats:
    """What :func:`parse_history` skipped on the way (filled in while iterating)."""

    malformed: int = 0
    now_playing: int = 0
    not_music: int = 0  # Spotify rows without a track name: podcast episodes, audiobooks
    examples: list[str] = field(default_factory=list)  # the first few malformed-row messages

    def bad(self, message: str) -> None:
        self.malformed += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(message)


def quoted(value: object) -> str:
    """``repr(value)``, cut to :data:`MAX_QUOTED_CHARS` (a 4,300-digit "timestamp" is not quoted whole)."""
    text = repr(value)
    return text if len(text) <= MAX_QUOTED_CHARS else text[:MAX_QUOTED_CHARS] + "…"
