"""Which identifier an NFC card is known by: chain card number or UID.

A card the chain issued carries its card number in an NDEF external-type
record, ``urn:nfc:ext:kiosk:card`` by default, whose payload is the number in
ASCII (``[0-9A-Z-]``, 4 to 32 characters). Such a record wins over the UID, so
a replacement card written with the same number keeps the member's account.
A card without that record is known by its UID as upper-case hex.

A card that carries the record but with a bad payload, two different numbers,
or an NDEF message that does not decode is refused rather than read by UID:
otherwise a damaged chain card would silently become a new, empty account.
"""
from __future__ import annotations

import re

import ndef

from drivers.errors import FrameError

CARD_RECORD_TYPE = "urn:nfc:ext:kiosk:card"
_CARD_NUMBER = re.compile(r"[0-9A-Z-]{4,32}")


class CardNumberError(FrameError):
    """A card carries a kiosk card-number record that cannot be used.

    The message never contains the card number or the UID.
    """


def is_random_uid(uid: bytes) -> bool:
    """True for a 4-byte random ID (first byte 08h, ISO/IEC 14443-3).

    Bank cards and phones pick a new one on every tap, so it cannot name a
    loyalty account.
    """
    return len(uid) == 4 and uid[0] == 0x08


def uid_hex(uid: bytes) -> str:
    """A UID as the upper-case hex string CardRead carries."""
    return bytes(uid).hex().upper()


def card_identity(uid: bytes, ndef_message: bytes | None, record_type: str = CARD_RECORD_TYPE) -> str:
    """The card number from ``ndef_message`` if it has one, else the UID in hex.

    Raises :class:`CardNumberError` when the message is undecodable or its
    card-number record is unusable.
    """
    if not ndef_message:
        return uid_hex(uid)
    try:
        records = list(ndef.message_decoder(ndef_message, errors="relax"))
    except ndef.DecodeError as error:
        raise CardNumberError(
            f"the NDEF message on the card does not decode ({type(error).__name__}); "
            "rewrite the card with the kiosk's card tool or use another card"
        ) from None
    numbers = {_card_number(record) for record in records if record.type.lower() == record_type.lower()}
    if not numbers:
        return uid_hex(uid)
    if len(numbers) > 1:
        raise CardNumberError(
            f"the card carries {len(numbers)} different {record_type} records; "
            "a card must carry exactly one card number - rewrite the card"
        )
    return numbers.pop()


def _card_number(record: ndef.Record) -> str:
    payload = bytes(record.data)
    try:
        number = payload.decode("ascii")
    except UnicodeDecodeError:
        number = ""
    if not _CARD_NUMBER.fullmatch(number):
        raise CardNumberError(
            f"the card-number record holds {len(payload)} bytes that are not 4-32 characters of "
            "0-9, A-Z or '-'; rewrite the card with a valid chain card number"
        )
    return number


def card_number_message(number: str, record_type: str = CARD_RECORD_TYPE) -> bytes:
    """Encode ``number`` as the NDEF message a chain card carries (for card tools and the demo)."""
    if not _CARD_NUMBER.fullmatch(number):
        raise ValueError("a card number is 4-32 characters of 0-9, A-Z or '-'")
    return b"".join(ndef.message_encoder([ndef.Record(record_type, "", number.encode("ascii"))]))
