"""Loyalty settings are validated when built, with errors that name the field."""

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from kiosk.errors import ConfigError, KioskError
from kiosk.rules import (
    DEFAULT_TIERS, Entry, LoyaltyRules, Tier, cashback_rial, enrollment_bonus, expiring_points, rules_from_mapping,
)


def test_the_defaults_are_the_reference_chain_settings():
    rules = LoyaltyRules()
    assert rules.rial_per_point == 10_000
    assert [(t.name, t.min_points, t.multiplier_percent) for t in rules.tiers] == [
        ("bronze", 0, 100),
        ("silver", 1000, 110),
        ("gold", 5000, 125),
        ("platinum", 20000, 150),
    ]
    assert rules.expiry_days == 365 and rules.birthday_mode == "month"


def test_rules_are_frozen_and_hashable():
    rules = LoyaltyRules()
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.rial_per_point = 1  # type: ignore[misc]
    assert hash(rules) == hash(LoyaltyRules())


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        ("rial_per_point", 0, "at least 1"),
        ("rial_per_point", -5, "at least 1"),
        ("rial_per_point", 1.5, "whole number"),
        ("rial_per_point", True, "whole number"),
        ("rial_per_point", "10000", "whole number"),
        ("tier_window_days", 0, "at least 1"),
        ("point_value_rial", 0, "at least 1"),
        ("cashback_basis_points", -1, "from 0 to 10000"),
        ("cashback_basis_points", 10_001, "from 0 to 10000"),
        ("enrollment_bonus", -1, "at least 0"),
        ("profile_completion_bonus", -1, "at least 0"),
        ("birthday_bonus", -1, "at least 0"),
        ("referral_bonus", -1, "at least 0"),
        ("referred_bonus", 2.0, "whole number"),
        ("expiry_days", -1, "at least 0"),
        ("streak_bonus", -1, "at least 0"),
        ("streak_periods", 0, "at least 1"),
        ("streak_period_days", 0, "at least 1"),
        ("offline_daily_redeem_cap", -1, "at least 0"),
    ],
)
def test_a_bad_number_raises_a_config_error_naming_field_value_and_what_is_allowed(
    field, value, allowed
):
    with pytest.raises(ConfigError) as caught:
        LoyaltyRules(**{field: value})
    message = str(caught.value)
    assert message.startswith(f"{field} = {value!r} is not allowed")
    assert allowed in message


def test_a_config_error_is_a_kiosk_error():
    with pytest.raises(KioskError):
        LoyaltyRules(rial_per_point=0)


def test_an_unknown_birthday_mode_is_refused_listing_the_modes():
    with pytest.raises(ConfigError, match=r"birthday_mode = 'week' .*\"month\".*\"day\""):
        LoyaltyRules(birthday_mode="week")


def test_an_unknown_calendar_is_refused():
    with pytest.raises(ConfigError, match=r"calendar = 'lunar' .*gregorian.*jalali"):
        LoyaltyRules(calendar="lunar")


def test_zero_expiry_days_and_zero_bonuses_are_allowed_and_mean_never_and_nothing():
    rules = LoyaltyRules(expiry_days=0, enrollment_bonus=0, cashback_basis_points=0)
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)
    credit = Entry("e1", "earn", 500, 5_000_000, long_ago)
    assert expiring_points([credit], long_ago + timedelta(days=10_000), rules) == 0
    assert expiring_points([credit], long_ago + timedelta(days=366), LoyaltyRules()) == 500
    assert enrollment_bonus(rules) == 0 and cashback_rial(5_000_000, rules) == 0


def test_tiers_must_start_at_zero():
    with pytest.raises(ConfigError, match=r"tiers\[0\] \('silver'\) min_points = 10 .*start at 0"):
        LoyaltyRules(tiers=(Tier("silver", 10, 110),))


def test_tiers_must_be_sorted_by_min_points():
    tiers = (Tier("bronze", 0, 100), Tier("gold", 5000, 125), Tier("silver", 1000, 110))
    with pytest.raises(
        ConfigError, match=r"tiers\[2\] \('silver'\) min_points = 1000 .*lowest to highest"
    ):
        LoyaltyRules(tiers=tiers)


def test_two_tiers_with_the_same_threshold_are_refused():
    tiers = (Tier("bronze", 0, 100), Tier("silver", 0, 110))
    with pytest.raises(ConfigError, match=r"tiers\[1\]"):
        LoyaltyRules(tiers=tiers)


def test_tier_names_must_be_unique_ignoring_case():
    tiers = (Tier("bronze", 0, 100), Tier("Bronze", 10, 110))
    with pytest.raises(ConfigError, match=r"tiers\[1\] name = 'Bronze' .*unique"):
        LoyaltyRules(tiers=tiers)


def test_an_empty_tier_list_is_refused():
    with pytest.raises(ConfigError, match=r"tiers = \(\) is not allowed: give at least one tier"):
        LoyaltyRules(tiers=())


def test_a_tier_list_is_accepted_and_stored_as_a_tuple():
    rules = LoyaltyRules(tiers=list(DEFAULT_TIERS))
    assert rules.tiers == DEFAULT_TIERS
    assert isinstance(rules.tiers, tuple)


