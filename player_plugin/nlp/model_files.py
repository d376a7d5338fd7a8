"""The one check every model file goes through before it is loaded: listed, present, intact.

Both the text encoders and the Seq2Seq generator load files named by a ``manifest.json``; this is
the single place their sha256 is compared (through the stat-keyed cache, ``file_cache``).
"""

from __future__ import annotations

import logging
from pathlib import Path

from player_plugin.nlp.file_cache import cached_sha256
from player_plugin.nlp.manifest import Manifest, ModelError

log = logging.getLogger(__name__)


def verified_file(manifest: Manifest, name: str, *, rebuild: str, required: bool = True) -> Path | None:
    """Path of ``name`` if its sha256 matches the manifest (``files``, else ``optional_files``).

    A required file that is missing or corrupt raises ``ModelError`` naming it and ``rebuild``;
    an optional one is skipped (``None``), with a warning when it is present but corrupt.
    """
    expected = manifest.files.get(name) or manifest.data.get("optional_files", {}).get(name)
    path = manifest.folder / name
    if expected is None:
        raise ModelError(f"{manifest.folder / 'manifest.json'}: names {name} without a checksum")
    if not path.is_file():
        if required:
            raise ModelError(f"{path}: model file missing; rebuild with: {rebuild}")
        return None
    actual = cached_sha256(path)
    if actual != expected:
        if required:
            raise ModelError(
                f"{path}: checksum mismatch (sha256 {actual[:12]}…, manifest says {expected[:12]}…): "
                f"the file is corrupt or from another export; rebuild with: {rebuild}"
            )
        log.warning("%s: checksum mismatch, ignoring this optional file", path)
        return None
    return path
