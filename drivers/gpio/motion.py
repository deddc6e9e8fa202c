"""Optional PIR sensor that wakes the screen when someone walks up to the kiosk."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from gpiozero import MotionSensor

from drivers.gpio.pins import GpioConfigError, check_pins, open_device

log = logging.getLogger(__name__)


class MotionDetector:
    """Calls ``on_motion()`` when the PIR output goes high.

    ``cooldown_s`` is the least time between two calls: PIR modules in
    "repeat trigger" mode toggle every few seconds while someone stands in
    front, and the screen needs waking once, not on every toggle. The
    callback runs on gpiozero's sampling thread, so it should return quickly.
    """

    def __init__(self, pin: int, on_motion: Callable[[], Any], *,
                 pin_factory: Any = None, cooldown_s: float = 2.0,
                 sample_rate: float = 10, active_high: bool = True) -> None:
        check_pins("motion sensor", {"PIR": pin})
        if cooldown_s < 0:
            raise GpioConfigError(f"motion sensor: cooldown_s must be >= 0, not {cooldown_s}")
        if not callable(on_motion):
            raise TypeError("on_motion must be callable")
        self.pin = pin
        self._on_motion = on_motion
        self._cooldown_s = cooldown_s
        self._last_call: float | None = None
        self._lock = threading.Lock()
        # queue_len=1: a PIR module already filters its output, so one sample
        # is enough and the wake-up is not delayed by averaging.
        self._sensor = open_device("motion sensor", "the PIR output", pin, lambda: MotionSensor(
            pin, queue_len=1, sample_rate=sample_rate, threshold=0.5,
            pull_up=False if active_high else True, pin_factory=pin_factory))
        self._sensor.when_motion = self._motion
        # gpiozero fires no event for the state at its first sample, so a
        # shopper already standing there at start would never wake the screen.
        # Reading the state blocks until that first sample (one sample period).
        if self._sensor.motion_detected:
            self._motion()

    def __repr__(self) -> str:
        return f"<MotionDetector on GPIO{self.pin}>"

    @property
    def motion_detected(self) -> bool:
        return bool(self._sensor.motion_detected)

    def _motion(self) -> None:
        now = time.monotonic()
        with self._lock:
            if self._last_call is not None and now - self._last_call < self._cooldown_s:
                return
            self._last_call = now
        try:
            self._on_motion()
        except Exception:  # noqa: BLE001 - a failing wake-up must not stop the sensor
            log.exception("motion sensor on GPIO%d: on_motion callback failed", self.pin)

    def close(self) -> None:
        self._sensor.close()

    def __enter__(self) -> MotionDetector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


MOTION_KEYS = {"pin", "cooldown_s", "active_high"}


def motion_from_config(section: Mapping[str, Any] | None, on_motion: Callable[[], Any], *,
                       pin_factory: Any = None) -> MotionDetector | None:
    """Build the PIR sensor from ``[motion]`` in kiosk.toml; None when not configured."""
    if not section:
        return None
    unknown = sorted(set(section) - MOTION_KEYS)
    if unknown:
        raise GpioConfigError(
            f"[motion] unknown key(s) {', '.join(unknown)}; known keys: {', '.join(sorted(MOTION_KEYS))}")
    if "pin" not in section:
        raise GpioConfigError("[motion] needs pin = <BCM number of the PIR output>")
    cooldown = section.get("cooldown_s", 2.0)
    if isinstance(cooldown, bool) or not isinstance(cooldown, (int, float)):
        raise GpioConfigError(f"[motion] cooldown_s must be a number of seconds, not {cooldown!r}")
    active_high = section.get("active_high", True)
    if not isinstance(active_high, bool):
        raise GpioConfigError(f"[motion] active_high must be true or false, not {active_high!r}")
    try:
        return MotionDetector(section["pin"], on_motion, pin_factory=pin_factory,
                              cooldown_s=float(cooldown), active_high=active_high)
    except GpioConfigError as exc:
        raise GpioConfigError(f"[motion] {exc}") from None
