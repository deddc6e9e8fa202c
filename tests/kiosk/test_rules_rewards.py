"""Rewards catalogue rules and coupon codes."""

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.errors import ConfigError, InsufficientPoints, InvalidCouponCode, RewardNotAvailable
from tests.support.branches import Branches
from kiosk.rules import LoyaltyRules
from kiosk.rules.rewards import (
    Reward,
    RewardOffer,
    check_reward,
    coupon_code,
    parse_coupon_code,
    reward_from_row,
    reward_offer,
    reward_offers,
)

RULES = LoyaltyRules()
BRONZE, SILVER, GOLD, PLATINUM = RULES.tiers
TODAY = date(2026, 6, 1)
COFFEE = Reward("coffee", "Free coffee", 100)


def offer(reward, balance=1000, tier=BRONZE, taken=0, today=TODAY):
    return reward_offer(reward, balance=balance, tier=tier, taken=taken, today=today, rules=RULES)


# --- offers ---------------------------------------------------------------------------------


def test_a_reward_within_the_balance_is_available():
    assert offer(COFFEE) == RewardOffer(COFFEE, (), 0)
    assert offer(COFFEE).available


def test_a_reward_costing_exactly_the_balance_is_available():
    assert offer(COFFEE, balance=100).available


def test_a_reward_beyond_the_balance_says_how_many_points_are_missing():
    result = offer(COFFEE, balance=30)
    assert result.blockers == ("points",)
    assert result.points_short == 70
    assert not result.available


def test_a_tier_reward_is_locked_below_that_tier_and_open_at_or_above_it():
    lounge = Reward("lounge", "Lounge pass", 50, min_tier="gold")
    assert offer(lounge, tier=SILVER).blockers == ("tier",)
    assert offer(lounge, tier=GOLD).available
    assert offer(lounge, tier="platinum").available


def test_the_per_member_limit_counts_what_the_member_already_took():
    once = Reward("gift", "Welcome gift", 10, per_member_limit=1)
    assert offer(once, taken=0).available
    assert offer(once, taken=1).blockers == ("member_limit",)


def test_rewards_outside_their_dates_or_inactive_are_blocked():
    seasonal = Reward(
        "yalda", "Yalda box", 10, starts_on=date(2026, 12, 15), ends_on=date(2026, 12, 21)
    )
    assert offer(seasonal, today=date(2026, 12, 14)).blockers == ("not_started",)
    assert offer(seasonal, today=date(2026, 12, 15)).available
    assert offer(seasonal, today=date(2026, 12, 21)).available
    assert offer(seasonal, today=date(2026, 12, 22)).blockers == ("ended",)
    assert offer(Reward("old", "Old", 10, active=False)).blockers == ("inactive",)


def test_all_blockers_are_reported_in_a_fixed_order():
    hard = Reward("hard", "Hard", 500, active=False, min_tier="platinum", per_member_limit=1)
    assert offer(hard, balance=0, tier=BRONZE, taken=1).blockers == (
        "inactive",
        "tier",
        "member_limit",
        "points",
    )


def test_an_unknown_member_tier_is_a_caller_bug():
    with pytest.raises(ValueError, match="tier 'diamond' is not one of the rules' tiers"):
        offer(Reward("x", "X", 1, min_tier="gold"), tier="diamond")


def test_the_catalogue_hides_rewards_not_on_offer_and_lists_the_rest_cheapest_first():
    rewards = [
        Reward("tv", "TV", 50_000),
        Reward("old", "Old", 1, active=False),
        Reward("later", "Later", 1, starts_on=date(2027, 1, 1)),
        Reward("lounge", "Lounge", 300, min_tier="gold"),
        COFFEE,
        Reward("gift", "Gift", 100, per_member_limit=1),
    ]
    offers = reward_offers(
        rewards, balance=400, tier=SILVER, taken={"gift": 1}, today=TODAY, rules=RULES
    )
    assert [(o.reward.reward_id, o.blockers) for o in offers] == [
        ("coffee", ()),
        ("gift", ("member_limit",)),
        ("lounge", ("tier",)),
        ("tv", ("points",)),
    ]


def test_more_points_never_lock_a_reward():
    points, limits = Branches(), Branches()

    @settings(deadline=None)  # no timing assertions, also not per example
    @given(st.integers(1, 10**6), st.integers(0, 10**6), st.integers(0, 5), st.integers(1, 5))
    def example(cost, balance, taken, limit):
        reward = Reward("r", "R", cost, per_member_limit=limit)
        poorer = offer(reward, balance=balance, taken=taken)
        richer = offer(reward, balance=balance + cost, taken=taken)
        assert set(richer.blockers) <= set(poorer.blockers)
        assert "points" not in richer.blockers
        assert poorer.points_short == max(cost - balance, 0)
        assert ("member_limit" in richer.blockers) == (taken >= limit)
        points.took("short of points" if "points" in poorer.blockers else "affordable")
        limits.took("limit reached" if taken >= limit else "within the limit")

    example()
    points.require(**{"short of points": 0.2, "affordable": 0.3})
    limits.require(**{"limit reached": 0.27, "within the limit": 0.22})


