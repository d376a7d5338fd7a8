"""The engine as a multi-threaded host builds it: one encoder per model, shared by its workers.

The desktop app's embed worker and recommendation worker both use the text encoder, and an
``Encoder`` is not safe to call from two threads at once, so the factory wraps it in a lock (held
per call, so a long embedding run and a quick prompt query interleave instead of one waiting for the
other to finish). Qt-free: the app's ``ui/app.py`` builds its engine here and imports no store or
nlp module itself.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from player_plugin.engine import Engine
from player_plugin.store import Database

_LOCKED_METHODS = frozenset({"embed", "embed_ids", "embed_query", "token_ids"})


class LockedEncoder:
    """Forwards to an ``Encoder``; its compute methods run under one lock."""

    def __init__(self, encoder: Any, lock: threading.RLock) -> None:
        self._encoder = encoder
        self._lock = lock

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._encoder, name)
        if name in _LOCKED_METHODS and callable(attr):

            def locked(*args: Any, **kwargs: Any) -> Any:
                with self._lock:
                    return attr(*args, **kwargs)

            return locked
        return attr


class EncoderFactory:
    """``Engine(encoder_factory=...)``: loads each model once, remembers what was loaded or why not."""

    def __init__(self, loader: Any = None) -> None:
        if loader is None:
            from player_plugin.nlp.encoder import Encoder

            loader = Encoder.load
        self._loader = loader
        self._lock = threading.RLock()
        self._call_lock = threading.RLock()
        self._loaded: dict[str, LockedEncoder] = {}
        self.errors: dict[str, str] = {}
        self.load_seconds: dict[str, float] = {}

    def __call__(self, model_id: str) -> LockedEncoder:
        with self._lock:
            enc = self._loaded.get(model_id)
            if enc is None:
                started = time.perf_counter()
                try:
                    enc = LockedEncoder(self._loader(model_id), self._call_lock)
                except Exception as exc:
                    self.errors[model_id] = str(exc)
                    raise
                self.errors.pop(model_id, None)
                self.load_seconds[model_id] = time.perf_counter() - started
                self._loaded[model_id] = enc
            return enc

    def loaded(self, model_id: str) -> LockedEncoder | None:
        return self._loaded.get(model_id)


def make_engine(db_path: str | os.PathLike[str], model_id: str | None = None, loader: Any = None) -> Engine:
    """An engine for the app (thread-safe encoder sharing); tests pass a small ``model_id``."""
    factory = EncoderFactory(loader)
    engine = Engine(Database(db_path), encoder_factory=factory, model_id=model_id)
    engine.shared_encoders = factory
    return engine
