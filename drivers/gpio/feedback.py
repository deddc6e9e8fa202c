"""Status LEDs and buzzer that answer a tap: gpiozero devices playing named patterns.

``signal()`` returns at once: gpiozero's own background threads (``blink``,
``beep``, ``source``) play the pattern, and a new signal replaces the one
still playing, so a fast second tap is never queued behind the first.
"""
from __future__ import annotations

import logging
import math
import threading
from collections.abc import Mapping
from typing import Any

from gpiozero import LED, RGBLED, Buzzer, TonalBuzzer
from gpiozero.tones import Tone

from drivers.errors import DriverError
from drivers.gpio.patterns import (
    PATTERNS, RGB, Color, Pattern, lookup, tone_steps,
)
from drivers.gpio.pins import GpioConfigError, check_pins, close_all, open_device

log = logging.getLogger(__name__)

#: Tonal buzzers play A5..A7 (880-3520 Hz): piezo discs are loudest there.
TONAL_MID = Tone("A6")
TONAL_OCTAVES = 1
#: Time resolution of tonal beep patterns (gpiozero's source loop delay).
TONE_STEP_S = 0.05

BUZZER_KINDS = ("active", "tonal")


class Feedback:
    """Green/red LEDs (or one RGB LED) and a buzzer playing kiosk patterns.

    Pins are BCM numbers; leave any part None if it is not fitted. Give either
    ``green_pin``/``red_pin`` or ``rgb_pins`` (red, green, blue), not both.
    ``buzzer`` is ``"active"`` (a buzzer with its own oscillator, on/off) or
    ``"tonal"`` (a passive piezo driven with PWM tones).
    """

    def __init__(self, *, green_pin: int | None = None, red_pin: int | None = None,
                 rgb_pins: tuple[int, int, int] | None = None,
                 buzzer_pin: int | None = None, buzzer: str = "active",
                 led_active_high: bool = True, buzzer_active_high: bool = True,
                 pin_factory: Any = None,
                 patterns: Mapping[str, Pattern] = PATTERNS) -> None:
        owner = "feedback"
        if rgb_pins is not None and (green_pin is not None or red_pin is not None):
            raise GpioConfigError(
                "feedback: give either green_pin/red_pin or rgb_pins, not both")
        if rgb_pins is not None and (isinstance(rgb_pins, (str, bytes)) or len(rgb_pins) != 3):
            raise GpioConfigError(
                f"feedback: rgb_pins must be three BCM numbers (red, green, blue), not {rgb_pins!r}")
        if buzzer not in BUZZER_KINDS:
            raise GpioConfigError(
                f"feedback: buzzer must be one of {', '.join(BUZZER_KINDS)}, not {buzzer!r}")
        roles: dict[str, int | None] = {"green": green_pin, "red": red_pin, "buzzer": buzzer_pin}
        if rgb_pins is not None:
            roles.update({"rgb red": rgb_pins[0], "rgb green": rgb_pins[1], "rgb blue": rgb_pins[2]})
        pins = check_pins(owner, roles)
        self._patterns = dict(patterns)
        self._tonal = buzzer == "tonal"
        if self._tonal:
            self._tone_values = {p.tone: _tone_value(p.tone) for p in self._patterns.values()}
        self._lock = threading.Lock()
        self._closed = False
        self._devices: list[Any] = []
        self._leds: dict[Color, LED] = {}
        self._rgb: RGBLED | None = None
        self._buzzer: Buzzer | TonalBuzzer | None = None
        try:
            for color, role in ((Color.GREEN, "green"), (Color.RED, "red")):
                if role in pins:
                    self._leds[color] = self._open(owner, f"the {role} LED", pins[role], lambda p=pins[role]: LED(
                        p, active_high=led_active_high, pin_factory=pin_factory))
            if rgb_pins is not None:
                self._rgb = self._open(owner, "the RGB LED", rgb_pins[0], lambda: RGBLED(
                    *rgb_pins, active_high=led_active_high, pwm=False, pin_factory=pin_factory))
            if "buzzer" in pins:
                p = pins["buzzer"]
                if self._tonal:
                    self._buzzer = self._open(owner, "the tonal buzzer", p, lambda: TonalBuzzer(
                        p, mid_tone=TONAL_MID, octaves=TONAL_OCTAVES, pin_factory=pin_factory))
                    self._buzzer.source_delay = TONE_STEP_S
                else:
                    self._buzzer = self._open(owner, "the buzzer", p, lambda: Buzzer(
                        p, active_high=buzzer_active_high, pin_factory=pin_factory))
        except Exception:
            close_all(self._devices)
            raise

    def _open(self, owner: str, role: str, pin: int, make: Any) -> Any:
        dev = open_device(owner, role, pin, make)
        self._devices.append(dev)
        return dev

    def __repr__(self) -> str:
        parts = [c.value for c in self._leds] + (["rgb"] if self._rgb else [])
        parts += [("tonal " if self._tonal else "") + "buzzer"] if self._buzzer else []
        return f"<Feedback {' + '.join(parts) or 'nothing fitted'}{' closed' if self._closed else ''}>"

    @property
    def patterns(self) -> tuple[str, ...]:
        return tuple(sorted(self._patterns))

    def signal(self, pattern: str) -> None:
        """Start playing ``pattern`` and return at once; replaces any pattern still playing."""
        p = lookup(pattern, self._patterns)
        with self._lock:
            if self._closed:
                raise DriverError("feedback is closed; signal() needs an open Feedback")
            self._show(p)
            self._sound(p)

    def _show(self, p: Pattern) -> None:
        if self._rgb is not None:
            if p.blinks:
                self._rgb.blink(on_time=p.on_s, off_time=p.off_s, on_color=RGB[p.color],
                                off_color=(0, 0, 0), n=p.blinks, background=True)
            else:
                self._rgb.off()
        lit = {Color.GREEN: {Color.GREEN}, Color.RED: {Color.RED},
               Color.AMBER: {Color.GREEN, Color.RED}}[p.color] & set(self._leds)
        if not lit:
            # A kiosk with one LED still shows the pattern's blink count on it.
            lit = set(self._leds)
        for color, led in self._leds.items():
            if color in lit and p.blinks:
                led.blink(on_time=p.on_s, off_time=p.off_s, n=p.blinks, background=True)
            else:
                led.off()

    def _sound(self, p: Pattern) -> None:
        if self._buzzer is None:
            return
        if self._tonal:
            self._buzzer.source = [None if note is None else self._tone_values[note]
                                   for note in tone_steps(p, TONE_STEP_S)]
        elif p.beeps:
            self._buzzer.beep(on_time=p.beep_on_s, off_time=p.beep_off_s, n=p.beeps,
                              background=True)
        else:
            self._buzzer.off()

    def close(self) -> None:
        """Stop any pattern, switch everything off and release the pins."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            # Switch off first: closing a gpiozero output releases the pin as an
            # input, which can leave an LED glowing or a buzzer sounding.
            for dev in self._devices:
                try:
                    dev.source = None
                    (dev.stop if isinstance(dev, TonalBuzzer) else dev.off)()
                except Exception:  # noqa: BLE001 - still release every pin below
                    log.warning("could not switch off %r", dev, exc_info=True)
            close_all(self._devices)

    def __enter__(self) -> Feedback:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class NullFeedback:
    """Feedback for a kiosk without LEDs or buzzer: checks pattern names, does nothing."""

    def __init__(self, patterns: Mapping[str, Pattern] = PATTERNS) -> None:
        self._patterns = dict(patterns)

    @property
    def patterns(self) -> tuple[str, ...]:
        return tuple(sorted(self._patterns))

    def signal(self, pattern: str) -> None:
        lookup(pattern, self._patterns)  # a typo is an error even without LEDs

    def close(self) -> None:
        pass

    def __enter__(self) -> NullFeedback:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _tone_value(note: str) -> float:
    # TonalBuzzer.value is log2(f / mid) / octaves, in -1..1
    try:
        freq = Tone(note).frequency
    except ValueError as exc:
        raise GpioConfigError(f"feedback: tone {note!r} is not a note name: {exc}") from None
    value = math.log2(freq / TONAL_MID.frequency) / TONAL_OCTAVES
    if not -1 <= value <= 1:
        raise GpioConfigError(
            f"feedback: tone {note!r} is outside the tonal buzzer's range "
            f"{Tone.from_frequency(TONAL_MID.frequency / 2).note}-"
            f"{Tone.from_frequency(TONAL_MID.frequency * 2).note}")
    return value


FEEDBACK_KEYS = {"leds", "green_pin", "red_pin", "rgb_pins", "led_active_high",
                 "buzzer", "buzzer_pin", "buzzer_active_high"}


def feedback_from_config(section: Mapping[str, Any] | None, *,
                         pin_factory: Any = None) -> Feedback | NullFeedback:
    """Build feedback from the ``[feedback]`` table of kiosk.toml (see docs/gpio.md).

    A missing table, ``leds = "none"`` with ``buzzer = "none"``, gives NullFeedback.
    Errors name the key that is wrong.
    """
    cfg = dict(section or {})
    unknown = sorted(set(cfg) - FEEDBACK_KEYS)
    if unknown:
        raise GpioConfigError(
            f"[feedback] unknown key(s) {', '.join(unknown)}; known keys: "
            f"{', '.join(sorted(FEEDBACK_KEYS))}")
    default_leds = ("rgb" if "rgb_pins" in cfg else
                    "separate" if "green_pin" in cfg or "red_pin" in cfg else "none")
    leds = cfg.get("leds", default_leds)
    if leds not in ("separate", "rgb", "none"):
        raise GpioConfigError(f"[feedback] leds must be \"separate\", \"rgb\" or \"none\", not {leds!r}")
    buzzer = cfg.get("buzzer", "active" if "buzzer_pin" in cfg else "none")
    if buzzer not in (*BUZZER_KINDS, "none"):
        raise GpioConfigError(f"[feedback] buzzer must be \"active\", \"tonal\" or \"none\", not {buzzer!r}")
    for key in ("led_active_high", "buzzer_active_high"):
        if key in cfg and not isinstance(cfg[key], bool):
            raise GpioConfigError(f"[feedback] {key} must be true or false, not {cfg[key]!r}")
    kwargs: dict[str, Any] = {
        "led_active_high": cfg.get("led_active_high", True),
        "buzzer_active_high": cfg.get("buzzer_active_high", True),
    }
    if leds == "separate":
        if "green_pin" not in cfg and "red_pin" not in cfg:
            raise GpioConfigError("[feedback] leds = \"separate\" needs green_pin and/or red_pin")
        if "rgb_pins" in cfg:
            raise GpioConfigError("[feedback] rgb_pins is only used with leds = \"rgb\"")
        kwargs["green_pin"] = cfg.get("green_pin")
        kwargs["red_pin"] = cfg.get("red_pin")
    elif leds == "rgb":
        if "rgb_pins" not in cfg:
            raise GpioConfigError("[feedback] leds = \"rgb\" needs rgb_pins = [red, green, blue]")
        if "green_pin" in cfg or "red_pin" in cfg:
            raise GpioConfigError("[feedback] green_pin/red_pin are only used with leds = \"separate\"")
        rgb = cfg["rgb_pins"]
        if not isinstance(rgb, (list, tuple)) or len(rgb) != 3:
            raise GpioConfigError(
                f"[feedback] rgb_pins must be a list of three BCM numbers [red, green, blue], not {rgb!r}")
        kwargs["rgb_pins"] = tuple(rgb)
    if buzzer != "none":
        if "buzzer_pin" not in cfg:
            raise GpioConfigError(f"[feedback] buzzer = {buzzer!r} needs buzzer_pin")
        kwargs["buzzer_pin"] = cfg["buzzer_pin"]
        kwargs["buzzer"] = buzzer
    elif "buzzer_pin" in cfg:
        raise GpioConfigError("[feedback] buzzer_pin is set but buzzer = \"none\"")
    if leds == "none" and buzzer == "none":
        return NullFeedback()
    return Feedback(pin_factory=pin_factory, **kwargs)
