"""The chain's loyalty settings as validated, frozen plain data.

A bad value is refused when the rules are built (at config load), never later in the
middle of a purchase, and the ConfigError names the field, the value and what is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from kiosk.errors import ConfigError
from kiosk.rules.names import parse_names

BIRTHDAY_MODES = ("month", "day")
CALENDARS = ("gregorian", "jalali")


def _check_whole(field: str, value: object, *, minimum: int, maximum: int | None = None,
                 meaning: str) -> None:
    # bool is an int subclass; `true` in a TOML file is a typo, not a number.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(
            f"{field} = {value!r} is not allowed: use a whole number ({meaning})"
        )
    if value < minimum or (maximum is not None and value > maximum):
        allowed = f"at least {minimum}" if maximum is None else f"from {minimum} to {maximum}"
        raise ConfigError(
            f"{field} = {value!r} is not allowed: use a whole number {allowed} ({meaning})"
        )


@dataclass(frozen=True)
class Tier:
    """A membership tier reached with `min_points` earned within the tier window."""

    name: str
    min_points: int
    multiplier_percent: int
    cashback_basis_points: int | None = None  # None = the rules' cashback_basis_points
    # The name shown per screen language; None = the screen's own word for bronze..platinum, else `name`.
    names: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigError(
                f"tier name = {self.name!r} is not allowed: use a non-empty name such as 'silver'"
            )
        if self.names is not None:
            # Only a table: `name` already is the one-word-for-every-language form.
            if not isinstance(self.names, Mapping):
                raise ConfigError(f"tier {self.name!r} names = {self.names!r} is not allowed: give an object "
                                  f"with fa, ar and/or en names")
            object.__setattr__(self, "names", parse_names(self.names, f"tier {self.name!r}"))
        _check_whole(f"tier {self.name!r} min_points", self.min_points, minimum=0,
                     meaning="points earned within the tier window to reach this tier")
        _check_whole(f"tier {self.name!r} multiplier_percent", self.multiplier_percent,
                     minimum=1, meaning="earn multiplier in percent, 100 = the base rate")
        if self.cashback_basis_points is not None:
            _check_whole(f"tier {self.name!r} cashback_basis_points", self.cashback_basis_points,
                         minimum=0, maximum=10_000, meaning="cashback in hundredths of a percent")


DEFAULT_TIERS: tuple[Tier, ...] = (
    Tier("bronze", 0, 100),
    Tier("silver", 1_000, 110),
    Tier("gold", 5_000, 125),
    Tier("platinum", 20_000, 150),
)


@dataclass(frozen=True)
class LoyaltyRules:
    """Every number the loyalty rules need; defaults are the reference chain's."""

    rial_per_point: int = 10_000
    tiers: tuple[Tier, ...] = DEFAULT_TIERS
    tier_window_days: int = 365
    point_value_rial: int = 1_000
    cashback_basis_points: int = 0
    enrollment_bonus: int = 100
    profile_completion_bonus: int = 50
    birthday_bonus: int = 200
    birthday_mode: str = "month"
    referral_bonus: int = 100
    referred_bonus: int = 50
    expiry_days: int = 365
    # Visit streak: a purchase in each of `streak_periods` consecutive periods of
    # `streak_period_days` earns `streak_bonus` (0 = no streak bonus).
    streak_bonus: int = 0
    streak_periods: int = 4
    streak_period_days: int = 7
    # Points a member may redeem per day while the kiosk is offline (the cloud cannot
    # confirm the balance); 0 = no redemptions while offline.
    offline_daily_redeem_cap: int = 1_000
    # At most this percent of one bill may be paid with points at the till.
    max_points_percent: int = 100
    # Points, credit and discounts above this many rial on one bill need a staff PIN; 0 = never.
    staff_approval_rial: int = 0
    # Which calendar "birth month" and "once a year" are counted in; Iranian members
    # think of their birthday in the Solar Hijri (jalali) calendar.
    calendar: str = "gregorian"

    def __post_init__(self) -> None:
        _check_whole("rial_per_point", self.rial_per_point, minimum=1,
                     meaning="rial spent per point at the 100% multiplier")
        _check_whole("tier_window_days", self.tier_window_days, minimum=1,
                     meaning="days in the rolling window for tier qualification")
        _check_whole("point_value_rial", self.point_value_rial, minimum=1,
                     meaning="rial of purchase credit per point")
        _check_whole("cashback_basis_points", self.cashback_basis_points, minimum=0,
                     maximum=10_000, meaning="cashback in hundredths of a percent, 100 = 1%")
        for name in ("enrollment_bonus", "profile_completion_bonus", "birthday_bonus",
                     "referral_bonus", "referred_bonus"):
            _check_whole(name, getattr(self, name), minimum=0,
                         meaning="bonus points, 0 switches the bonus off")
        _check_whole("expiry_days", self.expiry_days, minimum=0,
                     meaning="days until unspent points expire, 0 = points never expire")
        _check_whole("streak_bonus", self.streak_bonus, minimum=0,
                     meaning="bonus points, 0 switches the bonus off")
        _check_whole("streak_periods", self.streak_periods, minimum=1,
                     meaning="consecutive periods with a purchase that make a streak")
        _check_whole("streak_period_days", self.streak_period_days, minimum=1,
                     meaning="days in one streak period, 7 = weekly visits")
        _check_whole("offline_daily_redeem_cap", self.offline_daily_redeem_cap, minimum=0,
                     meaning="points a member may redeem per day while offline, 0 = none")
        _check_whole("max_points_percent", self.max_points_percent, minimum=0, maximum=100,
                     meaning="percent of a bill that may be paid with points, 0 = none")
        _check_whole("staff_approval_rial", self.staff_approval_rial, minimum=0,
                     meaning="rial of points, credit and discounts on one bill above which staff approve, 0 = never")
        if self.birthday_mode not in BIRTHDAY_MODES:
            raise ConfigError(
                f"birthday_mode = {self.birthday_mode!r} is not allowed: use \"month\" "
                f"(bonus any day in the birth month) or \"day\" (bonus on the birthday only)"
            )
        if self.calendar not in CALENDARS:
            raise ConfigError(
                f"calendar = {self.calendar!r} is not allowed: use \"gregorian\" or \"jalali\""
            )
        self._check_tiers()

    def _check_tiers(self) -> None:
        tiers = self.tiers
        if isinstance(tiers, list):
            # A list from a config file is fine; keep the rules hashable and immutable.
            tiers = tuple(tiers)
            object.__setattr__(self, "tiers", tiers)
        if not isinstance(tiers, tuple) or not tiers:
            raise ConfigError(
                f"tiers = {tiers!r} is not allowed: give at least one tier, the first with "
                f"min_points 0"
            )
        for i, tier in enumerate(tiers):
            if not isinstance(tier, Tier):
                raise ConfigError(
                    f"tiers[{i}] = {tier!r} is not allowed: each tier needs name, min_points "
                    f"and multiplier_percent"
                )
        if tiers[0].min_points != 0:
            raise ConfigError(
                f"tiers[0] ({tiers[0].name!r}) min_points = {tiers[0].min_points} is not "
                f"allowed: the first tier must start at 0 so every member has a tier"
            )
        seen: set[str] = set()
        for i, tier in enumerate(tiers):
            key = tier.name.strip().casefold()
            if key in seen:
                raise ConfigError(
                    f"tiers[{i}] name = {tier.name!r} is not allowed: tier names must be unique"
                )
            seen.add(key)
            if i and tier.min_points <= tiers[i - 1].min_points:
                raise ConfigError(
                    f"tiers[{i}] ({tier.name!r}) min_points = {tier.min_points} is not allowed: "
                    f"list tiers from lowest to highest, each needing more points than "
                    f"{tiers[i - 1].name!r} ({tiers[i - 1].min_points})"
                )


