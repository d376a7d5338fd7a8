"""The time stamps of LRC lyrics, for lyrics that follow the song (the app's lyrics window).

The library stores lyrics as plain text (library/lyrics.strip_lrc: the encoder reads words, not
times), so the times are read from the ``.lrc`` sidecar itself when its track plays, or from the
file's own tags for lyrics embedded there (LRC text in ID3 ``USLT``, Vorbis ``LYRICS``, MP4 ``©lyr``,
APEv2 ``Lyrics``, WMA ``WM/Lyrics``; or an ID3 ``SYLT`` frame timed in milliseconds). Each line's
leading stamps (``[01:02.50]``, ``[01:02:50]``, ``[01:02]``; several for a repeated chorus) give the
times it starts; ``[offset:+500]`` moves every line 500 ms earlier, as the format says; word stamps
(``<01:02.50>``, enhanced LRC) are dropped.
"""

from __future__ import annotations

import re
from pathlib import Path

from player_plugin.library.files import open_regular
from player_plugin.library.lyrics import MAX_SIDECAR_BYTES, decode_text

__all__ = ["read_embedded_timed_lyrics", "read_timed_lyrics", "timed_lines"]

_SYLT_MILLISECONDS = 2  # SYLT's time stamp format 2: absolute milliseconds (1 is MPEG frames)
_EMBEDDED_KEYS = ("lyrics", "unsyncedlyrics", "\xa9lyr", "wm/lyrics")  # case-folded tag names

_STAMP = re.compile(r"\[\s*(\d{1,3})\s*:\s*(\d{1,2})(?:\s*[.:]\s*(\d{1,3}))?\s*\]")
_LEADING = re.compile(r"^\s*((?:\[\s*\d{1,3}\s*:\s*\d{1,2}(?:\s*[.:]\s*\d{1,3})?\s*\]\s*)+)(.*)$")
_WORD_STAMP = re.compile(r"<\s*\d{1,3}\s*:\s*\d{1,2}(?:\s*[.:]\s*\d{1,3})?\s*>")
_OFFSET = re.compile(r"^\s*\[\s*offset\s*:\s*([+-]?\d{1,7})\s*\]\s*$", re.I)


def _ms(minutes: str, seconds: str, fraction: str | None) -> int:
    frac = int(fraction.ljust(3, "0")) if fraction else 0  # ".5" is 500 ms, ".05" 50, ".005" 5
    return (int(minutes) * 60 + int(seconds)) * 1000 + frac


def timed_lines(text: str) -> list[tuple[int, str]]:
    """(start in ms, line) of every timed line of LRC ``text``, in time order; [] when none is timed."""
    offset = 0
    out: list[tuple[int, str]] = []
    for raw in text.splitlines():
        found = _OFFSET.match(raw)
        if found:
            offset = int(found.group(1))
            continue
        lead = _LEADING.match(raw)
        if not lead:
            continue
        line = " ".join(_WORD_STAMP.sub(" ", lead.group(2)).split())
        out.extend((_ms(*m.groups()), line) for m in _STAMP.finditer(lead.group(1)))
    return sorted(((max(0, t - offset), line) for t, line in out), key=lambda x: x[0])


def read_timed_lyrics(path: str | Path) -> list[tuple[int, str]]:
    """The timed lines of the ``.lrc`` file at ``path``; [] when it has none or cannot be read."""
    try:
        with open_regular(Path(path)) as fh:
            data = fh.read(MAX_SIDECAR_BYTES + 1)
    except OSError:  # gone since the scan, or unreadable: the plain lyrics stay
        return []
    if len(data) > MAX_SIDECAR_BYTES:
        return []
    return timed_lines(decode_text(data))


def read_embedded_timed_lyrics(path: str | Path) -> list[tuple[int, str]]:
    """The timed lines of the lyrics in the tags of the audio file at ``path``; [] when none are timed."""
    import mutagen
    from mutagen.id3 import ID3

    try:
        audio = mutagen.File(path)
    except Exception:  # noqa: BLE001 - a file that cannot be read now simply has no timed lyrics
        return []
    tags = getattr(audio, "tags", None)
    if tags is None:
        return []
    if isinstance(tags, ID3):
        for frame in tags.getall("USLT"):
            if timed := timed_lines(str(frame.text)):
                return timed
        for frame in tags.getall("SYLT"):
            if frame.format == _SYLT_MILLISECONDS and frame.text:
                return sorted((int(ms), " ".join(str(text).split())) for text, ms in frame.text)
        return []
    for key, values in tags.items():
        if str(key).casefold() in _EMBEDDED_KEYS:
            for value in values if isinstance(values, list) else list(values):
                if timed := timed_lines(str(value)):
                    return timed
    return []
