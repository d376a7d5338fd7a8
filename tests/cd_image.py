"""A real CD image for the CUE sheet tests: one FLAC of tones played one after another (ffmpeg)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def make_image(path: Path, tones: tuple[int, ...] = (440, 550, 660), seconds: float = 4.0) -> Path:
    """``path``: a mono 8 kHz FLAC (or WavPack, by its suffix), no tags, holding one ``seconds``-long
    tone per frequency in ``tones``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    parts = [f"sine=frequency={f}:sample_rate=8000:duration={seconds}" for f in tones]
    inputs = [arg for p in parts for arg in ("-f", "lavfi", "-i", p)]
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *inputs,
         "-filter_complex", f"concat=n={len(tones)}:v=0:a=1", "-ac", "1", "-map_metadata", "-1",
         "-c:a", "wavpack" if path.suffix == ".wv" else "flac", str(path)],
        check=True, timeout=60,
    )  # fmt: skip
    return path
