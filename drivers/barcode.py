"""Barcode / QR scanner reads: a printed loyalty card number or a signed digital-card token.

A scanner sends one code per line. A code starting with ``LC1.`` is a digital-card
token (drivers.digital_card) and is verified with the key; anything else must match
the chain's card-number pattern. Scanned text is never put in a message.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

from drivers import digital_card
from drivers.decoding import Decoded
from drivers.errors import DriverError, RefusedCardError
from drivers.events import Tech

NOT_A_CARD_REASON = "this code is not a loyalty card: please scan your loyalty card or the card in the app"
NO_KEY_REASON = "digital cards are not enabled on this kiosk: please use your loyalty card"


class NotALoyaltyCode(RefusedCardError):
    """A scanned code that is neither a card number of this chain nor a digital card."""


@dataclass(frozen=True)
class BarcodeFormat:
    """The chain's printed card-number format (whole-code match; group ``id`` if present)."""

    pattern: str = r"(?P<id>[0-9]{6,32})"
    token_key: bytes | None = field(default=None, repr=False)
    _compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "_compiled", re.compile(self.pattern))
        except re.error as error:
            raise DriverError(
                f"barcode card pattern is not a valid regular expression ({error}); fix it in the config"
            ) from error


def parse_scan(text: str, card_format: BarcodeFormat, *, now: Callable[[], datetime] | None = None) -> Decoded:
    code = text.strip()
    if digital_card.looks_like_token(code):
        if card_format.token_key is None:
            raise NotALoyaltyCode(NO_KEY_REASON)
        moment = now() if now else datetime.now(timezone.utc)
        card_id = digital_card.verify_token(code, card_format.token_key, now=moment)
        return Decoded(card_id, Tech.QR_TOKEN.value)
    match = card_format._compiled.fullmatch(code)
    if match is None:
        raise NotALoyaltyCode(NOT_A_CARD_REASON)
    card_id = match.groupdict().get("id") or match.group(0)
    if not card_id:
        raise NotALoyaltyCode(NOT_A_CARD_REASON)
    return Decoded(card_id, Tech.BARCODE.value)


def encode_scan(code: str) -> bytes:
    """What a scanner in its default setup sends for ``code``: the text and a CR."""
    if not code or not code.isascii() or not code.isprintable():
        raise DriverError("an emulated scan is printable ASCII text on one line")
    return code.encode("ascii") + b"\r"
