"""A decoder for devices that send one read per line (CR and/or LF terminated).

Used by EM4100 line readers, magstripe readers and barcode scanners, over serial
or through the keyboard-wedge transport (which turns Enter into a newline).
"""
from __future__ import annotations

import time
from typing import Callable

from drivers.decoding import DecodedItem
from drivers.errors import DriverError, FrameError

# Framing bytes some readers wrap a line in (STX/ETX); not part of the data.
_FRAMING = b"\x02\x03"


class LineDecoder:
    """Splits a byte stream into lines and hands each to ``parse_line``.

    ``parse_line`` returns a card id (or Decoded) or raises DriverError; either way
    the decoder goes on. A line longer than ``max_len`` is dropped up to its end.
    A partial line left without a terminator for ``idle_timeout_s`` is dropped by
    ``idle()``, so half a swipe cannot glue onto the next one.

    With ``join_lines_quiet_s`` set, lines are joined until the device has been
    quiet that long, then parsed as one read: for magstripe readers that send
    Enter after every track instead of once per swipe.
    """

    def __init__(
        self,
        parse_line: Callable[[str], DecodedItem],
        *,
        what: str,
        max_len: int = 256,
        idle_timeout_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        join_lines_quiet_s: float | None = None,
    ) -> None:
        self._parse_line = parse_line
        self._what = what
        self._max_len = max_len
        self._idle_timeout_s = idle_timeout_s
        self._clock = clock
        self._buffer = bytearray()
        self._overflowed = False
        self._last_byte_at = 0.0
        self._join_quiet_s = join_lines_quiet_s
        self._pending: list[str] = []

    def feed(self, data: bytes) -> list[DecodedItem]:
        out: list[DecodedItem] = []
        if data:
            now = self._clock()
            if self._pending and now - self._last_byte_at >= (self._join_quiet_s or 0.0):
                out.extend(self._parse("".join(self._pending)))  # a new read began
                self._pending.clear()
            self._last_byte_at = now
        for byte in data:
            if byte in b"\r\n":
                out.extend(self._end_of_line())
            elif byte in _FRAMING:
                continue
            elif self._overflowed:
                continue
            elif len(self._buffer) >= self._max_len:
                self._overflowed = True
                self._buffer.clear()
                out.append(FrameError(
                    f"a {self._what} line longer than {self._max_len} bytes was dropped "
                    "(no line end: wrong reader type or baud rate?)"
                ))
            else:
                self._buffer.append(byte)
        return out

    def idle(self) -> list[DecodedItem]:
        quiet_for = self._clock() - self._last_byte_at
        out: list[DecodedItem] = []
        if self._buffer and quiet_for > self._idle_timeout_s:
            self._buffer.clear()
            out.append(FrameError(f"an incomplete {self._what} read was dropped (no line end); try again"))
        if self._pending and not self._buffer and quiet_for >= (self._join_quiet_s or 0.0):
            out.extend(self._parse("".join(self._pending)))
            self._pending.clear()
        return out

    def _end_of_line(self) -> list[DecodedItem]:
        if self._overflowed:
            self._overflowed = False
            return []
        if not self._buffer:
            return []  # CR LF: the second half of the terminator
        raw = bytes(self._buffer)
        self._buffer.clear()
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            return [FrameError(f"a {self._what} line had non-ASCII bytes (noise or wrong baud rate?) and was dropped")]
        if self._join_quiet_s is not None:
            self._pending.append(text)
            return []
        return self._parse(text)

    def _parse(self, text: str) -> list[DecodedItem]:
        try:
            return [self._parse_line(text)]
        except DriverError as error:
            return [error]
