"""A virtual Wiegand reader: drives gpiozero mock pins with real pulse timing.

Used by the tests and by the demo (with ``gpiozero.pins.mock.MockFactory`` as
the kiosk's pin factory) so both run the same :class:`WiegandReader` code as
the Pi. Timing defaults match real readers: ~80 us low pulses, 2 ms apart.
"""
from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from drivers.errors import DriverError
from drivers.gpio.pins import check_pins
from drivers.wiegand.frames import encode_frame

DEFAULT_PULSE_S = 80e-6
# 0.5 ms between bits is inside the Wiegand range (0.2-20 ms) and keeps an emulated
# frame short, so a scheduling stall on a loaded test machine rarely lands inside one.
DEFAULT_INTERVAL_S = 0.0005


class FrameClock:
    """Monotonic seconds that stand still while the emulator sends a frame, but for the bits' own spacing.

    The emulator times its pulses with sleeps in a Python thread; on a loaded machine that thread can stall
    between two bits for longer than the reader's frame gap (a stress run saw a 26-bit frame read as 15
    bits), and a reader on real time would cut the frame there. A real reader's bits never stall, so the
    emulated reader reads this clock: inside a frame it moves only by the intervals the emulator meant, and
    it never runs backwards.
    """

    def __init__(self, source: Callable[[], float] = time.monotonic) -> None:
        self._source = source
        self._lock = threading.Lock()
        self._last = source()
        self._frame_at: float | None = None

    def __call__(self) -> float:
        with self._lock:
            now = self._frame_at if self._frame_at is not None else max(self._source(), self._last)
            self._last = now
            return now

    @contextmanager
    def frame(self) -> Iterator[None]:
        """Hold the clock for one frame; it moves on with real time again after it."""
        with self._lock:
            self._frame_at = max(self._source(), self._last)
        try:
            yield
        finally:
            with self._lock:
                self._last = self._frame_at
                self._frame_at = None

    def advance(self, seconds: float) -> None:
        """Move a held clock on by the time the emulator meant to spend."""
        with self._lock:
            if self._frame_at is not None:
                self._frame_at += seconds


class WiegandEmulator:
    """Sends frames on the mock D0/D1 pins of ``factory`` (a MockFactory).

    ``jitter_s`` adds a random 0..jitter_s to each inter-bit interval, as a
    busy reader or a loaded Pi would. ``clock`` is held for each frame it
    sends (:class:`FrameClock`); a reader given the same clock sees the
    frame's intended timing whatever this thread's scheduling.
    """

    def __init__(self, factory: Any, d0: int, d1: int, *,
                 pulse_s: float = DEFAULT_PULSE_S,
                 interval_s: float = DEFAULT_INTERVAL_S,
                 jitter_s: float = 0.0, seed: int | None = None,
                 owns_factory: bool = False, clock: FrameClock | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        check_pins("Wiegand emulator", {"D0": d0, "D1": d1})
        # The factory hands out one pin object per number, shared with the
        # reader's input devices, so driving it is what the reader sees.
        self._d0 = factory.pin(d0)
        self._d1 = factory.pin(d1)
        self.pulse_s = pulse_s
        self.interval_s = interval_s
        self.jitter_s = jitter_s
        self._rng = random.Random(seed)
        self.clock = clock if clock is not None else FrameClock()
        self._sleep = sleep
        self._owned_factory = factory if owns_factory else None
        self._closed = False

    def tap(self, card: str) -> None:
        """Tap a card given as its card id: ``"26:123:45678"``, ``"34:4660:22136"``,
        or ``"123:45678"`` (26-bit). The demo's tap-control socket calls this."""
        if self._closed:
            raise DriverError("the Wiegand emulator is closed; restart the demo reader")
        parts = card.strip().split(":")
        if len(parts) == 2:
            parts = ["26", *parts]
        try:
            length, facility, number = (int(p, 10) for p in parts)
            frame = encode_frame(facility, number, length)
        except ValueError as exc:
            detail = str(exc) if len(parts) == 3 and all(p.isdigit() for p in parts) else (
                "expected <length>:<facility>:<card number>, e.g. 26:123:45678")
            raise DriverError(f"cannot tap Wiegand card {card!r}: {detail}") from None
        self.send_bits(frame)

    def close(self) -> None:
        """Stop accepting taps; close the mock pin factory if this emulator owns it."""
        self._closed = True
        if self._owned_factory is not None:
            self._owned_factory.close()
            self._owned_factory = None

    @property
    def closed(self) -> bool:
        return self._closed

    def present(self, facility: int, number: int, length: int = 26) -> None:
        """Send the frame of a card, as if it had been tapped. Blocks while sending."""
        self.send_bits(encode_frame(facility, number, length))

    def send_bits(self, bits: Sequence[int] | str) -> None:
        """Send arbitrary bits (including bad frames) and return after the last pulse."""
        with self.clock.frame():
            for i, bit in enumerate(bits):
                if i:
                    self._wait(self.interval_s + self._rng.uniform(0.0, self.jitter_s))
                pin = self._d1 if int(bit) else self._d0
                pin.drive_low()
                self._wait(self.pulse_s)
                pin.drive_high()

    def _wait(self, seconds: float) -> None:
        self._sleep(seconds)
        self.clock.advance(seconds)

    def hold_low(self, line: str) -> None:
        """Pull D0 or D1 low and leave it there (an unpowered reader, a short)."""
        self._line(line).drive_low()

    def release(self, line: str) -> None:
        self._line(line).drive_high()

    def _line(self, line: str) -> Any:
        if line.upper() == "D0":
            return self._d0
        if line.upper() == "D1":
            return self._d1
        raise ValueError(f"line must be 'D0' or 'D1', not {line!r}")


def open_emulated_wiegand(sink: Any, *, reader_id: str = "emulated:wiegand",
                          debounce_s: float = 1.0, d0: int = 17, d1: int = 27,
                          frame_gap_s: float = 0.1) -> Any:
    """A WiegandReader on its own MockFactory, with ``reader.emulator`` to tap cards.

    For the ``emulated:wiegand`` URI: the demo gets the real reader code on
    virtual pins. Not started; closing the reader closes the emulator too.
    The reader times edges on the emulator's :class:`FrameClock`, so a stall of
    the emulator's thread inside a frame does not split it.
    """
    from gpiozero.pins.mock import MockFactory

    from drivers.wiegand.reader import WiegandReader

    factory = MockFactory()
    emulator = WiegandEmulator(factory, d0, d1, owns_factory=True)
    reader = WiegandReader(d0, d1, sink, reader_id=reader_id, pin_factory=factory,
                           debounce_s=debounce_s, frame_gap_s=frame_gap_s, clock=emulator.clock)
    reader.emulator = emulator
    return reader
