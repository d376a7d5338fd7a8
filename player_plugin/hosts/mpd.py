"""``player-plugin mpd``: keep a running MPD's queue filled, learning from what it plays and skips.

The host only reports and displays (the engine decides, docs/architecture.md): it waits on MPD's
``idle`` (player, playlist, options, message), and on each change reads ``status``:

* **what played** — when the current song changes or playback stops, the song that was current ends
  at its position (the last ``elapsed`` read, plus the wall time since when it was playing), reported
  with ``Engine.track_ended``: ``"ended"`` when it got within :data:`END_SLACK_S` of its end (MPD moved
  on by itself), ``"next"`` otherwise — the engine's one rule says complete or skip. The new song is
  reported with ``track_started``;
* **the queue** — ``keep`` songs after the current one: when fewer are left, Up Next's picks are
  appended by URI (never removing or moving what the user queued), and if playback had run dry while
  playing it starts again (ashuffle's rule). In ``random`` mode the host only observes (the order of
  the queue is not the play order there). Only songs MPD's database holds are picked: a file our
  scan read that MPD has not (its ``update`` not run yet, a format it does not play) is unplayable
  for the engine, never an ``add`` that MPD refuses. A track of a CUE sheet is MPD's own song of it
  (``<sheet>.cue/trackNNNN``) where MPD lists one; else (a sheet in the tags, or one MPD cannot
  resolve) its image is added with MPD's ``rangeid`` set to the track's stretch, and the song id tells
  which track plays;
* **the library** — MPD's music folder is scanned into ours (then embedded) at the start, and again
  whenever MPD's database changes (its ``database`` idle; on reconnecting, a ``db_update`` time that
  moved while the host was away), so what ``mpc update`` (or MPD's ``auto_update``) adds can be picked at once.

A prompt comes with ``--prompt`` or live, as a client-to-client message on the channel
:data:`CHANNEL` (``mpc sendmessage player-plugin "rainy night"``; an empty message clears it). The
host reconnects with back-off when MPD goes away and stops cleanly on ``stop()`` (SIGINT/SIGTERM in
the CLI), which wakes its ``idle`` with a message on the same channel.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from player_plugin.engine import Engine
from player_plugin.listening import ENDED

log = logging.getLogger(__name__)
logging.getLogger("mpd").setLevel(logging.WARNING)  # python-mpd2 logs every connect at INFO

CHANNEL = "player-plugin"  # the client-to-client channel for prompts (and the host's own wake-up)
WAKE = "<player-plugin:stop>"  # what stop() sends on CHANNEL to wake its own idle: no prompt anyone types
END_SLACK_S = 2.0  # this close to the end, a song MPD moved on from played out
SKIP_REASON = "next"
TOP_UP_ROUNDS = 3  # picks asked again in one top-up when MPD refused some (a file gone from its database)
IDLE_EVENTS = ("player", "playlist", "options", "message", "database")


@dataclass(frozen=True)
class MpdTarget:
    """Where MPD is: a UNIX socket path, or host and port (MPD_HOST / MPD_PORT, like mpc)."""

    host: str
    port: int = 6600

    @classmethod
    def from_env(cls, socket: str | None = None, host: str | None = None, port: int | None = None) -> MpdTarget:
        if socket:
            return cls(socket)
        host = host or os.environ.get("MPD_HOST") or "localhost"
        if "@" in host and not host.startswith("@"):
            host = host.split("@", 1)[1]  # password@host: a password is not supported (said in the README)
        return cls(host, int(port or os.environ.get("MPD_PORT") or 6600))

    @property
    def is_socket(self) -> bool:
        return self.host.startswith(("/", "@"))


@dataclass
class _Playing:
    song_id: str
    track_id: int | None
    duration: float
    elapsed: float
    playing: bool
    at: float  # monotonic time of the reading

    def position(self, now: float) -> float:
        return self.elapsed + (now - self.at if self.playing else 0.0)


def _connect(target: MpdTarget) -> Any:
    import mpd

    client = mpd.MPDClient()
    client.timeout = 10
    if target.is_socket:
        client.connect(target.host)
    else:
        client.connect(target.host, target.port)
    return client


class MpdHost:
    """Runs until :meth:`stop`: observes MPD, reports to the engine, keeps ``keep`` songs queued."""

    def __init__(
        self,
        engine: Engine,
        target: MpdTarget,
        music_dir: str | os.PathLike[str] | None = None,
        keep: int = 5,
        connect: Callable[[MpdTarget], Any] = _connect,
        clock: Callable[[], float] = time.monotonic,
        backoff: tuple[float, float] = (0.5, 30.0),
    ) -> None:
        self.engine = engine
        self.target = target
        self.music_dir = Path(music_dir).expanduser().resolve() if music_dir else None
        self.keep = keep
        self._connect = connect
        self._clock = clock
        self._backoff = backoff
        self._stop = threading.Event()
        self._current: _Playing | None = None
        self._ids: dict[str, int] = {}  # MPD URI -> track id (every library track under the music folder)
        self._uris: dict[int, str] = {}  # track id -> URI, for the songs MPD's database holds
        # track id -> (the image's URI, "start:end" for rangeid): a CUE sheet's track MPD has no song for
        self._ranges: dict[int, tuple[str, str]] = {}
        self._ranged: dict[str, int] = {}  # MPD song id -> track id, for the songs added with a range
        self.unplayable: frozenset[int] = frozenset()  # library tracks MPD cannot queue (no URI in its database)
        self._synced_at: str | None = None  # MPD's db_update when the library was last synced with it
        self._ours: set[str] = set()  # MPD song ids this host added (a new prompt may replace those not yet played)
        self.connected = threading.Event()
        self.reconnects = 0

    # -- the library ------------------------------------------------------------------------------

    def sync_library(self, client: Any) -> None:
        """Scan MPD's music folder into the library (and embed what is new); map URIs to track ids,
        keeping as playable only the songs MPD's database holds."""
        if self.music_dir is None:
            if not self.target.is_socket:
                raise ValueError("MPD tells its music folder only over a local socket: pass --music-dir")
            self.music_dir = Path(client.config()).resolve()
        synced_at = client.stats().get("db_update")
        self.engine.scan([self.music_dir])
        self.engine.embed()
        root = str(self.music_dir)
        # (id, path, and for a CUE sheet's track its image and "start:end" as MPD's rangeid takes it)
        library = [
            (t.id, t.path, t.file, f"{t.start_s:.3f}:" + ("" if t.end_s is None else f"{t.end_s:.3f}"))
            for t in self.engine.tracks.iter_all()
        ]
        inside = [row for row in library if row[1].startswith(root + os.sep)]
        self._ids = {os.path.relpath(path, root): tid for tid, path, _, _ in inside}
        known = _database_files(client)
        self._uris = {tid: uri for uri, tid in self._ids.items() if uri in known}
        self._ranges = {
            tid: (image, span)
            for tid, _, file, span in inside
            if file and tid not in self._uris and (image := os.path.relpath(file, root)) in known
        }
        playable = self._uris.keys() | self._ranges.keys()
        self.unplayable = frozenset(tid for tid, *_ in library if tid not in playable)
        self._synced_at = synced_at
        log.info("library synced with MPD: %d songs it can queue, %d it cannot", len(self._uris), len(self.unplayable))

    def _learn_ranged(self, client: Any) -> None:
        """Which queued songs are CUE sheets' tracks played in part: song ids are MPD's, and a
        restarted MPD gives its restored queue new ones; each is known again by its file and range."""
        by_range = {(uri, span.split(":")[0]): tid for tid, (uri, span) in self._ranges.items()}
        self._ranged = {}
        for song in client.playlistinfo():
            start = str(song.get("range", "")).split("-")[0]
            tid = by_range.get((song.get("file", ""), start)) if start else None
            if tid is not None:
                self._ranged[str(song["id"])] = tid

    def _sync_if_changed(self, client: Any) -> None:
        """On (re)connecting: sync unless MPD's database is as it was at the last sync (its ``db_update``,
        in whole seconds, is only for this: a ``database`` idle always syncs)."""
        if not self._ids or client.stats().get("db_update") != self._synced_at:
            self.sync_library(client)

    # -- the loop -------------------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()
        # wake the idle with a message on our channel, from a connection of its own; if MPD is gone, the
        # loop is in its back-off sleep and sees the flag
        with contextlib.suppress(Exception):
            send_prompt(self.target, WAKE, self._connect)

    def run(self) -> None:
        delay = self._backoff[0]
        first = True
        while not self._stop.is_set():
            try:
                client = self._connect(self.target)
            except OSError as exc:
                log.info("MPD at %s not reachable (%s); trying again in %.1f s", self.target.host, exc, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, self._backoff[1])
                continue
            delay = self._backoff[0]
            if not first:
                self.reconnects += 1
            first = False
            try:
                self._session(client)
            except (OSError, ConnectionError) as exc:
                log.info("lost MPD (%s); reconnecting", exc)
            except Exception as exc:  # noqa: BLE001 - python-mpd2's errors: report, reconnect
                if type(exc).__module__.startswith("mpd"):
                    log.warning("MPD: %s; reconnecting", exc)
                else:
                    raise
            finally:
                self.connected.clear()
                self._current = None  # what happened while we were away is not known
                with contextlib.suppress(Exception):
                    client.disconnect()

    def _session(self, client: Any) -> None:
        client.subscribe(CHANNEL)
        self._sync_if_changed(client)
        self._learn_ranged(client)
        self.connected.set()
        self._observe(client)  # the state as we find it (the first idle would only say what changes)
        self._top_up(client, was_playing=False)
        while not self._stop.is_set():
            changed = client.idle(*IDLE_EVENTS)
            if "message" in changed:
                for m in client.readmessages():
                    if m.get("channel") == CHANNEL and m.get("message") != WAKE:
                        self._set_prompt(client, m.get("message", ""))
            if self._stop.is_set():
                break
            if "database" in changed:
                self.sync_library(client)
            was_playing = self._current is not None and self._current.playing
            self._observe(client)
            self._top_up(client, was_playing=was_playing)

    # -- observing -------------------------------------------------------------------------------

    def _observe(self, client: Any) -> None:
        status = client.status()
        now = self._clock()
        song_id = status.get("songid") if status.get("state") in ("play", "pause") else None
        cur = self._current
        if cur is not None and cur.song_id != song_id:
            position = min(cur.position(now), cur.duration) if cur.duration else cur.position(now)
            if cur.track_id is not None:
                ended = cur.duration > 0 and position >= cur.duration - END_SLACK_S
                self.engine.track_ended(
                    cur.track_id, position, cur.duration or None, reason=ENDED if ended else SKIP_REASON
                )
            cur = None
        if song_id is None:
            self._current = None
            return
        elapsed = float(status.get("elapsed") or 0.0)
        duration = float(status.get("duration") or 0.0)
        if cur is None:
            song = client.currentsong()
            track_id = self._ranged.get(song_id) or self._ids.get(song.get("file", ""))
            if track_id is not None:
                self.engine.track_started(track_id, via="mpd")
            cur = _Playing(song_id, track_id, duration, elapsed, status["state"] == "play", now)
        else:
            cur.elapsed, cur.playing, cur.at = elapsed, status["state"] == "play", now
        self._current = cur

    # -- the queue ------------------------------------------------------------------------------------

    def _top_up(self, client: Any, was_playing: bool) -> None:
        status = client.status()
        if status.get("random") == "1":
            return  # the queue's order is not the play order: observe only
        length = int(status.get("playlistlength", 0))
        position = int(status["song"]) if "song" in status else (length - 1 if was_playing else -1)
        missing = self.keep - (length - position - 1)
        if missing <= 0:
            return
        # the current song and what is still to come (a song played earlier in the queue may come again)
        coming = [s for s in client.playlistinfo() if int(s.get("pos", 0)) >= position]
        queued_ids = {self._ranged.get(s.get("id", "")) or self._ids.get(s.get("file", "")) for s in coming} - {None}
        added: list[str] = []
        for _ in range(TOP_UP_ROUNDS):  # another round only when MPD refused a pick
            refused = False
            for entry in self.engine.picks(missing - len(added), queued_ids, self.unplayable):
                song_id = self._add(client, entry.track_id)
                if song_id is None:
                    refused = True
                    continue
                added.append(song_id)
                self._ours.add(song_id)
                queued_ids.add(entry.track_id)
            if not refused or len(added) >= missing:
                break
        ran_dry = status.get("state") == "stop" and "song" not in status  # a stop by the user keeps its song
        if added and was_playing and ran_dry:
            client.playid(added[0])  # the queue ran dry while playing: go on (ashuffle's rule)

    def _add(self, client: Any, track_id: int) -> str | None:
        """Append the track to MPD's queue: its song id, or None when MPD refused it (the file left its
        database since the last sync), which makes the track unplayable until the database changes."""
        uri = self._uris.get(track_id)
        ranged = self._ranges.get(track_id)
        try:
            if uri is not None:
                return str(client.addid(uri))
            if ranged is not None:  # a CUE sheet's track MPD has no song for: its image, played in part
                uri = ranged[0]
                song_id = str(client.addid(uri))
                try:
                    client.rangeid(song_id, ranged[1])
                except Exception:  # an MPD without ranges: rather no song than the whole image
                    client.deleteid(song_id)
                    raise
                self._ranged[song_id] = track_id
                return song_id
        except Exception as exc:  # noqa: BLE001 - python-mpd2's CommandError; anything else goes on up
            if not _refused(exc):
                raise
            log.info("MPD cannot queue %s (%s): not picked again until its database changes", uri, exc)
        self._uris.pop(track_id, None)
        self._ranges.pop(track_id, None)
        self.unplayable = self.unplayable | {track_id}
        return None

    def _set_prompt(self, client: Any, text: str) -> None:
        """A new wish: the songs this host queued and that have not played yet answered the old one, so
        they go (the user's own songs stay where they are); the next top-up follows the new prompt."""
        self.engine.set_prompt(text.strip() or None)
        log.info("prompt: %s", text.strip() or "(cleared)")
        current = client.status().get("song")
        for song in client.playlistinfo():
            if song.get("id") in self._ours and (current is None or int(song["pos"]) > int(current)):
                client.deleteid(song["id"])
                self._ours.discard(song["id"])


def _database_files(client: Any) -> set[str]:
    """Every song URI MPD's database holds, listed one top folder at a time: a single ``listall`` of a
    big library can pass MPD's output buffer (``max_output_buffer_size``, 8 MiB by default)."""
    files: set[str] = set()
    for entry in client.lsinfo():
        if "file" in entry:
            files.add(entry["file"])
        elif "directory" in entry:
            files.update(e["file"] for e in client.listall(entry["directory"]) if "file" in e)
    return files


def _refused(exc: BaseException) -> bool:
    """Whether ``exc`` is MPD refusing one command (python-mpd2's CommandError), not a lost connection."""
    return type(exc).__name__ == "CommandError" and type(exc).__module__.startswith("mpd")


def send_prompt(target: MpdTarget, text: str, connect: Callable[[MpdTarget], Any] = _connect) -> None:
    """Reach a running ``player-plugin mpd`` through MPD (a message on :data:`CHANNEL`)."""
    client = connect(target)
    try:
        client.sendmessage(CHANNEL, text)
    finally:
        client.disconnect()