def test_a_tier_that_is_not_a_tier_is_refused():
    with pytest.raises(ConfigError, match=r"tiers\[1\] = 'gold' is not allowed"):
        LoyaltyRules(tiers=(Tier("bronze", 0, 100), "gold"))


@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        (("", 0, 100), r"tier name = '' is not allowed"),
        (("gold", -1, 100), r"tier 'gold' min_points = -1 is not allowed"),
        (("gold", 10, 0), r"tier 'gold' multiplier_percent = 0 is not allowed.*at least 1"),
        (("gold", 10, 1.25), r"tier 'gold' multiplier_percent = 1.25 is not allowed.*whole"),
    ],
)
def test_a_bad_tier_raises_a_config_error_naming_the_tier_and_field(args, pattern):
    with pytest.raises(ConfigError, match=pattern):
        Tier(*args)


def test_rules_from_a_config_table_fill_in_defaults_and_build_tiers():
    rules = rules_from_mapping(
        {
            "rial_per_point": 5000,
            # Names out of alphabetical order: the tiers come in the config's order, lowest first.
            "tiers": [
                {"name": "member", "min_points": 0, "multiplier_percent": 100},
                {"name": "gold", "min_points": 300, "multiplier_percent": 200},
            ],
        }
    )
    assert rules.rial_per_point == 5000
    assert rules.tiers == (Tier("member", 0, 100), Tier("gold", 300, 200))
    assert rules.expiry_days == LoyaltyRules().expiry_days


def test_an_empty_config_table_gives_the_defaults():
    assert rules_from_mapping({}) == LoyaltyRules()


def test_a_misspelt_config_key_is_refused_with_the_section_and_known_keys():
    with pytest.raises(
        ConfigError, match=r"^\[loyalty\] 'rial_per_pont' is not a known .*rial_per_point"
    ):
        rules_from_mapping({"rial_per_pont": 1})


def test_a_bad_value_from_a_config_table_is_reported_under_its_section():
    with pytest.raises(ConfigError, match=r"^\[rules\] expiry_days = -3 is not allowed"):
        rules_from_mapping({"expiry_days": -3}, section="rules")


@pytest.mark.parametrize(
    ("tiers", "pattern"),
    [
        ("gold", r"tiers = 'gold' is not allowed: give a list of tables"),
        ([5], r"tiers\[0\] = 5 is not allowed"),
        ([{"name": "a", "min_points": 0}], r"tiers\[0\] has missing key 'multiplier_percent'"),
        (
            [{"name": "a", "min_points": 0, "multiplier_percent": 100, "colour": "red"}],
            r"tiers\[0\] has unknown key 'colour'",
        ),
        (
            [
                {"name": "a", "min_points": 0, "multiplier_percent": 100},
                {"name": "b", "min_points": 0, "multiplier_percent": 100},
            ],
            r"tiers\[1\] \('b'\) min_points = 0",
        ),
    ],
)
def test_bad_tier_tables_are_refused_naming_the_tier(tiers, pattern):
    with pytest.raises(ConfigError, match=r"^\[loyalty\] " + pattern):
        rules_from_mapping({"tiers": tiers})


def test_a_config_that_is_not_a_table_is_refused():
    with pytest.raises(ConfigError, match=r"\[loyalty\] must be a table"):
        rules_from_mapping(["rial_per_point", 1])  # type: ignore[arg-type]


def test_a_tier_may_carry_its_names_per_screen_language_and_the_member_screen_carries_them():
    from kiosk.member_view import tier_names

    rules = rules_from_mapping({"tiers": [
        {"name": "bronze", "min_points": 0, "multiplier_percent": 100},
        {"name": "diamond", "min_points": 900, "multiplier_percent": 150, "names": {"fa": "الماس", "en": "Diamond"}},
    ]})
    assert rules.tiers[1].names == {"fa": "الماس", "en": "Diamond"}
    assert tier_names(rules) == {"diamond": {"fa": "الماس", "en": "Diamond"}}  # unnamed tiers: the screen's words


@pytest.mark.parametrize(
    ("names", "pattern"),
    [
        ("Diamond", r"tier 'diamond' names = 'Diamond' is not allowed: give an object with fa, ar and/or en"),
        ({"de": "Diamant"}, r"tier 'diamond' name has unknown language 'de': use fa, ar, en"),
        ({"fa": "  "}, r"tier 'diamond' name.fa = '  ' is not allowed: give a non-empty name"),
        ({"fa": 7}, r"tier 'diamond' name.fa = 7 is not allowed"),
        ({}, r"tier 'diamond' name = \{\} is not allowed"),
    ],
)
def test_a_tiers_bad_names_are_refused_naming_the_tier_and_the_language(names, pattern):
    with pytest.raises(ConfigError, match=r"\[loyalty\] " + pattern):
        rules_from_mapping({"tiers": [
            {"name": "bronze", "min_points": 0, "multiplier_percent": 100},
            {"name": "diamond", "min_points": 900, "multiplier_percent": 150, "names": names}]})
