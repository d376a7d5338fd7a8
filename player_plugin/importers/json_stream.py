"""JSON read one value at a time from a text stream, in bounded memory and bounded depth.

``JsonReader`` keeps a window of the text and drives ``json.JSONDecoder.raw_decode`` over it; when a
value runs past the window the window grows (doubling, so a long value costs linear time) up to
:data:`MAX_JSON_VALUE_CHARS`. A top-level array is read item by item, so an export of any length
needs the memory of one listen. Integers longer than :data:`MAX_INT_DIGITS` stay strings (Python
refuses to convert 4,300 digits, and a timestamp that long is no time anyway), and a value nested
deeper than :data:`MAX_JSON_DEPTH` is refused (json's recursion would otherwise end the process's
patience with a ``RecursionError``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, TextIO

from player_plugin.importers.model import HistoryImportError

MAX_JSON_VALUE_CHARS = 8 * 1024 * 1024  # one listen, one Last.fm page, or a whole API response
MAX_JSON_DEPTH = 32  # a listen nests 3 deep, a Last.fm page 5
MAX_INT_DIGITS = 20  # unix milliseconds have 13; a 64-bit id 19
READ_CHUNK_CHARS = 256 * 1024
_WS = re.compile(r"[ \t\n\r]*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_INNERMOST = re.compile(r"\[[^\[\]{}]*\]|\{[^\[\]{}]*\}")
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)


class TooDeepError(HistoryImportError):
    """A value (already read past) nests deeper than MAX_JSON_DEPTH."""


class InvalidJsonError(HistoryImportError):
    """The text is not JSON where a value was expected."""


def _int(text: str) -> int | str:
    return int(text) if len(text.lstrip("-")) <= MAX_INT_DIGITS else text


_DECODER = json.JSONDecoder()
_SAFE_DECODER = json.JSONDecoder(parse_int=_int)  # slower: only after _DECODER refused an integer


def _raw_decode(text: str, start: int) -> tuple[Any, int]:
    try:
        return _DECODER.raw_decode(text, start)
    except json.JSONDecodeError:
        raise
    except ValueError:  # "Exceeds the limit (4300 digits) for integer string conversion"
        return _SAFE_DECODER.raw_decode(text, start)


def parse_value(text: str) -> tuple[bool, Any, str]:
    """(True, value, "") for a JSON text, else (False, None, what is wrong); never raises."""
    try:
        value, end = _raw_decode(text, _WS.match(text).end())
        if text[end:].strip():
            return False, None, "Extra data"
        return True, value, ""
    except json.JSONDecodeError as exc:
        return False, None, exc.msg
    except RecursionError:
        return False, None, f"nested deeper than {MAX_JSON_DEPTH} levels"
    except ValueError as exc:
        return False, None, str(exc) or type(exc).__name__


def _value_end(text: str, start: int) -> int | None:
    """Where the array or object at ``start`` ends (without recursion), or None: not in ``text``."""
    depth = 0
    for m in _TOKEN.finditer(text, start):
        token = m.group()
        if token == "[" or token == "{":
            depth += 1
        elif token == "]" or token == "}":
            depth -= 1
            if depth == 0:
                return m.end()
    return None


def nests_deeper_than(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON ``text`` has arrays/objects nested more than ``limit`` deep."""
    if text.count("[") + text.count("{") <= limit:
        return False
    rest = _STRING.sub("", text)
    for _ in range(limit):
        rest, n = _INNERMOST.subn("", rest)
        if n == 0:
            return False
    return "[" in rest or "{" in rest


