"""Give the NFC and Wiegand emulators the ``kind`` / ``tap(data)`` face of PtyEmulator.

The tap control server (and ``kioskctl tap``) taps any emulated reader with
``emulator.tap(data)``; these adapters translate that into "put a card on the
PN532's antenna for a moment" and "send this card's Wiegand frame". The readers
from other modules are wrapped so every reader open_reader returns has the same
attributes: reader_id, uri, emulator, start(), close(), running.
"""
from __future__ import annotations

import threading
from typing import Any

from drivers.errors import CardIdError, DriverError

#: How long an emulated NFC tap keeps the card on the antenna: several polls of
#: the reader, then it is lifted so the next tap of the same card is a new tap.
NFC_TAP_HOLD_S = 1.0


class Pn532TapAdapter:
    """``tap("04A1B2C3D4E5F6")`` places that UID (4, 7 or 10 bytes hex) on the antenna, then lifts it."""

    kind = "pn532"

    def __init__(self, emulator: Any, *, hold_s: float = NFC_TAP_HOLD_S) -> None:
        #: The underlying drivers.emulated.pn532.Pn532Emulator (present/remove/garble).
        self.device = emulator
        self.port = emulator.port
        self._hold_s = hold_s
        self._lock = threading.Lock()
        self._generation = 0
        self._timer: threading.Timer | None = None

    def tap(self, uid: str) -> None:
        try:
            raw = bytes.fromhex(uid)
        except ValueError:
            raw = b""
        if len(raw) not in (4, 7, 10):
            raise CardIdError("an NFC card UID is 4, 7 or 10 bytes of hex, e.g. '04A1B2C3D4E5F6'")
        with self._lock:
            self._generation += 1
            generation = self._generation
            if self._timer is not None:
                self._timer.cancel()
            self.device.present(raw)
            self._timer = threading.Timer(self._hold_s, self._lift, args=(generation,))
            self._timer.daemon = True
            self._timer.start()

    def _lift(self, generation: int) -> None:
        with self._lock:
            if generation == self._generation:  # a newer tap owns the antenna now
                self.device.remove()

    def close(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
        self.device.close()


class WiegandTapAdapter:
    """``tap(card_id)`` sends that card's frame; the card id is the one the reader reports,
    ``"26:123:45678"`` (or ``"123:45678"`` for 26-bit), so what a tap sends is what it reads."""

    kind = "wiegand"

    def __init__(self, emulator: Any) -> None:
        #: The underlying drivers.emulated.wiegand.WiegandEmulator.
        self.device = emulator

    def tap(self, data: str) -> None:
        try:
            self.device.tap(data)
        except DriverError as error:
            raise CardIdError(str(error)) from None

    def close(self) -> None:
        pass  # mock pins are released with the reader
