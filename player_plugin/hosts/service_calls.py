"""The calls ``player-plugin serve`` answers (protocol in docs/service.md): each checks its arguments
and calls the engine, the one place that decides. Hosts name tracks by library id or by file path
(a player knows its files, not our ids)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from player_plugin import __version__
from player_plugin.listening import ENDED
from player_plugin.models import EventKind, QueueEntry, Track

if TYPE_CHECKING:
    from player_plugin.engine import Engine

PROTOCOL = 1  # bumped when a call or a reply changes incompatibly (docs/service.md)
MAX_PICKS = 100  # one picks/up_next call asks for at most this many tracks
MAX_QUEUED = 10_000  # the most tracks a host may list as already queued
FEEDBACK_KINDS = (EventKind.LIKE, EventKind.DISLIKE, EventKind.BLOCK, EventKind.COMPLETE, EventKind.SKIP)
END_REASONS = (ENDED, "next", "stopped", "previous", "queue", "library")


class CallError(Exception):
    """A call the service refuses: ``code`` is the error's kind in the reply (docs/service.md)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Call:
    fn: Callable[..., Any]
    args: dict[str, tuple[type, ...]]  # name -> accepted JSON types
    required: tuple[str, ...] = ()
    locked: bool = True  # runs under the engine lock (everything but the background scan's start)


class Args:
    """A call's arguments, checked against its declaration."""

    def __init__(self, name: str, call: Call, raw: object) -> None:
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise CallError("bad_args", f"{name}: args must be an object")
        unknown = sorted(set(raw) - set(call.args))
        if unknown:
            takes = ", ".join(call.args) or "none"
            raise CallError("bad_args", f"{name}: unknown argument {unknown[0]!r} (takes {takes})")
        for key in call.required:
            if raw.get(key) is None:
                raise CallError("bad_args", f"{name}: missing argument {key!r}")
        for key, value in raw.items():
            types = call.args[key]
            if value is not None and (not isinstance(value, types) or isinstance(value, bool) and bool not in types):
                kinds = " or ".join(t.__name__.replace("str", "string").replace("float", "number") for t in types)
                raise CallError("bad_args", f"{name}: {key!r} must be a {kinds}")
        self.name = name
        self.raw = raw

    def get(self, key: str, default: Any = None) -> Any:
        value = self.raw.get(key)
        return default if value is None else value


def track_ref(engine: Engine, args: Args, track_key: str = "track", path_key: str = "path") -> Track:
    """The library track a call names: ``track`` (id) or ``path`` (the file, as the player knows it)."""
    track_id, path = args.get(track_key), args.get(path_key)
    if (track_id is None) == (path is None):
        raise CallError("bad_args", f"{args.name}: give either {track_key!r} (an id) or {path_key!r} (a file)")
    if track_id is not None:
        track = engine.tracks.get(int(track_id))
    else:
        track = engine.tracks.by_path(path) or engine.tracks.by_path(os.path.realpath(path))
    if track is None:
        what = f"track {track_id}" if path is None else f"file {path!r}"
        raise CallError("not_found", f"{what} is not in the library (scan its folder first)")
    return track


def entry_json(engine: Engine, entry: QueueEntry) -> dict[str, Any] | None:
    track = engine.tracks.get(entry.track_id)
    if track is None:
        return None
    return {
        "track": track.id,
        "path": track.path,
        "title": track.tags.title,
        "artist": track.tags.artist,
        "album": track.tags.album,
        "reason": entry.reason,
        "manual": entry.manual,
    }


def entries_json(engine: Engine, entries: list[QueueEntry]) -> list[dict[str, Any]]:
    return [e for e in (entry_json(engine, x) for x in entries) if e is not None]


def _count(args: Args, key: str = "n", default: int = 10) -> int:
    n = int(args.get(key, default))
    if not 1 <= n <= MAX_PICKS:
        raise CallError("bad_args", f"{args.name}: {key!r} must be between 1 and {MAX_PICKS}")
    return n


def _position(args: Args, key: str) -> float | None:
    value = args.get(key)
    if value is None:
        return None
    value = float(value)
    if not 0.0 <= value < 1e7:  # a week is the longest track we believe in; NaN fails both
        raise CallError("bad_args", f"{args.name}: {key!r} must be seconds, at least 0")
    return value


# -- the calls -------------------------------------------------------------------------------------


def hello(engine: Engine, args: Args) -> dict[str, Any]:
    wanted = int(args.get("protocol", PROTOCOL))
    if wanted > PROTOCOL:
        raise CallError("unsupported_protocol", f"this service speaks protocol {PROTOCOL}, the client wants {wanted}")
    return {
        "service": "player-plugin",
        "protocol": PROTOCOL,
        "version": __version__,
        "tracks": engine.library_counts().tracks,
        "prompt": engine.prompt,
    }


