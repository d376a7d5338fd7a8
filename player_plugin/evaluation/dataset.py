"""Playlist datasets in the shared format (``../shared/data/FORMAT.md``): loading, validation, splits.

A dataset folder holds ``tracks.tsv`` (tab-separated, header row) and ``playlists.jsonl`` (one JSON object a
line). Track ids are opaque strings; :class:`Dataset` maps them to dense ``int`` indices ``0..n_tracks-1`` in
file order, and every playlist carries its plays as an ``int32`` array of those indices.

Problems in the files raise :class:`DatasetError` naming ``file:line``. The one exception is a playlist that
names a track id missing from ``tracks.tsv``: with ``strict=False`` such entries are dropped and described in
``Dataset.problems`` instead (FORMAT.md: "an error to report, not to crash on").

No Qt, no torch, no network: plain files and numpy.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

Split = Literal["train", "validation", "test"]
SPLITS: tuple[Split, ...] = ("train", "validation", "test")

TRACKS_FILE = "tracks.tsv"
PLAYLISTS_FILE = "playlists.jsonl"
TRACK_COLUMNS = ("track_id", "title", "artist", "album", "genre", "tags")
TAG_SEPARATOR = "|"

_MAX_LISTED = 5  # offending ids quoted in an error message


class DatasetError(ValueError):
    """A dataset folder that does not follow FORMAT.md. The message names the file and line."""


def split_of(playlist_id: str) -> Split:
    """The split a playlist belongs to, exactly as FORMAT.md defines it.

    ``bucket = int(sha1(playlist_id as UTF-8).hexdigest(), 16) % 10``; buckets 0-7 are train, 8 validation,
    9 test.
    """
    bucket = int(hashlib.sha1(playlist_id.encode("utf-8")).hexdigest(), 16) % 10
    if bucket < 8:
        return "train"
    return "validation" if bucket == 8 else "test"


def track_text(
    title: str = "",
    artist: str = "",
    album: str = "",
    genre: str = "",
    tags: Iterable[str] = (),
) -> str:
    """The deterministic text view of one track that gets embedded.

    ``"Title: … | Artist: … | Album: … | Genre: … | Tags: a, b, c"``, each field stripped, empty fields left
    out. For a track with a title this is exactly ``player_plugin.nlp.textview.metadata_text(title, [artist],
    album, [genre], tags)`` (the product's view), so harness and product embed the same text.
    """
    parts = []
    for label, value in (("Title", title), ("Artist", artist), ("Album", album), ("Genre", genre)):
        value = (value or "").strip()
        if value:
            parts.append(f"{label}: {value}")
    tag_list = [t.strip() for t in tags if t and t.strip()]
    if tag_list:
        parts.append("Tags: " + ", ".join(tag_list))
    return " | ".join(parts)


@dataclass(frozen=True, slots=True)
class Playlist:
    """One playlist: its plays, in order, as dense track indices (repeats kept)."""

    playlist_id: str
    tracks: np.ndarray  # int32 track indices, play order
    name: str = ""
    tags: tuple[str, ...] = ()
    line: int = 0  # 1-based line in playlists.jsonl

    @property
    def split(self) -> Split:
        return split_of(self.playlist_id)

    def __len__(self) -> int:
        return int(self.tracks.shape[0])


@dataclass(slots=True)
class Dataset:
    """A loaded dataset: the library (tracks.tsv) and the playlists, with ids mapped to dense indices."""

    name: str
    path: Path
    track_ids: list[str]
    titles: list[str]
    artists: list[str]
    albums: list[str]
    genres: list[str]
    tags: list[tuple[str, ...]]
    playlists: list[Playlist]
    index: dict[str, int] = field(default_factory=dict)  # track_id -> dense index
    problems: list[str] = field(default_factory=list)  # what strict=False dropped, one line each

    def __post_init__(self) -> None:
        if not self.index:
            self.index = {tid: i for i, tid in enumerate(self.track_ids)}

    @property
    def n_tracks(self) -> int:
        return len(self.track_ids)

    def track_text(self, i: int) -> str:
        """The text view of track ``i`` (see :func:`track_text`)."""
        return track_text(self.titles[i], self.artists[i], self.albums[i], self.genres[i], self.tags[i])

    def texts(self) -> list[str]:
        """The text view of every track, in index order (what an encoder embeds)."""
        return [self.track_text(i) for i in range(self.n_tracks)]

    def split(self, split: Split) -> list[Playlist]:
        """The playlists of one split, in file order."""
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
        return [p for p in self.playlists if p.split == split]

    def source_files(self) -> tuple[str, ...]:
        """The files of the folder the dataset was read from."""
        return (TRACKS_FILE, PLAYLISTS_FILE)

    def fingerprint(self) -> str:
        """A short content hash of its files (for caches keyed by dataset)."""
        h = hashlib.sha1()
        for fname in self.source_files():
            with open(self.path / fname, "rb") as f:
                for chunk in iter(lambda f=f: f.read(1 << 20), b""):
                    h.update(chunk)
        return h.hexdigest()[:16]


def load_dataset(folder: str | Path, *, strict: bool = True, name: str | None = None) -> Dataset:
    """Read a dataset folder (FORMAT.md). ``name`` defaults to the folder's name.

    Raises :class:`DatasetError` for a missing file, a missing column, a duplicate or empty track id, a
    malformed or invalid JSON line, a duplicate playlist id, and (unless ``strict=False``) playlists naming
    track ids that tracks.tsv lacks.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: not a dataset folder (expected {TRACKS_FILE} and {PLAYLISTS_FILE})")
    tracks_path = folder / TRACKS_FILE
    playlists_path = folder / PLAYLISTS_FILE
    for p in (tracks_path, playlists_path):
        if not p.is_file():
            raise DatasetError(f"{p}: missing (a dataset folder needs {TRACKS_FILE} and {PLAYLISTS_FILE})")

    columns = _read_tracks(tracks_path)
    track_ids = columns["track_id"]
    index = {tid: i for i, tid in enumerate(track_ids)}
    playlists, problems = _read_playlists(playlists_path, index, strict=strict)
    return Dataset(
        name=name or folder.resolve().name,
        path=folder,
        track_ids=track_ids,
        titles=columns["title"],
        artists=columns["artist"],
        albums=columns["album"],
        genres=columns["genre"],
        tags=[tuple(t for t in raw.split(TAG_SEPARATOR) if t.strip()) for raw in columns["tags"]],
        playlists=playlists,
        index=index,
        problems=problems,
    )


def _read_tracks(path: Path) -> dict[str, list[str]]:
    """The known columns of tracks.tsv as lists of strings (unknown columns are ignored)."""
    # Plain split on tab, no quoting: FORMAT.md defines no quote character, and titles contain '"'.
    with open(path, encoding="utf-8-sig", newline="\n") as f:
        header_line = f.readline()
        if not header_line.strip():
            raise DatasetError(f"{path}:1: empty file; expected a header row with {', '.join(TRACK_COLUMNS)}")
        header = _strip_eol(header_line).split("\t")
        missing = [c for c in TRACK_COLUMNS if c not in header]
        if missing:
            raise DatasetError(
                f"{path}:1: header lacks column(s) {', '.join(missing)}; "
                f"found {', '.join(repr(h) for h in header)} (tab-separated)"
            )
        dupes = sorted({c for c in header if header.count(c) > 1 and c in TRACK_COLUMNS})
        if dupes:
            raise DatasetError(f"{path}:1: column(s) {', '.join(dupes)} appear more than once in the header")
        positions = {c: header.index(c) for c in TRACK_COLUMNS}
        width = len(header)
        out: dict[str, list[str]] = {c: [] for c in TRACK_COLUMNS}
        seen: dict[str, int] = {}
        for lineno, raw in enumerate(f, start=2):
            line = _strip_eol(raw)
            if not line.strip():
                continue  # a blank line (e.g. at the end) is not a track
            fields = line.split("\t")
            if len(fields) > width:
                raise DatasetError(
                    f"{path}:{lineno}: {len(fields)} tab-separated fields but the header has {width} "
                    "(a stray tab inside a field?)"
                )
            if len(fields) < width:
                fields.extend([""] * (width - len(fields)))  # trailing empty fields written without their tabs
            tid = fields[positions["track_id"]]
            if not tid:
                raise DatasetError(f"{path}:{lineno}: empty track_id")
            if tid in seen:
                raise DatasetError(f"{path}:{lineno}: duplicate track_id {tid!r} (first on line {seen[tid]})")
            seen[tid] = lineno
            for c in TRACK_COLUMNS:
                out[c].append(fields[positions[c]])
    return out


def _read_playlists(path: Path, index: dict[str, int], *, strict: bool) -> tuple[list[Playlist], list[str]]:
    playlists: list[Playlist] = []
    problems: list[str] = []
    seen_ids: dict[str, int] = {}
    unknown: list[tuple[int, str]] = []  # (line, track id)
    with open(path, encoding="utf-8-sig") as f:
        for lineno, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as e:
                raise DatasetError(f"{path}:{lineno}: malformed JSON ({e.msg} at column {e.colno})") from None
            if not isinstance(obj, dict):
                raise DatasetError(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}")
            pid = _id_string(obj.get("playlist_id"), path, lineno, "playlist_id")
            if pid in seen_ids:
                raise DatasetError(f"{path}:{lineno}: duplicate playlist_id {pid!r} (first on line {seen_ids[pid]})")
            seen_ids[pid] = lineno
            tracks = obj.get("tracks")
            if not isinstance(tracks, list):
                raise DatasetError(f"{path}:{lineno}: playlist {pid!r} needs a 'tracks' list of track ids")
            ids = [_id_string(t, path, lineno, "track id") for t in tracks]
            found = [index.get(t, -1) for t in ids]
            bad = [t for t, i in zip(ids, found, strict=True) if i < 0]
            if bad:
                unknown.extend((lineno, t) for t in bad)
                if not strict:
                    problems.append(
                        f"{path}:{lineno}: playlist {pid!r}: dropped {len(bad)} unknown track id(s): "
                        + ", ".join(repr(t) for t in bad[:_MAX_LISTED])
                        + (" …" if len(bad) > _MAX_LISTED else "")
                    )
                found = [i for i in found if i >= 0]
            name = obj.get("name") or ""
            tags = obj.get("tags") or ()
            playlists.append(
                Playlist(
                    playlist_id=pid,
                    tracks=np.asarray(found, dtype=np.int32),
                    name=str(name),
                    tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
                    line=lineno,
                )
            )
    if unknown and strict:
        listed = ", ".join(f"{t!r} (line {ln})" for ln, t in unknown[:_MAX_LISTED])
        lines = sorted({ln for ln, _ in unknown})
        raise DatasetError(
            f"{path}:{unknown[0][0]}: {len(unknown)} playlist entr{'y' if len(unknown) == 1 else 'ies'} on "
            f"{len(lines)} line(s) name track ids missing from {TRACKS_FILE}: {listed}"
            + (" …" if len(unknown) > _MAX_LISTED else "")
            + " (load with strict=False to drop them)"
        )
    return playlists, problems


def _id_string(value: object, path: Path, lineno: int, what: str) -> str:
    """An id as a string: JSON strings as they are, integers in decimal; anything else is an error."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise DatasetError(f"{path}:{lineno}: {what} must be a non-empty string, got {value!r}")


def _strip_eol(line: str) -> str:
    return line.rstrip("\r\n")


def train_arrays(dataset: Dataset) -> list[np.ndarray]:
    """The train split's playlists as arrays of track indices (what recommenders ``fit`` on)."""
    return [p.tracks for p in dataset.split("train")]


def tracks_in(playlists: Sequence[np.ndarray], n_tracks: int) -> np.ndarray:
    """A boolean mask over the library: True for tracks played in any of ``playlists``."""
    mask = np.zeros(n_tracks, dtype=bool)
    for p in playlists:
        mask[p] = True
    return mask
