"""Signed digital-card tokens: issue, verify, refuse forged and expired ones."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from drivers.digital_card import TokenRefused, issue_token, verify_token
from drivers.errors import DriverError, RefusedCardError

KEY = b"k" * 32
NOW = datetime(2026, 11, 23, 18, 0, tzinfo=timezone.utc)


def test_a_token_issued_by_the_kiosk_verifies_to_its_card_id():
    token = issue_token("M-000123", KEY, expires_at=NOW + timedelta(minutes=5))
    assert token.startswith("LC1.")
    assert verify_token(token, KEY, now=NOW) == "M-000123"


def test_a_token_signed_with_another_key_is_refused_as_forged():
    token = issue_token("M-000123", b"x" * 32, expires_at=NOW + timedelta(minutes=5))
    with pytest.raises(TokenRefused, match="not genuine") as caught:
        verify_token(token, KEY, now=NOW)
    assert caught.value.code == "forged"


def test_a_token_whose_card_id_was_changed_is_refused_as_forged():
    genuine = issue_token("M-000123", KEY, expires_at=NOW + timedelta(minutes=5))
    other = issue_token("M-999999", KEY, expires_at=NOW + timedelta(minutes=5))
    spliced = other.rsplit(".", 1)[0] + "." + genuine.rsplit(".", 1)[1]
    with pytest.raises(TokenRefused) as caught:
        verify_token(spliced, KEY, now=NOW)
    assert caught.value.code == "forged"


def test_an_expired_token_is_refused_and_says_to_refresh_the_card():
    token = issue_token("M-000123", KEY, expires_at=NOW - timedelta(minutes=1))
    with pytest.raises(TokenRefused, match="expired.*refresh") as caught:
        verify_token(token, KEY, now=NOW)
    assert caught.value.code == "expired"


def test_a_token_just_past_expiry_is_accepted_within_the_clock_leeway():
    token = issue_token("M-000123", KEY, expires_at=NOW - timedelta(seconds=10))
    assert verify_token(token, KEY, now=NOW, leeway_s=30) == "M-000123"


@pytest.mark.parametrize("token", ["", "LC1.", "LC1.a.b.c", "hello", "LC1." + "A" * 600])
def test_a_malformed_token_is_refused_as_malformed_or_forged(token):
    with pytest.raises(TokenRefused) as caught:
        verify_token(token, KEY, now=NOW)
    assert caught.value.code in {"malformed", "forged"}


def test_a_short_key_is_refused_with_what_to_do():
    with pytest.raises(DriverError, match="at least 16 random bytes"):
        issue_token("M-1", b"short", expires_at=NOW)


def test_a_naive_expiry_time_is_refused():
    with pytest.raises(DriverError, match="timezone-aware"):
        issue_token("M-1", KEY, expires_at=datetime(2026, 1, 1))


def test_refusal_messages_never_carry_the_card_id():
    token = issue_token("M-000123", KEY, expires_at=NOW - timedelta(days=1))
    with pytest.raises(RefusedCardError) as caught:
        verify_token(token, KEY, now=NOW)
    assert "000123" not in str(caught.value)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=200) | st.text(alphabet="LC1.abcdefABCDEF0123456789-_", max_size=120).map(lambda t: "LC1." + t))
def test_any_text_is_refused_with_a_reason_and_never_raises_anything_else(text):
    with pytest.raises(TokenRefused):
        verify_token(text, KEY, now=NOW)


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=40), st.integers(0, 10**6))
def test_issue_then_verify_round_trips_any_card_id(card_id, ttl_s):
    token = issue_token(card_id, KEY, expires_at=NOW + timedelta(seconds=ttl_s))
    assert verify_token(token, KEY, now=NOW) == card_id