# --- check_reward -----------------------------------------------------------------------------


def check(reward, **kw):
    args = {"balance": 1000, "tier": BRONZE, "taken": 0, "today": TODAY, **kw}
    check_reward(reward, rules=RULES, **args)


def test_check_reward_passes_for_an_available_reward():
    check(COFFEE)


def test_check_reward_raises_insufficient_points_when_only_points_are_missing():
    with pytest.raises(InsufficientPoints, match="this needs 100 points and the balance is 40"):
        check(COFFEE, balance=40)


@pytest.mark.parametrize(
    ("reward", "kw", "reason", "message"),
    [
        (Reward("a", "Mug", 1, active=False), {}, "inactive", "no longer offered"),
        (Reward("a", "Mug", 1, ends_on=date(2026, 5, 31)), {}, "ended", "ended on 2026-05-31"),
        (
            Reward("a", "Mug", 1, starts_on=date(2026, 6, 2)),
            {},
            "not_started",
            "offered from 2026-06-02; please come back then",
        ),
        (
            Reward("a", "Mug", 1, min_tier="gold"),
            {},
            "tier",
            "for gold members and above; earn more points",
        ),
        (
            Reward("a", "Mug", 1, per_member_limit=2),
            {"taken": 2},
            "member_limit",
            "already taken it 2 times",
        ),
    ],
)
def test_check_reward_names_the_reason_a_reward_is_not_available(reward, kw, reason, message):
    with pytest.raises(RewardNotAvailable, match=message) as caught:
        check(reward, **kw)
    assert caught.value.reason == reason
    assert str(caught.value).startswith("'Mug' cannot be taken: ")


def test_a_blocker_other_than_points_wins_over_missing_points():
    with pytest.raises(RewardNotAvailable):
        check(Reward("a", "A", 500, min_tier="gold"), balance=0)


# --- validation and rows -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"reward_id": ""}, r"reward id = '' is not allowed"),
        ({"name": ""}, r"reward 'r' name = '' is not allowed"),
        ({"cost_points": 0}, r"reward 'r' cost_points = 0 is not allowed: .*at least 1"),
        ({"cost_points": 2.5}, r"reward 'r' cost_points = 2.5 is not allowed"),
        ({"active": 1}, r"reward 'r' active = 1 is not allowed: use true or false"),
        ({"per_member_limit": 0}, r"per_member_limit = 0 is not allowed: .*leave it out"),
        ({"starts_on": "2026-01-01"}, r"starts_on = '2026-01-01' is not allowed: use a date"),
        (
            {"starts_on": date(2026, 2, 1), "ends_on": date(2026, 1, 1)},
            r"ends_on = 2026-01-01 is not allowed: it is before starts_on 2026-02-01",
        ),
        ({"ends_on": datetime(2026, 1, 1)}, r"ends_on = .* is not allowed: use a date"),
    ],
)
def test_a_bad_reward_raises_a_config_error_naming_the_field(kwargs, pattern):
    with pytest.raises(ConfigError, match=pattern):
        Reward(**{"reward_id": "r", "name": "R", "cost_points": 10, **kwargs})


def test_a_min_tier_must_be_one_of_the_rules_tiers():
    Reward("r", "R", 1, min_tier="gold").check_tiers(RULES)
    with pytest.raises(ConfigError, match=r"min_tier = 'Gold' is not a tier: use bronze"):
        Reward("r", "R", 1, min_tier="Gold").check_tiers(RULES)


def test_a_store_row_becomes_a_reward():
    row = {
        "id": "coffee",
        "name": "Free coffee",
        "cost_points": 100,
        "active": 1,
        "per_member_limit": None,
    }
    assert reward_from_row(row) == COFFEE
    assert reward_from_row({**row, "active": 0}).active is False
    seasonal = reward_from_row({**row, "starts_on": "2026-12-15", "ends_on": "2026-12-21"})
    assert seasonal.ends_on == date(2026, 12, 21)


def test_a_store_row_with_a_bad_date_is_refused():
    with pytest.raises(ConfigError, match=r"reward 'coffee' ends_on = '21/12/2026'"):
        reward_from_row({"id": "coffee", "name": "C", "cost_points": 1, "ends_on": "21/12/2026"})


# --- coupon codes ------------------------------------------------------------------------------


