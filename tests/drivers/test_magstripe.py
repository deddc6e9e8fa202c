"""ISO 7813 swipes: parsing, LRC, payment-card refusal and the chain's own format."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from drivers.errors import DriverError, FrameError, RefusedCardError
from drivers.magstripe import (
    MagstripeFormat,
    NotALoyaltyCard,
    PaymentCardRefused,
    card_id_from_swipe,
    format_swipe,
    is_payment_card,
    lrc_char,
    luhn_valid,
    parse_swipe,
)
from tests.support.branches import Branches

# Well-known test PANs (not real accounts), Luhn-valid.
VISA_TEST_PAN = "4111111111111111"
BANK_TRACK1 = f"B{VISA_TEST_PAN}^DOE/JOHN^2512101000000000000"
BANK_TRACK2 = f"{VISA_TEST_PAN}=25121010000000000000"
LOYALTY = MagstripeFormat(track=2, pattern=r"77(?P<id>\d{10})")
LOYALTY_SWIPE = format_swipe("LCHAIN^MEMBER^", "770012345678")


def luhn_complete(body: str) -> str:
    """``body`` plus the check digit that makes it Luhn-valid."""
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


def test_luhn_accepts_known_valid_numbers_and_rejects_a_changed_digit():
    assert luhn_valid(VISA_TEST_PAN) and luhn_valid("79927398713")
    assert not luhn_valid("4111111111111112") and not luhn_valid("") and not luhn_valid("12a4")


def test_a_three_track_swipe_is_split_into_its_tracks():
    swipe = parse_swipe("%LCHAIN^MEMBER^?;770012345678?;0123=4567?")
    assert (swipe.track1, swipe.track2, swipe.track3) == ("LCHAIN^MEMBER^", "770012345678", "0123=4567")


def test_track_3_may_start_with_a_plus_sentinel():
    assert parse_swipe(";12345678?+0123=4567?").track3 == "0123=4567"


def test_an_unreadable_track_marked_e_is_treated_as_absent():
    swipe = parse_swipe("%E?;770012345678?+E?")
    assert (swipe.track1, swipe.track2, swipe.track3) == (None, "770012345678", None)


def test_a_swipe_with_every_track_unreadable_asks_to_swipe_again():
    with pytest.raises(FrameError, match="swipe it again"):
        parse_swipe("%E?;E?")


@pytest.mark.parametrize(
    "line, message",
    [
        (";77001234", "no end sentinel"),
        ("x;770012345678?", "not a track start sentinel"),
        (";7700A2345678?", "cannot carry at position 5"),
        ("%A^B?%A^B?", "not a track start sentinel"),
        ("", "could not be read"),
    ],
)
def test_a_malformed_swipe_is_a_frame_error_that_says_what_is_wrong(line, message):
    with pytest.raises(FrameError, match=message):
        parse_swipe(line)


def test_raw_tracks_with_a_correct_lrc_parse_and_a_wrong_lrc_is_refused():
    raw = format_swipe("LCHAIN^MEMBER^", "770012345678", with_lrc=True)
    assert parse_swipe(raw, with_lrc=True).track2 == "770012345678"
    broken = raw[:-1] + chr(ord(raw[-1]) ^ 1)
    with pytest.raises(FrameError, match="track 2 fails its LRC"):
        parse_swipe(broken, with_lrc=True)


def test_the_lrc_is_the_xor_of_the_track_characters_including_sentinels():
    # ';' 0xB, '1' 0x1, '2' 0x2, '?' 0xF -> 0xB^0x1^0x2^0xF = 0x7 -> '7'
    assert lrc_char(";12?", 2) == "7"


def test_a_bank_card_is_refused_by_its_track_1_format_code():
    assert is_payment_card(parse_swipe(format_swipe(BANK_TRACK1)))


def test_a_bank_card_is_refused_by_the_luhn_valid_pan_on_track_2():
    assert is_payment_card(parse_swipe(format_swipe(None, BANK_TRACK2)))


def test_a_bank_card_swipe_is_refused_with_a_message_that_carries_no_card_data():
    with pytest.raises(PaymentCardRefused) as caught:
        card_id_from_swipe(format_swipe(BANK_TRACK1, BANK_TRACK2), LOYALTY)
    message = str(caught.value)
    assert "bank card" in message
    assert VISA_TEST_PAN not in message and "DOE" not in message and not any(c.isdigit() for c in message)


def test_a_bank_card_is_refused_even_when_the_chain_format_would_match_it():
    permissive = MagstripeFormat(track=2, pattern=r"(?P<id>\d+)=.*")
    with pytest.raises(PaymentCardRefused):
        card_id_from_swipe(format_swipe(None, BANK_TRACK2), permissive)


def test_a_loyalty_card_gives_the_card_id_from_the_chain_format():
    assert card_id_from_swipe(LOYALTY_SWIPE, LOYALTY) == "0012345678"


def test_another_card_is_refused_as_not_a_loyalty_card():
    with pytest.raises(NotALoyaltyCard, match="not a loyalty card"):
        card_id_from_swipe(format_swipe(None, "990012345678"), LOYALTY)


def test_a_chain_format_on_track_1_reads_track_1():
    fmt = MagstripeFormat(track=1, pattern=r"LCHAIN\^(?P<id>[A-Z]+)\^")
    assert card_id_from_swipe(LOYALTY_SWIPE, fmt) == "MEMBER"


@pytest.mark.parametrize("track, pattern, message", [(4, r"\d+", "1, 2 or 3"), (2, r"(", "regular expression")])
def test_a_bad_chain_format_in_the_config_is_refused_clearly(track, pattern, message):
    with pytest.raises(DriverError, match=message):
        MagstripeFormat(track=track, pattern=pattern)


def test_the_repr_of_a_swipe_shows_which_tracks_but_no_data():
    swipe = parse_swipe(format_swipe(BANK_TRACK1, BANK_TRACK2))
    assert repr(swipe) == "Swipe(tracks=1+2)" and VISA_TEST_PAN not in str(swipe)


pans = st.integers(11, 18).flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n)).map(luhn_complete)


@settings(max_examples=300, deadline=None)
@given(pans, st.text("0123456789", max_size=20), st.booleans())
def test_any_luhn_valid_pan_on_track_2_is_refused_and_never_in_the_message(pan, rest, with_lrc):
    line = format_swipe(None, f"{pan}={rest}", with_lrc=with_lrc)
    with pytest.raises(PaymentCardRefused) as caught:
        card_id_from_swipe(line, MagstripeFormat(2, r".*"), with_lrc=with_lrc)
    assert pan not in str(caught.value) and pan not in repr(caught.value)


@settings(max_examples=300, deadline=None)
@given(st.text("0123456789", min_size=10, max_size=10))
def test_a_chain_number_without_a_field_separator_is_never_taken_for_a_bank_card(number):
    # "77" + 10 digits is Luhn-valid one time in ten; without '=' it is no PAN.
    assert card_id_from_swipe(format_swipe(None, f"77{number}"), LOYALTY) == number


@settings(max_examples=300, deadline=None)
@given(pans, st.text(st.characters(min_codepoint=0x20, max_codepoint=0x5F, exclude_characters="%?^"), max_size=26))
def test_any_track_1_format_b_is_refused(pan, name):
    with pytest.raises(PaymentCardRefused):
        card_id_from_swipe(format_swipe(f"B{pan}^{name}^2512"), MagstripeFormat(1, r".*"))


track_chars = st.sampled_from(list("%;+?^=E0123456789ABZ /:<>") + ["\x00", "é"])
names = st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ /"), max_size=20)


@st.composite
def swipe_lines(draw) -> tuple[str, bool]:
    """A swipe line and whether it is read with LRCs: loyalty, bank, other and damaged cards, and noise."""
    with_lrc = draw(st.booleans())
    kind = draw(st.sampled_from(["loyalty", "loyalty", "bank", "other", "damaged", "noise"]))
    loyalty = format_swipe(draw(st.none() | names.map(lambda n: f"LCHAIN^{n}^")),
                           "77" + draw(st.text("0123456789", min_size=10, max_size=10)),
                           draw(st.none() | st.text("0123456789=", min_size=1, max_size=20)),
                           with_lrc=with_lrc)
    if kind == "loyalty":
        return loyalty, with_lrc
    if kind == "bank":
        pan = draw(pans)
        tracks = draw(st.sampled_from([(f"B{pan}^DOE/JOHN^2512", None), (None, f"{pan}=2512101")]))
        return format_swipe(*tracks, with_lrc=with_lrc), with_lrc
    if kind == "other":
        number = draw(st.text("0123456789", min_size=1, max_size=30).filter(lambda n: not n.startswith("77")))
        return format_swipe(None, number, with_lrc=with_lrc), with_lrc
    if kind == "damaged":
        cut = draw(st.integers(0, len(loyalty) - 1))
        return loyalty[:cut] + draw(st.sampled_from(["", "?", "x", "%", "="])), with_lrc
    return draw(st.text(track_chars, max_size=80) | st.text(max_size=80)), with_lrc


def test_any_swipe_line_gives_its_card_id_or_a_driver_error_and_refusals_carry_no_digits():
    branches = Branches()

    @settings(max_examples=500, deadline=None)
    @given(swipe_lines())
    def example(line):
        text, with_lrc = line
        try:
            card_id = card_id_from_swipe(text, LOYALTY, with_lrc=with_lrc)
        except PaymentCardRefused as refusal:
            branches.took("bank card")
            assert not any(c.isdigit() for c in str(refusal))
        except NotALoyaltyCard as refusal:
            branches.took("not a loyalty card")
            assert not any(c.isdigit() for c in str(refusal))
        except FrameError:
            branches.took("bad swipe")
        else:
            branches.took("card id")
            assert len(card_id) == 10 and card_id.isdigit() and f";77{card_id}?" in text

    example()
    branches.require(**{"card id": 0.12, "bank card": 0.06, "not a loyalty card": 0.08, "bad swipe": 0.15})