def track_started(engine: Engine, args: Args) -> dict[str, Any]:
    """``resume``: the host reports a song that was already playing when it (re)connected; its play is
    recorded unless the engine knows it is playing (a service started again mid-song does not)."""
    track = track_ref(engine, args)
    if args.get("resume", False) and engine.resume_play(track.id):
        return {"track": track.id, "recorded": None}
    engine.track_started(track.id, via=str(args.get("via", "host")))
    return {"track": track.id, "recorded": "play"}


def track_ended(engine: Engine, args: Args) -> dict[str, Any]:
    track = track_ref(engine, args)
    if args.get("resume", False):
        engine.resume_play(track.id)  # a service started again mid-song: the play stored before ends now
    reason = str(args.get("reason", ENDED))
    if reason not in END_REASONS:
        raise CallError("bad_args", f"track_ended: reason must be one of {', '.join(END_REASONS)}")
    kind = engine.track_ended(track.id, _position(args, "position_s"), _position(args, "duration_s"), reason=reason)
    return {"track": track.id, "recorded": None if kind is None else str(kind)}


def feedback(engine: Engine, args: Args) -> dict[str, Any]:
    track = track_ref(engine, args)
    try:
        kind = EventKind(str(args.get("kind")))
    except ValueError:
        kind = None
    if kind not in FEEDBACK_KINDS:
        raise CallError("bad_args", f"feedback: kind must be one of {', '.join(map(str, FEEDBACK_KINDS))}")
    engine.record(track.id, kind, _position(args, "position_s"))
    return {"track": track.id, "recorded": str(kind)}


def up_next(engine: Engine, args: Args) -> dict[str, Any]:
    return {"entries": entries_json(engine, engine.up_next(_count(args)))}


def picks(engine: Engine, args: Args) -> dict[str, Any]:
    """For a host that keeps its own queue: ``n`` picks, none of what it lists in ``queued``, and with
    ``within`` only files under those folders (the host's own library: a track it lacks is no pick);
    ``whole_files``: no track of a CUE sheet (a host that plays only whole files)."""
    queued_raw = args.get("queued", [])
    refs_ok = all(isinstance(q, (int, str)) and not isinstance(q, bool) for q in queued_raw)
    if len(queued_raw) > MAX_QUEUED or not refs_ok:
        raise CallError("bad_args", f"picks: 'queued' must be at most {MAX_QUEUED} track ids or file paths")
    queued: set[int] = set()
    for ref in queued_raw:
        track = engine.tracks.get(ref) if isinstance(ref, int) else engine.tracks.by_path(ref)
        if track is not None:  # a song we do not know cannot be picked anyway
            queued.add(track.id)
    within = args.get("within", [])
    if not all(isinstance(f, str) and f for f in within):
        raise CallError("bad_args", "picks: 'within' must be a list of folders")
    folders = tuple(os.path.abspath(os.path.expanduser(f)) for f in within)
    whole_files = args.get("whole_files", False)
    if not isinstance(whole_files, bool):
        raise CallError("bad_args", "picks: 'whole_files' must be true or false")
    entries = engine.picks(_count(args), queued, within=folders, whole_files=whole_files)
    return {"entries": entries_json(engine, entries)}


def set_prompt(engine: Engine, args: Args) -> dict[str, Any]:
    text = str(args.get("text", "")).strip()
    engine.set_prompt(text or None)
    return {"prompt": engine.prompt}


def prompt(engine: Engine, args: Args) -> dict[str, Any]:
    return {"prompt": engine.prompt}


def similar(engine: Engine, args: Args) -> dict[str, Any]:
    text = str(args.get("text")).strip()
    if not text:
        raise CallError("bad_args", "similar: 'text' is empty")
    out = []
    for track, score in engine.similar(text, _count(args)):
        out.append({"track": track.id, "path": track.path, "title": track.tags.title,
                    "artist": track.tags.artist, "score": round(score, 6)})  # fmt: skip
    return {"entries": out}


def ping(engine: Engine, args: Args) -> str:
    return "pong"


CALLS: dict[str, Call] = {
    "hello": Call(hello, {"protocol": (int,), "client": (str,)}),
    "ping": Call(ping, {}, locked=False),
    "track_started": Call(track_started, {"track": (int,), "path": (str,), "via": (str,), "resume": (bool,)}),
    "track_ended": Call(
        track_ended,
        {
            "track": (int,),
            "path": (str,),
            "position_s": (int, float),
            "duration_s": (int, float),
            "reason": (str,),
            "resume": (bool,),
        },
    ),
    "feedback": Call(
        feedback, {"track": (int,), "path": (str,), "kind": (str,), "position_s": (int, float)}, ("kind",)
    ),
    "up_next": Call(up_next, {"n": (int,)}),
    "picks": Call(picks, {"n": (int,), "queued": (list,), "within": (list,), "whole_files": (bool,)}),
    "set_prompt": Call(set_prompt, {"text": (str,)}),
    "prompt": Call(prompt, {}),
    "similar": Call(similar, {"text": (str,), "n": (int,)}, ("text",)),
}
