"""The CLI's one error boundary: every failure becomes one line on stderr and an exit status.

``cli.main`` calls :func:`describe` for any exception a command lets through. Known kinds (a
database that cannot be opened, is locked, is not ours; a missing model; a path that cannot be
read) get their own message; anything else is an internal error. ``--debug`` skips all this and
lets the traceback through. Heavy modules are never imported here: an exception's class is only
compared with classes whose module is already loaded (it cannot be one of them otherwise).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

PROG = "player-plugin"
EXIT_ERROR = 1  # the command could not do what was asked (bad database, missing model…)
EXIT_USAGE = 2  # the command line itself is wrong (as argparse's own errors)
EXIT_INTERNAL = 70  # a bug (EX_SOFTWARE of sysexits.h)
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
DEBUG_HINT = "run with --debug for details"


class UserError(Exception):
    """A failure the user can fix; ``str()`` is the whole message."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


# What a terminal would act on rather than show: C0 controls (tab and line breaks included), DEL, C1
# controls (0x9b is CSI on some terminals), the Unicode line/paragraph separators, the bidi
# embeddings/overrides/isolates (they reorder the rest of the line), and lone surrogates (an
# undecodable byte of a file name, which printing would raise on or write raw).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    c = match.group()
    code = ord(c)
    if c in _NAMED:
        return _NAMED[c]
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the file name's original byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: object) -> str:
    """``text`` safe to print on a terminal: every control character (see ``_UNPRINTABLE``) becomes a
    visible escape (``\\x1b``, ``\\n``, ``\\u202e``…), so tags and file names can neither drive the
    terminal nor break a line; CJK and all other printable text is kept. Only for human-readable
    output: ``--json`` prints the exact text (JSON escapes control characters itself)."""
    return _UNPRINTABLE.sub(_escape, str(text))


def one_line(text: str) -> str:
    """``text`` with its lines joined, so an error is always a single line."""
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def print_error(message: str) -> None:
    print(f"{PROG}: error: {printable(one_line(message))}", file=sys.stderr)


def _loaded(module: str, name: str) -> type[BaseException] | None:
    mod = sys.modules.get(module)
    cls = getattr(mod, name, None) if mod is not None else None
    return cls if isinstance(cls, type) and issubclass(cls, BaseException) else None


def describe(exc: BaseException, db_path: Path | None) -> tuple[str, int]:
    """(one-line message, exit status) for an exception that reached ``main``."""
    if isinstance(exc, UserError):
        return str(exc), exc.code
    store_error = _loaded("player_plugin.store.db", "StoreError")
    if store_error is not None and isinstance(exc, store_error):
        return str(exc), EXIT_ERROR
    model_error = _loaded("player_plugin.nlp.manifest", "ModelError")
    if model_error is not None and isinstance(exc, model_error):
        return str(exc), EXIT_ERROR
    sqlite_error = _loaded("sqlite3", "Error")
    if sqlite_error is not None and isinstance(exc, sqlite_error):
        from player_plugin.store.db import storage_message

        return storage_message(db_path, exc), EXIT_ERROR
    if isinstance(exc, OSError):
        what = f"{exc.filename}: " if exc.filename is not None else ""
        return f"{what}{exc.strerror or exc}", EXIT_ERROR
    return f"internal error: {type(exc).__name__}: {exc} ({DEBUG_HINT})", EXIT_INTERNAL


# -- advice for the usual wrong turns --------------------------------------------------------------


def check_model(model_id: str) -> None:
    """Refuse a model id that names no installed text encoder, listing the ones installed."""
    from player_plugin import paths
    from player_plugin.nlp.manifest import REBUILD_HINT, find_manifests

    root = paths.models_dir()
    manifests = {m.model_id: m for m in find_manifests(root)}
    encoders = [mid for mid, m in manifests.items() if "tokenizer" in m.data]  # not e.g. the seq2seq generator
    if model_id in encoders or ((root / model_id).is_dir() and model_id not in manifests):
        return  # Encoder.load checks the files (and names a broken manifest) itself
    if encoders:
        what = "is not a text encoder" if model_id in manifests else "is not installed"
        raise UserError(f"model {model_id!r} {what} (under {root}); installed: {', '.join(encoders)}", EXIT_USAGE)
    raise UserError(
        f"{root / model_id}: no such model, and no text encoder is installed under {root}; "
        f"build one with: {REBUILD_HINT.format(model_id=model_id)}"
    )


SCAN_FIRST = f"the library is empty: run `{PROG} scan DIR` first (or `{PROG} scan --demo`)"


def missing_step(engine) -> str:
    """What to run before a command that needs track vectors: the scan, else the embedding."""
    tracks = engine.library_counts().tracks
    if tracks == 0:
        return SCAN_FIRST
    model_id = engine.model_id
    have = engine.vectors.count(model_id)
    return f"{tracks - have} of {tracks} tracks have no vector for model {model_id} yet: run `{PROG} embed` first" + (
        "" if have == 0 else " (it does only the missing ones)"
    )
