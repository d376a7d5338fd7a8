"""``player-plugin install quodlibet``: put the Quod Libet plugin where Quod Libet looks for it.

The plugin is a package in Quod Libet's user plugin folder (``$QUODLIBET_USERDIR/plugins``, else
``$XDG_CONFIG_HOME/quodlibet/plugins``, else ``~/.quodlibet/plugins`` when that old folder exists —
Quod Libet's own rule): the plugin, our stdlib-only service client, and a ``config.json`` that names
the service's socket and the exact command that starts it from this installation (this Python, this
library database), so Quod Libet's Python needs nothing of ours installed.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from player_plugin import paths
from player_plugin.private_files import private_dir, write_private

PLUGIN_PACKAGE = "player_plugin_upnext"
_HERE = Path(__file__).resolve().parent


def quodlibet_user_dir() -> Path:
    """Where Quod Libet keeps its configuration (its ``get_user_dir`` on Linux)."""
    if os.environ.get("QUODLIBET_USERDIR"):
        return Path(os.environ["QUODLIBET_USERDIR"]).expanduser()
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    folder = Path(xdg) / "quodlibet"
    old = Path(os.path.expanduser("~")) / ".quodlibet"
    return old if not folder.exists() and old.exists() else folder


@dataclass(frozen=True)
class Installed:
    folder: Path
    socket: str
    command: list[str]


def install_quodlibet(db_path: Path, socket_path: str, keep: int, user_dir: Path | None = None) -> Installed:
    """Copy the plugin in (replacing an older copy of ours) and write its ``config.json``."""
    target = (user_dir or quodlibet_user_dir()) / "plugins" / PLUGIN_PACKAGE
    private_dir(target.parent)
    if target.exists() and not (target / "__init__.py").is_file():
        raise FileExistsError(f"{target} exists and is not our plugin; not touching it")
    tmp = target.with_name(f".{PLUGIN_PACKAGE}.new")
    shutil.rmtree(tmp, ignore_errors=True)
    private_dir(tmp)
    shutil.copyfile(_HERE / "quodlibet_plugin.py", tmp / "__init__.py")
    shutil.copyfile(_HERE / "service_client.py", tmp / "client.py")
    log = paths.cache_dir() / "service.log"
    command = [sys.executable, "-m", "player_plugin", "--db", str(db_path), "serve", "--socket", socket_path]
    config = {"socket": socket_path, "command": command, "keep": keep, "log": str(log)}
    write_private(tmp / "config.json", (json.dumps(config, indent=2, ensure_ascii=False) + "\n").encode())
    private_dir(log.parent)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)
    return Installed(target, socket_path, command)
