"""Phone numbers as member keys: parsed and normalised to E.164 with phonenumbers."""
from __future__ import annotations

import phonenumbers

from kiosk.errors import KioskError


class InvalidPhone(KioskError):
    """A phone number that is not a valid number for its region."""


def normalise_phone(raw: str, default_region: str, *, mobile_only: bool = True) -> str:
    """Return ``raw`` as E.164 (``+989121234567``); raise :class:`InvalidPhone` with a reason.

    A member's phone must receive SMS codes, so by default only a mobile number is accepted;
    ``mobile_only=False`` is for looking up a number that may have been stored before that rule.
    """
    text = raw.strip().translate(_LOCAL_DIGITS)
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"{raw!r} is not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"{raw!r} is not a valid phone number for region {default_region}; check the digits")
    if mobile_only and phonenumbers.number_type(number) not in _SMS_TYPES:
        raise InvalidPhone(
            f"phone: {raw!r} is not a mobile number (a landline or service number cannot receive an SMS "
            "code); enter a mobile number"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# Types an SMS can reach. phonenumbers cannot tell some regions' landlines from mobiles
# (e.g. the US): those numbers are FIXED_LINE_OR_MOBILE and are given the benefit of the doubt.
_SMS_TYPES = frozenset({phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE})


# Shoppers type on Persian or Arabic keypads; phonenumbers wants ASCII digits.
_LOCAL_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
