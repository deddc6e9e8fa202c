"""Per-chain card formats and keys that readers need, from the kiosk config."""
from __future__ import annotations

from dataclasses import dataclass, field

from drivers.barcode import BarcodeFormat
from drivers.magstripe import MagstripeFormat


@dataclass(frozen=True)
class CardFormats:
    """What the chain's own cards look like on each technology.

    ``token_key`` verifies digital-card QR tokens (None: digital cards refused).
    ``swipe_timeout_s``: a keyboard-wedge read with no Enter for this long is dropped.
    ``magstripe_enter_per_track``: the reader sends Enter after each track (not once
    per swipe); tracks are then joined until the reader is quiet for 50 ms.
    """

    magstripe: MagstripeFormat = field(default_factory=MagstripeFormat)
    barcode_pattern: str = r"(?P<id>[0-9]{6,32})"
    token_key: bytes | None = field(default=None, repr=False)
    magstripe_lrc: bool = False
    magstripe_enter_per_track: bool = False
    swipe_timeout_s: float = 0.5

    def barcode(self) -> BarcodeFormat:
        return BarcodeFormat(self.barcode_pattern, self.token_key)
