"""Small private caches under the user's cache folder: verified checksums, derived tokenizer data.

Hashing e5's 119 MB ONNX file at every start costs more than half a second on a slow disk or a busy
CPU. A file whose (device, inode, size, mtime_ns, ctime_ns) are unchanged since we hashed it has
the same bytes for any practical purpose — ``ctime`` cannot be set back by ``touch`` and changes
on every write — so the verified digest is remembered under those keys, as git's index does.
``doctor`` still hashes every file (``sha256_file``). Everything written here is 0600 in 0700
folders (``player_plugin.private_files``), and a cache that cannot be read or written is simply not
used.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from player_plugin import paths
from player_plugin.private_files import private_dir, write_private

log = logging.getLogger(__name__)

CHECKSUMS_FILE = "verified-sha256.json"
MAX_CHECKSUM_ENTRIES = 64  # a few models x variants; older entries are dropped first


def _stat_key(path: Path) -> tuple[str, list[int]]:
    st = path.stat()
    return f"{st.st_dev}:{st.st_ino}", [st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def cached_sha256(path: Path) -> str:
    """The file's sha256, from the cache when its identity and times are unchanged, else computed."""
    from player_plugin.nlp.manifest import sha256_file

    cache_file = paths.cache_dir() / CHECKSUMS_FILE
    try:
        key, stamp = _stat_key(path)
    except OSError:
        return sha256_file(path)  # raises the real error for the caller
    entries: dict = {}
    try:
        entries = json.loads(cache_file.read_text(encoding="utf-8"))
        hit = entries.get(key)
        if isinstance(hit, dict) and hit.get("stamp") == stamp and hit.get("path") == str(path):
            return str(hit["sha256"])
    except (OSError, ValueError, AttributeError):
        entries = {}
    digest = sha256_file(path)
    try:
        if _stat_key(path) == (key, stamp):  # unchanged while we read it
            entries = {k: v for k, v in entries.items() if isinstance(v, dict)}
            entries[key] = {"path": str(path), "stamp": stamp, "sha256": digest}
            while len(entries) > MAX_CHECKSUM_ENTRIES:
                entries.pop(next(iter(entries)))
            private_dir(cache_file.parent)
            write_private(cache_file, json.dumps(entries).encode("utf-8"))
    except OSError as exc:
        log.debug("checksum cache not written (%s)", exc)
    return digest
