"""A one-shot command loads only what it runs: the start-up cost bench/cli_latency.py measures.

``player-plugin similar`` must not import the scanner, the recommender, sqlite-utils or (for a
short query) the full ``tokenizers`` vocabulary; these checks run in a fresh interpreter.
"""

from __future__ import annotations

import subprocess
import sys

LAZY = ("player_plugin.library.scanner", "player_plugin.recommend.service", "player_plugin.embedding", "sqlite_utils")


def _loaded_after(code: str) -> set[str]:
    probe = code + "\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_importing_the_engine_and_the_cli_loads_none_of_the_heavy_parts():
    loaded = _loaded_after("import player_plugin.cli, player_plugin.engine")
    assert not loaded & set(LAZY), loaded & set(LAZY)
    assert not {m for m in loaded if m.split(".")[0] in ("onnxruntime", "tokenizers", "PySide6")}


def test_engine_builds_its_parts_when_first_used(tmp_path):
    code = (
        "from player_plugin.engine import Engine\n"
        "from player_plugin.store import Database\n"
        f"e = Engine(Database({str(tmp_path / 'l.db')!r}))\n"
        "e.library_counts()\n"
    )
    loaded = _loaded_after(code)
    assert not loaded & set(LAZY), loaded & set(LAZY)
    loaded = _loaded_after(code + "e.recommender\n")
    assert "player_plugin.recommend.service" in loaded
