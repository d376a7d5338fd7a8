"""CLI messages that name the step that is really missing, and refusals of input that cannot work."""

import json

import pytest

from player_plugin import cli, paths
from player_plugin.nlp.manifest import find_manifests
from tests.conftest import make_track

SCAN_HINT = "the library is empty: run `player-plugin scan DIR` first"


def run(capsys, *argv):
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def one_line_error(code, err):
    return code != 0 and err.count("\n") == 1 and err.startswith("player-plugin: error: ") and "Traceback" not in err


@pytest.fixture
def scanned(tmp_path, capsys):
    """A library of two tracks without vectors."""
    music = tmp_path / "Music"
    make_track(music, "one", "mp3", title="One", artist="Alpha")
    make_track(music, "two", "ogg", title="Two", artist="Beta")
    db = tmp_path / "lib.db"
    assert run(capsys, "scan", str(music), "--db", str(db))[0] == 0
    return db


@pytest.mark.parametrize(
    "argv", [["similar", "rainy night"], ["similar", "rain", "--json"], ["up-next"], ["feedback", "One", "like"]]
)
def test_empty_library_says_scan_first(argv, tmp_path, capsys):
    code, out, err = run(capsys, *argv, "--db", str(tmp_path / "new.db"))
    assert one_line_error(code, err) and SCAN_HINT in err and "embed" not in err and out == ""


@pytest.mark.parametrize("argv", [["similar", "rainy night"], ["up-next"], ["up-next", "--json"]])
def test_tracks_without_vectors_say_embed_first(argv, scanned, capsys):
    code, out, err = run(capsys, *argv, "--db", str(scanned))
    assert one_line_error(code, err) and out == ""
    assert "run `player-plugin embed` first" in err and "2 of 2 tracks" in err and "scan" not in err


@pytest.mark.parametrize("query", ["", "   ", "\t\n"])
def test_empty_query_is_refused(query, scanned, capsys):
    code, out, err = run(capsys, "similar", query, "--db", str(scanned))
    assert code == 2 and one_line_error(code, err) and "the query is empty" in err and out == ""


@pytest.mark.parametrize("argv", [["similar", "x", "-n", "0"], ["up-next", "--count", "-3"]])
def test_counts_below_one_are_refused(argv, scanned, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main([*argv, "--db", str(scanned)])
    assert exc.value.code == 2 and "must be at least 1" in capsys.readouterr().err


def installed_encoders() -> list[str]:
    return [m.model_id for m in find_manifests(paths.models_dir()) if "tokenizer" in m.data]


@pytest.mark.parametrize("command", [["embed", "--cpu"], ["similar", "rain"], ["up-next"]])
def test_unknown_model_lists_the_installed_ones(command, scanned, capsys):
    encoders = installed_encoders()
    if not encoders:
        pytest.skip("no text encoder in this checkout's models folder")
    code, out, err = run(capsys, *command, "--model", "bogus", "--db", str(scanned))
    assert code == 2 and one_line_error(code, err) and out == ""
    assert "'bogus' is not installed" in err and str(paths.models_dir()) in err
    assert all(mid in err for mid in encoders) and "export" not in err


def test_a_model_that_is_not_a_text_encoder_is_named_as_such(scanned, capsys):
    others = [m.model_id for m in find_manifests(paths.models_dir()) if "tokenizer" not in m.data]
    if not others or not installed_encoders():
        pytest.skip("needs an installed encoder and another kind of model")
    code, _, err = run(capsys, "embed", "--model", others[0], "--db", str(scanned))
    assert one_line_error(code, err) and "is not a text encoder" in err


def test_no_model_installed_at_all_points_at_the_export_script(scanned, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYER_PLUGIN_MODELS", str(tmp_path / "no-models"))
    code, _, err = run(capsys, "embed", "--db", str(scanned))
    assert one_line_error(code, err) and "no text encoder is installed" in err
    assert "python export/export_encoder.py --model multilingual-e5-small" in err


@pytest.fixture
def scrobbles(tmp_path):
    path = tmp_path / "scrobbles.csv"
    path.write_text(
        "uts,artist,album,track\n"
        "1609459200,Alpha,,One\n"  # 2021-01-01
        "1612137600,Nobody,,Ghost Song\n"
        "1614556800,Nobody,,Ghost Song\n"
        "1617235200,Beta,,Two\n",  # 2021-04-01
        encoding="utf-8",
    )
    return path


def test_import_dry_run_prints_a_readable_summary(scanned, scrobbles, capsys):
    code, out, err = run(capsys, "import-history", str(scrobbles), "--dry-run", "--db", str(scanned))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"{scrobbles}: 4 listens (lastfm) from 2021-01-01 to 2021-04-01"
    assert lines[1] == "  in your library: 2 (would import 2, 0 already there); not in your library: 2"
    assert lines[-2].strip() == "2×  Nobody — Ghost Song" and lines[-1] == "  dry run: nothing was stored"
    assert "[" not in out and "{" not in out  # no raw Python list or dict

    code, out, _ = run(capsys, "import-history", str(scrobbles), "--dry-run", "--json", "--db", str(scanned))
    data = json.loads(out)
    assert (data["matched"], data["unmatched"], data["imported"], data["dry_run"]) == (2, 2, 0, True)
    assert (data["first_listen"], data["last_listen"]) == ("2021-01-01", "2021-04-01")
    assert data["top_unmatched"] == [["Nobody", "Ghost Song", 2]]

    code, out, _ = run(capsys, "import-history", str(scrobbles), "--db", str(scanned))
    assert code == 0 and "imported 2, 0 already there" in out and "dry run" not in out


def test_import_into_an_empty_library_says_scan_first(tmp_path, scrobbles, capsys):
    code, out, _ = run(capsys, "import-history", str(scrobbles), "--dry-run", "--db", str(tmp_path / "new.db"))
    assert code == 0 and f"{SCAN_HINT} (or `player-plugin scan --demo`), then import again" in out


def test_import_of_a_missing_file_is_one_line(scanned, tmp_path, capsys):
    code, _, err = run(capsys, "import-history", str(tmp_path / "nope.csv"), "--db", str(scanned))
    assert one_line_error(code, err) and "nope.csv" in err


def test_scan_without_folders_is_one_line_usage_error(tmp_path, capsys):
    code, _, err = run(capsys, "scan", "--db", str(tmp_path / "new.db"))
    assert code == 2 and one_line_error(code, err) and "no folders given" in err


def test_an_up_next_with_nothing_left_to_pick_says_why(tmp_path, capsys):
    """Two tracks, both heard just now: the queue is empty, and the command says so."""
    music = tmp_path / "Music"
    make_track(music, "one", "mp3", title="One", artist="Alpha")
    make_track(music, "two", "ogg", title="Two", artist="Beta")
    db = str(tmp_path / "lib.db")
    for argv in (["scan", str(music)], ["embed", "--model", "all-minilm-l6-v2"]):
        assert run(capsys, *argv, "--db", db)[0] == 0
    for title in ("One", "Two"):
        assert run(capsys, "feedback", title, "complete", "--db", db)[0] == 0
    code, out, err = run(capsys, "up-next", "--refill", "--model", "all-minilm-l6-v2", "--db", db)
    assert (code, err) == (0, "")
    assert out.startswith("Up Next is empty: each of the library's 2 tracks is playing, among your last 10 plays")
