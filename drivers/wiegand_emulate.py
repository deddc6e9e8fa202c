"""A virtual Wiegand reader: drives gpiozero mock pins with real pulse timing.

Used by the tests and by the demo (with ``gpiozero.pins.mock.MockFactory`` as
the kiosk's pin factory) so both run the same :class:`WiegandReader` code as
the Pi. Timing defaults match real readers: ~80 us low pulses, 2 ms apart.
"""
from __future__ import annotations

import random
import time
from collections.abc import Sequence
from typing import Any

from drivers.gpio import check_pins
from drivers.wiegand import encode_frame

DEFAULT_PULSE_S = 80e-6
DEFAULT_INTERVAL_S = 0.002


class WiegandEmulator:
    """Sends frames on the mock D0/D1 pins of ``factory`` (a MockFactory).

    ``jitter_s`` adds a random 0..jitter_s to each inter-bit interval, as a
    busy reader or a loaded Pi would.
    """

    def __init__(self, factory: Any, d0: int, d1: int, *,
                 pulse_s: float = DEFAULT_PULSE_S,
                 interval_s: float = DEFAULT_INTERVAL_S,
                 jitter_s: float = 0.0, seed: int | None = None) -> None:
        check_pins("Wiegand emulator", {"D0": d0, "D1": d1})
        # The factory hands out one pin object per number, shared with the
        # reader's input devices, so driving it is what the reader sees.
        self._d0 = factory.pin(d0)
        self._d1 = factory.pin(d1)
        self.pulse_s = pulse_s
        self.interval_s = interval_s
        self.jitter_s = jitter_s
        self._rng = random.Random(seed)

    def present(self, facility: int, number: int, length: int = 26) -> None:
        """Send the frame of a card, as if it had been tapped. Blocks while sending."""
        self.send_bits(encode_frame(facility, number, length))

    def send_bits(self, bits: Sequence[int] | str) -> None:
        """Send arbitrary bits (including bad frames) and return after the last pulse."""
        for i, bit in enumerate(bits):
            if i:
                time.sleep(self.interval_s + self._rng.uniform(0.0, self.jitter_s))
            pin = self._d1 if int(bit) else self._d0
            pin.drive_low()
            time.sleep(self.pulse_s)
            pin.drive_high()

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
