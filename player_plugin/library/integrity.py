"""Is the whole stream there? Truncated files whose header promises the full duration.

mutagen takes a duration from the header (MP3's Xing/VBRI frame count, FLAC's STREAMINFO, a WAV or
AIFF chunk size, an MP4 ``moov``), so a file cut short (a failed copy or download) reads as whole.
Each check compares what the header promises with what the file holds, cheaply (one read near the
end at most), and answers a reason or None:

* MP3 with a Xing/VBRI header: its byte count against the bytes after the first frame;
* FLAC: the sample position of the last frame header (CRC-8 checked) against STREAMINFO's total;
* Ogg (Vorbis, Opus, FLAC): the last page of the stream must end inside the file (mutagen's
  duration is the last complete page's granule, so a cut file has the right, shorter, length;
  only the cut page gives it away);
* MP4: no top-level atom may reach past the end of the file;
* WAV / AIFF: the ``data`` / ``SSND`` chunk must fit in the file;
* WavPack: the last block (found from the end) must fit and end at the header's sample count;
* WMA (ASF): the data object must fit in the file.

(Monkey's Audio is not checked: no encoder for it was at hand to test with.)

Anything a check cannot parse is given the benefit of the doubt: only a clear shortfall is refused.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any, BinaryIO

import mutagen
from mutagen.aiff import AIFF
from mutagen.asf import ASF
from mutagen.flac import FLAC
from mutagen.mp3 import MP3, VBRIHeader, XingHeader
from mutagen.mp4 import MP4
from mutagen.ogg import OggFileType
from mutagen.wave import WAVE
from mutagen.wavpack import WavPack

__all__ = ["TRUNCATION_TOLERANCE", "truncation_reason"]

# A stream may hold this much less than its header promises before it counts as cut short
# (encoders round byte counts; a cut inside the last frame of a FLAC is not visible at all).
TRUNCATION_TOLERANCE = 0.01
_OGG_MAX_PAGE = 27 + 255 + 255 * 255  # header + segment table + body
_FLAC_TAIL = 1024 * 1024  # how far from the end a FLAC's last frame header is looked for
_FLAC_DEFAULT_MAX_FRAME = 64 * 1024  # when STREAMINFO does not give the largest frame size
_SIZE_UNKNOWN = (0, 0xFFFFFFFF)  # chunk sizes of a stream written without seeking back
_WAVPACK_TAIL = 1024 * 1024  # WavPack blocks are at most 1 MiB (its format's limit)
_WAVPACK_VERSIONS = range(0x402, 0x411)
_ASF_DATA = bytes.fromhex("3626b2758e66cf11a6d900aa0062ce6c")  # the ASF data object's GUID (little-endian)


def truncation_reason(audio: mutagen.FileType, fh: BinaryIO, size: int) -> str | None:
    """Why ``audio`` (loaded from ``fh``, ``size`` bytes) is cut short, or None when it is whole."""
    try:
        if isinstance(audio, MP3):
            return _mp3(audio.info, fh, size)
        if isinstance(audio, FLAC):
            return _flac(audio.info, fh, size)
        if isinstance(audio, OggFileType):
            return _ogg(getattr(audio.info, "serial", None), fh, size)
        if isinstance(audio, MP4):
            return _atoms(fh, size)
        if isinstance(audio, WAVE):
            return _chunks(fh, size, start=12, big_endian=False, audio_chunk=b"data")
        if isinstance(audio, AIFF):
            return _chunks(fh, size, start=12, big_endian=True, audio_chunk=b"SSND")
        if isinstance(audio, WavPack):
            return _wavpack(fh, size)
        if isinstance(audio, ASF):
            return _asf(fh, size)
    except (OSError, EOFError, ValueError, struct.error, IndexError):
        return None  # not parseable here: mutagen accepted it, so do we
    return None


def _cut(have: float, want: float, unit: str) -> str | None:
    if want > 0 and have < want * (1 - TRUNCATION_TOLERANCE):
        return f"truncated: the file holds {have / want:.0%} of the {unit} its header promises"
    return None


def _mp3(info: Any, fh: BinaryIO, size: int) -> str | None:
    if getattr(info, "sketchy", True):
        return None  # no VBR header: mutagen took the length from the file size, so it fits
    start = info.frame_offset
    for header, offset in ((XingHeader, XingHeader.get_offset(info)), (VBRIHeader, VBRIHeader.get_offset(info))):
        fh.seek(start + offset)
        try:
            vbr = header(fh)
        except Exception:  # noqa: BLE001 - XingHeaderError / VBRIHeaderError: try the other
            continue
        if getattr(vbr, "bytes", -1) > 0:
            return _cut(size - start, vbr.bytes, "audio bytes")
    return None


def _flac(info: Any, fh: BinaryIO, size: int) -> str | None:
    total = getattr(info, "total_samples", 0)
    if not total:
        return None
    tail = _tail(fh, size, max(_FLAC_TAIL, 2 * (info.max_framesize or _FLAC_DEFAULT_MAX_FRAME)))
    for pos in _from_the_end(tail, b"\xff"):
        end = _flac_frame_end(tail, pos, info)
        if end is not None:
            return _cut(end, total, "samples")
    return None


def _tail(fh: BinaryIO, size: int, length: int) -> bytes:
    """The last ``length`` bytes of the file (all of it when shorter)."""
    fh.seek(size - min(size, length))
    return fh.read(length)


def _from_the_end(data: bytes, marker: bytes) -> Iterator[int]:
    """Where ``marker`` starts in ``data``, last first."""
    pos = len(data)
    while (pos := data.rfind(marker, 0, pos)) >= 0:
        yield pos


def _flac_frame_end(data: bytes, pos: int, info: Any) -> int | None:
    """The sample after the frame whose header starts at ``pos``, or None if none starts there."""
    head = data[pos : pos + 16]
    if len(head) < 6 or head[1] not in (0xF8, 0xF9) or head[3] & 1:
        return None
    variable = head[1] == 0xF9
    block_code, rate_code = head[2] >> 4, head[2] & 0x0F
    channel_code, bits_code = head[3] >> 4, (head[3] >> 1) & 0x07
    if block_code == 0 or rate_code == 0x0F or channel_code > 10 or bits_code == 3:
        return None
    number, i = _utf8_number(head, 4)
    if number is None:
        return None
    if block_code == 1:
        block = 192
    elif block_code <= 5:
        block = 576 << (block_code - 2)
    elif block_code == 6:
        block, i = head[i] + 1, i + 1
    elif block_code == 7:
        block, i = int.from_bytes(head[i : i + 2], "big") + 1, i + 2
    else:
        block = 256 << (block_code - 8)
    i += {12: 1, 13: 2, 14: 2}.get(rate_code, 0)
    if i >= len(head) or _crc8(head[:i]) != head[i]:
        return None
    start = number if variable else number * (info.max_blocksize or block)
    return start + block


def _utf8_number(data: bytes, i: int) -> tuple[int | None, int]:
    """FLAC's UTF-8-like coded frame/sample number at ``data[i]``: (value, index after it)."""
    first = data[i]
    if first < 0x80:
        return first, i + 1
    length = next((n for n in range(2, 8) if first >> (7 - n) == (0xFF >> (7 - n)) - 1), 0)
    if not length or i + length > len(data):
        return None, i
    value = first & (0x7F >> length)
    for byte in data[i + 1 : i + length]:
        if byte >> 6 != 0b10:
            return None, i
        value = (value << 6) | (byte & 0x3F)
    return value, i + length


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _ogg(serial: int | None, fh: BinaryIO, size: int) -> str | None:
    if serial is None:
        return None
    tail = _tail(fh, size, 2 * _OGG_MAX_PAGE)
    key = struct.pack("<I", serial)
    for pos in _from_the_end(tail, b"OggS\x00"):
        if tail[pos + 14 : pos + 18] != key:
            continue  # another stream's page, or "OggS" inside data
        if len(tail) < pos + 27 or len(tail) < pos + 27 + tail[pos + 26]:
            return "truncated: the file ends inside an Ogg page header"
        segments = tail[pos + 27 : pos + 27 + tail[pos + 26]]
        end = pos + 27 + len(segments) + sum(segments)
        if end > len(tail):
            return f"truncated: the last Ogg page is cut ({len(tail) - pos} of {end - pos} bytes)"
        return None
    return None


