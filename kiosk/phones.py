"""Phone numbers as member keys: parsed and normalised to E.164 with phonenumbers."""
from __future__ import annotations

import phonenumbers

from kiosk.errors import KioskError


class InvalidPhone(KioskError):
    """A phone number that is not a valid number for its region."""


def normalise_phone(raw: str, default_region: str) -> str:
    """Return ``raw`` as E.164 (``+989121234567``); raise :class:`InvalidPhone` with a reason."""
    text = raw.strip().translate(_LOCAL_DIGITS)
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"{raw!r} is not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"{raw!r} is not a valid phone number for region {default_region}; check the digits")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# Shoppers type on Persian or Arabic keypads; phonenumbers wants ASCII digits.
_LOCAL_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
