"""Short, human reasons for the OS errors a library scan meets."""

from __future__ import annotations

from dataclasses import dataclass


def os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    if isinstance(exc, IsADirectoryError):
        return "is a directory"
    return f"cannot read file: {exc.strerror or exc}"


@dataclass(frozen=True, slots=True)
class ScanFailure:
    """A file or folder a scan could not take in, and why (one line)."""

    path: str
    reason: str