def _atoms(fh: BinaryIO, size: int) -> str | None:
    pos = 0
    while pos + 8 <= size:
        fh.seek(pos)
        length, kind = struct.unpack(">I4s", fh.read(8))
        if length == 1:
            length = struct.unpack(">Q", fh.read(8))[0]
        elif length == 0:
            return None  # the last atom runs to the end of the file
        if length < 8:
            return None  # not an atom header: padding or junk after the last atom
        if pos + length > size:
            name = kind.decode("latin-1")
            return f"truncated: the MP4 '{name}' atom needs {pos + length - size} more bytes than the file has"
        pos += length
    return None


def _chunks(fh: BinaryIO, size: int, *, start: int, big_endian: bool, audio_chunk: bytes) -> str | None:
    order = ">" if big_endian else "<"
    pos = start
    while pos + 8 <= size:
        fh.seek(pos)
        kind, length = struct.unpack(order + "4sI", fh.read(8))
        if kind == audio_chunk:
            if length in _SIZE_UNKNOWN:
                return None
            return _cut(size - pos - 8, length, "audio data")
        pos += 8 + length + (length & 1)
    return None


def _wavpack(fh: BinaryIO, size: int) -> str | None:
    tail = _tail(fh, size, _WAVPACK_TAIL + 32)
    for pos in _from_the_end(tail, b"wvpk"):
        head = tail[pos : pos + 32]
        if len(head) < 32:
            return "truncated: the file ends inside a WavPack block header"
        block_size, version, index_hi, total_hi, total, index, samples = struct.unpack_from("<IHBBIII", head, 4)
        if version not in _WAVPACK_VERSIONS or block_size > _WAVPACK_TAIL:
            continue  # "wvpk" inside audio data
        if pos + 8 + block_size > len(tail):
            return f"truncated: the last WavPack block is cut ({len(tail) - pos} of {block_size + 8} bytes)"
        if total == 0xFFFFFFFF:
            return None  # written without a length
        return _cut((index_hi << 32 | index) + samples, total_hi << 32 | total, "samples")
    return None


def _asf(fh: BinaryIO, size: int) -> str | None:
    fh.seek(16)
    (header_size,) = struct.unpack("<Q", fh.read(8))
    fh.seek(header_size)
    head = fh.read(24)
    if len(head) < 24:
        return "truncated: the WMA file ends before its audio"
    if head[:16] != _ASF_DATA:
        return None
    (data_size,) = struct.unpack_from("<Q", head, 16)
    if data_size == 0:
        return None  # a broadcast stream: size unknown
    return _cut(size - header_size, data_size, "audio data")
