"""A member's phone must receive SMS codes: landlines are refused with the field named, mobiles normalised."""
from __future__ import annotations

import pytest

from kiosk.phones import InvalidPhone, normalise_phone


@pytest.mark.parametrize("raw", ["021 8888 8888", "+982188888888", "۰۲۱۸۸۸۸۸۸۸۸", "+44 20 7946 0000"])
def test_a_landline_is_refused_as_a_members_phone_naming_the_field_and_saying_why(raw):
    with pytest.raises(InvalidPhone) as caught:
        normalise_phone(raw, "IR")
    assert str(caught.value).startswith("phone:")
    assert "not a mobile number" in str(caught.value) and "SMS" in str(caught.value)


@pytest.mark.parametrize("raw, e164", [("0912 123 4567", "+989121234567"), ("۰۹۳۵۳۳۳۴۴۵۵", "+989353334455"),
                                       ("+44 7911 123456", "+447911123456"),
                                       ("+1 415 555 0123", "+14155550123")])  # US: landline or mobile, unknowable
def test_a_mobile_number_is_accepted_and_normalised_to_e164(raw, e164):
    assert normalise_phone(raw, "IR") == e164


def test_a_look_up_may_still_find_a_landline_stored_before_the_rule():
    assert normalise_phone("021 8888 8888", "IR", mobile_only=False) == "+982188888888"
