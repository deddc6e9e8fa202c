"""Signed digital-card tokens: issue, verify, refuse forged and expired ones."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from drivers.digital_card import TokenRefused, issue_token, verify_token
from drivers.errors import DriverError, RefusedCardError
from tests.support.branches import Branches

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


card_ids = st.text(min_size=1, max_size=40)
# Tokens that are not good: random text, token-shaped junk, tokens of another key, expired ones (past the leeway).
bad_tokens = st.one_of(
    st.text(max_size=200),
    st.text(alphabet="LC1.abcdefABCDEF0123456789-_", max_size=120).map(lambda t: "LC1." + t),
    st.builds(lambda card, ttl: issue_token(card, b"x" * 32, expires_at=NOW + timedelta(seconds=ttl)),
              card_ids, st.integers(0, 600)),
    st.builds(lambda card, age: issue_token(card, KEY, expires_at=NOW - timedelta(seconds=age)),
              card_ids, st.integers(31, 10**6)),
)


def test_any_text_is_refused_with_a_reason_and_never_raises_anything_else():
    branches = Branches()

    @settings(max_examples=500, deadline=None)
    @given(bad_tokens)
    def example(text):
        with pytest.raises(TokenRefused) as refused:
            verify_token(text, KEY, now=NOW)
        assert refused.value.code in {"malformed", "forged", "expired"}
        branches.took(refused.value.code)

    example()
    branches.require(malformed=0.2, forged=0.12, expired=0.12)


def test_issue_then_verify_round_trips_any_card_id_until_the_token_expires():
    branches = Branches()

    @settings(max_examples=200, deadline=None)
    @given(card_ids, st.integers(0, 10**6), st.integers(-600, 600))
    def example(card_id, ttl_s, late_s):
        token = issue_token(card_id, KEY, expires_at=NOW + timedelta(seconds=ttl_s))
        at = NOW + timedelta(seconds=ttl_s + late_s)  # late_s after the expiry (before it when negative)
        if late_s > 30:  # past the expiry and its 30 s leeway
            with pytest.raises(TokenRefused, match="expired"):
                verify_token(token, KEY, now=at)
            branches.took("expired")
        else:
            assert verify_token(token, KEY, now=at) == card_id
            branches.took("read")

    example()
    branches.require(read=0.3, expired=0.18)