_TIER_KEYS = ("name", "min_points", "multiplier_percent")
_TIER_OPTIONAL = ("cashback_basis_points", "names")


def rules_from_mapping(data: Mapping[str, Any], section: str = "loyalty") -> LoyaltyRules:
    """Build LoyaltyRules from a parsed TOML/JSON table; missing keys keep their defaults.

    `tiers` is a list of tables with name, min_points and multiplier_percent. Unknown keys
    are refused (a misspelt key silently falling back to a default is worse than an error).
    Every ConfigError message starts with "[section]" so the operator can find the line.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(f"[{section}] must be a table of loyalty settings, got {data!r}")
    allowed = [f.name for f in fields(LoyaltyRules)]
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key not in allowed:
            raise ConfigError(
                f"[{section}] {key!r} is not a known loyalty setting: use one of "
                f"{', '.join(allowed)}"
            )
        kwargs[key] = value
    try:
        if "tiers" in kwargs:
            kwargs["tiers"] = _tiers_from_list(kwargs["tiers"])
        return LoyaltyRules(**kwargs)
    except ConfigError as exc:
        raise ConfigError(f"[{section}] {exc}") from exc


def _tiers_from_list(raw: object) -> tuple[Tier, ...]:
    if not isinstance(raw, (list, tuple)):
        raise ConfigError(
            f"tiers = {raw!r} is not allowed: give a list of tables with "
            f"{', '.join(_TIER_KEYS)}"
        )
    tiers = []
    for i, item in enumerate(raw):
        if isinstance(item, Tier):
            tiers.append(item)
            continue
        if not isinstance(item, Mapping):
            raise ConfigError(
                f"tiers[{i}] = {item!r} is not allowed: give a table with "
                f"{', '.join(_TIER_KEYS)}"
            )
        unknown = sorted(set(item) - set(_TIER_KEYS) - set(_TIER_OPTIONAL))
        missing = [k for k in _TIER_KEYS if k not in item]
        if unknown or missing:
            problem = (f"unknown key {unknown[0]!r}" if unknown else f"missing key {missing[0]!r}")
            raise ConfigError(
                f"tiers[{i}] has {problem}: each tier needs exactly {', '.join(_TIER_KEYS)} "
                f"(and may set {', '.join(_TIER_OPTIONAL)})"
            )
        tiers.append(Tier(item["name"], item["min_points"], item["multiplier_percent"],
                          item.get("cashback_basis_points"), item.get("names")))
    return tuple(tiers)
