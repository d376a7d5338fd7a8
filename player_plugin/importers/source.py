"""Bounded readers for history exports: only regular files, zip members streamed, every byte counted.

An export is read as text streams that can be opened again (the import reads the file twice: once
to check it, once to store it). Nothing is ever read whole: a stream yields at most
:data:`MAX_UNCOMPRESSED_BYTES`, a zip member at most :data:`MAX_ZIP_RATIO` times its compressed
size (plus :data:`ZIP_RATIO_SLACK_BYTES`), and a zip may list at most :data:`MAX_ZIP_MEMBERS` entries
(checked from its end record before ``zipfile`` reads the central directory). FIFOs, devices,
sockets and folders are refused after a non-blocking open, so none can hang or flood the import.
"""

from __future__ import annotations

import io
import os
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

from player_plugin.importers.model import HistoryImportError
from player_plugin.importers.spotify import SPOTIFY_FILE
from player_plugin.library.lyrics import BOMS as _BOMS
from player_plugin.library.lyrics import decode_text

MIB = 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 4 * 1024 * MIB  # per file, or per zip (all members together)
MAX_ZIP_MEMBERS = 10_000  # a ListenBrainz export holds one file a month, plus a few others
MAX_ZIP_RATIO = 100  # JSON Lines of listens deflate about 10×; a zip bomb 1000× and more
ZIP_RATIO_SLACK_BYTES = 1 * MIB  # small members may compress better than the ratio allows
HEAD_BYTES = 64 * 1024  # what the encoding and the format are told from
READ_CHUNK_BYTES = 256 * 1024
HEAD_CUT_WINDOW = 4096  # where, at the head's end, a safe place to cut it is looked for
_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22
_EOCD_MAX_COMMENT = 0xFFFF
_ZIP_EXTRACT_ERRORS = (zlib.error, zipfile.BadZipFile, EOFError, OSError, RuntimeError, NotImplementedError)
# Encodings a history may come in, tried against lyrics.decode_text's verdict on the head.
_CANDIDATES = ("utf-8", "gb18030", "big5", "cp1252", "latin-1", "utf-16-le", "utf-16-be")
# Bytes that are a character boundary in UTF-8, GB18030 and Big5 alike (none is a trail byte there).
_SAFE_CUT = re.compile(rb'[\n\r",:{}\[\] ]')


def open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading, refusing anything but a regular file without blocking on it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except IsADirectoryError as exc:
        raise HistoryImportError(f"{path}: is a folder, not a history export file") from exc
    except OSError as exc:
        raise HistoryImportError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise HistoryImportError(f"{path}: is {_kind(mode)}, not a history export file")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


class _Counted(io.RawIOBase):
    """A read-only stream that refuses to yield more than ``limit`` bytes and names the failure."""

    def __init__(self, inner: BinaryIO, limit: int, where: str, too_big: str) -> None:
        self._inner, self._left, self._where, self._too_big = inner, limit, where, too_big

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        want = min(len(buffer), self._left + 1)
        try:
            data = self._inner.read(want)
        except _ZIP_EXTRACT_ERRORS as exc:
            raise HistoryImportError(f"{self._where}: cannot extract ({exc})") from exc
        if len(data) > self._left:
            raise HistoryImportError(f"{self._where}: {self._too_big}")
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


@dataclass(frozen=True)
class Part:
    """One file of an export (the file itself, or a zip member) that can be opened again."""

    where: str  # "path" or "path!member", for messages
    open_bytes: Callable[[], BinaryIO]  # a fresh bounded byte stream from the start
    in_zip: bool = False

    @contextmanager
    def text(self) -> Iterator[TextIO]:
        """The part as text from its start (encoding told from the head, BOM dropped, ``\\n`` newlines)."""
        with self.open_bytes() as raw:
            head = raw.read(HEAD_BYTES)
            encoding, skip = sniff_encoding(head, complete=len(head) < HEAD_BYTES)
        stream = self.open_bytes()
        stream.read(skip)
        text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline=None)
        try:
            yield text
        finally:
            text.close()


