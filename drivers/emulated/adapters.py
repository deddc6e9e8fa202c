"""Give the NFC and Wiegand emulators the ``kind`` / ``tap(data)`` face of PtyEmulator.

The tap control server (and ``kioskctl tap``) taps any emulated reader with
``emulator.tap(data)``; these adapters translate that into "put a card on the
PN532's antenna for a moment" and "send this card's Wiegand frame". The readers
from other modules are wrapped so every reader open_reader returns has the same
attributes: reader_id, uri, emulator, start(), close(), running.
"""
from __future__ import annotations

from typing import Any

from drivers.errors import CardIdError, DriverError


class Pn532TapAdapter:
    """``tap("04A1B2C3D4E5F6")`` places that UID (4, 7 or 10 bytes hex) on the antenna until the reader has
    polled it and held it there a moment (Pn532Emulator.tap), then lifts it, so the next tap is a new tap."""

    kind = "pn532"

    def __init__(self, emulator: Any) -> None:
        #: The underlying drivers.emulated.pn532.Pn532Emulator (present/remove/garble).
        self.device = emulator
        self.port = emulator.port

    def tap(self, uid: str) -> None:
        try:
            raw = bytes.fromhex(uid)
        except ValueError:
            raw = b""
        if len(raw) not in (4, 7, 10):
            raise CardIdError("an NFC card UID is 4, 7 or 10 bytes of hex, e.g. '04A1B2C3D4E5F6'")
        self.device.tap(raw.hex())

    def close(self) -> None:
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
