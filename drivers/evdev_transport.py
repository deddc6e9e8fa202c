"""Keyboard-wedge readers (USB HID) through evdev: key events in, typed text out as bytes.

The device is grabbed so its keystrokes reach only the kiosk, never the
touchscreen browser (a card swipe must not be typed into a form field).
"""
from __future__ import annotations

import select
from typing import Any, Callable

from drivers.errors import TransportError
from drivers.hid_keys import KeyTranslator


def _open_input_device(path: str) -> Any:
    import evdev  # imported here so serial-only setups never need the input subsystem

    return evdev.InputDevice(path)


class EvdevTransport:
    """``read()`` returns the characters typed since the last call (Enter as b"\\n")."""

    def __init__(
        self,
        path: str,
        *,
        timeout_s: float = 0.05,
        grab: bool = True,
        open_device: Callable[[str], Any] = _open_input_device,
    ) -> None:
        self.path = path
        self._timeout_s = timeout_s
        self._keys = KeyTranslator()
        try:
            self._device = open_device(path)
            if grab:
                self._device.grab()
        except OSError as error:
            raise TransportError(
                f"cannot open input device {path}: {error}; check it is plugged in and that the "
                "service user is in the 'input' group"
            ) from error

    def read(self) -> bytes:
        try:
            ready, _, _ = select.select([self._device.fd], [], [], self._timeout_s)
            if not ready:
                return b""
            typed = []
            for event in self._device.read():
                if event.type == 1:  # EV_KEY
                    typed.append(self._keys.feed(event.code, event.value))
        except BlockingIOError:
            return b""
        except OSError as error:
            raise TransportError(f"input device {self.path} went away: {error}") from error
        return "".join(typed).encode("ascii", "replace")

    def close(self) -> None:
        try:
            try:
                self._device.ungrab()
            except OSError:
                pass
            self._device.close()
        except OSError:
            pass  # already gone
