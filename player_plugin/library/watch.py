"""Watching the library folders: music added, changed, moved or deleted shows up without a rescan.

A :class:`FolderWatcher` thread watches every folder under the library folders with inotify
(library/inotify.py; new folders are watched as they come) and collects the changes that matter to
a scan: an audio file or a lyrics sidecar written and closed, moved in or out, deleted, or its mode
changed; a folder that came or went. Each change names its *scan group*, the folder a scan then
looks at (:func:`scan_group`): the library folder's top folder that holds it (an artist's folder,
usually), or the library folder itself for a file directly in it — the folders whose emptiness the
scan's "suddenly holds nothing" rule judges (library/emptied.py), so a watched change and a whole
rescan decide alike. The groups are handed on together once no change came for
:data:`WATCH_QUIET_S` (a copied album: one scan, not twelve), or :data:`WATCH_MAX_WAIT_S` after the
first while changes go on (a long copy shows in parts). Both sides of a move arrive in one batch, so
the scan sees the move and the track keeps its history. What the kernel said was deleted or moved
away is handed on too: a folder left empty by deleting its music is then emptied in the library as
well, where a rescan alone cannot tell it from an unmounted drive's empty mount point and keeps its
tracks. A full kernel queue means changes were lost: every library folder is handed on. A drive
mounted again (or a library folder that appears) sends no event: each library folder's identity is
looked at every :data:`ROOT_CHECK_S`, and one that changed is watched anew and handed on whole.

The host decides when to scan (the app: ``Engine.scan_changes`` on its library worker, after a scan
that is running); the watcher only reports, on its own thread.
"""

from __future__ import annotations

import logging
import os
import select
import stat
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from player_plugin.library import inotify
from player_plugin.library.cue import CUE_EXTENSION
from player_plugin.library.inotify import (
    IN_CREATE,
    IN_DELETE,
    IN_DELETE_SELF,
    IN_IGNORED,
    IN_ISDIR,
    IN_MOVE_SELF,
    IN_MOVED_FROM,
    IN_MOVED_TO,
    IN_Q_OVERFLOW,
    IN_UNMOUNT,
    Inotify,
    RawEvent,
    WatchLimitError,
)
from player_plugin.library.lyrics import SIDECAR_EXTENSIONS
from player_plugin.library.tags import AUDIO_EXTENSIONS
from player_plugin.store.tracks import is_under

log = logging.getLogger(__name__)

WATCH_QUIET_S = 2.0  # changes are handed on once none came for this long (a copied album: one scan)
WATCH_MAX_WAIT_S = 30.0  # ... or this long after the first one while they go on (a long copy: in parts)
STOP_WAIT_S = 5.0  # how long stop() waits for the thread
# How often each library folder is looked at (one stat): a drive mounted again, or a library folder that
# appears (plugged in after the start), leaves no inotify event, so its identity is what tells
ROOT_CHECK_S = 5.0
_WATCHED_NAMES = AUDIO_EXTENSIONS | frozenset(SIDECAR_EXTENSIONS) | {CUE_EXTENSION}


def scan_group(path: str, roots: Iterable[str], folder: bool = False) -> str | None:
    """The folder to scan for a change at ``path`` (a ``folder`` or a file): the top folder of the
    library folder holding it (itself, for a top folder), or that library folder for a file directly
    in it (or for itself); None outside every root."""
    for root in roots:
        if is_under(path, root):
            if path == root:
                return root
            head = path[len(root.rstrip(os.sep)) + 1 :].split(os.sep, 1)
            return root if len(head) == 1 and not folder else os.path.join(root, head[0])
    return None


def matters(name: str) -> bool:
    """Whether a file of this name is read by a scan (audio, or a lyrics sidecar)."""
    return os.path.splitext(name)[1].lower() in _WATCHED_NAMES


@dataclass(frozen=True)
class Changes:
    """What the watch hands on: the folders to scan, and the paths it saw deleted or moved away (files
    or folders; proof that they are gone, which an empty folder alone is not: library/emptied.py)."""

    folders: list[str]
    deleted: frozenset[str] = frozenset()

    def __or__(self, other: Changes) -> Changes:
        return Changes(sorted({*self.folders, *other.folders}), self.deleted | other.deleted)


