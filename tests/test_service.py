"""`player-plugin serve`: the engine as a local service, tested over its real UNIX socket.

The library is the demo library, scanned and embedded with the real model into a real SQLite file;
clients are the stdlib client hosts copy (hosts/service_client.py) and raw sockets for what a broken
client sends.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from player_plugin.engine import Engine
from player_plugin.hosts.service import EngineService, ServiceStartError
from player_plugin.hosts.service_client import ServiceClient, ServiceError
from player_plugin.library import inotify
from player_plugin.store import Database
from tests.cd_image import make_image
from tests.conftest import embedded_demo_library, make_track
from tests.host_tools import listening_tcp_inodes, our_socket_inodes, wait_for

WAIT_S = 20.0


@pytest.fixture(scope="module")
def library_db(tmp_path_factory) -> Path:
    """The demo library, scanned and embedded once for the module (tests copy it)."""
    root = tmp_path_factory.mktemp("service_lib")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(root / "home"))
        mp.setenv("XDG_CACHE_HOME", str(root / "home" / ".cache"))
        return embedded_demo_library(root)


class Served:
    def __init__(self, db: Path, sock: Path) -> None:
        self.engine = Engine(Database(db))
        self.service = EngineService(self.engine, sock)
        self.service.bind()
        self.thread = threading.Thread(target=self.service.serve_forever, daemon=True)
        self.thread.start()
        self.path = str(sock)
        self.db = db

    def stop(self) -> None:
        self.service.stop()
        self.thread.join(10)
        self.engine.close()
        assert not self.thread.is_alive()

    def rows(self) -> list[tuple[str, float | None]]:
        db = Database(self.db)
        try:
            return [(r[0], r[1]) for r in db.conn.execute("SELECT kind, position_s FROM events ORDER BY id")]
        finally:
            db.close()


@pytest.fixture
def served(library_db, tmp_path):
    db = tmp_path / "library.db"
    shutil.copy(library_db, db)
    s = Served(db, tmp_path / "run" / "engine.sock")
    yield s
    s.stop()


def raw(path: str) -> tuple[socket.socket, object]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(WAIT_S)
    sock.connect(path)
    return sock, sock.makefile("rb")


def ask(sock: socket.socket, reader, line: bytes) -> dict:
    sock.sendall(line)
    return json.loads(reader.readline())


def test_a_host_reports_plays_and_skips_and_gets_picks_with_reasons(served):
    with ServiceClient(served.path) as client:
        assert client.hello["protocol"] == 1 and client.hello["tracks"] == 32
        picks = client.call("picks", n=4, queued=[])["entries"]
        assert len(picks) == 4 and all(p["reason"] and os.path.isfile(p["path"]) for p in picks)
        first, second = picks[0], picks[1]
        # what the host has queued is never picked again
        again = client.call("picks", n=4, queued=[first["path"], second["track"]])["entries"]
        assert {first["track"], second["track"]}.isdisjoint(e["track"] for e in again) and len(again) == 4

        assert client.call("track_started", path=first["path"])["recorded"] == "play"
        ended = client.call("track_ended", path=first["path"], position_s=4.0, duration_s=200.0, reason="next")
        assert ended["recorded"] == "skip"
        # the engine's one rule: a song the listener left this late counts as played
        client.call("track_started", track=second["track"], via="quodlibet")
        late = client.call("track_ended", track=second["track"], position_s=190.0, duration_s=200.0, reason="next")
        assert late["recorded"] == "complete"
        assert client.call("track_ended", track=second["track"], position_s=200.0, duration_s=200.0) == {
            "track": second["track"],
            "recorded": None,  # once per play
        }
        assert client.call("feedback", path=first["path"], kind="dislike")["recorded"] == "dislike"
        assert client.call("ping") == "pong"
        entries = client.call("up_next", n=5)["entries"]
        assert len(entries) == 5 and first["track"] not in {e["track"] for e in entries}
        fits = client.call("similar", text="rainy night, mellow", n=3)["entries"]
        assert len(fits) == 3 and all(isinstance(f["score"], float) for f in fits)
    assert served.rows() == [("play", None), ("skip", 4.0), ("play", None), ("complete", 190.0), ("dislike", None)]


def test_every_bad_request_gets_one_error_and_the_connection_goes_on(served):
    sock, reader = raw(served.path)
    try:

        def error(line: bytes) -> dict:
            reply = ask(sock, reader, line)
            assert set(reply) == {"id", "error"} and reply["error"]["message"], reply
            return reply

        assert error(b"{not json\n")["error"]["code"] == "bad_json"
        assert error("\xff\xfe garbage\n".encode("latin-1"))["error"]["code"] == "bad_json"
        assert error(b"[1, 2]\n")["error"]["code"] == "bad_request"
        assert error(b'{"id": 7, "args": {}}\n') == {"id": 7, "error": error(b'{"id": 7}\n')["error"]}
        unknown = error(b'{"id": 1, "call": "rm_rf", "args": {}}\n')
        assert (
            unknown["id"] == 1 and unknown["error"]["code"] == "unknown_call" and "picks" in unknown["error"]["message"]
        )
        for args in (
            {"n": "ten"},  # wrong type
            {"n": True},  # a bool is no count
            {"n": 0},
            {"n": 10**9},
            {"count": 3},  # no such argument
            {"queued": "not a list"},
        ):
            line = json.dumps({"id": 2, "call": "picks", "args": args}).encode() + b"\n"
            assert error(line)["error"]["code"] == "bad_args", args
        for args in ({"path": "/no/such/file.mp3"}, {"track": 10**6}):
            line = json.dumps({"id": 3, "call": "track_started", "args": args}).encode() + b"\n"
            assert error(line)["error"]["code"] == "not_found"
        both = json.dumps({"id": 4, "call": "track_ended", "args": {"track": 1, "path": "/x"}}).encode() + b"\n"
        assert error(both)["error"]["code"] == "bad_args"
        nan = b'{"id": 5, "call": "track_ended", "args": {"track": 1, "position_s": NaN}}\n'
        assert error(nan)["error"]["code"] == "bad_args"
        future = b'{"id": 6, "call": "hello", "args": {"protocol": 99}}\n'
        assert error(future)["error"]["code"] == "unsupported_protocol"
        # and the same connection still works
        assert ask(sock, reader, b'{"id": 9, "call": "ping"}\n') == {"id": 9, "result": "pong"}
        # a line over 1 MiB: refused, that connection closed, the service goes on
        sock.sendall(b'{"id": 10, "call": "ping", "args": {"x": "' + b"a" * (1 << 20) + b'"}}\n')
        assert json.loads(reader.readline())["error"]["code"] == "too_long"
        assert reader.readline() == b""
    finally:
        sock.close()
    with ServiceClient(served.path) as client:
        assert client.call("ping") == "pong"
    assert served.rows() == []  # nothing stored by any of it


def test_clients_that_go_away_mid_call_leave_the_service_running(served):
    half, reader = raw(served.path)
    half.sendall(b'{"id": 1, "call": "pi')  # half a line, then gone
    reader.close()
    half.close()
    for _ in range(3):  # a whole call, and gone before the reply
        gone = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        gone.connect(served.path)
        gone.sendall(b'{"id": 1, "call": "picks", "args": {"n": 10}}\n')
        gone.close()
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)  # connected, says nothing
    silent.connect(served.path)
    with ServiceClient(served.path) as client:
        assert client.call("picks", n=2)["entries"]
        assert served.thread.is_alive()
    silent.close()
    wait_for(lambda: not served.service._connections, "the connections to close")


def test_subscribers_get_the_engines_events(served):
    events: list[tuple[str, dict]] = []
    with ServiceClient(served.path, on_event=lambda e, d: events.append((e, d))) as listener:
        assert listener.call("subscribe", events=["prompt_changed", "now_playing_changed"])["events"] == [
            "now_playing_changed",
            "prompt_changed",
        ]
        with pytest.raises(ServiceError) as bad:
            listener.call("subscribe", events=["everything"])
        assert bad.value.code == "bad_args"
        with ServiceClient(served.path) as other:
            assert other.call("set_prompt", text="  rainy night  ") == {"prompt": "rainy night"}
            track = other.call("picks", n=1)["entries"][0]["track"]
            other.call("track_started", track=track)
            other.call("set_prompt", text="")
        wait_for(lambda: len(events) >= 3, "three events")
    assert events == [
        ("prompt_changed", {"prompt": "rainy night"}),
        ("now_playing_changed", {"track": track}),
        ("prompt_changed", {"prompt": None}),
    ]


def test_a_service_started_again_mid_song_records_that_songs_end_once(served, tmp_path):
    with ServiceClient(served.path) as client:
        song = client.call("picks", n=1)["entries"][0]
        client.call("track_started", path=song["path"])
    served.stop()  # killed mid-song; a new one on the same library
    again = Served(served.db, tmp_path / "run2" / "engine.sock")
    try:
        with ServiceClient(again.path) as client:
            resumed = client.call("track_started", path=song["path"], resume=True)
            assert resumed["recorded"] is None  # the play stored before is the one still going
            ended = client.call(
                "track_ended", path=song["path"], position_s=5.0, duration_s=100.0, reason="next", resume=True
            )
            assert ended["recorded"] == "skip"
            other = client.call("picks", n=1, queued=[song["track"]])["entries"][0]
            # a resume that is no resume (the song's play is not the last thing stored) records the play
            assert client.call("track_started", track=other["track"], resume=True)["recorded"] == "play"
    finally:
        again.stop()
        served.thread.join(0)
    assert again.rows() == [("play", None), ("skip", 5.0), ("play", None)]
    served.stop = lambda: None  # already stopped


def test_the_socket_is_private_local_and_one_service_per_socket(served, tmp_path):
    path = Path(served.path)
    assert stat.S_ISSOCK(path.stat().st_mode) and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not our_socket_inodes() & listening_tcp_inodes()  # nothing of ours listens on TCP

    second = EngineService(served.engine, path)
    with pytest.raises(ServiceStartError, match="already running"):
        second.bind()
    # a socket file nobody listens on (a service that died) is replaced
    stale = tmp_path / "stale" / "engine.sock"
    stale.parent.mkdir(mode=0o700)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(stale))
    dead.close()
    EngineService(served.engine, stale).bind()
    # a file of the user's is never taken for a socket
    notes = tmp_path / "notes" / "engine.sock"
    notes.parent.mkdir(mode=0o700)
    notes.write_text("mine")
    with pytest.raises(ServiceStartError, match="not a socket"):
        EngineService(served.engine, notes).bind()
    assert notes.read_text() == "mine"
    # a folder others can write to is refused
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(ServiceStartError, match="private"):
        EngineService(served.engine, shared / "engine.sock").bind()
    with pytest.raises(ServiceStartError, match="too long"):
        EngineService(served.engine, tmp_path / ("x" * 120) / "engine.sock").bind()


def test_serve_and_prompt_from_the_command_line(library_db, tmp_path):
    db = tmp_path / "library.db"
    shutil.copy(library_db, db)
    sock = tmp_path / "run" / "engine.sock"
    cli = [sys.executable, "-m", "player_plugin.cli", "--db", str(db)]
    proc = subprocess.Popen([*cli, "serve", "--socket", str(sock)], stderr=subprocess.PIPE, text=True)
    try:
        wait_for(sock.exists, "the service's socket", timeout=60)
        busy = subprocess.run([*cli, "serve", "--socket", str(sock)], capture_output=True, text=True, timeout=60)
        assert busy.returncode == 1 and "already running" in busy.stderr and "Traceback" not in busy.stderr
        sent = subprocess.run(
            [*cli, "prompt", "rainy night", "--service", str(sock)], capture_output=True, text=True, timeout=60
        )
        assert sent.returncode == 0 and "prompt sent" in sent.stdout, sent.stderr
        with ServiceClient(str(sock)) as client:
            assert client.call("prompt") == {"prompt": "rainy night"}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert not sock.exists()  # cleaned up
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    gone = subprocess.run([*cli, "prompt", "x", "--service", str(sock)], capture_output=True, text=True, timeout=60)
    assert gone.returncode == 1 and "no service at" in gone.stderr and len(gone.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(not inotify.available(), reason="inotify is Linux's (other systems rescan on start)")
def test_the_service_watches_the_library_folders_and_scans_what_changes(tmp_path):
    """Quod Libet's plugin (or any client) gets new music without asking: the service watches the
    library folders as the app does, scans and embeds what changed, and says so in ``scan`` events."""
    music = tmp_path / "Music"
    make_track(music / "Anna", "Rain", "mp3", title="Rain", artist="Anna")
    engine = Engine(Database(tmp_path / "library.db"))  # the model the service's engine runs
    engine.scan([music])
    engine.embed()
    engine.close()
    s = Served(tmp_path / "library.db", tmp_path / "run" / "engine.sock")
    events: list[tuple[str, dict]] = []
    try:
        with ServiceClient(s.path, on_event=lambda e, d: events.append((e, d))) as client:
            client.call("subscribe", events=["scan"])
            wait_for(lambda: s.service._watch.roots == [str(music)], "the watch on the library folder")
            make_track(music / "Bo", "Night", "ogg", title="Night", artist="Bo")
            wait_for(lambda: ("scan", {"phase": "done", "embedded": 1}) in events, "the new track scanned, embedded")
            assert ("scan", {"phase": "scanned", "tracks": 2, "added": 1, "failed": 0}) in events
            assert {e["title"] for e in client.call("picks", n=5)["entries"]} == {"Rain", "Night"}
    finally:
        s.stop()


def test_picks_within_a_hosts_own_folders(served):
    """A host whose own library is part of ours (Quod Libet's folders) gets only what it can play."""
    (root,) = served.engine.roots()
    folder = os.path.join(root, "林夕雨")
    with ServiceClient(served.path) as client:
        entries = client.call("picks", n=10, within=[folder])["entries"]
        assert entries and all(e["path"].startswith(folder + os.sep) for e in entries)
        assert any(not e["path"].startswith(folder + os.sep) for e in client.call("picks", n=10)["entries"])
        with pytest.raises(ServiceError) as bad:
            client.call("picks", n=3, within=[1])
        assert bad.value.code == "bad_args"


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg to encode the CD image")
def test_a_host_of_whole_files_gets_no_track_of_a_cue_sheet(tmp_path):
    """Quod Libet plays whole files: asked with ``whole_files``, no pick is a part of an image."""
    music = tmp_path / "Music"
    for i in range(3):
        make_track(music / "Anna", f"Song {i}", "mp3", title=f"Song {i}", artist="Anna")
    make_image(music / "Image" / "CDImage.flac", (440, 550, 660), 4.0)
    (music / "Image" / "CDImage.cue").write_text(
        'FILE "CDImage.flac" WAVE\n'
        + "".join(
            f'  TRACK 0{n} AUDIO\n    TITLE "Part {n}"\n    INDEX 01 00:{4 * (n - 1):02d}:00\n' for n in (1, 2, 3)
        ),
        encoding="utf-8",
    )
    engine = Engine(Database(tmp_path / "library.db"))
    engine.scan([music])
    engine.embed()
    engine.close()
    s = Served(tmp_path / "library.db", tmp_path / "run" / "engine.sock")
    try:
        with ServiceClient(s.path) as client:
            every = {e["title"] for e in client.call("picks", n=6)["entries"]}
            assert {"Part 1", "Part 2", "Part 3"} <= every
            whole = client.call("picks", n=6, whole_files=True)["entries"]
            assert {e["title"] for e in whole} == {"Song 0", "Song 1", "Song 2"}
            with pytest.raises(ServiceError) as bad:
                client.call("picks", n=3, whole_files="yes")
            assert bad.value.code == "bad_args"
    finally:
        s.stop()
