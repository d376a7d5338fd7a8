"""Pictures in APEv2 and ASF tags, which mutagen leaves as raw bytes.

* APEv2 (Monkey's Audio, WavPack): a binary item ``Cover Art (Front)`` (or another
  ``Cover Art (…)``) holding a file name, a NUL, then the image (foobar2000's and Mp3tag's layout);
* ASF (WMA): ``WM/Picture``: picture type (1 byte), image length (4 bytes, little-endian), MIME
  type and description (UTF-16LE, each ending in a two-byte NUL), then the image.
"""

from __future__ import annotations

import struct
from typing import Any

APE_COVER_PREFIX = "cover art"
_APE_FRONT = "cover art (front)"


def ape_cover(tags: Any) -> bytes | None:
    """The front cover of an APEv2 tag (else its first picture), or None."""
    keys = [k for k in getattr(tags, "keys", lambda: [])() if str(k).casefold().startswith(APE_COVER_PREFIX)]
    if not keys:
        return None
    keys.sort(key=lambda k: str(k).casefold() != _APE_FRONT)
    value = tags[keys[0]]
    raw = bytes(getattr(value, "value", b""))
    name_end = raw.find(b"\x00")
    image = raw[name_end + 1 :] if name_end >= 0 else raw
    return image or None


def _utf16_end(raw: bytes, start: int) -> int:
    """Where the UTF-16LE string starting at ``start`` ends (after its NUL), or -1."""
    for at in range(start, len(raw) - 1, 2):
        if raw[at : at + 2] == b"\x00\x00":
            return at + 2
    return -1


def asf_cover(tags: Any) -> bytes | None:
    """The image of a WMA file's first ``WM/Picture``, or None."""
    values = None
    for key in getattr(tags, "keys", lambda: [])():
        if str(key).casefold() == "wm/picture":
            values = tags[key]
            break
    if not values:
        return None
    raw = bytes(getattr(values[0], "value", b""))
    if len(raw) < 5:
        return None
    (length,) = struct.unpack_from("<I", raw, 1)
    mime_end = _utf16_end(raw, 5)
    text_end = _utf16_end(raw, mime_end) if mime_end > 0 else -1
    if text_end < 0 or length <= 0:
        return None
    image = raw[text_end : text_end + length]
    return image if len(image) == length else None
