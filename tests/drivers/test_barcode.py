"""Scanner reads: printed card numbers and signed digital cards."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from drivers.barcode import BarcodeFormat, NotALoyaltyCode, encode_scan, parse_scan
from drivers.decoding import Decoded
from drivers.digital_card import TokenRefused, issue_token
from drivers.errors import DriverError
from tests.support.branches import Branches

KEY = b"s" * 32
NOW = datetime(2026, 11, 23, 18, 0, tzinfo=timezone.utc)
FORMAT = BarcodeFormat(pattern=r"LC(?P<id>\d{8})", token_key=KEY)


def clock() -> datetime:
    return NOW


def test_a_printed_card_number_is_a_barcode_read_of_its_id():
    assert parse_scan("LC12345678", FORMAT, now=clock) == Decoded("12345678", "barcode")


def test_a_genuine_digital_card_is_a_qr_token_read_of_its_card_id():
    token = issue_token("M-42", KEY, expires_at=NOW + timedelta(minutes=2))
    assert parse_scan(token, FORMAT, now=clock) == Decoded("M-42", "qrtoken")


def test_a_forged_digital_card_is_refused_as_not_genuine():
    token = issue_token("M-42", b"z" * 32, expires_at=NOW + timedelta(minutes=2))
    with pytest.raises(TokenRefused, match="not genuine"):
        parse_scan(token, FORMAT, now=clock)


def test_an_expired_digital_card_is_refused_as_expired():
    token = issue_token("M-42", KEY, expires_at=NOW - timedelta(minutes=2))
    with pytest.raises(TokenRefused, match="expired"):
        parse_scan(token, FORMAT, now=clock)


def test_digital_cards_are_refused_when_the_kiosk_has_no_key():
    token = issue_token("M-42", KEY, expires_at=NOW + timedelta(minutes=2))
    with pytest.raises(NotALoyaltyCode, match="not enabled"):
        parse_scan(token, BarcodeFormat(r"LC(?P<id>\d{8})"), now=clock)


def test_a_product_barcode_is_refused_as_not_a_loyalty_card():
    with pytest.raises(NotALoyaltyCode, match="not a loyalty card"):
        parse_scan("4006381333931", FORMAT, now=clock)


@pytest.mark.parametrize("scan", ["LC123456789", "XLC12345678", "4006LC12345678", "LC12345678 LC87654321"])
def test_a_code_that_only_contains_a_card_number_is_refused_as_not_a_loyalty_card(scan):
    # The whole scan must be the card's pattern: a product code with the digits inside is not the card.
    with pytest.raises(NotALoyaltyCode, match="not a loyalty card"):
        parse_scan(scan, FORMAT, now=clock)


def test_the_format_repr_never_shows_the_key():
    assert "sss" not in repr(FORMAT)


def test_a_scan_is_sent_as_the_code_and_a_carriage_return():
    assert encode_scan("LC12345678") == b"LC12345678\r"
    with pytest.raises(DriverError):
        encode_scan("two\nlines")


card_numbers = st.text("0123456789", min_size=8, max_size=8).map(lambda digits: f"LC{digits}")
card_ids = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=20)
lifetimes = st.integers(-600, 600).map(lambda seconds: NOW + timedelta(seconds=seconds))
tokens = st.builds(lambda card, key, expires: issue_token(card, key, expires_at=expires),
                   card_ids, st.sampled_from([KEY, b"z" * 32]), lifetimes)
genuine_tokens = st.builds(lambda card, seconds: issue_token(card, KEY, expires_at=NOW + timedelta(seconds=seconds)),
                           card_ids, st.integers(31, 600))
padding = st.sampled_from(["", " ", "\r", "\n", " \t"])
scans = st.one_of(
    card_numbers,
    genuine_tokens,
    tokens,
    st.builds(lambda pad, code, tail: pad + code + tail, padding, card_numbers | tokens, padding),
    st.text(max_size=120),
    st.text("0123456789", min_size=1, max_size=20),
    tokens.map(lambda token: token[:-3]),
)


def test_any_scanned_text_is_a_read_with_its_id_or_a_refusal_that_never_echoes_it():
    branches = Branches()

    @settings(max_examples=500, deadline=None)
    @given(scans)
    def example(text):
        try:
            result = parse_scan(text, FORMAT, now=clock)
        except TokenRefused as refusal:
            branches.took("token refused")
            assert text.strip() not in str(refusal)
            return
        except NotALoyaltyCode as refusal:
            branches.took("not a card")
            assert len(text.strip()) < 8 or text.strip() not in str(refusal)
            return
        branches.took(result.tech)
        if result.tech == "barcode":
            assert f"LC{result.uid}" == text.strip()
        else:
            assert result.tech == "qrtoken" and result.uid
            assert text.strip().startswith("LC1.")

    example()
    branches.require(barcode=0.08, qrtoken=0.08, **{"token refused": 0.15, "not a card": 0.08})
