"""Named light-and-sound patterns for kiosk feedback (which outcome plays which: kiosk/ui_events.py).

Pure data and functions: the devices live in :mod:`drivers.gpio.feedback`.
Patterns differ in colour *and* in count, so a kiosk with a single LED or a
shopper who cannot tell red from green still gets a distinct signal.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from drivers.errors import DriverError


class UnknownPatternError(DriverError, ValueError):
    """A feedback pattern name that is not defined."""


class Color(str, Enum):
    GREEN = "green"
    RED = "red"
    AMBER = "amber"  # red and green together


#: (red, green, blue) for a common RGB LED driven on/off (no PWM).
RGB: dict[Color, tuple[int, int, int]] = {
    Color.GREEN: (0, 1, 0),
    Color.RED: (1, 0, 0),
    Color.AMBER: (1, 1, 0),
}


@dataclass(frozen=True)
class Pattern:
    """``blinks`` flashes of ``color`` and ``beeps`` beeps, played together."""

    color: Color
    blinks: int
    on_s: float
    off_s: float
    beeps: int
    beep_on_s: float
    beep_off_s: float
    tone: str = "A6"  # for tonal (passive) buzzers; an active buzzer has one pitch

    def __post_init__(self) -> None:
        if self.blinks < 0 or self.beeps < 0:
            raise ValueError("blinks and beeps must be >= 0")
        for name in ("on_s", "off_s", "beep_on_s", "beep_off_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")

    @property
    def duration_s(self) -> float:
        """How long the pattern keeps the LEDs/buzzer busy."""
        return max(self.blinks * (self.on_s + self.off_s),
                   self.beeps * (self.beep_on_s + self.beep_off_s))


PATTERNS: Mapping[str, Pattern] = {
    # one long green flash, one short high beep: "all good"
    "success": Pattern(Color.GREEN, 1, 0.8, 0.1, 1, 0.1, 0.1, "A6"),
    # two amber flashes, two quick chirps: "we do not know this card — enroll?"
    "unknown_card": Pattern(Color.AMBER, 2, 0.3, 0.2, 2, 0.05, 0.1, "E6"),
    # red double blink, two lower beeps: "this card is blocked/lost/refused"
    "refused_card": Pattern(Color.RED, 2, 0.25, 0.25, 2, 0.15, 0.1, "A5"),
    # three fast red flashes, one long low beep: "something is wrong, ask staff"
    "error": Pattern(Color.RED, 3, 0.1, 0.1, 1, 0.6, 0.1, "A5"),
}

def lookup(pattern: str, patterns: Mapping[str, Pattern] = PATTERNS) -> Pattern:
    try:
        return patterns[pattern]
    except (KeyError, TypeError):
        raise UnknownPatternError(
            f"unknown feedback pattern {pattern!r}; use one of "
            f"{', '.join(sorted(patterns))}") from None


def tone_steps(pattern: Pattern, step_s: float) -> list[str | None]:
    """The beep pattern as a list of notes/None (silence), one per ``step_s``.

    A tonal buzzer is driven through gpiozero's ``source`` thread, which sets
    one value per fixed delay; durations are rounded to whole steps (at least
    one) and the list ends silent.
    """
    if not step_s > 0:
        raise ValueError("step_s must be positive")
    on = max(1, math.floor(pattern.beep_on_s / step_s + 0.5))
    off = max(1, math.floor(pattern.beep_off_s / step_s + 0.5))
    steps: list[str | None] = []
    for _ in range(pattern.beeps):
        steps += [pattern.tone] * on + [None] * off
    return steps or [None]