def test_a_coupon_code_has_three_groups_of_four_and_a_check_symbol():
    code = coupon_code(bytes(range(8)))
    assert len(code) == 16
    assert [len(part) for part in code.split("-")] == [4, 4, 4, 1]
    assert coupon_code(bytes(range(8))) == code  # same bytes, same code


def test_a_coupon_code_needs_enough_randomness():
    with pytest.raises(ValueError, match="at least 8 random bytes"):
        coupon_code(b"1234567")


def test_a_typed_code_is_read_forgivingly():
    code = coupon_code(bytes([0xFF] * 8))
    messy = " " + code.lower().replace("-", " ") + " "
    assert parse_coupon_code(messy) == code


def test_look_alike_letters_are_read_as_digits():
    code = coupon_code(bytes(8))  # all zeros: "0000-0000-0000-0"
    assert code == "0000-0000-0000-0"
    assert parse_coupon_code("OOOO-oooo-0000-0") == code


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("ABCD-EFGH", r"a code has 13 letters and digits, this has 8"),
        ("ABCD-EFGH-JKMN-U", r"'U' never appears in a coupon code"),
        ("0000-0000-0001-0", r"a letter or digit is wrong"),
    ],
)
def test_a_malformed_code_says_what_is_wrong_and_what_to_do(text, why):
    with pytest.raises(InvalidCouponCode, match=why) as caught:
        parse_coupon_code(text)
    assert "please check it and type it again, or scan the QR code" in str(caught.value)


def test_a_code_that_is_not_text_is_refused():
    with pytest.raises(InvalidCouponCode, match="it is not text"):
        parse_coupon_code(1234)  # type: ignore[arg-type]


CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def test_every_generated_code_parses_back_to_itself_and_fits_qr_alphanumeric_and_typed_junk_is_refused():
    branches = Branches()
    junk = st.text(CODE_ALPHABET + "OIL- u", min_size=12, max_size=16) | st.text(max_size=20)

    def as_typed(code: str, spaced: bool) -> str:  # how a shopper types it: lower case, O for 0, I for 1
        typed = code.lower().replace("0", "o").replace("1", "I")
        return typed.replace("-", " ") if spaced else typed.replace("-", "")

    @settings(deadline=None)  # no timing assertions, also not per example
    @given(st.binary(min_size=8, max_size=8), st.none() | junk, st.booleans())
    def example(raw, text, spaced):
        code = coupon_code(raw)
        assert parse_coupon_code(code) == code
        assert set(code) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
        if text is None:
            assert parse_coupon_code(as_typed(code, spaced)) == code
            branches.took("typed code read")
            return
        try:
            read = parse_coupon_code(text)
        except InvalidCouponCode:
            branches.took("junk refused")
            return
        assert parse_coupon_code(read) == read and len(read.replace("-", "")) == 13
        branches.took("junk with a valid check symbol")

    example()
    branches.require(**{"junk refused": 0.33, "typed code read": 0.16})


def test_changing_any_one_symbol_is_detected():
    branches = Branches()

    @settings(deadline=None)  # no timing assertions, also not per example
    @given(st.binary(min_size=8, max_size=8), st.integers(0, 11) | st.just(12), st.integers(1, 31))
    def example(raw, position, shift):
        code = coupon_code(raw).replace("-", "")
        wrong = CODE_ALPHABET[(CODE_ALPHABET.index(code[position]) + shift) % 32]
        typo = code[:position] + wrong + code[position + 1 :]
        with pytest.raises(InvalidCouponCode, match="check symbol"):
            parse_coupon_code(typo)
        branches.took("check symbol changed" if position == 12 else "data symbol changed")

    example()
    branches.require(**{"check symbol changed": 0.12, "data symbol changed": 0.38})


def test_swapping_two_neighbouring_symbols_is_mostly_detected():
    branches = Branches()

    @settings(deadline=None)  # no timing assertions, also not per example
    @given(st.binary(min_size=8, max_size=8), st.integers(0, 11))
    def example(raw, position):
        code = coupon_code(raw).replace("-", "")
        a, b = code[position], code[position + 1]
        swapped = code[:position] + b + a + code[position + 2 :]
        # Luhn mod N misses only swaps of the two symbols whose values sum to N - 1 (0 and Z
        # here), like Luhn's 09 <-> 90; equal neighbours are no change at all.
        if a == b or {a, b} == {"0", "Z"}:
            branches.took("undetectable swap")
            return
        with pytest.raises(InvalidCouponCode):
            parse_coupon_code(swapped)
        branches.took("swap detected")

    example()
    branches.require(**{"swap detected": 0.5})


def test_distinct_random_bytes_give_distinct_codes():
    # The code keeps the top 60 of the 64 bits, so vary the bits it keeps.
    codes = {coupon_code((i << 4).to_bytes(8, "big")) for i in range(2000)}
    assert len(codes) == 2000
