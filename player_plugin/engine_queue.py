"""Up Next's queue operations, part of ``Engine`` (split out for size; ``engine.py`` wires them).

Each operation is one transaction (read, change, write) and announces the queue it leaves to the
engine's listeners; a fill never asks for another, only a queue that shrank below the low-water mark
with auto-fill on is "refill due".
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from player_plugin.models import Event, EventKind, QueueEntry, TrackId
from player_plugin.playlist_files import read_playlist

if TYPE_CHECKING:
    from player_plugin.listeners import Listeners
    from player_plugin.listening import Listening
    from player_plugin.recommend.service import RecommendService
    from player_plugin.store import Database, EventRepository, QueueRepository, SettingsRepository, TrackRepository


class QueueOps:
    db: Database
    queue_repo: QueueRepository
    events: EventRepository
    settings: SettingsRepository
    listening: Listening
    clock: Callable[[], float]
    tracks: TrackRepository
    _listeners: Listeners
    recommender: RecommendService  # Engine's properties
    now_playing: TrackId | None

    @property
    def autofill(self) -> bool:
        """Whether Up Next tops itself up (a setting; the host shows the switch)."""
        return self.settings.autofill()

    def set_autofill(self, on: bool) -> None:
        self.settings.set_autofill(on)
        if on:
            self._announce_queue(self.queue(), shrunk=True)

    def queue(self) -> list[QueueEntry]:
        return self.queue_repo.entries()

    def refill_due(self, entries: list[QueueEntry] | None = None) -> bool:
        """Whether Up Next should be topped up now: auto-fill is on and it is below the low-water mark."""
        n = len(self.queue() if entries is None else entries)
        return n < self.listening.cfg.low_water and self.autofill

    def up_next(self, n: int | None = None) -> list[QueueEntry]:
        """Top the queue up to ``n`` entries (default the queue target) with recommendations; manual
        entries stay where they are."""
        return self._fill(n, self.now_playing)

    def refill(self, n: int | None = None) -> list[QueueEntry]:
        """Drop the recommended entries and fill again (after a prompt change, a like, a dislike)."""
        return self._refill(n, self.now_playing)

    def picks(
        self,
        n: int,
        queued: Iterable[TrackId] = (),
        unplayable: frozenset[TrackId] = frozenset(),
        within: tuple[str, ...] = (),
        whole_files: bool = False,
    ) -> list[QueueEntry]:
        """For a host that keeps its own queue (MPD, Quod Libet): ``n`` fresh recommendations, none of
        them among ``queued`` (what the host's queue already holds) or ``unplayable`` (library tracks the
        host cannot play; pass the same set each time while it holds), and, given ``within`` (the host's
        own library folders), only tracks under those; with ``whole_files`` (a host that cannot play a
        part of a file) no track of a CUE sheet. Up Next's recommended entries are picked again for it,
        so they follow the latest events and prompt."""
        if within or whole_files:
            outside = self.recommender.index().outside(tuple(within), whole_files)
            unplayable = unplayable | outside if unplayable else outside  # the same set while the library holds
        self._edit_queue(lambda entries: [e for e in entries if e.manual], announce=False)
        manual = self.queue_repo.entries()
        mine = {e.track_id for e in manual}
        # the host's queue is what the picks follow (held out, and the queue rules' spacing counts it)
        held = [e.track_id for e in manual] + [t for t in dict.fromkeys(queued) if t not in mine]
        fresh = self.recommender.recommend(n, held, self.now_playing, unplayable)
        self._write_queue(manual + fresh)
        return fresh

    def start_mix(self, seed: int | str, n: int | None = None) -> list[QueueEntry]:
        """A fresh Up Next seeded by a track id, a title or an artist name. A track seed is not queued: it
        is filled as if already playing, and the host plays it now (``track_started(id, via="mix")``)."""
        recommender = self.recommender
        recommender.seed = recommender.resolve_seed(str(seed))
        rows = recommender.seed.rows
        playing = int(recommender.catalog().ids[rows[0]]) if len(rows) == 1 else self.now_playing
        return self._refill(n, playing)

    def continue_playlist(self, path: str | os.PathLike[str], n: int | None = None) -> tuple[list[QueueEntry], str]:
        """A fresh Up Next that continues an M3U/M3U8 playlist (playlist_files.py): its tracks in the
        library seed the mix, and none of them is picked again. (The queue, and the playlist's name.)
        LookupError when none of its files is in the library; PlaylistError when it is no playlist."""
        playlist = read_playlist(path)
        # an entry naming a CD image (or its CUE sheet), as other players write them: all its tracks
        ids = [t for p in playlist.paths for t in self.tracks.ids_at(p)]
        if not ids:
            streams = f" ({playlist.streams} streams)" if playlist.streams else ""
            files = f"{len(playlist.paths)} files of “{playlist.name}”{streams}"
            raise LookupError(f"none of the {files} is in the library: scan their folder first")
        self.recommender.seed = self.recommender.playlist_seed(ids, playlist.name)
        return self._refill(n, self.now_playing), playlist.name

    def _refill(self, n: int | None, playing: TrackId | None) -> list[QueueEntry]:
        self._edit_queue(lambda entries: [e for e in entries if e.manual], announce=False)
        try:
            return self._fill(n, playing)
        except Exception:
            self._announce_queue(self.queue(), shrunk=False)  # the recommended entries are gone all the same
            raise

    def _fill(self, n: int | None, playing: TrackId | None) -> list[QueueEntry]:
        n = self.listening.cfg.queue_target if n is None else n
        entries = self.queue_repo.entries()
        missing = n - len(entries)
        if missing > 0:
            entries += self.recommender.recommend(missing, [e.track_id for e in entries], playing)
            self._write_queue(entries)
        return entries

    def queue_add(self, track_id: int, next: bool = False) -> list[QueueEntry]:  # noqa: A002 - the user's word
        """Add by hand: at the end of the hand-added entries, or first ("play next"); returns the queue."""
        if self.tracks.get(track_id) is None:
            raise KeyError(f"no track with id {track_id}")

        def edit(entries: list[QueueEntry]) -> list[QueueEntry]:
            # A recommendation of the same track gives way to the one added by hand (no track twice).
            entries = [e for e in entries if e.manual or e.track_id != track_id]
            entry = QueueEntry(track_id, "added by you", manual=True)
            if next:
                entries.insert(0, entry)
            else:
                last_manual = max((i for i, e in enumerate(entries) if e.manual), default=-1)
                entries.insert(last_manual + 1, entry)
            return entries

        return self._edit_queue(edit)

    def queue_remove(self, index: int) -> QueueEntry:
        """Remove an entry; a removed recommendation is feedback ("not this") and stays out."""
        removed: list[QueueEntry] = []

        def edit(entries: list[QueueEntry]) -> list[QueueEntry]:
            removed.append(entries.pop(index))
            if not removed[0].manual:
                self.events.record(Event(removed[0].track_id, EventKind.QUEUE_REMOVE, None, self.clock()))
            return entries

        self._edit_queue(edit, shrinks=True)
        return removed[0]

    def queue_move(self, src: int, dst: int) -> list[QueueEntry]:
        def edit(entries: list[QueueEntry]) -> list[QueueEntry]:
            entry = entries.pop(src)
            entries.insert(max(0, min(dst, len(entries))), entry)
            return entries

        return self._edit_queue(edit)

    def queue_pop(self, index: int = 0, announce: bool = True) -> QueueEntry | None:
        """Take entry ``index`` (default the head) out of the queue to play it; None when there is none."""
        taken: list[QueueEntry] = []

        def edit(entries: list[QueueEntry]) -> list[QueueEntry]:
            if 0 <= index < len(entries):
                taken.append(entries.pop(index))
            return entries

        self._edit_queue(edit, shrinks=True, announce=announce)
        return taken[0] if taken else None

    def advance(self, autofill: bool | None = None) -> QueueEntry | None:
        """The entry to play next, taken from the queue; an empty queue is filled first when ``autofill``
        (default the setting) is on. The host plays it and reports ``track_started(id, via="queue")``."""
        head = self.queue_pop()
        if head is None and (self.autofill if autofill is None else autofill):
            self.up_next()
            head = self.queue_pop()
        return head

    def _edit_queue(
        self, edit: Callable[[list[QueueEntry]], list[QueueEntry]], shrinks: bool = False, announce: bool = True
    ) -> list[QueueEntry]:
        """Read, change and write the queue in one transaction, then announce it."""
        with self.db.transaction():
            before = self.queue_repo.entries()
            entries = edit(list(before))
            if entries != before:
                self.queue_repo.replace(entries, now=self.clock())
        if announce and entries != before:
            self._announce_queue(entries, shrunk=shrinks)
        return entries

    def _write_queue(self, entries: list[QueueEntry]) -> None:
        self.queue_repo.replace(entries, now=self.clock())
        self._announce_queue(entries, shrunk=False)

    def _announce_queue(self, entries: list[QueueEntry], shrunk: bool) -> None:
        # A fill never asks for another (a small library would loop): only a queue that shrank is "due".
        self._listeners.send("queue_changed", list(entries), shrunk and self.refill_due(entries))
