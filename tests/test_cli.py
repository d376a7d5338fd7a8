import json
import os
import stat
import subprocess
import sys

import pytest

from player_plugin import cli
from tests.conftest import make_track


@pytest.fixture
def music(tmp_path):
    root = tmp_path / "Music"
    make_track(root / "A", "one", "mp3", title="One", artist="Alpha", lyrics="hello")
    make_track(root / "A", "two", "flac", title="Two", artist="Alpha")
    make_track(root / "B", "three", "ogg", title="Three", artist="Beta", album="Other")
    (root / "B" / "broken.mp3").write_bytes(b"")
    return root


def run(capsys, *argv):
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_scan_json_then_library_json(tmp_path, music, capsys):
    db = tmp_path / "x.db"
    code, out, _ = run(capsys, "scan", str(music), "--json", "--db", str(db))
    assert code == 0
    data = json.loads(out)
    assert (data["added"], data["updated"], data["unchanged"], data["removed"], data["failed"]) == (3, 0, 0, 0, 1)
    assert data["failures"] == [{"path": str(music / "B" / "broken.mp3"), "reason": "empty file (0 bytes)"}]
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600

    code, out, _ = run(capsys, "--db", str(db), "library", "--json")
    lib = json.loads(out)
    assert (lib["tracks"], lib["artists"], lib["albums"], lib["with_lyrics"]) == (3, 2, 2, 1)
    assert lib["folders"] == [str(music)]

    # a rescan with no path rescans the remembered folders
    code, out, _ = run(capsys, "scan", "--db", str(db))
    assert code == 0 and "unchanged 3" in out and "failed 1" in out and "empty file" in out


def test_default_db_lives_in_the_users_data_dir(music, capsys, isolated_home):
    code, out, _ = run(capsys, "scan", str(music))
    assert code == 0 and out.startswith("added 3")
    assert (isolated_home / ".local" / "share" / "player-plugin" / "library.db").exists()


def test_scan_of_missing_folder_fails_clearly(tmp_path, capsys):
    code, out, _ = run(capsys, "scan", str(tmp_path / "nope"), "--db", str(tmp_path / "x.db"))
    assert code == 1 and "folder not found" in out


def test_scan_without_paths_or_library_explains(tmp_path, capsys):
    code, _, err = run(capsys, "scan", "--db", str(tmp_path / "x.db"))
    assert code == 2 and "no folders given" in err


def test_doctor_reports_versions_db_and_providers(tmp_path, music, capsys):
    db = tmp_path / "x.db"
    run(capsys, "scan", str(music), "--db", str(db))
    code, out, _ = run(capsys, "doctor", "--json", "--db", str(db))
    assert code == 0
    data = json.loads(out)
    assert data["versions"]["mutagen"] and data["versions"]["python"]
    assert data["database"]["schema_version"] == data["database"]["latest_schema"]
    assert data["database"]["mode"] == "0o600"
    assert "CPUExecutionProvider" in data["onnxruntime"]["available"]
    assert data["onnxruntime"]["chosen"] in data["onnxruntime"]["available"]
    code, out, _ = run(capsys, "doctor", "--db", str(db))
    assert "will use:" in out and "schema version" in out


def test_doctor_does_not_create_a_database(tmp_path, capsys):
    db = tmp_path / "never.db"
    code, out, _ = run(capsys, "doctor", "--db", str(db))
    assert code == 0 and "not created yet" in out and not db.exists()


@pytest.mark.parametrize("sub", ["scan", "library", "doctor", "app"])
def test_every_subcommand_has_help(sub, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main([sub, "--help"])
    assert exc.value.code == 0
    assert "--db" in capsys.readouterr().out


def test_console_entry_point_runs(tmp_path, music):
    proc = subprocess.run(
        [sys.executable, "-m", "player_plugin", "scan", str(music), "--json", "--db", str(tmp_path / "y.db")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(proc.stdout)["added"] == 3
