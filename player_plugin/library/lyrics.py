"""Lyrics text: decoding legacy-encoded files, stripping LRC timing, finding sidecar files.

Sidecar lyrics (``Song.lrc`` / ``Song.txt`` next to ``Song.mp3``) come in whatever encoding the
tool that wrote them used; Chinese ones are very often GBK, older Taiwanese ones Big5, and
Windows tools write UTF-16 or cp1252. :func:`decode_text` guesses without ever raising.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path, PurePath

from player_plugin.library.errors import os_reason as _os_reason
from player_plugin.library.files import NotRegularFileError, open_regular
from player_plugin.library.tag_bounds import bounded_lyrics

__all__ = [
    "MAX_SIDECAR_BYTES",
    "SIDECAR_EXTENSIONS",
    "LyricsReadError",
    "decode_text",
    "looks_like_lrc",
    "looks_like_text",
    "read_sidecar",
    "sidecar_candidates",
    "sidecar_paths",
    "strip_lrc",
]

MAX_SIDECAR_BYTES = 1024 * 1024
# Text is not binary: above this share of control characters (other than tab, newline, form feed)
# and undecodable bytes, a sidecar is data (an image, noise) that decoded only as latin-1.
# Real lyrics have none (a stray ^Z at most); random bytes have about a quarter.
MAX_NON_TEXT_SHARE = 0.05
_TEXT_CONTROLS = frozenset("\t\n\r\f\v")
SIDECAR_EXTENSIONS: tuple[str, ...] = (".lrc", ".txt")  # in order of preference


class LyricsReadError(Exception):
    """A sidecar lyrics file exists but could not be read; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------- decoding

BOMS: tuple[tuple[bytes, str], ...] = (  # also read by importers/source.py
    # UTF-32 first: the UTF-32 LE BOM starts with the UTF-16 LE one.
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)

_NEWLINES = re.compile(r"\r\n?|[\u2028\u2029\x85]")


def _normalise_newlines(text: str) -> str:
    return _NEWLINES.sub("\n", text)


