"""RDM6300 125 kHz reader frames: pure encode/parse and a resynchronising stream decoder.

A frame is 14 bytes at 9600 baud 8N1::

    0x02 | 10 ASCII hex (2 version + 8 card) | 2 ASCII hex checksum | 0x03

The checksum is the XOR of the five data bytes that the ten hex characters spell.
The reader repeats the frame for as long as a card is held on it.

Error messages never contain card digits: a misread frame may still be most of a
real card number, and messages end up in logs.
"""
from __future__ import annotations

import time
from typing import Callable

from drivers.errors import CardIdError, ChecksumError, DriverError, FrameError

STX = 0x02
ETX = 0x03
FRAME_LEN = 14
UID_LEN = 10
BAUDRATE = 9600
# A frame takes 14.6 ms at 9600 baud and the reader sends it in one burst, so a
# partial frame that waited this long was cut off (unplug, reader reset), not slow.
STALE_PARTIAL_S = 0.25

_HEX = frozenset(b"0123456789ABCDEFabcdef")


def checksum(data: bytes) -> int:
    """XOR of the data bytes."""
    result = 0
    for byte in data:
        result ^= byte
    return result


def encode_frame(uid: str) -> bytes:
    """Build the 14 bytes an RDM6300 sends for card ``uid`` (10 hex chars, any case)."""
    if not isinstance(uid, str) or len(uid) != UID_LEN or not all(ord(c) in _HEX for c in uid):
        length = len(uid) if isinstance(uid, str) else type(uid).__name__
        raise CardIdError(
            f"an RDM6300 card id is {UID_LEN} hex digits (2 version + 8 card); "
            f"got {length} characters or a non-hex character: pass e.g. '0A00B1C2D3'"
        )
    body = uid.upper()
    check = checksum(bytes.fromhex(body))
    return bytes([STX]) + body.encode("ascii") + f"{check:02X}".encode("ascii") + bytes([ETX])


def parse_frame(frame: bytes) -> str:
    """Return the 10 uppercase hex characters of a valid frame.

    Raises FrameError for a frame of the wrong shape and ChecksumError for a frame
    whose checksum does not match (a misread: the shopper should tap again).
    """
    if len(frame) != FRAME_LEN:
        raise FrameError(
            f"an RDM6300 frame is {FRAME_LEN} bytes (0x02, 12 hex chars, 0x03), got {len(frame)}; "
            "check the reader is an RDM6300 at 9600 baud"
        )
    if frame[0] != STX:
        raise FrameError(f"an RDM6300 frame starts with 0x02, this one with 0x{frame[0]:02X}")
    if frame[-1] != ETX:
        raise FrameError(f"an RDM6300 frame ends with 0x03, this one with 0x{frame[-1]:02X}")
    for position in range(1, FRAME_LEN - 1):
        if frame[position] not in _HEX:
            raise FrameError(
                f"an RDM6300 frame carries ASCII hex, byte {position} is not a hex digit "
                "(line noise or a wrong baud rate?)"
            )
    text = frame[1:-1].decode("ascii").upper()
    uid, stated = text[:UID_LEN], int(text[UID_LEN:], 16)
    computed = checksum(bytes.fromhex(uid))
    if stated != computed:
        raise ChecksumError(
            f"RDM6300 frame checksum mismatch (frame says 0x{stated:02X}, data gives 0x{computed:02X}): "
            "the card was misread, tap it again"
        )
    return uid


def _first_bad_position(candidate: bytes | bytearray) -> int | None:
    """Index of the first byte that cannot belong to a frame starting at candidate[0]."""
    for position in range(1, len(candidate)):
        byte = candidate[position]
        if position < FRAME_LEN - 1:
            if byte not in _HEX:
                return position
        elif byte != ETX:
            return position
    return None


class Rdm6300Decoder:
    """Turns a byte stream into card ids and errors, one ``feed`` at a time.

    Resynchronises on the next 0x02 after noise, a cut-off frame or a bad checksum,
    and keeps at most one partial frame between calls. A partial frame older than
    ``stale_after_s`` is dropped (by ``idle()`` or the next ``feed``), so half a
    frame left on the line can neither join the next bytes into a tap nor hide the
    next frame. Never raises on input.
    """

    def __init__(
        self, *, stale_after_s: float = STALE_PARTIAL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._buffer = bytearray()
        self._stale_after_s = stale_after_s
        self._clock = clock
        self._last_byte_at = 0.0

    def idle(self) -> list[str | DriverError]:
        """Drop a partial frame that has waited too long; called by the reader loop when no bytes came."""
        if self._buffer and self._clock() - self._last_byte_at > self._stale_after_s:
            self._buffer.clear()
            return [_stale()]
        return []

    def feed(self, data: bytes) -> list[str | DriverError]:
        out: list[str | DriverError] = []
        if data:
            out.extend(self.idle())
            self._last_byte_at = self._clock()
        self._buffer.extend(data)
        buf = self._buffer
        while buf:
            start = buf.find(STX)
            if start == -1:
                out.append(_noise(len(buf)))
                buf.clear()
                break
            if start > 0:
                out.append(_noise(start))
                del buf[:start]
            candidate = bytes(buf[:FRAME_LEN])
            bad = _first_bad_position(candidate)
            if bad is not None:
                # Valid frame bytes never include 0x02, so a frame start inside the
                # candidate means the previous frame was cut off: restart there.
                out.append(FrameError(
                    f"discarded a broken RDM6300 frame (byte {bad} is not what the protocol allows); "
                    "the reader resynchronised on the next frame"
                ))
                following = buf.find(STX, 1)
                del buf[: following if following != -1 else len(buf)]
                continue
            if len(candidate) < FRAME_LEN:
                break  # wait for the rest of the frame
            del buf[:FRAME_LEN]
            try:
                out.append(parse_frame(candidate))
            except DriverError as error:
                out.append(error)
        return out


def _stale() -> FrameError:
    return FrameError(
        "dropped half an RDM6300 frame that was left on the line (reader unplugged or reset?); "
        "tap the card again"
    )


def _noise(count: int) -> FrameError:
    return FrameError(
        f"discarded {count} byte(s) that were not part of an RDM6300 frame "
        "(line noise, a loose wire or a wrong baud rate?)"
    )
