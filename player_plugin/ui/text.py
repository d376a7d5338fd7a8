"""Words the window shows for engine facts: providers, artists of untagged files, window titles."""

from __future__ import annotations

from pathlib import PurePath

from player_plugin.models import Track

APP_NAME = "Player Plugin"


def friendly_provider(provider: str) -> str:
    """``CUDAExecutionProvider`` → ``GPU (CUDA)``, ``CPUExecutionProvider`` → ``CPU``."""
    if "CUDA" in provider:
        return "GPU (CUDA)"
    if "TensorRT" in provider:
        return "GPU (TensorRT)"
    if not provider or "CPU" in provider:
        return "CPU"
    return provider.removesuffix("ExecutionProvider")


def uses_gpu(provider: str) -> bool:
    return friendly_provider(provider).startswith("GPU")


def artist_or_file(track: Track) -> str:
    """The artist; for a file without an artist tag, its file name (so the row still says what it is)."""
    return track.tags.artist or PurePath(track.path).name


def window_title(track: Track | None) -> str:
    """Idle: the app's name (Qt adds nothing when the title is the display name). Playing: title — artist."""
    if track is None:
        return APP_NAME
    return f"{track.tags.title} — {artist_or_file(track)}"
