"""Where things live: the user's database, the bundled demo library, the ONNX models.

Nothing here creates files; callers do, when they need to.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import platformdirs

APP_NAME = "player-plugin"
_CHECKOUT = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    """Per-user data folder (``$XDG_DATA_HOME/player-plugin`` on Linux)."""
    override = os.environ.get("PLAYER_PLUGIN_HOME")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    """Per-user cache folder (``$XDG_CACHE_HOME/player-plugin``): derived data only, safe to delete."""
    override = os.environ.get("PLAYER_PLUGIN_CACHE")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def default_db_path() -> Path:
    override = os.environ.get("PLAYER_PLUGIN_DB")
    return Path(override).expanduser() if override else data_dir() / "library.db"


def _bundled(folder: str, package: str) -> Path:
    """A data folder from the source checkout, or the copy installed inside the package."""
    in_checkout = _CHECKOUT / folder
    if in_checkout.is_dir():
        return in_checkout
    try:
        spec = importlib.util.find_spec(package)
    except ModuleNotFoundError:
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return in_checkout
    # A data-only folder is a namespace package: take its (single) location, not files()'s
    # MultiplexedPath, which does not turn into a usable path string.
    return Path(next(iter(spec.submodule_search_locations)))


def resources_dir() -> Path:
    return _bundled("resources", "player_plugin._resources")


def demo_library_dir() -> Path:
    return resources_dir() / "demo_library"


def models_dir() -> Path:
    """Folder holding ``<model-id>/manifest.json``; ``PLAYER_PLUGIN_MODELS`` overrides it."""
    override = os.environ.get("PLAYER_PLUGIN_MODELS")
    if override:
        return Path(override).expanduser()
    return _bundled("onnx_models", "player_plugin._onnx_models")
