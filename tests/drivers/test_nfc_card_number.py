"""Which identifier an NFC tap yields: chain card number (NDEF) or UID."""
from __future__ import annotations

import ndef
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.errors import DriverError
from drivers.nfc.card_number import (
    CARD_RECORD_TYPE,
    CardNumberError,
    card_identity,
    card_number_message,
    is_random_uid,
)

UID = bytes.fromhex("04a1b2c3d4e5f6")


def _message(*records: ndef.Record) -> bytes:
    return b"".join(ndef.message_encoder(records))


def test_a_card_without_ndef_is_known_by_its_uid_in_upper_case_hex():
    assert card_identity(UID, None) == "04A1B2C3D4E5F6"


def test_a_card_number_record_wins_over_the_uid():
    assert card_identity(UID, card_number_message("600123456789")) == "600123456789"


def test_other_records_do_not_count_as_a_card_number():
    message = _message(ndef.TextRecord("600123456789"), ndef.UriRecord("https://shop.example/"))

    assert card_identity(UID, message) == "04A1B2C3D4E5F6"


def test_the_card_number_can_sit_among_other_records():
    message = _message(ndef.UriRecord("https://shop.example/"), ndef.Record(CARD_RECORD_TYPE, "", b"A-1234"))

    assert card_identity(UID, message) == "A-1234"


def test_a_card_number_with_characters_outside_the_alphabet_is_refused_without_echoing_it():
    message = _message(ndef.Record(CARD_RECORD_TYPE, "", b"60012 345"))

    with pytest.raises(CardNumberError, match="not 4-32 characters") as refused:
        card_identity(UID, message)

    assert "60012" not in str(refused.value) and "04A1" not in str(refused.value)
    assert isinstance(refused.value, DriverError)


def test_two_different_card_numbers_on_one_card_are_refused():
    message = _message(ndef.Record(CARD_RECORD_TYPE, "", b"1111"), ndef.Record(CARD_RECORD_TYPE, "", b"2222"))

    with pytest.raises(CardNumberError, match="2 different"):
        card_identity(UID, message)


def test_an_ndef_message_that_does_not_decode_is_refused():
    with pytest.raises(CardNumberError, match="does not decode"):
        card_identity(UID, b"\xd4\x0a")  # header promises a 10-byte type that is not there


def test_the_record_type_is_configurable_per_chain():
    message = _message(ndef.Record("urn:nfc:ext:chain.example:member", "", b"9999"))

    assert card_identity(UID, message, "urn:nfc:ext:chain.example:member") == "9999"
    assert card_identity(UID, message) == "04A1B2C3D4E5F6"


def test_a_bad_card_number_cannot_be_written_by_the_card_tool():
    with pytest.raises(ValueError, match="4-32 characters"):
        card_number_message("12")


def test_random_ids_are_the_four_byte_ones_starting_with_08():
    assert is_random_uid(bytes.fromhex("08a1b2c3"))
    assert not is_random_uid(bytes.fromhex("11a1b2c3"))
    assert not is_random_uid(bytes.fromhex("08a1b2c3d4e5f6"))


@settings(deadline=None)  # no timing assertions, also not per example
@given(st.from_regex(r"[0-9A-Z-]{4,32}", fullmatch=True))
def test_any_valid_card_number_round_trips_through_its_ndef_message(number):
    assert card_identity(UID, card_number_message(number)) == number


@settings(deadline=None)  # no timing assertions, also not per example
@given(st.binary(max_size=200))
def test_any_bytes_give_an_identity_or_a_clear_refusal_and_nothing_else(data):
    try:
        identity = card_identity(UID, data)
    except CardNumberError as error:
        assert "rewrite the card" in str(error)
    else:
        assert identity == "04A1B2C3D4E5F6" or identity.replace("-", "").isalnum()
