"""Every package under player_plugin/ must be listed in pyproject.toml, or `pip install .` drops it."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_all_subpackages_are_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "player_plugin").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"


def test_core_imports_no_qt_and_no_torch():
    import subprocess
    import sys

    code = (
        "import sys, player_plugin.cli, player_plugin.engine, player_plugin.library.scanner, "
        "player_plugin.doctor, player_plugin.nlp.runtime;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'torch', 'shiboken6')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
