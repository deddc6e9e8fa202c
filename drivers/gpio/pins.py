"""The GPIO transport: pin-number checks and opening gpiozero devices.

Shared by the Wiegand reader, the feedback LEDs/buzzer and the PIR sensor so
that a wrong pin number or a missing permission reads the same everywhere:
which part, which pin, and what to do about it.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from gpiozero import BadPinFactory, GPIOZeroError

from drivers.errors import DriverError, TransportError

#: BCM GPIO numbers present on the 40-pin header of every Pi since the B+.
HEADER_BCM_PINS = range(2, 28)

T = TypeVar("T")
log = logging.getLogger(__name__)


class GpioConfigError(DriverError, ValueError):
    """A pin number or pin assignment in the config that cannot be right."""


def check_pins(owner: str, pins: dict[str, int | None]) -> dict[str, int]:
    """Validate named BCM pin numbers; None entries are left out.

    Raises :class:`GpioConfigError` naming the role for a non-integer, a
    number outside the header, or two roles on the same pin.
    """
    seen: dict[int, str] = {}
    out: dict[str, int] = {}
    for role, pin in pins.items():
        if pin is None:
            continue
        if isinstance(pin, bool) or not isinstance(pin, int):
            raise GpioConfigError(
                f"{owner}: {role} pin must be a BCM GPIO number (an integer), "
                f"not {pin!r}")
        if pin not in HEADER_BCM_PINS:
            raise GpioConfigError(
                f"{owner}: {role} pin {pin} is not a header GPIO; use a BCM "
                f"number from {HEADER_BCM_PINS.start} to {HEADER_BCM_PINS.stop - 1} "
                "(BCM numbers, not physical pin positions)")
        if pin in seen:
            raise GpioConfigError(
                f"{owner}: {seen[pin]} and {role} are both set to GPIO{pin}; "
                "each needs its own pin")
        seen[pin] = role
        out[role] = pin
    return out


def parse_pin_spec(spec: str, required: tuple[str, ...]) -> dict[str, int]:
    """Parse ``"D0=17,D1=27"`` (the tail of ``wiegand:gpio:D0=17,D1=27``).

    Role names are matched case-insensitively and returned as in *required*.
    """
    wanted = {r.upper(): r for r in required}
    out: dict[str, int] = {}
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        key = name.strip().upper()
        if not sep or key not in wanted:
            raise GpioConfigError(
                f"pin spec {spec!r}: expected {','.join(r + '=<BCM>' for r in required)}, "
                f"got {part!r}")
        role = wanted[key]
        if role in out:
            raise GpioConfigError(f"pin spec {spec!r}: {role} is given twice")
        try:
            out[role] = int(value.strip(), 10)
        except ValueError:
            raise GpioConfigError(
                f"pin spec {spec!r}: {role} must be a BCM GPIO number, "
                f"not {value.strip()!r}") from None
    missing = [r for r in required if r not in out]
    if missing:
        raise GpioConfigError(
            f"pin spec {spec!r}: missing {', '.join(missing)} "
            f"(expected {','.join(r + '=<BCM>' for r in required)})")
    return out


def open_device(owner: str, role: str, pin: int, make: Callable[[], T]) -> T:
    """Build one gpiozero device, turning gpiozero's errors into a TransportError."""
    try:
        return make()
    except BadPinFactory as exc:
        raise TransportError(
            f"{owner}: cannot open GPIO{pin} for {role}: no GPIO backend ({exc}). "
            "On a Raspberry Pi install lgpio (apt install python3-lgpio); "
            "without hardware, run with gpiozero's MockFactory as the pin factory.") from exc
    except GPIOZeroError as exc:
        raise TransportError(
            f"{owner}: cannot open GPIO{pin} for {role}: {exc}. Check the pin "
            "number in the config, that no other service uses the pin, and "
            "that the service user is in group 'gpio'.") from exc
    except OSError as exc:
        raise TransportError(
            f"{owner}: cannot open GPIO{pin} for {role}: {exc}. Is this a "
            "Raspberry Pi with lgpio installed, and is the service user in "
            "group 'gpio'?") from exc


def close_all(devices: list) -> None:
    """Close gpiozero devices in reverse order, each even if another fails."""
    while devices:
        dev = devices.pop()
        try:
            dev.close()
        except Exception:  # noqa: BLE001 - closing must release every pin
            log.warning("closing %r failed", dev, exc_info=True)