def sniff_encoding(head: bytes, complete: bool) -> tuple[str, int]:
    """(codec, BOM length) of a text that starts with ``head`` (the whole text when ``complete``)."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding, len(bom)
    sample = head
    if not complete:
        cut = max((m.end() for m in _SAFE_CUT.finditer(head, max(0, len(head) - HEAD_CUT_WINDOW))), default=0)
        sample = head[:cut] if cut else head
    verdict = decode_text(sample)
    for encoding in _CANDIDATES:
        part = sample[: len(sample) // 2 * 2] if encoding.startswith("utf-16") else sample
        try:
            text = part.decode(encoding)
        except UnicodeDecodeError:
            continue
        if text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "") == verdict:
            return encoding, 0
    return "utf-8", 0


def file_parts(path: Path) -> list[Part]:
    """The parts to parse: the file itself, the listens files of a zip (by natural name order), or those
    of a folder (an unzipped Spotify or ListenBrainz export)."""
    if path.is_dir():
        return _folder_parts(path)
    with open_regular(path) as fh:
        magic = fh.read(4)
    if not (magic.startswith(b"PK\x03\x04") or magic.startswith(b"PK\x05\x06")):

        def open_file() -> BinaryIO:
            too_big = f"larger than {MAX_UNCOMPRESSED_BYTES // MIB} MiB; not a listening history export"
            return io.BufferedReader(
                _Counted(open_regular(path), MAX_UNCOMPRESSED_BYTES, str(path), too_big), READ_CHUNK_BYTES
            )

        return [Part(str(path), open_file)]
    return _zip_parts(path)


def _zip_parts(path: Path) -> list[Part]:
    with open_regular(path) as fh:
        _check_zip_end(fh, path)
        try:
            with zipfile.ZipFile(fh) as archive:
                infos = archive.infolist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise HistoryImportError(f"{path}: not a readable zip archive ({exc})") from exc
    if len(infos) > MAX_ZIP_MEMBERS:
        raise HistoryImportError(f"{path}: the zip lists {len(infos)} files, more than {MAX_ZIP_MEMBERS}")
    names = [
        i
        for i in infos
        if not i.is_dir()
        and i.filename.lower().endswith((".json", ".jsonl", ".csv"))
        and not i.filename.startswith("__MACOSX/")
    ]
    listens = [i for i in names if "listens" in i.filename.lower().split("/")[:-1]]
    spotify = [i for i in names if SPOTIFY_FILE.match(i.filename.rsplit("/", 1)[-1])]
    chosen = sorted(spotify or listens or names, key=lambda i: natural_key(i.filename))
    if not chosen:
        raise HistoryImportError(f"{path}: the zip holds no .json, .jsonl or .csv file of listens")
    total = sum(i.file_size for i in chosen)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise HistoryImportError(
            f"{path}: its listens files unpack to {total // MIB} MiB, more than {MAX_UNCOMPRESSED_BYTES // MIB} MiB"
        )
    return [_member(path, info) for info in chosen]


def _folder_parts(folder: Path) -> list[Part]:
    """An unzipped export, chosen as in a zip: the Spotify history files in ``folder`` and below, else
    the ``.json``/``.jsonl`` files under a ``listens`` folder (a ListenBrainz export: one file a month).
    Symlinked folders are not followed, at most MAX_ZIP_MEMBERS entries looked at, MAX_UNCOMPRESSED_BYTES
    read in all."""
    spotify: list[Path] = []
    listens: list[Path] = []
    seen = 0
    for root, dirs, files in os.walk(folder, onerror=None, followlinks=False):
        seen += len(dirs) + len(files)
        if seen > MAX_ZIP_MEMBERS:
            raise HistoryImportError(f"{folder}: the folder holds more than {MAX_ZIP_MEMBERS} entries")
        dirs[:] = [d for d in dirs if not d.startswith(("__MACOSX", "."))]
        spotify.extend(Path(root) / f for f in files if SPOTIFY_FILE.match(f))
        if "listens" in (part.lower() for part in Path(root).relative_to(folder).parts):
            listens.extend(Path(root) / f for f in files if f.lower().endswith((".json", ".jsonl")))
    found = spotify or listens
    if not found:
        raise HistoryImportError(
            f"{folder}: is a folder without Spotify streaming history files (StreamingHistory*.json, "
            "Streaming_History_Audio_*.json, endsong_*.json) or a ListenBrainz listens/ folder; "
            "name a history export file or zip"
        )
    found.sort(key=lambda p: natural_key(str(p.relative_to(folder))))
    total = 0
    for p in found:
        try:
            total += p.stat().st_size
        except OSError as exc:
            raise HistoryImportError(f"{p}: cannot read ({exc.strerror or exc})") from exc
    if total > MAX_UNCOMPRESSED_BYTES:
        raise HistoryImportError(
            f"{folder}: its history files hold {total // MIB} MiB, more than {MAX_UNCOMPRESSED_BYTES // MIB} MiB"
        )
    return [part for p in found for part in file_parts(p)]


def _member(path: Path, info: zipfile.ZipInfo) -> Part:
    where = f"{path}!{info.filename}"
    # The stated size may lie; the deflate stream cannot yield more than its ratio allows.
    limit = min(MAX_UNCOMPRESSED_BYTES, info.compress_size * MAX_ZIP_RATIO + ZIP_RATIO_SLACK_BYTES)
    too_big = (
        f"unpacks to more than {limit // MIB or 1} MiB from {info.compress_size} compressed bytes "
        f"(over {MAX_ZIP_RATIO}x): refusing what looks like a zip bomb"
    )

    def open_member() -> BinaryIO:
        fh = open_regular(path)
        try:
            archive = zipfile.ZipFile(fh)
            member = archive.open(info)
        except (*_ZIP_EXTRACT_ERRORS, ValueError) as exc:
            fh.close()
            raise HistoryImportError(f"{where}: cannot extract ({exc})") from exc
        return io.BufferedReader(_Counted(_Closing(member, archive, fh), limit, where, too_big), READ_CHUNK_BYTES)

    return Part(where, open_member, in_zip=True)


class _Closing:
    """A zip member stream that closes its archive and file with it."""

    def __init__(self, member: BinaryIO, *owners) -> None:
        self._member, self._owners = member, owners

    def read(self, n: int) -> bytes:
        return self._member.read(n)

    def close(self) -> None:
        self._member.close()
        for owner in self._owners:
            owner.close()


def _check_zip_end(fh: BinaryIO, path: Path) -> None:
    """Refuse a zip whose end record lists more than MAX_ZIP_MEMBERS entries (or a zip64 count)."""
    size = fh.seek(0, os.SEEK_END)
    tail_len = min(size, _EOCD_SIZE + _EOCD_MAX_COMMENT)
    fh.seek(size - tail_len)
    tail = fh.read(tail_len)
    at = tail.rfind(_EOCD)
    fh.seek(0)
    if at < 0 or len(tail) - at < _EOCD_SIZE:
        raise HistoryImportError(f"{path}: not a readable zip archive (no end-of-archive record)")
    entries, cd_size = struct.unpack("<xxxxxxxxxxHL", tail[at : at + 16])
    if entries > MAX_ZIP_MEMBERS or cd_size > size:
        raise HistoryImportError(
            f"{path}: the zip lists {entries} files (at most {MAX_ZIP_MEMBERS} are read) or a central directory "
            "larger than the file"
        )


def bounded_lines(stream: TextIO, limit: int) -> Iterator[tuple[int, str | None]]:
    """(line number, line) for each line of ``stream``, never reading more than ``limit`` characters
    at once; a longer line comes as ``None``, its rest read past a window at a time."""
    lineno = 0
    while line := stream.readline(limit + 1):
        lineno += 1
        if len(line) > limit and not line.endswith("\n"):
            while line and not line.endswith("\n"):
                line = stream.readline(limit)
            yield lineno, None
        else:
            yield lineno, line


def natural_key(name: str) -> list:
    """``listens/2023/10.jsonl`` after ``listens/2023/9.jsonl``."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]
