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
from tests.support.branches import Branches

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


card_numbers = st.from_regex(r"[0-9A-Z-]{4,32}", fullmatch=True)
other_records = st.one_of(st.text(max_size=30).map(ndef.TextRecord),
                          st.sampled_from(["https://shop.example/", "tel:+98"]).map(ndef.UriRecord))
KEEP_UID = "uid"  # the card is known by its UID
REFUSED = "refused"


@st.composite
def ndef_contents(draw) -> tuple[bytes | None, str]:
    """What a card's NDEF area holds, and what it should yield: a card number, the UID or a refusal."""
    kind = draw(st.sampled_from(["number", "number", "number among others", "others only", "bad number",
                                 "two numbers", "cut short", "noise", "empty"]))
    number = draw(card_numbers)
    if kind == "number":
        return card_number_message(number), number
    if kind == "number among others":
        records = draw(st.lists(other_records, max_size=3)) + [ndef.Record(CARD_RECORD_TYPE, "", number.encode())]
        return _message(*draw(st.permutations(records))), number
    if kind == "others only":
        return _message(*draw(st.lists(other_records, min_size=1, max_size=3))), KEEP_UID
    if kind == "bad number":
        bad = draw(st.text(min_size=1, max_size=40).filter(lambda t: t.isascii() is False or " " in t or len(t) < 4))
        return _message(ndef.Record(CARD_RECORD_TYPE, "", bad.encode())), REFUSED
    if kind == "two numbers":
        other = draw(card_numbers.filter(lambda n: n != number))
        return _message(ndef.Record(CARD_RECORD_TYPE, "", number.encode()),
                        ndef.Record(CARD_RECORD_TYPE, "", other.encode())), REFUSED
    if kind == "cut short":
        whole = card_number_message(number)
        return whole[: draw(st.integers(1, len(whole) - 1))], REFUSED
    if kind == "noise":
        return draw(st.binary(min_size=1, max_size=200)), "any"
    return None, KEEP_UID


def test_any_ndef_content_gives_its_card_number_the_uid_or_a_refusal_that_echoes_nothing():
    branches = Branches()

    @settings(max_examples=300, deadline=None)
    @given(ndef_contents())
    def example(content):
        data, expected = content
        try:
            identity = card_identity(UID, data)
        except CardNumberError as error:
            branches.took(REFUSED)
            assert expected in (REFUSED, "any") and "rewrite the card" in str(error)
            assert "04A1" not in str(error)
            return
        branches.took(KEEP_UID if identity == "04A1B2C3D4E5F6" else "card number")
        if expected == "any":
            assert identity == "04A1B2C3D4E5F6" or identity.replace("-", "").isalnum()
        elif expected == KEEP_UID:
            assert identity == "04A1B2C3D4E5F6"
        else:
            assert identity == expected

    example()
    branches.require(**{"card number": 0.15, KEEP_UID: 0.1, REFUSED: 0.2})
