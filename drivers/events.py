"""Events that readers put on the kiosk's queue."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Tech(str, Enum):
    """How a card identifier was read; part of the keyed card hash."""

    RFID_125K = "rfid125"
    NFC = "nfc"
    MAGSTRIPE = "magstripe"
    WIEGAND = "wiegand"
    BARCODE = "barcode"
    QR_TOKEN = "qrtoken"


@dataclass(frozen=True)
class CardRead:
    """One tap of one card. ``uid`` is raw and must never be stored or logged."""

    uid: str
    tech: str
    reader_id: str
    at: datetime = field(default_factory=_now)

    def __repr__(self) -> str:  # keeps raw UIDs out of logs and tracebacks
        return f"CardRead(uid=<{len(self.uid)} chars>, tech={self.tech!r}, reader_id={self.reader_id!r})"


class ReaderState(str, Enum):
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    ERROR = "error"


@dataclass(frozen=True)
class ReaderStatus:
    reader_id: str
    state: ReaderState
    detail: str = ""
    at: datetime = field(default_factory=_now)


@dataclass(frozen=True)
class BadRead:
    """A frame that failed its checksum or its protocol's format: a misread, not a failed device.

    The shopper should tap again; the reader stays ``connected``. Only a run of them with no good read
    between (drivers.reader.GARBAGE_ERROR_AFTER) makes the reader ``error``. ``detail`` is the parser's
    message, which never carries card digits.
    """

    reader_id: str
    detail: str
    at: datetime = field(default_factory=_now)


@dataclass(frozen=True)
class CardRefused:
    """A read that the kiosk must refuse (e.g. a payment card); carries no card data."""

    reader_id: str
    reason: str
    at: datetime = field(default_factory=_now)