class ChangeBatch:
    """Scan groups collected until they are due (quiet, or waited long enough)."""

    def __init__(self, quiet_s: float = WATCH_QUIET_S, max_wait_s: float = WATCH_MAX_WAIT_S) -> None:
        self.quiet_s, self.max_wait_s = quiet_s, max_wait_s
        self.groups: set[str] = set()
        self.deleted: set[str] = set()
        self._first = self._last = 0.0

    def add(self, group: str, now: float, deleted: str | None = None) -> None:
        if not self.groups:
            self._first = now
        self.groups.add(group)
        if deleted is not None:
            self.deleted.add(deleted)
        self._last = now

    def wait_s(self, now: float) -> float | None:
        """Seconds until the batch is due (0: now); None while it is empty."""
        if not self.groups:
            return None
        due = min(self._last + self.quiet_s, self._first + self.max_wait_s)
        return max(0.0, due - now)

    def take(self) -> Changes:
        """The groups, outermost only (a library folder covers its top folders), in name order."""
        out: list[str] = []
        for g in sorted(self.groups):
            if not any(is_under(g, o) for o in out):
                out.append(g)
        changes = Changes(out, frozenset(self.deleted))
        self.groups.clear()
        self.deleted.clear()
        return changes


class FolderWatcher:
    """Watches ``roots`` on a thread of its own; ``on_change(changes)`` is called on that thread."""

    def __init__(
        self,
        roots: Iterable[str],
        on_change: Callable[[Changes], None],
        on_notice: Callable[[str], None] | None = None,
        quiet_s: float | None = None,  # None: WATCH_QUIET_S / WATCH_MAX_WAIT_S as they are when the watch starts
        max_wait_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        root_check_s: float = ROOT_CHECK_S,
    ) -> None:
        self.roots = [os.path.normpath(os.path.abspath(r)) for r in roots]
        self._root_check_s = root_check_s
        self._root_ids: dict[str, tuple[int, int] | None] = {}  # each root's (device, inode) as watched
        self._on_change = on_change
        self._on_notice = on_notice or (lambda _m: None)
        self._batch = ChangeBatch(
            WATCH_QUIET_S if quiet_s is None else quiet_s, WATCH_MAX_WAIT_S if max_wait_s is None else max_wait_s
        )
        self._clock = clock
        self._paths: dict[int, str] = {}  # watch -> folder
        self._limited = False
        self._stop = threading.Event()
        self.ready = threading.Event()  # set once the folders there at the start are watched
        self._thread: threading.Thread | None = None
        self._inotify: Inotify | None = None
        self._wake_r, self._wake_w = -1, -1

    @property
    def watched(self) -> int:
        """How many folders are watched now."""
        return len(self._paths)

    def start(self) -> None:
        self._inotify = Inotify()
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._thread = threading.Thread(target=self._run, name="library-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._wake_w >= 0:
            os.write(self._wake_w, b"x")
        if self._thread is not None:
            self._thread.join(STOP_WAIT_S)
        for fd in (self._wake_r, self._wake_w):
            if fd >= 0:
                os.close(fd)
        self._wake_r = self._wake_w = -1
        if self._inotify is not None:
            self._inotify.close()

    # -- the thread --------------------------------------------------------------------------------

    def _run(self) -> None:
        assert self._inotify is not None
        for root in self.roots:
            self._root_ids[root] = _identity(root)
            self._watch_tree(root)
        self.ready.set()
        poller = select.poll()
        poller.register(self._inotify.fd, select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        next_check = self._clock() + self._root_check_s
        while not self._stop.is_set():
            wait = self._batch.wait_s(self._clock())
            wait = max(0.0, next_check - self._clock()) if wait is None else min(wait, next_check - self._clock())
            poller.poll(max(1, int(wait * 1000)))
            if self._stop.is_set():
                break
            for event in self._inotify.read():
                self._handle(event)
            if self._clock() >= next_check:
                next_check = self._clock() + self._root_check_s
                self._check_roots()
            if self._batch.wait_s(self._clock()) == 0.0:
                changes = self._batch.take()
                try:
                    self._on_change(changes)
                except Exception:  # noqa: BLE001 - the host's handler failing must not end the watch
                    log.exception("the library watch's handler failed for %s", changes.folders)

    def _handle(self, ev: RawEvent) -> None:
        now = self._clock()
        if ev.mask & IN_Q_OVERFLOW:  # the kernel dropped events: what changed is not known
            for root in self.roots:
                self._batch.add(root, now)
            return
        if ev.mask & IN_IGNORED:  # the folder went (or was unwatched): the kernel dropped the watch
            self._paths.pop(ev.watch, None)
            return
        folder = self._paths.get(ev.watch)
        if folder is None:
            return
        path = os.path.join(folder, ev.name) if ev.name else folder
        group = scan_group(path, self.roots, folder=not ev.name or bool(ev.mask & IN_ISDIR))
        if group is None:
            return
        if not ev.name:  # the watched folder itself: deleted, moved or unmounted
            if ev.mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT):
                self._batch.add(group, now)
            return
        gone = path if ev.mask & (IN_DELETE | IN_MOVED_FROM) else None
        if ev.mask & IN_ISDIR:
            if ev.mask & IN_MOVED_FROM:  # its watches now point at a folder elsewhere (or here, under a new name)
                self._unwatch_tree(path)
            if ev.mask & (IN_CREATE | IN_MOVED_TO):
                self._watch_tree(path)
            if ev.mask & (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE):
                self._batch.add(group, now, gone)
            return
        if not matters(ev.name):
            return
        if ev.mask & IN_CREATE and not _is_link(path):
            return  # being written: its IN_CLOSE_WRITE follows
        self._batch.add(group, now, gone)

    def _check_roots(self) -> None:
        """A library folder that is another folder now (its drive mounted again) or that appeared: watch
        it anew and hand it on whole (what it holds came with no event)."""
        for root in self.roots:
            now_id = _identity(root)
            if now_id == self._root_ids.get(root):
                continue
            self._root_ids[root] = now_id
            if now_id is not None:
                self._unwatch_tree(root)  # what is left of the old one (the kernel dropped most on unmount)
                self._watch_tree(root)
            self._batch.add(root, self._clock())

    def _watch_tree(self, top: str) -> None:
        """Watch ``top`` and every folder under it (links to folders once; loops skipped)."""
        if self._limited or self._inotify is None:
            return
        seen: set[tuple[int, int]] = set()
        stack = [top]
        while stack and not self._stop.is_set():
            folder = stack.pop()
            try:
                st = os.stat(folder)
                if (st.st_dev, st.st_ino) in seen:
                    continue
                seen.add((st.st_dev, st.st_ino))
                self._paths[self._inotify.add_folder(folder)] = folder
                with os.scandir(folder) as it:
                    stack.extend(e.path for e in it if _is_folder(e))
            except WatchLimitError:
                self._limited = True
                limit = inotify.max_watches()
                self._on_notice(
                    f"Watching {len(self._paths):,} folders of the library for changes: the system allows no more"
                    + (f" (fs.inotify.max_user_watches = {limit:,})" if limit else "")
                    + "; changes in the others show after a rescan"
                )
                return
            except OSError:
                continue  # unreadable or gone: the scan reports what it cannot list

    def _unwatch_tree(self, top: str) -> None:
        assert self._inotify is not None
        for wd, folder in list(self._paths.items()):
            if is_under(folder, top):
                self._inotify.remove(wd)
                del self._paths[wd]


def _identity(path: str) -> tuple[int, int] | None:
    """(device, inode) of a folder, or None when it is not there."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISDIR(st.st_mode) else None


def _is_folder(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _is_link(path: str) -> bool:
    """A symbolic or a second hard link: complete when it appears (a copy is not)."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISLNK(st.st_mode) or st.st_nlink > 1


class Follower:
    """A :class:`FolderWatcher` kept on the folders ``roots()`` names (none: the watch is off), for a
    host: :meth:`follow` after anything that may change them (a scan, a setting) re-aims it. Where
    inotify is missing it says so once through ``on_notice``."""

    def __init__(
        self,
        roots: Callable[[], list[str]],
        on_change: Callable[[Changes], None],
        on_notice: Callable[[str], None] | None = None,
    ) -> None:
        self._wanted = roots
        self._on_change = on_change
        self._on_notice = on_notice or (lambda _m: None)
        self._watcher: FolderWatcher | None = None
        self._roots: list[str] = []
        self._said_unavailable = False
        self._lock = threading.Lock()  # follow() and close() may come from different threads

    @property
    def roots(self) -> list[str]:
        """The folders watched now."""
        return list(self._roots)

    def follow(self) -> None:
        with self._lock:
            roots = self._wanted()
            if roots == self._roots:
                return
            self._close()
            if not roots:
                return
            if not inotify.available():
                if not self._said_unavailable:
                    self._said_unavailable = True
                    self._on_notice("This system cannot watch folders: new music shows after a rescan")
                return
            watcher = FolderWatcher(roots, self._on_change, self._on_notice)
            try:
                watcher.start()
            except OSError as exc:
                self._on_notice(f"Cannot watch the music folders ({exc.strerror or exc}): rescan to see changes")
                return
            self._watcher, self._roots = watcher, roots
            log.info("watching %d music folder(s) for changes", len(roots))

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until every folder there when the watch started is watched (True), or the watch is off."""
        watcher = self._watcher
        return watcher is None or watcher.ready.wait(timeout)

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
        self._watcher, self._roots = None, []