def _guess_bomless_utf16(data: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when NUL bytes sit almost only at odd/even offsets."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    pairs = len(sample) // 2
    even_nul = sample[0 : pairs * 2 : 2].count(0)
    odd_nul = sample[1 : pairs * 2 : 2].count(0)
    # Mostly-ASCII UTF-16 has a NUL in (nearly) every pair; CJK-only UTF-16 has none and is not
    # detectable this way. A third of pairs is plenty and rules out binary junk with a few NULs.
    if odd_nul >= pairs / 3 and even_nul <= odd_nul / 10:
        return "utf-16-le"
    if even_nul >= pairs / 3 and odd_nul <= even_nul / 10:
        return "utf-16-be"
    return None


def _is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return (
        0x4E00 <= cp <= 0x9FFF  # unified ideographs
        or 0x3400 <= cp <= 0x4DBF  # extension A
        or 0x3000 <= cp <= 0x303F  # CJK punctuation
        or 0xFF00 <= cp <= 0xFFEF  # full-width forms
        or 0xF900 <= cp <= 0xFAFF  # compatibility ideographs
        or 0x20000 <= cp <= 0x2FA1F  # extensions B+
        or cp in (0x2014, 0x2026, 0x201C, 0x201D, 0x2018, 0x2019, 0x00B7)  # —…“”‘’· common in both
    )


def _common_in(ch: str, encoding: str | None) -> bool:
    """Is ``ch`` in the frequently used part of a legacy Chinese code page?

    Latin-1 text mis-decoded as GBK/Big5 yields mostly rare characters (an accented letter
    plus the following ASCII letter form one double-byte code) while real text stays in
    GB2312 (lead bytes A1-F7, trail A1-FE) or Big5's frequent block (lead A1-C6).
    """
    if ch.isascii():
        return True
    if not _is_cjk(ch):
        return False
    if encoding is None:
        return True
    try:
        code = ch.encode(encoding)
    except UnicodeEncodeError:
        return False
    if len(code) != 2:
        return False
    lead, trail = code
    if encoding == "gb2312":
        return True  # encodable in GB2312 at all means common simplified Chinese
    return 0xA1 <= lead <= 0xC6 and trail != 0  # big5 frequent hanzi + punctuation


def _plausible_chinese(text: str, common_in: str | None) -> bool:
    """Sanity check for a GB18030/Big5 decode: mostly common hanzi, not glued to Latin words."""
    non_ascii = [i for i, ch in enumerate(text) if not ch.isascii() and not ch.isspace()]
    if not non_ascii:
        return False
    sample = non_ascii[:2000]
    common = sum(1 for i in sample if _common_in(text[i], common_in))
    if common < 0.9 * len(sample):
        return False
    # In cp1252 text read as GBK every "hanzi" is an accented letter plus its neighbour, so it
    # sits inside a Latin word; real Chinese text comes in runs of hanzi between spaces/punctuation.
    glued = 0
    for i in sample:
        left = text[i - 1] if i > 0 else " "
        right = text[i + 1] if i + 1 < len(text) else " "
        if (left.isascii() and left.isalpha()) or (right.isascii() and right.isalpha()):
            glued += 1
    return glued <= 0.4 * len(sample)


def decode_text(data: bytes) -> str:
    """Decode a text file of unknown encoding; never raises. Newlines become ``\\n``.

    Order: BOM, BOM-less UTF-16 (NUL pattern — must precede UTF-8, which accepts NULs),
    strict UTF-8, GB18030 (covers GBK/GB2312), Big5, cp1252, then UTF-8 with replacement.
    The Chinese code pages decode most byte strings "successfully", so their result is only
    taken when it reads like Chinese (see :func:`_plausible_chinese`).
    """
    if not data:
        return ""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return _normalise_newlines(data[len(bom) :].decode(encoding, errors="replace"))
    if b"\x00" in data[:4096]:
        utf16 = _guess_bomless_utf16(data)
        if utf16 is not None:
            return _normalise_newlines(data.decode(utf16, errors="replace")).replace("\x00", "")
    try:
        return _normalise_newlines(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    # Simplified (GB2312 subset) first, then Big5, then GBK's traditional/rare characters.
    candidates: tuple[tuple[str, str | None], ...] = (
        ("gb18030", "gb2312"),
        ("big5", "big5"),
        ("gb18030", None),
    )
    for encoding, common_in in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _plausible_chinese(text, common_in):
            return _normalise_newlines(text)
    # Mostly UTF-8 with a few damaged bytes reads better as UTF-8 than as cp1252 mojibake.
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if not ch.isascii()) - bad
    if good >= 10 * bad:
        return _normalise_newlines(text)
    try:
        return _normalise_newlines(data.decode("cp1252"))
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; latin-1 maps every byte.
        return _normalise_newlines(data.decode("latin-1"))


# --------------------------------------------------------------------------- LRC

_STAMP = r"\[\s*\d{1,3}\s*:\s*\d{1,2}(?:\s*[.:]\s*\d{1,3})?\s*\]"
_LEADING_STAMPS = re.compile(rf"^\s*(?:{_STAMP}\s*)+")
_ANY_STAMP = re.compile(_STAMP)
_WORD_STAMP = re.compile(r"<\s*\d{1,3}\s*:\s*\d{1,2}(?:\s*[.:]\s*\d{1,3})?\s*>")
_KNOWN_ID_TAG = re.compile(r"^\s*\[(?:ar|ti|al|au|by|offset|length|re|ve|la|id|#)\s*:[^\]\n]*\]\s*$", re.I)
_ANY_ID_TAG = re.compile(r"^\s*\[[A-Za-z#][A-Za-z0-9_#-]{0,15}\s*:[^\]\n]*\]\s*$")
_SPACES = re.compile(r"[ \t]{2,}")


def looks_like_lrc(text: str) -> bool:
    """True when some line starts with an ``[mm:ss.xx]`` stamp or the text opens with LRC ID tags."""
    first_content: str | None = None
    for line in text.splitlines():
        if _LEADING_STAMPS.match(line):
            return True
        if first_content is None and line.strip():
            first_content = line
    return first_content is not None and bool(_KNOWN_ID_TAG.match(first_content))


def _trim_blank_runs(lines: list[str]) -> str:
    out: list[str] = []
    for line in lines:
        if not line and (not out or not out[-1]):
            continue  # no leading blanks, no runs of blanks
        out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def strip_lrc(text: str) -> str:
    """LRC → plain lyrics: drop ID tags, line/word time stamps and surplus blank lines.

    Text that is not LRC only gets newline normalisation and outer trimming. Lines keep file
    order; a line with several stamps (``[00:12.00][01:30.00]chorus``) appears once.
    """
    text = _normalise_newlines(text).lstrip("\ufeff")
    if not looks_like_lrc(text):
        return text.strip()
    lines: list[str] = []
    for raw in text.split("\n"):
        if _ANY_ID_TAG.match(raw) and not _LEADING_STAMPS.match(raw):
            continue
        line = _LEADING_STAMPS.sub("", raw)
        line = _WORD_STAMP.sub(" ", _ANY_STAMP.sub(" ", line))
        lines.append(_SPACES.sub(" ", line).strip())
    return _trim_blank_runs(lines)


# --------------------------------------------------------------------------- sidecars


def sidecar_candidates(audio_name: str, dir_entries: Iterable[str]) -> list[str]:
    """Names from a directory listing that are lyrics sidecars for ``audio_name``.

    Matches ``<stem>.lrc`` / ``<stem>.txt`` with a case-insensitive extension (``Song.LRC``),
    also ``<name>.lrc`` (``Song.mp3.lrc``). Order: .lrc before .txt; within that an exact stem
    before a stem that only matches ignoring case. No disk access.
    """
    name = PurePath(audio_name).name
    stem = PurePath(name).stem
    stem_folded = stem.casefold()
    ranked: list[tuple[int, int, str]] = []
    for entry in dir_entries:
        base, ext = os.path.splitext(entry)
        ext = ext.lower()
        if ext not in SIDECAR_EXTENSIONS or entry == name:
            continue
        if base == stem:
            closeness = 0
        elif base.casefold() == stem_folded:
            closeness = 1
        elif base == name:
            closeness = 2
        else:
            continue
        ranked.append((SIDECAR_EXTENSIONS.index(ext), closeness, entry))
    ranked.sort()
    return [entry for _, _, entry in ranked]


def sidecar_paths(audio_path: Path) -> list[Path]:
    """Existing sidecar lyrics files for ``audio_path`` (lists its directory once)."""
    audio_path = Path(audio_path)
    directory = audio_path.parent
    try:
        entries = os.listdir(directory)
    except OSError:
        return []
    return [directory / name for name in sidecar_candidates(audio_path.name, entries) if (directory / name).is_file()]


def read_sidecar(path: Path) -> str | None:
    """Plain lyrics from a sidecar file (at most ``tag_bounds.MAX_LYRICS_CHARS``), or None when empty.

    Raises :class:`LyricsReadError` when the file cannot be read, is larger than 1 MiB or is not text.
    """
    path = Path(path)
    try:
        with open_regular(path) as fh:
            data = fh.read(MAX_SIDECAR_BYTES + 1)
    except NotRegularFileError as exc:
        raise LyricsReadError(exc.reason) from exc
    except OSError as exc:
        raise LyricsReadError(_os_reason(exc)) from exc
    if len(data) > MAX_SIDECAR_BYTES:
        raise LyricsReadError("larger than 1 MiB, so not lyrics")
    text = decode_text(data).rstrip("\x00")  # some editors pad files with NULs
    if not looks_like_text(text):
        raise LyricsReadError("not text (binary data)")
    # strip_lrc only touches text that looks like LRC; anything else is just trimmed.
    return bounded_lyrics(strip_lrc(text)) or None


def looks_like_text(text: str) -> bool:
    """No NUL and at most MAX_NON_TEXT_SHARE of control characters and replacement characters."""
    if "\x00" in text:
        return False
    bad = sum(1 for ch in text if ch == "\ufffd" or (unicodedata.category(ch) == "Cc" and ch not in _TEXT_CONTROLS))
    return bad <= MAX_NON_TEXT_SHARE * len(text)
