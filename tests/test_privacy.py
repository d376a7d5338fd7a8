"""Privacy is a promise we test: the whole product path runs with the network made impossible.

scan → embed (the product's default encoder, multilingual-e5-small) → feedback → up-next, through
the CLI, with ``socket.socket``, ``socket.create_connection`` and ``socket.getaddrinfo`` replaced by
functions that count the attempt and raise. Every step must succeed and nothing may even try.
"""

from __future__ import annotations

import json
import shutil
import socket

import pytest

from player_plugin import cli
from player_plugin.nlp.encoder import DEFAULT_MODEL_ID
from player_plugin.paths import demo_library_dir


class NetworkAttempt(OSError):
    pass


@pytest.fixture
def no_network(monkeypatch):
    attempts: list[str] = []

    def refuse(name):
        def blocked(*args, **kwargs):
            attempts.append(f"{name}{args!r}")
            raise NetworkAttempt(f"network access attempted: {name}{args!r}")

        return blocked

    for name in ("socket", "create_connection", "getaddrinfo"):
        monkeypatch.setattr(socket, name, refuse(name))
    with pytest.raises(NetworkAttempt):  # the patch is live
        socket.create_connection(("example.org", 80))
    attempts.clear()
    return attempts


def run(capsys, *argv):
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_scan_embed_feedback_up_next_offline(tmp_path, capsys, no_network):
    assert DEFAULT_MODEL_ID == "multilingual-e5-small"
    lib = tmp_path / "Music"
    shutil.copytree(demo_library_dir(), lib)
    db = ["--db", str(tmp_path / "library.db")]

    code, out, err = run(capsys, "scan", str(lib), "--json", *db)
    assert code == 0, err
    assert json.loads(out)["added"] == 32

    code, out, err = run(capsys, "embed", "--json", "--cpu", *db)  # the default model
    assert code == 0, err
    report = json.loads(out)
    assert report["model"] == DEFAULT_MODEL_ID and report["embedded"] == 32

    code, out, err = run(capsys, "feedback", "雨夜的信", "like", "--comment", "下雨天听", *db)
    assert code == 0, err
    code, out, err = run(capsys, "feedback", "Strobe Heart", "skip", "--position", "3", *db)
    assert code == 0, err

    code, out, err = run(capsys, "up-next", "--json", "--prompt", "rainy night", *db)
    assert code == 0, err
    queue = json.loads(out)["queue"]
    assert len(queue) == 10 and all(e["reason"] for e in queue)

    code, out, err = run(capsys, "similar", "伤心的情歌", "--json", *db)
    assert code == 0, err

    assert no_network == [], f"the product tried to reach the network: {no_network}"
