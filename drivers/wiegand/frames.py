"""Wiegand frames: pure decoding, encoding, and an edge-to-frame accumulator.

A Wiegand reader sends one bit per pulse: a short low pulse (~50-100 us) on
D0 is a 0, on D1 a 1, with ~1-2 ms between bits and no clock. A frame ends
when the lines stay quiet, so frames are cut by an inter-bit timeout.

Formats handled (the common ones on loyalty/access cards):

- 26-bit (H10301): ``P FFFFFFFF CCCCCCCCCCCCCCCC P`` — 8-bit facility,
  16-bit card number.
- 34-bit (H10306-style): ``P FFFFFFFFFFFFFFFF CCCCCCCCCCCCCCCC P`` — 16-bit
  facility, 16-bit card number.

In both, the leading bit is *even* parity over the first half of the payload
and the trailing bit is *odd* parity over the second half.

Error messages never contain the bits themselves: they are card data.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from drivers.errors import ChecksumError, FrameError

#: frame length -> bits of facility code (the card number is always 16 bits)
FACILITY_BITS: dict[int, int] = {26: 8, 34: 16}
CARD_BITS = 16
SUPPORTED_LENGTHS = tuple(sorted(FACILITY_BITS))

#: A frame ends after this much silence on both lines. Real readers leave
#: 1-2 ms between bits; 25 ms is far above any jitter we have seen and far
#: below the time between two taps.
DEFAULT_FRAME_GAP_S = 0.025

#: Longest frame we bother to collect; anything longer is noise, and the cap
#: keeps memory bounded if a line chatters.
MAX_FRAME_BITS = 64


@dataclass(frozen=True)
class WiegandCard:
    """A decoded frame. ``card_id`` is the raw card identity (never log it)."""

    length: int
    facility: int
    number: int

    @property
    def card_id(self) -> str:
        # The length is part of the id so a 26-bit and a 34-bit card with the
        # same numbers stay different cards; the number is zero-padded so the
        # kiosk's "last 4" label shows card digits.
        return f"{self.length}:{self.facility}:{self.number:05d}"

    def __repr__(self) -> str:  # keeps card data out of logs and tracebacks
        return f"WiegandCard(length={self.length}, facility=<hidden>, number=<hidden>)"


def _as_bits(bits: Sequence[int] | str) -> tuple[int, ...]:
    if isinstance(bits, str):
        out = []
        for ch in bits:
            if ch not in "01":
                raise FrameError(
                    "a Wiegand frame must be written with '0' and '1' only; "
                    f"found {ch!r}: pass the bits as received from D0/D1")
            out.append(1 if ch == "1" else 0)
        return tuple(out)
    out_t = tuple(bits)
    for b in out_t:
        # bool is an int; accept it, but nothing else (2, -1, 'x', 0.5 ...)
        if b not in (0, 1) or not isinstance(b, int):
            raise FrameError(
                "a Wiegand frame is a sequence of 0/1 integers; found a value "
                f"of type {type(b).__name__}: pass the bits as received from D0/D1")
    return out_t


def _check_length(length: int) -> None:
    if length not in FACILITY_BITS:
        lengths = " or ".join(str(n) for n in SUPPORTED_LENGTHS)
        if length == 0:
            raise FrameError("empty Wiegand frame: no bits arrived on D0/D1")
        raise FrameError(
            f"Wiegand frame of {length} bit{'' if length == 1 else 's'}; this reader decodes {lengths}-bit "
            "frames. Set the reader to a 26- or 34-bit output format, or check "
            "for a loose D0/D1 wire (lost bits) or electrical noise (extra bits).")


def parse_frame(bits: Sequence[int] | str) -> WiegandCard:
    """Decode one 26- or 34-bit frame.

    Raises :class:`FrameError` for a frame of another length or with values
    other than 0/1, and :class:`ChecksumError` when a parity bit is wrong.
    """
    frame = _as_bits(bits)
    length = len(frame)
    _check_length(length)
    half = (length - 2) // 2
    first, second = frame[1:1 + half], frame[1 + half:length - 1]
    if (frame[0] + sum(first)) % 2 != 0:
        raise ChecksumError(
            f"{length}-bit Wiegand frame failed its leading even-parity check "
            f"(bits 0-{half}): a bit was lost or corrupted. Tap the card again; "
            "if every card fails, D0 and D1 may be swapped.")
    if (sum(second) + frame[-1]) % 2 != 1:
        raise ChecksumError(
            f"{length}-bit Wiegand frame failed its trailing odd-parity check "
            f"(bits {half + 1}-{length - 1}): a bit was lost or corrupted. Tap "
            "the card again; if every card fails, D0 and D1 may be swapped.")
    payload = frame[1:length - 1]
    facility_bits = FACILITY_BITS[length]
    facility = _to_int(payload[:facility_bits])
    number = _to_int(payload[facility_bits:])
    return WiegandCard(length=length, facility=facility, number=number)


def decode_frame(bits: Sequence[int] | str) -> str:
    """Decode one frame to its card id string (see :attr:`WiegandCard.card_id`)."""
    return parse_frame(bits).card_id


def encode_frame(facility: int, number: int, length: int = 26) -> tuple[int, ...]:
    """Build a valid frame with parity bits: the inverse of :func:`parse_frame`.

    Used by the emulator and tests; raises ``ValueError`` for numbers that do
    not fit the format.
    """
    if length not in FACILITY_BITS:
        raise ValueError(f"length must be one of {SUPPORTED_LENGTHS}, not {length}")
    facility_bits = FACILITY_BITS[length]
    if not 0 <= facility < 1 << facility_bits:
        raise ValueError(
            f"facility code {facility} does not fit {facility_bits} bits "
            f"of a {length}-bit frame")
    if not 0 <= number < 1 << CARD_BITS:
        raise ValueError(f"card number {number} does not fit {CARD_BITS} bits")
    payload = _to_bits(facility, facility_bits) + _to_bits(number, CARD_BITS)
    half = len(payload) // 2
    lead = sum(payload[:half]) % 2
    trail = 1 - sum(payload[half:]) % 2
    return (lead, *payload, trail)


def _to_int(bits: Iterable[int]) -> int:
    value = 0
    for b in bits:
        value = (value << 1) | b
    return value


def _to_bits(value: int, width: int) -> tuple[int, ...]:
    return tuple((value >> (width - 1 - i)) & 1 for i in range(width))


# --- edges to frames ---------------------------------------------------------

D0, D1 = 0, 1


@dataclass(frozen=True)
class RawFrame:
    """Bits collected between two silences, plus what went wrong collecting them."""

    bits: tuple[int, ...]
    problem: str = ""

    def __repr__(self) -> str:  # card data stays out of logs
        return f"RawFrame(<{len(self.bits)} bits>, problem={self.problem!r})"


def decode_raw(raw: RawFrame) -> str:
    """Decode an accumulated frame, raising :class:`FrameError` for its problem."""
    if raw.problem:
        raise FrameError(raw.problem)
    return decode_frame(raw.bits)


class BitAccumulator:
    """Turns line edges into frames by inter-bit timeout. Pure: time is passed in.

    Feed it every edge with :meth:`edge` (``line`` is ``D0`` or ``D1``,
    ``active`` is True when the line is pulled low), and call :meth:`poll`
    with the current time; it returns a :class:`RawFrame` once the lines have
    been quiet for ``frame_gap_s`` after the last bit. Only the start of a
    pulse makes a bit, so pulse width and inter-bit jitter do not matter as
    long as the gaps inside a frame stay below ``frame_gap_s``.
    A frame also ends when the next one's first pulse comes a whole gap after
    its last bit, polled or not: a worker that polls late (a loaded Pi) must
    not run two taps together into one bad frame.
    """

    def __init__(self, frame_gap_s: float = DEFAULT_FRAME_GAP_S,
                 max_bits: int = MAX_FRAME_BITS) -> None:
        if not frame_gap_s > 0:
            raise ValueError(f"frame_gap_s must be positive, not {frame_gap_s}")
        self.frame_gap_s = frame_gap_s
        self.max_bits = max_bits
        self._bits: list[int] = []
        self._last_edge_at: float | None = None
        self._active = [False, False]
        self._active_since: list[float | None] = [None, None]
        self._problem = ""
        self._finished: list[tuple[RawFrame, float]] = []  # (frame, when poll may return it)

    def edge(self, line: int, active: bool, at: float) -> None:
        if line not in (D0, D1):
            raise ValueError(f"line must be D0 (0) or D1 (1), not {line!r}")
        if active == self._active[line]:
            return  # repeated report of the same level: not an edge
        if active and self._pending_ended_before(at):
            assert self._last_edge_at is not None
            self._finished.append((self._take(), self._last_edge_at + self.frame_gap_s))
        self._active[line] = active
        self._active_since[line] = at if active else None
        self._last_edge_at = at
        if not active:
            return
        if self._active[1 - line] and not self._problem:
            self._problem = (
                "D0 and D1 were both low at the same time during a Wiegand "
                "frame: electrical noise, a short between D0 and D1, or a "
                "missing ground between reader and Pi. Check the wiring.")
        if len(self._bits) >= self.max_bits:
            if not self._problem:
                self._problem = (
                    f"more than {self.max_bits} Wiegand bits without a pause: a "
                    "chattering D0/D1 line (noise or a missing level shifter). "
                    "Check the wiring.")
            return
        self._bits.append(1 if line == D1 else 0)

    def poll(self, now: float) -> RawFrame | None:
        """Return the finished frame once the lines have been quiet long enough."""
        if self._finished:
            return self._finished.pop(0)[0]
        if self._last_edge_at is None or not (self._bits or self._problem):
            return None
        if any(self._active):
            return None  # a pulse is still in progress
        if now - self._last_edge_at < self.frame_gap_s:
            return None
        self._last_edge_at = None
        return self._take()

    def _pending_ended_before(self, at: float) -> bool:
        """True if bits are collected and the lines have been quiet a whole gap by ``at``."""
        return (bool(self._bits or self._problem) and self._last_edge_at is not None
                and not any(self._active) and at - self._last_edge_at >= self.frame_gap_s)

    def _take(self) -> RawFrame:
        frame = RawFrame(tuple(self._bits), self._problem)
        self._bits.clear()
        self._problem = ""
        return frame

    def discard(self) -> None:
        """Drop the frame being collected (e.g. after a stuck line: not card data)."""
        self._bits.clear()
        self._problem = ""

    @property
    def any_low(self) -> bool:
        """True while a pulse (or a stuck line) holds D0 or D1 low."""
        return any(self._active)

    def next_deadline(self) -> float | None:
        """When :meth:`poll` may next return a frame (None: nothing pending)."""
        if self._finished:
            return self._finished[0][1]
        if self._last_edge_at is None or not (self._bits or self._problem):
            return None
        return self._last_edge_at + self.frame_gap_s

    def held_low(self, now: float, longer_than: float) -> list[int]:
        """Lines that have been low for longer than ``longer_than`` seconds.

        A real pulse lasts ~100 us; a line held low for long means the reader
        is unpowered behind its level shifter or the line is shorted.
        """
        return [line for line in (D0, D1)
                if self._active_since[line] is not None
                and now - self._active_since[line] > longer_than]
