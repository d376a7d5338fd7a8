"""Truncated audio (a failed copy or download) is refused with a reason, not taken at the header's
full duration; whole files (the fixtures and the demo library) are all still accepted."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from player_plugin import paths
from player_plugin.library.scanner import Scanner
from player_plugin.library.tags import TagReadError, read_tags
from player_plugin.store import Database
from tests.conftest import FIXTURES

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg to encode real files")

SECONDS = 6
CUTS = (0.2, 0.5, 0.8, 0.95)  # share of the file kept
# (name, ffmpeg output options): each encoder the way people's files come, with a header that
# states the whole duration (Xing/VBRI, STREAMINFO, moov at the front, chunk sizes).
ENCODINGS = {
    "cbr.mp3": ["-c:a", "libmp3lame", "-b:a", "128k"],
    "vbr.mp3": ["-c:a", "libmp3lame", "-q:a", "4"],
    "song.flac": ["-c:a", "flac"],
    "song.ogg": ["-c:a", "libvorbis", "-q:a", "3"],
    "song.opus": ["-c:a", "libopus", "-b:a", "64k", "-ar", "48000"],
    "fast.m4a": ["-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart"],
    "song.wav": ["-c:a", "pcm_s16le"],
    "song.aiff": ["-c:a", "pcm_s16be"],
    "song.wv": ["-c:a", "wavpack"],
    "song.wma": ["-c:a", "wmav2", "-b:a", "64k"],
}


@pytest.fixture(scope="module")
def encoded(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("encoded")
    out = {}
    for name, options in ENCODINGS.items():
        path = folder / name
        subprocess.run(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", f"sine=frequency=440:duration={SECONDS}",
             "-ac", "2", *options, str(path)],
            check=True, timeout=60,
        )  # fmt: skip
        out[name] = path
    return out


@pytest.mark.parametrize("name", ENCODINGS)
def test_whole_file_is_accepted_and_cut_copies_are_refused(encoded, tmp_path, name):
    whole = encoded[name]
    assert read_tags(whole).duration_s == pytest.approx(SECONDS, abs=0.1)
    data = whole.read_bytes()
    for keep in CUTS:
        cut = tmp_path / f"cut{whole.suffix}"
        cut.write_bytes(data[: int(len(data) * keep)])
        with pytest.raises(TagReadError, match="truncated") as info:
            read_tags(cut)
        assert "\n" not in str(info.value), info.value


def test_scan_skips_truncated_files_with_a_reason(encoded, tmp_path):
    root = tmp_path / "lib"
    root.mkdir()
    for name, path in encoded.items():
        shutil.copyfile(path, root / name)
        (root / f"cut {name}").write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    report = Scanner(Database(tmp_path / "lib.db")).scan([root])
    assert report.added == len(ENCODINGS)
    assert sorted(Path(f.path).name for f in report.failures) == sorted(f"cut {n}" for n in ENCODINGS)
    assert all(f.reason.startswith("truncated") for f in report.failures), report.failures


def test_no_valid_file_is_rejected(tmp_path):
    """The committed fixtures and the whole demo library scan without one failure."""
    report = Scanner(Database(tmp_path / "lib.db")).scan([FIXTURES, paths.demo_library_dir()])
    assert report.failures == [] and report.added >= len(list(FIXTURES.iterdir()))