class JsonReader:
    """Values, one after another, from ``stream`` (``where`` names it in messages)."""

    def __init__(self, stream: TextIO, where: str) -> None:
        self._stream, self.where = stream, where
        self._buf, self._pos, self._eof = "", 0, False
        self._line, self._col = 1, 1  # of _buf[0]

    # -- the window ----------------------------------------------------------------------------

    def _fill(self, at_least: int = READ_CHUNK_CHARS) -> None:
        dropped = self._buf[: self._pos]
        newlines = dropped.count("\n")
        if newlines:
            self._line += newlines
            self._col = len(dropped) - dropped.rfind("\n")
        else:
            self._col += len(dropped)
        chunk = self._stream.read(max(at_least, READ_CHUNK_CHARS))
        self._buf, self._pos = self._buf[self._pos :] + chunk, 0
        self._eof = not chunk

    def _at(self, pos: int) -> str:
        before = self._buf[:pos]
        newlines = before.count("\n")
        if newlines:
            column = pos - before.rfind("\n")
            return f"line {self._line + newlines}, column {column}"
        return f"line {self._line}, column {self._col + pos}"

    def peek(self) -> str:
        """The next character that is not whitespace ('' at the end), left unread."""
        while True:
            self._pos = _WS.match(self._buf, self._pos).end()
            if self._pos < len(self._buf):
                return self._buf[self._pos]
            if self._eof:
                return ""
            self._fill()

    def take(self, expected: str) -> None:
        found = self.peek()
        if found != expected:
            what = repr(found) if found else "the end of the file"
            at = self._at(self._pos)
            raise InvalidJsonError(f"{self.where}: {at}: invalid JSON (expected {expected!r}, got {what})")
        self._pos += 1

    # -- values --------------------------------------------------------------------------------

    def value(self) -> Any:
        """The next value. Raises HistoryImportError when it is invalid or too large, TooDeepError
        (after reading past it) when it nests too deep."""
        self.peek()
        while True:
            start = self._pos
            try:
                obj, end = _raw_decode(self._buf, start)
            except json.JSONDecodeError as exc:
                if self._eof or len(self._buf) - start > MAX_JSON_VALUE_CHARS:
                    raise self._invalid(exc) from None
                self._fill(len(self._buf) - start)
                continue
            except RecursionError:
                end = _value_end(self._buf, start)
                too_deep = f"{self.where}: {self._at(start)}: JSON nested deeper than {MAX_JSON_DEPTH} levels"
                if end is not None:
                    self._pos = end
                    raise TooDeepError(too_deep) from None
                if self._eof or len(self._buf) - start > MAX_JSON_VALUE_CHARS:
                    raise HistoryImportError(too_deep) from None
                self._fill(len(self._buf) - start)
                continue
            if end >= len(self._buf) and not self._eof:  # a number may go on in the next chunk
                self._fill()
                continue
            if end - start > MAX_JSON_VALUE_CHARS:
                raise self._too_large(start)
            text = self._buf[start:end]
            self._pos = end
            if nests_deeper_than(text):
                raise TooDeepError(f"{self.where}: {self._at(start)}: JSON nested deeper than {MAX_JSON_DEPTH} levels")
            return obj

    def _invalid(self, exc: json.JSONDecodeError) -> HistoryImportError:
        if not self._eof:
            return self._too_large(self._pos)
        return InvalidJsonError(f"{self.where}: {self._at(exc.pos)}: invalid JSON ({exc.msg})")

    def _too_large(self, start: int) -> HistoryImportError:
        return HistoryImportError(
            f"{self.where}: {self._at(start)}: a JSON value larger than {MAX_JSON_VALUE_CHARS // (1024 * 1024)} MiB "
            "(or one that never ends); not a listening history"
        )

    def array_items(self) -> Iterator[Any]:
        """The items of the array that starts here, one at a time (a TooDeepError item is yielded
        as the error itself, so the caller can count it and go on)."""
        self.take("[")
        if self.peek() == "]":
            self._pos += 1
            return
        while True:
            try:
                yield self.value()
            except TooDeepError as exc:
                yield exc
            found = self.peek()
            if found == ",":
                self._pos += 1
            elif found == "]":
                self._pos += 1
                return
            else:
                self.take(",")  # raises, naming what came instead
