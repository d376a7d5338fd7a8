"""Domain objects shared by every layer: plain frozen dataclasses, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

TrackId = int


class Outcome(IntEnum):
    """How a session's track ended, as the Seq2Seq generator reads it (its ``outcomes`` input and
    the manifest's ``outcomes`` map: the trained graph's embedding rows, so the numbers are fixed)."""

    COMPLETED = 0
    SKIPPED = 1
    LIKED = 2


class EventKind(StrEnum):
    """What a listener did with a track. Stored as text in the events table."""

    PLAY = "play"  # playback started
    COMPLETE = "complete"  # played far enough (listening.ListeningConfig.complete_fraction) or to the end
    SKIP = "skip"  # left before completion; the position says how early
    LIKE = "like"
    DISLIKE = "dislike"
    BLOCK = "block"  # "never play this"
    QUEUE_REMOVE = "queue_remove"  # removed from Up Next by hand


# What the tag reader reads, as a number: raised when it reads more from a file than before (2: ReplayGain,
# 3: CUE sheets and star ratings in the tags), so that a rescan reads every file once more, however
# unchanged on disk (store/tracks.FileState)
TAGS_VERSION = 3


@dataclass(frozen=True, slots=True)
class TrackTags:
    """Everything read from one audio file's tags and stream info.

    Multi-valued fields (artists, genres) keep every value in file order. ``title`` is never
    empty: when the file has no title tag it is the file name without extension.
    """

    title: str
    artists: tuple[str, ...] = ()
    album: str | None = None
    album_artist: str | None = None
    genres: tuple[str, ...] = ()
    year: int | None = None
    track_number: int | None = None
    track_total: int | None = None
    disc_number: int | None = None
    disc_total: int | None = None
    duration_s: float = 0.0
    bitrate: int | None = None  # bits per second
    sample_rate: int | None = None
    channels: int | None = None
    codec: str = ""  # mp3 flac vorbis opus aac alac wav aiff ape wavpack wma wmalossless wmapro
    mb_track_id: str | None = None  # MusicBrainz release track id
    mb_recording_id: str | None = None
    mb_album_id: str | None = None
    mb_artist_id: str | None = None
    embedded_lyrics: str | None = None  # plain text (LRC/SYLT timing already stripped)
    has_cover: bool = False
    # ReplayGain (library/replaygain.py): dB to the common loudness, and the peak sample (1.0 = full scale)
    track_gain_db: float | None = None
    track_peak: float | None = None
    album_gain_db: float | None = None
    album_peak: float | None = None
    cuesheet: str | None = None  # a CUE sheet held in the tags (library/cue.py); read, never stored
    rating: float | None = None  # the stars a player or tagger wrote, 0..1 (library/ratings.py)

    @property
    def artist(self) -> str:
        """All artists joined for display ("A; B")."""
        return "; ".join(self.artists)


@dataclass(frozen=True, slots=True)
class Track:
    """A track as the store knows it."""

    id: TrackId
    path: str
    tags: TrackTags
    lyrics: str | None = None
    lyrics_source: str | None = None  # "embedded" or the sidecar's path
    # A track of a CUE sheet is a part of an audio file (library/cue.py): the file, and where in it
    file: str | None = None
    start_s: float = 0.0
    end_s: float | None = None  # None: to the end of the file

    @property
    def file_path(self) -> str:
        """The audio file to open: ``path`` itself, or the image a CUE sheet's track lies in."""
        return self.file or self.path

    @property
    def is_segment(self) -> bool:
        return self.file is not None


@dataclass(frozen=True, slots=True)
class Event:
    track_id: TrackId
    kind: EventKind
    position_s: float | None = None
    timestamp: float = 0.0  # unix seconds
    context: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class QueueEntry:
    track_id: TrackId
    reason: str = ""
    manual: bool = False
    score: float | None = None
