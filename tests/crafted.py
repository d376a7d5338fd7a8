"""Hostile audio files written byte by byte (struct) or with mutagen: real files on disk."""

from __future__ import annotations

import struct
from pathlib import Path

HUGE = "99999999999999999999"  # above 2^64: no SQLite integer holds it


def wav_header_overflow(path: Path, data: bytes = b"\0" * 4096) -> Path:
    """A WAV whose channels × bits × rate (65535 × 65535 × 2^32 - 1) is above 2^64."""
    fmt = struct.pack("<HHIIHH", 1, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFF, 0xFFFF)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def aiff_rate(path: Path, exponent: int = 100, data: bytes = b"\0" * 4096) -> Path:
    """An AIFF whose 80-bit extended sample rate is 2^exponent."""
    rate = struct.pack(">HQ", 16383 + exponent, 1 << 63)
    comm = struct.pack(">hIh", 2, len(data) // 4, 16) + rate
    ssnd = struct.pack(">II", 0, 0) + data
    body = b"AIFF" + b"COMM" + struct.pack(">I", len(comm)) + comm + b"SSND" + struct.pack(">I", len(ssnd)) + ssnd
    path.write_bytes(b"FORM" + struct.pack(">I", len(body)) + body)
    return path
