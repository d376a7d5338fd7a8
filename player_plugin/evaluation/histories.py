"""Listening-history datasets (``../shared/data/FORMAT.md``, second part): one listener's own plays.

A history folder holds ``tracks.tsv`` (the playlist datasets' columns) and ``listens.jsonl``, one listen a
line: ``{"user", "ts" (start, Unix seconds UTC), "track_id", "ms_played"?, "skipped"?, "reason_end"?, …}``.
:class:`HistoryDataset` is a :class:`~player_plugin.evaluation.dataset.Dataset` with no playlists (so the
vector cache and the text view are the playlist harness's) and each listener's listens in time order.

Whether a listen is a skip is decided by the importers' rule (:func:`player_plugin.importers.spotify.is_skip`),
the one FORMAT.md states, so an imported history and a replayed one are the same history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from player_plugin.evaluation.dataset import TAG_SEPARATOR, TRACKS_FILE, Dataset, DatasetError, _read_tracks
from player_plugin.importers.spotify import is_skip

LISTENS_FILE = "listens.jsonl"


@dataclass(slots=True)
class History:
    """One listener's listens in time order, as parallel arrays (46k tracks × 135k listens fit easily)."""

    user: str
    ts: np.ndarray  # float64 start times, non-decreasing
    tracks: np.ndarray  # int32 dense track indices
    skipped: np.ndarray  # bool, FORMAT.md's skip rule
    ms_played: np.ndarray  # int64, -1 where unknown

    def __len__(self) -> int:
        return int(self.ts.shape[0])


@dataclass(slots=True)
class HistoryDataset(Dataset):
    histories: dict[str, History] = field(default_factory=dict)

    def source_files(self) -> tuple[str, ...]:
        return (TRACKS_FILE, LISTENS_FILE)


def is_history_folder(folder: str | Path) -> bool:
    return (Path(folder) / LISTENS_FILE).is_file()


def load_histories(folder: str | Path, *, name: str | None = None) -> HistoryDataset:
    """Read a history folder. Raises :class:`DatasetError` naming ``file:line`` for a missing file, a bad
    line, an unknown track id, or a listener's lines out of time order (FORMAT.md promises the order)."""
    folder = Path(folder)
    tracks_path, listens_path = folder / TRACKS_FILE, folder / LISTENS_FILE
    for p in (tracks_path, listens_path):
        if not p.is_file():
            raise DatasetError(f"{p}: missing (a history folder needs {TRACKS_FILE} and {LISTENS_FILE})")
    columns = _read_tracks(tracks_path)
    index = {tid: i for i, tid in enumerate(columns["track_id"])}
    rows: dict[str, tuple[list[float], list[int], list[bool], list[int]]] = {}
    with open(listens_path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            where = f"{listens_path}:{lineno}"
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{where}: not JSON ({exc.msg})") from None
            if not isinstance(obj, dict):
                raise DatasetError(f"{where}: expected a JSON object")
            user, ts, tid = obj.get("user"), obj.get("ts"), obj.get("track_id")
            if not isinstance(user, str) or not user:
                raise DatasetError(f"{where}: 'user' must be a non-empty string")
            if isinstance(ts, bool) or not isinstance(ts, int | float):
                raise DatasetError(f"{where}: 'ts' must be Unix seconds")
            if tid not in index:
                raise DatasetError(f"{where}: track_id {tid!r} is not in {TRACKS_FILE}")
            ms = obj.get("ms_played")
            ms_known = ms if isinstance(ms, int) and not isinstance(ms, bool) and ms >= 0 else None
            lists = rows.setdefault(user, ([], [], [], []))
            if lists[0] and ts < lists[0][-1]:
                raise DatasetError(f"{where}: {user}'s listens are not in time order")
            lists[0].append(float(ts))
            lists[1].append(index[tid])
            lists[2].append(is_skip(obj.get("skipped"), obj.get("reason_end"), ms_known))
            lists[3].append(-1 if ms_known is None else ms_known)
    histories = {
        user: History(
            user,
            np.asarray(t, np.float64),
            np.asarray(tr, np.int32),
            np.asarray(sk, bool),
            np.asarray(ms, np.int64),
        )
        for user, (t, tr, sk, ms) in rows.items()
    }
    return HistoryDataset(
        name=name or folder.resolve().name,
        path=folder,
        track_ids=columns["track_id"],
        titles=columns["title"],
        artists=columns["artist"],
        albums=columns["album"],
        genres=columns["genre"],
        tags=[tuple(t for t in raw.split(TAG_SEPARATOR) if t.strip()) for raw in columns["tags"]],
        playlists=[],
        index=index,
        histories=histories,
    )
